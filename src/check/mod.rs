//! The `check` stage: syntax trees to a checked rule set.
//!
//! Merges the files of a rule set, builds the schema, resolves every name,
//! types every expression and reports every problem found (not just the
//! first). The result, [`ir::CheckedRules`], is what the compiler reads.

mod cases;
mod checker;
mod expr;
mod guards;
mod schema;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use crate::ir::StreamKind;
use crate::ir::{self, Base, DefId, Expr, ExprKind, Schema, Type};
use crate::syntax::ast::{self, Action, Item};
use crate::text::diagnostic::{Code, Diagnostic, Suggester};
use crate::text::source::{FileId, Span};
use crate::value::Date;

use checker::{duplicate, unknown_stream, Checker, DefState};
use expr::check_condition;

/// Most rules one rule set may hold; checking and compiling stay well
/// under a few seconds below it.
pub const MAX_RULES: usize = 100_000;

/// The language versions this narval reads.
pub const SUPPORTED_VERSION: u32 = 1;

/// Checks the parsed files of one rule set. Diagnostics are appended; the
/// checked rule set is returned even when there are errors, so that callers
/// can decide (the engine refuses to compile it).
pub fn check(
    files: &[(FileId, ast::File)],
    today: Option<Date>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ir::CheckedRules> {
    check_versions(files.iter().map(|(id, tree)| (*id, tree)), diagnostics);
    let items: Vec<&Item> = files.iter().flat_map(|(_, f)| f.items.iter()).collect();

    let schema = schema::build(
        items.iter().filter_map(|i| if let Item::Schema(fields) = i { Some(fields.as_slice()) } else { None }),
        diagnostics,
    );
    let streams = streams(&items, diagnostics);

    let mut checker = Checker {
        schema: &schema,
        diagnostics: Vec::new(),
        uses_today: None,
        cents_literals: HashMap::new(),
        stream_ids: streams.iter().enumerate().map(|(id, s)| (s.name.clone(), id)).collect(),
        suggester: Suggester::default(),
        inlined_items: 0,
        enum_members: HashMap::new(),
        rule_names: HashSet::new(),
        definition_names: Vec::new(),
        definition_asts: HashMap::new(),
        definition_states: Vec::new(),
        definitions: Vec::new(),
        definition_stack: Vec::new(),
        referenced: HashSet::new(),
    };

    // Names first, so that every reference can be resolved whatever the order.
    let root = schema.root().cloned().unwrap_or_default();
    let mut definition_order = Vec::new();
    for item in &items {
        match item {
            Item::Definition(def) => {
                let name = &def.name.node;
                if checker.definition_asts.contains_key(name) {
                    checker.error(duplicate(Code::DuplicateDefinition, "definition", &def.name));
                } else if root.field(name).is_some() {
                    checker.error(
                        Diagnostic::new(
                            Code::DuplicateDefinition,
                            def.name.span,
                            format!("definition `{name}` has the name of a field"),
                        )
                        .with_help("give the definition another name"),
                    );
                } else {
                    let index = checker.definition_states.len();
                    checker.definition_asts.insert(name.clone(), (index, def));
                    checker.definition_states.push(DefState::Pending);
                    checker.definition_names.push(name.clone());
                    definition_order.push((name.clone(), def.name.span));
                }
            }
            Item::Rule(rule) if !checker.rule_names.insert(rule.name.node.clone()) => {
                checker.error(duplicate(Code::DuplicateRule, "rule", &rule.name));
            }
            _ => {}
        }
    }

    let mut rules = Vec::new();
    let mut seen_rules = HashSet::new();
    for item in &items {
        let Item::Rule(rule) = item else { continue };
        if !seen_rules.insert(rule.name.node.clone()) {
            continue;
        }
        if seen_rules.len() == MAX_RULES + 1 {
            checker.error(
                Diagnostic::new(
                    Code::TooLarge,
                    rule.name.span,
                    format!("the rule set has more than {MAX_RULES} rules"),
                )
                .with_help("split the rule set, or fold rules that differ by a value into one rule with `in [...]`"),
            );
        }
        if let Some(checked) = check_rule(&mut checker, rule, &streams) {
            rules.push(checked);
        }
    }
    let guards = guards::check(&mut checker, &items, &streams, &mut rules);
    // Definitions no rule reaches are still checked, so their errors show.
    for (name, span) in &definition_order {
        let _ = checker.definition(name, *span);
    }

    if let (Some(span), None) = (checker.uses_today, today) {
        checker.error(
            Diagnostic::new(Code::TodayNotSet, span, "the rule set reads `today` but no evaluation date was given")
                .with_help("pass the date to evaluate on, such as `--today 2012-10-01`"),
        );
    }

    warn_unused_definitions(&mut checker, &definition_order);
    for rule in &rules {
        warn_unhandled_missing(&mut checker, rule);
    }

    let tests = cases::check(&mut checker, &items, &streams);
    let uses_today = checker.uses_today.is_some();
    diagnostics.append(&mut checker.diagnostics);
    let definitions = std::mem::take(&mut checker.definitions);
    drop(checker);
    rules.sort_by(|a, b| a.name.cmp(&b.name));
    let guards::Guards { requirements, holdouts, caps } = guards;
    Some(ir::CheckedRules { schema, streams, definitions, rules, requirements, holdouts, caps, uses_today, tests })
}

/// Every field path of the schema, for "did you mean" suggestions.
pub(crate) fn field_paths(schema: &Schema, out: &mut Vec<String>) {
    schema::paths(schema, 0, "", out);
}

/// W0005 and E0002: the version line of each file.
pub(crate) fn check_versions<'f>(
    files: impl IntoIterator<Item = (FileId, &'f ast::File)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (file, tree) in files {
        match &tree.version {
            None => diagnostics.push(
                Diagnostic::new(Code::MissingVersion, Span::new(file, 0, 0), "file has no version line")
                    .with_help(format!("start the file with `narval {SUPPORTED_VERSION}`")),
            ),
            Some(v) if v.node != SUPPORTED_VERSION => diagnostics.push(
                Diagnostic::new(
                    Code::UnsupportedVersion,
                    v.span,
                    format!("narval language version {} is not supported", v.node),
                )
                .with_help(format!("this narval reads version {SUPPORTED_VERSION}")),
            ),
            Some(_) => {}
        }
    }
}

