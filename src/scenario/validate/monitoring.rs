//! `[monitoring]`: interim looks, group-sequential bounds and the safety rule.

use super::super::error::{ErrorKind, Namespace};
use super::super::{
    Alternative, Analysis, Arm, BayesRule, Committee, CpDrift, Cut, CutRule, Design, Efficacy, FutilityBound,
    FutilityRule, Harm, Look, Monitoring, Safety, Sides, SpendingTime, TestKind,
};
use super::raw::{self, RawSpending, S};
use super::{Ctx, Result};
use crate::scenario::Spending;
use crate::stats::normal;
use crate::stats::sequential::MIN_SPACING;
use crate::test_statistic::Information;

/// The tests a monitored design can use: their information is events (log-rank, Cox) or the
/// null variance (FH).
fn monitorable(kind: TestKind) -> bool {
    kind.information().is_some()
}

pub(super) fn monitoring(
    ctx: &Ctx,
    whole: &S<raw::RawMonitoring>,
    analysis: &Analysis,
    design: &Design,
    arms: &[Arm],
    causes: &[String],
) -> Result<Monitoring> {
    let m = whole.get_ref();
    if analysis.sides != Sides::One {
        return Err(ctx.err(
            whole.span(),
            "monitoring",
            "group-sequential monitoring needs one-sided tests: set analysis.sides = 1 (the default)",
        ));
    }
    let tests = monitored_tests(ctx, whole, analysis)?;
    let looks = looks(ctx, &m.looks, design)?;
    let interims = looks.len();
    let spending_time = spending_time(ctx, m, design)?;
    let efficacy = efficacy(ctx, m, interims, analysis.alpha)?;
    let futility = match &m.futility {
        None => None,
        Some(f) => Some(futility(ctx, f, interims, analysis.alpha)?),
    };
    // An HR bound is Schoenfeld's z for that HR, −ln(hr)·√(d·r(1−r)): the log-rank or Cox
    // statistic's, not a weighted test's (whose z measures another quantity).
    if let (Some(FutilityRule { bound: FutilityBound::Hr(_), .. }), Some(f)) = (&futility, &m.futility)
        && let Some(&t) = tests
            .iter()
            .find(|&&t| matches!(analysis.tests[t].kind.information(), Some(Information::NullVariance(_))))
    {
        return Err(ctx.err(
            f.get_ref().spending.as_ref().map_or(f.span(), |s| s.span()),
            "monitoring.futility.spending.hr",
            format!(
                "futility by hazard ratio is defined for the log-rank and Cox tests, not for {:?}: give its bounds as spending or `z = [...]`",
                analysis.tests[t].name
            ),
        ));
    }
    let harm = match &m.harm {
        None => None,
        Some(h) => Some(harm(ctx, h, interims)?),
    };
    let safety = match &m.safety {
        None => None,
        Some(s) => Some(safety(ctx, s, design, arms, causes)?),
    };
    let committee = match &m.committee {
        None => None,
        Some(c) => Some(committee(ctx, c, analysis.alpha)?),
    };
    Ok(Monitoring { tests, looks, spending_time, efficacy, futility, harm, safety, committee })
}

