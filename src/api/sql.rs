//! The facade of the SQL back end: the rule set as a query, its table, and
//! the statements that load profiles into it (`narval sql`).

use std::io::{BufRead, Write};

use crate::api::RuleSet;
use crate::decode::{self, Profile};
use crate::eval::batch::{read_line, skip_bom, AssignOptions, BatchError, Line, LineError, Rejection, Summary};
use crate::sql::{self, table, Dialect};
use crate::text::report::Report;

/// Rows written to one `INSERT` statement by [`RuleSet::sql_load`].
const ROWS_PER_INSERT: usize = 500;

impl RuleSet {
    /// The query that gives every row of `table` its streams in `dialect`,
    /// as `narval assign` gives them to the same profiles: columns `id`,
    /// `solicitations`, `issues` (lists of stream names in priority order)
    /// and `rejected` (NULL, or why narval would not read the row as a
    /// profile: the lists are then NULL). `id` names the column that
    /// identifies a profile. A rule set that reads `today` takes the date
    /// given to [`crate::Builder::today`]. What the dialect cannot express
    /// is a located error (E0501), never SQL that answers otherwise.
    pub fn sql(&self, dialect: Dialect, table: &str, id: &str) -> Result<String, Report> {
        sql::query(&self.checked, dialect, self.today, table, id)
            .map_err(|diagnostics| Report::new(self.report.sources().clone(), diagnostics))
    }

    /// `CREATE TABLE` for `table` in `dialect`, derived from the schema
    /// (PostgreSQL's composite types first): money as whole cents in a
    /// 64-bit integer, enums as text, records as structs, lists as arrays,
    /// and a text column `id` unless the schema declares it.
    pub fn sql_table(&self, dialect: Dialect, table: &str, id: &str) -> Result<String, Report> {
        sql::ddl(&self.checked, dialect, table, id)
            .map_err(|diagnostic| Report::new(self.report.sources().clone(), vec![diagnostic]))
    }

    /// `INSERT` statements that load the NDJSON profiles of `input` into
    /// `table`, written to `output`: each line read by narval's decoder as
    /// `narval assign` reads it, so the table holds exactly the profiles
    /// and values this rule set reads. Fields no rule reads are not read
    /// (NULL in the table), and a line malformed only there is loaded, as
    /// `assign` assigns it. A line the decoder rejects goes to
    /// `rejections` and not into the table; the summary counts both.
    pub fn sql_load(
        &self,
        dialect: Dialect,
        table: &str,
        id: &str,
        input: impl BufRead,
        mut output: impl Write,
        mut rejections: impl FnMut(&Rejection<'_>),
    ) -> Result<Summary, BatchError> {
        let schema = &self.checked.schema;
        let reads = &self.reads;
        let id_column = !schema.root().is_some_and(|root| root.fields.contains_key(id));
        let mut columns: Vec<String> = Vec::new();
        if id_column {
            columns.push(dialect.ident(id));
        }
        if let Some(root) = schema.root() {
            columns.extend(root.fields.keys().map(|name| dialect.ident(name)));
        }
        let head = format!("INSERT INTO {} ({}) VALUES\n", dialect.table(table), columns.join(", "));
        let mut summary = Summary { read: 0, assigned: 0, rejected: 0, stopped: false };
        let mut buffer = Vec::new();
        let mut rows: Vec<String> = Vec::new();
        let mut profile = Profile::default();
        let write = |rows: &mut Vec<String>, output: &mut dyn Write| -> Result<(), BatchError> {
            if rows.is_empty() {
                return Ok(());
            }
            let statement = format!("{head}{};\n", rows.join(",\n"));
            rows.clear();
            output.write_all(statement.as_bytes()).map_err(BatchError::Write)
        };
        let mut input = skip_bom(input).map_err(BatchError::Start)?;
        let mut number = 0;
        let mut reject = |summary: &mut Summary, number: usize, error: decode::ProfileError| {
            summary.rejected += 1;
            rejections(&Rejection { line: number, error: LineError::Profile(error), text: None });
        };
        loop {
            buffer.clear();
            let line = read_line(&mut *input, &mut buffer, AssignOptions::MAX_LINE_BYTES)
                .map_err(|error| BatchError::Read { line: number + 1, error })?;
            number += 1;
            match line {
                Line::End => break,
                Line::TooLong => {
                    summary.read += 1;
                    reject(&mut summary, number, decode::ProfileError::TooLong);
                }
                Line::Read => {
                    summary.read += 1;
                    let text = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
                    match decode::decode_bytes_into(schema, reads, text, Some(id), &mut profile) {
                        Ok(Some(raw)) => {
                            rows.push(table::row(schema, dialect, table, (id, id_column, raw), &profile));
                            summary.assigned += 1;
                            if rows.len() == ROWS_PER_INSERT {
                                write(&mut rows, &mut output)?;
                            }
                        }
                        Ok(None) => {
                            reject(&mut summary, number, decode::ProfileError::MissingId { field: id.to_owned() })
                        }
                        Err(error) => reject(&mut summary, number, error),
                    }
                }
            }
        }
        write(&mut rows, &mut output)?;
        output.flush().map_err(BatchError::Write)?;
        Ok(summary)
    }
}
