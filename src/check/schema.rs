//! The schema: field declarations of every file merged into record and enum
//! types, each field at a fixed slot.

use crate::ir::{EnumType, Field, RecordId, RecordType, Schema, Type};
use crate::syntax::ast::{FieldDecl, ScalarType, Spanned, TypeExpr};
use crate::text::diagnostic::{Code, Diagnostic};

/// Builds the schema from every `schema { ... }` block, in file order.
pub(super) fn build<'a>(
    blocks: impl IntoIterator<Item = &'a [FieldDecl]>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Schema {
    let mut schema = Schema { records: vec![RecordType::default()], enums: Vec::new() };
    for block in blocks {
        for decl in block {
            add_field(&mut schema, 0, decl, diagnostics);
        }
    }
    schema
}

fn add_field(schema: &mut Schema, record: RecordId, decl: &FieldDecl, diagnostics: &mut Vec<Diagnostic>) {
    if schema.records.get(record).is_some_and(|r| r.fields.contains_key(&decl.name.node)) {
        diagnostics.push(
            Diagnostic::new(
                Code::DuplicateField,
                decl.name.span,
                format!("field `{}` is declared twice", decl.name.node),
            )
            .with_label("declared again here")
            .with_help("a field is declared once, in one schema block"),
        );
        return;
    }
    let ty = lower_type(schema, &decl.ty, diagnostics);
    let cents = match &decl.in_cents {
        Some(_) if in_money(&ty) => true,
        Some(Spanned { span, .. }) => {
            diagnostics.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    *span,
                    format!("`in cents` applies to money, but `{}` is {}", decl.name.node, schema.describe(&ty)),
                )
                .with_help("write `money in cents` or `list of money in cents`"),
            );
            false
        }
        None => false,
    };
    let field = Field {
        name: decl.name.node.clone(),
        ty,
        optional: decl.optional,
        cents,
        tags: decl.tags.iter().map(|t| t.node.clone()).collect(),
        span: decl.name.span,
    };
    if let Some(target) = schema.records.get_mut(record) {
        target.fields.insert(field.name.clone(), field);
    }
}

/// `money`, or a list of money: what `in cents` applies to.
fn in_money(ty: &Type) -> bool {
    match ty {
        Type::Money => true,
        Type::List(element) => **element == Type::Money,
        _ => false,
    }
}

fn lower_type(schema: &mut Schema, ty: &Spanned<TypeExpr>, diagnostics: &mut Vec<Diagnostic>) -> Type {
    match &ty.node {
        TypeExpr::Scalar(scalar) => match scalar {
            ScalarType::Bool => Type::Bool,
            ScalarType::Int => Type::Int,
            ScalarType::Number => Type::Number,
            ScalarType::Money => Type::Money,
            ScalarType::String => Type::String,
            ScalarType::Date => Type::Date,
        },
        TypeExpr::Enum(members) => {
            let mut names: Vec<String> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for member in members {
                if !seen.insert(member.node.as_str()) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::DuplicateEnumMember,
                            member.span,
                            format!("`{}` is listed twice", member.node),
                        )
                        .with_label("listed again here"),
                    );
                } else {
                    names.push(member.node.clone());
                }
            }
            schema.enums.push(EnumType { members: names });
            Type::Enum(schema.enums.len() - 1)
        }
        TypeExpr::List(element) => Type::List(Box::new(lower_type(schema, element, diagnostics))),
        TypeExpr::Record(fields) => {
            schema.records.push(RecordType::default());
            let id = schema.records.len() - 1;
            for decl in fields {
                add_field(schema, id, decl, diagnostics);
            }
            Type::Record(id)
        }
    }
}

/// Every field path of a record, for "did you mean" suggestions:
/// `scores.support`, `donations.amount`, ...
pub(super) fn paths(schema: &Schema, record: RecordId, prefix: &str, out: &mut Vec<String>) {
    let Some(fields) = schema.records.get(record) else { return };
    for field in fields.fields.values() {
        let path = if prefix.is_empty() { field.name.clone() } else { format!("{prefix}.{}", field.name) };
        out.push(path.clone());
        let mut ty = &field.ty;
        while let Type::List(element) = ty {
            ty = element;
        }
        if let Type::Record(inner) = ty {
            // Depth is bounded by the nesting limit of the rule file.
            paths(schema, *inner, &path, out);
        }
    }
}
