//! The checked rule set to a flat, index-addressed program.
//!
//! Every expression becomes nodes in one vector; a node names its operands
//! by index. Field reads are slot paths, `today` is a constant, constant
//! subexpressions are folded, and each definition is one node whose value
//! the evaluator caches per profile.

use std::collections::{HashMap, HashSet};

use crate::decode::Profile;
use crate::eval::dispatch::{self, Dispatch};
use crate::eval::fused::Conditions;
use crate::eval::interpret::Scratch;
use crate::eval::logic::Connective;
pub(crate) use crate::eval::node::for_each_operand;
pub use crate::eval::node::{Aggregate, CapCode, ConstSet, Node, NodeId, RequirementCode, RuleCode, Scalar};
pub use crate::eval::program::{Folded, Program};
use crate::eval::specialise;
use crate::eval::val::Val;
use crate::ir::{self, Base, Expr, ExprKind, Type};
use crate::value::Date;

/// Up to this many strings, a list is scanned rather than hashed.
const FEW: usize = 8;

/// Compiles a checked rule set for the evaluation date `today`.
pub fn compile(rules: &ir::CheckedRules, today: Option<Date>) -> Program {
    compile_with(rules, today, false)
}

/// [`compile`], keeping every operand of every `and` and `or` as written,
/// constant or not (`today >= 2026-01-01` with `today` known), for condition
/// coverage: folding `true and x` to `x` would drop a condition.
pub fn compile_as_written(rules: &ir::CheckedRules, today: Option<Date>) -> Program {
    compile_with(rules, today, true)
}

/// How deep, in nodes, evaluating a definition may recurse before
/// definitions are computed in id order instead. One expression nests at
/// most 64 deep with 256 operators (the syntax's limits), so only chains of
/// definitions built on definitions reach it: 32 of them, each 250
/// operators deep, recurse 8,000 nodes, which overflows an 8 MiB stack in
/// a debug build.
pub(crate) const PREFETCH_DEPTH: u32 = 512;

/// The deepest recursion, in nodes, that evaluating one of the program's
/// definitions takes, following the definitions it uses.
fn deepest_definition(program: &Program) -> u32 {
    // INVARIANT: a node's operands come before it in `nodes`, and a
    // definition uses only definitions with smaller ids, compiled before
    // it: one pass in id order sees every operand's depth first.
    let mut depths = vec![0_u32; program.nodes.len()];
    for (id, node) in program.nodes.iter().enumerate() {
        let mut depth = match node {
            Node::Def(index) => {
                program.definitions.get(*index as usize).and_then(|&root| depths.get(root as usize)).copied()
            }
            _ => None,
        }
        .unwrap_or(0);
        for_each_operand(node, |operand| depth = depth.max(depths.get(operand as usize).copied().unwrap_or(0)));
        if let Some(slot) = depths.get_mut(id) {
            *slot = depth.saturating_add(1);
        }
    }
    program.definitions.iter().filter_map(|&root| depths.get(root as usize)).copied().max().unwrap_or(0)
}

