//! The fuzz targets: what narval must survive, one function per target.
//!
//! Shared by the fuzzer (`fuzz/src/main.rs`) and by the regression test
//! (`tests/fuzz_regressions.rs`, through `#[path]`), so this file may use
//! only narval, std and serde_json. A target panics when narval panics or
//! when one of the properties below fails; otherwise it returns a signature
//! of what the input did (diagnostic codes, syntax node kinds, streams),
//! which the fuzzer uses to decide which inputs to keep.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use narval::decode::Reads;
use narval::eval::engine::Engine;
use narval::ir::StreamKind;
use narval::ir::{Schema, Type};
use narval::text::source::{FileId, Sources};
use narval::{Date, RuleSet};
use serde_json::{json, Map, Value};

/// Inputs larger than this are refused, not run.
pub const MAX_INPUT: usize = 1 << 20;

/// Where the rule files under test pretend to live. Nothing exists there, so
/// a relative import finds nothing on disk but the files given as sources.
const DIR: &str = "/narval-fuzz-sources";

const CAMPAIGN_SCHEMA: &str = include_str!("../../examples/campaign-2012/schema.narval");
const CAMPAIGN_RULES: &str = include_str!("../../examples/campaign-2012/campaign.narval");
const OPERATOR_RULES: &str = include_str!("../rules/operators.narval");
const INDEXED_RULES: &str = include_str!("../rules/indexed.narval");
const CAMPAIGN_PROFILE: &str = r#"{"id":3,"email":"p3@example.org","state":"OH","zip":"69455","precinct":"OH-045-0378","polling_place":"PP-OH-04515","age":53,"party":"ind","registered":false,"engagement":3,"volunteer":false,"scores":{"support":55.5,"turnout":58.8,"persuasion":86.8},"donations":[{"amount":250,"context":"rally","date":"2012-07-10"},{"amount":"2500.99","context":"debate","date":"2012-08-07"}],"issues":["jobs","healthcare"],"consent":{"email":true,"sms":true,"phone":true},"last_contact":"2012-09-28"}"#;

/// One thing to fuzz.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `syntax::parse` of any text, and the rendering of its diagnostics.
    Parse,
    /// The whole check and build of any rule file, then its rules run on
    /// profiles made from its own schema, and its test cases.
    Check,
    /// `format`: idempotent, and the tree of its output is the input's.
    Format,
    /// Any bytes as a profile line against the campaign schema.
    Decode,
    /// Profiles evaluated by the campaign rules and by a rule set using
    /// every operator; the indexed and plain evaluators must agree.
    Eval,
}

impl Target {
    /// Every target, in the order `all` runs them.
    pub const ALL: [Target; 5] = [Target::Parse, Target::Check, Target::Format, Target::Decode, Target::Eval];

    /// The target's name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Target::Parse => "parse",
            Target::Check => "check",
            Target::Format => "format",
            Target::Decode => "decode",
            Target::Eval => "eval",
        }
    }

    /// The target of a name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Whether its inputs are rule files (else they are JSON profiles).
    pub fn takes_rules(self) -> bool {
        matches!(self, Target::Parse | Target::Check | Target::Format)
    }

    /// Runs the target on one input; panics on a failure.
    pub fn run(self, data: &[u8]) -> u64 {
        if data.len() > MAX_INPUT {
            return 0;
        }
        let text = String::from_utf8_lossy(data);
        match self {
            Target::Parse => parse(&text),
            Target::Check => check(&text),
            Target::Format => format(&text),
            Target::Decode => decode(&text, data),
            Target::Eval => eval(&text),
        }
    }
}

/// Builds the fixed rule sets once, each with its run by every engine.
struct Fixed {
    campaign: Family,
    operators: Family,
    /// The campaign rules and rules as campaigns generate them, native in
    /// part: the interpreter walks their indexes and calls native code for
    /// the residuals of the rules it finds (every other one, the rest
    /// interpreted).
    indexed: Family,
}

/// A rule set as built, and the same rule set run by every engine, which
/// [`run_profile`] holds equal to it.
struct Family {
    rules: RuleSet,
    engines: Vec<(Engine, RuleSet)>,
}

