//! Issue 25's long-term benefit: the truth against simulation (Kaplan–Meier RMST to 10 years with
//! complete follow-up), the Weibull extrapolation where the Weibull is the true model, and bad
//! `[analysis.long_term]` tables refused by the binary with one located message, nothing written.

use std::path::Path;

use assert_cmd::Command;
use trialsim::engine::{Layout, Run, simulate};
use trialsim::scenario::Scenario;
use trialsim::summary::{Summary, Tally};
use trialsim::truth::Truth;

fn simulated(sc: &Scenario, reps: u64, seed: u64) -> (Summary, Layout, Truth) {
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    let run = Run { scenario: sc, layout: &layout, replicates: reps, seed, progress: None };
    (simulate(&run, None), layout, truth)
}

fn estimate<'a>(layout: &Layout, s: &'a Summary, name: &str) -> (&'a Tally, Option<f64>) {
    let i = layout.estimates.iter().position(|e| e.estimate.to_string() == name).expect("estimate in layout");
    (&s.estimates[i], layout.estimates[i].truth)
}

/// |mean − truth| within `k` Monte Carlo SE (or `floor`, whichever is larger).
#[track_caller]
fn within(name: &str, t: &Tally, truth: f64, k: f64, floor: f64) {
    let mcse = t.moments.sd() / (t.moments.n as f64).sqrt();
    let err = (t.moments.mean() - truth).abs();
    assert!(
        err < (k * mcse).max(floor),
        "{name}: mean {} vs truth {truth} ({k} SE = {}, floor {floor})",
        t.moments.mean(),
        k * mcse
    );
}

/// The calibrated model with complete follow-up to 10 years (accrual in half a year, the cut at
/// 10.5, no loss to follow-up): the Kaplan–Meier RMST difference to τ = 10 estimates the true
/// long-term gain at 10 years, which `truth.long_term` reports.
#[test]
fn kaplan_meier_rmst_to_ten_years_estimates_the_true_gain() {
    let text = std::fs::read_to_string("scenarios/hsct_ssc.toml")
        .unwrap()
        .replace("accrual = { duration = 8.6 }", "accrual = { duration = 0.5 }")
        .replace("calendar = 12.6", "calendar = 10.5")
        .replace("dropout = 0.018", "dropout = 0")
        .replace("tau = 5", "tau = 10");
    let sc = Scenario::from_toml(&text, Path::new("complete.toml")).expect("valid");
    let (s, layout, truth) = simulated(&sc, 2000, 25);
    let lt = truth.long_term.as_ref().expect("two arms");
    let efs = lt.primary().expect("efs");
    let at_10 = lt.times.iter().position(|&t| t == 10.0).expect("10 years tabulated");
    assert!((truth.rmst.as_ref().unwrap().difference - efs.gain[at_10]).abs() < 1e-9);
    let (t, tv) = estimate(&layout, &s, "rmst.diff");
    assert_eq!(tv, Some(truth.rmst.as_ref().unwrap().difference));
    within("rmst.diff to 10 years", t, efs.gain[at_10], 4.0, 0.0);
    // Both arms too, each against its own true RMST.
    for (arm, curve) in ["cyc", "hsct"].iter().zip(&efs.rmst) {
        let (t, _) = estimate(&layout, &s, &format!("rmst.{arm}"));
        within(&format!("rmst.{arm}"), t, curve.values[at_10], 4.0, 0.0);
    }
}

