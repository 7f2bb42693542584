//! The estimate layout: what one analysed replicate yields, in the order the summary, the
//! reports and replicates.csv use. It is one list of [`Estimate`]s and one of [`Column`]s, built
//! once per run from the scenario and its truth; `analysis::analyse` fills a value for each entry
//! by walking the list, and reports find an entry by its enum value. Adding an estimate means a
//! variant here and its value in `analysis::analyse`: the order lives in one place only.
//!
//! Each entry's `Display` is its stable name (a key of summary.json, a column of replicates.csv or
//! sweep.csv), e.g. `logrank.z`, `cox_periods.log_hr[1]`, `km.hsct.4.se`.

use std::fmt;

use crate::monitoring::{Monitor, SafetyRecord, TestRecord};
use crate::scenario::{Scenario, TestKind};
use crate::stats::analysis_data::{View, Views};
use crate::stats::decision::{Decision, critical_value};
use crate::test_statistic::{EstimatePart, Part, Settings};
use crate::time::Time;
use crate::truth::{ArmValue, Truth, plot_horizon};

/// Points of the time grid on which the Kaplan–Meier band is collected.
pub const BAND_POINTS: usize = 121;

/// One summarised quantity of a replicate (mean, SD and quantiles over replicates).
#[derive(Debug, Clone, PartialEq)]
pub enum Estimate {
    /// A test's z statistic (`test` indexes `Layout::tests`).
    TestZ {
        test: usize,
        name: String,
    },
    /// A Cox test's log hazard ratio.
    CoxLogHr {
        test: usize,
        name: String,
    },
    /// `cox_periods`: the log hazard ratio of one period.
    CoxPeriodLogHr {
        test: usize,
        name: String,
        period: usize,
    },
    /// RMST to τ of one group.
    Rmst {
        group: usize,
        arm: String,
    },
    RmstDiff,
    RmstSe,
    /// Whether the two-sided 95% CI of the RMST difference covers the truth (0 or 1).
    RmstDiffCovers,
    RmstRatio,
    RmstRatioCovers,
    MilestoneDiff,
    MilestoneSe,
    MilestoneDiffCovers,
    /// Kaplan–Meier survival of one group at horizon `horizon` (index into `analysis.horizons`).
    Km {
        group: usize,
        arm: String,
        horizon: usize,
        at: Time,
    },
    /// Its Greenwood standard error.
    KmSe {
        group: usize,
        arm: String,
        horizon: usize,
        at: Time,
    },
    /// Experimental minus control Kaplan–Meier at a horizon.
    KmDifference {
        horizon: usize,
        at: Time,
    },
    /// The observed crossing time (NaN when the curves do not cross by the rule).
    CrossingTime,
    /// The largest τ the trial's follow-up supports: the earlier of the two arms' last observed
    /// times (`[analysis.long_term.extrapolation]`).
    SupportedTau,
    /// The Kaplan–Meier RMST difference to that τ.
    SupportedRmstDiff,
    /// That difference minus the true ΔRMST at the same τ (the truth differs by trial).
    SupportedRmstError,
    /// The RMST difference to `at` extrapolated by `method` (`analysis.long_term.extrapolation`):
    /// NaN when not estimable.
    Extrapolated {
        method: usize,
        name: &'static str,
        at: Time,
    },
    /// Its delta-method standard error.
    ExtrapolatedSe {
        method: usize,
        name: &'static str,
        at: Time,
    },
    /// Whether its 95% interval covers the true ΔRMST(at) (0 or 1).
    ExtrapolatedCovers {
        method: usize,
        name: &'static str,
        at: Time,
    },
    /// The Cox (Efron) log hazard ratio within one stratum: a subgroup's estimate (`[strata]`).
    StratumLogHr {
        stratum: usize,
        name: String,
    },
    /// Experimental minus control Kaplan–Meier within one stratum at a horizon.
    StratumKmDifference {
        stratum: usize,
        name: String,
        horizon: usize,
        at: Time,
    },
    /// A composite's win statistic (`win(NAME)` test `test`; see [`WinEstimate`]).
    Win {
        test: usize,
        name: String,
        composite: usize,
        part: WinEstimate,
    },
    /// Primary-endpoint events at the cut.
    Events,
    /// The calendar time of the cut.
    Cut,
}

