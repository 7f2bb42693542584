//! What the model expects a study to publish, computed without simulation (docs/design.md §
//! Calibrating): the expected count of each cell, the true survival behind a Kaplan–Meier figure,
//! and the average hazard ratio behind a period Cox estimate.
//!
//! A patient of arm a contributes to the cell (causes C, interval (from, to]) of endpoint E when
//! the first E event is a cause in C at a time t in the interval and the patient is still
//! followed at t. With follow-up F = min(dropout, cut − entry) independent of the event times,
//!
//!   p_cell = ∫_from^to Σ_{k∈C} g_k(t) · P(F ≥ t) dt,   P(F ≥ t) = e^{−δ_a t} · P(entry ≤ cut − t),
//!
//! where g_k is the sub-density of cause k as the first E event: h_k(t)·S_E(t), or under
//! illness–death h_k(t)·(P₀(t) + f_k P₁(t)) (see `truth::states`). This is the cumulative
//! incidence averaged over the study's follow-up distribution: deterministic and smooth in the
//! parameters, as Nelder–Mead needs.
//!
//! All cells of one (arm, endpoint) come from one classical fourth-order Runge–Kutta sweep of
//! P₁′ = h_p P₀ − (Σ_k f_k h_k) P₁ together with the cells' integrands, on a grid that has a node
//! at every hazard break, interval end and follow-up kink (the integrands are smooth between
//! nodes, so the error is O(h⁴); `tests::cells_agree_with_quadrature` checks 1e-8, far below
//! a thousandth of a patient).

use crate::accrual::{accrual_end, entry_cdf};
use crate::scenario::{Accrual, Arm, Endpoint, Scenario};
use crate::time::Time;

/// One cell: the first `endpoint` event of a patient of `arm` is one of `causes` in (from, to].
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub arm: usize,
    pub endpoint: usize,
    pub causes: Vec<usize>,
    pub from: Time,
    pub to: Time,
}

/// Steps per unit of the longest follow-up, at least (and one more per grid piece).
const STEPS: f64 = 1500.0;

/// P(F ≥ t) for a patient of `arm`: still followed at time t since randomisation.
pub(crate) fn followed(sc: &Scenario, arm: &Arm, cut: Time, t: Time) -> f64 {
    (-arm.dropout * t).exp() * entry_cdf(&sc.design.accrual, sc.design.n, cut - t)
}

/// The probability of each cell per patient, at calendar cut `cut`.
pub(crate) fn cell_probabilities(sc: &Scenario, cut: Time, cells: &[Cell]) -> Vec<f64> {
    let mut out = vec![0.0; cells.len()];
    let mut groups: Vec<(usize, usize)> = cells.iter().map(|c| (c.arm, c.endpoint)).collect();
    groups.sort_unstable();
    groups.dedup();
    for (arm, endpoint) in groups {
        let idx: Vec<usize> =
            (0..cells.len()).filter(|&i| cells[i].arm == arm && cells[i].endpoint == endpoint).collect();
        let mine: Vec<&Cell> = idx.iter().map(|&i| &cells[i]).collect();
        let p = sweep(sc, &sc.arms[arm], &sc.endpoints[endpoint], cut, &mine);
        for (k, &i) in idx.iter().enumerate() {
            out[i] = p[k];
        }
    }
    out
}

/// Where P(F ≥ t) has kinks: t = cut − (end of accrual, accrual breaks).
fn follow_up_kinks(sc: &Scenario, cut: Time, out: &mut Vec<Time>) {
    match &sc.design.accrual {
        Accrual::Uniform { duration } => out.push(cut - duration),
        Accrual::Piecewise { breaks, .. } => {
            out.push(cut - accrual_end(&sc.design.accrual, sc.design.n));
            out.extend(breaks.iter().map(|b| cut - b));
        }
    }
}

