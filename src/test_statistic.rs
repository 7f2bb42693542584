//! The test statistics of `analysis.tests`: everything about a kind of test lives here, beside
//! [`TestKind`] — its name and parsing, the scenario keys it needs, the data view it reads, its
//! replicates.csv columns and summarised estimates, its statistic and decision, what it is
//! sensitive to (the follow-up study's "meaning"), why it may be impossible at a cut, whether and
//! how it can be monitored (its information and the hazard ratio a bound means).
//!
//! `TestKind` stays an enum so the hot loop dispatches statically; every `match` on it is in this
//! file and none has a `_ =>` arm, so a new variant makes the compiler list each place to fill.
//!
//! # Adding a test statistic
//! 1. Code, in this file: a variant of [`TestKind`]; its name in [`TestKind::parse`] and
//!    [`TEST_NAMES`]; then follow the compiler through every `match` below (needs, view, columns,
//!    estimates, compute, meaning, information, …). The statistic itself, as a small pure
//!    function of the data (a [`RiskTable`], or [`Patients`] for a statistic over several
//!    endpoints), goes in `stats/` with its formula and reference in the doc comment.
//! 2. Fixture: the statistic on the fixed datasets of `tests/reference/` from an independent
//!    implementation (R `survival`, Python `lifelines`, or a reference script from the paper's
//!    formulas), committed with how to regenerate it, and compared to ~1e-8 in `tests/`.
//! 3. Monte Carlo test: type I error under identical arms within 4 Monte Carlo SE of α, and
//!    power where a closed form exists (`tests/monte_carlo.rs`).
//! 4. README: its name in the `analysis.tests` row of the scenario reference, and its columns
//!    in the list of replicates.csv columns (and in `monitoring.tests` when it is monitorable).
//!
//! A monitorable test also returns an [`Information`] from [`TestKind::information`] (events, or
//! the null variance of a weighted log-rank statistic): the monitored design (`monitoring/`) and
//! its reports take everything else from there.

use std::fmt;

use crate::stats::analysis_data::{AnalysisData, View};
use crate::stats::cox::{CoxFit, Ties, cox, cox_periods, cox_stratified};
use crate::stats::decision::{Decision, Sides, decide, decide_rejection};
use crate::stats::kaplan_meier::{Milestone, milestone};
use crate::stats::logrank::{LogRank, fleming_harrington, logrank, logrank_and_periods};
use crate::stats::maxcombo::{MaxCombo, Rejection, maxcombo};
use crate::stats::modestly_weighted::{modestly_weighted, robust_mw};
use crate::stats::rmst::{RmstDiff, rmst_difference};
use crate::stats::stratified::{stratified_fh, stratified_logrank, stratified_mw};
pub use crate::stats::weights::{Cap, Weighting};
#[cfg(doc)]
use crate::stats::{RiskTable, analysis_data::Patients};
use crate::time::Time;

/// The test names `analysis.tests` accepts, as an error message lists them.
pub const TEST_NAMES: &str = "logrank, fh(RHO,GAMMA), maxcombo, mw, mw(s_star=S), mw(t_star=T), robust_mw, \
     robust_mw(s_star=S), robust_mw(t_star=T), cox, cox_breslow, cox_periods, rmst, milestone, \
     logrank[strata], fh(RHO,GAMMA)[strata], mw[strata], mw(s_star=S)[strata], mw(t_star=T)[strata], \
     cox[strata], cox_breslow[strata], win(COMPOSITE)";

/// The suffix of a stratified test's name (`logrank[strata]`).
pub const STRATA_SUFFIX: &str = "[strata]";

