//! Sweeps: a grid of dotted-key overrides of one scenario, each point simulated with the same
//! seed (common random numbers: replicate r is the same trial at every point as far as it can
//! be), written as one tidy CSV.
//!
//! Nothing is lost: each finished point is written atomically to `DIR/points/<point>.json` with
//! a fingerprint of what was simulated (engine version, the scenario after overrides, replicates,
//! seed); a rerun reuses exactly the points whose fingerprint matches and computes the rest.
//! `--shard I/N` computes the points p with p mod N = I − 1 and lists only those in its manifest,
//! so a grid too large for one process ([`MAX_POINTS`]) runs as shards small enough; `merge`
//! joins shard directories into the same `sweep.csv` an unsplit run writes, because both are
//! made from the point records by the same function, one record at a time.

mod grid;
mod merge;
mod store;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

pub use grid::{
    Axis, GridError, MAX_GRID, MAX_POINTS, SweepTable, ValuesError, axes, count, parse_values, point, points,
    sweep_table,
};
pub use merge::merge;
pub use store::{Fingerprint, Manifest, Metric, PointRecord, fingerprint, metrics, read_record};

use crate::atomic_file::{IoError, create_dir, write_atomic};
use crate::engine::{ENGINE_VERSION, Layout, Run, simulate_until};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Scenario, ScenarioError};
use crate::summary::Summary;
use crate::truth::Truth;
use crate::truth::never_better::{self, PointBoundary};

/// How to run a sweep (resolved by the command: no defaults left here).
#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub replicates: u64,
    pub seed: u64,
    /// The sweep directory (point records, manifest, tables).
    pub out: PathBuf,
    /// (I, N): compute the points p with p mod N = I − 1.
    pub shard: Option<(usize, usize)>,
    /// Compute at most this many new points, then stop (resumable; for schedulers with time
    /// limits).
    pub limit: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad input: exit code 2.
    #[error(transparent)]
    Input(#[from] SweepInput),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Io(#[from] IoError),
    /// A point record the complete sweep should hold is missing or is another point's.
    #[error("{}: missing, or not this sweep's point {point}", path.display())]
    MissingRecord { path: PathBuf, point: usize },
}

/// What is wrong with a sweep's input: its grid, its shard, its output directory, or the
/// directories a merge joins.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SweepInput {
    /// The grid's grammar or size.
    #[error(transparent)]
    Grid(#[from] GridError),
    #[error("no swept keys: give --set KEY=VALUES or a [sweep] table")]
    NoSweptKeys,
    #[error("--shard {i}/{shards}: expected I/N with 1 ≤ I ≤ N")]
    Shard { i: usize, shards: usize },
    #[error("output directory {}: cannot create or write it: {error}", dir.display())]
    OutputDirectory { dir: PathBuf, error: String },
    #[error("{}: not a sweep directory ({reason})", dir.display())]
    NotASweep { dir: PathBuf, reason: String },
    /// A sweep.json that cannot be a sweep's manifest (`problem` says why).
    #[error("{}: {problem}", path.display())]
    BadManifest { path: PathBuf, problem: String },
    #[error("no directories to merge")]
    NothingToMerge,
    #[error("{} and {} are not shards of the same sweep ({why})", first.display(), other.display())]
    NotOneSweep { first: PathBuf, other: PathBuf, why: String },
    #[error(
        "{unlisted} of {points} points are in none of the directories (first: point {first}); run the missing shards first"
    )]
    Unlisted { unlisted: usize, points: usize, first: usize },
    #[error(
        "{missing} of {points} points have no finished record in the directories (first: point {first}); rerun their shards, then merge again"
    )]
    Unfinished { missing: usize, points: usize, first: usize },
    #[error("{}: its results do not match its checksum (edited by hand or damaged): delete it and rerun this shard", path.display())]
    ChecksumMismatch { path: PathBuf },
    #[error("{}: written by an older trialsim without a checksum: rerun this shard into a new directory (or delete its points/)", path.display())]
    NoChecksum { path: PathBuf },
}

