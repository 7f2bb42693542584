//! A scenario file validated whole: the model, design and analysis, and the table of every
//! command (`[sweep]`, `[uncertainty]`, `[followup]`, `[[targets]]`, `[calibrate]`), so that a
//! mistake anywhere in the file is reported by any command, and by the explorer, before anything
//! runs.

use crate::Years;
use crate::assurance::{Uncertainty, uncertainty_table};
use crate::calibrate::targets::{StudyTables, study_tables};
use crate::followup::cuts_table;
use crate::scenario::{Document, Scenario, ScenarioError};
use crate::sweep::{SweepTable, sweep_table};

/// A scenario file read once and validated whole: the scenario (model, design, analysis) and the
/// table of every command, so that a mistake anywhere in the file is reported by any command,
/// before anything runs.
pub struct Loaded {
    pub scenario: Scenario,
    pub sweep: Option<SweepTable>,
    pub uncertainty: Option<Uncertainty>,
    /// `[followup] cuts` (empty without the table).
    pub followup_cuts: Vec<Years>,
    pub study: StudyTables,
    /// The file's text, as the reports show it.
    pub text: String,
}

/// The scenario and every command's table of a parsed document.
pub fn validate(doc: &Document) -> Result<Loaded, ScenarioError> {
    let scenario = doc.scenario()?;
    let sweep = sweep_table(doc)?;
    let uncertainty = uncertainty_table(doc)?;
    let followup_cuts = cuts_table(doc)?;
    let study = study_tables(doc, &scenario)?;
    Ok(Loaded { scenario, sweep, uncertainty, followup_cuts, study, text: doc.text().to_string() })
}
