//! Interim monitoring (`[monitoring]`) on simulated trials: a design without interim bounds is
//! the fixed design trial for trial; type I error under identical arms; the safety rule's
//! stopping probabilities against the exact first-passage binomial computation; bad tables.

use std::path::Path;

use assert_cmd::Command;
use trialsim::engine::{Layout, Run, simulate};
use trialsim::scenario::Scenario;
use trialsim::summary::{Proportion, Summary, TestMonitoring};
use trialsim::truth::Truth;

fn with_monitoring(base: &str, edits: &[(&str, &str)], monitoring: &str) -> Scenario {
    let mut text = std::fs::read_to_string(Path::new("scenarios").join(base)).expect("shipped scenario");
    for (from, to) in edits {
        assert!(text.contains(from), "{from:?} is in {base}");
        text = text.replacen(from, to, 1);
    }
    text.push_str(monitoring);
    Scenario::from_toml(&text, Path::new("monitored.toml")).expect("valid monitored scenario")
}

pub(crate) fn run(sc: &Scenario, reps: u64, seed: u64) -> Summary {
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    simulate(&Run { scenario: sc, layout: &layout, replicates: reps, seed, progress: None }, None)
}

pub(crate) fn first(s: &Summary) -> &TestMonitoring {
    &s.monitoring.as_ref().expect("monitored").tests[0]
}

/// With no interim bounds and no other rule, the monitored design decides exactly as the fixed
/// design on every trial: same rejections, nothing lost or gained (the final bound is z₁₋α).
#[test]
fn no_interim_bounds_is_the_fixed_design() {
    let sc = with_monitoring(
        "ph.toml",
        &[],
        "\n[monitoring]\nlooks = [{ fraction = 0.4 }, { calendar = 2.5 }]\n[monitoring.efficacy]\nspending = \"none\"\n",
    );
    let s = run(&sc, 3000, 7);
    let t = first(&s);
    assert!(t.fixed_rejects > 1000, "the test has power here: {}", t.fixed_rejects);
    assert_eq!(t.rejected, t.fixed_rejects);
    assert_eq!((t.gained, t.final_bound_cost, t.lost), (0, 0, [0; 3]));
    assert_eq!(t.looks.iter().map(|l| l.efficacy).sum::<u64>(), t.rejected, "all at the final look");
    assert_eq!(t.looks[2].efficacy, t.rejected);
}

/// Identical arms, event-driven looks (bounds cached): O'Brien–Fleming efficacy alone keeps the
/// type I error at α (within 4 MC SE both ways); with non-binding β-spending futility and a harm
/// bound it is at most α + 4 SE. FH(0, 1) monitored on its own null variance, at most α + 4 SE.
#[test]
fn type_i_error_under_identical_arms() {
    let event_driven = [("calendar = 6", "events = 120")];
    let efficacy_only = with_monitoring(
        "null.toml",
        &event_driven,
        "\n[monitoring]\nlooks = [{ events = 40 }, { events = 80 }]\n",
    );
    let reps = 40_000;
    let s = run(&efficacy_only, reps, 11);
    let p = Proportion::new(first(&s).rejected, reps);
    assert!((p.estimate - 0.025).abs() < 4.0 * p.se, "efficacy only: {} ± {}", p.estimate, p.se);

    let with_futility = with_monitoring(
        "null.toml",
        &event_driven,
        "\n[monitoring]\nlooks = [{ events = 40 }, { events = 80 }]\n[monitoring.futility]\nspending = { hsd = -2 }\n[monitoring.harm]\nz = [2.5, 2.5]\n",
    );
    let s = run(&with_futility, reps, 11);
    let t = first(&s);
    let p = Proportion::new(t.rejected, reps);
    assert!(p.estimate < 0.025 + 4.0 * p.se, "with futility: {} ± {}", p.estimate, p.se);
    assert!(t.looks[0].futility > 0 && t.looks[0].harm > 0, "futility and harm stops happen");

    let fh = with_monitoring(
        "null.toml",
        &event_driven,
        "\n[monitoring]\ntests = [\"fh(0,1)\"]\nlooks = [{ fraction = 0.35 }, { fraction = 0.7 }]\n",
    );
    let reps = 8_000;
    let s = run(&fh, reps, 12);
    let p = Proportion::new(first(&s).rejected, reps);
    assert!(p.estimate < 0.025 + 4.0 * p.se, "FH(0,1): {} ± {}", p.estimate, p.se);
}

