//! End-to-end tests of the `narval` binary: exit statuses, output formats and
//! the line-by-line handling of profiles. Rule files and profiles live in
//! `tests/cli/`; the tests run from that folder so that file names in
//! diagnostics are the short ones written here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli");

/// Runs `narval ARGS` in the fixture folder, with `stdin` as its input.
fn narval(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(args)
        .current_dir(FIXTURES)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the narval binary runs");
    // Fed from another thread: narval writes while it reads, and a full
    // output pipe must not block the feeding.
    let mut input = child.stdin.take().unwrap();
    let stdin = stdin.to_owned();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(stdin.as_bytes());
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    output
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("narval exits by itself")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// The JSON values of NDJSON text, one per line.
fn lines(text: &str) -> Vec<Value> {
    text.lines().map(|line| serde_json::from_str(line).unwrap()).collect()
}

/// One expected output line.
fn assigned(id: Value, solicitations: &[&str], issues: &[&str]) -> Value {
    json!({ "id": id, "solicitations": solicitations, "issues": issues })
}

/// A fresh folder under the system temp dir, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("narval-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

// ---- check ------------------------------------------------------------------

#[test]
fn check_clean_rules_exits_0() {
    let out = narval(&["check", "campaign.narval"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "narval: ok, 1 file checked\n");
    assert_eq!(stdout(&out), "");
}

#[test]
fn check_error_exits_1_with_rustc_like_text() {
    let out = narval(&["check", "unknown_field.narval"], "");
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.starts_with("error[E0101]: "), "{err}");
    assert!(err.contains("--> unknown_field.narval:6:14"), "{err}");
    assert!(err.ends_with("\nnarval: 1 error, 0 warnings\n"), "{err}");
    assert_eq!(stdout(&out), "");
}

#[test]
fn check_json_locates_each_diagnostic() {
    let out = narval(&["check", "--format", "json", "unknown_field.narval"], "");
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "");
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["errors"], 1);
    assert_eq!(document["warnings"], 0);
    let diagnostics = document["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    let first = &diagnostics[0];
    assert_eq!(first["code"], "E0101");
    assert_eq!(first["severity"], "error");
    assert!(first["message"].as_str().unwrap().contains("`scores.suport`"), "{first}");
    assert_eq!(first["location"]["file"], "unknown_field.narval");
    assert_eq!(first["location"]["line"], 6);
    assert_eq!(first["location"]["column"], 14);
    assert_eq!(first["location"]["end_line"], 6);
    assert_eq!(first["location"]["end_column"], 27);
}

#[test]
fn check_json_clean_is_an_empty_list() {
    let out = narval(&["check", "--format", "json", "campaign.narval"], "");
    assert_eq!(code(&out), 0);
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document, json!({ "diagnostics": [], "errors": 0, "warnings": 0 }));
}

#[test]
fn check_sarif_is_one_log_on_stdout() {
    let out = narval(&["check", "--format", "sarif", "unknown_field.narval"], "");
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "");
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 1, "one compact document and a newline: {text}");
    let log: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{log}");
    assert_eq!(results[0]["ruleId"], "E0101");
    assert_eq!(results[0]["level"], "error");
    let place = &results[0]["locations"][0]["physicalLocation"];
    assert_eq!(place["artifactLocation"]["uri"], "unknown_field.narval");
    assert_eq!(place["region"], json!({ "startLine": 6, "startColumn": 14, "endLine": 6, "endColumn": 27 }));

    let clean = narval(&["check", "--format", "sarif", "campaign.narval"], "");
    assert_eq!(code(&clean), 0, "{}", stderr(&clean));
    let log: Value = serde_json::from_str(&stdout(&clean)).unwrap();
    assert_eq!(log["runs"][0]["results"], json!([]));
}

#[test]
fn check_github_writes_one_command_per_diagnostic() {
    let out = narval(&["check", "--format", "github", "unknown_field.narval"], "");
    assert_eq!(code(&out), 1);
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        "::error file=unknown_field.narval,line=6,col=14,endLine=6,endColumn=27,title=E0101\
         ::unknown field `scores.suport`%0Ahelp: did you mean `scores.support`?\n"
    );

    let warned = narval(&["check", "--format", "github", "unused_definition.narval"], "");
    assert_eq!(code(&warned), 0);
    let first = stdout(&warned).lines().next().unwrap_or_default().to_string();
    assert!(first.starts_with("::warning file=unused_definition.narval,line=4,col=1,"), "{first}");
    assert!(first.contains(",title=W0001::"), "{first}");

    let denied = narval(&["check", "--format", "github", "--deny-warnings", "unused_definition.narval"], "");
    assert_eq!(code(&denied), 1);
    assert_eq!(stdout(&denied), stdout(&warned));

    let clean = narval(&["check", "--format", "github", "campaign.narval"], "");
    assert_eq!(code(&clean), 0, "{}", stderr(&clean));
    assert_eq!(stdout(&clean), "");
}

#[test]
fn warnings_fail_only_when_denied() {
    let allowed = narval(&["check", "unused_definition.narval"], "");
    assert_eq!(code(&allowed), 0);
    assert!(stderr(&allowed).contains("warning[W0001]"), "{}", stderr(&allowed));
    assert!(stderr(&allowed).ends_with("narval: 0 errors, 1 warning\n"));

    let denied = narval(&["check", "--deny-warnings", "unused_definition.narval"], "");
    assert_eq!(code(&denied), 1);
    assert!(stderr(&denied).contains("--deny-warnings"), "{}", stderr(&denied));

    let json = narval(&["check", "--deny-warnings", "--format", "json", "unused_definition.narval"], "");
    assert_eq!(code(&json), 1);
    let document: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(document["diagnostics"][0]["code"], "W0001");
    assert_eq!(document["warnings"], 1);
}

