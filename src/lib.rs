//! narval: rule-based message targeting.
//!
//! Strategists write rules in a small, closed language; narval checks them
//! against a typed profile schema, compiles them, and gives every profile its
//! solicitation streams and its issue streams. The pipeline, one module a
//! stage:
//!
//! 1. [`syntax`]: text to syntax tree ([`ast`]), with pest.
//! 2. [`check`]: syntax trees to a checked rule set ([`ir`]): names resolved,
//!    expressions typed, every problem reported as a [`diagnostic`].
//! 3. [`compile`]: the checked rule set to a flat program, whose rule
//!    conditions [`specialise`] turns into fused tests for the hot path.
//! 4. [`eval`]: the program on a profile decoded by [`decode`], giving streams.
//!
//! Beside the pipeline: [`explain`] traces why a profile got its streams,
//! [`testing`] runs the test cases written beside the rules,
//! [`format`](mod@format) prints a syntax tree back as canonical text, and
//! [`batch`] runs NDJSON profiles through a rule set on several threads
//! ([`RuleSet::assign_ndjson`], what `narval assign` calls).
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

pub mod ast;
pub mod audit;
pub mod batch;
pub mod check;
pub mod compile;
pub mod decode;
pub mod diagnostic;
pub mod dispatch;
mod engine;
pub mod eval;
pub mod explain;
pub mod format;
pub mod ir;
#[cfg(feature = "jit")]
pub mod jit;
pub mod lineage;
pub mod policy;
pub mod render;
pub mod source;
pub mod specialise;
pub mod syntax;
pub mod testing;
pub mod value;

pub use batch::{AssignOptions, BatchError, LineError, Rejection, Summary};
pub use decode::ProfileError;
pub use engine::{Assignment, Builder, Report, RuleSet, MAX_THREADS};
pub use explain::Explanation;
pub use value::{Date, Money};

/// Whether this build generates native code for rule sets (feature `jit`).
pub const NATIVE: bool = cfg!(feature = "jit");
