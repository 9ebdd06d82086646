//! narval-fuzz: a mutational fuzzer for narval that runs on stable Rust.
//!
//! It is not coverage-guided: nothing is instrumented. It keeps a mutated
//! input when the input did something no earlier input did, as told by the
//! signature its target returns (diagnostic codes, syntax node kinds,
//! streams assigned), which steers it a little towards new behaviour.
//!
//! ```text
//! narval-fuzz TARGET|all [--seconds S | --runs N] [--seed S]
//! narval-fuzz large [--scale N]             large generated rule files, timed
//! narval-fuzz TARGET --replay FILE...       run files through a target
//! narval-fuzz TARGET --minimize FILE        shrink a crashing input
//! narval-fuzz TARGET --export-seeds DIR     the seeds, one file each
//! ```
//!
//! Each target runs in a worker process that sends every input to this
//! process before running it, so that an abort (a stack overflow) or an
//! endless loop is caught with the input that caused it. In the worker, each
//! execution runs under `catch_unwind` and is timed. A failure is written to
//! `fuzz/crashes/TARGET-HASH`; the exit status is then 1.

mod mutate;
mod rng;
mod seeds;
mod targets;

use std::collections::{HashMap, HashSet};
use std::io::{BufReader, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mutate::Kind;
use rng::Rng;
use targets::Target;

/// An execution slower than this is a failure (a hang)...
const HANG: Duration = Duration::from_secs(1);
/// ... plus this much per byte of input: the heaviest targets parse a file
/// of 256 kB six times, which takes about a second.
const HANG_PER_BYTE: Duration = Duration::from_nanos(4_000);
/// An execution slower than this is reported, and written to
/// `fuzz/crashes/slow/`, a few times a run.
const SLOW: Duration = Duration::from_millis(100);
/// A worker that runs one input for this long is stopped.
const KILL: Duration = Duration::from_secs(20);
/// The time a large rule file may take: this, plus so much per byte.
const LARGE_BASE: Duration = Duration::from_millis(500);
const LARGE_PER_BYTE: Duration = Duration::from_nanos(10_000);
/// Inputs kept besides the seeds.
const CORPUS: usize = 4096;
/// Larger inputs are run but not kept: a corpus of large inputs runs slowly.
const KEEP_LEN: usize = 16 * 1024;
/// Crash files written for one place of panic, at most.
const FILES_PER_FAILURE: usize = 4;

const USAGE: &str = "usage: narval-fuzz TARGET|all [--seconds S | --runs N] [--seed S] [--root DIR] [--memory-mb M]
       narval-fuzz large [--scale N]
       narval-fuzz TARGET --replay FILE...
       narval-fuzz TARGET --minimize FILE
       narval-fuzz TARGET --export-seeds DIR
targets: parse, check, format, decode, eval; `all` runs them, then `large`";

struct Args {
    targets: Vec<Target>,
    /// Whether to run the large rule files (`large`, or `all` after the targets).
    large: bool,
    /// How many times the large rule files repeat their construct.
    scale: usize,
    seconds: Option<f64>,
    runs: Option<u64>,
    seed: u64,
    root: PathBuf,
    memory_mb: u64,
    worker: bool,
    replay: Vec<PathBuf>,
    minimize: Option<PathBuf>,
    /// Where to write the seeds of a target, one file each (for libFuzzer).
    export: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or("missing TARGET")?;
    let (targets, large) = match name.as_str() {
        "all" => (Target::ALL.to_vec(), true),
        "large" => (vec![Target::Check], true),
        _ => (vec![Target::from_name(&name).ok_or_else(|| format!("unknown target `{name}`"))?], false),
    };
    let default_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut parsed = Args {
        targets,
        large,
        scale: 16_000,
        seconds: None,
        runs: None,
        seed: seed % 1_000_000_000,
        root: default_root,
        memory_mb: 2048,
        worker: false,
        replay: Vec::new(),
        minimize: None,
        export: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("`{arg}` needs a value"));
        match arg.as_str() {
            "--seconds" => parsed.seconds = Some(value()?.parse().map_err(|_| "--seconds takes a number")?),
            "--runs" => parsed.runs = Some(value()?.parse().map_err(|_| "--runs takes a whole number")?),
            "--seed" => parsed.seed = value()?.parse().map_err(|_| "--seed takes a whole number")?,
            "--root" => parsed.root = PathBuf::from(value()?),
            "--memory-mb" => parsed.memory_mb = value()?.parse().map_err(|_| "--memory-mb takes a whole number")?,
            "--minimize" => parsed.minimize = Some(PathBuf::from(value()?)),
            "--export-seeds" => parsed.export = Some(PathBuf::from(value()?)),
            "--worker" => parsed.worker = true,
            "--large" => parsed.large = true,
            "--scale" => parsed.scale = value()?.parse().map_err(|_| "--scale takes a whole number")?,
            "--replay" => {
                parsed.replay.extend(args.by_ref().map(PathBuf::from));
                if parsed.replay.is_empty() {
                    return Err("--replay needs files".into());
                }
            }
            _ => return Err(format!("unknown argument `{arg}`")),
        }
    }
    parsed.root = std::fs::canonicalize(&parsed.root).unwrap_or(parsed.root);
    if parsed.seconds.is_none() && parsed.runs.is_none() {
        parsed.seconds = Some(10.0);
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("narval-fuzz: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    install_panic_hook();
    let root = args.root.clone();
    let worker = args.worker;
    let target = args.targets.first().copied().unwrap_or(Target::Parse);
    let ok = if !args.replay.is_empty() {
        replay(target, &args.replay)
    } else if let Some(file) = &args.minimize {
        minimize(target, file)
    } else if let Some(dir) = &args.export {
        let seeds = seeds::load(&args.root, target);
        let written = seeds.iter().filter(|seed| write_input(dir, target, seed).exists()).count();
        eprintln!("{}: {written} seeds in {}", target.name(), dir.display());
        written == seeds.len()
    } else if args.worker {
        // The default stack of a spawned thread (2 MiB), as library users' threads have.
        let worker = std::thread::spawn(move || {
            let mut worker = Worker::new(&args, target);
            if args.large {
                worker.run_large(args.scale)
            } else {
                worker.run(&args)
            }
        });
        worker.join().unwrap_or(false)
    } else {
        eprintln!("narval-fuzz: seed {} (the same seed gives the same inputs)", args.seed);
        let mut ok = true;
        if args.targets.len() > 1 || !args.large {
            for &target in &args.targets {
                ok &= supervise(&args, target, false);
            }
        }
        if args.large {
            ok &= supervise(&args, Target::Check, true);
        }
        ok
    };
    if ok {
        ExitCode::SUCCESS
    } else {
        if !worker {
            eprintln!("narval-fuzz: failures found; the inputs are in {}", crashes_dir(&root).display());
        }
        ExitCode::FAILURE
    }
}

// ---- panics ----------------------------------------------------------------------

/// The message and place of the last panic, caught by the hook rather than
/// printed.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map_or_else(String::new, |l| format!("{}:{}", l.file(), l.line()));
        let message = match (info.payload().downcast_ref::<&str>(), info.payload().downcast_ref::<String>()) {
            (Some(s), _) => s.to_string(),
            (_, Some(s)) => s.clone(),
            _ => "a panic without a message".to_string(),
        };
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some((place, message));
        }
    }));
}

