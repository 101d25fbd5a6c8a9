//! Writing the reports: `report.json`, and the three files rendered from the same model,
//! each from one pass over the results.

use std::path::{Path, PathBuf};

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use super::model::{CauseEntry, Report, ReportHead, ResultSource, RuleEntry, Summary};
use super::{html, junit, markdown};
use crate::fs::{WriteError, write_atomically, write_atomically_with};
use crate::guest::GuestSummary;

/// `report.json` as serde writes a [`Report`], member for member, with the results
/// read from their source as they are written.
#[derive(Serialize)]
pub(super) struct Streamed<'a> {
    schema_version: u32,
    kwconform_version: &'a str,
    partial: bool,
    guests: &'a [GuestSummary],
    equality_rules: &'a [RuleEntry],
    causes: &'a [CauseEntry],
    results: StreamedResults<'a>,
    summary: &'a Summary,
}

impl<'a> Streamed<'a> {
    pub(super) fn new(head: &'a ReportHead, results: &'a dyn ResultSource) -> Self {
        Streamed {
            schema_version: head.schema_version,
            kwconform_version: &head.kwconform_version,
            partial: head.partial,
            guests: &head.guests,
            equality_rules: &head.equality_rules,
            causes: &head.causes,
            results: StreamedResults(results),
            summary: &head.summary,
        }
    }
}

struct StreamedResults<'a>(&'a dyn ResultSource);

impl Serialize for StreamedResults<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for entry in self.0.entries() {
            seq.serialize_element(&entry.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

/// Writes `report.json` into `dir` (created if needed) and returns its path.
pub fn write_json(head: &ReportHead, results: &dyn ResultSource, dir: &Path) -> Result<PathBuf, WriteError> {
    let path = dir.join("report.json");
    write_atomically_with(&path, |out| {
        serde_json::to_writer_pretty(&mut *out, &Streamed::new(head, results))?;
        out.write_all(b"\n")
    })?;
    Ok(path)
}

/// Writes all four reports into `dir`: `report.json`, `junit.xml`, `summary.md` and
/// `report.html`. Returns the path of `report.json`.
pub fn write_all(head: &ReportHead, results: &dyn ResultSource, dir: &Path) -> Result<PathBuf, WriteError> {
    write_atomically_with(&dir.join("junit.xml"), |out| junit::write_junit(head, results, out))?;
    write_atomically(&dir.join("summary.md"), markdown(head, results).as_bytes())?;
    write_atomically_with(&dir.join("report.html"), |out| html::write_html(head, results, out))?;
    write_json(head, results, dir)
}

/// [`write_all`] for a report held in memory.
pub fn write_report(report: &Report, dir: &Path) -> Result<PathBuf, WriteError> {
    write_all(&report.head(), &report.results, dir)
}
