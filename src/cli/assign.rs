//! `narval assign`: stream profiles, one JSON object a line, through a rule
//! set and write one JSON line per profile, in input order.
//!
//! Every input line ends up either as an output line or as a rejection
//! reported on stderr with its line number; the run goes on after a
//! rejection.
//!
//! Lines are read in batches. A batch is cut into pieces of 256 lines,
//! which the threads take in turn, and their output is written in input
//! order, so the output is the same for every thread count. With N
//! threads, N - 1 workers start on a batch while the main thread writes the
//! previous batch's output and reads the next batch, then takes pieces
//! too: N threads busy, none waiting for a slower one at the end of a
//! batch. Memory is bounded by two batches, whatever the number of
//! profiles. With one thread, one thread reads, assigns and writes in turn.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read as _, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use narval::decode::Profile;
use narval::ir::StreamKind;
use narval::{ProfileError, RuleSet};

use super::{builder, io_reason, is_closed_pipe, plural, print_report, say, stdin_twice, AssignArgs, Status};

/// Most `--threads`: more would only wait for the cores (and each thread
/// holds a piece of a batch).
pub const MAX_THREADS: usize = 256;
/// Most lines in one batch.
const BATCH_LINES: usize = 16 * 1024;
/// Lines in one piece of a batch, the unit of work of a thread.
const PIECE_LINES: usize = 256;
/// Most bytes in one batch (a batch ends at the line that crosses it).
const BATCH_BYTES: usize = 8 * 1024 * 1024;
/// Longest profile line read, not counting its newline; a longer one is
/// skipped to its end and rejected, so that memory stays bounded whatever
/// the input. The decoder's limit, so that a line kept is one it may take.
pub const MAX_LINE_BYTES: usize = narval::decode::MAX_PROFILE_BYTES;
/// Most bytes of an over-long line read in search of its end: past them the
/// input is no profile file (`--profiles /dev/zero`), and the run stops
/// rather than read forever.
pub const MAX_SKIPPED_BYTES: usize = 64 * MAX_LINE_BYTES;

