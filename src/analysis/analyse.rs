//! All statistics of one trial's data at its cut, into the run's [`Row`]: each test's statistic
//! and decision, Kaplan–Meier at the horizons, what the trial shows, events, the plan's columns
//! and estimates, and the Kaplan–Meier band.

use super::plan::{Column, Estimate, Layout, Row};
use crate::scenario::Scenario;
use crate::stats::RiskTable;
use crate::stats::analysis_data::AnalysisData;
use crate::stats::crossing::observed_crossing;
use crate::stats::decision::benefit_z;
use crate::stats::kaplan_meier::{KmPoint, km_at, surv_at};
use crate::stats::normal::Z_975;
use crate::stats::rmst::rmst;
use crate::test_statistic::{Shared, TestResult};
use crate::time::Time;

/// Buffers of `analyse`.
#[derive(Debug, Default)]
pub struct Scratch {
    km: Vec<KmPoint>,
    shared: Shared,
    tests: Vec<TestResult>,
}

/// Per-replicate options of the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyseOptions {
    /// Collect the Kaplan–Meier band.
    pub band: bool,
    /// Compute MaxCombo p-values even when a bound decides the test (for replicates.csv).
    pub exact_p: bool,
}

/// All statistics of one trial's data at its cut: first each statistic once, then the layout's
/// columns (the tests'; the monitoring's follow in `replicate`) and estimates, filled by walking
/// the layout.
pub fn analyse(
    sc: &Scenario,
    layout: &Layout,
    data: &AnalysisData,
    ws: &mut Scratch,
    row: &mut Row,
    opts: AnalyseOptions,
) {
    let two_groups = layout.groups == 2;
    ws.shared.prepare(data, &layout.settings, layout.tests.iter().map(|(_, k)| *k), two_groups);
    row.decisions.clear();
    ws.tests.clear();
    for &(_, kind) in &layout.tests {
        let (result, decision) = kind.compute(data, &layout.settings, &ws.shared, opts.exact_p);
        row.decisions.push(decision);
        ws.tests.push(result);
    }
    km_at_horizons(data.risk_table(), &sc.analysis.horizons, layout.groups, &mut ws.km);
    what_the_trial_shows(sc, layout, data.risk_table(), ws, row);
    events(data.events_by_cause(), layout.n_causes, row);
    row.columns.clear();
    row.columns.extend(layout.test_columns().iter().map(|c| match *c {
        Column::Test { test, part, .. } => ws.tests[test].part(part, &ws.shared),
        Column::Monitor { .. } => unreachable!("test_columns holds the tests' columns"),
    }));
    estimates(sc, layout, data, ws, row);
    row.band.clear();
    if opts.band {
        let n = layout.grid.len();
        row.band.resize(layout.groups * n, f64::NAN);
        for g in 0..layout.groups {
            surv_at(data.risk_table(), g, &layout.grid, &mut row.band[g * n..(g + 1) * n]);
        }
    }
}

/// Kaplan–Meier of each group at the horizons, into `km` (`group * horizons + k`).
fn km_at_horizons(table: &RiskTable, horizons: &[Time], groups: usize, km: &mut Vec<KmPoint>) {
    let h = horizons.len();
    km.clear();
    km.resize(groups * h, KmPoint { surv: f64::NAN, se: f64::NAN });
    for g in 0..groups {
        km_at(table, g, horizons, &mut km[g * h..(g + 1) * h]);
    }
}

/// What the trial shows. By the curves: experimental KM below control at the first horizon,
/// above at the last. By tests: early harm significant (the log-rank test on the first period's
/// event times — the Cox score test of that period's effect — has z > z_crit, or the KM
/// difference at the first horizon when no periods are given), late benefit significant (the
/// last period's z < −z_crit, or at the last horizon). And the observed crossing.
fn what_the_trial_shows(sc: &Scenario, layout: &Layout, table: &RiskTable, ws: &Scratch, row: &mut Row) {
    let (km, h) = (&ws.km, sc.analysis.horizons.len());
    row.early_harm = false;
    row.late_benefit = false;
    row.detects = [false, false];
    row.crossing = f64::NAN;
    if layout.groups != 2 {
        return;
    }
    if h > 0 {
        row.early_harm = km[h].surv < km[0].surv;
        row.late_benefit = km[h + h - 1].surv > km[h - 1].surv;
    }
    let km_z = |i: usize| {
        let (c, e) = (km[i], km[h + i]);
        let se = (c.se * c.se + e.se * e.se).sqrt();
        benefit_z(e.surv - c.surv, se)
    };
    let (z_early, z_late) = if let Some([_, early, late]) = ws.shared.period_logrank {
        (early.z, late.z)
    } else if h > 0 {
        (km_z(0), km_z(h - 1))
    } else {
        (f64::NAN, f64::NAN)
    };
    row.detects = [z_early > layout.critical, z_late < -layout.critical];
    row.crossing = observed_crossing(table, sc.analysis.crossing);
}

