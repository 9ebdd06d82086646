//! The shared campaign-2012 workload for the benches and their tests: the
//! rule set, and profiles from `../shared/bench/gen_profiles.py`, generated
//! once and kept under `target/bench-data/` (the generator is deterministic,
//! so a cached file is the file it would write again).
//!
//! Shared through `#[path]`; each bench and test uses a part of it.
#![allow(dead_code)]

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The campaign-2012 rule file, relative to the crate.
pub const CAMPAIGN: &str = "examples/campaign-2012/campaign.narval";
/// Its schema, which generated rule sets import.
pub const SCHEMA: &str = "examples/campaign-2012/schema.narval";
/// The date the workload is evaluated for.
pub const TODAY: &str = "2012-10-01";

/// A path inside the crate.
pub fn crate_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The shared workload: `$NARVAL_BENCH_SHARED`, or `../shared/bench` beside the crate.
pub fn shared_dir() -> PathBuf {
    let dir =
        std::env::var_os("NARVAL_BENCH_SHARED").map(PathBuf::from).unwrap_or_else(|| crate_path("../shared/bench"));
    assert!(dir.join("gen_profiles.py").exists(), "the shared workload is expected at {}", dir.display());
    dir
}

/// The evaluation date.
pub fn today() -> narval::Date {
    TODAY.parse().expect("a valid date")
}

/// The campaign-2012 rule set, built.
pub fn campaign() -> narval::RuleSet {
    narval::RuleSet::builder()
        .file(crate_path(CAMPAIGN))
        .today(today())
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()))
}

/// The file of `gen_profiles.py --n n --seed seed [--dirty]`, generated on
/// first use.
pub fn profiles(n: usize, seed: u64, dirty: bool) -> PathBuf {
    let generator = shared_dir().join("gen_profiles.py");
    let script = std::fs::read(&generator).expect("the generator is readable");
    // A changed generator gets a new file rather than a stale one.
    let mut hasher = DefaultHasher::new();
    script.hash(&mut hasher);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| crate_path("target"));
    let dir = target.join("bench-data");
    let dirt = if dirty { "-dirty" } else { "" };
    let path = dir.join(format!("profiles-{n}-{seed}{dirt}-{:016x}.ndjson", hasher.finish()));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("target/bench-data can be created");
    let mut command = Command::new("python3");
    command.arg(&generator).args(["--n", &n.to_string(), "--seed", &seed.to_string()]);
    if dirty {
        command.arg("--dirty");
    }
    let output = command.output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    // Written aside then renamed: tests running at once never read half a file.
    let partial = path.with_extension(format!("{}-{:?}.partial", std::process::id(), std::thread::current().id()));
    std::fs::write(&partial, &output.stdout).expect("the profiles can be written");
    std::fs::rename(&partial, &path).expect("the profiles can be renamed");
    path
}

/// The lines of a profile file.
pub fn lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).expect("the profiles are readable");
    text.lines().map(str::to_owned).collect()
}

/// Evaluates every profile, as the benches time it; returns the number of
/// streams given, which they check.
pub fn evaluate(rules: &narval::RuleSet, profiles: &[narval::decode::Profile]) -> usize {
    profiles.iter().map(|profile| std::hint::black_box(rules.evaluate(std::hint::black_box(profile))).len()).sum()
}
