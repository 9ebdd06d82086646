//! The state the checker carries through a rule set, and the diagnostics
//! several of its files make. The other files of the stage import this one;
//! it imports none of them.

use std::collections::{HashMap, HashSet};

use crate::ir::{self, DefId, Schema, Type};
use crate::syntax::ast;
use crate::text::diagnostic::{Code, Diagnostic, Suggester};
use crate::text::source::Span;

/// How deep definitions may be built on definitions; checking and evaluating
/// recurse through the chain.
pub const MAX_DEFINITION_DEPTH: usize = 32;

/// Most items that definitions naming list literals may stand for, counting
/// each use (`state in swing` with a `swing` of 10 items counts 10).
pub const MAX_INLINED_ITEMS: usize = 1_000_000;

pub(super) enum DefState {
    Pending,
    Checking,
    Done(Option<(DefId, Type, bool)>),
}

/// Checking state shared by the expression checker.
pub(super) struct Checker<'a> {
    pub(super) schema: &'a Schema,
    pub(super) diagnostics: Vec<Diagnostic>,
    pub(super) uses_today: Option<Span>,
    /// Decimal literals exact in cents, by span, so they can stand for money.
    pub(super) cents_literals: HashMap<Span, i64>,
    /// Stream ids by name.
    pub(super) stream_ids: HashMap<String, usize>,
    /// "did you mean" within a budget of work.
    pub(super) suggester: Suggester,
    /// Items of list definitions copied to their uses so far.
    pub(super) inlined_items: usize,
    /// Each enum's members by name, made when a string is first compared with it.
    pub(super) enum_members: HashMap<ir::EnumId, HashMap<String, usize>>,
    pub(super) rule_names: HashSet<String>,
    pub(super) definition_names: Vec<String>,
    pub(super) definition_asts: HashMap<String, (usize, &'a ast::Definition)>,
    pub(super) definition_states: Vec<DefState>,
    pub(super) definitions: Vec<ir::Definition>,
    pub(super) definition_stack: Vec<String>,
    /// Definitions named somewhere, for W0001.
    pub(super) referenced: HashSet<String>,
}

impl<'a> Checker<'a> {
    pub(super) fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }
}

pub(super) fn duplicate(code: Code, what: &str, name: &ast::Name) -> Diagnostic {
    Diagnostic::new(code, name.span, format!("{what} `{}` is declared twice", name.node))
        .with_label("declared again here")
        .with_help(format!("names are shared by every file of a rule set; rename one {what}"))
}

pub(super) fn unknown_stream(checker: &mut Checker<'_>, name: &str, span: Span, streams: &[ir::Stream]) -> Diagnostic {
    let is_field = checker.schema.root().is_some_and(|r| r.field(name).is_some());
    if is_field || checker.definition_asts.contains_key(name) {
        let what = if is_field { "a field" } else { "a definition" };
        return Diagnostic::new(Code::WrongKindOfName, span, format!("`{name}` is {what}, not a stream"))
            .with_help("after `->` come streams: `door_knock`, `no flyer`, `no solicitations`");
    }
    Diagnostic::new(Code::UnknownStream, span, format!("unknown stream `{name}`"))
        .with_label("not declared")
        .with_help_opt(
            checker
                .suggester
                .did_you_mean(name, streams.iter().map(|s| s.name.as_str()))
                .or_else(|| Some(format!("declare it, such as `solicitation streams {name}`"))),
        )
}
