//! Stratified weighted log-rank tests: within each stratum the two groups are compared on the
//! stratum's own risk sets, and the scores and null variances are summed,
//!
//!   U = Σ_s U_s,  V = Σ_s V_s,  z = U/√V,
//!
//! with U_s, V_s the stratum's statistic of `logrank` (Peto & Peto 1972; Kalbfleisch & Prentice
//! 2002, §7.2; R `survdiff(Surv(t, d) ~ arm + strata(s), rho = ρ)`). A weighted test's weights
//! come from each stratum's own pooled Kaplan–Meier estimate, as `survdiff` computes its G^ρ
//! weights: w_{s,j} = Ŝ_s(t_j−)^ρ (1 − Ŝ_s(t_j−))^γ for FH(ρ, γ), and 1/max(Ŝ_s(t_j−), s*) for
//! MW (with a time cap, s* = Ŝ_s(t*) in each stratum).
//!
//! For MW this is the "stratum-specific weights" version among those Magirr & Jiménez (2022,
//! arXiv:2201.10445) compare, chosen because (a) it is what the stratified log-rank and `survdiff`'s
//! G^ρ family do, so `mw[strata]` with s* = 1 is `logrank[strata]` exactly; (b) each stratum's
//! weights stay non-decreasing within [1, 1/s*], so the property that makes MW safe when the
//! experimental arm is never better (Magirr & Burman 2019, §3) holds in every stratum and hence
//! for the sum; (c) a stratum's weights do not depend on how prognostic the other strata are.
//! Weights from the pooled KM over all strata would mix the strata's baselines into every
//! stratum's weight.
//!
//! A stratum with no event contributes nothing; V = 0 overall gives z = NaN.

use super::RiskTable;
use super::logrank::{LogRank, fleming_harrington, logrank};
use super::modestly_weighted::{Cap, modestly_weighted};

/// Σ_s of one stratum's (U, V); one stratum: its own statistic exactly.
fn summed(tables: &[RiskTable], each: impl Fn(&RiskTable) -> LogRank) -> LogRank {
    match tables {
        [t] => each(t),
        _ => {
            let (u, v) = tables.iter().map(&each).fold((0.0, 0.0), |(u, v), s| (u + s.u, v + s.v));
            LogRank::from_sums(u, v)
        }
    }
}

/// The stratified log-rank test.
pub fn stratified_logrank(tables: &[RiskTable]) -> LogRank {
    summed(tables, logrank)
}

/// The stratified FH(ρ, γ) test, weights from each stratum's pooled Kaplan–Meier.
pub fn stratified_fh(tables: &[RiskTable], rho: f64, gamma: f64) -> LogRank {
    summed(tables, |t| fleming_harrington(t, rho, gamma))
}

/// The stratified MW test, weights from each stratum's pooled Kaplan–Meier.
pub fn stratified_mw(tables: &[RiskTable], cap: Cap) -> LogRank {
    summed(tables, |t| modestly_weighted(t, cap))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(times: &[f64], events: &[bool], groups: &[u8]) -> RiskTable {
        RiskTable::from_data(times, events, groups)
    }

    #[test]
    fn one_stratum_is_the_unstratified_test_and_strata_add() {
        let a = table(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            &[true, true, false, true, true, false],
            &[0, 1, 0, 1, 0, 1],
        );
        let b = table(&[0.5, 1.5, 2.5, 3.5], &[true, false, true, true], &[1, 0, 0, 1]);
        assert_eq!(stratified_logrank(std::slice::from_ref(&a)), logrank(&a));
        let both = stratified_fh(&[a.clone(), b.clone()], 0.0, 1.0);
        let (fa, fb) = (fleming_harrington(&a, 0.0, 1.0), fleming_harrington(&b, 0.0, 1.0));
        assert_eq!((both.u, both.v), (fa.u + fb.u, fa.v + fb.v));
        // MW with s* = 1 has every weight 1: the stratified log-rank.
        let mw = stratified_mw(&[a.clone(), b.clone()], Cap::Survival(1.0));
        let lr = stratified_logrank(&[a, b]);
        assert!((mw.z - lr.z).abs() < 1e-15, "{} vs {}", mw.z, lr.z);
    }
}
