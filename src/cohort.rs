//! One simulated trial's patients: entry (accrual), arm (permuted blocks), latent cause times,
//! dropout; and the data cut that turns them into analysable (time, event) records.
//!
//! Pinned design (DESIGN.md § Design):
//! - time 0 is the start of accrual; uniform accrual gives iid U(0, D) entry times, generated in
//!   increasing order as uniform order statistics from normalised exponential spacings
//!   (U₍ᵢ₎ = Sᵢ/Sₙ₊₁, Sᵢ = E₁ + … + Eᵢ; Devroye 1986, §V.3.1), so no sort is needed and
//!   patient i is the i-th to enter; piecewise accrual is a Poisson process with the given rates;
//! - allocation by permuted blocks in entry order;
//! - latent time of cause k: T = H_k⁻¹(E), E ~ Exp(1) (zero hazard: never);
//! - dropout: exponential from randomisation;
//! - the cut is a calendar time C; patients entering after C are not analysed; a patient's time is
//!   min(event, dropout, C − entry), and the event counts when it is at or before both.

use rand::RngExt;
use rand_distr::Exp1;

pub use crate::stats::risk_table::Obs;

use crate::accrual::inverse_accrual;
use crate::hazard::{Hazard, Years};
use crate::rng::{Purpose, stream};
use crate::scenario::{Accrual, CutRule, Endpoint, Scenario};

/// The generated patients of one replicate, in entry order. Buffers are reused across
/// replicates: generating allocates nothing once they have grown to size.
#[derive(Debug, Default, Clone)]
pub struct Cohort {
    pub entry: Vec<Years>,
    /// Index into `Scenario::arms`.
    pub arm: Vec<u16>,
    /// Time from randomisation to loss to follow-up (+∞ without dropout).
    pub dropout: Vec<Years>,
    /// Latent time of each cause, cause-major: `latent[k * n + i]`.
    pub latent: Vec<Years>,
    /// The Exp(1) draws behind `latent`, kept only for illness–death shifts.
    draws: Vec<f64>,
    slots: Vec<u16>,
    scratch: Vec<f64>,
}

/// Where one replicate was cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutPoint {
    /// Calendar time of the analysis.
    pub calendar: Years,
    /// False when an event-count cut was asked for and the K-th event never happened (the cut
    /// is then when the last patient leaves follow-up).
    pub target_reached: bool,
}

/// The latent time of a cause whose hazard is multiplied by `factor` from the trigger time `s` on
/// (DESIGN.md § Model): with the same Exp(1) draw e, the time is unchanged when H(t) = e is
/// reached by s (t ≤ s); otherwise it solves H(s) + factor·(H(T) − H(s)) = e, so
/// T = H⁻¹(H(s) + (e − H(s))/factor) (never, for factor 0).
pub fn after_trigger(h: &Hazard, e: f64, t: Years, s: Years, factor: f64) -> Years {
    if t <= s {
        return t;
    }
    if factor == 0.0 {
        return f64::INFINITY;
    }
    let hs = h.cumulative(s);
    h.inverse_cumulative(hs + (e - hs) / factor)
}

impl Cohort {
    pub fn n(&self) -> usize {
        self.entry.len()
    }

    /// Latent time of cause k for patient i.
    pub fn latent(&self, k: usize, i: usize) -> Years {
        self.latent[k * self.n() + i]
    }

    /// Generates replicate `replicate` of the scenario's trial into this buffer.
    pub fn generate(&mut self, sc: &Scenario, seed: u64, replicate: u64) {
        let n = sc.design.n;
        self.entries(&sc.design.accrual, n, seed, replicate);
        self.allocate(sc, seed, replicate);

        self.dropout.clear();
        if sc.arms.iter().all(|a| a.dropout == 0.0) {
            // Each purpose has its own stream, so skipping this one shifts no other draw.
            self.dropout.resize(n, f64::INFINITY);
        }
        let mut rng = stream(seed, replicate, Purpose::Dropout);
        for i in self.dropout.len()..n {
            // Always draw, so the stream stays aligned whatever the dropout rates.
            let e: f64 = rng.sample(Exp1);
            let rate = sc.arms[self.arm[i] as usize].dropout;
            self.dropout.push(if rate > 0.0 { e / rate } else { f64::INFINITY });
        }

        self.latent.clear();
        self.latent.resize(n * sc.causes.len(), f64::INFINITY);
        let illness_death = sc.arms.iter().any(|a| a.after.is_some());
        if illness_death {
            self.draws.clear();
            self.draws.resize(n * sc.causes.len(), 0.0);
        }
        for (k, cause) in sc.causes.iter().enumerate() {
            let mut rng = stream(seed, replicate, Purpose::cause(cause));
            for i in 0..n {
                let e: f64 = rng.sample(Exp1);
                if let Some(h) = &sc.arms[self.arm[i] as usize].causes[k] {
                    self.latent[k * n + i] = h.inverse_cumulative(e);
                }
                if illness_death {
                    self.draws[k * n + i] = e;
                }
            }
        }
        if illness_death {
            // A second pass, once every trigger's time is known (a cause may be a trigger in one
            // arm and modified in another). A trigger's own time is never shifted: it cannot
            // modify itself, and an arm has one trigger.
            for i in 0..n {
                let arm = &sc.arms[self.arm[i] as usize];
                let Some(after) = &arm.after else { continue };
                let s = self.latent[after.trigger * n + i];
                for (k, h) in arm.causes.iter().enumerate() {
                    if let Some(h) = h
                        && after.factor[k] != 1.0
                    {
                        let t = self.latent[k * n + i];
                        self.latent[k * n + i] =
                            after_trigger(h, self.draws[k * n + i], t, s, after.factor[k]);
                    }
                }
            }
        }
    }

