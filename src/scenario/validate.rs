//! Raw scenario → `Scenario`. Every check names the dotted key, what is allowed and what was
//! found, and points at the value in the file.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;

use super::raw::{self, RawHazard, S, ScalarOrList};
use super::*;
use crate::hazard::Piecewise;

/// Test names accepted in `analysis.tests` (FH takes any ρ, γ ≥ 0: `fh(0,1)`, `fh(0.5,2)`).
pub const TEST_NAMES: &str =
    "logrank, fh(RHO,GAMMA), maxcombo, cox, cox_breslow, cox_periods, rmst, milestone";

/// At most this many replicates or patients: keeps counts in range and typos from hanging a run.
const MAX_REPLICATES: i64 = 1_000_000_000;
const MAX_PATIENTS: i64 = 10_000_000;
/// Cause sets are bit masks in the calibration model (u64).
const MAX_CAUSES: usize = 64;

pub(super) struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

type Result<T> = std::result::Result<T, ScenarioError>;

impl Ctx<'_> {
    pub(super) fn err(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.path, self.text, span, Some(key.into()), message.into())
    }

    /// A finite number satisfying `ok`, else an error saying `expected`.
    pub(super) fn number(
        &self,
        v: &S<f64>,
        key: &str,
        expected: &str,
        ok: impl Fn(f64) -> bool,
    ) -> Result<f64> {
        let x = *v.get_ref();
        if x.is_finite() && ok(x) {
            Ok(x)
        } else {
            Err(self.err(v.span(), key, format!("expected {expected}, found {x}")))
        }
    }

    pub(super) fn integer(&self, v: &S<i64>, key: &str, lo: i64, hi: i64) -> Result<i64> {
        let x = *v.get_ref();
        if (lo..=hi).contains(&x) {
            Ok(x)
        } else if hi == i64::MAX {
            Err(self.err(v.span(), key, format!("expected an integer ≥ {lo}, found {x}")))
        } else {
            Err(self.err(v.span(), key, format!("expected an integer from {lo} to {hi}, found {x}")))
        }
    }

    /// Strictly increasing positive finite breaks.
    fn breaks(&self, v: &S<Vec<S<f64>>>, key: &str) -> Result<Vec<f64>> {
        let mut out: Vec<f64> = Vec::with_capacity(v.get_ref().len());
        for (i, b) in v.get_ref().iter().enumerate() {
            let k = format!("{key}[{i}]");
            let x = self.number(b, &k, "a positive time", |x| x > 0.0)?;
            if let Some(&prev) = out.last()
                && x <= prev
            {
                return Err(self.err(
                    b.span(),
                    k,
                    format!("breaks must be strictly increasing: found {x} after {prev}"),
                ));
            }
            out.push(x);
        }
        Ok(out)
    }

    pub(super) fn name(&self, v: &S<String>, key: &str) -> Result<String> {
        let s = v.get_ref();
        let ok = !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !s.starts_with('-');
        if ok {
            Ok(s.clone())
        } else {
            Err(self.err(
                v.span(),
                key,
                format!("expected a name of letters, digits, `_` or `-`, found {s:?}"),
            ))
        }
    }
}

pub fn parse(text: &str, path: &Path) -> Result<Scenario> {
    let ctx = Ctx { path, text };
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e
            .message()
            .trim_end()
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        ScenarioError::at(path, text, span.clone(), key_at(text, span.start), message)
    })?;
    build(&ctx, raw)
}

/// The dotted key written at byte `offset` (the table header in force plus the key on that
/// line), for toml's own errors, which only carry a span. Best effort: `None` when the line holds
/// no `key =`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let mut table = String::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
        if offset < end || end == text.len() {
            let (key, _) = line.split_once('=')?;
            let key = key.trim().trim_matches('"');
            if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
                return None;
            }
            return Some(if table.is_empty() { key.to_string() } else { format!("{table}.{key}") });
        }
        start = end;
    }
    None
}

