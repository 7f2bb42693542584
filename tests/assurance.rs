//! Assurance: a degenerate prior gives the power at the point estimate; draws files; bad input.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use trialsim::assurance::{Draws, assurance, prior_draws};
use trialsim::scenario::overrides::Template;

fn ph_with(extra: &str, dir: &Path) -> std::path::PathBuf {
    let text = fs::read_to_string("scenarios/ph.toml").unwrap() + extra;
    let p = dir.join("ph_uncertain.toml");
    fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_point_prior_gives_the_power_at_the_point_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let p = ph_with(
        "\n[uncertainty]\ndraws = 40\n[uncertainty.keys]\n\"arms.experimental.causes.death.relative.hr\" = { uniform = [0.69999, 0.70001] }\n",
        dir.path(),
    );
    let t = Template::from_path(&p).unwrap();
    let doc = trialsim::scenario::Document::load(&p).unwrap();
    let u = trialsim::assurance::uncertainty_table(&doc).unwrap().unwrap();
    let r = assurance(&t, &prior_draws(&u, 1), 4000, 1, |_, _| {}).unwrap();
    for x in &r.tests {
        let se = (x.assurance_se.powi(2) + x.power_se.powi(2)).sqrt();
        assert!(
            (x.assurance - x.power).abs() < 4.0 * se,
            "{}: {} vs {} (4 SE = {})",
            x.test,
            x.assurance,
            x.power,
            4.0 * se
        );
    }
}

#[test]
fn uncertainty_about_a_strong_effect_lowers_the_chance_of_success() {
    // At HR 0.7 the log-rank power is about 70%; uncertainty spread over HR 0.45–1.2 puts much
    // weight where the effect is weak or absent, so the chance of success is far lower.
    let t = Template::from_path(Path::new("scenarios/ph.toml")).unwrap();
    let draws = Draws {
        keys: vec!["arms.experimental.causes.death.relative.hr".into()],
        rows: (0..200).map(|i| vec![0.45 + 0.75 * i as f64 / 199.0]).collect(),
        source: "grid".into(),
    };
    let r = assurance(&t, &draws, 20_000, 2, |_, _| {}).unwrap();
    let lr = r.tests.iter().find(|x| x.test == "logrank").unwrap();
    assert!(lr.assurance < lr.power - 4.0 * (lr.assurance_se.powi(2) + lr.power_se.powi(2)).sqrt(), "{lr:?}");
}

#[test]
fn draws_files_and_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let draws = dir.path().join("draws.csv");
    fs::write(&draws, "draw,arms.experimental.causes.death.relative.hr\n0,0.65\n1,0.7\n2,0.75\n").unwrap();
    let out = dir.path().join("a");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["assurance", "scenarios/ph.toml", "--reps", "300", "--quiet", "--draws"])
        .arg(&draws)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("assurance.json")).unwrap()).unwrap();
    assert_eq!(v["draws"], 3);
    let a = v["tests"][0]["assurance"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&a));
    let cases: [(&str, &str); 3] = [
        ("draw,arms.experimental.causes.death.relative.hr\n0,abc\n1,0.7\n", "not a number"),
        ("draw,arms.experimental.causes.death.hazard\n0,0.1\n1,0.7\n", "causes.death.hazard"),
        ("draw,design.control\n0,1\n1,2\n", "not a number"),
    ];
    for (i, (text, expect)) in cases.iter().enumerate() {
        let f = dir.path().join(format!("bad{i}.csv"));
        fs::write(&f, text).unwrap();
        let o = dir.path().join(format!("o{i}"));
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .args(["assurance", "scenarios/ph.toml", "--quiet", "--draws"])
            .arg(&f)
            .arg("--out")
            .arg(&o)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expect), "case {i}: {err}");
        assert!(!o.exists());
    }
    // No uncertainty anywhere.
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["assurance", "scenarios/ph.toml", "--quiet"])
        .assert()
        .code(2);
}

