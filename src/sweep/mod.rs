//! Sweeps: a grid of dotted-key overrides of one scenario, each point simulated with the same
//! seed (common random numbers: replicate r is the same trial at every point as far as it can
//! be), written as one tidy CSV.
//!
//! Nothing is lost: each finished point is written atomically to `DIR/points/<point>.json` with
//! a fingerprint of what was simulated (engine version, the scenario after overrides, replicates,
//! seed); a rerun reuses exactly the points whose fingerprint matches and computes the rest.
//! `--shard I/N` computes the points p with p mod N = I − 1; `merge` joins shard directories into
//! the same `sweep.csv` an unsplit run writes, because both are made from the point records by
//! the same function.

mod grid;
mod merge;
mod store;

use std::path::PathBuf;

pub use grid::{Axis, MAX_POINTS, SweepTable, axes, count, parse_values, point, points, sweep_table};
pub use merge::merge;
pub use store::{Manifest, Metric, PointRecord, fingerprint, fnv64, metrics, read_record};

use crate::engine::{ENGINE_VERSION, Layout, Run, simulate};
use crate::io::{IoError, create_dir, write_atomic};
use crate::scenario::overrides::Template;
use crate::scenario::{Scenario, ScenarioError};
use crate::summary::Summary;
use crate::truth::Truth;

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
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{0}")]
    Other(String),
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

/// A complete sweep: its manifest, every point's record in point order (labelled with this
/// grid's keys and values), and the scenario without overrides.
#[derive(Debug, Clone)]
pub struct Tables {
    pub manifest: Manifest,
    pub records: Vec<PointRecord>,
    pub base: Scenario,
}

impl Tables {
    /// A reused record was simulated for the same scenario (its fingerprint says so) but perhaps
    /// reached by other overrides (keys given in another order, or a default spelt out): it is
    /// labelled with this grid's keys and values.
    pub fn new(
        manifest: Manifest,
        mut records: Vec<PointRecord>,
        base: Scenario,
    ) -> Result<Tables, SweepError> {
        let n = count(&manifest.axes, manifest.zip).map_err(SweepError::Input)?;
        for r in &mut records {
            if r.point >= n {
                return Err(SweepError::Input(format!(
                    "point record {} is outside the grid of {n} points",
                    r.point
                )));
            }
            let at = point(&manifest.axes, manifest.zip, r.point);
            r.overrides = at.into_iter().map(|o| (o.key, o.value)).collect();
        }
        Ok(Tables { manifest, records, base })
    }
}

/// The grid: `--set` arguments if any, else the scenario's `[sweep]` table.
pub fn grid_of(
    table: Option<&SweepTable>,
    set: &[String],
    zip: bool,
) -> Result<(Vec<Axis>, bool), SweepError> {
    let (items, zip) = if set.is_empty() {
        match table {
            Some(t) => (t.set.clone(), t.zip || zip),
            None => {
                return Err(SweepError::Input(
                    "no swept keys: give --set KEY=VALUES or a [sweep] table".into(),
                ));
            }
        }
    } else {
        (set.to_vec(), zip)
    };
    Ok((axes(&items).map_err(SweepError::Input)?, zip))
}

/// Every point of the grid validated, and its fingerprint: what a sweep checks before it creates
/// anything (the command checks it before locking its directory, too). The grid is counted
/// first ([`grid::MAX_POINTS`]); only the fingerprints are kept, not the scenarios.
pub fn validate(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepSettings,
) -> Result<Validated, SweepError> {
    let (replicates, seed) = (opts.replicates, opts.seed);
    let n = count(axes, zip).map_err(SweepError::Input)?;
    for a in axes {
        template.check_key(&a.key)?;
    }
    if let Some((i, shards)) = opts.shard
        && !(shards >= 1 && (1..=shards).contains(&i))
    {
        return Err(SweepError::Input(format!("--shard {i}/{shards}: expected I/N with 1 ≤ I ≤ N")));
    }
    let fingerprints = (0..n)
        .map(|p| {
            let (_, canonical) = template.apply(&point(axes, zip, p))?;
            Ok(fingerprint(&canonical, replicates, seed))
        })
        .collect::<Result<_, SweepError>>()?;
    Ok(Validated { fingerprints })
}

/// A grid whose every point is valid, with each point's fingerprint: made only by [`validate`],
/// so a sweep never runs an unchecked grid, nor checks one twice (10⁶ points take half a
/// minute).
#[derive(Debug, Clone)]
pub struct Validated {
    fingerprints: Vec<String>,
}

/// Runs (or resumes) a sweep and writes its outputs: `grid` is what [`validate`] returned for the
/// same template, axes and settings.
pub fn run_sweep(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepSettings,
    grid: Validated,
    mut progress: impl FnMut(u64, u64),
) -> Result<SweepOutcome, SweepError> {
    let (base, _) = template.apply(&[])?;
    let (replicates, seed) = (opts.replicates, opts.seed);
    let fingerprints = grid.fingerprints;
    let n = fingerprints.len();
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
        fingerprints: fingerprints.clone(),
    };
    let points_dir = out.join("points");
    // Every point is valid: now the directory, a bad argument if it cannot be made.
    create_dir(&points_dir).map_err(|e| {
        SweepError::Input(format!("output directory {}: cannot create or write it: {e}", out.display()))
    })?;
    // A killed run may leave the atomic writer's temporary files behind: never a point record
    // (those are renamed into place whole), so they can go.
    crate::io::remove_stale_temporaries(&points_dir);
    write_atomic(
        &out.join("sweep.json"),
        (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").as_bytes(),
    )?;

    let mine: Vec<usize> =
        (0..n).filter(|p| opts.shard.is_none_or(|(i, shards)| p % shards == i - 1)).collect();
    let path_of = |p: usize| points_dir.join(format!("{p:06}.json"));
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&p| read_record(&path_of(p)).is_none_or(|r| r.fingerprint != fingerprints[p]))
        .collect();
    let reused = mine.len() - todo.len();
    let total = todo.len().min(opts.limit.unwrap_or(usize::MAX)) as u64 * replicates;
    let mut computed = 0;
    for &p in todo.iter().take(opts.limit.unwrap_or(usize::MAX)) {
        // Applied again rather than kept from validation: a grid's scenarios would take
        // gigabytes, its fingerprints megabytes.
        let overrides = point(axes, zip, p);
        let (scenario, _) = template.apply(&overrides)?;
        let (sc, fp) = (&scenario, &fingerprints[p]);
        let truth = Truth::compute(sc);
        let layout = Layout::new(sc, &truth);
        let summary: Summary =
            simulate(&Run { scenario: sc, layout: &layout, replicates, seed, progress: None }, None);
        let record = PointRecord {
            point: p,
            fingerprint: fp.clone(),
            overrides: overrides.iter().map(|o| (o.key.clone(), o.value)).collect(),
            metrics: metrics(&truth, &layout, &summary),
        };
        let json = serde_json::to_string(&record).expect("a point record serialises") + "\n";
        write_atomic(&path_of(p), json.as_bytes())?;
        computed += 1;
        progress(computed as u64 * replicates, total);
    }
    let records: Vec<PointRecord> =
        (0..n).map_while(|p| read_record(&path_of(p)).filter(|r| r.fingerprint == fingerprints[p])).collect();
    let tables = if records.len() == n { Some(Tables::new(manifest, records, base)?) } else { None };
    Ok(SweepOutcome { out, points: mine.len(), reused, computed, tables })
}