fn build(ctx: &Ctx, raw: raw::RawScenario) -> Result<Scenario> {
    let name = ctx.name(&raw.name, "name")?;
    let simulation = simulation(ctx, raw.simulation.as_ref())?;

    // Causes: the union over arms, in name order, so that an index means the same in every arm.
    let causes: Vec<String> = raw
        .arms
        .get_ref()
        .values()
        .flat_map(|a| a.get_ref().causes.get_ref().keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if causes.len() > MAX_CAUSES {
        return Err(ctx.err(
            raw.arms.span(),
            "arms",
            format!("expected at most {MAX_CAUSES} distinct causes, found {}", causes.len()),
        ));
    }
    if raw.arms.get_ref().is_empty() {
        return Err(ctx.err(raw.arms.span(), "arms", "expected at least one arm, found none"));
    }
    for (arm_name, arm) in raw.arms.get_ref() {
        ctx.name(&S::new(arm.span(), arm_name.clone()), &format!("arms.{arm_name}"))?;
        for (cause, h) in arm.get_ref().causes.get_ref() {
            ctx.name(&S::new(h.span(), cause.clone()), &format!("arms.{arm_name}.causes.{cause}"))?;
        }
    }

    let arms = arms(ctx, &raw, &causes)?;
    let design = design(ctx, raw.design.get_ref(), &raw.design)?;
    let endpoints = endpoints(ctx, &raw, &causes)?;

    // Allocation: keys must be arms; arms left out get weight 0.
    let mut arms = arms;
    let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let arm_index = |n: &str| names.iter().position(|a| a == n);
    let alloc = raw.design.get_ref().allocation.get_ref();
    for (arm_name, w) in alloc {
        let key = format!("design.allocation.{arm_name}");
        let Some(i) = arm_index(arm_name) else {
            return Err(ctx.err(
                w.span(),
                key,
                format!("no arm named `{arm_name}`; arms are: {}", list(arms.iter().map(|a| &a.name))),
            ));
        };
        arms[i].allocation = ctx.integer(w, &key, 0, 1000)? as usize;
    }
    let allocated: Vec<usize> = (0..arms.len()).filter(|&i| arms[i].allocation > 0).collect();
    let alloc_span = raw.design.get_ref().allocation.span();
    let alloc_sum: usize = allocated.iter().map(|&i| arms[i].allocation).sum();
    if allocated.is_empty() {
        return Err(ctx.err(
            alloc_span,
            "design.allocation",
            "expected at least one arm with allocation > 0",
        ));
    }
    if allocated.len() > 2 {
        return Err(ctx.err(
            alloc_span,
            "design.allocation",
            format!("expected one or two allocated arms, found {}", allocated.len()),
        ));
    }
    let rd = raw.design.get_ref();
    let comparison = match (&rd.control, allocated.as_slice()) {
        (Some(c), _) => {
            let Some(ci) = arm_index(c.get_ref()) else {
                return Err(ctx.err(
                    c.span(),
                    "design.control",
                    format!(
                        "no arm named `{}`; arms are: {}",
                        c.get_ref(),
                        list(arms.iter().map(|a| &a.name))
                    ),
                ));
            };
            if !allocated.contains(&ci) {
                return Err(ctx.err(c.span(), "design.control", "the control arm must have allocation > 0"));
            }
            match allocated.as_slice() {
                [a, b] => Some(Comparison { control: ci, experimental: if *a == ci { *b } else { *a } }),
                _ => None,
            }
        }
        (None, [_, _]) => {
            return Err(ctx.err(
                raw.design.span(),
                "design.control",
                "missing: with two allocated arms, name the control (reference) arm",
            ));
        }
        (None, _) => None,
    };

    // Block size: a multiple of the allocation sum, so each block is balanced.
    let block_size = match &rd.block_size {
        None => alloc_sum,
        Some(b) => {
            let x = ctx.integer(b, "design.block_size", 1, 100_000)? as usize;
            if !x.is_multiple_of(alloc_sum) {
                return Err(ctx.err(
                    b.span(),
                    "design.block_size",
                    format!("expected a multiple of the allocation sum {alloc_sum}, found {x}"),
                ));
            }
            x
        }
    };
    let mut design = design;
    design.block_size = block_size;

    let analysis = analysis(ctx, raw.analysis.get_ref(), &endpoints)?;
    let sweep = match &raw.sweep {
        None => None,
        Some(sw) => {
            let mut set = Vec::new();
            for (i, item) in sw.set.get_ref().iter().enumerate() {
                if let Err(m) = crate::sweep::Axis::parse(item.get_ref()) {
                    return Err(ctx.err(item.span(), format!("sweep.set[{i}]"), m));
                }
                set.push(item.get_ref().clone());
            }
            Some((set, sw.zip.unwrap_or(false)))
        }
    };
    let uncertainty = match &raw.uncertainty {
        None => None,
        Some(u) => Some(uncertainty(ctx, u)?),
    };
    let followup_cuts = match &raw.followup {
        Some(f) => ctx.breaks(&f.cuts, "followup.cuts")?,
        None => Vec::new(),
    };

    let (targets, calibrate) =
        study_tables(ctx, &raw, &arms, &causes, &endpoints, &design, comparison.is_some())?;

    Ok(Scenario {
        name,
        title: raw.title.unwrap_or_default(),
        time_unit: raw.time_unit.unwrap_or_else(|| "years".to_string()),
        simulation,
        design,
        arms,
        causes,
        endpoints,
        analysis,
        comparison,
        followup_cuts,
        sweep,
        uncertainty,
        targets,
        calibrate,
    })
}

fn study_tables(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    arms: &[Arm],
    causes: &[String],
    endpoints: &[Endpoint],
    design: &Design,
    two_arms: bool,
) -> Result<(Vec<study::Target>, Option<study::Calibrate>)> {
    let alloc_sum: usize = arms.iter().map(|a| a.allocation).sum();
    let names = study::Names {
        arms,
        causes,
        endpoints,
        arm_patients: arms
            .iter()
            .map(|a| (design.n as f64 * a.allocation as f64 / alloc_sum as f64).round() as usize)
            .collect(),
        two_arms,
    };
    let targets = match &raw.targets {
        Some(t) => study::targets(ctx, t, &names)?,
        None => Vec::new(),
    };
    let calibrate = match &raw.calibrate {
        None => None,
        Some(c) => {
            let table: toml::Table = toml::from_str(ctx.text)
                .map_err(|e| ScenarioError::without_location(ctx.path, e.message().to_string()))?;
            Some(study::calibrate(ctx, c, &table)?)
        }
    };
    Ok((targets, calibrate))
}

fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    items.map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
}

