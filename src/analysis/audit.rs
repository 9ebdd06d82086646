//! The lineage of a rule set, for a data-protection register (`narval
//! audit`): per stream, the rules that can assign or suppress it and the
//! requirements on it, the fields each reads (through definitions) and the
//! categories of those fields; then every field read, with the streams it
//! can influence, and the fields never read.
//!
//! ```
//! let audit = narval::RuleSet::builder()
//!     .source("r.narval", "narval 1\nschema { age: int, health: optional bool tagged health }\n\
//!              solicitation streams flyer\nold = age >= 65\nr: old and health == true -> flyer\n")
//!     .audit()
//!     .map_err(|report| report.render())?;
//! let flyer = &audit.lineage.streams[0];
//! assert_eq!(flyer.assigned_by[0].reads[0].field, "age");
//! assert_eq!(flyer.assigned_by[0].reads[0].through, ["old"]);
//! assert_eq!(flyer.assigned_by[0].reads[1].categories, ["health"]);
//! # Ok::<(), String>(())
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::lineage::{self, ReadAnalysis};
use crate::ir::CheckedRules;
use crate::ir::StreamKind;
use crate::text::report::Report;

/// The lineage of a rule set. Serialised as the JSON of `narval audit
/// --format json` (language guide, section 17.5); the field order is stable.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Lineage {
    /// Every stream, solicitations then issues, each in priority order.
    pub streams: Vec<StreamLineage>,
    /// Every field some rule or requirement reads, in schema order.
    pub fields: Vec<FieldLineage>,
    /// The leaf fields of the schema nothing reads (data minimisation).
    pub unread: Vec<String>,
}

/// What one stream depends on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreamLineage {
    /// The stream.
    pub stream: String,
    /// Its kind.
    pub kind: StreamKind,
    /// Its priority within its kind, from 1.
    pub priority: usize,
    /// The rules that can assign it.
    pub assigned_by: Vec<Reader>,
    /// The rules that can suppress it (`no solicitations` and `no issues` included).
    pub suppressed_by: Vec<Reader>,
    /// The stream requirements on it.
    pub required_by: Vec<Reader>,
    /// How many streams of its kind a profile keeps at most (`at most N
    /// ... streams`); `None` when its kind has no cap.
    pub capped_at: Option<usize>,
}

/// A rule or requirement and what it reads.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reader {
    /// Its name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// For a holdout, the share of profiles it holds out, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holdout_percent: Option<f64>,
    /// Under `suppressed_by`, the action through which it suppresses the
    /// stream, as written: `no solicitations` or `no issues` when it
    /// suppresses the stream's whole kind (whether or not it also names the
    /// stream), else `no STREAM`. Left out of JSON elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The fields it reads, sorted by path.
    pub reads: Vec<Read>,
}

/// One field a rule reads.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Read {
    /// The full path: `donations.amount`.
    pub field: String,
    /// Its categories.
    pub categories: Vec<String>,
    /// The definitions it is read through, outermost first; empty when read directly.
    pub through: Vec<String>,
}

/// One field read by the rule set.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldLineage {
    /// The full path.
    pub field: String,
    /// Its categories.
    pub categories: Vec<String>,
    /// The streams it can influence, in priority order.
    pub streams: Vec<String>,
}

/// [`Lineage`] with the verdict of the policies in effect, as
/// [`crate::Builder::audit`] gives it.
#[derive(Clone, Debug)]
pub struct Audit {
    /// The lineage.
    pub lineage: Lineage,
    /// The names of the policies in effect.
    pub policies: Vec<String>,
    /// Every diagnostic of the check, policy violations included.
    pub report: Report,
}

