//! Guardrails through the public API: stream requirements, caps by kind,
//! `bucket(..)` and holdouts, with statistical tests of the buckets on
//! 100,000 generated profiles (deterministic ids: never flaky, but able to
//! fail when the hash is biased).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use narval::RuleSet;
use serde_json::json;

const HEAD: &str = r#"narval 1
schema {
  id: int
  consent: { email: bool, sms: optional bool }
  total: money
  age: int
  name: string
}
solicitation streams fundraising_email, sms, door_knock, flyer
issue streams jobs, health, education
"#;

fn rules(body: &str) -> RuleSet {
    RuleSet::builder()
        .source("guards.narval", format!("{HEAD}{body}"))
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()))
}

/// A profile; `sms` may be left missing with `null`; `total` in dollars.
fn profile(id: i64, email: bool, sms: serde_json::Value, total: f64) -> serde_json::Value {
    json!({"id": id, "consent": {"email": email, "sms": sms}, "total": total, "age": 30, "name": format!("p{id}")})
}

fn solicitations(rules: &RuleSet, profile: &serde_json::Value) -> Vec<String> {
    rules.assign_value(profile).unwrap().solicitations.iter().map(|s| s.to_string()).collect()
}

fn issues(rules: &RuleSet, profile: &serde_json::Value) -> Vec<String> {
    rules.assign_value(profile).unwrap().issues.iter().map(|s| s.to_string()).collect()
}

// ---- requirements ------------------------------------------------------------

#[test]
fn a_requirement_keeps_its_streams_only_when_its_condition_is_true() {
    let r = rules("require sms_consent: consent.sms for sms\nall: true -> sms, door_knock\n");
    assert_eq!(solicitations(&r, &profile(1, true, json!(true), 0.0)), ["sms", "door_knock"]);
    assert_eq!(solicitations(&r, &profile(1, true, json!(false), 0.0)), ["door_knock"]);
    // Missing consent is unknown, and unknown suppresses: fail closed.
    assert_eq!(solicitations(&r, &profile(1, true, json!(null), 0.0)), ["door_knock"]);
}

#[test]
fn no_rule_overrides_a_requirement() {
    let r = rules(
        "require under_cap: total < $2500 for fundraising_email\n\
         ask: true -> fundraising_email\nask_again: total >= $2500 -> fundraising_email\n",
    );
    assert_eq!(solicitations(&r, &profile(1, true, json!(true), 2499.99)), ["fundraising_email"]);
    assert!(solicitations(&r, &profile(1, true, json!(true), 2500.0)).is_empty());
}

#[test]
fn a_requirement_can_name_a_whole_kind_and_several_streams() {
    let r = rules(
        "require email: consent.email for fundraising_email, issues\n\
         all: true -> fundraising_email, door_knock, jobs, health\n",
    );
    let without = profile(1, false, json!(true), 0.0);
    assert_eq!(solicitations(&r, &without), ["door_knock"]);
    assert!(issues(&r, &without).is_empty());
    assert_eq!(issues(&r, &profile(1, true, json!(true), 0.0)), ["jobs", "health"]);
}

#[test]
fn requirements_are_in_the_checked_rule_set_sorted_by_name() {
    let r = rules("require b: consent.email for sms\nrequire a \"why\": age >= 18 for door_knock, flyer\n");
    let names: Vec<&str> = r.checked().requirements.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(r.checked().requirements[0].streams, [2, 3]);
    assert_eq!(r.checked().requirements[0].description.as_deref(), Some("why"));
}

#[test]
fn explain_names_the_requirement_that_blocked_a_stream() {
    let r = rules("require sms_consent: consent.sms for sms\nall: true -> sms\n");
    let e = r.explain_value(&profile(1, true, json!(false), 0.0)).unwrap();
    let sms = e.streams.iter().find(|s| s.stream == "sms").unwrap();
    assert!(!sms.assigned);
    assert_eq!(sms.blocked_by, ["sms_consent"]);
    assert!(e.render().contains("blocked by requirement sms_consent: `consent.sms` is false"), "{}", e.render());
    let json = serde_json::to_value(&e).unwrap();
    assert_eq!(json["requirements"][0]["requirement"], "sms_consent");
    assert_eq!(json["requirements"][0]["outcome"], "false");
}

