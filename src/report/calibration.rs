//! Calibration outputs: calibration.json (the contract: `parameters` name → value, se;
//! `targets` with name, published, model, percentile, interval), calibration.md, calibration.svg
//! (per study, the published figures with their CIs over the fitted model's curves and the 95%
//! predictive bands), fitted.toml (a runnable scenario) and draws.csv (bootstrap draws, one
//! column per dotted key, as `trialsim assurance --draws` reads them).

use std::fmt::Write;
use std::path::PathBuf;

#[cfg(feature = "plots")]
use plotters::prelude::*;
use serde_json::{Value, json};

#[cfg(feature = "plots")]
use super::RenderError;
#[cfg(feature = "plots")]
use super::chart::PALETTE;
#[cfg(feature = "plots")]
use crate::calibrate::curves::{Curve, curves};
use crate::calibrate::near_bound;
use crate::calibrate::{Calibration, LikelihoodRatio, Problem};

fn finite(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}

/// Each parameter's estimate, SE, bounds, keys per study and bootstrap summary, by name.
fn parameters_json(c: &Calibration) -> serde_json::Map<String, Value> {
    let p = &c.problem;
    let mut parameters = serde_json::Map::new();
    for (j, par) in p.params.iter().enumerate() {
        let b = &c.bootstrap.parameters[j];
        let a = Agreement::of(c, j);
        let keys: serde_json::Map<String, Value> = p
            .studies
            .iter()
            .zip(&par.keys)
            .filter(|(_, k)| !k.is_empty())
            .map(|(s, k)| (s.name().to_string(), json!(k)))
            .collect();
        parameters.insert(
            par.name.clone(),
            json!({
                "value": c.fit.estimate[j],
                "se": finite(c.fit.se[j]),
                "identified": c.fit.se[j].is_finite(),
                "bounds": [par.lower, par.upper],
                "at_bound": near_bound(c.fit.estimate[j], par.lower, par.upper),
                "keys": keys,
                "bootstrap": {
                    "mean": finite(b.mean), "sd": finite(b.sd), "interval": [finite(b.lower), finite(b.upper)],
                    "scale": b.scale, "se_on_scale": finite(a.se), "sd_on_scale": finite(a.sd),
                    "sd_over_se": finite(a.ratio()), "sd_on_scale_all_draws": finite(b.sd_on_scale_all),
                    "at_bound": finite(b.at_bound), "exempt": a.exempt,
                    "agrees": !a.exempt && a.agrees(),
                },
            }),
        );
    }
    parameters
}

