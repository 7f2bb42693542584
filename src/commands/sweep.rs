//! `trialsim sweep`: a grid of overrides, resumably, optionally one shard of it → point records,
//! then (once every point is in) sweep.csv, sweep.md and the plots.

use crate::cli::Simulate;
use crate::scenario::overrides::Template;
use crate::sweep::{SweepOutcome, SweepSettings, grid_of, run_sweep};

use super::{Error, Settings, check_simulate};

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
        Some(tables) => crate::embed::write_sweep_tables(&outcome.out, tables)?,
        None => Vec::new(),
    };
    crate::embed::remove_stale_tables(&outcome.out, &written)?;
    eprintln!("sweep: {} points, {} reused, {} computed", outcome.points, outcome.reused, outcome.computed);
    Ok(())
}
