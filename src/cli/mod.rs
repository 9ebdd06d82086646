//! The command line: arguments, exit statuses, and what the subcommands
//! share (loading rule files, printing a report).

pub mod assign;
pub mod audit;
pub mod check;
pub mod explain;
pub mod fmt;
pub mod sql;
pub mod stdio;
pub mod test;

use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use narval::Severity;
use narval::{Builder, Date, Report, RuleSet};

/// The exit statuses, as `narval --help` shows them.
const EXIT_STATUS: &str = "\
Exit status:
  0  success: no errors, and every profile was assigned
  1  the rule set has errors (or warnings, with --deny-warnings), policy violations included; nothing is assigned
  2  bad usage: an unknown option, a bad --today date, profiles that cannot be read
  3  some profile lines were rejected (each is reported on stderr); the others were assigned
  4  the output cannot be written
  5  some test cases failed or could not run (test)
  6  coverage is below --threshold or --condition-threshold (test)
  7  files are not formatted (fmt --check)
  8  assign stopped: more lines were rejected than --max-errors allows
A reader that closes the output early (`| head`) stops narval quietly, with the status of what it had done.";

/// Rule-based message targeting: check rule files, and assign solicitation
/// and issue streams to profiles.
#[derive(Debug, clap::Parser)]
#[command(name = "narval", version, after_help = EXIT_STATUS)]
pub struct Args {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check rule files and report every error and warning
    #[command(after_help = EXIT_STATUS)]
    Check(CheckArgs),
    /// Assign streams to profiles read one JSON object a line, writing one
    /// JSON line per profile, in input order
    #[command(after_help = EXIT_STATUS)]
    Assign(AssignArgs),
    /// Run the test cases written in rule files (`test "name" { ... }`),
    /// optionally with rule and condition coverage
    #[command(after_help = EXIT_STATUS)]
    Test(TestArgs),
    /// Explain why one profile gets its streams: every stream, the rules that
    /// assign or suppress it, and the condition and values that decided each
    #[command(after_help = EXIT_STATUS)]
    Explain(ExplainArgs),
    /// Rewrite rule files in the canonical layout, keeping their comments
    #[command(after_help = EXIT_STATUS)]
    Fmt(FmtArgs),
    /// Report the lineage of a rule set for a data-protection register: per
    /// stream, the rules that can assign or suppress it, the fields they read
    /// and the categories of those fields; with the verdict of the policies
    #[command(after_help = EXIT_STATUS)]
    Audit(AuditArgs),
    /// Write the rule set as one SQL query over a table of profiles (for
    /// DuckDB, PostgreSQL, Spark, BigQuery or Snowflake), giving each row the
    /// streams `assign` gives it; or the table's CREATE TABLE (--ddl), or the
    /// statements that load an NDJSON profiles file into it (--load)
    #[command(after_help = EXIT_STATUS)]
    Sql(SqlArgs),
}

/// `narval sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// Rule files; the files they import are read too
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// The engine: duckdb, postgres, spark, bigquery or snowflake
    #[arg(long, value_name = "NAME")]
    pub dialect: String,
    /// The date `today` stands for in the rules, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// The table of profiles (`schema.table` is quoted part by part)
    #[arg(long, value_name = "NAME", default_value = "profiles")]
    pub table: String,
    /// The column that identifies a profile
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
    /// Print the CREATE TABLE for the table instead of the query
    #[arg(long, conflicts_with = "load")]
    pub ddl: bool,
    /// Print INSERT statements that load this NDJSON profiles file into the
    /// table, each line read as `assign` reads it (rejected lines are reported
    /// on stderr and left out, exit status 3)
    #[arg(long, value_name = "FILE")]
    pub load: Option<PathBuf>,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
}

/// `narval audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Rule files; the files they import and the policy files they name are read too
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// Check the rule set against the policies of this file too (repeatable)
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
    /// The date `today` stands for in the rules, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// `human`: the report on stdout, diagnostics on stderr; `json`: one JSON document on stdout
    #[arg(long, value_enum, default_value_t = TraceFormat::Human)]
    pub format: TraceFormat,
}

/// `narval check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Rule files to check; the files they import are read too; `-` reads standard input
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// How to print the diagnostics: `human` on stderr, or `json`, `sarif`
    /// (SARIF 2.1.0) or `github` (GitHub Actions annotations) on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit status 1) on warnings as well as on errors
    #[arg(long)]
    pub deny_warnings: bool,
    /// Check the rule set against the policies of this file too (repeatable);
    /// the file holds only policy declarations
    #[arg(long, value_name = "FILE")]
    pub policy: Vec<PathBuf>,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
    /// The date `today` stands for in the rules, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
}

