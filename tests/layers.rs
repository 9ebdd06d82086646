//! The house's layers (issue 14): every file of `src/` imports only from its
//! own stage or from the stages the table below lets it, and no circle runs
//! between files or between stages.
//!
//! The test reads the source text itself. Comments, string and character
//! literals and `#[cfg(test)]` code are set aside; every remaining path that
//! starts with `crate`, `self`, `super` or a child module is resolved to the
//! deepest file it names (`crate::eval::program::Program` is
//! `src/eval/program.rs`, or `src/eval/program/mod.rs`, or failing both the
//! file of `crate::eval`). A `mod child;` declaration is not an import; a
//! parent's `pub use child::X` is, and so is a child's `super::Y`: both
//! together are a circle. So a folder's `mod.rs` declares and re-exports,
//! and what its files share lives in a file of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A stage: the top-level module of `src/` it is (`lib` is `src/lib.rs`)
/// and the stages it may import from. A stage may always import itself.
type Stage = (&'static str, &'static [&'static str]);

/// Stands for every stage: the crate root declares them all.
const EVERY: &str = "*";

/// The stages, bottom first. A stage names only stages listed before it, so
/// the table itself runs one way (`the_table_runs_one_way` holds it to that).
/// A new stage is one line.
const STAGES: &[Stage] = &[
    // Dates and money: the values profiles and rules hold.
    ("value", &[]),
    // Source text, spans, diagnostics, `Report` and its renderers.
    ("text", &["value"]),
    // The grammar (pest never leaves this stage), the syntax tree `ast` and
    // its lowering.
    ("syntax", &["text", "value"]),
    // The canonical printer of syntax trees.
    ("format", &["text", "value", "syntax"]),
    // The checked IR every back end reads; it owns `StreamKind` and
    // `AggregateFn`, and never sees the syntax tree.
    ("ir", &["text", "value"]),
    // Profiles read from JSON against the IR's schema.
    ("decode", &["text", "value", "ir"]),
    // Syntax trees to the checked IR: names resolved, expressions typed.
    ("check", &["text", "value", "syntax", "ir", "decode"]),
    // What a rule set reads, one walk shared by lineage, policy and audit;
    // policy files are parsed here.
    ("analysis", &["text", "value", "syntax", "ir", "check"]),
    // Evaluation: program, dispatch, specialise, the interpreter, explain,
    // native code and the batch pipeline. Back ends read the checked IR,
    // never the syntax tree, and never call the checker.
    ("eval", &["text", "value", "ir", "decode", "analysis"]),
    // The SQL back end: one writer over the IR, a layer per dialect; the
    // load statements write profiles `decode` read.
    ("sql", &["text", "value", "ir", "decode", "analysis"]),
    // Files, imports and policies, with one read helper.
    ("load", &["text", "value", "syntax", "ir", "check", "analysis"]),
    // The facade's types: `Builder`, `RuleSet`, the test runner.
    ("api", &["text", "value", "syntax", "format", "ir", "decode", "check", "analysis", "eval", "sql", "load"]),
    // `src/lib.rs`: declares the modules and re-exports the facade.
    ("lib", &[EVERY]),
];

/// The binary crate: `src/main.rs` (`main`) and `src/cli/`. There `crate` is
/// the binary; it sees the library only as `narval::...`, never its
/// `internals`.
const BINARY: &[&str] = &["main", "cli"];

/// The facade's budget: items public at the top of `src/lib.rs` with
/// default features.
const MAX_FACADE_ITEMS: usize = 40;

/// The module the `internals` feature exposes to tests, benches and fuzz.
const INTERNALS: &str = "internals";

// ---------------------------------------------------------------------------
// The real tree.

fn this_crate() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_import_runs_down_the_stages() {
    let problems = layer_violations(&Tree::read(this_crate()), STAGES);
    assert!(
        problems.is_empty(),
        "{} import(s) against the stages (the table is STAGES in tests/layers.rs):\n{}\n",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn no_circle_between_stages() {
    let problems: Vec<String> =
        circles(&Tree::read(this_crate())).into_iter().filter(|p| p.starts_with("stage circle")).collect();
    assert!(problems.is_empty(), "{} circle(s):\n{}\n", problems.len(), problems.join("\n"));
}

#[test]
fn no_circle_between_files() {
    let problems = circles(&Tree::read(this_crate()));
    assert!(problems.is_empty(), "{} circle(s):\n{}\n", problems.len(), problems.join("\n"));
}

#[test]
fn the_facade_is_small() {
    let problems = facade_violations(&Tree::read(this_crate()));
    assert!(problems.is_empty(), "the facade:\n{}\n", problems.join("\n"));
}

#[test]
fn the_table_runs_one_way() {
    assert_eq!(table_problems(STAGES), Vec::<String>::new());
}

// ---------------------------------------------------------------------------
// The test of the test: small trees written to a temporary folder.

/// Two stages and the root, for the small trees.
const TOY: &[Stage] = &[("low", &[]), ("high", &["low"]), ("lib", &[EVERY])];

#[test]
fn an_upward_import_is_caught() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "pub mod low;\npub mod high;\npub use low::L as Top;\n"),
        ("src/low.rs", "pub struct L;\nuse crate::high::H;\nfn f() -> crate::Top { crate::Top }\n"),
        ("src/high.rs", "use crate::low::L;\npub struct H;\n"),
    ]);
    let tree = Tree::read(&tree.0);
    assert_eq!(
        layer_violations(&tree, TOY),
        [
            "src/low.rs:2 imports crate::high::H (stage low may not import high)",
            "src/low.rs:3 imports crate::Top (stage low may not import lib)",
        ]
    );
    assert_eq!(
        circles(&tree),
        [
            "circle among 3 files: src/high.rs, src/lib.rs, src/low.rs",
            "circle: src/high.rs -> src/low.rs -> src/high.rs\n    src/high.rs:1 imports crate::low::L\n    \
             src/low.rs:2 imports crate::high::H",
            "circle: src/lib.rs -> src/low.rs -> src/lib.rs\n    src/lib.rs:3 imports crate::low::L\n    \
             src/low.rs:3 imports crate::Top",
            "stage circle among 3 stages: high, lib, low",
            "stage circle: high -> low -> high\n    src/high.rs:1 imports crate::low::L\n    \
             src/low.rs:2 imports crate::high::H",
            "stage circle: lib -> low -> lib\n    src/lib.rs:3 imports crate::low::L\n    src/low.rs:3 imports crate::Top",
        ]
    );
}

