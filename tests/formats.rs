//! Fixture tests of the report formats. Every input in `tests/formats/` sits
//! beside what each format makes of it:
//!
//! - `NAME.narval` is checked alone; `NAME.files` lists, one a line, the
//!   files (relative to `tests/formats/`) checked together, so a case can
//!   name a file that does not exist.
//! - `NAME.human` is [`narval::Report::render`], `NAME.json` and
//!   `NAME.sarif` are [`narval::text::render::json`] and [`narval::text::render::sarif`]
//!   pretty-printed (the CLI writes the same documents compactly), and
//!   `NAME.github` is [`narval::text::render::github`].
//!
//! `NARVAL_BLESS=1 cargo test --test formats` rewrites the expected files
//! after a deliberate change; review the diff.
//!
//! Every SARIF log, of these fixtures and of every fixture in
//! `tests/diagnostics/`, also goes through [`validate_sarif`]: the
//! constraints of the SARIF 2.1.0 JSON schema on the objects narval writes,
//! and the consistency rules the schema cannot say (a `ruleIndex` points at
//! the rule its `ruleId` names).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::path::Path;

use narval::text::diagnostic::Code;
use narval::text::render;
use serde_json::{json, Value};

const DIR: &str = "tests/formats";

/// How a format renders a report.
type Format = fn(&narval::Report) -> String;

/// The formats, each with its file extension.
const FORMATS: &[(&str, Format)] = &[
    ("human", |report| report.render()),
    ("json", |report| pretty(&render::json(report))),
    ("sarif", |report| pretty(&render::sarif(report))),
    ("github", render::github),
];

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

mod fixtures;

use fixtures::{cases, report as check};

