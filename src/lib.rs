//! narval: rule-based message targeting.
//!
//! Strategists write rules in a small, closed language; narval checks them
//! against a typed profile schema, compiles them, and gives every profile its
//! solicitation streams and its issue streams. The code is a pipeline of
//! stage folders; each imports only the stages before it
//! (`tests/layers.rs` holds the direction):
//!
//! 1. `text`: source text, spans, diagnostics and their renderers.
//! 2. `syntax`: text to syntax tree, with pest (pest never leaves it).
//! 3. `check`: syntax trees to the checked rule set, the `ir` every back end
//!    reads; `analysis` walks the IR for what each rule reads.
//! 4. `eval`: the IR compiled to a program, specialised, indexed and run on
//!    profiles read by `decode`, by the interpreter or native code, and the
//!    batch pipeline for NDJSON profiles on several threads; beside it,
//!    `sql`: the IR as one query per SQL dialect ([`RuleSet::sql`]).
//! 5. `api`: the facade below, which `load`s files and runs the stages
//!    ([`RuleSet::assign_ndjson`] is the batch pipeline, what `narval
//!    assign` calls).
//!
//! [`RuleSet`] runs the whole path:
//!
//! ```
//! let rules = narval::RuleSet::builder()
//!     .source("campaign.narval", r#"
//!         narval 1
//!         schema {
//!           volunteer: bool
//!           consent: { email: bool }
//!           donations: list of { amount: money }
//!           issues: optional list of string
//!         }
//!         solicitation streams fundraising_email, mobilisation_email, door_knock
//!         issue streams healthcare
//!
//!         cap = $2500
//!         total = sum(donations.amount)
//!
//!         ask: consent.email and total < cap -> fundraising_email
//!         over_cap: total >= cap -> mobilisation_email, no fundraising_email
//!         knock: not volunteer -> door_knock
//!         already_volunteer: volunteer -> no door_knock
//!         ## `issues` may be missing: then the rule is unknown and assigns nothing.
//!         health: has issues and issues contains "healthcare" -> healthcare
//!     "#)
//!     .build()
//!     .map_err(|report| report.render())?;
//!
//! let assignment = rules.assign_json(r#"{
//!     "volunteer": false,
//!     "consent": {"email": true},
//!     "donations": [{"amount": 2000}, {"amount": 500.00}],
//!     "issues": ["healthcare"]
//! }"#)?;
//! assert_eq!(assignment.solicitations, ["mobilisation_email", "door_knock"]);
//! assert_eq!(assignment.issues, ["healthcare"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// The stages. With the `internals` feature (narval's own tests, benches and
// fuzzer turn it on; not for embedders, and not covered by semver) they are
// public and hidden from the documentation; without it, only the facade
// below is public. `tests/layers.rs` holds both.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod analysis;
#[cfg(not(feature = "internals"))]
mod analysis;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod api;
#[cfg(not(feature = "internals"))]
mod api;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod check;
#[cfg(not(feature = "internals"))]
mod check;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod decode;
#[cfg(not(feature = "internals"))]
mod decode;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod eval;
#[cfg(not(feature = "internals"))]
mod eval;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod format;
#[cfg(not(feature = "internals"))]
mod format;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod ir;
#[cfg(not(feature = "internals"))]
mod ir;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod load;
#[cfg(not(feature = "internals"))]
mod load;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod sql;
#[cfg(not(feature = "internals"))]
mod sql;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod syntax;
#[cfg(not(feature = "internals"))]
mod syntax;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod text;
#[cfg(not(feature = "internals"))]
mod text;
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod value;
#[cfg(not(feature = "internals"))]
mod value;

pub use analysis::audit::{Audit, Lineage};
pub use api::testing::{CaseStatus, Coverage, Suite, TestReport};
pub use api::{Assignment, Builder, RuleSet};
pub use decode::{Profile, ProfileError};
pub use eval::batch::{
    read_line, skip_bom, AssignOptions, BatchError, Line, LineError, Rejection, Summary, MAX_THREADS,
};
pub use eval::explain::Explanation;
pub use format::format_file;
pub use ir::StreamKind;
pub use sql::Dialect;
pub use text::diagnostic::{Code, Diagnostic, LocatedDiagnostic, Severity};
pub use text::report::Report;
pub use value::{Date, Money};

/// Reading files as narval does: a file's kind checked (a pipe or a device
/// is read as a stream, a directory refused), its size bounded, its text
/// decoded as UTF-8 with a byte order mark skipped, and I/O errors in words.
pub mod files {
    pub use crate::load::read::{io_reason, open, read_text_from, read_text_marked, Origin};
    pub use crate::text::source::{to_lf, BOM};
}

/// Whether this build generates native code for rule sets (feature `jit`).
pub const NATIVE: bool = cfg!(feature = "jit");
