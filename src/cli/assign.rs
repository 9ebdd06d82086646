//! `narval assign`: stream profiles, one JSON object a line, through a rule
//! set and write one JSON line per profile, in input order.
//!
//! Every input line ends up either as an output line or as a rejection
//! reported on stderr with its line number; the run goes on after a
//! rejection.
//!
//! Lines are read in batches. The lines of a batch are split among the
//! worker threads in contiguous runs, and their output is written in input
//! order, so the output is the same for every thread count. While the
//! workers assign one batch, the main thread writes the previous batch's
//! output and reads the next batch; memory is bounded by two batches,
//! whatever the number of profiles.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::ops::Range;
use std::path::Path;

use narval::ast::StreamKind;
use narval::{ProfileError, RuleSet};

use super::{builder, io_reason, plural, print_report, say, AssignArgs, Status};

/// Most lines in one batch.
const BATCH_LINES: usize = 16 * 1024;
/// Most bytes in one batch (a batch ends at the line that crosses it).
const BATCH_BYTES: usize = 8 * 1024 * 1024;

/// Why one input line was not assigned. The reasons name fields and
/// columns, never a person's values.
#[derive(Debug, thiserror::Error)]
enum LineError {
    /// A blank line between profiles.
    #[error("empty line")]
    Empty,
    /// Bytes that are not UTF-8 text.
    #[error("not UTF-8 text (invalid byte at column {0})")]
    Utf8(usize),
    /// `{"age": 40}` when the id field is `id`.
    #[error("no `{0}` field to identify the profile")]
    MissingId(String),
    /// `{"id": 1, "age": "forty"}` when `age: int`, or text that is not JSON.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Builds the rule set, then assigns every profile.
pub fn run(args: &AssignArgs) -> Status {
    let name = if args.profiles.as_os_str() == "-" {
        String::from("standard input")
    } else {
        format!("`{}`", args.profiles.display())
    };
    let threads = match args.threads {
        Some(0) => {
            say("--threads must be at least 1");
            return Status::Usage;
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from),
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
    let is_issue = rules.checked().streams.iter().map(|s| s.kind == StreamKind::Issue).collect();
    let job = Job { rules: &rules, id_field: &args.id_field, names: stream_names(&rules), is_issue };
    let mut output = BufWriter::with_capacity(1 << 20, output);
    let counts = assign_all(&job, input, &mut output, threads);
    let flushed = output.flush();
    let (read, assigned) = match (counts, flushed) {
        (Ok(counts), Ok(())) => counts,
        (Err(Failure::Read { line, error }), _) => {
            say(format_args!("cannot read line {line} of {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(Failure::Write(error)), _) | (Ok(_), Err(error)) => {
            say(format_args!("cannot write output: {}", io_reason(&error)));
            return Status::Output;
        }
    };
    let rejected = read - assigned;
    say(format_args!("{} read, {assigned} assigned, {rejected} rejected", plural(read, "profile")));
    if rejected > 0 {
        Status::Rejected
    } else {
        Status::Success
    }
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
        Ok(Box::new(BufReader::with_capacity(1 << 20, File::open(path)?)))
    }
}

/// What every worker needs.
struct Job<'r> {
    rules: &'r RuleSet,
    id_field: &'r str,
    /// Each stream's name as a JSON string, by stream id.
    names: Vec<String>,
    /// Whether each stream is an issue stream, by stream id.
    is_issue: Vec<bool>,
}

fn stream_names(rules: &RuleSet) -> Vec<String> {
    rules.checked().streams.iter().map(|s| serde_json::Value::from(s.name.as_str()).to_string()).collect()
}

/// Why a run stopped early.
enum Failure {
    Read { line: usize, error: io::Error },
    Write(io::Error),
}

/// Lines read from the input: one buffer, and where each line starts.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    ends: Vec<usize>,
    /// Line number of the first line.
    first: usize,
}

impl Batch {
    fn line(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends.get(index - 1).copied().unwrap_or(0) };
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.text.get(start..end).unwrap_or_default()
    }

    /// Reads up to a batch of lines; `Ok(false)` at the end of the input.
    fn fill(&mut self, input: &mut dyn BufRead, first: usize) -> Result<bool, Failure> {
        self.text.clear();
        self.ends.clear();
        self.first = first;
        while self.ends.len() < BATCH_LINES && self.text.len() < BATCH_BYTES {
            match input.read_until(b'\n', &mut self.text) {
                Ok(0) => break,
                Ok(_) => self.ends.push(self.text.len()),
                Err(error) => return Err(Failure::Read { line: first + self.ends.len(), error }),
            }
        }
        Ok(!self.ends.is_empty())
    }
}

