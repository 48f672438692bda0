//! The `squall` command-line tool: a curl-like client and a load generator (`squall bench`).
//!
//! It is a thin layer over the library's public API, and `docs/cli.md` is its contract:
//! options, what goes to stdout and stderr, and curl's exit-code numbering. The pieces:
//! [`args`] parses the command line, [`run`] does the transfers (one IoLoop, one shared
//! AsyncHttpClient, output in command-line order, the progress bar), [`writeout`] is the `-w`
//! engine, [`exit`] maps every client error to curl's number, and
//! [`bench`] with [`stats`] is `squall bench`; [`dnslog`] picks the resolver (`--dns-servers`)
//! and tells which one answered (`-v`).
#![forbid(unsafe_code)]

mod args;
mod bench;
mod dnslog;
mod exit;
mod run;
mod stats;
mod writeout;

use std::io::Write;
use std::process::ExitCode;

use args::Command;

fn main() -> ExitCode {
    let cmd = match args::parse(std::env::args_os().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("squall: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let code = match cmd {
        Command::Help => print(args::HELP),
        Command::BenchHelp => print(args::BENCH_HELP),
        Command::Version => print(&format!("squall {}\n", env!("CARGO_PKG_VERSION"))),
        Command::Fetch(a) => run::run(*a),
        Command::Bench(b) => bench::run(b),
    };
    ExitCode::from(code)
}

fn print(text: &str) -> u8 {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => exit::OK,
        Err(_) => exit::WRITE,
    }
}
