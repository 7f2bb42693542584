//! What the design implies under the model: expected events by a calendar time, the expected
//! cut, and the average hazard ratio of a period.

use crate::Years;
use crate::accrual::{accrual_end, accrual_horizon, entry_cdf};
use crate::quadrature::integrate;
use crate::scenario::{Arm, CutRule, Endpoint, Scenario};

use super::TOL;
use super::curves::{density, hazard, knots};
use super::plot_horizon;

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
            |u| entry_cdf(&sc.design.accrual, n, c - u) * density(arm, ep, u) * (-arm.dropout * u).exp(),
            0.0,
            &k,
            TOL,
        )
}

/// An analysis time of the scenario that no trial of the design reaches: later than the expected
/// data cut, the longest follow-up any patient has (the first entrant's; exact for a calendar cut).
#[derive(Debug, Clone, PartialEq)]
pub struct BeyondFollowUp {
    /// The scenario key, e.g. `analysis.tau`.
    pub key: String,
    pub value: Years,
    pub cut: Years,
    /// What cannot be estimated there.
    pub what: &'static str,
}

impl std::fmt::Display for BeyondFollowUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` = {} is beyond the expected data cut at {:.4}, the longest follow-up any patient has: {} is never estimable",
            self.key, self.value, self.cut, self.what
        )
    }
}

/// τ, the milestone, period breaks and horizons that lie beyond the expected cut.
pub fn beyond_follow_up(sc: &Scenario, expected_cut: Option<Years>) -> Vec<BeyondFollowUp> {
    let Some(cut) = expected_cut else { return Vec::new() };
    let a = &sc.analysis;
    let mut out = Vec::new();
    let mut check = |key: String, value: Years, what: &'static str| {
        if value > cut {
            out.push(BeyondFollowUp { key, value, cut, what });
        }
    };
    if let Some(tau) = a.tau {
        check("analysis.tau".into(), tau, "the RMST (test `rmst` and its estimates)");
    }
    if let Some(m) = a.milestone {
        check("analysis.milestone".into(), m, "the milestone survival difference (test `milestone`)");
    }
    for (i, &p) in a.periods.iter().enumerate() {
        check(format!("analysis.periods[{i}]"), p, "the effect after this break (`cox_periods`, detection)");
    }
    for (i, &h) in a.horizons.iter().enumerate() {
        check(format!("analysis.horizons[{i}]"), h, "Kaplan–Meier survival at this horizon");
    }
    out
}

/// The latest calendar time the model's expectations look at: 10⁴ times the accrual period (or
/// the plot horizon), relative so that days or months work as well as years. Where an event
/// target is never reached, what is reachable is what the model expects by then.
pub fn event_horizon(sc: &Scenario) -> Years {
    1e4 * accrual_end(&sc.design.accrual, sc.design.n).max(plot_horizon(sc, None))
}

/// The calendar time by which the model expects all but a millionth of the primary events it
/// ever expects (by [`event_horizon`]): the end of what a trial can observe, where an event
/// target is out of reach. Bisection on the expected events, as [`expected_cut`] does.
pub fn reachable_end(sc: &Scenario) -> Years {
    let ep = sc.primary();
    let total = |c: f64| sc.allocated_arms().map(|(_, a)| expected_events(sc, a, ep, c)).sum::<f64>();
    let end = event_horizon(sc);
    let target = total(end) * (1.0 - 1e-6);
    let (mut lo, mut hi) = (0.0, end);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if total(mid) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
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
        while total(hi) < k as f64 && hi < event_horizon(sc) {
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
/// at the cut: the expected-event-weighted geometric mean of HR(t) that the R package gsDesign2
/// computes in `ahr()` and uses for group-sequential information. (Kalbfleisch & Prentice's 1981
/// average hazard ratio is a different quantity, weighted by the survival curves, and is not
/// what this computes.)
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
            * density(arm, ep, u)
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
