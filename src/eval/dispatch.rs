//! Which rules can fire for a profile, found through indexes instead of
//! testing every rule.
//!
//! Campaigns generate rules by the thousand, each guarded by a test on one
//! field: an equality (`polling_place == "PP-OH-02001" and ...`,
//! `precinct in [...] and ...`) or a range (`scores.support between 40 and
//! 41 and ...`, `age >= 65 and ...`). A rule whose condition is an `and`
//! with such a guard among its operands is filed under the guard's field:
//! by value in a hash index, by interval in a range index. For a profile,
//! the field is read once and only the rules whose guard holds for its
//! value are evaluated: the guard of every other rule filed under the field
//! is false, so its `and` is false (whatever the other operands, unknown
//! included), and a false rule does nothing. When the field is missing the
//! guard is unknown, not false, so every rule of that index is evaluated.

use std::collections::HashMap;

use crate::decode::{Profile, Value};
use crate::eval::fused::{Region, RegionMasks};
use crate::eval::node::{ConstSet, Node, NodeId, Scalar};
use crate::eval::val::Val;
use crate::ir::{Base, CmpOp};

/// Rules in evaluation groups: always evaluated, or found through an index.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dispatch {
    /// Rules with no usable guard, by index in the checked order.
    pub always: Vec<u32>,
    /// One hash index per field guarded by equalities.
    pub indexes: Vec<Index>,
    /// One range index per field guarded by comparisons.
    pub ranges: Vec<RangeIndex>,
    /// By rule: how many range guards its condition is exactly the
    /// conjunction of (1 or 2), else 0. Such a rule found through a region
    /// of its range index (and for 2, of the nested index) is true without
    /// being evaluated: the region is where its guards hold.
    pub exact: Vec<u8>,
    /// By rule: the position of its guard among the operands of its
    /// top-level `and` chain (0 when the condition is the guard alone),
    /// `None` for a rule without one. A rule found through its index under
    /// a value (not through [`Index::all`] or [`RangeIndex::all`] for a
    /// missing field) has a true guard: its condition is then the other
    /// operands ([`crate::eval::specialise::Conditions::residuals`]).
    pub guard_at: Vec<Option<u32>>,
}

/// Rules by string: an open-addressing table built once, whose lookup
/// (one hash of the profile's bytes, a compare of the stored hash, then of
/// the bytes) costs about a third of a general hash map's on the short keys
/// of campaigns (`PP-OH-02001`), looked up twice per profile. Keys and
/// rules lie in two arenas, and a key's only rule in its entry: a lookup
/// touches the slots, one entry and the key's bytes, which matters once
/// thousands of keys no longer fit in the cache.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Strings {
    /// Index into `entries` + 1, by slot; 0 is empty. A power of two of
    /// slots, at least twice the entries.
    slots: Vec<u32>,
    /// Each key, in order of first filing.
    entries: Vec<Entry>,
    /// The keys' bytes, one after the other.
    bytes: Vec<u8>,
    /// The rules of the keys with more than one.
    rules: Vec<u32>,
    /// How far right a hash is shifted to give its slot.
    shift: u32,
}

/// A key of [`Strings`]: its hash, where its bytes are, and its rules: the
/// rule itself when it has one, else where they are.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Entry {
    hash: u64,
    key: u32,
    key_len: u32,
    rules: u32,
    rules_len: u32,
}

impl Strings {
    /// The hash of a key: its length, then its words of eight bytes, the
    /// last one overlapping the one before when the length is not a
    /// multiple of eight (a key of 8 to 16 bytes: its first and last eight);
    /// a short key in one word. No byte loop: keys are
    /// short, and equal hashes are told apart by comparing the bytes.
    #[inline]
    fn hash(key: &[u8]) -> u64 {
        let word = |bytes: &[u8; 8]| u64::from_le_bytes(*bytes);
        let half = |bytes: &[u8; 4]| u64::from(u32::from_le_bytes(*bytes));
        let mut hasher = FastHasher(key.len() as u64);
        match (key.first_chunk::<8>(), key.last_chunk::<8>()) {
            // Most keys: two words, which overlap below 16 bytes.
            (Some(first), Some(last)) if key.len() <= 16 => {
                hasher.add(word(first));
                hasher.add(word(last));
            }
            (Some(_), Some(last)) => {
                let mut chunks = key.chunks_exact(8);
                for chunk in &mut chunks {
                    hasher.add(chunk.first_chunk::<8>().map_or(0, word));
                }
                if !chunks.remainder().is_empty() {
                    hasher.add(word(last));
                }
            }
            _ => match (key.first_chunk::<4>(), key.last_chunk::<4>()) {
                (Some(first), Some(last)) => hasher.add(half(first) | half(last) << 32),
                _ => {
                    let byte = |i: usize| u64::from(key.get(i).copied().unwrap_or(0));
                    hasher.add(byte(0) | byte(key.len() / 2) << 8 | byte(key.len().wrapping_sub(1)) << 16);
                }
            },
        }
        hasher.0
    }

