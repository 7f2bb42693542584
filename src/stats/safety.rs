//! A safety stopping rule on one cause of events in one arm (e.g. treatment-related deaths
//! after transplant): at review k, once the first m_k patients of the arm are evaluable, the
//! trial stops if at least s_k of them had the event. The counts s_k may be given, or derived
//! from a Bayesian rule: the smallest count at which the posterior probability that the risk
//! exceeds a threshold passes a level (Thall, Simon & Estey 1995, "Bayesian sequential
//! monitoring designs for single-arm clinical trials with multiple outcomes", Stat Med 14:357;
//! the beta–binomial form of Geller et al. 2003).

use statrs::function::beta::checked_beta_reg;

/// A beta prior and the posterior rule "stop when P(p > threshold | data) > probability".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BayesRule {
    /// Beta(a, b) prior on the risk.
    pub prior: (f64, f64),
    pub threshold: f64,
    pub probability: f64,
}

impl BayesRule {
    /// P(p > threshold | x events of m) under the Beta(a + x, b + m − x) posterior:
    /// 1 − I_threshold(a + x, b + m − x), computed as I_{1−threshold}(b + m − x, a + x) so that
    /// small tail probabilities keep their digits.
    pub(crate) fn posterior_above(&self, x: u32, m: u32) -> f64 {
        let (a, b) = self.prior;
        checked_beta_reg(b + f64::from(m - x), a + f64::from(x), 1.0 - self.threshold).unwrap_or(f64::NAN)
    }

    /// For each review size m_k, the smallest count x ≤ m_k whose posterior probability of a risk
    /// above the threshold exceeds the level (it increases with x), or `None` when no count
    /// does: the review can never stop the trial.
    ///
    /// The posterior tail increases with x (a larger count moves Beta(a + x, b + m − x) up in
    /// the likelihood-ratio order), so bisection finds it in O(log m) evaluations: a scan of
    /// 0..=m over 100 reviews at m = 10⁷ took hours.
    pub(crate) fn stopping_counts(&self, after: &[u32]) -> Vec<Option<u32>> {
        after.iter().map(|&m| self.smallest_stopping_count(m)).collect()
    }

    fn smallest_stopping_count(&self, m: u32) -> Option<u32> {
        let passes = |x: u32| self.posterior_above(x, m) > self.probability;
        if !passes(m) {
            return None;
        }
        // passes(hi) holds; passes(lo − 1) fails or lo = 0.
        let (mut lo, mut hi) = (0u32, m);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if passes(mid) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        Some(lo)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::integrate_finite;

    /// The posterior tail equals a direct integral of the beta density (Kronrod quadrature, an
    /// independent computation), and the derived counts are the smallest that pass: one less
    /// does not.
    #[test]
    fn derived_counts_are_the_smallest_that_pass() {
        let rule = BayesRule { prior: (1.0, 9.0), threshold: 0.15, probability: 0.9 };
        let after = [20, 40, 60];
        let counts = rule.stopping_counts(&after);
        for (&m, count) in after.iter().zip(&counts) {
            let x = count.expect("some count stops at these sizes");
            let direct = |x: u32| {
                let (a, b) = (1.0 + f64::from(x), 9.0 + f64::from(m - x));
                let ln_beta = statrs::function::gamma::ln_gamma(a) + statrs::function::gamma::ln_gamma(b)
                    - statrs::function::gamma::ln_gamma(a + b);
                let density = |p: f64| ((a - 1.0) * p.ln() + (b - 1.0) * (1.0 - p).ln() - ln_beta).exp();
                integrate_finite(density, 0.15, &[0.5, 1.0], 1e-14)
            };
            assert!((rule.posterior_above(x, m) - direct(x)).abs() < 1e-10, "m = {m}");
            assert!(direct(x) > 0.9, "m = {m}: {x} passes");
            assert!(x == 0 || direct(x - 1) <= 0.9, "m = {m}: {} does not", x - 1);
        }
        // R: x <- 0:m; min(x[pbeta(0.15, 1 + x, 9 + m - x, lower.tail = FALSE) > 0.9]) gives 7, 11
        // and 14 (at m = 20, x = 6 gives 0.8667 and x = 7 gives 0.9414).
        assert_eq!(counts, vec![Some(7), Some(11), Some(14)]);
        assert!((rule.posterior_above(6, 20) - 0.866_738_099_631).abs() < 1e-11);
        // A level no count reaches.
        let never = BayesRule { probability: 0.999_999_999, ..rule };
        assert_eq!(never.stopping_counts(&[3]), vec![None]);
    }

    /// Bisection gives the scan's answer at every size (the scan is the definition), and stays
    /// fast at a size where the scan took minutes per review.
    #[test]
    fn bisection_equals_the_scan() {
        for rule in [
            BayesRule { prior: (1.0, 9.0), threshold: 0.15, probability: 0.9 },
            BayesRule { prior: (0.5, 0.5), threshold: 0.02, probability: 0.5 },
            BayesRule { prior: (3.0, 1.0), threshold: 0.6, probability: 0.99 },
        ] {
            for m in (1..=300).chain([997, 1000]) {
                let scan = (0..=m).find(|&x| rule.posterior_above(x, m) > rule.probability);
                assert_eq!(rule.stopping_counts(&[m]), vec![scan], "{rule:?} m = {m}");
            }
        }
        let never = BayesRule { prior: (1.0, 1.0), threshold: 0.999_999, probability: 0.999_999_999 };
        assert_eq!(never.stopping_counts(&[10_000_000; 100]), vec![None; 100]);
    }
}
