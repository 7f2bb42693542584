//! The point store: each finished point of a sweep is one JSON record in `DIR/points/`, written
//! atomically, with a fingerprint of what was simulated; `DIR/sweep.json` (the manifest) says
//! which sweep the records belong to.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::grid::Axis;
use super::{SweepError, SweepInput};
use crate::engine::{ENGINE_VERSION, Layout};
use crate::summary::{Proportion, Summary};
use crate::truth::Truth;
use crate::truth::never_better::Boundary;

/// What was simulated at a point: FNV-1a (64 bit, stable across versions and platforms) of the
/// engine version, replicates, seed and canonical scenario. Written as 16 hex digits; held as
/// the number, so a manifest of 10⁷ points takes 80 MB, not half a gigabyte of strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub u64);

impl std::fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16).ok().filter(|_| text.len() == 16).map(Fingerprint).ok_or_else(|| {
            serde::de::Error::custom(format!("a fingerprint is 16 hex digits, found {text:?}"))
        })
    }
}

/// What was simulated at a point.
pub fn fingerprint(canonical: &str, replicates: u64, seed: u64) -> Fingerprint {
    Fingerprint(crate::rng::fnv1a(format!("{ENGINE_VERSION}\n{replicates}\n{seed}\n{canonical}").as_bytes()))
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
    pub fingerprint: Fingerprint,
    pub overrides: Vec<(String, f64)>,
    pub metrics: Vec<Metric>,
    /// [`checksum`] of the point, its fingerprint and its metrics: a value edited by hand (or
    /// damaged) no longer matches, and `merge` and a resumed sweep refuse the record. Absent in
    /// records written before it was kept; those are refused too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Fingerprint>,
}

impl PointRecord {
    /// A record of these results, with its checksum.
    pub fn new(
        point: usize,
        fingerprint: Fingerprint,
        overrides: Vec<(String, f64)>,
        metrics: Vec<Metric>,
    ) -> Self {
        let mut r = PointRecord { point, fingerprint, overrides, metrics, checksum: None };
        r.checksum = Some(checksum(&r));
        r
    }
}

/// FNV-1a of a record's point, fingerprint and metrics as JSON (the form they are stored in, so
/// that the check reads back exactly what was written). Not a signature: it catches an edit or a
/// damaged file, not a forger.
pub fn checksum(r: &PointRecord) -> Fingerprint {
    let metrics = serde_json::to_string(&r.metrics).expect("metrics serialise");
    Fingerprint(crate::rng::fnv1a(format!("{}\n{}\n{metrics}", r.point, r.fingerprint).as_bytes()))
}

/// The largest point record read (a record is about 9 KB; monitoring adds a few per look).
pub const MAX_RECORD_BYTES: u64 = 16 << 20;
/// The largest manifest read: 10⁷ fingerprints of 19 bytes each, and the scenario.
pub const MAX_MANIFEST_BYTES: u64 = 256 << 20;

/// The sweep's definition, stored in `sweep.json` so that `merge` can check that shard
/// directories belong to one sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scenario: String,
    /// The scenario file's document without overrides (TOML): `merge` rebuilds the tables'
    /// scenario from it, on a machine where the file is elsewhere or gone. Empty in manifests
    /// written before it was kept (then `merge` reads `scenario`).
    #[serde(default)]
    pub document: String,
    pub axes: Vec<Axis>,
    pub zip: bool,
    pub replicates: u64,
    pub seed: u64,
    pub engine: String,
    /// The fingerprint of the scenario without overrides: shards of one sweep share it (their
    /// fingerprint lists are disjoint, so they cannot be compared). Empty in manifests written
    /// before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Fingerprint>,
    /// `[I, N]` for the directory of shard I of N: then `fingerprints` lists only its points,
    /// I − 1, I − 1 + N, …, so that a shard's manifest is the size of its share. Absent for a
    /// whole sweep (and in manifests written before shards listed only their own points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<[usize; 2]>,
    pub fingerprints: Vec<Fingerprint>,
}

impl Manifest {
    /// The points this manifest's `fingerprints` are for, in order: every point of a whole sweep,
    /// or a shard's own.
    pub(crate) fn listed_points(&self) -> impl Iterator<Item = usize> + '_ {
        let (first, step) = match self.shard {
            Some([i, n]) => (i - 1, n),
            None => (0, 1),
        };
        (first..).step_by(step).zip(&self.fingerprints).map(|(p, _)| p)
    }

    /// The manifest's fingerprint of each point it lists, as (point, fingerprint).
    pub fn listed(&self) -> impl Iterator<Item = (usize, Fingerprint)> + '_ {
        self.listed_points().zip(self.fingerprints.iter().copied())
    }
}