impl Family {
    /// `rules` and its run by every engine of [`Engine::ALL`], or with
    /// `native_too` off only by the engines that generate no native code.
    fn of(rules: RuleSet, native_too: bool) -> Family {
        let engines = Engine::ALL
            .iter()
            .filter(|engine| native_too || !engine.runs_native_code())
            .map(|&engine| (engine, rules.with_engine(engine)))
            .collect();
        Family { rules, engines }
    }
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let build = |builder: narval::Builder| match builder.today(today()).build() {
            Ok(rules) => Family::of(rules, true),
            Err(report) => panic!("a fixed rule set of the fuzzer does not build:\n{}", report.render()),
        };
        Fixed {
            campaign: build(
                RuleSet::builder()
                    .source(format!("{DIR}/schema.narval"), CAMPAIGN_SCHEMA)
                    .source(format!("{DIR}/campaign.narval"), CAMPAIGN_RULES),
            ),
            operators: build(RuleSet::builder().source(format!("{DIR}/operators.narval"), OPERATOR_RULES)),
            indexed: build(
                RuleSet::builder()
                    .source(format!("{DIR}/schema.narval"), CAMPAIGN_SCHEMA)
                    .source(format!("{DIR}/campaign.narval"), CAMPAIGN_RULES)
                    .source(format!("{DIR}/indexed.narval"), INDEXED_RULES)
                    .engine(Engine::NativeInPart),
            ),
        }
    })
}

fn today() -> Date {
    Date::from_ymd(2012, 10, 1).unwrap_or(Date(0))
}

// ---- signatures ------------------------------------------------------------

/// A running FNV-1a hash of what an input did.
#[derive(Clone, Copy)]
struct Sig(u64);

impl Sig {
    fn new() -> Sig {
        Sig(0xcbf2_9ce4_8422_2325)
    }

