//! The monitored designs of a scenario, fixed before any trial: per monitored test its maximum
//! information, the looks' planned fractions and calendar times, the spending times, the drift
//! of β-spending futility, and the bounds as planned.
//!
//! Information: events for the log-rank and Cox tests; the observed null variance V_k for
//! FH(ρ, γ) (between-look correlation √(V_j/V_k), asymptotically independent increments under
//! H0, Tsiatis 1982). I_max is the final cut's event count when it is event-driven, otherwise
//! the expected events (FH: the expected null variance) at the expected final cut under the
//! model; it is fixed per design, so the identical-arms copy reuses the experimental design's.

use rayon::prelude::*;

use crate::scenario::{
    Alternative, Committee, Cut, FutilityBound, FutilityRule, Look, Monitoring, Safety, Scenario,
    SpendingTime, TestKind,
};
use crate::stats::monitor::{BoundsCache, Plan};
use crate::stats::sequential::{
    Boundaries, Design, Futility, MIN_SPACING, boundaries_spent_at, boundaries_with_drifts,
    design_drift_spent_at, drift_for_power,
};
use crate::test_statistic::{Information, Weighting};
use crate::time::Time;
use crate::truth::{expected_cut, expected_events, expected_null_variance, expected_z, reachable_end};

/// One monitored test's design, fixed per scenario.
#[derive(Debug, Clone)]
pub struct MonitoredTest {
    /// Index into `analysis.tests` (and the layout's tests).
    pub test: usize,
    pub name: String,
    pub kind: TestKind,
    /// What the test's information is (validation admits only tests that have one).
    pub information: Information,
    pub plan: Plan,
    /// Futility by observed hazard ratio (log-rank or Cox, allocation share r of the
    /// experimental arm): b ≤ −ln(hr_k)·√(d_k·r(1−r)), Schoenfeld's z for that HR (d_k/4 at 1:1).
    pub hr_futility: Option<Vec<f64>>,
    /// r(1 − r), the experimental arm's allocation share r.
    pub allocation_variance: f64,
    /// The maximum information: events, or FH's null variance.
    pub i_max: f64,
    /// Whether I_max is the final cut's event target (then the final look's fraction is 1 when
    /// the target is reached).
    pub event_driven: bool,
    /// The design as planned: fractions of the interims and the final analysis (1), the
    /// interims' expected calendar times, and the bounds there.
    pub planned_fractions: Vec<f64>,
    pub planned_times: Vec<Time>,
    pub planned: Boundaries,
    /// The harm bound (z scale) of each interim as planned, +∞ where there is none.
    pub planned_harm: Vec<f64>,
    /// What conditional power needs, when the committee's report or a futility rule asks for it.
    pub cp: Option<CpInputs>,
}

/// The drifts of conditional power ([`crate::stats::conditional_power`]) for one monitored
/// test, fixed per design from the scenario as written (so the identical-arms and never-better
/// copies, which share the design, use the same).
#[derive(Debug, Clone)]
pub struct CpInputs {
    /// The design's drift θ: rpact's β-spending drift when futility spends β, otherwise the
    /// drift at which the efficacy bounds alone have power 1 − β (`[monitoring.committee]`'s β).
    pub design_drift: f64,
    /// The model's expected benefit statistic on the B scale, E[B(t_k)] = E[Z_k]·√t_k, at each
    /// planned look (the interims at their expected times, the final at the expected final cut):
    /// the path that replaces θ t under crossing hazards.
    pub model_path: Vec<f64>,
    /// The planned looks' calendar times (the final at the expected final cut) and the
    /// weighting whose expected z gives the path: what a prior draw's path is computed at.
    pub times: Vec<Time>,
    pub weighting: Weighting,
    /// The prior draws' paths, as `model_path` under each draw's scenario at the same planned
    /// looks, for the predictive probability ([`Monitor::set_prior`]); empty without a prior.
    pub prior: Vec<Vec<f64>>,
}

/// The monitored designs of a scenario, its looks and its safety rule.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub tests: Vec<MonitoredTest>,
    pub looks: Vec<Look>,
    pub safety: Option<Safety>,
    /// The futility rule (a conditional-power rule is applied by the trial, not the bounds).
    pub futility: Option<FutilityRule>,
    /// `[monitoring.committee]`: conditional power reported at every interim look, and both
    /// sides of every rule.
    pub committee: Option<Committee>,
    /// The expected calendar time of the final cut (for planned look times).
    pub expected_final: Option<Time>,
    /// The expected calendar time of each interim look under the model (NaN where unknown).
    pub planned_times: Vec<Time>,
    /// Patients in the design.
    pub n: usize,
    /// With calendar spending time, the final analysis's calendar time: α and β are spent at
    /// each look's calendar time over it.
    pub calendar_spending: Option<Time>,
    /// Whether a look is searched for over a trial's event times (a null-variance test's
    /// information fraction): such a trial is analysed at several cuts per look.
    pub searches_looks: bool,
}

