//! Figures of a process read from `/proc` (Linux): its open file descriptors and the memory
//! lines of its `status`. Process-wide figures: a test that measures them lives in a test
//! binary of its own (or measures a child process), so no parallel test can disturb them.

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

/// A `kB` line of `/proc/<pid>/status` (`VmRSS`, `VmHWM`, ...), in KiB; `pid` may be `self`.
pub fn status_kib(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.strip_prefix(field).is_some_and(|r| r.starts_with(':')))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
