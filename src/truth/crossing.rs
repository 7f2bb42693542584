//! Where two arms' true survival curves cross, over the population (`mixture`): every change
//! of order, and the time the observed-crossing rule fires on the true curves.

use crate::scenario::Endpoint;
use crate::stats::crossing::CrossingRule;
use crate::time::Time;

use super::mixture::{self, ArmMix};

/// The times at which two arms' curves are compared when looking for a crossing: 4000 equal
/// steps to t_max and every hazard breakpoint of either arm.
fn scan_grid(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, t_max: Time) -> Vec<Time> {
    let steps = 4000;
    let mut grid: Vec<f64> = (1..=steps).map(|i| t_max * i as f64 / steps as f64).collect();
    grid.extend(mixture::knots(&[ctl, exp], ep, &[], t_max));
    grid.sort_by(|a, b| a.total_cmp(b));
    grid.dedup();
    grid
}

/// The observed-crossing rule applied to the true curves (its at-risk condition aside): the
/// first t ≤ t_max at which S_exp − S_ctl ≥ δ after it has been ≤ −δ (δ = `rule.min_gap`; for
/// δ = 0, strictly below then strictly above). This, not the time the curves are equal, is what
/// a trial's observed crossing estimates: with δ > 0 the rule fires later than the equality.
/// Located by a grid scan and bisection; None when the rule never fires.
pub fn rule_crossing(
    ctl: &ArmMix,
    exp: &ArmMix,
    ep: &Endpoint,
    rule: CrossingRule,
    t_max: Time,
) -> Option<Time> {
    let gap = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
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
pub fn crossing_times(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, t_max: Time) -> Vec<Time> {
    let diff = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
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
