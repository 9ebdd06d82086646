//! A decoded profile: its values, the slices of its buffers, the fields a
//! rule set reads, and why a profile is rejected.

use crate::ir::Schema;
use crate::value::Date;

/// A decoded value: the storage of a profile. Strings, lists and records
/// are slices of their [`Profile`]: every value of a profile lives in two
/// buffers that a batch reuses, so decoding allocates nothing once they
/// have grown. The interpreter reads one as an `eval::val::Val`, its slices
/// resolved to borrows; kept apart from it for the fixed layout below.
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
    String(Slice) = 5,
    /// `date`
    Date(Date) = 6,
    /// An enum member by index.
    Enum(u32) = 7,
    /// A list: its elements in [`Profile::items`].
    List(Slice) = 8,
    /// A record: one value per field, by slot, in [`Profile::items`].
    Record(Slice) = 9,
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

/// Where a string, list or record of a [`Profile`] lies in its buffers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Slice {
    pub(super) start: u32,
    pub(super) len: u32,
}

impl Slice {
    pub(super) fn new(start: usize, len: usize) -> Option<Slice> {
        Some(Slice { start: u32::try_from(start).ok()?, len: u32::try_from(len).ok()? })
    }

    #[inline(always)]
    pub(super) fn range(self) -> std::ops::Range<usize> {
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
    pub(super) values: Vec<Value>,
    pub(super) text: String,
    /// Elements of the lists being decoded, before they are moved to `values`.
    pub(super) scratch: Vec<Value>,
    /// The number of fields of the root record, at the start of `values`.
    pub(super) root: usize,
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
    pub fn items(&self, slice: Slice) -> &[Value] {
        self.values.get(slice.range()).unwrap_or_default()
    }

    /// One field of a record, by slot.
    #[inline(always)]
    pub fn field(&self, record: Slice, slot: u32) -> Option<&Value> {
        if slot < record.len {
            self.values.get(record.start as usize + slot as usize)
        } else {
            None
        }
    }

    /// The text of a string as bytes: without the checks of char
    /// boundaries that slicing a `str` makes.
    #[inline(always)]
    pub fn text_bytes(&self, slice: Slice) -> &[u8] {
        self.text.as_bytes().get(slice.range()).unwrap_or_default()
    }

    /// The text of a string.
    #[inline(always)]
    pub fn text(&self, slice: Slice) -> &str {
        self.text.get(slice.range()).unwrap_or_default()
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
/// every other path decodes (see [`super::decode_bytes_into`]).
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
    pub(super) slots: Vec<bool>,
    /// Whether the scanner ([`super::scan`]) may decode: every field name of the
    /// schema is known to be plain JSON text, free of quotes, backslashes
    /// and control characters (names from the rule language always are),
    /// so that a key can be recognised by its bytes.
    pub(super) scan: bool,
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
    pub(super) fn get(&self, slot: usize) -> bool {
        self.slots.get(slot).copied().unwrap_or(true)
    }
}
