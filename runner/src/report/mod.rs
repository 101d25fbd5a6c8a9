//! Reports: the serialisable result model and the writers that read it.

mod html;
mod json;
mod junit;
mod markdown;
mod model;
mod terminal;

pub use html::{html, script_json};
pub use json::{write_all, write_json};
pub use junit::junit;
pub use markdown::markdown;
pub use model::*;
pub use terminal::{TerminalOptions, render_result, render_summary, render_verdict};
