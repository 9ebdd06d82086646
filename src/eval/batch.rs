//! The NDJSON batch pipeline: profiles read one JSON object a line, each
//! decoded and run by a compiled program, and one JSON line written per
//! profile, in input order. What `narval assign` runs, and what a binding
//! or a server calls, through the facade's [`crate::RuleSet::assign_ndjson`],
//! a thin wrapper over [`assign_ndjson`]. It is written against what the
//! evaluation stage owns: the program (with its engine), the decoder, the
//! checked rule set's schema and streams ([`Compiled`]).
//!
//! Every input line ends up either as an output line or as a
//! [`Rejection`] with its line number; the run goes on after a rejection.
//!
//! Lines are read in batches. A batch is cut into pieces of 256 lines,
//! which the threads take in turn, and their output is written in input
//! order, so the output is the same for every thread count. With N
//! threads, N - 1 workers start on a batch while the calling thread writes
//! the previous batch's output and reads the next batch, then takes pieces
//! too: N threads busy, none waiting for a slower one at the end of a
//! batch. Memory is bounded by two batches, whatever the number of
//! profiles. With one thread, the calling thread reads, assigns and writes
//! in turn.
//!
//! Each thread decodes its lines into one [`Profile`] whose memory is
//! reused from line to line, and appends their output to one buffer per
//! piece: nothing is allocated per line once the buffers have grown.

use std::collections::HashMap;
use std::io::{self, BufRead, Read as _, Write};
use std::ops::Range;
use std::sync::Mutex;

use crate::decode::{self, Profile, ProfileError, Reads};
use crate::eval::program::Program;
use crate::ir::{self, StreamKind};

/// Most threads [`crate::RuleSet::assign_ndjson`],
/// [`crate::RuleSet::assign_batch_parallel`] and
/// [`crate::RuleSet::assign_lines_parallel`] start; a larger count is taken
/// as this.
pub const MAX_THREADS: usize = 256;

/// Most lines in one batch: [`AssignOptions::max_errors`] is checked after
/// each batch.
pub const BATCH_LINES: usize = 16 * 1024;
/// Lines in one piece of a batch, the unit of work of a thread.
const PIECE_LINES: usize = 256;
/// Most bytes in one batch (a batch ends at the line that crosses it).
const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Longest profile line read, not counting its newline; a longer one is
/// skipped to its end and rejected ([`ProfileError::TooLong`]), so that
/// memory stays bounded whatever the input. The decoder's limit, so that a
/// line kept is one it may take.
pub const MAX_LINE_BYTES: usize = crate::decode::MAX_PROFILE_BYTES;
/// Most bytes of an over-long line read in search of its end: past them the
/// input is no profile file (`/dev/zero`), and the run stops
/// ([`BatchError::Read`]) rather than read forever.
pub const MAX_SKIPPED_BYTES: usize = 64 * MAX_LINE_BYTES;

/// How [`crate::RuleSet::assign_ndjson`] runs. The output is the same whatever
/// the number of threads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignOptions {
    /// Threads that assign, from 1 to [`MAX_THREADS`] (a number outside is
    /// taken as the nearest); with 1, the calling thread reads, assigns and
    /// writes in turn. Default: the cores available, at most
    /// [`MAX_THREADS`].
    pub threads: usize,
    /// Stop once more than this many lines are rejected, checked after each
    /// batch of 16,384 lines, so that where a run stops does not
    /// depend on the number of threads. Lines rejected for a duplicate id
    /// ([`LineError::DuplicateId`]) are not counted. Default: `None`, never
    /// stop.
    pub max_errors: Option<usize>,
    /// The profile field whose JSON text, as written, each output line
    /// starts with (`{"id":...`); a line without it is rejected
    /// ([`ProfileError::MissingId`]). Default: `id`.
    pub id_field: String,
    /// Reject a line whose id (as written) was already written for an
    /// earlier line ([`LineError::DuplicateId`]). Every id is kept in
    /// memory, so memory grows with the number of profiles. Default: off.
    pub unique_ids: bool,
    /// Give each [`Rejection`] the text of its line, to fix and run again.
    /// The text holds a person's data; without this, a rejection holds only
    /// a line number and a reason. Default: off.
    pub rejected_text: bool,
}

impl AssignOptions {
    /// The longest profile line, in bytes; a longer line is rejected as too
    /// long, and the lines after it are read.
    pub const MAX_LINE_BYTES: usize = MAX_LINE_BYTES;
    /// The most bytes read without a line end before the input is taken to
    /// be no profile file (`/dev/zero`).
    pub const MAX_SKIPPED_BYTES: usize = MAX_SKIPPED_BYTES;
}

