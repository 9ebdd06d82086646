//! A plain reference evaluator for differential tests.
//!
//! It walks the checked rule set (`narval::ir`) as a tree, over a profile
//! read straight from a `serde_json::Value`: none of the engine's decoder,
//! compiler, folding, indexes or evaluator is used, so a test that compares
//! the two checks all of them. It is written to be obviously right, not
//! fast: every value is owned, nothing is cached, every operator is one
//! `match` arm that says what `docs/LANGUAGE.md` says (sections 3.6 and 7
//! to 10).
//!
//! Integers, money and days are computed in `i128` and then checked against
//! the 64-bit range, so an overflow is never a wrap and never depends on the
//! order of the operands.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use narval::ir::{AggregateFn, StreamKind};
use narval::ir::{ArithOp, Base, CheckedRules, CmpOp, Const, Expr, ExprKind, Schema, TextOp, Type};
use serde_json::Value as Json;

/// A value: three-valued, owned, with enum members by name.
#[derive(Clone, Debug, PartialEq)]
pub enum V {
    /// Missing data, or a result that does not exist.
    Unknown,
    /// `bool`
    Bool(bool),
    /// `int`, and numbers of days.
    Int(i64),
    /// `number`
    Number(f64),
    /// `money` in cents.
    Money(i64),
    /// `date`, as days since 1970-01-01.
    Date(i64),
    /// `string`
    Str(String),
    /// An enum member.
    Enum(String),
    /// A list.
    List(Vec<V>),
    /// A record, by field name.
    Record(BTreeMap<String, V>),
}

/// The streams a profile gets, by name, each kind in priority order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Streams {
    pub solicitations: Vec<String>,
    pub issues: Vec<String>,
}

/// How a rule's condition came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truth {
    True,
    False,
    Unknown,
}

/// The streams `rules` give `profile` on the date `today`, or why the
/// profile is rejected.
pub fn assign(rules: &CheckedRules, today: narval::Date, profile: &Json) -> Result<Streams, String> {
    let (streams, _) = evaluate(rules, today, profile)?;
    Ok(streams)
}

/// [`assign`], with how each rule came out (in the checked order).
pub fn evaluate(rules: &CheckedRules, today: narval::Date, profile: &Json) -> Result<(Streams, Vec<Truth>), String> {
    let profile = read_profile(rules, profile)?;
    let cx = Cx { rules, today: i64::from(today.0), profile: &profile };
    let mut assigned = BTreeSet::new();
    let mut suppressed = BTreeSet::new();
    let mut truths = Vec::new();
    for rule in &rules.rules {
        let truth = truth(&cx.eval(&rule.condition, &mut Vec::new()));
        truths.push(truth);
        // An assignment needs a definite yes; a suppression applies when
        // the answer is yes or cannot be told (fail closed).
        if truth == Truth::True {
            assigned.extend(rule.assigns.iter().copied());
        }
        if truth != Truth::False {
            suppressed.extend(rule.suppresses.iter().copied());
        }
    }
    // A requirement that is not true suppresses its streams, whatever the rules said.
    for requirement in &rules.requirements {
        if truth(&cx.eval(&requirement.condition, &mut Vec::new())) != Truth::True {
            suppressed.extend(requirement.streams.iter().copied());
        }
    }
    // A cap keeps the first streams of its kind that are left, in declaration order.
    for cap in &rules.caps {
        let mut kept = 0;
        for (id, stream) in rules.streams.iter().enumerate() {
            if stream.kind == cap.kind && assigned.contains(&id) && !suppressed.contains(&id) {
                if kept < cap.most {
                    kept += 1;
                } else {
                    suppressed.insert(id);
                }
            }
        }
    }
    let mut streams = Streams { solicitations: Vec::new(), issues: Vec::new() };
    for (id, stream) in rules.streams.iter().enumerate() {
        if assigned.contains(&id) && !suppressed.contains(&id) {
            match stream.kind {
                StreamKind::Solicitation => streams.solicitations.push(stream.name.clone()),
                StreamKind::Issue => streams.issues.push(stream.name.clone()),
            }
        }
    }
    Ok((streams, truths))
}

fn truth(value: &V) -> Truth {
    match value {
        V::Bool(true) => Truth::True,
        V::Bool(false) => Truth::False,
        _ => Truth::Unknown,
    }
}

