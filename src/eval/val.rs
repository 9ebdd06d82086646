//! The value evaluation computes with, and its conversions from the three
//! other value types it meets.
//!
//! Four value types, each for its own place:
//!
//! - [`crate::ir::Const`]: a literal as the checker typed it (`Days` apart
//!   from `Int`, strings owned), which every back end reads.
//! - [`Scalar`]: a constant of the compiled program; literals with the
//!   IR's distinctions the evaluator does not need folded away, and
//!   [`Scalar::Unknown`] for a folded expression with no value. Owned, so
//!   the program owns its constants.
//! - [`crate::decode::Value`]: a decoded profile's storage, fixed in layout
//!   for native code, strings, lists and records as slices of the profile's
//!   buffers.
//! - [`Val`]: what the interpreter computes with, `Copy`, borrowing strings
//!   from the profile or the program and lists and records from the
//!   profile, so evaluating allocates nothing.

use crate::decode::{Profile, Value};
use crate::eval::constant::Scalar;
use crate::ir::Const;
use crate::value::Date;

/// A value during evaluation; borrows strings and lists from the profile or
/// the program, so evaluating allocates nothing per value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val<'a> {
    /// Missing, or no result.
    Unknown,
    /// `bool`
    Bool(bool),
    /// `int` and numbers of days.
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
    Str(&'a str),
    /// A list.
    List(&'a [Value]),
    /// A record.
    Record(&'a [Value]),
}

impl<'a> Val<'a> {
    /// A profile's value, its slices resolved.
    #[inline(always)]
    pub(crate) fn of(value: &'a Value, profile: &'a Profile) -> Val<'a> {
        match value {
            Value::Missing => Val::Unknown,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Number(n) => Val::Number(*n),
            Value::Money(m) => Val::Money(*m),
            Value::String(s) => Val::Str(profile.text(*s)),
            Value::Date(d) => Val::Date(*d),
            Value::Enum(e) => Val::Enum(*e),
            Value::List(items) => Val::List(profile.items(*items)),
            Value::Record(fields) => Val::Record(profile.items(*fields)),
        }
    }

    /// A program's constant, borrowed.
    #[inline]
    pub(crate) fn of_scalar(scalar: &'a Scalar) -> Val<'a> {
        match scalar {
            Scalar::Unknown => Val::Unknown,
            Scalar::Bool(b) => Val::Bool(*b),
            Scalar::Int(i) => Val::Int(*i),
            Scalar::Number(n) => Val::Number(*n),
            Scalar::Money(m) => Val::Money(*m),
            Scalar::Date(d) => Val::Date(*d),
            Scalar::Enum(e) => Val::Enum(*e),
            Scalar::Str(s) => Val::Str(s),
        }
    }

    /// Three-valued truth: `Some(true)`, `Some(false)` or `None` (unknown).
    pub fn truth(self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The value of a three-valued truth.
    pub(crate) fn from_truth(truth: Option<bool>) -> Val<'a> {
        truth.map_or(Val::Unknown, Val::Bool)
    }

    /// The integer an integer-like value compares and is filed by (as
    /// [`Scalar::as_integer`]); `None` for any other.
    #[inline]
    pub(crate) fn as_integer(self) -> Option<i64> {
        match self {
            Val::Int(i) | Val::Money(i) => Some(i),
            Val::Date(d) => Some(i64::from(d.0)),
            Val::Enum(e) => Some(i64::from(e)),
            Val::Bool(b) => Some(i64::from(b)),
            _ => None,
        }
    }

    /// A `number`, unknown unless finite.
    pub(crate) fn number(n: f64) -> Val<'a> {
        if n.is_finite() {
            Val::Number(n)
        } else {
            Val::Unknown
        }
    }
}

impl Scalar {
    /// A folded value as a constant: unknown for a list or record, which no
    /// constant expression yields.
    pub(crate) fn of_val(val: Val<'_>) -> Scalar {
        match val {
            Val::Unknown | Val::List(_) | Val::Record(_) => Scalar::Unknown,
            Val::Bool(b) => Scalar::Bool(b),
            Val::Int(i) => Scalar::Int(i),
            Val::Number(n) => Scalar::Number(n),
            Val::Money(m) => Scalar::Money(m),
            Val::Date(d) => Scalar::Date(d),
            Val::Enum(e) => Scalar::Enum(e),
            Val::Str(s) => Scalar::Str(s.into()),
        }
    }
}

impl From<&Const> for Scalar {
    /// A literal of the IR as the program's constant: a number of days is
    /// an `int` to the evaluator.
    fn from(c: &Const) -> Scalar {
        match c {
            Const::Bool(b) => Scalar::Bool(*b),
            Const::Int(i) | Const::Days(i) => Scalar::Int(*i),
            Const::Number(n) => Scalar::Number(*n),
            Const::Money(m) => Scalar::Money(*m),
            Const::String(s) => Scalar::Str(s.as_str().into()),
            Const::Date(d) => Scalar::Date(*d),
            Const::Enum(m) => Scalar::Enum(*m),
        }
    }
}
