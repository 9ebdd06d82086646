//! Policies hold on every profile: random rule sets checked against random
//! policies; whenever a rule set checks clean under a policy, then on random
//! profiles
//!
//! - (a) changing any field outside the allow-list never changes the
//!   assignment nor causes a rejection (any JSON, even ill-typed, for a
//!   top-level field no allow-list entry reaches into; well-typed values for
//!   a subfield of a record whose other subfield is allowed, since the
//!   decoder checks a record it reads as a whole);
//! - (b) for a profile whose consent field for a category is not true (false,
//!   or missing or null where it is optional), changing the values of the
//!   fields of that category (well-typed) never changes the assignment;
//! - (c) changing the fields of a category the policy never allows never
//!   changes the assignment.
//!
//! The generator reads fields directly, through definitions built on
//! definitions, inside aggregates (projections and filters); guards the
//! rules with the consent as a top-level conjunct, in a definition, as
//! `(consent.health ?? false)`, or not at all; and mixes assignments with
//! suppressions of one stream and of a kind. It also writes stream
//! requirements (with the consent or not, over some streams or a kind),
//! which can guard the rules of the streams they cover, and caps. `NARVAL_POLICY_CASES=N` sets
//! the number of rule sets (400 by default, 24 profiles each).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod rng;

use std::cell::Cell;

use narval::RuleSet;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value as Json};

use rng::Rng;

const SCHEMA: &str = r#"narval 1
schema {
  a: int
  b: optional int
  s: string
  h: int tagged health
  hr: { x: int, y: optional bool } tagged health
  o: optional one of p, q tagged opinion
  op: { lean: number tagged opinion }
  l: list of { v: int tagged health, w: int }
  consent: { health: optional bool, opinion: bool }
}
solicitation streams s0, s1, s2
issue streams i0, i1
"#;

const PROFILES: usize = 24;

/// Top-level fields, as a policy's allow-list may name them.
const TOP: &[&str] = &["a", "b", "s", "h", "hr", "o", "op", "l", "consent"];

/// A random policy.
#[derive(Debug, Clone)]
struct Policy {
    /// Allow-list entries, when there is one.
    allow: Option<Vec<&'static str>>,
    health_consent: bool,
    opinion_consent: bool,
    never: Vec<&'static str>,
}

impl Policy {
    fn generate(rng: &mut Rng) -> Policy {
        let allow = rng.chance(50).then(|| {
            let mut entries: Vec<&'static str> =
                TOP.iter().copied().filter(|f| rng.chance(if *f == "consent" { 85 } else { 65 })).collect();
            if rng.chance(30) {
                entries.retain(|e| *e != "hr");
                entries.push("hr.x");
            }
            entries
        });
        let never = ["health", "opinion"].into_iter().filter(|_| rng.chance(10)).collect();
        Policy { allow, health_consent: rng.chance(70), opinion_consent: rng.chance(70), never }
    }

    fn text(&self) -> String {
        let mut clauses = Vec::new();
        if let Some(allow) = &self.allow {
            if allow.is_empty() {
                clauses.push(String::from("only read consent.opinion"));
            } else {
                clauses.push(format!("only read {}", allow.join(", ")));
            }
        }
        if self.health_consent {
            clauses.push(String::from("read health only if consent.health"));
        }
        if self.opinion_consent {
            clauses.push(String::from("read opinion only if consent.opinion"));
        }
        if !self.never.is_empty() {
            clauses.push(format!("never read {}", self.never.join(", ")));
        }
        format!("narval 1\npolicy random {{\n  {}\n}}\n", clauses.join("\n  "))
    }

    fn allow_entries(&self) -> Vec<&'static str> {
        match &self.allow {
            Some(allow) if allow.is_empty() => vec!["consent.opinion"],
            Some(allow) => allow.clone(),
            None => TOP.to_vec(),
        }
    }

    /// Whether a field path may be read.
    fn allows(&self, path: &str) -> bool {
        self.allow_entries().iter().any(|e| path == *e || path.starts_with(&format!("{e}.")))
    }
}

