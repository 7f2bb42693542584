//! One simulated copy of a study: the study's own design simulated by the same cohort generator,
//! data cut and statistics that every trial simulation uses, reduced to the figures the study
//! published. The predictive check ranks the published figures among many such copies; the
//! parametric bootstrap refits each copy.

use rand::RngExt;
use rayon::prelude::*;
use serde::Serialize;

use super::likelihood::Expected;
use super::problem::Problem;
use super::targets::{Target, TargetKind};
use crate::cohort::{Cohort, Observed};
use crate::rng::{Purpose, stream};
use crate::scenario::Scenario;
use crate::stats::cox::{CoxFit, Ties, cox_periods};
use crate::stats::kaplan_meier::surv_at;
use crate::stats::risk_table::RiskTable;

/// Buffers reused across copies.
#[derive(Debug, Default)]
pub struct Workspace {
    cohort: Cohort,
    obs: Observed,
    table: RiskTable,
    fits: Vec<CoxFit>,
}

/// The figures of copy `replicate` of the study, indexed like its `targets`:
/// - a count: among `patients` patients of the arm (a systematic sample over entry order when
///   fewer than the arm's), those entered by the cut whose first endpoint event is one of the
///   causes, observed in (from, to];
/// - a Kaplan–Meier figure: Ŝ(time) of the arm (or 1 − Ŝ), NaN beyond the last observation;
/// - a hazard ratio: exp(β̂) of the last period of the Cox model with one arm effect per period,
///   split at `after` (Efron ties, as R's `coxph`), NaN when not estimable.
pub fn simulate_figures(
    sc: &Scenario,
    targets: &[Target],
    seed: u64,
    replicate: u64,
    ws: &mut Workspace,
) -> Vec<f64> {
    ws.cohort.generate(sc, seed, replicate);
    let cut = ws.cohort.cut(sc).calendar;
    let c = &ws.cohort;
    targets
        .iter()
        .map(|t| match &t.kind {
            TargetKind::Count { arm, endpoint, causes, from, to, patients } => {
                let ep = &sc.endpoints[*endpoint];
                let of_arm: Vec<usize> = (0..c.n()).filter(|&i| c.arm[i] as usize == *arm).collect();
                // `patients` of the arm's N: a systematic sample over entry order with a random
                // start u (patient j is taken when ⌊(j+1)m/N + u⌋ > ⌊jm/N + u⌋), so each patient
                // is counted with probability m/N and the subset has the arm's follow-up
                // distribution, as the model assumes.
                let big_n = of_arm.len();
                let m = (*patients).min(big_n) as f64;
                let u: f64 = stream(seed, replicate, Purpose::Subset).random();
                let step = m / big_n as f64;
                let mut count = 0;
                for (j, &i) in of_arm.iter().enumerate() {
                    let taken = ((j + 1) as f64 * step + u).floor() > (j as f64 * step + u).floor();
                    if !taken || c.entry[i] > cut {
                        continue;
                    }
                    let (time, event, cause) = c.status(ep, i, cut);
                    if event && causes.contains(&(cause as usize)) && *from < time && time <= *to {
                        count += 1;
                    }
                }
                f64::from(count)
            }
            TargetKind::Survival { arm, endpoint, time, failure, .. } => {
                let mut group_of = vec![None; sc.arms.len()];
                group_of[*arm] = Some(0);
                c.observe(&sc.endpoints[*endpoint], cut, &group_of, &mut ws.obs);
                ws.obs.table(&mut ws.table);
                let mut s = [f64::NAN];
                surv_at(&ws.table, 0, &[*time], &mut s);
                if *failure { 1.0 - s[0] } else { s[0] }
            }
            TargetKind::HazardRatio { endpoint, after, .. } => {
                let cmp = sc.comparison.expect("validated: a hazard ratio needs two arms");
                let mut group_of = vec![None; sc.arms.len()];
                group_of[cmp.control] = Some(0);
                group_of[cmp.experimental] = Some(1);
                c.observe(&sc.endpoints[*endpoint], cut, &group_of, &mut ws.obs);
                ws.obs.table(&mut ws.table);
                let breaks: Vec<f64> = if *after > 0.0 { vec![*after] } else { Vec::new() };
                ws.fits.clear();
                ws.fits.resize(breaks.len() + 1, CoxFit::NAN);
                cox_periods(&ws.table, &breaks, Ties::Efron, &mut ws.fits);
                ws.fits.last().map_or(f64::NAN, |f| f.log_hr.exp())
            }
            TargetKind::OutcomeMean { arm, outcome, at, .. } => {
                let (mut sum, mut k) = (0.0, 0usize);
                for x in measured(sc, c, *arm, *outcome, *at, cut) {
                    sum += x;
                    k += 1;
                }
                if k == 0 { f64::NAN } else { sum / k as f64 }
            }
            TargetKind::OutcomeShare { arm, outcome, at, threshold, below, patients } => {
                // The `patients` evaluable patients are the arm's first ones in entry order,
                // their values whether or not the design measures them: a value does not depend
                // on survival or entry (scenario::outcomes), so any subset is a random one.
                let m = sc.assessments.as_ref().map_or(1, |a| a.at.len());
                let values: Vec<f64> = (0..c.n())
                    .filter(|&i| c.arm[i] as usize == *arm)
                    .take(*patients)
                    .map(|i| c.outcome[(outcome * m + at) * c.n() + i])
                    .collect();
                // An arm that blocks left smaller than the published evaluable count: not a copy
                // of the figure.
                if values.len() < *patients {
                    f64::NAN
                } else {
                    values.iter().filter(|&&x| if *below { x < *threshold } else { x > *threshold }).count()
                        as f64
                }
            }
        })
        .collect()
}

