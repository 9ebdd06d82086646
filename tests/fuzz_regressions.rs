//! Every input the fuzzer found to crash narval or to take too long, kept in
//! `fuzz/regressions/TARGET/` and run again through the very target function
//! that found it (`fuzz/src/targets.rs`, shared with the fuzzer). A target
//! fails by panicking: on a panic in narval or on a broken property (the
//! formatter's output formats to itself, the indexed and plain evaluators
//! agree, ...). See "Fuzzing" in the README.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[allow(dead_code)]
#[path = "../fuzz/src/targets.rs"]
mod targets;

use targets::Target;

/// Far above what any of these inputs takes now, even unoptimised; far
/// below what the hangs took before their fix.
const LIMIT: Duration = Duration::from_secs(10);

fn fixtures(target: Target) -> Vec<PathBuf> {
    let dir = PathBuf::from("fuzz/regressions").join(target.name());
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

#[test]
fn every_input_the_fuzzer_found_runs_without_a_failure() {
    let mut failures = Vec::new();
    let mut count = 0;
    for target in Target::ALL {
        for file in fixtures(target) {
            count += 1;
            let input = std::fs::read(&file).unwrap();
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| target.run(&input)));
            let elapsed = start.elapsed();
            if result.is_err() {
                failures.push(format!("{}: panicked (message above)", file.display()));
            } else if elapsed > LIMIT {
                failures.push(format!("{}: took {:.1} s", file.display(), elapsed.as_secs_f64()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The fixtures are found: a moved folder fails here rather than passing on nothing.
    assert!(count >= 2, "only {count} fixtures found");
}

/// Invalid inputs are what the fuzzer feeds: the targets take a refusal
/// (a diagnostic, a profile error) as a pass, not a failure.
#[test]
fn invalid_inputs_are_refused_without_a_failure() {
    // Not a profile for either rule set: refused, which is no failure.
    assert!(catch_unwind(|| Target::Eval.run(b"[1, 2]")).is_ok());
    assert!(catch_unwind(|| Target::Decode.run(b"{\"id\": ")).is_ok());
    // Text that does not parse is refused by the formatter: no failure either.
    assert!(catch_unwind(|| Target::Format.run(b"narval 1\nr: (")).is_ok());
    // A file over the size limit is not run at all.
    assert!(catch_unwind(|| Target::Parse.run(&vec![b'('; targets::MAX_INPUT + 1])).is_ok());
}

/// Rule files with one construct repeated, each of which once took time
/// quadratic or worse in its size (`targets::large_rule_files`). Debug
/// builds are too slow to tell linear from quadratic at a size that runs
/// quickly, so this catches the worst (the exponential case, a panic);
/// the fuzzer runs them larger, in release, against a limit per byte.
#[test]
fn large_rule_files_are_checked_without_a_failure() {
    for (what, text) in targets::large_rule_files(500) {
        let start = Instant::now();
        Target::Check.run(text.as_bytes());
        let elapsed = start.elapsed();
        assert!(elapsed < LIMIT, "{what}: {:.1} s for {} bytes", elapsed.as_secs_f64(), text.len());
    }
}
