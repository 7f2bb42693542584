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
mod sweep;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use error::Error;

use crate::cli::{Command, Simulate};
use crate::io::write_atomic;
use crate::scenario::Simulation;

/// Runs one parsed command line.
pub fn dispatch(command: Command) -> Result<(), Error> {
    match command {
        Command::Run { sim, export_replicates, export_patients } => {
            run::command(&sim, export_replicates, export_patients)
        }
        Command::Followup { sim, cuts } => followup::command(&sim, cuts),
        Command::Sweep { sim, set, zip, shard, limit } => sweep::command(&sim, &set, zip, shard, limit),
        Command::Plan { sim, vary, target, tests, range, set, zip } => {
            plan::command(&sim, plan::Request { vary, target, tests, range, set, zip })
        }
        Command::Assurance { sim, draws } => assurance::command(&sim, draws),
        Command::Merge { dirs, out } => merge::command(&dirs, &out),
        Command::Calibrate { studies, reps, seed, bootstrap, threads, out, quiet } => {
            calibrate::command(&studies, calibrate::Request { reps, seed, bootstrap, threads, out, quiet })
        }
        Command::Check { scenario } => check::command(&scenario),
    }
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
    pub fn resolve(sim: &Simulate, simulation: &Simulation, default_dir: &str) -> Settings {
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
    pub fn in_pool<T: Send>(&self, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
        in_pool(self.threads, f)
    }

    /// The closing line, unless quiet.
    pub fn done(&self) {
        done(&self.out, self.quiet);
    }
}

/// `--reps` and `--threads`, when given, are at least 1.
pub fn check_counts(reps: Option<u64>, threads: Option<usize>) -> Result<(), Error> {
    if reps == Some(0) {
        return Err(Error::Argument("--reps: expected at least 1 replicate, found 0".into()));
    }
    if threads == Some(0) {
        return Err(Error::Argument("--threads: expected at least 1 thread, found 0".into()));
    }
    Ok(())
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
pub fn in_pool<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T, Error> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    let pool = b.build().map_err(|e| {
        Error::failure(anyhow::anyhow!("starting {} worker threads: {e}", threads.unwrap_or(0)))
    })?;
    Ok(pool.install(f))
}

fn done(dir: &Path, quiet: bool) {
    if !quiet {
        eprintln!("wrote {}", dir.display());
    }
}

/// A rendered output file: where it goes and its bytes.
pub type File = (PathBuf, Vec<u8>);

/// Writes rendered files, each atomically, creating their folders. Rendering happens before
/// this, so a rendering failure writes nothing; a write failure can leave some files new and
/// others old, never one half written.
pub fn write_files(files: &[File]) -> Result<(), Error> {
    for (path, bytes) in files {
        if let Some(dir) = path.parent() {
            crate::io::create_dir(dir)?;
        }
        write_atomic(path, bytes)?;
    }
    Ok(())
}

/// Pretty JSON with a final newline, as every JSON output.
pub fn json_text(value: &impl serde::Serialize) -> Vec<u8> {
    (serde_json::to_string_pretty(value).expect("output types serialise") + "\n").into_bytes()
}
