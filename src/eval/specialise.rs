//! Rule conditions in specialised form, the hot
//! path of evaluation.
//!
//! [`compile`](crate::eval::compile) gives a general node graph, which `explain`
//! and `narval test` walk node by node. Rules are evaluated on a second
//! form of their conditions, built from those nodes: a tree of [`Condition`]s
//! whose common leaves are fused (a field compared with a constant or
//! between two, `list contains "constant"`, `in [...]`, `has`, a bool field,
//! `any`/`all`/`count(..) OP n` over a list field with the filter read from
//! each element's record) and read the profile's values directly, without
//! building a [`Val`] or looking a node up; `and`/`or` chains are
//! flattened; and leaves that several rules share are hash-consed and
//! computed once per profile ([`Conditions::shared`]). A node this form does not
//! specialise is evaluated by the general evaluator ([`Condition::Node`]), so a
//! new node kind works unchanged and can be specialised later. The node
//! graph is left as it was: its spans, `explain` and coverage see every
//! occurrence of a shared leaf.
//!
//! The two forms must agree. Both call [`crate::eval::logic`] for the
//! connectives, comparisons and membership; `tests/specialise.rs` (every
//! fused shape, with missing data) and `tests/differential.rs` (random rule
//! sets) hold every rule's outcome equal to the general evaluator's.

use std::collections::HashMap;

use crate::decode::{Profile, Value};
pub use crate::eval::fused::{masks, Condition, Conditions, Effects, IntKind, Operand, Region, RegionMasks};
use crate::eval::interpret::{read, Scratch};
use crate::eval::logic::{self, holds, Connective};
use crate::eval::node::{Aggregate, Node, NodeId, Scalar};
use crate::eval::program::Program;
use crate::eval::val::Val;
use crate::ir::AggregateFn;
use crate::ir::{Base, CmpOp};

/// The distinct effects, each with its index.
#[derive(Default)]
struct Masks {
    masks: Vec<Effects>,
    at: HashMap<([u64; 4], [u64; 4]), u32>,
}

impl Masks {
    fn index(&mut self, effects: &Effects) -> u32 {
        let next = u32::try_from(self.masks.len()).unwrap_or(u32::MAX);
        *self.at.entry((effects.assigns, effects.suppresses)).or_insert_with(|| {
            self.masks.push(effects.clone());
            next
        })
    }
}

/// Splits a region's rules into those with `guards` exact guards (their
/// streams, combined) and the others.
fn region_masks(rules: &[u32], exact: &[u8], guards: u8, effects: &[Effects], masks: &mut Masks) -> Region {
    let mut combined = Effects::default();
    let mut rest = Vec::new();
    for &rule in rules {
        match (exact.get(rule as usize), effects.get(rule as usize)) {
            (Some(&g), Some(e)) if g == guards => {
                combined.assigns.iter_mut().zip(&e.assigns).for_each(|(c, m)| *c |= m);
                combined.suppresses.iter_mut().zip(&e.suppresses).for_each(|(c, m)| *c |= m);
            }
            _ => rest.push(rule),
        }
    }
    (masks.index(&combined), rest.into())
}

/// Streams a set holds inline ([`crate::eval::interpret::StreamSet`]).
const INLINE_STREAMS: usize = 256;