fn from_truth(truth: Truth) -> V {
    match truth {
        Truth::True => V::Bool(true),
        Truth::False => V::Bool(false),
        Truth::Unknown => V::Unknown,
    }
}

// ---- reading a profile ------------------------------------------------------

/// The top-level fields some rule reads, itself or through the definitions
/// it uses, by name. Only these are read from a profile (LANGUAGE.md 3.6):
/// the others are not checked, nor those only an unused definition reads.
pub fn profile_reads(rules: &CheckedRules) -> BTreeSet<String> {
    fn visit(e: &Expr, slots: &mut BTreeSet<usize>, defs: &mut BTreeSet<usize>) {
        let mut visit = |e: &Expr, slots: &mut BTreeSet<usize>| visit(e, slots, defs);
        match &e.kind {
            ExprKind::Def(id) => {
                defs.insert(*id);
            }
            ExprKind::Field { base: Base::Profile, path } => {
                if let Some(first) = path.first() {
                    slots.insert(*first);
                }
            }
            ExprKind::Const(_) | ExprKind::Field { .. } | ExprKind::Today => {}
            ExprKind::List(items) => items.iter().for_each(|i| visit(i, slots)),
            ExprKind::Not(a)
            | ExprKind::Neg(a)
            | ExprKind::IntToNumber(a)
            | ExprKind::IntToMoney(a)
            | ExprKind::MoneyToNumber(a)
            | ExprKind::NumberToMoney(a)
            | ExprKind::IsMissing(a)
            | ExprKind::Bucket { value: a, .. } => visit(a, slots),
            ExprKind::And(a, b)
            | ExprKind::Or(a, b)
            | ExprKind::Compare(_, a, b)
            | ExprKind::Arith(_, a, b)
            | ExprKind::Text(_, a, b)
            | ExprKind::Coalesce(a, b)
            | ExprKind::In { value: a, list: b } => {
                visit(a, slots);
                visit(b, slots);
            }
            ExprKind::Between { value, low, high } => {
                visit(value, slots);
                visit(low, slots);
                visit(high, slots);
            }
            ExprKind::Aggregate { list, filter, .. } => {
                visit(list, slots);
                if let Some(filter) = filter {
                    visit(filter, slots);
                }
            }
        }
    }
    let mut slots = BTreeSet::new();
    let mut used = BTreeSet::new();
    for rule in &rules.rules {
        visit(&rule.condition, &mut slots, &mut used);
    }
    for requirement in &rules.requirements {
        visit(&requirement.condition, &mut slots, &mut used);
    }
    // A definition refers only to definitions with smaller ids: from the
    // largest down, each used definition adds those it uses.
    for (id, definition) in rules.definitions.iter().enumerate().rev() {
        if used.contains(&id) {
            visit(&definition.value, &mut slots, &mut used);
        }
    }
    let root = &rules.schema.records[0];
    slots.into_iter().map(|slot| root.fields.get_index(slot).unwrap().0.clone()).collect()
}

/// The profile as a record of the fields the rules read, each checked whole
/// against its schema type.
fn read_profile(rules: &CheckedRules, json: &Json) -> Result<V, String> {
    let Json::Object(object) = json else { return Err("a profile must be a JSON object".into()) };
    let reads = profile_reads(rules);
    let mut record = BTreeMap::new();
    for (name, field) in &rules.schema.records[0].fields {
        if reads.contains(name) {
            let value = read_value(&rules.schema, &field.ty, field.optional, object.get(name))
                .map_err(|why| format!("field `{name}`: {why}"))?;
            record.insert(name.clone(), value);
        }
    }
    Ok(V::Record(record))
}

