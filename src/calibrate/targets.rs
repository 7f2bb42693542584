//! A study file's published figures (`[[targets]]`) and free parameters (`[calibrate]`),
//! validated against the scenario they belong to: every arm, endpoint and cause they name exists,
//! probabilities lie in [0, 1] inside their confidence intervals, counts fit in their arms, the
//! multinomial cells of the likelihood are disjoint (DESIGN.md § Calibrating: each patient counts
//! once), and every free key names a number of this scenario within its bounds.

use std::ops::Range;

use toml::Table;

use crate::Years;
use crate::scenario::raw::{self, S};
use crate::scenario::{Arm, Ctx, Document, Endpoint, ErrorKind, Scenario, ScenarioError, list, overrides};

type Result<T> = std::result::Result<T, ScenarioError>;

/// One published figure the model can speak to.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub name: String,
    pub kind: TargetKind,
    /// The published value: a count, a probability or a hazard ratio.
    pub value: f64,
    pub role: Role,
    /// Where the figure comes from, and how it was derived; printed in the reports.
    pub source: String,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TargetKind {
    /// Patients of `arm` (the first `patients` of them) whose first `endpoint` event is one of
    /// `causes` and is observed in (from, to] of time since randomisation.
    Count { arm: usize, endpoint: usize, causes: Vec<usize>, from: Years, to: Years, patients: usize },
    /// Kaplan–Meier S(time) of `endpoint` in `arm`, or 1 − S(time) when `failure`.
    Survival { arm: usize, endpoint: usize, time: Years, failure: bool, ci: Option<(f64, f64)> },
    /// The experimental-versus-control hazard ratio of `endpoint` for events after `after`
    /// (the late period of a Cox model with a period break there).
    HazardRatio { endpoint: usize, after: Years, ci: Option<(f64, f64)> },
}

/// How a figure enters the likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Counts: a cell of the multinomial of its (arm, endpoint, patients) group; probabilities
    /// and hazard ratios: a normal term (logit or log scale) with the SE from the published CI.
    Fit,
    /// A count that splits events the group's cells already hold (e.g. organ failures among all
    /// events): the number of them among the cells' events, a sum of binomials.
    Split,
    /// Restates other figures: in the predictive check only.
    Check,
}

impl Target {
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            TargetKind::Count { .. } => "count",
            TargetKind::Survival { failure: false, .. } => "survival",
            TargetKind::Survival { failure: true, .. } => "failure",
            TargetKind::HazardRatio { .. } => "hazard_ratio",
        }
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Fit => "fit",
            Role::Split => "split",
            Role::Check => "check",
        }
    }
}

/// `[calibrate]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibrate {
    /// Nelder–Mead starts (the file's values, then points spread over the bounds).
    pub starts: usize,
    pub free: Vec<FreeParameter>,
}

/// A free parameter: one value written to every key in `keys`. Parameters with the same name in
/// several study files are shared in a joint fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeParameter {
    pub name: String,
    pub keys: Vec<String>,
    pub lower: f64,
    pub upper: f64,
    /// The value written in the file (the first start).
    pub initial: f64,
}

/// A study file's `[[targets]]` and `[calibrate]`, validated against its scenario: every arm,
/// endpoint and cause they name exists, and every free key is a number of the scenario.
#[derive(Debug, Clone)]
pub struct StudyTables {
    /// The published figures; empty for a planning scenario.
    pub targets: Vec<Target>,
    /// The free parameters; `None` without a `[calibrate]` table.
    pub calibrate: Option<Calibrate>,
}

/// The study tables of a document whose scenario is `sc`.
pub fn study_tables(doc: &Document, sc: &Scenario) -> Result<StudyTables> {
    let ctx = doc.ctx();
    let raw = doc.raw();
    let alloc_sum: usize = sc.arms.iter().map(|a| a.allocation).sum();
    let names = Names {
        arms: &sc.arms,
        causes: &sc.causes,
        endpoints: &sc.endpoints,
        arm_patients: sc
            .arms
            .iter()
            .map(|a| (sc.design.n as f64 * a.allocation as f64 / alloc_sum as f64).round() as usize)
            .collect(),
        two_arms: sc.comparison.is_some(),
    };
    let targets = match &raw.targets {
        Some(t) => targets(&ctx, t, &names)?,
        None => Vec::new(),
    };
    let calibrate = match &raw.calibrate {
        None => None,
        Some(c) => {
            let table: toml::Table = toml::from_str(doc.text()).map_err(|e| {
                ScenarioError::new(doc.path(), ErrorKind::Syntax { message: e.message().to_string() })
            })?;
            Some(calibrate(&ctx, c, &table)?)
        }
    };
    Ok(StudyTables { targets, calibrate })
}