/// MW's cap when a name gives none (Magirr & Burman 2019 use s* = 0.5).
pub const DEFAULT_S_STAR: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TestKind {
    LogRank,
    FlemingHarrington {
        rho: f64,
        gamma: f64,
    },
    Rmst,
    Milestone,
    /// Cox model for the arm (`cox`: Efron ties; `cox_breslow`: Breslow).
    Cox {
        breslow: bool,
    },
    /// One arm effect per period of `analysis.periods`; the test is the last period's.
    CoxPeriods,
    /// The minimum (one-sided) or largest (two-sided) of FH statistics, with a p-value from
    /// their joint normal distribution.
    MaxCombo,
    /// The modestly weighted log-rank test (`mw`): weights 1/max(Ŝ(t−), s*).
    Mw {
        cap: Cap,
    },
    /// The larger of the log-rank and MW statistics (`robust_mw`), with a p-value from their
    /// joint normal distribution.
    RobustMw {
        cap: Cap,
    },
    /// A test within strata (`NAME[strata]`): per-stratum scores and variances summed (or, for
    /// Cox, one arm effect with a baseline per stratum); see `stats::stratified`.
    Stratified(Within),
    /// The Finkelstein–Schoenfeld test of a hierarchical composite (`win(NAME)`, `composite`
    /// indexes `Scenario::composites`), with its win ratio, win odds and net benefit
    /// (`stats::win`).
    Win {
        composite: usize,
    },
}

/// The test a stratified test computes within each stratum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Within {
    LogRank,
    FlemingHarrington { rho: f64, gamma: f64 },
    Mw { cap: Cap },
    Cox { breslow: bool },
}

/// What a test's rejection in the experimental arm's favour claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// The experimental arm is better (its survival, hazard or mean time): false at the
    /// never-better boundary, so a rejection there is an error.
    Benefit,
    /// The hazard after the last period break is lower (`cox_periods`): it can be true at the
    /// never-better boundary, where the late hazard is lower but early deaths outweigh it.
    LateHazardLower,
}

impl Claim {
    /// As summary.json names it.
    pub fn key(self) -> &'static str {
        match self {
            Claim::Benefit => "benefit",
            Claim::LateHazardLower => "late_hazard_lower",
        }
    }
}

/// A scenario key a test cannot do without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Tau,
    Milestone,
    Periods,
}

impl Need {
    /// The dotted key, e.g. `analysis.tau`.
    pub fn key(self) -> &'static str {
        match self {
            Need::Tau => "analysis.tau",
            Need::Milestone => "analysis.milestone",
            Need::Periods => "analysis.periods",
        }
    }

    /// What it gives the test, for the error message.
    pub fn what(self) -> &'static str {
        match self {
            Need::Tau => "the RMST horizon",
            Need::Milestone => "the milestone time",
            Need::Periods => "at least one period break",
        }
    }
}

/// The analysis settings the tests read (`[analysis]`, validated).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub alpha: f64,
    pub sides: Sides,
    /// The critical value of a test that decides by its z (`decision::critical_value`).
    pub critical: f64,
    pub tau: Option<Time>,
    pub milestone: Option<Time>,
    /// `analysis.periods`: the breaks of `cox_periods` and of the early/late log-rank.
    pub periods: Vec<Time>,
    /// The Fleming–Harrington (ρ, γ) components of `maxcombo`.
    pub maxcombo_weights: Vec<(f64, f64)>,
}

/// One part of a test's result, as a replicates.csv column `{test}.{part}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    Z,
    /// RMST or milestone difference.
    Diff,
    /// SE of the difference (RMST, milestone) or of the log HR (Cox).
    Se,
    LogHr,
    /// `cox_periods`: one period's log HR and its SE.
    PeriodLogHr(usize),
    PeriodSe(usize),
    /// MaxCombo's or robust MW's p-value.
    P,
    /// A composite's win ratio, the SE of its log, its win odds and net benefit.
    WinRatio,
    LogWinRatioSe,
    WinOdds,
    NetBenefit,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Z => f.write_str("z"),
            Part::Diff => f.write_str("diff"),
            Part::Se => f.write_str("se"),
            Part::LogHr => f.write_str("log_hr"),
            Part::PeriodLogHr(k) => write!(f, "log_hr[{k}]"),
            Part::PeriodSe(k) => write!(f, "se[{k}]"),
            Part::P => f.write_str("p"),
            Part::WinRatio => f.write_str("win_ratio"),
            Part::LogWinRatioSe => f.write_str("log_win_ratio_se"),
            Part::WinOdds => f.write_str("win_odds"),
            Part::NetBenefit => f.write_str("net_benefit"),
        }
    }
}

