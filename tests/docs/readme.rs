//! Every example in README.md is tested here, so the README cannot drift from the code.
//!
//! - The library example is `seed` in `examples/seed.rs`: this test checks that the README's
//!   Rust block is that function, character for character, and runs it against a loopback
//!   server.
//! - Each `squall ...` line of the README's command-line block is run with the built binary
//!   against the same server (its `http://127.0.0.1:8000` replaced by the server's address)
//!   and must succeed.

use crate::support::cli;
use crate::support::server::{Server, resp, write};

use squall::IoLoop;

#[allow(dead_code)]
#[path = "../../examples/seed.rs"]
mod seed;

const README: &str = include_str!("../../README.md");
const SEED: &str = include_str!("../../examples/seed.rs");

/// The text between two marker lines (exclusive).
fn between<'a>(text: &'a str, begin: &str, end: &str) -> &'a str {
    let start = text
        .find(begin)
        .unwrap_or_else(|| panic!("{begin} not found"))
        + begin.len();
    let stop = start
        + text[start..]
            .find(end)
            .unwrap_or_else(|| panic!("{end} not found"));
    text[start..stop].trim_matches('\n')
}

#[test]
fn readme_library_example_is_the_seed_example() {
    let in_readme = between(README, "```rust,ignore\n", "```");
    let in_seed = between(SEED, "// README-BEGIN\n", "// README-END");
    assert_eq!(
        in_readme, in_seed,
        "README's Rust block must be examples/seed.rs's `seed`"
    );
}

#[test]
fn readme_library_example_runs() {
    let (_srv, base) = start_server();
    IoLoop::new()
        .run_sync(seed::seed(&base))
        .expect("the README's example succeeds against a loopback server");
}

#[test]
fn readme_command_line_examples_run() {
    let (_srv, base) = start_server();
    let block = between(README, "## The command line\n\n```sh\n", "```");
    let dir = std::env::temp_dir().join(format!("squall-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ran = 0;
    for line in block.lines().filter(|l| l.starts_with("squall ")) {
        let line = line.replace("http://127.0.0.1:8000", &base);
        let words = shell_words(&line);
        let mut cmd = cli::cmd(&words[1..].iter().map(String::as_str).collect::<Vec<_>>());
        cmd.current_dir(&dir);
        let out = cli::run_bounded(cmd, cli::LIMIT);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "`{line}` failed with {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        if words[1] == "bench" {
            let last = stdout.lines().last().unwrap_or("");
            assert!(
                last.starts_with("req/s: "),
                "bench must end with req/s: {stdout}"
            );
        }
        if line.contains("-o page.html") {
            assert_eq!(
                std::fs::read(dir.join("page.html")).unwrap(),
                b"Hello, world"
            );
            assert_eq!(stdout, "200 12\n");
        }
        ran += 1;
    }
    assert_eq!(ran, 5, "the README shows five command-line examples");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Splits a command line the way sh does for the simple cases the README uses: words
/// separated by spaces, double-quoted words kept whole (backslashes kept as they are).
fn shell_words(line: &str) -> Vec<String> {
    let (mut words, mut word, mut quoted, mut in_word) = (vec![], String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            _ => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// A keep-alive loopback server with the two routes the examples use; its base URL.
fn start_server() -> (Server, String) {
    let srv = Server::start(|r| {
        let (content_type, reply) = match r.path() {
            "/echo" => (
                "application/json",
                serde_json::json!({
                    "user_agent": r.header("User-Agent").unwrap_or(""),
                    "body": String::from_utf8_lossy(&r.body),
                })
                .to_string()
                .into_bytes(),
            ),
            _ => ("text/plain", b"Hello, world".to_vec()),
        };
        vec![write(resp(200, &[("Content-Type", content_type)], &reply))]
    });
    let base = format!("http://{}", srv.addr);
    (srv, base)
}
