//! `[strata.NAME]` and `design.randomisation`: the population's parts, their shares or fixed
//! counts, and each stratum's arms (the arms as written with the stratum's overrides, validated
//! exactly as `[arms]` is; see `arms.rs`).

use super::super::error::{ErrorKind, Namespace};
use super::super::{Arm, Randomisation, Stratum};
use super::arms::{self, ArmSpec, CauseSpec};
use super::raw::{self, S};
use super::{Ctx, Result};

/// How far the shares may sum from 1: rounding of shares written to a few digits, or rescaled
/// by a sweep, stays far inside it.
pub const SHARE_SUM_TOLERANCE: f64 = 1e-9;

/// The strata of the scenario in name order (empty without `[strata]`), their arms carrying the
/// allocation of `arms` (the arms as written, allocated by `[design]`).
pub(super) fn strata(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    arms: &[Arm],
    causes: &[String],
    schema: &super::outcomes::Schema,
    n: usize,
) -> Result<Vec<Stratum>> {
    let Some(table) = &raw.strata else { return Ok(Vec::new()) };
    // An empty `[strata]` would otherwise report shares summing to "-0" (the empty sum).
    if table.get_ref().is_empty() {
        return Err(ctx.out_of_range(
            table.span(),
            "strata",
            "at least one `[strata.NAME]` table (or no `[strata]` at all for one population)",
            "an empty `[strata]`",
        ));
    }
    if table.get_ref().len() > super::super::MAX_STRATA {
        return Err(ctx.out_of_range(
            table.span(),
            "strata",
            format!("at most {} strata", super::super::MAX_STRATA),
            table.get_ref().len(),
        ));
    }
    let written = arms::written(raw);
    let mut out = Vec::with_capacity(table.get_ref().len());
    for (name, stratum) in table.get_ref() {
        let key = format!("strata.{name}");
        ctx.name(&S::new(stratum.span(), name.clone()), &key)?;
        let st = stratum.get_ref();
        let share =
            match &st.share {
                Some(v) => Some(ctx.number(v, &format!("{key}.share"), "a share from 0 to 1", |x| {
                    (0.0..=1.0).contains(&x)
                })?),
                None => None,
            };
        let count = match &st.count {
            Some(v) => Some(ctx.integer(v, &format!("{key}.count"), 0, n as i64)? as usize),
            None => None,
        };
        let specs = overridden(ctx, &written, st, &key, arms)?;
        let mut stratum_arms = arms::arms(ctx, &specs, causes, schema)?;
        for (a, base) in stratum_arms.iter_mut().zip(arms) {
            a.allocation = base.allocation;
        }
        let share = match (share, count) {
            (Some(s), None) => s,
            (None, Some(c)) => c as f64 / n as f64,
            (Some(_), Some(_)) => {
                return Err(ctx.err(
                    stratum.span(),
                    key,
                    "give either `share` (each patient's stratum drawn by share) or `count` (fixed patients), not both",
                ));
            }
            (None, None) => {
                return Err(ctx.fail(
                    stratum.span(),
                    key,
                    ErrorKind::Missing {
                        what: "`share` (from 0 to 1) or `count` (patients in this stratum)".into(),
                    },
                ));
            }
        };
        out.push(Stratum {
            name: name.clone(),
            label: st.label.clone().unwrap_or_else(|| name.clone()),
            share,
            count,
            arms: stratum_arms,
        });
    }
    totals(ctx, table, &out, n)?;
    Ok(out)
}

/// Shares sum to 1, or counts to n, all strata alike.
fn totals(ctx: &Ctx, table: &S<raw::RawStrata>, strata: &[Stratum], n: usize) -> Result<()> {
    let counted = strata.iter().filter(|s| s.count.is_some()).count();
    if counted != 0 && counted != strata.len() {
        return Err(ctx.err(
            table.span(),
            "strata",
            "every stratum gives a `share`, or every stratum gives a `count`: not a mixture of both",
        ));
    }
    if counted > 0 {
        let total: usize = strata.iter().filter_map(|s| s.count).sum();
        if total != n {
            return Err(ctx.out_of_range(
                table.span(),
                "strata",
                format!("counts that add up to design.n = {n}"),
                format!("a total of {total}"),
            ));
        }
    } else {
        let total: f64 = strata.iter().map(|s| s.share).sum();
        if (total - 1.0).abs() > SHARE_SUM_TOLERANCE {
            return Err(ctx.out_of_range(
                table.span(),
                "strata",
                format!("shares that add up to 1 (within {SHARE_SUM_TOLERANCE:e})"),
                format!("a total of {total}"),
            ));
        }
    }
    Ok(())
}