/// What one composite estimate is (`stats::win`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WinEstimate {
    WinRatio,
    WinOdds,
    NetBenefit,
    /// The share of all pairs that favour the experimental arm, and of decided pairs.
    ShareAll,
    ShareDecided,
    /// The share of all pairs that layer l decides for (wins) or against (losses) the
    /// experimental arm.
    LayerWins(usize),
    LayerLosses(usize),
}

impl Estimate {
    /// A standard error, a test statistic or a coverage indicator: summarised, but not a
    /// quantity a sweep plots against its truth.
    pub(crate) fn is_auxiliary(&self) -> bool {
        use Estimate::*;
        matches!(
            self,
            TestZ { .. }
                | RmstSe
                | MilestoneSe
                | KmSe { .. }
                | RmstDiffCovers
                | RmstRatioCovers
                | MilestoneDiffCovers
                | SupportedTau
                | SupportedRmstDiff
                | ExtrapolatedSe { .. }
                | ExtrapolatedCovers { .. }
        )
    }

    /// A log hazard ratio (one Cox test, or one period of `cox_periods`).
    pub(crate) fn is_log_hr(&self) -> bool {
        matches!(
            self,
            Estimate::CoxLogHr { .. } | Estimate::CoxPeriodLogHr { .. } | Estimate::StratumLogHr { .. }
        )
    }
}

impl fmt::Display for Estimate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Estimate::*;
        match self {
            TestZ { name, .. } => write!(f, "{name}.z"),
            CoxLogHr { name, .. } => write!(f, "{name}.log_hr"),
            CoxPeriodLogHr { name, period, .. } => write!(f, "{name}.log_hr[{period}]"),
            Rmst { arm, .. } => write!(f, "rmst.{arm}"),
            RmstDiff => f.write_str("rmst.diff"),
            RmstSe => f.write_str("rmst.se"),
            RmstDiffCovers => f.write_str("rmst.diff.ci95_covers"),
            RmstRatio => f.write_str("rmst.ratio"),
            RmstRatioCovers => f.write_str("rmst.ratio.ci95_covers"),
            MilestoneDiff => f.write_str("milestone.diff"),
            MilestoneSe => f.write_str("milestone.se"),
            MilestoneDiffCovers => f.write_str("milestone.diff.ci95_covers"),
            Km { arm, at, .. } => write!(f, "km.{arm}.{at}"),
            KmSe { arm, at, .. } => write!(f, "km.{arm}.{at}.se"),
            KmDifference { at, .. } => write!(f, "km.difference.{at}"),
            CrossingTime => f.write_str("crossing.time"),
            SupportedTau => f.write_str("rmst.supported.tau"),
            SupportedRmstDiff => f.write_str("rmst.supported.diff"),
            SupportedRmstError => f.write_str("rmst.supported.error"),
            Extrapolated { name, at, .. } => write!(f, "extrapolation.{name}.{at}"),
            ExtrapolatedSe { name, at, .. } => write!(f, "extrapolation.{name}.{at}.se"),
            ExtrapolatedCovers { name, at, .. } => write!(f, "extrapolation.{name}.{at}.ci95_covers"),
            StratumLogHr { name, .. } => write!(f, "strata.{name}.log_hr"),
            StratumKmDifference { name, at, .. } => write!(f, "strata.{name}.km.difference.{at}"),
            Win { name, part, .. } => match part {
                WinEstimate::WinRatio => write!(f, "{name}.win_ratio"),
                WinEstimate::WinOdds => write!(f, "{name}.win_odds"),
                WinEstimate::NetBenefit => write!(f, "{name}.net_benefit"),
                WinEstimate::ShareAll => write!(f, "{name}.share_favouring"),
                WinEstimate::ShareDecided => write!(f, "{name}.share_of_decided_favouring"),
                WinEstimate::LayerWins(l) => write!(f, "{name}.layer[{l}].wins"),
                WinEstimate::LayerLosses(l) => write!(f, "{name}.layer[{l}].losses"),
            },
            Events => f.write_str("events"),
            Cut => f.write_str("cut"),
        }
    }
}

