//! Mutations: how a new input is made from the corpus.
//!
//! Bytes are flipped, inserted, deleted, duplicated, repeated, spliced with
//! another input and truncated; tokens of the language (or of JSON) are
//! inserted or put in place of words and numbers; ranges are wrapped in deep
//! nesting. Profiles for the `eval` target are also mutated as JSON trees:
//! fields dropped, nulled, retyped, set to extremes, lists made long.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::rng::Rng;

/// The largest input a mutation may make; larger ones are dropped.
pub const MAX_LEN: usize = 256 * 1024;

/// Tokens of the rule language besides its keywords (see [`keywords`]):
/// operators, literals at the edges of their ranges, and pieces of items.
const RULE_TOKENS: &[&str] = &[
    "narval 1\n",
    "==",
    "!=",
    "<=",
    ">=",
    "<",
    ">",
    "??",
    "+",
    "-",
    "*",
    "/",
    "->",
    "→",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "=",
    ".",
    "\"",
    "\\",
    "#",
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "$",
    "0",
    "1",
    "40",
    "1_000",
    "9223372036854775807",
    "9223372036854775808",
    "99999999999999999999999",
    "0.5",
    "179769313486231570000000000000000000000000000000000000000000000000000000.0",
    "0.000000000000000000001",
    "$0.01",
    "$92233720368547758.07",
    "$92233720368547758.08",
    "$1.234",
    "2012-02-29",
    "2013-02-29",
    "0000-01-01",
    "9999-12-31",
    "3_000_000 days",
    "1 week",
    "\"\"",
    "\"x\"",
    "\"\\n\"",
    "\"\\q\"",
    "\"é\"",
    "é",
    "𝕏",
    "\u{200b}",
    "\u{feff}",
    "\0",
    "# comment\n",
    "_",
    "age",
    "state",
    "last_contact",
    "volunteer",
    "engagement",
    "scores.support",
    "donations.amount",
    "party",
    "consent.email",
    "x: true -> s\n",
    "solicitation streams s\n",
    "issue streams i\n",
    "d = 1\n",
    "test \"t\" { given {} expect s }\n",
    "profile p = { age: 1 }\n",
    "schema { a: int }\n",
    "import \"schema.narval\"\n",
    "import \"missing.narval\"\n",
    "-> no solicitations",
    "is not missing",
    "count(donations where amount > 0)",
    "any(issues where it == \"jobs\")",
    "today - 7 days",
    "number(age)",
    "money(1.5)",
    "(",
    "[1, 2, 3]",
    "[]",
    "not in",
    "{ a: [1, 2] }",
];

/// JSON tokens, edge values and campaign field names.
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ":",
    ",",
    " ",
    "\n",
    "null",
    "true",
    "false",
    "-0",
    "0",
    "1e400",
    "-1e400",
    "1e-400",
    "18446744073709551616",
    "9223372036854775808",
    "-9223372036854775809",
    "9223372036854775807",
    "0.1",
    "1.5e3",
    "\"\\u0000\"",
    "\"\\ud800\"",
    "\"\\udfff\"",
    "\"\\\"",
    "\\",
    "\"id\":",
    "\"age\":",
    "\"party\":",
    "\"state\":",
    "\"scores\":",
    "\"donations\":",
    "\"amount\":",
    "\"date\":",
    "\"issues\":",
    "\"consent\":",
    "\"last_contact\":",
    "\"volunteer\":",
    "\"engagement\":",
    "\"registered\":",
    "\"2012-02-29\"",
    "\"2013-02-29\"",
    "\"92233720368547758.07\"",
    "\"92233720368547758.08\"",
    "\"250.505\"",
    "\"-0.01\"",
    "\"dem\"",
    "\"rally\"",
    "\"\"",
    "é",
    "\u{feff}",
    "\0",
    "[[[[[[[[[[[[[[[[",
    "{\"a\":{\"a\":{\"a\":",
];

const NESTING: &[(&str, &str)] = &[("(", ")"), ("[", "]"), ("{", "}"), ("not ", ""), ("- ", ""), ("not (", ")")];
const DEPTHS: &[usize] = &[2, 8, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257, 1000, 10_000];
const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "4503599627370496",
    "4503599627370497",
    "9007199254740993",
    "1e308",
    "1e309",
    "5e-324",
    "0.005",
    "2.675",
    "99.5",
    "100.0",
    "250.505",
    "1_000",
    "00",
    "1.",
    ".5",
];

