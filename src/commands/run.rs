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
    // The draws are read and checked against the scenario before anything is written.
    let uncertainty = match draws {
        Some(f) => Some(settings.in_pool(|| long_term_over_draws(&sim.scenario, f))??),
        None => None,
    };
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
    let headline =
        run(&sc, boundary, uncertainty.as_ref(), &about, &settings, export_replicates, export_patients)
            .map_err(|e| e.context(context))?;
    // The headline on stdout (the figures a user reads first, then where the files are);
    // `--quiet` prints nothing.
    if !settings.quiet {
        print!("{headline}");
    }
    Ok(())
}

/// The long-term truth of every draw's scenario (`--draws`), summarised: the draws' columns must
/// be numeric keys of the scenario (exit 2 otherwise, naming the column), and at most half of
/// the draws may make an invalid scenario.
fn long_term_over_draws(scenario: &Path, file: &Path) -> Result<crate::truth::long_term::Uncertainty, Error> {
    use crate::assurance::{AssuranceInput, check_draws, read_draws};
    use crate::scenario::overrides::{Override, Template};
    let template = Template::from_path(scenario)?;
    let draws = read_draws(file)?;
    // The horizon and the extrapolation are how the report looks, not parameters: a draw of them
    // would tabulate each draw at different times.
    if let Some(k) = draws.keys.iter().find(|k| k.starts_with("analysis.long_term")) {
        return Err(crate::assurance::AssuranceError::from(AssuranceInput::Column {
            origin: draws.source.clone(),
            key: k.clone(),
            problem: "the long-term table sets what is reported, not a parameter of the model".into(),
        })
        .into());
    }
    check_draws(&template, &draws)?;
    let mut first: Option<String> = None;
    let scenarios: Vec<Option<Scenario>> = draws
        .rows
        .iter()
        .enumerate()
        .map(|(d, row)| {
            let o: Vec<Override> =
                draws.keys.iter().zip(row).map(|(k, &v)| Override { key: k.clone(), value: v }).collect();
            match template.apply(&o) {
                Ok((sc, _)) => Some(sc),
                Err(e) => {
                    first.get_or_insert_with(|| format!("draw {d}: {}", e.message()));
                    None
                }
            }
        })
        .collect();
    let invalid = scenarios.iter().filter(|s| s.is_none()).count();
    let m = scenarios.len();
    if invalid * 2 > m || m - invalid < 2 {
        return Err(crate::assurance::AssuranceError::from(AssuranceInput::InvalidDraws {
            invalid,
            draws: m,
            first,
        })
        .into());
    }
    let source = html::file_name(&file.to_string_lossy());
    crate::truth::long_term::uncertainty(&source, &scenarios).ok_or_else(|| {
        Error::Argument(format!(
            "{}: --draws needs a two-arm scenario with a long-term horizon",
            scenario.display()
        ))
    })
}

fn run(
    sc: &Scenario,
    boundary: Option<&Boundary>,
    long_term_draws: Option<&crate::truth::long_term::Uncertainty>,
    about: &html::About,
    settings: &Settings,
    export_replicates: bool,
    export_patients: Option<u64>,
) -> Result<String, Error> {
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
