//! Results → bytes. Each format is a pure function from a command's results to the text of a file;
//! the commands write them, atomically.

// One module per command: each renders that command's results in every format.
pub mod assurance;
pub mod calibration;
pub mod followup;
pub mod plan;
pub mod run;
pub mod sweep;
pub mod truth;
// Shared by the commands' reports: line charts, and report.html from a report's Markdown.
#[cfg(feature = "plots")]
pub mod chart;
pub mod html;

use crate::engine::Layout;
use crate::run::Simulated;
use crate::scenario::Scenario;
use crate::summary::Summary;
use crate::truth::Truth;
use crate::truth::never_better::Boundary;

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
    /// The never-better boundary and its copy's summary (`[analysis.never_better]`).
    pub never_better: Option<(&'a Boundary, &'a Summary)>,
    /// The long-term truth over parameter draws (`trialsim run --draws`).
    pub long_term_draws: Option<&'a crate::truth::long_term::Uncertainty>,
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
            never_better: sim.never_better.as_ref().map(|(b, s)| (b, s)),
            long_term_draws: None,
        }
    }
}

/// A JSON object whose keys keep the order they were pushed in (tests as listed, arms as
/// allocated, estimates in the layout's order).
#[derive(Debug)]
pub struct Named<T>(pub Vec<(String, T)>);

impl<T: serde::Serialize> serde::Serialize for Named<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<T> FromIterator<(String, T)> for Named<T> {
    fn from_iter<I: IntoIterator<Item = (String, T)>>(iter: I) -> Self {
        Named(iter.into_iter().collect())
    }
}

/// One rendered file of a command's report: its name in the output directory, and its bytes.
pub type Rendered = (&'static str, Vec<u8>);

/// A report file that could not be rendered: which file, and why (nothing is written then).
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RenderError {
    pub file: &'static str,
    pub message: String,
}

impl RenderError {
    /// The error of rendering `file`, from whatever its renderer said.
    pub fn of(file: &'static str) -> impl Fn(&dyn std::fmt::Display) -> RenderError {
        move |e| RenderError { file, message: e.to_string() }
    }
}

/// Text from the scenario (a title, a label, a sentence made with them) as Markdown shows it
/// literally: every character CommonMark could read as markup is backslash-escaped, line breaks
/// become spaces. In report.html the same text is then HTML-escaped by the renderer.
pub(crate) fn md_text(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '~' | '#' | '!' | '$' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// "## In plain words": a report's results in a few sentences (plain text, escaped here for
/// Markdown), with the glossary at its end one click away. Every report opens with it.
pub(crate) fn plain_section(sentences: &[String]) -> String {
    let text: Vec<String> = sentences.iter().map(|s| md_text(s)).collect();
    format!("## In plain words\n\n{} ([What these words mean](#glossary))\n\n", text.join(" "))
}

/// "## Glossary": the entries of [`run::plain::GLOSSARY`] named in `words`, then `extra`.
pub(crate) fn glossary_section(words: &[&str], extra: &[(String, String)]) -> String {
    let mut o = String::from("\n## Glossary\n\n");
    for (w, m) in run::plain::GLOSSARY.iter().filter(|(w, _)| words.contains(w)) {
        o.push_str(&format!("- **{w}**: {m}\n"));
    }
    for (w, m) in extra {
        o.push_str(&format!("- **{}**: {}\n", md_text(w), md_text(m)));
    }
    o
}

/// A type's JSON, pretty-printed with a final newline (every command's `.json` file).
pub(crate) fn json_text(value: &impl serde::Serialize) -> Vec<u8> {
    (serde_json::to_string_pretty(value).expect("output types serialise") + "\n").into_bytes()
}

/// The last two parts of a dotted key, for chart labels (`...relative.hr[1]` → `relative.hr[1]`).
pub(crate) fn short_key(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    parts[parts.len().saturating_sub(2)..].join(".")
}

/// Rejections under identical arms: one-sided, those favouring the experimental arm; two-sided,
/// those in either direction (the type I error of a two-sided test counts both).
pub(crate) fn null_rejections(t: &crate::summary::TestTally, sides: crate::scenario::Sides) -> u64 {
    match sides {
        crate::scenario::Sides::One => t.benefit,
        crate::scenario::Sides::Two => t.benefit + t.harm,
    }
}

/// Decimals that show the first significant digit of a standard error (in the unit printed),
/// one at least and four at most: an SE of 0.017 points prints as 0.02, not 0.0.
pub(crate) fn se_decimals(se: f64) -> usize {
    if se > 0.0 && se.is_finite() { ((-se.log10()).ceil().max(1.0) as usize).min(4) } else { 1 }
}

/// A probability and its Monte Carlo SE in percent, both to the SE's first significant digit:
/// `98.83% ± 0.02`, `28.7% ± 0.5`.
pub(crate) fn percent_se(p: f64, se: f64) -> String {
    let d = se_decimals(100.0 * se);
    format!("{:.d$}% ± {:.d$}", 100.0 * p, 100.0 * se)
}

/// A float in a CSV file: the shortest form that reads back to the same f64 (Rust's `Display`),
/// NaN as `NaN`.
pub(crate) fn float(x: f64) -> String {
    format!("{x}")
}

/// A time or a scenario value for people: at most 4 decimals, trailing zeros dropped (12.6, not
/// 12.6000).
pub(crate) fn short(x: f64) -> String {
    let s = fmt(x);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Formats a number for people: 4 significant decimals, "—" for NaN.
pub(crate) fn fmt(x: f64) -> String {
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
