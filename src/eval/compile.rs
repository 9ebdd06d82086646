//! Stage three: the checked rule set to a flat, index-addressed program.
//!
//! Every expression becomes nodes in one vector; a node names its operands
//! by index. Field reads are slot paths, `today` is a constant, constant
//! subexpressions are folded, and each definition is one node whose value
//! the evaluator caches per profile.

use std::collections::{HashMap, HashSet};

use crate::decode::Profile;
use crate::eval::dispatch::{self, Dispatch};
use crate::eval::interpret::{Cx, Val};
use crate::eval::specialise::{self, Test, Tests};
use crate::ir::AggregateFn;
use crate::ir::{self, ArithOp, Base, CmpOp, Const, Expr, ExprKind, TextOp, Type};
use crate::text::source::Span;
use crate::value::Date;

/// Index of a node in [`Program::nodes`].
pub type NodeId = u32;

/// A constant in a program.
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

/// Up to this many strings, a list is scanned rather than hashed.
const FEW: usize = 8;

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
    /// The filter as a specialised test on the element's fields, which
    /// evaluation runs when the element is a record.
    pub filter_test: Option<Box<Test>>,
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
    /// Number of cached aggregates ([`Aggregate::cache`]).
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
    pub tests: Tests,
    /// Whether some definition chains deeper than [`PREFETCH_DEPTH`]
    /// nodes through the definitions it uses: then evaluation computes
    /// definitions in id order ([`Program::definition`]), so that no
    /// evaluation recurses through more than one definition's expression.
    pub(crate) deep_definitions: bool,
    /// The specialised form as native code, when it was generated
    /// ([`Program::generate_native`]).
    #[cfg(feature = "jit")]
    pub native: crate::eval::native::Native,
}

/// How a rule's condition folded, when it did not depend on the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folded {
    /// Always false: the rule never fires.
    False,
    /// Always unknown: assignments never fire, suppressions always do.
    Unknown,
}

/// Compiles a checked rule set for the evaluation date `today`.
pub fn compile(rules: &ir::RuleSet, today: Option<Date>) -> Program {
    compile_with(rules, today, false)
}

/// [`compile`], keeping every operand of every `and` and `or` as written,
/// constant or not (`today >= 2026-01-01` with `today` known), for condition
/// coverage: folding `true and x` to `x` would drop a condition.
pub fn compile_as_written(rules: &ir::RuleSet, today: Option<Date>) -> Program {
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

fn compile_with(rules: &ir::RuleSet, today: Option<Date>, as_written: bool) -> Program {
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
            tests: Tests::default(),
            deep_definitions: false,
            #[cfg(feature = "jit")]
            native: crate::eval::native::Native::default(),
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

impl Program {
    /// Generates the native code of the program's specialised tests, which
    /// [`Program::assign`] then runs. A program without it (more rules or
    /// streams than native code takes, or a machine Cranelift does not
    /// support) is evaluated by the interpreter, with the same results.
    #[cfg(feature = "jit")]
    pub fn generate_native(&mut self) -> Result<(), crate::eval::native::Unavailable> {
        self.native = crate::eval::native::Native::build(self)?;
        Ok(())
    }

    /// [`Program::generate_native`] whole (`all`) or for the rules outside
    /// the indexes only, as for a large rule set, whatever its size, with
    /// `chunk` rules to a function: tests try each way.
    #[cfg(feature = "jit")]
    pub fn generate_native_as(&mut self, all: bool, chunk: usize) -> Result<(), crate::eval::native::Unavailable> {
        self.native = crate::eval::native::Native::build_chunked(self, all, chunk)?;
        Ok(())
    }

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
                let is_and = matches!(node, Node::And(..));
                let (ca, cb) = (self.constant(*a).cloned(), self.constant(*b).cloned());
                // `false and x` is false and `true or x` is true whatever x is;
                // `true and x` is x.
                let absorbing = Scalar::Bool(!is_and);
                let neutral = Scalar::Bool(is_and);
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
        let mut cx = Cx::new(&self.program);
        let value = Scalar::from_val(self.program_eval(id, &mut cx, &empty));
        self.program.nodes.pop();
        Node::Const(value)
    }

    fn program_eval<'a>(&'a self, id: NodeId, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        self.program.eval(id, cx, profile)
    }

    fn copy(&self, id: NodeId) -> Node {
        self.program.nodes.get(id as usize).cloned().unwrap_or(Node::Const(Scalar::Unknown))
    }

    fn expr(&mut self, e: &Expr) -> NodeId {
        let node = match &e.kind {
            ExprKind::Const(c) => Node::Const(match c {
                Const::Bool(b) => Scalar::Bool(*b),
                Const::Int(i) | Const::Days(i) => Scalar::Int(*i),
                Const::Number(n) => Scalar::Number(*n),
                Const::Money(m) => Scalar::Money(*m),
                Const::String(s) => Scalar::Str(s.as_str().into()),
                Const::Date(d) => Scalar::Date(*d),
                Const::Enum(m) => Scalar::Enum(*m),
            }),
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
                    filter_test: None,
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

    fn from_val(val: Val<'_>) -> Scalar {
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
