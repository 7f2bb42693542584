//! MaxCombo: the most significant of several Fleming–Harrington statistics, with a p-value that
//! accounts for their correlation (Lee 2007; Karrison 2016; as in R `nph::logrank.maxtest` and
//! `simtrial::maxcombo`).
//!
//! For weights w_a (FH(ρ_a, γ_a)), U_a = Σ_j w_aj (d1_j − d_j n1_j/n_j), and
//! Cov(U_a, U_b) = Σ_j w_aj w_bj v_j with v_j the log-rank variance term; z_a = U_a/√V_a and
//! R_ab = Cov_ab/√(V_a V_b).
//! - One-sided (z < 0 favours the experimental arm): z = min_a z_a and
//!   p = 1 − P(Z_a > z for all a), Z ~ N(0, R).
//! - Two-sided: z = the z_a of largest |z_a| (its sign says which arm it favours) and
//!   p = 1 − P(|Z_a| < |z| for all a).
//!
//! R is singular for the default set (U₀₀ = U₁₀ + U₀₁); `mvn` reduces the dimension without
//! dropping any constraint. The integral is skipped when a bound decides the test: p ≥ Φ(z)
//! (one component alone) and p ≤ K·Φ(z) (Bonferroni), two-sided with 2Φ(−|z|).

use super::decision::Sides;
use super::logrank::{FhWeight, weighted_rows};
use super::{RiskTable, mvn, normal};

/// The default set: log-rank, late (0,1), early (1,0) and middle (1,1) emphasis.
pub const DEFAULT_WEIGHTS: [(f64, f64); 4] = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)];

#[derive(Debug, Clone, PartialEq)]
pub struct MaxCombo {
    /// The component z's, in the order of the weights.
    pub components: Vec<f64>,
    /// Correlation matrix of the components (row-major).
    pub corr: Vec<f64>,
    /// The combined statistic (see the module doc); NaN when a component has V = 0.
    pub z: f64,
}

/// Component statistics and their correlation.
pub fn maxcombo(table: &RiskTable, weights: &[(f64, f64)], sides: Sides) -> MaxCombo {
    let k = weights.len();
    let mut u = vec![0.0; k];
    let mut cov = vec![0.0; k * k];
    let mut w = vec![0.0; k];
    let fh: Vec<FhWeight> = weights.iter().map(|&(rho, gamma)| FhWeight::new(rho, gamma)).collect();
    // Every component's weight from the same pooled KM at each event time (passed as is).
    weighted_rows(
        table,
        |s| s,
        |s, du, dv| {
            for (a, weight) in fh.iter().enumerate() {
                w[a] = weight.at(s);
            }
            for a in 0..k {
                u[a] += w[a] * du;
                for b in 0..=a {
                    cov[a * k + b] += w[a] * w[b] * dv;
                }
            }
        },
    );
    let mut corr = vec![0.0; k * k];
    let mut components = vec![0.0; k];
    let mut ok = true;
    for a in 0..k {
        let va = cov[a * k + a];
        ok &= va > 0.0;
        components[a] = if va > 0.0 { u[a] / va.sqrt() } else { f64::NAN };
        for b in 0..=a {
            let r = cov[a * k + b] / (va * cov[b * k + b]).sqrt();
            corr[a * k + b] = r;
            corr[b * k + a] = r;
        }
    }
    let z = if ok { combined(&components, sides) } else { f64::NAN };
    MaxCombo { components, corr, z }
}

/// The combined statistic: the smallest component (one-sided), or the one of largest |z|.
fn combined(components: &[f64], sides: Sides) -> f64 {
    match sides {
        Sides::One => components.iter().copied().fold(f64::INFINITY, f64::min),
        Sides::Two => components.iter().copied().fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m }),
    }
}

impl MaxCombo {
    /// Two components from their scores `u`, variances `v` and covariance (robust MW); z is NaN
    /// when either variance is 0.
    pub(crate) fn of_two(u: [f64; 2], v: [f64; 2], cov: f64, sides: Sides) -> MaxCombo {
        let ok = v[0] > 0.0 && v[1] > 0.0;
        let components: Vec<f64> =
            (0..2).map(|a| if v[a] > 0.0 { u[a] / v[a].sqrt() } else { f64::NAN }).collect();
        let r = cov / (v[0] * v[1]).sqrt();
        let z = if ok { combined(&components, sides) } else { f64::NAN };
        MaxCombo { components, corr: vec![1.0, r, r, 1.0], z }
    }

    /// The p-value by the multivariate normal integral (NaN when z is).
    pub fn p_value(&self, sides: Sides) -> f64 {
        if self.z.is_nan() {
            return f64::NAN;
        }
        let k = self.components.len();
        let (lower, upper) = match sides {
            Sides::One => (vec![self.z; k], vec![f64::INFINITY; k]),
            Sides::Two => (vec![-self.z.abs(); k], vec![self.z.abs(); k]),
        };
        (1.0 - mvn::box_probability(&self.corr, &lower, &upper)).clamp(0.0, 1.0)
    }

    /// Lower and upper bounds on the p-value without integrating: one component alone, and
    /// Bonferroni over the components.
    pub(crate) fn p_bounds(&self, sides: Sides) -> (f64, f64) {
        let k = self.components.len() as f64;
        let single = match sides {
            Sides::One => normal::cdf(self.z),
            Sides::Two => 2.0 * normal::cdf(-self.z.abs()),
        };
        (single, (k * single).min(1.0))
    }