/// Why one input line was not assigned. The reasons name fields and
/// columns, never a person's values.
#[derive(Debug, thiserror::Error)]
enum LineError {
    /// With `--unique-ids`, an id already written for an earlier line.
    #[error("the same id as line {0}")]
    DuplicateId(usize),
    /// Whatever the decoder refuses, as every other path refuses it:
    /// `{"id": 1, "age": "forty"}` when `age: int`, text that is not JSON,
    /// an empty line, a line over [`MAX_LINE_BYTES`], a missing id.
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
        Some(n) if !(1..=MAX_THREADS).contains(&n) => {
            say(format_args!("--threads must be between 1 and {MAX_THREADS}"));
            return Status::Usage;
        }
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, usize::from).min(MAX_THREADS),
    };
    if stdin_twice(&args.rules, &args.profiles) {
        return Status::Usage;
    }
    let mut input = match open_profiles(&args.profiles) {
        Ok(input) => input,
        Err(error) => {
            say(format_args!("cannot read {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
    };
    for (flag, path) in [("--out", &args.out), ("--errors", &args.errors)] {
        if path.as_ref().is_some_and(|p| same_file(p, &args.profiles)) {
            say(format_args!("{flag} {name} would overwrite the profiles it reads"));
            return Status::Usage;
        }
    }
    if let (Some(out), Some(errors)) = (&args.out, &args.errors) {
        if out == errors || same_file(out, errors) {
            say("--out and --errors name the same file");
            return Status::Usage;
        }
    }
    let builder = match builder(&args.rules, args.today, args.import_root.as_deref()) {
        Ok(builder) => builder,
        Err(status) => return status,
    };
    let builder = if args.interpreted { builder.interpreted() } else { builder };
    let rules = match builder.build() {
        Ok(rules) => rules,
        Err(report) => {
            print_report(&report);
            return Status::RuleErrors;
        }
    };
    if !rules.report().diagnostics().is_empty() {
        print_report(rules.report());
    }
    // Files are written beside their final name and renamed over it only
    // when the run succeeds: they appear complete or not at all.
    let create = |path: &Path| {
        AtomicFile::create(path).map_err(|error| {
            say(format_args!("cannot create `{}`: {}", path.display(), io_reason(&error)));
            Status::Output
        })
    };
    let mut out_file = match args.out.as_deref().map(create).transpose() {
        Ok(file) => file.map(|f| BufWriter::with_capacity(1 << 20, f)),
        Err(status) => return status,
    };
    let mut errors_file = match args.errors.as_deref().map(create).transpose() {
        Ok(file) => file.map(BufWriter::new),
        Err(status) => return status,
    };
    let mut stdout = BufWriter::with_capacity(1 << 20, super::stdio::stdout());
    let output: &mut dyn Write = match &mut out_file {
        Some(file) => file,
        None => &mut stdout,
    };
    let is_issue = rules.checked().streams.iter().map(|s| s.kind == StreamKind::Issue).collect();
    let job = Job {
        rules: &rules,
        id_field: &args.id_field,
        names: stream_names(&rules),
        is_issue,
        keep_rejected: errors_file.is_some(),
        unique_ids: args.unique_ids,
    };
    if let Err(error) = refuse_utf16(&mut input) {
        // The temporary files of --out and --errors are removed.
        say(format_args!("cannot read {name}: {}", io_reason(&error)));
        return Status::Usage;
    }
    let errors: Option<&mut dyn Write> = errors_file.as_mut().map(|f| f as &mut dyn Write);
    let ids = args.unique_ids.then(std::collections::HashMap::new);
    let mut sink = Sink { output, errors, ids, duplicates: 0, reported: 0 };
    let counts = assign_all(&job, input, &mut sink, threads, args.max_errors)
        .map(|(read, assigned, stopped)| (read, assigned - sink.duplicates, stopped));
    let reported = sink.reported;
    let flushed = sink.output.flush().and_then(|()| stdout.flush());
    let (read, assigned, stopped) = match (counts, flushed) {
        (Ok(counts), Ok(())) => counts,
        (Err(Failure::Read { line, error }), _) => {
            say(format_args!("cannot read line {line} of {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(Failure::Spawn(error)), _) => {
            say(format_args!("cannot start {threads} threads: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(Failure::Write(error)), _) | (Ok(_), Err(error)) if is_closed_pipe(&error) => {
            // The reader has what it wanted (`| head`): stop quietly, with
            // the status of the lines reported so far, and no summary; the
            // temporary files of --out and --errors are removed.
            return if reported > 0 { Status::Rejected } else { Status::Success };
        }
        (Err(Failure::Write(error)), _) | (Ok(_), Err(error)) => {
            say(format_args!("cannot write output: {}", io_reason(&error)));
            return Status::Output;
        }
    };
    let rejected = read - assigned;
    if stopped {
        // Incomplete: the --out file is not created (its temporary is removed).
        say(format_args!(
            "stopped after {} read: {rejected} rejected, more than --max-errors {}; nothing was written to --out",
            plural(read, "line"),
            args.max_errors.unwrap_or(0)
        ));
        if let Some(file) = errors_file {
            let _ = finish(file);
        }
        return Status::TooManyErrors;
    }
    for file in [out_file, errors_file].into_iter().flatten() {
        if let Err(error) = finish(file) {
            say(format_args!("cannot write output: {}", io_reason(&error)));
            return Status::Output;
        }
    }
    say(format_args!("{} read, {assigned} assigned, {rejected} rejected", plural(read, "profile")));
    if rejected > 0 {
        Status::Rejected
    } else {
        Status::Success
    }
}

/// Flushes a buffered file and renames it to its final name.
fn finish(file: BufWriter<AtomicFile>) -> io::Result<()> {
    file.into_inner().map_err(io::IntoInnerError::into_error)?.commit()
}

/// Where a run writes: the assignments, and the rejected lines when asked.
struct Sink<'a> {
    output: &'a mut dyn Write,
    errors: Option<&'a mut dyn Write>,
    /// With `--unique-ids`: each id written so far, with its line.
    ids: Option<std::collections::HashMap<Box<[u8]>, usize>>,
    /// Lines rejected here because their id was seen before.
    duplicates: usize,
    /// Rejected lines reported on stderr so far.
    reported: usize,
}

/// A file written under a temporary name beside its final one, renamed to
/// it by [`AtomicFile::commit`]; dropped without a commit, the temporary is
/// removed, and whatever had that name before is left as it was.
///
/// The temporary name is `.FILE.narval-HOST-PID.tmp` ([`temp_name`]). A run
/// killed outright (SIGKILL, a power cut) cannot remove it; the next run for
/// the same FILE does ([`remove_stale`]), when HOST is this host and no
/// process PID runs any more.
pub struct AtomicFile {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl AtomicFile {
    /// Creates the temporary file beside `target`. A target that exists and
    /// is not a regular file (`/dev/null`, a pipe) is written directly, as
    /// renaming over it would replace it; a symbolic link to a regular file
    /// is followed, so the file it names is replaced and the link kept.
    pub fn create(target: &Path) -> io::Result<AtomicFile> {
        let target = match std::fs::metadata(target) {
            Ok(meta) if !meta.is_file() => {
                let file = std::fs::OpenOptions::new().write(true).truncate(true).open(target)?;
                return Ok(AtomicFile { file, temp: PathBuf::new(), target: target.to_path_buf(), committed: true });
            }
            Ok(_) => std::fs::canonicalize(target)?,
            Err(_) => target.to_path_buf(),
        };
        let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let host = host_name();
        if let Some(host) = &host {
            for (path, pid) in remove_stale(&target, &name, host) {
                say(format_args!(
                    "removed `{}`, left by an earlier run (process {pid}) that ended before finishing",
                    path.display()
                ));
            }
        }
        let host = host.unwrap_or_else(|| String::from("unknown"));
        let temp = target.with_file_name(temp_name(&name, &host, std::process::id()));
        // Where `/proc` is missing, [`remove_stale`] removes nothing; a file
        // with this run's own PID still belongs to no live run.
        if std::fs::symlink_metadata(&temp).is_ok_and(|meta| meta.is_file()) && std::fs::remove_file(&temp).is_ok() {
            say(format_args!("removed `{}`, left by an earlier run that ended before finishing", temp.display()));
        }
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp)?;
        Ok(AtomicFile { file, temp, target, committed: false })
    }

    /// Makes the data durable, then gives the file its final name.
    pub fn commit(mut self) -> io::Result<()> {
        if self.committed {
            // Written directly: there is no temporary to rename.
            return self.file.flush();
        }
        self.file.sync_all()?;
        std::fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

/// The temporary name of the file `name` for process `pid` on `host`.
fn temp_name(name: &str, host: &str, pid: u32) -> String {
    format!("{}{pid}.tmp", temp_prefix(name, host))
}

/// Longest file name most file systems take, in bytes.
const MAX_NAME_BYTES: usize = 255;

/// What every [`temp_name`] of `name` on `host` starts with:
/// `.FILE.narval-HOST-` (see [`short_temp_prefix`]).
fn temp_prefix(name: &str, host: &str) -> String {
    short_temp_prefix(name, &format!("narval-{host}"))
}

/// `.FILE.TAG-`, the start of the temporary name `.FILE.TAG-PID.tmp` of the
/// file `name` (`fmt` writes beside a file too). Where the whole name could
/// pass [`MAX_NAME_BYTES`] with the longest PID, FILE is cut and followed
/// by `~` and 8 hex digits of its SHA-256, so that the name fits and still
/// tells one FILE from another, the same in every run.
pub(super) fn short_temp_prefix(name: &str, tag: &str) -> String {
    let fixed = ".".len() + ".".len() + tag.len() + "-".len() + u32::MAX.to_string().len() + ".tmp".len();
    if fixed + name.len() <= MAX_NAME_BYTES {
        return format!(".{name}.{tag}-");
    }
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let hash: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let mut keep = MAX_NAME_BYTES.saturating_sub(fixed + "~".len() + hash.len());
    while !name.is_char_boundary(keep.min(name.len())) {
        keep -= 1;
    }
    format!(".{}~{hash}.{tag}-", name.get(..keep).unwrap_or_default())
}

/// This host's name, as a temporary name holds it (letters, digits, `.`,
/// `-` and `_`); `None` where Linux's `/proc` does not give it.
fn host_name() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let host = text.trim();
    let fits = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
    (!host.is_empty() && host.len() <= 64 && host.chars().all(fits)).then(|| host.to_string())
}

/// Removes the temporary files that runs on this host killed before they
/// could clean up left beside `target` (whose file name is `name`), and
/// returns them with their process ids. Removed is only a regular file
/// named exactly [`temp_name`]`(name, host, PID)` whose process PID is not
/// running, or is this run's own: `/proc/PID` is absent, while `/proc/self` is present (without
/// `/proc`, nothing is removed). A symbolic link, a directory or any other
/// name is left alone, and removing a name never follows a link.
fn remove_stale(target: &Path, name: &str, host: &str) -> Vec<(PathBuf, u32)> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return Vec::new();
    }
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let prefix = temp_prefix(name, host);
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)?.strip_suffix(".tmp")) else {
            continue;
        };
        // Digits only: `u32::from_str` would take `+12` too.
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(pid) = pid.parse::<u32>() else { continue };
        // `file_type` does not follow a symbolic link.
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        // A file with this run's own PID belongs to no live run: this one
        // has not created its own yet (a restarted container reuses PIDs).
        let running = pid != std::process::id() && proc.join(pid.to_string()).exists();
        if !regular || running {
            continue;
        }
        if std::fs::remove_file(entry.path()).is_ok() {
            removed.push((entry.path(), pid));
        }
    }
    removed.sort();
    removed
}

/// Whether two paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The profiles, opened as every file named on the command line is
/// ([`narval::load::read::open`]).
pub(super) fn open_profiles(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(super::stdio::stdin()?))
    } else {
        let file = narval::load::read::open(path, narval::load::read::Origin::Named)?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }
}