impl Default for AssignOptions {
    fn default() -> AssignOptions {
        AssignOptions {
            threads: std::thread::available_parallelism().map_or(1, usize::from).min(MAX_THREADS),
            max_errors: None,
            id_field: String::from("id"),
            unique_ids: false,
            rejected_text: false,
        }
    }
}

/// What a run of [`crate::RuleSet::assign_ndjson`] did: every line read was
/// assigned or rejected, `read == assigned + rejected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Lines read.
    pub read: usize,
    /// Lines assigned, each written as one output line.
    pub assigned: usize,
    /// Lines rejected, each given to the caller as a [`Rejection`].
    pub rejected: usize,
    /// Whether the run stopped because more than
    /// [`AssignOptions::max_errors`] lines were rejected: the input was read
    /// up to the end of the batch that crossed the limit, and the output
    /// holds the lines assigned up to there.
    pub stopped: bool,
}

/// A line that was not assigned.
#[derive(Debug, PartialEq)]
pub struct Rejection<'a> {
    /// Its line number, from 1.
    pub line: usize,
    /// Why: a reason that names fields and columns, never a person's values.
    pub error: LineError,
    /// With [`AssignOptions::rejected_text`], the line as read, without its
    /// newline (empty for a line over [`AssignOptions::MAX_LINE_BYTES`], which is not
    /// kept).
    pub text: Option<&'a [u8]>,
}

/// Why one input line was not assigned. The reasons name fields and
/// columns, never a person's values.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LineError {
    /// With [`AssignOptions::unique_ids`], an id already written for an
    /// earlier line, whose number this is: the second of two lines
    /// `{"id": 7, ...}`.
    #[error("the same id as line {0}")]
    DuplicateId(usize),
    /// Whatever the decoder refuses, as every other path refuses it:
    /// `{"id": 1, "age": "forty"}` when `age: int`, text that is not JSON,
    /// an empty line, a line over [`AssignOptions::MAX_LINE_BYTES`], a missing id.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

/// Why [`crate::RuleSet::assign_ndjson`] stopped before the end of its input. What
/// was written so far is incomplete; an output meant to appear whole is to
/// be discarded.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The input's first bytes cannot be read, or they are UTF-16 text,
    /// whose every line would be rejected as not JSON (kind
    /// [`io::ErrorKind::InvalidData`], with what to do). Nothing was read.
    #[error("cannot read the profiles: {0}")]
    Start(io::Error),
    /// Reading line `line` failed. Kind [`io::ErrorKind::InvalidData`] when
    /// no line end came in [`AssignOptions::MAX_SKIPPED_BYTES`] (`/dev/zero`): the input
    /// is no profile file.
    #[error("cannot read line {line} of the profiles: {error}")]
    Read {
        /// The line number, from 1.
        line: usize,
        /// What failed.
        error: io::Error,
    },
    /// Writing or flushing the output failed, or the rejections callback
    /// returned an error. Kind [`io::ErrorKind::BrokenPipe`] when the reader
    /// of a pipe closed it (`| head`), which a command may take as the end
    /// its reader asked for.
    #[error("cannot write the output: {0}")]
    Write(io::Error),
    /// A worker thread could not be started (too many threads for the
    /// system's limits).
    #[error("cannot start a thread: {0}")]
    Spawn(io::Error),
}

/// A compiled rule set, borrowed: what the pipeline decodes profiles
/// against and runs on them.
#[derive(Clone, Copy)]
pub struct Compiled<'r> {
    /// The schema profiles are decoded against, and the streams written.
    pub checked: &'r ir::CheckedRules,
    /// The profile fields the rules read: the decoder skips the others.
    pub reads: &'r Reads,
    /// The program, run by the engine chosen for it.
    pub program: &'r Program,
}

