//! The campaign-2012 rules of `../shared/bench/WORKLOAD.md`, written by hand
//! in Rust for this one fixed rule set: the yardstick narval is measured
//! against.
//!
//! It is what a good engineer would write without a rule engine: serde
//! structs with only the fields the rules read, closed sets as enums, money
//! in exact cents, dates as comparable numbers, and the 26 rules as plain
//! `if`s over two bit masks. Like narval, it rejects a profile with a field
//! missing or of the wrong type, an unknown party or donation context, an
//! invalid date, or an amount with more than two decimals.
//!
//! Shared through `#[path]` by the benches, `tests/baseline.rs` and
//! `examples/baseline.rs`; each uses a part of it.
#![allow(dead_code)]

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Solicitation streams in narval's priority order (their order of
/// declaration in `campaign.narval`); bit `i` of a mask is `SOLICITATIONS[i]`.
pub const SOLICITATIONS: [&str; 10] = [
    "fundraising_email",
    "mobilisation_email",
    "event_invite",
    "debate_rapid_response",
    "door_knock",
    "flyer",
    "phone_bank",
    "sms",
    "volunteer_recruitment",
    "voter_registration",
];

/// Issue streams in priority order; bit `i` of a mask is `ISSUES[i]`.
pub const ISSUES: [&str; 8] =
    ["contraception", "healthcare", "medicare", "jobs", "education", "environment", "veterans", "immigration"];

const FUNDRAISING_EMAIL: u32 = 1 << 0;
const MOBILISATION_EMAIL: u32 = 1 << 1;
const EVENT_INVITE: u32 = 1 << 2;
const DEBATE_RAPID_RESPONSE: u32 = 1 << 3;
const DOOR_KNOCK: u32 = 1 << 4;
const FLYER: u32 = 1 << 5;
const PHONE_BANK: u32 = 1 << 6;
const SMS: u32 = 1 << 7;
const VOLUNTEER_RECRUITMENT: u32 = 1 << 8;
const VOTER_REGISTRATION: u32 = 1 << 9;
const ALL_SOLICITATIONS: u32 = (1 << 10) - 1;

const CONTRACEPTION: u32 = 1 << 0;
const HEALTHCARE: u32 = 1 << 1;
const MEDICARE: u32 = 1 << 2;
const JOBS: u32 = 1 << 3;
const EDUCATION: u32 = 1 << 4;
const ENVIRONMENT: u32 = 1 << 5;
const VETERANS: u32 = 1 << 6;
const IMMIGRATION: u32 = 1 << 7;
const ALL_ISSUES: u32 = (1 << 8) - 1;

/// The 2012 individual limit per election, in cents.
const CAP: i64 = 2_500 * 100;
/// `today - 7 days` for `--today 2012-10-01`.
const RECENT_CONTACT: Date = Date::ymd(2012, 9, 24);
const DEBATE_SEASON: Date = Date::ymd(2012, 6, 1);

/// One profile: the fields the rules read. Others (`email`, `zip`,
/// `precinct`, `polling_place`) are skipped by serde.
#[derive(Debug, Deserialize)]
pub struct Profile<'a> {
    pub id: i64,
    /// Borrowed from the line unless it holds escapes.
    #[serde(borrow)]
    pub state: Cow<'a, str>,
    pub age: i64,
    pub party: Party,
    pub registered: bool,
    pub engagement: i64,
    pub volunteer: bool,
    pub scores: Scores,
    pub donations: Vec<Donation>,
    pub issues: Vec<Issue>,
    pub consent: Consent,
    #[serde(default)]
    pub last_contact: Option<Date>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    Dem,
    Rep,
    Ind,
    None,
}

#[derive(Debug, Deserialize)]
pub struct Scores {
    pub support: f64,
    pub turnout: f64,
    pub persuasion: f64,
}