/// Calendar looks with α spent on calendar time (Lan & DeMets 1989), each trial's bounds at its
/// own information fractions and calendar times: the type I error is α within 4 MC SE.
#[test]
fn calendar_spending_keeps_alpha() {
    let sc = with_monitoring(
        "null.toml",
        &[],
        "\n[monitoring]\nlooks = [{ calendar = 2 }, { calendar = 4 }]\nspending_time = \"calendar\"\n[monitoring.efficacy]\nspending = \"pocock\"\n",
    );
    let reps = 20_000;
    let s = run(&sc, reps, 13);
    let t = first(&s);
    let p = Proportion::new(t.rejected, reps);
    assert!((p.estimate - 0.025).abs() < 4.0 * p.se, "calendar spending: {} ± {}", p.estimate, p.se);
    // Pocock spends α ln(1 + (e − 1)s) by calendar time s = 2/6: at the first look, about a
    // third of α, within 4 SE.
    let s1 = 0.025 * (1.0 + (std::f64::consts::E - 1.0) / 3.0).ln();
    let first_look = Proportion::new(t.looks[0].efficacy, reps);
    assert!(
        (first_look.estimate - s1).abs() < 4.0 * (s1 * (1.0 - s1) / reps as f64).sqrt(),
        "{} vs {s1}",
        first_look.estimate
    );
}

/// P(the rule stops at review k) for i.i.d. events with probability `p`, reviews after `after`
/// patients, stopping at `stop` events: the first passage of the binomial count, by dynamic
/// programming over the count distribution of the trials still running.
fn first_passage(p: f64, after: &[usize], stop: &[usize]) -> Vec<f64> {
    let mut running = vec![1.0]; // P(count = x, not stopped)
    let mut seen = 0;
    let mut out = Vec::new();
    for (&m, &s) in after.iter().zip(stop) {
        for _ in seen..m {
            let mut next = vec![0.0; running.len() + 1];
            for (x, &q) in running.iter().enumerate() {
                next[x] += q * (1.0 - p);
                next[x + 1] += q * p;
            }
            running = next;
        }
        seen = m;
        out.push(running.iter().skip(s).sum());
        running.truncate(s);
    }
    out
}

