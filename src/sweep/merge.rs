//! `trialsim merge`: shard directories joined into the sweep an unsplit run writes.
//!
//! It streams: each point's record is read from the directory that lists it, checked against
//! its fingerprint and copied, one at a time, so a merge of 10⁷ points holds 10⁷ fingerprints
//! (160 MB) and never the records (about 9 KB each).

use std::path::{Path, PathBuf};

use super::grid::count;
use super::store::{Fingerprint, MAX_MANIFEST_BYTES, Manifest, PointRecord, read_record};
use super::{SweepError, SweepInput, SweepOutcome, Tables, record_name};
use crate::atomic_file::{create_dir, write_atomic};
use crate::scenario::Scenario;
use crate::scenario::overrides::Template;

/// One shard directory and its manifest.
struct Shard {
    dir: PathBuf,
    manifest: Manifest,
}

impl Shard {
    fn read(dir: &Path) -> Result<Shard, SweepError> {
        let p = dir.join("sweep.json");
        let text = crate::atomic_file::read_capped_text(&p, MAX_MANIFEST_BYTES)
            .map_err(|e| SweepInput::NotASweep { dir: dir.to_path_buf(), reason: e.to_string() })?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| bad_manifest(&p, e))?;
        let n = count(&manifest.axes, manifest.zip).map_err(|m| bad_manifest(&p, m))?;
        let expected = match manifest.shard {
            Some([i, shards]) if (1..=shards).contains(&i) => {
                super::grid::share(n, Some((i, shards))).count()
            }
            Some([i, shards]) => {
                return Err(bad_manifest(&p, format!("shard {i}/{shards} is not I/N with 1 ≤ I ≤ N")).into());
            }
            None => n,
        };
        if manifest.fingerprints.len() != expected {
            let problem = format!("lists {} fingerprints for {expected} points", manifest.fingerprints.len());
            return Err(bad_manifest(&p, problem).into());
        }
        Ok(Shard { dir: dir.to_path_buf(), manifest })
    }

    /// This directory's fingerprint of point `p`, if its manifest lists the point.
    fn lists(&self, p: usize) -> Option<Fingerprint> {
        let k = match self.manifest.shard {
            Some([i, shards]) if p % shards == i - 1 => p / shards,
            Some(_) => return None,
            None => p,
        };
        self.manifest.fingerprints.get(k).copied()
    }

    /// Point `p`'s record, when the file holds this sweep's point `p` with fingerprint `fp`; an
    /// error when it holds a record whose checksum fails.
    fn record(&self, p: usize, fp: Fingerprint) -> Result<Option<PointRecord>, SweepError> {
        let r = read_record(&self.dir.join("points").join(record_name(p)))?;
        Ok(r.filter(|r| r.point == p && r.fingerprint == fp))
    }
}