/// One estimate with its true value when the model defines one, and the histogram range.
#[derive(Debug, Clone)]
pub struct EstimateSpec {
    pub estimate: Estimate,
    pub truth: Option<f64>,
    pub lo: f64,
    pub hi: f64,
}

/// One column of replicates.csv (after `replicate`): per test, its statistic and the parts it
/// is made of; then per monitored test, what monitoring did.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// One part of test `test`'s result (`{name}.z`, `{name}.se[1]`, …).
    Test { test: usize, name: String, part: Part },
    /// One column of monitored test `monitored`'s record.
    Monitor { monitored: usize, name: String, what: MonitorColumn },
}

/// What a monitoring column of replicates.csv holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorColumn {
    /// The z at look `k` (interims, then the final; empty when not taken).
    Z(usize),
    /// The look (1-based) at which the monitored design ended.
    StopLook,
    /// Why it ended (`TestRecord::reason_code`).
    StopReason,
    /// The observed information fraction at interim `k` (with conditional power).
    Fraction(usize),
    /// The conditional power at interim `k` under drift `d` (0 design, 1 trend, 2 model).
    Cp(usize, usize),
}

impl Column {
    /// A monitoring column's value in one trial's records.
    pub fn value(&self, records: &[TestRecord]) -> f64 {
        match *self {
            Column::Test { .. } => f64::NAN,
            Column::Monitor { monitored, what, .. } => {
                let r = &records[monitored];
                match what {
                    MonitorColumn::Z(look) => r.z[look],
                    MonitorColumn::StopLook => (r.look + 1) as f64,
                    MonitorColumn::StopReason => r.reason_code(),
                    MonitorColumn::Fraction(k) => r.fraction[k],
                    MonitorColumn::Cp(k, d) => r.cp.get(k).map_or(f64::NAN, |s| s.cp[d]),
                }
            }
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Column::Test { name, part, .. } => write!(f, "{name}.{part}"),
            Column::Monitor { name, what: MonitorColumn::Z(look), .. } => {
                write!(f, "monitoring.{name}.z[{look}]")
            }
            Column::Monitor { name, what: MonitorColumn::StopLook, .. } => {
                write!(f, "monitoring.{name}.stop_look")
            }
            Column::Monitor { name, what: MonitorColumn::StopReason, .. } => {
                write!(f, "monitoring.{name}.stop_reason")
            }
            Column::Monitor { name, what: MonitorColumn::Fraction(k), .. } => {
                write!(f, "monitoring.{name}.fraction[{k}]")
            }
            Column::Monitor { name, what: MonitorColumn::Cp(k, d), .. } => {
                write!(f, "monitoring.{name}.cp_{}[{k}]", crate::scenario::CpDrift::ALL[*d].name())
            }
        }
    }
}

/// Everything fixed for a run: which arms form the groups, which tests, which estimates and
/// columns in which order, the band grid. Built once from the scenario and its truth.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Arm index → group (0 control or the single arm, 1 experimental); `None`: not allocated.
    pub group_of: Vec<Option<u8>>,
    /// Arm index of each group.
    pub group_arms: Vec<usize>,
    pub groups: usize,
    pub tests: Vec<(String, TestKind)>,
    /// What the tests read of `[analysis]`.
    pub settings: Settings,
    /// The data views the tests read (the risk table always: every estimate reads it).
    pub views: Views,
    pub critical: f64,
    pub estimates: Vec<EstimateSpec>,
    pub grid: Vec<Time>,
    pub n_causes: usize,
    /// Columns of replicates.csv after `replicate`: the tests', then the monitoring's.
    pub columns: Vec<Column>,
    /// How many of `columns` are the tests'.
    pub test_columns: usize,
    /// True RMST difference and ratio (for CI coverage); NaN without τ.
    pub rmst_truth: RmstCoverage,
    /// True milestone difference (for CI coverage); NaN without a milestone.
    pub milestone_truth: f64,
    /// The monitored designs (`[monitoring]`), for two-arm scenarios.
    pub monitor: Option<Monitor>,
}

