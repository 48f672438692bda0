//! Open file descriptors of this process, read from `/proc/self/fd` (Linux). A process-wide
//! figure: a test that counts them lives in a test binary of its own (or a child process),
//! so no parallel test can open or close one while it counts.

/// How many descriptors are open now; `None` where `/proc/self/fd` does not exist.
pub fn open_fds() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// How many descriptors are open now; panics where `/proc/self/fd` does not exist (for the
/// tests that cannot be skipped).
pub fn open_fd_count() -> usize {
    open_fds().expect("/proc/self/fd lists this process's descriptors")
}

/// Each open descriptor as `number=target` (a path, `socket:[inode]`, ...), sorted: what a
/// failed count prints so the leak can be seen.
pub fn fd_list() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| {
                    let target = std::fs::read_link(e.path())
                        .map(|p| p.display().to_string())
                        .unwrap_or_default();
                    format!("{}={target}", e.file_name().to_string_lossy())
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
