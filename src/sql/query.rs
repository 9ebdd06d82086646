//! The query: the table's rows checked as the decoder checks a profile,
//! the definitions and shared operands hoisted into layers, every rule and
//! requirement as a truth code, and the streams each row keeps, capped and
//! in priority order.
//!
//! ```text
//! SELECT id, solicitations, issues, rejected         -- names, capped
//! FROM (SELECT id, rejected, k0, k1, ...              -- stream kept: 0 or 1
//!       FROM (SELECT id, rejected, r0, ..., q0, ...   -- rules, requirements
//!             FROM (SELECT p.*, narval_def_0, ...      -- layer n
//!                   FROM (... table AS p) AS p) AS p) AS r) AS k
//! ```

use std::fmt::Write as _;

use crate::ir::{CheckedRules, StreamKind, Type};
use crate::sql::dialect::Dialect;
use crate::sql::expr::{date_bound, Refusal, Writer};
use crate::value::Date;

/// How the query reads its table.
#[derive(Clone, Debug)]
pub(crate) struct Target<'a> {
    /// The table of profiles.
    pub table: &'a str,
    /// The column that identifies a profile.
    pub id: &'a str,
}

/// The query for a rule set.
pub(crate) fn query(
    rules: &CheckedRules,
    dialect: Dialect,
    today: Option<Date>,
    target: &Target<'_>,
) -> Result<String, Vec<Refusal>> {
    let d = dialect;
    let mut w = Writer::new(rules, d, today);
    // Every refusal is reported, not only the first.
    let mut refusals = Vec::new();
    let mut truths = |w: &mut Writer<'_>, condition| match w.truth(condition) {
        Ok(frag) => frag,
        Err(refusal) => {
            refusals.push(refusal);
            crate::sql::expr::Frag { sql: String::new(), level: 0 }
        }
    };
    let rule_truths: Vec<_> = rules.rules.iter().map(|rule| truths(&mut w, &rule.condition)).collect();
    let requirement_truths: Vec<_> =
        rules.requirements.iter().map(|requirement| truths(&mut w, &requirement.condition)).collect();
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let rejected = rejection(&w, target);

    // The table, then each layer of hoisted columns over the one before.
    let mut rows = format!("{} AS p", d.table(target.table));
    for layer in &w.layers {
        let columns: String = layer.iter().map(|(name, sql)| format!(", {sql} AS {}", d.ident(name))).collect();
        rows = format!("(SELECT p.*{columns} FROM {rows}) AS p");
    }

    // Rules and requirements as truth codes.
    let mut select = format!("SELECT {} AS id, {rejected} AS rejected", w.column(target.id));
    for (i, t) in rule_truths.iter().enumerate() {
        let _ = write!(select, ", {} AS r{i}", t.sql);
    }
    for (i, t) in requirement_truths.iter().enumerate() {
        let _ = write!(select, ", {} AS q{i}", t.sql);
    }
    let truths = format!("{select} FROM {rows}");

    // Whether each stream is kept: assigned by a rule that is true,
    // suppressed by none that is true or unknown, its requirements true.
    let mut kept = String::from("SELECT id, rejected");
    for (s, _) in rules.streams.iter().enumerate() {
        let assigned: Vec<String> = rules
            .rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.assigns.contains(&s))
            .map(|(i, _)| format!("r{i} = 2"))
            .collect();
        let mut condition =
            if assigned.is_empty() { "1 = 0".to_owned() } else { format!("({})", assigned.join(" OR ")) };
        for (i, rule) in rules.rules.iter().enumerate() {
            if rule.suppresses.contains(&s) {
                let _ = write!(condition, " AND r{i} = 0");
            }
        }
        for (i, requirement) in rules.requirements.iter().enumerate() {
            if requirement.streams.contains(&s) {
                let _ = write!(condition, " AND q{i} = 2");
            }
        }
        let _ = write!(kept, ", CASE WHEN {condition} THEN 1 ELSE 0 END AS k{s}");
    }
    let kept = format!("{kept} FROM ({truths}) AS r");

    // Each kind's names, the highest priorities first, as many as its cap.
    let names = |kind: StreamKind| -> String {
        let cap = rules.caps.iter().find(|c| c.kind == kind).map(|c| c.most);
        let streams: Vec<usize> =
            rules.streams.iter().enumerate().filter(|(_, s)| s.kind == kind).map(|(i, _)| i).collect();
        if streams.is_empty() || cap == Some(0) {
            return d.no_names().to_owned();
        }
        let items: Vec<String> = streams
            .iter()
            .enumerate()
            .map(|(position, &s)| {
                let name = rules.streams.get(s).map_or("", |stream| stream.name.as_str());
                let within = match cap {
                    Some(most) if position >= most => {
                        let before: Vec<String> = streams.iter().take(position + 1).map(|t| format!("k{t}")).collect();
                        format!(" AND {} <= {most}", before.join(" + "))
                    }
                    _ => String::new(),
                };
                format!("CASE WHEN k{s} = 1{within} THEN {} END", d.string(name))
            })
            .collect();
        d.names(&items)
    };
    Ok(format!(
        "SELECT id, CASE WHEN rejected IS NULL THEN {} END AS solicitations, CASE WHEN rejected IS NULL THEN {} END AS issues, rejected\nFROM ({kept}) AS k",
        names(StreamKind::Solicitation),
        names(StreamKind::Issue),
    ))
}

