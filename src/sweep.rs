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

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::engine::{ENGINE_VERSION, Layout, Run, simulate};
use crate::io::{IoError, create_dir, write_atomic};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Scenario, ScenarioError};
use crate::summary::{Proportion, Summary};
use crate::truth::Truth;

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<f64>,
}

impl Axis {
    /// Parses `KEY=VALUES`: a list `100,200,300` or an inclusive range `100:400:50`.
    pub fn parse(arg: &str) -> Result<Axis, String> {
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUES (e.g. design.n=100:400:50), found {arg:?}"))?;
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(format!("no key before `=` in {arg:?}"));
        }
        Ok(Axis { values: parse_values(values.trim()).map_err(|m| format!("`{key}`: {m}"))?, key })
    }
}

/// `a,b,c` or `a:b:s` (a, a+s, … up to and including b when b is on the grid).
pub fn parse_values(s: &str) -> Result<Vec<f64>, String> {
    let num = |x: &str| -> Result<f64, String> {
        let v: f64 = x.trim().parse().map_err(|_| format!("{x:?} is not a number"))?;
        if v.is_finite() { Ok(v) } else { Err(format!("{x:?} is not a finite number")) }
    };
    let values: Vec<f64> = if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        let [a, b, step] = parts[..] else {
            return Err(format!("expected a range START:END:STEP, found {s:?}"));
        };
        let (a, b, step) = (num(a)?, num(b)?, num(step)?);
        if step <= 0.0 {
            return Err(format!("the step of {s:?} must be > 0"));
        }
        if b < a {
            return Err(format!("the range {s:?} is empty (end before start)"));
        }
        let count = ((b - a) / step + 1e-9).floor() as usize + 1;
        if count > 100_000 {
            return Err(format!("the range {s:?} has {count} values; at most 100000"));
        }
        // Rounded to 12 significant digits, so that 0.1 steps give 0.3, not 0.30000000000000004.
        (0..count)
            .map(|i| format!("{:.12e}", a + i as f64 * step).parse().expect("formatted float parses"))
            .collect()
    } else {
        s.split(',').map(num).collect::<Result<_, _>>()?
    };
    if values.is_empty() {
        return Err("no values".into());
    }
    Ok(values)
}

/// The points of a grid: the cartesian product of the axes (the last axis varying fastest), or
/// with `zip` the i-th value of every axis together.
pub fn points(axes: &[Axis], zip: bool) -> Result<Vec<Vec<Override>>, String> {
    if axes.is_empty() {
        return Err("no swept keys: give --set KEY=VALUES or a [sweep] table".into());
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(format!("`{}` is swept twice", a.key));
        }
    }
    if zip {
        let n = axes[0].values.len();
        if let Some(a) = axes.iter().find(|a| a.values.len() != n) {
            return Err(format!(
                "--zip needs lists of equal length: `{}` has {n} values, `{}` has {}",
                axes[0].key,
                a.key,
                a.values.len()
            ));
        }
        return Ok((0..n)
            .map(|i| axes.iter().map(|a| Override { key: a.key.clone(), value: a.values[i] }).collect())
            .collect());
    }
    let mut out: Vec<Vec<Override>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|p| {
                a.values.iter().map(move |&v| {
                    let mut q = p.clone();
                    q.push(Override { key: a.key.clone(), value: v });
                    q
                })
            })
            .collect();
    }
    Ok(out)
}

/// FNV-1a (64 bit), for fingerprints: stable across versions and platforms.
pub fn fnv64(bytes: &[u8]) -> String {
    format!("{:016x}", crate::rng::fnv1a(bytes))
}

/// What was simulated at a point, as a short string.
pub fn fingerprint(canonical: &str, replicates: u64, seed: u64) -> String {
    fnv64(format!("{ENGINE_VERSION}\n{replicates}\n{seed}\n{canonical}").as_bytes())
}

/// One metric of one point. NaN (not estimable, or no SE) is stored as JSON null.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub metric: String,
    #[serde(deserialize_with = "nan_from_null")]
    pub value: f64,
    #[serde(deserialize_with = "nan_from_null")]
    pub se: f64,
}