#[test]
fn a_two_file_circle_through_super_is_caught() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "mod a;\n"),
        ("src/a/mod.rs", "mod b;\npub use b::B;\npub struct A;\n"),
        ("src/a/b.rs", "use super::A;\npub struct B;\n"),
    ]);
    let tree = Tree::read(&tree.0);
    assert_eq!(layer_violations(&tree, &[("a", &[]), ("lib", &[EVERY])]), Vec::<String>::new());
    assert_eq!(
        circles(&tree),
        ["circle: src/a/b.rs -> src/a/mod.rs -> src/a/b.rs\n    src/a/b.rs:1 imports crate::a::A\n    \
          src/a/mod.rs:2 imports crate::a::b::B"]
    );
}

#[test]
fn modules_declared_in_name_rs_files_resolve_and_super_climbs() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "mod c;\n"),
        ("src/c.rs", "mod d;\npub fn f() {}\nfn h() {\n    d::e::g()\n}\n"),
        ("src/c/d.rs", "pub mod e;\n"),
        ("src/c/d/e.rs", "pub fn g() {\n    super::super::f()\n}\n"),
    ]);
    assert_eq!(
        circles(&Tree::read(&tree.0)),
        ["circle: src/c.rs -> src/c/d/e.rs -> src/c.rs\n    src/c.rs:4 imports crate::c::d::e::g\n    \
          src/c/d/e.rs:2 imports crate::c::f"]
    );
}

#[test]
fn a_nested_use_group_is_read() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "pub mod low;\npub mod high;\n"),
        ("src/high/mod.rs", "pub mod deep;\n"),
        ("src/high/deep.rs", "pub struct Z;\n"),
        ("src/low.rs", "pub struct L;\nuse crate::{\n    low::L as Ell,\n    high::{deep::{self, Z}},\n};\n"),
    ]);
    assert_eq!(
        layer_violations(&Tree::read(&tree.0), TOY),
        ["src/low.rs:4 imports crate::high::deep (stage low may not import high)"]
    );
}

#[test]
fn comments_strings_and_test_code_do_not_count() {
    let low = r###"//! A doc link [crate::high::H] does not count.
/// Nor does [`crate::high::H`] here.
// use crate::high::H;
/* crate::high::H /* nested */ crate::high::H */
pub const S: &str = "crate::high::H \" crate::high::H";
pub const B: &[u8] = b"crate::high::H";
pub const R: &str = r#"crate::high::H " crate::high::H"#;
pub const Q: (char, &str) = ('"', "crate::high::H");
pub fn f<'a>(x: &'a str) -> &'a str { let _ = ('\'', '\"', "crate::high::H", b'"'); x }
#[cfg(test)]
mod tests {
    use crate::high::H;
    fn t() { let _ = crate::high::H; }
}
#[cfg(all(test, unix))]
mod more { use crate::high::H; }
#[cfg(test)]
use crate::high::H;
#[cfg(test)]
mod file_tests;
pub use crate::high::Real;
"###;
    let tree = Scratch::new(&[
        ("src/lib.rs", "pub mod low;\npub mod high;\n"),
        ("src/high.rs", "pub struct H;\npub struct Real;\n"),
        ("src/low.rs", low),
        ("src/low/file_tests.rs", "use crate::high::H;\n"),
    ]);
    // The one real import on the last line proves the rest was read.
    assert_eq!(
        layer_violations(&Tree::read(&tree.0), TOY),
        ["src/low.rs:21 imports crate::high::Real (stage low may not import high)"]
    );
}

#[test]
fn a_macro_naming_the_crate_counts_and_visibility_does_not() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "pub mod low;\npub mod high;\n"),
        ("src/high.rs", "pub struct H;\n"),
        ("src/low/mod.rs", "pub mod inner;\npub use inner::f;\nmacro_rules! h {\n    () => { $crate::high::H };\n}\n"),
        ("src/low/inner.rs", "pub(in crate::low) fn f() {}\npub(super) fn g() {}\n"),
    ]);
    let tree = Tree::read(&tree.0);
    assert_eq!(
        layer_violations(&tree, TOY),
        ["src/low/mod.rs:4 imports crate::high::H (stage low may not import high)"]
    );
    // `pub(in crate::low)` names no import: inner does not import low.
    assert_eq!(circles(&tree), Vec::<String>::new());
}

#[test]
fn the_binary_sees_only_the_facade() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "pub mod low;\npub mod high;\n"),
        ("src/low.rs", ""),
        ("src/high.rs", ""),
        ("src/main.rs", "mod cli;\nmod low;\nfn main() {\n    cli::run()\n}\n"),
        (
            "src/cli/mod.rs",
            "use narval::internals::Program;\nuse narval::RuleSet;\npub fn run() {\n    crate::high::f()\n}\n",
        ),
    ]);
    let tree = Tree::read(&tree.0);
    assert_eq!(
        layer_violations(&tree, TOY),
        [
            "src/cli/mod.rs:1 imports narval::internals::Program (the binary uses the library's facade, never its \
             internals)",
            "src/cli/mod.rs:4 imports crate::high (a library module: the binary reaches the library only as narval::)",
            "src/main.rs:2 declares `mod low` (a library module compiled into the binary: use narval::)",
        ]
    );
    assert_eq!(circles(&tree), Vec::<String>::new());
}

#[test]
fn a_circle_between_stages_is_caught_without_one_between_files() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "mod a;\nmod b;\n"),
        ("src/a.rs", "use crate::b::B;\n"),
        ("src/b/mod.rs", "mod c;\npub struct B;\n"),
        ("src/b/c.rs", "use crate::a::A;\n"),
    ]);
    assert_eq!(
        circles(&Tree::read(&tree.0)),
        ["stage circle: a -> b -> a\n    src/a.rs:1 imports crate::b::B\n    src/b/c.rs:1 imports crate::a::A"]
    );
}