/// `monitoring.tests`: indices into `analysis.tests` of monitorable tests, each once (the first
/// test when not given).
fn monitored_tests(ctx: &Ctx, whole: &S<raw::RawMonitoring>, analysis: &Analysis) -> Result<Vec<usize>> {
    let Some(list) = &whole.get_ref().tests else {
        let first = &analysis.tests[0];
        if !monitorable(first.kind) {
            return Err(ctx.err(
                whole.span(),
                "monitoring.tests",
                format!(
                    "the first test, {:?}, cannot be monitored: give monitoring.tests among the log-rank, FH(ρ,γ), mw, cox and cox_breslow tests of analysis.tests (not their stratified versions)",
                    first.name
                ),
            ));
        }
        return Ok(vec![0]);
    };
    let mut out = Vec::new();
    for (i, name) in list.get_ref().iter().enumerate() {
        let key = format!("monitoring.tests[{i}]");
        let Some(t) = analysis.tests.iter().position(|t| &t.name == name.get_ref()) else {
            let kind = ErrorKind::UnknownName {
                what: Namespace::Test,
                name: name.get_ref().clone(),
                allowed: analysis.tests.iter().map(|t| t.name.clone()).collect(),
            };
            return Err(ctx.fail(name.span(), key, kind));
        };
        if !monitorable(analysis.tests[t].kind) {
            return Err(ctx.err(
                name.span(),
                key,
                format!(
                    "{:?} cannot be monitored (its information is not events or a null variance): log-rank, FH(ρ,γ), mw, cox and cox_breslow can; maxcombo, robust_mw, rmst, milestone, cox_periods and the stratified tests (`NAME[strata]`) cannot",
                    name.get_ref()
                ),
            ));
        }
        if out.contains(&t) {
            return Err(ctx.err(name.span(), key, format!("{:?} is listed twice", name.get_ref())));
        }
        out.push(t);
    }
    if out.is_empty() {
        let kind = ErrorKind::Empty { expected: "at least one test".into() };
        return Err(ctx.fail(list.span(), "monitoring.tests", kind));
    }
    Ok(out)
}

/// `monitoring.spending_time`: information (the default) or calendar, which needs a final
/// analysis at a calendar time only.
fn spending_time(ctx: &Ctx, m: &raw::RawMonitoring, design: &Design) -> Result<SpendingTime> {
    let Some(v) = &m.spending_time else { return Ok(SpendingTime::Information) };
    match v.get_ref().as_str() {
        "information" => Ok(SpendingTime::Information),
        "calendar" => {
            let cut = &design.cut;
            if cut.calendar.is_none() || cut.events.is_some() || cut.min_followup.is_some() {
                return Err(ctx.err(
                    v.span(),
                    "monitoring.spending_time",
                    "calendar spending time needs a final analysis at a calendar time only (design.cut.calendar, without events or min_followup)",
                ));
            }
            Ok(SpendingTime::Calendar)
        }
        other => Err(ctx.out_of_range(
            v.span(),
            "monitoring.spending_time",
            "\"information\" or \"calendar\"",
            format!("{other:?}"),
        )),
    }
}

/// `[monitoring.efficacy]`: a spending function (O'Brien–Fleming by default), none, or fixed z
/// bounds that each spend less than α.
fn efficacy(ctx: &Ctx, m: &raw::RawMonitoring, interims: usize, alpha: f64) -> Result<Efficacy> {
    let Some(e) = &m.efficacy else { return Ok(Efficacy::Spending(Spending::OBrienFleming)) };
    let spending = &e.get_ref().spending;
    match spending.get_ref() {
        RawSpending::None => Ok(Efficacy::None),
        RawSpending::Z(z) => {
            let z = bounds(ctx, z, "monitoring.efficacy.spending.z", interims)?;
            if let Some((i, &zi)) = z.iter().enumerate().find(|(_, zi)| normal::upper(**zi) >= alpha) {
                return Err(ctx.err(
                    spending.span(),
                    format!("monitoring.efficacy.spending.z[{i}]"),
                    format!(
                        "a bound of {zi} alone spends {:.4} ≥ α = {alpha}: every fixed efficacy bound must spend less than α",
                        normal::upper(zi)
                    ),
                ));
            }
            Ok(Efficacy::Fixed(z))
        }
        other => Ok(Efficacy::Spending(function(ctx, other, spending, "monitoring.efficacy.spending")?)),
    }
}

/// At most this many interim looks: each look of a trial extends its bounds' recursion by one
/// step, so the cost per trial grows with the looks (docs/limits.md).
pub const MAX_LOOKS: usize = 10;
/// At most this many safety reviews.
pub const MAX_REVIEWS: usize = 100;

