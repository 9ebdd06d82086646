//! narval: rule-based message targeting.
pub mod ast;
pub mod check;
pub mod compile;
pub mod decode;
pub mod diagnostic;
mod engine;
pub mod eval;
pub mod ir;
pub mod source;
pub mod syntax;
pub mod value;

pub use decode::ProfileError;
pub use engine::{Assignment, Builder, Report, RuleSet};
pub use value::Date;
