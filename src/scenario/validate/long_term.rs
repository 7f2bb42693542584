//! `[analysis.long_term]`: the horizon of the long-term truth (default 20 years, at most 100) and
//! the per-trial extrapolation, whose methods carry their settings.

use super::super::error::{ErrorKind, Namespace};
use super::super::{Extrapolation, ExtrapolationMethod, LongTerm};
use super::raw::{self, S};
use super::{Ctx, Result};
use crate::time::{Time, units_per_year};

/// The default horizon and the longest allowed, in years.
const DEFAULT_YEARS: f64 = 20.0;
const MAX_YEARS: f64 = 100.0;
/// The default extrapolation times, in years (those within the horizon; the horizon if none).
const DEFAULT_AT_YEARS: [f64; 2] = [10.0, 15.0];

/// The validated `[analysis.long_term]` of a scenario in `unit`; the defaults when the table is
/// absent. None when the unit is unknown and nothing is asked.
pub(super) fn long_term(ctx: &Ctx, lt: Option<&S<raw::RawLongTerm>>, unit: &str) -> Result<Option<LongTerm>> {
    let per_year = units_per_year(unit);
    let horizon = match (lt.and_then(|t| t.get_ref().horizon.as_ref()), per_year) {
        (Some(h), Some(u)) => {
            let max = MAX_YEARS * u;
            let expected = if u == 1.0 {
                format!("a time in (0, {max}] {unit}")
            } else {
                format!("a time in (0, {max}] {unit} (100 years)")
            };
            ctx.number(h, "analysis.long_term.horizon", &expected, |t| t > 0.0 && t <= max)?
        }
        (Some(h), None) => {
            ctx.number(h, "analysis.long_term.horizon", &format!("a time > 0 ({unit})"), |t| t > 0.0)?
        }
        (None, Some(u)) => DEFAULT_YEARS * u,
        (None, None) => match lt {
            Some(t) if t.get_ref().extrapolation.is_some() => {
                return Err(ctx.err(
                    t.span(),
                    "analysis.long_term.horizon",
                    format!("expected a horizon: the default of 20 years is unknown in time unit {unit:?}"),
                ));
            }
            _ => return Ok(None),
        },
    };
    let extrapolation = match lt.and_then(|t| t.get_ref().extrapolation.as_ref()) {
        Some(x) => Some(extrapolation(ctx, x.get_ref(), horizon, per_year)?),
        None => None,
    };
    Ok(Some(LongTerm { horizon, extrapolation }))
}

