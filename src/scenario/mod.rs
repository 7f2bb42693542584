//! A scenario: the model (arms, causes, hazards, endpoints), the design (size, allocation,
//! accrual, dropout, data cut) and the analyses of one simulated trial.
//!
//! The file is parsed once into a [`Document`] of `raw` structs (spans kept), then `validate`
//! builds these types, whose invariants the rest of the crate relies on: every hazard is
//! well-formed, every cause index is in range, the control and experimental arms exist and are
//! allocated, periods and horizons increase. Nothing downstream re-checks user input.
//!
//! A `Scenario` is what one simulated trial needs: the model, the design and the analysis. The
//! tables that configure other commands (`[sweep]`, `[followup]`, `[uncertainty]`, a study
//! file's `[[targets]]` and `[calibrate]`) are read from the same document into their commands'
//! own settings.

mod document;
mod error;
pub mod labels;
pub mod overrides;
mod outcomes;
mod population;
pub mod raw;
mod validate;

use std::path::Path;

pub use document::Document;
pub use error::{ErrorKind, Namespace, RelativeProblem, ScenarioError, list};
pub use outcomes::{Assessments, Composite, CompositeLayer, Outcome, OutcomeModel, cholesky, exchangeable};
pub use population::{MAX_STRATA, Randomisation, Stratum};
pub use validate::Ctx;
/// A valid scenario text and edits of it, for validation tests here and beside the commands.
#[cfg(test)]
pub(crate) use validate::fixture;

pub use crate::stats::crossing::CrossingRule;
pub use crate::stats::decision::Sides;
pub use crate::stats::extrapolation::ExtrapolationMethod;

use crate::hazard::Hazard;
pub use crate::stats::monitor::Harm;
pub use crate::stats::safety::BayesRule;
pub use crate::stats::sequential::Efficacy;
pub use crate::stats::spending::Spending;
pub use crate::test_statistic::{Settings, TestKind};
use crate::time::Time;

/// At most this many replicates, in a file or on the command line: keeps counts in range and
/// typos from hanging a run.
pub const MAX_REPLICATES: u64 = 1_000_000_000;

/// The largest seed, in a file or on the command line: TOML integers are signed 64-bit.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub time_unit: String,
    pub simulation: Simulation,
    pub design: Design,
    /// Arms in name order: what all strata share (names, labels, allocation) and, without
    /// strata, the model itself. The model of stratum s is [`Scenario::stratum_arms`].
    pub arms: Vec<Arm>,
    /// `[strata.NAME]` in name order; empty: one homogeneous population (see
    /// [`Scenario::population`]).
    pub strata: Vec<Stratum>,
    /// Every cause named in any arm, in name order; `Arm::causes` is indexed the same way.
    pub causes: Vec<String>,
    pub endpoints: Vec<Endpoint>,
    /// `[outcomes.NAME]` in name order (empty: none); each arm's distributions are
    /// `Arm::outcomes`, indexed the same way.
    pub outcomes: Vec<Outcome>,
    /// `[assessments]`: present exactly when there are outcomes.
    pub assessments: Option<Assessments>,
    /// `[endpoints.NAME] layers = [...]`: hierarchical composites, in name order.
    pub composites: Vec<Composite>,
    pub analysis: Analysis,
    /// The two compared arms; `None` for a single-arm study.
    pub comparison: Option<Comparison>,
    /// Interim looks before the final analysis at `design.cut`; `None`: a fixed design.
    pub monitoring: Option<Monitoring>,
    /// `[labels]`: words and display scales for readers (no result depends on them).
    pub labels: labels::Labels,
}

