//! A run's results in a clinician's words: three to five sentences generated from the same
//! values as the tables (power, the never-better rate, the crossing, the long-term gain, the
//! monitored design), and a glossary of the words they use. summary.md and report.html open
//! with the sentences and end with the glossary; the explorer shows both.
//!
//! The sentences are plain text (names and labels as the scenario writes them): each output
//! escapes them for itself (Markdown, HTML).

use crate::analysis::Estimate;
use crate::report::{Results, null_rejections, short};
use crate::scenario::Scenario;
use crate::summary::Proportion;
use crate::test_statistic::{Claim, TestKind};

/// "28" of 100 for 0.28; one decimal below 10 ("2.5", "0.7") so that rare events do not read 0
/// or 1 where they are 0.4 or 1.4. The sentences' one rounding (tested against summary.json).
pub fn in_100(p: f64) -> String {
    let x = 100.0 * p;
    if x.is_nan() {
        "—".into()
    } else if x < 9.95 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    }
}

/// A test in words, for a sentence: "the log-rank test".
pub fn test_phrase(sc: &Scenario, name: &str, kind: &TestKind) -> String {
    match kind {
        TestKind::LogRank => "the log-rank test".into(),
        TestKind::FlemingHarrington { rho, gamma } => {
            format!("the Fleming–Harrington FH({}, {}) test", short(*rho), short(*gamma))
        }
        TestKind::MaxCombo => "the MaxCombo test".into(),
        TestKind::Mw { .. } => "the modestly weighted log-rank test".into(),
        TestKind::RobustMw { .. } => "the robust modestly weighted test".into(),
        TestKind::Cox { .. } => "the Cox model".into(),
        TestKind::CoxPeriods => "the Cox model by period".into(),
        TestKind::Rmst => "the restricted mean survival time (RMST) test".into(),
        TestKind::Milestone => "the milestone test".into(),
        TestKind::Stratified(_) => format!("the stratified test {name}"),
        TestKind::Win { composite } => {
            format!("the win-ratio test of {}", sc.composites[*composite].label)
        }
    }
}

/// What a test does, in one line of the glossary.
pub fn test_meaning(kind: &TestKind) -> &'static str {
    match kind {
        TestKind::LogRank => {
            "compares the two arms' event rates over the whole follow-up, every event counting the same; the most powerful test when one arm's hazard is a constant fraction of the other's."
        }
        TestKind::FlemingHarrington { .. } => {
            "a log-rank test that gives some events more weight: FH(0, 1) counts late events most, so it finds a late benefit sooner, but it can declare benefit where the experimental arm is never better."
        }
        TestKind::MaxCombo => {
            "takes the most extreme of several weighted log-rank tests, with a p-value that allows for the choice; robust to when a difference appears, but shares FH(0, 1)'s risk where the experimental arm is never better."
        }
        TestKind::Mw { .. } => {
            "a log-rank test whose weights grow as survival falls but are capped (Magirr and Burman), so that early harm still counts: it favours a late benefit while rarely declaring benefit where the experimental arm is never better."
        }
        TestKind::RobustMw { .. } => {
            "the larger of the log-rank and modestly weighted statistics, with a p-value that allows for the choice."
        }
        TestKind::Cox { .. } => {
            "estimates one hazard ratio for the whole follow-up and tests it; with crossing curves that one number averages early harm and late benefit."
        }
        TestKind::CoxPeriods => {
            "estimates a hazard ratio in each period and tests the last one: a claim that the late hazard is lower, not that survival is better."
        }
        TestKind::Rmst => {
            "compares the average event-free time up to a fixed time τ (the area under the survival curve): early losses and late gains both count, in time."
        }
        TestKind::Milestone => "compares the share of patients event-free at one fixed time.",
        TestKind::Stratified(_) => {
            "the same test computed within each stratum (a part of the population with its own risks) and combined."
        }
        TestKind::Win { .. } => {
            "compares every patient with every patient of the other arm on a ranked list of outcomes (death first, then the next), and counts wins and losses (Finkelstein–Schoenfeld; the win ratio)."
        }
    }
}