/// The integration nodes on [0, `upper`]: 0 and `upper`, the hazards' breakpoints, the cells'
/// ends, the follow-up's kinks, and a geometric mesh towards 0, where a Weibull hazard with
/// shape < 1.5 is not smooth (h ∝ t^(shape−1)); RK4 then keeps its accuracy at little cost.
fn mesh<'a>(
    sc: &Scenario,
    cut: Time,
    upper: Time,
    hazards: impl Iterator<Item = &'a crate::hazard::Hazard>,
    cells: &[&Cell],
) -> Vec<f64> {
    let mut nodes = vec![0.0, upper];
    for h in hazards {
        h.breakpoints(&mut nodes);
    }
    for c in cells {
        nodes.push(c.from);
        nodes.push(c.to);
    }
    follow_up_kinks(sc, cut, &mut nodes);
    nodes.retain(|&t| (0.0..=upper).contains(&t));
    nodes.sort_by(|a, b| a.total_cmp(b));
    nodes.dedup();
    let first = nodes[1].min(32.0 * upper / STEPS);
    nodes.extend((1..40).map(|j| first * 0.5f64.powi(j)));
    nodes.sort_by(|a, b| a.total_cmp(b));
    nodes
}

/// Which of the endpoint's causes each cell counts, as a bit mask over `causes`.
fn cause_masks(cells: &[&Cell], causes: &[(usize, &crate::hazard::Hazard)]) -> Vec<u64> {
    cells
        .iter()
        .map(|c| {
            causes
                .iter()
                .enumerate()
                .filter(|(_, (k, _))| c.causes.contains(k))
                .fold(0u64, |m, (j, _)| m | (1 << j))
        })
        .collect()
}

