//! Data-protection policies: what a rule set may read.
//!
//! A policy file holds named policies (language guide, section 17):
//!
//! ```narval
//! narval 1
//! policy gdpr "special categories need explicit consent" {
//!   read health only if consent.health
//!   never read biometric
//! }
//! policy france_2012 {
//!   only read polling_place, engagement
//! }
//! ```
//!
//! [`lower`] turns the parsed files into [`Policy`] values; [`check`] checks
//! a checked rule set against them, with the reads [`crate::analysis::lineage`] finds:
//! a rule, a definition it uses, or a stream requirement reads every field
//! its expression reads, and the categories of those fields.

use std::collections::HashSet;

use crate::analysis::lineage::{self, FieldRead, ReadAnalysis};
use crate::ir::{self, Base, CheckedRules, Const, Expr, ExprKind, Type};
use crate::syntax::ast::{self, Item};
use crate::text::diagnostic::{Code, Diagnostic, Suggester};
use crate::text::source::{FileId, Span};

/// A policy, as declared.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Its name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
    /// Where its name was written.
    pub span: Span,
    /// `only read ...`: the fields the rule set may read (a record allows
    /// its subfields); `None` when the policy has no such clause.
    pub allow: Option<Vec<Named>>,
    /// `read C only if G`: each category with its consent field.
    pub consents: Vec<Consent>,
    /// `never read C`: categories never read.
    pub never: Vec<Named>,
}

/// A name or a dotted path, where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    /// The names: one for a category, several for a field path.
    pub names: Vec<String>,
    /// Where it was written.
    pub span: Span,
}

impl Named {
    /// `consent.health`.
    pub fn dotted(&self) -> String {
        self.names.join(".")
    }
}

/// `read C only if G` for one category.
#[derive(Clone, Debug, PartialEq)]
pub struct Consent {
    /// The category.
    pub category: Named,
    /// The consent field.
    pub field: Named,
}

/// Whether a diagnostic code is one of the policy codes, E0401–E0420 and
/// W0010–W0014: a rule set with only these errors can still be audited.
pub fn is_policy_code(code: Code) -> bool {
    let text = code.as_str();
    text.starts_with("E04") || matches!(text, "W0010" | "W0011" | "W0012" | "W0013" | "W0014")
}

fn named(path: &[ast::Name]) -> Named {
    let span = match (path.first(), path.last()) {
        (Some(first), Some(last)) => first.span.to(last.span),
        _ => Span::default(),
    };
    Named { names: path.iter().map(|n| n.node.clone()).collect(), span }
}

fn category(name: &ast::Name) -> Named {
    Named { names: vec![name.node.clone()], span: name.span }
}

/// Where an item starts, to point at it.
pub(crate) fn item_span(item: &Item, file: FileId) -> Span {
    let span = match item {
        Item::Import(path) | Item::PolicyUse(path) => Some(path.span),
        Item::Schema(fields) => fields.first().map(|f| f.name.span),
        Item::Streams(decls) => decls.streams.first().map(|s| s.name.span),
        Item::Definition(def) => Some(def.name.span),
        Item::Rule(rule) => Some(rule.name.span),
        Item::Profile(profile) => Some(profile.name.span),
        Item::Test(test) => Some(test.name.span),
        Item::Policy(policy) => Some(policy.name.span),
        Item::Require(requirement) => Some(requirement.name.span),
        Item::Holdout(holdout) => Some(holdout.name.span),
        Item::Cap(cap) => Some(cap.most.span),
    };
    span.unwrap_or(Span::new(file, 0, 0))
}

/// The policies of the policy files, in file and source order. Anything
/// else in a policy file is an error (E0404), and so is a name declared
/// twice (E0405).
pub fn lower(files: &[(FileId, &ast::File)], diagnostics: &mut Vec<Diagnostic>) -> Vec<Policy> {
    let mut policies: Vec<Policy> = Vec::new();
    for (file, tree) in files {
        for item in &tree.items {
            let Item::Policy(policy) = item else {
                diagnostics.push(
                    Diagnostic::new(Code::NotAPolicyFile, item_span(item, *file), "a policy file holds only policies")
                        .with_label("this is not a policy declaration")
                        .with_help("keep rules, schemas and imports in rule files: policy files are kept apart, for a data-protection officer to own"),
                );
                continue;
            };
            if let Some(first) = policies.iter().find(|p| p.name == policy.name.node) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::DuplicatePolicy,
                        policy.name.span,
                        format!("policy `{}` is declared twice", policy.name.node),
                    )
                    .with_label("declared again here")
                    .with_note(first.span, "first declared here")
                    .with_help("every policy in effect needs its own name; rename one"),
                );
                continue;
            }
            let mut lowered = Policy {
                name: policy.name.node.clone(),
                description: policy.description.clone(),
                span: policy.name.span,
                allow: None,
                consents: Vec::new(),
                never: Vec::new(),
            };
            for clause in &policy.clauses {
                match &clause.node {
                    ast::PolicyClause::OnlyRead(paths) => {
                        lowered.allow.get_or_insert_with(Vec::new).extend(paths.iter().map(|p| named(p)));
                    }
                    ast::PolicyClause::ReadOnlyIf { categories, consent } => {
                        let field = named(consent);
                        lowered
                            .consents
                            .extend(categories.iter().map(|c| Consent { category: category(c), field: field.clone() }));
                    }
                    ast::PolicyClause::NeverRead(categories) => lowered.never.extend(categories.iter().map(category)),
                }
            }
            warn_contradictions(&lowered, diagnostics);
            policies.push(lowered);
        }
    }
    policies
}