#[derive(Debug, Deserialize)]
pub struct Donation {
    pub amount: Cents,
    pub context: Context,
    pub date: Date,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Context {
    Rally,
    Debate,
    Online,
    Email,
    Event,
}

/// The issues the rules name; any other string is `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Issue {
    Contraception,
    Healthcare,
    Jobs,
    Education,
    Environment,
    Veterans,
    Immigration,
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
pub struct Consent {
    pub email: bool,
    pub sms: bool,
    pub phone: bool,
}

/// An amount of money in exact cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cents(pub i64);

impl<'de> Deserialize<'de> for Cents {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Cents, D::Error> {
        deserializer.deserialize_any(CentsVisitor)
    }
}

struct CentsVisitor;

impl Visitor<'_> for CentsVisitor {
    type Value = Cents;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an amount with at most two decimals")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cents, E> {
        i64::try_from(v).ok().and_then(|v| v.checked_mul(100)).map(Cents).ok_or_else(|| E::custom("amount too large"))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cents, E> {
        v.checked_mul(100).map(Cents).ok_or_else(|| E::custom("amount too large"))
    }

    /// `37.5` is read as the nearest double; `round(f * 100)` is then the
    /// cents of the two-decimal text, and dividing back must give the very
    /// same double (IEEE division is correctly rounded). A text with more
    /// decimals, such as `1.005`, fails that test and is refused, exactly as
    /// narval refuses it. No allocation, unlike going through `f.to_string()`.
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cents, E> {
        let cents = (v * 100.0).round();
        // 2^53: beyond it not every integer is a double.
        if cents.abs() < 9_007_199_254_740_992.0 && cents / 100.0 == v {
            Ok(Cents(cents as i64))
        } else {
            Err(E::custom("an amount with at most two decimals"))
        }
    }
}

/// A calendar date as `yyyymmdd`, so that dates compare as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(u32);

impl Date {
    const fn ymd(year: u32, month: u32, day: u32) -> Date {
        Date(year * 10_000 + month * 100 + day)
    }

    /// `YYYY-MM-DD`, a real calendar date.
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return None;
        }
        let number = |range: std::ops::Range<usize>| {
            b.get(range)?.iter().try_fold(0_u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
        };
        let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        (1..=days).contains(&day).then(|| Date::ymd(year, month, day))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        deserializer.deserialize_str(DateVisitor)
    }
}

struct DateVisitor;

impl Visitor<'_> for DateVisitor {
    type Value = Date;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a calendar date in the form YYYY-MM-DD")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Date, E> {
        Date::parse(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }
}

/// Parses one profile line.
pub fn parse(line: &str) -> serde_json::Result<Profile<'_>> {
    serde_json::from_str(line)
}

/// The campaign-2012 rules: the solicitation and issue streams of a profile,
/// as bit masks over [`SOLICITATIONS`] and [`ISSUES`].
pub fn assign(p: &Profile) -> (u32, u32) {
    let (solicitations, issues) = assigned(p);
    let (no_solicitations, no_issues) = suppressed(p);
    (solicitations & !no_solicitations, issues & !no_issues)
}