#[test]
fn check_reports_a_missing_file() {
    let out = narval(&["check", "--format", "json", "no_such_file.narval"], "");
    assert_eq!(code(&out), 1);
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["diagnostics"][0]["code"], "E0003");
}

#[test]
fn check_needs_no_date_but_evaluation_does() {
    // The date is a parameter of evaluation: CI checks a rule set reading
    // `today` without making one up.
    let checked = narval(&["check", "today.narval"], "");
    assert_eq!(code(&checked), 0, "{}", stderr(&checked));
    assert!(!stderr(&checked).contains("E0206"), "{}", stderr(&checked));

    // Evaluating needs it: assign and explain refuse to guess.
    let assigned = narval(&["assign", "today.narval", "--profiles", "-"], "{\"id\": 1}\n");
    assert_eq!(code(&assigned), 1);
    assert!(stderr(&assigned).contains("error[E0206]"), "{}", stderr(&assigned));
    let explained = narval(&["explain", "today.narval", "--profile", "-"], "{\"id\": 1}");
    assert_eq!(code(&explained), 1, "{}", stderr(&explained));
    assert!(stderr(&explained).contains("error[E0206]"), "{}", stderr(&explained));

    let given = narval(&["check", "--today", "2012-10-01", "today.narval"], "");
    assert_eq!(code(&given), 0, "{}", stderr(&given));
}

// ---- assign -----------------------------------------------------------------

#[test]
fn assign_writes_one_line_per_profile_in_order() {
    let out = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        lines(&stdout(&out)),
        [
            assigned(json!(1), &["fundraising_email", "door_knock", "flyer"], &["healthcare"]),
            assigned(json!(2), &[], &[]),
            assigned(json!(3), &[], &[]),
        ]
    );
    assert_eq!(stderr(&out), "narval: 3 profiles read, 3 assigned, 0 rejected\n");
}

#[test]
fn bad_lines_are_reported_and_the_rest_assigned() {
    let out = narval(&["assign", "campaign.narval", "--profiles", "dirty.ndjson"], "");
    assert_eq!(code(&out), 3);
    assert_eq!(
        lines(&stdout(&out)),
        [
            assigned(json!(1), &["fundraising_email", "door_knock", "flyer"], &["healthcare"]),
            assigned(json!(5), &["fundraising_email"], &[]),
            assigned(json!(8), &["fundraising_email"], &["healthcare"]),
        ]
    );
    let err = stderr(&out);
    let reported: Vec<&str> = err.lines().collect();
    assert_eq!(reported.len(), 6, "{err}");
    assert!(reported[0].starts_with("narval: line 2: not valid JSON: "), "{err}");
    assert!(reported[1].starts_with("narval: line 3: "), "{err}");
    assert!(reported[1].contains("`volunteer`"), "{err}");
    assert!(!reported[1].contains("yes"), "a rejection must not show the person's value: {err}");
    assert_eq!(reported[2], "narval: line 4: empty line");
    assert_eq!(reported[3], "narval: line 6: no `id` field to identify the profile");
    assert_eq!(reported[4], "narval: line 7: a profile must be a JSON object, found an array");
    assert_eq!(reported[5], "narval: 8 profiles read, 3 assigned, 5 rejected");
}

#[test]
fn a_final_line_without_newline_is_read_and_crlf_is_accepted() {
    let input = "{\"id\":1,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}\r\n\
                 {\"id\":2,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}";
    let out = narval(&["assign", "campaign.narval", "--profiles", "-"], input);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let ids: Vec<Value> = lines(&stdout(&out)).iter().map(|line| line["id"].clone()).collect();
    assert_eq!(ids, [json!(1), json!(2)]);
    assert_eq!(stderr(&out), "narval: 2 profiles read, 2 assigned, 0 rejected\n");
}

#[test]
fn profiles_from_stdin() {
    let input = std::fs::read_to_string(Path::new(FIXTURES).join("profiles.ndjson")).unwrap();
    let from_stdin = narval(&["assign", "campaign.narval", "--profiles", "-"], &input);
    let from_file = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson"], "");
    assert_eq!(code(&from_stdin), 0, "{}", stderr(&from_stdin));
    assert_eq!(lines(&stdout(&from_stdin)).len(), 3);
    assert_eq!(stdout(&from_stdin), stdout(&from_file));
}

#[test]
fn out_writes_to_a_file_and_not_stdout() {
    let scratch = Scratch::new("out");
    let target = scratch.path("assigned.ndjson");
    let out = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson", "--out", text(&target)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let written = std::fs::read_to_string(&target).unwrap();
    let ids: Vec<Value> = lines(&written).iter().map(|line| line["id"].clone()).collect();
    assert_eq!(ids, [json!(1), json!(2), json!(3)]);
}

#[test]
fn id_field_chooses_the_copied_field() {
    let scratch = Scratch::new("id_field");
    let profiles = scratch.write(
        "profiles.ndjson",
        "{\"id\":1,\"email\":\"a@example.org\",\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}\n\
         {\"id\":2,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}\n\
         {\"id\":3,\"email\":{\"kind\":\"work\"},\"volunteer\":true,\"party\":\"rep\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}\n",
    );
    let out = narval(&["assign", "campaign.narval", "--profiles", text(&profiles), "--id-field", "email"], "");
    assert_eq!(code(&out), 3);
    let ids: Vec<Value> = lines(&stdout(&out)).iter().map(|line| line["id"].clone()).collect();
    // Line 3's `email` is not the string the schema asks for, but no rule
    // reads it, so it is not checked: the id is copied as written.
    assert_eq!(ids, [json!("a@example.org"), json!({"kind": "work"})]);
    let err = stderr(&out);
    assert!(err.contains("narval: line 2: no `email` field to identify the profile\n"), "{err}");
    assert!(err.ends_with("narval: 3 profiles read, 2 assigned, 1 rejected\n"), "{err}");
}

