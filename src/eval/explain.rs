//! Why a profile gets its streams: for every stream, the rules that assign
//! or suppress it, and for every rule, the condition that decided it with
//! the values it read.
//!
//! The trace watches [`Program::run`], the interpreter's run of the same
//! program `assign` evaluates. `assign` runs native code where it has some;
//! the differential test and the fuzzer hold the two equal, so an
//! explanation does not disagree with an assignment. Unlike
//! diagnostics, it shows the profile's values: that is what it is asked for.
//! Under a policy it withholds the values the policy does not let the rules
//! read for this profile (language guide, section 17.6): a field of a
//! category whose consent is not true, of a `never read` category, or
//! outside an `only read` list, and anything computed from one.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::lineage;
use crate::analysis::policy::Policy;
use crate::decode::Profile;
use crate::decode::Value;
use crate::eval::interpret::{Outcome, Scratch, StreamSet};
use crate::eval::logic::Connective;
use crate::eval::node::{for_each_operand, Node, NodeId};
use crate::eval::program::Program;
use crate::eval::val::Val;
use crate::ir::StreamKind;
use crate::ir::{self, Base, Type};
use crate::text::source::{Sources, Span};
use crate::value::format_cents;

/// The trace of one profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// Every declared stream, solicitations then issues, in priority order.
    pub streams: Vec<StreamTrace>,
    /// Every rule, in the checked order (by name); holdouts among them.
    pub rules: Vec<RuleTrace>,
    /// Every stream requirement, by name.
    pub requirements: Vec<RequirementTrace>,
    /// Every cap by kind, with what it kept and removed.
    pub caps: Vec<CapTrace>,
}

/// One stream requirement: how its condition came out, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RequirementTrace {
    /// The requirement.
    pub requirement: String,
    /// `true` keeps its streams; `false` or `unknown` suppresses them.
    /// `None` (`null`) when a policy withholds it (see [`Because::withheld`]):
    /// its streams are then suppressed, since the consent it needs is not
    /// true.
    pub outcome: Option<Outcome>,
    /// The streams that need it.
    pub streams: Vec<String>,
    /// The part of the condition that decided the outcome.
    pub because: Because,
}

/// One cap by kind on one profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CapTrace {
    /// The kind capped.
    pub kind: StreamKind,
    /// How many streams of the kind a profile keeps.
    pub most: usize,
    /// Streams the rules and requirements left that the cap removed,
    /// lowest priority last.
    pub removed: Vec<String>,
}

/// One stream: whether it is assigned, and by which rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamTrace {
    /// The stream.
    pub stream: String,
    /// Its kind.
    pub kind: StreamKind,
    /// Whether the profile receives it.
    pub assigned: bool,
    /// Rules assigning it whose condition is true.
    pub assigned_by: Vec<String>,
    /// Rules assigning it whose condition is false or unknown.
    pub not_assigned_by: Vec<String>,
    /// Rules suppressing it whose condition is true or unknown.
    pub suppressed_by: Vec<String>,
    /// Requirements of the stream whose condition is false or unknown:
    /// each suppresses it, whatever the rules say.
    pub blocked_by: Vec<String>,
    /// Whether the cap of its kind removed it: the rules and requirements
    /// left it, but streams of higher priority filled the cap.
    pub capped: bool,
    /// Rules naming it whose outcome a policy withholds (see
    /// [`Because::withheld`]); left out of JSON when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

/// One rule: how its condition came out, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleTrace {
    /// The rule.
    pub rule: String,
    /// Whether the rule is a holdout (`holdout NAME: 5% -> ...`).
    pub holdout: bool,
    /// `true`, `false` or `unknown`; `None` (`null`) when a policy withholds
    /// it (see [`Because::withheld`]).
    pub outcome: Option<Outcome>,
    /// Streams it assigns when true.
    pub assigns: Vec<String>,
    /// Streams it suppresses when true or unknown.
    pub suppresses: Vec<String>,
    /// The part of the condition that decided the outcome.
    pub because: Because,
}