fn simulation(ctx: &Ctx, raw: Option<&raw::RawSimulation>) -> Result<Simulation> {
    let mut sim = Simulation { replicates: 1000, seed: 1 };
    if let Some(r) = raw {
        if let Some(n) = &r.replicates {
            sim.replicates = ctx.integer(n, "simulation.replicates", 1, MAX_REPLICATES)? as u64;
        }
        if let Some(s) = &r.seed {
            sim.seed = ctx.integer(s, "simulation.seed", 0, i64::MAX)? as u64;
        }
    }
    Ok(sim)
}

fn design(ctx: &Ctx, d: &raw::RawDesign, whole: &S<raw::RawDesign>) -> Result<Design> {
    let n = ctx.integer(&d.n, "design.n", 2, MAX_PATIENTS)? as usize;
    let a = d.accrual.get_ref();
    let accrual = match (&a.duration, &a.breaks, &a.rates) {
        (Some(dur), None, None) => Accrual::Uniform {
            duration: ctx.number(dur, "design.accrual.duration", "a positive duration", |x| x > 0.0)?,
        },
        (None, breaks, Some(rates)) => {
            let b = match breaks {
                Some(b) => ctx.breaks(b, "design.accrual.breaks")?,
                None => Vec::new(),
            };
            let r = rates_of(ctx, rates, "design.accrual.rates", b.len())?;
            if r.last().is_some_and(|&x| x <= 0.0) {
                return Err(ctx.err(
                    rates.span(),
                    "design.accrual.rates",
                    "the last accrual rate must be > 0, or the trial never fills",
                ));
            }
            Accrual::Piecewise { breaks: b, rates: r }
        }
        _ => {
            return Err(ctx.err(
                d.accrual.span(),
                "design.accrual",
                "expected `{ duration = D }` (uniform) or `{ breaks = [...], rates = [...] }` (piecewise)",
            ));
        }
    };
    let c = d.cut.get_ref();
    let cut = Cut {
        calendar: c
            .calendar
            .as_ref()
            .map(|v| ctx.number(v, "design.cut.calendar", "a positive calendar time", |x| x > 0.0))
            .transpose()?,
        events: c
            .events
            .as_ref()
            .map(|v| ctx.integer(v, "design.cut.events", 1, MAX_PATIENTS).map(|k| k as usize))
            .transpose()?,
        min_followup: c
            .min_followup
            .as_ref()
            .map(|v| ctx.number(v, "design.cut.min_followup", "a time ≥ 0", |x| x >= 0.0))
            .transpose()?,
        rule: match &c.rule {
            None => CutRule::First,
            Some(r) => match r.get_ref().as_str() {
                "first" => CutRule::First,
                "last" => CutRule::Last,
                other => {
                    return Err(ctx.err(
                        r.span(),
                        "design.cut.rule",
                        format!("expected \"first\" or \"last\", found {other:?}"),
                    ));
                }
            },
        },
    };
    if cut.calendar.is_none() && cut.events.is_none() && cut.min_followup.is_none() {
        return Err(ctx.err(
            d.cut.span(),
            "design.cut",
            "expected at least one of `calendar`, `events`, `min_followup`",
        ));
    }
    if let Some(k) = cut.events
        && k > n
    {
        let span = c.events.as_ref().map_or(whole.span(), |v| v.span());
        return Err(ctx.err(
            span,
            "design.cut.events",
            format!("expected at most n = {n} events, found {k}"),
        ));
    }
    Ok(Design { n, block_size: 0, accrual, cut })
}

