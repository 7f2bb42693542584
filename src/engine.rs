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
use crate::stats::crossing::observed_crossing;
use crate::stats::decision::{Decision, critical_value, decide};
use crate::stats::kaplan_meier::{KmPoint, km_at, milestone, surv_at};
use crate::stats::logrank::{fleming_harrington, logrank};
use crate::stats::rmst::{rmst, rmst_difference};
use crate::summary::Summary;
use crate::truth::Truth;

/// Replicates per chunk: the unit of parallel work and of the ordered merge.
pub const CHUNK: u64 = 512;

/// Points of the time grid on which the Kaplan–Meier band is collected.
pub const BAND_POINTS: usize = 121;

/// The Kaplan–Meier band (a plot) is collected from replicates 0..BAND_REPLICATES only: its
/// 2.5% and 97.5% points are then known to about ±0.005, and longer runs don't pay for it.
pub const BAND_REPLICATES: u64 = 10_000;

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
        for (name, kind) in &tests {
            spec(format!("{name}.z"), None, -10.0, 10.0);
            match kind {
                TestKind::LogRank | TestKind::FlemingHarrington { .. } => columns.push(format!("{name}.z")),
                TestKind::Rmst | TestKind::Milestone => {
                    columns.extend(["diff", "se", "z"].map(|c| format!("{name}.{c}")));
                }
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
            }
        }
        if let (Some(_), Some(mt), true) = (a.milestone, &truth.milestone, groups == 2) {
            spec("milestone.diff".into(), Some(mt.difference), -1.0, 1.0);
            spec("milestone.se".into(), None, 0.0, 1.0);
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
    km: Vec<KmPoint>,
}

/// Simulates and analyses replicate `r` into `ws.row`.
pub fn replicate(sc: &Scenario, layout: &Layout, seed: u64, r: u64, ws: &mut Workspace) {
    ws.cohort.generate(sc, seed, r);
    let cut = ws.cohort.cut(sc);
    ws.cohort.observe(sc.primary(), cut.calendar, &layout.group_of, &mut ws.obs);
    ws.table.build(&mut ws.obs);
    analyse(sc, layout, &ws.table, &ws.obs, &mut ws.km, &mut ws.row, r < BAND_REPLICATES);
    ws.row.cut = cut.calendar;
    ws.row.target_reached = cut.target_reached;
    *ws.row.estimates.last_mut().expect("layout always has `cut`") = cut.calendar;
}

/// All statistics of one analysed dataset (sorted `obs` and its risk table).
pub fn analyse(
    sc: &Scenario,
    layout: &Layout,
    table: &RiskTable,
    obs: &[Obs],
    km: &mut Vec<KmPoint>,
    row: &mut Row,
    band: bool,
) {
    let a = &sc.analysis;
    row.decisions.clear();
    row.columns.clear();
    row.estimates.clear();
    let sides = a.sides;
    for (_, kind) in &layout.tests {
        let z = match *kind {
            TestKind::LogRank => {
                let z = logrank(table).z;
                row.columns.push(z);
                z
            }
            TestKind::FlemingHarrington { rho, gamma } => {
                let z = fleming_harrington(table, rho, gamma).z;
                row.columns.push(z);
                z
            }
            TestKind::Rmst => {
                let d = rmst_difference(table, a.tau.expect("validated: rmst has tau"));
                row.columns.extend([d.diff, d.se, d.z]);
                d.z
            }
            TestKind::Milestone => {
                let m = milestone(table, a.milestone.expect("validated: milestone has a time"));
                row.columns.extend([m.diff, m.se, m.z]);
                m.z
            }
        };
        row.decisions.push(decide(z, layout.critical, sides));
        row.estimates.push(z);
    }
    let groups = layout.groups;
    if let Some(tau) = a.tau {
        let mut r = [f64::NAN; 2];
        for (g, slot) in r.iter_mut().enumerate().take(groups) {
            let x = rmst(table, g, tau);
            *slot = x.rmst;
            row.estimates.push(x.rmst);
        }
        if groups == 2 {
            let d = rmst_difference(table, tau);
            row.estimates.extend([d.diff, d.se]);
        }
    }
    if let (Some(m), 2) = (a.milestone, groups) {
        let x = milestone(table, m);
        row.estimates.extend([x.diff, x.se]);
    }
    // Kaplan–Meier at the horizons, per group.
    let h = &a.horizons;
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
    // What the trial shows: early harm at the first horizon, late benefit at the last.
    row.early_harm = false;
    row.late_benefit = false;
    if groups == 2 && !h.is_empty() {
        let last = h.len() - 1;
        row.early_harm = km[h.len()].surv < km[0].surv;
        row.late_benefit = km[h.len() + last].surv > km[last].surv;
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
    if band {
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
            .map_init(Workspace::default, |ws, c| {
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
            })
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
