//! The table of profiles in each dialect: its `CREATE TABLE`, derived from
//! the schema, and `INSERT` statements for profiles narval's decoder read.
//!
//! Money is held as whole cents in a 64-bit integer (exact, and what narval
//! computes with); a date as a `DATE`; an enum as its member's text; a
//! record as a `STRUCT` (a composite type in PostgreSQL, an `OBJECT` in
//! Snowflake); a list as an array. The profile's id is a text column `id`
//! unless the schema declares the field itself.

use std::fmt::Write as _;

use crate::decode::{Profile, Value};
use crate::ir::{RecordId, Schema, Type};
use crate::sql::dialect::Dialect;
use crate::sql::expr::integer;

/// The column type of a schema type; `None` where the dialect cannot hold it.
fn column_type(schema: &Schema, d: Dialect, table: &str, ty: &Type) -> Result<String, String> {
    Ok(match ty {
        Type::Bool => "BOOLEAN".to_owned(),
        Type::Int | Type::Money | Type::Days => d.bigint().to_owned(),
        Type::Number => d.double().to_owned(),
        Type::String | Type::Enum(_) => d.text().to_owned(),
        Type::Date => "DATE".to_owned(),
        Type::List(element) => {
            if d == Dialect::BigQuery && matches!(**element, Type::List(_)) {
                return Err("BigQuery holds no list of lists".to_owned());
            }
            let inner = column_type(schema, d, table, element)?;
            match d {
                Dialect::DuckDb | Dialect::Postgres => format!("{inner}[]"),
                Dialect::Spark | Dialect::BigQuery => format!("ARRAY<{inner}>"),
                Dialect::Snowflake => "ARRAY".to_owned(),
            }
        }
        Type::Record(record) => match d {
            Dialect::Postgres => d.ident(&composite(table, *record)),
            Dialect::Snowflake => "OBJECT".to_owned(),
            _ => {
                let fields =
                    schema.records.get(*record).map(|r| r.fields.iter().collect::<Vec<_>>()).unwrap_or_default();
                let mut parts = Vec::new();
                for (name, field) in fields {
                    let inner = column_type(schema, d, table, &field.ty)?;
                    parts.push(match d {
                        Dialect::Spark => format!("{}: {inner}", d.ident(name)),
                        _ => format!("{} {inner}", d.ident(name)),
                    });
                }
                match d {
                    Dialect::DuckDb => format!("STRUCT({})", parts.join(", ")),
                    _ => format!("STRUCT<{}>", parts.join(", ")),
                }
            }
        },
    })
}

/// The name of the PostgreSQL composite type of a record.
fn composite(table: &str, record: RecordId) -> String {
    format!("{}_record_{record}", table.rsplit('.').next().unwrap_or(table))
}

/// The records a type holds, innermost first.
fn records_in(schema: &Schema, ty: &Type, out: &mut Vec<RecordId>) {
    match ty {
        Type::List(element) => records_in(schema, element, out),
        Type::Record(record) => {
            if let Some(fields) = schema.records.get(*record) {
                for field in fields.fields.values() {
                    records_in(schema, &field.ty, out);
                }
            }
            if !out.contains(record) {
                out.push(*record);
            }
        }
        _ => {}
    }
}

/// `CREATE TABLE` (and, for PostgreSQL, the composite types first).
pub(crate) fn ddl(schema: &Schema, d: Dialect, table: &str, id: &str) -> Result<String, String> {
    let mut out = String::new();
    let root = schema.root().map(|r| r.fields.iter().collect::<Vec<_>>()).unwrap_or_default();
    if d == Dialect::Postgres {
        let mut records = Vec::new();
        for (_, field) in &root {
            records_in(schema, &field.ty, &mut records);
        }
        for record in records {
            let fields = schema.records.get(record).map(|r| r.fields.iter().collect::<Vec<_>>()).unwrap_or_default();
            let mut parts = Vec::new();
            for (name, field) in fields {
                parts.push(format!("{} {}", d.ident(name), column_type(schema, d, table, &field.ty)?));
            }
            let schema_prefix = table.rsplit_once('.').map(|(s, _)| format!("{}.", d.table(s))).unwrap_or_default();
            let _ = writeln!(
                out,
                "CREATE TYPE {schema_prefix}{} AS ({});",
                d.ident(&composite(table, record)),
                parts.join(", ")
            );
        }
    }
    let mut columns = Vec::new();
    if !root.iter().any(|(name, _)| name.as_str() == id) {
        columns.push(format!("  {} {}", d.ident(id), d.text()));
    }
    for (name, field) in &root {
        columns.push(format!("  {} {}", d.ident(name), column_type(schema, d, table, &field.ty)?));
    }
    let _ = writeln!(out, "CREATE TABLE {} (\n{}\n);", d.table(table), columns.join(",\n"));
    Ok(out)
}

