//! Multivariate normal probabilities of boxes, P(a_k ≤ Z_k ≤ b_k for all k), Z ~ N(0, R), R a
//! correlation matrix that may be singular — as MaxCombo needs (its default set of FH statistics
//! is linearly dependent, U₀₀ = U₁₀ + U₀₁).
//!
//! Method: separation of variables (Genz 1992; Genz & Bretz 2009, §4.1). A pivoted Cholesky
//! factor writes Z = L·y with y ~ N(0, I_r), r = rank R; a dependent component is *not* dropped
//! from the event (its constraint is not implied by the others when the bounds are negative) but
//! becomes a constraint on the y's (Genz & Bretz 2009, §4.1.4): row k bounds y_m for the last m
//! with L_km ≠ 0. Then
//!   P = ∫ φ(y₁) ∫ φ(y₂) … [Φ(hi_r) − Φ(lo_r)] dy₂ dy₁,
//! each y_m ranging over the intersection of its rows' intervals given y₁ … y_{m−1}. The nested
//! integrals are taken in u = Φ(y) ∈ (Φ(lo), Φ(hi)) by adaptive Gauss–Kronrod: deterministic
//! (no random lattice shift), accurate to ~1e-10 for r ≤ 3, with cost growing like 100^(r−1).

use super::normal;
#[cfg(test)]
use crate::quadrature::integrate;
use crate::quadrature::integrate_finite;

/// The largest rank MaxCombo accepts: the nested quadrature costs ~100^(r−1) evaluations.
pub const MAX_MAXCOMBO_RANK: usize = 3;

/// Rank tolerance of the pivoted Cholesky (on a correlation scale).
const RANK_TOL: f64 = 1e-9;

/// A factor entry below this is rounding left over from a dependent row (its remaining variance
/// is below `RANK_TOL`, so the entry is below √RANK_TOL ≈ 3e-5 and in practice ~1e-15): the row
/// then belongs to an earlier column.
const OWNER_TOL: f64 = 1e-7;

/// Z = L·y with L (d × r) from a pivoted Cholesky of the correlation matrix `corr` (d × d,
/// row-major): returns the factor (row-major, d × r) and r. Rows keep their original order;
/// columns follow the pivot order.
pub fn pivoted_cholesky(corr: &[f64], d: usize) -> (Vec<f64>, usize) {
    let mut l = vec![0.0; d * d]; // d × d workspace; columns beyond the rank stay 0
    let mut diag: Vec<f64> = (0..d).map(|i| corr[i * d + i]).collect();
    let mut used = vec![false; d];
    let mut r = 0;
    while r < d {
        // Pivot: the component with the largest remaining variance (first on ties).
        let mut p = usize::MAX;
        for i in 0..d {
            if !used[i] && (p == usize::MAX || diag[i] > diag[p]) {
                p = i;
            }
        }
        if p == usize::MAX || diag[p] <= RANK_TOL {
            break;
        }
        used[p] = true;
        let pivot = diag[p].sqrt();
        l[p * d + r] = pivot;
        for i in 0..d {
            if used[i] && i != p {
                continue;
            }
            if i == p {
                continue;
            }
            let mut s = corr[i * d + p];
            for c in 0..r {
                s -= l[i * d + c] * l[p * d + c];
            }
            l[i * d + r] = s / pivot;
            diag[i] -= l[i * d + r] * l[i * d + r];
        }
        r += 1;
    }
    // Compact to d × r.
    let mut out = vec![0.0; d * r];
    for i in 0..d {
        out[i * r..(i + 1) * r].copy_from_slice(&l[i * d..i * d + r]);
    }
    (out, r)
}

