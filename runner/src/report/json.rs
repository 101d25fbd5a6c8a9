//! `report.json`, written atomically.

use std::path::{Path, PathBuf};

use super::model::Report;
use crate::fs::{WriteError, write_atomically};

/// Writes `report.json` into `dir` (created if needed) and returns its path.
pub fn write_json(report: &Report, dir: &Path) -> Result<PathBuf, WriteError> {
    let path = dir.join("report.json");
    let mut bytes = serde_json::to_vec_pretty(report).expect("the report model serialises");
    bytes.push(b'\n');
    write_atomically(&path, &bytes)?;
    Ok(path)
}
