//! The Monte Carlo engine: for each replicate, generate the cohort, cut the data, analyse it, and
//! push the result into a streaming summary. [`replicate`] simulates and analyses one trial,
//! [`identical_arms`] makes a scenario's "no difference" companion, [`patients`] lists the
//! analysed patients for patients.csv, and this module drives the replicates.
//!
//! Determinism: replicate r's draws depend only on (seed, r, patient, purpose) (`rng`), and
//! replicates are reduced in fixed chunks of [`CHUNK`] merged in chunk order, so the summary is
//! bit-identical for any thread count. Each worker owns one [`Workspace`] whose buffers are reused:
//! the hot loop allocates nothing per replicate.

pub mod identical_arms;
pub mod patients;
pub mod replicate;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

pub use crate::analysis::{AnalyseOptions, Layout, Row};
use crate::scenario::Scenario;
pub use identical_arms::null_scenario;
pub use patients::{AnalysedPatient, analysed_patients};
pub use replicate::{Workspace, replicate};

/// The engine's version: a change to draws or statistics that alters results bumps it.
pub const ENGINE_VERSION: &str =
    concat!("trialsim ", env!("CARGO_PKG_VERSION"), " (xoshiro256++ streams v2)");

/// Replicates per chunk: the unit of parallel work and of the ordered merge.
pub const CHUNK: u64 = 512;

/// The Kaplan–Meier band (a plot) is collected from replicates 0..BAND_REPLICATES only: its
/// 2.5% and 97.5% points then have a coverage error of about ±0.25 percentage points, and
/// longer runs don't pay for it.
pub const BAND_REPLICATES: u64 = 4_000;

/// A streaming reduction of replicates (the summary, or a study's own): filled per chunk of
/// replicates, then merged in chunk order, so the result does not depend on the thread count.
pub trait Reduce: Send {
    /// An empty reduction for this layout.
    fn empty(layout: &Layout) -> Self;
    fn push(&mut self, row: &Row);
    /// Appends `other`, which holds the replicates after this one's.
    fn merge(&mut self, other: &Self);
    /// Back to `empty`, keeping allocations (chunk reductions are reused).
    fn reset(&mut self);
}

/// How to run a simulation.
pub struct Run<'a> {
    pub scenario: &'a Scenario,
    pub layout: &'a Layout,
    pub replicates: u64,
    pub seed: u64,
    /// Told how many more replicates are done, after each chunk (a progress bar the caller owns).
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Receives one replicate's replicates.csv columns: (replicate, values). Called from whichever
/// worker merges the chunk, hence `Send`.
pub type RowSink<'a> = &'a mut (dyn FnMut(u64, &[f64]) + Send);

/// One chunk's reduction and its replicates.csv rows (flat, `columns` per replicate).
type Part<S> = (S, Vec<f64>);

/// The ordered merge of [`simulate`]: chunks finish in any order and are merged in chunk order.
struct Merge<'a, S> {
    /// The next chunk to merge.
    next: u64,
    /// Finished chunks waiting for an earlier one.
    waiting: BTreeMap<u64, Part<S>>,
    /// Merged parts, for reuse (a reduction holds histograms of thousands of bins: allocating
    /// and faulting them in once per chunk cost ~5% of a run).
    free: Vec<Part<S>>,
    total: S,
    rows: Option<RowSink<'a>>,
}

impl<S: Reduce> Merge<'_, S> {
    /// Takes finished chunk `c` (`width` columns a replicate) and merges every chunk that is now
    /// next in order; whether any was.
    fn absorb(&mut self, c: u64, part: Part<S>, replicates: u64, width: usize) -> bool {
        self.waiting.insert(c, part);
        let mut progressed = false;
        while let Some(part) = self.waiting.remove(&self.next) {
            self.total.merge(&part.0);
            if let Some(f) = self.rows.as_mut() {
                let r0 = self.next * CHUNK;
                for r in r0..((self.next + 1) * CHUNK).min(replicates) {
                    let k = (r - r0) as usize;
                    f(r, &part.1[k * width..(k + 1) * width]);
                }
            }
            self.free.push(part);
            self.next += 1;
            progressed = true;
        }
        progressed
    }
}

