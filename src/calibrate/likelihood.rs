//! The likelihood of a study's published figures under the model (docs/design.md § Calibrating). Each
//! patient counts once:
//! - the count cells of one (arm, endpoint, patients) group are disjoint by validation and form a
//!   multinomial with the remainder "no such event observed":
//!   ℓ = Σ_c x_c ln p_c + (N − Σ_c x_c) ln(1 − Σ_c p_c);
//! - a split (e.g. 3 organ failures among the 14 events of several cells) is, given the cells'
//!   counts m_j, a sum of independent binomials Bin(m_j, q_j) with q_j the model's share of the
//!   split's causes within cell j: ℓ = ln P(Σ_j a_j = x), by convolution (exact for coarsened
//!   multinomial data);
//! - a Kaplan–Meier figure is normal on the logit scale, a hazard ratio normal on the log scale,
//!   with the SE from the published 95% CI ([`logit_se`], [`log_se`]).
//!
//! Figures with role "check" restate others and are left out.

use super::targets::{Role, Target, TargetKind, group};
use crate::scenario::Scenario;
use crate::time::Time;

use super::model::{Cell, cell_probabilities};

/// The normal 97.5% quantile that published 95% CIs use.
const Z975: f64 = crate::stats::normal::Z_975;

/// A study's expected figures under the model (indexed like its targets) and the probabilities
/// of its count cells.
#[derive(Debug, Clone)]
pub struct Expected {
    pub values: Vec<f64>,
    pub cells: Vec<f64>,
}

/// How one study's targets enter the likelihood; fixed by the study file.
#[derive(Debug, Clone)]
pub struct TargetLayout {
    /// One cell per count target (its own causes and interval), then the split parts.
    cells: Vec<Cell>,
    /// Index into `cells` of each count target (None for other kinds).
    target_cell: Vec<Option<usize>>,
    groups: Vec<Group>,
    splits: Vec<Split>,
    normals: Vec<Normal>,
    /// Fit `outcome_share` targets: a binomial each.
    shares: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Group {
    patients: usize,
    /// Fit count targets of the group.
    members: Vec<usize>,
}

#[derive(Debug, Clone)]
struct Split {
    target: usize,
    /// (member target, cell of the split's causes within that member's cell).
    parts: Vec<(usize, usize)>,
}

#[derive(Debug, Clone, Copy)]
struct Normal {
    target: usize,
    se: f64,
}

/// SE of logit(p̂) from a published 95% CI [lo, hi] around p̂ for a study arm of n patients
/// (docs/design.md § Calibrating): each half-width gives an SE on the logit scale; an asymmetric CI
/// (as printed, e.g. 72% (59–75)) is resolved by taking the half-width whose SE is nearer the
/// binomial SE 1/√(n p̂ (1 − p̂)) (the error the estimate plausibly has), and the SE is never
/// smaller than that binomial SE.
pub(crate) fn logit_se(p: f64, lo: f64, hi: f64, n: usize) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    let binomial = 1.0 / (n as f64 * p * (1.0 - p)).sqrt();
    let lower = (logit(p) - logit(lo.max(1e-9))) / Z975;
    let upper = (logit(hi.min(1.0 - 1e-9)) - logit(p)) / Z975;
    let nearer = if (lower - binomial).abs() <= (upper - binomial).abs() { lower } else { upper };
    nearer.max(binomial)
}

/// SE of ln(HR) from a published 95% CI: the mean of the two log-scale half-widths over 1.96.
pub(crate) fn log_se(hr: f64, lo: f64, hi: f64) -> f64 {
    0.5 * ((hr.ln() - lo.ln()) + (hi.ln() - hr.ln())) / Z975
}

pub(crate) fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

