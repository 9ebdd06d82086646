//! Checking of test items: profiles resolved and checked against the
//! schema, streams of every expectation resolved.
//!
//! A written profile becomes the JSON a profile file would hold and goes
//! through the same decoder as `narval assign`'s input, so a test profile
//! is read exactly as a real one would be.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value as Json};

use super::checker::{unknown_stream, Checker};
use crate::ir::StreamKind;
use crate::ir::{self, RecordId, Schema, Type};
use crate::syntax::ast::{self, Entry, Expectation, Given, Item, Literal, ProfileValue, TestClause, Value};
use crate::text::diagnostic::{Code, Diagnostic, Suggester};
use crate::text::source::Span;
use crate::value::format_cents;

/// How deep profiles may be built on profiles: `b = a with {..}`, `c = b with {..}`, ...
pub const MAX_PROFILE_DEPTH: usize = 32;

enum State<'a> {
    Pending(&'a ast::ProfileDecl),
    Resolving,
    Done(Option<Json>),
}

/// Checks every test and profile of the rule set.
pub(super) fn check(checker: &mut Checker<'_>, items: &[&Item], streams: &[ir::Stream]) -> Vec<ir::Test> {
    let mut profiles: HashMap<&str, State<'_>> = HashMap::new();
    for item in items {
        let Item::Profile(decl) = item else { continue };
        if profiles.contains_key(decl.name.node.as_str()) {
            checker.error(super::checker::duplicate(Code::DuplicateTest, "profile", &decl.name));
        } else {
            profiles.insert(&decl.name.node, State::Pending(decl));
        }
    }
    let mut resolver = Resolver {
        schema: checker.schema,
        profiles,
        diagnostics: Vec::new(),
        stack: Vec::new(),
        suggester: Suggester::default(),
    };
    // Every profile is checked, used or not, so that its errors show.
    let mut names: Vec<(&str, Span)> = items
        .iter()
        .filter_map(|i| if let Item::Profile(p) = i { Some((p.name.node.as_str(), p.name.span)) } else { None })
        .collect();
    names.sort_by_key(|(_, span)| (span.file, span.start));
    for (name, span) in names {
        resolver.profile(name, span);
    }

    let mut tests = Vec::new();
    let mut seen = HashSet::new();
    for item in items {
        let Item::Test(test) = item else { continue };
        if !seen.insert(test.name.node.clone()) {
            checker.error(
                Diagnostic::new(
                    Code::DuplicateTest,
                    test.name.span,
                    format!("test `{}` is declared twice", test.name.node),
                )
                .with_label("declared again here")
                .with_help("test names are shared by every file of a rule set; rename one test"),
            );
            continue;
        }
        if let Some(test) = check_test(checker, &mut resolver, test, streams) {
            tests.push(test);
        }
    }
    checker.diagnostics.append(&mut resolver.diagnostics);
    tests.sort_by_key(|t| (t.span.file, t.span.start));
    tests
}

fn check_test(
    checker: &mut Checker<'_>,
    resolver: &mut Resolver<'_, '_>,
    test: &ast::Test,
    streams: &[ir::Stream],
) -> Option<ir::Test> {
    let name = &test.name.node;
    let malformed = |span: Span, message: String, help: &str| {
        Diagnostic::new(Code::MalformedTest, span, message).with_help(help.to_string())
    };
    let mut given = None;
    let mut today = None;
    let mut expectations = Vec::new();
    let mut ok = true;
    for clause in &test.clauses {
        match &clause.node {
            TestClause::Given(g) => {
                if given.is_some() {
                    checker.error(malformed(
                        clause.span,
                        format!("test `{name}` has more than one `given`"),
                        "a test evaluates one profile; write another test for another profile",
                    ));
                    ok = false;
                    continue;
                }
                given = Some(match g {
                    Given::File(path) => Some(ir::Given::File { path: path.node.clone(), span: path.span }),
                    Given::Profile(value) => resolver.value(value).map(ir::Given::Profile),
                });
            }
            TestClause::Today(date) => {
                if today.is_some() {
                    checker.error(malformed(
                        clause.span,
                        format!("test `{name}` has more than one `today`"),
                        "keep one evaluation date",
                    ));
                    ok = false;
                }
                today = Some(*date);
            }
            TestClause::Expect(list) => {
                for expectation in list {
                    match expectation_kind(checker, &expectation.node, expectation.span, streams) {
                        Some(kind) => expectations.push(ir::Expectation { kind, span: expectation.span }),
                        None => ok = false,
                    }
                }
            }
        }
    }
    let Some(given) = given else {
        checker.error(malformed(
            test.name.span,
            format!("test `{name}` has no `given`"),
            "say what profile it evaluates: `given { ... }`, `given supporter with { ... }` or `given \"file.json\"`",
        ));
        return None;
    };
    if expectations.is_empty() && ok {
        checker.error(malformed(
            test.name.span,
            format!("test `{name}` expects nothing"),
            "add what must come out, such as `expect door_knock, no flyer`",
        ));
        return None;
    }
    if let Some(span) = contradiction(&expectations, streams) {
        checker.error(malformed(
            span,
            format!("test `{name}` expects a stream both assigned and not"),
            "no assignment can pass it; remove one of the two",
        ));
        return None;
    }
    let given = given?;
    ok.then(|| ir::Test { name: name.clone(), span: test.name.span, given, today, expectations })
}

