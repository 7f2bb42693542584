//! survival.svg: the true S(t) of each arm over the 2.5–97.5% band (and median) of the simulated
//! Kaplan–Meier curves, pointwise on a grid.

use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::report::Results;
use crate::report::chart::Key;
use crate::truth::ArmMix;

/// Okabe and Ito's blue and vermillion: apart for every common colour-vision deficiency; each
/// curve also carries its arm's name at its end.
const COLOURS: [RGBColor; 2] = [RGBColor(0, 114, 178), RGBColor(213, 94, 0)];

/// The lower end of the survival axis: the lowest band or true value, rounded down to 0.1.
fn y_min(r: &Results) -> f64 {
    let sc = r.scenario;
    let n = r.layout.grid.len();
    let t_max = r.layout.grid.last().copied().unwrap_or(1.0);
    let mut lo: f64 = 1.0;
    for g in 0..r.layout.groups {
        // The band exists once a replicate collected it (replicate 0 always does).
        for h in r.summary.band.get(g * n..(g + 1) * n).unwrap_or(&[]) {
            if h.total() > 0 {
                lo = lo.min(h.quantile(0.025));
            }
        }
        lo = lo.min(ArmMix::of(sc, r.layout.group_arms[g]).survival(sc.primary(), t_max));
    }
    ((lo - 0.05) * 10.0).floor().clamp(0.0, 9.0) / 10.0
}

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The true curves of the never-better boundary's model, dashed in each arm's colour, when the
/// run has `[analysis.never_better]`.
fn boundary_curves(
    chart: &mut Chart,
    r: &Results,
    legend: &mut Vec<(String, Key)>,
) -> Result<(), crate::report::chart::DrawError> {
    let Some((b, _)) = r.never_better else { return Ok(()) };
    let t_max = r.layout.grid.last().copied().unwrap_or(1.0);
    let sc = &b.scenario;
    for g in 0..r.layout.groups {
        let (colour, mix) = (COLOURS[g % 2], ArmMix::of(sc, r.layout.group_arms[g]));
        let arm = mix.arm;
        let truth: Vec<(f64, f64)> = (0..=400)
            .map(|i| t_max * f64::from(i) / 400.0)
            .map(|t| (t, mix.survival(sc.primary(), t)))
            .collect();
        chart.draw_series(DashedLineSeries::new(truth, 8, 5, colour.stroke_width(2)))?;
        legend.push((format!("{} at the never-better boundary (truth)", arm.label), Key::Dashed(colour, 2)));
    }
    Ok(())
}

pub(crate) fn render(r: &Results) -> Result<String, crate::report::chart::DrawError> {
    let sc = r.scenario;
    let grid = &r.layout.grid;
    let t_max = grid.last().copied().unwrap_or(1.0);
    let mut buf = String::new();
    let mut hover = Vec::new();
    {
        let entries = r.layout.groups * (1 + usize::from(r.never_better.is_some()));
        let extra = crate::report::chart::legend_height(entries);
        let root = SVGBackend::with_string(&mut buf, (860, 520 + extra)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(caption(r), ("sans-serif", 18))
            .margin(12)
            .margin_bottom(12 + extra)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..t_max, y_min(r)..1.0f64)?;
        chart
            .configure_mesh()
            .x_desc(format!("time from randomisation ({})", sc.time_unit))
            .y_desc(format!("{} (probability)", sc.endpoint_label(&sc.primary().name)))
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let n = grid.len();
        let mut legend = Vec::new();
        for g in 0..r.layout.groups {
            let colour = COLOURS[g % 2];
            let mix = ArmMix::of(sc, r.layout.group_arms[g]);
            let arm = mix.arm;
            let hist = r.summary.band.get(g * n..(g + 1) * n).unwrap_or(&[]);
            // The band only where enough replicates still have patients under follow-up.
            let banded = r.summary.replicates.min(crate::engine::BAND_REPLICATES);
            let enough = |i: usize| hist.get(i).is_some_and(|h| h.total() * 2 >= banded);
            let at = |q: f64| -> Vec<(f64, f64)> {
                (0..n).filter(|&i| enough(i)).map(|i| (grid[i], hist[i].quantile(q))).collect()
            };
            let (lower, upper) = (at(0.025), at(0.975));
            let poly: Vec<(f64, f64)> = lower.into_iter().chain(upper.into_iter().rev()).collect();
            if poly.len() > 2 {
                chart.draw_series(std::iter::once(Polygon::new(poly, colour.mix(0.18).filled())))?;
            }
            let median = at(0.5);
            // Values on hover at about 40 times per arm, on the true curve.
            for i in (0..n).filter(|&i| enough(i)).step_by(n.div_ceil(40).max(1)) {
                let (t, s) = (grid[i], mix.survival(sc.primary(), grid[i]));
                let (median, lo, hi) =
                    (hist[i].quantile(0.5), hist[i].quantile(0.025), hist[i].quantile(0.975));
                let text = format!(
                    "{} at {t:.2} {}: true S = {s:.4}; Kaplan–Meier median {median:.4}, 95% of trials {lo:.4}–{hi:.4}",
                    arm.label, sc.time_unit,
                );
                hover.push((chart.backend_coord(&(t, s)), text));
            }
            chart.draw_series(LineSeries::new(median, colour.mix(0.6).stroke_width(1)))?;
            let truth: Vec<(f64, f64)> = (0..=400)
                .map(|i| t_max * f64::from(i) / 400.0)
                .map(|t| (t, mix.survival(sc.primary(), t)))
                .collect();
            let end = truth.last().copied().unwrap_or((t_max, 1.0));
            chart.draw_series(LineSeries::new(truth, colour.stroke_width(3)))?;
            legend.push((
                format!("{} (truth; thin: KM median; band: KM 2.5–97.5%)", arm.label),
                Key::Line(colour, 3),
            ));
            // The arm's name at the end of its curve, above or below it by rank: read without
            // the colours.
            let (x, y) = chart.backend_coord(&end);
            let highest = (0..r.layout.groups)
                .map(|h| ArmMix::of(sc, r.layout.group_arms[h]).survival(sc.primary(), t_max))
                .fold(f64::NEG_INFINITY, f64::max);
            let above = end.1 >= highest;
            let dy = if above { -16 } else { 6 };
            let style =
                ("sans-serif", 14).into_font().color(&colour).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Right,
                    plotters::style::text_anchor::VPos::Top,
                ));
            root.draw(&Text::new(arm.label.clone(), (x - 4, y + dy), style))?;
        }
        boundary_curves(&mut chart, r, &mut legend)?;
        for &c in &r.truth.crossing_times {
            chart.draw_series(LineSeries::new(vec![(c, 0.0), (c, 1.0)], BLACK.mix(0.4).stroke_width(1)))?;
        }
        crate::report::chart::draw_legend(&root, 520, &legend)?;
        root.present()?;
    }
    Ok(crate::report::chart::titled(crate::report::chart::with_hover(buf, &hover), &caption(r)))
}

/// The plot's title, also its accessible name.
fn caption(r: &Results) -> String {
    let sc = r.scenario;
    let ep = sc.endpoint_label(&sc.primary().name);
    format!("{}: {ep} — truth (line) over simulated Kaplan–Meier 95% band", sc.name)
}
