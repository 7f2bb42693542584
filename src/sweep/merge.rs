//! `trialsim merge`: shard directories joined into the sweep an unsplit run writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::store::{Manifest, PointRecord, read_record};
use super::{SweepError, SweepOutcome, Tables};
use crate::io::{create_dir, write_atomic};
use crate::scenario::Scenario;
use crate::scenario::overrides::Template;

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
        // The fingerprints pin what was simulated; where the scenario file lives, and its labels
        // (which no fingerprint holds), do not matter: the first directory's are used.
        if (Manifest {
            scenario: manifest.scenario.clone(),
            document: manifest.document.clone(),
            ..m.clone()
        }) != manifest
        {
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
    // The scenario as the shards saw it, from their own manifest: a merge job on another node
    // (or after the file moved) has no scenario file to read.
    let base = if manifest.document.is_empty() {
        Template::from_path(Path::new(&manifest.scenario))?.apply(&[])?.0
    } else {
        Scenario::from_toml(&manifest.document, Path::new(&manifest.scenario))?
    };
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
    let tables = Tables::new(manifest, records, base)?;
    Ok(SweepOutcome { out: out.to_path_buf(), points: n, reused: n, computed: 0, tables: Some(tables) })
}
