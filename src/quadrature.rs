//! Deterministic adaptive quadrature for the model's true quantities (RMST, cumulative
//! incidence, expected events): Gauss–Kronrod 7–15 with interval bisection (Piessens et al.,
//! QUADPACK, 1983, routine QAG). Integrands here are smooth between known knots (hazard
//! breakpoints), so the caller splits the range there and each piece converges fast.

// The nodes and weights are quoted to 30 digits as published (QUADPACK); the compiler rounds.
#![allow(clippy::excessive_precision)]

/// Kronrod 15-point abscissae on [−1, 1] (non-negative half) and weights; every second abscissa
/// (odd index) is a 7-point Gauss node with the Gauss weights below.
const XGK: [f64; 8] = [
    0.991_455_371_120_812_639_206_854_697_526_329,
    0.949_107_912_342_758_524_526_189_684_047_851,
    0.864_864_423_359_769_072_789_712_788_640_926,
    0.741_531_185_599_394_439_863_864_773_280_788,
    0.586_087_235_467_691_130_294_144_845_693_013,
    0.405_845_151_377_397_166_906_606_412_076_961,
    0.207_784_955_007_898_467_600_689_403_773_245,
    0.000_000_000_000_000_000_000_000_000_000_000,
];
const WGK: [f64; 8] = [
    0.022_935_322_010_529_224_963_732_008_058_970,
    0.063_092_092_629_978_553_290_700_663_189_204,
    0.104_790_010_322_250_183_839_876_322_541_518,
    0.140_653_259_715_525_918_745_189_590_510_238,
    0.169_004_726_639_267_902_826_583_426_598_550,
    0.190_350_578_064_785_409_913_256_402_421_014,
    0.204_432_940_075_298_892_414_161_999_234_649,
    0.209_482_141_084_727_828_012_999_174_891_714,
];
const WG: [f64; 4] = [
    0.129_484_966_168_869_693_270_611_432_679_082,
    0.279_705_391_489_276_667_901_467_771_423_780,
    0.381_830_050_505_118_944_950_369_775_488_975,
    0.417_959_183_673_469_387_755_102_040_816_327,
];

/// The 15 Kronrod nodes of [a, b] with their weights, in increasing order, appended to `nodes`
/// and `weights`: a fixed rule exact for polynomials of degree 22, for integrals on a grid of
/// panels (the group-sequential recursion) rather than adaptive ones.
pub(crate) fn kronrod15_panel(a: f64, b: f64, nodes: &mut Vec<f64>, weights: &mut Vec<f64>) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    for j in 0..7 {
        nodes.push(centre - half * XGK[j]);
        weights.push(half * WGK[j]);
    }
    nodes.push(centre);
    weights.push(half * WGK[7]);
    for j in (0..7).rev() {
        nodes.push(centre + half * XGK[j]);
        weights.push(half * WGK[j]);
    }
}

/// The 7 Gauss–Legendre nodes of [a, b] (the Kronrod rule's odd abscissae and the centre) with
/// their weights, in increasing order: exact for polynomials of degree 13, half the nodes of
/// [`kronrod15_panel`] (the recursion's fast rule).
pub(crate) fn gauss7_panel(a: f64, b: f64, nodes: &mut Vec<f64>, weights: &mut Vec<f64>) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    for j in 0..3 {
        nodes.push(centre - half * XGK[2 * j + 1]);
        weights.push(half * WG[j]);
    }
    nodes.push(centre);
    weights.push(half * WG[3]);
    for j in (0..3).rev() {
        nodes.push(centre + half * XGK[2 * j + 1]);
        weights.push(half * WG[j]);
    }
}

/// One G7–K15 pass on [a, b]: (Kronrod estimate, error estimate). The error estimate is
/// QUADPACK's (QK15): |K − G| scaled by the integrand's variation, err = resasc·min(1,
/// (200|K − G|/resasc)^1.5), which is realistic for smooth integrands where the raw |K − G| is
/// orders of magnitude too pessimistic.
fn gk15(f: &impl Fn(f64) -> f64, a: f64, b: f64) -> (f64, f64) {
    let centre = 0.5 * (a + b);
    let half = 0.5 * (b - a);
    let fc = f(centre);
    let mut kronrod = fc * WGK[7];
    let mut gauss = fc * WG[3];
    let mut values = [(0.0, 0.0); 7];
    for j in 0..7 {
        let dx = half * XGK[j];
        let (f1, f2) = (f(centre - dx), f(centre + dx));
        values[j] = (f1, f2);
        kronrod += WGK[j] * (f1 + f2);
        if j % 2 == 1 {
            gauss += WG[j / 2] * (f1 + f2);
        }
    }
    let mean = kronrod * 0.5;
    let mut resasc = WGK[7] * (fc - mean).abs();
    for j in 0..7 {
        resasc += WGK[j] * ((values[j].0 - mean).abs() + (values[j].1 - mean).abs());
    }
    resasc *= half.abs();
    let mut err = ((kronrod - gauss) * half).abs();
    if resasc != 0.0 && err != 0.0 {
        err = resasc * (200.0 * err / resasc).powf(1.5).min(1.0);
    }
    (kronrod * half, err)
}

