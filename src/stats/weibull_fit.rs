//! The Weibull model by maximum likelihood on right-censored data, in the parameterisation of
//! `survival::survreg(dist = "weibull")`: log T = μ + σW with W standard minimum extreme value, so
//! S(t) = exp(−exp(z)), z = (log t − μ)/σ, and the parameters are μ (the intercept) and log σ
//! (`Log(scale)`). With δ the event indicator, the log-likelihood (without the −Σδ log t that
//! does not depend on the parameters) is
//!
//!   ℓ(μ, s) = Σᵢ [δᵢ(zᵢ − s) − exp(zᵢ)],  s = log σ,
//!
//! maximised by Newton–Raphson with step halving from the exponential fit (σ = 1), stopped when
//! the relative change of ℓ is below 1e-12 (survreg's `rel.tolerance`); the covariance is the
//! inverse observed information (Kalbfleisch & Prentice 2002, §3.9; Collett 2015, §5.6).

use crate::time::Time;

/// A fitted Weibull.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeibullFit {
    /// μ, survreg's `(Intercept)`.
    pub intercept: f64,
    /// log σ, survreg's `Log(scale)`.
    pub log_scale: f64,
    /// Covariance of (μ, log σ): [var μ, cov, var log σ].
    pub cov: [f64; 3],
    pub log_likelihood: f64,
}

/// Why no Weibull is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFitted {
    /// Fewer than one event (the scale is not identified).
    NoEvents,
    /// Newton–Raphson did not converge in [`MAX_ITERATIONS`] or the information is singular.
    NoConvergence,
}

pub const MAX_ITERATIONS: usize = 100;

/// ℓ, its gradient and its Hessian at (μ, s), from the log times.
fn derivatives(log_times: &[f64], events: &[bool], mu: f64, s: f64) -> (f64, [f64; 2], [f64; 3]) {
    let sigma = s.exp();
    let (mut l, mut g_mu, mut g_s, mut h_mm, mut h_ms, mut h_ss) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (&y, &e) in log_times.iter().zip(events) {
        let z = (y - mu) / sigma;
        let ez = z.exp();
        let d = f64::from(u8::from(e));
        l += d * (z - s) - ez;
        // ∂z/∂μ = −1/σ, ∂z/∂s = −z.
        g_mu += (ez - d) / sigma;
        g_s += -d - d * z + z * ez;
        h_mm += -ez / (sigma * sigma);
        h_ms += -(ez - d + z * ez) / sigma;
        h_ss += d * z - z * ez - z * z * ez;
    }
    (l, [g_mu, g_s], [h_mm, h_ms, h_ss])
}

/// The maximum-likelihood Weibull of times (> 0) with event indicators.
pub fn fit(times: &[Time], events: &[bool]) -> Result<WeibullFit, NotFitted> {
    let d = events.iter().filter(|&&e| e).count();
    if d == 0 {
        return Err(NotFitted::NoEvents);
    }
    // The exponential fit: σ = 1, e^μ = total time / events.
    let total: f64 = times.iter().sum();
    let (mut mu, mut s) = ((total / d as f64).ln(), 0.0);
    let log_times: Vec<f64> = times.iter().map(|t| t.ln()).collect();
    let times = &log_times[..];
    let (mut l, mut g, mut h) = derivatives(times, events, mu, s);
    for _ in 0..MAX_ITERATIONS {
        // Newton step −H⁻¹g where ℓ is concave (H negative definite); elsewhere steepest ascent,
        // at most a unit step. Either is halved below until ℓ does not fall.
        let det = h[0] * h[2] - h[1] * h[1];
        let (dm, ds) = if det > 0.0 && h[0] < 0.0 {
            (-(h[2] * g[0] - h[1] * g[1]) / det, -(-h[1] * g[0] + h[0] * g[1]) / det)
        } else {
            let norm = g[0].hypot(g[1]).max(1.0);
            (g[0] / norm, g[1] / norm)
        };
        let mut step = 1.0;
        loop {
            let (m2, s2) = (mu + step * dm, s + step * ds);
            let (l2, g2, h2) = derivatives(times, events, m2, s2);
            if l2.is_finite() && l2 >= l - 1e-12 * l.abs() {
                let converged = (l2 - l).abs() <= 1e-12 * l.abs().max(1e-300);
                (mu, s, l, g, h) = (m2, s2, l2, g2, h2);
                if converged {
                    return finish(mu, s, l, h);
                }
                break;
            }
            step *= 0.5;
            if step < 1e-10 {
                return Err(NotFitted::NoConvergence);
            }
        }
    }
    Err(NotFitted::NoConvergence)
}

