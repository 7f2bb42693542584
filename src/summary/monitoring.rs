//! The running summary of interim monitoring: per monitored test and look, how often a trial
//! stopped and why, when, with how many events; overall power, expected size and duration; and,
//! on the same trials, what monitoring changed against the fixed design. Counts and moments
//! merge exactly as the rest of the summary (byte-identical across threads).

use super::{Histogram, Moments};
use crate::monitoring::committee::Shown;
use crate::monitoring::{Ending, Monitor, SafetyRecord, TestRecord};
use crate::stats::decision::Decision;
use crate::stats::monitor::Stop;

/// One look of one monitored test.
#[derive(Debug, Clone, PartialEq)]
pub struct LookTally {
    /// Trials that took the look.
    pub taken: u64,
    /// Trials that skipped it (at or after the final cut, or no new information).
    pub skipped: u64,
    /// Stops at this look, by reason (the final look's efficacy is rejection).
    pub efficacy: u64,
    pub futility: u64,
    pub harm: u64,
    pub time: Moments,
    pub events: Moments,
    pub fraction: Moments,
    pub time_hist: Histogram,
    pub events_hist: Histogram,
    /// The conditional power of the trials that took this interim (with `[monitoring.committee]`
    /// or a conditional-power futility rule).
    pub cp: Option<CpTally>,
}

/// What the committee is shown at one interim look, over the trials that took it: per measure
/// (conditional power under the design's drift, the trend and the model, then the predictive
/// probability) its moments, its distribution on [0, 1] and how often it is below the
/// committee's threshold; how often the design's and the model's sides of the threshold
/// differ; and the predictive probability's effective sample sizes.
#[derive(Debug, Clone, PartialEq)]
pub struct CpTally {
    pub threshold: f64,
    pub values: [Moments; 4],
    pub hist: [Histogram; 4],
    pub below: [u64; 4],
    /// Below the threshold under the design's drift, not under the model: the constant drift
    /// says stop, the model says go on.
    pub design_only: u64,
    /// Below under the model, not under the design's drift.
    pub model_only: u64,
    pub ess: Moments,
    /// Trials whose effective sample size is below [`CpTally::FEW_DRAWS`].
    pub few_draws: u64,
}

/// Bins of the conditional-power histograms: quantiles to 0.001.
const CP_BINS: usize = 1000;

impl CpTally {
    /// An effective sample size below this is flagged: the predictive probability then rests
    /// on a handful of draws.
    pub const FEW_DRAWS: f64 = 50.0;

    fn new(threshold: f64) -> CpTally {
        CpTally {
            threshold,
            values: [Moments::default(); 4],
            hist: std::array::from_fn(|_| Histogram::new(0.0, 1.0, CP_BINS)),
            below: [0; 4],
            design_only: 0,
            model_only: 0,
            ess: Moments::default(),
            few_draws: 0,
        }
    }

    /// One trial's view; NaN measures are left out.
    fn push(&mut self, s: Shown) {
        for (d, &x) in s.cp.iter().enumerate() {
            if x.is_nan() {
                continue;
            }
            self.values[d].push(x);
            self.hist[d].push(x);
            self.below[d] += u64::from(x < self.threshold);
        }
        let [design, _, model, _] = s.cp;
        if !design.is_nan() && !model.is_nan() {
            let (d, m) = (design < self.threshold, model < self.threshold);
            self.design_only += u64::from(d && !m);
            self.model_only += u64::from(m && !d);
        }
        if !s.ess.is_nan() {
            self.ess.push(s.ess);
            self.few_draws += u64::from(s.ess < Self::FEW_DRAWS);
        }
    }

    fn merge(&mut self, o: &CpTally) {
        for d in 0..4 {
            self.values[d].merge(&o.values[d]);
            self.hist[d].merge(&o.hist[d]);
            self.below[d] += o.below[d];
        }
        self.design_only += o.design_only;
        self.model_only += o.model_only;
        self.ess.merge(&o.ess);
        self.few_draws += o.few_draws;
    }
}