/// A summarised estimate a test yields besides its z, with the truth to compare it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EstimatePart {
    /// The log hazard ratio; its truth is the overall average hazard ratio's log.
    LogHr,
    /// One period's log hazard ratio; its truth is that period's average hazard ratio's log.
    PeriodLogHr(usize),
}

/// What a monitored test's information is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Information {
    /// Events (log-rank, Cox, FH(0,0)): a bound means a hazard ratio (Schoenfeld).
    Events,
    /// The observed null variance V of a weighted log-rank statistic (FH(ρ, γ) not both 0, or
    /// MW; between-look correlation √(V_j/V_k), Tsiatis 1982).
    NullVariance(Weighting),
}

/// One test's statistic and the parts replicates.csv shows (NaN where a test has no such part).
#[derive(Debug, Clone, Copy)]
pub struct TestResult {
    pub z: f64,
    pub diff: f64,
    pub se: f64,
    pub log_hr: f64,
    pub p: f64,
    /// A composite's win ratio, SE of log win ratio, win odds and net benefit (NaN otherwise).
    pub win: [f64; 4],
}

impl TestResult {
    fn z(z: f64) -> TestResult {
        TestResult { z, diff: f64::NAN, se: f64::NAN, log_hr: f64::NAN, p: f64::NAN, win: [f64::NAN; 4] }
    }

    /// The value of one part (a period's from `shared`, where `cox_periods` keeps them).
    pub fn part(&self, part: Part, shared: &Shared) -> f64 {
        match part {
            Part::Z => self.z,
            Part::Diff => self.diff,
            Part::Se => self.se,
            Part::LogHr => self.log_hr,
            Part::PeriodLogHr(k) => shared.periods[k].log_hr,
            Part::PeriodSe(k) => shared.periods[k].se,
            Part::P => self.p,
            Part::WinRatio => self.win[0],
            Part::LogWinRatioSe => self.win[1],
            Part::WinOdds => self.win[2],
            Part::NetBenefit => self.win[3],
        }
    }
}

/// Statistics several tests and estimates share at one cut, computed once per analysis (reused
/// buffers): the log-rank split at the first and last period break, the RMST and milestone
/// differences, the per-period Cox fits.
#[derive(Debug, Clone, Default)]
pub struct Shared {
    /// Log-rank overall, before the first break, after the last (`logrank_and_periods`).
    pub period_logrank: Option<[LogRank; 3]>,
    pub rmst: Option<RmstDiff>,
    pub milestone: Option<Milestone>,
    /// `cox_periods`' fits, one per period (NaN unless a `cox_periods` test is analysed).
    pub periods: Vec<CoxFit>,
}

impl Shared {
    /// Computes what the two-group analysis of `data` with `kinds` shares (nothing for a
    /// single-arm study, which has no tests).
    pub fn prepare(
        &mut self,
        data: &AnalysisData,
        settings: &Settings,
        mut kinds: impl Iterator<Item = TestKind>,
        two_groups: bool,
    ) {
        let table = data.risk_table();
        self.periods.clear();
        self.periods.resize(settings.periods.len() + 1, CoxFit::NAN);
        if kinds.any(|k| k == TestKind::CoxPeriods) {
            cox_periods(table, &settings.periods, Ties::Efron, &mut self.periods);
        }
        // The log-rank test and the per-period detection share one pass over the table.
        self.period_logrank = match (settings.periods.first(), settings.periods.last()) {
            (Some(&first), Some(&last)) if two_groups => Some(logrank_and_periods(table, first, last)),
            _ => None,
        };
        self.rmst = if two_groups { settings.tau.map(|tau| rmst_difference(table, tau)) } else { None };
        self.milestone = if two_groups { settings.milestone.map(|m| milestone(table, m)) } else { None };
    }
}