/// Builds the specialised form of a program's rules and definitions, and
/// of its aggregates' filters ([`crate::eval::compile::Aggregate::fused_filter`]).
pub fn build(program: &mut Program) {
    let nodes = &program.nodes;
    let profile = Base::Profile;
    let rules: Vec<Condition> = program.rules.iter().map(|rule| specialise(nodes, rule.condition, profile)).collect();
    let definitions: Vec<Option<Condition>> = program
        .definitions
        .iter()
        .map(|&root| is_condition(nodes, root).then(|| specialise(nodes, root, profile)))
        .collect();
    let requirements: Vec<Condition> =
        program.requirements.iter().map(|r| specialise(nodes, r.condition, profile)).collect();
    // A filter reads its element's fields from the element itself; it is
    // never shared with rules, whose paths start at the profile.
    let filters: Vec<(usize, Condition)> = nodes
        .iter()
        .enumerate()
        .filter_map(|(id, node)| match node {
            Node::Aggregate(agg) => agg.filter.map(|filter| (id, specialise(nodes, filter, Base::Element(0)))),
            _ => None,
        })
        .collect();
    for (id, filter) in filters {
        if let Some(Node::Aggregate(agg)) = program.nodes.get_mut(id) {
            agg.fused_filter = Some(Box::new(filter));
        }
    }
    let effects = if program.streams <= INLINE_STREAMS {
        let effects =
            |r: &crate::eval::node::RuleCode| Effects { assigns: masks(&r.assigns), suppresses: masks(&r.suppresses) };
        program.rules.iter().map(effects).collect()
    } else {
        Vec::new()
    };
    let mut masks = Masks::default();
    let regions = if effects.is_empty() {
        Vec::new()
    } else {
        let exact = &program.dispatch.exact;
        let mut region = |rules: &Vec<u32>, guards| region_masks(rules, exact, guards, &effects, &mut masks);
        program
            .dispatch
            .ranges
            .iter()
            .map(|index| RegionMasks {
                direct: index.regions.iter().map(|rules| region(rules, 1)).collect(),
                nested: index
                    .nested
                    .iter()
                    .map(|nested| nested.as_ref().map(|n| n.regions.iter().map(|rules| region(rules, 2)).collect()))
                    .collect(),
            })
            .collect()
    };
    let fused = Conditions { rules, definitions, requirements, effects, regions, ..Conditions::default() };
    let mut fused = residuals(&program.nodes, program, share(fused));
    fused.found = fused.effects.iter().zip(&fused.residual_of).map(|(e, &r)| (r, masks.index(e))).collect();
    fused.masks = masks.masks;
    program.fused = fused;
}

/// Fills [`Conditions::residuals`] from the shared tests of the rules: each
/// rule's `and` chain without its guard, the operands in the order of
/// [`chain`], as [`crate::eval::dispatch`] counts them.
fn residuals(nodes: &[Node], program: &Program, mut fused: Conditions) -> Conditions {
    let mut distinct: HashMap<String, u32> = HashMap::new();
    let mut residuals = Vec::new();
    let mut residual_of = Vec::with_capacity(fused.rules.len());
    for (rule, test) in fused.rules.iter().enumerate() {
        let at = program.dispatch.guard_at.get(rule).copied().flatten();
        let condition = program.rules.get(rule).map(|r| r.condition);
        let is_and = condition.is_some_and(|c| matches!(nodes.get(c as usize), Some(Node::And(..))));
        let residual = match (at, test) {
            (None, _) => None,
            (Some(at), Condition::And(items)) if is_and && (at as usize) < items.len() => {
                let mut rest: Vec<Condition> = items.iter().take(at as usize).cloned().collect();
                rest.extend(items.iter().skip(at as usize + 1).cloned());
                Some(match rest.len() {
                    0 => Condition::Known(Some(true)),
                    1 => rest.pop().unwrap_or(Condition::Known(Some(true))),
                    _ => Condition::And(rest.into()),
                })
            }
            (Some(0), _) if !is_and => Some(Condition::Known(Some(true))),
            // Not the shape the guard was found in: the whole condition.
            (Some(_), test) => Some(test.clone()),
        };
        let index = residual.map_or(u32::MAX, |residual| {
            // Conditions hold floats, so they are told apart by their exact
            // debug form (a float's is its shortest round trip).
            let next = u32::try_from(residuals.len()).unwrap_or(u32::MAX);
            *distinct.entry(format!("{residual:?}")).or_insert_with(|| {
                residuals.push(residual);
                next
            })
        });
        residual_of.push(index);
    }
    fused.residuals = residuals;
    fused.residual_of = residual_of;
    fused
}

