//! Diagnostics: what every stage reports, rendered for people (like rustc)
//! and serialised for tools.
//!
//! A diagnostic names fields, rules and positions, never a person's data.

use std::fmt::Write as _;

use serde::Serialize;
use unicode_width::{UnicodeWidthChar as _, UnicodeWidthStr};

use crate::text::source::{Sources, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The rule set cannot be compiled.
    Error,
    /// The rule set compiles but probably does not say what its author meant.
    Warning,
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $sev:ident, $summary:literal; )*) => {
        /// Stable diagnostic codes. CI configurations and the language guide
        /// refer to them; a code is never reused for another meaning.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as written in diagnostics, e.g. `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The severity this code always has.
            pub fn severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }

            /// The variant name, e.g. `UnknownField`: a readable identifier
            /// for tools that list rules (SARIF's `name`).
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => stringify!($variant), )* }
            }

            /// What the code means, in one line: lowercase, no final period,
            /// e.g. `a field path not in the schema`.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }
        }
    };
}

codes! {
    /// Text that does not follow the grammar: `over_cap: total >= -> x`.
    Syntax = "E0001", Error, "text that does not follow the grammar";
    /// A version line this narval does not understand: `narval 2`.
    UnsupportedVersion = "E0002", Error, "a version this narval does not understand";
    /// An import that cannot be read: `import "missing.narval"`.
    ImportNotFound = "E0003", Error, "a rule file or import that cannot be read";
    /// A literal that is not a value: `2012-02-30`, `$1.234`, an `int` too large.
    InvalidLiteral = "E0004", Error, "a literal that is not a value";
    /// A rule file over a size limit, an expression with more than 256
    /// operators (`a > 1 and a > 1 and ...`), or list definitions standing
    /// for more than a million items in all, counting each use.
    TooLarge = "E0005", Error, "a rule file or an expression over a size limit";
    /// Text nested more than 64 deep, counting brackets, `list of` and
    /// prefix operators together: `schema { a: list of list of ... int }`,
    /// `((((... a > 1 ...))))`, `not not not ... a`.
    TooDeep = "E0006", Error, "text nested deeper than the limit of 64";
    /// A rule file that is not UTF-8 text: one saved as UTF-16 or Latin-1.
    NotUtf8 = "E0007", Error, "a file that is not UTF-8 text";
    /// A file named in a rule file outside the folders it may read:
    /// `import "../../../../etc/shadow"`.
    OutsideImportRoot = "E0008", Error, "an import or a file named in a rule file outside the import root";
    /// A field path not in the schema: `scores.suport`.
    UnknownField = "E0101", Error, "a field path not in the schema";
    /// An action naming an undeclared stream: `-> door_knok`.
    UnknownStream = "E0102", Error, "an action naming an undeclared stream";
    /// A stream used where its kind does not fit, or a stream name where a
    /// value is expected: `total >= door_knock`.
    WrongKindOfName = "E0103", Error, "a name of the wrong kind, such as a stream used as a value";
    /// A stream declared twice: `issue streams jobs, jobs`.
    DuplicateStream = "E0104", Error, "a stream declared twice";
    /// Two rules with one name.
    DuplicateRule = "E0105", Error, "two rules with the same name";
    /// Two definitions with one name, or a definition named like a field.
    DuplicateDefinition = "E0106", Error, "two definitions with the same name, or a definition named like a field";
    /// A schema field declared twice.
    DuplicateField = "E0107", Error, "a schema field declared twice";
    /// Definitions that refer to each other in a circle: `a = b + 1` and `b = a`.
    DefinitionCycle = "E0108", Error, "definitions that depend on each other in a circle";
    /// An enum value that is not a member: `party == "green"` when `party: one of dem, rep`.
    UnknownEnumValue = "E0109", Error, "a string that is not a member of the enum it is compared with";
    /// Streams of one kind declared in several files, so their priority is not defined.
    SplitStreamDeclaration = "E0110", Error, "streams of one kind declared in more than one file";
    /// A reserved word used as a stream name: `issue streams issues`.
    ReservedName = "E0111", Error, "a reserved word used as a stream name";
    /// An enum with the same member twice: `one of dem, dem`.
    DuplicateEnumMember = "E0112", Error, "an enum listing the same member twice";
    /// Definitions built on definitions more than 32 deep: `d1 = d0 + 1`, `d2 = d1 + 1`, ...
    DefinitionsTooDeep = "E0113", Error, "definitions built on other definitions more than 32 deep";
    /// A test starting from a profile that is not declared: `given supporter` without `profile supporter = ...`.
    UnknownProfile = "E0114", Error, "a test or profile starts from an undeclared profile";
    /// Two tests, or two profiles, with one name.
    DuplicateTest = "E0115", Error, "two tests, or two profiles, with one name";
    /// A test profile that does not fit the schema: `given { age: "forty" }`, or a required field left out.
    ProfileDoesNotFit = "E0116", Error, "a test profile that does not fit the schema";
    /// A test without `given` or `expect`, with two `given`s or two `today`s, or
    /// expecting a stream both assigned and not: `expect door_knock, no door_knock`.
    MalformedTest = "E0117", Error, "a test that cannot run or cannot pass as written";
    /// Profiles built on each other in a circle: `profile a = b with {..}` and
    /// `profile b = a`; or in a chain more than 32 deep.
    ProfileCycle = "E0118", Error, "profiles built on each other in a circle, or more than 32 deep";
    /// A requirement or holdout named like a rule, a requirement or a
    /// holdout: `require ask: consent.email for fundraising_email` beside a rule `ask`.
    DuplicateGuard = "E0120", Error, "a requirement or holdout with the name of a rule, requirement or holdout";
    /// A holdout share that is not above 0% and at most 100%, or has more
    /// than two decimals: `holdout h: 0.125% -> no solicitations`.
    HoldoutShare = "E0121", Error, "a holdout share that is not between 0.01% and 100% with at most two decimals";
    /// A holdout in a rule set whose schema has no `id` field of type `int`
    /// or `string`: `holdout h: 5% -> no solicitations` with `schema { age: int }`.
    NoProfileId = "E0122", Error, "a holdout without an `id` field of type `int` or `string` in the schema";
    /// Two caps for one kind of stream: `at most 3 solicitation streams`
    /// and `at most 2 solicitation streams`.
    DuplicateCap = "E0123", Error, "two caps for one kind of stream";
    /// Operands whose types do not fit the operator: `state == 3`.
    TypeMismatch = "E0201", Error, "operand types that do not fit the operator";
    /// `money` mixed with `number` (floating point) without a conversion: `sum(donations.amount) > scores.support`.
    MoneyWithNumber = "E0202", Error, "money mixed with a floating-point `number` without a conversion";
    /// An aggregate over something that is not a list: `sum(age)`.
    NotAList = "E0203", Error, "something used as a list that is not one";
    /// A rule condition that is not true or false: `age + 1 -> x`.
    NotACondition = "E0204", Error, "a rule condition that is not true or false";
    /// `it` outside an aggregate over a list of scalars.
    ItOutsideList = "E0205", Error, "`it` outside a `where` over a list of plain values";
    /// `today` is used but the caller gave no evaluation date.
    TodayNotSet = "E0206", Error, "the rules read `today`, but no evaluation date was given";
    /// `bucket(..)` of a value that is not an `int` or a `string`: `bucket(scores.support, "x")`.
    BucketOfWrongType = "E0207", Error, "`bucket` of a value that is not an `int` or a `string`";
    /// A test case whose expectations do not hold (`narval test`):
    /// `expect door_knock` when a rule suppresses it.
    TestFailed = "E0301", Error, "a test case whose expectations do not hold";
    /// A test case that cannot run (`narval test`): its profile file cannot be
    /// read or decoded, or the rules read `today` and the case has no date.
    TestCannotRun = "E0302", Error, "a test case that cannot run";
    /// A definition no rule or definition names: `unused = 3`.
    UnusedDefinition = "W0001", Warning, "a definition that no rule or definition names";
    /// A rule whose condition is always false or always unknown.
    NeverFires = "W0002", Warning, "a rule whose condition is always false or always unknown";
    /// A rule that assigns a stream and suppresses it too.
    AssignsAndSuppresses = "W0003", Warning, "a rule that assigns and suppresses the same stream";
    /// An assignment that reads an optional field without saying what missing means.
    UnhandledMissing = "W0004", Warning, "an optional field read without saying what missing means";
    /// A file without a version line.
    MissingVersion = "W0005", Warning, "a file without a version line";
    /// `has` or `is missing` on something that can never be missing: `has volunteer` when `volunteer` is required.
    NeverMissing = "W0006", Warning, "`has` or `is missing` on a value that can never be missing";
    /// A requirement whose condition is always true (it never suppresses),
    /// or always false or unknown (its streams are never sent): `require r: 1 > 2 for sms`.
    RequirementFolds = "W0007", Warning, "a requirement whose condition is always true, false or unknown";
    /// A cap no profile can reach: `at most 5 issue streams` with 3 issue streams declared.
    CapNeverBinds = "W0008", Warning, "a cap at or above the number of streams of its kind";
    /// A rule (or requirement) reads a field of a category a policy allows
    /// only under consent, without the consent as a condition it requires:
    /// `read political_opinion only if consent.political_opinion` and
    /// `r: party == "dem" -> door_knock`.
    UnguardedRead = "E0401", Error, "a field of a category read without the consent a policy requires";
    /// A rule reads a field of a category a policy never allows:
    /// `never read biometric` and `r: face_id == "x" -> flyer` with `face_id: string tagged biometric`.
    ForbiddenRead = "E0402", Error, "a field of a category a policy never allows";
    /// A rule reads a field outside a policy's allow-list:
    /// `only read polling_place, engagement` and `r: age >= 18 -> flyer`.
    NotAllowedRead = "E0403", Error, "a field outside the allow-list of a policy";
    /// A file given as a policy holds something else than policy declarations
    /// (`narval check --policy rules.narval`), or a rule file declares a
    /// policy: `policy p { never read health }` beside rules.
    NotAPolicyFile = "E0404", Error, "a policy file holding more than policies, or a policy declared among rules";
    /// Two policies in effect with one name: `policy gdpr { ... }` twice.
    DuplicatePolicy = "E0405", Error, "two policies in effect with the same name";
    /// An allow-list naming a field path the schema does not have: `only read polling_plac`.
    PolicyUnknownField = "E0406", Error, "an allow-list naming a field the schema does not have";
    /// A consent path that is not a `bool` field of the schema, for a category
    /// some field carries: `read health only if consent.helth`.
    PolicyBadConsent = "E0407", Error, "a consent path that is not a bool field of the schema";
    /// A construct `narval sql` cannot write in the dialect asked for so
    /// that the engine gives narval's answer: it refuses rather than write
    /// SQL that answers otherwise (docs/SQL.md lists them).
    NotInSql = "E0501", Error, "a construct the SQL back end cannot write in the dialect asked for";
    /// A category no field of the schema carries, close to one that some
    /// field does (a likely typo): `never read helth`.
    PolicyUnknownCategory = "W0010", Warning, "a policy category no field carries, close to one that a field does";
    /// A category a policy both lets rules read under a consent and never
    /// lets them read: `read health only if consent.health` and `never read health`.
    PolicyContradiction = "W0011", Warning, "a policy category read under a consent and also never read";
}