impl From<GridError> for SweepError {
    fn from(e: GridError) -> SweepError {
        SweepError::Input(SweepInput::Grid(e))
    }
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepOutcome {
    pub out: PathBuf,
    pub points: usize,
    pub reused: usize,
    pub computed: usize,
    /// Every point of the grid, once all are in the output: what sweep.csv, sweep.md and the
    /// plots are made from.
    pub tables: Option<Tables>,
}

impl SweepOutcome {
    /// True when every point of the grid is in the output.
    pub fn complete(&self) -> bool {
        self.tables.is_some()
    }
}

/// A complete sweep: its manifest (every point listed), the scenario without overrides, and
/// the directory whose `points/` holds every point's record. The records are read one at a
/// time ([`Tables::records`]): a sweep of 10⁶ points has gigabytes of them.
#[derive(Debug, Clone)]
pub struct Tables {
    pub manifest: Manifest,
    pub base: Scenario,
    dir: PathBuf,
}

impl Tables {
    /// The number of points.
    pub fn len(&self) -> usize {
        self.manifest.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.manifest.fingerprints.is_empty()
    }

    /// Every point's record in point order. A reused record was simulated for the same scenario
    /// (its fingerprint says so) but perhaps reached by other overrides (keys given in another
    /// order, or a default spelt out): it is labelled with this grid's keys and values.
    pub fn records(&self) -> impl Iterator<Item = Result<PointRecord, SweepError>> + '_ {
        self.manifest.fingerprints.iter().enumerate().map(|(p, fp)| {
            let path = self.dir.join("points").join(record_name(p));
            let mut r = read_record(&path)?
                .filter(|r| r.fingerprint == *fp && r.point == p)
                .ok_or_else(|| SweepError::MissingRecord { path: path.clone(), point: p })?;
            let at = point(&self.manifest.axes, self.manifest.zip, p);
            r.overrides = at.into_iter().map(|o| (o.key, o.value)).collect();
            Ok(r)
        })
    }
}

/// The file name of point `p`'s record in `points/`.
pub(crate) fn record_name(p: usize) -> String {
    format!("{p:06}.json")
}

/// The grid: `--set` arguments if any, else the scenario's `[sweep]` table.
pub(crate) fn grid_of(
    table: Option<&SweepTable>,
    set: &[String],
    zip: bool,
) -> Result<(Vec<Axis>, bool), SweepError> {
    let (items, zip) = if set.is_empty() {
        match table {
            Some(t) => (t.set.clone(), t.zip || zip),
            None => {
                return Err(SweepInput::NoSweptKeys.into());
            }
        }
    } else {
        (set.to_vec(), zip)
    };
    Ok((axes(&items)?, zip))
}

/// Every point of this process's share of the grid validated (all of it, or with `--shard`
/// its own points), and its fingerprint: what a sweep checks before it creates anything (the
/// command checks it before locking its directory, too). The grid is counted first, and the
/// share must be at most [`grid::MAX_POINTS`]; only the fingerprints are kept, not the
/// scenarios.
pub fn validate(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepSettings,
) -> Result<Validated, SweepError> {
    let (replicates, seed) = (opts.replicates, opts.seed);
    let n = count(axes, zip)?;
    for a in axes {
        template.check_key(&a.key)?;
    }
    if let Some((i, shards)) = opts.shard
        && !(shards >= 1 && (1..=shards).contains(&i))
    {
        return Err(SweepInput::Shard { i, shards }.into());
    }
    // One shard of one is the whole sweep, with the whole sweep's manifest.
    let shard = opts.shard.filter(|&(_, shards)| shards > 1);
    grid::check_share(axes, zip, n, shard)?;
    let base = fingerprint(&template.apply(&[])?.1, replicates, seed);
    let fingerprint_of = |p: usize| -> Result<Fingerprint, SweepError> {
        let overrides = point(axes, zip, p);
        let (sc, canonical) = template.apply(&overrides)?;
        // A point whose never-better path is wrong is refused before any runs (the solve itself,
        // some 235 parses, waits for the point's simulation).
        never_better::precheck(template, &overrides, &sc)?;
        Ok(fingerprint(&canonical, replicates, seed))
    };
    // On every core (10⁶ points are a minute of parsing on one); in point order.
    let (first, step) = shard.map_or((0, 1), |(i, shards)| (i - 1, shards));
    let mine = grid::share(n, shard).count();
    let fingerprints = (0..mine).into_par_iter().map(|k| fingerprint_of(first + k * step)).collect();
    match fingerprints {
        Ok(fingerprints) => Ok(Validated { n, shard, base, fingerprints }),
        // The first bad point's error, whichever thread met one first: the message is the same
        // on any number of threads.
        Err(e) => Err(grid::share(n, shard).find_map(|p| fingerprint_of(p).err()).unwrap_or(e)),
    }
}

