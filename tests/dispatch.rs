//! The rule indexes of `narval::eval::dispatch` never change a result: on random
//! rule sets of guarded rules and random profiles, missing fields included,
//! the indexed evaluation equals the plain one that tests every rule.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use narval::eval::engine::Engine;
use proptest::prelude::*;
use proptest::test_runner::Config;

const SCHEMA: &str = r#"narval 1
schema {
  s: optional string
  e: optional one of a, b, c
  i: optional int
  m: optional money
  d: optional date
  b: optional bool
  x: optional int
  n: optional number
}
solicitation streams k0, k1, k2, k3
issue streams j0, j1
"#;

fn guard() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..4u8).prop_map(|v| format!("s == \"v{v}\"")),
        (0..4u8, 0..4u8).prop_map(|(a, b)| format!("s in [\"v{a}\", \"v{b}\"]")),
        prop::sample::select(vec!["a", "b", "c"]).prop_map(|v| format!("e == \"{v}\"")),
        (0..4i64).prop_map(|v| format!("i == {v}")),
        (0..4i64, 0..4i64).prop_map(|(a, b)| format!("{a} == i and i in [{a}, {b}]")),
        (0..3u8).prop_map(|v| format!("m == ${v}.50")),
        (1..4u8).prop_map(|v| format!("d == 2012-01-0{v}")),
        any::<bool>().prop_map(|v| format!("b == {v}")),
        // Ranges.
        (0..4i64, 0..4i64).prop_map(|(a, b)| format!("i between {a} and {b}")),
        (prop::sample::select(vec!["<", "<=", ">", ">=", "=="]), 0..4i64).prop_map(|(op, v)| format!("i {op} {v}")),
        (prop::sample::select(vec!["<", "<=", ">", ">="]), 0..4i64).prop_map(|(op, v)| format!("{v} {op} i")),
        (prop::sample::select(vec!["<", ">="]), 0..3u8).prop_map(|(op, v)| format!("m {op} ${v}.50")),
        (1..4u8, 1..4u8).prop_map(|(a, b)| format!("d between 2012-01-0{a} and 2012-01-0{b}")),
        (prop::sample::select(vec!["0.5", "1.0", "1.5"]), prop::sample::select(vec!["<", "==", ">="]))
            .prop_map(|(v, op)| format!("n {op} {v}")),
        (0..3u8).prop_map(|v| format!("n between {v}.5 and {}.0", v + 1)),
        // Not guards: an `or`, an inequality.
        (0..4u8).prop_map(|v| format!("(s == \"v{v}\" or x > 1)")),
        (0..4i64).prop_map(|v| format!("i != {v}")),
    ]
}

fn other() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["true", "x > 1", "x is missing", "not (x > 1)", "x ?? 0 < 2"]).prop_map(String::from)
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..4u8).prop_map(|k| format!("k{k}")),
        (0..4u8).prop_map(|k| format!("no k{k}")),
        (0..2u8).prop_map(|k| format!("j{k}")),
        Just("no issues".to_string()),
    ]
}

fn rule_set() -> impl Strategy<Value = String> {
    prop::collection::vec((guard(), other(), action()), 3..40).prop_map(|rules| {
        let mut text = String::from(SCHEMA);
        for (n, (guard, other, action)) in rules.iter().enumerate() {
            text.push_str(&format!("r{n}: {guard} and {other} -> {action}\n"));
        }
        text
    })
}

fn field<T: std::fmt::Debug>(name: &'static str, values: impl Strategy<Value = T>) -> impl Strategy<Value = String> {
    prop::option::of(values).prop_map(move |v| match v {
        Some(v) => format!("\"{name}\": {v:?},"),
        None => String::new(),
    })
}

