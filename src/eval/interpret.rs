//! A program evaluated on one decoded profile.
//!
//! Values are three-valued: [`Val::Unknown`] stands for missing data and for
//! results that do not exist (division by zero, overflow, `min` of nothing).
//! `and`/`or`/`not` follow Kleene's logic ([`crate::eval::logic`]). A
//! rule's assignments take effect when its condition is true; its
//! suppressions when it is true or unknown (fail closed,
//! [`Outcome::suppresses`]). A suppression beats every assignment.

use std::cmp::Ordering;

use crate::decode::{Profile, Value};
use crate::eval::dispatch::Found;
use crate::eval::logic::{self, Connective};
use crate::eval::node::{Aggregate, Node, NodeId, Scalar};
use crate::eval::program::Program;
use crate::eval::val::Val;
use crate::ir::AggregateFn;
use crate::ir::{ArithOp, Base, CmpOp, TextOp};

/// Per-profile scratch: cached definition values and the elements of the
/// aggregates being evaluated. Small rule sets keep both inline, so a
/// profile is evaluated without touching the heap.
pub struct Scratch<'a> {
    pub(crate) definitions: Inline<Option<Val<'a>>>,
    /// Truths of the shared leaves ([`crate::eval::specialise::Conditions::shared`]).
    pub(crate) shared: Inline<Option<Option<bool>>>,
    /// Whether aggregates run their filters' specialised conditions; the plain
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
                    if let Some(i) = other.as_integer() {
                        hashed.integers.insert(i);
                    }
                }
            }
        }
        hashed
    }

    /// The same answer as [`Node::InList`] on the list.
    fn holds(&self, value: Val<'_>) -> Option<bool> {
        if !self.known {
            return None;
        }
        logic::membership(value != Val::Unknown, self.empty, || {
            Some(match value {
                Val::Str(s) => self.strings.contains(s),
                Val::Number(n) => self.numbers.contains(&number_bits(n)),
                other => other.as_integer().is_some_and(|i| self.integers.contains(&i)),
            })
        })
    }
}

