//! kwconform: a differential conformance suite for the Kubewarden policy SDKs.
//!
//! The data flows through one module per stage:
//! [`case`] (scenarios) → [`host`] (wasmtime, one module per ABI) → [`guest`] (guest
//! protocol, decoded results) → [`equality`] and [`compare`] (what counts as equal)
//! → [`run`] (execution, emitting results) → [`report`] (one result model, reporters).
//! [`guest_build`] builds the default guests from this checkout.
//!
//! The library knows nothing of the command line; `src/bin/kwconform` does.

pub mod bench;
pub mod case;
pub mod compare;
pub mod equality;
pub mod excerpt;
pub mod expectations;
pub mod fs;
pub mod fuzz;
pub mod guest;
pub mod guest_build;
pub mod host;
pub mod kwctl;
pub mod matrix;
pub mod relay;
pub mod report;
pub mod run;
pub mod spec;

/// Process exit codes of the `kwconform` binary.
pub mod exit_codes {
    /// Every case agreed, or diverged exactly as its case documents.
    pub const SUCCESS: i32 = 0;
    /// Something unexpected: an undocumented divergence, a crash, an unmet expectation,
    /// an inconclusive case.
    pub const UNEXPECTED: i32 = 1;
    /// Bad usage, bad case data, or a fault of the harness itself (a guest that does
    /// not build or load).
    pub const ERROR: i32 = 2;
    /// Ctrl-C or SIGTERM stopped the run; the reports hold the cases finished, marked
    /// partial (128 + SIGINT, as shells report it).
    pub const INTERRUPTED: i32 = 130;
}
