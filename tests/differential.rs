//! The engine against a plain reference evaluator (`tests/reference`), on
//! random well-typed rule sets and random profiles.
//!
//! Every rule set is generated over [`SCHEMA`] from a typed expression
//! generator, so that it checks; every profile is generated as JSON, valid
//! or not. For each rule set and profile, these must agree with the
//! reference, rejections included:
//!
//! 1. `RuleSet::assign_json`: the decoder, the compiled program as native
//!    code (feature `jit`);
//! 2. the same rule set run by each engine of
//!    `narval::eval::engine::Engine::ALL` (`RuleSet::with_engine`), through
//!    `assign_json`: native code whole; the specialised interpreter and the
//!    indexes; every rule in turn by the general evaluator; native only for
//!    the rules outside the indexes, as for a large rule set, the
//!    interpreter evaluating those the indexes find; native whole but one
//!    rule and one requirement to a function, as a large rule set is cut.
//!    An engine added to the enum is compared too;
//! 3. rule by rule, the specialised conditions `Program::run` evaluates against
//!    the general evaluator on every rule they reach;
//! 4. `RuleSet::assign_lines_parallel` on 3 threads, on the whole batch;
//! 5. for one rule set in 20 ([`CLI_EVERY`]), `narval assign` on the batch
//!    as NDJSON.
//!
//! `NARVAL_DIFF_CASES=N` sets the number of rule sets (300 by default, 30
//! profiles each); `PROPTEST_RNG_SEED` fixes the seed. A failure is shrunk
//! to the fewest rules, and prints the rule file, the profile, every result
//! and how each rule came out in the reference.
//!
//! The generator covers every operator and aggregate, definitions built on
//! definitions, list-literal definitions, nested aggregates, `it`, `today`,
//! suppressions of one stream and of a kind; not imports, `narval test`
//! blocks, `explain`, or rule files that do not check.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reference;
mod rng;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use narval::eval::engine::Engine;
use narval::{Assignment, Date, RuleSet};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value as Json};

use rng::Rng;

use reference::Streams;

/// Profiles per rule set.
const PROFILES: usize = 30;
/// One rule set in this many also goes through the `narval` binary.
const CLI_EVERY: usize = 20;

const SCHEMA: &str = r#"narval 1
schema {
  id: int
  flag: bool
  opt_flag: optional bool
  age: int
  opt_age: optional int
  score: number
  opt_score: optional number
  balance: money
  opt_balance: optional money
  name: string
  opt_name: optional string
  born: date
  opt_date: optional date
  party: one of dem, rep, ind, none
  opt_party: optional one of dem, rep, ind, none
  address: { city: string, zip: optional string, visits: int }
  opt_address: optional { city: string, since: optional date }
  issues: list of string
  opt_issues: optional list of string
  nums: list of int
  ratios: list of number
  votes: list of bool
  donations: list of {
    amount: money
    context: one of rally, debate, online
    date: date
    recurring: bool
    refunded: optional bool
    fee: optional money
    note: optional string
    share: number
    tags: list of string
  }
  gifts: optional list of { amount: money, day: optional date }
}
solicitation streams s2, s0, s3, s1
issue streams i1, i0, i2

cities = ["Columbus", "Akron", "OH"]
swing = ["dem", "ind"]
venues = ["rally", "online"]
lucky = [7, 40, 65]
"#;

const PARTY: &[&str] = &["dem", "rep", "ind", "none"];
const CONTEXT: &[&str] = &["rally", "debate", "online"];

// ---- rule sets ------------------------------------------------------------------

/// The value types of generated expressions (enums are generated as
/// conditions on their own, see [`Gen::enum_test`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum T {
    Bool,
    Int,
    Number,
    Money,
    Str,
    Date,
    Days,
}

const TYPES: &[T] = &[T::Bool, T::Int, T::Number, T::Money, T::Str, T::Date, T::Days];
const ORDERED: &[T] = &[T::Int, T::Number, T::Money, T::Str, T::Date, T::Days];

/// Fields by path, type and whether the path may be missing.
const PROFILE_FIELDS: &[(&str, T, bool)] = &[
    ("flag", T::Bool, false),
    ("opt_flag", T::Bool, true),
    ("age", T::Int, false),
    ("opt_age", T::Int, true),
    ("score", T::Number, false),
    ("opt_score", T::Number, true),
    ("balance", T::Money, false),
    ("opt_balance", T::Money, true),
    ("name", T::Str, false),
    ("opt_name", T::Str, true),
    ("born", T::Date, false),
    ("opt_date", T::Date, true),
    ("address.city", T::Str, false),
    ("address.zip", T::Str, true),
    ("address.visits", T::Int, false),
    ("opt_address.city", T::Str, true),
    ("opt_address.since", T::Date, true),
];
const DONATION_FIELDS: &[(&str, T, bool)] = &[
    ("amount", T::Money, false),
    ("date", T::Date, false),
    ("recurring", T::Bool, false),
    ("refunded", T::Bool, true),
    ("fee", T::Money, true),
    ("note", T::Str, true),
    ("share", T::Number, false),
];
const GIFT_FIELDS: &[(&str, T, bool)] = &[("amount", T::Money, false), ("day", T::Date, true)];

/// What the elements of a list are: inside its `where`, a scope.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scope {
    Plain(T),
    Donation,
    Gift,
}

const PROFILE_LISTS: &[(&str, Scope)] = &[
    ("issues", Scope::Plain(T::Str)),
    ("opt_issues", Scope::Plain(T::Str)),
    ("nums", Scope::Plain(T::Int)),
    ("ratios", Scope::Plain(T::Number)),
    ("votes", Scope::Plain(T::Bool)),
    ("donations", Scope::Donation),
    ("gifts", Scope::Gift),
];

fn record_fields(scope: Scope) -> &'static [(&'static str, T, bool)] {
    match scope {
        Scope::Donation => DONATION_FIELDS,
        Scope::Gift => GIFT_FIELDS,
        Scope::Plain(_) => &[],
    }
}

fn literals(t: T) -> &'static [&'static str] {
    match t {
        T::Bool => &["true", "false"],
        T::Int => &[
            "0",
            "1",
            "2",
            "3",
            "7",
            "18",
            "40",
            "65",
            "100",
            "1_000",
            "9223372036854775807",
            "4611686018427387904",
            "3037000500",
            "9007199254740993",
        ],
        T::Number => &[
            "0.0",
            "0.5",
            "1.5",
            "2.5",
            "57.6",
            "0.1",
            "0.2",
            "0.3",
            "40.0",
            "100.0",
            "1.115",
            "2.675",
            "0.125",
            "1000000000000000000000.0",
        ],
        T::Money => &[
            "$0",
            "$0.01",
            "$0.05",
            "$1",
            "$12.50",
            "$25",
            "$100",
            "$250",
            "$250.50",
            "$2500",
            "$2_500.99",
            "$92233720368547758.07",
            "$46116860184273879.04",
        ],
        T::Str => &[
            r#""""#,
            r#""OH""#,
            r#""jobs""#,
            r#""health""#,
            r#""healthcare""#,
            r#""care""#,
            r#""Ada""#,
            r#""Ada Lovelace""#,
            r#""a""#,
            r#""Z""#,
            r#""Columbus""#,
            r#""Zoë""#,
            r#""x\"y""#,
        ],
        T::Date => &[
            "2012-10-01",
            "2012-09-24",
            "2012-02-29",
            "1972-03-15",
            "2000-01-01",
            "1970-01-01",
            "0001-01-01",
            "9999-12-31",
        ],
        T::Days => &["0 days", "1 day", "7 days", "1 week", "2 weeks", "30 days", "365 days", "3650000 days"],
    }
}

