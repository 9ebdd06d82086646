//! Kleene's three-valued logic and the comparisons: the one definition of
//! `and`, `or`, `not`, of what `<`, `==`, `between` and `in` mean on two
//! values, and of membership, which every interpreter path calls (the
//! general evaluator, the specialised conditions, constant folding, `explain`,
//! aggregates).
//!
//! A truth is an `Option<bool>`: `None` is unknown, for missing data or a
//! value that does not exist. `false and x` is false and `true or x` true
//! whatever `x` is, unknown included; otherwise an unknown operand makes
//! the result unknown. A comparison with an unknown operand, or of values
//! without an order (a `NaN`, never decoded), is unknown.
//!
//! Native code ([`crate::eval::native`], feature `jit`) encodes the same
//! definitions as branches and machine comparisons; it cannot call these
//! functions, so `tests/specialise.rs`, `tests/differential.rs` and the
//! fuzzer's `eval` target hold it equal to them.

use std::cmp::Ordering;

use crate::eval::constant::ConstSet;
use crate::eval::val::Val;
use crate::ir::CmpOp;

/// A three-valued truth: `Some(true)`, `Some(false)`, or `None` for unknown.
pub type Truth = Option<bool>;

/// Kleene `and` or `or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connective {
    /// `and`: false when an operand is false.
    And,
    /// `or`: true when an operand is true.
    Or,
}

impl Connective {
    /// The connective of `and` (`true`) or `or` (`false`).
    pub fn of(is_and: bool) -> Connective {
        if is_and {
            Connective::And
        } else {
            Connective::Or
        }
    }

    /// The truth that decides the whole whatever the other operands are:
    /// `false` for `and`, `true` for `or`. Its negation is the neutral
    /// operand (`true and x` is `x`).
    #[inline(always)]
    pub const fn decisive(self) -> bool {
        matches!(self, Connective::Or)
    }

    /// The connective on two truths.
    #[inline(always)]
    pub fn apply(self, a: Truth, b: Truth) -> Truth {
        let decisive = Some(self.decisive());
        if a == decisive || b == decisive {
            decisive
        } else if a.is_some() && b.is_some() {
            Some(!self.decisive())
        } else {
            None
        }
    }

    /// The connective on `a` and `b`, `b` computed only when `a` does not
    /// decide (short-circuit).
    #[inline(always)]
    pub fn then(self, a: Truth, b: impl FnOnce() -> Truth) -> Truth {
        if a == Some(self.decisive()) {
            return a;
        }
        self.apply(a, b())
    }

    /// The connective over a chain, left to right, stopping at the first
    /// operand that decides; the neutral truth for an empty chain.
    #[inline(always)]
    pub fn fold(self, truths: impl IntoIterator<Item = Truth>) -> Truth {
        let decisive = self.decisive();
        let mut result = Some(!decisive);
        for truth in truths {
            match truth {
                Some(t) if t == decisive => return Some(decisive),
                Some(_) => {}
                None => result = None,
            }
        }
        result
    }
}

/// Kleene `not`: unknown stays unknown.
#[inline(always)]
pub fn not(a: Truth) -> Truth {
    a.map(|b| !b)
}

/// Kleene `and` over a chain, stopping at the first false operand.
#[inline(always)]
pub fn all(truths: impl IntoIterator<Item = Truth>) -> Truth {
    Connective::And.fold(truths)
}

/// Kleene `or` over a chain, stopping at the first true operand.
#[inline(always)]
pub fn any(truths: impl IntoIterator<Item = Truth>) -> Truth {
    Connective::Or.fold(truths)
}

/// Whether an ordering of two operands satisfies a comparison operator.
#[inline(always)]
pub fn holds(op: CmpOp, ordering: Ordering) -> bool {
    match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    }
}

/// A comparison's truth from its operands' order; unknown when they have
/// none.
#[inline(always)]
pub fn compared(op: CmpOp, ordering: Option<Ordering>) -> Truth {
    ordering.map(|o| holds(op, o))
}

/// A comparison's truth: unknown when either side is.
#[inline]
pub fn compare(op: CmpOp, a: Val<'_>, b: Val<'_>) -> Truth {
    compared(op, order(a, b))
}

/// The order of two numbers; `None` for a `NaN`.
#[inline(always)]
pub fn order_numbers(a: f64, b: f64) -> Option<Ordering> {
    a.partial_cmp(&b)
}