/// One value of a schema type, per the table of LANGUAGE.md 3.6.
fn read_value(schema: &Schema, ty: &Type, optional: bool, json: Option<&Json>) -> Result<V, String> {
    let json = match json {
        None | Some(Json::Null) if optional => return Ok(V::Unknown),
        None | Some(Json::Null) => return Err("missing or null, but not optional".into()),
        Some(json) => json,
    };
    match (ty, json) {
        (Type::Bool, Json::Bool(b)) => Ok(V::Bool(*b)),
        (Type::Int, Json::Number(n)) => {
            if let Some(i) = n.as_i64() {
                Ok(V::Int(i))
            } else if n.is_u64() {
                Err("an int beyond the 64-bit range".into())
            } else {
                // Written with a point or an exponent: a whole number is
                // read as an int (`3.0` is 3) below 9e15 in size, where a
                // double still holds every whole number exactly.
                let f = n.as_f64().unwrap();
                if f.fract() == 0.0 && f.abs() < 9e15 {
                    Ok(V::Int(f as i64))
                } else {
                    Err("not a whole number within the range of int".into())
                }
            }
        }
        (Type::Number, Json::Number(n)) => Ok(V::Number(n.as_f64().unwrap())),
        (Type::Money, Json::Number(n)) => {
            let cents = if let Some(i) = n.as_i64() {
                i128::from(i) * 100
            } else if let Some(u) = n.as_u64() {
                i128::from(u) * 100
            } else {
                // The decimal the number was written as: the shortest one
                // that reads back as the same double. Below 1e13 (LANGUAGE.md
                // 3.6) a double tells every amount of cents from the next.
                let f = n.as_f64().unwrap();
                if f.abs() >= 1e13 {
                    return Err("a JSON number too large to hold cents exactly".into());
                }
                decimal_cents(&format!("{f}")).ok_or("more than two decimals")?
            };
            i64::try_from(cents).map(V::Money).map_err(|_| "an amount beyond the range of cents".into())
        }
        (Type::Money, Json::String(s)) => {
            let cents = decimal_cents(s).ok_or("not a plain decimal with at most two decimals")?;
            i64::try_from(cents).map(V::Money).map_err(|_| "an amount beyond the range of cents".into())
        }
        (Type::String, Json::String(s)) => Ok(V::Str(s.clone())),
        (Type::Date, Json::String(s)) => read_date(s).map(V::Date).ok_or_else(|| "not a calendar date".into()),
        (Type::Enum(id), Json::String(s)) => {
            if schema.enums[*id].members.contains(s) {
                Ok(V::Enum(s.clone()))
            } else {
                Err("not a member of the enum".into())
            }
        }
        (Type::Record(id), Json::Object(object)) => {
            let mut record = BTreeMap::new();
            for (name, field) in &schema.records[*id].fields {
                let value = read_value(schema, &field.ty, field.optional, object.get(name))
                    .map_err(|why| format!("`{name}`: {why}"))?;
                record.insert(name.clone(), value);
            }
            Ok(V::Record(record))
        }
        (Type::List(element), Json::Array(items)) => {
            // List elements are never optional: a null rejects the profile.
            let items = items.iter().map(|item| read_value(schema, element, false, Some(item)));
            items.collect::<Result<Vec<V>, String>>().map(V::List)
        }
        (ty, json) => Err(format!("a {ty:?} cannot be {json}")),
    }
}

/// Cents of a plain decimal: `-`, digits, then optionally `.` and digits;
/// at most two decimals once trailing zeros are dropped.
fn decimal_cents(text: &str) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match digits.split_once('.') {
        Some((whole, fraction)) if !fraction.is_empty() => (whole, fraction),
        Some(_) => return None,
        None => (digits, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) || whole.len() > 30 {
        return None;
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 2 {
        return None;
    }
    let mut cents: i128 = whole.parse::<i128>().ok()? * 100;
    for (i, digit) in fraction.bytes().enumerate() {
        cents += i128::from(digit - b'0') * if i == 0 { 10 } else { 1 };
    }
    Some(if negative { -cents } else { cents })
}

/// `YYYY-MM-DD` of a date that exists, years 1 to 9999, as days since
/// 1970-01-01.
fn read_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if !(1..=9999).contains(&year) || !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(day_number(year, month, day))
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01: whole years counted from year 1 by the Gregorian
/// leap rule, then whole months, then days.
fn day_number(year: i64, month: i64, day: i64) -> i64 {
    let days_before_year = |y: i64| 365 * (y - 1) + (y - 1) / 4 - (y - 1) / 100 + (y - 1) / 400;
    let months: i64 = (1..month).map(|m| days_in_month(year, m)).sum();
    days_before_year(year) + months + day - 1 - days_before_year(1970)
}

/// The first and last day a date may be (years 1 to 9999).
fn date_range() -> (i64, i64) {
    (day_number(1, 1, 1), day_number(9999, 12, 31))
}

// ---- evaluating -------------------------------------------------------------

struct Cx<'a> {
    rules: &'a CheckedRules,
    today: i64,
    profile: &'a V,
}

/// The elements of the enclosing aggregates, innermost last, with their types.
type Elements = Vec<(V, Type)>;

