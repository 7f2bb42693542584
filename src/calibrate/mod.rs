//! Calibration to published studies (DESIGN.md § Calibrating): maximum likelihood of each study
//! file's `[[targets]]` over its `[calibrate]` parameters, jointly over several files (a parameter
//! named in several files is shared), with a likelihood-ratio test of the joint model against
//! separate fits, a parametric bootstrap (simulate whole studies, refit) for the parameters'
//! uncertainty, and a predictive check that ranks every published figure among simulated copies
//! of its study.

pub mod likelihood;
pub mod model;
pub mod optimise;
pub mod predictive;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::scenario::overrides::{Override, Template};
use crate::scenario::study::{Role, TargetKind};
use crate::scenario::{Scenario, ScenarioError};
use likelihood::Layout;
use optimise::{Bounds, Optimum};

/// Bootstrap copies use replicate numbers from here on, apart from the predictive check's.
const BOOTSTRAP_OFFSET: u64 = 1 << 40;

#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{path}: {message}")]
    Study { path: PathBuf, message: String },
    #[error("calibrate: {0}")]
    Fit(String),
    /// A bad command-line value.
    #[error("{0}")]
    Argument(String),
}

/// One study file: its scenario (with targets), the template the fit edits, and the layout of
/// its likelihood.
#[derive(Debug, Clone)]
pub struct Study {
    pub path: PathBuf,
    pub scenario: Scenario,
    /// The file as written (for `fitted.toml`).
    pub template: Template,
    /// Without `[calibrate]`: what every point of the fit re-validates.
    model: Template,
    pub layout: Layout,
    pub published: Vec<f64>,
}

impl Study {
    pub fn load(path: &Path) -> Result<Study, CalibrateError> {
        let scenario = Scenario::from_path(path)?;
        let bad = |m: &str| CalibrateError::Study { path: path.to_path_buf(), message: m.to_string() };
        if scenario.calibrate.is_none() {
            return Err(bad("no [calibrate] table: name the free parameters and their bounds"));
        }
        if !scenario.targets.iter().any(|t| t.role != Role::Check) {
            return Err(bad("no [[targets]] in the likelihood: a study file needs published figures to fit"));
        }
        let template = Template::from_path(path)?;
        let model = template.model_only();
        let layout = Layout::new(&scenario);
        let published = scenario.targets.iter().map(|t| t.value).collect();
        Ok(Study { path: path.to_path_buf(), scenario, template, model, layout, published })
    }

    pub fn name(&self) -> &str {
        &self.scenario.name
    }
}

/// A study's expected figures (indexed like its targets) and cell probabilities.
pub type Expected = (Vec<f64>, Vec<f64>);

/// A free parameter of the (joint) problem.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    pub lower: f64,
    pub upper: f64,
    pub initial: f64,
    /// The keys it sets in each study (empty when the study does not name it).
    pub keys: Vec<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub studies: Vec<Study>,
    pub params: Vec<Parameter>,
    pub starts: usize,
}