impl TestKind {
    /// Parses a test name as written in `analysis.tests`: `logrank`, `fh(RHO,GAMMA)` with ρ, γ ≥ 0,
    /// `maxcombo`, `mw` and `robust_mw` (s* = 0.5) or with their cap `(s_star=S)`, 0 < S ≤ 1, or
    /// `(t_star=T)`, T > 0, `cox`, `cox_breslow`, `cox_periods`, `rmst`, `milestone`.
    pub fn parse(name: &str) -> Option<TestKind> {
        if let Some(inner) = name.strip_suffix(STRATA_SUFFIX) {
            let within = match TestKind::parse(inner)? {
                TestKind::LogRank => Within::LogRank,
                TestKind::FlemingHarrington { rho, gamma } => Within::FlemingHarrington { rho, gamma },
                TestKind::Mw { cap } => Within::Mw { cap },
                TestKind::Cox { breslow } => Within::Cox { breslow },
                _ => return None,
            };
            return Some(TestKind::Stratified(within));
        }
        match name {
            "logrank" => Some(TestKind::LogRank),
            "rmst" => Some(TestKind::Rmst),
            "milestone" => Some(TestKind::Milestone),
            "cox" => Some(TestKind::Cox { breslow: false }),
            "cox_breslow" => Some(TestKind::Cox { breslow: true }),
            "cox_periods" => Some(TestKind::CoxPeriods),
            "maxcombo" => Some(TestKind::MaxCombo),
            "mw" => Some(TestKind::Mw { cap: Cap::Survival(DEFAULT_S_STAR) }),
            "robust_mw" => Some(TestKind::RobustMw { cap: Cap::Survival(DEFAULT_S_STAR) }),
            _ if name.starts_with("mw(") => parse_cap(&name[2..]).map(|cap| TestKind::Mw { cap }),
            _ if name.starts_with("robust_mw(") => {
                parse_cap(&name[9..]).map(|cap| TestKind::RobustMw { cap })
            }
            _ => {
                let inner = name.strip_prefix("fh(")?.strip_suffix(')')?;
                let (r, g) = inner.split_once(',')?;
                let rho: f64 = r.trim().parse().ok()?;
                let gamma: f64 = g.trim().parse().ok()?;
                (rho.is_finite() && gamma.is_finite() && rho >= 0.0 && gamma >= 0.0)
                    .then_some(TestKind::FlemingHarrington { rho, gamma })
            }
        }
    }