/// One finding about a rule set, located in its source.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// One line, lowercase, no final period; user text in backticks.
    pub message: String,
    /// Where the problem is, when it has a place.
    pub span: Option<Span>,
    /// Short text under the caret.
    pub label: Option<String>,
    /// Advice, on its own line.
    pub help: Option<String>,
    /// Further places that explain it, such as the definition through which
    /// a rule reads a field.
    pub notes: Vec<Note>,
}

/// A remark attached to a diagnostic, with its own place.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// One line, lowercase, no final period.
    pub message: String,
    /// Where it points, when it has a place.
    pub span: Option<Span>,
}

/// A note with its location resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocatedNote {
    /// The note.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
}

impl Diagnostic {
    /// A diagnostic with a code and message at a span.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, message: message.into(), span: Some(span), label: None, help: None, notes: Vec::new() }
    }

    /// A diagnostic that has no position (a missing file, say).
    pub fn unlocated(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, message: message.into(), span: None, label: None, help: None, notes: Vec::new() }
    }

    /// Adds the text under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a note pointing at another place.
    pub fn with_note(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.notes.push(Note { message: message.into(), span: Some(span) });
        self
    }

    /// Adds a help line when there is one.
    pub fn with_help_opt(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// The severity of the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }

    /// Resolves the span to lines and columns for output.
    pub fn located(&self, sources: &Sources) -> LocatedDiagnostic {
        let place = self.span.and_then(|span| locate(sources, span));
        LocatedDiagnostic {
            code: self.code.as_str(),
            severity: self.severity(),
            message: self.message.clone(),
            location: place,
            label: self.label.clone(),
            help: self.help.clone(),
            notes: self
                .notes
                .iter()
                .map(|n| LocatedNote { message: n.message.clone(), location: n.span.and_then(|s| locate(sources, s)) })
                .collect(),
        }
    }

    /// The notes as lines `= note: FILE:LINE:COL: message`.
    fn render_notes(&self, sources: &Sources, pad: &str, out: &mut String) {
        for note in &self.notes {
            match note.span.and_then(|s| locate(sources, s)) {
                Some(at) => {
                    let _ = writeln!(out, "{pad} = note: {}:{}:{}: {}", at.file, at.line, at.column, note.message);
                }
                None => {
                    let _ = writeln!(out, "{pad} = note: {}", note.message);
                }
            }
        }
    }

    /// Renders like rustc: a header, the location, the source line with a
    /// caret under the span, and the help line.
    pub fn render(&self, sources: &Sources) -> String {
        let mut out = String::new();
        let severity = match self.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{severity}[{}]: {}", self.code.as_str(), self.message);
        let Some((span, file)) = self.span.and_then(|s| sources.get(s.file).map(|f| (s, f))) else {
            self.render_notes(sources, "", &mut out);
            if let Some(help) = &self.help {
                let _ = writeln!(out, "  = help: {help}");
            }
            return out;
        };
        let (line, column) = file.line_col(span.start);
        let (end_line, _) = file.line_col(span.end);
        let gutter = line.to_string().len();
        let pad = " ".repeat(gutter);
        let _ = writeln!(out, "{pad}--> {}:{line}:{column}", file.name);
        if !file.is_narval() {
            // Any file may be named (`import "/etc/shadow"`): one that is not
            // a narval file is never quoted.
            self.render_notes(sources, &pad, &mut out);
            if let Some(help) = &self.help {
                let _ = writeln!(out, "{pad} = help: {help}");
            }
            return out;
        }
        let _ = writeln!(out, "{pad} |");
        let (line_start, text) = file.line_at(line);
        let length = file.chars_between(line_start, line_start + text.len());
        let start = floor_boundary(text, (span.start as usize).saturating_sub(line_start));
        let end = if end_line == line { (span.end as usize).saturating_sub(line_start) } else { text.len() };
        // A long line is cut to a window around the span, so that many
        // diagnostics on one long line do not repeat it whole.
        let (from, to) = if length <= MAX_LINE_SHOWN { (0, text.len()) } else { window(text, start) };
        let shown = text.get(from..to).unwrap_or("");
        let (left, right) = (if from > 0 { "..." } else { "" }, if to < text.len() { "..." } else { "" });
        let _ = writeln!(out, "{line} | {left}{shown}{right}");
        let caret_start = start.clamp(from, to);
        let caret_end = floor_boundary(text, end.clamp(caret_start, to));
        // Carets line up under what a terminal shows: wide characters (CJK,
        // emoji) take two columns, combining marks none.
        let width = text.get(caret_start..caret_end).map_or(0, UnicodeWidthStr::width).max(1);
        let before = text.get(from..caret_start).unwrap_or("");
        let indent: String = left
            .chars()
            .chain(before.chars())
            .flat_map(|c| {
                let (fill, count) = if c == '\t' { ('\t', 1) } else { (' ', c.width().unwrap_or(0)) };
                std::iter::repeat(fill).take(count)
            })
            .collect();
        let carets = "^".repeat(width);
        match &self.label {
            Some(label) => {
                let _ = writeln!(out, "{pad} | {indent}{carets} {label}");
            }
            None => {
                let _ = writeln!(out, "{pad} | {indent}{carets}");
            }
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "{pad} |");
            self.render_notes(sources, &pad, &mut out);
        }
        if let Some(help) = &self.help {
            // Notes and help share one block, as rustc shows them.
            if self.notes.is_empty() {
                let _ = writeln!(out, "{pad} |");
            }
            let _ = writeln!(out, "{pad} = help: {help}");
        }
        out
    }
}

