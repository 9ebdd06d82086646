//! A fixed amount of work per phase, for instruction counts under
//! callgrind (deterministic, unlike wall clock on a shared machine):
//!
//!     cargo build --release --example instructions
//!     valgrind --tool=callgrind --collect-atstart=no \
//!         --toggle-collect='instructions::phase_*' \
//!         target/release/examples/instructions evaluate PROFILES.ndjson
//!
//! Phases: `decode` (narval, JSON lines into one reused profile, as `narval
//! assign` decodes), `evaluate` (narval,
//! decoded profiles to streams), `baseline-decode`, `baseline-evaluate`.
//! Only the named phase is counted; divide by the number of profiles.
//! `evaluate PROFILES N` evaluates the campaign rules plus N generated ones
//! (`benches/rulegen`, places taken from PROFILES), as `benches/scaling.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/baseline/mod.rs"]
mod baseline;
#[path = "../benches/rulegen/mod.rs"]
mod rulegen;

use std::hint::black_box;

use narval::decode::Profile;
use narval::RuleSet;

/// As `narval assign` decodes: each line into one reused profile, its id
/// captured.
#[inline(never)]
fn phase_decode(rules: &RuleSet, lines: &[&str]) -> usize {
    let mut profile = Profile::default();
    let mut count = 0;
    for line in lines {
        let id = rules.decode_line_into(black_box(line.as_bytes()), "id", &mut profile).expect("a clean profile");
        count += usize::from(black_box(&profile).fields().len() > 1 && !id.is_empty());
    }
    count
}

/// The profiles the `evaluate` phase evaluates, decoded outside it.
fn decode_all(rules: &RuleSet, lines: &[&str]) -> Vec<Profile> {
    lines.iter().map(|line| rules.decode_json(line).expect("a clean profile")).collect()
}

#[inline(never)]
fn phase_evaluate(rules: &RuleSet, profiles: &[Profile]) -> usize {
    profiles.iter().map(|p| black_box(rules.evaluate(black_box(p))).len()).sum()
}

#[inline(never)]
fn phase_baseline_decode<'a>(lines: &[&'a str]) -> Vec<baseline::Profile<'a>> {
    lines.iter().map(|line| baseline::parse(black_box(line)).expect("a clean profile")).collect()
}

#[inline(never)]
fn phase_baseline_evaluate(profiles: &[baseline::Profile]) -> usize {
    baseline::count_assigned(profiles)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [phase, file, rest @ ..] = args.as_slice() else {
        panic!("usage: instructions PHASE PROFILES.ndjson [GENERATED_RULES]")
    };
    let text = std::fs::read_to_string(file).expect("readable profiles");
    let lines: Vec<&str> = text.lines().collect();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/campaign-2012/");
    let (campaign, schema) = (format!("{dir}campaign.narval"), format!("{dir}schema.narval"));
    let generated = match rest {
        [] => Vec::new(),
        [n] => {
            let places = rulegen::Places::of(lines.iter().copied());
            rulegen::generate(n.parse().expect("a number of rules"), &places).expect("enough places")
        }
        _ => panic!("usage: instructions PHASE PROFILES.ndjson [GENERATED_RULES]"),
    };
    let today = "2012-10-01".parse().expect("a date");
    let builder = rulegen::builder(campaign.as_ref(), schema.as_ref(), &generated, today);
    let rules = builder.build().unwrap_or_else(|report| panic!("{}", report.render()));
    let count = match phase.as_str() {
        "decode" => phase_decode(&rules, &lines),
        "evaluate" => phase_evaluate(&rules, &decode_all(&rules, &lines)),
        "baseline-decode" => phase_baseline_decode(&lines).len(),
        "baseline-evaluate" => phase_baseline_evaluate(&phase_baseline_decode(&lines)),
        other => panic!("unknown phase {other}"),
    };
    println!("{phase}: {count} over {} profiles", lines.len());
}