/// Assigns every profile of `input` and writes one line per assigned
/// profile to `output`, each rejected line to `rejections`: the pipeline
/// behind [`crate::RuleSet::assign_ndjson`], which says what it writes.
pub fn assign_ndjson(
    rules: Compiled<'_>,
    input: &mut dyn BufRead,
    output: &mut dyn Write,
    rejections: &mut dyn FnMut(Rejection<'_>) -> io::Result<()>,
    options: &AssignOptions,
) -> Result<Summary, BatchError> {
    refuse_utf16(input).map_err(BatchError::Start)?;
    let job = Job {
        rules,
        id_field: &options.id_field,
        names: stream_names(rules.checked),
        is_issue: rules.checked.streams.iter().map(|s| s.kind == StreamKind::Issue).collect(),
        keep_rejected: options.rejected_text,
        unique_ids: options.unique_ids,
    };
    let ids = options.unique_ids.then(HashMap::new);
    let mut sink = Sink { output, rejections, ids, duplicates: 0 };
    let threads = options.threads.clamp(1, MAX_THREADS);
    let (read, assigned, stopped) = assign_all(&job, input, &mut sink, threads, options.max_errors)?;
    sink.output.flush().map_err(BatchError::Write)?;
    let assigned = assigned - sink.duplicates;
    Ok(Summary { read, assigned, rejected: read - assigned, stopped })
}

/// Where a run writes: the assignments, and the rejected lines.
struct Sink<'a> {
    output: &'a mut dyn Write,
    rejections: &'a mut dyn FnMut(Rejection<'_>) -> io::Result<()>,
    /// With `unique_ids`: each id written so far, with its line.
    ids: Option<HashMap<Box<[u8]>, usize>>,
    /// Lines rejected here because their id was seen before.
    duplicates: usize,
}

/// Text in UTF-16 would have each line rejected as not JSON: it is refused
/// at once, with what to do. This reads the first bytes, so it runs when
/// the pipeline starts, after whatever the caller prepares (`narval assign`
/// checks the rules and creates its output files first): a stream that is
/// slow to start (`--profiles -`) does not hold them back.
fn refuse_utf16(input: &mut dyn BufRead) -> io::Result<()> {
    if crate::text::source::looks_like_utf16(input.fill_buf()?) {
        let reason = "not UTF-8 text: it looks like UTF-16; convert it with `iconv -f UTF-16 -t UTF-8`";
        return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
    }
    Ok(())
}

/// The input without the UTF-8 byte order mark some exports start a file
/// with: it belongs to the file, not to its first line, so a file of only
/// a mark holds no line at all. Reads at most the three bytes of a mark.
pub fn skip_bom<'a>(mut input: impl BufRead + 'a) -> io::Result<Box<dyn BufRead + 'a>> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let mut start = Vec::new();
    while start.len() < BOM.len() && BOM.starts_with(&start) {
        let mut byte = [0_u8];
        match input.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => start.extend_from_slice(&byte),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    if start == BOM {
        start.clear();
    }
    Ok(Box::new(io::Cursor::new(start).chain(input)))
}

/// What every worker needs.
struct Job<'r> {
    rules: Compiled<'r>,
    id_field: &'r str,
    /// Each stream's name as a JSON string, by stream id.
    names: Vec<String>,
    /// Whether each stream is an issue stream, by stream id.
    is_issue: Vec<bool>,
    /// Whether rejected lines are kept, for [`AssignOptions::rejected_text`].
    keep_rejected: bool,
    /// Whether each assigned line's place in the output is kept, for
    /// [`AssignOptions::unique_ids`].
    unique_ids: bool,
}

fn stream_names(checked: &ir::CheckedRules) -> Vec<String> {
    checked.streams.iter().map(|s| serde_json::Value::from(s.name.as_str()).to_string()).collect()
}

/// Lines read from the input: one buffer, and where each line starts.
#[derive(Default)]
struct Batch {
    text: Vec<u8>,
    ends: Vec<usize>,
    /// Indexes of the lines over [`MAX_LINE_BYTES`], kept empty in `text`.
    too_long: Vec<usize>,
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
    fn fill(&mut self, input: &mut dyn BufRead, first: usize) -> Result<bool, BatchError> {
        self.text.clear();
        self.ends.clear();
        self.too_long.clear();
        self.first = first;
        while self.ends.len() < BATCH_LINES && self.text.len() < BATCH_BYTES {
            match read_line(input, &mut self.text, MAX_LINE_BYTES) {
                Ok(Line::End) => break,
                Ok(Line::Read) => {}
                Ok(Line::TooLong) => self.too_long.push(self.ends.len()),
                Err(error) => return Err(BatchError::Read { line: first + self.ends.len(), error }),
            }
            self.ends.push(self.text.len());
        }
        Ok(!self.ends.is_empty())
    }
}

/// What [`read_line`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line, appended.
    Read,
    /// A line over the limit, read to its end and not kept.
    TooLong,
    /// The end of the input: nothing was read.
    End,
}

