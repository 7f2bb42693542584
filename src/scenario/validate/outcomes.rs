//! `[outcomes.NAME]`, `[assessments]`, each arm's `outcomes` table, and the composite endpoints
//! `[endpoints.NAME] layers = [...]` (see `scenario::outcomes`).

use super::super::error::{ErrorKind, Namespace};
use super::super::{Assessments, Composite, CompositeLayer, Design, Endpoint, Outcome, OutcomeModel};
use super::raw::{self, RawEndpoint, S, ScalarOrList};
use super::{Ctx, Result};
use crate::time::Time;
use std::collections::BTreeMap;

/// At most this many outcomes and assessments: each patient draws outcomes × assessments normals.
const MAX_OUTCOMES: usize = 16;
const MAX_ASSESSMENTS: usize = 16;
/// At most this many outcome values per trial (n × outcomes × assessments, 8 bytes each): a
/// trial's values are held at once by every worker thread, and 10⁷ patients × 256 values would
/// take 20 GB; 2·10⁷ is 160 MB a worker.
const MAX_VALUES: usize = 20_000_000;
/// At most this many layers in a composite: every patient holds a value per layer.
const MAX_LAYERS: usize = 16;

/// The outcomes and when they are measured, as the arms' tables are read against them.
#[derive(Debug, Default)]
pub(super) struct Schema {
    pub outcomes: Vec<Outcome>,
    pub assessments: Option<Assessments>,
}

/// The longest follow-up any patient can have: the calendar cut when it alone decides (or is the
/// first of several criteria); `None` when an event count or a minimum follow-up can push it later.
fn longest_follow_up(design: &Design) -> Option<Time> {
    let c = &design.cut;
    match (c.calendar, c.events.is_some() || c.min_followup.is_some(), c.rule) {
        (Some(t), false, _) | (Some(t), true, super::super::CutRule::First) => Some(t),
        _ => None,
    }
}