#[test]
fn assign_with_today() {
    let input = "{\"id\":1,\"last_contact\":\"2012-10-02\"}\n{\"id\":2,\"last_contact\":\"2012-09-01\"}\n{\"id\":3}\n";
    let out = narval(&["assign", "today.narval", "--today", "2012-10-01", "--profiles", "-"], input);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        lines(&stdout(&out)),
        [assigned(json!(1), &["door_knock"], &[]), assigned(json!(2), &[], &[]), assigned(json!(3), &[], &[])]
    );
}

#[test]
fn assign_refuses_rules_with_errors_and_writes_nothing() {
    let scratch = Scratch::new("rule_errors");
    let target = scratch.path("assigned.ndjson");
    let out = narval(&["assign", "today.narval", "--profiles", "profiles.ndjson", "--out", text(&target)], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("error[E0206]"), "{}", stderr(&out));
    assert!(stderr(&out).ends_with("narval: 1 error, 0 warnings\n"), "{}", stderr(&out));
    assert!(!target.exists(), "no output file is created for a rule set with errors");
}

// ---- usage ------------------------------------------------------------------

#[test]
fn bad_usage_exits_2() {
    let unknown_flag = narval(&["check", "--frobnicate", "campaign.narval"], "");
    assert_eq!(code(&unknown_flag), 2);
    assert!(stderr(&unknown_flag).contains("--frobnicate"));

    let no_profiles = narval(&["assign", "campaign.narval"], "");
    assert_eq!(code(&no_profiles), 2);
    assert!(stderr(&no_profiles).contains("--profiles"));

    let bad_date = narval(&["check", "--today", "2012-02-30", "today.narval"], "");
    assert_eq!(code(&bad_date), 2);
    assert!(stderr(&bad_date).contains("`2012-02-30` is not a date"), "{}", stderr(&bad_date));

    let unreadable = narval(&["assign", "campaign.narval", "--profiles", "no_such_profiles.ndjson"], "");
    assert_eq!(code(&unreadable), 2);
    assert_eq!(stderr(&unreadable), "narval: cannot read `no_such_profiles.ndjson`: no such file\n");
    assert_eq!(stdout(&unreadable), "");
}

