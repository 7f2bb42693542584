//! One trial's analysed endpoint arranged once, so that its risk table at any cut is read without
//! sorting: what an interim look's search needs, which analyses the same trial at several cuts.
//!
//! [`Cohort::observe`] finds each patient's endpoint time (the first of its causes), sorts the
//! event and loss runs and merges them into the risk table at every cut. Here the first two are
//! done once per trial: the patients who may have an event (a finite time at or before dropout)
//! in order of that time, and the others in order of dropout, both groups together. A cut then
//! walks the entered patients once for the censorings by the cut, and the two lists once, keeping
//! the events and losses it has seen. The table is bit for bit the one [`Observed::table`] builds
//! from [`Cohort::observe`]'s records: the same predicates decide each patient, rows are the
//! distinct event times in the same order, and the numbers at risk count the same records.
//!
//! [`Observed::table`]: super::Observed::table

use super::{Cohort, outcome};
use crate::scenario::Endpoint;
use crate::stats::RiskTable;
use crate::time::Time;

/// No analysis group: the patient's arm is outside the comparison.
const NO_GROUP: u8 = u8::MAX;

/// A time key's top bit: a time ≥ 0's bit pattern has it clear, so it can carry the group.
const GROUP_BIT: u64 = 1 << 63;

/// A patient who may have an event: its time key, calendar time of the event (entry + t, the
/// expression `outcome` compares with the cut), cause and group.
#[derive(Debug, Clone, Copy)]
struct EventCandidate {
    key: u64,
    calendar: Time,
    cause: u16,
    group: u8,
}

/// A patient who cannot have an event (dropout first, or no event): its dropout key, entry,
/// dropout and group.
#[derive(Debug, Clone, Copy)]
struct LossCandidate {
    key: u64,
    entry: Time,
    dropout: Time,
    group: u8,
}

/// One trial's endpoint, arranged for risk tables at any cut ([`Timeline::table`]). Buffers are
/// reused across trials.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Per patient in entry order: entry, endpoint time, dropout and analysis group.
    entry: Vec<Time>,
    time: Vec<Time>,
    dropout: Vec<Time>,
    group: Vec<u8>,
    /// The patients who may have an event, by event time.
    events: Vec<EventCandidate>,
    /// The patients who cannot, by dropout time.
    losses: Vec<LossCandidate>,
    /// Causes in the scenario (the width of events-by-cause per group).
    causes: usize,
}

