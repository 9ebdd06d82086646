//! A program evaluated on one decoded profile.
//!
//! Values are three-valued: [`Val::Unknown`] stands for missing data and for
//! results that do not exist (division by zero, overflow, `min` of nothing).
//! `and`/`or`/`not` follow Kleene's logic. A rule's assignments take effect
//! when its condition is true; its suppressions when it is true or unknown
//! (fail closed). A suppression beats every assignment.

use std::cmp::Ordering;

use crate::decode::{Profile, Value};
use crate::eval::dispatch::RangeIndex;
use crate::eval::node::{Aggregate, ConstSet, Node, NodeId, Scalar};
use crate::eval::program::Program;
use crate::ir::AggregateFn;
use crate::ir::{ArithOp, Base, CmpOp, TextOp};
use crate::value::Date;

/// A value during evaluation; borrows strings and lists from the profile or
/// the program, so evaluating allocates nothing per value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Val<'a> {
    /// Missing, or no result.
    Unknown,
    /// `bool`
    Bool(bool),
    /// `int` and numbers of days.
    Int(i64),
    /// `number`
    Number(f64),
    /// `money` in cents.
    Money(i64),
    /// `date`
    Date(Date),
    /// Enum member.
    Enum(u32),
    /// `string`
    Str(&'a str),
    /// A list.
    List(&'a [Value]),
    /// A record.
    Record(&'a [Value]),
}

impl<'a> Val<'a> {
    #[inline(always)]
    pub(crate) fn of(value: &'a Value, profile: &'a Profile) -> Val<'a> {
        match value {
            Value::Missing => Val::Unknown,
            Value::Bool(b) => Val::Bool(*b),
            Value::Int(i) => Val::Int(*i),
            Value::Number(n) => Val::Number(*n),
            Value::Money(m) => Val::Money(*m),
            Value::String(s) => Val::Str(profile.text(*s)),
            Value::Date(d) => Val::Date(*d),
            Value::Enum(e) => Val::Enum(*e),
            Value::List(items) => Val::List(profile.items(*items)),
            Value::Record(fields) => Val::Record(profile.items(*fields)),
        }
    }

    #[inline]
    pub(crate) fn of_scalar(scalar: &'a Scalar) -> Val<'a> {
        match scalar {
            Scalar::Unknown => Val::Unknown,
            Scalar::Bool(b) => Val::Bool(*b),
            Scalar::Int(i) => Val::Int(*i),
            Scalar::Number(n) => Val::Number(*n),
            Scalar::Money(m) => Val::Money(*m),
            Scalar::Date(d) => Val::Date(*d),
            Scalar::Enum(e) => Val::Enum(*e),
            Scalar::Str(s) => Val::Str(s),
        }
    }

    /// Three-valued truth: `Some(true)`, `Some(false)` or `None` (unknown).
    pub fn truth(self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub(crate) fn from_truth(truth: Option<bool>) -> Val<'a> {
        truth.map_or(Val::Unknown, Val::Bool)
    }

    fn number(n: f64) -> Val<'a> {
        if n.is_finite() {
            Val::Number(n)
        } else {
            Val::Unknown
        }
    }
}

/// Per-profile scratch: cached definition values and the elements of the
/// aggregates being evaluated. Small rule sets keep both inline, so a
/// profile is evaluated without touching the heap.
pub struct Cx<'a> {
    pub(crate) definitions: Inline<Option<Val<'a>>>,
    /// Truths of the shared leaves ([`crate::eval::specialise::Tests::shared`]).
    pub(crate) shared: Inline<Option<Option<bool>>>,
    /// Whether aggregates run their filters' specialised tests; the plain
    /// path ([`Program::assign_plain`]) runs the general evaluator only.
    specialised: bool,
    aggregates: Inline<Option<Val<'a>>>,
    /// Lists hashed for [`Node::InHashedList`]; empty (no allocation) for
    /// rule sets without one.
    lists: Vec<Option<Hashed<'a>>>,
    /// Buckets computed, by [`Node::Bucket`] slot.
    buckets: Inline<Option<f64>>,
    pub(crate) elements: Stack<'a>,
    /// With [`Program::deep_definitions`]: the definitions below this id
    /// have been computed, in id order.
    prefetched: u32,
}

/// The members of a list, hashed.
#[derive(Default)]
struct Hashed<'a> {
    /// `None`: the list itself is unknown.
    known: bool,
    empty: bool,
    strings: std::collections::HashSet<&'a str>,
    integers: std::collections::HashSet<i64>,
    /// Numbers by their bits, `-0.0` read as `0.0` (they compare equal).
    numbers: std::collections::HashSet<u64>,
}

fn number_bits(n: f64) -> u64 {
    if n == 0.0 {
        0
    } else {
        n.to_bits()
    }
}

impl<'a> Hashed<'a> {
    fn of(list: Val<'a>, profile: &'a Profile) -> Hashed<'a> {
        let Val::List(items) = list else { return Hashed::default() };
        let mut hashed = Hashed { known: true, empty: items.is_empty(), ..Hashed::default() };
        for item in items.iter() {
            match Val::of(item, profile) {
                Val::Str(s) => {
                    hashed.strings.insert(s);
                }
                Val::Number(n) => {
                    hashed.numbers.insert(number_bits(n));
                }
                other => {
                    if let Some(i) = integer_key(other) {
                        hashed.integers.insert(i);
                    }
                }
            }
        }
        hashed
    }

    /// The same answer as [`Node::InList`] on the list.
    fn holds(&self, value: Val<'_>) -> Val<'static> {
        if !self.known {
            return Val::Unknown;
        }
        if value == Val::Unknown {
            return if self.empty { Val::Bool(false) } else { Val::Unknown };
        }
        Val::Bool(match value {
            Val::Str(s) => self.strings.contains(s),
            Val::Number(n) => self.numbers.contains(&number_bits(n)),
            other => integer_key(other).is_some_and(|i| self.integers.contains(&i)),
        })
    }
}

