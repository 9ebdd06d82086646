//! Profiles in: JSON decoded against the schema into slot-addressed records.
//!
//! Decoding is driven by the schema: the JSON text goes straight into slots
//! through serde (`DeserializeSeed`), with no generic JSON tree in between.
//! Keys the schema does not name are skipped unread; so are the fields a
//! rule set never reads, when it says which ([`Reads`]). Money and dates
//! are parsed here, once. Errors name the field and what was expected, never
//! the value found.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value as Json;

use crate::ir::{RecordId, Schema, Type};
use crate::value::{cents_of_number, parse_cents, Date, MONEY_NUMBER_LIMIT};

mod scan;

/// A decoded value. Strings, lists and records are spans of their
/// [`Profile`]: every value of a profile lives in two buffers that a batch
/// reuses, so decoding allocates nothing once they have grown.
///
/// The layout is fixed (`repr(C, u8)`: a one-byte tag, then the payload at
/// offset 8, 16 bytes in all), because native code reads it
/// ([`crate::eval::native`]).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C, u8)]
pub enum Value {
    /// Missing or null (only for optional fields).
    Missing = 0,
    /// `bool`
    Bool(bool) = 1,
    /// `int`
    Int(i64) = 2,
    /// `number`
    Number(f64) = 3,
    /// `money` in cents.
    Money(i64) = 4,
    /// `string`: its text in [`Profile::text`].
    String(Span) = 5,
    /// `date`
    Date(Date) = 6,
    /// An enum member by index.
    Enum(u32) = 7,
    /// A list: its elements in [`Profile::items`].
    List(Span) = 8,
    /// A record: one value per field, by slot, in [`Profile::items`].
    Record(Span) = 9,
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// Where a string, list or record of a [`Profile`] lies in its buffers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn new(start: usize, len: usize) -> Option<Span> {
        Some(Span { start: u32::try_from(start).ok()?, len: u32::try_from(len).ok()? })
    }

    #[inline(always)]
    fn range(self) -> std::ops::Range<usize> {
        // Two u32s: the sum cannot overflow a usize of 64 bits, and on 32
        // bits a range past the buffer is only an empty answer.
        let start = self.start as usize;
        start..start.wrapping_add(self.len as usize)
    }
}

/// One decoded profile: a value per field of the schema's root record.
///
/// The root record's values come first in one buffer, then those of the
/// nested records and lists; the text of every string is in a second
/// buffer. [`Profile::clear`] keeps both buffers' memory, so a profile
/// reused across a batch (`decode_line_into`) allocates only while it
/// grows to the largest profile seen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Profile {
    values: Vec<Value>,
    text: String,
    /// Elements of the lists being decoded, before they are moved to `values`.
    scratch: Vec<Value>,
    /// The number of fields of the root record, at the start of `values`.
    root: usize,
}

impl Profile {
    /// The values of the root record's fields, by slot.
    #[inline(always)]
    pub fn fields(&self) -> &[Value] {
        self.values.get(..self.root).unwrap_or_default()
    }

    /// The value at a path of slots from the root record; `None` when the
    /// path leads through a value that is not a record, or past a record's
    /// fields.
    #[inline]
    pub fn at(&self, path: &[u32]) -> Option<&Value> {
        let (&first, steps) = path.split_first()?;
        let mut value = self.fields().get(first as usize)?;
        for &step in steps {
            let Value::Record(record) = value else { return None };
            value = self.field(*record, step)?;
        }
        Some(value)
    }

    /// Every value, the text of every string, and the number of fields
    /// of the root record (the first values): what native code reads.
    #[cfg(feature = "jit")]
    #[inline(always)]
    pub(crate) fn raw(&self) -> (&[Value], &[u8], usize) {
        (&self.values, self.text.as_bytes(), self.root.min(self.values.len()))
    }

    /// The elements of a list or the fields of a record.
    #[inline(always)]
    pub fn items(&self, span: Span) -> &[Value] {
        self.values.get(span.range()).unwrap_or_default()
    }

    /// One field of a record, by slot.
    #[inline(always)]
    pub fn field(&self, record: Span, slot: u32) -> Option<&Value> {
        if slot < record.len {
            self.values.get(record.start as usize + slot as usize)
        } else {
            None
        }
    }

    /// The text of a string as bytes: without the checks of char
    /// boundaries that slicing a `str` makes.
    #[inline(always)]
    pub fn text_bytes(&self, span: Span) -> &[u8] {
        self.text.as_bytes().get(span.range()).unwrap_or_default()
    }

    /// The text of a string.
    #[inline(always)]
    pub fn text(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or_default()
    }

