//! Every operator of the language, one case a line, through the public API.
//!
//! `give(profile, expr, truth)` builds a rule set from [`SCHEMA`] and three
//! rules, evaluates it on [`BASE`] with `profile`'s fields put over it, and
//! reads the three-valued truth of `expr` off the streams assigned:
//!
//! ```text
//! yes: EXPR -> t                # assigns only when EXPR is true
//! base_rule: true -> base
//! nope: EXPR -> no base         # suppresses when EXPR is true or unknown
//! ```
//!
//! so `t` means true, neither stream means unknown and `base` alone means
//! false. Values that are not conditions are tested through comparisons.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use narval::{Assignment, ProfileError, RuleSet};
use serde::Serialize;
use serde_json::{json, Value};

use Truth::{False, True, Unknown};

/// Optional and required fields of every type. `opt_*`, `p` and `q` are
/// optional; [`BASE`] leaves them all missing.
const SCHEMA: &str = r#"
schema {
  p: optional bool
  q: optional bool
  flag: bool
  age: int
  opt_age: optional int
  score: number
  opt_score: optional number
  amount: money
  opt_amount: optional money
  name: string
  opt_name: optional string
  born: date
  opt_date: optional date
  party: one of dem, rep, ind
  opt_party: optional one of dem, rep, ind
  address: { city: string, zip: optional string }
  opt_address: optional { city: string }
  tags: list of string
  opt_tags: optional list of string
  nums: list of int
  scores: list of number
  votes: list of bool
  donations: list of {
    amount: money
    context: one of rally, debate, online
    date: date
    fee: optional money
    note: optional string
  }
  opt_donations: optional list of { amount: money }
}
"#;

/// Every required field; the donations add up to $375.50.
const BASE: &str = r#"{
  "flag": true,
  "age": 40,
  "score": 2.5,
  "amount": "250.50",
  "name": "Ada Lovelace",
  "born": "1972-03-15",
  "party": "ind",
  "address": {"city": "Columbus"},
  "tags": ["jobs", "healthcare"],
  "nums": [3, 1, 2],
  "scores": [0.5, 1.5],
  "votes": [true, false],
  "donations": [
    {"amount": 100, "context": "rally", "date": "2012-05-01"},
    {"amount": "250.50", "context": "debate", "date": "2012-07-04"},
    {"amount": 25, "context": "online", "date": "2012-09-30"}
  ]
}"#;

const TODAY: &str = "2012-10-01";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Truth {
    True,
    False,
    Unknown,
}

/// [`BASE`] with the top-level fields of `overrides` put over it.
fn with(overrides: &str) -> String {
    let mut profile: Value = serde_json::from_str(BASE).unwrap();
    let Value::Object(extra) = serde_json::from_str::<Value>(overrides).unwrap() else {
        panic!("overrides must be a JSON object: {overrides}")
    };
    for (key, value) in extra {
        profile[key] = value;
    }
    profile.to_string()
}

/// [`BASE`] without one field.
fn without(field: &str) -> String {
    let mut profile: Value = serde_json::from_str(BASE).unwrap();
    profile.as_object_mut().unwrap().remove(field);
    profile.to_string()
}

/// Overrides with donations of these amounts, all at a rally.
fn gifts(amounts: &str) -> String {
    let amounts: Vec<Value> = serde_json::from_str(amounts).unwrap();
    let donations: Vec<Value> =
        amounts.into_iter().map(|amount| json!({"amount": amount, "context": "rally", "date": "2012-01-01"})).collect();
    json!({ "donations": donations }).to_string()
}

/// Overrides with $1 donations bearing these notes (`null`: no note).
fn notes(notes: &str) -> String {
    let notes: Vec<Value> = serde_json::from_str(notes).unwrap();
    let donations: Vec<Value> = notes
        .into_iter()
        .map(|note| json!({"amount": 1, "context": "rally", "date": "2012-01-01", "note": note}))
        .collect();
    json!({ "donations": donations }).to_string()
}

fn rule_set(definitions: &str, rules: &str) -> RuleSet {
    RuleSet::builder()
        .source("t.narval", format!("narval 1\n{SCHEMA}\n{definitions}\n{rules}\n"))
        .today(TODAY.parse().unwrap())
        .build()
        .unwrap_or_else(|report| panic!("rule set refused:\n{}", report.render()))
}

#[track_caller]
fn give(overrides: &str, expr: &str, expected: Truth) {
    give_with("", overrides, expr, expected);
}

/// [`give`] with definitions in the rule set.
#[track_caller]
fn give_with(definitions: &str, overrides: &str, expr: &str, expected: Truth) {
    let rules = rule_set(
        definitions,
        &format!("solicitation streams t, base\nyes: {expr} -> t\nbase_rule: true -> base\nnope: {expr} -> no base"),
    );
    let assignment = rules.assign_json(&with(overrides)).unwrap_or_else(|e| panic!("profile {overrides} refused: {e}"));
    let truth = match (assignment.solicitations.contains(&"t"), assignment.solicitations.contains(&"base")) {
        (true, false) => True,
        (false, true) => False,
        (false, false) => Unknown,
        (true, true) => panic!("`{expr}` assigned but did not suppress"),
    };
    assert_eq!(truth, expected, "`{expr}` on {overrides}");
}

/// The streams `rules` give a profile, over two kinds of streams declared
/// in an order that is neither alphabetical nor the order of the rules.
#[track_caller]
fn route(rules: &str, overrides: &str, solicitations: &[&str], issues: &[&str]) {
    let rules = rule_set("", &format!("solicitation streams c, a, b\nissue streams j, i\n{rules}"));
    let assignment = rules.assign_json(&with(overrides)).unwrap();
    assert_eq!(
        assignment,
        Assignment { solicitations: solicitations.to_vec(), issues: issues.to_vec() },
        "on {overrides}"
    );
}

/// A profile is refused; the message says every part of `says` and never
/// the offending value `secret`.
#[track_caller]
fn rejects(profile: &str, says: &[&str], secret: &str) {
    // The decoder checks the fields the rules read, so this rule reads them all.
    let fields = ["p", "q", "flag", "age", "opt_age", "score", "opt_score", "amount", "opt_amount", "name"];
    let more = ["opt_name", "born", "opt_date", "party", "opt_party", "address", "opt_address", "tags", "opt_tags"];
    let last = ["nums", "scores", "votes", "donations", "opt_donations"];
    let reads: Vec<String> = fields.iter().chain(&more).chain(&last).map(|f| format!("has {f}")).collect();
    let rules = rule_set("", &format!("solicitation streams t\nr: {} -> t", reads.join(" or ")));
    let message = match rules.assign_json(profile) {
        Ok(assignment) => panic!("accepted {profile}: {assignment:?}"),
        Err(error) => error.to_string(),
    };
    for part in says {
        assert!(message.contains(part), "`{message}` should say `{part}`");
    }
    assert!(secret.is_empty() || !message.contains(secret), "`{message}` leaks `{secret}`");
}

/// The checker refuses `expr` with a diagnostic of code `code`.
#[track_caller]
fn refuses(expr: &str, code: &str) {
    let built = RuleSet::builder()
        .source("t.narval", format!("narval 1\n{SCHEMA}\nsolicitation streams t\nyes: {expr} -> t\n"))
        .today(TODAY.parse().unwrap())
        .build();
    match built {
        Ok(_) => panic!("`{expr}` was accepted"),
        Err(report) => {
            assert!(
                report.diagnostics().iter().any(|d| d.code.as_str() == code),
                "`{expr}`: no {code} in\n{}",
                report.render()
            );
        }
    }
}

