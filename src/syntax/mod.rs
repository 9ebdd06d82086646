//! The `syntax` stage: text to syntax tree.
//!
//! pest parses the text with `grammar/narval.pest`; one lowering function per
//! grammar rule turns its pairs into [`crate::syntax::ast`] nodes. Pest types never
//! leave this module: errors become [`Diagnostic`]s with expected tokens in
//! words (see the `words` module).

pub mod ast;
mod cases;
mod expr;
mod grammar;
mod lower;
mod words;

use pest::Parser as _;

#[cfg(feature = "internals")]
pub use grammar::MAX_LIST_ITEMS;
pub use grammar::{MAX_FILE_BYTES, MAX_NESTING};

use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::source::{FileId, Span};
use grammar::{code_chars, NarvalParser, Rule};

/// Parses one file. On a syntax error the tree is `None` and the diagnostic
/// says where and what was expected; invalid literals (an impossible date,
/// say) are reported beside a tree.
pub fn parse(file: FileId, text: &str) -> (Option<ast::File>, Vec<Diagnostic>) {
    if text.len() > MAX_FILE_BYTES {
        let diagnostic = Diagnostic::new(
            Code::TooLarge,
            Span::new(file, 0, 0),
            format!("rule file is {} bytes, more than the limit of {MAX_FILE_BYTES}", text.len()),
        );
        return (None, vec![diagnostic]);
    }
    if let Some(diagnostic) = check_nesting(file, text) {
        return (None, vec![diagnostic]);
    }
    let pairs = match NarvalParser::parse(Rule::file, text) {
        Ok(pairs) => pairs,
        // An unbalanced bracket explains most failures better than the
        // tokens expected where the parser gave up.
        Err(error) => {
            let diagnostic = unbalanced(file, text).unwrap_or_else(|| words::syntax_error(file, text, &error));
            return (None, vec![diagnostic]);
        }
    };
    let lowering = lower::Lower::new(file, text);
    let tree = pairs
        .into_iter()
        .next()
        .and_then(|pair| lowering.file(pair).map_err(|d| lowering.diagnostics.borrow_mut().push(d)).ok());
    (tree, lowering.diagnostics.into_inner())
}

/// The first bracket without its partner, outside strings and comments.
fn unbalanced(file: FileId, text: &str) -> Option<Diagnostic> {
    let mut open: Vec<(usize, char)> = Vec::new();
    for (i, c) in code_chars(text) {
        match c {
            '(' | '[' | '{' => open.push((i, c)),
            ')' | ']' | '}' => {
                let expected = match open.pop() {
                    Some((_, '(')) => ')',
                    Some((_, '[')) => ']',
                    Some(_) => '}',
                    None => {
                        return Some(
                            Diagnostic::new(Code::Syntax, Span::new(file, i, i + 1), format!("`{c}` closes nothing"))
                                .with_label("no bracket open here"),
                        )
                    }
                };
                if c != expected {
                    return Some(
                        Diagnostic::new(
                            Code::Syntax,
                            Span::new(file, i, i + 1),
                            format!("expected `{expected}`, found `{c}`"),
                        )
                        .with_label("mismatched bracket"),
                    );
                }
            }
            _ => {}
        }
    }
    open.first().map(|&(i, c)| {
        Diagnostic::new(Code::Syntax, Span::new(file, i, i + 1), format!("`{c}` is never closed"))
            .with_label("opened here")
    })
}

/// Refuses text nested deeper than [`MAX_NESTING`], pointing at the first
/// token too deep. Nesting is counted on the tokens, before pest sees them,
/// for every construct that nests: brackets (`(`, `[`, and `{` of schema
/// records and test profiles), `list of` in types, and chains of prefix
/// operators (`not not ...`, `- - ...`). A prefix chain counts its length
/// where it stands: it ends at the next token that is not a prefix, and a
/// bracket opened after it nests below it. Brackets, words and `-` inside
/// strings and comments do not count.
///
/// INVARIANT: after this check, no syntax tree nests more than
/// [`MAX_NESTING`] levels of these constructs; every later walk over a
/// type or an expression (lowering, checking, formatting, the analyses,
/// compiling, evaluating, native code) relies on it for its stack.
/// Operator chains (`a or b or ...`) are bounded by [`grammar::MAX_OPERATORS`].
fn check_nesting(file: FileId, text: &str) -> Option<Diagnostic> {
    let (start, end) = too_deep(text)?;
    Some(
        Diagnostic::new(Code::TooDeep, Span::new(file, start, end), format!("nested more than {MAX_NESTING} deep"))
            .with_label("too deep")
            .with_help("split the expression into named definitions, or nest the schema less deeply"),
    )
}

