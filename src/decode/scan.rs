//! The fast path of decoding: the JSON text scanned byte by byte, driven
//! by the schema, straight into a [`Profile`]'s buffers.
//!
//! It takes the lines a batch is made of (objects whose strings have no
//! escapes, numbers written plainly) and gives up on anything else: a
//! backslash, an exponent, a duplicate or missing field, a wrong type,
//! nesting deeper than 128 under an unread key, any syntax error. The
//! serde path ([`super::decode_line_into`]) then decodes the line again and
//! decides, with its diagnostics; so this path never has to be right about
//! bad input, only to recognise it. Scalars go through the same visitor
//! methods as on the serde path ([`ValueSeed`]), so a value accepted here
//! is the value the serde path gives.

use std::fmt;

use serde::de::{self, Visitor};

use super::profile::{Profile, Slice, Value};
use super::seed::{number_literal, Decoding, Number, ValueSeed};
use crate::ir::{RecordId, Type};

/// 10^0 to 10^18, exact as integers.
const INTEGER_POWERS: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// 10^0 to 10^18, exact as doubles.
const POWERS: [f64; 19] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/// Why the fast path gave up: nothing to say, the serde path will.
#[derive(Debug)]
pub(super) struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("left to the serde path")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Bail {
        Bail
    }
}

/// Decodes `text` into `out` (cleared by the caller), returning the id's
/// text as written; `None` when the serde path must decide.
pub(super) fn decode<'t>(decoding: &Decoding<'_, 't>, text: &'t str, out: &mut Profile) -> Option<Option<&'t str>> {
    let mut scan = Scan { text, bytes: text.as_bytes(), pos: 0, captured: None, depth: 0 };
    scan.ws();
    let root = scan.record(decoding, out, 0, true)?;
    scan.ws();
    if scan.pos != scan.bytes.len() {
        return None;
    }
    match root {
        // INVARIANT: the root record reserves its slots first, at 0.
        Value::Record(slice) if slice.start == 0 => out.root = slice.len as usize,
        _ => return None,
    }
    Some(scan.captured)
}

struct Scan<'t> {
    text: &'t str,
    bytes: &'t [u8],
    pos: usize,
    captured: Option<&'t str>,
    /// Objects and arrays open around the value being read. serde_json
    /// refuses more than 128; a schema of lists of lists could ask for
    /// that, so the scanner leaves deep values to serde.
    depth: u32,
}

/// The deepest value the scanner reads, well within serde_json's 128.
const MAX_DEPTH: u32 = 100;