    fn entries(&mut self, accrual: &Accrual, n: usize, seed: u64, replicate: u64) {
        let mut rng = stream(seed, replicate, Purpose::Entry);
        self.entry.clear();
        let mut s = 0.0;
        for _ in 0..n {
            let e: f64 = rng.sample(Exp1);
            s += e;
            self.entry.push(s);
        }
        match accrual {
            Accrual::Uniform { duration } => {
                let e: f64 = rng.sample(Exp1);
                let scale = duration / (s + e);
                for x in &mut self.entry {
                    *x *= scale;
                }
            }
            Accrual::Piecewise { breaks, rates } => {
                // Arrival i of a Poisson process with intensity rate(t) is Λ⁻¹(Sᵢ).
                for x in &mut self.entry {
                    *x = inverse_accrual(breaks, rates, *x);
                }
            }
        }
    }

    fn allocate(&mut self, sc: &Scenario, seed: u64, replicate: u64) {
        let bs = sc.design.block_size;
        let alloc_sum: usize = sc.arms.iter().map(|a| a.allocation).sum();
        let copies = bs / alloc_sum;
        let mut rng = stream(seed, replicate, Purpose::Allocation);
        self.arm.clear();
        let n = sc.design.n;
        while self.arm.len() < n {
            self.slots.clear();
            for (i, a) in sc.arms.iter().enumerate() {
                for _ in 0..a.allocation * copies {
                    self.slots.push(i as u16);
                }
            }
            // Fisher–Yates: a uniformly random permutation of the block.
            for j in (1..self.slots.len()).rev() {
                let k = rng.random_range(0..=j);
                self.slots.swap(j, k);
            }
            let take = (n - self.arm.len()).min(bs);
            self.arm.extend_from_slice(&self.slots[..take]);
        }
    }

    /// Time from randomisation to the first cause of `ep` for patient i, and that cause.
    pub fn endpoint_time(&self, ep: &Endpoint, i: usize) -> (Years, u16) {
        let mut best = (f64::INFINITY, ep.causes.first().copied().unwrap_or(0) as u16);
        for &k in &ep.causes {
            let t = self.latent(k, i);
            if t < best.0 {
                best = (t, k as u16);
            }
        }
        best
    }

    /// The calendar time of the analysis for this replicate (DESIGN.md § Design).
    pub fn cut(&mut self, sc: &Scenario) -> CutPoint {
        let rule = &sc.design.cut;
        let ep = sc.primary();
        let mut times: [Option<Years>; 3] = [rule.calendar, None, None];
        let mut target_reached = true;
        if let Some(m) = rule.min_followup {
            let last = self.entry.last().copied().unwrap_or(0.0);
            times[1] = Some(last + m);
        }
        if let Some(k) = rule.events {
            // Calendar times of observable events (finite, before dropout), then the K-th
            // smallest. A latent time of +∞ (a bounded hazard) is never an event, even with no
            // dropout (∞ ≤ ∞).
            self.scratch.clear();
            let mut leave = f64::NEG_INFINITY;
            for i in 0..self.n() {
                let (t, _) = self.endpoint_time(ep, i);
                let d = self.dropout[i];
                if t.is_finite() && t <= d {
                    self.scratch.push(self.entry[i] + t);
                }
                let out = self.entry[i] + t.min(d);
                if out.is_finite() {
                    leave = leave.max(out);
                }
            }
            times[2] = if self.scratch.len() >= k {
                let (_, kth, _) = self.scratch.select_nth_unstable_by(k - 1, |a, b| a.total_cmp(b));
                Some(*kth)
            } else {
                target_reached = false;
                // Never K events: the cut is when the last patient leaves follow-up; if nobody
                // ever leaves (no hazard, no dropout), at the last entry.
                Some(if leave.is_finite() { leave } else { self.entry.last().copied().unwrap_or(0.0) })
            };
        }
        let given = times.iter().flatten().copied();
        let calendar = match rule.rule {
            CutRule::First => given.fold(f64::INFINITY, f64::min),
            CutRule::Last => given.fold(f64::NEG_INFINITY, f64::max),
        };
        CutPoint { calendar, target_reached }
    }

