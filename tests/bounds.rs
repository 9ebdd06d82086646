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

/// The budget of an analysis is counted, not timed.
mod counting;

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// `n + 1` definitions each using the one before twice, read by rules, a
/// requirement and a test: the reads of `dN` are 2^n with repeats.
fn doubling(n: usize) -> String {
    let mut text = String::from(
        "narval 1\nschema { id: int, a: int tagged health, o: optional int, b: bool, oc: optional bool, \
         consent: bool, xs: list of int }\nsolicitation streams s, t\nissue streams u\n",
    );
    text.push_str("d0 = a + (o ?? 0)\nc0 = consent and b and (oc ?? false)\n");
    for i in 1..=n {
        text.push_str(&format!("d{i} = d{} + d{}\nc{i} = c{} and c{}\n", i - 1, i - 1, i - 1, i - 1));
    }
    text.push_str(&format!(
        "r: d{n} > 1 and c{n} -> s\nq: c{n} -> no t\nw: c{n} and o > d{n} -> s\n\
         u: c{n} and count(xs where it > d{n}) > 0 and d{n} > 0 -> u\nrequire rq: c{n} and d{n} > 0 for t\n\
         test \"t\" {{ given {{ id: 1, a: 1, b: true, oc: true, consent: true, xs: [1] }} expect s }}\n"
    ));
    text
}

/// Bytes allocated by every analysis of `doubling(n)`: check with a
/// policy, audit, tests with coverage, explain.
fn analyses(n: usize) -> u64 {
    let text = doubling(n);
    let policy = "narval 1\npolicy p { read health only if consent }\n";
    let builder =
        || narval::RuleSet::builder().source("d.narval", text.clone()).policy_source("p.narval", policy).interpreted();
    counting::bytes(|| {
        let report = builder().check();
        assert!(!report.has_errors(), "{}", report.render());
        builder().audit().unwrap();
        let suite = builder().today("2026-01-01".parse().unwrap()).build_tests().unwrap();
        let _ = suite.run();
        let rules = builder().build().unwrap();
        rules.explain_json(r#"{"id": 1, "a": 1, "b": true, "oc": true, "o": 2, "consent": true, "xs": [1]}"#).unwrap();
    })
}

/// Before, `audit` and `check --policy` listed a definition's reads once per
/// path to it: 32 such definitions (1.3 kB) exhausted 2 GiB.
#[test]
fn analyses_over_shared_definitions_are_linear() {
    analyses(1); // lazily built tables
    let (small, large) = (analyses(8), analyses(16));
    let top = analyses(31);
    // Linear: 8 more definitions cost about as much again, never 2^8 times.
    assert!(large < 3 * small, "{small} bytes for 8 definitions, {large} for 16");
    assert!(top < 6 * small, "{small} bytes for 8 definitions, {top} for 31");
}

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli"))
}

#[test]
fn absurd_thread_counts_are_refused_with_a_message() {
    for threads in ["0", "257", "100000", "18446744073709551615", "18446744073709551616"] {
        let output =
            narval(&fixtures(), &["assign", "suite.narval", "--profiles", "profiles.ndjson", "--threads", threads]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "--threads {threads}\n{stderr}");
        assert!(output.stdout.is_empty(), "--threads {threads}");
        assert!(stderr.contains("--threads"), "--threads {threads}\n{stderr}");
    }
    let output = narval(&fixtures(), &["assign", "suite.narval", "--profiles", "profiles.ndjson", "--threads", "256"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Threads that the system cannot start (here: too little address space
/// for their stacks) are an error, not a panic.
#[cfg(target_os = "linux")]
#[test]
fn threads_that_cannot_start_are_an_error_not_a_panic() {
    let output = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 600000 && exec {} assign suite.narval --profiles profiles.ndjson --threads 256",
            env!("CARGO_BIN_EXE_narval")
        ))
        .current_dir(fixtures())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot start 256 threads"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn the_library_caps_its_threads() {
    let rules = narval::RuleSet::builder()
        .source("r.narval", "narval 1\nschema { id: int }\nsolicitation streams s\nr: id > 1 -> s\n")
        .build()
        .unwrap();
    let lines: Vec<String> = (0..1000).map(|i| format!("{{\"id\": {i}}}")).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let results = rules.assign_lines_parallel(&lines, usize::MAX);
    assert_eq!(results.len(), 1000);
    assert!(results.iter().all(Result::is_ok));
}

/// The deepest rule set the limits allow: 32 definitions, each on the one
/// before, each nested 60 deep with 250 operators. Walks through the
/// definitions go 32 times that deep; no command overflows its stack.
/// 32 definitions, each 60 brackets deep with 250 operators around the one
/// before: as deep as the limits allow a walk through definitions to go.
fn deepest_chain() -> String {
    let mut text = String::from("narval 1\nschema { id: int, a: int }\nsolicitation streams s\nd0 = a\n");
    for i in 1..32 {
        text.push_str(&format!("d{i} = {}d{}{}{}\n", "(".repeat(60), i - 1, " + 1".repeat(250), ")".repeat(60)));
    }
    text.push_str("r: d31 > 1 -> s\ntest \"t\" { given { id: 1, a: 1 } expect s }\n");
    text
}

/// The library gives embedders the same guarantee as the command line,
/// whatever thread they call from: the deepest chain is checked, built,
/// audited, explained and tested on a thread of 512 KiB, a quarter of a
/// spawned thread's default (each walk runs on a thread of its own with a
/// deep stack), and assigned on the caller's thread within a spawned
/// thread's default 2 MiB, unoptimised (definitions that chain deep are
/// computed in id order, so evaluation recurses through one at a time).
#[test]
fn the_deepest_rule_set_the_limits_allow_runs_on_a_small_stack_in_the_library() {
    let builder = || narval::RuleSet::builder().source("chain.narval", deepest_chain());
    let small = std::thread::Builder::new().stack_size(512 * 1024).spawn(move || {
        assert!(!builder().check().has_errors());
        assert!(builder().audit().is_ok());
        let rules = builder().build().unwrap_or_else(|report| panic!("{}", report.render()));
        let explanation = rules.explain_json(r#"{"id": 1, "a": 1}"#).unwrap();
        assert!(!explanation.streams.is_empty());
        let suite = builder().build_tests().unwrap_or_else(|report| panic!("{}", report.render()));
        assert_eq!(suite.run().failed(), 0);
        rules
    });
    let rules = small.unwrap().join().unwrap();
    let spawned_sized = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(move || {
        assert_eq!(rules.assign_json(r#"{"id": 1, "a": 1}"#).unwrap().solicitations, ["s"]);
    });
    spawned_sized.unwrap().join().unwrap();
}

#[test]
fn the_deepest_rule_set_the_limits_allow_runs_in_every_command() {
    let scratch = Scratch::new("chain");
    let text = deepest_chain();
    std::fs::write(scratch.0.join("chain.narval"), text).unwrap();
    std::fs::write(scratch.0.join("p.ndjson"), "{\"id\": 1, \"a\": 1}\n").unwrap();
    let commands: [&[&str]; 5] = [
        &["check", "chain.narval"],
        &["audit", "chain.narval"],
        &["test", "chain.narval"],
        &["explain", "chain.narval", "--profile", "p.ndjson"],
        &["assign", "chain.narval", "--profiles", "p.ndjson"],
    ];
    for args in commands {
        let output = narval(&scratch.0, args);
        assert_eq!(output.status.code(), Some(0), "{args:?}\n{}", String::from_utf8_lossy(&output.stderr));
    }
}