/// A cause with a known risk (early_risk 0.15 within 0.25, no competing cause, no dropout):
/// each review's stopping probability is the exact first-passage binomial one, within 4 MC SE,
/// at slow and at fast accrual.
#[test]
fn safety_rule_stops_as_the_binomial_first_passage() {
    let exact = first_passage(0.15, &[10, 20, 30], &[4, 6, 8]);
    for duration in ["0.5", "20"] {
        let text = format!(
            r#"name = "safety"
[design]
n = 80
control = "control"
allocation = {{ control = 1, experimental = 1 }}
accrual = {{ duration = {duration} }}
[design.cut]
calendar = 60
[arms.control.causes]
death = {{ exponential = 0.1 }}
[arms.experimental.causes]
toxicity = {{ early_risk = {{ risk = 0.15, within = 0.25 }} }}
death = {{ relative = {{ to = "control", hr = 0.7 }} }}
[endpoints]
os = ["toxicity", "death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
[monitoring]
looks = [{{ fraction = 0.5 }}]
[monitoring.efficacy]
spending = "none"
[monitoring.safety]
cause = "toxicity"
arm = "experimental"
window = 0.25
after = [10, 20, 30]
stop_if_at_least = [4, 6, 8]
"#
        );
        let sc = Scenario::from_toml(&text, Path::new("safety.toml")).expect("valid");
        let reps = 20_000;
        let s = run(&sc, reps, 3);
        let safety = s.monitoring.as_ref().unwrap().safety.as_ref().unwrap();
        for (k, &p) in exact.iter().enumerate() {
            let hat = Proportion::new(safety.stops[k], reps);
            let se = (p * (1.0 - p) / reps as f64).sqrt();
            assert!(
                (hat.estimate - p).abs() < 4.0 * se,
                "accrual {duration}, review {k}: {} vs {p}",
                hat.estimate
            );
        }
    }
}

/// Bad `[monitoring]` tables are located errors naming the key (exit 2, nothing written).
#[test]
fn bad_monitoring_tables_are_located_errors() {
    let base = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap();
    let cases: [(&str, &str); 11] = [
        ("looks = [{ fraction = 0.6 }, { fraction = 0.3 }]\n", "monitoring.looks[1]"),
        ("looks = [{ calendar = 13 }]\n", "monitoring.looks[0]"),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.efficacy]\nspending = { z = [1.5] }\n",
            "monitoring.efficacy.spending.z[0]",
        ),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.efficacy]\nspending = { z = [3, 3] }\n",
            "monitoring.efficacy.spending.z",
        ),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.efficacy]\nspending = \"lan_demets\"\n",
            "monitoring.efficacy.spending",
        ),
        ("tests = [\"rmst\"]\nlooks = [{ fraction = 0.5 }]\n", "monitoring.tests[0]"),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.safety]\ncause = \"tox\"\narm = \"hsct\"\nwindow = 0.25\nafter = [20]\nstop_if_at_least = [5]\n",
            "monitoring.safety.cause",
        ),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.safety]\ncause = \"treatment_death\"\narm = \"placebo\"\nwindow = 0.25\nafter = [20]\nstop_if_at_least = [5]\n",
            "monitoring.safety.arm",
        ),
        (
            "looks = [{ fraction = 0.5 }]\n[monitoring.safety]\ncause = \"treatment_death\"\narm = \"hsct\"\nwindow = 0.25\nafter = [20, 90]\nstop_if_at_least = [5, 9]\n",
            "monitoring.safety.after[1]",
        ),
        ("looks = [{ fraction = 0.5 }]\n[monitoring.harm]\nz = [2, 2]\n", "monitoring.harm.z"),
        ("looks = [{ fraction = 0.5 }]\nspending_time = \"wall_clock\"\n", "monitoring.spending_time"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (table, key) in cases {
        let text = format!("{base}\n[monitoring]\n{table}");
        let err = Scenario::from_toml(&text, Path::new("bad.toml")).expect_err(table);
        let msg = err.to_string();
        assert!(msg.contains(key) && msg.contains("bad.toml:"), "{table}: {msg}");
    }
    // A stratified test cannot be monitored, and the message says so by name.
    let stratified = base.replace(
        "tests = [\"logrank\", \"maxcombo\"",
        "tests = [\"logrank[strata]\", \"logrank\", \"maxcombo\"",
    ) + "\n[strata.a]\nshare = 0.5\n[strata.b]\nshare = 0.5\n";
    for monitored in ["", "tests = [\"logrank[strata]\"]\n"] {
        let text = format!("{stratified}\n[monitoring]\n{monitored}looks = [{{ fraction = 0.5 }}]\n");
        let msg = Scenario::from_toml(&text, Path::new("bad.toml")).expect_err(monitored).to_string();
        assert!(msg.contains("monitoring.tests") && msg.contains("stratified"), "{monitored}: {msg}");
    }
    // Two-sided tests cannot be monitored: from the command line, exit 2 and nothing written.
    let path = dir.path().join("two_sided.toml");
    std::fs::write(
        &path,
        format!("{}\n[monitoring]\nlooks = [{{ fraction = 0.5 }}]\n", base.replace("sides = 1", "sides = 2")),
    )
    .unwrap();
    let out = dir.path().join("out");
    let a = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", path.to_str().unwrap(), "--reps", "10", "--out", out.to_str().unwrap()])
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("analysis.sides = 1") && err.contains("two_sided.toml:"), "{err}");
    assert!(!out.exists(), "nothing written");
}

