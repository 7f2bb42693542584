//! `[calibrate]`: the free parameters of a study file, each a value written to some dotted keys
//! within bounds.

use std::ops::Range;

use toml::Table;

use crate::scenario::raw::{self, S};
use crate::scenario::{Ctx, ScenarioError, overrides};

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

pub(super) fn calibrate(
    ctx: &Ctx,
    raw: &S<raw::RawCalibrate>,
    table: &Table,
) -> Result<Calibrate, ScenarioError> {
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
            let v = overrides::numeric(table, k)
                .map_err(|m| ctx.err(span.clone(), key.clone(), m.to_string()))?;
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
