//! Calibration: recovery of known parameters, coverage of the fitted intervals over simulated
//! studies, expected counts against direct simulation of the design, and the command's outputs.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use trialsim::calibrate::predictive::{Workspace, simulate_figures};
use trialsim::calibrate::{Problem, Study, fit, optimise};

/// A two-arm study: control deaths at a constant rate, an experimental arm with an early
/// treatment-related risk and a relative disease-death hazard; counts per arm and interval.
/// `values` fills the targets in order; `start` holds the file's parameter values in the
/// problem's order (control_rate, hr, trm); `extra` adds targets.
fn two_arm(n: usize, values: &[f64], start: [f64; 3], extra: &str) -> String {
    format!(
        r#"name = "recovery"
[simulation]
replicates = 400
seed = 11
[design]
n = {n}
control = "c"
allocation = {{ c = 1, e = 1 }}
block_size = 2
accrual = {{ duration = 2 }}
[design.cut]
calendar = 6
[arms.c.causes]
death = {{ exponential = {s0} }}
[arms.e.causes]
trd = {{ early_risk = {{ risk = {s2}, within = 0.25 }} }}
death = {{ relative = {{ to = "c", hr = {s1} }} }}
[endpoints]
os = ["trd", "death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
[calibrate]
starts = 3
[calibrate.free.control_rate]
keys = ["arms.c.causes.death.exponential"]
bounds = [0.01, 1]
[calibrate.free.trm]
keys = ["arms.e.causes.trd.early_risk.risk"]
bounds = [0.001, 0.6]
[calibrate.free.hr]
keys = ["arms.e.causes.death.relative.hr"]
bounds = [0.05, 3]
[[targets]]
name = "c_year1"
kind = "count"
arm = "c"
endpoint = "os"
to = 1
value = {v0}
[[targets]]
name = "c_later"
kind = "count"
arm = "c"
endpoint = "os"
from = 1
value = {v1}
[[targets]]
name = "e_trd"
kind = "count"
arm = "e"
endpoint = "os"
causes = ["trd"]
value = {v2}
[[targets]]
name = "e_death"
kind = "count"
arm = "e"
endpoint = "os"
causes = ["death"]
value = {v3}
{extra}"#,
        s0 = start[0],
        s1 = start[1],
        s2 = start[2],
        v0 = values[0],
        v1 = values[1],
        v2 = values[2],
        v3 = values[3],
    )
}

const TRUTH: [f64; 3] = [0.12, 0.5, 0.1];

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn known_parameters_are_recovered_from_their_expected_figures() {
    // Targets are the model's own expected figures at TRUTH for a very large study (counts
    // rounded to whole patients); the fit starts elsewhere and must come back within 3 SE.
    let dir = tempfile::tempdir().unwrap();
    let n = 200_000;
    let km = "[[targets]]\nname = \"e_surv3\"\nkind = \"survival\"\narm = \"e\"\nendpoint = \"os\"\ntime = 3\nvalue = 0.5\nci = [0.4, 0.6]\n";
    let at_truth = write(dir.path(), "a.toml", &two_arm(n, &[1.0; 4], TRUTH, km));
    let problem = Problem::new(vec![Study::load(&at_truth).unwrap()]).unwrap();
    let expected = &problem.expected(&TRUTH).unwrap()[0].values;
    let counts: Vec<f64> = expected[..4].iter().map(|x| x.round()).collect();
    let s = expected[4];
    let km = format!(
        "[[targets]]\nname = \"e_surv3\"\nkind = \"survival\"\narm = \"e\"\nendpoint = \"os\"\ntime = 3\nvalue = {s}\nci = [{}, {}]\n",
        s - 0.002,
        s + 0.002
    );
    let study = write(dir.path(), "b.toml", &two_arm(n, &counts, [0.3, 1.5, 0.3], &km));
    let problem = Problem::new(vec![Study::load(&study).unwrap()]).unwrap();
    let b = problem.bounds();
    let f = fit(&problem, &problem.published(), &optimise::starts(&problem.initial(), &b, 3));
    for (j, &truth) in TRUTH.iter().enumerate() {
        let se = f.se[j];
        assert!(se.is_finite() && se > 0.0, "parameter {j}: SE {se}");
        assert!(
            (f.estimate[j] - truth).abs() < 3.0 * se,
            "parameter {j}: {} vs {truth} (SE {se})",
            f.estimate[j]
        );
        // A large study pins the parameters down: the SE is small.
        assert!(se < 0.05 * truth, "parameter {j}: SE {se}");
    }
    assert_eq!(f.rank, 3);
}

#[test]
fn expected_counts_agree_with_simulating_the_design() {
    // Illness–death single-arm studies with dropout and a follow-up that thins out (one with a
    // count among a subset of patients), and the randomised study with its split counts: the
    // mean simulated value of every figure is within 4 Monte Carlo SE of the model's expected
    // value.
    for file in ["ebmt_registry", "phase2_series", "astis"] {
        expected_figures_match_simulation(&format!("scenarios/studies/{file}.toml"));
    }
}

fn expected_figures_match_simulation(path: &str) {
    let study = Study::load(Path::new(path)).unwrap();
    let problem = Problem::new(vec![study]).unwrap();
    let theta = problem.initial();
    let expected = &problem.expected(&theta).unwrap()[0].values;
    let sc = problem.scenario(0, &theta).unwrap();
    let reps = 10_000;
    let mut ws = Workspace::default();
    let targets = &problem.studies[0].targets;
    let sims: Vec<Vec<f64>> = (0..reps).map(|r| simulate_figures(&sc, targets, 5, r, &mut ws)).collect();
    for (i, t) in targets.iter().enumerate() {
        if t.kind_name() == "hazard_ratio" {
            // The model's value is an average hazard ratio, not the mean of a Cox estimate.
            continue;
        }
        let v: Vec<f64> = sims.iter().map(|s| s[i]).filter(|x| !x.is_nan()).collect();
        let m = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        let se = sd / (v.len() as f64).sqrt();
        assert!(
            (m - expected[i]).abs() < 4.0 * se,
            "{}: simulated mean {m} vs expected {} (SE {se})",
            t.name,
            expected[i]
        );
    }
}

#[test]
fn wald_intervals_cover_the_true_parameters_in_about_95_percent_of_simulated_studies() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "c.toml", &two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, ""));
    let problem = Problem::new(vec![Study::load(&p).unwrap()]).unwrap();
    let sc = problem.scenario(0, &TRUTH).unwrap();
    let b = problem.bounds();
    let fits = 100;
    let mut covered = [0usize; 3];
    let mut ws = Workspace::default();
    for r in 0..fits {
        let data = vec![simulate_figures(&sc, &problem.studies[0].targets, 99, r, &mut ws)];
        let f = fit(&problem, &data, &optimise::starts(&TRUTH, &b, 1));
        for j in 0..3 {
            if (f.estimate[j] - TRUTH[j]).abs() <= 1.959964 * f.se[j] {
                covered[j] += 1;
            }
        }
    }
    // Binomial(100, 0.95): 4 SE below 95% is 86.3%.
    for (j, &c) in covered.iter().enumerate() {
        let cov = c as f64 / fits as f64;
        eprintln!("parameter {j}: coverage {cov:.2} over {fits} simulated studies");
        assert!(cov >= 0.95 - 4.0 * (0.95f64 * 0.05 / fits as f64).sqrt(), "parameter {j}: coverage {cov}");
    }
}