/// `[monitoring]`: interim looks, their group-sequential bounds, and a safety rule. Part of the
/// design (sweep fingerprints cover it). Requires one-sided tests.
#[derive(Debug, Clone, PartialEq)]
pub struct Monitoring {
    /// The monitored tests, as indices into `analysis.tests` (log-rank, FH, Cox only): each is
    /// monitored as its own design on the same trials.
    pub tests: Vec<usize>,
    /// The interim looks, in order; the final analysis is `design.cut`.
    pub looks: Vec<Look>,
    pub spending_time: SpendingTime,
    pub efficacy: Efficacy,
    pub futility: Option<FutilityRule>,
    pub harm: Option<Harm>,
    pub safety: Option<Safety>,
    /// What the committee is shown at each interim look (conditional power under three drifts)
    /// and what each rule buys under identical arms and at the never-better boundary; `None`:
    /// not reported.
    pub committee: Option<Committee>,
}

/// `[monitoring.committee]`: conditional power at every interim look of every monitored trial,
/// and both sides of every rule (what it costs when the transplant works, what it saves when it
/// does not).
#[derive(Debug, Clone, PartialEq)]
pub struct Committee {
    /// The conditional power below which a committee would consider stopping: how often the
    /// design's and the model's conditional power disagree about it is reported.
    pub threshold: f64,
    /// Without β-spending futility under the design's drift, the design's drift is the one at
    /// which the efficacy bounds alone give power 1 − β.
    pub beta: f64,
}

/// The expected path of the benefit statistic after a look, for conditional power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpDrift {
    /// The design's drift θ (rpact's: the alternative the design was sized for).
    Design,
    /// The current trend θ̂ = B(t)/t.
    Trend,
    /// The scenario's own model: the expected B-values at the remaining looks.
    Model,
}

impl CpDrift {
    pub const ALL: [CpDrift; 3] = [CpDrift::Design, CpDrift::Trend, CpDrift::Model];

    pub fn name(self) -> &'static str {
        match self {
            CpDrift::Design => "design",
            CpDrift::Trend => "trend",
            CpDrift::Model => "model",
        }
    }
}

/// When an interim look happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Look {
    /// A data cut, as `[design.cut]`.
    Cut(Cut),
    /// When the monitored test's information reaches this fraction of the maximum, in (0, 1).
    Fraction(f64),
}

/// The time scale on which α and β are spent (Lan & DeMets 1989).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpendingTime {
    /// The information fraction t_k = I_k / I_max.
    Information,
    /// Calendar time over the final analysis's calendar time (needs a calendar final cut).
    Calendar,
}

/// Futility bounds of the interim looks.
#[derive(Debug, Clone, PartialEq)]
pub struct FutilityRule {
    pub bound: FutilityBound,
    pub binding: bool,
    pub alternative: Alternative,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FutilityBound {
    /// β-spending with total β.
    Spending { beta: f64, function: Spending },
    /// b ≤ z_k (the benefit scale).
    Z(Vec<f64>),
    /// The observed hazard ratio at or above hr_k, as 1:1 log-rank: b ≤ −ln(hr_k)√(d_k/4).
    Hr(Vec<f64>),
    /// Conditional power under `under` below `below` (never binding).
    ConditionalPower { below: f64, under: CpDrift },
    /// The predictive probability over a prior's draws below `below` (never binding; the prior
    /// comes with the run: `trialsim run --draws FILE` or the file's `[uncertainty]` table).
    PredictiveProbability { below: f64 },
}

impl FutilityRule {
    /// Whether the rule needs a prior's draws (the predictive probability).
    pub fn needs_prior(&self) -> bool {
        matches!(self.bound, FutilityBound::PredictiveProbability { .. })
    }
}

/// The drift under which β is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// rpact's: the drift that gives the design power 1 − β.
    Design,
    /// What this scenario's model implies at each look (gsDesign2's `gs_info_ahr`/`gs_info_wlr`).
    Truth,
}

/// A safety rule on one cause in one arm.
#[derive(Debug, Clone, PartialEq)]
pub struct Safety {
    /// Index into `Scenario::causes`.
    pub cause: usize,
    /// Causes that end a patient's evaluation without the event (other deaths), as indices into
    /// `Scenario::causes`; loss to follow-up always does.
    pub competing: Vec<usize>,
    /// Index into `Scenario::arms`.
    pub arm: usize,
    /// A patient is evaluable once dead of the cause, followed this long, or lost.
    pub window: Time,
    /// Review k covers the first `after[k]` patients randomised to the arm.
    pub after: Vec<u32>,
    /// Stop at review k when at least this many had the event (`None`: review k cannot stop).
    pub stop_at: Vec<Option<u32>>,
    /// The rule the counts were derived from, if any.
    pub bayes: Option<BayesRule>,
}