/// The longest source line a rendered diagnostic shows whole, in characters.
const MAX_LINE_SHOWN: usize = 200;

/// Characters shown before the span on a line cut to a window.
const CONTEXT_SHOWN: usize = 40;

/// The byte range of `text` shown for a span starting at byte `start`: up to
/// [`CONTEXT_SHOWN`] characters before it, [`MAX_LINE_SHOWN`] in all.
fn window(text: &str, start: usize) -> (usize, usize) {
    let before = text.get(..start).unwrap_or("");
    let from = before.char_indices().rev().nth(CONTEXT_SHOWN - 1).map_or(0, |(i, _)| i);
    let rest = text.get(from..).unwrap_or("");
    let to = rest.char_indices().nth(MAX_LINE_SHOWN).map_or(text.len(), |(i, _)| from + i);
    (from, to)
}

/// The largest character boundary of `text` at or before `offset`.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The location of a span in its file.
fn locate(sources: &Sources, span: Span) -> Option<Location> {
    let file = sources.get(span.file)?;
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    Some(Location { file: file.name.clone(), line, column, end_line, end_column })
}

/// A place in a named file, one-based.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file name as given.
    pub file: String,
    /// Line of the start.
    pub line: usize,
    /// Column of the start, in characters.
    pub column: usize,
    /// Line of the end.
    pub end_line: usize,
    /// Column one past the end.
    pub end_column: usize,
}

