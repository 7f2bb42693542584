//! The monitoring section of summary.json and summary.md: per look, when it happens, its bounds
//! as planned and how often trials stop there and why; the safety reviews; power, expected size
//! and duration; and what monitoring changes against the fixed design on the same trials
//! (fixed − monitored power = losses to futility, harm and safety + the final bound's cost −
//! gains, which add up exactly).

use std::fmt::Write;

use serde::Serialize;

use crate::monitoring::{Monitor, MonitoredTest};
use crate::report::{Named, Results};
use crate::scenario::{FutilityBound, FutilityRule, Look};
use crate::stats::normal;
use crate::summary::{CpTally, LookTally, MonitoringTally};
use crate::summary::{Proportion, TestMonitoring};
use crate::test_statistic::Information;

/// Whether a monitored test's information is counted in events (log-rank, Cox, FH(0,0)).
fn is_events(mt: &MonitoredTest) -> bool {
    mt.information == Information::Events
}

fn look_name(m: &Monitor, k: usize) -> String {
    match m.looks.get(k) {
        None => "final".into(),
        Some(Look::Fraction(f)) => format!("fraction {f}"),
        Some(Look::Cut(c)) => {
            let mut parts = Vec::new();
            if let Some(t) = c.calendar {
                parts.push(format!("calendar {t}"));
            }
            if let Some(e) = c.events {
                parts.push(format!("{e} events"));
            }
            if let Some(f) = c.min_followup {
                parts.push(format!("min follow-up {f}"));
            }
            parts.join(", ")
        }
    }
}

/// summary.json's `monitoring`: the first monitored test's section at the top (the documented
/// keys), the safety reviews, and every monitored test's section under `by_test`.
#[derive(Debug, Serialize)]
pub struct Monitoring {
    #[serde(flatten)]
    pub first: TestSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub safety: Option<Vec<Review>>,
    pub by_test: Named<TestSection>,
}

/// One monitored test: its looks, power against the fixed design, what monitoring cost, and the
/// design as planned.
#[derive(Debug, Clone, Serialize)]
pub struct TestSection {
    pub test: String,
    pub i_max: f64,
    pub i_max_is: &'static str,
    pub looks: Vec<LookSection>,
    pub power: f64,
    pub power_se: f64,
    pub fixed_power: f64,
    pub fixed_power_se: f64,
    pub expected_events: f64,
    pub expected_duration: f64,
    pub expected_n: f64,
    pub stopped_by_safety: f64,
    pub became_final: f64,
    pub lost: Lost,
    pub gained: f64,
    pub final_bound_cost: f64,
    pub planned: Planned,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_i_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_i_error_se: Option<f64>,
    /// What the rules do on each side (`[monitoring.committee]`): on the scenario's trials, with
    /// identical arms and at the never-better boundary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub both_sides: Option<BothSides>,
}

/// One monitored design on the scenario's trials and on its companions' (each the same design
/// on other trials): what it costs when the transplant works and what it saves when it does not.
#[derive(Debug, Clone, Serialize)]
pub struct BothSides {
    pub scenario: Side,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identical_arms: Option<Side>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_better: Option<Side>,
}

/// The monitored design against the fixed one on one set of trials: how often each declares
/// benefit, why the monitored one stopped early (per look and in all), and the patients and
/// years it saves (the fixed design enrols and follows to its final cut).
#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub trials: u64,
    pub declared_benefit: f64,
    pub declared_benefit_se: f64,
    pub fixed_declared_benefit: f64,
    pub fixed_declared_benefit_se: f64,
    /// Stopped early for futility (any interim), and at each interim.
    pub stopped_futility: f64,
    pub stopped_futility_se: f64,
    pub stopped_futility_by_look: Vec<f64>,
    pub stopped_efficacy_early: f64,
    pub stopped_harm: f64,
    pub stopped_safety: f64,
    pub expected_n: f64,
    pub fixed_n: f64,
    pub n_saved: f64,
    pub expected_duration: f64,
    pub fixed_duration: f64,
    pub duration_saved: f64,
}