fn nan_from_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// A finished point, as stored in `points/<point>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointRecord {
    pub point: usize,
    pub fingerprint: String,
    pub overrides: Vec<(String, f64)>,
    pub metrics: Vec<Metric>,
}

/// The sweep's definition, stored in `sweep.json` so that `merge` can check that shard
/// directories belong to one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scenario: String,
    pub axes: Vec<Axis>,
    pub zip: bool,
    pub replicates: u64,
    pub seed: u64,
    pub engine: String,
    pub fingerprints: Vec<String>,
}

/// The metrics of one simulated point: power and MC SE of each test, true and mean estimated
/// quantities, crossing, what the trial shows, events and the cut.
pub fn metrics(truth: &Truth, layout: &Layout, s: &Summary) -> Vec<Metric> {
    let reps = s.replicates;
    let mut m = Vec::new();
    let mut push = |metric: String, value: f64, se: f64| m.push(Metric { metric, value, se });
    for (i, (name, _)) in layout.tests.iter().enumerate() {
        let p = Proportion::new(s.tests[i].benefit, reps);
        push(format!("power.{name}"), p.estimate, p.se);
        push(format!("not_estimable.{name}"), s.tests[i].not_estimable as f64 / reps as f64, f64::NAN);
    }
    if layout.groups == 2 {
        let c = Proportion::new(s.crossings, reps);
        push("crossing.observed".into(), c.estimate, c.se);
        push("crossing.true".into(), truth.crossing_times.first().copied().unwrap_or(f64::NAN), f64::NAN);
        for (label, k) in [("shows.early_harm", s.early_harm), ("shows.late_benefit", s.late_benefit)] {
            let p = Proportion::new(k, reps);
            push(label.into(), p.estimate, p.se);
        }
        for (label, k) in [
            ("detects.neither", 0),
            ("detects.early_harm_only", 1),
            ("detects.late_benefit_only", 2),
            ("detects.both", 3),
        ] {
            let p = Proportion::new(s.detects[k], reps);
            push(label.into(), p.estimate, p.se);
        }
        for (k, a) in truth.ahr.iter().enumerate() {
            push(format!("truth.ahr[{k}]"), a.ahr, f64::NAN);
        }
        push("truth.ahr_overall".into(), truth.ahr_overall, f64::NAN);
    }
    for (spec, t) in layout.estimates.iter().zip(&s.estimates) {
        if spec.estimate.is_auxiliary() {
            continue;
        }
        let n = t.moments.n as f64;
        push(format!("mean.{}", spec.estimate), t.moments.mean(), t.moments.sd() / n.sqrt());
        if let Some(tv) = spec.truth {
            push(format!("truth.{}", spec.estimate), tv, f64::NAN);
        }
    }
    m
}

#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    pub replicates: Option<u64>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
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
    /// True when every point of the grid is in the output (sweep.csv written).
    pub complete: bool,
}

/// The grid of a template: `--set` arguments if any, else its `[sweep]` table.
pub fn grid_of(template_sc: &Scenario, set: &[String], zip: bool) -> Result<(Vec<Axis>, bool), SweepError> {
    let (items, zip) = if set.is_empty() {
        match &template_sc.sweep {
            Some((items, z)) => (items.clone(), *z || zip),
            None => {
                return Err(SweepError::Input(
                    "no swept keys: give --set KEY=VALUES or a [sweep] table".into(),
                ));
            }
        }
    } else {
        (set.to_vec(), zip)
    };
    let axes =
        items.iter().map(|s| Axis::parse(s)).collect::<Result<Vec<_>, _>>().map_err(SweepError::Input)?;
    Ok((axes, zip))
}