/// A diagnostic with its location resolved: the form tools read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LocatedDiagnostic {
    /// Stable code, e.g. `E0101`.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The message.
    pub message: String,
    /// Where, when known.
    pub location: Option<Location>,
    /// Text under the caret.
    pub label: Option<String>,
    /// Advice.
    pub help: Option<String>,
    /// Further places that explain it; left out of JSON when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<LocatedNote>,
}

/// Sorts diagnostics by file and position, errors before warnings at one
/// place, and drops exact repeats.
pub fn sort(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| (d.span.map(|s| (s.file, s.start, s.end)), d.severity(), d.code);
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
    diagnostics.dedup();
}

/// Suggests the candidate closest to `name`, if one is close enough to be a
/// likely typo ("did you mean `scores.support`?").
#[cfg(test)]
fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    Suggester::default().did_you_mean(name, candidates)
}

/// The work, in characters read and compared, that the suggestions of one
/// check may take. A suggestion compares a name with every candidate, so
/// thousands of unknown names in a schema of thousands of fields would take
/// time quadratic in the size of the file; once the budget is spent, unknown
/// names get no suggestion. A real rule file uses a tiny part of it.
pub const SUGGESTION_BUDGET: u64 = 10_000_000;

/// Names longer than this, in characters, get no suggestion.
const MAX_SUGGESTED_NAME: usize = 64;

