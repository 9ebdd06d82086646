//! Profiles in: JSON decoded against the schema into slot-addressed records.
//!
//! Decoding is driven by the schema: the JSON text goes straight into slots
//! through serde (`DeserializeSeed`), with no generic JSON tree in between.
//! Keys the schema does not name are skipped unread; so are the fields a
//! rule set never reads, when it says which ([`Reads`]). Money and dates
//! are parsed here, once. Errors name the field and what was expected, never
//! the value found.

use serde::de::DeserializeSeed;
use serde_json::value::RawValue;
use serde_json::Value as Json;

use crate::ir::Schema;

mod profile;
mod scan;
mod seed;

pub use profile::{Profile, ProfileError, Reads, Value, MAX_PROFILE_BYTES};
use seed::{Decoding, RecordSeed};

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
        if let Some(captured) = scan::decode(&Decoding::new(schema, reads, id, text), text, profile) {
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
    let decoding = Decoding::new(schema, reads, id, text);
    let mut de = serde_json::Deserializer::from_str(text);
    let result =
        RecordSeed { decoding: &decoding, out: profile, record: 0, root: true }.deserialize(&mut de).and_then(|p| {
            de.end()?;
            Ok(p)
        });
    let captured = decoding.captured.get().map(RawValue::get);
    decoding.finish(result, profile)?;
    Ok(captured)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

    use super::*;
    use crate::value::Date;

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

    /// Nested records and lists come back through their slices.
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
                let Some(captured) = scan::decode(&Decoding::new(schema, &reads, Some("id"), line), line, &mut fast)
                else {
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
                scan::decode(&Decoding::new(schema, &Reads::all(schema), Some("id"), seed), seed, &mut p).is_some(),
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
            let scanned = scan::decode(&Decoding::new(schema, &reads, None, &line), &line, &mut fast);
            assert!(scanned.is_some() || depth > lists, "{depth}");
            let mut slow = Profile::default();
            let by_serde = decode_line_serde(schema, &reads, &line, None, &mut slow);
            assert_eq!(by_serde.is_ok(), depth <= lists, "{depth}");
            let decoded = decode_str(schema, &reads, &line);
            assert_eq!(decoded.is_ok(), by_serde.is_ok(), "{depth}");
        }
    }
}