/// The result of one worker's run of lines.
#[derive(Default)]
struct Chunk {
    out: Vec<u8>,
    rejected: Vec<(usize, LineError)>,
    assigned: usize,
}

/// Reads, assigns and writes every profile; returns the lines read and the
/// profiles assigned.
fn assign_all(
    job: &Job<'_>,
    mut input: Box<dyn BufRead>,
    output: &mut dyn Write,
    threads: usize,
) -> Result<(usize, usize), Failure> {
    let (mut read, mut assigned) = (0_usize, 0_usize);
    let mut current = Batch::default();
    let mut next = Batch::default();
    let mut chunks: Vec<Chunk> = (0..threads).map(|_| Chunk::default()).collect();
    let mut done: Vec<Chunk> = (0..threads).map(|_| Chunk::default()).collect();
    let mut more = current.fill(&mut *input, 1)?;
    let mut pending = false;
    while more || pending {
        let lines = current.ends.len();
        let read_next = std::thread::scope(|scope| {
            if more {
                let runs = split(lines, threads);
                for (chunk, run) in chunks.iter_mut().zip(runs) {
                    let batch = &current;
                    scope.spawn(move || assign_run(job, batch, run, chunk));
                }
            }
            // Meanwhile: the previous batch out, the next batch in.
            if pending {
                write_chunks(&mut done, output)?;
            }
            if more {
                next.fill(&mut *input, current.first + lines)
            } else {
                Ok(false)
            }
        });
        let read_more = read_next?;
        if more {
            read += lines;
            assigned += chunks.iter().map(|c| c.assigned).sum::<usize>();
            std::mem::swap(&mut chunks, &mut done);
            std::mem::swap(&mut current, &mut next);
        }
        pending = more;
        more = read_more;
    }
    Ok((read, assigned))
}

/// `lines` split into `parts` contiguous runs of nearly equal length.
fn split(lines: usize, parts: usize) -> Vec<Range<usize>> {
    let parts = parts.max(1);
    (0..parts).map(|i| (lines * i / parts)..(lines * (i + 1) / parts)).collect()
}

/// Writes each chunk's output, then reports its rejected lines, in order.
fn write_chunks(chunks: &mut [Chunk], output: &mut dyn Write) -> Result<(), Failure> {
    for chunk in chunks.iter_mut() {
        output.write_all(&chunk.out).map_err(Failure::Write)?;
        for (line, reason) in chunk.rejected.drain(..) {
            say(format_args!("line {line}: {reason}"));
        }
        chunk.out.clear();
        chunk.assigned = 0;
    }
    Ok(())
}

fn assign_run(job: &Job<'_>, batch: &Batch, run: Range<usize>, chunk: &mut Chunk) {
    chunk.out.clear();
    chunk.rejected.clear();
    chunk.assigned = 0;
    for index in run {
        match assign_line(job, batch.line(index), &mut chunk.out) {
            Ok(()) => chunk.assigned += 1,
            Err(reason) => chunk.rejected.push((batch.first + index, reason)),
        }
    }
}

/// Assigns the profile on one input line and appends its output line,
/// newline included, to `out`.
fn assign_line(job: &Job<'_>, line: &[u8], out: &mut Vec<u8>) -> Result<(), LineError> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Err(LineError::Empty);
    }
    let text = std::str::from_utf8(text).map_err(|e| LineError::Utf8(e.valid_up_to() + 1))?;
    let (profile, id) = job.rules.decode_line(text, job.id_field)?;
    let id = id.ok_or_else(|| LineError::MissingId(job.id_field.to_owned()))?;
    let streams = job.rules.evaluate(&profile);
    out.extend_from_slice(b"{\"id\":");
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(b",\"solicitations\":[");
    // Stream ids list solicitations first, then issues, each in priority order.
    let mut in_issues = false;
    let mut first = true;
    for stream in streams.iter() {
        if !in_issues && job.is_issue.get(stream).copied().unwrap_or(false) {
            out.extend_from_slice(b"],\"issues\":[");
            in_issues = true;
            first = true;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(job.names.get(stream).map_or(&b"null"[..], |n| n.as_bytes()));
    }
    if !in_issues {
        out.extend_from_slice(b"],\"issues\":[");
    }
    out.extend_from_slice(b"]}\n");
    Ok(())
}
