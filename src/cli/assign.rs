//! `narval assign`: stream profiles, one JSON object a line, through a rule
//! set and write one JSON line per profile, in input order.
//!
//! Every input line ends up either as an output line or as a rejection
//! reported on stderr with its line number; the run goes on after a
//! rejection.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use narval::{ProfileError, RuleSet};
use serde::Serialize;
use serde_json::Value;

use super::{builder, io_reason, plural, print_report, say, AssignArgs, Status};

/// Why one input line was not assigned. The reasons name fields and
/// columns, never a person's values.
#[derive(Debug, thiserror::Error)]
enum LineError {
    /// A blank line between profiles.
    #[error("empty line")]
    Empty,
    /// `{"id": 1,`
    #[error("not valid JSON: {}", json_reason(.0))]
    Json(serde_json::Error),
    /// `[1, 2]`
    #[error("not a JSON object")]
    NotAnObject,
    /// `{"age": 40}` when the id field is `id`.
    #[error("no `{0}` field to identify the profile")]
    MissingId(String),
    /// `{"id": 1, "age": "forty"}` when `age: int`.
    #[error(transparent)]
    Profile(#[from] ProfileError),
    /// Cannot happen for a parsed JSON value, but is not assumed away.
    #[error("cannot encode the assignment: {0}")]
    Encode(serde_json::Error),
}

/// serde_json's message, with the position told as a column: a profile is
/// one line, so its line is always 1.
fn json_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&position) {
        Some(reason) => format!("{reason} at column {}", error.column()),
        None => text,
    }
}

/// One output line.
#[derive(Serialize)]
struct Record<'a> {
    id: &'a Value,
    solicitations: &'a [&'a str],
    issues: &'a [&'a str],
}

/// Builds the rule set, then assigns every profile.
pub fn run(args: &AssignArgs) -> Status {
    let name = if args.profiles.as_os_str() == "-" {
        String::from("standard input")
    } else {
        format!("`{}`", args.profiles.display())
    };
    let input = match open_profiles(&args.profiles) {
        Ok(input) => input,
        Err(error) => {
            say(format_args!("cannot read {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
    };
    if let Some(out) = &args.out {
        if same_file(out, &args.profiles) {
            say(format_args!("--out {name} would overwrite the profiles it reads"));
            return Status::Usage;
        }
    }
    let rules = match builder(&args.rules, args.today).build() {
        Ok(rules) => rules,
        Err(report) => {
            print_report(&report);
            return Status::RuleErrors;
        }
    };
    if !rules.report().diagnostics().is_empty() {
        print_report(rules.report());
    }
    // Created only once the rules are known good, so that a failed run does
    // not truncate an earlier output.
    let output: Box<dyn Write> = match &args.out {
        Some(path) => match File::create(path) {
            Ok(file) => Box::new(file),
            Err(error) => {
                say(format_args!("cannot create `{}`: {}", path.display(), io_reason(&error)));
                return Status::Output;
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    assign_all(&rules, &args.id_field, &name, input, BufWriter::new(output))
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn open_profiles(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(io::stdin().lock()))
    } else {
        Ok(Box::new(BufReader::new(File::open(path)?)))
    }
}

/// Reads profiles line by line (`name` says where from, for errors), writes
/// assignments, reports rejections, and ends with a summary.
fn assign_all(rules: &RuleSet, id_field: &str, name: &str, mut input: impl BufRead, mut output: impl Write) -> Status {
    let (mut read, mut assigned) = (0_usize, 0_usize);
    let mut line = Vec::new();
    let mut record = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => {
                // What was assigned so far stays valid; keep it.
                let _ = output.flush();
                say(format_args!("cannot read line {} of {name}: {}", read + 1, io_reason(&error)));
                return Status::Usage;
            }
        }
        read += 1;
        record.clear();
        match assign_line(rules, id_field, &line, &mut record) {
            Ok(()) => {
                assigned += 1;
                if let Err(error) = output.write_all(&record) {
                    say(format_args!("cannot write output: {}", io_reason(&error)));
                    return Status::Output;
                }
            }
            Err(reason) => say(format_args!("line {read}: {reason}")),
        }
    }
    if let Err(error) = output.flush() {
        say(format_args!("cannot write output: {}", io_reason(&error)));
        return Status::Output;
    }
    let rejected = read - assigned;
    say(format_args!("{} read, {assigned} assigned, {rejected} rejected", plural(read, "profile")));
    if rejected > 0 {
        Status::Rejected
    } else {
        Status::Success
    }
}

/// Assigns the profile on one input line and puts its output line, newline
/// included, in `record`.
fn assign_line(rules: &RuleSet, id_field: &str, line: &[u8], record: &mut Vec<u8>) -> Result<(), LineError> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Err(LineError::Empty);
    }
    let profile: Value = serde_json::from_slice(text).map_err(LineError::Json)?;
    let fields = profile.as_object().ok_or(LineError::NotAnObject)?;
    let id = fields.get(id_field).ok_or_else(|| LineError::MissingId(id_field.to_owned()))?;
    let assignment = rules.assign_value(&profile)?;
    let out = Record { id, solicitations: &assignment.solicitations, issues: &assignment.issues };
    serde_json::to_writer(&mut *record, &out).map_err(LineError::Encode)?;
    record.push(b'\n');
    Ok(())
}