/// What every monitored test's design is computed from.
struct Plans<'a> {
    sc: &'a Scenario,
    m: &'a Monitoring,
    /// The expected final cut, or where none is expected, when the model expects no more events.
    final_time: Time,
    /// The final cut's event target when it alone sets the cut.
    final_events: Option<usize>,
    /// Each interim look's expected calendar time when it is a cut (NaN for a fraction).
    cut_times: &'a [Time],
    calendar_spending: Option<Time>,
    allocation_variance: f64,
}

impl Monitor {
    /// The monitored designs of `sc` (`None` without `[monitoring]`).
    pub fn new(sc: &Scenario) -> Option<Monitor> {
        let m = sc.monitoring.as_ref()?;
        let expected_final = expected_cut(sc);
        let total: usize = sc.allocated_arms().map(|(_, a)| a.allocation).sum();
        let share = sc.experimental().map_or(0.5, |a| a.allocation as f64 / total.max(1) as f64);
        // The expected calendar time of an interim cut: its criteria as `expected_cut` combines
        // them for the final one.
        let planned_times: Vec<Time> = m
            .looks
            .iter()
            .map(|l| match l {
                Look::Cut(c) => expected_cut_of(sc, c).unwrap_or(f64::NAN),
                Look::Fraction(_) => f64::NAN,
            })
            .collect();
        let c = &sc.design.cut;
        let plans = Plans {
            sc,
            m,
            // Where the final cut has no expected time (an event target the model never
            // reaches), the maximum information is what is reachable: the information once the
            // model expects no more events. It was NaN there, and every bound computed from it.
            final_time: expected_final.unwrap_or_else(|| reachable_end(sc)),
            // Event-driven only when the event count alone sets the final cut.
            final_events: c.events.filter(|_| c.calendar.is_none() && c.min_followup.is_none()),
            cut_times: &planned_times,
            calendar_spending: if m.spending_time == SpendingTime::Calendar { c.calendar } else { None },
            allocation_variance: share * (1.0 - share),
        };
        let tests: Vec<MonitoredTest> = m.tests.iter().map(|&test| plans.test(test)).collect();
        let searches_looks = tests.iter().any(|t| matches!(t.information, Information::NullVariance(_)))
            && m.looks.iter().any(|l| matches!(l, Look::Fraction(_)));
        Some(Monitor {
            searches_looks,
            tests,
            looks: m.looks.clone(),
            safety: m.safety.clone(),
            futility: m.futility.clone(),
            committee: m.committee.clone(),
            expected_final,
            calendar_spending: plans.calendar_spending,
            planned_times,
            n: sc.design.n,
        })
    }
}