/// Text in UTF-16 would have each line rejected as not JSON: it is refused
/// at once, with what to do. This reads the first bytes, so it runs once
/// the rules are checked and the output files are created: a stream that
/// is slow to start (`--profiles -`) does not hold them back.
fn refuse_utf16(input: &mut dyn BufRead) -> io::Result<()> {
    if narval::text::source::looks_like_utf16(input.fill_buf()?) {
        let reason = "not UTF-8 text: it looks like UTF-16; convert it with `iconv -f UTF-16 -t UTF-8`";
        return Err(io::Error::new(io::ErrorKind::InvalidData, reason));
    }
    Ok(())
}

/// The input without the UTF-8 byte order mark some exports start a file
/// with: it belongs to the file, not to its first line, so a file of only
/// a mark holds no line at all.
pub(super) fn skip_bom(mut input: Box<dyn BufRead>) -> io::Result<Box<dyn BufRead>> {
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
    rules: &'r RuleSet,
    id_field: &'r str,
    /// Each stream's name as a JSON string, by stream id.
    names: Vec<String>,
    /// Whether each stream is an issue stream, by stream id.
    is_issue: Vec<bool>,
    /// Whether rejected lines are kept, for `--errors`.
    keep_rejected: bool,
    /// Whether each assigned line's place in the output is kept, for `--unique-ids`.
    unique_ids: bool,
}

