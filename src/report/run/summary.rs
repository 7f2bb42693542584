//! summary.json: the machine-readable contract (docs/design.md § Output contract), as types whose
//! field order is the file's key order. It holds no timestamps, timings, thread counts or paths,
//! so the same scenario, seed and replicates give a byte-identical file. NaN (not estimable) is
//! written as null (serde_json writes a non-finite float as null).

use serde::Serialize;

use super::monitoring::{self, Monitoring};
use crate::analysis::Estimate;
use crate::engine::ENGINE_VERSION;
use crate::report::{Named, Results};
use crate::scenario::Sides;
use crate::summary::{Proportion, Tally};
use crate::truth::Truth;

/// summary.json.
#[derive(Debug, Serialize)]
pub struct SummaryJson<'a> {
    pub scenario: &'a str,
    pub title: &'a str,
    pub time_unit: &'a str,
    pub seed: u64,
    pub replicates: u64,
    pub engine: &'static str,
    pub design: Design<'a>,
    pub truth: &'a Truth,
    pub tests: Named<TestSummary>,
    pub events: Events,
    /// Null for a single-arm study.
    pub crossing: Option<Crossing>,
    /// Null for a single-arm study.
    pub shows: Option<Shows>,
    pub estimates: Named<Distribution>,
    /// Settings beyond the follow-up the design gives (`truth::beyond_follow_up`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub null: Option<NullCopy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub never_better: Option<NeverBetterCopy<'a>>,
    /// The long-term truth over parameter draws (`run --draws`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub long_term_uncertainty: Option<&'a crate::truth::long_term::Uncertainty>,
}

/// `never_better`: the boundary of `[analysis.never_better]` and how often each test declares
/// benefit there (rejections favouring the experimental arm, one- or two-sided).
#[derive(Debug, Serialize)]
pub struct NeverBetterCopy<'a> {
    pub description: &'static str,
    pub vary: &'a [String],
    /// The boundary value every key of `vary` is set to.
    pub value: f64,
    /// The keys' value in the scenario, and the other end of the search.
    pub from: f64,
    pub to: f64,
    pub until: f64,
    pub replicates: u64,
    pub tests: Named<NeverBetterTest>,
    /// Each monitored test's rejections for benefit at any look of the monitored design there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Named<MonitoredRate>>,
}

#[derive(Debug, Serialize)]
pub struct MonitoredRate {
    pub rate: f64,
    pub se: f64,
}

#[derive(Debug, Serialize)]
pub struct NeverBetterTest {
    pub rate: f64,
    pub se: f64,
    /// `benefit` (false at the boundary: every rejection is an error) or `late_hazard_lower`
    /// (`cox_periods`).
    pub claim: &'static str,
    /// Whether the claim is true at the boundary (`late_hazard_lower`: the boundary model's true
    /// average hazard ratio after the last period break is below 1).
    pub claim_holds: bool,
}

#[derive(Debug, Serialize)]
pub struct Design<'a> {
    pub n: usize,
    pub control: Option<&'a str>,
    pub experimental: Option<&'a str>,
    pub endpoint: &'a str,
    pub alpha: f64,
    /// 1 or 2.
    pub sides: u8,
}

/// One test's power (and type I error under identical arms, when that copy ran).
#[derive(Debug, Serialize)]
pub struct TestSummary {
    pub power: f64,
    pub power_se: f64,
    pub power_ci95: [f64; 2],
    pub not_estimable: u64,
    pub mean_z: f64,
    pub sd_z: f64,
    /// Two-sided tests: the fraction of trials significant against the experimental arm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reject_harm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_i_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_i_error_se: Option<f64>,
}

/// An estimate over replicates beside its truth.
#[derive(Debug, Serialize)]
pub struct Distribution {
    pub truth: Option<f64>,
    pub mean: f64,
    pub sd: f64,
    pub q025: f64,
    pub q25: f64,
    pub median: f64,
    pub q75: f64,
    pub q975: f64,
    pub n: u64,
    pub not_estimable: u64,
}

