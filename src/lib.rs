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
//!    profiles read by `decode`, by the interpreter or native code.
//! 5. `api`: the facade below, which `load`s files and runs the stages, and
//!    its batch pipeline for NDJSON profiles on several threads
//!    ([`RuleSet::assign_ndjson`], what `narval assign` calls).
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

pub mod analysis;
pub mod api;
pub mod check;
pub mod decode;
pub mod eval;
pub mod format;
pub mod ir;
pub mod load;
pub mod syntax;
pub mod text;
pub mod value;

pub use api::batch::{self, AssignOptions, BatchError, LineError, Rejection, Summary};
pub use api::{Assignment, Builder, Report, RuleSet, MAX_THREADS};
pub use decode::ProfileError;
pub use eval::explain::Explanation;
pub use value::{Date, Money};

/// Whether this build generates native code for rule sets (feature `jit`).
pub const NATIVE: bool = cfg!(feature = "jit");
