//! The one chart several reports share: power (or any proportion) against a number, one line per
//! series with ±1.96 Monte Carlo SE bars, an optional horizontal reference (α, the target) and
//! optional vertical markers (a plan's answers).

use plotters::prelude::*;

use crate::stats::normal::Z_975;

/// What plotters reported while drawing a chart. Its SVG backend writes to a string, so in
/// practice a font or layout failure; the report names the file it was drawing.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DrawError(String);

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for DrawError {
    fn from(e: DrawingAreaErrorKind<E>) -> DrawError {
        DrawError(e.to_string())
    }
}

/// Okabe and Ito's colour-blind-safe palette (blue, orange, bluish green, reddish purple, sky
/// blue, vermillion, black), then grey, brown and yellow: lines stay apart for every common
/// colour-vision deficiency.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(0, 0, 0),
    RGBColor(127, 127, 127),
    RGBColor(140, 86, 75),
    RGBColor(240, 228, 66),
];

/// Pixels a legend entry takes.
pub(crate) const LEGEND_ROW: u32 = 20;

/// The extra height a legend of `entries` rows needs below a chart.
pub(crate) fn legend_height(entries: usize) -> u32 {
    LEGEND_ROW * entries as u32 + 12
}

/// How a legend entry's sample is drawn.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key {
    Line(RGBColor, u32),
    Dashed(RGBColor, u32),
    Area(RGBAColor),
    Marker(RGBColor),
}

/// A legend below a chart, from `top` (pixels) down, one entry per row: it never covers data.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    top: i32,
    entries: &[(String, Key)],
) -> Result<(), DrawError> {
    let font = ("sans-serif", 13).into_font();
    for (i, (label, key)) in entries.iter().enumerate() {
        let (x, y) = (64, top + (LEGEND_ROW as i32) * i as i32 + LEGEND_ROW as i32 / 2);
        match *key {
            Key::Line(c, w) => root.draw(&PathElement::new(vec![(x, y), (x + 28, y)], c.stroke_width(w)))?,
            Key::Dashed(c, w) => {
                for k in 0..3 {
                    root.draw(&PathElement::new(
                        vec![(x + 10 * k, y), (x + 10 * k + 6, y)],
                        c.stroke_width(w),
                    ))?;
                }
            }
            Key::Area(c) => root.draw(&Rectangle::new([(x, y - 6), (x + 28, y + 6)], c.filled()))?,
            Key::Marker(c) => root.draw(&TriangleMarker::new((x + 14, y), 6, c.filled()))?,
        }
        root.draw(&Text::new(label.clone(), (x + 38, y - 7), font.clone()))?;
    }
    Ok(())
}

/// An SVG that says what it shows: `role="img"`, an `aria-label` and a `<title>` (screen readers
/// announce them; browsers show the title on hover).
pub(crate) fn titled(svg: String, title: &str) -> String {
    let Some(start) = svg.find("<svg") else { return svg };
    let Some(end) = svg[start..].find('>').map(|i| start + i) else { return svg };
    let t = crate::report::html::escape(title);
    let open = &svg[start..end];
    let open = if open.ends_with('/') { return svg } else { open };
    format!("{}{open} role=\"img\" aria-label=\"{t}\"><title>{t}</title>{}", &svg[..start], &svg[end + 1..])
}

/// One line: its legend label and points (x, y, SE of y).
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64, f64)>,
    /// A vertical marker from 0 up to `reference` at this x (e.g. the planned value).
    pub marker: Option<f64>,
}

pub struct LineChart {
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub series: Vec<Series>,
    /// A horizontal reference line and its legend label.
    pub reference: Option<(f64, String)>,
}

impl LineChart {
    pub(crate) fn render(self) -> Result<String, DrawError> {
        let xs = self.series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
        let pad = 0.04 * (hi - lo).max(1e-9);
        let (x0, x1) = (lo - pad, hi + pad);
        let mut buf = String::new();
        let mut hover = Vec::new();
        {
            let entries = self.series.len() + usize::from(self.reference.is_some());
            let extra = legend_height(entries);
            let root = SVGBackend::with_string(&mut buf, (860, 520 + extra)).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 18))
                .margin(12)
                .margin_bottom(12 + extra)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(x0..x1, 0f64..1f64)?;
            chart.configure_mesh().x_desc(&self.x_desc).y_desc(&self.y_desc).draw()?;
            let mut legend = Vec::new();
            if let Some((y, label)) = &self.reference {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(x0, *y), (x1, *y)],
                    BLACK.mix(0.5),
                )))?;
                legend.push((label.clone(), Key::Line(RGBColor(127, 127, 127), 1)));
            }
            for (i, s) in self.series.iter().enumerate() {
                let c = PALETTE[i % PALETTE.len()];
                for &(x, y, se) in &s.points {
                    let text = format!(
                        "{}: {} = {}, {} = {:.4} ± {:.4} (95% MC interval)",
                        s.label,
                        self.x_desc,
                        x,
                        self.y_desc,
                        y,
                        Z_975 * se
                    );
                    hover.push((chart.backend_coord(&(x, y)), text));
                }
                chart.draw_series(LineSeries::new(
                    s.points.iter().map(|&(x, y, _)| (x, y)),
                    c.stroke_width(2),
                ))?;
                legend.push((s.label.clone(), Key::Line(c, 2)));
                chart.draw_series(s.points.iter().map(|&(x, y, se)| {
                    PathElement::new(vec![(x, y - Z_975 * se), (x, y + Z_975 * se)], c.stroke_width(2))
                }))?;
                chart.draw_series(s.points.iter().map(|&(x, y, _)| Circle::new((x, y), 3, c.filled())))?;
                if let (Some(m), Some((top, _))) = (s.marker, &self.reference) {
                    chart.draw_series(std::iter::once(PathElement::new(
                        vec![(m, 0.0), (m, *top)],
                        c.mix(0.6),
                    )))?;
                }
            }
            draw_legend(&root, 520, &legend)?;
            root.present()?;
        }
        Ok(titled(with_hover(buf, &hover), &self.title))
    }
}

/// An SVG with a value to read on hover at each point: a transparent circle holding a `<title>`
/// (browsers show it as a tooltip; no script), drawn last so that it lies on top.
pub(crate) fn with_hover(svg: String, points: &[((i32, i32), String)]) -> String {
    if points.is_empty() {
        return svg;
    }
    let Some(end) = svg.rfind("</svg>") else { return svg };
    let mut o = String::with_capacity(svg.len() + points.len() * 120);
    o.push_str(&svg[..end]);
    o.push_str("<g fill=\"transparent\">\n");
    for ((x, y), text) in points {
        o.push_str(&format!(
            "<circle cx=\"{x}\" cy=\"{y}\" r=\"7\"><title>{}</title></circle>\n",
            crate::report::html::escape(text)
        ));
    }
    o.push_str("</g>\n");
    o.push_str(&svg[end..]);
    o
}
