//! All statistics of one trial's data at its cut, into the run's [`Row`]: each test's statistic
//! and decision, Kaplan–Meier at the horizons, what the trial shows, events, the plan's columns
//! and estimates, and the Kaplan–Meier band.

use super::plan::{Column, Estimate, Layout, Row, WinEstimate};
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
    /// Per stratum, each group's Kaplan–Meier at the horizons (`(stratum * 2 + group) * h + k`).
    strata_km: Vec<f64>,
    shared: Shared,
    tests: Vec<TestResult>,
    long_term: LongTermScratch,
}

/// Each arm's primary-endpoint data and what the extrapolation made of it, for one trial.
#[derive(Debug, Default)]
struct LongTermScratch {
    times: [Vec<Time>; 2],
    events: [Vec<bool>; 2],
    /// (τ, RMST difference to τ, minus its truth) at the τ the follow-up supports.
    supported: [f64; 3],
    /// (difference, SE) per method and time, `method * times + k`.
    extrapolated: Vec<(f64, f64)>,
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
    long_term(sc, data, &mut ws.long_term);
    if data.built().strata && two_groups {
        strata_km(data, &sc.analysis.horizons, &mut ws.strata_km);
    }
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

/// Each stratum's Kaplan–Meier per group at the horizons (NaN where a group of the stratum has no
/// one followed that long).
fn strata_km(data: &AnalysisData, horizons: &[Time], out: &mut Vec<f64>) {
    let (tables, h) = (data.strata_tables(), horizons.len());
    out.clear();
    out.resize(tables.len() * 2 * h, f64::NAN);
    for (s, table) in tables.iter().enumerate() {
        for g in 0..2 {
            let at = (s * 2 + g) * h;
            surv_at(table, g, horizons, &mut out[at..at + h]);
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

/// With `[analysis.long_term.extrapolation]`: the RMST difference to the largest τ both arms'
/// follow-up reaches (its Kaplan–Meier estimate, and its error against the truth there), and
/// each method's fit per arm extrapolated to each time (NaN when an arm's fit is not estimable).
fn long_term(sc: &Scenario, data: &AnalysisData, lt: &mut LongTermScratch) {
    lt.extrapolated.clear();
    lt.supported = [f64::NAN; 3];
    // A companion copy (identical arms, the never-better boundary) reports no extrapolation: its
    // scenario has none, and its estimates stay NaN.
    let Some(x) = sc.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()) else { return };
    let Some((ctl, exp)) = crate::truth::mixture::pair(sc) else { return };
    let table = data.risk_table();
    let tau = table.last_time[0].min(table.last_time[1]);
    if tau > 0.0 {
        let d = crate::stats::rmst::rmst_difference(table, tau).diff;
        lt.supported = [tau, d, d - crate::truth::long_term::rmst_gain(&ctl, &exp, sc.primary(), tau)];
    }
    let p = data.patients();
    let endpoint = sc.analysis.endpoint;
    for g in 0..2 {
        lt.times[g].clear();
        lt.events[g].clear();
    }
    for i in 0..p.len() {
        let Some(g) = p.group[i] else { continue };
        let (t, e) = p.outcomes_of(i)[endpoint];
        // A patient randomised at the cut has no time at risk and adds nothing to a likelihood.
        if t > 0.0 {
            lt.times[g as usize].push(t);
            lt.events[g as usize].push(e);
        }
    }
    for m in &x.methods {
        let fits = [0, 1].map(|g| crate::stats::extrapolation::fit_arm(m, &lt.times[g], &lt.events[g]));
        for &at in &x.at {
            lt.extrapolated.push(match &fits {
                [Some(c), Some(e)] => crate::stats::extrapolation::difference(c, e, at),
                _ => (f64::NAN, f64::NAN),
            });
        }
    }
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
            Estimate::SupportedTau => ws.long_term.supported[0],
            Estimate::SupportedRmstDiff => ws.long_term.supported[1],
            Estimate::SupportedRmstError => ws.long_term.supported[2],
            Estimate::Extrapolated { method, at, .. } => extrapolated(sc, &ws.long_term, method, at).0,
            Estimate::ExtrapolatedSe { method, at, .. } => extrapolated(sc, &ws.long_term, method, at).1,
            Estimate::ExtrapolatedCovers { method, name, at } => {
                let (d, se) = extrapolated(sc, &ws.long_term, method, at);
                // The truth of the extrapolated difference (this estimate's own is the 95% target).
                let truth = layout
                    .index_of(&Estimate::Extrapolated { method, name, at })
                    .and_then(|i| layout.estimates[i].truth)
                    .unwrap_or(f64::NAN);
                covers(d - Z_975 * se, d + Z_975 * se, truth)
            }
            Estimate::StratumLogHr { stratum, .. } => {
                crate::stats::cox::cox(&data.strata_tables()[stratum], crate::stats::cox::Ties::Efron).log_hr
            }
            Estimate::StratumKmDifference { stratum, horizon, .. } => {
                let at = |g: usize| ws.strata_km[(stratum * 2 + g) * h + horizon];
                at(1) - at(0)
            }
            Estimate::Win { composite, part, .. } => {
                let w = data.win_stats(composite);
                let pairs = (w.wins + w.losses + w.ties) as f64;
                match part {
                    WinEstimate::WinRatio => w.win_ratio,
                    WinEstimate::WinOdds => w.win_odds,
                    WinEstimate::NetBenefit => w.net_benefit,
                    WinEstimate::ShareAll => w.share_all,
                    WinEstimate::ShareDecided => w.share_decided,
                    WinEstimate::LayerWins(l) => w.layer_wins[l] as f64 / pairs,
                    WinEstimate::LayerLosses(l) => w.layer_losses[l] as f64 / pairs,
                }
            }
            Estimate::Events => f64::from(row.events[0] + row.events[1]),
            Estimate::Cut => data.cut(),
        };
        row.estimates.push(value);
    }
}

/// The extrapolated (difference, SE) of `method` at `at`.
fn extrapolated(sc: &Scenario, lt: &LongTermScratch, method: usize, at: Time) -> (f64, f64) {
    let times =
        sc.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()).map_or(&[][..], |x| &x.at[..]);
    let k = times.iter().position(|&t| t == at).unwrap_or(0);
    lt.extrapolated.get(method * times.len() + k).copied().unwrap_or((f64::NAN, f64::NAN))
}
