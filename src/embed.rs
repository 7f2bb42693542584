//! trialsim inside another program (the Python and R packages): each command's work from a
//! scenario's text to the files the command line writes, with no terminal and no process exit.
//! A binding hands in the text (a file's, or one it made from a dict), the options and a
//! [`Control`] (worker threads, a progress callback, a cancel flag polled between chunks of
//! replicates), and gets the rendered files back; [`write_files`] writes them as the command
//! line does (atomically, summary.json last). The same library functions as the command line
//! compute and render, so a binding's summary.json is the command line's, byte for byte.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::assurance::{AssuranceError, AssuranceInput, Draws};
use crate::atomic_file::{IoError, create_dir, write_atomic};
use crate::engine::Layout;
use crate::plan::{PlanError, PlanOptions};
use crate::report::html::{self, About};
use crate::report::{RenderError, Results};
use crate::run::{SimulateOptions, Simulated, simulate_scenario};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Document, MAX_REPLICATES, MAX_SEED, Scenario, ScenarioError};
use crate::scenario_file::{Loaded, validate};
use crate::sweep::{GridError, PointRecord, SweepError, SweepSettings, grid_of, run_sweep_until};
use crate::truth::Truth;

/// At most this many worker threads: more only costs memory (a typo once kept spawning).
pub const MAX_THREADS: usize = 1024;

/// What went wrong, as a binding reports it: a bad scenario (its located message), a bad
/// argument, a cancelled computation, or a failure (writing a file).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad scenario: the located diagnostic (file or `<string>`, line, column, key).
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A bad argument or combination of them.
    #[error("{0}")]
    Argument(String),
    /// The cancel flag was set: nothing was returned or written.
    #[error("cancelled")]
    Cancelled,
    /// Anything else, with its context.
    #[error("{0}")]
    Failure(String),
}

impl From<IoError> for Error {
    fn from(e: IoError) -> Error {
        Error::Failure(e.to_string())
    }
}

impl From<RenderError> for Error {
    fn from(e: RenderError) -> Error {
        Error::Failure(format!("writing a report: {e}"))
    }
}

impl From<GridError> for Error {
    fn from(e: GridError) -> Error {
        Error::Argument(e.to_string())
    }
}

impl From<SweepError> for Error {
    fn from(e: SweepError) -> Error {
        match e {
            SweepError::Input(m) => Error::Argument(m.to_string()),
            SweepError::Scenario(e) => Error::Scenario(e),
            other => Error::Failure(other.to_string()),
        }
    }
}

impl From<AssuranceError> for Error {
    fn from(e: AssuranceError) -> Error {
        match e {
            AssuranceError::Input(m) => Error::Argument(m.to_string()),
            AssuranceError::Scenario(e) => Error::Scenario(e),
        }
    }
}

impl From<PlanError> for Error {
    fn from(e: PlanError) -> Error {
        match e {
            PlanError::Input(m) => Error::Argument(m.to_string()),
            PlanError::Scenario(e) => Error::Scenario(e),
            PlanError::Cancelled => Error::Cancelled,
        }
    }
}

/// A scenario's text and the name its errors give it: a file's path, or `<string>`.
#[derive(Debug, Clone)]
pub struct Source {
    pub text: String,
    pub origin: PathBuf,
}

impl Source {
    /// A scenario file, read as the command line reads it (size-capped; a missing file is a
    /// scenario error naming it).
    pub fn file(path: &Path) -> Result<Source, Error> {
        let doc = Document::load(path)?;
        Ok(Source { text: doc.text().to_string(), origin: path.to_path_buf() })
    }

    /// Scenario text; `origin` only names it in messages (`<string>`).
    pub fn text(text: &str, origin: &str) -> Source {
        Source { text: text.to_string(), origin: PathBuf::from(origin) }
    }

    /// The file name the reports show (report.html's command line).
    fn file_name(&self) -> String {
        html::file_name(&self.origin.to_string_lossy())
    }
}