/// Streams of every file: solicitations, then issues, each in declaration
/// order. All streams of one kind must be declared in one file, so that
/// their priority does not depend on the order files are given in.
fn streams(items: &[&Item], diagnostics: &mut Vec<Diagnostic>) -> Vec<ir::Stream> {
    let mut home: HashMap<StreamKind, FileId> = HashMap::new();
    let mut seen = HashSet::new();
    let mut by_kind: BTreeMap<StreamKind, Vec<ir::Stream>> = BTreeMap::new();
    for item in items {
        let Item::Streams(decls) = item else { continue };
        let Some(first) = decls.streams.first() else { continue };
        let file = *home.entry(StreamKind::from(decls.kind)).or_insert(first.name.span.file);
        if file != first.name.span.file {
            diagnostics.push(
                Diagnostic::new(
                    Code::SplitStreamDeclaration,
                    first.name.span,
                    format!("{} streams are declared in more than one file", decls.kind.keyword()),
                )
                .with_help("declare every stream of a kind in one file: their order there is their priority"),
            );
        }
        for decl in &decls.streams {
            let name = &decl.name;
            if matches!(name.node.as_str(), "solicitations" | "issues") {
                diagnostics.push(
                    Diagnostic::new(Code::ReservedName, name.span, format!("`{}` cannot name a stream", name.node))
                        .with_help("`no solicitations` and `no issues` suppress every stream of a kind"),
                );
                continue;
            }
            if !seen.insert(name.node.clone()) {
                diagnostics.push(duplicate(Code::DuplicateStream, "stream", name));
                continue;
            }
            by_kind.entry(StreamKind::from(decls.kind)).or_default().push(ir::Stream {
                name: name.node.clone(),
                kind: StreamKind::from(decls.kind),
                description: decl.description.clone(),
                span: name.span,
            });
        }
    }
    by_kind.into_values().flatten().collect()
}