/// P(lower_k ≤ Z_k ≤ upper_k ∀k), Z ~ N(0, corr); bounds may be ±∞.
pub fn box_probability(corr: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    let d = lower.len();
    debug_assert_eq!(corr.len(), d * d);
    let (l, r) = pivoted_cholesky(corr, d);
    if r == 0 {
        return f64::NAN;
    }
    // Each row constrains the last y with a non-negligible coefficient.
    let owner: Vec<usize> = (0..d)
        .map(|k| (0..r).rev().find(|&c| l[k * r + c].abs() > OWNER_TOL).expect("row of a correlation matrix"))
        .collect();
    if r > MAX_RANK.min(MAX_MAXCOMBO_RANK + 1) {
        // Validation keeps MaxCombo at rank ≤ 3; beyond 4 the quadrature would not finish.
        return f64::NAN;
    }
    let problem = Problem { l: &l, r, lower, upper, owner: &owner };
    let mut y = [0.0; MAX_RANK];
    problem.level(0, &mut y)
}

/// Largest rank handled (the MaxCombo weights are limited to 6).
const MAX_RANK: usize = 8;

struct Problem<'a> {
    l: &'a [f64],
    r: usize,
    lower: &'a [f64],
    upper: &'a [f64],
    owner: &'a [usize],
}

impl Problem<'_> {
    /// Row k's bounds on y_m given y_0 … y_{m−1}: (lower, upper), either may be infinite.
    fn row_bounds(&self, k: usize, m: usize, y: &[f64]) -> (f64, f64) {
        let row = &self.l[k * self.r..(k + 1) * self.r];
        let partial: f64 = (0..m).map(|c| row[c] * y[c]).sum();
        let coef = row[m];
        let (a, b) = ((self.lower[k] - partial) / coef, (self.upper[k] - partial) / coef);
        if coef > 0.0 { (a, b) } else { (b, a) }
    }

    /// The interval of y_m allowed by the rows it owns, given y_0 … y_{m−1}.
    fn interval(&self, m: usize, y: &[f64]) -> (f64, f64) {
        let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
        for k in (0..self.owner.len()).filter(|&k| self.owner[k] == m) {
            let (a, b) = self.row_bounds(k, m, y);
            lo = lo.max(a);
            hi = hi.min(b);
        }
        (lo, hi)
    }

    /// Where, as a function of y_m, the next level's active bound switches or its interval
    /// empties: the integrand of level m has a kink there. Each of the next level's bounds is
    /// linear in y_m (α + β·y_m), so these points are pairwise intersections.
    fn kinks(&self, m: usize, y: &mut [f64; MAX_RANK], out: &mut Vec<f64>) {
        out.clear();
        let next = m + 1;
        let rows: Vec<usize> = (0..self.owner.len()).filter(|&k| self.owner[k] == next).collect();
        // Bounds at y_m = 0 and y_m = 1 give α and β of each linear bound.
        let mut lines: Vec<(f64, f64)> = Vec::new();
        for &k in &rows {
            y[m] = 0.0;
            let (a0, b0) = self.row_bounds(k, next, &y[..]);
            y[m] = 1.0;
            let (a1, b1) = self.row_bounds(k, next, &y[..]);
            for (v0, v1) in [(a0, a1), (b0, b1)] {
                if v0.is_finite() && v1.is_finite() {
                    lines.push((v0, v1 - v0));
                }
            }
        }
        for i in 0..lines.len() {
            for j in 0..i {
                let (a1, b1) = lines[i];
                let (a2, b2) = lines[j];
                if (b1 - b2).abs() > 1e-14 {
                    let x = (a2 - a1) / (b1 - b2);
                    if x.is_finite() {
                        out.push(x);
                    }
                }
            }
        }
    }

    fn level(&self, m: usize, y: &mut [f64; MAX_RANK]) -> f64 {
        let (lo, hi) = self.interval(m, &y[..]);
        if hi.is_nan() || lo.is_nan() || hi <= lo {
            return 0.0;
        }
        if m + 1 == self.r {
            return (normal::cdf(hi) - normal::cdf(lo)).max(0.0);
        }
        // Integrate φ(y)·(inner probability) in y over the range cut at ±TAIL: smooth (no
        // unbounded derivatives, unlike u = Φ(y) near 0 and 1), and the mass cut off is < 1e-18.
        let (lo, hi) = (lo.max(-TAIL), hi.min(TAIL));
        if hi.is_nan() || lo.is_nan() || hi <= lo {
            return 0.0;
        }
        let mut knots = Vec::new();
        self.kinks(m, y, &mut knots);
        // Pieces of at most ~1.5 SD around the density's peak: each converges on the first
        // Gauss–Kronrod pass.
        knots.extend_from_slice(&[-6.0, -4.5, -3.0, -1.5, 0.0, 1.5, 3.0, 4.5, 6.0]);
        knots.retain(|&x| x > lo && x < hi);
        knots.push(hi);
        knots.sort_by(|a, b| a.total_cmp(b));
        let base = *y;
        let f = |x: f64| {
            let mut yy = base;
            yy[m] = x;
            (-0.5 * x * x).exp() * FRAC_1_SQRT_2PI * self.level(m + 1, &mut yy)
        };
        integrate_finite(f, lo, &knots, 1e-11)
    }
}