    /// The scenario key the test cannot do without, if any.
    pub fn needs(self) -> Option<Need> {
        match self {
            TestKind::Rmst => Some(Need::Tau),
            TestKind::Milestone => Some(Need::Milestone),
            TestKind::CoxPeriods => Some(Need::Periods),
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Cox { .. }
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_)
            | TestKind::Win { .. } => None,
        }
    }

    /// The data view the statistic reads.
    pub(crate) fn view(self) -> View {
        match self {
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Rmst
            | TestKind::Milestone
            | TestKind::Cox { .. }
            | TestKind::CoxPeriods
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. } => View::RiskTable,
            TestKind::Stratified(_) => View::StrataTables,
            TestKind::Win { .. } => View::Composites,
        }
    }

    /// The test's replicates.csv columns, in order (`periods`: the number of `cox_periods` periods).
    pub fn parts(self, periods: usize) -> Vec<Part> {
        match self {
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Mw { .. }
            | TestKind::Stratified(Within::LogRank | Within::FlemingHarrington { .. } | Within::Mw { .. }) => {
                vec![Part::Z]
            }
            TestKind::Stratified(Within::Cox { .. }) => vec![Part::LogHr, Part::Se, Part::Z],
            TestKind::Rmst | TestKind::Milestone => vec![Part::Diff, Part::Se, Part::Z],
            TestKind::Cox { .. } => vec![Part::LogHr, Part::Se, Part::Z],
            TestKind::CoxPeriods => (0..periods)
                .map(Part::PeriodLogHr)
                .chain((0..periods).map(Part::PeriodSe))
                .chain([Part::Z])
                .collect(),
            TestKind::MaxCombo | TestKind::RobustMw { .. } => vec![Part::Z, Part::P],
            TestKind::Win { .. } => {
                vec![Part::Z, Part::WinRatio, Part::LogWinRatioSe, Part::WinOdds, Part::NetBenefit]
            }
        }
    }

    /// The estimates the test yields besides its z (summarised against their truth).
    pub fn estimates(self, periods: usize) -> Vec<EstimatePart> {
        match self {
            TestKind::Cox { .. } | TestKind::Stratified(Within::Cox { .. }) => vec![EstimatePart::LogHr],
            TestKind::CoxPeriods => (0..periods).map(EstimatePart::PeriodLogHr).collect(),
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Rmst
            | TestKind::Milestone
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_) => Vec::new(),
            // A composite's estimates depend on its layers: `analysis::plan` lists them.
            TestKind::Win { .. } => Vec::new(),
        }
    }

    /// The statistic on `data` (its view built; `shared` prepared for this cut) and the decision.
    /// `exact_p`: compute MaxCombo's p-value even when a bound decides the test (replicates.csv
    /// shows it).
    pub fn compute(
        self,
        data: &AnalysisData,
        settings: &Settings,
        shared: &Shared,
        exact_p: bool,
    ) -> (TestResult, Decision) {
        let by_z = |r: TestResult| (r, decide(r.z, settings.critical, settings.sides));
        match self {
            TestKind::LogRank => {
                let z = shared.period_logrank.map_or_else(|| logrank(data.risk_table()), |p| p[0]).z;
                by_z(TestResult::z(z))
            }
            TestKind::FlemingHarrington { rho, gamma } => {
                by_z(TestResult::z(fleming_harrington(data.risk_table(), rho, gamma).z))
            }
            TestKind::Rmst => {
                let d = shared.rmst.expect("validated: rmst has tau; tests need two groups");
                by_z(TestResult { diff: d.diff, se: d.se, ..TestResult::z(d.z) })
            }
            TestKind::Milestone => {
                let m = shared.milestone.expect("validated: milestone has a time; tests need two groups");
                by_z(TestResult { diff: m.diff, se: m.se, ..TestResult::z(m.z) })
            }
            TestKind::Cox { breslow } => {
                let f = cox(data.risk_table(), if breslow { Ties::Breslow } else { Ties::Efron });
                by_z(TestResult { log_hr: f.log_hr, se: f.se, ..TestResult::z(f.z) })
            }
            TestKind::CoxPeriods => by_z(TestResult::z(shared.periods.last().map_or(f64::NAN, |f| f.z))),
            TestKind::MaxCombo => combination(
                maxcombo(data.risk_table(), &settings.maxcombo_weights, settings.sides),
                settings,
                exact_p,
            ),
            TestKind::Mw { cap } => by_z(TestResult::z(modestly_weighted(data.risk_table(), cap).z)),
            TestKind::RobustMw { cap } => {
                combination(robust_mw(data.risk_table(), cap, settings.sides), settings, exact_p)
            }
            TestKind::Stratified(within) => {
                let tables = data.strata_tables();
                match within {
                    Within::LogRank => by_z(TestResult::z(stratified_logrank(tables).z)),
                    Within::FlemingHarrington { rho, gamma } => {
                        by_z(TestResult::z(stratified_fh(tables, rho, gamma).z))
                    }
                    Within::Mw { cap } => by_z(TestResult::z(stratified_mw(tables, cap).z)),
                    Within::Cox { breslow } => {
                        let f = cox_stratified(tables, if breslow { Ties::Breslow } else { Ties::Efron });
                        by_z(TestResult { log_hr: f.log_hr, se: f.se, ..TestResult::z(f.z) })
                    }
                }
            }
            TestKind::Win { composite } => {
                let w = data.win_stats(composite);
                by_z(TestResult {
                    win: [w.win_ratio, w.log_wr_se, w.win_odds, w.net_benefit],
                    ..TestResult::z(w.z)
                })
            }
        }
    }

    /// What the test is sensitive to, for readers choosing one (the follow-up study's table).
    pub(crate) fn meaning(self, settings: &Settings) -> String {
        match self {
            TestKind::LogRank => "all event times equally (optimal under proportional hazards)".into(),
            TestKind::FlemingHarrington { rho, gamma } => fh_meaning(rho, gamma),
            TestKind::MaxCombo => {
                "the most significant of several FH tests, with a multiplicity-correct p-value".into()
            }
            TestKind::Mw { cap } => format!(
                "weights 1/max(Ŝ, {}): late differences count more, early harm never less than a later benefit",
                cap_text(cap)
            ),
            TestKind::RobustMw { cap } => format!(
                "the more significant of log-rank and MW ({}), with a multiplicity-correct p-value",
                cap_text(cap)
            ),
            TestKind::Cox { .. } => {
                "one hazard ratio for the whole follow-up (misspecified when hazards cross)".into()
            }
            TestKind::CoxPeriods => format!(
                "the arm effect after the last period break ({}): detects the late benefit only, ignoring early harm",
                settings.periods.last().map_or("—".to_string(), |b| b.to_string())
            ),
            TestKind::Rmst => format!(
                "the area between the curves up to τ = {}: early harm and late benefit cancel",
                settings.tau.unwrap_or(f64::NAN)
            ),
            TestKind::Milestone => {
                format!("survival at {} only (Greenwood SE)", settings.milestone.unwrap_or(f64::NAN))
            }
            TestKind::Stratified(within) => format!(
                "{}, compared within strata (each stratum's own risk sets{})",
                match within {
                    Within::LogRank => TestKind::LogRank.meaning(settings),
                    Within::FlemingHarrington { rho, gamma } => fh_meaning(rho, gamma),
                    Within::Mw { cap } => TestKind::Mw { cap }.meaning(settings),
                    Within::Cox { breslow } => TestKind::Cox { breslow }.meaning(settings),
                },
                match within {
                    Within::Cox { .. } => " and baseline hazard",
                    _ => " and weights",
                }
            ),
            TestKind::Win { .. } => {
                "every experimental–control pair ranked by the composite's layers in order: a benefit on a later layer counts only in the pairs the earlier layers leave undecided".into()
            }
        }
    }

    /// Why the test cannot be estimated at a cut at calendar time `cut`, whose longest possible
    /// follow-up is `cut` itself (entry at time 0): the time it reads lies beyond it.
    pub fn beyond_follow_up(self, settings: &Settings, cut: Time) -> Option<String> {
        match self {
            TestKind::Rmst => settings
                .tau
                .filter(|&tau| tau >= cut)
                .map(|tau| format!("τ = {tau} is beyond the follow-up available at {cut}: not estimable")),
            TestKind::Milestone => settings
                .milestone
                .filter(|&m| m >= cut)
                .map(|m| format!("milestone {m} is beyond the follow-up available at {cut}: not estimable")),
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Cox { .. }
            | TestKind::CoxPeriods
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_)
            | TestKind::Win { .. } => None,
        }
    }

    /// What the test claims when it rejects in the experimental arm's favour.
    pub fn claim(self) -> Claim {
        match self {
            TestKind::CoxPeriods => Claim::LateHazardLower,
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Rmst
            | TestKind::Milestone
            | TestKind::Cox { .. }
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_)
            | TestKind::Win { .. } => Claim::Benefit,
        }
    }

    /// Whether the test's level holds only asymptotically (Greenwood / survmean variances), so
    /// its type I error at a trial's size is the measured one, not necessarily α.
    pub(crate) fn is_asymptotic(self) -> bool {
        match self {
            // The FS permutation variance is exact under exchangeability, which censoring by
            // arm-dependent follow-up breaks; its level at a trial's size is the measured one.
            TestKind::Rmst | TestKind::Milestone | TestKind::Win { .. } => true,
            TestKind::LogRank
            | TestKind::FlemingHarrington { .. }
            | TestKind::Cox { .. }
            | TestKind::CoxPeriods
            | TestKind::MaxCombo
            | TestKind::Mw { .. }
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_) => false,
        }
    }

    /// What the test's information is, when a group-sequential design can monitor it (`None`:
    /// it cannot; its information is neither events nor a null variance).
    pub fn information(self) -> Option<Information> {
        match self {
            TestKind::LogRank | TestKind::Cox { .. } => Some(Information::Events),
            TestKind::FlemingHarrington { rho, gamma } if rho == 0.0 && gamma == 0.0 => {
                Some(Information::Events)
            }
            TestKind::FlemingHarrington { rho, gamma } => {
                Some(Information::NullVariance(Weighting::Fh { rho, gamma }))
            }
            TestKind::Mw { cap } => Some(Information::NullVariance(Weighting::Mw(cap))),
            // Monitoring a stratified test (its information summed over strata) is not built.
            TestKind::Rmst
            | TestKind::Milestone
            | TestKind::CoxPeriods
            | TestKind::MaxCombo
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_)
            | TestKind::Win { .. } => None,
        }
    }

    /// A monitored test's statistic and information at a look (NaN for a test that cannot be
    /// monitored, which validation refuses).
    pub(crate) fn at_look(self, data: &AnalysisData) -> (f64, f64) {
        let table = data.risk_table();
        let events = || f64::from(data.events());
        match self {
            TestKind::LogRank => (logrank(table).z, events()),
            TestKind::FlemingHarrington { rho, gamma } => {
                let f = fleming_harrington(table, rho, gamma);
                match self.information() {
                    Some(Information::NullVariance(_)) => (f.z, f.v),
                    _ => (f.z, events()),
                }
            }
            TestKind::Mw { cap } => {
                let m = modestly_weighted(table, cap);
                (m.z, m.v)
            }
            TestKind::Cox { breslow } => {
                (cox(table, if breslow { Ties::Breslow } else { Ties::Efron }).z, events())
            }
            TestKind::Rmst
            | TestKind::Milestone
            | TestKind::CoxPeriods
            | TestKind::MaxCombo
            | TestKind::RobustMw { .. }
            | TestKind::Stratified(_)
            | TestKind::Win { .. } => (f64::NAN, f64::NAN),
        }
    }

    /// The hazard ratio a bound b on the benefit statistic means at information `d` events, as
    /// 1:1 log-rank (Schoenfeld): exp(−2b/√d). NaN when the information is not events.
    pub(crate) fn hr_at(self, b: f64, d: f64) -> f64 {
        match self.information() {
            Some(Information::Events) => (-2.0 * b / d.sqrt()).exp(),
            Some(Information::NullVariance(_)) | None => f64::NAN,
        }
    }
}

