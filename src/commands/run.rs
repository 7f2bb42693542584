//! `trialsim run`: a scenario → its simulation and the identical-arms companion → summary.json,
//! summary.md, survival.svg (and on request replicates.csv, patients.csv).

use std::path::Path;

use crate::atomic_file::{create_dir, write_atomic_with};
use crate::cli::Simulate;
use crate::engine::Layout;
use crate::report::run::{csv as csv_report, headline};
use crate::report::{Results, html};
use crate::run::{SimulateOptions, simulate_scenario};
use crate::scenario::Scenario;
use crate::truth::Truth;
use crate::truth::never_better::Boundary;

use super::{Error, File, Settings, check_simulate, write_files};

pub use crate::run::{NULL_REPLICATES, Simulated};

pub fn command(
    sim: &Simulate,
    export_replicates: bool,
    export_patients: Option<u64>,
    draws: Option<&Path>,
) -> Result<(), Error> {
    check_simulate(sim)?;
    let loaded = super::load(&sim.scenario)?;
    let sc = loaded.scenario;
    let settings = Settings::resolve(sim, &sc.simulation, &sc.name);
    // The draws are read and checked against the scenario before anything is written: the
    // long-term truth over them, and with `[monitoring.committee]` the predictive probability's
    // prior (`--draws`, else the scenario's `[uncertainty]` table).
    let rule_needs_prior =
        sc.monitoring.as_ref().and_then(|m| m.futility.as_ref()).is_some_and(|f| f.needs_prior());
    // The predictive probability is computed for the committee's report or a rule using it.
    let uses_prior = sc.monitoring.as_ref().is_some_and(|m| m.committee.is_some()) || rule_needs_prior;
    let draws_given = match draws {
        Some(f) => Some(read_draws(f)?),
        None => None,
    };
    let prior_source = match (&draws_given, &loaded.uncertainty) {
        (Some(d), _) => Some(d.clone()),
        (None, Some(u)) if uses_prior => Some(crate::assurance::prior_draws(u, settings.seed)),
        (None, _) => None,
    };
    let draw_scenarios = match &prior_source {
        Some(d) => Some(settings.in_pool(|| draw_scenarios(&sim.scenario, d))??),
        None => None,
    };
    let uncertainty = match (&draws_given, &draw_scenarios) {
        (Some(d), Some(scenarios)) => {
            let source = html::file_name(&d.source);
            let lt = settings.in_pool(|| crate::truth::long_term::uncertainty(&source, scenarios))?;
            if lt.is_none() && !uses_prior {
                return Err(Error::Argument(format!(
                    "{}: --draws needs a two-arm scenario with a long-term horizon, or [monitoring.committee]",
                    sim.scenario.display()
                )));
            }
            lt
        }
        _ => None,
    };
    let prior: Option<Vec<Scenario>> =
        draw_scenarios.filter(|_| uses_prior).map(|s| s.into_iter().flatten().collect());
    if rule_needs_prior && prior.is_none() {
        return Err(Error::Argument(format!(
            "{}: `monitoring.futility.rule = \"predictive_probability\"` needs a prior's draws: give `--draws FILE` (e.g. a calibration's draws.csv) or an `[uncertainty]` table",
            sim.scenario.display()
        )));
    }
    let extra = match draws {
        Some(f) => vec!["--draws".to_string(), html::file_name(&f.to_string_lossy())],
        None => Vec::new(),
    };
    let about = settings.about("run", &sim.scenario, &loaded.text, &extra);
    if let Some(k) = export_patients
        && k > settings.replicates
    {
        return Err(Error::Argument(format!(
            "--export-patients: expected at most the {} replicates simulated, found {k}",
            settings.replicates
        )));
    }
    let _out = settings.prepare_out()?;
    // summary.json is written last and marks a complete set: an old one goes first, so that an
    // interrupted run never leaves it beside newer files.
    let summary = settings.out.join("summary.json");
    if summary.exists() {
        std::fs::remove_file(&summary).map_err(|e| {
            Error::failure(anyhow::Error::new(e).context(format!("removing the old {}", summary.display())))
        })?;
    }
    super::warn_beyond_follow_up(&sc);
    let context = format!("running {}", sim.scenario.display());
    let boundary = loaded.never_better.as_ref();
    let extras = Extras { boundary, long_term_draws: uncertainty.as_ref(), prior: prior.as_deref() };
    let headline = run(&sc, &extras, &about, &settings, export_replicates, export_patients)
        .map_err(|e| e.context(context))?;
    // The headline on stdout (the figures a user reads first, then where the files are);
    // `--quiet` prints nothing.
    if !settings.quiet {
        print!("{headline}");
    }
    Ok(())
}

