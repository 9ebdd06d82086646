//! Which rules can fire for a profile, found through indexes instead of
//! testing every rule.
//!
//! Campaigns generate rules by the thousand, each guarded by a test on one
//! field: an equality (`polling_place == "PP-OH-02001" and ...`,
//! `precinct in [...] and ...`) or a range (`scores.support between 40 and
//! 41 and ...`, `age >= 65 and ...`). A rule whose condition is an `and`
//! with such a guard among its operands is filed under the guard's field:
//! by value in a hash index, by interval in a range index. For a profile,
//! the field is read once and only the rules whose guard holds for its
//! value are evaluated: the guard of every other rule filed under the field
//! is false, so its `and` is false (whatever the other operands, unknown
//! included), and a false rule does nothing. When the field is missing the
//! guard is unknown, not false, so every rule of that index is evaluated.

use std::collections::HashMap;

use crate::compile::{ConstSet, Node, NodeId, Scalar};
use crate::ir::{Base, CmpOp};

/// Rules in evaluation groups: always evaluated, or found through an index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dispatch {
    /// Rules with no usable guard, by index in the checked order.
    pub always: Vec<u32>,
    /// One hash index per field guarded by equalities.
    pub indexes: Vec<Index>,
    /// One range index per field guarded by comparisons.
    pub ranges: Vec<RangeIndex>,
}

/// The rules guarded by an equality on one field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    /// The field's slot path from the profile.
    pub path: Box<[u32]>,
    /// Rules by the string their guard compares with.
    pub strings: HashMap<Box<str>, Vec<u32>>,
    /// Rules by the integer their guard compares with (ints, enum members,
    /// money in cents, dates, booleans).
    pub integers: HashMap<i64, Vec<u32>>,
    /// Every rule of the index, for a profile where the field is missing.
    pub all: Vec<u32>,
}

/// The rules guarded by a range on one numeric field (`int`, `number`,
/// `money`, `date`). The bounds cut the line into regions: region `2i` is
/// the open gap below `bounds[i]`, region `2i + 1` is `bounds[i]` itself,
/// and the last region is everything above the last bound.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeIndex {
    /// The field's slot path from the profile.
    pub path: Box<[u32]>,
    /// Every bound of every guard, sorted, without repeats.
    pub bounds: Vec<f64>,
    /// The rules whose guard holds in each region.
    pub regions: Vec<Vec<u32>>,
    /// Every rule of the index, for a missing field or a value beyond the
    /// exact range of `f64`.
    pub all: Vec<u32>,
}

/// Integers within this magnitude are exact as `f64`, so they order alike.
const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52

/// One end of an interval: the bound and whether it is included; `None`
/// is unbounded.
type Bound = Option<(f64, bool)>;

/// A rule filed in a range index, with its interval.
type Ranged = (u32, Bound, Bound);

/// A guard's test on its field.
enum Test<'a> {
    Strings(Vec<&'a str>),
    Integers(Vec<i64>),
    /// `low` and `high`.
    Range(Bound, Bound),
}

/// Files each rule under its guard, or in [`Dispatch::always`].
pub fn build(nodes: &[Node], conditions: &[NodeId]) -> Dispatch {
    let mut equal: Vec<Index> = Vec::new();
    let mut ranged: Vec<(Box<[u32]>, Vec<Ranged>)> = Vec::new();
    // Where each field's index is, so that finding it does not grow with
    // the number of fields guarded.
    let mut equal_at: HashMap<Box<[u32]>, usize> = HashMap::new();
    let mut ranged_at: HashMap<Box<[u32]>, usize> = HashMap::new();
    let mut always = Vec::new();
    for (rule, &condition) in conditions.iter().enumerate() {
        let rule = u32::try_from(rule).unwrap_or(u32::MAX);
        match guard(nodes, condition) {
            None => always.push(rule),
            Some((path, Test::Range(low, high))) => {
                let position = *ranged_at.entry(path.into()).or_insert_with(|| {
                    ranged.push((path.into(), Vec::new()));
                    ranged.len() - 1
                });
                if let Some((_, rules)) = ranged.get_mut(position) {
                    rules.push((rule, low, high));
                }
            }
            Some((path, test)) => {
                let position = *equal_at.entry(path.into()).or_insert_with(|| {
                    equal.push(Index { path: path.into(), ..Index::default() });
                    equal.len() - 1
                });
                let Some(index) = equal.get_mut(position) else { continue };
                match test {
                    Test::Strings(keys) => {
                        for key in keys {
                            index.strings.entry(key.into()).or_default().push(rule);
                        }
                    }
                    Test::Integers(keys) => {
                        for key in keys {
                            index.integers.entry(key).or_default().push(rule);
                        }
                    }
                    Test::Range(..) => {}
                }
                index.all.push(rule);
            }
        }
    }
    // An index for one or two rules saves nothing: evaluate them directly.
    let (indexes, small): (Vec<Index>, Vec<Index>) = equal.into_iter().partition(|i| i.all.len() > 2);
    always.extend(small.iter().flat_map(|i| i.all.iter().copied()));
    let mut ranges = Vec::new();
    for (path, rules) in ranged {
        match range_index(path, &rules) {
            Some(index) => ranges.push(index),
            None => always.extend(rules.iter().map(|(rule, ..)| *rule)),
        }
    }
    always.sort_unstable();
    Dispatch { always, indexes, ranges }
}

