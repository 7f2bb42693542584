//! `trialsim sweep`: a grid of overrides, resumably, optionally one shard of it → point records,
//! then (once every point is in) sweep.csv, sweep.md and the plots.

use std::path::Path;

use crate::cli::Simulate;
use crate::report::sweep as render;
use crate::scenario::overrides::Template;
use crate::sweep::{SweepOutcome, SweepSettings, Tables, grid_of, run_sweep};

use super::{Error, File, Settings, check_simulate, write_files};

/// `I/N` with 1 ≤ I ≤ N.
pub fn parse_shard(s: &str) -> Result<(usize, usize), Error> {
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
    let grid = crate::sweep::validate(&template, &axes, zip, &sweep)?;
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
    if let Some(tables) = &outcome.tables {
        write_files(&files(&outcome.out, tables)?)?;
    }
    eprintln!("sweep: {} points, {} reused, {} computed", outcome.points, outcome.reused, outcome.computed);
    Ok(())
}

/// sweep.csv, sweep.md and one plot per test, rendered.
fn files(out: &Path, t: &Tables) -> Result<Vec<File>, Error> {
    let csv = render::csv(&t.manifest, &t.records).map_err(Error::failure)?;
    let mut files = vec![
        (out.join("sweep.csv"), csv),
        (out.join("sweep.md"), render::markdown(&t.manifest, &t.records, &t.base).into_bytes()),
    ];
    for (name, svg) in
        render::plots(&t.manifest, &t.records, &t.base).map_err(|m| Error::failure(anyhow::anyhow!(m)))?
    {
        files.push((out.join(name), svg.into_bytes()));
    }
    Ok(files)
}
