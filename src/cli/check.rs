//! `narval check`: load, parse and check rule files, and report.

use std::io::{self, Write as _};

use narval::diagnostic::{LocatedDiagnostic, Severity};
use narval::Report;
use serde::Serialize;

use super::{builder, io_reason, print_report, say, CheckArgs, Format, Status};

/// The document `--format json` writes.
#[derive(Serialize)]
struct JsonReport {
    diagnostics: Vec<LocatedDiagnostic>,
    errors: usize,
    warnings: usize,
}

/// Checks the files and prints every diagnostic.
pub fn run(args: &CheckArgs) -> Status {
    let report = builder(&args.files, args.today).check();
    match args.format {
        Format::Human => {
            print_report(&report);
            if args.deny_warnings && !report.has_errors() && report.count(Severity::Warning) > 0 {
                say("warnings are denied by --deny-warnings");
            }
        }
        Format::Json => {
            if let Err(error) = write_json(&report) {
                say(format_args!("cannot write output: {}", io_reason(&error)));
                return Status::Output;
            }
        }
    }
    let denied = args.deny_warnings && report.count(Severity::Warning) > 0;
    if report.has_errors() || denied {
        Status::RuleErrors
    } else {
        Status::Success
    }
}

fn write_json(report: &Report) -> io::Result<()> {
    let document = JsonReport {
        diagnostics: report.located(),
        errors: report.count(Severity::Error),
        warnings: report.count(Severity::Warning),
    };
    let mut stdout = io::stdout().lock();
    serde_json::to_writer(&mut stdout, &document)?;
    writeln!(stdout)?;
    stdout.flush()
}