// ---- three-valued logic -----------------------------------------------------

#[test]
fn and_is_kleene() {
    give(r#"{"p": true, "q": true}"#, "p and q", True);
    give(r#"{"p": true, "q": false}"#, "p and q", False);
    give(r#"{"p": true}"#, "p and q", Unknown);
    give(r#"{"p": false, "q": true}"#, "p and q", False);
    give(r#"{"p": false, "q": false}"#, "p and q", False);
    give(r#"{"p": false}"#, "p and q", False);
    give(r#"{"q": true}"#, "p and q", Unknown);
    give(r#"{"q": false}"#, "p and q", False);
    give("{}", "p and q", Unknown);
}

#[test]
fn or_is_kleene() {
    give(r#"{"p": true, "q": true}"#, "p or q", True);
    give(r#"{"p": true, "q": false}"#, "p or q", True);
    give(r#"{"p": true}"#, "p or q", True);
    give(r#"{"p": false, "q": true}"#, "p or q", True);
    give(r#"{"p": false, "q": false}"#, "p or q", False);
    give(r#"{"p": false}"#, "p or q", Unknown);
    give(r#"{"q": true}"#, "p or q", True);
    give(r#"{"q": false}"#, "p or q", Unknown);
    give("{}", "p or q", Unknown);
}

#[test]
fn not_is_kleene() {
    give(r#"{"p": true}"#, "not p", False);
    give(r#"{"p": false}"#, "not p", True);
    give("{}", "not p", Unknown);
    give("{}", "not not p", Unknown);
}

#[test]
fn null_is_missing() {
    give(r#"{"p": null}"#, "p", Unknown);
    give(r#"{"p": null}"#, "not p", Unknown);
    give(r#"{"p": null, "q": false}"#, "p and q", False);
    give(r#"{"p": null, "q": true}"#, "p and q", Unknown);
    give(r#"{"p": null, "q": true}"#, "p or q", True);
    give(r#"{"p": null, "q": false}"#, "p or q", Unknown);
    give(r#"{"p": true}"#, "p", True);
    give(r#"{"p": false}"#, "p", False);
}

#[test]
fn precedence() {
    give(r#"{"p": true, "q": false}"#, "not p and q", False);
    give(r#"{"p": true, "q": true}"#, "p or q and false", True);
    give(r#"{"p": false, "q": true}"#, "not p and q", True);
    give("{}", "not age == 40", False);
    give("{}", "1 + 2 * 3 == 7", True);
    give("{}", "age - 10 - 10 == 20", True);
    give("{}", "age / 4 / 2 == 5", True);
    give("{}", "-age + 50 == 10", True);
    give("{}", "(age + 2) * 2 == 84", True);
    give("{}", "opt_age ?? 1 + 1 == 2", True);
    give(r#"{"opt_age": 5}"#, "opt_age ?? 1 + 1 == 2", False);
}

// ---- comparisons ------------------------------------------------------------

#[test]
fn comparisons_of_int() {
    give("{}", "age == 40", True);
    give("{}", "age != 40", False);
    give("{}", "age < 41", True);
    give("{}", "age < 40", False);
    give("{}", "age <= 40", True);
    give("{}", "age > 40", False);
    give("{}", "age >= 40", True);
    give("{}", "age >= 41", False);
    give("{}", "41 > age", True);
}

#[test]
fn comparisons_of_number() {
    give("{}", "score == 2.5", True);
    give("{}", "score != 2.5", False);
    give("{}", "score < 2.51", True);
    give("{}", "score <= 2.5", True);
    give("{}", "score > 2.5", False);
    give("{}", "score >= 2.49", True);
    give("{}", "0.1 + 0.2 == 0.3", False);
}

#[test]
fn comparisons_of_money() {
    give("{}", "amount == $250.50", True);
    give("{}", "amount != $250.50", False);
    give("{}", "amount < $250.51", True);
    give("{}", "amount <= $250.49", False);
    give("{}", "amount > $250.49", True);
    give("{}", "amount >= $250.50", True);
    give("{}", "amount >= 250.5", True);
    give("{}", "amount > 250.5", False);
    give("{}", "250.51 > amount", True);
    give("{}", "amount == 250.50", True);
    give("{}", "$2500 == 2500", True);
    give("{}", "$2_500 == 2500", True);
    give("{}", "$12.50 == 12.5", True);
    give("{}", "amount - $238 == $12.50", True);
}

#[test]
fn comparisons_of_string_by_bytes() {
    give("{}", r#"name == "Ada Lovelace""#, True);
    give("{}", r#"name != "Ada Lovelace""#, False);
    give("{}", r#"name == "ada lovelace""#, False);
    give("{}", r#"name < "Bob""#, True);
    give("{}", r#"name > "Ada""#, True);
    give("{}", r#"name <= "Ada""#, False);
    give(r#"{"name": "Zed"}"#, r#"name < "ada""#, True);
    give(r#"{"name": ""}"#, r#"name >= """#, True);
    give(r#"{"name": "say \"hi\"\n"}"#, r#"name == "say \"hi\"\n""#, True);
}

#[test]
fn comparisons_of_date() {
    give("{}", "born == 1972-03-15", True);
    give("{}", "born != 1972-03-15", False);
    give("{}", "born < 1980-01-01", True);
    give("{}", "born <= 1972-03-14", False);
    give("{}", "born > 1972-03-14", True);
    give("{}", "born >= 1972-03-16", False);
    give("{}", "born < today", True);
}

#[test]
fn comparisons_of_enum() {
    give("{}", r#"party == "ind""#, True);
    give("{}", r#"party == "dem""#, False);
    give("{}", r#"party != "dem""#, True);
    give("{}", r#""ind" == party"#, True);
    give(r#"{"opt_party": "rep"}"#, r#"opt_party == "rep""#, True);
}

#[test]
fn int_widens_to_number_and_money() {
    give("{}", "age == 40.0", True);
    give("{}", "age < 40.5", True);
    give("{}", "score > 2", True);
    give("{}", "score < 3", True);
    give(r#"{"score": 40}"#, "score == age", True);
    give("{}", "amount > 250", True);
    give("{}", "amount < 251", True);
    give("{}", "amount == 250", False);
    give(r#"{"amount": 40}"#, "amount == age", True);
    give("{}", "age == $40", True);
}

#[test]
fn comparisons_with_a_missing_operand_are_unknown() {
    give("{}", "opt_age == 1", Unknown);
    give("{}", "opt_age != 1", Unknown);
    give("{}", "opt_age < 1", Unknown);
    give("{}", "1 <= opt_age", Unknown);
    give("{}", "opt_age > age", Unknown);
    give("{}", "opt_age >= 0", Unknown);
    give("{}", "opt_age == opt_age", Unknown);
    give("{}", "opt_score > 0", Unknown);
    give("{}", "opt_amount >= 0", Unknown);
    give("{}", "opt_amount == $0", Unknown);
    give("{}", r#"opt_name == """#, Unknown);
    give("{}", r#"opt_name != "x""#, Unknown);
    give("{}", "opt_date < 2012-01-01", Unknown);
    give("{}", r#"opt_party == "dem""#, Unknown);
    give("{}", r#"opt_party != "dem""#, Unknown);
    give("{}", r#"opt_address.city == "Columbus""#, Unknown);
    give("{}", r#"address.zip == "43004""#, Unknown);
}

// ---- arithmetic ---------------------------------------------------------------

#[test]
fn arithmetic_on_int() {
    give("{}", "age + 1 == 41", True);
    give("{}", "age + 1 == 40", False);
    give("{}", "age - 50 == -10", True);
    give("{}", "age * 2 == 80", True);
    give("{}", "-age == -40", True);
    give("{}", "opt_age + 1 == 1", Unknown);
    give("{}", "-opt_age == 0", Unknown);
    give(r#"{"opt_age": -9223372036854775808}"#, "-opt_age > 0", Unknown);
}

#[test]
fn int_division_gives_a_number() {
    give("{}", "7 / 2 == 3.5", True);
    give("{}", "age / 16 == 2.5", True);
    give("{}", "age / 16 == 2", False);
    give("{}", "age / 8 == 5", True);
    give("{}", "age / 3 > 13.33 and age / 3 < 13.34", True);
}

#[test]
fn arithmetic_on_number() {
    give("{}", "score + 1 == 3.5", True);
    give("{}", "score - 0.5 == 2", True);
    give("{}", "score * 2 == 5", True);
    give("{}", "score / 2 == 1.25", True);
    give("{}", "score + age == 42.5", True);
    give("{}", "-score < 0", True);
    give("{}", "opt_score * 2 > 0", Unknown);
}

#[test]
fn arithmetic_on_money() {
    give("{}", "amount + $0.50 == $251", True);
    give("{}", "amount + 1 == $251.50", True);
    give("{}", "amount - 0.5 == $250", True);
    give("{}", "amount * 2 == $501", True);
    give("{}", "3 * amount == $751.50", True);
    give("{}", "amount * -1 == -amount", True);
    give("{}", "-amount == -$250.50", True);
    give("{}", "amount / $125.25 == 2", True);
    give("{}", "opt_amount * 2 > 0", Unknown);
}

#[test]
fn money_divided_by_int_rounds_half_away_from_zero() {
    give("{}", "amount / 4 == $62.63", True);
    give("{}", "-amount / 4 == -$62.63", True);
    give("{}", "amount / -4 == -$62.63", True);
    give("{}", "amount / 7 == $35.79", True);
    give("{}", "amount / 8 == $31.31", True);
    give("{}", "amount / 3 == $83.50", True);
    give("{}", "amount / 100 == $2.51", True);
    give(r#"{"amount": "0.01"}"#, "amount / 3 == $0", True);
    give(r#"{"amount": "0.01"}"#, "amount / 2 == $0.01", True);
}

#[test]
fn conversions() {
    give("{}", "number(age) == 40.0", True);
    give("{}", "number(amount) == 250.5", True);
    give("{}", "money(age) == $40", True);
    give("{}", "money(score) == $2.50", True);
    give("{}", "money(9223372036854775807) > $0", Unknown);
    // The number itself is rounded to the nearest cent, halves away from
    // zero: 0.125 is a half, but 1.115 is the double 1.11499999999999999…
    give(r#"{"score": 0.125}"#, "money(score) == $0.13", True);
    give(r#"{"score": -0.125}"#, "money(score) == -$0.13", True);
    give(r#"{"score": 1.115}"#, "money(score) == $1.11", True);
    give(r#"{"score": 2.675}"#, "money(score) == $2.67", True);
    // Any number within the range of cents converts, exactly.
    give(r#"{"score": 1e16}"#, "money(score) == $10000000000000000", True);
    give(r#"{"score": 9.2e16}"#, "money(score) == $92000000000000000", True);
    give(r#"{"score": 9.3e16}"#, "money(score) > $0", Unknown);
    give(r#"{"score": 1.5e308}"#, "money(score) > $0", Unknown);
}

#[test]
fn division_by_zero_is_unknown() {
    give("{}", "age / 0 == 0", Unknown);
    give("{}", "age / (age - 40) > 0", Unknown);
    give("{}", "score / 0 > 0", Unknown);
    give("{}", "score / (age - 40) < 0", Unknown);
    give("{}", "amount / 0 == $0", Unknown);
    give("{}", "amount / (age - 40) == $0", Unknown);
    give("{}", "amount / $0 > 0", Unknown);
    give("{}", "(age / 0) is missing", True);
    give("{}", "(1 / 0) is missing", True);
}

#[test]
fn overflow_is_unknown_not_a_wrap() {
    give("{}", "9223372036854775807 + 1 > 0", Unknown);
    give("{}", "9223372036854775807 + 0 > 0", True);
    give("{}", "9223372036854775807 + 1 ?? 5 == 5", True);
    give("{}", "age + 9223372036854775807 > 0", Unknown);
    give("{}", "age + 9223372036854775807 < 0", Unknown);
    give("{}", "0 - age - 9223372036854775807 < 0", Unknown);
    give("{}", "age * 1000000000000000000 > 0", Unknown);
    give("{}", "amount * 9223372036854775807 > $0", Unknown);
    give("{}", "amount < 92233720368547758", True);
    give("{}", "amount < 92233720368547759", Unknown);
    give(r#"{"nums": [9223372036854775807, 1]}"#, "sum(nums) > 0", Unknown);
    // A sum is its total, a mean is a mean: the order of the elements and
    // the size of partial sums never matter.
    give(r#"{"nums": [9223372036854775807, 1, -1]}"#, "sum(nums) == 9223372036854775807", True);
    give(r#"{"nums": [9223372036854775807, -1, 1]}"#, "sum(nums) == 9223372036854775807", True);
    give(r#"{"nums": [9223372036854775807, 9223372036854775807]}"#, "avg(nums) > 9000000000000000000.0", True);
    give(&gifts("[92233720368547758, 1, -1]"), "sum(donations.amount) == $92233720368547758", True);
    give(&gifts("[92233720368547758, 92233720368547758]"), "avg(donations.amount) == $92233720368547758", True);
    give(&gifts(r#"["-92233720368547758.08", "-0.01"]"#), "sum(donations.amount) < $0", Unknown);
    give(r#"{"score": 1.5e308}"#, "score * 2 > 0", Unknown);
}

#[test]
fn dates_move_by_days_and_weeks() {
    give("{}", "born + 10 days == 1972-03-25", True);
    give("{}", "born + 1 day == 1972-03-16", True);
    give("{}", "born - 2 weeks == 1972-03-01", True);
    give("{}", "born + 1 week == 1972-03-22", True);
    give("{}", "born - 15 days == 1972-02-29", True);
    give("{}", "2 days + born == 1972-03-17", True);
    give("{}", "born + (1 week + 2 days) == 1972-03-24", True);
    give("{}", "born - 1972-03-01 == 14", True);
    give("{}", "1972-03-01 - born == -14", True);
    give("{}", "born + 3000000 days > born", Unknown);
    give("{}", "born - 1000000 days < born", Unknown);
    give("{}", "opt_date + 1 day > born", Unknown);
    give("{}", "opt_date - born > 0", Unknown);
}

#[test]
fn today_is_set_by_the_caller() {
    give("{}", "today == 2012-10-01", True);
    give("{}", "today == 2012-10-02", False);
    give("{}", "today - 7 days == 2012-09-24", True);
    give("{}", "today - born == 14810", True);
    give("{}", "born < today - 40 weeks", True);
    give("{}", "(today - born) / 365 > 40", True);
}

// ---- between, in, text --------------------------------------------------------

#[test]
fn between_is_inclusive() {
    give("{}", "age between 40 and 50", True);
    give("{}", "age between 30 and 40", True);
    give("{}", "age between 41 and 50", False);
    give("{}", "age between 30 and 39", False);
    give("{}", "age between 50 and 30", False);
    give("{}", "not age between 41 and 50", True);
    give("{}", "age between 30 + 10 and 50", True);
    give("{}", "score between 2 and 2.5", True);
    give("{}", "amount between 250 and 250.5", True);
    give("{}", "amount between $250.51 and $300", False);
    give("{}", "born between 1972-03-15 and today", True);
    give("{}", r#"name between "A" and "B""#, True);
    give("{}", "today - born between 14000 and 15000", True);
    give(r#"{"p": false}"#, "age between 30 and 50 and p", False);
    give(r#"{"p": true}"#, "age between 30 and 50 and p", True);
}

#[test]
fn between_with_missing_data() {
    give("{}", "opt_age between 1 and 100", Unknown);
    give("{}", "age between opt_age and 50", Unknown);
    give("{}", "age between 30 and opt_age", Unknown);
    give("{}", "age between opt_age and 30", False);
    give("{}", "age between 50 and opt_age", False);
}

/// `x between a and b` is `a <= x and x <= b`, each comparison typed on its
/// own: an int beside an int stays exact beyond 2^53 (where doubles skip
/// odd numbers), whatever the other bound is.
#[test]
fn between_is_its_expansion() {
    let at_2_53 = r#"{"age": 9007199254740992, "opt_age": 9007199254740993}"#;
    give(at_2_53, "age between 9007199254740993 and 9007199254740994.0", False);
    give(at_2_53, "9007199254740993 <= age and age <= 9007199254740994.0", False);
    give(at_2_53, "age between opt_age and opt_score", False);
    give(at_2_53, "age between 9007199254740993 and opt_score", False);
    give(at_2_53, "age between 9007199254740991 and opt_score", Unknown);
    give(at_2_53, "age between 9007199254740992 and 9007199254740992.5", True);
    give(at_2_53, "opt_age between 9007199254740992.0 and 9007199254740992", False);
    give("{}", "amount between -250.50 and 250.50", True);
}

/// `x in [a, b]` is `x == a or x == b`, each comparison typed on its own.
#[test]
fn in_is_its_expansion() {
    let at_2_53 = r#"{"age": 9007199254740992, "opt_age": 9007199254740993}"#;
    give(at_2_53, "age in [9007199254740993, 0.5]", False);
    give(at_2_53, "age == 9007199254740993 or age == 0.5", False);
    give(at_2_53, "age in [opt_age, 0.5]", False);
    give(at_2_53, "age not in [9007199254740993, 0.5]", True);
    give(at_2_53, "age in [9007199254740992, 0.5]", True);
    give(at_2_53, "age in [opt_score, 9007199254740993]", Unknown);
    give(at_2_53, "[9007199254740993, 0.5] contains age", False);
    give(r#"{"score": 40}"#, "score in [age, 0.5]", True);
}

/// Unary minus works on every literal, beside money too.
#[test]
fn a_negative_decimal_is_an_amount_beside_money() {
    give("{}", "amount > -2500.50", True);
    give("{}", "amount > 2500.50", False);
    give("{}", "amount > -$2500.50", True);
    give(r#"{"amount": -2500.50}"#, "amount == -2500.50", True);
    give(r#"{"amount": -2500.50}"#, "amount == -(-(-2500.50))", True);
    give(r#"{"amount": -2500.50}"#, "amount in [-2500.50, 7]", True);
    give(r#"{"amount": -2500.50}"#, "amount between -2500.50 and -2500.5", True);
    give("{}", "amount - 250.50 == -0.0", True);
    refuses("amount > -2500.505", "E0202");
    refuses("amount > -score", "E0202");
}

#[test]
fn in_a_list_literal() {
    give("{}", r#"name in ["Ada Lovelace", "Bob"]"#, True);
    give("{}", r#"name in ["Bob"]"#, False);
    give("{}", r#"name not in ["Bob"]"#, True);
    give("{}", r#"name not in ["Bob", "Ada Lovelace"]"#, False);
    give("{}", "age in [1, 40]", True);
    give("{}", "age in [1, 41]", False);
    give("{}", "age not in [1, 40]", False);
    give("{}", r#"party in ["dem", "ind"]"#, True);
    give("{}", r#"party in ["dem", "rep"]"#, False);
    give("{}", r#"party not in ["dem", "rep"]"#, True);
    give("{}", "score in [2.5, 3]", True);
    give("{}", "age in [2.5, 40]", True);
    give("{}", "amount in [$250.50, 100]", True);
    give("{}", "amount in [250, 100]", False);
    // Beside money, an int and a decimal exact in cents are both amounts.
    give("{}", "amount in [250.5, 100]", True);
    give("{}", "amount in [100, 250.50]", True);
    give("{}", "amount not in [age, 2.5]", True);
    give("{}", "[250.5, age] contains amount", True);
    give_with("mixed = [100, 250.50]", "{}", "amount in mixed", True);
    give_with("mixed = [100, 250.50]", "{}", "score in mixed", False);
    give("{}", "born in [1972-03-15, 2000-01-01]", True);
    give("{}", "flag in [true]", True);
    give("{}", "age in [age - 1, age + 1]", False);
}

#[test]
fn nothing_is_in_an_empty_list() {
    give("{}", "age in []", False);
    give("{}", "party in []", False);
    give("{}", "age not in []", True);
    give("{}", "score in []", False);
    give("{}", "name in []", False);
    give("{}", "name not in []", True);
    give("{}", "opt_name in []", False);
}

#[test]
fn in_a_list_literal_with_missing_data() {
    give("{}", r#"opt_name in ["x"]"#, Unknown);
    give("{}", r#"opt_name not in ["x"]"#, Unknown);
    give("{}", r#"opt_party in ["dem", "rep", "ind"]"#, Unknown);
    give("{}", "opt_age in [1, 2]", Unknown);
    give("{}", "age in [opt_age, 40]", True);
    give("{}", "age in [opt_age, 41]", Unknown);
    give("{}", "age not in [opt_age, 41]", Unknown);
    give("{}", "age not in [opt_age, 40]", False);
    give("{}", "opt_age in [age, 1]", Unknown);
}

#[test]
fn in_and_contains_on_a_list_field() {
    give("{}", r#""jobs" in tags"#, True);
    give("{}", r#""guns" in tags"#, False);
    give("{}", r#""jobs" not in tags"#, False);
    give("{}", r#""guns" not in tags"#, True);
    give("{}", r#"tags contains "healthcare""#, True);
    give("{}", r#"tags contains "health""#, False);
    give(r#"{"tags": []}"#, r#""jobs" in tags"#, False);
    // Nothing is a member of an empty list, not even an unknown value.
    give(r#"{"tags": []}"#, "opt_name in tags", False);
    give(r#"{"tags": []}"#, "opt_name not in tags", True);
    give("{}", "2 in nums", True);
    give("{}", "nums contains 4", False);
    give("{}", "1.5 in scores", True);
    give("{}", "2 in scores", False);
    give(r#"{"opt_name": "jobs"}"#, "opt_name in tags", True);
    give("{}", "opt_name in tags", Unknown);
    give("{}", "nums contains opt_age", Unknown);
    give("{}", r#""jobs" in opt_tags"#, Unknown);
    give("{}", r#""jobs" not in opt_tags"#, Unknown);
    give("{}", r#"opt_tags contains "jobs""#, Unknown);
    give(r#"{"opt_tags": ["jobs"]}"#, r#"opt_tags contains "jobs""#, True);
}

#[test]
fn text_operators() {
    give("{}", r#"name contains "Love""#, True);
    give("{}", r#"name contains "love""#, False);
    give("{}", r#"name contains """#, True);
    give("{}", r#"name starts_with "Ada""#, True);
    give("{}", r#"name starts_with "Lovelace""#, False);
    give("{}", r#"name ends_with "lace""#, True);
    give("{}", r#"name ends_with "Ada""#, False);
    give("{}", r#"opt_name contains "a""#, Unknown);
    give("{}", r#"opt_name starts_with "a""#, Unknown);
    give("{}", r#"opt_name ends_with "a""#, Unknown);
    give("{}", "name contains opt_name", Unknown);
    give(r#"{"opt_name": "Ada"}"#, "name starts_with opt_name", True);
}

// ---- missing data -------------------------------------------------------------

#[test]
fn is_missing_and_has() {
    give("{}", "opt_age is missing", True);
    give(r#"{"opt_age": null}"#, "opt_age is missing", True);
    give(r#"{"opt_age": 0}"#, "opt_age is missing", False);
    give("{}", "opt_age is not missing", False);
    give(r#"{"opt_age": 0}"#, "opt_age is not missing", True);
    give("{}", "has opt_age", False);
    give(r#"{"opt_age": 0}"#, "has opt_age", True);
    give(r#"{"p": false}"#, "has p", True);
    give("{}", "has opt_tags", False);
    give(r#"{"opt_tags": []}"#, "has opt_tags", True);
    give("{}", "has opt_address.city", False);
    give(r#"{"opt_address": {"city": "Akron"}}"#, "has opt_address.city", True);
    give("{}", "address.zip is missing", True);
    give(r#"{"address": {"city": "Akron", "zip": "44301"}}"#, "has address.zip", True);
    give("{}", "opt_age + 1 is missing", True);
    give(r#"{"p": true}"#, "(p and q) is missing", True);
    give(r#"{"p": false}"#, "(p and q) is missing", False);
}

#[test]
fn coalesce_is_never_unknown_when_the_default_is_known() {
    give("{}", "opt_age ?? 0 == 0", True);
    give(r#"{"opt_age": 5}"#, "opt_age ?? 0 == 0", False);
    give(r#"{"opt_age": 5}"#, "opt_age ?? 0 == 5", True);
    give("{}", "opt_age ?? age == 40", True);
    give("{}", r#"opt_name ?? "none" == "none""#, True);
    give("{}", "opt_amount ?? $1 == $1", True);
    give("{}", "opt_date ?? today == today", True);
    give("{}", "p ?? true", True);
    give("{}", "p ?? false", False);
    give(r#"{"p": false}"#, "p ?? true", False);
    give("{}", "p ?? q", Unknown);
    give(r#"{"q": true}"#, "p ?? q", True);
    give("{}", "age / 0 ?? 7 == 7", True);
    give("{}", "opt_address.city ?? \"none\" == \"none\"", True);
}

// ---- aggregates ---------------------------------------------------------------

#[test]
fn sum() {
    give("{}", "sum(donations.amount) == $375.50", True);
    give("{}", "sum(donations.amount) == $375.51", False);
    give(r#"{"donations": []}"#, "sum(donations.amount) == 0", True);
    give("{}", "sum(nums) == 6", True);
    give(r#"{"nums": []}"#, "sum(nums) == 0", True);
    give("{}", "sum(scores) == 2", True);
    give(r#"{"scores": []}"#, "sum(scores) == 0", True);
    give("{}", r#"sum(donations.amount where context != "online") == $350.50"#, True);
    give("{}", "sum(donations.amount where date >= 2012-07-01) == $275.50", True);
    give("{}", "sum(donations.amount where amount > $1000) == 0", True);
    give("{}", "sum(nums where it > 1) == 5", True);
}

#[test]
fn count() {
    give("{}", "count(donations) == 3", True);
    give("{}", "count(donations) == 2", False);
    give(r#"{"donations": []}"#, "count(donations) == 0", True);
    give("{}", "count(donations where amount >= 100) == 2", True);
    give("{}", r#"count(donations where context == "rally") == 1"#, True);
    give("{}", r#"count(donations where context == "rally" or amount < 50) == 2"#, True);
    give("{}", r#"count(donations where amount >= 100 and context == "rally") == 1"#, True);
    give("{}", "count(donations where amount > $1000) == 0", True);
    give("{}", "count(tags) == 2", True);
    give("{}", r#"count(tags where it starts_with "h") == 1"#, True);
    give("{}", "count(nums where it >= 2) == 2", True);
    give("{}", "count(scores where it > 1) == 1", True);
}

#[test]
fn min_max_avg() {
    give("{}", "min(donations.amount) == $25", True);
    give("{}", "max(donations.amount) == $250.50", True);
    give("{}", "avg(donations.amount) == $125.17", True);
    give("{}", r#"min(donations.amount where context != "online") == $100"#, True);
    give("{}", "min(nums) == 1", True);
    give("{}", "max(nums) == 3", True);
    give("{}", "avg(nums) == 2", True);
    give(r#"{"nums": [1, 2]}"#, "avg(nums) == 1.5", True);
    give("{}", "avg(scores) == 1", True);
    give("{}", "min(donations.date) == 2012-05-01", True);
    give("{}", "max(donations.date) == 2012-09-30", True);
    give("{}", r#"min(tags) == "healthcare""#, True);
    give("{}", r#"max(tags) == "jobs""#, True);
    give("{}", "count(donations where amount > avg(donations.amount)) == 1", True);
    give("{}", r#"count(donations where any(tags where it == "jobs")) == 3"#, True);
    give("{}", "count(donations where any(nums where it * 50 > amount)) == 2", True);
}

#[test]
fn avg_of_money_rounds_half_away_from_zero() {
    give(&gifts(r#"["0.01", "0.02"]"#), "avg(donations.amount) == $0.02", True);
    give(&gifts(r#"["-0.01", "-0.02"]"#), "avg(donations.amount) == -$0.02", True);
    give(&gifts(r#"["0.01", "0.01", "0.02"]"#), "avg(donations.amount) == $0.01", True);
    give(&gifts(r#"["0.01", "0.02", "0.02"]"#), "avg(donations.amount) == $0.02", True);
}

#[test]
fn min_max_avg_of_nothing_are_unknown() {
    give(r#"{"nums": []}"#, "min(nums) == 0", Unknown);
    give(r#"{"nums": []}"#, "max(nums) > 0", Unknown);
    give(r#"{"nums": []}"#, "avg(nums) > 0", Unknown);
    give(r#"{"nums": []}"#, "min(nums) is missing", True);
    give(r#"{"donations": []}"#, "avg(donations.amount) > 0", Unknown);
    give("{}", "avg(donations.amount where amount > $1000) > 0", Unknown);
    give("{}", "max(donations.amount where amount > $1000) ?? $0 == $0", True);
}

#[test]
fn any_and_all() {
    give("{}", r#"any(donations where context == "rally")"#, True);
    give("{}", "any(donations where amount > $1000)", False);
    give("{}", "all(donations where amount >= 25)", True);
    give("{}", "all(donations where amount > 25)", False);
    give(r#"{"donations": []}"#, "any(donations where amount > 0)", False);
    give(r#"{"donations": []}"#, "all(donations where amount > 0)", True);
    give("{}", r#"any(tags where it == "jobs")"#, True);
    give("{}", r#"all(tags where it == "jobs")"#, False);
    give("{}", "all(nums where it > 0)", True);
    give("{}", "any(votes)", True);
    give("{}", "all(votes)", False);
    give(r#"{"votes": [true, true]}"#, "all(votes)", True);
    give(r#"{"votes": []}"#, "any(votes)", False);
    give(r#"{"votes": []}"#, "all(votes)", True);
}

#[test]
fn aggregates_over_a_missing_list_are_unknown() {
    give("{}", "sum(opt_donations.amount) == 0", Unknown);
    give("{}", "count(opt_donations) == 0", Unknown);
    give("{}", "count(opt_donations where amount > 0) == 0", Unknown);
    give("{}", "min(opt_donations.amount) > 0", Unknown);
    give("{}", "max(opt_donations.amount) > 0", Unknown);
    give("{}", "avg(opt_donations.amount) > 0", Unknown);
    give("{}", "any(opt_donations where amount > 0)", Unknown);
    give("{}", "all(opt_donations where amount > 0)", Unknown);
    give("{}", r#"any(opt_tags where it == "jobs")"#, Unknown);
    give(r#"{"opt_donations": []}"#, "count(opt_donations) == 0", True);
    give(r#"{"opt_donations": [{"amount": 5}]}"#, "sum(opt_donations.amount) == $5", True);
}

#[test]
fn aggregates_with_missing_elements() {
    give("{}", r#"any(donations where note == "x")"#, Unknown);
    give("{}", r#"all(donations where note == "x")"#, Unknown);
    give(&notes(r#"["x", null]"#), r#"any(donations where note == "x")"#, True);
    give(&notes(r#"["x", null]"#), r#"all(donations where note == "x")"#, Unknown);
    give(&notes(r#"[null, "y"]"#), r#"all(donations where note == "x")"#, False);
    give(&notes(r#"[null, "y"]"#), r#"any(donations where note == "x")"#, Unknown);
    give(&notes(r#"["x", "x"]"#), r#"all(donations where note == "x")"#, True);
    give("{}", r#"count(donations where note == "x") == 0"#, Unknown);
    give("{}", "count(donations where note is missing) == 3", True);
    give("{}", "count(donations where has note) == 0", True);
    give("{}", "sum(donations.fee) == 0", Unknown);
    give("{}", "max(donations.fee) > 0", Unknown);
    give("{}", "any(donations where fee ?? $0 > $5)", False);
    give("{}", "any(tags where it == opt_name)", Unknown);
}

// ---- definitions ----------------------------------------------------------------

#[test]
fn definitions_and_constants() {
    let defs = "cap = $2500\ntotal = sum(donations.amount)\nroom = cap - total\nrich = total >= cap\nbig = $200";
    give_with(defs, "{}", "total < cap", True);
    give_with(defs, "{}", "total == $375.50", True);
    give_with(defs, "{}", "room == $2124.50", True);
    give_with(defs, "{}", "rich", False);
    give_with(defs, "{}", "not rich", True);
    give_with(defs, &gifts("[2500]"), "rich", True);
    give_with(defs, "{}", "total + total == $751", True);
    give_with(defs, "{}", "count(donations where amount > big) == 1", True);
    give_with("a = b + 1\nb = age", "{}", "a == 41", True);
    give_with("older = opt_age + 1", "{}", "older > 0", Unknown);
    give_with("older = opt_age + 1", r#"{"opt_age": 1}"#, "older == 2", True);
    give_with("older = opt_age + 1", "{}", "older ?? 0 == 0", True);
    give_with("older = opt_age + 1", "{}", "older is missing", True);
    give_with("older = opt_age + 1", "{}", "has older", False);
}

// ---- rules: assignment and suppression -------------------------------------------

#[test]
fn a_suppression_beats_an_assignment_whatever_the_order() {
    route("give: true -> a\nwithhold: true -> no a", "{}", &[], &[]);
    route("withhold: true -> no a\ngive: true -> a", "{}", &[], &[]);
    route("a_give: true -> a\nz_withhold: true -> no a", "{}", &[], &[]);
    route("z_give: true -> a\na_withhold: true -> no a", "{}", &[], &[]);
    route("give: true -> a, b\nwithhold: p -> no a", r#"{"p": false}"#, &["a", "b"], &[]);
    route("give: true -> a, b\nwithhold: p -> no a", r#"{"p": true}"#, &["b"], &[]);
    route("both: true -> a, no b\nalso: true -> b", "{}", &["a"], &[]);
    route("both: true -> a, no a", "{}", &[], &[]);
}

#[test]
fn unknown_suppresses_and_does_not_assign() {
    route("give: true -> a, b\nwithhold: p -> no a", "{}", &["b"], &[]);
    route("give: true -> a\nwithhold: not p -> no a", "{}", &[], &[]);
    route("give: p -> a", "{}", &[], &[]);
    route("give: not p -> a", "{}", &[], &[]);
    route("give: p -> a", r#"{"p": true}"#, &["a"], &[]);
    route("both: p -> a, no b\nalso: true -> b", "{}", &[], &[]);
}

#[test]
fn no_solicitations_and_no_issues() {
    let rules = "give: true -> a, b, c, i, j\nhush: p -> no solicitations";
    route(rules, r#"{"p": true}"#, &[], &["j", "i"]);
    route(rules, "{}", &[], &["j", "i"]);
    route(rules, r#"{"p": false}"#, &["c", "a", "b"], &["j", "i"]);
    let rules = "give: true -> a, b, c, i, j\nhush: p -> no issues";
    route(rules, r#"{"p": true}"#, &["c", "a", "b"], &[]);
    route(rules, "{}", &["c", "a", "b"], &[]);
    route(rules, r#"{"p": false}"#, &["c", "a", "b"], &["j", "i"]);
}

#[test]
fn streams_come_out_in_declaration_order() {
    route("r1: true -> b\nr2: true -> a\nr3: true -> i, c, j", "{}", &["c", "a", "b"], &["j", "i"]);
    route("x: true -> b, a\ny: true -> a", "{}", &["a", "b"], &[]);
}

// ---- profiles ------------------------------------------------------------------

#[test]
fn profiles_decode_leniently_where_exact() {
    give(r#"{"shoe_size": 44, "address": {"city": "Akron", "planet": "Mars"}}"#, "age == 40", True);
    give(r#"{"amount": "250.500"}"#, "amount == $250.50", True);
    give(r#"{"amount": 2500.99}"#, "amount == $2500.99", True);
    give(r#"{"amount": 7}"#, "amount == $7", True);
    give(r#"{"age": 40.0}"#, "age == 40", True);
    // Every JSON number is read as the nearest double, however many digits it has.
    give(r#"{"score": 1000000000000000.5}"#, "score == 1000000000000000.5", True);
    give(r#"{"age": 8999999999999999.0}"#, "age == 8999999999999999", True);
    // Money as a JSON number is exact below 10^13; JSON integers and strings go further.
    give(r#"{"amount": 9999999999999.99}"#, "amount == $9999999999999.99", True);
    give(r#"{"amount": 70000000000.01}"#, "amount == $70000000000.01", True);
    give(r#"{"amount": 92233720368547758}"#, "amount == $92233720368547758", True);
    // The range of money is the range of cents in 64 bits, both ends included.
    give(r#"{"amount": "92233720368547758.07"}"#, "amount == $92233720368547758.07", True);
    give(r#"{"amount": "-92233720368547758.08"}"#, "amount == -$92233720368547758.07 - $0.01", True);
}

#[test]
fn profile_errors_name_the_field_not_the_value() {
    rejects(&with(r#"{"age": "forty-two"}"#), &["`age`", "int"], "forty-two");
    rejects(&with(r#"{"opt_age": "forty-two"}"#), &["`opt_age`", "int"], "forty-two");
    rejects(&with(r#"{"age": 40.5}"#), &["`age`", "int"], "40.5");
    rejects(&with(r#"{"p": "yes"}"#), &["`p`", "bool"], "yes");
    rejects(&with(r#"{"address": {"city": 43004}}"#), &["`address.city`", "string"], "43004");
    rejects(&with(r#"{"address": "Main Street"}"#), &["`address`"], "Main Street");
    rejects(&with(r#"{"tags": ["jobs", 77]}"#), &["`tags[1]`", "string"], "77");
    rejects(&with(&gifts("[1, true]")), &["`donations[1].amount`", "money"], "true");
    rejects(&with(r#"{"party": "green"}"#), &["`party`", "dem"], "green");
    rejects(&with(r#"{"born": "1972-02-30"}"#), &["`born`", "date"], "1972-02-30");
    rejects(&with(r#"{"born": 1972}"#), &["`born`", "date"], "1972");
    rejects(&with(r#"{"amount": "250.505"}"#), &["`amount`", "two decimals"], "250.505");
    rejects(&with(r#"{"amount": 250.505}"#), &["`amount`", "two decimals"], "250.505");
    rejects(&with(r#"{"amount": "lots"}"#), &["`amount`"], "lots");
    // Beyond what a double holds exactly: whole numbers from 9e15, cents from 1e13.
    rejects(&with(r#"{"age": 1e16}"#), &["`age`", "int"], "");
    rejects(&with(r#"{"amount": 1000000000000000.5}"#), &["`amount`", "10^13", "strings"], "1000000000000000");
    rejects(&with(r#"{"amount": 8999999999999999.0}"#), &["`amount`", "10^13"], "8999999999999999");
    rejects(&with(r#"{"amount": 10000000000000.0}"#), &["`amount`", "10^13"], "");
    rejects(r#"{"name": "Ada Lovelace", "age": }"#, &["JSON"], "Ada");
    rejects(r#"["Ada Lovelace"]"#, &["object"], "Ada");
}

#[test]
fn fields_no_rule_reads_are_skipped_not_checked() {
    // Only `flag` is read: a wrong `age`, a missing `name` and a broken
    // record elsewhere do not reject the profile.
    let rules = rule_set("", "solicitation streams t\nr: flag -> t");
    let profile = r#"{"flag": true, "age": "forty", "address": [1, 2], "donations": {"x": null}}"#;
    assert_eq!(rules.assign_json(profile).unwrap().solicitations, ["t"]);
    assert!(rules.assign_json(r#"{"flag": "yes", "age": 40}"#).is_err());
    assert!(rules.assign_json(r#"{"age": 40}"#).unwrap_err().to_string().contains("`flag`"));
}

#[test]
fn a_key_written_twice_is_refused() {
    let rules = rule_set("", "solicitation streams t\nr: flag -> t");
    let error = rules.assign_json(r#"{"flag": true, "flag": false}"#).unwrap_err();
    assert_eq!(error.to_string(), "field `flag` appears more than once");
    let rules = rule_set("", "solicitation streams t\nr: address.city == \"a\" -> t");
    // Written by hand: `with` goes through a JSON map, which keeps one key.
    let error = rules.assign_json(r#"{"address": {"city": "a", "city": "b"}}"#).unwrap_err();
    assert_eq!(error.to_string(), "field `address.city` appears more than once");
}

#[test]
fn required_fields_must_be_present() {
    rejects(&without("age"), &["`age`", "missing"], "");
    rejects(&with(r#"{"age": null}"#), &["`age`", "missing"], "");
    rejects(&with(r#"{"address": {"zip": "44301"}}"#), &["`address.city`", "missing"], "44301");
    rejects(&with(r#"{"donations": [{"amount": 1}]}"#), &["`donations[0].context`"], "");
    rejects(&with(r#"{"tags": ["jobs", null]}"#), &["`tags[1]`"], "jobs");
}

#[derive(Serialize)]
struct Person {
    flag: bool,
    age: i64,
    score: f64,
    amount: &'static str,
    name: &'static str,
    born: &'static str,
    party: &'static str,
    address: Address,
    tags: Vec<&'static str>,
    nums: Vec<i64>,
    scores: Vec<f64>,
    votes: Vec<bool>,
    donations: Vec<Donation>,
    p: Option<bool>,
    opt_age: Option<i64>,
}

#[derive(Serialize)]
struct Address {
    city: &'static str,
}

#[derive(Serialize)]
struct Donation {
    amount: i64,
    context: &'static str,
    date: &'static str,
}

#[test]
fn assign_assign_value_and_assign_json_agree() {
    let rules = rule_set(
        "",
        "solicitation streams c, a, b\nissue streams j, i\n\
         old: opt_age >= 60 -> a\nhush: p -> no b\ngive: true -> b\n\
         jobs: \"jobs\" in tags -> j\nrich: sum(donations.amount) > $100 -> c, i",
    );
    let person = |age: Option<i64>, p: Option<bool>, tags: Vec<&'static str>, gift: i64| Person {
        flag: true,
        age: 40,
        score: 2.5,
        amount: "250.50",
        name: "Ada Lovelace",
        born: "1972-03-15",
        party: "ind",
        address: Address { city: "Columbus" },
        tags,
        nums: vec![1],
        scores: vec![],
        votes: vec![],
        donations: vec![Donation { amount: gift, context: "rally", date: "2012-05-01" }],
        p,
        opt_age: age,
    };
    let people = [person(Some(61), Some(false), vec!["jobs"], 500), person(None, None, vec![], 50)];
    let expected = [
        Assignment { solicitations: vec!["c", "a", "b"], issues: vec!["j", "i"] },
        Assignment { solicitations: vec![], issues: vec![] },
    ];
    for (person, expected) in people.iter().zip(&expected) {
        let value = serde_json::to_value(person).unwrap();
        assert_eq!(rules.assign(person).as_ref(), Ok(expected));
        assert_eq!(rules.assign_value(&value).as_ref(), Ok(expected));
        assert_eq!(rules.assign_json(&value.to_string()).as_ref(), Ok(expected));
    }
    let batch: Vec<Result<Assignment<'_>, ProfileError>> = expected.iter().cloned().map(Ok).collect();
    assert_eq!(rules.assign_batch(&people), batch);
}

// ---- what the checker refuses ------------------------------------------------------

#[test]
fn operators_refuse_operands_of_the_wrong_type() {
    refuses("amount > 250.505", "E0202");
    refuses("amount + score > 0", "E0202");
    refuses("amount in [number(age), 2.5]", "E0202");
    refuses("amount in [score]", "E0202");
    refuses("amount * amount > 0", "E0201");
    refuses(r#"party < "rep""#, "E0201");
    refuses(r#"party == "green""#, "E0109");
    refuses("born + age > born", "E0201");
    refuses(r#"name == 3"#, "E0201");
    refuses("age + 1", "E0204");
    refuses("it == 1", "E0205");
    refuses("sum(age) > 0", "E0203");
    refuses("p and age", "E0201");
}

// ---- nested aggregates and lists: cost linear in the profile ------------------

#[test]
fn membership_in_a_whole_list_for_each_element() {
    // `it in nums` is tested for each element of `nums`: the list is hashed
    // once per profile, with the answers of a plain scan.
    give("{}", "all(nums where it in nums)", True);
    give("{}", "count(nums where it in [1, 3]) == 2", True);
    give(r#"{"scores": [1.5, -0.0]}"#, "count(scores where it in scores) == 2", True);
    give(r#"{"scores": [0.0]}"#, "any(scores where it + 1.0 in scores)", False);
    give(r#"{"tags": ["jobs"], "donations": []}"#, "count(tags where it in tags) == 1", True);
    // An unknown value is unknown in a list with members, false in an empty one.
    give_with(
        "",
        r#"{"opt_tags": ["a"], "donations": [{"amount": 1, "context": "rally", "date": "2012-01-01"}]}"#,
        "any(donations where note in opt_tags)",
        Unknown,
    );
    give_with(
        "",
        r#"{"opt_tags": [], "donations": [{"amount": 1, "context": "rally", "date": "2012-01-01"}]}"#,
        "any(donations where note in opt_tags)",
        False,
    );
    // A missing list is unknown for every element.
    give("{}", "any(donations where note in opt_tags)", Unknown);
}

#[test]
fn an_aggregate_inside_a_filter_over_the_same_list_is_computed_once() {
    // Quadratic if `count(nums ...)` were recomputed for each element: with
    // 200,000 elements this would not finish.
    let nums: Vec<String> = (0..200_000).map(|n| n.to_string()).collect();
    let profile = format!(r#"{{"nums": [{}]}}"#, nums.join(","));
    give(&profile, "count(nums where it >= count(nums where it > 100) - 5) == 106", True);
    give(&profile, "count(nums where it in nums) == 200_000", True);
}

// ---- money for embedders ------------------------------------------------------

/// A service's amounts, in dollars (`total`, `gifts`) and in cents (`fee`,
/// `refunds`), as a rule set reads them.
const MONEY_RULES: &str = r#"narval 1
schema {
  total: money
  gifts: optional list of money
  fee: optional money in cents
  refunds: optional list of money in cents
}
solicitation streams exact, fee_is, refunds_are
exact: total == $0.30 -> exact
fee_is: fee == $12.50 -> fee_is
refunds_are: sum(refunds) == $1.01 and sum(gifts) == $0.30 -> refunds_are
"#;

fn money_rules() -> RuleSet {
    RuleSet::builder()
        .source("money.narval", MONEY_RULES)
        .build()
        .unwrap_or_else(|report| panic!("rule set refused:\n{}", report.render()))
}

#[derive(Serialize)]
struct Service<T> {
    total: T,
    #[serde(skip_serializing_if = "Option::is_none")]
    gifts: Option<Vec<T>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fee: Option<i64>,
}

#[test]
fn a_double_within_rounding_noise_of_a_cent_is_that_cent() {
    let rules = money_rules();
    let streams = |total: f64| match rules.assign(&Service { total, gifts: None, fee: None }) {
        Ok(assignment) => Ok(assignment.solicitations.join(",")),
        Err(error) => Err(error.to_string()),
    };
    // What `0.1 + 0.2` computes, through serde and through JSON text alike.
    assert_eq!(streams(0.1 + 0.2), Ok("exact".into()));
    assert_eq!(rules.assign_json(r#"{"total": 0.30000000000000004}"#).unwrap().solicitations, ["exact"]);
    assert_eq!(rules.assign_value(&json!({ "total": 0.1 + 0.2 })).unwrap().solicitations, ["exact"]);
    // A sum of many doubles, a billionth of its size from the cent.
    let sum: f64 = (0..1_000_000).map(|_| 0.01).sum::<f64>();
    assert_ne!(sum, 10_000.0);
    assert_eq!(narval::Money::from_number(sum), Some(narval::Money::from_cents(1_000_000)));
    assert_eq!(streams(0.3 + 1e-12), Ok("exact".into()));
    // Half a cent, or a thousandth of a cent beyond a billionth, is not noise.
    assert_eq!(streams(0.305), Err("field `total` is not an amount with at most two decimals".into()));
    assert_eq!(streams(0.30001), Err("field `total` is not an amount with at most two decimals".into()));
    assert!(streams(0.3 + 1e-8).is_err());
    assert!(streams(1_000_000.0 + 0.002).is_err());
}

#[test]
fn money_serialises_exactly() {
    let rules = money_rules();
    let amounts = [0, 1, -1, 30, -30, 1250, 250_099, 999_999_999_999_999, -999_999_999_999_999];
    let large = [1_000_000_000_000_000, 1_000_000_000_000_001, i64::MAX, i64::MIN, i64::MAX - 99];
    for cents in amounts.into_iter().chain(large) {
        let money = narval::Money::from_cents(cents);
        let text = serde_json::to_string(&money).unwrap();
        assert_eq!(serde_json::from_str::<narval::Money>(&text).unwrap(), money, "{text}");
        // The rule set reads it back to the cent: `sum(gifts) == total`.
        let sums = RuleSet::builder()
            .source("s.narval", "narval 1\nschema { total: money, gifts: list of money }\nsolicitation streams t\nt: sum(gifts) == total and total - $0.01 < total -> t\n")
            .build()
            .unwrap();
        let profile = json!({ "total": money, "gifts": [money] });
        let got = sums.assign(&profile).map(|a| a.solicitations.len());
        // `total - $0.01` overflows at the most negative amount: unknown.
        assert_eq!(got.unwrap(), usize::from(cents != i64::MIN), "{text}");
    }
    assert_eq!(serde_json::to_string(&narval::Money::from_cents(1250)).unwrap(), "12.5");
    assert_eq!(serde_json::to_string(&narval::Money::from_cents(5000)).unwrap(), "50");
    assert_eq!(serde_json::to_string(&narval::Money::from_cents(i64::MAX)).unwrap(), "\"92233720368547758.07\"");
    let gifts =
        Service { total: narval::Money::from_cents(30), gifts: Some(vec![narval::Money::from_cents(30)]), fee: None };
    assert_eq!(rules.assign(&gifts).unwrap().solicitations, ["exact"]);
}

#[test]
fn a_field_in_cents_reads_whole_cents() {
    let rules = money_rules();
    let streams = |json: &str| match rules.assign_json(json) {
        Ok(assignment) => Ok(assignment.solicitations.join(",")),
        Err(error) => Err(error.to_string()),
    };
    assert_eq!(streams(r#"{"total": 1, "fee": 1250}"#), Ok("fee_is".into()));
    assert_eq!(streams(r#"{"total": 1, "fee": 1250.0}"#), Ok("fee_is".into()));
    assert_eq!(
        streams(r#"{"total": 1, "fee": 12.5}"#).unwrap_err(),
        "field `fee` is not an amount in cents: write a JSON integer of cents, such as `1250`"
    );
    assert!(streams(r#"{"total": 1, "fee": "1250"}"#).unwrap_err().contains("JSON integer of cents"));
    assert_eq!(streams(r#"{"total": 0.3, "gifts": [0.1, 0.2], "refunds": [100, 1]}"#), Ok("exact,refunds_are".into()));
    assert!(streams(r#"{"total": 1, "refunds": [100, 0.5]}"#)
        .unwrap_err()
        .starts_with("field `refunds[1]` is not an amount in cents"));
    assert_eq!(
        rules
            .assign(&Service { total: narval::Money::from_cents(1), gifts: None, fee: Some(1250) })
            .unwrap()
            .solicitations,
        ["fee_is"]
    );
}

#[test]
fn an_amount_written_as_text_hears_what_money_is() {
    let says = "is not an amount of money: write a JSON number of dollars with at most two decimals, such as `12.50`";
    for text in [r#""$50""#, r#""1,000""#, r#""50 USD""#, r#""""#, r#""12.345""#] {
        rejects(&with(&format!(r#"{{"amount": {text}}}"#)), &["field `amount`", says], text.trim_matches('"'));
    }
    // A decimal in a string is still read, as before.
    give(r#"{"amount": "-12.50"}"#, "amount == -$12.50", True);
}

#[test]
fn in_cents_applies_to_money_only() {
    for schema in ["age: int in cents", "names: list of string in cents", "r: { a: money } in cents"] {
        let built = RuleSet::builder().source("t.narval", format!("narval 1\nschema {{ {schema} }}\n")).build();
        let report = built.err().unwrap_or_else(|| panic!("`{schema}` was accepted"));
        assert!(report.render().contains("`in cents` applies to money"), "{}", report.render());
    }
}
