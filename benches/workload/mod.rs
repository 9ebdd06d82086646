//! The campaign-2012 workload for the benches and their tests: the rule
//! set, and profiles from the project's own generator (`generate.rs`),
//! written once and kept under `target/bench-data/` (the generator is
//! deterministic, so a cached file is the file it would write again).
//! Nothing here needs `../shared`.
//!
//! Shared through `#[path]`; each bench and test uses a part of it.
#![allow(dead_code)]

pub mod generate;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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

/// The digest of `generate::lines(100_000, 2012, false)` under the
/// campaign-2012 rules, computed by `tests/reference` (`tests/campaign.rs`):
/// a change of the generator or of the rules' meaning changes it.
pub const DIGEST_100K: &str = "ed347a8a55e91f63c82956106dcb22ff342d07dddf83545273823f4070573277";

/// The file of `generate::lines(n, seed, dirty)`, one profile a line,
/// written on first use.
pub fn profiles(n: usize, seed: u64, dirty: bool) -> PathBuf {
    // A changed generator gets a new file rather than a stale one.
    let mut hasher = DefaultHasher::new();
    include_str!("generate.rs").hash(&mut hasher);
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| crate_path("target"));
    let dir = target.join("bench-data");
    let dirt = if dirty { "-dirty" } else { "" };
    let path = dir.join(format!("profiles-{n}-{seed}{dirt}-{:016x}.ndjson", hasher.finish()));
    if path.exists() {
        return path;
    }
    std::fs::create_dir_all(&dir).expect("target/bench-data can be created");
    // Written aside then renamed: tests running at once never read half a file.
    let partial = path.with_extension(format!("{}-{:?}.partial", std::process::id(), std::thread::current().id()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&partial).expect("the profiles can be written"));
    for line in generate::lines(n, seed, dirty) {
        writeln!(out, "{line}").expect("the profiles can be written");
    }
    out.into_inner().expect("the profiles can be written");
    std::fs::rename(&partial, &path).expect("the profiles can be renamed");
    path
}

/// The digest of `reference.py`: SHA-256 over `ID\tSOL,SOL\tISSUE,ISSUE\n`
/// for each profile in id order, its streams sorted by name.
pub fn digest<'a, I, S>(rows: I) -> String
where
    I: IntoIterator<Item = (i64, S, S)>,
    S: IntoIterator<Item = &'a str>,
{
    use sha2::Digest as _;
    let mut rows: Vec<(i64, Vec<&str>, Vec<&str>)> =
        rows.into_iter().map(|(id, s, i)| (id, s.into_iter().collect(), i.into_iter().collect())).collect();
    rows.sort_by_key(|row| row.0);
    let mut hasher = sha2::Sha256::new();
    for (id, mut solicitations, mut issues) in rows {
        solicitations.sort_unstable();
        issues.sort_unstable();
        hasher.update(format!("{id}\t{}\t{}\n", solicitations.join(","), issues.join(",")));
    }
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
