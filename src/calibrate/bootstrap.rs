//! The parametric bootstrap: whole studies simulated from the fit, each refitted; the spread of
//! the refitted parameters is their uncertainty (and `draws.csv` feeds assurance).

use rayon::prelude::*;
use serde::Serialize;

use super::optimise;
use super::predictive::{self, quantile};
use super::problem::Problem;
use crate::scenario::Scenario;

/// Bootstrap copies use replicate numbers from here on, apart from the predictive check's.
const BOOTSTRAP_OFFSET: u64 = 1 << 40;

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapSummary {
    pub draws: usize,
    /// Draws whose refit stopped without meeting the tolerance.
    pub unconverged: usize,
    /// Per parameter, the spread of the refitted values.
    pub parameters: Vec<ParameterSpread>,
}

/// One parameter's refitted values: mean, SD, and the 2.5% and 97.5% quantiles.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterSpread {
    pub name: String,
    pub mean: f64,
    pub sd: f64,
    pub lower: f64,
    pub upper: f64,
}

/// `draws` bootstrap refits from the fit `theta` (each copy of every study from its own streams,
/// apart from the predictive check's), and their summary per parameter.
pub fn bootstrap(
    problem: &Problem,
    fitted: &[Scenario],
    seeds: &[u64],
    theta: &[f64],
    draws: usize,
) -> (Vec<Vec<f64>>, BootstrapSummary) {
    let bounds = problem.bounds();
    let start = theta.to_vec();
    let refits: Vec<(Vec<f64>, bool)> = (0..draws as u64)
        .into_par_iter()
        .map_init(predictive::Workspace::default, |ws, b| {
            let data: Vec<Vec<f64>> = fitted
                .iter()
                .zip(seeds)
                .zip(&problem.studies)
                .map(|((sc, &seed), st)| {
                    predictive::simulate_figures(sc, &st.targets, seed, BOOTSTRAP_OFFSET + b, ws)
                })
                .collect();
            let f = |x: &[f64]| problem.negative_log_likelihood(x, &data);
            let o = optimise::minimise(&f, &bounds, std::slice::from_ref(&start));
            (o.estimate, o.starts.iter().all(|s| s.converged))
        })
        .collect();
    let draws: Vec<Vec<f64>> = refits.iter().map(|r| r.0.clone()).collect();
    let summary = BootstrapSummary {
        draws: draws.len(),
        unconverged: refits.iter().filter(|r| !r.1).count(),
        parameters: problem
            .params
            .iter()
            .enumerate()
            .map(|(j, p)| {
                let mut v: Vec<f64> = draws.iter().map(|d| d[j]).collect();
                let n = v.len() as f64;
                let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / n };
                let sd = if v.len() < 2 {
                    f64::NAN
                } else {
                    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
                };
                v.sort_by(|a, b| a.total_cmp(b));
                ParameterSpread {
                    name: p.name.clone(),
                    mean,
                    sd,
                    lower: quantile(&v, 0.025),
                    upper: quantile(&v, 0.975),
                }
            })
            .collect(),
    };
    (draws, summary)
}
