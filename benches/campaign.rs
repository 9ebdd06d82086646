//! narval against the hand-written baseline on the campaign-2012 workload:
//! 20,000 profiles of `gen_profiles.py --n 20000 --seed 2012`.
//!
//!     cargo bench --bench campaign
//!
//! Three groups, each reporting profiles per second (criterion's `elem/s`):
//! `decode` (JSON line to profile), `evaluate` (profile already in memory to
//! streams) and `end_to_end` (line to output line, as `narval assign`
//! writes it). Before measuring, the bench checks that narval and the
//! baseline give byte-identical output lines for every profile, and every
//! measured routine returns a count checked against the expected one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "baseline/mod.rs"]
mod baseline;
#[path = "workload/mod.rs"]
mod workload;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use narval::decode::Profile;
use narval::RuleSet;
use serde::Serialize;

const PROFILES: usize = 20_000;
const SEED: u64 = 2012;

/// One output line of `narval assign`.
#[derive(Serialize)]
struct Record<'a> {
    id: i64,
    solicitations: &'a [&'a str],
    issues: &'a [&'a str],
}

/// As `narval assign` decodes: every line into one reused profile.
fn narval_decode(rules: &RuleSet, lines: &[String]) -> usize {
    let mut profile = Profile::default();
    lines
        .iter()
        .filter(|line| black_box(rules.decode_line_into(black_box(line.as_bytes()), "id", &mut profile)).is_ok())
        .count()
}

fn baseline_decode(lines: &[String]) -> usize {
    lines.iter().filter(|line| black_box(baseline::parse(black_box(line))).is_ok()).count()
}

/// One output line into `out`, as `narval assign` writes it: the profile
/// decoded with its id as written into a reused profile
/// (`RuleSet::decode_line_into`), then assigned.
fn narval_line(rules: &RuleSet, line: &str, profile: &mut Profile, out: &mut Vec<u8>) -> usize {
    out.clear();
    let id = rules.decode_line_into(line.as_bytes(), "id", profile).expect("a clean profile");
    let id: i64 = id.parse().expect("an integer id");
    let assignment = rules.assignment(&rules.evaluate(profile));
    let record = Record { id, solicitations: &assignment.solicitations, issues: &assignment.issues };
    serde_json::to_writer(&mut *out, &record).expect("a record serialises");
    out.push(b'\n');
    out.len()
}

fn baseline_line(line: &str, out: &mut Vec<u8>) -> usize {
    out.clear();
    let profile = baseline::parse(line).expect("a clean profile");
    baseline::write_record(out, profile.id, baseline::assign(&profile)).expect("a record serialises");
    out.len()
}

/// The bytes written, over all profiles.
fn narval_end_to_end(rules: &RuleSet, lines: &[String], out: &mut Vec<u8>) -> usize {
    let mut profile = Profile::default();
    lines.iter().map(|line| black_box(narval_line(rules, black_box(line), &mut profile, out))).sum()
}

fn baseline_end_to_end(lines: &[String], out: &mut Vec<u8>) -> usize {
    lines.iter().map(|line| black_box(baseline_line(black_box(line), out))).sum()
}

/// Few samples of a whole pass over the profiles: one pass takes milliseconds.
fn configure(group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>, profiles: usize) {
    group.throughput(Throughput::Elements(profiles as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(8));
}

fn campaign(c: &mut Criterion) {
    let rules = workload::campaign();
    let lines = workload::lines(&workload::profiles(PROFILES, SEED, false));
    assert_eq!(lines.len(), PROFILES);

    // Both engines write the very same output, profile by profile.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    let mut profile = Profile::default();
    for (number, line) in lines.iter().enumerate() {
        narval_line(&rules, line, &mut profile, &mut ours);
        baseline_line(line, &mut theirs);
        assert_eq!(ours, theirs, "narval and the baseline disagree on line {}", number + 1);
    }

    let decoded: Vec<Profile> = lines.iter().map(|line| rules.decode_json(line).unwrap()).collect();
    let parsed: Vec<baseline::Profile> = lines.iter().map(|line| baseline::parse(line).unwrap()).collect();
    let streams = baseline::count_assigned(&parsed);
    let bytes = baseline_end_to_end(&lines, &mut theirs);
    assert_eq!(narval_decode(&rules, &lines), PROFILES);
    assert_eq!(baseline_decode(&lines), PROFILES);
    assert_eq!(workload::evaluate(&rules, &decoded), streams);
    assert!(streams > PROFILES, "{streams} streams over {PROFILES} profiles");
    assert_eq!(narval_end_to_end(&rules, &lines, &mut ours), bytes);

    let mut group = c.benchmark_group("decode");
    configure(&mut group, PROFILES);
    group.bench_function("narval", |b| b.iter(|| assert_eq!(narval_decode(&rules, &lines), PROFILES)));
    group.bench_function("baseline", |b| b.iter(|| assert_eq!(baseline_decode(&lines), PROFILES)));
    group.finish();

    let mut group = c.benchmark_group("evaluate");
    configure(&mut group, PROFILES);
    group.bench_function("narval", |b| b.iter(|| assert_eq!(workload::evaluate(&rules, &decoded), streams)));
    group.bench_function("baseline", |b| b.iter(|| assert_eq!(baseline::count_assigned(&parsed), streams)));
    group.finish();

    let mut group = c.benchmark_group("end_to_end");
    configure(&mut group, PROFILES);
    group.bench_function("narval", |b| b.iter(|| assert_eq!(narval_end_to_end(&rules, &lines, &mut ours), bytes)));
    group.bench_function("baseline", |b| b.iter(|| assert_eq!(baseline_end_to_end(&lines, &mut theirs), bytes)));
    group.finish();
}

// criterion_group! defines a public function it cannot document.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, campaign);
}
criterion_main!(group::benches);
