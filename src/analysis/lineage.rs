//! What a checked rule set reads: the full field paths (`donations.amount`,
//! `scores.support`) each rule, definition and stream requirement reads,
//! through the definitions it uses, with the data-protection categories of
//! those fields.
//!
//! This is the IR-level read analysis that [`crate::analysis::policy`] checks and
//! [`crate::analysis::audit`] reports; later back ends (impact analysis between
//! versions) can share it.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use crate::ir::{Base, CheckedRules, DefId, Expr, ExprKind, RecordId, Schema, Type};
use crate::text::source::Span;

/// One field read.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldRead {
    /// The full path of the field, from the profile: `["donations", "amount"]`.
    pub path: Vec<String>,
    /// The categories of the field: its own tags and those of the record and
    /// list fields that hold it, sorted, each once.
    pub categories: Vec<String>,
    /// Where the expression being analysed reads it: the field itself, or
    /// the use of the definition through which it is read.
    pub span: Span,
    /// The definitions it is read through, the outermost first; empty when
    /// the expression reads the field itself.
    pub through: Vec<DefId>,
    /// Where the field is written in the innermost definition (`span` when
    /// read directly).
    pub origin: Span,
}

impl FieldRead {
    /// The dotted path: `donations.amount`.
    pub fn dotted(&self) -> String {
        self.path.join(".")
    }
}

/// The element of a list an aggregate iterates: its path, categories and type.
#[derive(Clone, Debug)]
struct Element {
    path: Vec<String>,
    categories: Vec<String>,
    ty: Type,
}

/// Finds the reads of expressions of one rule set; each definition is
/// analysed once.
#[derive(Debug)]
pub struct ReadAnalysis<'r> {
    rules: &'r CheckedRules,
    memo: HashMap<DefId, Rc<[FieldRead]>>,
}

