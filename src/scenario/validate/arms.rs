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

/// The arms in name order, with allocation 0 (set later from `[design]`).
pub(super) fn arms(ctx: &Ctx, raw: &raw::RawScenario, causes: &[String]) -> Result<Vec<Arm>> {
    let raw_arms = raw.arms.get_ref();
    let index =
        |cause: &str| causes.iter().position(|c| c == cause).expect("causes is the union of arm causes");
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
            hz[index(cause)] = absolute(ctx, h.get_ref(), &format!("arms.{name}.causes.{cause}"))?;
        }
        let label = a.label.clone().unwrap_or_else(|| name.clone());
        arms.push(Arm { name: name.clone(), label, dropout, allocation: 0, causes: hz, after: None });
    }
    // Second pass: relative hazards, which refer to an absolute hazard of another arm.
    for (ai, arm) in raw_arms.values().enumerate() {
        for (cause, h) in arm.get_ref().causes.get_ref() {
            if let RawHazard::Relative(rel) = h.get_ref() {
                let ci = index(cause);
                arms[ai].causes[ci] = Some(relative(ctx, &arms, raw_arms, (ai, ci), cause, rel)?);
            }
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
            format!("arms.{name}.after"),
            "exactly one non-fatal trigger cause per arm",
            after.get_ref().len(),
        ));
    };
    let key = format!("arms.{name}.after.{trigger}");
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