/// Whether a definition is a condition (its value a truth).
fn is_condition(nodes: &[Node], id: NodeId) -> bool {
    matches!(
        nodes.get(id as usize),
        Some(
            Node::And(..)
                | Node::Or(..)
                | Node::Not(_)
                | Node::Compare(..)
                | Node::InSet(..)
                | Node::IsMissing(_)
                | Node::InList(..)
        )
    )
}

/// The test of a node whose fields are read from `base`: a field read from
/// anywhere else is left to the general evaluator.
fn specialise(nodes: &[Node], id: NodeId, base: Base) -> Condition {
    let Some(node) = nodes.get(id as usize) else { return Condition::Known(None) };
    match node {
        Node::Const(Scalar::Bool(b)) => Condition::Known(Some(*b)),
        Node::Const(_) => Condition::Known(None),
        Node::And(..) => {
            Condition::And(chain(nodes, id, true).into_iter().map(|n| specialise(nodes, n, base)).collect())
        }
        Node::Or(..) => {
            Condition::Or(chain(nodes, id, false).into_iter().map(|n| specialise(nodes, n, base)).collect())
        }
        Node::Not(a) => Condition::Not(Box::new(specialise(nodes, *a, base))),
        Node::Field { base: b, path } if *b == base && !path.is_empty() => Condition::Bool(path.clone()),
        Node::Def(index) => Condition::Def(*index),
        Node::Compare(op, a, b) => compare(nodes, *op, *a, *b, base),
        Node::Between(value, low, high) => between(nodes, *value, *low, *high, base).unwrap_or(Condition::Node(id)),
        Node::InSet(value, set) => match field(nodes, *value, base) {
            Some(path) => Condition::FieldIn { path: path.into(), set: set.clone() },
            None => Condition::InSet(operand(nodes, *value, base), set.clone()),
        },
        Node::InList(value, list) => match (nodes.get(*value as usize), field(nodes, *list, base)) {
            (Some(Node::Const(Scalar::Str(item))), Some(path)) => {
                Condition::ListHas { path: path.into(), item: item.clone() }
            }
            _ => Condition::Node(id),
        },
        Node::Aggregate(agg) => quantifier(nodes, agg, base).unwrap_or(Condition::Node(id)),
        Node::IsMissing(a) => match field(nodes, *a, base) {
            Some(path) => Condition::FieldMissing(path.into()),
            None => Condition::Missing(operand(nodes, *a, base)),
        },
        _ => Condition::Node(id),
    }
}

/// The path of a field read from `base`.
fn field(nodes: &[Node], id: NodeId, base: Base) -> Option<&[u32]> {
    match nodes.get(id as usize) {
        Some(Node::Field { base: b, path }) if *b == base && !path.is_empty() => Some(path),
        _ => None,
    }
}

/// The operands of an `and` (or `or`) chain, left to right.
fn chain(nodes: &[Node], id: NodeId, is_and: bool) -> Vec<NodeId> {
    let mut out = Vec::new();
    let mut stack = vec![id];
    while let Some(id) = stack.pop() {
        match nodes.get(id as usize) {
            Some(Node::And(a, b)) if is_and => stack.extend([*b, *a]),
            Some(Node::Or(a, b)) if !is_and => stack.extend([*b, *a]),
            _ => out.push(id),
        }
    }
    out
}

/// A field between two constants of one kind.
fn between(nodes: &[Node], value: NodeId, low: NodeId, high: NodeId, base: Base) -> Option<Condition> {
    let path: Box<[u32]> = field(nodes, value, base)?.into();
    let (Node::Const(low), Node::Const(high)) = (nodes.get(low as usize)?, nodes.get(high as usize)?) else {
        return None;
    };
    let int = |kind, low, high| Some(Condition::IntBetween { path: path.clone(), kind, low, high });
    match (low, high) {
        (Scalar::Number(low), Scalar::Number(high)) => Some(Condition::NumberBetween { path, low: *low, high: *high }),
        (Scalar::Int(low), Scalar::Int(high)) => int(IntKind::Int, *low, *high),
        (Scalar::Money(low), Scalar::Money(high)) => int(IntKind::Money, *low, *high),
        (Scalar::Date(low), Scalar::Date(high)) => int(IntKind::Date, i64::from(low.0), i64::from(high.0)),
        _ => None,
    }
}

