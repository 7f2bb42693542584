//! long_term.svg: the true ΔRMST(t) of every endpoint to the horizon (life-years on an endpoint of
//! deaths, event-free years otherwise), its break-even time marked and the stretch beyond the
//! design's follow-up shaded: there the curve is the model's last hazard piece continuing. With
//! `run --draws`, each curve's 95% band over the parameter draws.

use plotters::prelude::*;

use crate::report::Results;
use crate::report::chart::{DrawError, Key, PALETTE};

pub(crate) fn svg(r: &Results) -> Option<Result<String, DrawError>> {
    let lt = r.truth.long_term.as_ref()?;
    Some(render(r, lt))
}

fn render(r: &Results, lt: &crate::truth::long_term::LongTerm) -> Result<String, DrawError> {
    let sc = r.scenario;
    let unit = &sc.time_unit;
    let ts = &lt.curve_times;
    let band = r.long_term_draws.filter(|u| u.curve_times.len() == ts.len());
    let banded =
        band.iter().flat_map(|u| u.endpoints.iter().flat_map(|e| e.band.iter().flat_map(|b| [b[0], b[2]])));
    let trials = extrapolations(r);
    let spread = trials.iter().flat_map(|x| [x.lower, x.upper]);
    let values = lt.endpoints.iter().flat_map(|e| e.curve.iter().copied()).chain(banded).chain(spread);
    let (lo, hi) = values.fold((0.0f64, 0.0f64), |(a, b), y| (a.min(y), b.max(y)));
    let pad = 0.06 * (hi - lo).max(1e-6);
    let (y0, y1) = (lo - pad, hi + pad);
    let caption = format!("{}: restricted mean time gained by the experimental arm (truth)", sc.name);
    let mut buf = String::new();
    let mut hover = Vec::new();
    {
        // Legend rows: the follow-up shading, each endpoint's line and band, each method.
        let mut methods: Vec<usize> = trials.iter().map(|x| x.method).collect();
        methods.dedup();
        let banded = band.map_or(0, |u| u.endpoints.len());
        let entries = 1 + lt.endpoints.len() + banded + methods.len();
        let extra = crate::report::chart::legend_height(entries);
        let root = SVGBackend::with_string(&mut buf, (860, 520 + extra)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&caption, ("sans-serif", 18))
            .margin(12)
            .margin_bottom(12 + extra)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..lt.horizon, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(format!("time from randomisation ({unit})"))
            .y_desc(format!("ΔRMST(t) ({unit} gained)"))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let mut legend = Vec::new();
        if let Some(f) = lt.follow_up.filter(|&f| f < lt.horizon) {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(f, y0), (lt.horizon, y1)],
                BLACK.mix(0.06).filled(),
            )))?;
            legend.push((
                format!(
                    "beyond this design's follow-up ({} {unit}): the model's last piece",
                    crate::report::short(f)
                ),
                Key::Area(BLACK.mix(0.12)),
            ));
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (lt.horizon, 0.0)],
            BLACK.mix(0.5),
        )))?;
        for (i, e) in lt.endpoints.iter().enumerate() {
            let c = PALETTE[i % PALETTE.len()];
            // The 95% band over the parameter draws (`run --draws`).
            if let Some(u) = band.and_then(|u| u.endpoints.iter().find(|x| x.endpoint == e.endpoint)) {
                let lower = ts.iter().zip(&u.band).map(|(&t, b)| (t, b[0]));
                let upper = ts.iter().zip(&u.band).rev().map(|(&t, b)| (t, b[2]));
                let poly: Vec<(f64, f64)> = lower.chain(upper).collect();
                let source = band.map_or("", |u| u.source.as_str());
                chart.draw_series(std::iter::once(Polygon::new(poly, c.mix(0.15).filled())))?;
                legend.push((format!("{}: 95% of the draws of {source}", e.endpoint), Key::Area(c.mix(0.3))));
            }
            let width = if e.primary { 3 } else { 2 };
            let points: Vec<(f64, f64)> = ts.iter().copied().zip(e.curve.iter().copied()).collect();
            let be = crate::report::truth::break_even(e.break_even, lt.horizon, unit);
            chart.draw_series(LineSeries::new(points.clone(), c.stroke_width(width)))?;
            legend.push((
                format!("{} gained ({}), break-even {be}", e.measure, e.endpoint),
                Key::Line(c, width),
            ));
            for &(t, g) in points.iter().step_by(5) {
                let text = format!("{}: {} gained by {t:.2} {unit} = {g:.4} (truth)", e.endpoint, e.measure);
                hover.push((chart.backend_coord(&(t, g)), text));
            }
            if let Some(t) = e.break_even {
                chart.draw_series(DashedLineSeries::new(
                    vec![(t, y0), (t, y1)],
                    4,
                    4,
                    c.mix(0.7).stroke_width(1),
                ))?;
                chart.draw_series(std::iter::once(Circle::new((t, 0.0), 5, c.filled())))?;
                hover.push((
                    chart.backend_coord(&(t, 0.0)),
                    format!("{}: break-even at {t:.4} {unit}", e.endpoint),
                ));
            }
        }
        // The trials' extrapolations of the primary endpoint, beside the truth at each time:
        // the mean and the central 95% of the estimable trials, one marker per method.
        for (m, x) in trials.iter().enumerate() {
            let c = PALETTE[(lt.endpoints.len() + x.method) % PALETTE.len()];
            // Methods side by side, leftwards where the time is the horizon.
            let offset = lt.horizon * 0.012 * (x.method % 4) as f64;
            let t = if x.at + offset <= lt.horizon { x.at + offset } else { x.at - offset };
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(t, x.lower), (t, x.upper)],
                c.stroke_width(2),
            )))?;
            let first = trials.iter().position(|y| y.method == x.method) == Some(m);
            chart.draw_series(std::iter::once(TriangleMarker::new((t, x.mean), 6, c.filled())))?;
            if first {
                legend.push((
                    format!("trials' {} extrapolation of {}: mean, 95% of trials", x.name, x.endpoint),
                    Key::Marker(c),
                ));
            }
            hover.push((
                chart.backend_coord(&(t, x.mean)),
                format!(
                    "{} extrapolation to {} {unit}: mean {:.4}, 95% of trials {:.4} to {:.4}",
                    x.name, x.at, x.mean, x.lower, x.upper
                ),
            ));
        }
        crate::report::chart::draw_legend(&root, 520, &legend)?;
        root.present()?;
    }
    Ok(crate::report::chart::titled(crate::report::chart::with_hover(buf, &hover), &caption))
}

/// One method's extrapolation to one time over the simulated trials.
struct Extrapolated {
    method: usize,
    name: &'static str,
    endpoint: String,
    at: f64,
    mean: f64,
    lower: f64,
    upper: f64,
}

/// The run's extrapolations (`[analysis.long_term.extrapolation]`) that some trial could make.
fn extrapolations(r: &Results) -> Vec<Extrapolated> {
    use crate::analysis::Estimate;
    let Some(x) = r.scenario.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (method, m) in x.methods.iter().enumerate() {
        for &at in &x.at {
            let name = m.name();
            let Some(i) = r.layout.index_of(&Estimate::Extrapolated { method, name, at }) else { continue };
            let t = &r.summary.estimates[i];
            if t.moments.n == 0 {
                continue;
            }
            out.push(Extrapolated {
                method,
                name,
                endpoint: r.scenario.primary().name.clone(),
                at,
                mean: t.moments.mean(),
                lower: t.hist.quantile(0.025),
                upper: t.hist.quantile(0.975),
            });
        }
    }
    out
}