/// `[outcomes]` and `[assessments]`.
pub(super) fn schema(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    causes: &[String],
    design: &Design,
) -> Result<Schema> {
    let outcomes_table = raw.outcomes.as_ref().filter(|t| !t.get_ref().is_empty());
    let (table, a) = match (outcomes_table, &raw.assessments) {
        (None, None) => return Ok(Schema::default()),
        (Some(t), Some(a)) => (t, a),
        (Some(t), None) => {
            let what = "an `[assessments]` table with `at = [...]` (when the outcomes are measured)".into();
            return Err(ctx.fail(t.span(), "assessments", ErrorKind::Missing { what }));
        }
        (None, Some(a)) => {
            return Err(ctx.err(
                a.span(),
                "assessments",
                "`[assessments]` without any `[outcomes.NAME]` to measure",
            ));
        }
    };
    if table.get_ref().len() > MAX_OUTCOMES {
        let expected = format!("at most {MAX_OUTCOMES} outcomes");
        return Err(ctx.out_of_range(table.span(), "outcomes", expected, table.get_ref().len()));
    }
    let mut outcomes = Vec::new();
    for (name, o) in table.get_ref() {
        let key = format!("outcomes.{name}");
        ctx.name(&S::new(o.span(), name.clone()), &key)?;
        let o = o.get_ref();
        let higher_is_better = match o.better.get_ref().as_str() {
            "higher" => true,
            "lower" => false,
            other => {
                return Err(ctx.out_of_range(
                    o.better.span(),
                    format!("{key}.better"),
                    "\"higher\" or \"lower\"",
                    format!("{other:?}"),
                ));
            }
        };
        outcomes.push(Outcome {
            name: name.clone(),
            label: o.label.clone().unwrap_or_else(|| name.clone()),
            unit: o.unit.clone().unwrap_or_default(),
            higher_is_better,
        });
    }
    let a_raw = a.get_ref();
    let at = ctx.breaks(&a_raw.at, "assessments.at")?;
    if at.is_empty() || at.len() > MAX_ASSESSMENTS {
        let expected = format!("from 1 to {MAX_ASSESSMENTS} assessment times");
        return Err(ctx.out_of_range(a_raw.at.span(), "assessments.at", expected, at.len()));
    }
    let values = design.n.saturating_mul(outcomes.len()).saturating_mul(at.len());
    if values > MAX_VALUES {
        return Err(ctx.out_of_range(
            a_raw.at.span(),
            "assessments.at",
            format!("at most {MAX_VALUES} outcome values a trial (design.n × outcomes × assessments)"),
            values,
        ));
    }
    if let Some(limit) = longest_follow_up(design)
        && let Some((i, &t)) = at.iter().enumerate().find(|(_, t)| **t > limit)
    {
        return Err(ctx.out_of_range(
            a_raw.at.get_ref()[i].span(),
            format!("assessments.at[{i}]"),
            format!("a time no later than the longest follow-up, the calendar cut {limit}"),
            t,
        ));
    }
    let over_time = match &a_raw.over_time {
        Some(v) => ctx.number(v, "assessments.over_time", "a correlation from 0 to below 1", |x| {
            (0.0..1.0).contains(&x)
        })?,
        None => DEFAULT_OVER_TIME,
    };
    let k = outcomes.len();
    let mut correlation = super::super::exchangeable(k, 0.0);
    let index = |name: &S<String>, key: &str| {
        outcomes.iter().position(|o| &o.name == name.get_ref()).ok_or_else(|| {
            let kind = ErrorKind::UnknownName {
                what: Namespace::Outcome,
                name: name.get_ref().clone(),
                allowed: outcomes.iter().map(|o| o.name.clone()).collect(),
            };
            ctx.fail(name.span(), key.to_string(), kind)
        })
    };
    if let Some(list) = &a_raw.correlations {
        for (i, c) in list.get_ref().iter().enumerate() {
            let key = format!("assessments.correlations[{i}]");
            let c = c.get_ref();
            let [x, y] = &c.between.get_ref()[..] else {
                return Err(ctx.out_of_range(
                    c.between.span(),
                    format!("{key}.between"),
                    "two outcome names",
                    c.between.get_ref().len(),
                ));
            };
            let (p, q) = (index(x, &format!("{key}.between"))?, index(y, &format!("{key}.between"))?);
            if p == q {
                return Err(ctx.err(y.span(), format!("{key}.between"), "two different outcomes"));
            }
            let r =
                ctx.number(&c.r, &format!("{key}.r"), "a correlation between −1 and 1 (exclusive)", |r| {
                    r.abs() < 1.0
                })?;
            if correlation[p * k + q] != 0.0 {
                let kind =
                    ErrorKind::Duplicate { item: format!("the pair `{}`, `{}`", x.get_ref(), y.get_ref()) };
                return Err(ctx.fail(c.between.span(), format!("{key}.between"), kind));
            }
            correlation[p * k + q] = r;
            correlation[q * k + p] = r;
        }
        if super::super::cholesky(&correlation, k).is_none() {
            return Err(ctx.err(
                list.span(),
                "assessments.correlations",
                "the outcomes' correlation matrix these pairs give is not positive definite (no joint distribution has them): lower some correlations",
            ));
        }
    }
    let not_measured_after = match &a_raw.not_measured_after {
        None => (0..causes.len()).collect(),
        Some(list) => {
            let mut out = Vec::new();
            for c in list.get_ref() {
                let Some(i) = causes.iter().position(|x| x == c.get_ref()) else {
                    let kind = ErrorKind::UnknownName {
                        what: Namespace::Cause,
                        name: c.get_ref().clone(),
                        allowed: causes.to_vec(),
                    };
                    return Err(ctx.fail(c.span(), "assessments.not_measured_after", kind));
                };
                out.push(i);
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    };
    let chol_outcomes = super::super::cholesky(&correlation, k).ok_or_else(|| {
        ctx.err(
            a.span(),
            "assessments.correlations",
            "the outcomes' correlation matrix is not positive definite",
        )
    })?;
    // 0 ≤ over_time < 1 makes the exchangeable matrix positive definite.
    let chol_times = super::super::cholesky(&super::super::exchangeable(at.len(), over_time), at.len())
        .ok_or_else(|| ctx.err(a.span(), "assessments.over_time", "not a valid correlation"))?;
    let assessments =
        Assessments { at, over_time, correlation, chol_outcomes, chol_times, not_measured_after };
    Ok(Schema { outcomes, assessments: Some(assessments) })
}

/// The correlation of one outcome between two assessments when `over_time` is not given: an
/// assumption, stated in docs/composite.md.
pub const DEFAULT_OVER_TIME: f64 = 0.5;

/// One value per assessment: a list of that length, or one number for all.
fn per_assessment(
    ctx: &Ctx,
    v: &S<ScalarOrList>,
    key: &str,
    m: usize,
    expected: &str,
    ok: impl Fn(f64) -> bool,
) -> Result<Vec<f64>> {
    let values = match v.get_ref() {
        ScalarOrList::Scalar(x) => vec![*x; m],
        ScalarOrList::List(xs) if xs.len() == m => xs.clone(),
        ScalarOrList::List(xs) => {
            return Err(ctx.out_of_range(
                v.span(),
                key,
                format!("one number, or {m} (one per assessment)"),
                format!("{} numbers", xs.len()),
            ));
        }
    };
    for (i, &x) in values.iter().enumerate() {
        let x = x + 0.0;
        if !(x.is_finite() && ok(x)) {
            let key = if matches!(v.get_ref(), ScalarOrList::List(_)) {
                format!("{key}[{i}]")
            } else {
                key.to_string()
            };
            return Err(ctx.out_of_range(v.span(), key, expected, x));
        }
    }
    Ok(values)
}

/// An arm's outcome tables by name, each with its dotted key.
pub(super) type ArmOutcomes<'a> = BTreeMap<&'a str, (&'a S<raw::RawOutcomeModel>, String)>;

/// An arm's distribution of every outcome (none without outcomes), from its tables `given`; the
/// arm's table (`span`, `key`) is where a missing outcome is reported.
pub(super) fn models(
    ctx: &Ctx,
    given: &ArmOutcomes,
    (span, arm_key): (&std::ops::Range<usize>, &str),
    schema: &Schema,
) -> Result<Vec<OutcomeModel>> {
    let Some(a) = &schema.assessments else {
        if let Some((_, (m, key))) = given.iter().next() {
            return Err(ctx.err(
                m.span(),
                key.clone(),
                "an outcome's distribution, but the scenario has no `[outcomes.NAME]`",
            ));
        }
        return Ok(Vec::new());
    };
    for (name, (m, key)) in given {
        if !schema.outcomes.iter().any(|o| &o.name == name) {
            let kind = ErrorKind::UnknownName {
                what: Namespace::Outcome,
                name: name.to_string(),
                allowed: schema.outcomes.iter().map(|o| o.name.clone()).collect(),
            };
            return Err(ctx.fail(m.span(), key.clone(), kind));
        }
    }
    let m = a.at.len();
    let mut out = Vec::with_capacity(schema.outcomes.len());
    for o in &schema.outcomes {
        let Some((model, key)) = given.get(o.name.as_str()) else {
            let what =
                format!("`outcomes.{} = {{ mean = ..., sd = ... }}` (every arm gives every outcome)", o.name);
            return Err(ctx.fail(span.clone(), format!("{arm_key}.outcomes"), ErrorKind::Missing { what }));
        };
        let mean =
            per_assessment(ctx, &model.get_ref().mean, &format!("{key}.mean"), m, "a finite number", |_| {
                true
            })?;
        let sd =
            per_assessment(ctx, &model.get_ref().sd, &format!("{key}.sd"), m, "an SD ≥ 0", |x| x >= 0.0)?;
        out.push(OutcomeModel { mean, sd });
    }
    Ok(out)
}

/// The composite endpoints, `[endpoints.NAME] layers = [...]`, in name order.
pub(super) fn composites(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    endpoints: &[Endpoint],
    schema: &Schema,
    design: &Design,
) -> Result<Vec<Composite>> {
    let mut out = Vec::new();
    for (name, e) in raw.endpoints.get_ref() {
        let RawEndpoint::Composite(c) = e.get_ref() else { continue };
        let key = format!("endpoints.{name}");
        ctx.name(&S::new(e.span(), name.clone()), &key)?;
        if c.layers.get_ref().is_empty() {
            let kind = ErrorKind::Empty { expected: "at least one layer".into() };
            return Err(ctx.fail(c.layers.span(), format!("{key}.layers"), kind));
        }
        if c.layers.get_ref().len() > MAX_LAYERS {
            let expected = format!("at most {MAX_LAYERS} layers");
            return Err(ctx.out_of_range(
                c.layers.span(),
                format!("{key}.layers"),
                expected,
                c.layers.get_ref().len(),
            ));
        }
        let mut layers = Vec::new();
        for (i, l) in c.layers.get_ref().iter().enumerate() {
            let lk = format!("{key}.layers[{i}]");
            layers.push(layer(ctx, l, &lk, endpoints, schema, design)?);
        }
        out.push(Composite {
            name: name.clone(),
            label: c.label.clone().unwrap_or_else(|| name.clone()),
            layers,
        });
    }
    Ok(out)
}

/// One layer: `{ endpoint, until }` or `{ outcome, at, margin }`.
fn layer(
    ctx: &Ctx,
    l: &S<raw::RawLayer>,
    key: &str,
    endpoints: &[Endpoint],
    schema: &Schema,
    design: &Design,
) -> Result<CompositeLayer> {
    let r = l.get_ref();
    let beyond = |v: &S<f64>, k: String, t: f64| -> Result<()> {
        match longest_follow_up(design) {
            Some(limit) if t > limit => Err(ctx.out_of_range(
                v.span(),
                k,
                format!("a time no later than the longest follow-up, the calendar cut {limit}"),
                t,
            )),
            _ => Ok(()),
        }
    };
    match (&r.endpoint, &r.outcome) {
        (Some(ep), None) => {
            if r.at.is_some() || r.margin.is_some() {
                return Err(ctx.err(l.span(), key.to_string(), "a time-to-event layer has `endpoint` and `until`; `at` and `margin` belong to an `outcome` layer"));
            }
            let Some(endpoint) = endpoints.iter().position(|e| &e.name == ep.get_ref()) else {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Endpoint,
                    name: ep.get_ref().clone(),
                    allowed: endpoints.iter().map(|e| e.name.clone()).collect(),
                };
                return Err(ctx.fail(ep.span(), format!("{key}.endpoint"), kind));
            };
            let until = match &r.until {
                Some(v) => {
                    let t = ctx.number(v, &format!("{key}.until"), "a positive time", |x| x > 0.0)?;
                    beyond(v, format!("{key}.until"), t)?;
                    Some(t)
                }
                None => None,
            };
            Ok(CompositeLayer::Event { endpoint, until })
        }
        (None, Some(o)) => {
            if r.until.is_some() {
                return Err(ctx.err(l.span(), key.to_string(), "an outcome layer has `outcome`, `at` and `margin`; `until` belongs to an `endpoint` layer"));
            }
            let Some(outcome) = schema.outcomes.iter().position(|x| &x.name == o.get_ref()) else {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Outcome,
                    name: o.get_ref().clone(),
                    allowed: schema.outcomes.iter().map(|x| x.name.clone()).collect(),
                };
                return Err(ctx.fail(o.span(), format!("{key}.outcome"), kind));
            };
            let times = schema.assessments.as_ref().map_or(&[][..], |a| &a.at[..]);
            let Some(v) = &r.at else {
                let what = format!("`at`, the assessment compared (one of {})", times.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "));
                return Err(ctx.fail(l.span(), format!("{key}.at"), ErrorKind::Missing { what }));
            };
            let t = ctx.number(v, &format!("{key}.at"), "a positive time", |x| x > 0.0)?;
            beyond(v, format!("{key}.at"), t)?;
            let Some(at) = times.iter().position(|&x| x == t) else {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Assessment,
                    name: t.to_string(),
                    allowed: times.iter().map(|t| t.to_string()).collect(),
                };
                return Err(ctx.fail(v.span(), format!("{key}.at"), kind));
            };
            let margin = match &r.margin {
                Some(m) => ctx.number(m, &format!("{key}.margin"), "a margin ≥ 0", |x| x >= 0.0)?,
                None => 0.0,
            };
            Ok(CompositeLayer::Outcome { outcome, at, margin })
        }
        _ => Err(ctx.err(
            l.span(),
            key.to_string(),
            "a layer is `{ endpoint = \"NAME\", until = T }` (time to event) or `{ outcome = \"NAME\", at = T, margin = M }` (continuous): give exactly one of `endpoint` and `outcome`",
        )),
    }
}
