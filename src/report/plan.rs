//! Plan outputs: plan.json (the contract: key, value, interval, power, power_se, schoenfeld),
//! plan.md, plan.svg (the simulated power curve with ±1.96 SE bars, the target and the answer);
//! for a planning grid also plan.csv and plan_heatmap.svg.

use std::fmt::Write;

#[cfg(feature = "plots")]
use plotters::prelude::*;

#[cfg(feature = "plots")]
use super::chart::{LineChart, Series};
#[cfg(feature = "plots")]
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::{Value, json};

#[cfg(feature = "plots")]
use super::{RenderError, Rendered, json_text};
use crate::plan::Answer;
use crate::sweep::Axis;

/// The files of `trialsim plan` (report.html is added from plan.md by the command), and
/// plan.md's text (which the command prints as its summary): for one search, plan.json,
/// plan.svg and plan.md; over a grid of fixed values, plan.csv, plan.json (one object per
/// point), the heat map with two swept keys or more, and plan.md.
#[cfg(feature = "plots")]
pub fn files(
    name: &str,
    key: &str,
    target: f64,
    axes: &[Axis],
    rows: &[GridAnswer],
) -> Result<(Vec<Rendered>, String), RenderError> {
    let mut files: Vec<Rendered> = Vec::new();
    let md = if axes.is_empty() {
        let answers = &rows[0].answers;
        files.push(("plan.json", json(key, target, answers).into_bytes()));
        let plot = svg(name, key, target, answers).map_err(|e| RenderError::of("plan.svg")(&e))?;
        files.push(("plan.svg", plot.into_bytes()));
        markdown(name, key, target, answers)
            + &super::glossary_section(&["Power", "±", "Never-better rate"], &[])
    } else {
        files.push(("plan.csv", grid_csv(axes, rows).map_err(|e| RenderError::of("plan.csv")(&e))?));
        let keys: Vec<&str> = axes.iter().map(|a| a.key.as_str()).collect();
        let mut md = format!(
            "# {name} — smallest `{key}` for {:.0}% power over {} settings of {}\n\n",
            100.0 * target,
            rows.len(),
            keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
        );
        md.push_str(&super::plain_section(&grid_plain(key, target, rows)));
        for r in rows {
            let label: Vec<String> = r.overrides.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            md.push_str(&markdown(&label.join(", "), key, target, &r.answers).replacen("# ", "## ", 1));
            md.push('\n');
        }
        let list: Vec<Value> = rows
            .iter()
            .map(|r| {
                let mut v: Value =
                    serde_json::from_str(&json(key, target, &r.answers)).expect("plan JSON parses");
                v["overrides"] = json!(r.overrides);
                v
            })
            .collect();
        md.push_str(&super::glossary_section(&["Power", "±", "Never-better rate"], &[]));
        files.push(("plan.json", json_text(&list)));
        if let Some(map) = heatmap(name, key, axes, rows) {
            let map = map.map_err(|e| RenderError::of("plan_heatmap.svg")(&e))?;
            files.push(("plan_heatmap.svg", map.into_bytes()));
        }
        md
    };
    files.push(("plan.md", md.clone().into_bytes()));
    Ok((files, md))
}

fn answer_json(a: &Answer) -> Value {
    let mut v = json!({
        "test": a.test,
        "falling": a.falling,
        "value": a.value,
        "interval": a.interval.map(|(l, h)| [l, h]),
        "power": a.power,
        "power_se": a.power_se,
        "schoenfeld": a.schoenfeld,
        "note": a.note,
        "curve": a.curve,
    });
    if let Some(nb) = &a.never_better {
        v["never_better"] = json!(nb);
    }
    v
}

/// plan.json for one plan: the first test's answer at the top level, every test under `tests`.
pub fn json(key: &str, target: f64, answers: &[Answer]) -> String {
    let first = &answers[0];
    let mut v = answer_json(first);
    v["key"] = json!(key);
    v["target"] = json!(target);
    v["tests"] = Value::Array(answers.iter().map(answer_json).collect());
    serde_json::to_string_pretty(&v).expect("serialises") + "\n"
}

fn show(x: Option<f64>) -> String {
    x.map_or("—".into(), |v| if v.fract() == 0.0 { format!("{v:.0}") } else { format!("{v:.3}") })
}