    fn build(keys: Vec<(Box<str>, Vec<u32>)>) -> Strings {
        let capacity = (2 * keys.len()).max(2).next_power_of_two();
        let shift = 64 - capacity.trailing_zeros();
        let mut table = Strings { slots: vec![0; capacity], shift, ..Strings::default() };
        let at = |len: usize| u32::try_from(len).unwrap_or(u32::MAX);
        for (key, rules) in keys {
            let hash = Strings::hash(key.as_bytes());
            let mut slot = table.slot_of(hash);
            while table.slots.get(slot).is_some_and(|&e| e != 0) {
                slot = (slot + 1) & (capacity - 1);
            }
            let entry = Entry {
                hash,
                key: at(table.bytes.len()),
                key_len: at(key.len()),
                rules: match rules.as_slice() {
                    [only] => *only,
                    _ => at(table.rules.len()),
                },
                rules_len: at(rules.len()),
            };
            table.bytes.extend_from_slice(key.as_bytes());
            if rules.len() != 1 {
                table.rules.extend_from_slice(&rules);
            }
            table.entries.push(entry);
            if let Some(place) = table.slots.get_mut(slot) {
                *place = at(table.entries.len());
            }
        }
        table
    }

    #[inline]
    fn slot_of(&self, hash: u64) -> usize {
        // The high bits, which the multiplication mixes best.
        hash.checked_shr(self.shift).unwrap_or(0) as usize
    }