/// `any` or `all` with a filter, over a list field.
fn quantifier(nodes: &[Node], agg: &Aggregate, base: Base) -> Option<Condition> {
    let all = match agg.func {
        AggregateFn::Any => false,
        AggregateFn::All => true,
        _ => return None,
    };
    let (Some(list), Some(filter), true) = (field(nodes, agg.list, base), agg.filter, agg.projection.is_empty()) else {
        return None;
    };
    Some(Condition::Quantifier {
        all,
        list: list.into(),
        filter: Box::new(specialise(nodes, filter, Base::Element(0))),
    })
}

/// `count(..) OP constant`, the count over a list field.
fn count(nodes: &[Node], op: CmpOp, a: NodeId, b: NodeId, base: Base) -> Option<Condition> {
    let (agg, op, constant) = match (nodes.get(a as usize)?, nodes.get(b as usize)?) {
        (Node::Aggregate(agg), Node::Const(Scalar::Int(c))) => (agg, op, *c),
        (Node::Const(Scalar::Int(c)), Node::Aggregate(agg)) => (agg, op.flipped(), *c),
        _ => return None,
    };
    if agg.func != AggregateFn::Count {
        return None;
    }
    let list: Box<[u32]> = field(nodes, agg.list, base)?.into();
    let filter = agg.filter.map(|f| Box::new(specialise(nodes, f, Base::Element(0))));
    Some(Condition::Count { list, filter, op, constant })
}

fn compare(nodes: &[Node], op: CmpOp, a: NodeId, b: NodeId, base: Base) -> Condition {
    if let Some(count) = count(nodes, op, a, b, base) {
        return count;
    }
    let field_const = match (field(nodes, a, base), nodes.get(b as usize), nodes.get(a as usize), field(nodes, b, base))
    {
        (Some(path), Some(Node::Const(c)), ..) => Some((path, op, c)),
        (_, _, Some(Node::Const(c)), Some(path)) => Some((path, op.flipped(), c)),
        _ => None,
    };
    let Some((path, op, constant)) = field_const else {
        return Condition::Compare(op, operand(nodes, a, base), operand(nodes, b, base));
    };
    let path: Box<[u32]> = path.into();
    let int = |kind, constant| Condition::Int { path: path.clone(), kind, op, constant };
    match constant {
        Scalar::Int(i) => int(IntKind::Int, *i),
        Scalar::Money(m) => int(IntKind::Money, *m),
        Scalar::Date(d) => int(IntKind::Date, i64::from(d.0)),
        Scalar::Enum(e) => int(IntKind::Enum, i64::from(*e)),
        Scalar::Bool(b) => int(IntKind::Bool, i64::from(*b)),
        Scalar::Number(n) => Condition::Number { path, op, constant: *n },
        Scalar::Str(s) => Condition::Str { path, op, constant: s.clone() },
        Scalar::Unknown => Condition::Known(None),
    }
}

fn operand(nodes: &[Node], id: NodeId, base: Base) -> Operand {
    match nodes.get(id as usize) {
        Some(Node::Const(c)) => Operand::Const(c.clone()),
        Some(Node::Def(index)) => Operand::Def(*index),
        _ => match field(nodes, id, base) {
            Some(path) => Operand::Field(path.into()),
            None => Operand::Node(id),
        },
    }
}

/// What makes two leaves the same computation. Only leaves that cost more
/// than reading the cache have a key: a bool field or a number compared
/// with a constant is cheaper to test again.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Key {
    ListHas(Box<[u32]>, Box<str>),
    Str(Box<[u32]>, CmpOp, Box<str>),
    Compare(CmpOp, OperandKey, OperandKey),
    Missing(OperandKey),
    Node(NodeId),
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum OperandKey {
    Field(Box<[u32]>),
    /// A constant by its kind and bits.
    Const(u8, u64, Option<Box<str>>),
    Def(u32),
    Node(NodeId),
}

