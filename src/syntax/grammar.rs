//! The grammar of rule files (`grammar/narval.pest`) as pest derives it, the
//! limits of the language, and the facts about tokens that lowering and the
//! error messages share. The other files of the stage import this one;
//! it imports none of them.

/// Deepest nesting a rule file may use, of brackets, `list of` and prefix
/// operators together (see `check_nesting`). Deeper text is refused before
/// parsing so that a hostile file cannot overflow the stack: this is the one
/// depth limit of the language, error [`crate::text::diagnostic::Code::TooDeep`].
pub const MAX_NESTING: usize = 64;

/// Most operators one definition or rule condition may hold. Checking and
/// evaluating recurse over an expression's tree, so its size is bounded.
pub const MAX_OPERATORS: usize = 256;

/// Most items in one list literal: `precinct in [...]` with every precinct
/// of a state fits; a list beyond is data, not a rule.
pub const MAX_LIST_ITEMS: usize = 100_000;

/// Largest rule file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The parser pest derives from the grammar; its `Rule` names the grammar's
/// rules.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/narval.pest"]
pub(super) struct NarvalParser;

/// Characters outside strings and comments, with their byte offsets.
pub(super) fn code_chars(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    text.char_indices().filter(move |&(_, c)| {
        if in_comment {
            in_comment = !matches!(c, '\n' | '\r');
            return false;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' | '\r' => in_string = false,
                _ => {}
            }
            return false;
        }
        match c {
            '#' => in_comment = true,
            '"' => in_string = true,
            _ => return true,
        }
        false
    })
}

/// The byte range of every comment, `#` to the end of its line.
pub(super) fn comments(text: &str) -> Vec<(usize, usize)> {
    let mut comments = Vec::new();
    let mut open: Option<usize> = None;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if let Some(start) = open {
            if matches!(c, '\n' | '\r') {
                comments.push((start, i));
                open = None;
            }
            continue;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' | '\n' | '\r' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '#' => open = Some(i),
            '"' => in_string = true,
            _ => {}
        }
    }
    if let Some(start) = open {
        comments.push((start, text.len()));
    }
    comments
}

/// Infix and postfix operator rules; `words` and `lower` add their own
/// neighbours to this list.
pub(super) fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::or
            | Rule::and
            | Rule::eq
            | Rule::ne
            | Rule::le
            | Rule::ge
            | Rule::lt
            | Rule::gt
            | Rule::coalesce
            | Rule::add
            | Rule::sub
            | Rule::mul
            | Rule::div
            | Rule::between
            | Rule::not_in
            | Rule::in_list
            | Rule::contains
            | Rule::starts_with
            | Rule::ends_with
            | Rule::is_missing
            | Rule::is_present
    )
}
