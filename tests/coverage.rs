//! `narval test --coverage` counts the conditions as written, whatever
//! folds when the tests run (fixture: `tests/cli/coverage_as_written.narval`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::process::Command;

#[test]
fn conditions_on_today_and_every_operand_of_a_chain_count() {
    let output = Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(["test", "--coverage", "--condition-threshold", "100", "coverage_as_written.narval"])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // r: `age > 3` (T, F) and `today >= 2026-01-01` (true only); chain:
    // `age > 10`, `not volunteer`, `age < 90` (never false).
    assert!(stdout.contains("conditions 3/5 (60.0%)"), "{stdout}\n{stderr}");
    assert!(stdout.contains("today >= 2026-01-01"), "{stdout}");
    assert!(stdout.contains("age < 90"), "{stdout}");
    assert_eq!(output.status.code(), Some(6), "{stdout}\n{stderr}");
}
