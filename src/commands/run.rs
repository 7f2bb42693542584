//! `trialsim run`: a scenario → its simulation and the identical-arms companion → summary.json,
//! summary.md, survival.svg (and on request replicates.csv, patients.csv).

use crate::cli::Simulate;
use crate::engine::{Layout, Run, null_scenario, simulate};
use crate::io::{create_dir, write_atomic_with};
use crate::report::{Results, csv as csv_report, headline, json, markdown, svg};
use crate::scenario::Scenario;
use crate::summary::Summary;
use crate::truth::Truth;

use super::{Error, File, Settings, check_simulate, write_files};

/// Replicates of the identical-arms companion run (type I error, crossing by chance).
pub const NULL_REPLICATES: u64 = 10_000;

/// A simulated scenario: its truth, layout, summary, and the identical-arms companion's summary
/// with its replicates (two-arm scenarios).
pub struct Simulated {
    pub truth: Truth,
    pub layout: Layout,
    pub summary: Summary,
    pub null: Option<(Summary, u64)>,
}

impl Simulated {
    /// The data every report of a run renders.
    pub fn results<'a>(&'a self, sc: &'a Scenario, seed: u64) -> Results<'a> {
        Results {
            scenario: sc,
            truth: &self.truth,
            layout: &self.layout,
            summary: &self.summary,
            seed,
            null: self.null.as_ref().map(|(s, r)| (s, *r)),
        }
    }
}

/// Simulates `replicates` trials of the scenario, then up to [`NULL_REPLICATES`] with identical
/// arms, on the current rayon pool. `rows` receives replicates.csv rows of the main run;
/// `progress` is told of finished replicates.
pub fn simulate_scenario(
    sc: &Scenario,
    replicates: u64,
    seed: u64,
    rows: Option<crate::engine::RowSink>,
    progress: &(dyn Fn(u64) + Sync),
) -> Simulated {
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    let run = Run { scenario: sc, layout: &layout, replicates, seed, progress: Some(progress) };
    let summary: Summary = simulate(&run, rows);
    // The null layout is the real one: same tests and estimates, only hazards differ.
    let null_reps = replicates.min(NULL_REPLICATES);
    let null = null_scenario(sc).map(|ns| {
        let run =
            Run { scenario: &ns, layout: &layout, replicates: null_reps, seed, progress: Some(progress) };
        (simulate::<Summary>(&run, None), null_reps)
    });
    Simulated { truth, layout, summary, null }
}

pub fn command(sim: &Simulate, export_replicates: bool, export_patients: Option<u64>) -> Result<(), Error> {
    check_simulate(sim)?;
    let sc = super::load(&sim.scenario)?.scenario;
    let settings = Settings::resolve(sim, &sc.simulation, &sc.name);
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
    let headline = run(&sc, &settings, export_replicates, export_patients).map_err(|e| e.context(context))?;
    // The headline on stdout (the figures a user reads first, then where the files are);
    // `--quiet` prints nothing.
    if !settings.quiet {
        print!("{headline}");
    }
    Ok(())
}

fn run(
    sc: &Scenario,
    settings: &Settings,
    export_replicates: bool,
    export_patients: Option<u64>,
) -> Result<String, Error> {
    let (replicates, seed, out) = (settings.replicates, settings.seed, &settings.out);
    let null_reps = if sc.comparison.is_some() { replicates.min(NULL_REPLICATES) } else { 0 };
    let bar = settings.progress(replicates + null_reps);
    bar.set_message(sc.name.clone());
    let tick = |n: u64| bar.inc(n);
    create_dir(out)?;
    let started = std::time::Instant::now();
    let simulated = settings.in_pool(|| -> Result<Simulated, Error> {
        if !export_replicates {
            return Ok(simulate_scenario(sc, replicates, seed, None, &tick));
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
            let s = simulate_scenario(sc, replicates, seed, Some(&mut sink), &tick);
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

    let results = simulated.results(sc, seed);
    let plot = svg::render(&results).map_err(|m| Error::failure(anyhow::anyhow!("writing a report: {m}")))?;
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
        write_atomic_with(&out.join("patients.csv"), |w| csv_report::write_patients(w, sc, seed, k))?;
    }
    let monitoring_plot = crate::report::monitoring::svg(&results)
        .transpose()
        .map_err(|m| Error::failure(anyhow::anyhow!("writing the monitoring plot: {m}")))?;
    // summary.json last: when it is there, the whole set is.
    let mut files: Vec<File> = Vec::new();
    if let Some(svg) = monitoring_plot {
        files.push((out.join("monitoring.svg"), svg.into_bytes()));
    }
    files.extend([
        (out.join("survival.svg"), plot.into_bytes()),
        (out.join("summary.md"), markdown::render(&results).into_bytes()),
        (out.join("summary.json"), json::render(&results).into_bytes()),
    ]);
    write_files(&files)?;
    let mut names = vec!["summary.md", "summary.json", "survival.svg"];
    if results.layout.monitor.is_some() {
        names.push("monitoring.svg");
    }
    if export_replicates {
        names.push("replicates.csv");
    }
    if export_patients.is_some() {
        names.push("patients.csv");
    }
    Ok(headline::render(&results, elapsed, out, &names))
}