#[test]
fn help_documents_the_exit_statuses() {
    let out = narval(&["--help"], "");
    assert_eq!(code(&out), 0);
    let help = stdout(&out);
    assert!(help.contains("Exit status:"), "{help}");
    for status in ["0  success", "1  the rule set has errors", "2  bad usage", "3  some profile lines", "4  the output"]
    {
        assert!(help.contains(status), "{status} missing from:\n{help}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_device_is_an_output_error() {
    let out = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson", "--out", "/dev/full"], "");
    assert_eq!(code(&out), 4);
    assert!(stderr(&out).starts_with("narval: cannot write output: "), "{}", stderr(&out));
    // A device is written to, never renamed over.
    let meta = std::fs::metadata("/dev/full").unwrap();
    assert!(!meta.is_file(), "/dev/full must still be a device");
}

#[cfg(target_os = "linux")]
#[test]
fn check_output_to_a_full_device_is_an_output_error() {
    for format in ["json", "sarif", "github"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_narval"))
            .args(["check", "--format", format, "unknown_field.narval"])
            .current_dir(FIXTURES)
            .stdout(full)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(code(&out), 4, "{format}");
        assert!(stderr(&out).starts_with("narval: cannot write output: "), "{format}: {}", stderr(&out));
    }
}

#[test]
fn out_must_not_overwrite_the_profiles() {
    let scratch = Scratch::new("same_file");
    let original = std::fs::read_to_string(Path::new(FIXTURES).join("profiles.ndjson")).unwrap();
    let profiles = scratch.write("profiles.ndjson", &original);
    let out = narval(&["assign", "campaign.narval", "--profiles", text(&profiles), "--out", text(&profiles)], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("would overwrite the profiles"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&profiles).unwrap(), original);
}

#[test]
fn a_directory_is_not_a_profiles_file() {
    let scratch = Scratch::new("directory");
    let out = narval(&["assign", "campaign.narval", "--profiles", text(&scratch.0)], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("cannot read `") && stderr(&out).contains("`: is a directory"), "{}", stderr(&out));
    assert!(stderr(&out).ends_with(": is a directory\n"), "{}", stderr(&out));
}

// ---- test -------------------------------------------------------------------

#[test]
fn test_passing_cases_exit_0_and_list_each_case() {
    let out = narval(&["test", "suite.narval"], "");
    assert_eq!(code(&out), 0, "{}{}", stdout(&out), stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("test \"a persuadable voter is canvassed and asked\" (suite.narval:12) ... ok\n"),
        "{text}"
    );
    assert!(text.ends_with("\nnarval: 2 passed, 0 failed\n"), "{text}");
    assert!(!text.contains("coverage"), "{text}");
}

#[test]
fn test_failing_case_exits_5_with_expected_actual_and_the_deciding_rules() {
    let out = narval(&["test", "failing.narval"], "");
    assert_eq!(code(&out), 5, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("... FAILED"), "{text}");
    assert!(text.contains("  got solicitations: none\n  got issues: healthcare\n"), "{text}");
    assert!(text.contains("expected `fundraising_email` (line 6), but:"), "{text}");
    assert!(text.contains("suppressed by quiet: `party == \"rep\"` is true; party = \"rep\""), "{text}");
    assert!(text.contains("would be assigned by ask: `total < cap` is true"), "{text}");
    assert!(text.ends_with("narval: 0 passed, 1 failed\n"), "{text}");
}

#[test]
fn test_json_report_carries_cases_and_coverage() {
    let out = narval(&["test", "--format", "json", "failing.narval"], "");
    assert_eq!(code(&out), 5);
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let case = &report["cases"][0];
    assert_eq!(case["name"], "seniors hear about healthcare");
    assert_eq!(case["status"], "failed");
    assert_eq!(case["line"], 4);
    assert_eq!(case["issues"], json!(["healthcare"]));
    assert_eq!(case["failures"][0]["expected"], "fundraising_email");
    assert_eq!(case["failures"][0]["streams"][0]["suppressed_by"], json!(["quiet"]));
    assert_eq!(report["coverage"]["rules_total"], 6);
}

#[test]
fn test_coverage_threshold_exits_6_when_unmet() {
    let out = narval(&["test", "suite.narval", "--coverage"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("coverage: rules 4/6 (66.7%)"), "{text}");
    assert!(text.contains("campaign.narval:23: rule `seniors` never fired"), "{text}");
    assert!(text.contains("campaign.narval:24: rule `quiet` never fired"), "{text}");

    let out = narval(&["test", "suite.narval", "--threshold", "100"], "");
    assert_eq!(code(&out), 6);
    assert_eq!(stderr(&out), "narval: rule coverage 66.7% is below the threshold of 100%\n");
    let out = narval(&["test", "suite.narval", "--threshold", "60"], "");
    assert_eq!(code(&out), 0);
}

#[test]
fn test_rule_errors_exit_1_and_usage_errors_exit_2() {
    let out = narval(&["test", "unknown_field.narval"], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("error[E0101]"));
    // A rule set without cases is a mistake in a CI configuration.
    let out = narval(&["test", "campaign.narval"], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("no test cases"), "{}", stderr(&out));
    let out = narval(&["test", "suite.narval", "--threshold", "lots"], "");
    assert_eq!(code(&out), 2);
}

// ---- explain ----------------------------------------------------------------

#[test]
fn explain_a_line_chosen_by_id() {
    let out = narval(&["explain", "campaign.narval", "--profile", "profiles.ndjson", "--id", "2"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("profile 2 (profiles.ndjson line 2): 0 of 5 streams assigned\nsolicitations:\n"),
        "{text}"
    );
    assert!(
        text.contains("  - door_knock: not assigned\n      suppressed by already_volunteer: `volunteer` is true\n"),
        "{text}"
    );
    assert!(text.contains("suppressed by over_cap: `total >= cap` is true; total = $2500, cap = $2500"), "{text}");
    assert!(
        text.contains(
            "would be assigned by persuadable: `scores.support between 40 and 60` is true; scores.support = 45.0"
        ),
        "{text}"
    );
}

#[test]
fn explain_names_missing_data() {
    let profile =
        r#"{"id": 9, "volunteer": false, "party": "dem", "scores": {"support": 80, "turnout": 60}, "donations": []}"#;
    let out = narval(&["explain", "campaign.narval", "--profile", "-"], profile);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).contains("not assigned by seniors: `has age` is false; age is missing"), "{}", stdout(&out));
}

#[test]
fn explain_json_has_every_stream_and_rule() {
    let out =
        narval(&["explain", "campaign.narval", "--profile", "profiles.ndjson", "--id", "1", "--format", "json"], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(document["id"], 1);
    assert_eq!(document["line"], 1);
    assert_eq!(document["streams"].as_array().unwrap().len(), 5);
    assert_eq!(document["rules"].as_array().unwrap().len(), 6);
    let seniors = document["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "seniors").unwrap();
    assert_eq!(seniors["outcome"], "true");
    assert_eq!(seniors["because"]["reads"][0], json!({"name": "age", "value": "70", "field": true}));
}

#[test]
fn explain_under_a_policy_withholds_what_the_consent_does_not_cover() {
    let profile = r#"{"id": 4, "age": 40, "consent": {"health": false}, "health": {"score": 42, "carer": true}}"#;
    // guarded.narval names `../policies/consent.narval`, outside its folder.
    let out = narval(&["explain", "guarded.narval", "--profile", "-", "--import-root", ".."], profile);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(
            "      named by high_risk: `risk > 50` is <withheld: consent.health is not true>; \
             risk = <withheld: consent.health is not true>\n"
        ),
        "{text}"
    );
    assert!(!text.contains("84") && !text.contains("42"), "{text}");
    let out =
        narval(&["explain", "guarded.narval", "--profile", "-", "--format", "json", "--import-root", ".."], profile);
    let document: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let high_risk = document["rules"].as_array().unwrap().iter().find(|r| r["rule"] == "high_risk").unwrap();
    assert_eq!(high_risk["outcome"], Value::Null);
    assert_eq!(high_risk["because"]["withheld"], "consent.health is not true");
    assert_eq!(
        high_risk["because"]["reads"][0],
        json!({"name": "risk", "value": null, "field": false, "withheld": "consent.health is not true"})
    );
    assert_eq!(document["streams"][0]["withheld"], json!(["high_risk"]));
}

#[test]
fn explain_refuses_what_it_cannot_choose() {
    let out = narval(&["explain", "campaign.narval", "--profile", "profiles.ndjson"], "");
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("holds several profiles; choose one with --id"), "{}", stderr(&out));
    let out = narval(&["explain", "campaign.narval", "--profile", "profiles.ndjson", "--id", "404"], "");
    assert_eq!(code(&out), 2);
    assert_eq!(stderr(&out), "narval: no profile in `profiles.ndjson` has `id` 404\n");
    let out = narval(&["explain", "campaign.narval", "--profile", "-"], r#"{"id": 3, "volunteer": "yes"}"#);
    assert_eq!(code(&out), 3);
    assert!(stderr(&out).contains("field `volunteer`") && !stderr(&out).contains("yes"), "{}", stderr(&out));
}

// ---- threads ------------------------------------------------------------------

#[test]
fn every_thread_count_gives_the_same_output_in_input_order() {
    // More lines than one batch holds, with rejected lines all along.
    let dirty = std::fs::read_to_string(Path::new(FIXTURES).join("dirty.ndjson")).unwrap();
    let mut input = String::new();
    for i in 0..5_000 {
        for line in dirty.lines() {
            input.push_str(&line.replace("\"id\":", &format!("\"n\":{i},\"id\":")));
            input.push('\n');
        }
    }
    let runs: Vec<Output> = ["1", "2", "3", "8"]
        .iter()
        .map(|n| narval(&["assign", "campaign.narval", "--profiles", "-", "--threads", n], &input))
        .collect();
    for run in &runs {
        assert_eq!(code(run), 3);
        assert_eq!(stdout(run), stdout(&runs[0]));
        assert_eq!(stderr(run), stderr(&runs[0]));
    }
    let out = lines(&stdout(&runs[0]));
    assert_eq!(out.len(), 15_000);
    assert_eq!(out[3]["id"], 1);
    let err = stderr(&runs[0]);
    assert!(
        err.ends_with("narval: 40000 profiles read, 15000 assigned, 25000 rejected\n"),
        "{}",
        &err[err.len() - 200..]
    );
    assert!(err.contains("narval: line 39999: a profile must be a JSON object, found an array\n"));
    // Where --max-errors stops is the same on one thread (read, assign and
    // write in turn) as on several (a pipeline): a batch at a time.
    let stopped: Vec<Output> = ["1", "2", "3"]
        .iter()
        .map(|n| {
            narval(&["assign", "campaign.narval", "--profiles", "-", "--threads", n, "--max-errors", "12000"], &input)
        })
        .collect();
    for run in &stopped {
        assert_eq!(code(run), 8, "{}", stderr(run));
        assert_eq!(stdout(run), stdout(&stopped[0]));
        assert_eq!(stderr(run), stderr(&stopped[0]));
    }
    assert!(lines(&stdout(&stopped[0])).len() < 15_000);
    // The interpreter gives the very same output as native code.
    let interpreted =
        narval(&["assign", "campaign.narval", "--profiles", "-", "--threads", "2", "--interpreted"], &input);
    assert_eq!(stdout(&interpreted), stdout(&runs[0]));
    assert_eq!(stderr(&interpreted), stderr(&runs[0]));
    let out = narval(&["assign", "campaign.narval", "--profiles", "-", "--threads", "0"], "");
    assert_eq!(code(&out), 2);
}

// ---- fmt --------------------------------------------------------------------

const MESSY: &str = "narval 1\nknock:not volunteer->door_knock   # everyone else\n";
const TIDY: &str = "narval 1\nknock: not volunteer -> door_knock  # everyone else\n";

#[cfg(unix)]
fn inode(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(path).unwrap())
}

#[cfg(unix)]
#[test]
fn fmt_rewrites_files_in_place_and_leaves_formatted_ones_untouched() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new("fmt_in_place");
    let messy = scratch.write("messy.narval", MESSY);
    let tidy = scratch.write("tidy.narval", TIDY);
    std::fs::set_permissions(&messy, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (messy_inode, tidy_inode) = (inode(&messy), inode(&tidy));
    let out = narval(&["fmt", text(&messy), text(&tidy)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stderr(&out), "narval: 1 file reformatted, 1 already formatted\n");
    assert_eq!(stdout(&out), "");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), TIDY);
    // Replaced by a rename (a new file), with the old permissions; the
    // formatted file was not written at all.
    assert_ne!(inode(&messy), messy_inode);
    assert_eq!(std::fs::metadata(&messy).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(inode(&tidy), tidy_inode);
    let left: Vec<_> = std::fs::read_dir(&scratch.0).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 2, "temporary files left: {left:?}");
}

#[test]
fn fmt_check_lists_the_changes_and_writes_nothing() {
    let scratch = Scratch::new("fmt_check");
    let messy = scratch.write("messy.narval", MESSY);
    let tidy = scratch.write("tidy.narval", TIDY);
    let out = narval(&["fmt", "--check", text(&messy), text(&tidy)], "");
    assert_eq!(code(&out), 7);
    let expected = format!(
        "--- {}:2\n-knock:not volunteer->door_knock   # everyone else\n\
         +knock: not volunteer -> door_knock  # everyone else\n",
        messy.display()
    );
    assert_eq!(stdout(&out), expected);
    assert_eq!(stderr(&out), "narval: 1 file is not formatted\n");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY);

    let clean = narval(&["fmt", "--check", text(&tidy)], "");
    assert_eq!(code(&clean), 0);
    assert_eq!(stdout(&clean), "");
    assert_eq!(stderr(&clean), "narval: ok, 1 file formatted\n");
}