#[test]
fn the_command_writes_every_output_and_its_fitted_scenario_runs() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", &two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, ""));
    let out1 = dir.path().join("one");
    let out2 = dir.path().join("two");
    for (out, threads) in [(&out1, "1"), (&out2, "2")] {
        Command::cargo_bin("trialsim")
            .unwrap()
            .args([
                "calibrate",
                p.to_str().unwrap(),
                "--reps",
                "200",
                "--bootstrap",
                "8",
                "--threads",
                threads,
            ])
            .args(["--out", out.to_str().unwrap(), "--quiet"])
            .assert()
            .success();
    }
    for f in
        ["calibration.json", "calibration.md", "calibration.svg", "fitted.toml", "draws.csv", "report.html"]
    {
        assert!(out1.join(f).exists(), "{f} missing");
    }
    // Deterministic whatever the thread count.
    for f in ["calibration.json", "calibration.md", "draws.csv", "fitted.toml", "report.html"] {
        assert_eq!(fs::read(out1.join(f)).unwrap(), fs::read(out2.join(f)).unwrap(), "{f}");
    }
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read(out1.join("calibration.json")).unwrap()).unwrap();
    for t in v["targets"].as_array().unwrap() {
        let p = t["percentile"].as_f64().expect("percentile is a number");
        assert!((0.0..=1.0).contains(&p), "{t}");
        assert!(t["interval"][0].as_f64().unwrap() <= t["interval"][1].as_f64().unwrap());
    }
    assert!(v["parameters"]["hr"]["se"].as_f64().unwrap() > 0.0);
    let page = fs::read_to_string(out1.join("report.html")).unwrap();
    assert!(
        page.contains("<code id=\"command\">trialsim calibrate s.toml --reps 200 --bootstrap 8</code>"),
        "{page}"
    );
    assert!(page.contains("<figure data-file=\"calibration.svg\">"));
    // fitted.toml is a runnable scenario; draws.csv feeds assurance.
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", out1.join("fitted.toml").to_str().unwrap(), "--reps", "50", "--quiet"])
        .args(["--out", dir.path().join("run").to_str().unwrap()])
        .assert()
        .success();
    let draws = trialsim::assurance::read_draws(&out1.join("draws.csv")).unwrap();
    assert_eq!(draws.rows.len(), 8);
    assert_eq!(draws.keys[0], "arms.c.causes.death.exponential");
}

