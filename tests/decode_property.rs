//! Hostile profile lines, generated: mutations of valid campaign profiles
//! (duplicate keys, escaped keys, odd numbers, whitespace JSON does and does
//! not allow, deep nesting in read and unread fields, null and missing ids,
//! lone surrogates, invalid UTF-8 as bytes, trailing garbage). Every way
//! narval reads a profile gives each line the same verdict:
//!
//! - the scanner and the serde path decode it alike (the same profile and
//!   id, or the same error), for every choice of fields read;
//! - `narval assign`'s path (`RuleSet::decode_line_into` then `evaluate`)
//!   and `narval explain`'s (the same decoding, then `explain_decoded`) give
//!   the same streams or the same error;
//! - `assign_json` and `explain_json` agree with it, except that they ask
//!   for no id;
//! - the binary itself, on a file of the lines, reports each rejected line
//!   with that error and writes each other line's streams; and `narval
//!   explain` on one of them alone gives the same verdict.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::Command;

use narval::decode::{self, Profile, Reads};
use narval::{ProfileError, RuleSet};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const RULES: &str = include_str!("decode/campaign.narval");

fn rules() -> RuleSet {
    RuleSet::builder().source("campaign.narval", RULES).build().map_err(|r| r.render()).unwrap()
}

/// A valid profile, as JSON text, from a few random values.
fn profile(id: u32, age: Option<u8>, support: u8, party: usize, gifts: &[u16], email: bool) -> String {
    let party = ["dem", "rep", "ind", "none"][party % 4];
    let age = age.map(|a| format!(r#""age":{a},"#)).unwrap_or_default();
    let email = if email { r#""email":"a@b.c","# } else { "" };
    let gifts: Vec<String> = gifts
        .iter()
        .map(|c| format!(r#"{{"amount":{}.{:02},"context":"rally","date":"2012-05-01"}}"#, c / 100, c % 100))
        .collect();
    format!(
        r#"{{"id":{id},{email}{age}"volunteer":{},"party":"{party}","scores":{{"support":{support},"turnout":60}},"donations":[{}]}}"#,
        support % 2 == 0,
        gifts.join(",")
    )
}

/// One mutation of a line's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    /// The member at the n-th key written again, or with its key escaped.
    DuplicateKey(usize),
    EscapeKey(usize),
    /// The n-th number replaced.
    Number(usize, &'static str),
    /// Bytes inserted at a position (a fraction of the length).
    Insert(u16, &'static [u8]),
    /// A member added at the start of the object.
    Member(&'static str, String),
    /// The id made null, or removed.
    NullId,
    NoId,
    /// Bytes after the object.
    Trailing(&'static str),
}

const NUMBERS: &[&str] = &[
    "1e-400",
    "1e400",
    "-0",
    "-0.0",
    "1.0",
    "1e2",
    "1E+2",
    "01",
    "+1",
    ".5",
    "1.",
    "1.0000000000000001",
    "9223372036854775808",
    "-9223372036854775809",
    "12345678901234567890",
    "0.1e1",
    "4.9e-324",
    "1e999999999999999999999",
    "0.00000000000000000000000000001",
    "25.999",
];

const INSERTS: &[&[u8]] = &[
    b" ",
    b"\t",
    b"\r",
    b"\x0c",
    b"\x0b",
    b"\xc2\xa0",
    b"\xef\xbb\xbf",
    b"\x00",
    b"\xff",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b",",
    b"\\",
    b"\"",
];

fn deep(depth: usize) -> String {
    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..12_usize).prop_map(Mutation::DuplicateKey),
        (0..12_usize).prop_map(Mutation::EscapeKey),
        (0..8_usize, proptest::sample::select(NUMBERS)).prop_map(|(n, s)| Mutation::Number(n, s)),
        (any::<u16>(), proptest::sample::select(INSERTS)).prop_map(|(at, b)| Mutation::Insert(at, b)),
        (
            proptest::sample::select(&["email", "extra", "age", "scores", "id", "\\u0069d"][..]),
            prop_oneof![
                (1..300_usize).prop_map(deep),
                Just(r#""\ud800""#.to_owned()),
                Just(r#""\x""#.to_owned()),
                Just("1e400".to_owned()),
                Just("null".to_owned()),
                Just(r#"{"a":1,"a":2}"#.to_owned()),
            ]
        )
            .prop_map(|(k, v)| Mutation::Member(k, v)),
        Just(Mutation::NullId),
        Just(Mutation::NoId),
        proptest::sample::select(&[",", " x", "}", "\t", "{}"][..]).prop_map(Mutation::Trailing),
    ]
}

/// Byte ranges of a line.
type Ranges = Vec<(usize, usize)>;

/// The byte ranges of the keys (from their opening quote) and the numbers
/// of a line, as far as its quotes are closed.
fn places(line: &[u8]) -> (Ranges, Ranges) {
    let (mut keys, mut numbers) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            b'"' => {
                // An earlier mutation may have left a quote open: no more places.
                let Some(length) = line[i + 1..].iter().position(|&b| b == b'"') else { break };
                let end = i + 1 + length;
                if line.get(end + 1) == Some(&b':') {
                    keys.push((i, end + 1));
                }
                i = end + 1;
            }
            b'-' | b'0'..=b'9' => {
                let end = i + line[i..].iter().position(|b| !b"-+.eE0123456789".contains(b)).unwrap_or(line.len() - i);
                numbers.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    (keys, numbers)
}

fn mutate(line: &mut Vec<u8>, mutation: &Mutation) {
    let (keys, numbers) = places(line);
    let splice = |line: &mut Vec<u8>, range: std::ops::Range<usize>, with: &[u8]| {
        line.splice(range, with.iter().copied());
    };
    match mutation {
        Mutation::DuplicateKey(n) if !keys.is_empty() => {
            // The key and its value up to the next comma or brace: a member
            // written twice (its value cut short makes a syntax error, fine).
            let (start, end) = keys[n % keys.len()];
            let stop = end + line[end..].iter().position(|b| b",}".contains(b)).unwrap_or(line.len() - end);
            let member = line[start..stop].to_vec();
            splice(line, start..start, &[&member[..], b","].concat());
        }
        Mutation::EscapeKey(n) if !keys.is_empty() => {
            let (start, _) = keys[n % keys.len()];
            let first = line[start + 1];
            splice(line, start + 1..start + 2, format!("\\u{:04x}", first).as_bytes());
        }
        Mutation::Number(n, text) if !numbers.is_empty() => {
            let (start, end) = numbers[n % numbers.len()];
            splice(line, start..end, text.as_bytes());
        }
        Mutation::Insert(at, bytes) => {
            let at = *at as usize % (line.len() + 1);
            splice(line, at..at, bytes);
        }
        Mutation::Member(key, value) => splice(line, 1..1, format!(r#""{key}":{value},"#).as_bytes()),
        Mutation::NullId | Mutation::NoId => {
            if let Some(&(start, end)) = keys.iter().find(|(s, e)| &line[*s..*e] == b"\"id\"") {
                let stop = end + line[end..].iter().position(|b| b",}".contains(b)).unwrap_or(line.len() - end);
                match mutation {
                    Mutation::NullId => splice(line, end + 1..stop, b"null"),
                    _ => splice(line, start..stop + 1, b""),
                }
            }
        }
        Mutation::Trailing(text) => line.extend_from_slice(text.as_bytes()),
        _ => {}
    }
}

fn hostile_line() -> impl Strategy<Value = Vec<u8>> {
    (
        (0..1000_u32, proptest::option::of(0..100_u8), 0..100_u8, 0..4_usize),
        proptest::collection::vec(0..60_000_u16, 0..3),
        any::<bool>(),
        proptest::collection::vec(mutation(), 0..3),
    )
        .prop_map(|((id, age, support, party), gifts, email, mutations)| {
            let mut line = profile(id, age, support, party, &gifts, email).into_bytes();
            for m in &mutations {
                mutate(&mut line, m);
            }
            // A line ends at a newline.
            line.retain(|&b| b != b'\n');
            line
        })
}

/// The streams of an assignment, solicitations then issues.
fn streams(a: &narval::Assignment<'_>) -> Vec<String> {
    a.solicitations.iter().chain(&a.issues).map(|s| s.to_string()).collect()
}

/// One line read every way the library offers; the verdict of `assign`'s
/// path: the id's text and the streams, or the error.
fn library_verdict(rules: &RuleSet, line: &[u8]) -> Result<(String, Vec<String>), ProfileError> {
    let schema = &rules.checked().schema;
    for slots in [vec![true; schema.records[0].fields.len()], rules.checked().profile_reads()] {
        let (mut fast, mut slow) = (Profile::default(), Profile::default());
        let scanned = decode::decode_bytes_into(schema, &Reads::of(schema, slots.clone()), line, Some("id"), &mut fast);
        let by_serde = decode::decode_bytes_into(schema, &Reads::from_slots(slots), line, Some("id"), &mut slow);
        assert_eq!(scanned, by_serde, "the scanner and serde differ on {:?}", String::from_utf8_lossy(line));
        // Debug text, where -0.0 is not 0.0.
        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{:?}", String::from_utf8_lossy(line));
    }
    let mut profile = Profile::default();
    let assigned = rules
        .decode_line_into(line, "id", &mut profile)
        .map(|id| (id.to_owned(), streams(&rules.assignment(&rules.evaluate(&profile)))));
    let explained = rules.decode_line_into(line, "id", &mut profile).map(|id| {
        let explanation = rules.explain_decoded(&profile);
        (id.to_owned(), explanation.assigned().map(|s| s.stream.clone()).collect::<Vec<_>>())
    });
    assert_eq!(assigned, explained, "assign and explain differ on {:?}", String::from_utf8_lossy(line));
    match std::str::from_utf8(line) {
        Ok(text) => {
            let by_json = rules.assign_json(text).map(|a| streams(&a));
            let explained = rules.explain_json(text).map(|e| e.assigned().map(|s| s.stream.clone()).collect());
            assert_eq!(by_json, explained, "assign_json and explain_json differ on {text}");
            match &assigned {
                Err(ProfileError::MissingId { .. }) => assert!(by_json.is_ok(), "{text}: {by_json:?}"),
                _ => assert_eq!(assigned.clone().map(|(_, s)| s), by_json, "assign and assign_json differ on {text}"),
            }
        }
        Err(_) => assert!(matches!(assigned, Err(ProfileError::NotUtf8 { .. })), "{assigned:?}"),
    }
    assigned
}

/// A folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn every_path_gives_a_hostile_line_the_same_verdict() {
    let rules = rules();
    let scratch = Scratch(std::env::temp_dir().join(format!("narval-decode-property-{}", std::process::id())));
    std::fs::create_dir_all(&scratch.0).unwrap();
    let rules_file = scratch.0.join("campaign.narval");
    std::fs::write(&rules_file, RULES).unwrap();
    let binary = env!("CARGO_BIN_EXE_narval");
    let taken = std::cell::Cell::new(0);
    let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
    let lines = proptest::collection::vec(hostile_line(), 1..10);
    runner
        .run(&lines, |lines| {
            let verdicts: Vec<_> = lines.iter().map(|line| library_verdict(&rules, line)).collect();
            taken.set(taken.get() + verdicts.iter().filter(|v| v.is_ok()).count());
            // The binary, on a file of the lines after a valid first one (a
            // byte order mark starts a file, not a line).
            let mut file = profile(0, None, 50, 0, &[], false).into_bytes();
            for line in &lines {
                file.push(b'\n');
                file.extend_from_slice(line);
            }
            file.push(b'\n');
            let path = scratch.0.join("profiles.ndjson");
            std::fs::write(&path, &file).unwrap();
            let out = Command::new(binary)
                .args(["assign", rules_file.to_str().unwrap(), "--profiles", path.to_str().unwrap()])
                .output()
                .unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            let mut expected_err = String::new();
            let (id, first) = library_verdict(&rules, &file[..file.iter().position(|&b| b == b'\n').unwrap()]).unwrap();
            let mut expected_out = out_record(&rules, &id, &first);
            for (index, verdict) in verdicts.iter().enumerate() {
                match verdict {
                    Err(error) => expected_err.push_str(&format!("narval: line {}: {error}\n", index + 2)),
                    Ok((id, streams)) => {
                        let record = out_record(&rules, id, streams);
                        expected_out.push_str(&record);
                    }
                }
            }
            let rejected: Vec<&str> = stderr.lines().filter(|l| l.starts_with("narval: line ")).collect();
            prop_assert_eq!(rejected.join("\n"), expected_err.trim_end().to_owned());
            prop_assert_eq!(String::from_utf8(out.stdout).unwrap(), expected_out);
            // `narval explain` on the first line alone, as a file.
            let line = &lines[0];
            if !line.starts_with(b"\xef\xbb\xbf") {
                let one = scratch.0.join("one.json");
                std::fs::write(&one, line).unwrap();
                let out = Command::new(binary)
                    .args([
                        "explain",
                        rules_file.to_str().unwrap(),
                        "--profile",
                        one.to_str().unwrap(),
                        "--format",
                        "json",
                    ])
                    .output()
                    .unwrap();
                let stderr = String::from_utf8(out.stderr).unwrap();
                match &verdicts[0] {
                    Ok((_, streams)) => {
                        prop_assert_eq!(out.status.code(), Some(0), "{}", stderr);
                        // Only the streams: the id is copied as written, and
                        // `1e999...` is JSON that serde_json will not hold as
                        // a value (it skips it in a field it ignores).
                        #[derive(serde::Deserialize)]
                        struct Explained {
                            streams: Vec<serde_json::Value>,
                        }
                        let document: Explained = serde_json::from_slice(&out.stdout).unwrap();
                        let explained: Vec<String> = document
                            .streams
                            .iter()
                            .filter(|s| s["assigned"] == true)
                            .map(|s| s["stream"].as_str().unwrap().to_owned())
                            .collect();
                        prop_assert_eq!(&explained, streams);
                    }
                    Err(ProfileError::Empty) => prop_assert_eq!(out.status.code(), Some(2)),
                    Err(error) => {
                        prop_assert_eq!(out.status.code(), Some(3));
                        prop_assert_eq!(stderr, format!("narval: {}: {error}\n", one.display()));
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    let taken = taken.get();
    assert!(taken > 20, "only {taken} lines were taken: the mutations are too hostile to test acceptance");
}

/// The output line `narval assign` writes for a profile.
fn out_record(rules: &RuleSet, id: &str, streams: &[String]) -> String {
    let names = |kind| {
        rules.streams(kind).filter(|s| streams.iter().any(|t| t == s)).map(|s| format!("\"{s}\"")).collect::<Vec<_>>()
    };
    format!(
        "{{\"id\":{id},\"solicitations\":[{}],\"issues\":[{}]}}\n",
        names(narval::ir::StreamKind::Solicitation).join(","),
        names(narval::ir::StreamKind::Issue).join(",")
    )
}
