//! Differential fuzzing (docs/fuzzing.md): generators of spec-valid host responses,
//! mutations aimed at decoder differences, an oracle that runs both guests, the search
//! for each disagreement's cause, and the loop that shrinks every new class (cause and
//! outcomes) and saves it as a case.

mod campaign;
mod cause;
mod coverage;
mod doc;
mod generate;
mod mutate;
mod oracle;
mod requests;
mod save;

pub use campaign::{Budget, ClassRecord, FeedbackStats, FuzzEvent, FuzzOptions, FuzzSummary, fuzz};
pub use coverage::{DECODING_CODE, InstrumentError, Instrumented, instrument};
pub use doc::{Doc, Step};
pub use generate::{document, input};
pub use mutate::{Applied, EscapeForm, Kind, Mutation, NumberForm, apply, mutations};
pub use oracle::{
    Cause, Class, Coverage, Covered, Evaluation, Symptom, evaluate, evaluate_all, observe, observe_all,
};
pub use requests::{RequestFinding, RequestSummary, fuzz_requests};
pub use save::{CAUSE_TAG, CLASS_TAG, case_name, save};