/// The scenario validated whole (every command's table), with `overrides` applied as a sweep
/// applies them: the overridden document is validated like a file, so an override can never
/// make a scenario that a file could not be.
pub fn load(source: &Source, overrides: &[Override]) -> Result<(Loaded, Template), Error> {
    let doc = Document::parse(&source.text, &source.origin)?;
    let template = Template::from_document(&doc)?;
    if overrides.is_empty() {
        return Ok((validate(&doc)?, template));
    }
    // The overrides' own errors name the key and the value ("<string> with design.n = -1").
    template.apply(overrides)?;
    let text = template.text_with(overrides)?;
    let doc = Document::parse(&text, &source.origin)?;
    let template = Template::from_document(&doc)?;
    Ok((validate(&doc)?, template))
}

/// Replicates, seed and worker threads, each when given in the ranges a scenario file allows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    pub replicates: Option<u64>,
    pub seed: Option<u64>,
    pub threads: Option<usize>,
}

impl Counts {
    /// Checks the ranges before anything is read or created; `names` are the caller's words for
    /// the three (`--reps` on the command line, `reps` in Python).
    pub fn check(&self, names: [&str; 3]) -> Result<(), String> {
        let [reps, seed, threads] = names;
        match self.replicates {
            Some(0) => return Err(format!("{reps}: expected at least 1 replicate, found 0")),
            Some(r) if r > MAX_REPLICATES => {
                return Err(format!(
                    "{reps}: expected at most {MAX_REPLICATES} replicates (as `simulation.replicates`), found {r}"
                ));
            }
            _ => {}
        }
        if let Some(s) = self.seed.filter(|&s| s > MAX_SEED) {
            return Err(format!(
                "{seed}: expected an integer from 0 to {MAX_SEED} (as `simulation.seed`), found {s}"
            ));
        }
        match self.threads {
            Some(0) => Err(format!("{threads}: expected at least 1 thread, found 0")),
            Some(t) if t > MAX_THREADS => {
                Err(format!("{threads}: expected at most {MAX_THREADS} threads, found {t}"))
            }
            _ => Ok(()),
        }
    }

    fn resolve(&self, sc: &Scenario) -> (u64, u64) {
        (self.replicates.unwrap_or(sc.simulation.replicates), self.seed.unwrap_or(sc.simulation.seed))
    }
}

/// How a binding steers a computation: worker threads (all cores when `None`; results do not
/// depend on it), progress (done, total) after each chunk, and a flag that cancels it.
pub struct Control<'a> {
    pub threads: Option<usize>,
    pub progress: &'a (dyn Fn(u64, u64) + Sync),
    pub cancel: &'a AtomicBool,
}

impl Control<'_> {
    /// Runs `f` on a rayon pool of the requested threads.
    fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = self.threads {
            b = b.num_threads(t);
        }
        let pool = b.build().map_err(|e| {
            Error::Failure(format!("starting {} worker threads: {e}", self.threads.unwrap_or(0)))
        })?;
        Ok(pool.install(f))
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }
}

/// An output directory held by one command until it drops this: an OS lock on
/// `DIR/.trialsim.lock`, which the OS releases at exit, so a killed run leaves no stale lock.
pub struct OutDir {
    _lock: std::fs::File,
}

/// The lock file in every output directory.
pub const LOCK_FILE: &str = ".trialsim.lock";

/// Creates the output directory, checks that it can be written and that no other trialsim
/// command is writing there, and removes temporary files a killed run left: before any work, so
/// a bad `--out` is a bad argument (exit 2) found at once rather than after the simulation.
pub fn prepare_out(out: &Path) -> Result<OutDir, String> {
    let bad = |e: &dyn std::fmt::Display| {
        format!("output directory {}: cannot create or write it: {e}", out.display())
    };
    std::fs::create_dir_all(out).map_err(|e| bad(&e))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(out.join(LOCK_FILE))
        .map_err(|e| bad(&e))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(format!(
                "output directory {}: another trialsim command is writing there (wait for it, or give another --out)",
                out.display()
            ));
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(bad(&e)),
    }
    crate::atomic_file::remove_stale_temporaries(out);
    Ok(OutDir { _lock: lock })
}

