//! `narval explain`: why one profile gets its streams.
//!
//! The profile comes from a JSON file, from a line of an NDJSON file chosen
//! by `--id`, or from standard input. It is read and decoded as `narval
//! assign` reads and decodes its lines (the same byte order mark, line
//! limit, decoder and id rule), so that `explain` explains exactly the
//! profiles `assign` assigns. Unlike every other command, the output shows
//! the profile's values: that is what it is asked for.

use std::io::{self, BufRead, Read as _, Write as _};

use narval::Profile;
use narval::{Explanation, ProfileError, RuleSet};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::assign::open_profiles;
use super::{builder, io_reason, output_error, print_report, say, stdin_twice, ExplainArgs, Status, TraceFormat};
use narval::{read_line, skip_bom, Line};

/// The document `--format json` writes.
#[derive(Serialize)]
struct JsonExplanation<'a> {
    id: Option<&'a RawValue>,
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
    let name = args.profile.display().to_string();
    let input = match open_profiles(&args.profile).and_then(skip_bom) {
        Ok(input) => input,
        Err(error) => {
            say(format_args!("cannot read `{name}`: {}", io_reason(&error)));
            return Status::Usage;
        }
    };
    let mut profile = Profile::default();
    let found = match args.id.as_deref() {
        None => whole(&rules, input, &name, &args.id_field, &mut profile),
        Some(wanted) => by_id(&rules, input, &name, wanted, &args.id_field, &mut profile),
    };
    let (id, line) = match found {
        Ok(found) => found,
        Err(Refusal::Usage(message)) => {
            say(message);
            return Status::Usage;
        }
        Err(Refusal::Rejected(message)) => {
            say(message);
            return Status::Rejected;
        }
    };
    let explanation = rules.explain_decoded(&profile);
    let id = RawValue::from_string(id).ok();
    let written = match args.format {
        TraceFormat::Human => write_human(&explanation, id.as_deref(), &name, line),
        TraceFormat::Json => write_json(&JsonExplanation { id: id.as_deref(), line, explanation: &explanation }),
    };
    match written.or_else(|error| output_error(&error)) {
        Ok(()) => Status::Success,
        Err(status) => status,
    }
}

/// Why no profile is explained: a usage error (exit 2), or a profile the
/// decoder rejects, as `narval assign` rejects it (exit 1).
enum Refusal {
    Usage(String),
    Rejected(String),
}

/// Largest profile input `explain` reads: take a profile out of a larger file
/// first (`grep`, `jq`).
const PROFILE_FILE_LIMIT: u64 = 256 * 1024 * 1024;

/// The one profile of a JSON file, decoded as `narval assign` decodes a
/// line (a file may spread it over several lines): its id's text.
fn whole(
    rules: &RuleSet,
    input: Box<dyn BufRead>,
    name: &str,
    id_field: &str,
    profile: &mut Profile,
) -> Result<(String, Option<usize>), Refusal> {
    let mut text = Vec::new();
    if let Err(error) = input.take(PROFILE_FILE_LIMIT).read_to_end(&mut text) {
        return Err(Refusal::Usage(format!("cannot read `{name}`: {}", io_reason(&error))));
    }
    // The newline that ends the file ends its last line: not counted in
    // the limit, as for `assign`.
    let body = text.strip_suffix(b"\n").unwrap_or(&text);
    match rules.decode_line_into(body, id_field, profile) {
        Ok(id) => Ok((id.to_owned(), None)),
        Err(ProfileError::Empty) => Err(Refusal::Usage(format!("`{name}` holds no profile"))),
        Err(ProfileError::InvalidJson { .. } | ProfileError::TooLong)
            if text.split(|&b| b == b'\n').filter(|l| !l.trim_ascii().is_empty()).count() > 1 =>
        {
            Err(Refusal::Usage(format!("`{name}` holds several profiles; choose one with --id")))
        }
        Err(error) => Err(Refusal::Rejected(format!("{name}: {error}"))),
    }
}

/// The first line of an NDJSON file whose id is `wanted`, read and decoded
/// as `narval assign` reads and decodes it; a line the decoder rejects is
/// reported when its id, looked up as well as it can be, is `wanted`.
fn by_id(
    rules: &RuleSet,
    mut input: Box<dyn BufRead>,
    name: &str,
    wanted: &str,
    id_field: &str,
    profile: &mut Profile,
) -> Result<(String, Option<usize>), Refusal> {
    let matches = |id: Option<&Value>| match id {
        Some(Value::String(s)) => s == wanted,
        Some(Value::Number(n)) => n.to_string() == wanted,
        _ => false,
    };
    let mut text = Vec::new();
    for number in 1.. {
        text.clear();
        let read = match read_line(&mut *input, &mut text, PROFILE_FILE_LIMIT as usize) {
            Ok(read) => read,
            Err(error) => {
                return Err(Refusal::Usage(format!("cannot read line {number} of `{name}`: {}", io_reason(&error))))
            }
        };
        let line = text.strip_suffix(b"\n").unwrap_or(&text);
        match read {
            Line::End => break,
            Line::TooLong => continue,
            Line::Read => {}
        }
        match rules.decode_line_into(line, id_field, profile) {
            Ok(id) if matches(serde_json::from_str::<Value>(id).ok().as_ref()) => {
                return Ok((id.to_owned(), Some(number)));
            }
            Ok(_) => {}
            Err(error) => {
                // Read leniently: any depth, any number, any duplicate.
                let keys = serde_json::from_slice::<std::collections::BTreeMap<String, &RawValue>>(line).ok();
                let id = keys.as_ref().and_then(|keys| keys.get(id_field));
                if matches(id.and_then(|id| serde_json::from_str::<Value>(id.get()).ok()).as_ref()) {
                    return Err(Refusal::Rejected(format!("{name} line {number}: {error}")));
                }
            }
        }
    }
    Err(Refusal::Usage(format!("no profile in `{name}` has `{id_field}` {wanted}")))
}

fn write_human(explanation: &Explanation, id: Option<&RawValue>, name: &str, line: Option<usize>) -> io::Result<()> {
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
