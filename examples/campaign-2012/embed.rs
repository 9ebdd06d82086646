//! A service embedding narval: load the campaign rules once, then assign
//! streams to profiles of the service's own type.
//!
//!     cargo run --example campaign-2012
//!
//! The rules read `today`; a real service passes the date it evaluates for.

use serde::Serialize;

/// A profile as the service keeps it. Field names follow the schema in
/// `schema.narval`; narval reads them through `Serialize`.
#[derive(Serialize)]
struct Profile {
    id: u64,
    email: String,
    state: String,
    zip: String,
    precinct: String,
    polling_place: String,
    age: u32,
    party: &'static str,
    registered: bool,
    engagement: u8,
    volunteer: bool,
    scores: Scores,
    donations: Vec<Donation>,
    issues: Vec<&'static str>,
    consent: Consent,
    last_contact: Option<&'static str>,
}

#[derive(Serialize)]
struct Scores {
    support: f64,
    turnout: f64,
    persuasion: f64,
}

#[derive(Serialize)]
struct Donation {
    amount: f64,
    context: &'static str,
    date: &'static str,
}

#[derive(Serialize)]
struct Consent {
    email: bool,
    sms: bool,
    phone: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/campaign-2012");
    let rules = narval::RuleSet::builder()
        .file(dir.join("campaign.narval"))
        .today("2012-10-01".parse()?)
        .build()
        .map_err(|report| report.render())?;

    // A $5 rally donor and a $5 debate-night donor get different follow-ups.
    let rally = profile(1, "rally");
    let debate = profile(2, "debate");
    for person in [&rally, &debate] {
        let assignment = rules.assign(person)?;
        println!("{} {}", person.id, serde_json::to_string(&assignment)?);
    }
    Ok(())
}

fn profile(id: u64, context: &'static str) -> Profile {
    Profile {
        id,
        email: format!("p{id}@example.org"),
        state: "OH".into(),
        zip: "43004".into(),
        precinct: "OH-020-0247".into(),
        polling_place: "PP-OH-02001".into(),
        age: 34,
        party: "dem",
        registered: true,
        engagement: 1,
        volunteer: false,
        scores: Scores { support: 75.0, turnout: 80.0, persuasion: 20.0 },
        donations: vec![Donation { amount: 5.0, context, date: "2012-07-15" }],
        issues: vec!["jobs"],
        consent: Consent { email: true, sms: false, phone: true },
        last_contact: None,
    }
}
