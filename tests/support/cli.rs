//! Running the `squall` binary from a test, bounded in time. Every CLI test needs the same
//! things: a command that does not inherit what the machine's environment would change (proxy
//! variables: the test servers are on loopback, and squall, like curl, would send 127.0.0.1
//! through a proxy; CA variables; the resolver choice), and a wait that turns a hang into a
//! failed test instead of a stalled suite.

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// How long a run may take before it counts as a hang: generous, a bound and not a timing.
pub const LIMIT: Duration = Duration::from_secs(60);

/// The variables of the machine that would change what squall does against loopback servers.
const MACHINE_VARIABLES: &[&str] = &[
    "HTTP_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SQUALL_RESOLVER",
];

/// `squall` with no proxy variable from the environment (upper-case `HTTP_PROXY` included),
/// no CA or resolver variable, and no stdin; stdout and stderr are captured.
pub fn squall_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_squall"));
    for v in squall::client::proxy::PROXY_VARIABLES
        .iter()
        .chain(MACHINE_VARIABLES)
    {
        cmd.env_remove(v);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `squall_command()` with `args`.
pub fn cmd(args: &[&str]) -> Command {
    let mut cmd = squall_command();
    cmd.args(args);
    cmd
}

/// Runs `squall args` to the end, bounded by [`LIMIT`].
pub fn squall(args: &[&str]) -> Output {
    run_bounded(cmd(args), LIMIT)
}

/// Runs `squall args` with `input` on its stdin, bounded by [`LIMIT`].
pub fn squall_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut c = cmd(args);
    c.stdin(Stdio::piped());
    let mut child = c.spawn().expect("run squall");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    wait_bounded(child, LIMIT)
}

/// Runs `cmd` to the end; kills it and fails the test if it runs longer than `limit`.
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Output {
    let child = cmd.spawn().expect("run squall");
    wait_bounded(child, limit)
}

/// Waits for `child` to end; kills it and fails the test if it runs longer than `limit`.
pub fn wait_bounded(child: Child, limit: Duration) -> Output {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => o.expect("wait for squall"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("squall did not finish within {limit:?} (a hang)");
        }
    }
}

/// What a run printed on stdout, as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// What a run printed on stderr, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