/// The metrics of one simulated point: power and MC SE of each test, true and mean estimated
/// quantities, crossing, what the trial shows, events and the cut; with `[analysis.never_better]`
/// the boundary and each test's rate there (`no_boundary`: this point's path has none, and
/// `never_better.value` is NaN).
pub fn metrics(
    truth: &Truth,
    layout: &Layout,
    s: &Summary,
    never_better: Option<&(Boundary, Summary)>,
    no_boundary: bool,
) -> Vec<Metric> {
    let reps = s.replicates;
    let mut m = Vec::new();
    let mut push = |metric: String, value: f64, se: f64| m.push(Metric { metric, value, se });
    for (i, (name, _)) in layout.tests.iter().enumerate() {
        let p = Proportion::new(s.tests[i].benefit, reps);
        push(format!("power.{name}"), p.estimate, p.se);
        push(format!("not_estimable.{name}"), s.tests[i].not_estimable as f64 / reps as f64, f64::NAN);
    }
    // How often each test declares benefit at this point's never-better boundary.
    if no_boundary {
        push("never_better.value".into(), f64::NAN, f64::NAN);
    }
    if let Some((b, nb)) = never_better {
        push("never_better.value".into(), b.value, f64::NAN);
        push("never_better.until".into(), b.until, f64::NAN);
        for (i, (name, _)) in layout.tests.iter().enumerate() {
            let p = Proportion::new(nb.tests[i].benefit, nb.replicates);
            push(format!("never_better.{name}"), p.estimate, p.se);
        }
    }
    if layout.groups == 2 {
        let c = Proportion::new(s.crossings, reps);
        push("crossing.observed".into(), c.estimate, c.se);
        // The truth of the observed crossing: the rule on the true curves (the equality time beside it).
        push("crossing.true".into(), truth.crossing_by_rule.unwrap_or(f64::NAN), f64::NAN);
        push(
            "crossing.curves_equal".into(),
            truth.crossing_times.first().copied().unwrap_or(f64::NAN),
            f64::NAN,
        );
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
        // When the analysis comes (with an enrolment rate or an event target, it moves with the
        // point), and the long-term benefit on the primary endpoint to the horizon.
        push("truth.expected_cut".into(), truth.expected_cut.unwrap_or(f64::NAN), f64::NAN);
        if let Some(lt) = truth.long_term.as_ref()
            && let Some(p) = lt.primary()
        {
            push("truth.long_term.gain".into(), p.gain.last().copied().unwrap_or(f64::NAN), f64::NAN);
            push("truth.long_term.break_even".into(), p.break_even.unwrap_or(f64::NAN), f64::NAN);
        }
    }
    if let (Some(monitor), Some(tally)) = (&layout.monitor, &s.monitoring) {
        for (mt, t) in monitor.tests.iter().zip(&tally.tests) {
            let name = &mt.name;
            let p = Proportion::new(t.rejected, reps);
            push(format!("monitoring.{name}.power"), p.estimate, p.se);
            let f = Proportion::new(t.fixed_rejects, reps);
            push(format!("monitoring.{name}.fixed_power"), f.estimate, f.se);
            for (reason, k) in [("futility", t.lost[0]), ("harm", t.lost[1]), ("safety", t.lost[2])] {
                let l = Proportion::new(k, reps);
                push(format!("monitoring.{name}.lost.{reason}"), l.estimate, l.se);
            }
            for (label, m) in [
                ("expected_n", &t.enrolled),
                ("expected_events", &t.events),
                ("expected_duration", &t.duration),
            ] {
                push(format!("monitoring.{name}.{label}"), m.mean(), m.sd() / (m.n as f64).sqrt());
            }
            for (k, l) in t.looks.iter().enumerate() {
                let stop = Proportion::new(l.efficacy + l.futility + l.harm, reps);
                push(format!("monitoring.{name}.stop[{k}]"), stop.estimate, stop.se);
            }
        }
        if let Some(safety) = &tally.safety {
            let p = Proportion::new(safety.stops.iter().sum(), reps);
            push("monitoring.safety.p_stop".into(), p.estimate, p.se);
        }
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

/// The point record in `path`: `Ok(None)` when there is none to read (missing, torn by a kill
/// before the atomic writer existed, or not a record: the point is simulated again), an error
/// when it is a record whose results do not match its checksum or that has none.
pub fn read_record(path: &Path) -> Result<Option<PointRecord>, SweepError> {
    let Ok(text) = crate::atomic_file::read_capped_text(path, MAX_RECORD_BYTES) else { return Ok(None) };
    let Ok(r) = serde_json::from_str::<PointRecord>(&text) else { return Ok(None) };
    match r.checksum {
        Some(c) if c == checksum(&r) => Ok(Some(r)),
        Some(_) => Err(SweepInput::ChecksumMismatch { path: path.to_path_buf() }.into()),
        None => Err(SweepInput::NoChecksum { path: path.to_path_buf() }.into()),
    }
}
