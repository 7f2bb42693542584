//! One cause's hazard in an arm: `{ exponential = … }`, `{ weibull = … }`, `{ piecewise = … }`,
//! `{ early_risk = … }`, or `{ relative = … }` to the same cause of another arm.
//!
//! The hazard constructors check the parameters (`crate::hazard`); this file says where each
//! parameter is written and words their errors as the rest of validation does.

use std::ops::Range;

use super::super::error::{ErrorKind, Namespace, RelativeProblem};
use super::super::{Arm, ScenarioError};
use super::raw::{self, RawHazard, S, ScalarOrList};
use super::{Ctx, Result};
use crate::hazard::{Hazard, HazardError, Param};

/// Where a hazard constructor's error points: a parameter, or the list of values as a whole.
enum At {
    Param(Param),
    Values,
}

/// A hazard constructor's error in validation's words: `value` is what each of the values must
/// be ("a rate ≥ 0"), `values` what the list is called ("values").
fn explain(e: HazardError, value: &str, values: &'static str) -> (At, ErrorKind) {
    let out_of_range = |expected: &str, found: f64| ErrorKind::OutOfRange {
        expected: expected.to_string(),
        found: found.to_string(),
    };
    match e {
        HazardError::OutOfRange { param: param @ Param::Value(_), found } => {
            (At::Param(param), out_of_range(value, found))
        }
        HazardError::OutOfRange { param, found } => (At::Param(param), out_of_range(param.expected(), found)),
        HazardError::NotIncreasing { index, found, after } => {
            (At::Param(Param::Break(index)), ErrorKind::NotIncreasing { found, after })
        }
        HazardError::WrongLength { breaks, found } => {
            (At::Values, ErrorKind::WrongLength { what: values, breaks, found: Some(found) })
        }
        // Never reached: validation checks the reference first, naming its arm and cause
        // (`RelativeTo`).
        HazardError::RelativeBase => (At::Values, ErrorKind::Invalid(e.to_string())),
    }
}

/// The span and key of item `i` of a list (the whole list if there is no such item).
fn item<T>(list: &S<Vec<S<T>>>, i: usize, key: &str) -> (Range<usize>, String) {
    match list.get_ref().get(i) {
        Some(x) => (x.span(), format!("{key}[{i}]")),
        None => (list.span(), key.to_string()),
    }
}

/// A hazard of absolute form, or `None` for a relative one (built in the second pass).
pub(super) fn absolute(ctx: &Ctx, h: &RawHazard, key: &str) -> Result<Option<Hazard>> {
    // Each form: the constructor, and where each of its parameters is written.
    let hazard = match h {
        RawHazard::Relative(_) => return Ok(None),
        RawHazard::Exponential(rate) => Hazard::exponential(*rate.get_ref())
            .map_err(|e| locate(ctx, e, |_| (rate.span(), format!("{key}.exponential"))))?,
        RawHazard::Weibull(w) => Hazard::weibull(*w.shape.get_ref(), *w.scale.get_ref()).map_err(|e| {
            locate(ctx, e, |at| match at {
                At::Param(Param::Scale) => (w.scale.span(), format!("{key}.weibull.scale")),
                _ => (w.shape.span(), format!("{key}.weibull.shape")),
            })
        })?,
        RawHazard::Piecewise(p) => Hazard::piecewise(
            p.breaks.get_ref().iter().map(|b| *b.get_ref()).collect(),
            p.rates.get_ref().iter().map(|r| *r.get_ref()).collect(),
        )
        .map_err(|e| {
            locate(ctx, e, |at| match at {
                At::Param(Param::Break(i)) => item(&p.breaks, i, &format!("{key}.piecewise.breaks")),
                At::Param(Param::Value(i)) => item(&p.rates, i, &format!("{key}.piecewise.rates")),
                _ => (p.rates.span(), format!("{key}.piecewise.rates")),
            })
        })?,
        RawHazard::EarlyRisk(r) => {
            Hazard::early_risk(*r.risk.get_ref(), *r.within.get_ref()).map_err(|e| {
                locate(ctx, e, |at| match at {
                    At::Param(Param::Within) => (r.within.span(), format!("{key}.early_risk.within")),
                    _ => (r.risk.span(), format!("{key}.early_risk.risk")),
                })
            })?
        }
    };
    Ok(Some(hazard))
}

