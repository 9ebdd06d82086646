//! Every construct the guide defines by an expansion means that expansion
//! (guide 7.6 to 7.9, 9 and 10.2): on random profiles, with missing and null
//! fields, ints near 2^53, money and numbers, `x between a and b` gives what
//! `a <= x and x <= b` gives, and so on, as true, false or unknown; in native
//! code and in the interpreter alike. A new construct with a documented
//! expansion belongs in [`PAIRS`], so that it cannot drift from it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::OnceLock;

use narval::RuleSet;
use proptest::prelude::*;
use serde_json::{json, Map, Value as Json};

const SCHEMA: &str = "schema {
  i: optional int
  j: optional int
  k: int
  n: optional number
  m: optional number
  a: optional money
  b: optional money
  s: optional string
  nums: optional list of int
  flags: optional list of bool
}
";

/// A construct and its expansion as the guide writes it.
const PAIRS: &[(&str, &str)] = &[
    // 10.2: `x between a and b` is `a <= x and x <= b`.
    ("i between j and n", "j <= i and i <= n"),
    ("i between n and j", "n <= i and i <= j"),
    ("i between j and k", "j <= i and i <= k"),
    ("n between m and 0.5", "m <= n and n <= 0.5"),
    ("k between i and 9007199254740992.0", "i <= k and k <= 9007199254740992.0"),
    ("k between 9007199254740993 and m", "9007199254740993 <= k and k <= m"),
    ("n between i and k", "i <= n and n <= k"),
    ("a between -2500.50 and b", "-2500.50 <= a and a <= b"),
    ("a between i and $0.30", "i <= a and a <= $0.30"),
    // 7.6, 10.2: `x in [a, b]` is `x == a or x == b`, each typed as a comparison.
    ("i in [j, 0.5, k]", "i == j or i == 0.5 or i == k"),
    ("i in [j, n, 9007199254740993]", "i == j or i == n or i == 9007199254740993"),
    ("n in [i, k]", "n == i or n == k"),
    ("k in [9007199254740993, 9007199254740992.0]", "k == 9007199254740993 or k == 9007199254740992.0"),
    ("a in [-2500.50, b, 5]", "a == -2500.50 or a == b or a == 5"),
    ("s in [\"ab\", \"\"]", "s == \"ab\" or s == \"\""),
    // 7.6: `not in` is the opposite, `contains` the same the other way round.
    ("i not in [j, 0.5]", "not (i == j or i == 0.5)"),
    ("[j, 0.5] contains i", "i == j or i == 0.5"),
    ("nums contains i", "i in nums"),
    // 10.2: nothing is a member of an empty list, even an unknown value.
    ("i in []", "false"),
    ("n not in []", "true"),
    ("i not in nums", "not (i in nums)"),
    // 7.8: `has x` is `x is not missing`; `is missing` its opposite.
    ("has i", "i is not missing"),
    ("n is missing", "not (has n)"),
    ("has nums", "not (nums is missing)"),
    // 7.9: `a ?? b` is `a` when `a` is known, and `b` otherwise.
    ("(i ?? j) == k", "(has i and i == k) or (i is missing and j == k)"),
    ("(a ?? $5) > b", "(has a and a > b) or (a is missing and $5 > b)"),
    ("((i / j) ?? 7) == k", "((i / j) is not missing and i / j == k) or ((i / j) is missing and 7 == k)"),
    // 8.2: a negative decimal is an amount beside money.
    ("a > -2500.50", "a > -$2500.50"),
    ("a + 0.30 == -(-(0.60))", "a + $0.30 == $0.60"),
    // 9: any is false on an empty list, all is true; 10.2: three-valued.
    ("any(nums where it > i)", "count(nums) > 0 and not all(nums where not (it > i))"),
    ("all(nums where it >= j)", "not any(nums where not (it >= j))"),
    ("any(flags)", "any(flags where it)"),
    ("all(flags)", "not any(flags where not it)"),
    ("count(nums where it > i) == 0", "not any(nums where it > i)"),
    // 9: on an empty list, `count` and `sum` are 0, `min`, `max` and `avg` unknown.
    ("count(nums) > 0 or sum(nums) == 0", "count(nums) > 0 or count(nums) == 0"),
    ("count(nums where it > i) > 0 or sum(nums where it > i) == 0", "count(nums where it > i) >= 0"),
    ("count(nums) > 0 or (min(nums) is missing and count(nums) == 0)", "count(nums) >= 0"),
    ("count(nums) > 0 or (max(nums) is missing and count(nums) == 0)", "count(nums) >= 0"),
    ("count(nums) > 0 or (avg(nums) is missing and count(nums) == 0)", "count(nums) >= 0"),
];

/// One rule set holding every construct and its expansion, each as two
/// rules (`c3: X -> c3_true`, `c3_not: not (X) -> c3_false`), so that the
/// streams assigned tell true, false and unknown apart.
fn source() -> String {
    let mut streams = Vec::new();
    let mut rules = String::new();
    for (index, (construct, expansion)) in PAIRS.iter().enumerate() {
        for (side, text) in [("c", construct), ("e", expansion)] {
            let name = format!("{side}{index}");
            streams.push(format!("{name}_true, {name}_false"));
            rules.push_str(&format!("{name}: {text} -> {name}_true\n{name}_not: not ({text}) -> {name}_false\n"));
        }
    }
    format!("narval 1\n{SCHEMA}solicitation streams {}\n{rules}", streams.join(", "))
}

