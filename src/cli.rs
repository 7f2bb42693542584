//! The command line's shape (clap types): what a user can type. Parsing only; `commands` turns
//! these into settings and work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXAMPLES: &str = "Examples:
  trialsim run scenarios/astis.toml                 # 10,000 replicates as the file says
  trialsim run scenarios/astis.toml --reps 2000 --seed 7 --out /tmp/astis
  trialsim run scenarios/ph.toml --export-replicates --export-patients 5
  trialsim followup scenarios/astis_tests.toml      # power by test at several cuts
  trialsim sweep scenarios/astis.toml --set design.n=100:400:50
  trialsim plan scenarios/ph.toml --vary design.n --target 0.8
  trialsim calibrate scenarios/studies/astis.toml   # fit a study file's parameters to its figures
  trialsim check scenarios/astis.toml               # validate and print the true values
  trialsim serve --open                             # the what-if explorer in the browser";

#[derive(Parser, Debug)]
#[command(
    name = "trialsim",
    version,
    about = "Monte Carlo simulation of randomised time-to-event trials with early harm and late benefit",
    after_help = EXAMPLES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// How to simulate: shared by every command that simulates.
#[derive(Args, Debug, Clone)]
pub struct Simulate {
    /// The scenario TOML file.
    pub scenario: PathBuf,
    /// Replicates (overrides `simulation.replicates`).
    #[arg(long)]
    pub reps: Option<u64>,
    /// Seed (overrides `simulation.seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Output directory (default: results/<name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
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
        /// Parameter draws (a CSV with one column per dotted key, e.g. calibration's draws.csv):
        /// the long-term truth's median and 95% interval over them.
        #[arg(long, value_name = "FILE")]
        draws: Option<PathBuf>,
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
        /// Mark a test not acceptable when its rate of declaring benefit at the answer's
        /// never-better boundary ([analysis.never_better]) exceeds X, whatever its power.
        #[arg(long, value_name = "X")]
        never_better_limit: Option<f64>,
    },
    /// The probability of success averaged over parameter uncertainty, beside the power at the
    /// point estimate.
    #[command(after_help = "Examples:
  trialsim assurance scenarios/plan_next_trial.toml                # draws from its [uncertainty] table
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
        /// Parametric bootstrap: simulated studies to refit (500 by default: enough for the SD
        /// beside each observed-information SE to be read to about ±6%).
        #[arg(long, default_value_t = 500)]
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
    /// A what-if explorer in the browser: sliders for every number of the scenario, results
    /// refreshed as they move (a quick pass, then exactly `trialsim run`).
    #[command(after_help = "Examples:
  trialsim serve --open                              # the calibrated model (built in)
  trialsim serve scenarios/astis.toml --port 8080
Prints the URL with its access token and serves until Ctrl-C. Listens on 127.0.0.1 only, unless
--host is given.")]
    Serve {
        /// The scenario to start from (default: the calibrated HSCT model, built in).
        scenario: Option<PathBuf>,
        /// Port (default: a free one).
        #[arg(long)]
        port: Option<u16>,
        /// Address to listen on instead of 127.0.0.1: anyone who can reach it and has the token
        /// may run simulations. Pages must use this address (or localhost): other host names are
        /// refused.
        #[arg(long)]
        host: Option<String>,
        /// Open the page in the default browser.
        #[arg(long)]
        open: bool,
        /// Worker threads of the simulations (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
}