/// [`Side`] of a test's tally over `reps` trials.
fn side(t: &TestMonitoring, reps: u64) -> Side {
    let p = |k: u64| Proportion::new(k, reps);
    let interims = &t.looks[..t.looks.len().saturating_sub(1)];
    let futility: u64 = interims.iter().map(|l| l.futility).sum();
    let (declared, fixed, fut) = (p(t.rejected), p(t.fixed_rejects), p(futility));
    let share = |k: u64| p(k).estimate;
    Side {
        trials: reps,
        declared_benefit: declared.estimate,
        declared_benefit_se: declared.se,
        fixed_declared_benefit: fixed.estimate,
        fixed_declared_benefit_se: fixed.se,
        stopped_futility: fut.estimate,
        stopped_futility_se: fut.se,
        stopped_futility_by_look: interims.iter().map(|l| share(l.futility)).collect(),
        stopped_efficacy_early: share(interims.iter().map(|l| l.efficacy).sum()),
        stopped_harm: share(interims.iter().map(|l| l.harm).sum()),
        stopped_safety: share(t.safety),
        expected_n: t.enrolled.mean(),
        fixed_n: t.fixed_enrolled.mean(),
        n_saved: t.fixed_enrolled.mean() - t.enrolled.mean(),
        expected_duration: t.duration.mean(),
        fixed_duration: t.fixed_duration.mean(),
        duration_saved: t.fixed_duration.mean() - t.duration.mean(),
    }
}

/// Monitored test `j`'s [`BothSides`], with `[monitoring.committee]`.
fn both_sides(r: &Results, m: &Monitor, j: usize, t: &TestMonitoring) -> Option<BothSides> {
    m.committee.as_ref()?;
    let companion = |s: &crate::summary::Summary, reps: u64| {
        s.monitoring.as_ref().and_then(|mt| mt.tests.get(j)).map(|t| side(t, reps))
    };
    Some(BothSides {
        scenario: side(t, r.summary.replicates),
        identical_arms: r.null.and_then(|(s, reps)| companion(s, reps)),
        never_better: r.never_better.and_then(|(_, s)| companion(s, s.replicates)),
    })
}

/// Power lost to stops the fixed design would not have made, as fractions of trials.
#[derive(Debug, Clone, Serialize)]
pub struct Lost {
    pub futility: f64,
    pub harm: f64,
    pub safety: f64,
}

/// The design as planned, every analysis in order (the final one has no futility bound).
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub info_fraction: Vec<f64>,
    pub efficacy_z: Vec<f64>,
    pub futility_z: Vec<f64>,
    pub alpha_spent: Vec<f64>,
    pub beta_spent: Vec<f64>,
    pub drift: f64,
    pub drifts_by_look: Option<Vec<f64>>,
}

/// One look: when it was planned and happened, its bounds (z, nominal p, HR), and how often it
/// stopped the trial, alone and cumulatively.
#[derive(Debug, Clone, Serialize)]
pub struct LookSection {
    pub look: usize,
    pub kind: &'static str,
    pub when: String,
    pub planned_time: f64,
    pub planned_info_fraction: f64,
    /// Null when the information is not events.
    pub planned_events: Option<f64>,
    pub taken: u64,
    pub skipped: u64,
    pub time_mean: f64,
    pub time_q025: f64,
    pub time_q975: f64,
    pub events_mean: f64,
    pub events_q025: f64,
    pub events_q975: f64,
    pub info_fraction: f64,
    pub efficacy_z: f64,
    pub efficacy_nominal_p: f64,
    pub efficacy_hr: f64,
    pub futility_z: f64,
    pub harm_z: f64,
    pub harm_hr: f64,
    pub p_efficacy: f64,
    pub p_efficacy_se: f64,
    pub p_futility: f64,
    pub p_futility_se: f64,
    pub p_harm: f64,
    pub p_harm_se: f64,
    pub cumulative_efficacy: f64,
    pub cumulative_efficacy_se: f64,
    pub cumulative_futility: f64,
    pub cumulative_futility_se: f64,
    pub cumulative_harm: f64,
    pub cumulative_harm_se: f64,
    /// The conditional power of the trials that took this interim (`[monitoring.committee]` or
    /// a conditional-power futility rule).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conditional_power: Option<CpSection>,
}

