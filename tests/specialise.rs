//! The specialised conditions of `narval::eval::specialise` (what evaluation runs)
//! agree with the general evaluator, rule by rule, on every shape they
//! fuse: field against constant of every kind, `contains`, `in`, `has`,
//! `any`/`all`/`count` with filters over elements with missing fields, and
//! shared leaves. Profiles are random, with fields missing or null.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use narval::eval::engine::Engine;
use narval::eval::interpret::{Outcome, Scratch};
use narval::eval::specialise::Condition;
use narval::RuleSet;
use serde_json::{json, Value};

const RULES: &str = r#"narval 1
schema {
  b: optional bool
  i: optional int
  n: optional number
  m: optional money
  d: optional date
  s: optional string
  e: optional one of x, y, z
  tags: optional list of string
  rec: optional { flag: optional bool, level: optional int }
  items: optional list of { amount: optional money, kind: optional one of x, y, z, on: optional date, ok: optional bool }
}
solicitation streams k0, k1, k2, k3
issue streams j0

big = $10
t_b: b -> k0
t_not_b: not b and i >= 2 -> k1
t_i: i < 3 or 1 > i -> k2
t_i_eq: i == 2 and e != "x" -> k3
t_n: n between 0.5 and 2.5 and n != 1.0 -> k0
t_m: m >= big or m < $1.50 -> k1
t_d: d >= 2012-06-01 -> k2, no k3
t_s: s == "a" or s > "b" -> k0
t_s_in: s in ["a", "c"] or e in ["y", "z"] -> k1
t_tags: tags contains "p" and not (tags contains "q") -> j0
t_tags2: tags contains "p" or i in [1, 4] -> k2
t_has: has d and d < 2012-06-01 -> no k0
t_missing: m is missing -> no k1
t_rec: rec.flag and rec.level >= 1 -> k3
t_between: i between 0 and 2 or m between $1.49 and $10 -> k0
t_between2: d between 2012-05-31 and 2012-06-01 and n between 0.0 and 1.0 -> no k1
t_between3: rec.level between 1 and 1 -> j0
t_any: any(items where kind == "x" and amount >= $5) -> k0
t_all: all(items where ok) -> k1
t_all2: all(items where amount < big or on is missing) -> no k2
t_count: count(items where amount >= $5) >= 2 -> k3
t_count2: 1 < count(items) and count(items where kind != "z") < 3 -> j0
t_any2: any(items where on >= 2012-01-01 and any(tags where it == "p")) -> k2
t_shared: tags contains "p" and count(items where amount >= $5) >= 2 -> k1
"#;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    /// A value, or (one time in four) missing or null.
    fn maybe(&mut self, value: Value) -> Option<Value> {
        match self.below(8) {
            0 => None,
            1 => Some(Value::Null),
            _ => Some(value),
        }
    }
}

fn profile(rng: &mut Rng) -> Value {
    let mut p = serde_json::Map::new();
    let pick = |rng: &mut Rng, items: &[&str]| items[rng.below(items.len() as u64) as usize].to_string();
    let fields = [
        ("b", json!(rng.below(2) == 0)),
        ("i", json!(rng.below(6) as i64 - 1)),
        ("n", json!([0.5, 1.0, 2.5, 3.0, 0.0][rng.below(5) as usize])),
        ("m", json!([0.0, 1.5, 1.49, 10.0, 10.01][rng.below(5) as usize])),
        ("d", json!(pick(rng, &["2012-05-31", "2012-06-01", "2013-01-01"]))),
        ("s", json!(pick(rng, &["a", "b", "c", "bb", ""]))),
        ("e", json!(pick(rng, &["x", "y", "z"]))),
    ];
    for (name, value) in fields {
        if let Some(value) = rng.maybe(value) {
            p.insert(name.into(), value);
        }
    }
    let tags: Vec<Value> = (0..rng.below(4)).map(|_| json!(pick(rng, &["p", "q", "r"]))).collect();
    if let Some(tags) = rng.maybe(json!(tags)) {
        p.insert("tags".into(), tags);
    }
    let mut rec = serde_json::Map::new();
    let flag = json!(rng.below(2) == 0);
    if let Some(v) = rng.maybe(flag) {
        rec.insert("flag".into(), v);
    }
    let level = json!(rng.below(3));
    if let Some(v) = rng.maybe(level) {
        rec.insert("level".into(), v);
    }
    if let Some(rec) = rng.maybe(Value::Object(rec)) {
        p.insert("rec".into(), rec);
    }
    let items: Vec<Value> = (0..rng.below(5))
        .map(|_| {
            let mut item = serde_json::Map::new();
            let fields = [
                ("amount", json!([1.0, 5.0, 9.99, 10.0, 20.0][rng.below(5) as usize])),
                ("kind", json!(pick(rng, &["x", "y", "z"]))),
                ("on", json!(pick(rng, &["2011-12-31", "2012-01-01"]))),
                ("ok", json!(rng.below(3) != 0)),
            ];
            for (name, value) in fields {
                if let Some(value) = rng.maybe(value) {
                    item.insert(name.into(), value);
                }
            }
            Value::Object(item)
        })
        .collect();
    if let Some(items) = rng.maybe(json!(items)) {
        p.insert("items".into(), items);
    }
    Value::Object(p)
}

