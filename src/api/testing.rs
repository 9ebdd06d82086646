//! `narval test`: the test cases written beside the rules, run through the
//! same evaluation as `assign`, with rule and condition coverage.
//!
//! A case passes when every expectation holds. A failing case carries, for
//! each stream it got wrong, the [`StreamTrace`] of the rules that decided
//! it. Coverage counts a rule as covered when it fired in some case (its
//! condition true, or unknown for a rule that suppresses), a requirement
//! when it blocked its streams in some case (its condition false or
//! unknown), and a condition (each operand of an `and` or `or` in a rule,
//! requirement or definition) as covered
//! when some case saw it true and some case saw it false. Operands are
//! evaluated for coverage even where `and`/`or` would not need them, and
//! conditions inside `where` are not counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::{self, Profile};
use crate::eval::compile::{self, for_each_operand, Node, NodeId, Program};
use crate::eval::explain::{self, Explanation, StreamTrace};
use crate::eval::interpret::{Outcome, Scratch};
use crate::ir::StreamKind;
use crate::ir::{self, ExpectationKind};
use crate::load::read::io_reason;
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::report::Report;
use crate::text::source::{Sources, Span};
use crate::value::Date;

/// A checked rule set with its test cases, ready to run them.
#[derive(Clone, Debug)]
pub struct Suite {
    pub(crate) checked: ir::CheckedRules,
    pub(crate) sources: Sources,
    /// The warnings found while checking.
    pub(crate) warnings: Vec<Diagnostic>,
    pub(crate) today: Option<Date>,
    /// The folders a case's profile file may lie in (see [`crate::Builder::import_root`]).
    pub(crate) roots: Vec<PathBuf>,
}

/// What running a suite found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TestReport {
    /// Every case, in file and source order.
    pub cases: Vec<CaseResult>,
    /// Rule and condition coverage over all cases.
    pub coverage: Coverage,
}

/// One case.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CaseResult {
    /// Its name.
    pub name: String,
    /// The file that holds it.
    pub file: String,
    /// The line of its name.
    pub line: usize,
    /// Where its name was written.
    #[serde(skip)]
    pub span: Span,
    /// How it ended.
    #[serde(flatten)]
    pub status: CaseStatus,
}

/// How a case ended.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum CaseStatus {
    /// Every expectation held.
    Passed,
    /// Some expectation did not hold.
    Failed {
        /// The solicitation streams assigned, in priority order.
        solicitations: Vec<String>,
        /// The issue streams assigned, in priority order.
        issues: Vec<String>,
        /// The expectations that did not hold.
        failures: Vec<Failure>,
    },
    /// The case could not run: its profile file cannot be read or decoded,
    /// or the rules read `today` and no date was given.
    Error {
        /// Why.
        message: String,
    },
}

/// An expectation that did not hold.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    /// The expectation as written: `no door_knock`.
    pub expected: String,
    /// Its line.
    pub line: usize,
    /// Where it was written.
    #[serde(skip)]
    pub span: Span,
    /// Each stream it got wrong, with the rules that decided it.
    pub streams: Vec<StreamTrace>,
    /// The traces of the rules named in `streams`, rendered for people.
    pub explanation: String,
}

/// Rule and condition coverage.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Coverage {
    /// Rules that fired in some case.
    pub rules_covered: usize,
    /// Every rule.
    pub rules_total: usize,
    /// Rules that never fired, with their place.
    pub rules_missed: Vec<Missed>,
    /// Conditions seen both true and false.
    pub conditions_covered: usize,
    /// Every condition.
    pub conditions_total: usize,
    /// Conditions not seen both ways, with what was missing.
    pub conditions_missed: Vec<Missed>,
}

/// A rule or condition not covered.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Missed {
    /// The file.
    pub file: String,
    /// The line.
    pub line: usize,
    /// The rule's name, or the condition as written.
    pub what: String,
    /// `never fired`, `never true`, `never false`, `never evaluated`.
    pub why: String,
}

impl TestReport {
    /// Number of cases that passed.
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.status == CaseStatus::Passed).count()
    }

    /// Number of cases whose expectations did not hold.
    pub fn failed(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.status, CaseStatus::Failed { .. })).count()
    }

    /// Number of cases that could not run.
    pub fn errors(&self) -> usize {
        self.cases.iter().filter(|c| matches!(c.status, CaseStatus::Error { .. })).count()
    }
}