/// `narval assign`.
#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// Rule files; the files they import are read too
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// Profiles, one JSON object a line; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub profiles: PathBuf,
    /// Write the assignments to this file instead of standard output
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The date `today` stands for in the rules, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// The profile field copied, as it is, to each output line
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
    /// Worker threads (1: read, assign and write on one thread); the output is the same for every count [default: all cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Also write each rejected line to FILE, as a JSON line
    /// `{"line": N, "reason": "...", "text": "<the line>"}`, to fix and run again
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Stop (exit status 8) once more than N lines are rejected, checked after
    /// each batch of 16,384 lines; nothing is written to --out then
    #[arg(long, value_name = "N")]
    pub max_errors: Option<usize>,
    /// Reject a line whose id (as written) was already written for an earlier
    /// line; keeps every id in memory, so memory grows with the number of profiles
    #[arg(long)]
    pub unique_ids: bool,
    /// Evaluate with the interpreter, without generating native code (for
    /// machines that forbid executable memory); the output is the same
    #[arg(long)]
    pub interpreted: bool,
}

/// `narval test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Rule files holding test cases; the files they import are read too
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// The date `today` stands for in cases without a `today` line, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
    /// Report which rules fired and which conditions were seen true and false
    #[arg(long)]
    pub coverage: bool,
    /// Fail (exit status 6) when fewer than PCT percent of the rules fired; implies --coverage
    #[arg(long, value_name = "PCT")]
    pub threshold: Option<f64>,
    /// Fail (exit status 6) when fewer than PCT percent of the conditions were seen both true
    /// and false; implies --coverage
    #[arg(long, value_name = "PCT")]
    pub condition_threshold: Option<f64>,
    /// `human`: one line per case, then the failures; `json`: the cases and coverage as one JSON
    /// document; `sarif` and `github`: warnings, failing expectations (E0301) and cases that
    /// cannot run (E0302) as diagnostics; all on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// `narval explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule files; the files they import are read too
    #[arg(required = true, value_name = "RULES")]
    pub rules: Vec<PathBuf>,
    /// The profile: a JSON file, an NDJSON file with --id, or `-` for standard input
    #[arg(long, value_name = "FILE")]
    pub profile: PathBuf,
    /// Let the files rule files name (imports, policy files, test profile files)
    /// lie anywhere inside DIR [default: the current folder and the folders of the rule files]
    #[arg(long, value_name = "DIR")]
    pub import_root: Option<PathBuf>,
    /// Explain the line of an NDJSON file whose id field has this value
    #[arg(long, value_name = "VALUE")]
    pub id: Option<String>,
    /// The profile field --id is compared with
    #[arg(long, value_name = "NAME", default_value = "id")]
    pub id_field: String,
    /// The date `today` stands for in the rules, as YYYY-MM-DD
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub today: Option<Date>,
    /// `human`: one block per stream; `json`: the same content as one JSON document
    #[arg(long, value_enum, default_value_t = TraceFormat::Human)]
    pub format: TraceFormat,
}

/// How `explain` prints its trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceFormat {
    /// Text for people.
    Human,
    /// One JSON document on stdout.
    Json,
}

/// `narval fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Rule files to format in place; `-` formats standard input to standard output
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// Write nothing; list each file that is not formatted, with the lines
    /// that would change, and exit with status 7
    #[arg(long, conflicts_with = "stdout")]
    pub check: bool,
    /// Print the formatted text on standard output instead of rewriting the files
    #[arg(long)]
    pub stdout: bool,
}

/// How a report is printed (`--format`); see [`emit_report`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON document on stdout.
    Json,
    /// A SARIF 2.1.0 log on stdout, for code-scanning services.
    Sarif,
    /// GitHub Actions workflow commands on stdout, one line per diagnostic.
    Github,
}

/// How a run ended; each is an exit status listed in [`EXIT_STATUS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything checked, every profile assigned.
    Success = 0,
    /// The rule set has errors, or warnings under `--deny-warnings`.
    RuleErrors = 1,
    /// Bad arguments or unreadable profiles. Clap exits with 2 on its own
    /// usage errors too.
    Usage = 2,
    /// Some profile lines were rejected.
    Rejected = 3,
    /// Writing the output failed.
    Output = 4,
    /// Some test cases failed or could not run.
    TestsFailed = 5,
    /// Coverage is below a threshold.
    CoverageBelow = 6,
    /// `fmt --check` found files that are not formatted.
    Unformatted = 7,
    /// `assign` stopped at `--max-errors`.
    TooManyErrors = 8,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    text.parse()
}

