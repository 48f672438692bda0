//! Every example in README.md is tested here, so the README cannot drift from the code.
//!
//! - The library example is `seed` in `examples/seed.rs`: this test checks that the README's
//!   Rust block is that function, character for character, and runs it against a loopback
//!   server.
//! - Each `squall ...` line of the README's command-line block is run with the built binary
//!   against the same server (its `http://127.0.0.1:8000` replaced by the server's address)
//!   and must succeed.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Command;
use std::thread;

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
    let base = start_server();
    IoLoop::new()
        .run_sync(seed::seed(&base))
        .expect("the README's example succeeds against a loopback server");
}

#[test]
fn readme_command_line_examples_run() {
    let base = start_server();
    let block = between(README, "## The command line\n\n```sh\n", "```");
    let dir = std::env::temp_dir().join(format!("squall-readme-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut ran = 0;
    for line in block.lines().filter(|l| l.starts_with("squall ")) {
        let line = line.replace("http://127.0.0.1:8000", &base);
        let words = shell_words(&line);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_squall"));
        // The server is on loopback: no proxy from the machine's environment.
        for v in squall::client::proxy::PROXY_VARIABLES {
            cmd.env_remove(v);
        }
        let out = cmd
            .args(&words[1..])
            .current_dir(&dir)
            .output()
            .expect("run squall");
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

/// A keep-alive loopback server with the two routes the examples use.
fn start_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            thread::spawn(move || serve(stream));
        }
    });
    base
}

fn serve(stream: TcpStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
        let (mut length, mut user_agent) = (0usize, String::new());
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "user-agent" => user_agent = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (content_type, reply) = match target.as_str() {
            "/echo" => (
                "application/json",
                serde_json::json!({ "user_agent": user_agent, "body": String::from_utf8_lossy(&body) })
                    .to_string()
                    .into_bytes(),
            ),
            _ => ("text/plain", b"Hello, world".to_vec()),
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            reply.len()
        );
        out.write_all(&[head.as_bytes(), &reply].concat())?;
    }
}