/// What a binding says when the engine panicked on its worker thread (a bug: the binding turns
/// it into an error of its language, never an abort of the interpreter).
pub fn panic_error(panic: &(dyn std::any::Any + Send)) -> Error {
    let what = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    Error::Failure(format!("trialsim internal error (please report): {what}"))
}

/// A rendered file: its path below the output directory, and its bytes.
pub type File = (PathBuf, Vec<u8>);

/// Writes rendered files below `dir`, each atomically, creating folders; summary.json (and
/// sweep.json, plan.json, assurance.json) are written by their commands last, so files are
/// written in the order given. Rendering happens before this, so a rendering failure writes
/// nothing; a write failure can leave some files new and others old, never one half written.
pub fn write_files(dir: &Path, files: &[File]) -> Result<(), Error> {
    for (name, bytes) in files {
        let path = dir.join(name);
        if let Some(parent) = path.parent() {
            create_dir(parent)?;
        }
        write_atomic(&path, bytes)?;
    }
    Ok(())
}

/// Writes a result's files below `dir` as the command line writes its own: with the directory's
/// lock held (no other trialsim command writes there meanwhile), the old `main` file (the JSON
/// that marks a complete set) removed first so that an interrupted write never leaves it beside
/// newer files, a run's exports that this result did not make (replicates.csv, patients.csv)
/// removed, then every file atomically in order, `main` last.
pub fn write_result(dir: &Path, files: &[File], main: &str) -> Result<(), Error> {
    let _lock = prepare_out(dir).map_err(Error::Argument)?;
    let remove = |name: &str| -> Result<(), Error> {
        let path = dir.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::Failure(format!("removing the old {}: {e}", path.display())))
            }
            _ => Ok(()),
        }
    };
    remove(main)?;
    if main == "summary.json" {
        for export in ["replicates.csv", "patients.csv"] {
            if !files.iter().any(|(p, _)| p == Path::new(export)) {
                remove(export)?;
            }
        }
    }
    let (last, rest): (Vec<File>, Vec<File>) = files.iter().cloned().partition(|(p, _)| p == Path::new(main));
    write_files(dir, &rest)?;
    write_files(dir, &last)
}

/// Adds report.html to a command's files, just before `md` (the Markdown report it renders):
/// the page of that Markdown with every SVG plot among the files in the same folder.
pub fn with_report(files: &mut Vec<File>, md: &Path, about: &About) {
    let Some(at) = files.iter().position(|(p, _)| p == md) else { return };
    let dir = md.parent();
    let figures: Vec<(String, String)> = files
        .iter()
        .filter(|(p, _)| p.parent() == dir && p.extension().is_some_and(|e| e == "svg"))
        .map(|(p, b)| {
            (
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                String::from_utf8_lossy(b).into_owned(),
            )
        })
        .collect();
    let figures: Vec<(&str, &str)> = figures.iter().map(|(n, s)| (n.as_str(), s.as_str())).collect();
    let page = html::page(&String::from_utf8_lossy(&files[at].1), &figures, about);
    files.insert(at, (md.with_file_name("report.html"), page.into_bytes()));
}

/// Every draw's scenario (the template with the draw's values; `None` where a draw makes an
/// invalid scenario): the draws' columns must be numeric keys of the scenario, and at most half
/// of the draws may be invalid. The long-term table sets what is reported, so a draw may not
/// set it.
pub fn draw_scenarios(template: &Template, draws: &Draws) -> Result<Vec<Option<Scenario>>, Error> {
    use crate::assurance::check_draws;
    // The horizon and the extrapolation are how the report looks, not parameters: a draw of them
    // would tabulate each draw at different times.
    if let Some(k) = draws.keys.iter().find(|k| k.starts_with("analysis.long_term")) {
        return Err(AssuranceError::from(AssuranceInput::Column {
            origin: draws.source.clone(),
            key: k.clone(),
            problem: "the long-term table sets what is reported, not a parameter of the model".into(),
        })
        .into());
    }
    check_draws(template, draws)?;
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
        return Err(AssuranceError::from(AssuranceInput::InvalidDraws { invalid, draws: m, first }).into());
    }
    Ok(scenarios)
}

