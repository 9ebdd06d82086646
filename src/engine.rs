//! The library entry point: load rule files, check and compile them into a
//! [`RuleSet`], then assign streams to profiles.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::ast::StreamKind;
use crate::compile::{Folded, Program};
use crate::decode::{self, ProfileError};
use crate::diagnostic::{self, Code, Diagnostic, LocatedDiagnostic, Severity};
use crate::ir;
use crate::source::{io_reason, FileId, Sources};
use crate::syntax;
use crate::value::Date;
use crate::{check, compile};

/// Collects rule files and options, then checks and compiles them.
///
/// ```
/// let rules = narval::RuleSet::builder()
///     .source("mini.narval", "narval 1\nschema { volunteer: bool }\nsolicitation streams door_knock\n\
///              knock: not volunteer -> door_knock\n")
///     .build()
///     .map_err(|report| report.render())?;
/// let assignment = rules.assign_json(r#"{"volunteer": false}"#)?;
/// assert_eq!(assignment.solicitations, ["door_knock"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Builder {
    inputs: Vec<Input>,
    today: Option<Date>,
}

#[derive(Clone, Debug)]
enum Input {
    Text { name: String, text: String },
    Path(PathBuf),
}

impl Builder {
    /// Adds a rule file given as text. `name` is shown in diagnostics and
    /// anchors its relative imports.
    pub fn source(mut self, name: impl Into<String>, text: impl Into<String>) -> Builder {
        self.inputs.push(Input::Text { name: name.into(), text: text.into() });
        self
    }

