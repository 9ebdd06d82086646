//! Source files and positions: the text every later stage points back into.

use serde::Serialize;

/// Index of a file in a [`Sources`] set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct FileId(pub u32);

/// A byte range in one source file.
///
/// Spans are carried beside syntax nodes (see [`crate::syntax::ast::Spanned`]) and are
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
        let line_starts = std::iter::once(0).chain(line_ends(&text)).collect();
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

    /// Whether the text is a narval file: its first line that is not blank
    /// or a comment is a version line (`narval 1`). Diagnostics quote
    /// nothing of a file that is not, which may be any file on the machine.
    pub fn is_narval(&self) -> bool {
        let mut rest = self.text.strip_prefix(BOM).unwrap_or(&self.text);
        loop {
            rest = rest.trim_start();
            match rest.strip_prefix('#') {
                Some(comment) => rest = comment.find(['\n', '\r']).and_then(|n| comment.get(n..)).unwrap_or(""),
                None => break,
            }
        }
        let Some(after) = rest.strip_prefix("narval") else { return false };
        let after = after.trim_start_matches([' ', '\t']);
        after.len() < rest.len() - "narval".len() && after.starts_with(|c: char| c.is_ascii_digit())
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

/// The UTF-8 byte order mark, skipped at the start of every text.
pub const BOM: &str = "\u{feff}";

/// The one policy for every text narval reads (rule files, imports, policy
/// files, test files and profile files): UTF-8, a byte order mark at the
/// start skipped. Line ends (LF, CRLF or a lone CR) are kept as written:
/// [`Sources`] and the formatter read each as one line end.
pub fn decode_text(bytes: Vec<u8>) -> Result<String, NotText> {
    if let Some(utf16) = utf16(&bytes) {
        return Err(NotText { encoding: utf16, line: 1, column: 1, offset: 0, lossy: String::new() });
    }
    let skip = if bytes.starts_with(BOM.as_bytes()) { BOM.len() } else { 0 };
    match std::str::from_utf8(bytes.get(skip..).unwrap_or_default()) {
        Ok(text) => Ok(text.to_string()),
        Err(error) => {
            let rest = bytes.get(skip..).unwrap_or_default();
            let valid = rest.get(..error.valid_up_to()).unwrap_or_default();
            let prefix = String::from_utf8_lossy(valid);
            let line = 1 + line_ends(&prefix).len();
            let line_start = line_ends(&prefix).last().copied().unwrap_or(0);
            let column = 1 + prefix.get(line_start..).map_or(0, |l| l.chars().count());
            let encoding = if looks_like_latin1(rest) { Encoding::Latin1 } else { Encoding::InvalidUtf8 };
            let offset = valid.len();
            Err(NotText { encoding, line, column, offset, lossy: String::from_utf8_lossy(rest).into_owned() })
        }
    }
}

/// Whether the first bytes of a text look like UTF-16 (see [`decode_text`]):
/// for a stream read line by line, such as `narval assign`'s profiles.
pub fn looks_like_utf16(head: &[u8]) -> bool {
    utf16(head).is_some()
}

/// UTF-16 by its byte order mark, or by the zero bytes of ASCII text
/// written in it (a zero in every other byte of the first few hundred).
fn utf16(bytes: &[u8]) -> Option<Encoding> {
    match bytes {
        [0xff, 0xfe, ..] => return Some(Encoding::Utf16 { big_endian: false }),
        [0xfe, 0xff, ..] => return Some(Encoding::Utf16 { big_endian: true }),
        _ => {}
    }
    let head = bytes.get(..bytes.len().min(512) & !1).unwrap_or_default();
    let pairs = head.len() / 2;
    if pairs == 0 {
        return None;
    }
    let zero_at = |i: usize| head.chunks(2).filter(|p| p.get(i) == Some(&0) && p.get(1 - i) != Some(&0)).count();
    // Most characters of a rule file are ASCII: most pairs hold one zero.
    if zero_at(1) * 4 >= pairs * 3 {
        Some(Encoding::Utf16 { big_endian: false })
    } else if zero_at(0) * 4 >= pairs * 3 {
        Some(Encoding::Utf16 { big_endian: true })
    } else {
        None
    }
}

/// Invalid UTF-8 that reads as Latin-1 (or Windows-1252) text: no control
/// characters but tabs and line ends, and no valid multi-byte sequence.
fn looks_like_latin1(bytes: &[u8]) -> bool {
    let controls = bytes.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c));
    let multibyte = String::from_utf8_lossy(bytes).chars().any(|c| c > '\u{7f}' && c != char::REPLACEMENT_CHARACTER);
    !controls && !multibyte
}

/// What a text that is not UTF-8 looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-16, with or without a byte order mark.
    Utf16 {
        /// Big-endian (`FE FF`) rather than little-endian (`FF FE`, what Windows writes).
        big_endian: bool,
    },
    /// Bytes that are not UTF-8 but read as Latin-1 (ISO-8859-1 or Windows-1252).
    Latin1,
    /// Bytes that are not UTF-8, in no encoding recognised.
    InvalidUtf8,
}

/// A text that is not UTF-8, with the place of its first invalid byte.
#[derive(Clone, Debug)]
pub struct NotText {
    /// What it looks like.
    pub encoding: Encoding,
    /// One-based line of the first invalid byte (1 for UTF-16).
    pub line: usize,
    /// One-based column, in characters, of the first invalid byte.
    pub column: usize,
    /// Byte offset of the first invalid byte in `lossy`.
    pub offset: usize,
    /// The text with each invalid sequence replaced by U+FFFD (empty for
    /// UTF-16), for a diagnostic to point into.
    pub lossy: String,
}

impl NotText {
    /// What to do about it, for a help line.
    pub fn help(&self) -> &'static str {
        match self.encoding {
            Encoding::Utf16 { big_endian: false } => {
                "convert it to UTF-8: `iconv -f UTF-16LE -t UTF-8 FILE > FILE.utf8`"
            }
            Encoding::Utf16 { big_endian: true } => {
                "convert it to UTF-8: `iconv -f UTF-16BE -t UTF-8 FILE > FILE.utf8`"
            }
            Encoding::Latin1 => "convert it to UTF-8: `iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8`",
            Encoding::InvalidUtf8 => "save the file as UTF-8 text",
        }
    }
}

impl NotText {
    /// What the text looks like, without its place.
    pub fn reason(&self) -> &'static str {
        match self.encoding {
            Encoding::Utf16 { .. } => "it looks like UTF-16",
            Encoding::Latin1 => "it looks like Latin-1 (ISO-8859-1)",
            Encoding::InvalidUtf8 => "a byte is not UTF-8",
        }
    }
}

impl std::fmt::Display for NotText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.encoding {
            Encoding::Utf16 { .. } => write!(f, "not UTF-8 text: {}", self.reason()),
            _ => write!(f, "not UTF-8 text: {} at line {} column {}", self.reason(), self.line, self.column),
        }
    }
}

impl std::error::Error for NotText {}

/// The byte offset just past every line end of a text: LF, CRLF and a lone
/// CR each end one line, as an editor shows them.
pub fn line_ends(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    memchr::memchr2_iter(b'\n', b'\r', bytes)
        .filter(|&i| !(bytes.get(i) == Some(&b'\r') && bytes.get(i + 1) == Some(&b'\n')))
        .map(|i| i + 1)
        .collect()
}

/// A text with every line end written as LF.
pub fn to_lf(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
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