/// Decimal literals exact in cents, which read as money beside money.
const CENTS_LITERALS: &[&str] = &["0.5", "12.50", "250.5", "2500.99", "100.0"];

/// An expression and whether it needs no parentheses as an operand.
struct Code {
    text: String,
    atom: bool,
}

impl Code {
    fn atom(text: impl Into<String>) -> Code {
        Code { text: text.into(), atom: true }
    }

    fn compound(text: String) -> Code {
        Code { text, atom: false }
    }

    /// As an operand: in parentheses unless it is a single token.
    fn wrapped(self) -> String {
        if self.atom {
            self.text
        } else {
            format!("({})", self.text)
        }
    }
}

/// Builds expressions of a requested type that the checker accepts.
struct Gen<'a> {
    rng: &'a mut Rng,
    /// The definitions that may be named, with their types.
    defs: &'a [(String, T)],
    /// The elements of the enclosing aggregates, innermost last.
    scopes: Vec<Scope>,
}

impl Gen<'_> {
    fn expr(&mut self, t: T, depth: u32) -> Code {
        if depth == 0 || self.rng.chance(20) {
            return self.leaf(t);
        }
        let d = depth - 1;
        match t {
            T::Bool => self.condition(d),
            T::Int => match self.rng.below(9) {
                0 => self.binary(T::Int, "+", T::Int, d),
                1 => self.binary(T::Int, "-", T::Int, d),
                2 => self.binary(T::Int, "*", T::Int, d),
                3 => self.negate(T::Int, d),
                4 => self.binary(T::Int, "??", T::Int, d),
                5 | 6 => self.aggregate(T::Int, d).unwrap_or_else(|| self.leaf(T::Int)),
                7 => self.binary(T::Days, "*", T::Int, d),
                _ => self.count(d),
            },
            T::Number => match self.rng.below(16) {
                0 => self.binary(T::Number, "+", T::Number, d),
                1 => self.binary(T::Number, "-", T::Number, d),
                2 => self.binary(T::Number, "*", T::Number, d),
                3 => self.binary(T::Number, "/", T::Number, d),
                4 => self.binary(T::Int, "/", T::Int, d),
                5 => {
                    let op = *self.rng.pick(&["+", "-", "*", "/"]);
                    self.binary(T::Int, op, T::Number, d)
                }
                6 => {
                    let op = *self.rng.pick(&["+", "-", "*", "/"]);
                    self.binary(T::Number, op, T::Int, d)
                }
                7 => self.negate(T::Number, d),
                8 => self.binary(T::Number, "??", T::Number, d),
                9 => {
                    let from = *self.rng.pick(&[T::Int, T::Money, T::Number]);
                    self.convert("number", from, d)
                }
                10 => self.binary(T::Money, "/", T::Money, d),
                11 => self.binary(T::Days, "/", T::Int, d),
                12 => self.bucket(d),
                _ => self.aggregate(T::Number, d).unwrap_or_else(|| self.leaf(T::Number)),
            },
            T::Money => match self.rng.below(14) {
                0 => self.binary(T::Money, "+", T::Money, d),
                1 => self.binary(T::Money, "-", T::Money, d),
                2 => self.binary(T::Money, "*", T::Int, d),
                3 => self.binary(T::Int, "*", T::Money, d),
                4 => self.binary(T::Money, "/", T::Int, d),
                5 => {
                    let op = *self.rng.pick(&["+", "-"]);
                    self.binary(T::Money, op, T::Int, d)
                }
                6 => {
                    let op = *self.rng.pick(&["+", "-"]);
                    self.binary(T::Int, op, T::Money, d)
                }
                7 => self.negate(T::Money, d),
                8 => self.binary(T::Money, "??", T::Money, d),
                9 => {
                    let from = *self.rng.pick(&[T::Int, T::Money, T::Number]);
                    self.convert("money", from, d)
                }
                10 => {
                    let left = self.expr(T::Money, d).wrapped();
                    Code::compound(format!("{left} + {}", self.rng.pick(CENTS_LITERALS)))
                }
                _ => self.aggregate(T::Money, d).unwrap_or_else(|| self.leaf(T::Money)),
            },
            T::Str => match self.rng.below(3) {
                0 => self.binary(T::Str, "??", T::Str, d),
                _ => self.aggregate(T::Str, d).unwrap_or_else(|| self.leaf(T::Str)),
            },
            T::Date => match self.rng.below(6) {
                0 => self.binary(T::Date, "+", T::Days, d),
                1 | 2 => self.binary(T::Date, "-", T::Days, d),
                3 => self.binary(T::Days, "+", T::Date, d),
                4 => self.binary(T::Date, "??", T::Date, d),
                _ => self.aggregate(T::Date, d).unwrap_or_else(|| self.leaf(T::Date)),
            },
            T::Days => match self.rng.below(7) {
                0..=2 => self.binary(T::Date, "-", T::Date, d),
                3 => self.binary(T::Days, "+", T::Days, d),
                4 => {
                    let op = *self.rng.pick(&["+", "-"]);
                    self.binary(T::Days, op, T::Int, d)
                }
                5 => self.binary(T::Int, "+", T::Days, d),
                _ => self.binary(T::Days, "??", T::Days, d),
            },
        }
    }

    fn binary(&mut self, left: T, op: &str, right: T, depth: u32) -> Code {
        let left = self.expr(left, depth).wrapped();
        let right = self.expr(right, depth).wrapped();
        Code::compound(format!("{left} {op} {right}"))
    }

    fn negate(&mut self, t: T, depth: u32) -> Code {
        Code::compound(format!("-{}", self.expr(t, depth).wrapped()))
    }

    /// `bucket(VALUE, "salt")` of the profile's `id` or of any `int` or `string`.
    fn bucket(&mut self, depth: u32) -> Code {
        let value = match self.rng.below(3) {
            0 => "id".to_string(),
            1 => self.expr(T::Int, depth).text,
            _ => self.expr(T::Str, depth).text,
        };
        let salt = *self.rng.pick(&["\"ab\"", "\"lift_2012\"", "\"\"", "\"Zoë\""]);
        Code::atom(format!("bucket({value}, {salt})"))
    }

    fn convert(&mut self, to: &str, from: T, depth: u32) -> Code {
        Code::atom(format!("{to}({})", self.expr(from, depth).text))
    }

    /// A condition.
    fn condition(&mut self, d: u32) -> Code {
        let op = |rng: &mut Rng| *rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
        match self.rng.below(24) {
            0 => Code::compound(format!("not {}", self.expr(T::Bool, d).wrapped())),
            1 | 2 => self.binary(T::Bool, "and", T::Bool, d),
            3 | 4 => self.binary(T::Bool, "or", T::Bool, d),
            5..=7 => {
                let t = *self.rng.pick(ORDERED);
                let op = op(self.rng);
                self.binary(t, op, t, d)
            }
            8 => {
                let op = *self.rng.pick(&["==", "!="]);
                self.binary(T::Bool, op, T::Bool, d)
            }
            9 => {
                // Mixed operands: int widens to number and money, a bare int
                // compares with days, a decimal exact in cents reads as money.
                let op = op(self.rng);
                match self.rng.below(5) {
                    0 => self.binary(T::Int, op, T::Number, d),
                    1 => self.binary(T::Money, op, T::Int, d),
                    2 => self.binary(T::Days, op, T::Int, d),
                    3 => {
                        let money = self.expr(T::Money, d).wrapped();
                        Code::compound(format!("{money} {op} {}", self.rng.pick(CENTS_LITERALS)))
                    }
                    _ => {
                        let money = self.expr(T::Money, d).wrapped();
                        Code::compound(format!("{} {op} {money}", self.rng.pick(CENTS_LITERALS)))
                    }
                }
            }
            10 => {
                let t = *self.rng.pick(ORDERED);
                let value = self.expr(t, d).wrapped();
                let low = if t == T::Money && self.rng.chance(30) {
                    self.rng.pick(CENTS_LITERALS).to_string()
                } else {
                    self.expr(t, d).wrapped()
                };
                let high = self.expr(t, d).wrapped();
                Code::compound(format!("{value} between {low} and {high}"))
            }
            11 | 12 => self.in_literal(d),
            13 => self.in_field(d),
            14 => {
                let op = *self.rng.pick(&["contains", "starts_with", "ends_with"]);
                self.binary(T::Str, op, T::Str, d)
            }
            15 => self.has(),
            16 => {
                let t = *self.rng.pick(TYPES);
                let value = self.expr(t, d).wrapped();
                let test = if self.rng.chance(50) { "is missing" } else { "is not missing" };
                Code::compound(format!("{value} {test}"))
            }
            17 => self.binary(T::Bool, "??", T::Bool, d),
            18 | 19 => self.any_all(d),
            20 | 21 => self.enum_test(),
            _ => self.leaf(T::Bool),
        }
    }

    fn in_literal(&mut self, d: u32) -> Code {
        let t = *self.rng.pick(&[T::Int, T::Number, T::Money, T::Str, T::Date, T::Bool, T::Days]);
        let value = self.expr(t, d).wrapped();
        let count = self.rng.below(5);
        let items: Vec<String> = (0..count)
            .map(|_| match t {
                // Items of a wider or narrower type meet at one type.
                T::Number | T::Money if self.rng.chance(20) => self.leaf(T::Int).text,
                T::Money if self.rng.chance(20) => self.rng.pick(CENTS_LITERALS).to_string(),
                _ => self.expr(t, d.min(1)).text,
            })
            .collect();
        let op = if self.rng.chance(30) { "not in" } else { "in" };
        Code::compound(format!("{value} {op} [{}]", items.join(", ")))
    }

    fn in_field(&mut self, d: u32) -> Code {
        let mut lists = vec![("issues", T::Str), ("opt_issues", T::Str), ("nums", T::Int), ("ratios", T::Number)];
        lists.push(("votes", T::Bool));
        if self.scopes.contains(&Scope::Donation) {
            lists.push(("tags", T::Str));
        }
        let (list, t) = *self.rng.pick(&lists);
        let value = self.expr(t, d).wrapped();
        Code::compound(match self.rng.below(6) {
            0 => format!("{list} contains {value}"),
            1 => format!("{value} not in {list}"),
            2 if t == T::Str => format!("{value} in cities"),
            3 if t == T::Str => format!("cities contains {value}"),
            4 if t == T::Int => format!("{value} not in lucky"),
            _ => format!("{value} in {list}"),
        })
    }

    fn has(&mut self) -> Code {
        let mut paths: Vec<String> =
            PROFILE_FIELDS.iter().filter(|(_, _, optional)| *optional).map(|(p, _, _)| p.to_string()).collect();
        paths.extend(["opt_party", "opt_address", "opt_issues", "gifts", "age"].map(String::from));
        for scope in &self.scopes {
            paths.extend(record_fields(*scope).iter().filter(|f| f.2).map(|f| f.0.to_string()));
        }
        paths.extend(self.defs.iter().map(|(name, _)| name.clone()));
        let path = self.rng.pick(&paths).clone();
        Code::compound(format!("has {path}"))
    }

    /// A test on an enum field: against members, written as strings.
    fn enum_test(&mut self) -> Code {
        let mut fields = vec![("party", PARTY, "swing"), ("opt_party", PARTY, "swing")];
        if self.scopes.contains(&Scope::Donation) {
            fields.push(("context", CONTEXT, "venues"));
        }
        let (field, members, list) = *self.rng.pick(&fields);
        let member = |rng: &mut Rng| format!("\"{}\"", rng.pick(members));
        Code::compound(match self.rng.below(9) {
            0 => format!("{field} == {}", member(self.rng)),
            1 => format!("{field} != {}", member(self.rng)),
            2 => format!("{} == {field}", member(self.rng)),
            3 | 4 => {
                let items: Vec<String> = (0..self.rng.below(4)).map(|_| member(self.rng)).collect();
                let op = if self.rng.chance(30) { "not in" } else { "in" };
                format!("{field} {op} [{}]", items.join(", "))
            }
            5 => format!("({field} ?? {}) == {}", member(self.rng), member(self.rng)),
            6 => format!("{field} == {field}"),
            7 => format!("{field} in {list}"),
            _ => format!("{field} is missing"),
        })
    }

    /// The lists an aggregate may read here, with what their elements are.
    fn lists(&self) -> Vec<(&'static str, Scope)> {
        let mut lists = PROFILE_LISTS.to_vec();
        if self.scopes.contains(&Scope::Donation) {
            lists.push(("tags", Scope::Plain(T::Str)));
        }
        lists
    }

    /// `list` or `list.field` read by an aggregate, with the type it reads.
    fn sources(&self) -> Vec<(String, Scope, Option<T>)> {
        let mut sources = Vec::new();
        for (list, scope) in self.lists() {
            match scope {
                Scope::Plain(t) => sources.push((list.to_string(), scope, Some(t))),
                _ => {
                    sources.push((list.to_string(), scope, None));
                    for (field, t, _) in record_fields(scope) {
                        sources.push((format!("{list}.{field}"), scope, Some(*t)));
                    }
                }
            }
        }
        sources
    }

    fn filter(&mut self, scope: Scope, d: u32) -> String {
        self.scopes.push(scope);
        let condition = self.expr(T::Bool, d).text;
        self.scopes.pop();
        format!(" where {condition}")
    }

    fn maybe_filter(&mut self, scope: Scope, d: u32) -> String {
        if self.rng.chance(50) {
            self.filter(scope, d)
        } else {
            String::new()
        }
    }

    fn count(&mut self, d: u32) -> Code {
        let sources = self.sources();
        let (source, scope, _) = self.rng.pick(&sources).clone();
        let filter = self.maybe_filter(scope, d);
        Code::atom(format!("count({source}{filter})"))
    }

    /// `sum`, `min`, `max` or `avg` giving a value of type `t`.
    fn aggregate(&mut self, t: T, d: u32) -> Option<Code> {
        let mut choices = Vec::new();
        for (source, scope, read) in self.sources() {
            let Some(read) = read else { continue };
            for func in ["sum", "min", "max", "avg"] {
                let gives = match (func, read) {
                    ("sum", T::Int | T::Number | T::Money) => read,
                    ("min" | "max", T::Int | T::Number | T::Money | T::Date | T::Str) => read,
                    ("avg", T::Int | T::Number) => T::Number,
                    ("avg", T::Money) => T::Money,
                    _ => continue,
                };
                if gives == t {
                    choices.push((func, source.clone(), scope));
                }
            }
        }
        if choices.is_empty() {
            return None;
        }
        let (func, source, scope) = self.rng.pick(&choices).clone();
        let filter = self.maybe_filter(scope, d);
        Some(Code::atom(format!("{func}({source}{filter})")))
    }

    fn any_all(&mut self, d: u32) -> Code {
        let func = *self.rng.pick(&["any", "all"]);
        if self.rng.chance(25) {
            // Without `where`: a list of conditions.
            let sources = ["votes", "donations.recurring", "donations.refunded"];
            return Code::atom(format!("{func}({})", self.rng.pick(&sources)));
        }
        let sources = self.sources();
        let (source, scope, _) = self.rng.pick(&sources).clone();
        let filter = self.filter(scope, d);
        Code::atom(format!("{func}({source}{filter})"))
    }

    fn leaf(&mut self, t: T) -> Code {
        let mut names: Vec<String> =
            PROFILE_FIELDS.iter().filter(|f| f.1 == t).map(|f| f.0.to_string()).collect::<Vec<_>>();
        for scope in &self.scopes {
            names.extend(record_fields(*scope).iter().filter(|f| f.1 == t).map(|f| f.0.to_string()));
        }
        if self.scopes.last() == Some(&Scope::Plain(t)) {
            names.extend(["it".to_string(), "it".to_string()]);
        }
        names.extend(self.defs.iter().filter(|(_, dt)| *dt == t).map(|(name, _)| name.clone()));
        if t == T::Date {
            names.push("today".into());
        }
        if names.is_empty() || self.rng.chance(35) {
            return Code::atom(*self.rng.pick(literals(t)));
        }
        Code::atom(self.rng.pick(&names).clone())
    }
}

