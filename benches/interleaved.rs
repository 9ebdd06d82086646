//! The evaluation ratios of issue 4, measured so that a machine whose speed
//! drifts cannot bias them: passes of narval and of the baseline over the
//! same 20,000 profiles (`gen_profiles.py --n 20000 --seed 2012`), taken
//! in turn, round after round, so that each ratio compares passes a few
//! milliseconds apart. Criterion times each routine for seconds on end, and
//! on a shared virtual machine the rate drifts by a fifth between them.
//!
//!     cargo bench --bench interleaved [-- ROUNDS]
//!
//! Three passes a round, their order rotating: narval's campaign rules,
//! the baseline, and narval's campaign rules plus 10,000 generated ones
//! (`benches/rulegen`). Printed: the best pass of each (profiles per
//! second) and, for each ratio, the ratio of the best passes and the median
//! of the rounds' ratios. Every pass's count of streams is checked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "baseline/mod.rs"]
mod baseline;
#[path = "rulegen/mod.rs"]
mod rulegen;
#[path = "workload/mod.rs"]
mod workload;

use std::time::Instant;

use narval::decode::Profile;

const PROFILES: usize = 20_000;
const SEED: u64 = 2012;
const GENERATED: usize = 10_000;

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a number is the rounds.
    let rounds: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(40);
    let lines = workload::lines(&workload::profiles(PROFILES, SEED, false));
    let campaign = workload::campaign();
    let places = rulegen::Places::of(lines.iter().map(String::as_str));
    let generated = rulegen::generate(GENERATED, &places).expect("enough places");
    let (campaign_file, schema) = (workload::crate_path(workload::CAMPAIGN), workload::crate_path(workload::SCHEMA));
    let large = rulegen::builder(&campaign_file, &schema, &generated, workload::today())
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    let profiles: Vec<Profile> = lines.iter().map(|line| campaign.decode_json(line).unwrap()).collect();
    let large_profiles: Vec<Profile> = lines.iter().map(|line| large.decode_json(line).unwrap()).collect();
    let parsed: Vec<baseline::Profile> = lines.iter().map(|line| baseline::parse(line).unwrap()).collect();

    let expected = workload::evaluate(&campaign, &profiles);
    assert_eq!(baseline::count_assigned(&parsed), expected, "narval and the baseline give the same streams");
    let expected_large = workload::evaluate(&large, &large_profiles);
    assert!(expected_large > expected, "the generated rules fire");

    // Seconds per pass, by round: narval, baseline, narval with 10,000 rules.
    let mut times = vec![[0.0f64; 3]; rounds];
    for (round, time) in times.iter_mut().enumerate() {
        for k in 0..3 {
            let which = (round + k) % 3;
            let start = Instant::now();
            let count = match which {
                0 => workload::evaluate(&campaign, &profiles),
                1 => baseline::count_assigned(&parsed),
                _ => workload::evaluate(&large, &large_profiles),
            };
            time[which] = start.elapsed().as_secs_f64();
            assert_eq!(count, if which == 2 { expected_large } else { expected });
        }
    }
    let best = |which: usize| times.iter().map(|t| t[which]).fold(f64::INFINITY, f64::min);
    let rate = |seconds: f64| PROFILES as f64 / seconds;
    let ratios = |a: usize, b: usize| times.iter().map(|t| t[b] / t[a]).collect::<Vec<f64>>();
    println!("### Interleaved (`cargo bench --bench interleaved`), {rounds} rounds of {PROFILES} profiles\n");
    println!("| pass | best (profiles/s) |");
    println!("| --- | --- |");
    println!("| narval, campaign rules | {:.0} |", rate(best(0)));
    println!("| baseline | {:.0} |", rate(best(1)));
    println!("| narval, campaign rules + {GENERATED} generated | {:.0} |", rate(best(2)));
    println!();
    println!("| ratio | of the best passes | median of the rounds | target |");
    println!("| --- | --- | --- | --- |");
    println!("| evaluate, narval / baseline | {:.2}× | {:.2}× | ≥ 0.5× |", best(1) / best(0), median(ratios(0, 1)));
    println!(
        "| evaluate, + {GENERATED} rules / campaign rules | {:.2}× | {:.2}× | ≥ 0.5× |",
        best(0) / best(2),
        median(ratios(2, 0))
    );
}
