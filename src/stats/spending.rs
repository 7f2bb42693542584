//! Error-spending functions (Lan & DeMets 1983): the cumulative type I (or II) error a
//! group-sequential design may have spent by information fraction t, with α(0) = 0 and
//! α(1) = α. The families are rpact's (`typeOfDesign` asOF, asP, asKD, asHSD; `typeBetaSpending`
//! bsOF, bsP, bsKD, bsHSD), with the same parametrisation.

use super::normal;

/// A spending function's shape; the total error (α or β) is given where it is used.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spending {
    /// O'Brien–Fleming type, one-sided: α(t) = 2 − 2Φ(z₁₋α/₂ / √t) (Lan & DeMets 1983, eq. 3;
    /// rpact asOF), computed in the upper tail as 2Φ̄(z₁₋α/₂/√t): the naive form loses five
    /// digits at t = 0.1.
    OBrienFleming,
    /// Pocock type: α(t) = α ln(1 + (e − 1)t) (Lan & DeMets 1983, eq. 4; rpact asP).
    Pocock,
    /// Hwang, Shih & DeCani (1990): α(t) = α (1 − e^(−γt)) / (1 − e^(−γ)), and α t at γ = 0
    /// (rpact asHSD, gammaA).
    HwangShihDeCani(f64),
    /// Kim & DeMets (1987) power family: α(t) = α t^ρ, ρ > 0 (rpact asKD, gammaA).
    Power(f64),
}

impl Spending {
    /// The error spent by information fraction `t` out of `total`: 0 at t ≤ 0, `total` at t ≥ 1.
    pub fn spent(self, total: f64, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        if t >= 1.0 {
            return total;
        }
        match self {
            Spending::OBrienFleming => {
                // z₁₋α/₂ as −Φ⁻¹(α/2): exact for small α, where Φ⁻¹(1 − α/2) would round.
                let z = -normal::quantile(0.5 * total);
                2.0 * normal::upper(z / t.sqrt())
            }
            Spending::Pocock => total * (1.0 + (std::f64::consts::E - 1.0) * t).ln(),
            Spending::HwangShihDeCani(gamma) => {
                if gamma == 0.0 {
                    total * t
                } else {
                    total * (-(-gamma * t).exp_m1()) / (-(-gamma).exp_m1())
                }
            }
            Spending::Power(rho) => total * t.powf(rho),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each family spends nothing at 0, everything at 1, and increases in between.
    #[test]
    fn spending_runs_from_zero_to_the_total() {
        for s in [
            Spending::OBrienFleming,
            Spending::Pocock,
            Spending::HwangShihDeCani(-4.0),
            Spending::HwangShihDeCani(0.0),
            Spending::HwangShihDeCani(1.0),
            Spending::Power(3.0),
        ] {
            assert_eq!(s.spent(0.025, 0.0), 0.0);
            assert!((s.spent(0.025, 1.0 - 1e-12) - 0.025).abs() < 1e-10, "{s:?}");
            let mut last = 0.0;
            for i in 1..=100 {
                let v = s.spent(0.025, i as f64 / 100.0);
                assert!(v > last, "{s:?} at {i}");
                last = v;
            }
            assert_eq!(last, 0.025);
        }
    }

    /// Values by the closed forms, computed independently (mpmath, 30 digits):
    /// OF 2(1 − Φ(Φ⁻¹(0.9875)/√0.1)); Pocock 0.025 ln(1 + (e − 1)/3); HSD(−4) at 0.5;
    /// KD ρ = 2 at 0.3.
    #[test]
    fn spending_matches_the_closed_forms() {
        let of = Spending::OBrienFleming.spent(0.025, 0.1);
        assert!((of / 1.361_251_489_229_882_4e-12 - 1.0).abs() < 1e-12, "{of:e}");
        let p = Spending::Pocock.spent(0.025, 1.0 / 3.0);
        assert!((p - 0.025 * (1.0 + (std::f64::consts::E - 1.0) / 3.0).ln()).abs() < 1e-17);
        let hsd = Spending::HwangShihDeCani(-4.0).spent(0.025, 0.5);
        assert!((hsd - 0.025 * (1.0 - 2f64.exp()) / (1.0 - 4f64.exp())).abs() < 1e-16, "{hsd}");
        assert!((Spending::Power(2.0).spent(0.025, 0.3) - 0.025 * 0.09).abs() < 1e-17);
    }
}