#[test]
fn fmt_stdout_prints_and_writes_no_file() {
    let scratch = Scratch::new("fmt_stdout");
    let messy = scratch.write("messy.narval", MESSY);
    let out = narval(&["fmt", "--stdout", text(&messy)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), TIDY);
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY);
}

#[test]
fn fmt_dash_formats_standard_input() {
    let out = narval(&["fmt", "-"], MESSY);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(stdout(&out), TIDY);
    assert_eq!(stderr(&out), "");

    let check = narval(&["fmt", "--check", "-"], MESSY);
    assert_eq!(code(&check), 7);
    assert!(stdout(&check).starts_with("--- <stdin>:2\n"), "{}", stdout(&check));
}

#[test]
fn fmt_refuses_a_file_that_does_not_parse() {
    let scratch = Scratch::new("fmt_syntax");
    let broken = scratch.write("broken.narval", "narval 1\nr: age >= -> flyer\n");
    let out = narval(&["fmt", text(&broken)], "");
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(err.starts_with("error[E0001]: "), "{err}");
    assert!(err.contains(&format!("--> {}:2:", broken.display())), "{err}");
    assert!(err.contains("\nnarval: 1 error, 0 warnings\n"), "{err}");
    assert_eq!(std::fs::read_to_string(&broken).unwrap(), "narval 1\nr: age >= -> flyer\n");
}