fn check_rule(checker: &mut Checker<'_>, rule: &ast::Rule, streams: &[ir::Stream]) -> Option<ir::Rule> {
    let owner = format!("rule `{}`", rule.name.node);
    let condition = check_condition(checker, &rule.condition, &owner, "total >= cap");
    let mut assigns = Vec::new();
    let mut suppresses = Vec::new();
    let mut suppressed_kinds = Vec::new();
    for action in &rule.actions {
        let (name, target) = match &action.node {
            Action::SuppressAll(kind) => {
                // Once a kind, however often it is written.
                if !suppressed_kinds.contains(kind) {
                    suppressed_kinds.push(*kind);
                    suppresses.extend(
                        streams.iter().enumerate().filter(|(_, s)| s.kind == StreamKind::from(*kind)).map(|(i, _)| i),
                    );
                }
                continue;
            }
            Action::Assign(name) => (name, &mut assigns),
            Action::Suppress(name) => (name, &mut suppresses),
        };
        match checker.stream_ids.get(name) {
            Some(id) => target.push(*id),
            None => {
                let diagnostic = unknown_stream(checker, name, action.span, streams);
                checker.error(diagnostic);
            }
        }
    }
    assigns.sort_unstable();
    assigns.dedup();
    suppresses.sort_unstable();
    suppresses.dedup();
    if let Some(both) = assigns.iter().find(|s| suppresses.binary_search(s).is_ok()) {
        let name = streams.get(*both).map_or("", |s| s.name.as_str());
        checker.error(
            Diagnostic::new(
                Code::AssignsAndSuppresses,
                rule.name.span,
                format!("rule `{}` assigns `{name}` and suppresses it", rule.name.node),
            )
            .with_help("a suppression always wins, so the assignment never takes effect"),
        );
    }
    let condition = condition.filter(|c| c.ty == Type::Bool)?;
    Some(ir::Rule {
        name: rule.name.node.clone(),
        description: rule.description.clone(),
        condition,
        assigns,
        suppresses,
        suppressed_kinds: suppressed_kinds.into_iter().map(StreamKind::from).collect(),
        span: rule.name.span,
    })
}

fn warn_unused_definitions(checker: &mut Checker<'_>, order: &[(String, Span)]) {
    for (name, span) in order {
        if !checker.referenced.contains(name) {
            checker.error(
                Diagnostic::new(Code::UnusedDefinition, *span, format!("definition `{name}` is never used"))
                    .with_help("remove it, or use it in a rule"),
            );
        }
    }
}

/// W0004: an assignment that reads an optional field without `has`, `is
/// missing` or `??` silently assigns nothing when the field is missing. The
/// rule may be right; the warning makes the author say so.
fn warn_unhandled_missing(checker: &mut Checker<'_>, rule: &ir::Rule) {
    if rule.assigns.is_empty() {
        return;
    }
    let guarded = guards(&rule.condition);
    let mut finder = UnhandledReads { schema: checker.schema, definitions: &checker.definitions, memo: HashMap::new() };
    let mut reads = Vec::new();
    finder.walk(&rule.condition, &guarded, &mut reads, 0);
    let mut seen = HashSet::new();
    reads.retain(|(_, name, _)| seen.insert(name.clone()));
    reads.sort_by(|a, b| a.1.cmp(&b.1));
    for (_, field, span) in reads {
        checker.error(
            Diagnostic::new(
                Code::UnhandledMissing,
                span,
                format!("rule `{}` assigns streams from the optional field `{field}`", rule.name),
            )
            .with_label("unknown when the field is missing, and then nothing is assigned")
            .with_help(format!("say what missing means: `has {field} and ...`, or `{field} ?? default`")),
        );
    }
}

/// Profile fields an expression tests with `has` or `is missing`.
fn guards(e: &Expr) -> Vec<Vec<usize>> {
    let mut guarded = Vec::new();
    e.walk(&mut |e| {
        if let ExprKind::IsMissing(inner) = &e.kind {
            if let ExprKind::Field { base: Base::Profile, path } = &inner.kind {
                guarded.push(path.clone());
            }
        }
    });
    guarded
}