/// One profile's row as a parenthesised list of SQL literals, the id first
/// unless the schema holds it.
pub(crate) fn row(
    schema: &Schema,
    d: Dialect,
    table: &str,
    (id_field, id_column, raw_id): (&str, bool, &str),
    profile: &Profile,
) -> String {
    let mut values = Vec::new();
    if id_column {
        values.push(d.string(&id_text(raw_id)));
    }
    if let Some(root) = schema.root() {
        for ((name, field), value) in root.fields.iter().zip(profile.fields()) {
            // The id as written, when the schema declares it but no rule
            // reads it (the decoder then skips it).
            let written = match (&field.ty, value) {
                (_, Value::Missing) if !id_column && name == id_field => match field.ty {
                    Type::Int => raw_id.parse::<i64>().ok().map(|i| integer(i, d)),
                    Type::String => Some(d.string(&id_text(raw_id))),
                    _ => None,
                },
                _ => None,
            };
            values.push(written.unwrap_or_else(|| literal(schema, d, table, &field.ty, value, profile)));
        }
    }
    format!("({})", values.join(", "))
}

/// The text of a JSON id: a string's contents, any other value as written.
pub(crate) fn id_text(raw: &str) -> String {
    if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_owned())
    } else {
        raw.to_owned()
    }
}

fn literal(schema: &Schema, d: Dialect, table: &str, ty: &Type, value: &Value, profile: &Profile) -> String {
    match (ty, value) {
        (_, Value::Missing) => match (d, ty) {
            (Dialect::Postgres, Type::Record(_) | Type::List(_)) => {
                format!("CAST(NULL AS {})", column_type(schema, d, table, ty).unwrap_or_default())
            }
            _ => "NULL".to_owned(),
        },
        (_, Value::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        (_, Value::Int(i) | Value::Money(i)) => integer(*i, d),
        (_, Value::Number(n)) => d.number(*n),
        (_, Value::String(s)) => d.string(profile.text(*s)),
        (_, Value::Date(date)) => format!("DATE '{date}'"),
        (Type::Enum(id), Value::Enum(member)) => {
            let name = schema.enums.get(*id).and_then(|e| e.members.get(*member as usize));
            d.string(name.map_or("", String::as_str))
        }
        (Type::List(element), Value::List(items)) => {
            let items: Vec<String> =
                profile.items(*items).iter().map(|item| literal(schema, d, table, element, item, profile)).collect();
            match d {
                Dialect::Postgres => {
                    format!(
                        "CAST(ARRAY[{}] AS {})",
                        items.join(", "),
                        column_type(schema, d, table, ty).unwrap_or_default()
                    )
                }
                Dialect::Spark => format!("ARRAY({})", items.join(", ")),
                Dialect::Snowflake => format!("ARRAY_CONSTRUCT({})", items.join(", ")),
                _ => format!("[{}]", items.join(", ")),
            }
        }
        (Type::Record(record), Value::Record(fields)) => {
            let names = schema.records.get(*record).map(|r| r.fields.iter().collect::<Vec<_>>()).unwrap_or_default();
            let parts: Vec<(String, String)> = names
                .iter()
                .zip(profile.items(*fields))
                .map(|((name, field), v)| ((*name).clone(), literal(schema, d, table, &field.ty, v, profile)))
                .collect();
            match d {
                Dialect::Postgres => format!(
                    "ROW({})::{}",
                    parts.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>().join(", "),
                    d.ident(&composite(table, *record))
                ),
                Dialect::DuckDb => format!(
                    "{{{}}}",
                    parts.iter().map(|(n, v)| format!("{}: {v}", d.string(n))).collect::<Vec<_>>().join(", ")
                ),
                Dialect::Snowflake => format!(
                    "OBJECT_CONSTRUCT({})",
                    parts.iter().map(|(n, v)| format!("{}, {v}", d.string(n))).collect::<Vec<_>>().join(", ")
                ),
                _ => format!(
                    "STRUCT({})",
                    parts.iter().map(|(n, v)| format!("{v} AS {}", d.ident(n))).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        _ => "NULL".to_owned(),
    }
}