fn key(test: &Condition) -> Option<Key> {
    Some(match test {
        Condition::ListHas { path, item } => Key::ListHas(path.clone(), item.clone()),
        Condition::Str { path, op, constant } => Key::Str(path.clone(), *op, constant.clone()),
        Condition::Compare(op, a, b) => Key::Compare(*op, operand_key(a), operand_key(b)),
        Condition::Missing(a) => Key::Missing(operand_key(a)),
        Condition::Node(id) => Key::Node(*id),
        _ => return None,
    })
}

fn operand_key(operand: &Operand) -> OperandKey {
    match operand {
        Operand::Field(path) => OperandKey::Field(path.clone()),
        Operand::Def(index) => OperandKey::Def(*index),
        Operand::Node(id) => OperandKey::Node(*id),
        Operand::Const(c) => match c {
            Scalar::Unknown => OperandKey::Const(0, 0, None),
            Scalar::Bool(b) => OperandKey::Const(1, u64::from(*b), None),
            Scalar::Int(i) => OperandKey::Const(2, *i as u64, None),
            Scalar::Number(n) => OperandKey::Const(3, n.to_bits(), None),
            Scalar::Money(m) => OperandKey::Const(4, *m as u64, None),
            Scalar::Date(d) => OperandKey::Const(5, d.0 as u64, None),
            Scalar::Enum(e) => OperandKey::Const(6, u64::from(*e), None),
            Scalar::Str(s) => OperandKey::Const(7, 0, Some(s.clone())),
        },
    }
}

/// Hash-conses the leaves: every leaf with a [`Key`] found more than once
/// becomes a [`Condition::Shared`] slot.
fn share(mut fused: Conditions) -> Conditions {
    let mut counts: HashMap<Key, u32> = HashMap::new();
    let roots = fused.rules.iter().chain(&fused.requirements).chain(fused.definitions.iter().flatten());
    for root in roots {
        visit(root, &mut |leaf| {
            if let Some(key) = key(leaf) {
                *counts.entry(key).or_default() += 1;
            }
        });
    }
    counts.retain(|_, count| *count > 1);
    if counts.is_empty() {
        return fused;
    }
    let mut slots: HashMap<Key, u32> = HashMap::new();
    let mut shared = Vec::new();
    let mut replace = |leaf: &mut Condition| {
        let Some(key) = key(leaf).filter(|k| counts.contains_key(k)) else { return };
        let next = u32::try_from(shared.len()).unwrap_or(u32::MAX);
        let slot = *slots.entry(key).or_insert_with(|| {
            shared.push(leaf.clone());
            next
        });
        *leaf = Condition::Shared(slot);
    };
    for root in fused.rules.iter_mut().chain(&mut fused.requirements).chain(fused.definitions.iter_mut().flatten()) {
        visit_mut(root, &mut replace);
    }
    fused.shared = shared;
    fused
}

fn visit(test: &Condition, f: &mut impl FnMut(&Condition)) {
    match test {
        Condition::And(items) | Condition::Or(items) => items.iter().for_each(|t| visit(t, f)),
        Condition::Not(inner) => visit(inner, f),
        leaf => f(leaf),
    }
}

fn visit_mut(test: &mut Condition, f: &mut impl FnMut(&mut Condition)) {
    match test {
        Condition::And(items) | Condition::Or(items) => items.iter_mut().for_each(|t| visit_mut(t, f)),
        Condition::Not(inner) => visit_mut(inner, f),
        leaf => f(leaf),
    }
}

/// Reads a field's value by slot path from a record, without converting it.
#[inline(always)]
fn slot<'a>(profile: &'a Profile, root: &'a [Value], path: &[u32]) -> Option<&'a Value> {
    let (&first, steps) = path.split_first()?;
    let mut value = root.get(first as usize)?;
    for &step in steps {
        let Value::Record(record) = value else { return None };
        value = profile.field(*record, step)?;
    }
    Some(value)
}

