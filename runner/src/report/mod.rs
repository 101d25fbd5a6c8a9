//! Reports: the serialisable result model and the writers that read it.

mod bug_report;
mod html;
mod json;
mod junit;
mod markdown;
mod model;
mod stream;
mod terminal;

pub use bug_report::BugReport;
pub use html::{html, script_json, write_html};
pub use json::{write_all, write_json, write_report};
pub use junit::write_junit;
pub use markdown::{MAX_ROWS, markdown};
pub use model::*;
pub use stream::ReportWriter;
pub use terminal::{TerminalOptions, render_result, render_summary, render_verdict};
