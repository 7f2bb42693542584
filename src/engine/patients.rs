//! The analysed patients of the first replicates, as the simulation drew them (patients.csv).

use crate::analyser::{Analyser, Trial};
use crate::cohort::Cohort;
use crate::scenario::Scenario;
use crate::stats::analysis_data::{View, Views};
use crate::time::Time;

/// One analysed patient (entered by the cut, in an allocated arm) for patients.csv: the arm's
/// index, the entry time, and per endpoint the time from randomisation and whether it is an
/// event at the cut.
#[derive(Debug, Clone, Copy)]
pub struct AnalysedPatient<'a> {
    pub replicate: u64,
    pub arm: usize,
    pub entry: Time,
    /// (time, event) per endpoint of `Scenario::endpoints`.
    pub outcomes: &'a [(Time, bool)],
}

/// Calls `each` for the analysed patients of replicates 0..k, in replicate and entry order, with
/// the same draws as the simulation (so patients.csv shows the trials that were analysed).
pub fn analysed_patients<E>(
    sc: &Scenario,
    seed: u64,
    k: u64,
    mut each: impl FnMut(AnalysedPatient) -> Result<(), E>,
) -> Result<(), E> {
    let mut cohort = Cohort::default();
    let mut analyser = Analyser::default();
    let group_of = vec![None; sc.arms.len()];
    let views = Views::default().with(View::Patients);
    for replicate in 0..k {
        cohort.generate(sc, seed, replicate);
        let cut = cohort.cut(sc).calendar;
        let trial = Trial { cohort: &cohort, scenario: sc, group_of: &group_of };
        let patients = analyser.build(trial, cut, views).patients();
        for i in 0..patients.len() {
            let (arm, entry, outcomes) = (patients.arm[i], patients.entry[i], patients.outcomes_of(i));
            each(AnalysedPatient { replicate, arm, entry, outcomes })?;
        }
    }
    Ok(())
}
