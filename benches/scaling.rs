//! How narval's cost grows with the number of rules: rule sets of the 23
//! campaign-2012 rules plus 10, 100, 1,000 and 10,000 generated ones
//! (`benches/rulegen`), and the campaign rules alone (`+0`).
//!
//!     cargo bench --bench scaling
//!
//! `scaling_build/+N` is check and compile time (`Builder::build`, the files read
//! included); `scaling_evaluate/+N` is evaluation throughput on profiles already
//! decoded, in profiles per second.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "rulegen/mod.rs"]
mod rulegen;
#[path = "workload/mod.rs"]
mod workload;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput};
use narval::decode::Profile;

/// Generated rules on top of the campaign's, and the profiles each
/// evaluation pass reads: the same 20,000 at every size, so that the rates
/// compare. (Fewer profiles for the large sets, as before, made them look
/// faster: the first profiles of the file are those whose polling places
/// and precincts the generated rules name, and a small set stays in cache.)
const SIZES: [(usize, usize); 5] = [(0, 20_000), (10, 20_000), (100, 20_000), (1_000, 20_000), (10_000, 20_000)];

fn scaling(c: &mut Criterion) {
    let lines = workload::lines(&workload::profiles(20_000, 2012, false));
    let places = rulegen::Places::of(lines.iter().map(String::as_str));
    let (campaign, schema) = (workload::crate_path(workload::CAMPAIGN), workload::crate_path(workload::SCHEMA));
    let builders: Vec<_> = SIZES
        .iter()
        .map(|&(n, _)| {
            let rules = rulegen::generate(n, &places).expect("enough places in 20,000 profiles");
            rulegen::builder(&campaign, &schema, &rules, workload::today())
        })
        .collect();

    let mut group = c.benchmark_group("scaling_build");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for (&(n, _), builder) in SIZES.iter().zip(&builders) {
        let rules = builder.clone().build().unwrap_or_else(|report| panic!("{}", report.render()));
        assert_eq!(rules.report().diagnostics(), &[]);
        assert_eq!(rules.checked().rules.len(), n + 23);
        group.bench_function(BenchmarkId::from_parameter(format!("+{n}")), |b| {
            b.iter(|| assert!(black_box(builder.clone().build()).is_ok()))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("scaling_evaluate");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(8));
    let alone = workload::campaign();
    for (&(n, count), builder) in SIZES.iter().zip(&builders) {
        let rules = builder.clone().build().unwrap_or_else(|report| panic!("{}", report.render()));
        let profiles: Vec<Profile> = lines[..count].iter().map(|line| rules.decode_json(line).unwrap()).collect();
        // Generated rules only assign: they add streams to the campaign's, never take any away.
        let streams = workload::evaluate(&rules, &profiles);
        let campaign_streams = workload::evaluate(&alone, &profiles);
        assert!(streams >= campaign_streams && campaign_streams > count, "{streams} streams, {campaign_streams} alone");
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(BenchmarkId::from_parameter(format!("+{n}")), |b| {
            b.iter(|| assert_eq!(workload::evaluate(&rules, &profiles), streams))
        });
    }
    group.finish();
}

// criterion_group! defines a public function it cannot document.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, scaling);
}
criterion_main!(group::benches);