impl<'a> Cx<'a> {
    /// Scratch for one profile.
    pub fn new(program: &Program) -> Cx<'a> {
        Cx {
            definitions: Inline::new(program.definitions.len(), None),
            shared: Inline::new(program.tests.shared.len(), None),
            specialised: true,
            aggregates: Inline::new(program.cached_aggregates as usize, None),
            lists: (0..program.hashed_lists).map(|_| None).collect(),
            buckets: Inline::new(program.cached_buckets as usize, None),
            elements: Stack::default(),
            prefetched: 0,
        }
    }
}

/// How many values are kept inline before spilling to the heap.
const INLINE: usize = 16;

/// A fixed number of values, inline when they are few.
pub(crate) enum Inline<T> {
    Small([T; INLINE]),
    Large(Vec<T>),
}

impl<T: Copy> Inline<T> {
    fn new(len: usize, fill: T) -> Inline<T> {
        if len <= INLINE {
            Inline::Small([fill; INLINE])
        } else {
            Inline::Large(vec![fill; len])
        }
    }

    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        match self {
            Inline::Small(values) => values.get(index),
            Inline::Large(values) => values.get(index),
        }
    }

    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        match self {
            Inline::Small(values) => values.get_mut(index),
            Inline::Large(values) => values.get_mut(index),
        }
    }
}

/// The elements of the aggregates being evaluated, innermost last.
pub(crate) struct Stack<'a> {
    inline: [Val<'a>; INLINE],
    len: usize,
    spilled: Vec<Val<'a>>,
}

impl Default for Stack<'_> {
    fn default() -> Self {
        Stack { inline: [Val::Unknown; INLINE], len: 0, spilled: Vec::new() }
    }
}

impl<'a> Stack<'a> {
    pub(crate) fn push(&mut self, value: Val<'a>) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = value,
            None => self.spilled.push(value),
        }
        self.len += 1;
    }

    pub(crate) fn pop(&mut self) {
        if self.len > INLINE {
            self.spilled.pop();
        }
        self.len = self.len.saturating_sub(1);
    }

    /// The element `depth` levels out from the innermost.
    fn get(&self, depth: usize) -> Val<'a> {
        let Some(index) = self.len.checked_sub(1 + depth) else { return Val::Unknown };
        match index.checked_sub(INLINE) {
            None => self.inline.get(index).copied().unwrap_or(Val::Unknown),
            Some(spilled) => self.spilled.get(spilled).copied().unwrap_or(Val::Unknown),
        }
    }
}

/// The streams of one profile, as a bit set indexed by stream id. Up to 256
/// streams fit inline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSet {
    inline: [u64; 4],
    more: Vec<u64>,
}

impl StreamSet {
    fn new(streams: usize) -> StreamSet {
        StreamSet { inline: [0; 4], more: vec![0; streams.div_ceil(64).saturating_sub(4)] }
    }

    /// A set of up to 256 streams from its words.
    #[cfg(feature = "jit")]
    pub(crate) fn from_inline(inline: [u64; 4]) -> StreamSet {
        StreamSet { inline, more: Vec::new() }
    }

    fn word_mut(&mut self, index: usize) -> Option<&mut u64> {
        match index.checked_sub(4) {
            None => self.inline.get_mut(index),
            Some(more) => self.more.get_mut(more),
        }
    }

    pub(crate) fn words(&self) -> impl Iterator<Item = &u64> + '_ {
        self.inline.iter().chain(&self.more)
    }

    fn insert(&mut self, stream: u32) {
        if let Some(word) = self.word_mut((stream / 64) as usize) {
            *word |= 1 << (stream % 64);
        }
    }

    fn remove(&mut self, stream: u32) {
        if let Some(word) = self.word_mut((stream / 64) as usize) {
            *word &= !(1 << (stream % 64));
        }
    }

    /// Adds the streams of a mask over the inline words.
    #[inline]
    fn add_inline(&mut self, words: &[u64; 4]) {
        for (word, mask) in self.inline.iter_mut().zip(words) {
            *word |= mask;
        }
    }

    fn remove_all(&mut self, other: &StreamSet) {
        for (word, mask) in self.inline.iter_mut().chain(self.more.iter_mut()).zip(other.words()) {
            *word &= !mask;
        }
    }

    /// The number of streams in the set.
    pub fn len(&self) -> usize {
        self.words().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.words().all(|&w| w == 0)
    }

    /// Whether a stream is in the set.
    pub fn contains(&self, stream: usize) -> bool {
        self.words().nth(stream / 64).is_some_and(|w| w & (1 << (stream % 64)) != 0)
    }

    /// Stream ids in increasing order, which is priority order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// How one rule's condition came out on one profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// True: assignments and suppressions apply.
    True,
    /// False: nothing applies.
    False,
    /// Unknown: suppressions apply (fail closed), assignments do not.
    Unknown,
}

impl Outcome {
    /// The outcome of a three-valued truth.
    #[inline]
    pub fn of(truth: Option<bool>) -> Outcome {
        match truth {
            Some(true) => Outcome::True,
            Some(false) => Outcome::False,
            None => Outcome::Unknown,
        }
    }

    /// `true`, `false` or `unknown`.
    pub fn word(self) -> &'static str {
        match self {
            Outcome::True => "true",
            Outcome::False => "false",
            Outcome::Unknown => "unknown",
        }
    }
}

/// Evaluates a rule's residual ([`crate::eval::specialise::Tests::residuals`])
/// by index, when native code has it (`None` otherwise).
#[cfg(feature = "jit")]
pub(crate) type Residuals<'r> = dyn FnMut(u32) -> Option<Option<bool>> + 'r;

/// The interpreter's scratch: the caller's, or made when a test first needs
/// it (native code evaluates most profiles without it). Made in place on
/// the stack, once per evaluation, and never moved: boxing it would cost
/// an allocation per profile.
#[allow(clippy::large_enum_variant)]
enum Scratch<'c, 'a> {
    Given(&'c mut Cx<'a>),
    Made(Option<Cx<'a>>),
}

impl<'a> Scratch<'_, 'a> {
    fn get(&mut self, program: &Program) -> &mut Cx<'a> {
        match self {
            Scratch::Given(cx) => cx,
            Scratch::Made(cx) => cx.get_or_insert_with(|| Cx::new(program)),
        }
    }
}

