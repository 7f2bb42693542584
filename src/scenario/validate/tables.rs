//! The tables that configure commands rather than the trial: `[sweep]`, `[uncertainty]`,
//! `[followup]`, and a study file's `[[targets]]` and `[calibrate]`.
//!
//! Kept together because they belong to the commands' layer: `[sweep]` items are checked with
//! `crate::sweep::Axis::parse`, an import from a later layer, until this file moves there.

use super::super::error::ErrorKind;
use super::super::{Arm, Design, Distribution, Endpoint, ScenarioError, Uncertainty, study};
use super::raw;
use super::{Ctx, Result};

/// The validated command and study tables.
pub(super) struct Tables {
    pub sweep: Option<(Vec<String>, bool)>,
    pub uncertainty: Option<Uncertainty>,
    pub followup_cuts: Vec<f64>,
    pub targets: Vec<study::Target>,
    pub calibrate: Option<study::Calibrate>,
}

/// Checks the tables in this order: `[sweep]`, `[uncertainty]`, `[followup]`, `[[targets]]`,
/// `[calibrate]`.
pub(super) fn tables(
    ctx: &Ctx,
    raw: &raw::RawScenario,
    arms: &[Arm],
    causes: &[String],
    endpoints: &[Endpoint],
    design: &Design,
    two_arms: bool,
) -> Result<Tables> {
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
    let (targets, calibrate) = study_tables(ctx, raw, arms, causes, endpoints, design, two_arms)?;
    Ok(Tables { sweep, uncertainty, followup_cuts, targets, calibrate })
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
            let table: toml::Table = toml::from_str(ctx.text).map_err(|e| {
                ScenarioError::new(ctx.path, ErrorKind::Syntax { message: e.message().to_string() })
            })?;
            Some(study::calibrate(ctx, c, &table)?)
        }
    };
    Ok((targets, calibrate))
}

/// `[uncertainty]`: the number of draws and a prior distribution per dotted key.
fn uncertainty(ctx: &Ctx, u: &raw::RawUncertainty) -> Result<Uncertainty> {
    use raw::RawDistribution as R;
    let draws = match &u.draws {
        Some(d) => ctx.integer(d, "uncertainty.draws", 2, 100_000)? as usize,
        None => 200,
    };
    if u.keys.get_ref().is_empty() {
        let kind = ErrorKind::Empty { expected: "at least one key with a distribution".into() };
        return Err(ctx.fail(u.keys.span(), "uncertainty.keys", kind));
    }
    let mut keys = Vec::new();
    for (key, d) in u.keys.get_ref() {
        let k = format!("uncertainty.keys.\"{key}\"");
        type Valid = fn(f64, f64) -> bool;
        let (name, params, lo_ok): (&str, &raw::S<Vec<f64>>, Valid) = match d.get_ref() {
            R::Beta(p) => ("beta = [a, b] with a, b > 0", p, |a, b| a > 0.0 && b > 0.0),
            R::Normal(p) => ("normal = [mean, sd] with sd > 0", p, |_, s| s > 0.0),
            R::Lognormal(p) => ("lognormal = [mu, sigma] with sigma > 0", p, |_, s| s > 0.0),
            R::Uniform(p) => ("uniform = [low, high] with low < high", p, |l, h| l < h),
            R::Gamma(p) => ("gamma = [shape, scale] with both > 0", p, |a, b| a > 0.0 && b > 0.0),
        };
        let v = params.get_ref();
        let (a, b) = match v[..] {
            [a, b] if a.is_finite() && b.is_finite() && lo_ok(a, b) => (a, b),
            _ => return Err(ctx.out_of_range(params.span(), k, name, format!("{v:?}"))),
        };
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

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::error::ErrorKind;

    #[test]
    fn a_sweep_item_that_is_not_an_axis() {
        let e = error(&appended("[sweep]\nset = [\"design.n=100:400:50\", \"nokey\"]"));
        let ErrorKind::Invalid(m) = e.kind() else { panic!("{e}") };
        assert!(m.starts_with("expected KEY=VALUES"), "{e}");
        assert_eq!((e.key(), e.line_column()), (Some("sweep.set[1]"), Some((25, 31))));
    }

    #[test]
    fn an_uncertainty_distribution_with_bad_parameters() {
        assert_error(
            &appended("[uncertainty]\nkeys = { \"a.b\" = { normal = [0, -1] } }"),
            out_of_range("normal = [mean, sd] with sd > 0", "[0.0, -1.0]"),
            "uncertainty.keys.\"a.b\"",
            (25, 29),
        );
    }

    #[test]
    fn followup_cuts_not_increasing() {
        assert_error(
            &appended("[followup]\ncuts = [2, 1]"),
            ErrorKind::NotIncreasing { found: 1.0, after: 2.0 },
            "followup.cuts[1]",
            (25, 12),
        );
    }

    #[test]
    fn a_target_value_out_of_range() {
        // study.rs words its own messages (`Invalid`) until it is converted to kinds.
        let target = "[[targets]]\nname = \"s\"\nkind = \"survival\"\narm = \"hsct\"\nendpoint = \"efs\"\ntime = 2\nvalue = 1.2";
        assert_error(
            &appended(target),
            ErrorKind::Invalid("expected a probability in [0, 1], found 1.2".into()),
            "targets[0].value",
            (30, 9),
        );
    }
}