/// Joins shard directories into `out`: checks they are one sweep, copies the point records and
/// leaves the tables to the caller ([`Tables`]), which writes them as an unsplit run does.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<SweepOutcome, SweepError> {
    let shards = dirs.iter().map(|d| Shard::read(d)).collect::<Result<Vec<_>, _>>()?;
    let first = shards.first().ok_or(SweepInput::NothingToMerge)?;
    let m = &first.manifest;
    let not_one = |d: &Path, why: &str| not_one_sweep(&first.dir, d, why);
    // The fingerprints pin what was simulated; where the scenario file lives, and its labels
    // (which no fingerprint holds), do not matter: the first directory's are used.
    for s in &shards[1..] {
        let o = &s.manifest;
        if (&o.axes, o.zip, o.replicates, o.seed, &o.engine)
            != (&m.axes, m.zip, m.replicates, m.seed, &m.engine)
        {
            return Err(not_one(&s.dir, "grid, replicates, seed or engine differ"));
        }
        if let (Some(a), Some(b)) = (m.base, o.base)
            && a != b
        {
            return Err(not_one(&s.dir, "their scenarios differ"));
        }
    }
    let n = count(&m.axes, m.zip)?;
    let fingerprints = fingerprints(&shards, n)?;
    // The scenario as the shards saw it, from their own manifest: a merge job on another node
    // (or after the file moved) has no scenario file to read.
    let base = if m.document.is_empty() {
        Template::from_path(Path::new(&m.scenario))?.apply(&[])?.0
    } else {
        Scenario::from_toml(&m.document, Path::new(&m.scenario))?
    };
    let points = out.join("points");
    // Every shard checked: now the directory, a bad argument if it cannot be made (as `sweep`
    // and `run` say it).
    create_dir(&points)
        .map_err(|e| SweepInput::OutputDirectory { dir: out.to_path_buf(), error: e.error.to_string() })?;
    copy_records(&shards, &fingerprints, &points)?;
    let manifest = Manifest { shard: None, fingerprints, ..m.clone() };
    write_atomic(
        &out.join("sweep.json"),
        (serde_json::to_string_pretty(&manifest).expect("serialises") + "\n").as_bytes(),
    )?;
    let tables = Tables { manifest, base, dir: out.to_path_buf() };
    Ok(SweepOutcome { out: out.to_path_buf(), points: n, reused: n, computed: 0, tables: Some(tables) })
}

/// The error for a sweep.json that cannot be a sweep's manifest.
fn bad_manifest(path: &Path, problem: impl std::fmt::Display) -> SweepInput {
    SweepInput::BadManifest { path: path.to_path_buf(), problem: problem.to_string() }
}

/// The error for two directories that are not one sweep.
fn not_one_sweep(first: &Path, d: &Path, why: &str) -> SweepError {
    SweepError::from(SweepInput::NotOneSweep {
        first: first.to_path_buf(),
        other: d.to_path_buf(),
        why: why.to_string(),
    })
}

/// Each of the `n` points' fingerprints from the directories that list it: the first one's, and
/// any other listing it must agree; every point must be listed.
fn fingerprints(shards: &[Shard], n: usize) -> Result<Vec<Fingerprint>, SweepError> {
    let mut wanted: Vec<Option<Fingerprint>> = vec![None; n];
    for s in shards {
        for (p, fp) in s.manifest.listed() {
            match wanted[p] {
                None => wanted[p] = Some(fp),
                Some(f) if f != fp => {
                    let why = format!("point {p} was simulated from different scenarios");
                    return Err(not_one_sweep(&shards[0].dir, &s.dir, &why));
                }
                Some(_) => {}
            }
        }
    }
    let unlisted = wanted.iter().filter(|f| f.is_none()).count();
    if unlisted > 0 {
        let p = wanted.iter().position(Option::is_none).unwrap_or(0);
        return Err(SweepInput::Unlisted { unlisted, points: n, first: p }.into());
    }
    Ok(wanted.into_iter().flatten().collect())
}

/// Copies each point's finished record (from the first directory that holds it) into `points`;
/// an error naming how many have none.
fn copy_records(shards: &[Shard], fingerprints: &[Fingerprint], points: &Path) -> Result<(), SweepError> {
    let n = fingerprints.len();
    let (mut missing, mut first_missing) = (0, None);
    for (p, &fp) in fingerprints.iter().enumerate() {
        let mut found = None;
        for s in shards.iter().filter(|s| s.lists(p) == Some(fp)) {
            if let Some(r) = s.record(p, fp)? {
                found = Some(r);
                break;
            }
        }
        match found {
            Some(r) => {
                let text = serde_json::to_string(&r).expect("a point record serialises") + "\n";
                write_atomic(&points.join(record_name(p)), text.as_bytes())?
            }
            None => {
                missing += 1;
                first_missing.get_or_insert(p);
            }
        }
    }
    match first_missing {
        None => Ok(()),
        Some(p) => Err(SweepInput::Unfinished { missing, points: n, first: p }.into()),
    }
}