/// The condition that decided a rule: for a false `and`, its first false
/// operand; for a true `or`, its first true operand; for an unknown one,
/// its first unknown operand; otherwise the whole condition. Definitions
/// are followed into. A false `or` is false because every operand is: each
/// is explained in [`Because::operands`].
///
/// Under a policy, a condition computed from a field the policy does not
/// let the rules read for this profile is explained by a false top-level
/// conjunct that reads no such field, when there is one (the missing
/// consent, typically); otherwise its outcome is withheld.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Because {
    /// The condition as written.
    pub condition: String,
    /// Where it was written: file, line.
    pub file: String,
    /// Line of the condition.
    pub line: usize,
    /// Definitions followed to reach it, outermost first.
    pub within: Vec<String>,
    /// How it came out; `None` (`null`) when withheld.
    pub outcome: Option<Outcome>,
    /// The values it read.
    pub reads: Vec<Read>,
    /// For a false `or` (`a or b or c`, each operand once however the
    /// chain nests), each operand, explained as a condition of its own;
    /// left out of JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operands: Vec<Because>,
    /// Why the outcome is not shown: the reasons of [`Read::withheld`].
    /// Left out of JSON when the outcome is shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// A value a condition read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Read {
    /// The field path, definition or aggregate as written.
    pub name: String,
    /// The value as narval writes it; `None` when missing or unknown, or
    /// withheld.
    pub value: Option<String>,
    /// Whether `name` is a profile field (then `None` means missing).
    pub field: bool,
    /// Why the value is not shown, when a policy in effect does not let the
    /// rules read it for this profile: `consent.health is not true`,
    /// `health is never read under policy gdpr`, `party is outside the only
    /// read list of policy france_2012` (several joined by `, `). Left out
    /// of JSON when the value is not withheld.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
}

/// Explains one decoded profile.
pub(crate) fn explain(
    checked: &ir::CheckedRules,
    program: &Program,
    sources: &Sources,
    policies: &[Policy],
    profile: &Profile,
) -> Explanation {
    let mut scratch = Scratch::new(program);
    let mut outcomes = vec![Outcome::False; program.rules.len()];
    let assigned = program.run(profile, &mut scratch, |rule, outcome| {
        if let Some(slot) = outcomes.get_mut(rule) {
            *slot = outcome;
        }
    });
    let tracer = Tracer { checked, program, sources, policies, profile };
    let stream_name = |id: &usize| checked.streams.get(*id).map(|s| s.name.clone()).unwrap_or_default();
    let mut rules = Vec::new();
    for ((rule, code), outcome) in checked.rules.iter().zip(&program.rules).zip(&outcomes) {
        // INVARIANT: holdouts are sorted by name, as checking sorts them.
        let holdout = checked
            .holdouts
            .binary_search_by(|h| h.name.as_str().cmp(&rule.name))
            .ok()
            .and_then(|i| checked.holdouts.get(i));
        let because = match holdout {
            Some(holdout) => tracer.holdout(holdout, code.condition, *outcome, &mut scratch),
            None => tracer.because(code.condition, *outcome, &mut scratch),
        };
        rules.push(RuleTrace {
            rule: rule.name.clone(),
            holdout: holdout.is_some(),
            outcome: because.outcome,
            assigns: rule.assigns.iter().map(stream_name).collect(),
            suppresses: rule.suppresses.iter().map(stream_name).collect(),
            because,
        });
    }
    // The engine skips a requirement none of whose streams is left; here
    // every one is evaluated, on the same profile, to the same outcome.
    let mut requirements = Vec::new();
    let mut met = Vec::new();
    for (requirement, code) in checked.requirements.iter().zip(&program.requirements) {
        let outcome = program.outcome(code.condition, &mut scratch, profile);
        met.push(outcome == Outcome::True);
        let because = tracer.because(code.condition, outcome, &mut scratch);
        requirements.push(RequirementTrace {
            requirement: requirement.name.clone(),
            outcome: because.outcome,
            streams: requirement.streams.iter().map(stream_name).collect(),
            because,
        });
    }
    let mut streams = streams(checked, &outcomes, &assigned);
    let caps = caps(checked, &met, &mut streams);
    // A rule whose outcome is withheld is filed apart: which list it would
    // be in says what it is.
    for trace in rules.iter().filter(|r| r.outcome.is_none()) {
        for stream in &mut streams {
            let lists = [&mut stream.assigned_by, &mut stream.not_assigned_by, &mut stream.suppressed_by];
            let mut named = false;
            for list in lists {
                let before = list.len();
                list.retain(|name| *name != trace.rule);
                named |= list.len() != before;
            }
            if named {
                stream.withheld.push(trace.rule.clone());
            }
        }
    }
    Explanation { streams, rules, requirements, caps }
}

/// Files each unmet requirement under its streams, and finds the streams
/// a cap removed: those the rules assigned and no rule or requirement
/// suppressed, but that the profile does not receive.
/// `met`: whether each requirement's condition is true.
fn caps(checked: &ir::CheckedRules, met: &[bool], streams: &mut [StreamTrace]) -> Vec<CapTrace> {
    for (requirement, met) in checked.requirements.iter().zip(met) {
        if *met {
            continue;
        }
        for id in &requirement.streams {
            if let Some(stream) = streams.get_mut(*id) {
                stream.blocked_by.push(requirement.name.clone());
            }
        }
    }
    let mut caps = Vec::new();
    for cap in &checked.caps {
        let mut removed = Vec::new();
        for stream in streams.iter_mut().filter(|s| s.kind == cap.kind) {
            let left =
                !stream.assigned_by.is_empty() && stream.suppressed_by.is_empty() && stream.blocked_by.is_empty();
            if left && !stream.assigned {
                stream.capped = true;
                removed.push(stream.stream.clone());
            }
        }
        caps.push(CapTrace { kind: cap.kind, most: cap.most, removed });
    }
    caps
}