#[derive(Debug, Clone, Copy)]
pub struct Simulation {
    pub replicates: u64,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Design {
    pub n: usize,
    pub block_size: usize,
    pub randomisation: Randomisation,
    pub accrual: Accrual,
    pub cut: Cut,
}

/// How patients enter, in calendar time from the start of accrual.
#[derive(Debug, Clone)]
pub enum Accrual {
    /// Entry times iid U(0, duration).
    Uniform { duration: Time },
    /// A Poisson process with rate `rates[k]` per unit time on (breaks[k−1], breaks[k]] (the last
    /// rate continues) until n patients have entered.
    Piecewise { breaks: Vec<Time>, rates: Vec<f64> },
}

/// When the data are cut for analysis (calendar time from the start of accrual).
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub calendar: Option<Time>,
    /// The calendar time of the K-th primary-endpoint event (that event is included).
    pub events: Option<usize>,
    /// Last entry plus this much.
    pub min_followup: Option<Time>,
    pub rule: CutRule,
}

/// With several cut criteria, the analysis happens at the first or the last of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CutRule {
    First,
    Last,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arm {
    pub name: String,
    pub label: String,
    /// Exponential loss-to-follow-up rate from randomisation.
    pub dropout: f64,
    /// Allocation weight in the permuted blocks (0: the arm is only a reference for `relative`).
    pub allocation: usize,
    /// Hazard per cause, indexed like `Scenario::causes`; `None` means zero hazard in this arm.
    pub causes: Vec<Option<Hazard>>,
    /// Per cause, its `early_risk` (risk, within) as written, for readers: `causes` holds the
    /// equivalent piecewise hazard the simulation samples.
    pub early_risk: Vec<Option<(f64, Time)>>,
    /// Illness–death: after this arm's non-fatal `trigger` cause, other causes' hazards are
    /// multiplied by a factor.
    pub after: Option<After>,
    /// Each continuous outcome's distribution, indexed like `Scenario::outcomes`.
    pub outcomes: Vec<OutcomeModel>,
}

/// `[arms.X.after.TRIGGER] CAUSE = FACTOR`: from the time s of the trigger cause on, cause k's
/// hazard is `factor[k]` · h_k(t) (1 for causes not named). The process is Markov in time since
/// randomisation: the factor multiplies the same clock's hazard (docs/design.md § Model).
#[derive(Debug, Clone, PartialEq)]
pub struct After {
    /// Index into `Scenario::causes`.
    pub trigger: usize,
    /// One factor per cause, indexed like `Scenario::causes` (the trigger's own is 1).
    pub factor: Vec<f64>,
}

impl After {
    /// Whether the trigger changes endpoint `ep`: it is not itself part of `ep` (else the endpoint
    /// ends at the trigger) and some cause of `ep` has a factor other than 1.
    pub(crate) fn affects(&self, ep: &Endpoint) -> bool {
        !ep.causes.contains(&self.trigger) && ep.causes.iter().any(|&k| self.factor[k] != 1.0)
    }
}

