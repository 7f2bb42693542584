//! The statistical information a (weighted) log-rank test will have at a calendar cut, expected
//! under the model: what a monitored design's information fractions are measured against
//! (`I_max`) when the final analysis is not event-driven.
//!
//! For the Fleming–Harrington FH(ρ, γ) statistic the null variance is
//! V = Σ_j w_j² d_j n₀ⱼn₁ⱼ(nⱼ − dⱼ)/(nⱼ²(nⱼ − 1)), w_j = S̄(t_j−)^ρ (1 − S̄(t_j−))^γ with S̄ the pooled
//! Kaplan–Meier estimate. Its large-sample limit, with Y_g(u) the expected number at risk in arm g
//! at analysis time u and h_g the arm's hazard, is
//!
//!   E[V] ≈ ∫₀ᶜ w(S̄(u))² · Y₀Y₁/(Y₀ + Y₁)² · (Y₀h₀ + Y₁h₁) du,
//!   Y_g(u) = n_g P(entry ≤ c − u) S_g(u) e^{−δ_g u},   S̄(u) = exp(−∫₀ᵘ (Y₀h₀ + Y₁h₁)/(Y₀ + Y₁)),
//!
//! the expected null variance that gsDesign2's `gs_info_wlr` uses for weighted log-rank designs
//! (Yung & Liu 2020, "Sample size and power for the weighted log-rank test and Kaplan–Meier
//! based tests with allowance for nonproportional hazards", Biometrics 76:939). With ρ = γ = 0 it
//! is the expected log-rank variance, close to a quarter of the expected events at 1:1.

use crate::accrual::{accrual_end, accrual_horizon, entry_cdf};
use crate::quadrature::kronrod15_panel;
use crate::scenario::{Arm, Scenario};
use crate::stats::weights::Weighting;
use crate::time::Time;

use super::curves::survival_and_density;
use super::mixture::{self, ArmMix};

/// Panels per piece between knots: the integrands are smooth there, and 15-point Kronrod
/// panels of 1/64 of a piece integrate them to far below any Monte Carlo error.
const PANELS: usize = 16;

/// The expected null variance of a weighted log-rank statistic (log-rank at FH(0, 0)) comparing
/// the experimental and control arms at calendar time `c`; NaN without two arms. MW's weight
/// is 1/max(S̄(u), s*), with a time cap s* = S̄(t*) once u passes t* (at a cut before t*, never).
pub fn expected_null_variance(sc: &Scenario, weighting: Weighting, c: Time) -> f64 {
    expected_statistic(sc, weighting, c).1
}

/// The mean of FH(ρ, γ)'s z under the model at calendar time `c`, E[U]/√E[V], with
///
///   E[U] ≈ ∫₀ᶜ w(S̄(u)) · (Y₀(u)·Y₁h₁(u) − Y₁(u)·Y₀h₀(u))/(Y₀ + Y₁) du,
///
/// U being observed minus expected events in the experimental arm (z < 0 favours it): the
/// drift at a look that gsDesign2's `gs_info_wlr` (and, for the log-rank test, `gs_info_ahr`)
/// plan with.
pub fn expected_z(sc: &Scenario, weighting: Weighting, c: Time) -> f64 {
    let (u, v) = expected_statistic(sc, weighting, c);
    u / v.sqrt()
}

/// (E[U], E[V]) of FH(ρ, γ) at calendar time `c` (see [`expected_null_variance`] and
/// [`expected_z`]); NaN without two arms.
fn expected_statistic(sc: &Scenario, weighting: Weighting, c: Time) -> (f64, f64) {
    expected_statistic_on(sc, weighting, c, PANELS)
}

