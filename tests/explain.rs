//! `explain`: what it says about one profile, and that it agrees with
//! `assign` on every profile, since both come from one evaluation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

#[path = "../benches/workload/mod.rs"]
mod workload;

use narval::eval::interpret::Outcome;
use narval::{Explanation, RuleSet};
use serde_json::{json, Value};

const RULES: &str = r#"
narval 1
schema {
  age: int
  volunteer: bool
  party: one of dem, rep, ind
  scores: { support: number, turnout: number }
  donations: list of { amount: money }
  last_contact: optional date
}
solicitation streams fundraising_email, door_knock, flyer
issue streams jobs

cap = $2500
total = sum(donations.amount)
persuadable = scores.support between 40 and 60 and scores.turnout >= 50

ask: total < cap -> fundraising_email
persuade: persuadable -> door_knock, flyer
already_volunteer: volunteer -> no door_knock, no flyer
recently_contacted: last_contact >= today - 7 days -> no door_knock
jobs_for_independents: party == "ind" or age < 30 -> jobs
"#;

fn rules() -> RuleSet {
    RuleSet::builder()
        .source("rules.narval", RULES)
        .today("2012-10-01".parse().unwrap())
        .build()
        .unwrap_or_else(|r| panic!("{}", r.render()))
}

fn profile(changes: Value) -> Value {
    let mut base = json!({
        "age": 40, "volunteer": false, "party": "dem",
        "scores": {"support": 50.0, "turnout": 60.0},
        "donations": [{"amount": 100}],
        "last_contact": "2012-01-01"
    });
    for (key, value) in changes.as_object().unwrap() {
        base[key] = value.clone();
    }
    base
}

fn explain(changes: Value) -> Explanation {
    rules().explain_value(&profile(changes)).unwrap()
}

fn stream<'a>(e: &'a Explanation, name: &str) -> &'a narval::eval::explain::StreamTrace {
    e.streams.iter().find(|s| s.stream == name).unwrap()
}

#[test]
fn a_false_condition_is_named_with_the_values_it_read() {
    let e = explain(json!({"scores": {"support": 72.5, "turnout": 60.0}}));
    let persuade = e.rule("persuade").unwrap();
    assert_eq!(persuade.outcome, Some(Outcome::False));
    assert_eq!(persuade.because.condition, "scores.support between 40 and 60");
    assert_eq!(persuade.because.within, ["persuadable"]);
    assert_eq!(persuade.because.outcome, Some(Outcome::False));
    assert_eq!(persuade.because.reads.len(), 1);
    assert_eq!(persuade.because.reads[0].name, "scores.support");
    assert_eq!(persuade.because.reads[0].value.as_deref(), Some("72.5"));
    assert_eq!(
        persuade.because.render(),
        "`scores.support between 40 and 60` is false (in `persuadable`); scores.support = 72.5"
    );
    assert!(!stream(&e, "door_knock").assigned);
    assert_eq!(stream(&e, "door_knock").not_assigned_by, ["persuade"]);
}

#[test]
fn the_second_operand_of_an_and_is_blamed_when_the_first_holds() {
    let e = explain(json!({"scores": {"support": 50.0, "turnout": 20.0}}));
    let because = &e.rule("persuade").unwrap().because;
    assert_eq!(because.condition, "scores.turnout >= 50");
    assert_eq!(because.reads[0].value.as_deref(), Some("20.0"));
}

#[test]
fn missing_data_is_named_as_missing() {
    let e = explain(json!({"last_contact": null}));
    let rule = e.rule("recently_contacted").unwrap();
    assert_eq!(rule.outcome, Some(Outcome::Unknown));
    assert!(rule.because.render().contains("last_contact is missing"), "{}", rule.because.render());
    // The unknown suppression fails closed: no door knock.
    let door = stream(&e, "door_knock");
    assert!(!door.assigned);
    assert_eq!(door.suppressed_by, ["recently_contacted"]);
    assert_eq!(door.assigned_by, ["persuade"]);
}

