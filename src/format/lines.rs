//! Output lines and the comments placed among them.
//!
//! The layout code emits lines of code, each with the source range it was
//! printed from. Comments are then placed by position alone:
//!
//! - a comment on a line of its own goes before the output line whose range
//!   contains it, or else before the first line after it (at the end of the
//!   file when there is none);
//! - a comment at the end of a source line goes at the end of the last
//!   output line that starts before it.
//!
//! Comments keep their source order: a comment is never placed before an
//! earlier one. When one output line gathers several comments, all but a
//! last end-of-line one go on their own lines before it. Nothing is lost or
//! duplicated; the layout code forces the line breaks some comments need to
//! stay where they are (see `items`). End-of-line comments of consecutive
//! lines are aligned.
//!
//! An empty line (or several) in the source right before an element or a
//! comment is kept as one, except at the start of the file, right after a
//! line that opens a block, before the line that closes one, and within an
//! element (before a continuation line).

use super::trivia::Trivia;

/// The widest a line is made, in columns, where it can be broken. A line
/// with no place to break (a long list literal) may be wider.
pub const MAX_WIDTH: usize = 100;

/// The indentation of one level.
pub(super) const INDENT: usize = 2;

/// What a line is to its neighbours.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// The start of an item, field, entry, clause or list element: an empty
    /// line in the source before it is kept.
    Element,
    /// Like `Element`, and it opens a block: `schema {`.
    Open,
    /// A later line of one element: `  and age > 30`, `  -> flyer`.
    Continuation,
    /// The line that closes a block: `}`.
    Close,
}

/// One line of code.
#[derive(Debug)]
pub(super) struct Line {
    indent: usize,
    text: String,
    /// The source range it was printed from; the ranges of successive lines
    /// follow each other.
    start: usize,
    end: usize,
    kind: Kind,
}

/// The lines of a file, in order.
#[derive(Debug, Default)]
pub(super) struct Lines {
    lines: Vec<Line>,
}

impl Lines {
    /// Adds a line printed from `start..end` of the source.
    pub(super) fn push(&mut self, indent: usize, text: impl Into<String>, start: usize, end: usize, kind: Kind) {
        self.lines.push(Line { indent, text: text.into(), start, end, kind });
    }

    /// The text of the file: the lines with the comments placed among them.
    pub(super) fn render(&self, trivia: &Trivia<'_>) -> String {
        let placed = self.place(trivia);
        let mut out = Output::default();
        for (line, comments) in self.lines.iter().zip(&placed) {
            let trailing = comments.last().filter(|c| !c.own_line && c.start > line.start);
            let leading = comments.get(..comments.len() - usize::from(trailing.is_some())).unwrap_or(&[]);
            let comment_indent = if line.kind == Kind::Close { line.indent + INDENT } else { line.indent };
            let blank_ok = matches!(line.kind, Kind::Element | Kind::Open);
            // Comments keep an empty line before them, except within an element.
            let comment_blank_ok = line.kind != Kind::Continuation;
            for comment in leading {
                let text = OutLine::comment(comment_indent, &comment.text);
                out.entry(trivia, comment.start, text, comment_blank_ok, false);
            }
            let text =
                OutLine { indent: line.indent, text: line.text.clone(), trailing: trailing.map(|c| c.text.clone()) };
            out.entry(trivia, line.start, text, blank_ok, line.kind == Kind::Open);
        }
        if let Some(end) = placed.get(self.lines.len()) {
            for comment in end {
                out.entry(trivia, comment.start, OutLine::comment(0, &comment.text), true, false);
            }
        }
        out.finish()
    }

    /// The comments of each line, and those after the last line (one more
    /// list), each in source order.
    fn place<'c>(&self, trivia: &'c Trivia<'_>) -> Vec<Vec<&'c super::trivia::Comment>> {
        let mut placed: Vec<Vec<_>> = (0..=self.lines.len()).map(|_| Vec::new()).collect();
        let mut floor = 0;
        for comment in &trivia.comments {
            let at = comment.start;
            // Lines starting at or before the comment.
            let before = self.lines.partition_point(|l| l.start <= at);
            let target = if comment.own_line {
                let containing = before.checked_sub(1).filter(|&i| self.lines.get(i).is_some_and(|l| at < l.end));
                containing.unwrap_or(before)
            } else {
                self.lines.partition_point(|l| l.start < at).saturating_sub(1)
            };
            floor = floor.max(target);
            if let Some(list) = placed.get_mut(floor) {
                list.push(comment);
            }
        }
        placed
    }
}

/// The rendered text, built one entry (a line of code or a comment) at a time.
#[derive(Default)]
struct Output {
    lines: Vec<OutLine>,
    /// Whether the last entry opened a block.
    after_open: bool,
}

/// A line of the output: code with perhaps a comment at its end, a comment
/// alone, or nothing.
struct OutLine {
    indent: usize,
    text: String,
    trailing: Option<String>,
}

impl OutLine {
    fn comment(indent: usize, text: &str) -> OutLine {
        OutLine { indent, text: text.to_string(), trailing: None }
    }
}

impl Output {
    /// Adds a line printed from source offset `at`, after an empty line
    /// when the source had one there and the line may follow one
    /// (`blank_ok`, and not right after a line that opens a block).
    fn entry(&mut self, trivia: &Trivia<'_>, at: usize, line: OutLine, blank_ok: bool, opens: bool) {
        if blank_ok && !self.lines.is_empty() && !self.after_open && trivia.blank_before(at) {
            self.lines.push(OutLine { indent: 0, text: String::new(), trailing: None });
        }
        self.lines.push(line);
        self.after_open = opens;
    }

    /// The text, with the end-of-line comments of consecutive lines aligned
    /// two spaces after the longest of those lines.
    fn finish(self) -> String {
        let mut out = String::new();
        let mut i = 0;
        while let Some(line) = self.lines.get(i) {
            if line.trailing.is_none() {
                push_line(&mut out, line, 0);
                i += 1;
                continue;
            }
            let run = self.lines.get(i..).unwrap_or(&[]).iter().take_while(|l| l.trailing.is_some()).count();
            let run_lines = self.lines.get(i..i + run).unwrap_or(&[]);
            let column = run_lines.iter().map(|l| l.indent + width(&l.text)).max().unwrap_or(0) + 2;
            for line in run_lines {
                push_line(&mut out, line, column);
            }
            i += run;
        }
        out
    }
}

fn push_line(out: &mut String, line: &OutLine, column: usize) {
    if !line.text.is_empty() {
        out.extend(std::iter::repeat(' ').take(line.indent));
        out.push_str(&line.text);
    }
    if let Some(comment) = &line.trailing {
        let used = line.indent + width(&line.text);
        out.extend(std::iter::repeat(' ').take(column.saturating_sub(used).max(1)));
        out.push_str(comment);
    }
    out.push('\n');
}

/// The width of a text in columns: one a character.
pub(super) fn width(text: &str) -> usize {
    text.chars().count()
}
