//! Writing case files: atomically, inside their folder, and never over an existing file.

use std::path::{Path, PathBuf};

use super::load::check_id;
use super::model::CaseFile;
use crate::fs::{WriteError, write_new};

/// Writes `file` as pretty JSON to `<root>/<name>.json`, where `name` follows the case
/// id rule (so the file stays inside `root`). `Ok(None)`: a file is already there and
/// was left alone.
pub fn write_case_file(root: &Path, name: &str, file: &CaseFile) -> Result<Option<PathBuf>, WriteError> {
    let path = root.join(format!("{name}.json"));
    if let Err(message) = check_id(name) {
        return Err(WriteError {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        });
    }
    let mut json = serde_json::to_vec_pretty(file).expect("a case file serialises");
    json.push(b'\n');
    match write_new(&path, &json) {
        Ok(()) => Ok(Some(path)),
        Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(e),
    }
}
