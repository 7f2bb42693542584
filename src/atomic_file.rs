//! Atomic result files: write to a temporary file in the destination's directory, fsync, then
//! rename over the destination. A reader (or a rerun after a crash) sees the old file or the new
//! one, never a torn one.

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[cfg(unix)]
use std::sync::OnceLock;

use tempfile::Builder;

/// The name prefix of this crate's temporary files: what a later run may remove (a killed run
/// leaves them behind), and nothing else.
pub const TEMP_PREFIX: &str = ".trialsim-tmp";

/// Removes this crate's temporary files left in `dir` by a killed run (never other files).
pub(crate) fn remove_stale_temporaries(dir: &Path) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// An I/O failure with the path it concerns. The OS error is part of the message and not also
/// its `source()`, so that a context chain (`{:#}`) prints it once, not twice.
#[derive(Debug, thiserror::Error)]
#[error("{action} {}: {error}", path.display())]
pub struct IoError {
    pub action: &'static str,
    pub path: PathBuf,
    // Not named `source`: thiserror would make it the source, and the chain would repeat it.
    pub error: io::Error,
}

fn ctx<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> IoError + 'a {
    move |error| IoError { action, path: path.to_path_buf(), error }
}

/// A file read whole that was larger than its kind allows, or could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// More than `limit` bytes: the read stopped there.
    #[error("larger than {limit} bytes, the most this kind of file has")]
    TooLarge { limit: u64 },
}

/// Reads at most `limit` bytes of `path`, refusing a longer file while reading: the size a file
/// reports cannot be trusted (`/dev/zero`, a pipe, a file still growing), and a read to the end
/// of one of those once took 5 GB in 10 s. Each kind of file the program reads has its cap.
pub(crate) fn read_capped(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub(crate) fn read_capped_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    let bytes = read_capped(path, limit)?;
    String::from_utf8(bytes).map_err(|e| ReadError::Io(io::Error::new(io::ErrorKind::InvalidData, e)))
}

/// Temporary files being written now: an interrupt (Ctrl-C) removes them before the process
/// exits, since no destructor runs then and a later run might never look in that directory.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A temporary file's entry in [`LIVE`], removed when the write ends (renamed or failed).
struct Live(PathBuf);

impl Live {
    fn register(path: &Path) -> Live {
        live().push(path.to_path_buf());
        Live(path.to_path_buf())
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut v = live();
        if let Some(i) = v.iter().position(|p| *p == self.0) {
            v.swap_remove(i);
        }
    }
}

/// The registry, even if a panicking thread poisoned it (a list of paths cannot be left invalid).
fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every temporary file being written (for the interrupt handler; best effort).
pub(crate) fn remove_live_temporaries() {
    for p in live().iter() {
        let _ = fs::remove_file(p);
    }
}

/// Creates `dir` and its parents.
pub(crate) fn create_dir(dir: &Path) -> Result<(), IoError> {
    fs::create_dir_all(dir).map_err(ctx("creating directory", dir))
}

/// Writes `bytes` to `path` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Streams into a temporary file through `fill`, then renames it to `path`.
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<(), IoError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut builder = Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // tempfile makes its files 0600; a result file gets what `File::create` would give
        // (0666 less the umask, 0644 under the usual 022), so colleagues can read it.
        builder.permissions(fs::Permissions::from_mode(0o666 & !umask()));
    }
    let tmp = builder.tempfile_in(dir).map_err(ctx("creating a temporary file in", dir))?;
    let _live = Live::register(tmp.path());
    let mut w = BufWriter::new(tmp);
    fill(&mut w).map_err(ctx("writing", path))?;
    let tmp = w.into_inner().map_err(|e| e.into_error()).map_err(ctx("writing", path))?;
    tmp.as_file().sync_all().map_err(ctx("syncing", path))?;
    tmp.persist(path).map_err(|e| e.error).map_err(ctx("renaming into place", path))?;
    Ok(())
}

/// The process's file-creation mask, read once from `/proc/self/status` (Linux); 022 where it
/// cannot be read. (Reading it with umask(2) would need `libc` and briefly change it.)
#[cfg(unix)]
fn umask() -> u32 {
    static UMASK: OnceLock<u32> = OnceLock::new();
    *UMASK.get_or_init(|| {
        fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    })
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

    /// A file longer than its cap is refused after reading no more than the cap (+1 byte),
    /// whatever size it reports: /dev/zero reports 0 and never ends.
    #[cfg(unix)]
    #[test]
    fn reads_stop_at_the_cap() {
        assert!(
            matches!(read_capped(Path::new("/dev/zero"), 1 << 20), Err(ReadError::TooLarge { limit }) if limit == 1 << 20)
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        fs::write(&p, b"12345").unwrap();
        assert_eq!(read_capped_text(&p, 5).unwrap(), "12345");
        assert!(matches!(read_capped(&p, 4), Err(ReadError::TooLarge { limit: 4 })));
        assert!(matches!(read_capped(&dir.path().join("none"), 4), Err(ReadError::Io(_))));
    }

    #[cfg(unix)]
    #[test]
    fn result_files_honour_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (ours, plain) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
        write_atomic(&ours, b"x").unwrap();
        fs::write(&plain, b"x").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&ours), mode(&plain), "as File::create would make it");
        assert_ne!(mode(&ours), 0o600);
    }
}