/// What kind of input a target takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Rules,
    Json,
    /// Profiles that should mostly stay valid: structural mutations first.
    Profiles,
}

/// A new input from `base`, with `other` (another corpus input) to splice from.
pub fn mutate(rng: &mut Rng, kind: Kind, base: &[u8], other: &[u8]) -> Vec<u8> {
    if kind == Kind::Profiles && !rng.one_in(5) {
        if let Some(out) = mutate_json(rng, base, other) {
            return out;
        }
    }
    let tokens = if kind == Kind::Rules { rule_tokens() } else { JSON_TOKENS };
    let mut data = base.to_vec();
    let rounds = 1 << rng.below(4);
    for _ in 0..rounds {
        if kind == Kind::Rules && rng.one_in(16) {
            replicate_line(rng, &mut data);
        } else {
            mutate_bytes(rng, tokens, &mut data, other);
        }
        if data.len() > MAX_LEN {
            data.truncate(MAX_LEN);
        }
    }
    data
}

/// A range `start..end` of `len` bytes, usually short.
fn range(rng: &mut Rng, len: usize) -> (usize, usize) {
    let start = rng.below(len + 1);
    let max = (len - start).min(if rng.one_in(4) { len } else { 16 });
    (start, start + rng.small(max + 1))
}

/// A position, often at a token boundary (just after a non-word byte).
fn position(rng: &mut Rng, data: &[u8]) -> usize {
    let at = rng.below(data.len() + 1);
    if rng.one_in(2) {
        let after = data.get(at..).unwrap_or(&[]);
        if let Some(offset) = after.iter().position(|b| !b.is_ascii_alphanumeric() && *b != b'_') {
            return at + offset + 1;
        }
    }
    at
}

/// The word (letters, digits, `_`, `.`) around `at`.
fn word_at(data: &[u8], at: usize) -> (usize, usize) {
    let is_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.';
    let start = data.get(..at).map_or(0, |before| before.iter().rposition(|b| !is_word(b)).map_or(0, |p| p + 1));
    let end = data.get(at..).map_or(at, |after| after.iter().position(|b| !is_word(b)).map_or(data.len(), |p| at + p));
    (start, end.max(start))
}