impl<'r> ReadAnalysis<'r> {
    /// An analysis of `rules`.
    pub fn new(rules: &'r CheckedRules) -> ReadAnalysis<'r> {
        ReadAnalysis { rules, memo: HashMap::new() }
    }

    /// Every field read of an expression evaluated on the profile (a rule
    /// condition, a requirement), in source order, repeats kept.
    pub fn expr(&mut self, expr: &Expr) -> Vec<FieldRead> {
        let mut out = Vec::new();
        self.walk(expr, &[], &mut out, 0);
        out
    }

    fn definition_at(&mut self, id: DefId, depth: usize) -> Rc<[FieldRead]> {
        if let Some(found) = self.memo.get(&id) {
            return Rc::clone(found);
        }
        let rules = self.rules;
        let Some(def) = rules.definitions.get(id) else { return Rc::from([]) };
        let mut out = Vec::new();
        // Definitions only refer to smaller ids, so the chain ends; the
        // depth bound is a second guard for a hand-built rule set.
        if depth < 64 {
            self.walk(&def.value, &[], &mut out, depth + 1);
        }
        // One read per field and place it is written: a definition that
        // uses another twice (`d2 = d1 + d1`) would otherwise hold twice its
        // reads, and a chain of them 2^n. Where it is used, every read of a
        // definition takes the span of the use, so only `through` differs
        // between repeats; the first chain found is kept.
        // INVARIANT: a definition's reads are at most the field nodes of the
        // rule set, so every analysis over them is linear in its size.
        let mut seen = HashSet::new();
        out.retain(|read| seen.insert((read.path.clone(), read.origin)));
        let found: Rc<[FieldRead]> = out.into();
        self.memo.insert(id, Rc::clone(&found));
        found
    }

    fn walk(&mut self, e: &Expr, elements: &[Vec<Element>], out: &mut Vec<FieldRead>, depth: usize) {
        let schema = &self.rules.schema;
        match &e.kind {
            ExprKind::Field { base: Base::Profile, path } => {
                if let Some((names, categories, _)) = resolve(schema, Some(0), &Type::Record(0), path) {
                    out.push(read(names, categories, e.span));
                }
            }
            ExprKind::Field { base: Base::Element(up), path } => {
                let level = elements.len().checked_sub(1 + *up as usize).and_then(|i| elements.get(i));
                for element in level.into_iter().flatten() {
                    if let Some(found) = resolve_from(schema, element, path) {
                        out.push(read(found.0, found.1, e.span));
                    }
                }
            }
            ExprKind::Def(id) => {
                for inner in self.definition_at(*id, depth).iter() {
                    out.push(FieldRead {
                        path: inner.path.clone(),
                        categories: inner.categories.clone(),
                        span: e.span,
                        through: std::iter::once(*id).chain(inner.through.iter().copied()).collect(),
                        origin: inner.origin,
                    });
                }
            }
            ExprKind::Aggregate { list, projection, filter, .. } => {
                let bases = self.elements(list, 0);
                let direct_field = matches!(list.kind, ExprKind::Field { .. });
                // The list itself is read unless its elements are read through
                // a projection or a filter, which then name the fields read.
                if !direct_field || (projection.is_empty() && filter.is_none()) {
                    self.walk(list, elements, out, depth);
                }
                if !projection.is_empty() {
                    for element in &bases {
                        if let Some(found) = resolve_from(schema, element, projection) {
                            out.push(read(found.0, found.1, list.span));
                        }
                    }
                }
                if let Some(filter) = filter {
                    let mut inner = elements.to_vec();
                    inner.push(bases);
                    self.walk(filter, &inner, out, depth);
                }
            }
            _ => {
                for child in e.children() {
                    self.walk(child, elements, out, depth);
                }
            }
        }
    }

    /// What the elements of a list expression are: the list field it reads
    /// (through definitions), or nothing for a list of constants.
    fn elements(&self, list: &Expr, depth: usize) -> Vec<Element> {
        match &list.kind {
            ExprKind::Field { base: Base::Profile, path } => {
                match resolve(&self.rules.schema, Some(0), &Type::Record(0), path) {
                    Some((path, categories, Type::List(element))) => vec![Element { path, categories, ty: *element }],
                    _ => Vec::new(),
                }
            }
            ExprKind::Def(id) if depth < 64 => {
                self.rules.definitions.get(*id).map_or_else(Vec::new, |d| self.elements(&d.value, depth + 1))
            }
            _ => Vec::new(),
        }
    }
}

fn read(path: Vec<String>, mut categories: Vec<String>, span: Span) -> FieldRead {
    categories.sort();
    categories.dedup();
    FieldRead { path, categories, span, through: Vec::new(), origin: span }
}

/// A path of slots below an element.
fn resolve_from(schema: &Schema, element: &Element, path: &[usize]) -> Option<(Vec<String>, Vec<String>, Type)> {
    let record = match &element.ty {
        Type::Record(id) => Some(*id),
        _ => None,
    };
    let (names, categories, ty) = resolve(schema, record, &element.ty, path)?;
    let full = element.path.iter().cloned().chain(names).collect();
    let categories = element.categories.iter().cloned().chain(categories).collect();
    Some((full, categories, ty))
}

/// The names, categories and type of a path of slots from a record (an
/// empty path is the value itself, of type `ty`).
pub(crate) fn resolve(
    schema: &Schema,
    mut record: Option<RecordId>,
    ty: &Type,
    path: &[usize],
) -> Option<(Vec<String>, Vec<String>, Type)> {
    let mut names = Vec::new();
    let mut categories = Vec::new();
    let mut ty = ty.clone();
    for slot in path {
        let (_, field) = schema.records.get(record?)?.fields.get_index(*slot)?;
        names.push(field.name.clone());
        categories.extend(field.tags.iter().cloned());
        ty = field.ty.clone();
        record = match &field.ty {
            Type::Record(inner) => Some(*inner),
            _ => None,
        };
    }
    Some((names, categories, ty))
}

/// The slots and type of a path of names from the profile, when the
/// schema has it; a name after a list of records is a field of its
/// elements (`donations.amount`).
pub fn lookup(schema: &Schema, names: &[String]) -> Option<(Vec<usize>, Type)> {
    let mut slots = Vec::new();
    let mut ty = Type::Record(0);
    for name in names {
        let mut holder = &ty;
        while let Type::List(element) = holder {
            holder = element;
        }
        let Type::Record(record) = holder else { return None };
        let (slot, field) = schema.records.get(*record)?.field(name)?;
        slots.push(slot);
        ty = field.ty.clone();
    }
    Some((slots, ty))
}

/// The categories of every field of the schema, each once, sorted.
pub fn schema_categories(schema: &Schema) -> Vec<String> {
    let mut out: Vec<String> =
        schema.records.iter().flat_map(|r| r.fields.values()).flat_map(|f| f.tags.iter().cloned()).collect();
    out.sort();
    out.dedup();
    out
}

/// Every leaf field path of the schema (a field that is not a record or a
/// list of records), with its categories, in declaration order.
pub fn leaf_fields(schema: &Schema) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    leaves(schema, 0, "", &[], &mut out, 0);
    out
}

fn leaves(
    schema: &Schema,
    record: RecordId,
    prefix: &str,
    categories: &[String],
    out: &mut Vec<(String, Vec<String>)>,
    depth: usize,
) {
    let Some(fields) = schema.records.get(record) else { return };
    for field in fields.fields.values() {
        let path = if prefix.is_empty() { field.name.clone() } else { format!("{prefix}.{}", field.name) };
        let mut cats: Vec<String> = categories.iter().chain(&field.tags).cloned().collect();
        cats.sort();
        cats.dedup();
        let mut ty = &field.ty;
        while let Type::List(element) = ty {
            ty = element;
        }
        match ty {
            Type::Record(inner) if depth < 64 => leaves(schema, *inner, &path, &cats, out, depth + 1),
            _ => out.push((path, cats)),
        }
    }
}
