//! The result of a rule set does not depend on the order of its rules and
//! definitions, nor on how they are spread over files, nor on the order the
//! files are given in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;

const EXAMPLE: &str = "examples/campaign-2012";

/// The campaign's definitions and rules, one chunk each (paragraphs of the
/// file), and the rest (version, import, streams) kept in the first file.
fn chunks() -> &'static (String, Vec<String>) {
    static CHUNKS: OnceLock<(String, Vec<String>)> = OnceLock::new();
    CHUNKS.get_or_init(|| {
        let text = std::fs::read_to_string(Path::new(EXAMPLE).join("campaign.narval")).unwrap();
        let mut head = String::new();
        let mut items = Vec::new();
        for paragraph in text.split("\n\n") {
            let code: Vec<&str> = paragraph.lines().filter(|l| !l.trim_start().starts_with('#')).collect();
            let code = code.join("\n");
            let trimmed = code.trim();
            if trimmed.is_empty() {
                continue;
            }
            let is_header =
                ["narval", "import", "solicitation", "issue streams"].iter().any(|k| trimmed.starts_with(k));
            if is_header {
                head.push_str(trimmed);
                head.push_str("\n\n");
            } else {
                // A paragraph may hold several one-line items.
                let mut current = String::new();
                for line in trimmed.lines() {
                    let starts_item = !line.starts_with(' ') && !current.is_empty();
                    if starts_item {
                        items.push(std::mem::take(&mut current));
                    }
                    current.push_str(line);
                    current.push('\n');
                }
                items.push(current);
            }
        }
        (head, items)
    })
}

fn profiles() -> &'static Vec<serde_json::Value> {
    static PROFILES: OnceLock<Vec<serde_json::Value>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        let text = std::fs::read_to_string(Path::new(EXAMPLE).join("profiles.ndjson")).unwrap();
        let mut profiles: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        // A profile missing a required field is rejected the same way whatever the order.
        let mut broken = profiles[0].clone();
        broken.as_object_mut().unwrap().remove("age");
        profiles.push(broken);
        profiles
    })
}

type Outcome = Vec<Result<(Vec<String>, Vec<String>), String>>;

fn run(files: &[(String, String)]) -> Outcome {
    let rules = files
        .iter()
        .fold(narval::RuleSet::builder(), |b, (name, text)| b.source(name.clone(), text.clone()))
        .today("2012-10-01".parse().unwrap())
        .build()
        .unwrap_or_else(|report| panic!("{}", report.render()));
    profiles()
        .iter()
        .map(|p| {
            rules
                .assign_value(p)
                .map(|a| {
                    (
                        a.solicitations.iter().map(|s| s.to_string()).collect(),
                        a.issues.iter().map(|s| s.to_string()).collect(),
                    )
                })
                .map_err(|e| e.to_string())
        })
        .collect()
}

fn baseline() -> &'static Outcome {
    static BASELINE: OnceLock<Outcome> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let text = std::fs::read_to_string(Path::new(EXAMPLE).join("campaign.narval")).unwrap();
        run(&[(format!("{EXAMPLE}/campaign.narval"), text)])
    })
}

#[test]
fn the_split_covers_every_item() {
    let (head, items) = chunks();
    assert!(head.contains("solicitation streams"));
    // 4 definitions, 4 requirements and 23 rules in the example.
    assert_eq!(items.len(), 31, "{items:#?}");
    assert_eq!(items.iter().filter(|i| i.starts_with("require ")).count(), 4);
    // The example's outcome is not trivial: some profiles get streams, one is rejected.
    assert!(baseline().iter().any(|r| r.as_ref().is_ok_and(|(s, i)| !s.is_empty() && !i.is_empty())));
    assert!(baseline().iter().any(|r| r.is_err()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn shuffling_rules_and_files_changes_nothing(
        order in Just((0..chunks().1.len()).collect::<Vec<usize>>()).prop_shuffle(),
        homes in proptest::collection::vec(0..3usize, chunks().1.len()),
        file_order in Just(vec![0usize, 1, 2]).prop_shuffle(),
    ) {
        let (head, items) = chunks();
        let mut texts = [head.clone(), String::from("narval 1\n"), String::from("narval 1\n")];
        for (&item, &home) in order.iter().zip(&homes) {
            texts[home].push_str(&items[item]);
            texts[home].push('\n');
        }
        let files: Vec<(String, String)> = file_order
            .iter()
            .map(|&i| (format!("{EXAMPLE}/part{i}.narval"), texts[i].clone()))
            .collect();
        prop_assert_eq!(&run(&files), baseline());
    }
}
