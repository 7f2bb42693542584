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

/// One parameter's refitted values: mean, SD, and the 2.5% and 97.5% quantiles; their spread on
/// the parameter's natural scale (log or logit) and the share of draws at a bound.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterSpread {
    pub name: String,
    pub mean: f64,
    pub sd: f64,
    pub lower: f64,
    pub upper: f64,
    pub scale: Scale,
    /// SD of the refitted values on `scale`, over the draws inside the bounds: a refit that
    /// stopped at a bound is censored there, and its log or logit is the bound's, not the data's
    /// (a few such draws of a rare count once doubled the SD).
    pub sd_on_scale: f64,
    /// SD on `scale` of every draw, those at a bound included.
    pub sd_on_scale_all: f64,
    /// Share of draws within 10⁻⁴ of the bound range from a bound.
    pub at_bound: f64,
}

/// The scale on which an estimate is close to normal, and on which its observed-information SE
/// and its bootstrap SD are compared: log for hazard ratios, rates and factors, logit for risks,
/// the value itself for a continuous outcome's mean or SD (any sign).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Log,
    Logit,
    Identity,
}

impl Scale {
    /// Logit for a parameter every key of which is a risk (`….risk`, a probability), log otherwise.
    pub fn of(keys: &[Vec<String>]) -> Scale {
        let all: Vec<&String> = keys.iter().flatten().collect();
        if !all.is_empty() && all.iter().all(|k| k.contains(".outcomes.")) {
            Scale::Identity
        } else if !all.is_empty() && all.iter().all(|k| k.ends_with(".risk")) {
            Scale::Logit
        } else {
            Scale::Log
        }
    }

    pub fn apply(self, x: f64) -> f64 {
        match self {
            Scale::Log => x.ln(),
            Scale::Logit => (x / (1.0 - x)).ln(),
            Scale::Identity => x,
        }
    }

    /// An SE of x carried to the scale by the delta method: SE/x for log, SE/(x(1 − x)) for logit.
    pub(crate) fn delta_se(self, x: f64, se: f64) -> f64 {
        match self {
            Scale::Log => se / x,
            Scale::Logit => se / (x * (1.0 - x)),
            Scale::Identity => se,
        }
    }
}

/// Whether `x` lies within 10⁻⁴ of the range from a bound (the rule the fit's report uses).
pub fn near_bound(x: f64, lo: f64, hi: f64) -> bool {
    let tol = 1e-4 * (hi - lo);
    x - lo < tol || hi - x < tol
}

/// Sample SD (n − 1); NaN for fewer than two values.
fn sample_sd(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return f64::NAN;
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
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
                let mean = if v.is_empty() { f64::NAN } else { v.iter().sum::<f64>() / v.len() as f64 };
                let scale = Scale::of(&p.keys);
                let on_scale = |inside_only: bool| -> Vec<f64> {
                    v.iter()
                        .filter(|&&x| !inside_only || !near_bound(x, p.lower, p.upper))
                        .map(|&x| scale.apply(x))
                        .filter(|z| z.is_finite())
                        .collect()
                };
                let at_bound = if v.is_empty() {
                    f64::NAN
                } else {
                    v.iter().filter(|&&x| near_bound(x, p.lower, p.upper)).count() as f64 / v.len() as f64
                };
                let sd = sample_sd(&v);
                let (sd_on_scale, sd_on_scale_all) =
                    (sample_sd(&on_scale(true)), sample_sd(&on_scale(false)));
                v.sort_by(|a, b| a.total_cmp(b));
                ParameterSpread {
                    name: p.name.clone(),
                    mean,
                    sd,
                    lower: quantile(&v, 0.025),
                    upper: quantile(&v, 0.975),
                    scale,
                    sd_on_scale,
                    sd_on_scale_all,
                    at_bound,
                }
            })
            .collect(),
    };
    (draws, summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn risks_are_compared_on_logit_and_everything_else_on_log() {
        let risk = vec![vec!["arms.hsct.causes.treatment_death.early_risk.risk".to_string()], vec![]];
        let hr = vec![vec!["arms.hsct.causes.disease_death.relative.hr[1]".to_string()]];
        assert_eq!(Scale::of(&risk), Scale::Logit);
        assert_eq!(Scale::of(&hr), Scale::Log);
        // SE 0.061 of a risk of 7/41 is 0.061 / (0.171 × 0.829) = 0.43 on the logit scale.
        let p = 7.0 / 41.0;
        assert!((Scale::Logit.delta_se(p, 0.061) - 0.061 / (p * (1.0 - p))).abs() < 1e-15);
        assert!((Scale::Log.delta_se(0.5, 0.1) - 0.2).abs() < 1e-15);
        assert!((Scale::Logit.apply(0.5)).abs() < 1e-15);
        assert!((Scale::Log.apply(std::f64::consts::E) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn sample_sd_uses_n_minus_one() {
        assert!((sample_sd(&[1.0, 2.0, 3.0, 4.0]) - (5.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!(sample_sd(&[1.0]).is_nan());
    }
}