/// A builder for the given rule files (`-`: standard input), evaluation
/// date and import root. Without `--import-root`, files named in rule files
/// may lie in the current folder as well as in the rule files' own.
fn builder(files: &[PathBuf], today: Option<Date>, import_root: Option<&Path>) -> Result<Builder, Status> {
    let mut builder = RuleSet::builder();
    for file in files {
        builder = if file.as_os_str() == "-" {
            match read_input(file, narval::Builder::MAX_FILE_BYTES as u64) {
                Ok(text) => builder.source(STDIN_NAME, text),
                Err(error) => {
                    say(format_args!("cannot read standard input: {}", io_reason(&error)));
                    return Err(Status::Usage);
                }
            }
        } else {
            builder.file(file)
        };
    }
    let builder = match import_root {
        Some(dir) if !dir.is_dir() => {
            say(format_args!("--import-root `{}` is not a folder", dir.display()));
            return Err(Status::Usage);
        }
        Some(dir) => builder.import_root(dir),
        None => builder.import_root("."),
    };
    Ok(match today {
        Some(date) => builder.today(date),
        None => builder,
    })
}

/// The name standard input has in diagnostics.
const STDIN_NAME: &str = "<stdin>";

/// The text of a file named on the command line, `-` for standard input,
/// read as [`narval::files::read_text`] reads every text.
fn read_input(path: &Path, limit: u64) -> io::Result<String> {
    if path.as_os_str() == "-" {
        narval::files::read_text_from(stdio::stdin()?, limit)
    } else {
        narval::files::read_text_from(narval::files::open(path, narval::files::Origin::Named)?, limit)
    }
}

/// [`read_input`], saying whether the text started with a byte order mark.
fn read_input_marked(path: &Path, limit: u64) -> io::Result<(String, bool)> {
    if path.as_os_str() == "-" {
        narval::files::read_text_marked(stdio::stdin()?, limit)
    } else {
        narval::files::read_text_marked(narval::files::open(path, narval::files::Origin::Named)?, limit)
    }
}

/// Whether both the rule files and the profiles would be read from
/// standard input, which holds only one of them; said on stderr.
fn stdin_twice(rules: &[PathBuf], profiles: &Path) -> bool {
    let twice = profiles.as_os_str() == "-" && rules.iter().any(|r| r.as_os_str() == "-");
    if twice {
        say("standard input (`-`) cannot hold both the rules and the profiles");
    }
    twice
}

/// Prints a report in a format: `human` on stderr, the others on stdout as
/// [`narval::text::render`] builds them (one compact JSON document and a newline
/// for `json` and `sarif`). When stdout cannot be written, see
/// [`output_error`].
fn emit_report(report: &Report, format: Format) -> Result<(), Status> {
    let text = match format {
        Format::Human => {
            print_report(report);
            return Ok(());
        }
        Format::Json => format!("{}\n", report.to_json()),
        Format::Sarif => format!("{}\n", report.to_sarif()),
        Format::Github => report.to_github(),
    };
    let mut stdout = stdio::stdout();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).or_else(|error| output_error(&error))
}

/// What a failed write of the output means for a command. A reader that
/// closed the pipe (`narval test | head -1`) has read what it wanted: the
/// command stops writing, says nothing, and ends with the status its result
/// gives (`Ok`), as ripgrep does. Any other failure is said on stderr and
/// is [`Status::Output`].
fn output_error(error: &io::Error) -> Result<(), Status> {
    if is_closed_pipe(error) {
        return Ok(());
    }
    say(format_args!("cannot write output: {}", io_reason(error)));
    Err(Status::Output)
}

/// Whether a write failed because the reader closed the pipe.
fn is_closed_pipe(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::BrokenPipe
}

/// Prints a report on stderr like rustc: every diagnostic, then a summary.
fn print_report(report: &Report) {
    let mut stderr = io::stderr().lock();
    if !report.diagnostics().is_empty() {
        // Each rendered diagnostic ends with a newline; one more separates
        // the last from the summary.
        let _ = writeln!(stderr, "{}", report.render());
    }
    let _ = writeln!(stderr, "narval: {}", summary(report));
}

fn summary(report: &Report) -> String {
    let errors = report.count(Severity::Error);
    let warnings = report.count(Severity::Warning);
    if errors == 0 && warnings == 0 {
        let files = report.sources().len();
        format!("ok, {} checked", plural(files, "file"))
    } else {
        format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
    }
}

/// `1 file`, `2 files`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("{count} {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// Prints `narval: <message>` on stderr. A failure to write there is
/// ignored: there is nowhere left to report it.
fn say(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "narval: {message}");
}

use narval::files::io_reason;