fn int(value: i128) -> V {
    i64::try_from(value).map_or(V::Unknown, V::Int)
}

fn money(value: i128) -> V {
    i64::try_from(value).map_or(V::Unknown, V::Money)
}

fn number(value: f64) -> V {
    if value.is_finite() {
        V::Number(value)
    } else {
        V::Unknown
    }
}

fn date(days: i128) -> V {
    let (first, last) = date_range();
    if days >= i128::from(first) && days <= i128::from(last) {
        V::Date(days as i64)
    } else {
        V::Unknown
    }
}

impl Cx<'_> {
    fn eval(&self, e: &Expr, elements: &mut Elements) -> V {
        match &e.kind {
            ExprKind::Const(c) => self.constant(c, &e.ty),
            // A list literal only stands after `in`, where it is read item by item.
            ExprKind::List(_) => V::Unknown,
            ExprKind::Field { base, path } => {
                let (start, ty) = match base {
                    Base::Profile => (self.profile.clone(), Type::Record(0)),
                    Base::Element(depth) => {
                        let index = elements.len() - 1 - *depth as usize;
                        elements[index].clone()
                    }
                };
                self.read(start, &ty, path)
            }
            // Definitions belong to the profile: no element is visible in them.
            ExprKind::Def(id) => self.eval(&self.rules.definitions[*id].value, &mut Vec::new()),
            ExprKind::Today => V::Date(self.today),
            ExprKind::Not(a) => match truth(&self.eval(a, elements)) {
                Truth::True => V::Bool(false),
                Truth::False => V::Bool(true),
                Truth::Unknown => V::Unknown,
            },
            ExprKind::Neg(a) => match self.eval(a, elements) {
                V::Int(i) => int(-i128::from(i)),
                V::Money(m) => money(-i128::from(m)),
                V::Number(n) => V::Number(-n),
                _ => V::Unknown,
            },
            ExprKind::And(a, b) => {
                let (a, b) = (truth(&self.eval(a, elements)), truth(&self.eval(b, elements)));
                from_truth(kleene_and(a, b))
            }
            ExprKind::Or(a, b) => {
                let (a, b) = (truth(&self.eval(a, elements)), truth(&self.eval(b, elements)));
                match (a, b) {
                    (Truth::True, _) | (_, Truth::True) => V::Bool(true),
                    (Truth::False, Truth::False) => V::Bool(false),
                    _ => V::Unknown,
                }
            }
            ExprKind::Compare(op, a, b) => {
                let (a, b) = (self.eval(a, elements), self.eval(b, elements));
                from_truth(compare(*op, &a, &b))
            }
            ExprKind::Arith(op, a, b) => {
                let (a, b) = (self.eval(a, elements), self.eval(b, elements));
                arith(*op, a, b)
            }
            ExprKind::IntToNumber(a) => match self.eval(a, elements) {
                V::Int(i) => V::Number(i as f64),
                _ => V::Unknown,
            },
            ExprKind::IntToMoney(a) => match self.eval(a, elements) {
                V::Int(i) => money(i128::from(i) * 100),
                _ => V::Unknown,
            },
            ExprKind::MoneyToNumber(a) => match self.eval(a, elements) {
                // The amount as a number: the double nearest to the decimal.
                V::Money(cents) => V::Number(cents_text(cents).parse().unwrap()),
                _ => V::Unknown,
            },
            ExprKind::NumberToMoney(a) => match self.eval(a, elements) {
                V::Number(n) => nearest_cent(n).map_or(V::Unknown, money),
                _ => V::Unknown,
            },
            ExprKind::Between { value, low, high } => {
                let value = self.eval(value, elements);
                let (low, high) = (self.eval(low, elements), self.eval(high, elements));
                from_truth(kleene_and(compare(CmpOp::Le, &low, &value), compare(CmpOp::Le, &value, &high)))
            }
            ExprKind::In { value, list } => {
                let value = self.eval(value, elements);
                let items = match &list.kind {
                    ExprKind::List(items) => items.iter().map(|i| self.eval(i, elements)).collect(),
                    _ => match self.eval(list, elements) {
                        V::List(items) => items,
                        _ => return V::Unknown,
                    },
                };
                from_truth(member(&value, &items))
            }
            ExprKind::Text(op, a, b) => match (self.eval(a, elements), self.eval(b, elements)) {
                (V::Str(a), V::Str(b)) => V::Bool(match op {
                    TextOp::Contains => a.contains(&b),
                    TextOp::StartsWith => a.starts_with(&b),
                    TextOp::EndsWith => a.ends_with(&b),
                }),
                _ => V::Unknown,
            },
            ExprKind::IsMissing(a) => V::Bool(self.eval(a, elements) == V::Unknown),
            ExprKind::Coalesce(a, b) => match self.eval(a, elements) {
                V::Unknown => self.eval(b, elements),
                known => known,
            },
            ExprKind::Aggregate { func, list, projection, filter } => {
                self.aggregate(*func, list, projection, filter.as_deref(), elements)
            }
            // The guide's definition, section 18.3: the first four bytes of
            // SHA-256 over `salt:text`, big-endian, scaled to 0..10000 and
            // floored, in hundredths.
            ExprKind::Bucket { value, salt } => {
                let text = match self.eval(value, elements) {
                    V::Int(i) => i.to_string(),
                    V::Str(s) => s,
                    _ => return V::Unknown,
                };
                use sha2::Digest;
                let digest = sha2::Sha256::digest(format!("{salt}:{text}").as_bytes());
                let h = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
                V::Number((f64::from(h) * 10000.0 / 4294967296.0).floor() / 100.0)
            }
        }
    }

    fn constant(&self, c: &Const, ty: &Type) -> V {
        match c {
            Const::Bool(b) => V::Bool(*b),
            Const::Int(i) | Const::Days(i) => V::Int(*i),
            Const::Number(n) => V::Number(*n),
            Const::Money(m) => V::Money(*m),
            Const::String(s) => V::Str(s.clone()),
            Const::Date(d) => V::Date(i64::from(d.0)),
            Const::Enum(index) => match ty {
                Type::Enum(id) => V::Enum(self.rules.schema.enums[*id].members[*index as usize].clone()),
                other => panic!("an enum constant of type {other:?}"),
            },
        }
    }

    /// Follows slots through nested records, by name; unknown as soon as a
    /// step is missing.
    fn read(&self, mut value: V, ty: &Type, path: &[usize]) -> V {
        let mut ty = ty.clone();
        for &slot in path {
            let Type::Record(id) = ty else { return V::Unknown };
            let (name, field) = self.rules.schema.records[id].fields.get_index(slot).unwrap();
            let V::Record(mut fields) = value else { return V::Unknown };
            value = fields.remove(name).unwrap_or(V::Unknown);
            ty = field.ty.clone();
        }
        value
    }

    /// LANGUAGE.md section 9, with the unknowns of 10.2.
    fn aggregate(
        &self,
        func: AggregateFn,
        list: &Expr,
        projection: &[usize],
        filter: Option<&Expr>,
        elements: &mut Elements,
    ) -> V {
        let V::List(items) = self.eval(list, elements) else { return V::Unknown };
        let Type::List(element_ty) = &list.ty else { panic!("an aggregate over {:?}", list.ty) };
        // Each element: whether it passes the filter, and the value it gives.
        let mut passes = Vec::new();
        let mut values = Vec::new();
        for item in items {
            let pass = match filter {
                Some(filter) => {
                    elements.push((item.clone(), (**element_ty).clone()));
                    let pass = truth(&self.eval(filter, elements));
                    elements.pop();
                    pass
                }
                None => Truth::True,
            };
            passes.push(pass);
            values.push(self.read(item, element_ty, projection));
        }
        if matches!(func, AggregateFn::Any | AggregateFn::All) {
            // With `where`, the condition is what is tested; without, the
            // (bool) value of each element.
            let tests: Vec<Truth> = match filter {
                Some(_) => passes,
                None => values.iter().map(truth).collect(),
            };
            let (decisive, otherwise) = if func == AggregateFn::Any { (true, false) } else { (false, true) };
            let decisive_truth = if decisive { Truth::True } else { Truth::False };
            return if tests.contains(&decisive_truth) {
                V::Bool(decisive)
            } else if tests.contains(&Truth::Unknown) {
                V::Unknown
            } else {
                V::Bool(otherwise)
            };
        }
        // The others are unknown when `where` is unknown for some element.
        if passes.contains(&Truth::Unknown) {
            return V::Unknown;
        }
        let chosen: Vec<V> =
            values.into_iter().zip(&passes).filter(|(_, p)| **p == Truth::True).map(|(v, _)| v).collect();
        if func == AggregateFn::Count {
            return V::Int(chosen.len() as i64);
        }
        if chosen.contains(&V::Unknown) {
            return V::Unknown;
        }
        match func {
            AggregateFn::Sum => match element_ty_of(list, projection, &self.rules.schema) {
                Type::Int => int(chosen.iter().map(|v| i128::from(as_int(v))).sum()),
                Type::Money => money(chosen.iter().map(|v| i128::from(as_money(v))).sum()),
                Type::Number => number(chosen.iter().map(as_number).fold(0.0, |total, n| total + n)),
                other => panic!("sum of {other:?}"),
            },
            AggregateFn::Min | AggregateFn::Max => {
                let wanted = if func == AggregateFn::Min { Ordering::Less } else { Ordering::Greater };
                let mut best: Option<V> = None;
                for value in chosen {
                    best = match best {
                        Some(b) if order(&value, &b) != Some(wanted) => Some(b),
                        _ => Some(value),
                    };
                }
                best.unwrap_or(V::Unknown)
            }
            AggregateFn::Avg => {
                if chosen.is_empty() {
                    return V::Unknown;
                }
                let count = chosen.len() as i128;
                match &chosen[0] {
                    V::Int(_) => {
                        let total: i128 = chosen.iter().map(|v| i128::from(as_int(v))).sum();
                        number(total as f64 / count as f64)
                    }
                    V::Number(_) => number(chosen.iter().map(as_number).fold(0.0, |t, n| t + n) / count as f64),
                    V::Money(_) => {
                        let total: i128 = chosen.iter().map(|v| i128::from(as_money(v))).sum();
                        money(divide_half_away(total, count).unwrap())
                    }
                    other => panic!("avg of {other:?}"),
                }
            }
            AggregateFn::Count | AggregateFn::Any | AggregateFn::All => unreachable!(),
        }
    }
}

