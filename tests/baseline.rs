//! The hand-written baseline of `benches/baseline` implements the very rule
//! set narval is measured on: it gives the same streams as narval on every
//! profile, rejects the same profiles, and gives the pinned digest.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[path = "../benches/baseline/mod.rs"]
mod baseline;
#[path = "../benches/workload/mod.rs"]
mod workload;

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
    let good = workload::lines(&workload::profiles(20_000, 7, false))
        .into_iter()
        .find(|line| line.contains(r#""amount":"#))
        .expect("some profile of seed 7 has a donation");
    assert!(narval_record(&rules, &good).is_ok() && baseline_record(&good).is_ok());
    let amount = good.find(r#""amount":"#).unwrap() + r#""amount":"#.len();
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
    let rows = workload::lines(&workload::profiles(100_000, 2012, false))
        .iter()
        .map(|line| {
            let profile = baseline::parse(line).unwrap();
            let (solicitations, issues) = baseline::assign(&profile);
            let solicitations: Vec<_> = baseline::names(solicitations, &baseline::SOLICITATIONS).collect();
            let issues: Vec<_> = baseline::names(issues, &baseline::ISSUES).collect();
            (profile.id, solicitations, issues)
        })
        .collect::<Vec<_>>();
    assert_eq!(workload::digest(rows), workload::DIGEST_100K);
}
