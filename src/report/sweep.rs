//! Sweep outputs, made only from the point records (so that a merged sweep and an unsplit one
//! write the same bytes): sweep.csv (tidy: point, one column per swept key, metric, value, se),
//! sweep.md (power of each test per point), power_<test>.svg (power against the first swept key,
//! one line per combination of the others).

use std::fmt::Write;

#[cfg(feature = "plots")]
#[cfg(feature = "plots")]
use super::chart::{LineChart, Series};

use crate::report::float;
use crate::scenario::Scenario;
use crate::sweep::{Manifest, PointRecord};

/// sweep.csv's header: point, one column per swept key, metric, value, se.
pub(crate) fn csv_header(m: &Manifest) -> Vec<String> {
    let mut header = vec!["point".to_string()];
    header.extend(m.axes.iter().map(|a| a.key.clone()));
    header.extend(["metric", "value", "se"].map(String::from));
    header
}

/// One point's rows of sweep.csv, one per metric: written point by point, so that a sweep's
/// table never needs all its records at once.
pub(crate) fn csv_rows<W: std::io::Write>(w: &mut csv::Writer<W>, r: &PointRecord) -> Result<(), csv::Error> {
    for metric in &r.metrics {
        let mut row = vec![r.point.to_string()];
        row.extend(r.overrides.iter().map(|(_, v)| float(*v)));
        row.push(metric.metric.clone());
        row.push(float(metric.value));
        row.push(float(metric.se));
        w.write_record(&row)?;
    }
    Ok(())
}

/// The most points sweep.md tabulates and the plots draw: beyond, a table or a line per point
/// reads as nothing, and the figures would need every record in memory. sweep.csv has them all.
pub const TABLE_POINTS: usize = 100_000;

/// What sweep.md and the plots read of a record (power of each test, mean events): kept for
/// every point of a sweep of at most [`TABLE_POINTS`], where whole records could take gigabytes.
pub(crate) fn for_tables(mut r: PointRecord) -> PointRecord {
    r.metrics.retain(|m| {
        m.metric.starts_with("power.") || m.metric.starts_with("never_better.") || m.metric == "mean.events"
    });
    r
}

/// The tests of a sweep, from the `power.<test>` metrics of the first record, in order.
fn tests(records: &[PointRecord]) -> Vec<String> {
    records.first().map_or_else(Vec::new, |r| {
        r.metrics.iter().filter_map(|m| m.metric.strip_prefix("power.").map(String::from)).collect()
    })
}

fn metric(r: &PointRecord, name: &str) -> Option<(f64, f64)> {
    r.metrics.iter().find(|m| m.metric == name).map(|m| (m.value, m.se))
}

/// sweep.md's opening sentences: the range of each of the first two tests' power over the grid,
/// and where its ends lie.
pub(crate) fn plain(m: &Manifest, records: &[PointRecord], tests: &[String]) -> Vec<String> {
    use super::run::plain::in_100;
    let keys: Vec<&str> = m.axes.iter().map(|a| a.key.as_str()).collect();
    let mut out = vec![format!(
        "{} settings of {} were each simulated {} times, with the same trials at every setting as far as the design allows.",
        records.len(),
        keys.join(" and "),
        m.replicates
    )];
    let at = |r: &PointRecord| {
        r.overrides.iter().map(|(k, v)| format!("{k} = {v}")).collect::<Vec<_>>().join(", ")
    };
    for t in tests.iter().take(2) {
        let powered: Vec<(&PointRecord, f64)> =
            records.iter().filter_map(|r| metric(r, &format!("power.{t}")).map(|(p, _)| (r, p))).collect();
        let lo = powered.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = powered.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            out.push(format!(
                "The {t} test's power ranges from about {} of 100 ({}) to {} of 100 ({}).",
                in_100(lo.1),
                at(lo.0),
                in_100(hi.1),
                at(hi.0)
            ));
        }
    }
    out
}

/// sweep.md: power of each test per point. `points` is the sweep's size; `records` are empty
/// when it is above [`TABLE_POINTS`] (then the file says so and points to sweep.csv).
pub(crate) fn markdown(m: &Manifest, points: usize, records: &[PointRecord], base: &Scenario) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {} — sweep\n", base.name);
    if points > TABLE_POINTS {
        let _ = writeln!(
            o,
            "{points} points × {} replicates (seed {}): too many to tabulate here (at most \
             {TABLE_POINTS}); `sweep.csv` has every metric of every point.",
            m.replicates, m.seed
        );
        return o;
    }
    let _ = writeln!(
        o,
        "{} points × {} replicates (seed {}; the same trials at every point as far as the design allows). \
         Power ± Monte Carlo SE; `sweep.csv` has every metric.\n",
        points, m.replicates, m.seed
    );
    let tests = tests(records);
    o.push_str(&super::plain_section(&plain(m, records, &tests)));
    let _ = write!(o, "| point |");
    for a in &m.axes {
        let _ = write!(o, " `{}` |", a.key);
    }
    for t in &tests {
        let _ = write!(o, " `{t}` |");
    }
    let _ = writeln!(o, " events |");
    let _ = writeln!(o, "|---|{}{}---|", "---|".repeat(m.axes.len()), "---|".repeat(tests.len()));
    for r in records {
        let _ = write!(o, "| {} |", r.point);
        for (_, v) in &r.overrides {
            let _ = write!(o, " {v} |");
        }
        for t in &tests {
            match metric(r, &format!("power.{t}")) {
                Some((p, se)) => {
                    let _ = write!(o, " {} |", super::percent_se(p, se));
                }
                None => {
                    let _ = write!(o, " — |");
                }
            }
        }
        let ev = metric(r, "mean.events").map_or(f64::NAN, |x| x.0);
        let _ = writeln!(o, " {ev:.1} |");
    }
    never_better_table(&mut o, m, records, &tests);
    o.push_str(&super::glossary_section(&["Power", "±", "Never-better rate"], &[]));
    o
}