fn profile() -> impl Strategy<Value = String> {
    (
        field("s", (0..5u8).prop_map(|v| format!("v{v}"))),
        field("e", prop::sample::select(vec!["a", "b", "c"])),
        field("i", 0..5i64),
        field("m", prop::sample::select(vec!["0.50", "1.50", "2.50", "3"])),
        field("d", (1..5u8).prop_map(|v| format!("2012-01-0{v}"))),
        field("b", any::<bool>()),
        field("x", 0..4i64),
        field("n", prop::sample::select(vec![0.5, 1.0, 1.5, 2.0])),
    )
        .prop_map(|(s, e, i, m, d, b, x, n)| format!("{{{s}{e}{i}{m}{d}{b}{x}{n}\"_\": 0}}"))
}

proptest! {
    #![proptest_config(Config { cases: 96, ..Config::default() })]

    #[test]
    fn indexed_and_plain_evaluation_agree(rules in rule_set(), profiles in prop::collection::vec(profile(), 40)) {
        let rules = narval::RuleSet::builder().source("r.narval", rules).build().unwrap_or_else(|r| panic!("{}", r.render()));
        let unindexed = rules.with_engine(Engine::Plain);
        for text in &profiles {
            let profile = rules.decode_json(text).unwrap();
            let indexed: Vec<usize> = rules.evaluate(&profile).iter().collect();
            let plain: Vec<usize> = unindexed.evaluate(&profile).iter().collect();
            prop_assert_eq!(indexed, plain, "profile {}", text);
        }
    }
}

/// Bands on two fields, as campaigns generate them (`support between 40
/// and 41 and age >= 30`): a range index on the first, nested indexes on
/// the second, and rules that are exactly their two guards decided without
/// evaluation; a third operand must still be evaluated.
fn two_field_bands() -> impl Strategy<Value = String> {
    let range = |field: &'static str| {
        prop_oneof![
            (0..4i64, 0..3i64).prop_map(move |(a, w)| format!("{field} between {a} and {}", a + w)),
            (prop::sample::select(vec!["<", "<=", ">", ">=", "=="]), 0..4i64)
                .prop_map(move |(op, v)| format!("{field} {op} {v}")),
        ]
    };
    let third = prop::sample::select(vec!["", " and b", " and not b", " and (b or x > 2)", " and m is missing"]);
    prop::collection::vec((range("i"), range("x"), third, action()), 3..40).prop_map(|rules| {
        let mut text = String::from(SCHEMA);
        for (n, (first, second, third, action)) in rules.iter().enumerate() {
            text.push_str(&format!("r{n}: {first} and {second}{third} -> {action}\n"));
        }
        text
    })
}

proptest! {
    #![proptest_config(Config { cases: 96, ..Config::default() })]

    #[test]
    fn nested_range_indexes_agree_with_plain_evaluation(
        rules in two_field_bands(),
        profiles in prop::collection::vec(profile(), 40),
    ) {
        let rules = narval::RuleSet::builder().source("r.narval", rules).build().unwrap_or_else(|r| panic!("{}", r.render()));
        let unindexed = rules.with_engine(Engine::Plain);
        for text in &profiles {
            let profile = rules.decode_json(text).unwrap();
            let indexed: Vec<usize> = rules.evaluate(&profile).iter().collect();
            let plain: Vec<usize> = unindexed.evaluate(&profile).iter().collect();
            prop_assert_eq!(indexed, plain, "profile {}", text);
        }
    }
}

