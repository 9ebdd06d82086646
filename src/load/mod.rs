//! The `load` stage: the files of a rule set — rule files, their imports and
//! policy files — read once each through [`read`], where they may lie (the
//! import roots), and parsed.

pub mod read;

use std::path::{Path, PathBuf};

use crate::check;
use crate::load::read::{io_reason, read_text, Origin};
use crate::syntax;
use crate::syntax::ast;
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::{FileId, Sources};

/// A file given to the builder.
#[derive(Clone, Debug)]
pub(crate) enum Input {
    /// A rule file given as text, under a name.
    Text { name: String, text: String },
    /// A rule file on disk.
    Path(PathBuf),
}

/// The parsed files of a rule set.
pub(crate) struct Loaded {
    /// Every file read, imports and policy files included.
    pub(crate) sources: Sources,
    /// The rule files, imports included, in the order they were reached.
    pub(crate) files: Vec<(FileId, ast::File)>,
    /// The policy files.
    pub(crate) policy_files: Vec<(FileId, ast::File)>,
}

/// Reads every rule file given and every file they import, following
/// imports relative to the importing file, and the policy files given or
/// named with `policy "FILE"`; each file parsed once. What cannot be read
/// or parsed is reported in `diagnostics` and left out.
pub(crate) fn load(
    inputs: &[Input],
    policies: &[Input],
    roots: Vec<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Loaded {
    let mut files = Vec::new();
    let mut load = Load::new(roots, diagnostics);
    let mut queue: Vec<(FileId, Option<PathBuf>)> = Vec::new();
    for input in inputs {
        queue.extend(load.input(input, "rule file"));
    }
    let mut policy_queue: Vec<(FileId, Option<PathBuf>)> = Vec::new();
    for input in policies {
        policy_queue.extend(load.input(input, "file"));
    }
    // Parse every file, following imports relative to the importing file.
    let mut next = 0;
    while let Some((id, path)) = queue.get(next).cloned() {
        next += 1;
        let Some(tree) = load.parse(id) else { continue };
        for item in &tree.items {
            if let crate::syntax::ast::Item::Policy(policy) = item {
                load.diagnostics.push(
                    Diagnostic::new(
                        Code::NotAPolicyFile,
                        policy.name.span,
                        format!("policy `{}` is declared in a rule file", policy.name.node),
                    )
                    .with_help("move it to a policy file of its own, and name that file with `policy \"FILE\"`"),
                );
            }
            let base = path.as_deref().and_then(Path::parent).unwrap_or_else(|| Path::new(""));
            match item {
                crate::syntax::ast::Item::PolicyUse(target) => {
                    policy_queue.extend(load.referenced(base, target, "policy file"));
                }
                crate::syntax::ast::Item::Import(target) => queue.extend(load.referenced(base, target, "import")),
                _ => {}
            }
        }
        files.push((id, tree));
    }
    let mut policy_files = Vec::new();
    for (id, _) in &policy_queue {
        if let Some(tree) = load.parse(*id) {
            policy_files.push((*id, tree));
        }
    }
    Loaded { sources: load.sources, files, policy_files }
}

/// Reads the files of a rule set into its sources: one policy for every
/// file, whoever names it ([`crate::load::read::Origin`]), where it may lie
/// (the import roots), and how its text is read ([`crate::text::source::decode_text`]).
pub(crate) struct Load<'d> {
    pub(crate) sources: Sources,
    /// One file read once, however it is named: `d/a.narval`, `./d/a.narval`, an absolute path.
    seen: std::collections::HashSet<PathBuf>,
    /// Canonical folders a referenced file must lie in.
    roots: Vec<PathBuf>,
    pub(crate) diagnostics: &'d mut Vec<Diagnostic>,
}