fn mutate_bytes(rng: &mut Rng, tokens: &[&str], data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(14) {
        0 if len > 0 => {
            let at = rng.below(len);
            if let Some(b) = data.get_mut(at) {
                *b ^= 1 << rng.below(8);
            }
        }
        1 if len > 0 => {
            let at = rng.below(len);
            let byte = *rng.pick(b"\0\x7f\xff\n \"#\\$-_0aZ(){}[]").unwrap_or(&b' ');
            let random = (rng.below(95) + 32) as u8;
            if let Some(b) = data.get_mut(at) {
                *b = if rng.one_in(2) { byte } else { random };
            }
        }
        2 => {
            let at = rng.below(len + 1);
            let count = rng.small(8) + 1;
            let bytes: Vec<u8> = (0..count).map(|_| (rng.below(95) + 32) as u8).collect();
            data.splice(at..at, bytes);
        }
        3 | 4 => {
            let (start, end) = range(rng, len);
            data.drain(start..end);
        }
        5 => {
            let (start, end) = range(rng, len);
            let copy = data.get(start..end).unwrap_or(&[]).to_vec();
            let at = position(rng, data);
            data.splice(at..at, copy);
        }
        6 => {
            // Repeat a range many times: long lists, many rules, long operator chains.
            let (start, end) = range(rng, len);
            let piece = data.get(start..end).unwrap_or(&[]).to_vec();
            if !piece.is_empty() {
                let times = *rng.pick(&[2, 10, 100, 257, 1000, 5000]).unwrap_or(&2);
                let times = times.min(MAX_LEN / piece.len());
                let repeated: Vec<u8> = piece.iter().copied().cycle().take(piece.len() * times).collect();
                data.splice(end..end, repeated);
            }
        }
        7 => {
            // Splice: a piece of the other input, inserted or in place of the tail.
            let (start, end) = range(rng, other.len());
            let piece = other.get(start..end).unwrap_or(&[]).to_vec();
            let at = position(rng, data);
            if rng.one_in(2) {
                data.truncate(at);
                data.extend_from_slice(other.get(start..).unwrap_or(&[]));
            } else {
                data.splice(at..at, piece);
            }
        }
        8 | 9 => {
            let token = rng.pick(tokens).unwrap_or(&" ").as_bytes().to_vec();
            let at = position(rng, data);
            let pad = rng.one_in(2);
            let mut piece = Vec::new();
            if pad {
                piece.push(b' ');
            }
            piece.extend_from_slice(&token);
            if pad {
                piece.push(b' ');
            }
            data.splice(at..at, piece);
        }
        10 => {
            let (start, end) = word_at(data, rng.below(len + 1));
            let token = rng.pick(tokens).unwrap_or(&" ").as_bytes().to_vec();
            data.splice(start..end, token);
        }
        11 => {
            let (open, close) = *rng.pick(NESTING).unwrap_or(&("(", ")"));
            let depth = *rng.pick(DEPTHS).unwrap_or(&2);
            let depth = depth.min(MAX_LEN / 4);
            let (start, end) = word_at(data, rng.below(len + 1));
            data.splice(end..end, close.repeat(depth).into_bytes());
            data.splice(start..start, open.repeat(depth).into_bytes());
        }
        12 => {
            // An edge number in place of a run of digits.
            let at = rng.below(len + 1);
            let Some(offset) = data.get(at..).and_then(|rest| rest.iter().position(u8::is_ascii_digit)) else {
                return;
            };
            let start = at + offset;
            let digits = data.get(start..).map_or(0, |rest| {
                rest.iter().position(|b| !b.is_ascii_digit() && *b != b'.' && *b != b'_').unwrap_or(rest.len())
            });
            let number = rng.pick(NUMBERS).unwrap_or(&"0").as_bytes().to_vec();
            data.splice(start..start + digits, number);
        }
        _ => {
            if rng.one_in(2) {
                data.truncate(rng.below(len + 1));
            } else {
                swap_lines(rng, data);
            }
        }
    }
}

/// The rule language's grammar: its quoted words are the keywords.
const GRAMMAR: &str = include_str!("../../grammar/narval.pest");

/// Every word the grammar quotes (`"schema"`, `"solicitations"`, `"sum"`...),
/// so the fuzzer inserts new syntax as soon as the grammar has it, and
/// [`replicate_line`] never renames a keyword.
fn keywords() -> &'static [&'static str] {
    static WORDS: OnceLock<Vec<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| {
        let mut words = BTreeSet::new();
        for line in GRAMMAR.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            // Quoted literals, skipping escapes such as `"\""`.
            while let Some(open) = rest.find('"') {
                let after = rest.get(open + 1..).unwrap_or("");
                let mut end = None;
                let mut escaped = false;
                for (i, c) in after.char_indices() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let Some(end) = end else { break };
                let literal = after.get(..end).unwrap_or("");
                if !literal.is_empty() && literal.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    words.insert(literal);
                }
                rest = after.get(end + 1..).unwrap_or("");
            }
        }
        words.into_iter().filter(|w| w.starts_with(|c: char| c.is_ascii_alphabetic())).collect()
    })
}

/// What a rule-file mutation inserts: the grammar's keywords and [`RULE_TOKENS`].
fn rule_tokens() -> &'static [&'static str] {
    static TOKENS: OnceLock<Vec<&'static str>> = OnceLock::new();
    TOKENS.get_or_init(|| keywords().iter().chain(RULE_TOKENS).copied().collect())
}