/// Conditions over fields, with the paths each reads.
const ATOMS: &[(&str, &[&str])] = &[
    ("a > 3", &["a"]),
    ("a <= 8", &["a"]),
    ("b > 2", &["b"]),
    ("(b ?? 0) > 4", &["b"]),
    ("b is missing", &["b"]),
    ("s == \"x\"", &["s"]),
    ("s starts_with \"y\"", &["s"]),
    ("h > 5", &["h"]),
    ("h <= 2", &["h"]),
    ("hr.x > 4", &["hr.x"]),
    ("(hr.y ?? false)", &["hr.y"]),
    ("hr.y == true", &["hr.y"]),
    ("o == \"p\"", &["o"]),
    ("o is missing", &["o"]),
    ("op.lean > 0.5", &["op.lean"]),
    ("any(l where v > 4)", &["l.v"]),
    ("sum(l.w) > 6", &["l.w"]),
    ("count(l) >= 2", &["l"]),
    ("count(l where w > 2 and v < 6) > 0", &["l.w", "l.v"]),
    ("max(l.v) > 7", &["l.v"]),
    ("consent.health", &["consent.health"]),
    ("consent.opinion", &["consent.opinion"]),
];

const GUARDS: &[&str] = &[
    "consent.health",
    "(consent.health ?? false)",
    "consent.opinion",
    "consent.health and consent.opinion",
    "(consent.health ?? false) and consent.opinion",
    "guard_h",
    "guard_o",
];

const STREAMS: &[&str] = &["s0", "s1", "s2", "i0", "i1"];

struct Gen<'p> {
    rng: Rng,
    policy: &'p Policy,
    defs: usize,
}

impl Gen<'_> {
    fn atom(&mut self) -> String {
        // Mostly what the allow-list allows, so that many rule sets are clean.
        for _ in 0..8 {
            let (text, reads) = *self.rng.pick(ATOMS);
            if !self.rng.chance(85) || reads.iter().all(|r| self.policy.allows(r)) {
                return text.to_string();
            }
        }
        String::from("true")
    }

    fn condition(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.chance(40) {
            if self.defs > 0 && self.rng.chance(25) {
                return format!("d{}", self.rng.below(self.defs));
            }
            return self.atom();
        }
        match self.rng.below(4) {
            0 => format!("not ({})", self.condition(depth - 1)),
            1 => format!("({}) or ({})", self.condition(depth - 1), self.condition(depth - 1)),
            _ => format!("({}) and ({})", self.condition(depth - 1), self.condition(depth - 1)),
        }
    }

    fn actions(&mut self) -> String {
        let mut actions: Vec<String> = Vec::new();
        for _ in 0..1 + self.rng.below(2) {
            let action = match self.rng.below(10) {
                0..=5 => self.rng.pick(STREAMS).to_string(),
                6..=8 => format!("no {}", self.rng.pick(STREAMS)),
                _ => String::from(if self.rng.chance(50) { "no solicitations" } else { "no issues" }),
            };
            if !actions.contains(&action) {
                actions.push(action);
            }
        }
        actions.join(", ")
    }

    fn rules(&mut self) -> String {
        let mut text = String::from(SCHEMA);
        text.push_str("policy \"random.narval\"\n");
        let guard_h = self.condition(1);
        let guard_o = self.condition(1);
        text.push_str(&format!(
            "guard_h = consent.health and ({guard_h})\nguard_o = consent.opinion and ({guard_o})\n"
        ));
        let defs = self.rng.below(4);
        for i in 0..defs {
            let value = self.condition(2);
            text.push_str(&format!("d{i} = {value}\n"));
            self.defs = i + 1;
        }
        // Streams everyone gets, so that suppressions show.
        if self.rng.chance(60) {
            text.push_str("everyone: true -> s0, s2, i0\n");
        }
        // Stream requirements, which guard the rules of the streams they
        // cover when they carry the consent, and read fields themselves.
        for i in 0..self.rng.below(3) {
            let condition = self.condition(1);
            let condition = match self.rng.below(4) {
                0 => condition,
                1 => self.rng.pick(GUARDS).to_string(),
                _ => format!("{} and ({condition})", self.rng.pick(GUARDS)),
            };
            let streams = match self.rng.below(6) {
                0 => String::from("solicitations"),
                1 => String::from("issues"),
                _ => {
                    let mut picked: Vec<&str> = STREAMS.iter().copied().filter(|_| self.rng.chance(60)).collect();
                    if picked.is_empty() {
                        picked.push(*self.rng.pick(STREAMS));
                    }
                    picked.join(", ")
                }
            };
            text.push_str(&format!("require q{i}: {condition} for {streams}\n"));
        }
        if self.rng.chance(20) {
            text.push_str(&format!("at most {} solicitation streams\n", 1 + self.rng.below(2)));
        }
        let rules = 1 + self.rng.below(6);
        for i in 0..rules {
            let condition = self.condition(2);
            let condition =
                if self.rng.chance(80) { format!("{} and ({condition})", self.rng.pick(GUARDS)) } else { condition };
            let actions = self.actions();
            text.push_str(&format!("r{i}: {condition} -> {actions}\n"));
        }
        text
    }
}

