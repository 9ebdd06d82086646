//! `narval test`: run the test cases written beside the rules, and report
//! failures with the rules that decided each wrong stream, and coverage.

use std::io::{self, Write as _};

use narval::{CaseStatus, Coverage, TestReport};

use super::{builder, emit_report, output_error, plural, say, Format, Status, TestArgs};

/// Runs the suite and prints what it found.
pub fn run(args: &TestArgs) -> Status {
    let builder = match builder(&args.files, args.today, args.import_root.as_deref()) {
        Ok(builder) => builder,
        Err(status) => return status,
    };
    let suite = match builder.build_tests() {
        Ok(suite) => suite,
        Err(report) => {
            return emit_report(&report, args.format).err().unwrap_or(Status::RuleErrors);
        }
    };
    if suite.is_empty() {
        say("no test cases in these files; write one as `test \"name\" { given ... expect ... }`");
        return Status::Usage;
    }
    let report = suite.run();
    let coverage = args.coverage || args.threshold.is_some() || args.condition_threshold.is_some();
    let written = match args.format {
        Format::Human => write_human(&report, coverage),
        Format::Json => write_json(&report),
        Format::Sarif | Format::Github => match emit_report(&suite.report(&report), args.format) {
            Ok(()) => Ok(()),
            Err(status) => return status,
        },
    };
    if let Err(status) = written.or_else(|error| output_error(&error)) {
        return status;
    }
    if report.failed() + report.errors() > 0 {
        return Status::TestsFailed;
    }
    let below = |threshold: Option<f64>, percent: f64| threshold.is_some_and(|t| percent + 1e-9 < t);
    let rules = report.coverage.rule_percent();
    let conditions = report.coverage.condition_percent();
    if below(args.threshold, rules) || below(args.condition_threshold, conditions) {
        if args.format == Format::Human {
            if below(args.threshold, rules) {
                say(format_args!(
                    "rule coverage {rules:.1}% is below the threshold of {}%",
                    args.threshold.unwrap_or(0.0)
                ));
            }
            if below(args.condition_threshold, conditions) {
                say(format_args!(
                    "condition coverage {conditions:.1}% is below the threshold of {}%",
                    args.condition_threshold.unwrap_or(0.0)
                ));
            }
        }
        return Status::CoverageBelow;
    }
    Status::Success
}

fn write_human(report: &TestReport, coverage: bool) -> io::Result<()> {
    let mut out = super::stdio::stdout();
    for case in &report.cases {
        let verdict = match case.status {
            CaseStatus::Passed => "ok",
            CaseStatus::Failed { .. } => "FAILED",
            CaseStatus::Error { .. } => "ERROR",
        };
        writeln!(out, "test {:?} ({}:{}) ... {verdict}", case.name, case.file, case.line)?;
    }
    let troubled: Vec<_> = report.cases.iter().filter(|c| c.status != CaseStatus::Passed).collect();
    if !troubled.is_empty() {
        writeln!(out, "\nfailures:")?;
    }
    for case in troubled {
        writeln!(out, "\ntest {:?} ({}:{})", case.name, case.file, case.line)?;
        match &case.status {
            CaseStatus::Passed => {}
            CaseStatus::Error { message } => writeln!(out, "  error: {message}")?,
            CaseStatus::Failed { solicitations, issues, failures } => {
                let list = |streams: &[String]| if streams.is_empty() { "none".into() } else { streams.join(", ") };
                writeln!(out, "  got solicitations: {}", list(solicitations))?;
                writeln!(out, "  got issues: {}", list(issues))?;
                for failure in failures {
                    writeln!(out, "  expected `{}` (line {}), but:", failure.expected, failure.line)?;
                    write!(out, "{}", indent(&failure.explanation))?;
                }
            }
        }
    }
    if coverage {
        writeln!(out)?;
        write_coverage(&mut out, &report.coverage)?;
    }
    let mut summary = format!("{} passed, {} failed", report.passed(), report.failed());
    if report.errors() > 0 {
        summary.push_str(&format!(", {}", plural(report.errors(), "error")));
    }
    writeln!(out, "\nnarval: {summary}")?;
    out.flush()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}

fn write_coverage(out: &mut impl io::Write, coverage: &Coverage) -> io::Result<()> {
    writeln!(
        out,
        "coverage: rules {}/{} ({:.1}%), conditions {}/{} ({:.1}%)",
        coverage.rules_covered,
        coverage.rules_total,
        coverage.rule_percent(),
        coverage.conditions_covered,
        coverage.conditions_total,
        coverage.condition_percent()
    )?;
    for missed in &coverage.rules_missed {
        writeln!(out, "  {}:{}: rule `{}` {}", missed.file, missed.line, missed.what, missed.why)?;
    }
    for missed in &coverage.conditions_missed {
        writeln!(out, "  {}:{}: `{}` {}", missed.file, missed.line, missed.what, missed.why)?;
    }
    Ok(())
}

fn write_json(report: &TestReport) -> io::Result<()> {
    let mut out = super::stdio::stdout();
    serde_json::to_writer(&mut out, report)?;
    writeln!(out)?;
    out.flush()
}