fn looks(ctx: &Ctx, list: &S<Vec<S<raw::RawLook>>>, design: &Design) -> Result<Vec<Look>> {
    if list.get_ref().is_empty() {
        return Err(ctx.fail(
            list.span(),
            "monitoring.looks",
            ErrorKind::Empty { expected: "at least one interim look".into() },
        ));
    }
    if list.get_ref().len() > MAX_LOOKS {
        return Err(ctx.out_of_range(
            list.span(),
            "monitoring.looks",
            format!("at most {MAX_LOOKS} interim looks"),
            format!("{} looks", list.get_ref().len()),
        ));
    }
    let mut out: Vec<Look> = Vec::new();
    for (i, l) in list.get_ref().iter().enumerate() {
        let key = format!("monitoring.looks[{i}]");
        let r = l.get_ref();
        let look = match &r.fraction {
            Some(f) => {
                if r.calendar.is_some() || r.events.is_some() || r.min_followup.is_some() || r.rule.is_some()
                {
                    return Err(ctx.err(
                        l.span(),
                        key,
                        "a look is either a cut (calendar, events, min_followup, rule) or a `fraction`, not both",
                    ));
                }
                Look::Fraction(ctx.number(
                    f,
                    &format!("{key}.fraction"),
                    &format!("an information fraction in [{MIN_SPACING}, {}]", 1.0 - MIN_SPACING),
                    |x| (MIN_SPACING..=1.0 - MIN_SPACING).contains(&x),
                )?)
            }
            None => {
                let cut = raw::RawCut {
                    calendar: r.calendar.clone(),
                    events: r.events.clone(),
                    min_followup: r.min_followup.clone(),
                    rule: r.rule.clone(),
                };
                Look::Cut(super::design::cut(ctx, &S::new(l.span(), cut), &key, design.n)?)
            }
        };
        after_final(ctx, l, &key, &look, &design.cut)?;
        // Looks of one kind must come in order (different kinds cannot be compared before the
        // trials are simulated), and fraction looks at least MIN_SPACING apart.
        for (j, earlier) in out.iter().enumerate() {
            if let Some(false) = in_order(earlier, &look) {
                return Err(ctx.err(
                    l.span(),
                    key,
                    format!("looks must come in order: this look is not after monitoring.looks[{j}]"),
                ));
            }
            if let (Look::Fraction(a), Look::Fraction(b)) = (earlier, &look)
                && b - a < MIN_SPACING
            {
                return Err(ctx.err(
                    l.span(),
                    key,
                    format!(
                        "looks must be at least {MIN_SPACING} of the information apart: fraction {b} is {:.3e} after monitoring.looks[{j}]",
                        b - a
                    ),
                ));
            }
        }
        spaced_events(ctx, l, &key, &look, &out, &design.cut)?;
        out.push(look);
    }
    Ok(out)
}

/// A look that can never come before the final analysis is an error: a calendar look at or
/// after a calendar final cut, an events look at or after an event-driven final cut.
fn after_final(ctx: &Ctx, l: &S<raw::RawLook>, key: &str, look: &Look, final_cut: &Cut) -> Result<()> {
    let Look::Cut(c) = look else { return Ok(()) };
    let single = |x: Option<f64>| {
        if c.calendar.is_some() as u8 + c.events.is_some() as u8 + c.min_followup.is_some() as u8 == 1 {
            x
        } else {
            None
        }
    };
    let final_only = |x: Option<f64>| {
        let f = final_cut;
        let n = f.calendar.is_some() as u8 + f.events.is_some() as u8 + f.min_followup.is_some() as u8;
        if n == 1 || f.rule == CutRule::First { x } else { None }
    };
    if let (Some(t), Some(end)) = (single(c.calendar), final_only(final_cut.calendar))
        && t >= end
    {
        return Err(ctx.err(
            l.span(),
            key,
            format!("an interim at calendar time {t} is not before the final analysis (design.cut.calendar = {end})"),
        ));
    }
    if let (Some(e), Some(end)) =
        (single(c.events.map(|e| e as f64)), final_only(final_cut.events.map(|e| e as f64)))
        && e >= end
    {
        return Err(ctx.err(
            l.span(),
            key,
            format!("an interim at {e} events is not before the final analysis (design.cut.events = {end})"),
        ));
    }
    Ok(())
}