struct Names<'a> {
    arms: &'a [Arm],
    causes: &'a [String],
    endpoints: &'a [Endpoint],
    /// Patients per arm expected under the allocation (n · share, rounded).
    arm_patients: Vec<usize>,
    two_arms: bool,
}

fn targets(ctx: &Ctx, raw: &S<Vec<S<raw::RawTarget>>>, names: &Names) -> Result<Vec<Target>> {
    let mut out: Vec<Target> = Vec::new();
    let mut spans: Vec<Range<usize>> = Vec::new();
    for (i, t) in raw.get_ref().iter().enumerate() {
        let target = target(ctx, t.get_ref(), i, names)?;
        if let Some(j) = out.iter().position(|o| o.name == target.name) {
            return Err(ctx.err(
                t.get_ref().name.span(),
                format!("targets[{i}].name"),
                format!("`{}` is already the name of targets[{j}]", target.name),
            ));
        }
        out.push(target);
        spans.push(t.span());
    }
    cells_are_disjoint(ctx, &out, &spans)?;
    Ok(out)
}

fn target(ctx: &Ctx, t: &raw::RawTarget, i: usize, names: &Names) -> Result<Target> {
    let key = |field: &str| format!("targets[{i}].{field}");
    let name = ctx.name(&t.name, &key("name"))?;
    let kind_name = t.kind.get_ref().as_str();
    let role = match t.role.as_ref().map(|r| r.get_ref().as_str()) {
        None | Some("fit") => Role::Fit,
        Some("split") => Role::Split,
        Some("check") => Role::Check,
        Some(other) => {
            let span = t.role.as_ref().map_or(0..0, |r| r.span());
            return Err(ctx.err(
                span,
                key("role"),
                format!("expected `fit`, `split` or `check`, found `{other}`"),
            ));
        }
    };
    let endpoint = match &t.endpoint {
        Some(e) => Some(names.endpoints.iter().position(|x| &x.name == e.get_ref()).ok_or_else(|| {
            ctx.err(
                e.span(),
                key("endpoint"),
                format!(
                    "no endpoint named `{}`; endpoints are: {}",
                    e.get_ref(),
                    list(names.endpoints.iter().map(|e| &e.name))
                ),
            )
        })?),
        None => None,
    };
    let need_endpoint = || {
        endpoint.ok_or_else(|| {
            ctx.err(
                t.kind.span(),
                key("endpoint"),
                format!("missing: a `{kind_name}` target names its endpoint"),
            )
        })
    };
    let arm = match &t.arm {
        Some(a) => {
            let Some(ai) = names
                .arms
                .iter()
                .position(|x| &x.name == a.get_ref())
                .filter(|&k| names.arms[k].allocation > 0)
            else {
                let allocated = names.arms.iter().filter(|a| a.allocation > 0).map(|a| &a.name);
                return Err(ctx.err(
                    a.span(),
                    key("arm"),
                    format!(
                        "no allocated arm named `{}`; allocated arms are: {}",
                        a.get_ref(),
                        list(allocated)
                    ),
                ));
            };
            Some(ai)
        }
        None => None,
    };
    let need_arm = || {
        arm.ok_or_else(|| {
            ctx.err(t.kind.span(), key("arm"), format!("missing: a `{kind_name}` target names its arm"))
        })
    };
    let ci = match &t.ci {
        None => None,
        Some(ci) => {
            let v: Vec<f64> = ci.get_ref().iter().map(|x| *x.get_ref()).collect();
            let [lo, hi] = v.as_slice() else {
                return Err(ctx.err(
                    ci.span(),
                    key("ci"),
                    format!("expected [lower, upper], found {} numbers", v.len()),
                ));
            };
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return Err(ctx.err(
                    ci.span(),
                    key("ci"),
                    format!("expected lower < upper, found [{lo}, {hi}]"),
                ));
            }
            Some((*lo, *hi))
        }
    };
    let value_span = t.value.span();
    let value = *t.value.get_ref();
    let check_ci = |ci: Option<(f64, f64)>, lo_ok: f64, hi_ok: f64| -> Result<()> {
        if let Some((lo, hi)) = ci {
            if lo < lo_ok || hi > hi_ok {
                let span = t.ci.as_ref().map_or(0..0, |c| c.span());
                return Err(ctx.err(
                    span,
                    key("ci"),
                    format!("expected limits within [{lo_ok}, {hi_ok}], found [{lo}, {hi}]"),
                ));
            }
            if !(lo <= value && value <= hi) {
                let span = t.ci.as_ref().map_or(0..0, |c| c.span());
                return Err(ctx.err(
                    span,
                    key("ci"),
                    format!("the interval [{lo}, {hi}] does not contain the value {value}"),
                ));
            }
        } else if role == Role::Fit {
            return Err(ctx.err(
                value_span.clone(),
                key("ci"),
                format!("missing: a `{kind_name}` target in the fit needs its 95% CI (or role = \"check\")"),
            ));
        }
        Ok(())
    };
    let forbid = |field: &str, present: bool, span: Option<Range<usize>>| -> Result<()> {
        if present {
            return Err(ctx.err(
                span.unwrap_or(0..0),
                key(field),
                format!("not a field of a `{kind_name}` target"),
            ));
        }
        Ok(())
    };
    let kind = match kind_name {
        "count" => {
            let arm = need_arm()?;
            let endpoint = need_endpoint()?;
            let ep = &names.endpoints[endpoint];
            let causes = match &t.causes {
                None => ep.causes.clone(),
                Some(list_) => {
                    let mut idx = Vec::new();
                    for (j, c) in list_.get_ref().iter().enumerate() {
                        let Some(k) = names
                            .causes
                            .iter()
                            .position(|x| x == c.get_ref())
                            .filter(|k| ep.causes.contains(k))
                        else {
                            let of_ep = ep.causes.iter().map(|&k| &names.causes[k]);
                            return Err(ctx.err(
                                c.span(),
                                key(&format!("causes[{j}]")),
                                format!(
                                    "`{}` is not a cause of endpoint `{}`; its causes are: {}",
                                    c.get_ref(),
                                    ep.name,
                                    list(of_ep)
                                ),
                            ));
                        };
                        if !idx.contains(&k) {
                            idx.push(k);
                        }
                    }
                    if idx.is_empty() {
                        return Err(ctx.err(list_.span(), key("causes"), "expected at least one cause"));
                    }
                    idx.sort_unstable();
                    idx
                }
            };
            let from = match &t.from {
                Some(f) => ctx.number(f, &key("from"), "a time ≥ 0", |x| x >= 0.0)?,
                None => 0.0,
            };
            let to = match &t.to {
                Some(x) => ctx.number(x, &key("to"), &format!("a time > from = {from}"), |v| v > from)?,
                None => f64::INFINITY,
            };
            let patients = match &t.patients {
                Some(p) => {
                    ctx.integer(p, &key("patients"), 1, names.arm_patients[arm].max(1) as i64)? as usize
                }
                None => names.arm_patients[arm],
            };
            if !(value >= 0.0 && value.fract() == 0.0 && value <= patients as f64) {
                return Err(ctx.err(
                    value_span,
                    key("value"),
                    format!("expected a whole number of patients from 0 to {patients}, found {value}"),
                ));
            }
            forbid("time", t.time.is_some(), t.time.as_ref().map(|x| x.span()))?;
            forbid("ci", t.ci.is_some(), t.ci.as_ref().map(|x| x.span()))?;
            forbid("after", t.after.is_some(), t.after.as_ref().map(|x| x.span()))?;
            TargetKind::Count { arm, endpoint, causes, from, to, patients }
        }
        "survival" | "failure" => {
            let arm = need_arm()?;
            let endpoint = need_endpoint()?;
            let time = match &t.time {
                Some(x) => ctx.number(x, &key("time"), "a time > 0", |v| v > 0.0)?,
                None => {
                    return Err(ctx.err(
                        t.kind.span(),
                        key("time"),
                        "missing: the time of the Kaplan–Meier figure",
                    ));
                }
            };
            if !(0.0..=1.0).contains(&value) {
                return Err(ctx.err(
                    value_span,
                    key("value"),
                    format!("expected a probability in [0, 1], found {value}"),
                ));
            }
            if role == Role::Split {
                return Err(ctx.err(
                    t.role.as_ref().map_or(0..0, |r| r.span()),
                    key("role"),
                    "only a count can split",
                ));
            }
            check_ci(ci, 0.0, 1.0)?;
            for (f, present) in [
                ("causes", t.causes.is_some()),
                ("from", t.from.is_some()),
                ("to", t.to.is_some()),
                ("patients", t.patients.is_some()),
                ("after", t.after.is_some()),
            ] {
                forbid(f, present, Some(t.kind.span()))?;
            }
            TargetKind::Survival { arm, endpoint, time, failure: kind_name == "failure", ci }
        }
        "hazard_ratio" => {
            if !names.two_arms {
                return Err(ctx.err(
                    t.kind.span(),
                    key("kind"),
                    "a hazard ratio needs two allocated arms (a control and an experimental arm)",
                ));
            }
            let endpoint = need_endpoint()?;
            let after = match &t.after {
                Some(x) => ctx.number(x, &key("after"), "a time ≥ 0", |v| v >= 0.0)?,
                None => 0.0,
            };
            if !(value > 0.0 && value.is_finite()) {
                return Err(ctx.err(
                    value_span,
                    key("value"),
                    format!("expected a hazard ratio > 0, found {value}"),
                ));
            }
            if role == Role::Split {
                return Err(ctx.err(
                    t.role.as_ref().map_or(0..0, |r| r.span()),
                    key("role"),
                    "only a count can split",
                ));
            }
            check_ci(ci, f64::MIN_POSITIVE, f64::MAX)?;
            for (f, present) in [
                ("arm", t.arm.is_some()),
                ("causes", t.causes.is_some()),
                ("time", t.time.is_some()),
                ("patients", t.patients.is_some()),
            ] {
                forbid(f, present, Some(t.kind.span()))?;
            }
            TargetKind::HazardRatio { endpoint, after, ci }
        }
        other => {
            return Err(ctx.err(
                t.kind.span(),
                key("kind"),
                format!("expected `count`, `survival`, `failure` or `hazard_ratio`, found `{other}`"),
            ));
        }
    };
    Ok(Target {
        name,
        kind,
        value,
        role,
        source: t.source.clone().unwrap_or_default(),
        note: t.note.clone().unwrap_or_default(),
    })
}

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