fn int(rng: &mut Rng) -> Json {
    json!(rng.below(12) as i64 - 1)
}

fn optional(rng: &mut Rng, object: &mut Map<String, Json>, key: &str, value: Json) {
    match rng.below(4) {
        0 => {}
        1 => {
            object.insert(key.to_string(), Json::Null);
        }
        _ => {
            object.insert(key.to_string(), value);
        }
    }
}

fn hr(rng: &mut Rng) -> Json {
    let mut record = Map::new();
    record.insert(String::from("x"), int(rng));
    let y = json!(rng.chance(50));
    optional(rng, &mut record, "y", y);
    Json::Object(record)
}

fn op(rng: &mut Rng) -> Json {
    json!({ "lean": rng.below(100) as f64 / 100.0 })
}

fn profile(rng: &mut Rng) -> Map<String, Json> {
    let mut p = Map::new();
    p.insert(String::from("a"), int(rng));
    let b = int(rng);
    optional(rng, &mut p, "b", b);
    p.insert(String::from("s"), json!(*rng.pick(&["x", "y", "yz", ""])));
    p.insert(String::from("h"), int(rng));
    p.insert(String::from("hr"), hr(rng));
    let o = json!(*rng.pick(&["p", "q"]));
    optional(rng, &mut p, "o", o);
    p.insert(String::from("op"), op(rng));
    let items: Vec<Json> = (0..rng.below(4)).map(|_| json!({ "v": int(rng), "w": int(rng) })).collect();
    p.insert(String::from("l"), Json::Array(items));
    let mut consent = Map::new();
    let health = json!(rng.chance(50));
    optional(rng, &mut consent, "health", health);
    consent.insert(String::from("opinion"), json!(rng.chance(50)));
    p.insert(String::from("consent"), Json::Object(consent));
    p
}

/// Any JSON at all, or the key left out.
fn anything(rng: &mut Rng, p: &mut Map<String, Json>, key: &str) {
    let value = match rng.below(8) {
        0 => {
            p.remove(key);
            return;
        }
        1 => Json::Null,
        2 => json!("text"),
        3 => json!([1, "two", null]),
        4 => json!({ "k": 1 }),
        5 => json!(true),
        6 => json!(1.5e300),
        _ => json!(-7),
    };
    p.insert(key.to_string(), value);
}

/// New well-typed values for the fields of a category.
fn change_category(rng: &mut Rng, p: &mut Map<String, Json>, category: &str) {
    match category {
        "health" => {
            p.insert(String::from("h"), int(rng));
            p.insert(String::from("hr"), hr(rng));
            if let Some(Json::Array(items)) = p.get_mut("l") {
                for item in items {
                    item["v"] = int(rng);
                }
            }
        }
        _ => {
            p.remove("o");
            let o = json!(*rng.pick(&["p", "q"]));
            optional(rng, p, "o", o);
            p.insert(String::from("op"), op(rng));
        }
    }
}

type Outcome = Result<(Vec<String>, Vec<String>), String>;

fn assign(rules: &RuleSet, profile: &Map<String, Json>) -> Outcome {
    rules
        .assign_value(&Json::Object(profile.clone()))
        .map(|a| {
            (a.solicitations.iter().map(|s| s.to_string()).collect(), a.issues.iter().map(|s| s.to_string()).collect())
        })
        .map_err(|e| e.to_string())
}

struct Stats {
    clean: Cell<usize>,
    total: Cell<usize>,
}