/// How [`Program`]'s evaluation runs.
#[derive(Clone, Copy)]
struct Mode {
    /// Through the indexes and the specialised tests (else every rule by
    /// the general evaluator: the plain path).
    indexed: bool,
    /// Applying the requirements and caps (native code applies them
    /// itself).
    guard: bool,
    /// Nobody observes the rules' outcomes: the rules a range region
    /// decides may be applied as one mask.
    quiet: bool,
}

impl Mode {
    const QUIET: Mode = Mode { indexed: true, guard: true, quiet: true };
}

impl Program {
    /// The rules the indexes find, for native code, which evaluated the
    /// others: their assigned streams ored into `words` 0 to 3, their
    /// suppressed into 4 to 7. Nobody observes, so the rules a region
    /// decides apply as one mask; a rule found under its guard's value is
    /// its residual ([`crate::eval::specialise::Tests::residuals`]), which
    /// `native` evaluates when it has it; any other rule the interpreter
    /// evaluates. Needs the rules' effects (at most 256 streams), which
    /// native code needs too.
    #[cfg(feature = "jit")]
    ///
    /// Indexes of fewer than `walk_from` rules are left out: native code
    /// evaluated their rules.
    pub(crate) fn walk_found(
        &self,
        profile: &Profile,
        words: &mut [u64; 8],
        native: &mut Residuals<'_>,
        walk_from: usize,
    ) {
        let (tests, fields) = (&self.tests, profile.fields());
        let mut cx = Scratch::Made(None);
        let or = |words: &mut [u64; 8], effects: &crate::eval::fused::Effects, assigned: bool| {
            let (a, s) = words.split_at_mut(4);
            if assigned {
                a.iter_mut().zip(&effects.assigns).for_each(|(w, m)| *w |= m);
            }
            s.iter_mut().zip(&effects.suppresses).for_each(|(w, m)| *w |= m);
        };
        let mut apply = |rule: u32, found: bool, words: &mut [u64; 8]| {
            let Some(&(residual, effects)) = tests.found.get(rule as usize) else { return };
            let Some(effects) = tests.masks.get(effects as usize) else { return };
            let residual = tests.residuals.get(residual as usize).filter(|_| found).map(|test| (residual, test));
            let known = match residual {
                Some((_, crate::eval::fused::Test::Known(truth))) => Some(*truth),
                Some((residual, _)) => native(residual),
                None => None,
            };
            let truth = match known {
                Some(truth) => truth,
                None => tests.rules.get(rule as usize).and_then(|test| self.check(test, cx.get(self), fields, profile)),
            };
            match truth {
                Some(true) => or(words, effects, true),
                None => or(words, effects, false),
                Some(false) => {}
            }
        };
        let walked = |rules: &[u32]| rules.len() >= walk_from;
        for index in self.dispatch.indexes.iter().filter(|index| walked(&index.all)) {
            let (rules, found) = index.find(profile, profile.at(&index.path));
            rules.iter().for_each(|&rule| apply(rule, found, words));
        }
        for (i, index) in self.dispatch.ranges.iter().enumerate().filter(|(_, index)| walked(&index.all)) {
            let masks = tests.regions.get(i);
            let Some(region) = range_key(profile, &index.path).and_then(|v| index.region(v)) else {
                index.all.iter().for_each(|&rule| apply(rule, false, words));
                continue;
            };
            // Found through the region: the first guard holds, and the
            // rules it decides are one mask.
            match masks.and_then(|m| m.direct.get(region)) {
                Some((decided, rest)) => {
                    tests.masks.get(*decided as usize).inspect(|decided| or(words, decided, true));
                    rest.iter().for_each(|&rule| apply(rule, true, words));
                }
                None => index.rules_in(region).iter().for_each(|&rule| apply(rule, true, words)),
            }
            let Some(nested) = index.nested.get(region).and_then(Option::as_ref) else { continue };
            match range_key(profile, &nested.path).and_then(|v| nested.region(v)) {
                Some(inner) => match masks.and_then(|m| m.nested.get(region)?.as_ref()?.get(inner)) {
                    Some((decided, rest)) => {
                        tests.masks.get(*decided as usize).inspect(|decided| or(words, decided, true));
                        rest.iter().for_each(|&rule| apply(rule, true, words));
                    }
                    None => nested.rules_in(inner).iter().for_each(|&rule| apply(rule, true, words)),
                },
                None => nested.all.iter().for_each(|&rule| apply(rule, true, words)),
            }
        }
    }

    /// [`Program::assign`] by the specialised interpreter, even when there
    /// is native code: what the native code is tested against.
    ///
    /// Not inlined: the interpreter's scratch would make every caller's
    /// frame larger.
    #[inline(never)]
    pub(crate) fn assign_interpreted(&self, profile: &Profile) -> StreamSet {
        self.evaluate(profile, Scratch::Made(None), |_, _| {}, Mode::QUIET)
    }