    /// Empties the profile, keeping its memory for the next one.
    pub fn clear(&mut self) {
        self.values.clear();
        self.text.clear();
        self.scratch.clear();
        self.root = 0;
    }
}

/// Longest profile text decoded, in bytes (4 MiB): a line of `narval
/// assign` input, not counting the newline that ends it, and the text
/// every other path decodes (see [`decode_bytes_into`]).
pub const MAX_PROFILE_BYTES: usize = 4 * 1024 * 1024;

/// Why a profile was rejected. Messages name fields, never their values.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// Nothing but JSON whitespace: a blank line between profiles.
    #[error("empty line")]
    Empty,
    /// Bytes that are not UTF-8 text: `{"name": "\xff"}` as bytes.
    #[error("not UTF-8 text (invalid byte at column {column})")]
    NotUtf8 {
        /// The column of the first invalid byte, counted in bytes from 1.
        column: usize,
    },
    /// A text over `MAX_PROFILE_BYTES`.
    #[error("line longer than the limit of {} MiB", MAX_PROFILE_BYTES / (1024 * 1024))]
    TooLong,
    /// No id, or a null one, where one is asked for: `{"age": 40}` or
    /// `{"id": null, "age": 40}` when the id field is `id`.
    #[error("no `{field}` field to identify the profile")]
    MissingId {
        /// The id field asked for.
        field: String,
    },
    /// The text is not JSON: `{"age": }`.
    #[error("not valid JSON: {reason}")]
    InvalidJson {
        /// What the JSON parser reported (a position, no data).
        reason: String,
    },
    /// The JSON is not an object: `[1, 2]`.
    #[error("a profile must be a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A required field is absent or null: `{}` when `age: int`.
    #[error("field `{field}` is missing or null, but the schema does not mark it optional")]
    MissingField {
        /// Path of the field, such as `scores.support`.
        field: String,
    },
    /// A field of the wrong JSON type: `{"age": "forty"}` when `age: int`.
    #[error("field `{field}` should be {expected}, found {found}")]
    WrongType {
        /// Path of the field, such as `donations[2].amount`.
        field: String,
        /// The schema type.
        expected: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// A value of the right JSON type that is not valid: `"2012-02-30"` for a `date`.
    #[error("field `{field}` is not {expected}")]
    InvalidValue {
        /// Path of the field.
        field: String,
        /// What a valid value looks like.
        expected: String,
    },
    /// A key written twice in one object: `{"age": 40, "age": 41}`. Which
    /// one was meant cannot be known, so neither is taken.
    #[error("field `{field}` appears more than once")]
    DuplicateField {
        /// Path of the field.
        field: String,
    },
    /// The embedder's value could not be turned into JSON.
    #[error("the profile could not be serialised: {reason}")]
    Serialize {
        /// What serde reported.
        reason: String,
    },
}

/// Which fields of the profile record are decoded, by slot: those some
/// rule or definition reads. The others are skipped, not checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    slots: Vec<bool>,
    /// Whether the scanner ([`scan`]) may decode: every field name of the
    /// schema is known to be plain JSON text, free of quotes, backslashes
    /// and control characters (names from the rule language always are),
    /// so that a key can be recognised by its bytes.
    scan: bool,
}

impl Reads {
    /// Every field of the schema: a profile is checked whole.
    pub fn all(schema: &Schema) -> Reads {
        Reads::of(schema, vec![true; schema.root().map_or(0, |r| r.fields.len())])
    }

    /// The fields of `schema` whose slots are set.
    pub fn of(schema: &Schema, slots: Vec<bool>) -> Reads {
        let plain = |name: &String| !name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20);
        let scan = schema.records.iter().all(|r| r.fields.keys().all(plain));
        Reads { slots, scan }
    }

    /// The fields whose slots are set, without the schema: every line is
    /// then decoded by serde, without the scanner.
    #[cfg(feature = "internals")]
    pub fn from_slots(slots: Vec<bool>) -> Reads {
        Reads { slots, scan: false }
    }

    #[inline]
    fn get(&self, slot: usize) -> bool {
        self.slots.get(slot).copied().unwrap_or(true)
    }
}

/// Decodes one profile from JSON text, checking every field of the schema.
#[cfg(feature = "internals")]
pub fn from_json_str(schema: &Schema, text: &str) -> Result<Profile, ProfileError> {
    decode_str(schema, &Reads::all(schema), text)
}

/// Decodes one profile from a JSON value, checking every field of the schema.
pub fn from_json_value(schema: &Schema, json: &Json) -> Result<Profile, ProfileError> {
    decode_value(schema, &Reads::all(schema), json)
}

