//! Reports written as a run goes: each result is counted into the summary and spilled,
//! as one JSON line, to a file in the report folder the moment it arrives; at the end
//! the four reports are rendered from that file, one pass each, and it is removed. The
//! results are never all in memory: report.json and report.html are streamed out,
//! summary.md lists a bounded number of rows, and only junit.xml is built whole
//! (quick-junit has no streaming writer; ~60 MB at 100,000 cases, docs/performance.md).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::json::write_all;
use super::model::{Report, ReportHead, ResultEntry, ResultSource, Summary};
use crate::expectations::Cause;
use crate::fs::WriteError;
use crate::guest::GuestSummary;
use crate::run::CaseResult;

/// The spill file's name in the report folder (hidden; a run that is killed leaves it,
/// the next run replaces it).
const SPILL: &str = ".results.jsonl";

pub struct ReportWriter {
    dir: PathBuf,
    spill: BufWriter<File>,
    guests: Vec<GuestSummary>,
    causes: Vec<Cause>,
    summary: Summary,
}

impl ReportWriter {
    /// `causes`: the expectations list's causes, for the reports' grouping.
    pub fn create(dir: &Path, guests: &[GuestSummary], causes: &[Cause]) -> Result<ReportWriter, WriteError> {
        let path = dir.join(SPILL);
        let error = |source| WriteError { path: path.clone(), source };
        std::fs::create_dir_all(dir).map_err(error)?;
        let spill = BufWriter::new(File::create(&path).map_err(error)?);
        Ok(ReportWriter {
            dir: dir.to_path_buf(),
            spill,
            guests: guests.to_vec(),
            causes: causes.to_vec(),
            summary: Summary::default(),
        })
    }

    /// Counts and spills one result (results come in case order).
    pub fn add(&mut self, result: &CaseResult) -> Result<ResultEntry, WriteError> {
        let entry = Report::result_entry(result);
        self.summary.add(&entry);
        let error = |source| WriteError { path: self.dir.join(SPILL), source };
        serde_json::to_writer(&mut self.spill, &entry).map_err(|e| error(e.into()))?;
        self.spill.write_all(b"\n").map_err(error)?;
        Ok(entry)
    }

    /// Writes the four reports from the spilled results and removes the spill.
    pub fn finish(mut self, elapsed: Duration, partial: bool) -> Result<ReportHead, WriteError> {
        let path = self.dir.join(SPILL);
        self.spill.flush().map_err(|source| WriteError { path: path.clone(), source })?;
        self.summary.elapsed_ms = elapsed.as_millis() as u64;
        let head = ReportHead::new(self.guests, self.summary, partial, &self.causes);
        write_all(&head, &Spill(path.clone()), &self.dir)?;
        let _ = std::fs::remove_file(&path);
        Ok(head)
    }
}

/// The spilled results, read back one line at a time.
struct Spill(PathBuf);

impl ResultSource for Spill {
    fn entries(&self) -> Box<dyn Iterator<Item = std::io::Result<ResultEntry>> + '_> {
        let file = match File::open(&self.0) {
            Ok(file) => file,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        Box::new(BufReader::new(file).lines().map(|line| Ok(serde_json::from_str(&line?)?)))
    }
}