/// The truth of a fused leaf, read straight from the record; `None` for any
/// other test. Inlined into the loops of `and` and `or`, so that a chain of
/// leaves costs no call per leaf.
#[inline(always)]
fn leaf_truth(test: &Condition, root: &[Value], profile: &Profile) -> Option<Option<bool>> {
    Some(match test {
        Condition::Bool(path) => match slot(profile, root, path) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        },
        Condition::Int { path, kind, op, constant } => {
            let value = match (kind, slot(profile, root, path)) {
                (IntKind::Int, Some(Value::Int(i))) | (IntKind::Money, Some(Value::Money(i))) => *i,
                (IntKind::Date, Some(Value::Date(d))) => i64::from(d.0),
                (IntKind::Enum, Some(Value::Enum(e))) => i64::from(*e),
                (IntKind::Bool, Some(Value::Bool(b))) => i64::from(*b),
                _ => return Some(None),
            };
            Some(holds(*op, value.cmp(constant)))
        }
        Condition::Number { path, op, constant } => match slot(profile, root, path) {
            Some(Value::Number(n)) => logic::compared(*op, logic::order_numbers(*n, *constant)),
            _ => None,
        },
        Condition::NumberBetween { path, low, high } => match slot(profile, root, path) {
            Some(Value::Number(n)) => {
                logic::between(logic::order_numbers(*n, *low), || logic::order_numbers(*n, *high))
            }
            _ => None,
        },
        Condition::IntBetween { path, kind, low, high } => {
            let value = match (kind, slot(profile, root, path)) {
                (IntKind::Int, Some(Value::Int(i))) | (IntKind::Money, Some(Value::Money(i))) => *i,
                (IntKind::Date, Some(Value::Date(d))) => i64::from(d.0),
                _ => return Some(None),
            };
            logic::between(Some(value.cmp(low)), || Some(value.cmp(high)))
        }
        // As `Node::InList` with a known value ([`logic::membership`]): an
        // unknown list is unknown, a list holds the value or does not.
        Condition::ListHas { path, item } => match slot(profile, root, path) {
            Some(Value::List(items)) => Some(
                profile
                    .items(*items)
                    .iter()
                    .any(|i| matches!(i, Value::String(s) if profile.text_bytes(*s) == item.as_bytes())),
            ),
            _ => None,
        },
        Condition::FieldMissing(path) => Some(matches!(slot(profile, root, path), None | Some(Value::Missing))),
        Condition::FieldIn { path, set } => {
            logic::in_set(slot(profile, root, path).map_or(Val::Unknown, |v| Val::of(v, profile)), set)
        }
        Condition::Known(truth) => *truth,
        _ => return None,
    })
}