fn check_case(stats: &Stats, seed: u64) -> Result<(), TestCaseError> {
    let mut rng = Rng(seed);
    let policy = Policy::generate(&mut rng);
    let mut generator = Gen { rng: Rng(rng.next()), policy: &policy, defs: 0 };
    let text = generator.rules();
    let built =
        RuleSet::builder().source("rules.narval", text.as_str()).policy_source("random.narval", policy.text()).build();
    stats.total.set(stats.total.get() + 1);
    let rules = match built {
        Ok(rules) => rules,
        Err(report) => {
            // Only policy errors may keep a generated rule set from building.
            let other: Vec<_> =
                report.diagnostics().iter().filter(|d| d.is_error() && !d.code.as_str().starts_with("E04")).collect();
            prop_assert!(other.is_empty(), "{}\n{}", text, report.render());
            return Ok(());
        }
    };
    stats.clean.set(stats.clean.get() + 1);
    let context = || format!("policy:\n{}\nrules:\n{text}", policy.text());
    for _ in 0..PROFILES {
        let p = profile(&mut rng);
        let before = assign(&rules, &p);
        prop_assert!(before.is_ok(), "a well-typed profile is assigned: {:?}\n{}", before, context());
        // (a) fields outside the allow-list.
        if policy.allow.is_some() {
            let mut changed = p.clone();
            let entries = policy.allow_entries();
            for field in TOP {
                let reached = entries.iter().any(|e| e == field || e.starts_with(&format!("{field}.")));
                if !reached {
                    anything(&mut rng, &mut changed, field);
                } else if *field == "hr" && !policy.allows("hr.y") {
                    let y = json!(rng.chance(50));
                    let record = changed["hr"].as_object_mut().unwrap();
                    record.remove("y");
                    optional(&mut rng, record, "y", y);
                } else if *field == "consent" && !policy.allows("consent.health") {
                    let health = json!(rng.chance(50));
                    let record = changed["consent"].as_object_mut().unwrap();
                    record.remove("health");
                    optional(&mut rng, record, "health", health);
                }
            }
            let after = assign(&rules, &changed);
            prop_assert_eq!(
                &before,
                &after,
                "(a) a field outside the allow-list changed the outcome\nprofile: {}\nchanged: {}\n{}",
                Json::Object(p.clone()),
                Json::Object(changed.clone()),
                context()
            );
        }
        // (b) categories without consent.
        let consents = [("health", policy.health_consent, true), ("opinion", policy.opinion_consent, false)];
        for (category, clause, optional_consent) in consents {
            if !clause {
                continue;
            }
            let mut without = p.clone();
            let consent = without["consent"].as_object_mut().unwrap();
            match rng.below(if optional_consent { 3 } else { 1 }) {
                0 => {
                    consent.insert(category.to_string(), json!(false));
                }
                1 => {
                    consent.insert(category.to_string(), Json::Null);
                }
                _ => {
                    consent.remove(category);
                }
            }
            let before = assign(&rules, &without);
            let mut changed = without.clone();
            change_category(&mut rng, &mut changed, category);
            let after = assign(&rules, &changed);
            prop_assert_eq!(
                &before,
                &after,
                "(b) `{}` data changed the outcome without consent\nprofile: {}\nchanged: {}\n{}",
                category,
                Json::Object(without.clone()),
                Json::Object(changed.clone()),
                context()
            );
        }
        // (c) categories never read.
        for category in &policy.never {
            let mut changed = p.clone();
            change_category(&mut rng, &mut changed, category);
            prop_assert_eq!(&before, &assign(&rules, &changed), "(c) `{}` was read\n{}", category, context());
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("NARVAL_POLICY_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(400)
}

#[test]
fn a_rule_set_clean_under_a_policy_never_depends_on_what_it_forbids() {
    let stats = Stats { clean: Cell::new(0), total: Cell::new(0) };
    let mut runner = TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() });
    let result = runner.run(&any::<u64>(), |seed| check_case(&stats, seed));
    if let Err(error) = result {
        panic!("{error}");
    }
    // The property says something only about clean rule sets: enough must be.
    let (clean, total) = (stats.clean.get(), stats.total.get());
    eprintln!("{clean} of {total} generated rule sets were clean");
    assert!(clean * 5 >= total, "only {clean} of {total} generated rule sets were clean");
    assert!(clean * 10 <= total * 9, "{clean} of {total} clean: the checker is never exercised");
}