/// Conditional power at one interim over the trials that took it: its distribution under each
/// drift, and how often the design's drift and the model disagree about the threshold (shares
/// of the trials that took the look, ± Monte Carlo SE).
#[derive(Debug, Clone, Serialize)]
pub struct CpSection {
    pub trials: u64,
    pub threshold: f64,
    pub design: CpDistribution,
    pub trend: CpDistribution,
    pub model: CpDistribution,
    /// The Bayesian predictive probability over the prior's draws (with a prior).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictive: Option<CpDistribution>,
    /// The mean effective sample size of the draws' weights, and the share of trials where it is
    /// below 50 (the predictive probability then rests on few draws).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_draws_mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_draws_below_50: Option<f64>,
    /// Below the threshold under the design's drift but not under the model's path.
    pub design_stops_model_continues: f64,
    pub design_stops_model_continues_se: f64,
    /// Below under the model's path but not under the design's drift.
    pub model_stops_design_continues: f64,
    pub model_stops_design_continues_se: f64,
}

/// One drift's conditional power over the trials at a look.
#[derive(Debug, Clone, Serialize)]
pub struct CpDistribution {
    pub mean: f64,
    pub q05: f64,
    pub q25: f64,
    pub median: f64,
    pub q75: f64,
    pub q95: f64,
    pub below_threshold: f64,
    pub below_threshold_se: f64,
}

fn cp_section(c: &CpTally) -> CpSection {
    let trials = c.values[2].n.max(c.values[0].n);
    let share = |k: u64| Proportion::new(k, trials);
    let dist = |d: usize| {
        let (h, below) = (&c.hist[d], Proportion::new(c.below[d], c.values[d].n));
        CpDistribution {
            mean: c.values[d].mean(),
            q05: h.quantile(0.05),
            q25: h.quantile(0.25),
            median: h.quantile(0.5),
            q75: h.quantile(0.75),
            q95: h.quantile(0.95),
            below_threshold: below.estimate,
            below_threshold_se: below.se,
        }
    };
    let (a, b) = (share(c.design_only), share(c.model_only));
    CpSection {
        trials,
        threshold: c.threshold,
        design: dist(0),
        trend: dist(1),
        model: dist(2),
        predictive: (c.values[3].n > 0).then(|| dist(3)),
        effective_draws_mean: (c.ess.n > 0).then(|| c.ess.mean()),
        effective_draws_below_50: (c.ess.n > 0).then(|| c.few_draws as f64 / c.ess.n as f64),
        design_stops_model_continues: a.estimate,
        design_stops_model_continues_se: a.se,
        model_stops_design_continues: b.estimate,
        model_stops_design_continues_se: b.se,
    }
}

/// One safety review.
#[derive(Debug, Serialize)]
pub struct Review {
    pub review: usize,
    pub patients: u32,
    pub stop_if_at_least: Option<u32>,
    pub time_mean: f64,
    pub reviewed: f64,
    pub p_stop: f64,
    pub p_stop_se: f64,
}

