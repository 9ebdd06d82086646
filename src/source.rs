//! Source files and positions: the text every later stage points back into.

use serde::Serialize;

/// Index of a file in a [`Sources`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Spans are carried beside syntax nodes (see [`crate::ast::Spanned`]) and are
/// never part of their equality.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span {
    /// The file the range lies in.
    pub file: FileId,
    /// First byte.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from byte offsets; offsets beyond `u32::MAX` saturate (files are
    /// limited well below that).
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { file, start: clamp(start), end: clamp(end) }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// One named source text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics: a path as the user gave it.
    pub name: String,
    /// The full text.
    pub text: String,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
    /// The number of characters before every [`MARK`]th byte: a column is
    /// counted from the nearest mark, not from the start of its line, so
    /// that locating many diagnostics on one very long line stays linear.
    char_marks: Vec<usize>,
}

/// Bytes between two entries of `SourceFile::char_marks`.
const MARK: usize = 256;

impl SourceFile {
    fn new(name: String, text: String) -> SourceFile {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut char_marks = Vec::with_capacity(text.len() / MARK + 2);
        let mut chars = 0;
        for block in text.as_bytes().chunks(MARK) {
            char_marks.push(chars);
            chars += starts_of_chars(block);
        }
        // The end of a text whose length is a multiple of MARK has a mark of its own.
        char_marks.push(chars);
        SourceFile { name, text, line_starts, char_marks }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: u32) -> (usize, usize) {
        let offset = (offset as usize).min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1) - 1;
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        (line + 1, self.chars_between(start, offset) + 1)
    }

    /// The number of characters in `start..end`, two byte offsets at
    /// character boundaries.
    pub fn chars_between(&self, start: usize, end: usize) -> usize {
        self.chars_before(end).saturating_sub(self.chars_before(start))
    }

    fn chars_before(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        let block = offset / MARK;
        let mark = self.char_marks.get(block).copied().unwrap_or(0);
        mark + self.text.as_bytes().get(block * MARK..offset).map_or(0, starts_of_chars)
    }

    /// The text of a one-based line, without its line ending.
    pub fn line(&self, line: usize) -> &str {
        self.line_at(line).1
    }

    /// The byte offset of a one-based line and its text, without its line ending.
    pub fn line_at(&self, line: usize) -> (usize, &str) {
        let start = self.line_starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let end = self.line_starts.get(line).copied().unwrap_or(self.text.len());
        (start, self.text.get(start..end).unwrap_or("").trim_end_matches(['\n', '\r']))
    }
}

/// The number of characters that start in some UTF-8 bytes: every byte but
/// the continuation bytes `0b10xx_xxxx`.
fn starts_of_chars(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}

/// The set of source files a rule set is read from.
#[derive(Clone, Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Adds a text under a name and returns its id. Adding a name twice adds
    /// the text twice; callers that deduplicate use [`Sources::find`].
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(SourceFile::new(name.into(), text.into()));
        id
    }

    /// The id of a file by name.
    pub fn find(&self, name: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.name == name).and_then(|i| u32::try_from(i).ok()).map(FileId)
    }

    /// A file by id.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// Every file with its id, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(u32::try_from(i).unwrap_or(u32::MAX)), f))
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// Reads a text file of at most `limit` bytes. A larger file (or an endless
/// one, such as `/dev/zero`) is refused after reading `limit + 1` bytes,
/// so memory stays bounded whatever the path names.
pub fn read_text(path: &std::path::Path, limit: u64) -> std::io::Result<String> {
    read_text_from(std::fs::File::open(path)?, limit)
}

/// The error of [`read_text`] for a file over its limit.
#[derive(Debug)]
pub struct TooLarge {
    /// The limit, in bytes.
    pub limit: u64,
}

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "larger than the limit of {} MiB", self.limit / (1024 * 1024))
    }
}

impl std::error::Error for TooLarge {}

/// Whether an error of [`read_text`] is a file over the limit.
pub fn is_too_large(error: &std::io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<TooLarge>())
}

/// [`read_text`] from any reader, such as standard input.
pub fn read_text_from(reader: impl std::io::Read, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read as _};
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::other(TooLarge { limit }));
    }
    String::from_utf8(bytes).map_err(|e| {
        let reason = format!("not UTF-8 text (invalid byte {})", e.utf8_error().valid_up_to() + 1);
        Error::new(ErrorKind::InvalidData, reason)
    })
}

/// An I/O error as a lowercase reason: `is a directory`, not
/// `Is a directory (os error 21)`.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => return String::from("no such file"),
        std::io::ErrorKind::PermissionDenied => return String::from("permission denied"),
        _ => {}
    }
    let text = error.to_string();
    let text = match error.raw_os_error() {
        Some(code) => text.strip_suffix(&format!(" (os error {code})")).unwrap_or(&text),
        None => &text,
    };
    let mut chars = text.chars();
    chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::Sources;

    /// Line and column the slow way: characters counted from the line start.
    fn naive(text: &str, offset: usize) -> (usize, usize) {
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        (line, column)
    }

    #[test]
    fn columns_count_characters_across_marks() {
        let text = format!("ab\n{}x\n{}\n\n\u{1d54f}", "é→".repeat(300), "a".repeat(700));
        let mut sources = Sources::new();
        let id = sources.add("t", text.clone());
        let file = sources.get(id);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let found = file.as_ref().map(|f| f.line_col(offset as u32));
            assert_eq!(found, Some(naive(&text, offset)), "offset {offset}");
        }
        assert_eq!(file.map(|f| f.chars_between(3, 3 + 600 * 2 + 300)), Some(600));
    }

    #[test]
    fn the_end_of_a_text_a_multiple_of_the_mark_long_has_its_column() {
        for text in ["a".repeat(512), format!("{}\nb", "\u{e9}".repeat(127)), String::new()] {
            let mut sources = Sources::new();
            let id = sources.add("t", text.clone());
            let found = sources.get(id).map(|f| f.line_col(text.len() as u32));
            assert_eq!(found, Some(naive(&text, text.len())), "{}", text.len());
        }
    }
}
