//! The serde path of decoding: seeds that read JSON text into a
//! [`Profile`] by the schema, and the one reading of a number literal that
//! the scanner ([`super::scan`]) shares.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::profile::{Profile, ProfileError, Reads, Slice, Value};
use crate::ir::{RecordId, Schema, Type};
use crate::value::{cents_of_number, parse_cents, Date, MONEY_NUMBER_LIMIT};

/// What went wrong, found deep in the value; the path is added on the way out.
#[derive(Debug)]
pub(super) enum Problem {
    NotAnObject {
        found: &'static str,
    },
    Missing,
    Duplicate,
    WrongType {
        expected: String,
        found: &'static str,
    },
    Invalid {
        expected: String,
    },
    /// Beyond the 4 GiB a profile's buffers address.
    TooLarge,
    /// A syntax error inside a value read again from its own text (see
    /// [`ValueSeed::decode_raw`]), with its place in the whole text.
    Json {
        reason: String,
    },
}

/// One decoding: what the seeds of one profile share, and the problem
/// they found with its path.
pub(super) struct Decoding<'s, 'de> {
    pub(super) schema: &'s Schema,
    pub(super) reads: &'s Reads,
    pub(super) id: Option<&'s str>,
    /// The whole text decoded: where a value read again from its own text
    /// lies, for the column of an error in it.
    pub(super) text: &'de str,
    pub(super) captured: Cell<Option<&'de RawValue>>,
    pub(super) problem: RefCell<Option<Problem>>,
    /// The path to the problem, innermost part first.
    pub(super) path: RefCell<Vec<Part>>,
}

pub(super) enum Part {
    Field(String),
    Index(usize),
}

impl<'s, 'de> Decoding<'s, 'de> {
    pub(super) fn new(schema: &'s Schema, reads: &'s Reads, id: Option<&'s str>, text: &'de str) -> Decoding<'s, 'de> {
        Decoding {
            schema,
            reads,
            id,
            text,
            captured: Cell::new(None),
            problem: RefCell::new(None),
            path: RefCell::new(Vec::new()),
        }
    }

    /// Records a problem and stops decoding with a placeholder error.
    pub(super) fn fail<E: de::Error>(&self, problem: Problem) -> E {
        *self.problem.borrow_mut() = Some(problem);
        E::custom("narval: profile does not fit the schema")
    }

    /// Adds a part to the path of a problem found below.
    pub(super) fn within<T, E>(&self, part: impl FnOnce() -> Part, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() && self.problem.borrow().is_some() {
            self.path.borrow_mut().push(part());
        }
        result
    }

    pub(super) fn finish(
        &self,
        result: Result<Value, serde_json::Error>,
        profile: &mut Profile,
    ) -> Result<(), ProfileError> {
        let problem = self.problem.borrow_mut().take();
        match (result, problem) {
            // INVARIANT: the root record reserves its slots first, at 0.
            (Ok(Value::Record(slice)), None) if slice.start == 0 => {
                profile.root = slice.len as usize;
                Ok(())
            }
            (Ok(_), None) => Err(ProfileError::NotAnObject { found: "another value" }),
            (Err(error), None) => Err(ProfileError::InvalidJson { reason: json_reason(&error) }),
            (_, Some(problem)) => {
                let field = self.render_path();
                Err(match problem {
                    Problem::NotAnObject { found } => ProfileError::NotAnObject { found },
                    Problem::Missing => ProfileError::MissingField { field },
                    Problem::Duplicate => ProfileError::DuplicateField { field },
                    Problem::WrongType { expected, found } => ProfileError::WrongType { field, expected, found },
                    Problem::Invalid { expected } => ProfileError::InvalidValue { field, expected },
                    Problem::TooLarge => {
                        ProfileError::InvalidValue { field, expected: "a value of a profile under 4 GiB".into() }
                    }
                    Problem::Json { reason } => ProfileError::InvalidJson { reason },
                })
            }
        }
    }

