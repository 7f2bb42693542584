//! One file per subcommand, each in the same steps: load the input → resolve one [`Settings`]
//! value → compute (the library) → render (`report`) → write atomically. Everything a user can
//! get wrong is checked before anything is written. This layer owns the terminal: progress bars
//! and the closing `wrote DIR` line; the layers below print nothing.

mod assurance;
mod calibrate;
mod check;
mod error;
mod followup;
mod merge;
mod plan;
pub mod run;
mod serve;
mod sweep;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use error::Error;

pub use crate::scenario_file::{Loaded, validate};

use crate::atomic_file::write_atomic;
use crate::cli::{Command, Simulate};
use crate::report::html::{self, About};
use crate::scenario::{Document, Simulation};

/// Runs one parsed command line.
/// On Ctrl-C (SIGINT, or SIGTERM from a scheduler), removes the temporary files being written
/// and exits with 130: an interrupted export leaves neither a hidden partial file nor a new
/// summary.json (written last). Finished point records of a sweep stay: a rerun resumes.
pub fn on_interrupt_remove_temporaries() {
    // Fails only if a handler is already set (a second call in one process): nothing to do then.
    let _ = ctrlc::set_handler(|| {
        crate::atomic_file::remove_live_temporaries();
        eprintln!("interrupted: temporary files removed; finished files kept");
        std::process::exit(130);
    });
}

pub fn dispatch(command: Command) -> Result<(), Error> {
    match command {
        Command::Run { sim, export_replicates, export_patients, draws } => {
            run::command(&sim, export_replicates, export_patients, draws.as_deref())
        }
        Command::Followup { sim, cuts } => followup::command(&sim, cuts),
        Command::Sweep { sim, set, zip, shard, limit } => sweep::command(&sim, &set, zip, shard, limit),
        Command::Plan { sim, vary, target, tests, range, set, zip, never_better_limit } => {
            plan::command(&sim, plan::PlanArgs { vary, target, tests, range, set, zip, never_better_limit })
        }
        Command::Assurance { sim, draws } => assurance::command(&sim, draws),
        Command::Merge { dirs, out } => merge::command(&dirs, &out),
        Command::Calibrate { studies, reps, seed, bootstrap, threads, out, quiet } => calibrate::command(
            &studies,
            calibrate::CalibrateArgs { reps, seed, bootstrap, threads, out, quiet },
        ),
        Command::Check { scenario } => check::command(&scenario),
        Command::Serve { scenario, port, host, open, threads } => {
            serve::command(serve::ServeArgs { scenario, port, host, open, threads })
        }
    }
}

