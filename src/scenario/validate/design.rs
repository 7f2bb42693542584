//! `[simulation]` and `[design]`: size, accrual, data cut, allocation, control arm, blocks.

use super::super::error::{ErrorKind, Namespace};
use super::super::{Accrual, Arm, Comparison, Cut, CutRule, Design, Simulation};
use super::raw::{self, S};
use super::{Ctx, MAX_PATIENTS, Result};

use crate::scenario::{MAX_REPLICATES, MAX_SEED};

pub(super) fn simulation(ctx: &Ctx, raw: Option<&raw::RawSimulation>) -> Result<Simulation> {
    let mut sim = Simulation { replicates: 1000, seed: 1 };
    if let Some(r) = raw {
        if let Some(n) = &r.replicates {
            sim.replicates = ctx.integer(n, "simulation.replicates", 1, MAX_REPLICATES as i64)? as u64;
        }
        if let Some(s) = &r.seed {
            sim.seed = ctx.integer(s, "simulation.seed", 0, MAX_SEED as i64)? as u64;
        }
    }
    Ok(sim)
}

/// Size, accrual and cut; the block size is set by [`allocation`], which needs the arms.
pub(super) fn design(ctx: &Ctx, whole: &S<raw::RawDesign>) -> Result<Design> {
    let d = whole.get_ref();
    let n = ctx.integer(&d.n, "design.n", 2, MAX_PATIENTS)? as usize;
    let accrual = accrual(ctx, &d.accrual, n)?;
    let cut = cut(ctx, &d.cut, "design.cut", n)?;
    Ok(Design { n, block_size: 0, randomisation: super::super::Randomisation::Blocks, accrual, cut })
}

/// A data cut (`[design.cut]`, or an interim look of `[monitoring]`) at `key`: at least one of
/// `calendar`, `events`, `min_followup`; at most n events; `rule` "first" or "last".
pub(super) fn cut(ctx: &Ctx, whole: &S<raw::RawCut>, key: &str, n: usize) -> Result<Cut> {
    let c = whole.get_ref();
    let cut = Cut {
        calendar: c
            .calendar
            .as_ref()
            .map(|v| ctx.number(v, &format!("{key}.calendar"), "a positive calendar time", |x| x > 0.0))
            .transpose()?,
        events: c
            .events
            .as_ref()
            .map(|v| ctx.integer(v, &format!("{key}.events"), 1, MAX_PATIENTS).map(|k| k as usize))
            .transpose()?,
        min_followup: c
            .min_followup
            .as_ref()
            .map(|v| ctx.number(v, &format!("{key}.min_followup"), "a time ≥ 0", |x| x >= 0.0))
            .transpose()?,
        rule: match &c.rule {
            None => CutRule::First,
            Some(r) => match r.get_ref().as_str() {
                "first" => CutRule::First,
                "last" => CutRule::Last,
                other => {
                    return Err(ctx.out_of_range(
                        r.span(),
                        format!("{key}.rule"),
                        "\"first\" or \"last\"",
                        format!("{other:?}"),
                    ));
                }
            },
        },
    };
    if cut.calendar.is_none() && cut.events.is_none() && cut.min_followup.is_none() {
        return Err(ctx.fail(
            whole.span(),
            key,
            ErrorKind::Empty { expected: "at least one of `calendar`, `events`, `min_followup`".into() },
        ));
    }
    if let Some(k) = cut.events
        && k > n
    {
        let span = c.events.as_ref().map_or(whole.span(), |v| v.span());
        return Err(ctx.out_of_range(span, format!("{key}.events"), format!("at most n = {n} events"), k));
    }
    Ok(cut)
}

/// The longest accrual, in time units. Beyond it the expected events (an integral over the
/// accrual period) lose the little mass they have (0 expected against 500 simulated at a
/// duration of 10³⁰⁰), and no trial recruits for a million years, months or days.
pub const MAX_ACCRUAL: f64 = 1e6;

/// Time to recruit n patients at piecewise-constant rates (patients per time unit) changing at
/// `breaks`; +∞ when they never add up to n.
fn time_to_accrue(breaks: &[f64], rates: &[f64], n: usize) -> f64 {
    let (mut t, mut left) = (0.0, n as f64);
    for (i, &r) in rates.iter().enumerate() {
        let end = breaks.get(i).copied().unwrap_or(f64::INFINITY);
        if r > 0.0 && r * (end - t) >= left {
            return t + left / r;
        }
        left -= r * (end - t);
        t = end;
    }
    f64::INFINITY
}

fn accrual(ctx: &Ctx, whole: &S<raw::RawAccrual>, n: usize) -> Result<Accrual> {
    let a = whole.get_ref();
    Ok(match (&a.duration, &a.breaks, &a.rates) {
        (Some(dur), None, None) => Accrual::Uniform {
            duration: ctx.number(
                dur,
                "design.accrual.duration",
                &format!("a positive duration up to {MAX_ACCRUAL:e} time units"),
                |x| x > 0.0 && x <= MAX_ACCRUAL,
            )?,
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
            let t = time_to_accrue(&b, &r, n);
            if t > MAX_ACCRUAL {
                return Err(ctx.err(
                    rates.span(),
                    "design.accrual.rates",
                    format!(
                        "these rates take {t:e} time units to recruit n = {n}: expected at most {MAX_ACCRUAL:e}"
                    ),
                ));
            }
            Accrual::Piecewise { breaks: b, rates: r }
        }
        _ => {
            return Err(ctx.err(
                whole.span(),
                "design.accrual",
                "expected `{ duration = D }` (uniform) or `{ breaks = [...], rates = [...] }` (piecewise)",
            ));
        }
    })
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
        return Err(ctx.fail(
            v.span(),
            key,
            ErrorKind::WrongLength { what: "values", breaks: n_breaks, found: Some(rates.len()) },
        ));
    }
    Ok(rates)
}

