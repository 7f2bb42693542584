//! A scenario simulated as `trialsim run` simulates it: the main run, then the same design with
//! identical arms (type I error, crossing by chance). The explorer runs the same function, so
//! the numbers it shows are the ones `trialsim run` writes.

use std::sync::atomic::AtomicBool;

use crate::engine::{Layout, RowSink, Run, null_scenario, simulate_until};
use crate::scenario::Scenario;
use crate::summary::Summary;
use crate::truth::Truth;

/// Replicates of the identical-arms companion run (type I error, crossing by chance).
pub const NULL_REPLICATES: u64 = 10_000;

/// A simulated scenario: its truth, layout, summary, and the identical-arms companion's summary
/// with its replicates (two-arm scenarios, when asked for).
pub struct Simulated {
    pub truth: Truth,
    pub layout: Layout,
    pub summary: Summary,
    pub null: Option<(Summary, u64)>,
}

/// What to simulate besides the scenario.
pub struct SimulateOptions<'a> {
    pub replicates: u64,
    pub seed: u64,
    /// Run the identical-arms companion (`trialsim run` always does; the explorer's quick pass
    /// does not).
    pub null_copy: bool,
    /// Told how many more replicates are done, after each chunk.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Set by whoever no longer wants the result: the simulation stops at its next chunk.
    pub cancel: Option<&'a AtomicBool>,
}

/// Replicates of the identical-arms companion of `replicates` trials of `sc`, when it has one
/// and it is asked for (`null_copy`).
pub(crate) fn null_replicates(sc: &Scenario, replicates: u64, null_copy: bool) -> u64 {
    if null_copy && sc.comparison.is_some() { replicates.min(NULL_REPLICATES) } else { 0 }
}

/// Simulates `replicates` trials of the scenario, then, when asked, up to [`NULL_REPLICATES`] with
/// identical arms, on the current rayon pool. `rows` receives replicates.csv rows of the main run.
/// `None` when cancelled.
pub fn simulate_scenario(sc: &Scenario, req: &SimulateOptions, rows: Option<RowSink>) -> Option<Simulated> {
    let never = AtomicBool::new(false);
    let cancel = req.cancel.unwrap_or(&never);
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    let progress = Some(req.progress);
    let run = Run { scenario: sc, layout: &layout, replicates: req.replicates, seed: req.seed, progress };
    let summary: Summary = simulate_until(&run, rows, cancel)?;
    // The null layout is the real one: same tests and estimates, only hazards differ.
    let null_reps = null_replicates(sc, req.replicates, req.null_copy);
    let null = match null_scenario(sc).filter(|_| null_reps > 0) {
        Some(ns) => {
            let run = Run { scenario: &ns, layout: &layout, replicates: null_reps, seed: req.seed, progress };
            Some((simulate_until::<Summary>(&run, None, cancel)?, null_reps))
        }
        None => None,
    };
    Some(Simulated { truth, layout, summary, null })
}