/// Weibull arms (shapes 1.3 and 0.8, n = 1,000 per arm, 5 years of follow-up): the Weibull fit
/// per arm is the true model, so its extrapolated RMST difference at 10 and 15 years is unbiased
/// to within max(4 MC SE, 1% of the truth), and its delta-method interval covers at about 95%.
#[test]
fn the_weibull_extrapolation_is_unbiased_when_the_weibull_is_true() {
    let text = r#"name = "weibull_true"
[design]
n = 2000
control = "control"
allocation = { control = 1, experimental = 1 }
block_size = 4
accrual = { duration = 1 }
[design.cut]
calendar = 6
[arms.control.causes]
death = { weibull = { shape = 1.3, scale = 6 } }
[arms.experimental.causes]
death = { weibull = { shape = 0.8, scale = 9 } }
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
[analysis.long_term]
horizon = 20
[analysis.long_term.extrapolation]
methods = ["weibull"]
at = [10, 15]
"#;
    let sc = Scenario::from_toml(text, Path::new("weibull_true.toml")).expect("valid");
    let reps = 400;
    let (s, layout, _) = simulated(&sc, reps, 2026);
    for at in ["10", "15"] {
        let name = format!("extrapolation.weibull.{at}");
        let (t, truth) = estimate(&layout, &s, &name);
        let truth = truth.expect("a true ΔRMST");
        assert_eq!(t.nan, 0, "{name}: every fit converges with 1,000 per arm");
        within(&name, t, truth, 4.0, 0.01 * truth.abs());
        let (c, _) = estimate(&layout, &s, &format!("{name}.ci95_covers"));
        let se = (0.95 * 0.05 / reps as f64).sqrt();
        assert!((c.moments.mean() - 0.95).abs() < 4.0 * se, "{name}: coverage {}", c.moments.mean());
    }
}

#[test]
fn bad_long_term_tables_give_one_located_message() {
    let base = std::fs::read_to_string("scenarios/ph.toml").unwrap();
    let lines = base.lines().count();
    let cases: &[(&str, &str, usize, &[&str])] = &[
        (
            "horizon 0",
            "[analysis.long_term]\nhorizon = 0",
            2,
            &["`analysis.long_term.horizon`", "(0, 100] years"],
        ),
        (
            "horizon 150",
            "[analysis.long_term]\nhorizon = 150",
            2,
            &["`analysis.long_term.horizon`", "found 150"],
        ),
        (
            "a method without its settings",
            "[analysis.long_term.extrapolation]\nmethods = [\"weibull\", \"piecewise_exponential\"]",
            2,
            &["`analysis.long_term.extrapolation.methods`", "needs its cut points"],
        ),
        (
            "an unknown method",
            "[analysis.long_term.extrapolation]\nmethods = [\"gompertz\"]",
            2,
            &["unknown extrapolation method \"gompertz\""],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, table, offset, expect)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("lt{i}.toml"));
        std::fs::write(&path, format!("{base}{table}\n")).unwrap();
        let out = dir.path().join(format!("out{i}"));
        crate::bad_input::check(&path, &out, Some(lines + offset), expect, name);
    }
}

/// `run --draws`: the long-term truth's spread over the draws in summary.json and summary.md; a
/// draws file whose columns are not keys of the scenario exits 2 naming the column, with nothing
/// written.
#[test]
fn draws_give_the_spread_and_bad_columns_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let draws = dir.path().join("draws.csv");
    std::fs::write(
        &draws,
        "draw,arms.hsct.causes.disease_death.relative.hr[1],arms.hsct.causes.organ_failure.relative.hr[1]\n0,0.2,0.2\n1,0.3445,0.3445\n2,0.6,0.6\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", "scenarios/hsct_ssc.toml", "--reps", "200", "--draws", draws.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let u = &json["long_term_uncertainty"];
    assert_eq!(u["draws"], 3);
    assert_eq!(u["source"], "draws.csv");
    let efs = &u["endpoints"][0];
    let truth = &json["truth"]["long_term"]["endpoints"][0];
    // The middle draw is the scenario itself: the median is its truth.
    assert_eq!(efs["gain"][1]["median"], truth["gain"][1]);
    assert_eq!(efs["break_even"]["median"], truth["break_even"]);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("How sure the data behind the parameter draws let us be"), "{md}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("--draws draws.csv"), "the command that reproduces the run");

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "arms.hsct.causes.disease_death.relative.hz[1]\n0.2\n0.3\n").unwrap();
    let out = dir.path().join("out_bad");
    let assert = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", "scenarios/hsct_ssc.toml", "--draws", bad.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("bad.csv: column `arms.hsct.causes.disease_death.relative.hz[1]`"), "{stderr}");
    assert!(!out.exists(), "nothing written");
}
