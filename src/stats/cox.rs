//! Cox proportional hazards for the arm (x = 1 experimental, 0 control), Breslow or Efron ties,
//! and the time-varying model with one arm effect per period.
//!
//! With one binary covariate the partial likelihood depends on the data only through the risk
//! table. At event time j with r = e^β, S0 = n0 + n1·r and S1 = S2 = n1·r:
//! - Breslow: ℓ_j = d1·β − d·log S0, U_j = d1 − d·S1/S0, I_j = d·(S1/S0)(1 − S1/S0);
//! - Efron (Efron 1977): for l = 0 … d−1, S0_l = S0 − (l/d)(d0 + d1·r), S1_l = S1 − (l/d)·d1·r;
//!   ℓ_j = d1·β − Σ_l log S0_l, U_j = d1 − Σ_l S1_l/S0_l, I_j = Σ_l (S1_l/S0_l)(1 − S1_l/S0_l).
//!
//! Newton–Raphson from β = 0 on the score, safeguarded by a bracket (R `coxph` halves steps on
//! ℓ instead; the root is the same), run until the score is zero to rounding. SE = I(β̂)^(−1/2), Wald z = β̂/SE (z < 0: hazard ratio below 1, favouring the
//! experimental arm), 95% CI exp(β̂ ± 1.96·SE).
//!
//! Not estimable (NaN, never an error): no events; or β̂ infinite, which with a binary covariate
//! happens exactly when the score keeps one sign as β → ±∞: every event at a time with someone
//! of the experimental arm at risk is experimental (β̂ = +∞), or every event at a time with
//! someone of the control arm at risk is a control event (β̂ = −∞).
//!
//! Periods (right-closed, as R's `survSplit`): the covariate x_k = arm·1{t ∈ period k} is
//! non-zero at an event time for one k only, so the partial likelihood factorises: β_k is the
//! one-coefficient fit on the event times of period k with the same risk sets, and the
//! information matrix is diagonal. This equals `coxph(Surv(tstart, tstop, event) ~ x_1 + … + x_K)`
//! on the split data.

use super::RiskTable;
use crate::time::Time;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ties {
    Breslow,
    Efron,
}

/// A fitted arm effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoxFit {
    pub log_hr: f64,
    pub se: f64,
    pub z: f64,
}

impl CoxFit {
    pub const NAN: CoxFit = CoxFit { log_hr: f64::NAN, se: f64::NAN, z: f64::NAN };
}

/// (U, I) summed over the rows `rows` at β.
fn derivatives(table: &RiskTable, rows: std::ops::Range<usize>, beta: f64, ties: Ties) -> (f64, f64) {
    let r = beta.exp();
    let (mut u, mut info) = (0.0, 0.0);
    for j in rows {
        let [n0, n1] = table.at_risk[j].map(f64::from);
        let [d0, d1] = table.events[j].map(f64::from);
        let d = d0 + d1;
        let s0 = n0 + n1 * r;
        let s1 = n1 * r;
        u += d1;
        match ties {
            Ties::Breslow => {
                let p = s1 / s0;
                u -= d * p;
                info += d * p * (1.0 - p);
            }
            // One event (most rows): Efron's single term, f = 0, is Breslow's s1/s0 (x − 0·y is
            // x exactly, so the value is the loop's bit for bit).
            Ties::Efron if table.events[j][0] + table.events[j][1] == 1 => {
                let p = s1 / s0;
                u -= p;
                info += p * (1.0 - p);
            }
            Ties::Efron => {
                let tied0 = d0 + d1 * r;
                let tied1 = d1 * r;
                let dn = table.events[j][0] + table.events[j][1];
                for l in 0..dn {
                    let f = f64::from(l) / d;
                    let p = (s1 - f * tied1) / (s0 - f * tied0);
                    u -= p;
                    info += p * (1.0 - p);
                }
            }
        }
    }
    (u, info)
}

/// Rows of one or more risk tables that share β: one table's rows, or every stratum's table in
/// the stratified model (whose partial likelihood is the product of the strata's).
type Blocks<'a> = [(&'a RiskTable, std::ops::Range<usize>)];

/// (U, I) summed over every block at β (one block: exactly its own sums).
fn derivatives_of(blocks: &Blocks, beta: f64, ties: Ties) -> (f64, f64) {
    match blocks {
        [(table, rows)] => derivatives(table, rows.clone(), beta, ties),
        _ => blocks.iter().fold((0.0, 0.0), |(u, i), (table, rows)| {
            let (du, di) = derivatives(table, rows.clone(), beta, ties);
            (u + du, i + di)
        }),
    }
}

/// Whether β̂ is finite on these rows (see the module doc): over strata, the score keeps one sign
/// as β → ±∞ when it does so in every stratum.
fn estimable(blocks: &Blocks) -> bool {
    let (mut events, mut plus_inf, mut minus_inf) = (0u32, true, true);
    for (table, rows) in blocks {
        for j in rows.clone() {
            let [n0, n1] = table.at_risk[j];
            let [d0, d1] = table.events[j];
            events += d0 + d1;
            if n1 > 0 && d0 > 0 {
                plus_inf = false;
            }
            if n0 > 0 && d1 > 0 {
                minus_inf = false;
            }
        }
    }
    events > 0 && !plus_inf && !minus_inf
}

/// Fits the arm effect on the risk-table rows `rows`.
fn fit_rows(table: &RiskTable, rows: std::ops::Range<usize>, ties: Ties) -> CoxFit {
    fit_blocks(&[(table, rows)], ties)
}

