//! A scenario file validated whole: the model, design and analysis, and the table of every
//! command (`[sweep]`, `[uncertainty]`, `[followup]`, `[[targets]]`, `[calibrate]`), so that a
//! mistake anywhere in the file is reported by any command, and by the explorer, before anything
//! runs.

use crate::assurance::{Uncertainty, uncertainty_table};
use crate::calibrate::targets::{StudyTables, study_tables};
use crate::followup::cuts_table;
use crate::scenario::overrides::Template;
use crate::scenario::raw::RawSpending;
use crate::scenario::{Document, Scenario, ScenarioError};
use crate::stats::sequential::Futility;
use crate::sweep::{SweepTable, sweep_table};
use crate::time::Time;
use crate::truth::never_better::{self, Boundary, PointBoundary};

/// A scenario file read once and validated whole: the scenario (model, design, analysis) and the
/// table of every command, so that a mistake anywhere in the file is reported by any command,
/// before anything runs.
pub struct Loaded {
    pub scenario: Scenario,
    pub sweep: Option<SweepTable>,
    pub uncertainty: Option<Uncertainty>,
    /// `[followup] cuts` (empty without the table).
    pub followup_cuts: Vec<Time>,
    pub study: StudyTables,
    /// The never-better boundary of `[analysis.never_better]`, solved.
    pub never_better: Option<Boundary>,
    /// The file's text, as the reports show it.
    pub text: String,
}

/// The scenario and every command's table of a parsed document.
pub fn validate(doc: &Document) -> Result<Loaded, ScenarioError> {
    validate_as(doc, Boundaries::Refused)
}

/// [`validate`] for a scenario a user is moving (the explorer's sliders): like a sweep's point,
/// one already never better is its own boundary and one whose path has no boundary has none,
/// where a file run from the command line is refused for either.
pub fn validate_point(doc: &Document) -> Result<Loaded, ScenarioError> {
    validate_as(doc, Boundaries::AsPoint)
}

/// What a never-better path without a boundary does to a scenario.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Boundaries {
    Refused,
    AsPoint,
}

fn validate_as(doc: &Document, boundaries: Boundaries) -> Result<Loaded, ScenarioError> {
    let scenario = doc.scenario()?;
    futility_below_efficacy(doc, &scenario)?;
    let sweep = sweep_table(doc)?;
    let uncertainty = uncertainty_table(doc)?;
    let followup_cuts = cuts_table(doc)?;
    let study = study_tables(doc, &scenario)?;
    let never_better = match (&scenario.analysis.never_better, boundaries) {
        (None, _) => None,
        (Some(_), Boundaries::Refused) => never_better::solve(&Template::from_document(doc)?, &[], &scenario)
            .map_err(|p| never_better::located(doc, &p))?,
        (Some(_), Boundaries::AsPoint) => {
            match never_better::at_point(&Template::from_document(doc)?, &[], &scenario)? {
                Some(PointBoundary::Solved(b) | PointBoundary::Itself(b)) => Some(*b),
                Some(PointBoundary::NotOnPath(_)) | None => None,
            }
        }
    };
    Ok(Loaded {
        scenario,
        sweep,
        uncertainty,
        followup_cuts,
        study,
        never_better,
        text: doc.text().to_string(),
    })
}

/// Fixed interim futility bounds must lie below the efficacy bounds of their looks (as planned:
/// at the given fractions, or where the model expects a cut look): a futility bound at or above
/// efficacy would stop every trial at that look for one reason or the other, and was once
/// clamped in silence (96.5% futility stops at look 1). Checked here, above the model, because a
/// cut look's fraction and so its spending bound need the model's expected information.
fn futility_below_efficacy(doc: &Document, scenario: &Scenario) -> Result<(), ScenarioError> {
    let Some(spending) = doc
        .raw()
        .monitoring
        .as_ref()
        .and_then(|m| m.get_ref().futility.as_ref())
        .and_then(|f| f.get_ref().spending.as_ref())
    else {
        return Ok(());
    };
    let RawSpending::Z(list) = spending.get_ref() else { return Ok(()) };
    // Only fixed bounds are checked, so the design (the model's expected information at every
    // look: most of a monitored run's set-up) is planned only for them.
    let Some(monitor) = crate::monitoring::Monitor::new(scenario) else { return Ok(()) };
    for mt in &monitor.tests {
        let Some(Futility::Fixed(z)) = &mt.plan.design.futility else { continue };
        for (k, (&f, &e)) in z.iter().zip(&mt.planned.efficacy).enumerate() {
            if f >= e {
                let span = list.get_ref().get(k).map_or(spending.span(), |v| v.span());
                return Err(doc.ctx().err(
                    span,
                    format!("monitoring.futility.spending.z[{k}]"),
                    format!(
                        "a futility bound of {f} is not below look {}'s efficacy bound {e:.4} for {:?} (b = −z scale): interim futility must lie below efficacy",
                        k + 1,
                        mt.name
                    ),
                ));
            }
        }
    }
    Ok(())
}