/// The true RMST difference and ratio (experimental over control), against which each trial's
/// confidence intervals are checked (coverage).
#[derive(Debug, Clone, Copy)]
pub struct RmstCoverage {
    pub difference: f64,
    pub ratio: f64,
}

impl Layout {
    pub fn new(sc: &Scenario, truth: &Truth) -> Layout {
        let (group_of, group_arms) = groups(sc);
        let groups = group_arms.len();
        let a = &sc.analysis;
        // Tests compare two arms; a single-arm study reports truth and Kaplan–Meier only.
        let tests: Vec<(String, TestKind)> =
            if groups == 2 { a.tests.iter().map(|t| (t.name.clone(), t.kind)).collect() } else { Vec::new() };
        let mut views =
            tests.iter().fold(Views::default().with(View::RiskTable), |v, (_, k)| v.with(k.view()));
        // The extrapolation fits read each patient's time, not only the risk table.
        if groups == 2 && a.long_term.as_ref().is_some_and(|l| l.extrapolation.is_some()) {
            views = views.with(View::Patients);
        }
        // Each stratum's subgroup estimates read its own risk table.
        if groups == 2 && sc.is_stratified() && a.subgroups {
            views = views.with(View::StrataTables);
        }
        let mut estimates = Vec::new();
        let mut columns = Vec::new();
        test_entries(&tests, a.periods.len() + 1, truth, &mut estimates, &mut columns);
        win_entries(sc, &tests, &mut estimates);
        let test_columns = columns.len();
        let arm_names: Vec<String> = group_arms.iter().map(|&g| sc.arms[g].name.clone()).collect();
        summary_entries(sc, truth, &arm_names, &mut estimates);
        let rmst_truth = rmst_truth(truth, &arm_names);
        let t_max = plot_horizon(sc, truth.expected_cut);
        let grid = (0..BAND_POINTS).map(|i| t_max * i as f64 / (BAND_POINTS - 1) as f64).collect();
        let monitor = if groups == 2 { Monitor::new(sc) } else { None };
        if let Some(m) = &monitor {
            monitor_columns(m, &mut columns);
        }
        Layout {
            group_of,
            group_arms,
            groups,
            tests,
            settings: a.settings(),
            views,
            critical: critical_value(a.alpha, a.sides),
            estimates,
            grid,
            n_causes: sc.causes.len(),
            columns,
            test_columns,
            rmst_truth,
            milestone_truth: truth.milestone.as_ref().map_or(f64::NAN, |m| m.difference),
            monitor,
        }
    }

    /// The tests' columns of replicates.csv.
    pub(crate) fn test_columns(&self) -> &[Column] {
        &self.columns[..self.test_columns]
    }

    /// The monitoring's columns of replicates.csv (after the tests').
    pub(crate) fn monitor_columns(&self) -> &[Column] {
        &self.columns[self.test_columns..]
    }

    /// The index of an estimate in the layout (and in `Summary::estimates`).
    pub(crate) fn index_of(&self, e: &Estimate) -> Option<usize> {
        self.estimates.iter().position(|s| s.estimate == *e)
    }

    /// The index of test `test`'s z statistic.
    pub(crate) fn z_of(&self, test: usize) -> Option<usize> {
        self.estimates.iter().position(|s| matches!(s.estimate, Estimate::TestZ { test: t, .. } if t == test))
    }

    /// The column names of replicates.csv after `replicate`.
    pub(crate) fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(ToString::to_string).collect()
    }
}

/// Arm index → group, and each group's arm: control then experimental for a comparison, else
/// the allocated arms.
fn groups(sc: &Scenario) -> (Vec<Option<u8>>, Vec<usize>) {
    let mut group_of = vec![None; sc.arms.len()];
    let group_arms: Vec<usize> = match sc.comparison {
        Some(c) => vec![c.control, c.experimental],
        None => sc.allocated_arms().map(|(i, _)| i).collect(),
    };
    for (g, &a) in group_arms.iter().enumerate() {
        group_of[a] = Some(g as u8);
    }
    (group_of, group_arms)
}