/// With `[analysis.never_better]`: per point, the boundary value and how often each test
/// declares benefit there.
fn never_better_table(o: &mut String, m: &Manifest, records: &[PointRecord], tests: &[String]) {
    if records.first().and_then(|r| metric(r, "never_better.value")).is_none() {
        return;
    }
    let _ = writeln!(
        o,
        "\n## Declaring benefit at the never-better boundary\n\nPer point, the value the keys of \
         `analysis.never_better.vary` take where the experimental arm's true survival is nowhere above \
         control's, and how often each test declares benefit there (an error for every test but \
         `cox_periods`, whose claim of a lower late hazard is true there).\n"
    );
    let _ = write!(o, "| point |");
    for a in &m.axes {
        let _ = write!(o, " `{}` |", a.key);
    }
    let _ = write!(o, " boundary |");
    for t in tests {
        let _ = write!(o, " `{t}` |");
    }
    let _ = writeln!(o, "\n|---|{}---|{}", "---|".repeat(m.axes.len()), "---|".repeat(tests.len()));
    for r in records {
        let _ = write!(o, "| {} |", r.point);
        for (_, v) in &r.overrides {
            let _ = write!(o, " {v} |");
        }
        match metric(r, "never_better.value").map(|x| x.0).filter(|v| v.is_finite()) {
            Some(v) => {
                let _ = write!(o, " {} |", super::short(v));
            }
            None => {
                let _ = write!(o, " none on this path |");
            }
        }
        for t in tests {
            match metric(r, &format!("never_better.{t}")) {
                Some((p, se)) => {
                    let _ = write!(o, " {} |", super::percent_se(p, se));
                }
                None => {
                    let _ = write!(o, " — |");
                }
            }
        }
        let _ = writeln!(o);
    }
}

/// The files of a sweep made from its point records (sweep.csv is streamed by the command, row by
/// row with [`csv_rows`]; report.html is added from sweep.md): sweep.md, then one power plot per
/// test.
#[cfg(feature = "plots")]
pub fn files(
    m: &Manifest,
    points: usize,
    records: &[PointRecord],
    base: &Scenario,
) -> Result<Vec<(String, Vec<u8>)>, super::RenderError> {
    let mut files = vec![("sweep.md".to_string(), markdown(m, points, records, base).into_bytes())];
    let plots = plots(m, records, base).map_err(|e| super::RenderError::of("the power plots")(&e))?;
    files.extend(plots.into_iter().map(|(name, svg)| (name, svg.into_bytes())));
    Ok(files)
}

/// A file-name-safe form of a test name (`fh(0,1)` → `fh_0_1`).
pub(crate) fn file_safe(name: &str) -> String {
    let s: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    s.trim_matches('_').to_string()
}

#[cfg(feature = "plots")]
pub fn plots(
    m: &Manifest,
    records: &[PointRecord],
    base: &Scenario,
) -> Result<Vec<(String, String)>, crate::report::chart::DrawError> {
    let mut out = Vec::new();
    for t in tests(records) {
        // One line per combination of the other keys' values, in point order.
        let mut series: Vec<Series> = Vec::new();
        for r in records {
            let label: Vec<String> =
                r.overrides[1..].iter().map(|(k, v)| format!("{} = {v}", super::short_key(k))).collect();
            let label = if label.is_empty() { t.clone() } else { label.join(", ") };
            let Some((p, se)) = metric(r, &format!("power.{t}")) else { continue };
            match series.iter_mut().find(|s| s.label == label) {
                Some(s) => s.points.push((r.overrides[0].1, p, se)),
                None => series.push(Series { label, points: vec![(r.overrides[0].1, p, se)], marker: None }),
            }
        }
        let svg = LineChart {
            title: format!("{}: power of {t}", base.name),
            x_desc: m.axes[0].key.clone(),
            y_desc: "power".into(),
            series,
            reference: None,
        }
        .render()?;
        out.push((format!("power_{}.svg", file_safe(&t)), svg));
    }
    Ok(out)
}
