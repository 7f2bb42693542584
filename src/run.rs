//! `trialsim run`: a scenario → simulation → files in the output directory.
//!
//! Everything that can fail because of user input (the scenario) fails before anything is
//! written; the outputs are written atomically once the simulation has finished.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Layout, Run, simulate};
use crate::io::{IoError, create_dir, write_atomic, write_atomic_with};
use crate::report::{Results, csv as csv_report, json, markdown, svg};
use crate::scenario::Scenario;
use crate::summary::Summary;
use crate::truth::Truth;

/// Replicates of the identical-arms companion run (type I error, crossing by chance).
pub const NULL_REPLICATES: u64 = 10_000;

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub replicates: Option<u64>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
    pub out: Option<PathBuf>,
    pub quiet: bool,
    pub export_replicates: bool,
    pub export_patients: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("starting {threads} worker threads: {message}")]
    Threads { threads: usize, message: String },
    #[error("writing a report: {0}")]
    Plot(String),
    #[error(transparent)]
    Sweep(#[from] crate::sweep::SweepError),
    #[error(transparent)]
    Plan(crate::plan::PlanError),
}

/// What a run produced.
pub struct Outcome {
    pub out: PathBuf,
    pub summary: Summary,
    pub null: Option<Summary>,
    pub truth: Truth,
    pub layout: Layout,
    pub seed: u64,
    pub replicates: u64,
}

/// The scenario with the experimental arm given the control arm's hazards and dropout: the
/// "no difference" companion for type I error and chance crossings.
pub fn null_scenario(sc: &Scenario) -> Option<Scenario> {
    let c = sc.comparison?;
    let mut null = sc.clone();
    null.arms[c.experimental].causes = sc.arms[c.control].causes.clone();
    null.arms[c.experimental].dropout = sc.arms[c.control].dropout;
    Some(null)
}

/// A progress bar on stderr, hidden with `quiet` or when stderr is not a terminal.
pub fn progress(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} {msg} [{bar:40}] {pos}/{len} replicates ({per_sec}, eta {eta})",
    )
    .expect("static template is valid")
    .progress_chars("=> ");
    bar.with_style(style)
}

/// Runs `f` on a rayon pool of `threads` (all cores when `None`).
pub fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, RunError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    let pool =
        b.build().map_err(|e| RunError::Threads { threads: threads.unwrap_or(0), message: e.to_string() })?;
    Ok(pool.install(f))
}

/// Runs the scenario and writes summary.json, summary.md, survival.svg (and on request
/// replicates.csv, patients.csv) into the output directory.
pub fn run(sc: &Scenario, opts: &Options) -> Result<Outcome, RunError> {
    let replicates = opts.replicates.unwrap_or(sc.simulation.replicates);
    let seed = opts.seed.unwrap_or(sc.simulation.seed);
    let out = opts.out.clone().unwrap_or_else(|| Path::new("results").join(&sc.name));
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    let null_sc = null_scenario(sc);
    let null_reps = replicates.min(NULL_REPLICATES);
    let total = replicates + if null_sc.is_some() { null_reps } else { 0 };
    let bar = progress(total, opts.quiet);

    create_dir(&out)?;
    let csv_path = out.join("replicates.csv");
    let (summary, null) = in_pool(opts.threads, || -> Result<(Summary, Option<Summary>), RunError> {
        bar.set_message(sc.name.clone());
        let tick = |n: u64| bar.inc(n);
        let run = Run { scenario: sc, layout: &layout, replicates, seed, progress: Some(&tick) };
        let summary = if opts.export_replicates {
            let mut result = None;
            write_atomic_with(&csv_path, |w| {
                let mut writer = csv_report::ReplicatesWriter::new(w, &layout.column_names())?;
                let mut err = None;
                let s = simulate(
                    &run,
                    Some(&mut |r, cols: &[f64]| {
                        if err.is_none()
                            && let Err(e) = writer.row(r, cols)
                        {
                            err = Some(e);
                        }
                    }),
                );
                if let Some(e) = err {
                    return Err(e);
                }
                writer.finish()?;
                result = Some(s);
                Ok(())
            })?;
            result.expect("set when the write succeeded")
        } else {
            simulate(&run, None)
        };
        let null = null_sc.as_ref().map(|ns| {
            bar.set_message(format!("{} (identical arms)", sc.name));
            // The null layout is the real one: same tests and estimates, only hazards differ.
            let run =
                Run { scenario: ns, layout: &layout, replicates: null_reps, seed, progress: Some(&tick) };
            simulate(&run, None)
        });
        Ok((summary, null))
    })??;
    bar.finish_and_clear();

    let results = Results {
        scenario: sc,
        truth: &truth,
        layout: &layout,
        summary: &summary,
        seed,
        null: null.as_ref().map(|s| (s, null_reps)),
    };
    write_atomic(&out.join("summary.json"), json::render(&results).as_bytes())?;
    write_atomic(&out.join("summary.md"), markdown::render(&results).as_bytes())?;
    let plot = svg::render(&results).map_err(RunError::Plot)?;
    write_atomic(&out.join("survival.svg"), plot.as_bytes())?;
    if let Some(k) = opts.export_patients {
        write_atomic_with(&out.join("patients.csv"), |w| csv_report::write_patients(w, sc, seed, k))?;
    }
    Ok(Outcome { out, summary, null, truth, layout, seed, replicates })
}