/// One monitored test over all trials.
#[derive(Debug, Clone, PartialEq)]
pub struct TestMonitoring {
    /// The interims, then the final analysis.
    pub looks: Vec<LookTally>,
    pub rejected: u64,
    /// Trials the safety rule stopped before this design ended.
    pub safety: u64,
    /// Interims that reached the maximum information and became the final analysis.
    pub became_final: u64,
    pub duration: Moments,
    pub events: Moments,
    pub enrolled: Moments,
    /// The fixed design (no monitoring) rejects at `design.cut`.
    pub fixed_rejects: u64,
    /// Fixed rejects but the monitored design stopped for futility, harm, safety.
    pub lost: [u64; 3],
    /// Fixed rejects, the monitored design reached the final analysis and did not reject.
    pub final_bound_cost: u64,
    /// The monitored design rejects and the fixed one does not.
    pub gained: u64,
    /// The fixed design's duration (its final cut) and patients enrolled by it, on the same
    /// trials: what monitoring saves is these less `duration` and `enrolled`.
    pub fixed_duration: Moments,
    pub fixed_enrolled: Moments,
}

/// The safety rule over all trials.
#[derive(Debug, Clone, PartialEq)]
pub struct SafetyTally {
    pub stops: Vec<u64>,
    pub time: Vec<Moments>,
}

/// Interim monitoring over all trials.
#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringTally {
    /// Each monitored test's index into the analysis tests (its fixed decision).
    pub test_index: Vec<usize>,
    pub tests: Vec<TestMonitoring>,
    pub safety: Option<SafetyTally>,
}

const BINS: usize = 2000;

impl MonitoringTally {
    pub fn new(m: &Monitor) -> MonitoringTally {
        let n = m.n;
        let horizon = m.expected_final.filter(|t| t.is_finite() && *t > 0.0).map_or(100.0, |t| 3.0 * t);
        let look = || LookTally {
            taken: 0,
            skipped: 0,
            efficacy: 0,
            futility: 0,
            harm: 0,
            time: Moments::default(),
            events: Moments::default(),
            fraction: Moments::default(),
            time_hist: Histogram::new(0.0, horizon, BINS),
            events_hist: Histogram::new(0.0, n as f64, BINS),
            cp: None,
        };
        // Conditional power at the interims, when the committee asks or a rule uses it.
        let cp_threshold =
            |j: usize| m.tests[j].cp.as_ref().map(|_| m.committee.as_ref().map_or(0.1, |c| c.threshold));
        MonitoringTally {
            test_index: m.tests.iter().map(|t| t.test).collect(),
            tests: m
                .tests
                .iter()
                .enumerate()
                .map(|(j, _)| TestMonitoring {
                    looks: (0..=m.looks.len())
                        .map(|k| LookTally {
                            cp: cp_threshold(j).filter(|_| k < m.looks.len()).map(CpTally::new),
                            ..look()
                        })
                        .collect(),
                    rejected: 0,
                    safety: 0,
                    became_final: 0,
                    duration: Moments::default(),
                    events: Moments::default(),
                    enrolled: Moments::default(),
                    fixed_rejects: 0,
                    lost: [0; 3],
                    final_bound_cost: 0,
                    gained: 0,
                    fixed_duration: Moments::default(),
                    fixed_enrolled: Moments::default(),
                })
                .collect(),
            safety: m.safety.as_ref().map(|s| SafetyTally {
                stops: vec![0; s.after.len()],
                time: vec![Moments::default(); s.after.len()],
            }),
        }
    }