/// A predictive-probability futility rule needs a prior's draws, which only `run` takes: any
/// other command refuses the scenario rather than simulate a rule that could never stop a trial.
pub fn refuse_prior_rule(sc: &Scenario, origin: &Path, command: &str) -> Result<(), Error> {
    match sc.monitoring.as_ref().and_then(|m| m.futility.as_ref()) {
        Some(f) if f.needs_prior() => Err(Error::Argument(format!(
            "{}: `monitoring.futility.rule = \"predictive_probability\"` needs a prior's draws, which `run` takes (`--draws FILE` or an `[uncertainty]` table); `{command}` cannot simulate it",
            origin.display()
        ))),
        _ => Ok(()),
    }
}

/// The most replicates whose replicates.csv a binding keeps in memory (about 1 kB a replicate
/// with every test: a gigabyte, then the copy the binding's language makes). The command line
/// streams the file, so it has no such limit.
pub const MAX_KEPT_REPLICATES: u64 = 1_000_000;

/// What a run writes: its files in the order the command line writes them (summary.json
/// last), and replicates.csv when asked for.
pub struct RunOutput {
    pub files: Vec<File>,
    pub replicates_csv: Option<Vec<u8>>,
}

/// `trialsim run` of a scenario: the simulation, its identical-arms companion and (with
/// `[analysis.never_better]`) the never-better copy; with `[monitoring.committee]` or a
/// predictive-probability rule, the prior from the scenario's `[uncertainty]` table.
pub fn run(
    source: &Source,
    overrides: &[Override],
    counts: Counts,
    replicates_csv: bool,
    control: &Control,
) -> Result<RunOutput, Error> {
    counts.check(["reps", "seed", "threads"]).map_err(Error::Argument)?;
    let (loaded, template) = load(source, overrides)?;
    let sc = &loaded.scenario;
    let (replicates, seed) = counts.resolve(sc);
    if replicates_csv && replicates > MAX_KEPT_REPLICATES {
        return Err(Error::Argument(format!(
            "replicates: kept in memory for at most {MAX_KEPT_REPLICATES} replicates, found {replicates} (the command line's --export-replicates streams any number to a file)"
        )));
    }
    let monitoring = sc.monitoring.as_ref();
    let rule_needs_prior = monitoring.and_then(|m| m.futility.as_ref()).is_some_and(|f| f.needs_prior());
    let uses_prior = monitoring.is_some_and(|m| m.committee.is_some()) || rule_needs_prior;
    let prior: Option<Vec<Scenario>> = match (&loaded.uncertainty, uses_prior) {
        (Some(u), true) => {
            let draws = crate::assurance::prior_draws(u, seed);
            let scenarios = control.in_pool(|| draw_scenarios(&template, &draws))??;
            Some(scenarios.into_iter().flatten().collect())
        }
        _ => None,
    };
    if rule_needs_prior && prior.is_none() {
        return Err(Error::Argument(format!(
            "{}: `monitoring.futility.rule = \"predictive_probability\"` needs a prior's draws: give an `[uncertainty]` table",
            source.origin.display()
        )));
    }
    let null_reps = crate::run::null_replicates(sc, replicates, true);
    let boundary = loaded.never_better.as_ref();
    let total = replicates + null_reps + if boundary.is_some() { replicates } else { 0 };
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = |n: u64| (control.progress)(done.fetch_add(n, Ordering::Relaxed) + n, total);
    let req = SimulateOptions {
        replicates,
        seed,
        null_copy: true,
        never_better: boundary,
        progress: &tick,
        cancel: Some(control.cancel),
        prior: prior.as_deref(),
    };
    let (simulated, csv) = control.in_pool(|| simulated_with_rows(sc, &req, replicates_csv))??;
    let results = Results::of(&simulated, sc, seed);
    let about = About {
        command: html::command("run", &source.file_name(), seed, replicates, &[]),
        scenarios: vec![(source.file_name(), loaded.text.clone())],
    };
    let files = crate::report::run::files(&results, &about)?
        .into_iter()
        .map(|(name, text)| (PathBuf::from(name), text.into_bytes()))
        .collect();
    Ok(RunOutput { files, replicates_csv: csv })
}

