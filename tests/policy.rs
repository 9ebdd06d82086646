//! Data-protection policies and `narval audit`: the command line on the
//! examples (expected output in `tests/policy/`; `NARVAL_BLESS=1 cargo test
//! --test policy` rewrites it after a deliberate change), the library API,
//! and stream requirements on a hand-built rule set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::process::{Command, Output};

use narval::text::diagnostic::Diagnostic;
use serde_json::Value;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn narval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_narval")).args(args).current_dir(ROOT).output().expect("the narval binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("narval exits by itself")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Compares with `tests/policy/NAME`, or rewrites it under `NARVAL_BLESS`.
fn expect_file(name: &str, actual: &str) {
    let path = Path::new(ROOT).join("tests/policy").join(name);
    if std::env::var_os("NARVAL_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "{} differs", path.display());
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

const CAMPAIGN: &str = "examples/campaign-2012/campaign.narval";

// ---- the command line on the examples ---------------------------------------

#[test]
fn the_campaign_fails_the_gdpr_policy_with_an_error_per_unconsented_read() {
    let output = narval(&["check", CAMPAIGN, "--today", "2012-10-01", "--policy", "examples/policies/gdpr.narval"]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    expect_file("campaign-gdpr.stderr", &text);
    // Each field tagged political_opinion the campaign reads is named.
    for field in ["`party`", "`scores.support`", "`scores.persuasion`", "`issues`"] {
        assert!(text.contains(&format!("reads {field}, of category `political_opinion`")), "{field}");
    }
    assert!(text.contains("error[E0407]"), "the missing consent field is reported");
}

#[test]
fn the_campaign_fails_the_french_policy_on_every_read_but_two_fields() {
    let output =
        narval(&["check", CAMPAIGN, "--today", "2012-10-01", "--policy", "examples/policies/france-2012.narval"]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    expect_file("campaign-france.stderr", &text);
    assert!(text.contains("rule `register` reads `registered`, which policy `france_2012` does not allow"));
    assert!(!text.contains("reads `engagement`"));
}

#[test]
fn the_examples_made_for_each_policy_pass_it_and_their_tests() {
    for rules in ["examples/france-2012/rules.narval", "examples/eu-2012/rules.narval"] {
        let output = narval(&["check", rules, "--deny-warnings"]);
        assert_eq!(code(&output), 0, "{rules}: {}", stderr(&output));
        assert!(stderr(&output).contains("ok, 3 files checked"), "the policy file is read: {}", stderr(&output));
    }
    for tests in ["examples/france-2012/rules.test.narval", "examples/eu-2012/rules.test.narval"] {
        let output = narval(&["test", tests]);
        assert_eq!(code(&output), 0, "{tests}: {}", stdout(&output));
    }
    // `--policy` adds to the policies the rule set names itself.
    let output =
        narval(&["check", "examples/eu-2012/rules.narval", "--policy", "examples/policies/france-2012.narval"]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("error[E0403]"));
}

#[test]
fn a_rule_file_given_as_a_policy_is_refused() {
    let output = narval(&["check", "examples/eu-2012/rules.narval", "--policy", "examples/eu-2012/schema.narval"]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(text.contains("error[E0404]: a policy file holds only policies"), "{text}");
    assert!(text.contains("--> examples/eu-2012/schema.narval:"), "{text}");
    let output = narval(&["check", "examples/eu-2012/rules.narval", "--policy", "no/such/policy.narval"]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("cannot read `no/such/policy.narval`: no such file"));
}

#[test]
fn assign_and_explain_honour_a_policy_named_in_the_rule_set() {
    let dir = std::env::temp_dir().join(format!("narval-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rules = dir.join("rules.narval");
    let policy = Path::new(ROOT).join("examples/policies/gdpr.narval");
    std::fs::write(
        &rules,
        format!(
            "narval 1\npolicy \"{}\"\nschema {{ c: {{ health: bool }}, sick: bool tagged health }}\n\
             solicitation streams s\nr: sick -> s\n",
            policy.display()
        ),
    )
    .unwrap();
    let profile = dir.join("p.json");
    std::fs::write(&profile, r#"{"c": {"health": false}, "sick": true}"#).unwrap();
    let rules = rules.to_str().unwrap();
    let output = narval(&["assign", rules, "--profiles", profile.to_str().unwrap()]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("error[E0401]"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "nothing is assigned");
    let output = narval(&["explain", rules, "--profile", profile.to_str().unwrap()]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("error[E0401]"));
    let output = narval(&["test", rules]);
    assert_eq!(code(&output), 1, "{}", stdout(&output));
    assert!(format!("{}{}", stdout(&output), stderr(&output)).contains("E0401"));
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- audit ------------------------------------------------------------------

#[test]
fn audit_lists_each_stream_with_its_rules_fields_and_categories() {
    let output = narval(&["audit", CAMPAIGN, "--today", "2012-10-01"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    expect_file("campaign-audit.txt", &text);
    assert!(text.starts_with("solicitation stream `fundraising_email` (priority 1)\n  assigned by `ask_for_money`\n"));
    assert!(text.contains("    scores.support [political_opinion] through `persuadable`\n"));
    assert!(text.contains("\nfields never read\n  id\n  email\n  zip\n  precinct\n  polling_place\n"));
    assert!(!text.contains("policy"), "no policy, no verdict");
    let output = narval(&["audit", "examples/eu-2012/rules.narval"]);
    assert_eq!(code(&output), 0);
    assert!(stdout(&output).ends_with("\npolicy `gdpr`: the rule set reads only what it allows\n"));
    let output =
        narval(&["audit", "examples/eu-2012/rules.narval", "--policy", "examples/policies/france-2012.narval"]);
    assert_eq!(code(&output), 1);
    assert!(stdout(&output).ends_with("\npolicies `france_2012`, `gdpr`: 10 errors, listed on stderr\n"));
    assert_eq!(stderr(&output).matches("error[E0403]").count(), 10);
}

#[test]
fn audit_json_is_stable_and_carries_the_policy_verdict() {
    let output = narval(&[
        "audit",
        CAMPAIGN,
        "--today",
        "2012-10-01",
        "--policy",
        "examples/policies/france-2012.narval",
        "--format",
        "json",
    ]);
    assert_eq!(code(&output), 1, "policy violations fail the audit as they fail check");
    let ordered: indexmap::IndexMap<String, Value> = serde_json::from_str(&stdout(&output)).unwrap();
    let keys: Vec<&str> = ordered.keys().map(String::as_str).collect();
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(keys, ["streams", "fields", "unread", "policy", "diagnostics"]);
    assert_eq!(json["policy"]["policies"], serde_json::json!(["france_2012"]));
    assert_eq!(json["policy"]["ok"], false);
    assert_eq!(json["policy"]["errors"], json["diagnostics"].as_array().unwrap().len());
    let streams = json["streams"].as_array().unwrap();
    let names: Vec<&str> = streams.iter().map(|s| s["stream"].as_str().unwrap()).collect();
    assert_eq!(&names[..3], ["fundraising_email", "mobilisation_email", "event_invite"]);
    assert_eq!(streams[0]["kind"], "solicitation");
    assert_eq!(streams[0]["priority"], 1);
    let hostile = streams[0]["suppressed_by"].as_array().unwrap().iter().find(|r| r["name"] == "hostile").unwrap();
    assert_eq!(
        hostile["reads"][0],
        serde_json::json!({"field": "party", "categories": ["political_opinion"], "through": []})
    );
    let party = json["fields"].as_array().unwrap().iter().find(|f| f["field"] == "party").unwrap();
    assert_eq!(party["streams"].as_array().unwrap().len(), 11, "`no solicitations` and `environment`");
    // Without a policy there is no verdict, and a clean rule set exits 0.
    let output = narval(&["audit", "examples/eu-2012/rules.narval", "--format", "json"]);
    assert_eq!(code(&output), 0);
    let json: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["policy"]["policies"], serde_json::json!(["gdpr"]));
    assert_eq!(json["policy"]["ok"], true);
    assert_eq!(json["unread"], serde_json::json!(["id", "polling_place", "consent.email"]));
    let output = narval(&["audit", "tests/cli/unknown_field.narval"]);
    assert_eq!(code(&output), 1, "a rule set with errors has no lineage");
    assert!(stdout(&output).is_empty());
}

// ---- the library ------------------------------------------------------------

const SCHEMA: &str = "narval 1\nschema { age: int, sick: optional bool tagged health, \
                      consent: { health: optional bool, email: bool } }\nsolicitation streams s, t\n";

const POLICY: &str = "narval 1\npolicy p { read health only if consent.health }\n";

#[test]
fn builder_takes_policy_sources() {
    let rules = format!("{SCHEMA}r: (sick ?? false) -> s\n");
    let report =
        narval::RuleSet::builder().source("r.narval", rules.as_str()).policy_source("p.narval", POLICY).check();
    assert_eq!(codes(report.diagnostics()), ["E0401"]);
    assert_eq!(report.policies(), ["p"]);
    let guarded = format!("{SCHEMA}r: consent.health and (sick ?? false) -> s\n");
    let built = narval::RuleSet::builder().source("r.narval", guarded).policy_source("p.narval", POLICY).build();
    assert!(built.is_ok());
    // Without the policy the first rule set is fine.
    assert!(narval::RuleSet::builder().source("r.narval", rules).build().is_ok());
}

/// The policy diagnostics of a rule set written as text, under [`POLICY`]:
/// code and message.
fn under_policy(rules: &str) -> Vec<(&'static str, String)> {
    let report = narval::RuleSet::builder().source("r.narval", rules).policy_source("p.narval", POLICY).check();
    report.diagnostics().iter().filter(|d| d.is_error()).map(|d| (d.code.as_str(), d.message.clone())).collect()
}

fn codes_of(found: &[(&'static str, String)]) -> Vec<&'static str> {
    found.iter().map(|(code, _)| *code).collect()
}

#[test]
fn a_requirement_with_the_consent_guards_the_rules_of_its_streams() {
    // `r` reads `sick` without the consent; it suppresses `s` and assigns `t`.
    let rule = "r: (sick ?? false) and age > 3 -> t, no s\n";
    assert_eq!(codes_of(&under_policy(&format!("{SCHEMA}{rule}"))), ["E0401"]);
    // Both streams require the consent: guarded.
    let both = format!("{SCHEMA}{rule}require needs_consent: consent.health ?? false for s, t\n");
    assert_eq!(under_policy(&both), []);
    // Only one of them: not guarded.
    let one = format!("{SCHEMA}{rule}require needs_consent: consent.health ?? false for t\n");
    assert_eq!(codes_of(&under_policy(&one)), ["E0401"]);
    // A requirement with a nullable consent conjunct guards too: a
    // requirement suppresses on unknown as on false.
    let nullable = format!(
        "{SCHEMA}r: (sick ?? false) -> no s, no t\nrequire needs_consent: consent.health and age > 1 for s, t\n"
    );
    assert_eq!(under_policy(&nullable), []);
}

#[test]
fn a_requirement_reading_a_category_needs_the_consent_itself() {
    let unguarded = format!("{SCHEMA}require healthy: not (sick ?? false) for s\nr: age > 3 -> s\n");
    let found = under_policy(&unguarded);
    assert_eq!(codes_of(&found), ["E0401"]);
    assert!(found[0].1.starts_with("requirement `healthy` reads `sick`"), "{}", found[0].1);
    let guarded = format!("{SCHEMA}require healthy: consent.health and not (sick ?? false) for s\nr: age > 3 -> s\n");
    assert_eq!(under_policy(&guarded), []);
}

#[test]
fn the_lineage_lists_requirements_on_their_streams() {
    let text = format!("{SCHEMA}require email_consent: consent.email for s\nr: age > 3 -> s\n");
    let built = narval::RuleSet::builder().source("r.narval", text).build().map_err(|r| r.render()).unwrap();
    let lineage = narval::analysis::audit::Lineage::new(built.checked());
    let s = &lineage.streams[0];
    assert_eq!(s.required_by.len(), 1);
    assert_eq!(s.required_by[0].name, "email_consent");
    assert_eq!(s.required_by[0].reads[0].field, "consent.email");
    assert!(lineage.streams[1].required_by.is_empty());
    let email = lineage.fields.iter().find(|f| f.field == "consent.email").unwrap();
    assert_eq!(email.streams, ["s"]);
    assert_eq!(lineage.unread, ["sick", "consent.health"]);
}

#[test]
fn the_lineage_names_holdouts_and_caps() {
    let text = "narval 1\nschema { id: int, age: int }\nsolicitation streams a, b\nissue streams i\n\
                at most 1 solicitation stream\nholdout lift: 2.5% -> no solicitations\nr: age > 3 -> a, b, i\n";
    let audit = narval::RuleSet::builder().source("h.narval", text).audit().map_err(|r| r.render()).unwrap();
    let [a, b, i] = &audit.lineage.streams[..] else { panic!("three streams") };
    assert_eq!((a.capped_at, b.capped_at, i.capped_at), (Some(1), Some(1), None));
    assert_eq!(a.suppressed_by.len(), 1);
    assert_eq!(a.suppressed_by[0].holdout_percent, Some(2.5));
    assert_eq!(a.suppressed_by[0].reads[0].field, "id");
    assert!(i.suppressed_by.is_empty());
    assert_eq!(a.assigned_by[0].holdout_percent, None);
    let text = audit.lineage.render();
    assert!(text.contains("  capped: a profile keeps at most 1 solicitation stream\n"), "{text}");
    assert!(text.contains("  suppressed by holdout `lift` (2.5% of profiles, `no solicitations`)\n    id\n"), "{text}");
    assert_eq!(a.suppressed_by[0].action.as_deref(), Some("no solicitations"));
}

#[test]
fn the_lineage_names_the_action_that_suppresses_each_stream() {
    let text = "narval 1\nschema { id: int, age: int }\nsolicitation streams a, b\nissue streams i, j\n\
                kids: age < 18 -> no solicitations, no a\nteens: age < 20 -> no b, no i\n\
                old: age > 90 -> no issues\nholdout lift: 5% -> no j\nr: age > 3 -> a, b, i, j\n";
    let audit = narval::RuleSet::builder().source("h.narval", text).audit().map_err(|r| r.render()).unwrap();
    let actions = |stream: usize| -> Vec<(String, Option<String>)> {
        let s = &audit.lineage.streams[stream];
        s.suppressed_by.iter().map(|r| (r.name.clone(), r.action.clone())).collect()
    };
    let some = |name: &str, action: &str| (name.to_string(), Some(action.to_string()));
    // `no solicitations` covers `a` whether or not `no a` is written too.
    assert_eq!(actions(0), [some("kids", "no solicitations")]);
    assert_eq!(actions(1), [some("kids", "no solicitations"), some("teens", "no b")]);
    assert_eq!(actions(2), [some("old", "no issues"), some("teens", "no i")]);
    assert_eq!(actions(3), [some("lift", "no j"), some("old", "no issues")]);
    let text = audit.lineage.render();
    assert!(
        text.contains("  suppressed by `kids` (`no solicitations`)\n    age\n  suppressed by `teens` (`no b`)\n"),
        "{text}"
    );
    assert!(text.contains("  suppressed by holdout `lift` (5% of profiles, `no j`)\n"), "{text}");
    assert!(text.contains("  assigned by `r`\n"), "{text}");
    let json = serde_json::to_value(&audit.lineage).unwrap();
    assert_eq!(json["streams"][1]["suppressed_by"][1]["action"], "no b");
    assert!(json["streams"][1]["assigned_by"][0].get("action").is_none(), "{json}");
}

#[test]
fn a_holdout_reads_the_id_an_allow_list_must_name() {
    let rules = "narval 1\nschema { id: int, polling_place: string, engagement: int }\n\
                 solicitation streams door_knock\nholdout lift: 5% -> no solicitations\n\
                 knock: engagement >= 2 -> door_knock\n";
    let check = |allowed: &str| {
        let policy = format!("narval 1\npolicy fr {{ only read {allowed} }}\n");
        let report = narval::RuleSet::builder().source("r.narval", rules).policy_source("p.narval", policy).check();
        report.diagnostics().iter().map(|d| (d.code.as_str(), d.message.clone())).collect::<Vec<_>>()
    };
    let refused = check("polling_place, engagement");
    assert_eq!(codes_of(&refused), ["E0403"], "{refused:?}");
    assert!(refused[0].1.contains("`lift`") && refused[0].1.contains("`id`"), "{}", refused[0].1);
    assert_eq!(check("polling_place, engagement, id"), []);
}
