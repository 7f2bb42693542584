//! One `[[targets]]` entry: the fields every kind shares, then one function per kind (count,
//! Kaplan–Meier figure, hazard ratio) with its own checks.

use std::ops::Range;

use super::{Names, Role, Target, TargetKind};
use crate::scenario::raw;
use crate::scenario::{Ctx, ScenarioError, list};

type Result<T> = std::result::Result<T, ScenarioError>;

/// `arm`: an arm that receives patients.
fn arm(ctx: &Ctx, t: &raw::RawTarget, names: &Names, key: &str) -> Result<Option<usize>> {
    let Some(a) = &t.arm else { return Ok(None) };
    let allocated = |k: &usize| names.arms[*k].allocation > 0;
    match names.arms.iter().position(|x| &x.name == a.get_ref()).filter(allocated) {
        Some(ai) => Ok(Some(ai)),
        None => {
            let allocated = names.arms.iter().filter(|a| a.allocation > 0).map(|a| &a.name);
            Err(ctx.err(
                a.span(),
                key,
                format!("no allocated arm named `{}`; allocated arms are: {}", a.get_ref(), list(allocated)),
            ))
        }
    }
}

/// `ci = [lower, upper]`: two finite numbers in increasing order.
fn ci(ctx: &Ctx, t: &raw::RawTarget, key: &str) -> Result<Option<(f64, f64)>> {
    let Some(ci) = &t.ci else { return Ok(None) };
    let v: Vec<f64> = ci.get_ref().iter().map(|x| *x.get_ref() + 0.0).collect();
    let [lo, hi] = v.as_slice() else {
        return Err(ctx.err(ci.span(), key, format!("expected [lower, upper], found {} numbers", v.len())));
    };
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(ctx.err(ci.span(), key, format!("expected lower < upper, found [{lo}, {hi}]")));
    }
    Ok(Some((*lo, *hi)))
}

/// Target `i`, checked in this order: name, role, endpoint, arm, CI, then its kind's fields.
pub(super) fn target(ctx: &Ctx, t: &raw::RawTarget, i: usize, names: &Names) -> Result<Target> {
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
    let arm = arm(ctx, t, names, &key("arm"))?;
    let ci = ci(ctx, t, &key("ci"))?;
    let f = Fields { ctx, t, i, names, kind_name, role, endpoint, arm, ci, value: *t.value.get_ref() + 0.0 };
    if !kind_name.starts_with("outcome_") {
        for (field, v) in [
            ("outcome", &t.outcome.as_ref().map(|x| x.span())),
            ("below", &t.below.as_ref().map(|x| x.span())),
            ("above", &t.above.as_ref().map(|x| x.span())),
        ] {
            f.forbid(field, v.is_some(), v.clone())?;
        }
    }
    let kind = match kind_name {
        "count" => count(&f)?,
        "survival" | "failure" => kaplan_meier(&f)?,
        "hazard_ratio" => hazard_ratio(&f)?,
        "outcome_mean" | "outcome_share" => outcome(&f)?,
        other => {
            return Err(ctx.err(
                t.kind.span(),
                key("kind"),
                format!("expected `count`, `survival`, `failure`, `hazard_ratio`, `outcome_mean` or `outcome_share`, found `{other}`"),
            ));
        }
    };
    Ok(Target {
        name,
        kind,
        value: f.value,
        role,
        source: t.source.clone().unwrap_or_default(),
        note: t.note.clone().unwrap_or_default(),
    })
}

/// What every kind of target shares, resolved once.
struct Fields<'a> {
    ctx: &'a Ctx<'a>,
    t: &'a raw::RawTarget,
    i: usize,
    names: &'a Names<'a>,
    kind_name: &'a str,
    role: Role,
    endpoint: Option<usize>,
    arm: Option<usize>,
    ci: Option<(f64, f64)>,
    value: f64,
}

