//! Raw scenario → `Scenario`. Every check names the dotted key, what is allowed and what was
//! found, and points at the value in the file.
//!
//! One file per part of the scenario, checked in this order (the first error is the one
//! reported): the name and `[simulation]`, the arms and their hazards, `[design]`, the
//! endpoints, the allocation, `[analysis]`, then the command and study tables.

mod analysis;
mod arms;
mod design;
mod endpoints;
mod hazards;
mod tables;

use std::ops::Range;
use std::path::Path;

use super::error::ErrorKind;
use super::raw::{self, S};
use super::{Scenario, ScenarioError};

/// At most this many patients: keeps counts in range and typos from hanging a run.
const MAX_PATIENTS: i64 = 10_000_000;

type Result<T> = std::result::Result<T, ScenarioError>;

/// The text being validated, for errors that point into it.
pub(super) struct Ctx<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    /// An error of `kind` at `span`, about `key`.
    fn fail(&self, span: Range<usize>, key: impl Into<String>, kind: ErrorKind) -> ScenarioError {
        ScenarioError::located(self.path, self.text, span, Some(key.into()), kind)
    }

    /// An error worded by the caller ([`ErrorKind::Invalid`]).
    pub(super) fn err(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        self.fail(span, key, ErrorKind::Invalid(message.into()))
    }

    /// An error saying `expected`, having found `found`.
    fn out_of_range(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        expected: impl Into<String>,
        found: impl ToString,
    ) -> ScenarioError {
        self.fail(span, key, ErrorKind::OutOfRange { expected: expected.into(), found: found.to_string() })
    }

    /// A finite number satisfying `ok`, else an error saying `expected`.
    pub(super) fn number(
        &self,
        v: &S<f64>,
        key: &str,
        expected: &str,
        ok: impl Fn(f64) -> bool,
    ) -> Result<f64> {
        let x = *v.get_ref();
        if x.is_finite() && ok(x) { Ok(x) } else { Err(self.out_of_range(v.span(), key, expected, x)) }
    }

    pub(super) fn integer(&self, v: &S<i64>, key: &str, lo: i64, hi: i64) -> Result<i64> {
        let x = *v.get_ref();
        if (lo..=hi).contains(&x) {
            Ok(x)
        } else if hi == i64::MAX {
            Err(self.out_of_range(v.span(), key, format!("an integer ≥ {lo}"), x))
        } else {
            Err(self.out_of_range(v.span(), key, format!("an integer from {lo} to {hi}"), x))
        }
    }

    /// Strictly increasing positive finite breaks (also horizons, periods, cuts).
    fn breaks(&self, v: &S<Vec<S<f64>>>, key: &str) -> Result<Vec<f64>> {
        let mut out: Vec<f64> = Vec::with_capacity(v.get_ref().len());
        for (i, b) in v.get_ref().iter().enumerate() {
            let k = format!("{key}[{i}]");
            let x = self.number(b, &k, "a positive time", |x| x > 0.0)?;
            if let Some(&prev) = out.last()
                && x <= prev
            {
                return Err(self.fail(b.span(), k, ErrorKind::NotIncreasing { found: x, after: prev }));
            }
            out.push(x);
        }
        Ok(out)
    }

    /// A name of ASCII letters, digits, `_` and `-`, not starting with `-`.
    pub(super) fn name(&self, v: &S<String>, key: &str) -> Result<String> {
        let s = v.get_ref();
        let ok = !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !s.starts_with('-');
        if ok {
            Ok(s.clone())
        } else {
            Err(self.fail(v.span(), key, ErrorKind::BadName { found: s.clone() }))
        }
    }
}

/// Parses and validates scenario text; `path` only labels errors.
pub fn parse(text: &str, path: &Path) -> Result<Scenario> {
    let ctx = Ctx { path, text };
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e
            .message()
            .trim_end()
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        ScenarioError::located(
            path,
            text,
            span.clone(),
            key_at(text, span.start),
            ErrorKind::Syntax { message },
        )
    })?;
    build(&ctx, raw)
}

/// The dotted key written at byte `offset` (the table header in force plus the key on that
/// line), for toml's own errors, which only carry a span. Best effort: `None` when the line holds
/// no `key =`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let mut table = String::new();
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let end = start + line.len();
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            table = trimmed.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
        if offset < end || end == text.len() {
            let (key, _) = line.split_once('=')?;
            let key = key.trim().trim_matches('"');
            if key.is_empty() || key.starts_with('#') || key.starts_with('[') {
                return None;
            }
            return Some(if table.is_empty() { key.to_string() } else { format!("{table}.{key}") });
        }
        start = end;
    }
    None
}

fn build(ctx: &Ctx, raw: raw::RawScenario) -> Result<Scenario> {
    let name = ctx.name(&raw.name, "name")?;
    let simulation = design::simulation(ctx, raw.simulation.as_ref())?;
    let causes = arms::causes(ctx, &raw.arms)?;
    let arms = arms::arms(ctx, &raw, &causes)?;
    let design = design::design(ctx, &raw.design)?;
    let endpoints = endpoints::endpoints(ctx, &raw, &causes)?;
    let design::Allocation { arms, comparison, block_size } = design::allocation(ctx, &raw.design, arms)?;
    let design = super::Design { block_size, ..design };
    let analysis = analysis::analysis(ctx, raw.analysis.get_ref(), &endpoints)?;
    let tables = tables::tables(ctx, &raw, &arms, &causes, &endpoints, &design, comparison.is_some())?;
    Ok(Scenario {
        name,
        title: raw.title.unwrap_or_default(),
        time_unit: raw.time_unit.unwrap_or_else(|| "years".to_string()),
        simulation,
        design,
        arms,
        causes,
        endpoints,
        analysis,
        comparison,
        followup_cuts: tables.followup_cuts,
        sweep: tables.sweep,
        uncertainty: tables.uncertainty,
        targets: tables.targets,
        calibrate: tables.calibrate,
    })
}
