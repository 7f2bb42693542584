//! Accrual: when patients enter, in calendar time from the start of accrual (docs/design.md § Design).
//! Uniform accrual spreads n entries iid over (0, D); piecewise accrual is a Poisson process
//! whose rate changes at the breaks. These functions give the entry distribution that the cohort
//! samples from and that the truth integrates over.

use crate::scenario::Accrual;
use crate::time::Time;

/// P(entry ≤ e) for one patient. For piecewise (Poisson) accrual this is the deterministic
/// approximation that entries are spread with density ∝ rate(t) up to the time the expected
/// count reaches n.
pub(crate) fn entry_cdf(accrual: &Accrual, n: usize, e: Time) -> f64 {
    match accrual {
        Accrual::Uniform { duration } => (e / duration).clamp(0.0, 1.0),
        Accrual::Piecewise { .. } => {
            let end = accrual_end(accrual, n);
            (cumulative_accrual(accrual, e.min(end)) / n as f64).clamp(0.0, 1.0)
        }
    }
}

/// The density of one patient's entry time at calendar time e: d/de of [`entry_cdf`].
pub(crate) fn entry_density(accrual: &Accrual, n: usize, e: Time) -> f64 {
    match accrual {
        Accrual::Uniform { duration } => {
            if e > 0.0 && e < *duration {
                1.0 / duration
            } else {
                0.0
            }
        }
        Accrual::Piecewise { breaks, rates } => {
            if e <= 0.0 || e >= accrual_end(accrual, n) {
                return 0.0;
            }
            let k = breaks.partition_point(|&b| b < e);
            rates.get(k).copied().unwrap_or(0.0) / n as f64
        }
    }
}

/// Expected patients entered by calendar time t under piecewise accrual: Λ(t) = ∫₀ᵗ rate.
pub(crate) fn cumulative_accrual(accrual: &Accrual, t: Time) -> f64 {
    match accrual {
        Accrual::Uniform { .. } => f64::NAN,
        Accrual::Piecewise { breaks, rates } => {
            let mut acc = 0.0;
            let mut start = 0.0;
            for (k, &r) in rates.iter().enumerate() {
                let end = breaks.get(k).copied().unwrap_or(f64::INFINITY);
                if t <= start {
                    break;
                }
                acc += r * (end.min(t) - start);
                start = end;
            }
            acc
        }
    }
}

/// Λ⁻¹(x): the calendar time at which x patients are expected to have entered.
pub(crate) fn inverse_accrual(breaks: &[Time], rates: &[f64], x: f64) -> Time {
    let mut acc = 0.0;
    let mut start = 0.0;
    for (k, &r) in rates.iter().enumerate() {
        let end = breaks.get(k).copied().unwrap_or(f64::INFINITY);
        if r > 0.0 {
            let piece = r * (end - start);
            if acc + piece >= x {
                return start + (x - acc) / r;
            }
            acc += piece;
        }
        start = end;
    }
    f64::INFINITY
}

/// The (expected) calendar time of the last entry: D·n/(n+1) for uniform accrual (the mean of
/// the largest of n uniforms), Λ⁻¹(n) for piecewise accrual.
pub(crate) fn accrual_end(accrual: &Accrual, n: usize) -> Time {
    match accrual {
        Accrual::Uniform { duration } => duration * n as f64 / (n as f64 + 1.0),
        Accrual::Piecewise { breaks, rates } => inverse_accrual(breaks, rates, n as f64),
    }
}

/// Where the entry distribution has kinks (uniform: its end; piecewise: its last break).
pub(crate) fn accrual_horizon(accrual: &Accrual) -> Time {
    match accrual {
        Accrual::Uniform { duration } => *duration,
        Accrual::Piecewise { breaks, .. } => breaks.last().copied().unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_accrual_inverse() {
        let acc = Accrual::Piecewise { breaks: vec![1.0], rates: vec![10.0, 20.0] };
        assert!((cumulative_accrual(&acc, 2.0) - 30.0).abs() < 1e-12);
        let Accrual::Piecewise { breaks, rates } = &acc else { unreachable!() };
        assert!((inverse_accrual(breaks, rates, 30.0) - 2.0).abs() < 1e-12);
        assert!((inverse_accrual(breaks, rates, 5.0) - 0.5).abs() < 1e-12);
    }
}