/// Hostile `[monitoring]` tables (issue 21): looks too close to each other or to the end, more
/// looks or reviews than the caps, futility at or above efficacy, HR futility for a weighted
/// test, events looks too close to an event-driven final analysis. Each is refused by `check`
/// with exit 2 and the key; each once aborted, ran for hours or was clamped in silence.
#[test]
fn hostile_monitoring_tables_are_refused() {
    let base = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap();
    let events = base
        .replace("calendar = 12.6", "events = 150")
        .replace("\"cox_periods\"]", "\"cox_periods\", \"fh(0,1)\"]");
    let eleven: Vec<String> = (1..=11).map(|k| format!("{{ fraction = {} }}", k as f64 / 12.0)).collect();
    let reviews: Vec<String> = (1..=101).map(|k| k.to_string()).collect();
    let counts: Vec<String> = (1..=101).map(|_| "1".to_string()).collect();
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (&base, "looks = [{ fraction = 0.9999999999999999 }]\n".into(), "monitoring.looks[0].fraction", "[0.01, 0.99]"),
        (&base, "looks = [{ fraction = 0.5 }, { fraction = 0.5000000001 }]\n".into(), "monitoring.looks[1]", "at least 0.01"),
        (&base, format!("looks = [{}]\n", eleven.join(", ")), "monitoring.looks", "at most 10"),
        (
            &base,
            format!(
                "looks = [{{ fraction = 0.5 }}]\n[monitoring.safety]\ncause = \"treatment_death\"\narm = \"hsct\"\nwindow = 0.25\nafter = [{}]\nstop_if_at_least = [{}]\n",
                reviews.join(", "),
                counts.join(", ")
            ),
            "monitoring.safety.after",
            "at most 100",
        ),
        (
            &base,
            "looks = [{ fraction = 0.3 }, { fraction = 0.6 }]\n[monitoring.futility]\nspending = { z = [1, 6] }\n".into(),
            "monitoring.futility.spending.z[1]",
            "not below look 2's efficacy bound",
        ),
        (
            &events,
            "tests = [\"fh(0,1)\"]\nlooks = [{ events = 75 }]\n[monitoring.futility]\nspending = { hr = [1.0] }\n".into(),
            "monitoring.futility.spending.hr",
            "log-rank and Cox",
        ),
        (&events, "looks = [{ events = 149 }]\n".into(), "monitoring.looks[0]", "too close to the final analysis"),
        (
            &events,
            "looks = [{ events = 60 }, { events = 61 }]\n".into(),
            "monitoring.looks[1]",
            "too close to monitoring.looks[0]",
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (base, table, key, expect)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("hostile{i}.toml"));
        std::fs::write(&path, format!("{base}\n[monitoring]\n{table}")).unwrap();
        let a =
            Command::cargo_bin("trialsim").unwrap().args(["check", path.to_str().unwrap()]).assert().code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        let file = format!("hostile{i}.toml:");
        assert!(err.contains(key) && err.contains(expect) && err.contains(&file), "{table}: {err}");
    }
}

