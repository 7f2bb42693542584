//! The multinomial cells of a study's likelihood must be disjoint (docs/design.md § Calibrating: each
//! patient counts once).

use std::ops::Range;

use super::{Role, Target, TargetKind};
use crate::scenario::{Ctx, ScenarioError};

/// Two count cells of one group overlap when they share a cause and their intervals overlap.
fn overlaps(a: &TargetKind, b: &TargetKind) -> bool {
    match (a, b) {
        (
            TargetKind::Count { causes: ca, from: fa, to: ta, .. },
            TargetKind::Count { causes: cb, from: fb, to: tb, .. },
        ) => ca.iter().any(|k| cb.contains(k)) && fa.max(*fb) < ta.min(*tb),
        _ => false,
    }
}

/// Two fitted normal terms (a probability or a hazard ratio) that describe the same figure: the
/// same arm, endpoint and time (survival and failure at one time are one figure), or the same
/// endpoint and period. The likelihood would count it twice.
fn same_figure(a: &TargetKind, b: &TargetKind) -> bool {
    match (a, b) {
        (
            TargetKind::Survival { arm: aa, endpoint: ea, time: ta, .. },
            TargetKind::Survival { arm: ab, endpoint: eb, time: tb, .. },
        ) => aa == ab && ea == eb && ta == tb,
        (
            TargetKind::HazardRatio { endpoint: ea, after: ta, .. },
            TargetKind::HazardRatio { endpoint: eb, after: tb, .. },
        ) => ea == eb && ta == tb,
        _ => false,
    }
}

/// Each fitted probability and hazard ratio enters the likelihood once (a duplicate once halved
/// the variance of the late hazard ratio's estimate).
pub(super) fn normal_terms_are_distinct(
    ctx: &Ctx,
    targets: &[Target],
    spans: &[Range<usize>],
) -> Result<(), ScenarioError> {
    let fitted: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].role == Role::Fit && group(&targets[i].kind).is_none())
        .collect();
    for (x, &i) in fitted.iter().enumerate() {
        if let Some(&j) = fitted[..x].iter().find(|&&j| same_figure(&targets[i].kind, &targets[j].kind)) {
            return Err(ctx.err(
                spans[i].clone(),
                format!("targets[{i}]"),
                format!(
                    "`{}` and `{}` are the same figure (same arm, endpoint and time, or the same hazard-ratio period); the likelihood counts each patient once: fit it once and mark the other role = \"check\"",
                    targets[i].name, targets[j].name
                ),
            ));
        }
    }
    Ok(())
}

/// The group of a count: (arm, endpoint, patients).
pub fn group(kind: &TargetKind) -> Option<(usize, usize, usize)> {
    match kind {
        TargetKind::Count { arm, endpoint, patients, .. } => Some((*arm, *endpoint, *patients)),
        _ => None,
    }
}

pub(super) fn cells_are_disjoint(
    ctx: &Ctx,
    targets: &[Target],
    spans: &[Range<usize>],
) -> Result<(), ScenarioError> {
    let cells: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].role == Role::Fit && group(&targets[i].kind).is_some())
        .collect();
    let fail = |i: usize, why: String| ctx.err(spans[i].clone(), format!("targets[{i}]"), why);
    for (x, &i) in cells.iter().enumerate() {
        for &j in &cells[..x] {
            // Same arm and endpoint: even with different `patients` they may share patients.
            if group(&targets[i].kind).map(|g| (g.0, g.1)) == group(&targets[j].kind).map(|g| (g.0, g.1))
                && overlaps(&targets[i].kind, &targets[j].kind)
            {
                return Err(fail(
                    i,
                    format!(
                        "`{}` and `{}` count some of the same patients; the likelihood counts each patient once: make the cells disjoint, or mark one role = \"check\" (restates) or \"split\"",
                        targets[i].name, targets[j].name
                    ),
                ));
            }
        }
    }
    // Each group's cells hold at most its patients.
    for &i in &cells {
        let g = group(&targets[i].kind);
        let sum: f64 =
            cells.iter().filter(|&&j| group(&targets[j].kind) == g).map(|&j| targets[j].value).sum();
        if let Some((_, _, patients)) = g
            && sum > patients as f64
        {
            return Err(fail(
                i,
                format!("the cells of this arm and endpoint add to {sum} patients, more than {patients}"),
            ));
        }
    }
    for (i, t) in targets.iter().enumerate().filter(|(_, t)| t.role == Role::Split) {
        let members: Vec<&Target> =
            cells.iter().map(|&j| &targets[j]).filter(|c| group(&c.kind) == group(&t.kind)).collect();
        split_inside(t, &targets[..i], &members)
            .map_err(|why| fail(i, format!("split `{}`: {why}", t.name)))?;
    }
    Ok(())
}

/// Why a split does not lie inside its arm's and endpoint's cells.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum SplitProblem {
    #[error("`{other}` already splits this arm and endpoint; give at most one split each")]
    Second { other: String },
    #[error("{events} events, but the cells it splits hold only {holding}")]
    MoreThanItsCells { events: f64, holding: f64 },
    #[error("cell `{cell}` reaches outside ({from}, {to}]")]
    Outside { cell: String, from: f64, to: f64 },
    #[error("no cell of its arm and endpoint covers ({from}, {to}] for this cause")]
    Uncovered { from: f64, to: f64 },
}

/// A split lies inside its group's cells (`members`): it is the group's only split (`before`:
/// the targets listed before it), each cell either holds all of the split's causes in part of
/// its interval or none, and for each of its causes the cells tile (from, to].
fn split_inside(t: &Target, before: &[Target], members: &[&Target]) -> Result<(), SplitProblem> {
    let TargetKind::Count { causes, from, to, .. } = &t.kind else {
        return Ok(());
    };
    if let Some(other) = before.iter().find(|o| o.role == Role::Split && group(&o.kind) == group(&t.kind)) {
        // Two splits of the same cells would be two binomials where the truth is one
        // multinomial; one split per arm and endpoint keeps the likelihood exact.
        return Err(SplitProblem::Second { other: other.name.clone() });
    }
    let holding: f64 = members
        .iter()
        .filter(|c| match &c.kind {
            TargetKind::Count { causes: cc, from: cf, to: ct, .. } => {
                cc.iter().any(|k| causes.contains(k)) && cf.max(*from) < ct.min(*to)
            }
            _ => false,
        })
        .map(|c| c.value)
        .sum();
    if t.value > holding {
        return Err(SplitProblem::MoreThanItsCells { events: t.value, holding });
    }
    causes.iter().try_for_each(|&k| tiles(members, k, *from, *to))
}

/// The cells among `members` that count cause `k` within (from, to] lie inside it and tile it.
fn tiles(members: &[&Target], k: usize, from: f64, to: f64) -> Result<(), SplitProblem> {
    let mut pieces: Vec<(f64, f64)> = Vec::new();
    for c in members {
        let TargetKind::Count { causes: cc, from: cf, to: ct, .. } = &c.kind else { continue };
        if !cc.contains(&k) || cf.max(from) >= ct.min(to) {
            continue;
        }
        if *cf < from || *ct > to {
            return Err(SplitProblem::Outside { cell: c.name.clone(), from, to });
        }
        pieces.push((*cf, *ct));
    }
    pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut at = from;
    for (a, b) in pieces {
        if a != at {
            return Err(SplitProblem::Uncovered { from: at, to: a });
        }
        at = b;
    }
    if at != to {
        return Err(SplitProblem::Uncovered { from: at, to });
    }
    Ok(())
}
