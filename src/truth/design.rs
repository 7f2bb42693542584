//! What the design implies under the model: expected events by a calendar time, the expected
//! cut, and the average hazard ratio of a period.

use crate::accrual::{accrual_end, accrual_horizon, entry_cdf, entry_density};
use crate::quadrature::{integrate, integrate_finite};
use crate::scenario::{Accrual, Arm, CutRule, Endpoint, Scenario};
use crate::time::Time;

use super::TOL;
use super::curves::{density, knots, survival};
use super::mixture::{self, ArmMix};
use super::plot_horizon;

/// Expected number of patients of `arm` with an observed `ep` event by calendar time c:
/// n_a ∫₀ᶜ P(entry ≤ c − u) h_E(u) S_E(u) e^{−δu} du (dropout δ competes).
///
/// The quadrature of the density is checked against the closed form it must give without the
/// entry and dropout weights, ∫₀ᶜ h_E S_E = 1 − S_E(c): where the density escapes the quadrature
/// (a Weibull shape near 0, whose h(0) is singular beyond what the first piece's substitution
/// tames; a hazard of 10²⁰ or a hazard ratio of 10³⁰⁰, whose mass sits far inside the first
/// node; a cut of 10¹² or 10³⁰⁰, whose range dwarfs it), the expected events are computed by
/// parts instead ([`expected_events_by_parts`]). Those inputs once gave about 0 expected events
/// (188.9 for shape 0.01) where the simulation saw 283.
///
/// Over strata, the sum of each stratum's expected events at its share of the arm's patients
/// (`mixture`).
pub fn expected_events(sc: &Scenario, arm: &ArmMix, ep: &Endpoint, c: Time) -> f64 {
    let n = sc.design.n;
    let total_alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let n_arm = n as f64 * arm.arm.allocation as f64 / total_alloc as f64;
    match arm.parts() {
        [(_, model)] => n_arm * expected_events_per_patient(sc, model, ep, c),
        parts => {
            parts.iter().map(|&(w, model)| w * (n_arm * expected_events_per_patient(sc, model, ep, c))).sum()
        }
    }
}

/// One patient's probability of an observed `ep` event by calendar time c in one stratum's arm
/// model (see [`expected_events`]).
fn expected_events_per_patient(sc: &Scenario, arm: &Arm, ep: &Endpoint, c: Time) -> f64 {
    let n = sc.design.n;
    let extra = [c - accrual_end(&sc.design.accrual, n), c - accrual_horizon(&sc.design.accrual)];
    let k = knots(&[arm], ep, &extra, c);
    let direct = integrate(
        |u| entry_cdf(&sc.design.accrual, n, c - u) * density(arm, ep, u) * (-arm.dropout * u).exp(),
        0.0,
        &k,
        TOL,
    );
    let mass = integrate(|u| density(arm, ep, u), 0.0, &k, TOL);
    let closed = 1.0 - survival(arm, ep, c);
    if (mass - closed).abs() <= MASS_CHECK || !c.is_finite() {
        direct
    } else {
        expected_events_by_parts(sc, arm, ep, c)
    }
}

/// How far the density's quadrature may stray from 1 − S_E(c) before the events are computed by
/// parts: far above the quadrature's own error (10⁻¹¹ a piece), far below a failure's.
const MASS_CHECK: f64 = 1e-7;