fn streams(checked: &ir::CheckedRules, outcomes: &[Outcome], assigned: &StreamSet) -> Vec<StreamTrace> {
    let mut traces: Vec<StreamTrace> = checked
        .streams
        .iter()
        .enumerate()
        .map(|(id, stream)| StreamTrace {
            stream: stream.name.clone(),
            kind: stream.kind,
            assigned: assigned.contains(id),
            assigned_by: Vec::new(),
            not_assigned_by: Vec::new(),
            suppressed_by: Vec::new(),
            blocked_by: Vec::new(),
            capped: false,
            withheld: Vec::new(),
        })
        .collect();
    // Rule by rule, each filed under the streams it names: not every rule
    // looked at for every stream.
    for (rule, outcome) in checked.rules.iter().zip(outcomes) {
        for id in &rule.assigns {
            let Some(trace) = traces.get_mut(*id) else { continue };
            if outcome.assigns() {
                trace.assigned_by.push(rule.name.clone());
            } else {
                trace.not_assigned_by.push(rule.name.clone());
            }
        }
        if outcome.suppresses() {
            for id in &rule.suppresses {
                if let Some(trace) = traces.get_mut(*id) {
                    trace.suppressed_by.push(rule.name.clone());
                }
            }
        }
    }
    traces
}

struct Tracer<'a> {
    checked: &'a ir::CheckedRules,
    program: &'a Program,
    sources: &'a Sources,
    policies: &'a [Policy],
    profile: &'a Profile,
}

impl<'a> Tracer<'a> {
    fn because(&self, condition: NodeId, outcome: Outcome, scratch: &mut Scratch<'a>) -> Because {
        self.because_at(condition, outcome, scratch, 0)
    }

    fn because_at(&self, condition: NodeId, outcome: Outcome, scratch: &mut Scratch<'a>, depth: usize) -> Because {
        let mut within = Vec::new();
        let Some(reason) = self.withheld(condition) else {
            let node = self.decider(condition, outcome, scratch, &mut within, 0);
            return self.decided(node, Some(outcome), within, None, scratch, depth);
        };
        // False whatever the withheld fields hold: the consent, typically.
        if let Some(node) = self.shown_false(condition, scratch, &mut within, 0) {
            return self.decided(node, Some(Outcome::False), within, None, scratch, depth);
        }
        self.decided(condition, None, Vec::new(), Some(reason), scratch, depth)
    }

    /// The explanation of a decided node.
    fn decided(
        &self,
        node: NodeId,
        outcome: Option<Outcome>,
        within: Vec<String>,
        withheld: Option<String>,
        scratch: &mut Scratch<'a>,
        depth: usize,
    ) -> Because {
        let span = self.program.spans.get(node as usize).copied();
        let (file, line) = span
            .and_then(|s| self.sources.get(s.file).map(|f| (f.name.clone(), f.line_col(s.start).0)))
            .unwrap_or_default();
        let mut reads = Vec::new();
        self.reads(node, scratch, &mut reads, 0);
        let condition = self.text(span);
        // `any(...)` read by the condition `any(...)` says nothing new.
        reads.retain(|r| r.name != condition);
        let mut operands = Vec::new();
        // Conditions nest at most as deep as the operator and definition limits allow.
        if outcome == Some(Outcome::False) && depth < 512 {
            let mut found = Vec::new();
            self.disjuncts(node, &mut found, 0);
            if found.len() > 1 {
                operands = found.into_iter().map(|d| self.because_at(d, Outcome::False, scratch, depth + 1)).collect();
            }
        }
        Because { condition, file, line, within, outcome, reads, operands, withheld }
    }

    /// The operands of an `or` chain, left to right; `node` itself when it
    /// is no `or`. Parentheses are no nodes, so `a or (b or c)` has three.
    fn disjuncts(&self, node: NodeId, out: &mut Vec<NodeId>, depth: usize) {
        match self.program.nodes.get(node as usize) {
            Some(Node::Or(a, b)) if depth < 512 => {
                let (a, b) = (*a, *b);
                self.disjuncts(a, out, depth + 1);
                self.disjuncts(b, out, depth + 1);
            }
            _ => out.push(node),
        }
    }

