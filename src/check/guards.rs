//! Guardrails: stream requirements, holdouts and caps by kind.
//!
//! A requirement is checked like a rule's condition. A holdout becomes the
//! suppression rule it stands for, `bucket(id, "NAME") < SHARE -> no ...`,
//! so that every later stage (and any reader of the rules) sees it as a
//! rule. Requirement, holdout and rule names are one namespace.

use std::collections::HashSet;

use super::checker::{unknown_stream, Checker};
use crate::ir::StreamKind;
use crate::ir::{self, Base, CmpOp, Const, Expr, ExprKind, Type};
use crate::syntax::ast::{self, Action, Item, Required};
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::Span;

/// What the guardrail items of a rule set check to.
pub(super) struct Guards {
    /// Sorted by name.
    pub requirements: Vec<ir::Requirement>,
    /// Sorted by name.
    pub holdouts: Vec<ir::Holdout>,
    /// Solicitations first.
    pub caps: Vec<ir::Cap>,
}

/// Checks every requirement, holdout and cap; a holdout's rule is pushed
/// onto `rules`.
pub(super) fn check(
    checker: &mut Checker<'_>,
    items: &[&Item],
    streams: &[ir::Stream],
    rules: &mut Vec<ir::Rule>,
) -> Guards {
    let mut names: HashSet<String> = HashSet::new();
    let mut unique = |checker: &mut Checker<'_>, name: &ast::Name, what: &str| {
        let taken = if checker.rule_names.contains(&name.node) {
            Some("a rule")
        } else if !names.insert(name.node.clone()) {
            Some("another requirement or holdout")
        } else {
            None
        };
        if let Some(other) = taken {
            checker.error(
                Diagnostic::new(
                    Code::DuplicateGuard,
                    name.span,
                    format!("{what} `{}` has the name of {other}", name.node),
                )
                .with_label("named again here")
                .with_help("rules, requirements and holdouts share one set of names; rename one"),
            );
            return false;
        }
        true
    };
    let mut requirements = Vec::new();
    let mut holdouts = Vec::new();
    let mut caps: Vec<ir::Cap> = Vec::new();
    for item in items {
        match item {
            Item::Require(requirement) => {
                if !unique(checker, &requirement.name, "requirement") {
                    continue;
                }
                if let Some(checked) = check_requirement(checker, requirement, streams) {
                    requirements.push(checked);
                }
            }
            Item::Holdout(holdout) => {
                if !unique(checker, &holdout.name, "holdout") {
                    continue;
                }
                if let Some((checked, rule)) = check_holdout(checker, holdout, streams) {
                    holdouts.push(checked);
                    rules.push(rule);
                }
            }
            Item::Cap(cap) => {
                if caps.iter().any(|c| c.kind == StreamKind::from(cap.kind)) {
                    checker.error(
                        Diagnostic::new(
                            Code::DuplicateCap,
                            cap.most.span,
                            format!("{} streams are capped twice", cap.kind.keyword()),
                        )
                        .with_label("capped again here")
                        .with_help("keep one `at most N ... streams` for each kind"),
                    );
                    continue;
                }
                let most = usize::try_from(cap.most.node).unwrap_or(usize::MAX);
                let declared = streams.iter().filter(|s| s.kind == StreamKind::from(cap.kind)).count();
                if most >= declared {
                    checker.error(
                        Diagnostic::new(
                            Code::CapNeverBinds,
                            cap.most.span,
                            format!(
                                "the cap of {most} {} streams never removes one: {declared} are declared",
                                cap.kind.keyword()
                            ),
                        )
                        .with_help("lower the cap, or remove it"),
                    );
                }
                caps.push(ir::Cap { kind: StreamKind::from(cap.kind), most, span: cap.most.span });
            }
            _ => {}
        }
    }
    requirements.sort_by(|a: &ir::Requirement, b| a.name.cmp(&b.name));
    holdouts.sort_by(|a: &ir::Holdout, b| a.name.cmp(&b.name));
    caps.sort_by_key(|c| c.kind);
    Guards { requirements, holdouts, caps }
}

fn check_requirement(
    checker: &mut Checker<'_>,
    requirement: &ast::Requirement,
    streams: &[ir::Stream],
) -> Option<ir::Requirement> {
    let owner = format!("requirement `{}`", requirement.name.node);
    let condition = super::expr::check_condition(checker, &requirement.condition, &owner, "total < cap");
    let mut ids = Vec::new();
    for target in &requirement.streams {
        match &target.node {
            Required::Kind(kind) => ids.extend(of_kind(streams, StreamKind::from(*kind))),
            Required::Stream(name) => match checker.stream_ids.get(name) {
                Some(id) => ids.push(*id),
                None => {
                    let diagnostic = unknown_stream(checker, name, target.span, streams);
                    checker.error(diagnostic);
                }
            },
        }
    }
    ids.sort_unstable();
    ids.dedup();
    let condition = condition.filter(|c| c.ty == Type::Bool)?;
    Some(ir::Requirement {
        name: requirement.name.node.clone(),
        description: requirement.description.clone(),
        condition,
        streams: ids,
        span: requirement.name.span,
    })
}