impl TargetLayout {
    pub fn new(sc: &Scenario, targets: &[Target]) -> TargetLayout {
        let mut cells = Vec::new();
        let mut target_cell = vec![None; targets.len()];
        for (i, t) in targets.iter().enumerate() {
            if let TargetKind::Count { arm, endpoint, causes, from, to, .. } = &t.kind {
                target_cell[i] = Some(cells.len());
                cells.push(Cell {
                    arm: *arm,
                    endpoint: *endpoint,
                    causes: causes.clone(),
                    from: *from,
                    to: *to,
                });
            }
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut keys = Vec::new();
        for (i, t) in targets.iter().enumerate().filter(|(_, t)| t.role == Role::Fit) {
            if let Some(g) = group(&t.kind) {
                match keys.iter().position(|k| *k == g) {
                    Some(j) => groups[j].members.push(i),
                    None => {
                        keys.push(g);
                        groups.push(Group { patients: g.2, members: vec![i] });
                    }
                }
            }
        }
        let mut splits = Vec::new();
        for (i, t) in targets.iter().enumerate().filter(|(_, t)| t.role == Role::Split) {
            let TargetKind::Count { causes, from, to, .. } = &t.kind else { continue };
            let g = group(&t.kind);
            let mut parts = Vec::new();
            for (j, m) in targets.iter().enumerate() {
                if m.role != Role::Fit || group(&m.kind) != g {
                    continue;
                }
                let TargetKind::Count { arm, endpoint, causes: mc, from: mf, to: mt, .. } = &m.kind else {
                    continue;
                };
                let shared: Vec<usize> = causes.iter().copied().filter(|k| mc.contains(k)).collect();
                if shared.is_empty() || mf.max(*from) >= mt.min(*to) {
                    continue;
                }
                parts.push((j, cells.len()));
                cells.push(Cell { arm: *arm, endpoint: *endpoint, causes: shared, from: *mf, to: *mt });
            }
            splits.push(Split { target: i, parts });
        }
        let normals = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == Role::Fit)
            .filter_map(|(i, t)| normal_se(sc, t).map(|se| Normal { target: i, se }))
            .collect();
        let shares = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.role == Role::Fit && matches!(t.kind, TargetKind::OutcomeShare { .. }))
            .map(|(i, _)| i)
            .collect();
        TargetLayout { cells, target_cell, groups, splits, normals, shares }
    }

    /// The model's expected value of every target: counts as expected patients, Kaplan–Meier
    /// figures as the true S(t) (or 1 − S(t)), hazard ratios as the average hazard ratio of the
    /// period after the break at the expected cut. Also returns the cell probabilities.
    pub fn expected(&self, sc: &Scenario, targets: &[Target], cut: Time) -> Expected {
        let p = cell_probabilities(sc, cut, &self.cells);
        let values = targets
            .iter()
            .enumerate()
            .map(|(i, t)| match &t.kind {
                TargetKind::Count { patients, .. } => {
                    *patients as f64 * p[self.target_cell[i].expect("count cell")]
                }
                TargetKind::Survival { arm, endpoint, time, failure, .. } => {
                    let s = crate::truth::survival(&sc.arms[*arm], &sc.endpoints[*endpoint], *time);
                    if *failure { 1.0 - s } else { s }
                }
                TargetKind::HazardRatio { endpoint, after, .. } => crate::truth::average_hazard_ratio_of(
                    sc,
                    &sc.endpoints[*endpoint],
                    cut,
                    *after,
                    f64::INFINITY,
                ),
                // Who is measured does not depend on the value (scenario::outcomes): the measured
                // patients' distribution is the arm's. This needs one population: study files
                // with strata are refused (`StudyProblem::Stratified`).
                TargetKind::OutcomeMean { arm, outcome, at, .. } => {
                    sc.arms[*arm].outcomes[*outcome].mean[*at]
                }
                TargetKind::OutcomeShare { arm, outcome, at, threshold, below, patients } => {
                    let m = &sc.arms[*arm].outcomes[*outcome];
                    *patients as f64 * share_beyond(m.mean[*at], m.sd[*at], *threshold, *below)
                }
            })
            .collect();
        Expected { values, cells: p }
    }

    /// −ℓ of the observed figures `data` (published or simulated; indexed like the targets)
    /// given the model's expected values and cell probabilities from [`TargetLayout::expected`].
    pub(crate) fn negative_log_likelihood(
        &self,
        targets: &[Target],
        data: &[f64],
        expected: &[f64],
        p: &[f64],
    ) -> f64 {
        if p.iter().any(|x| x.is_nan()) {
            return f64::INFINITY;
        }
        let mut ll = 0.0;
        for g in &self.groups {
            let mut x_sum = 0.0;
            let mut p_sum = 0.0;
            for &i in &g.members {
                let x = data[i];
                let pc = p[self.target_cell[i].expect("count cell")];
                ll += x * safe_ln(pc, x);
                x_sum += x;
                p_sum += pc;
            }
            let rest = g.patients as f64 - x_sum;
            ll += rest * safe_ln(1.0 - p_sum, rest);
        }
        for s in &self.splits {
            let parts: Vec<(usize, f64)> = s
                .parts
                .iter()
                .map(|&(member, aux)| {
                    let whole = p[self.target_cell[member].expect("count cell")];
                    let q = if whole > 0.0 { (p[aux] / whole).clamp(0.0, 1.0) } else { 0.0 };
                    (data[member] as usize, q)
                })
                .collect();
            ll += sum_of_binomials(&parts, data[s.target] as usize).max(f64::MIN_POSITIVE).ln();
        }
        for &i in &self.shares {
            let TargetKind::OutcomeShare { patients, .. } = targets[i].kind else { continue };
            let n = patients as f64;
            let q = expected[i] / n;
            let x = data[i];
            if x.is_nan() {
                continue;
            }
            ll += x * safe_ln(q, x) + (n - x) * safe_ln(1.0 - q, n - x);
        }
        for n in &self.normals {
            let t = &targets[n.target];
            let z = match &t.kind {
                TargetKind::HazardRatio { .. } => (data[n.target].ln() - expected[n.target].ln()) / n.se,
                TargetKind::OutcomeMean { .. } => (data[n.target] - expected[n.target]) / n.se,
                _ => {
                    (logit(clamp_probability(data[n.target])) - logit(clamp_probability(expected[n.target])))
                        / n.se
                }
            };
            if z.is_finite() {
                ll -= 0.5 * z * z;
            } else if !data[n.target].is_nan() {
                // The model cannot produce the figure at all (e.g. a hazard ratio of 0).
                return f64::INFINITY;
            }
        }
        -ll
    }

    /// Independent figures in the likelihood: a multinomial group of k cells has k free
    /// probabilities, a split and a normal term one each. No fit identifies more dimensions.
    pub fn dimensions(&self) -> usize {
        self.groups.iter().map(|g| g.members.len()).sum::<usize>()
            + self.splits.len()
            + self.normals.len()
            + self.shares.len()
    }
}