/// The arms as stratum `st` sees them: `[arms]` as written, with each override replacing the
/// dropout, a cause's hazard or the illness–death table it names.
fn overridden<'a>(
    ctx: &Ctx,
    written: &[ArmSpec<'a>],
    st: &'a raw::RawStratum,
    key: &str,
    arms: &[Arm],
) -> Result<Vec<ArmSpec<'a>>> {
    let mut specs = written.to_vec();
    let Some(overrides) = &st.arms else { return Ok(specs) };
    for (arm_name, o) in overrides.get_ref() {
        let at = format!("{key}.arms.{arm_name}");
        let Some(spec) = specs.iter_mut().find(|s| s.name == arm_name) else {
            let kind = ErrorKind::UnknownName {
                what: Namespace::Arm,
                name: arm_name.clone(),
                allowed: arms.iter().map(|a| a.name.clone()).collect(),
            };
            return Err(ctx.fail(o.span(), at, kind));
        };
        let o = o.get_ref();
        if let Some(d) = &o.dropout {
            spec.dropout = Some((d, format!("{at}.dropout")));
        }
        if let Some(causes) = &o.causes {
            for (cause, h) in causes.get_ref() {
                let cause_key = format!("{at}.causes.{cause}");
                let Some(c) = spec.causes.get_mut(cause.as_str()) else {
                    let kind = ErrorKind::UnknownName {
                        what: Namespace::CauseOf { arm: arm_name.clone() },
                        name: cause.clone(),
                        allowed: spec.causes.keys().map(|c| c.to_string()).collect(),
                    };
                    return Err(ctx.fail(h.span(), cause_key, kind));
                };
                *c = CauseSpec { hazard: h, key: cause_key };
            }
        }
        if let Some(after) = &o.after {
            spec.after = Some((after, format!("{at}.after")));
        }
        for (outcome, m) in o.outcomes.iter().flat_map(|t| t.get_ref().iter()) {
            // An outcome the scenario does not have is reported by `outcomes::models`.
            spec.outcomes.insert(outcome.as_str(), (m, format!("{at}.outcomes.{outcome}")));
        }
    }
    Ok(specs)
}

/// `design.randomisation`: `"blocks"` (default) or `"stratified_blocks"`, which needs strata;
/// with fixed counts, every present stratum can fill each allocated arm.
pub(super) fn randomisation(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    strata: &[Stratum],
    block_size: usize,
    allocated: usize,
) -> Result<Randomisation> {
    let r = match &raw.design.get_ref().randomisation {
        None => Randomisation::Blocks,
        Some(v) => match v.get_ref().as_str() {
            "blocks" => Randomisation::Blocks,
            "stratified_blocks" if strata.is_empty() => {
                return Err(ctx.err(
                    v.span(),
                    "design.randomisation",
                    "\"stratified_blocks\" randomises within strata: add [strata.NAME] tables, or use \"blocks\"",
                ));
            }
            "stratified_blocks" => Randomisation::StratifiedBlocks,
            other => {
                return Err(ctx.out_of_range(
                    v.span(),
                    "design.randomisation",
                    "\"blocks\" or \"stratified_blocks\"",
                    format!("{other:?}"),
                ));
            }
        },
    };
    // Fixed counts: a present stratum whose count cannot give every allocated arm a patient.
    // Within strata, one whole block guarantees it; over all patients, nothing smaller than
    // one patient per arm can.
    let least = match r {
        Randomisation::StratifiedBlocks => block_size,
        Randomisation::Blocks => allocated,
    };
    for s in strata {
        if let Some(c) = s.count
            && c > 0
            && c < least
        {
            let why = match r {
                Randomisation::StratifiedBlocks => format!("one whole block (block_size = {block_size})"),
                Randomisation::Blocks => format!("one patient per allocated arm ({allocated})"),
            };
            let span = raw
                .strata
                .as_ref()
                .and_then(|t| t.get_ref().get(&s.name))
                .and_then(|st| st.get_ref().count.as_ref())
                .map_or(0..0, |v| v.span());
            return Err(ctx.out_of_range(
                span,
                format!("strata.{}.count", s.name),
                format!("0 (absent) or at least {least}: a present stratum needs {why}, else an arm of it can be empty"),
                c,
            ));
        }
    }
    Ok(r)
}
