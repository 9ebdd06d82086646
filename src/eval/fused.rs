//! The specialised conditions of a program, their common leaves fused:
//! what [`crate::eval::specialise`] builds from the nodes and the interpreter and
//! native code run. Data only.

use crate::eval::constant::{ConstSet, NodeId, Scalar};
use crate::ir::CmpOp;

/// The specialised conditions of a program.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conditions {
    /// Each rule's condition, by rule index.
    pub rules: Vec<Condition>,
    /// Each boolean definition's value, by definition index; `None` for
    /// definitions of other types (evaluated by the general evaluator).
    pub definitions: Vec<Option<Condition>>,
    /// Each stream requirement's condition, by requirement index.
    pub requirements: Vec<Condition>,
    /// Leaves found in more than one place, each evaluated at most once per
    /// profile ([`Condition::Shared`]).
    pub shared: Vec<Condition>,
    /// Each rule's streams as bit masks, by rule index, when every stream
    /// fits the inline words of a stream set (256 streams); else empty.
    pub effects: Vec<Effects>,
    /// For each range index of [`crate::eval::dispatch::Dispatch::ranges`] (when
    /// there are effects): the rules its regions decide
    /// ([`crate::eval::dispatch::Dispatch::exact`]) as one mask per region, and
    /// the rules left to evaluate. A profile's region then costs one `or`,
    /// however many rules it holds.
    pub regions: Vec<RegionMasks>,
    /// The conditions of rules found through an index under a value, whose
    /// guard is then true: the other operands of the rule's `and` chain
    /// ([`crate::eval::dispatch::Dispatch::guard_at`]), by Kleene logic the rule's
    /// truth when the guard is true. Distinct ones only: generated rule
    /// sets share a few (`precinct == "..." and issues contains "jobs"`
    /// leaves `issues contains "jobs"`), which native code then holds as one
    /// function each. [`Condition::Known`] for a rule that is its guard alone.
    pub residuals: Vec<Condition>,
    /// By rule, its residual in [`Conditions::residuals`]; `u32::MAX` for a rule
    /// without a guard.
    pub residual_of: Vec<u32>,
    /// The distinct effects of the rules and of the regions' decided rules
    /// ([`Region`], [`Conditions::found`]): a few dozen however many rules, so
    /// they stay in cache where 64 bytes a rule would not.
    pub masks: Vec<Effects>,
    /// By rule, what the walk of the indexes needs when it finds the rule,
    /// packed in 8 bytes: its residual and its effects in [`Conditions::masks`].
    pub found: Vec<(u32, u32)>,
}

impl Conditions {
    /// The residual of a rule found under its guard, with its index.
    #[cfg(feature = "jit")]
    pub fn residual(&self, rule: usize) -> Option<(u32, &Condition)> {
        let index = *self.residual_of.get(rule)?;
        Some((index, self.residuals.get(index as usize)?))
    }
}

/// The rules of one range index's regions, by region.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RegionMasks {
    /// Per region: the streams of the rules the region makes true, and the
    /// other rules of the region.
    pub direct: Vec<Region>,
    /// Per region, the same for its nested index's regions.
    pub nested: Vec<Option<Vec<Region>>>,
}

/// The streams of the rules a region makes true (in [`Conditions::masks`]), and
/// its other rules.
pub type Region = (u32, Box<[u32]>);

/// The streams a rule assigns and suppresses, as masks: bit `s % 64` of
/// word `s / 64` is stream `s`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Effects {
    /// Streams assigned when the condition is true.
    pub assigns: [u64; 4],
    /// Streams suppressed when it is true or unknown.
    pub suppresses: [u64; 4],
}

/// Streams as bit masks: bit `s % 64` of word `s / 64` is stream `s`
/// (the first 256).
pub fn masks(streams: &[u32]) -> [u64; 4] {
    let mut words = [0; 4];
    for &s in streams {
        if let Some(word) = words.get_mut((s / 64) as usize) {
            *word |= 1 << (s % 64);
        }
    }
    words
}

/// A condition in specialised form; evaluates to a three-valued truth.
///
/// A plain `u8` tag: without it the compiler hides the tag in a niche, and
/// every `match` decodes it first.
#[derive(Clone, Debug, PartialEq)]
#[repr(u8)]
pub enum Condition {
    /// A constant truth (`None`: unknown).
    Known(Option<bool>),
    /// Kleene `and` of a flattened chain, left to right, stopping at the
    /// first false operand.
    And(Box<[Condition]>),
    /// Kleene `or` of a flattened chain, stopping at the first true operand.
    Or(Box<[Condition]>),
    /// Kleene `not`.
    Not(Box<Condition>),
    /// A bool field.
    Bool(Box<[u32]>),
    /// An integer-like profile field (`int`, `money`, `date`, enum, `bool`)
    /// compared with a constant of its kind.
    Int { path: Box<[u32]>, kind: IntKind, op: CmpOp, constant: i64 },
    /// A `number` profile field compared with a constant.
    Number { path: Box<[u32]>, op: CmpOp, constant: f64 },
    /// An integer-like field between two constants of its kind.
    IntBetween { path: Box<[u32]>, kind: IntKind, low: i64, high: i64 },
    /// A `number` field between two constants.
    NumberBetween { path: Box<[u32]>, low: f64, high: f64 },
    /// A `string` profile field compared with a constant.
    Str { path: Box<[u32]>, op: CmpOp, constant: Box<str> },
    /// A `list of string` profile field holding a constant string.
    ListHas { path: Box<[u32]>, item: Box<str> },
    /// Any other comparison.
    Compare(CmpOp, Operand, Operand),
    /// A profile field's membership in a constant list.
    FieldIn { path: Box<[u32]>, set: Box<ConstSet> },
    /// Whether a field is missing.
    FieldMissing(Box<[u32]>),
    /// Membership in a constant list.
    InSet(Operand, Box<ConstSet>),
    /// Whether a value is missing.
    Missing(Operand),
    /// `any(list where filter)` (`all` when `all`) over a list field, the
    /// filter read from each element.
    Quantifier { all: bool, list: Box<[u32]>, filter: Box<Condition> },
    /// `count(list [where filter])` over a list field, compared with an
    /// `int` constant.
    Count { list: Box<[u32]>, filter: Option<Box<Condition>>, op: CmpOp, constant: i64 },
    /// A boolean definition, cached per profile with the general
    /// evaluator's definition values.
    Def(u32),
    /// A shared leaf, by index in [`Conditions::shared`].
    Shared(u32),
    /// Anything else: the node, by the general evaluator.
    Node(NodeId),
}

/// The kind of an integer-like field, so that only a value of that kind
/// compares (as [`crate::eval::logic::order`] does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IntKind {
    /// `int`
    Int,
    /// `money`, in cents.
    Money,
    /// `date`, in days.
    Date,
    /// Enum member.
    Enum,
    /// `bool`, as 0 or 1.
    Bool,
}

/// An operand of a general test.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A profile field.
    Field(Box<[u32]>),
    /// A constant.
    Const(Scalar),
    /// A definition's value.
    Def(u32),
    /// Any other node.
    Node(NodeId),
}
