//! `narval explain`: why one profile gets its streams.
//!
//! The profile comes from a JSON file, from a line of an NDJSON file chosen
//! by `--id`, or from standard input. Unlike every other command, the
//! output shows the profile's values: that is what it is asked for.

use std::io::{self, Write as _};

use narval::Explanation;
use serde::Serialize;
use serde_json::Value;

use super::{builder, io_reason, output_error, print_report, say, stdin_twice, ExplainArgs, Status, TraceFormat};

/// The document `--format json` writes.
#[derive(Serialize)]
struct JsonExplanation<'a> {
    id: Option<&'a Value>,
    line: Option<usize>,
    #[serde(flatten)]
    explanation: &'a Explanation,
}

/// Explains one profile.
pub fn run(args: &ExplainArgs) -> Status {
    if stdin_twice(&args.rules, &args.profile) {
        return Status::Usage;
    }
    let builder = match builder(&args.rules, args.today, args.import_root.as_deref()) {
        Ok(builder) => builder,
        Err(status) => return status,
    };
    let rules = match builder.build() {
        Ok(rules) => rules,
        Err(report) => {
            print_report(&report);
            return Status::RuleErrors;
        }
    };
    let text = match read(&args.profile) {
        Ok(text) => text,
        Err(error) => {
            say(format_args!("cannot read `{}`: {}", args.profile.display(), io_reason(&error)));
            return Status::Usage;
        }
    };
    let name = args.profile.display().to_string();
    let (profile, line) = match select(&text, &name, args.id.as_deref(), &args.id_field) {
        Ok(found) => found,
        Err(message) => {
            say(message);
            return Status::Usage;
        }
    };
    let explanation = match rules.explain_value(&profile) {
        Ok(explanation) => explanation,
        Err(error) => {
            let place = line.map(|l| format!(" line {l}")).unwrap_or_default();
            say(format_args!("{name}{place}: {error}"));
            return Status::Rejected;
        }
    };
    let id = profile.get(&args.id_field);
    let written = match args.format {
        TraceFormat::Human => write_human(&explanation, id, &name, line),
        TraceFormat::Json => write_json(&JsonExplanation { id, line, explanation: &explanation }),
    };
    match written.or_else(|error| output_error(&error)) {
        Ok(()) => Status::Success,
        Err(status) => status,
    }
}

/// The profile input, at most [`PROFILE_FILE_LIMIT`] bytes: `explain`
/// looks at one profile, not at a whole voter file.
fn read(path: &std::path::Path) -> io::Result<String> {
    super::read_input(path, PROFILE_FILE_LIMIT)
}

/// Largest profile file `explain` reads: take a profile out of a larger file
/// first (`grep`, `jq`).
const PROFILE_FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// The profile to explain, and its line number when it came from NDJSON.
fn select(text: &str, name: &str, id: Option<&str>, id_field: &str) -> Result<(Value, Option<usize>), String> {
    let Some(wanted) = id else {
        return match serde_json::from_str::<Value>(text) {
            Ok(value) => Ok((value, None)),
            Err(_) if text.lines().filter(|l| !l.trim().is_empty()).count() > 1 => {
                Err(format!("`{name}` holds several profiles; choose one with --id"))
            }
            Err(error) => Err(format!("`{name}` is not a JSON profile: {}", error_position(&error))),
        };
    };
    for (index, line) in text.lines().enumerate() {
        let Ok(value) = serde_json::from_str::<Value>(line) else { continue };
        let matches = match value.get(id_field) {
            Some(Value::String(s)) => s == wanted,
            Some(Value::Number(n)) => n.to_string() == wanted,
            _ => false,
        };
        if matches {
            return Ok((value, Some(index + 1)));
        }
    }
    Err(format!("no profile in `{name}` has `{id_field}` {wanted}"))
}

/// serde_json's error without the text it may quote.
fn error_position(error: &serde_json::Error) -> String {
    format!("invalid JSON at line {} column {}", error.line(), error.column())
}

fn write_human(explanation: &Explanation, id: Option<&Value>, name: &str, line: Option<usize>) -> io::Result<()> {
    let mut stdout = super::stdio::stdout();
    let who = id.map(|v| format!("profile {v}")).unwrap_or_else(|| "profile".into());
    let place = line.map(|l| format!("{name} line {l}")).unwrap_or_else(|| name.to_string());
    let count = explanation.assigned().count();
    writeln!(stdout, "{who} ({place}): {count} of {} streams assigned", explanation.streams.len())?;
    write!(stdout, "{}", explanation.render())?;
    stdout.flush()
}

fn write_json(document: &JsonExplanation<'_>) -> io::Result<()> {
    let mut stdout = super::stdio::stdout();
    serde_json::to_writer(&mut stdout, document)?;
    writeln!(stdout)?;
    stdout.flush()
}