/// Runs one input; `Err` holds the place and message of the panic.
fn run_caught(target: Target, input: &[u8]) -> Result<u64, (String, String)> {
    catch_unwind(AssertUnwindSafe(|| target.run(input))).map_err(|_| {
        LAST_PANIC.lock().ok().and_then(|mut last| last.take()).unwrap_or_else(|| (String::new(), String::new()))
    })
}

fn crashes_dir(root: &Path) -> PathBuf {
    root.join("fuzz").join("crashes")
}

/// Writes a failing input; returns its path.
fn write_crash(root: &Path, target: Target, input: &[u8]) -> PathBuf {
    write_input(&crashes_dir(root), target, input)
}

/// Writes an input to `dir/TARGET-HASH`; returns its path.
fn write_input(dir: &Path, target: Target, input: &[u8]) -> PathBuf {
    let path = dir.join(format!("{}-{:016x}", target.name(), targets::hash(input)));
    if let Err(error) = std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, input)) {
        eprintln!("narval-fuzz: cannot write {}: {error}", path.display());
    }
    path
}

// ---- the supervisor ------------------------------------------------------------

/// Runs one target in a worker process (or, with `large`, the large rule
/// files through it); true when nothing failed.
fn supervise(args: &Args, target: Target, large: bool) -> bool {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("narval-fuzz: cannot find my own executable");
        return false;
    };
    let mut command = Command::new(exe);
    command.arg(target.name()).arg("--worker").arg("--seed").arg(args.seed.to_string());
    command.arg("--root").arg(&args.root).arg("--memory-mb").arg(args.memory_mb.to_string());
    if large {
        command.arg("--large").arg("--scale").arg(args.scale.to_string());
    }
    if let Some(seconds) = args.seconds {
        command.arg("--seconds").arg(seconds.to_string());
    }
    if let Some(runs) = args.runs {
        command.arg("--runs").arg(runs.to_string());
    }
    let mut child = match command.stdout(Stdio::piped()).spawn() {
        Ok(child) => child,
        Err(error) => {
            eprintln!("narval-fuzz: cannot start a worker: {error}");
            return false;
        }
    };
    // The input being run, and since when.
    let current = Arc::new(Mutex::new((Vec::new(), Instant::now())));
    let reader = child.stdout.take().map(|stdout| {
        let current = Arc::clone(&current);
        std::thread::spawn(move || read_frames(stdout, &current))
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(error) => {
                eprintln!("narval-fuzz: lost the worker: {error}");
                break None;
            }
        }
        let stuck = current.lock().is_ok_and(|c| !c.0.is_empty() && c.1.elapsed() > KILL);
        if stuck {
            let _ = child.kill();
            let _ = child.wait();
            let input = current.lock().map(|c| c.0.clone()).unwrap_or_default();
            let path = write_crash(&args.root, target, &input);
            eprintln!("{}: HANG: one input ran for more than {} s: {}", target.name(), KILL.as_secs(), path.display());
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    match status.and_then(|s| s.code()) {
        Some(0) => true,
        Some(1) => false,
        _ => {
            let input = current.lock().map(|c| c.0.clone()).unwrap_or_default();
            let path = write_crash(&args.root, target, &input);
            eprintln!(
                "{}: CRASH: the worker died ({}), probably on its last input: {}",
                target.name(),
                status.map_or("no status".to_string(), |s| s.to_string()),
                path.display()
            );
            false
        }
    }
}

/// Reads the inputs a worker sends: a little-endian `u32` length, then the bytes.
fn read_frames(stdout: impl Read, current: &Mutex<(Vec<u8>, Instant)>) {
    let mut reader = BufReader::with_capacity(1 << 20, stdout);
    let mut length = [0u8; 4];
    while reader.read_exact(&mut length).is_ok() {
        let mut input = vec![0; u32::from_le_bytes(length) as usize];
        if reader.read_exact(&mut input).is_err() {
            return;
        }
        if let Ok(mut current) = current.lock() {
            *current = (input, Instant::now());
        }
    }
}

// ---- the worker -------------------------------------------------------------------

struct Worker {
    target: Target,
    kind: Kind,
    root: PathBuf,
    rng: Rng,
    corpus: Vec<Vec<u8>>,
    seeds: usize,
    signatures: HashSet<u64>,
    /// Where the supervisor reads the inputs.
    frames: Option<std::fs::File>,
    executions: u64,
    refused: u64,
    slowest: Duration,
    slowest_input: Vec<u8>,
    slow_reported: usize,
    /// Crash files written per place of failure, and the smallest input's length.
    failures: HashMap<String, (usize, usize)>,
    failed: u64,
    memory_limit: u64,
}

impl Worker {
    fn new(args: &Args, target: Target) -> Worker {
        let kind = match target {
            Target::Parse | Target::Check | Target::Format => Kind::Rules,
            Target::Decode => Kind::Json,
            Target::Eval => Kind::Profiles,
        };
        let frames = std::fs::OpenOptions::new().write(true).open("/dev/stdout").ok();
        Worker {
            target,
            kind,
            root: args.root.clone(),
            rng: Rng::new(args.seed ^ targets::hash(target.name().as_bytes())),
            corpus: Vec::new(),
            seeds: 0,
            signatures: HashSet::new(),
            frames,
            executions: 0,
            refused: 0,
            slowest: Duration::ZERO,
            slowest_input: Vec::new(),
            slow_reported: 0,
            failures: HashMap::new(),
            failed: 0,
            memory_limit: args.memory_mb.saturating_mul(1 << 20),
        }
    }

    /// Runs the seeds, then mutations until the budget is spent; true when
    /// nothing failed.
    fn run(mut self, args: &Args) -> bool {
        let start = Instant::now();
        let seeds = seeds::load(&self.root, self.target);
        if seeds.is_empty() {
            eprintln!("{}: no seeds found under {}", self.target.name(), self.root.display());
            return false;
        }
        for seed in &seeds {
            if let Some(signature) = self.execute(seed) {
                self.signatures.insert(signature);
            }
        }
        self.seeds = seeds.len();
        self.corpus = seeds;
        let deadline = args.seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
        let mut runs = 0u64;
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) || args.runs.is_some_and(|n| runs >= n) {
                break;
            }
            runs += 1;
            let base = self.rng.below(self.corpus.len());
            let other = self.rng.below(self.corpus.len());
            let (Some(base), Some(other)) = (self.corpus.get(base), self.corpus.get(other)) else { continue };
            let input = mutate::mutate(&mut self.rng, self.kind, base, other);
            let signature = self.execute(&input);
            if runs % 256 == 0 && !self.memory_ok(&input) {
                break;
            }
            if input.len() <= KEEP_LEN && signature.is_some_and(|s| self.signatures.insert(s)) {
                self.keep(input);
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        if self.slowest > SLOW {
            let path = write_input(&crashes_dir(&self.root).join("slow"), self.target, &self.slowest_input);
            eprintln!("{}: the slowest input: {}", self.target.name(), path.display());
        }
        eprintln!(
            "{}: {} seeds; {} executions in {:.1} s ({:.0}/s); corpus {}; slowest {:.1} ms; {} refused as too large; \
             {} failures",
            self.target.name(),
            self.seeds,
            self.executions,
            seconds,
            self.executions as f64 / seconds.max(1e-9),
            self.corpus.len(),
            self.slowest.as_secs_f64() * 1000.0,
            self.refused,
            self.failed,
        );
        self.failed == 0
    }

    /// Adds an input to the corpus; when it is full, in place of a mutated one.
    fn keep(&mut self, input: Vec<u8>) {
        if self.corpus.len() < self.seeds + CORPUS {
            self.corpus.push(input);
        } else {
            let at = self.seeds + self.rng.below(CORPUS);
            if let Some(slot) = self.corpus.get_mut(at) {
                *slot = input;
            }
        }
    }

    /// Runs one input, timed and under `catch_unwind`; its signature, or
    /// `None` when it failed or was refused.
    fn execute(&mut self, input: &[u8]) -> Option<u64> {
        if input.len() > targets::MAX_INPUT {
            self.refused += 1;
            return None;
        }
        self.send(input);
        let start = Instant::now();
        let result = run_caught(self.target, input);
        let elapsed = start.elapsed();
        self.executions += 1;
        if elapsed > self.slowest {
            self.slowest = elapsed;
            self.slowest_input = input.to_vec();
        }
        match result {
            Ok(_) if elapsed > HANG + HANG_PER_BYTE * u32::try_from(input.len()).unwrap_or(u32::MAX) => {
                let message = format!("one execution took {:.2} s on {} bytes", elapsed.as_secs_f64(), input.len());
                self.fail("HANG", "hang".into(), &message, input);
                None
            }
            Ok(signature) => {
                if elapsed > SLOW && self.slow_reported < 3 {
                    self.slow_reported += 1;
                    let path = write_input(&crashes_dir(&self.root).join("slow"), self.target, input);
                    eprintln!(
                        "{}: slow: {:.0} ms on {} bytes: {}",
                        self.target.name(),
                        elapsed.as_secs_f64() * 1000.0,
                        input.len(),
                        path.display()
                    );
                }
                Some(signature)
            }
            Err((place, message)) => {
                self.fail("CRASH", place, &message, input);
                None
            }
        }
    }

    fn send(&mut self, input: &[u8]) {
        let Some(frames) = &mut self.frames else { return };
        let mut frame = Vec::with_capacity(input.len() + 4);
        frame.extend_from_slice(&(input.len() as u32).to_le_bytes());
        frame.extend_from_slice(input);
        if frames.write_all(&frame).is_err() {
            self.frames = None;
        }
    }

    /// Records a failure; writes the input when it is the first or the
    /// smallest yet for its place.
    fn fail(&mut self, what: &str, place: String, message: &str, input: &[u8]) {
        self.failed += 1;
        let (written, smallest) = self.failures.get(&place).copied().unwrap_or((0, usize::MAX));
        if written < FILES_PER_FAILURE && input.len() < smallest {
            let path = write_crash(&self.root, self.target, input);
            let first = written == 0;
            self.failures.insert(place.clone(), (written + 1, input.len()));
            if first {
                eprintln!("{}: {what} at {place}: {message}\n  input: {}", self.target.name(), path.display());
            } else {
                eprintln!("{}: {what} at {place} again, smaller input: {}", self.target.name(), path.display());
            }
        }
    }

    /// Runs each large rule file once; a failure when one takes longer than
    /// a limit proportional to its size (ample for linear work, far short
    /// of what quadratic work takes at this scale).
    fn run_large(&mut self, scale: usize) -> bool {
        let start = Instant::now();
        let mut bytes = 0;
        for (what, text) in targets::large_rule_files(scale) {
            let input = text.into_bytes();
            bytes += input.len();
            if input.len() > targets::MAX_INPUT {
                eprintln!("large: `{what}` is {} bytes, over the input limit: skipped", input.len());
                continue;
            }
            let limit = LARGE_BASE + LARGE_PER_BYTE * u32::try_from(input.len()).unwrap_or(u32::MAX);
            self.send(&input);
            let started = Instant::now();
            let result = run_caught(self.target, &input);
            let elapsed = started.elapsed();
            self.executions += 1;
            match result {
                Err((place, message)) => self.fail("CRASH", place, &format!("{what}: {message}"), &input),
                Ok(_) if elapsed > limit => {
                    let message = format!(
                        "`{what}` took {:.2} s for {} bytes, over {:.2} s",
                        elapsed.as_secs_f64(),
                        input.len(),
                        limit.as_secs_f64()
                    );
                    self.fail("SLOW", format!("large: {what}"), &message, &input);
                }
                Ok(_) => {}
            }
            if std::env::var_os("NARVAL_FUZZ_VERBOSE").is_some() {
                eprintln!("large: {what}: {} bytes in {:.3} s", input.len(), elapsed.as_secs_f64());
            }
        }
        eprintln!(
            "large: {} rule files ({} kB) with constructs repeated {scale} times in {:.1} s; {} failures",
            self.executions,
            bytes / 1000,
            start.elapsed().as_secs_f64(),
            self.failed
        );
        self.failed == 0
    }

    /// Whether the resident memory is under the limit; a failure otherwise.
    fn memory_ok(&mut self, last: &[u8]) -> bool {
        let Some(resident) = resident_bytes() else { return true };
        if resident <= self.memory_limit {
            return true;
        }
        let message = format!("resident memory {} MiB", resident >> 20);
        self.fail("MEMORY", "memory".into(), &message, last);
        false
    }
}

/// The resident set size, on Linux.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

// ---- replay and minimize ----------------------------------------------------------

fn replay(target: Target, files: &[PathBuf]) -> bool {
    let mut ok = true;
    for file in files {
        let Ok(input) = std::fs::read(file) else {
            eprintln!("narval-fuzz: cannot read {}", file.display());
            ok = false;
            continue;
        };
        let start = Instant::now();
        match run_caught(target, &input) {
            Ok(_) => eprintln!("{}: ok in {:.1} ms", file.display(), start.elapsed().as_secs_f64() * 1000.0),
            Err((place, message)) => {
                eprintln!("{}: CRASH at {place}: {message}", file.display());
                ok = false;
            }
        }
    }
    ok
}

/// Deletes ever smaller ranges of a crashing input while it still panics at
/// the same place; writes `FILE.min`.
fn minimize(target: Target, file: &Path) -> bool {
    let Ok(mut input) = std::fs::read(file) else {
        eprintln!("narval-fuzz: cannot read {}", file.display());
        return false;
    };
    let Err((place, message)) = run_caught(target, &input) else {
        eprintln!("{}: does not crash", file.display());
        return true;
    };
    eprintln!("{}: crashes at {place}: {message}", file.display());
    let mut chunk = input.len().next_power_of_two();
    while chunk > 0 {
        let mut at = 0;
        while at < input.len() {
            let mut smaller = input.clone();
            smaller.drain(at..(at + chunk).min(input.len()));
            match run_caught(target, &smaller) {
                Err((p, _)) if p == place => input = smaller,
                _ => at += chunk,
            }
        }
        chunk /= 2;
    }
    let out = PathBuf::from(format!("{}.min", file.display()));
    match std::fs::write(&out, &input) {
        Ok(()) => eprintln!("{} bytes: {}", input.len(), out.display()),
        Err(error) => eprintln!("narval-fuzz: cannot write {}: {error}", out.display()),
    }
    false
}
