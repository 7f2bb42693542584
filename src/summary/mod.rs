//! Streaming reduction of replicates: counts, Welford moments and fixed-bin histograms, all of
//! fixed size, so memory does not grow with the number of replicates. Chunks of replicates are
//! reduced separately and merged in chunk order: integer counts are exact, and the float parts
//! (Chan et al. 1979 pairwise moment merge) see the same operations in the same order for any
//! thread count, so the output is byte-identical.

mod monitoring;

pub use monitoring::{CpTally, LookTally, MonitoringTally, SafetyTally, TestMonitoring};

use crate::analysis::{Layout, Row};
use crate::engine::Reduce;

/// Count, mean and sum of squared deviations (Welford 1962; merged as Chan, Golub & LeVeque 1979).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
}

impl Moments {
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        let n = self.n + o.n;
        let d = o.mean - self.mean;
        self.mean += d * o.n as f64 / n as f64;
        self.m2 += o.m2 + d * d * (self.n as f64 * o.n as f64 / n as f64);
        self.n = n;
    }

    /// Sample standard deviation (n − 1 denominator); NaN below two values.
    pub fn sd(&self) -> f64 {
        if self.n < 2 { f64::NAN } else { (self.m2 / (self.n - 1) as f64).sqrt() }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 { f64::NAN } else { self.mean }
    }
}

/// Counts in equal bins on [lo, hi]; values outside are counted at the ends. Quantiles are
/// interpolated linearly within a bin, so they are accurate to the bin width (hi − lo)/bins,
/// and never outside the smallest and largest value seen.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub lo: f64,
    pub hi: f64,
    pub counts: Vec<u64>,
    pub below: u64,
    pub above: u64,
    /// The smallest and largest value pushed (+∞ and −∞ when empty).
    pub min: f64,
    pub max: f64,
}

impl Histogram {
    pub fn new(lo: f64, hi: f64, bins: usize) -> Histogram {
        assert!(hi > lo && bins > 0, "a histogram needs a range and bins");
        Histogram {
            lo,
            hi,
            counts: vec![0; bins],
            below: 0,
            above: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }

    pub fn push(&mut self, x: f64) {
        self.min = self.min.min(x);
        self.max = self.max.max(x);
        if x < self.lo {
            self.below += 1;
        } else if x > self.hi {
            self.above += 1;
        } else {
            let b = self.counts.len();
            let i = (((x - self.lo) / (self.hi - self.lo)) * b as f64) as usize;
            self.counts[i.min(b - 1)] += 1;
        }
    }

    /// Empty again, keeping the bins' allocation.
    pub(crate) fn reset(&mut self) {
        self.counts.fill(0);
        self.below = 0;
        self.above = 0;
        self.min = f64::INFINITY;
        self.max = f64::NEG_INFINITY;
    }

    pub fn merge(&mut self, o: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
        self.below += o.below;
        self.above += o.above;
        self.min = self.min.min(o.min);
        self.max = self.max.max(o.max);
    }

    pub fn total(&self) -> u64 {
        self.below + self.above + self.counts.iter().sum::<u64>()
    }

    /// The p-quantile (NaN when empty), within the smallest and largest value seen: when every
    /// replicate gives 0, the 95% range is 0–0, not a bin's interpolated width.
    pub fn quantile(&self, p: f64) -> f64 {
        if self.total() == 0 {
            return f64::NAN;
        }
        self.binned_quantile(p).clamp(self.min, self.max)
    }

    /// The quantile interpolated in the bins; values outside [lo, hi] clamp it to the ends.
    fn binned_quantile(&self, p: f64) -> f64 {
        let total = self.total();
        let target = p * total as f64;
        let mut acc = self.below as f64;
        if target <= acc && self.below > 0 {
            return self.lo;
        }
        let width = (self.hi - self.lo) / self.counts.len() as f64;
        for (i, &c) in self.counts.iter().enumerate() {
            let c = c as f64;
            if c > 0.0 && acc + c >= target {
                let frac = ((target - acc) / c).clamp(0.0, 1.0);
                return self.lo + width * (i as f64 + frac);
            }
            acc += c;
        }
        self.hi
    }
}

/// One estimate's running summary: moments and histogram of its finite values, and how often it
/// was not estimable (NaN).
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    pub moments: Moments,
    pub hist: Histogram,
    pub nan: u64,
}

impl Tally {
    pub fn new(lo: f64, hi: f64) -> Tally {
        Tally { moments: Moments::default(), hist: Histogram::new(lo, hi, 2000), nan: 0 }
    }

    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            self.nan += 1;
        } else {
            self.moments.push(x);
            self.hist.push(x);
        }
    }

    pub(crate) fn reset(&mut self) {
        self.moments = Moments::default();
        self.hist.reset();
        self.nan = 0;
    }

    pub fn merge(&mut self, o: &Tally) {
        self.moments.merge(&o.moments);
        self.hist.merge(&o.hist);
        self.nan += o.nan;
    }
}

