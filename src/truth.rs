//! The model's true quantities, computed without simulation: survival per arm and endpoint,
//! cumulative incidence per cause, RMST, the difference at each horizon, the times where the
//! true curves cross, the expected events and cut time of the design, and the average hazard
//! ratio per period. Reports print them beside the simulated estimates.
//!
//! With independent latent causes, an endpoint E (a set of causes) has cumulative hazard
//! H_E = Σ_{k∈E} H_k and S_E = exp(−H_E); the cumulative incidence of cause k as the first event
//! of E is F_{k|E}(t) = ∫₀ᵗ h_k S_E (Kalbfleisch & Prentice 2002, §8.2). Integrals use adaptive
//! Gauss–Kronrod split at every hazard breakpoint.

use serde::Serialize;

use crate::accrual::{accrual_end, accrual_horizon, entry_cdf};
use crate::hazard::Years;
use crate::quadrature::integrate;
use crate::scenario::{Arm, CutRule, Endpoint, Scenario};

/// Absolute tolerance of each quadrature piece: far below any Monte Carlo error.
const TOL: f64 = 1e-11;

/// Cumulative hazard of an endpoint in an arm: Σ_{k∈E} H_k, or −ln S_E under illness–death.
pub fn cumulative(arm: &Arm, ep: &Endpoint, t: Years) -> f64 {
    match arm.after_for(ep) {
        None => latent_cumulative(arm, ep, t),
        Some(_) => -survival(arm, ep, t).ln(),
    }
}

/// Σ_{k∈E} H_k(t): the cumulative hazard without illness–death.
fn latent_cumulative(arm: &Arm, ep: &Endpoint, t: Years) -> f64 {
    ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()).map(|h| h.cumulative(t)).sum()
}

/// Hazard of an endpoint in an arm: Σ_k g_k(t)/S_E(t) with the sub-densities of [`sub_density`].
pub fn hazard(arm: &Arm, ep: &Endpoint, t: Years) -> f64 {
    match arm.after_for(ep) {
        None => ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()).map(|h| h.rate(t)).sum(),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            let g: f64 = ep
                .causes
                .iter()
                .filter_map(|&k| arm.causes[k].as_ref().map(|h| h.rate(t) * (p0 + after.factor[k] * p1)))
                .sum();
            g / (p0 + p1)
        }
    }
}

/// S_E(t) = exp(−Σ_{k∈E} H_k(t)); under illness–death P₀(t) + P₁(t) (see [`states`]).
pub fn survival(arm: &Arm, ep: &Endpoint, t: Years) -> f64 {
    match arm.after_for(ep) {
        None => (-latent_cumulative(arm, ep, t)).exp(),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            p0 + p1
        }
    }
}

/// Illness–death state probabilities for endpoint E whose causes the trigger p (not in E)
/// modifies by factors f_k. The process is Markov (Andersen & Keiding 2002, illness–death model):
/// - P₀(t) = P(no E event, no trigger) = exp(−H_p(t) − Σ_{k∈E} H_k(t));
/// - P₁(t) = P(triggered, no E event) = ∫₀ᵗ h_p(u) P₀(u) exp(−Σ_{k∈E} f_k (H_k(t) − H_k(u))) du,
///   the solution of P₁′ = h_p P₀ − (Σ f_k h_k) P₁, P₁(0) = 0.
pub fn states(arm: &Arm, after: &crate::scenario::After, ep: &Endpoint, t: Years) -> (f64, f64) {
    let Some(hp) = arm.causes[after.trigger].as_ref() else {
        return ((-latent_cumulative(arm, ep, t)).exp(), 0.0);
    };
    let modified = |u: f64| -> f64 {
        ep.causes
            .iter()
            .filter_map(|&k| arm.causes[k].as_ref().map(|h| after.factor[k] * h.cumulative(u)))
            .sum()
    };
    let p0 = |u: f64| (-hp.cumulative(u) - latent_cumulative(arm, ep, u)).exp();
    if t <= 0.0 {
        return (1.0, 0.0);
    }
    let at_t = modified(t);
    let p1 =
        integrate(|u| hp.rate(u) * p0(u) * (modified(u) - at_t).exp(), 0.0, &knots(&[arm], ep, &[], t), TOL);
    (p0(t), p1)
}