/// A time ≥ 0 as a key that orders like it (+0.0 turns −0.0 into +0.0), as `Cohort::classify`
/// makes it.
fn key(t: Time) -> u64 {
    (t + 0.0).to_bits()
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
        self.events.clear();
        self.losses.clear();
        for i in 0..n {
            let group = group_of[cohort.arm[i] as usize];
            self.group.push(group.unwrap_or(NO_GROUP));
            let (t, cause) = cohort.endpoint_time(ep, i);
            self.time.push(t);
            let Some(group) = group else { continue };
            let (entry, dropout) = (cohort.entry[i], cohort.dropout[i]);
            if (t < f64::INFINITY) & (t <= dropout) {
                self.events.push(EventCandidate { key: key(t), calendar: entry + t, cause, group });
            } else {
                self.losses.push(LossCandidate { key: key(dropout), entry, dropout, group });
            }
        }
        self.events.sort_unstable_by_key(|c| c.key);
        self.losses.sort_unstable_by_key(|c| c.key);
    }

    /// The risk table at calendar cut `cut` into `table`, and its events by group and cause
    /// (`group * causes + cause`) into `events_by_cause`; `censored` is scratch. False, with both
    /// unspecified, in the one case the arrangement does not cover — a patient who may have an
    /// event counted lost by rounding in cut − entry — where the caller observes the cohort.
    pub fn table(
        &self,
        cut: Time,
        table: &mut RiskTable,
        events_by_cause: &mut Vec<u32>,
        censored: &mut Vec<u64>,
    ) -> bool {
        let n = self.entry.len();
        table.time.clear();
        table.at_risk.clear();
        table.events.clear();
        table.size = [0, 0];
        table.last_time = [f64::NEG_INFINITY; 2];
        events_by_cause.clear();
        events_by_cause.resize(2 * self.causes, 0);
        // Censorings by the cut in entry order, so in decreasing time (as `Cohort::classify`
        // puts them), each key carrying its group in the top bit; and the patients per group.
        censored.resize(n, 0);
        let mut followed = 0;
        let mut uncovered = false;
        let mut size = [0u32; 2];
        let mut last = [0u64; 2];
        let mut any = [false; 2];
        for i in 0..n {
            let entry = self.entry[i];
            if entry > cut {
                break;
            }
            let group = self.group[i];
            if group == NO_GROUP {
                continue;
            }
            let g = usize::from(group);
            size[g] += 1;
            let (t, dropout) = (self.time[i], self.dropout[i]);
            let (time, event) = outcome(t, dropout, entry, cut);
            let lost = !event & (dropout < cut - entry);
            uncovered |= (t < f64::INFINITY) & (t <= dropout) & lost;
            // Every analysed record's time, for the last one per group.
            let k = key(time);
            last[g] = last[g].max(k);
            any[g] = true;
            // Written always, kept when still followed (a coin toss for the branch predictor).
            censored[followed] = k | (u64::from(group) << 63);
            followed += usize::from(!event & !lost);
        }
        if uncovered {
            return false;
        }
        table.size = size;
        for g in 0..2 {
            if any[g] {
                table.last_time[g] = f64::from_bits(last[g]);
            }
        }
        // Walk the events seen by the cut in time order, a row per distinct time; before each
        // row, the losses and censorings before its time leave the risk set (at a tie, events
        // come first: a record censored at t is at risk at t).
        let mut gone = size;
        let (mut l, mut c) = (0, followed);
        let mut i = 0;
        while i < self.events.len() {
            let e = self.events[i];
            i += 1;
            if e.calendar > cut {
                continue;
            }
            let t = e.key;
            while l < self.losses.len() && self.losses[l].key < t {
                let loss = self.losses[l];
                if loss.dropout < cut - loss.entry {
                    gone[usize::from(loss.group)] -= 1;
                }
                l += 1;
            }
            while c > 0 && censored[c - 1] & !GROUP_BIT < t {
                gone[(censored[c - 1] >> 63) as usize] -= 1;
                c -= 1;
            }
            let mut d = [0u32; 2];
            d[usize::from(e.group)] += 1;
            events_by_cause[usize::from(e.group) * self.causes + usize::from(e.cause)] += 1;
            while i < self.events.len() && self.events[i].key == t {
                let tie = self.events[i];
                i += 1;
                if tie.calendar <= cut {
                    d[usize::from(tie.group)] += 1;
                    events_by_cause[usize::from(tie.group) * self.causes + usize::from(tie.cause)] += 1;
                }
            }
            table.time.push(f64::from_bits(t));
            table.at_risk.push(gone);
            table.events.push(d);
            gone[0] -= d[0];
            gone[1] -= d[1];
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::Observed;
    use crate::scenario::Scenario;
    use std::path::Path;

    /// At any cut, the arranged trial gives the table `observe` and `Observed::table` give, bit for bit,
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
        let mut direct = Observed::default();
        let (mut a, mut b) = (RiskTable::default(), RiskTable::default());
        let (mut by_cause, mut scratch) = (Vec::new(), Vec::new());
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
                        assert!(
                            timeline.table(cut, &mut b, &mut by_cause, &mut scratch),
                            "replicate {r}, cut {cut}"
                        );
                        assert_eq!(
                            (&a.time, &a.at_risk, &a.events, a.size, a.last_time),
                            (&b.time, &b.at_risk, &b.events, b.size, b.last_time),
                            "replicate {r}, cut {cut}"
                        );
                        assert_eq!(direct.events_by_cause, by_cause);
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 8000, "{compared} cuts compared");
    }
}