fn sweep(sc: &Scenario, arm: &Arm, ep: &Endpoint, cut: Time, cells: &[&Cell]) -> Vec<f64> {
    let upper = cells.iter().map(|c| c.to).fold(0.0, f64::max).min(cut);
    let mut out = vec![0.0; cells.len()];
    if upper <= 0.0 {
        return out;
    }
    let after = arm.after_for(ep);
    let trigger = after.and_then(|a| arm.causes[a.trigger].as_ref());
    let causes: Vec<(usize, &crate::hazard::Hazard)> =
        ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref().map(|h| (k, h))).collect();
    let factor = |k: usize| after.map_or(1.0, |a| a.factor[k]);

    let nodes = mesh(sc, cut, upper, causes.iter().map(|(_, h)| *h).chain(trigger), cells);

    // Rates of the endpoint's causes at t and P₀(t); returns (dP₁/dt, integrand per cell).
    let mut g = vec![0.0; causes.len()];
    let masks = cause_masks(cells, &causes);
    // Rates are read at `t` moved just inside the current piece (a, b): at a node a hazard
    // jumps, and the piece's own one-sided limit is what the integral needs.
    let mut slope = |t: f64, p1: f64, active: &[bool], piece: (f64, f64), d: &mut [f64]| -> f64 {
        let inside = t.clamp(piece.0 + 1e-9 * (piece.1 - piece.0), piece.1 - 1e-9 * (piece.1 - piece.0));
        let mut big_h = trigger.map_or(0.0, |h| h.cumulative(t));
        for (j, (_, h)) in causes.iter().enumerate() {
            big_h += h.cumulative(t);
            g[j] = h.rate(inside);
        }
        let p0 = (-big_h).exp();
        let mut out_rate = 0.0;
        for (j, &(k, _)) in causes.iter().enumerate() {
            out_rate += factor(k) * g[j];
            g[j] *= p0 + factor(k) * p1;
        }
        let w = if active.iter().any(|&a| a) { followed(sc, arm, cut, t) } else { 0.0 };
        for (c, &mask) in masks.iter().enumerate() {
            d[c] = if active[c] {
                let mut sum = 0.0;
                for (j, gj) in g.iter().enumerate() {
                    if mask & (1 << j) != 0 {
                        sum += gj;
                    }
                }
                w * sum
            } else {
                0.0
            };
        }
        match trigger {
            Some(h) => h.rate(inside) * p0 - out_rate * p1,
            None => 0.0,
        }
    };

    let m = cells.len();
    let (mut k1, mut k2, mut k3, mut k4) = (vec![0.0; m], vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    let mut active = vec![false; m];
    let mut p1 = 0.0;
    let hmax = upper / STEPS;
    for w in nodes.windows(2) {
        let (a, b) = (w[0], w[1]);
        let piece = (a, b);
        let mid = 0.5 * (a + b);
        for (c, cell) in cells.iter().enumerate() {
            active[c] = cell.from < mid && mid <= cell.to;
        }
        let steps = ((b - a) / hmax).ceil().max(1.0) as usize;
        let h = (b - a) / steps as f64;
        for s in 0..steps {
            let t = a + s as f64 * h;
            let q1 = slope(t, p1, &active, piece, &mut k1);
            let q2 = slope(t + 0.5 * h, p1 + 0.5 * h * q1, &active, piece, &mut k2);
            let q3 = slope(t + 0.5 * h, p1 + 0.5 * h * q2, &active, piece, &mut k3);
            let q4 = slope(t + h, p1 + h * q3, &active, piece, &mut k4);
            p1 += h / 6.0 * (q1 + 2.0 * q2 + 2.0 * q3 + q4);
            for c in 0..m {
                out[c] += h / 6.0 * (k1[c] + 2.0 * k2[c] + 2.0 * k3[c] + k4[c]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::integrate;
    use crate::truth::sub_density;
    use std::path::Path;

    fn scenario(after: &str) -> Scenario {
        let text = format!(
            r#"
name = "m"
[design]
n = 100
allocation = {{ e = 1 }}
accrual = {{ duration = 3 }}
[design.cut]
calendar = 6
[arms.e]
dropout = 0.05
[arms.e.causes]
treatment_death = {{ early_risk = {{ risk = 0.1, within = 0.25 }} }}
disease_death = {{ piecewise = {{ breaks = [1, 2], rates = [0.08, 0.05, 0.03] }} }}
progression = {{ weibull = {{ shape = 1.3, scale = 4 }} }}
{after}
[endpoints]
os = ["treatment_death", "disease_death"]
[analysis]
endpoint = "os"
tests = []
"#
        );
        Scenario::from_toml(&text, Path::new("m.toml")).expect("valid")
    }

    /// The same cells by adaptive Gauss–Kronrod on the pointwise sub-densities of `truth`.
    fn by_quadrature(sc: &Scenario, cut: f64, c: &Cell) -> f64 {
        let arm = &sc.arms[c.arm];
        let ep = &sc.endpoints[c.endpoint];
        let to = c.to.min(cut);
        let mut knots = vec![0.25, 1.0, 2.0, cut - 3.0, to];
        knots.retain(|&k| k > c.from && k <= to);
        knots.sort_by(|a, b| a.total_cmp(b));
        knots.dedup();
        integrate(
            |t| followed(sc, arm, cut, t) * c.causes.iter().map(|&k| sub_density(arm, ep, k, t)).sum::<f64>(),
            c.from,
            &knots,
            1e-12,
        )
    }

    #[test]
    fn cells_agree_with_quadrature() {
        for after in ["", "[arms.e.after.progression]\ndisease_death = 4"] {
            let sc = scenario(after);
            let cells = [
                Cell { arm: 0, endpoint: 0, causes: vec![2], from: 0.0, to: 1.0 },
                Cell { arm: 0, endpoint: 0, causes: vec![0, 2], from: 1.0, to: f64::INFINITY },
                Cell { arm: 0, endpoint: 0, causes: vec![0], from: 0.5, to: f64::INFINITY },
            ];
            let p = cell_probabilities(&sc, 6.0, &cells);
            for (c, &got) in cells.iter().zip(&p) {
                let want = by_quadrature(&sc, 6.0, c);
                assert!((got - want).abs() < 1e-8, "{after:?} {c:?}: {got} vs {want}");
            }
        }
    }
}