fn expectation_kind(
    checker: &mut Checker<'_>,
    expectation: &Expectation,
    span: Span,
    streams: &[ir::Stream],
) -> Option<ir::ExpectationKind> {
    let resolve = |checker: &mut Checker<'_>, name: &str, span: Span| match checker.stream_ids.get(name) {
        Some(id) => Some(*id),
        None => {
            let diagnostic = unknown_stream(checker, name, span, streams);
            checker.error(diagnostic);
            None
        }
    };
    Some(match expectation {
        Expectation::Assigned(name) => ir::ExpectationKind::Assigned(resolve(checker, name, span)?),
        Expectation::NotAssigned(name) => ir::ExpectationKind::NotAssigned(resolve(checker, name, span)?),
        Expectation::NoneOf(kind) => ir::ExpectationKind::Exactly(StreamKind::from(*kind), Vec::new()),
        Expectation::Exactly(kind, names) => {
            let mut ids = Vec::new();
            let mut ok = true;
            for name in names {
                match resolve(checker, &name.node, name.span) {
                    Some(id) if streams.get(id).is_some_and(|s| s.kind == StreamKind::from(*kind)) => ids.push(id),
                    Some(_) => {
                        checker.error(
                            Diagnostic::new(
                                Code::WrongKindOfName,
                                name.span,
                                format!("`{}` is not {} stream", name.node, article(StreamKind::from(*kind))),
                            )
                            .with_help(format!(
                                "`{} = [...]` lists {} streams only",
                                kind.plural(),
                                kind.keyword()
                            )),
                        );
                        ok = false;
                    }
                    None => ok = false,
                }
            }
            ids.sort_unstable();
            ids.dedup();
            if !ok {
                return None;
            }
            ir::ExpectationKind::Exactly(StreamKind::from(*kind), ids)
        }
    })
}

fn article(kind: StreamKind) -> &'static str {
    match kind {
        StreamKind::Solicitation => "a solicitation",
        StreamKind::Issue => "an issue",
    }
}

/// The span of an expectation that no assignment can meet together with
/// the others: `door_knock, no door_knock`, `issues = [jobs], no jobs`,
/// `door_knock` beside `solicitations = [flyer]`.
fn contradiction(expectations: &[ir::Expectation], streams: &[ir::Stream]) -> Option<Span> {
    use ir::ExpectationKind::{Assigned, Exactly, NotAssigned};
    let kind = |s: usize| streams.get(s).map(|s| s.kind);
    // Per stream: must it be assigned (true), must it not (false).
    let mut wanted: HashMap<usize, bool> = HashMap::new();
    // Per kind: the streams `solicitations = [...]` lists.
    let mut exact: HashMap<StreamKind, HashSet<usize>> = HashMap::new();
    // Each expectation is checked against those before it, once: linear.
    for e in expectations {
        let clash = match &e.kind {
            Assigned(s) | NotAssigned(s) => {
                let assigned = matches!(e.kind, Assigned(_));
                let outside_exact = kind(*s).and_then(|k| exact.get(&k)).is_some_and(|ids| ids.contains(s) != assigned);
                wanted.insert(*s, assigned) == Some(!assigned) || outside_exact
            }
            Exactly(k, ids) => {
                let ids: HashSet<usize> = ids.iter().copied().collect();
                match exact.get(k) {
                    Some(before) => *before != ids,
                    None => {
                        let clash =
                            wanted.iter().any(|(s, &assigned)| kind(*s) == Some(*k) && ids.contains(s) != assigned);
                        exact.insert(*k, ids);
                        clash
                    }
                }
            }
        };
        if clash {
            return Some(e.span);
        }
    }
    None
}