    fn add(mut self, bytes: &[u8]) -> Sig {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = (self.0 ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        self
    }

    fn num(self, n: u64) -> Sig {
        self.add(&n.to_le_bytes())
    }
}

/// FNV-1a of some bytes, for file names.
pub fn hash(bytes: &[u8]) -> u64 {
    Sig::new().add(bytes).0
}

/// The kinds of node a syntax tree holds: the capitalised words of its
/// `Debug` text (variant and struct names), whatever the values.
fn node_kinds(debug: &str) -> Sig {
    let mut kinds = BTreeSet::new();
    let mut rest = debug;
    while let Some(start) = rest.find(|c: char| c.is_ascii_uppercase()) {
        let word = rest.get(start..).unwrap_or("");
        let end = word.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(word.len());
        kinds.insert(word.get(..end).unwrap_or(""));
        rest = word.get(end.max(1)..).unwrap_or("");
    }
    kinds.iter().fold(Sig::new(), |sig, kind| sig.add(kind.as_bytes()))
}

/// A diagnostic message without the input text it quotes after `found`.
fn message_kind(message: &str) -> &str {
    message.split(", found").next().unwrap_or(message)
}

// ---- parse -----------------------------------------------------------------

fn parse(text: &str) -> u64 {
    let (tree, diagnostics) = narval::syntax::parse(FileId(0), text);
    let mut sources = Sources::new();
    sources.add("fuzz.narval", text);
    let mut sig = Sig::new();
    for diagnostic in &diagnostics {
        let _ = diagnostic.render(&sources);
        let _ = diagnostic.located(&sources);
        sig = sig.add(diagnostic.code.as_str().as_bytes()).add(message_kind(&diagnostic.message).as_bytes());
    }
    if let Some(tree) = tree {
        sig = sig.add(b"tree").num(node_kinds(&format!("{tree:?}")).0);
    }
    sig.0
}

// ---- check -----------------------------------------------------------------

/// The builder for a fuzzed rule file: the file, the campaign schema when it
/// imports `schema.narval`, and a date for `today`.
fn builder(text: &str) -> narval::Builder {
    let mut builder = RuleSet::builder().today(today());
    if text.contains("\"schema.narval\"") {
        builder = builder.source(format!("{DIR}/schema.narval"), CAMPAIGN_SCHEMA);
    }
    builder.source(format!("{DIR}/fuzz.narval"), text)
}

fn check(text: &str) -> u64 {
    let report = builder(text).check();
    let _ = report.render();
    let _ = report.located();
    let mut sig = Sig::new();
    for diagnostic in report.diagnostics() {
        sig = sig.add(diagnostic.code.as_str().as_bytes());
    }
    let built = builder(text).build();
    assert_eq!(built.is_err(), report.has_errors(), "check and build disagree on whether there are errors");
    let rules = match built {
        Ok(rules) => rules,
        Err(report) => {
            let _ = report.render();
            return sig.0;
        }
    };
    let schema = &rules.checked().schema;
    let mut profiles = vec![CAMPAIGN_PROFILE.to_string(), "{}".to_string()];
    let seed = hash(text.as_bytes());
    for variant in 0..4 {
        profiles.push(sample_profile(schema, seed.wrapping_add(variant), variant).to_string());
    }
    // Not the native engines: generating code again for each would spend a
    // large rule file's time limit in Cranelift, and count its bytes in
    // the regression test's check of linear work. The `eval` target runs
    // them on its fixed rule sets.
    let family = Family::of(rules, false);
    for profile in &profiles {
        sig = sig.num(run_profile(&family, profile).0);
    }
    if let Ok(suite) = builder(text).build_tests() {
        let results = suite.run();
        let _ = suite.report(&results).render();
        sig = sig.add(b"tests").num(results.passed() as u64).num(results.failed() as u64);
    }
    sig.0
}

/// Decodes and evaluates one profile every way the library offers, and
/// checks that the ways agree.
fn run_profile(family: &Family, json: &str) -> Sig {
    let rules = &family.rules;
    let sig = Sig::new();
    let profile = match rules.decode_json(json) {
        Ok(profile) => profile,
        Err(error) => {
            assert!(rules.assign_json(json).is_err(), "decode_json refused a profile assign_json took");
            return sig.add(error_kind(&error.to_string()).as_bytes());
        }
    };
    // With the `jit` feature, `evaluate` ran native code: every engine (the
    // specialised interpreter, the plain evaluator, native code in part and
    // a rule to a function) must agree.
    let indexed = rules.evaluate(&profile);
    for (engine, by) in &family.engines {
        assert_eq!(indexed, by.evaluate(&profile), "the rule set as built and engine {engine:?} disagree on {json}");
    }
    let assignment = rules.assignment(&indexed);
    match rules.assign_json(json) {
        Ok(direct) => assert_eq!(direct, assignment, "assign_json disagrees with decode_json + evaluate"),
        Err(error) => panic!("assign_json refused a profile decode_json took: {error}"),
    }
    match rules.explain_json(json) {
        Ok(explanation) => {
            let explained: Vec<&str> = explanation.assigned().map(|s| s.stream.as_str()).collect();
            let assigned: Vec<&str> = assignment.solicitations.iter().chain(&assignment.issues).copied().collect();
            assert_eq!(explained, assigned, "explain disagrees with assign");
            let _ = explanation.render();
        }
        Err(error) => panic!("explain_json refused a profile decode_json took: {error}"),
    }
    let solicitations = rules.streams(StreamKind::Solicitation).count();
    assert!(assignment.solicitations.len() <= solicitations, "more solicitations than declared");
    indexed.iter().fold(sig.add(b"ok"), |sig, stream| sig.num(stream as u64))
}

/// A profile error without the field path's list indexes.
fn error_kind(message: &str) -> String {
    message.chars().filter(|c| !c.is_ascii_digit()).collect()
}

/// A profile for `schema`: every field of its type, with values from small
/// pools that include the extremes. `variant` 0 fills optional fields, 1
/// leaves them out, 2 nulls them, 3 mixes.
fn sample_profile(schema: &Schema, seed: u64, variant: u64) -> Value {
    let mut state = seed | 1;
    let mut next = move |n: usize| -> usize {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    sample_record(schema, 0, variant, 0, &mut next)
}

fn sample_record(
    schema: &Schema,
    record: usize,
    variant: u64,
    depth: usize,
    next: &mut impl FnMut(usize) -> usize,
) -> Value {
    let mut object = Map::new();
    let Some(fields) = schema.records.get(record) else { return Value::Object(object) };
    for (name, field) in &fields.fields {
        if field.optional {
            let skip = match variant {
                0 => false,
                1 | 2 => true,
                _ => next(2) == 0,
            };
            if skip {
                if variant == 2 {
                    object.insert(name.clone(), Value::Null);
                }
                continue;
            }
        }
        object.insert(name.clone(), sample_value(schema, &field.ty, variant, depth + 1, next));
    }
    Value::Object(object)
}

fn sample_value(
    schema: &Schema,
    ty: &Type,
    variant: u64,
    depth: usize,
    next: &mut impl FnMut(usize) -> usize,
) -> Value {
    fn pick(pool: &[Value], next: &mut impl FnMut(usize) -> usize) -> Value {
        pool.get(next(pool.len())).cloned().unwrap_or(Value::Null)
    }
    match ty {
        Type::Bool => json!(next(2) == 0),
        Type::Int | Type::Days => {
            pick(&[json!(0), json!(1), json!(40), json!(-7), json!(i64::MAX), json!(i64::MIN)], next)
        }
        Type::Number => pick(&[json!(0.0), json!(2.5), json!(99.5), json!(-1.5), json!(1e300), json!(40)], next),
        Type::Money => pick(
            &[json!(0), json!(250.5), json!("2500.99"), json!("-0.01"), json!("92233720368547758.07"), json!(1e15)],
            next,
        ),
        Type::String => pick(&[json!(""), json!("OH"), json!("jobs"), json!("Ada Lovelace"), json!("é→𝕏")], next),
        Type::Date => pick(
            &[json!("2012-10-01"), json!("2012-02-29"), json!("0001-01-01"), json!("9999-12-31"), json!("1970-01-01")],
            next,
        ),
        Type::Enum(id) => {
            let members = schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or(&[]);
            members.get(next(members.len())).map_or(Value::Null, |member| json!(member))
        }
        Type::List(item) => {
            let len = if depth > 8 { 0 } else { next(4) };
            Value::Array((0..len).map(|_| sample_value(schema, item, variant, depth + 1, next)).collect())
        }
        Type::Record(record) if depth <= 16 => sample_record(schema, *record, variant, depth, next),
        Type::Record(_) => Value::Object(Map::new()),
    }
}

// ---- format ----------------------------------------------------------------

fn format(text: &str) -> u64 {
    let (tree, _) = narval::syntax::parse(FileId(0), text);
    let formatted = match narval::format::format(text) {
        Ok(formatted) => formatted,
        Err(diagnostics) => {
            assert!(tree.is_none(), "format refused a file that parses: {:?}", diagnostics.first().map(|d| &d.message));
            return Sig::new().add(b"refused").0;
        }
    };
    let Some(tree) = tree else { panic!("format accepted a file that does not parse") };
    let (again, _) = narval::syntax::parse(FileId(0), &formatted);
    assert!(again.as_ref() == Some(&tree), "the formatted text parses to another tree:\n{formatted}");
    match narval::format::format(&formatted) {
        Ok(twice) => assert_eq!(twice, formatted, "formatting twice changes the text"),
        Err(_) => panic!("format refused its own output:\n{formatted}"),
    }
    Sig::new().add(b"formatted").num(node_kinds(&format!("{tree:?}")).0).0
}

// ---- decode ----------------------------------------------------------------

fn decode(text: &str, data: &[u8]) -> u64 {
    let family = &fixed().campaign;
    let rules = &family.rules;
    let mut sig = Sig::new();
    let read = rules.decode_json(text);
    match &read {
        Ok(_) => sig = sig.add(b"ok"),
        Err(error) => sig = sig.add(error_kind(&error.to_string()).as_bytes()),
    }
    // Every field checked: a profile refused for a field the rules never read
    // is still taken when only the fields they read are decoded.
    let full = narval::decode::from_json_str(&rules.checked().schema, text);
    if full.is_ok() {
        assert!(read.is_ok(), "a profile valid in every field is refused when only the fields read are decoded");
    }
    sig = sig.add(if full.is_ok() { b"full" } else { b"part" });
    // The scanner and serde alone decode every line alike: the same
    // profile and id, or the same error (compared as debug text, where
    // -0.0 is not 0.0).
    let schema = &rules.checked().schema;
    for slots in [vec![true; schema.records[0].fields.len()], rules.checked().profile_reads()] {
        let scanned = narval::decode::decode_line(schema, &Reads::of(schema, slots.clone()), text, Some("id"));
        let by_serde = narval::decode::decode_line(schema, &Reads::from_slots(slots), text, Some("id"));
        assert_eq!(format!("{scanned:?}"), format!("{by_serde:?}"), "the scanner and serde decode differently");
    }
    if let Ok((_, id)) = rules.decode_line(text, "id") {
        assert!(text.contains(id), "decode_line returned an id that is not in the line");
        sig = sig.add(b"id");
    }
    sig = sig.num(agree_on_line(rules, data));
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let _ = rules.assign_value(&value);
    }
    if read.is_ok() {
        sig = sig.num(run_profile(family, text).0);
    }
    sig.0
}

/// One line of input, as bytes, read the ways narval reads a profile:
/// `narval assign`'s (`decode_line_into` on the line's bytes, then
/// `evaluate`), `narval explain`'s (the same decoding, then
/// `explain_decoded`), and the library's `assign_json` and `explain_json`,
/// which ask for no id. They accept and reject alike, for the same reason,
/// and give the same streams.
fn agree_on_line(rules: &RuleSet, data: &[u8]) -> u64 {
    let line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut profile = narval::decode::Profile::default();
    let assigned =
        rules.decode_line_into(line, "id", &mut profile).map(|_| rules.assignment(&rules.evaluate(&profile)));
    let explained = rules.decode_line_into(line, "id", &mut profile).map(|_| {
        let explanation = rules.explain_decoded(&profile);
        let streams: Vec<String> = explanation.assigned().map(|s| s.stream.clone()).collect();
        streams
    });
    let streams = |a: &narval::Assignment<'_>| -> Vec<String> {
        a.solicitations.iter().chain(&a.issues).map(|s| s.to_string()).collect()
    };
    assert_eq!(
        assigned.as_ref().map(streams).map_err(Clone::clone),
        explained,
        "assign and explain read a line differently"
    );
    if let Ok(text) = std::str::from_utf8(line) {
        let by_json = rules.assign_json(text);
        let explained_json =
            rules.explain_json(text).map(|e| e.assigned().map(|s| s.stream.clone()).collect::<Vec<_>>());
        assert_eq!(
            by_json.as_ref().map(streams).map_err(Clone::clone),
            explained_json,
            "assign_json and explain_json disagree"
        );
        match &assigned {
            // Only an id is asked of a line that the library does not ask.
            Err(narval::ProfileError::MissingId { .. }) => {
                assert!(by_json.is_ok(), "assign_json refused a line assign refused only for its id: {by_json:?}")
            }
            _ => assert_eq!(assigned, by_json, "assign and assign_json read a line differently"),
        }
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            // A value is decoded as its text: when the text is taken, so is
            // the value (a duplicate key the value has lost aside).
            if let Ok(by_json) = &by_json {
                assert_eq!(rules.assign_value(&value).as_ref(), Ok(by_json), "assign_value and assign_json disagree");
            }
        }
    } else {
        assert!(matches!(assigned, Err(narval::ProfileError::NotUtf8 { .. } | narval::ProfileError::TooLong)));
    }
    hash(format!("{:?}", assigned.map(|a| streams(&a))).as_bytes())
}

