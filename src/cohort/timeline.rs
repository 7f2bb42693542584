//! One trial's analysed endpoint arranged once, so that its risk table at any cut is read without
//! sorting: what an interim look's search needs, which analyses the same trial at several cuts.
//!
//! [`Cohort::observe`] finds each patient's endpoint time (the first of its causes), decides at
//! every cut whether each patient had an event, was lost or is still followed, sorts the event and
//! loss runs and merges them into the risk table. Here the first and the sorting are done once per
//! trial: the patients who may have an event (a finite time at or before dropout) in order of that
//! time, the others in order of dropout, both groups together; and each patient's *exit*, the
//! earliest cut at which it is no longer followed. A cut then walks the two lists once, keeping
//! the events and losses it has seen, and the entered patients from the latest, those whose exit
//! is later being its censorings. The table is bit for bit the one [`Observed::table`] builds from
//! [`Cohort::observe`]'s records: the exits are the exact thresholds of the same predicates, rows
//! are the distinct event times in the same order, and the numbers at risk count the same records.
//!
//! [`Observed::table`]: super::Observed::table

use std::hint::select_unpredictable;

use super::Cohort;
use crate::scenario::Endpoint;
use crate::stats::RiskTable;
use crate::time::Time;

/// A patient who may have an event: its time key, calendar time of the event (entry + t, the
/// expression `outcome` compares with the cut), cause and group.
#[derive(Debug, Clone, Copy)]
struct EventCandidate {
    key: u64,
    calendar: Time,
    cause: u16,
    group: u8,
}

/// A patient who cannot have an event (dropout first, or no event): its dropout key, the first
/// cut at which it counts as lost (+∞ when that is after every cut arranged for), and group.
#[derive(Debug, Clone, Copy)]
struct LossCandidate {
    key: u64,
    lost_from: Time,
    group: u8,
}

/// One trial's endpoint, arranged for risk tables at any cut ([`Timeline::table`]). Buffers are
/// reused across trials.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    /// Per patient in entry order: entry, exit (followed at cut c iff entry ≤ c < exit, for the
    /// cuts arranged for: a loss after `until` is +∞; −∞ for a patient outside the comparison)
    /// and analysis group (0 outside it).
    entry: Vec<Time>,
    exit: Vec<Time>,
    group: Vec<u8>,
    /// Patients per group among the first i to enter, i = 0..=n.
    entered: Vec<[u32; 2]>,
    /// The patients who may have an event, by event time.
    events: Vec<EventCandidate>,
    /// The patients who cannot, by dropout time.
    losses: Vec<LossCandidate>,
    /// Every patient's observable event (all arms) up to `until`, as calendar times in
    /// increasing order.
    calendar: Vec<Time>,
    /// After [`Timeline::arrange`], the calendar's events as (calendar time's key, place in
    /// `events` or [`OUTSIDE`]), in calendar order.
    by_calendar: Vec<(u64, u64)>,
    /// The latest cut arranged for.
    until: Time,
    /// The first cut at which a patient who may have an event counts as lost by rounding in
    /// cut − entry before its event (+∞: none does; `table` leaves such cuts to the caller).
    irregular_from: Time,
    /// Causes in the scenario (the width of events-by-cause per group).
    causes: usize,
}

/// The place in time order of a calendar event outside the comparison (it has none).
const OUTSIDE: u64 = u64::MAX;

/// A time ≥ 0 as a key that orders like it (+0.0 turns −0.0 into +0.0), as `Cohort::classify`
/// makes it.
fn key(t: Time) -> u64 {
    (t + 0.0).to_bits()
}

/// The first cut c at which a patient who entered at `entry` counts as lost at `dropout`, the
/// predicate `Cohort::classify` applies: dropout < c − entry (+∞ without dropout). c − entry
/// rounds monotonically in c, so the cuts where it holds are all those from one on; that one is
/// within a few ulps of entry + dropout.
fn lost_from(entry: Time, dropout: Time) -> Time {
    if dropout >= f64::INFINITY {
        return f64::INFINITY;
    }
    let lost = |c: Time| dropout < c - entry;
    let mut c = entry + dropout;
    // Most thresholds are entry + dropout or an ulp either side. Which one is a coin toss for
    // the branch predictor, so the three are tried without a branch, then confirmed.
    let (down, up) = (c.next_down(), c.next_up());
    let near = select_unpredictable(lost(down), down, select_unpredictable(lost(c), c, up));
    if lost(near) && !lost(near.next_down()) {
        return near;
    }
    if lost(c) {
        while lost(c.next_down()) {
            c = c.next_down();
        }
    } else {
        while !lost(c) {
            c = c.next_up();
        }
    }
    c
}

