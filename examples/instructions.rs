//! A fixed amount of work per phase, for instruction counts under
//! callgrind (deterministic, unlike wall clock on a shared machine):
//!
//!     cargo build --release --example instructions
//!     valgrind --tool=callgrind --collect-atstart=no \
//!         --toggle-collect='instructions::phase_*' \
//!         target/release/examples/instructions evaluate PROFILES.ndjson
//!
//! Phases: `decode` (narval, JSON lines to profiles), `evaluate` (narval,
//! decoded profiles to streams), `baseline-decode`, `baseline-evaluate`.
//! Only the named phase is counted; divide by the number of profiles.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/baseline/mod.rs"]
mod baseline;

use std::hint::black_box;

use narval::decode::Profile;
use narval::RuleSet;

#[inline(never)]
fn phase_decode(rules: &RuleSet, lines: &[&str]) -> Vec<Profile> {
    lines.iter().map(|line| rules.decode_json(black_box(line)).expect("a clean profile")).collect()
}

#[inline(never)]
fn phase_evaluate(rules: &RuleSet, profiles: &[Profile]) -> usize {
    profiles.iter().map(|p| black_box(rules.evaluate(black_box(p))).iter().count()).sum()
}

#[inline(never)]
fn phase_baseline_decode<'a>(lines: &[&'a str]) -> Vec<baseline::Profile<'a>> {
    lines.iter().map(|line| baseline::parse(black_box(line)).expect("a clean profile")).collect()
}

#[inline(never)]
fn phase_baseline_evaluate(profiles: &[baseline::Profile]) -> usize {
    profiles
        .iter()
        .map(|p| {
            let (s, i) = black_box(baseline::assign(black_box(p)));
            (s.count_ones() + i.count_ones()) as usize
        })
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [phase, file, rest @ ..] = args.as_slice() else {
        panic!("usage: instructions PHASE PROFILES.ndjson [RULES.narval...]")
    };
    let text = std::fs::read_to_string(file).expect("readable profiles");
    let lines: Vec<&str> = text.lines().collect();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/campaign-2012/campaign.narval");
    let mut builder = RuleSet::builder().today("2012-10-01".parse().expect("a date"));
    if rest.is_empty() {
        builder = builder.file(root);
    }
    for file in rest {
        builder = builder.file(file);
    }
    let rules = builder.build().unwrap_or_else(|report| panic!("{}", report.render()));
    let count = match phase.as_str() {
        "decode" => phase_decode(&rules, &lines).len(),
        "evaluate" => phase_evaluate(&rules, &phase_decode(&rules, &lines)),
        "baseline-decode" => phase_baseline_decode(&lines).len(),
        "baseline-evaluate" => phase_baseline_evaluate(&phase_baseline_decode(&lines)),
        other => panic!("unknown phase {other}"),
    };
    println!("{phase}: {count} over {} profiles", lines.len());
}