/// Reads a draws file (`--draws`) with its errors as the command's.
fn read_draws(file: &Path) -> Result<crate::assurance::Draws, Error> {
    Ok(crate::assurance::read_draws(file)?)
}

/// Every draw's scenario (`embed::draw_scenarios`) of the scenario file.
fn draw_scenarios(scenario: &Path, draws: &crate::assurance::Draws) -> Result<Vec<Option<Scenario>>, Error> {
    let template = crate::scenario::overrides::Template::from_path(scenario)?;
    Ok(crate::embed::draw_scenarios(&template, draws)?)
}

/// What a run adds to the scenario: the never-better boundary, the long-term truth over draws,
/// and the predictive probability's prior.
struct Extras<'a> {
    boundary: Option<&'a Boundary>,
    long_term_draws: Option<&'a crate::truth::long_term::Uncertainty>,
    prior: Option<&'a [Scenario]>,
}

fn run(
    sc: &Scenario,
    extras: &Extras,
    about: &html::About,
    settings: &Settings,
    export_replicates: bool,
    export_patients: Option<u64>,
) -> Result<String, Error> {
    let Extras { boundary, long_term_draws, prior } = *extras;
    let (replicates, seed, out) = (settings.replicates, settings.seed, &settings.out);
    let null_reps = crate::run::null_replicates(sc, replicates, true);
    let boundary_reps = if boundary.is_some() { replicates } else { 0 };
    let bar = settings.progress(replicates + null_reps + boundary_reps);
    bar.set_message(sc.name.clone());
    let tick = |n: u64| bar.inc(n);
    create_dir(out)?;
    let started = std::time::Instant::now();
    let req = SimulateOptions {
        replicates,
        seed,
        null_copy: true,
        never_better: boundary,
        progress: &tick,
        cancel: None,
        prior,
    };
    let uncancelled = "a run nobody cancels finishes";
    let simulated = settings.in_pool(|| -> Result<Simulated, Error> {
        if !export_replicates {
            return Ok(simulate_scenario(sc, &req, None).expect(uncancelled));
        }
        // replicates.csv streams while the simulation runs; it is renamed into place at the end.
        let columns = Layout::new(sc, &Truth::compute(sc)).column_names();
        let mut result = None;
        write_atomic_with(&out.join("replicates.csv"), |w| {
            let mut writer = csv_report::ReplicatesWriter::new(w, &columns)?;
            let mut err = None;
            let mut sink = |r, cols: &[f64]| {
                if err.is_none()
                    && let Err(e) = writer.row(r, cols)
                {
                    err = Some(e);
                }
            };
            let s = simulate_scenario(sc, &req, Some(&mut sink)).expect(uncancelled);
            if let Some(e) = err {
                return Err(e);
            }
            writer.finish()?;
            result = Some(s);
            Ok(())
        })?;
        Ok(result.expect("set when the write succeeded"))
    })??;
    bar.finish_and_clear();
    let elapsed = started.elapsed();

    let results = Results { long_term_draws, ..Results::of(&simulated, sc, seed) };
    let outputs = crate::report::run::files(&results, about)
        .map_err(|e| Error::failure(anyhow::Error::new(e).context("writing a report")))?;
    // Exports this run was not asked for belong to an earlier run (another seed or size): they
    // go, so that every file in the directory describes this run. Nothing else is touched.
    for (asked, name) in [(export_replicates, "replicates.csv"), (export_patients.is_some(), "patients.csv")]
    {
        let path = out.join(name);
        if !asked && path.exists() {
            std::fs::remove_file(&path).map_err(|e| {
                Error::failure(anyhow::Error::new(e).context(format!("removing the old {}", path.display())))
            })?;
        }
    }
    if let Some(k) = export_patients {
        write_atomic_with(&out.join("patients.csv"), |w| {
            let mut writer = csv_report::PatientsWriter::new(w, sc)?;
            crate::engine::analysed_patients(sc, seed, k, |p| writer.row(&p))?;
            writer.finish()
        })?;
    }
    let exports = [(export_replicates, "replicates.csv"), (export_patients.is_some(), "patients.csv")];
    let exports: Vec<&str> = exports.iter().filter(|(asked, _)| *asked).map(|(_, n)| *n).collect();
    let names = crate::report::run::listed(&outputs, &exports);
    let files: Vec<File> =
        outputs.into_iter().map(|(name, text)| (out.join(name), text.into_bytes())).collect();
    write_files(&files)?;
    Ok(headline::render(&results, elapsed, out, &names))
}
