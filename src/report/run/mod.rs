//! `trialsim run`'s report: every file a run writes besides the CSV exports, from its results.
//! summary.json is [`summary`] (the users' contract, typed), summary.md is [`markdown`], the
//! plots are [`svg`], [`long_term`]'s and [`monitoring`]'s, report.html is the Markdown with the plots inside;
//! [`csv`] streams replicates.csv and patients.csv as the command produces their rows, and
//! [`headline`] is what `run` prints.

pub mod csv;
pub mod headline;
#[cfg(feature = "plots")]
pub mod long_term;
pub mod markdown;
pub mod monitoring;
pub mod plain;
pub mod summary;
#[cfg(feature = "plots")]
pub mod svg;

#[cfg(feature = "plots")]
use super::{RenderError, Results, html};

/// The names of a run's `files` as its headline lists them (summary.md, summary.json,
/// report.html, then the plots), then the `exports` it wrote.
pub fn listed(files: &[(&'static str, String)], exports: &[&'static str]) -> Vec<&'static str> {
    const REPORTS: [&str; 3] = ["summary.md", "summary.json", "report.html"];
    let made = |n: &&str| files.iter().any(|(f, _)| f == n);
    let mut names: Vec<&'static str> = REPORTS.iter().copied().filter(made).collect();
    names.extend(files.iter().map(|(n, _)| *n).filter(|n| !REPORTS.contains(n)));
    names.extend(exports);
    names
}

/// The files of a run, by name, in the order they are written: the plots, summary.md,
/// report.html, and summary.json last (when it is there, the whole set is). `trialsim run` writes
/// them; the explorer shows them.
#[cfg(feature = "plots")]
pub fn files(r: &Results, about: &html::About) -> Result<Vec<(&'static str, String)>, RenderError> {
    let mut files = vec![("survival.svg", svg::render(r).map_err(|e| RenderError::of("survival.svg")(&e))?)];
    if let Some(m) = long_term::svg(r) {
        files.push(("long_term.svg", m.map_err(|e| RenderError::of("long_term.svg")(&e))?));
    }
    if let Some(m) = monitoring::svg(r) {
        files.push(("monitoring.svg", m.map_err(|e| RenderError::of("monitoring.svg")(&e))?));
    }
    let md = markdown::render(r);
    let figures: Vec<(&str, &str)> = files.iter().map(|(n, s)| (*n, s.as_str())).collect();
    let page = html::page(&md, &figures, about);
    files.push(("summary.md", md));
    files.push(("report.html", page));
    files.push(("summary.json", summary::render(r)));
    Ok(files)
}
