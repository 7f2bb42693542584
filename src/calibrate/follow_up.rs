//! The follow-up a study file's design produces, to set beside the published one.

use serde::Serialize;

use crate::scenario::Scenario;

/// The follow-up the study file's design produces, to compare with the published one.
#[derive(Debug, Clone, Serialize)]
pub struct DesignFollowUp {
    pub study: String,
    pub expected_cut: f64,
    /// Median observed time on study of the primary endpoint, all patients.
    pub median: f64,
    /// Shortest and longest potential follow-up (cut minus last and first entry).
    pub range: (f64, f64),
}

/// The expected cut, the median time on study and the range of potential follow-up.
pub fn design_follow_up(sc: &Scenario) -> DesignFollowUp {
    let cut = crate::truth::expected_cut(sc).unwrap_or(f64::NAN);
    let ep = sc.primary();
    let alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let over = |t: f64| -> f64 {
        sc.allocated_arms()
            .map(|(_, a)| {
                a.allocation as f64 / alloc as f64
                    * crate::truth::survival(a, ep, t)
                    * super::model::followed(sc, a, cut, t)
            })
            .sum()
    };
    let (mut lo, mut hi) = (0.0, cut);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if over(mid) > 0.5 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // The latest possible entry: the end of uniform accrual, the expected last entry otherwise.
    let last_entry = match &sc.design.accrual {
        crate::scenario::Accrual::Uniform { duration } => *duration,
        a => crate::accrual::accrual_end(a, sc.design.n),
    };
    DesignFollowUp {
        study: sc.name.clone(),
        expected_cut: cut,
        median: 0.5 * (lo + hi),
        range: (cut - last_entry, cut),
    }
}