impl Timeline {
    /// Arranges endpoint `ep` of the cohort's trial, for the patients whose arm `group_of` maps
    /// to a group, for cuts up to `until` (events and losses that no such cut sees are left out:
    /// about half of a trial's, which then are neither sorted nor walked past at every cut).
    pub fn arrange(&mut self, cohort: &Cohort, ep: &Endpoint, group_of: &[Option<u8>], until: Time) {
        let n = cohort.n();
        self.causes = cohort.latent.len().checked_div(n).unwrap_or(0);
        self.entry.clear();
        self.entry.extend_from_slice(&cohort.entry);
        self.events.clear();
        self.losses.clear();
        self.calendar.clear();
        self.irregular_from = f64::INFINITY;
        self.until = until;
        // Every list is sized first and written by index (a push per patient rereads each
        // list's length), the candidates and the calendar's events written always and kept by
        // their lengths: whether a patient may have an event, and whether before `until`, are
        // coin tosses for the branch predictor.
        self.exit.resize(n, 0.0);
        self.group.resize(n, 0);
        self.entered.resize(n + 1, [0; 2]);
        let blank_event = EventCandidate { key: 0, calendar: 0.0, cause: 0, group: 0 };
        self.events.resize(n, blank_event);
        self.losses.resize(n, LossCandidate { key: 0, lost_from: 0.0, group: 0 });
        self.by_calendar.resize(n, (0, OUTSIDE));
        // Counted per group in locals, not indexed by group: an indexed count would chain each
        // patient's update to the last through memory.
        let (mut entered0, mut entered1) = (0u32, 0u32);
        self.entered[0] = [0, 0];
        let (mut events, mut losses, mut calendar_len) = (0, 0, 0);
        for i in 0..n {
            let (t, cause) = cohort.endpoint_time(ep, i);
            let (entry, dropout) = (cohort.entry[i], cohort.dropout[i]);
            let candidate = (t < f64::INFINITY) & (t <= dropout);
            let calendar = entry + t;
            let Some(group) = group_of[cohort.arm[i] as usize] else {
                // Its event is in the calendar (all arms), not among the analysed events.
                if candidate & (calendar <= until) {
                    self.by_calendar[calendar_len] = (key(calendar), OUTSIDE);
                    calendar_len += 1;
                }
                self.exit[i] = f64::NEG_INFINITY;
                self.group[i] = 0;
                self.entered[i + 1] = [entered0, entered1];
                continue;
            };
            entered1 += u32::from(group);
            entered0 += 1 - u32::from(group);
            self.entered[i + 1] = [entered0, entered1];
            self.group[i] = group;
            // A candidate is followed until its event is seen — unless rounding counts it lost
            // at a cut before (lost at the cut just before the event's is lost at some cut
            // before it, the predicate being monotone in the cut; see the test below for why it
            // is not).
            let early_loss = candidate & (dropout < calendar.next_down() - entry);
            // Not lost at `until` is not lost at any cut arranged for (the predicate is monotone
            // in the cut), and every use of the threshold compares it with such a cut: +∞ then
            // reads the same and spares the search (most patients, dropout being rare).
            let lost = if dropout < until - entry { lost_from(entry, dropout) } else { f64::INFINITY };
            if early_loss {
                self.irregular_from = self.irregular_from.min(lost);
            }
            self.exit[i] = select_unpredictable(candidate & !early_loss, calendar, lost);
            self.events[events] = EventCandidate { key: key(t), calendar, cause, group };
            events += usize::from(candidate & (calendar <= until));
            self.losses[losses] = LossCandidate { key: key(dropout), lost_from: lost, group };
            losses += usize::from(!candidate & (lost <= until));
        }
        self.events.truncate(events);
        self.losses.truncate(losses);
        self.events.sort_unstable_by_key(|c| c.key);
        self.losses.sort_unstable_by_key(|c| c.key);
        // The calendar: the events outside the comparison, and each analysed event with its
        // place in time order, sorted as keys (the times are ≥ 0), which order as the times.
        self.by_calendar.truncate(calendar_len);
        self.by_calendar.extend(self.events.iter().enumerate().map(|(k, e)| (key(e.calendar), k as u64)));
        self.by_calendar.sort_unstable_by_key(|&(calendar, _)| calendar);
        self.calendar.extend(self.by_calendar.iter().map(|&(calendar, _)| f64::from_bits(calendar)));
    }

