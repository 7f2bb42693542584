//! `[analysis]`: the primary endpoint, level and sides, the tests and the keys they need,
//! horizons and periods, the crossing rule, the MaxCombo weights, the never-better path and the
//! long-term table.

use super::super::error::{ErrorKind, Namespace};
use super::super::{Analysis, Composite, CrossingRule, Endpoint, NeverBetter, Sides, Test, TestKind};
use super::raw::{self, S};
use super::{Ctx, MAX_PATIENTS, Result};
use crate::test_statistic::{Need, TEST_NAMES};

pub(super) fn analysis(
    ctx: &Ctx,
    a: &raw::RawAnalysis,
    endpoints: &[Endpoint],
    composites: &[Composite],
    unit: &str,
) -> Result<Analysis> {
    let Some(endpoint) = endpoints.iter().position(|e| &e.name == a.endpoint.get_ref()) else {
        let kind = ErrorKind::UnknownName {
            what: Namespace::Endpoint,
            name: a.endpoint.get_ref().clone(),
            allowed: endpoints.iter().map(|e| e.name.clone()).collect(),
        };
        return Err(ctx.fail(a.endpoint.span(), "analysis.endpoint", kind));
    };
    let alpha = match &a.alpha {
        Some(v) => ctx.number(v, "analysis.alpha", "a level in (0, 0.5]", |x| x > 0.0 && x <= 0.5)?,
        None => 0.025,
    };
    let sides = match &a.sides {
        None => Sides::One,
        Some(v) => match *v.get_ref() {
            1 => Sides::One,
            2 => Sides::Two,
            x => return Err(ctx.out_of_range(v.span(), "analysis.sides", "1 or 2", x)),
        },
    };
    let positive = |v: &Option<S<f64>>, key: &str| -> Result<Option<f64>> {
        v.as_ref().map(|x| ctx.number(x, key, "a time > 0", |t| t > 0.0)).transpose()
    };
    let tau = positive(&a.tau, "analysis.tau")?;
    let milestone = positive(&a.milestone, "analysis.milestone")?;
    let horizons = match &a.horizons {
        Some(h) => ctx.breaks(h, "analysis.horizons")?,
        None => Vec::new(),
    };
    let periods = match &a.periods {
        Some(p) => ctx.breaks(p, "analysis.periods")?,
        None => Vec::new(),
    };
    let given = |need: Need| match need {
        Need::Tau => tau.is_some(),
        Need::Milestone => milestone.is_some(),
        Need::Periods => !periods.is_empty(),
    };
    let tests = tests(ctx, &a.tests, composites, given)?;
    let mut crossing = CrossingRule::default();
    if let Some(c) = &a.crossing {
        if let Some(g) = &c.min_gap {
            crossing.min_gap =
                ctx.number(g, "analysis.crossing.min_gap", "a gap in [0, 1)", |x| (0.0..1.0).contains(&x))?;
        }
        if let Some(k) = &c.min_at_risk {
            crossing.min_at_risk = ctx.integer(k, "analysis.crossing.min_at_risk", 1, MAX_PATIENTS)? as usize;
        }
    }
    let maxcombo_weights = match &a.maxcombo {
        Some(m) => maxcombo_weights(ctx, &m.weights)?,
        None => crate::stats::maxcombo::DEFAULT_WEIGHTS.to_vec(),
    };
    let never_better = a.never_better.as_ref().map(|nb| never_better(ctx, nb.get_ref())).transpose()?;
    let long_term = super::long_term::long_term(ctx, a.long_term.as_ref(), unit)?;
    Ok(Analysis {
        subgroups: a.subgroups.unwrap_or(true),
        never_better,
        long_term,
        endpoint,
        alpha,
        sides,
        tests,
        tau,
        milestone,
        horizons,
        periods,
        crossing,
        maxcombo_weights,
    })
}