#[test]
fn every_format_matches_the_fixtures() {
    let bless = std::env::var_os("NARVAL_BLESS").is_some();
    let cases = cases(DIR);
    assert!(cases.len() >= 4, "the fixtures are missing from {DIR}");
    let mut failures = Vec::new();
    for case in cases {
        let report = check(&case.files);
        for (extension, format) in FORMATS {
            let actual = format(&report);
            let expected_path = Path::new(DIR).join(format!("{}.{extension}", case.name));
            if bless {
                std::fs::write(&expected_path, &actual).unwrap();
                continue;
            }
            let Ok(expected) = std::fs::read_to_string(&expected_path) else {
                failures.push(format!("--- {} is missing; bless it", expected_path.display()));
                continue;
            };
            if actual != expected {
                failures.push(format!("--- {}\n{expected}\n+++ actual\n{actual}", expected_path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture(s) differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_fixtures_cover_what_they_are_for() {
    let codes = |name: &str| -> Vec<&'static str> {
        let case = cases(DIR).into_iter().find(|c| c.name == name).unwrap();
        check(&case.files).diagnostics().iter().map(|d| d.code.as_str()).collect()
    };
    assert_eq!(codes("clean"), Vec::<&str>::new());
    assert_eq!(codes("syntax"), ["E0001"]);
    assert_eq!(codes("unreadable"), ["E0003"]);
    let several = codes("several");
    assert!(several.len() >= 4 && several.contains(&"W0001"), "{several:?}");
    let unreadable = check(&cases(DIR).into_iter().find(|c| c.name == "unreadable").unwrap().files);
    // GitHub's upload refuses a SARIF result without a location: a file that
    // cannot be read is pointed at, at its start.
    let located = unreadable.diagnostics()[0].located(unreadable.sources());
    let place = located.location.expect("the unreadable case has a location");
    assert_eq!((place.file.as_str(), place.line, place.column), ("tests/formats/nowhere.narval", 1, 1));
}

// ---- SARIF ------------------------------------------------------------------

#[test]
fn the_sarif_of_every_fixture_is_valid() {
    let mut seen = BTreeSet::new();
    for dir in [DIR, "tests/diagnostics"] {
        for case in cases(dir) {
            let log = render::sarif(&check(&case.files));
            if let Err(problems) = validate_sarif(&log) {
                panic!("{dir}/{}: the SARIF log is not valid:\n{}\n{}", case.name, problems.join("\n"), pretty(&log));
            }
            for result in log["runs"][0]["results"].as_array().unwrap() {
                seen.insert(result["ruleId"].as_str().unwrap().to_string());
            }
        }
    }
    // The SQL back end's refusals (E0501), for every dialect.
    let rules = narval::RuleSet::builder().file("tests/sql/refused.narval").build().map_err(|r| r.render()).unwrap();
    for dialect in narval::Dialect::ALL {
        let log = render::sarif(&rules.sql(dialect, "profiles", "id").unwrap_err());
        if let Err(problems) = validate_sarif(&log) {
            panic!(
                "sql refusals, {}: the SARIF log is not valid:\n{}\n{}",
                dialect.name(),
                problems.join("\n"),
                pretty(&log)
            );
        }
        for result in log["runs"][0]["results"].as_array().unwrap() {
            seen.insert(result["ruleId"].as_str().unwrap().to_string());
        }
    }
    let missing: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "codes never validated in a SARIF result: {missing:?}");
}

#[test]
fn sarif_lists_every_code_as_a_rule() {
    let log = render::sarif(&check(&[Path::new(DIR).join("clean.narval")]));
    let driver = &log["runs"][0]["tool"]["driver"];
    assert_eq!(driver["name"], "narval");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(driver.get("informationUri"), None);
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for (rule, code) in rules.iter().zip(Code::ALL) {
        let level = if code.as_str().starts_with('E') { "error" } else { "warning" };
        let expected = json!({
            "id": code.as_str(),
            "name": code.name(),
            "shortDescription": { "text": code.summary() },
            "defaultConfiguration": { "level": level },
        });
        assert_eq!(rule, &expected);
    }
}

/// SARIF counts columns in code points here, as `line_col` does, and says
/// so; the JSON document and the GitHub commands give the same columns.
#[test]
fn columns_are_code_points_in_every_format() {
    // `🇫🇷` is two code points, four UTF-16 code units and eight bytes.
    let text = "narval 1\nschema { state: string }\nsolicitation streams flyer\nr: state == \"🇫🇷\" or stat == \"x\" -> flyer\n";
    let report = narval::RuleSet::builder().source("flag.narval", text).check();
    let start = "r: state == \"🇫🇷\" or ".chars().count() + 1;
    assert_eq!(start, 21);
    let log = render::sarif(&report);
    assert_eq!(log["runs"][0]["columnKind"], "unicodeCodePoints");
    let region = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region, &json!({ "startLine": 4, "startColumn": start, "endLine": 4, "endColumn": start + 4 }));
    let located = &render::json(&report)["diagnostics"][0]["location"];
    assert_eq!((&located["column"], &located["end_column"]), (&json!(start), &json!(start + 4)));
    assert!(render::github(&report).contains(&format!(",line=4,col={start},endLine=4,endColumn={},", start + 4)));
}

/// Checks a SARIF log against the parts of the SARIF 2.1.0 schema
/// (`sarif-schema-2.1.0.json`, draft-07) that cover what narval writes:
/// required properties, types, enums, minimums, no properties the schema
/// does not define (it sets `additionalProperties: false` on every object
/// but property bags), and `uri-reference` strings. It adds what the schema
/// cannot say: a `ruleIndex` points at the rule named by `ruleId`, rule ids
/// are unique, a region does not end before it starts.
fn validate_sarif(log: &Value) -> Result<(), Vec<String>> {
    let mut v = Validator::default();
    v.log(log);
    if v.problems.is_empty() {
        Ok(())
    } else {
        Err(v.problems)
    }
}

#[derive(Default)]
struct Validator {
    problems: Vec<String>,
}

const LOG_KEYS: &[&str] = &["$schema", "version", "runs", "inlineExternalProperties", "properties"];
const RUN_KEYS: &[&str] = &[
    "tool",
    "invocations",
    "conversion",
    "language",
    "versionControlProvenance",
    "originalUriBaseIds",
    "artifacts",
    "logicalLocations",
    "graphs",
    "results",
    "automationDetails",
    "runAggregates",
    "baselineGuid",
    "redactionTokens",
    "defaultEncoding",
    "defaultSourceLanguage",
    "newlineSequences",
    "columnKind",
    "externalPropertyFileReferences",
    "threadFlowLocations",
    "taxonomies",
    "addresses",
    "translations",
    "policies",
    "webRequests",
    "webResponses",
    "specialLocations",
    "properties",
];
const TOOL_KEYS: &[&str] = &["driver", "extensions", "properties"];
const TOOL_COMPONENT_KEYS: &[&str] = &[
    "guid",
    "name",
    "organization",
    "product",
    "productSuite",
    "shortDescription",
    "fullDescription",
    "fullName",
    "version",
    "semanticVersion",
    "dottedQuadFileVersion",
    "releaseDateUtc",
    "downloadUri",
    "informationUri",
    "globalMessageStrings",
    "notifications",
    "rules",
    "taxa",
    "locations",
    "language",
    "contents",
    "isComprehensive",
    "localizedDataSemanticVersion",
    "minimumRequiredLocalizedDataSemanticVersion",
    "associatedComponent",
    "translationMetadata",
    "supportedTaxonomies",
    "properties",
];
const DESCRIPTOR_KEYS: &[&str] = &[
    "id",
    "deprecatedIds",
    "guid",
    "deprecatedGuids",
    "name",
    "deprecatedNames",
    "shortDescription",
    "fullDescription",
    "messageStrings",
    "defaultConfiguration",
    "helpUri",
    "help",
    "relationships",
    "properties",
];
const CONFIGURATION_KEYS: &[&str] = &["enabled", "level", "rank", "parameters", "properties"];
const MULTIFORMAT_KEYS: &[&str] = &["text", "markdown", "properties"];
const MESSAGE_KEYS: &[&str] = &["text", "markdown", "id", "arguments", "properties"];
const RESULT_KEYS: &[&str] = &[
    "ruleId",
    "ruleIndex",
    "rule",
    "kind",
    "level",
    "message",
    "analysisTarget",
    "locations",
    "guid",
    "correlationGuid",
    "occurrenceCount",
    "partialFingerprints",
    "fingerprints",
    "stacks",
    "codeFlows",
    "graphs",
    "graphTraversals",
    "relatedLocations",
    "suppressions",
    "baselineState",
    "rank",
    "attachments",
    "hostedViewerUri",
    "workItemUris",
    "provenance",
    "fixes",
    "taxa",
    "webRequest",
    "webResponse",
    "properties",
];
const LOCATION_KEYS: &[&str] =
    &["id", "physicalLocation", "logicalLocations", "message", "annotations", "relationships", "properties"];
const PHYSICAL_LOCATION_KEYS: &[&str] = &["address", "artifactLocation", "region", "contextRegion", "properties"];
const ARTIFACT_LOCATION_KEYS: &[&str] = &["uri", "uriBaseId", "index", "description", "properties"];
const REGION_KEYS: &[&str] = &[
    "startLine",
    "startColumn",
    "endLine",
    "endColumn",
    "charOffset",
    "charLength",
    "byteOffset",
    "byteLength",
    "snippet",
    "message",
    "sourceLanguage",
    "properties",
];
const LEVELS: &[&str] = &["none", "note", "warning", "error"];
const COLUMN_KINDS: &[&str] = &["utf16CodeUnits", "unicodeCodePoints"];

impl Validator {
    fn fail(&mut self, path: &str, problem: impl std::fmt::Display) {
        self.problems.push(format!("{path}: {problem}"));
    }

    /// An object with only the allowed keys and every required one.
    fn object<'v>(
        &mut self,
        path: &str,
        value: &'v Value,
        allowed: &[&str],
        required: &[&str],
    ) -> Option<&'v serde_json::Map<String, Value>> {
        let Some(object) = value.as_object() else {
            self.fail(path, format_args!("expected an object, found {value}"));
            return None;
        };
        for key in object.keys() {
            if !allowed.contains(&key.as_str()) {
                self.fail(path, format_args!("property `{key}` is not defined by the schema"));
            }
        }
        for key in required {
            if !object.contains_key(*key) {
                self.fail(path, format_args!("required property `{key}` is missing"));
            }
        }
        Some(object)
    }

    fn string<'v>(&mut self, path: &str, value: &'v Value) -> Option<&'v str> {
        let text = value.as_str();
        if text.is_none() {
            self.fail(path, format_args!("expected a string, found {value}"));
        }
        text
    }

    fn integer(&mut self, path: &str, value: &Value, minimum: i64) -> Option<i64> {
        match value.as_i64() {
            Some(n) if n >= minimum => Some(n),
            _ => {
                self.fail(path, format_args!("expected an integer >= {minimum}, found {value}"));
                None
            }
        }
    }

    fn one_of(&mut self, path: &str, value: &Value, allowed: &[&str]) {
        if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
            self.fail(path, format_args!("expected one of {allowed:?}, found {value}"));
        }
    }

    fn array<'v>(&mut self, path: &str, value: &'v Value) -> &'v [Value] {
        match value.as_array() {
            Some(items) => items,
            None => {
                self.fail(path, format_args!("expected an array, found {value}"));
                &[]
            }
        }
    }

    fn log(&mut self, log: &Value) {
        let Some(object) = self.object("$", log, LOG_KEYS, &["version", "runs"]) else { return };
        if let Some(schema) = object.get("$schema") {
            if !self.string("$.$schema", schema).is_some_and(|s| s.starts_with("https://")) {
                self.fail("$.$schema", "expected an absolute URI");
            }
        }
        if let Some(version) = object.get("version") {
            self.one_of("$.version", version, &["2.1.0"]);
        }
        if let Some(runs) = object.get("runs") {
            for (i, run) in self.array("$.runs", runs).iter().enumerate() {
                self.run(&format!("$.runs[{i}]"), run);
            }
        }
    }

    fn run(&mut self, path: &str, run: &Value) {
        let Some(object) = self.object(path, run, RUN_KEYS, &["tool"]) else { return };
        if let Some(kind) = object.get("columnKind") {
            self.one_of(&format!("{path}.columnKind"), kind, COLUMN_KINDS);
        }
        let mut rule_ids = Vec::new();
        if let Some(tool) = object.get("tool") {
            let tool_path = format!("{path}.tool");
            if let Some(driver) = self.object(&tool_path, tool, TOOL_KEYS, &["driver"]).and_then(|t| t.get("driver")) {
                rule_ids = self.driver(&format!("{tool_path}.driver"), driver);
            }
        }
        if let Some(results) = object.get("results") {
            let results_path = format!("{path}.results");
            for (i, result) in self.array(&results_path, results).iter().enumerate() {
                self.result(&format!("{results_path}[{i}]"), result, &rule_ids);
            }
        }
    }

    /// Checks the tool component and returns its rule ids, in order.
    fn driver(&mut self, path: &str, driver: &Value) -> Vec<String> {
        let Some(object) = self.object(path, driver, TOOL_COMPONENT_KEYS, &["name"]) else { return Vec::new() };
        for key in ["name", "version"] {
            if let Some(value) = object.get(key) {
                self.string(&format!("{path}.{key}"), value);
            }
        }
        if let Some(uri) = object.get("informationUri") {
            if !self.string(&format!("{path}.informationUri"), uri).is_some_and(|s| s.contains("://")) {
                self.fail(&format!("{path}.informationUri"), "expected an absolute URI");
            }
        }
        let mut ids = Vec::new();
        if let Some(rules) = object.get("rules") {
            let rules_path = format!("{path}.rules");
            for (i, rule) in self.array(&rules_path, rules).iter().enumerate() {
                let rule_path = format!("{rules_path}[{i}]");
                let id = self.descriptor(&rule_path, rule).unwrap_or_default();
                if ids.contains(&id) {
                    self.fail(&rule_path, format_args!("rule id `{id}` is not unique"));
                }
                ids.push(id);
            }
        }
        ids
    }

    /// Checks a reporting descriptor and returns its id.
    fn descriptor(&mut self, path: &str, rule: &Value) -> Option<String> {
        let object = self.object(path, rule, DESCRIPTOR_KEYS, &["id"])?;
        if let Some(name) = object.get("name") {
            self.string(&format!("{path}.name"), name);
        }
        for key in ["shortDescription", "fullDescription", "help"] {
            if let Some(text) = object.get(key) {
                let text_path = format!("{path}.{key}");
                if let Some(inner) = self.object(&text_path, text, MULTIFORMAT_KEYS, &["text"]) {
                    if let Some(text) = inner.get("text") {
                        self.string(&format!("{text_path}.text"), text);
                    }
                }
            }
        }
        if let Some(configuration) = object.get("defaultConfiguration") {
            let configuration_path = format!("{path}.defaultConfiguration");
            if let Some(level) =
                self.object(&configuration_path, configuration, CONFIGURATION_KEYS, &[]).and_then(|c| c.get("level"))
            {
                self.one_of(&format!("{configuration_path}.level"), level, LEVELS);
            }
        }
        object.get("id").and_then(|id| self.string(&format!("{path}.id"), id)).map(String::from)
    }

    fn result(&mut self, path: &str, result: &Value, rule_ids: &[String]) {
        let Some(object) = self.object(path, result, RESULT_KEYS, &["message"]) else { return };
        let rule_id = object.get("ruleId").and_then(|id| self.string(&format!("{path}.ruleId"), id));
        if let Some(index) = object.get("ruleIndex").and_then(|i| self.integer(&format!("{path}.ruleIndex"), i, -1)) {
            if index >= 0 {
                match usize::try_from(index).ok().and_then(|i| rule_ids.get(i)) {
                    None => self.fail(path, format_args!("ruleIndex {index} is past the {} rules", rule_ids.len())),
                    Some(id) if Some(id.as_str()) != rule_id => {
                        self.fail(path, format_args!("ruleIndex {index} is rule `{id}`, but ruleId is {rule_id:?}"));
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(level) = object.get("level") {
            self.one_of(&format!("{path}.level"), level, LEVELS);
        }
        if let Some(message) = object.get("message") {
            self.message(&format!("{path}.message"), message);
        }
        if let Some(locations) = object.get("locations") {
            let locations_path = format!("{path}.locations");
            for (i, location) in self.array(&locations_path, locations).iter().enumerate() {
                self.location(&format!("{locations_path}[{i}]"), location);
            }
        }
    }

    fn message(&mut self, path: &str, message: &Value) {
        let Some(object) = self.object(path, message, MESSAGE_KEYS, &[]) else { return };
        if !object.contains_key("text") && !object.contains_key("id") {
            self.fail(path, "a message needs `text` or `id`");
        }
        for key in ["text", "id"] {
            if let Some(value) = object.get(key) {
                self.string(&format!("{path}.{key}"), value);
            }
        }
    }

    fn location(&mut self, path: &str, location: &Value) {
        let Some(object) = self.object(path, location, LOCATION_KEYS, &[]) else { return };
        if let Some(message) = object.get("message") {
            self.message(&format!("{path}.message"), message);
        }
        let Some(physical) = object.get("physicalLocation") else { return };
        let physical_path = format!("{path}.physicalLocation");
        let Some(physical) = self.object(&physical_path, physical, PHYSICAL_LOCATION_KEYS, &[]) else { return };
        if !physical.contains_key("artifactLocation") && !physical.contains_key("address") {
            self.fail(&physical_path, "a physical location needs `artifactLocation` or `address`");
        }
        if let Some(artifact) = physical.get("artifactLocation") {
            let artifact_path = format!("{physical_path}.artifactLocation");
            if let Some(uri) =
                self.object(&artifact_path, artifact, ARTIFACT_LOCATION_KEYS, &[]).and_then(|a| a.get("uri"))
            {
                let uri_path = format!("{artifact_path}.uri");
                if let Some(uri) = self.string(&uri_path, uri) {
                    if let Err(problem) = uri_reference(uri) {
                        self.fail(&uri_path, format_args!("`{uri}` is not a URI reference: {problem}"));
                    }
                }
            }
        }
        if let Some(region) = physical.get("region") {
            self.region(&format!("{physical_path}.region"), region);
        }
    }

    fn region(&mut self, path: &str, region: &Value) {
        let Some(object) = self.object(path, region, REGION_KEYS, &[]) else { return };
        let mut number = |key: &str| object.get(key).and_then(|n| self.integer(&format!("{path}.{key}"), n, 1));
        let start_line = number("startLine");
        let start_column = number("startColumn");
        let end_line = number("endLine");
        let end_column = number("endColumn");
        if start_line.is_none() {
            self.fail(path, "a text region needs `startLine`");
        }
        match (start_line, end_line, start_column, end_column) {
            (Some(start), Some(end), _, _) if end < start => {
                self.fail(path, format_args!("endLine {end} is before startLine {start}"));
            }
            (Some(start), Some(end), Some(from), Some(to)) if start == end && to < from => {
                self.fail(path, format_args!("endColumn {to} is before startColumn {from}"));
            }
            _ => {}
        }
    }
}

/// Whether `text` is an RFC 3986 URI reference: only unreserved and reserved
/// characters and `%XX` escapes, and a scheme only where one is meant.
/// narval names files, so the only scheme it may write is `file`; a colon in
/// the first segment of a relative reference would read as a scheme.
fn uri_reference(text: &str) -> Result<(), String> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let fine = byte.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&byte);
        if byte == b'%' {
            let escape = bytes.get(i + 1..i + 3).unwrap_or_default();
            if escape.len() != 2 || !escape.iter().all(u8::is_ascii_hexdigit) {
                return Err(format!("`%` at byte {i} does not start an escape"));
            }
            i += 3;
            continue;
        }
        if !fine {
            return Err(format!("byte 0x{byte:02X} at {i} must be percent-encoded"));
        }
        i += 1;
    }
    let first_segment = text.split(['/', '?', '#']).next().unwrap_or_default();
    if let Some((scheme, _)) = first_segment.split_once(':') {
        if scheme != "file" {
            return Err(format!("`{scheme}:` reads as a URI scheme"));
        }
    }
    Ok(())
}