/// With an event-driven final analysis (events alone), events looks are fractions of its
/// target: they must be [`MIN_SPACING`] of it apart, from each other and from the final.
fn spaced_events(
    ctx: &Ctx,
    l: &S<raw::RawLook>,
    key: &str,
    look: &Look,
    before: &[Look],
    final_cut: &Cut,
) -> Result<()> {
    let events_only = |c: &Cut| match (c.calendar, c.events, c.min_followup) {
        (None, Some(e), None) => Some(e as f64),
        _ => None,
    };
    let (Look::Cut(c), Some(total)) = (look, events_only(final_cut)) else { return Ok(()) };
    let Some(e) = events_only(c) else { return Ok(()) };
    let near = |what: String| {
        ctx.err(
            l.span(),
            key,
            format!(
                "looks must be at least {MIN_SPACING} of the information apart ({} of design.cut.events = {total}): {e} events is too close to {what}",
                (MIN_SPACING * total).ceil()
            ),
        )
    };
    if (total - e) / total < MIN_SPACING {
        return Err(near("the final analysis".into()));
    }
    for (j, earlier) in before.iter().enumerate() {
        if let Look::Cut(b) = earlier
            && let Some(x) = events_only(b)
            && (e - x).abs() / total < MIN_SPACING
        {
            return Err(near(format!("monitoring.looks[{j}] ({x} events)")));
        }
    }
    Ok(())
}

/// Whether `later` comes after `earlier`, when both are looks of one single-criterion kind
/// (`None` when they cannot be compared).
fn in_order(earlier: &Look, later: &Look) -> Option<bool> {
    let key = |l: &Look| -> Option<(u8, f64)> {
        match l {
            Look::Fraction(f) => Some((0, *f)),
            Look::Cut(c) => match (c.calendar, c.events, c.min_followup) {
                (Some(t), None, None) => Some((1, t)),
                (None, Some(e), None) => Some((2, e as f64)),
                (None, None, Some(m)) => Some((3, m)),
                _ => None,
            },
        }
    };
    match (key(earlier), key(later)) {
        (Some((a, x)), Some((b, y))) if a == b => Some(y > x),
        _ => None,
    }
}

/// A spending function from its raw form (not `none`, `z` or `hr`, which the caller handles).
fn function(ctx: &Ctx, raw: &RawSpending, whole: &S<RawSpending>, key: &str) -> Result<Spending> {
    Ok(match raw {
        RawSpending::ObrienFleming => Spending::OBrienFleming,
        RawSpending::Pocock => Spending::Pocock,
        RawSpending::Hsd(g) => {
            Spending::HwangShihDeCani(
                ctx.number(g, &format!("{key}.hsd"), "a finite γ", |x| x.abs() <= 40.0)?,
            )
        }
        RawSpending::Power(r) => {
            Spending::Power(
                ctx.number(r, &format!("{key}.power"), "an exponent ρ > 0", |x| x > 0.0 && x <= 20.0)?,
            )
        }
        RawSpending::None | RawSpending::Z(_) | RawSpending::Hr(_) => {
            return Err(ctx.err(
                whole.span(),
                key,
                "expected a spending function here: \"obrien_fleming\", \"pocock\", { hsd = γ } or { power = ρ }",
            ));
        }
    })
}

/// One finite bound per interim look.
fn bounds(ctx: &Ctx, list: &S<Vec<S<f64>>>, key: &str, interims: usize) -> Result<Vec<f64>> {
    if list.get_ref().len() != interims {
        return Err(ctx.out_of_range(
            list.span(),
            key,
            format!("one bound per interim look ({interims})"),
            format!("{} bounds", list.get_ref().len()),
        ));
    }
    list.get_ref()
        .iter()
        .enumerate()
        .map(|(i, v)| ctx.number(v, &format!("{key}[{i}]"), "a finite bound", |_| true))
        .collect()
}

