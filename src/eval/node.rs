//! The flat program's nodes: what compilation makes of an expression and
//! what every evaluator reads. Nothing here evaluates.

pub use crate::eval::constant::{ConstSet, NodeId, Scalar};
use crate::eval::fused::Condition;
use crate::ir::AggregateFn;
use crate::ir::{ArithOp, Base, CmpOp, TextOp};

/// One operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A constant.
    Const(Scalar),
    /// A field read from the profile or an aggregate's element.
    Field { base: Base, path: Box<[u32]> },
    /// A definition's value (cached per profile).
    Def(u32),
    /// Three-valued `not`.
    Not(NodeId),
    /// Negation.
    Neg(NodeId),
    /// Three-valued `and`, short-circuit.
    And(NodeId, NodeId),
    /// Three-valued `or`, short-circuit.
    Or(NodeId, NodeId),
    /// Comparison.
    Compare(CmpOp, NodeId, NodeId),
    /// Arithmetic; overflow and division by zero give unknown.
    Arith(ArithOp, NodeId, NodeId),
    /// `int` to `number`.
    IntToNumber(NodeId),
    /// `int` to `money`.
    IntToMoney(NodeId),
    /// `money` to `number`.
    MoneyToNumber(NodeId),
    /// `number` to `money`, rounded to the cent.
    NumberToMoney(NodeId),
    /// Inclusive range.
    Between(NodeId, NodeId, NodeId),
    /// Membership in a constant list.
    InSet(NodeId, Box<ConstSet>),
    /// Membership in a list literal with computed elements.
    InItems(NodeId, Box<[NodeId]>),
    /// Membership in a list-valued field.
    InList(NodeId, NodeId),
    /// Membership in a list that reads no element, tested for each element
    /// of an enclosing aggregate (`count(d where a in other)`): the list is
    /// hashed once per profile, in cache slot `slot`, so the test costs the
    /// same whatever the list's length.
    InHashedList { value: NodeId, list: NodeId, slot: u32 },
    /// String test.
    Text(TextOp, NodeId, NodeId),
    /// Whether the operand is unknown.
    IsMissing(NodeId),
    /// First operand unless unknown.
    Coalesce(NodeId, NodeId),
    /// Aggregate over a list.
    Aggregate(Box<Aggregate>),
    /// `bucket(value, "salt")`; `slot`: its place in the per-profile cache
    /// when it reads no element of an enclosing aggregate (buckets of one
    /// value and salt share a slot).
    Bucket { value: NodeId, salt: Box<str>, slot: Option<u32> },
}

/// An aggregate's parts.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// What it computes.
    pub func: AggregateFn,
    /// The list.
    pub list: NodeId,
    /// Field path read from each element (empty: the element).
    pub projection: Box<[u32]>,
    /// Condition on each element.
    pub filter: Option<NodeId>,
    /// The filter as a specialised condition on the element's fields, which
    /// evaluation runs when the element is a record.
    pub fused_filter: Option<Box<Condition>>,
    /// The projected element type's zero, for `sum` of an empty list.
    pub zero: Scalar,
    /// Its slot in the per-profile cache, when it reads no element of an
    /// enclosing aggregate: computed once per profile however many
    /// elements' filters read it, so no nesting makes evaluation quadratic.
    pub cache: Option<u32>,
}

/// A compiled rule.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleCode {
    /// Condition node.
    pub condition: NodeId,
    /// Streams assigned when true.
    pub assigns: Box<[u32]>,
    /// Streams suppressed when true or unknown.
    pub suppresses: Box<[u32]>,
}

/// A compiled stream requirement.
#[derive(Clone, Debug, PartialEq)]
pub struct RequirementCode {
    /// Condition node: the streams are kept only when it is true.
    pub condition: NodeId,
    /// The streams that need it.
    pub streams: Box<[u32]>,
}

/// A compiled cap: of the streams `first..end` (one kind), a profile keeps
/// the first `most` it has.
#[derive(Clone, Debug, PartialEq)]
pub struct CapCode {
    /// First stream id of the kind.
    pub first: u32,
    /// One past the last stream id of the kind.
    pub end: u32,
    /// How many are kept.
    pub most: u32,
}

/// Calls `f` with every operand of a node.
pub(crate) fn for_each_operand(node: &Node, mut f: impl FnMut(NodeId)) {
    match node {
        Node::Const(_) | Node::Field { .. } | Node::Def(_) => {}
        Node::Not(a)
        | Node::Neg(a)
        | Node::IntToNumber(a)
        | Node::IntToMoney(a)
        | Node::MoneyToNumber(a)
        | Node::NumberToMoney(a)
        | Node::IsMissing(a)
        | Node::InSet(a, _)
        | Node::Bucket { value: a, .. } => f(*a),
        Node::And(a, b)
        | Node::Or(a, b)
        | Node::Compare(_, a, b)
        | Node::Arith(_, a, b)
        | Node::Text(_, a, b)
        | Node::Coalesce(a, b)
        | Node::InList(a, b)
        | Node::InHashedList { value: a, list: b, .. } => {
            f(*a);
            f(*b);
        }
        Node::Between(a, b, c) => {
            f(*a);
            f(*b);
            f(*c);
        }
        Node::InItems(a, items) => {
            f(*a);
            items.iter().for_each(|i| f(*i));
        }
        Node::Aggregate(agg) => {
            f(agg.list);
            if let Some(filter) = agg.filter {
                f(filter);
            }
        }
    }
}
