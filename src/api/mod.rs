//! The library entry point: load rule files, check and compile them into a
//! [`RuleSet`], then assign streams to profiles.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::decode::{self, ProfileError};
use crate::eval::batch::MAX_THREADS;
use crate::eval::compile::{Folded, Program};
use crate::eval::engine::Engine;
use crate::eval::explain::Explanation;
use crate::eval::interpret::StreamSet;
use crate::ir;
use crate::ir::StreamKind;
use crate::load::{self, Input, Loaded};
use crate::text::diagnostic::{self, Code, Diagnostic};
pub use crate::text::report::Report;

mod batch;
mod sql;
mod stack;
pub mod testing;

use stack::on_deep_stack;

use crate::analysis::policy;
use crate::check;
use crate::eval::compile;
use crate::value::Date;
use testing::Suite;

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
    policies: Vec<Input>,
    /// Folders imports may resolve into, besides the folders of the inputs.
    import_roots: Vec<PathBuf>,
    today: Option<Date>,
    /// The evaluator the rule set runs.
    engine: Engine,
}

impl Builder {
    /// The largest rule file, in bytes, narval reads (larger is E0005).
    pub const MAX_FILE_BYTES: usize = crate::syntax::MAX_FILE_BYTES;

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

    /// Puts the rule set under the policies of a policy file given as text
    /// (language guide, section 17), as `narval check --policy` does. A
    /// policy file holds only policy declarations; the policies a rule set
    /// names itself (`policy "gdpr.narval"`) apply too.
    pub fn policy_source(mut self, name: impl Into<String>, text: impl Into<String>) -> Builder {
        self.policies.push(Input::Text { name: name.into(), text: text.into() });
        self
    }

    /// Puts the rule set under the policies of a policy file read from disk.
    pub fn policy_file(mut self, path: impl AsRef<Path>) -> Builder {
        self.policies.push(Input::Path(path.as_ref().to_path_buf()));
        self
    }

    /// Lets the files a rule file names (imports, policy files, the profile
    /// files of tests) resolve inside `dir` too. Without it they must
    /// resolve, symbolic links followed, inside the folder of a rule file
    /// given to [`Builder::file`] or [`Builder::source`] (E0008), so that a
    /// rule file cannot read any file on the machine. `narval` passes the
    /// current folder, or `--import-root DIR`.
    pub fn import_root(mut self, dir: impl AsRef<Path>) -> Builder {
        self.import_roots.push(dir.as_ref().to_path_buf());
        self
    }

    /// Sets the evaluation date that `today` stands for. A rule set that
    /// reads `today` without one is refused: narval never reads the clock.
    pub fn today(mut self, date: Date) -> Builder {
        self.today = Some(date);
        self
    }

    /// Evaluates with the interpreter only, without generating native code
    /// (feature `jit`, on by default): for machines that forbid executable
    /// memory, or to compare the two. The results are the same.
    pub fn interpreted(mut self) -> Builder {
        self.engine = Engine::Interpreted;
        self
    }

    /// Evaluates with `engine`, which may be one the facade does not offer
    /// (native code in part or a rule to a function, the plain evaluator),
    /// so that tests take each path. Only with the `internals` feature.
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn engine(mut self, engine: Engine) -> Builder {
        self.engine = engine;
        self
    }

    /// Loads, parses and checks every file (and what they import) and returns
    /// every diagnostic, sorted by position. A rule set that reads `today`
    /// checks without a date (it is a parameter of evaluation, which
    /// [`Builder::build`] asks for); with one, rules that fold to a constant
    /// on that date are reported too (W0002).
    pub fn check(self) -> Report {
        on_deep_stack(|| self.run(false).0)
    }

    /// Checks the rule set and reports its lineage (`narval audit`): what
    /// each stream depends on, and the verdict of the policies in effect.
    /// Errors other than policy violations leave no lineage to report.
    pub fn audit(self) -> Result<crate::analysis::audit::Audit, Report> {
        on_deep_stack(|| self.audit_here())
    }

