//! The `trialsim` command line: parse arguments, make one library call, render errors.
//! Exit codes: 0 success, 2 bad input (one message, nothing written), 1 any other failure.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use trialsim::assurance::{AssuranceError, assurance, prior_draws, read_draws};
use trialsim::calibrate::{
    CalibrateError, Calibration, Options as CalibrateOptions, Problem, Study, calibrate,
};
use trialsim::plan::{PlanError, PlanOptions};
use trialsim::run::{Options, RunError, in_pool, progress, run, run_followup, run_plan};
use trialsim::scenario::overrides::Template;
use trialsim::scenario::{Scenario, ScenarioError};
use trialsim::sweep::{SweepError, SweepOptions, grid_of, merge, run_sweep};

const EXAMPLES: &str = "Examples:
  trialsim run scenarios/astis.toml                 # 10,000 replicates as the file says
  trialsim run scenarios/astis.toml --reps 2000 --seed 7 --out /tmp/astis
  trialsim run scenarios/ph.toml --export-replicates --export-patients 5
  trialsim followup scenarios/astis_tests.toml      # power by test at several cuts
  trialsim sweep scenarios/astis.toml --set design.n=100:400:50
  trialsim plan scenarios/ph.toml --vary design.n --target 0.8
  trialsim calibrate scenarios/studies/astis.toml   # fit a study file's parameters to its figures
  trialsim check scenarios/astis.toml               # validate and print the true values";

#[derive(Parser)]
#[command(
    name = "trialsim",
    version,
    about = "Monte Carlo simulation of randomised time-to-event trials with early harm and late benefit",
    after_help = EXAMPLES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How to simulate: shared by every command that simulates.
