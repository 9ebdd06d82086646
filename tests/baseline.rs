//! The hand-written baseline of `benches/baseline` implements the very rule
//! set narval is measured on: it gives the same streams as narval on every
//! profile, rejects the same profiles, and gives the published digest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/baseline/mod.rs"]
mod baseline;
#[path = "../benches/workload/mod.rs"]
mod workload;

use std::io::Write;
use std::process::{Command, Stdio};

/// The digest WORKLOAD.md publishes for `gen_profiles.py --n 100000 --seed 2012`.
const DIGEST_100K: &str = "bc549f9e76a5d30f9e721b64e59209f1dae9a23346dadec7ae7976e53e2cc73d";

/// One output line, as `narval assign` writes it.
#[derive(serde::Serialize)]
struct Record<'a> {
    id: serde_json::Value,
    solicitations: &'a [&'a str],
    issues: &'a [&'a str],
}

/// One output line from narval's library.
fn narval_record(rules: &narval::RuleSet, line: &str) -> Result<Vec<u8>, narval::ProfileError> {
    let id = serde_json::from_str::<serde_json::Value>(line).unwrap()["id"].clone();
    let assignment = rules.assign_json(line)?;
    let record = Record { id, solicitations: &assignment.solicitations, issues: &assignment.issues };
    let mut out = serde_json::to_vec(&record).unwrap();
    out.push(b'\n');
    Ok(out)
}

/// One output line from the baseline.
fn baseline_record(line: &str) -> Result<Vec<u8>, serde_json::Error> {
    let profile = baseline::parse(line)?;
    let mut out = Vec::new();
    baseline::write_record(&mut out, profile.id, baseline::assign(&profile))?;
    Ok(out)
}

/// Both engines on every line: the same output line, or both reject it.
fn agree_on(path: &std::path::Path) -> (usize, usize) {
    let rules = workload::campaign();
    let (mut assigned, mut rejected) = (0, 0);
    for (number, line) in workload::lines(path).iter().enumerate() {
        match (narval_record(&rules, line), baseline_record(line)) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap(), "line {}", number + 1);
                assigned += 1;
            }
            (Err(_), Err(_)) => rejected += 1,
            (ours, theirs) => panic!("line {}: narval gives {ours:?}, the baseline {theirs:?}", number + 1),
        }
    }
    (assigned, rejected)
}

#[test]
fn baseline_and_narval_give_the_same_streams_on_every_profile() {
    let (assigned, rejected) = agree_on(&workload::profiles(20_000, 7, false));
    assert_eq!((assigned, rejected), (20_000, 0));
}

#[test]
fn baseline_and_narval_reject_the_same_dirty_profiles() {
    // Only `last_contact` is optional: every other field missing or null rejects the profile.
    let (assigned, rejected) = agree_on(&workload::profiles(5_000, 7, true));
    assert!(rejected > 200 && assigned > 4_000, "{assigned} assigned, {rejected} rejected");
}

#[test]
fn baseline_and_narval_reject_the_same_values() {
    let rules = workload::campaign();
    let good = workload::lines(&workload::profiles(20_000, 7, false)).swap_remove(0);
    assert!(narval_record(&rules, &good).is_ok() && baseline_record(&good).is_ok());
    let amount = good.find(r#""amount":"#).expect("profile 1 of seed 7 has a donation") + r#""amount":"#.len();
    let bad = [
        good.replacen(r#""party":""#, r#""party":"green"#, 1),
        good.replacen(r#""context":""#, r#""context":"mail"#, 1),
        good.replacen(r#""date":"20"#, r#""date":"x0"#, 1),
        format!("{}1.005,{}", &good[..amount], &good[amount..].split_once(',').unwrap().1),
        good.replacen(r#""age":"#, r#""age":"forty","old_age":"#, 1),
    ];
    for line in bad {
        assert_ne!(line, good);
        assert!(narval_record(&rules, &line).is_err(), "narval accepts {line}");
        assert!(baseline_record(&line).is_err(), "the baseline accepts {line}");
    }
    let exact = format!("{}2500.99,{}", &good[..amount], &good[amount..].split_once(',').unwrap().1);
    assert_eq!(baseline::parse(&exact).unwrap().donations[0].amount, baseline::Cents(250_099));
}

#[test]
fn baseline_gives_the_published_digest_on_100k_profiles() {
    let mut lines = String::new();
    for line in workload::lines(&workload::profiles(100_000, 2012, false)) {
        let profile = baseline::parse(&line).unwrap();
        let (solicitations, issues) = baseline::assign(&profile);
        let mut solicitations: Vec<_> = baseline::names(solicitations, &baseline::SOLICITATIONS).collect();
        let mut issues: Vec<_> = baseline::names(issues, &baseline::ISSUES).collect();
        solicitations.sort_unstable();
        issues.sort_unstable();
        lines.push_str(&format!("{}\t{}\t{}\n", profile.id, solicitations.join(","), issues.join(",")));
    }
    assert_eq!(sha256_hex(lines.as_bytes()), DIGEST_100K);
}

fn sha256_hex(data: &[u8]) -> String {
    // python3's hashlib keeps the test free of a hashing dependency.
    let mut child = Command::new("python3")
        .args(["-c", "import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}