/// The simulation, with replicates.csv's text when `rows` (the command line streams the same
/// rows to its file).
fn simulated_with_rows(
    sc: &Scenario,
    req: &SimulateOptions,
    rows: bool,
) -> Result<(Simulated, Option<Vec<u8>>), Error> {
    if !rows {
        return Ok((simulate_scenario(sc, req, None).ok_or(Error::Cancelled)?, None));
    }
    let columns = Layout::new(sc, &Truth::compute(sc)).column_names();
    let mut writer = crate::report::run::csv::ReplicatesWriter::new(Vec::new(), &columns)
        .map_err(|e| Error::Failure(format!("replicates.csv: {e}")))?;
    let mut err = None;
    let mut sink = |r, cols: &[f64]| {
        if err.is_none()
            && let Err(e) = writer.row(r, cols)
        {
            err = Some(e);
        }
    };
    let simulated = simulate_scenario(sc, req, Some(&mut sink)).ok_or(Error::Cancelled)?;
    if let Some(e) = err {
        return Err(Error::Failure(format!("replicates.csv: {e}")));
    }
    let bytes = writer.into_inner().map_err(|e| Error::Failure(format!("replicates.csv: {e}")))?;
    Ok((simulated, Some(bytes)))
}

/// The model's true values without simulation, as summary.json's `truth` object.
pub fn truth(source: &Source, overrides: &[Override]) -> Result<String, Error> {
    let (loaded, _) = load(source, overrides)?;
    let truth = Truth::compute(&loaded.scenario);
    Ok(serde_json::to_string_pretty(&truth).expect("the truth serialises") + "\n")
}

/// What a sweep did: its directory, and whether every point is in (then its tables are
/// written there too).
pub struct SweepOutput {
    pub out: PathBuf,
    pub points: usize,
    pub reused: usize,
    pub computed: usize,
    pub complete: bool,
}

/// `trialsim sweep` into `out`: resumable (a point record is written as each point finishes,
/// and a rerun reuses them), so a cancelled sweep keeps what it computed. `set` as on the
/// command line (`KEY=VALUES`); empty: the scenario's `[sweep]` table.
pub fn sweep(
    source: &Source,
    set: &[String],
    zip: bool,
    counts: Counts,
    out: &Path,
    control: &Control,
) -> Result<SweepOutput, Error> {
    counts.check(["reps", "seed", "threads"]).map_err(Error::Argument)?;
    let (loaded, template) = load(source, &[])?;
    refuse_prior_rule(&loaded.scenario, &source.origin, "sweep")?;
    let (axes, zip) = grid_of(loaded.sweep.as_ref(), set, zip)?;
    let (replicates, seed) = counts.resolve(&loaded.scenario);
    let settings = SweepSettings { replicates, seed, out: out.to_path_buf(), shard: None, limit: None };
    let grid = control.in_pool(|| crate::sweep::validate(&template, &axes, zip, &settings))??;
    let _lock = prepare_out(out).map_err(Error::Argument)?;
    let outcome = control.in_pool(|| {
        let progress = |done, total| (control.progress)(done, total);
        run_sweep_until(&template, &axes, zip, &settings, grid, progress, control.cancel)
    })??;
    // As the command line's sweep: every table in the directory describes the sweep its
    // manifest names, or is absent (also when cancelled: the manifest is already this sweep's).
    let written = match &outcome.tables {
        Some(tables) => write_sweep_tables(&outcome.out, tables)?,
        None => Vec::new(),
    };
    remove_stale_tables(&outcome.out, &written)?;
    if control.cancelled() && !outcome.complete() {
        return Err(Error::Cancelled);
    }
    Ok(SweepOutput {
        out: outcome.out.clone(),
        points: outcome.points,
        reused: outcome.reused,
        computed: outcome.computed,
        complete: outcome.complete(),
    })
}

