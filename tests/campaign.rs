//! The campaign-2012 example agrees with the project's plain reference
//! evaluator (`tests/reference`) on profiles of the project's own generator
//! (`benches/workload/generate.rs`), and gives the digest pinned in
//! `workload::DIGEST_100K`. Nothing here needs `../shared`: the cross-check
//! against `../shared/bench/reference.py` is a step of `.ci/run`
//! (`.ci/crosscheck.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

mod reference;
#[path = "../benches/workload/mod.rs"]
mod workload;

use workload::generate;

fn rules() -> narval::RuleSet {
    workload::campaign()
}

/// The digest of what `rules` give each line; every line must be assigned.
fn narval_digest(rules: &narval::RuleSet, lines: &[String]) -> String {
    workload::digest(lines.iter().map(|line| {
        let assignment = rules.assign_json(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        (id(line), assignment.solicitations, assignment.issues)
    }))
}

/// The digest of what the reference evaluator gives each line.
fn reference_digest(rules: &narval::RuleSet, lines: &[String]) -> String {
    let streams: Vec<(i64, reference::Streams)> = lines
        .iter()
        .map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            (json["id"].as_i64().unwrap(), reference::assign(rules.checked(), workload::today(), &json).unwrap())
        })
        .collect();
    workload::digest(streams.iter().map(|(id, s)| {
        (
            *id,
            s.solicitations.iter().map(String::as_str).collect::<Vec<_>>(),
            s.issues.iter().map(String::as_str).collect(),
        )
    }))
}

/// The id of a generated line, which comes first.
fn id(line: &str) -> i64 {
    let rest = line.strip_prefix(r#"{"id":"#).unwrap();
    rest[..rest.find(',').unwrap()].parse().unwrap()
}

#[test]
fn the_example_checks_without_warnings() {
    let rules = rules();
    assert_eq!(rules.report().diagnostics(), &[], "{}", rules.report().render());
}

#[test]
fn digest_matches_the_reference_evaluator_on_100k_profiles() {
    let lines: Vec<String> = generate::lines(100_000, 2012, false).collect();
    let rules = rules();
    // With the `jit` feature (the default), the campaign runs as native
    // code; the interpreter must give the same digest.
    assert_eq!(rules.is_native(), narval::NATIVE);
    let interpreted = narval::RuleSet::builder()
        .file(workload::crate_path(workload::CAMPAIGN))
        .today(workload::today())
        .interpreted()
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    assert!(!interpreted.is_native());
    let expected = reference_digest(&rules, &lines);
    assert_eq!(narval_digest(&rules, &lines), expected);
    assert_eq!(narval_digest(&interpreted, &lines), expected);
    // Pinned: a change of the generator or of what the rules mean shows here.
    assert_eq!(expected, workload::DIGEST_100K);
}

/// Dirty profiles: narval and the reference accept and reject the same
/// lines, and give the accepted ones the same streams.
#[test]
fn narval_and_the_reference_agree_on_dirty_profiles() {
    let rules = rules();
    let (mut assigned, mut rejected) = (0, 0);
    for line in generate::lines(10_000, 7, true) {
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        let ours = rules.assign_json(&line);
        let theirs = reference::assign(rules.checked(), workload::today(), &json);
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => {
                assert_eq!(ours.solicitations, theirs.solicitations, "{line}");
                assert_eq!(ours.issues, theirs.issues, "{line}");
                assigned += 1;
            }
            (Err(_), Err(_)) => rejected += 1,
            (ours, theirs) => panic!("narval gives {ours:?}, the reference {theirs:?} on {line}"),
        }
    }
    // Only `last_contact` is optional: the other five dirty kinds, 9% of
    // the profiles, are rejected.
    assert!((700..1100).contains(&rejected), "{assigned} assigned, {rejected} rejected");
}

/// The generator keeps to the workload's schema and about its
/// distributions (`../shared/bench/WORKLOAD.md`), and a seed names one file.
#[test]
fn the_generator_is_deterministic_and_keeps_to_the_workload() {
    let a: Vec<String> = generate::lines(2_000, 3, true).collect();
    assert_eq!(a, generate::lines(2_000, 3, true).collect::<Vec<_>>());
    assert_ne!(a, generate::lines(2_000, 4, true).collect::<Vec<_>>());
    let clean: Vec<serde_json::Value> =
        generate::lines(20_000, 2012, false).map(|l| serde_json::from_str(&l).unwrap()).collect();
    let share =
        |f: &dyn Fn(&serde_json::Value) -> bool| clean.iter().filter(|p| f(p)).count() as f64 / clean.len() as f64;
    let about = |what: &str, got: f64, expected: f64| {
        assert!((got - expected).abs() < 0.02, "{what}: {got:.3}, expected about {expected}");
    };
    about("party dem", share(&|p| p["party"] == "dem"), 0.40);
    about("state FL", share(&|p| p["state"] == "FL"), 0.14);
    about("registered", share(&|p| p["registered"] == true), 0.85);
    about("email consent", share(&|p| p["consent"]["email"] == true), 0.70);
    about("jobs", share(&|p| p["issues"].as_array().unwrap().iter().any(|i| i == "jobs")), 0.25);
    about("last contact", share(&|p| !p["last_contact"].is_null()), 0.30);
    about("no donation", share(&|p| p["donations"].as_array().unwrap().is_empty()), 0.79);
    let ids: Vec<i64> = clean.iter().map(|p| p["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, (1..=20_000).collect::<Vec<_>>());
    let dates = |p: &serde_json::Value| {
        let mut dates: Vec<String> =
            p["donations"].as_array().unwrap().iter().map(|d| d["date"].as_str().unwrap().to_owned()).collect();
        dates.extend(p["last_contact"].as_str().map(str::to_owned));
        dates
    };
    let all: Vec<String> = clean.iter().flat_map(dates).collect();
    assert!(all.iter().all(|d| ("2011-04-01"..="2012-09-30").contains(&d.as_str())));
    // Both ends of the ranges are drawn, and a leap day is a date.
    for date in ["2011-04-01", "2012-02-29", "2012-09-30"] {
        assert!(all.iter().any(|d| d == date), "{date}");
    }
    for p in &clean {
        let age = p["age"].as_i64().unwrap();
        assert!((16..=95).contains(&age));
        for score in ["support", "turnout", "persuasion"] {
            assert!((0.0..=100.0).contains(&p["scores"][score].as_f64().unwrap()));
        }
    }
}

#[test]
fn the_parallel_batch_api_gives_the_sequential_results_in_order() {
    let lines: Vec<String> = generate::lines(3_000, 11, true).collect();
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let values: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rules = rules();
    let sequential: Vec<_> = lines.iter().map(|l| rules.assign_json(l)).collect();
    assert!(sequential.iter().any(Result::is_err), "the dirty profiles include rejected ones");
    for threads in [1, 2, 3, 8] {
        assert_eq!(rules.assign_lines_parallel(&lines, threads), sequential, "{threads} threads");
        assert_eq!(rules.assign_batch_parallel(&values, threads), sequential, "{threads} threads");
    }
}
