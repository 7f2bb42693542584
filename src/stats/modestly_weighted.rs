//! The modestly weighted log-rank test (MW; Magirr & Burman 2019, Stat Med 38:3782) and the
//! robust MW test, the larger of the log-rank and MW statistics (Magirr & Öhrn 2024,
//! arXiv:2412.14942).
//!
//! MW weights w_j = 1 / max(Ŝ(t_j−), s*), Ŝ the pooled Kaplan–Meier just before t_j: 1/Ŝ,
//! growing from 1, while Ŝ ≥ s*, then fixed at 1/s*. With the cap given as a time, s* = Ŝ(t*):
//! w_j = 1/Ŝ(t_j−) up to t*, then 1/Ŝ(t*). The weights never decrease and stay within [1, 1/s*],
//! so a late difference counts at most 1/s* times an early one of the same size (here the
//! transplant deaths), where FH(0, 1) gives early events a weight near 0. Magirr & Burman (2019,
//! §3) show that the test's rate of declaring benefit for an arm whose survival is never better
//! is then asymptotically at most α. U and V as in `logrank`: U = Σ w_j (d1_j − d_j n1_j/n_j),
//! V = Σ w_j² v_j, z = U/√V (z < 0 favours the experimental arm).
//!
//! Robust MW: with z_LR and z_MW from the same table, Cov(U_LR, U_MW) = Σ w_j v_j and
//! r = Cov/√(V_LR V_MW); one-sided z = min(z_LR, z_MW), p = 1 − P(Z₁ > z, Z₂ > z); two-sided the z
//! of larger |z|, p = 1 − P(|Z₁| < |z|, |Z₂| < |z|), Z ~ N(0, [[1, r], [r, 1]]). It is returned
//! as a [`MaxCombo`] of two components, whose decision and p-value it shares.

use super::RiskTable;
use super::decision::Sides;
use super::logrank::{LogRank, increment};
use super::maxcombo::MaxCombo;
pub use super::weights::Cap;
use super::weights::Weighting;

/// The MW test. With s* = 1 every weight is 1: the log-rank test.
pub fn modestly_weighted(table: &RiskTable, cap: Cap) -> LogRank {
    let s = Sums::of(table, cap);
    LogRank::from_sums(s.u[1], s.v[1])
}

/// The robust MW test: log-rank and MW, their correlation and the combined z (see the module
/// doc; NaN when either variance is 0).
pub fn robust_mw(table: &RiskTable, cap: Cap, sides: Sides) -> MaxCombo {
    let s = Sums::of(table, cap);
    MaxCombo::of_two(s.u, s.v, s.cov, sides)
}

/// One pass over the event times: the log-rank (index 0) and MW (index 1) scores and null
/// variances, and their covariance Σ w_j v_j.
struct Sums {
    u: [f64; 2],
    v: [f64; 2],
    cov: f64,
}

impl Sums {
    fn of(table: &RiskTable, cap: Cap) -> Sums {
        let mut sums = Sums { u: [0.0; 2], v: [0.0; 2], cov: 0.0 };
        let mut weight = Weighting::Mw(cap).running();
        let mut s = 1.0;
        for j in 0..table.len() {
            let (n, d) = (table.at_risk[j], table.events[j]);
            let w = weight.at(table.time[j], s);
            let (du, dv) = increment(n, d);
            sums.u[0] += du;
            sums.v[0] += dv;
            sums.u[1] += w * du;
            sums.v[1] += w * w * dv;
            sums.cov += w * dv;
            s *= 1.0 - f64::from(d[0] + d[1]) / f64::from(n[0] + n[1]);
        }
        sums
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::logrank::logrank;

    fn table() -> RiskTable {
        RiskTable::from_data(
            &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 0.7, 1.2, 2.2, 2.8, 3.1, 3.9, 4.5, 5.0],
            &[
                true, true, true, false, true, true, true, false, true, false, true, true, false, true, true,
                false,
            ],
            &[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
        )
    }

    #[test]
    fn a_cap_of_one_is_the_logrank_test() {
        let (t, lr) = (table(), logrank(&table()));
        let mw = modestly_weighted(&t, Cap::Survival(1.0));
        assert!((mw.u - lr.u).abs() < 1e-12 && (mw.v - lr.v).abs() < 1e-12 && (mw.z - lr.z).abs() < 1e-12);
        // A time cap before the first event freezes the weight at 1 too.
        assert_eq!(modestly_weighted(&t, Cap::Time(0.1)), modestly_weighted(&t, Cap::Survival(1.0)));
    }

    /// The cap of a time is the pooled KM at that time: between two event times it does not
    /// matter where t* lies.
    #[test]
    fn a_time_cap_is_the_pooled_survival_at_that_time() {
        let t = table();
        let (mut s, mut at_2) = (1.0, 1.0);
        for j in 0..t.len() {
            if t.time[j] <= 2.0 {
                let (n, d) = (t.at_risk[j], t.events[j]);
                s *= 1.0 - f64::from(d[0] + d[1]) / f64::from(n[0] + n[1]);
                at_2 = s;
            }
        }
        let by_time = modestly_weighted(&t, Cap::Time(2.0));
        let by_survival = modestly_weighted(&t, Cap::Survival(at_2));
        assert!((by_time.z - by_survival.z).abs() < 1e-14);
        assert_eq!(modestly_weighted(&t, Cap::Time(2.1)), by_time);
        // A cap after the last event never binds: weights 1/Ŝ(t−) throughout.
        assert_eq!(modestly_weighted(&t, Cap::Time(100.0)), modestly_weighted(&t, Cap::Survival(1e-300)));
    }

    #[test]
    fn robust_mw_combines_the_two_statistics() {
        let t = table();
        let r = robust_mw(&t, Cap::Survival(0.5), Sides::One);
        let (lr, mw) = (logrank(&t), modestly_weighted(&t, Cap::Survival(0.5)));
        assert!((r.components[0] - lr.z).abs() < 1e-14 && (r.components[1] - mw.z).abs() < 1e-14);
        assert_eq!(r.z, lr.z.min(mw.z));
        assert!(r.corr[1] > 0.0 && r.corr[1] <= 1.0);
    }
}