/// The words of the glossary every run's report ends with (then one line per test of the run).
pub const GLOSSARY: [(&str, &str); 7] = [
    (
        "Power",
        "the share of simulated trials in which a test declares the experimental treatment better at the planned significance level α; 80 in 100 is a common target.",
    ),
    (
        "Type I error",
        "the share of trials that declare benefit when both arms are identical; a valid test keeps it at about α.",
    ),
    (
        "Never-better rate",
        "the share of trials that declare benefit where the experimental arm's true survival is nowhere above control's during the trial's follow-up (its early deaths are never made up). A test can keep its type I error and still do this far more often than α.",
    ),
    ("±", "the Monte Carlo standard error: the simulation's own uncertainty, smaller with more replicates."),
    (
        "Crossing",
        "the time at which the true survival curves meet: before it the experimental arm is behind (early deaths), after it ahead.",
    ),
    (
        "ΔRMST and break-even",
        "the extra time alive (or event-free) per patient, on average, up to a given time; the break-even time is when the time lost early has been made up for good.",
    ),
    (
        "Monitored design",
        "a trial with interim looks that may stop early for benefit, futility or harm; its power is what the whole design achieves, usually a little below the same trial without looks.",
    ),
];

/// The experimental arm's early risk as a phrase, when it has one: "a 10% risk of
/// transplant-related death within 0.25 years". With strata the risk simulated is each
/// stratum's: one value when they agree, else their range ("a 6.32% to 22% risk …, by stratum").
fn early_risk(sc: &Scenario) -> Option<String> {
    let comparison = sc.comparison?;
    let e = comparison.experimental;
    let risks: Vec<(usize, f64, f64)> = sc
        .population()
        .filter_map(|(_, _, arms)| {
            arms[e].early_risk.iter().enumerate().find_map(|(k, r)| r.map(|(risk, within)| (k, risk, within)))
        })
        .collect();
    let &(k, _, within) = risks.first()?;
    // Only one cause and one window can be said in one clause.
    if risks.iter().any(|r| r.0 != k || r.2 != within) {
        return None;
    }
    let pct = |x: f64| crate::scenario::labels::DisplayScale::Percent.to_display(x);
    let lo = risks.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let hi = risks.iter().map(|r| r.1).fold(f64::NEG_INFINITY, f64::max);
    let (amount, by) = if lo == hi {
        (format!("{}%", pct(lo)), "")
    } else {
        (format!("{}% to {}%", pct(lo), pct(hi)), ", by stratum")
    };
    Some(format!("a {amount} risk of {} within {} {}{by}", sc.cause_label(k), short(within), sc.time_unit))
}