impl<'t> Scan<'t> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    #[inline(always)]
    fn ws(&mut self) {
        // Compact JSON has none: one comparison says so.
        while let Some(&b) = self.bytes.get(self.pos) {
            if b > b' ' || !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.pos += 1;
        }
    }

    /// A string without escapes or control characters, at its quote.
    #[inline]
    fn string(&mut self) -> Option<&'t str> {
        let bytes = self.string_bytes()?;
        // After a quote and before one: on char boundaries.
        let end = self.pos - 1;
        self.text.get(end - bytes.len()..end)
    }

    /// Whether the string here is exactly `name` (a field name, so
    /// without quotes or backslashes); if so, it is read.
    #[inline(always)]
    fn expect_key(&mut self, name: &[u8]) -> bool {
        let start = self.pos + 1;
        let end = start + name.len();
        let found = self.bytes.get(self.pos) == Some(&b'"')
            && self.bytes.get(start..end).is_some_and(|key| same(key, name))
            && self.bytes.get(end) == Some(&b'"');
        if found {
            self.pos = end + 1;
        }
        found
    }

    /// [`Scan::string`] as bytes: a key needs no `str`.
    #[inline(always)]
    fn string_bytes(&mut self) -> Option<&'t [u8]> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = self.bytes.get(start..)?;
        // Eight bytes at a time to the first quote, backslash or control
        // character; byte by byte in the last few bytes of the line.
        let mut end = 0;
        loop {
            match rest.get(end..end + 8) {
                Some(word) => {
                    let found = special(u64::from_le_bytes(<[u8; 8]>::try_from(word).ok()?));
                    if found != 0 {
                        end += (found.trailing_zeros() / 8) as usize;
                        break;
                    }
                    end += 8;
                }
                None => {
                    while !matches!(rest.get(end)?, b'"' | b'\\' | 0..=0x1f) {
                        end += 1;
                    }
                    break;
                }
            }
        }
        if rest.get(end)? != &b'"' {
            return None;
        }
        self.pos = start + end + 1;
        rest.get(..end)
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(word.len())?;
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// The text of a number in JSON's grammar, and whether it is an integer.
    fn number_text(&mut self) -> Option<(&'t str, bool)> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.next()? {
            b'0' => {}
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut integer = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digit()?;
            integer = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digit()?;
            integer = false;
        }
        Some((self.text.get(start..self.pos)?, integer))
    }

    /// At least one digit.
    fn digit(&mut self) -> Option<()> {
        self.next()?.is_ascii_digit().then(|| self.digits())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A number to decode: plain integers of up to 18 digits and decimals
    /// without exponent, valued as serde_json (with `float_roundtrip`)
    /// values them; anything else is left to the serde path. The digits
    /// are read once, into the mantissa.
    #[inline]
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let mut mantissa = 0_u64;
        let mut digits = 0_u32;
        match self.peek()? {
            // JSON allows no digit after a leading zero: one here is a
            // syntax error the caller finds.
            b'0' => {
                self.pos += 1;
                digits = 1;
            }
            b'1'..=b'9' => self.accumulate(&mut mantissa, &mut digits),
            _ => return None,
        }
        let whole = digits;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.accumulate(&mut mantissa, &mut digits);
            if digits == whole {
                return None;
            }
        }
        if digits > 18 || matches!(self.peek(), Some(b'e' | b'E')) {
            // Beyond the exact fast path: by the one definition, from the
            // text (which the caller checks to end where JSON says).
            self.pos = start;
            let (text, _) = self.number_text()?;
            return number_literal(text);
        }
        let fraction = digits - whole;
        if fraction == 0 {
            return match (negative, i64::try_from(mantissa)) {
                (false, _) => Some(Number::Unsigned(mantissa)),
                (true, Ok(m)) if m != 0 => Some(Number::Negative(-m)),
                // serde_json reads `-0` as the float -0.0.
                (true, _) => Some(Number::Float { value: -0.0, integral: true }),
            };
        }
        let integral = INTEGER_POWERS.get(fraction as usize).is_some_and(|power| mantissa % power == 0);
        // At most 18 digits, so the mantissa is below 2^60 but maybe not
        // below 2^53; past that, std parses. Below, mantissa / 10^k with
        // both exact is one correctly rounded division (Clinger's fast
        // path), the double that std and serde_json (`float_roundtrip`)
        // give too.
        let magnitude = match POWERS.get(fraction as usize) {
            Some(power) if mantissa < 1 << 53 => mantissa as f64 / power,
            _ => self.text.get(start..self.pos)?.trim_start_matches('-').parse().ok()?,
        };
        Some(Number::Float { value: if negative { -magnitude } else { magnitude }, integral })
    }

    /// Digits onto a mantissa (wrapping: past 18 digits it is not used).
    #[inline(always)]
    fn accumulate(&mut self, mantissa: &mut u64, digits: &mut u32) {
        while let Some(d @ b'0'..=b'9') = self.peek() {
            *mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
            *digits += 1;
            self.pos += 1;
        }
    }

    /// A JSON object as a record of the schema.
    fn record(
        &mut self,
        decoding: &Decoding<'_, 't>,
        out: &mut Profile,
        record: RecordId,
        root: bool,
    ) -> Option<Value> {
        let fields = &decoding.schema.records.get(record)?.fields;
        if fields.len() > 64 {
            return None;
        }
        self.eat(b'{')?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let start = out.values.len();
        out.values.resize(start + fields.len(), Value::Missing);
        let id = if root { decoding.id } else { None };
        let mut seen = 0_u64;
        // Keys the schema does not name, to find one written twice; past a
        // few, the serde path, with its set of them.
        let mut unknown: [&[u8]; 8] = [&[]; 8];
        let mut unknowns = 0;
        let mut next = 0;
        self.ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                let (slot, key) = match fields.get_index(next) {
                    Some((name, _)) if self.expect_key(name.as_bytes()) => (Some(next), name.as_bytes()),
                    _ => {
                        let key = self.string_bytes()?;
                        (slot_of(fields, key, next), key)
                    }
                };
                self.ws();
                self.eat(b':')?;
                self.ws();
                let is_id = id.is_some_and(|id| same(id.as_bytes(), key));
                next = slot.map_or(next, |s| s + 1);
                let value_start = self.pos;
                match slot {
                    Some(slot) => {
                        let bit = 1_u64 << slot;
                        if seen & bit != 0 {
                            return None;
                        }
                        seen |= bit;
                    }
                    None => {
                        if unknown.get(..unknowns)?.iter().any(|k| same(k, key)) {
                            return None;
                        }
                        *unknown.get_mut(unknowns)? = key;
                        unknowns += 1;
                    }
                }
                match slot.filter(|&s| !root || decoding.reads.get(s)) {
                    None => self.skip()?,
                    Some(slot) => {
                        let (_, field) = fields.get_index(slot)?;
                        let value = self.value(decoding, out, &field.ty, field.optional, field.cents)?;
                        *out.values.get_mut(start + slot)? = value;
                    }
                }
                if is_id {
                    self.captured = Some(self.text.get(value_start..self.pos)?);
                }
                self.ws();
                match self.next()? {
                    b',' => self.ws(),
                    b'}' => break,
                    _ => return None,
                }
            }
        }
        for (slot, field) in fields.values().enumerate() {
            if !field.optional && seen & (1 << slot) == 0 && (!root || decoding.reads.get(slot)) {
                return None;
            }
        }
        self.depth -= 1;
        Slice::new(start, fields.len()).map(Value::Record)
    }

    /// A JSON array as a list: its elements wait on the scratch stack, as
    /// on the serde path.
    fn list(&mut self, decoding: &Decoding<'_, 't>, out: &mut Profile, element: &Type, cents: bool) -> Option<Value> {
        self.eat(b'[')?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let base = out.scratch.len();
        self.ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                let value = self.value(decoding, out, element, false, cents)?;
                out.scratch.push(value);
                self.ws();
                match self.next()? {
                    b',' => self.ws(),
                    b']' => break,
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        let start = out.values.len();
        let len = out.scratch.len().checked_sub(base)?;
        out.values.extend(out.scratch.drain(base..));
        Slice::new(start, len).map(Value::List)
    }

    /// A value of a schema type.
    fn value(
        &mut self,
        decoding: &Decoding<'_, 't>,
        out: &mut Profile,
        ty: &Type,
        optional: bool,
        cents: bool,
    ) -> Option<Value> {
        let result = match self.peek()? {
            b'{' => {
                let Type::Record(id) = ty else { return None };
                return self.record(decoding, out, *id, false);
            }
            b'[' => {
                let Type::List(element) = ty else { return None };
                return self.list(decoding, out, element, cents);
            }
            b'"' => {
                let s = self.string()?;
                ValueSeed { decoding, out, ty, optional, cents }.visit_str::<Bail>(s)
            }
            b't' => {
                self.literal(b"true")?;
                ValueSeed { decoding, out, ty, optional, cents }.visit_bool::<Bail>(true)
            }
            b'f' => {
                self.literal(b"false")?;
                ValueSeed { decoding, out, ty, optional, cents }.visit_bool::<Bail>(false)
            }
            b'n' => {
                self.literal(b"null")?;
                ValueSeed { decoding, out, ty, optional, cents }.visit_unit::<Bail>()
            }
            b'-' | b'0'..=b'9' => {
                let seed = ValueSeed { decoding, out, ty, optional, cents };
                match self.number()? {
                    Number::Unsigned(u) => seed.visit_u64::<Bail>(u),
                    Number::Negative(i) => seed.visit_i64::<Bail>(i),
                    Number::Float { value, integral } => seed.float::<Bail>(value, integral),
                }
            }
            _ => return None,
        };
        result.ok()
    }

    /// Skips a value, checking its syntax, without recursion: a stack of
    /// bits says which enclosing containers are objects. Deeper than 128,
    /// the serde path skips it.
    fn skip(&mut self) -> Option<()> {
        let mut objects: u128 = 0;
        let mut depth = 0_u32;
        loop {
            // A value starts here.
            match self.peek()? {
                b'{' | b'[' => {
                    let object = self.next()? == b'{';
                    self.ws();
                    if self.peek() == Some(if object { b'}' } else { b']' }) {
                        self.pos += 1;
                    } else {
                        if depth == 128 {
                            return None;
                        }
                        objects = (objects << 1) | u128::from(object);
                        depth += 1;
                        if object {
                            self.member_key()?;
                        }
                        continue;
                    }
                }
                b'"' => {
                    self.string_bytes()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number_text()?;
                }
                _ => return None,
            }
            // A value ended here: close the containers it ends.
            loop {
                if depth == 0 {
                    return Some(());
                }
                self.ws();
                let object = objects & 1 == 1;
                match self.next()? {
                    b',' => {
                        self.ws();
                        if object {
                            self.member_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                objects >>= 1;
                depth -= 1;
            }
        }
    }

    /// `"key":` and the whitespace around it, before a member's value.
    fn member_key(&mut self) -> Option<()> {
        self.string_bytes()?;
        self.ws();
        self.eat(b':')?;
        self.ws();
        Some(())
    }
}

/// The slot of the field a key names, as [`super::seed::KeySeed`] finds it: the slot
/// after the last key found first, as keys usually come in schema order.
#[inline(always)]
fn slot_of(fields: &indexmap::IndexMap<String, crate::ir::Field>, key: &[u8], next: usize) -> Option<usize> {
    if let Some((name, _)) = fields.get_index(next) {
        if same(name.as_bytes(), key) {
            return Some(next);
        }
    }
    if fields.len() <= 32 {
        fields.keys().position(|name| same(name.as_bytes(), key))
    } else {
        fields.get_index_of(std::str::from_utf8(key).ok()?)
    }
}

/// Byte equality, inline: keys are short, and a call to `memcmp` costs
/// more than comparing them.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// The bytes of a little-endian word that are a quote, a backslash or
/// below 0x20, as their high bits: the classic test for a zero byte,
/// applied three times. Above the first such byte there may be false
/// ones (a borrow runs on), never below: its lowest bit is exact.
#[inline(always)]
fn special(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let quote = zero(word ^ (ONES * u64::from(b'"')));
    let backslash = zero(word ^ (ONES * u64::from(b'\\')));
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGH;
    quote | backslash | control
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::{Number, Scan};

    fn number(text: &str) -> Option<Number> {
        let mut scan = Scan { text, bytes: text.as_bytes(), pos: 0, captured: None, depth: 0 };
        let number = scan.number()?;
        (scan.pos == text.len()).then_some(number)
    }

    /// Decimals of every length and scale, as serde_json values them: the
    /// same double, bit for bit (so -0.0 too), or left to serde.
    #[test]
    fn numbers_are_valued_as_serde_json_values_them() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut texts: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "25.99",
            "0.1",
            "0.30000000000000004",
            "9007199254740993.5",
            "123456789012345678",
            "-123456789012345678",
            "12345678901234567.8",
            "1234567890123456789.5",
            "0.000000000000000001",
            "99.999999999999999999",
            "4503599627370497.5",
        ]
        .map(String::from)
        .to_vec();
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let whole = state % 10_u64.pow((state >> 60) as u32 % 12);
            let scale = (state >> 40) as usize % 22;
            let fraction: String = (0..scale).map(|i| char::from(b'0' + ((state >> (i % 50)) % 10) as u8)).collect();
            let sign = if state & 1 == 1 { "-" } else { "" };
            texts.push(if scale == 0 { format!("{sign}{whole}") } else { format!("{sign}{whole}.{fraction}") });
        }
        let mut fast = 0;
        for text in &texts {
            let Some(number) = number(text) else { continue };
            fast += 1;
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            match number {
                Number::Unsigned(u) => assert_eq!(json.as_u64(), Some(u), "{text}"),
                Number::Negative(i) => assert_eq!(json.as_i64(), Some(i), "{text}"),
                Number::Float { value, integral } => {
                    assert!(json.is_f64(), "{text}");
                    assert_eq!(json.as_f64().map(f64::to_bits), Some(value.to_bits()), "{text}");
                    let Some(Number::Float { value: by_text, integral: whole }) = super::number_literal(text) else {
                        panic!("{text}")
                    };
                    assert_eq!((by_text.to_bits(), whole), (value.to_bits(), integral), "{text}");
                }
            }
        }
        assert!(fast > 19_000, "{fast}");
        for text in ["01", "-", "1.", ".5", "-01.5", "1e400", "1e-400", "0.5e-400", "-1e400"] {
            assert!(number(text).is_none(), "{text}");
        }
    }
}