#[test]
fn a_circle_of_three_is_named_with_its_pairs() {
    let tree = Scratch::new(&[
        ("src/lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("src/a.rs", "use crate::b::B;\npub struct A;\n"),
        ("src/b.rs", "use crate::c::C;\nuse crate::a::A;\npub struct B;\n"),
        ("src/c.rs", "use crate::a::A;\npub struct C;\n"),
    ]);
    let problems = circles(&Tree::read(&tree.0));
    assert_eq!(
        problems[..3],
        [
            "circle among 3 files: src/a.rs, src/b.rs, src/c.rs",
            "circle: src/a.rs -> src/b.rs -> src/a.rs\n    src/a.rs:1 imports crate::b::B\n    src/b.rs:2 imports crate::a::A",
            "circle: src/a.rs -> src/b.rs -> src/c.rs -> src/a.rs\n    src/a.rs:1 imports crate::b::B\n    \
             src/b.rs:1 imports crate::c::C\n    src/c.rs:1 imports crate::a::A",
        ]
    );
    assert_eq!(problems[3], "stage circle among 3 stages: a, b, c");
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

#[test]
fn a_module_moved_by_a_path_attribute_is_refused() {
    let tree = Scratch::new(&[("src/lib.rs", "mod low;\n#[path = \"high.rs\"]\nmod elsewhere;\n"), ("src/low.rs", "")]);
    assert_eq!(
        layer_violations(&Tree::read(&tree.0), TOY),
        ["src/lib.rs:2 moves a module with #[path] (this test finds a module's file by its place)"]
    );
}

#[test]
fn a_file_in_no_stage_is_named() {
    let tree = Scratch::new(&[("src/lib.rs", "mod low;\nmod stray;\n"), ("src/low.rs", ""), ("src/stray.rs", "")]);
    assert_eq!(
        layer_violations(&Tree::read(&tree.0), TOY),
        ["src/stray.rs is in no stage: add `stray` to STAGES in tests/layers.rs"]
    );
}

#[test]
fn a_tree_laid_out_as_the_table_says_passes() {
    // Every stage a folder (value a file) importing every stage it may.
    let mut files = vec![
        ("src/main.rs".to_string(), "mod cli;\nfn main() {\n    cli::run()\n}\n".to_string()),
        ("src/cli/mod.rs".to_string(), "mod assign;\nuse narval::RuleSet;\npub fn run() {}\n".to_string()),
        ("src/cli/assign.rs".to_string(), "use narval::{Builder, Report};\n".to_string()),
    ];
    let mut lib = String::new();
    for &(stage, allowed) in STAGES {
        if stage == "lib" {
            continue;
        }
        lib.push_str(&format!("mod {stage};\npub use {stage}::Item{stage};\n"));
        let mut text = format!("mod part;\npub use part::Item{stage};\n");
        for &below in allowed {
            text.push_str(&format!("use crate::{below}::Item{below};\n"));
        }
        let part = format!("pub struct Item{stage};\n");
        if stage == "value" {
            files.push(("src/value.rs".to_string(), text.replace("mod part;\npub use part::", "pub struct ")));
        } else {
            files.push((format!("src/{stage}/mod.rs"), text));
            files.push((format!("src/{stage}/part.rs"), part));
        }
    }
    files.push(("src/lib.rs".to_string(), lib));
    let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let tree = Scratch::new(&files);
    let tree = Tree::read(&tree.0);
    assert_eq!(layer_violations(&tree, STAGES), Vec::<String>::new());
    assert_eq!(circles(&tree), Vec::<String>::new());
    assert!(tree.imports.len() > STAGES.len() * 2, "the imports were read: {}", tree.imports.len());
}

#[test]
fn a_table_that_runs_both_ways_is_refused() {
    assert_eq!(
        table_problems(&[("a", &["b", "z"]), ("b", &["a"]), ("b", &[]), ("main", &[])]),
        [
            "stage a may import b, which is not listed before it",
            "stage a may import z, which is not a stage",
            "stage b is listed twice",
            "stage main is the binary's (BINARY), not a library stage",
        ]
    );
}

#[test]
fn the_facade_check_counts_and_refuses_public_modules() {
    let mut lib = String::from(
        "//! doc\n#![deny(missing_docs)]\npub mod syntax;\nmod eval;\n#[cfg(feature = \"internals\")]\n#[doc(hidden)]\n\
         pub mod internals;\npub mod internals_too;\npub(crate) use eval::Hidden;\npub use eval::{A, B as Bee};\n\
         pub use eval::*;\n/// A\npub struct S { pub x: u8 }\npub fn f() -> u8 { 1 }\n#[doc(hidden)]\npub fn g() {}\n\
         /// Grouped.\npub mod files {\n    pub use crate::eval::{R, T};\n}\npub mod mixed {\n    pub use crate::eval::M;\n    pub fn h() {}\n}\n",
    );
    for n in 0..35 {
        lib.push_str(&format!("pub const C{n}: u8 = 0;\n"));
    }
    let tree = Scratch::new(&[
        ("src/lib.rs", lib.as_str()),
        ("src/syntax.rs", ""),
        ("src/eval.rs", ""),
        (
            "src/main.rs",
            "fn main() {\n    narval::syntax::parse(narval::syntax::X);\n    narval::internals::x();\n    narval::f();\n    \
             narval::files::R;\n}\n",
        ),
    ]);
    let problems = facade_violations(&Tree::read(&tree.0));
    assert_eq!(
        problems[..6],
        [
            "src/lib.rs:3 declares `pub mod syntax` (a stage is public only behind #[cfg(feature = \"internals\")]; \
             a public module holds re-exports only)",
            "src/lib.rs:8 declares `pub mod internals_too` (a stage is public only behind #[cfg(feature = \
             \"internals\")]; a public module holds re-exports only)",
            "src/lib.rs:11 re-exports a glob (the facade's items must be countable)",
            "src/lib.rs:21 declares `pub mod mixed` (a stage is public only behind #[cfg(feature = \"internals\")]; \
             a public module holds re-exports only)",
            "src/lib.rs makes 44 items public, more than 40: syntax, internals_too, A, B, S, f, files::R, files::T, \
             mixed, C0, C1, C2, C3, C4, C5, C6, C7, C8, C9, C10, C11, C12, C13, C14, C15, C16, C17, C18, C19, C20, \
             C21, C22, C23, C24, C25, C26, C27, C28, C29, C30, C31, C32, C33, C34",
            "src/main.rs:2 imports narval::syntax::parse (the binary uses the facade: narval::syntax is a module)",
        ]
    );
    assert_eq!(problems.len(), 6, "{problems:#?}");
}

/// A tree of source files in a fresh temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(files: &[(&str, &str)]) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("narval-layers-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (path, text) in files {
            let path = dir.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// The checks.

/// The table's own faults: a stage that may import a later or unknown
/// stage, a stage listed twice, a binary module listed as a stage.
fn table_problems(stages: &[Stage]) -> Vec<String> {
    let mut problems = Vec::new();
    for (at, &(stage, allowed)) in stages.iter().enumerate() {
        if stages[..at].iter().any(|&(s, _)| s == stage) {
            problems.push(format!("stage {stage} is listed twice"));
        }
        if BINARY.contains(&stage) {
            problems.push(format!("stage {stage} is the binary's (BINARY), not a library stage"));
        }
        for &below in allowed {
            if below == EVERY || stages[..at].iter().any(|&(s, _)| s == below) {
                continue;
            }
            if stages.iter().any(|&(s, _)| s == below) {
                problems.push(format!("stage {stage} may import {below}, which is not listed before it"));
            } else {
                problems.push(format!("stage {stage} may import {below}, which is not a stage"));
            }
        }
    }
    problems
}

/// Imports against the stages, files in no stage, and the binary reaching
/// past the facade.
fn layer_violations(tree: &Tree, stages: &[Stage]) -> Vec<String> {
    let table: BTreeMap<&str, &[&str]> = stages.iter().copied().collect();
    let mut problems = Vec::new();
    for file in tree.files.iter().filter(|f| f.krate == Crate::Lib && !f.test_only) {
        if !table.contains_key(file.stage.as_str()) {
            problems.push(format!("{} is in no stage: add `{}` to STAGES in tests/layers.rs", file.path, file.stage));
        }
    }
    let mut seen = BTreeSet::new();
    for import in &tree.imports {
        let (from, to) = (&tree.files[import.from], &tree.files[import.to]);
        if from.krate != Crate::Lib || from.stage == to.stage || !seen.insert((import.from, import.line, import.to)) {
            continue;
        }
        let Some(allowed) = table.get(from.stage.as_str()) else { continue };
        if !allowed.contains(&EVERY) && !allowed.contains(&to.stage.as_str()) {
            problems.push(format!(
                "{}:{} imports {} (stage {} may not import {})",
                from.path, import.line, import.shown, from.stage, to.stage
            ));
        }
    }
    for reach in &tree.facade {
        if reach.path.first().map(String::as_str) == Some(INTERNALS) {
            problems.push(format!(
                "{}:{} imports narval::{} (the binary uses the library's facade, never its internals)",
                tree.files[reach.file].path,
                reach.line,
                reach.path.join("::")
            ));
        }
    }
    problems.extend(tree.reading.iter().cloned());
    problems.sort_by_key(|p| by_place(p));
    problems
}

/// Sorts messages by file, then by line as a number.
fn by_place(message: &str) -> (String, usize, String) {
    let place = message.split(' ').next().unwrap_or("");
    let (file, line) = place.split_once(':').unwrap_or((place, "0"));
    (file.to_string(), line.parse().unwrap_or(0), message.to_string())
}

/// Circles between files, then between stages. For every set of files
/// that reach each other (a strongly connected set), its members if more
/// than two, every pair that imports each other, and the shortest circle
/// through each member no pair covers; each step shown with the line of
/// one import that makes it.
fn circles(tree: &Tree) -> Vec<String> {
    let mut edges: BTreeMap<(usize, usize), &Import> = BTreeMap::new();
    for import in &tree.imports {
        edges.entry((import.from, import.to)).or_insert(import);
    }
    let files: Vec<&str> = tree.files.iter().map(|f| f.path.as_str()).collect();
    let mut problems = circles_in(tree, "circle", "files", &files, &edges);

    let stages: Vec<&str> = tree.files.iter().map(|f| f.stage.as_str()).collect::<BTreeSet<_>>().into_iter().collect();
    let stage = |file: usize| stages.iter().position(|s| *s == tree.files[file].stage).unwrap();
    let mut stage_edges: BTreeMap<(usize, usize), &Import> = BTreeMap::new();
    for (&(from, to), import) in &edges {
        if stage(from) != stage(to) {
            stage_edges.entry((stage(from), stage(to))).or_insert(import);
        }
    }
    problems.extend(circles_in(tree, "stage circle", "stages", &stages, &stage_edges));
    problems
}

/// The circles of one graph, its nodes named by `names`.
fn circles_in(
    tree: &Tree,
    kind: &str,
    plural: &str,
    names: &[&str],
    edges: &BTreeMap<(usize, usize), &Import>,
) -> Vec<String> {
    let mut next = vec![BTreeSet::new(); names.len()];
    for &(from, to) in edges.keys() {
        next[from].insert(to);
    }
    let component = components(&next);
    let mut members: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (node, &c) in component.iter().enumerate() {
        members.entry(c).or_default().push(node);
    }
    let cycles = cycles(&next, &component);
    let mut groups: Vec<&Vec<usize>> = members.values().filter(|m| m.len() > 1).collect();
    groups.sort();
    let mut problems = Vec::new();
    for group in groups {
        if group.len() > 2 {
            let list: Vec<&str> = group.iter().map(|&n| names[n]).collect();
            problems.push(format!("{kind} among {} {plural}: {}", group.len(), list.join(", ")));
        }
        for cycle in cycles.iter().filter(|c| component[c[0]] == component[group[0]]) {
            let mut text = format!("{kind}: ");
            for &n in cycle {
                text.push_str(&format!("{} -> ", names[n]));
            }
            text.push_str(names[cycle[0]]);
            for (at, &n) in cycle.iter().enumerate() {
                let import = edges[&(n, cycle[(at + 1) % cycle.len()])];
                text.push_str(&format!(
                    "\n    {}:{} imports {}",
                    tree.files[import.from].path, import.line, import.shown
                ));
            }
            problems.push(text);
        }
    }
    problems
}

/// The circles worth naming: every pair of nodes that import each other,
/// then the shortest circle through every other node that lies on one;
/// each starts at its smallest node.
fn cycles(next: &[BTreeSet<usize>], component: &[usize]) -> Vec<Vec<usize>> {
    let mut found = BTreeSet::new();
    let mut paired = BTreeSet::new();
    for (a, targets) in next.iter().enumerate() {
        for &b in targets {
            if a < b && next[b].contains(&a) {
                found.insert(vec![a, b]);
                paired.extend([a, b]);
            }
        }
    }
    for start in (0..next.len()).filter(|n| !paired.contains(n)) {
        // Breadth first from start, inside its component, back to start.
        let mut parent: BTreeMap<usize, usize> = BTreeMap::new();
        let mut queue = VecDeque::from([start]);
        let mut last = None;
        'search: while let Some(at) = queue.pop_front() {
            for &to in &next[at] {
                if component[to] != component[start] {
                    continue;
                }
                if to == start {
                    last = Some(at);
                    break 'search;
                }
                if let Entry::Vacant(slot) = parent.entry(to) {
                    slot.insert(at);
                    queue.push_back(to);
                }
            }
        }
        let Some(mut at) = last else { continue };
        let mut cycle = vec![at];
        while at != start {
            at = parent[&at];
            cycle.push(at);
        }
        cycle.reverse();
        let smallest = (0..cycle.len()).min_by_key(|&i| cycle[i]).unwrap();
        cycle.rotate_left(smallest);
        found.insert(cycle);
    }
    found.into_iter().collect()
}

/// Tarjan's strongly connected components: the component of every node.
fn components(next: &[BTreeSet<usize>]) -> Vec<usize> {
    struct State<'a> {
        next: &'a [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        component: Vec<usize>,
        components: usize,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.next[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                s.component[w] = s.components;
                if w == v {
                    break;
                }
            }
            s.components += 1;
        }
    }
    let n = next.len();
    let mut s = State {
        next,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        component: vec![0; n],
        components: 0,
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.component
}