/// The plain-language summary of a run: three to five sentences.
pub fn sentences(r: &Results) -> Vec<String> {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let unit = &sc.time_unit;
    let (Some(ctl), Some(exp)) = (sc.control(), sc.experimental()) else {
        let first = r.layout.tests.first().map(|(n, k)| (test_phrase(sc, n, k), s.tests[0].benefit));
        let mut out =
            vec![format!("{} simulated single-arm studies of {} patients each.", reps, sc.design.n)];
        if let Some((phrase, k)) = first {
            out.push(format!(
                "{} rejects its null hypothesis in about {} of 100 of them.",
                capitalised(&phrase),
                in_100(Proportion::new(k, reps).estimate)
            ));
        }
        return out;
    };
    let (e, c) = (&exp.label, &ctl.label);
    let mut out = Vec::new();
    let two_sided = sc.analysis.sides == crate::scenario::Sides::Two;
    let power = |i: usize| in_100(Proportion::new(s.tests[i].benefit, reps).estimate);
    let tests = &r.layout.tests;
    let phrase = |i: usize| test_phrase(sc, &tests[i].0, &tests[i].1);
    let estimable = |i: usize| s.tests[i].not_estimable < reps;
    // The arm is named once: "Autologous HSCT (a 10% risk …) would be shown better" where it is
    // the sentence's subject, "and a 10% risk … on Autologous HSCT" where it is not.
    let risk_clause = early_risk(sc);
    let risk = risk_clause.as_ref().map_or(String::new(), |r| format!(" and {r} on {e}"));
    let subject = risk_clause.as_ref().map_or_else(|| e.to_string(), |r| format!("{e} ({r})"));
    // A monitored test's rejections (the headline) and its looks.
    let monitored_count = |i: usize| {
        let (m, t) = (r.layout.monitor.as_ref()?, s.monitoring.as_ref()?);
        let j = m.tests.iter().position(|mt| mt.test == i)?;
        Some((t.tests[j].rejected, m.looks.len()))
    };
    let monitored =
        |i: usize| monitored_count(i).map(|(k, looks)| (in_100(Proportion::new(k, reps).estimate), looks));
    // The primary (first) test, and the most powerful other one that claims benefit (not, as
    // `cox_periods` does, a lower late hazard), by the power the sentence prints.
    let printed = |i: usize| monitored_count(i).map_or(s.tests[i].benefit, |(k, _)| k);
    let best = (1..tests.len())
        .filter(|&i| estimable(i) && tests[i].1.claim() == Claim::Benefit)
        .max_by_key(|&i| printed(i))
        .filter(|&i| tests.is_empty() || !estimable(0) || printed(i) > printed(0));
    // "in about 21 of 100 such trials by the log-rank test with its 2 interim looks (31
    // without them)".
    let by = |i: usize, lead: &str| {
        let looks = match monitored(i) {
            Some((_, 1)) => format!(" with its interim look ({} without it)", power(i)),
            Some((_, k)) => format!(" with its {k} interim looks ({} without them)", power(i)),
            None => String::new(),
        };
        let p = monitored(i).map_or_else(|| power(i), |(p, _)| p);
        format!(
            "{lead}{p} of 100{} by {}{looks}",
            if lead.is_empty() { "" } else { " such trials" },
            phrase(i)
        )
    };
    let second = best.map_or(String::new(), |b| format!(" and in {}", by(b, "")));
    match tests.first() {
        None => out.push(format!(
            "With {} patients{risk}, the scenario names no test to compare {e} with {c}.",
            sc.design.n
        )),
        Some(_) if !estimable(0) => out.push(format!(
            "With {} patients{risk}, {} could not be computed in any trial{}.",
            sc.design.n,
            phrase(0),
            best.map_or(String::new(), |b| format!(
                "; {e} would be shown better than {c} in about {}",
                by(b, "")
            ))
        )),
        Some(_) => out.push(format!(
            "With {} patients, {subject} would be shown better than {c} in {}{second}.",
            sc.design.n,
            by(0, "about ")
        )),
    }
    let alpha = if two_sided {
        format!("α/2 = {}% on that side", short(50.0 * sc.analysis.alpha))
    } else {
        format!("α = {}%", short(100.0 * sc.analysis.alpha))
    };
    if let Some((_, nb)) = r.never_better.filter(|_| !tests.is_empty()) {
        let rate = |i: usize| in_100(Proportion::new(nb.tests[i].benefit, nb.replicates).estimate);
        let shown: Vec<usize> = std::iter::once(0).filter(|&i| estimable(i)).chain(best).collect();
        let parts: Vec<String> =
            shown.iter().map(|&i| format!("{} in {} of 100", phrase(i), rate(i))).collect();
        if !parts.is_empty() {
            out.push(format!(
                "Where {e} is never better than {c} (its early deaths never made up), {} such trials would still declare benefit, against {alpha} by design.",
                parts.join(" and ")
            ));
        }
    } else if let Some((null, nr)) = r.null.filter(|_| !tests.is_empty() && estimable(0)) {
        let e0 = Proportion::new(null_rejections(&null.tests[0], sc.analysis.sides), nr).estimate;
        let (does, level) = if two_sided {
            ("rejects in either direction", format!("α = {}%, two-sided", short(100.0 * sc.analysis.alpha)))
        } else {
            ("declares benefit", alpha.clone())
        };
        out.push(format!(
            "With identical arms, {} {does} in {} of 100 trials ({level}).",
            phrase(0),
            in_100(e0)
        ));
    }
    let ep = sc.endpoint_label(&sc.primary().name);
    match r.truth.crossing_times.first() {
        Some(t) => {
            let observed = Proportion::new(s.crossings, reps).estimate;
            let median = r
                .layout
                .index_of(&Estimate::CrossingTime)
                .map(|i| s.estimates[i].hist.quantile(0.5))
                .filter(|m| m.is_finite());
            let seen = median.map_or(String::new(), |_| {
                format!("; a trial of this size sees them cross in {} of 100 cases", in_100(observed))
            });
            out.push(format!(
                "The true {ep} curves cross at about {} {unit}: {e} is behind before and ahead after{seen}.",
                short((t * 10.0).round() / 10.0)
            ));
        }
        None => out.push(format!("The true {ep} curves do not cross during the trial.")),
    }
    if let Some(lt) = &r.truth.long_term
        && let Some(p) = lt.endpoints.iter().find(|p| p.primary)
    {
        let i = crate::time::units_per_year(unit)
            .and_then(|u| lt.times.iter().position(|&t| t >= 10.0 * u))
            .unwrap_or(lt.times.len() - 1);
        let g = p.gain[i];
        let gain = if g >= 0.0 {
            format!("{:.2} {} more", g, p.measure)
        } else {
            format!("{:.2} {} fewer", -g, p.measure)
        };
        let be =
            p.break_even.map_or(format!("it has not broken even by {} {unit}", short(lt.horizon)), |t| {
                format!("it breaks even at {t:.1} {unit}")
            });
        out.push(format!(
            "Over {} {unit} the model gives each patient on {e} {gain} than on {c} on average, the truth of the model rather than a trial's estimate; {be}.",
            short(lt.times[i])
        ));
    }
    if let (Some(m), Some(t)) = (&r.layout.monitor, &s.monitoring)
        && let (Some(_), Some(sf)) = (&m.safety, &t.safety)
    {
        let stopped: u64 = sf.stops.iter().sum();
        out.push(format!(
            "The safety rule stops {} of 100 trials early for deaths on {e}.",
            in_100(Proportion::new(stopped, reps).estimate)
        ));
    }
    out
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next().map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// The glossary's entries for a run: the general words, then each test of the run.
pub fn glossary(r: &Results) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        GLOSSARY.iter().map(|(w, m)| (w.to_string(), m.to_string())).collect();
    for (name, kind) in &r.layout.tests {
        out.push((name.clone(), test_meaning(kind).to_string()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentences_of(text: &str) -> Vec<String> {
        let sc = crate::scenario::Scenario::from_toml(text, std::path::Path::new("s.toml")).unwrap();
        let req = crate::run::SimulateOptions {
            replicates: 200,
            seed: 1,
            null_copy: true,
            never_better: None,
            progress: &|_| {},
            cancel: None,
            prior: None,
        };
        let sim = crate::run::simulate_scenario(&sc, &req, None).unwrap();
        sentences(&Results::of(&sim, &sc, 1))
    }

    /// A two-arm scenario without tests, and strata whose transplant risks differ, are said
    /// without a panic and without a risk that is not simulated.
    #[test]
    fn no_tests_and_strata_are_said_as_they_are() {
        let astis = std::fs::read_to_string("scenarios/astis.toml").unwrap();
        let none = astis
            .replace("tests = [\"logrank\", \"fh(0,1)\", \"maxcombo\", \"mw\", \"robust_mw\", \"cox\", \"cox_periods\", \"rmst\", \"milestone\"]", "tests = []");
        let none = none[..none.find("[analysis.never_better]").unwrap()].to_string();
        let s = sentences_of(&none);
        assert!(s[0].contains("names no test"), "{s:?}");
        let strata = std::fs::read_to_string("scenarios/who_to_transplant.toml").unwrap();
        let s = sentences_of(&strata);
        assert!(s[0].contains("Autologous HSCT (a 6.32% to 22% risk of transplant-related death within 0.25 years, by stratum) would be shown better"), "{}", s[0]);
    }

    #[test]
    fn rates_read_as_in_100() {
        assert_eq!(in_100(0.2794), "28");
        assert_eq!(in_100(0.0712), "7.1");
        assert_eq!(in_100(0.0996), "10");
        assert_eq!(in_100(0.0), "0.0");
        assert_eq!(in_100(1.0), "100");
    }
}
