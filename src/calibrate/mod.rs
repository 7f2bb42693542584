//! Calibration to published studies (docs/design.md § Calibrating): maximum likelihood of each study
//! file's `[[targets]]` over its `[calibrate]` parameters, jointly over several files (a parameter
//! named in several files is shared), with a likelihood-ratio test of the joint model against
//! separate fits, a parametric bootstrap (simulate whole studies, refit) for the parameters'
//! uncertainty, and a predictive check that ranks every published figure among simulated copies
//! of its study.

mod bootstrap;
pub mod curves;
mod fit;
mod follow_up;
pub mod likelihood;
pub mod model;
pub mod optimise;
pub mod predictive;
mod problem;
pub mod targets;

use std::path::PathBuf;

use crate::scenario::{Scenario, ScenarioError};
pub use bootstrap::{BootstrapSummary, ParameterSpread, Scale, bootstrap, near_bound};
pub use fit::{Fit, LikelihoodRatio, SeparateFit, fit, likelihood_ratio};
pub use follow_up::{DesignFollowUp, design_follow_up};
pub use predictive::{
    Predictive, TargetCheck, check_targets, outside_test, quantile, rank_among, simulate_studies,
};
pub use problem::{Parameter, Problem, Study, study_seed};

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
    pub follow_up: Vec<DesignFollowUp>,
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

/// At most this many simulated copies per study (they are held in memory, figure × copy).
pub const MAX_REPLICATES: u64 = 1_000_000;

/// What can be known wrong before fitting: too many copies to hold, a study whose cut is never
/// reached in expectation, figures impossible under the model at the files' values.
pub fn check(problem: &Problem, opts: &Options) -> Result<(), CalibrateError> {
    let replicates = opts.replicates;
    if replicates > MAX_REPLICATES {
        return Err(CalibrateError::Argument(format!(
            "{replicates} simulated copies per study: at most {MAX_REPLICATES} (they are held in memory); give --reps"
        )));
    }
    let data = problem.published();
    let first_start = problem.initial();
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
    Ok(())
}

/// Fits, tests, checks and bootstraps the problem.
pub fn calibrate(problem: Problem, opts: &Options) -> Result<Calibration, CalibrateError> {
    check(&problem, opts)?;
    let replicates = opts.replicates;
    let data = problem.published();
    let bounds = problem.bounds();
    let first_start = problem.initial();
    let starts = optimise::starts(&first_start, &bounds, problem.starts);
    (opts.progress)(&format!("fitting {} parameters from {} starts", bounds.len(), starts.len()));
    let fit = fit(&problem, &data, &starts);
    if !fit.optimum.negative_log_likelihood.is_finite() {
        return Err(CalibrateError::Fit(
            "the likelihood is not finite anywhere the starts reached: check the targets against the model"
                .into(),
        ));
    }
    let theta = fit.estimate.clone();

    let likelihood_ratio = if problem.studies.len() > 1 {
        (opts.progress)("fitting each study on its own for the likelihood-ratio test");
        Some(likelihood_ratio(&problem, &fit))
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
    let simulated = simulate_studies(&problem, &fitted, &seeds, replicates);
    let targets = check_targets(&problem, &problem.expected(&theta)?, &simulated);
    let predictive = outside_test(&targets, &simulated, replicates);

    (opts.progress)(&format!("parametric bootstrap: {} simulated studies refitted", opts.bootstrap));
    let (draws, bootstrap) = bootstrap(&problem, &fitted, &seeds, &theta, opts.bootstrap);
    let follow_up = fitted.iter().map(design_follow_up).collect();
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
