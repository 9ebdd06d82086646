//! The canonical layout of a rule file, for `narval fmt`.
//!
//! The formatter prints the syntax tree again, reading from the source only
//! what the tree leaves out: comments, and the spelling of literals (`$2500`,
//! `1_000`, `2 weeks`). Formatting keeps every comment, in order, and never
//! changes the syntax tree: [`format()`] parses its own output and refuses to
//! return text that reads differently. Formatted text formats to itself.
//!
//! ```
//! let text = "narval 1\nknock:not volunteer->door_knock   # everyone else\n";
//! assert_eq!(
//!     narval::format::format(text).map_err(|_| "does not parse")?,
//!     "narval 1\nknock: not volunteer -> door_knock  # everyone else\n",
//! );
//! # Ok::<(), &str>(())
//! ```
//!
//! The layout rules are listed in the language guide, "Layout and
//! `narval fmt`".

mod expr;
mod items;
mod lines;
mod trivia;

use crate::syntax;
use crate::text::diagnostic::{Code, Diagnostic};
use crate::text::report::Report;
use crate::text::source::{FileId, Sources};

/// Formats the text of one rule file. A text that does not parse gives the
/// syntax diagnostics instead, located in file 0.
pub fn format(text: &str) -> Result<String, Vec<Diagnostic>> {
    // Written with LF line ends, whatever ends the lines read (CRLF, CR).
    let text = &*crate::text::source::to_lf(text);
    let file = FileId(0);
    let (tree, diagnostics) = syntax::parse(file, text);
    let Some(tree) = tree else { return Err(diagnostics) };
    let trivia = trivia::Trivia::new(text);
    let mut layout = items::Layout::new(&trivia);
    layout.file(&tree);
    let formatted = layout.lines.render(&trivia);
    // The layout is meant never to change the meaning or drop a comment;
    // should it ever, the text is refused rather than written.
    let (again, _) = syntax::parse(file, &formatted);
    if again.as_ref() != Some(&tree) || trivia::comment_texts(&formatted) != trivia::comment_texts(text) {
        let diagnostic = Diagnostic::unlocated(
            Code::Syntax,
            "internal error: the formatted text would not keep the meaning and comments of this file",
        )
        .with_help("the file is left as it is; please report it to the narval maintainers");
        return Err(vec![diagnostic]);
    }
    Ok(formatted)
}

/// Formats one rule file named `name` (for diagnostics); a text that does
/// not parse gives a [`Report`] to render, as `narval check` would.
pub fn format_file(name: &str, text: &str) -> Result<String, Report> {
    format(text).map_err(|diagnostics| {
        let mut sources = Sources::new();
        sources.add(name, crate::text::source::to_lf(text));
        Report::new(sources, diagnostics)
    })
}