    /// [`Program::assign`], telling `observe` how each rule came out (by
    /// index in the checked order). `explain` and `narval test` watch this
    /// run, on the interpreter: `assign` runs native code where it has
    /// some, which the differential test and the fuzzer hold equal to this
    /// run. `cx` keeps the definitions' values for them to read afterwards.
    pub fn run<'a>(&'a self, profile: &'a Profile, cx: &mut Cx<'a>, observe: impl FnMut(usize, Outcome)) -> StreamSet {
        self.evaluate(profile, Scratch::Given(cx), observe, Mode { quiet: false, ..Mode::QUIET })
    }

    fn evaluate<'a>(
        &'a self,
        profile: &'a Profile,
        mut cx: Scratch<'_, 'a>,
        mut observe: impl FnMut(usize, Outcome),
        mode: Mode,
    ) -> StreamSet {
        let cx = &mut cx;
        let Mode { indexed, guard, quiet } = mode;
        // The fast path runs the specialised tests; the plain path (no
        // indexes) the general evaluator, so that each checks the other.
        let mut assigned = StreamSet::new(self.streams);
        let mut suppressed = StreamSet::new(self.streams);
        let tests = &self.tests;
        // `known`: the rule's condition is its guards, which hold (a rule
        // `exact` under `dispatch`, found through a region).
        let mut run = |index: u32, cx: &mut Scratch<'_, 'a>, known: bool| {
            let index = index as usize;
            let truth = match (tests.rules.get(index), tests.effects.get(index)) {
                (Some(test), Some(effects)) if indexed => {
                    // Streams as masks over the inline words: no loop.
                    let truth =
                        if known { Some(true) } else { self.check(test, cx.get(self), profile.fields(), profile) };
                    match truth {
                        Some(true) => {
                            assigned.add_inline(&effects.assigns);
                            suppressed.add_inline(&effects.suppresses);
                        }
                        None => suppressed.add_inline(&effects.suppresses),
                        Some(false) => {}
                    }
                    observe(index, Outcome::of(truth));
                    return;
                }
                (Some(_), None) if known => Some(true),
                (Some(test), None) if indexed => self.check(test, cx.get(self), profile.fields(), profile),
                _ => self.rules.get(index).and_then(|rule| self.test(rule.condition, cx.get(self), profile)),
            };
            let outcome = Outcome::of(truth);
            observe(index, outcome);
            let Some(rule) = self.rules.get(index) else { return };
            match outcome {
                Outcome::True => {
                    rule.assigns.iter().for_each(|&s| assigned.insert(s));
                    rule.suppresses.iter().for_each(|&s| suppressed.insert(s));
                }
                Outcome::Unknown => rule.suppresses.iter().for_each(|&s| suppressed.insert(s)),
                Outcome::False => {}
            }
        };
        let mut apply = |index: u32, cx: &mut Scratch<'_, 'a>| run(index, cx, false);
        if !indexed {
            for index in 0..u32::try_from(self.rules.len()).unwrap_or(u32::MAX) {
                apply(index, cx);
            }
            assigned.remove_all(&suppressed);
            self.guard(profile, cx.get(self), &mut assigned);
            return assigned;
        }
        // Rules found through an index are evaluated like the others; the
        // rules an index leaves out are false, and a false rule does nothing.
        for &index in &self.dispatch.always {
            apply(index, cx);
        }
        for index in &self.dispatch.indexes {
            let (rules, _) = index.find(profile, profile.at(&index.path));
            for &rule in rules {
                apply(rule, cx);
            }
        }
        let value = |index: &RangeIndex| range_key(profile, &index.path);
        let exact = |rule: u32, guards: u8| self.dispatch.exact.get(rule as usize) == Some(&guards);
        // Without an observer, the rules a region decides are one mask.
        let (mut decided_assigns, mut decided_suppresses) = ([0u64; 4], [0u64; 4]);
        let mut decide = |effects: &u32| {
            let Some(effects) = tests.masks.get(*effects as usize) else { return };
            decided_assigns.iter_mut().zip(&effects.assigns).for_each(|(d, m)| *d |= m);
            decided_suppresses.iter_mut().zip(&effects.suppresses).for_each(|(d, m)| *d |= m);
        };
        for (i, index) in self.dispatch.ranges.iter().enumerate() {
            let masks = if quiet { tests.regions.get(i) } else { None };
            let Some(region) = value(index).and_then(|v| index.region(v)) else {
                index.all.iter().for_each(|&rule| run(rule, cx, false));
                continue;
            };
            match masks.and_then(|m| m.direct.get(region)) {
                Some((decided, rest)) => {
                    decide(decided);
                    rest.iter().for_each(|&rule| run(rule, cx, false));
                }
                None => {
                    for &rule in index.rules_in(region) {
                        run(rule, cx, exact(rule, 1));
                    }
                }
            }
            // Rules with a second guard, found by it.
            let Some(nested) = index.nested.get(region).and_then(Option::as_ref) else { continue };
            match value(nested).and_then(|v| nested.region(v)) {
                Some(inner) => {
                    let nested_masks = masks.and_then(|m| m.nested.get(region)).and_then(Option::as_ref);
                    match nested_masks.and_then(|m| m.get(inner)) {
                        Some((decided, rest)) => {
                            decide(decided);
                            rest.iter().for_each(|&rule| run(rule, cx, false));
                        }
                        None => {
                            for &rule in nested.rules_in(inner) {
                                run(rule, cx, exact(rule, 2));
                            }
                        }
                    }
                }
                None => nested.all.iter().for_each(|&rule| run(rule, cx, false)),
            }
        }
        assigned.add_inline(&decided_assigns);
        suppressed.add_inline(&decided_suppresses);
        assigned.remove_all(&suppressed);
        if guard {
            self.guard(profile, cx.get(self), &mut assigned);
        }
        assigned
    }

    /// After the rules: each requirement removes its streams unless its
    /// condition is true (a requirement none of whose streams is left is
    /// not evaluated: it could remove nothing); then each cap keeps the
    /// first streams of its kind, which are the highest in priority.
    fn guard<'a>(&'a self, profile: &'a Profile, cx: &mut Cx<'a>, streams: &mut StreamSet) {
        for (index, requirement) in self.requirements.iter().enumerate() {
            if !requirement.streams.iter().any(|&s| streams.contains(s as usize)) {
                continue;
            }
            let truth = match self.tests.requirements.get(index) {
                Some(test) if cx.specialised => self.check(test, cx, profile.fields(), profile),
                _ => self.test(requirement.condition, cx, profile),
            };
            if truth != Some(true) {
                requirement.streams.iter().for_each(|&s| streams.remove(s));
            }
        }
        self.cap(streams);
    }

    /// Each cap keeps the first streams of its kind, the highest in
    /// priority.
    pub(crate) fn cap(&self, streams: &mut StreamSet) {
        for cap in &self.caps {
            let mut kept = 0;
            for stream in cap.first..cap.end {
                if streams.contains(stream as usize) {
                    if kept < cap.most {
                        kept += 1;
                    } else {
                        streams.remove(stream);
                    }
                }
            }
        }
    }

    /// [`Program::assign`] without the indexes and without the specialised
    /// tests of [`crate::eval::specialise`]: every rule's condition evaluated, in
    /// order, by the general evaluator. Neither must ever change a result;
    /// tests hold them to it.
    pub(crate) fn assign_plain(&self, profile: &Profile) -> StreamSet {
        let mut cx = Cx::new(self);
        cx.specialised = false;
        self.evaluate(profile, Scratch::Given(&mut cx), |_, _| {}, Mode { indexed: false, quiet: false, ..Mode::QUIET })
    }

    /// Evaluates a condition node.
    pub fn outcome<'a>(&'a self, node: NodeId, cx: &mut Cx<'a>, profile: &'a Profile) -> Outcome {
        match self.test(node, cx, profile) {
            Some(true) => Outcome::True,
            Some(false) => Outcome::False,
            None => Outcome::Unknown,
        }
    }

    /// The three-valued truth of a condition: `Some(true)`, `Some(false)` or
    /// `None` for unknown. `not`, `and`, `or` (Kleene, short-circuit) and
    /// comparisons are defined here, without building a value; any other
    /// node is evaluated and read as a truth.
    pub fn test<'a>(&'a self, id: NodeId, cx: &mut Cx<'a>, profile: &'a Profile) -> Option<bool> {
        match self.nodes.get(id as usize) {
            Some(Node::Not(a)) => self.test(*a, cx, profile).map(|b| !b),
            Some(Node::And(a, b)) => {
                let left = self.test(*a, cx, profile);
                if left == Some(false) {
                    return Some(false);
                }
                match (left, self.test(*b, cx, profile)) {
                    (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            }
            Some(Node::Or(a, b)) => {
                let left = self.test(*a, cx, profile);
                if left == Some(true) {
                    return Some(true);
                }
                match (left, self.test(*b, cx, profile)) {
                    (_, Some(true)) => Some(true),
                    (Some(false), Some(false)) => Some(false),
                    _ => None,
                }
            }
            Some(Node::Compare(op, a, b)) => {
                let (a, b) = (self.operand(*a, cx, profile), self.operand(*b, cx, profile));
                compare_op(*op, a, b)
            }
            Some(Node::Field { base: Base::Profile, path }) => {
                read(profile, Val::Record(profile.fields()), path).truth()
            }
            _ => self.eval(id, cx, profile).truth(),
        }
    }

    /// Evaluates an operand: constants and profile fields directly, the
    /// rest through [`Program::eval`]. Most operands are one of the two.
    #[inline(always)]
    fn operand<'a>(&'a self, id: NodeId, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        match self.nodes.get(id as usize) {
            Some(Node::Const(c)) => Val::of_scalar(c),
            Some(Node::Field { base: Base::Profile, path }) => read(profile, Val::Record(profile.fields()), path),
            _ => self.eval(id, cx, profile),
        }
    }

    /// Evaluates a node.
    pub fn eval<'a>(&'a self, id: NodeId, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        let Some(node) = self.nodes.get(id as usize) else { return Val::Unknown };
        match node {
            Node::Const(c) => Val::of_scalar(c),
            Node::Field { base, path } => {
                let start = match base {
                    Base::Profile => Val::Record(profile.fields()),
                    Base::Element(depth) => cx.elements.get(*depth as usize),
                };
                read(profile, start, path)
            }
            Node::Def(index) => self.definition(*index, cx, profile),
            // Conditions: one definition, in `test`.
            Node::Not(_) | Node::And(..) | Node::Or(..) | Node::Compare(..) => {
                Val::from_truth(self.test(id, cx, profile))
            }
            Node::Neg(a) => match self.operand(*a, cx, profile) {
                Val::Int(i) => i.checked_neg().map_or(Val::Unknown, Val::Int),
                Val::Money(m) => m.checked_neg().map_or(Val::Unknown, Val::Money),
                Val::Number(n) => Val::Number(-n),
                _ => Val::Unknown,
            },
            Node::Arith(op, a, b) => {
                let (a, b) = (self.operand(*a, cx, profile), self.operand(*b, cx, profile));
                arith(*op, a, b)
            }
            Node::IntToNumber(a) => match self.operand(*a, cx, profile) {
                Val::Int(i) => Val::Number(i as f64),
                _ => Val::Unknown,
            },
            Node::IntToMoney(a) => match self.operand(*a, cx, profile) {
                Val::Int(i) => i.checked_mul(100).map_or(Val::Unknown, Val::Money),
                _ => Val::Unknown,
            },
            Node::MoneyToNumber(a) => match self.operand(*a, cx, profile) {
                Val::Money(cents) => Val::Number(cents as f64 / 100.0),
                _ => Val::Unknown,
            },
            Node::NumberToMoney(a) => match self.operand(*a, cx, profile) {
                Val::Number(n) => crate::value::nearest_cents(n).map_or(Val::Unknown, Val::Money),
                _ => Val::Unknown,
            },
            Node::Between(v, low, high) => {
                let value = self.operand(*v, cx, profile);
                let above = compare(value, self.operand(*low, cx, profile)).map(|o| o != Ordering::Less);
                if above == Some(false) {
                    return Val::Bool(false);
                }
                let below = compare(value, self.operand(*high, cx, profile)).map(|o| o != Ordering::Greater);
                and3(above, below)
            }
            // Nothing is a member of an empty list, not even an unknown value
            // (as `x = ANY('{}')` is false in SQL).
            Node::InSet(v, set) => in_set(self.operand(*v, cx, profile), set),
            Node::InItems(v, items) => {
                let value = self.operand(*v, cx, profile);
                let mut result = Some(false);
                for item in items.iter() {
                    match compare(value, self.operand(*item, cx, profile)) {
                        Some(Ordering::Equal) => return Val::Bool(true),
                        Some(_) => {}
                        None => result = None,
                    }
                }
                Val::from_truth(result)
            }
            Node::InList(v, list) => {
                let value = self.operand(*v, cx, profile);
                match self.operand(*list, cx, profile) {
                    Val::List(items) => {
                        if value == Val::Unknown && !items.is_empty() {
                            return Val::Unknown;
                        }
                        Val::Bool(
                            items.iter().any(|item| compare(value, Val::of(item, profile)) == Some(Ordering::Equal)),
                        )
                    }
                    _ => Val::Unknown,
                }
            }
            Node::InHashedList { value, list, slot } => {
                let value = self.operand(*value, cx, profile);
                if !matches!(cx.lists.get(*slot as usize), Some(Some(_))) {
                    let hashed = Hashed::of(self.operand(*list, cx, profile), profile);
                    if let Some(entry) = cx.lists.get_mut(*slot as usize) {
                        *entry = Some(hashed);
                    }
                }
                match cx.lists.get(*slot as usize) {
                    Some(Some(hashed)) => hashed.holds(value),
                    _ => Val::Unknown,
                }
            }
            Node::Text(op, a, b) => match (self.operand(*a, cx, profile), self.operand(*b, cx, profile)) {
                (Val::Str(a), Val::Str(b)) => Val::Bool(match op {
                    TextOp::Contains => a.contains(b),
                    TextOp::StartsWith => a.starts_with(b),
                    TextOp::EndsWith => a.ends_with(b),
                }),
                _ => Val::Unknown,
            },
            Node::IsMissing(a) => Val::Bool(self.operand(*a, cx, profile) == Val::Unknown),
            Node::Coalesce(a, b) => match self.operand(*a, cx, profile) {
                Val::Unknown => self.operand(*b, cx, profile),
                known => known,
            },
            Node::Aggregate(agg) => self.aggregate(agg, cx, profile),
            Node::Bucket { value, salt, slot } => self.bucket(*value, salt, *slot, cx, profile),
        }
    }

    /// `bucket(value, "salt")`, cached per profile in its slot.
    #[inline(never)]
    fn bucket<'a>(
        &'a self,
        value: NodeId,
        salt: &str,
        slot: Option<u32>,
        cx: &mut Cx<'a>,
        profile: &'a Profile,
    ) -> Val<'a> {
        if let Some(Some(cached)) = slot.and_then(|s| cx.buckets.get(s as usize)) {
            return Val::Number(*cached);
        }
        let bucket = match self.operand(value, cx, profile) {
            Val::Int(i) => {
                // The decimal text of an int fits in 20 bytes: no allocation.
                let mut buffer = [0_u8; 24];
                let mut cursor = std::io::Cursor::new(&mut buffer[..]);
                let _ = std::io::Write::write_fmt(&mut cursor, format_args!("{i}"));
                let len = usize::try_from(cursor.position()).unwrap_or(0);
                let text = buffer.get(..len).and_then(|b| std::str::from_utf8(b).ok()).unwrap_or("");
                crate::value::bucket(salt, text)
            }
            Val::Str(text) => crate::value::bucket(salt, text),
            _ => return Val::Unknown,
        };
        if let Some(entry) = slot.and_then(|s| cx.buckets.get_mut(s as usize)) {
            *entry = Some(bucket);
        }
        Val::Number(bucket)
    }

    /// A definition's value, computed at most once per profile.
    pub(crate) fn definition<'a>(&'a self, index: u32, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        let index = index as usize;
        if let Some(Some(cached)) = cx.definitions.get(index) {
            return *cached;
        }
        // A definition uses only definitions with smaller ids. Where they
        // chain deep, those are computed first, in id order, each with the
        // ones before it known: evaluation then recurses through one
        // definition's expression at a time, never the whole chain. They
        // have no effects, so computing one no rule needed changes nothing.
        if self.deep_definitions {
            while (cx.prefetched as usize) < index {
                let before = cx.prefetched;
                cx.prefetched += 1;
                if let Some(None) = cx.definitions.get(before as usize) {
                    self.definition(before, cx, profile);
                }
            }
        }
        let Some(&root) = self.definitions.get(index) else { return Val::Unknown };
        let value = self.operand(root, cx, profile);
        if let Some(slot) = cx.definitions.get_mut(index) {
            *slot = Some(value);
        }
        value
    }

    /// An aggregate, out of line: its accumulator would make every other
    /// node's evaluation carry a larger stack frame.
    #[inline(never)]
    fn aggregate<'a>(&'a self, agg: &'a Aggregate, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        if let Some(slot) = agg.cache {
            if let Some(Some(cached)) = cx.aggregates.get(slot as usize) {
                return *cached;
            }
            let value = self.aggregate_uncached(agg, cx, profile);
            if let Some(entry) = cx.aggregates.get_mut(slot as usize) {
                *entry = Some(value);
            }
            return value;
        }
        self.aggregate_uncached(agg, cx, profile)
    }

    fn aggregate_uncached<'a>(&'a self, agg: &'a Aggregate, cx: &mut Cx<'a>, profile: &'a Profile) -> Val<'a> {
        let Val::List(items) = self.operand(agg.list, cx, profile) else { return Val::Unknown };
        let mut acc = Acc::new(agg.func, &agg.zero, agg.filter.is_some());
        for item in items.iter() {
            let element = Val::of(item, profile);
            let passes = match agg.filter {
                Some(filter) => {
                    cx.elements.push(element);
                    let truth = match (&agg.filter_test, item) {
                        (Some(test), Value::Record(fields)) if cx.specialised => {
                            self.check(test, cx, profile.items(*fields), profile)
                        }
                        _ => self.operand(filter, cx, profile).truth(),
                    };
                    cx.elements.pop();
                    truth
                }
                None => Some(true),
            };
            let value = if agg.projection.is_empty() { element } else { read(profile, element, &agg.projection) };
            if acc.add(passes, value) {
                break;
            }
        }
        acc.finish()
    }
}