impl Distribution {
    fn of(t: &Tally, truth: Option<f64>) -> Distribution {
        let q = |p: f64| t.hist.quantile(p);
        Distribution {
            truth,
            mean: t.moments.mean(),
            sd: t.moments.sd(),
            q025: q(0.025),
            q25: q(0.25),
            median: q(0.5),
            q75: q(0.75),
            q975: q(0.975),
            n: t.moments.n,
            not_estimable: t.nan,
        }
    }
}

/// A proportion of trials with its Monte Carlo SE and Wilson interval.
#[derive(Debug, Serialize)]
pub struct Probability {
    pub probability: f64,
    pub se: f64,
    pub ci95: [f64; 2],
}

impl From<Proportion> for Probability {
    fn from(p: Proportion) -> Probability {
        Probability { probability: p.estimate, se: p.se, ci95: [p.lower, p.upper] }
    }
}

/// Mean primary-endpoint events at the cut.
#[derive(Debug, Serialize)]
pub struct Events {
    pub mean: f64,
    pub expected: f64,
    pub by_arm: Named<f64>,
    pub by_cause: Named<Named<f64>>,
    pub target_not_reached: u64,
}

/// The crossing rule, how often it fires and when.
#[derive(Debug, Serialize)]
pub struct Crossing {
    pub min_gap: f64,
    pub min_at_risk: usize,
    pub observed: Probability,
    /// The truth of the observed time is the rule applied to the true curves; the times the true
    /// curves are equal are kept beside it, as `true_times`.
    pub time: Distribution,
    pub true_times: Vec<f64>,
    pub rule_on_true_curves: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub null_observed: Option<Probability>,
}

/// What trials show and detect.
#[derive(Debug, Serialize)]
pub struct Shows {
    pub detects: Detects,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub early_harm: Option<Shown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_benefit: Option<Shown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_test_by_crossing: Option<ByCrossing>,
}

#[derive(Debug, Serialize)]
pub struct Detects {
    pub method: String,
    pub available: bool,
    pub neither: Probability,
    pub early_harm_only: Probability,
    pub late_benefit_only: Probability,
    pub both: Probability,
}

/// The curves at a horizon: experimental Kaplan–Meier below (early harm) or above (late
/// benefit) control.
#[derive(Debug, Serialize)]
pub struct Shown {
    pub horizon: f64,
    pub description: &'static str,
    pub observed: Probability,
}

/// The primary test's rejections against the observed crossing, as fractions of trials.
#[derive(Debug, Serialize)]
pub struct ByCrossing {
    pub test: String,
    pub no_rejection_no_crossing: f64,
    pub rejection_no_crossing: f64,
    pub crossing_no_rejection: f64,
    pub rejection_and_crossing: f64,
}

/// The identical-arms copy: its results sit beside each test (`type_i_error`) and under
/// `crossing.null_observed`.
#[derive(Debug, Serialize)]
pub struct NullCopy {
    pub description: &'static str,
    pub replicates: u64,
}

/// Whether the scenario gives what detection needs: analysis periods or horizons.
pub(crate) fn detects_available(r: &Results) -> bool {
    let a = &r.scenario.analysis;
    !a.periods.is_empty() || !a.horizons.is_empty()
}

/// How "detects early harm / late benefit" is decided, in words.
pub(crate) fn detects_method(r: &Results) -> String {
    let a = &r.scenario.analysis;
    let level = match a.sides {
        Sides::One => format!("one-sided α = {}", a.alpha),
        Sides::Two => format!("α/2 = {} per side", a.alpha / 2.0),
    };
    if !detects_available(r) {
        "not available: give analysis.periods or analysis.horizons".to_string()
    } else if !a.periods.is_empty() {
        format!(
            "log-rank test within the first / last period (the Cox score test of that period's effect): harm if the first period's z > z_crit, benefit if the last period's z < −z_crit ({level})"
        )
    } else {
        format!(
            "Kaplan–Meier difference (Greenwood): harm if significant against the experimental arm at the first horizon, benefit if significant for it at the last ({level})"
        )
    }
}