fn compile_with(rules: &ir::CheckedRules, today: Option<Date>, as_written: bool) -> Program {
    let mut compiler = Compiler {
        program: Program {
            nodes: Vec::new(),
            definitions: Vec::new(),
            rules: Vec::new(),
            streams: rules.streams.len(),
            spans: Vec::new(),
            types: Vec::new(),
            dispatch: Dispatch::default(),
            cached_aggregates: 0,
            hashed_lists: 0,
            requirements: Vec::new(),
            caps: Vec::new(),
            cached_buckets: 0,
            fused: Conditions::default(),
            deep_definitions: false,
            // No native code until an engine asks for it.
            engine: crate::eval::engine::Engine::Interpreted,
            #[cfg(feature = "jit")]
            native: crate::eval::native::code::Native::default(),
        },
        today,
        as_written,
    };
    for def in &rules.definitions {
        let node = compiler.expr(&def.value);
        compiler.program.definitions.push(node);
    }
    compiler.program.deep_definitions = deepest_definition(&compiler.program) > PREFETCH_DEPTH;
    for rule in &rules.rules {
        let condition = compiler.expr(&rule.condition);
        let ids = |s: &[usize]| s.iter().map(|&i| u32::try_from(i).unwrap_or(u32::MAX)).collect();
        compiler.program.rules.push(RuleCode {
            condition,
            assigns: ids(&rule.assigns),
            suppresses: ids(&rule.suppresses),
        });
    }
    for requirement in &rules.requirements {
        let condition = compiler.expr(&requirement.condition);
        let streams = requirement.streams.iter().map(|&i| u32::try_from(i).unwrap_or(u32::MAX)).collect();
        compiler.program.requirements.push(RequirementCode { condition, streams });
    }
    for cap in &rules.caps {
        let of_kind = || rules.streams.iter().enumerate().filter(|(_, s)| s.kind == cap.kind).map(|(i, _)| i);
        let (Some(first), Some(last)) = (of_kind().next(), of_kind().next_back()) else { continue };
        let id = |i: usize| u32::try_from(i).unwrap_or(u32::MAX);
        let most = id(cap.most);
        compiler.program.caps.push(CapCode { first: id(first), end: id(last + 1), most });
    }
    cache_aggregates(&mut compiler.program);
    let conditions: Vec<NodeId> = compiler.program.rules.iter().map(|r| r.condition).collect();
    compiler.program.dispatch = dispatch::build(&compiler.program.nodes, &conditions);
    specialise::build(&mut compiler.program);
    compiler.program
}

struct Compiler {
    program: Program,
    today: Option<Date>,
    /// Keep `and` and `or` with their operands, constant or not.
    as_written: bool,
}

impl Compiler {
    fn push(&mut self, node: Node, e: &Expr) -> NodeId {
        let node = self.fold(node);
        self.program.nodes.push(node);
        self.program.spans.push(e.span);
        self.program.types.push(e.ty.clone());
        u32::try_from(self.program.nodes.len() - 1).unwrap_or(u32::MAX)
    }

    fn constant(&self, id: NodeId) -> Option<&Scalar> {
        match self.program.nodes.get(id as usize) {
            Some(Node::Const(c)) => Some(c),
            _ => None,
        }
    }

    /// Folds a node whose operands are all constants by evaluating it on an
    /// empty profile: the evaluator is the one definition of every operator.
    fn fold(&mut self, node: Node) -> Node {
        match &node {
            Node::Const(_)
            | Node::Field { .. }
            | Node::Def(_)
            | Node::Aggregate(_)
            | Node::InList(..)
            | Node::InHashedList { .. } => return node,
            // Folded below when its value is a constant.
            Node::Bucket { .. } => {}
            Node::And(..) | Node::Or(..) if self.as_written => return node,
            Node::And(a, b) | Node::Or(a, b) => {
                let connective = Connective::of(matches!(node, Node::And(..)));
                let (ca, cb) = (self.constant(*a).cloned(), self.constant(*b).cloned());
                // `false and x` is false and `true or x` is true whatever x is;
                // `true and x` is x.
                let absorbing = Scalar::Bool(connective.decisive());
                let neutral = Scalar::Bool(!connective.decisive());
                if ca.as_ref() == Some(&absorbing) || cb.as_ref() == Some(&absorbing) {
                    return Node::Const(absorbing);
                }
                if ca.as_ref() == Some(&neutral) {
                    return self.copy(*b);
                }
                if cb.as_ref() == Some(&neutral) {
                    return self.copy(*a);
                }
            }
            _ => {}
        }
        let mut all_const = true;
        for_each_operand(&node, |id| all_const &= self.constant(id).is_some());
        if !all_const {
            return node;
        }
        self.program.nodes.push(node.clone());
        let id = u32::try_from(self.program.nodes.len() - 1).unwrap_or(u32::MAX);
        let empty = Profile::default();
        let mut scratch = Scratch::new(&self.program);
        let value = Scalar::of_val(self.program_eval(id, &mut scratch, &empty));
        self.program.nodes.pop();
        Node::Const(value)
    }

