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

pub const PALETTE: [RGBColor; 10] = [
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
    pub legend: SeriesLabelPosition,
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
            let root = SVGBackend::with_string(&mut buf, (860, 520)).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(&self.title, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(44)
                .y_label_area_size(56)
                .build_cartesian_2d(x0..x1, 0f64..1f64)?;
            chart.configure_mesh().x_desc(&self.x_desc).y_desc(&self.y_desc).draw()?;
            if let Some((y, label)) = &self.reference {
                chart
                    .draw_series(std::iter::once(PathElement::new(vec![(x0, *y), (x1, *y)], BLACK.mix(0.5))))?
                    .label(label.clone())
                    .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
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
                chart
                    .draw_series(LineSeries::new(
                        s.points.iter().map(|&(x, y, _)| (x, y)),
                        c.stroke_width(2),
                    ))?
                    .label(s.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
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
            chart
                .configure_series_labels()
                .position(self.legend)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK.mix(0.3))
                .draw()?;
            root.present()?;
        }
        Ok(with_hover(buf, &hover))
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
