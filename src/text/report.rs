//! The outcome of a check: every diagnostic with the sources it points into.

use crate::text::diagnostic::{self, Diagnostic, LocatedDiagnostic, Severity};
use crate::text::source::Sources;

/// Every diagnostic of a check, with the sources they point into.
#[derive(Clone, Debug)]
pub struct Report {
    pub(crate) sources: Sources,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// The names of the policies in effect.
    pub(crate) policies: Vec<String>,
}

impl Report {
    /// A report of diagnostics over `sources`, sorted.
    pub(crate) fn new(sources: Sources, mut diagnostics: Vec<Diagnostic>) -> Report {
        diagnostic::sort(&mut diagnostics);
        Report { sources, diagnostics, policies: Vec::new() }
    }

    /// The names of the policies the rule set was checked against, sorted.
    pub fn policies(&self) -> &[String] {
        &self.policies
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