/// Look `k` of monitored test `j` (`cum`: stops up to it by efficacy, futility, harm).
fn look_section(reps: u64, m: &Monitor, j: usize, k: usize, l: &LookTally, cum: [u64; 3]) -> LookSection {
    let mt = &m.tests[j];
    // The interims and the final analysis.
    let k_max = m.looks.len() + 1;
    let p = |k: u64| Proportion::new(k, reps);
    let (pe, pf, ph) = (p(l.efficacy), p(l.futility), p(l.harm));
    let (ce, cf, ch) = (p(cum[0]), p(cum[1]), p(cum[2]));
    let e = mt.planned.efficacy[k];
    let planned_events = mt.planned_fractions[k] * mt.i_max;
    let harm = mt.planned_harm.get(k).copied().unwrap_or(f64::INFINITY);
    let last = k + 1 == k_max;
    LookSection {
        look: k + 1,
        kind: if last { "final" } else { "interim" },
        when: look_name(m, k),
        planned_time: if last { m.expected_final.unwrap_or(f64::NAN) } else { mt.planned_times[k] },
        planned_info_fraction: mt.planned_fractions[k],
        planned_events: is_events(mt).then_some(planned_events),
        taken: l.taken,
        skipped: l.skipped,
        time_mean: l.time.mean(),
        time_q025: l.time_hist.quantile(0.025),
        time_q975: l.time_hist.quantile(0.975),
        events_mean: l.events.mean(),
        events_q025: l.events_hist.quantile(0.025),
        events_q975: l.events_hist.quantile(0.975),
        info_fraction: l.fraction.mean(),
        efficacy_z: e,
        efficacy_nominal_p: normal::upper(e),
        efficacy_hr: mt.kind.hr_at(e, planned_events),
        futility_z: mt.planned.futility.get(k).copied().filter(|_| !last).unwrap_or(f64::NEG_INFINITY),
        harm_z: harm,
        harm_hr: mt.kind.hr_at(-harm, planned_events),
        p_efficacy: pe.estimate,
        p_efficacy_se: pe.se,
        p_futility: pf.estimate,
        p_futility_se: pf.se,
        p_harm: ph.estimate,
        p_harm_se: ph.se,
        cumulative_efficacy: ce.estimate,
        cumulative_efficacy_se: ce.se,
        cumulative_futility: cf.estimate,
        cumulative_futility_se: cf.se,
        cumulative_harm: ch.estimate,
        cumulative_harm_se: ch.se,
        conditional_power: l.cp.as_ref().map(cp_section),
    }
}

/// One monitored test's section (`null`: its tally under identical arms).
fn test_section(
    r: &Results,
    m: &Monitor,
    j: usize,
    t: &TestMonitoring,
    null: Option<&TestMonitoring>,
) -> TestSection {
    let reps = r.summary.replicates;
    let mt = &m.tests[j];
    let k_max = t.looks.len();
    let mut cum = [0; 3];
    let looks = t
        .looks
        .iter()
        .enumerate()
        .map(|(k, l)| {
            cum = [cum[0] + l.efficacy, cum[1] + l.futility, cum[2] + l.harm];
            look_section(reps, m, j, k, l, cum)
        })
        .collect();
    let power = Proportion::new(t.rejected, reps);
    let fixed = Proportion::new(t.fixed_rejects, reps);
    let frac = |k: u64| k as f64 / reps as f64;
    let type_i = null.zip(r.null).map(|(n, (ns, _))| Proportion::new(n.rejected, ns.replicates));
    TestSection {
        test: mt.name.clone(),
        i_max: mt.i_max,
        i_max_is: if mt.event_driven {
            "the final cut's event target"
        } else {
            "the expected information at the expected final cut"
        },
        looks,
        power: power.estimate,
        power_se: power.se,
        fixed_power: fixed.estimate,
        fixed_power_se: fixed.se,
        expected_events: t.events.mean(),
        expected_duration: t.duration.mean(),
        expected_n: t.enrolled.mean(),
        stopped_by_safety: frac(t.safety),
        became_final: frac(t.became_final),
        lost: Lost { futility: frac(t.lost[0]), harm: frac(t.lost[1]), safety: frac(t.lost[2]) },
        gained: frac(t.gained),
        final_bound_cost: frac(t.final_bound_cost),
        planned: Planned {
            info_fraction: mt.planned_fractions.clone(),
            efficacy_z: mt.planned.efficacy.clone(),
            futility_z: mt.planned.futility[..k_max - 1].iter().copied().chain([f64::NAN]).collect(),
            alpha_spent: mt.planned.alpha_spent.clone(),
            beta_spent: mt.planned.beta_spent.clone(),
            drift: mt.plan.drift,
            drifts_by_look: mt.plan.thetas.clone(),
        },
        type_i_error: type_i.map(|p| p.estimate),
        type_i_error_se: type_i.map(|p| p.se),
        both_sides: both_sides(r, m, j, t),
    }
}