/// W0011: a category both under a consent and never to be read. `never`
/// wins; the consent clause is dead text a reader could trust.
fn warn_contradictions(policy: &Policy, diagnostics: &mut Vec<Diagnostic>) {
    for consent in &policy.consents {
        let Some(never) = policy.never.iter().find(|n| n.names == consent.category.names) else { continue };
        let name = consent.category.names.join(".");
        diagnostics.push(
            Diagnostic::new(
                Code::PolicyContradiction,
                consent.category.span,
                format!(
                    "policy `{}` lets rules read `{name}` under a consent, but also never lets them read it",
                    policy.name
                ),
            )
            .with_label("read under a consent here")
            .with_note(never.span, "never read here")
            .with_help(format!("`never read {name}` wins: remove one of the two clauses")),
        );
    }
}

/// Checks a rule set against the policies in effect: first the policies
/// against the schema, then every read of every rule (with the definitions
/// it uses) and stream requirement. Diagnostics are appended.
pub fn check(rules: &CheckedRules, policies: &[Policy], diagnostics: &mut Vec<Diagnostic>) {
    if policies.is_empty() {
        return;
    }
    check_against_schema(rules, policies, diagnostics);
    let mut analysis = ReadAnalysis::new(rules);
    for rule in &rules.rules {
        let found = analysis.expr(&rule.condition);
        let reader = Reader::Rule(rule);
        for policy in policies {
            check_reads(rules, policy, &reader, &found, diagnostics);
        }
    }
    for requirement in &rules.requirements {
        let found = analysis.expr(&requirement.condition);
        let reader = Reader::Requirement(requirement);
        for policy in policies {
            check_reads(rules, policy, &reader, &found, diagnostics);
        }
    }
}

/// Allow-list paths the schema has, consent fields that are `bool` fields,
/// and categories that look like typos.
fn check_against_schema(rules: &CheckedRules, policies: &[Policy], diagnostics: &mut Vec<Diagnostic>) {
    let schema = &rules.schema;
    let categories = lineage::schema_categories(schema);
    let mut suggester = Suggester::default();
    let mut paths = Vec::new();
    crate::check::field_paths(schema, &mut paths);
    for policy in policies {
        for allowed in policy.allow.iter().flatten() {
            if lineage::lookup(schema, &allowed.names).is_none() {
                let path = allowed.dotted();
                diagnostics.push(
                    Diagnostic::new(
                        Code::PolicyUnknownField,
                        allowed.span,
                        format!("policy `{}` allows `{path}`, which the schema does not have", policy.name),
                    )
                    .with_label("not a field of the schema")
                    .with_help_opt(suggester.did_you_mean(&path, paths.iter().map(String::as_str))),
                );
            }
        }
        for consent in &policy.consents {
            let category = consent.category.dotted();
            if !categories.contains(&category) {
                continue;
            }
            let field = consent.field.dotted();
            match lineage::lookup(schema, &consent.field.names) {
                Some((slots, Type::Bool)) if profile_path(schema, &slots) => {}
                found => {
                    let what = match found {
                        None => String::from("which the schema does not have"),
                        Some((_, Type::Bool)) => String::from("which is inside a list, not one per profile"),
                        Some((_, ty)) => format!("which is `{}`, not `bool`", schema.describe(&ty)),
                    };
                    diagnostics.push(
                        Diagnostic::new(
                            Code::PolicyBadConsent,
                            consent.field.span,
                            format!(
                                "policy `{}` reads `{category}` fields only with the consent `{field}`, {what}",
                                policy.name
                            ),
                        )
                        .with_label("not a bool field of the profile")
                        .with_help(format!(
                            "the schema has `{category}` fields: declare the consent as a bool field `{field}`"
                        )),
                    );
                }
            }
        }
        let named = policy.consents.iter().map(|c| &c.category).chain(&policy.never);
        for category in named {
            let name = category.dotted();
            if categories.contains(&name) {
                continue;
            }
            if let Some(help) = suggester.did_you_mean(&name, categories.iter().map(String::as_str)) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::PolicyUnknownCategory,
                        category.span,
                        format!("no field of the schema is tagged `{name}`"),
                    )
                    .with_label("this clause applies to no field")
                    .with_help(help),
                );
            }
        }
    }
}