/// Makes "did you mean" suggestions within [`SUGGESTION_BUDGET`].
#[derive(Clone, Debug)]
pub struct Suggester {
    left: u64,
}

impl Default for Suggester {
    fn default() -> Suggester {
        Suggester { left: SUGGESTION_BUDGET }
    }
}

impl Suggester {
    /// Whether the budget is spent: then gathering candidates is wasted work.
    pub fn exhausted(&self) -> bool {
        self.left == 0
    }

    /// Takes `cost` from the budget, or empties it and says no.
    fn spend(&mut self, cost: u64) -> bool {
        match self.left.checked_sub(cost) {
            Some(left) => {
                self.left = left;
                true
            }
            None => {
                self.left = 0;
                false
            }
        }
    }

    /// The candidate closest to `name` within a third of its length in
    /// edits (ties broken alphabetically), as a suggestion.
    pub fn did_you_mean<'a>(&mut self, name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
        let chars: Vec<char> = name.chars().take(MAX_SUGGESTED_NAME + 1).collect();
        if chars.len() > MAX_SUGGESTED_NAME || self.exhausted() {
            return None;
        }
        let limit = (chars.len() / 3).max(1);
        let mut best: Option<(usize, &str)> = None;
        // One buffer for every candidate and one row for every distance:
        // thousands of comparisons allocate nothing each.
        let (mut other, mut row) = (Vec::new(), Vec::new());
        for candidate in candidates {
            if !self.spend(1 + candidate.len() as u64) {
                return None;
            }
            if candidate == name {
                continue;
            }
            other.clear();
            other.extend(candidate.chars());
            // The distance is at least the difference in length.
            if other.len().abs_diff(chars.len()) > limit {
                continue;
            }
            if !self.spend((chars.len() * other.len()) as u64) {
                return None;
            }
            let distance = edit_distance(&chars, &other, &mut row);
            if distance <= limit && best.map_or(true, |b| (distance, candidate) < b) {
                best = Some((distance, candidate));
            }
        }
        best.map(|(_, c)| format!("did you mean `{c}`?"))
    }
}