    /// Patient i's (time, event, cause) for endpoint `ep` at calendar cut `cut` (entry ≤ cut).
    /// The event counts when it is finite, happens before dropout and at or before the cut *on
    /// the calendar scale* (entry + t ≤ cut): the same expression that placed an event-count cut,
    /// so the K-th event is never lost to rounding in cut − entry.
    pub fn status(&self, ep: &Endpoint, i: usize, cut: Years) -> (Years, bool, u16) {
        let entry = self.entry[i];
        let (t, cause) = self.endpoint_time(ep, i);
        let dropout = self.dropout[i];
        if t.is_finite() && t <= dropout && entry + t <= cut {
            (t, true, cause)
        } else {
            (dropout.min(cut - entry), false, cause)
        }
    }

    /// The analysable records of endpoint `ep` at calendar cut `cut`, for the patients of the
    /// arms that `group_of` maps to a group (0 control, 1 experimental). Appends to `out`.
    pub fn observe(&self, ep: &Endpoint, cut: Years, group_of: &[Option<u8>], out: &mut Vec<Obs>) {
        out.clear();
        for i in 0..self.n() {
            let entry = self.entry[i];
            if entry > cut {
                break; // entry order: everyone after also entered after the cut
            }
            let Some(group) = group_of[self.arm[i] as usize] else {
                continue;
            };
            let (time, event, cause) = self.status(ep, i, cut);
            out.push(Obs { time, event, group, cause });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use std::path::Path;

    fn scenario(extra_cut: &str, accrual: &str) -> Scenario {
        let text = format!(
            r#"
name = "t"
[design]
n = 40
control = "c"
allocation = {{ c = 1, e = 2 }}
block_size = 6
accrual = {accrual}
[design.cut]
{extra_cut}
[arms.c.causes]
death = {{ exponential = 0.2 }}
[arms.e.causes]
death = {{ exponential = 0.1 }}
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
"#
        );
        Scenario::from_toml(&text, Path::new("t.toml")).expect("valid test scenario")
    }

    #[test]
    fn blocks_are_balanced_and_entries_ordered() {
        let sc = scenario("calendar = 5", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 1, 0);
        assert_eq!(c.n(), 40);
        assert!(c.entry.windows(2).all(|w| w[0] <= w[1]));
        assert!(c.entry.iter().all(|&e| (0.0..2.0).contains(&e)));
        for block in c.arm.chunks(6).filter(|b| b.len() == 6) {
            assert_eq!(block.iter().filter(|&&a| a == 1).count(), 4, "{block:?}");
        }
    }

    #[test]
    fn adding_patients_keeps_the_first_patients_draws() {
        let sc = scenario("calendar = 5", "{ breaks = [1], rates = [10, 30] }");
        let mut bigger = sc.clone();
        bigger.design.n = 60;
        let (mut a, mut b) = (Cohort::default(), Cohort::default());
        a.generate(&sc, 3, 9);
        b.generate(&bigger, 3, 9);
        assert_eq!(&b.entry[..40], &a.entry[..]);
        assert_eq!(&b.arm[..36], &a.arm[..36]); // whole blocks
        assert_eq!(&b.dropout[..40], &a.dropout[..]);
        assert_eq!(b.latent(0, 17), a.latent(0, 17));
    }

    #[test]
    fn event_cut_includes_the_kth_event() {
        let sc = scenario("events = 10", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 5, 2);
        let cut = c.cut(&sc);
        assert!(cut.target_reached);
        let mut obs = Vec::new();
        c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
        assert_eq!(obs.iter().filter(|o| o.event).count(), 10);
    }

    #[test]
    fn an_event_count_cut_keeps_exactly_k_events() {
        // Rounding in cut − entry once censored the K-th event in about 1 replicate in 6.
        let sc = scenario("events = 25", "{ duration = 2 }");
        let mut c = Cohort::default();
        let mut obs = Vec::new();
        for r in 0..500 {
            c.generate(&sc, 11, r);
            let cut = c.cut(&sc);
            assert!(cut.target_reached);
            c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
            assert_eq!(obs.iter().filter(|o| o.event).count(), 25, "replicate {r}");
        }
    }

    /// A bounded hazard and no dropout: most patients never have an event (latent time +∞).
    /// Fewer than K events are possible, so the cut is where the last patient leaves follow-up;
    /// only finite times are events (issue: +∞ once counted as an event at the cut +∞).
    #[test]
    fn an_unreachable_event_count_never_counts_events_at_infinity() {
        let text = r#"
name = "t"
[design]
n = 150
control = "c"
allocation = { c = 1, e = 1 }
block_size = 2
accrual = { duration = 2 }
[design.cut]
events = 100
[arms.c.causes]
death = { piecewise = { breaks = [2], rates = [0.3, 0] } }
[arms.e.causes]
death = { relative = { to = "c", hr = 0.7 } }
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
"#;
        let sc = Scenario::from_toml(text, Path::new("t.toml")).expect("valid");
        let mut c = Cohort::default();
        let mut obs = Vec::new();
        for r in 0..50 {
            c.generate(&sc, 3, r);
            let cut = c.cut(&sc);
            let possible = (0..c.n()).filter(|&i| c.endpoint_time(sc.primary(), i).0.is_finite()).count();
            assert!(possible < 100, "replicate {r}: {possible} finite events");
            assert!(!cut.target_reached, "replicate {r}");
            assert!(cut.calendar.is_finite(), "replicate {r}: cut {}", cut.calendar);
            c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
            assert!(obs.iter().all(|o| o.time.is_finite()), "replicate {r}: an infinite time");
            assert_eq!(obs.iter().filter(|o| o.event).count(), possible, "replicate {r}");
        }
    }

    #[test]
    fn first_and_last_rules() {
        let sc = scenario("calendar = 3\nmin_followup = 0.5", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 1, 1);
        let last = *c.entry.last().unwrap();
        assert_eq!(c.cut(&sc).calendar, (last + 0.5).min(3.0));
        let mut sc2 = sc.clone();
        sc2.design.cut.rule = CutRule::Last;
        assert_eq!(c.cut(&sc2).calendar, 3.0);
    }

    /// Checks that the fraction of `patients` (all of `arm`) without a primary event by t is within
    /// 4 binomial SE of the true S(t); returns S(t) and that SE.
    fn survival_within_4_se(c: &Cohort, sc: &Scenario, arm: usize, patients: &[usize], t: f64) -> (f64, f64) {
        let ep = sc.primary();
        let truth = crate::truth::survival(&sc.arms[arm], ep, t);
        let n = patients.len() as f64;
        let alive = patients.iter().filter(|&&i| c.endpoint_time(ep, i).0 > t).count() as f64 / n;
        let se = (truth * (1.0 - truth) / n).sqrt();
        assert!((alive - truth).abs() < 4.0 * se, "t = {t}: {alive} vs {truth} (SE {se})");
        (truth, se)
    }

    #[test]
    fn illness_death_deaths_follow_the_true_survival() {
        let text = r#"
name = "id"
[design]
n = 20000
allocation = { e = 1 }
accrual = { duration = 1 }
[design.cut]
calendar = 100
[arms.e.causes]
death = { exponential = 0.1 }
progression = { weibull = { shape = 1.5, scale = 3 } }
[arms.e.after.progression]
death = 3.0
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = []
"#;
        let sc = Scenario::from_toml(text, Path::new("id.toml")).expect("valid");
        let mut c = Cohort::default();
        c.generate(&sc, 7, 0);
        let everyone: Vec<usize> = (0..c.n()).collect();
        for t in [1.0, 3.0, 6.0] {
            let (truth, se) = survival_within_4_se(&c, &sc, 0, &everyone, t);
            // Without the transition the survival would be exp(−0.1 t): clearly different once
            // progression is common.
            if t > 2.0 {
                assert!(((-0.1 * t).exp() - truth).abs() > 8.0 * se, "t = {t}");
            }
        }
    }

    #[test]
    fn a_cause_can_trigger_in_one_arm_and_be_modified_in_another() {
        // `death` (cause 0) triggers in arm a; in arm b it is modified by `prog` (cause 1). Arm b's
        // survival must follow the illness–death truth whatever the order causes are drawn in.
        let text = r#"
name = "cross"
[design]
n = 20000
control = "a"
allocation = { a = 1, b = 1 }
accrual = { duration = 1 }
[design.cut]
calendar = 100
[arms.a.causes]
death = { exponential = 0.1 }
prog = { exponential = 0.3 }
[arms.a.after.death]
prog = 2.0
[arms.b.causes]
death = { exponential = 0.1 }
prog = { exponential = 0.3 }
[arms.b.after.prog]
death = 4.0
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = []
"#;
        let sc = Scenario::from_toml(text, Path::new("cross.toml")).expect("valid");
        let mut c = Cohort::default();
        c.generate(&sc, 3, 0);
        let b: Vec<usize> = (0..c.n()).filter(|&i| c.arm[i] == 1).collect();
        for t in [2.0, 5.0] {
            survival_within_4_se(&c, &sc, 1, &b, t);
        }
    }
}
