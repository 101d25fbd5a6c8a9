//! Writing the reports: `report.json` and the files rendered from the same model.

use std::path::{Path, PathBuf};

use super::model::Report;
use super::{html, junit, markdown};
use crate::fs::{WriteError, write_atomically};

/// Writes `report.json` into `dir` (created if needed) and returns its path.
pub fn write_json(report: &Report, dir: &Path) -> Result<PathBuf, WriteError> {
    let path = dir.join("report.json");
    let mut bytes = serde_json::to_vec_pretty(report).expect("the report model serialises");
    bytes.push(b'\n');
    write_atomically(&path, &bytes)?;
    Ok(path)
}

/// Writes all four reports into `dir`: `report.json`, `junit.xml`, `summary.md` and
/// `report.html`. Returns the path of `report.json`.
pub fn write_all(report: &Report, dir: &Path) -> Result<PathBuf, WriteError> {
    write_atomically(&dir.join("junit.xml"), junit(report).as_bytes())?;
    write_atomically(&dir.join("summary.md"), markdown(report).as_bytes())?;
    write_atomically(&dir.join("report.html"), html(report).as_bytes())?;
    write_json(report, dir)
}