// ---- caps ----------------------------------------------------------------------

#[test]
fn a_cap_keeps_the_highest_priority_streams_after_suppressions_and_requirements() {
    let body = "at most 2 solicitation streams\nat most 1 issue stream\n\
                require email: consent.email for fundraising_email\n\
                all: true -> fundraising_email, sms, door_knock, flyer, health, education\n\
                quiet: total > $100 -> no sms\n";
    let r = rules(body);
    assert_eq!(solicitations(&r, &profile(1, true, json!(true), 0.0)), ["fundraising_email", "sms"]);
    // The requirement removes the first, the cap then keeps the next two.
    assert_eq!(solicitations(&r, &profile(1, false, json!(true), 0.0)), ["sms", "door_knock"]);
    // The suppression removes `sms` before the cap counts.
    assert_eq!(solicitations(&r, &profile(1, false, json!(true), 200.0)), ["door_knock", "flyer"]);
    assert_eq!(issues(&r, &profile(1, true, json!(true), 0.0)), ["health"]);
    let e = r.explain_value(&profile(1, true, json!(true), 0.0)).unwrap();
    assert_eq!(e.caps[0].removed, ["door_knock", "flyer"]);
    assert!(e.streams.iter().find(|s| s.stream == "flyer").unwrap().capped);
    assert!(e.render().contains("removed by the cap `at most 2 solicitation streams`"), "{}", e.render());
}

// ---- buckets -------------------------------------------------------------------

/// `python3 -c 'import hashlib; h=int.from_bytes(hashlib.sha256(b"lift_2012:23").digest()[:4],"big"); print(h*10000>>32)'`
/// prints 428, and for `ab_2012:1` 8891, `ab_2012:p1` 4843.
#[test]
fn bucket_is_sha256_of_salt_colon_text() {
    let r = rules(
        "exact: bucket(id, \"lift_2012\") == 4.28 -> jobs\n\
         ints: bucket(id, \"ab_2012\") == 88.91 -> health\n\
         strings: bucket(name, \"ab_2012\") == 48.43 -> education\n",
    );
    let mut p = profile(23, true, json!(true), 0.0);
    assert_eq!(issues(&r, &p), ["jobs"]);
    p["id"] = json!(1);
    p["name"] = json!("p1");
    assert_eq!(issues(&r, &p), ["health", "education"]);
}

