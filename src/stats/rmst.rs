//! Restricted mean survival time to τ: the area under the Kaplan–Meier curve, with the variance
//! R's `survival:::survmean` reports, Var = Σ_{t_j ≤ τ} A_j² d_j/(n_j(n_j − d_j)) with
//! A_j = ∫_{t_j}^{τ} Ŝ(u) du (Klein & Moeschberger 2003, §4.5). A term with n_j = d_j has
//! A_j = 0 (Ŝ is 0 after it) and is left out. τ beyond the group's last observed time: NaN.
//!
//! The difference test: diff = RMST₁ − RMST₀, SE² = SE₁² + SE₀², z = −diff/SE (z < 0 favours the
//! experimental arm).

use super::RiskTable;
use super::kaplan_meier::greenwood_term;
use crate::time::Time;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rmst {
    pub rmst: f64,
    pub se: f64,
}

/// RMST of group g to τ.
pub fn rmst(table: &RiskTable, g: usize, tau: Time) -> Rmst {
    if tau > table.last_time[g] {
        return Rmst { rmst: f64::NAN, se: f64::NAN };
    }
    // Rows to τ (times increase), and of those the ones with an event in group g.
    let rows = table.time.partition_point(|&t| t <= tau);
    let steps = || {
        table.time[..rows]
            .iter()
            .zip(&table.at_risk[..rows])
            .zip(&table.events[..rows])
            .filter(move |(_, d)| d[g] > 0)
            .map(move |((&t, n), d)| (t, n[g], d[g]))
    };
    // Pass 1: the whole area to τ.
    let (mut area, mut s, mut prev) = (0.0, 1.0, 0.0);
    for (t, n, d) in steps() {
        area += s * (t - prev);
        s *= 1.0 - f64::from(d) / f64::from(n);
        prev = t;
    }
    let total = area + s * (tau - prev);
    // Pass 2: A_j = total − area up to t_j.
    let (mut area, mut s, mut prev, mut var) = (0.0, 1.0, 0.0, 0.0);
    for (t, n, d) in steps() {
        area += s * (t - prev);
        let a = total - area;
        var += a * a * greenwood_term(n, d);
        s *= 1.0 - f64::from(d) / f64::from(n);
        prev = t;
    }
    Rmst { rmst: total, se: var.sqrt() }
}

/// RMST difference (experimental − control) with its z.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RmstDiff {
    pub arms: [Rmst; 2],
    pub diff: f64,
    pub se: f64,
    pub z: f64,
}

pub fn rmst_difference(table: &RiskTable, tau: Time) -> RmstDiff {
    let arms = [rmst(table, 0, tau), rmst(table, 1, tau)];
    let diff = arms[1].rmst - arms[0].rmst;
    let se = (arms[0].se.powi(2) + arms[1].se.powi(2)).sqrt();
    let z = super::decision::benefit_z(diff, se);
    RmstDiff { arms, diff, se, z }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_area_and_variance() {
        // Events at 1 and 3 (n = 4, then 2 after a censoring at 2), censored at 4. τ = 4.
        // Ŝ: 1 on [0,1), 3/4 on [1,3), 3/8 on [3,4]. Area = 1 + 1.5 + 0.375 = 2.875.
        let t = RiskTable::from_data(&[1.0, 2.0, 3.0, 4.0], &[true, false, true, false], &[0; 4]);
        let r = rmst(&t, 0, 4.0);
        assert!((r.rmst - 2.875).abs() < 1e-15);
        // A(1) = 1.875, A(3) = 0.375; terms 1/12 and 1/2.
        let var = 1.875f64.powi(2) / 12.0 + 0.375f64.powi(2) / 2.0;
        assert!((r.se - var.sqrt()).abs() < 1e-15);
        assert!(rmst(&t, 0, 4.5).rmst.is_nan());
    }
}