/// The error for an absolute hazard's parameters, at the span and key `at` gives.
fn locate(ctx: &Ctx, e: HazardError, at: impl Fn(At) -> (Range<usize>, String)) -> ScenarioError {
    let (place, kind) = explain(e, "a rate ≥ 0", "values");
    let (span, key) = at(place);
    ctx.fail(span, key, kind)
}

/// `{ relative = { to = ARM, breaks = [...], hr = ... } }` for cause `cause` (index `ci`) of
/// arm `ai`: the same cause of arm `to` (which must be absolute) times a piecewise-constant
/// hazard ratio.
///
/// `key` is the cause's dotted key (`arms.hsct.causes.disease_death`, or under `strata.NAME.`
/// when a stratum overrides it); `reference` is arm `to`'s hazard of the cause (if it has one) as
/// the same population sees it (the arm as written, or the stratum's override).
pub(super) fn relative(
    ctx: &Ctx,
    arms: &[Arm],
    reference: Option<&RawHazard>,
    (ai, ci): (usize, usize),
    (cause, key): (&str, &str),
    rel: &raw::RawRelative,
) -> Result<Hazard> {
    let key = format!("{key}.relative");
    let to = rel.to.get_ref();
    let to_key = format!("{key}.to");
    let bad_reference =
        |problem| ErrorKind::RelativeTo { arm: to.clone(), cause: cause.to_string(), problem };
    let Some(bi) = arms.iter().position(|a| &a.name == to) else {
        let allowed = arms.iter().map(|a| a.name.clone()).collect();
        let kind = ErrorKind::UnknownName { what: Namespace::Arm, name: to.clone(), allowed };
        return Err(ctx.fail(rel.to.span(), to_key, kind));
    };
    if bi == ai {
        return Err(ctx.fail(rel.to.span(), to_key, bad_reference(RelativeProblem::SameArm)));
    }
    let base = match reference {
        None => return Err(ctx.fail(rel.to.span(), to_key, bad_reference(RelativeProblem::NoSuchCause))),
        Some(RawHazard::Relative(_)) => {
            return Err(ctx.fail(rel.to.span(), to_key, bad_reference(RelativeProblem::ItselfRelative)));
        }
        Some(_) => arms[bi].causes[ci].clone().expect("absolute hazard built in the first pass"),
    };
    let breaks = match &rel.breaks {
        Some(b) => ctx.breaks(b, &format!("{key}.breaks"))?,
        None => Vec::new(),
    };
    let hr_key = format!("{key}.hr");
    let hr = match rel.hr.get_ref() {
        ScalarOrList::Scalar(_) if !breaks.is_empty() => {
            let kind = ErrorKind::WrongLength { what: "hazard ratios", breaks: breaks.len(), found: None };
            return Err(ctx.fail(rel.hr.span(), hr_key, kind));
        }
        ScalarOrList::Scalar(x) => vec![*x],
        ScalarOrList::List(v) => v.clone(),
    };
    // The length before the values (the constructor checks values first).
    if hr.len() != breaks.len() + 1 {
        let kind =
            ErrorKind::WrongLength { what: "hazard ratios", breaks: breaks.len(), found: Some(hr.len()) };
        return Err(ctx.fail(rel.hr.span(), hr_key, kind));
    }
    Hazard::relative(base, breaks, hr).map_err(|e| {
        // The ratios are one value in the file: every error points at it.
        let (_, kind) = explain(e, "hazard ratios ≥ 0", "hazard ratios");
        ctx.fail(rel.hr.span(), hr_key, kind)
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::error::{ErrorKind, Namespace, RelativeProblem};

    #[test]
    fn a_negative_exponential_rate() {
        assert_error(
            &edited(12, "organ_failure = { exponential = -0.02 }"),
            out_of_range("a rate ≥ 0", "-0.02"),
            "arms.cyc.causes.organ_failure.exponential",
            (12, 33),
        );
    }

    #[test]
    fn a_weibull_shape_that_is_nan_is_reported_before_the_scale() {
        assert_error(
            &edited(12, "organ_failure = { weibull = { shape = nan, scale = -1 } }"),
            out_of_range("a shape > 0", "NaN"),
            "arms.cyc.causes.organ_failure.weibull.shape",
            (12, 39),
        );
    }

    #[test]
    fn piecewise_breaks_not_increasing() {
        assert_error(
            &edited(11, "disease_death = { piecewise = { breaks = [2, 1], rates = [0.1, 0.08, 0.05] } }"),
            ErrorKind::NotIncreasing { found: 1.0, after: 2.0 },
            "arms.cyc.causes.disease_death.piecewise.breaks[1]",
            (11, 46),
        );
    }

    #[test]
    fn piecewise_rates_one_short() {
        assert_error(
            &edited(11, "disease_death = { piecewise = { breaks = [1, 2], rates = [0.1, 0.08] } }"),
            ErrorKind::WrongLength { what: "values", breaks: 2, found: Some(2) },
            "arms.cyc.causes.disease_death.piecewise.rates",
            (11, 58),
        );
    }

    #[test]
    fn a_negative_piecewise_rate_points_at_the_rate() {
        assert_error(
            &edited(11, "disease_death = { piecewise = { breaks = [1, 2], rates = [0.1, -0.08, 0.05] } }"),
            out_of_range("a rate ≥ 0", "-0.08"),
            "arms.cyc.causes.disease_death.piecewise.rates[1]",
            (11, 64),
        );
    }

    #[test]
    fn an_early_risk_of_one() {
        assert_error(
            &edited(14, "treatment_death = { early_risk = { risk = 1.0, within = 0.25 } }"),
            out_of_range("a risk in [0, 1)", "1"),
            "arms.hsct.causes.treatment_death.early_risk.risk",
            (14, 43),
        );
    }

    #[test]
    fn relative_to_an_unknown_arm() {
        assert_error(
            &edited(16, r#"organ_failure = { relative = { to = "cy", hr = 0.5 } }"#),
            ErrorKind::UnknownName {
                what: Namespace::Arm,
                name: "cy".into(),
                allowed: names(&["cyc", "hsct"]),
            },
            "arms.hsct.causes.organ_failure.relative.to",
            (16, 37),
        );
    }

    #[test]
    fn relative_references_that_cannot_be_used() {
        let cases = [
            (16, r#"organ_failure = { relative = { to = "hsct", hr = 0.5 } }"#, RelativeProblem::SameArm),
            (
                14,
                r#"treatment_death = { relative = { to = "cyc", hr = 0.5 } }"#,
                RelativeProblem::NoSuchCause,
            ),
            (
                12,
                r#"organ_failure = { relative = { to = "hsct", hr = 2 } }"#,
                RelativeProblem::ItselfRelative,
            ),
        ];
        for (line, text, problem) in cases {
            let e = error(&edited(line, text));
            let ErrorKind::RelativeTo { problem: p, .. } = e.kind() else { panic!("{e}") };
            assert_eq!(*p, problem, "{e}");
            assert_eq!(e.line_column().map(|(l, _)| l), Some(line), "{e}");
            assert!(e.key().is_some_and(|k| k.ends_with(".relative.to")), "{e}");
        }
        let e = error(&edited(16, r#"organ_failure = { relative = { to = "hsct", hr = 0.5 } }"#));
        assert_eq!(
            e.kind(),
            &ErrorKind::RelativeTo {
                arm: "hsct".into(),
                cause: "organ_failure".into(),
                problem: RelativeProblem::SameArm
            }
        );
    }

    #[test]
    fn one_hazard_ratio_with_breaks() {
        assert_error(
            &edited(15, r#"disease_death = { relative = { to = "cyc", breaks = [1], hr = 0.6 } }"#),
            ErrorKind::WrongLength { what: "hazard ratios", breaks: 1, found: None },
            "arms.hsct.causes.disease_death.relative.hr",
            (15, 63),
        );
    }

    #[test]
    fn a_negative_hazard_ratio_points_at_the_list() {
        assert_error(
            &edited(15, r#"disease_death = { relative = { to = "cyc", breaks = [1], hr = [0.6, -0.2] } }"#),
            out_of_range("hazard ratios ≥ 0", "-0.2"),
            "arms.hsct.causes.disease_death.relative.hr",
            (15, 63),
        );
    }
}
