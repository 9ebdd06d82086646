//! Profiles in: JSON decoded against the schema into slot-addressed records.
//!
//! Every field of the schema gets a slot; fields the schema does not name are
//! ignored; money and dates are parsed here, once. Errors name the field and
//! what was expected, never the value found.

use serde_json::Value as Json;

use crate::ir::{RecordId, Schema, Type};
use crate::value::{parse_cents, Date};

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Missing or null (only for optional fields).
    Missing,
    /// `bool`
    Bool(bool),
    /// `int`
    Int(i64),
    /// `number`
    Number(f64),
    /// `money` in cents.
    Money(i64),
    /// `string`
    String(Box<str>),
    /// `date`
    Date(Date),
    /// An enum member by index.
    Enum(u32),
    /// A list.
    List(Box<[Value]>),
    /// A record: one value per field, by slot.
    Record(Box<[Value]>),
}

/// One decoded profile: a value per field of the schema's root record.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// Values by slot.
    pub fields: Box<[Value]>,
}

/// Why a profile was rejected. Messages name fields, never their values.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ProfileError {
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
    /// The embedder's value could not be turned into JSON.
    #[error("the profile could not be serialised: {reason}")]
    Serialize {
        /// What serde reported.
        reason: String,
    },
}

/// Decodes one profile from JSON text.
pub fn from_json_str(schema: &Schema, text: &str) -> Result<Profile, ProfileError> {
    let json: Json = serde_json::from_str(text).map_err(|e| ProfileError::InvalidJson { reason: json_reason(&e) })?;
    from_json_value(schema, &json)
}

/// Decodes one profile from a JSON value.
pub fn from_json_value(schema: &Schema, json: &Json) -> Result<Profile, ProfileError> {
    if !json.is_object() {
        return Err(ProfileError::NotAnObject { found: json_type(json) });
    }
    let mut path = Path::default();
    match record(schema, 0, json, &mut path)? {
        Value::Record(fields) => Ok(Profile { fields }),
        _ => Err(ProfileError::NotAnObject { found: json_type(json) }),
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

/// The JSON type of a value, for messages.
pub fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The path to the value being decoded, built only when an error needs it.
#[derive(Default)]
struct Path {
    parts: Vec<Part>,
}

enum Part {
    Field(String),
    Index(usize),
}

impl Path {
    fn render(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
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

fn record(schema: &Schema, id: RecordId, json: &Json, path: &mut Path) -> Result<Value, ProfileError> {
    let Json::Object(map) = json else {
        return Err(ProfileError::WrongType {
            field: path.render(),
            expected: "an object".into(),
            found: json_type(json),
        });
    };
    let Some(record) = schema.records.get(id) else {
        return Ok(Value::Record(Box::new([])));
    };
    let mut values = Vec::with_capacity(record.fields.len());
    for field in record.fields.values() {
        path.parts.push(Part::Field(field.name.clone()));
        let value = match map.get(&field.name) {
            None | Some(Json::Null) if field.optional => Value::Missing,
            None | Some(Json::Null) => return Err(ProfileError::MissingField { field: path.render() }),
            Some(json) => value(schema, &field.ty, json, path)?,
        };
        path.parts.pop();
        values.push(value);
    }
    Ok(Value::Record(values.into_boxed_slice()))
}

fn value(schema: &Schema, ty: &Type, json: &Json, path: &mut Path) -> Result<Value, ProfileError> {
    let wrong = |path: &Path| ProfileError::WrongType {
        field: path.render(),
        expected: schema.describe(ty),
        found: json_type(json),
    };
    let invalid =
        |path: &Path, expected: &str| ProfileError::InvalidValue { field: path.render(), expected: expected.into() };
    Ok(match ty {
        Type::Bool => Value::Bool(json.as_bool().ok_or_else(|| wrong(path))?),
        Type::Int => {
            let Json::Number(n) = json else { return Err(wrong(path)) };
            match n.as_i64() {
                Some(i) => Value::Int(i),
                None => match n.as_f64() {
                    // `3.0` from a spreadsheet export is the integer 3.
                    Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Value::Int(f as i64),
                    _ => return Err(invalid(path, "a whole number within the range of `int`")),
                },
            }
        }
        Type::Number => {
            let Json::Number(n) = json else { return Err(wrong(path)) };
            Value::Number(n.as_f64().ok_or_else(|| invalid(path, "a finite number"))?)
        }
        Type::Money => {
            let cents = match json {
                Json::Number(n) => match n.as_i64() {
                    Some(i) => i.checked_mul(100),
                    // Display of f64 is the shortest text that reads back as
                    // the same number, so 2500.99 is read as exactly 250099 cents.
                    None => n.as_f64().and_then(|f| parse_cents(&f.to_string())),
                },
                Json::String(s) => parse_cents(s),
                _ => return Err(wrong(path)),
            };
            Value::Money(cents.ok_or_else(|| invalid(path, "an amount with at most two decimals"))?)
        }
        Type::String => Value::String(json.as_str().ok_or_else(|| wrong(path))?.into()),
        Type::Date => {
            let text = json.as_str().ok_or_else(|| wrong(path))?;
            Value::Date(Date::parse(text).ok_or_else(|| invalid(path, "a calendar date in the form YYYY-MM-DD"))?)
        }
        Type::Days => return Err(wrong(path)),
        Type::Enum(id) => {
            let text = json.as_str().ok_or_else(|| wrong(path))?;
            let members = schema.enums.get(*id).map(|e| e.members.as_slice()).unwrap_or_default();
            let index = members.iter().position(|m| m == text).ok_or_else(|| invalid(path, &schema.describe(ty)))?;
            Value::Enum(u32::try_from(index).unwrap_or(u32::MAX))
        }
        Type::List(element) => {
            let Json::Array(items) = json else { return Err(wrong(path)) };
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                path.parts.push(Part::Index(i));
                if item.is_null() {
                    return Err(ProfileError::MissingField { field: path.render() });
                }
                values.push(value(schema, element, item, path)?);
                path.parts.pop();
            }
            Value::List(values.into_boxed_slice())
        }
        Type::Record(id) => record(schema, *id, json, path)?,
    })
}
