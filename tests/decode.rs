//! One decoder, one truth: `narval assign` and `narval explain` accept and
//! reject the same profile lines (exit 3 when one is rejected), for the same reason, with the same
//! streams. `tests/decode/hostile.ndjson` holds lines on every edge of JSON
//! (`hostile.md` says what each line tries); beside it, what a user sees:
//! `hostile.assign.stderr` and `hostile.assign.stdout` for `narval assign`,
//! `hostile.explain` for `narval explain --id N` on each line N (each line's
//! id, when it has one, is its number). `NARVAL_BLESS=1 cargo test --test
//! decode` rewrites them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/decode");

fn narval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(args)
        .current_dir(FIXTURES)
        .output()
        .expect("the narval binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Compares `actual` with the fixture `name`, or rewrites it when blessing.
fn expect_file(name: &str, actual: &str) {
    let path = Path::new(FIXTURES).join(name);
    if std::env::var_os("NARVAL_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(actual, expected, "{name} differs (NARVAL_BLESS=1 rewrites it)");
}

/// A verdict of one line: its streams, or why it was refused.
#[derive(Debug, PartialEq)]
enum Verdict {
    Streams(Vec<String>),
    Rejected(String),
    /// `explain` found no line with the id: the line has none it can read.
    NotFound,
}

#[test]
fn assign_and_explain_give_every_hostile_line_the_same_verdict() {
    let input = std::fs::read(Path::new(FIXTURES).join("hostile.ndjson")).unwrap();
    let count = input.split(|&b| b == b'\n').count() - 1;
    let out = narval(&["assign", "campaign.narval", "--profiles", "hostile.ndjson"]);
    assert_eq!(out.status.code(), Some(3));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    expect_file("hostile.assign.stdout", &stdout);
    expect_file("hostile.assign.stderr", &stderr);

    // assign's verdict per line: a rejection names its line, an output line
    // its id (each id is its line's number).
    let mut assigned: BTreeMap<usize, Verdict> = BTreeMap::new();
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("narval: line ") else { continue };
        let (number, reason) = rest.split_once(": ").unwrap();
        assigned.insert(number.parse().unwrap(), Verdict::Rejected(reason.to_owned()));
    }
    for line in stdout.lines() {
        let value: Value = serde_json::from_str(line).unwrap();
        let id = match &value["id"] {
            Value::String(s) => s.parse().unwrap(),
            id => id.as_u64().unwrap() as usize,
        };
        let streams = ["solicitations", "issues"]
            .iter()
            .flat_map(|kind| value[kind].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()))
            .collect();
        assert!(assigned.insert(id, Verdict::Streams(streams)).is_none(), "line {id} twice");
    }
    assert_eq!(assigned.len(), count, "every line has one verdict");

    let mut explained = String::new();
    for number in 1..=count {
        let id = number.to_string();
        let out =
            narval(&["explain", "campaign.narval", "--profile", "hostile.ndjson", "--id", &id, "--format", "json"]);
        let verdict = match out.status.code() {
            Some(0) => {
                let document: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(document["line"], number, "explain explains the line with the id");
                let streams = document["streams"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|s| s["assigned"] == true)
                    .map(|s| s["stream"].as_str().unwrap().to_owned())
                    .collect();
                Verdict::Streams(streams)
            }
            Some(3) => {
                let message = text(&out.stderr);
                let prefix = format!("narval: hostile.ndjson line {number}: ");
                let reason = message.trim_end().strip_prefix(&prefix).unwrap_or_else(|| panic!("{message}"));
                Verdict::Rejected(reason.to_owned())
            }
            Some(2) => {
                assert_eq!(text(&out.stderr), format!("narval: no profile in `hostile.ndjson` has `id` {number}\n"));
                Verdict::NotFound
            }
            status => panic!("line {number}: explain exits with {status:?}"),
        };
        explained.push_str(&match &verdict {
            Verdict::Streams(streams) => format!("line {number}: explained: {}\n", streams.join(", ")),
            Verdict::Rejected(reason) => format!("line {number}: {reason}\n"),
            Verdict::NotFound => format!("line {number}: no profile with this id\n"),
        });
        match (&assigned[&number], &verdict) {
            // A line without an id explain can read is refused by assign.
            (Verdict::Rejected(_), Verdict::NotFound) => {}
            (by_assign, by_explain) => assert_eq!(by_assign, by_explain, "line {number}"),
        }
    }
    expect_file("hostile.explain", &explained);
}