/// summary.json of a run.
pub fn summary<'a>(r: &'a Results) -> SummaryJson<'a> {
    let sc = r.scenario;
    let s = r.summary;
    let beyond = crate::truth::beyond_follow_up(sc, r.truth.expected_cut);
    SummaryJson {
        scenario: &sc.name,
        title: &sc.title,
        time_unit: &sc.time_unit,
        seed: r.seed,
        replicates: s.replicates,
        engine: ENGINE_VERSION,
        design: Design {
            n: sc.design.n,
            control: sc.control().map(|a| a.name.as_str()),
            experimental: sc.experimental().map(|a| a.name.as_str()),
            endpoint: &sc.primary().name,
            alpha: sc.analysis.alpha,
            sides: match sc.analysis.sides {
                Sides::One => 1,
                Sides::Two => 2,
            },
        },
        truth: r.truth,
        tests: tests(r),
        events: events(r),
        crossing: crossing(r),
        shows: shows(r),
        estimates: r
            .layout
            .estimates
            .iter()
            .zip(&s.estimates)
            .map(|(spec, t)| (spec.estimate.to_string(), Distribution::of(t, spec.truth)))
            .collect(),
        warnings: (!beyond.is_empty()).then(|| beyond.iter().map(|b| b.to_string()).collect()),
        note: (r.layout.groups < 2)
            .then_some("single-arm study: no comparison, so the tests of analysis.tests were not run"),
        monitoring: monitoring::json(r),
        long_term_uncertainty: r.long_term_draws,
        null: r.null.map(|(_, n)| NullCopy {
            description: "the same design with the experimental arm given the control arm's hazards",
            replicates: n,
        }),
        never_better: never_better(r),
    }
}

fn never_better<'a>(r: &Results<'a>) -> Option<NeverBetterCopy<'a>> {
    let (b, s) = r.never_better?;
    let tests = r.layout.tests.iter().enumerate().map(|(i, (name, kind))| {
        let p = Proportion::new(s.tests[i].benefit, s.replicates);
        let claim = kind.claim();
        (
            name.clone(),
            NeverBetterTest {
                rate: p.estimate,
                se: p.se,
                claim: claim.key(),
                claim_holds: b.claim_holds(claim),
            },
        )
    });
    Some(NeverBetterCopy {
        description: "the scenario with every key of vary set to value, where the experimental arm's true \
                      survival is nowhere above control's up to until",
        vary: &b.vary,
        value: b.value,
        from: b.from,
        to: b.to,
        until: b.until,
        replicates: s.replicates,
        tests: Named(tests.collect()),
        monitoring: monitored_at_boundary(r, s),
    })
}

/// The monitored tests' efficacy rejections (any look) in the never-better copy.
fn monitored_at_boundary(r: &Results, s: &crate::summary::Summary) -> Option<Named<MonitoredRate>> {
    let (monitor, tally) = (r.layout.monitor.as_ref()?, s.monitoring.as_ref()?);
    let rates = monitor.tests.iter().zip(&tally.tests).map(|(mt, t)| {
        let p = Proportion::new(t.rejected, s.replicates);
        (mt.name.clone(), MonitoredRate { rate: p.estimate, se: p.se })
    });
    Some(Named(rates.collect()))
}

/// summary.json's text.
pub(crate) fn render(r: &Results) -> String {
    let mut text = serde_json::to_string_pretty(&summary(r)).expect("summary.json serialises");
    text.push('\n');
    text
}