/// A predictive-probability futility rule needs a prior's draws, which only `trialsim run` takes
/// (`--draws` or `[uncertainty]`): any other command refuses the scenario (exit 2) rather than
/// simulate a rule that could never stop a trial.
pub(crate) fn refuse_prior_rule(
    sc: &crate::scenario::Scenario,
    path: &Path,
    command: &str,
) -> Result<(), Error> {
    match sc.monitoring.as_ref().and_then(|m| m.futility.as_ref()) {
        Some(f) if f.needs_prior() => Err(Error::Argument(format!(
            "{}: `monitoring.futility.rule = \"predictive_probability\"` needs a prior's draws, which `trialsim run` takes (`--draws FILE` or an `[uncertainty]` table); `{command}` cannot simulate it",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Reads and validates a scenario file: the scenario first, then `[sweep]`, `[uncertainty]`,
/// `[followup]`, `[[targets]]` and `[calibrate]`.
pub fn load(path: &Path) -> Result<Loaded, Error> {
    validate(&Document::load(path)?).map_err(Error::Scenario)
}

/// What every simulating command needs, resolved once: the command line over the scenario's
/// `[simulation]` table, and the output directory over its default.
#[derive(Debug, Clone)]
pub struct Settings {
    pub replicates: u64,
    pub seed: u64,
    /// Worker threads (`None`: all cores). Results do not depend on it.
    pub threads: Option<usize>,
    pub out: PathBuf,
    pub quiet: bool,
}

impl Settings {
    /// `--reps`, `--seed` and `--out` where given, else the scenario's values and
    /// `results/<default_dir>`.
    pub(crate) fn resolve(sim: &Simulate, simulation: &Simulation, default_dir: &str) -> Settings {
        Settings {
            replicates: sim.reps.unwrap_or(simulation.replicates),
            seed: sim.seed.unwrap_or(simulation.seed),
            threads: sim.threads,
            out: sim.out.clone().unwrap_or_else(|| Path::new("results").join(default_dir)),
            quiet: sim.quiet,
        }
    }

    /// A progress bar on stderr, hidden with `--quiet` or when stderr is not a terminal.
    pub fn progress(&self, total: u64) -> ProgressBar {
        progress(total, self.quiet)
    }

    /// Runs `f` on a rayon pool of the requested threads.
    pub(crate) fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
        in_pool(self.threads, f)
    }

    /// See [`prepare_out`].
    pub(crate) fn prepare_out(&self) -> Result<OutDir, Error> {
        prepare_out(&self.out)
    }

    /// What report.html says of how it was made: `trialsim <subcommand> FILE --seed S --reps R
    /// EXTRA…` (the file's name only) and the scenario's text.
    pub fn about(&self, subcommand: &str, scenario: &Path, text: &str, extra: &[String]) -> About {
        let file = scenario.to_string_lossy();
        About {
            command: html::command(subcommand, &file, self.seed, self.replicates, extra),
            scenarios: vec![(html::file_name(&file), text.to_string())],
        }
    }

    /// The closing line, unless quiet.
    pub fn done(&self) {
        done(&self.out, self.quiet);
    }
}

pub use crate::embed::MAX_THREADS;

/// `--reps` and `--threads`, when given, are in the ranges a scenario file allows (checked
/// before anything is read or created).
pub(crate) fn check_counts(reps: Option<u64>, threads: Option<usize>) -> Result<(), Error> {
    let counts = crate::embed::Counts { replicates: reps, seed: None, threads };
    counts.check(["--reps", "--seed", "--threads"]).map_err(Error::Argument)
}

/// `--seed`, when given, is in the range a scenario file allows.
pub(crate) fn check_seed(seed: Option<u64>) -> Result<(), Error> {
    let counts = crate::embed::Counts { seed, ..Default::default() };
    counts.check(["--reps", "--seed", "--threads"]).map_err(Error::Argument)
}

/// The command line of a simulating command, checked before anything is read or created.
pub(crate) fn check_simulate(sim: &Simulate) -> Result<(), Error> {
    check_counts(sim.reps, sim.threads)?;
    check_seed(sim.seed)
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
pub(crate) fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    let pool = b.build().map_err(|e| {
        Error::failure(anyhow::anyhow!("starting {} worker threads: {e}", threads.unwrap_or(0)))
    })?;
    Ok(pool.install(f))
}

pub use crate::embed::{LOCK_FILE, OutDir};

/// See [`crate::embed::prepare_out`]: a directory that cannot be made or is in use is a bad
/// argument (exit 2), found before any work.
pub(crate) fn prepare_out(out: &Path) -> Result<OutDir, Error> {
    crate::embed::prepare_out(out).map_err(Error::Argument)
}

fn done(dir: &Path, quiet: bool) {
    if !quiet {
        eprintln!("wrote {}", dir.display());
    }
}

/// Prints on stderr, as warnings, the analysis times no trial of the design reaches (their
/// estimates are reported as "n/a"): the scenario is valid, but probably not what was meant.
pub(crate) fn warn_beyond_follow_up(sc: &crate::scenario::Scenario) {
    for w in crate::truth::beyond_follow_up(sc, crate::truth::expected_cut(sc)) {
        eprintln!("warning: {}: {w}", sc.name);
    }
}

/// A rendered output file: where it goes and its bytes.
pub type File = (PathBuf, Vec<u8>);

/// Writes rendered files, each atomically, creating their folders. Rendering happens before
/// this, so a rendering failure writes nothing; a write failure can leave some files new and
/// others old, never one half written.
pub(crate) fn write_files(files: &[File]) -> Result<(), Error> {
    for (path, bytes) in files {
        if let Some(dir) = path.parent() {
            crate::atomic_file::create_dir(dir)?;
        }
        write_atomic(path, bytes)?;
    }
    Ok(())
}

pub(crate) use crate::embed::with_report;

#[cfg(test)]
mod tests {
    //! The command and study tables, validated in-process like the scenario itself.
    use super::*;
    use crate::scenario::fixture::{appended, out_of_range};
    use crate::scenario::{ErrorKind, Scenario, ScenarioError};

    fn error(text: &str) -> ScenarioError {
        let doc = Document::parse(text, Path::new("s.toml")).expect("parses");
        match validate(&doc) {
            Ok(_) => panic!("expected an error for\n{text}"),
            Err(e) => e,
        }
    }

    #[track_caller]
    fn assert_error(text: &str, kind: ErrorKind, key: &str, line_column: (usize, usize)) {
        let e = error(text);
        assert_eq!(e.kind(), &kind, "{e}");
        assert_eq!(e.key(), Some(key), "{e}");
        assert_eq!(e.line_column(), Some(line_column), "{e}");
    }

    #[test]
    fn a_sweep_item_that_is_not_an_axis() {
        let e = error(&appended("[sweep]\nset = [\"design.n=100:400:50\", \"nokey\"]"));
        let ErrorKind::Invalid(m) = e.kind() else { panic!("{e}") };
        assert!(m.starts_with("expected KEY=VALUES"), "{e}");
        assert_eq!((e.key(), e.line_column()), (Some("sweep.set[1]"), Some((25, 31))));
    }

    #[test]
    fn an_uncertainty_distribution_with_bad_parameters() {
        assert_error(
            &appended("[uncertainty]\nkeys = { \"a.b\" = { normal = [0, -1] } }"),
            out_of_range("normal = [mean, sd] with sd > 0", "[0.0, -1.0]"),
            "uncertainty.keys.\"a.b\"",
            (25, 29),
        );
    }

    #[test]
    fn followup_cuts_not_increasing() {
        assert_error(
            &appended("[followup]\ncuts = [2, 1]"),
            ErrorKind::NotIncreasing { found: 1.0, after: 2.0 },
            "followup.cuts[1]",
            (25, 12),
        );
    }

    #[test]
    fn a_target_value_out_of_range() {
        // calibrate::targets words its own messages (`Invalid`).
        let target = "[[targets]]\nname = \"s\"\nkind = \"survival\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 2\nvalue = 1.2";
        assert_error(
            &appended(target),
            ErrorKind::Invalid("expected a probability in [0, 1], found 1.2".into()),
            "targets[0].value",
            (30, 9),
        );
    }

    #[test]
    fn the_scenario_alone_ignores_other_commands_tables() {
        // A bad [sweep] does not stop Scenario::from_toml (the model is fine); commands still
        // reject the file through `validate`.
        let text = appended("[sweep]\nset = [\"nokey\"]");
        assert!(Scenario::from_toml(&text, Path::new("s.toml")).is_ok());
        assert!(validate(&Document::parse(&text, Path::new("s.toml")).unwrap()).is_err());
    }
}