    /// Only [`Timeline::event_calendar`]'s list, of endpoint `ep` of the cohort's trial: for a
    /// trial analysed at one cut per look, where arranging the rest costs more than it saves.
    /// [`Timeline::table`] must not be called until [`Timeline::arrange`] has been.
    pub fn arrange_calendar(&mut self, cohort: &Cohort, ep: &Endpoint) {
        self.calendar.clear();
        self.by_calendar.clear();
        for i in 0..cohort.n() {
            let (t, _) = cohort.endpoint_time(ep, i);
            if (t < f64::INFINITY) & (t <= cohort.dropout[i]) {
                self.calendar.push(cohort.entry[i] + t);
            }
        }
        self.calendar.sort_unstable_by(f64::total_cmp);
    }

    /// The calendar time of every patient's observable event (any arm: an event before dropout,
    /// seen by a cut at or after entry + t, the expression `outcome` compares), increasing: up to
    /// the `until` of [`Timeline::arrange`], all of them after [`Timeline::arrange_calendar`].
    /// The K-th is where an events-only cut of K events falls ([`Cohort::cut_by`]).
    pub fn event_calendar(&self) -> &[Time] {
        &self.calendar
    }

    /// Weights of the analysed events accumulated in calendar order, into `out` (one sum per
    /// event of [`Timeline::event_calendar`]; an event outside the comparison adds 0): each
    /// event's weight is `weight(t)` of its time t since entry, called once per analysed event in
    /// increasing t; `scratch` holds them. After [`Timeline::arrange`] only.
    pub fn accumulate_by_calendar(
        &self,
        mut weight: impl FnMut(Time) -> f64,
        scratch: &mut Vec<f64>,
        out: &mut Vec<f64>,
    ) {
        scratch.clear();
        scratch.extend(self.events.iter().map(|e| weight(f64::from_bits(e.key))));
        out.clear();
        let mut sum = 0.0;
        for &(_, k) in &self.by_calendar {
            sum += scratch.get(k as usize).copied().unwrap_or(0.0);
            out.push(sum);
        }
    }

    /// The risk table at calendar cut `cut` into `table`, and its events by group and cause
    /// (`group * causes + cause`) into `events_by_cause`. False, with both unspecified, at a cut
    /// the arrangement does not cover — one after `until`, or one at which a patient who may
    /// have an event counts as lost by rounding in cut − entry — where the caller observes the
    /// cohort.
    pub fn table(
        &self,
        cut: Time,
        table: &mut RiskTable,
        events_by_cause: &mut Vec<u32>,
        scratch: &mut CutScratch,
    ) -> bool {
        if cut >= self.irregular_from || cut > self.until {
            return false;
        }
        table.time.clear();
        table.at_risk.clear();
        table.events.clear();
        events_by_cause.clear();
        events_by_cause.resize(2 * self.causes, 0);
        let seen = &mut scratch.seen;
        // The patients entered by the cut (entry order is increasing entry); those still
        // followed are censored at cut − entry, which decreases along that order (rounding is
        // monotone), so the latest-entered leave the risk set first.
        let entered = self.entry.partition_point(|&e| e <= cut);
        // The events seen by the cut, in time order: likewise written always, kept when seen.
        seen.resize(self.events.len(), EventCandidate { key: 0, calendar: 0.0, cause: 0, group: 0 });
        let mut m = 0;
        for e in &self.events {
            seen[m] = *e;
            m += usize::from(e.calendar <= cut);
        }
        let seen = &seen[..m];
        let size = self.entered[entered];
        table.size = size;
        for e in seen {
            events_by_cause[usize::from(e.group) * self.causes + usize::from(e.cause)] += 1;
        }
        // Walk the events seen in time order, a row per distinct time; before each row, the
        // losses and censorings before its time leave the risk set (at a tie, events come
        // first: a record censored at t is at risk at t). The rows are written into tables as
        // long as the events (at most a row each), and the counts kept per group in locals
        // rather than indexed by group: both spare the loop a chain through memory.
        table.time.resize(m, 0.0);
        table.at_risk.resize(m, [0; 2]);
        table.events.resize(m, [0; 2]);
        let (times, risk, events) = (&mut table.time[..], &mut table.at_risk[..], &mut table.events[..]);
        let [mut at_risk0, mut at_risk1] = size;
        let (mut l, mut c) = (0, entered);
        let (mut i, mut rows) = (0, 0);
        while i < m {
            let t = seen[i].key;
            while l < self.losses.len() && self.losses[l].key < t {
                let loss = self.losses[l];
                let gone = u32::from(cut >= loss.lost_from);
                let g = u32::from(loss.group);
                at_risk1 -= gone & g;
                at_risk0 -= gone & (1 - g);
                l += 1;
            }
            // The entered patients censored before t, the latest-entered first; only those
            // still followed were at risk (a coin toss, so counted without a branch).
            while c > 0 && key(cut - self.entry[c - 1]) < t {
                let followed = u32::from(self.exit[c - 1] > cut);
                let g = u32::from(self.group[c - 1]);
                at_risk1 -= followed & g;
                at_risk0 -= followed & (1 - g);
                c -= 1;
            }
            // This row's events: the one at i, and any tied with it.
            let g = u32::from(seen[i].group);
            let (mut d0, mut d1) = (1 - g, g);
            i += 1;
            while i < m && seen[i].key == t {
                let g = u32::from(seen[i].group);
                d1 += g;
                d0 += 1 - g;
                i += 1;
            }
            times[rows] = f64::from_bits(t);
            risk[rows] = [at_risk0, at_risk1];
            events[rows] = [d0, d1];
            rows += 1;
            at_risk0 -= d0;
            at_risk1 -= d1;
        }
        table.time.truncate(rows);
        table.at_risk.truncate(rows);
        table.events.truncate(rows);
        // Each group's last record: the latest of its last event seen, its latest loss seen and
        // its earliest-entered censoring (keys order as the times).
        let latest = |k: Option<u64>, other: Option<u64>| match (k, other) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let last = [0u8, 1].map(|g| {
            let event = seen.iter().rev().find(|e| e.group == g).map(|e| e.key);
            let loss = self.losses.iter().rev().find(|x| x.group == g && cut >= x.lost_from);
            let censoring = (0..entered)
                .find(|&i| self.group[i] == g && self.exit[i] > cut)
                .map(|i| key(cut - self.entry[i]));
            latest(latest(event, loss.map(|x| x.key)), censoring)
        });
        table.last_time = last.map(|k| k.map_or(f64::NEG_INFINITY, f64::from_bits));
        true
    }
}

