//! Running the `squall` binary from a test, bounded in time. Every CLI test file needs the
//! same two things: a command that does not inherit the machine's proxy variables (the test
//! servers are on loopback, and squall, like curl, would send 127.0.0.1 through a proxy),
//! and a wait that turns a hang into a failed test instead of a stalled suite.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// `squall` with no proxy variable from the environment (upper-case `HTTP_PROXY` included)
/// and no stdin; stdout and stderr are captured.
pub fn squall_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_squall"));
    for v in squall::client::proxy::PROXY_VARIABLES
        .iter()
        .chain(&["HTTP_PROXY"])
    {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs `cmd` to the end; kills it and fails the test if it runs longer than `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd.spawn().expect("run squall");
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => o.expect("wait for squall"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("squall {cmd:?} did not finish within {limit:?} (a hang)");
        }
    }
}