/// Non-negative finite rates, one more than the breaks.
fn rates_of(ctx: &Ctx, v: &S<Vec<S<f64>>>, key: &str, n_breaks: usize) -> Result<Vec<f64>> {
    let rates: Vec<f64> = v
        .get_ref()
        .iter()
        .enumerate()
        .map(|(i, r)| ctx.number(r, &format!("{key}[{i}]"), "a rate ≥ 0", |x| x >= 0.0))
        .collect::<Result<_>>()?;
    if rates.len() != n_breaks + 1 {
        return Err(ctx.err(
            v.span(),
            key,
            format!(
                "expected {} values (one more than the {n_breaks} breaks), found {}",
                n_breaks + 1,
                rates.len()
            ),
        ));
    }
    Ok(rates)
}

fn arms(ctx: &Ctx, raw: &raw::RawScenario, causes: &[String]) -> Result<Vec<Arm>> {
    let raw_arms = raw.arms.get_ref();
    let mut arms: Vec<Arm> = Vec::with_capacity(raw_arms.len());
    // First pass: absolute hazards; relative ones need their reference arm's hazard.
    for (name, arm) in raw_arms {
        let a = arm.get_ref();
        let dropout = match &a.dropout {
            Some(d) => ctx.number(d, &format!("arms.{name}.dropout"), "a rate ≥ 0", |x| x >= 0.0)?,
            None => 0.0,
        };
        let mut hz = vec![None; causes.len()];
        for (cause, h) in a.causes.get_ref() {
            let key = format!("arms.{name}.causes.{cause}");
            let ci = causes.iter().position(|c| c == cause).expect("causes is the union of arm causes");
            if !matches!(h.get_ref(), RawHazard::Relative(_)) {
                hz[ci] = Some(absolute(ctx, h.get_ref(), &key)?);
            }
        }
        arms.push(Arm {
            name: name.clone(),
            label: a.label.clone().unwrap_or_else(|| name.clone()),
            dropout,
            allocation: 0,
            causes: hz,
            after: None,
        });
    }
    // Second pass: relative hazards, which refer to an absolute hazard of another arm.
    for (ai, (name, arm)) in raw_arms.iter().enumerate() {
        for (cause, h) in arm.get_ref().causes.get_ref() {
            let RawHazard::Relative(rel) = h.get_ref() else {
                continue;
            };
            let key = format!("arms.{name}.causes.{cause}.relative");
            let ci = causes.iter().position(|c| c == cause).expect("causes is the union of arm causes");
            let to = rel.to.get_ref();
            let Some(bi) = arms.iter().position(|a| &a.name == to) else {
                return Err(ctx.err(
                    rel.to.span(),
                    format!("{key}.to"),
                    format!("no arm named `{to}`; arms are: {}", list(arms.iter().map(|a| &a.name))),
                ));
            };
            if bi == ai {
                return Err(ctx.err(
                    rel.to.span(),
                    format!("{key}.to"),
                    format!("an arm cannot be relative to itself (`{to}`): name another arm"),
                ));
            }
            let base_raw = raw_arms[to].get_ref().causes.get_ref().get(cause);
            match base_raw.map(|b| b.get_ref()) {
                None => {
                    return Err(ctx.err(
                        rel.to.span(),
                        format!("{key}.to"),
                        format!("arm `{to}` has no cause `{cause}` to be relative to"),
                    ));
                }
                Some(RawHazard::Relative(_)) => {
                    return Err(ctx.err(
                        rel.to.span(),
                        format!("{key}.to"),
                        format!(
                            "`arms.{to}.causes.{cause}` is itself relative; the reference must be absolute"
                        ),
                    ));
                }
                Some(_) => {}
            }
            let base = arms[bi].causes[ci].clone().expect("absolute hazard built in the first pass");
            let breaks = match &rel.breaks {
                Some(b) => ctx.breaks(b, &format!("{key}.breaks"))?,
                None => Vec::new(),
            };
            let hr = match rel.hr.get_ref() {
                ScalarOrList::Scalar(x) => {
                    if !breaks.is_empty() {
                        return Err(ctx.err(
                            rel.hr.span(),
                            format!("{key}.hr"),
                            format!(
                                "with {} breaks, expected a list of {} hazard ratios",
                                breaks.len(),
                                breaks.len() + 1
                            ),
                        ));
                    }
                    vec![*x]
                }
                ScalarOrList::List(v) => v.clone(),
            };
            if hr.len() != breaks.len() + 1 {
                return Err(ctx.err(
                    rel.hr.span(),
                    format!("{key}.hr"),
                    format!(
                        "expected {} hazard ratios (one more than the {} breaks), found {}",
                        breaks.len() + 1,
                        breaks.len(),
                        hr.len()
                    ),
                ));
            }
            if let Some(bad) = hr.iter().find(|x| !(x.is_finite() && **x >= 0.0)) {
                return Err(ctx.err(
                    rel.hr.span(),
                    format!("{key}.hr"),
                    format!("expected hazard ratios ≥ 0, found {bad}"),
                ));
            }
            arms[ai].causes[ci] =
                Some(Hazard::Relative { base: Box::new(base), hr: Piecewise::new(breaks, hr) });
        }
    }
    for (ai, a) in raw_arms.values().enumerate() {
        if let Some(after) = &a.get_ref().after {
            arms[ai].after = Some(illness_death(ctx, &arms[ai], after, causes)?);
        }
    }
    // Equivalent forms that are cheaper to sample (see `Hazard::simplified`).
    for arm in &mut arms {
        for h in arm.causes.iter_mut().flatten() {
            *h = h.simplified();
        }
    }
    Ok(arms)
}