/// The facade: with default features `src/lib.rs` declares no public module
/// but `internals` behind its feature, makes at most [`MAX_FACADE_ITEMS`]
/// items public, and the binary names no library module through
/// `narval::`.
fn facade_violations(tree: &Tree) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(lib) = tree.files.iter().find(|f| f.path == "src/lib.rs") else {
        return vec!["src/lib.rs is missing".to_string()];
    };
    let toks = &lib.tokens;
    let mut public = Vec::new();
    // Inline modules of re-exports only: part of the facade.
    let mut grouping = BTreeSet::new();
    let mut i = 0;
    while i < toks.len() {
        let mut attributes = Vec::new();
        while let Some((end, inner, _)) = attribute(toks, i) {
            if !inner {
                attributes.push(&toks[i..end]);
            }
            i = end;
        }
        if i >= toks.len() {
            break;
        }
        let (end, _) = item_end(toks, i);
        let item = &toks[i..end.max(i + 1)];
        let line = item[0].line;
        i = end.max(i + 1);
        let gated = attributes.iter().any(|a| has(a, &[word("cfg")]) && has_feature(a, INTERNALS));
        let hidden = gated || attributes.iter().any(|a| has(a, &[word("doc"), Tok::Punct('('), word("hidden")]));
        if !is_word(&item[0].tok, "pub") || matches!(item.get(1).map(|t| &t.tok), Some(Tok::Punct('('))) {
            continue;
        }
        match item.get(1).map(|t| &t.tok) {
            Some(Tok::Ident(w)) if w == "mod" => {
                let name = match item.get(2).map(|t| &t.tok) {
                    Some(Tok::Ident(name)) => name.clone(),
                    _ => continue,
                };
                // A stage is public only behind the feature; an inline
                // module of nothing but re-exports groups facade items,
                // each of which counts.
                let inline = item.iter().any(|t| t.tok == Tok::Punct('{'));
                let only_uses = inline && reexports_only(item);
                if gated {
                    continue;
                }
                if only_uses {
                    for (k, t) in item.iter().enumerate() {
                        if is_word(&t.tok, "pub") && item.get(k + 1).is_some_and(|u| is_word(&u.tok, "use")) {
                            let mut leaves = Vec::new();
                            use_tree(item, k + 2, Vec::new(), &mut leaves);
                            for (path, _) in leaves {
                                if let Some(leaf) = path.last() {
                                    public.push(format!("{name}::{leaf}"));
                                }
                            }
                        }
                    }
                    grouping.insert(name);
                    continue;
                }
                problems.push(format!(
                    "src/lib.rs:{line} declares `pub mod {name}` (a stage is public only behind \
                     #[cfg(feature = \"{INTERNALS}\")]; a public module holds re-exports only)"
                ));
                if !hidden {
                    public.push(name);
                }
            }
            Some(Tok::Ident(w)) if w == "use" => {
                let mut leaves = Vec::new();
                use_tree(item, 2, Vec::new(), &mut leaves);
                for (path, _) in leaves {
                    match path.last().map(String::as_str) {
                        Some("*") => problems.push(format!(
                            "src/lib.rs:{line} re-exports a glob (the facade's items must be countable)"
                        )),
                        Some(name) if !hidden => public.push(name.to_string()),
                        _ => {}
                    }
                }
            }
            _ => {
                let name = item.iter().skip(1).find_map(|t| match &t.tok {
                    Tok::Ident(w) if !KEYWORDS.contains(&w.as_str()) => Some(w.clone()),
                    _ => None,
                });
                if !hidden {
                    public.push(name.unwrap_or_else(|| "?".to_string()));
                }
            }
        }
    }
    if public.len() > MAX_FACADE_ITEMS {
        problems.push(format!(
            "src/lib.rs makes {} items public, more than {MAX_FACADE_ITEMS}: {}",
            public.len(),
            public.join(", ")
        ));
    }
    let mut seen = BTreeSet::new();
    for reach in &tree.facade {
        let Some(first) = reach.path.first() else { continue };
        if first != INTERNALS
            && !grouping.contains(first)
            && tree.modules.contains_key(&(Crate::Lib, vec![first.clone()]))
            && seen.insert((reach.file, reach.line, first))
        {
            problems.push(format!(
                "{}:{} imports narval::{} (the binary uses the facade: narval::{first} is a module)",
                tree.files[reach.file].path,
                reach.line,
                reach.path.join("::")
            ));
        }
    }
    problems
}