pub fn json(c: &Calibration) -> String {
    let p = &c.problem;
    let parameters = parameters_json(c);
    let targets: Vec<Value> = c
        .targets
        .iter()
        .map(|t| {
            json!({
                "study": t.study,
                "name": t.name,
                "kind": t.kind,
                "role": t.role,
                "published": t.published,
                "published_ci": t.published_ci.map(|(a, b)| [a, b]),
                "model": finite(t.model),
                "percentile": t.percentile,
                "interval": [finite(t.interval.0), finite(t.interval.1)],
                "outside": t.outside,
                "not_estimable": t.not_estimable,
                "source": t.source,
                "note": t.note,
            })
        })
        .collect();
    let v = json!({
        "studies": p.studies.iter().map(|s| s.name()).collect::<Vec<_>>(),
        "seeds": c.problem.studies.iter().zip(&c.seeds).map(|(s, &seed)| json!({"study": s.name(), "seed": seed})).collect::<Vec<_>>(),
        "parameters": parameters,
        "fit": {
            "negative_log_likelihood": c.fit.optimum.negative_log_likelihood,
            "identified_dimensions": c.fit.rank,
            "starts": c.fit.optimum.starts.len(),
            "starts_agreeing": c.fit.optimum.starts_agreeing,
            "converged": c.fit.optimum.starts.iter().any(|s| s.converged && s.negative_log_likelihood - c.fit.optimum.negative_log_likelihood < 1e-3),
            "start_outcomes": c.fit.optimum.starts,
        },
        "likelihood_ratio": c.likelihood_ratio.as_ref().map(|lr| json!({
            "statistic": lr.statistic,
            "raw_statistic": lr.raw_statistic,
            "separate_fits_converged": lr.separate_fits_converged,
            "df": lr.df,
            "p_value": finite(lr.p_value),
            "separate": lr.separate.iter().map(|s| json!({
                "study": s.study,
                "negative_log_likelihood": s.negative_log_likelihood,
                "identified_dimensions": s.rank,
                "parameters": s.parameters.iter().map(|(n, v, se)| json!({"name": n, "value": v, "se": finite(*se)})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })),
        "targets": targets,
        "predictive": c.predictive,
        "bootstrap": { "draws": c.bootstrap.draws, "unconverged": c.bootstrap.unconverged },
        "follow_up": c.follow_up,
    });
    serde_json::to_string_pretty(&v).expect("serialises") + "\n"
}

/// Draws at a bound beyond this share make the bootstrap SD meaningless: such a parameter is
/// reported with its percentile interval instead of the SE comparison.
const AT_BOUND_EXEMPT: f64 = 0.02;

/// The SE and the bootstrap SD agree when they differ by at most this share of the SE.
const AGREEMENT: f64 = 0.25;

/// One parameter's observed-information SE beside its bootstrap SD, both on the parameter's
/// scale (log or logit; `Scale`).
struct Agreement {
    se: f64,
    sd: f64,
    exempt: bool,
}

impl Agreement {
    fn of(c: &Calibration, j: usize) -> Agreement {
        let b = &c.bootstrap.parameters[j];
        Agreement {
            se: b.scale.delta_se(c.fit.estimate[j], c.fit.se[j]),
            sd: b.sd_on_scale,
            // NaN (no draws) counts as exempt: there is no spread to compare.
            exempt: b.at_bound.is_nan() || b.at_bound > AT_BOUND_EXEMPT,
        }
    }

    fn ratio(&self) -> f64 {
        self.sd / self.se
    }

    fn agrees(&self) -> bool {
        (self.ratio() - 1.0).abs() <= AGREEMENT
    }
}

fn g(x: f64) -> String {
    if x.is_nan() {
        "—".into()
    } else if x.fract() == 0.0 && x.abs() < 1e6 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

/// The observed-information SE against the bootstrap SD, each parameter on its own scale.
fn agreement_table(o: &mut String, c: &Calibration) {
    let _ = writeln!(
        o,
        "## Observed-information SE against the bootstrap
"
    );
    let _ = writeln!(
        o,
        "On the scale where each estimate is near normal (log for hazard ratios, rates and factors; logit for risks): the SE by the delta method, the SD of the {} refitted values inside the bounds (a refit that stops at a bound is censored there; the SD of all draws is beside it). They agree when they differ by at most {:.0}%; a parameter with more than {:.0}% of its draws at a bound is exempt and read from its percentile interval.\n",
        c.bootstrap.draws,
        100.0 * AGREEMENT,
        100.0 * AT_BOUND_EXEMPT
    );
    let _ = writeln!(
        o,
        "| parameter | scale | SE | bootstrap SD | SD / SE | SD of all draws | draws at a bound | reading |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    for (j, par) in c.problem.params.iter().enumerate() {
        let b = &c.bootstrap.parameters[j];
        let a = Agreement::of(c, j);
        let scale = match b.scale {
            crate::calibrate::Scale::Log => "log",
            crate::calibrate::Scale::Logit => "logit",
            crate::calibrate::Scale::Identity => "identity",
        };
        let reading = if a.exempt {
            format!("exempt: percentile interval {}–{}", g(b.lower), g(b.upper))
        } else if !a.se.is_finite() {
            "SE not identified".to_string()
        } else if a.agrees() {
            "agree".to_string()
        } else {
            format!("differ by {:.0}%", 100.0 * (a.ratio() - 1.0).abs())
        };
        let f = |x: f64, digits: usize| if x.is_finite() { format!("{x:.digits$}") } else { "—".into() };
        let _ = writeln!(
            o,
            "| `{}` | {scale} | {} | {} | {} | {} | {:.1}% | {reading} |",
            par.name,
            f(a.se, 3),
            f(a.sd, 3),
            f(a.ratio(), 2),
            f(b.sd_on_scale_all, 3),
            100.0 * b.at_bound
        );
    }
    let _ = writeln!(o);
}

pub(crate) fn markdown(c: &Calibration) -> String {
    let p = &c.problem;
    let mut o = String::new();
    let names: Vec<&str> = p.studies.iter().map(|s| s.name()).collect();
    let _ = writeln!(o, "# Calibration: {}\n", names.join(" + "));
    let conv = c.fit.optimum.starts_agreeing;
    let _ = writeln!(
        o,
        "Maximum likelihood over {} free parameters: −ℓ = {:.3}; {conv} of {} Nelder–Mead starts reached it (within 0.001); {} identified dimensions.\n",
        p.params.len(),
        c.fit.optimum.negative_log_likelihood,
        c.fit.optimum.starts.len(),
        c.fit.rank
    );
    o.push_str(&super::plain_section(&plain(c)));
    parameters(&mut o, c);
    let _ = writeln!(
        o,
        "\nBootstrap: {} simulated studies refitted ({} stopped without meeting the tolerance).\n",
        c.bootstrap.draws, c.bootstrap.unconverged
    );
    if c.bootstrap.draws >= 2 {
        agreement_table(&mut o, c);
    }
    if let Some(lr) = &c.likelihood_ratio {
        one_model(&mut o, lr);
    }
    let _ = writeln!(o, "## Follow-up of each study's design\n");
    let _ = writeln!(o, "| study | expected cut | median time on study | potential follow-up |");
    let _ = writeln!(o, "|---|---|---|---|");
    for f in &c.follow_up {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {}–{} |",
            f.study,
            g(f.expected_cut),
            g(f.median),
            g(f.range.0),
            g(f.range.1)
        );
    }
    figures(&mut o, c);
    let _ = writeln!(o, "## Sources\n");
    for t in &c.targets {
        if !t.source.is_empty() || !t.note.is_empty() {
            let (source, note) = (super::md_text(&t.source), super::md_text(&t.note));
            let _ = writeln!(o, "- `{}` / `{}`: {source} {note}", t.study, t.name);
        }
    }
    o.push_str(&super::glossary_section(&[], &GLOSSARY.map(|(w, m)| (w.to_string(), m.to_string()))));
    o
}

/// The words calibration.md uses.
const GLOSSARY: [(&str, &str); 4] = [
    (
        "Maximum likelihood",
        "the parameter values under which the published figures are most probable: the fitted model.",
    ),
    (
        "Predictive interval",
        "where 95% of the figures of studies simulated from the fitted model fall; a published figure outside it is one the model does not reproduce.",
    ),
    (
        "Likelihood ratio",
        "how much better separate fits of each study explain their figures than one shared model; a small p-value says the studies need different parameters.",
    ),
    (
        "Bootstrap",
        "studies simulated from the fitted model and fitted again: the spread of their estimates is the uncertainty of each parameter.",
    ),
];

/// calibration.md's opening sentences: what was fitted to what, how well the fitted model
/// reproduces the published figures, whether one model serves every study, the bootstrap.
pub(crate) fn plain(c: &Calibration) -> Vec<String> {
    let p = &c.problem;
    let names: Vec<&str> = p.studies.iter().map(|s| s.name()).collect();
    let k = p.params.len();
    let mut out = vec![format!(
        "{k} free parameter{} of the model {} fitted by maximum likelihood to {} published figures of {}.",
        if k == 1 { "" } else { "s" },
        if k == 1 { "was" } else { "were" },
        c.targets.len(),
        names.join(", ")
    )];
    let pr = &c.predictive;
    out.push(format!(
        "In studies simulated from the fitted model, {} of the {} figures fall outside their 95% predictive interval, where about {:.1} would by chance (p = {:.3}).",
        pr.outside, pr.figures, pr.expected_outside, pr.p_value_outside
    ));
    if let Some(lr) = &c.likelihood_ratio
        && lr.p_value.is_finite()
    {
        let verdict = if lr.p_value < 0.05 {
            "evidence that the studies need different parameters"
        } else {
            "no evidence that the studies need different parameters"
        };
        out.push(format!(
            "One model for all studies: the likelihood ratio against separate fits gives p = {:.3}, {verdict}.",
            lr.p_value
        ));
    }
    if c.bootstrap.draws >= 2 {
        out.push(format!(
            "{} simulated studies were fitted again to give each parameter's bootstrap interval.",
            c.bootstrap.draws
        ));
    }
    out
}

/// The parameters' estimates, SEs, bootstrap intervals, bounds and studies.
fn parameters(o: &mut String, c: &Calibration) {
    let p = &c.problem;
    let _ = writeln!(o, "## Parameters\n");
    let _ = writeln!(
        o,
        "| parameter | estimate | SE (observed information) | bootstrap 95% interval | bounds | studies |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for (j, par) in p.params.iter().enumerate() {
        let b = &c.bootstrap.parameters[j];
        let studies: Vec<&str> =
            p.studies.iter().zip(&par.keys).filter(|(_, k)| !k.is_empty()).map(|(s, _)| s.name()).collect();
        let se = if c.fit.se[j].is_finite() { g(c.fit.se[j]) } else { "not identified".into() };
        let bound = if near_bound(c.fit.estimate[j], par.lower, par.upper) { " (at a bound)" } else { "" };
        let _ = writeln!(
            o,
            "| `{}` | {}{bound} | {se} | {}–{} | [{}, {}] | {} |",
            par.name,
            g(c.fit.estimate[j]),
            g(b.lower),
            g(b.upper),
            g(par.lower),
            g(par.upper),
            studies.join(", ")
        );
    }
}

/// The joint fit against separate fits of each study (the likelihood ratio).
fn one_model(o: &mut String, lr: &LikelihoodRatio) {
    let _ = writeln!(o, "## One model for all studies?\n");
    let _ = writeln!(
        o,
        "Likelihood ratio of the joint fit (shared parameters) against separate fits of each study: LR = {:.2} on {} df (identified dimensions), p = {}.\n",
        lr.statistic,
        lr.df,
        if lr.p_value.is_nan() { "—".into() } else { format!("{:.3}", lr.p_value) }
    );
    let _ = writeln!(o, "| study alone | −ℓ | identified dimensions | estimates |");
    let _ = writeln!(o, "|---|---|---|---|");
    for s in &lr.separate {
        let est: Vec<String> = s
            .parameters
            .iter()
            .map(|(n, v, se)| {
                if se.is_finite() {
                    format!("{n} {} ({})", g(*v), g(*se))
                } else {
                    format!("{n} {} (n.i.)", g(*v))
                }
            })
            .collect();
        let _ = writeln!(
            o,
            "| {} | {:.3} | {} | {} |",
            s.study,
            s.negative_log_likelihood,
            s.rank,
            est.join("; ")
        );
    }
    let _ = writeln!(o);
}

/// Every published figure against the fitted model, and the predictive check's verdict.
fn figures(o: &mut String, c: &Calibration) {
    let _ = writeln!(o, "\n## Every published figure against the fitted model\n");
    let _ = writeln!(
        o,
        "Percentile: the fraction of {} simulated copies of the study below the published figure (mid-p for counts). Role: `fit` in the likelihood, `split` a split of fitted counts, `check` restates other figures (predictive check only).\n",
        c.predictive.replicates
    );
    let _ =
        writeln!(o, "| study | figure | role | published | model | percentile | 95% predictive interval | |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    for t in &c.targets {
        let ci = t.published_ci.map_or(String::new(), |(a, b)| format!(" ({}–{})", g(a), g(b)));
        let flag = if t.outside { "**outside**" } else { "" };
        let _ = writeln!(
            o,
            "| {} | {} | {} | {}{ci} | {} | {:.3} | {}–{} | {flag} |",
            t.study,
            t.name,
            t.role,
            g(t.published),
            g(t.model),
            t.percentile,
            g(t.interval.0),
            g(t.interval.1)
        );
    }
    let pr = &c.predictive;
    let _ = writeln!(
        o,
        "\n{} of {} figures fall outside their 95% predictive interval. Simulated copies of the studies (from the fitted model) have {:.2} outside on average, and {:.1}% of them have {} or more: {}. The check treats the fitted values as known (no parameter uncertainty), and the fitted figures helped choose them: read a fitted figure's percentile as optimistic; a `check` figure is the fairer test.\n",
        pr.outside,
        pr.figures,
        pr.expected_outside,
        100.0 * pr.p_value_outside,
        pr.outside,
        if pr.p_value_outside < 0.05 {
            "more figures fall outside than chance explains"
        } else {
            "no sign of more figures outside than chance explains"
        }
    );
}

/// fitted.toml for study `s`: the study file with the fitted values written in.
/// The files of `trialsim calibrate`, by path in the output directory (report.html is added
/// from calibration.md by the command): calibration.json, calibration.md, calibration.svg, then
/// per study its fitted.toml and, with a bootstrap, its draws.csv (in the study's folder of a
/// joint fit).
#[cfg(feature = "plots")]
pub fn files(c: &Calibration) -> Result<Vec<(PathBuf, Vec<u8>)>, RenderError> {
    let plot = svg(c).map_err(|e| RenderError::of("calibration.svg")(&e))?;
    let mut files = vec![
        (PathBuf::from("calibration.json"), json(c).into_bytes()),
        (PathBuf::from("calibration.md"), markdown(c).into_bytes()),
        (PathBuf::from("calibration.svg"), plot.into_bytes()),
    ];
    for s in 0..c.problem.studies.len() {
        let dir = study_path(&c.problem, s);
        let toml = fitted_toml(c, s).map_err(|e| RenderError::of("fitted.toml")(&e))?;
        files.push((dir.join("fitted.toml"), toml.into_bytes()));
        if !c.draws.is_empty() {
            files.push((
                dir.join("draws.csv"),
                draws_csv(c, s).map_err(|e| RenderError::of("draws.csv")(&e))?,
            ));
        }
    }
    Ok(files)
}

/// Study `s`'s folder in the output directory (none for a single study).
pub(crate) fn study_path(p: &Problem, s: usize) -> PathBuf {
    study_dir(p, s).map_or_else(PathBuf::new, PathBuf::from)
}

pub(crate) fn fitted_toml(c: &Calibration, s: usize) -> Result<String, crate::scenario::ScenarioError> {
    let p = &c.problem;
    let st = &p.studies[s];
    let text = st.template.text_with(&p.overrides(s, &c.fit.estimate))?;
    let mut head = format!(
        "# Fitted by `trialsim calibrate` from {} (studies: {}).\n# Free parameters at their maximum-likelihood values:\n",
        st.path.display(),
        p.studies.iter().map(|x| x.name()).collect::<Vec<_>>().join(", ")
    );
    for (j, par) in p.params.iter().enumerate() {
        if !par.keys[s].is_empty() {
            let se = if c.fit.se[j].is_finite() {
                format!("SE {}", g(c.fit.se[j]))
            } else {
                "not identified".into()
            };
            let _ = writeln!(
                head,
                "#   {} = {} ({se}) -> {}",
                par.name,
                c.fit.estimate[j],
                par.keys[s].join(", ")
            );
        }
    }
    Ok(head + "\n" + &text)
}

/// draws.csv for study `s`: `draw`, then one column per dotted key it sets.
pub(crate) fn draws_csv(c: &Calibration, s: usize) -> Result<Vec<u8>, csv::Error> {
    let p = &c.problem;
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["draw".to_string()];
    let mut cols = Vec::new();
    for (j, par) in p.params.iter().enumerate() {
        for k in &par.keys[s] {
            header.push(k.clone());
            cols.push(j);
        }
    }
    w.write_record(&header)?;
    for (d, row) in c.draws.iter().enumerate() {
        let mut rec = vec![d.to_string()];
        rec.extend(cols.iter().map(|&j| super::float(row[j])));
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(feature = "plots")]
pub fn svg(c: &Calibration) -> Result<String, crate::report::chart::DrawError> {
    let n = c.problem.studies.len();
    let panels: Vec<Vec<Curve>> = (0..n).map(|s| curves(c, s)).collect();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (900, 420 * n as u32)).into_drawing_area();
        root.fill(&WHITE)?;
        let areas = root.split_evenly((n, 1));
        for (s, (area, curves)) in areas.iter().zip(&panels).enumerate() {
            let unit = &c.fitted[s].time_unit;
            let x_max = curves.iter().flat_map(|c| c.model.last().map(|p| p.0)).fold(1.0, f64::max);
            let y_max = y_max(curves);
            let title = format!(
                "{}: published figures (●, with CI) over the fitted model (line) and 95% predictive bands",
                c.problem.studies[s].name()
            );
            let mut chart = ChartBuilder::on(area)
                .caption(title, ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(52)
                .build_cartesian_2d(0f64..x_max, 0f64..(y_max * 1.05).min(1.0))?;
            chart
                .configure_mesh()
                .x_desc(format!("time since randomisation or transplant ({unit})"))
                .y_desc("probability")
                .draw()?;
            let w = 0.012 * x_max;
            for (i, cv) in curves.iter().enumerate() {
                let col = PALETTE[i % PALETTE.len()];
                // Curves with figures at the same time sit side by side.
                let dx = (i as f64 - 0.5 * (curves.len() as f64 - 1.0)) * 2.4 * w;
                chart
                    .draw_series(LineSeries::new(cv.model.iter().copied(), col.stroke_width(2)))?
                    .label(cv.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2)));
                chart.draw_series(cv.points.iter().filter(|p| p.band.0.is_finite()).map(|p| {
                    Rectangle::new(
                        [(p.time + dx - w, p.band.0), (p.time + dx + w, p.band.1)],
                        col.mix(0.25).filled(),
                    )
                }))?;
                chart.draw_series(cv.points.iter().filter_map(|p| {
                    p.ci.map(|(lo, hi)| {
                        PathElement::new(vec![(p.time + dx, lo), (p.time + dx, hi)], BLACK.stroke_width(1))
                    })
                }))?;
                chart.draw_series(
                    cv.points.iter().map(|p| Circle::new((p.time + dx, p.published), 4, col.filled())),
                )?;
            }
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
        }
        root.present()?;
    }
    let names: Vec<&str> = c.problem.studies.iter().map(|s| s.name()).collect();
    let what = format!(
        "Calibration to {}: published figures with their intervals over the fitted model and its 95% predictive bands",
        names.join(", ")
    );
    Ok(crate::report::chart::titled(buf, &what))
}

/// Output directory layout: one study writes fitted.toml and draws.csv at the top; several write
/// them under `<study>/`.
pub(crate) fn study_dir(p: &Problem, s: usize) -> Option<String> {
    (p.studies.len() > 1).then(|| p.studies[s].name().to_string())
}

/// The top of a panel's probability axis: the largest model value, published figure, band or
/// CI end (at least 0.1, at most 1).
#[cfg(feature = "plots")]
fn y_max(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .flat_map(|c| {
            c.model
                .iter()
                .map(|p| p.1)
                .chain(c.points.iter().flat_map(|p| [p.published, p.band.1, p.ci.map_or(0.0, |x| x.1)]))
        })
        .filter(|v| v.is_finite())
        .fold(0.1, f64::max)
        .min(1.0)
}