/// `[analysis.long_term.extrapolation]`: known methods, each once, `cuts` exactly when
/// `piecewise_exponential` is asked for, times `at` within the horizon.
fn extrapolation(
    ctx: &Ctx,
    x: &raw::RawExtrapolation,
    horizon: Time,
    per_year: Option<f64>,
) -> Result<Extrapolation> {
    const KEY: &str = "analysis.long_term.extrapolation.methods";
    let names = x.methods.get_ref();
    if names.is_empty() {
        return Err(ctx.err(
            x.methods.span(),
            KEY,
            format!("expected at least one method: {}", ExtrapolationMethod::NAMES.join(", ")),
        ));
    }
    let cuts = match &x.cuts {
        Some(c) => Some(ctx.breaks(c, "analysis.long_term.extrapolation.cuts")?),
        None => None,
    };
    let mut methods: Vec<ExtrapolationMethod> = Vec::new();
    for n in names {
        let name = n.get_ref().trim();
        let method = match name {
            "weibull" => ExtrapolationMethod::Weibull,
            "piecewise_exponential" => match &cuts {
                Some(c) => ExtrapolationMethod::PiecewiseExponential { cuts: c.clone() },
                None => {
                    return Err(ctx.err(
                        n.span(),
                        KEY,
                        "piecewise_exponential needs its cut points: set analysis.long_term.extrapolation.cuts (e.g. the hazards' breaks, [1, 2])",
                    ));
                }
            },
            _ => {
                let allowed = ExtrapolationMethod::NAMES.iter().map(|s| s.to_string()).collect();
                let kind = ErrorKind::UnknownName {
                    what: Namespace::ExtrapolationMethod,
                    name: name.into(),
                    allowed,
                };
                return Err(ctx.fail(n.span(), KEY, kind));
            }
        };
        if methods.iter().any(|m| m.name() == method.name()) {
            return Err(ctx.fail(n.span(), KEY, ErrorKind::Duplicate { item: format!("method {name:?}") }));
        }
        methods.push(method);
    }
    if let (Some(c), false) = (&x.cuts, methods.iter().any(|m| m.name() == "piecewise_exponential")) {
        return Err(ctx.err(
            c.span(),
            "analysis.long_term.extrapolation.cuts",
            "cuts are the piecewise_exponential method's: add it to methods or remove cuts",
        ));
    }
    let at = match &x.at {
        Some(a) => {
            let at = ctx.breaks(a, "analysis.long_term.extrapolation.at")?;
            if at.is_empty() {
                return Err(ctx.err(
                    a.span(),
                    "analysis.long_term.extrapolation.at",
                    "expected at least one time",
                ));
            }
            for (i, (&t, v)) in at.iter().zip(a.get_ref()).enumerate() {
                if t > horizon {
                    return Err(ctx.out_of_range(
                        v.span(),
                        format!("analysis.long_term.extrapolation.at[{i}]"),
                        format!("a time within the horizon {horizon}"),
                        t,
                    ));
                }
            }
            at
        }
        None => {
            let Some(u) = per_year else {
                return Err(ctx.err(
                    x.methods.span(),
                    "analysis.long_term.extrapolation.at",
                    "expected the times to extrapolate to (`at`): the default of 10 and 15 years is unknown in this time unit",
                ));
            };
            let at: Vec<Time> = DEFAULT_AT_YEARS.iter().map(|y| y * u).filter(|&t| t <= horizon).collect();
            if at.is_empty() { vec![horizon] } else { at }
        }
    };
    Ok(Extrapolation { methods, at })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::ExtrapolationMethod;

    /// The fixture's 23 lines, then `text` from line 24.
    fn located(text: &str, key: &str, line: usize, says: &str) {
        let e = error(&appended(text));
        assert_eq!(e.key(), Some(key), "{e}");
        assert_eq!(e.line_column().map(|(l, _)| l), Some(line), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }

    #[test]
    fn defaults_and_a_full_table() {
        let lt = valid(BASE).analysis.long_term.expect("years: 20 by default");
        assert_eq!((lt.horizon, lt.extrapolation), (20.0, None));
        let sc = valid(&appended(
            "[analysis.long_term]\nhorizon = 12\n[analysis.long_term.extrapolation]\nmethods = [\"weibull\", \"piecewise_exponential\"]\ncuts = [1, 2]",
        ));
        let lt = sc.analysis.long_term.unwrap();
        let x = lt.extrapolation.unwrap();
        assert_eq!(lt.horizon, 12.0);
        assert_eq!(x.at, vec![10.0], "10 and 15 years within the horizon");
        assert_eq!(
            x.methods,
            vec![
                ExtrapolationMethod::Weibull,
                ExtrapolationMethod::PiecewiseExponential { cuts: vec![1.0, 2.0] }
            ]
        );
        let unknown_unit = BASE.replace("name = \"base\"", "name = \"base\"\ntime_unit = \"fortnights\"");
        assert!(valid(&unknown_unit).analysis.long_term.is_none(), "20 years is unknown in fortnights");
    }

    #[test]
    fn bad_tables_are_located() {
        let table = "[analysis.long_term]\n";
        located(&format!("{table}horizon = 0"), "analysis.long_term.horizon", 25, "(0, 100] years");
        located(&format!("{table}horizon = 101"), "analysis.long_term.horizon", 25, "found 101");
        let months = appended(&format!("{table}horizon = 1500"))
            .replace("name = \"base\"", "name = \"base\"\ntime_unit = \"months\"");
        let e = error(&months);
        assert!(e.to_string().contains("(0, 1200] months (100 years)"), "{e}");
        located(&format!("{table}horizn = 20"), "analysis.long_term.horizn", 25, "horizn");
        let x = "[analysis.long_term.extrapolation]\n";
        located(
            &format!("{x}methods = [\"piecewise_exponential\"]"),
            "analysis.long_term.extrapolation.methods",
            25,
            "needs its cut points",
        );
        located(
            &format!("{x}methods = [\"weibul\"]"),
            "analysis.long_term.extrapolation.methods",
            25,
            "allowed: weibull, piecewise_exponential",
        );
        located(
            &format!("{x}methods = []"),
            "analysis.long_term.extrapolation.methods",
            25,
            "at least one method",
        );
        located(
            &format!("{x}methods = [\"weibull\", \"weibull\"]"),
            "analysis.long_term.extrapolation.methods",
            25,
            "weibull",
        );
        located(
            &format!("{x}methods = [\"weibull\"]\ncuts = [1]"),
            "analysis.long_term.extrapolation.cuts",
            26,
            "add it to methods",
        );
        located(
            &format!("{x}methods = [\"weibull\"]\nat = [10, 25]"),
            "analysis.long_term.extrapolation.at[1]",
            26,
            "within the horizon 20",
        );
        located(
            &format!("{x}methods = [\"weibull\"]\nat = [10, 5]"),
            "analysis.long_term.extrapolation.at[1]",
            26,
            "5",
        );
        let fortnights = appended(&format!("{x}methods = [\"weibull\"]"))
            .replace("name = \"base\"", "name = \"base\"\ntime_unit = \"fortnights\"");
        let e = error(&fortnights);
        assert_eq!(e.key(), Some("analysis.long_term.horizon"), "{e}");
        assert!(e.to_string().contains("unknown in time unit \"fortnights\""), "{e}");
        // With a horizon, the times to extrapolate to are still unknown in fortnights.
        let with_horizon = fortnights.replace(x, &format!("[analysis.long_term]\nhorizon = 500\n{x}"));
        let e = error(&with_horizon);
        assert_eq!(e.key(), Some("analysis.long_term.extrapolation.at"), "{e}");
        let sc =
            valid(&with_horizon.replace("methods = [\"weibull\"]", "methods = [\"weibull\"]\nat = [260]"));
        let x = sc.analysis.long_term.unwrap().extrapolation.unwrap();
        assert_eq!(x.at, vec![260.0]);
    }
}
