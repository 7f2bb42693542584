//! Kaplan–Meier survival per group with Greenwood's standard error, and the milestone test.
//!
//! Ŝ(t) = Π_{t_j ≤ t} (1 − d_j/n_j) (right-continuous); Var Ŝ(t) = Ŝ(t)² Σ_{t_j ≤ t} d_j/(n_j(n_j − d_j))
//! (Greenwood 1926; R `survfit(..., se.fit = TRUE)`, whose `std.err` is of −log Ŝ, so
//! SE(Ŝ) = Ŝ·std.err). Once Ŝ has dropped to 0 (n_j = d_j) the SE is 0·∞, NaN as in R. At a time
//! beyond the group's last observed time Ŝ is not estimable (NaN).

use super::RiskTable;
use crate::time::Time;

/// Ŝ and its Greenwood SE at one time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmPoint {
    pub surv: f64,
    pub se: f64,
}

impl KmPoint {
    const NAN: KmPoint = KmPoint { surv: f64::NAN, se: f64::NAN };
}

/// Greenwood's increment d/(n(n − d)), 0 when n = d.
pub(crate) fn greenwood_term(n: u32, d: u32) -> f64 {
    if n > d { f64::from(d) / (f64::from(n) * f64::from(n - d)) } else { 0.0 }
}

/// Walks group g's Kaplan–Meier curve up to each of `times` (increasing) and calls
/// `at(k, t, Ŝ(t), Σ Greenwood terms to t)`, or `at(k, t, NaN, NaN)` beyond the group's last
/// observed time. One walk serves the estimate with its SE and the cheap band (where the unused
/// Greenwood sum is optimised away).
#[inline]
fn walk(table: &RiskTable, g: usize, times: &[Time], mut at: impl FnMut(usize, f64, f64)) {
    let mut s = 1.0;
    let mut gw = 0.0;
    let mut j = 0;
    for (k, &t) in times.iter().enumerate() {
        while j < table.len() && table.time[j] <= t {
            let (n, d) = (table.at_risk[j][g], table.events[j][g]);
            // No branch on d > 0 (the other group's event times, a coin toss for the predictor):
            // with d = 0 both updates are exact no-ops (s·1 and gw + 0).
            s *= 1.0 - f64::from(d) / f64::from(n.max(1));
            gw += greenwood_term(n, d);
            j += 1;
        }
        if t > table.last_time[g] { at(k, f64::NAN, f64::NAN) } else { at(k, s, gw) }
    }
}

/// Ŝ_g and SE at each of `times` (increasing), written to `out` (same length).
pub fn km_at(table: &RiskTable, g: usize, times: &[Time], out: &mut [KmPoint]) {
    assert_eq!(times.len(), out.len(), "one output per time");
    walk(table, g, times, |k, s, gw| {
        // Once Ŝ is 0 Greenwood's variance is 0·∞: undefined (NaN), as R reports it.
        out[k] = KmPoint { surv: s, se: if s > 0.0 { s * gw.sqrt() } else { f64::NAN } };
    });
}

/// Ŝ_g alone (no standard error) at each of `times` (increasing): the cheap walk used for the
/// Kaplan–Meier band. NaN beyond the group's last observed time.
pub(crate) fn surv_at(table: &RiskTable, g: usize, times: &[Time], out: &mut [f64]) {
    walk(table, g, times, |k, s, _| out[k] = s);
}

/// Milestone survival difference at t*: diff = Ŝ₁(t*) − Ŝ₀(t*), SE² = SE₁² + SE₀²,
/// z = −diff/SE (z < 0 favours the experimental arm). NaN when either arm is not estimable at t*
/// or SE = 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Milestone {
    pub diff: f64,
    pub se: f64,
    pub z: f64,
}

pub fn milestone(table: &RiskTable, t: Time) -> Milestone {
    let mut p = [KmPoint::NAN; 1];
    km_at(table, 0, &[t], &mut p);
    let c = p[0];
    km_at(table, 1, &[t], &mut p);
    let e = p[0];
    let diff = e.surv - c.surv;
    let se = (e.se * e.se + c.se * c.se).sqrt();
    let z = super::decision::benefit_z(diff, se);
    Milestone { diff, se, z }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_km_and_greenwood() {
        // Group 0: events at 1, 3; censored at 2, 4. Ŝ(1) = 3/4, Ŝ(3) = 3/4 · 1/2.
        let t = RiskTable::from_data(&[1.0, 2.0, 3.0, 4.0], &[true, false, true, false], &[0; 4]);
        let mut out = [KmPoint::NAN; 4];
        km_at(&t, 0, &[0.5, 1.0, 3.0, 5.0], &mut out);
        assert_eq!(out[0], KmPoint { surv: 1.0, se: 0.0 });
        assert_eq!(out[1].surv, 0.75);
        assert!((out[1].se - 0.75 * (1.0f64 / 12.0).sqrt()).abs() < 1e-15);
        assert_eq!(out[2].surv, 0.375);
        assert!((out[2].se - 0.375 * (1.0f64 / 12.0 + 1.0 / 2.0).sqrt()).abs() < 1e-15);
        assert!(out[3].surv.is_nan(), "beyond the last observed time");
    }

    #[test]
    fn everyone_dies_gives_zero_with_an_undefined_se() {
        let t = RiskTable::from_data(&[1.0, 2.0], &[true, true], &[0, 0]);
        let mut out = [KmPoint::NAN; 1];
        km_at(&t, 0, &[2.0], &mut out);
        assert_eq!(out[0].surv, 0.0);
        assert!(out[0].se.is_nan());
    }

    #[test]
    fn milestone_sign() {
        // Experimental (1) better at t = 2: z < 0.
        let t = RiskTable::from_data(
            &[1.0, 1.5, 3.0, 3.0, 1.0, 3.0, 3.0, 3.0],
            &[true, true, false, false, true, false, false, false],
            &[0, 0, 0, 0, 1, 1, 1, 1],
        );
        let m = milestone(&t, 2.0);
        assert!((m.diff - 0.25).abs() < 1e-15);
        assert!(m.z < 0.0);
    }
}
