//! The SQL back end: the checked rule set as one query over a table of
//! profiles, for DuckDB, PostgreSQL, Spark, BigQuery and Snowflake, giving
//! the answers `narval assign` gives (docs/SQL.md). It reads the checked IR
//! only, as evaluation does, beside it: one writer of expressions
//! ([`expr`]), one of the query around them ([`query`](mod@query)), one of the table
//! ([`table`]), and what differs between engines in [`dialect`].

pub(crate) mod dialect;
pub(crate) mod expr;
pub(crate) mod query;
pub(crate) mod table;

pub use dialect::Dialect;

use crate::ir::CheckedRules;
use crate::text::diagnostic::{Code, Diagnostic};
use crate::value::Date;

/// The query that gives each row of `table` (identified by its column `id`)
/// its streams: columns `id`, `solicitations`, `issues` (lists of stream
/// names in priority order) and `rejected` (NULL, or why narval would not
/// read the row as a profile; the lists are then NULL). What the dialect
/// cannot express is an error located where the rules say it (E0501).
pub(crate) fn query(
    rules: &CheckedRules,
    dialect: Dialect,
    today: Option<Date>,
    table: &str,
    id: &str,
) -> Result<String, Vec<Diagnostic>> {
    query::query(rules, dialect, today, &query::Target { table, id }).map_err(|refusals| {
        refusals
            .into_iter()
            .map(|refusal| {
                Diagnostic::new(Code::NotInSql, refusal.span, refusal.message)
                    .with_label(format!("not written for {}", dialect.name()))
                    .with_help("narval assign evaluates it; the SQL back end refuses rather than answer otherwise")
            })
            .collect()
    })
}

/// `CREATE TABLE` for the profiles (and the types it needs).
pub(crate) fn ddl(rules: &CheckedRules, dialect: Dialect, table: &str, id: &str) -> Result<String, Diagnostic> {
    table::ddl(&rules.schema, dialect, table, id).map_err(|message| Diagnostic::unlocated(Code::NotInSql, message))
}
