//! Why a profile gets its streams: for every stream, the rules that assign
//! or suppress it, and for every rule, the condition that decided it with
//! the values it read.
//!
//! The trace watches the one evaluation [`Program::run`] makes for
//! `assign`, so an explanation cannot disagree with an assignment. Unlike
//! diagnostics, it shows the profile's values: that is what it is asked for.

use std::fmt::Write as _;

use serde::Serialize;

use crate::ast::StreamKind;
use crate::compile::{for_each_operand, Node, NodeId, Program};
use crate::decode::Profile;
use crate::eval::{Cx, Outcome, StreamSet, Val};
use crate::ir::{self, Base, Type};
use crate::source::{Sources, Span};
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
    pub outcome: Outcome,
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
}

/// One rule: how its condition came out, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RuleTrace {
    /// The rule.
    pub rule: String,
    /// Whether the rule is a holdout (`holdout NAME: 5% -> ...`).
    pub holdout: bool,
    /// `true`, `false` or `unknown`.
    pub outcome: Outcome,
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
/// are followed into.
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
    /// How it came out.
    pub outcome: Outcome,
    /// The values it read.
    pub reads: Vec<Read>,
}

/// A value a condition read.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Read {
    /// The field path, definition or aggregate as written.
    pub name: String,
    /// The value as narval writes it; `None` when missing or unknown.
    pub value: Option<String>,
    /// Whether `name` is a profile field (then `None` means missing).
    pub field: bool,
}

/// Explains one decoded profile.
pub(crate) fn explain(checked: &ir::RuleSet, program: &Program, sources: &Sources, profile: &Profile) -> Explanation {
    let mut cx = Cx::new(program);
    let mut outcomes = vec![Outcome::False; program.rules.len()];
    let assigned = program.run(profile, &mut cx, |rule, outcome| {
        if let Some(slot) = outcomes.get_mut(rule) {
            *slot = outcome;
        }
    });
    let tracer = Tracer { checked, program, sources, profile };
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
            Some(holdout) => tracer.holdout(holdout, code.condition, *outcome, &mut cx),
            None => tracer.because(code.condition, *outcome, &mut cx),
        };
        rules.push(RuleTrace {
            rule: rule.name.clone(),
            holdout: holdout.is_some(),
            outcome: *outcome,
            assigns: rule.assigns.iter().map(stream_name).collect(),
            suppresses: rule.suppresses.iter().map(stream_name).collect(),
            because,
        });
    }
    // The engine skips a requirement none of whose streams is left; here
    // every one is evaluated, on the same profile, to the same outcome.
    let mut requirements = Vec::new();
    for (requirement, code) in checked.requirements.iter().zip(&program.requirements) {
        let outcome = program.outcome(code.condition, &mut cx, profile);
        requirements.push(RequirementTrace {
            requirement: requirement.name.clone(),
            outcome,
            streams: requirement.streams.iter().map(stream_name).collect(),
            because: tracer.because(code.condition, outcome, &mut cx),
        });
    }
    let mut streams = streams(checked, &outcomes, &assigned);
    let caps = caps(checked, &requirements, &mut streams);
    Explanation { streams, rules, requirements, caps }
}

