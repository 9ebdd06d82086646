//! Hostile rule files and flags stay bounded: nesting a few thousand deep is
//! a located error in every command (never a stack overflow), analyses over
//! shared definitions do work linear in the rule set, and `--threads` has a
//! ceiling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Nesting well past the limit, small enough for quick debug builds.
const DEEP: usize = 3000;

/// One hostile file per construct that nests, named for the construct.
fn hostile() -> Vec<(&'static str, String)> {
    let head = "narval 1\nschema { id: int, a: int, b: bool }\nsolicitation streams s\n";
    let rule = |condition: String| format!("{head}r: {condition} -> s\n");
    vec![
        (
            "list of",
            format!(
                "narval 1\nschema {{ id: int, a: {}int }}\nsolicitation streams s\nr: a is missing -> s\n",
                "list of ".repeat(DEEP)
            ),
        ),
        (
            "records",
            format!(
                "narval 1\nschema {{ id: int, a: {}int{} }}\nsolicitation streams s\nr: id > 1 -> s\n",
                "{ b: ".repeat(DEEP),
                " }".repeat(DEEP)
            ),
        ),
        ("parentheses", rule(format!("{}a > 1{}", "(".repeat(DEEP), ")".repeat(DEEP)))),
        ("list literals", rule(format!("a in {}1{}", "[".repeat(DEEP), "]".repeat(DEEP)))),
        ("not", rule(format!("{}b", "not ".repeat(DEEP)))),
        ("unary minus", rule(format!("{}a > 1", "- ".repeat(DEEP)))),
        ("unary minus in parentheses", rule(format!("{}a{} > 1", "-(".repeat(DEEP), ")".repeat(DEEP)))),
        ("between operands", rule(format!("a between {}1{} and 2", "(".repeat(DEEP), ")".repeat(DEEP)))),
        (
            "test profiles",
            format!(
                "{head}r: b -> s\ntest \"t\" {{ given {{ id: 1, a: {}1{} }} expect s }}\n",
                "[".repeat(DEEP),
                "]".repeat(DEEP)
            ),
        ),
    ]
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("narval-bounds-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn narval(dir: &PathBuf, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_narval")).args(args).current_dir(dir).output().unwrap()
}

#[test]
fn every_command_refuses_deep_nesting_with_a_located_error() {
    let scratch = Scratch::new("deep");
    std::fs::write(scratch.0.join("p.ndjson"), "{\"id\": 1, \"a\": 1, \"b\": true}\n").unwrap();
    let commands: [&[&str]; 7] = [
        &["check", "deep.narval"],
        &["fmt", "--check", "deep.narval"],
        &["fmt", "deep.narval"],
        &["audit", "deep.narval"],
        &["test", "deep.narval"],
        &["explain", "deep.narval", "--profile", "p.ndjson"],
        &["assign", "deep.narval", "--profiles", "p.ndjson"],
    ];
    for (construct, text) in hostile() {
        std::fs::write(scratch.0.join("deep.narval"), &text).unwrap();
        for args in commands {
            let output = narval(&scratch.0, args);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(1), "{construct}: {args:?}\n{stderr}");
            assert!(stderr.contains("error[E0006]: nested more than 64 deep"), "{construct}: {args:?}\n{stderr}");
            assert!(stderr.contains(" --> deep.narval:"), "{construct}: {args:?} is located\n{stderr}");
        }
    }
}

/// The cap holds before any walk: on a thread with a small stack, a file
/// nested a hundred thousand deep is refused like one nested 65 deep.
#[test]
fn the_cap_is_checked_before_anything_recurses() {
    let deep = 100_000;
    let texts: Vec<String> = vec![
        format!("narval 1\nschema {{ a: {}int }}\n", "list of ".repeat(deep)),
        format!("narval 1\nschema {{ a: int }}\nsolicitation streams s\nr: {}a -> s\n", "not ".repeat(deep)),
        format!("narval 1\nschema {{ a: int }}\nsolicitation streams s\nr: {}a > 1 -> s\n", "- ".repeat(deep)),
        format!("narval 1\nschema {{ a: {}int }}\n", "{ b: ".repeat(deep)),
    ];
    let codes = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            texts
                .into_iter()
                .map(|text| {
                    let report = narval::RuleSet::builder().source("deep.narval", text).check();
                    report.diagnostics().iter().map(|d| d.code.as_str()).collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(codes, vec![vec!["E0006"]; 4]);
}

/// Nesting up to the limit is accepted, and one more level is not.
#[test]
fn the_limit_is_exactly_64() {
    let codes = |levels: usize| {
        let text = format!(
            "narval 1\nschema {{ a: optional {}int }}\nsolicitation streams s\nr: a is missing -> s\n",
            "list of ".repeat(levels)
        );
        let report = narval::RuleSet::builder().source("deep.narval", text).check();
        report.diagnostics().iter().map(|d| d.code.as_str()).collect::<Vec<_>>()
    };
    // The schema's `{` is one level.
    assert_eq!(codes(narval::syntax::MAX_NESTING - 1), Vec::<&str>::new());
    assert_eq!(codes(narval::syntax::MAX_NESTING), ["E0006"]);
    let not = |levels: usize| {
        let text =
            format!("narval 1\nschema {{ a: bool }}\nsolicitation streams s\nr: {}a -> s\n", "not ".repeat(levels));
        let report = narval::RuleSet::builder().source("deep.narval", text).check();
        report.diagnostics().iter().map(|d| d.code.as_str()).collect::<Vec<_>>()
    };
    assert_eq!(not(narval::syntax::MAX_NESTING), Vec::<&str>::new());
    assert_eq!(not(narval::syntax::MAX_NESTING + 1), ["E0006"]);
}