#[test]
fn specialised_tests_agree_with_the_general_evaluator() {
    let rules =
        RuleSet::builder().source("specialise.narval", RULES).build().unwrap_or_else(|r| panic!("{}", r.render()));
    // Every engine: native code (feature `jit`) whole, in part and a rule
    // to a function, the interpreter, the plain evaluator.
    let engines: Vec<(Engine, RuleSet)> =
        Engine::ALL.iter().map(|&engine| (engine, rules.with_engine(engine))).collect();
    for (engine, by) in &engines {
        assert_eq!(by.is_native(), narval::NATIVE && engine.runs_native_code(), "{engine:?}");
    }
    assert_eq!(rules.is_native(), narval::NATIVE);
    let program = rules.program();
    // The shapes are specialised, not left to the general evaluator.
    fn general(test: &Condition) -> bool {
        match test {
            Condition::And(items) | Condition::Or(items) => items.iter().any(general),
            Condition::Not(inner) => general(inner),
            // Filters may leave `it` (`any(tags where it == "p")`) to the
            // general evaluator: the element is no record.
            Condition::Node(_) => true,
            _ => false,
        }
    }
    let fused = &program.fused;
    assert!(!fused.rules.iter().chain(&fused.shared).any(general), "{:#?}", program.fused.rules);
    assert!(!program.fused.shared.is_empty(), "`tags contains \"p\"` is shared");
    let mut rng = Rng(2012);
    let mut seen = std::collections::HashSet::new();
    let (mut decoded, mut compared) = (0, 0);
    for _ in 0..5000 {
        let json = profile(&mut rng);
        let Ok(profile) = rules.decode_json(&json.to_string()) else { continue };
        decoded += 1;
        let mut outcomes: Vec<Option<Outcome>> = vec![None; program.rules.len()];
        let streams = program.run(&profile, &mut Scratch::new(program), |rule, outcome| outcomes[rule] = Some(outcome));
        let mut scratch = Scratch::new(program);
        for (rule, outcome) in outcomes.iter().enumerate() {
            let general = program.outcome(program.rules[rule].condition, &mut scratch, &profile);
            // A rule the indexes leave out is false, and not run.
            if let Some(outcome) = outcome {
                assert_eq!(*outcome, general, "rule {rule} on {json}");
                compared += 1;
            }
            seen.insert((rule, general));
        }
        assert_eq!(streams, rules.evaluate(&profile), "{json}");
        for (engine, by) in &engines {
            assert_eq!(streams, by.evaluate(&profile), "{engine:?}: {json}");
        }
    }
    assert!(decoded >= 4000, "{decoded} profiles decoded");
    assert!(compared >= decoded * program.rules.len() / 2, "{compared} outcomes compared");
    // Every rule came out true and false on some profile, most unknown too.
    for rule in 0..program.rules.len() {
        for outcome in [Outcome::True, Outcome::False] {
            assert!(seen.contains(&(rule, outcome)), "rule {rule} never {outcome:?}");
        }
    }
    let unknown = (0..program.rules.len()).filter(|r| seen.contains(&(*r, Outcome::Unknown))).count();
    assert!(unknown * 10 >= program.rules.len() * 8, "only {unknown} rules were ever unknown");
}