fn finish(mu: f64, s: f64, l: f64, h: [f64; 3]) -> Result<WeibullFit, NotFitted> {
    // Covariance = (−H)⁻¹.
    let det = h[0] * h[2] - h[1] * h[1];
    if !(det > 0.0 && h[0] < 0.0 && mu.is_finite() && s.is_finite()) {
        return Err(NotFitted::NoConvergence);
    }
    let cov = [-h[2] / det, h[1] / det, -h[0] / det];
    Ok(WeibullFit { intercept: mu, log_scale: s, cov, log_likelihood: l })
}

impl WeibullFit {
    /// S(t) = exp(−(t/λ)^k), λ = e^μ, k = 1/σ.
    pub fn survival(&self, t: Time) -> f64 {
        if t <= 0.0 {
            return 1.0;
        }
        (-((t.ln() - self.intercept) / self.log_scale.exp()).exp()).exp()
    }
}

/// ∫₀^τ exp(−(t/λ)^k) dt = λ Γ(1 + 1/k) P(1/k, (τ/λ)^k), with P the regularised lower incomplete
/// gamma function, for λ = e^μ and k = e^{−s}.
pub fn rmst(mu: f64, s: f64, tau: Time) -> f64 {
    if tau <= 0.0 {
        return 0.0;
    }
    let (lambda, k) = (mu.exp(), (-s).exp());
    let log_x = (tau.ln() - mu) * k;
    let a = 1.0 / k;
    // Far from 1, (τ/λ)^k under- or overflows (and statrs panics at 0 or ∞): S ≈ 1 on (0, τ]
    // (RMST = τ, relative error below x = e^{−700}) or S reaches 0 long before τ (P = 1).
    if log_x < -700.0 {
        return tau;
    }
    let p = if log_x > 700.0 {
        1.0
    } else {
        statrs::function::gamma::checked_gamma_lr(a, log_x.exp()).unwrap_or(f64::NAN)
    };
    lambda * statrs::function::gamma::gamma(1.0 + a) * p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_data_fit_a_scale_near_one_and_rmst_is_the_closed_form() {
        // Exponential quantiles (no censoring): the fitted shape is near 1 and e^μ near the mean.
        let times: Vec<f64> = (1..=2000).map(|i| -(1.0 - (i as f64 - 0.5) / 2000.0).ln() * 3.0).collect();
        let w = fit(&times, &vec![true; 2000]).expect("fits");
        assert!(w.log_scale.abs() < 0.02, "{w:?}");
        assert!((w.intercept - 3.0f64.ln()).abs() < 0.02, "{w:?}");
        // The score is zero at the fit.
        let logs: Vec<f64> = times.iter().map(|t| t.ln()).collect();
        let (_, g, _) = derivatives(&logs, &vec![true; 2000], w.intercept, w.log_scale);
        assert!(g[0].abs() < 1e-6 && g[1].abs() < 1e-6, "{g:?}");
        // A Weibull integral with k = 1 is (1 − e^{−τ/λ}) λ.
        let r = rmst(2.0f64.ln(), 0.0, 3.0);
        assert!((r - 2.0 * (1.0 - (-1.5f64).exp())).abs() < 1e-12, "{r}");
        // k = 2: λ Γ(1.5) P(0.5, (τ/λ)²) = λ √π/2 erf(τ/λ).
        let r = rmst(0.0, (0.5f64).ln(), 0.7);
        assert!((r - std::f64::consts::PI.sqrt() / 2.0 * libm::erf(0.7)).abs() < 1e-12, "{r}");
        assert_eq!(fit(&[1.0, 2.0], &[false, false]), Err(NotFitted::NoEvents));
        // A degenerate scale: the incomplete gamma's argument under- or overflows, no panic.
        let sharp = -(2000.0f64.ln());
        assert_eq!(rmst(0.0, sharp, 0.5), 0.5, "S = 1 up to λ = 1");
        let at_2 = rmst(0.0, sharp, 2.0);
        assert!((at_2 - statrs::function::gamma::gamma(1.0 + 1.0 / 2000.0)).abs() < 1e-15, "{at_2}");
    }
}
