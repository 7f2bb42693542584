//! A scenario simulated as `trialsim run` simulates it: the main run, then the same design with
//! identical arms (type I error, crossing by chance), and at the never-better boundary when the
//! scenario has one (how often each test declares benefit for an arm that is never better). The explorer runs the same function, so
//! the numbers it shows are the ones `trialsim run` writes.

use std::sync::atomic::AtomicBool;

use crate::engine::{Layout, RowSink, Run, null_scenario, simulate_until};
use crate::scenario::Scenario;
use crate::summary::Summary;
use crate::truth::Truth;
use crate::truth::never_better::Boundary;

/// Replicates of the identical-arms companion run (type I error, crossing by chance).
pub const NULL_REPLICATES: u64 = 10_000;

/// A simulated scenario: its truth, layout, summary, and the identical-arms companion's summary
/// with its replicates (two-arm scenarios, when asked for).
pub struct Simulated {
    pub truth: Truth,
    pub layout: Layout,
    pub summary: Summary,
    pub null: Option<(Summary, u64)>,
    /// The never-better boundary and its copy's summary (when the scenario has
    /// `[analysis.never_better]` and it is asked for).
    pub never_better: Option<(Boundary, Summary)>,
}

/// What to simulate besides the scenario.
pub struct SimulateOptions<'a> {
    pub replicates: u64,
    pub seed: u64,
    /// Run the identical-arms companion (`trialsim run` always does; the explorer's quick pass
    /// does not).
    pub null_copy: bool,
    /// The never-better boundary's scenario, simulated with the run's replicates on its own
    /// random streams (`truth::never_better`).
    pub never_better: Option<&'a Boundary>,
    /// Told how many more replicates are done, after each chunk.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Set by whoever no longer wants the result: the simulation stops at its next chunk.
    pub cancel: Option<&'a AtomicBool>,
    /// The prior's draws (each a scenario) for the predictive probability at the interim looks
    /// (`[monitoring.committee]`); the companion copies share it, as they share the design.
    pub prior: Option<&'a [Scenario]>,
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
    let mut layout = Layout::new(sc, &truth);
    if let (Some(prior), Some(m)) = (req.prior, layout.monitor.as_mut()) {
        m.set_prior(prior);
    }
    let progress = Some(req.progress);
    let run = Run { scenario: sc, layout: &layout, replicates: req.replicates, seed: req.seed, progress };
    let summary: Summary = simulate_until(&run, rows, cancel)?;
    // The null layout is the real one: same tests and estimates, only hazards differ.
    let null_reps = null_replicates(sc, req.replicates, req.null_copy);
    let null = match null_scenario(sc).filter(|_| null_reps > 0) {
        Some(ns) => {
            let ns = without_extrapolation(ns);
            let run = Run { scenario: &ns, layout: &layout, replicates: null_reps, seed: req.seed, progress };
            Some((simulate_until::<Summary>(&run, None, cancel)?, null_reps))
        }
        None => None,
    };
    let never_better = match req.never_better {
        Some(boundary) => {
            let seed = crate::rng::companion_seed(req.seed, "never_better");
            let copy = without_extrapolation(boundary.scenario.clone());
            let run = Run { scenario: &copy, layout: &layout, replicates: req.replicates, seed, progress };
            Some((boundary.clone(), simulate_until::<Summary>(&run, None, cancel)?))
        }
        None => None,
    };
    Some(Simulated { truth, layout, summary, null, never_better })
}

/// A companion copy's scenario: the same without the per-trial extrapolation, which only the main
/// run reports (the fits would double the copies' time for nothing).
fn without_extrapolation(mut sc: Scenario) -> Scenario {
    if let Some(lt) = sc.analysis.long_term.as_mut() {
        lt.extrapolation = None;
    }
    sc
}