/// An optional field read: its path, its dotted name.
type Read = (Vec<usize>, String);

/// Finds the optional fields an expression reads without `has`, `is
/// missing` or `??` before them.
struct UnhandledReads<'c> {
    schema: &'c Schema,
    definitions: &'c [ir::Definition],
    /// Per definition, the optional fields it reads that its own guards (and
    /// those of the definitions it uses) leave unguarded, each once. Found
    /// once per definition: definitions that each use the one before twice
    /// would otherwise be walked an exponential number of times.
    memo: HashMap<DefId, Rc<[Read]>>,
}

impl UnhandledReads<'_> {
    /// Pushes each optional field `e` reads that `guarded` leaves unguarded,
    /// with where it is read (for a definition, where the definition is used).
    fn walk(&mut self, e: &Expr, guarded: &[Vec<usize>], out: &mut Vec<(Vec<usize>, String, Span)>, depth: usize) {
        let unguarded = |path: &[usize]| !guarded.iter().any(|g| path.starts_with(g));
        match &e.kind {
            ExprKind::IsMissing(_) => {}
            ExprKind::Coalesce(_, fallback) => self.walk(fallback, guarded, out, depth),
            ExprKind::Field { base: Base::Profile, path } => {
                if let Some(name) = optional_field_name(self.schema, path).filter(|_| unguarded(path)) {
                    out.push((path.clone(), name, e.span));
                }
            }
            ExprKind::Def(id) if depth < 64 => {
                for (path, name) in self.definition(*id, depth).iter() {
                    if unguarded(path) {
                        out.push((path.clone(), name.clone(), e.span));
                    }
                }
            }
            _ => {
                for child in e.children() {
                    self.walk(child, guarded, out, depth);
                }
            }
        }
    }

    fn definition(&mut self, id: DefId, depth: usize) -> Rc<[Read]> {
        if let Some(found) = self.memo.get(&id) {
            return Rc::clone(found);
        }
        let Some(def) = self.definitions.get(id) else { return Rc::from([]) };
        // The guards of the definition hold inside it; those of its users are applied by them.
        let own = guards(&def.value);
        let mut reads = Vec::new();
        self.walk(&def.value, &own, &mut reads, depth + 1);
        let mut seen = HashSet::new();
        let found: Rc<[Read]> = reads
            .into_iter()
            .filter(|(path, _, _)| seen.insert(path.clone()))
            .map(|(path, name, _)| (path, name))
            .collect();
        self.memo.insert(id, Rc::clone(&found));
        found
    }
}

/// The dotted name of a profile field path when some field along it is optional.
fn optional_field_name(schema: &Schema, path: &[usize]) -> Option<String> {
    let mut record = 0;
    let mut names = Vec::new();
    let mut optional = false;
    for slot in path {
        let (_, field) = schema.records.get(record)?.fields.get_index(*slot)?;
        names.push(field.name.as_str());
        optional |= field.optional;
        match &field.ty {
            Type::Record(inner) => record = *inner,
            _ => break,
        }
    }
    optional.then(|| names.join("."))
}

impl From<ast::StreamKind> for StreamKind {
    fn from(kind: ast::StreamKind) -> StreamKind {
        match kind {
            ast::StreamKind::Solicitation => StreamKind::Solicitation,
            ast::StreamKind::Issue => StreamKind::Issue,
        }
    }
}

impl From<ast::AggregateFn> for ir::AggregateFn {
    fn from(func: ast::AggregateFn) -> ir::AggregateFn {
        match func {
            ast::AggregateFn::Sum => ir::AggregateFn::Sum,
            ast::AggregateFn::Count => ir::AggregateFn::Count,
            ast::AggregateFn::Min => ir::AggregateFn::Min,
            ast::AggregateFn::Max => ir::AggregateFn::Max,
            ast::AggregateFn::Avg => ir::AggregateFn::Avg,
            ast::AggregateFn::Any => ir::AggregateFn::Any,
            ast::AggregateFn::All => ir::AggregateFn::All,
        }
    }
}
