//! The compiled program: the nodes with the indexes, the specialised conditions
//! and the native code built from them. Compilation ([`crate::eval::compile`])
//! makes it; the evaluators read it.

use crate::eval::dispatch::Dispatch;
use crate::eval::fused::Conditions;
use crate::eval::node::{CapCode, Node, NodeId, RequirementCode, RuleCode, Scalar};
use crate::ir::Type;
use crate::text::source::Span;

/// The compiled program.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Every node; operands have smaller indices than their users.
    pub nodes: Vec<Node>,
    /// The node of each definition.
    pub definitions: Vec<NodeId>,
    /// Rules in the checked order (by name).
    pub rules: Vec<RuleCode>,
    /// Number of streams.
    pub streams: usize,
    /// Where each node was written, by node index: `explain` and test
    /// coverage name conditions by their source text.
    pub spans: Vec<Span>,
    /// The type of each node, by node index: `explain` shows values by it.
    pub types: Vec<Type>,
    /// Which rules to evaluate for a profile.
    pub dispatch: Dispatch,
    /// Number of cached aggregates ([`crate::eval::node::Aggregate::cache`]).
    pub cached_aggregates: u32,
    /// Number of lists hashed per profile ([`Node::InHashedList`]).
    pub hashed_lists: u32,
    /// Stream requirements, in the checked order (by name), applied after
    /// the rules.
    pub requirements: Vec<RequirementCode>,
    /// Caps by kind, applied after the requirements.
    pub caps: Vec<CapCode>,
    /// Number of cached buckets ([`Node::Bucket`]).
    pub cached_buckets: u32,
    /// The rule conditions in specialised form, which evaluation runs.
    pub fused: Conditions,
    /// Whether some definition chains deeper than [`crate::eval::compile::PREFETCH_DEPTH`]
    /// nodes through the definitions it uses: then evaluation computes
    /// definitions in id order ([`Program::definition`]), so that no
    /// evaluation recurses through more than one definition's expression.
    pub(crate) deep_definitions: bool,
    /// The engine [`Program::assign`] runs ([`Program::set_engine`]).
    pub(crate) engine: crate::eval::engine::Engine,
    /// The specialised form as native code, when the engine asked for it
    /// and it could be generated ([`Program::set_engine`]).
    #[cfg(feature = "jit")]
    pub native: crate::eval::native::code::Native,
}

/// How a rule's condition folded, when it did not depend on the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folded {
    /// Always false: the rule never fires.
    False,
    /// Always unknown: assignments never fire, suppressions always do.
    Unknown,
}

impl Program {
    /// Requirements whose condition is a constant, by index in the checked
    /// order, with that constant (`None`: unknown).
    pub fn folded_requirements(&self) -> Vec<(usize, Option<bool>)> {
        self.requirements
            .iter()
            .enumerate()
            .filter_map(|(i, requirement)| match self.nodes.get(requirement.condition as usize) {
                Some(Node::Const(Scalar::Bool(b))) => Some((i, Some(*b))),
                Some(Node::Const(_)) => Some((i, None)),
                _ => None,
            })
            .collect()
    }

    /// Rules whose condition is a constant false or unknown, by index in the
    /// checked rule order.
    pub fn folded_rules(&self) -> Vec<(usize, Folded)> {
        self.rules
            .iter()
            .enumerate()
            .filter_map(|(i, rule)| match self.nodes.get(rule.condition as usize) {
                Some(Node::Const(Scalar::Bool(false))) => Some((i, Folded::False)),
                Some(Node::Const(Scalar::Unknown)) => Some((i, Folded::Unknown)),
                _ => None,
            })
            .collect()
    }
}