/// One patient's probability of an observed `ep` event by calendar time c, by parts: with
/// w(u) = G(c − u) e^{−δu} (G the entry CDF, g its density, δ the dropout rate) and
/// F = 1 − S_E, ∫₀ᶜ w dF = [wF]₀ᶜ − ∫₀ᶜ F w' = ∫₀ᶜ F(u) e^{−δu} (g(c − u) + δ G(c − u)) du, since
/// w(c) = G(0) = 0. F is bounded, so no singular density is integrated. The range splits where
/// entry is complete (G = 1 from calendar time `full` on): over the entry window the integral is
/// taken in the entry time v = c − u, which a cut of 10³⁰⁰ cannot blur; before it only the
/// dropout term is left, ∫₀^{c−full} F(u) δ e^{−δu} du, split at doublings of 1/δ and of the
/// endpoint's median, and cut where e^{−δu} underflows.
fn expected_events_by_parts(sc: &Scenario, arm: &Arm, ep: &Endpoint, c: Time) -> f64 {
    let (accrual, n, delta) = (&sc.design.accrual, sc.design.n, arm.dropout);
    let full = match accrual {
        Accrual::Uniform { duration } => *duration,
        Accrual::Piecewise { .. } => accrual_end(accrual, n),
    };
    let f = |u: f64| 1.0 - survival(arm, ep, u);
    // Where the integrand varies, as times since entry u: the hazards' breaks, doublings of the
    // endpoint's median (F's rise, whatever its time scale) and of 1/δ (dropout's decay).
    let half = crate::quadrature::bisect_decreasing(|u| survival(arm, ep, u), 0.5, c);
    let mut scales: Vec<f64> = (-40..=40).map(|j| half * 2f64.powi(j)).collect();
    for h in ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()) {
        h.breakpoints(&mut scales);
    }
    if delta > 0.0 {
        scales.extend((0..12).map(|j| f64::from(1u32 << j) / delta));
    }
    // The entry window, v = c − u in (0, min(c, full)), from where e^{−δu} underflows.
    let window_end = c.min(full);
    let window_start = if delta > 0.0 { (c - 745.0 / delta).max(0.0) } else { 0.0 };
    let mut v_knots: Vec<f64> = scales.iter().map(|u| c - u).collect();
    if let Accrual::Piecewise { breaks, .. } = accrual {
        v_knots.extend_from_slice(breaks);
    }
    v_knots.retain(|&v| v > window_start && v < window_end);
    v_knots.push(window_end);
    v_knots.sort_by(|a, b| a.total_cmp(b));
    v_knots.dedup();
    let window = integrate_finite(
        |v| {
            let u = c - v;
            f(u) * (-delta * u).exp() * (entry_density(accrual, n, v) + delta * entry_cdf(accrual, n, v))
        },
        window_start,
        &v_knots,
        TOL,
    );
    // Before the window: entry complete, only dropout's term.
    let before = c - full;
    let tail = if delta > 0.0 && before > 0.0 {
        let upto = before.min(745.0 / delta);
        let k = knots(&[arm], ep, &scales, upto);
        integrate_finite(|u| f(u) * delta * (-delta * u).exp(), 0.0, &k, TOL)
    } else {
        0.0
    };
    window + tail
}