fn read_record(path: &Path) -> Option<PointRecord> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Runs (or resumes) a sweep and writes its outputs.
pub fn run_sweep(
    template: &Template,
    axes: &[Axis],
    zip: bool,
    opts: &SweepOptions,
    mut progress: impl FnMut(u64, u64),
) -> Result<SweepOutcome, SweepError> {
    let (base, _) = template.apply(&[])?;
    let replicates = opts.replicates.unwrap_or(base.simulation.replicates);
    let seed = opts.seed.unwrap_or(base.simulation.seed);
    let grid = points(axes, zip).map_err(SweepError::Input)?;
    for a in axes {
        template.check_key(&a.key)?;
    }
    if let Some((i, n)) = opts.shard
        && !(n >= 1 && (1..=n).contains(&i))
    {
        return Err(SweepError::Input(format!("--shard {i}/{n}: expected I/N with 1 ≤ I ≤ N")));
    }
    // Validate every point before running any.
    let mut scenarios = Vec::with_capacity(grid.len());
    for overrides in &grid {
        let (sc, canonical) = template.apply(overrides)?;
        scenarios.push((sc, fingerprint(&canonical, replicates, seed)));
    }
    let out = opts.out.clone().unwrap_or_else(|| Path::new("results").join(format!("{}_sweep", base.name)));
    let manifest = Manifest {
        // Canonical, so that shards started from different directories or spellings merge.
        scenario: std::fs::canonicalize(template.path())
            .unwrap_or_else(|_| template.path().to_path_buf())
            .display()
            .to_string(),
        axes: axes.to_vec(),
        zip,
        replicates,
        seed,
        engine: ENGINE_VERSION.to_string(),
        fingerprints: scenarios.iter().map(|(_, f)| f.clone()).collect(),
    };
    let points_dir = out.join("points");
    create_dir(&points_dir)?;
    // A killed run may leave the atomic writer's temporary files behind: never a point record
    // (those are renamed into place whole), so they can go.
    if let Ok(entries) = std::fs::read_dir(&points_dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    write_atomic(
        &out.join("sweep.json"),
        (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").as_bytes(),
    )?;

    let mine: Vec<usize> =
        (0..grid.len()).filter(|p| opts.shard.is_none_or(|(i, n)| p % n == i - 1)).collect();
    let path_of = |p: usize| points_dir.join(format!("{p:06}.json"));
    let todo: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&p| read_record(&path_of(p)).is_none_or(|r| r.fingerprint != scenarios[p].1))
        .collect();
    let reused = mine.len() - todo.len();
    let total = todo.len().min(opts.limit.unwrap_or(usize::MAX)) as u64 * replicates;
    let mut computed = 0;
    for &p in todo.iter().take(opts.limit.unwrap_or(usize::MAX)) {
        let (sc, fp) = &scenarios[p];
        let truth = Truth::compute(sc);
        let layout = Layout::new(sc, &truth);
        let summary =
            simulate(&Run { scenario: sc, layout: &layout, replicates, seed, progress: None }, None);
        let record = PointRecord {
            point: p,
            fingerprint: fp.clone(),
            overrides: grid[p].iter().map(|o| (o.key.clone(), o.value)).collect(),
            metrics: metrics(&truth, &layout, &summary),
        };
        let json = serde_json::to_string(&record).expect("a point record serialises") + "\n";
        write_atomic(&path_of(p), json.as_bytes())?;
        computed += 1;
        progress(computed as u64 * replicates, total);
    }
    let complete =
        (0..grid.len()).all(|p| read_record(&path_of(p)).is_some_and(|r| r.fingerprint == scenarios[p].1));
    if complete {
        let records: Vec<PointRecord> = (0..grid.len()).filter_map(|p| read_record(&path_of(p))).collect();
        write_tables(&out, &manifest, records, &base)?;
    }
    Ok(SweepOutcome { out, points: mine.len(), reused, computed, complete })
}

/// Joins shard directories into `out`: checks they are one sweep, copies the point records and
/// writes the tables (byte-identical to an unsplit run).
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepOutcome, SweepError> {
    let read_manifest = |d: &Path| -> Result<Manifest, SweepError> {
        let p = d.join("sweep.json");
        let text = std::fs::read_to_string(&p)
            .map_err(|e| SweepError::Input(format!("{}: not a sweep directory ({e})", d.display())))?;
        serde_json::from_str(&text).map_err(|e| SweepError::Input(format!("{}: {e}", p.display())))
    };
    let first = dirs.first().ok_or_else(|| SweepError::Input("no directories to merge".into()))?;
    let manifest = read_manifest(first)?;
    let mut records: BTreeMap<usize, PointRecord> = BTreeMap::new();
    for d in dirs {
        let m = read_manifest(d)?;
        // The fingerprints pin what was simulated; where the scenario file lives does not matter.
        if (Manifest { scenario: manifest.scenario.clone(), ..m.clone() }) != manifest {
            return Err(SweepError::Input(format!(
                "{} and {} are not shards of the same sweep (grid, replicates, seed or engine differ)",
                first.display(),
                d.display()
            )));
        }
        for (p, fp) in m.fingerprints.iter().enumerate() {
            if let Some(r) = read_record(&d.join("points").join(format!("{p:06}.json")))
                && &r.fingerprint == fp
            {
                records.insert(p, r);
            }
        }
    }
    let missing: Vec<usize> = (0..manifest.fingerprints.len()).filter(|p| !records.contains_key(p)).collect();
    if !missing.is_empty() {
        return Err(SweepError::Input(format!(
            "{} of {} points are missing from the directories (first: point {}); run the missing shards first",
            missing.len(),
            manifest.fingerprints.len(),
            missing[0]
        )));
    }
    let template = Template::from_path(Path::new(&manifest.scenario))?;
    let (base, _) = template.apply(&[])?;
    create_dir(&out.join("points"))?;
    write_atomic(
        &out.join("sweep.json"),
        (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").as_bytes(),
    )?;
    for (p, r) in &records {
        let json = serde_json::to_string(r).expect("a point record serialises") + "\n";
        write_atomic(&out.join("points").join(format!("{p:06}.json")), json.as_bytes())?;
    }
    let records: Vec<PointRecord> = records.into_values().collect();
    let n = records.len();
    write_tables(out, &manifest, records, &base)?;
    Ok(SweepOutcome { out: out.to_path_buf(), points: n, reused: n, computed: 0, complete: true })
}

fn write_tables(
    out: &Path,
    manifest: &Manifest,
    mut records: Vec<PointRecord>,
    base: &Scenario,
) -> Result<(), SweepError> {
    use crate::report::sweep as rs;
    // A reused record was simulated for the same scenario (its fingerprint says so) but perhaps
    // reached by other overrides (keys given in another order, or a default spelt out): label it
    // with this grid's keys and values.
    let grid = points(&manifest.axes, manifest.zip).map_err(SweepError::Input)?;
    for r in &mut records {
        r.overrides = grid[r.point].iter().map(|o| (o.key.clone(), o.value)).collect();
    }
    let records = &records[..];
    write_atomic(
        &out.join("sweep.csv"),
        &rs::csv(manifest, records).map_err(|e| SweepError::Other(e.to_string()))?,
    )?;
    write_atomic(&out.join("sweep.md"), rs::markdown(manifest, records, base).as_bytes())?;
    for (name, svg) in rs::plots(manifest, records, base).map_err(SweepError::Other)? {
        write_atomic(&out.join(name), svg.as_bytes())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_their_end_on_the_grid() {
        assert_eq!(
            parse_values("100:400:50").unwrap(),
            vec![100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0]
        );
        assert_eq!(parse_values("0.1:0.3:0.1").unwrap(), vec![0.1, 0.2, 0.3]);
        assert_eq!(parse_values("1:2:0.3").unwrap(), vec![1.0, 1.3, 1.6, 1.9]);
        assert_eq!(parse_values("100,200, 300").unwrap(), vec![100.0, 200.0, 300.0]);
        assert!(parse_values("5:1:1").unwrap_err().contains("empty"));
        assert!(parse_values("1:5:0").is_err());
        assert!(parse_values("a,b").is_err());
    }

    #[test]
    fn cartesian_and_zipped_grids() {
        let a = Axis::parse("x=1,2").unwrap();
        let b = Axis::parse("y=10,20,30").unwrap();
        let g = points(&[a.clone(), b.clone()], false).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!((g[1][0].value, g[1][1].value), (1.0, 20.0), "last axis fastest");
        assert!(points(&[a.clone(), b], true).unwrap_err().contains("equal length"));
        let c = Axis::parse("z=5,6").unwrap();
        let z = points(&[a, c], true).unwrap();
        assert_eq!(z.len(), 2);
        assert_eq!((z[1][0].value, z[1][1].value), (2.0, 6.0));
    }
}