impl Fields<'_> {
    fn key(&self, field: &str) -> String {
        format!("targets[{}].{field}", self.i)
    }

    fn value_span(&self) -> Range<usize> {
        self.t.value.span()
    }

    fn need_endpoint(&self) -> Result<usize> {
        self.endpoint.ok_or_else(|| {
            self.ctx.err(
                self.t.kind.span(),
                self.key("endpoint"),
                format!("missing: a `{}` target names its endpoint", self.kind_name),
            )
        })
    }

    fn need_arm(&self) -> Result<usize> {
        self.arm.ok_or_else(|| {
            self.ctx.err(
                self.t.kind.span(),
                self.key("arm"),
                format!("missing: a `{}` target names its arm", self.kind_name),
            )
        })
    }

    /// The CI lies within [lo_ok, hi_ok] and holds the value; a figure in the fit needs one.
    fn check_ci(&self, lo_ok: f64, hi_ok: f64) -> Result<()> {
        let value = self.value;
        if let Some((lo, hi)) = self.ci {
            let span = self.t.ci.as_ref().map_or(0..0, |c| c.span());
            if lo < lo_ok || hi > hi_ok {
                return Err(self.ctx.err(
                    span,
                    self.key("ci"),
                    format!("expected limits within [{lo_ok}, {hi_ok}], found [{lo}, {hi}]"),
                ));
            }
            if !(lo <= value && value <= hi) {
                return Err(self.ctx.err(
                    span,
                    self.key("ci"),
                    format!("the interval [{lo}, {hi}] does not contain the value {value}"),
                ));
            }
        } else if self.role == Role::Fit {
            return Err(self.ctx.err(
                self.value_span(),
                self.key("ci"),
                format!(
                    "missing: a `{}` target in the fit needs its 95% CI (or role = \"check\")",
                    self.kind_name
                ),
            ));
        }
        Ok(())
    }

    /// Only a count can split the events of other cells.
    fn no_split(&self) -> Result<()> {
        if self.role == Role::Split {
            return Err(self.ctx.err(
                self.t.role.as_ref().map_or(0..0, |r| r.span()),
                self.key("role"),
                "only a count can split",
            ));
        }
        Ok(())
    }

    /// A field that this kind does not have.
    fn forbid(&self, field: &str, present: bool, span: Option<Range<usize>>) -> Result<()> {
        if present {
            return Err(self.ctx.err(
                span.unwrap_or(0..0),
                self.key(field),
                format!("not a field of a `{}` target", self.kind_name),
            ));
        }
        Ok(())
    }
}