    pub(super) fn render_path(&self) -> String {
        let mut out = String::new();
        for part in self.path.borrow().iter().rev() {
            match part {
                Part::Field(name) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(name);
                }
                Part::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// A record of the schema: a JSON object.
pub(super) struct RecordSeed<'c, 's, 'o, 'de> {
    pub(super) decoding: &'c Decoding<'s, 'de>,
    pub(super) out: &'o mut Profile,
    pub(super) record: RecordId,
    pub(super) root: bool,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_, '_, '_, 'de> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_, '_, '_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let RecordSeed { decoding, out, record, root } = self;
        let Some(record) = decoding.schema.records.get(record) else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Record(Slice::default()));
        };
        let fields = &record.fields;
        // The record's slots, reserved before its nested values are decoded
        // after them.
        let start = out.values.len();
        out.values.resize(start + fields.len(), Value::Missing);
        let mut seen = Seen::new(fields.len());
        // Keys the schema does not name, to find one written twice.
        let mut unknown: Option<std::collections::HashSet<String>> = None;
        let id = if root { decoding.id } else { None };
        // Keys usually come in the schema's order: the slot after the last
        // one found is tried first.
        let mut next = 0;
        while let Some(key) = map.next_key_seed(KeySeed { fields, id, next })? {
            let (slot, is_id) = (key.slot, key.id);
            next = slot.map_or(next, |s| s + 1);
            if let Some(name) = key.unknown {
                // A key twice is refused wherever it is in an object read,
                // named by the schema or not.
                if !unknown.get_or_insert_with(Default::default).insert(name.clone()) {
                    decoding.path.borrow_mut().push(Part::Field(name));
                    return Err(decoding.fail(Problem::Duplicate));
                }
            }
            let read = slot.filter(|&s| !root || decoding.reads.get(s));
            if let (Some(slot), None) = (slot, read) {
                // A field no rule reads is skipped, but not twice.
                if let Some((_, field)) = fields.get_index(slot) {
                    if !seen.insert(slot) {
                        decoding.path.borrow_mut().push(Part::Field(field.name.clone()));
                        return Err(decoding.fail(Problem::Duplicate));
                    }
                }
            }
            if is_id {
                let raw: &'de RawValue = map.next_value()?;
                decoding.captured.set(Some(raw));
                if let Some(slot) = read {
                    let value = decode_field(decoding, fields, slot, &mut seen, |ty, optional, cents| {
                        ValueSeed { decoding, out: &mut *out, ty, optional, cents }.decode_raw(raw)
                    })?;
                    if let Some(v) = out.values.get_mut(start + slot) {
                        *v = value;
                    }
                }
                continue;
            }
            let Some(slot) = read else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let value = decode_field(decoding, fields, slot, &mut seen, |ty, optional, cents| {
                map.next_value_seed(ValueSeed { decoding, out: &mut *out, ty, optional, cents })
            })?;
            if let Some(v) = out.values.get_mut(start + slot) {
                *v = value;
            }
        }
        for (slot, field) in fields.values().enumerate() {
            let read = !root || decoding.reads.get(slot);
            if read && !field.optional && !seen.has(slot) {
                decoding.path.borrow_mut().push(Part::Field(field.name.clone()));
                return Err(decoding.fail(Problem::Missing));
            }
        }
        Slice::new(start, fields.len()).map(Value::Record).ok_or_else(|| decoding.fail(Problem::TooLarge))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Value, E> {
        Err(self.not_an_object("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Value, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Value, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Err(self.not_an_object("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Value, E> {
        Err(self.not_an_object("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Err(self.not_an_object("null"))
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Err(self.not_an_object("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Value, A::Error> {
        Err(self.not_an_object("an array"))
    }
}

impl<'de> RecordSeed<'_, '_, '_, 'de> {
    pub(super) fn not_an_object<E: de::Error>(&self, found: &'static str) -> E {
        if self.root {
            self.decoding.fail(Problem::NotAnObject { found })
        } else {
            self.decoding.fail(Problem::WrongType { expected: "an object".into(), found })
        }
    }
}

/// Decodes the value of a field, once.
pub(super) fn decode_field<'s, E: de::Error>(
    decoding: &Decoding<'s, '_>,
    fields: &'s indexmap::IndexMap<String, crate::ir::Field>,
    slot: usize,
    seen: &mut Seen,
    decode: impl FnOnce(&'s Type, bool, bool) -> Result<Value, E>,
) -> Result<Value, E> {
    let Some((_, field)) = fields.get_index(slot) else {
        return Ok(Value::Missing);
    };
    if !seen.insert(slot) {
        decoding.path.borrow_mut().push(Part::Field(field.name.clone()));
        return Err(decoding.fail(Problem::Duplicate));
    }
    let result = decode(&field.ty, field.optional, field.cents);
    decoding.within(|| Part::Field(field.name.clone()), result)
}

/// The fields of one object already read: a bit mask, on the heap only for
/// records of more than 64 fields.
pub(super) enum Seen {
    Mask(u64),
    Flags(Vec<bool>),
}

impl Seen {
    pub(super) fn new(fields: usize) -> Seen {
        if fields <= 64 {
            Seen::Mask(0)
        } else {
            Seen::Flags(vec![false; fields])
        }
    }

    pub(super) fn has(&self, slot: usize) -> bool {
        match self {
            Seen::Mask(mask) => slot < 64 && mask & (1 << slot) != 0,
            Seen::Flags(flags) => flags.get(slot).copied().unwrap_or(false),
        }
    }

    /// Marks a slot; `false` when it was already marked.
    pub(super) fn insert(&mut self, slot: usize) -> bool {
        let was = self.has(slot);
        match self {
            Seen::Mask(mask) if slot < 64 => *mask |= 1 << slot,
            Seen::Mask(_) => {}
            Seen::Flags(flags) => {
                if let Some(flag) = flags.get_mut(slot) {
                    *flag = true;
                }
            }
        }
        !was
    }
}

/// A key of an object: the slot of the field it names, if any, and whether
/// it is the id to capture.
pub(super) struct Key {
    pub(super) slot: Option<usize>,
    pub(super) id: bool,
    /// The key, when the schema does not name it.
    pub(super) unknown: Option<String>,
}

pub(super) struct KeySeed<'a> {
    pub(super) fields: &'a indexmap::IndexMap<String, crate::ir::Field>,
    pub(super) id: Option<&'a str>,
    /// The slot to try first.
    pub(super) next: usize,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Key;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        if let Some((name, _)) = self.fields.get_index(self.next) {
            if name == key {
                return Ok(Key { slot: Some(self.next), id: self.id == Some(key), unknown: None });
            }
        }
        // Records have few fields: comparing names beats hashing the key.
        let slot = if self.fields.len() <= 32 {
            self.fields.keys().position(|name| name.len() == key.len() && name == key)
        } else {
            self.fields.get_index_of(key)
        };
        let unknown = slot.is_none().then(|| key.to_owned());
        Ok(Key { slot, id: self.id == Some(key), unknown })
    }
}

/// A value of a schema type.
pub(super) struct ValueSeed<'c, 's, 'o, 't, 'de> {
    pub(super) decoding: &'c Decoding<'s, 'de>,
    pub(super) out: &'o mut Profile,
    pub(super) ty: &'t Type,
    pub(super) optional: bool,
    /// `money in cents`: amounts arrive as whole cents, not dollars.
    pub(super) cents: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, '_, '_, 'de> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.ty {
            // A number is read from its text, by the rule the scanner
            // follows too ([`number_literal`]): serde_json's value of
            // `1e-400` (0) cannot tell it from `0`.
            Type::Int | Type::Number | Type::Money => {
                let raw = <&'de RawValue as serde::Deserialize>::deserialize(deserializer)?;
                self.decode_raw(raw)
            }
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> ValueSeed<'_, '_, '_, '_, 'de> {
    /// A value from its JSON text, a part of [`Decoding::text`]: a number by
    /// [`number_literal`], anything else by serde, with the column of an
    /// error counted in the whole text.
    pub(super) fn decode_raw<E: de::Error>(self, raw: &'de RawValue) -> Result<Value, E> {
        let text = raw.get();
        if let Some(b'-' | b'0'..=b'9') = text.bytes().next() {
            return self.number(number_literal(text));
        }
        let decoding = self.decoding;
        let mut de = serde_json::Deserializer::from_str(text);
        let result = de::Deserializer::deserialize_any(&mut de, self).and_then(|v| de.end().map(|()| v));
        result.map_err(|error| {
            if decoding.problem.borrow().is_none() {
                // `raw` is a slice of the text: its offset is exact.
                let offset = (text.as_ptr() as usize).wrapping_sub(decoding.text.as_ptr() as usize);
                let before = decoding.text.get(..offset).unwrap_or_default();
                let column = match error.line() {
                    1 => before.len() - before.rfind('\n').map_or(0, |n| n + 1) + error.column(),
                    _ => error.column(),
                };
                let reason = json_reason(&error);
                let what = reason.split(" at column").next().unwrap_or_default();
                return decoding.fail(Problem::Json { reason: format!("{what} at column {column}") });
            }
            E::custom("narval: profile does not fit the schema")
        })
    }

    /// A number literal's value as the schema type asks.
    pub(super) fn number<E: de::Error>(self, number: Option<Number>) -> Result<Value, E> {
        match number {
            Some(Number::Unsigned(u)) => self.visit_u64(u),
            Some(Number::Negative(i)) => self.visit_i64(i),
            Some(Number::Float { value, integral }) => self.float(value, integral),
            None => match self.ty {
                Type::Int => Err(self.invalid("a whole number within the range of `int`")),
                Type::Money => self.money(None),
                Type::Number => Err(self.invalid(OUT_OF_RANGE)),
                _ => Err(self.wrong("a number")),
            },
        }
    }

    /// A number with a fraction or an exponent, or an integer beyond 64
    /// bits; `integral` when its literal is a whole number (`3.0`, `1e2`).
    pub(super) fn float<E: de::Error>(self, f: f64, integral: bool) -> Result<Value, E> {
        match self.ty {
            // `3.0` from a spreadsheet export is the integer 3; not
            // `3.0000000000000001`, although it is the same double.
            Type::Int if integral && f.abs() < 9.0e15 => Ok(Value::Int(f as i64)),
            Type::Int => Err(self.invalid("a whole number within the range of `int`")),
            Type::Number if f.is_finite() => Ok(Value::Number(f)),
            Type::Number => Err(self.invalid(OUT_OF_RANGE)),
            // A number of cents written `1250.0` is 1250 cents; a fraction of
            // a cent is not an amount.
            Type::Money if self.cents => match integral && f.abs() < 9.0e15 {
                true => Ok(Value::Money(f as i64)),
                false => Err(self.invalid(NOT_CENTS)),
            },
            Type::Money if f.abs() >= MONEY_NUMBER_LIMIT => {
                Err(self.invalid("an amount below 10^13 as a JSON number (write larger amounts as strings)"))
            }
            Type::Money => self.money(cents_of_number(f)),
            _ => Err(self.wrong("a number")),
        }
    }
}

/// What a number beyond a double is not.
pub(super) const OUT_OF_RANGE: &str = "within the range of a double (as 1e400 and 1e-400 are not)";

/// A JSON number as narval reads it, the same on both paths.
#[derive(Debug)]
pub(super) enum Number {
    /// An integer literal within `u64`: `40`.
    Unsigned(u64),
    /// A negative integer literal within `i64`: `-7` (`-0` is a float, as
    /// serde_json reads it).
    Negative(i64),
    /// Any other: the double nearest its value, and whether the literal is
    /// a whole number (`3.0`, `1e2`, `-0`).
    Float { value: f64, integral: bool },
}

/// The value of a JSON number literal (checked to be one): `None` when it
/// is beyond a double, as `1e400` is, or a nonzero number so small that the
/// nearest double is 0, as `1e-400` is: it would be read as a value it does
/// not have.
pub(super) fn number_literal(text: &str) -> Option<Number> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let negative = unsigned.len() != text.len();
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (unsigned.get(..at)?, unsigned.get(at + 1..)?),
        None => (unsigned, ""),
    };
    if exponent.is_empty() && !mantissa.contains('.') {
        match (negative, text.parse::<u64>(), text.parse::<i64>()) {
            (false, Ok(u), _) => return Some(Number::Unsigned(u)),
            (true, _, Ok(i)) if i != 0 => return Some(Number::Negative(i)),
            _ => {}
        }
    }
    let value: f64 = text.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let nonzero = whole.bytes().chain(fraction.bytes()).any(|b| b != b'0');
    if value.is_infinite() || (value == 0.0 && nonzero) {
        return None;
    }
    // The literal's digits times ten to a power: a whole number when the
    // power, counting the digits' trailing zeros, is not negative.
    let digits = whole.bytes().chain(fraction.bytes());
    let zeros = digits.clone().rev().take_while(|&b| b == b'0').count();
    // An exponent beyond i128 is beyond a double too, or rounds to 0.
    let shift = match exponent {
        "" => 0,
        _ => exponent.parse::<i128>().unwrap_or(if exponent.starts_with('-') { i128::MIN / 2 } else { i128::MAX / 2 }),
    };
    let integral = !nonzero || shift - fraction.len() as i128 + zeros as i128 >= 0;
    Some(Number::Float { value, integral })
}

impl<'de> ValueSeed<'_, '_, '_, '_, 'de> {
    pub(super) fn wrong<E: de::Error>(&self, found: &'static str) -> E {
        self.decoding.fail(Problem::WrongType { expected: self.decoding.schema.describe(self.ty), found })
    }

    pub(super) fn invalid<E: de::Error>(&self, expected: &str) -> E {
        self.decoding.fail(Problem::Invalid { expected: expected.into() })
    }

    pub(super) fn money<E: de::Error>(&self, cents: Option<i64>) -> Result<Value, E> {
        let expected = if self.cents { NOT_CENTS } else { "an amount with at most two decimals" };
        cents.map(Value::Money).ok_or_else(|| self.invalid(expected))
    }
}

/// What a string that is not a plain decimal (`"$50"`, `"1,000"`) hears for
/// a `money` field.
pub(super) const NOT_DOLLARS: &str =
    "an amount of money: write a JSON number of dollars with at most two decimals, such as `12.50`";

/// What anything but a whole JSON number hears for `money in cents`.
pub(super) const NOT_CENTS: &str = "an amount in cents: write a JSON integer of cents, such as `1250`";

impl<'de> Visitor<'de> for ValueSeed<'_, '_, '_, '_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the schema")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        if self.optional {
            Ok(Value::Missing)
        } else {
            Err(self.decoding.fail(Problem::Missing))
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(b)),
            _ => Err(self.wrong("a boolean")),
        }
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        match self.ty {
            Type::Int => Ok(Value::Int(i)),
            Type::Number => Ok(Value::Number(i as f64)),
            Type::Money if self.cents => Ok(Value::Money(i)),
            Type::Money => self.money(i.checked_mul(100)),
            _ => Err(self.wrong("a number")),
        }
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        match (self.ty, i64::try_from(u)) {
            (Type::Int | Type::Money, Ok(i)) => self.visit_i64(i),
            (Type::Int, Err(_)) => Err(self.invalid("a whole number within the range of `int`")),
            (Type::Money, Err(_)) => self.money(None),
            (Type::Number, _) => Ok(Value::Number(u as f64)),
            _ => Err(self.wrong("a number")),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        self.float(f, f.fract() == 0.0)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        match self.ty {
            Type::String => {
                let start = self.out.text.len();
                self.out.text.push_str(s);
                Slice::new(start, s.len()).map(Value::String).ok_or_else(|| self.decoding.fail(Problem::TooLarge))
            }
            Type::Money if self.cents => Err(self.invalid(NOT_CENTS)),
            Type::Money => parse_cents(s).map(Value::Money).ok_or_else(|| self.invalid(NOT_DOLLARS)),
            Type::Date => {
                Date::parse(s).map(Value::Date).ok_or_else(|| self.invalid("a calendar date in the form YYYY-MM-DD"))
            }
            Type::Enum(id) => {
                let members = self.decoding.schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or_default();
                match members.iter().position(|m| m == s) {
                    Some(index) => Ok(Value::Enum(u32::try_from(index).unwrap_or(u32::MAX))),
                    None => Err(self.invalid(&self.decoding.schema.describe(self.ty))),
                }
            }
            _ => Err(self.wrong("a string")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Type::List(element) = self.ty else { return Err(self.wrong("an array")) };
        let ValueSeed { decoding, out, cents, .. } = self;
        // The elements wait on the scratch stack while they are decoded (a
        // record element reserves its slots in `values` meanwhile), then
        // move to `values` together. Nested lists push above `base` and
        // take their elements away before this list's next one is pushed.
        let base = out.scratch.len();
        loop {
            let index = out.scratch.len() - base;
            // An element may not be null: a list has no gaps.
            let seed = ValueSeed { decoding, out: &mut *out, ty: element, optional: false, cents };
            match decoding.within(|| Part::Index(index), seq.next_element_seed(seed)) {
                Ok(Some(value)) => out.scratch.push(value),
                Ok(None) => break,
                Err(error) => return Err(error),
            }
        }
        let start = out.values.len();
        let len = out.scratch.len() - base;
        out.values.extend(out.scratch.drain(base..));
        Slice::new(start, len).map(Value::List).ok_or_else(|| decoding.fail(Problem::TooLarge))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Record(id) => {
                RecordSeed { decoding: self.decoding, out: self.out, record: *id, root: false }.visit_map(map)
            }
            _ => Err(self.wrong("an object")),
        }
    }
}

/// A serde_json error without the excerpt of input it may quote.
pub(super) fn json_reason(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Eof => "the text ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "invalid data",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} at column {}", error.column())
}