fn stream_names(rules: &RuleSet) -> Vec<String> {
    rules.checked().streams.iter().map(|s| serde_json::Value::from(s.name.as_str()).to_string()).collect()
}

/// Why a run stopped early.
enum Failure {
    Read {
        line: usize,
        error: io::Error,
    },
    Write(io::Error),
    /// A worker thread could not be started (too many threads for the
    /// system's limits).
    Spawn(io::Error),
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
    fn fill(&mut self, input: &mut dyn BufRead, first: usize) -> Result<bool, Failure> {
        self.text.clear();
        self.ends.clear();
        self.too_long.clear();
        self.first = first;
        while self.ends.len() < BATCH_LINES && self.text.len() < BATCH_BYTES {
            match read_line(input, &mut self.text, MAX_LINE_BYTES) {
                Ok(Line::End) => break,
                Ok(Line::Read) => {}
                Ok(Line::TooLong) => self.too_long.push(self.ends.len()),
                Err(error) => return Err(Failure::Read { line: first + self.ends.len(), error }),
            }
            self.ends.push(self.text.len());
        }
        Ok(!self.ends.is_empty())
    }
}

/// What [`read_line`] found.
pub(super) enum Line {
    Read,
    TooLong,
    End,
}

/// Appends one line, newline included, to `text`; a line of more than
/// `limit` bytes before its newline is read to its end but not kept.
pub(super) fn read_line(input: &mut dyn BufRead, text: &mut Vec<u8>, limit: usize) -> io::Result<Line> {
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
    /// With `--unique-ids`: each assigned line, in order.
    lines: Vec<Written>,
    /// The profile being assigned, its memory reused from line to line.
    profile: Profile,
}