impl<'a> Scratch<'a> {
    /// Empty scratch for one profile of `program`.
    pub fn new(program: &Program) -> Scratch<'a> {
        Scratch {
            definitions: Inline::new(program.definitions.len(), None),
            shared: Inline::new(program.fused.shared.len(), None),
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
    #[cfg(any(test, feature = "internals"))]
    pub fn len(&self) -> usize {
        self.words().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the set is empty.
    #[cfg(any(test, feature = "internals"))]
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

    /// Whether a rule of this outcome assigns its streams: only when true.
    #[inline(always)]
    pub fn assigns(self) -> bool {
        self == Outcome::True
    }

    /// Whether a rule of this outcome suppresses its streams: when true or
    /// unknown (fail closed).
    #[inline(always)]
    pub fn suppresses(self) -> bool {
        self != Outcome::False
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

/// The interpreter's scratch: the caller's, or made when a test first needs
/// it (native code evaluates most profiles without it). Made in place on
/// the stack, once per evaluation, and never moved: boxing it would cost
/// an allocation per profile.
#[allow(clippy::large_enum_variant)]
enum LazyScratch<'c, 'a> {
    Given(&'c mut Scratch<'a>),
    Made(Option<Scratch<'a>>),
}

impl<'a> LazyScratch<'_, 'a> {
    fn get(&mut self, program: &Program) -> &mut Scratch<'a> {
        match self {
            LazyScratch::Given(scratch) => scratch,
            LazyScratch::Made(scratch) => scratch.get_or_insert_with(|| Scratch::new(program)),
        }
    }
}

/// How the interpreter walks a program's rules ([`Program::evaluate`]).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// Every rule by the general evaluator, in order, without the indexes
    /// or the specialised conditions: the plain path, which checks the others.
    Plain,
    /// Through the indexes ([`crate::eval::dispatch::Dispatch::walk`]) and
    /// the specialised conditions, each rule's outcome observed.
    Observed,
    /// As [`Walk::Observed`] with nobody observing: the rules a range
    /// region decides apply as one mask.
    Quiet,
}

impl Program {
    /// The rules the indexes find, for native code, which evaluated the
    /// others: their assigned streams ored into `words` 0 to 3, their
    /// suppressed into 4 to 7. Nobody observes, so the rules a region
    /// decides apply as one mask; a rule found under its guard's value is
    /// its residual ([`crate::eval::specialise::Conditions::residuals`]), which
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
        native: &mut impl FnMut(u32) -> Option<Option<bool>>,
        walk_from: usize,
    ) {
        let (fused, fields) = (&self.fused, profile.fields());
        let mut scratch = LazyScratch::Made(None);
        let or = |words: &mut [u64; 8], effects: &crate::eval::fused::Effects, outcome: Outcome| {
            let (a, s) = words.split_at_mut(4);
            if outcome.assigns() {
                a.iter_mut().zip(&effects.assigns).for_each(|(w, m)| *w |= m);
            }
            if outcome.suppresses() {
                s.iter_mut().zip(&effects.suppresses).for_each(|(w, m)| *w |= m);
            }
        };
        let mut apply = |rule: u32, found: bool, words: &mut [u64; 8]| {
            let Some(&(residual, effects)) = fused.found.get(rule as usize) else { return };
            let Some(effects) = fused.masks.get(effects as usize) else { return };
            let residual = fused.residuals.get(residual as usize).filter(|_| found).map(|test| (residual, test));
            let known = match residual {
                Some((_, crate::eval::fused::Condition::Known(truth))) => Some(*truth),
                Some((residual, _)) => native(residual),
                None => None,
            };
            let truth = match known {
                Some(truth) => truth,
                None => {
                    fused.rules.get(rule as usize).and_then(|test| self.check(test, scratch.get(self), fields, profile))
                }
            };
            or(words, effects, Outcome::of(truth));
        };
        self.dispatch.walk(profile, &fused.regions, walk_from, |found| match found {
            Found::Unguarded(rule) => apply(rule, false, words),
            Found::Guarded(rule) | Found::True(rule) => apply(rule, true, words),
            Found::Decided(mask) => {
                fused.masks.get(mask as usize).inspect(|decided| or(words, decided, Outcome::True));
            }
        });
    }

    /// [`Program::assign`] by the specialised interpreter, even when there
    /// is native code: what the native code is tested against.
    ///
    /// Not inlined: the interpreter's scratch would make every caller's
    /// frame larger.
    #[inline(never)]
    pub(crate) fn assign_interpreted(&self, profile: &Profile) -> StreamSet {
        self.evaluate(profile, LazyScratch::Made(None), |_, _| {}, Walk::Quiet)
    }

    /// [`Program::assign`], telling `observe` how each rule came out (by
    /// index in the checked order). `explain` and `narval test` watch this
    /// run, on the interpreter: `assign` runs native code where it has
    /// some, which the differential test and the fuzzer hold equal to this
    /// run. `scratch` keeps the definitions' values for them to read afterwards.
    pub fn run<'a>(
        &'a self,
        profile: &'a Profile,
        scratch: &mut Scratch<'a>,
        observe: impl FnMut(usize, Outcome),
    ) -> StreamSet {
        self.evaluate(profile, LazyScratch::Given(scratch), observe, Walk::Observed)
    }