/// Events by group and cause (`group * causes + cause`), and per group.
fn events(events_by_cause: &[u32], n_causes: usize, row: &mut Row) {
    assert_eq!(events_by_cause.len(), 2 * n_causes, "events by group and cause");
    row.events_by_cause.clear();
    row.events_by_cause.extend_from_slice(events_by_cause);
    let (control, experimental) = events_by_cause.split_at(n_causes);
    row.events = [control.iter().sum(), experimental.iter().sum()];
}

/// The layout's estimates, in its order.
fn estimates(sc: &Scenario, layout: &Layout, data: &AnalysisData, ws: &Scratch, row: &mut Row) {
    let (tests, shared, km) = (&ws.tests, &ws.shared, &ws.km);
    let h = sc.analysis.horizons.len();
    let tau = sc.analysis.tau;
    let rmst_d = shared.rmst;
    let milestone_d = shared.milestone;
    let covers = |lo: f64, hi: f64, truth: f64| {
        if lo.is_nan() || hi.is_nan() { f64::NAN } else { f64::from(u8::from(lo <= truth && truth <= hi)) }
    };
    let rmst_of = |g: usize| match (rmst_d, tau) {
        (Some(d), _) => d.arms[g].rmst,
        (None, Some(tau)) => rmst(data.risk_table(), g, tau).rmst,
        (None, None) => f64::NAN,
    };
    row.estimates.clear();
    for spec in &layout.estimates {
        let value = match spec.estimate {
            Estimate::TestZ { test, .. } => tests[test].z,
            Estimate::CoxLogHr { test, .. } => tests[test].log_hr,
            Estimate::CoxPeriodLogHr { period, .. } => shared.periods[period].log_hr,
            Estimate::Rmst { group, .. } => rmst_of(group),
            Estimate::RmstDiff => rmst_d.map_or(f64::NAN, |d| d.diff),
            Estimate::RmstSe => rmst_d.map_or(f64::NAN, |d| d.se),
            Estimate::RmstDiffCovers => rmst_d.map_or(f64::NAN, |d| {
                covers(d.diff - Z_975 * d.se, d.diff + Z_975 * d.se, layout.rmst_truth.difference)
            }),
            Estimate::RmstRatio => rmst_d.map_or(f64::NAN, |d| d.arms[1].rmst / d.arms[0].rmst),
            // A delta-method CI on the log scale.
            Estimate::RmstRatioCovers => rmst_d.map_or(f64::NAN, |d| {
                let ratio = d.arms[1].rmst / d.arms[0].rmst;
                let se_log = ((d.arms[1].se / d.arms[1].rmst).powi(2)
                    + (d.arms[0].se / d.arms[0].rmst).powi(2))
                .sqrt();
                let (lo, hi) = ((ratio.ln() - Z_975 * se_log).exp(), (ratio.ln() + Z_975 * se_log).exp());
                covers(lo, hi, layout.rmst_truth.ratio)
            }),
            Estimate::MilestoneDiff => milestone_d.map_or(f64::NAN, |x| x.diff),
            Estimate::MilestoneSe => milestone_d.map_or(f64::NAN, |x| x.se),
            Estimate::MilestoneDiffCovers => milestone_d.map_or(f64::NAN, |x| {
                covers(x.diff - Z_975 * x.se, x.diff + Z_975 * x.se, layout.milestone_truth)
            }),
            Estimate::Km { group, horizon, .. } => km[group * h + horizon].surv,
            Estimate::KmSe { group, horizon, .. } => km[group * h + horizon].se,
            Estimate::KmDifference { horizon, .. } => km[h + horizon].surv - km[horizon].surv,
            Estimate::CrossingTime => row.crossing,
            Estimate::Events => f64::from(row.events[0] + row.events[1]),
            Estimate::Cut => data.cut(),
        };
        row.estimates.push(value);
    }
}