/// Removes the tables an earlier run left in `out` that this one did not write (`written`:
/// their paths): after an incomplete rerun with other replicates, the old sweep.csv, sweep.md,
/// report.html and plots stood beside a sweep.json that disagreed. Every table in the directory
/// describes the sweep its manifest names, or is absent.
pub fn remove_stale_tables(out: &Path, written: &[PathBuf]) -> Result<(), Error> {
    let Ok(entries) = std::fs::read_dir(out) else { return Ok(()) };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = matches!(name.as_str(), "sweep.csv" | "sweep.md" | "report.html")
            || (name.starts_with("power_") && name.ends_with(".svg"));
        let path = e.path();
        if ours && !written.contains(&path) {
            std::fs::remove_file(&path)
                .map_err(|err| Error::Failure(format!("removing the old {}: {err}", path.display())))?;
        }
    }
    Ok(())
}

/// sweep.csv (streamed from the point records, one at a time), then sweep.md and one plot per
/// test (from what they read of each record, for sweeps of at most `TABLE_POINTS`). Returns the
/// paths written.
pub fn write_sweep_tables(out: &Path, t: &crate::sweep::Tables) -> Result<Vec<PathBuf>, Error> {
    use crate::report::sweep as render;
    create_dir(out)?;
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
    let rendered = render::files(&t.manifest, t.len(), &records, &t.base)?;
    let mut files: Vec<File> = rendered.into_iter().map(|(name, bytes)| (out.join(name), bytes)).collect();
    with_report(&mut files, &out.join("sweep.md"), &sweep_about(&t.manifest));
    for (path, bytes) in &files {
        write_atomic(path, bytes)?;
    }
    let mut written: Vec<PathBuf> = files.into_iter().map(|(path, _)| path).collect();
    written.push(out.join("sweep.csv"));
    Ok(written)
}

/// What a sweep's report.html says of how it was made, from its manifest alone: `sweep` and
/// `merge` write the same page.
fn sweep_about(m: &crate::sweep::Manifest) -> About {
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

/// What `plan` is asked: the key to vary, the target power, the tests (empty: the first), the
/// search range, a grid of fixed values (`KEY=VALUES`) and the never-better limit.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub vary: String,
    pub target: f64,
    pub tests: Vec<String>,
    pub range: Option<(f64, f64)>,
    pub set: Vec<String>,
    pub zip: bool,
    pub never_better_limit: Option<f64>,
}