#[test]
fn the_validator_refuses_broken_logs() {
    let report = check(&[Path::new(DIR).join("several.narval")]);
    let good = render::sarif(&report);
    assert_eq!(validate_sarif(&good), Ok(()));
    let result = "/runs/0/results/1";
    let region = "/runs/0/results/1/locations/0/physicalLocation/region";
    let uri = "/runs/0/results/1/locations/0/physicalLocation/artifactLocation/uri";
    let breakages: &[(&str, Value)] = &[
        ("/version", json!("2.0.0")),
        ("/runs", json!({})),
        ("/runs/0/columnKind", json!("bytes")),
        ("/runs/0/tool/driver/name", json!(7)),
        ("/runs/0/tool/driver/rules/3/id", json!("E0001")),
        ("/runs/0/tool/driver/rules/0/defaultConfiguration/level", json!("fatal")),
        ("/runs/0/tool/driver/rules/0/shortDescription", json!({ "markdown": "no text" })),
        ("/runs/0/tool/driver/informationUri", json!("narval")),
        (result, json!({ "ruleId": "E0101" })),
        ("/runs/0/results/1/ruleIndex", json!(999)),
        ("/runs/0/results/1/ruleIndex", json!(0)),
        ("/runs/0/results/1/ruleIndex", json!(-2)),
        ("/runs/0/results/1/level", json!("fatal")),
        ("/runs/0/results/1/message", json!({ "markdown": "no text" })),
        ("/runs/0/results/1/severity", json!("error")),
        ("/runs/0/results/1/locations/0/physicalLocation", json!({ "region": { "startLine": 1 } })),
        (region, json!({ "startLine": 0, "startColumn": 1 })),
        (region, json!({ "startLine": 3, "startColumn": 0 })),
        (region, json!({ "startLine": 3, "endLine": 2 })),
        (region, json!({ "startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 4 })),
        (region, json!({ "startColumn": 5 })),
        (uri, json!("tests\\formats\\several.narval")),
        (uri, json!("my rules.narval")),
        (uri, json!("100%.narval")),
        (uri, json!("weird:name.narval")),
        (uri, json!("règles.narval")),
    ];
    for (pointer, replacement) in breakages {
        let mut broken = good.clone();
        match broken.pointer_mut(pointer) {
            Some(slot) => *slot = replacement.clone(),
            None => {
                // A property the log does not have yet: add it to its parent.
                let (parent, key) = pointer.rsplit_once('/').unwrap();
                broken.pointer_mut(parent).unwrap().as_object_mut().unwrap().insert(key.into(), replacement.clone());
            }
        }
        assert!(validate_sarif(&broken).is_err(), "{pointer} = {replacement} was accepted");
    }
    let mut no_version = good.clone();
    no_version.as_object_mut().unwrap().remove("version");
    assert!(validate_sarif(&no_version).is_err(), "a log without a version was accepted");
}

// ---- GitHub -----------------------------------------------------------------

#[test]
fn github_commands_escape_messages_and_properties() {
    let text = "narval 1\nschema { party: one of dem, rep }\nsolicitation streams flyer\n\
                r: party == \"50%, a:b\\nc\" -> flyer\n";
    let report = narval::RuleSet::builder().source("we,ird:name.narval", text).check();
    assert_eq!(report.diagnostics()[0].message, "`50%, a:b\nc` is not one of the values of this field");
    assert_eq!(
        render::github(&report),
        "::error file=we%2Cird%3Aname.narval,line=4,col=13,endLine=4,endColumn=26,title=E0109\
         ::`50%25, a:b%0Ac` is not one of the values of this field%0Ahelp: the values are `dem`, `rep`\n"
    );
    let log = render::sarif(&report);
    assert_eq!(validate_sarif(&log), Ok(()));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "we,ird%3Aname.narval");
    assert_eq!(
        result["message"]["text"],
        "`50%, a:b\nc` is not one of the values of this field\nhelp: the values are `dem`, `rep`"
    );
}

#[test]
fn a_file_that_cannot_be_read_has_a_location() {
    let report = narval::RuleSet::builder().file("tests/formats/nowhere.narval").check();
    assert_eq!(
        render::github(&report),
        "::error file=tests/formats/nowhere.narval,line=1,col=1,endLine=1,endColumn=1,title=E0003\
         ::cannot read `tests/formats/nowhere.narval`: no such file\n"
    );
    let log = render::sarif(&report);
    assert_eq!(validate_sarif(&log), Ok(()));
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "E0003");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "tests/formats/nowhere.narval");
    assert_eq!(location["region"]["startLine"], 1);
}
