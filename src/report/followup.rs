//! Reports of the follow-up study: followup.md (table), followup.csv (tidy), followup.json,
//! followup.svg (power against follow-up, one line per test, ±1.96 MC SE bars).

use std::fmt::Write;

#[cfg(feature = "plots")]
#[cfg(feature = "plots")]
use super::chart::{LineChart, Series};

#[cfg(feature = "plots")]
use super::{RenderError, Rendered, json_text};
use crate::followup::FollowUp;

/// The files of `trialsim followup` (report.html is added from followup.md by the command).
#[cfg(feature = "plots")]
pub fn files(f: &FollowUp, unit: &str) -> Result<Vec<Rendered>, RenderError> {
    Ok(vec![
        ("followup.md", markdown(f, unit).into_bytes()),
        ("followup.csv", csv(f).map_err(|e| RenderError::of("followup.csv")(&e))?),
        ("followup.json", json_text(f)),
        ("followup.svg", svg(f, unit).map_err(|e| RenderError::of("followup.svg")(&e))?.into_bytes()),
    ])
}

pub(crate) fn markdown(f: &FollowUp, unit: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {} — power by test and follow-up\n", f.scenario);
    let _ = writeln!(
        o,
        "{} simulated trials (seed {}), each analysed at every cut: the same patients for every cut and \
         test. Power ± Monte Carlo SE; cuts are calendar times from the start of accrual ({unit}).\n",
        f.replicates, f.seed
    );
    o.push_str(&super::plain_section(&plain(f, unit)));
    let _ = write!(o, "| test |");
    for c in &f.cuts {
        let _ = write!(o, " {c} |");
    }
    let _ = writeln!(o, "\n|---|{}", "---|".repeat(f.cuts.len()));
    for t in &f.tests {
        let _ = write!(o, "| `{t}` |");
        for c in &f.cuts {
            let Some(p) = f.points.iter().find(|p| &p.test == t && p.cut == *c) else {
                let _ = write!(o, " — |");
                continue;
            };
            if p.note.is_some() {
                let _ = write!(o, " n/a¹ |");
            } else {
                let _ = write!(o, " {} |", super::percent_se(p.power, p.power_se));
            }
        }
        let _ = writeln!(o);
    }
    let _ = write!(o, "| mean events |");
    for e in &f.events {
        let _ = write!(o, " {e:.1} |");
    }
    let _ = write!(o, "\n| most powerful |");
    for b in &f.best {
        let _ = write!(o, " `{b}` |");
    }
    let _ = writeln!(o, "\n");
    let _ = writeln!(o, "What each test looks at:\n");
    for (t, meaning) in &f.meanings {
        let _ = writeln!(o, "- `{t}`: {meaning}");
    }
    let _ = writeln!(o);
    extrapolation(&mut o, f, unit);
    let notes: Vec<String> = f
        .points
        .iter()
        .filter_map(|p| p.note.as_ref().map(|n| format!("- `{}` at {}: {n}", p.test, p.cut)))
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(o, "¹ Not reported, rather than guessed:\n");
        for n in notes {
            let _ = writeln!(o, "{n}");
        }
    }
    o.push_str(&super::glossary_section(&["Power", "±"], &[]));
    o
}

/// followup.md's opening sentences: how the first test's power grows with follow-up, and which
/// test is the most powerful at the first and last cuts.
pub(crate) fn plain(f: &FollowUp, unit: &str) -> Vec<String> {
    use super::run::plain::in_100;
    let (Some(first), Some(last)) = (f.cuts.first(), f.cuts.last()) else { return Vec::new() };
    let s = super::short;
    let mut out = vec![format!(
        "{} simulated trials of this design were each analysed at {} calendar times, from {} to {} {unit} after the first patient entered.",
        f.replicates,
        f.cuts.len(),
        s(*first),
        s(*last)
    )];
    let power = |t: &str, c: f64| {
        f.points.iter().find(|p| p.test == t && p.cut == c && p.note.is_none()).map(|p| in_100(p.power))
    };
    if let Some(t) = f.tests.first()
        && let (Some(a), Some(b)) = (power(t, *first), power(t, *last))
    {
        out.push(format!(
            "The {t} test shows the experimental arm better in about {a} of 100 trials analysed at {} {unit} and {b} of 100 at {} {unit}.",
            s(*first),
            s(*last)
        ));
    }
    if let (Some(b0), Some(b1)) = (f.best.first(), f.best.last()) {
        out.push(if b0 == b1 {
            format!("The most powerful test is {b0} at every cut.")
        } else {
            format!("The most powerful test is {b0} at {} {unit} and {b1} at {} {unit}.", s(*first), s(*last))
        });
    }
    out
}

