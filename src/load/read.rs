//! The one way narval reads a file: its kind checked against who named it
//! ([`Origin`]), its size bounded, its text decoded by
//! [`decode_text`].

use crate::text::source::{decode_text, NotText};

/// How a path reached narval, which decides what kinds of file it may name.
///
/// | kind of file | [`Origin::Named`] | [`Origin::Referenced`] |
/// | --- | --- | --- |
/// | regular file | read | read |
/// | directory | refused | refused |
/// | named pipe, device | read as a stream | refused: opening a pipe waits for a writer |
/// | socket | refused | refused |
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Named by the user on the command line or by an embedder: a pipe or
    /// a device is a stream they chose (`<(zcat rules.gz)`).
    Named,
    /// Named inside a file (an import, a policy file, a test's profile
    /// file): only a regular file, as the author of the file may not be
    /// the person who runs narval.
    Referenced,
}

/// Opens a file for reading after checking its kind against [`Origin`]. A
/// symbolic link is followed.
pub fn open(path: &std::path::Path, origin: Origin) -> std::io::Result<std::fs::File> {
    use std::io::{Error, ErrorKind};
    let meta = std::fs::metadata(path)?;
    let kind = meta.file_type();
    let refused = if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("is a directory")
    } else if is_socket(&kind) {
        Some("is a socket, not a file")
    } else if origin == Origin::Referenced {
        Some(if is_fifo(&kind) { "is a named pipe, not a regular file" } else { "is a device, not a regular file" })
    } else {
        None
    };
    match refused {
        Some(reason) => Err(Error::new(ErrorKind::InvalidInput, reason)),
        None => std::fs::File::open(path),
    }
}

#[cfg(unix)]
fn is_socket(kind: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_socket(kind)
}

#[cfg(not(unix))]
fn is_socket(_: &std::fs::FileType) -> bool {
    false
}

#[cfg(unix)]
fn is_fifo(kind: &std::fs::FileType) -> bool {
    std::os::unix::fs::FileTypeExt::is_fifo(kind)
}

#[cfg(not(unix))]
fn is_fifo(_: &std::fs::FileType) -> bool {
    false
}

/// Reads a text file of at most `limit` bytes as [`decode_text`] does. A
/// larger file (or an endless one, such as `/dev/zero`) is refused after
/// reading `limit + 1` bytes, so memory stays bounded whatever the path
/// names.
pub fn read_text(path: &std::path::Path, origin: Origin, limit: u64) -> std::io::Result<String> {
    read_text_from(open(path, origin)?, limit)
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

/// The [`NotText`] inside an error of [`read_text`], if that is what it is.
pub fn not_text(error: &std::io::Error) -> Option<&NotText> {
    error.get_ref().and_then(|e| e.downcast_ref::<NotText>())
}

/// `read_text` from any reader, such as standard input.
pub fn read_text_from(reader: impl std::io::Read, limit: u64) -> std::io::Result<String> {
    let bytes = read_bytes_from(reader, limit)?;
    decode_text(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// [`read_text_from`], saying whether the text started with a UTF-8 byte
/// order mark (not part of the text), for a writer that keeps it, as
/// `narval fmt` does.
pub fn read_text_marked(reader: impl std::io::Read, limit: u64) -> std::io::Result<(String, bool)> {
    let bytes = read_bytes_from(reader, limit)?;
    let marked = bytes.starts_with(crate::text::source::BOM.as_bytes());
    let text = decode_text(bytes).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok((text, marked))
}

fn read_bytes_from(reader: impl std::io::Read, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    reader.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(TooLarge { limit }));
    }
    Ok(bytes)
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
