//! Reading an expectations list, with every problem located by file, line and column.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::model::{Cause, Expectation, ExpectationsFile};
use crate::case::{CaseError, line_column};

/// A loaded expectations list, indexed by case. A case may have several entries (for
/// other guests, or other SDK versions).
#[derive(Clone, Debug, Default)]
pub struct Expectations {
    pub path: Option<PathBuf>,
    /// The root causes, in the file's order.
    pub causes: Vec<Cause>,
    pub(super) by_case: HashMap<String, Vec<Expectation>>,
}

impl Expectations {
    /// Reads an expectations file. Rejected: invalid version ranges, two entries for
    /// one case with the same guests and the same ranges, two causes with one id, and
    /// an entry pointing at a cause that is not listed.
    pub fn load(path: &Path) -> Result<Expectations, Vec<CaseError>> {
        let error =
            |(line, column), message: String| CaseError { path: path.to_path_buf(), line, column, message };
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![error((0, 0), format!("failed to read the expectations file: {e}"))])?;
        let file: ExpectationsFile =
            serde_json::from_str(&text).map_err(|e| vec![error((e.line(), e.column()), e.to_string())])?;
        let mut errors = Vec::new();
        let mut ids = HashSet::new();
        for cause in &file.causes {
            if !ids.insert(cause.id.as_str()) {
                errors.push(error(
                    locate(&text, "id", &cause.id, 1),
                    format!("cause {:?} is listed twice", cause.id),
                ));
            }
        }
        let mut by_case: HashMap<String, Vec<Expectation>> = HashMap::new();
        for entry in file.expectations {
            let entries = by_case.entry(entry.case.clone()).or_default();
            let at = locate_case(&text, &entry.case, entries.len());
            for (sdk, requirement) in &entry.sdks {
                if let Err(e) = semver::VersionReq::parse(requirement) {
                    errors.push(error(at, format!("invalid version range {requirement:?} for {sdk}: {e}")));
                }
            }
            for cause in entry.causes.iter().filter(|c| !ids.contains(c.as_str())) {
                errors.push(error(
                    at,
                    format!("case {:?} points at cause {cause:?}, which is not listed", entry.case),
                ));
            }
            let same = |e: &Expectation| {
                e.sdks == entry.sdks && e.signature.outcomes.keys().eq(entry.signature.outcomes.keys())
            };
            if entries.iter().any(same) {
                errors.push(error(
                    at,
                    format!("case {:?} is listed twice for the same guests and versions", entry.case),
                ));
            }
            entries.push(entry);
        }
        if errors.is_empty() {
            Ok(Expectations { path: Some(path.to_path_buf()), causes: file.causes, by_case })
        } else {
            Err(errors)
        }
    }

    pub fn entries(&self) -> impl Iterator<Item = &Expectation> {
        self.by_case.values().flatten()
    }

    pub fn cause(&self, id: &str) -> Option<&Cause> {
        self.causes.iter().find(|c| c.id == id)
    }

    /// Entries naming cases that do not exist, located in the file.
    pub fn unknown_cases(&self, case_ids: &HashSet<&str>) -> Vec<CaseError> {
        let Some(path) = &self.path else { return Vec::new() };
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let mut unknown: Vec<&str> =
            self.by_case.keys().map(String::as_str).filter(|case| !case_ids.contains(case)).collect();
        unknown.sort();
        unknown
            .into_iter()
            .map(|case| {
                let (line, column) = locate_case(&text, case, 0);
                CaseError {
                    path: path.clone(),
                    line,
                    column,
                    message: format!("expectation names case {case:?}, which does not exist"),
                }
            })
            .collect()
    }
}

/// The 1-based line and column of the `nth` `"case": "<id>"` in the file, or (1, 1).
fn locate_case(text: &str, case: &str, nth: usize) -> (usize, usize) {
    locate(text, "case", case, nth)
}

/// The 1-based line and column of the `nth` `"<key>": "<value>"` in the file, or (1, 1).
fn locate(text: &str, key: &str, value: &str, nth: usize) -> (usize, usize) {
    let needle = serde_json::to_string(value).unwrap_or_default();
    let found = [format!("\"{key}\": {needle}"), format!("\"{key}\":{needle}")]
        .iter()
        .find_map(|pattern| text.match_indices(pattern.as_str()).nth(nth).map(|(at, _)| at));
    found.map_or((1, 1), |at| line_column(text, at))
}