/// `[analysis.never_better]`: at least one dotted key, each once; a finite `to`; `until` > 0.
/// Whether the keys are numbers of this scenario that move its curves, and the boundary itself,
/// are checked where the boundary is solved (`truth::never_better`).
fn never_better(ctx: &Ctx, nb: &raw::RawNeverBetter) -> Result<NeverBetter> {
    let items = nb.vary.get_ref();
    if items.is_empty() {
        return Err(ctx.err(
            nb.vary.span(),
            "analysis.never_better.vary",
            "expected at least one dotted key (e.g. \"arms.hsct.causes.disease_death.relative.hr[1]\")"
                .to_string(),
        ));
    }
    let mut vary: Vec<String> = Vec::new();
    for (i, k) in items.iter().enumerate() {
        let key = k.get_ref().trim().to_string();
        let at = format!("analysis.never_better.vary[{i}]");
        if crate::scenario::overrides::steps(&key).is_none() {
            return Err(ctx.err(
                k.span(),
                at,
                format!("{key:?} is not a dotted key (e.g. design.n or relative.hr[1])"),
            ));
        }
        if vary.contains(&key) {
            return Err(ctx.fail(k.span(), at, ErrorKind::Duplicate { item: format!("key {key:?}") }));
        }
        vary.push(key);
    }
    let to = ctx.number(&nb.to, "analysis.never_better.to", "a finite number", f64::is_finite)?;
    let until = match &nb.until {
        Some(u) => {
            Some(ctx.number(u, "analysis.never_better.until", "a time > 0", |t| t > 0.0 && t.is_finite())?)
        }
        None => None,
    };
    Ok(NeverBetter { vary, to, until })
}

/// `analysis.tests`: known names, each once, whose keys are given (`given`).
fn tests(
    ctx: &Ctx,
    list: &S<Vec<S<String>>>,
    composites: &[Composite],
    given: impl Fn(Need) -> bool,
) -> Result<Vec<Test>> {
    let mut tests: Vec<Test> = Vec::new();
    for t in list.get_ref() {
        let name = t.get_ref().trim().to_string();
        // `win(NAME)`: the composite endpoint NAME's win statistics.
        if let Some(c) = name.strip_prefix("win(").and_then(|x| x.strip_suffix(')')) {
            let Some(composite) = composites.iter().position(|x| x.name == c.trim()) else {
                let kind = ErrorKind::UnknownName {
                    what: Namespace::Endpoint,
                    name: c.trim().to_string(),
                    allowed: composites.iter().map(|x| x.name.clone()).collect(),
                };
                return Err(ctx.fail(t.span(), "analysis.tests", kind));
            };
            if tests.iter().any(|x| x.name == name) {
                let kind = ErrorKind::Duplicate { item: format!("test {name:?}") };
                return Err(ctx.fail(t.span(), "analysis.tests", kind));
            }
            tests.push(Test { name, kind: TestKind::Win { composite } });
            continue;
        }
        let Some(kind) = TestKind::parse(&name) else {
            let allowed = TEST_NAMES.split(", ").map(str::to_string).collect();
            let kind = ErrorKind::UnknownName { what: Namespace::Test, name, allowed };
            return Err(ctx.fail(t.span(), "analysis.tests", kind));
        };
        if tests.iter().any(|x| x.name == name) {
            let kind = ErrorKind::Duplicate { item: format!("test {name:?}") };
            return Err(ctx.fail(t.span(), "analysis.tests", kind));
        }
        if let Some(need) = kind.needs().filter(|&n| !given(n)) {
            let kind =
                ErrorKind::TestNeeds { test: name, needs: need.key().into(), what: need.what().into() };
            return Err(ctx.fail(t.span(), need.key(), kind));
        }
        tests.push(Test { name, kind });
    }
    Ok(tests)
}

/// `[analysis.maxcombo] weights = [[rho, gamma], ...]`: 1 to 6 distinct pairs ≥ 0 that span at
/// most `MAX_MAXCOMBO_RANK` dimensions.
fn maxcombo_weights(ctx: &Ctx, weights: &S<Vec<S<Vec<f64>>>>) -> Result<Vec<(f64, f64)>> {
    let key = "analysis.maxcombo.weights";
    let pairs = weights.get_ref();
    if pairs.is_empty() || pairs.len() > 6 {
        return Err(ctx.out_of_range(weights.span(), key, "1 to 6 [rho, gamma] pairs", pairs.len()));
    }
    let mut out: Vec<(f64, f64)> = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        let w = match pair.get_ref()[..] {
            [rho, gamma] if [rho, gamma].iter().all(|x| x.is_finite() && *x >= 0.0) => (rho, gamma),
            _ => {
                let found = format!("{:?}", pair.get_ref());
                let expected = "[rho, gamma] with both ≥ 0";
                return Err(ctx.out_of_range(pair.span(), format!("{key}[{i}]"), expected, found));
            }
        };
        if out.contains(&w) {
            let kind = ErrorKind::Duplicate { item: format!("{:?}", pair.get_ref()) };
            return Err(ctx.fail(pair.span(), format!("{key}[{i}]"), kind));
        }
        out.push(w);
    }
    // The p-value integrates over as many dimensions as the weights span as functions of Ŝ;
    // the deterministic quadrature is fast and accurate up to 3 (the default set spans 3).
    let rank = weight_rank(&out);
    if rank > crate::stats::mvn::MAX_MAXCOMBO_RANK {
        return Err(ctx.err(
            weights.span(),
            key,
            format!(
                "these weights span {rank} dimensions (as functions of the survival curve); at most {} are supported — drop a pair, e.g. keep [[0,0],[0,1],[1,0],[1,1]]",
                crate::stats::mvn::MAX_MAXCOMBO_RANK
            ),
        ));
    }
    Ok(out)
}