/// Whether an inline module's body holds nothing but `pub use` items (and
/// doc comments, which the lexer drops).
fn reexports_only(item: &[Token]) -> bool {
    let Some(open) = item.iter().position(|t| t.tok == Tok::Punct('{')) else { return false };
    let body = &item[open + 1..item.len().saturating_sub(1)];
    let mut k = 0;
    while k < body.len() {
        if !(is_word(&body[k].tok, "pub") && body.get(k + 1).is_some_and(|u| is_word(&u.tok, "use"))) {
            return false;
        }
        match body[k..].iter().position(|t| t.tok == Tok::Punct(';')) {
            Some(end) => k += end + 1,
            None => return false,
        }
    }
    true
}

/// Words that open an item before its name.
const KEYWORDS: &[&str] =
    &["pub", "const", "static", "fn", "struct", "enum", "union", "trait", "type", "unsafe", "async", "extern", "mut"];

fn has(toks: &[Token], seq: &[Tok]) -> bool {
    toks.windows(seq.len()).any(|w| w.iter().zip(seq).all(|(t, s)| t.tok == *s))
}

fn has_feature(toks: &[Token], feature: &str) -> bool {
    has(toks, &[word("feature"), Tok::Punct('='), Tok::Str(feature.to_string())])
}

// ---------------------------------------------------------------------------
// The tree: files, their module paths and stages, and the imports between
// them.

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Crate {
    Lib,
    Bin,
}