/// A monitored FH test whose final event target the model never reaches (dropout caps the
/// events below it): the maximum information is what the model reaches, not NaN, so every
/// planned bound is a number and the final one spends what is left of α; monitored power stays
/// near the fixed design's (it was 7.6% against 99.4%, from an interim bound that spent all of α)
/// (issue 21, cause 8).
#[test]
fn an_unreachable_event_target_leaves_no_nan_bound() {
    let sc = with_monitoring(
        "hsct_ssc.toml",
        &[
            ("calendar = 12.6", "events = 150"),
            ("dropout = 0.018", "dropout = 0.3"),
            ("dropout = 0.018", "dropout = 0.3"),
            ("\"cox_periods\"]", "\"cox_periods\", \"fh(0,1)\"]"),
        ],
        "\n[monitoring]\ntests = [\"fh(0,1)\"]\nlooks = [{ fraction = 0.5 }]\n",
    );
    assert!(trialsim::truth::expected_cut(&sc).is_none(), "the target is out of the model's reach");
    let monitor = trialsim::monitoring::Monitor::new(&sc).unwrap();
    let mt = &monitor.tests[0];
    assert!(mt.i_max.is_finite() && mt.i_max > 0.0, "I_max = {}", mt.i_max);
    assert!(mt.planned.efficacy.iter().all(|e| e.is_finite()), "{:?}", mt.planned);
    assert!((mt.planned.alpha_spent[1] - 0.025).abs() < 1e-9, "{:?}", mt.planned);
    let s = run(&sc, 2000, 5);
    let t = first(&s);
    let (monitored, fixed) = (t.rejected as f64 / 2000.0, t.fixed_rejects as f64 / 2000.0);
    // O'Brien–Fleming at half the information costs little power: far less than 10 points.
    assert!(monitored > fixed - 0.1, "monitored {monitored} vs fixed {fixed}");
}

/// With crossing hazards, the model's own drift (`alternative = "truth"`) is negative at the
/// first look (early transplant deaths) and grows: β-spending futility under it stops far fewer
/// trials at the first look than under rpact's constant design drift, which reads the early
/// deficit as futility.
#[test]
fn the_models_drift_follows_the_crossing() {
    let monitoring = |alternative: &str| {
        format!(
            "\n[monitoring]\nlooks = [{{ fraction = 0.33 }}, {{ fraction = 0.67 }}]\n[monitoring.futility]\nspending = {{ hsd = -2 }}\nalternative = \"{alternative}\"\n"
        )
    };
    let truth = with_monitoring("hsct_ssc.toml", &[], &monitoring("truth"));
    let design = with_monitoring("hsct_ssc.toml", &[], &monitoring("design"));
    let layout = Layout::new(&truth, &Truth::compute(&truth));
    let thetas = layout.monitor.as_ref().unwrap().tests[0].plan.thetas.clone().expect("per-look drifts");
    assert!(thetas[0] < 0.0 && thetas[0] < thetas[1] && thetas[1] < thetas[2], "{thetas:?}");
    let reps = 2000;
    let (a, b) = (run(&truth, reps, 5), run(&design, reps, 5));
    let (fa, fb) = (first(&a).looks[0].futility, first(&b).looks[0].futility);
    assert!(3 * fa < fb, "futility stops at look 1: truth {fa}, design {fb}");
}

