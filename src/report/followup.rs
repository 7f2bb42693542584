//! Reports of the follow-up study: followup.md (table), followup.csv (tidy), followup.json,
//! followup.svg (power against follow-up, one line per test, ±1.96 MC SE bars).

use std::fmt::Write;

use plotters::prelude::*;

use crate::followup::FollowUp;

pub fn markdown(f: &FollowUp, unit: &str) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {} — power by test and follow-up\n", f.scenario);
    let _ = writeln!(
        o,
        "{} simulated trials (seed {}), each analysed at every cut: the same patients for every cut and \
         test. Power ± Monte Carlo SE; cuts are calendar times from the start of accrual ({unit}).\n",
        f.replicates, f.seed
    );
    let _ = write!(o, "| test |");
    for c in &f.cuts {
        let _ = write!(o, " {c} |");
    }
    let _ = writeln!(o, "\n|---|{}", "---|".repeat(f.cuts.len()));
    for t in &f.tests {
        let _ = write!(o, "| `{t}` |");
        for c in &f.cuts {
            let p = f.points.iter().find(|p| &p.test == t && p.cut == *c).expect("a point per test and cut");
            if p.note.is_some() {
                let _ = write!(o, " n/a¹ |");
            } else {
                let _ = write!(o, " {:.1}% ± {:.1} |", 100.0 * p.power, 100.0 * p.power_se);
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
    o
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

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub fn svg(f: &FollowUp, unit: &str) -> Result<String, String> {
    let e = |x: DrawingAreaErrorKind<std::io::Error>| x.to_string();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (860, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        let (lo, hi) = (f.cuts.first().copied().unwrap_or(0.0), f.cuts.last().copied().unwrap_or(1.0));
        let pad = 0.04 * (hi - lo).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{}: power by follow-up (same trials at every cut)", f.scenario),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..1f64)
            .map_err(|x| x.to_string())?;
        chart
            .configure_mesh()
            .x_desc(format!("analysis cut, calendar time from the start of accrual ({unit})"))
            .y_desc("power")
            .draw()
            .map_err(|x| x.to_string())?;
        for (i, t) in f.tests.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            let pts: Vec<(f64, f64, f64)> = f
                .points
                .iter()
                .filter(|p| &p.test == t && p.note.is_none())
                .map(|p| (p.cut, p.power, p.power_se))
                .collect();
            chart
                .draw_series(LineSeries::new(pts.iter().map(|&(x, y, _)| (x, y)), colour.stroke_width(2)))
                .map_err(|x| x.to_string())?
                .label(t.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            chart
                .draw_series(pts.iter().map(|&(x, y, se)| {
                    PathElement::new(vec![(x, y - 1.96 * se), (x, y + 1.96 * se)], colour.stroke_width(2))
                }))
                .map_err(|x| x.to_string())?;
            chart
                .draw_series(pts.iter().map(|&(x, y, _)| Circle::new((x, y), 3, colour.filled())))
                .map_err(|x| x.to_string())?;
        }
        if let Some(alpha) = f.alpha {
            let (x0, x1) = ((lo - pad), (hi + pad));
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x0, alpha), (x1, alpha)],
                    BLACK.mix(0.5),
                )))
                .map_err(|x| x.to_string())?
                .label(format!("α = {alpha}"))
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(|x| x.to_string())?;
        root.present().map_err(e)?;
    }
    Ok(buf)
}