/// g_k(t): the density of cause k being the first event of E at t, h_k(t)·S_E(t) without
/// illness–death, h_k(t)·(P₀(t) + f_k P₁(t)) with it.
pub fn sub_density(arm: &Arm, ep: &Endpoint, cause: usize, t: Years) -> f64 {
    let Some(h) = arm.causes[cause].as_ref() else {
        return 0.0;
    };
    match arm.after_for(ep) {
        None => h.rate(t) * survival(arm, ep, t),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            h.rate(t) * (p0 + after.factor[cause] * p1)
        }
    }
}

/// Breakpoints of every cause of `ep` in `arm` below `upto`, then `upto` itself: the knots
/// quadrature splits at.
fn knots(arms: &[&Arm], ep: &Endpoint, extra: &[f64], upto: Years) -> Vec<Years> {
    let mut k = Vec::new();
    for arm in arms {
        for h in ep.causes.iter().filter_map(|&c| arm.causes[c].as_ref()) {
            h.breakpoints(&mut k);
        }
        if let Some(h) = arm.after_for(ep).and_then(|a| arm.causes[a.trigger].as_ref()) {
            h.breakpoints(&mut k);
        }
    }
    k.extend_from_slice(extra);
    k.retain(|&b| b > 0.0 && b < upto);
    k.push(upto);
    k.sort_by(|a, b| a.total_cmp(b));
    k.dedup();
    k
}

/// Restricted mean survival time ∫₀^τ S_E(t) dt.
pub fn rmst(arm: &Arm, ep: &Endpoint, tau: Years) -> f64 {
    integrate(|t| survival(arm, ep, t), 0.0, &knots(&[arm], ep, &[], tau), TOL)
}

/// F_{k|E}(t) = ∫₀ᵗ g_k(u) du (h_k S_E without illness–death): the probability that cause k is the first event of E by t.
pub fn cumulative_incidence(arm: &Arm, ep: &Endpoint, cause: usize, t: Years) -> f64 {
    if arm.causes[cause].is_none() {
        return 0.0;
    }
    integrate(|u| sub_density(arm, ep, cause, u), 0.0, &knots(&[arm], ep, &[], t), TOL)
}

/// Times in (0, t_max] where S_exp − S_ctl changes sign, located by a grid scan and bisection.
/// Stretches where the curves coincide (|difference| < 1e-12) are not crossings.
pub fn crossing_times(ctl: &Arm, exp: &Arm, ep: &Endpoint, t_max: Years) -> Vec<Years> {
    let diff = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    let steps = 4000;
    let mut grid: Vec<f64> = (1..=steps).map(|i| t_max * i as f64 / steps as f64).collect();
    grid.extend(knots(&[ctl, exp], ep, &[], t_max));
    grid.sort_by(|a, b| a.total_cmp(b));
    grid.dedup();
    let mut out = Vec::new();
    // The last point with a clear sign, so that touching zero and leaving is not a crossing.
    let mut last: Option<(f64, f64)> = None;
    for &t in &grid {
        let d = diff(t);
        if d.abs() < 1e-12 {
            continue;
        }
        if let Some((t0, d0)) = last
            && d0.signum() != d.signum()
        {
            let (mut lo, mut hi) = (t0, t);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if diff(mid).signum() == d0.signum() {
                    lo = mid;
                } else {
                    hi = mid;
                }
                if hi - lo < 1e-12 {
                    break;
                }
            }
            out.push(0.5 * (lo + hi));
        }
        last = Some((t, d));
    }
    out
}

/// Expected number of patients of `arm` with an observed `ep` event by calendar time c:
/// n_a ∫₀ᶜ P(entry ≤ c − u) h_E(u) S_E(u) e^{−δu} du (dropout δ competes).
pub fn expected_events(sc: &Scenario, arm: &Arm, ep: &Endpoint, c: Years) -> f64 {
    let n = sc.design.n;
    let total_alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let n_arm = n as f64 * arm.allocation as f64 / total_alloc as f64;
    let extra = [c - accrual_end(&sc.design.accrual, n), c - accrual_horizon(&sc.design.accrual)];
    let k = knots(&[arm], ep, &extra, c);
    n_arm
        * integrate(
            |u| {
                entry_cdf(&sc.design.accrual, n, c - u)
                    * hazard(arm, ep, u)
                    * survival(arm, ep, u)
                    * (-arm.dropout * u).exp()
            },
            0.0,
            &k,
            TOL,
        )
}

