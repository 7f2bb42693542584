//! summary.json: the machine-readable contract (docs/design.md § Output contract). It holds no
//! timestamps, timings, thread counts or paths, so the same scenario, seed and replicates give a
//! byte-identical file. NaN (not estimable) is written as null.

use serde_json::{Map, Value, json};

use super::Results;
use crate::engine::ENGINE_VERSION;
use crate::layout::Estimate;
use crate::scenario::Sides;
use crate::summary::{Proportion, Summary, Tally};

fn num(x: f64) -> Value {
    // serde_json turns non-finite floats into null.
    json!(x)
}

fn tally(t: &Tally, truth: Option<f64>) -> Value {
    let q = |p: f64| num(t.hist.quantile(p));
    json!({
        "truth": truth.map_or(Value::Null, num),
        "mean": num(t.moments.mean()),
        "sd": num(t.moments.sd()),
        "q025": q(0.025),
        "q25": q(0.25),
        "median": q(0.5),
        "q75": q(0.75),
        "q975": q(0.975),
        "n": t.moments.n,
        "not_estimable": t.nan,
    })
}

fn proportion(p: Proportion) -> Value {
    json!({ "probability": num(p.estimate), "se": num(p.se), "ci95": [num(p.lower), num(p.upper)] })
}

fn tests(r: &Results, s: &Summary) -> Value {
    let mut m = Map::new();
    for (i, (name, _)) in r.layout.tests.iter().enumerate() {
        let t = s.tests[i];
        let p = Proportion::new(t.benefit, s.replicates);
        let zi = r.layout.z_of(i).expect("every test has a z");
        let z = &s.estimates[zi];
        let mut v = json!({
            "power": num(p.estimate),
            "power_se": num(p.se),
            "power_ci95": [num(p.lower), num(p.upper)],
            "not_estimable": t.not_estimable,
            "mean_z": num(z.moments.mean()),
            "sd_z": num(z.moments.sd()),
        });
        if r.scenario.analysis.sides == Sides::Two {
            v["reject_harm"] = num(t.harm as f64 / s.replicates as f64);
        }
        if let Some((null, _)) = r.null {
            let e = Proportion::new(
                super::null_rejections(&null.tests[i], r.scenario.analysis.sides),
                null.replicates,
            );
            v["type_i_error"] = num(e.estimate);
            v["type_i_error_se"] = num(e.se);
        }
        m.insert(name.clone(), v);
    }
    Value::Object(m)
}

/// Whether the scenario gives what detection needs: analysis periods or horizons.
pub fn detects_available(r: &Results) -> bool {
    let a = &r.scenario.analysis;
    !a.periods.is_empty() || !a.horizons.is_empty()
}

