//! `report.json`, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::model::Report;

#[derive(Debug, thiserror::Error)]
#[error("failed to write {}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Writes `report.json` into `dir` (created if needed) and returns its path.
pub fn write_json(report: &Report, dir: &Path) -> Result<PathBuf, WriteError> {
    let path = dir.join("report.json");
    let mut bytes = serde_json::to_vec_pretty(report).expect("the report model serialises");
    bytes.push(b'\n');
    write_atomically(&path, &bytes)?;
    Ok(path)
}

/// Replaces `path` with `bytes` all at once: readers see the old file or the new one,
/// never a part; a crash leaves no partial file behind.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let error = |source| WriteError { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(bytes).and_then(|()| file.as_file().sync_all()).map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}