/// The streams the assignment rules give, before suppressions.
pub fn assigned(p: &Profile) -> (u32, u32) {
    let total = total(p);
    let s = &p.scores;
    let c = &p.consent;
    let has = |issue| p.issues.contains(&issue);

    let mut sol = 0;
    if c.email && total < CAP && (p.engagement >= 1 || !p.donations.is_empty()) {
        sol |= FUNDRAISING_EMAIL;
    }
    if total >= CAP || (p.volunteer && p.engagement >= 2) {
        sol |= MOBILISATION_EMAIL;
    }
    if p.donations.iter().any(|d| d.context == Context::Rally)
        || p.donations.iter().filter(|d| d.amount >= Cents(250 * 100)).count() >= 2
    {
        sol |= EVENT_INVITE;
    }
    if p.donations.iter().any(|d| d.context == Context::Debate && d.date >= DEBATE_SEASON) {
        sol |= DEBATE_RAPID_RESPONSE;
    }
    if (40.0..=60.0).contains(&s.support) && s.turnout >= 50.0 {
        sol |= DOOR_KNOCK | FLYER;
    }
    if s.support >= 70.0 && s.turnout < 40.0 {
        sol |= DOOR_KNOCK | PHONE_BANK;
    }
    if p.engagement >= 3 && !p.volunteer {
        sol |= VOLUNTEER_RECRUITMENT;
    }
    if !p.registered && p.age >= 18 {
        sol |= VOTER_REGISTRATION;
    }
    if c.sms && p.age < 35 && s.support >= 50.0 {
        sol |= SMS;
    }
    if c.phone && s.persuasion >= 80.0 && p.party == Party::Ind {
        sol |= PHONE_BANK;
    }

    let mut iss = 0;
    if has(Issue::Contraception) {
        iss |= CONTRACEPTION;
    }
    if has(Issue::Healthcare) {
        iss |= if p.age >= 65 { MEDICARE } else { HEALTHCARE };
    }
    if has(Issue::Jobs) || (matches!(&*p.state, "OH" | "MI" | "PA" | "WI") && s.support >= 40.0) {
        iss |= JOBS;
    }
    if has(Issue::Education) {
        iss |= EDUCATION;
    }
    if has(Issue::Environment) && p.party != Party::Rep {
        iss |= ENVIRONMENT;
    }
    if has(Issue::Veterans) {
        iss |= VETERANS;
    }
    if has(Issue::Immigration) && matches!(&*p.state, "NV" | "CO" | "FL" | "AZ") {
        iss |= IMMIGRATION;
    }
    (sol, iss)
}

/// The streams the suppression rules take away; they win over every
/// assignment.
pub fn suppressed(p: &Profile) -> (u32, u32) {
    let total = total(p);
    let c = &p.consent;
    let mut sol = 0;
    if total >= CAP {
        sol |= FUNDRAISING_EMAIL;
    }
    if p.volunteer {
        sol |= DOOR_KNOCK | FLYER;
    }
    if p.party == Party::Rep && p.scores.support < 20.0 {
        sol |= ALL_SOLICITATIONS;
    }
    if p.last_contact.is_some_and(|d| d >= RECENT_CONTACT) {
        sol |= DOOR_KNOCK | PHONE_BANK;
    }
    if !c.email {
        sol |= FUNDRAISING_EMAIL | MOBILISATION_EMAIL | DEBATE_RAPID_RESPONSE;
    }
    if !c.phone {
        sol |= PHONE_BANK;
    }
    if p.age < 18 {
        sol |= FUNDRAISING_EMAIL;
    }
    let iss = if !c.email && !c.sms { ALL_ISSUES } else { 0 };
    (sol, iss)
}

/// The sum of the donations, in cents.
fn total(p: &Profile) -> i64 {
    p.donations.iter().map(|d| d.amount.0).sum()
}

/// The names of the streams in a mask, in priority order.
pub fn names(mask: u32, streams: &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    streams.iter().enumerate().filter(move |(bit, _)| mask & (1 << bit) != 0).map(|(_, name)| *name)
}

/// One output line, as `narval assign` writes it.
#[derive(Serialize)]
struct Record {
    id: i64,
    solicitations: Names,
    issues: Names,
}

struct Names(u32, &'static [&'static str]);

impl Serialize for Names {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(names(self.0, self.1))
    }
}

/// Appends `{"id":..,"solicitations":[..],"issues":[..]}` and a newline.
pub fn write_record(out: &mut Vec<u8>, id: i64, (solicitations, issues): (u32, u32)) -> serde_json::Result<()> {
    let record = Record { id, solicitations: Names(solicitations, &SOLICITATIONS), issues: Names(issues, &ISSUES) };
    serde_json::to_writer(&mut *out, &record)?;
    out.push(b'\n');
    Ok(())
}

/// Assigns every profile, as the benches time it; returns the number of
/// streams given (the bits of the masks), which they check against
/// narval's.
pub fn count_assigned(profiles: &[Profile]) -> usize {
    profiles
        .iter()
        .map(|profile| {
            let (solicitations, issues) = std::hint::black_box(assign(std::hint::black_box(profile)));
            (solicitations.count_ones() + issues.count_ones()) as usize
        })
        .sum()
}