struct File {
    /// `src/eval/program.rs`.
    path: String,
    krate: Crate,
    /// `["eval", "program"]`; empty for `src/lib.rs` and `src/main.rs`.
    module: Vec<String>,
    /// The top-level module: `eval`, `lib` for `src/lib.rs`, `main` for
    /// `src/main.rs`.
    stage: String,
    /// Test code only: `#![cfg(test)]`, or declared by `#[cfg(test)] mod`.
    test_only: bool,
    tokens: Vec<Token>,
}

/// An import: a path in `from` that names something in `to`.
struct Import {
    from: usize,
    to: usize,
    line: usize,
    /// The path as `crate::...`, up to the module of `to` and one item.
    shown: String,
}

/// A `narval::...` path in the binary.
struct Reach {
    file: usize,
    line: usize,
    /// After `narval::`.
    path: Vec<String>,
}

struct Tree {
    files: Vec<File>,
    /// Module path to file, per crate.
    modules: BTreeMap<(Crate, Vec<String>), usize>,
    imports: Vec<Import>,
    facade: Vec<Reach>,
    /// Found while reading: the binary reaching the library through
    /// `crate::` or `mod`, a module moved by `#[path]`.
    reading: Vec<String>,
}

impl Tree {
    /// Reads `root/src/**/*.rs`.
    fn read(root: &Path) -> Tree {
        let src = root.join("src");
        let mut paths = Vec::new();
        walk(&src, &mut paths);
        paths.sort_by_key(|p| p.to_string_lossy().into_owned());
        let mut files = Vec::new();
        for path in paths {
            let parts: Vec<String> = path
                .strip_prefix(&src)
                .unwrap()
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let mut module = parts.clone();
            let last = module.pop().unwrap();
            let stem = last.strip_suffix(".rs").unwrap().to_string();
            if stem != "mod" {
                module.push(stem);
            }
            let stage = module.first().cloned().unwrap_or_default();
            let (krate, stage) = match (parts.len(), stage.as_str()) {
                (1, "lib") => (Crate::Lib, "lib".to_string()),
                (1, "main") => (Crate::Bin, "main".to_string()),
                _ if BINARY.contains(&stage.as_str()) => (Crate::Bin, stage),
                _ => (Crate::Lib, stage),
            };
            if parts.len() == 1 && (stage == "lib" || stage == "main") {
                module.clear();
            }
            let text = fs::read_to_string(&path).unwrap();
            files.push(File {
                path: format!("src/{}", parts.join("/")),
                krate,
                module,
                stage,
                test_only: false,
                tokens: lex(&text),
            });
        }
        let modules: BTreeMap<(Crate, Vec<String>), usize> =
            files.iter().enumerate().map(|(i, f)| ((f.krate, f.module.clone()), i)).collect();

        let scans: Vec<Scan> = files.iter().map(|f| scan(&f.tokens)).collect();
        // Child modules of every scope, and the modules only tests compile.
        let mut children: BTreeMap<(Crate, Vec<String>), BTreeSet<String>> = BTreeMap::new();
        let mut test_modules = BTreeSet::new();
        for (file, scan) in files.iter().zip(&scans) {
            for decl in &scan.decls {
                let scope = [file.module.clone(), decl.scope.clone()].concat();
                if decl.test_only {
                    test_modules.insert((file.krate, [scope.clone(), vec![decl.name.clone()]].concat()));
                }
                children.entry((file.krate, scope)).or_default().insert(decl.name.clone());
            }
        }
        for (file, scan) in files.iter_mut().zip(&scans) {
            file.test_only = scan.test_only
                || (0..=file.module.len()).any(|n| test_modules.contains(&(file.krate, file.module[..n].to_vec())));
        }

        let mut tree = Tree { files, modules, imports: Vec::new(), facade: Vec::new(), reading: Vec::new() };
        for (from, scan) in scans.iter().enumerate() {
            let file = &tree.files[from];
            if file.test_only {
                continue;
            }
            for line in &scan.moved {
                tree.reading.push(format!(
                    "{}:{line} moves a module with #[path] (this test finds a module's file by its place)",
                    file.path
                ));
            }
            if file.krate == Crate::Bin {
                for decl in scan.decls.iter().filter(|d| !d.test_only && file.module.is_empty() && d.scope.is_empty()) {
                    if tree.modules.contains_key(&(Crate::Lib, vec![decl.name.clone()])) {
                        tree.reading.push(format!(
                            "{}:{} declares `mod {}` (a library module compiled into the binary: use narval::)",
                            file.path, decl.line, decl.name
                        ));
                    }
                }
            }
            for written in &scan.paths {
                let scope = [file.module.clone(), written.scope.clone()].concat();
                let segments = &written.segments;
                let supers = segments.iter().take_while(|s| *s == "super").count();
                let absolute: Vec<String> = match segments[0].as_str() {
                    "crate" => segments[1..].to_vec(),
                    "self" => [scope.clone(), segments[1..].to_vec()].concat(),
                    "super" if supers <= scope.len() => {
                        [scope[..scope.len() - supers].to_vec(), segments[supers..].to_vec()].concat()
                    }
                    "narval" if file.krate == Crate::Bin => {
                        tree.facade.push(Reach { file: from, line: written.line, path: segments[1..].to_vec() });
                        continue;
                    }
                    name if children.get(&(file.krate, scope.clone())).is_some_and(|c| c.contains(name)) => {
                        [scope.clone(), segments.clone()].concat()
                    }
                    _ => continue,
                };
                let absolute: Vec<String> = absolute.into_iter().filter(|s| s != "self").collect();
                let Some((to, depth)) = (0..=absolute.len())
                    .rev()
                    .find_map(|n| tree.modules.get(&(file.krate, absolute[..n].to_vec())).map(|&to| (to, n)))
                else {
                    continue;
                };
                let shown = ["crate".to_string()]
                    .into_iter()
                    .chain(absolute.iter().take(depth + 1).cloned())
                    .collect::<Vec<_>>()
                    .join("::");
                if file.krate == Crate::Bin
                    && depth == 0
                    && !absolute.is_empty()
                    && tree.modules.contains_key(&(Crate::Lib, vec![absolute[0].clone()]))
                {
                    tree.reading.push(format!(
                        "{}:{} imports {shown} (a library module: the binary reaches the library only as narval::)",
                        file.path, written.line
                    ));
                    continue;
                }
                if to != from {
                    tree.imports.push(Import { from, to, line: written.line, shown });
                }
            }
        }
        tree
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

// ---------------------------------------------------------------------------
// Reading one file: tokens without comments or literal text, then its paths
// and module declarations.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    PathSep,
    Punct(char),
    /// A string literal's text, raw or not (escapes left as written).
    Str(String),
    /// A character, byte or number literal.
    Lit,
    Lifetime,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

fn word(w: &str) -> Tok {
    Tok::Ident(w.to_string())
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Ident(x) if x == w)
}

fn tok_at(toks: &[Token], i: usize) -> Option<&Tok> {
    toks.get(i).map(|t| &t.tok)
}

fn ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Rust tokens, enough to find paths: comments (nested block comments too)
/// are dropped; strings, raw strings and character literals become one
/// token each, so their text is never read as code (`b"..."` and `b'x'` are
/// the identifier `b` and a literal).
fn lex(text: &str) -> Vec<Token> {
    let c: Vec<char> = text.chars().collect();
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let mut out = Vec::new();
    let mut line = 1;
    let mut i = 0;
    // Skips a quoted string whose opening quote is at `i`; returns its text.
    let string = |i: &mut usize, line: &mut usize| {
        let start = *i + 1;
        *i += 1;
        while *i < c.len() && c[*i] != '"' {
            if c[*i] == '\\' {
                *i += 1;
            }
            if at(*i) == '\n' {
                *line += 1;
            }
            *i += 1;
        }
        let text: String = c[start.min(c.len())..(*i).min(c.len())].iter().collect();
        *i += 1;
        text
    };
    while i < c.len() {
        let ch = c[i];
        let start = line;
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ident_start(ch) {
            let s = i;
            while i < c.len() && ident_continue(c[i]) {
                i += 1;
            }
            let w: String = c[s..i].iter().collect();
            let mut hashes = 0;
            while at(i + hashes) == '#' {
                hashes += 1;
            }
            if matches!(w.as_str(), "r" | "br" | "cr") && at(i + hashes) == '"' {
                // A raw string: no escapes, ends at `"` and as many `#`.
                i += hashes + 1;
                let body = i;
                while i < c.len() && !(c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#')) {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
                let text: String = c[body..i.min(c.len())].iter().collect();
                i += hashes + 1;
                out.push(Token { tok: Tok::Str(text), line: start });
            } else if w == "r" && hashes == 1 && ident_start(at(i + 1)) {
                // A raw identifier, `r#type`.
                i += 1;
                let s = i;
                while i < c.len() && ident_continue(c[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Ident(c[s..i].iter().collect()), line: start });
            } else {
                out.push(Token { tok: Tok::Ident(w), line: start });
            }
        } else if ch.is_ascii_digit() {
            while i < c.len() && ident_continue(c[i]) {
                i += 1;
            }
            out.push(Token { tok: Tok::Lit, line: start });
        } else if ch == '"' {
            let text = string(&mut i, &mut line);
            out.push(Token { tok: Tok::Str(text), line: start });
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped character: '\n', '\'', '\u{1F600}'.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(Token { tok: Tok::Lit, line: start });
            } else if at(i + 2) == '\'' {
                // A character, `'"'` included.
                i += 3;
                out.push(Token { tok: Tok::Lit, line: start });
            } else {
                // A lifetime or a label: `'a`, `'static`, `'outer:`.
                i += 1;
                while i < c.len() && ident_continue(c[i]) {
                    i += 1;
                }
                out.push(Token { tok: Tok::Lifetime, line: start });
            }
        } else if ch == ':' && at(i + 1) == ':' {
            i += 2;
            out.push(Token { tok: Tok::PathSep, line: start });
        } else {
            i += 1;
            out.push(Token { tok: Tok::Punct(ch), line: start });
        }
    }
    out
}

/// What one file says about modules: the paths it writes and the modules
/// it declares.
#[derive(Default)]
struct Scan {
    paths: Vec<Written>,
    decls: Vec<Decl>,
    /// `#![cfg(test)]` at the top.
    test_only: bool,
    /// Lines of `#[path = ".."]` attributes.
    moved: Vec<usize>,
}

/// A path as written, split into segments (use groups expanded).
struct Written {
    segments: Vec<String>,
    line: usize,
    /// The inline modules it sits in, inside its file.
    scope: Vec<String>,
}

/// `mod name;` or `mod name { .. }`.
struct Decl {
    scope: Vec<String>,
    name: String,
    line: usize,
    test_only: bool,
}

fn scan(toks: &[Token]) -> Scan {
    let mut out = Scan::default();
    // One entry per open brace: the inline module it opens, if any.
    let mut braces: Vec<Option<String>> = Vec::new();
    let scope = |braces: &[Option<String>]| braces.iter().flatten().cloned().collect::<Vec<_>>();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i].tok;
        let line = toks[i].line;
        if let Some((end, inner, test)) = attribute(toks, i) {
            let body = &toks[(i + 2 + usize::from(inner)).min(end)..end];
            if body.len() > 1 && is_word(&body[0].tok, "path") && body[1].tok == Tok::Punct('=') {
                out.moved.push(line);
            }
            i = end;
            if !test {
                continue;
            }
            if inner {
                if braces.is_empty() {
                    out.test_only = true;
                    return out;
                }
                i = scope_end(toks, i);
                continue;
            }
            while let Some((end, _, _)) = attribute(toks, i) {
                i = end;
            }
            let (end, declared) = item_end(toks, i);
            if let Some(name) = declared {
                out.decls.push(Decl { scope: scope(&braces), name, line: toks[i].line, test_only: true });
            }
            i = end;
        } else if is_word(t, "mod") {
            if let Some(Tok::Ident(name)) = tok_at(toks, i + 1) {
                match tok_at(toks, i + 2) {
                    Some(Tok::Punct(';')) => {
                        out.decls.push(Decl { scope: scope(&braces), name: name.clone(), line, test_only: false });
                        i += 3;
                        continue;
                    }
                    Some(Tok::Punct('{')) => {
                        out.decls.push(Decl { scope: scope(&braces), name: name.clone(), line, test_only: false });
                        braces.push(Some(name.clone()));
                        i += 3;
                        continue;
                    }
                    _ => {}
                }
            }
            i += 1;
        } else if *t == Tok::Punct('{') {
            braces.push(None);
            i += 1;
        } else if *t == Tok::Punct('}') {
            braces.pop();
            i += 1;
        } else if is_word(t, "use") && tok_at(toks, i + 1) == Some(&Tok::Punct('{')) {
            let mut leaves = Vec::new();
            i = use_tree(toks, i + 1, Vec::new(), &mut leaves);
            let scope = scope(&braces);
            out.paths.extend(leaves.into_iter().map(|(segments, line)| Written {
                segments,
                line,
                scope: scope.clone(),
            }));
        } else if matches!(t, Tok::Ident(_)) && tok_at(toks, i + 1) == Some(&Tok::PathSep) && path_start(toks, i) {
            let mut leaves = Vec::new();
            i = use_tree(toks, i, Vec::new(), &mut leaves);
            let scope = scope(&braces);
            out.paths.extend(leaves.into_iter().map(|(segments, line)| Written {
                segments,
                line,
                scope: scope.clone(),
            }));
        } else {
            i += 1;
        }
    }
    out
}