#[test]
fn a_joint_fit_shares_parameters_named_in_several_files_and_tests_them() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.toml", &two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, ""));
    let b_text = two_arm(400, &[12.0, 28.0, 25.0, 15.0], TRUTH, "")
        .replace("name = \"recovery\"", "name = \"second\"");
    // The second study's TRM is its own; the control rate and HR are shared.
    let b_text = b_text.replace("[calibrate.free.trm]", "[calibrate.free.trm_second]");
    let b = write(dir.path(), "b.toml", &b_text);
    let problem = Problem::new(vec![Study::load(&a).unwrap(), Study::load(&b).unwrap()]).unwrap();
    let names: Vec<&str> = problem.params.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["control_rate", "hr", "trm", "trm_second"]);
    let opts = trialsim::calibrate::Options { replicates: 50, seed: None, bootstrap: 0, progress: &|_| {} };
    let c = trialsim::calibrate::calibrate(problem, &opts).unwrap();
    let lr = c.likelihood_ratio.expect("two studies: an LR test");
    // Separate fits have 3 + 3 identified dimensions, the joint fit 4.
    assert_eq!(lr.df, 2);
    // The joint model is nested in the separate fits: its −ℓ is never below their sum.
    assert!(lr.separate_fits_converged && lr.raw_statistic > -1e-3, "{lr:?}");
    // Two studies from one truth: no evidence against one model.
    assert!(lr.p_value > 0.001, "{lr:?}");
    // Each study's copies come from its own streams.
    assert_ne!(c.seeds[0], c.seeds[1]);
    assert_ne!(c.simulated[0], c.simulated[1]);
}

#[test]
fn shared_parameters_need_the_same_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.toml", &two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, ""));
    let b_text = two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, "")
        .replace("name = \"recovery\"", "name = \"other\"")
        .replace("bounds = [0.05, 3]", "bounds = [0.05, 2]");
    let b = write(dir.path(), "b.toml", &b_text);
    let assert = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["calibrate", a.to_str().unwrap(), b.to_str().unwrap(), "--out"])
        .arg(dir.path().join("x"))
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(err.contains("calibrate.free.hr") && err.contains("same bounds"), "{err}");
    assert!(!dir.path().join("x").exists());
}