    /// One trial: its records per monitored test (in the monitor's order), the fixed design's
    /// decisions per analysis test, and the safety reviews.
    pub fn push(&mut self, records: &[TestRecord], decisions: &[Decision], safety: &SafetyRecord) {
        for ((t, r), &test) in self.tests.iter_mut().zip(records).zip(&self.test_index) {
            for (k, l) in t.looks.iter_mut().enumerate() {
                if r.time[k].is_finite() {
                    l.taken += 1;
                    l.time.push(r.time[k]);
                    l.events.push(r.events[k]);
                    l.fraction.push(r.fraction[k]);
                    l.time_hist.push(r.time[k]);
                    l.events_hist.push(r.events[k]);
                }
                if r.skipped.get(k).copied().unwrap_or(false) {
                    l.skipped += 1;
                }
                if let (Some(c), Some(&cp)) = (&mut l.cp, r.cp.get(k))
                    && r.time[k].is_finite()
                {
                    c.push(cp);
                }
            }
            let at = &mut t.looks[r.look];
            match r.ending {
                Some(Ending::Stopped(Stop::Efficacy)) => at.efficacy += 1,
                Some(Ending::Stopped(Stop::Futility)) => at.futility += 1,
                Some(Ending::Stopped(Stop::Harm)) => at.harm += 1,
                Some(Ending::Final) if r.rejected => at.efficacy += 1,
                Some(Ending::Safety) => t.safety += 1,
                _ => {}
            }
            t.rejected += u64::from(r.rejected);
            t.became_final += u64::from(r.became_final);
            t.duration.push(r.stop_time);
            t.events.push(r.stop_events);
            t.enrolled.push(r.enrolled);
            t.fixed_duration.push(r.fixed_time);
            t.fixed_enrolled.push(r.fixed_enrolled);
            let fixed = decisions.get(test) == Some(&Decision::Benefit);
            t.fixed_rejects += u64::from(fixed);
            if fixed && !r.rejected {
                match r.ending {
                    Some(Ending::Stopped(Stop::Futility)) => t.lost[0] += 1,
                    Some(Ending::Stopped(Stop::Harm)) => t.lost[1] += 1,
                    Some(Ending::Safety) => t.lost[2] += 1,
                    _ => t.final_bound_cost += 1,
                }
            }
            t.gained += u64::from(r.rejected && !fixed);
        }
        if let Some(s) = &mut self.safety {
            if let Some(k) = safety.stopped {
                s.stops[k] += 1;
            }
            for (mo, &time) in s.time.iter_mut().zip(&safety.time) {
                if time.is_finite() {
                    mo.push(time);
                }
            }
        }
    }

    pub fn merge(&mut self, o: &MonitoringTally) {
        for (a, b) in self.tests.iter_mut().zip(&o.tests) {
            for (x, y) in a.looks.iter_mut().zip(&b.looks) {
                x.taken += y.taken;
                x.skipped += y.skipped;
                x.efficacy += y.efficacy;
                x.futility += y.futility;
                x.harm += y.harm;
                x.time.merge(&y.time);
                x.events.merge(&y.events);
                x.fraction.merge(&y.fraction);
                x.time_hist.merge(&y.time_hist);
                x.events_hist.merge(&y.events_hist);
                if let (Some(a), Some(b)) = (&mut x.cp, &y.cp) {
                    a.merge(b);
                }
            }
            a.rejected += b.rejected;
            a.safety += b.safety;
            a.became_final += b.became_final;
            a.duration.merge(&b.duration);
            a.events.merge(&b.events);
            a.enrolled.merge(&b.enrolled);
            a.fixed_rejects += b.fixed_rejects;
            for (x, y) in a.lost.iter_mut().zip(&b.lost) {
                *x += y;
            }
            a.final_bound_cost += b.final_bound_cost;
            a.gained += b.gained;
            a.fixed_duration.merge(&b.fixed_duration);
            a.fixed_enrolled.merge(&b.fixed_enrolled);
        }
        if let (Some(a), Some(b)) = (&mut self.safety, &o.safety) {
            for (x, y) in a.stops.iter_mut().zip(&b.stops) {
                *x += y;
            }
            for (x, y) in a.time.iter_mut().zip(&b.time) {
                x.merge(y);
            }
        }
    }

    /// Empty again, keeping the allocations.
    pub(crate) fn reset(&mut self) {
        for t in &mut self.tests {
            for l in &mut t.looks {
                l.taken = 0;
                l.skipped = 0;
                l.efficacy = 0;
                l.futility = 0;
                l.harm = 0;
                l.time = Moments::default();
                l.events = Moments::default();
                l.fraction = Moments::default();
                l.time_hist.reset();
                l.events_hist.reset();
                if let Some(c) = &mut l.cp {
                    *c = CpTally::new(c.threshold);
                }
            }
            t.rejected = 0;
            t.safety = 0;
            t.became_final = 0;
            t.duration = Moments::default();
            t.events = Moments::default();
            t.enrolled = Moments::default();
            t.fixed_rejects = 0;
            t.lost = [0; 3];
            t.final_bound_cost = 0;
            t.gained = 0;
            t.fixed_duration = Moments::default();
            t.fixed_enrolled = Moments::default();
        }
        if let Some(s) = &mut self.safety {
            s.stops.fill(0);
            s.time.fill(Moments::default());
        }
    }
}
