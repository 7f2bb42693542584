//! The estimate layout: what one analysed replicate yields, in the order the summary, the
//! reports and replicates.csv use. It is one list of [`Estimate`]s and one of [`Column`]s, built
//! once per run from the scenario and its truth; `engine::analyse` fills a value for each entry
//! by walking the list, and reports find an entry by its enum value. Adding a statistic means a
//! variant here and its value in `engine::analyse`: the order lives in one place only.
//!
//! Each entry's `Display` is its stable name (a key of summary.json, a column of replicates.csv or
//! sweep.csv), e.g. `logrank.z`, `cox_periods.log_hr[1]`, `km.hsct.4.se`.

use std::fmt;

use crate::interim::{Monitor, SafetyRecord, TestRecord};
use crate::scenario::{Scenario, TestKind};
use crate::stats::decision::{Decision, critical_value};
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
    /// Primary-endpoint events at the cut.
    Events,
    /// The calendar time of the cut.
    Cut,
}

impl Estimate {
    /// A standard error, a test statistic or a coverage indicator: summarised, but not a
    /// quantity a sweep plots against its truth.
    pub fn is_auxiliary(&self) -> bool {
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
        )
    }

    /// A log hazard ratio (one Cox test, or one period of `cox_periods`).
    pub fn is_log_hr(&self) -> bool {
        matches!(self, Estimate::CoxLogHr { .. } | Estimate::CoxPeriodLogHr { .. })
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
/// is made of.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Z {
        test: usize,
        name: String,
    },
    /// RMST or milestone difference.
    Diff {
        test: usize,
        name: String,
    },
    /// SE of the difference (RMST, milestone) or of the log HR (Cox).
    Se {
        test: usize,
        name: String,
    },
    LogHr {
        test: usize,
        name: String,
    },
    PeriodLogHr {
        test: usize,
        name: String,
        period: usize,
    },
    PeriodSe {
        test: usize,
        name: String,
        period: usize,
    },
    /// MaxCombo's p-value.
    P {
        test: usize,
        name: String,
    },
    /// A monitored test's z at look `look` (interims, then the final; empty when not taken).
    MonitorZ {
        monitored: usize,
        name: String,
        look: usize,
    },
    /// The look (1-based) at which the monitored design ended.
    MonitorLook {
        monitored: usize,
        name: String,
    },
    /// Why it ended: 1 efficacy (rejected, at an interim or the final), 2 futility, 3 harm,
    /// 4 the safety rule, 0 the final analysis without rejection.
    MonitorReason {
        monitored: usize,
        name: String,
    },
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Column::*;
        match self {
            Z { name, .. } => write!(f, "{name}.z"),
            Diff { name, .. } => write!(f, "{name}.diff"),
            Se { name, .. } => write!(f, "{name}.se"),
            LogHr { name, .. } => write!(f, "{name}.log_hr"),
            PeriodLogHr { name, period, .. } => write!(f, "{name}.log_hr[{period}]"),
            PeriodSe { name, period, .. } => write!(f, "{name}.se[{period}]"),
            P { name, .. } => write!(f, "{name}.p"),
            MonitorZ { name, look, .. } => write!(f, "monitoring.{name}.z[{look}]"),
            MonitorLook { name, .. } => write!(f, "monitoring.{name}.stop_look"),
            MonitorReason { name, .. } => write!(f, "monitoring.{name}.stop_reason"),
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
    pub critical: f64,
    pub estimates: Vec<EstimateSpec>,
    pub grid: Vec<Time>,
    pub n_causes: usize,
    /// Columns of replicates.csv after `replicate`.
    pub columns: Vec<Column>,
    /// True RMST difference and ratio (for CI coverage); NaN without τ.
    pub rmst_truth: RmstTruth,
    /// True milestone difference (for CI coverage); NaN without a milestone.
    pub milestone_truth: f64,
    /// The monitored designs (`[monitoring]`), for two-arm scenarios.
    pub monitor: Option<Monitor>,
}

/// The true RMST difference and ratio (experimental over control).
#[derive(Debug, Clone, Copy)]
pub struct RmstTruth {
    pub difference: f64,
    pub ratio: f64,
}