    /// A top-level conjunct of `node` (through `and` and definitions) that
    /// reads no withheld field and is false, narrowed by [`Tracer::decider`].
    fn shown_false(
        &self,
        node: NodeId,
        scratch: &mut Scratch<'a>,
        within: &mut Vec<String>,
        depth: usize,
    ) -> Option<NodeId> {
        if depth > 512 {
            return None;
        }
        match self.program.nodes.get(node as usize)? {
            Node::And(a, b) => {
                let (a, b) = (*a, *b);
                self.shown_false(a, scratch, within, depth + 1)
                    .or_else(|| self.shown_false(b, scratch, within, depth + 1))
            }
            Node::Def(index) => {
                let root = *self.program.definitions.get(*index as usize)?;
                let name = self.checked.definitions.get(*index as usize).map(|d| d.name.clone()).unwrap_or_default();
                within.push(name);
                let found = self.shown_false(root, scratch, within, depth + 1);
                if found.is_none() {
                    within.pop();
                }
                found
            }
            _ if self.withheld(node).is_none() && self.outcome(node, scratch) == Outcome::False => {
                Some(self.decider(node, Outcome::False, scratch, within, depth + 1))
            }
            _ => None,
        }
    }

    /// A holdout's condition as it reads in the guide, `bucket(id, "NAME")
    /// < 5`, with the profile's bucket.
    fn holdout(
        &self,
        holdout: &ir::Holdout,
        condition: NodeId,
        outcome: Outcome,
        scratch: &mut Scratch<'a>,
    ) -> Because {
        let (file, line) = self
            .sources
            .get(holdout.span.file)
            .map(|f| (f.name.clone(), f.line_col(holdout.span.start).0))
            .unwrap_or_default();
        let bucket = format!("bucket(id, {:?})", holdout.name);
        let withheld = self.withheld(condition);
        let value = match self.program.nodes.get(condition as usize) {
            Some(Node::Compare(_, left, _)) if withheld.is_none() => {
                show(self.program.eval(*left, scratch, self.profile), &Type::Number, &self.checked.schema, self.profile)
            }
            _ => None,
        };
        let share = format!("{}", f64::from(holdout.share) / 100.0);
        Because {
            condition: format!("{bucket} < {share}"),
            file,
            line,
            within: Vec::new(),
            outcome: if withheld.is_some() { None } else { Some(outcome) },
            reads: vec![Read { name: bucket, value, field: false, withheld: withheld.clone() }],
            operands: Vec::new(),
            withheld,
        }
    }

    /// The node that decided `node`'s outcome (see [`Because`]).
    fn decider(
        &self,
        node: NodeId,
        outcome: Outcome,
        scratch: &mut Scratch<'a>,
        within: &mut Vec<String>,
        depth: usize,
    ) -> NodeId {
        // Conditions nest at most as deep as the operator and definition limits allow.
        if depth > 512 {
            return node;
        }
        match self.program.nodes.get(node as usize) {
            Some(Node::And(a, b) | Node::Or(a, b)) => {
                let is_and = matches!(self.program.nodes.get(node as usize), Some(Node::And(..)));
                // The outcome no one operand decides: every operand shares it.
                let whole = Outcome::of(Some(!Connective::of(is_and).decisive()));
                if outcome == whole {
                    return node;
                }
                for operand in [*a, *b] {
                    if self.outcome(operand, scratch) == outcome {
                        return self.decider(operand, outcome, scratch, within, depth + 1);
                    }
                }
                node
            }
            Some(Node::Def(index)) => {
                let Some(&root) = self.program.definitions.get(*index as usize) else { return node };
                let name = self.checked.definitions.get(*index as usize).map(|d| d.name.clone()).unwrap_or_default();
                within.push(name);
                self.decider(root, outcome, scratch, within, depth + 1)
            }
            _ => node,
        }
    }

    fn outcome(&self, node: NodeId, scratch: &mut Scratch<'a>) -> Outcome {
        self.program.outcome(node, scratch, self.profile)
    }