fn spec(estimate: Estimate, truth: Option<f64>, lo: f64, hi: f64) -> EstimateSpec {
    EstimateSpec { estimate, truth, lo, hi }
}

/// Each test's z and estimates (with their truth), and its replicates.csv columns.
fn test_entries(
    tests: &[(String, TestKind)],
    periods: usize,
    truth: &Truth,
    estimates: &mut Vec<EstimateSpec>,
    columns: &mut Vec<Column>,
) {
    for (test, (name, kind)) in tests.iter().enumerate() {
        estimates.push(spec(Estimate::TestZ { test, name: name.clone() }, None, -10.0, 10.0));
        columns.extend(kind.parts(periods).into_iter().map(|part| Column::Test {
            test,
            name: name.clone(),
            part,
        }));
        for e in kind.estimates(periods) {
            estimates.push(match e {
                EstimatePart::LogHr => spec(
                    Estimate::CoxLogHr { test, name: name.clone() },
                    Some(truth.ahr_overall.ln()),
                    -5.0,
                    5.0,
                ),
                EstimatePart::PeriodLogHr(period) => spec(
                    Estimate::CoxPeriodLogHr { test, name: name.clone(), period },
                    truth.ahr.get(period).map(|p| p.ahr.ln()),
                    -5.0,
                    5.0,
                ),
            });
        }
    }
}

/// Each `win(NAME)` test's win ratio, win odds, net benefit, shares of pairs, and the wins and
/// losses decided at each layer. No closed-form truth: the estimator's limit under a design is
/// what a large simulation gives (docs/composite.md).
fn win_entries(sc: &Scenario, tests: &[(String, TestKind)], est: &mut Vec<EstimateSpec>) {
    for (test, (name, kind)) in tests.iter().enumerate() {
        let TestKind::Win { composite } = *kind else { continue };
        let layers = sc.composites[composite].layers.len();
        let mut push = |part: WinEstimate, lo: f64, hi: f64| {
            est.push(spec(Estimate::Win { test, name: name.clone(), composite, part }, None, lo, hi));
        };
        push(WinEstimate::WinRatio, 0.0, 10.0);
        push(WinEstimate::WinOdds, 0.0, 10.0);
        push(WinEstimate::NetBenefit, -1.0, 1.0);
        push(WinEstimate::ShareAll, 0.0, 1.0);
        push(WinEstimate::ShareDecided, 0.0, 1.0);
        for l in 0..layers {
            push(WinEstimate::LayerWins(l), 0.0, 1.0);
            push(WinEstimate::LayerLosses(l), 0.0, 1.0);
        }
    }
}

