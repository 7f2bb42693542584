//! The identical-arms companion of a scenario: the same design with no difference between arms.

use crate::scenario::Scenario;

/// The scenario with the experimental arm given the control arm's whole model (hazards,
/// dropout, illness–death table, continuous outcomes' distributions; it keeps its name, label and allocation): the "no difference"
/// companion run for type I error and chance crossings. `None` for a single-arm study.
pub fn null_scenario(sc: &Scenario) -> Option<Scenario> {
    let c = sc.comparison?;
    let mut null = sc.clone();
    // In every stratum, the stratum's own control model.
    for s in 0..sc.stratum_count() {
        let control = &sc.stratum_arms(s)[c.control];
        let experimental = match null.strata.get_mut(s) {
            Some(stratum) => &mut stratum.arms[c.experimental],
            None => &mut null.arms[c.experimental],
        };
        experimental.causes = control.causes.clone();
        experimental.dropout = control.dropout;
        experimental.after = control.after.clone();
        experimental.outcomes = control.outcomes.clone();
    }
    Some(null)
}
