//! Reports: the serialisable result model and the writers that read it.

mod json;
mod model;
mod terminal;

pub use json::write_json;
pub use model::*;
pub use terminal::{TerminalOptions, render_result, render_summary};