    /// The profile fields, definitions and aggregates a condition reads.
    fn reads(&self, node: NodeId, scratch: &mut Scratch<'a>, out: &mut Vec<Read>, depth: usize) {
        let Some(n) = self.program.nodes.get(node as usize) else { return };
        let read = match n {
            Node::Field { base: Base::Profile, .. } => Some((self.text(self.span(node)), true)),
            Node::Def(index) => {
                Some((self.checked.definitions.get(*index as usize).map(|d| d.name.clone()).unwrap_or_default(), false))
            }
            Node::Aggregate(_) | Node::Bucket { .. } => Some((self.text(self.span(node)), false)),
            // A constant definition (`cap`) or `today`, folded at compile
            // time: still worth showing, unlike a literal.
            Node::Const(_) => {
                let text = self.text(self.span(node));
                let named = text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                    && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !matches!(text.as_str(), "true" | "false");
                if !named {
                    return;
                }
                Some((text, false))
            }
            Node::Field { .. } => return,
            _ => None,
        };
        match read {
            Some((name, field)) => {
                if out.iter().any(|r| r.name == name) {
                    return;
                }
                if let Some(reason) = self.withheld(node) {
                    out.push(Read { name, value: None, field, withheld: Some(reason) });
                    return;
                }
                let value = self.program.eval(node, scratch, self.profile);
                let ty = self.program.types.get(node as usize).cloned().unwrap_or(Type::Bool);
                let value = show(value, &ty, &self.checked.schema, self.profile);
                out.push(Read { name, value, field, withheld: None });
            }
            None if depth < 512 => for_each_operand(n, |operand| self.reads(operand, scratch, out, depth + 1)),
            None => {}
        }
    }

    /// Why the value of `node` may not be shown for this profile, if a
    /// policy in effect does not let the rules read a field it is computed
    /// from: every reason, sorted, joined by `, `.
    fn withheld(&self, node: NodeId) -> Option<String> {
        if self.policies.is_empty() {
            return None;
        }
        let mut fields = Vec::new();
        self.fields(node, &[], &mut fields, &mut HashSet::new(), 0);
        let mut reasons = Vec::new();
        for (path, categories) in &fields {
            let dotted = path.join(".");
            for policy in self.policies {
                if let Some(allow) = &policy.allow {
                    if !allow.iter().any(|a| path.starts_with(&a.names)) {
                        reasons.push(format!("{dotted} is outside the only read list of policy {}", policy.name));
                    }
                }
                for category in categories {
                    if policy.never.iter().any(|n| n.dotted() == *category) {
                        reasons.push(format!("{category} is never read under policy {}", policy.name));
                    }
                    for consent in policy.consents.iter().filter(|c| c.category.dotted() == *category) {
                        if !self.consented(&consent.field.names) {
                            reasons.push(format!("{} is not true", consent.field.dotted()));
                        }
                    }
                }
            }
        }
        reasons.sort();
        reasons.dedup();
        (!reasons.is_empty()).then(|| reasons.join(", "))
    }

    /// Whether the profile's bool field at `names` is true: missing, null,
    /// not decoded, inside a list or not a bool all count as not true.
    fn consented(&self, names: &[String]) -> bool {
        let Some((slots, Type::Bool)) = lineage::lookup(&self.checked.schema, names) else { return false };
        let mut slots = slots.iter();
        let Some(first) = slots.next() else { return false };
        let mut value = self.profile.fields().get(*first);
        for slot in slots {
            value = match (value, u32::try_from(*slot)) {
                (Some(Value::Record(record)), Ok(slot)) => self.profile.field(*record, slot),
                _ => None,
            };
        }
        matches!(value, Some(Value::Bool(true)))
    }

    /// The profile fields a node's value is computed from, through
    /// definitions and aggregates, each with its categories, as
    /// [`crate::analysis::lineage`] finds them in the checked rule set. `elements`:
    /// the elements of the enclosing aggregates, innermost last.
    /// `seen`: the definitions already walked, each once (`d2 = d1 + d1`
    /// would otherwise be walked 2^n times down a chain).
    fn fields(
        &self,
        node: NodeId,
        elements: &[Vec<Element>],
        out: &mut Vec<(Vec<String>, Vec<String>)>,
        seen: &mut HashSet<u32>,
        depth: usize,
    ) {
        // Nodes nest at most as deep as the operator and definition limits allow.
        if depth > 512 {
            return;
        }
        let schema = &self.checked.schema;
        let Some(n) = self.program.nodes.get(node as usize) else { return };
        match n {
            Node::Field { base: Base::Profile, path } => {
                let path: Vec<usize> = path.iter().map(|s| *s as usize).collect();
                if let Some((names, categories, _)) = lineage::resolve(schema, Some(0), &Type::Record(0), &path) {
                    out.push((names, categories));
                }
            }
            Node::Field { base: Base::Element(up), path } => {
                let level = elements.len().checked_sub(1 + *up as usize).and_then(|i| elements.get(i));
                for element in level.into_iter().flatten() {
                    if let Some((names, categories, _)) = element.resolve(schema, path) {
                        out.push((names, categories));
                    }
                }
            }
            Node::Def(index) => {
                if let Some(&root) = self.program.definitions.get(*index as usize).filter(|_| seen.insert(*index)) {
                    self.fields(root, &[], out, seen, depth + 1);
                }
            }
            Node::Aggregate(aggregate) => {
                let bases = self.elements(aggregate.list, elements, 0);
                let direct_field = matches!(self.program.nodes.get(aggregate.list as usize), Some(Node::Field { .. }));
                // As in lineage: the list itself is read unless a projection
                // or a filter names the fields of its elements that are read.
                if !direct_field || (aggregate.projection.is_empty() && aggregate.filter.is_none()) {
                    self.fields(aggregate.list, elements, out, seen, depth + 1);
                }
                if !aggregate.projection.is_empty() {
                    for element in &bases {
                        if let Some((names, categories, _)) = element.resolve(schema, &aggregate.projection) {
                            out.push((names, categories));
                        }
                    }
                }
                if let Some(filter) = aggregate.filter {
                    let mut inner = elements.to_vec();
                    inner.push(bases);
                    self.fields(filter, &inner, out, seen, depth + 1);
                }
            }
            other => for_each_operand(other, |operand| self.fields(operand, elements, out, seen, depth + 1)),
        }
    }

