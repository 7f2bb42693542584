//! The long-term benefit on the true curves, without simulation (issue 25, first part): the
//! restricted mean survival time gained by the experimental arm to any time t,
//! ΔRMST(t) = ∫₀ᵗ (S_exp − S_ctl) du (life-years gained on OS, event-free years gained on EFS), and
//! the break-even time, when the years lost to early deaths have been given back:
//!
//!   T_be = inf{t₀ ≥ 0 : ΔRMST(t) > ε for all t in (t₀, H]},  ε = 1e-10,
//!
//! "not reached by H" when ΔRMST(H) ≤ ε (a statement relative to the horizon H). Beyond the
//! studies' follow-up these values rest on the last hazard piece continuing.
//!
//! ΔRMST falls where the experimental curve is below control's and rises where it is above, so
//! its local minima are the times the curves cross upwards. The break-even time is found from
//! the last of them at which ΔRMST ≤ ε, by bisection on the rise after it.

use crate::scenario::{Arm, Endpoint};
use crate::time::Time;

use super::curves::{crossing_times, rmst, survival};

/// The ε of the break-even time: gains below it are rounding, not years.
pub const EPSILON: f64 = 1e-10;

/// ΔRMST(t) = RMST_exp(t) − RMST_ctl(t) on the true curves of `ep`.
pub fn rmst_gain(ctl: &Arm, exp: &Arm, ep: &Endpoint, t: Time) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    rmst(exp, ep, t) - rmst(ctl, ep, t)
}

/// When the experimental arm's restricted mean has caught up for good, up to `horizon`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakEven {
    At(Time),
    /// ΔRMST(horizon) ≤ ε.
    NotReached,
}

/// The break-even time up to `horizon` (see the module doc).
pub fn break_even(ctl: &Arm, exp: &Arm, ep: &Endpoint, horizon: Time) -> BreakEven {
    let gain = |t: f64| rmst_gain(ctl, exp, ep, t);
    if gain(horizon) <= EPSILON {
        return BreakEven::NotReached;
    }
    // The local minima of ΔRMST: 0 and the upward crossings of the curves.
    let diff = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    let mut minima = vec![0.0];
    minima.extend(crossing_times(ctl, exp, ep, horizon).into_iter().filter(|&c| diff(c + 1e-9) > 0.0));
    let from = minima.iter().rev().copied().find(|&m| gain(m) <= EPSILON).unwrap_or(0.0);
    // ΔRMST rises from `from` until the next downward crossing (or the horizon), and every later
    // minimum is above ε: it passes ε once, in (from, to].
    let to = crossing_times(ctl, exp, ep, horizon)
        .into_iter()
        .find(|&c| c > from && diff(c + 1e-9) < 0.0)
        .unwrap_or(horizon);
    let (mut lo, mut hi) = (from, to);
    while hi - lo > 1e-12 * hi.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if gain(mid) > EPSILON {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    BreakEven::At(hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn scenario(path: &str) -> Scenario {
        Scenario::from_path(std::path::Path::new(path)).expect("shipped scenario")
    }

    /// ΔRMST on a 1e-4 grid by Simpson's rule on S_exp − S_ctl (no quadrature of `rmst`), and the
    /// last grid time where it is ≤ ε.
    fn brute_force(ctl: &Arm, exp: &Arm, ep: &Endpoint, horizon: f64) -> (f64, Option<f64>) {
        let h = 1e-4;
        let n = (horizon / h).round() as usize;
        let d = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
        let (mut gain, mut last_low) = (0.0, Some(0.0));
        for k in 0..n {
            let (a, b) = (k as f64 * h, (k + 1) as f64 * h);
            gain += (b - a) / 6.0 * (d(a) + 4.0 * d(0.5 * (a + b)) + d(b));
            if gain <= EPSILON {
                last_low = Some(b);
            }
        }
        (gain, if gain <= EPSILON { None } else { last_low })
    }

    #[test]
    fn the_calibrated_model_breaks_even_where_a_brute_force_scan_does() {
        let sc = scenario("scenarios/hsct_ssc.toml");
        let (ctl, exp, ep) = (sc.control().unwrap(), sc.experimental().unwrap(), sc.primary());
        let BreakEven::At(t) = break_even(ctl, exp, ep, 20.0) else { panic!("the transplant breaks even") };
        let (gain, last_low) = brute_force(ctl, exp, ep, 20.0);
        assert!((gain - rmst_gain(ctl, exp, ep, 20.0)).abs() < 1e-8, "{gain}");
        let last_low = last_low.expect("a gain at 20 years");
        eprintln!("hsct_ssc: break-even {t} (brute force {last_low}), ΔRMST(20) = {gain}");
        assert!((t - last_low).abs() <= 1e-4 + 1e-9, "break-even {t} vs brute force {last_low}");
        assert!(t > 2.0 && t < 20.0, "{t}");
    }

    #[test]
    fn proportional_hazards_break_even_at_once_and_identical_arms_never() {
        let sc = scenario("scenarios/ph.toml");
        let (ctl, exp, ep) = (sc.control().unwrap(), sc.experimental().unwrap(), sc.primary());
        for t in [0.5, 1.0, 5.0, 20.0] {
            assert!(rmst_gain(ctl, exp, ep, t) > 0.0, "HR < 1: a gain at {t}");
        }
        let BreakEven::At(t) = break_even(ctl, exp, ep, 20.0) else { panic!("HR < 1 breaks even") };
        assert!(t < 1e-4, "at once, to the grid step: {t}");
        let null = scenario("scenarios/null.toml");
        let (ctl, exp, ep) = (null.control().unwrap(), null.experimental().unwrap(), null.primary());
        assert_eq!(rmst_gain(ctl, exp, ep, 20.0), 0.0);
        assert_eq!(break_even(ctl, exp, ep, 20.0), BreakEven::NotReached);
    }
}