/// Per-test decision counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TestTally {
    pub benefit: u64,
    pub harm: u64,
    pub not_estimable: u64,
}

/// The whole simulation's running summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub replicates: u64,
    pub tests: Vec<TestTally>,
    pub estimates: Vec<Tally>,
    /// Per group and band-grid time: the distribution of Kaplan–Meier values.
    pub band: Vec<Histogram>,
    pub crossings: u64,
    pub early_harm: u64,
    pub late_benefit: u64,
    /// What the trial detects, by tests: [neither, early harm only, late benefit only, both].
    pub detects: [u64; 4],
    /// The first test's decision (benefit) × observed crossing:
    /// [no rejection & no crossing, rejection only, crossing only, both].
    pub primary_by_crossing: [u64; 4],
    /// Events of the primary endpoint, indexed `group * n_causes + cause`.
    pub events_by_cause: Vec<u64>,
    pub events: [u64; 2],
    pub target_not_reached: u64,
    /// Interim monitoring (`[monitoring]`).
    pub monitoring: Option<MonitoringTally>,
}

/// Bins of the Kaplan–Meier band histograms on [0, 1]: quantiles to 0.0025.
const BAND_BINS: usize = 400;

impl Reduce for Summary {
    fn empty(layout: &Layout) -> Summary {
        Summary::new(layout)
    }

    fn push(&mut self, row: &Row) {
        Summary::push(self, row);
    }

    fn merge(&mut self, other: &Summary) {
        Summary::merge(self, other);
    }

    fn reset(&mut self) {
        // Destructured, so that a new field cannot be forgotten here.
        let Summary {
            replicates,
            tests,
            estimates,
            band,
            crossings,
            early_harm,
            late_benefit,
            detects,
            primary_by_crossing,
            events_by_cause,
            events,
            target_not_reached,
            monitoring,
        } = self;
        *replicates = 0;
        tests.fill(TestTally::default());
        estimates.iter_mut().for_each(Tally::reset);
        band.clear();
        *crossings = 0;
        *early_harm = 0;
        *late_benefit = 0;
        *detects = [0; 4];
        *primary_by_crossing = [0; 4];
        events_by_cause.fill(0);
        *events = [0; 2];
        *target_not_reached = 0;
        if let Some(m) = monitoring {
            m.reset();
        }
    }
}

impl Summary {
    pub fn new(layout: &Layout) -> Summary {
        Summary {
            replicates: 0,
            tests: vec![TestTally::default(); layout.tests.len()],
            estimates: layout.estimates.iter().map(|e| Tally::new(e.lo, e.hi)).collect(),
            // Allocated by the first replicate that collects the band (engine::BAND_REPLICATES):
            // most chunks of a long run have none, and would only allocate and merge zeros.
            band: Vec::new(),
            crossings: 0,
            early_harm: 0,
            late_benefit: 0,
            detects: [0; 4],
            primary_by_crossing: [0; 4],
            events_by_cause: vec![0; 2 * layout.n_causes],
            events: [0, 0],
            target_not_reached: 0,
            monitoring: layout.monitor.as_ref().map(MonitoringTally::new),
        }
    }

    pub fn push(&mut self, row: &Row) {
        use crate::stats::decision::Decision;
        self.replicates += 1;
        for (t, d) in self.tests.iter_mut().zip(&row.decisions) {
            match d {
                Decision::Benefit => t.benefit += 1,
                Decision::Harm => t.harm += 1,
                Decision::NotEstimable => t.not_estimable += 1,
                Decision::None => {}
            }
        }
        for (t, &x) in self.estimates.iter_mut().zip(&row.estimates) {
            t.push(x);
        }
        if self.band.len() < row.band.len() {
            self.band = vec![Histogram::new(0.0, 1.0, BAND_BINS); row.band.len()];
        }
        for (h, &x) in self.band.iter_mut().zip(&row.band) {
            if !x.is_nan() {
                h.push(x);
            }
        }
        self.crossings += u64::from(!row.crossing.is_nan());
        self.early_harm += u64::from(row.early_harm);
        self.late_benefit += u64::from(row.late_benefit);
        self.detects[usize::from(row.detects[0]) + 2 * usize::from(row.detects[1])] += 1;
        let reject = row.decisions.first() == Some(&Decision::Benefit);
        self.primary_by_crossing[usize::from(reject) + 2 * usize::from(!row.crossing.is_nan())] += 1;
        for (a, &b) in self.events_by_cause.iter_mut().zip(&row.events_by_cause) {
            *a += u64::from(b);
        }
        self.events[0] += u64::from(row.events[0]);
        self.events[1] += u64::from(row.events[1]);
        self.target_not_reached += u64::from(!row.target_reached);
        if let Some(m) = &mut self.monitoring {
            m.push(&row.monitoring, &row.decisions, &row.safety);
        }
    }