/// A comparison's truth: unknown when either side is.
#[inline]
pub(crate) fn compare_op(op: CmpOp, a: Val<'_>, b: Val<'_>) -> Option<bool> {
    compare(a, b).map(|ordering| match op {
        CmpOp::Eq => ordering == Ordering::Equal,
        CmpOp::Ne => ordering != Ordering::Equal,
        CmpOp::Lt => ordering == Ordering::Less,
        CmpOp::Le => ordering != Ordering::Greater,
        CmpOp::Gt => ordering == Ordering::Greater,
        CmpOp::Ge => ordering != Ordering::Less,
    })
}

/// Membership in a constant list. Nothing is a member of an empty list,
/// not even an unknown value (as `x = ANY('{}')` is false in SQL).
pub(crate) fn in_set<'a>(value: Val<'_>, set: &ConstSet) -> Val<'a> {
    match (value, set) {
        (_, set) if set.is_empty() => Val::Bool(false),
        (Val::Unknown, _) => Val::Unknown,
        (Val::Str(s), ConstSet::Strings(set)) => Val::Bool(set.contains(s)),
        (Val::Str(s), ConstSet::FewStrings(items)) => Val::Bool(items.iter().any(|i| **i == *s)),
        (Val::Number(n), ConstSet::Numbers(set)) => Val::Bool(set.contains(&n)),
        (value, ConstSet::Integers(set)) => match integer(value) {
            Some(i) => Val::Bool(set.contains(&i)),
            None => Val::Unknown,
        },
        _ => Val::Unknown,
    }
}