/// summary.json's `monitoring` (none without `[monitoring]`).
pub fn json(r: &Results) -> Option<Monitoring> {
    let m = r.layout.monitor.as_ref()?;
    let tally = r.summary.monitoring.as_ref()?;
    let null = r.null.and_then(|(s, _)| s.monitoring.as_ref());
    let reps = r.summary.replicates;
    let by_test: Vec<(String, TestSection)> = tally
        .tests
        .iter()
        .enumerate()
        .map(|(j, t)| (m.tests[j].name.clone(), test_section(r, m, j, t, null.map(|n| &n.tests[j]))))
        .collect();
    let safety = m.safety.as_ref().zip(tally.safety.as_ref()).map(|(rule, s)| {
        rule.after
            .iter()
            .enumerate()
            .map(|(k, &patients)| {
                let p = Proportion::new(s.stops[k], reps);
                Review {
                    review: k + 1,
                    patients,
                    stop_if_at_least: rule.stop_at[k],
                    time_mean: s.time[k].mean(),
                    reviewed: s.time[k].n as f64 / reps as f64,
                    p_stop: p.estimate,
                    p_stop_se: p.se,
                }
            })
            .collect()
    });
    let first = by_test.first().map(|(_, t)| t.clone())?;
    Some(Monitoring { first, safety, by_test: Named(by_test) })
}

/// A percentage of trials, to two decimals below 1% so that a few trials do not read as 0.0%.
fn share(percent: f64) -> String {
    if percent > 0.0 && percent < 1.0 { format!("{percent:.2}%") } else { format!("{percent:.1}%") }
}

/// Monitored test `j`'s section of summary.md: its looks' bounds and stops, power against the
/// fixed design, and the type I error under identical arms.
fn test_markdown(
    o: &mut String,
    r: &Results,
    j: usize,
    t: &TestMonitoring,
    null: Option<(&MonitoringTally, u64)>,
) {
    let Some(m) = r.layout.monitor.as_ref() else { return };
    let reps = r.summary.replicates;
    let pct = |k: u64| 100.0 * k as f64 / reps as f64;
    let mt = &m.tests[j];
    let _ = writeln!(
        o,
        "**{}**, I_max = {:.4} ({}). Bounds on the benefit scale b = −z as planned; each trial's are recomputed at its own information fractions.\n",
        mt.name,
        mt.i_max,
        if mt.event_driven { "the final cut's event target" } else { "expected at the expected final cut" }
    );
    let _ = writeln!(
        o,
        "| look | when | mean time | mean events | info fraction (planned) | efficacy b ≥ | futility b ≤ | stop: efficacy | futility | harm | skipped |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|---|");
    let k_max = t.looks.len();
    for (k, l) in t.looks.iter().enumerate() {
        let bound = |x: f64| if x.is_finite() { format!("{x:.3}") } else { "—".into() };
        let f = if k + 1 < k_max { mt.planned.futility[k] } else { f64::NEG_INFINITY };
        let _ = writeln!(
            o,
            "| {} | {} | {:.2} | {:.1} | {:.3} ({:.3}) | {} | {} | {:.1}% | {:.1}% | {:.1}% | {} |",
            k + 1,
            look_name(m, k),
            l.time.mean(),
            l.events.mean(),
            l.fraction.mean(),
            mt.planned_fractions[k],
            bound(mt.planned.efficacy[k]),
            match &m.futility {
                Some(FutilityRule { bound: FutilityBound::ConditionalPower { below, under }, .. })
                    if k + 1 < k_max =>
                {
                    format!("CP({}) < {below}", under.name())
                }
                Some(FutilityRule { bound: FutilityBound::PredictiveProbability { below }, .. })
                    if k + 1 < k_max =>
                {
                    format!("PP < {below}")
                }
                _ => bound(f),
            },
            pct(l.efficacy),
            pct(l.futility),
            pct(l.harm),
            // The final analysis always happens (a trial stopped earlier never reaches it).
            if k + 1 < k_max { share(pct(l.skipped)) } else { "—".into() },
        );
    }
    let skipped: Vec<String> = t.looks[..k_max.saturating_sub(1)]
        .iter()
        .enumerate()
        .filter(|(_, l)| l.skipped > 0)
        .map(|(k, l)| format!("look {} in {} of trials", k + 1, share(pct(l.skipped))))
        .collect();
    if !skipped.is_empty() {
        let _ = writeln!(
            o,
            "\nSkipped: {}. A look is skipped when it would fall at or after the final cut or add too little information (the observed variance never reached its target in time); such a trial decides at its next look by that look's own bounds.",
            skipped.join(", ")
        );
    }
    let power = Proportion::new(t.rejected, reps);
    let fixed = Proportion::new(t.fixed_rejects, reps);
    let _ = writeln!(
        o,
        "\nPower {:.1}% ± {:.1} (fixed design on the same trials: {:.1}% ± {:.1}). Expected events {:.1}, duration {:.2}, patients enrolled {:.1}.",
        100.0 * power.estimate,
        100.0 * power.se,
        100.0 * fixed.estimate,
        100.0 * fixed.se,
        t.events.mean(),
        t.duration.mean(),
        t.enrolled.mean()
    );
    let _ = writeln!(
        o,
        "Fixed − monitored power = {:.2} pp: lost to futility {:.2}, harm {:.2}, safety {:.2}, final bound {:.2}, minus gained {:.2}.",
        pct(t.fixed_rejects) - pct(t.rejected),
        pct(t.lost[0]),
        pct(t.lost[1]),
        pct(t.lost[2]),
        pct(t.final_bound_cost),
        pct(t.gained)
    );
    if let Some((n, nreps)) = null {
        let p = Proportion::new(n.tests[j].rejected, nreps);
        let _ = writeln!(
            o,
            "Type I error (identical arms, {nreps} trials): {:.2}% ± {:.2}.",
            100.0 * p.estimate,
            100.0 * p.se
        );
    }
    let _ = writeln!(o);
    cp_markdown(o, t);
    if let Some(sides) = both_sides(r, m, j, t) {
        sides_markdown(o, &sides);
    }
}