/// P(X < threshold) (`below`) or P(X > threshold) for X ~ N(mean, sd²); a step at the mean
/// when sd = 0.
pub(crate) fn share_beyond(mean: f64, sd: f64, threshold: f64, below: bool) -> f64 {
    match (sd > 0.0, below) {
        (true, true) => crate::stats::normal::cdf((threshold - mean) / sd),
        (true, false) => crate::stats::normal::cdf((mean - threshold) / sd),
        // A point mass: strictly below or above, as the simulated figure counts.
        (false, true) => f64::from(u8::from(mean < threshold)),
        (false, false) => f64::from(u8::from(mean > threshold)),
    }
}

/// A simulated Kaplan–Meier value of exactly 0 or 1 would have an infinite logit.
fn clamp_probability(p: f64) -> f64 {
    p.clamp(1e-4, 1.0 - 1e-4)
}

/// x·ln p with the convention 0·ln 0 = 0 (an impossible cell with no patients costs nothing).
fn safe_ln(p: f64, x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if p > 0.0 {
        p.ln()
    } else {
        -1e6
    }
}

fn normal_se(sc: &Scenario, t: &Target) -> Option<f64> {
    match &t.kind {
        TargetKind::Survival { arm, ci: Some((lo, hi)), .. } => {
            let alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
            let n = (sc.design.n as f64 * sc.arms[*arm].allocation as f64 / alloc as f64).round() as usize;
            Some(logit_se(t.value, *lo, *hi, n.max(1)))
        }
        TargetKind::HazardRatio { ci: Some((lo, hi)), .. } => Some(log_se(t.value, *lo, *hi)),
        // A mean's 95% CI is ± 1.96 SE.
        TargetKind::OutcomeMean { ci: Some((lo, hi)), .. } => {
            Some((hi - lo) / (2.0 * crate::stats::normal::Z_975))
        }
        _ => None,
    }
}

/// Above this many events the convolution (quadratic in the count) gives way to the normal
/// approximation with continuity correction, accurate to far better than the figures' own error.
const EXACT_UP_TO: usize = 5000;

/// P(Σ_j a_j = x) for independent a_j ~ Bin(m_j, q_j), by convolving the binomial pmfs (or, for
/// more than 5,000 events, the normal approximation with continuity correction).
pub(crate) fn sum_of_binomials(parts: &[(usize, f64)], x: usize) -> f64 {
    if parts.iter().map(|p| p.0).sum::<usize>() > EXACT_UP_TO {
        let mean: f64 = parts.iter().map(|&(m, q)| m as f64 * q).sum();
        let var: f64 = parts.iter().map(|&(m, q)| m as f64 * q * (1.0 - q)).sum();
        if var <= 0.0 {
            return if (x as f64 - mean).abs() < 0.5 { 1.0 } else { 0.0 };
        }
        let sd = var.sqrt();
        let z = |v: f64| (v - mean) / sd;
        return crate::stats::normal::cdf(z(x as f64 + 0.5)) - crate::stats::normal::cdf(z(x as f64 - 0.5));
    }
    let mut pmf = vec![1.0];
    for &(m, q) in parts {
        let b = binomial_pmf(m, q);
        let mut next = vec![0.0; pmf.len() + m];
        for (i, &a) in pmf.iter().enumerate() {
            for (j, &c) in b.iter().enumerate() {
                next[i + j] += a * c;
            }
        }
        pmf = next;
    }
    pmf.get(x).copied().unwrap_or(0.0)
}