/// Fits one arm effect on every block's rows (see [`Blocks`]).
fn fit_blocks(blocks: &Blocks, ties: Ties) -> CoxFit {
    if !estimable(blocks) {
        return CoxFit::NAN;
    }
    // Safeguarded Newton–Raphson on the score, which decreases in β (ℓ is concave): the root is
    // kept in a bracket [lo, hi], and a Newton step that leaves it is replaced by bisection. No
    // log-likelihood is needed, and no step is cut short by rounding in ℓ.
    let (mut lo, mut hi) = (f64::NEG_INFINITY, f64::INFINITY);
    let mut beta = 0.0;
    let (mut u, mut info) = derivatives_of(blocks, beta, ties);
    for _ in 0..200 {
        if info.is_nan() || info <= 0.0 {
            return CoxFit::NAN;
        }
        // Converged when the score is zero to rounding: |U|/√I is the remaining step in SE units.
        if u.abs() <= 1e-13 * info.sqrt() {
            break;
        }
        if u > 0.0 {
            lo = beta;
        } else {
            hi = beta;
        }
        let mut next = beta + u / info;
        if !(next > lo && next < hi) {
            next = if lo.is_finite() && hi.is_finite() {
                0.5 * (lo + hi)
            } else {
                next.clamp(beta - 5.0, beta + 5.0)
            };
        }
        if next == beta {
            break;
        }
        beta = next;
        (u, info) = derivatives_of(blocks, beta, ties);
    }
    if info.is_nan() || info <= 0.0 || !beta.is_finite() {
        return CoxFit::NAN;
    }
    let se = 1.0 / info.sqrt();
    CoxFit { log_hr: beta, se, z: beta / se }
}

/// The Cox model with a constant arm effect.
pub fn cox(table: &RiskTable, ties: Ties) -> CoxFit {
    fit_rows(table, 0..table.len(), ties)
}

/// The stratified Cox model: one arm effect, a baseline hazard per stratum (R
/// `coxph(Surv(t, d) ~ arm + strata(s))`). The log partial likelihood is the sum of the strata's,
/// so U and I are summed over their risk tables; a stratum without events adds nothing.
pub fn cox_stratified(tables: &[RiskTable], ties: Ties) -> CoxFit {
    let blocks: Vec<(&RiskTable, std::ops::Range<usize>)> = tables.iter().map(|t| (t, 0..t.len())).collect();
    fit_blocks(&blocks, ties)
}

/// One arm effect per right-closed period (0, b₁], (b₁, b₂], …, (b_K, ∞) (Efron ties), written
/// to `out` (length breaks + 1).
pub fn cox_periods(table: &RiskTable, breaks: &[Time], ties: Ties, out: &mut [CoxFit]) {
    assert_eq!(out.len(), breaks.len() + 1, "one fit per period");
    let mut start = 0;
    for (k, slot) in out.iter_mut().enumerate() {
        let end = match breaks.get(k) {
            Some(&b) => start + table.time[start..].partition_point(|&t| t <= b),
            None => table.len(),
        };
        *slot = fit_rows(table, start..end, ties);
        start = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_ties_breslow_equals_efron_and_score_test_matches_logrank() {
        let t = RiskTable::from_data(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            &[true, true, false, true, true, true, false, true],
            &[1, 0, 1, 1, 0, 0, 1, 0],
        );
        let (b, e) = (cox(&t, Ties::Breslow), cox(&t, Ties::Efron));
        assert!((b.log_hr - e.log_hr).abs() < 1e-14 && (b.se - e.se).abs() < 1e-14);
        // At β = 0 the Cox score is the log-rank U and (without ties) the information its V.
        let (u, i) = derivatives(&t, 0..t.len(), 0.0, Ties::Breslow);
        let lr = crate::stats::logrank::logrank(&t);
        assert!((u - lr.u).abs() < 1e-14 && (i - lr.v).abs() < 1e-14);
        // The fit solves U(β̂) = 0.
        let (u_hat, _) = derivatives(&t, 0..t.len(), b.log_hr, Ties::Breslow);
        assert!(u_hat.abs() < 1e-12);
    }

    #[test]
    fn an_arm_without_events_is_not_estimable() {
        let t = RiskTable::from_data(&[1.0, 2.0, 3.0, 4.0], &[true, true, false, false], &[0, 0, 1, 1]);
        assert!(cox(&t, Ties::Efron).log_hr.is_nan());
        let none = RiskTable::from_data(&[1.0, 2.0], &[false, false], &[0, 1]);
        assert!(cox(&none, Ties::Breslow).z.is_nan());
    }

    #[test]
    fn periods_split_at_right_closed_breaks() {
        // Events at 1 (control), exactly at the break 2 (experimental), 3 and 4 (one each).
        let t = RiskTable::from_data(
            &[1.0, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0],
            &[true, true, true, true, false, false, false, false],
            &[0, 1, 0, 1, 0, 0, 1, 1],
        );
        let mut out = [CoxFit::NAN; 2];
        cox_periods(&t, &[2.0], Ties::Efron, &mut out);
        // Period 1 holds times 1 and 2: one event per arm; estimable.
        assert!(out[0].log_hr.is_finite());
        let direct = fit_rows(&t, 0..2, Ties::Efron);
        assert_eq!(out[0], direct);
        assert_eq!(out[1], fit_rows(&t, 2..4, Ties::Efron));
    }
}
