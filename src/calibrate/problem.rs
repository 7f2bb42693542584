//! The calibration problem: the study files, their free parameters (shared by name across
//! files), and the likelihood of their published figures at a parameter vector.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::likelihood::{Expected, TargetLayout};
use super::optimise::Bounds;
use super::targets::{Calibrate, Role, StudyTables, Target, study_tables};
use super::{CalibrateArgument, CalibrateError, StudyProblem};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Document, Scenario, ScenarioError};

/// One study file: its scenario, published figures and free parameters, the template the fit
/// edits, and the layout of its likelihood.
#[derive(Debug, Clone)]
pub struct Study {
    pub path: PathBuf,
    pub scenario: Scenario,
    /// The published figures (`[[targets]]`).
    pub targets: Vec<Target>,
    /// The free parameters (`[calibrate]`).
    pub calibrate: Calibrate,
    /// The file as written (for `fitted.toml`).
    pub template: Template,
    /// Without `[calibrate]`: what every point of the fit re-validates.
    model: Template,
    pub layout: TargetLayout,
    pub published: Vec<f64>,
}

impl Study {
    pub fn load(path: &Path) -> Result<Study, CalibrateError> {
        let doc = Document::load(path)?;
        let scenario = doc.scenario()?;
        let StudyTables { targets, calibrate } = study_tables(&doc, &scenario)?;
        let bad = |problem: StudyProblem| CalibrateError::Study { path: path.to_path_buf(), problem };
        let Some(calibrate) = calibrate else {
            return Err(bad(StudyProblem::NoCalibrateTable));
        };
        if !targets.iter().any(|t| t.role != Role::Check) {
            return Err(bad(StudyProblem::NoTargets));
        }
        if scenario.is_stratified() {
            return Err(bad(StudyProblem::Stratified));
        }
        let template = Template::from_path(path)?;
        let model = template.model_only();
        let layout = TargetLayout::new(&scenario, &targets);
        let published = targets.iter().map(|t| t.value).collect();
        Ok(Study {
            path: path.to_path_buf(),
            scenario,
            targets,
            calibrate,
            template,
            model,
            layout,
            published,
        })
    }

    pub fn name(&self) -> &str {
        &self.scenario.name
    }
}

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
            let cal = &st.calibrate;
            starts = starts.max(cal.starts);
            for f in &cal.free {
                match params.iter_mut().find(|p| p.name == f.name) {
                    Some(p) => {
                        if p.lower != f.lower || p.upper != f.upper {
                            let problem = StudyProblem::SharedBounds {
                                name: f.name.clone(),
                                other: (p.lower, p.upper),
                                here: (f.lower, f.upper),
                            };
                            return Err(CalibrateError::Study { path: st.path.clone(), problem });
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
                // Bad input (the files given), not a failed fit: exit 2.
                return Err(CalibrateArgument::DuplicateStudyName(st.name().to_string()).into());
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
                Ok(self.studies[s].layout.expected(&sc, &self.studies[s].targets, cut))
            })
            .collect()
    }

    /// −ℓ of `data` (one vector of figures per study) at θ; +∞ where the model cannot be built.
    pub(crate) fn negative_log_likelihood(&self, theta: &[f64], data: &[Vec<f64>]) -> f64 {
        match self.expected(theta) {
            Ok(e) => self
                .studies
                .iter()
                .zip(&e)
                .zip(data)
                .map(|((st, e), d)| st.layout.negative_log_likelihood(&st.targets, d, &e.values, &e.cells))
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

/// A study's seed: the given seed mixed with the study's name (FNV-1a), so that two studies
/// never share streams even when their files give the same seed.
pub fn study_seed(seed: u64, name: &str) -> u64 {
    seed ^ crate::rng::fnv1a(name.as_bytes())
}