/// An analysis time of the scenario that no trial of the design reaches: later than the expected
/// data cut, the longest follow-up any patient has (the first entrant's; exact for a calendar cut).
#[derive(Debug, Clone, PartialEq)]
pub struct BeyondFollowUp {
    /// The scenario key, e.g. `analysis.tau`.
    pub key: String,
    pub value: Time,
    pub cut: Time,
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
pub fn beyond_follow_up(sc: &Scenario, expected_cut: Option<Time>) -> Vec<BeyondFollowUp> {
    let Some(cut) = expected_cut else { return Vec::new() };
    let a = &sc.analysis;
    let mut out = Vec::new();
    let mut check = |key: String, value: Time, what: &'static str| {
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
pub fn event_horizon(sc: &Scenario) -> Time {
    1e4 * accrual_end(&sc.design.accrual, sc.design.n).max(plot_horizon(sc, None))
}

/// The calendar time by which the model expects all but a millionth of the primary events it
/// ever expects (by [`event_horizon`]): the end of what a trial can observe, where an event
/// target is out of reach. Bisection on the expected events, as [`expected_cut`] does.
pub fn reachable_end(sc: &Scenario) -> Time {
    let ep = sc.primary();
    let arms = mixture::allocated(sc);
    let total = |c: f64| arms.iter().map(|a| expected_events(sc, a, ep, c)).sum::<f64>();
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
pub fn expected_cut(sc: &Scenario) -> Option<Time> {
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
        let arms = mixture::allocated(sc);
        let total = |c: f64| arms.iter().map(|a| expected_events(sc, a, ep, c)).sum::<f64>();
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
pub fn average_hazard_ratio(sc: &Scenario, cut: Time, from: Time, to: Time) -> f64 {
    average_hazard_ratio_of(sc, sc.primary(), cut, from, to)
}

/// [`average_hazard_ratio`] for any endpoint `ep`.
pub fn average_hazard_ratio_of(sc: &Scenario, ep: &Endpoint, cut: Time, from: Time, to: Time) -> f64 {
    let Some((ctl, exp)) = mixture::pair(sc) else {
        return f64::NAN;
    };
    average_hazard_ratio_between(sc, (&ctl, &exp), ep, cut, from, to)
}

/// [`average_hazard_ratio_of`] for a given (control, experimental) pair: the population's, or
/// one stratum's (`mixture::pair_in_stratum`).
pub fn average_hazard_ratio_between(
    sc: &Scenario,
    (ctl, exp): (&ArmMix, &ArmMix),
    ep: &Endpoint,
    cut: Time,
    from: Time,
    to: Time,
) -> f64 {
    let n = sc.design.n;
    // The expected event density of an arm at the cut, over its strata (each with its dropout).
    let density = |arm: &ArmMix, u: f64| -> f64 {
        let entered = entry_cdf(&sc.design.accrual, n, cut - u);
        let of = |w: f64, a: &Arm| {
            arm.arm.allocation as f64 * w * entered * density(a, ep, u) * (-a.dropout * u).exp()
        };
        match arm.parts() {
            [(_, a)] => arm.arm.allocation as f64 * entered * density(a, ep, u) * (-a.dropout * u).exp(),
            parts => parts.iter().map(|&(w, a)| of(w, a)).sum(),
        }
    };
    let to = to.min(cut);
    if to <= from {
        return f64::NAN;
    }
    let extra = [from, cut - accrual_end(&sc.design.accrual, n), cut - accrual_horizon(&sc.design.accrual)];
    let k = mixture::knots(&[ctl, exp], ep, &extra, to);
    let weight = |u: f64| density(ctl, u) + density(exp, u);
    let num = integrate(
        |u| {
            let w = weight(u);
            if w == 0.0 { 0.0 } else { w * (exp.hazard(ep, u) / ctl.hazard(ep, u)).ln() }
        },
        from,
        &k,
        TOL,
    );
    let den = integrate(weight, from, &k, TOL);
    (num / den).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected events where the density's quadrature fails (a Weibull shape near 0), against an
    /// independent computation: with uniform accrual on [0, 2], no dropout and a cut at 5, one
    /// arm's expected events are n_arm · ½∫₀² F(5 − e) de with F = 1 − exp(−hr·(t/20)^shape).
    /// Reference by a 200,000-point midpoint rule in Python:
    /// `sum(250*sum(1-exp(-hr*((5-(i+.5)*1e-5)/20)**s) for i in range(200000))*1e-5/2 for hr in (1,.7))`.
    /// The old path gave 269.1359 at shape 0.05 and 187.58 at 0.01.
    #[test]
    fn expected_events_by_parts_where_the_density_escapes_the_quadrature() {
        let base = std::fs::read_to_string("scenarios/ph.toml").unwrap();
        for (shape, reference) in [
            (0.05, 269.4936576903286),
            (0.02, 278.1027806827227),
            (0.01, 280.9895365244415),
            (1e-6, 283.8835239762102),
        ] {
            let text = base.replace(
                "death = { exponential = 0.15 }",
                &format!("death = {{ weibull = {{ shape = {shape}, scale = 20 }} }}"),
            );
            let sc = Scenario::from_toml(&text, std::path::Path::new("w.toml")).unwrap();
            let ep = sc.primary();
            let total: f64 = mixture::allocated(&sc).iter().map(|a| expected_events(&sc, a, ep, 5.0)).sum();
            assert!((total / reference - 1.0).abs() < 1e-9, "shape {shape}: {total} vs {reference}");
        }
        // Where the quadrature resolves the density (every shipped scenario: dropout, piecewise
        // hazards, illness–death), the direct path is kept, and the path by parts agrees with it
        // at the expected cut and before it.
        for file in ["ph", "astis", "hsct_ssc", "hsct_monitoring", "null", "plan_next_trial", "astis_tests"] {
            let path = format!("scenarios/{file}.toml");
            let sc =
                Scenario::from_toml(&std::fs::read_to_string(&path).unwrap(), std::path::Path::new(&path))
                    .unwrap();
            let total: usize = sc.arms.iter().map(|a| a.allocation).sum();
            let cut = expected_cut(&sc).unwrap();
            for (_, arm) in sc.allocated_arms() {
                let n_arm = sc.design.n as f64 * arm.allocation as f64 / total as f64;
                for c in [0.3 * cut, cut] {
                    let direct = expected_events(&sc, &ArmMix::single(arm), sc.primary(), c) / n_arm;
                    let by_parts = expected_events_by_parts(&sc, arm, sc.primary(), c);
                    assert!(
                        (direct - by_parts).abs() < 1e-9,
                        "{file} {} at {c}: {direct} vs {by_parts}",
                        arm.name
                    );
                }
            }
        }
    }
}