fn rules(native: bool) -> &'static RuleSet {
    static NATIVE: OnceLock<RuleSet> = OnceLock::new();
    static INTERPRETED: OnceLock<RuleSet> = OnceLock::new();
    let (cell, builder) = match native {
        true => (&NATIVE, RuleSet::builder()),
        false => (&INTERPRETED, RuleSet::builder().interpreted()),
    };
    cell.get_or_init(|| {
        builder.source("expansions.narval", source()).build().unwrap_or_else(|report| panic!("{}", report.render()))
    })
}

/// What the rule `name` says: `Some(true)`, `Some(false)` or unknown.
fn says(solicitations: &[&str], name: &str) -> Option<bool> {
    let has = |suffix: &str| solicitations.iter().any(|s| *s == format!("{name}_{suffix}").as_str());
    match (has("true"), has("false")) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        (false, false) => None,
        (true, true) => panic!("`{name}` is both true and false"),
    }
}

const NEAR_2_53: [i64; 7] = [9_007_199_254_740_991, 9_007_199_254_740_992, 9_007_199_254_740_993, 0, -1, 5, 7];

fn int() -> impl Strategy<Value = Json> {
    proptest::sample::select(NEAR_2_53.to_vec()).prop_map(Json::from)
}

fn number() -> impl Strategy<Value = Json> {
    let numbers = vec![9_007_199_254_740_992.0, 9_007_199_254_740_994.0, 0.5, 5.0, -1.0, 0.0, 7.0];
    proptest::sample::select(numbers).prop_map(Json::from)
}

fn money() -> impl Strategy<Value = Json> {
    let amounts =
        vec![json!(0.1 + 0.2), json!(-2500.5), json!(2500.5), json!(5), json!("12.50"), json!(0.6), json!(-0.3)];
    proptest::sample::select(amounts)
}

fn string() -> impl Strategy<Value = Json> {
    proptest::sample::select(vec!["", "ab", "abc", "b"]).prop_map(Json::from)
}

/// A field's value, or `None` for a missing field, or JSON `null`.
fn optional(value: impl Strategy<Value = Json>) -> impl Strategy<Value = Option<Json>> {
    prop_oneof![1 => Just(None), 1 => Just(Some(Json::Null)), 4 => value.prop_map(Some)]
}

fn list(value: impl Strategy<Value = Json>) -> impl Strategy<Value = Json> {
    proptest::collection::vec(value, 0..4).prop_map(Json::Array)
}

prop_compose! {
    fn profile()(
        i in optional(int()), j in optional(int()), k in int(),
        n in optional(number()), m in optional(number()),
        a in optional(money()), b in optional(money()), s in optional(string()),
        nums in optional(list(int())), flags in optional(list(any::<bool>().prop_map(Json::from))),
    ) -> Json {
        let mut object = Map::new();
        object.insert("k".into(), k);
        let fields = [("i", i), ("j", j), ("n", n), ("m", m), ("a", a), ("b", b), ("s", s), ("nums", nums), ("flags", flags)];
        for (name, value) in fields {
            if let Some(value) = value {
                object.insert(name.into(), value);
            }
        }
        Json::Object(object)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_construct_means_its_expansion(profile in profile()) {
        prop_assert_eq!(rules(true).is_native(), narval::NATIVE);
        prop_assert!(!rules(false).is_native());
        let native = rules(true).assign_value(&profile).unwrap().solicitations;
        let interpreted = rules(false).assign_value(&profile).unwrap().solicitations;
        prop_assert_eq!(&native, &interpreted, "native code and the interpreter disagree on {}", profile);
        for (index, (construct, expansion)) in PAIRS.iter().enumerate() {
            let (said, meant) = (says(&native, &format!("c{index}")), says(&native, &format!("e{index}")));
            prop_assert_eq!(said, meant, "`{}` is not `{}` on {}", construct, expansion, profile);
        }
    }
}

/// The property can fail: a construct beside something else than its
/// expansion is told apart on some profile.
#[test]
fn the_property_tells_constructs_apart() {
    let profile = json!({ "k": 5, "i": 5 });
    let rules = RuleSet::builder()
        .source("t.narval", format!("narval 1\n{SCHEMA}solicitation streams x_true, x_false\nx: has i -> x_true\nx_not: not (has i) -> x_false\n"))
        .build()
        .unwrap();
    let solicitations = rules.assign_value(&profile).unwrap().solicitations;
    assert_eq!(says(&solicitations, "x"), Some(true));
    assert_eq!(says(&rules.assign_value(&json!({ "k": 5 })).unwrap().solicitations, "x"), Some(false));
    assert_eq!(says(&rules.assign_value(&json!({ "k": 5, "i": null })).unwrap().solicitations, "x"), Some(false));
}