/// Scratch for [`Timeline::table`], reused across cuts.
#[derive(Debug, Default, Clone)]
pub struct CutScratch {
    /// The events seen by the cut, in time order.
    seen: Vec<EventCandidate>,
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
        let (mut by_cause, mut scratch) = (Vec::new(), CutScratch::default());
        let mut compared = 0;
        for group_of in [[Some(0), Some(1)], [Some(0), None]] {
            for r in 0..40 {
                c.generate(&sc, 7, r);
                for ep in &sc.endpoints {
                    // Arranged for cuts up to 12 (later cuts are refused), or for every cut.
                    let until = if r % 2 == 0 { 12.0 } else { f64::INFINITY };
                    timeline.arrange(&c, ep, &group_of, until);
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
                        if cut > until {
                            assert!(!timeline.table(cut, &mut b, &mut by_cause, &mut scratch));
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

    /// A patient's loss threshold is exactly the first cut at which `classify` counts it lost,
    /// including where entry + dropout rounds differently from cut − entry.
    #[test]
    fn lost_from_is_the_first_cut_counting_the_loss() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(26);
        let (mut moved, mut searched) = (0, 0);
        for k in 0..100_000 {
            let entry: f64 = if k % 2 == 0 { rng.random::<f64>() * 10.0 } else { 0.1 * f64::from(k % 97) };
            let dropout: f64 = rng.random::<f64>() * 30.0;
            let c = lost_from(entry, dropout);
            assert!(dropout < c - entry, "lost at its threshold ({entry}, {dropout})");
            assert!(dropout >= c.next_down() - entry, "not lost before it ({entry}, {dropout})");
            let start = entry + dropout;
            moved += usize::from(c != start);
            searched += usize::from(![start.next_down(), start, start.next_up()].contains(&c));
        }
        // Rounding moves the threshold off entry + dropout in a share of patients, and beyond
        // an ulp either side (past the first tries) in some: the search is exercised too.
        assert!(moved > 1000 && searched > 100, "{moved} moved, {searched} searched");
        assert_eq!(lost_from(1.0, f64::INFINITY), f64::INFINITY);
    }

    /// The case `irregular_from` guards against — a patient who may have an event (t ≤ dropout)
    /// counted lost at a cut before entry + t — does not arise in round-to-nearest arithmetic:
    /// fl(e + t) is within half its ulp of e + t, so its predecessor minus e is below t before
    /// rounding and at most t after, never above dropout ≥ t. The guard stays (one comparison
    /// per patient) because the records must equal `observe`'s whatever the arithmetic; this
    /// checks the argument at its edges: dropout equal to t, entries large and small.
    #[test]
    fn no_patient_is_lost_by_rounding_before_its_event() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(28);
        for k in 0..1_000_000u32 {
            let entry: f64 = rng.random::<f64>() * [1e-3, 1.0, 10.0, 1e3][(k % 4) as usize];
            let t: f64 = rng.random::<f64>() * [1e-6, 1.0, 30.0][(k % 3) as usize];
            let dropout = t;
            assert!(dropout >= (entry + t).next_down() - entry, "entry {entry}, t {t}");
        }
    }
}
