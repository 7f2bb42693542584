//! The Monte Carlo engine: for each replicate, generate the cohort, cut the data, analyse it, and
//! push the result into a streaming summary.
//!
//! Determinism: replicate r's draws depend only on (seed, r, patient, purpose) (`rng`), and
//! replicates are reduced in fixed chunks of [`CHUNK`] merged in chunk order, so the summary is
//! bit-identical for any thread count. Each worker owns one [`Workspace`] whose buffers are reused:
//! the hot loop allocates nothing per replicate.

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::cohort::{Cohort, Obs};
use crate::hazard::Years;
use crate::scenario::{Scenario, TestKind};
use crate::stats::RiskTable;
use crate::stats::cox::{CoxFit, Ties, cox, cox_periods};
use crate::stats::crossing::observed_crossing;
use crate::stats::decision::{Decision, critical_value, decide};
use crate::stats::kaplan_meier::{KmPoint, km_at, milestone, surv_at};
use crate::stats::logrank::{fleming_harrington, logrank, logrank_between};
use crate::stats::maxcombo::maxcombo;
use crate::stats::rmst::{rmst, rmst_difference};
use crate::summary::Summary;
use crate::truth::Truth;

/// The engine's version: a change to draws or statistics that alters results bumps it.
pub const ENGINE_VERSION: &str = concat!("trialsim ", env!("CARGO_PKG_VERSION"), " (chacha8 streams v1)");

/// Replicates per chunk: the unit of parallel work and of the ordered merge.
pub const CHUNK: u64 = 512;

/// Points of the time grid on which the Kaplan–Meier band is collected.
pub const BAND_POINTS: usize = 121;

/// The Kaplan–Meier band (a plot) is collected from replicates 0..BAND_REPLICATES only: its
/// 2.5% and 97.5% points then have a coverage error of about ±0.25 percentage points, and
/// longer runs don't pay for it.
pub const BAND_REPLICATES: u64 = 4_000;

/// One estimate reported with mean, SD and quantiles: its name (a stable key in summary.json),
/// its true value when the model defines one, and the histogram range.
#[derive(Debug, Clone)]
pub struct EstimateSpec {
    pub name: String,
    pub truth: Option<f64>,
    pub lo: f64,
    pub hi: f64,
}