fn tests(r: &Results) -> Named<TestSummary> {
    let s = r.summary;
    let sides = r.scenario.analysis.sides;
    let mut out = Vec::new();
    for (i, (name, _)) in r.layout.tests.iter().enumerate() {
        let t = s.tests[i];
        let p = Proportion::new(t.benefit, s.replicates);
        let z = &s.estimates[r.layout.z_of(i).expect("every test has a z")];
        let null = r.null.map(|(null, _)| {
            Proportion::new(crate::report::null_rejections(&null.tests[i], sides), null.replicates)
        });
        out.push((
            name.clone(),
            TestSummary {
                power: p.estimate,
                power_se: p.se,
                power_ci95: [p.lower, p.upper],
                not_estimable: t.not_estimable,
                mean_z: z.moments.mean(),
                sd_z: z.moments.sd(),
                reject_harm: (sides == Sides::Two).then(|| t.harm as f64 / s.replicates as f64),
                type_i_error: null.map(|e| e.estimate),
                type_i_error_se: null.map(|e| e.se),
            },
        ));
    }
    Named(out)
}

/// Mean events at the cut: in all, by arm, and by arm and cause.
fn events(r: &Results) -> Events {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates as f64;
    let group_name = |g: usize| sc.arms[r.layout.group_arms[g]].name.clone();
    let groups = 0..r.layout.groups;
    Events {
        mean: (s.events[0] + s.events[1]) as f64 / reps,
        expected: r.truth.expected_events_total,
        by_arm: groups.clone().map(|g| (group_name(g), s.events[g] as f64 / reps)).collect(),
        by_cause: groups
            .map(|g| {
                let causes = sc.primary().causes.iter().map(|&k| {
                    let count = s.events_by_cause[g * r.layout.n_causes + k];
                    (sc.causes[k].clone(), count as f64 / reps)
                });
                (group_name(g), causes.collect())
            })
            .collect(),
        target_not_reached: s.target_not_reached,
    }
}

/// The crossing rule, how often it fires (also under identical arms) and when (none for one arm).
fn crossing(r: &Results) -> Option<Crossing> {
    if r.layout.groups != 2 {
        return None;
    }
    let s = r.summary;
    let rule = r.scenario.analysis.crossing;
    let i = r.layout.index_of(&Estimate::CrossingTime).expect("two-arm layouts have crossing.time");
    Some(Crossing {
        min_gap: rule.min_gap,
        min_at_risk: rule.min_at_risk,
        observed: Proportion::new(s.crossings, s.replicates).into(),
        time: Distribution::of(&s.estimates[i], r.truth.crossing_by_rule),
        true_times: r.truth.crossing_times.clone(),
        rule_on_true_curves: r.truth.crossing_by_rule,
        null_observed: r.null.map(|(null, _)| Proportion::new(null.crossings, null.replicates).into()),
    })
}

/// What trials show and detect: early harm, late benefit, the primary test against the crossing
/// (none for one arm).
fn shows(r: &Results) -> Option<Shows> {
    if r.layout.groups != 2 {
        return None;
    }
    let s = r.summary;
    let reps = s.replicates;
    let h = &r.scenario.analysis.horizons;
    let p = |k: u64| Probability::from(Proportion::new(k, reps));
    let shown = |horizon: f64, description, k| Shown { horizon, description, observed: p(k) };
    Some(Shows {
        detects: Detects {
            method: detects_method(r),
            available: detects_available(r),
            neither: p(s.detects[0]),
            early_harm_only: p(s.detects[1]),
            late_benefit_only: p(s.detects[2]),
            both: p(s.detects[3]),
        },
        early_harm: h.first().map(|&at| shown(at, "experimental KM below control", s.early_harm)),
        late_benefit: h.last().map(|&at| shown(at, "experimental KM above control", s.late_benefit)),
        primary_test_by_crossing: r.layout.tests.first().map(|(name, _)| {
            let c = &s.primary_by_crossing;
            let f = |k: usize| c[k] as f64 / reps as f64;
            ByCrossing {
                test: name.clone(),
                no_rejection_no_crossing: f(0),
                rejection_no_crossing: f(1),
                crossing_no_rejection: f(2),
                rejection_and_crossing: f(3),
            }
        }),
    })
}
