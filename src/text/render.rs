//! A [`Report`] in the forms tools read: narval's own JSON document, a SARIF
//! 2.1.0 log for code-scanning services, and GitHub Actions workflow commands
//! that annotate a pull request. The form people read is [`Report::render`].
//!
//! Every form gives the same positions: one-based lines, and one-based
//! columns counted in Unicode code points (what
//! [`SourceFile::line_col`](crate::text::source::SourceFile::line_col) counts), the
//! end column one past the last character.
//!
//! ```
//! let report = narval::RuleSet::builder()
//!     .source("rules.narval", "narval 1\nschema { age: int }\nsolicitation streams flyer\nr: agee > 3 -> flyer\n")
//!     .check();
//! let log = narval::text::render::sarif(&report);
//! assert_eq!(log["runs"][0]["results"][0]["ruleId"], "E0101");
//! assert_eq!(
//!     narval::text::render::github(&report),
//!     "::error file=rules.narval,line=4,col=4,endLine=4,endColumn=8,title=E0101::unknown field `agee`%0Ahelp: did you mean `age`?\n"
//! );
//! ```

use serde_json::{json, Value};

use crate::text::diagnostic::{Code, Diagnostic, LocatedDiagnostic, Location, Severity};
use crate::text::report::Report;

/// Where the SARIF 2.1.0 JSON schema is published; SARIF logs name it.
pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The document `narval check --format json` writes:
/// `{"diagnostics": [..], "errors": N, "warnings": N}`, each diagnostic in the
/// form of [`LocatedDiagnostic`].
pub fn json(report: &Report) -> Value {
    // Serialising a `LocatedDiagnostic` cannot fail: it holds strings,
    // numbers and unit enum variants, no maps.
    json!({
        "diagnostics": report.located(),
        "errors": report.count(Severity::Error),
        "warnings": report.count(Severity::Warning),
    })
}

/// A SARIF 2.1.0 log of the report: one run whose tool lists every
/// [`Code`] as a rule, and one result per diagnostic.
///
/// File names become relative URI references (`rules/a.narval`), with `/`
/// separators and unsafe characters percent-encoded; absolute paths become
/// `file://` URIs. A diagnostic without a place (a file that cannot be read)
/// has no `locations`. The help line, when there is one, follows the message
/// after a newline, as `help: ...`.
pub fn sarif(report: &Report) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|code| sarif_rule(*code)).collect();
    let results: Vec<Value> = report.diagnostics().iter().map(|d| sarif_result(d, report)).collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "narval",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// One `reportingDescriptor`.
fn sarif_rule(code: Code) -> Value {
    json!({
        "id": code.as_str(),
        "name": code.name(),
        "shortDescription": { "text": code.summary() },
        "defaultConfiguration": { "level": level(code.severity()) },
    })
}

/// One `result`.
fn sarif_result(diagnostic: &Diagnostic, report: &Report) -> Value {
    let located = diagnostic.located(report.sources());
    let mut result = json!({
        "ruleId": located.code,
        "level": level(located.severity),
        "message": { "text": message(&located) },
    });
    if let Some(object) = result.as_object_mut() {
        if let Some(index) = Code::ALL.iter().position(|code| *code == diagnostic.code) {
            object.insert(String::from("ruleIndex"), Value::from(index));
        }
        if let Some(place) = &located.location {
            let mut location = json!({
                "physicalLocation": {
                    "artifactLocation": { "uri": uri(&place.file) },
                    "region": {
                        "startLine": place.line,
                        "startColumn": place.column,
                        "endLine": place.end_line,
                        "endColumn": place.end_column,
                    },
                },
            });
            if let (Some(label), Some(location)) = (&located.label, location.as_object_mut()) {
                location.insert(String::from("message"), json!({ "text": label }));
            }
            object.insert(String::from("locations"), Value::Array(vec![location]));
        }
    }
    result
}

