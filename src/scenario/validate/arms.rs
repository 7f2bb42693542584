//! `[arms.X]`: names, dropout, a hazard per cause (absolute forms first, then those relative to
//! another arm: see `hazards.rs`), and the illness–death transition (`[arms.X.after.TRIGGER]`).

use std::collections::{BTreeMap, BTreeSet};

use super::super::error::{ErrorKind, Namespace};
use super::super::{After, Arm};
use super::hazards::{absolute, relative};
use super::raw::{self, RawHazard, S};
use super::{Ctx, Result};

/// Cause sets are bit masks in the calibration model (u64).
const MAX_CAUSES: usize = 64;

type RawArms = BTreeMap<String, S<raw::RawArm>>;

/// Every cause named in any arm, in name order, so that an index means the same in every arm;
/// checks the arm and cause names.
pub(super) fn causes(ctx: &Ctx, raw_arms: &S<RawArms>) -> Result<Vec<String>> {
    let causes: Vec<String> = raw_arms
        .get_ref()
        .values()
        .flat_map(|a| a.get_ref().causes.get_ref().keys().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if causes.len() > MAX_CAUSES {
        return Err(ctx.out_of_range(
            raw_arms.span(),
            "arms",
            format!("at most {MAX_CAUSES} distinct causes"),
            causes.len(),
        ));
    }
    if raw_arms.get_ref().is_empty() {
        return Err(ctx.out_of_range(raw_arms.span(), "arms", "at least one arm", "none"));
    }
    for (arm_name, arm) in raw_arms.get_ref() {
        ctx.name(&S::new(arm.span(), arm_name.clone()), &format!("arms.{arm_name}"))?;
        for (cause, h) in arm.get_ref().causes.get_ref() {
            ctx.name(&S::new(h.span(), cause.clone()), &format!("arms.{arm_name}.causes.{cause}"))?;
        }
    }
    Ok(causes)
}

/// One cause's hazard as a population sees it, and the dotted key it is reported under.
#[derive(Clone)]
pub(super) struct CauseSpec<'a> {
    pub hazard: &'a S<RawHazard>,
    pub key: String,
}

/// One arm's model as a population sees it: the arm as written, or a stratum's view of it (its
/// overrides replacing what they name). Each part keeps the dotted key its errors name.
#[derive(Clone)]
pub(super) struct ArmSpec<'a> {
    pub name: &'a str,
    pub label: Option<&'a str>,
    pub dropout: Option<(&'a S<f64>, String)>,
    /// By cause name.
    pub causes: BTreeMap<&'a str, CauseSpec<'a>>,
    pub after: Option<(&'a S<raw::RawAfter>, String)>,
    /// By outcome name: the distribution and its dotted key.
    pub outcomes: super::outcomes::ArmOutcomes<'a>,
    /// The arm's table, where a missing outcome is reported.
    pub span: std::ops::Range<usize>,
    pub key: String,
}

/// The arms as written in `[arms]`, in name order.
pub(super) fn written(raw: &raw::RawScenario) -> Vec<ArmSpec<'_>> {
    raw.arms
        .get_ref()
        .iter()
        .map(|(name, arm)| {
            let a = arm.get_ref();
            ArmSpec {
                name,
                label: a.label.as_deref(),
                dropout: a.dropout.as_ref().map(|d| (d, format!("arms.{name}.dropout"))),
                causes: a
                    .causes
                    .get_ref()
                    .iter()
                    .map(|(c, h)| {
                        (c.as_str(), CauseSpec { hazard: h, key: format!("arms.{name}.causes.{c}") })
                    })
                    .collect(),
                after: a.after.as_ref().map(|t| (t, format!("arms.{name}.after"))),
                outcomes: a
                    .outcomes
                    .iter()
                    .flat_map(|o| o.get_ref().iter())
                    .map(|(o, m)| (o.as_str(), (m, format!("arms.{name}.outcomes.{o}"))))
                    .collect(),
                span: arm.span(),
                key: format!("arms.{name}"),
            }
        })
        .collect()
}