/// Turns written profiles into checked JSON.
struct Resolver<'s, 'a> {
    schema: &'s Schema,
    profiles: HashMap<&'a str, State<'a>>,
    diagnostics: Vec<Diagnostic>,
    stack: Vec<String>,
    suggester: Suggester,
}

impl<'a> Resolver<'_, 'a> {
    fn profile(&mut self, name: &str, at: Span) -> Option<Json> {
        let Some(state) = self.profiles.get_mut(name) else {
            let known = self.profiles.keys().copied().collect::<Vec<_>>();
            self.diagnostics.push(
                Diagnostic::new(Code::UnknownProfile, at, format!("unknown profile `{name}`"))
                    .with_label("not declared")
                    .with_help_opt(
                        self.suggester
                            .did_you_mean(name, known.iter().copied())
                            .or_else(|| Some(format!("declare it: `profile {name} = {{ ... }}`"))),
                    ),
            );
            return None;
        };
        let decl = match state {
            State::Done(json) => return json.clone(),
            State::Resolving => {
                let start = self.stack.iter().position(|n| n == name).unwrap_or(0);
                let mut cycle: Vec<String> = self.stack.iter().skip(start).map(|n| format!("`{n}`")).collect();
                cycle.push(format!("`{name}`"));
                self.diagnostics.push(
                    Diagnostic::new(Code::ProfileCycle, at, format!("profile `{name}` is built on itself"))
                        .with_label(format!("the cycle: {}", cycle.join(" -> ")))
                        .with_help("start one of these profiles from a record `{ ... }`"),
                );
                return None;
            }
            State::Pending(decl) => *decl,
        };
        // Resolving recurses along the chain, so its length is bounded.
        if self.stack.len() >= MAX_PROFILE_DEPTH {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ProfileCycle,
                    at,
                    format!("profiles are built on each other more than {MAX_PROFILE_DEPTH} deep"),
                )
                .with_help("start one of these profiles from a record `{ ... }`"),
            );
            return None;
        }
        *state = State::Resolving;
        self.stack.push(name.to_string());
        let json = self.value(&decl.value);
        self.stack.pop();
        if let Some(state) = self.profiles.get_mut(name) {
            *state = State::Done(json.clone());
        }
        json
    }

    /// A written profile as JSON, checked against the schema.
    fn value(&mut self, value: &ast::Spanned<ProfileValue>) -> Option<Json> {
        let json = match &value.node {
            ProfileValue::Record(entries) => {
                let mut object = Json::Object(Map::new());
                self.apply(&mut object, entries)?;
                object
            }
            ProfileValue::Extend { base, with } => {
                let mut object = self.profile(&base.node, base.span)?;
                if let Some(entries) = with {
                    self.apply(&mut object, entries)?;
                }
                object
            }
        };
        if let Err(error) = crate::decode::from_json_value(self.schema, &json) {
            // At the value written for the field the decoder names, when
            // this profile writes it; else at the whole profile.
            let entries = match &value.node {
                ProfileValue::Record(entries) => Some(entries),
                ProfileValue::Extend { with, .. } => with.as_ref(),
            };
            let at = match &error {
                crate::decode::ProfileError::WrongType { field, .. }
                | crate::decode::ProfileError::InvalidValue { field, .. } => {
                    entries.and_then(|entries| locate(entries, &segments(field)))
                }
                _ => None,
            };
            let help = match error {
                crate::decode::ProfileError::MissingField { .. } => {
                    "the schema requires this field: give it a value (`missing` is only for optional fields)"
                }
                _ => "a test profile is read as `narval assign` reads a line of input",
            };
            self.diagnostics.push(
                Diagnostic::new(
                    Code::ProfileDoesNotFit,
                    at.unwrap_or(value.span),
                    format!("profile does not fit the schema: {error}"),
                )
                .with_help(help),
            );
            return None;
        }
        Some(json)
    }

    /// Sets each entry on `object` (a record of the profile type).
    fn apply(&mut self, object: &mut Json, entries: &[Entry]) -> Option<()> {
        let mut ok = true;
        for entry in entries {
            ok &= self.set(object, 0, entry).is_some();
        }
        ok.then_some(())
    }

    fn set(&mut self, object: &mut Json, record: RecordId, entry: &Entry) -> Option<()> {
        let mut target = object;
        let mut record = record;
        let mut ty = None;
        let mut cents = false;
        let last = entry.path.len().saturating_sub(1);
        for (i, name) in entry.path.iter().enumerate() {
            let fields = self.schema.records.get(record)?;
            let Some((_, field)) = fields.field(&name.node) else {
                self.diagnostics.push(
                    Diagnostic::new(Code::UnknownField, name.span, format!("unknown field `{}`", name.node))
                        .with_label("not in the schema")
                        .with_help_opt(
                            self.suggester.did_you_mean(&name.node, fields.fields.keys().map(String::as_str)),
                        ),
                );
                return None;
            };
            let Json::Object(map) = target else { return None };
            if i == last {
                ty = Some(field.ty.clone());
                cents = field.cents;
                map.insert(name.node.clone(), Json::Null);
                target = map.get_mut(&name.node)?;
                break;
            }
            let Type::Record(inner) = field.ty else {
                self.diagnostics.push(Diagnostic::new(
                    Code::UnknownField,
                    name.span,
                    format!("field `{}` is not a record, so it has no fields", name.node),
                ));
                return None;
            };
            record = inner;
            let slot = map.entry(name.node.clone()).or_insert_with(|| Json::Object(Map::new()));
            if !slot.is_object() {
                *slot = Json::Object(Map::new());
            }
            target = slot;
        }
        *target = self.json(&entry.value, ty.as_ref()?, cents)?;
        Some(())
    }

    /// A written value as JSON; its type is checked here only as far as
    /// records and lists go, the decoder checks the rest. `cents`: the field
    /// is `money in cents`, so `$12.50` is written as the JSON `1250`.
    fn json(&mut self, value: &ast::Spanned<Value>, ty: &Type, cents: bool) -> Option<Json> {
        Some(match (&value.node, ty) {
            (Value::Missing, _) => Json::Null,
            (Value::Record(entries), Type::Record(id)) => {
                let mut object = Json::Object(Map::new());
                let mut ok = true;
                for entry in entries {
                    ok &= self.set(&mut object, *id, entry).is_some();
                }
                if !ok {
                    return None;
                }
                object
            }
            (Value::List(items), Type::List(element)) => {
                Json::Array(items.iter().map(|item| self.json(item, element, cents)).collect::<Option<_>>()?)
            }
            (Value::Literal(literal), _) if !matches!(ty, Type::Record(_) | Type::List(_)) => match literal {
                Literal::Bool(b) => Json::Bool(*b),
                Literal::Int(i) => Json::from(*i),
                Literal::Decimal { value, .. } => Json::from(*value),
                Literal::Money(amount) if cents => Json::from(*amount),
                Literal::Money(amount) => Json::String(format_cents(*amount)),
                Literal::String(s) => Json::String(s.clone()),
                Literal::Date(d) => Json::String(d.to_string()),
                Literal::Days(d) => Json::from(*d),
            },
            _ => {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::ProfileDoesNotFit,
                        value.span,
                        format!("this value does not fit a field of type `{}`", self.schema.describe(ty)),
                    )
                    .with_label("wrong kind of value"),
                );
                return None;
            }
        })
    }
}