#[derive(Args)]
struct Simulate {
    /// The scenario TOML file.
    scenario: PathBuf,
    /// Replicates (overrides `simulation.replicates`).
    #[arg(long)]
    reps: Option<u64>,
    /// Seed (overrides `simulation.seed`).
    #[arg(long)]
    seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Output directory (default: results/<name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl Simulate {
    fn options(&self) -> Result<Options, Failure> {
        check_counts(self.reps, self.threads)?;
        Ok(Options {
            replicates: self.reps,
            seed: self.seed,
            threads: self.threads,
            out: self.out.clone(),
            quiet: self.quiet,
            ..Options::default()
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Simulate a scenario: power, crossing, long-term benefit, with Monte Carlo error.
    #[command(after_help = EXAMPLES)]
    Run {
        #[command(flatten)]
        sim: Simulate,
        /// Also write replicates.csv: one row of test statistics per replicate.
        #[arg(long)]
        export_replicates: bool,
        /// Also write patients.csv with the analysed patients of replicates 0..K.
        #[arg(long, value_name = "K")]
        export_patients: Option<u64>,
    },
    /// Power of every test at several analysis cuts, on the same simulated trials.
    #[command(
        after_help = "Examples:\n  trialsim followup scenarios/astis_tests.toml            # cuts from [followup] cuts\n  trialsim followup scenarios/astis.toml --cuts 4,6,8,10,12.6 --reps 2000"
    )]
    Followup {
        #[command(flatten)]
        sim: Simulate,
        /// Calendar cuts from the start of accrual (overrides `[followup] cuts`).
        #[arg(long, value_delimiter = ',')]
        cuts: Option<Vec<f64>>,
    },
    /// Simulate a grid of scenario variations (dotted-key overrides), resumably.
    #[command(after_help = "Examples:
  trialsim sweep scenarios/astis.toml --set design.n=100:400:50 --reps 2000
  trialsim sweep scenarios/astis.toml --set arms.hsct.causes.treatment_death.early_risk.risk=0.02,0.05,0.1 \\
      --set design.cut.calendar=8,10,12.6
  trialsim sweep scenarios/astis.toml --set design.n=100:400:50 --shard 2/4 --out sweep_2   # then merge
An interrupted sweep rerun with the same command computes only the missing points.")]
    Sweep {
        #[command(flatten)]
        sim: Simulate,
        /// KEY=VALUES: a numeric dotted key (e.g. design.n, ...relative.hr[1]) and a list
        /// `a,b,c` or an inclusive range `start:end:step`. Repeat for more keys (default: the
        /// scenario's [sweep] table).
        #[arg(long = "set", value_name = "KEY=VALUES")]
        set: Vec<String>,
        /// Pair the i-th values of every key instead of taking all combinations.
        #[arg(long)]
        zip: bool,
        /// Compute only shard I of N (points p with p mod N = I − 1); join shards with `merge`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Compute at most K new points, then stop (rerun to continue).
        #[arg(long, value_name = "K")]
        limit: Option<usize>,
    },
    /// The smallest value of a key (sample size, follow-up, …) whose power reaches a target.
    #[command(after_help = "Examples:
  trialsim plan scenarios/ph.toml --vary design.n --target 0.8
  trialsim plan scenarios/astis.toml --vary design.n --target 0.8 --test logrank --test maxcombo
  trialsim plan scenarios/plan_next_trial.toml --vary design.n --target 0.8 --test logrank \\
      --set arms.hsct.causes.treatment_death.early_risk.risk=0.02,0.05 --set design.cut.min_followup=4,6")]
    Plan {
        #[command(flatten)]
        sim: Simulate,
        /// The key to plan (e.g. design.n, design.cut.calendar, design.cut.min_followup).
        #[arg(long)]
        vary: String,
        /// The power to reach, in (0, 1).
        #[arg(long)]
        target: f64,
        /// Test(s) to plan for (default: the scenario's first test).
        #[arg(long = "test")]
        tests: Vec<String>,
        /// Search range LOW:HIGH (default: from 4 (integers) or a twentieth of the scenario's value
        /// to twenty times it).
        #[arg(long, value_name = "LOW:HIGH")]
        range: Option<String>,
        /// Plan at every point of a grid of other keys (KEY=VALUES, as for `sweep`).
        #[arg(long = "set", value_name = "KEY=VALUES")]
        set: Vec<String>,
        /// Pair the grid's values instead of taking all combinations.
        #[arg(long)]
        zip: bool,
    },
    /// The probability of success averaged over parameter uncertainty, beside the power at the
    /// point estimate.
    #[command(after_help = "Examples:
  trialsim assurance scenarios/hsct_uncertain.toml                 # draws from its [uncertainty] table
  trialsim assurance scenarios/astis.toml --draws results/calibration/astis/draws.csv")]
    Assurance {
        #[command(flatten)]
        sim: Simulate,
        /// Parameter draws: a CSV with one column per dotted key (e.g. calibration's draws.csv).
        /// Default: the scenario's [uncertainty] table.
        #[arg(long)]
        draws: Option<PathBuf>,
    },
    /// Join the output directories of a sharded sweep.
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write the merged sweep.
        #[arg(long)]
        out: PathBuf,
    },
    /// Fit study files' free parameters to their published figures; several files make a joint
    /// fit (parameters with the same name are shared).
    #[command(after_help = "Examples:
  trialsim calibrate scenarios/studies/astis.toml --out results/calibration/astis
  trialsim calibrate scenarios/studies/ebmt_registry.toml scenarios/studies/phase2_series.toml \\
      scenarios/studies/astis.toml --out results/calibration/joint
Writes calibration.json, calibration.md, calibration.svg, fitted.toml and draws.csv (one study), or
<study>/fitted.toml and <study>/draws.csv for each study of a joint fit.")]
    Calibrate {
        /// Study files: scenarios with [[targets]] and [calibrate].
        #[arg(required = true)]
        studies: Vec<PathBuf>,
        /// Simulated copies of each study for the predictive check (overrides the first file's
        /// `simulation.replicates`).
        #[arg(long)]
        reps: Option<u64>,
        /// Seed of every study (overrides each file's `simulation.seed`; a study's streams also
        /// depend on its name, so studies never share them).
        #[arg(long)]
        seed: Option<u64>,
        /// Parametric bootstrap: simulated studies to refit.
        #[arg(long, default_value_t = 200)]
        bootstrap: usize,
        /// Worker threads (default: all cores). Results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory (default: results/calibration/<study name>, or .../joint).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress messages.
        #[arg(long)]
        quiet: bool,
    },
    /// Validate a scenario and print its true values (no simulation).
    #[command(after_help = EXAMPLES)]
    Check {
        /// The scenario TOML file.
        scenario: PathBuf,
    },
}

enum Failure {
    BadInput(ScenarioError),
    BadArgument(String),
    Other(anyhow::Error),
}

fn parse_shard(s: &str) -> Result<(usize, usize), Failure> {
    let bad = || Failure::BadArgument(format!("--shard: expected I/N with 1 ≤ I ≤ N, found {s:?}"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

fn sweep_failure(e: SweepError) -> Failure {
    match e {
        SweepError::Input(m) => Failure::BadArgument(m),
        SweepError::Scenario(e) => Failure::BadInput(e),
        other => Failure::Other(other.into()),
    }
}

fn assurance_failure(e: AssuranceError) -> Failure {
    match e {
        AssuranceError::Input(m) => Failure::BadArgument(m),
        AssuranceError::Scenario(e) => Failure::BadInput(e),
    }
}

fn load(path: &Path) -> Result<Scenario, Failure> {
    Scenario::from_path(path).map_err(Failure::BadInput)
}

fn done(dir: &Path, quiet: bool) {
    if !quiet {
        eprintln!("wrote {}", dir.display());
    }
}

fn main_inner() -> Result<(), Failure> {
    match Cli::parse().command {
        Command::Run { sim, export_replicates, export_patients } => {
            let opts = Options { export_replicates, export_patients, ..sim.options()? };
            let sc = load(&sim.scenario)?;
            let outcome = run(&sc, &opts)
                .with_context(|| format!("running {}", sim.scenario.display()))
                .map_err(Failure::Other)?;
            done(&outcome.out, sim.quiet);
        }
        Command::Followup { sim, cuts } => {
            let opts = sim.options()?;
            let sc = load(&sim.scenario)?;
            if sc.comparison.is_none() {
                return Err(Failure::BadArgument(format!(
                    "{}: `followup` compares the tests of two arms; this is a single-arm study (use `run`)",
                    sim.scenario.display()
                )));
            }
            let cuts = cuts.unwrap_or_else(|| sc.followup_cuts.clone());
            let increasing = cuts.windows(2).all(|w| w[0] < w[1]);
            if cuts.is_empty() || !increasing || cuts.iter().any(|c| !(c.is_finite() && *c > 0.0)) {
                return Err(Failure::BadArgument(format!(
                    "{}: expected increasing positive cuts (`[followup] cuts` or --cuts), found {cuts:?}",
                    sim.scenario.display()
                )));
            }
            let dir = run_followup(&sc, &cuts, &opts)
                .with_context(|| format!("running {}", sim.scenario.display()))
                .map_err(Failure::Other)?;
            done(&dir, sim.quiet);
        }
        Command::Sweep { sim, set, zip, shard, limit } => {
            let opts = sim.options()?;
            let shard = shard.map(|s| parse_shard(&s)).transpose()?;
            let template = Template::from_path(&sim.scenario).map_err(Failure::BadInput)?;
            let base = load(&sim.scenario)?;
            let (axes, zip) = grid_of(&base, &set, zip).map_err(sweep_failure)?;
            let sopts = SweepOptions {
                replicates: opts.replicates,
                seed: opts.seed,
                threads: opts.threads,
                out: opts.out.clone(),
                quiet: opts.quiet,
                shard,
                limit,
            };
            let bar = progress(0, sim.quiet);
            let outcome = in_pool(opts.threads, || {
                run_sweep(&template, &axes, zip, &sopts, |done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                })
            })
            .map_err(|e| Failure::Other(e.into()))?
            .map_err(sweep_failure)?;
            bar.finish_and_clear();
            eprintln!(
                "sweep: {} points, {} reused, {} computed",
                outcome.points, outcome.reused, outcome.computed
            );
            if !outcome.complete {
                eprintln!(
                    "sweep incomplete: rerun the same command to continue{}",
                    if shard.is_some() { ", or `trialsim merge` the shard directories" } else { "" }
                );
            }
            done(&outcome.out, sim.quiet);
        }
        Command::Plan { sim, vary, target, tests, range, set, zip } => {
            let opts = sim.options()?;
            let range = range
                .map(|r| {
                    let v = trialsim::sweep::parse_values(&r.replace(':', ","))
                        .map_err(|m| Failure::BadArgument(format!("--range: {m}")))?;
                    match v[..] {
                        [lo, hi] if lo < hi => Ok((lo, hi)),
                        _ => Err(Failure::BadArgument(format!(
                            "--range: expected LOW:HIGH with LOW < HIGH, found {r:?}"
                        ))),
                    }
                })
                .transpose()?;
            let template = Template::from_path(&sim.scenario).map_err(Failure::BadInput)?;
            let axes = set
                .iter()
                .map(|s| trialsim::sweep::Axis::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::BadArgument)?;
            let popts = PlanOptions {
                key: vary,
                target,
                tests,
                replicates: opts.replicates,
                seed: opts.seed,
                range,
                fixed: Vec::new(),
            };
            let dir = match run_plan(&template, &popts, &axes, zip, &opts) {
                Ok(d) => d,
                Err(RunError::Plan(PlanError::Input(m))) => return Err(Failure::BadArgument(m)),
                Err(RunError::Plan(PlanError::Scenario(e))) => return Err(Failure::BadInput(e)),
                Err(e) => {
                    return Err(Failure::Other(
                        anyhow::Error::new(e).context(format!("planning {}", sim.scenario.display())),
                    ));
                }
            };
            if !sim.quiet {
                let md = std::fs::read_to_string(dir.join("plan.md")).unwrap_or_default();
                eprint!("{md}");
            }
            done(&dir, sim.quiet);
        }
        Command::Assurance { sim, draws } => {
            let opts = sim.options()?;
            let template = Template::from_path(&sim.scenario).map_err(Failure::BadInput)?;
            let base = load(&sim.scenario)?;
            let seed = opts.seed.unwrap_or(base.simulation.seed);
            let draws = match (&draws, &base.uncertainty) {
                (Some(f), _) => read_draws(f).map_err(assurance_failure)?,
                (None, Some(u)) => prior_draws(u, seed),
                (None, None) => {
                    return Err(Failure::BadArgument(format!(
                        "{}: no parameter uncertainty: give --draws FILE or an [uncertainty] table",
                        sim.scenario.display()
                    )));
                }
            };
            let reps = opts.replicates.unwrap_or(base.simulation.replicates);
            let bar = progress(draws.rows.len() as u64, sim.quiet);
            let result = in_pool(opts.threads, || {
                assurance(&template, &draws, reps, seed, |d, _| bar.set_position(d as u64))
            })
            .map_err(|e| Failure::Other(e.into()))?
            .map_err(assurance_failure)?;
            bar.finish_and_clear();
            let out = opts
                .out
                .clone()
                .unwrap_or_else(|| Path::new("results").join(format!("{}_assurance", base.name)));
            let write = || -> Result<(), trialsim::io::IoError> {
                trialsim::io::create_dir(&out)?;
                let json = serde_json::to_string_pretty(&result).expect("serialises") + "\n";
                trialsim::io::write_atomic(&out.join("assurance.json"), json.as_bytes())?;
                trialsim::io::write_atomic(
                    &out.join("assurance.md"),
                    trialsim::assurance::markdown(&result).as_bytes(),
                )
            };
            write().map_err(|e| Failure::Other(e.into()))?;
            if !sim.quiet {
                eprint!("{}", trialsim::assurance::markdown(&result));
            }
            done(&out, sim.quiet);
        }
        Command::Merge { dirs, out } => {
            let outcome = merge(&dirs, &out).map_err(sweep_failure)?;
            eprintln!(
                "sweep: {} points, {} reused, {} computed",
                outcome.points, outcome.reused, outcome.computed
            );
        }
        Command::Calibrate { studies, reps, seed, bootstrap, threads, out, quiet } => {
            check_counts(reps, threads)?;
            if bootstrap == 1 {
                return Err(Failure::BadArgument(
                    "--bootstrap: expected 0 or at least 2 draws, found 1".into(),
                ));
            }
            let loaded = studies
                .iter()
                .map(|p| Study::load(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(calibrate_failure)?;
            let problem = Problem::new(loaded).map_err(calibrate_failure)?;
            let out = out.unwrap_or_else(|| {
                let name = if problem.studies.len() > 1 {
                    "joint".to_string()
                } else {
                    problem.studies[0].name().to_string()
                };
                Path::new("results").join("calibration").join(name)
            });
            let opts = CalibrateOptions { replicates: reps, seed, bootstrap, quiet };
            let c = in_pool(threads, || calibrate(problem, &opts))
                .map_err(|e| Failure::Other(e.into()))?
                .map_err(calibrate_failure)?;
            write_calibration(&c, &out).map_err(Failure::Other)?;
            if !quiet {
                eprint!("{}", trialsim::report::calibration::markdown(&c));
            }
            done(&out, quiet);
        }
        Command::Check { scenario } => {
            let sc = load(&scenario)?;
            print!("{}", trialsim::report::markdown::truth_table(&sc));
        }
    }
    Ok(())
}

/// `--reps` and `--threads`, when given, are at least 1.
fn check_counts(reps: Option<u64>, threads: Option<usize>) -> Result<(), Failure> {
    if reps == Some(0) {
        return Err(Failure::BadArgument("--reps: expected at least 1 replicate, found 0".into()));
    }
    if threads == Some(0) {
        return Err(Failure::BadArgument("--threads: expected at least 1 thread, found 0".into()));
    }
    Ok(())
}

fn calibrate_failure(e: CalibrateError) -> Failure {
    match e {
        CalibrateError::Scenario(e) => Failure::BadInput(e),
        CalibrateError::Study { .. } | CalibrateError::Argument(_) => Failure::BadArgument(e.to_string()),
        CalibrateError::Fit(_) => Failure::Other(e.into()),
    }
}

/// Every file is rendered before any is written, and each is written atomically (no file is ever
/// half written; a failure while writing can leave some files new and others old). Without a
/// bootstrap an old draws.csv is removed, so that it never sits beside a fit it does not belong to.
fn write_calibration(c: &Calibration, out: &Path) -> anyhow::Result<()> {
    let mut stale = Vec::new();
    use trialsim::report::calibration as rc;
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (out.join("calibration.json"), rc::json(c).into_bytes()),
        (out.join("calibration.md"), rc::markdown(c).into_bytes()),
        (
            out.join("calibration.svg"),
            rc::svg(c).map_err(anyhow::Error::msg).context("calibration.svg")?.into_bytes(),
        ),
    ];
    for s in 0..c.problem.studies.len() {
        let dir = match rc::study_dir(&c.problem, s) {
            Some(d) => out.join(d),
            None => out.to_path_buf(),
        };
        files.push((dir.join("fitted.toml"), rc::fitted_toml(c, s)?.into_bytes()));
        if c.draws.is_empty() {
            stale.push(dir.join("draws.csv"));
        } else {
            files.push((dir.join("draws.csv"), rc::draws_csv(c, s)?));
        }
    }
    for (path, bytes) in files {
        if let Some(dir) = path.parent() {
            trialsim::io::create_dir(dir)?;
        }
        trialsim::io::write_atomic(&path, &bytes)?;
    }
    for path in stale {
        if path.exists() {
            std::fs::remove_file(&path).with_context(|| format!("removing the old {}", path.display()))?;
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match main_inner() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::BadInput(e)) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
        Err(Failure::BadArgument(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(1)
        }
    }
}