    fn program_eval<'a>(&'a self, id: NodeId, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Val<'a> {
        self.program.eval(id, scratch, profile)
    }

    fn copy(&self, id: NodeId) -> Node {
        self.program.nodes.get(id as usize).cloned().unwrap_or(Node::Const(Scalar::Unknown))
    }

    fn expr(&mut self, e: &Expr) -> NodeId {
        let node = match &e.kind {
            ExprKind::Const(c) => Node::Const(Scalar::from(c)),
            ExprKind::List(_) => Node::Const(Scalar::Unknown), // only valid under `in`, compiled there
            ExprKind::Field { base, path } => {
                Node::Field { base: *base, path: path.iter().map(|&s| u32::try_from(s).unwrap_or(u32::MAX)).collect() }
            }
            ExprKind::Def(id) => {
                let node = self.program.definitions.get(*id).copied();
                match node.and_then(|n| self.constant(n).cloned()) {
                    Some(constant) => Node::Const(constant),
                    None => Node::Def(u32::try_from(*id).unwrap_or(u32::MAX)),
                }
            }
            ExprKind::Today => Node::Const(self.today.map_or(Scalar::Unknown, Scalar::Date)),
            ExprKind::Not(a) => Node::Not(self.expr(a)),
            ExprKind::Neg(a) => Node::Neg(self.expr(a)),
            ExprKind::And(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::And(a, b)
            }
            ExprKind::Or(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::Or(a, b)
            }
            ExprKind::Compare(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::Compare(*op, a, b)
            }
            ExprKind::Arith(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::Arith(*op, a, b)
            }
            ExprKind::IntToNumber(a) => Node::IntToNumber(self.expr(a)),
            ExprKind::IntToMoney(a) => Node::IntToMoney(self.expr(a)),
            ExprKind::MoneyToNumber(a) => Node::MoneyToNumber(self.expr(a)),
            ExprKind::NumberToMoney(a) => Node::NumberToMoney(self.expr(a)),
            ExprKind::Between { value, low, high } => {
                let (v, l, h) = (self.expr(value), self.expr(low), self.expr(high));
                Node::Between(v, l, h)
            }
            ExprKind::In { value, list } => {
                let value = self.expr(value);
                match &list.kind {
                    ExprKind::List(items) => {
                        let items: Vec<NodeId> = items.iter().map(|i| self.expr(i)).collect();
                        match self.const_set(&items) {
                            Some(set) => Node::InSet(value, Box::new(set)),
                            None => Node::InItems(value, items.into_boxed_slice()),
                        }
                    }
                    _ => Node::InList(value, self.expr(list)),
                }
            }
            ExprKind::Text(op, a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::Text(*op, a, b)
            }
            ExprKind::IsMissing(a) => Node::IsMissing(self.expr(a)),
            ExprKind::Coalesce(a, b) => {
                let (a, b) = (self.expr(a), self.expr(b));
                Node::Coalesce(a, b)
            }
            ExprKind::Aggregate { func, list, projection, filter } => {
                let list_node = self.expr(list);
                let filter = filter.as_ref().map(|f| self.expr(f));
                let zero = match &e.ty {
                    Type::Money => Scalar::Money(0),
                    Type::Number => Scalar::Number(0.0),
                    _ => Scalar::Int(0),
                };
                Node::Aggregate(Box::new(Aggregate {
                    func: *func,
                    list: list_node,
                    projection: projection.iter().map(|&s| u32::try_from(s).unwrap_or(u32::MAX)).collect(),
                    filter,
                    fused_filter: None,
                    zero,
                    cache: None,
                }))
            }
            ExprKind::Bucket { value, salt } => {
                Node::Bucket { value: self.expr(value), salt: salt.as_str().into(), slot: None }
            }
        };
        self.push(node, e)
    }

    /// A hash set when every element of a list literal is a constant.
    fn const_set(&self, items: &[NodeId]) -> Option<ConstSet> {
        let constants: Vec<&Scalar> = items.iter().map(|&i| self.constant(i)).collect::<Option<_>>()?;
        match constants.first() {
            Some(Scalar::Str(_)) => {
                let strings: Vec<Box<str>> = constants
                    .iter()
                    .map(|c| if let Scalar::Str(s) = c { Some(s.clone()) } else { None })
                    .collect::<Option<_>>()?;
                Some(if strings.len() <= FEW {
                    ConstSet::FewStrings(strings.into_boxed_slice())
                } else {
                    ConstSet::Strings(strings.into_iter().collect())
                })
            }
            Some(Scalar::Number(_)) => constants
                .iter()
                .map(|c| if let Scalar::Number(n) = c { Some(*n) } else { None })
                .collect::<Option<_>>()
                .map(ConstSet::Numbers),
            Some(_) => constants.iter().map(|c| c.as_integer()).collect::<Option<_>>().map(ConstSet::Integers),
            None => Some(ConstSet::Integers(HashSet::new())),
        }
    }
}

