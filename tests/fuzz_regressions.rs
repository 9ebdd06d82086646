//! Every input the fuzzer found to crash narval or to take too long, kept in
//! `fuzz/regressions/TARGET/` and run again through the very target function
//! that found it (`fuzz/src/targets.rs`, shared with the fuzzer). A target
//! fails by panicking: on a panic in narval or on a broken property (the
//! formatter's output formats to itself, the indexed and plain evaluators
//! agree, ...). See "Fuzzing" in the README.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

#[allow(dead_code)]
#[path = "../fuzz/src/targets.rs"]
mod targets;

use targets::Target;

/// Work is bounded by counts, never by the clock (a busy machine is slow):
/// the bytes a target allocates on this thread, counted by this allocator.
/// A blow-up in time comes with one in allocations here, since every stage
/// builds its output as it goes (diagnostics, nodes, tables).
struct Counting;

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the
// count is a const-initialised thread-local `Cell`, which allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + layout.size() as u64));
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + new_size as u64));
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// The bytes allocated on this thread while `f` runs, and its result.
fn allocated<T>(f: impl FnOnce() -> T) -> (u64, T) {
    let before = ALLOCATED.with(Cell::get);
    let result = f();
    (ALLOCATED.with(Cell::get) - before, result)
}

/// A fixture may allocate this many bytes per byte of input, beyond
/// [`BUDGET_BASE`]: far above what any of them takes now, far below what
/// the blow-ups took before their fix (3 GB for the 20,000 duplicate
/// streams, some 50 kB of input).
const BUDGET_PER_BYTE: u64 = 20_000;
/// What building any rule set costs, native code included.
const BUDGET_BASE: u64 = 64 << 20;

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
            let (bytes, result) = allocated(|| catch_unwind(AssertUnwindSafe(|| target.run(&input))));
            let budget = BUDGET_BASE + BUDGET_PER_BYTE * input.len() as u64;
            if result.is_err() {
                failures.push(format!("{}: panicked (message above)", file.display()));
            } else if bytes > budget {
                failures.push(format!("{}: allocated {bytes} bytes, over its budget of {budget}", file.display()));
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
/// quadratic or worse in its size (`targets::large_rule_files`). Each is
/// checked at two sizes, and what it allocates must grow no faster than
/// its size: twice the construct may cost at most three times the bytes
/// (linear work gives about two, quadratic four). The fuzzer runs them
/// larger, in release, against a limit per byte.
///
/// One construct grows faster by design, up to a cap:
/// [`QUADRATIC_UP_TO_A_CAP`].
#[test]
fn large_rule_files_are_checked_in_linear_work() {
    let small = targets::large_rule_files(300);
    let large = targets::large_rule_files(600);
    assert_eq!(small.len(), large.len());
    let mut failures = Vec::new();
    let mut capped = 0;
    for ((what, small), (_, large)) in small.iter().zip(&large) {
        if QUADRATIC_UP_TO_A_CAP.contains(what) {
            capped += 1;
            continue;
        }
        let (base, _) = allocated(|| Target::Check.run(b"narval 1\n"));
        let (a, _) = allocated(|| Target::Check.run(small.as_bytes()));
        let (b, _) = allocated(|| Target::Check.run(large.as_bytes()));
        let (a, b) = (a.saturating_sub(base).max(1), b.saturating_sub(base).max(1));
        let ratio = b as f64 / a as f64;
        if ratio > 3.0 {
            failures.push(format!("{what}: {a} bytes for 300, {b} for 600 ({ratio:.1}x)"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(capped, QUADRATIC_UP_TO_A_CAP.len(), "every construct named there is generated");
}

/// A list definition stands for a copy of its items at each use (`a in
/// big` in every rule): work grows with uses times items until E0005 stops
/// it at a million items in all (`tests/diagnostics/`, E0005), so a
/// ratio of sizes below the cap is about four.
const QUADRATIC_UP_TO_A_CAP: &[&str] = &["a long list used by every rule"];

/// The cap of [`QUADRATIC_UP_TO_A_CAP`] holds: a list of 50,000 items used
/// by 21 rules stands for more than a million items, which is E0005, said
/// once, at the use that goes over.
#[test]
fn a_long_list_used_everywhere_stops_at_its_cap() {
    let items = (0..50_000).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let rules = (0..21).map(|i| format!("r{i}: a in big -> s\n")).collect::<String>();
    let text = format!("narval 1\nschema {{ a: int }}\nsolicitation streams s\nbig = [{items}]\n{rules}");
    let report = narval::RuleSet::builder().source("big.narval", text).check();
    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0005"], "{}", report.render());
    assert!(report.render().contains("r20: a in big"), "the use that goes over: {}", report.render());
}
