//! The `eval` stage: evaluation.
//!
//! The checked rule set compiles to a flat program ([`compile`]) whose rule
//! conditions are specialised ([`specialise`], leaves fused) and indexed
//! ([`dispatch`]); the interpreter ([`interpret`]) or native code
//! ([`native`], feature `jit`) runs it on a decoded profile, as the
//! [`engine`] chosen when the rule set is built says; [`batch`] runs it on
//! NDJSON lines on several threads, and [`explain`] watches a run to say
//! why. Kleene logic and the comparisons are defined once ([`logic`]), over
//! the values of [`val`].

pub mod assign;
pub mod batch;
pub mod compile;
pub mod constant;
pub mod dispatch;
pub mod engine;
pub mod explain;
pub mod fused;
pub mod interpret;
pub mod logic;
#[cfg(feature = "jit")]
pub mod native;
pub mod node;
pub mod program;
pub mod specialise;
pub mod val;