impl Plans<'_> {
    /// The expected information of a monitored test at calendar time `c`.
    fn information(&self, information: Information, c: Time) -> f64 {
        let sc = self.sc;
        match information {
            Information::NullVariance(weighting) => expected_null_variance(sc, weighting, c),
            Information::Events => crate::truth::mixture::allocated(sc)
                .iter()
                .map(|a| expected_events(sc, a, sc.primary(), c))
                .sum(),
        }
    }

    /// The design of monitored test `test` (an index into `analysis.tests`).
    fn test(&self, test: usize) -> MonitoredTest {
        let t = &self.sc.analysis.tests[test];
        let information = t.kind.information().expect("validated: monitored tests have an information");
        let (i_max, event_driven) = match (information, self.final_events) {
            (Information::Events, Some(k)) => (k as f64, true),
            _ => (self.information(information, self.final_time), false),
        };
        let times = self.look_times(information, i_max);
        let mut planned_fractions: Vec<f64> = self
            .m
            .looks
            .iter()
            .zip(&times)
            .map(|(l, &time)| match l {
                Look::Fraction(f) => *f,
                Look::Cut(_) => (self.information(information, time) / i_max).min(1.0),
            })
            .collect();
        planned_fractions.push(1.0);
        let fractions = valid_fractions(&planned_fractions);
        let spend = match self.calendar_spending {
            Some(end) => valid_fractions(&times.iter().map(|t| t / end).chain([1.0]).collect::<Vec<f64>>()),
            None => fractions.clone(),
        };
        let design = design_of(self.m, self.sc.analysis.alpha);
        let drift = match &self.m.futility {
            Some(f) if f.alternative == Alternative::Design => {
                design_drift_spent_at(&design, &fractions, &spend).unwrap_or(0.0)
            }
            _ => 0.0,
        };
        let thetas = self.thetas(information, &times, &fractions);
        let planned = match &thetas {
            Some(th) => boundaries_with_drifts(&design, &fractions, &spend, th, true),
            None => boundaries_spent_at(&design, &fractions, &spend, drift),
        };
        let cp = self.cp_inputs(information, &design, &times, &fractions, &spend, &planned);
        let plan = Plan { design, harm: self.m.harm.clone(), drift, thetas };
        let planned_harm = planned_harm(&plan, &fractions, &spend);
        MonitoredTest {
            test,
            name: t.name.clone(),
            kind: t.kind,
            information,
            plan,
            hr_futility: self.m.futility.as_ref().and_then(|f| match &f.bound {
                FutilityBound::Hr(hr) => Some(hr.clone()),
                FutilityBound::Spending { .. }
                | FutilityBound::Z(_)
                | FutilityBound::ConditionalPower { .. }
                | FutilityBound::PredictiveProbability { .. } => None,
            }),
            allocation_variance: self.allocation_variance,
            i_max,
            event_driven,
            planned_fractions,
            planned_times: times,
            planned,
            planned_harm,
            cp,
        }
    }

    /// What conditional power needs ([`CpInputs`]), when `[monitoring.committee]` reports it or
    /// the futility rule is a conditional-power rule.
    fn cp_inputs(
        &self,
        information: Information,
        design: &Design,
        times: &[Time],
        fractions: &[f64],
        spend: &[f64],
        planned: &Boundaries,
    ) -> Option<CpInputs> {
        let rule = matches!(&self.m.futility, Some(f) if matches!(f.bound, FutilityBound::ConditionalPower { .. } | FutilityBound::PredictiveProbability { .. }));
        if self.m.committee.is_none() && !rule {
            return None;
        }
        let beta = self.m.committee.as_ref().map_or(0.2, |c| c.beta);
        let design_drift = match &design.futility {
            Some(Futility::Spending { .. }) => {
                design_drift_spent_at(design, fractions, spend).unwrap_or(f64::NAN)
            }
            _ => drift_for_power(fractions, &planned.efficacy, 1.0 - beta),
        };
        let weighting = match information {
            Information::NullVariance(weighting) => weighting,
            Information::Events => Weighting::Fh { rho: 0.0, gamma: 0.0 },
        };
        let times: Vec<Time> = times.iter().copied().chain([self.final_time]).collect();
        let model_path = expected_path(self.sc, weighting, &times, fractions);
        Some(CpInputs { design_drift, model_path, times, weighting, prior: Vec::new() })
    }

    /// Each interim's expected calendar time: a cut's as the model expects it; an information
    /// fraction's where the expected information reaches it.
    fn look_times(&self, information: Information, i_max: f64) -> Vec<Time> {
        let at = |c: Time| self.information(information, c);
        let solve = |(l, &time): (&Look, &Time)| match l {
            Look::Cut(_) => time,
            Look::Fraction(f) => time_of_information(&at, f * i_max, self.final_time),
        };
        // Each fraction's solve is a dozen or more integrals (most of a monitored scenario's
        // set-up, which the explorer waits for on every edit) and independent of the others. On
        // a thread of a rayon pool (a command's, sized by `--threads`, or the explorer's) they
        // are solved in parallel on that pool, each exactly as alone; off any pool (validating a
        // scenario) one after the other, so that no caller's thread limit is exceeded.
        if rayon::current_thread_index().is_some() {
            self.m.looks.par_iter().zip(self.cut_times).map(solve).collect()
        } else {
            self.m.looks.iter().zip(self.cut_times).map(solve).collect()
        }
    }

    /// The model's own drift per look when futility is computed under the truth: the expected
    /// benefit statistic at the look's expected time over √t_k (the final look at the expected
    /// final cut).
    fn thetas(&self, information: Information, times: &[Time], fractions: &[f64]) -> Option<Vec<f64>> {
        self.m.futility.as_ref().filter(|f| f.alternative == Alternative::Truth)?;
        let weighting = match information {
            Information::NullVariance(weighting) => weighting,
            Information::Events => Weighting::Fh { rho: 0.0, gamma: 0.0 },
        };
        let at = times.iter().copied().chain([self.final_time]);
        Some(
            at.zip(fractions)
                .map(|(c, &t)| {
                    let theta = -expected_z(self.sc, weighting, c) / t.sqrt();
                    if theta.is_finite() { theta } else { 0.0 }
                })
                .collect(),
        )
    }
}

