//! The model's curves per arm and endpoint: cumulative hazard, hazard, survival (under
//! illness–death, from the Markov state probabilities), cause-specific sub-densities and
//! cumulative incidence, RMST, and the times where two arms' survival curves cross.

use crate::quadrature::integrate;
use crate::scenario::{Arm, Endpoint};
use crate::stats::crossing::CrossingRule;
use crate::time::Time;

use super::TOL;

/// Cumulative hazard of an endpoint in an arm: Σ_{k∈E} H_k, or −ln S_E under illness–death.
pub fn cumulative(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    match arm.after_for(ep) {
        None => latent_cumulative(arm, ep, t),
        Some(_) => -survival(arm, ep, t).ln(),
    }
}

/// Σ_{k∈E} H_k(t): the cumulative hazard without illness–death.
fn latent_cumulative(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()).map(|h| h.cumulative(t)).sum()
}

/// Hazard of an endpoint in an arm: Σ_k g_k(t)/S_E(t) with the sub-densities of [`sub_density`].
pub fn hazard(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
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

/// Density of the first E event, f_E(t) = h_E(t) S_E(t); under illness–death Σ_k h_k (P₀ + f_k P₁)
/// directly, not g/S·S: far out, S underflows to 0 and the quotient would be NaN (expected events
/// were once undefined for an accrual of 10⁴ years).
pub fn density(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    match arm.after_for(ep) {
        None => hazard(arm, ep, t) * survival(arm, ep, t),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            ep.causes
                .iter()
                .filter_map(|&k| arm.causes[k].as_ref().map(|h| h.rate(t) * (p0 + after.factor[k] * p1)))
                .sum()
        }
    }
}

/// S_E(t) = exp(−Σ_{k∈E} H_k(t)); under illness–death P₀(t) + P₁(t) (see [`states`]).
pub fn survival(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
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
pub fn states(arm: &Arm, after: &crate::scenario::After, ep: &Endpoint, t: Time) -> (f64, f64) {
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
pub fn sub_density(arm: &Arm, ep: &Endpoint, cause: usize, t: Time) -> f64 {
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
pub(super) fn knots(arms: &[&Arm], ep: &Endpoint, extra: &[f64], upto: Time) -> Vec<Time> {
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
pub fn rmst(arm: &Arm, ep: &Endpoint, tau: Time) -> f64 {
    integrate(|t| survival(arm, ep, t), 0.0, &knots(&[arm], ep, &[], tau), TOL)
}

/// F_{k|E}(t) = ∫₀ᵗ g_k(u) du (h_k S_E without illness–death): the probability that cause k is the first event of E by t.
pub fn cumulative_incidence(arm: &Arm, ep: &Endpoint, cause: usize, t: Time) -> f64 {
    if arm.causes[cause].is_none() {
        return 0.0;
    }
    integrate(|u| sub_density(arm, ep, cause, u), 0.0, &knots(&[arm], ep, &[], t), TOL)
}

/// The times at which two arms' curves are compared when looking for a crossing: 4000 equal
/// steps to t_max and every hazard breakpoint of either arm.
fn scan_grid(ctl: &Arm, exp: &Arm, ep: &Endpoint, t_max: Time) -> Vec<Time> {
    let steps = 4000;
    let mut grid: Vec<f64> = (1..=steps).map(|i| t_max * i as f64 / steps as f64).collect();
    grid.extend(knots(&[ctl, exp], ep, &[], t_max));
    grid.sort_by(|a, b| a.total_cmp(b));
    grid.dedup();
    grid
}

/// The observed-crossing rule applied to the true curves (its at-risk condition aside): the
/// first t ≤ t_max at which S_exp − S_ctl ≥ δ after it has been ≤ −δ (δ = `rule.min_gap`; for
/// δ = 0, strictly below then strictly above). This, not the time the curves are equal, is what
/// a trial's observed crossing estimates: with δ > 0 the rule fires later than the equality.
/// Located by a grid scan and bisection; None when the rule never fires.
pub fn rule_crossing(ctl: &Arm, exp: &Arm, ep: &Endpoint, rule: CrossingRule, t_max: Time) -> Option<Time> {
    let gap = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    let below = |g: f64| g < 0.0 && g <= -rule.min_gap;
    let above = |g: f64| g > 0.0 && g >= rule.min_gap;
    let grid = scan_grid(ctl, exp, ep, t_max);
    let mut was_below = false;
    let mut previous = 0.0;
    for &t in &grid {
        let g = gap(t);
        if !was_below {
            was_below = below(g);
        } else if above(g) {
            // The gap rises through +δ in (previous, t]: the first time it is above.
            let (mut lo, mut hi) = (previous, t);
            while hi - lo > 1e-12 * hi.max(1.0) {
                let mid = 0.5 * (lo + hi);
                if above(gap(mid)) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            return Some(hi);
        }
        previous = t;
    }
    None
}

/// Times in (0, t_max] where S_exp − S_ctl changes sign, located by a grid scan and bisection.
/// Stretches where the curves coincide (|difference| < 1e-12) are not crossings.
pub fn crossing_times(ctl: &Arm, exp: &Arm, ep: &Endpoint, t_max: Time) -> Vec<Time> {
    let diff = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    let grid = scan_grid(ctl, exp, ep, t_max);
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