/// The expected calendar time of the analysis cut: the calendar time, the time at which the
/// expected primary events reach K, and the expected last entry plus the minimum follow-up,
/// combined by the cut rule. `None` when the expected events never reach K and no other
/// criterion is given.
pub fn expected_cut(sc: &Scenario) -> Option<Years> {
    let cut = &sc.design.cut;
    let ep = sc.primary();
    let mut times = Vec::new();
    if let Some(c) = cut.calendar {
        times.push(c);
    }
    if let Some(m) = cut.min_followup {
        times.push(accrual_end(&sc.design.accrual, sc.design.n) + m);
    }
    if let Some(k) = cut.events {
        let total = |c: f64| sc.allocated_arms().map(|(_, a)| expected_events(sc, a, ep, c)).sum::<f64>();
        let start = accrual_end(&sc.design.accrual, sc.design.n).max(plot_horizon(sc, None));
        let mut hi = start;
        // Up to 10⁴ accrual periods: relative, so that days or months work as well as years.
        while total(hi) < k as f64 && hi < 1e4 * start {
            hi *= 2.0;
        }
        if total(hi) >= k as f64 {
            let mut lo = 0.0;
            for _ in 0..100 {
                let mid = 0.5 * (lo + hi);
                if total(mid) < k as f64 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            times.push(hi);
        } else if cut.rule == CutRule::Last {
            return None;
        }
    }
    match cut.rule {
        CutRule::First => times.iter().copied().reduce(f64::min),
        CutRule::Last => times.iter().copied().reduce(f64::max),
    }
}

/// Average hazard ratio of experimental vs control over (from, to]:
/// AHR = exp(∫ w(u) log HR(u) du / ∫ w(u) du), with w the expected event density of both arms
/// at the cut (Kalbfleisch & Prentice 1981; the form used by gsDesign2's `ahr`).
pub fn average_hazard_ratio(sc: &Scenario, cut: Years, from: Years, to: Years) -> f64 {
    average_hazard_ratio_of(sc, sc.primary(), cut, from, to)
}

/// [`average_hazard_ratio`] for any endpoint `ep`.
pub fn average_hazard_ratio_of(sc: &Scenario, ep: &Endpoint, cut: Years, from: Years, to: Years) -> f64 {
    let (Some(ctl), Some(exp)) = (sc.control(), sc.experimental()) else {
        return f64::NAN;
    };
    let n = sc.design.n;
    let density = |arm: &Arm, u: f64| {
        arm.allocation as f64
            * entry_cdf(&sc.design.accrual, n, cut - u)
            * hazard(arm, ep, u)
            * survival(arm, ep, u)
            * (-arm.dropout * u).exp()
    };
    let to = to.min(cut);
    if to <= from {
        return f64::NAN;
    }
    let extra = [from, cut - accrual_end(&sc.design.accrual, n), cut - accrual_horizon(&sc.design.accrual)];
    let k = knots(&[ctl, exp], ep, &extra, to);
    let weight = |u: f64| density(ctl, u) + density(exp, u);
    let num = integrate(
        |u| {
            let w = weight(u);
            if w == 0.0 { 0.0 } else { w * (hazard(exp, ep, u) / hazard(ctl, ep, u)).ln() }
        },
        from,
        &k,
        TOL,
    );
    let den = integrate(weight, from, &k, TOL);
    (num / den).exp()
}

/// True values printed beside the simulation (summary.json `truth`).
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub endpoint: String,
    pub horizons: Vec<Years>,
    /// Primary-endpoint survival at each horizon, per allocated arm.
    pub survival: Vec<ArmCurve>,
    /// Experimental minus control survival at each horizon.
    pub difference: Vec<f64>,
    /// Survival at the horizons for every endpoint and allocated arm.
    pub endpoints: Vec<EndpointTruth>,
    /// Cumulative incidence of each cause of the primary endpoint at the horizons, per arm.
    pub cumulative_incidence: Vec<CauseCurve>,
    pub rmst: Option<RmstTruth>,
    pub milestone: Option<MilestoneTruth>,
    /// Times where the true primary-endpoint curves cross, up to the last time of interest.
    pub crossing_times: Vec<Years>,
    /// Expected calendar time of the cut (None: the event target is not reached in expectation).
    pub expected_cut: Option<Years>,
    /// Expected primary-endpoint events at the expected cut, per arm and in total.
    pub expected_events: Vec<ArmValue>,
    pub expected_events_total: f64,
    /// Average hazard ratio per analysis period (right-closed), weighted by expected events.
    pub ahr: Vec<PeriodAhr>,
    /// Average hazard ratio over the whole follow-up.
    pub ahr_overall: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmCurve {
    pub arm: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointTruth {
    pub endpoint: String,
    pub survival: Vec<ArmCurve>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseCurve {
    pub arm: String,
    pub cause: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmValue {
    pub arm: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RmstTruth {
    pub tau: Years,
    pub arms: Vec<ArmValue>,
    pub difference: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneTruth {
    pub time: Years,
    pub arms: Vec<ArmValue>,
    pub difference: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodAhr {
    pub from: Years,
    pub to: Option<Years>,
    pub ahr: f64,
}

impl Truth {
    pub fn compute(sc: &Scenario) -> Truth {
        let ep = sc.primary();
        let h = &sc.analysis.horizons;
        let arms: Vec<&Arm> = sc.allocated_arms().map(|(_, a)| a).collect();
        let curve = |arm: &Arm, ep: &Endpoint| ArmCurve {
            arm: arm.name.clone(),
            values: h.iter().map(|&t| survival(arm, ep, t)).collect(),
        };
        let survival_primary: Vec<ArmCurve> = arms.iter().map(|a| curve(a, ep)).collect();
        let endpoints = sc
            .endpoints
            .iter()
            .map(|e| EndpointTruth {
                endpoint: e.name.clone(),
                survival: arms.iter().map(|a| curve(a, e)).collect(),
            })
            .collect();
        let cumulative_incidence = arms
            .iter()
            .flat_map(|a| {
                ep.causes.iter().filter(|&&k| a.causes[k].is_some()).map(move |&k| CauseCurve {
                    arm: a.name.clone(),
                    cause: sc.causes[k].clone(),
                    values: h.iter().map(|&t| cumulative_incidence(a, ep, k, t)).collect(),
                })
            })
            .collect();
        let pair = sc.control().zip(sc.experimental());
        let difference = match pair {
            Some((c, e)) => h.iter().map(|&t| survival(e, ep, t) - survival(c, ep, t)).collect(),
            None => Vec::new(),
        };
        let per_arm = |f: &dyn Fn(&Arm) -> f64| -> Vec<ArmValue> {
            arms.iter().map(|a| ArmValue { arm: a.name.clone(), value: f(a) }).collect()
        };
        let rmst_truth = sc.analysis.tau.map(|tau| RmstTruth {
            tau,
            arms: per_arm(&|a| rmst(a, ep, tau)),
            difference: pair.map_or(f64::NAN, |(c, e)| rmst(e, ep, tau) - rmst(c, ep, tau)),
        });
        let milestone = sc.analysis.milestone.map(|m| MilestoneTruth {
            time: m,
            arms: per_arm(&|a| survival(a, ep, m)),
            difference: pair.map_or(f64::NAN, |(c, e)| survival(e, ep, m) - survival(c, ep, m)),
        });
        let expected_cut = expected_cut(sc);
        let t_max = plot_horizon(sc, expected_cut);
        let crossing_times = pair.map_or_else(Vec::new, |(c, e)| crossing_times(c, e, ep, t_max));
        let (expected_events, expected_events_total) = match expected_cut {
            Some(c) => {
                let v = per_arm(&|a| expected_events(sc, a, ep, c));
                let total = v.iter().map(|x| x.value).sum();
                (v, total)
            }
            None => (Vec::new(), f64::NAN),
        };
        let cut = expected_cut.unwrap_or(t_max);
        let mut starts = vec![0.0];
        starts.extend_from_slice(&sc.analysis.periods);
        let ahr = starts
            .iter()
            .enumerate()
            .map(|(i, &from)| {
                let to = sc.analysis.periods.get(i).copied();
                PeriodAhr { from, to, ahr: average_hazard_ratio(sc, cut, from, to.unwrap_or(f64::INFINITY)) }
            })
            .collect();
        Truth {
            endpoint: ep.name.clone(),
            horizons: h.clone(),
            survival: survival_primary,
            difference,
            endpoints,
            cumulative_incidence,
            rmst: rmst_truth,
            milestone,
            crossing_times,
            expected_cut,
            expected_events,
            expected_events_total,
            ahr,
            ahr_overall: average_hazard_ratio(sc, cut, 0.0, f64::INFINITY),
        }
    }
}

/// The last time of interest: the largest of the horizons, τ, the milestone, the period breaks
/// and the longest possible follow-up at the expected cut.
pub fn plot_horizon(sc: &Scenario, expected_cut: Option<Years>) -> Years {
    let a = &sc.analysis;
    let mut t: f64 = 0.0;
    for &x in a.horizons.iter().chain(&a.periods).chain(a.tau.iter()).chain(a.milestone.iter()) {
        t = t.max(x);
    }
    if let Some(c) = expected_cut {
        t = t.max(c);
    }
    if t <= 0.0 { 1.0 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::Hazard;

    fn arm(causes: Vec<Option<Hazard>>) -> Arm {
        Arm { name: "a".into(), label: "a".into(), dropout: 0.0, allocation: 1, causes, after: None }
    }

    #[test]
    fn exponential_closed_forms() {
        let a = arm(vec![Some(Hazard::exponential(0.2).unwrap()), Some(Hazard::exponential(0.3).unwrap())]);
        let both = Endpoint { name: "e".into(), causes: vec![0, 1] };
        // RMST of an exponential(λ) to τ is (1 − e^{−λτ})/λ.
        let r = rmst(&a, &both, 3.0);
        assert!((r - (1.0 - (-1.5f64).exp()) / 0.5).abs() < 1e-12, "{r}");
        // Competing exponentials: F_k = λ_k/λ (1 − e^{−λt}).
        let f = cumulative_incidence(&a, &both, 0, 2.0);
        assert!((f - 0.2 / 0.5 * (1.0 - (-1.0f64).exp())).abs() < 1e-12, "{f}");
        // The incidences and survival add to one.
        let f1 = cumulative_incidence(&a, &both, 1, 2.0);
        assert!((f + f1 + survival(&a, &both, 2.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn crossing_of_early_harm_and_late_benefit() {
        // Control: constant 0.1. Experimental: 0.3 until 1, then 0.02. S_exp = S_ctl where
        // 0.3 + 0.02 (t − 1) = 0.1 t, i.e. t = 3.5.
        let ctl = arm(vec![Some(Hazard::exponential(0.1).unwrap())]);
        let exp = arm(vec![Some(Hazard::piecewise(vec![1.0], vec![0.3, 0.02]).unwrap())]);
        let ep = Endpoint { name: "e".into(), causes: vec![0] };
        let x = crossing_times(&ctl, &exp, &ep, 10.0);
        assert_eq!(x.len(), 1, "{x:?}");
        assert!((x[0] - 3.5).abs() < 1e-9, "{x:?}");
        assert!(crossing_times(&ctl, &ctl, &ep, 10.0).is_empty());
    }

    #[test]
    fn illness_death_matches_its_closed_form() {
        // Progression a, death b, death hazard × f after progression (all exponential):
        // P₁(t) = a e^{−fbt} (1 − e^{−(a+b−fb)t}) / (a + b − fb).
        let (a, b, f) = (0.3, 0.1, 3.0);
        let mut arm = arm(vec![Some(Hazard::exponential(b).unwrap()), Some(Hazard::exponential(a).unwrap())]);
        arm.after = Some(crate::scenario::After { trigger: 1, factor: vec![f, 1.0] });
        let os = Endpoint { name: "os".into(), causes: vec![0] };
        for t in [0.5, 2.0, 7.0] {
            let c = a + b - f * b;
            let p1 = a * (-f * b * t).exp() * (1.0 - (-c * t).exp()) / c;
            let s = (-(a + b) * t).exp() + p1;
            assert!((survival(&arm, &os, t) - s).abs() < 1e-10, "t = {t}");
            // The cumulative incidence of death is 1 − S (death is the endpoint's only cause).
            assert!((cumulative_incidence(&arm, &os, 0, t) - (1.0 - s)).abs() < 1e-9, "t = {t}");
        }
        // An endpoint that contains the trigger is unchanged: it ends at progression.
        let pfs = Endpoint { name: "pfs".into(), causes: vec![0, 1] };
        assert!((survival(&arm, &pfs, 2.0) - (-(a + b) * 2.0f64).exp()).abs() < 1e-14);
    }
}