/// The conditional power at each interim (when reported): its distribution under each drift,
/// and how often the design's drift and the model disagree about the threshold.
fn cp_markdown(o: &mut String, t: &TestMonitoring) {
    let interims = &t.looks[..t.looks.len().saturating_sub(1)];
    let sections: Vec<(usize, CpSection)> =
        interims.iter().enumerate().filter_map(|(k, l)| l.cp.as_ref().map(|c| (k, cp_section(c)))).collect();
    let Some((_, first)) = sections.first() else { return };
    let threshold = 100.0 * first.threshold;
    let _ = writeln!(
        o,
        "Conditional power at the interims (the chance of crossing a remaining efficacy bound given the data so far; docs/monitoring.md): under the design's drift θ, the current trend θ̂ = B(t)/t, and the scenario's own expected path; with a prior, the predictive probability over its draws.\n"
    );
    let _ = writeln!(
        o,
        "| look | trials | drift | mean | 5% | 25% | median | 75% | 95% | below {threshold:.0}% |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|---|");
    for (k, c) in &sections {
        let rows = [("design", Some(&c.design)), ("trend", Some(&c.trend)), ("model", Some(&c.model))];
        let predictive = [("predictive", c.predictive.as_ref())];
        for (name, d) in rows.into_iter().chain(predictive).filter_map(|(n, d)| d.map(|d| (n, d))) {
            let _ = writeln!(
                o,
                "| {} | {} | {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1}% ± {:.1} |",
                k + 1,
                c.trials,
                d.mean,
                d.q05,
                d.q25,
                d.median,
                d.q75,
                d.q95,
                100.0 * d.below_threshold,
                100.0 * d.below_threshold_se
            );
        }
    }
    let _ = writeln!(o);
    for (k, c) in &sections {
        if let (Some(ess), Some(few)) = (c.effective_draws_mean, c.effective_draws_below_50) {
            let flag = if few > 0.0 { " — **few draws carry the answer there**" } else { "" };
            let _ = writeln!(
                o,
                "At look {}, the predictive probability rests on an effective {ess:.0} draws on average; below 50 in {:.1}% of the trials{flag}.",
                k + 1,
                100.0 * few
            );
        }
    }
    for (k, c) in &sections {
        let _ = writeln!(
            o,
            "At look {}, the design's drift puts {:.1}% ± {:.1} of the trials below {threshold:.0}% where the model does not (a constant-drift rule would stop them, the model's would go on), and the model {:.1}% ± {:.1} where the design's drift does not.",
            k + 1,
            100.0 * c.design_stops_model_continues,
            100.0 * c.design_stops_model_continues_se,
            100.0 * c.model_stops_design_continues,
            100.0 * c.model_stops_design_continues_se
        );
    }
    let _ = writeln!(o);
}

