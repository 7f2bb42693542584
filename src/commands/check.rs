//! `trialsim check`: validate a scenario and print its true values (no simulation).

use std::path::Path;

use crate::report::truth::truth_table;

use super::Error;

pub fn command(path: &Path) -> Result<(), Error> {
    let sc = super::load(path)?.scenario;
    super::warn_beyond_follow_up(&sc);
    print!("{}", truth_table(&sc));
    Ok(())
}
