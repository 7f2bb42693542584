//! `trialsim check`: validate a scenario and print its true values (no simulation).

use std::path::Path;

use crate::report::truth::truth_table;

use super::Error;

pub fn command(path: &Path) -> Result<(), Error> {
    let sc = super::load(path)?.scenario;
    print!("{}", truth_table(&sc));
    Ok(())
}
