//! The campaign-2012 example agrees with the plain Python reference of
//! `../shared/bench/reference.py` on generated profiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};
use std::process::Command;

const EXAMPLE: &str = "examples/campaign-2012/campaign.narval";
/// The digest WORKLOAD.md publishes for `gen_profiles.py --n 100000 --seed 2012`.
const DIGEST_100K: &str = "bc549f9e76a5d30f9e721b64e59209f1dae9a23346dadec7ae7976e53e2cc73d";

fn bench_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    assert!(dir.join("gen_profiles.py").exists(), "the shared workload is expected at {}", dir.display());
    dir
}

fn rules() -> narval::RuleSet {
    narval::RuleSet::builder()
        .file(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
        .today("2012-10-01".parse().unwrap())
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()))
}

/// Generates profiles with the shared generator into a temporary file.
fn generate(n: usize, seed: u64, dirty: bool) -> PathBuf {
    let out = std::env::temp_dir().join(format!("narval-campaign-{n}-{seed}-{dirty}-{}.ndjson", std::process::id()));
    let mut command = Command::new("python3");
    command.arg(bench_dir().join("gen_profiles.py")).args(["--n", &n.to_string(), "--seed", &seed.to_string()]);
    if dirty {
        command.arg("--dirty");
    }
    let output = command.output().expect("python3 runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::write(&out, output.stdout).unwrap();
    out
}

/// The digest of reference.py: sha256 over `ID\tSOL,SOL\tISSUE,ISSUE\n` in
/// id order, streams sorted by name.
fn narval_digest(rules: &narval::RuleSet, profiles: &Path) -> String {
    let text = std::fs::read_to_string(profiles).unwrap();
    let mut lines = String::new();
    for line in text.lines() {
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        let assignment = rules.assign_value(&json).unwrap();
        let mut solicitations = assignment.solicitations.clone();
        let mut issues = assignment.issues.clone();
        solicitations.sort_unstable();
        issues.sort_unstable();
        lines.push_str(&format!("{}\t{}\t{}\n", json["id"], solicitations.join(","), issues.join(",")));
    }
    sha256_hex(lines.as_bytes())
}

fn reference_digest(profiles: &Path) -> String {
    let output = Command::new("python3").arg(bench_dir().join("reference.py")).arg(profiles).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8(output.stdout).unwrap();
    stdout.lines().find_map(|l| l.strip_prefix("digest ")).unwrap().to_string()
}

fn sha256_hex(data: &[u8]) -> String {
    // python3's hashlib keeps the test free of a hashing dependency.
    let mut child = Command::new("python3")
        .args(["-c", "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(data).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

#[test]
fn the_example_checks_without_warnings() {
    let rules = rules();
    assert_eq!(rules.report().diagnostics(), &[], "{}", rules.report().render());
}

#[test]
fn digest_matches_the_published_reference_on_100k_profiles() {
    let profiles = generate(100_000, 2012, false);
    let rules = rules();
    // With the `jit` feature (the default), the campaign runs as native
    // code; the interpreter must give the same digest.
    assert_eq!(rules.is_native(), narval::NATIVE);
    let digest = narval_digest(&rules, &profiles);
    let interpreted = narval::RuleSet::builder()
        .file(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
        .today("2012-10-01".parse().unwrap())
        .interpreted()
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    assert!(!interpreted.is_native());
    let interpreted_digest = narval_digest(&interpreted, &profiles);
    std::fs::remove_file(&profiles).ok();
    assert_eq!(digest, DIGEST_100K);
    assert_eq!(interpreted_digest, DIGEST_100K);
}

#[test]
fn digest_matches_the_reference_on_another_seed() {
    let profiles = generate(10_000, 7, false);
    let ours = narval_digest(&rules(), &profiles);
    let theirs = reference_digest(&profiles);
    std::fs::remove_file(&profiles).ok();
    assert_eq!(ours, theirs);
}

#[test]
fn the_parallel_batch_api_gives_the_sequential_results_in_order() {
    let profiles = generate(3_000, 11, true);
    let text = std::fs::read_to_string(&profiles).unwrap();
    std::fs::remove_file(&profiles).ok();
    let lines: Vec<&str> = text.lines().collect();
    let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rules = rules();
    let sequential: Vec<_> = lines.iter().map(|l| rules.assign_json(l)).collect();
    assert!(sequential.iter().any(Result::is_err), "the dirty profiles include rejected ones");
    for threads in [1, 2, 3, 8] {
        assert_eq!(rules.assign_lines_parallel(&lines, threads), sequential, "{threads} threads");
        assert_eq!(rules.assign_batch_parallel(&values, threads), sequential, "{threads} threads");
    }
}
