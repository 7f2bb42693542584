//! The observed crossing of the two Kaplan–Meier curves (the early-harm-then-benefit pattern):
//! the first event time t at which the experimental curve, having been below control by at least
//! δ, is above it by at least δ, with at least k patients at risk in each arm at both moments.
//! Raw order changes of two KM curves are mostly noise (identical arms swap order several times
//! in most trials); the gap and at-risk rule keep only persistent, visible crossings.

use super::RiskTable;
use crate::time::Time;

/// The observed-crossing rule (docs/design.md § Analyses): the experimental KM must first be below control by
/// at least `min_gap`, then above by at least `min_gap`, with `min_at_risk` patients at risk in
/// each arm at both moments.
#[derive(Debug, Clone, Copy)]
pub struct CrossingRule {
    pub min_gap: f64,
    pub min_at_risk: usize,
}

impl Default for CrossingRule {
    fn default() -> Self {
        CrossingRule { min_gap: 0.02, min_at_risk: 10 }
    }
}

/// The crossing time, or NaN when the curves do not cross by the rule.
pub(crate) fn observed_crossing(table: &RiskTable, rule: CrossingRule) -> Time {
    let (mut s0, mut s1) = (1.0, 1.0);
    let mut below = false;
    let k = rule.min_at_risk as u32;
    for j in 0..table.len() {
        let (n, d) = (table.at_risk[j], table.events[j]);
        if n[0] > 0 {
            s0 *= 1.0 - f64::from(d[0]) / f64::from(n[0]);
        }
        if n[1] > 0 {
            s1 *= 1.0 - f64::from(d[1]) / f64::from(n[1]);
        }
        if n[0] < k || n[1] < k {
            continue;
        }
        let gap = s1 - s0;
        if !below {
            below = gap < 0.0 && gap <= -rule.min_gap;
        } else if gap > 0.0 && gap >= rule.min_gap {
            return table.time[j];
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(gap: f64, k: usize) -> CrossingRule {
        CrossingRule { min_gap: gap, min_at_risk: k }
    }

    #[test]
    fn harm_then_benefit_crosses() {
        // 10 per arm. Experimental: 2 early deaths (t = 1, 2). Control: 4 later deaths (3..6).
        let mut time = vec![1.0, 2.0];
        time.extend(std::iter::repeat_n(10.0, 8));
        time.extend([3.0, 4.0, 5.0, 6.0]);
        time.extend(std::iter::repeat_n(10.0, 6));
        let event: Vec<bool> = (0..20).map(|i| i < 2 || (10..14).contains(&i)).collect();
        let group: Vec<u8> = (0..20).map(|i| u8::from(i < 10)).collect();
        let t = RiskTable::from_data(&time, &event, &group);
        // Below by 0.1 at t = 1; equal at 4; above by 0.1 at t = 5 (S1 = 0.8, S0 = 0.7).
        assert_eq!(observed_crossing(&t, rule(0.05, 1)), 5.0);
        // A larger gap than ever reached: no crossing.
        assert!(observed_crossing(&t, rule(0.3, 1)).is_nan());
        // Too few at risk: no crossing.
        assert!(observed_crossing(&t, rule(0.05, 11)).is_nan());
    }
}