/// Appends one line, newline included, to `text`; a line of more than
/// `limit` bytes before its newline is read to its end but not kept. A
/// line with no end in its first [`AssignOptions::MAX_SKIPPED_BYTES`] is an error of kind
/// [`io::ErrorKind::InvalidData`]: the input is no profile file. How
/// [`crate::RuleSet::assign_ndjson`] reads its lines, for a caller that reads
/// profiles the same way (`narval explain --id`).
pub fn read_line(input: &mut dyn BufRead, text: &mut Vec<u8>, limit: usize) -> io::Result<Line> {
    let start = text.len();
    let (mut read, mut too_long) = (0_usize, false);
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            break;
        }
        let (part, ends) = match memchr::memchr(b'\n', available) {
            Some(newline) => (available.get(..=newline).unwrap_or(available), true),
            None => (available, false),
        };
        let length = part.len();
        // The newline is not counted: a line of exactly the limit is kept,
        // whether it is the last one, without a newline, or not.
        if !too_long && text.len() - start + length - usize::from(ends) > limit {
            too_long = true;
            text.truncate(start);
        }
        if !too_long {
            text.extend_from_slice(part);
        }
        input.consume(length);
        read += length;
        if ends {
            break;
        }
        if read > MAX_SKIPPED_BYTES {
            let reason = format!("no line end in its first {} MiB", MAX_SKIPPED_BYTES / (1024 * 1024));
            return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
        }
    }
    Ok(match (read, too_long) {
        (0, _) => Line::End,
        (_, true) => Line::TooLong,
        (_, false) => Line::Read,
    })
}

impl Batch {
    fn is_too_long(&self, index: usize) -> bool {
        self.too_long.binary_search(&index).is_ok()
    }
}

/// The result of one worker's run of lines.
#[derive(Default)]
struct Chunk {
    out: Vec<u8>,
    rejected: Vec<Rejected>,
    assigned: usize,
    /// With `unique_ids`: each assigned line, in order.
    lines: Vec<Written>,
    /// The profile being assigned, its memory reused from line to line.
    profile: Profile,
}

/// Where an assigned line's output is, for `unique_ids`.
struct Written {
    line: usize,
    /// Its output line in [`Chunk::out`].
    out: Range<usize>,
    /// The id's JSON text in [`Chunk::out`].
    id: Range<usize>,
    /// The input line, for `rejected_text`.
    text: Option<Vec<u8>>,
}

/// A rejected line: its number, why, and (for `rejected_text`) its text.
struct Rejected {
    line: usize,
    reason: LineError,
    text: Option<Vec<u8>>,
}

/// Reads, assigns and writes every profile; returns the lines read, the
/// profiles assigned (duplicate ids included), and whether the run stopped
/// at `max_errors`.
fn assign_all(
    job: &Job<'_>,
    input: &mut dyn BufRead,
    sink: &mut Sink<'_>,
    threads: usize,
    max_errors: Option<usize>,
) -> Result<(usize, usize, bool), BatchError> {
    let mut input = skip_bom(input).map_err(|error| BatchError::Read { line: 1, error })?;
    let (mut read, mut assigned) = (0_usize, 0_usize);
    let mut current = Batch::default();
    let mut next = Batch::default();
    let pieces = if threads <= 1 { 1 } else { BATCH_LINES.div_ceil(PIECE_LINES) };
    let mut chunks: Vec<Chunk> = (0..pieces).map(|_| Chunk::default()).collect();
    let mut done: Vec<Chunk> = (0..pieces).map(|_| Chunk::default()).collect();
    let mut more = current.fill(&mut *input, 1)?;
    if threads <= 1 {
        // One thread does everything in turn, as a single-threaded program
        // would: no reading or writing on another core meanwhile.
        while more {
            let lines = current.ends.len();
            if let Some(chunk) = chunks.first_mut() {
                assign_run(job, &current, 0..lines, chunk);
            }
            read += lines;
            assigned += chunks.iter().map(|c| c.assigned).sum::<usize>();
            write_chunks(&mut chunks, sink)?;
            if max_errors.is_some_and(|max| read - assigned > max) {
                return Ok((read, assigned, true));
            }
            more = current.fill(&mut *input, current.first + lines)?;
        }
        return Ok((read, assigned, false));
    }
    let mut pending = false;
    while more || pending {
        let lines = current.ends.len();
        // The batch in pieces, which the workers take in turn: a worker
        // that loses its core for a while takes fewer, and none waits for
        // another at the end of the batch.
        let runs = if more { pieces_of(lines) } else { Vec::new() };
        let work = Mutex::new(chunks.iter_mut().zip(runs));
        let read_next = std::thread::scope(|scope| {
            let (work, batch) = (&work, &current);
            let take = move || {
                while let Some((chunk, run)) = work.lock().ok().and_then(|mut pieces| pieces.next()) {
                    assign_run(job, batch, run, chunk);
                }
            };
            let mut spawned = Ok(());
            for _ in 1..threads {
                if let Err(error) = std::thread::Builder::new().spawn_scoped(scope, take) {
                    spawned = Err(BatchError::Spawn(error));
                    break;
                }
            }
            // Meanwhile, on this thread: the previous batch out, the next
            // batch in; then pieces of this one, as the other workers.
            let io = (|| {
                if pending {
                    write_chunks(&mut done, sink)?;
                }
                if more {
                    next.fill(&mut *input, batch.first + lines)
                } else {
                    Ok(false)
                }
            })();
            take();
            spawned.and(io)
        });
        drop(work);
        let read_more = read_next?;
        if more {
            read += lines;
            assigned += chunks.iter().map(|c| c.assigned).sum::<usize>();
            // The limit is checked a batch at a time, so where a run stops
            // does not depend on the number of threads.
            if max_errors.is_some_and(|max| read - assigned > max) {
                write_chunks(&mut chunks, sink)?;
                return Ok((read, assigned, true));
            }
            std::mem::swap(&mut chunks, &mut done);
            std::mem::swap(&mut current, &mut next);
        }
        pending = more;
        more = read_more;
    }
    Ok((read, assigned, false))
}