/// Gives a cache slot to every aggregate that reads no element of an
/// enclosing aggregate. A node's need is how many enclosing elements it
/// reads: `it` or an element field at depth `d` needs `d + 1`; an aggregate
/// needs what its list needs, and one less than its filter (the filter's own
/// element is the aggregate's). Operands come before their users, so one
/// pass in order computes it.
fn cache_aggregates(program: &mut Program) {
    let mut need = vec![0_u32; program.nodes.len()];
    let mut next = 0;
    for id in 0..program.nodes.len() {
        let own = match program.nodes.get(id) {
            Some(Node::Field { base: Base::Element(depth), .. }) => depth + 1,
            Some(Node::Aggregate(agg)) => {
                let list = need.get(agg.list as usize).copied().unwrap_or(0);
                let filter = agg.filter.and_then(|f| need.get(f as usize).copied()).unwrap_or(0);
                list.max(filter.saturating_sub(1))
            }
            Some(node) => {
                let mut most = 0;
                for_each_operand(node, |operand| most = most.max(need.get(operand as usize).copied().unwrap_or(0)));
                most
            }
            None => 0,
        };
        if let Some(slot) = need.get_mut(id) {
            *slot = own;
        }
        if let (0, Some(Node::Aggregate(agg))) = (own, program.nodes.get_mut(id)) {
            agg.cache = Some(next);
            next += 1;
        }
        // Membership of an element's value in a list that is the same for
        // every element: hash the list once.
        if let Some(&Node::InList(value, list)) = program.nodes.get(id) {
            let reads_element = |n: NodeId| need.get(n as usize).copied().unwrap_or(0) > 0;
            if reads_element(value) && !reads_element(list) {
                if let Some(node) = program.nodes.get_mut(id) {
                    *node = Node::InHashedList { value, list, slot: program.hashed_lists };
                    program.hashed_lists += 1;
                }
            }
        }
    }
    program.cached_aggregates = next;
    // Buckets of one value and salt share a slot: `bucket(id, "ab") < 50`
    // and `bucket(id, "ab") >= 50` hash once a profile. A profile field is
    // known by its path, a definition by its index, anything else by its node.
    let mut buckets: HashMap<(BucketValue, Box<str>), u32> = HashMap::new();
    for id in 0..program.nodes.len() {
        let Some(Node::Bucket { value, salt, .. }) = program.nodes.get(id) else { continue };
        if need.get(id).copied().unwrap_or(0) > 0 {
            continue;
        }
        let of = match program.nodes.get(*value as usize) {
            Some(Node::Field { base: Base::Profile, path }) => BucketValue::Field(path.clone()),
            Some(Node::Def(def)) => BucketValue::Def(*def),
            _ => BucketValue::Node(*value),
        };
        let next = u32::try_from(buckets.len()).unwrap_or(u32::MAX);
        let slot = *buckets.entry((of, salt.clone())).or_insert(next);
        if let Some(Node::Bucket { slot: entry, .. }) = program.nodes.get_mut(id) {
            *entry = Some(slot);
        }
    }
    program.cached_buckets = u32::try_from(buckets.len()).unwrap_or(u32::MAX);
}

/// What a cached bucket hashes, for sharing its slot.
#[derive(PartialEq, Eq, Hash)]
enum BucketValue {
    Field(Box<[u32]>),
    Def(u32),
    Node(NodeId),
}
