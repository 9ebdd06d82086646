//! The `text` stage: source text and what is said about it.
//!
//! The text of rule files with their spans and line ends ([`source`]), the
//! diagnostics every later stage reports ([`diagnostic`]), and their
//! renderers for people and for tools ([`render`]).

pub mod diagnostic;
pub mod render;
pub mod report;
pub mod source;