    /// The rules filed under a key.
    #[inline]
    pub fn get(&self, key: &[u8]) -> Option<&[u32]> {
        let hash = Strings::hash(key);
        let mask = self.slots.len().wrapping_sub(1);
        let mut slot = self.slot_of(hash);
        loop {
            let index = (*self.slots.get(slot)? as usize).checked_sub(1)?;
            let entry = self.entries.get(index)?;
            if entry.hash == hash && entry.key_len as usize == key.len() {
                let start = entry.key as usize;
                if self.bytes.get(start..start + key.len()) == Some(key) {
                    return match entry.rules_len {
                        1 => Some(std::slice::from_ref(&entry.rules)),
                        len => self.rules.get(entry.rules as usize..entry.rules as usize + len as usize),
                    };
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The number of keys.
    #[cfg(any(test, feature = "internals"))]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    #[cfg(any(test, feature = "internals"))]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The hasher of the indexes: a multiply-rotate hash over eight bytes at a
/// time (as rustc's FxHash), several times faster than the default SipHash
/// on short keys. Flooding is no concern: the keys are the rule set's
/// constants, fixed when it is built, and a profile's value is only looked
/// up, so the worst a chosen value can do is land in the bucket of one key.
pub type Fast = std::hash::BuildHasherDefault<FastHasher>;

/// See [`Fast`].
#[derive(Clone, Copy, Default)]
pub struct FastHasher(u64);

impl FastHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl std::hash::Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word.iter_mut().zip(rest).for_each(|(w, b)| *w = *b);
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline]
    fn write_i64(&mut self, n: i64) {
        self.add(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The rules guarded by an equality on one field.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Index {
    /// The field's slot path from the profile.
    pub path: Box<[u32]>,
    /// Rules by the string their guard compares with.
    pub strings: Strings,
    /// Rules by the integer their guard compares with (ints, enum members,
    /// money in cents, dates, booleans).
    pub integers: HashMap<i64, Vec<u32>, Fast>,
    /// Every rule of the index, for a profile where the field is missing.
    pub all: Vec<u32>,
}

/// The rules guarded by a range on one numeric field (`int`, `number`,
/// `money`, `date`). The bounds cut the line into regions: region `2i` is
/// the open gap below `bounds[i]`, region `2i + 1` is `bounds[i]` itself,
/// and the last region is everything above the last bound.
///
/// Rules with a second range guard on another field (`scores.support
/// between 40 and 41 and age >= 30`) may be filed one level down: a
/// region's nested index over the second field holds them, so that of the
/// rules of a band only those whose second guard holds are evaluated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RangeIndex {
    /// The field's slot path from the profile.
    pub path: Box<[u32]>,
    /// Every bound of every guard, sorted, without repeats.
    pub bounds: Vec<f64>,
    /// The rules whose guard holds in each region, but those filed in the
    /// region's nested index.
    pub regions: Vec<Vec<u32>>,
    /// Each region's nested index, by region; empty when no region has one.
    pub nested: Vec<Option<RangeIndex>>,
    /// Every rule of the index, for a missing field or a value beyond the
    /// exact range of `f64`.
    pub all: Vec<u32>,
    /// The regions by integer, when the bounds are integers close together.
    pub dense: Option<Dense>,
}

/// The regions of a range index by integer, for bounds that are all
/// integers close together (scores from 0 to 100, ages): a value's region
/// in a few instructions instead of a binary search. Exactly the regions
/// [`RangeIndex::region`] finds by searching the bounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dense {
    /// The first bound.
    low: i64,
    /// For each integer from the first bound to the last: its region, and
    /// the region of the values strictly between it and the next integer.
    regions: Vec<(u32, u32)>,
    /// The region above the last bound.
    above: u32,
}

/// The widest span of bounds a [`Dense`] table covers.
const DENSE_SPAN: f64 = 4096.0;

impl Dense {
    fn build(bounds: &[f64]) -> Option<Dense> {
        let (&first, &last) = (bounds.first()?, bounds.last()?);
        if bounds.iter().any(|b| b.fract() != 0.0) || last - first > DENSE_SPAN {
            return None;
        }
        let region = |value: f64| {
            let i = bounds.partition_point(|b| *b < value);
            let region = if bounds.get(i) == Some(&value) { 2 * i + 1 } else { 2 * i };
            u32::try_from(region).ok()
        };
        let (low, high) = (first as i64, last as i64);
        let regions =
            (low..=high).map(|k| Some((region(k as f64)?, region(k as f64 + 0.5)?))).collect::<Option<_>>()?;
        Some(Dense { low, regions, above: u32::try_from(2 * bounds.len()).ok()? })
    }

    /// The region of a finite value within the exact range of `f64`.
    #[inline]
    fn region(&self, value: f64) -> usize {
        // The floor, without a call: the value is exact as an integer.
        let truncated = value as i64;
        let floor = if truncated as f64 > value { truncated - 1 } else { truncated };
        match usize::try_from(floor - self.low) {
            // Below the first bound: the first region.
            Err(_) => 0,
            Ok(k) => match self.regions.get(k) {
                Some(&(at, above)) => (if floor as f64 == value { at } else { above }) as usize,
                // Past the last integer of the table: above the last bound.
                None => self.above as usize,
            },
        }
    }
}

/// Integers within this magnitude are exact as `f64`, so they order alike.
const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52

/// One end of an interval: the bound and whether it is included; `None`
/// is unbounded.
type Bound = Option<(f64, bool)>;

/// A second range guard: its field and interval.
type Second<'a> = Option<(&'a [u32], Bound, Bound)>;

/// A rule filed in a range index, with its interval and its second guard.
type Ranged<'a> = (u32, Bound, Bound, Second<'a>);

/// What a guard compares its field with: constants it equals, or a range.
enum GuardValues<'a> {
    Strings(Vec<&'a str>),
    Integers(Vec<i64>),
    /// `low` and `high`, a second range guard on another field, and how
    /// many range guards the condition is exactly the conjunction of.
    Range(Bound, Bound, Second<'a>, u8),
}

/// Files each rule under its guard, or in [`Dispatch::always`].
pub fn build(nodes: &[Node], conditions: &[NodeId]) -> Dispatch {
    let mut equal: Vec<Index> = Vec::new();
    // Each equality index's rules by string, in order of first filing.
    let mut strings: Vec<indexmap::IndexMap<Box<str>, Vec<u32>>> = Vec::new();
    let mut ranged: Vec<(Box<[u32]>, Vec<Ranged<'_>>)> = Vec::new();
    // Where each field's index is, so that finding it does not grow with
    // the number of fields guarded.
    let mut equal_at: HashMap<Box<[u32]>, usize> = HashMap::new();
    let mut ranged_at: HashMap<Box<[u32]>, usize> = HashMap::new();
    let mut always = Vec::new();
    let mut exact = vec![0; conditions.len()];
    let mut guard_at = vec![None; conditions.len()];
    for (rule, &condition) in conditions.iter().enumerate() {
        let rule = u32::try_from(rule).unwrap_or(u32::MAX);
        let found = guard(nodes, condition);
        if let (Some(slot), Some((_, _, at))) = (guard_at.get_mut(rule as usize), &found) {
            *slot = Some(*at);
        }
        match found.map(|(path, test, _)| (path, test)) {
            None => always.push(rule),
            Some((path, GuardValues::Range(low, high, second, whole))) => {
                if let Some(slot) = exact.get_mut(rule as usize) {
                    *slot = whole;
                }
                let position = *ranged_at.entry(path.into()).or_insert_with(|| {
                    ranged.push((path.into(), Vec::new()));
                    ranged.len() - 1
                });
                if let Some((_, rules)) = ranged.get_mut(position) {
                    rules.push((rule, low, high, second));
                }
            }
            Some((path, test)) => {
                let position = *equal_at.entry(path.into()).or_insert_with(|| {
                    equal.push(Index { path: path.into(), ..Index::default() });
                    strings.push(indexmap::IndexMap::new());
                    equal.len() - 1
                });
                let (Some(index), Some(by_string)) = (equal.get_mut(position), strings.get_mut(position)) else {
                    continue;
                };
                match test {
                    GuardValues::Strings(keys) => {
                        for key in keys {
                            by_string.entry(key.into()).or_default().push(rule);
                        }
                    }
                    GuardValues::Integers(keys) => {
                        for key in keys {
                            index.integers.entry(key).or_default().push(rule);
                        }
                    }
                    GuardValues::Range(..) => {}
                }
                index.all.push(rule);
            }
        }
    }
    for (index, by_string) in equal.iter_mut().zip(strings) {
        index.strings = Strings::build(by_string.into_iter().collect());
    }
    // An index for one or two rules saves nothing: evaluate them directly.
    let (indexes, small): (Vec<Index>, Vec<Index>) = equal.into_iter().partition(|i| i.all.len() > 2);
    always.extend(small.iter().flat_map(|i| i.all.iter().copied()));
    let mut ranges = Vec::new();
    for (path, rules) in ranged {
        match range_index(path, &rules) {
            Some(index) => ranges.push(index),
            None => always.extend(rules.iter().map(|(rule, ..)| *rule)),
        }
    }
    always.sort_unstable();
    Dispatch { always, indexes, ranges, exact, guard_at }
}

/// A range index over the rules' intervals, unless it would not pay: too
/// few rules, or intervals overlapping so much that the regions would hold
/// many times the rules (nested `age >= 18`, `age >= 19`, ...).
fn range_index(path: Box<[u32]>, rules: &[Ranged<'_>]) -> Option<RangeIndex> {
    if rules.len() <= 2 {
        return None;
    }
    let mut bounds: Vec<f64> = rules.iter().flat_map(|(_, low, high, _)| [low, high]).flatten().map(|b| b.0).collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    let position = |value: f64| bounds.partition_point(|b| *b < value);
    let mut regions: Vec<Vec<Ranged<'_>>> = vec![Vec::new(); 2 * bounds.len() + 1];
    let budget = 16 * rules.len() + 4096;
    let mut filed = 0;
    for &ranged in rules {
        let (_, low, high, _) = ranged;
        let first = match low {
            None => 0,
            Some((b, included)) => 2 * position(b) + if included { 1 } else { 2 },
        };
        let last = match high {
            None => 2 * bounds.len(),
            Some((b, included)) => 2 * position(b) + usize::from(included),
        };
        // An empty interval (`between 5 and 3`) never holds: filed nowhere.
        if first > last {
            continue;
        }
        for region in regions.get_mut(first..=last.min(2 * bounds.len()))?.iter_mut() {
            region.push(ranged);
            filed += 1;
        }
        if filed > budget {
            return None;
        }
    }
    let mut direct = Vec::with_capacity(regions.len());
    let mut nested = Vec::with_capacity(regions.len());
    for region in regions {
        let (rules, index) = nest(region);
        direct.push(rules);
        nested.push(index);
    }
    if nested.iter().all(Option::is_none) {
        nested.clear();
    }
    let all = rules.iter().map(|(rule, ..)| *rule).collect();
    let dense = Dense::build(&bounds);
    Some(RangeIndex { path, bounds, regions: direct, nested, all, dense })
}

/// A region's rules: those evaluated directly, and a nested index over the
/// second guards of the others when it pays (more than two rules guarded by
/// the same second field).
fn nest(region: Vec<Ranged<'_>>) -> (Vec<u32>, Option<RangeIndex>) {
    let mut counts: HashMap<&[u32], usize> = HashMap::new();
    for (_, _, _, second) in &region {
        if let Some((path, ..)) = second {
            *counts.entry(path).or_default() += 1;
        }
    }
    // The most common second field; the first in path order among equals,
    // so that the index does not depend on hashing.
    let best = counts.into_iter().filter(|(_, n)| *n > 2).max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)));
    let Some((field, _)) = best else { return (region.iter().map(|r| r.0).collect(), None) };
    let (inner, direct): (Vec<Ranged<'_>>, Vec<Ranged<'_>>) =
        region.into_iter().partition(|(_, _, _, second)| second.is_some_and(|(path, ..)| path == field));
    let inner: Vec<Ranged<'_>> = inner
        .into_iter()
        .filter_map(|(rule, _, _, second)| second.map(|(_, low, high)| (rule, low, high, None)))
        .collect();
    match range_index(field.into(), &inner) {
        Some(index) => (direct.iter().map(|r| r.0).collect(), Some(index)),
        None => {
            let mut rules: Vec<u32> = direct.iter().chain(&inner).map(|r| r.0).collect();
            rules.sort_unstable();
            (rules, None)
        }
    }
}

impl RangeIndex {
    /// The rules whose guard can hold for a value of the field, but those
    /// of the region's nested index ([`RangeIndex::find`]).
    #[cfg(any(test, feature = "internals"))]
    pub fn rules_for(&self, value: f64) -> &[u32] {
        self.find(value).0
    }

    /// The rules whose guard can hold for a value of the field, and the
    /// nested index of the others.
    #[cfg(any(test, feature = "internals"))]
    pub fn find(&self, value: f64) -> (&[u32], Option<&RangeIndex>) {
        match self.region(value) {
            Some(region) => (
                self.regions.get(region).map_or(&[][..], Vec::as_slice),
                self.nested.get(region).and_then(Option::as_ref),
            ),
            None => (&self.all, None),
        }
    }

    /// The rules filed in a region, but those of its nested index.
    pub fn rules_in(&self, region: usize) -> &[u32] {
        self.regions.get(region).map_or(&[][..], Vec::as_slice)
    }

    /// The region of a value, where every guard filed in it holds; `None`
    /// for a value beyond the exact range of `f64`.
    pub fn region(&self, value: f64) -> Option<usize> {
        if !value.is_finite() || value.abs() > EXACT {
            return None;
        }
        if let Some(dense) = &self.dense {
            return Some(dense.region(value));
        }
        let i = self.bounds.partition_point(|b| *b < value);
        let region = if self.bounds.get(i) == Some(&value) { 2 * i + 1 } else { 2 * i };
        (region < self.regions.len()).then_some(region)
    }
}

/// What the walk of the indexes finds for a profile ([`Dispatch::walk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A rule found without its guard's value (the field is missing, or of
    /// a kind no guard compares with): its guard is unknown, so its whole
    /// condition decides.
    Unguarded(u32),
    /// A rule found under its guard's value: the guard holds, so the other
    /// operands of its `and` chain decide (its residual,
    /// [`crate::eval::fused::Conditions::residuals`]); its whole condition has
    /// the same truth.
    Guarded(u32),
    /// A rule that is exactly its range guards ([`Dispatch::exact`]),
    /// found in the region where they hold: true.
    True(u32),
    /// The rules a region decides, as one mask: an index into
    /// [`crate::eval::fused::Conditions::masks`] of the streams they assign and
    /// suppress, all of them true.
    Decided(u32),
}

impl Dispatch {
    /// Walks the indexes of at least `from` rules for a profile, telling
    /// `visit` every rule whose guard can hold, and how it was found; the
    /// rules of an index it does not tell are false. [`Dispatch::always`] is
    /// left to the caller.
    ///
    /// `regions`, one per range index when given ([`crate::eval::fused::Conditions::regions`]),
    /// lets a region tell the rules it decides as one [`Found::Decided`]
    /// mask; without them every rule is told one by one (an observer
    /// wants each outcome).
    ///
    /// The interpreter ([`crate::eval::interpret`]) and native code in part
    /// (which evaluated the other rules) both walk here. Generic over
    /// `visit`, so each caller's walk is compiled with its visit inlined.
    #[inline]
    pub(crate) fn walk(&self, profile: &Profile, regions: &[RegionMasks], from: usize, mut visit: impl FnMut(Found)) {
        let walked = |rules: &[u32]| walks(rules, from);
        for index in self.indexes.iter().filter(|index| walked(&index.all)) {
            let (rules, found) = index.find(profile, profile.at(&index.path));
            let found = if found { Found::Guarded } else { Found::Unguarded };
            rules.iter().for_each(|&rule| visit(found(rule)));
        }
        for (i, index) in self.ranges.iter().enumerate().filter(|(_, index)| walked(&index.all)) {
            let masks = regions.get(i);
            let Some(region) = range_key(profile, &index.path).and_then(|v| index.region(v)) else {
                index.all.iter().for_each(|&rule| visit(Found::Unguarded(rule)));
                continue;
            };
            // Found through the region: the first guard holds.
            let decided = masks.and_then(|m| m.direct.get(region));
            self.visit_region(decided, index.rules_in(region), 1, &mut visit);
            // Rules with a second guard, found by it.
            let Some(nested) = index.nested.get(region).and_then(Option::as_ref) else { continue };
            match range_key(profile, &nested.path).and_then(|v| nested.region(v)) {
                Some(inner) => {
                    let decided = masks.and_then(|m| m.nested.get(region)?.as_ref()?.get(inner));
                    self.visit_region(decided, nested.rules_in(inner), 2, &mut visit);
                }
                None => nested.all.iter().for_each(|&rule| visit(Found::Guarded(rule))),
            }
        }
    }