    fn evaluate<'a>(
        &'a self,
        profile: &'a Profile,
        mut scratch: LazyScratch<'_, 'a>,
        mut observe: impl FnMut(usize, Outcome),
        walk: Walk,
    ) -> StreamSet {
        let scratch = &mut scratch;
        let indexed = walk != Walk::Plain;
        // The fast path runs the specialised conditions; the plain path (no
        // indexes) the general evaluator, so that each checks the other.
        let mut assigned = StreamSet::new(self.streams);
        let mut suppressed = StreamSet::new(self.streams);
        let fused = &self.fused;
        // `known`: the rule's condition is its guards, which hold (a rule
        // `exact` under `dispatch`, found through a region).
        let mut run = |index: u32, scratch: &mut LazyScratch<'_, 'a>, known: bool| {
            let index = index as usize;
            let truth = match (fused.rules.get(index), fused.effects.get(index)) {
                (Some(test), Some(effects)) if indexed => {
                    // Streams as masks over the inline words: no loop.
                    let truth =
                        if known { Some(true) } else { self.check(test, scratch.get(self), profile.fields(), profile) };
                    let outcome = Outcome::of(truth);
                    if outcome.assigns() {
                        assigned.add_inline(&effects.assigns);
                    }
                    if outcome.suppresses() {
                        suppressed.add_inline(&effects.suppresses);
                    }
                    observe(index, outcome);
                    return;
                }
                (Some(_), None) if known => Some(true),
                (Some(test), None) if indexed => self.check(test, scratch.get(self), profile.fields(), profile),
                _ => self.rules.get(index).and_then(|rule| self.truth(rule.condition, scratch.get(self), profile)),
            };
            let outcome = Outcome::of(truth);
            observe(index, outcome);
            let Some(rule) = self.rules.get(index) else { return };
            if outcome.assigns() {
                rule.assigns.iter().for_each(|&s| assigned.insert(s));
            }
            if outcome.suppresses() {
                rule.suppresses.iter().for_each(|&s| suppressed.insert(s));
            }
        };
        let mut apply = |index: u32, scratch: &mut LazyScratch<'_, 'a>| run(index, scratch, false);
        if !indexed {
            for index in 0..u32::try_from(self.rules.len()).unwrap_or(u32::MAX) {
                apply(index, scratch);
            }
            assigned.remove_all(&suppressed);
            self.guard(profile, scratch.get(self), &mut assigned);
            return assigned;
        }
        // Rules found through an index are evaluated like the others; the
        // rules an index leaves out are false, and a false rule does nothing.
        for &index in &self.dispatch.always {
            apply(index, scratch);
        }
        // Without an observer, the rules a region decides are one mask.
        let regions = if walk == Walk::Quiet { &fused.regions[..] } else { &[] };
        let (mut decided_assigns, mut decided_suppresses) = ([0u64; 4], [0u64; 4]);
        self.dispatch.walk(profile, regions, 0, |found| match found {
            Found::Unguarded(rule) | Found::Guarded(rule) => run(rule, scratch, false),
            Found::True(rule) => run(rule, scratch, true),
            Found::Decided(mask) => {
                let Some(effects) = fused.masks.get(mask as usize) else { return };
                decided_assigns.iter_mut().zip(&effects.assigns).for_each(|(d, m)| *d |= m);
                decided_suppresses.iter_mut().zip(&effects.suppresses).for_each(|(d, m)| *d |= m);
            }
        });
        assigned.add_inline(&decided_assigns);
        suppressed.add_inline(&decided_suppresses);
        assigned.remove_all(&suppressed);
        self.guard(profile, scratch.get(self), &mut assigned);
        assigned
    }

    /// After the rules: each requirement removes its streams unless its
    /// condition is true (a requirement none of whose streams is left is
    /// not evaluated: it could remove nothing); then each cap keeps the
    /// first streams of its kind, which are the highest in priority.
    fn guard<'a>(&'a self, profile: &'a Profile, scratch: &mut Scratch<'a>, streams: &mut StreamSet) {
        for (index, requirement) in self.requirements.iter().enumerate() {
            if !requirement.streams.iter().any(|&s| streams.contains(s as usize)) {
                continue;
            }
            let truth = match self.fused.requirements.get(index) {
                Some(test) if scratch.specialised => self.check(test, scratch, profile.fields(), profile),
                _ => self.truth(requirement.condition, scratch, profile),
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
        let mut scratch = Scratch::new(self);
        scratch.specialised = false;
        self.evaluate(profile, LazyScratch::Given(&mut scratch), |_, _| {}, Walk::Plain)
    }

    /// Evaluates a condition node.
    pub fn outcome<'a>(&'a self, node: NodeId, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Outcome {
        Outcome::of(self.truth(node, scratch, profile))
    }

    /// The three-valued truth of a condition: `Some(true)`, `Some(false)` or
    /// `None` for unknown. `not`, `and`, `or` (Kleene, short-circuit, as
    /// [`crate::eval::logic`] defines them) and comparisons are evaluated
    /// here, without building a value; any other node is evaluated and read
    /// as a truth.
    pub fn truth<'a>(&'a self, id: NodeId, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Option<bool> {
        match self.nodes.get(id as usize) {
            Some(Node::Not(a)) => logic::not(self.truth(*a, scratch, profile)),
            Some(Node::And(a, b)) => {
                Connective::And.then(self.truth(*a, scratch, profile), || self.truth(*b, scratch, profile))
            }
            Some(Node::Or(a, b)) => {
                Connective::Or.then(self.truth(*a, scratch, profile), || self.truth(*b, scratch, profile))
            }
            Some(Node::Compare(op, a, b)) => {
                let (a, b) = (self.operand(*a, scratch, profile), self.operand(*b, scratch, profile));
                logic::compare(*op, a, b)
            }
            Some(Node::Field { base: Base::Profile, path }) => {
                read(profile, Val::Record(profile.fields()), path).truth()
            }
            _ => self.eval(id, scratch, profile).truth(),
        }
    }

    /// Evaluates an operand: constants and profile fields directly, the
    /// rest through [`Program::eval`]. Most operands are one of the two.
    #[inline(always)]
    fn operand<'a>(&'a self, id: NodeId, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Val<'a> {
        match self.nodes.get(id as usize) {
            Some(Node::Const(c)) => Val::of_scalar(c),
            Some(Node::Field { base: Base::Profile, path }) => read(profile, Val::Record(profile.fields()), path),
            _ => self.eval(id, scratch, profile),
        }
    }

    /// Evaluates a node.
    pub fn eval<'a>(&'a self, id: NodeId, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Val<'a> {
        let Some(node) = self.nodes.get(id as usize) else { return Val::Unknown };
        match node {
            Node::Const(c) => Val::of_scalar(c),
            Node::Field { base, path } => {
                let start = match base {
                    Base::Profile => Val::Record(profile.fields()),
                    Base::Element(depth) => scratch.elements.get(*depth as usize),
                };
                read(profile, start, path)
            }
            Node::Def(index) => self.definition(*index, scratch, profile),
            // Conditions: one definition, in `test`.
            Node::Not(_) | Node::And(..) | Node::Or(..) | Node::Compare(..) => {
                Val::from_truth(self.truth(id, scratch, profile))
            }
            Node::Neg(a) => match self.operand(*a, scratch, profile) {
                Val::Int(i) => i.checked_neg().map_or(Val::Unknown, Val::Int),
                Val::Money(m) => m.checked_neg().map_or(Val::Unknown, Val::Money),
                Val::Number(n) => Val::Number(-n),
                _ => Val::Unknown,
            },
            Node::Arith(op, a, b) => {
                let (a, b) = (self.operand(*a, scratch, profile), self.operand(*b, scratch, profile));
                arith(*op, a, b)
            }
            Node::IntToNumber(a) => match self.operand(*a, scratch, profile) {
                Val::Int(i) => Val::Number(i as f64),
                _ => Val::Unknown,
            },
            Node::IntToMoney(a) => match self.operand(*a, scratch, profile) {
                Val::Int(i) => i.checked_mul(100).map_or(Val::Unknown, Val::Money),
                _ => Val::Unknown,
            },
            Node::MoneyToNumber(a) => match self.operand(*a, scratch, profile) {
                Val::Money(cents) => Val::Number(cents as f64 / 100.0),
                _ => Val::Unknown,
            },
            Node::NumberToMoney(a) => match self.operand(*a, scratch, profile) {
                Val::Number(n) => crate::value::nearest_cents(n).map_or(Val::Unknown, Val::Money),
                _ => Val::Unknown,
            },
            Node::Between(v, low, high) => {
                let value = self.operand(*v, scratch, profile);
                let low = logic::order(value, self.operand(*low, scratch, profile));
                Val::from_truth(logic::between(low, || logic::order(value, self.operand(*high, scratch, profile))))
            }
            Node::InSet(v, set) => Val::from_truth(logic::in_set(self.operand(*v, scratch, profile), set)),
            // `value == item or ...`, as written.
            Node::InItems(v, items) => {
                let value = self.operand(*v, scratch, profile);
                Val::from_truth(logic::any(
                    items.iter().map(|item| logic::compare(CmpOp::Eq, value, self.operand(*item, scratch, profile))),
                ))
            }
            // A known value is a member when it equals a known item.
            Node::InList(v, list) => {
                let value = self.operand(*v, scratch, profile);
                match self.operand(*list, scratch, profile) {
                    Val::List(items) => {
                        Val::from_truth(logic::membership(value != Val::Unknown, items.is_empty(), || {
                            Some(
                                items
                                    .iter()
                                    .any(|item| logic::order(value, Val::of(item, profile)) == Some(Ordering::Equal)),
                            )
                        }))
                    }
                    _ => Val::Unknown,
                }
            }
            Node::InHashedList { value, list, slot } => {
                let value = self.operand(*value, scratch, profile);
                if !matches!(scratch.lists.get(*slot as usize), Some(Some(_))) {
                    let hashed = Hashed::of(self.operand(*list, scratch, profile), profile);
                    if let Some(entry) = scratch.lists.get_mut(*slot as usize) {
                        *entry = Some(hashed);
                    }
                }
                match scratch.lists.get(*slot as usize) {
                    Some(Some(hashed)) => Val::from_truth(hashed.holds(value)),
                    _ => Val::Unknown,
                }
            }
            Node::Text(op, a, b) => match (self.operand(*a, scratch, profile), self.operand(*b, scratch, profile)) {
                (Val::Str(a), Val::Str(b)) => Val::Bool(match op {
                    TextOp::Contains => a.contains(b),
                    TextOp::StartsWith => a.starts_with(b),
                    TextOp::EndsWith => a.ends_with(b),
                }),
                _ => Val::Unknown,
            },
            Node::IsMissing(a) => Val::Bool(self.operand(*a, scratch, profile) == Val::Unknown),
            Node::Coalesce(a, b) => match self.operand(*a, scratch, profile) {
                Val::Unknown => self.operand(*b, scratch, profile),
                known => known,
            },
            Node::Aggregate(agg) => self.aggregate(agg, scratch, profile),
            Node::Bucket { value, salt, slot } => self.bucket(*value, salt, *slot, scratch, profile),
        }
    }

    /// `bucket(value, "salt")`, cached per profile in its slot.
    #[inline(never)]
    fn bucket<'a>(
        &'a self,
        value: NodeId,
        salt: &str,
        slot: Option<u32>,
        scratch: &mut Scratch<'a>,
        profile: &'a Profile,
    ) -> Val<'a> {
        if let Some(Some(cached)) = slot.and_then(|s| scratch.buckets.get(s as usize)) {
            return Val::Number(*cached);
        }
        let bucket = match self.operand(value, scratch, profile) {
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
        if let Some(entry) = slot.and_then(|s| scratch.buckets.get_mut(s as usize)) {
            *entry = Some(bucket);
        }
        Val::Number(bucket)
    }

    /// A definition's value, computed at most once per profile.
    pub(crate) fn definition<'a>(&'a self, index: u32, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Val<'a> {
        let index = index as usize;
        if let Some(Some(cached)) = scratch.definitions.get(index) {
            return *cached;
        }
        // A definition uses only definitions with smaller ids. Where they
        // chain deep, those are computed first, in id order, each with the
        // ones before it known: evaluation then recurses through one
        // definition's expression at a time, never the whole chain. They
        // have no effects, so computing one no rule needed changes nothing.
        if self.deep_definitions {
            while (scratch.prefetched as usize) < index {
                let before = scratch.prefetched;
                scratch.prefetched += 1;
                if let Some(None) = scratch.definitions.get(before as usize) {
                    self.definition(before, scratch, profile);
                }
            }
        }
        let Some(&root) = self.definitions.get(index) else { return Val::Unknown };
        let value = self.operand(root, scratch, profile);
        if let Some(slot) = scratch.definitions.get_mut(index) {
            *slot = Some(value);
        }
        value
    }

    /// An aggregate, out of line: its accumulator would make every other
    /// node's evaluation carry a larger stack frame.
    #[inline(never)]
    fn aggregate<'a>(&'a self, agg: &'a Aggregate, scratch: &mut Scratch<'a>, profile: &'a Profile) -> Val<'a> {
        if let Some(slot) = agg.cache {
            if let Some(Some(cached)) = scratch.aggregates.get(slot as usize) {
                return *cached;
            }
            let value = self.aggregate_uncached(agg, scratch, profile);
            if let Some(entry) = scratch.aggregates.get_mut(slot as usize) {
                *entry = Some(value);
            }
            return value;
        }
        self.aggregate_uncached(agg, scratch, profile)
    }

    fn aggregate_uncached<'a>(
        &'a self,
        agg: &'a Aggregate,
        scratch: &mut Scratch<'a>,
        profile: &'a Profile,
    ) -> Val<'a> {
        let Val::List(items) = self.operand(agg.list, scratch, profile) else { return Val::Unknown };
        let mut acc = Acc::new(agg.func, &agg.zero, agg.filter.is_some());
        for item in items.iter() {
            let element = Val::of(item, profile);
            let passes = match agg.filter {
                Some(filter) => {
                    scratch.elements.push(element);
                    let truth = match (&agg.fused_filter, item) {
                        (Some(test), Value::Record(fields)) if scratch.specialised => {
                            self.check(test, scratch, profile.items(*fields), profile)
                        }
                        _ => self.operand(filter, scratch, profile).truth(),
                    };
                    scratch.elements.pop();
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
            // The neutral truth: `any` of nothing is false, `all` true.
            AggregateFn::Any | AggregateFn::All => {
                Some(Val::Bool(!Connective::of(func == AggregateFn::All).decisive()))
            }
            AggregateFn::Count | AggregateFn::Min | AggregateFn::Max | AggregateFn::Avg => None,
        };
        Acc { func, value, total: 0, count: 0, any_unknown: false, filtered }
    }

    /// Adds one element; returns true when the result can no longer change.
    fn add(&mut self, passes: Option<bool>, value: Val<'a>) -> bool {
        match self.func {
            AggregateFn::Any | AggregateFn::All => {
                // With a filter the test is the filter; without, the element
                // itself. `any` is an `or` of the tests, `all` an `and`.
                let truth = if self.filtered { passes } else { value.truth() };
                let connective = Connective::of(self.func == AggregateFn::All);
                let so_far = connective.apply(self.value.and_then(Val::truth), truth);
                self.value = Some(Val::from_truth(so_far));
                so_far == Some(connective.decisive())
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
                        Some(if logic::order(value, acc) == Some(Ordering::Less) { value } else { acc })
                    }
                    (AggregateFn::Max, Some(acc)) => {
                        Some(if logic::order(value, acc) == Some(Ordering::Greater) { value } else { acc })
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