/// The arms with their allocation weights, the compared pair and the block size.
pub(super) struct Allocation {
    pub arms: Vec<Arm>,
    pub comparison: Option<Comparison>,
    pub block_size: usize,
}

/// `design.allocation` (keys must be arms; arms left out get weight 0), `design.control` and
/// `design.block_size`.
pub(super) fn allocation(ctx: &Ctx, whole: &S<raw::RawDesign>, mut arms: Vec<Arm>) -> Result<Allocation> {
    let rd = whole.get_ref();
    let names: Vec<String> = arms.iter().map(|a| a.name.clone()).collect();
    let arm_index = |n: &str| names.iter().position(|a| a == n);
    let unknown_arm = |name: &str| ErrorKind::UnknownName {
        what: Namespace::Arm,
        name: name.to_string(),
        allowed: names.clone(),
    };
    for (arm_name, w) in rd.allocation.get_ref() {
        let key = format!("design.allocation.{arm_name}");
        let Some(i) = arm_index(arm_name) else {
            return Err(ctx.fail(w.span(), key, unknown_arm(arm_name)));
        };
        arms[i].allocation = ctx.integer(w, &key, 0, 1000)? as usize;
    }
    let allocated: Vec<usize> = (0..arms.len()).filter(|&i| arms[i].allocation > 0).collect();
    let alloc_span = rd.allocation.span();
    let alloc_sum: usize = allocated.iter().map(|&i| arms[i].allocation).sum();
    if allocated.is_empty() {
        return Err(ctx.fail(
            alloc_span,
            "design.allocation",
            ErrorKind::Empty { expected: "at least one arm with allocation > 0".into() },
        ));
    }
    if allocated.len() > 2 {
        return Err(ctx.out_of_range(
            alloc_span,
            "design.allocation",
            "one or two allocated arms",
            allocated.len(),
        ));
    }
    let comparison = match (&rd.control, allocated.as_slice()) {
        (Some(c), _) => {
            let Some(ci) = arm_index(c.get_ref()) else {
                return Err(ctx.fail(c.span(), "design.control", unknown_arm(c.get_ref())));
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
            return Err(ctx.fail(
                whole.span(),
                "design.control",
                ErrorKind::Missing {
                    what: "with two allocated arms, name the control (reference) arm".into(),
                },
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
                return Err(ctx.out_of_range(
                    b.span(),
                    "design.block_size",
                    format!("a multiple of the allocation sum {alloc_sum}"),
                    x,
                ));
            }
            x
        }
    };
    Ok(Allocation { arms, comparison, block_size })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use super::time_to_accrue;
    use crate::scenario::error::{ErrorKind, Namespace};

    #[test]
    fn n_below_two() {
        assert_error(
            &edited(3, "n = 1"),
            out_of_range("an integer from 2 to 10000000", "1"),
            "design.n",
            (3, 5),
        );
    }

    #[test]
    fn accrual_breaks_not_increasing() {
        assert_error(
            &edited(7, "accrual = { breaks = [2, 1], rates = [1, 2, 3] }"),
            ErrorKind::NotIncreasing { found: 1.0, after: 2.0 },
            "design.accrual.breaks[1]",
            (7, 26),
        );
    }

    #[test]
    fn accrual_longer_than_a_million_time_units() {
        assert_error(
            &edited(7, "accrual = { duration = 1e300 }"),
            out_of_range("a positive duration up to 1e6 time units", "1e300"),
            "design.accrual.duration",
            (7, 24),
        );
        // n = 100 at 1e-300 per time unit: 1e302 time units.
        let e = error(&edited(7, "accrual = { rates = [1e-300] }"));
        assert_eq!(e.key(), Some("design.accrual.rates"), "{e}");
        assert!(e.to_string().contains("to recruit n = 100: expected at most 1e6"), "{e}");
        assert_eq!(time_to_accrue(&[1.0], &[10.0, 50.0], 100), 1.0 + 90.0 / 50.0);
        assert_eq!(time_to_accrue(&[], &[0.0], 100), f64::INFINITY);
    }

    #[test]
    fn accrual_rates_one_short() {
        assert_error(
            &edited(7, "accrual = { breaks = [1], rates = [1] }"),
            ErrorKind::WrongLength { what: "values", breaks: 1, found: Some(1) },
            "design.accrual.rates",
            (7, 35),
        );
    }

    #[test]
    fn cut_with_no_criterion() {
        assert_error(
            &edited(9, ""),
            ErrorKind::Empty { expected: "at least one of `calendar`, `events`, `min_followup`".into() },
            "design.cut",
            (8, 1),
        );
    }

    #[test]
    fn allocation_to_an_unknown_arm() {
        assert_error(
            &edited(5, "allocation = { cyc = 1, hsc = 1 }"),
            ErrorKind::UnknownName {
                what: Namespace::Arm,
                name: "hsc".into(),
                allowed: names(&["cyc", "hsct"]),
            },
            "design.allocation.hsc",
            (5, 31),
        );
    }

    #[test]
    fn two_arms_without_a_control() {
        assert_error(
            &edited(4, ""),
            ErrorKind::Missing { what: "with two allocated arms, name the control (reference) arm".into() },
            "design.control",
            (2, 1),
        );
    }

    #[test]
    fn block_size_not_a_multiple() {
        assert_error(
            &edited(6, "block_size = 3"),
            out_of_range("a multiple of the allocation sum 2", "3"),
            "design.block_size",
            (6, 14),
        );
    }
}