/// The group of a count: (arm, endpoint, patients).
pub fn group(kind: &TargetKind) -> Option<(usize, usize, usize)> {
    match kind {
        TargetKind::Count { arm, endpoint, patients, .. } => Some((*arm, *endpoint, *patients)),
        _ => None,
    }
}

fn cells_are_disjoint(ctx: &Ctx, targets: &[Target], spans: &[Range<usize>]) -> Result<()> {
    let cells: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].role == Role::Fit && group(&targets[i].kind).is_some())
        .collect();
    for (x, &i) in cells.iter().enumerate() {
        for &j in &cells[..x] {
            // Same arm and endpoint: even with different `patients` they may share patients.
            if group(&targets[i].kind).map(|g| (g.0, g.1)) == group(&targets[j].kind).map(|g| (g.0, g.1))
                && overlaps(&targets[i].kind, &targets[j].kind)
            {
                return Err(ctx.err(
                    spans[i].clone(),
                    format!("targets[{i}]"),
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
            return Err(ctx.err(
                spans[i].clone(),
                format!("targets[{i}]"),
                format!("the cells of this arm and endpoint add to {sum} patients, more than {patients}"),
            ));
        }
    }
    // A split lies inside its group's cells: each cell either holds all of the split's causes in
    // part of its interval, or none; and for each of its causes the cells tile (from, to].
    for (i, t) in targets.iter().enumerate().filter(|(_, t)| t.role == Role::Split) {
        let TargetKind::Count { causes, from, to, .. } = &t.kind else {
            continue;
        };
        let g = group(&t.kind);
        let members: Vec<&Target> =
            cells.iter().map(|&j| &targets[j]).filter(|c| group(&c.kind) == g).collect();
        let bad = |why: String| {
            ctx.err(spans[i].clone(), format!("targets[{i}]"), format!("split `{}`: {why}", t.name))
        };
        if let Some(other) = targets[..i].iter().find(|o| o.role == Role::Split && group(&o.kind) == g) {
            // Two splits of the same cells would be two binomials where the truth is one
            // multinomial; one split per arm and endpoint keeps the likelihood exact.
            return Err(bad(format!(
                "`{}` already splits this arm and endpoint; give at most one split each",
                other.name
            )));
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
            return Err(bad(format!("{} events, but the cells it splits hold only {holding}", t.value)));
        }
        for &k in causes {
            let mut pieces: Vec<(f64, f64)> = Vec::new();
            for c in &members {
                let TargetKind::Count { causes: cc, from: cf, to: ct, .. } = &c.kind else { continue };
                if !cc.contains(&k) || cf.max(*from) >= ct.min(*to) {
                    continue;
                }
                if cf < from || ct > to {
                    return Err(bad(format!("cell `{}` reaches outside ({from}, {to}]", c.name)));
                }
                pieces.push((*cf, *ct));
            }
            pieces.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut at = *from;
            for (a, b) in pieces {
                if a != at {
                    return Err(bad(format!(
                        "no cell of its arm and endpoint covers ({at}, {a}] for this cause"
                    )));
                }
                at = b;
            }
            if at != *to {
                return Err(bad(format!(
                    "no cell of its arm and endpoint covers ({at}, {to}] for this cause"
                )));
            }
        }
    }
    Ok(())
}

fn calibrate(ctx: &Ctx, raw: &S<raw::RawCalibrate>, table: &Table) -> Result<Calibrate> {
    let c = raw.get_ref();
    let starts = match &c.starts {
        Some(s) => ctx.integer(s, "calibrate.starts", 1, 1000)? as usize,
        None => 6,
    };
    if c.free.get_ref().is_empty() {
        return Err(ctx.err(c.free.span(), "calibrate.free", "expected at least one free parameter"));
    }
    let mut free = Vec::new();
    for (name, f) in c.free.get_ref() {
        let key = format!("calibrate.free.{name}");
        let b = f.get_ref().bounds.get_ref();
        let [lower, upper] = b.as_slice() else {
            return Err(ctx.err(
                f.get_ref().bounds.span(),
                format!("{key}.bounds"),
                format!("expected [lower, upper], found {} numbers", b.len()),
            ));
        };
        if !(lower.is_finite() && upper.is_finite() && lower < upper) {
            return Err(ctx.err(
                f.get_ref().bounds.span(),
                format!("{key}.bounds"),
                format!("expected finite bounds with lower < upper, found [{lower}, {upper}]"),
            ));
        }
        let keys: Vec<(String, Range<usize>)> = match &f.get_ref().keys {
            Some(k) => k.get_ref().iter().map(|s| (s.get_ref().clone(), s.span())).collect(),
            None => vec![(name.clone(), f.span())],
        };
        if keys.is_empty() {
            return Err(ctx.err(f.span(), format!("{key}.keys"), "expected at least one dotted key"));
        }
        let mut initial = None;
        for (k, span) in &keys {
            if k.starts_with("calibrate") || k.starts_with("targets") {
                return Err(ctx.err(
                    span.clone(),
                    key.clone(),
                    format!("`{k}` is not a model or design number"),
                ));
            }
            let v = overrides::numeric(table, k).map_err(|m| ctx.err(span.clone(), key.clone(), m))?;
            if let Some(v) = v {
                if !(*lower..=*upper).contains(&v) {
                    return Err(ctx.err(
                        span.clone(),
                        key.clone(),
                        format!("the file's value of `{k}`, {v}, is outside the bounds [{lower}, {upper}]"),
                    ));
                }
                initial.get_or_insert(v);
            }
        }
        free.push(FreeParameter {
            name: name.clone(),
            keys: keys.into_iter().map(|(k, _)| k).collect(),
            lower: *lower,
            upper: *upper,
            initial: initial.unwrap_or(0.5 * (lower + upper)),
        });
    }
    Ok(Calibrate { starts, free })
}