/// Reads a slot path from a record; unknown as soon as a step is missing.
#[inline]
pub(crate) fn read<'a>(profile: &'a Profile, start: Val<'a>, path: &[u32]) -> Val<'a> {
    let Some((&first, steps)) = path.split_first() else { return start };
    let Val::Record(fields) = start else { return Val::Unknown };
    let Some(mut value) = fields.get(first as usize) else { return Val::Unknown };
    // Through nested records without converting each step to a `Val`.
    for &step in steps {
        match value {
            Value::Record(record) => match profile.field(*record, step) {
                Some(inner) => value = inner,
                None => return Val::Unknown,
            },
            _ => return Val::Unknown,
        }
    }
    Val::of(value, profile)
}

/// The place on the line of a range index's bounds of the value at a
/// path; `None` for a missing value or one of another kind.
#[inline]
fn range_key(profile: &Profile, path: &[u32]) -> Option<f64> {
    match profile.at(path)? {
        Value::Int(i) | Value::Money(i) => Some(*i as f64),
        Value::Date(d) => Some(f64::from(d.0)),
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

impl crate::eval::dispatch::Index {
    /// The rules whose guard can hold for the field's value (`None`: the
    /// path leads nowhere), and whether they were found under it (their
    /// guard then holds); for a missing value, or one of a kind no guard
    /// compares with, every rule of the index, not found.
    #[inline]
    pub(crate) fn find(&self, profile: &Profile, value: Option<&Value>) -> (&[u32], bool) {
        match value {
            Some(Value::String(s)) => (self.strings.get(profile.text_bytes(*s)).unwrap_or_default(), true),
            None | Some(Value::Missing) => (&self.all, false),
            Some(other) => match integer_key(Val::of(other, profile)) {
                Some(i) => (self.integers.get(&i).map_or(&[][..], Vec::as_slice), true),
                None => (&self.all, false),
            },
        }
    }
}

/// The integer a guard's constant was filed under ([`Scalar::as_integer`]).
fn integer_key(value: Val<'_>) -> Option<i64> {
    match value {
        Val::Int(i) | Val::Money(i) => Some(i),
        Val::Date(d) => Some(i64::from(d.0)),
        Val::Enum(e) => Some(i64::from(e)),
        Val::Bool(b) => Some(i64::from(b)),
        _ => None,
    }
}

fn and3(a: Option<bool>, b: Option<bool>) -> Val<'static> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Val::Bool(false),
        (Some(true), Some(true)) => Val::Bool(true),
        _ => Val::Unknown,
    }
}

