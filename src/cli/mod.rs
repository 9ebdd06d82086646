//! The command line: arguments, exit statuses, and what the subcommands
//! share (loading rule files, printing a report).

pub mod assign;
pub mod check;
pub mod fmt;

use std::io::{self, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use narval::diagnostic::Severity;
use narval::{Builder, Date, Report, RuleSet};

/// The exit statuses, as `narval --help` shows them.
const EXIT_STATUS: &str = "\
Exit status:
  0  success: no errors, and every profile was assigned
  1  the rule set has errors (or warnings, with --deny-warnings); nothing is assigned
  2  bad usage: an unknown option, a bad --today date, profiles that cannot be read
  3  some profile lines were rejected (each is reported on stderr); the others were assigned
  4  the output cannot be written
  7  files are not formatted (fmt --check)";

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
    /// Rewrite rule files in the canonical layout, keeping their comments
    #[command(after_help = EXIT_STATUS)]
    Fmt(FmtArgs),
}

/// `narval check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Rule files to check; the files they import are read too
    #[arg(required = true, value_name = "FILES")]
    pub files: Vec<PathBuf>,
    /// `human`: rustc-like text on stderr; `json`: one JSON document on stdout
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Fail (exit status 1) on warnings as well as on errors
    #[arg(long)]
    pub deny_warnings: bool,
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

/// How `check` prints its diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Rendered like rustc, on stderr.
    Human,
    /// `{"diagnostics": [..], "errors": N, "warnings": N}` on stdout.
    Json,
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
    /// `fmt --check` found files that are not formatted.
    Unformatted = 7,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        ExitCode::from(status as u8)
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    text.parse()
}

/// A builder for the given rule files and evaluation date.
fn builder(files: &[PathBuf], today: Option<Date>) -> Builder {
    let builder = files.iter().fold(RuleSet::builder(), Builder::file);
    match today {
        Some(date) => builder.today(date),
        None => builder,
    }
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

use narval::source::io_reason;