/// Bisections allowed in one call of [`integrate`] or [`integrate_finite`]: far more than any
/// smooth piece needs (tens), and a bound on the work when an integrand defeats the error
/// estimate, which once meant 2⁴⁰ evaluations (a hang).
const MAX_BISECTIONS: u32 = 1 << 16;

fn adaptive(f: &impl Fn(f64) -> f64, a: f64, b: f64, tol: f64, depth: u32, budget: &mut u32) -> f64 {
    let (estimate, error) = gk15(f, a, b);
    // A non-finite estimate (an infinite or NaN integrand: e.g. the log of a zero hazard ratio)
    // cannot be refined by bisection; it is the answer, and callers say what it means.
    if !(estimate.is_finite() && error.is_finite()) {
        return estimate;
    }
    if error <= tol.max(1e-15 * estimate.abs()) || depth == 0 || b - a < 1e-12 || *budget == 0 {
        return estimate;
    }
    *budget -= 1;
    let mid = 0.5 * (a + b);
    adaptive(f, a, mid, 0.5 * tol, depth - 1, budget) + adaptive(f, mid, b, 0.5 * tol, depth - 1, budget)
}

/// ∫ f over [start, knots.last()], split at each knot (knots increasing and > start; knots at or
/// before `start` are skipped). `tol` is an absolute tolerance per piece.
pub fn integrate(f: impl Fn(f64) -> f64, start: f64, knots: &[f64], tol: f64) -> f64 {
    let mut budget = MAX_BISECTIONS;
    let mut total = 0.0;
    let mut a = start;
    for &b in knots {
        if b > a {
            total += if a == 0.0 {
                // A Weibull hazard with shape < 1 is infinite at 0 (∝ t^(shape−1)). Substituting
                // t = u⁴ makes such an integrand bounded (4u³·u^(4(shape−1))) and leaves a smooth
                // one smooth, so the first piece converges like the others.
                let g = |u: f64| {
                    let u2 = u * u;
                    f(u2 * u2) * 4.0 * u2 * u
                };
                adaptive(&g, 0.0, b.powf(0.25), tol, 40, &mut budget)
            } else {
                adaptive(&f, a, b, tol, 40, &mut budget)
            };
            a = b;
        }
    }
    total
}

/// ∫ f over [start, knots.last()] split at the knots, for integrands that are smooth at
/// `start` (no substitution, unlike [`integrate`] at 0). Knots at or before `start` are skipped.
pub(crate) fn integrate_finite(f: impl Fn(f64) -> f64, start: f64, knots: &[f64], tol: f64) -> f64 {
    let mut budget = MAX_BISECTIONS;
    let mut total = 0.0;
    let mut a = start;
    for &b in knots {
        if b > a {
            total += adaptive(&f, a, b, tol, 40, &mut budget);
            a = b;
        }
    }
    total
}

/// The u in (0, upto] where the decreasing `f` falls to `level`, by bisection on a log scale
/// from 10⁻³⁰⁰ (so that a scale of 10⁻²⁰ is found as well as one of 10⁶); `upto` when f stays
/// above it, 10⁻³⁰⁰ when it is below it already there.
pub(crate) fn bisect_decreasing(f: impl Fn(f64) -> f64, level: f64, upto: f64) -> f64 {
    if upto.is_nan() || upto <= 0.0 || f(upto) > level {
        return upto.max(1e-300);
    }
    let (mut lo, mut hi) = (1e-300f64.ln(), upto.ln());
    if f(lo.exp()) <= level {
        return 1e-300;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if f(mid.exp()) > level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polynomials_and_exponentials_are_exact() {
        let v = integrate(|x| 3.0 * x * x, 0.0, &[2.0], 1e-14);
        assert!((v - 8.0).abs() < 1e-13);
        let v = integrate(|x| (-x).exp(), 0.0, &[1.0, 5.0], 1e-14);
        assert!((v - (1.0 - (-5.0f64).exp())).abs() < 1e-14);
    }

    #[test]
    fn non_finite_integrands_return_at_once() {
        // Each once recursed to depth 40 on every branch (2⁴⁰ evaluations).
        assert_eq!(integrate(|_| f64::NEG_INFINITY, 0.0, &[1.0, 2.0], 1e-11), f64::NEG_INFINITY);
        assert!(integrate(|x| if x < 0.5 { f64::NAN } else { 1.0 }, 0.0, &[1.0], 1e-11).is_nan());
        // An integrand no error estimate can satisfy stops at the bisection budget.
        let v = integrate_finite(|x| (1e9 * x).sin().signum(), 0.0, &[1.0], 1e-14);
        assert!(v.is_finite() && v.abs() <= 1.0, "{v}");
    }

    #[test]
    fn integrable_singularity_at_the_start() {
        // ∫₀¹ x^(−1/2) dx = 2 (a Weibull hazard with shape ½ near 0).
        let v = integrate(|x| x.powf(-0.5), 0.0, &[1.0], 1e-12);
        assert!((v - 2.0).abs() < 1e-11, "{v}");
    }
}