/// Everything fixed for a run: which arms form the groups, which tests, which estimates in which
/// order, the band grid. Built once from the scenario and its truth.
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
    pub grid: Vec<Years>,
    pub n_causes: usize,
    /// Column names of replicates.csv after `replicate`.
    pub columns: Vec<String>,
    /// True RMST difference and ratio (for CI coverage); NaN without τ.
    pub rmst_truth: (f64, f64),
    /// True milestone difference (for CI coverage); NaN without a milestone.
    pub milestone_truth: f64,
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
        let t_max = crate::truth::plot_horizon(sc, truth.expected_cut);
        let mut est = Vec::new();
        let mut spec = |name: String, truth: Option<f64>, lo: f64, hi: f64| {
            est.push(EstimateSpec { name, truth, lo, hi });
        };
        let mut columns = Vec::new();
        let n_periods = a.periods.len() + 1;
        let log_ahr = |k: Option<usize>| match k {
            Some(k) => truth.ahr.get(k).map(|p| p.ahr.ln()),
            None => Some(truth.ahr_overall.ln()),
        };
        for (name, kind) in &tests {
            spec(format!("{name}.z"), None, -10.0, 10.0);
            match kind {
                TestKind::LogRank | TestKind::FlemingHarrington { .. } => columns.push(format!("{name}.z")),
                TestKind::Rmst | TestKind::Milestone => {
                    columns.extend(["diff", "se", "z"].map(|c| format!("{name}.{c}")));
                }
                TestKind::Cox { .. } => {
                    columns.extend(["log_hr", "se", "z"].map(|c| format!("{name}.{c}")));
                    spec(format!("{name}.log_hr"), log_ahr(None), -5.0, 5.0);
                }
                TestKind::CoxPeriods => {
                    columns.extend((0..n_periods).map(|k| format!("{name}.log_hr[{k}]")));
                    columns.extend((0..n_periods).map(|k| format!("{name}.se[{k}]")));
                    columns.push(format!("{name}.z"));
                    for k in 0..n_periods {
                        spec(format!("{name}.log_hr[{k}]"), log_ahr(Some(k)), -5.0, 5.0);
                    }
                }
                TestKind::MaxCombo => columns.extend(["z", "p"].map(|c| format!("{name}.{c}"))),
            }
        }
        let arm_name = |g: usize| sc.arms[group_arms[g]].name.clone();
        let truth_of = |list: &[crate::truth::ArmValue], g: usize| {
            list.iter().find(|v| v.arm == sc.arms[group_arms[g]].name).map(|v| v.value)
        };
        if let (Some(tau), Some(rt)) = (a.tau, &truth.rmst) {
            for g in 0..groups {
                spec(format!("rmst.{}", arm_name(g)), truth_of(&rt.arms, g), 0.0, tau);
            }
            if groups == 2 {
                spec("rmst.diff".into(), Some(rt.difference), -tau, tau);
                spec("rmst.se".into(), None, 0.0, tau);
                // Coverage of the two-sided 95% CI: the mean of an indicator.
                spec("rmst.diff.ci95_covers".into(), Some(0.95), 0.0, 1.0);
                let ratio = truth_of(&rt.arms, 1).zip(truth_of(&rt.arms, 0)).map(|(e, c)| e / c);
                spec("rmst.ratio".into(), ratio, 0.0, 5.0);
                spec("rmst.ratio.ci95_covers".into(), Some(0.95), 0.0, 1.0);
            }
        }
        if let (Some(_), Some(mt), true) = (a.milestone, &truth.milestone, groups == 2) {
            spec("milestone.diff".into(), Some(mt.difference), -1.0, 1.0);
            spec("milestone.se".into(), None, 0.0, 1.0);
            spec("milestone.diff.ci95_covers".into(), Some(0.95), 0.0, 1.0);
        }
        for (hi, &h) in a.horizons.iter().enumerate() {
            for g in 0..groups {
                let name = arm_name(g);
                let tv = truth.survival.iter().find(|c| c.arm == name).map(|c| c.values[hi]);
                spec(format!("km.{name}.{h}"), tv, 0.0, 1.0);
                spec(format!("km.{name}.{h}.se"), None, 0.0, 1.0);
            }
            if groups == 2 {
                spec(format!("km.difference.{h}"), truth.difference.get(hi).copied(), -1.0, 1.0);
            }
        }
        if groups == 2 {
            spec("crossing.time".into(), truth.crossing_times.first().copied(), 0.0, t_max);
        }
        spec(
            "events".into(),
            truth.expected_cut.map(|_| truth.expected_events_total),
            0.0,
            sc.design.n as f64,
        );
        spec("cut".into(), truth.expected_cut, 0.0, 4.0 * t_max);
        let rmst_truth = truth.rmst.as_ref().map_or((f64::NAN, f64::NAN), |r| {
            let arm = |g: usize| {
                r.arms.iter().find(|v| v.arm == sc.arms[group_arms[g]].name).map_or(f64::NAN, |v| v.value)
            };
            (r.difference, if groups == 2 { arm(1) / arm(0) } else { f64::NAN })
        });
        let grid = (0..BAND_POINTS).map(|i| t_max * i as f64 / (BAND_POINTS - 1) as f64).collect();
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
        }
    }
}

/// One replicate's results, in the order the layout fixes. Reused across replicates.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub decisions: Vec<Decision>,
    /// replicates.csv columns (after `replicate`).
    pub columns: Vec<f64>,
    pub estimates: Vec<f64>,
    /// Kaplan–Meier per group on the band grid (`group * grid + i`), NaN beyond the last time.
    pub band: Vec<f64>,
    pub crossing: Years,
    pub early_harm: bool,
    pub late_benefit: bool,
    /// [early harm significant, late benefit significant] (see `analyse`).
    pub detects: [bool; 2],
    pub events_by_cause: Vec<u32>,
    pub events: [u32; 2],
    pub cut: Years,
    pub target_reached: bool,
}

