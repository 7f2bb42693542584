//! One simulated trial's data at a cut, as the statistics read it: [`Analyser`] builds the
//! [`AnalysisData`] views a trial's analysis asks for from its [`Cohort`], once per cut.

use crate::cohort::{Cohort, Observed};
use crate::scenario::Scenario;
use crate::stats::analysis_data::{AnalysisData, Patients, Views};
use crate::time::Time;

/// Builds one simulated trial's [`AnalysisData`] at a cut: the views asked for, each once, from
/// the cohort. Per-worker buffers, reused across trials and cuts.
#[derive(Debug, Default, Clone)]
pub struct Analyser {
    obs: Observed,
    /// Per stratum, for the per-stratum risk tables.
    by_stratum: Vec<Observed>,
    pub data: AnalysisData,
}

impl Analyser {
    /// The `views` of the trial's data at calendar time `cut`: the primary endpoint's risk table
    /// of the groups `group_of` maps, and every analysed patient's outcome on every endpoint.
    pub fn build(&mut self, trial: Trial, cut: Time, views: Views) -> &AnalysisData {
        self.data.begin(cut);
        if views.strata {
            // Each stratum's table first; the whole trial's (when asked for) is merged from them.
            let strata = trial.scenario.stratum_count();
            let ep = trial.scenario.primary();
            trial.cohort.observe_by_stratum(ep, cut, trial.group_of, strata, &mut self.by_stratum);
            for (table, obs) in self.data.fill_strata(strata).iter_mut().zip(&mut self.by_stratum) {
                obs.table(table);
            }
            if views.risk_table {
                let (table, events_by_cause) = self.data.fill_risk_table();
                self.obs.merged_table(&self.by_stratum, table);
                events_by_cause.clear();
                events_by_cause.extend_from_slice(&self.obs.events_by_cause);
            }
        } else if views.risk_table {
            trial.cohort.observe(trial.scenario.primary(), cut, trial.group_of, &mut self.obs);
            let (table, events_by_cause) = self.data.fill_risk_table();
            self.obs.table(table);
            events_by_cause.clear();
            events_by_cause.extend_from_slice(&self.obs.events_by_cause);
        }
        if views.patients {
            trial.patients(cut, self.data.fill_patients());
        }
        &self.data
    }
}

/// One generated trial with what its analysis needs to read it.
#[derive(Debug, Clone, Copy)]
pub struct Trial<'a> {
    pub cohort: &'a Cohort,
    pub scenario: &'a Scenario,
    /// Arm index → analysis group (0 control or the single arm, 1 experimental).
    pub group_of: &'a [Option<u8>],
}

impl Trial<'_> {
    /// The patients analysed at `cut` (entered by it, in an allocated arm), in entry order, with
    /// their (time, event) on every endpoint of the scenario.
    fn patients(&self, cut: Time, out: &mut Patients) {
        let (c, sc) = (self.cohort, self.scenario);
        out.clear(sc.endpoints.len());
        for i in 0..c.n() {
            let entry = c.entry[i];
            if entry > cut {
                break; // entry order: everyone after also entered after the cut
            }
            let arm = c.arm[i] as usize;
            if sc.arms[arm].allocation == 0 {
                continue;
            }
            out.arm.push(arm);
            out.group.push(self.group_of.get(arm).copied().flatten());
            out.entry.push(entry);
            out.outcomes.extend(sc.endpoints.iter().map(|e| {
                let (time, event, _) = c.status(e, i, cut);
                (time, event)
            }));
            if sc.is_stratified() {
                out.stratum.push(u32::from(c.stratum[i]));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The two views of one trial at one cut agree: the patients view's primary-endpoint events
    /// by group are the risk table's, and each patient's outcome is `status` at the cut.
    #[test]
    fn the_patients_view_agrees_with_the_risk_table() {
        let sc = crate::scenario::fixture::valid(crate::scenario::fixture::BASE);
        let mut c = Cohort::default();
        let mut analyser = Analyser::default();
        let group_of = [Some(0), Some(1)];
        let views = Views { risk_table: true, patients: true, strata: false };
        for replicate in 0..20 {
            c.generate(&sc, 5, replicate);
            let cut = 1.0 + 0.2 * replicate as f64;
            let data = analyser.build(Trial { cohort: &c, scenario: &sc, group_of: &group_of }, cut, views);
            let p = data.patients();
            assert_eq!(p.len(), c.entry.iter().filter(|&&e| e <= cut).count());
            let primary = sc.analysis.endpoint;
            let events = |g: u8| {
                (0..p.len()).filter(|&i| p.group[i] == Some(g) && p.outcomes_of(i)[primary].1).count() as u32
            };
            let table = data.risk_table();
            let table_events = |g: usize| table.events.iter().map(|d| d[g]).sum::<u32>();
            assert_eq!([events(0), events(1)], [table_events(0), table_events(1)]);
            for i in 0..p.len() {
                for (e, ep) in sc.endpoints.iter().enumerate() {
                    let (time, event, _) = c.status(ep, i, cut);
                    assert_eq!(p.outcomes_of(i)[e], (time, event));
                }
            }
        }
    }
}