/// Whether the identifier at `i` starts a path: it follows no `::`, and is
/// not the `crate` or `super` of a visibility `pub(in crate::a)`.
fn path_start(toks: &[Token], i: usize) -> bool {
    let before = |n: usize| i.checked_sub(n).and_then(|j| tok_at(toks, j));
    if before(1) == Some(&Tok::PathSep) {
        return false;
    }
    let visibility = before(1).is_some_and(|t| is_word(t, "in"))
        && before(2) == Some(&Tok::Punct('('))
        && before(3).is_some_and(|t| is_word(t, "pub"));
    !visibility
}

/// A path or a use tree from `i`: `a::b`, `a::{b, c::{d, self}}`,
/// `a::*`, `a as b`. Every leaf is pushed with the line of its last
/// segment; returns the index after the tree.
fn use_tree(toks: &[Token], mut i: usize, mut path: Vec<String>, out: &mut Vec<(Vec<String>, usize)>) -> usize {
    let mut line = toks.get(i).map_or(0, |t| t.line);
    loop {
        match tok_at(toks, i) {
            Some(Tok::Ident(w)) => {
                path.push(w.clone());
                line = toks[i].line;
                i += 1;
                if tok_at(toks, i) == Some(&Tok::PathSep) {
                    i += 1;
                    continue;
                }
                if tok_at(toks, i).is_some_and(|t| is_word(t, "as")) {
                    i += 2;
                }
                out.push((path, line));
                return i;
            }
            Some(Tok::Punct('*')) => {
                path.push("*".to_string());
                out.push((path, toks[i].line));
                return i + 1;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                loop {
                    match tok_at(toks, i) {
                        None => return i,
                        Some(Tok::Punct('}')) => return i + 1,
                        Some(Tok::Punct(',')) => i += 1,
                        Some(_) => {
                            let end = use_tree(toks, i, path.clone(), out);
                            i = if end == i { i + 1 } else { end };
                        }
                    }
                }
            }
            _ => {
                // After `::`, a turbofish or nothing: the path ends here.
                if !path.is_empty() {
                    out.push((path, line));
                }
                return i;
            }
        }
    }
}

