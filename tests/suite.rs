//! `narval test` through the library: cases pass, fail with the rules that
//! decided each wrong stream, or cannot run; coverage counts what it says.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use narval::api::testing::{CaseStatus, Suite, TestReport};
use narval::RuleSet;

const RULES: &str = r#"
narval 1
schema {
  age: int
  volunteer: bool
  engagement: int
  last_contact: optional date
}
solicitation streams door_knock, flyer, volunteer_recruitment
issue streams jobs, education

knock: not volunteer -> door_knock, flyer
already_volunteer: volunteer -> no door_knock, no flyer
recruit: engagement >= 3 and not volunteer -> volunteer_recruitment
recent: last_contact >= today - 7 days -> no flyer
young: age < 30 or engagement >= 4 -> education

profile person = { age: 40, volunteer: false, engagement: 0 }
"#;

fn suite(tests: &str) -> Suite {
    suite_with(tests, None)
}

fn suite_with(tests: &str, today: Option<&str>) -> Suite {
    let builder = RuleSet::builder().source("rules.narval", format!("{RULES}\n{tests}"));
    let builder = match today {
        Some(date) => builder.today(date.parse().unwrap()),
        None => builder,
    };
    builder.build_tests().unwrap_or_else(|r| panic!("{}", r.render()))
}

fn run(tests: &str) -> TestReport {
    suite_with(tests, Some("2012-10-01")).run()
}