/// The type of the values an aggregate reads from each element.
fn element_ty_of(list: &Expr, projection: &[usize], schema: &Schema) -> Type {
    let Type::List(element) = &list.ty else { panic!("not a list") };
    let mut ty = (**element).clone();
    for &slot in projection {
        let Type::Record(id) = ty else { panic!("projection through {ty:?}") };
        ty = schema.records[id].fields.get_index(slot).unwrap().1.ty.clone();
    }
    ty
}

fn as_int(v: &V) -> i64 {
    match v {
        V::Int(i) => *i,
        other => panic!("not an int: {other:?}"),
    }
}

fn as_money(v: &V) -> i64 {
    match v {
        V::Money(m) => *m,
        other => panic!("not money: {other:?}"),
    }
}

fn as_number(v: &V) -> f64 {
    match v {
        V::Number(n) => *n,
        other => panic!("not a number: {other:?}"),
    }
}

fn kleene_and(a: Truth, b: Truth) -> Truth {
    match (a, b) {
        (Truth::False, _) | (_, Truth::False) => Truth::False,
        (Truth::True, Truth::True) => Truth::True,
        _ => Truth::Unknown,
    }
}

/// The order of two known values of one type (`None` if either is unknown).
fn order(a: &V, b: &V) -> Option<Ordering> {
    match (a, b) {
        (V::Int(x), V::Int(y)) | (V::Money(x), V::Money(y)) | (V::Date(x), V::Date(y)) => Some(x.cmp(y)),
        (V::Number(x), V::Number(y)) => x.partial_cmp(y),
        (V::Str(x), V::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        _ => None,
    }
}

/// Whether two known values are equal (`None` if either is unknown).
fn equal(a: &V, b: &V) -> Option<bool> {
    match (a, b) {
        (V::Unknown, _) | (_, V::Unknown) => None,
        (V::Bool(x), V::Bool(y)) => Some(x == y),
        (V::Enum(x), V::Enum(y)) => Some(x == y),
        _ => order(a, b).map(|o| o == Ordering::Equal),
    }
}

fn compare(op: CmpOp, a: &V, b: &V) -> Truth {
    let result = match op {
        CmpOp::Eq => equal(a, b),
        CmpOp::Ne => equal(a, b).map(|e| !e),
        CmpOp::Lt => order(a, b).map(|o| o == Ordering::Less),
        CmpOp::Le => order(a, b).map(|o| o != Ordering::Greater),
        CmpOp::Gt => order(a, b).map(|o| o == Ordering::Greater),
        CmpOp::Ge => order(a, b).map(|o| o != Ordering::Less),
    };
    match result {
        Some(true) => Truth::True,
        Some(false) => Truth::False,
        None => Truth::Unknown,
    }
}

/// Membership (LANGUAGE.md 10.2): nothing is in an empty list, not even an
/// unknown value; a known item equal to the value makes it true, whatever
/// the other items.
fn member(value: &V, items: &[V]) -> Truth {
    if items.is_empty() {
        return Truth::False;
    }
    let found: Vec<Option<bool>> = items.iter().map(|item| equal(value, item)).collect();
    if found.contains(&Some(true)) {
        Truth::True
    } else if found.contains(&None) {
        Truth::Unknown
    } else {
        Truth::False
    }
}

/// LANGUAGE.md 8: arithmetic by the types of the operands.
fn arith(op: ArithOp, a: V, b: V) -> V {
    use ArithOp::{Add, Div, Mul, Sub};
    match (op, a, b) {
        (Add, V::Int(x), V::Int(y)) => int(i128::from(x) + i128::from(y)),
        (Sub, V::Int(x), V::Int(y)) => int(i128::from(x) - i128::from(y)),
        (Mul, V::Int(x), V::Int(y)) => int(i128::from(x) * i128::from(y)),
        (Add, V::Money(x), V::Money(y)) => money(i128::from(x) + i128::from(y)),
        (Sub, V::Money(x), V::Money(y)) => money(i128::from(x) - i128::from(y)),
        (Mul, V::Money(x), V::Int(y)) | (Mul, V::Int(y), V::Money(x)) => money(i128::from(x) * i128::from(y)),
        (Div, V::Money(x), V::Int(y)) => divide_half_away(i128::from(x), i128::from(y)).map_or(V::Unknown, money),
        // A ratio of two amounts.
        (Div, V::Money(x), V::Money(y)) if y != 0 => number(x as f64 / y as f64),
        (Add, V::Number(x), V::Number(y)) => number(x + y),
        (Sub, V::Number(x), V::Number(y)) => number(x - y),
        (Mul, V::Number(x), V::Number(y)) => number(x * y),
        (Div, V::Number(x), V::Number(y)) if y != 0.0 => number(x / y),
        (Add, V::Date(d), V::Int(n)) | (Add, V::Int(n), V::Date(d)) => date(i128::from(d) + i128::from(n)),
        (Sub, V::Date(d), V::Int(n)) => date(i128::from(d) - i128::from(n)),
        (Sub, V::Date(x), V::Date(y)) => int(i128::from(x) - i128::from(y)),
        _ => V::Unknown,
    }
}

/// `x / y` rounded to the nearest integer, halves away from zero; `None`
/// for a division by zero.
fn divide_half_away(x: i128, y: i128) -> Option<i128> {
    if y == 0 {
        return None;
    }
    let magnitude = (2 * x.abs() + y.abs()) / (2 * y.abs());
    Some(if (x < 0) != (y < 0) { -magnitude } else { magnitude })
}

/// The nearest whole number of cents to a double, halves away from zero,
/// computed exactly from its bits; `None` when it is not finite.
pub fn nearest_cent(n: f64) -> Option<i128> {
    if !n.is_finite() {
        return None;
    }
    let bits = n.to_bits();
    let negative = bits >> 63 == 1;
    let exponent_bits = ((bits >> 52) & 0x7ff) as i64;
    let fraction = (bits & ((1 << 52) - 1)) as i128;
    // n = mantissa * 2^exponent exactly.
    let (mantissa, exponent) =
        if exponent_bits == 0 { (fraction, -1074) } else { (fraction | (1 << 52), exponent_bits - 1075) };
    let hundredfold = mantissa * 100;
    let cents = if exponent >= 0 {
        if exponent > 64 {
            return Some(if negative { -(1 << 100) } else { 1 << 100 }); // far beyond the range of cents
        }
        hundredfold << exponent
    } else if -exponent >= 100 {
        0 // below half a cent
    } else {
        let shift = -exponent;
        let whole = hundredfold >> shift;
        let rest = hundredfold - (whole << shift);
        if rest * 2 >= 1 << shift {
            whole + 1
        } else {
            whole
        }
    };
    Some(if negative { -cents } else { cents })
}

/// Cents as a decimal: `-1250` is `-12.50`.
fn cents_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let magnitude = i128::from(cents).abs();
    format!("{sign}{}.{:02}", magnitude / 100, magnitude % 100)
}
