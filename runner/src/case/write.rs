//! Writing case files: atomically, and never over an existing file.

use std::path::Path;

use super::model::CaseFile;
use crate::fs::{WriteError, write_new};

/// Writes `file` to `path` as pretty JSON. `Ok(false)`: a file is already there and
/// was left alone.
pub fn write_case_file(path: &Path, file: &CaseFile) -> Result<bool, WriteError> {
    let mut json = serde_json::to_vec_pretty(file).expect("a case file serialises");
    json.push(b'\n');
    match write_new(path, &json) {
        Ok(()) => Ok(true),
        Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}
