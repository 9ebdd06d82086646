//! The SQL back end without an engine: the text each dialect gets for the
//! campaign rules (golden files in `tests/sql/golden/`, rewritten with
//! `NARVAL_BLESS=1 cargo test --test sql` after a deliberate change: review
//! the diff), what is refused and where, the table and the load
//! statements. `.ci/run` runs the same texts live on DuckDB and PostgreSQL
//! (`tests/sql/live.py`) and parses every dialect's with sqlglot.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;

use narval::{Date, Dialect, RuleSet};

const GOLDEN: &str = "tests/sql/golden";

fn campaign() -> RuleSet {
    RuleSet::builder()
        .file("examples/campaign-2012/campaign.narval")
        .today(Date::from_ymd(2012, 10, 1).unwrap())
        .build()
        .map_err(|r| r.render())
        .unwrap()
}

/// Compares `text` with the golden file `name`, or writes it when blessing.
fn golden(name: &str, text: &str) -> Option<String> {
    let path = Path::new(GOLDEN).join(name);
    if std::env::var_os("NARVAL_BLESS").is_some() {
        std::fs::create_dir_all(GOLDEN).unwrap();
        std::fs::write(&path, text).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    (expected != text).then(|| format!("--- {}\n{expected}\n+++ actual\n{text}", path.display()))
}

#[test]
fn every_dialect_gets_the_text_of_its_golden_file() {
    let rules = campaign();
    let mut failures = Vec::new();
    for dialect in Dialect::ALL {
        let text = match rules.sql(dialect, "profiles", "id") {
            Ok(query) => query,
            Err(report) => report.render(),
        };
        failures.extend(golden(&format!("campaign.{}.sql", dialect.name()), &text));
        let table = rules.sql_table(dialect, "profiles", "id").map_err(|r| r.render()).unwrap();
        failures.extend(golden(&format!("campaign.{}.ddl.sql", dialect.name()), &table));
    }
    assert!(failures.is_empty(), "{} golden file(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn what_a_dialect_cannot_write_is_a_located_error() {
    let rules = RuleSet::builder().file("tests/sql/refused.narval").build().map_err(|r| r.render()).unwrap();
    let mut failures = Vec::new();
    for dialect in Dialect::ALL {
        let report = rules.sql(dialect, "profiles", "id").unwrap_err();
        let codes: Vec<&str> = report.diagnostics().iter().map(|d| d.code.as_str()).collect();
        let expected = if dialect == Dialect::BigQuery { 2 } else { 1 };
        assert_eq!(codes, vec!["E0501"; expected], "{}", dialect.name());
        let located = report.located();
        let location = located[0].location.as_ref().expect("the refusal points into the rules");
        assert!(location.file.ends_with("refused.narval"), "{location:?}");
        failures.extend(golden(&format!("refused.{}.stderr", dialect.name()), &report.render()));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_rule_set_that_reads_today_is_written_with_its_date() {
    let query = campaign().sql(Dialect::DuckDb, "profiles", "id").unwrap();
    // `last_contact >= today - 7 days`, folded on 2012-10-01.
    assert!(query.contains("\"last_contact\" >= DATE '2012-09-24'"), "{query}");
    let later = RuleSet::builder()
        .file("examples/campaign-2012/campaign.narval")
        .today(Date::from_ymd(2012, 11, 6).unwrap())
        .build()
        .map_err(|r| r.render())
        .unwrap();
    let query = later.sql(Dialect::DuckDb, "profiles", "id").unwrap();
    assert!(query.contains("\"last_contact\" >= DATE '2012-10-30'"), "{query}");
}

#[test]
fn the_table_holds_money_as_cents_and_records_as_structs() {
    let rules = campaign();
    let duckdb = rules.sql_table(Dialect::DuckDb, "analytics.profiles", "id").unwrap();
    assert!(duckdb.starts_with("CREATE TABLE \"analytics\".\"profiles\" (\n  \"id\" BIGINT,"), "{duckdb}");
    assert!(
        duckdb.contains("\"donations\" STRUCT(\"amount\" BIGINT, \"context\" VARCHAR, \"date\" DATE)[]"),
        "{duckdb}"
    );
    let postgres = rules.sql_table(Dialect::Postgres, "profiles", "id").unwrap();
    assert!(postgres.contains("CREATE TYPE \"profiles_record_"), "{postgres}");
    assert!(postgres.find("CREATE TYPE") < postgres.find("CREATE TABLE"), "{postgres}");
}

#[test]
fn loading_reads_each_line_as_assign_does_and_reports_the_rest() {
    let rules = campaign();
    let good = std::fs::read_to_string("examples/campaign-2012/profiles.ndjson").unwrap();
    let first = good.lines().next().unwrap();
    let input = format!("{first}\n{{\"id\": 2, \"age\": \"forty\"}}\nnot json\n{first}\n");
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let summary = rules
        .sql_load(Dialect::DuckDb, "profiles", "id", input.as_bytes(), &mut out, |r| rejected.push(r.line))
        .unwrap();
    assert_eq!((summary.read, summary.assigned, summary.rejected), (4, 2, 2));
    assert_eq!(rejected, [2, 3]);
    let out = String::from_utf8(out).unwrap();
    assert_eq!(out.matches("INSERT INTO \"profiles\"").count(), 1, "{out}");
    // $250 and $25.99 as cents, the date as a date.
    assert!(out.contains("{'amount': 25000, 'context': 'debate', 'date': DATE '2012-05-22'}"), "{out}");
    assert!(out.contains("{'amount': 2599,"), "{out}");
}