#[test]
fn fmt_statuses_for_unreadable_files_and_usage() {
    let missing = narval(&["fmt", "no_such_file.narval"], "");
    assert_eq!(code(&missing), 2);
    assert_eq!(stderr(&missing), "narval: cannot read `no_such_file.narval`: no such file\n");
    // An unreadable file outranks an unformatted one.
    let both = narval(&["fmt", "--check", "-", "no_such_file.narval"], MESSY);
    assert_eq!(code(&both), 2);
    let conflicting = narval(&["fmt", "--check", "--stdout", "campaign.narval"], "");
    assert_eq!(code(&conflicting), 2);
    let help = stdout(&narval(&["fmt", "--help"], ""));
    assert!(help.contains("7  files are not formatted (fmt --check)"), "{help}");
}

#[cfg(target_os = "linux")]
#[test]
fn fmt_to_a_full_device_is_an_output_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(MESSY.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 4);
    assert!(stderr(&out).starts_with("narval: cannot write output: "), "{}", stderr(&out));
}

// ---- bad input and files that appear whole -------------------------------------

#[test]
fn errors_file_holds_each_rejected_line_with_its_reason() {
    let scratch = Scratch::new("errors_file");
    let errors = scratch.path("rejected.ndjson");
    let out = narval(&["assign", "campaign.narval", "--profiles", "dirty.ndjson", "--errors", text(&errors)], "");
    assert_eq!(code(&out), 3);
    let rejected = lines(&std::fs::read_to_string(&errors).unwrap());
    let numbers: Vec<Value> = rejected.iter().map(|r| r["line"].clone()).collect();
    assert_eq!(numbers, [json!(2), json!(3), json!(4), json!(6), json!(7)]);
    assert_eq!(rejected[0]["text"], "{\"id\":2,\"volunteer\":");
    assert!(rejected[1]["reason"].as_str().unwrap().contains("`volunteer`"));
    assert_eq!(rejected[4]["text"], "[1,2]");
    // The texts, fixed, can be run again: here line 7 as it was.
    let retry: String = rejected.iter().map(|r| format!("{}\n", r["text"].as_str().unwrap())).collect();
    let again = narval(&["assign", "campaign.narval", "--profiles", "-"], &retry);
    assert!(stderr(&again).ends_with("narval: 5 profiles read, 0 assigned, 5 rejected\n"), "{}", stderr(&again));
}

#[test]
fn max_errors_stops_the_run_and_writes_no_output_file() {
    let scratch = Scratch::new("max_errors");
    let target = scratch.write("assigned.ndjson", "an earlier run\n");
    let out = narval(
        &["assign", "campaign.narval", "--profiles", "dirty.ndjson", "--out", text(&target), "--max-errors", "2"],
        "",
    );
    assert_eq!(code(&out), 8, "{}", stderr(&out));
    assert!(stderr(&out).contains("more than --max-errors 2; nothing was written to --out"), "{}", stderr(&out));
    // The earlier output is untouched, and no temporary file is left behind.
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "an earlier run\n");
    let names: Vec<String> =
        std::fs::read_dir(&scratch.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["assigned.ndjson"]);
    // Under the limit, the run completes.
    let out = narval(
        &["assign", "campaign.narval", "--profiles", "dirty.ndjson", "--out", text(&target), "--max-errors", "5"],
        "",
    );
    assert_eq!(code(&out), 3);
    assert_eq!(lines(&std::fs::read_to_string(&target).unwrap()).len(), 3);
}

#[test]
fn a_byte_order_mark_at_the_start_is_not_data() {
    let profile =
        "{\"id\":1,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}";
    let input = format!("\u{feff}{profile}\n\u{feff}{profile}\n");
    let out = narval(&["assign", "campaign.narval", "--profiles", "-"], &input);
    assert_eq!(code(&out), 3);
    assert_eq!(lines(&stdout(&out)).len(), 1);
    assert!(stderr(&out).starts_with("narval: line 2: not valid JSON"), "{}", stderr(&out));
}

