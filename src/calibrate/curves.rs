//! The fitted model's curves beside the published figures and the simulated copies' bands: what
//! calibration.svg draws.

use super::Calibration;
use super::model::{Cell, cell_probabilities};
use super::predictive::quantile;
use super::targets::{Role, Target, TargetKind, group};
use crate::scenario::Scenario;
use crate::time::Time;

/// A curve of one panel: model values on a time grid, and published points with their CI and
/// predictive interval.
pub struct Curve {
    /// What is plotted, e.g. `S(t), os in Autologous HSCT`.
    pub label: String,
    /// The fitted model's curve on a time grid: (t, value).
    pub model: Vec<(f64, f64)>,
    /// The published figures on this curve.
    pub points: Vec<Point>,
}

/// A published figure with its CI and the 95% band of the simulated copies.
pub struct Point {
    pub time: f64,
    pub published: f64,
    pub ci: Option<(f64, f64)>,
    pub band: (f64, f64),
}

/// Times T at which the fit cells of a count group give a cumulative figure: for every cause of
/// the endpoint, the cells holding it tile (0, T].
fn cumulative_times(sc: &Scenario, targets: &[Target], members: &[usize]) -> Vec<f64> {
    let mut out = Vec::new();
    for &i in members {
        let TargetKind::Count { endpoint, to, .. } = &targets[i].kind else { continue };
        if !to.is_finite() {
            continue;
        }
        let tiles = sc.endpoints[*endpoint].causes.iter().all(|k| {
            let mut pieces: Vec<(f64, f64)> = members
                .iter()
                .filter_map(|&j| match &targets[j].kind {
                    TargetKind::Count { causes, from, to: t2, .. } if causes.contains(k) && *t2 <= *to => {
                        Some((*from, *t2))
                    }
                    _ => None,
                })
                .collect();
            pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut at = 0.0;
            for (a, b) in pieces {
                if a != at {
                    return false;
                }
                at = b;
            }
            at == *to
        });
        if tiles && !out.contains(to) {
            out.push(*to);
        }
    }
    out.sort_by(|a, b| a.total_cmp(b));
    out
}

/// Study `s`'s curves: each Kaplan–Meier figure's S(t) (or 1 − S(t)), and each group of count
/// cells that adds up to cumulative figures as the expected proportion observed by t.
pub fn curves(c: &Calibration, s: usize) -> Vec<Curve> {
    let sc = &c.fitted[s];
    let targets = &c.problem.studies[s].targets;
    let sims = &c.simulated[s];
    let cut = crate::truth::expected_cut(sc).unwrap_or(1.0);
    let mut horizon: f64 = 0.0;
    for t in targets {
        match &t.kind {
            TargetKind::Survival { time, .. } => horizon = horizon.max(*time),
            TargetKind::Count { to, .. } if to.is_finite() => horizon = horizon.max(*to),
            _ => {}
        }
    }
    let horizon = (horizon * 1.25).max(1.0);
    let grid: Vec<f64> = (0..=60).map(|i| horizon * i as f64 / 60.0).collect();
    let mut out = km_curves(sc, targets, sims, &grid);
    out.extend(count_curves(c, s, &grid, cut));
    out
}

/// Each Kaplan–Meier figure's model curve, the true S(t) or 1 − S(t), with its published points.
fn km_curves(sc: &Scenario, targets: &[Target], sims: &[Vec<f64>], grid: &[f64]) -> Vec<Curve> {
    let mut out = Vec::new();
    let mut km: Vec<(usize, usize, bool)> = Vec::new();
    for t in targets {
        if let TargetKind::Survival { arm, endpoint, failure, .. } = &t.kind
            && !km.contains(&(*arm, *endpoint, *failure))
        {
            km.push((*arm, *endpoint, *failure));
        }
    }
    for (arm, endpoint, failure) in km {
        let a = &sc.arms[arm];
        let e = &sc.endpoints[endpoint];
        let f = |t: f64| {
            let v = crate::truth::survival(a, e, t);
            if failure { 1.0 - v } else { v }
        };
        let points = targets
            .iter()
            .enumerate()
            .filter_map(|(i, t)| match &t.kind {
                TargetKind::Survival { arm: a2, endpoint: e2, failure: f2, time, ci }
                    if (*a2, *e2, *f2) == (arm, endpoint, failure) =>
                {
                    Some(Point { time: *time, published: t.value, ci: *ci, band: band(&sims[i]) })
                }
                _ => None,
            })
            .collect();
        let what = if failure { "1 − S" } else { "S" };
        out.push(Curve {
            label: format!("{what}(t), {} in {}", e.name, a.label),
            model: grid.iter().map(|&t| (t, f(t))).collect(),
            points,
        });
    }
    out
}

/// Each group of count cells that adds up to cumulative figures: the expected proportion
/// observed by t, with the published cumulative points.
fn count_curves(c: &Calibration, s: usize, grid: &[f64], cut: Time) -> Vec<Curve> {
    let sc = &c.fitted[s];
    let targets = &c.problem.studies[s].targets;
    let sims = &c.simulated[s];
    let mut out = Vec::new();
    // Count groups that add up to cumulative figures: the expected observed proportion.
    let mut groups: Vec<(usize, usize, usize)> = Vec::new();
    for t in targets.iter().filter(|t| t.role == Role::Fit) {
        if let Some(g) = group(&t.kind)
            && !groups.contains(&g)
        {
            groups.push(g);
        }
    }
    for (arm, endpoint, patients) in groups {
        let members: Vec<usize> = (0..targets.len())
            .filter(|&i| {
                targets[i].role == Role::Fit && group(&targets[i].kind) == Some((arm, endpoint, patients))
            })
            .collect();
        let times = cumulative_times(&c.problem.studies[s].scenario, targets, &members);
        if times.is_empty() {
            continue;
        }
        let causes = sc.endpoints[endpoint].causes.clone();
        let cells: Vec<Cell> = grid
            .iter()
            .map(|&t| Cell { arm, endpoint, causes: causes.clone(), from: 0.0, to: t.max(1e-9) })
            .collect();
        let p = cell_probabilities(sc, cut, &cells);
        let points = times
            .iter()
            .map(|&time| {
                let inside: Vec<usize> = members
                    .iter()
                    .copied()
                    .filter(|&i| matches!(&targets[i].kind, TargetKind::Count { to, .. } if *to <= time))
                    .collect();
                let published = inside.iter().map(|&i| targets[i].value).sum::<f64>() / patients as f64;
                let reps = sims.first().map_or(0, |v| v.len());
                let sim: Vec<f64> = (0..reps)
                    .map(|r| inside.iter().map(|&i| sims[i][r]).sum::<f64>() / patients as f64)
                    .collect();
                Point { time, published, ci: None, band: band(&sim) }
            })
            .collect();
        out.push(Curve {
            label: format!(
                "events observed by t / patients: {} in {}",
                sc.endpoints[endpoint].name, sc.arms[arm].label
            ),
            model: grid.iter().zip(&p).map(|(&t, &p)| (t, p)).collect(),
            points,
        });
    }
    out
}

fn band(sims: &[f64]) -> (f64, f64) {
    let mut v: Vec<f64> = sims.iter().copied().filter(|x| !x.is_nan()).collect();
    v.sort_by(|a, b| a.total_cmp(b));
    (quantile(&v, 0.025), quantile(&v, 0.975))
}