    fn audit_here(&self) -> Result<crate::analysis::audit::Audit, Report> {
        let (report, checked, _, _) = self.run(false);
        let blocking = report.diagnostics().iter().any(|d| d.is_error() && !policy::is_policy_code(d.code));
        match checked {
            Some(checked) if !blocking => {
                let lineage = crate::analysis::audit::Lineage::new(&checked);
                Ok(crate::analysis::audit::Audit { lineage, policies: report.policies.clone(), report })
            }
            _ => Err(report),
        }
    }

    /// Checks and compiles. On errors, the report lists them all; on success
    /// its warnings stay available through [`RuleSet::report`].
    pub fn build(self) -> Result<RuleSet, Report> {
        on_deep_stack(|| self.build_here())
    }

    fn build_here(&self) -> Result<RuleSet, Report> {
        match self.run(true) {
            (report, Some(checked), Some(mut program), policies) if !report.has_errors() => {
                program.set_engine(self.engine);
                let reads = decode::Reads::of(&checked.schema, checked.profile_reads());
                Ok(RuleSet { checked, program, report, policies, reads, today: self.today })
            }
            (report, _, _, _) => Err(report),
        }
    }

    /// Checks the rule set and its test cases for `narval test`. Unlike
    /// [`Builder::build`], a rule set that reads `today` needs no date here:
    /// each case may set its own, and a case that needs one and has none
    /// fails on its own.
    pub fn build_tests(self) -> Result<Suite, Report> {
        on_deep_stack(|| self.build_tests_here())
    }

    fn build_tests_here(&self) -> Result<Suite, Report> {
        let (report, checked, compiled, _) = self.run(false);
        match (checked, compiled) {
            (Some(checked), Some(_)) if !report.has_errors() => Ok(Suite {
                checked,
                sources: report.sources.clone(),
                warnings: report.diagnostics.clone(),
                today: self.today,
                roots: self.roots(),
            }),
            _ => Err(report),
        }
    }