/// [`expected_statistic`] with `panels` panels per piece.
fn expected_statistic_on(sc: &Scenario, weighting: Weighting, c: Time, panels: usize) -> (f64, f64) {
    let Some((ctl, exp)) = mixture::pair(sc) else {
        return (f64::NAN, f64::NAN);
    };
    let ep = sc.primary();
    let n = sc.design.n;
    let total_alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let share = |a: &ArmMix| n as f64 * a.arm.allocation as f64 / total_alloc as f64;
    let (n0, n1) = (share(&ctl), share(&exp));
    // (Y₀, Y₁, Y₀h₀, Y₁h₁) at analysis time u: at risk and the expected event rates, summed over
    // strata (each with its own dropout). Y h is written with the density, which stays finite
    // where S underflows.
    let at = |u: f64| {
        let entered = entry_cdf(&sc.design.accrual, n, c - u);
        let model = |a: &Arm, m: f64| {
            let kept = m * entered * (-a.dropout * u).exp();
            let (s, f) = survival_and_density(a, ep, u);
            (kept * s, kept * f)
        };
        let arm = |a: &ArmMix, m: f64| match a.parts() {
            [(_, model_alone)] => model(model_alone, m),
            parts => parts
                .iter()
                .map(|&(w, part)| model(part, w * m))
                .fold((0.0, 0.0), |(y, r), (dy, dr)| (y + dy, r + dr)),
        };
        let ((y0, r0), (y1, r1)) = (arm(&ctl, n0), arm(&exp, n1));
        (y0, y1, r0, r1)
    };
    let pooled_hazard = |u: f64| {
        let (y0, y1, r0, r1) = at(u);
        if y0 + y1 > 0.0 { (r0 + r1) / (y0 + y1) } else { 0.0 }
    };
    let mut extra = vec![c - accrual_end(&sc.design.accrual, n), c - accrual_horizon(&sc.design.accrual)];
    extra.extend(weighting.cap_time());
    let pieces = mixture::knots(&[&ctl, &exp], ep, &extra, c);
    let mut floor = weighting.initial_floor();
    let (mut nodes, mut weights) = (Vec::new(), Vec::new());
    let (mut inner_nodes, mut inner_weights) = (Vec::new(), Vec::new());
    let (mut total, mut score, mut cumulative, mut from) = (0.0, 0.0, 0.0, 0.0);
    for &to in &pieces {
        let h = (to - from) / panels as f64;
        for p in 0..panels {
            let a = from + p as f64 * h;
            let b = if p + 1 == panels { to } else { a + h };
            nodes.clear();
            weights.clear();
            kronrod15_panel(a, b, &mut nodes, &mut weights);
            for (&u, &w) in nodes.iter().zip(&weights) {
                // Λ̄(u) = Λ̄(a) + ∫ₐᵘ λ̄, the inner integral by its own Kronrod panel.
                inner_nodes.clear();
                inner_weights.clear();
                kronrod15_panel(a, u, &mut inner_nodes, &mut inner_weights);
                let inner: f64 =
                    inner_nodes.iter().zip(&inner_weights).map(|(&x, &v)| v * pooled_hazard(x)).sum();
                let s_bar = (-(cumulative + inner)).exp();
                let (y0, y1, r0, r1) = at(u);
                if y0 + y1 > 0.0 {
                    let weight = weighting.at_floor(s_bar, floor);
                    total += w * weight * weight * y0 * y1 / ((y0 + y1) * (y0 + y1)) * (r0 + r1);
                    score += w * weight * (y0 * r1 - y1 * r0) / (y0 + y1);
                }
            }
            nodes.clear();
            weights.clear();
            kronrod15_panel(a, b, &mut nodes, &mut weights);
            cumulative += nodes.iter().zip(&weights).map(|(&x, &v)| v * pooled_hazard(x)).sum::<f64>();
        }
        if weighting.cap_time() == Some(to) {
            floor = (-cumulative).exp();
        }
        from = to;
    }
    (score, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::integrate;
    use crate::truth::expected_events;

    fn identical_arms() -> Scenario {
        let text = r#"
name = "identical"
[design]
n = 400
control = "control"
allocation = { control = 1, experimental = 1 }
accrual = { duration = 2 }
[design.cut]
calendar = 5
[arms.control]
dropout = 0.05
[arms.control.causes]
death = { exponential = 0.3 }
[arms.experimental]
dropout = 0.05
[arms.experimental.causes]
death = { exponential = 0.3 }
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
"#;
        Scenario::from_toml(text, std::path::Path::new("identical.toml")).expect("valid")
    }

    /// The crossing-hazards fixture (transplant deaths, then a late benefit): 8 panels per piece
    /// give the expected information and score of 64 to 1e-12.
    #[test]
    fn eight_panels_per_piece_are_sixty_four() {
        let sc = crate::scenario::fixture::valid(crate::scenario::fixture::BASE);
        for weighting in [
            Weighting::Fh { rho: 0.0, gamma: 0.0 },
            Weighting::Fh { rho: 0.0, gamma: 1.0 },
            Weighting::Fh { rho: 1.0, gamma: 1.0 },
        ] {
            for c in [0.5, 1.3, 2.0, 3.7, 5.0] {
                let (u, v) = expected_statistic_on(&sc, weighting, c, PANELS);
                let (u64_, v64) = expected_statistic_on(&sc, weighting, c, 64);
                assert!((v / v64 - 1.0).abs() < 1e-12, "{weighting:?} c = {c}: {v} vs {v64}");
                assert!(
                    (u - u64_).abs() < 1e-12 * u64_.abs().max(v64.sqrt()),
                    "{weighting:?} c = {c}: {u} vs {u64_}"
                );
            }
        }
    }

    /// Identical arms at 1:1: every event adds ¼ to the log-rank variance, so E[V] is a quarter
    /// of the expected events (computed by `expected_events`, another integral).
    #[test]
    fn logrank_information_is_a_quarter_of_the_events_under_identical_arms() {
        let sc = identical_arms();
        for c in [1.0, 2.0, 5.0] {
            let events: f64 =
                mixture::allocated(&sc).iter().map(|a| expected_events(&sc, a, sc.primary(), c)).sum();
            let v = expected_null_variance(&sc, Weighting::Fh { rho: 0.0, gamma: 0.0 }, c);
            assert!((v / (events / 4.0) - 1.0).abs() < 1e-9, "c = {c}: {v} vs {}", events / 4.0);
        }
    }

    /// Identical arms: the pooled survival is the arms' own, S(u) = e^{−λu}, so FH(0, 1)'s
    /// information is ¼ ∫ (1 − S)² dE[N]: by adaptive quadrature of that closed form.
    #[test]
    fn fh01_information_under_identical_arms_is_the_closed_form() {
        let sc = identical_arms();
        let (lambda, dropout, duration, n) = (0.3_f64, 0.05_f64, 2.0_f64, 400.0);
        for c in [1.5, 5.0] {
            let entered = |u: f64| ((c - u) / duration).clamp(0.0, 1.0);
            let integrand = |u: f64| {
                let s = (-lambda * u).exp();
                0.25 * (1.0 - s).powi(2) * n * entered(u) * lambda * s * (-dropout * u).exp()
            };
            let knots: Vec<f64> = if c > duration { vec![c - duration, c] } else { vec![c] };
            let closed = integrate(integrand, 0.0, &knots, 1e-13);
            let v = expected_null_variance(&sc, Weighting::Fh { rho: 0.0, gamma: 1.0 }, c);
            assert!((v / closed - 1.0).abs() < 1e-9, "c = {c}: {v} vs {closed}");
        }
    }
}
