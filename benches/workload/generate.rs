//! The project's own campaign-2012 profiles: deterministic, one JSON object
//! a line, with the schema and about the distributions of
//! `../shared/bench/gen_profiles.py` (WORKLOAD.md), so that the tests and
//! benches need nothing beside the crate. Not byte-identical to the Python
//! generator (another random number generator), but the same seed always
//! gives the same bytes, on every machine: the digest the tests pin names
//! one file.
//!
//! Keys come in the schema's order and strings need no escapes, as in the
//! Python files, so the decoder's fast path reads them as it reads those.

use std::fmt::Write as _;

/// Battleground states, weighted.
const STATES: [(&str, f64); 14] = [
    ("OH", 12.0),
    ("FL", 14.0),
    ("PA", 10.0),
    ("VA", 8.0),
    ("NC", 8.0),
    ("WI", 6.0),
    ("MI", 8.0),
    ("CO", 5.0),
    ("NV", 3.0),
    ("IA", 3.0),
    ("NH", 2.0),
    ("AZ", 6.0),
    ("CA", 10.0),
    ("NY", 5.0),
];
const PARTIES: [(&str, f64); 4] = [("dem", 40.0), ("rep", 30.0), ("ind", 20.0), ("none", 10.0)];
const ENGAGEMENT: [(u32, f64); 5] = [(0, 50.0), (1, 25.0), (2, 13.0), (3, 8.0), (4, 4.0)];
const CONTEXTS: [&str; 5] = ["rally", "debate", "online", "email", "event"];
/// Donation amounts in dollars, weighted.
const AMOUNTS: [(u32, f64); 11] = [
    (3, 10.0),
    (5, 20.0),
    (10, 18.0),
    (15, 8.0),
    (25, 15.0),
    (50, 10.0),
    (100, 9.0),
    (250, 5.0),
    (500, 3.0),
    (1000, 1.5),
    (2500, 0.5),
];
/// Heavy donors give one of these, some of them over the cap.
const BIG_AMOUNTS: [u32; 5] = [250, 500, 1000, 1000, 2500];
/// Cents added to an amount, as `gen_profiles.py` adds 0, 0.5 or 0.99.
const CENTS: [u32; 5] = [0, 0, 0, 50, 99];
/// Each issue with the share of profiles that hold it.
const ISSUES: [(&str, f64); 8] = [
    ("contraception", 0.12),
    ("healthcare", 0.22),
    ("jobs", 0.25),
    ("education", 0.15),
    ("environment", 0.14),
    ("veterans", 0.07),
    ("immigration", 0.09),
    ("taxes", 0.18),
];
/// Donations fall from 2011-04-01 to 2012-09-30, contacts from 2012-08-01
/// to 2012-09-30 (days since 1970-01-01, both ends included).
pub const DONATIONS_FROM: i64 = 15_065;
pub const CONTACTS_FROM: i64 = 15_553;
pub const UNTIL: i64 = 15_613;

/// SplitMix64: small, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1), as Python's `random()`.
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `from..until`, as Python's `randrange(from, until)`.
    pub fn range(&mut self, from: i64, until: i64) -> i64 {
        let width = (until - from) as u64;
        from + ((u128::from(self.next_u64()) * u128::from(width)) >> 64) as i64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.random() < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() as i64) as usize]
    }

    pub fn weighted<T: Copy>(&mut self, items: &[(T, f64)]) -> T {
        let total: f64 = items.iter().map(|(_, w)| w).sum();
        let mut x = self.random() * total;
        for &(item, weight) in items {
            if x < weight {
                return item;
            }
            x -= weight;
        }
        items[items.len() - 1].0
    }

    /// Normal, by Box-Muller, as Python's `gauss(mu, sigma)`.
    pub fn gauss(&mut self, mu: f64, sigma: f64) -> f64 {
        let radius = (-2.0 * (1.0 - self.random()).ln()).sqrt();
        mu + sigma * radius * (std::f64::consts::TAU * self.random()).cos()
    }

    /// Exponential of rate `lambda`, as Python's `expovariate(lambda)`.
    pub fn exponential(&mut self, lambda: f64) -> f64 {
        -(1.0 - self.random()).ln() / lambda
    }
}

/// The lines of `gen_profiles.py --n n --seed seed [--dirty]`, in the
/// project's own version: ids 1 to n.
pub fn lines(n: usize, seed: u64, dirty: bool) -> impl Iterator<Item = String> {
    let mut rng = Rng::new(seed);
    (1..=n as u64).map(move |id| profile(&mut rng, id, dirty))
}