/// The byte range of the first token nested deeper than [`MAX_NESTING`], as
/// `check_nesting` counts; the formatter asks it of what it prints.
pub(crate) fn too_deep(text: &str) -> Option<(usize, usize)> {
    // `base`: the depth of the innermost open bracket; `run`: the prefix
    // operators just before the current token; `open`: each open bracket's
    // outer `base`.
    let (mut base, mut run) = (0usize, 0usize);
    let mut open: Vec<usize> = Vec::new();
    let mut chars = code_chars(text).peekable();
    while let Some((i, c)) = chars.next() {
        let mut end = i + c.len_utf8();
        let deeper = match c {
            '(' | '[' | '{' => {
                open.push(base);
                base += run + 1;
                run = 0;
                base
            }
            ')' | ']' | '}' => {
                base = open.pop().unwrap_or(0);
                run = 0;
                continue;
            }
            '-' if chars.peek().is_some_and(|&(_, next)| next == '>') => {
                run = 0;
                continue;
            }
            '-' => {
                run += 1;
                base + run
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                while let Some(&(j, next)) = chars.peek() {
                    if !(next.is_ascii_alphanumeric() || next == '_') {
                        break;
                    }
                    end = j + next.len_utf8();
                    chars.next();
                }
                match text.get(i..end) {
                    Some("list" | "not") => {
                        run += 1;
                        base + run
                    }
                    // `list of`, `optional list of`: words inside the chain.
                    Some("of" | "optional") => continue,
                    _ => {
                        run = 0;
                        continue;
                    }
                }
            }
            c if c.is_whitespace() => continue,
            _ => {
                run = 0;
                continue;
            }
        };
        if deeper > MAX_NESTING {
            return Some((i, end));
        }
    }
    None
}

#[cfg(test)]
mod regressions {
    use crate::syntax::ast::{Expr, ExprKind, Item, Literal};
    use crate::text::source::FileId;

    /// Each item of a file as `definition NAME`, `rule NAME`, `import PATH`.
    fn items(text: &str) -> Vec<String> {
        let (tree, _) = super::parse(FileId(0), text);
        let items = tree.map(|file| file.items).unwrap_or_default();
        items
            .iter()
            .map(|item| match item {
                Item::Definition(d) => format!("definition {}", d.name.node),
                Item::Rule(r) => format!("rule {}", r.name.node),
                Item::Import(path) => format!("import {}", path.node),
                _ => String::from("other"),
            })
            .collect()
    }

    #[test]
    fn a_rule_may_be_named_import() {
        assert_eq!(items("import \"a\"\nimport \"d\": x -> y\n"), ["import a", "rule import"]);
    }

    /// Found by the fuzzer: `narval1` was read as the version line `narval 1`,
    /// which the formatter then could not print back.
    #[test]
    fn a_name_starting_with_narval_is_not_a_version_line() {
        assert_eq!(items("narval1: x -> y\nnarval2 = 3\n"), ["rule narval1", "definition narval2"]);
        let (tree, _) = super::parse(FileId(0), "narval1\n");
        assert!(tree.is_none());
        let (tree, _) = super::parse(FileId(0), "narval  1 # v\n");
        assert_eq!(tree.and_then(|file| file.version).map(|v| v.node), Some(1));
    }

    #[test]
    fn a_number_ending_a_definition_is_not_a_duration_with_the_next_item() {
        for text in ["x = 7\ndays: a -> b\n", "x = 7\ndays \"d\": a -> b\n", "x = 7 days = 3\n"] {
            assert_eq!(items(text).len(), 2, "{text}");
        }
        let (tree, _) = super::parse(FileId(0), "y = 7 days == 1 week\n");
        let value = tree.and_then(|f| match f.items.into_iter().next() {
            Some(Item::Definition(d)) => Some(d.value),
            _ => None,
        });
        let days = |e: &Expr| matches!(e.node, ExprKind::Literal(Literal::Days(_)));
        assert!(matches!(&value, Some(Expr { node: ExprKind::Binary(_, l, r), .. }) if days(l) && days(r)));
    }

    /// The spans of a file's rule conditions, as text.
    fn conditions(text: &str) -> Vec<&str> {
        let (tree, _) = super::parse(FileId(0), text);
        let items = tree.map(|file| file.items).unwrap_or_default();
        items
            .iter()
            .filter_map(|item| match item {
                Item::Rule(rule) => text.get(rule.condition.span.start as usize..rule.condition.span.end as usize),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn spans_end_at_the_last_token_not_at_the_comment_after_it() {
        let text = "a: x in [1]   # note\n  -> s\nb: x between 1 and 2 # one\n# two\n\n -> s\n";
        assert_eq!(conditions(text), ["x in [1]", "x between 1 and 2"]);
    }

    #[test]
    fn a_comment_inside_a_string_does_not_cut_a_span() {
        let text = "a: x contains \"#\"   \n -> s\n";
        assert_eq!(conditions(text), ["x contains \"#\""]);
    }
}