/// 1/√(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Where the normal density is cut off: Φ(−9) ≈ 1.1e-19.
const TAIL: f64 = 9.0;

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn orthant_closed_forms() {
        // d = 2: P(Z₁ > 0, Z₂ > 0) = ¼ + asin(ρ)/2π.
        let rho: f64 = 0.6;
        let p = box_probability(&[1.0, rho, rho, 1.0], &[0.0, 0.0], &[f64::INFINITY; 2]);
        assert!((p - (0.25 + rho.asin() / (2.0 * PI))).abs() < 1e-9, "{p}");
        // d = 3: ⅛ + Σ asin(ρ_ij)/4π.
        let (a, b, c): (f64, f64, f64) = (0.3, 0.5, 0.2);
        let corr = [1.0, a, b, a, 1.0, c, b, c, 1.0];
        let p = box_probability(&corr, &[0.0; 3], &[f64::INFINITY; 3]);
        let want = 0.125 + (a.asin() + b.asin() + c.asin()) / (4.0 * PI);
        assert!((p - want).abs() < 1e-9, "{p} vs {want}");
    }

    #[test]
    fn independence_is_a_product() {
        let corr = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let p = box_probability(&corr, &[-1.0, 0.5, -2.0], &[1.0, f64::INFINITY, 0.3]);
        let want = (normal::cdf(1.0) - normal::cdf(-1.0))
            * (1.0 - normal::cdf(0.5))
            * (normal::cdf(0.3) - normal::cdf(-2.0));
        assert!((p - want).abs() < 1e-10, "{p} vs {want}");
    }

    #[test]
    fn identical_components_count_once() {
        let p = box_probability(&[1.0, 1.0, 1.0, 1.0], &[-0.7, -0.7], &[f64::INFINITY; 2]);
        assert!((p - (1.0 - normal::cdf(-0.7))).abs() < 1e-12);
    }

    #[test]
    fn a_dependent_component_still_constrains() {
        // Z₃ = (Z₁ + Z₂)/√2 with Z₁, Z₂ independent. For c < 0 the event {Z₃ > c} is not implied
        // by {Z₁ > c, Z₂ > c}; the answer is ∫∫ over the intersection, computed here on a fine
        // grid as an independent check.
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let corr = [1.0, 0.0, s, 0.0, 1.0, s, s, s, 1.0];
        let c = -1.0;
        let p = box_probability(&corr, &[c; 3], &[f64::INFINITY; 3]);
        let dropped = (1.0 - normal::cdf(c)).powi(2);
        // ∫_{z₁>c} φ(z₁) P(Z₂ > max(c, √2·c − z₁)) dz₁ by the crate's quadrature, split at the kink.
        let g = |z1: f64| {
            let lo = c.max(std::f64::consts::SQRT_2 * c - z1);
            (-0.5 * z1 * z1).exp() / (2.0 * PI).sqrt() * (1.0 - normal::cdf(lo))
        };
        let kink = std::f64::consts::SQRT_2 * c - c;
        let want = integrate(g, c, &[kink, 12.0], 1e-14);
        assert!((p - want).abs() < 1e-9, "{p} vs {want}");
        assert!(dropped - p > 1e-3, "dropping the constraint would change the answer");
    }
}