impl Problem {
    /// Joins the studies' free parameters by name; shared ones must have the same bounds.
    pub fn new(studies: Vec<Study>) -> Result<Problem, CalibrateError> {
        let mut params: Vec<Parameter> = Vec::new();
        let mut starts = 1;
        for (s, st) in studies.iter().enumerate() {
            let cal = st.scenario.calibrate.as_ref().expect("checked on load");
            starts = starts.max(cal.starts);
            for f in &cal.free {
                match params.iter_mut().find(|p| p.name == f.name) {
                    Some(p) => {
                        if p.lower != f.lower || p.upper != f.upper {
                            return Err(CalibrateError::Study {
                                path: st.path.clone(),
                                message: format!(
                                    "`calibrate.free.{}` is shared with another study file, whose bounds are [{}, {}]; here they are [{}, {}]: give a shared parameter the same bounds everywhere",
                                    f.name, p.lower, p.upper, f.lower, f.upper
                                ),
                            });
                        }
                        p.keys[s] = f.keys.clone();
                    }
                    None => {
                        let mut keys = vec![Vec::new(); studies.len()];
                        keys[s] = f.keys.clone();
                        params.push(Parameter {
                            name: f.name.clone(),
                            lower: f.lower,
                            upper: f.upper,
                            initial: f.initial,
                            keys,
                        });
                    }
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for st in &studies {
            if !seen.insert(st.name().to_string()) {
                return Err(CalibrateError::Fit(format!(
                    "two study files are both named `{}`: each study needs its own name",
                    st.name()
                )));
            }
        }
        Ok(Problem { studies, params, starts })
    }

    /// Study `s` alone, with only the parameters it names.
    pub fn only(&self, s: usize) -> Problem {
        let params = self
            .params
            .iter()
            .filter(|p| !p.keys[s].is_empty())
            .map(|p| Parameter { keys: vec![p.keys[s].clone()], ..p.clone() })
            .collect();
        Problem { studies: vec![self.studies[s].clone()], params, starts: self.starts }
    }

    pub fn bounds(&self) -> Vec<Bounds> {
        self.params.iter().map(|p| Bounds { lower: p.lower, upper: p.upper }).collect()
    }

    /// The overrides of study `s` at parameters θ.
    pub fn overrides(&self, s: usize, theta: &[f64]) -> Vec<Override> {
        self.params
            .iter()
            .zip(theta)
            .flat_map(|(p, &v)| p.keys[s].iter().map(move |k| Override { key: k.clone(), value: v }))
            .collect()
    }

    /// Study `s`'s scenario at θ (validated like a file).
    pub fn scenario(&self, s: usize, theta: &[f64]) -> Result<Scenario, ScenarioError> {
        Ok(self.studies[s].model.apply(&self.overrides(s, theta))?.0)
    }

    /// The model's expected figures and cell probabilities of every study at θ.
    pub fn expected(&self, theta: &[f64]) -> Result<Vec<Expected>, ScenarioError> {
        (0..self.studies.len())
            .map(|s| {
                let sc = self.scenario(s, theta)?;
                let cut = crate::truth::expected_cut(&sc).unwrap_or(f64::INFINITY);
                Ok(self.studies[s].layout.expected(&sc, cut))
            })
            .collect()
    }

    /// −ℓ of `data` (one vector of figures per study) at θ; +∞ where the model cannot be built.
    pub fn negative_log_likelihood(&self, theta: &[f64], data: &[Vec<f64>]) -> f64 {
        match self.expected(theta) {
            Ok(e) => self
                .studies
                .iter()
                .zip(&e)
                .zip(data)
                .map(|((st, (values, p)), d)| {
                    st.layout.negative_log_likelihood(&st.scenario.targets, d, values, p)
                })
                .sum(),
            Err(_) => f64::INFINITY,
        }
    }

    pub fn published(&self) -> Vec<Vec<f64>> {
        self.studies.iter().map(|s| s.published.clone()).collect()
    }

    pub fn initial(&self) -> Vec<f64> {
        self.params.iter().map(|p| p.initial).collect()
    }
}

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

/// Where each published figure falls among simulated copies of its study.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub study: String,
    pub name: String,
    pub kind: String,
    pub role: String,
    pub published: f64,
    pub published_ci: Option<(f64, f64)>,
    /// Expected value under the fit.
    pub model: f64,
    /// Fraction of simulated copies below the published figure (mid-p: half the ties count).
    pub percentile: f64,
    /// 95% predictive interval (2.5% and 97.5% quantiles of the simulated figure).
    pub interval: (f64, f64),
    pub outside: bool,
    /// Simulated copies where the figure could not be computed (e.g. no one followed that long).
    pub not_estimable: u64,
    pub source: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Predictive {
    pub replicates: u64,
    pub figures: usize,
    pub outside: usize,
    pub expected_outside: f64,
    /// P(at least this many figures outside) among the simulated copies themselves, so that the
    /// figures' correlation is accounted for.
    pub p_value_outside: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BootstrapSummary {
    pub draws: usize,
    /// Draws whose refit stopped without meeting the tolerance.
    pub unconverged: usize,
    /// Per parameter: mean, SD, 2.5% and 97.5% quantiles of the refitted values.
    pub parameters: Vec<(String, f64, f64, f64, f64)>,
}

/// The follow-up the study file's design produces, to compare with the published one.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    pub study: String,
    pub expected_cut: f64,
    /// Median observed time on study of the primary endpoint, all patients.
    pub median: f64,
    /// Shortest and longest potential follow-up (cut minus last and first entry).
    pub range: (f64, f64),
}

/// Everything `trialsim calibrate` computes.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub problem: Problem,
    pub fit: Fit,
    pub likelihood_ratio: Option<LikelihoodRatio>,
    pub targets: Vec<TargetCheck>,
    pub predictive: Predictive,
    pub bootstrap: BootstrapSummary,
    /// Bootstrap draws, one row per draw, one value per parameter.
    pub draws: Vec<Vec<f64>>,
    pub follow_up: Vec<FollowUp>,
    /// The fitted scenario of each study, and its predictive replicates (figure × copy).
    pub fitted: Vec<Scenario>,
    pub simulated: Vec<Vec<Vec<f64>>>,
    /// The seed of each study's simulated copies (see [`study_seed`]).
    pub seeds: Vec<u64>,
}

/// How to calibrate.
pub struct Options<'a> {
    /// Simulated copies of each study for the predictive check.
    pub replicates: u64,
    /// The seed of every study; `None`: each study file's own `simulation.seed`. (A study's
    /// streams also depend on its name, so studies never share them.)
    pub seed: Option<u64>,
    /// Simulated studies to refit (parametric bootstrap); 0 for none.
    pub bootstrap: usize,
    /// Told what the fit is doing, stage by stage (the caller decides whether to show it).
    pub progress: &'a (dyn Fn(&str) + Sync),
}

/// Fits, tests, checks and bootstraps the problem.
/// At most this many simulated copies per study (they are held in memory, figure × copy).
pub const MAX_REPLICATES: u64 = 1_000_000;

pub fn calibrate(problem: Problem, opts: &Options) -> Result<Calibration, CalibrateError> {
    let replicates = opts.replicates;
    if replicates > MAX_REPLICATES {
        return Err(CalibrateError::Argument(format!(
            "{replicates} simulated copies per study: at most {MAX_REPLICATES} (they are held in memory); give --reps"
        )));
    }
    let data = problem.published();
    let bounds = problem.bounds();
    let first_start = problem.initial();
    let starts = optimise::starts(&first_start, &bounds, problem.starts);
    for st_index in 0..problem.studies.len() {
        let sc = problem.scenario(st_index, &first_start)?;
        if crate::truth::expected_cut(&sc).is_none() {
            return Err(CalibrateError::Study {
                path: problem.studies[st_index].path.clone(),
                message: "the data cut is never reached in expectation (too few events for `design.cut.events`): give the study a calendar cut".into(),
            });
        }
    }
    let at_start = problem.negative_log_likelihood(&first_start, &data);
    if !at_start.is_finite() {
        return Err(CalibrateError::Fit(format!(
            "the likelihood of the published figures is not finite at the files' values (−ℓ = {at_start}): some figure is impossible under the model (e.g. events of a cause with zero hazard, or a hazard ratio after the cut)"
        )));
    }
    (opts.progress)(&format!("fitting {} parameters from {} starts", bounds.len(), starts.len()));
    let fit = self::fit(&problem, &data, &starts);
    if !fit.optimum.negative_log_likelihood.is_finite() {
        return Err(CalibrateError::Fit(
            "the likelihood is not finite anywhere the starts reached: check the targets against the model"
                .into(),
        ));
    }
    let theta = fit.estimate.clone();

    let likelihood_ratio = if problem.studies.len() > 1 {
        (opts.progress)("fitting each study on its own for the likelihood-ratio test");
        let mut separate = Vec::new();
        for s in 0..problem.studies.len() {
            let sub = problem.only(s);
            let b = sub.bounds();
            let from_joint: Vec<f64> = problem
                .params
                .iter()
                .zip(&theta)
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
        let p_value = if df == 0 {
            f64::NAN
        } else {
            statrs::function::gamma::gamma_ur(df as f64 / 2.0, statistic / 2.0)
        };
        Some(LikelihoodRatio {
            statistic,
            raw_statistic: raw,
            separate_fits_converged,
            df,
            p_value,
            separate,
        })
    } else {
        None
    };

    let fitted: Vec<Scenario> =
        (0..problem.studies.len()).map(|s| problem.scenario(s, &theta)).collect::<Result<_, _>>()?;
    // Each study gets its own streams (studies are independent, and share cause names).
    let seeds: Vec<u64> = problem
        .studies
        .iter()
        .map(|st| study_seed(opts.seed.unwrap_or(st.scenario.simulation.seed), st.name()))
        .collect();

    (opts.progress)(&format!("predictive check: {replicates} simulated copies of each study"));
    let simulated: Vec<Vec<Vec<f64>>> = fitted
        .iter()
        .zip(&seeds)
        .map(|(sc, &seed)| {
            let copies: Vec<Vec<f64>> = (0..replicates)
                .into_par_iter()
                .map_init(predictive::Workspace::default, |ws, r| {
                    predictive::simulate_figures(sc, seed, r, ws)
                })
                .collect();
            // figure-major
            (0..sc.targets.len()).map(|i| copies.iter().map(|c| c[i]).collect()).collect()
        })
        .collect();
    let expected = problem.expected(&theta)?;
    let mut targets = Vec::new();
    for (s, st) in problem.studies.iter().enumerate() {
        for (i, t) in st.scenario.targets.iter().enumerate() {
            let sims = &simulated[s][i];
            let is_count = matches!(t.kind, TargetKind::Count { .. });
            let (percentile, interval, not_estimable) = rank_among(t.value, sims, is_count);
            let published_ci = match &t.kind {
                TargetKind::Survival { ci, .. } | TargetKind::HazardRatio { ci, .. } => *ci,
                TargetKind::Count { .. } => None,
            };
            targets.push(TargetCheck {
                study: st.name().to_string(),
                name: t.name.clone(),
                kind: t.kind_name().to_string(),
                role: t.role.as_str().to_string(),
                published: t.value,
                published_ci,
                model: expected[s].0[i],
                percentile,
                interval,
                outside: t.value < interval.0 || t.value > interval.1,
                not_estimable,
                source: t.source.clone(),
                note: t.note.clone(),
            });
        }
    }
    let predictive = outside_test(&targets, &simulated, replicates);

    (opts.progress)(&format!("parametric bootstrap: {} simulated studies refitted", opts.bootstrap));
    let refits: Vec<(Vec<f64>, bool)> = (0..opts.bootstrap as u64)
        .into_par_iter()
        .map_init(predictive::Workspace::default, |ws, b| {
            let data: Vec<Vec<f64>> = fitted
                .iter()
                .zip(&seeds)
                .map(|(sc, &seed)| predictive::simulate_figures(sc, seed, BOOTSTRAP_OFFSET + b, ws))
                .collect();
            let f = |x: &[f64]| problem.negative_log_likelihood(x, &data);
            let o = optimise::minimise(&f, &bounds, std::slice::from_ref(&theta));
            (o.estimate, o.starts.iter().all(|s| s.converged))
        })
        .collect();
    let draws: Vec<Vec<f64>> = refits.iter().map(|r| r.0.clone()).collect();
    let bootstrap = BootstrapSummary {
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
                (p.name.clone(), mean, sd, quantile(&v, 0.025), quantile(&v, 0.975))
            })
            .collect(),
    };
    let follow_up = fitted.iter().map(follow_up).collect();
    Ok(Calibration {
        problem,
        fit,
        likelihood_ratio,
        targets,
        predictive,
        bootstrap,
        draws,
        follow_up,
        fitted,
        simulated,
        seeds,
    })
}

