//! The never-better boundary (`[analysis.never_better]`): the solver against a brute-force scan
//! of the same true curves, the identical-arms limit, the worked example, the copy's
//! rates against the type I error, and bad tables through the binary.

use assert_cmd::Command;

use trialsim::scenario::Scenario;
use trialsim::scenario::overrides::{Override, Template};
use trialsim::truth::never_better::{Boundary, PointBoundary, at_point, solve};
use trialsim::truth::survival;

/// The calibrated model with transplant-related mortality 20% and one HR for disease death and
/// organ failure in both periods (the example), searched from 0.5 towards 1.
fn hsct_text(until: Option<f64>) -> String {
    let base = std::fs::read_to_string("scenarios/hsct_ssc.toml").expect("shipped scenario");
    let mut text: String = base
        .lines()
        .map(|l| {
            if l.starts_with("treatment_death = ") {
                "treatment_death = { early_risk = { risk = 0.2, within = 0.25 } }".to_string()
            } else if l.starts_with("disease_death = { relative") {
                "disease_death = { relative = { to = \"cyc\", breaks = [1], hr = [0.5, 0.5] } }".to_string()
            } else if l.starts_with("organ_failure = { relative") {
                "organ_failure = { relative = { to = \"cyc\", breaks = [1], hr = [0.5, 0.5] } }".to_string()
            } else {
                l.to_string()
            }
        })
        .take_while(|l| !l.starts_with("[analysis.never_better]"))
        .collect::<Vec<_>>()
        .join("\n");
    let keys = [
        "disease_death.relative.hr[0]",
        "disease_death.relative.hr[1]",
        "organ_failure.relative.hr[0]",
        "organ_failure.relative.hr[1]",
    ];
    let vary: Vec<String> = keys.iter().map(|k| format!("\"arms.hsct.causes.{k}\"")).collect();
    text += &format!("\n[analysis.never_better]\nvary = [{}]\nto = 1.0\n", vary.join(", "));
    if let Some(u) = until {
        text += &format!("until = {u}\n");
    }
    text
}

fn solved(text: &str) -> (Template, Scenario, Boundary) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never_better.toml");
    std::fs::write(&path, text).unwrap();
    let sc = Scenario::from_path(&path).expect("valid");
    let template = Template::from_path(&path).expect("template");
    let b = solve(&template, &[], &sc).expect("solvable").expect("has the table");
    (template, sc, b)
}

/// ph.toml (HR 0.7) with its hazard ratio as the never-better path, towards 2.
fn ph_with_table() -> String {
    let base = std::fs::read_to_string("scenarios/ph.toml").unwrap();
    format!(
        "{base}\n[analysis.never_better]\nvary = [\"arms.experimental.causes.death.relative.hr\"]\nto = 2\n"
    )
}