#[test]
fn the_shipped_model_carries_the_joint_fit() {
    // scenarios/hsct_ssc.toml is written by hand from results/calibration/joint: every fitted
    // parameter of the randomised study must be there, to the 4 significant digits written.
    let v: serde_json::Value =
        serde_json::from_slice(&fs::read("results/calibration/joint/calibration.json").unwrap()).unwrap();
    let model =
        trialsim::scenario::overrides::Template::from_path(Path::new("scenarios/hsct_ssc.toml")).unwrap();
    let mut checked = 0;
    for (name, p) in v["parameters"].as_object().unwrap() {
        let Some(keys) = p["keys"]["astis"].as_array() else { continue };
        let fitted = p["value"].as_f64().unwrap();
        for k in keys {
            let k = k.as_str().unwrap();
            let written = model.get(k).unwrap_or_else(|| panic!("{k} missing from hsct_ssc.toml"));
            assert!(
                (written - fitted).abs() <= 5e-4 * fitted,
                "{name} ({k}): {written} written, {fitted} fitted"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 9);
}

#[test]
fn shipped_calibrations_match_the_study_files() {
    // results/calibration/ is made by the commands of docs/reproduce.md from scenarios/studies/: a study file
    // edited without rerunning them would leave its figures or parameters stale.
    for dir in ["ebmt_registry", "phase2_series", "astis", "joint"] {
        let v: serde_json::Value =
            serde_json::from_slice(&fs::read(format!("results/calibration/{dir}/calibration.json")).unwrap())
                .unwrap();
        let names: Vec<&str> = v["studies"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
        let studies: Vec<Study> = names
            .iter()
            .map(|n| Study::load(Path::new(&format!("scenarios/studies/{n}.toml"))).unwrap())
            .collect();
        let problem = Problem::new(studies).unwrap();
        let shipped: Vec<(&str, &str, f64, &str)> = v["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["study"].as_str().unwrap(),
                    t["name"].as_str().unwrap(),
                    t["published"].as_f64().unwrap(),
                    t["role"].as_str().unwrap(),
                )
            })
            .collect();
        let current: Vec<(&str, &str, f64, &str)> = problem
            .studies
            .iter()
            .flat_map(|s| {
                s.targets.iter().map(move |t| (s.name(), t.name.as_str(), t.value, t.role.as_str()))
            })
            .collect();
        assert_eq!(shipped, current, "{dir}: rerun the calibration commands of docs/reproduce.md");
        let params: Vec<&String> = v["parameters"].as_object().unwrap().keys().collect();
        let now: Vec<&String> = problem.params.iter().map(|p| &p.name).collect();
        assert_eq!(params, now, "{dir}: free parameters changed");
    }
}

#[test]
fn bad_calibrate_arguments_exit_2_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "s.toml", &two_arm(400, &[10.0, 30.0, 20.0, 20.0], TRUTH, ""));
    let out = dir.path().join("out");
    let cases: [(&[&str], &str); 5] = [
        (&[p.to_str().unwrap(), p.to_str().unwrap()], "both named"),
        (&[p.to_str().unwrap(), "--bootstrap", "1"], "--bootstrap"),
        (&[p.to_str().unwrap(), "--reps", "0"], "--reps"),
        (&["scenarios/ph.toml"], "no [calibrate] table"),
        (&[p.to_str().unwrap(), "--reps", "2000000"], "at most 1000000"),
    ];
    for (args, expect) in cases {
        let assert = Command::cargo_bin("trialsim")
            .unwrap()
            .arg("calibrate")
            .args(args)
            .arg("--out")
            .arg(&out)
            .assert();
        let output = assert.get_output().clone();
        let err = String::from_utf8_lossy(&output.stderr).to_string();
        assert!(err.contains(expect), "{args:?}: {err}");
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: wrote {}", out.display());
    }
}