/// How "detects early harm / late benefit" is decided, in words.
pub fn detects_method(r: &Results) -> String {
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

pub fn render(r: &Results) -> String {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let mut estimates = Map::new();
    for (spec, t) in r.layout.estimates.iter().zip(&s.estimates) {
        estimates.insert(spec.estimate.to_string(), tally(t, spec.truth));
    }
    let mut root = json!({
        "scenario": sc.name,
        "title": sc.title,
        "time_unit": sc.time_unit,
        "seed": r.seed,
        "replicates": reps,
        "engine": ENGINE_VERSION,
        "design": {
            "n": sc.design.n,
            "control": sc.control().map(|a| a.name.clone()),
            "experimental": sc.experimental().map(|a| a.name.clone()),
            "endpoint": sc.primary().name,
            "alpha": sc.analysis.alpha,
            "sides": match sc.analysis.sides { Sides::One => 1, Sides::Two => 2 },
        },
        "truth": serde_json::to_value(r.truth).expect("Truth serialises"),
        "tests": tests(r, s),
        "events": events(r),
        "crossing": crossing(r),
        "shows": shows(r),
        "estimates": estimates,
    });
    let beyond = crate::truth::beyond_follow_up(sc, r.truth.expected_cut);
    if !beyond.is_empty() {
        root["warnings"] = json!(beyond.iter().map(|b| b.to_string()).collect::<Vec<_>>());
    }
    if r.layout.groups < 2 {
        root["note"] = json!("single-arm study: no comparison, so the tests of analysis.tests were not run");
    }
    if let Some(m) = super::monitoring::json(r) {
        root["monitoring"] = m;
    }
    if let Some((_, n)) = r.null {
        // Its results sit beside each test (`type_i_error`) and under `crossing.null_observed`.
        root["null"] = json!({
            "description": "the same design with the experimental arm given the control arm's hazards",
            "replicates": n,
        });
    }
    let mut text = serde_json::to_string_pretty(&root).expect("JSON values serialise");
    text.push('\n');
    text
}

/// Mean events at the cut: in all, by arm, and by arm and cause.
fn events(r: &Results) -> Value {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let group_name = |g: usize| sc.arms[r.layout.group_arms[g]].name.clone();
    let mut by_arm = Map::new();
    let mut by_cause = Map::new();
    for g in 0..r.layout.groups {
        by_arm.insert(group_name(g), num(s.events[g] as f64 / reps as f64));
        let mut causes = Map::new();
        for k in &sc.primary().causes {
            let count = s.events_by_cause[g * r.layout.n_causes + k];
            causes.insert(sc.causes[*k].clone(), num(count as f64 / reps as f64));
        }
        by_cause.insert(group_name(g), Value::Object(causes));
    }
    let events_total = (s.events[0] + s.events[1]) as f64 / reps as f64;
    json!({
        "mean": num(events_total),
        "expected": num(r.truth.expected_events_total),
        "by_arm": by_arm,
        "by_cause": by_cause,
        "target_not_reached": s.target_not_reached,
    })
}

/// The crossing rule, how often it fires (also under identical arms) and when (null for one arm).
fn crossing(r: &Results) -> Value {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    if r.layout.groups == 2 {
        let i = r.layout.index_of(&Estimate::CrossingTime).expect("two-arm layouts have crossing.time");
        let mut c = json!({
            "min_gap": sc.analysis.crossing.min_gap,
            "min_at_risk": sc.analysis.crossing.min_at_risk,
            "observed": proportion(Proportion::new(s.crossings, reps)),
            // The truth of the observed time is the rule applied to the true curves; the times
            // the true curves are equal are kept beside it, as `true_times`.
            "time": tally(&s.estimates[i], r.truth.crossing_by_rule),
            "true_times": r.truth.crossing_times,
            "rule_on_true_curves": r.truth.crossing_by_rule.map_or(Value::Null, num),
        });
        if let Some((null, _)) = r.null {
            c["null_observed"] = proportion(Proportion::new(null.crossings, null.replicates));
        }
        c
    } else {
        Value::Null
    }
}

/// What trials show and detect: early harm, late benefit, the primary test against the crossing
/// (null for one arm).
fn shows(r: &Results) -> Value {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let h = &sc.analysis.horizons;
    if r.layout.groups == 2 {
        let mut v = json!({
            "detects": {
                "method": detects_method(r),
                "available": detects_available(r),
                "neither": proportion(Proportion::new(s.detects[0], reps)),
                "early_harm_only": proportion(Proportion::new(s.detects[1], reps)),
                "late_benefit_only": proportion(Proportion::new(s.detects[2], reps)),
                "both": proportion(Proportion::new(s.detects[3], reps)),
            },
        });
        if !h.is_empty() {
            v["early_harm"] = json!({ "horizon": h[0], "description": "experimental KM below control",
                                      "observed": proportion(Proportion::new(s.early_harm, reps)) });
            v["late_benefit"] = json!({ "horizon": h[h.len() - 1], "description": "experimental KM above control",
                                        "observed": proportion(Proportion::new(s.late_benefit, reps)) });
        }
        if let Some((name, _)) = r.layout.tests.first() {
            let c = &s.primary_by_crossing;
            v["primary_test_by_crossing"] = json!({
                "test": name,
                "no_rejection_no_crossing": num(c[0] as f64 / reps as f64),
                "rejection_no_crossing": num(c[1] as f64 / reps as f64),
                "crossing_no_rejection": num(c[2] as f64 / reps as f64),
                "rejection_and_crossing": num(c[3] as f64 / reps as f64),
            });
        }
        v
    } else {
        Value::Null
    }
}