pub fn csv(f: &FollowUp) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["cut", "test", "power", "power_se", "not_estimable", "note"])?;
    for p in &f.points {
        w.write_record([
            format!("{}", p.cut),
            p.test.clone(),
            format!("{}", p.power),
            format!("{}", p.power_se),
            p.not_estimable.to_string(),
            p.note.clone().unwrap_or_default(),
        ])?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(feature = "plots")]
pub fn svg(f: &FollowUp, unit: &str) -> Result<String, crate::report::chart::DrawError> {
    let series = f
        .tests
        .iter()
        .map(|t| Series {
            label: t.clone(),
            points: f
                .points
                .iter()
                .filter(|p| &p.test == t && p.note.is_none())
                .map(|p| (p.cut, p.power, p.power_se))
                .collect(),
            marker: None,
        })
        .collect();
    LineChart {
        title: format!("{}: power by follow-up (same trials at every cut)", f.scenario),
        x_desc: format!("analysis cut, calendar time from the start of accrual ({unit})"),
        y_desc: "power".into(),
        series,
        reference: f.alpha.map(|a| (a, format!("α = {a}"))),
    }
    .render()
}

/// The long-term benefit each trial would report, by cut: bias, RMSE and coverage of each
/// extrapolation against the model's truth.
fn extrapolation(o: &mut String, f: &FollowUp, unit: &str) {
    if f.extrapolation.is_empty() {
        return;
    }
    let _ = writeln!(o, "## What the trials would say about the long-term benefit\n");
    let _ = writeln!(
        o,
        "Each trial's RMST difference extrapolated by a model fitted to each arm and continued, against the model's truth: bias / RMSE over the estimable trials, then the coverage of the delta-method 95% interval and the share not estimable. The longer the follow-up, the less rests on the fitted model.\n"
    );
    let _ = write!(o, "| extrapolation | truth |");
    for c in &f.cuts {
        let _ = write!(o, " cut {c} |");
    }
    let _ = writeln!(o, "\n|---|---|{}", "---|".repeat(f.cuts.len()));
    let mut rows: Vec<(&str, f64)> = Vec::new();
    for p in &f.extrapolation {
        if !rows.iter().any(|(m, a)| *m == p.method && *a == p.at) {
            rows.push((&p.method, p.at));
        }
    }
    for (method, at) in rows {
        let points: Vec<_> = f.extrapolation.iter().filter(|p| p.method == method && p.at == at).collect();
        let truth = points.first().map_or(f64::NAN, |p| p.truth);
        let _ = write!(o, "| {method} to {} {unit} | {} |", super::short(at), super::fmt(truth));
        for c in &f.cuts {
            match points.iter().find(|p| p.cut == *c) {
                Some(p) => {
                    let _ = write!(
                        o,
                        " {} / {} ({:.0}%, {:.0}% n.e.) |",
                        super::fmt(p.bias),
                        super::fmt(p.rmse),
                        100.0 * p.coverage,
                        100.0 * p.not_estimable as f64 / f.replicates as f64
                    );
                }
                None => {
                    let _ = write!(o, " — |");
                }
            }
        }
        let _ = writeln!(o);
    }
    let _ = write!(o, "| median supported τ | |");
    for c in &f.cuts {
        let tau = f.extrapolation.iter().find(|p| p.cut == *c).map_or(f64::NAN, |p| p.supported_tau);
        let _ = write!(o, " {} |", super::short(tau));
    }
    let _ = writeln!(o, "\n");
}
