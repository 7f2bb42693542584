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
    /// A study file that cannot be calibrated as written.
    #[error("{}: {problem}", path.display())]
    Study { path: PathBuf, problem: StudyProblem },
    /// The fit cannot start or went nowhere.
    #[error("calibrate: {0}")]
    Fit(FitProblem),
    /// A bad command-line value or combination of files.
    #[error(transparent)]
    Argument(#[from] CalibrateArgument),
}

/// What is wrong with a study file for calibration.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StudyProblem {
    #[error("no [calibrate] table: name the free parameters and their bounds")]
    NoCalibrateTable,
    #[error("no [[targets]] in the likelihood: a study file needs published figures to fit")]
    NoTargets,
    /// The calibration's expected figures and predictive checks are of one homogeneous
    /// population.
    #[error(
        "a study file describes one homogeneous population: remove [strata] (calibrate the model, then split it into strata in a scenario)"
    )]
    Stratified,
    #[error(
        "the data cut is never reached in expectation (too few events for `design.cut.events`): give the study a calendar cut"
    )]
    CutNeverReached,
    /// A free parameter shared with another study file under other bounds.
    #[error("`calibrate.free.{name}` is shared with another study file, whose bounds are [{}, {}]; here they are [{}, {}]: give a shared parameter the same bounds everywhere", other.0, other.1, here.0, here.1)]
    SharedBounds { name: String, other: (f64, f64), here: (f64, f64) },
}

/// Why a fit cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitProblem {
    #[error(
        "the likelihood of the published figures is not finite at the files' values (−ℓ = {0}): some figure is impossible under the model (e.g. events of a cause with zero hazard, or a hazard ratio after the cut)"
    )]
    NotFiniteAtStart(f64),
    #[error("the likelihood is not finite anywhere the starts reached: check the targets against the model")]
    NotFiniteAnywhere,
}

/// A bad command-line value or combination of study files.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CalibrateArgument {
    #[error(
        "{replicates} simulated copies per study: at most {MAX_REPLICATES} (they are held in memory); give --reps"
    )]
    TooManyReplicates { replicates: u64 },
    #[error("two study files are both named `{0}`: each study needs its own name")]
    DuplicateStudyName(String),
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
        return Err(CalibrateArgument::TooManyReplicates { replicates }.into());
    }
    let data = problem.published();
    let first_start = problem.initial();
    for st_index in 0..problem.studies.len() {
        let sc = problem.scenario(st_index, &first_start)?;
        if crate::truth::expected_cut(&sc).is_none() {
            let path = problem.studies[st_index].path.clone();
            return Err(CalibrateError::Study { path, problem: StudyProblem::CutNeverReached });
        }
    }
    let at_start = problem.negative_log_likelihood(&first_start, &data);
    if !at_start.is_finite() {
        return Err(CalibrateError::Fit(FitProblem::NotFiniteAtStart(at_start)));
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
        return Err(CalibrateError::Fit(FitProblem::NotFiniteAnywhere));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_render_the_messages_users_read() {
        let e = CalibrateError::Study {
            path: "s.toml".into(),
            problem: StudyProblem::SharedBounds { name: "hr".into(), other: (0.1, 2.0), here: (0.2, 3.0) },
        };
        assert_eq!(
            e.to_string(),
            "s.toml: `calibrate.free.hr` is shared with another study file, whose bounds are [0.1, 2]; here they are [0.2, 3]: give a shared parameter the same bounds everywhere"
        );
        assert!(
            CalibrateError::Fit(FitProblem::NotFiniteAnywhere)
                .to_string()
                .starts_with("calibrate: the likelihood")
        );
    }
}
