//! The identical-arms companion of a scenario: the same design with no difference between arms.

use crate::scenario::Scenario;

/// The scenario with the experimental arm given the control arm's whole model (hazards,
/// dropout, illness–death table; it keeps its name, label and allocation): the "no difference"
/// companion run for type I error and chance crossings. `None` for a single-arm study.
pub fn null_scenario(sc: &Scenario) -> Option<Scenario> {
    let c = sc.comparison?;
    let mut null = sc.clone();
    let control = &sc.arms[c.control];
    let experimental = &mut null.arms[c.experimental];
    experimental.causes = control.causes.clone();
    experimental.dropout = control.dropout;
    experimental.after = control.after.clone();
    Some(null)
}