/// `text` written to a scenario file in a fresh directory (kept while the directory lives).
fn written(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ph_nb.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

/// max over a dense grid of (0, until] of S_exp − S_ctl: no knots, no golden section.
fn brute_g(sc: &Scenario, until: f64) -> f64 {
    let (ctl, exp, ep) = (sc.control().unwrap(), sc.experimental().unwrap(), sc.primary());
    (1..=20_000)
        .map(|i| until * i as f64 / 20_000.0)
        .map(|t| survival(exp, ep, t) - survival(ctl, ep, t))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// The solver's value equals a brute-force search (a fine grid of the path, then bisection, on a
/// dense time grid of the same true curves) to 1e-6.
#[test]
fn the_solver_equals_a_brute_force_scan() {
    let text = hsct_text(None);
    let (template, _, b) = solved(&text);
    assert_eq!(b.until, 12.6, "a calendar cut: until defaults to the cut");
    let at = |v: f64| {
        let o: Vec<Override> = b.vary.iter().map(|k| Override { key: k.clone(), value: v }).collect();
        template.apply(&o).expect("valid").0
    };
    let g = |v: f64| brute_g(&at(v), b.until);
    let grid: Vec<f64> = (0..=1000).map(|i| b.from + (b.to - b.from) * i as f64 / 1000.0).collect();
    let first = grid.iter().position(|&v| g(v) <= 0.0).expect("the brute force finds a boundary");
    let (mut above, mut below) = (grid[first - 1], grid[first]);
    for _ in 0..40 {
        let mid = 0.5 * (above + below);
        if g(mid) > 0.0 { above = mid } else { below = mid }
    }
    eprintln!("solved {} vs brute force {below}", b.value);
    assert!((b.value - below).abs() < 1e-6, "solved {} vs brute force {below}", b.value);
    // The example: HR ≈ 0.7307, the curves touching at 12.6 years from below.
    assert!((b.value - 0.7307).abs() < 5e-4, "{}", b.value);
    let sc = &b.scenario;
    let (ctl, exp, ep) = (sc.control().unwrap(), sc.experimental().unwrap(), sc.primary());
    let d = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    assert!(d(12.6).abs() < 1e-8 && d(1.0) < -0.1, "touches at the cut: {} {}", d(12.6), d(1.0));
}

/// With every hazard identical but the varied ratio, the boundary is the identical-arms model.
#[test]
fn proportional_hazards_meet_at_a_ratio_of_one() {
    let text = ph_with_table();
    let (_, sc, b) = solved(&text);
    assert!((b.value - 1.0).abs() < 1e-9, "{}", b.value);
    assert_eq!((b.from, b.until), (0.7, 5.0));
    assert!(sc.analysis.never_better.is_some());
}

/// The boundary copy of a proportional-hazards scenario is the identical-arms model: each test's
/// rate of declaring benefit there equals its type I error within Monte Carlo error (two
/// independent runs: |a − b| < 4·√(SE_a² + SE_b²)).
#[test]
fn at_a_ratio_of_one_the_copy_declares_benefit_at_the_type_i_error() {
    let text = ph_with_table();
    let (dir, path) = written(&text);
    let out = dir.path().join("out");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let nb = &summary["never_better"];
    assert!((nb["value"].as_f64().unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(nb["replicates"], 10000);
    for (name, t) in summary["tests"].as_object().unwrap() {
        let (a, sa) = (t["type_i_error"].as_f64().unwrap(), t["type_i_error_se"].as_f64().unwrap());
        let (b, sb) =
            (nb["tests"][name]["rate"].as_f64().unwrap(), nb["tests"][name]["se"].as_f64().unwrap());
        let tol = 4.0 * (sa * sa + sb * sb).sqrt();
        assert!((a - b).abs() < tol, "{name}: type I error {a} vs boundary {b} (4 SE {tol})");
    }
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Declaring benefit at the never-better boundary"), "{md}");
}

/// Bad `[analysis.never_better]` tables: exit 2, one located message, nothing written.
#[test]
fn bad_tables_give_one_located_message() {
    let base = std::fs::read_to_string("scenarios/ph.toml").unwrap();
    let lines = base.lines().count();
    let key = "\"arms.experimental.causes.death.relative.hr\"";
    let cases: &[(&str, &str, usize, &[&str])] = &[
        ("unknown key", "vary = [KEY]\nto = 2\nuntl = 3", 4, &["unknown field `untl`"]),
        (
            "not a number",
            "vary = [\"arms.experimental.causes.death.relative.to\"]\nto = 2",
            2,
            &["`analysis.never_better.vary[0]`", "not a number"],
        ),
        (
            "does not move the curves",
            "vary = [\"design.n\"]\nto = 600",
            1,
            &["`analysis.never_better`", "do not move"],
        ),
        (
            "to equals the value",
            "vary = [KEY]\nto = 0.7",
            3,
            &["`analysis.never_better.to`", "path is empty"],
        ),
        (
            "until not positive",
            "vary = [KEY]\nto = 2\nuntil = 0",
            4,
            &["`analysis.never_better.until`", "a time > 0"],
        ),
        (
            "until beyond follow-up",
            "vary = [KEY]\nto = 2\nuntil = 7",
            4,
            &["`analysis.never_better.until`", "longest follow-up"],
        ),
        (
            "the wrong way",
            "vary = [KEY]\nto = 0.1",
            3,
            &["`analysis.never_better.to`", "makes the experimental arm better"],
        ),
        (
            "no boundary on the path",
            "vary = [KEY]\nto = 0.9",
            3,
            &["`analysis.never_better.to`", "no value between"],
        ),
        ("to not valid", "vary = [KEY]\nto = -1", 3, &["`analysis.never_better.to`", "not valid"]),
        ("already never better", "vary = [KEY]\nto = 0.1", 1, &["already never better"]),
        // Both arms' hazards moved together: the advantage rises, then falls.
        (
            "not monotone",
            "vary = [\"arms.control.causes.death.exponential\", \"arms.experimental.causes.death.piecewise.rates[0]\"]\nto = 5",
            1,
            &["`analysis.never_better`", "not monotone"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, (name, table, offset, expect)) in cases.iter().enumerate() {
        let base = match *name {
            "already never better" => base.replace("hr = 0.7", "hr = 1.3"),
            "not monotone" => base.replace(
                "death = { relative = { to = \"control\", hr = 0.7 } }",
                "death = { piecewise = { breaks = [2], rates = [0.15, 0.1] } }",
            ),
            _ => base.clone(),
        };
        let text = format!("{base}[analysis.never_better]\n{}\n", table.replace("KEY", key));
        let path = dir.path().join(format!("nb{i}.toml"));
        std::fs::write(&path, &text).unwrap();
        let out = dir.path().join(format!("out{i}"));
        crate::bad_input::check(&path, &out, Some(lines + offset), expect, name);
    }
}

/// `plan` reports each test's rate at its answer's boundary; `--never-better-limit` marks a test
/// above it as not acceptable. Under proportional hazards the boundary is HR 1, where log-rank
/// declares benefit at α = 2.5% (± 0.35 at 2,000 replicates), far above a limit of 0.5%.
#[test]
fn plan_marks_a_test_above_the_never_better_limit() {
    let text = ph_with_table();
    let (dir, path) = written(&text);
    let out = dir.path().join("plan");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["plan", path.to_str().unwrap(), "--vary", "design.n", "--target", "0.8", "--test", "logrank"])
        .args(["--reps", "2000", "--never-better-limit", "0.005", "--quiet", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let nb = &plan["never_better"];
    assert!((nb["boundary"].as_f64().unwrap() - 1.0).abs() < 1e-9, "{nb}");
    let (rate, se) = (nb["rate"].as_f64().unwrap(), nb["se"].as_f64().unwrap());
    assert!((rate - 0.025).abs() < 4.0 * se.max(0.0035), "{rate} ± {se}");
    assert_eq!(nb["acceptable"], false);
    let md = std::fs::read_to_string(out.join("plan.md")).unwrap();
    assert!(md.contains("Not acceptable: `logrank`"), "{md}");
    // Without the table the limit has nothing to judge: exit 2, nothing written.
    let bare = dir.path().join("ph.toml");
    std::fs::copy("scenarios/ph.toml", &bare).unwrap();
    let out2 = dir.path().join("plan2");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["plan", bare.to_str().unwrap(), "--vary", "design.n", "--target", "0.8"])
        .args(["--never-better-limit", "0.05", "--quiet", "--out", out2.to_str().unwrap()])
        .assert()
        .code(2);
    assert!(!out2.exists());
}

/// A hazard that changes within a piece (Weibull): the advantage's maximum lies between knots,
/// where the golden-section search finds it; the solver still equals the brute-force scan.
#[test]
fn the_solver_finds_a_maximum_between_knots() {
    let base = std::fs::read_to_string("scenarios/ph.toml").unwrap();
    let text = base.replace(
        "death = { relative = { to = \"control\", hr = 0.7 } }",
        "death = { weibull = { shape = 2.0, scale = 6.0 } }\nharm = { early_risk = { risk = 0.1, within = 0.25 } }",
    );
    let text = text.replace("os = [\"death\"]", "os = [\"death\", \"harm\"]");
    let text = format!(
        "{text}\n[analysis.never_better]\nvary = [\"arms.experimental.causes.death.weibull.scale\"]\nto = 1.0\n"
    );
    let (template, _, b) = solved(&text);
    let at = |v: f64| {
        let o = [Override { key: b.vary[0].clone(), value: v }];
        template.apply(&o).expect("valid").0
    };
    let g = |v: f64| brute_g(&at(v), b.until);
    let grid: Vec<f64> = (0..=400).map(|i| b.from + (b.to - b.from) * i as f64 / 400.0).collect();
    let first = grid.iter().position(|&v| g(v) <= 0.0).expect("a boundary");
    let (mut above, mut below) = (grid[first - 1], grid[first]);
    for _ in 0..40 {
        let mid = 0.5 * (above + below);
        if g(mid) > 0.0 { above = mid } else { below = mid }
    }
    assert!((b.value - below).abs() < 1e-6, "solved {} vs brute force {below}", b.value);
    // Where the boundary's curves touch: inside (0, until), not at a knot.
    let sc = &b.scenario;
    let (ctl, exp, ep) = (sc.control().unwrap(), sc.experimental().unwrap(), sc.primary());
    let d = |t: f64| survival(exp, ep, t) - survival(ctl, ep, t);
    let (t_max, d_max) = (1..5000)
        .map(|i| b.until * i as f64 / 5000.0)
        .map(|t| (t, d(t)))
        .fold((0.0, f64::MIN), |a, x| if x.1 > a.1 { x } else { a });
    eprintln!("touch at {t_max}: {d_max:e}; solved {}", b.value);
    // Analytically: 0.10536 + (t/s)² = 0.15 t touches when s² = 4 · 0.10536 / 0.15², at
    // t = 0.15 s² / 2.
    let s = (4.0 * -(0.9f64.ln()) / 0.0225).sqrt();
    assert!((b.value - s).abs() < 1e-6, "{} vs {s}", b.value);
    assert!((t_max - 0.075 * s * s).abs() < 2e-3 && d_max.abs() < 1e-6, "touch at {t_max}: {d_max}");
}

/// Sweep and plan points: one already never better is its own boundary (its power is the rate),
/// one whose value is `to` has no path, and an ordinary one is solved.
#[test]
fn points_already_never_better_or_at_the_end_of_the_path() {
    let key = "arms.experimental.causes.death.relative.hr";
    let point = |hr: f64, t: &Template| {
        let o = [Override { key: key.into(), value: hr }];
        let (sc, _) = t.apply(&o).unwrap();
        at_point(t, &o, &sc).unwrap().unwrap()
    };
    let (_dir, path) = written(&ph_with_table());
    let template = Template::from_path(&path).unwrap();
    match point(1.3, &template) {
        PointBoundary::Itself(b) => assert_eq!((b.from, b.value), (1.3, 1.3)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(point(0.8, &template), PointBoundary::Solved(b) if (b.value - 1.0).abs() < 1e-9));
    let (_dir, path) = written(&ph_with_table().replace("to = 2\n", "to = 0.5\n"));
    let short = Template::from_path(&path).unwrap();
    assert!(matches!(point(0.5, &short), PointBoundary::NotOnPath(_)), "the point's value is `to`");
}

/// `trialsim check` prints the boundary with the other true values (no simulation).
#[test]
fn check_prints_the_boundary() {
    let out =
        Command::cargo_bin("trialsim").unwrap().args(["check", "scenarios/hsct_ssc.toml"]).assert().success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    let line = stdout.lines().find(|l| l.starts_with("Never-better boundary:")).expect(&stdout);
    assert!(
        line.contains("at 0.9034 (the scenario has 0.3445)") && line.contains("up to 12.6 years"),
        "{line}"
    );
}
