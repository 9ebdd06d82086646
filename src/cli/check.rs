//! `narval check`: load, parse and check rule files, and report.

use narval::Severity;

use super::{builder, emit_report, say, CheckArgs, Format, Status};

/// Checks the files and prints every diagnostic in the chosen format.
pub fn run(args: &CheckArgs) -> Status {
    let report = match builder(&args.files, args.today, args.import_root.as_deref()) {
        Ok(builder) => args.policy.iter().fold(builder, |b, p| b.policy_file(p)).check(),
        Err(status) => return status,
    };
    if let Err(status) = emit_report(&report, args.format) {
        return status;
    }
    let denied = args.deny_warnings && report.count(Severity::Warning) > 0;
    if args.format == Format::Human && denied && !report.has_errors() {
        say("warnings are denied by --deny-warnings");
    }
    if report.has_errors() || denied {
        Status::RuleErrors
    } else {
        Status::Success
    }
}