/// Levenshtein distance over characters, in `row` (reused between calls).
fn edit_distance(a: &[char], b: &[char], row: &mut Vec<usize>) -> usize {
    row.clear();
    row.extend(0..=b.len());
    for (i, ca) in a.iter().enumerate() {
        let mut diagonal = i;
        let mut previous = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row.get(j + 1).copied().unwrap_or(usize::MAX);
            let cost = if ca == cb { diagonal } else { diagonal + 1 };
            let value = cost.min(above + 1).min(previous + 1);
            diagonal = above;
            if let Some(slot) = row.get_mut(j) {
                *slot = previous;
            }
            previous = value;
        }
        if let Some(last) = row.get_mut(b.len()) {
            *last = previous;
        }
    }
    row.get(b.len()).copied().unwrap_or(usize::MAX)
}

/// At most this many members are listed in a message about an enum.
pub const MAX_LISTED: usize = 12;

/// Names as `` `a`, `b`, `c` ``, the first [`MAX_LISTED`] of them, then how
/// many more there are: a message stays short whatever the schema.
pub fn list_names<'a>(names: impl ExactSizeIterator<Item = &'a str>) -> String {
    let total = names.len();
    let mut listed: Vec<String> = names.take(MAX_LISTED).map(|n| format!("`{n}`")).collect();
    if total > MAX_LISTED {
        listed.push(format!("and {} more", total - MAX_LISTED));
    }
    listed.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_single_edits() {
        let distance = |a: &str, b: &str| {
            edit_distance(&a.chars().collect::<Vec<_>>(), &b.chars().collect::<Vec<_>>(), &mut Vec::new())
        };
        assert_eq!(distance("support", "suport"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
    }

    /// Found by reading the checker after the fuzzer's `check` target: 4,000
    /// misspelt fields in a schema of 4,000 took 16 s to suggest names for.
    #[test]
    fn suggestions_stop_when_their_budget_is_spent() {
        let candidates: Vec<String> = (0..1000).map(|i| format!("field_number_{i}")).collect();
        let mut suggester = Suggester::default();
        let mut made = 0;
        for i in 0..2000 {
            let name = format!("feld_number_{i}");
            if suggester.did_you_mean(&name, candidates.iter().map(String::as_str)).is_some() {
                made += 1;
            }
        }
        assert!(suggester.exhausted());
        // Each suggestion compares 1,000 candidates of about 15 characters
        // with a name of about 14: some 40 fit in the budget.
        assert!((30..50).contains(&made), "{made} suggestions");
        // A long name gets none, whatever the candidates.
        let long = "x".repeat(MAX_SUGGESTED_NAME + 1);
        assert_eq!(did_you_mean(&long, [format!("{long}y").as_str()]), None);
    }

    #[test]
    fn long_lists_of_names_are_cut() {
        let names: Vec<String> = (0..20).map(|i| format!("m{i}")).collect();
        let listed = list_names(names.iter().map(String::as_str));
        assert!(listed.starts_with("`m0`, `m1`, ") && listed.ends_with("`m11`, and 8 more"), "{listed}");
        assert_eq!(list_names(["a", "b"].into_iter()), "`a`, `b`");
    }

    #[test]
    fn codes_have_distinct_names_and_one_line_summaries() {
        assert_eq!(Code::UnknownField.name(), "UnknownField");
        assert_eq!(Code::UnknownField.summary(), "a field path not in the schema");
        let mut names = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(names.insert(code.name()), "{} named twice", code.name());
            let summary = code.summary();
            assert!(summary.starts_with(|c: char| c.is_lowercase() || c == '`'), "{}: {summary}", code.as_str());
            assert!(!summary.ends_with('.') && !summary.contains('\n'), "{}: {summary}", code.as_str());
        }
    }

    /// Found by the fuzzer: 20,000 duplicate streams on one 100 kB line
    /// rendered as 3 GB, each diagnostic repeating the whole line.
    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_span() {
        let line = format!("{}needle{}", "a, ".repeat(1000), ", b".repeat(1000));
        let mut sources = Sources::new();
        let file = sources.add("long.narval", format!("narval 1\n{line}\n"));
        let at = "narval 1\n".len() + 3000;
        let diagnostic = Diagnostic::new(Code::Syntax, Span::new(file, at, at + 6), "here").with_label("this");
        let rendered = diagnostic.render(&sources);
        assert!(rendered.len() < 600, "{rendered}");
        assert!(rendered.contains("--> long.narval:2:3001"), "{rendered}");
        let lines: Vec<&str> = rendered.lines().collect();
        let shown = lines.get(3).copied().unwrap_or("");
        let carets = lines.get(4).copied().unwrap_or("");
        assert!(shown.starts_with("2 | ... a, a, ") && shown.ends_with(", b,..."), "{shown}");
        assert!(shown.contains("needle"), "{shown}");
        assert_eq!(carets.find('^'), shown.find("needle"), "{rendered}");
        assert!(carets.ends_with(" ^^^^^^ this"), "{carets}");
    }

    #[test]
    fn carets_line_up_under_wide_characters() {
        let mut sources = Sources::new();
        // A version line: only a narval file is quoted.
        let text = "narval 1\nr: name == \"\u{65e5}\u{672c}\u{1f389}\" and nam == \"e\u{301}\" -> a\n";
        let file = sources.add("w.narval", text);
        let at = text.find("nam ").unwrap_or(0);
        let rendered = Diagnostic::new(Code::UnknownField, Span::new(file, at, at + 3), "unknown").render(&sources);
        let lines: Vec<&str> = rendered.lines().collect();
        let carets = lines.get(4).copied().unwrap_or("");
        // `r: name == "` is 12 columns, the three wide characters 6, `" and ` 6.
        assert_eq!(carets, format!("  | {}^^^", " ".repeat(24)), "{rendered}");
        // A combining accent takes no column: `e\u{301}` is one column wide.
        let at = text.find("e\u{301}").unwrap_or(0);
        let rendered = Diagnostic::new(Code::UnknownField, Span::new(file, at, at + 3), "x").render(&sources);
        let carets = rendered.lines().nth(4).unwrap_or("").to_string();
        assert_eq!(carets, format!("  | {}^", " ".repeat(32)), "{rendered}");
    }

    #[test]
    fn a_short_line_is_shown_whole() {
        let mut sources = Sources::new();
        let file = sources.add("t.narval", "narval 1\nr: \u{e9}\u{e9} > 1 -> s\n");
        let start = "narval 1\nr: ".len();
        let diagnostic = Diagnostic::new(Code::Syntax, Span::new(file, start, start + 4), "here");
        let rendered = diagnostic.render(&sources);
        assert!(rendered.contains("2 | r: \u{e9}\u{e9} > 1 -> s\n  |    ^^\n"), "{rendered}");
    }

    #[test]
    fn suggestions_only_when_close() {
        assert_eq!(
            did_you_mean("scores.suport", ["scores.support", "scores.turnout"]).as_deref(),
            Some("did you mean `scores.support`?")
        );
        assert_eq!(did_you_mean("zzz", ["scores.support"]), None);
    }
}