/// Under proportional hazards with event-driven looks, trialsim's stopping probabilities per
/// look agree with rpact's `getSimulationSurvival` (the same design and trial, 10⁵ iterations,
/// `tests/fixtures/gs_simulation.json` from `Rscript tests/reference/make_gs_simulation.R`)
/// within 4·√(SE₁² + SE₂²), at HR 0.7 and under the null. rpact's analytic `getPowerSurvival`
/// (Schoenfeld's approximation) is printed beside them, not tested: an approximation, 2.8 SE
/// from rpact's own simulation for rejection at the first look here.
#[test]
fn stopping_probabilities_agree_with_rpacts_simulation() {
    let text = std::fs::read_to_string("tests/fixtures/gs_simulation.json").expect("fixture");
    let fixture: serde_json::Value = serde_json::from_str(&text).expect("fixture parses");
    for case in fixture["cases"].as_array().expect("cases") {
        let hr = case["hazard_ratio"].as_f64().unwrap();
        let iterations = case["iterations"].as_f64().unwrap();
        let scenario = format!(
            r#"name = "gs"
[design]
n = 400
control = "control"
allocation = {{ control = 1, experimental = 1 }}
accrual = {{ duration = 2 }}
[design.cut]
events = 300
[arms.control.causes]
death = {{ exponential = 0.5 }}
[arms.experimental.causes]
death = {{ relative = {{ to = "control", hr = {hr} }} }}
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
[monitoring]
looks = [{{ events = 100 }}, {{ events = 200 }}]
[monitoring.futility]
spending = {{ hsd = -2 }}
beta = 0.2
"#
        );
        let sc = Scenario::from_toml(&scenario, Path::new("gs.toml")).expect("valid");
        let layout = Layout::new(&sc, &Truth::compute(&sc));
        let planned = &layout.monitor.as_ref().unwrap().tests[0].planned;
        for (ours, theirs) in planned.efficacy.iter().zip(fixture["critical_values"].as_array().unwrap()) {
            assert!((ours - theirs.as_f64().unwrap()).abs() < 1e-6, "bounds as rpact's");
        }
        let reps = 100_000;
        let s = run(&sc, reps, 2026);
        let t = first(&s);
        let compare = |ours: u64, theirs: f64, what: &str| {
            let p = ours as f64 / reps as f64;
            let se = (p * (1.0 - p) / reps as f64 + theirs * (1.0 - theirs) / iterations).sqrt();
            eprintln!("HR {hr} {what}: trialsim {p:.5}, rpact {theirs:.5} ({:.1} SE)", (p - theirs) / se);
            assert!((p - theirs).abs() <= 4.0 * se, "HR {hr} {what}: {p} vs rpact {theirs} (SE {se})");
        };
        let reject = case["reject_per_stage"].as_array().unwrap();
        let futility = case["futility_per_stage"].as_array().unwrap();
        for (k, (look, theirs)) in t.looks.iter().zip(reject).enumerate() {
            compare(look.efficacy, theirs.as_f64().unwrap(), &format!("reject at look {}", k + 1));
        }
        for (k, (look, theirs)) in t.looks.iter().zip(futility).enumerate() {
            compare(look.futility, theirs.as_f64().unwrap(), &format!("futility at look {}", k + 1));
        }
        eprintln!(
            "HR {hr} rpact analytic (Schoenfeld): reject {}, futility {}",
            case["analytic_reject_per_stage"], case["analytic_futility_per_stage"]
        );
    }
}

/// replicates.csv of a monitored run has each monitored test's z per look, the look it ended at
/// and why; they agree with the summary's counts.
#[test]
fn exported_replicates_carry_the_looks() {
    let sc = with_monitoring(
        "null.toml",
        &[("calendar = 6", "events = 120")],
        "\n[monitoring]\nlooks = [{ events = 40 }, { events = 80 }]\n[monitoring.futility]\nspending = { hsd = -2 }\n",
    );
    let truth = Truth::compute(&sc);
    let layout = Layout::new(&sc, &truth);
    let names: Vec<String> = layout.columns.iter().map(|c| c.to_string()).collect();
    let col = |n: &str| names.iter().position(|x| x == n).unwrap_or_else(|| panic!("{n} in {names:?}"));
    let (z1, look, reason) = (
        col("monitoring.logrank.z[0]"),
        col("monitoring.logrank.stop_look"),
        col("monitoring.logrank.stop_reason"),
    );
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let run = Run { scenario: &sc, layout: &layout, replicates: 2000, seed: 4, progress: None };
    let s: Summary = simulate(&run, Some(&mut |_, c: &[f64]| rows.push(c.to_vec())));
    let t = first(&s);
    let count = |code: f64| rows.iter().filter(|r| r[reason] == code).count() as u64;
    assert_eq!(count(1.0), t.rejected);
    assert_eq!(count(2.0), t.looks.iter().map(|l| l.futility).sum::<u64>());
    assert_eq!(
        rows.iter().filter(|r| r[look] == 1.0).count() as u64,
        t.looks[0].efficacy + t.looks[0].futility
    );
    assert!(rows.iter().all(|r| r[z1].is_finite()), "every trial takes the first look");
}

