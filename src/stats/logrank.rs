//! The log-rank test and the Fleming–Harrington FH(ρ, γ) weighted log-rank family.
//!
//! U = Σ_j w_j (d1_j − d_j n1_j/n_j), V = Σ_j w_j² d_j (n1_j/n_j)(1 − n1_j/n_j)(n_j − d_j)/(n_j − 1),
//! z = U/√V (Mantel 1966; Fleming & Harrington 1991, §7.3; R `survdiff`). A time with n_j = 1
//! contributes 0 to V. U > 0 means more experimental events than expected, so z < 0 favours
//! the experimental arm. V = 0 (no informative events) gives z = NaN.
//!
//! FH weights: w_j = Ŝ(t_j−)^ρ (1 − Ŝ(t_j−))^γ with Ŝ the pooled Kaplan–Meier just before t_j;
//! FH(0, 0) is the log-rank test, FH(ρ, 0) R's `survdiff(rho = ρ)`.

use super::RiskTable;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogRank {
    pub u: f64,
    pub v: f64,
    pub z: f64,
}

impl LogRank {
    pub(crate) fn from_sums(u: f64, v: f64) -> LogRank {
        let z = if v > 0.0 { u / v.sqrt() } else { f64::NAN };
        LogRank { u, v, z }
    }
}

/// The per-time pieces of U and V: observed minus expected and the hypergeometric variance.
#[inline]
pub(crate) fn increment(n: [u32; 2], d: [u32; 2]) -> (f64, f64) {
    let nn = f64::from(n[0] + n[1]);
    let dd = f64::from(d[0] + d[1]);
    let p1 = f64::from(n[1]) / nn;
    let u = f64::from(d[1]) - dd * p1;
    let v = if nn > 1.0 { dd * p1 * (1.0 - p1) * (nn - dd) / (nn - 1.0) } else { 0.0 };
    (u, v)
}

/// The unweighted log-rank test.
pub fn logrank(table: &RiskTable) -> LogRank {
    let (mut u, mut v) = (0.0, 0.0);
    for j in 0..table.len() {
        let (du, dv) = increment(table.at_risk[j], table.events[j]);
        u += du;
        v += dv;
    }
    LogRank::from_sums(u, v)
}

#[cfg(test)]
/// The log-rank test on the event times in (from, to] only (same risk sets): the Cox score test
/// of the arm effect in that period (`survSplit` periods are right-closed).
pub(crate) fn logrank_between(table: &RiskTable, from: f64, to: f64) -> LogRank {
    let start = table.time.partition_point(|&t| t <= from);
    let end = table.time.partition_point(|&t| t <= to);
    let (mut u, mut v) = (0.0, 0.0);
    for j in start..end {
        let (du, dv) = increment(table.at_risk[j], table.events[j]);
        u += du;
        v += dv;
    }
    LogRank::from_sums(u, v)
}

/// The log-rank test on all event times and on two periods, (0, `first`] and (`last`, ∞), in one
/// pass: the same values as [`logrank`] and [`logrank_between`] (each sum adds the same terms in
/// the same order), computing each time's terms once.
pub(crate) fn logrank_and_periods(table: &RiskTable, first: f64, last: f64) -> [LogRank; 3] {
    let early_end = table.time.partition_point(|&t| t <= first);
    let late_start = table.time.partition_point(|&t| t <= last);
    let mut sums = [(0.0, 0.0); 3];
    for j in 0..table.len() {
        let (du, dv) = increment(table.at_risk[j], table.events[j]);
        sums[0].0 += du;
        sums[0].1 += dv;
        if j < early_end {
            sums[1].0 += du;
            sums[1].1 += dv;
        }
        if j >= late_start {
            sums[2].0 += du;
            sums[2].1 += dv;
        }
    }
    sums.map(|(u, v)| LogRank::from_sums(u, v))
}

/// Ŝ(t)^ρ (1 − Ŝ(t))^γ, with 0⁰ = 1 so that FH(0, γ) and FH(ρ, 0) are well defined at Ŝ = 1 or 0.
#[inline]
pub(crate) fn fh_weight(s: f64, rho: f64, gamma: f64) -> f64 {
    FhWeight::new(rho, gamma).at(s)
}

/// An exponent of the FH weight, classified once: 0 and 1 (every default MaxCombo weight) are
/// computed without `powf`, which gives the same values at many times the cost. (A test of the
/// exponent at every time does not do it: the compiler, knowing x⁰ = 1, folds the test for 0
/// into the `powf` call.)
#[derive(Debug, Clone, Copy)]
enum Power {
    Zero,
    One,
    Real(f64),
}

impl Power {
    fn new(p: f64) -> Self {
        if p == 0.0 {
            Power::Zero
        } else if p == 1.0 {
            Power::One
        } else {
            Power::Real(p)
        }
    }

    #[inline]
    fn of(self, x: f64) -> f64 {
        match self {
            Power::Zero => 1.0,
            Power::One => x,
            Power::Real(p) => x.powf(p),
        }
    }
}

/// The FH(ρ, γ) weight as a function of Ŝ(t−), its exponents classified once ([`fh_weight`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FhWeight {
    rho: Power,
    gamma: Power,
}

impl FhWeight {
    pub(crate) fn new(rho: f64, gamma: f64) -> Self {
        FhWeight { rho: Power::new(rho), gamma: Power::new(gamma) }
    }