/// Why a row is not a profile narval would read, as the decoder says it
/// (without the positions in lists), or NULL: a field the rules read that
/// is NULL without being optional, a list with a NULL element, a text that
/// is not a member of its enum, a date outside the years 1 to 9999, a
/// number that is not finite. Fields no rule reads are not checked, as the
/// decoder skips them.
fn rejection(w: &Writer<'_>, target: &Target<'_>) -> String {
    let d = w.dialect;
    let mut arms = Vec::new();
    arms.push((
        format!("{} IS NULL", w.column(target.id)),
        format!("no `{}` field to identify the profile", target.id),
    ));
    let reads = w.rules.profile_reads();
    if let Some(root) = w.rules.schema.root() {
        for (slot, (name, field)) in root.fields.iter().enumerate() {
            if reads.get(slot) == Some(&true) {
                checks(w, &w.column(name), name, &field.ty, field.optional, 0, &mut arms);
            }
        }
    }
    let mut sql = String::from("CASE");
    for (condition, message) in &arms {
        let _ = write!(sql, " WHEN {condition} THEN {}", d.string(message));
    }
    sql.push_str(" END");
    sql
}

/// The checks of one value at `path` (as the decoder's messages write it).
fn checks(
    w: &Writer<'_>,
    sql: &str,
    path: &str,
    ty: &Type,
    optional: bool,
    depth: usize,
    arms: &mut Vec<(String, String)>,
) {
    let d = w.dialect;
    if !optional {
        arms.push((
            format!("{sql} IS NULL"),
            format!("field `{path}` is missing or null, but the schema does not mark it optional"),
        ));
    }
    match ty {
        Type::Enum(id) => {
            let members = w.rules.schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or_default();
            let listed: Vec<String> = members.iter().map(|m| d.string(m)).collect();
            if !listed.is_empty() {
                arms.push((
                    format!("{sql} NOT IN ({})", listed.join(", ")),
                    format!("field `{path}` is not one of {}", members.join(", ")),
                ));
            }
        }
        Type::Date => {
            let outside = match d {
                Dialect::Snowflake => {
                    format!("{} NOT BETWEEN {} AND {}", d.days(sql), date_bound(false), date_bound(true))
                }
                _ => format!("{sql} NOT BETWEEN DATE '0001-01-01' AND DATE '9999-12-31'"),
            };
            arms.push((outside, format!("field `{path}` is not a calendar date in the form YYYY-MM-DD")));
        }
        Type::Number => {
            arms.push((
                format!("NOT ({})", d.finite(sql)),
                format!("field `{path}` is not within the range of a double"),
            ));
        }
        Type::Record(record) => {
            if let Some(fields) = w.rules.schema.records.get(*record) {
                for (name, field) in &fields.fields {
                    let mut nested = Vec::new();
                    let inner = d.member(sql, name);
                    checks(w, &inner, &format!("{path}.{name}"), &field.ty, field.optional, depth + 1, &mut nested);
                    // A record that may be missing hides its fields' checks
                    // (`NOT (r IS NULL)`: PostgreSQL's `r IS NOT NULL` is
                    // false for a record with one NULL field). One that may
                    // not has been found NULL by an arm before these.
                    for (condition, message) in nested {
                        let condition =
                            if optional { format!("NOT ({sql} IS NULL) AND {condition}") } else { condition };
                        arms.push((condition, message));
                    }
                }
            }
        }
        Type::List(element) => {
            let alias = format!("c{depth}");
            let mut nested = Vec::new();
            checks(w, &alias, &format!("{path}[]"), element, false, depth + 1, &mut nested);
            let failing: Vec<String> = nested.iter().map(|(c, _)| format!("({c})")).collect();
            if !failing.is_empty() {
                let any = failing.join(" OR ");
                let condition = match d.unnest(sql, &alias) {
                    Some(rows) => format!("EXISTS (SELECT 1 FROM {rows} WHERE {any})"),
                    None if d == Dialect::DuckDb => {
                        format!("COALESCE(list_bool_or(list_transform({sql}, lambda {alias}: {any})), FALSE)")
                    }
                    None => format!("{} > 0", d.size(&d.filter(sql, &alias, &format!("COALESCE({any}, FALSE)")))),
                };
                arms.push((condition, format!("field `{path}` holds an element the schema does not accept")));
            }
        }
        _ => {}
    }
}