    /// Second-order bounds from the pairwise probabilities: with A_a the event that component a
    /// alone is at least as extreme as z, p = P(∪ A_a) lies between max_{a<b} P(A_a ∪ A_b) and
    /// the Hunter–Worsley bound Σ P(A_a) − Σ_{(a,b) ∈ T} P(A_a ∩ A_b), T a maximum spanning tree
    /// of the pairwise intersections (Hunter 1976; Worsley 1982). Tight when the components are
    /// highly correlated, as FH statistics are.
    pub(crate) fn p_pair_bounds(&self, sides: Sides) -> (f64, f64) {
        let k = self.components.len();
        let single = self.p_bounds(sides).0;
        let inter = |a: usize, b: usize| {
            let r = self.corr[a * k + b];
            match sides {
                // P(Z_a ≤ z, Z_b ≤ z) = P(−Z_a ≥ −z, −Z_b ≥ −z).
                Sides::One => mvn::bivariate_upper(-self.z, -self.z, r),
                Sides::Two => {
                    // P(|Z_a| > m, |Z_b| > m): the four corners beyond ±m.
                    let m = self.z.abs();
                    let same = mvn::bivariate_upper(m, m, r);
                    let opposite = mvn::bivariate_upper(m, m, -r);
                    2.0 * (same + opposite)
                }
            }
        };
        let mut pairs = vec![0.0; k * k];
        let mut lower = single;
        for a in 0..k {
            for b in 0..a {
                let p = inter(a, b);
                pairs[a * k + b] = p;
                pairs[b * k + a] = p;
                lower = lower.max(2.0 * single - p);
            }
        }
        // Prim's algorithm for the maximum spanning tree of the intersection probabilities.
        let mut in_tree = vec![false; k];
        let mut best = vec![f64::NEG_INFINITY; k];
        in_tree[0] = true;
        best[1..k].copy_from_slice(&pairs[1..k]);
        let mut tree = 0.0;
        for _ in 1..k {
            let next = (0..k).filter(|&b| !in_tree[b]).max_by(|&x, &y| best[x].total_cmp(&best[y]));
            let Some(b) = next else { break };
            in_tree[b] = true;
            tree += best[b];
            for c in 0..k {
                if !in_tree[c] {
                    best[c] = best[c].max(pairs[b * k + c]);
                }
            }
        }
        let upper = (k as f64 * single - tree).clamp(lower, 1.0);
        (lower, upper)
    }

    /// Whether the test rejects at level α, integrating only when cheaper bounds do not decide.
    pub fn reject(&self, sides: Sides, alpha: f64) -> Rejection {
        let decided = |reject| Rejection { reject, p: f64::NAN };
        if self.z.is_nan() {
            return decided(false);
        }
        for (lo, hi) in [self.p_bounds(sides), self.p_pair_bounds(sides)] {
            if lo >= alpha {
                return decided(false);
            }
            if hi < alpha {
                return decided(true);
            }
        }
        let p = self.p_value(sides);
        Rejection { reject: p < alpha, p }
    }
}

/// MaxCombo's decision at level α, and its p-value when the bounds did not decide (NaN when
/// they did: the integral was not needed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rejection {
    pub reject: bool,
    pub p: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn components_are_the_fh_tests_and_the_default_set_is_dependent() {
        let t = table();
        let m = maxcombo(&t, &DEFAULT_WEIGHTS, Sides::One);
        for (a, &(rho, gamma)) in DEFAULT_WEIGHTS.iter().enumerate() {
            let fh = crate::stats::logrank::fleming_harrington(&t, rho, gamma);
            assert!((m.components[a] - fh.z).abs() < 1e-14);
        }
        let (_, rank) = mvn::pivoted_cholesky(&m.corr, 4);
        assert_eq!(rank, 3, "U00 = U10 + U01");
        assert_eq!(m.z, m.components.iter().copied().fold(f64::INFINITY, f64::min));
    }

    #[test]
    fn p_value_lies_within_its_bounds() {
        let t = table();
        for sides in [Sides::One, Sides::Two] {
            let m = maxcombo(&t, &DEFAULT_WEIGHTS, sides);
            let p = m.p_value(sides);
            let (lo, hi) = m.p_bounds(sides);
            assert!(lo - 1e-12 <= p && p <= hi + 1e-12, "{sides:?}: {lo} ≤ {p} ≤ {hi}");
        }
    }

    #[test]
    fn pair_bounds_bracket_the_p_value_and_the_decision_agrees() {
        let t = table();
        for sides in [Sides::One, Sides::Two] {
            let m = maxcombo(&t, &DEFAULT_WEIGHTS, sides);
            let p = m.p_value(sides);
            let (lo, hi) = m.p_pair_bounds(sides);
            assert!(lo - 1e-10 <= p && p <= hi + 1e-10, "{sides:?}: {lo} ≤ {p} ≤ {hi}");
            assert!(hi <= m.p_bounds(sides).1 + 1e-12, "no looser than Bonferroni");
            for alpha in [0.01, 0.025, 0.05, 0.1, 0.2, 0.5] {
                assert_eq!(m.reject(sides, alpha).reject, p < alpha, "{sides:?} α = {alpha}, p = {p}");
            }
        }
    }

    #[test]
    fn a_single_weight_is_the_fh_test() {
        let t = table();
        let m = maxcombo(&t, &[(0.0, 1.0)], Sides::One);
        assert!((m.p_value(Sides::One) - normal::cdf(m.z)).abs() < 1e-14);
    }
}