/// `[arms.X.after.TRIGGER]`: one non-fatal trigger per arm, a cause of this arm; each factor
/// names another cause of this arm and is a finite number ≥ 0.
fn illness_death(ctx: &Ctx, arm: &Arm, after: &S<raw::RawAfter>, causes: &[String]) -> Result<After> {
    let name = &arm.name;
    let own: Vec<&String> =
        causes.iter().enumerate().filter(|(k, _)| arm.causes[*k].is_some()).map(|(_, c)| c).collect();
    let mut entries = after.get_ref().iter();
    let (Some((trigger, table)), None) = (entries.next(), entries.next()) else {
        return Err(ctx.err(
            after.span(),
            format!("arms.{name}.after"),
            format!("expected exactly one non-fatal trigger cause per arm, found {}", after.get_ref().len()),
        ));
    };
    let key = format!("arms.{name}.after.{trigger}");
    let Some(ti) = causes.iter().position(|c| c == trigger).filter(|&k| arm.causes[k].is_some()) else {
        return Err(ctx.err(
            table.span(),
            key,
            format!("`{trigger}` is not a cause of arm `{name}`; its causes are: {}", list(own.into_iter())),
        ));
    };
    let mut factor = vec![1.0; causes.len()];
    for (cause, f) in table.get_ref() {
        let k = format!("{key}.{cause}");
        let Some(ci) = causes.iter().position(|c| c == cause).filter(|&c| arm.causes[c].is_some()) else {
            return Err(ctx.err(
                f.span(),
                k,
                format!(
                    "`{cause}` is not a cause of arm `{name}`; its causes are: {}",
                    list(own.into_iter())
                ),
            ));
        };
        if ci == ti {
            return Err(ctx.err(f.span(), k, "the trigger cannot modify its own hazard"));
        }
        factor[ci] = ctx.number(f, &k, "a hazard multiplier ≥ 0", |x| x >= 0.0)?;
    }
    Ok(After { trigger: ti, factor })
}