/// Both sides of the design's rules: on the scenario's trials, with identical arms and at the
/// never-better boundary.
fn sides_markdown(o: &mut String, sides: &BothSides) {
    let _ = writeln!(
        o,
        "What the rules cost and save, each against the fixed design on the same trials (the fixed design enrols and follows every trial to its final cut):\n"
    );
    let _ = writeln!(
        o,
        "| trials | declared benefit: monitored | fixed | stopped for futility (by look) | stopped early: efficacy / harm / safety | patients (saved) | years (saved) |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|");
    let rows = [
        ("the scenario's", Some(&sides.scenario)),
        ("identical arms", sides.identical_arms.as_ref()),
        ("never better", sides.never_better.as_ref()),
    ];
    for (name, side) in rows {
        let Some(s) = side else { continue };
        let by_look: Vec<String> =
            s.stopped_futility_by_look.iter().map(|x| format!("{:.1}%", 100.0 * x)).collect();
        let _ = writeln!(
            o,
            "| {name} ({}) | {:.1}% ± {:.1} | {:.1}% | {:.1}% ({}) | {:.1}% / {:.1}% / {:.1}% | {:.1} ({:.1}) | {:.2} ({:.2}) |",
            s.trials,
            100.0 * s.declared_benefit,
            100.0 * s.declared_benefit_se,
            100.0 * s.fixed_declared_benefit,
            100.0 * s.stopped_futility,
            by_look.join(", "),
            100.0 * s.stopped_efficacy_early,
            100.0 * s.stopped_harm,
            100.0 * s.stopped_safety,
            s.expected_n,
            s.n_saved,
            s.expected_duration,
            s.duration_saved
        );
    }
    let _ = writeln!(o);
}

/// summary.md's monitoring section.
pub(crate) fn markdown(o: &mut String, r: &Results) {
    let (Some(m), Some(tally)) = (r.layout.monitor.as_ref(), r.summary.monitoring.as_ref()) else { return };
    let reps = r.summary.replicates;
    let null = r.null.and_then(|(s, n)| s.monitoring.as_ref().map(|t| (t, n)));
    let pct = |k: u64| 100.0 * k as f64 / reps as f64;
    let _ = writeln!(o, "## Interim monitoring\n");
    for (j, t) in tally.tests.iter().enumerate() {
        test_markdown(o, r, j, t, null);
    }
    if let (Some(rule), Some(s)) = (&m.safety, &tally.safety) {
        let _ = writeln!(
            o,
            "Safety rule on `{}` in `{}` (window {}):\n",
            r.scenario.causes[rule.cause], r.scenario.arms[rule.arm].name, rule.window
        );
        let _ = writeln!(o, "| review | patients | stop if ≥ | mean time | P(stop here) |");
        let _ = writeln!(o, "|---|---|---|---|---|");
        for (k, &patients) in rule.after.iter().enumerate() {
            let stop = rule.stop_at[k].map_or("never".to_string(), |x| x.to_string());
            let _ = writeln!(
                o,
                "| {} | {patients} | {stop} | {:.2} | {:.1}% |",
                k + 1,
                s.time[k].mean(),
                pct(s.stops[k])
            );
        }
        let _ = writeln!(o);
    }
}