impl Arm {
    /// The illness–death transition when it changes endpoint `ep`.
    pub(crate) fn after_for(&self, ep: &Endpoint) -> Option<&After> {
        self.after.as_ref().filter(|a| a.affects(ep))
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    /// Indices into `Scenario::causes`; the endpoint's time is the first of these causes.
    pub causes: Vec<usize>,
}

#[derive(Debug, Clone, Copy)]
pub struct Comparison {
    pub control: usize,
    pub experimental: usize,
}

#[derive(Debug, Clone)]
pub struct Analysis {
    /// Index into `Scenario::endpoints`: the endpoint the tests are about.
    pub endpoint: usize,
    pub alpha: f64,
    pub sides: Sides,
    pub tests: Vec<Test>,
    pub tau: Option<Time>,
    pub milestone: Option<Time>,
    pub horizons: Vec<Time>,
    pub periods: Vec<Time>,
    pub crossing: CrossingRule,
    /// The Fleming–Harrington (ρ, γ) components of `maxcombo`.
    pub maxcombo_weights: Vec<(f64, f64)>,
    /// `[analysis.never_better]`: the path to the boundary where the experimental arm is never
    /// better (solved by `truth::never_better`).
    pub never_better: Option<NeverBetter>,
    /// With `[strata]`: each stratum's subgroup estimates in every trial (`analysis.subgroups`,
    /// default true; false saves their per-stratum analyses where only the stratified tests are
    /// wanted).
    pub subgroups: bool,
    /// `[analysis.long_term]`: the long-term truth's horizon (default 20 years) and the per-trial
    /// extrapolation. None only when `time_unit` is not years, months, weeks or days and no
    /// horizon is given: 20 years is then unknown.
    pub long_term: Option<LongTerm>,
}

/// The long-term benefit (`truth::long_term`) to `horizon`, and, when asked, each trial's RMST
/// difference extrapolated beyond its follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct LongTerm {
    pub horizon: Time,
    pub extrapolation: Option<Extrapolation>,
}

/// Each trial's RMST difference extrapolated to the times `at` by every method of `methods`.
#[derive(Debug, Clone, PartialEq)]
pub struct Extrapolation {
    /// At least one, each once.
    pub methods: Vec<ExtrapolationMethod>,
    /// Increasing times > 0, at most the horizon.
    pub at: Vec<Time>,
}

/// The path to the never-better boundary: `vary`'s keys set to one common value, moving from
/// the scenario's value towards `to`, compared up to `until` (default: the cut).
#[derive(Debug, Clone, PartialEq)]
pub struct NeverBetter {
    /// Dotted scenario keys, at least one, each once.
    pub vary: Vec<String>,
    pub to: f64,
    pub until: Option<Time>,
}

/// A test as named in `analysis.tests`; `name` is kept verbatim for output columns and keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    pub name: String,
    pub kind: TestKind,
}

impl Analysis {
    /// What the test statistics read of `[analysis]`.
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            alpha: self.alpha,
            sides: self.sides,
            critical: crate::stats::decision::critical_value(self.alpha, self.sides),
            tau: self.tau,
            milestone: self.milestone,
            periods: self.periods.clone(),
            maxcombo_weights: self.maxcombo_weights.clone(),
        }
    }
}

impl Scenario {
    /// Reads a scenario file and validates its model, design and analysis.
    pub fn from_path(path: &Path) -> Result<Scenario, ScenarioError> {
        Document::load(path)?.scenario()
    }

    /// Validates scenario text (model, design and analysis); `path` only labels errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        Document::parse(text, path)?.scenario()
    }

    pub fn control(&self) -> Option<&Arm> {
        self.comparison.map(|c| &self.arms[c.control])
    }

    pub fn experimental(&self) -> Option<&Arm> {
        self.comparison.map(|c| &self.arms[c.experimental])
    }

    pub fn primary(&self) -> &Endpoint {
        &self.endpoints[self.analysis.endpoint]
    }

    /// Cause `k` in words: its `[labels.causes]` entry, else its name with spaces.
    pub fn cause_label(&self, k: usize) -> String {
        let name = &self.causes[k];
        self.labels.causes.get(name).cloned().unwrap_or_else(|| labels::words_of(name))
    }

    /// An endpoint in words: its `[labels.endpoints]` entry, else its name as written.
    pub fn endpoint_label(&self, name: &str) -> String {
        self.labels.endpoints.get(name).cloned().unwrap_or_else(|| name.to_string())
    }

    /// Arms that receive patients, in name order.
    pub(crate) fn allocated_arms(&self) -> impl Iterator<Item = (usize, &Arm)> {
        self.arms.iter().enumerate().filter(|(_, a)| a.allocation > 0)
    }
}