/// SARIF's name for a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The message, then each note and the help on a line of its own.
fn message(located: &LocatedDiagnostic) -> String {
    let mut text = located.message.clone();
    for note in &located.notes {
        match &note.location {
            Some(at) => text.push_str(&format!("\nnote: {}:{}:{}: {}", at.file, at.line, at.column, note.message)),
            None => text.push_str(&format!("\nnote: {}", note.message)),
        }
    }
    if let Some(help) = &located.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    text
}

/// A file name as a URI reference: `/` separators, and every byte outside
/// the characters a URI path may hold unescaped percent-encoded. `:` is
/// encoded too, so that `a:b.narval` is not read as a scheme. Absolute paths
/// (`/srv/rules.narval`, `C:\rules.narval`) become `file://` URIs.
fn uri(name: &str) -> String {
    let path = name.replace('\\', "/");
    let bytes = path.as_bytes();
    let drive = matches!(bytes, [letter, b':', b'/', ..] if letter.is_ascii_alphabetic());
    let (prefix, rest) = match (drive, path.strip_prefix('/')) {
        (true, _) => (format!("file:///{}", path.get(..2).unwrap_or_default()), path.get(2..).unwrap_or_default()),
        (false, Some(_)) => (String::from("file://"), path.as_str()),
        (false, None) => (String::new(), path.as_str()),
    };
    let mut out = prefix;
    for byte in rest.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// GitHub Actions workflow commands, one line per diagnostic:
/// `::error file=F,line=L,col=C,endLine=L,endColumn=C,title=E0101::message`
/// (`::warning` for warnings; only `title` for a diagnostic without a
/// place). GitHub shows each as an annotation on the file.
///
/// Values are escaped as the Actions toolkit does (`%`, carriage return and
/// newline in the message; `:` and `,` as well in the properties). The help
/// follows the message after an escaped newline, as `help: ...`.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    for diagnostic in report.diagnostics() {
        let located = diagnostic.located(report.sources());
        let command = match located.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut properties = Vec::new();
        if let Some(Location { file, line, column, end_line, end_column }) = &located.location {
            properties.push(format!("file={}", escape_property(file)));
            properties.push(format!("line={line},col={column},endLine={end_line},endColumn={end_column}"));
        }
        properties.push(format!("title={}", escape_property(located.code)));
        out.push_str(&format!("::{command} {}::{}\n", properties.join(","), escape_data(&message(&located))));
    }
    out
}

/// Escapes a command's message, as the toolkit's `escapeData`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a command property's value, as the toolkit's `escapeProperty`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

impl Report {
    /// The document `narval check --format json` writes:
    /// `{"diagnostics": [..], "errors": N, "warnings": N}`.
    pub fn to_json(&self) -> Value {
        json(self)
    }

    /// The report as a SARIF 2.1.0 log, for code scanning (`sarif`).
    pub fn to_sarif(&self) -> Value {
        sarif(self)
    }

    /// The report as GitHub Actions workflow commands, one line per
    /// diagnostic (`github`).
    pub fn to_github(&self) -> String {
        github(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references_with_unsafe_characters_encoded() {
        assert_eq!(uri("rules/a.narval"), "rules/a.narval");
        assert_eq!(uri("rules\\a.narval"), "rules/a.narval");
        assert_eq!(uri("my rules/a%b.narval"), "my%20rules/a%25b.narval");
        assert_eq!(uri("we,ird:name.narval"), "we,ird%3Aname.narval");
        assert_eq!(uri("règles.narval"), "r%C3%A8gles.narval");
        assert_eq!(uri("/srv/rules.narval"), "file:///srv/rules.narval");
        assert_eq!(uri("C:\\rules\\a b.narval"), "file:///C:/rules/a%20b.narval");
    }

    #[test]
    fn escaping_follows_the_actions_toolkit() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("100% a:b,c\r\nd"), "100%25 a%3Ab%2Cc%0D%0Ad");
    }
}