    /// The rules of the indexes the walk from `from` leaves out (native code
    /// evaluates them), with repeats.
    #[cfg(feature = "jit")]
    pub(crate) fn unwalked(&self, from: usize) -> impl Iterator<Item = u32> + '_ {
        let hashed = self.indexes.iter().map(|index| &index.all);
        let ranged = self.ranges.iter().map(|index| &index.all);
        hashed.chain(ranged).filter(move |all| !walks(all, from)).flatten().copied()
    }

    /// The rules of a region where `guards` range guards hold: its decided
    /// mask and the others when it has one, else each rule, true when it is
    /// exactly those guards.
    #[inline(always)]
    fn visit_region(&self, decided: Option<&Region>, rules: &[u32], guards: u8, visit: &mut impl FnMut(Found)) {
        match decided {
            Some((mask, rest)) => {
                visit(Found::Decided(*mask));
                rest.iter().for_each(|&rule| visit(Found::Guarded(rule)));
            }
            None => {
                for &rule in rules {
                    let exact = self.exact.get(rule as usize) == Some(&guards);
                    visit(if exact { Found::True(rule) } else { Found::Guarded(rule) });
                }
            }
        }
    }
}

impl Index {
    /// The rules whose guard can hold for the field's value (`None`: the
    /// path leads nowhere), and whether they were found under it (their
    /// guard then holds); for a missing value, or one of a kind no guard
    /// compares with, every rule of the index, not found.
    #[inline]
    pub(crate) fn find(&self, profile: &Profile, value: Option<&Value>) -> (&[u32], bool) {
        match value {
            Some(Value::String(s)) => (self.strings.get(profile.text_bytes(*s)).unwrap_or_default(), true),
            None | Some(Value::Missing) => (&self.all, false),
            Some(other) => match Val::of(other, profile).as_integer() {
                Some(i) => (self.integers.get(&i).map_or(&[][..], Vec::as_slice), true),
                None => (&self.all, false),
            },
        }
    }
}