    /// The canonical folders files named in rule files may lie in: those
    /// given by [`Builder::import_root`], and the folder of every rule file.
    pub(crate) fn roots(&self) -> Vec<PathBuf> {
        let folder = |path: &Path| {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| Path::new("."));
            std::fs::canonicalize(parent).ok()
        };
        let inputs = self.inputs.iter().filter_map(|input| match input {
            Input::Path(path) => folder(path),
            Input::Text { name, .. } => folder(Path::new(name)),
        });
        self.import_roots.iter().filter_map(|dir| std::fs::canonicalize(dir).ok()).chain(inputs).collect()
    }

    /// Parses, checks and, when there are no errors, compiles; compiling
    /// finds the rules whose condition folds to a constant (W0002).
    /// `needs_date`: a rule set that reads `today` without a date is an
    /// error (E0206), as it is for building a program to evaluate.
    fn run(&self, needs_date: bool) -> (Report, Option<ir::CheckedRules>, Option<Program>, Vec<policy::Policy>) {
        let mut diagnostics = Vec::new();
        let Loaded { sources, files, policy_files } =
            load::load(&self.inputs, &self.policies, self.roots(), &mut diagnostics);
        check::check_versions(policy_files.iter().map(|(id, tree)| (*id, tree)), &mut diagnostics);
        let policies =
            policy::lower(&policy_files.iter().map(|(id, tree)| (*id, tree)).collect::<Vec<_>>(), &mut diagnostics);
        let checked = check::check(&files, self.today, &mut diagnostics);
        if let Some(checked) = &checked {
            policy::check(checked, &policies, &mut diagnostics);
        }
        if !needs_date {
            diagnostics.retain(|d| d.code != Code::TodayNotSet);
        }
        let compiled = match &checked {
            Some(checked) if !diagnostics.iter().any(Diagnostic::is_error) => {
                let program = compile::compile(checked, self.today);
                for (index, folded) in program.folded_rules() {
                    let Some(rule) = checked.rules.get(index) else { continue };
                    diagnostics.push(never_fires(rule, folded));
                }
                for (index, value) in program.folded_requirements() {
                    let Some(requirement) = checked.requirements.get(index) else { continue };
                    diagnostics.push(requirement_folds(requirement, value));
                }
                Some(program)
            }
            _ => None,
        };
        diagnostic::sort(&mut diagnostics);
        // Sorted, so that the order files come in does not show.
        let mut in_effect = policies;
        in_effect.sort_by(|a, b| a.name.cmp(&b.name));
        let mut policies: Vec<String> = in_effect.iter().map(|p| p.name.clone()).collect();
        policies.dedup();
        (Report { sources, diagnostics, policies }, checked, compiled, in_effect)
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

fn requirement_folds(requirement: &ir::Requirement, value: Option<bool>) -> Diagnostic {
    let (what, help) = match value {
        Some(true) => {
            ("always true, so it never suppresses a stream", "check the condition, or remove the requirement")
        }
        Some(false) => {
            ("always false, so its streams are never sent", "check the comparison and the constants it uses")
        }
        None => ("always unknown, so its streams are never sent", "look for a division by zero or an overflow"),
    };
    Diagnostic::new(
        Code::RequirementFolds,
        requirement.span,
        format!("the condition of requirement `{}` is {what}", requirement.name),
    )
    .with_help(help)
}

/// A checked and compiled rule set, ready to assign streams.
#[derive(Clone, Debug)]
pub struct RuleSet {
    checked: ir::CheckedRules,
    program: Program,
    report: Report,
    /// The policies in effect, by name: `explain` withholds what they guard.
    policies: Vec<policy::Policy>,
    /// The profile fields the rules read: the decoder skips the others.
    reads: decode::Reads,
    /// The date `today` stands for, which the SQL back end writes in.
    today: Option<Date>,
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
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn checked(&self) -> &ir::CheckedRules {
        &self.checked
    }

    /// Declared streams of a kind, in priority order.
    pub fn streams(&self, kind: StreamKind) -> impl Iterator<Item = &str> {
        self.checked.streams.iter().filter(move |s| s.kind == kind).map(|s| s.name.as_str())
    }

    /// Assigns streams to one profile given as JSON text.
    pub fn assign_json(&self, json: &str) -> Result<Assignment<'_>, ProfileError> {
        let profile = decode::decode_str(&self.checked.schema, &self.reads, json)?;
        Ok(self.assign_decoded(&profile))
    }

    /// Assigns streams to one profile given as a JSON value.
    pub fn assign_value(&self, json: &serde_json::Value) -> Result<Assignment<'_>, ProfileError> {
        let profile = decode::decode_value(&self.checked.schema, &self.reads, json)?;
        Ok(self.assign_decoded(&profile))
    }

    /// Assigns streams to one profile of the embedder's own type, through its
    /// `Serialize` implementation: written as JSON text, then decoded as
    /// [`RuleSet::assign_json`] decodes it.
    pub fn assign<T: Serialize + ?Sized>(&self, profile: &T) -> Result<Assignment<'_>, ProfileError> {
        let text = serde_json::to_string(profile).map_err(|e| ProfileError::Serialize { reason: e.to_string() })?;
        self.assign_json(&text)
    }

    /// Assigns streams to many profiles; the results are in input order, one
    /// per profile, so none is lost.
    pub fn assign_batch<T: Serialize>(&self, profiles: &[T]) -> Vec<Result<Assignment<'_>, ProfileError>> {
        profiles.iter().map(|p| self.assign(p)).collect()
    }

    /// [`RuleSet::assign_batch`] on `threads` threads (at least one): the
    /// profiles are split into contiguous runs, and the results come back
    /// in input order, the same for every thread count.
    pub fn assign_batch_parallel<T: Serialize + Sync>(
        &self,
        profiles: &[T],
        threads: usize,
    ) -> Vec<Result<Assignment<'_>, ProfileError>> {
        parallel_map(profiles, threads, |p| self.assign(p))
    }

    /// Assigns streams to profiles given as JSON lines, on `threads` threads;
    /// results in input order.
    pub fn assign_lines_parallel(&self, lines: &[&str], threads: usize) -> Vec<Result<Assignment<'_>, ProfileError>> {
        parallel_map(lines, threads, |line| self.assign_json(line))
    }

    /// Decodes one profile from JSON text against the schema, without
    /// evaluating it: the first half of [`RuleSet::assign_json`].
    pub fn decode_json(&self, json: &str) -> Result<decode::Profile, ProfileError> {
        decode::decode_str(&self.checked.schema, &self.reads, json)
    }

    /// Decodes one line of NDJSON input, and returns with the profile the
    /// JSON text of its `id_field` as written, so that a caller can copy the
    /// id to its output without decoding it. A line without the id, or with
    /// a null one, is rejected ([`ProfileError::MissingId`]).
    pub fn decode_line<'t>(&self, json: &'t str, id_field: &str) -> Result<(decode::Profile, &'t str), ProfileError> {
        let mut profile = decode::Profile::default();
        let id = self.decode_line_into(json.as_bytes(), id_field, &mut profile)?;
        Ok((profile, id))
    }

    /// [`RuleSet::decode_line`] from the bytes of a line (without its
    /// newline) into a profile whose memory is reused: a batch that decodes
    /// every line into one profile allocates nothing once it has grown to
    /// the largest profile. What `narval assign` and `narval explain` do
    /// with each line: see `decode_bytes_into` for what is
    /// rejected.
    pub fn decode_line_into<'t>(
        &self,
        line: &'t [u8],
        id_field: &str,
        profile: &mut decode::Profile,
    ) -> Result<&'t str, ProfileError> {
        let id = decode::decode_bytes_into(&self.checked.schema, &self.reads, line, Some(id_field), profile)?;
        id.ok_or_else(|| ProfileError::MissingId { field: id_field.to_owned() })
    }

    /// The streams of a decoded profile, as a set of stream ids in priority
    /// order, by the engine chosen when the rule set was built: the second
    /// half of [`RuleSet::assign_json`].
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn evaluate(&self, profile: &decode::Profile) -> StreamSet {
        self.program.assign(profile)
    }

    /// The same rule set run by `engine` (tests that compare the engines
    /// without checking the rule set again).
    #[cfg(feature = "internals")]
    #[doc(hidden)]
    pub fn with_engine(&self, engine: Engine) -> RuleSet {
        let mut other = self.clone();
        other.program.set_engine(engine);
        other
    }

    /// Whether the rule set runs native code when it assigns (feature `jit`;
    /// see [`Builder::interpreted`]).
    pub fn is_native(&self) -> bool {
        #[cfg(feature = "jit")]
        return self.program.native.is_some();
        #[cfg(not(feature = "jit"))]
        false
    }

    /// The compiled program, for tests that compare its two evaluators
    /// rule by rule ([`Program::run`] and [`Program::outcome`]).
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// How rules are found for a profile: the indexes over guarded fields.
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn dispatch(&self) -> &crate::eval::dispatch::Dispatch {
        &self.program.dispatch
    }

    /// The stream names of a set [`RuleSet::evaluate`] gave.
    #[cfg(any(test, feature = "internals"))]
    #[doc(hidden)]
    pub fn assignment(&self, streams: &StreamSet) -> Assignment<'_> {
        self.names(streams)
    }

    /// The stream names of a set of stream ids, by kind.
    fn names(&self, streams: &StreamSet) -> Assignment<'_> {
        let mut out = Assignment { solicitations: Vec::new(), issues: Vec::new() };
        for stream in streams.iter() {
            let Some(info) = self.checked.streams.get(stream) else { continue };
            match info.kind {
                StreamKind::Solicitation => out.solicitations.push(info.name.as_str()),
                StreamKind::Issue => out.issues.push(info.name.as_str()),
            }
        }
        out
    }

    /// Explains one profile given as JSON text: every stream, and the rules
    /// and values that decided it. See `explain`.
    pub fn explain_json(&self, json: &str) -> Result<Explanation, ProfileError> {
        let profile = decode::decode_str(&self.checked.schema, &self.reads, json)?;
        Ok(self.explain_decoded(&profile))
    }

    /// Explains one profile given as a JSON value.
    pub fn explain_value(&self, json: &serde_json::Value) -> Result<Explanation, ProfileError> {
        let profile = decode::decode_value(&self.checked.schema, &self.reads, json)?;
        Ok(self.explain_decoded(&profile))
    }

    /// Explains one profile of the embedder's own type.
    pub fn explain<T: Serialize + ?Sized>(&self, profile: &T) -> Result<Explanation, ProfileError> {
        let text = serde_json::to_string(profile).map_err(|e| ProfileError::Serialize { reason: e.to_string() })?;
        self.explain_json(&text)
    }

    /// Explains a profile already decoded (by [`RuleSet::decode_line_into`],
    /// as `narval explain` does).
    pub fn explain_decoded(&self, profile: &decode::Profile) -> Explanation {
        let report = &self.report;
        on_deep_stack(|| {
            crate::eval::explain::explain(&self.checked, &self.program, report.sources(), &self.policies, profile)
        })
    }

    fn assign_decoded(&self, profile: &decode::Profile) -> Assignment<'_> {
        self.names(&self.program.assign(profile))
    }
}

