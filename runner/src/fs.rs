//! Writing files the way kwconform promises: atomically, so that a reader or a crash
//! never sees a partial file.

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("failed to write {}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Replaces `path` with `bytes` all at once (a temporary file in the same folder,
/// synced, then renamed over it). Creates the folder if needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let file = synced_temp_file(path, bytes)?;
    file.persist(path).map_err(|e| WriteError { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// Replaces `path` all at once with what `write` writes (streamed through a buffer into a
/// temporary file beside it, synced, then renamed over it).
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let error = |source| WriteError { path: path.to_path_buf(), source };
    let file = synced_temp_file(path, b"")?;
    let mut out = std::io::BufWriter::new(file);
    write(&mut out).map_err(error)?;
    let file = out.into_inner().map_err(|e| error(e.into_error()))?;
    file.as_file().sync_all().map_err(error)?;
    file.persist(path).map_err(|e| error(e.error))?;
    Ok(())
}

/// Writes a new file atomically; fails if `path` exists, so a user's file is never
/// overwritten.
pub fn write_new(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let file = synced_temp_file(path, bytes)?;
    file.persist_noclobber(path).map_err(|e| WriteError { path: path.to_path_buf(), source: e.error })?;
    Ok(())
}

/// `bytes` in a synced temporary file beside `path` (same file system, so the final
/// rename is atomic); the folder is created if needed.
fn synced_temp_file(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, WriteError> {
    let error = |source| WriteError { path: path.to_path_buf(), source };
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(error)?;
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(error)?;
    file.write_all(bytes).and_then(|()| file.as_file().sync_all()).map_err(error)?;
    // Temporary files are private; what kwconform writes is for people and CI to read.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(error)?;
    }
    Ok(file)
}