impl Lineage {
    /// The lineage of a checked rule set.
    pub fn new(rules: &CheckedRules) -> Lineage {
        let mut analysis = ReadAnalysis::new(rules);
        let mut read_streams: Vec<(Vec<String>, Vec<String>, BTreeSet<usize>)> = Vec::new();
        let mut reader = |name: &str, description: &Option<String>, condition, streams: &[usize]| {
            let found = analysis.expr(condition);
            let mut reads: Vec<Read> = found
                .iter()
                .map(|r| Read {
                    field: r.dotted(),
                    categories: r.categories.clone(),
                    through: r
                        .through
                        .iter()
                        .filter_map(|id| rules.definitions.get(*id))
                        .map(|d| d.name.clone())
                        .collect(),
                })
                .collect();
            reads.sort();
            reads.dedup();
            for r in &found {
                match read_streams.iter_mut().find(|(path, _, _)| *path == r.path) {
                    Some((_, _, set)) => set.extend(streams.iter().copied()),
                    None => {
                        read_streams.push((r.path.clone(), r.categories.clone(), streams.iter().copied().collect()))
                    }
                }
            }
            let holdout_percent = rules.holdouts.iter().find(|h| h.name == name).map(|h| f64::from(h.share) / 100.0);
            Reader { name: name.to_string(), description: description.clone(), holdout_percent, action: None, reads }
        };
        let mut rule_readers = Vec::new();
        for rule in &rules.rules {
            let streams: Vec<usize> = rule.assigns.iter().chain(&rule.suppresses).copied().collect();
            rule_readers.push(reader(&rule.name, &rule.description, &rule.condition, &streams));
        }
        let mut requirement_readers = Vec::new();
        for requirement in &rules.requirements {
            requirement_readers.push(reader(
                &requirement.name,
                &requirement.description,
                &requirement.condition,
                &requirement.streams,
            ));
        }
        let mut streams = Vec::new();
        let mut priority = [0, 0];
        for (id, stream) in rules.streams.iter().enumerate() {
            let slot = usize::from(stream.kind == StreamKind::Issue);
            if let Some(p) = priority.get_mut(slot) {
                *p += 1;
            }
            let pick = |keep: &dyn Fn(&crate::ir::Rule) -> bool| -> Vec<Reader> {
                rules
                    .rules
                    .iter()
                    .zip(&rule_readers)
                    .filter(|(r, _)| keep(r))
                    .map(|(_, reader)| reader.clone())
                    .collect()
            };
            streams.push(StreamLineage {
                stream: stream.name.clone(),
                kind: stream.kind,
                priority: priority.get(slot).copied().unwrap_or(0),
                assigned_by: pick(&|r| r.assigns.contains(&id)),
                suppressed_by: rules
                    .rules
                    .iter()
                    .zip(&rule_readers)
                    .filter(|(r, _)| r.suppresses.contains(&id))
                    .map(|(r, reader)| Reader { action: Some(suppression(r, stream)), ..reader.clone() })
                    .collect(),
                required_by: rules
                    .requirements
                    .iter()
                    .zip(&requirement_readers)
                    .filter(|(r, _)| r.streams.contains(&id))
                    .map(|(_, reader)| reader.clone())
                    .collect(),
                capped_at: rules.caps.iter().find(|c| c.kind == stream.kind).map(|c| c.most),
            });
        }
        let leaves = lineage::leaf_fields(&rules.schema);
        let mut all_paths = Vec::new();
        crate::check::field_paths(&rules.schema, &mut all_paths);
        let order = |path: &str| all_paths.iter().position(|p| p == path).unwrap_or(usize::MAX);
        let mut fields: Vec<FieldLineage> = read_streams
            .into_iter()
            .map(|(path, categories, set)| FieldLineage {
                field: path.join("."),
                categories,
                streams: set.into_iter().filter_map(|s| rules.streams.get(s)).map(|s| s.name.clone()).collect(),
            })
            .collect();
        fields.sort_by_key(|f| order(&f.field));
        let read: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        // A leaf is read when it or a field holding it is read (`count(donations)`
        // reads the list, not `donations.amount`; `donations` is then listed read).
        let unread = leaves
            .into_iter()
            .map(|(path, _)| path)
            .filter(|path| !read.iter().any(|r| *r == path || path.starts_with(&format!("{r}."))))
            .collect();
        Lineage { streams, fields, unread }
    }

    /// The lineage as text for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for stream in &self.streams {
            let _ =
                writeln!(out, "{} stream `{}` (priority {})", stream.kind.keyword(), stream.stream, stream.priority);
            if let Some(most) = stream.capped_at {
                let plural = if most == 1 { "" } else { "s" };
                let _ =
                    writeln!(out, "  capped: a profile keeps at most {most} {} stream{plural}", stream.kind.keyword());
            }
            let groups = [
                ("assigned by", &stream.assigned_by),
                ("suppressed by", &stream.suppressed_by),
                ("required by", &stream.required_by),
            ];
            let mut any = false;
            for (what, readers) in groups {
                for reader in readers {
                    any = true;
                    // `(5% of profiles, `no solicitations`)`, `(`no door_knock`)`.
                    let mut notes = Vec::new();
                    if let Some(percent) = reader.holdout_percent {
                        notes.push(format!("{percent}% of profiles"));
                    }
                    if let Some(action) = &reader.action {
                        notes.push(format!("`{action}`"));
                    }
                    let notes = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join(", ")) };
                    let holdout = if reader.holdout_percent.is_some() { "holdout " } else { "" };
                    let _ = writeln!(out, "  {what} {holdout}`{}`{notes}", reader.name);
                    if reader.reads.is_empty() {
                        let _ = writeln!(out, "    (reads no field)");
                    }
                    for read in &reader.reads {
                        let _ = writeln!(out, "    {}", read_text(read));
                    }
                }
            }
            if !any {
                let _ = writeln!(out, "  no rule assigns or suppresses it");
            }
        }
        let _ = writeln!(out, "\nfields read");
        for field in &self.fields {
            let categories = categories_text(&field.categories);
            let _ = writeln!(out, "  {}{categories} -> {}", field.field, field.streams.join(", "));
        }
        if self.fields.is_empty() {
            let _ = writeln!(out, "  none");
        }
        let _ = writeln!(out, "\nfields never read");
        if self.unread.is_empty() {
            let _ = writeln!(out, "  none");
        }
        for field in &self.unread {
            let _ = writeln!(out, "  {field}");
        }
        out
    }
}

/// The action through which `rule` suppresses `stream`.
fn suppression(rule: &crate::ir::Rule, stream: &crate::ir::Stream) -> String {
    if rule.suppressed_kinds.contains(&stream.kind) {
        format!("no {}", stream.kind.plural())
    } else {
        format!("no {}", stream.name)
    }
}

fn categories_text(categories: &[String]) -> String {
    if categories.is_empty() {
        String::new()
    } else {
        format!(" [{}]", categories.join(", "))
    }
}

fn read_text(read: &Read) -> String {
    let mut text = format!("{}{}", read.field, categories_text(&read.categories));
    if !read.through.is_empty() {
        let _ = write!(text, " through `{}`", read.through.join("` -> `"));
    }
    text
}