/// The order of two strings: by their UTF-8 bytes.
#[inline(always)]
pub fn order_text(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

/// Orders two values of one type; `None` when either is unknown or they
/// are of different types. Integer-like values order by their integer.
#[inline]
pub fn order(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) | (Val::Money(x), Val::Money(y)) => Some(x.cmp(&y)),
        (Val::Number(x), Val::Number(y)) => order_numbers(x, y),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        (Val::Str(x), Val::Str(y)) => Some(order_text(x.as_bytes(), y.as_bytes())),
        (Val::Enum(x), Val::Enum(y)) => Some(x.cmp(&y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// `value between low and high`, from the value's order against each
/// bound (`high` computed only when `low` does not decide): false below
/// the low bound or above the high one, whichever is known.
#[inline(always)]
pub fn between(low: Option<Ordering>, high: impl FnOnce() -> Option<Ordering>) -> Truth {
    Connective::And.then(compared(CmpOp::Ge, low), || compared(CmpOp::Le, high()))
}

/// Membership of a value in a known list. Nothing is a member of an empty
/// list, not even an unknown value (as `x = ANY('{}')` is false in SQL);
/// an unknown value's membership in any other list is unknown; a known
/// value's is `holds`, which looks for it.
#[inline(always)]
pub fn membership(known: bool, empty: bool, holds: impl FnOnce() -> Truth) -> Truth {
    if empty {
        Some(false)
    } else if !known {
        None
    } else {
        holds()
    }
}

/// Membership in a constant list ([`membership`]); unknown for a value of
/// a kind the list does not hold.
pub fn in_set(value: Val<'_>, set: &ConstSet) -> Truth {
    membership(value != Val::Unknown, set.is_empty(), || match (value, set) {
        (Val::Str(s), ConstSet::Strings(set)) => Some(set.contains(s)),
        (Val::Str(s), ConstSet::FewStrings(items)) => Some(items.iter().any(|i| **i == *s)),
        (Val::Number(n), ConstSet::Numbers(set)) => Some(set.contains(&n)),
        (value, ConstSet::Integers(set)) => value.as_integer().map(|i| set.contains(&i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::panic, clippy::unreachable)]
    use super::*;

    const TRUTHS: [Truth; 3] = [Some(false), None, Some(true)];

    /// Kleene's tables: with false < unknown < true, `and` is the least of
    /// its operands and `or` the greatest.
    fn rank(t: Truth) -> u8 {
        match t {
            Some(false) => 0,
            None => 1,
            Some(true) => 2,
        }
    }

    #[test]
    fn the_connectives_are_kleenes_tables() {
        for a in TRUTHS {
            for b in TRUTHS {
                let and = Connective::And.apply(a, b);
                let or = Connective::Or.apply(a, b);
                assert_eq!(rank(and), rank(a).min(rank(b)), "{a:?} and {b:?}");
                assert_eq!(rank(or), rank(a).max(rank(b)), "{a:?} or {b:?}");
                assert_eq!(not(and), Connective::Or.apply(not(a), not(b)), "De Morgan on {a:?}, {b:?}");
                for c in [Connective::And, Connective::Or] {
                    assert_eq!(c.then(a, || b), c.apply(a, b));
                    assert_eq!(c.fold([a, b]), c.apply(a, b));
                }
            }
        }
        assert_eq!(all([]), Some(true));
        assert_eq!(any([]), Some(false));
    }

    #[test]
    fn short_circuits_skip_the_rest() {
        let mut asked = 0;
        let truths = [Some(true), Some(false), None].into_iter().inspect(|_| asked += 1);
        assert_eq!(all(truths), Some(false));
        assert_eq!(asked, 2);
        assert_eq!(Connective::Or.then(Some(true), || unreachable!()), Some(true));
        assert_eq!(between(Some(Ordering::Less), || unreachable!()), Some(false));
    }

    #[test]
    fn between_is_two_comparisons_and_unknown_only_when_undecided() {
        let orders = [None, Some(Ordering::Less), Some(Ordering::Equal), Some(Ordering::Greater)];
        for low in orders {
            for high in orders {
                let both = Connective::And.apply(compared(CmpOp::Ge, low), compared(CmpOp::Le, high));
                assert_eq!(between(low, || high), both, "{low:?}, {high:?}");
            }
        }
    }

    #[test]
    fn an_unknown_value_is_in_no_empty_list_and_unknown_in_others() {
        assert_eq!(membership(false, true, || unreachable!()), Some(false));
        assert_eq!(membership(false, false, || unreachable!()), None);
        assert_eq!(membership(true, false, || Some(true)), Some(true));
        let few = ConstSet::FewStrings(vec!["a".into()].into());
        assert_eq!(in_set(Val::Str("a"), &few), Some(true));
        assert_eq!(in_set(Val::Str("b"), &few), Some(false));
        assert_eq!(in_set(Val::Unknown, &few), None);
        assert_eq!(in_set(Val::Int(1), &few), None);
        assert_eq!(compare(CmpOp::Lt, Val::Str("a"), Val::Str("b")), Some(true));
        assert_eq!(compare(CmpOp::Eq, Val::Int(1), Val::Money(1)), None);
        assert_eq!(compare(CmpOp::Ne, Val::Number(f64::NAN), Val::Number(1.0)), None);
    }
}