    pub fn merge(&mut self, o: &Summary) {
        self.replicates += o.replicates;
        for (a, b) in self.tests.iter_mut().zip(&o.tests) {
            a.benefit += b.benefit;
            a.harm += b.harm;
            a.not_estimable += b.not_estimable;
        }
        for (a, b) in self.estimates.iter_mut().zip(&o.estimates) {
            a.merge(b);
        }
        if self.band.is_empty() {
            self.band.clone_from(&o.band);
        } else {
            for (a, b) in self.band.iter_mut().zip(&o.band) {
                a.merge(b);
            }
        }
        self.crossings += o.crossings;
        self.early_harm += o.early_harm;
        self.late_benefit += o.late_benefit;
        for i in 0..4 {
            self.detects[i] += o.detects[i];
            self.primary_by_crossing[i] += o.primary_by_crossing[i];
        }
        for (a, b) in self.events_by_cause.iter_mut().zip(&o.events_by_cause) {
            *a += b;
        }
        self.events[0] += o.events[0];
        self.events[1] += o.events[1];
        self.target_not_reached += o.target_not_reached;
        if let (Some(a), Some(b)) = (&mut self.monitoring, &o.monitoring) {
            a.merge(b);
        }
    }
}

/// A proportion k/n with its Monte Carlo standard error √(p(1−p)/n) and the Wilson score 95%
/// interval (Wilson 1927), which stays inside [0, 1] and behaves at p near 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Proportion {
    pub estimate: f64,
    pub se: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Proportion {
    pub fn new(k: u64, n: u64) -> Proportion {
        if n == 0 {
            return Proportion { estimate: f64::NAN, se: f64::NAN, lower: f64::NAN, upper: f64::NAN };
        }
        let nf = n as f64;
        let p = k as f64 / nf;
        let z = crate::stats::normal::Z_975;
        let z2 = z * z;
        let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
        let half = z / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
        // Exactly 0 at k = 0 and 1 at k = n, where rounding once printed −0.0; clamped to [0, 1].
        Proportion {
            estimate: p,
            se: (p * (1.0 - p) / nf).sqrt(),
            lower: if k == 0 { 0.0 } else { (centre - half).clamp(0.0, 1.0) },
            upper: if k == n { 1.0 } else { (centre + half).clamp(0.0, 1.0) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_bounds_stay_in_the_unit_interval_without_negative_zero() {
        for n in [1, 7, 1000, 1_000_000] {
            let (zero, all) = (Proportion::new(0, n), Proportion::new(n, n));
            assert!(zero.lower == 0.0 && zero.lower.is_sign_positive(), "{n}: {}", zero.lower);
            assert!(all.upper == 1.0 && all.lower < 1.0, "{n}");
            assert!(zero.upper > 0.0 && zero.upper <= 1.0);
        }
    }

    #[test]
    fn quantiles_stay_within_the_values_seen() {
        let mut h = Histogram::new(0.0, 1.0, 100);
        (0..500).for_each(|_| h.push(0.0));
        assert_eq!((h.quantile(0.025), h.quantile(0.975)), (0.0, 0.0));
        let mut all_one = Histogram::new(0.0, 1.0, 100);
        (0..500).for_each(|_| all_one.push(1.0));
        assert_eq!((all_one.quantile(0.025), all_one.quantile(0.975)), (1.0, 1.0));
        // Merging keeps the extremes.
        h.merge(&all_one);
        assert_eq!((h.min, h.max), (0.0, 1.0));
    }

    #[test]
    fn merged_moments_equal_one_pass() {
        let xs: Vec<f64> = (0..100).map(|i| ((i * 37) % 11) as f64 * 0.3 - 1.0).collect();
        let mut all = Moments::default();
        xs.iter().for_each(|&x| all.push(x));
        let (mut a, mut b) = (Moments::default(), Moments::default());
        xs[..37].iter().for_each(|&x| a.push(x));
        xs[37..].iter().for_each(|&x| b.push(x));
        a.merge(&b);
        assert_eq!(a.n, all.n);
        assert!((a.mean - all.mean).abs() < 1e-14);
        assert!((a.sd() - all.sd()).abs() < 1e-14);
    }

    #[test]
    fn histogram_quantiles_within_a_bin() {
        let mut h = Histogram::new(0.0, 1.0, 100);
        for i in 0..1000 {
            h.push((i as f64 + 0.5) / 1000.0);
        }
        for &p in &[0.025, 0.5, 0.975] {
            assert!((h.quantile(p) - p).abs() <= 0.01, "{p}: {}", h.quantile(p));
        }
        assert!(Histogram::new(0.0, 1.0, 10).quantile(0.5).is_nan());
    }

    #[test]
    fn wilson_interval_contains_estimate() {
        let p = Proportion::new(25, 1000);
        assert!(p.lower < 0.025 && 0.025 < p.upper);
        assert!((p.se - (0.025f64 * 0.975 / 1000.0).sqrt()).abs() < 1e-15);
        let z = Proportion::new(0, 50);
        assert_eq!(z.estimate, 0.0);
        assert!(z.lower.abs() < 1e-15 && z.upper > 0.0);
    }
}
