//! Results → bytes. Each format is a pure function from a command's results to the text of a file;
//! the commands write them, atomically.

pub mod assurance;
pub mod calibration;
#[cfg(feature = "plots")]
pub mod chart;
pub mod csv;
pub mod followup;
pub mod headline;
pub mod html;
pub mod json;
pub mod markdown;
pub mod monitoring;
pub mod plan;
pub mod sweep;
pub mod truth;

#[cfg(feature = "plots")]
pub mod svg;

use crate::engine::Layout;
use crate::scenario::Scenario;
use crate::simulation::Simulated;
use crate::summary::Summary;
use crate::truth::Truth;

/// Everything a report needs about one run.
pub struct Results<'a> {
    pub scenario: &'a Scenario,
    pub truth: &'a Truth,
    pub layout: &'a Layout,
    pub summary: &'a Summary,
    pub seed: u64,
    /// The same design with identical arms (experimental = control): type I error and the
    /// crossing rate under no difference. `None` for a single-arm study.
    pub null: Option<(&'a Summary, u64)>,
}

impl<'a> Results<'a> {
    /// The results of a simulated scenario.
    pub fn of(sim: &'a Simulated, scenario: &'a Scenario, seed: u64) -> Results<'a> {
        Results {
            scenario,
            truth: &sim.truth,
            layout: &sim.layout,
            summary: &sim.summary,
            seed,
            null: sim.null.as_ref().map(|(s, r)| (s, *r)),
        }
    }
}

#[cfg(feature = "plots")]
/// The files of a run, by name, in the order they are written: the plots, summary.md,
/// report.html, and summary.json last (when it is there, the whole set is). `trialsim run` writes
/// them; the explorer shows them.
pub fn run_files(r: &Results, about: &html::About) -> Result<Vec<(&'static str, String)>, String> {
    let mut files = vec![("survival.svg", svg::render(r)?)];
    if let Some(m) = monitoring::svg(r) {
        files.push(("monitoring.svg", m.map_err(|m| format!("the monitoring plot: {m}"))?));
    }
    let md = markdown::render(r);
    let figures: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let page = html::page(&md, &figures, about);
    files.push(("summary.md", md));
    files.push(("report.html", page));
    files.push(("summary.json", json::render(r)));
    Ok(files)
}

/// The last two parts of a dotted key, for chart labels (`...relative.hr[1]` → `relative.hr[1]`).
pub fn short_key(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// Rejections under identical arms: one-sided, those favouring the experimental arm; two-sided,
/// those in either direction (the type I error of a two-sided test counts both).
pub fn null_rejections(t: &crate::summary::TestTally, sides: crate::scenario::Sides) -> u64 {
    match sides {
        crate::scenario::Sides::One => t.benefit,
        crate::scenario::Sides::Two => t.benefit + t.harm,
    }
}

/// Decimals that show the first significant digit of a standard error (in the unit printed),
/// one at least and four at most: an SE of 0.017 points prints as 0.02, not 0.0.
pub fn se_decimals(se: f64) -> usize {
    if se > 0.0 && se.is_finite() { ((-se.log10()).ceil().max(1.0) as usize).min(4) } else { 1 }
}

/// A probability and its Monte Carlo SE in percent, both to the SE's first significant digit:
/// `98.83% ± 0.02`, `28.7% ± 0.5`.
pub fn percent_se(p: f64, se: f64) -> String {
    let d = se_decimals(100.0 * se);
    format!("{:.d$}% ± {:.d$}", 100.0 * p, 100.0 * se)
}

/// Formats a number for people: 4 significant decimals, "—" for NaN.
pub fn fmt(x: f64) -> String {
    if x.is_nan() {
        "—".to_string()
    } else if x.is_infinite() {
        if x > 0.0 { "∞".into() } else { "−∞".into() }
    } else if x != 0.0 && x.abs() < 1e-3 {
        format!("{x:.2e}")
    } else {
        format!("{x:.4}")
    }
}
