//! Differential fuzzing (docs/fuzzing.md): generators of spec-valid host responses,
//! mutations aimed at decoder differences, an oracle that runs both guests, and the
//! loop that shrinks every new disagreement and saves it as a case.

mod campaign;
mod doc;
mod generate;
mod mutate;
mod oracle;
mod save;

pub use campaign::{Budget, ClassRecord, FuzzEvent, FuzzOptions, FuzzSummary, fuzz};
pub use doc::{Doc, Step};
pub use generate::document;
pub use mutate::{EscapeForm, Kind, Mutation, NumberForm, apply, mutations};
pub use oracle::{Class, Covered, Evaluation, IMAGE, evaluate, evaluate_all};
pub use save::{CLASS_TAG, case_name, save};
