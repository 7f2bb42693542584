//! Raw scenario → `Scenario`. Every check names the dotted key, what is allowed and what was
//! found, and points at the value in the file.
//!
//! One file per part of the scenario, checked in this order (the first error is the one
//! reported): the name and `[simulation]`, the arms and their hazards, `[design]`, the
//! endpoints, the allocation, `[analysis]`. The tables of other commands (`[sweep]`,
//! `[followup]`, `[uncertainty]`, `[[targets]]`, `[calibrate]`) are parsed here but validated
//! beside their commands.

mod analysis;
mod arms;
mod design;
mod endpoints;
mod hazards;
mod labels;
mod long_term;
mod monitoring;
mod outcomes;
mod strata;

use std::ops::Range;
use std::path::Path;

use super::error::ErrorKind;
use super::raw::{self, S};
use super::{Scenario, ScenarioError};

/// At most this many patients: keeps counts in range and typos from hanging a run.
const MAX_PATIENTS: i64 = 10_000_000;

type Result<T> = std::result::Result<T, ScenarioError>;

/// The text being validated, for errors that point into it. The command and study tables
/// (validated beside their commands) use it too, through [`super::Document::ctx`].
pub struct Ctx<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
}

impl Ctx<'_> {
    /// An error of `kind` at `span`, about `key`.
    pub fn fail(&self, span: Range<usize>, key: impl Into<String>, kind: ErrorKind) -> ScenarioError {
        ScenarioError::located(self.path, self.text, span, Some(key.into()), kind)
    }

    /// An error worded by the caller ([`ErrorKind::Invalid`]).
    pub fn err(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ScenarioError {
        self.fail(span, key, ErrorKind::Invalid(message.into()))
    }

    /// An error saying `expected`, having found `found`.
    pub(crate) fn out_of_range(
        &self,
        span: Range<usize>,
        key: impl Into<String>,
        expected: impl Into<String>,
        found: impl ToString,
    ) -> ScenarioError {
        self.fail(span, key, ErrorKind::OutOfRange { expected: expected.into(), found: found.to_string() })
    }

    /// A finite number satisfying `ok`, else an error saying `expected` (and the number found,
    /// in exponent form when it is huge or tiny: `1e300`, not three hundred digits).
    /// −0.0 is read as 0: it passes `x >= 0.0` but divides to −∞.
    pub fn number(&self, v: &S<f64>, key: &str, expected: &str, ok: impl Fn(f64) -> bool) -> Result<f64> {
        let x = *v.get_ref() + 0.0;
        if x.is_finite() && ok(x) {
            Ok(x)
        } else {
            Err(self.out_of_range(v.span(), key, expected, readable(x)))
        }
    }

    pub fn integer(&self, v: &S<i64>, key: &str, lo: i64, hi: i64) -> Result<i64> {
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
    pub fn breaks(&self, v: &S<Vec<S<f64>>>, key: &str) -> Result<Vec<f64>> {
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
    pub fn name(&self, v: &S<String>, key: &str) -> Result<String> {
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

/// A number as a message shows it: plain when of moderate size, in exponent form otherwise.
fn readable(x: f64) -> String {
    if x.is_finite() && x != 0.0 && !(1e-4..1e9).contains(&x.abs()) {
        format!("{x:e}")
    } else {
        x.to_string()
    }
}

/// Parses scenario text into its raw tables (syntax, types, unknown keys); `path` only labels
/// errors.
pub fn parse(text: &str, path: &Path) -> Result<raw::RawScenario> {
    // TOML integers are 64-bit: a larger one passes where a number is read as f64 but fails,
    // without a place, where the document is read as a table (overrides, calibration), as
    // "u64 value was too large". Refuse it here, where it can be shown.
    if let Some(span) = integer_out_of_range(text) {
        let message = format!(
            "the integer {} is beyond TOML's range (−9223372036854775808 to 9223372036854775807): write it as a number with an exponent, e.g. 1e19",
            &text[span.clone()]
        );
        let key = key_at(text, span.start);
        return Err(ScenarioError::located(path, text, span, key, ErrorKind::Syntax { message }));
    }
    toml::from_str(text).map_err(|e| {
        let message = e
            .message()
            .trim_end()
            .replace("expected i64", "expected an integer")
            .replace("expected f64", "expected a number");
        // The parser's recursion limit comes without a place: point at the most deeply nested line.
        let too_deep = message.contains("recursion limit");
        let span = match e.span() {
            Some(s) if !too_deep || s.start > 0 => s,
            _ if too_deep => deepest_line(text),
            _ => 0..0,
        };
        // An integer beyond TOML's range: say the range.
        let message = if too_deep {
            "nested too deeply (the TOML parser's recursion limit): a scenario's tables are a few levels deep, e.g. [arms.hsct.causes]".to_string()
        } else if message.starts_with("invalid value: integer") {
            format!("{message} from {} to {}", i64::MIN, i64::MAX)
        } else if value_missing(text, span.start) {
            // TOML reads `n =` with nothing after it as an unquoted string.
            "missing value after `=` (a number, a \"quoted string\", a [list] or an { inline table })".into()
        } else {
            message
        };
        ScenarioError::located(
            path,
            text,
            span.clone(),
            key_at(text, span.start),
            ErrorKind::Syntax { message },
        )
    })
}

/// The first integer literal outside comments and strings whose value is beyond i64, as a byte
/// range (sign included). Floats (`1e19`, `1.5`), hex/octal/binary and dates are not integers
/// here: a digit run next to `.`, `e`, `x`, `:` or `-` of a date is left alone.
fn integer_out_of_range(text: &str) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let triple = b.get(i..i + 3) == Some(&[q, q, q][..]);
                i += if triple { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && b.get(i..i + 3) == Some(&[q, q, q][..]) {
                        i += 3;
                        break;
                    }
                    if !triple && (b[i] == q || b[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            c if c.is_ascii_digit() => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                    i += 1;
                }
                let before = start.checked_sub(1).map(|k| b[k]);
                let after = b.get(i).copied();
                let part_of_other = |c: Option<u8>| {
                    c.is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b':' | b'_'))
                };
                let date = after == Some(b'-');
                let signed = matches!(before, Some(b'-' | b'+'));
                let before_sign = if signed { start.checked_sub(2).map(|k| b[k]) } else { before };
                if !date
                    && !part_of_other(after)
                    && !part_of_other(before_sign)
                    && !matches!(before_sign, Some(b'e' | b'E'))
                {
                    let digits: String = text[start..i].chars().filter(|c| *c != '_').collect();
                    let negative = before == Some(b'-');
                    let limit: u128 = if negative { 1 << 63 } else { (1 << 63) - 1 };
                    if digits.len() > 18 && digits.parse::<u128>().map_or(true, |v| v > limit) {
                        return Some(if signed { start - 1 } else { start }..i);
                    }
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The byte range of the line with the most nesting: dotted parts, brackets and braces outside
/// comments (the place to show for a recursion-limit error, which has none).
fn deepest_line(text: &str) -> Range<usize> {
    let mut best = (0, 0..0);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let code = line.split('#').next().unwrap_or("");
        let depth = code.chars().filter(|c| matches!(c, '.' | '[' | '{')).count();
        if depth > best.0 {
            best = (depth, start..start + line.trim_end().len());
        }
        start += line.len();
    }
    best.1
}

/// Whether the line holding byte `offset` is `key =` with nothing (or only a comment) after `=`.
fn value_missing(text: &str, offset: usize) -> bool {
    let start = text[..offset.min(text.len())].rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next().unwrap_or("");
    line.split_once('=').is_some_and(|(key, rest)| {
        !key.trim().is_empty() && !key.contains('"') && {
            let rest = rest.trim();
            rest.is_empty() || rest.starts_with('#')
        }
    })
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

/// The model, the design and the analysis of a parsed document, validated.
pub fn build(ctx: &Ctx, raw: &raw::RawScenario) -> Result<Scenario> {
    let name = ctx.name(&raw.name, "name")?;
    let simulation = design::simulation(ctx, raw.simulation.as_ref())?;
    let causes = arms::causes(ctx, &raw.arms)?;
    let design = design::design(ctx, &raw.design)?;
    let schema = outcomes::schema(ctx, raw, &causes, &design)?;
    let arms = arms::arms(ctx, &arms::written(raw), &causes, &schema)?;
    let endpoints = endpoints::endpoints(ctx, raw, &causes)?;
    let composites = outcomes::composites(ctx, raw, &endpoints, &schema, &design)?;
    let design::Allocation { arms, comparison, block_size } = design::allocation(ctx, &raw.design, arms)?;
    let strata = strata::strata(ctx, raw, &arms, &causes, &schema, design.n)?;
    let allocated = arms.iter().filter(|a| a.allocation > 0).count();
    let randomisation = strata::randomisation(ctx, raw, &strata, block_size, allocated)?;
    let design = super::Design { block_size, randomisation, ..design };
    let time_unit = raw.time_unit.clone().unwrap_or_else(|| "years".to_string());
    let analysis = analysis::analysis(ctx, raw.analysis.get_ref(), &endpoints, &composites, &time_unit)?;
    if strata.is_empty()
        && let Some((i, t)) = analysis
            .tests
            .iter()
            .enumerate()
            .find(|(_, t)| matches!(t.kind, crate::test_statistic::TestKind::Stratified(_)))
    {
        let span = raw.analysis.get_ref().tests.get_ref().get(i).map_or(raw.analysis.span(), |v| v.span());
        return Err(ctx.err(
            span,
            format!("analysis.tests[{i}]"),
            format!("`{}` compares the arms within strata: add [strata.NAME] tables, or use the test without `[strata]`", t.name),
        ));
    }
    let monitoring = match &raw.monitoring {
        Some(m) => {
            if comparison.is_none() {
                return Err(ctx.err(
                    m.span(),
                    "monitoring",
                    "monitoring compares two arms: this is a single-arm study",
                ));
            }
            Some(monitoring::monitoring(ctx, m, &analysis, &design, &arms, &causes)?)
        }
        None => None,
    };
    let labels = labels::labels(ctx, raw, &causes, &endpoints)?;
    Ok(Scenario {
        name,
        title: raw.title.clone().unwrap_or_default(),
        time_unit,
        simulation,
        design,
        arms,
        strata,
        causes,
        endpoints,
        outcomes: schema.outcomes,
        assessments: schema.assessments,
        composites,
        analysis,
        comparison,
        monitoring,
        labels,
    })
}

#[cfg(test)]
pub(crate) mod fixture {
    //! A small valid scenario for the unit tests of each section, and helpers that edit it.

    use std::path::Path;

    use crate::scenario::error::ErrorKind;
    use crate::scenario::{Scenario, ScenarioError};

    pub const BASE: &str = r#"name = "base"
[design]
n = 100
control = "cyc"
allocation = { cyc = 1, hsct = 1 }
block_size = 4
accrual = { duration = 2 }
[design.cut]
calendar = 5
[arms.cyc.causes]
disease_death = { piecewise = { breaks = [1, 2], rates = [0.1, 0.08, 0.05] } }
organ_failure = { exponential = 0.02 }
[arms.hsct.causes]
treatment_death = { early_risk = { risk = 0.1, within = 0.25 } }
disease_death = { relative = { to = "cyc", breaks = [1], hr = [0.6, 0.2] } }
organ_failure = { relative = { to = "cyc", hr = 0.5 } }
[endpoints]
efs = ["treatment_death", "disease_death", "organ_failure"]
[analysis]
endpoint = "efs"
tests = ["logrank", "rmst"]
tau = 3
horizons = [1, 2]
"#;

    /// BASE with line `line` (1-based) replaced by `text` (which may hold several lines).
    pub fn edited(line: usize, text: &str) -> String {
        let mut lines: Vec<&str> = BASE.lines().collect();
        lines[line - 1] = text;
        lines.join("\n") + "\n"
    }

    /// BASE followed by `text`.
    pub(crate) fn appended(text: &str) -> String {
        format!("{BASE}{text}\n")
    }

    /// The scenario of `text`, which must be valid.
    #[track_caller]
    pub fn valid(text: &str) -> Scenario {
        Scenario::from_toml(text, Path::new("s.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    /// The error for `text`, which must be invalid.
    pub fn error(text: &str) -> ScenarioError {
        match Scenario::from_toml(text, Path::new("s.toml")) {
            Ok(_) => panic!("expected an error for\n{text}"),
            Err(e) => e,
        }
    }

    /// Asserts the error's kind, key and line:column.
    #[track_caller]
    pub(crate) fn assert_error(text: &str, kind: ErrorKind, key: &str, line_column: (usize, usize)) {
        let e = error(text);
        assert_eq!(e.kind(), &kind, "{e}");
        assert_eq!(e.key(), Some(key), "{e}");
        assert_eq!(e.line_column(), Some(line_column), "{e}");
    }

    pub(crate) fn out_of_range(expected: &str, found: &str) -> ErrorKind {
        ErrorKind::OutOfRange { expected: expected.into(), found: found.into() }
    }

    pub fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_very_deep_header_is_located_on_its_line() {
        let header = format!("[{}]", vec!["a"; 300].join("."));
        let text = appended(&format!("{header}\nx = 1"));
        let line = text.lines().position(|l| l == header).unwrap() + 1;
        let e = error(&text);
        let ErrorKind::Syntax { message } = e.kind() else { panic!("{e}") };
        assert!(message.starts_with("nested too deeply"), "{e}");
        assert_eq!(e.line_column(), Some((line, 1)), "{e}");
    }

    #[test]
    fn a_key_without_a_value_says_so() {
        let e = error(&edited(3, "n ="));
        let ErrorKind::Syntax { message } = e.kind() else { panic!("{e}") };
        assert!(message.starts_with("missing value after `=`"), "{e}");
        assert_eq!(e.line_column().map(|(l, _)| l), Some(3), "{e}");
    }

    #[test]
    fn the_fixture_is_valid() {
        Scenario::from_toml(BASE, Path::new("s.toml")).expect("BASE is valid");
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::*;
    use crate::scenario::error::ErrorKind;

    #[test]
    fn toml_errors_keep_toml_words_and_find_the_key() {
        let e = error(&edited(3, r#"n = "many""#));
        let ErrorKind::Syntax { message } = e.kind() else { panic!("{e}") };
        assert!(message.contains("invalid type") && message.contains("expected an integer"), "{e}");
        assert_eq!((e.key(), e.line_column()), (Some("design.n"), Some((3, 5))));
    }

    /// Integers beyond i64 anywhere (a list read as f64 let them through to where the document
    /// is read as a table, which said "u64 value was too large" with no place): located.
    #[test]
    fn integers_beyond_toml_range_are_located() {
        fn at(t: &str) -> Option<&str> {
            super::integer_out_of_range(t).map(|r| &t[r])
        }
        assert_eq!(at("bounds = [0.01, 9223372036854775808]\n"), Some("9223372036854775808"));
        assert_eq!(at("x = -9223372036854775809"), Some("-9223372036854775809"));
        assert_eq!(at("x = 18_446_744_073_709_551_616 # c"), Some("18_446_744_073_709_551_616"));
        for fine in [
            "x = 9223372036854775807",
            "x = -9223372036854775808",
            "x = 9223372036854775808.0",
            "x = 1e19\ny = 92233720368547758080e-3",
            "x = \"9223372036854775808\" # 9223372036854775808",
            "x = '''\n9223372036854775808\n'''",
            "x = 0x7FFFFFFFFFFFFFFF",
        ] {
            assert_eq!(at(fine), None, "{fine}");
        }
        let e = error(&edited(3, "n = 9223372036854775808"));
        assert_eq!((e.key(), e.line_column()), (Some("design.n"), Some((3, 5))), "{e}");
        assert!(e.to_string().contains("beyond TOML's range"), "{e}");
    }

    #[test]
    fn a_file_that_cannot_be_read() {
        let e =
            crate::scenario::Scenario::from_path(std::path::Path::new("/no/such/dir/s.toml")).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Unreadable { .. }), "{e}");
        assert_eq!((e.key(), e.line_column()), (None, None));
        assert!(e.to_string().starts_with("error: /no/such/dir/s.toml: cannot read the scenario: "), "{e}");
    }

    #[test]
    fn a_bad_scenario_name() {
        assert_error(
            &edited(1, r#"name = "bad name""#),
            ErrorKind::BadName { found: "bad name".into() },
            "name",
            (1, 8),
        );
    }

    #[test]
    fn simulation_replicates_out_of_range() {
        assert_error(
            &edited(1, "name = \"x\"\n[simulation]\nreplicates = 0"),
            out_of_range("an integer from 1 to 1000000000", "0"),
            "simulation.replicates",
            (3, 14),
        );
    }
}