/// One step of a decoder's field path: a name or a list index.
#[derive(Debug, PartialEq)]
enum Segment<'p> {
    Name(&'p str),
    Index(usize),
}

/// The steps of a field path as the decoder writes it: `donations[2].amount`.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let mut pieces = part.split('[');
        if let Some(name) = pieces.next().filter(|name| !name.is_empty()) {
            out.push(Segment::Name(name));
        }
        for index in pieces {
            if let Ok(i) = index.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}

/// The span of the value written at `path` in `entries` (the last entry
/// that writes it, as the last one wins); the nearest enclosing value when
/// the path goes below what is written.
fn locate(entries: &[Entry], path: &[Segment<'_>]) -> Option<Span> {
    entries.iter().rev().find_map(|entry| {
        let names = entry.path.len();
        let matches = path.len() >= names
            && entry.path.iter().zip(path).all(|(name, segment)| *segment == Segment::Name(name.node.as_str()));
        matches.then(|| locate_value(&entry.value, path.get(names..).unwrap_or_default()))
    })
}

fn locate_value(value: &ast::Spanned<Value>, rest: &[Segment<'_>]) -> Span {
    let inner = match (&value.node, rest.split_first()) {
        (Value::Record(entries), Some(_)) => locate(entries, rest),
        (Value::List(items), Some((Segment::Index(i), rest))) => items.get(*i).map(|item| locate_value(item, rest)),
        _ => None,
    };
    inner.unwrap_or(value.span)
}