impl Coverage {
    /// Percentage of rules covered; 100 when there are none.
    pub fn rule_percent(&self) -> f64 {
        percent(self.rules_covered, self.rules_total)
    }

    /// Percentage of conditions covered; 100 when there are none.
    pub fn condition_percent(&self) -> f64 {
        percent(self.conditions_covered, self.conditions_total)
    }
}

fn percent(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        100.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// What coverage has seen of one condition.
#[derive(Clone, Copy, Default)]
struct Seen {
    true_: bool,
    false_: bool,
}

impl Suite {
    /// The checked rule set.
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn checked(&self) -> &ir::CheckedRules {
        &self.checked
    }

    /// Number of cases.
    pub fn len(&self) -> usize {
        self.checked.tests.len()
    }

    /// Whether there are no cases.
    pub fn is_empty(&self) -> bool {
        self.checked.tests.is_empty()
    }

    /// The warnings found while checking, and each failing case as a
    /// diagnostic (E0301 at each expectation that did not hold, E0302 at a
    /// case that could not run), for the machine formats of `narval test`.
    pub fn report(&self, results: &TestReport) -> Report {
        let mut diagnostics = self.warnings.clone();
        for case in &results.cases {
            match &case.status {
                CaseStatus::Passed => {}
                CaseStatus::Error { message } => diagnostics.push(Diagnostic::new(
                    Code::TestCannotRun,
                    case.span,
                    format!("test `{}` cannot run: {message}", case.name),
                )),
                CaseStatus::Failed { failures, .. } => {
                    for failure in failures {
                        let wrong: Vec<String> = failure.streams.iter().map(describe).collect();
                        diagnostics.push(
                            Diagnostic::new(
                                Code::TestFailed,
                                failure.span,
                                format!("test `{}` failed: {}", case.name, wrong.join("; ")),
                            )
                            .with_label("expected here")
                            .with_help("`narval test` shows each rule's condition and the values it read"),
                        );
                    }
                }
            }
        }
        Report::new(self.sources.clone(), diagnostics)
    }

    /// Runs every case.
    pub fn run(&self) -> TestReport {
        crate::api::stack::on_deep_stack(|| self.run_here())
    }

    fn run_here(&self) -> TestReport {
        let mut programs: HashMap<Option<Date>, Program> = HashMap::new();
        let mut fired = vec![false; self.checked.rules.len()];
        let mut blocked = vec![false; self.checked.requirements.len()];
        let mut conditions: BTreeMap<Span, Seen> = BTreeMap::new();
        let mut cases = Vec::new();
        for test in &self.checked.tests {
            let (file, line) = self.place(test.span);
            let today = test.today.or(self.today);
            let status = if self.checked.uses_today && today.is_none() {
                CaseStatus::Error {
                    message: "the rules read `today` but no date was given: add `today YYYY-MM-DD` to the test \
                              or pass --today"
                        .into(),
                }
            } else {
                // Compiled as written: coverage counts every operand, also
                // the ones constant on this date.
                let program =
                    programs.entry(today).or_insert_with(|| compile::compile_as_written(&self.checked, today));
                match self.profile(test) {
                    Ok(profile) => {
                        let explanation = explain::explain(&self.checked, program, &self.sources, &[], &profile);
                        for (slot, (trace, rule)) in
                            fired.iter_mut().zip(explanation.rules.iter().zip(&self.checked.rules))
                        {
                            *slot |= trace.outcome == Some(Outcome::True)
                                || (trace.outcome == Some(Outcome::Unknown) && !rule.suppresses.is_empty());
                        }
                        for (slot, trace) in blocked.iter_mut().zip(&explanation.requirements) {
                            *slot |= trace.outcome != Some(Outcome::True);
                        }
                        observe_conditions(program, &profile, &mut conditions);
                        self.judge(test, &explanation)
                    }
                    Err(message) => CaseStatus::Error { message },
                }
            };
            cases.push(CaseResult { name: test.name.clone(), file, line, span: test.span, status });
        }
        // Conditions no case reached still count, as never evaluated.
        let program =
            programs.into_values().next().unwrap_or_else(|| compile::compile_as_written(&self.checked, self.today));
        for span in condition_spans(&program) {
            conditions.entry(span).or_default();
        }
        let coverage = self.coverage(&fired, &blocked, &conditions);
        TestReport { cases, coverage }
    }

    fn place(&self, span: Span) -> (String, usize) {
        self.sources.get(span.file).map(|f| (f.name.clone(), f.line_col(span.start).0)).unwrap_or_default()
    }

    fn text(&self, span: Span) -> String {
        self.sources
            .get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default()
    }

    /// The fields the rules read, as [`crate::RuleSet`] decodes them.
    fn reads(&self) -> decode::Reads {
        decode::Reads::of(&self.checked.schema, self.checked.profile_reads())
    }

    /// The case's profile, decoded as `assign` would decode it.
    fn profile(&self, test: &ir::Test) -> Result<Profile, String> {
        match &test.given {
            ir::Given::Profile(json) => {
                decode::decode_value(&self.checked.schema, &self.reads(), json).map_err(|e| e.to_string())
            }
            ir::Given::File { path, span } => {
                let base = self.sources.get(span.file).map(|f| PathBuf::from(&f.name)).unwrap_or_default();
                let full = base.parent().unwrap_or_else(|| Path::new("")).join(path);
                crate::load::inside_roots(&full, &self.roots).map_err(|root| {
                    format!(
                        "cannot read `{}`: outside the folder `{}` (see `--import-root`)",
                        full.display(),
                        crate::load::shown(&root).display()
                    )
                })?;
                let origin = crate::load::read::Origin::Referenced;
                let text = crate::load::read::read_text(&full, origin, crate::syntax::MAX_FILE_BYTES as u64)
                    .map_err(|e| format!("cannot read `{}`: {}", full.display(), io_reason(&e)))?;
                // As `narval assign` reads a file: a byte order mark is not
                // data; the rest is decoded as one of its lines is.
                let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
                decode::decode_str(&self.checked.schema, &self.reads(), text)
                    .map_err(|e| format!("`{}`: {e}", full.display()))
            }
        }
    }

    fn judge(&self, test: &ir::Test, explanation: &Explanation) -> CaseStatus {
        let assigned = |id: usize| explanation.streams.get(id).is_some_and(|s| s.assigned);
        let mut failures = Vec::new();
        for expectation in &test.expectations {
            let wrong: Vec<usize> = match &expectation.kind {
                ExpectationKind::Assigned(id) => [*id].into_iter().filter(|id| !assigned(*id)).collect(),
                ExpectationKind::NotAssigned(id) => [*id].into_iter().filter(|id| assigned(*id)).collect(),
                ExpectationKind::Exactly(kind, ids) => {
                    let ids: HashSet<usize> = ids.iter().copied().collect();
                    (0..self.checked.streams.len())
                        .filter(|id| self.checked.streams.get(*id).is_some_and(|s| s.kind == *kind))
                        .filter(|id| ids.contains(id) != assigned(*id))
                        .collect()
                }
            };
            if wrong.is_empty() {
                continue;
            }
            let streams: Vec<StreamTrace> =
                wrong.iter().filter_map(|id| explanation.streams.get(*id).cloned()).collect();
            let rendered = streams.iter().map(|s| explanation.render_stream(s)).collect();
            failures.push(Failure {
                expected: self.text(expectation.span),
                line: self.place(expectation.span).1,
                span: expectation.span,
                streams,
                explanation: rendered,
            });
        }
        if failures.is_empty() {
            return CaseStatus::Passed;
        }
        let of_kind = |kind: StreamKind| {
            explanation.assigned().filter(|s| s.kind == kind).map(|s| s.stream.clone()).collect::<Vec<_>>()
        };
        CaseStatus::Failed {
            solicitations: of_kind(StreamKind::Solicitation),
            issues: of_kind(StreamKind::Issue),
            failures,
        }
    }

    fn coverage(&self, fired: &[bool], blocked: &[bool], conditions: &BTreeMap<Span, Seen>) -> Coverage {
        let total = self.checked.rules.len() + self.checked.requirements.len();
        let mut coverage = Coverage { rules_total: total, ..Coverage::default() };
        for (rule, fired) in self.checked.rules.iter().zip(fired) {
            if *fired {
                coverage.rules_covered += 1;
            } else {
                let (file, line) = self.place(rule.span);
                coverage.rules_missed.push(Missed { file, line, what: rule.name.clone(), why: "never fired".into() });
            }
        }
        // A requirement counts like a rule: covered when some case saw it block its streams.
        for (requirement, blocked) in self.checked.requirements.iter().zip(blocked) {
            if *blocked {
                coverage.rules_covered += 1;
            } else {
                let (file, line) = self.place(requirement.span);
                let what = requirement.name.clone();
                coverage.rules_missed.push(Missed { file, line, what, why: "never blocked a stream".into() });
            }
        }
        coverage.conditions_total = conditions.len();
        for (span, seen) in conditions {
            let why = match (seen.true_, seen.false_) {
                (true, true) => {
                    coverage.conditions_covered += 1;
                    continue;
                }
                (true, false) => "never false",
                (false, true) => "never true",
                (false, false) => "never true or false",
            };
            let (file, line) = self.place(*span);
            coverage.conditions_missed.push(Missed { file, line, what: self.text(*span), why: why.into() });
        }
        coverage.rules_missed.sort();
        coverage.conditions_missed.sort();
        coverage
    }
}

/// `door_knock is not assigned (suppressed by already_volunteer)`.
fn describe(stream: &StreamTrace) -> String {
    let rules = |names: &[String]| names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if stream.assigned {
        format!("`{}` is assigned (by {})", stream.stream, rules(&stream.assigned_by))
    } else if !stream.suppressed_by.is_empty() {
        format!("`{}` is not assigned (suppressed by {})", stream.stream, rules(&stream.suppressed_by))
    } else if !stream.blocked_by.is_empty() {
        format!("`{}` is not assigned (blocked by requirement {})", stream.stream, rules(&stream.blocked_by))
    } else if stream.capped {
        format!("`{}` is not assigned (removed by the cap of {} streams)", stream.stream, stream.kind.keyword())
    } else if stream.not_assigned_by.is_empty() {
        format!("`{}` is not assigned (no rule assigns it)", stream.stream)
    } else {
        format!("`{}` is not assigned ({} did not fire)", stream.stream, rules(&stream.not_assigned_by))
    }
}

/// The operands of every `and` and `or` of the rules and definitions, by span.
fn condition_spans(program: &Program) -> Vec<Span> {
    let mut spans = Vec::new();
    let roots = program
        .rules
        .iter()
        .map(|r| r.condition)
        .chain(program.requirements.iter().map(|r| r.condition))
        .chain(program.definitions.iter().copied());
    for root in roots {
        walk_conditions(program, root, &mut |operand| {
            if let Some(span) = program.spans.get(operand as usize) {
                spans.push(*span);
            }
        });
    }
    spans
}

/// Evaluates every operand of every `and`/`or` on the profile and records
/// how it came out.
fn observe_conditions(program: &Program, profile: &Profile, seen: &mut BTreeMap<Span, Seen>) {
    let mut scratch = Scratch::new(program);
    let roots: Vec<NodeId> = program
        .rules
        .iter()
        .map(|r| r.condition)
        .chain(program.requirements.iter().map(|r| r.condition))
        .chain(program.definitions.iter().copied())
        .collect();
    for root in roots {
        let mut operands = Vec::new();
        walk_conditions(program, root, &mut |operand| operands.push(operand));
        for operand in operands {
            let Some(span) = program.spans.get(operand as usize) else { continue };
            let entry = seen.entry(*span).or_default();
            match program.outcome(operand, &mut scratch, profile) {
                Outcome::True => entry.true_ = true,
                Outcome::False => entry.false_ = true,
                Outcome::Unknown => {}
            }
        }
    }
}

/// Calls `f` with each operand of each `and`/`or` under `node`, not going
/// into definitions (walked from their own roots) or `where` filters. A
/// chain is its operands: `a and b and c` is `a`, `b` and `c`, not also
/// `a and b`.
fn walk_conditions(program: &Program, node: NodeId, f: &mut impl FnMut(NodeId)) {
    let mut stack = vec![node];
    while let Some(id) = stack.pop() {
        let Some(n) = program.nodes.get(id as usize) else { continue };
        match n {
            Node::And(a, b) | Node::Or(a, b) => {
                let is_and = matches!(n, Node::And(..));
                for operand in [*a, *b] {
                    let same_chain = match program.nodes.get(operand as usize) {
                        Some(Node::And(..)) => is_and,
                        Some(Node::Or(..)) => !is_and,
                        _ => false,
                    };
                    if !same_chain {
                        f(operand);
                    }
                }
                stack.push(*a);
                stack.push(*b);
            }
            Node::Def(_) | Node::Aggregate(_) => {}
            other => for_each_operand(other, |operand| stack.push(operand)),
        }
    }
}