fn integer(value: Val<'_>) -> Option<i64> {
    match value {
        Val::Int(i) | Val::Money(i) => Some(i),
        Val::Date(d) => Some(i64::from(d.0)),
        Val::Enum(e) => Some(i64::from(e)),
        Val::Bool(b) => Some(i64::from(b)),
        _ => None,
    }
}

/// Orders two values of one type; `None` when either is unknown. Strings
/// compare by their UTF-8 bytes.
fn compare(a: Val<'_>, b: Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) | (Val::Money(x), Val::Money(y)) => Some(x.cmp(&y)),
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(&y),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        (Val::Str(x), Val::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Val::Enum(x), Val::Enum(y)) => Some(x.cmp(&y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

fn arith<'a>(op: ArithOp, a: Val<'a>, b: Val<'a>) -> Val<'a> {
    match (op, a, b) {
        (ArithOp::Add, Val::Int(x), Val::Int(y)) => x.checked_add(y).map_or(Val::Unknown, Val::Int),
        (ArithOp::Sub, Val::Int(x), Val::Int(y)) => x.checked_sub(y).map_or(Val::Unknown, Val::Int),
        (ArithOp::Mul, Val::Int(x), Val::Int(y)) => x.checked_mul(y).map_or(Val::Unknown, Val::Int),
        (ArithOp::Add, Val::Money(x), Val::Money(y)) => x.checked_add(y).map_or(Val::Unknown, Val::Money),
        (ArithOp::Sub, Val::Money(x), Val::Money(y)) => x.checked_sub(y).map_or(Val::Unknown, Val::Money),
        (ArithOp::Mul, Val::Money(x), Val::Int(y)) => x.checked_mul(y).map_or(Val::Unknown, Val::Money),
        (ArithOp::Div, Val::Money(x), Val::Int(y)) => divide_rounded(x, y).map_or(Val::Unknown, Val::Money),
        (ArithOp::Div, Val::Money(x), Val::Money(y)) if y != 0 => Val::number(x as f64 / y as f64),
        (ArithOp::Add, Val::Number(x), Val::Number(y)) => Val::number(x + y),
        (ArithOp::Sub, Val::Number(x), Val::Number(y)) => Val::number(x - y),
        (ArithOp::Mul, Val::Number(x), Val::Number(y)) => Val::number(x * y),
        (ArithOp::Div, Val::Number(x), Val::Number(y)) if y != 0.0 => Val::number(x / y),
        (ArithOp::Add | ArithOp::Sub, Val::Date(d), Val::Int(days)) => {
            let days = if op == ArithOp::Sub { days.checked_neg() } else { Some(days) };
            days.and_then(|n| d.add_days(n)).map_or(Val::Unknown, Val::Date)
        }
        (ArithOp::Sub, Val::Date(x), Val::Date(y)) => Val::Int(i64::from(x.0) - i64::from(y.0)),
        _ => Val::Unknown,
    }
}

/// `x / y` rounded half away from zero, as SQL's `ROUND` does; `None` on
/// division by zero or overflow.
pub fn divide_rounded(x: i64, y: i64) -> Option<i64> {
    divide_rounded_wide(i128::from(x), i128::from(y)).and_then(|q| i64::try_from(q).ok())
}

/// [`divide_rounded`] in 128 bits, for totals of many amounts.
fn divide_rounded_wide(x: i128, y: i128) -> Option<i128> {
    if y == 0 {
        return None;
    }
    let (q, r) = (x.checked_div(y)?, x.checked_rem(y)?);
    if r.unsigned_abs().checked_mul(2)? >= y.unsigned_abs() {
        let away = if (x < 0) == (y < 0) { 1 } else { -1 };
        q.checked_add(away)
    } else {
        Some(q)
    }
}

/// Accumulates an aggregate over the elements that pass its filter.
struct Acc<'a> {
    func: AggregateFn,
    // The running result, or for sums and means of `int` and `money` a value
    // of the kind summed; `None` before the first value.
    value: Option<Val<'a>>,
    // The total of a sum or mean of `int` or `money`. No list is long enough
    // to overflow 128 bits, so only the total is checked against the range
    // of 64 bits: `sum([MAX, 1, -1])` is MAX whatever the order, and a mean
    // always exists.
    total: i128,
    count: i64,
    any_unknown: bool,
    filtered: bool,
}

impl<'a> Acc<'a> {
    fn new(func: AggregateFn, zero: &Scalar, filtered: bool) -> Acc<'a> {
        let value = match func {
            AggregateFn::Sum => Some(match zero {
                Scalar::Money(_) => Val::Money(0),
                Scalar::Number(_) => Val::Number(0.0),
                _ => Val::Int(0),
            }),
            AggregateFn::Any => Some(Val::Bool(false)),
            AggregateFn::All => Some(Val::Bool(true)),
            AggregateFn::Count | AggregateFn::Min | AggregateFn::Max | AggregateFn::Avg => None,
        };
        Acc { func, value, total: 0, count: 0, any_unknown: false, filtered }
    }

    /// Adds one element; returns true when the result can no longer change.
    fn add(&mut self, passes: Option<bool>, value: Val<'a>) -> bool {
        match self.func {
            AggregateFn::Any | AggregateFn::All => {
                // With a filter the test is the filter; without, the element itself.
                let truth = if self.filtered { passes } else { value.truth() };
                let decisive = self.func == AggregateFn::Any;
                match truth {
                    Some(t) if t == decisive => {
                        self.value = Some(Val::Bool(decisive));
                        self.any_unknown = false;
                        true
                    }
                    Some(_) => false,
                    None => {
                        self.any_unknown = true;
                        false
                    }
                }
            }
            _ => {
                match passes {
                    Some(false) => return false,
                    None => {
                        self.any_unknown = true;
                        return false;
                    }
                    Some(true) => {}
                }
                self.count += 1;
                if self.func == AggregateFn::Count {
                    return false;
                }
                if value == Val::Unknown {
                    self.any_unknown = true;
                    return false;
                }
                if let (AggregateFn::Sum | AggregateFn::Avg, Val::Int(i) | Val::Money(i)) = (self.func, value) {
                    self.total += i128::from(i);
                    self.value.get_or_insert(value);
                    return false;
                }
                self.value = match (self.func, self.value) {
                    (AggregateFn::Sum | AggregateFn::Avg, Some(acc)) => match arith(ArithOp::Add, acc, value) {
                        Val::Unknown => {
                            self.any_unknown = true;
                            return true;
                        }
                        sum => Some(sum),
                    },
                    (AggregateFn::Min, Some(acc)) => {
                        Some(if compare(value, acc) == Some(Ordering::Less) { value } else { acc })
                    }
                    (AggregateFn::Max, Some(acc)) => {
                        Some(if compare(value, acc) == Some(Ordering::Greater) { value } else { acc })
                    }
                    (_, None) => Some(value),
                    (_, acc) => acc,
                };
                false
            }
        }
    }

    fn finish(self) -> Val<'a> {
        if self.any_unknown {
            return Val::Unknown;
        }
        let exact = |total: i128| i64::try_from(total).ok();
        match self.func {
            AggregateFn::Count => Val::Int(self.count),
            AggregateFn::Sum => match self.value {
                Some(Val::Int(_)) => exact(self.total).map_or(Val::Unknown, Val::Int),
                Some(Val::Money(_)) => exact(self.total).map_or(Val::Unknown, Val::Money),
                other => other.unwrap_or(Val::Unknown),
            },
            AggregateFn::Avg => match self.value {
                _ if self.count == 0 => Val::Unknown,
                Some(Val::Money(_)) => divide_rounded_wide(self.total, i128::from(self.count))
                    .and_then(exact)
                    .map_or(Val::Unknown, Val::Money),
                Some(Val::Number(total)) => Val::number(total / self.count as f64),
                Some(Val::Int(_)) => Val::number(self.total as f64 / self.count as f64),
                _ => Val::Unknown,
            },
            _ => self.value.unwrap_or(Val::Unknown),
        }
    }
}
