//! One simulated trial's data at a cut, as the statistics read it: [`Analyser`] builds the
//! [`AnalysisData`] views a trial's analysis asks for from its [`Cohort`], once per cut.

use crate::cohort::{Cohort, CutScratch, Observed, Timeline};
use crate::scenario::Scenario;
use crate::scenario::{Composite, CompositeLayer};
use crate::stats::RiskTable;
use crate::stats::analysis_data::{AnalysisData, Patients, Views};
use crate::stats::win::{Layer, WinData, WinScratch, win_statistics};
use crate::test_statistic::TestKind;
use crate::time::Time;

/// Builds one simulated trial's [`AnalysisData`] at a cut: the views asked for, each once, from
/// the cohort. Per-worker buffers, reused across trials and cuts.
#[derive(Debug, Default, Clone)]
pub struct Analyser {
    obs: Observed,
    /// The whole trial's table when only the strata's are asked for (built in the same walk).
    unused_whole: RiskTable,
    /// One composite's patients on its layers, and the pairwise counts' buffers.
    win_data: WinData,
    win_scratch: WinScratch,
    layers: Vec<Layer>,
    /// Scratch for [`Timeline::table`].
    cut_scratch: CutScratch,
    pub data: AnalysisData,
}

impl Analyser {
    /// The `views` of the trial's data at calendar time `cut`: the primary endpoint's risk table
    /// of the groups `group_of` maps, and every analysed patient's outcome on every endpoint.
    pub fn build(&mut self, trial: Trial, cut: Time, views: Views) -> &AnalysisData {
        self.data.begin(cut);
        if views.strata {
            // Each stratum's table and the whole trial's, in one walk over the records.
            let strata = trial.scenario.stratum_count();
            let ep = trial.scenario.primary();
            trial.cohort.observe_by_stratum(ep, cut, trial.group_of, &mut self.obs);
            if views.risk_table {
                let (table, events_by_cause, tables) = self.data.fill_risk_table_and_strata(strata);
                self.obs.tables_by_stratum(table, tables);
                events_by_cause.clear();
                events_by_cause.extend_from_slice(&self.obs.events_by_cause);
            } else {
                self.obs.tables_by_stratum(&mut self.unused_whole, self.data.fill_strata(strata));
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
        if views.composites {
            let sc = trial.scenario;
            let wins = self.data.fill_wins(sc.composites.len());
            for (c, composite) in sc.composites.iter().enumerate() {
                // Only the composites a test reads: each costs a pass over every pair.
                let tested = sc.analysis.tests.iter().any(|t| t.kind == TestKind::Win { composite: c });
                if tested {
                    trial.win_data(composite, cut, &mut self.layers, &mut self.win_data);
                    win_statistics(&self.win_data, &mut self.win_scratch, &mut wins[c]);
                }
            }
        }
        &self.data
    }
}

impl Analyser {
    /// The primary endpoint's risk table at `cut` (the [`View::RiskTable`] view alone) from the
    /// trial's `timeline` (arranged from the same trial's primary endpoint and groups): the table
    /// [`Analyser::build`] gives, without sorting. For analyses of one trial at many cuts (a
    /// monitored trial's final analysis and looks).
    ///
    /// [`View::RiskTable`]: crate::stats::analysis_data::View::RiskTable
    pub fn build_risk_table(&mut self, trial: Trial, timeline: &Timeline, cut: Time) -> &AnalysisData {
        self.data.begin(cut);
        let (table, events_by_cause) = self.data.fill_risk_table();
        if !timeline.table(cut, table, events_by_cause, &mut self.cut_scratch) {
            let views = Views::default().with(crate::stats::analysis_data::View::RiskTable);
            return self.build(trial, cut, views);
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
    /// The analysed patients of both groups on the layers of `composite` at `cut`, experimental
    /// patients first (`scenario::outcomes`, `stats::win`): a time-to-event layer's (time, event)
    /// at the cut, censored at its `until`; an outcome layer's value where the patient is
    /// measured (signed so that higher is better), NaN where not.
    fn win_data(&self, composite: &Composite, cut: Time, layers: &mut Vec<Layer>, out: &mut WinData) {
        let (c, sc) = (self.cohort, self.scenario);
        layers.clear();
        layers.extend(composite.layers.iter().map(|l| match *l {
            CompositeLayer::Event { .. } => Layer::Event,
            CompositeLayer::Outcome { margin, .. } => Layer::Continuous { margin },
        }));
        out.clear(layers);
        let at_times = sc.assessments.as_ref().map_or(&[][..], |a| &a.at[..]);
        let m = at_times.len();
        for group in [1u8, 0] {
            for i in 0..c.n() {
                if c.entry[i] > cut {
                    break; // entry order
                }
                if self.group_of.get(c.arm[i] as usize).copied().flatten() != Some(group) {
                    continue;
                }
                for (l, layer) in composite.layers.iter().enumerate() {
                    match *layer {
                        CompositeLayer::Event { endpoint, until } => {
                            let (t, event, _) = c.status(&sc.endpoints[endpoint], i, cut);
                            let (t, event) = match until {
                                Some(u) if t > u => (u, false),
                                _ => (t, event),
                            };
                            out.value[l].push(t);
                            out.event[l].push(event);
                        }
                        CompositeLayer::Outcome { outcome, at, .. } => {
                            let x = if c.measured(sc, i, at_times[at], cut) {
                                let v = c.outcome[(outcome * m + at) * c.n() + i];
                                if sc.outcomes[outcome].higher_is_better { v } else { -v }
                            } else {
                                f64::NAN
                            };
                            out.value[l].push(x);
                            out.event[l].push(false);
                        }
                    }
                }
                if group == 1 {
                    out.experimental += 1;
                } else {
                    out.control += 1;
                }
            }
        }
    }

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

    /// A composite's layers at a cut, as the win statistics read them: experimental patients
    /// first; a time-to-event layer's (time, event) censored at its `until`; an outcome layer's
    /// value where measured, negated for a lower-is-better outcome, NaN where not measured.
    #[test]
    fn a_composites_layers_are_the_patients_status_cut_at_until_and_signed() {
        let text = std::fs::read_to_string("scenarios/scot_design.toml")
            .unwrap()
            .replace("{ endpoint = \"efs\", until = 4.5 }", "{ endpoint = \"efs\", until = 2.0 }");
        let sc = crate::scenario::Scenario::from_toml(&text, std::path::Path::new("scot.toml")).unwrap();
        let composite = &sc.composites[0];
        let (ctl, exp) = (sc.comparison.unwrap().control, sc.comparison.unwrap().experimental);
        let mut group_of = vec![None; sc.arms.len()];
        (group_of[ctl], group_of[exp]) = (Some(0), Some(1));
        let mut c = Cohort::default();
        let (mut layers, mut out) = (Vec::new(), WinData::default());
        let (mut measured, mut missing, mut censored_at_until) = (0, 0, 0);
        for r in 0..20 {
            c.generate(&sc, 4, r);
            let cut = 6.0 + 0.2 * r as f64;
            Trial { cohort: &c, scenario: &sc, group_of: &group_of }.win_data(
                composite,
                cut,
                &mut layers,
                &mut out,
            );
            let cohort = &c;
            let order: Vec<usize> = [exp, ctl]
                .iter()
                .flat_map(|&arm| (0..cohort.n()).filter(move |&i| cohort.arm[i] as usize == arm))
                .filter(|&i| cohort.entry[i] <= cut)
                .collect();
            assert_eq!((out.experimental + out.control, out.len()), (order.len(), order.len()));
            assert!(order[..out.experimental].iter().all(|&i| c.arm[i] as usize == exp));
            for (row, &i) in order.iter().enumerate() {
                let efs = sc.endpoints.iter().find(|e| e.name == "efs").unwrap();
                let (t, e, _) = c.status(efs, i, cut);
                let expected = if t > 2.0 { (2.0, false) } else { (t, e) };
                censored_at_until += usize::from(t > 2.0);
                assert_eq!((out.value[1][row], out.event[1][row]), expected, "efs cut at until");
                let haq = sc.outcomes.iter().position(|o| o.name == "haq").unwrap();
                let x = c.outcome[(haq * 3 + 2) * c.n() + i];
                if c.measured(&sc, i, 4.5, cut) {
                    measured += 1;
                    assert_eq!(out.value[3][row], -x, "HAQ-DI: lower is better, so negated");
                } else {
                    missing += 1;
                    assert!(out.value[3][row].is_nan());
                }
            }
        }
        assert!(
            measured > 100 && missing > 100 && censored_at_until > 100,
            "{measured} {missing} {censored_at_until}"
        );
    }

    /// The two views of one trial at one cut agree: the patients view's primary-endpoint events
    /// by group are the risk table's, and each patient's outcome is `status` at the cut.
    #[test]
    fn the_patients_view_agrees_with_the_risk_table() {
        let sc = crate::scenario::fixture::valid(crate::scenario::fixture::BASE);
        let mut c = Cohort::default();
        let mut analyser = Analyser::default();
        let group_of = [Some(0), Some(1)];
        let views = Views { risk_table: true, patients: true, strata: false, composites: false };
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