#[test]
fn a_true_or_is_explained_by_its_true_operand() {
    let e = explain(json!({"party": "dem", "age": 25}));
    let because = &e.rule("jobs_for_independents").unwrap().because;
    assert_eq!(because.condition, "age < 30");
    assert_eq!(because.reads[0].value.as_deref(), Some("25"));
    // A false `or` is explained whole, with every value it read.
    let e = explain(json!({"party": "rep", "age": 50}));
    let because = &e.rule("jobs_for_independents").unwrap().because;
    assert_eq!(because.condition, r#"party == "ind" or age < 30"#);
    let reads: Vec<String> = because.reads.iter().map(|r| format!("{}={:?}", r.name, r.value)).collect();
    assert_eq!(reads, [r#"party=Some("\"rep\"")"#, r#"age=Some("50")"#]);
    // ... and blamed operand by operand, since each is why.
    let operands: Vec<&str> = because.operands.iter().map(|o| o.condition.as_str()).collect();
    assert_eq!(operands, [r#"party == "ind""#, "age < 30"]);
    assert_eq!(
        because.render(),
        "`party == \"ind\" or age < 30` is false, as is each operand:\n  \
         - `party == \"ind\"` is false; party = \"rep\"\n  \
         - `age < 30` is false; age = 50"
    );
}

#[test]
fn a_false_or_lists_every_operand_each_explained_on_its_own() {
    let rules = RuleSet::builder()
        .source(
            "or.narval",
            r#"narval 1
schema { age: int, party: one of dem, rep, ind, volunteer: bool, scores: { support: number } }
issue streams jobs
young = age < 30
jobs_for: party == "ind" or (young or volunteer) or (scores.support > 50 and age > 60) -> jobs
"#,
        )
        .build()
        .unwrap_or_else(|r| panic!("{}", r.render()));
    let profile = json!({"age": 70, "party": "rep", "volunteer": false, "scores": {"support": 40.0}});
    let e = rules.explain_value(&profile).unwrap();
    let because = &e.rule("jobs_for").unwrap().because;
    assert_eq!(because.outcome, Some(Outcome::False));
    // Nested `or`s are one chain; an `and` operand is blamed on its first
    // false operand, a definition is followed into.
    let lines: Vec<String> = e.render_stream(&e.streams[0]).lines().map(String::from).collect();
    assert_eq!(
        lines,
        [
            "  - jobs: not assigned",
            "      not assigned by jobs_for: `party == \"ind\" or (young or volunteer) or (scores.support > 50 and age > 60)` \
             is false, as is each operand:",
            "        - `party == \"ind\"` is false; party = \"rep\"",
            "        - `age < 30` is false (in `young`); age = 70",
            "        - `volunteer` is false",
            "        - `scores.support > 50` is false; scores.support = 40.0",
        ]
    );
    let json = serde_json::to_value(&e).unwrap();
    let operands = json["rules"][0]["because"]["operands"].as_array().unwrap();
    assert_eq!(operands.len(), 4);
    assert_eq!(operands[1]["condition"], "age < 30");
    assert_eq!(operands[1]["within"], json!(["young"]));
    assert_eq!(operands[1]["reads"], json!([{"name": "age", "value": "70", "field": true}]));
    assert_eq!(operands[3]["outcome"], "false");
    // A true `or` is blamed on one operand, with no operand list.
    let e = rules.explain_value(&json!({"age": 20, "party": "rep", "volunteer": false, "scores": {"support": 40.0}}));
    let e = e.unwrap();
    assert!(e.rule("jobs_for").unwrap().because.operands.is_empty());
    assert!(serde_json::to_value(&e).unwrap()["rules"][0]["because"].get("operands").is_none());
}

#[test]
fn definitions_constants_and_money_are_shown_as_written_in_rules() {
    let e = explain(json!({"donations": [{"amount": 2000}, {"amount": "600.50"}]}));
    let because = &e.rule("ask").unwrap().because;
    assert_eq!(because.outcome, Some(Outcome::False));
    let reads: Vec<(&str, Option<&str>)> =
        because.reads.iter().map(|r| (r.name.as_str(), r.value.as_deref())).collect();
    assert_eq!(reads, [("total", Some("$2600.50")), ("cap", Some("$2500"))]);
    let e = explain(json!({"last_contact": "2012-09-28"}));
    let because = &e.rule("recently_contacted").unwrap().because;
    assert_eq!(because.render(), "`last_contact >= today - 7 days` is true; last_contact = 2012-09-28");
}

#[test]
fn every_stream_is_listed_in_priority_order() {
    let e = explain(json!({}));
    let names: Vec<&str> = e.streams.iter().map(|s| s.stream.as_str()).collect();
    assert_eq!(names, ["fundraising_email", "door_knock", "flyer", "jobs"]);
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["streams"][1]["stream"], "door_knock");
    assert_eq!(json["rules"][0]["rule"], "already_volunteer");
    assert_eq!(json["rules"][0]["outcome"], "false");
}

#[test]
fn explain_and_assign_agree_on_the_behaviour_rules() {
    let rules = rules();
    let mut checked = 0;
    for support in [0.0, 39.9, 40.0, 55.0, 60.0, 60.1] {
        for volunteer in [false, true] {
            for contact in [Value::Null, json!("2012-09-28"), json!("2012-01-01")] {
                for amount in [0, 2499, 2500] {
                    let p = profile(json!({
                        "scores": {"support": support, "turnout": 55.0},
                        "volunteer": volunteer, "last_contact": contact,
                        "donations": [{"amount": amount}]
                    }));
                    assert_agree(&rules, &p);
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 108);
}

fn assert_agree(rules: &RuleSet, profile: &Value) {
    match (rules.assign_value(profile), rules.explain_value(profile)) {
        (Ok(assignment), Ok(explanation)) => {
            let explained: Vec<&str> = explanation.assigned().map(|s| s.stream.as_str()).collect();
            let assigned: Vec<&str> = assignment.solicitations.iter().chain(&assignment.issues).copied().collect();
            assert_eq!(explained, assigned, "{profile}");
        }
        (Err(a), Err(e)) => assert_eq!(a, e),
        (a, e) => panic!("assign {a:?} but explain {e:?} on {profile}"),
    }
}

/// The campaign-2012 example on profiles from the project's generator, the
/// dirty ones included (both must reject those alike).
#[test]
fn explain_and_assign_agree_on_generated_campaign_profiles() {
    let rules = workload::campaign();
    let mut total = 0;
    for dirty in [false, true] {
        for line in workload::generate::lines(3000, 99, dirty) {
            let profile = serde_json::from_str::<Value>(&line).unwrap();
            assert_agree(&rules, &profile);
            total += 1;
        }
    }
    assert_eq!(total, 6000);
}

// ---- under a policy ---------------------------------------------------------

/// `tests/cli/guarded.narval`: `risk` and `carers` read health data, guarded
/// by the requirement `health_consent`; `late_guard` by its own conjunct.
fn guarded() -> RuleSet {
    RuleSet::builder()
        .file(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/guarded.narval"))
        // Its policy file lies in `tests/policies`, beside the rule file's folder.
        .import_root(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"))
        .build()
        .unwrap_or_else(|r| panic!("{}", r.render()))
}

fn guarded_profile(consent: Value) -> Value {
    json!({"id": 1, "age": 40, "consent": {"health": consent}, "health": {"score": 42, "carer": true}})
}

#[test]
fn without_consent_the_values_of_guarded_fields_are_withheld() {
    let rules = guarded();
    for consent in [json!(false), Value::Null] {
        let e = rules.explain_value(&guarded_profile(consent.clone())).unwrap();
        let high_risk = e.rule("high_risk").unwrap();
        assert_eq!(high_risk.outcome, None, "{consent}");
        assert_eq!(high_risk.because.withheld.as_deref(), Some("consent.health is not true"));
        assert_eq!(high_risk.because.reads.len(), 1);
        assert_eq!(high_risk.because.reads[0].name, "risk");
        assert_eq!(high_risk.because.reads[0].value, None);
        assert_eq!(
            high_risk.because.render(),
            "`risk > 50` is <withheld: consent.health is not true>; risk = <withheld: consent.health is not true>"
        );
        // A bool field that is the whole condition would show in its outcome.
        let carers = e.rule("carers").unwrap();
        assert_eq!(carers.outcome, None);
        assert_eq!(carers.because.render(), "`health.carer` is <withheld: consent.health is not true>");
        // Which list a rule is filed in would tell its outcome too.
        let checkups = stream(&e, "checkups");
        assert!(checkups.assigned_by.is_empty() && checkups.not_assigned_by.is_empty());
        assert_eq!(checkups.withheld, ["carers"]);
        assert_eq!(stream(&e, "care_email").withheld, ["high_risk"]);
        let json = serde_json::to_string(&e).unwrap();
        assert!(!json.contains("84") && !json.contains("42"), "{json}");
        // The rules and requirement that read no health data are shown.
        assert_eq!(e.rule("adults").unwrap().because.render(), "`age >= 18` is true; age = 40");
        assert_eq!(e.requirements[0].outcome, Some(Outcome::False));
        assert_agree(&rules, &guarded_profile(consent));
    }
}

#[test]
fn a_false_consent_conjunct_explains_the_rule_that_reads_behind_it() {
    let e = guarded().explain_value(&guarded_profile(json!(false))).unwrap();
    let late = e.rule("late_guard").unwrap();
    assert_eq!(late.outcome, Some(Outcome::False));
    assert_eq!(late.because.render(), "`consent.health` is false");
    assert_eq!(stream(&e, "visit").not_assigned_by, ["late_guard"]);
    // Unknown, the consent decides nothing alone: the outcome is withheld.
    let e = guarded().explain_value(&guarded_profile(Value::Null)).unwrap();
    assert_eq!(e.rule("late_guard").unwrap().outcome, None);
    assert_eq!(stream(&e, "visit").withheld, ["late_guard"]);
}

#[test]
fn with_consent_every_value_is_shown() {
    let rules = guarded();
    let e = rules.explain_value(&guarded_profile(json!(true))).unwrap();
    let high_risk = e.rule("high_risk").unwrap();
    assert_eq!(high_risk.outcome, Some(Outcome::True));
    assert_eq!(high_risk.because.render(), "`risk > 50` is true; risk = 84");
    assert_eq!(high_risk.because.withheld, None);
    assert!(e.streams.iter().all(|s| s.withheld.is_empty()));
    let json = serde_json::to_value(&e).unwrap();
    assert!(json["rules"][1]["because"].get("withheld").is_none(), "{json}");
    assert_agree(&rules, &guarded_profile(json!(true)));
}