/// Whether slots from the profile stay in records (no list on the way).
fn profile_path(schema: &ir::Schema, slots: &[usize]) -> bool {
    let mut record = Some(0);
    for slot in slots {
        let Some(field) = record.and_then(|r| schema.records.get(r)).and_then(|r| r.fields.get_index(*slot)) else {
            return false;
        };
        record = match &field.1.ty {
            Type::Record(inner) => Some(*inner),
            _ => None,
        };
    }
    true
}

/// What reads fields: a rule or a stream requirement.
enum Reader<'r> {
    Rule(&'r ir::Rule),
    Requirement(&'r ir::Requirement),
}

impl Reader<'_> {
    fn describe(&self) -> String {
        match self {
            Reader::Rule(rule) => format!("rule `{}`", rule.name),
            Reader::Requirement(requirement) => format!("requirement `{}`", requirement.name),
        }
    }

    fn condition(&self) -> &Expr {
        match self {
            Reader::Rule(rule) => &rule.condition,
            Reader::Requirement(requirement) => &requirement.condition,
        }
    }
}

/// How a read stands against a consent guard.
enum Guard {
    /// Guarded.
    Held,
    /// Not guarded: no conjunct.
    Missing,
    /// Only by a conjunct that can be unknown, in a rule that suppresses.
    Nullable,
}

fn check_reads(
    rules: &CheckedRules,
    policy: &Policy,
    reader: &Reader<'_>,
    found: &[FieldRead],
    out: &mut Vec<Diagnostic>,
) {
    let mut reported = HashSet::new();
    for read in found {
        let path = read.dotted();
        if let Some(allow) = &policy.allow {
            let allowed = allow.iter().any(|a| read.path.starts_with(&a.names));
            if !allowed && reported.insert((path.clone(), String::new())) {
                let list: Vec<String> = allow.iter().map(|a| format!("`{}`", a.dotted())).collect();
                let diagnostic = Diagnostic::new(
                    Code::NotAllowedRead,
                    read.span,
                    format!("{} reads `{path}`, which policy `{}` does not allow", reader.describe(), policy.name),
                )
                .with_label(label(rules, read))
                .with_help(format!("policy `{}` allows only {}", policy.name, list.join(", ")));
                out.push(with_origin(rules, diagnostic, read));
            }
        }
        for category in &read.categories {
            if policy.never.iter().any(|n| n.dotted() == *category) && reported.insert((path.clone(), category.clone()))
            {
                let diagnostic = Diagnostic::new(
                    Code::ForbiddenRead,
                    read.span,
                    format!(
                        "{} reads `{path}`, of category `{category}`, which policy `{}` never allows",
                        reader.describe(),
                        policy.name
                    ),
                )
                .with_label(label(rules, read))
                .with_help(format!("no condition makes it lawful here: target without `{path}`"));
                out.push(with_origin(rules, diagnostic, read));
            }
            for consent in policy.consents.iter().filter(|c| c.category.dotted() == *category) {
                let field = consent.field.dotted();
                let guard = guarded(rules, reader, &consent.field.names);
                if matches!(guard, Guard::Held) || !reported.insert((path.clone(), format!("{category}/{field}"))) {
                    continue;
                }
                let help = match (guard, lineage::lookup(&rules.schema, &consent.field.names)) {
                    (_, None) => format!("declare the bool field `{field}` in the schema, then add the guard: `{field} and ...`"),
                    (Guard::Nullable, _) => format!(
                        "`{field}` can be missing, and a suppression applies when its condition is unknown: \
                         add the guard `({field} ?? false) and ...`, or make `{field}` a required field"
                    ),
                    _ => match reader {
                        Reader::Rule(rule) if !rule.suppresses.is_empty() => format!(
                            "add the guard: `{field} and ...` (or `({field} ?? false) and ...` if `{field}` is optional)"
                        ),
                        _ => format!("add the guard: `{field} and ...`"),
                    },
                };
                let diagnostic = Diagnostic::new(
                    Code::UnguardedRead,
                    read.span,
                    format!(
                        "{} reads `{path}`, of category `{category}`, without the consent `{field}` that policy `{}` requires",
                        reader.describe(),
                        policy.name
                    ),
                )
                .with_label(label(rules, read))
                .with_help(help);
                out.push(with_origin(rules, diagnostic, read));
            }
        }
    }
}