/// `trialsim plan`: the smallest value of a key whose power reaches the target, for each grid
/// point; its files (plan.json, plan.md, report.html, plots, plan.csv over a grid).
pub fn plan(
    source: &Source,
    req: &PlanRequest,
    counts: Counts,
    control: &Control,
) -> Result<Vec<File>, Error> {
    use crate::report::plan as render;
    counts.check(["reps", "seed", "threads"]).map_err(Error::Argument)?;
    let (loaded, template) = load(source, &[])?;
    refuse_prior_rule(&loaded.scenario, &source.origin, "plan")?;
    let axes = req.set.iter().map(|s| crate::sweep::Axis::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let base = &loaded.scenario;
    let (replicates, seed) = counts.resolve(base);
    let opts = PlanOptions {
        key: req.vary.clone(),
        target: req.target,
        tests: req.tests.clone(),
        replicates,
        seed,
        range: req.range,
        fixed: Vec::new(),
        never_better_limit: req.never_better_limit,
    };
    let grid = if axes.is_empty() { vec![Vec::new()] } else { crate::sweep::points(&axes, req.zip)? };
    // Every grid point must be a valid scenario, and a valid search, before anything runs.
    for fixed in &grid {
        template.apply(fixed)?;
        crate::plan::check(&template, &PlanOptions { fixed: fixed.clone(), ..opts.clone() })?;
    }
    let mut rows = Vec::new();
    for (i, fixed) in grid.iter().enumerate() {
        if control.cancelled() {
            return Err(Error::Cancelled);
        }
        let o = PlanOptions { fixed: fixed.clone(), ..opts.clone() };
        let answers = match control.in_pool(|| crate::plan::plan_until(&template, &o, control.cancel))? {
            Err(PlanError::Cancelled) => return Err(Error::Cancelled),
            other => other?,
        };
        rows.push(render::GridAnswer {
            overrides: fixed.iter().map(|x| (x.key.clone(), x.value)).collect(),
            answers,
        });
        (control.progress)(i as u64 + 1, grid.len() as u64);
    }
    let (rendered, _) = render::files(&base.name, &opts.key, opts.target, &axes, &rows)?;
    let mut files: Vec<File> =
        rendered.into_iter().map(|(name, bytes)| (PathBuf::from(name), bytes)).collect();
    let mut extra =
        vec!["--vary".to_string(), opts.key.clone(), "--target".to_string(), opts.target.to_string()];
    for t in &opts.tests {
        extra.extend(["--test".to_string(), t.clone()]);
    }
    if let Some((lo, hi)) = req.range {
        extra.extend(["--range".to_string(), format!("{lo}:{hi}")]);
    }
    for s in &req.set {
        extra.extend(["--set".to_string(), s.clone()]);
    }
    if req.zip {
        extra.push("--zip".to_string());
    }
    let about = About {
        command: html::command("plan", &source.file_name(), seed, replicates, &extra),
        scenarios: vec![(source.file_name(), loaded.text.clone())],
    };
    with_report(&mut files, Path::new("plan.md"), &about);
    Ok(files)
}

/// `trialsim assurance`: the probability of success averaged over `draws` (e.g. a calibration's
/// draws.csv), or over the scenario's `[uncertainty]` table when `None`.
pub fn assurance(
    source: &Source,
    draws: Option<Draws>,
    counts: Counts,
    control: &Control,
) -> Result<Vec<File>, Error> {
    counts.check(["reps", "seed", "threads"]).map_err(Error::Argument)?;
    let (loaded, template) = load(source, &[])?;
    refuse_prior_rule(&loaded.scenario, &source.origin, "assurance")?;
    let (replicates, seed) = counts.resolve(&loaded.scenario);
    let from_file = draws.as_ref().map(|d| d.source.clone());
    let draws = match (draws, &loaded.uncertainty) {
        (Some(d), _) => d,
        (None, Some(u)) => crate::assurance::prior_draws(u, seed),
        (None, None) => {
            return Err(Error::Argument(format!(
                "{}: no parameter uncertainty: give draws or an [uncertainty] table",
                source.origin.display()
            )));
        }
    };
    crate::assurance::check_draws(&template, &draws)?;
    let m = draws.rows.len() as u64;
    let result = control.in_pool(|| {
        let progress = |d, _| (control.progress)(d as u64, m);
        crate::assurance::assurance_until(&template, &draws, replicates, seed, progress, control.cancel)
    })??;
    let result = result.ok_or(Error::Cancelled)?;
    let extra = match &from_file {
        Some(f) => vec!["--draws".to_string(), html::file_name(f)],
        None => Vec::new(),
    };
    let about = About {
        command: html::command("assurance", &source.file_name(), seed, replicates, &extra),
        scenarios: vec![(source.file_name(), loaded.text.clone())],
    };
    let mut files: Vec<File> = crate::report::assurance::files(&result)
        .into_iter()
        .map(|(name, bytes)| (PathBuf::from(name), bytes))
        .collect();
    with_report(&mut files, Path::new("assurance.md"), &about);
    Ok(files)
}