fn absolute(ctx: &Ctx, h: &RawHazard, key: &str) -> Result<Hazard> {
    Ok(match h {
        RawHazard::Exponential(rate) => Hazard::Exponential {
            rate: ctx.number(rate, &format!("{key}.exponential"), "a rate ≥ 0", |x| x >= 0.0)?,
        },
        RawHazard::Weibull(w) => Hazard::Weibull {
            shape: ctx.number(&w.shape, &format!("{key}.weibull.shape"), "a shape > 0", |x| x > 0.0)?,
            scale: ctx.number(&w.scale, &format!("{key}.weibull.scale"), "a scale > 0", |x| x > 0.0)?,
        },
        RawHazard::Piecewise(p) => {
            let breaks = ctx.breaks(&p.breaks, &format!("{key}.piecewise.breaks"))?;
            let rates = rates_of(ctx, &p.rates, &format!("{key}.piecewise.rates"), breaks.len())?;
            Hazard::Piecewise(Piecewise::new(breaks, rates))
        }
        RawHazard::EarlyRisk(e) => Hazard::EarlyRisk {
            risk: ctx.number(&e.risk, &format!("{key}.early_risk.risk"), "a risk in [0, 1)", |x| {
                (0.0..1.0).contains(&x)
            })?,
            within: ctx.number(&e.within, &format!("{key}.early_risk.within"), "a time > 0", |x| x > 0.0)?,
        },
        RawHazard::Relative(_) => unreachable!("relative hazards are resolved in the second pass"),
    })
}

fn endpoints(ctx: &Ctx, raw: &raw::RawScenario, causes: &[String]) -> Result<Vec<Endpoint>> {
    let mut out = Vec::new();
    if raw.endpoints.get_ref().is_empty() {
        return Err(ctx.err(raw.endpoints.span(), "endpoints", "expected at least one endpoint"));
    }
    for (name, set) in raw.endpoints.get_ref() {
        let key = format!("endpoints.{name}");
        ctx.name(&S::new(set.span(), name.clone()), &key)?;
        if set.get_ref().is_empty() {
            return Err(ctx.err(set.span(), key, "expected at least one cause"));
        }
        let mut idx = Vec::new();
        for c in set.get_ref() {
            let Some(ci) = causes.iter().position(|x| x == c.get_ref()) else {
                return Err(ctx.err(
                    c.span(),
                    key,
                    format!("cause `{}` is in no arm; causes are: {}", c.get_ref(), list(causes.iter())),
                ));
            };
            if idx.contains(&ci) {
                return Err(ctx.err(c.span(), key, format!("cause `{}` is listed twice", c.get_ref())));
            }
            idx.push(ci);
        }
        idx.sort_unstable();
        out.push(Endpoint { name: name.clone(), causes: idx });
    }
    Ok(out)
}