/// `trialsim followup`: the scenario's trials analysed at each calendar cut; writes
/// followup.md, followup.csv, followup.json and followup.svg.
pub fn run_followup(sc: &Scenario, cuts: &[f64], opts: &Options) -> Result<PathBuf, RunError> {
    let replicates = opts.replicates.unwrap_or(sc.simulation.replicates);
    let seed = opts.seed.unwrap_or(sc.simulation.seed);
    let out = opts.out.clone().unwrap_or_else(|| Path::new("results").join(&sc.name));
    let bar = progress(cuts.len() as u64 * replicates, opts.quiet);
    bar.set_message(format!("{} follow-up", sc.name));
    let study =
        in_pool(opts.threads, || crate::followup::run(sc, cuts, replicates, seed, |_| bar.inc(replicates)))?;
    bar.finish_and_clear();
    create_dir(&out)?;
    use crate::report::followup as fr;
    write_atomic(&out.join("followup.md"), fr::markdown(&study, &sc.time_unit).as_bytes())?;
    let csv = fr::csv(&study).map_err(|e| RunError::Plot(format!("followup.csv: {e}")))?;
    write_atomic(&out.join("followup.csv"), &csv)?;
    let mut json = serde_json::to_string_pretty(&study).expect("FollowUp serialises");
    json.push('\n');
    write_atomic(&out.join("followup.json"), json.as_bytes())?;
    write_atomic(
        &out.join("followup.svg"),
        fr::svg(&study, &sc.time_unit).map_err(RunError::Plot)?.as_bytes(),
    )?;
    Ok(out)
}

/// `trialsim plan`: a single plan (plan.json, plan.md, plan.svg), or with a grid of fixed
/// overrides one plan per grid point (plus plan.csv and plan_heatmap.svg).
pub fn run_plan(
    template: &crate::scenario::overrides::Template,
    opts: &crate::plan::PlanOptions,
    axes: &[crate::sweep::Axis],
    zip: bool,
    sim: &Options,
) -> Result<PathBuf, RunError> {
    use crate::plan::{PlanError, plan};
    use crate::report::plan as rp;
    let (base, _) = template.apply(&[]).map_err(|e| RunError::Plan(PlanError::Scenario(e)))?;
    let out = sim.out.clone().unwrap_or_else(|| Path::new("results").join(format!("{}_plan", base.name)));
    let grid = if axes.is_empty() {
        vec![Vec::new()]
    } else {
        crate::sweep::points(axes, zip).map_err(|m| RunError::Plan(PlanError::Input(m)))?
    };
    // Every grid point must be a valid scenario before anything runs.
    for fixed in &grid {
        template.apply(fixed).map_err(|e| RunError::Plan(PlanError::Scenario(e)))?;
    }
    let bar = progress(grid.len() as u64, sim.quiet);
    bar.set_message(format!("{} plan", base.name));
    let mut rows = Vec::new();
    for fixed in &grid {
        let o = crate::plan::PlanOptions { fixed: fixed.clone(), ..opts.clone() };
        let answers = in_pool(sim.threads, || plan(template, &o))?.map_err(RunError::Plan)?;
        rows.push(rp::GridAnswer {
            overrides: fixed.iter().map(|x| (x.key.clone(), x.value)).collect(),
            answers,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    create_dir(&out)?;
    if axes.is_empty() {
        let answers = &rows[0].answers;
        write_atomic(&out.join("plan.json"), rp::json(&opts.key, opts.target, answers).as_bytes())?;
        write_atomic(
            &out.join("plan.md"),
            rp::markdown(&base.name, &opts.key, opts.target, answers).as_bytes(),
        )?;
        let svg = rp::svg(&base.name, &opts.key, opts.target, answers).map_err(RunError::Plot)?;
        write_atomic(&out.join("plan.svg"), svg.as_bytes())?;
    } else {
        let csv = rp::grid_csv(axes, &rows).map_err(|e| RunError::Plot(e.to_string()))?;
        write_atomic(&out.join("plan.csv"), &csv)?;
        let mut md = String::new();
        for r in &rows {
            let label: Vec<String> = r.overrides.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            md.push_str(
                &rp::markdown(&label.join(", "), &opts.key, opts.target, &r.answers).replacen("# ", "## ", 1),
            );
            md.push('\n');
        }
        write_atomic(&out.join("plan.md"), md.as_bytes())?;
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v: serde_json::Value =
                    serde_json::from_str(&rp::json(&opts.key, opts.target, &r.answers))
                        .expect("plan JSON parses");
                v["overrides"] = serde_json::json!(r.overrides);
                v
            })
            .collect();
        write_atomic(
            &out.join("plan.json"),
            (serde_json::to_string_pretty(&list).expect("serialises") + "\n").as_bytes(),
        )?;
        if axes.len() >= 2 {
            let svg = rp::heatmap(&base.name, &opts.key, axes, &rows).map_err(RunError::Plot)?;
            write_atomic(&out.join("plan_heatmap.svg"), svg.as_bytes())?;
        }
    }
    Ok(out)
}
