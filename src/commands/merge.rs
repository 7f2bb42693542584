//! `trialsim merge`: the shard directories of a sweep joined into one, with its tables.

use std::path::{Path, PathBuf};

use super::Error;
use super::sweep::finish;

pub fn command(dirs: &[PathBuf], out: &Path) -> Result<(), Error> {
    let outcome = crate::sweep::merge(dirs, out)?;
    finish(&outcome)
}