/// Decodes one profile from JSON text, reading the fields of `reads`.
pub fn decode_str(schema: &Schema, reads: &Reads, text: &str) -> Result<Profile, ProfileError> {
    decode_line(schema, reads, text, None).map(|(profile, _)| profile)
}

/// Decodes one profile from a JSON value, reading the fields of `reads`:
/// the value is written as JSON text and decoded as that text is, so that
/// a value and its text cannot be read differently.
pub fn decode_value(schema: &Schema, reads: &Reads, json: &Json) -> Result<Profile, ProfileError> {
    let text = serde_json::to_string(json).map_err(|e| ProfileError::Serialize { reason: e.to_string() })?;
    decode_str(schema, reads, &text)
}

/// Decodes one profile from JSON text, reading the fields of `reads`; with
/// `id`, the profile must have that key, not null, and its JSON text (as
/// written, whatever its type) comes back with the profile.
pub fn decode_line<'t>(
    schema: &Schema,
    reads: &Reads,
    text: &'t str,
    id: Option<&str>,
) -> Result<(Profile, Option<&'t str>), ProfileError> {
    let mut profile = Profile::default();
    let captured = decode_line_into(schema, reads, text, id, &mut profile)?;
    Ok((profile, captured))
}

/// [`decode_line`] into a profile that is cleared first and whose memory is
/// reused: the hot path of a batch.
pub fn decode_line_into<'t>(
    schema: &Schema,
    reads: &Reads,
    text: &'t str,
    id: Option<&str>,
    profile: &mut Profile,
) -> Result<Option<&'t str>, ProfileError> {
    decode_bytes_into(schema, reads, text.as_bytes(), id, profile)
}

/// The one decoder: every path that reads a profile (`narval assign`'s
/// lines, `narval explain`, `narval test`'s profile files, the library's
/// `assign_json`, `assign_value` and `assign`) comes here, so that they
/// accept and reject the same profiles, for the same reason, with the same
/// values. In order, a text is rejected when it is
///
/// 1. over [`MAX_PROFILE_BYTES`] ([`ProfileError::TooLong`]);
/// 2. not UTF-8 ([`ProfileError::NotUtf8`]);
/// 3. nothing but JSON whitespace (space, tab, CR, LF: a form feed or a
///    no-break space is not whitespace in JSON) ([`ProfileError::Empty`]);
/// 4. not one JSON object that fits the schema, read by the scanner
///    (`scan`) when it can and by serde when it cannot, both after one
///    definition (duplicate keys, numbers: `number_literal`);
/// 5. without the key `id` asks for, or with a null one
///    ([`ProfileError::MissingId`]).
///
/// A byte order mark is not stripped here: it belongs to a file, not to
/// each of its lines (`narval assign` and `narval explain` skip one at the
/// start of their input).
pub fn decode_bytes_into<'t>(
    schema: &Schema,
    reads: &Reads,
    bytes: &'t [u8],
    id: Option<&str>,
    profile: &mut Profile,
) -> Result<Option<&'t str>, ProfileError> {
    profile.clear();
    if bytes.len() > MAX_PROFILE_BYTES {
        return Err(ProfileError::TooLong);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ProfileError::NotUtf8 { column: e.valid_up_to() + 1 })?;
    if text.bytes().all(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
        return Err(ProfileError::Empty);
    }
    let captured = decode_json_into(schema, reads, text, id, profile)?;
    match (id, captured) {
        (Some(field), None | Some("null")) => Err(ProfileError::MissingId { field: field.to_owned() }),
        _ => Ok(captured),
    }
}

/// Step 4 of [`decode_bytes_into`]: the scanner, then serde if it gave up.
fn decode_json_into<'t>(
    schema: &Schema,
    reads: &Reads,
    text: &'t str,
    id: Option<&str>,
    profile: &mut Profile,
) -> Result<Option<&'t str>, ProfileError> {
    if reads.scan {
        if let Some(captured) = scan::decode(&Cx::new(schema, reads, id, text), text, profile) {
            return Ok(captured);
        }
        profile.clear();
    }
    decode_line_serde(schema, reads, text, id, profile)
}

/// [`decode_line_into`] through serde alone: the path that decides every
/// line the scanner leaves, and gives its diagnostics.
fn decode_line_serde<'t>(
    schema: &Schema,
    reads: &Reads,
    text: &'t str,
    id: Option<&str>,
    profile: &mut Profile,
) -> Result<Option<&'t str>, ProfileError> {
    let cx = Cx::new(schema, reads, id, text);
    let mut de = serde_json::Deserializer::from_str(text);
    let result = RecordSeed { cx: &cx, out: profile, record: 0, root: true }.deserialize(&mut de).and_then(|p| {
        de.end()?;
        Ok(p)
    });
    let captured = cx.captured.get().map(RawValue::get);
    cx.finish(result, profile)?;
    Ok(captured)
}

