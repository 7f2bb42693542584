//! One trial's analysed endpoint arranged once, so that its records at any cut come out already
//! in order: what an interim look's search needs, which analyses the same trial at several cuts.
//!
//! [`Cohort::observe`] finds each patient's endpoint time (the first of its causes) and sorts the
//! event and loss runs at every cut. Here both are done once per trial: the patients who may
//! have an event (a finite time at or before dropout) in order of that time, and the others in
//! order of dropout. A cut then keeps those whose event, or loss, it has seen — a filter that
//! keeps the order — and walks the entered patients once for the censorings by the cut. The
//! records, and so the risk table, are bit for bit those of [`Cohort::observe`]: the same
//! predicates decide each patient, and sorted runs of the same keys are the same runs.

use super::{Cohort, Observed, RUNS, outcome};
use crate::scenario::Endpoint;
use crate::time::Time;

/// No analysis group: the patient's arm is outside the comparison.
const NO_GROUP: u8 = u8::MAX;

/// A patient who may have an event: its time key, calendar time of the event (entry + t, the
/// expression `outcome` compares with the cut) and cause.
#[derive(Debug, Clone, Copy)]
struct EventCandidate {
    key: u64,
    calendar: Time,
    cause: u16,
}

/// A patient who cannot have an event (dropout first, or no event): its dropout key, entry and
/// dropout.
#[derive(Debug, Clone, Copy)]
struct LossCandidate {
    key: u64,
    entry: Time,
    dropout: Time,
}

/// One trial's endpoint, arranged for records at any cut ([`Timeline::observe`]). Buffers are
/// reused across trials.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Per patient in entry order: entry, endpoint time, dropout and analysis group.
    entry: Vec<Time>,
    time: Vec<Time>,
    dropout: Vec<Time>,
    group: Vec<u8>,
    /// Per group, the patients who may have an event, by event time.
    events: [Vec<EventCandidate>; 2],
    /// Per group, the patients who cannot, by dropout time.
    losses: [Vec<LossCandidate>; 2],
    /// Causes in the scenario (the width of `Observed::events_by_cause` per group).
    causes: usize,
}

impl Timeline {
    /// Arranges endpoint `ep` of the cohort's trial, for the patients whose arm `group_of` maps
    /// to a group.
    pub fn arrange(&mut self, cohort: &Cohort, ep: &Endpoint, group_of: &[Option<u8>]) {
        let n = cohort.n();
        self.causes = cohort.latent.len().checked_div(n).unwrap_or(0);
        self.entry.clear();
        self.entry.extend_from_slice(&cohort.entry);
        self.dropout.clear();
        self.dropout.extend_from_slice(&cohort.dropout);
        self.time.clear();
        self.group.clear();
        for list in &mut self.events {
            list.clear();
        }
        for list in &mut self.losses {
            list.clear();
        }
        for i in 0..n {
            let group = group_of[cohort.arm[i] as usize];
            self.group.push(group.unwrap_or(NO_GROUP));
            let (t, cause) = cohort.endpoint_time(ep, i);
            self.time.push(t);
            let Some(g) = group else { continue };
            let (entry, dropout) = (cohort.entry[i], cohort.dropout[i]);
            // Times are ≥ 0, where the bit pattern orders like the value (+0.0 turns −0.0 into
            // +0.0), as in `Cohort::classify`.
            if (t < f64::INFINITY) & (t <= dropout) {
                let key = (t + 0.0).to_bits();
                self.events[usize::from(g)].push(EventCandidate { key, calendar: entry + t, cause });
            } else {
                let key = (dropout + 0.0).to_bits();
                self.losses[usize::from(g)].push(LossCandidate { key, entry, dropout });
            }
        }
        for g in 0..2 {
            self.events[g].sort_unstable_by_key(|c| c.key);
            self.losses[g].sort_unstable_by_key(|c| c.key);
        }
    }