/// This process's share of a grid, every point valid, with each point's fingerprint: made only
/// by [`validate`], so a sweep never runs an unchecked grid, nor checks one twice (10⁶ points
/// take half a minute).
#[derive(Debug, Clone)]
pub struct Validated {
    n: usize,
    shard: Option<(usize, usize)>,
    base: Fingerprint,
    fingerprints: Vec<Fingerprint>,
}

/// Runs (or resumes) a sweep and writes its point records and manifest: `grid` is what
/// [`validate`] returned for the same template, axes and settings. The tables are the caller's
/// to write, from the outcome's [`Tables`], once every point is in.
pub fn run_sweep(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepSettings,
    grid: Validated,
    progress: impl FnMut(u64, u64),
) -> Result<SweepOutcome, SweepError> {
    run_sweep_until(template, axes, zip, opts, grid, progress, &AtomicBool::new(false))
}

/// [`run_sweep`], stopped once `cancel` is set (a binding's Ctrl-C): the point being simulated
/// is dropped at its next chunk, every point record already written stays, and the outcome is
/// incomplete (a rerun resumes).
pub fn run_sweep_until(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepSettings,
    grid: Validated,
    mut progress: impl FnMut(u64, u64),
    cancel: &AtomicBool,
) -> Result<SweepOutcome, SweepError> {
    let (base, _) = template.apply(&[])?;
    let (replicates, seed) = (opts.replicates, opts.seed);
    let Validated { n, shard, base: base_fingerprint, fingerprints } = grid;
    let out = opts.out.clone();
    let manifest = Manifest {
        // Canonical, so that shards started from different directories or spellings merge.
        scenario: std::fs::canonicalize(template.path())
            .unwrap_or_else(|_| template.path().to_path_buf())
            .display()
            .to_string(),
        document: template.text(),
        axes: axes.to_vec(),
        zip,
        replicates,
        seed,
        engine: ENGINE_VERSION.to_string(),
        base: Some(base_fingerprint),
        shard: shard.map(|(i, shards)| [i, shards]),
        fingerprints,
    };
    let points_dir = out.join("points");
    // Every point is valid: now the directory, a bad argument if it cannot be made.
    create_dir(&points_dir).map_err(|e| {
        SweepError::from(SweepInput::OutputDirectory { dir: out.to_path_buf(), error: e.to_string() })
    })?;
    // A killed run may leave the atomic writer's temporary files behind: never a point record
    // (those are renamed into place whole), so they can go.
    crate::atomic_file::remove_stale_temporaries(&points_dir);
    write_atomic(
        &out.join("sweep.json"),
        (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").as_bytes(),
    )?;

    let path_of = |p: usize| points_dir.join(record_name(p));
    let mine = manifest.fingerprints.len();
    let mut todo: Vec<(usize, Fingerprint)> = Vec::new();
    for (p, fp) in manifest.listed() {
        if read_record(&path_of(p))?.is_none_or(|r| r.fingerprint != fp) {
            todo.push((p, fp));
        }
    }
    let reused = mine - todo.len();
    let limit = opts.limit.unwrap_or(usize::MAX);
    let total = todo.len().min(limit) as u64 * replicates;
    let mut computed = 0;
    for &(p, fp) in todo.iter().take(limit) {
        // Applied again rather than kept from validation: a grid's scenarios would take
        // gigabytes, its fingerprints megabytes.
        let overrides = point(axes, zip, p);
        let Some(point) = simulate_point(template, &overrides, replicates, seed, true, cancel)? else {
            break;
        };
        let record = PointRecord::new(
            p,
            fp,
            overrides.iter().map(|o| (o.key.clone(), o.value)).collect(),
            metrics(
                &point.truth,
                &point.layout,
                &point.summary,
                point.never_better.as_ref(),
                point.no_boundary,
            ),
        );
        let json = serde_json::to_string(&record).expect("a point record serialises") + "\n";
        write_atomic(&path_of(p), json.as_bytes())?;
        computed += 1;
        progress(computed as u64 * replicates, total);
    }
    // Every listed point is in once none is left to do; a shard's directory never holds the
    // whole grid (`merge` joins them).
    let complete = manifest.shard.is_none() && todo.len() <= limit && mine == n && computed == todo.len();
    let tables = complete.then(|| Tables { manifest, base, dir: out.clone() });
    Ok(SweepOutcome { out, points: mine, reused, computed, tables })
}

/// One point of a sweep: the scenario with `overrides`, simulated with `seed` (the same seed at
/// every point: common random numbers, so that power curves are smooth). The explorer's curves
/// are made of these too (without the never-better copy: `with_boundary` false). `Ok(None)`
/// when cancelled.
pub(crate) fn simulate_point(
    template: &Template,
    overrides: &[Override],
    replicates: u64,
    seed: u64,
    with_boundary: bool,
    cancel: &AtomicBool,
) -> Result<Option<Point>, ScenarioError> {
    let (scenario, _) = template.apply(overrides)?;
    let sc = &scenario;
    let boundary = if with_boundary { never_better::at_point(template, overrides, sc)? } else { None };
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    let run = Run { scenario: sc, layout: &layout, replicates, seed, progress: None };
    let Some(summary) = simulate_until::<Summary>(&run, None, cancel) else { return Ok(None) };
    let no_boundary = matches!(boundary, Some(PointBoundary::NotOnPath(_)));
    let never_better = match boundary {
        Some(PointBoundary::Solved(b)) => {
            let seed = crate::rng::companion_seed(seed, "never_better");
            let run = Run { scenario: &b.scenario, layout: &layout, replicates, seed, progress: None };
            let Some(s) = simulate_until::<Summary>(&run, None, cancel) else { return Ok(None) };
            Some((*b, s))
        }
        // Already never better: its own trials are the boundary's.
        Some(PointBoundary::Itself(b)) => Some((*b, summary.clone())),
        Some(PointBoundary::NotOnPath(_)) | None => None,
    };
    Ok(Some(Point { truth, layout, summary, never_better, no_boundary }))
}

/// One simulated point: its truth, layout and summary, and its never-better boundary's copy.
pub(crate) struct Point {
    pub truth: Truth,
    pub layout: Layout,
    pub summary: Summary,
    pub never_better: Option<(never_better::Boundary, Summary)>,
    /// With `[analysis.never_better]`: this point's path has no boundary.
    pub no_boundary: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_kinds_render_the_messages_users_read() {
        let e = SweepInput::Unlisted { unlisted: 2, points: 10, first: 3 };
        assert_eq!(
            e.to_string(),
            "2 of 10 points are in none of the directories (first: point 3); run the missing shards first"
        );
        let e = SweepInput::NotOneSweep {
            first: "a".into(),
            other: "b".into(),
            why: "their scenarios differ".into(),
        };
        assert_eq!(e.to_string(), "a and b are not shards of the same sweep (their scenarios differ)");
        assert_eq!(
            SweepInput::Shard { i: 0, shards: 2 }.to_string(),
            "--shard 0/2: expected I/N with 1 ≤ I ≤ N"
        );
    }
}