fn analysis(ctx: &Ctx, a: &raw::RawAnalysis, endpoints: &[Endpoint]) -> Result<Analysis> {
    let Some(endpoint) = endpoints.iter().position(|e| &e.name == a.endpoint.get_ref()) else {
        return Err(ctx.err(
            a.endpoint.span(),
            "analysis.endpoint",
            format!(
                "no endpoint named `{}`; endpoints are: {}",
                a.endpoint.get_ref(),
                list(endpoints.iter().map(|e| &e.name))
            ),
        ));
    };
    let alpha = match &a.alpha {
        Some(v) => ctx.number(v, "analysis.alpha", "a level in (0, 0.5]", |x| x > 0.0 && x <= 0.5)?,
        None => 0.025,
    };
    let sides = match &a.sides {
        None => Sides::One,
        Some(v) => match *v.get_ref() {
            1 => Sides::One,
            2 => Sides::Two,
            x => {
                return Err(ctx.err(v.span(), "analysis.sides", format!("expected 1 or 2, found {x}")));
            }
        },
    };
    let positive = |v: &Option<S<f64>>, key: &str| -> Result<Option<f64>> {
        v.as_ref().map(|x| ctx.number(x, key, "a time > 0", |t| t > 0.0)).transpose()
    };
    let tau = positive(&a.tau, "analysis.tau")?;
    let milestone = positive(&a.milestone, "analysis.milestone")?;
    let horizons = match &a.horizons {
        Some(h) => ctx.breaks(h, "analysis.horizons")?,
        None => Vec::new(),
    };
    let periods = match &a.periods {
        Some(p) => ctx.breaks(p, "analysis.periods")?,
        None => Vec::new(),
    };
    let mut tests: Vec<Test> = Vec::new();
    for t in a.tests.get_ref() {
        let name = t.get_ref().trim().to_string();
        let Some(kind) = test_kind(&name) else {
            return Err(ctx.err(
                t.span(),
                "analysis.tests",
                format!("unknown test {name:?}; allowed: {TEST_NAMES}"),
            ));
        };
        if tests.iter().any(|x| x.name == name) {
            return Err(ctx.err(t.span(), "analysis.tests", format!("test {name:?} is listed twice")));
        }
        match kind {
            TestKind::Rmst if tau.is_none() => {
                return Err(ctx.err(
                    t.span(),
                    "analysis.tau",
                    "the `rmst` test needs `analysis.tau` (the RMST horizon)",
                ));
            }
            TestKind::Milestone if milestone.is_none() => {
                return Err(ctx.err(
                    t.span(),
                    "analysis.milestone",
                    "the `milestone` test needs `analysis.milestone` (the milestone time)",
                ));
            }
            _ => {}
        }
        tests.push(Test { name, kind });
    }
    let mut crossing = CrossingRule::default();
    if let Some(c) = &a.crossing {
        if let Some(g) = &c.min_gap {
            crossing.min_gap =
                ctx.number(g, "analysis.crossing.min_gap", "a gap in [0, 1)", |x| (0.0..1.0).contains(&x))?;
        }
        if let Some(k) = &c.min_at_risk {
            crossing.min_at_risk = ctx.integer(k, "analysis.crossing.min_at_risk", 1, MAX_PATIENTS)? as usize;
        }
    }
    let mut maxcombo_weights = crate::stats::maxcombo::DEFAULT_WEIGHTS.to_vec();
    if let Some(m) = &a.maxcombo {
        let key = "analysis.maxcombo.weights";
        let list = m.weights.get_ref();
        if list.is_empty() || list.len() > 6 {
            return Err(ctx.err(
                m.weights.span(),
                key,
                format!("expected 1 to 6 [rho, gamma] pairs, found {}", list.len()),
            ));
        }
        maxcombo_weights.clear();
        for (i, pair) in list.iter().enumerate() {
            let ok = pair.get_ref().len() == 2 && pair.get_ref().iter().all(|x| x.is_finite() && *x >= 0.0);
            if !ok {
                return Err(ctx.err(
                    pair.span(),
                    format!("{key}[{i}]"),
                    format!("expected [rho, gamma] with both ≥ 0, found {:?}", pair.get_ref()),
                ));
            }
            let w = (pair.get_ref()[0], pair.get_ref()[1]);
            if maxcombo_weights.contains(&w) {
                return Err(ctx.err(
                    pair.span(),
                    format!("{key}[{i}]"),
                    format!("{:?} is listed twice", pair.get_ref()),
                ));
            }
            maxcombo_weights.push(w);
        }
        // The p-value integrates over as many dimensions as the weights span as functions of Ŝ;
        // the deterministic quadrature is fast and accurate up to 3 (the default set spans 3).
        let rank = weight_rank(&maxcombo_weights);
        if rank > crate::stats::mvn::MAX_MAXCOMBO_RANK {
            return Err(ctx.err(
                m.weights.span(),
                key,
                format!(
                    "these weights span {rank} dimensions (as functions of the survival curve); at most {} are supported — drop a pair, e.g. keep [[0,0],[0,1],[1,0],[1,1]]",
                    crate::stats::mvn::MAX_MAXCOMBO_RANK
                ),
            ));
        }
    }
    if periods.is_empty()
        && let Some(t) = a.tests.get_ref().iter().find(|t| t.get_ref().trim() == "cox_periods")
    {
        return Err(ctx.err(
            t.span(),
            "analysis.periods",
            "the `cox_periods` test needs `analysis.periods` (at least one period break)",
        ));
    }
    Ok(Analysis {
        endpoint,
        alpha,
        sides,
        tests,
        tau,
        milestone,
        horizons,
        periods,
        crossing,
        maxcombo_weights,
    })
}

