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

/// Rule files of a few hundred kilobytes with one construct repeated, each
/// of which took from seconds to minutes before its fix (quadratic or worse).
/// Run through the `check` target, which also renders every diagnostic.
#[test]
fn large_rule_files_are_checked_in_linear_time() {
    let streams = |n: usize| (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>().join(", ");
    let cases = [
        // "did you mean" compared every unknown name with every field: 4 s for 2,000.
        (
            "misspelt fields",
            format!(
                "narval 1\nschema {{ {} }}\nsolicitation streams s\n{}",
                (0..2000).map(|i| format!("field_number_{i}: int")).collect::<Vec<_>>().join(", "),
                (0..2000).map(|i| format!("r{i}: feld_number_{i} > 1 -> s\n")).collect::<String>()
            ),
        ),
        // A test's expectations were each compared with all those before: 3 s for 4,000.
        (
            "expectations",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams {}\nr: a > 1 -> s0\n\
                 test \"t\" {{ given {{ a: 2 }} expect solicitations = [{}], {} }}\n",
                streams(4000),
                streams(4000),
                streams(4000)
            ),
        ),
        // Each `no solicitations` listed every stream again: 1.4 s and 500 MB for 8,000.
        (
            "repeated suppressions",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams {}\nr: a > 1 -> {}\n",
                streams(8000),
                vec!["no solicitations"; 8000].join(", ")
            ),
        ),
        // An enum's members were all copied, compared and listed for every
        // misspelt member.
        (
            "misspelt enum members",
            format!(
                "narval 1\nschema {{ p: one of {} }}\nsolicitation streams s\n{}",
                streams(2000),
                (0..2000).map(|i| format!("r{i}: p == \"x{i}\" -> s\n")).collect::<String>()
            ),
        ),
        // W0004 walked into a definition at each use: 30 definitions, each
        // using the one before twice, took 2^30 walks (minutes).
        (
            "definitions used twice over",
            format!(
                "narval 1\nschema {{ o: optional int }}\nsolicitation streams s\nb0 = o > 0\n{}r: b30 -> s\n",
                (1..=30).map(|i| format!("b{i} = b{} and b{}\n", i - 1, i - 1)).collect::<String>()
            ),
        ),
        // A definition naming a list literal is copied to each use: 4,000 uses
        // of 4,000 items took 2.8 s and 2.5 GB; over a million items is E0005.
        (
            "a long list used by every rule",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams s\nbig = [{}]\n{}",
                (0..4000).map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                (0..4000).map(|i| format!("r{i}: a in big -> s\n")).collect::<String>()
            ),
        ),
    ];
    for (what, text) in cases {
        let start = Instant::now();
        Target::Check.run(text.as_bytes());
        let elapsed = start.elapsed();
        assert!(elapsed < LIMIT, "{what}: {:.1} s for {} bytes", elapsed.as_secs_f64(), text.len());
    }
}