impl<'d> Load<'d> {
    pub(crate) fn new(roots: Vec<PathBuf>, diagnostics: &'d mut Vec<Diagnostic>) -> Load<'d> {
        Load { sources: Sources::new(), seen: std::collections::HashSet::new(), roots, diagnostics }
    }

    /// A file given to the builder; `None` when it cannot be read (reported)
    /// or was read already.
    pub(crate) fn input(&mut self, input: &Input, what: &str) -> Option<(FileId, Option<PathBuf>)> {
        match input {
            Input::Text { name, text } => {
                self.seen.insert(file_key(Path::new(name)));
                Some((self.sources.add(name.clone(), text.clone()), Some(PathBuf::from(name))))
            }
            Input::Path(path) => {
                if !self.seen.insert(file_key(path)) {
                    return None;
                }
                let name = Some(normalize(path)).filter(|n| !n.as_os_str().is_empty()).unwrap_or_else(|| path.clone());
                let name = name.display().to_string();
                match read_text(path, Origin::Named, syntax::MAX_FILE_BYTES as u64) {
                    Ok(text) => Some((self.sources.add(name, text), Some(path.clone()))),
                    Err(error) => {
                        self.unreadable(name, &error, None, what);
                        None
                    }
                }
            }
        }
    }

    /// A file named by `target` in a file of folder `base`; `None` when it
    /// cannot be read (reported) or was read already.
    pub(crate) fn referenced(
        &mut self,
        base: &Path,
        target: &crate::syntax::ast::Spanned<String>,
        what: &str,
    ) -> Option<(FileId, Option<PathBuf>)> {
        let resolved = normalize(&base.join(&target.node));
        if !self.seen.insert(file_key(&resolved)) {
            return None;
        }
        if let Err(root) = inside_roots(&resolved, &self.roots) {
            self.diagnostics.push(outside_roots(target, what, &root));
            return None;
        }
        let name = resolved.display().to_string();
        match read_text(&resolved, Origin::Referenced, syntax::MAX_FILE_BYTES as u64) {
            Ok(text) => Some((self.sources.add(name, text), Some(resolved))),
            Err(error) => {
                self.unreadable(name, &error, Some(target), what);
                None
            }
        }
    }

    /// Reports a file that cannot be read. A text that is not UTF-8 is
    /// pointed at where it goes wrong; a file that cannot be opened, at
    /// where it is named, or at the file itself when the user named it, so
    /// that every diagnostic has a location (SARIF needs one).
    fn unreadable(
        &mut self,
        name: String,
        error: &std::io::Error,
        named_at: Option<&crate::syntax::ast::Spanned<String>>,
        what: &str,
    ) {
        if let Some(not_text) = crate::load::read::not_text(error) {
            let at = not_text.offset;
            let width = not_text.lossy.get(at..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
            let id = self.sources.add(name.clone(), not_text.lossy.clone());
            let mut diagnostic = Diagnostic::new(
                Code::NotUtf8,
                crate::text::source::Span::new(id, at, at + width),
                format!("{what} `{name}` is not UTF-8 text: {}", not_text.reason()),
            )
            .with_help(not_text.help());
            if let Some(target) = named_at {
                diagnostic = diagnostic.with_note(target.span, "imported here");
            }
            self.diagnostics.push(diagnostic);
            return;
        }
        let (code, reason) = if crate::load::read::is_too_large(error) {
            (Code::TooLarge, format!("larger than the limit of {} bytes", syntax::MAX_FILE_BYTES))
        } else {
            (Code::ImportNotFound, io_reason(error))
        };
        let diagnostic = match named_at {
            Some(target) => Diagnostic::new(code, target.span, cannot(what, &target.node, &reason))
                .with_label(if what == "import" { "imported here" } else { "named here" }),
            None => {
                let id = self.sources.add(name.clone(), String::new());
                Diagnostic::new(
                    code,
                    crate::text::source::Span::new(id, 0, 0),
                    format!("cannot read `{name}`: {reason}"),
                )
            }
        };
        self.diagnostics.push(diagnostic);
    }

    /// Parses a file of the sources. The syntax errors of a file that is
    /// not a narval file (no version line) would quote it: they become one
    /// diagnostic that quotes nothing.
    pub(crate) fn parse(&mut self, id: FileId) -> Option<crate::syntax::ast::File> {
        let file = self.sources.get(id)?;
        let (tree, found) = syntax::parse(id, &file.text);
        if !file.is_narval() && found.iter().any(|d| d.code == Code::Syntax) {
            self.diagnostics.push(
                Diagnostic::new(
                    Code::Syntax,
                    crate::text::source::Span::new(id, 0, 0),
                    format!("`{}` is not a narval file", file.name),
                )
                .with_help(format!("a narval file starts with the version line `narval {}`", check::SUPPORTED_VERSION)),
            );
            return None;
        }
        self.diagnostics.extend(found);
        tree
    }
}

/// Checks that a path resolves, symbolic links followed, inside one of
/// `roots`; the error names the first root. A path that does not exist is
/// left to the reading to report.
pub(crate) fn inside_roots(path: &Path, roots: &[PathBuf]) -> Result<(), PathBuf> {
    let Ok(canonical) = std::fs::canonicalize(path) else { return Ok(()) };
    if roots.iter().any(|root| canonical.starts_with(root)) {
        Ok(())
    } else {
        Err(roots.first().cloned().unwrap_or_default())
    }
}

/// A canonical folder as it is shown: relative to the current folder when
/// inside it, so that a message does not depend on where a checkout lies.
pub(crate) fn shown(root: &Path) -> PathBuf {
    let here = std::env::current_dir().and_then(std::fs::canonicalize);
    match here.as_deref().map(|here| root.strip_prefix(here)) {
        Ok(Ok(inside)) if inside.as_os_str().is_empty() => PathBuf::from("."),
        Ok(Ok(inside)) => inside.to_path_buf(),
        _ => root.to_path_buf(),
    }
}

/// `cannot import `x`: reason`, or `cannot read the policy file `x`: reason`.
fn cannot(what: &str, target: &str, reason: &str) -> String {
    if what == "import" {
        format!("cannot import `{target}`: {reason}")
    } else {
        format!("cannot read the {what} `{target}`: {reason}")
    }
}

fn outside_roots(target: &crate::syntax::ast::Spanned<String>, what: &str, root: &Path) -> Diagnostic {
    Diagnostic::new(
        Code::OutsideImportRoot,
        target.span,
        cannot(what, &target.node, &format!("outside the folder `{}`", shown(root).display())),
    )
    .with_label("named here")
    .with_help("a rule file may name files inside the folder of the rule files given (or, on the command line, the current folder); allow another with `--import-root DIR`")
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