#[test]
fn invalid_utf8_is_a_rejected_line_not_a_stop() {
    let scratch = Scratch::new("utf8");
    let profile =
        "{\"id\":1,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}";
    let mut bytes = format!("{profile}\n").into_bytes();
    bytes.extend_from_slice(b"{\"id\":2,\"name\":\"\xff\xfe\"}\n");
    bytes.extend_from_slice(format!("{profile}\n").as_bytes());
    let input = scratch.path("latin1.ndjson");
    std::fs::write(&input, bytes).unwrap();
    let out = narval(&["assign", "campaign.narval", "--profiles", text(&input)], "");
    assert_eq!(code(&out), 3);
    assert_eq!(lines(&stdout(&out)).len(), 2);
    assert!(
        stderr(&out).starts_with("narval: line 2: not UTF-8 text (invalid byte at column 17)\n"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn out_and_errors_may_not_overwrite_the_input_or_each_other() {
    let out = narval(&["assign", "campaign.narval", "--profiles", "dirty.ndjson", "--errors", "dirty.ndjson"], "");
    assert_eq!(code(&out), 2);
    let out = narval(
        &["assign", "campaign.narval", "--profiles", "dirty.ndjson", "--errors", "/tmp/x.nd", "--out", "/tmp/x.nd"],
        "",
    );
    assert_eq!(code(&out), 2);
    assert_eq!(stderr(&out), "narval: --out and --errors name the same file\n");
}

#[cfg(unix)]
#[test]
fn out_through_a_symbolic_link_replaces_the_file_and_keeps_the_link() {
    let scratch = Scratch::new("out_link");
    let real = scratch.write("real.ndjson", "old\n");
    let link = scratch.path("link.ndjson");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = narval(&["assign", "campaign.narval", "--profiles", "profiles.ndjson", "--out", text(&link)], "");
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(lines(&std::fs::read_to_string(&real).unwrap()).len(), 3);
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_file_is_refused_not_read_forever() {
    let out = narval(&["check", "/dev/zero"], "");
    assert_eq!(code(&out), 1);
    assert!(stderr(&out).contains("cannot read `/dev/zero`: larger than the limit of"), "{}", stderr(&out));
    let out = narval(&["fmt", "/dev/zero"], "");
    assert_ne!(code(&out), 0);
    assert!(stderr(&out).contains("larger than the limit of 16 MiB"), "{}", stderr(&out));
    assert!(!std::fs::metadata("/dev/zero").unwrap().is_file());
}

#[test]
fn an_overlong_line_or_deep_nesting_is_one_rejected_line() {
    let profile =
        "{\"id\":1,\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}";
    let long = format!("{{\"id\":2,\"pad\":\"{}\"}}", "x".repeat(5 * 1024 * 1024));
    let deep = format!("{{\"id\":3,\"pad\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_read = format!("{{\"id\":4,\"scores\":{}}}", "{\"a\":".repeat(10_000) + "1" + &"}".repeat(10_000));
    let input = format!("{profile}\n{long}\n{deep}\n{deep_read}\n{profile}\n");
    let out = narval(&["assign", "campaign.narval", "--profiles", "-"], &input);
    assert_eq!(code(&out), 3);
    assert_eq!(lines(&stdout(&out)).len(), 2);
    let err = stderr(&out);
    assert!(err.contains("narval: line 2: line longer than the limit of 4 MiB\n"), "{err}");
    // Nesting under keys no rule reads is skipped without recursion; the
    // decoder itself goes no deeper than the schema.
    assert!(err.contains("narval: line 3: field `volunteer` is missing or null"), "{err}");
    assert!(err.contains("narval: line 4: field `scores.support` is missing or null"), "{err}");
    assert!(err.ends_with("narval: 5 profiles read, 2 assigned, 3 rejected\n"), "{err}");
}

#[test]
fn unique_ids_rejects_a_repeated_id_in_input_order() {
    let body = "\"volunteer\":true,\"party\":\"dem\",\"scores\":{\"support\":0,\"turnout\":0},\"donations\":[]}";
    let input: String = ["1", "2", "1", "\"1\"", "3", "2"].iter().map(|id| format!("{{\"id\":{id},{body}\n")).collect();
    let runs: Vec<Output> = ["1", "3"]
        .iter()
        .map(|n| narval(&["assign", "campaign.narval", "--profiles", "-", "--unique-ids", "--threads", n], &input))
        .collect();
    for run in &runs {
        assert_eq!(code(run), 3);
        assert_eq!(stdout(run), stdout(&runs[0]));
        assert_eq!(stderr(run), stderr(&runs[0]));
    }
    let ids: Vec<Value> = lines(&stdout(&runs[0])).iter().map(|l| l["id"].clone()).collect();
    assert_eq!(ids, [json!(1), json!(2), json!("1"), json!(3)]);
    assert_eq!(
        stderr(&runs[0]),
        "narval: line 3: the same id as line 1\nnarval: line 6: the same id as line 2\n\
         narval: 6 profiles read, 4 assigned, 2 rejected\n"
    );
    // Without the flag, repeated ids are assigned like any other line.
    let out = narval(&["assign", "campaign.narval", "--profiles", "-"], &input);
    assert_eq!(code(&out), 0);
}

#[test]
fn nan_infinity_and_huge_numbers_are_rejected_lines() {
    let body = "\"volunteer\":true,\"party\":\"dem\",\"donations\":[]";
    let input = [
        format!("{{\"id\":1,{body},\"scores\":{{\"support\":NaN,\"turnout\":0}}}}"),
        format!("{{\"id\":2,{body},\"scores\":{{\"support\":Infinity,\"turnout\":0}}}}"),
        format!("{{\"id\":3,{body},\"scores\":{{\"support\":1e999,\"turnout\":0}}}}"),
        format!("{{\"id\":4,{body},\"age\":99999999999999999999,\"scores\":{{\"support\":1,\"turnout\":0}}}}"),
        format!("{{\"id\":5,{body},\"scores\":{{\"support\":1,\"turnout\":0}}}}"),
    ]
    .join("\n");
    let out = narval(&["assign", "campaign.narval", "--profiles", "-"], &input);
    assert_eq!(code(&out), 3);
    assert_eq!(lines(&stdout(&out)).len(), 1);
    let err = stderr(&out);
    assert!(err.contains("narval: line 1: not valid JSON"), "{err}");
    assert!(err.contains("narval: line 2: not valid JSON"), "{err}");
    assert!(err.contains("narval: line 3: "), "{err}");
    assert!(err.contains("narval: line 4: field `age` is not a whole number within the range of `int`"), "{err}");
    assert!(!err.contains("99999999999999999999"), "no values in messages: {err}");
    assert!(err.ends_with("narval: 5 profiles read, 1 assigned, 4 rejected\n"), "{err}");
}

// ---- a closed output pipe ---------------------------------------------------

/// Runs `narval ARGS` in `dir` with stdout into a pipe whose reader takes the
/// first line and closes it, as `| head -1` does; returns that line, the exit
/// status and stderr. The outputs are larger than a pipe holds, so narval is
/// still writing when the pipe closes.
fn into_head(dir: &Path, args: &[&str]) -> (String, i32, String) {
    use std::io::{BufRead as _, Read as _};
    let mut child = Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
    reader.read_line(&mut first).unwrap();
    drop(reader);
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    (first, status.code().expect("narval exits by itself, not by SIGPIPE"), stderr)
}

#[test]
fn a_reader_that_closes_the_pipe_stops_narval_quietly() {
    const N: usize = 4000;
    let dir = Scratch::new("closed-pipe");
    // Many streams and rules, for `explain` and `audit` to write at length.
    let mut rules = String::from("narval 1\nschema { id: int, age: int }\nsolicitation streams ");
    rules.push_str(&(0..N).map(|i| format!("s{i}")).collect::<Vec<_>>().join(", "));
    rules.push('\n');
    rules.extend((0..N).map(|i| format!("r{i}: age > {i} -> s{i}\n")));
    dir.write("big.narval", &rules);
    // Unused definitions: a warning each, for `check --format json` to write.
    let unused: String = (0..N).map(|i| format!("unused_{i} = {i}\n")).collect();
    dir.write("warned.narval", &format!("{rules}{unused}"));
    // Many test cases and profiles on one rule.
    let small = "narval 1\nschema { id: int, age: int }\nsolicitation streams s\nr: age > 3 -> s\n";
    let cases: String = (0..N).map(|i| format!("test \"t{i}\" {{ given {{ id: 1, age: 4 }} expect s }}\n")).collect();
    dir.write("cases.narval", &format!("{small}{cases}"));
    dir.write("failing.narval", &format!("{small}{}", cases.replace("age: 4", "age: 0")));
    let profiles: String = (0..100_000).map(|i| format!("{{\"id\": {i}, \"age\": {}}}\n", i % 7)).collect();
    dir.write("profiles.ndjson", &profiles);
    dir.write("bad.ndjson", &format!("not json\n{profiles}"));
    dir.write("one.json", "{\"id\": 1, \"age\": 2}");
    let runs: [(&[&str], &str, i32); 6] = [
        (&["test", "cases.narval"], "test \"t0\"", 0),
        (&["explain", "big.narval", "--profile", "one.json"], "profile 1 (one.json): 2 of 4000 streams assigned", 0),
        (&["audit", "big.narval"], "solicitation stream `s0` (priority 1)", 0),
        (&["audit", "big.narval", "--format", "json"], "{\"streams\":", 0),
        (&["check", "warned.narval", "--format", "json"], "{\"diagnostics\":", 0),
        (&["assign", "cases.narval", "--profiles", "profiles.ndjson"], "{\"id\":0,", 0),
    ];
    for (args, start, status) in runs {
        let (first, code, stderr) = into_head(&dir.0, args);
        assert!(first.starts_with(start), "{args:?}: {first}");
        assert_eq!((code, stderr.as_str()), (status, ""), "{args:?}");
    }
    // The status is the run's own: failing test cases still fail, and
    // profiles rejected before the pipe closed are counted.
    let (_, code, stderr) = into_head(&dir.0, &["test", "failing.narval"]);
    assert_eq!((code, stderr.as_str()), (5, ""));
    let (_, code, stderr) = into_head(&dir.0, &["assign", "cases.narval", "--profiles", "bad.ndjson"]);
    assert_eq!((code, stderr.as_str()), (3, "narval: line 1: not valid JSON: syntax error at column 2\n"));
}

// ---- temporary files of killed runs -----------------------------------------

/// The files of a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[cfg(target_os = "linux")]
#[test]
fn a_killed_assign_leaves_a_temporary_file_the_next_run_removes() {
    let dir = Scratch::new("stale-temp");
    let out = dir.path("out.ndjson");
    let out_arg = out.to_str().unwrap();
    let rules = Path::new(FIXTURES).join("campaign.narval");
    let rules = rules.to_str().unwrap();
    // A run that waits for profiles on stdin, killed with SIGKILL.
    let mut child = Command::new(env!("CARGO_BIN_EXE_narval"))
        .args(["assign", rules, "--profiles", "-", "--out", out_arg])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string();
    let killed = child.id();
    let temp = format!(".out.ndjson.narval-{host}-{killed}.tmp");
    for _ in 0..500 {
        if dir.path(&temp).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(listing(&dir.0), std::slice::from_ref(&temp), "the temporary file is named as documented");
    // Beside it, files the next run must leave alone: a run still going
    // (this test's own process), another target, another host, a symbolic
    // link and a directory with the name of a stale temporary file.
    let alive = format!(".out.ndjson.narval-{host}-{}.tmp", std::process::id());
    let mut keep = vec![
        alive,
        format!(".other.ndjson.narval-{host}-{killed}.tmp"),
        format!(".out.ndjson.narval-{host}x-{killed}.tmp"),
        format!(".out.ndjson.narval-{host}-+{killed}.tmp"),
        format!(".out.ndjson.narval-{host}-{killed}.tmp.bak"),
    ];
    for name in &keep {
        dir.write(name, "keep");
    }
    let linked = dir.write("precious", "keep");
    // Process ids stay below 2^22 on Linux: these never run.
    let link = format!(".out.ndjson.narval-{host}-4294967.tmp");
    std::os::unix::fs::symlink(&linked, dir.path(&link)).unwrap();
    let folder = format!(".out.ndjson.narval-{host}-4294968.tmp");
    std::fs::create_dir(dir.path(&folder)).unwrap();
    keep.extend([link, folder, "out.ndjson".into(), "precious".into()]);
    keep.sort();
    let again = narval(&["assign", rules, "--profiles", "profiles.ndjson", "--out", out_arg], "");
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    let said = format!(
        "narval: removed `{}`, left by an earlier run (process {killed}) that ended before finishing\n",
        dir.path(&temp).canonicalize().unwrap_or_else(|_| dir.path(&temp)).display()
    );
    assert!(stderr(&again).starts_with(&said), "{}", stderr(&again));
    assert_eq!(listing(&dir.0), keep);
    assert_eq!(std::fs::read_to_string(&linked).unwrap(), "keep");
    assert_eq!(lines(&std::fs::read_to_string(&out).unwrap()).len(), 3);
}

/// Money messages as a user sees them: an amount in floating-point noise is
/// its cent, `"$50"` hears what money is, a cents field wants whole cents.
/// Expected output sits beside the fixture in `money.stdout` and `money.stderr`.
#[test]
fn money_profiles_are_read_or_told_what_money_is() {
    let out = narval(&["assign", "money.narval", "--profiles", "money.ndjson"], "");
    let expected = |name: &str| std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap();
    assert_eq!(code(&out), 3, "{}", stderr(&out));
    assert_eq!(stdout(&out), expected("money.stdout"));
    assert_eq!(stderr(&out), expected("money.stderr"));
}