/// A count of patients with a first event of some causes in (from, to].
fn count(f: &Fields) -> Result<TargetKind> {
    let arm = f.need_arm()?;
    let endpoint = f.need_endpoint()?;
    let ep = &f.names.endpoints[endpoint];
    let causes = match &f.t.causes {
        None => ep.causes.clone(),
        Some(list_) => {
            let mut idx = Vec::new();
            for (j, c) in list_.get_ref().iter().enumerate() {
                let Some(k) =
                    f.names.causes.iter().position(|x| x == c.get_ref()).filter(|k| ep.causes.contains(k))
                else {
                    let of_ep = ep.causes.iter().map(|&k| &f.names.causes[k]);
                    return Err(f.ctx.err(
                        c.span(),
                        f.key(&format!("causes[{j}]")),
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
                return Err(f.ctx.err(list_.span(), f.key("causes"), "expected at least one cause"));
            }
            idx.sort_unstable();
            idx
        }
    };
    let from = match &f.t.from {
        Some(x) => f.ctx.number(x, &f.key("from"), "a time ≥ 0", |x| x >= 0.0)?,
        None => 0.0,
    };
    let to = match &f.t.to {
        Some(x) => f.ctx.number(x, &f.key("to"), &format!("a time > from = {from}"), |v| v > from)?,
        None => f64::INFINITY,
    };
    let patients = match &f.t.patients {
        Some(p) => f.ctx.integer(p, &f.key("patients"), 1, f.names.arm_patients[arm].max(1) as i64)? as usize,
        None => f.names.arm_patients[arm],
    };
    if !(f.value >= 0.0 && f.value.fract() == 0.0 && f.value <= patients as f64) {
        return Err(f.ctx.err(
            f.value_span(),
            f.key("value"),
            format!("expected a whole number of patients from 0 to {patients}, found {}", f.value),
        ));
    }
    f.forbid("time", f.t.time.is_some(), f.t.time.as_ref().map(|x| x.span()))?;
    f.forbid("ci", f.t.ci.is_some(), f.t.ci.as_ref().map(|x| x.span()))?;
    f.forbid("after", f.t.after.is_some(), f.t.after.as_ref().map(|x| x.span()))?;
    Ok(TargetKind::Count { arm, endpoint, causes, from, to, patients })
}

/// A Kaplan–Meier figure S(time), or 1 − S(time) for `failure`.
fn kaplan_meier(f: &Fields) -> Result<TargetKind> {
    let arm = f.need_arm()?;
    let endpoint = f.need_endpoint()?;
    let time = match &f.t.time {
        Some(x) => f.ctx.number(x, &f.key("time"), "a time > 0", |v| v > 0.0)?,
        None => {
            return Err(f.ctx.err(
                f.t.kind.span(),
                f.key("time"),
                "missing: the time of the Kaplan–Meier figure",
            ));
        }
    };
    if !(0.0..=1.0).contains(&f.value) {
        return Err(f.ctx.err(
            f.value_span(),
            f.key("value"),
            format!("expected a probability in [0, 1], found {}", f.value),
        ));
    }
    f.no_split()?;
    f.check_ci(0.0, 1.0)?;
    for (field, present) in [
        ("causes", f.t.causes.is_some()),
        ("from", f.t.from.is_some()),
        ("to", f.t.to.is_some()),
        ("patients", f.t.patients.is_some()),
        ("after", f.t.after.is_some()),
    ] {
        f.forbid(field, present, Some(f.t.kind.span()))?;
    }
    Ok(TargetKind::Survival { arm, endpoint, time, failure: f.kind_name == "failure", ci: f.ci })
}

/// The experimental-versus-control hazard ratio after `after`.
fn hazard_ratio(f: &Fields) -> Result<TargetKind> {
    if !f.names.two_arms {
        return Err(f.ctx.err(
            f.t.kind.span(),
            f.key("kind"),
            "a hazard ratio needs two allocated arms (a control and an experimental arm)",
        ));
    }
    let endpoint = f.need_endpoint()?;
    let after = match &f.t.after {
        Some(x) => f.ctx.number(x, &f.key("after"), "a time ≥ 0", |v| v >= 0.0)?,
        None => 0.0,
    };
    if !(f.value > 0.0 && f.value.is_finite()) {
        return Err(f.ctx.err(
            f.value_span(),
            f.key("value"),
            format!("expected a hazard ratio > 0, found {}", f.value),
        ));
    }
    f.no_split()?;
    f.check_ci(f64::MIN_POSITIVE, f64::MAX)?;
    for (field, present) in [
        ("arm", f.t.arm.is_some()),
        ("causes", f.t.causes.is_some()),
        ("time", f.t.time.is_some()),
        ("patients", f.t.patients.is_some()),
    ] {
        f.forbid(field, present, Some(f.t.kind.span()))?;
    }
    Ok(TargetKind::HazardRatio { endpoint, after, ci: f.ci })
}

/// A continuous outcome's figure at an assessment: its mean (`outcome_mean`, with a CI) or how
/// many of `patients` measured patients lie below or above a threshold (`outcome_share`).
fn outcome(f: &Fields) -> Result<TargetKind> {
    let arm = f.need_arm()?;
    let Some(name) = &f.t.outcome else {
        return Err(f.ctx.err(
            f.t.kind.span(),
            f.key("outcome"),
            format!("missing: a `{}` target names its outcome", f.kind_name),
        ));
    };
    let Some(outcome) = f.names.outcomes.iter().position(|o| &o.name == name.get_ref()) else {
        return Err(f.ctx.err(
            name.span(),
            f.key("outcome"),
            format!(
                "no outcome named `{}`; outcomes are: {}",
                name.get_ref(),
                list(f.names.outcomes.iter().map(|o| &o.name))
            ),
        ));
    };
    let times = f.names.assessments.map_or(&[][..], |a| &a.at[..]);
    let Some(time) = &f.t.time else {
        return Err(f.ctx.err(f.t.kind.span(), f.key("time"), "missing: the assessment time of the figure"));
    };
    let Some(at) = times.iter().position(|&x| x == *time.get_ref()) else {
        let listed: Vec<String> = times.iter().map(|t| t.to_string()).collect();
        return Err(f.ctx.err(
            time.span(),
            f.key("time"),
            format!(
                "{} is not an assessment time; `assessments.at` is: {}",
                time.get_ref(),
                listed.join(", ")
            ),
        ));
    };
    f.no_split()?;
    for (field, present) in [
        ("endpoint", f.t.endpoint.is_some()),
        ("causes", f.t.causes.is_some()),
        ("from", f.t.from.is_some()),
        ("to", f.t.to.is_some()),
        ("after", f.t.after.is_some()),
    ] {
        f.forbid(field, present, Some(f.t.kind.span()))?;
    }
    if f.kind_name == "outcome_mean" {
        if !f.value.is_finite() {
            return Err(f.ctx.err(
                f.value_span(),
                f.key("value"),
                format!("expected a finite mean, found {}", f.value),
            ));
        }
        for (field, present) in [
            ("below", f.t.below.is_some()),
            ("above", f.t.above.is_some()),
            ("patients", f.t.patients.is_some()),
        ] {
            f.forbid(field, present, Some(f.t.kind.span()))?;
        }
        f.check_ci(f64::MIN, f64::MAX)?;
        return Ok(TargetKind::OutcomeMean { arm, outcome, at, ci: f.ci });
    }
    f.forbid("ci", f.t.ci.is_some(), f.t.ci.as_ref().map(|x| x.span()))?;
    let (threshold, below) = match (&f.t.below, &f.t.above) {
        (Some(b), None) => (f.ctx.number(b, &f.key("below"), "a finite threshold", |_| true)?, true),
        (None, Some(a)) => (f.ctx.number(a, &f.key("above"), "a finite threshold", |_| true)?, false),
        _ => {
            return Err(f.ctx.err(
                f.t.kind.span(),
                f.key("below"),
                "an `outcome_share` gives exactly one of `below` and `above`",
            ));
        }
    };
    let Some(p) = &f.t.patients else {
        return Err(f.ctx.err(
            f.t.kind.span(),
            f.key("patients"),
            "missing: the number of patients measured",
        ));
    };
    let most = f.names.arm_patients[arm];
    let patients = f.ctx.integer(p, &f.key("patients"), 1, most as i64)? as usize;
    if !(f.value >= 0.0 && f.value <= patients as f64 && f.value.fract() == 0.0) {
        return Err(f.ctx.err(
            f.value_span(),
            f.key("value"),
            format!("expected a count from 0 to {patients}, found {}", f.value),
        ));
    }
    Ok(TargetKind::OutcomeShare { arm, outcome, at, threshold, below, patients })
}
