//! A study file's published figures (`[[targets]]`) and free parameters (`[calibrate]`),
//! validated against the scenario they belong to: every arm, endpoint and cause they name exists,
//! probabilities lie in [0, 1] inside their confidence intervals, counts fit in their arms, the
//! multinomial cells of the likelihood are disjoint (docs/design.md § Calibrating: each patient counts
//! once), and every free key names a number of this scenario within its bounds.

mod cells;
mod free;
mod kinds;

use std::ops::Range;

pub use cells::group;
pub use free::{Calibrate, FreeParameter};

use crate::scenario::raw::{self, S};
use crate::scenario::{Arm, Ctx, Document, Endpoint, ErrorKind, Scenario, ScenarioError};
use crate::time::Time;

type Result<T> = std::result::Result<T, ScenarioError>;

/// One published figure the model can speak to.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    /// The published value: a count, a probability or a hazard ratio.
    pub value: f64,
    pub role: Role,
    /// Where the figure comes from, and how it was derived; printed in the reports.
    pub source: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TargetKind {
    /// Patients of `arm` (the first `patients` of them) whose first `endpoint` event is one of
    /// `causes` and is observed in (from, to] of time since randomisation.
    Count { arm: usize, endpoint: usize, causes: Vec<usize>, from: Time, to: Time, patients: usize },
    /// Kaplan–Meier S(time) of `endpoint` in `arm`, or 1 − S(time) when `failure`.
    Survival { arm: usize, endpoint: usize, time: Time, failure: bool, ci: Option<(f64, f64)> },
    /// The experimental-versus-control hazard ratio of `endpoint` for events after `after`
    /// (the late period of a Cox model with a period break there).
    HazardRatio { endpoint: usize, after: Time, ci: Option<(f64, f64)> },
    /// The mean of continuous outcome `outcome` at assessment `at` (index into
    /// `Assessments::at`) among `arm`'s patients measured there, with its published 95% CI.
    OutcomeMean { arm: usize, outcome: usize, at: usize, ci: Option<(f64, f64)> },
    /// Of `patients` patients of `arm` measured at assessment `at`, how many have outcome
    /// `outcome` below (`below`) or above the threshold.
    OutcomeShare { arm: usize, outcome: usize, at: usize, threshold: f64, below: bool, patients: usize },
}

/// How a figure enters the likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Counts: a cell of the multinomial of its (arm, endpoint, patients) group; probabilities
    /// and hazard ratios: a normal term (logit or log scale) with the SE from the published CI.
    Fit,
    /// A count that splits events the group's cells already hold (e.g. organ failures among all
    /// events): the number of them among the cells' events, a sum of binomials.
    Split,
    /// Restates other figures: in the predictive check only.
    Check,
}

impl Target {
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            TargetKind::Count { .. } => "count",
            TargetKind::Survival { failure: false, .. } => "survival",
            TargetKind::Survival { failure: true, .. } => "failure",
            TargetKind::HazardRatio { .. } => "hazard_ratio",
            TargetKind::OutcomeMean { .. } => "outcome_mean",
            TargetKind::OutcomeShare { .. } => "outcome_share",
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fit => "fit",
            Role::Split => "split",
            Role::Check => "check",
        }
    }
}

/// A study file's `[[targets]]` and `[calibrate]`, validated against its scenario: every arm,
/// endpoint and cause they name exists, and every free key is a number of the scenario.
#[derive(Debug, Clone)]
pub struct StudyTables {
    /// The published figures; empty for a planning scenario.
    pub targets: Vec<Target>,
    /// The free parameters; `None` without a `[calibrate]` table.
    pub calibrate: Option<Calibrate>,
}

/// The study tables of a document whose scenario is `sc`.
pub(crate) fn study_tables(doc: &Document, sc: &Scenario) -> Result<StudyTables> {
    let ctx = doc.ctx();
    let raw = doc.raw();
    let alloc_sum: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let names = Names {
        outcomes: &sc.outcomes,
        assessments: sc.assessments.as_ref(),
        arms: &sc.arms,
        causes: &sc.causes,
        endpoints: &sc.endpoints,
        arm_patients: sc
            .arms
            .iter()
            .map(|a| (sc.design.n as f64 * a.allocation as f64 / alloc_sum as f64).round() as usize)
            .collect(),
        two_arms: sc.comparison.is_some(),
    };
    let targets = match &raw.targets {
        Some(t) => targets(&ctx, t, &names)?,
        None => Vec::new(),
    };
    let calibrate = match &raw.calibrate {
        None => None,
        Some(c) => {
            let table: toml::Table = toml::from_str(doc.text()).map_err(|e| {
                ScenarioError::new(doc.path(), ErrorKind::Syntax { message: e.message().to_string() })
            })?;
            Some(free::calibrate(&ctx, c, &table)?)
        }
    };
    Ok(StudyTables { targets, calibrate })
}

pub(super) struct Names<'a> {
    outcomes: &'a [crate::scenario::Outcome],
    assessments: Option<&'a crate::scenario::Assessments>,
    arms: &'a [Arm],
    causes: &'a [String],
    endpoints: &'a [Endpoint],
    /// Patients per arm expected under the allocation (n · share, rounded).
    arm_patients: Vec<usize>,
    two_arms: bool,
}

fn targets(ctx: &Ctx, raw: &S<Vec<S<raw::RawTarget>>>, names: &Names) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (i, t) in raw.get_ref().iter().enumerate() {
        let target = kinds::target(ctx, t.get_ref(), i, names)?;
        if let Some(j) = out.iter().position(|o| o.name == target.name) {
            return Err(ctx.err(
                t.get_ref().name.span(),
                format!("targets[{i}].name"),
                format!("`{}` is already the name of targets[{j}]", target.name),
            ));
        }
        out.push(target);
        spans.push(t.span());
    }
    cells::cells_are_disjoint(ctx, &out, &spans)?;
    cells::normal_terms_are_distinct(ctx, &out, &spans)?;
    Ok(out)
}
