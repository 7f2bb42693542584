//! Atomic result files: write to a temporary file in the destination's directory, fsync, then
//! rename over the destination. A reader (or a rerun after a crash) sees the old file or the new
//! one, never a torn one.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

/// An I/O failure with the path it concerns.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {source}", path.display())]
pub struct IoError {
    pub action: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

fn ctx<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> IoError + 'a {
    move |source| IoError { action, path: path.to_path_buf(), source }
}

/// Creates `dir` and its parents.
pub fn create_dir(dir: &Path) -> Result<(), IoError> {
    fs::create_dir_all(dir).map_err(ctx("creating directory", dir))
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams into a temporary file through `fill`, then renames it to `path`.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), IoError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = NamedTempFile::new_in(dir).map_err(ctx("creating a temporary file in", dir))?;
    let mut w = BufWriter::new(tmp);
    fill(&mut w).map_err(ctx("writing", path))?;
    let tmp = w.into_inner().map_err(|e| e.into_error()).map_err(ctx("writing", path))?;
    tmp.as_file().sync_all().map_err(ctx("syncing", path))?;
    tmp.persist(path).map_err(|e| e.error).map_err(ctx("renaming into place", path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"first version, longer").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "second");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left behind");
    }
}
