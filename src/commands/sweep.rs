//! `trialsim sweep`: a grid of overrides, resumably, optionally one shard of it → point records,
//! then (once every point is in) sweep.csv, sweep.md and the plots.

use std::path::{Path, PathBuf};

use crate::cli::Simulate;
use crate::report::sweep as render;
use crate::scenario::overrides::Template;
use crate::sweep::{PointRecord, SweepOutcome, SweepSettings, Tables, grid_of, run_sweep};

use super::{Error, File, Settings, check_simulate, write_files};
use crate::report::html::{self, About};

/// `I/N` with 1 ≤ I ≤ N.
pub(crate) fn parse_shard(s: &str) -> Result<(usize, usize), Error> {
    let bad = || Error::Argument(format!("--shard: expected I/N with 1 ≤ I ≤ N, found {s:?}"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

pub fn command(
    sim: &Simulate,
    set: &[String],
    zip: bool,
    shard: Option<String>,
    limit: Option<usize>,
) -> Result<(), Error> {
    check_simulate(sim)?;
    let shard = shard.map(|s| parse_shard(&s)).transpose()?;
    let loaded = super::load(&sim.scenario)?;
    super::refuse_prior_rule(&loaded.scenario, &sim.scenario, "sweep")?;
    let base = loaded.scenario;
    let template = Template::from_path(&sim.scenario)?;
    let (axes, zip) = grid_of(loaded.sweep.as_ref(), set, zip)?;
    let settings = Settings::resolve(sim, &base.simulation, &format!("{}_sweep", base.name));
    let sweep = SweepSettings {
        replicates: settings.replicates,
        seed: settings.seed,
        out: settings.out.clone(),
        shard,
        limit,
    };
    // Every point valid, then one sweep per directory at a time (shards of one grid write to
    // their own directories).
    let grid = settings.in_pool(|| crate::sweep::validate(&template, &axes, zip, &sweep))??;
    let _out = settings.prepare_out()?;
    let bar = settings.progress(0);
    let outcome = settings.in_pool(|| {
        run_sweep(&template, &axes, zip, &sweep, grid, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
    })??;
    bar.finish_and_clear();
    finish(&outcome)?;
    if !outcome.complete() {
        eprintln!(
            "sweep incomplete: rerun the same command to continue{}",
            if shard.is_some() { ", or `trialsim merge` the shard directories" } else { "" }
        );
    }
    settings.done();
    Ok(())
}

/// Writes the tables of a complete sweep, then says what was done (even with --quiet: a
/// scheduler's log shows what each task did).
pub fn finish(outcome: &SweepOutcome) -> Result<(), Error> {
    let written = match &outcome.tables {
        Some(tables) => write_tables(&outcome.out, tables)?,
        None => Vec::new(),
    };
    remove_stale_tables(&outcome.out, &written)?;
    eprintln!("sweep: {} points, {} reused, {} computed", outcome.points, outcome.reused, outcome.computed);
    Ok(())
}

/// Removes the tables an earlier run left in `out` that this one did not write (`written`:
/// their paths): after an incomplete rerun with other replicates, the old sweep.csv, sweep.md,
/// report.html and plots stood beside a sweep.json that disagreed. As `run` does, every table
/// in the directory describes the sweep its manifest names, or is absent.
fn remove_stale_tables(out: &Path, written: &[PathBuf]) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(()) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = matches!(name.as_str(), "sweep.csv" | "sweep.md" | "report.html")
            || (name.starts_with("power_") && name.ends_with(".svg"));
        let path = e.path();
        if ours && !written.contains(&path) {
            std::fs::remove_file(&path).map_err(|err| {
                Error::failure(
                    anyhow::Error::new(err).context(format!("removing the old {}", path.display())),
                )
            })?;
        }
    }
    Ok(())
}

/// sweep.csv (streamed from the point records, one at a time), then sweep.md and one plot per
/// test (from what they read of each record, for sweeps of at most `TABLE_POINTS`). Returns the
/// paths written.
fn write_tables(out: &Path, t: &Tables) -> Result<Vec<PathBuf>, Error> {
    crate::atomic_file::create_dir(out)?;
    crate::atomic_file::write_atomic_with(&out.join("sweep.csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(render::csv_header(&t.manifest))?;
        for r in t.records() {
            render::csv_rows(&mut c, &r.map_err(std::io::Error::other)?)?;
        }
        c.flush()
    })?;
    let records: Vec<PointRecord> = if t.len() <= render::TABLE_POINTS {
        t.records().map(|r| r.map(render::for_tables)).collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let rendered = render::files(&t.manifest, t.len(), &records, &t.base)
        .map_err(|e| Error::failure(anyhow::Error::new(e).context("writing a report")))?;
    let mut files: Vec<File> = rendered.into_iter().map(|(name, bytes)| (out.join(name), bytes)).collect();
    super::with_report(&mut files, &out.join("sweep.md"), &about(&t.manifest));
    write_files(&files)?;
    let mut written: Vec<PathBuf> = files.into_iter().map(|(path, _)| path).collect();
    written.push(out.join("sweep.csv"));
    Ok(written)
}

/// What a sweep's report.html says of how it was made, from its manifest alone: `sweep` and
/// `merge` write the same page.
fn about(m: &crate::sweep::Manifest) -> About {
    let mut extra = Vec::new();
    for a in &m.axes {
        let values: Vec<String> = a.values.iter().map(|v| v.to_string()).collect();
        extra.extend(["--set".to_string(), format!("{}={}", a.key, values.join(","))]);
    }
    if m.zip {
        extra.push("--zip".to_string());
    }
    let file = html::file_name(&m.scenario);
    About {
        command: html::command("sweep", &file, m.seed, m.replicates, &extra),
        scenarios: vec![(file, m.document.clone())],
    }
}