/// The values of outcome `outcome` at assessment `at` of `arm`'s patients measured there by the
/// cut, in entry order.
fn measured<'a>(
    sc: &'a Scenario,
    c: &'a Cohort,
    arm: usize,
    outcome: usize,
    at: usize,
    cut: f64,
) -> impl Iterator<Item = f64> + 'a {
    let a = sc.assessments.as_ref().expect("validated: an outcome target needs [assessments]");
    let (n, m, time) = (c.n(), a.at.len(), a.at[at]);
    (0..n)
        .filter(move |&i| c.arm[i] as usize == arm && c.measured(sc, i, time, cut))
        .map(move |i| c.outcome[(outcome * m + at) * n + i])
}

/// Where each published figure falls among simulated copies of its study.
#[derive(Debug, Clone, Serialize)]
pub struct TargetCheck {
    pub study: String,
    pub name: String,
    pub kind: String,
    pub role: String,
    pub published: f64,
    pub published_ci: Option<(f64, f64)>,
    /// Expected value under the fit.
    pub model: f64,
    /// Fraction of simulated copies below the published figure (mid-p: half the ties count).
    pub percentile: f64,
    /// 95% predictive interval (2.5% and 97.5% quantiles of the simulated figure).
    pub interval: (f64, f64),
    pub outside: bool,
    /// Simulated copies where the figure could not be computed (e.g. no one followed that long).
    pub not_estimable: u64,
    pub source: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Predictive {
    pub replicates: u64,
    pub figures: usize,
    pub outside: usize,
    pub expected_outside: f64,
    /// P(at least this many figures outside) among the simulated copies themselves, so that the
    /// figures' correlation is accounted for.
    pub p_value_outside: f64,
}

/// Type-7 quantile of sorted values (NaN when empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The published value's mid-p percentile among the simulated values, the 95% predictive
/// interval, and how many simulated values were NaN. Counts take the interval from the discrete
/// distribution (the smallest values whose CDF reaches 2.5% and 97.5%), so it holds whole
/// numbers.
pub fn rank_among(value: f64, sims: &[f64], discrete: bool) -> (f64, (f64, f64), u64) {
    let mut v: Vec<f64> = sims.iter().copied().filter(|x| !x.is_nan()).collect();
    let nan = (sims.len() - v.len()) as u64;
    if v.is_empty() {
        return (0.5, (f64::NAN, f64::NAN), nan);
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len() as f64;
    let below = v.partition_point(|&x| x < value) as f64;
    let ties = v.partition_point(|&x| x <= value) as f64 - below;
    let percentile = (below + 0.5 * ties) / n;
    let interval = if discrete {
        let at = |q: f64| v[((q * n).ceil() as usize).saturating_sub(1).min(v.len() - 1)];
        (at(0.025), at(0.975))
    } else {
        (quantile(&v, 0.025), quantile(&v, 0.975))
    };
    (percentile, interval, nan)
}

/// How many figures fall outside their 95% intervals, and how unusual that many is among the
/// simulated copies (each copy's own figures ranked against the same intervals).
pub fn outside_test(targets: &[TargetCheck], simulated: &[Vec<Vec<f64>>], replicates: u64) -> Predictive {
    let outside = targets.iter().filter(|t| t.outside).count();
    let mut at_least = 0u64;
    let mut total = 0.0;
    for r in 0..replicates as usize {
        let mut k = 0;
        let mut idx = 0;
        for study in simulated {
            for fig in study {
                let t = &targets[idx];
                let x = fig[r];
                if !x.is_nan() && (x < t.interval.0 || x > t.interval.1) {
                    k += 1;
                }
                idx += 1;
            }
        }
        total += k as f64;
        if k >= outside {
            at_least += 1;
        }
    }
    Predictive {
        replicates,
        figures: targets.len(),
        outside,
        expected_outside: total / replicates.max(1) as f64,
        p_value_outside: at_least as f64 / replicates.max(1) as f64,
    }
}

/// `replicates` simulated copies of each fitted study (each with its own seed), figure-major:
/// `[study][figure][copy]`.
pub fn simulate_studies(
    problem: &Problem,
    fitted: &[Scenario],
    seeds: &[u64],
    replicates: u64,
) -> Vec<Vec<Vec<f64>>> {
    fitted
        .iter()
        .zip(seeds)
        .zip(&problem.studies)
        .map(|((sc, &seed), st)| {
            let copies: Vec<Vec<f64>> = (0..replicates)
                .into_par_iter()
                .map_init(Workspace::default, |ws, r| simulate_figures(sc, &st.targets, seed, r, ws))
                .collect();
            (0..st.targets.len()).map(|i| copies.iter().map(|c| c[i]).collect()).collect()
        })
        .collect()
}

/// Every published figure beside its expected value under the fit and its place among the
/// simulated copies.
pub fn check_targets(
    problem: &Problem,
    expected: &[Expected],
    simulated: &[Vec<Vec<f64>>],
) -> Vec<TargetCheck> {
    let mut targets = Vec::new();
    for (s, st) in problem.studies.iter().enumerate() {
        for (i, t) in st.targets.iter().enumerate() {
            let sims = &simulated[s][i];
            let is_count = matches!(t.kind, TargetKind::Count { .. } | TargetKind::OutcomeShare { .. });
            let (percentile, interval, not_estimable) = rank_among(t.value, sims, is_count);
            let published_ci = match &t.kind {
                TargetKind::Survival { ci, .. }
                | TargetKind::HazardRatio { ci, .. }
                | TargetKind::OutcomeMean { ci, .. } => *ci,
                TargetKind::Count { .. } | TargetKind::OutcomeShare { .. } => None,
            };
            targets.push(TargetCheck {
                study: st.name().to_string(),
                name: t.name.clone(),
                kind: t.kind_name().to_string(),
                role: t.role.as_str().to_string(),
                published: t.value,
                published_ci,
                model: expected[s].values[i],
                percentile,
                interval,
                outside: t.value < interval.0 || t.value > interval.1,
                not_estimable,
                source: t.source.clone(),
                note: t.note.clone(),
            });
        }
    }
    targets
}