/// `plan --test monitoring.<test>` plans for the monitored design's power: the power it reports
/// at its answer is exactly the monitored power of a run at that size (same seed, same trials).
#[test]
fn plan_targets_the_monitored_power() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string("scenarios/ph.toml").unwrap();
    text.push_str(
        "\n[monitoring]\nlooks = [{ fraction = 0.5 }]\n[monitoring.futility]\nspending = { hsd = -2 }\n",
    );
    let path = dir.path().join("ph_monitored.toml");
    std::fs::write(&path, &text).unwrap();
    let out = dir.path().join("plan");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["plan", path.to_str().unwrap(), "--vary", "design.n", "--target", "0.8"])
        .args([
            "--test",
            "monitoring.logrank",
            "--test",
            "logrank",
            "--reps",
            "1000",
            "--seed",
            "9",
            "--quiet",
        ])
        .args(["--range", "100:2000", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let answer = &plan["tests"][0];
    assert_eq!(answer["test"], "monitoring.logrank");
    let n = answer["value"].as_f64().expect("an answer");
    let sc =
        Scenario::from_toml(&text.replacen("n = 500", &format!("n = {n}"), 1), Path::new("x.toml")).unwrap();
    let s = run(&sc, 1000, 9);
    assert_eq!(answer["power"].as_f64().unwrap(), first(&s).rejected as f64 / 1000.0);
    // Unknown monitored tests are refused.
    Command::cargo_bin("trialsim")
        .unwrap()
        .args([
            "plan",
            path.to_str().unwrap(),
            "--vary",
            "design.n",
            "--target",
            "0.8",
            "--test",
            "monitoring.cox",
        ])
        .assert()
        .code(2);
}

/// A sweep over a monitoring key (the safety rule's first threshold) reports the monitored
/// metrics, and each point's are exactly those of a run of that scenario (same seed and trials).
#[test]
fn sweeps_vary_the_monitoring() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sweep");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["sweep", "scenarios/hsct_monitoring.toml", "--reps", "300", "--seed", "3", "--quiet"])
        .args(["--set", "monitoring.safety.stop_if_at_least[0]=3,6", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let value = |point: &str, metric: &str| -> f64 {
        let line = csv
            .lines()
            .find(|l| l.starts_with(&format!("{point},")) && l.contains(&format!(",{metric},")))
            .unwrap_or_else(|| panic!("{metric} at point {point}"));
        line.split(',').nth(3).unwrap().parse().unwrap()
    };
    let text = std::fs::read_to_string("scenarios/hsct_monitoring.toml").unwrap();
    let edited = text.replacen("stop_if_at_least = [5, 8, 10]", "stop_if_at_least = [3, 8, 10]", 1);
    assert_ne!(edited, text);
    let sc = Scenario::from_toml(&edited, Path::new("x.toml")).unwrap();
    let s = run(&sc, 300, 3);
    let tally = s.monitoring.as_ref().unwrap();
    assert_eq!(value("0", "monitoring.logrank.power"), first(&s).rejected as f64 / 300.0);
    let stops: u64 = tally.safety.as_ref().unwrap().stops.iter().sum();
    assert_eq!(value("0", "monitoring.safety.p_stop"), stops as f64 / 300.0);
    assert!(value("0", "monitoring.safety.p_stop") >= value("1", "monitoring.safety.p_stop"));
}

/// Fixed futility bounds: `{ hr = [1.0] }` stops when the observed hazard ratio is at least 1
/// (b ≤ 0), `{ z = [0.0] }` when b ≤ 0 too: under identical arms each stops about half the
/// trials at the look (P(Z ≤ 0) = ½, within 4 MC SE), and the two agree trial for trial.
#[test]
fn fixed_and_hazard_ratio_futility_bounds() {
    let reps = 4000;
    let stops = |bound: &str| {
        let sc = with_monitoring(
            "null.toml",
            &[("calendar = 6", "events = 120")],
            &format!(
                "\n[monitoring]\nlooks = [{{ events = 60 }}]\n[monitoring.futility]\nspending = {{ {bound} }}\n"
            ),
        );
        first(&run(&sc, reps, 21)).looks[0].futility
    };
    let (hr, z) = (stops("hr = [1.0]"), stops("z = [0.0]"));
    assert_eq!(hr, z, "HR ≥ 1 is b ≤ 0");
    let p = hr as f64 / reps as f64;
    assert!((p - 0.5).abs() < 4.0 * (0.25 / reps as f64).sqrt(), "{p}");
    // An HR bound of 1.2 at 60 events is b ≤ −ln(1.2)·√15 = −0.706: P(Z ≤ −0.706) ≈ 0.24.
    let p = stops("hr = [1.2]") as f64 / reps as f64;
    let expected = trialsim::stats::normal::cdf(-(1.2f64).ln() * 15f64.sqrt());
    assert!(
        (p - expected).abs() < 4.0 * (expected * (1.0 - expected) / reps as f64).sqrt(),
        "{p} vs {expected}"
    );
}

/// summary.json's `monitoring` keys (scripts rely on them): `looks` and `planned` list every
/// analysis in order, the interims and then the final one (which has no futility bound).
#[test]
fn summary_json_lists_every_analysis() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args([
            "run",
            "scenarios/hsct_monitoring.toml",
            "--reps",
            "200",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let m = &v["monitoring"];
    let looks = m["looks"].as_array().unwrap();
    assert_eq!(looks.len(), 3);
    for key in [
        "time_mean",
        "events_mean",
        "info_fraction",
        "efficacy_z",
        "futility_z",
        "harm_z",
        "p_efficacy",
        "p_efficacy_se",
        "p_futility",
        "p_futility_se",
        "p_harm",
        "p_harm_se",
        "cumulative_efficacy",
        "cumulative_efficacy_se",
    ] {
        assert!(looks.iter().all(|l| l.get(key).is_some()), "looks[k].{key}");
    }
    for key in ["info_fraction", "efficacy_z", "futility_z"] {
        assert_eq!(m["planned"][key].as_array().unwrap().len(), 3, "planned.{key}");
    }
    assert!(m["planned"]["futility_z"][2].is_null() && m["planned"]["futility_z"][0].is_number());
    for key in [
        "power",
        "power_se",
        "expected_events",
        "expected_duration",
        "expected_n",
        "gained",
        "final_bound_cost",
        "type_i_error",
    ] {
        assert!(m[key].is_number(), "monitoring.{key}");
    }
    for key in ["futility", "harm", "safety"] {
        assert!(m["lost"][key].is_number(), "monitoring.lost.{key}");
    }
    let safety = m["safety"].as_array().unwrap();
    assert_eq!(safety.len(), 3);
    for key in ["patients", "time_mean", "p_stop", "p_stop_se"] {
        assert!(safety.iter().all(|s| s.get(key).is_some()), "safety[k].{key}");
    }
    assert!(m["by_test"]["fh(0,1)"]["power"].is_number());
}

/// Skipped looks are shown where a planner reads: summary.md's looks table has a `skipped` share
/// per interim look and test, equal to summary.json's `skipped` count over the replicates, and a
/// sentence names the skipped looks (the monitored FH(0,1) of hsct_monitoring.toml skips its
/// two-thirds look in several percent of trials).
#[test]
fn skipped_looks_are_shown_per_look_and_test() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", "scenarios/hsct_monitoring.toml", "--reps", "1000", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let fh = &v["monitoring"]["by_test"]["fh(0,1)"];
    let skipped = fh["looks"][1]["skipped"].as_f64().unwrap();
    assert!(skipped > 0.0, "the FH(0,1) look 2 is skipped in some trials");
    let share = 100.0 * skipped / 1000.0;
    let cell = if share < 1.0 { format!("{share:.2}%") } else { format!("{share:.1}%") };
    let section = md.split("**fh(0,1)**").nth(1).expect("the FH(0,1) section");
    let row = section.lines().find(|l| l.starts_with("| 2 |")).expect("look 2's row");
    assert!(row.ends_with(&format!("| {cell} |")), "{row}");
    assert!(section.contains(&format!("look 2 in {cell} of trials")), "{section}");
    assert!(md.contains("| harm | skipped |"), "the column header");
}