/// Files each unmet requirement under its streams, and finds the streams
/// a cap removed: those the rules assigned and no rule or requirement
/// suppressed, but that the profile does not receive.
fn caps(checked: &ir::RuleSet, requirements: &[RequirementTrace], streams: &mut [StreamTrace]) -> Vec<CapTrace> {
    for (requirement, trace) in checked.requirements.iter().zip(requirements) {
        if trace.outcome == Outcome::True {
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

fn streams(checked: &ir::RuleSet, outcomes: &[Outcome], assigned: &StreamSet) -> Vec<StreamTrace> {
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
        })
        .collect();
    // Rule by rule, each filed under the streams it names: not every rule
    // looked at for every stream.
    for (rule, outcome) in checked.rules.iter().zip(outcomes) {
        for id in &rule.assigns {
            let Some(trace) = traces.get_mut(*id) else { continue };
            match outcome {
                Outcome::True => trace.assigned_by.push(rule.name.clone()),
                _ => trace.not_assigned_by.push(rule.name.clone()),
            }
        }
        if *outcome != Outcome::False {
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
    checked: &'a ir::RuleSet,
    program: &'a Program,
    sources: &'a Sources,
    profile: &'a Profile,
}

impl<'a> Tracer<'a> {
    fn because(&self, condition: NodeId, outcome: Outcome, cx: &mut Cx<'a>) -> Because {
        let mut within = Vec::new();
        let node = self.decider(condition, outcome, cx, &mut within, 0);
        let span = self.program.spans.get(node as usize).copied();
        let (file, line) = span
            .and_then(|s| self.sources.get(s.file).map(|f| (f.name.clone(), f.line_col(s.start).0)))
            .unwrap_or_default();
        let mut reads = Vec::new();
        self.reads(node, cx, &mut reads, 0);
        let condition = self.text(span);
        // `any(...)` read by the condition `any(...)` says nothing new.
        reads.retain(|r| r.name != condition);
        Because { condition, file, line, within, outcome, reads }
    }

    /// A holdout's condition as it reads in the guide, `bucket(id, "NAME")
    /// < 5`, with the profile's bucket.
    fn holdout(&self, holdout: &ir::Holdout, condition: NodeId, outcome: Outcome, cx: &mut Cx<'a>) -> Because {
        let (file, line) = self
            .sources
            .get(holdout.span.file)
            .map(|f| (f.name.clone(), f.line_col(holdout.span.start).0))
            .unwrap_or_default();
        let bucket = format!("bucket(id, {:?})", holdout.name);
        let value = match self.program.nodes.get(condition as usize) {
            Some(Node::Compare(_, left, _)) => {
                show(self.program.eval(*left, cx, self.profile), &Type::Number, &self.checked.schema, self.profile)
            }
            _ => None,
        };
        let share = format!("{}", f64::from(holdout.share) / 100.0);
        Because {
            condition: format!("{bucket} < {share}"),
            file,
            line,
            within: Vec::new(),
            outcome,
            reads: vec![Read { name: bucket, value, field: false }],
        }
    }

    /// The node that decided `node`'s outcome (see [`Because`]).
    fn decider(
        &self,
        node: NodeId,
        outcome: Outcome,
        cx: &mut Cx<'a>,
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
                let whole = if is_and { Outcome::True } else { Outcome::False };
                if outcome == whole {
                    return node;
                }
                for operand in [*a, *b] {
                    if self.outcome(operand, cx) == outcome {
                        return self.decider(operand, outcome, cx, within, depth + 1);
                    }
                }
                node
            }
            Some(Node::Def(index)) => {
                let Some(&root) = self.program.definitions.get(*index as usize) else { return node };
                let name = self.checked.definitions.get(*index as usize).map(|d| d.name.clone()).unwrap_or_default();
                within.push(name);
                self.decider(root, outcome, cx, within, depth + 1)
            }
            _ => node,
        }
    }

    fn outcome(&self, node: NodeId, cx: &mut Cx<'a>) -> Outcome {
        self.program.outcome(node, cx, self.profile)
    }

    /// The profile fields, definitions and aggregates a condition reads.
    fn reads(&self, node: NodeId, cx: &mut Cx<'a>, out: &mut Vec<Read>, depth: usize) {
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
                let value = self.program.eval(node, cx, self.profile);
                let ty = self.program.types.get(node as usize).cloned().unwrap_or(Type::Bool);
                out.push(Read { name, value: show(value, &ty, &self.checked.schema, self.profile), field });
            }
            None if depth < 512 => for_each_operand(n, |operand| self.reads(operand, cx, out, depth + 1)),
            None => {}
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
                let _ = writeln!(out, "      {verb} {rule}: {}", trace.because.render());
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
                let _ = writeln!(out, "      blocked by requirement {name}: {}", requirement.because.render());
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
        if stream.assigned_by.is_empty() && stream.not_assigned_by.is_empty() {
            let _ = writeln!(out, "      no rule assigns it");
        }
        out
    }
}

impl Because {
    /// `` `scores.support between 40 and 60` is false (in `persuadable`): scores.support = 72.5 ``
    pub fn render(&self) -> String {
        let mut out = format!("`{}` is {}", self.condition, self.outcome.word());
        if !self.within.is_empty() {
            let names: Vec<String> = self.within.iter().map(|n| format!("`{n}`")).collect();
            let _ = write!(out, " (in {})", names.join(" in "));
        }
        let reads: Vec<String> = self
            .reads
            .iter()
            .map(|r| match (&r.value, r.field) {
                (Some(value), _) => format!("{} = {value}", r.name),
                (None, true) => format!("{} is missing", r.name),
                (None, false) => format!("{} is unknown", r.name),
            })
            .collect();
        if !reads.is_empty() {
            let _ = write!(out, "; {}", reads.join(", "));
        }
        out
    }
}