/// The attribute at `i` (`#[..]` or `#![..]`): the index after it, whether
/// it is inner, and whether it is `cfg(test)` or `cfg(all(.., test, ..))`.
fn attribute(toks: &[Token], i: usize) -> Option<(usize, bool, bool)> {
    if tok_at(toks, i) != Some(&Tok::Punct('#')) {
        return None;
    }
    let inner = tok_at(toks, i + 1) == Some(&Tok::Punct('!'));
    let open = i + 1 + usize::from(inner);
    if tok_at(toks, open) != Some(&Tok::Punct('[')) {
        return None;
    }
    let close = matching(toks, open)?;
    let body = &toks[open + 1..close];
    let test = body.len() >= 3
        && is_word(&body[0].tok, "cfg")
        && body[1].tok == Tok::Punct('(')
        && body[body.len() - 1].tok == Tok::Punct(')')
        && test_only(&body[2..body.len() - 1]);
    Some((close + 1, inner, test))
}

/// Whether a cfg predicate holds only in test builds.
fn test_only(predicate: &[Token]) -> bool {
    if predicate.len() == 1 && is_word(&predicate[0].tok, "test") {
        return true;
    }
    if predicate.len() < 3
        || !is_word(&predicate[0].tok, "all")
        || predicate[1].tok != Tok::Punct('(')
        || predicate[predicate.len() - 1].tok != Tok::Punct(')')
    {
        return false;
    }
    let inner = &predicate[2..predicate.len() - 1];
    let mut depth = 0usize;
    let mut start = 0;
    let mut parts = Vec::new();
    for (k, t) in inner.iter().enumerate() {
        match t.tok {
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => depth = depth.saturating_sub(1),
            Tok::Punct(',') if depth == 0 => {
                parts.push(&inner[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts.into_iter().any(test_only)
}

/// The index of the bracket that closes the one at `open`.
fn matching(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0i64;
    for (k, t) in toks.iter().enumerate().skip(open) {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// The index of the `}` that closes the scope `i` is in.
fn scope_end(toks: &[Token], i: usize) -> usize {
    let mut depth = 0i64;
    for (k, t) in toks.iter().enumerate().skip(i) {
        match t.tok {
            Tok::Punct('{') => depth += 1,
            Tok::Punct('}') if depth == 0 => return k,
            Tok::Punct('}') => depth -= 1,
            _ => {}
        }
    }
    toks.len()
}

/// The end of the item starting at `i` (its attributes already passed),
/// and the name it declares if it is `mod name;`. An item ends at a `;`
/// outside brackets, or at the brace that closes its body (`use`, `const`,
/// `static`, `type` and `let` always end at their `;`).
fn item_end(toks: &[Token], i: usize) -> (usize, Option<String>) {
    let mut j = i;
    if tok_at(toks, j).is_some_and(|t| is_word(t, "pub")) {
        j += 1;
        if tok_at(toks, j) == Some(&Tok::Punct('(')) {
            j = matching(toks, j).map_or(toks.len(), |k| k + 1);
        }
    }
    if tok_at(toks, j).is_some_and(|t| is_word(t, "mod")) && tok_at(toks, j + 2) == Some(&Tok::Punct(';')) {
        if let Some(Tok::Ident(name)) = tok_at(toks, j + 1) {
            return (j + 3, Some(name.clone()));
        }
    }
    let to_semicolon =
        tok_at(toks, j).is_some_and(|t| ["use", "const", "static", "type", "let"].iter().any(|w| is_word(t, w)));
    let mut depth = 0i64;
    for (k, t) in toks.iter().enumerate().skip(j) {
        match t.tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']') => depth -= 1,
            Tok::Punct('}') => {
                depth -= 1;
                if depth < 0 {
                    return (k, None);
                }
                if depth == 0 && !to_semicolon {
                    return (k + 1, None);
                }
            }
            Tok::Punct(';') if depth == 0 => return (k + 1, None),
            _ => {}
        }
    }
    (toks.len(), None)
}