/// One profile, as one line of JSON without its newline.
///
/// `dirty` leaves about one profile in ten with a field missing or null,
/// as `--dirty` does: `age` missing, `scores` null, `consent.sms` missing,
/// `donations` missing, `issues` null or `last_contact` missing.
pub fn profile(rng: &mut Rng, id: u64, dirty: bool) -> String {
    let state = rng.weighted(&STATES);
    let party = rng.weighted(&PARTIES);
    let engagement = rng.weighted(&ENGAGEMENT);
    let lean = match party {
        "dem" => 25.0,
        "rep" => -25.0,
        "ind" => 0.0,
        _ => -5.0,
    };
    let score = |x: f64| (x.clamp(0.0, 100.0) * 10.0).round() / 10.0;
    let support = score(rng.gauss(50.0 + lean, 18.0));
    let turnout = score(rng.gauss(55.0 + 6.0 * f64::from(engagement), 22.0));
    let persuasion = score(rng.gauss(if matches!(party, "ind" | "none") { 45.0 } else { 25.0 }, 20.0));
    let volunteer = rng.chance(0.02 + 0.08 * f64::from(engagement));
    let mut donations = 0;
    if rng.chance(0.12 + 0.12 * f64::from(engagement)) {
        donations = (1 + rng.exponential(0.45) as u32).min(12);
    }
    let big = rng.chance(0.08);
    let mut donation_list = String::new();
    for i in 0..donations {
        let dollars = if big { rng.pick(&BIG_AMOUNTS) } else { rng.weighted(&AMOUNTS) };
        let cents = rng.pick(&CENTS);
        let context = rng.pick(&CONTEXTS);
        let date = iso_date(rng.range(DONATIONS_FROM, UNTIL + 1));
        let comma = if i == 0 { "" } else { "," };
        let amount = match cents {
            0 => dollars.to_string(),
            c if c % 10 == 0 => format!("{dollars}.{}", c / 10),
            c => format!("{dollars}.{c:02}"),
        };
        write!(donation_list, r#"{comma}{{"amount":{amount},"context":"{context}","date":"{date}"}}"#).unwrap();
    }
    let issues: Vec<String> =
        ISSUES.iter().filter(|(_, p)| rng.chance(*p)).map(|(name, _)| format!("\"{name}\"")).collect();
    let last_contact = if rng.chance(0.3) {
        format!("\"{}\"", iso_date(rng.range(CONTACTS_FROM, UNTIL + 1)))
    } else {
        "null".to_owned()
    };
    let county = rng.range(1, 120);
    let zip = rng.range(10_000, 99_999);
    let precinct = rng.range(1, 400);
    let polling_place = rng.range(1, 60);
    let age = rng.range(16, 96);
    let registered = rng.chance(0.85);
    let (email, sms, phone) = (rng.chance(0.7), rng.chance(0.25), rng.chance(0.5));

    let mut age = format!(r#""age":{age},"#);
    let mut scores = format!(r#"{{"support":{support:?},"turnout":{turnout:?},"persuasion":{persuasion:?}}}"#);
    let mut sms = format!(r#","sms":{sms}"#);
    let mut donations = format!(r#""donations":[{donation_list}],"#);
    let mut issues = format!("[{}]", issues.join(","));
    let mut last_contact = format!(r#","last_contact":{last_contact}"#);
    if dirty {
        let r = rng.random();
        if r < 0.03 {
            age.clear();
        } else if r < 0.05 {
            scores = "null".to_owned();
        } else if r < 0.07 {
            sms.clear();
        } else if r < 0.08 {
            donations.clear();
        } else if r < 0.09 {
            issues = "null".to_owned();
        } else if r < 0.10 {
            last_contact.clear();
        }
    }
    format!(
        r#"{{"id":{id},"email":"p{id}@example.org","state":"{state}","zip":"{zip}","precinct":"{state}-{county:03}-{precinct:04}","polling_place":"PP-{state}-{county:03}{polling_place:02}",{age}"party":"{party}","registered":{registered},"engagement":{engagement},"volunteer":{volunteer},"scores":{scores},{donations}"issues":{issues},"consent":{{"email":{email}{sms},"phone":{phone}}}{last_contact}}}"#
    )
}

/// `YYYY-MM-DD` of a number of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
pub fn iso_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}