fn binomial_pmf(m: usize, q: f64) -> Vec<f64> {
    let mut out = vec![0.0; m + 1];
    for (k, o) in out.iter_mut().enumerate() {
        let ln_choose =
            libm::lgamma(m as f64 + 1.0) - libm::lgamma(k as f64 + 1.0) - libm::lgamma((m - k) as f64 + 1.0);
        let v = ln_choose + k as f64 * ln_or(q) + (m - k) as f64 * ln_or(1.0 - q);
        *o = if v.is_nan() { 0.0 } else { v.exp() };
    }
    if q <= 0.0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        out[0] = 1.0;
    } else if q >= 1.0 {
        out.iter_mut().for_each(|o| *o = 0.0);
        out[m] = 1.0;
    }
    out
}

fn ln_or(p: f64) -> f64 {
    if p > 0.0 { p.ln() } else { f64::NEG_INFINITY }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sum_of_binomials_matches_one_binomial_when_shares_are_equal() {
        // Bin(5, 0.3) + Bin(9, 0.3) = Bin(14, 0.3).
        let got = sum_of_binomials(&[(5, 0.3), (9, 0.3)], 3);
        let want = 364.0 * 0.3f64.powi(3) * 0.7f64.powi(11);
        assert!((got - want).abs() < 1e-14, "{got} vs {want}");
        let total: f64 = (0..=14).map(|x| sum_of_binomials(&[(5, 0.2), (9, 0.6)], x)).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert_eq!(sum_of_binomials(&[(3, 0.0)], 0), 1.0);
    }

    #[test]
    fn asymmetric_interval_takes_the_half_width_nearer_the_binomial_error() {
        // 72% (59–75) at n = 57 (as printed): the lower half-width, 13 points, is the plausible one.
        let se = logit_se(0.72, 0.59, 0.75, 57);
        let lower = (logit(0.72) - logit(0.59)) / Z975;
        assert!((se - lower).abs() < 1e-12, "{se} vs {lower}");
        // Never below the binomial SE.
        let tight = logit_se(0.5, 0.49, 0.51, 100);
        assert!((tight - 1.0 / (100.0f64 * 0.25).sqrt()).abs() < 1e-12);
        // ln HR: 0.35 (0.16–0.74).
        assert!((log_se(0.35, 0.16, 0.74) - (0.74f64 / 0.16).ln() / (2.0 * Z975)).abs() < 1e-12);
    }

    #[test]
    fn a_split_over_two_cells_is_the_convolution_of_their_binomials() {
        let text = r#"
name = "split"
[design]
n = 100
allocation = { e = 1 }
accrual = { duration = 1 }
[design.cut]
calendar = 5
[arms.e.causes]
a = { exponential = 0.1 }
b = { piecewise = { breaks = [1], rates = [0.3, 0.05] } }
[endpoints]
any = ["a", "b"]
[analysis]
endpoint = "any"
tests = []
[[targets]]
name = "year1"
kind = "count"
arm = "e"
endpoint = "any"
to = 1
value = 25
[[targets]]
name = "later"
kind = "count"
arm = "e"
endpoint = "any"
from = 1
value = 30
[[targets]]
name = "a_events"
kind = "count"
role = "split"
arm = "e"
endpoint = "any"
causes = ["a"]
value = 20
"#;
        let doc = crate::scenario::Document::parse(text, std::path::Path::new("split.toml")).expect("parses");
        let sc = doc.scenario().expect("valid");
        let targets = crate::calibrate::targets::study_tables(&doc, &sc).expect("valid").targets;
        let layout = TargetLayout::new(&sc, &targets);
        let Expected { values: expected, cells: p } = layout.expected(&sc, &targets, 5.0);
        let data: Vec<f64> = targets.iter().map(|t| t.value).collect();
        let got = layout.negative_log_likelihood(&targets, &data, &expected, &p);
        // By hand: the multinomial of the two cells and the rest, then the split given the cells.
        let cells = [(0.0, 1.0), (1.0, f64::INFINITY)];
        let whole = cell_probabilities(
            &sc,
            5.0,
            &cells.map(|(f, t)| Cell { arm: 0, endpoint: 0, causes: vec![0, 1], from: f, to: t }),
        );
        let of_a = cell_probabilities(
            &sc,
            5.0,
            &cells.map(|(f, t)| Cell { arm: 0, endpoint: 0, causes: vec![0], from: f, to: t }),
        );
        let multinomial =
            25.0 * whole[0].ln() + 30.0 * whole[1].ln() + 45.0 * (1.0 - whole[0] - whole[1]).ln();
        let split = sum_of_binomials(&[(25, of_a[0] / whole[0]), (30, of_a[1] / whole[1])], 20).ln();
        let want = -(multinomial + split);
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        // The expected counts are the arm's patients times the cell probabilities.
        assert!((expected[0] - 100.0 * whole[0]).abs() < 1e-12);
        assert!((expected[2] - 100.0 * (of_a[0] + of_a[1])).abs() < 1e-9);
    }
}