/// The dimension spanned by FH weight functions S^ρ(1 − S)^γ over S in (0, 1): the rank of their
/// correlation over a fine grid of S (the data's correlation matrix can only have less).
fn weight_rank(weights: &[(f64, f64)]) -> usize {
    let grid: Vec<f64> = (1..200).map(|i| f64::from(i) / 200.0).collect();
    let k = weights.len();
    let vals: Vec<Vec<f64>> = weights
        .iter()
        .map(|&(r, g)| grid.iter().map(|&s| crate::stats::logrank::fh_weight(s, r, g)).collect())
        .collect();
    let mut corr = vec![0.0; k * k];
    for a in 0..k {
        for b in 0..k {
            let dot: f64 = vals[a].iter().zip(&vals[b]).map(|(x, y)| x * y).sum();
            let na: f64 = vals[a].iter().map(|x| x * x).sum::<f64>().sqrt();
            let nb: f64 = vals[b].iter().map(|x| x * x).sum::<f64>().sqrt();
            corr[a * k + b] = dot / (na * nb);
        }
    }
    crate::stats::mvn::pivoted_cholesky(&corr, k).1
}

#[cfg(test)]
mod tests {
    use super::super::fixture::*;
    use crate::scenario::error::{ErrorKind, Namespace};

    #[test]
    fn an_unknown_test() {
        let e = error(&edited(21, r#"tests = ["logrank", "logrnak"]"#));
        let ErrorKind::UnknownName { what: Namespace::Test, name, allowed } = e.kind() else { panic!("{e}") };
        assert_eq!((name.as_str(), allowed.len()), ("logrnak", 22));
        assert_eq!((e.key(), e.line_column()), (Some("analysis.tests"), Some((21, 21))));
    }

    #[test]
    fn a_test_listed_twice_after_trimming() {
        assert_error(
            &edited(21, r#"tests = ["logrank", " logrank"]"#),
            ErrorKind::Duplicate { item: "test \"logrank\"".into() },
            "analysis.tests",
            (21, 21),
        );
    }

    #[test]
    fn rmst_without_tau() {
        assert_error(
            &edited(22, ""),
            ErrorKind::TestNeeds {
                test: "rmst".into(),
                needs: "analysis.tau".into(),
                what: "the RMST horizon".into(),
            },
            "analysis.tau",
            (21, 21),
        );
    }

    #[test]
    fn an_unknown_primary_endpoint() {
        assert_error(
            &edited(20, r#"endpoint = "os""#),
            ErrorKind::UnknownName { what: Namespace::Endpoint, name: "os".into(), allowed: names(&["efs"]) },
            "analysis.endpoint",
            (20, 12),
        );
    }

    #[test]
    fn sides_not_one_or_two() {
        assert_error(
            &edited(20, "endpoint = \"efs\"\nsides = 3"),
            out_of_range("1 or 2", "3"),
            "analysis.sides",
            (21, 9),
        );
    }

    #[test]
    fn a_maxcombo_pair_listed_twice() {
        assert_error(
            &appended("[analysis.maxcombo]\nweights = [[0,1],[0,1]]"),
            ErrorKind::Duplicate { item: "[0.0, 1.0]".into() },
            "analysis.maxcombo.weights[1]",
            (25, 18),
        );
    }

    #[test]
    fn weights_spanning_too_many_dimensions() {
        let e = error(&appended("[analysis.maxcombo]\nweights = [[0,0],[0,1],[1,0],[0.5,0.5],[0,3]]"));
        assert!(
            matches!(e.kind(), ErrorKind::Invalid(m) if m.starts_with("these weights span 4 dimensions")),
            "{e}"
        );
        assert_eq!((e.key(), e.line_column()), (Some("analysis.maxcombo.weights"), Some((25, 11))));
    }
}
