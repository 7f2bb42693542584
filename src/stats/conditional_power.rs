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
}