/// The cap of `mw(...)`/`robust_mw(...)` from its parenthesised argument: `(s_star=S)` with
/// 0 < S ≤ 1 or `(t_star=T)` with T > 0 finite.
fn parse_cap(arg: &str) -> Option<Cap> {
    let inner = arg.strip_prefix('(')?.strip_suffix(')')?;
    let (key, value) = inner.split_once('=')?;
    let value: f64 = value.trim().parse().ok()?;
    match key.trim() {
        "s_star" if value > 0.0 && value <= 1.0 => Some(Cap::Survival(value)),
        "t_star" if value > 0.0 && value.is_finite() => Some(Cap::Time(value)),
        _ => None,
    }
}

/// How a cap reads in the follow-up study's table.
fn cap_text(cap: Cap) -> String {
    match cap {
        Cap::Survival(s) => format!("s* = {s}"),
        Cap::Time(t) => format!("Ŝ(t* = {t})"),
    }
}

/// A test that combines several correlated statistics (MaxCombo, robust MW): its decision by
/// bounds when they decide, and the p-value replicates.csv shows.
fn combination(m: MaxCombo, settings: &Settings, exact_p: bool) -> (TestResult, Decision) {
    let Rejection { reject, mut p } = m.reject(settings.sides, settings.alpha);
    if exact_p && p.is_nan() {
        p = m.p_value(settings.sides);
    }
    (TestResult { p, ..TestResult::z(m.z) }, decide_rejection(m.z, reject))
}