/// A draws file that names a column twice, or whose valid draws are fewer than two, is refused
/// with the reason (it once used the last copy, or averaged over one draw: "36.0% ± NaN").
#[test]
fn repeated_columns_and_too_few_valid_draws_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = "arms.experimental.causes.death.relative.hr";
    for (i, (text, says)) in [
        (format!("draw,{key},{key}\n0,0.7,0.8\n1,0.7,0.8\n"), format!("column `{key}` appears twice")),
        (
            format!("draw,{key}\n0,0.7\n1,-1\n"),
            "1 of 2 parameter draws make an invalid scenario (first, draw 1:".to_string(),
        ),
    ]
    .iter()
    .enumerate()
    {
        let f = dir.path().join(format!("d{i}.csv"));
        fs::write(&f, text).unwrap();
        let o = dir.path().join(format!("o{i}"));
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .args(["assurance", "scenarios/ph.toml", "--quiet", "--reps", "200", "--draws"])
            .arg(&f)
            .arg("--out")
            .arg(&o)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(says.as_str()), "case {i}: {err}");
    }
}

/// Draws files are read within caps (bytes and rows), enforced while reading, and may only set
/// keys that change a trial (issue 21, causes 6 and 17): `/dev/zero` (which reports no size and
/// never ends), 100,001 rows, and a `simulation.seed` column (which did nothing) are refused
/// with exit 2, quickly and with nothing written.
#[test]
fn draws_beyond_the_caps_or_outside_the_model_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rows = dir.path().join("rows.csv");
    let mut text = String::from("arms.experimental.causes.death.relative.hr\n");
    for i in 0..100_001 {
        text.push_str(&format!("0.{}\n", 6 + i % 3));
    }
    fs::write(&rows, text).unwrap();
    let seed = dir.path().join("seed.csv");
    fs::write(&seed, "arms.experimental.causes.death.relative.hr,simulation.seed\n0.7,1\n0.8,2\n").unwrap();
    for (draws, expect) in [
        (Path::new("/dev/zero"), "larger than 33554432 bytes"),
        (rows.as_path(), "more than 100000 draws"),
        (seed.as_path(), "`simulation.seed` is not a parameter"),
    ] {
        let out = dir.path().join("out");
        let started = std::time::Instant::now();
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .args(["assurance", "scenarios/ph.toml", "--reps", "100", "--quiet", "--draws"])
            .arg(draws)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expect), "{}: {err}", draws.display());
        assert!(!out.exists(), "nothing written");
        // A liveness bound, not a speed test: the 150,000-row file once ran for over a minute.
        assert!(started.elapsed().as_secs() < 20, "{}", draws.display());
    }
}

/// Two identical draws at R = 1,000 replicates each: the assurance SE is of the order of
/// √(p(1−p)/R), not the spread of two nearly equal rates (it printed "86.8% ± 0.0"). With
/// independent draws SE² = A + B, A = s²_reps/R ≈ p(1−p)/(2R) within a few % (R = 1,000), and
/// B = s²_draws/2 ≈ p(1−p)/(2R)·χ²₁; so SE/√(p(1−p)/R) lies in [√(0.5·0.9), √(0.55 + 0.5·6.6)]
/// = [0.67, 1.96] with probability 0.99 for each seed. The old estimator (B alone) falls below
/// 0.6 for 60% of seeds (issue 21, cause 12).
#[test]
fn two_identical_draws_carry_the_monte_carlo_error() {
    let t = Template::from_path(Path::new("scenarios/ph.toml")).unwrap();
    let draws = Draws {
        keys: vec!["arms.experimental.causes.death.relative.hr".into()],
        rows: vec![vec![0.7], vec![0.7]],
        source: "two identical draws".into(),
    };
    for seed in [1, 2, 3] {
        let r = assurance(&t, &draws, 2000, seed, |_, _| {}).unwrap();
        let lr = r.tests.iter().find(|x| x.test == "logrank").unwrap();
        let binomial = (lr.assurance * (1.0 - lr.assurance) / 1000.0).sqrt();
        eprintln!("seed {seed}: assurance {} ± {} (binomial {binomial})", lr.assurance, lr.assurance_se);
        assert!(
            lr.assurance_se > 0.6 * binomial && lr.assurance_se < 2.0 * binomial,
            "seed {seed}: SE {} against √(p(1−p)/R) = {binomial}",
            lr.assurance_se
        );
    }
}