/// A study's seed: the given seed mixed with the study's name (FNV-1a), so that two studies
/// never share streams even when their files give the same seed.
pub fn study_seed(seed: u64, name: &str) -> u64 {
    seed ^ crate::rng::fnv1a(name.as_bytes())
}

/// Type-7 quantile of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The published value's mid-p percentile among the simulated values, the 95% predictive
/// interval, and how many simulated values were NaN. Counts take the interval from the discrete
/// distribution (the smallest values whose CDF reaches 2.5% and 97.5%), so it holds whole
/// numbers.
pub fn rank_among(value: f64, sims: &[f64], discrete: bool) -> (f64, (f64, f64), u64) {
    let mut v: Vec<f64> = sims.iter().copied().filter(|x| !x.is_nan()).collect();
    let nan = (sims.len() - v.len()) as u64;
    if v.is_empty() {
        return (0.5, (f64::NAN, f64::NAN), nan);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len() as f64;
    let below = v.partition_point(|&x| x < value) as f64;
    let ties = v.partition_point(|&x| x <= value) as f64 - below;
    let percentile = (below + 0.5 * ties) / n;
    let interval = if discrete {
        let at = |q: f64| v[((q * n).ceil() as usize).saturating_sub(1).min(v.len() - 1)];
        (at(0.025), at(0.975))
    } else {
        (quantile(&v, 0.025), quantile(&v, 0.975))
    };
    (percentile, interval, nan)
}

/// How many figures fall outside their 95% intervals, and how unusual that many is among the
/// simulated copies (each copy's own figures ranked against the same intervals).
fn outside_test(targets: &[TargetCheck], simulated: &[Vec<Vec<f64>>], replicates: u64) -> Predictive {
    let outside = targets.iter().filter(|t| t.outside).count();
    let mut at_least = 0u64;
    let mut total = 0.0;
    for r in 0..replicates as usize {
        let mut k = 0;
        let mut idx = 0;
        for study in simulated {
            for fig in study {
                let t = &targets[idx];
                let x = fig[r];
                if !x.is_nan() && (x < t.interval.0 || x > t.interval.1) {
                    k += 1;
                }
                idx += 1;
            }
        }
        total += k as f64;
        if k >= outside {
            at_least += 1;
        }
    }
    Predictive {
        replicates,
        figures: targets.len(),
        outside,
        expected_outside: total / replicates.max(1) as f64,
        p_value_outside: at_least as f64 / replicates.max(1) as f64,
    }
}

fn follow_up(sc: &Scenario) -> FollowUp {
    let cut = crate::truth::expected_cut(sc).unwrap_or(f64::NAN);
    let ep = sc.primary();
    let alloc: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let over = |t: f64| -> f64 {
        sc.allocated_arms()
            .map(|(_, a)| {
                a.allocation as f64 / alloc as f64
                    * crate::truth::survival(a, ep, t)
                    * model::followed(sc, a, cut, t)
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
    FollowUp {
        study: sc.name.clone(),
        expected_cut: cut,
        median: 0.5 * (lo + hi),
        range: (cut - last_entry, cut),
    }
}
