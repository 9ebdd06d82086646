//! Rule sets of any size, as a campaign generates them from its voter file,
//! on top of the 23 campaign-2012 rules (and its 4 requirements): one event-invite rule per polling
//! place, one issue rule per precinct, and door-knock rules per band of
//! support score and age. The three kinds take turns.
//!
//! Polling places and precincts are taken, in order of first appearance,
//! from profiles of the workload, so every generated rule can fire.
//! Shared through `#[path]` by `benches/scaling.rs` and `tests/scaling.rs`.
#![allow(dead_code)]

use std::path::Path;

use serde::Deserialize;

/// The issues a precinct rule reads, each also the issue stream it assigns.
/// Immigration and environment come first: the campaign rules give them
/// only in some states or parties, so a generated rule can change the answer.
pub const ISSUES: [&str; 7] =
    ["immigration", "environment", "healthcare", "jobs", "education", "veterans", "contraception"];

/// One generated rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    /// `invite_pp_OH_02001: polling_place == "PP-OH-02001" -> event_invite`
    Invite { polling_place: String },
    /// `immigration_OH_020_0247: precinct == "OH-020-0247" and issues contains "immigration" -> immigration`
    Issue { precinct: String, issue: &'static str },
    /// `band_40_age_30: scores.support between 40 and 41 and age >= 30 -> door_knock`
    Band { support: u32, min_age: u32 },
}

impl Rule {
    /// The rule as a line of the language.
    pub fn text(&self) -> String {
        match self {
            Rule::Invite { polling_place } => {
                format!("invite_{}: polling_place == \"{polling_place}\" -> event_invite", ident(polling_place))
            }
            Rule::Issue { precinct, issue } => format!(
                "{issue}_{}: precinct == \"{precinct}\" and issues contains \"{issue}\" -> {issue}",
                ident(precinct)
            ),
            Rule::Band { support, min_age } => format!(
                "band_{support}_age_{min_age}: scores.support between {support} and {} and age >= {min_age} -> door_knock",
                support + 1
            ),
        }
    }

    /// The stream it assigns.
    pub fn stream(&self) -> &'static str {
        match self {
            Rule::Invite { .. } => "event_invite",
            Rule::Issue { issue, .. } => issue,
            Rule::Band { .. } => "door_knock",
        }
    }

    /// Whether its condition holds on a profile: a plain model of the rule,
    /// for tests.
    pub fn fires(&self, profile: &serde_json::Value) -> bool {
        match self {
            Rule::Invite { polling_place } => profile["polling_place"] == polling_place.as_str(),
            Rule::Issue { precinct, issue } => {
                profile["precinct"] == precinct.as_str()
                    && profile["issues"].as_array().is_some_and(|issues| issues.iter().any(|i| i == issue))
            }
            Rule::Band { support, min_age } => {
                let score = profile["scores"]["support"].as_f64().unwrap_or(f64::NAN);
                let age = profile["age"].as_i64().unwrap_or(i64::MIN);
                (f64::from(*support)..=f64::from(support + 1)).contains(&score) && age >= i64::from(*min_age)
            }
        }
    }
}

/// `PP-OH-02001` to `pp_OH_02001`.
fn ident(value: &str) -> String {
    let name = value.replace('-', "_");
    match name.strip_prefix("PP_") {
        Some(rest) => format!("pp_{rest}"),
        None => name,
    }
}

/// The polling places and precincts of some profile lines, each in order of
/// first appearance.
#[derive(Debug, Default)]
pub struct Places {
    pub polling_places: Vec<String>,
    pub precincts: Vec<String>,
}

impl Places {
    pub fn of<'a>(lines: impl IntoIterator<Item = &'a str>) -> Places {
        #[derive(Deserialize)]
        struct Where {
            polling_place: String,
            precinct: String,
        }
        let mut places = Places::default();
        let (mut seen_places, mut seen_precincts) =
            (std::collections::HashSet::new(), std::collections::HashSet::new());
        for line in lines {
            let Ok(at) = serde_json::from_str::<Where>(line) else { continue };
            if seen_places.insert(at.polling_place.clone()) {
                places.polling_places.push(at.polling_place);
            }
            if seen_precincts.insert(at.precinct.clone()) {
                places.precincts.push(at.precinct);
            }
        }
        places
    }
}

/// `n` rules: invite, issue and band rules in turn. `None` when there are
/// not enough places for them.
pub fn generate(n: usize, places: &Places) -> Option<Vec<Rule>> {
    let mut rules = Vec::with_capacity(n);
    for i in 0..n {
        let j = i / 3;
        rules.push(match i % 3 {
            0 => Rule::Invite { polling_place: places.polling_places.get(j)?.clone() },
            1 => Rule::Issue { precinct: places.precincts.get(j)?.clone(), issue: ISSUES[j % ISSUES.len()] },
            // 100 bands of one point from 40 up, then the next minimum age:
            // 6,000 distinct band rules.
            _ if j < 6_000 => Rule::Band { support: (40 + j as u32) % 100, min_age: 30 + (j as u32 / 100) % 60 },
            _ => return None,
        });
    }
    Some(rules)
}

/// A rule file holding the rules, importing the campaign schema at `schema`.
pub fn source(rules: &[Rule], schema: &Path) -> String {
    let mut text = format!("narval 1\nimport \"{}\"\n\n", schema.display());
    for rule in rules {
        text.push_str(&rule.text());
        text.push('\n');
    }
    text
}

/// The campaign rules of `campaign` plus `rules`, for `today`.
pub fn builder(campaign: &Path, schema: &Path, rules: &[Rule], today: narval::Date) -> narval::Builder {
    let builder = narval::RuleSet::builder().file(campaign).today(today);
    if rules.is_empty() {
        builder
    } else {
        builder.source("generated.narval", source(rules, schema))
    }
}