    /// Ŝ^ρ (1 − Ŝ)^γ at Ŝ = `s`.
    #[inline]
    pub(crate) fn at(self, s: f64) -> f64 {
        self.rho.of(s) * self.gamma.of(1.0 - s)
    }
}

/// The Fleming–Harrington FH(ρ, γ) test.
pub fn fleming_harrington(table: &RiskTable, rho: f64, gamma: f64) -> LogRank {
    // The usual weights as their own loops (the same values: 1·x = x), so that no row asks
    // which exponents it has.
    match FhWeight::new(rho, gamma) {
        FhWeight { rho: Power::Zero, gamma: Power::One } => weighted_sums(table, |s| 1.0 - s),
        FhWeight { rho: Power::One, gamma: Power::Zero } => weighted_sums(table, |s| s),
        FhWeight { rho: Power::One, gamma: Power::One } => weighted_sums(table, |s| s * (1.0 - s)),
        weight => weighted_sums(table, |s| weight.at(s)),
    }
}

/// The weighted log-rank sums with weight w(Ŝ(t_j−)) at each event time.
#[inline]
fn weighted_sums(table: &RiskTable, weight: impl Fn(f64) -> f64) -> LogRank {
    let (mut u, mut v) = (0.0, 0.0);
    weighted_rows(table, weight, |w, du, dv| {
        u += w * du;
        v += w * w * dv;
    });
    LogRank::from_sums(u, v)
}

/// Each row's term of the FH(ρ, γ) statistic's null variance, w_j² V_j (the summands of
/// [`fleming_harrington`]'s v, in the same order), into `out`.
pub(crate) fn fh_variance_terms(table: &RiskTable, rho: f64, gamma: f64, out: &mut Vec<f64>) {
    let weight = FhWeight::new(rho, gamma);
    out.clear();
    weighted_rows(table, |s| weight.at(s), |w, _, dv| out.push(w * w * dv));
}

/// Walks the event times in order: `row(w_j, U_j, V_j)` with the weight w(Ŝ(t_j−)) of the
/// pooled Kaplan–Meier estimate just before t_j and the log-rank increments there.
#[inline]
pub(crate) fn weighted_rows(
    table: &RiskTable,
    weight: impl Fn(f64) -> f64,
    mut row: impl FnMut(f64, f64, f64),
) {
    let mut s = 1.0; // pooled KM just before t_j
    for j in 0..table.len() {
        let (n, d) = (table.at_risk[j], table.events[j]);
        let (du, dv) = increment(n, d);
        row(weight(s), du, dv);
        s *= 1.0 - f64::from(d[0] + d[1]) / f64::from(n[0] + n[1]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_equals_the_three_tests() {
        let t = RiskTable::from_data(
            &[0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 0.7, 1.2, 2.2, 2.8, 3.1, 3.9, 4.5, 5.0],
            &[
                true, true, true, false, true, true, true, false, true, false, true, true, false, true, true,
                false,
            ],
            &[0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1],
        );
        // Bit for bit (an empty period gives z = NaN in both).
        let bits = |l: LogRank| [l.u.to_bits(), l.v.to_bits(), l.z.to_bits()];
        for (first, last) in [(1.0, 1.0), (0.6, 3.0), (0.0, 10.0), (2.2, 2.2)] {
            let [all, early, late] = logrank_and_periods(&t, first, last);
            assert_eq!(bits(all), bits(logrank(&t)));
            assert_eq!(bits(early), bits(logrank_between(&t, 0.0, first)));
            assert_eq!(bits(late), bits(logrank_between(&t, last, f64::INFINITY)));
        }
    }

    #[test]
    fn two_by_two_hand_computation() {
        // One time, n = (2, 2), d = (0, 2): U = 2 − 2·½ = 1, V = 2·½·½·2/3 = 1/3.
        let t = RiskTable::from_data(&[1.0, 1.0, 2.0, 2.0], &[true, true, false, false], &[1, 1, 0, 0]);
        let lr = logrank(&t);
        assert!((lr.u - 1.0).abs() < 1e-15);
        assert!((lr.v - 1.0 / 3.0).abs() < 1e-15);
        assert!(lr.z > 0.0, "more experimental events: z > 0 (harm)");
    }

    #[test]
    fn single_at_risk_contributes_nothing_and_v0_is_nan() {
        let t = RiskTable::from_data(&[1.0], &[true], &[1]);
        let lr = logrank(&t);
        assert_eq!(lr.v, 0.0);
        assert!(lr.z.is_nan());
    }

    #[test]
    fn periods_partition_the_logrank_sums() {
        let t = RiskTable::from_data(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 1.5, 2.5],
            &[true, true, false, true, true, false, true, true],
            &[0, 0, 1, 1, 0, 1, 1, 0],
        );
        let (a, b) = (logrank_between(&t, 0.0, 2.0), logrank_between(&t, 2.0, f64::INFINITY));
        let all = logrank(&t);
        assert!((a.u + b.u - all.u).abs() < 1e-14 && (a.v + b.v - all.v).abs() < 1e-14);
    }

    #[test]
    fn fh00_is_logrank() {
        let t = RiskTable::from_data(
            &[1.0, 2.0, 2.0, 3.0, 4.0, 5.0, 1.5, 2.5],
            &[true, true, false, true, true, false, true, true],
            &[0, 0, 1, 1, 0, 1, 1, 0],
        );
        assert_eq!(fleming_harrington(&t, 0.0, 0.0), logrank(&t));
        let fh01 = fleming_harrington(&t, 0.0, 1.0);
        assert!(fh01.z.is_finite());
    }
}
