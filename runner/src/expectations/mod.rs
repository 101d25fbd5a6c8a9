//! Expected divergences: the versioned list of known disagreements between the SDKs
//! (docs/expectations.md), and how a case's result is judged against it.
//!
//! An entry names a case, the SDK versions it applies to, the divergence's signature
//! (each guest's outcome, and which paths differ how), a reason and an upstream link.
//! A divergence that matches an applicable entry is expected; one that no longer
//! happens, or happens differently, or is not listed at all, fails the run.

mod judge;
mod load;
mod model;
mod signature;
mod update;

pub use judge::{Judgement, applies};
pub use load::Expectations;
pub use model::{Cause, CauseSpec, Expectation, ExpectationsFile, PathSignature, Signature};
pub use signature::signature;
pub use update::{RecordedResult, UpdateError, UpdateSummary, suggest_cause, update};

/// The file name of the expectations list inside a case folder; never a case file.
pub use crate::case::EXPECTATIONS_FILE_NAME as FILE_NAME;