/// Runs all replicates on the current rayon pool and reduces them into `S` (e.g.
/// `summary::Summary`). `rows`, if given, receives each replicate's replicates.csv columns in
/// replicate order.
///
/// Each worker claims the next chunk, simulates it, and merges every finished chunk that is
/// next in order: no worker waits for a batch to finish, and the result is the same for any
/// number of threads. A worker more than `AHEAD` chunks ahead of the merge waits, so memory is
/// bounded whatever the number of replicates.
pub fn simulate<S: Reduce>(run: &Run, rows: Option<RowSink>) -> S {
    let never = AtomicBool::new(false);
    simulate_until(run, rows, &never).expect("a simulation that nobody cancels finishes")
}

/// [`simulate`], stopped early when `cancel` is set (the explorer drops a computation that a newer
/// change made stale): workers claim no chunk after they see it, and `None` is returned. A
/// simulation that finishes is the same as [`simulate`]'s, bit for bit.
pub(crate) fn simulate_until<S: Reduce>(run: &Run, rows: Option<RowSink>, cancel: &AtomicBool) -> Option<S> {
    let chunks = run.replicates.div_ceil(CHUNK);
    let threads = rayon::current_num_threads().max(1);
    let ahead = 4 * threads as u64;
    let want_rows = rows.is_some();
    let width = run.layout.columns.len();
    let claimed = AtomicU64::new(0);
    let merge = Mutex::new(Merge {
        next: 0,
        waiting: BTreeMap::new(),
        free: Vec::new(),
        total: S::empty(run.layout),
        rows,
    });
    let merged = Condvar::new();
    let worker = || {
        let mut ws = Workspace { exact_p: want_rows, ..Workspace::default() };
        loop {
            if cancel.load(Ordering::Relaxed) {
                break;
            }
            let c = claimed.fetch_add(1, Ordering::Relaxed);
            if c >= chunks {
                break;
            }
            let (mut s, mut flat) = {
                let mut m = merge.lock().unwrap_or_else(PoisonError::into_inner);
                while c >= m.next + ahead {
                    // The chunk being waited for may have been abandoned (cancelled).
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    m = merged.wait(m).unwrap_or_else(PoisonError::into_inner);
                }
                m.free.pop().unwrap_or_else(|| (S::empty(run.layout), Vec::new()))
            };
            s.reset();
            flat.clear();
            let (r0, r1) = (c * CHUNK, ((c + 1) * CHUNK).min(run.replicates));
            for r in r0..r1 {
                // Checked per replicate, not per chunk: a chunk of large trials takes minutes.
                // A chunk left unfinished is never merged, and the result is `None`.
                if cancel.load(Ordering::Relaxed) {
                    // Wake the workers waiting for this chunk, under the lock so that none can
                    // miss it between its check of `cancel` and its wait.
                    let _m = merge.lock().unwrap_or_else(PoisonError::into_inner);
                    merged.notify_all();
                    return;
                }
                replicate(run.scenario, run.layout, run.seed, r, &mut ws);
                s.push(&ws.row);
                if want_rows {
                    flat.extend_from_slice(&ws.row.columns);
                }
            }
            if let Some(p) = run.progress {
                p(r1 - r0);
            }
            let progressed = merge.lock().unwrap_or_else(PoisonError::into_inner).absorb(
                c,
                (s, flat),
                run.replicates,
                width,
            );
            if progressed {
                merged.notify_all();
            }
        }
    };
    rayon::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|_| worker());
        }
    });
    let m = merge.into_inner().unwrap_or_else(PoisonError::into_inner);
    // A worker that saw `cancel` left its later chunks unclaimed, so the merge stopped short.
    (m.next == chunks).then_some(m.total)
}