/// `lines` in pieces of [`PIECE_LINES`], in order.
fn pieces_of(lines: usize) -> Vec<Range<usize>> {
    (0..lines).step_by(PIECE_LINES).map(|start| start..(start + PIECE_LINES).min(lines)).collect()
}

/// Writes each chunk's output, then reports its rejected lines, in order.
/// With `unique_ids`, lines are written one by one, in input order, and a
/// line whose id was written before is rejected instead.
fn write_chunks(chunks: &mut [Chunk], sink: &mut Sink<'_>) -> Result<(), BatchError> {
    for chunk in chunks.iter_mut() {
        let mut rejected: Vec<Rejected> = chunk.rejected.drain(..).collect();
        match sink.ids.as_mut() {
            None => sink.output.write_all(&chunk.out).map_err(BatchError::Write)?,
            Some(ids) => {
                for written in chunk.lines.drain(..) {
                    let id = chunk.out.get(written.id.clone()).unwrap_or_default();
                    match ids.get(id) {
                        Some(&first) => {
                            sink.duplicates += 1;
                            let reason = LineError::DuplicateId(first);
                            rejected.push(Rejected { line: written.line, reason, text: written.text });
                        }
                        None => {
                            ids.insert(id.into(), written.line);
                            let out = chunk.out.get(written.out).unwrap_or_default();
                            sink.output.write_all(out).map_err(BatchError::Write)?;
                        }
                    }
                }
                rejected.sort_by_key(|r| r.line);
            }
        }
        for rejected in rejected {
            let text = rejected.text.as_deref().map(|t| t.strip_suffix(b"\n").unwrap_or(t));
            let rejection = Rejection { line: rejected.line, error: rejected.reason, text };
            (sink.rejections)(rejection).map_err(BatchError::Write)?;
        }
        chunk.out.clear();
        chunk.assigned = 0;
    }
    Ok(())
}

fn assign_run(job: &Job<'_>, batch: &Batch, run: Range<usize>, chunk: &mut Chunk) {
    chunk.out.clear();
    chunk.rejected.clear();
    chunk.lines.clear();
    chunk.assigned = 0;
    for index in run {
        let number = batch.first + index;
        let line = batch.line(index);
        let start = chunk.out.len();
        let result = if batch.is_too_long(index) {
            Err(LineError::Profile(ProfileError::TooLong))
        } else {
            assign_line(job, line, &mut chunk.profile, &mut chunk.out)
        };
        match result {
            Ok(id_length) => {
                chunk.assigned += 1;
                if job.unique_ids {
                    // The line starts with `{"id":` and the id as written.
                    let id = start + 6..start + 6 + id_length;
                    let text = job.keep_rejected.then(|| line.to_vec());
                    chunk.lines.push(Written { line: number, out: start..chunk.out.len(), id, text });
                }
            }
            Err(reason) => {
                let text = job.keep_rejected.then(|| line.to_vec());
                chunk.rejected.push(Rejected { line: number, reason, text });
            }
        }
    }
}

/// Assigns the profile on one input line and appends its output line,
/// newline included, to `out`; returns the length of the id's text.
fn assign_line(job: &Job<'_>, line: &[u8], profile: &mut Profile, out: &mut Vec<u8>) -> Result<usize, LineError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let Compiled { checked, reads, program } = job.rules;
    let id = decode::decode_bytes_into(&checked.schema, reads, line, Some(job.id_field), profile)?;
    let id = id.ok_or_else(|| ProfileError::MissingId { field: job.id_field.to_owned() })?;
    let streams = program.assign(profile);
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
    Ok(id.len())
}