/// Where an assigned line's output is, for `--unique-ids`.
struct Written {
    line: usize,
    /// Its output line in [`Chunk::out`].
    out: Range<usize>,
    /// The id's JSON text in [`Chunk::out`].
    id: Range<usize>,
    /// The input line, for `--errors`.
    text: Option<Vec<u8>>,
}

/// A rejected line: its number, why, and (for `--errors`) its text.
struct Rejected {
    line: usize,
    reason: LineError,
    text: Option<Vec<u8>>,
}

/// Reads, assigns and writes every profile; returns the lines read, the
/// profiles assigned, and whether the run stopped at `--max-errors`.
fn assign_all(
    job: &Job<'_>,
    input: Box<dyn BufRead>,
    sink: &mut Sink<'_>,
    threads: usize,
    max_errors: Option<usize>,
) -> Result<(usize, usize, bool), Failure> {
    let mut input = skip_bom(input).map_err(|error| Failure::Read { line: 1, error })?;
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
                    spawned = Err(Failure::Spawn(error));
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
/// With `--unique-ids`, lines are written one by one, in input order, and a
/// line whose id was written before is rejected instead.
fn write_chunks(chunks: &mut [Chunk], sink: &mut Sink<'_>) -> Result<(), Failure> {
    for chunk in chunks.iter_mut() {
        let mut rejected: Vec<Rejected> = chunk.rejected.drain(..).collect();
        match sink.ids.as_mut() {
            None => sink.output.write_all(&chunk.out).map_err(Failure::Write)?,
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
                            sink.output.write_all(out).map_err(Failure::Write)?;
                        }
                    }
                }
                rejected.sort_by_key(|r| r.line);
            }
        }
        for rejected in rejected {
            say(format_args!("line {}: {}", rejected.line, rejected.reason));
            sink.reported += 1;
            if let (Some(errors), Some(text)) = (sink.errors.as_mut(), rejected.text) {
                let record = serde_json::json!({
                    "line": rejected.line,
                    "reason": rejected.reason.to_string(),
                    "text": String::from_utf8_lossy(text.trim_ascii_end()),
                });
                writeln!(errors, "{record}").map_err(Failure::Write)?;
            }
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
    let id = job.rules.decode_line_into(line, job.id_field, profile)?;
    let streams = job.rules.evaluate(profile);
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::{remove_stale, temp_name, temp_prefix, MAX_NAME_BYTES};

    #[test]
    fn a_temporary_name_fits_the_file_name_limit_and_tells_files_apart() {
        let host = "h".repeat(64);
        let long = |c: &str| format!("{}.ndjson", c.repeat(240));
        for name in [long("a"), long("é"), "out.ndjson".to_string()] {
            let temp = temp_name(&name, &host, u32::MAX);
            assert!(temp.len() <= MAX_NAME_BYTES, "{} bytes", temp.len());
            assert!(temp.starts_with(&temp_prefix(&name, &host)));
        }
        assert_eq!(temp_name("out.ndjson", "h", 7), ".out.ndjson.narval-h-7.tmp");
        let (a, b) = (format!("{}a", "x".repeat(250)), format!("{}b", "x".repeat(250)));
        assert_ne!(temp_prefix(&a, &host), temp_prefix(&b, &host));
        assert_eq!(temp_prefix(&a, &host), temp_prefix(&a, &host));
    }

    /// A restarted container reuses process ids: a file left with this
    /// run's own id must not block it.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_stale_temporary_file_with_this_runs_own_pid_is_removed() {
        let dir = std::env::temp_dir().join(format!("narval-own-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let target = dir.join("out.ndjson");
        let own = dir.join(temp_name("out.ndjson", "host", std::process::id()));
        std::fs::write(&own, "left").unwrap();
        let removed = remove_stale(&target, "out.ndjson", "host");
        assert_eq!(removed, [(own.clone(), std::process::id())]);
        assert!(!own.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