/// `rule = "conditional_power"`: stop for futility when the conditional power under `under`
/// is below `below`; `rule = "predictive_probability"`: when the predictive probability over the
/// run's prior is below `below`. Never binding: the efficacy bounds ignore them.
fn probability_rule(ctx: &Ctx, whole: &S<raw::RawFutility>, rule: &S<String>) -> Result<FutilityRule> {
    let f = whole.get_ref();
    let predictive = match rule.get_ref().as_str() {
        "conditional_power" => false,
        "predictive_probability" => true,
        other => {
            return Err(ctx.out_of_range(
                rule.span(),
                "monitoring.futility.rule",
                "\"conditional_power\" or \"predictive_probability\" (or leave `rule` out and give `spending`)",
                format!("{other:?}"),
            ));
        }
    };
    let extra = [
        ("spending", f.spending.as_ref().map(|s| s.span())),
        ("beta", f.beta.as_ref().map(|s| s.span())),
        ("alternative", f.alternative.as_ref().map(|s| s.span())),
    ];
    if let Some((key, Some(span))) = extra.into_iter().find(|(_, s)| s.is_some()) {
        return Err(ctx.err(
            span,
            format!("monitoring.futility.{key}"),
            format!("`{key}` belongs to a spending or fixed futility bound, not to `rule = {:?}` (which takes `below`{})", rule.get_ref(), if predictive { "" } else { " and `under`" }),
        ));
    }
    if f.binding == Some(true) {
        return Err(ctx.err(
            whole.span(),
            "monitoring.futility.binding",
            "a conditional-power or predictive-probability futility rule is never binding (the efficacy bounds cannot depend on it): leave `binding` out or set it to false",
        ));
    }
    let Some(below) = &f.below else {
        return Err(ctx.err(
            whole.span(),
            "monitoring.futility.below",
            "the rule needs `below`: the probability in (0, 1) under which a trial stops, e.g. below = 0.1",
        ));
    };
    let below =
        ctx.number(below, "monitoring.futility.below", "a probability in (0, 1)", |x| x > 0.0 && x < 1.0)?;
    if predictive {
        if let Some(under) = &f.under {
            return Err(ctx.err(
                under.span(),
                "monitoring.futility.under",
                "the predictive probability averages over the prior's draws: `under` goes with `rule = \"conditional_power\"`",
            ));
        }
        return Ok(FutilityRule {
            bound: FutilityBound::PredictiveProbability { below },
            binding: false,
            alternative: Alternative::Design,
        });
    }
    let allowed = "\"design\", \"trend\" or \"model\"";
    let Some(under) = &f.under else {
        return Err(ctx.err(
            whole.span(),
            "monitoring.futility.under",
            format!("a conditional-power rule needs `under`: the drift after the look, {allowed}"),
        ));
    };
    let under = match under.get_ref().as_str() {
        "design" => CpDrift::Design,
        "trend" => CpDrift::Trend,
        "model" => CpDrift::Model,
        other => {
            return Err(ctx.out_of_range(
                under.span(),
                "monitoring.futility.under",
                allowed,
                format!("{other:?}"),
            ));
        }
    };
    Ok(FutilityRule {
        bound: FutilityBound::ConditionalPower { below, under },
        binding: false,
        alternative: Alternative::Design,
    })
}