/// The estimates of every run: RMST, milestone, Kaplan–Meier at the horizons, the crossing,
/// events and the cut (`arms`: each group's arm name).
fn summary_entries(sc: &Scenario, truth: &Truth, arms: &[String], est: &mut Vec<EstimateSpec>) {
    let a = &sc.analysis;
    let groups = arms.len();
    let truth_of = |list: &[ArmValue], g: usize| list.iter().find(|v| v.arm == arms[g]).map(|v| v.value);
    if let (Some(tau), Some(rt)) = (a.tau, &truth.rmst) {
        for (g, arm) in arms.iter().enumerate() {
            est.push(spec(Estimate::Rmst { group: g, arm: arm.clone() }, truth_of(&rt.arms, g), 0.0, tau));
        }
        if groups == 2 {
            est.push(spec(Estimate::RmstDiff, Some(rt.difference), -tau, tau));
            est.push(spec(Estimate::RmstSe, None, 0.0, tau));
            // Coverage of the two-sided 95% CI: the mean of an indicator.
            est.push(spec(Estimate::RmstDiffCovers, Some(0.95), 0.0, 1.0));
            let ratio = truth_of(&rt.arms, 1).zip(truth_of(&rt.arms, 0)).map(|(e, c)| e / c);
            est.push(spec(Estimate::RmstRatio, ratio, 0.0, 5.0));
            est.push(spec(Estimate::RmstRatioCovers, Some(0.95), 0.0, 1.0));
        }
    }
    if let (Some(_), Some(mt), true) = (a.milestone, &truth.milestone, groups == 2) {
        est.push(spec(Estimate::MilestoneDiff, Some(mt.difference), -1.0, 1.0));
        est.push(spec(Estimate::MilestoneSe, None, 0.0, 1.0));
        est.push(spec(Estimate::MilestoneDiffCovers, Some(0.95), 0.0, 1.0));
    }
    for (horizon, &at) in a.horizons.iter().enumerate() {
        for (group, arm) in arms.iter().enumerate() {
            let tv = truth.survival.iter().find(|c| &c.arm == arm).map(|c| c.values[horizon]);
            est.push(spec(Estimate::Km { group, arm: arm.clone(), horizon, at }, tv, 0.0, 1.0));
            est.push(spec(Estimate::KmSe { group, arm: arm.clone(), horizon, at }, None, 0.0, 1.0));
        }
        if groups == 2 {
            let tv = truth.difference.get(horizon).copied();
            est.push(spec(Estimate::KmDifference { horizon, at }, tv, -1.0, 1.0));
        }
    }
    let t_max = plot_horizon(sc, truth.expected_cut);
    if groups == 2 {
        est.push(spec(Estimate::CrossingTime, truth.crossing_by_rule, 0.0, t_max));
        extrapolation_entries(sc, t_max, est);
    }
    if groups == 2 && a.subgroups {
        stratum_entries(sc, truth, est);
    }
    let events = truth.expected_cut.map(|_| truth.expected_events_total);
    est.push(spec(Estimate::Events, events, 0.0, sc.design.n as f64));
    est.push(spec(Estimate::Cut, truth.expected_cut, 0.0, 4.0 * t_max));
}

/// With `[strata]`: each stratum's log hazard ratio (truth: its AHR) and Kaplan–Meier
/// difference at the horizons (truth: its true difference).
fn stratum_entries(sc: &Scenario, truth: &Truth, est: &mut Vec<EstimateSpec>) {
    for (stratum, st) in truth.strata.iter().enumerate() {
        let name = st.stratum.clone();
        let present = st.present.then_some(());
        est.push(spec(
            Estimate::StratumLogHr { stratum, name: name.clone() },
            present.map(|_| st.ahr_overall.ln()),
            -5.0,
            5.0,
        ));
        for (horizon, &at) in sc.analysis.horizons.iter().enumerate() {
            let tv = present.and(st.difference.get(horizon).copied());
            est.push(spec(
                Estimate::StratumKmDifference { stratum, name: name.clone(), horizon, at },
                tv,
                -1.0,
                1.0,
            ));
        }
    }
}

/// With `[analysis.long_term.extrapolation]`: the RMST difference to the τ each trial supports,
/// and per method and time the extrapolated difference (truth: ΔRMST there), its SE and whether
/// its interval covers the truth.
fn extrapolation_entries(sc: &Scenario, t_max: Time, est: &mut Vec<EstimateSpec>) {
    let Some(x) = sc.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()) else { return };
    let Some((ctl, exp)) = crate::truth::mixture::pair(sc) else { return };
    let ep = sc.primary();
    // A trial's follow-up may reach beyond the horizon: the range of the cut's histogram.
    let reach = 4.0 * t_max;
    est.push(spec(Estimate::SupportedTau, None, 0.0, reach));
    est.push(spec(Estimate::SupportedRmstDiff, None, -reach, reach));
    est.push(spec(Estimate::SupportedRmstError, Some(0.0), -reach, reach));
    for (method, m) in x.methods.iter().enumerate() {
        for &at in &x.at {
            let name = m.name();
            let truth = crate::truth::long_term::rmst_gain(&ctl, &exp, ep, at);
            est.push(spec(Estimate::Extrapolated { method, name, at }, Some(truth), -at, at));
            est.push(spec(Estimate::ExtrapolatedSe { method, name, at }, None, 0.0, at));
            est.push(spec(Estimate::ExtrapolatedCovers { method, name, at }, Some(0.95), 0.0, 1.0));
        }
    }
}