/// A range index over the rules' intervals, unless it would not pay: too
/// few rules, or intervals overlapping so much that the regions would hold
/// many times the rules (nested `age >= 18`, `age >= 19`, ...).
fn range_index(path: Box<[u32]>, rules: &[Ranged]) -> Option<RangeIndex> {
    if rules.len() <= 2 {
        return None;
    }
    let mut bounds: Vec<f64> = rules.iter().flat_map(|(_, low, high)| [low, high]).flatten().map(|b| b.0).collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let position = |value: f64| bounds.partition_point(|b| *b < value);
    let mut regions: Vec<Vec<u32>> = vec![Vec::new(); 2 * bounds.len() + 1];
    let budget = 16 * rules.len() + 4096;
    let mut filed = 0;
    for &(rule, low, high) in rules {
        let first = match low {
            None => 0,
            Some((b, included)) => 2 * position(b) + if included { 1 } else { 2 },
        };
        let last = match high {
            None => 2 * bounds.len(),
            Some((b, included)) => 2 * position(b) + usize::from(included),
        };
        // An empty interval (`between 5 and 3`) never holds: filed nowhere.
        if first > last {
            continue;
        }
        for region in regions.get_mut(first..=last.min(2 * bounds.len()))?.iter_mut() {
            region.push(rule);
            filed += 1;
        }
        if filed > budget {
            return None;
        }
    }
    let all = rules.iter().map(|(rule, ..)| *rule).collect();
    Some(RangeIndex { path, bounds, regions, all })
}

impl RangeIndex {
    /// The rules whose guard can hold for a value of the field.
    pub fn rules_for(&self, value: f64) -> &[u32] {
        if !value.is_finite() || value.abs() > EXACT {
            return &self.all;
        }
        let i = self.bounds.partition_point(|b| *b < value);
        let region = if self.bounds.get(i) == Some(&value) { 2 * i + 1 } else { 2 * i };
        self.regions.get(region).map_or(&self.all[..], Vec::as_slice)
    }
}

/// The guard of a condition: an operand of its top-level `and` chain that
/// tests a profile field against constants. An equality is preferred to a
/// range, which narrows less.
fn guard(nodes: &[Node], condition: NodeId) -> Option<(&[u32], Test<'_>)> {
    let mut range = None;
    let mut stack = vec![condition];
    while let Some(id) = stack.pop() {
        match nodes.get(id as usize)? {
            Node::And(a, b) => {
                stack.push(*b);
                stack.push(*a);
            }
            Node::Compare(op, a, b) => {
                let (path, constant, op) = match (field(nodes, *a), constant(nodes, *b)) {
                    (Some(path), Some(c)) => (path, c, *op),
                    _ => match (field(nodes, *b), constant(nodes, *a)) {
                        (Some(path), Some(c)) => (path, c, flip(*op)),
                        _ => continue,
                    },
                };
                if op == CmpOp::Eq {
                    match constant {
                        Scalar::Str(s) => return Some((path, Test::Strings(vec![s]))),
                        other => {
                            if let Some(i) = other.as_integer() {
                                return Some((path, Test::Integers(vec![i])));
                            }
                        }
                    }
                }
                if range.is_none() {
                    if let Some(c) = number(constant) {
                        range = match op {
                            CmpOp::Eq => Some((path, Some((c, true)), Some((c, true)))),
                            CmpOp::Lt => Some((path, None, Some((c, false)))),
                            CmpOp::Le => Some((path, None, Some((c, true)))),
                            CmpOp::Gt => Some((path, Some((c, false)), None)),
                            CmpOp::Ge => Some((path, Some((c, true)), None)),
                            CmpOp::Ne => None,
                        };
                    }
                }
            }
            Node::Between(value, low, high) if range.is_none() => {
                let (Some(path), Some(low), Some(high)) =
                    (field(nodes, *value), constant(nodes, *low), constant(nodes, *high))
                else {
                    continue;
                };
                if let (Some(low), Some(high)) = (number(low), number(high)) {
                    range = Some((path, Some((low, true)), Some((high, true))));
                }
            }
            Node::InSet(value, set) => {
                let Some(path) = field(nodes, *value) else { continue };
                match &**set {
                    ConstSet::Strings(items) => {
                        return Some((path, Test::Strings(items.iter().map(|s| &**s).collect())));
                    }
                    ConstSet::FewStrings(items) => {
                        return Some((path, Test::Strings(items.iter().map(|s| &**s).collect())));
                    }
                    ConstSet::Integers(items) => return Some((path, Test::Integers(items.iter().copied().collect()))),
                    ConstSet::Numbers(_) => {}
                }
            }
            _ => {}
        }
    }
    range.map(|(path, low, high)| (path, Test::Range(low, high)))
}

fn field(nodes: &[Node], id: NodeId) -> Option<&[u32]> {
    match nodes.get(id as usize)? {
        Node::Field { base: Base::Profile, path } => Some(path),
        _ => None,
    }
}

fn constant(nodes: &[Node], id: NodeId) -> Option<&Scalar> {
    match nodes.get(id as usize)? {
        Node::Const(c) if !matches!(c, Scalar::Unknown) => Some(c),
        _ => None,
    }
}

/// `c < x` is `x > c`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// A numeric constant on the line of its type, when it orders exactly as
/// an `f64`.
fn number(constant: &Scalar) -> Option<f64> {
    let value = match constant {
        Scalar::Int(i) | Scalar::Money(i) => *i as f64,
        Scalar::Date(d) => f64::from(d.0),
        Scalar::Number(n) => *n,
        _ => return None,
    };
    (value.is_finite() && value.abs() <= EXACT).then_some(value)
}