pub(crate) fn markdown(name: &str, key: &str, target: f64, answers: &[Answer]) -> String {
    let mut o = String::new();
    let which = match (answers.iter().any(|a| a.falling), answers.iter().all(|a| a.falling)) {
        (false, _) => "smallest",
        (true, true) => "largest",
        (true, false) => "smallest (largest where power falls as it grows)",
    };
    let _ = writeln!(o, "# {name} — {which} `{key}` for {:.0}% power\n", 100.0 * target);
    o.push_str(&super::plain_section(&plain(key, target, answers)));
    let _ = writeln!(
        o,
        "| test | `{key}` | Monte Carlo interval | power there | Schoenfeld (PH at the average HR) | note |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|");
    for a in answers {
        let interval = a.interval.map_or("—".into(), |(l, h)| {
            format!("{}–{}", show(Some(l)), show(Some(h).filter(|x| x.is_finite())))
        });
        let power = if a.power.is_nan() { "—".into() } else { super::percent_se(a.power, a.power_se) };
        let _ = writeln!(
            o,
            "| `{}` | {} | {interval} | {power} | {} | {} |",
            a.test,
            show(a.value),
            show(a.schoenfeld),
            a.note
        );
    }
    let _ = writeln!(
        o,
        "\nThe interval is where the target lies within ±1.96 Monte Carlo SE of the simulated power (common random \
         numbers: the same trials at every value). Schoenfeld's answer assumes proportional hazards at the model's \
         average hazard ratio; the difference is what the crossing hazards cost."
    );
    never_better_markdown(&mut o, key, answers);
    o
}

/// plan.md's opening sentences: what each test needs for the target, beside Schoenfeld's
/// proportional-hazards answer.
pub(crate) fn plain(key: &str, target: f64, answers: &[Answer]) -> Vec<String> {
    let mut out = Vec::new();
    for a in answers.iter().take(4) {
        let pct = format!("{:.0}%", 100.0 * target);
        out.push(match a.value {
            Some(v) => {
                let schoenfeld = a.schoenfeld.map_or(String::new(), |s| {
                    format!(
                        " (Schoenfeld's formula, which assumes proportional hazards, says {})",
                        show(Some(s))
                    )
                });
                format!("The {} test reaches {pct} power at {key} = {}{schoenfeld}.", a.test, show(Some(v)))
            }
            None => format!("The {} test does not reach {pct} power within the values searched.", a.test),
        });
    }
    if answers.len() > 4 {
        out.push(format!("The table gives the other {} tests.", answers.len() - 4));
    }
    out
}

/// A grid plan's opening sentences: for each of the first three tests, the range of its answers
/// over the grid and how many settings are out of reach.
fn grid_plain(key: &str, target: f64, rows: &[GridAnswer]) -> Vec<String> {
    let mut out = vec![format!(
        "For each of {} settings, the smallest {key} that gives {:.0}% power was searched.",
        rows.len(),
        100.0 * target
    )];
    let tests: Vec<&str> =
        rows.first().map_or_else(Vec::new, |r| r.answers.iter().map(|a| a.test.as_str()).collect());
    for t in tests.iter().take(3) {
        let values: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.answers.iter().find(|a| a.test == *t).and_then(|a| a.value))
            .collect();
        let missing = rows.len() - values.len();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let reach = if missing > 0 { format!("; out of reach in {missing}") } else { String::new() };
        out.push(if values.is_empty() {
            format!("The {t} test is out of reach in every setting.")
        } else {
            format!("The {t} test needs {key} from {} to {}{reach}.", show(Some(lo)), show(Some(hi)))
        });
    }
    out
}

/// With `[analysis.never_better]`: each test's rate of declaring benefit at the never-better
/// boundary of its answer, and whether it is acceptable under `--never-better-limit`.
fn never_better_markdown(o: &mut String, key: &str, answers: &[Answer]) {
    if answers.iter().all(|a| a.never_better.is_none()) {
        return;
    }
    let _ = writeln!(
        o,
        "\n## Declaring benefit where the experimental arm is never better\n\nAt each test's answer, the \
         scenario moved along `analysis.never_better` to where the experimental arm's true survival is \
         nowhere above control's, simulated with the same replicates: how often the test declares \
         benefit there (an error for every test but `cox_periods`).\n"
    );
    let _ = writeln!(o, "| test | `{key}` | boundary value | declares benefit there | acceptable |");
    let _ = writeln!(o, "|---|---|---|---|---|");
    for a in answers {
        let Some(nb) = &a.never_better else {
            let _ = writeln!(o, "| `{}` | {} | — | — | — |", a.test, show(a.value));
            continue;
        };
        let acceptable = match nb.acceptable {
            None => "—",
            Some(true) => "yes",
            Some(false) => "**no**: above the limit",
        };
        let (boundary, rate) = match (nb.boundary, nb.rate, nb.se) {
            (Some(b), Some(r), Some(se)) => (super::short(b), super::percent_se(r, se)),
            _ => ("—".to_string(), nb.note.clone().unwrap_or_default()),
        };
        let _ = writeln!(o, "| `{}` | {} | {boundary} | {rate} | {acceptable} |", a.test, show(a.value));
    }
    let rejected: Vec<String> = answers
        .iter()
        .filter(|a| a.never_better.as_ref().is_some_and(|nb| nb.acceptable == Some(false)))
        .map(|a| format!("`{}`", a.test))
        .collect();
    if !rejected.is_empty() {
        let _ = writeln!(
            o,
            "\nNot acceptable: {} declare(s) benefit at the never-better boundary more often than \
             `--never-better-limit` allows, whatever the power; do not plan on them.",
            rejected.join(", ")
        );
    }
}