    /// Adds a rule file read from disk when the rule set is built.
    pub fn file(mut self, path: impl AsRef<Path>) -> Builder {
        self.inputs.push(Input::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Sets the evaluation date that `today` stands for. A rule set that
    /// reads `today` without one is refused: narval never reads the clock.
    pub fn today(mut self, date: Date) -> Builder {
        self.today = Some(date);
        self
    }

    /// Loads, parses and checks every file (and what they import) and returns
    /// every diagnostic, sorted by position. Nothing is compiled.
    pub fn check(self) -> Report {
        self.run().0
    }

    /// Checks and compiles. On errors, the report lists them all; on success
    /// its warnings stay available through [`RuleSet::report`].
    pub fn build(self) -> Result<RuleSet, Report> {
        match self.run() {
            (report, Some((checked, program))) if !report.has_errors() => Ok(RuleSet { checked, program, report }),
            (report, _) => Err(report),
        }
    }

    /// Parses, checks and, when there are no errors, compiles; compiling
    /// finds the rules whose condition folds to a constant (W0002).
    fn run(&self) -> (Report, Option<(ir::RuleSet, Program)>) {
        let mut sources = Sources::new();
        let mut diagnostics = Vec::new();
        let mut files = Vec::new();
        let mut queue: Vec<(FileId, Option<PathBuf>)> = Vec::new();
        // One file read once, however it is named: `d/a.narval`, `./d/a.narval`, an absolute path.
        let mut seen = std::collections::HashSet::new();
        for input in &self.inputs {
            match input {
                Input::Text { name, text } => {
                    seen.insert(file_key(Path::new(name)));
                    let id = sources.add(name.clone(), text.clone());
                    queue.push((id, Some(PathBuf::from(name))));
                }
                Input::Path(path) => match std::fs::read_to_string(path) {
                    Ok(text) => {
                        if seen.insert(file_key(path)) {
                            let id = sources.add(normalize(path).display().to_string(), text);
                            queue.push((id, Some(path.clone())));
                        }
                    }
                    Err(error) => diagnostics.push(Diagnostic::unlocated(
                        Code::ImportNotFound,
                        format!("cannot read `{}`: {}", path.display(), io_reason(&error)),
                    )),
                },
            }
        }
        // Parse every file, following imports relative to the importing file.
        let mut next = 0;
        while let Some((id, path)) = queue.get(next).cloned() {
            next += 1;
            let Some(text) = sources.get(id).map(|f| f.text.clone()) else { continue };
            let (tree, found) = syntax::parse(id, &text);
            diagnostics.extend(found);
            let Some(tree) = tree else { continue };
            for item in &tree.items {
                let crate::ast::Item::Import(target) = item else { continue };
                let base = path.as_deref().and_then(Path::parent).unwrap_or_else(|| Path::new(""));
                let resolved = normalize(&base.join(&target.node));
                let name = resolved.display().to_string();
                if !seen.insert(file_key(&resolved)) {
                    continue;
                }
                match std::fs::read_to_string(&resolved) {
                    Ok(text) => {
                        let new = sources.add(name, text);
                        queue.push((new, Some(resolved)));
                    }
                    Err(error) => diagnostics.push(
                        Diagnostic::new(
                            Code::ImportNotFound,
                            target.span,
                            format!("cannot import `{}`: {}", target.node, io_reason(&error)),
                        )
                        .with_label("imported here"),
                    ),
                }
            }
            files.push((id, tree));
        }
        let checked = check::check(&files, self.today, &mut diagnostics);
        let compiled = match checked {
            Some(checked) if !diagnostics.iter().any(Diagnostic::is_error) => {
                let program = compile::compile(&checked, self.today);
                for (index, folded) in program.folded_rules() {
                    let Some(rule) = checked.rules.get(index) else { continue };
                    diagnostics.push(never_fires(rule, folded));
                }
                Some((checked, program))
            }
            _ => None,
        };
        diagnostic::sort(&mut diagnostics);
        (Report { sources, diagnostics }, compiled)
    }
}

fn never_fires(rule: &ir::Rule, folded: Folded) -> Diagnostic {
    let (what, help) = match folded {
        Folded::False => ("always false, so the rule never fires", "check the comparison and the constants it uses"),
        Folded::Unknown => (
            "always unknown: its assignments never apply and its suppressions always do",
            "look for a division by zero or an overflow between constants",
        ),
    };
    Diagnostic::new(Code::NeverFires, rule.span, format!("the condition of rule `{}` is {what}", rule.name))
        .with_help(help)
}

/// What identifies a file: its canonical path when it exists on disk.
fn file_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

/// `a/./b/../c` to `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Every diagnostic of a check, with the sources they point into.
#[derive(Clone, Debug)]
pub struct Report {
    sources: Sources,
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// A report of diagnostics located in `sources`; they are sorted here.
    pub(crate) fn new(sources: Sources, mut diagnostics: Vec<Diagnostic>) -> Report {
        diagnostic::sort(&mut diagnostics);
        Report { sources, diagnostics }
    }

    /// The diagnostics, sorted by file and position.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The files read, imports included.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Number of diagnostics of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity() == severity).count()
    }

    /// Every diagnostic rendered like rustc, one after another.
    pub fn render(&self) -> String {
        self.diagnostics.iter().map(|d| d.render(&self.sources)).collect::<Vec<_>>().join("\n")
    }

    /// Every diagnostic with resolved locations, for JSON output.
    pub fn located(&self) -> Vec<LocatedDiagnostic> {
        self.diagnostics.iter().map(|d| d.located(&self.sources)).collect()
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Report {}

/// A checked and compiled rule set, ready to assign streams.
#[derive(Clone, Debug)]
pub struct RuleSet {
    checked: ir::RuleSet,
    program: Program,
    report: Report,
}

/// The streams a profile is to receive, each list in priority order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Assignment<'r> {
    /// Solicitation streams.
    pub solicitations: Vec<&'r str>,
    /// Issue streams.
    pub issues: Vec<&'r str>,
}

impl RuleSet {
    /// Starts a builder.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The warnings found while checking (a built rule set has no errors).
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The checked rule set: schema, streams, definitions and rules, typed
    /// and resolved. This is the plain expression IR later back ends (SQL)
    /// start from.
    pub fn checked(&self) -> &ir::RuleSet {
        &self.checked
    }

    /// Declared streams of a kind, in priority order.
    pub fn streams(&self, kind: StreamKind) -> impl Iterator<Item = &str> {
        self.checked.streams.iter().filter(move |s| s.kind == kind).map(|s| s.name.as_str())
    }

    /// Assigns streams to one profile given as JSON text.
    pub fn assign_json(&self, json: &str) -> Result<Assignment<'_>, ProfileError> {
        let profile = decode::from_json_str(&self.checked.schema, json)?;
        Ok(self.assign_decoded(&profile))
    }

    /// Assigns streams to one profile given as a JSON value.
    pub fn assign_value(&self, json: &serde_json::Value) -> Result<Assignment<'_>, ProfileError> {
        let profile = decode::from_json_value(&self.checked.schema, json)?;
        Ok(self.assign_decoded(&profile))
    }

    /// Assigns streams to one profile of the embedder's own type, through its
    /// `Serialize` implementation.
    pub fn assign<T: Serialize + ?Sized>(&self, profile: &T) -> Result<Assignment<'_>, ProfileError> {
        let value = serde_json::to_value(profile).map_err(|e| ProfileError::Serialize { reason: e.to_string() })?;
        self.assign_value(&value)
    }

    /// Assigns streams to many profiles; the results are in input order, one
    /// per profile, so none is lost.
    pub fn assign_batch<T: Serialize>(&self, profiles: &[T]) -> Vec<Result<Assignment<'_>, ProfileError>> {
        profiles.iter().map(|p| self.assign(p)).collect()
    }

    fn assign_decoded(&self, profile: &decode::Profile) -> Assignment<'_> {
        let assigned = self.program.assign(profile);
        let mut out = Assignment { solicitations: Vec::new(), issues: Vec::new() };
        for stream in assigned.iter() {
            let Some(info) = self.checked.streams.get(stream) else { continue };
            match info.kind {
                StreamKind::Solicitation => out.solicitations.push(info.name.as_str()),
                StreamKind::Issue => out.issues.push(info.name.as_str()),
            }
        }
        out
    }
}