/// A model's expected benefit statistic on the B scale at calendar times `times` and planned
/// fractions `fractions`: E[B(t_k)] = −E[z](c_k)·√t_k (z < 0 favours the experimental arm).
fn expected_path(sc: &Scenario, weighting: Weighting, times: &[Time], fractions: &[f64]) -> Vec<f64> {
    times.iter().zip(fractions).map(|(&c, &t)| -expected_z(sc, weighting, c) * t.sqrt()).collect()
}

impl Monitor {
    /// Sets the prior of the predictive probability: each draw's scenario (the base scenario with
    /// the draw's values) gives its expected path at the design's planned looks. Only where
    /// conditional power is computed; draws whose path is not finite are left out.
    pub fn set_prior(&mut self, draws: &[Scenario]) {
        for mt in &mut self.tests {
            let fractions = valid_fractions(&mt.planned_fractions);
            if let Some(cp) = &mut mt.cp {
                cp.prior = draws
                    .iter()
                    .map(|d| expected_path(d, cp.weighting, &cp.times, &fractions))
                    .filter(|p| p.iter().all(|x| x.is_finite()))
                    .collect();
            }
        }
    }
}

/// The harm bound of each interim as a trial's interim decision sees it at the planned fractions.
fn planned_harm(plan: &Plan, fractions: &[f64], spend: &[f64]) -> Vec<f64> {
    let mut cache = BoundsCache::default();
    let positions: Vec<usize> = (0..fractions.len()).collect();
    (1..fractions.len())
        .map(|k| plan.decide(&positions[..k], &fractions[..k], &spend[..k], f64::NAN, false, &mut cache).harm)
        .collect()
}

/// The calendar time in (0, end] at which the increasing `information` reaches `target` (`end`
/// when it never does). Each evaluation is an integral over the accrual and follow-up (about
/// 5 ms for a weighted log-rank test), so the root is found by the Illinois variant of regula
/// falsi (Dowell & Jarratt 1971: superlinear, always bracketed), until the information is
/// reached to rounding or the bracket is a few ulps wide: 13 to 19 evaluations in the tests,
/// where bisection took 60.
fn time_of_information(information: &impl Fn(Time) -> f64, target: f64, end: Time) -> Time {
    let f = |c: Time| information(c) - target;
    let (mut lo, mut hi) = (0.0, end);
    let (mut f_lo, mut f_hi) = (f(lo), f(hi));
    if f_hi < 0.0 || f_hi.is_nan() {
        return end;
    }
    if f_lo >= 0.0 {
        return lo;
    }
    // Which end moved last: the other end's value is halved when the same end moves twice.
    let mut side = 0i8;
    for _ in 0..200 {
        if hi - lo <= 4.0 * f64::EPSILON * hi {
            break;
        }
        let mut c = hi - f_hi * (hi - lo) / (f_hi - f_lo);
        if !(c > lo && c < hi) {
            c = 0.5 * (lo + hi);
        }
        let fc = f(c);
        if fc.is_nan() {
            // The integral is defined inside the bracket; were it not, the bracket's end stands.
            return hi;
        }
        // The information reached to rounding: c is the root as closely as it can be known.
        if fc.abs() <= 4.0 * f64::EPSILON * target.abs() {
            return c;
        }
        if fc >= 0.0 {
            (hi, f_hi) = (c, fc);
            if side == 1 {
                f_lo *= 0.5;
            }
            side = 1;
        } else {
            (lo, f_lo) = (c, fc);
            if side == -1 {
                f_hi *= 0.5;
            }
            side = -1;
        }
    }
    hi
}

/// Fractions the recursion accepts: increasing and positive (a planned look that the model puts
/// at or after the one before is moved [`MIN_SPACING`] after it; such looks are skipped in the
/// trials anyway).
fn valid_fractions(t: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(t.len());
    for &x in t {
        let lo = out.last().copied().unwrap_or(0.0);
        out.push(if x.is_finite() && x > lo { x } else { lo + MIN_SPACING });
    }
    out
}

/// The expected calendar time of a cut under the model.
fn expected_cut_of(sc: &Scenario, cut: &Cut) -> Option<Time> {
    let mut s = sc.clone();
    s.design.cut = cut.clone();
    expected_cut(&s)
}