/// Whether the walk from `from` takes an index of these rules.
#[inline(always)]
fn walks(rules: &[u32], from: usize) -> bool {
    rules.len() >= from
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

/// The guard of a condition: an operand of its top-level `and` chain that
/// tests a profile field against constants, with its position in the
/// chain. An equality is preferred to a range, which narrows less.
fn guard(nodes: &[Node], condition: NodeId) -> Option<(&[u32], GuardValues<'_>, u32)> {
    // Range guards in the order of the chain: the first is the guard, the
    // first on another field its second.
    let mut ranges: Vec<(&[u32], Bound, Bound, u32)> = Vec::new();
    let mut operands = 0;
    let mut stack = vec![condition];
    while let Some(id) = stack.pop() {
        let node = nodes.get(id as usize)?;
        operands += usize::from(!matches!(node, Node::And(..)));
        let at = u32::try_from(operands.saturating_sub(1)).unwrap_or(u32::MAX);
        match node {
            Node::And(a, b) => {
                stack.push(*b);
                stack.push(*a);
            }
            Node::Compare(op, a, b) => {
                let (path, constant, op) = match (field(nodes, *a), constant(nodes, *b)) {
                    (Some(path), Some(c)) => (path, c, *op),
                    _ => match (field(nodes, *b), constant(nodes, *a)) {
                        (Some(path), Some(c)) => (path, c, op.flipped()),
                        _ => continue,
                    },
                };
                if op == CmpOp::Eq {
                    match constant {
                        Scalar::Str(s) => return Some((path, GuardValues::Strings(vec![s]), at)),
                        other => {
                            if let Some(i) = other.as_integer() {
                                return Some((path, GuardValues::Integers(vec![i]), at));
                            }
                        }
                    }
                }
                if let Some(c) = number(constant) {
                    let range = match op {
                        CmpOp::Eq => Some((Some((c, true)), Some((c, true)))),
                        CmpOp::Lt => Some((None, Some((c, false)))),
                        CmpOp::Le => Some((None, Some((c, true)))),
                        CmpOp::Gt => Some((Some((c, false)), None)),
                        CmpOp::Ge => Some((Some((c, true)), None)),
                        CmpOp::Ne => None,
                    };
                    if let Some((low, high)) = range {
                        ranges.push((path, low, high, at));
                    }
                }
            }
            Node::Between(value, low, high) => {
                let (Some(path), Some(low), Some(high)) =
                    (field(nodes, *value), constant(nodes, *low), constant(nodes, *high))
                else {
                    continue;
                };
                if let (Some(low), Some(high)) = (number(low), number(high)) {
                    ranges.push((path, Some((low, true)), Some((high, true)), at));
                }
            }
            Node::InSet(value, set) => {
                let Some(path) = field(nodes, *value) else { continue };
                match &**set {
                    ConstSet::Strings(items) => {
                        return Some((path, GuardValues::Strings(items.iter().map(|s| &**s).collect()), at));
                    }
                    ConstSet::FewStrings(items) => {
                        return Some((path, GuardValues::Strings(items.iter().map(|s| &**s).collect()), at));
                    }
                    ConstSet::Integers(items) => {
                        return Some((path, GuardValues::Integers(items.iter().copied().collect()), at));
                    }
                    ConstSet::Numbers(_) => {}
                }
            }
            _ => {}
        }
    }
    let (path, low, high, at) = *ranges.first()?;
    let second = ranges.iter().find(|(other, ..)| *other != path).map(|&(path, low, high, _)| (path, low, high));
    // Every operand is a guard used: the first alone, or both.
    let whole = match (operands, ranges.len(), second) {
        (1, 1, None) => 1,
        (2, 2, Some(_)) => 2,
        _ => 0,
    };
    Some((path, GuardValues::Range(low, high, second, whole), at))
}

fn field(nodes: &[Node], id: NodeId) -> Option<&[u32]> {
    match nodes.get(id as usize)? {
        Node::Field { base: Base::Profile, path } => Some(path),
        _ => None,
    }
}

fn constant(nodes: &[Node], id: NodeId) -> Option<&Scalar> {
    match nodes.get(id as usize)? {
        Node::Const(c) if !matches!(c, Scalar::Unknown) => Some(c),
        _ => None,
    }
}

/// A numeric constant on the line of its type, when it orders exactly as
/// an `f64`.
fn number(constant: &Scalar) -> Option<f64> {
    let value = match constant {
        Scalar::Int(i) | Scalar::Money(i) => *i as f64,
        Scalar::Date(d) => f64::from(d.0),
        Scalar::Number(n) => *n,
        _ => return None,
    };
    (value.is_finite() && value.abs() <= EXACT).then_some(value)
}