fn of_kind(streams: &[ir::Stream], kind: StreamKind) -> impl Iterator<Item = usize> + '_ {
    streams.iter().enumerate().filter(move |(_, s)| s.kind == kind).map(|(i, _)| i)
}

/// A holdout and the rule it stands for: `bucket(id, "NAME") < SHARE -> ACTIONS`.
fn check_holdout(
    checker: &mut Checker<'_>,
    holdout: &ast::Holdout,
    streams: &[ir::Stream],
) -> Option<(ir::Holdout, ir::Rule)> {
    let name = &holdout.name;
    let share = match holdout.share.node {
        Some(share) if (1..=10_000).contains(&share) => Some(share),
        other => {
            let why = match other {
                Some(0) => "holds out no one",
                Some(_) => "more than every profile",
                None => "finer than a bucket: buckets have two decimals",
            };
            checker.error(
                Diagnostic::new(Code::HoldoutShare, holdout.share.span, "invalid holdout share")
                    .with_label(why)
                    .with_help("a share lies between 0.01% and 100%, such as `5%`, `0.5%` or `12.25%`"),
            );
            None
        }
    };
    let id = profile_id(checker, holdout.name.span);
    let mut suppresses = Vec::new();
    let mut suppressed_kinds = Vec::new();
    for action in &holdout.actions {
        match &action.node {
            Action::SuppressAll(kind) => {
                suppresses.extend(of_kind(streams, StreamKind::from(*kind)));
                if !suppressed_kinds.contains(kind) {
                    suppressed_kinds.push(*kind);
                }
            }
            // The grammar allows only suppressions after a holdout's arrow.
            Action::Suppress(stream) | Action::Assign(stream) => match checker.stream_ids.get(stream) {
                Some(id) => suppresses.push(*id),
                None => {
                    let diagnostic = unknown_stream(checker, stream, action.span, streams);
                    checker.error(diagnostic);
                }
            },
        }
    }
    suppresses.sort_unstable();
    suppresses.dedup();
    let (share, (slot, ty, nullable)) = (share?, id?);
    let span = holdout.share.span;
    let field = Expr { kind: ExprKind::Field { base: Base::Profile, path: vec![slot] }, ty, nullable, span };
    let bucket = Expr {
        kind: ExprKind::Bucket { value: Box::new(field), salt: name.node.clone() },
        ty: Type::Number,
        nullable,
        span,
    };
    let bound = Expr {
        kind: ExprKind::Const(Const::Number(f64::from(share) / 100.0)),
        ty: Type::Number,
        nullable: false,
        span,
    };
    let condition =
        Expr { kind: ExprKind::Compare(CmpOp::Lt, Box::new(bucket), Box::new(bound)), ty: Type::Bool, nullable, span };
    let rule = ir::Rule {
        name: name.node.clone(),
        description: holdout.description.clone(),
        condition,
        assigns: Vec::new(),
        suppresses,
        suppressed_kinds: suppressed_kinds.into_iter().map(StreamKind::from).collect(),
        span: name.span,
    };
    let checked =
        ir::Holdout { name: name.node.clone(), description: holdout.description.clone(), share, span: name.span };
    Some((checked, rule))
}

/// The slot of the profile's `id`, its type and whether it is optional; an
/// error when the schema has no `id` of type `int` or `string`.
fn profile_id(checker: &mut Checker<'_>, at: Span) -> Option<(usize, Type, bool)> {
    let found = checker.schema.root().and_then(|r| r.field("id")).map(|(slot, f)| (slot, f.ty.clone(), f.optional));
    match found {
        Some((slot, ty @ (Type::Int | Type::String), optional)) => Some((slot, ty, optional)),
        other => {
            let why = match other {
                Some((_, ty, _)) => format!("the schema's `id` is {}", checker.schema.describe(&ty)),
                None => "the schema has no `id` field".to_string(),
            };
            checker.error(
                Diagnostic::new(Code::NoProfileId, at, "a holdout needs the profile's identity")
                    .with_label(why)
                    .with_help("declare the identity in the schema as `id: int` or `id: string`"),
            );
            None
        }
    }
}