fn futility(ctx: &Ctx, whole: &S<raw::RawFutility>, interims: usize, alpha: f64) -> Result<FutilityRule> {
    let f = whole.get_ref();
    if let Some(rule) = &f.rule {
        return probability_rule(ctx, whole, rule);
    }
    for (key, given) in
        [("below", f.below.as_ref().map(|s| s.span())), ("under", f.under.as_ref().map(|s| s.span()))]
    {
        if let Some(span) = given {
            return Err(ctx.err(
                span,
                format!("monitoring.futility.{key}"),
                format!("`{key}` goes with `rule = \"conditional_power\"` (or `below` with `rule = \"predictive_probability\"`)"),
            ));
        }
    }
    let Some(spending) = &f.spending else {
        return Err(ctx.err(
            whole.span(),
            "monitoring.futility.spending",
            "give the futility bound: `spending` (a β-spending function, `{ z = [...] }` or `{ hr = [...] }`) or `rule = \"conditional_power\"` with `below` and `under`",
        ));
    };
    let bound = match spending.get_ref() {
        RawSpending::Z(z) => FutilityBound::Z(bounds(ctx, z, "monitoring.futility.spending.z", interims)?),
        RawSpending::Hr(hr) => {
            let hr = bounds(ctx, hr, "monitoring.futility.spending.hr", interims)?;
            if let Some((i, h)) = hr.iter().enumerate().find(|(_, h)| **h <= 0.0) {
                return Err(ctx.out_of_range(
                    hr_span(spending, i),
                    format!("monitoring.futility.spending.hr[{i}]"),
                    "a hazard ratio > 0",
                    h,
                ));
            }
            FutilityBound::Hr(hr)
        }
        RawSpending::None => {
            return Err(ctx.err(
                spending.span(),
                "monitoring.futility.spending",
                "leave out [monitoring.futility] for no futility bound",
            ));
        }
        other => {
            let function = function(ctx, other, spending, "monitoring.futility.spending")?;
            let beta = type_ii_error(ctx, f.beta.as_ref(), "monitoring.futility.beta", alpha)?;
            FutilityBound::Spending { beta, function }
        }
    };
    let alternative = match &f.alternative {
        None => Alternative::Design,
        Some(a) => match a.get_ref().as_str() {
            "design" => Alternative::Design,
            "truth" => Alternative::Truth,
            other => {
                return Err(ctx.out_of_range(
                    a.span(),
                    "monitoring.futility.alternative",
                    "\"design\" or \"truth\"",
                    format!("{other:?}"),
                ));
            }
        },
    };
    Ok(FutilityRule { bound, binding: f.binding.unwrap_or(false), alternative })
}

/// `[monitoring.committee]`: the conditional-power threshold and the β of the design's drift.
fn committee(ctx: &Ctx, whole: &S<raw::RawCommittee>, alpha: f64) -> Result<Committee> {
    let c = whole.get_ref();
    let threshold = match &c.threshold {
        Some(t) => ctx.number(t, "monitoring.committee.threshold", "a conditional power in (0, 1)", |x| {
            x > 0.0 && x < 1.0
        })?,
        None => 0.1,
    };
    let beta = type_ii_error(ctx, c.beta.as_ref(), "monitoring.committee.beta", alpha)?;
    Ok(Committee { threshold, beta })
}

/// A β in (0, 1 − α) at `key` (0.2 when not given).
fn type_ii_error(ctx: &Ctx, given: Option<&S<f64>>, key: &str, alpha: f64) -> Result<f64> {
    match given {
        Some(b) => ctx.number(b, key, &format!("a type II error in (0, {})", 1.0 - alpha), |x| {
            x > 0.0 && x < 1.0 - alpha
        }),
        None => Ok(0.2),
    }
}

fn hr_span(spending: &S<RawSpending>, i: usize) -> std::ops::Range<usize> {
    match spending.get_ref() {
        RawSpending::Hr(list) => list.get_ref().get(i).map_or(list.span(), |v| v.span()),
        _ => spending.span(),
    }
}