#[test]
fn passing_cases_pass() {
    let report = run(r#"
        test "a non-volunteer is canvassed, without a flyer while the last contact is unknown" {
          given person
          expect door_knock, no flyer, no volunteer_recruitment, no issues
        }
        test "exact lists" {
          given person with { volunteer: true, engagement: 4 }
          expect solicitations = [], issues = [education]
        }
    "#);
    assert_eq!((report.passed(), report.failed(), report.errors()), (2, 0, 0), "{report:#?}");
}

#[test]
fn a_failing_case_names_the_wrong_streams_and_the_rules_that_decided_them() {
    let report = run(r#"
        test "wrong" {
          given person with { volunteer: true }
          expect door_knock, issues = [jobs]
        }
    "#);
    assert_eq!(report.failed(), 1);
    let CaseStatus::Failed { solicitations, issues, failures } = &report.cases[0].status else { panic!() };
    assert!(solicitations.is_empty());
    assert!(issues.is_empty());
    assert_eq!(failures.len(), 2);
    assert_eq!(failures[0].expected, "door_knock");
    assert_eq!(failures[0].streams[0].stream, "door_knock");
    assert_eq!(failures[0].streams[0].suppressed_by, ["already_volunteer"]);
    assert_eq!(failures[0].streams[0].not_assigned_by, ["knock"]);
    let text = &failures[0].explanation;
    assert!(text.contains("suppressed by already_volunteer: `volunteer` is true\n"), "{text}");
    assert!(text.contains("not assigned by knock: `not volunteer` is false; volunteer = true\n"), "{text}");
    assert_eq!(failures[1].expected, "issues = [jobs]");
    assert!(failures[1].explanation.contains("no rule assigns it"), "{}", failures[1].explanation);
}

#[test]
fn a_case_without_a_date_for_rules_that_read_today_cannot_run() {
    let report = suite(
        r#"
        test "no date" { given person expect door_knock }
        test "own date" { given person today 2012-10-01 expect door_knock }
    "#,
    )
    .run();
    assert!(matches!(&report.cases[0].status, CaseStatus::Error { message } if message.contains("today")));
    assert_eq!(report.cases[1].status, CaseStatus::Passed);
}

#[test]
fn each_case_evaluates_on_its_own_date() {
    let report = suite(
        r#"
        test "contacted three days before" {
          given person with { last_contact: 2012-09-28 }
          today 2012-10-01
          expect no flyer
        }
        test "contacted long before" {
          given person with { last_contact: 2012-09-28 }
          today 2012-12-01
          expect flyer
        }
        test "never contacted: the suppression is unknown, so it holds" {
          given person with { last_contact: missing }
          today 2012-12-01
          expect no flyer, door_knock
        }
    "#,
    )
    .run();
    assert_eq!(report.passed(), 3, "{report:#?}");
}

#[test]
fn a_profile_file_is_read_beside_the_rule_file() {
    let dir = std::env::temp_dir().join(format!("narval-suite-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("cases")).unwrap();
    std::fs::write(dir.join("cases/volunteer.json"), r#"{"age": 20, "volunteer": true, "engagement": 1}"#).unwrap();
    std::fs::write(dir.join("cases/broken.json"), r#"{"age": "twenty"}"#).unwrap();
    std::fs::write(
        dir.join("rules.narval"),
        format!(
            "{RULES}\n{}",
            r#"
            test "from a file" { given "cases/volunteer.json" today 2012-10-01 expect no door_knock, education }
            test "missing file" { given "cases/nowhere.json" today 2012-10-01 expect door_knock }
            test "broken file" { given "cases/broken.json" today 2012-10-01 expect door_knock }
            "#
        ),
    )
    .unwrap();
    let report = RuleSet::builder().file(dir.join("rules.narval")).build_tests().unwrap().run();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(report.cases[0].status, CaseStatus::Passed, "{report:#?}");
    let CaseStatus::Error { message } = &report.cases[1].status else { panic!("{report:#?}") };
    assert!(message.contains("cannot read") && message.contains("nowhere.json"), "{message}");
    let CaseStatus::Error { message } = &report.cases[2].status else { panic!("{report:#?}") };
    assert!(message.contains("field `age` should be int"), "{message}");
    assert!(!message.contains("twenty"), "no personal values in errors: {message}");
}

#[test]
fn coverage_counts_fired_rules_and_conditions_seen_both_ways() {
    let report = run(r#"
        test "volunteer" { given person with { volunteer: true } expect no door_knock }
        test "young and engaged" { given person with { age: 20, engagement: 3 } expect education }
    "#);
    let c = &report.coverage;
    // knock fired (2nd case), already_volunteer (1st), recruit (2nd), young (2nd);
    // recent never fired: last_contact is missing in both, unknown, and it suppresses.
    assert_eq!((c.rules_covered, c.rules_total), (5, 5), "{c:#?}");
    // Conditions: recruit's `engagement >= 3` (T in 2nd, F in 1st), `not volunteer`
    // (T in 2nd, F in 1st); young's `age < 30` (T, F), `engagement >= 4` (F only).
    assert_eq!((c.conditions_covered, c.conditions_total), (3, 4), "{c:#?}");
    assert_eq!(c.conditions_missed.len(), 1);
    assert_eq!(c.conditions_missed[0].what, "engagement >= 4");
    assert_eq!(c.conditions_missed[0].why, "never true");
    assert_eq!(c.conditions_missed[0].line, 16);
}

#[test]
fn a_rule_that_never_fires_is_reported() {
    let report = run(r#"test "one" { given person with { last_contact: 2011-01-01 } expect door_knock }"#);
    let missed: Vec<&str> = report.coverage.rules_missed.iter().map(|m| m.what.as_str()).collect();
    // In source order.
    assert_eq!(missed, ["already_volunteer", "recruit", "recent", "young"]);
    assert!(report.coverage.rule_percent() > 19.9 && report.coverage.rule_percent() < 20.1);
}

#[test]
fn a_long_chain_of_profiles_is_refused_not_followed() {
    // Written last to first, so that resolving the first follows the whole chain.
    let mut text = String::new();
    for i in (1..=20_000).rev() {
        text.push_str(&format!("profile p{i} = p{} with {{ age: {i} }}\n", i - 1));
    }
    text.push_str("profile p0 = person\n");
    text.push_str("test \"deep\" { given p20000 today 2012-10-01 expect door_knock }\n");
    let Err(report) = RuleSet::builder().source("rules.narval", format!("{RULES}\n{text}")).build_tests() else {
        panic!("a chain of 20,000 profiles was accepted");
    };
    let codes: std::collections::BTreeSet<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes.into_iter().collect::<Vec<_>>(), ["E0118"]);
    assert!(report.diagnostics()[0].message.contains("more than 32 deep"), "{}", report.diagnostics()[0].message);
}
