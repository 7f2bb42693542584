//! Conditional power at an interim look: the probability that a trial now at information
//! fraction t with statistic Z_t crosses a remaining efficacy bound, given its data so far
//! (Lan, Simon & Halperin 1982; Jennison & Turnbull 2000, ch. 10). Benefit scale: Z > 0 favours
//! the experimental arm (the engine's b = −z).
//!
//! On the B-value scale B(s) = Z_s·√s, B(s) − B(t) is normal with variance s − t and mean
//! m(s) − m(t), m the expected path. With the final look only,
//!
//!   CP = Φ̄((c_K − B(t) − (m(1) − m(t)))/√(1 − t)),
//!
//! and with looks still to come it is P(crossing any remaining bound | B(t)), by the recursion of
//! the bounds started from B(t) (non-binding futility ignored). The expected path is one of:
//! - the design's drift θ (m(s) = θ s: the alternative the trial was sized for);
//! - the current trend θ̂ = B(t)/t (the estimate so far, continued);
//! - a model's own expected B-values at the remaining looks, which under crossing hazards are
//!   not θ s for any θ (a transplant's early deaths, then its benefit).
//!
//! For FH(ρ, γ) the fraction is the observed null variance over its maximum, as for the bounds.

use super::sequential::crossing_probability;

/// The expected path of B after the current look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Drift<'a> {
    /// m(s) = θ s.
    Constant(f64),
    /// θ̂ = B(t)/t = Z_t/√t, continued.
    Trend,
    /// The expected B-values now and at each remaining look (a model's path).
    Path { now: f64, at: &'a [f64] },
}

/// The conditional power of a trial at fraction `t` with statistic `z` (benefit scale), whose
/// remaining looks are at fractions `looks` (increasing, the last the final analysis) with
/// efficacy bounds `bounds` (Z scale), under the expected path `drift`. NaN when undefined (a
/// look not after t, a statistic that could not be computed, a path of the wrong length).
pub fn conditional_power(t: f64, z: f64, looks: &[f64], bounds: &[f64], drift: Drift) -> f64 {
    if looks.len() != bounds.len() {
        return f64::NAN;
    }
    let theta = match drift {
        Drift::Constant(theta) => theta,
        Drift::Trend => z / t.sqrt(),
        Drift::Path { now, at } => {
            if at.len() != looks.len() {
                return f64::NAN;
            }
            let shifts: Vec<f64> = std::iter::once(now)
                .chain(at.iter().copied())
                .collect::<Vec<_>>()
                .windows(2)
                .map(|w| w[1] - w[0])
                .collect();
            return crossing_probability(t, z, looks, bounds, &shifts);
        }
    };
    let shifts: Vec<f64> = std::iter::once(t)
        .chain(looks.iter().copied())
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| theta * (w[1] - w[0]))
        .collect();
    crossing_probability(t, z, looks, bounds, &shifts)
}

