//! Which rules can fire for a profile, found through hash indexes instead of
//! testing every rule.
//!
//! Campaigns generate rules by the thousand, each guarded by an equality on
//! one field: `polling_place == "PP-OH-02001" and ...`, `precinct in [...]
//! and ...`. A rule whose condition is an `and` with such a guard among its
//! operands is filed under the guard's field and value(s). For a profile,
//! the field is read once and only the rules filed under its value are
//! evaluated: the guard of every other rule filed under the field is false,
//! so its `and` is false (whatever the other operands, unknown included),
//! and a false rule does nothing. When the field is missing the guard is
//! unknown, not false, so every rule of that index is evaluated as usual.

use std::collections::HashMap;

use crate::compile::{ConstSet, Node, NodeId, Scalar};
use crate::ir::{Base, CmpOp};

/// Rules in evaluation groups: always evaluated, or found through an index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dispatch {
    /// Rules with no usable guard, by index in the checked order.
    pub always: Vec<u32>,
    /// One index per guarded field.
    pub indexes: Vec<Index>,
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

/// What a guard compares the field with.
enum Keys<'a> {
    Strings(Vec<&'a str>),
    Integers(Vec<i64>),
}

/// Files each rule under its guard, or in [`Dispatch::always`].
pub fn build(nodes: &[Node], conditions: &[NodeId]) -> Dispatch {
    let mut by_path: Vec<Index> = Vec::new();
    let mut always = Vec::new();
    for (rule, &condition) in conditions.iter().enumerate() {
        let rule = u32::try_from(rule).unwrap_or(u32::MAX);
        let Some((path, keys)) = guard(nodes, condition) else {
            always.push(rule);
            continue;
        };
        let position = match by_path.iter().position(|i| *i.path == *path) {
            Some(p) => p,
            None => {
                by_path.push(Index { path: path.into(), ..Index::default() });
                by_path.len() - 1
            }
        };
        let Some(index) = by_path.get_mut(position) else { continue };
        match keys {
            Keys::Strings(keys) => {
                for key in keys {
                    index.strings.entry(key.into()).or_default().push(rule);
                }
            }
            Keys::Integers(keys) => {
                for key in keys {
                    index.integers.entry(key).or_default().push(rule);
                }
            }
        }
        index.all.push(rule);
    }
    // An index for one or two rules saves nothing: evaluate them directly.
    let (indexes, small): (Vec<Index>, Vec<Index>) = by_path.into_iter().partition(|i| i.all.len() > 2);
    always.extend(small.iter().flat_map(|i| i.all.iter().copied()));
    always.sort_unstable();
    Dispatch { always, indexes }
}

/// The guard of a condition: an operand of its top-level `and` chain that
/// compares a profile field with constants by equality.
fn guard<'a>(nodes: &'a [Node], condition: NodeId) -> Option<(&'a [u32], Keys<'a>)> {
    let mut stack = vec![condition];
    // The `and` chain of one condition is bounded by the operator limit.
    while let Some(id) = stack.pop() {
        match nodes.get(id as usize)? {
            Node::And(a, b) => {
                stack.push(*b);
                stack.push(*a);
            }
            Node::Compare(CmpOp::Eq, a, b) => {
                let found = field_and_constant(nodes, *a, *b).or_else(|| field_and_constant(nodes, *b, *a));
                if let Some((path, constant)) = found {
                    let keys = match constant {
                        Scalar::Str(s) => Keys::Strings(vec![s]),
                        other => match other.as_integer() {
                            Some(i) => Keys::Integers(vec![i]),
                            None => continue,
                        },
                    };
                    return Some((path, keys));
                }
            }
            Node::InSet(value, set) => {
                let Some(Node::Field { base: Base::Profile, path }) = nodes.get(*value as usize) else { continue };
                match &**set {
                    ConstSet::Strings(items) => {
                        return Some((path, Keys::Strings(items.iter().map(|s| &**s).collect())));
                    }
                    ConstSet::FewStrings(items) => {
                        return Some((path, Keys::Strings(items.iter().map(|s| &**s).collect())));
                    }
                    ConstSet::Integers(items) => return Some((path, Keys::Integers(items.iter().copied().collect()))),
                    ConstSet::Numbers(_) => {}
                }
            }
            _ => {}
        }
    }
    None
}

fn field_and_constant(nodes: &[Node], field: NodeId, constant: NodeId) -> Option<(&[u32], &Scalar)> {
    match (nodes.get(field as usize)?, nodes.get(constant as usize)?) {
        (Node::Field { base: Base::Profile, path }, Node::Const(c)) if !matches!(c, Scalar::Unknown) => Some((path, c)),
        _ => None,
    }
}