/// Parses a test name as written in `analysis.tests`.
pub fn test_kind(name: &str) -> Option<TestKind> {
    match name {
        "logrank" => Some(TestKind::LogRank),
        "rmst" => Some(TestKind::Rmst),
        "milestone" => Some(TestKind::Milestone),
        "cox" => Some(TestKind::Cox { breslow: false }),
        "cox_breslow" => Some(TestKind::Cox { breslow: true }),
        "cox_periods" => Some(TestKind::CoxPeriods),
        "maxcombo" => Some(TestKind::MaxCombo),
        _ => {
            let inner = name.strip_prefix("fh(")?.strip_suffix(')')?;
            let (r, g) = inner.split_once(',')?;
            let rho: f64 = r.trim().parse().ok()?;
            let gamma: f64 = g.trim().parse().ok()?;
            (rho.is_finite() && gamma.is_finite() && rho >= 0.0 && gamma >= 0.0)
                .then_some(TestKind::FlemingHarrington { rho, gamma })
        }
    }
}

fn uncertainty(ctx: &Ctx, u: &raw::RawUncertainty) -> Result<Uncertainty> {
    use raw::RawDistribution as R;
    let draws = match &u.draws {
        Some(d) => ctx.integer(d, "uncertainty.draws", 2, 100_000)? as usize,
        None => 200,
    };
    if u.keys.get_ref().is_empty() {
        return Err(ctx.err(
            u.keys.span(),
            "uncertainty.keys",
            "expected at least one key with a distribution",
        ));
    }
    let mut keys = Vec::new();
    for (key, d) in u.keys.get_ref() {
        let k = format!("uncertainty.keys.\"{key}\"");
        type Valid = fn(f64, f64) -> bool;
        let (name, params, lo_ok): (&str, &S<Vec<f64>>, Valid) = match d.get_ref() {
            R::Beta(p) => ("beta = [a, b] with a, b > 0", p, |a, b| a > 0.0 && b > 0.0),
            R::Normal(p) => ("normal = [mean, sd] with sd > 0", p, |_, s| s > 0.0),
            R::Lognormal(p) => ("lognormal = [mu, sigma] with sigma > 0", p, |_, s| s > 0.0),
            R::Uniform(p) => ("uniform = [low, high] with low < high", p, |l, h| l < h),
            R::Gamma(p) => ("gamma = [shape, scale] with both > 0", p, |a, b| a > 0.0 && b > 0.0),
        };
        let v = params.get_ref();
        if v.len() != 2 || !v.iter().all(|x| x.is_finite()) || !lo_ok(v[0], v[1]) {
            return Err(ctx.err(params.span(), k, format!("expected {name}, found {v:?}")));
        }
        let (a, b) = (v[0], v[1]);
        let dist = match d.get_ref() {
            R::Beta(_) => Distribution::Beta { a, b },
            R::Normal(_) => Distribution::Normal { mean: a, sd: b },
            R::Lognormal(_) => Distribution::LogNormal { mu: a, sigma: b },
            R::Uniform(_) => Distribution::Uniform { low: a, high: b },
            R::Gamma(_) => Distribution::Gamma { shape: a, scale: b },
        };
        keys.push((key.clone(), dist));
    }
    Ok(Uncertainty { draws, keys })
}

/// The dimension spanned by FH weight functions S^ρ(1 − S)^γ over S in (0, 1): the rank of their
/// correlation over a fine grid of S (the data's correlation matrix can only have less).
fn weight_rank(weights: &[(f64, f64)]) -> usize {
    let grid: Vec<f64> = (1..200).map(|i| f64::from(i) / 200.0).collect();
    let k = weights.len();
    let vals: Vec<Vec<f64>> = weights
        .iter()
        .map(|&(r, g)| grid.iter().map(|&s| crate::stats::logrank::fh_weight(s, r, g)).collect())
        .collect();
    let mut corr = vec![0.0; k * k];
    for a in 0..k {
        for b in 0..k {
            let dot: f64 = vals[a].iter().zip(&vals[b]).map(|(x, y)| x * y).sum();
            let na: f64 = vals[a].iter().map(|x| x * x).sum::<f64>().sqrt();
            let nb: f64 = vals[b].iter().map(|x| x * x).sum::<f64>().sqrt();
            corr[a * k + b] = dot / (na * nb);
        }
    }
    crate::stats::mvn::pivoted_cholesky(&corr, k).1
}
