//! What differs between the SQL engines narval writes for: quoting, types,
//! and the few functions with no common spelling. Everything else is one
//! text for every dialect, written by [`crate::sql::expr`].

use std::fmt::Write as _;

/// A SQL engine narval can write a query for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// DuckDB.
    DuckDb,
    /// PostgreSQL, 12 or later.
    Postgres,
    /// Spark SQL (Databricks), 3.4 or later.
    Spark,
    /// Google BigQuery (GoogleSQL).
    BigQuery,
    /// Snowflake.
    Snowflake,
}

impl Dialect {
    /// Every dialect, in the order the documentation lists them.
    pub const ALL: [Dialect; 5] =
        [Dialect::DuckDb, Dialect::Postgres, Dialect::Spark, Dialect::BigQuery, Dialect::Snowflake];

    /// The dialect of a name as `--dialect` takes it: `duckdb`, `postgres`,
    /// `spark`, `bigquery`, `snowflake`.
    pub fn from_name(name: &str) -> Option<Dialect> {
        Dialect::ALL.into_iter().find(|d| d.name() == name)
    }

    /// The name `--dialect` takes.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::Spark => "spark",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
        }
    }

    /// A quoted identifier.
    pub(crate) fn ident(self, name: &str) -> String {
        match self {
            Dialect::Spark | Dialect::BigQuery => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// A table name as given: each dot-separated part quoted, so that
    /// `analytics.profiles` names a table in a schema.
    pub(crate) fn table(self, name: &str) -> String {
        name.split('.').map(|part| self.ident(part)).collect::<Vec<_>>().join(".")
    }

    /// A string literal.
    pub(crate) fn string(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('\'');
        for c in text.chars() {
            match c {
                '\'' => out.push_str("''"),
                // Spark and BigQuery read backslash escapes in literals.
                '\\' if matches!(self, Dialect::Spark | Dialect::BigQuery) => out.push_str("\\\\"),
                '\n' if self == Dialect::BigQuery => out.push_str("\\n"),
                '\r' if self == Dialect::BigQuery => out.push_str("\\r"),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    }

    /// A `double` literal that reads back as exactly `n` (finite).
    pub(crate) fn number(self, n: f64) -> String {
        format!("CAST('{n:?}' AS {})", self.double())
    }

    /// The 64-bit floating point type.
    pub(crate) fn double(self) -> &'static str {
        match self {
            Dialect::Postgres => "DOUBLE PRECISION",
            Dialect::BigQuery => "FLOAT64",
            Dialect::Snowflake => "FLOAT",
            _ => "DOUBLE",
        }
    }

    /// The 64-bit integer type.
    pub(crate) fn bigint(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    /// An integer type wide enough for the product of two 64-bit integers,
    /// in which sums and products are checked against the 64-bit range.
    pub(crate) fn wide(self) -> &'static str {
        match self {
            Dialect::DuckDb => "HUGEINT",
            Dialect::Postgres => "NUMERIC",
            Dialect::Spark => "DECIMAL(38, 0)",
            Dialect::BigQuery => "BIGNUMERIC",
            Dialect::Snowflake => "NUMBER(38, 0)",
        }
    }

    /// The text type.
    pub(crate) fn text(self) -> &'static str {
        match self {
            Dialect::Postgres => "TEXT",
            Dialect::Spark | Dialect::BigQuery => "STRING",
            _ => "VARCHAR",
        }
    }

    /// A wide integer, the 64-bit integer it is when it fits, else NULL,
    /// with `wide` written once.
    pub(crate) fn narrow(self, wide: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Spark => format!("TRY_CAST({wide} AS BIGINT)"),
            Dialect::BigQuery => format!("SAFE_CAST({wide} AS INT64)"),
            // Clamped one past each end, and the two sentinels made NULL.
            Dialect::Postgres | Dialect::Snowflake => format!(
                "CAST(NULLIF(NULLIF(GREATEST(LEAST({wide}, {hi}), {lo}), {hi}), {lo}) AS BIGINT)",
                hi = "9223372036854775808",
                lo = "-9223372036854775809",
            ),
        }
    }

    /// Integer division of two integers of the wide type, truncated
    /// towards zero; the divisor is not zero.
    pub(crate) fn quotient(self, x: &str, y: &str) -> String {
        match self {
            Dialect::DuckDb => format!("({x} // {y})"),
            Dialect::Postgres | Dialect::BigQuery => format!("DIV({x}, {y})"),
            // Spark's `DIV` gives a 64-bit result, and a decimal quotient
            // is rounded to its scale: the remainder is taken off first, so
            // the division is exact.
            Dialect::Spark => format!("CAST((({x}) - MOD({x}, {y})) / ({y}) AS DECIMAL(38, 0))"),
            Dialect::Snowflake => format!("CAST((({x}) - MOD({x}, {y})) / ({y}) AS NUMBER(38, 0))"),
        }
    }

    /// The truth code (0 false, 1 unknown, 2 true) of a SQL predicate,
    /// whose NULL is unknown.
    pub(crate) fn truth_of(self, predicate: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("COALESCE(CAST(({predicate}) AS INTEGER) * 2, 1)"),
            // Not `IF(p, 2, 0)`: its NULL condition takes the false branch.
            Dialect::Spark | Dialect::BigQuery | Dialect::Snowflake => {
                format!("(CASE ({predicate}) WHEN TRUE THEN 2 WHEN FALSE THEN 0 ELSE 1 END)")
            }
        }
    }

    /// The truth code (0 false, 2 true) of a SQL predicate that is never
    /// NULL.
    pub(crate) fn truth_known(self, predicate: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("(CAST(({predicate}) AS INTEGER) * 2)"),
            _ => format!("(CASE WHEN {predicate} THEN 2 ELSE 0 END)"),
        }
    }

    /// A string value for ordering by UTF-8 bytes (code points): where the
    /// engine's default collation may order otherwise.
    pub(crate) fn bytewise(self, text: String) -> String {
        match self {
            Dialect::Postgres => format!("({text} COLLATE \"C\")"),
            _ => text,
        }
    }

    /// A date column as its number of days since 1970-01-01.
    pub(crate) fn days(self, date: &str) -> String {
        match self {
            Dialect::DuckDb | Dialect::Postgres => format!("({date} - DATE '1970-01-01')"),
            Dialect::Spark => format!("DATEDIFF({date}, DATE '1970-01-01')"),
            Dialect::BigQuery => format!("UNIX_DATE({date})"),
            Dialect::Snowflake => format!("DATEDIFF(day, DATE '1970-01-01', {date})"),
        }
    }

    /// A string test.
    pub(crate) fn text_test(self, op: crate::ir::TextOp, text: &str, pattern: &str) -> String {
        use crate::ir::TextOp;
        match (op, self) {
            (TextOp::Contains, Dialect::DuckDb) => format!("contains({text}, {pattern})"),
            (TextOp::Contains, Dialect::Snowflake) => format!("CONTAINS({text}, {pattern})"),
            (TextOp::Contains, Dialect::Spark) => format!("(INSTR({text}, {pattern}) > 0)"),
            (TextOp::Contains, _) => format!("(STRPOS({text}, {pattern}) > 0)"),
            (TextOp::StartsWith, Dialect::Spark) => format!("startswith({text}, {pattern})"),
            (TextOp::StartsWith, Dialect::Snowflake) => format!("STARTSWITH({text}, {pattern})"),
            (TextOp::StartsWith, _) => format!("starts_with({text}, {pattern})"),
            (TextOp::EndsWith, Dialect::DuckDb) => format!("ends_with({text}, {pattern})"),
            (TextOp::EndsWith, Dialect::Spark) => format!("endswith({text}, {pattern})"),
            (TextOp::EndsWith, Dialect::Snowflake) => format!("ENDSWITH({text}, {pattern})"),
            (TextOp::EndsWith, Dialect::BigQuery) => format!("ENDS_WITH({text}, {pattern})"),
            // Suffixes compare by characters, which for UTF-8 is by bytes.
            (TextOp::EndsWith, Dialect::Postgres) => format!("(RIGHT({text}, LENGTH({pattern})) = {pattern})"),
        }
    }

    /// The first four bytes of the SHA-256 of a UTF-8 text, as a
    /// big-endian unsigned integer (a `BIGINT` below 2^32).
    pub(crate) fn hash32(self, text: &str) -> String {
        match self {
            // SHA-256 as hex text.
            Dialect::DuckDb => format!("CAST('0x' || SUBSTR(SHA256({text}), 1, 8) AS BIGINT)"),
            Dialect::Spark => format!("CAST(CONV(SUBSTR(SHA2({text}, 256), 1, 8), 16, 10) AS BIGINT)"),
            Dialect::Snowflake => format!("TO_NUMBER(SUBSTR(SHA2({text}, 256), 1, 8), 'XXXXXXXX')"),
            // SHA-256 as bytes.
            Dialect::Postgres => {
                let bytes = format!("SHA256(CONVERT_TO({text}, 'UTF8'))");
                let mut out = String::from("(");
                for (i, shift) in [24, 16, 8, 0].into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(" + ");
                    }
                    let _ = write!(out, "(CAST(GET_BYTE({bytes}, {i}) AS BIGINT) << {shift})");
                }
                out.push(')');
                out
            }
            Dialect::BigQuery => {
                format!("CAST(CONCAT('0x', TO_HEX(SUBSTR(SHA256({text}), 1, 4))) AS INT64)")
            }
        }
    }

    /// A list of texts from items that are each a text or NULL, the NULLs
    /// left out and the order kept; `items` is not empty.
    pub(crate) fn names(self, items: &[String]) -> String {
        let joined = items.join(", ");
        match self {
            Dialect::DuckDb => format!("list_filter([{joined}], lambda x: x IS NOT NULL)"),
            Dialect::Postgres => format!("ARRAY_REMOVE(ARRAY[{joined}]::TEXT[], NULL)"),
            Dialect::Spark => format!("FILTER(ARRAY({joined}), x -> x IS NOT NULL)"),
            Dialect::BigQuery => {
                format!("ARRAY(SELECT x FROM UNNEST([{joined}]) AS x WITH OFFSET AS o WHERE x IS NOT NULL ORDER BY o)")
            }
            Dialect::Snowflake => format!("ARRAY_COMPACT(ARRAY_CONSTRUCT({joined}))"),
        }
    }

    /// An empty list of texts.
    pub(crate) fn no_names(self) -> &'static str {
        match self {
            Dialect::DuckDb => "CAST([] AS VARCHAR[])",
            Dialect::Postgres => "ARRAY[]::TEXT[]",
            Dialect::Spark => "CAST(ARRAY() AS ARRAY<STRING>)",
            Dialect::BigQuery => "ARRAY<STRING>[]",
            Dialect::Snowflake => "ARRAY_CONSTRUCT()",
        }
    }

    /// The elements of a list column, one row each, as `alias` in a
    /// `FROM` clause, for a subquery; `None` where the dialect evaluates
    /// aggregates with higher-order functions instead (DuckDB, whose
    /// list functions are many times faster than a correlated `UNNEST`,
    /// Spark and Snowflake, which have no such subquery).
    pub(crate) fn unnest(self, list: &str, alias: &str) -> Option<String> {
        match self {
            Dialect::Postgres => Some(format!("UNNEST({list}) AS {alias}")),
            Dialect::BigQuery => Some(format!("UNNEST({list}) AS {alias}")),
            Dialect::DuckDb | Dialect::Spark | Dialect::Snowflake => None,
        }
    }

    /// A field of a record value.
    pub(crate) fn member(self, record: &str, field: &str) -> String {
        match self {
            Dialect::Snowflake => format!("{record}:{}", self.ident(field)),
            _ => format!("({record}).{}", self.ident(field)),
        }
    }

    /// Whether a `number` is finite, as a SQL predicate.
    pub(crate) fn finite(self, number: &str) -> String {
        match self {
            Dialect::DuckDb => format!("isfinite({number})"),
            Dialect::BigQuery => format!("NOT (IS_INF({number}) OR IS_NAN({number}))"),
            _ => format!(
                "({number} NOT IN (CAST('Infinity' AS {d}), CAST('-Infinity' AS {d}), CAST('NaN' AS {d})))",
                d = self.double()
            ),
        }
    }

    /// The number of elements of a list (Spark, Snowflake).
    pub(crate) fn size(self, list: &str) -> String {
        match self {
            Dialect::Snowflake => format!("ARRAY_SIZE({list})"),
            Dialect::DuckDb => format!("len({list})"),
            _ => format!("SIZE({list})"),
        }
    }

    /// The elements of a list for which `predicate` (over `var`) holds.
    pub(crate) fn filter(self, list: &str, var: &str, predicate: &str) -> String {
        match self {
            Dialect::DuckDb => format!("list_filter({list}, lambda {var}: {predicate})"),
            _ => format!("FILTER({list}, {var} -> {predicate})"),
        }
    }

    /// Each element of a list mapped by `body` (over `var`).
    pub(crate) fn transform(self, list: &str, var: &str, body: &str) -> String {
        match self {
            Dialect::DuckDb => format!("list_transform({list}, lambda {var}: {body})"),
            _ => format!("TRANSFORM({list}, {var} -> {body})"),
        }
    }

    /// A left fold of a list.
    pub(crate) fn fold(self, list: &str, zero: &str, acc: &str, var: &str, body: &str) -> String {
        match self {
            Dialect::Snowflake => format!("REDUCE({list}, {zero}, ({acc}, {var}) -> {body})"),
            Dialect::DuckDb => format!("list_reduce({list}, lambda {acc}, {var}: {body}, {zero})"),
            _ => format!("AGGREGATE({list}, {zero}, ({acc}, {var}) -> {body})"),
        }
    }

    /// The largest (or smallest) element of a list; NULL for none.
    pub(crate) fn array_extreme(self, list: &str, largest: bool) -> String {
        match self {
            Dialect::DuckDb => format!("{}({list})", if largest { "list_max" } else { "list_min" }),
            _ => format!("{}({list})", if largest { "ARRAY_MAX" } else { "ARRAY_MIN" }),
        }
    }

    /// A filter truth and a value paired, for the higher-order form.
    pub(crate) fn pair(self, t: &str, v: &str) -> String {
        match self {
            Dialect::Snowflake => format!("OBJECT_CONSTRUCT_KEEP_NULL('t', {t}, 'v', {v})"),
            Dialect::DuckDb => format!("{{'t': {t}, 'v': {v}}}"),
            _ => format!("NAMED_STRUCT('t', {t}, 'v', {v})"),
        }
    }

    /// The truth of a pair.
    pub(crate) fn pair_t(self, pair: &str) -> String {
        match self {
            Dialect::Snowflake => format!("CAST({pair}:t AS INTEGER)"),
            _ => format!("{pair}.t"),
        }
    }

    /// The value of a pair, of type `ty` in this module's representation.
    pub(crate) fn pair_v(self, pair: &str, ty: &crate::ir::Type) -> String {
        use crate::ir::Type;
        match self {
            Dialect::Snowflake => {
                let cast = match ty {
                    Type::Number => self.double(),
                    Type::String => self.text(),
                    _ => "BIGINT",
                };
                format!("CAST({pair}:v AS {cast})")
            }
            _ => format!("{pair}.v"),
        }
    }
}