/// A fresh folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("narval-decode-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const PROFILE: &str =
    r#"{"id":1,"age":70,"volunteer":false,"party":"dem","scores":{"support":50,"turnout":60},"donations":[]}"#;

/// `PROFILE` padded with spaces to `length` bytes.
fn padded(length: usize) -> Vec<u8> {
    let mut line = PROFILE.as_bytes().to_vec();
    line.resize(length, b' ');
    line
}

/// The limit counts the bytes before the newline: a line of exactly 4 MiB
/// is taken, with or without a final newline, and one byte more is not, in
/// both commands.
#[test]
fn the_line_limit_is_the_same_with_and_without_a_newline() {
    const LIMIT: usize = 4 * 1024 * 1024;
    let dir = Scratch::new("limit");
    for (length, newline, taken) in
        [(LIMIT, true, true), (LIMIT, false, true), (LIMIT + 1, true, false), (LIMIT + 1, false, false)]
    {
        let mut bytes = padded(length);
        if newline {
            bytes.push(b'\n');
        }
        let file = dir.write("p.ndjson", &bytes);
        let out = narval(&["assign", "campaign.narval", "--profiles", &file]);
        let summary = if taken { "1 assigned, 0 rejected" } else { "0 assigned, 1 rejected" };
        assert!(text(&out.stderr).contains(summary), "{length} {newline}: {}", text(&out.stderr));
        if !taken {
            assert!(text(&out.stderr).contains("line 1: line longer than the limit of 4 MiB"));
        }
        let out = narval(&["explain", "campaign.narval", "--profile", &file, "--id", "1"]);
        assert_eq!(out.status.code(), Some(if taken { 0 } else { 3 }), "{length} {newline}");
        if !taken {
            let expected = format!("narval: {file} line 1: line longer than the limit of 4 MiB\n");
            assert_eq!(text(&out.stderr), expected);
        }
        let out = narval(&["explain", "campaign.narval", "--profile", &file]);
        assert_eq!(out.status.code(), Some(if taken { 0 } else { 3 }), "{length} {newline}");
    }
}

/// A byte order mark belongs to the file: skipped at its start, so that a
/// file of only a mark holds no profile; anywhere else it is not JSON.
#[test]
fn a_byte_order_mark_starts_a_file_not_a_line() {
    let dir = Scratch::new("bom");
    let only = dir.write("only.ndjson", b"\xEF\xBB\xBF");
    let out = narval(&["assign", "campaign.narval", "--profiles", &only]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "narval: 0 profiles read, 0 assigned, 0 rejected\n");
    let out = narval(&["explain", "campaign.narval", "--profile", &only]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stderr), format!("narval: `{only}` holds no profile\n"));

    let marked = dir.write("marked.json", format!("\u{feff}{PROFILE}\n").as_bytes());
    let out = narval(&["assign", "campaign.narval", "--profiles", &marked]);
    assert_eq!(text(&out.stderr), "narval: 1 profile read, 1 assigned, 0 rejected\n");
    for args in [vec![], vec!["--id", "1"]] {
        let mut all = vec!["explain", "campaign.narval", "--profile", &marked];
        all.extend(args);
        let out = narval(&all);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    }
    // A mark, then a profile spread over lines: one JSON text.
    let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(PROFILE).unwrap()).unwrap();
    let pretty = dir.write("pretty.json", format!("\u{feff}{pretty}\n").as_bytes());
    let out = narval(&["explain", "campaign.narval", "--profile", &pretty]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Without `--id`, the one profile of a file is decoded as a line is: no
/// id, a null one, or a duplicate key get assign's reasons.
#[test]
fn a_whole_file_is_judged_as_a_line() {
    let dir = Scratch::new("whole");
    for (profile, reason) in [
        (PROFILE.replace(r#""id":1,"#, ""), "no `id` field to identify the profile"),
        (PROFILE.replace(r#""id":1"#, r#""id":null"#), "no `id` field to identify the profile"),
        (PROFILE.replace(r#""age":70"#, r#""age":70,"age":71"#), "field `age` appears more than once"),
        (format!("\u{c}{PROFILE}"), "not valid JSON: syntax error at column 1"),
    ] {
        let file = dir.write("p.json", profile.as_bytes());
        let out = narval(&["explain", "campaign.narval", "--profile", &file]);
        assert_eq!(out.status.code(), Some(3), "{profile}");
        assert_eq!(text(&out.stderr), format!("narval: {file}: {reason}\n"));
        let out = narval(&["assign", "campaign.narval", "--profiles", &file]);
        assert_eq!(text(&out.stderr).lines().next(), Some(format!("narval: line 1: {reason}").as_str()));
    }
}