fn label(rules: &CheckedRules, read: &FieldRead) -> String {
    match read.through.first().and_then(|id| rules.definitions.get(*id)) {
        Some(def) => format!("`{}` is computed from `{}`", def.name, read.dotted()),
        None => String::from("read here"),
    }
}

/// A read through definitions gets a note where the innermost one reads the field.
fn with_origin(rules: &CheckedRules, diagnostic: Diagnostic, read: &FieldRead) -> Diagnostic {
    let Some(inner) = read.through.last().and_then(|id| rules.definitions.get(*id)) else { return diagnostic };
    let chain: Vec<String> =
        read.through.iter().filter_map(|id| rules.definitions.get(*id)).map(|d| format!("`{}`", d.name)).collect();
    let message = if chain.len() > 1 {
        format!("definition `{}` reads `{}` here (through {})", inner.name, read.dotted(), chain.join(" -> "))
    } else {
        format!("definition `{}` reads `{}` here", inner.name, read.dotted())
    };
    diagnostic.with_note(read.origin, message)
}

/// Whether the reads of `reader` are guarded by the consent field `field`
/// (language guide, section 17.3).
fn guarded(rules: &CheckedRules, reader: &Reader<'_>, field: &[String]) -> Guard {
    let Some((slots, _)) = lineage::lookup(&rules.schema, field) else { return Guard::Missing };
    let mut conjuncts = Vec::new();
    top_conjuncts(rules, reader.condition(), &mut conjuncts);
    let guards: Vec<&Expr> = conjuncts.into_iter().filter(|c| is_guard(c, &slots)).collect();
    match reader {
        // A requirement suppresses on false and on unknown alike.
        Reader::Requirement(_) if !guards.is_empty() => Guard::Held,
        Reader::Requirement(_) => Guard::Missing,
        Reader::Rule(rule) => {
            if guards.iter().any(|g| rule.suppresses.is_empty() || !g.nullable) {
                return Guard::Held;
            }
            let streams: Vec<usize> = rule.assigns.iter().chain(&rule.suppresses).copied().collect();
            let required = |stream: usize| {
                rules.requirements.iter().any(|r| {
                    let mut conjuncts = Vec::new();
                    top_conjuncts(rules, &r.condition, &mut conjuncts);
                    r.streams.contains(&stream) && conjuncts.iter().any(|c| is_guard(c, &slots))
                })
            };
            if !streams.is_empty() && streams.iter().all(|s| required(*s)) {
                return Guard::Held;
            }
            if guards.is_empty() {
                Guard::Missing
            } else {
                Guard::Nullable
            }
        }
    }
}

/// The top-level conjuncts of a condition: through `and` chains and the
/// definitions whose value is one.
fn top_conjuncts<'e>(rules: &'e CheckedRules, e: &'e Expr, out: &mut Vec<&'e Expr>) {
    conjuncts_of(rules, e, out, &mut HashSet::new(), 0);
}

/// Each definition's conjuncts are listed once (`d2 = d1 and d1` would
/// otherwise list them 2^n times down a chain): the conjuncts are a set.
fn conjuncts_of<'e>(
    rules: &'e CheckedRules,
    e: &'e Expr,
    out: &mut Vec<&'e Expr>,
    seen: &mut HashSet<ir::DefId>,
    depth: usize,
) {
    match &e.kind {
        ExprKind::And(a, b) => {
            conjuncts_of(rules, a, out, seen, depth);
            conjuncts_of(rules, b, out, seen, depth);
        }
        ExprKind::Def(id) if depth < 64 => match rules.definitions.get(*id) {
            Some(def) => {
                if seen.insert(*id) {
                    conjuncts_of(rules, &def.value, out, seen, depth + 1);
                }
            }
            None => out.push(e),
        },
        _ => out.push(e),
    }
}

/// `consent.health` or `(consent.health ?? false)`.
fn is_guard(e: &Expr, slots: &[usize]) -> bool {
    let is_field = |e: &Expr| matches!(&e.kind, ExprKind::Field { base: Base::Profile, path } if path == slots);
    match &e.kind {
        ExprKind::Coalesce(value, fallback) => {
            is_field(value) && matches!(fallback.kind, ExprKind::Const(Const::Bool(false)))
        }
        _ => is_field(e),
    }
}
