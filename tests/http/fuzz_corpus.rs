//! Replays the fuzzers' inputs in plain `cargo test`, with no fuzzer and no nightly.
//!
//! Every fuzz target in `fuzz/fuzz_targets/<t>.rs` is a one-line call of
//! `squall::http::fuzzing::fuzz_<t>` (for `dns`: `squall::net::dns::message::fuzz_dns`); this
//! test calls the same function on every file of the committed, minimised corpus
//! (`fuzz/corpus/<t>/`) and of the crash inputs found so far (`fuzz/regressions/<t>/`). So a
//! crash the fuzzer once found cannot come back unnoticed, and the coverage the fuzzer grew is
//! exercised on every CI run, in a fraction of a second.
//!
//! A replay that tests nothing must not pass: a missing or empty corpus directory fails, and
//! so does a fuzz target that this file does not know about.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use squall::http::fuzzing;

/// A library entry point for a fuzzer: takes any bytes, must never panic.
type FuzzFn = fn(&[u8]);

/// The targets and the library function each one fuzzes.
const TARGETS: &[(&str, FuzzFn)] = &[
    ("response", fuzzing::fuzz_response),
    ("chunked", fuzzing::fuzz_chunked),
    ("url", fuzzing::fuzz_url),
    #[cfg(feature = "gzip")]
    ("gzip", fuzzing::fuzz_gzip),
    ("dns", squall::net::dns::message::fuzz_dns),
];

/// Far above anything one input should take (the fuzzer's own hang limit is 10 s, in an
/// optimised build); only a real hang or a quadratic blow-up comes near it.
const SLOW: Duration = Duration::from_secs(30);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The regular, non-hidden files of `dir`, sorted by name (so a failure report lists files in
/// the same order on every machine). `None` when the directory does not exist.
fn inputs(dir: &Path) -> Option<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("cannot read {}: {e}", dir.display()),
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| {
            e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
                .path()
        })
        .filter(|p| p.is_file())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    files.sort();
    Some(files)
}

/// The panic's message, cut to its first few hundred characters (an `assert_eq!` on a body
/// can print megabytes; the default hook has already printed it whole above).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let msg = if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    };
    match msg.char_indices().nth(300) {
        Some((at, _)) => format!("{}...", &msg[..at]),
        None => msg,
    }
}

/// Runs `f` on every file; returns one line per failing file (panic or hang).
fn replay(f: FuzzFn, files: &[PathBuf]) -> Vec<String> {
    let mut failures = Vec::new();
    for file in files {
        let data = fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let start = Instant::now();
        let result = panic::catch_unwind(AssertUnwindSafe(|| f(&data)));
        let took = start.elapsed();
        match result {
            Err(payload) => failures.push(format!(
                "{}: panicked: {}",
                file.display(),
                panic_message(&*payload)
            )),
            Ok(()) if took > SLOW => failures.push(format!(
                "{}: took {took:?} (limit {SLOW:?})",
                file.display()
            )),
            Ok(()) => {}
        }
    }
    failures
}

fn replay_target(name: &str) {
    let (_, f) = TARGETS
        .iter()
        .find(|(t, _)| *t == name)
        .expect("target listed in TARGETS");
    let corpus_dir = fuzz_dir().join("corpus").join(name);
    let corpus = inputs(&corpus_dir)
        .unwrap_or_else(|| panic!("corpus directory {} is missing", corpus_dir.display()));
    assert!(
        !corpus.is_empty(),
        "corpus directory {} is empty: the replay would test nothing",
        corpus_dir.display()
    );
    // Regressions exist only for targets that have crashed once.
    let regressions = inputs(&fuzz_dir().join("regressions").join(name)).unwrap_or_default();
    let all: Vec<PathBuf> = corpus.into_iter().chain(regressions).collect();

    let failures = replay(*f, &all);
    assert!(
        failures.is_empty(),
        "fuzz target `{name}`: {} of {} inputs failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn replay_response() {
    replay_target("response");
}

#[test]
fn replay_chunked() {
    replay_target("chunked");
}

#[test]
fn replay_url() {
    replay_target("url");
}

#[test]
#[cfg(feature = "gzip")]
fn replay_gzip() {
    replay_target("gzip");
}

#[test]
fn replay_dns() {
    replay_target("dns");
}

/// Crash inputs found but not fixed yet (`fuzz/pending/<t>/`, see fuzz/README.md): kept out
/// of the default run so main stays green, and replayed on demand with
/// `cargo test --test http -- --ignored replay_pending`. Once this passes, move them to regressions/.
#[test]
#[ignore = "known crashes awaiting a fix in src/http (fuzz/pending/)"]
fn replay_pending() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, f) in TARGETS {
        let files = inputs(&fuzz_dir().join("pending").join(name)).unwrap_or_default();
        count += files.len();
        failures.extend(replay(*f, &files));
    }
    assert!(
        failures.is_empty(),
        "{} of {count} pending inputs still fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every `fuzz/fuzz_targets/<t>.rs` has a replay here, and every replay has a target.
#[test]
#[cfg(feature = "gzip")]
fn every_fuzz_target_is_replayed() {
    let dir = fuzz_dir().join("fuzz_targets");
    let mut on_disk: Vec<String> = inputs(&dir)
        .unwrap_or_else(|| panic!("{} is missing", dir.display()))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = TARGETS.iter().map(|(t, _)| t.to_string()).collect();
    known.sort();
    assert_eq!(
        on_disk, known,
        "fuzz targets on disk vs. those replayed in tests/http/fuzz_corpus.rs"
    );
}