/// The arms of `specs` (in name order), with allocation 0 (set later from `[design]`).
pub(super) fn arms(
    ctx: &Ctx,
    specs: &[ArmSpec],
    causes: &[String],
    schema: &super::outcomes::Schema,
) -> Result<Vec<Arm>> {
    let index =
        |cause: &str| causes.iter().position(|c| c == cause).expect("causes is the union of arm causes");
    let mut arms: Vec<Arm> = Vec::with_capacity(specs.len());
    // First pass: absolute hazards; relative ones need their reference arm's hazard.
    for spec in specs {
        let dropout = match &spec.dropout {
            Some((d, key)) => ctx.number(d, key, "a rate ≥ 0", |x| x >= 0.0)?,
            None => 0.0,
        };
        let mut hz = vec![None; causes.len()];
        for (cause, c) in &spec.causes {
            hz[index(cause)] = absolute(ctx, c.hazard.get_ref(), &c.key)?;
        }
        let label = spec.label.map_or_else(|| spec.name.to_string(), str::to_string);
        arms.push(Arm {
            name: spec.name.to_string(),
            label,
            dropout,
            allocation: 0,
            causes: hz,
            early_risk: Vec::new(),
            after: None,
            outcomes: super::outcomes::models(ctx, &spec.outcomes, (&spec.span, &spec.key), schema)?,
        });
    }
    // Second pass: relative hazards, which refer to an absolute hazard of another arm in the
    // same population.
    for (ai, spec) in specs.iter().enumerate() {
        for (cause, c) in &spec.causes {
            if let RawHazard::Relative(rel) = c.hazard.get_ref() {
                let ci = index(cause);
                let to = rel.to.get_ref();
                let reference = specs
                    .iter()
                    .find(|s| s.name == to)
                    .and_then(|s| s.causes.get(cause))
                    .map(|c| c.hazard.get_ref());
                let h = relative(ctx, &arms, reference, (ai, ci), (cause, &c.key), rel)?;
                arms[ai].causes[ci] = Some(h);
            }
        }
    }
    for (ai, spec) in specs.iter().enumerate() {
        if let Some((after, key)) = &spec.after {
            arms[ai].after = Some(illness_death(ctx, &arms[ai], (after, key), causes)?);
        }
    }
    // Equivalent forms that are cheaper to sample (see `Hazard::simplified`).
    for arm in &mut arms {
        arm.early_risk = arm.causes.iter().map(|h| h.as_ref().and_then(|h| h.as_early_risk())).collect();
        for h in arm.causes.iter_mut().flatten() {
            *h = h.simplified();
        }
    }
    Ok(arms)
}

/// `[arms.X.after.TRIGGER]`: one non-fatal trigger per arm, a cause of this arm; each factor
/// names another cause of this arm and is a finite number ≥ 0.
fn illness_death(
    ctx: &Ctx,
    arm: &Arm,
    (after, at): (&S<raw::RawAfter>, &str),
    causes: &[String],
) -> Result<After> {
    let name = &arm.name;
    let own: Vec<String> =
        causes.iter().enumerate().filter(|(k, _)| arm.causes[*k].is_some()).map(|(_, c)| c.clone()).collect();
    let not_own = |cause: &str| ErrorKind::UnknownName {
        what: Namespace::CauseOf { arm: name.clone() },
        name: cause.to_string(),
        allowed: own.clone(),
    };
    let mut entries = after.get_ref().iter();
    let (Some((trigger, table)), None) = (entries.next(), entries.next()) else {
        return Err(ctx.out_of_range(
            after.span(),
            at,
            "exactly one non-fatal trigger cause per arm",
            after.get_ref().len(),
        ));
    };
    let key = format!("{at}.{trigger}");
    let Some(ti) = causes.iter().position(|c| c == trigger).filter(|&k| arm.causes[k].is_some()) else {
        return Err(ctx.fail(table.span(), key, not_own(trigger)));
    };
    let mut factor = vec![1.0; causes.len()];
    for (cause, f) in table.get_ref() {
        let k = format!("{key}.{cause}");
        let Some(ci) = causes.iter().position(|c| c == cause).filter(|&c| arm.causes[c].is_some()) else {
            return Err(ctx.fail(f.span(), k, not_own(cause)));
        };
        if ci == ti {
            return Err(ctx.err(f.span(), k, "the trigger cannot modify its own hazard"));
        }
        factor[ci] =
            ctx.number(f, &k, &format!("a hazard multiplier from 0 to {MAX_AFTER_FACTOR}"), |x| {
                (0.0..=MAX_AFTER_FACTOR).contains(&x)
            })?;
    }
    Ok(After { trigger: ti, factor })
}

/// The largest illness–death factor. Far beyond it (10⁶) the state equations are too stiff for
/// the truth's quadrature (76 expected events against 145 simulated), and a multiplier that large
/// means death at the trigger: make the trigger a cause of the endpoint instead.
pub const MAX_AFTER_FACTOR: f64 = 1000.0;

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::error::{ErrorKind, Namespace};

    const AFTER: &str =
        "organ_failure = { relative = { to = \"cyc\", hr = 0.5 } }\n[arms.hsct.after.organ_failure]";

    #[test]
    fn an_arm_name_with_a_space() {
        assert_error(
            &edited(10, r#"[arms."c yc".causes]"#),
            ErrorKind::BadName { found: "c yc".into() },
            "arms.c yc",
            (10, 7),
        );
    }

    #[test]
    fn an_illness_death_factor_for_a_cause_the_arm_lacks() {
        assert_error(
            &edited(16, &format!("{AFTER}\ndisease_deth = 2")),
            ErrorKind::UnknownName {
                what: Namespace::CauseOf { arm: "hsct".into() },
                name: "disease_deth".into(),
                allowed: names(&["disease_death", "organ_failure", "treatment_death"]),
            },
            "arms.hsct.after.organ_failure.disease_deth",
            (18, 16),
        );
    }

    #[test]
    fn a_trigger_modifying_its_own_hazard() {
        assert_error(
            &edited(16, &format!("{AFTER}\norgan_failure = 2")),
            ErrorKind::Invalid("the trigger cannot modify its own hazard".into()),
            "arms.hsct.after.organ_failure.organ_failure",
            (18, 17),
        );
    }
}
