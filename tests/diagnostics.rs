//! Fixture tests of diagnostics: every `tests/diagnostics/NAME.narval` (or
//! folder `NAME/` of files checked together) sits beside `NAME.stderr`, the
//! exact text a user sees. `NARVAL_BLESS=1 cargo test --test diagnostics`
//! rewrites the expected files after a deliberate change; review the diff.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::Path;

const DIR: &str = "tests/diagnostics";

mod fixtures;

use fixtures::report as check;

fn cases() -> Vec<fixtures::Case> {
    fixtures::cases(DIR)
}

#[test]
fn rendered_diagnostics_match_the_fixtures() {
    let bless = std::env::var_os("NARVAL_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let rendered = check(&case.files).render();
        let expected_path = Path::new(DIR).join(format!("{}.stderr", case.name));
        if bless {
            std::fs::write(&expected_path, &rendered).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if rendered != expected {
            failures.push(format!("--- {}\n{}\n+++ actual\n{}", expected_path.display(), expected, rendered));
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_diagnostic_code_has_a_fixture() {
    let mut seen = BTreeSet::new();
    for case in cases() {
        for d in check(&case.files).diagnostics() {
            seen.insert(d.code.as_str());
        }
    }
    // The SQL back end's refusals (E0501) have their fixtures beside its
    // golden queries, rendered the same way (tests/sql.rs).
    for entry in std::fs::read_dir("tests/sql/golden").unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "stderr") {
            let text = std::fs::read_to_string(&path).unwrap();
            for code in narval::text::diagnostic::Code::ALL {
                if text.contains(&format!("[{}]", code.as_str())) {
                    seen.insert(code.as_str());
                }
            }
        }
    }
    // Every code, E0005 included (an expression with too many operators).
    let missing: Vec<&str> =
        narval::text::diagnostic::Code::ALL.iter().map(|c| c.as_str()).filter(|c| !seen.contains(c)).collect();
    assert!(missing.is_empty(), "codes without a fixture: {missing:?}");
}

#[test]
fn the_clean_fixture_has_no_diagnostics() {
    let report = check(&[Path::new(DIR).join("clean/rules.narval")]);
    assert!(report.diagnostics().is_empty(), "{}", report.render());
}

#[test]
fn diagnostics_are_sorted_by_position() {
    for case in cases() {
        let report = check(&case.files);
        let keys: Vec<_> = report.diagnostics().iter().map(|d| d.span.map(|s| (s.file, s.start))).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "{}", case.name);
    }
}

#[test]
fn oversized_files_are_refused() {
    let text = format!("narval 1\n#{}\n", "x".repeat(narval::syntax::MAX_FILE_BYTES));
    let report = narval::RuleSet::builder().source("big.narval", text).check();
    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0005"]);
}

#[test]
fn json_diagnostics_carry_code_and_location() {
    let report = check(&[Path::new(DIR).join("unknown_field.narval")]);
    let json = serde_json::to_value(report.located()).unwrap();
    let first = &json[0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["location"]["file"], "tests/diagnostics/unknown_field.narval");
    assert_eq!(first["location"]["line"], 13);
    assert_eq!(first["location"]["column"], 8);
    assert_eq!(first["help"], "did you mean `scores.support`?");
}

#[test]
fn too_many_rules_and_too_long_lists_are_refused() {
    let schema = "narval 1\nschema { x: int }\nsolicitation streams s\n";
    let mut text = String::from(schema);
    for n in 0..=narval::check::MAX_RULES {
        text.push_str(&format!("r{n}: x == {n} -> s\n"));
    }
    let report = narval::RuleSet::builder().source("many.narval", text).check();
    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0005"]);
    assert!(report.diagnostics()[0].message.contains("more than 100000 rules"));
    let items: Vec<String> = (0..=narval::syntax::MAX_LIST_ITEMS).map(|n| n.to_string()).collect();
    let text = format!("{schema}r: x in [{}] -> s\n", items.join(","));
    let report = narval::RuleSet::builder().source("long.narval", text).check();
    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0005"]);
    assert!(report.diagnostics()[0].message.contains("more than the limit of 100000"));
}

#[test]
fn a_hundred_thousand_nested_parentheses_are_an_error_not_a_stack_overflow() {
    let text = format!(
        "narval 1\nschema {{ a: int }}\nsolicitation streams s\nr: {}a > 1{} -> s\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let report = narval::RuleSet::builder().source("deep.narval", text).check();
    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0006"]);
    assert!(report.diagnostics()[0].message.contains("nested more than 64 deep"), "{}", report.render());
    // The same depth of brackets in a written test profile.
    let text = format!("narval 1\nschema {{ a: int }}\nprofile p = {}\n", "{ a: ".repeat(100_000));
    let report = narval::RuleSet::builder().source("deep.narval", text).check();
    assert!(report.has_errors());
}