/// Per-worker buffers.
#[derive(Debug, Default)]
pub struct Workspace {
    pub cohort: Cohort,
    pub obs: Vec<Obs>,
    pub table: RiskTable,
    pub row: Row,
    pub scratch: Scratch,
    /// See [`AnalyseOptions::exact_p`].
    pub exact_p: bool,
}

/// Buffers of `analyse`.
#[derive(Debug, Default)]
pub struct Scratch {
    km: Vec<KmPoint>,
    periods: Vec<CoxFit>,
}

/// Simulates and analyses replicate `r` into `ws.row`.
pub fn replicate(sc: &Scenario, layout: &Layout, seed: u64, r: u64, ws: &mut Workspace) {
    ws.cohort.generate(sc, seed, r);
    let cut = ws.cohort.cut(sc);
    ws.cohort.observe(sc.primary(), cut.calendar, &layout.group_of, &mut ws.obs);
    ws.table.build(&mut ws.obs);
    let opts = AnalyseOptions { band: r < BAND_REPLICATES, exact_p: ws.exact_p };
    analyse(sc, layout, &ws.table, &ws.obs, &mut ws.scratch, &mut ws.row, opts);
    ws.row.cut = cut.calendar;
    ws.row.target_reached = cut.target_reached;
    *ws.row.estimates.last_mut().expect("layout always has `cut`") = cut.calendar;
}

/// Per-replicate options of the analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnalyseOptions {
    /// Collect the Kaplan–Meier band.
    pub band: bool,
    /// Compute MaxCombo p-values even when a bound decides the test (for replicates.csv).
    pub exact_p: bool,
}