    /// What the elements of a list node are: the list field it reads
    /// (through definitions), or nothing for a list of constants.
    fn elements(&self, list: NodeId, elements: &[Vec<Element>], depth: usize) -> Vec<Element> {
        let schema = &self.checked.schema;
        let element = |found: Option<(Vec<String>, Vec<String>, Type)>| match found {
            Some((path, categories, Type::List(ty))) => vec![Element { path, categories, ty: *ty }],
            _ => Vec::new(),
        };
        match self.program.nodes.get(list as usize) {
            Some(Node::Field { base: Base::Profile, path }) => {
                let path: Vec<usize> = path.iter().map(|s| *s as usize).collect();
                element(lineage::resolve(schema, Some(0), &Type::Record(0), &path))
            }
            Some(Node::Field { base: Base::Element(up), path }) => {
                let level = elements.len().checked_sub(1 + *up as usize).and_then(|i| elements.get(i));
                level.into_iter().flatten().flat_map(|e| element(e.resolve(schema, path))).collect()
            }
            Some(Node::Def(index)) if depth < 64 => match self.program.definitions.get(*index as usize) {
                Some(&root) => self.elements(root, &[], depth + 1),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn span(&self, node: NodeId) -> Option<Span> {
        self.program.spans.get(node as usize).copied()
    }

    fn text(&self, span: Option<Span>) -> String {
        span.and_then(|s| {
            let file = self.sources.get(s.file)?;
            file.text.get(s.start as usize..s.end as usize).map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default()
    }
}

/// The element of a list an aggregate iterates: its path, categories and type.
#[derive(Clone, Debug)]
struct Element {
    path: Vec<String>,
    categories: Vec<String>,
    ty: Type,
}

impl Element {
    /// The full path, categories and type of a path of slots below the element.
    fn resolve(&self, schema: &ir::Schema, path: &[u32]) -> Option<(Vec<String>, Vec<String>, Type)> {
        let record = match &self.ty {
            Type::Record(id) => Some(*id),
            _ => None,
        };
        let path: Vec<usize> = path.iter().map(|s| *s as usize).collect();
        let (names, categories, ty) = lineage::resolve(schema, record, &self.ty, &path)?;
        let full = self.path.iter().cloned().chain(names).collect();
        let categories = self.categories.iter().cloned().chain(categories).collect();
        Some((full, categories, ty))
    }
}

/// A value as it would be written in a rule file; `None` when unknown.
fn show(value: Val<'_>, ty: &Type, schema: &ir::Schema, profile: &Profile) -> Option<String> {
    Some(match value {
        Val::Unknown => return None,
        Val::Bool(b) => b.to_string(),
        Val::Int(i) if *ty == Type::Days => format!("{i} days"),
        Val::Int(i) => i.to_string(),
        Val::Number(n) => format!("{n:?}"),
        Val::Money(m) => format!("${}", format_cents(m)),
        Val::Date(d) => d.to_string(),
        Val::Enum(e) => {
            let member = match ty {
                Type::Enum(id) => schema.enums.get(*id).and_then(|en| en.members.get(e as usize)),
                _ => None,
            };
            format!("{:?}", member.map_or("?", String::as_str))
        }
        Val::Str(s) => format!("{s:?}"),
        Val::List(items) => {
            let Type::List(element) = ty else { return Some(format!("a list of {}", items.len())) };
            if matches!(**element, Type::Record(_)) || items.len() > 10 {
                return Some(format!("a list of {}", items.len()));
            }
            let shown: Vec<String> = items
                .iter()
                .map(|item| show(Val::of(item, profile), element, schema, profile).unwrap_or_else(|| "missing".into()))
                .collect();
            format!("[{}]", shown.join(", "))
        }
        Val::Record(_) => "a record".into(),
    })
}

impl Explanation {
    /// The streams the profile receives, solicitations then issues.
    pub fn assigned(&self) -> impl Iterator<Item = &StreamTrace> {
        self.streams.iter().filter(|s| s.assigned)
    }

    /// The trace of a rule by name.
    pub fn rule(&self, name: &str) -> Option<&RuleTrace> {
        // INVARIANT: `explain` lists the rules sorted by name, as checking
        // sorts them; the scan is for an explanation built otherwise.
        match self.rules.binary_search_by(|r| r.rule.as_str().cmp(name)) {
            Ok(index) => self.rules.get(index),
            Err(_) => self.rules.iter().find(|r| r.rule == name),
        }
    }

    /// Every stream, each with the rules that decided it, for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for kind in [StreamKind::Solicitation, StreamKind::Issue] {
            let _ = writeln!(out, "{}:", kind.plural());
            for stream in self.streams.iter().filter(|s| s.kind == kind) {
                out.push_str(&self.render_stream(stream));
            }
        }
        out
    }

    /// One stream and the rules that decided it, for people.
    pub fn render_stream(&self, stream: &StreamTrace) -> String {
        let mut out = String::new();
        let mark = if stream.assigned { "+" } else { "-" };
        let state = if stream.assigned { "assigned" } else { "not assigned" };
        let _ = writeln!(out, "  {mark} {}: {state}", stream.stream);
        let line = |out: &mut String, verb: &str, rule: &str| {
            if let Some(trace) = self.rule(rule) {
                let _ = writeln!(out, "      {verb} {rule}: {}", trace.because.render_at("      "));
            }
        };
        // What removed the stream first (rules, requirements, the cap), then what assigned it.
        for rule in &stream.suppressed_by {
            let holdout = self.rule(rule).is_some_and(|r| r.holdout);
            line(&mut out, if holdout { "held out by" } else { "suppressed by" }, rule);
        }
        for name in &stream.blocked_by {
            // Requirements are listed by name, as checking sorts them.
            let found = self.requirements.binary_search_by(|r| r.requirement.as_str().cmp(name)).ok();
            if let Some(requirement) = found.and_then(|i| self.requirements.get(i)) {
                let _ =
                    writeln!(out, "      blocked by requirement {name}: {}", requirement.because.render_at("      "));
            }
        }
        if stream.capped {
            if let Some(cap) = self.caps.iter().find(|c| c.kind == stream.kind) {
                let _ = writeln!(
                    out,
                    "      removed by the cap `at most {} {} streams`: streams of higher priority filled it",
                    cap.most,
                    cap.kind.keyword()
                );
            }
        }
        for rule in &stream.assigned_by {
            let verb = if stream.assigned { "assigned by" } else { "would be assigned by" };
            line(&mut out, verb, rule);
        }
        for rule in &stream.not_assigned_by {
            line(&mut out, "not assigned by", rule);
        }
        for rule in &stream.withheld {
            line(&mut out, "named by", rule);
        }
        if stream.assigned_by.is_empty() && stream.not_assigned_by.is_empty() && stream.withheld.is_empty() {
            let _ = writeln!(out, "      no rule assigns it");
        }
        out
    }
}

impl Because {
    /// `` `scores.support between 40 and 60` is false (in `persuadable`); scores.support = 72.5 ``
    ///
    /// A false `or` takes a line per operand, below it:
    ///
    /// ```text
    /// `party == "ind" or age < 30` is false, as is each operand:
    ///   - `party == "ind"` is false; party = "rep"
    ///   - `age < 30` is false; age = 50
    /// ```
    pub fn render(&self) -> String {
        self.render_at("")
    }

    /// [`Because::render`] with the operand lines of a false `or` indented
    /// by `indent` more, to sit below a line that starts so.
    pub fn render_at(&self, indent: &str) -> String {
        let mut out = match (&self.withheld, self.outcome) {
            (Some(reason), _) => format!("`{}` is <withheld: {reason}>", self.condition),
            (None, outcome) => format!("`{}` is {}", self.condition, outcome.map_or("withheld", Outcome::word)),
        };
        if !self.within.is_empty() {
            let names: Vec<String> = self.within.iter().map(|n| format!("`{n}`")).collect();
            let _ = write!(out, " (in {})", names.join(" in "));
        }
        let reads: Vec<String> = self
            .reads
            .iter()
            .map(|r| match (&r.withheld, &r.value, r.field) {
                (Some(reason), _, _) => format!("{} = <withheld: {reason}>", r.name),
                (None, Some(value), _) => format!("{} = {value}", r.name),
                (None, None, true) => format!("{} is missing", r.name),
                (None, None, false) => format!("{} is unknown", r.name),
            })
            .collect();
        if !self.operands.is_empty() {
            // Each operand names the values it read.
            out.push_str(", as is each operand:");
            let inner = format!("{indent}    ");
            for operand in &self.operands {
                let _ = write!(out, "\n{indent}  - {}", operand.render_at(&inner));
            }
        } else if !reads.is_empty() {
            let _ = write!(out, "; {}", reads.join(", "));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::analysis::policy::Named;

    /// `never read` and `only read` cannot be broken by a rule set that
    /// builds, so the policies are put beside an unchecked one here: the
    /// explanation must be safe by construction all the same.
    fn explained(policy: Policy) -> Explanation {
        let rules = crate::RuleSet::builder()
            .source(
                "t.narval",
                r#"narval 1
                schema {
                  age: int
                  party: string tagged opinion
                  scans: list of { kind: string tagged biometric, year: int }
                  gifts: list of { amount: money, year: int }
                }
                solicitation streams visit, call, mail, ask
                recent = count(scans where year > 2010)
                scanned: recent > 0 -> visit
                leaning: party == "left" -> call
                adults: age >= 18 -> mail
                givers: sum(gifts.amount) > $10 -> ask
                irises: count(scans where kind == "iris") > 0 -> visit
                "#,
            )
            .build()
            .unwrap_or_else(|r| panic!("{}", r.render()));
        let profile = rules
            .decode_json(
                r#"{"age": 40, "party": "left", "scans": [{"kind": "iris", "year": 2011}],
                    "gifts": [{"amount": 20, "year": 2011}]}"#,
            )
            .unwrap();
        let program = rules.program();
        explain(rules.checked(), program, rules.report().sources(), &[policy], &profile)
    }

    fn named(path: &str) -> Named {
        Named { names: path.split('.').map(String::from).collect(), span: Span::default() }
    }

    fn policy(allow: Option<Vec<Named>>, never: Vec<Named>) -> Policy {
        Policy { name: "p".into(), description: None, span: Span::default(), allow, consents: Vec::new(), never }
    }

    fn stream_of<'e>(e: &'e Explanation, name: &str) -> &'e StreamTrace {
        e.streams.iter().find(|s| s.stream == name).unwrap()
    }

    fn render(e: &Explanation, rule: &str) -> String {
        e.rule(rule).unwrap().because.render()
    }

    #[test]
    fn a_never_read_category_is_withheld_through_a_list_element() {
        let e = explained(policy(None, vec![named("biometric")]));
        // `recent` filters on `scans.year`, whose record is not tagged; but
        // a field of the element is tagged, and the filter reads `scans.year`
        // only: the count reads nothing tagged, and is shown.
        assert_eq!(render(&e, "scanned"), "`recent > 0` is true; recent = 1");
        let withheld = "biometric is never read under policy p";
        assert_eq!(
            render(&e, "irises"),
            format!("`count(scans where kind == \"iris\") > 0` is <withheld: {withheld}>; count(scans where kind == \"iris\") = <withheld: {withheld}>")
        );
        assert_eq!(stream_of(&e, "visit").withheld, ["irises"]);
        assert_eq!(stream_of(&e, "visit").assigned_by, ["scanned"]);
        let e = explained(policy(None, vec![named("opinion")]));
        assert_eq!(e.rule("leaning").unwrap().outcome, None);
        assert_eq!(
            render(&e, "leaning"),
            "`party == \"left\"` is <withheld: opinion is never read under policy p>; \
             party = <withheld: opinion is never read under policy p>"
        );
        assert_eq!(render(&e, "adults"), "`age >= 18` is true; age = 40");
    }

    #[test]
    fn a_field_outside_the_allow_list_is_withheld() {
        let e = explained(policy(Some(vec![named("age"), named("gifts.amount")]), Vec::new()));
        assert_eq!(render(&e, "adults"), "`age >= 18` is true; age = 40");
        assert_eq!(render(&e, "givers"), "`sum(gifts.amount) > $10` is true; sum(gifts.amount) = $20");
        let withheld = "scans.year is outside the only read list of policy p";
        assert_eq!(
            render(&e, "scanned"),
            format!("`recent > 0` is <withheld: {withheld}>; recent = <withheld: {withheld}>")
        );
        assert_eq!(
            e.rule("leaning").unwrap().because.withheld.as_deref(),
            Some("party is outside the only read list of policy p")
        );
        // `scans.kind` alone is allowed: `recent` filters on `scans.year`.
        let e = explained(policy(Some(vec![named("scans.kind")]), Vec::new()));
        assert_eq!(e.rule("scanned").unwrap().outcome, None);
    }
}