#[test]
fn bucket_of_a_missing_value_is_unknown() {
    let text = "narval 1\nschema { id: optional string }\nsolicitation streams s, t\n\
                a: bucket(id, \"x\") >= 0 -> s\nb: true -> t\nc: bucket(id, \"x\") < 0 -> no t\n";
    let r = RuleSet::builder().source("m.narval", text).build().unwrap();
    assert_eq!(r.assign_json(r#"{"id": "a"}"#).unwrap().solicitations, ["s", "t"]);
    // Unknown: `a` does not assign, `c` suppresses.
    assert!(r.assign_json("{}").unwrap().solicitations.is_empty());
}

// ---- holdouts ------------------------------------------------------------------

#[test]
fn a_holdout_is_the_suppression_rule_it_stands_for() {
    let r = rules("holdout lift_2012 \"no asks, to measure lift\": 5% -> no solicitations\nall: true -> sms, jobs\n");
    // bucket(23, "lift_2012") is 4.28: held out; bucket(1, ..) is 29.26.
    assert!(solicitations(&r, &profile(23, true, json!(true), 0.0)).is_empty());
    assert_eq!(issues(&r, &profile(23, true, json!(true), 0.0)), ["jobs"]);
    assert_eq!(solicitations(&r, &profile(1, true, json!(true), 0.0)), ["sms"]);
    let rule = r.checked().rules.iter().find(|r| r.name == "lift_2012").unwrap();
    assert_eq!(rule.suppresses, [0, 1, 2, 3]);
    assert_eq!(r.checked().holdouts[0].share, 500);
    let e = r.explain_value(&profile(23, true, json!(true), 0.0)).unwrap();
    assert!(e.rule("lift_2012").unwrap().holdout);
    assert!(
        e.render().contains(
            "held out by lift_2012: `bucket(id, \"lift_2012\") < 5` is true; bucket(id, \"lift_2012\") = 4.28"
        ),
        "{}",
        e.render()
    );
}

const IDS: i64 = 100_000;

fn lines() -> Vec<String> {
    (1..=IDS).map(|id| profile(id, true, json!(true), 0.0).to_string()).collect()
}

/// `z` standard deviations of a binomial count of `n` trials at `p`.
fn within_sigmas(count: usize, n: usize, p: f64, z: f64) -> bool {
    let expected = n as f64 * p;
    let sigma = (n as f64 * p * (1.0 - p)).sqrt();
    (count as f64 - expected).abs() <= z * sigma
}

#[test]
fn holdout_and_ab_shares_are_within_bounds_on_100k_profiles_on_any_thread_count() {
    let r = rules(
        "holdout lift_2012: 5% -> no solicitations\n\
         holdout tiny: 0.5% -> no issues\n\
         all: true -> sms, jobs\n\
         arm_a: bucket(id, \"ab_2012\") < 50 -> door_knock\n\
         arm_b: bucket(id, \"ab_2012\") >= 50 -> flyer\n",
    );
    let lines = lines();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let one = r.assign_lines_parallel(&refs, 1);
    for threads in [2, 3, 8] {
        assert!(one == r.assign_lines_parallel(&refs, threads), "{threads} threads differ from one");
    }
    let n = one.len();
    let assigned: Vec<_> = one.into_iter().map(Result::unwrap).collect();
    let held = assigned.iter().filter(|a| a.solicitations.is_empty()).count();
    let tiny = assigned.iter().filter(|a| a.issues.is_empty()).count();
    let arm_a = assigned.iter().filter(|a| a.solicitations.contains(&"door_knock")).count();
    let arm_b = assigned.iter().filter(|a| a.solicitations.contains(&"flyer")).count();
    assert!(within_sigmas(held, n, 0.05, 5.0), "held out {held} of {n}");
    assert!(within_sigmas(tiny, n, 0.005, 5.0), "tiny holdout {tiny} of {n}");
    // Every profile in the other 95% is in exactly one arm.
    assert_eq!(arm_a + arm_b, n - held);
    assert!(within_sigmas(arm_a, n - held, 0.5, 5.0), "arm a {arm_a} of {}", n - held);
}

/// The 100 integer buckets are uniform (chi-square, 99 degrees of freedom:
/// the 0.9999 quantile is about 160), and two salts are independent (a 10 x
/// 10 table of their deciles, 81 degrees of freedom: 0.9999 quantile about 137).
#[test]
fn buckets_are_uniform_and_salts_independent() {
    let mut counts = [0_u64; 100];
    let mut table = [[0_u64; 10]; 10];
    for id in 1..=IDS {
        let text = id.to_string();
        let a = narval::value::bucket_hundredths("uniform", &text);
        let b = narval::value::bucket_hundredths("other", &text);
        counts[(a / 100) as usize] += 1;
        table[(a / 1000) as usize][(b / 1000) as usize] += 1;
    }
    let expected = IDS as f64 / 100.0;
    let chi: f64 = counts.iter().map(|&c| (c as f64 - expected).powi(2) / expected).sum();
    assert!(chi < 160.0, "chi-square of the 100 buckets is {chi}");
    let cell = IDS as f64 / 100.0;
    let chi: f64 = table.iter().flatten().map(|&c| (c as f64 - cell).powi(2) / cell).sum();
    assert!(chi < 137.0, "chi-square of independence is {chi}");
    // And the buckets as the language sees them: two decimals, in [0, 100).
    let b = narval::value::bucket("uniform", "1");
    assert!((0.0..100.0).contains(&b) && (b * 100.0).round() == b * 100.0);
}

// ---- narval test ---------------------------------------------------------------

#[test]
fn narval_test_counts_requirements_and_says_one_blocked_a_stream() {
    let cases = r#"
require sms_consent: consent.sms for sms
require adult: age >= 18 for door_knock
all: true -> sms, door_knock
test "texts need consent" {
  given { id: 1, consent: { email: true, sms: false }, total: $0, age: 30, name: "a" }
  expect sms
}
"#;
    let suite = RuleSet::builder().source("t.narval", format!("{HEAD}{cases}")).build_tests().unwrap();
    let results = suite.run();
    assert_eq!(results.failed(), 1);
    let rendered = suite.report(&results).render();
    assert!(rendered.contains("`sms` is not assigned (blocked by requirement `sms_consent`)"), "{rendered}");
    // One rule and two requirements; `adult` never blocked anything.
    assert_eq!(results.coverage.rules_total, 3);
    assert_eq!(results.coverage.rules_covered, 2);
    assert_eq!(results.coverage.rules_missed[0].what, "adult");
    assert_eq!(results.coverage.rules_missed[0].why, "never blocked a stream");
}

// ---- the new words are not reserved --------------------------------------------

#[test]
fn require_holdout_at_and_bucket_still_name_rules_fields_and_streams() {
    let text = r#"narval 1
schema {
  id: int
  bucket: int
  most: optional int
}
solicitation streams for, at
at = 3
require: bucket > at -> for
holdout: bucket < 0 -> no for
at_most: most ?? 0 > 1 -> at
require for_needs "needs": bucket >= 0 for for
at most 1 solicitation stream
"#;
    let r = RuleSet::builder().source("words.narval", text).build().unwrap_or_else(|e| panic!("{}", e.render()));
    let names: Vec<&str> = r.checked().rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["at_most", "holdout", "require"]);
    assert_eq!(r.checked().requirements[0].name, "for_needs");
    assert_eq!(r.assign_json(r#"{"id": 1, "bucket": 5, "most": 2}"#).unwrap().solicitations, ["for"]);
    assert_eq!(r.assign_json(r#"{"id": 1, "bucket": 1, "most": 2}"#).unwrap().solicitations, ["at"]);
    assert_eq!(narval::format::format(text).unwrap(), text);
}

#[test]
fn buckets_of_one_value_and_salt_are_hashed_once_a_profile() {
    let r = rules(
        "a: bucket(id, \"ab\") < 50 -> jobs\nb: bucket(id, \"ab\") >= 50 -> health\n\
         c: bucket(name, \"ab\") < 50 -> education\nd: bucket(id, \"cd\") < 50 -> sms\n",
    );
    let program = narval::eval::compile::compile(r.checked(), None);
    assert_eq!(program.cached_buckets, 3);
    // A bucket of an element's field is not cached: it differs per element.
    let text = "narval 1\nschema { id: int, tags: list of string }\nsolicitation streams s\n\
                r: any(tags where bucket(it, \"x\") < 50) -> s\n";
    let r = RuleSet::builder().source("e.narval", text).build().unwrap();
    assert_eq!(narval::eval::compile::compile(r.checked(), None).cached_buckets, 0);
    // bucket("a", "x") is 87.87 (python3: hashlib.sha256(b"x:a")), bucket("b", "x") 6.51.
    assert!(r.assign_json(r#"{"id": 1, "tags": ["a"]}"#).unwrap().solicitations.is_empty());
    assert_eq!(r.assign_json(r#"{"id": 1, "tags": ["a", "b"]}"#).unwrap().solicitations, ["s"]);
}