/// All statistics of one analysed dataset (sorted `obs` and its risk table).
pub fn analyse(
    sc: &Scenario,
    layout: &Layout,
    table: &RiskTable,
    obs: &[Obs],
    ws: &mut Scratch,
    row: &mut Row,
    opts: AnalyseOptions,
) {
    let a = &sc.analysis;
    row.decisions.clear();
    row.columns.clear();
    row.estimates.clear();
    let sides = a.sides;
    let groups = layout.groups;
    ws.periods.clear();
    ws.periods.resize(a.periods.len() + 1, CoxFit::NAN);
    if layout.tests.iter().any(|(_, k)| *k == TestKind::CoxPeriods) {
        cox_periods(table, &a.periods, Ties::Efron, &mut ws.periods);
    }
    // Computed once, used by the tests and the estimates.
    let rmst_d = if groups == 2 { a.tau.map(|tau| rmst_difference(table, tau)) } else { None };
    let milestone_d = if groups == 2 { a.milestone.map(|m| milestone(table, m)) } else { None };
    for (_, kind) in &layout.tests {
        let (z, decision) = match *kind {
            TestKind::LogRank => {
                let z = logrank(table).z;
                row.columns.push(z);
                (z, None)
            }
            TestKind::FlemingHarrington { rho, gamma } => {
                let z = fleming_harrington(table, rho, gamma).z;
                row.columns.push(z);
                (z, None)
            }
            TestKind::Rmst => {
                let d = rmst_d.expect("validated: rmst has tau; tests need two groups");
                row.columns.extend([d.diff, d.se, d.z]);
                (d.z, None)
            }
            TestKind::Milestone => {
                let m = milestone_d.expect("validated: milestone has a time; tests need two groups");
                row.columns.extend([m.diff, m.se, m.z]);
                (m.z, None)
            }
            TestKind::Cox { breslow } => {
                let f = cox(table, if breslow { Ties::Breslow } else { Ties::Efron });
                row.columns.extend([f.log_hr, f.se, f.z]);
                row.estimates.push(f.log_hr);
                (f.z, None)
            }
            TestKind::CoxPeriods => {
                row.columns.extend(ws.periods.iter().map(|f| f.log_hr));
                row.columns.extend(ws.periods.iter().map(|f| f.se));
                let z = ws.periods.last().map_or(f64::NAN, |f| f.z);
                row.columns.push(z);
                row.estimates.extend(ws.periods.iter().map(|f| f.log_hr));
                (z, None)
            }
            TestKind::MaxCombo => {
                let m = maxcombo(table, &a.maxcombo_weights, sides);
                let (reject, mut p) = m.reject(sides, a.alpha);
                if opts.exact_p && p.is_nan() {
                    p = m.p_value(sides);
                }
                row.columns.extend([m.z, p]);
                let d = if m.z.is_nan() {
                    Decision::NotEstimable
                } else if !reject {
                    Decision::None
                } else if m.z < 0.0 {
                    Decision::Benefit
                } else {
                    Decision::Harm
                };
                (m.z, Some(d))
            }
        };
        row.decisions.push(decision.unwrap_or_else(|| decide(z, layout.critical, sides)));
        // Each test's z leads its estimates (Cox estimates were pushed first: keep z in front).
        let first = row.estimates.len()
            - match kind {
                TestKind::Cox { .. } => 1,
                TestKind::CoxPeriods => ws.periods.len(),
                _ => 0,
            };
        row.estimates.insert(first, z);
    }
    let z2 = 1.959_963_984_540_054;
    let covers = |lo: f64, hi: f64, truth: f64| {
        if lo.is_nan() || hi.is_nan() { f64::NAN } else { f64::from(u8::from(lo <= truth && truth <= hi)) }
    };
    if let Some(tau) = a.tau {
        match rmst_d {
            Some(d) => row.estimates.extend([d.arms[0].rmst, d.arms[1].rmst]),
            None => row.estimates.extend((0..groups).map(|g| rmst(table, g, tau).rmst)),
        }
        if let Some(d) = rmst_d {
            let (truth_diff, truth_ratio) = layout.rmst_truth;
            row.estimates.extend([d.diff, d.se, covers(d.diff - z2 * d.se, d.diff + z2 * d.se, truth_diff)]);
            // RMST ratio with a delta-method CI on the log scale.
            let ratio = d.arms[1].rmst / d.arms[0].rmst;
            let se_log =
                ((d.arms[1].se / d.arms[1].rmst).powi(2) + (d.arms[0].se / d.arms[0].rmst).powi(2)).sqrt();
            let (lo, hi) = ((ratio.ln() - z2 * se_log).exp(), (ratio.ln() + z2 * se_log).exp());
            row.estimates.extend([ratio, covers(lo, hi, truth_ratio)]);
        }
    }
    if let Some(x) = milestone_d {
        row.estimates.extend([
            x.diff,
            x.se,
            covers(x.diff - z2 * x.se, x.diff + z2 * x.se, layout.milestone_truth),
        ]);
    }
    // Kaplan–Meier at the horizons, per group.
    let h = &a.horizons;
    let km = &mut ws.km;
    km.clear();
    km.resize(groups * h.len(), KmPoint { surv: f64::NAN, se: f64::NAN });
    for g in 0..groups {
        km_at(table, g, h, &mut km[g * h.len()..(g + 1) * h.len()]);
    }
    for i in 0..h.len() {
        for g in 0..groups {
            let p = km[g * h.len() + i];
            row.estimates.extend([p.surv, p.se]);
        }
        if groups == 2 {
            row.estimates.push(km[h.len() + i].surv - km[i].surv);
        }
    }
    // What the trial shows. By the curves: experimental KM below control at the first horizon,
    // above at the last. By tests: early harm significant (the log-rank test on the first
    // period's event times — the Cox score test of that period's effect — has z > z_crit, or the
    // KM difference at the first horizon when no periods are given), late benefit significant
    // (the last period's z < −z_crit, or at the last horizon).
    row.early_harm = false;
    row.late_benefit = false;
    row.detects = [false, false];
    if groups == 2 && !h.is_empty() {
        let last = h.len() - 1;
        row.early_harm = km[h.len()].surv < km[0].surv;
        row.late_benefit = km[h.len() + last].surv > km[last].surv;
    }
    if groups == 2 {
        let km_z = |i: usize| {
            let (c, e) = (km[i], km[h.len() + i]);
            let se = (c.se * c.se + e.se * e.se).sqrt();
            if se > 0.0 { -(e.surv - c.surv) / se } else { f64::NAN }
        };
        let (z_early, z_late) = if let (Some(&first), Some(&last)) = (a.periods.first(), a.periods.last()) {
            (logrank_between(table, 0.0, first).z, logrank_between(table, last, f64::INFINITY).z)
        } else if !h.is_empty() {
            (km_z(0), km_z(h.len() - 1))
        } else {
            (f64::NAN, f64::NAN)
        };
        row.detects = [z_early > layout.critical, z_late < -layout.critical];
    }
    row.crossing = f64::NAN;
    if groups == 2 {
        row.crossing = observed_crossing(table, a.crossing);
        row.estimates.push(row.crossing);
    }
    // Events by group and cause.
    row.events_by_cause.clear();
    row.events_by_cause.resize(2 * layout.n_causes, 0);
    row.events = [0, 0];
    for o in obs.iter().filter(|o| o.event) {
        row.events[o.group as usize] += 1;
        row.events_by_cause[o.group as usize * layout.n_causes + o.cause as usize] += 1;
    }
    row.estimates.push(f64::from(row.events[0] + row.events[1]));
    row.estimates.push(f64::NAN); // the cut, filled in by the caller
    debug_assert_eq!(row.estimates.len(), layout.estimates.len());
    // Kaplan–Meier band on the grid.
    row.band.clear();
    if opts.band {
        let n = layout.grid.len();
        row.band.resize(groups * n, f64::NAN);
        for g in 0..groups {
            surv_at(table, g, &layout.grid, &mut row.band[g * n..(g + 1) * n]);
        }
    }
}

