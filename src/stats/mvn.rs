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
pub(crate) fn pivoted_cholesky(corr: &[f64], d: usize) -> (Vec<f64>, usize) {
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
pub(crate) fn box_probability(corr: &[f64], lower: &[f64], upper: &[f64]) -> f64 {
    let d = lower.len();
    assert_eq!(corr.len(), d * d, "a d × d correlation matrix");
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

/// P(X > h, Y > k) for a standard bivariate normal with correlation r, |r| ≤ 1: the method of
/// Drezner & Wesolowsky (1990) as refined by Genz (2004, "Numerical computation of rectangular
/// bivariate and trivariate normal and t probabilities", Statistics and Computing 14:251–260),
/// accurate to ~1e-15 with 6, 12 or 20 Gauss–Legendre points. The integrand is written in
/// θ = asin(ρ) for |r| < 0.925 (Plackett's identity, ∂P/∂ρ = φ₂(h, k; ρ)), and for |r| ≥ 0.925
/// in x = √(1 − ρ²) with the singular part taken out in closed form. Tens of exponentials
/// against thousands for adaptive quadrature: MaxCombo's pairwise bounds need six per replicate.
pub(crate) fn bivariate_upper(h: f64, k: f64, r: f64) -> f64 {
    use std::f64::consts::PI;
    let tail = |x: f64| normal::cdf(-x);
    if h.is_nan() || k.is_nan() || r.is_nan() {
        return f64::NAN;
    }
    if h == f64::INFINITY || k == f64::INFINITY {
        return 0.0;
    }
    if h == f64::NEG_INFINITY {
        return tail(k);
    }
    if k == f64::NEG_INFINITY {
        return tail(h);
    }
    if r == 0.0 {
        return tail(h) * tail(k);
    }
    let (nodes, weights): (&[f64], &[f64]) = if r.abs() < 0.3 {
        (&GL6.0, &GL6.1)
    } else if r.abs() < 0.75 {
        (&GL12.0, &GL12.1)
    } else {
        (&GL20.0, &GL20.1)
    };
    // The rule on [0, 2]: nodes 1 ∓ x, each with weight w.
    let points = || nodes.iter().zip(weights).flat_map(|(&x, &w)| [(1.0 - x, w), (1.0 + x, w)]);
    let two_pi = 2.0 * PI;
    let mut hk = h * k;
    if r.abs() < 0.925 {
        let hs = (h * h + k * k) / 2.0;
        let asr = r.asin() / 2.0;
        let sum: f64 = points()
            .map(|(x, w)| {
                let sn = (asr * x).sin();
                w * ((sn * hk - hs) / (1.0 - sn * sn)).exp()
            })
            .sum();
        return (sum * asr / two_pi + tail(h) * tail(k)).clamp(0.0, 1.0);
    }
    let k = if r < 0.0 {
        hk = -hk;
        -k
    } else {
        k
    };
    let mut bvn = 0.0;
    if r.abs() < 1.0 {
        let a_s = (1.0 - r) * (1.0 + r);
        let mut a = a_s.sqrt();
        let bs = (h - k) * (h - k);
        let c = (4.0 - hk) / 8.0;
        let d = (12.0 - hk) / 80.0;
        let asr = -(bs / a_s + hk) / 2.0;
        if asr > -100.0 {
            bvn = a * asr.exp() * (1.0 - c * (bs - a_s) * (1.0 - d * bs) / 3.0 + c * d * a_s * a_s);
        }
        if hk > -100.0 {
            let b = bs.sqrt();
            let sp = two_pi.sqrt() * normal::cdf(-b / a);
            bvn -= (-hk / 2.0).exp() * sp * b * (1.0 - c * bs * (1.0 - d * bs) / 3.0);
        }
        a /= 2.0;
        let sum: f64 = points()
            .filter_map(|(x, w)| {
                let xs = (a * x) * (a * x);
                let asr = -(bs / xs + hk) / 2.0;
                (asr > -100.0).then(|| {
                    let sp = 1.0 + c * xs * (1.0 + 5.0 * d * xs);
                    let rs = (1.0 - xs).sqrt();
                    let ep = (-(hk / 2.0) * xs / ((1.0 + rs) * (1.0 + rs))).exp() / rs;
                    w * asr.exp() * (sp - ep)
                })
            })
            .sum();
        bvn = (a * sum - bvn) / two_pi;
    }
    let p = if r > 0.0 {
        bvn + tail(h.max(k))
    } else if h >= k {
        -bvn
    } else {
        let between = if h < 0.0 { normal::cdf(k) - normal::cdf(h) } else { tail(h) - tail(k) };
        between - bvn
    };
    p.clamp(0.0, 1.0)
}

/// Gauss–Legendre nodes (positive half, on [−1, 1]) and weights: 6, 12 and 20 points
/// (Abramowitz & Stegun 1964, Table 25.4), quoted as published; the compiler rounds.
#[allow(clippy::excessive_precision)]
const GL6: ([f64; 3], [f64; 3]) = (
    [0.932_469_514_203_152_1, 0.661_209_386_466_264_5, 0.238_619_186_083_197],
    [0.171_324_492_379_170_3, 0.360_761_573_048_138_4, 0.467_913_934_572_691],
);
#[allow(clippy::excessive_precision)]
const GL12: ([f64; 6], [f64; 6]) = (
    [
        0.981_560_634_246_719_3,
        0.904_117_256_370_475,
        0.769_902_674_194_305,
        0.587_317_954_286_617_1,
        0.367_831_498_998_180_2,
        0.125_233_408_511_469_2,
    ],
    [
        0.047_175_336_386_511_77,
        0.106_939_325_995_318_3,
        0.160_078_328_543_346_4,
        0.203_167_426_723_065_9,
        0.233_492_536_538_354_7,
        0.249_147_045_813_402_9,
    ],
);
#[allow(clippy::excessive_precision)]
const GL20: ([f64; 10], [f64; 10]) = (
    [
        0.993_128_599_185_094_9,
        0.963_971_927_277_913_8,
        0.912_234_428_251_325_9,
        0.839_116_971_822_218_8,
        0.746_331_906_460_150_8,
        0.636_053_680_726_515,
        0.510_867_001_950_827_1,
        0.373_706_088_715_419_6,
        0.227_785_851_141_645_1,
        0.076_526_521_133_497_33,
    ],
    [
        0.017_614_007_139_152_12,
        0.040_601_429_800_386_94,
        0.062_672_048_334_109_06,
        0.083_276_741_576_704_75,
        0.101_930_119_817_240_4,
        0.118_194_531_961_518_4,
        0.131_688_638_449_176_6,
        0.142_096_109_318_382_1,
        0.149_172_986_472_603_7,
        0.152_753_387_130_725_9,
    ],
);

/// 1/√(2π).
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// Where the normal density is cut off: Φ(−9) ≈ 1.1e-19.
const TAIL: f64 = 9.0;

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// The closed form against the adaptive quadrature of `box_probability` (an independent
    /// method) over signs, magnitudes and correlations on both sides of the 0.3, 0.75 and 0.925
    /// switches, and the orthant formula ¼ + asin(ρ)/2π.
    #[test]
    fn bivariate_closed_form_agrees_with_quadrature() {
        let points = [-3.0, -1.96, -0.7, 0.0, 0.4, 1.5, 2.8];
        let rs = [
            -0.99, -0.95, -0.93, -0.8, -0.5, -0.2, 0.1, 0.29, 0.31, 0.6, 0.76, 0.9, 0.924, 0.93, 0.97, 0.999,
        ];
        for &r in &rs {
            let corr = [1.0, r, r, 1.0];
            for &h in &points {
                for &k in &points {
                    let closed = bivariate_upper(h, k, r);
                    let quad = box_probability(&corr, &[h, k], &[f64::INFINITY; 2]);
                    assert!((closed - quad).abs() < 1e-10, "h {h} k {k} r {r}: {closed} vs {quad}");
                }
            }
            let orthant = 0.25 + r.asin() / (2.0 * PI);
            assert!((bivariate_upper(0.0, 0.0, r) - orthant).abs() < 1e-14, "r {r}");
        }
        assert_eq!(bivariate_upper(1.0, f64::INFINITY, 0.5), 0.0);
        assert!((bivariate_upper(f64::NEG_INFINITY, 1.0, 0.5) - normal::cdf(-1.0)).abs() < 1e-16);
        assert!((bivariate_upper(0.3, -0.4, 0.0) - normal::cdf(-0.3) * normal::cdf(0.4)).abs() < 1e-16);
        // r = ±1: the smaller of the two tails, and the length of the gap between them.
        assert!((bivariate_upper(0.5, 1.0, 1.0) - normal::cdf(-1.0)).abs() < 1e-15);
        assert!((bivariate_upper(-1.0, -0.5, -1.0) - (normal::cdf(0.5) - normal::cdf(-1.0))).abs() < 1e-15);
        assert_eq!(bivariate_upper(1.0, 0.5, -1.0), 0.0);
    }

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