#[cfg(feature = "plots")]
/// monitoring.svg: per monitored test, the cumulative probability of having stopped by each
/// look, stacked by reason (efficacy, futility, harm; the safety rule's stops in the last bar),
/// beside the fixed design's power on the same trials.
pub fn svg(r: &Results) -> Option<Result<String, crate::report::chart::DrawError>> {
    use plotters::prelude::*;
    let (m, tally) = (r.layout.monitor.as_ref()?, r.summary.monitoring.as_ref()?);
    let reps = r.summary.replicates.max(1) as f64;
    let colours = [2, 3, 1, 4].map(|i| crate::report::chart::PALETTE[i]);
    let reasons = ["efficacy", "futility", "harm", "safety rule"];
    let mut buf = String::new();
    let mut draw = || -> Result<(), crate::report::chart::DrawError> {
        let width = 430 * tally.tests.len() as u32;
        let extra = crate::report::chart::legend_height(reasons.len() + 1);
        let root = SVGBackend::with_string(&mut buf, (width.max(430), 480 + extra)).into_drawing_area();
        root.fill(&WHITE)?;
        let panels = root.split_evenly((1, tally.tests.len()));
        for ((panel, t), mt) in panels.iter().zip(&tally.tests).zip(&m.tests) {
            let k_max = t.looks.len();
            let mut chart = ChartBuilder::on(panel)
                .caption(format!("{}: stopped by each look", mt.name), ("sans-serif", 16))
                .margin(12)
                .margin_bottom(12 + extra)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(0f64..(k_max as f64 + 1.5), 0f64..1f64)?;
            let label = |x: &f64| look_label(*x, k_max);
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(k_max + 3)
                .x_label_formatter(&label)
                .y_desc("cumulative probability")
                .draw()?;
            let mut cum = [0.0; 4];
            for (k, l) in t.looks.iter().enumerate() {
                cum[0] += l.efficacy as f64 / reps;
                cum[1] += l.futility as f64 / reps;
                cum[2] += l.harm as f64 / reps;
                if k + 1 == k_max {
                    cum[3] = t.safety as f64 / reps;
                }
                let x = (k + 1) as f64;
                let mut bottom = 0.0;
                for (i, &h) in cum.iter().enumerate() {
                    let bar =
                        Rectangle::new([(x - 0.35, bottom), (x + 0.35, bottom + h)], colours[i].filled());
                    chart.draw_series(std::iter::once(bar))?;
                    bottom += h;
                }
            }
            let fixed = t.fixed_rejects as f64 / reps;
            let x = k_max as f64 + 1.0;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x - 0.35, 0.0), (x + 0.35, fixed)],
                colours[0].mix(0.45).filled(),
            )))?;
        }
        let legend: Vec<(String, crate::report::chart::Key)> = reasons
            .iter()
            .zip(colours)
            .map(|(r, c)| (r.to_string(), crate::report::chart::Key::Area(c.to_rgba())))
            .chain(std::iter::once((
                "fixed design's power (no interim looks)".to_string(),
                crate::report::chart::Key::Area(colours[0].mix(0.45)),
            )))
            .collect();
        crate::report::chart::draw_legend(&root, 480, &legend)?;
        root.present()?;
        Ok(())
    };
    let drawn = draw();
    let names: Vec<&str> = m.tests.iter().map(|t| t.name.as_str()).collect();
    let title = format!(
        "{}: probability of having stopped by each look, by reason ({}), beside the fixed design's power",
        r.scenario.name,
        names.join(", ")
    );
    Some(drawn.map(|()| crate::report::chart::titled(buf, &title)))
}

/// The x-axis label at `x` of the stopping plot: `look k` at the interims, `final`, then
/// `fixed` (the fixed design's bar); nothing between bars.
#[cfg(feature = "plots")]
fn look_label(x: f64, k_max: usize) -> String {
    let i = x.round() as usize;
    if (x - x.round()).abs() > 1e-9 || i == 0 {
        String::new()
    } else if i == k_max + 1 {
        "fixed".into()
    } else if i == k_max {
        "final".into()
    } else {
        format!("look {i}")
    }
}