#[cfg(feature = "plots")]
pub fn svg(
    name: &str,
    key: &str,
    target: f64,
    answers: &[Answer],
) -> Result<String, crate::report::chart::DrawError> {
    LineChart {
        title: format!("{name}: power against {key}"),
        x_desc: key.to_string(),
        y_desc: "power".into(),
        series: answers
            .iter()
            .map(|a| Series {
                label: format!("{} → {}", a.test, show(a.value)),
                points: a.curve.iter().map(|e| (e.value, e.power, e.power_se)).collect(),
                marker: a.value,
            })
            .collect(),
        reference: Some((target, format!("target {target}"))),
    }
    .render()
}

/// One planned grid point.
pub struct GridAnswer {
    pub overrides: Vec<(String, f64)>,
    pub answers: Vec<Answer>,
}

pub(crate) fn grid_csv(axes: &[Axis], rows: &[GridAnswer]) -> Result<Vec<u8>, csv::Error> {
    let f = |x: Option<f64>| x.map_or("NaN".to_string(), |v| format!("{v}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().map(|a| a.key.clone()));
    header.extend(
        ["test", "value", "interval_low", "interval_high", "power", "power_se", "schoenfeld", "note"]
            .map(String::from),
    );
    // With [analysis.never_better], four more columns (a plan without it keeps its columns).
    let boundary = rows.iter().any(|r| r.answers.iter().any(|a| a.never_better.is_some()));
    if boundary {
        header.extend(
            ["never_better_boundary", "never_better_rate", "never_better_se", "never_better_acceptable"]
                .map(String::from),
        );
    }
    w.write_record(&header)?;
    for (p, r) in rows.iter().enumerate() {
        for a in &r.answers {
            let mut row = vec![p.to_string()];
            row.extend(r.overrides.iter().map(|(_, v)| format!("{v}")));
            row.extend([
                a.test.clone(),
                f(a.value),
                f(a.interval.map(|i| i.0)),
                f(a.interval.map(|i| i.1)),
                format!("{}", a.power),
                format!("{}", a.power_se),
                f(a.schoenfeld),
                a.note.clone(),
            ]);
            if boundary {
                let nb = a.never_better.as_ref();
                row.extend([
                    f(nb.and_then(|n| n.boundary)),
                    f(nb.and_then(|n| n.rate)),
                    f(nb.and_then(|n| n.se)),
                    nb.and_then(|n| n.acceptable).map_or(String::new(), |ok| ok.to_string()),
                ]);
            }
            w.write_record(&row)?;
        }
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(feature = "plots")]
/// A heat map of the planned value: one panel per (test, value of the third key), rows the
/// first key, columns the second; `None` for a grid of fewer than two keys.
pub(crate) fn heatmap(
    title: &str,
    key: &str,
    axes: &[Axis],
    rows: &[GridAnswer],
) -> Option<Result<String, crate::report::chart::DrawError>> {
    (axes.len() >= 2).then(|| draw_heatmap(title, key, axes, rows))
}

#[cfg(feature = "plots")]
fn draw_heatmap(
    title: &str,
    key: &str,
    axes: &[Axis],
    rows: &[GridAnswer],
) -> Result<String, crate::report::chart::DrawError> {
    let tests: Vec<String> = rows[0].answers.iter().map(|a| a.test.clone()).collect();
    let thirds: Vec<f64> = axes.get(2).map_or(vec![f64::NAN], |a| a.values.clone());
    let values: Vec<f64> = rows.iter().flat_map(|r| r.answers.iter().filter_map(|a| a.value)).collect();
    let (vmin, vmax) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    let mut buf = String::new();
    {
        let (pw, ph) = (300u32, 240u32);
        let width = (pw * thirds.len() as u32).max(760);
        let height = ph * tests.len() as u32 + 40;
        let root = SVGBackend::with_string(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let (head, body) = root.split_vertically(40);
        head.draw_text(
            &format!(
                "{title}: smallest {key} for the target; rows {}, columns {}",
                super::short_key(&axes[0].key),
                super::short_key(&axes[1].key)
            ),
            &("sans-serif", 14).into_text_style(&head),
            (10, 12),
        )?;
        let panels = body.split_evenly((tests.len(), thirds.len()));
        for (ti, t) in tests.iter().enumerate() {
            for (ki, k) in thirds.iter().enumerate() {
                let area = &panels[ti * thirds.len() + ki];
                let caption = if k.is_nan() {
                    t.clone()
                } else {
                    format!("{t}, {} = {k}", super::short_key(&axes[2].key))
                };
                Heat { axes, rows, range: (vmin, vmax) }.panel(area, caption, ti, *k)?;
            }
        }
        root.present()?;
    }
    let what = format!("{title}: smallest {key} reaching the target, by test and setting (heat map)");
    Ok(crate::report::chart::titled(buf, &what))
}

/// What every panel of the heat map draws from: the swept axes, the answers, and the range of
/// the answers (for the colour scale).
#[cfg(feature = "plots")]
struct Heat<'a> {
    axes: &'a [Axis],
    rows: &'a [GridAnswer],
    range: (f64, f64),
}

#[cfg(feature = "plots")]
impl Heat<'_> {
    /// One test's panel (at `k` of the third axis; NaN without one): a cell per pair of the
    /// first two axes, coloured and labelled by the smallest value reaching the target.
    fn panel(
        &self,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
        caption: String,
        ti: usize,
        k: f64,
    ) -> Result<(), crate::report::chart::DrawError> {
        let (axes, rows) = (self.axes, self.rows);
        let (nr, nc) = (axes[0].values.len(), axes[1].values.len());
        let mut chart = ChartBuilder::on(area)
            .caption(caption, ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(40)
            .build_cartesian_2d(0f64..nc as f64, 0f64..nr as f64)?;
        // Ticks at every half unit; only cell centres (x.5) carry a label.
        let centre = |x: f64, values: &[f64]| {
            if (x.fract() - 0.5).abs() < 1e-9 {
                values.get(x.floor() as usize).map_or(String::new(), |v| v.to_string())
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(2 * nc + 1)
            .y_labels(2 * nr + 1)
            .x_label_formatter(&|x| centre(*x, &axes[1].values))
            .y_label_formatter(&|y| centre(*y, &axes[0].values))
            .draw()?;
        for (ri, rv) in axes[0].values.iter().enumerate() {
            for (ci, cv) in axes[1].values.iter().enumerate() {
                let row = rows.iter().find(|r| {
                    r.overrides[0].1 == *rv
                        && r.overrides[1].1 == *cv
                        && (k.is_nan() || r.overrides[2].1 == k)
                });
                let v = row.and_then(|r| r.answers[ti].value);
                let colour = v.map_or(RGBColor(225, 225, 225), |v| colour(v, self.range));
                let (x, y) = (ci as f64, ri as f64);
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    colour.filled(),
                )))?;
                chart.draw_series(std::iter::once(Rectangle::new([(x, y), (x + 1.0, y + 1.0)], WHITE)))?;
                let label = v.map_or("out of reach".to_string(), |v| format!("{v:.0}"));
                let size = if v.is_some() { 15 } else { 10 };
                chart.draw_series(std::iter::once(Text::new(
                    label,
                    (x + 0.5, y + 0.5),
                    ("sans-serif", size)
                        .into_font()
                        .into_text_style(area)
                        .pos(Pos::new(HPos::Center, VPos::Center)),
                )))?;
            }
        }
        Ok(())
    }
}

/// A cell's colour: on a log scale over `range` (sample sizes span an order of magnitude
/// across tests), from light to dark.
#[cfg(feature = "plots")]
fn colour(v: f64, (vmin, vmax): (f64, f64)) -> RGBColor {
    let f = if vmax > vmin { (v.ln() - vmin.ln()) / (vmax.ln() - vmin.ln()) } else { 0.0 };
    RGBColor((255.0 - 90.0 * f) as u8, (245.0 - 150.0 * f) as u8, (235.0 - 190.0 * f) as u8)
}
