//! What the syntax tree leaves out: comments, and the few tokens it keeps no
//! span for (item keywords, braces, colons). Read from the text with a small
//! scanner that knows string literals, so `"#x"` is not a comment.

/// One `#` comment.
#[derive(Clone, Debug)]
pub(super) struct Comment {
    /// Offset of the `#`.
    pub start: usize,
    /// The comment from `#` to the end of its line, trailing whitespace removed.
    pub text: String,
    /// Whether only whitespace precedes it on its line.
    pub own_line: bool,
}

/// The source text with its comments and structural punctuation located.
pub(super) struct Trivia<'t> {
    text: &'t str,
    /// Every comment, in source order.
    pub comments: Vec<Comment>,
    /// `{`, `}`, `:` and `=` outside strings and comments, in source order.
    puncts: Vec<(usize, u8)>,
}

impl<'t> Trivia<'t> {
    /// Scans a text the parser accepted.
    pub(super) fn new(text: &'t str) -> Trivia<'t> {
        let mut comments = Vec::new();
        let mut puncts = Vec::new();
        let bytes = text.as_bytes();
        let mut line_start = 0;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'\n' => line_start = i + 1,
                b'"' => {
                    i = string_end(text, i);
                    continue;
                }
                b'#' => {
                    let end = text.get(i..).and_then(|rest| rest.find('\n')).map_or(text.len(), |n| i + n);
                    let own_line = text.get(line_start..i).is_some_and(|before| before.trim().is_empty());
                    let body = text.get(i..end).unwrap_or("#").trim_end();
                    comments.push(Comment { start: i, text: body.to_string(), own_line });
                    i = end;
                    continue;
                }
                b'{' | b'}' | b':' | b'=' => puncts.push((i, b)),
                _ => {}
            }
            i += 1;
        }
        Trivia { text, comments, puncts }
    }

    /// The first offset at or after `from` that is neither whitespace nor
    /// inside a comment.
    pub(super) fn skip_trivia(&self, from: usize) -> usize {
        let bytes = self.text.as_bytes();
        let mut i = from;
        while let Some(&b) = bytes.get(i) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' => i += 1,
                b'#' => {
                    i = self.text.get(i..).and_then(|rest| rest.find('\n')).map_or(self.text.len(), |n| i + n);
                }
                _ => break,
            }
        }
        i
    }

    /// The end of the word (letters, digits, `_`) that starts at `at`.
    pub(super) fn word_end(&self, at: usize) -> usize {
        let rest = self.text.get(at..).unwrap_or("");
        at + rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
    }

    /// The first `c` (one of `{ } : =`) at or after `from`, outside strings
    /// and comments.
    pub(super) fn find(&self, from: usize, c: char) -> Option<usize> {
        let first = self.puncts.partition_point(|&(at, _)| at < from);
        let wanted = u8::try_from(c).ok()?;
        self.puncts.get(first..)?.iter().find(|&&(_, b)| b == wanted).map(|&(at, _)| at)
    }

    /// The end of the string literal whose opening quote is at `at`.
    pub(super) fn string_end(&self, at: usize) -> usize {
        string_end(self.text, at)
    }

    /// The words of a span with whitespace, comments and parentheses left
    /// out: `( 7   days )` gives `7` and `days`.
    pub(super) fn words(&self, start: u32, end: u32) -> Vec<&'t str> {
        let Some(text) = self.text.get(start as usize..end as usize) else { return Vec::new() };
        let mut words = Vec::new();
        let mut rest = text;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ')');
            if rest.is_empty() {
                break;
            }
            if rest.starts_with('#') {
                rest = rest.find('\n').and_then(|n| rest.get(n..)).unwrap_or("");
                continue;
            }
            let len = rest.find(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '#')).unwrap_or(rest.len());
            let (word, tail) = rest.split_at(len);
            words.push(word);
            rest = tail;
        }
        words
    }

    /// Whether a comment starts in `start..end`.
    pub(super) fn comment_in(&self, start: usize, end: usize) -> bool {
        self.comments_in(start, end).next().is_some()
    }

    /// The comments that start in `start..end`.
    pub(super) fn comments_in(&self, start: usize, end: usize) -> impl Iterator<Item = &Comment> {
        let first = self.comments.partition_point(|c| c.start < start);
        self.comments.get(first..).unwrap_or(&[]).iter().take_while(move |c| c.start < end)
    }

    /// Whether the whitespace right before `at` holds an empty line.
    pub(super) fn blank_before(&self, at: usize) -> bool {
        let before = self.text.get(..at).unwrap_or("");
        let space = before.len() - before.trim_end_matches([' ', '\t', '\r', '\n']).len();
        before.get(before.len() - space..).is_some_and(|s| s.matches('\n').count() >= 2)
    }
}

/// The offset just past the string literal whose quote is at `at` (or the
/// end of its line, for an unterminated one).
fn string_end(text: &str, at: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = at + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' => return i,
            _ => i += 1,
        }
    }
    text.len()
}

/// The comments of a text, each as written with trailing whitespace removed.
pub(super) fn comment_texts(text: &str) -> Vec<String> {
    Trivia::new(text).comments.into_iter().map(|c| c.text).collect()
}