/// What went wrong, found deep in the value; the path is added on the way out.
#[derive(Debug)]
enum Problem {
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

/// Shared by the seeds of one decoding.
struct Cx<'s, 'de> {
    schema: &'s Schema,
    reads: &'s Reads,
    id: Option<&'s str>,
    /// The whole text decoded: where a value read again from its own text
    /// lies, for the column of an error in it.
    text: &'de str,
    captured: Cell<Option<&'de RawValue>>,
    problem: RefCell<Option<Problem>>,
    /// The path to the problem, innermost part first.
    path: RefCell<Vec<Part>>,
}

enum Part {
    Field(String),
    Index(usize),
}

impl<'s, 'de> Cx<'s, 'de> {
    fn new(schema: &'s Schema, reads: &'s Reads, id: Option<&'s str>, text: &'de str) -> Cx<'s, 'de> {
        Cx {
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
    fn fail<E: de::Error>(&self, problem: Problem) -> E {
        *self.problem.borrow_mut() = Some(problem);
        E::custom("narval: profile does not fit the schema")
    }

    /// Adds a part to the path of a problem found below.
    fn within<T, E>(&self, part: impl FnOnce() -> Part, result: Result<T, E>) -> Result<T, E> {
        if result.is_err() && self.problem.borrow().is_some() {
            self.path.borrow_mut().push(part());
        }
        result
    }

    fn finish(&self, result: Result<Value, serde_json::Error>, profile: &mut Profile) -> Result<(), ProfileError> {
        let problem = self.problem.borrow_mut().take();
        match (result, problem) {
            // INVARIANT: the root record reserves its slots first, at 0.
            (Ok(Value::Record(span)), None) if span.start == 0 => {
                profile.root = span.len as usize;
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

    fn render_path(&self) -> String {
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
struct RecordSeed<'c, 's, 'o, 'de> {
    cx: &'c Cx<'s, 'de>,
    out: &'o mut Profile,
    record: RecordId,
    root: bool,
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
        let RecordSeed { cx, out, record, root } = self;
        let Some(record) = cx.schema.records.get(record) else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Value::Record(Span::default()));
        };
        let fields = &record.fields;
        // The record's slots, reserved before its nested values are decoded
        // after them.
        let start = out.values.len();
        out.values.resize(start + fields.len(), Value::Missing);
        let mut seen = Seen::new(fields.len());
        // Keys the schema does not name, to find one written twice.
        let mut unknown: Option<std::collections::HashSet<String>> = None;
        let id = if root { cx.id } else { None };
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
                    cx.path.borrow_mut().push(Part::Field(name));
                    return Err(cx.fail(Problem::Duplicate));
                }
            }
            let read = slot.filter(|&s| !root || cx.reads.get(s));
            if let (Some(slot), None) = (slot, read) {
                // A field no rule reads is skipped, but not twice.
                if let Some((_, field)) = fields.get_index(slot) {
                    if !seen.insert(slot) {
                        cx.path.borrow_mut().push(Part::Field(field.name.clone()));
                        return Err(cx.fail(Problem::Duplicate));
                    }
                }
            }
            if is_id {
                let raw: &'de RawValue = map.next_value()?;
                cx.captured.set(Some(raw));
                if let Some(slot) = read {
                    let value = decode_field(cx, fields, slot, &mut seen, |ty, optional, cents| {
                        ValueSeed { cx, out: &mut *out, ty, optional, cents }.decode_raw(raw)
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
            let value = decode_field(cx, fields, slot, &mut seen, |ty, optional, cents| {
                map.next_value_seed(ValueSeed { cx, out: &mut *out, ty, optional, cents })
            })?;
            if let Some(v) = out.values.get_mut(start + slot) {
                *v = value;
            }
        }
        for (slot, field) in fields.values().enumerate() {
            let read = !root || cx.reads.get(slot);
            if read && !field.optional && !seen.has(slot) {
                cx.path.borrow_mut().push(Part::Field(field.name.clone()));
                return Err(cx.fail(Problem::Missing));
            }
        }
        Span::new(start, fields.len()).map(Value::Record).ok_or_else(|| cx.fail(Problem::TooLarge))
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
    fn not_an_object<E: de::Error>(&self, found: &'static str) -> E {
        if self.root {
            self.cx.fail(Problem::NotAnObject { found })
        } else {
            self.cx.fail(Problem::WrongType { expected: "an object".into(), found })
        }
    }
}

/// Decodes the value of a field, once.
fn decode_field<'s, E: de::Error>(
    cx: &Cx<'s, '_>,
    fields: &'s indexmap::IndexMap<String, crate::ir::Field>,
    slot: usize,
    seen: &mut Seen,
    decode: impl FnOnce(&'s Type, bool, bool) -> Result<Value, E>,
) -> Result<Value, E> {
    let Some((_, field)) = fields.get_index(slot) else {
        return Ok(Value::Missing);
    };
    if !seen.insert(slot) {
        cx.path.borrow_mut().push(Part::Field(field.name.clone()));
        return Err(cx.fail(Problem::Duplicate));
    }
    let result = decode(&field.ty, field.optional, field.cents);
    cx.within(|| Part::Field(field.name.clone()), result)
}

/// The fields of one object already read: a bit mask, on the heap only for
/// records of more than 64 fields.
enum Seen {
    Mask(u64),
    Flags(Vec<bool>),
}

impl Seen {
    fn new(fields: usize) -> Seen {
        if fields <= 64 {
            Seen::Mask(0)
        } else {
            Seen::Flags(vec![false; fields])
        }
    }

    fn has(&self, slot: usize) -> bool {
        match self {
            Seen::Mask(mask) => slot < 64 && mask & (1 << slot) != 0,
            Seen::Flags(flags) => flags.get(slot).copied().unwrap_or(false),
        }
    }

    /// Marks a slot; `false` when it was already marked.
    fn insert(&mut self, slot: usize) -> bool {
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
struct Key {
    slot: Option<usize>,
    id: bool,
    /// The key, when the schema does not name it.
    unknown: Option<String>,
}

struct KeySeed<'a> {
    fields: &'a indexmap::IndexMap<String, crate::ir::Field>,
    id: Option<&'a str>,
    /// The slot to try first.
    next: usize,
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
struct ValueSeed<'c, 's, 'o, 't, 'de> {
    cx: &'c Cx<'s, 'de>,
    out: &'o mut Profile,
    ty: &'t Type,
    optional: bool,
    /// `money in cents`: amounts arrive as whole cents, not dollars.
    cents: bool,
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
    /// A value from its JSON text, a part of [`Cx::text`]: a number by
    /// [`number_literal`], anything else by serde, with the column of an
    /// error counted in the whole text.
    fn decode_raw<E: de::Error>(self, raw: &'de RawValue) -> Result<Value, E> {
        let text = raw.get();
        if let Some(b'-' | b'0'..=b'9') = text.bytes().next() {
            return self.number(number_literal(text));
        }
        let cx = self.cx;
        let mut de = serde_json::Deserializer::from_str(text);
        let result = de::Deserializer::deserialize_any(&mut de, self).and_then(|v| de.end().map(|()| v));
        result.map_err(|error| {
            if cx.problem.borrow().is_none() {
                // `raw` is a slice of the text: its offset is exact.
                let offset = (text.as_ptr() as usize).wrapping_sub(cx.text.as_ptr() as usize);
                let before = cx.text.get(..offset).unwrap_or_default();
                let column = match error.line() {
                    1 => before.len() - before.rfind('\n').map_or(0, |n| n + 1) + error.column(),
                    _ => error.column(),
                };
                let reason = json_reason(&error);
                let what = reason.split(" at column").next().unwrap_or_default();
                return cx.fail(Problem::Json { reason: format!("{what} at column {column}") });
            }
            E::custom("narval: profile does not fit the schema")
        })
    }

    /// A number literal's value as the schema type asks.
    fn number<E: de::Error>(self, number: Option<Number>) -> Result<Value, E> {
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
    fn float<E: de::Error>(self, f: f64, integral: bool) -> Result<Value, E> {
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
const OUT_OF_RANGE: &str = "within the range of a double (as 1e400 and 1e-400 are not)";

/// A JSON number as narval reads it, the same on both paths.
#[derive(Debug)]
enum Number {
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
fn number_literal(text: &str) -> Option<Number> {
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
    fn wrong<E: de::Error>(&self, found: &'static str) -> E {
        self.cx.fail(Problem::WrongType { expected: self.cx.schema.describe(self.ty), found })
    }

    fn invalid<E: de::Error>(&self, expected: &str) -> E {
        self.cx.fail(Problem::Invalid { expected: expected.into() })
    }

    fn money<E: de::Error>(&self, cents: Option<i64>) -> Result<Value, E> {
        let expected = if self.cents { NOT_CENTS } else { "an amount with at most two decimals" };
        cents.map(Value::Money).ok_or_else(|| self.invalid(expected))
    }
}

/// What a string that is not a plain decimal (`"$50"`, `"1,000"`) hears for
/// a `money` field.
const NOT_DOLLARS: &str =
    "an amount of money: write a JSON number of dollars with at most two decimals, such as `12.50`";

/// What anything but a whole JSON number hears for `money in cents`.
const NOT_CENTS: &str = "an amount in cents: write a JSON integer of cents, such as `1250`";

impl<'de> Visitor<'de> for ValueSeed<'_, '_, '_, '_, 'de> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value of the schema")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        if self.optional {
            Ok(Value::Missing)
        } else {
            Err(self.cx.fail(Problem::Missing))
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
                Span::new(start, s.len()).map(Value::String).ok_or_else(|| self.cx.fail(Problem::TooLarge))
            }
            Type::Money if self.cents => Err(self.invalid(NOT_CENTS)),
            Type::Money => parse_cents(s).map(Value::Money).ok_or_else(|| self.invalid(NOT_DOLLARS)),
            Type::Date => {
                Date::parse(s).map(Value::Date).ok_or_else(|| self.invalid("a calendar date in the form YYYY-MM-DD"))
            }
            Type::Enum(id) => {
                let members = self.cx.schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or_default();
                match members.iter().position(|m| m == s) {
                    Some(index) => Ok(Value::Enum(u32::try_from(index).unwrap_or(u32::MAX))),
                    None => Err(self.invalid(&self.cx.schema.describe(self.ty))),
                }
            }
            _ => Err(self.wrong("a string")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let Type::List(element) = self.ty else { return Err(self.wrong("an array")) };
        let ValueSeed { cx, out, cents, .. } = self;
        // The elements wait on the scratch stack while they are decoded (a
        // record element reserves its slots in `values` meanwhile), then
        // move to `values` together. Nested lists push above `base` and
        // take their elements away before this list's next one is pushed.
        let base = out.scratch.len();
        loop {
            let index = out.scratch.len() - base;
            // An element may not be null: a list has no gaps.
            let seed = ValueSeed { cx, out: &mut *out, ty: element, optional: false, cents };
            match cx.within(|| Part::Index(index), seq.next_element_seed(seed)) {
                Ok(Some(value)) => out.scratch.push(value),
                Ok(None) => break,
                Err(error) => return Err(error),
            }
        }
        let start = out.values.len();
        let len = out.scratch.len() - base;
        out.values.extend(out.scratch.drain(base..));
        Span::new(start, len).map(Value::List).ok_or_else(|| cx.fail(Problem::TooLarge))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Record(id) => RecordSeed { cx: self.cx, out: self.out, record: *id, root: false }.visit_map(map),
            _ => Err(self.wrong("an object")),
        }
    }
}

/// A serde_json error without the excerpt of input it may quote.
fn json_reason(error: &serde_json::Error) -> String {
    let what = match error.classify() {
        serde_json::error::Category::Eof => "the text ends too early",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "invalid data",
        serde_json::error::Category::Io => "read error",
    };
    format!("{what} at column {}", error.column())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;

    fn rules() -> crate::RuleSet {
        crate::RuleSet::builder()
            .source(
                "t.narval",
                r#"narval 1
                schema {
                  id: int
                  name: string
                  tags: list of string
                  gifts: list of { amount: money, notes: list of string, at: optional date }
                  inner: { deep: { word: string } }
                  score: optional number
                }
                solicitation streams s
                r: name == "x" -> s
                "#,
            )
            .build()
            .map_err(|r| r.render())
            .unwrap()
    }

    const LINES: [&str; 6] = [
        r#"{"id":1,"name":"a\"b","tags":["x","yz"],"gifts":[{"amount":1.5,"notes":["n1","n2"],"at":"2012-01-02"},{"amount":2,"notes":[]}],"inner":{"deep":{"word":"w"}}}"#,
        r#"{"id":2,"name":"","tags":[],"gifts":[],"inner":{"deep":{"word":"é"}}}"#,
        r#"{"id":3,"name":"n","tags":["t"],"gifts":[{"amount":3,"notes":["a",7]}],"inner":{"deep":{"word":"w"}}}"#,
        r#"{"inner":{"deep":{"word":"q"}},"gifts":[{"notes":["only"],"amount":"4.25"}],"tags":["late","keys"],"name":"m","id":4}"#,
        r#"{"id":5,"name":"n","tags":["t"],"gifts":[{"amount":3,"notes":["a"]}],"inner":{"deep":{"word":"w"}},"id":6}"#,
        r#"{"id":7,"name":"long name with more text","tags":["a","b","c"],"gifts":[{"amount":1,"notes":["p","q"]},{"amount":2,"notes":["r"]}],"inner":{"deep":{"word":"z"}}}"#,
    ];

    /// One profile reused over lines, the bad ones included, decodes each
    /// line exactly as a fresh one does: nothing of a line leaks into the
    /// next, and once warm the buffers stop growing.
    #[test]
    fn a_reused_profile_decodes_as_a_fresh_one() {
        let rules = rules();
        let (schema, reads) = (&rules.checked().schema, Reads::all(&rules.checked().schema));
        let mut reused = Profile::default();
        for round in 0..2 {
            let capacity = (reused.values.capacity(), reused.text.capacity(), reused.scratch.capacity());
            for line in LINES {
                let fresh = decode_line(schema, &reads, line, Some("id"));
                let again = decode_line_into(schema, &reads, line, Some("id"), &mut reused);
                match fresh {
                    Ok((profile, id)) => {
                        assert_eq!(again, Ok(id), "{line}");
                        assert_eq!(reused, profile, "{line}");
                    }
                    Err(error) => assert_eq!(again, Err(error), "{line}"),
                }
            }
            if round == 1 {
                let now = (reused.values.capacity(), reused.text.capacity(), reused.scratch.capacity());
                assert_eq!(now, capacity, "a warm profile grew");
            }
        }
    }

    /// Nested records and lists come back through their spans.
    #[test]
    fn spans_lead_to_nested_values() {
        let rules = rules();
        let (schema, reads) = (&rules.checked().schema, Reads::all(&rules.checked().schema));
        let (p, _) = decode_line(schema, &reads, LINES[0], None).unwrap();
        let fields = p.fields();
        assert_eq!(fields.len(), 6);
        assert_eq!(fields[0], Value::Int(1));
        let Value::String(name) = fields[1] else { panic!("{:?}", fields[1]) };
        assert_eq!(p.text(name), "a\"b");
        let Value::List(tags) = fields[2] else { panic!() };
        let tags: Vec<&str> =
            p.items(tags).iter().map(|v| if let Value::String(s) = v { p.text(*s) } else { "?" }).collect();
        assert_eq!(tags, ["x", "yz"]);
        let Value::List(gifts) = fields[3] else { panic!() };
        let gifts = p.items(gifts);
        assert_eq!(gifts.len(), 2);
        let Value::Record(first) = gifts[0] else { panic!() };
        let first = p.items(first);
        assert_eq!(first[0], Value::Money(150));
        let Value::List(notes) = first[1] else { panic!() };
        let notes: Vec<&str> =
            p.items(notes).iter().map(|v| if let Value::String(s) = v { p.text(*s) } else { "?" }).collect();
        assert_eq!(notes, ["n1", "n2"]);
        assert_eq!(first[2], Value::Date(Date::parse("2012-01-02").unwrap()));
        let Value::Record(second) = gifts[1] else { panic!() };
        assert_eq!(p.items(second)[2], Value::Missing);
        let Value::Record(inner) = fields[4] else { panic!() };
        let Value::Record(deep) = p.items(inner)[0] else { panic!() };
        let Value::String(word) = p.items(deep)[0] else { panic!() };
        assert_eq!(p.text(word), "w");
    }

    /// Every edit of one byte of some lines, and lines of every kind of
    /// number, nesting and spacing: whenever the scanner takes a line, the
    /// serde path takes it too, with the same profile and id; and it takes
    /// the plain lines a batch is made of.
    #[test]
    fn the_scanner_agrees_with_serde() {
        let rules = rules();
        let schema = &rules.checked().schema;
        let seeds = [
            r#"{"id":1,"name":"n","tags":["x","yz"],"gifts":[{"amount":1.5,"notes":["n1"],"at":"2012-01-02"},{"amount":2,"notes":[],"at":null}],"inner":{"deep":{"word":"w"}},"extra":{"a":[1,{"b":null}]}}"#,
            r#" { "id" : -7 , "name" : "é" , "tags" : [ ] , "gifts" : [ { "amount" : "0.50" , "notes" : [ "a" ] } ] , "inner" : { "deep" : { "word" : "" } } } "#,
            r#"{"inner":{"deep":{"word":"q"}},"gifts":[],"tags":["t"],"name":"m","id":40,"x":[true,false,null,-1.5e3,"s"]}"#,
        ];
        let mut lines: Vec<String> = Vec::new();
        for seed in seeds {
            lines.push(seed.to_owned());
            let bytes = seed.as_bytes();
            for at in 0..=bytes.len() {
                for insert in
                    [b'"', b'\\', b'\t', 0x01, 0x7f, b',', b'}', b']', b'1', b'-', b'.', b'e', b' ', b'n', b'{', b'[']
                {
                    let mut edited = bytes.to_vec();
                    edited.insert(at, insert);
                    lines.extend(String::from_utf8(edited).ok());
                    if at < bytes.len() {
                        let mut edited = bytes.to_vec();
                        edited[at] = insert;
                        lines.extend(String::from_utf8(edited).ok());
                    }
                }
                if at < bytes.len() {
                    let mut edited = bytes.to_vec();
                    edited.remove(at);
                    lines.extend(String::from_utf8(edited).ok());
                }
            }
        }
        for amount in [
            "0",
            "-0",
            "1",
            "-1",
            "0.1",
            "1.005",
            "1.10",
            "1e2",
            "1E2",
            "1.5e-1",
            "01",
            "-",
            "1.",
            ".5",
            "00",
            "123456789012345678",
            "1234567890123456789",
            "-123456789012345678",
            "9999999999999.99",
            "10000000000000",
            "0.000",
            "-0.0",
            "25.99",
            "\"25.99\"",
            "true",
            "null",
            "[]",
            "{}",
        ] {
            lines.push(format!(
                r#"{{"id":{amount},"name":"n","tags":[],"gifts":[{{"amount":{amount},"notes":[]}}],"inner":{{"deep":{{"word":"w"}}}},"score":{amount}}}"#
            ));
        }
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        lines.push(format!(
            r#"{{"deep":{deep},"id":1,"name":"n","tags":[],"gifts":[],"inner":{{"deep":{{"word":"w"}}}}}}"#
        ));
        let some = Reads::of(schema, vec![true, false, true, false, true, true]);
        let mut taken = 0;
        for reads in [Reads::all(schema), some] {
            for line in &lines {
                let mut fast = Profile::default();
                let Some(captured) = scan::decode(&Cx::new(schema, &reads, Some("id"), line), line, &mut fast) else {
                    continue;
                };
                taken += 1;
                let mut slow = Profile::default();
                let result = decode_line_serde(schema, &reads, line, Some("id"), &mut slow);
                assert_eq!(result, Ok(captured), "{line}");
                assert_eq!(fast, slow, "{line}");
                // `-0.0 == 0.0`, but not in their debug text.
                assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
            }
        }
        assert!(taken > 1000, "the scanner took {taken} lines");
        let mut p = Profile::default();
        for seed in seeds {
            p.clear();
            assert!(
                scan::decode(&Cx::new(schema, &Reads::all(schema), Some("id"), seed), seed, &mut p).is_some(),
                "{seed}"
            );
        }
    }

    /// A schema built by an embedder may name a field with a quote: its
    /// keys are then left to serde, which reads escapes.
    #[test]
    fn names_that_are_not_plain_text_turn_the_scanner_off() {
        let rules = rules();
        let mut schema = rules.checked().schema.clone();
        assert!(Reads::all(&schema).scan);
        let field = schema.records[0].fields.shift_remove("name").unwrap();
        schema.records[0].fields.insert("na\"me".into(), field);
        assert!(!Reads::all(&schema).scan);
        let line = r#"{"id":1,"na\"me":"n","tags":[],"gifts":[],"inner":{"deep":{"word":"w"}}}"#;
        let (profile, _) = decode_line(&schema, &Reads::all(&schema), line, None).unwrap();
        let Value::String(name) = profile.fields()[5] else { panic!("{:?}", profile.fields()) };
        assert_eq!(profile.text(name), "n");
    }

    /// serde_json refuses values nested deeper than 128 and the scanner
    /// leaves values deeper than 100 to serde; a schema nests at most
    /// `MAX_NESTING` deep (its `{` is one level), so a deeper value is of
    /// the wrong type, and both decoders refuse it alike.
    #[test]
    fn deep_values_are_left_to_serde() {
        let lists = crate::syntax::MAX_NESTING - 1;
        let ty = format!("{}int", "list of ".repeat(lists));
        let source = format!("narval 1\nschema {{ x: bool, nest: {ty} }}\nsolicitation streams s\nr: x -> s\n");
        let rules = crate::RuleSet::builder().source("t.narval", &source).build().map_err(|r| r.render()).unwrap();
        let schema = &rules.checked().schema;
        let reads = Reads::all(schema);
        for depth in [50, lists, lists + 1, 99, 101, 130, 140] {
            let line = format!(r#"{{"x":true,"nest":{}{}}}"#, "[".repeat(depth), "]".repeat(depth));
            let mut fast = Profile::default();
            let scanned = scan::decode(&Cx::new(schema, &reads, None, &line), &line, &mut fast);
            assert!(scanned.is_some() || depth > lists, "{depth}");
            let mut slow = Profile::default();
            let by_serde = decode_line_serde(schema, &reads, &line, None, &mut slow);
            assert_eq!(by_serde.is_ok(), depth <= lists, "{depth}");
            let decoded = decode_str(schema, &reads, &line);
            assert_eq!(decoded.is_ok(), by_serde.is_ok(), "{depth}");
        }
    }
}
