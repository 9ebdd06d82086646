//! `narval assign`: stream profiles, one JSON object a line, through a rule
//! set and write one JSON line per profile, in input order.
//!
//! The pipeline is the library's ([`narval::batch`]): this file holds what
//! is the command's own, the arguments, the files (standard input, `--out`
//! and `--errors` written under a temporary name and renamed when the run
//! succeeds), the messages on stderr and the exit statuses.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use narval::MAX_THREADS;
use narval::{AssignOptions, BatchError, Rejection};

use super::{builder, io_reason, is_closed_pipe, plural, print_report, say, stdin_twice, AssignArgs, Status};

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
    let options = AssignOptions {
        threads,
        max_errors: args.max_errors,
        id_field: args.id_field.clone(),
        unique_ids: args.unique_ids,
        rejected_text: errors_file.is_some(),
    };
    // Rejected lines reported on stderr so far.
    let mut reported = 0_usize;
    let mut report = |rejection: Rejection<'_>| {
        say(format_args!("line {}: {}", rejection.line, rejection.error));
        reported += 1;
        if let (Some(errors), Some(text)) = (errors_file.as_mut(), rejection.text) {
            let record = serde_json::json!({
                "line": rejection.line,
                "reason": rejection.error.to_string(),
                "text": String::from_utf8_lossy(text.trim_ascii_end()),
            });
            writeln!(errors, "{record}")?;
        }
        Ok(())
    };
    // The library flushes `output`; `stdout`, when it is not the output,
    // holds nothing.
    let summary = rules.assign_ndjson(&mut *input, output, &mut report, &options);
    let flushed = stdout.flush();
    let (read, assigned, stopped) = match (summary, flushed) {
        (Ok(summary), Ok(())) => (summary.read, summary.assigned, summary.stopped),
        (Err(BatchError::Start(error)), _) => {
            // The temporary files of --out and --errors are removed.
            say(format_args!("cannot read {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(BatchError::Read { line, error }), _) => {
            say(format_args!("cannot read line {line} of {name}: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(BatchError::Spawn(error)), _) => {
            say(format_args!("cannot start {threads} threads: {}", io_reason(&error)));
            return Status::Usage;
        }
        (Err(BatchError::Write(error)), _) | (Ok(_), Err(error)) if is_closed_pipe(&error) => {
            // The reader has what it wanted (`| head`): stop quietly, with
            // the status of the lines reported so far, and no summary; the
            // temporary files of --out and --errors are removed.
            return if reported > 0 { Status::Rejected } else { Status::Success };
        }
        (Err(BatchError::Write(error)), _) | (Ok(_), Err(error)) => {
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
/// ([`narval::source::open`]).
pub(super) fn open_profiles(path: &Path) -> io::Result<Box<dyn BufRead>> {
    if path.as_os_str() == "-" {
        Ok(Box::new(super::stdio::stdin()?))
    } else {
        let file = narval::files::open(path, narval::files::Origin::Named)?;
        Ok(Box::new(BufReader::with_capacity(1 << 20, file)))
    }
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