// ---- eval ------------------------------------------------------------------

fn eval(text: &str) -> u64 {
    let fixed = fixed();
    let mut sig = Sig::new();
    for family in [&fixed.campaign, &fixed.operators, &fixed.indexed] {
        let rules = &family.rules;
        sig = sig.num(run_profile(family, text).0);
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            let by_value = rules.assign_value(&value);
            if let (Ok(by_value), Ok(by_text)) = (by_value, rules.assign_json(text)) {
                assert_eq!(by_value, by_text, "assign_value and assign_json disagree");
            }
        }
    }
    sig.0
}

// ---- large rule files ----------------------------------------------------------

/// Rule files with one construct repeated about `n` times, each of which
/// once took time quadratic (or worse) in `n`; the comment gives the time
/// it took then, in a release build. The fuzzer runs them at `n` = 16,000
/// with a time limit per byte; `tests/fuzz_regressions.rs` at a small `n`.
pub fn large_rule_files(n: usize) -> Vec<(&'static str, String)> {
    let names = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>().join(", ");
    let lines = |n: usize, line: &dyn Fn(usize) -> String| (0..n).map(line).collect::<String>();
    let streams = names("s", n);
    vec![
        // Each diagnostic showed its whole line, and counted its column from
        // the line start: 20,000 duplicates on one line, 23 s and 3 GB of text.
        (
            "duplicate streams on one line",
            format!("narval 1\nschema {{ a: int }}\nsolicitation streams s, {}\n", vec!["s"; n].join(", ")),
        ),
        // "did you mean" compared every unknown name with every field: 16 s for 4,000.
        (
            "misspelt fields",
            format!(
                "narval 1\nschema {{ {} }}\nsolicitation streams s\n{}",
                (0..n).map(|i| format!("field_number_{i}: int")).collect::<Vec<_>>().join(", "),
                lines(n, &|i| format!("r{i}: feld_number_{i} > 1 -> s\n"))
            ),
        ),
        // An enum's members were copied, compared and listed for each misspelt one.
        (
            "misspelt enum members",
            format!(
                "narval 1\nschema {{ p: one of {} }}\nsolicitation streams s\n{}",
                names("m", n),
                lines(n, &|i| format!("r{i}: p == \"x{i}\" -> s\n"))
            ),
        ),
        // Duplicate enum members were looked for in a list.
        ("a long enum", format!("narval 1\nschema {{ p: one of {} }}\n", names("m", n))),
        // A test's expectations were each compared with all those before: 3.3 s for 4,000.
        (
            "a test expecting many streams",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams {streams}\nr: a > 1 -> s0\n\
                 test \"t\" {{ given {{ a: 2 }} expect solicitations = [{streams}], {streams} }}\n"
            ),
        ),
        // Each `no solicitations` listed every stream again: 1.4 s and 500 MB for 8,000.
        (
            "suppressions of every stream",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams {streams}\nr: a > 1 -> {}\n",
                vec!["no solicitations"; n].join(", ")
            ),
        ),
        // W0004 walked into a definition at each use: 30 definitions, each using
        // the one before twice, took 2^30 walks (minutes).
        (
            "definitions using the one before twice",
            format!(
                "narval 1\nschema {{ o: optional int }}\nsolicitation streams s\nb0 = o > 0\n{}r: b30 -> s\n",
                lines(30, &|i| format!("b{} = b{i} and b{i}\n", i + 1))
            ),
        ),
        // A list definition is copied to each use: 4,000 uses of 4,000 items
        // took 2.8 s and 2.5 GB; over a million items is now E0005.
        (
            "a long list used by every rule",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams s\nbig = [{}]\n{}",
                (0..2 * n).map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                lines(n, &|i| format!("r{i}: a in big -> s\n"))
            ),
        ),
        // Each guard looked for its field's index among all before, and
        // explaining looked at every rule for every stream: 16,000 rules
        // took 1.2 s to build and 3.2 s to explain one profile.
        (
            "rules guarded on many fields",
            format!(
                "narval 1\nschema {{ flag: bool, {} }}\nsolicitation streams {streams}\n{}",
                (0..n).map(|i| format!("f{i}: int")).collect::<Vec<_>>().join(", "),
                lines(n, &|i| format!("r{i}: f{i} == 1 and flag -> s{i}\n"))
            ),
        ),
        // Buckets of one value and salt share a cache slot; the slot of each
        // was looked for among all before.
        (
            "buckets with many salts",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams s\n{}",
                lines(n, &|i| format!("r{i}: bucket(a, \"s{i}\") < 50 -> s\n"))
            ),
        ),
        // Explaining looked for each rule among the holdouts.
        (
            "many holdouts and requirements",
            format!(
                "narval 1\nschema {{ id: int, a: int }}\nsolicitation streams s, t\n{}{}",
                lines(n, &|i| format!("holdout h{i}: 0.01% -> no s\n")),
                lines(n, &|i| format!("require q{i}: a > {i} for t\n"))
            ),
        ),
        // Each path looked for a definition of its name in a list: 32,000
        // definitions reading unknown fields took 15 s (with their diagnostics).
        (
            "many definitions",
            format!(
                "narval 1\nschema {{ a: int }}\nsolicitation streams s\n{}{}",
                lines(n, &|i| format!("d{i} = a + x{i}\n")),
                lines(n, &|i| format!("r{i}: d{i} > 0 -> s\n"))
            ),
        ),
    ]
}