/// The Bayesian predictive probability of success (Spiegelhalter, Freedman & Blackburn 1986):
/// conditional power averaged over parameter draws, each weighted by its prior weight (equal
/// here) times the likelihood of the interim data under it. Draw d's expected path has B-value
/// `now` at t and `at` at the remaining looks; B(t) ~ N(μ_d(t), t), so
///
///   PP = Σ_d w_d·CP_d / Σ_d w_d,  w_d ∝ φ((B(t) − μ_d(t))/√t),
///
/// with CP_d the conditional power along draw d's path. Returns PP and the weights' effective
/// sample size (Σw)²/Σw² (Kish 1965): how many draws the answer really rests on. Draws whose
/// weight is below 1e-12 of the largest are left out (together they move PP by at most 1e-12
/// per draw); draws with a NaN path count as weight 0. NaN when no draw is usable.
pub fn predictive_probability<'a>(
    t: f64,
    z: f64,
    looks: &[f64],
    bounds: &[f64],
    paths: impl Iterator<Item = (f64, &'a [f64])> + Clone,
) -> (f64, f64) {
    let b = z * t.sqrt();
    let log_w = |now: f64| -0.5 * (b - now) * (b - now) / t;
    let top =
        paths.clone().map(|(now, _)| log_w(now)).filter(|x| !x.is_nan()).fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let (mut sum_w, mut sum_w2, mut sum_wcp) = (0.0, 0.0, 0.0);
    for (now, at) in paths {
        let w = (log_w(now) - top).exp();
        if w.is_nan() || w < 1e-12 {
            continue;
        }
        let cp = conditional_power(t, z, looks, bounds, Drift::Path { now, at });
        if cp.is_nan() {
            continue;
        }
        sum_w += w;
        sum_w2 += w * w;
        sum_wcp += w * cp;
    }
    if sum_w == 0.0 {
        return (f64::NAN, f64::NAN);
    }
    (sum_wcp / sum_w, sum_w * sum_w / sum_w2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::normal;

    /// The three paths: a constant drift's closed form at the final look; the trend is the
    /// constant drift Z_t/√t; a model path linear in s is that constant drift; a path that
    /// bends (an early deficit, a late gain) differs from the constant drift with the same
    /// final expected value.
    #[test]
    fn paths_give_the_closed_form_and_agree_where_they_should() {
        let (t, z, c): (f64, f64, f64) = (0.4, 0.8, 1.96);
        let b = z * t.sqrt();
        let theta: f64 = 2.8;
        let closed = normal::upper((c - b - theta * (1.0 - t)) / (1.0 - t).sqrt());
        let cp = conditional_power(t, z, &[1.0], &[c], Drift::Constant(theta));
        assert!((cp - closed).abs() < 1e-12, "{cp} vs {closed}");
        let looks = [0.7, 1.0];
        let bounds = [2.4, 2.0];
        let trend = conditional_power(t, z, &looks, &bounds, Drift::Trend);
        let constant = conditional_power(t, z, &looks, &bounds, Drift::Constant(z / t.sqrt()));
        assert_eq!(trend, constant);
        let linear = [theta * 0.7, theta];
        let path = conditional_power(t, z, &looks, &bounds, Drift::Path { now: theta * t, at: &linear });
        let constant = conditional_power(t, z, &looks, &bounds, Drift::Constant(theta));
        assert!((path - constant).abs() < 1e-14, "{path} vs {constant}");
        // Same expected B(1), but the gain comes after the interim: less chance to cross there.
        let bent = [theta * t + 0.1, theta];
        let late = conditional_power(t, z, &looks, &bounds, Drift::Path { now: theta * t, at: &bent });
        assert!(late < constant, "{late} vs {constant}");
        assert!(conditional_power(t, z, &looks, &bounds[..1], Drift::Trend).is_nan());
        assert!(conditional_power(t, z, &looks, &bounds, Drift::Path { now: 0.0, at: &[1.0] }).is_nan());
    }

    /// Predictive probability by hand: two draws with final-look paths, weights φ((B − μ_d)/√t)
    /// normalised, CP_d the closed form; equal paths give an effective sample size equal to the
    /// number of draws, and a draw far from the data weighs nothing.
    #[test]
    fn predictive_probability_is_the_likelihood_weighted_conditional_power() {
        let (t, z, c): (f64, f64, f64) = (0.5, 1.0, 2.0);
        let b = z * t.sqrt();
        let paths = [(0.2, vec![1.5]), (0.9, vec![3.0])];
        let (pp, ess) =
            predictive_probability(t, z, &[1.0], &[c], paths.iter().map(|(n, a)| (*n, a.as_slice())));
        let w: Vec<f64> = paths.iter().map(|(n, _)| normal::density((b - n) / t.sqrt())).collect();
        let cp: Vec<f64> =
            paths.iter().map(|(n, a)| normal::upper((c - b - (a[0] - n)) / (1.0 - t).sqrt())).collect();
        let want = (w[0] * cp[0] + w[1] * cp[1]) / (w[0] + w[1]);
        assert!((pp - want).abs() < 1e-12, "{pp} vs {want}");
        let want_ess = (w[0] + w[1]).powi(2) / (w[0] * w[0] + w[1] * w[1]);
        assert!((ess - want_ess).abs() < 1e-12);
        let same: Vec<(f64, Vec<f64>)> = (0..5).map(|_| (0.3, vec![2.0])).collect();
        let (_, ess) =
            predictive_probability(t, z, &[1.0], &[c], same.iter().map(|(n, a)| (*n, a.as_slice())));
        assert!((ess - 5.0).abs() < 1e-12);
        let far = [(0.3, vec![2.0]), (40.0, vec![80.0])];
        let (pp, ess) =
            predictive_probability(t, z, &[1.0], &[c], far.iter().map(|(n, a)| (*n, a.as_slice())));
        let alone = conditional_power(t, z, &[1.0], &[c], Drift::Path { now: 0.3, at: &[2.0] });
        assert_eq!((pp, ess), (alone, 1.0));
        let none: [(f64, Vec<f64>); 0] = [];
        assert!(
            predictive_probability(t, z, &[1.0], &[c], none.iter().map(|(n, a)| (*n, a.as_slice())))
                .0
                .is_nan()
        );
    }
}