/// The true RMST difference and ratio (NaN without τ; the ratio needs two groups).
fn rmst_truth(truth: &Truth, arms: &[String]) -> RmstCoverage {
    truth.rmst.as_ref().map_or(RmstCoverage { difference: f64::NAN, ratio: f64::NAN }, |r| {
        let arm = |g: usize| r.arms.iter().find(|v| v.arm == arms[g]).map_or(f64::NAN, |v| v.value);
        RmstCoverage {
            difference: r.difference,
            ratio: if arms.len() == 2 { arm(1) / arm(0) } else { f64::NAN },
        }
    })
}

/// Per monitored test: its z at each look, the look it ended at, and why; with conditional
/// power, each interim's information fraction and conditional power under each drift.
fn monitor_columns(m: &Monitor, columns: &mut Vec<Column>) {
    for (monitored, mt) in m.tests.iter().enumerate() {
        let column = |what| Column::Monitor { monitored, name: mt.name.clone(), what };
        columns.extend((0..=m.looks.len()).map(|look| column(MonitorColumn::Z(look))));
        columns.push(column(MonitorColumn::StopLook));
        columns.push(column(MonitorColumn::StopReason));
        if mt.cp.is_some() {
            for k in 0..m.looks.len() {
                columns.push(column(MonitorColumn::Fraction(k)));
                columns.extend((0..3).map(|d| column(MonitorColumn::Cp(k, d))));
            }
        }
    }
}

/// One replicate's results, in the order the layout fixes. Reused across replicates.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub decisions: Vec<Decision>,
    /// replicates.csv columns (after `replicate`), one per `Layout::columns`.
    pub columns: Vec<f64>,
    /// One per `Layout::estimates`.
    pub estimates: Vec<f64>,
    /// Kaplan–Meier per group on the band grid (`group * grid + i`), NaN beyond the last time.
    pub band: Vec<f64>,
    pub crossing: Time,
    pub early_harm: bool,
    pub late_benefit: bool,
    /// [early harm significant, late benefit significant] (see `analysis::analyse`).
    pub detects: [bool; 2],
    pub events_by_cause: Vec<u32>,
    pub events: [u32; 2],
    pub cut: Time,
    pub target_reached: bool,
    /// Per monitored test, what interim monitoring did (empty without `[monitoring]`).
    pub monitoring: Vec<TestRecord>,
    pub safety: SafetyRecord,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_output_contract() {
        let name = "cox_periods".to_string();
        assert_eq!(
            Estimate::CoxPeriodLogHr { test: 0, name: name.clone(), period: 1 }.to_string(),
            "cox_periods.log_hr[1]"
        );
        assert_eq!(
            Estimate::KmSe { group: 1, arm: "hsct".into(), horizon: 2, at: 4.0 }.to_string(),
            "km.hsct.4.se"
        );
        assert_eq!(Estimate::KmDifference { horizon: 0, at: 0.5 }.to_string(), "km.difference.0.5");
        assert_eq!(Estimate::RmstRatioCovers.to_string(), "rmst.ratio.ci95_covers");
        assert_eq!(Column::Test { test: 0, name, part: Part::PeriodSe(0) }.to_string(), "cox_periods.se[0]");
        assert_eq!(
            Column::Test { test: 3, name: "maxcombo".into(), part: Part::P }.to_string(),
            "maxcombo.p"
        );
        let monitor = |what| Column::Monitor { monitored: 0, name: "logrank".into(), what };
        assert_eq!(monitor(MonitorColumn::Z(2)).to_string(), "monitoring.logrank.z[2]");
        assert_eq!(monitor(MonitorColumn::StopLook).to_string(), "monitoring.logrank.stop_look");
        assert_eq!(monitor(MonitorColumn::StopReason).to_string(), "monitoring.logrank.stop_reason");
        assert!(Estimate::KmSe { group: 0, arm: "a".into(), horizon: 0, at: 1.0 }.is_auxiliary());
        assert!(!Estimate::RmstDiff.is_auxiliary());
    }
}