/// Repeats one line many times with its names numbered: many fields, rules
/// or definitions of distinct names, the inputs on which a cost quadratic
/// in their number shows. In one mode in three, the first name of copy `i`
/// gets `i` and the others `i - 1`: chains such as `d_5 = d_4 + d_4`.
fn replicate_line(rng: &mut Rng, data: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(data).into_owned();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(&line) = rng.pick(&lines) else { return };
    let chain = rng.one_in(3);
    let times = (*rng.pick(&[10, 100, 1000, 4000]).unwrap_or(&10)).min(MAX_LEN / (line.len() + 8));
    let mut copies = String::new();
    for i in 1..=times {
        let mut first = true;
        let mut quotes = 0;
        let mut rest = line;
        while let Some(start) = rest.find(|c: char| c.is_ascii_alphabetic() || c == '_') {
            let (before, word) = rest.split_at(start);
            let end = word.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(word.len());
            let (name, after) = word.split_at(end);
            copies.push_str(before);
            copies.push_str(name);
            quotes += before.matches('"').count();
            if !keywords().contains(&name) && quotes % 2 == 0 && !before.ends_with(|c: char| c.is_ascii_digit()) {
                let index = if chain && !first { i - 1 } else { i };
                copies.push_str(&format!("_{index}"));
                first = false;
            }
            rest = after;
        }
        copies.push_str(rest);
        if !copies.ends_with('\n') {
            copies.push('\n');
        }
    }
    let at = text.find(line).map_or(text.len(), |i| i + line.len());
    let mut out = text;
    out.insert_str(at, &copies);
    *data = out.into_bytes();
}

fn swap_lines(rng: &mut Rng, data: &mut Vec<u8>) {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    if lines.len() < 2 {
        return;
    }
    let a = rng.below(lines.len());
    let b = rng.below(lines.len());
    if rng.one_in(2) {
        lines.swap(a, b);
    } else if let Some(line) = lines.get(a).copied() {
        lines.insert(b, line);
    }
    *data = lines.concat().into_bytes();
}

// ---- JSON trees --------------------------------------------------------------

const STRINGS: &[&str] = &[
    "",
    "dem",
    "rep",
    "ind",
    "none",
    "rally",
    "debate",
    "online",
    "email",
    "event",
    "jobs",
    "healthcare",
    "OH",
    "WI",
    "2012-10-01",
    "2012-02-29",
    "2013-02-29",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2012-1-1",
    "2012-10-01T00:00:00Z",
    "250.50",
    "$250",
    "1e3",
    "-0.01",
    "0.005",
    "92233720368547758.07",
    "92233720368547758.08",
    "-92233720368547758.08",
    " 5",
    "5.",
    ".5",
    "0x10",
    "1_000",
    "true",
    "null",
    "é→𝕏",
    "\u{0}",
    "\u{feff}",
    "Ada Lovelace",
];

/// A value of any JSON type, often at an edge.
fn any_value(rng: &mut Rng) -> Value {
    match rng.below(9) {
        0 => Value::Null,
        1 => json!(rng.one_in(2)),
        2 => json!(*rng.pick(&[0i64, 1, -1, 40, i64::MAX, i64::MIN, 1 << 53, (1 << 53) + 1]).unwrap_or(&0)),
        3 => json!(u64::MAX),
        4 => json!(*rng.pick(&[0.0, -0.0, 0.5, 2.5, 99.5, 1e308, -1e308, 5e-324, 0.005, 2.675, 1e15]).unwrap_or(&0.0)),
        5 => json!(*rng.pick(STRINGS).unwrap_or(&"")),
        6 => json!("x".repeat(rng.small(10_000))),
        7 => json!([]),
        _ => json!({}),
    }
}

/// The same kind of value, changed a little or pushed to an edge.
fn nudge(rng: &mut Rng, value: &Value) -> Value {
    match value {
        Value::Bool(b) => json!(!b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                match rng.below(4) {
                    0 => json!(i.wrapping_add(1)),
                    1 => json!(i.wrapping_neg()),
                    2 => json!(i.wrapping_mul(1000)),
                    _ => json!(i as f64 + 0.5),
                }
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                match rng.below(4) {
                    0 => json!(f * 1e10),
                    1 => json!(-f),
                    2 => json!(f.to_string()),
                    _ => json!(f.trunc() as i64),
                }
            }
        }
        Value::String(s) => match rng.below(4) {
            0 => json!(format!("{s}{s}")),
            1 => json!(s.chars().rev().collect::<String>()),
            2 => json!(s.to_uppercase()),
            _ => json!(rng.pick(STRINGS).unwrap_or(&"")),
        },
        _ => any_value(rng),
    }
}