/// The group-sequential design of `[monitoring]`.
fn design_of(m: &Monitoring, alpha: f64) -> Design {
    let (futility, binding) = match &m.futility {
        Some(f) => (
            match &f.bound {
                FutilityBound::Spending { beta, function } => {
                    Some(Futility::Spending { beta: *beta, function: *function })
                }
                FutilityBound::Z(z) => Some(Futility::Fixed(z.clone())),
                FutilityBound::Hr(_)
                | FutilityBound::ConditionalPower { .. }
                | FutilityBound::PredictiveProbability { .. } => None,
            },
            f.binding,
        ),
        None => (None, false),
    };
    Design { alpha, efficacy: m.efficacy.clone(), futility, binding }
}

/// The most evaluations `trial::first_reaching` makes over `m` indices: every three steps at least
/// halve the bracket (m + 1 wide at the start).
pub(crate) fn search_evaluations(m: usize) -> u64 {
    3 * u64::from((m as u64 + 1).next_power_of_two().trailing_zeros() + 1)
}

/// How many times one trial's patients are analysed (a cut built and its risk table made) when
/// monitoring runs to the end: the final analysis, then per monitored test and interim look one
/// cut, or at most [`search_evaluations`] of its event count (at most n) for a
/// null-variance test's information-fraction look. What the
/// explorer's work cap multiplies n × replicates by.
pub fn analyses_per_trial(sc: &Scenario) -> u64 {
    let Some(m) = &sc.monitoring else { return 1 };
    let per_look = |kind: TestKind, look: &Look| match (kind.information(), look) {
        (Some(Information::NullVariance(_)), Look::Fraction(_)) => search_evaluations(sc.design.n),
        (Some(Information::NullVariance(_)), Look::Cut(_)) | (Some(Information::Events) | None, _) => 1,
    };
    1 + m
        .tests
        .iter()
        .map(|&t| m.looks.iter().map(|l| per_look(sc.analysis.tests[t].kind, l)).sum::<u64>())
        .sum::<u64>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::fixture::{appended, valid};

    /// The Illinois root equals the analytic one to a few ulps, in few evaluations, for an
    /// information curve shaped like accrual then follow-up (flat start, steep middle, saturating),
    /// and keeps bisection's answers at the ends: 0 when the target is reached at once, `end`
    /// when never.
    #[test]
    fn the_time_of_information_is_the_root_in_few_evaluations() {
        let calls = std::cell::Cell::new(0);
        // I(c) = 100 (1 − e^{−(c/4)³}): the root of I = x is 4 (−ln(1 − x/100))^{1/3}.
        let info = |c: f64| {
            calls.set(calls.get() + 1);
            100.0 * -(-(c / 4.0).powi(3)).exp_m1()
        };
        for x in [1.0, 33.0, 67.0, 99.0] {
            calls.set(0);
            let t = time_of_information(&info, x, 12.6);
            let exact = 4.0 * (-(-x / 100.0f64).ln_1p()).cbrt();
            assert!((t - exact).abs() <= 8.0 * f64::EPSILON * exact, "target {x}: {t} vs {exact}");
            assert!(calls.get() <= 24, "target {x}: {} evaluations", calls.get());
        }
        assert_eq!(time_of_information(&info, 0.0, 12.6), 0.0);
        assert_eq!(time_of_information(&info, 101.0, 12.6), 12.6);
    }

    #[test]
    fn planned_fractions_are_made_increasing() {
        let v = valid_fractions(&[0.5, 0.4, f64::NAN, 1.0]);
        assert_eq!(v[0], 0.5);
        assert_eq!(v[1], 0.5 + MIN_SPACING);
        assert_eq!(v[2], 0.5 + 2.0 * MIN_SPACING);
        assert_eq!(v[3], 1.0);
    }

    /// An events-driven final cut fixes I_max at its target; the interim's planned fraction is
    /// the one given, and its expected time is where the expected events reach that fraction.
    #[test]
    fn an_event_driven_design_plans_its_interim_at_the_given_fraction() {
        let text = appended(
            "[monitoring]\nlooks = [{ fraction = 0.5 }]\n[monitoring.efficacy]\nspending = \"obrien_fleming\"",
        );
        let text = text.replace("calendar = 5", "events = 40");
        let sc = valid(&text);
        let m = Monitor::new(&sc).expect("a monitored scenario");
        let mt = &m.tests[0];
        assert!(mt.event_driven);
        assert_eq!(mt.i_max, 40.0);
        assert_eq!(mt.planned_fractions, vec![0.5, 1.0]);
        let events_at = |c: Time| -> f64 {
            crate::truth::mixture::allocated(&sc)
                .iter()
                .map(|a| expected_events(&sc, a, sc.primary(), c))
                .sum()
        };
        assert!((events_at(mt.planned_times[0]) - 20.0).abs() < 1e-6, "{}", mt.planned_times[0]);
        assert_eq!(analyses_per_trial(&sc), 2);
    }
}