fn harm(ctx: &Ctx, whole: &S<raw::RawHarm>, interims: usize) -> Result<Harm> {
    let h = whole.get_ref();
    match (&h.z, &h.spending) {
        (Some(z), None) => {
            if h.alpha.is_some() {
                return Err(ctx.err(
                    whole.span(),
                    "monitoring.harm.alpha",
                    "`alpha` goes with `spending`, not with `z`",
                ));
            }
            Ok(Harm::Fixed(bounds(ctx, z, "monitoring.harm.z", interims)?))
        }
        (None, Some(s)) => {
            let function = function(ctx, s.get_ref(), s, "monitoring.harm.spending")?;
            let Some(a) = &h.alpha else {
                return Err(ctx.fail(
                    whole.span(),
                    "monitoring.harm.alpha",
                    ErrorKind::Empty {
                        expected: "the harm bound's own one-sided α (e.g. alpha = 0.1)".into(),
                    },
                ));
            };
            let alpha =
                ctx.number(a, "monitoring.harm.alpha", "a level in (0, 0.5]", |x| x > 0.0 && x <= 0.5)?;
            Ok(Harm::Spending { alpha, function })
        }
        _ => Err(ctx.err(
            whole.span(),
            "monitoring.harm",
            "give either `z = [...]` or `spending` with `alpha`",
        )),
    }
}

fn safety(
    ctx: &Ctx,
    whole: &S<raw::RawSafety>,
    design: &Design,
    arms: &[Arm],
    causes: &[String],
) -> Result<Safety> {
    let s = whole.get_ref();
    let Some(arm) = arms.iter().position(|a| &a.name == s.arm.get_ref()) else {
        let kind = ErrorKind::UnknownName {
            what: Namespace::Arm,
            name: s.arm.get_ref().clone(),
            allowed: arms.iter().map(|a| a.name.clone()).collect(),
        };
        return Err(ctx.fail(s.arm.span(), "monitoring.safety.arm", kind));
    };
    let Some(cause) =
        causes.iter().position(|c| c == s.cause.get_ref()).filter(|&c| arms[arm].causes[c].is_some())
    else {
        let allowed =
            causes.iter().enumerate().filter(|(c, _)| arms[arm].causes[*c].is_some()).map(|(_, n)| n.clone());
        let kind = ErrorKind::UnknownName {
            what: Namespace::CauseOf { arm: arms[arm].name.clone() },
            name: s.cause.get_ref().clone(),
            allowed: allowed.collect(),
        };
        return Err(ctx.fail(s.cause.span(), "monitoring.safety.cause", kind));
    };
    let competing = competing(ctx, s, cause, causes)?;
    if arms[arm].allocation == 0 {
        return Err(ctx.err(
            s.arm.span(),
            "monitoring.safety.arm",
            format!("arm {:?} receives no patients", arms[arm].name),
        ));
    }
    let window = ctx.number(&s.window, "monitoring.safety.window", "a time > 0", |x| x > 0.0)?;
    // The most patients the arm can have: its share of n, rounded up (permuted blocks).
    let total: usize = arms.iter().map(|a| a.allocation).sum();
    let most = (design.n * arms[arm].allocation).div_ceil(total) as i64;
    let after = reviews(ctx, &s.after, most, &arms[arm].name)?;
    let (stop_at, bayes) = match (&s.stop_if_at_least, &s.bayes) {
        (Some(list), None) => (stop_counts(ctx, list, &after)?, None),
        (None, Some(b)) => {
            let rule = bayes(ctx, b.get_ref())?;
            (rule.stopping_counts(&after), Some(rule))
        }
        _ => {
            return Err(ctx.err(
                whole.span(),
                "monitoring.safety",
                "give either `stop_if_at_least = [...]` or `bayes = { prior = [a, b], threshold, probability }`",
            ));
        }
    };
    Ok(Safety { cause, competing, arm, window, after, stop_at, bayes })
}

/// `monitoring.safety.competing`: causes that end a patient's review, other than the monitored one.
fn competing(ctx: &Ctx, s: &raw::RawSafety, cause: usize, causes: &[String]) -> Result<Vec<usize>> {
    let mut competing = Vec::new();
    for (i, name) in s.competing.as_ref().map_or(&[][..], |c| c.get_ref()).iter().enumerate() {
        let key = format!("monitoring.safety.competing[{i}]");
        match causes.iter().position(|c| c == name.get_ref()) {
            Some(c) if c != cause => competing.push(c),
            Some(_) => {
                return Err(ctx.err(name.span(), key, "the monitored cause cannot compete with itself"));
            }
            None => {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Cause,
                    name: name.get_ref().clone(),
                    allowed: causes.to_vec(),
                };
                return Err(ctx.fail(name.span(), key, kind));
            }
        }
    }
    Ok(competing)
}

