//! The constants of a program and the node index: what the nodes, the
//! indexes and the specialised conditions all name. Nothing here evaluates.

use std::collections::HashSet;

use crate::value::Date;

/// Index of a node in [`crate::eval::program::Program::nodes`].
pub type NodeId = u32;

/// A constant in a program: an IR literal ([`crate::ir::Const`], converted
/// by `From`) with the distinctions evaluation does not need folded away (a
/// number of days is an `int`), or a folded expression's value, which may
/// be unknown. Owned by the program; the interpreter borrows it as a
/// [`crate::eval::val::Val`]. Separate from `ir::Const` because the IR,
/// below evaluation, has no unknown literal, and from `Val` because a
/// program outlives every profile.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    /// Unknown (a folded division by zero, say).
    Unknown,
    /// `bool`
    Bool(bool),
    /// `int`, and numbers of days.
    Int(i64),
    /// `number`
    Number(f64),
    /// `money` in cents.
    Money(i64),
    /// `date`
    Date(Date),
    /// Enum member.
    Enum(u32),
    /// `string`
    Str(Box<str>),
}

/// A constant list, ready for membership tests.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstSet {
    /// Strings.
    Strings(HashSet<Box<str>>),
    /// A few strings: a scan beats hashing.
    FewStrings(Box<[Box<str>]>),
    /// Integers, money in cents, dates and enum members, by their integer.
    Integers(HashSet<i64>),
    /// Numbers: few in practice, so a vector.
    Numbers(Vec<f64>),
}

impl ConstSet {
    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        match self {
            ConstSet::Strings(set) => set.is_empty(),
            ConstSet::FewStrings(items) => items.is_empty(),
            ConstSet::Integers(set) => set.is_empty(),
            ConstSet::Numbers(list) => list.is_empty(),
        }
    }
}

impl Scalar {
    /// The integer a scalar compares by, for integer-like kinds.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Scalar::Int(i) | Scalar::Money(i) => Some(*i),
            Scalar::Date(d) => Some(i64::from(d.0)),
            Scalar::Enum(e) => Some(i64::from(*e)),
            Scalar::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}