/// A random node of `value`: each step down is taken two times in three.
fn random_node<'v>(rng: &mut Rng, value: &'v mut Value) -> &'v mut Value {
    let len = match value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        _ => 0,
    };
    if len == 0 || rng.one_in(3) {
        return value;
    }
    let at = rng.below(len);
    match value {
        Value::Array(items) => random_node(rng, &mut items[at]),
        Value::Object(map) => random_node(rng, map.values_mut().nth(at).expect("at < len")),
        _ => value,
    }
}

fn mutate_json(rng: &mut Rng, base: &[u8], other: &[u8]) -> Option<Vec<u8>> {
    let mut root: Value = serde_json::from_slice(base).ok()?;
    let mut donor: Value = serde_json::from_slice(other).unwrap_or(Value::Null);
    let rounds = 1 << rng.below(3);
    for _ in 0..rounds {
        let graft = random_node(rng, &mut donor).clone();
        let node = random_node(rng, &mut root);
        mutate_node(rng, node, graft);
    }
    let mut text = serde_json::to_string(&root).ok()?;
    if rng.one_in(8) {
        // What a JSON tree cannot hold: a number out of range, a key twice.
        let edge = *rng.pick(&["1e400", "-0", "123456789012345678901234567890", "1.0e2", "-1e-400"]).unwrap_or(&"0");
        match rng.below(2) {
            0 => text = text.replacen(":0", &format!(":{edge}"), 1),
            _ => text = text.replacen('{', "{\"age\":1,", 1),
        }
    }
    (text.len() <= MAX_LEN).then(|| text.into_bytes())
}

fn mutate_node(rng: &mut Rng, node: &mut Value, graft: Value) {
    match node {
        Value::Object(map) if !rng.one_in(4) => mutate_object(rng, map, graft),
        Value::Array(items) if !rng.one_in(4) => mutate_array(rng, items, graft),
        _ => {
            *node = match rng.below(10) {
                0..=4 => nudge(rng, node),
                5 => Value::Null,
                6 => graft,
                7 => json!([node.clone()]),
                8 => json!({ "value": node.clone() }),
                _ => any_value(rng),
            }
        }
    }
}

fn mutate_object(rng: &mut Rng, map: &mut Map<String, Value>, graft: Value) {
    let keys: Vec<String> = map.keys().cloned().collect();
    let key = rng.pick(&keys).cloned().unwrap_or_default();
    match rng.below(6) {
        0 | 1 => {
            map.remove(&key);
        }
        2 => {
            map.insert(key, Value::Null);
        }
        3 => {
            let value = map.remove(&key).unwrap_or(Value::Null);
            map.insert(format!("{key}_"), value);
        }
        4 => {
            map.insert(key, graft);
        }
        _ => {
            map.insert(rng.pick(STRINGS).unwrap_or(&"x").to_string(), any_value(rng));
        }
    }
}

fn mutate_array(rng: &mut Rng, items: &mut Vec<Value>, graft: Value) {
    match rng.below(6) {
        0 => items.clear(),
        1 if !items.is_empty() => {
            items.remove(rng.below(items.len()));
        }
        2 if !items.is_empty() => {
            let item = items.get(rng.below(items.len())).cloned().unwrap_or(Value::Null);
            let times = *rng.pick(&[1, 10, 100, 1000, 5000]).unwrap_or(&1);
            items.extend(std::iter::repeat_n(item, times));
        }
        3 => items.reverse(),
        4 => items.push(graft),
        _ => items.push(any_value(rng)),
    }
}

#[cfg(test)]
mod tests {
    use super::keywords;

    #[test]
    fn keywords_come_from_the_grammar() {
        let words = keywords();
        for word in ["narval", "schema", "tagged", "solicitations", "starts_with", "sum", "weeks", "expect"] {
            assert!(words.contains(&word), "{word} missing from {words:?}");
        }
        // Rule names and pest built-ins are not quoted, so not keywords.
        for word in ["ASCII_ALPHA", "expr", "kw_schema", "ANY"] {
            assert!(!words.contains(&word), "{word} in {words:?}");
        }
    }
}