/// What FH(ρ, γ)'s weights Ŝ^ρ(1 − Ŝ)^γ emphasise.
fn fh_meaning(rho: f64, gamma: f64) -> String {
    match (rho == 0.0, gamma == 0.0) {
        (true, true) => "the log-rank test".into(),
        (true, false) => format!("weights (1 − Ŝ)^{gamma}: late differences, so early harm counts little"),
        (false, true) => {
            format!("weights Ŝ^{rho}: early differences (here, the transplant deaths count most)")
        }
        (false, false) => format!("weights Ŝ^{rho}(1 − Ŝ)^{gamma}: middle differences"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_to_their_kinds() {
        assert_eq!(TestKind::parse("cox_breslow"), Some(TestKind::Cox { breslow: true }));
        assert_eq!(TestKind::parse("fh(0, 1)"), Some(TestKind::FlemingHarrington { rho: 0.0, gamma: 1.0 }));
        assert_eq!(TestKind::parse("fh(-1,0)"), None);
        assert_eq!(TestKind::parse("fh(0,inf)"), None);
        assert_eq!(TestKind::parse("logrnak"), None);
        assert_eq!(TestKind::parse("logrank[strata]"), Some(TestKind::Stratified(Within::LogRank)));
        assert_eq!(
            TestKind::parse("fh(0,1)[strata]"),
            Some(TestKind::Stratified(Within::FlemingHarrington { rho: 0.0, gamma: 1.0 }))
        );
        assert_eq!(
            TestKind::parse("mw(t_star=2)[strata]"),
            Some(TestKind::Stratified(Within::Mw { cap: Cap::Time(2.0) }))
        );
        for not_stratifiable in ["maxcombo[strata]", "rmst[strata]", "logrank[strata][strata]", "[strata]"] {
            assert_eq!(TestKind::parse(not_stratifiable), None, "{not_stratifiable}");
        }
        // Every listed name but the patterns (FH's, the caps') parses.
        for name in TEST_NAMES.split(", ").filter(|n| !n.contains('(')) {
            assert!(TestKind::parse(name).is_some(), "{name}");
        }
        let mw = |cap| Some(TestKind::Mw { cap });
        assert_eq!(TestKind::parse("mw"), mw(Cap::Survival(DEFAULT_S_STAR)));
        assert_eq!(TestKind::parse("mw(s_star=0.4)"), mw(Cap::Survival(0.4)));
        assert_eq!(TestKind::parse("mw(t_star = 2)"), mw(Cap::Time(2.0)));
        assert_eq!(
            TestKind::parse("robust_mw(s_star=1)"),
            Some(TestKind::RobustMw { cap: Cap::Survival(1.0) })
        );
        for bad in [
            "mw(s_star=0)",
            "mw(s_star=1.5)",
            "mw(t_star=0)",
            "mw(t_star=inf)",
            "mw(x=1)",
            "mw()",
            "robust_mw(0.5)",
        ] {
            assert_eq!(TestKind::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn columns_are_the_output_contract() {
        let names = |k: TestKind| k.parts(2).iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(names(TestKind::CoxPeriods), ["log_hr[0]", "log_hr[1]", "se[0]", "se[1]", "z"]);
        assert_eq!(names(TestKind::Rmst), ["diff", "se", "z"]);
        assert_eq!(names(TestKind::MaxCombo), ["z", "p"]);
        assert_eq!(
            TestKind::CoxPeriods.estimates(2),
            [EstimatePart::PeriodLogHr(0), EstimatePart::PeriodLogHr(1)]
        );
    }

    #[test]
    fn fh00_is_monitored_in_events_and_weighted_fh_in_its_null_variance() {
        let fh = |rho, gamma| TestKind::FlemingHarrington { rho, gamma };
        assert_eq!(fh(0.0, 0.0).information(), Some(Information::Events));
        assert_eq!(
            fh(0.0, 1.0).information(),
            Some(Information::NullVariance(Weighting::Fh { rho: 0.0, gamma: 1.0 }))
        );
        assert_eq!(TestKind::MaxCombo.information(), None);
        // A bound of z = −2 at 100 events means HR exp(−2·2/10) for an events test only.
        assert!((TestKind::LogRank.hr_at(2.0, 100.0) - (-0.4f64).exp()).abs() < 1e-15);
        assert!(fh(0.0, 1.0).hr_at(2.0, 100.0).is_nan());
    }
}
