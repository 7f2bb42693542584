//! One simulated copy of a study: the study's own design simulated by the same cohort generator,
//! data cut and statistics that every trial simulation uses, reduced to the figures the study
//! published. The predictive check ranks the published figures among many such copies; the
//! parametric bootstrap refits each copy.

use rand::RngExt;

use crate::cohort::{Cohort, Obs};
use crate::rng::{Purpose, stream};
use crate::scenario::Scenario;
use crate::scenario::study::TargetKind;
use crate::stats::cox::{CoxFit, Ties, cox_periods};
use crate::stats::kaplan_meier::surv_at;
use crate::stats::risk_table::RiskTable;

/// Buffers reused across copies.
#[derive(Debug, Default)]
pub struct Workspace {
    cohort: Cohort,
    obs: Vec<Obs>,
    table: RiskTable,
    fits: Vec<CoxFit>,
}

/// The figures of copy `replicate` of the study, indexed like `sc.targets`:
/// - a count: among `patients` patients of the arm (a systematic sample over entry order when
///   fewer than the arm's), those entered by the cut whose first endpoint event is one of the
///   causes, observed in (from, to];
/// - a Kaplan–Meier figure: Ŝ(time) of the arm (or 1 − Ŝ), NaN beyond the last observation;
/// - a hazard ratio: exp(β̂) of the last period of the Cox model with one arm effect per period,
///   split at `after` (Efron ties, as R's `coxph`), NaN when not estimable.
pub fn simulate_figures(sc: &Scenario, seed: u64, replicate: u64, ws: &mut Workspace) -> Vec<f64> {
    ws.cohort.generate(sc, seed, replicate);
    let cut = ws.cohort.cut(sc).calendar;
    let c = &ws.cohort;
    sc.targets
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
                ws.table.build(&mut ws.obs);
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
                ws.table.build(&mut ws.obs);
                let breaks: Vec<f64> = if *after > 0.0 { vec![*after] } else { Vec::new() };
                ws.fits.clear();
                ws.fits.resize(breaks.len() + 1, CoxFit::NAN);
                cox_periods(&ws.table, &breaks, Ties::Efron, &mut ws.fits);
                ws.fits.last().map_or(f64::NAN, |f| f.log_hr.exp())
            }
        })
        .collect()
}