    /// The records at calendar cut `cut` into `out`, with their runs in order (ready for
    /// [`Observed::table_of_sorted`]); false, with `out` unspecified, in the one case the
    /// arrangement does not cover — a patient who may have an event counted lost by rounding in
    /// cut − entry — where the caller observes the cohort instead.
    pub fn observe(&self, cut: Time, out: &mut Observed) -> bool {
        let n = self.entry.len();
        out.events_by_cause.clear();
        out.events_by_cause.resize(2 * self.causes, 0);
        out.capacity = n;
        out.keys.resize(RUNS * n, 0);
        out.len = [0; RUNS];
        let mut uncovered = false;
        // Censorings by the cut, in entry order (so in decreasing time), as `classify` puts them.
        for i in 0..n {
            let entry = self.entry[i];
            if entry > cut {
                break;
            }
            let group = self.group[i];
            if group == NO_GROUP {
                continue;
            }
            let (t, dropout) = (self.time[i], self.dropout[i]);
            let (time, event) = outcome(t, dropout, entry, cut);
            let lost = !event & (dropout < cut - entry);
            let candidate = (t < f64::INFINITY) & (t <= dropout);
            uncovered |= candidate & lost;
            if !event & !lost {
                let run = 4 + usize::from(group);
                out.keys[run * n + out.len[run]] = (time + 0.0).to_bits();
                out.len[run] += 1;
            }
        }
        if uncovered {
            return false;
        }
        for g in 0..2 {
            // Events seen by the cut, in time order.
            let mut len = 0;
            let run = &mut out.keys[g * n..(g + 1) * n];
            for c in &self.events[g] {
                if c.calendar <= cut {
                    run[len] = c.key;
                    len += 1;
                    out.events_by_cause[g * self.causes + usize::from(c.cause)] += 1;
                }
            }
            out.len[g] = len;
            // Losses before the cut, in time order (`classify`'s predicate; a patient entered
            // after the cut has cut − entry < 0 ≤ dropout).
            let mut len = 0;
            let run = &mut out.keys[(2 + g) * n..(3 + g) * n];
            for c in &self.losses[g] {
                if c.dropout < cut - c.entry {
                    run[len] = c.key;
                    len += 1;
                }
            }
            out.len[2 + g] = len;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::stats::RiskTable;
    use std::path::Path;

    /// At any cut, the arranged trial's records give the table `observe` gives, bit for bit,
    /// whatever the endpoint (one, two or three causes), with dropout and with an arm outside
    /// the comparison.
    #[test]
    fn records_at_any_cut_are_the_observed_ones() {
        let text = std::fs::read_to_string("scenarios/hsct_ssc.toml").expect("shipped scenario");
        let os = "os = [\"treatment_death\", \"disease_death\"]";
        assert!(text.contains(os));
        let text = text.replacen(os, &format!("{os}\ntrm = [\"treatment_death\"]"), 1);
        let sc = Scenario::from_toml(&text, Path::new("s.toml")).expect("valid");
        assert_eq!(sc.endpoints.iter().map(|e| e.causes.len()).collect::<Vec<_>>(), [3, 2, 1]);
        let mut c = Cohort::default();
        let mut timeline = Timeline::default();
        let (mut direct, mut arranged) = (Observed::default(), Observed::default());
        let (mut a, mut b) = (RiskTable::default(), RiskTable::default());
        let mut compared = 0;
        for group_of in [[Some(0), Some(1)], [Some(0), None]] {
            for r in 0..40 {
                c.generate(&sc, 7, r);
                for ep in &sc.endpoints {
                    timeline.arrange(&c, ep, &group_of);
                    for k in 0..60u32 {
                        // Cuts before, during and after accrual, and exactly at event times.
                        let cut = match k % 3 {
                            0 => 0.25 * f64::from(k),
                            _ => {
                                c.entry[(k as usize * 7) % c.n()]
                                    + c.endpoint_time(ep, (k as usize * 7) % c.n()).0
                            }
                        };
                        if !cut.is_finite() {
                            continue;
                        }
                        c.observe(ep, cut, &group_of, &mut direct);
                        direct.table(&mut a);
                        assert!(timeline.observe(cut, &mut arranged), "replicate {r}, cut {cut}");
                        arranged.table_of_sorted(&mut b);
                        assert_eq!(
                            (&a.time, &a.at_risk, &a.events, a.size, a.last_time),
                            (&b.time, &b.at_risk, &b.events, b.size, b.last_time),
                            "replicate {r}, cut {cut}"
                        );
                        assert_eq!(direct.events_by_cause, arranged.events_by_cause);
                        assert_eq!(direct.patients(), arranged.patients());
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 8000, "{compared} cuts compared");
    }
}
