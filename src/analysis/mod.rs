//! The `analysis` stage: what a checked rule set reads, and what may read it.
//!
//! One walk over the IR finds the fields each rule, definition and stream
//! reads ([`lineage`]); policies ([`policy`]) and the audit ([`audit`]) are
//! built on it.

pub mod audit;
pub mod lineage;
pub mod policy;
