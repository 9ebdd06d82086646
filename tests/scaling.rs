//! The rule sets `benches/scaling.rs` measures: they build cleanly at every
//! size, and give the streams of the campaign rules plus those of the
//! generated rules that fire, less what the campaign suppresses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/baseline/mod.rs"]
mod baseline;
#[path = "../benches/rulegen/mod.rs"]
mod rulegen;
#[path = "../benches/workload/mod.rs"]
mod workload;

use rulegen::{Places, Rule};
use serde_json::{json, Value};

fn places() -> Places {
    let lines = workload::lines(&workload::profiles(20_000, 2012, false));
    Places::of(lines.iter().map(String::as_str))
}

fn build(rules: &[Rule]) -> narval::RuleSet {
    let (campaign, schema) = (workload::crate_path(workload::CAMPAIGN), workload::crate_path(workload::SCHEMA));
    rulegen::builder(&campaign, &schema, rules, workload::today())
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()))
}

/// Every stream of a profile, solicitations then issues.
fn streams(rules: &narval::RuleSet, profile: &Value) -> Vec<String> {
    let assignment = rules.assign_value(profile).unwrap();
    assignment.solicitations.iter().chain(&assignment.issues).map(|s| s.to_string()).collect()
}

/// A profile no campaign rule gives anything, with some fields changed.
fn nobody(changes: Value) -> Value {
    let mut profile = json!({
        "id": 1, "email": "p1@example.org", "state": "CA", "zip": "94110",
        "precinct": "CA-001-0001", "polling_place": "PP-CA-00101", "age": 30, "party": "dem",
        "registered": true, "engagement": 0, "volunteer": false,
        "scores": {"support": 10.0, "turnout": 10.0, "persuasion": 0.0},
        "donations": [], "issues": [],
        "consent": {"email": true, "sms": false, "phone": false}, "last_contact": null
    });
    for (field, value) in changes.as_object().unwrap() {
        profile[field] = value.clone();
    }
    profile
}

#[test]
fn generated_rule_sets_build_without_diagnostics_at_every_size() {
    let places = places();
    for n in [10, 100, 1_000, 10_000] {
        let rules = rulegen::generate(n, &places).expect("enough places in 20,000 profiles");
        assert_eq!(rules.len(), n);
        let built = build(&rules);
        assert_eq!(built.report().diagnostics(), &[], "{n} rules: {}", built.report().render());
        assert_eq!(built.checked().rules.len(), n + 23);
    }
}

#[test]
fn the_ten_rule_set_reads_as_a_campaign_writes_it() {
    let rules = rulegen::generate(10, &places()).unwrap();
    let text = rulegen::source(&rules, std::path::Path::new("schema.narval"));
    let expected = [
        r#"invite_pp_VA_00626: polling_place == "PP-VA-00626" -> event_invite"#,
        r#"immigration_VA_006_0294: precinct == "VA-006-0294" and issues contains "immigration" -> immigration"#,
        r#"band_40_age_30: scores.support between 40 and 41 and age >= 30 -> door_knock"#,
        r#"invite_pp_OH_00426: polling_place == "PP-OH-00426" -> event_invite"#,
        r#"environment_OH_004_0382: precinct == "OH-004-0382" and issues contains "environment" -> environment"#,
        r#"band_41_age_30: scores.support between 41 and 42 and age >= 30 -> door_knock"#,
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "no `{line}` in\n{text}");
    }
    assert_eq!(text.lines().filter(|l| l.contains("->")).count(), 10);
}

#[test]
fn the_ten_rule_set_gives_hand_checked_streams() {
    let rules = build(&rulegen::generate(10, &places()).unwrap());
    let give = |changes: Value, expected: &[&str]| {
        assert_eq!(streams(&rules, &nobody(changes.clone())), expected, "{changes}")
    };
    give(json!({}), &[]);
    give(json!({"polling_place": "PP-VA-00626"}), &["event_invite"]);
    give(json!({"polling_place": "PP-VA-00627"}), &[]);
    // A hostile profile hears nothing, whatever its polling place.
    give(json!({"polling_place": "PP-VA-00626", "party": "rep"}), &[]);
    // The campaign gives immigration only in NV, CO, FL and AZ; this precinct's rule gives it in Virginia.
    give(json!({"precinct": "VA-006-0294", "issues": ["immigration"]}), &["immigration"]);
    give(json!({"precinct": "VA-006-0295", "issues": ["immigration"]}), &[]);
    give(json!({"precinct": "VA-006-0294", "issues": ["taxes"]}), &[]);
    give(
        json!({"precinct": "OH-004-0382", "issues": ["environment"], "party": "rep", "scores": {"support": 30.0, "turnout": 10.0, "persuasion": 0.0}}),
        &["environment"],
    );
    // No email and no sms consent: no issue stream at all.
    give(
        json!({"precinct": "VA-006-0294", "issues": ["immigration"], "consent": {"email": false, "sms": false, "phone": false}}),
        &[],
    );
    give(json!({"scores": {"support": 40.5, "turnout": 10.0, "persuasion": 0.0}}), &["door_knock"]);
    give(json!({"scores": {"support": 41.0, "turnout": 10.0, "persuasion": 0.0}}), &["door_knock"]);
    give(json!({"scores": {"support": 40.5, "turnout": 10.0, "persuasion": 0.0}, "age": 29}), &[]);
    give(json!({"scores": {"support": 40.5, "turnout": 10.0, "persuasion": 0.0}, "volunteer": true}), &[]);
    give(json!({"scores": {"support": 43.5, "turnout": 10.0, "persuasion": 0.0}}), &[]);
}

#[test]
fn a_generated_rule_set_agrees_with_a_plain_model_on_generated_profiles() {
    let places = places();
    let generated = rulegen::generate(300, &places).unwrap();
    let rules = build(&generated);
    // 323 rules: native in part, the interpreter walking the large indexes
    // and native code evaluating the rest, the small indexes' rules included.
    assert_eq!(rules.is_native(), narval::NATIVE);
    let (mut changed, mut fired) = (0, 0);
    for line in workload::lines(&workload::profiles(20_000, 2012, false)).iter().take(5_000) {
        let json: Value = serde_json::from_str(line).unwrap();
        let profile = baseline::parse(line).unwrap();
        let (mut solicitations, mut issues) = baseline::assigned(&profile);
        for rule in generated.iter().filter(|rule| rule.fires(&json)) {
            fired += 1;
            let stream = rule.stream();
            match baseline::SOLICITATIONS.iter().position(|&s| s == stream) {
                Some(bit) => solicitations |= 1 << bit,
                None => issues |= 1 << baseline::ISSUES.iter().position(|&s| s == stream).unwrap(),
            }
        }
        let (no_solicitations, no_issues) = baseline::suppressed(&profile);
        let expected: Vec<&str> = baseline::names(solicitations & !no_solicitations, &baseline::SOLICITATIONS)
            .chain(baseline::names(issues & !no_issues, &baseline::ISSUES))
            .collect();
        if baseline::assign(&profile) != (solicitations & !no_solicitations, issues & !no_issues) {
            changed += 1;
        }
        assert_eq!(streams(&rules, &json), expected, "profile {}", profile.id);
    }
    // The generated rules are not idle: they fire, and change some answers.
    assert!(fired > 100 && changed > 10, "{fired} rules fired, {changed} answers changed");
}