const STRINGS: &[&str] = &[r#""Ada""#, r#""OH""#, r#""Columbus""#, r#""Akron""#, r#""Zoë""#, r#""""#, r#""jobs""#];
const MEMBERS: &[&str] = &[r#""dem""#, r#""rep""#, r#""ind""#, r#""none""#];
const AGES: &[&str] = &["0", "1", "7", "18", "40", "65", "100", "-1", "4503599627370496"];
const DATES: &[&str] = &["2012-10-01", "2000-01-01", "1972-03-15", "2012-02-29", "0001-01-01", "9999-12-31"];

/// Profile fields that rules are guarded on, as campaigns guard them
/// (`party == "dem" and ...`, `age >= 65 and ...`), with the constants of
/// the guards and whether the field is ordered. Rule sets guarded on a
/// field build the hash and range indexes of `narval::eval::dispatch`.
const GUARDS: &[(&str, &[&str], bool)] = &[
    ("party", MEMBERS, false),
    ("opt_party", MEMBERS, false),
    ("name", STRINGS, false),
    ("address.city", STRINGS, false),
    ("opt_address.city", STRINGS, false),
    ("flag", &["true", "false"], false),
    ("age", AGES, true),
    ("opt_age", AGES, true),
    ("address.visits", AGES, true),
    ("score", &["0.0", "0.5", "1.5", "2.5", "40.0", "57.6"], true),
    ("balance", &["$0", "$0.05", "$1", "$12.50", "$250", "$2500"], true),
    ("born", DATES, true),
    ("opt_date", DATES, true),
];

/// A test of a field against constants that the dispatch can file a rule under.
fn guard(rng: &mut Rng, field: &str, constants: &[&str], ordered: bool) -> String {
    let a = rng.pick(constants).to_string();
    let b = rng.pick(constants).to_string();
    match (ordered, rng.below(6)) {
        (_, 0) => format!("{field} == {a}"),
        (_, 1) => format!("{a} == {field}"),
        (_, 2) => format!("{field} in [{a}, {b}]"),
        (true, 3) => format!("{field} between {a} and {b}"),
        (true, 4) => format!("{field} {} {a}", rng.pick(&["<", "<=", ">", ">="])),
        (true, _) => format!("{a} {} {field}", rng.pick(&["<", "<=", ">", ">="])),
        (false, _) => format!("{field} == {a}"),
    }
}

/// One generated rule set: definitions, rules, guardrails and the
/// evaluation date.
#[derive(Clone, Debug)]
struct Rules {
    today: Date,
    definitions: Vec<String>,
    rules: Vec<String>,
    /// Requirements, holdouts and caps.
    guards: Vec<String>,
}

impl Rules {
    fn generate(seed: u64, rule_seeds: &[u64]) -> Rules {
        let mut rng = Rng(seed);
        let today = *rng.pick(&["2012-10-01", "2000-02-29", "1970-01-01", "9999-12-20", "0001-01-10"]);
        let mut defs: Vec<(String, T)> = Vec::new();
        let mut definitions = Vec::new();
        for k in 0..rng.below(6) {
            let t = *rng.pick(TYPES);
            let depth = rng.below(4) as u32;
            let body = Gen { rng: &mut rng, defs: &defs, scopes: Vec::new() }.expr(t, depth).text;
            let name = format!("d{k}");
            definitions.push(format!("{name} = {body}"));
            defs.push((name, t));
        }
        // The order of definitions carries no meaning.
        for i in (1..definitions.len()).rev() {
            definitions.swap(i, rng.below(i + 1));
        }
        let guarded = [*rng.pick(GUARDS), *rng.pick(GUARDS)];
        let rules = rule_seeds
            .iter()
            .enumerate()
            .map(|(n, &seed)| {
                let mut rng = Rng(seed);
                let depth = 1 + rng.below(4) as u32;
                let mut condition = Gen { rng: &mut rng, defs: &defs, scopes: Vec::new() }.expr(T::Bool, depth).text;
                if rng.chance(60) {
                    let (field, constants, ordered) = *rng.pick(&guarded);
                    let guard = guard(&mut rng, field, constants, ordered);
                    condition = if rng.chance(70) {
                        format!("{guard} and ({condition})")
                    } else {
                        format!("({condition}) and {guard}")
                    };
                }
                let description = if rng.chance(10) { " \"a rule\"" } else { "" };
                let arrow = if rng.chance(10) { "→" } else { "->" };
                format!("r{n}{description}: {condition} {arrow} {}", actions(&mut rng).join(", "))
            })
            .collect();
        let mut guards = Vec::new();
        let streams = ["s0", "s1", "s2", "s3", "i0", "i1", "i2", "solicitations", "issues"];
        for n in 0..rng.below(3) {
            let depth = 1 + rng.below(3) as u32;
            let condition = Gen { rng: &mut rng, defs: &defs, scopes: Vec::new() }.expr(T::Bool, depth).text;
            let mut chosen = BTreeSet::new();
            for _ in 0..1 + rng.below(3) {
                chosen.insert(*rng.pick(&streams));
            }
            let chosen: Vec<&str> = chosen.into_iter().collect();
            guards.push(format!("require q{n}: {condition} for {}", chosen.join(", ")));
        }
        if rng.chance(30) {
            let share = rng.pick(&["5%", "50%", "0.5%", "99.99%", "100%", "33.33%"]);
            let action = rng.pick(&["no solicitations", "no issues", "no s1", "no i0, no s2"]);
            guards.push(format!("holdout h0: {share} -> {action}"));
        }
        for kind in ["solicitation", "issue"] {
            if rng.chance(30) {
                guards.push(format!("at most {} {kind} streams", rng.below(4)));
            }
        }
        Rules { today: today.parse().unwrap(), definitions, rules, guards }
    }

    fn text(&self) -> String {
        format!(
            "{SCHEMA}\n{}\n\n{}\n\n{}\n",
            self.definitions.join("\n"),
            self.guards.join("\n"),
            self.rules.join("\n")
        )
    }
}

fn actions(rng: &mut Rng) -> Vec<String> {
    let streams = ["s0", "s1", "s2", "s3", "i0", "i1", "i2"];
    let mut chosen = BTreeSet::new();
    let suppressing = rng.chance(30);
    for _ in 0..1 + rng.below(3) {
        let action = match (suppressing, rng.below(12)) {
            (true, 0) => "no solicitations".to_string(),
            (true, 1) => "no issues".to_string(),
            (true, 2..=6) => format!("no {}", rng.pick(&streams)),
            _ => rng.pick(&streams).to_string(),
        };
        chosen.insert(action);
    }
    chosen.into_iter().collect()
}

// ---- profiles ---------------------------------------------------------------------

fn int_value(rng: &mut Rng) -> Json {
    match rng.below(24) {
        0 => json!(i64::MAX),
        1 => json!(i64::MIN),
        2 => json!(1_i64 << 62),
        3 => json!(-(1_i64 << 62)),
        4 => json!(3_037_000_500_i64),
        5 => json!(*rng.pick(&[9_007_199_254_740_993_i64, 4_503_599_627_370_496, 4_503_599_627_370_497])),
        // Written with a point: read as the whole number.
        6 => json!((rng.below(100) as f64) - 20.0),
        7 => json!(8_999_999_999_999_999.0),
        8..=13 => json!(*rng.pick(&[0, 1, -1, 2, 3, 7, 18, 40, 65, 100])),
        _ => json!(rng.below(150) as i64 - 50),
    }
}

fn number_value(rng: &mut Rng) -> Json {
    match rng.below(20) {
        0 => json!(1e300),
        1 => json!(-1e300),
        2 => json!(f64::MAX),
        3 => json!(5e-324),
        4 => json!(*rng.pick(&[-0.0, 1e16, 9.2e16, 9.3e16, -9.2e16, 4.5e13])),
        5 => json!(*rng.pick(&[40, 3, 0, 100])),
        6..=12 => json!(*rng.pick(&[0.0, 0.5, 1.5, 2.5, 57.6, 0.1, 0.3, 1.115, 2.675, 0.125, 100.0, 40.0])),
        _ => json!((rng.below(400) as f64 - 100.0) / 4.0),
    }
}

fn money_value(rng: &mut Rng) -> Json {
    match rng.below(16) {
        0..=3 => json!(*rng.pick(&[0_i64, 250, -5, 100, 25, 2500, 1, 92_233_720_368_547_758, -92_233_720_368_547_758])),
        4..=7 => json!(*rng.pick(&[12.5, 2500.99, 0.05, 0.01, 250.5, 100.99, -12.25])),
        8 => json!(*rng.pick(&[9_999_999_999_999.99, 70_000_000_000.01, 1e12, 1_000_000_000.5])),
        9..=12 => {
            json!(*rng.pick(&["12.50", "-5", "12.500", "0.05", "250.50", "2500", "-0.01", "92233720368547758.07"]))
        }
        13 => json!("-92233720368547758.08"),
        _ => json!((rng.below(100_000) as f64) / 100.0),
    }
}

fn string_value(rng: &mut Rng) -> Json {
    json!(*rng.pick(&[
        "",
        "OH",
        "jobs",
        "health",
        "healthcare",
        "health care",
        "care",
        "Ada",
        "Ada Lovelace",
        "a",
        "Z",
        "Columbus",
        "Akron",
        "Zoë",
        "x\"y",
    ]))
}

fn date_value(rng: &mut Rng) -> Json {
    json!(*rng.pick(&[
        "2012-10-01",
        "2012-09-24",
        "2012-10-08",
        "2012-02-29",
        "1972-03-15",
        "2000-01-01",
        "2000-02-29",
        "1970-01-01",
        "0001-01-01",
        "0001-01-03",
        "9999-12-31",
        "9999-12-25",
    ]))
}

fn list(rng: &mut Rng, max: usize, item: impl Fn(&mut Rng) -> Json) -> Json {
    let count = rng.below(max + 1);
    Json::Array((0..count).map(|_| item(rng)).collect())
}

/// Puts an optional field in: present, absent or null.
fn optional(rng: &mut Rng, object: &mut Map<String, Json>, key: &str, value: impl FnOnce(&mut Rng) -> Json) {
    match rng.below(20) {
        0..=7 => {}
        8..=10 => {
            object.insert(key.into(), Json::Null);
        }
        _ => {
            object.insert(key.into(), value(rng));
        }
    }
}

fn donation(rng: &mut Rng) -> Json {
    let mut d = Map::new();
    d.insert("amount".into(), money_value(rng));
    d.insert("context".into(), json!(*rng.pick(CONTEXT)));
    d.insert("date".into(), date_value(rng));
    d.insert("recurring".into(), json!(rng.chance(50)));
    optional(rng, &mut d, "refunded", |rng| json!(rng.chance(50)));
    optional(rng, &mut d, "fee", money_value);
    optional(rng, &mut d, "note", string_value);
    d.insert("share".into(), number_value(rng));
    d.insert("tags".into(), list(rng, 3, string_value));
    Json::Object(d)
}

fn gift(rng: &mut Rng) -> Json {
    let mut g = Map::new();
    g.insert("amount".into(), money_value(rng));
    optional(rng, &mut g, "day", date_value);
    Json::Object(g)
}

/// A profile as JSON; about one in seven is broken somewhere.
fn profile(seed: u64, id: usize) -> Json {
    let rng = &mut Rng(seed);
    let mut p = Map::new();
    p.insert("id".into(), json!(id));
    p.insert("flag".into(), json!(rng.chance(50)));
    optional(rng, &mut p, "opt_flag", |rng| json!(rng.chance(50)));
    p.insert("age".into(), int_value(rng));
    optional(rng, &mut p, "opt_age", int_value);
    p.insert("score".into(), number_value(rng));
    optional(rng, &mut p, "opt_score", number_value);
    p.insert("balance".into(), money_value(rng));
    optional(rng, &mut p, "opt_balance", money_value);
    p.insert("name".into(), string_value(rng));
    optional(rng, &mut p, "opt_name", string_value);
    p.insert("born".into(), date_value(rng));
    optional(rng, &mut p, "opt_date", date_value);
    p.insert("party".into(), json!(*rng.pick(PARTY)));
    optional(rng, &mut p, "opt_party", |rng| json!(*rng.pick(PARTY)));
    let mut address = Map::new();
    address.insert("city".into(), string_value(rng));
    optional(rng, &mut address, "zip", string_value);
    address.insert("visits".into(), int_value(rng));
    p.insert("address".into(), Json::Object(address));
    optional(rng, &mut p, "opt_address", |rng| {
        let mut a = Map::new();
        a.insert("city".into(), string_value(rng));
        optional(rng, &mut a, "since", date_value);
        Json::Object(a)
    });
    p.insert("issues".into(), list(rng, 4, string_value));
    optional(rng, &mut p, "opt_issues", |rng| list(rng, 3, string_value));
    p.insert("nums".into(), list(rng, 4, int_value));
    p.insert("ratios".into(), list(rng, 4, number_value));
    p.insert("votes".into(), list(rng, 4, |rng| json!(rng.chance(50))));
    p.insert("donations".into(), list(rng, 4, donation));
    optional(rng, &mut p, "gifts", |rng| list(rng, 3, gift));
    if rng.chance(20) {
        p.insert("shoe_size".into(), json!(44));
    }
    if rng.chance(15) {
        break_something(rng, &mut p);
    }
    if rng.chance(1) {
        return rng.pick(&[json!([1, 2]), json!("profile"), json!(null), json!(7)]).clone();
    }
    Json::Object(p)
}

/// One field of a profile made invalid: missing, null, or of a wrong type
/// or value; sometimes deep inside.
fn break_something(rng: &mut Rng, p: &mut Map<String, Json>) {
    let required = ["flag", "age", "score", "balance", "name", "born", "party", "address", "issues", "nums"];
    let wrong: &[(&str, Json)] = &[
        ("flag", json!("true")),
        ("flag", json!(0)),
        ("age", json!(40.5)),
        ("age", json!("40")),
        ("age", json!(1e19)),
        ("age", json!(9_223_372_036_854_775_808_u64)),
        ("opt_age", json!(true)),
        ("score", json!("57.6")),
        ("opt_score", json!([1.0])),
        ("balance", json!(12.345)),
        ("balance", json!(1_000_000_000_000_000.5)),
        ("balance", json!(1e16)),
        ("opt_balance", json!(10_000_000_000_000.0)),
        ("balance", json!("$12")),
        ("balance", json!("1e3")),
        ("balance", json!("12.")),
        ("balance", json!("92233720368547758.08")),
        ("balance", json!(92_233_720_368_547_759_i64)),
        ("opt_balance", json!(0.001)),
        ("name", json!(7)),
        ("born", json!("2012-02-30")),
        ("born", json!("2012-1-01")),
        ("born", json!("0000-01-01")),
        ("opt_date", json!(20121001)),
        ("party", json!("green")),
        ("party", json!("Dem")),
        ("opt_party", json!("")),
        ("address", json!("Main Street")),
        ("address", json!({"zip": "43004", "visits": 1})),
        ("address", json!({"city": "Akron", "visits": "1"})),
        ("opt_address", json!({"since": "2012-01-01"})),
        ("issues", json!(["jobs", null])),
        ("issues", json!("jobs")),
        ("opt_issues", json!([7])),
        ("nums", json!([1, 2.5])),
        ("votes", json!([true, "false"])),
        ("donations", json!({"amount": 1})),
        ("gifts", json!([null])),
        ("gifts", json!([{"day": "2012-01-01"}])),
    ];
    match rng.below(4) {
        0 => {
            p.remove(*rng.pick(&required));
        }
        1 => {
            p.insert(rng.pick(&required).to_string(), Json::Null);
        }
        2 => {
            // Deep in a donation.
            let choices = [
                ("amount", json!("$5")),
                ("amount", json!(1.005)),
                ("context", json!("email")),
                ("date", json!("2012-13-01")),
                ("recurring", json!(null)),
                ("share", json!("0.5")),
                ("tags", json!([1])),
                ("fee", json!(-0.001)),
            ];
            let broken = rng.pick(&choices);
            let mut list = vec![donation(rng)];
            if let Json::Object(d) = &mut list[0] {
                d.insert(broken.0.to_string(), broken.1.clone());
            }
            p.insert("donations".into(), Json::Array(list));
        }
        _ => {
            let (key, value) = rng.pick(wrong);
            p.insert(key.to_string(), value.clone());
        }
    }
}

// ---- comparing --------------------------------------------------------------------

fn streams(assignment: &Assignment<'_>) -> Streams {
    let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect();
    Streams { solicitations: names(&assignment.solicitations), issues: names(&assignment.issues) }
}

fn show(result: &Option<Streams>) -> String {
    match result {
        None => "rejected".into(),
        Some(s) => format!("solicitations {:?}, issues {:?}", s.solicitations, s.issues),
    }
}

/// Counts kept across the cases of one run.
#[derive(Default)]
struct Stats {
    generated: usize,
    built: usize,
    refused: Vec<String>,
    cases: usize,
    rejected: usize,
    assigned_some: usize,
    cli_sets: usize,
    cli_cases: usize,
    indexed_sets: usize,
    /// Rule outcomes compared between the specialised and general evaluators.
    outcomes: usize,
    /// Rule sets run as native code, by engine (in the order of
    /// [`Engine::ALL`]).
    native: Vec<usize>,
}

/// What one rule set and profile came to, for a failure message.
fn explain(rules: &RuleSet, text: &str, today: Date, json: &Json, results: &[(String, &Option<Streams>)]) -> String {
    let mut out = format!("rule file (today {today}):\n{text}\nprofile: {json}\n");
    for (path, result) in results {
        let _ = writeln!(out, "  {path:<12} {}", show(result));
    }
    match reference::evaluate(rules.checked(), today, json) {
        Ok((_, truths)) => {
            for (rule, truth) in rules.checked().rules.iter().zip(truths) {
                let _ = writeln!(out, "  reference: rule {} is {truth:?}", rule.name);
            }
        }
        Err(why) => {
            let _ = writeln!(out, "  reference rejects: {why}");
        }
    }
    out
}

fn check(stats: &RefCell<Stats>, seed: u64, rule_seeds: &[u64], profiles_seed: u64) -> Result<(), TestCaseError> {
    let generated = Rules::generate(seed, rule_seeds);
    let text = generated.text();
    let today = generated.today;
    stats.borrow_mut().generated += 1;
    let rules = match RuleSet::builder().source("diff.narval", text.clone()).today(today).build() {
        Ok(rules) => rules,
        Err(report) => {
            stats.borrow_mut().refused.push(format!("{text}\n{}", report.render()));
            return Err(TestCaseError::reject("the rule set does not build"));
        }
    };
    let engines: Vec<(Engine, RuleSet)> =
        Engine::ALL.iter().map(|&engine| (engine, rules.with_engine(engine))).collect();
    let built = {
        let mut stats = stats.borrow_mut();
        stats.built += 1;
        stats.native.resize(engines.len(), 0);
        for ((_, by), native) in engines.iter().zip(&mut stats.native) {
            *native += usize::from(by.is_native());
        }
        let dispatch = rules.dispatch();
        stats.indexed_sets += usize::from(!dispatch.indexes.is_empty() || !dispatch.ranges.is_empty());
        stats.built
    };
    let mut rng = Rng(profiles_seed);
    let profiles: Vec<Json> = (0..PROFILES).map(|id| profile(rng.next(), id)).collect();
    let lines: Vec<String> = profiles.iter().map(Json::to_string).collect();
    let line_refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let parallel = rules.assign_lines_parallel(&line_refs, 3);
    let mut expected_all = Vec::new();
    for (k, (json, line)) in profiles.iter().zip(&lines).enumerate() {
        let expected = reference::assign(rules.checked(), today, json).ok();
        let engine = rules.assign_json(line);
        let indexed = engine.as_ref().ok().map(streams);
        let by_engine: Vec<Option<Streams>> =
            engines.iter().map(|(_, by)| by.assign_json(line).ok().map(|a| streams(&a))).collect();
        let threaded = parallel[k].as_ref().ok().map(streams);
        if let Ok(profile) = rules.decode_json(line) {
            // Rule by rule, the specialised conditions `run` evaluates agree with
            // the general evaluator on every rule they reach.
            let program = rules.program();
            let mut outcomes = vec![None; program.rules.len()];
            program.run(&profile, &mut narval::eval::interpret::Scratch::new(program), |rule, outcome| {
                outcomes[rule] = Some(outcome)
            });
            let mut scratch = narval::eval::interpret::Scratch::new(program);
            for (rule, outcome) in outcomes.iter().enumerate() {
                let general = program.outcome(program.rules[rule].condition, &mut scratch, &profile);
                if let Some(fast) = outcome {
                    if *fast != general {
                        return Err(TestCaseError::fail(format!(
                            "rule {rule}: specialised {fast:?}, general {general:?}\n{text}\n{line}"
                        )));
                    }
                }
            }
            stats.borrow_mut().outcomes += outcomes.iter().flatten().count();
        }
        let mut results = vec![("reference".to_owned(), &expected), ("assign_json".to_owned(), &indexed)];
        results.extend(engines.iter().zip(&by_engine).map(|((engine, _), result)| (format!("{engine:?}"), result)));
        results.push(("parallel".to_owned(), &threaded));
        if results.iter().any(|(_, r)| **r != expected) {
            return Err(TestCaseError::fail(format!(
                "the engine disagrees with the reference\n{}engine: {:?}",
                explain(&rules, &text, today, json, &results),
                engine.err()
            )));
        }
        let mut stats = stats.borrow_mut();
        stats.cases += 1;
        match &expected {
            None => stats.rejected += 1,
            Some(s) if !s.solicitations.is_empty() || !s.issues.is_empty() => stats.assigned_some += 1,
            Some(_) => {}
        }
        expected_all.push(expected);
    }
    if built % CLI_EVERY == 1 {
        check_cli(&rules, &text, today, &profiles, &lines, &expected_all)?;
        let mut stats = stats.borrow_mut();
        stats.cli_sets += 1;
        stats.cli_cases += profiles.len();
    }
    Ok(())
}

/// `narval assign` on the profiles as NDJSON: each line assigned as the
/// reference says, or reported as rejected on standard error.
fn check_cli(
    rules: &RuleSet,
    text: &str,
    today: Date,
    profiles: &[Json],
    lines: &[String],
    expected: &[Option<Streams>],
) -> Result<(), TestCaseError> {
    let dir = std::env::temp_dir().join(format!("narval-differential-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rule_file: PathBuf = dir.join("rules.narval");
    let profile_file: PathBuf = dir.join("profiles.ndjson");
    std::fs::write(&rule_file, text).unwrap();
    std::fs::write(&profile_file, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_narval"))
        .arg("assign")
        .arg(&rule_file)
        .arg("--profiles")
        .arg(&profile_file)
        .args(["--today", &today.to_string(), "--threads", "2"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    let mut assigned: BTreeMap<u64, Streams> = BTreeMap::new();
    let mut order = Vec::new();
    for line in stdout.lines() {
        let value: Json = serde_json::from_str(line).unwrap();
        let names = |key: &str| -> Vec<String> {
            value[key].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
        };
        let id = value["id"].as_u64().unwrap();
        order.push(id);
        assigned.insert(id, Streams { solicitations: names("solicitations"), issues: names("issues") });
    }
    let rejected: BTreeSet<usize> =
        stderr.lines().filter_map(|l| l.strip_prefix("line ")?.split_once(':')?.0.parse().ok()).collect();
    prop_assert!(order.windows(2).all(|w| w[0] < w[1]), "output out of order: {order:?}");
    for (k, expected) in expected.iter().enumerate() {
        let cli = if rejected.contains(&(k + 1)) { None } else { assigned.get(&(k as u64)).cloned() };
        if cli != *expected || (cli.is_none() && assigned.contains_key(&(k as u64))) {
            return Err(TestCaseError::fail(format!(
                "narval assign disagrees with the reference on line {}\nstderr: {stderr}\n{}",
                k + 1,
                explain(
                    rules,
                    text,
                    today,
                    &profiles[k],
                    &[("reference".into(), expected), ("narval assign".into(), &cli)]
                )
            )));
        }
    }
    let rejections = expected.iter().filter(|e| e.is_none()).count();
    prop_assert_eq!(output.status.code(), Some(if rejections > 0 { 3 } else { 0 }), "{}", stderr);
    Ok(())
}

/// The number of rule sets to try: `NARVAL_DIFF_CASES`, or 300.
fn rule_sets() -> u32 {
    std::env::var("NARVAL_DIFF_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(300)
}

#[test]
fn the_engine_agrees_with_the_reference_evaluator() {
    let cases = rule_sets();
    let config = Config {
        cases,
        max_global_rejects: cases,
        failure_persistence: None,
        max_shrink_iters: 2048,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy =
        (any::<u64>().no_shrink(), prop::collection::vec(any::<u64>().no_shrink(), 1..=12), any::<u64>().no_shrink());
    let stats = RefCell::new(Stats::default());
    let result =
        runner.run(&strategy, |(seed, rule_seeds, profiles_seed)| check(&stats, seed, &rule_seeds, profiles_seed));
    let stats = stats.into_inner();
    eprintln!(
        "differential: {} rule sets generated, {} built; {} cases (rule set x profile) compared on {} paths \
         ({} rejected by all, {} given some stream); {} rule sets ({} cases) also through `narval assign`; \
         {} rule sets with dispatch indexes; {} rule outcomes compared, specialised against general; \
         rule sets run as native code, by engine: {}",
        stats.generated,
        stats.built,
        stats.cases,
        Engine::ALL.len() + 3,
        stats.rejected,
        stats.assigned_some,
        stats.cli_sets,
        stats.cli_cases,
        stats.indexed_sets,
        stats.outcomes,
        Engine::ALL.iter().zip(&stats.native).map(|(e, n)| format!("{e:?} {n}")).collect::<Vec<_>>().join(", ")
    );
    if let Err(error) = result {
        panic!("{error}");
    }
    for refused in stats.refused.iter().take(3) {
        eprintln!("refused:\n{refused}");
    }
    assert!(
        stats.built * 100 >= stats.generated * 95,
        "only {} of {} generated rule sets build",
        stats.built,
        stats.generated
    );
    // The profiles are varied enough to matter: some rejected, many assigned.
    assert!(stats.rejected * 50 >= stats.cases, "too few rejected profiles: {}", stats.rejected);
    assert!(stats.assigned_some * 4 >= stats.cases, "too few profiles given a stream: {}", stats.assigned_some);
    assert!(stats.outcomes >= stats.cases, "too few rule outcomes compared: {}", stats.outcomes);
    // Native code is what `assign_json` and every native engine ran, for
    // every rule set it could be generated for: all of them; the other
    // engines never ran it.
    for (engine, native) in Engine::ALL.iter().zip(&stats.native) {
        let expected = if narval::NATIVE && engine.runs_native_code() { stats.built } else { 0 };
        assert_eq!(*native, expected, "rule sets run as native code by {engine:?}");
    }
}

/// The reference itself, on the bundled campaign and its profiles.
#[test]
fn the_reference_agrees_on_the_campaign() {
    let rules = RuleSet::builder()
        .file(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/campaign-2012/campaign.narval"))
        .today("2012-10-01".parse().unwrap())
        .build()
        .unwrap();
    let profiles = include_str!("../examples/campaign-2012/profiles.ndjson");
    let mut assigned = 0;
    for line in profiles.lines() {
        let json: Json = serde_json::from_str(line).unwrap();
        let expected = reference::assign(rules.checked(), "2012-10-01".parse().unwrap(), &json).unwrap();
        assert_eq!(streams(&rules.assign_json(line).unwrap()), expected, "{line}");
        assigned += usize::from(!expected.solicitations.is_empty());
    }
    assert!(assigned > 10);
}

/// The differential corpus of the SQL back end: rule sets from this
/// file's generator that build, each in `DIR/NNNN/` as `rules.narval`, its
/// evaluation date in `today` and `PROFILES_PER_SQL_SET` generated
/// profiles (valid or not) in `profiles.ndjson`. `.ci/sql.sh` sets
/// `NARVAL_SQL_CORPUS=DIR` and runs this test to write it, then
/// `tests/sql/live.py --corpus DIR` compares `narval assign` with the SQL
/// of every engine on it, row for row; `NARVAL_SQL_CORPUS_SETS` sets the
/// number of rule sets (150), `NARVAL_SQL_CORPUS_SEED` the seed. Without
/// the variable, 20 rule sets go to a temporary folder. Either way, every
/// rule set is written as SQL in every dialect, or refused with E0501 and
/// nothing else: the generator's whole language passes through the SQL
/// writer, which must neither fail otherwise nor panic.
#[test]
fn the_sql_corpus_is_written_and_every_rule_set_becomes_sql_or_e0501() {
    const PROFILES_PER_SQL_SET: usize = 100;
    let env = |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (dir, sets) = match std::env::var_os("NARVAL_SQL_CORPUS") {
        Some(dir) => (PathBuf::from(dir), env("NARVAL_SQL_CORPUS_SETS", 150)),
        None => (std::env::temp_dir().join(format!("narval-sql-corpus-{}", std::process::id())), 20),
    };
    let mut rng = Rng(env("NARVAL_SQL_CORPUS_SEED", 2012));
    let (mut written, mut tried, mut refused, mut queries) = (0, 0, 0, 0);
    while written < sets {
        tried += 1;
        assert!(tried < sets * 4, "too few generated rule sets build: {written} of {tried}");
        let rule_seeds: Vec<u64> = (0..1 + rng.below(12)).map(|_| rng.next()).collect();
        let rules = Rules::generate(rng.next(), &rule_seeds);
        let text = rules.text();
        let Ok(built) = RuleSet::builder().source("rules.narval", text.clone()).today(rules.today).build() else {
            continue;
        };
        for dialect in narval::Dialect::ALL {
            match built.sql(dialect, "profiles", "id") {
                Ok(query) => {
                    assert!(query.starts_with("SELECT id, "), "{query}");
                    queries += 1;
                }
                Err(report) => {
                    let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
                    assert!(!codes.is_empty() && codes.iter().all(|c| *c == "E0501"), "{}\n{text}", report.render());
                    refused += 1;
                }
            }
        }
        let case = dir.join(format!("{written:04}"));
        std::fs::create_dir_all(&case).unwrap();
        std::fs::write(case.join("rules.narval"), &text).unwrap();
        std::fs::write(case.join("today"), rules.today.to_string()).unwrap();
        let seed = rng.next();
        let mut lines = String::new();
        for id in 0..PROFILES_PER_SQL_SET {
            lines.push_str(&profile(seed.wrapping_add(id as u64), id).to_string());
            lines.push('\n');
        }
        std::fs::write(case.join("profiles.ndjson"), lines).unwrap();
        written += 1;
    }
    eprintln!(
        "sql corpus: {written} rule sets of {tried} generated, {PROFILES_PER_SQL_SET} profiles each, in {}; \
         {queries} queries written, {refused} refused (E0501)",
        dir.display()
    );
    // Most rule sets are written as SQL: refusals are the exception.
    assert!(queries * 10 >= (queries + refused) * 8, "{refused} of {} refused", queries + refused);
    if std::env::var_os("NARVAL_SQL_CORPUS").is_none() {
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