/// `monitoring.safety.after`: 1 to [`MAX_REVIEWS`] increasing patient counts, each at most `most`
/// (the arm's largest possible size).
fn reviews(ctx: &Ctx, list: &S<Vec<S<i64>>>, most: i64, arm: &str) -> Result<Vec<u32>> {
    if list.get_ref().len() > MAX_REVIEWS {
        return Err(ctx.out_of_range(
            list.span(),
            "monitoring.safety.after",
            format!("at most {MAX_REVIEWS} reviews"),
            format!("{} reviews", list.get_ref().len()),
        ));
    }
    let mut after: Vec<u32> = Vec::new();
    for (i, v) in list.get_ref().iter().enumerate() {
        let key = format!("monitoring.safety.after[{i}]");
        let m = ctx.integer(v, &key, 1, most).map_err(|_| {
            let expected = format!("a number of patients from 1 to {most} (arm {arm:?} has at most {most})");
            ctx.out_of_range(v.span(), key.clone(), expected, v.get_ref())
        })? as u32;
        if let Some(&prev) = after.last()
            && m <= prev
        {
            let kind = ErrorKind::NotIncreasing { found: f64::from(m), after: f64::from(prev) };
            return Err(ctx.fail(v.span(), key, kind));
        }
        after.push(m);
    }
    if after.is_empty() {
        let kind = ErrorKind::Empty { expected: "at least one review".into() };
        return Err(ctx.fail(list.span(), "monitoring.safety.after", kind));
    }
    Ok(after)
}

/// `monitoring.safety.stop_if_at_least`: per review, the events (1 to the patients reviewed)
/// that stop the trial.
fn stop_counts(ctx: &Ctx, list: &S<Vec<S<i64>>>, after: &[u32]) -> Result<Vec<Option<u32>>> {
    if list.get_ref().len() != after.len() {
        return Err(ctx.out_of_range(
            list.span(),
            "monitoring.safety.stop_if_at_least",
            format!("one count per review ({})", after.len()),
            format!("{} counts", list.get_ref().len()),
        ));
    }
    list.get_ref()
        .iter()
        .zip(after)
        .enumerate()
        .map(|(i, (v, &m))| {
            ctx.integer(v, &format!("monitoring.safety.stop_if_at_least[{i}]"), 1, i64::from(m))
                .map(|x| Some(x as u32))
        })
        .collect()
}

/// `monitoring.safety.bayes`: a Beta(a, b) prior, and stop when the posterior probability that
/// the risk exceeds `threshold` reaches `probability`.
fn bayes(ctx: &Ctx, r: &raw::RawBayes) -> Result<BayesRule> {
    let prior = r.prior.get_ref();
    if prior.len() != 2 {
        return Err(ctx.out_of_range(
            r.prior.span(),
            "monitoring.safety.bayes.prior",
            "[a, b]",
            format!("{} numbers", prior.len()),
        ));
    }
    let a = ctx.number(&prior[0], "monitoring.safety.bayes.prior[0]", "a > 0", |x| x > 0.0)?;
    let b = ctx.number(&prior[1], "monitoring.safety.bayes.prior[1]", "b > 0", |x| x > 0.0)?;
    let threshold =
        ctx.number(&r.threshold, "monitoring.safety.bayes.threshold", "a risk in (0, 1)", |x| {
            x > 0.0 && x < 1.0
        })?;
    let probability =
        ctx.number(&r.probability, "monitoring.safety.bayes.probability", "a probability in (0, 1)", |x| {
            x > 0.0 && x < 1.0
        })?;
    Ok(BayesRule { prior: (a, b), threshold, probability })
}