impl Layout {
    pub fn new(sc: &Scenario, truth: &Truth) -> Layout {
        let mut group_of = vec![None; sc.arms.len()];
        let group_arms: Vec<usize> = match sc.comparison {
            Some(c) => vec![c.control, c.experimental],
            None => sc.allocated_arms().map(|(i, _)| i).collect(),
        };
        for (g, &a) in group_arms.iter().enumerate() {
            group_of[a] = Some(g as u8);
        }
        let groups = group_arms.len();
        let a = &sc.analysis;
        // Tests compare two arms; a single-arm study reports truth and Kaplan–Meier only.
        let tests: Vec<(String, TestKind)> =
            if groups == 2 { a.tests.iter().map(|t| (t.name.clone(), t.kind)).collect() } else { Vec::new() };
        let t_max = plot_horizon(sc, truth.expected_cut);
        let mut est = Vec::new();
        let mut spec = |estimate: Estimate, truth: Option<f64>, lo: f64, hi: f64| {
            est.push(EstimateSpec { estimate, truth, lo, hi });
        };
        let mut columns = Vec::new();
        let n_periods = a.periods.len() + 1;
        let log_ahr = |k: Option<usize>| match k {
            Some(k) => truth.ahr.get(k).map(|p| p.ahr.ln()),
            None => Some(truth.ahr_overall.ln()),
        };
        for (test, (name, kind)) in tests.iter().enumerate() {
            let name = name.clone();
            spec(Estimate::TestZ { test, name: name.clone() }, None, -10.0, 10.0);
            let z = Column::Z { test, name: name.clone() };
            match kind {
                TestKind::LogRank | TestKind::FlemingHarrington { .. } => columns.push(z),
                TestKind::Rmst | TestKind::Milestone => columns.extend([
                    Column::Diff { test, name: name.clone() },
                    Column::Se { test, name: name.clone() },
                    z,
                ]),
                TestKind::Cox { .. } => {
                    columns.extend([
                        Column::LogHr { test, name: name.clone() },
                        Column::Se { test, name: name.clone() },
                        z,
                    ]);
                    spec(Estimate::CoxLogHr { test, name }, log_ahr(None), -5.0, 5.0);
                }
                TestKind::CoxPeriods => {
                    columns.extend((0..n_periods).map(|period| Column::PeriodLogHr {
                        test,
                        name: name.clone(),
                        period,
                    }));
                    columns.extend((0..n_periods).map(|period| Column::PeriodSe {
                        test,
                        name: name.clone(),
                        period,
                    }));
                    columns.push(z);
                    for period in 0..n_periods {
                        spec(
                            Estimate::CoxPeriodLogHr { test, name: name.clone(), period },
                            log_ahr(Some(period)),
                            -5.0,
                            5.0,
                        );
                    }
                }
                TestKind::MaxCombo => columns.extend([z, Column::P { test, name }]),
            }
        }
        let arm_name = |g: usize| sc.arms[group_arms[g]].name.clone();
        let truth_of = |list: &[ArmValue], g: usize| {
            list.iter().find(|v| v.arm == sc.arms[group_arms[g]].name).map(|v| v.value)
        };
        if let (Some(tau), Some(rt)) = (a.tau, &truth.rmst) {
            for g in 0..groups {
                spec(Estimate::Rmst { group: g, arm: arm_name(g) }, truth_of(&rt.arms, g), 0.0, tau);
            }
            if groups == 2 {
                spec(Estimate::RmstDiff, Some(rt.difference), -tau, tau);
                spec(Estimate::RmstSe, None, 0.0, tau);
                // Coverage of the two-sided 95% CI: the mean of an indicator.
                spec(Estimate::RmstDiffCovers, Some(0.95), 0.0, 1.0);
                let ratio = truth_of(&rt.arms, 1).zip(truth_of(&rt.arms, 0)).map(|(e, c)| e / c);
                spec(Estimate::RmstRatio, ratio, 0.0, 5.0);
                spec(Estimate::RmstRatioCovers, Some(0.95), 0.0, 1.0);
            }
        }
        if let (Some(_), Some(mt), true) = (a.milestone, &truth.milestone, groups == 2) {
            spec(Estimate::MilestoneDiff, Some(mt.difference), -1.0, 1.0);
            spec(Estimate::MilestoneSe, None, 0.0, 1.0);
            spec(Estimate::MilestoneDiffCovers, Some(0.95), 0.0, 1.0);
        }
        for (horizon, &at) in a.horizons.iter().enumerate() {
            for group in 0..groups {
                let arm = arm_name(group);
                let tv = truth.survival.iter().find(|c| c.arm == arm).map(|c| c.values[horizon]);
                spec(Estimate::Km { group, arm: arm.clone(), horizon, at }, tv, 0.0, 1.0);
                spec(Estimate::KmSe { group, arm, horizon, at }, None, 0.0, 1.0);
            }
            if groups == 2 {
                spec(
                    Estimate::KmDifference { horizon, at },
                    truth.difference.get(horizon).copied(),
                    -1.0,
                    1.0,
                );
            }
        }
        if groups == 2 {
            spec(Estimate::CrossingTime, truth.crossing_by_rule, 0.0, t_max);
        }
        spec(
            Estimate::Events,
            truth.expected_cut.map(|_| truth.expected_events_total),
            0.0,
            sc.design.n as f64,
        );
        spec(Estimate::Cut, truth.expected_cut, 0.0, 4.0 * t_max);
        let rmst_truth =
            truth.rmst.as_ref().map_or(RmstTruth { difference: f64::NAN, ratio: f64::NAN }, |r| {
                let arm = |g: usize| {
                    r.arms.iter().find(|v| v.arm == sc.arms[group_arms[g]].name).map_or(f64::NAN, |v| v.value)
                };
                RmstTruth {
                    difference: r.difference,
                    ratio: if groups == 2 { arm(1) / arm(0) } else { f64::NAN },
                }
            });
        let grid = (0..BAND_POINTS).map(|i| t_max * i as f64 / (BAND_POINTS - 1) as f64).collect();
        let monitor = if groups == 2 { Monitor::new(sc) } else { None };
        if let Some(m) = &monitor {
            for (monitored, mt) in m.tests.iter().enumerate() {
                let name = mt.name.clone();
                columns.extend((0..=m.looks.len()).map(|look| Column::MonitorZ {
                    monitored,
                    name: name.clone(),
                    look,
                }));
                columns.push(Column::MonitorLook { monitored, name: name.clone() });
                columns.push(Column::MonitorReason { monitored, name });
            }
        }
        Layout {
            group_of,
            group_arms,
            groups,
            tests,
            critical: critical_value(a.alpha, a.sides),
            estimates: est,
            grid,
            n_causes: sc.causes.len(),
            columns,
            rmst_truth,
            milestone_truth: truth.milestone.as_ref().map_or(f64::NAN, |m| m.difference),
            monitor,
        }
    }

    /// The index of an estimate in the layout (and in `Summary::estimates`).
    pub fn index_of(&self, e: &Estimate) -> Option<usize> {
        self.estimates.iter().position(|s| s.estimate == *e)
    }

    /// The index of test `test`'s z statistic.
    pub fn z_of(&self, test: usize) -> Option<usize> {
        self.estimates.iter().position(|s| matches!(s.estimate, Estimate::TestZ { test: t, .. } if t == test))
    }

    /// The column names of replicates.csv after `replicate`.
    pub fn column_names(&self) -> Vec<String> {
        self.columns.iter().map(ToString::to_string).collect()
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
    /// [early harm significant, late benefit significant] (see `engine::analyse`).
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
        assert_eq!(Column::PeriodSe { test: 0, name, period: 0 }.to_string(), "cox_periods.se[0]");
        assert_eq!(Column::P { test: 3, name: "maxcombo".into() }.to_string(), "maxcombo.p");
        assert!(Estimate::KmSe { group: 0, arm: "a".into(), horizon: 0, at: 1.0 }.is_auxiliary());
        assert!(!Estimate::RmstDiff.is_auxiliary());
    }
}
