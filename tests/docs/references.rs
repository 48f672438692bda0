//! The docs that the code points to must keep up with it: every behaviour ID cited anywhere
//! in the code (`L-09`, `S-15`, ...) is described in `docs/behaviours.md` and mapped in
//! `docs/tornado.md`, and every option `squall --help` lists is in `docs/cli.md`. Text only:
//! no feature of the crate is needed to run these.

use std::path::Path;

const BEHAVIOURS: &str = include_str!("../../docs/behaviours.md");
const TORNADO: &str = include_str!("../../docs/tornado.md");
const CLI: &str = include_str!("../../docs/cli.md");
const ARGS: &str = include_str!("../../src/bin/squall/args.rs");

/// Every `X-NN` with X one of the checklist's group letters, standing as a word of its own.
fn ids(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(3) {
        let word_start = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        let word_end = b
            .get(i + 4)
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'));
        if word_start
            && word_end
            && b"LRSEDQCTJ".contains(&b[i])
            && b[i + 1] == b'-'
            && b[i + 2].is_ascii_digit()
            && b[i + 3].is_ascii_digit()
        {
            out.push(text[i..i + 4].to_string());
        }
    }
    out
}

/// The files under `dir` whose names end in `.rs`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The IDs `docs/behaviours.md` describes: its list items that start with a bold ID.
fn described() -> Vec<String> {
    BEHAVIOURS
        .lines()
        .filter_map(|l| l.strip_prefix("- **"))
        .filter_map(|l| l.get(..4))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_behaviour_id_in_the_code_is_described() {
    let described = described();
    assert!(described.len() > 150, "{} items", described.len());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["src", "tests", "examples", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut missing = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for id in ids(&text) {
            if !described.contains(&id) {
                missing.push(format!("{id} in {}", file.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not in docs/behaviours.md: {missing:?}"
    );
}

#[test]
fn every_described_item_is_in_the_tornado_map_once() {
    let mut seen = Vec::new();
    for id in described() {
        assert!(!seen.contains(&id), "{id} is described twice");
        let rows = TORNADO
            .lines()
            .filter(|l| l.starts_with(&format!("| {id} |")))
            .count();
        assert_eq!(rows, 1, "{id}: {rows} rows in docs/tornado.md");
        seen.push(id);
    }
}

#[test]
fn docs_cli_md_covers_every_option_of_help() {
    let mut options = Vec::new();
    for (start, end) in [
        ("pub const HELP: &str = \"\\", "\";"),
        ("pub const BENCH_HELP: &str = \"\\", "\";"),
    ] {
        let from = ARGS.find(start).expect("the help text") + start.len();
        let help = &ARGS[from..from + ARGS[from..].find(end).unwrap()];
        for line in help.lines().filter(|l| l.trim_start().starts_with('-')) {
            for word in line.split([' ', ',', '/', ';', '(', ')']) {
                if word.starts_with("--") && word.len() > 2 {
                    options.push(word.to_string());
                }
            }
        }
    }
    assert!(options.len() > 30, "{options:?}");
    for option in options {
        assert!(
            CLI.contains(&format!("`{option}")) || CLI.contains(&format!("{option}`")),
            "docs/cli.md does not describe {option}"
        );
    }
}

/// Every `tests/<path>` the docs cite (`docs/*.md`, README.md) exists, and every
/// `tests/<file>.rs::<name>` names a function in that file: the test map in docs/tornado.md
/// follows the tests when they move.
#[test]
fn every_test_the_docs_cite_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cited = 0;
    let mut missing = Vec::new();
    for doc in [
        "docs/tornado.md",
        "docs/cli.md",
        "docs/walkthrough.md",
        "README.md",
    ] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (path, name) in test_citations(&text) {
            cited += 1;
            let Ok(source) = std::fs::read_to_string(root.join(&path)) else {
                if !root.join(&path).exists() {
                    missing.push(format!("{doc}: {path}"));
                }
                continue;
            };
            if let Some(name) = name
                && !source.contains(&format!("fn {name}("))
            {
                missing.push(format!("{doc}: {path}::{name}"));
            }
        }
    }
    assert!(cited > 100, "only {cited} citations found");
    assert!(missing.is_empty(), "cited but not there: {missing:#?}");
}

/// The `tests/...` paths in `text` (not `src/.../tests/...`), each with the `::name` after it.
fn test_citations(text: &str) -> Vec<(String, Option<String>)> {
    let is_path = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '/' || c == '.';
    let mut out = Vec::new();
    for (i, _) in text.match_indices("tests/") {
        if text[..i].chars().next_back().is_some_and(is_path) {
            continue;
        }
        let rest = &text[i..];
        let path: String = rest.chars().take_while(|&c| is_path(c)).collect();
        let path = path.trim_end_matches('.').to_string();
        let name = rest[path.len()..].strip_prefix("::").map(|n| {
            n.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        });
        out.push((path, name));
    }
    out
}

#[test]
fn the_test_citation_scanner_finds_paths_and_names() {
    assert_eq!(
        test_citations("`tests/a/b.rs::c_1`, src/x/tests/y.rs, (tests/d.rs). tests/e/"),
        [
            ("tests/a/b.rs".to_string(), Some("c_1".to_string())),
            ("tests/d.rs".to_string(), None),
            ("tests/e/".to_string(), None),
        ]
    );
}

#[test]
fn the_id_scanner_finds_ids_and_only_ids() {
    assert_eq!(
        ids("L-09, (S-15) and E-01; not TLS-12, X-01, S-1 or S-123"),
        ["L-09", "S-15", "E-01"]
    );
}
