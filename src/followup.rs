//! The follow-up study: which test has power, and how long to follow. The same simulated trials
//! (replicates 0..R of one seed) are analysed at several calendar cuts: cohort generation does
//! not depend on the cut, so every cut and every test sees exactly the same patients, and the
//! differences between cuts are not Monte Carlo noise between different trial sets.

use crate::engine::{Layout, Run, simulate};
use crate::scenario::{Cut, CutRule, Document, Scenario, ScenarioError};
use crate::summary::{Proportion, Summary};
use crate::time::Time;
use crate::truth::Truth;

/// The document's `[followup] cuts`: increasing positive calendar times (empty without the
/// table).
pub(crate) fn cuts_table(doc: &Document) -> Result<Vec<Time>, ScenarioError> {
    match &doc.raw().followup {
        Some(f) => doc.ctx().breaks(&f.cuts, "followup.cuts"),
        None => Ok(Vec::new()),
    }
}

/// One test at one cut.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Point {
    pub cut: Time,
    pub test: String,
    pub power: f64,
    pub power_se: f64,
    pub not_estimable: u64,
    /// Why the test cannot work at this cut, when it cannot (τ or the milestone beyond the
    /// longest possible follow-up).
    pub note: Option<String>,
}

/// One extrapolation (method, time) at one cut, over the trials: how far from the truth.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExtrapolationPoint {
    pub cut: Time,
    pub method: String,
    pub at: Time,
    pub truth: f64,
    pub mean: f64,
    pub bias: f64,
    pub sd: f64,
    pub rmse: f64,
    /// Of the delta-method 95% interval.
    pub coverage: f64,
    /// Trials whose fit is not estimable (an arm or piece without events, no convergence).
    pub not_estimable: u64,
    /// Median over the trials of the largest τ their follow-up supports.
    pub supported_tau: f64,
}

/// Everything the follow-up study produced.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FollowUp {
    pub scenario: String,
    pub seed: u64,
    pub replicates: u64,
    pub cuts: Vec<Time>,
    pub tests: Vec<String>,
    pub points: Vec<Point>,
    /// Mean primary-endpoint events and mean patients entered by each cut.
    pub events: Vec<f64>,
    /// The test with the highest power at each cut.
    pub best: Vec<String>,
    /// One-sided level (for the plot's reference line); `None` for two-sided tests.
    pub alpha: Option<f64>,
    /// What each test is sensitive to, in words.
    pub meanings: Vec<(String, String)>,
    /// `[analysis.long_term.extrapolation]`: each method and time at each cut.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extrapolation: Vec<ExtrapolationPoint>,
}

/// Bias, SD and RMSE of a tally against `truth`.
pub(crate) fn accuracy(t: &crate::summary::Tally, truth: f64) -> (f64, f64, f64) {
    let m = &t.moments;
    let n = m.n as f64;
    let bias = m.mean() - truth;
    // The variance about the mean over n (0 for one trial), so that RMSE² = bias² + it.
    let spread = if m.n > 1 { m.sd().powi(2) * (n - 1.0) / n } else { 0.0 };
    (bias, m.sd(), (bias * bias + spread).sqrt())
}

/// The extrapolations of one cut's summary.
fn extrapolation_points(
    sc: &Scenario,
    layout: &Layout,
    summary: &Summary,
    cut: Time,
) -> Vec<ExtrapolationPoint> {
    use crate::analysis::Estimate;
    let Some(x) = sc.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()) else {
        return Vec::new();
    };
    let tally = |e: &Estimate| layout.index_of(e).map(|i| (&summary.estimates[i], layout.estimates[i].truth));
    let supported_tau = tally(&Estimate::SupportedTau).map_or(f64::NAN, |(t, _)| t.hist.quantile(0.5));
    let mut out = Vec::new();
    for (method, m) in x.methods.iter().enumerate() {
        for &at in &x.at {
            let name = m.name();
            let Some((t, truth)) = tally(&Estimate::Extrapolated { method, name, at }) else { continue };
            let truth = truth.unwrap_or(f64::NAN);
            let (bias, sd, rmse) = accuracy(t, truth);
            let coverage = tally(&Estimate::ExtrapolatedCovers { method, name, at })
                .map_or(f64::NAN, |(c, _)| c.moments.mean());
            out.push(ExtrapolationPoint {
                cut,
                method: name.to_string(),
                at,
                truth,
                mean: t.moments.mean(),
                bias,
                sd,
                rmse,
                coverage,
                not_estimable: t.nan,
                supported_tau,
            });
        }
    }
    out
}

/// The scenario analysed at calendar time `cut` (the other cut criteria removed).
pub(crate) fn at_cut(sc: &Scenario, cut: Time) -> Scenario {
    let mut s = sc.clone();
    s.design.cut = Cut { calendar: Some(cut), events: None, min_followup: None, rule: CutRule::First };
    s
}

/// Runs the study on the current rayon pool, calling `progress` after each cut.
pub fn run(
    sc: &Scenario,
    cuts: &[Time],
    replicates: u64,
    seed: u64,
    mut progress: impl FnMut(usize),
) -> FollowUp {
    let tests: Vec<String> = sc.analysis.tests.iter().map(|t| t.name.clone()).collect();
    let settings = sc.analysis.settings();
    let mut points = Vec::new();
    let mut events = Vec::new();
    let mut best = Vec::new();
    let mut extrapolation = Vec::new();
    for (i, &cut) in cuts.iter().enumerate() {
        let s = at_cut(sc, cut);
        let truth = Truth::compute(&s);
        let layout = Layout::new(&s, &truth);
        let summary: Summary =
            simulate(&Run { scenario: &s, layout: &layout, replicates, seed, progress: None }, None);
        events.push((summary.events[0] + summary.events[1]) as f64 / replicates as f64);
        extrapolation.extend(extrapolation_points(&s, &layout, &summary, cut));
        let mut top: Option<(f64, String)> = None;
        for (k, (name, kind)) in layout.tests.iter().enumerate() {
            let t = summary.tests[k];
            let p = Proportion::new(t.benefit, replicates);
            // The longest possible follow-up at this cut is the cut itself (entry at time 0).
            let note = kind.beyond_follow_up(&settings, cut).or_else(|| {
                (t.not_estimable * 2 > replicates).then(|| {
                    format!(
                        "not estimable in {:.0}% of trials",
                        100.0 * t.not_estimable as f64 / replicates as f64
                    )
                })
            });
            if note.is_none() && top.as_ref().is_none_or(|(b, _)| p.estimate > *b) {
                top = Some((p.estimate, name.clone()));
            }
            points.push(Point {
                cut,
                test: name.clone(),
                power: p.estimate,
                power_se: p.se,
                not_estimable: t.not_estimable,
                note,
            });
        }
        best.push(top.map_or_else(|| "—".to_string(), |(_, n)| n));
        progress(i + 1);
    }
    let alpha = (sc.analysis.sides == crate::scenario::Sides::One).then_some(sc.analysis.alpha);
    let meanings = sc.analysis.tests.iter().map(|t| (t.name.clone(), t.kind.meaning(&settings))).collect();
    FollowUp {
        scenario: sc.name.clone(),
        seed,
        replicates,
        cuts: cuts.to_vec(),
        tests,
        points,
        events,
        best,
        alpha,
        meanings,
        extrapolation,
    }
}