/// The generated bands do nest, and some are decided by their guards.
#[test]
fn bands_on_two_fields_are_nested() {
    let mut text = String::from(SCHEMA);
    for n in 0..4 {
        for min in 0..5 {
            text.push_str(&format!("band{n}_{min}: n between {n}.0 and {n}.5 and i >= {min} -> k{}\n", min % 4));
        }
    }
    text.push_str("band_b: n between 1.0 and 1.5 and i >= 2 and b -> j0\n");
    let rules = narval::RuleSet::builder().source("r.narval", text).build().unwrap();
    let unindexed = rules.with_engine(Engine::Plain);
    let dispatch = rules.dispatch();
    assert_eq!(dispatch.ranges.len(), 1, "{dispatch:?}");
    let bands = &dispatch.ranges[0];
    let region = bands.region(1.2).unwrap();
    let nested = bands.nested[region].as_ref().expect("a nested index on `i`");
    assert_eq!(nested.all.len(), 6);
    assert_eq!(dispatch.exact.iter().filter(|&&e| e == 2).count(), 20);
    for (profile, streams) in [
        (r#"{"n": 1.2, "i": 2, "b": true}"#, vec![0, 1, 2, 4]),
        (r#"{"n": 1.2, "i": 2, "b": false}"#, vec![0, 1, 2]),
        (r#"{"n": 1.2, "i": 0}"#, vec![0]),
        (r#"{"n": 1.2, "b": true}"#, vec![]),
        (r#"{"n": 1.7, "i": 4}"#, vec![]),
    ] {
        let profile = rules.decode_json(profile).unwrap();
        assert_eq!(rules.evaluate(&profile).iter().collect::<Vec<_>>(), streams);
        assert_eq!(unindexed.evaluate(&profile).iter().collect::<Vec<_>>(), streams);
    }
}

/// Score bands, as campaigns generate them, go to a range index.
#[test]
fn score_bands_are_indexed_by_range() {
    let mut text = String::from(SCHEMA);
    for n in 0..40 {
        text.push_str(&format!("band{n}: n between {n}.0 and {}.0 and x > 1 -> k{}\n", n + 1, n % 4));
    }
    text.push_str("nested1: i >= 1 -> j0\nnested2: i >= 2 -> j0\nnested3: i >= 3 -> j1\n");
    let rules = narval::RuleSet::builder().source("r.narval", text).build().unwrap();
    let unindexed = rules.with_engine(Engine::Plain);
    let dispatch = rules.dispatch();
    assert_eq!(dispatch.ranges.len(), 2, "{dispatch:?}");
    let bands = dispatch.ranges.iter().find(|r| r.all.len() == 40).unwrap();
    // 12.0 is the top of band 11 and the bottom of band 12.
    let mut found: Vec<&str> =
        bands.rules_for(12.0).iter().map(|&r| rules.checked().rules[r as usize].name.as_str()).collect();
    found.sort_unstable();
    assert_eq!(found, ["band11", "band12"]);
    assert_eq!(bands.rules_for(12.5).len(), 1);
    assert_eq!(bands.rules_for(-1.0).len(), 0);
    assert_eq!(bands.rules_for(f64::NAN).len(), 40);
    let profile = rules.decode_json(r#"{"n": 12.0, "x": 2, "i": 2}"#).unwrap();
    let streams: Vec<usize> = rules.evaluate(&profile).iter().collect();
    // band11 -> k3, band12 -> k0, nested1 and nested2 -> j0 (stream 4).
    assert_eq!(streams, [0, 3, 4]);
    assert_eq!(streams, unindexed.evaluate(&profile).iter().collect::<Vec<_>>());
}

/// The index of rule `rN` in the checked order (rules are sorted by name).
fn rule_index(rules: &narval::RuleSet, n: usize) -> u32 {
    rules.checked().rules.iter().position(|r| r.name == format!("r{n}")).unwrap() as u32
}

/// The generated rule sets do use the indexes: most rules are guarded.
#[test]
fn guarded_rules_are_indexed() {
    let mut text = String::from(SCHEMA);
    for n in 0..30 {
        text.push_str(&format!("r{n}: s == \"v{}\" and x > 1 -> k{}\n", n % 5, n % 4));
    }
    text.push_str("plain: x > 2 -> j0\n");
    let rules = narval::RuleSet::builder().source("r.narval", text).build().unwrap();
    let unindexed = rules.with_engine(Engine::Plain);
    let dispatch = rules.dispatch();
    assert_eq!(dispatch.indexes.len(), 1);
    assert_eq!(dispatch.indexes[0].all.len(), 30);
    let mut filed = [3, 8, 13, 18, 23, 28].map(|n| rule_index(&rules, n));
    filed.sort_unstable();
    assert_eq!(dispatch.indexes[0].strings.get(b"v3"), Some(&filed[..]));
    for absent in [&b"v"[..], b"v3\0", b"v30", b"", b"V3"] {
        assert_eq!(dispatch.indexes[0].strings.get(absent), None, "{absent:?}");
    }
    assert_eq!(dispatch.always.len(), 1);
    let profile = rules.decode_json(r#"{"s": "v3", "x": 2}"#).unwrap();
    let streams: Vec<usize> = rules.evaluate(&profile).iter().collect();
    // r3, r8, ... fire: n % 5 == 3 gives k3, k0, k1, k2 ... all four streams.
    assert_eq!(streams, [0, 1, 2, 3]);
    assert_eq!(streams, unindexed.evaluate(&profile).iter().collect::<Vec<_>>());
}

/// A value's region by the table of a range index whose bounds are
/// integers close together is the region a search of the bounds finds:
/// integers, the values between them, beyond both ends, negative zero.
#[test]
fn the_table_of_regions_agrees_with_the_bounds() {
    let runner_config = Config { cases: 64, ..Config::default() };
    let bands = proptest::collection::vec((-30i64..30, 0i64..6, any::<bool>()), 3..24);
    let values = proptest::collection::vec(prop_oneof![-40i64..40, (-80i64..80).prop_map(|v| v * 7)], 1..40);
    proptest!(runner_config, |(bands in bands, values in values)| {
        let mut text = String::from(SCHEMA);
        for (n, (low, width, open)) in bands.iter().enumerate() {
            let op = if *open { "<" } else { "<=" };
            text.push_str(&format!("r{n}: n >= {low} and n {op} {} -> k{}\n", low + width, n % 4));
        }
        let rules = narval::RuleSet::builder().source("r.narval", text).build().unwrap();
        let index = rules.dispatch().ranges.iter().find(|r| r.all.len() == bands.len()).unwrap();
        prop_assert!(index.dense.is_some(), "integer bounds make a table");
        let searched = |value: f64| {
            let i = index.bounds.partition_point(|b| *b < value);
            if index.bounds.get(i) == Some(&value) { 2 * i + 1 } else { 2 * i }
        };
        let mut probes: Vec<f64> = vec![-0.0, 0.0, f64::MIN_POSITIVE, -f64::MIN_POSITIVE, 1e15, -1e15];
        for v in &values {
            let v = *v as f64;
            probes.extend([v, v + 0.5, v - 0.25, v + 1e-9, v - 1e-9]);
        }
        for value in probes {
            prop_assert_eq!(index.region(value), Some(searched(value)), "value {}", value);
        }
    });
}

/// The table of an equality index finds every key's rules, and nothing for
/// any other string: keys that are prefixes of each other, empty, of every
/// length around a word; probes with zero bytes too.
#[test]
fn the_string_table_finds_exactly_its_keys() {
    let runner_config = Config { cases: 64, ..Config::default() };
    let keys = proptest::collection::vec("[a-c]{0,18}", 3..60);
    let probes = proptest::collection::vec("[a-c\\x00]{0,18}", 0..60);
    proptest!(runner_config, |(keys in keys, probes in probes)| {
        let mut text = String::from(SCHEMA);
        for (n, key) in keys.iter().enumerate() {
            text.push_str(&format!("r{n}: s == {} and x > 1 -> k{}\n", serde_json::to_string(key).unwrap(), n % 4));
        }
        let rules = narval::RuleSet::builder().source("r.narval", text).build().unwrap();
        let index = &rules.dispatch().indexes[0];
        let mut distinct = keys.clone();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(index.strings.len(), distinct.len());
        for probe in keys.iter().chain(&probes) {
            let mut expected: Vec<u32> =
                (0..keys.len()).filter(|&n| keys[n] == *probe).map(|n| rule_index(&rules, n)).collect();
            expected.sort_unstable();
            let found = index.strings.get(probe.as_bytes()).map(<[u32]>::to_vec);
            prop_assert_eq!(found, (!expected.is_empty()).then_some(expected), "{:?}", probe);
        }
    });
}
