//! serde_json, sonic-rs and simd-json on one typed deserialisation of campaign
//! profiles (strings borrowed from the line), three rounds; see BENCHMARKS.md.
use serde::Deserialize;
use std::time::Instant;
#[derive(Deserialize)]
#[allow(dead_code)]
struct Donation<'a> {
    amount: f64,
    #[serde(borrow)]
    context: &'a str,
    date: &'a str,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Scores {
    support: f64,
    turnout: f64,
    persuasion: f64,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct Consent {
    email: bool,
    sms: bool,
    phone: bool,
}
#[derive(Deserialize)]
#[allow(dead_code)]
struct P<'a> {
    id: i64,
    #[serde(borrow)]
    state: &'a str,
    age: i64,
    party: &'a str,
    registered: bool,
    engagement: i64,
    volunteer: bool,
    scores: Scores,
    #[serde(borrow)]
    donations: Vec<Donation<'a>>,
    #[serde(borrow)]
    issues: Vec<&'a str>,
    consent: Consent,
    last_contact: Option<&'a str>,
}
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for round in 0..3 {
        let t = Instant::now();
        let mut n = 0;
        for l in &lines {
            let p: P = serde_json::from_str(l).unwrap();
            n += p.age as usize;
        }
        let a = t.elapsed();
        let t = Instant::now();
        for l in &lines {
            let p: P = sonic_rs::from_str(l).unwrap();
            n += p.age as usize;
        }
        let b = t.elapsed();
        let t = Instant::now();
        let mut buf = Vec::new();
        for l in &lines {
            buf.clear();
            buf.extend_from_slice(l.as_bytes());
            let p: P = simd_json::serde::from_slice(&mut buf).unwrap();
            n += p.age as usize;
        }
        let c = t.elapsed();
        let per = |d: std::time::Duration| d.as_nanos() as f64 / lines.len() as f64;
        println!(
            "round {round}: serde_json {:.0} ns, sonic-rs {:.0} ns, simd-json {:.0} ns per profile ({n})",
            per(a),
            per(b),
            per(c)
        );
    }
}