/// `f` over `items` on `threads` scoped threads (at most [`MAX_THREADS`]),
/// each taking a contiguous run; the results are in input order. A run
/// whose thread cannot be started is done on this thread.
fn parallel_map<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = threads.clamp(1, items.len().clamp(1, MAX_THREADS));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let run = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = items
            .chunks(run)
            .map(|chunk| {
                let work = move || chunk.iter().map(f).collect::<Vec<R>>();
                std::thread::Builder::new().spawn_scoped(scope, work).map_err(|_| chunk)
            })
            .collect();
        let mut results = Vec::with_capacity(items.len());
        for handle in handles {
            let handle = match handle {
                Ok(handle) => handle,
                Err(chunk) => {
                    results.extend(chunk.iter().map(f));
                    continue;
                }
            };
            match handle.join() {
                Ok(part) => results.extend(part),
                // A worker panicked: evaluation never panics on its own, so
                // pass the panic on rather than lose the results silently.
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::RuleSet;

    /// Seen while writing the fuzzer's `check` target: `import "/dev/zero"`
    /// read zeros until memory ran out.
    #[test]
    fn an_endless_file_is_refused_not_read_whole() {
        if !std::path::Path::new("/dev/zero").exists() {
            return;
        }
        let given = RuleSet::builder().file("/dev/zero").check();
        let codes: Vec<&str> = given.diagnostics().iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0005"], "{}", given.render());
    }

    /// A file named in a rule file must be a regular file: a device is
    /// refused before it is opened (a named pipe would wait for a writer).
    #[test]
    fn an_import_of_a_device_is_refused_unread() {
        if !std::path::Path::new("/dev/zero").exists() {
            return;
        }
        let source = "narval 1\nimport \"/dev/zero\"\n";
        let imported = RuleSet::builder().source("t.narval", source).import_root("/").check();
        let messages: Vec<String> = imported.diagnostics().iter().map(|d| d.message.clone()).collect();
        assert_eq!(messages, ["cannot import `/dev/zero`: is a device, not a regular file"]);
        // Without a root that holds it, the import lies outside the rule file's folder.
        let outside = RuleSet::builder().source("t.narval", source).check();
        let codes: Vec<&str> = outside.diagnostics().iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["E0008"], "{}", outside.render());
    }
}