/// How to run a simulation.
pub struct Run<'a> {
    pub scenario: &'a Scenario,
    pub layout: &'a Layout,
    pub replicates: u64,
    pub seed: u64,
    pub progress: Option<&'a ProgressBar>,
}

/// Runs all replicates on the current rayon pool. `rows`, if given, receives each replicate's
/// replicates.csv columns in replicate order.
/// Receives one replicate's replicates.csv columns: (replicate, values).
pub type RowSink<'a> = &'a mut dyn FnMut(u64, &[f64]);

pub fn simulate(run: &Run, mut rows: Option<RowSink>) -> Summary {
    let chunks = run.replicates.div_ceil(CHUNK);
    // Batches bound memory: only this many chunk summaries exist at once.
    let batch = (8 * rayon::current_num_threads() as u64).max(1);
    let want_rows = rows.is_some();
    let mut total = Summary::new(run.layout);
    let mut start = 0;
    while start < chunks {
        let end = (start + batch).min(chunks);
        let parts: Vec<(Summary, Vec<f64>)> = (start..end)
            .into_par_iter()
            .map_init(
                || Workspace { exact_p: want_rows, ..Workspace::default() },
                |ws, c| {
                    let mut s = Summary::new(run.layout);
                    let mut flat = Vec::new();
                    let (r0, r1) = (c * CHUNK, ((c + 1) * CHUNK).min(run.replicates));
                    for r in r0..r1 {
                        replicate(run.scenario, run.layout, run.seed, r, ws);
                        s.push(&ws.row);
                        if want_rows {
                            flat.extend_from_slice(&ws.row.columns);
                        }
                    }
                    if let Some(p) = run.progress {
                        p.inc(r1 - r0);
                    }
                    (s, flat)
                },
            )
            .collect();
        for (c, (s, flat)) in (start..end).zip(parts) {
            total.merge(&s);
            if let Some(f) = rows.as_mut() {
                let width = run.layout.columns.len();
                let r0 = c * CHUNK;
                for r in r0..((c + 1) * CHUNK).min(run.replicates) {
                    let k = (r - r0) as usize;
                    f(r, &flat[k * width..(k + 1) * width]);
                }
            }
        }
        start = end;
    }
    total
}