impl Program {
    /// The truth of a specialised condition on a profile. `root` is the record
    /// the condition's fields are read from: the profile's fields, or for an
    /// aggregate's filter the element's.
    ///
    /// The connectives and the fused leaves are here; every other condition is
    /// out of line ([`Program::check_other`]), which keeps this function's
    /// frame small.
    pub(crate) fn check<'a>(
        &'a self,
        test: &'a Condition,
        scratch: &mut Scratch<'a>,
        root: &'a [Value],
        profile: &'a Profile,
    ) -> Option<bool> {
        if let Some(truth) = leaf_truth(test, root, profile) {
            return truth;
        }
        match test {
            Condition::And(items) => logic::all(items.iter().map(|item| match leaf_truth(item, root, profile) {
                Some(truth) => truth,
                None => self.check(item, scratch, root, profile),
            })),
            Condition::Or(items) => logic::any(items.iter().map(|item| match leaf_truth(item, root, profile) {
                Some(truth) => truth,
                None => self.check(item, scratch, root, profile),
            })),
            Condition::Not(inner) => logic::not(self.check(inner, scratch, root, profile)),
            Condition::Def(index) => {
                if let Some(Some(cached)) = scratch.definitions.get(*index as usize) {
                    return cached.truth();
                }
                let truth = match self.fused.definitions.get(*index as usize) {
                    Some(Some(test)) => self.check(test, scratch, profile.fields(), profile),
                    _ => return self.definition(*index, scratch, profile).truth(),
                };
                if let Some(entry) = scratch.definitions.get_mut(*index as usize) {
                    *entry = Some(Val::from_truth(truth));
                }
                truth
            }
            Condition::Shared(index) => {
                if let Some(Some(cached)) = scratch.shared.get(*index as usize) {
                    return *cached;
                }
                let leaf = self.fused.shared.get(*index as usize)?;
                let truth = self.check(leaf, scratch, profile.fields(), profile);
                if let Some(entry) = scratch.shared.get_mut(*index as usize) {
                    *entry = Some(truth);
                }
                truth
            }
            other => self.check_other(other, scratch, root, profile),
        }
    }

    #[inline(never)]
    fn check_other<'a>(
        &'a self,
        test: &'a Condition,
        scratch: &mut Scratch<'a>,
        root: &'a [Value],
        profile: &'a Profile,
    ) -> Option<bool> {
        match test {
            Condition::Str { path, op, constant } => match slot(profile, root, path)? {
                Value::String(s) => Some(holds(*op, logic::order_text(profile.text_bytes(*s), constant.as_bytes()))),
                _ => None,
            },
            Condition::Compare(op, a, b) => {
                let a = self.value(a, scratch, root, profile);
                let b = self.value(b, scratch, root, profile);
                logic::compare(*op, a, b)
            }
            Condition::InSet(value, set) => {
                let value = self.value(value, scratch, root, profile);
                logic::in_set(value, set)
            }
            Condition::Missing(value) => Some(self.value(value, scratch, root, profile) == Val::Unknown),
            // `any` is an `or` of the elements' filters, `all` an `and`.
            Condition::Quantifier { all, list, filter } => {
                let Some(Value::List(items)) = slot(profile, root, list) else { return None };
                let truths = profile.items(*items).iter().map(|item| self.element(filter, item, scratch, profile));
                Connective::of(*all).fold(truths)
            }
            Condition::Count { list, filter, op, constant } => {
                let Some(Value::List(items)) = slot(profile, root, list) else { return None };
                let items = profile.items(*items);
                let count = match filter {
                    None => items.len(),
                    Some(filter) => {
                        let mut count = 0;
                        for item in items.iter() {
                            if self.element(filter, item, scratch, profile)? {
                                count += 1;
                            }
                        }
                        count
                    }
                };
                Some(holds(*op, i64::try_from(count).ok()?.cmp(constant)))
            }
            Condition::Node(id) => self.truth(*id, scratch, profile),
            // The connectives and fused leaves, should they come here.
            other => self.check(other, scratch, root, profile),
        }
    }

    /// A filter's truth on one element: its fields are read from the
    /// element, which is also pushed for the general evaluator (a filter
    /// may read an enclosing element).
    pub(crate) fn element<'a>(
        &'a self,
        filter: &'a Condition,
        item: &'a Value,
        scratch: &mut Scratch<'a>,
        profile: &'a Profile,
    ) -> Option<bool> {
        let fields: &'a [Value] = match item {
            Value::Record(fields) => profile.items(*fields),
            _ => &[],
        };
        scratch.elements.push(Val::of(item, profile));
        let truth = self.check(filter, scratch, fields, profile);
        scratch.elements.pop();
        truth
    }

    fn value<'a>(
        &'a self,
        operand: &'a Operand,
        scratch: &mut Scratch<'a>,
        root: &'a [Value],
        profile: &'a Profile,
    ) -> Val<'a> {
        match operand {
            Operand::Field(path) => read(profile, Val::Record(root), path),
            Operand::Const(c) => Val::of_scalar(c),
            Operand::Def(index) => self.definition(*index, scratch, profile),
            Operand::Node(id) => self.eval(*id, scratch, profile),
        }
    }
}
