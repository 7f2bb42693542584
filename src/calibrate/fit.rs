//! Maximum likelihood: the fit from several starts with observed-information SEs, and the
//! likelihood-ratio test of a joint fit against separate fits of each study.

use serde::Serialize;

use super::optimise::{self, Optimum};
use super::problem::Problem;

/// A maximum-likelihood fit.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub estimate: Vec<f64>,
    /// From the observed information; NaN for a parameter the data do not identify.
    pub se: Vec<f64>,
    /// Numerical rank of the observed information: the identified dimensions.
    pub rank: usize,
    pub optimum: Optimum,
}

/// Fits `data` from the given starts (the first is usually the file's values).
pub fn fit(problem: &Problem, data: &[Vec<f64>], starts: &[Vec<f64>]) -> Fit {
    let bounds = problem.bounds();
    let f = |theta: &[f64]| problem.negative_log_likelihood(theta, data);
    let optimum = optimise::minimise(&f, &bounds, starts);
    let h = optimise::hessian_z(&f, &bounds, &optimum.estimate);
    // The data cannot identify more dimensions than they hold independent figures.
    let max_rank = problem.studies.iter().map(|s| s.layout.dimensions()).sum();
    let (se_z, rank) = optimise::standard_errors(&h, bounds.len(), max_rank);
    let se = se_z.iter().zip(optimise::jacobian(&bounds, &optimum.estimate)).map(|(s, j)| s * j).collect();
    Fit { estimate: optimum.estimate.clone(), se, rank, optimum }
}

/// The likelihood-ratio test of one joint model against separate fits of each study: LR =
/// 2(−ℓ_joint + Σ ℓ_s) on df = Σ rank_s − rank_joint (identified dimensions, so that a parameter
/// a single study cannot identify on its own adds no degree of freedom).
#[derive(Debug, Clone, Serialize)]
pub struct LikelihoodRatio {
    pub statistic: f64,
    /// 2(−ℓ_joint − Σ −ℓ_s) before clamping at 0.
    pub raw_statistic: f64,
    pub separate_fits_converged: bool,
    pub df: usize,
    pub p_value: f64,
    pub separate: Vec<SeparateFit>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeparateFit {
    pub study: String,
    pub negative_log_likelihood: f64,
    pub rank: usize,
    pub parameters: Vec<(String, f64, f64)>,
}

/// Each study fitted on its own (from the joint estimate and its own starts), and the
/// likelihood-ratio test of the joint fit against them.
pub fn likelihood_ratio(problem: &Problem, fit: &Fit) -> LikelihoodRatio {
    let mut separate = Vec::new();
    for s in 0..problem.studies.len() {
        let sub = problem.only(s);
        let b = sub.bounds();
        let from_joint: Vec<f64> = problem
            .params
            .iter()
            .zip(&fit.estimate)
            .filter(|(p, _)| !p.keys[s].is_empty())
            .map(|(_, &v)| v)
            .collect();
        let mut st = vec![from_joint];
        st.extend(optimise::starts(&sub.initial(), &b, sub.starts));
        let f = self::fit(&sub, &sub.published(), &st);
        separate.push(SeparateFit {
            study: problem.studies[s].name().to_string(),
            negative_log_likelihood: f.optimum.negative_log_likelihood,
            rank: f.rank,
            parameters: sub
                .params
                .iter()
                .zip(&f.estimate)
                .zip(&f.se)
                .map(|((p, &v), &se)| (p.name.clone(), v, se))
                .collect(),
        });
    }
    let sum: f64 = separate.iter().map(|s| s.negative_log_likelihood).sum();
    let raw = 2.0 * (fit.optimum.negative_log_likelihood - sum);
    // The joint model is nested in the separate ones: a negative difference beyond rounding
    // means a separate fit missed its optimum.
    let separate_fits_converged = raw > -1e-3;
    let statistic = raw.max(0.0);
    let df = separate.iter().map(|s| s.rank).sum::<usize>().saturating_sub(fit.rank);
    let p_value =
        if df == 0 { f64::NAN } else { statrs::function::gamma::gamma_ur(df as f64 / 2.0, statistic / 2.0) };
    LikelihoodRatio { statistic, raw_statistic: raw, separate_fits_converged, df, p_value, separate }
}
