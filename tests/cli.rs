//! The command line and the output contract.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn run(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("trialsim").unwrap().args(args).assert()
}

fn run_to(scenario: &str, out: &Path, extra: &[&str]) {
    let mut args = vec!["run", scenario, "--out", out.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    run(&args).success();
}

#[test]
fn same_bytes_for_any_thread_count_and_output_path() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (dir.path().join("t1"), dir.path().join("t2"), dir.path().join("seed"));
    run_to("scenarios/astis.toml", &a, &["--reps", "3000", "--threads", "1"]);
    run_to("scenarios/astis.toml", &b, &["--reps", "3000", "--threads", "2"]);
    let ja = fs::read(a.join("summary.json")).unwrap();
    assert_eq!(ja, fs::read(b.join("summary.json")).unwrap(), "summary.json differs between 1 and 2 threads");
    assert_eq!(fs::read(a.join("summary.md")).unwrap(), fs::read(b.join("summary.md")).unwrap());
    assert_eq!(fs::read(a.join("report.html")).unwrap(), fs::read(b.join("report.html")).unwrap());
    run_to("scenarios/astis.toml", &c, &["--reps", "3000", "--seed", "99"]);
    assert_ne!(ja, fs::read(c.join("summary.json")).unwrap(), "another seed must give another result");
}

#[test]
fn summary_json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ph");
    run_to("scenarios/ph.toml", &out, &["--reps", "500"]);
    let text = fs::read_to_string(out.join("summary.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["scenario"], "ph");
    assert_eq!(v["seed"], 7);
    assert_eq!(v["replicates"], 500);
    for t in ["logrank", "fh(0,1)", "maxcombo", "cox", "cox_breslow", "cox_periods", "rmst", "milestone"] {
        let p = v["tests"][t]["power"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{t}");
        assert!(v["tests"][t]["power_se"].as_f64().unwrap() > 0.0);
        assert!(v["tests"][t]["not_estimable"].as_u64().is_some());
    }
    assert!(v["events"]["mean"].as_f64().unwrap() > 100.0);
    assert!(v["truth"]["survival"].is_array());
    assert!(v["truth"]["rmst"]["difference"].as_f64().unwrap() > 0.0);
    // No paths, timings or thread counts.
    assert!(!text.contains(dir.path().to_str().unwrap()));
    assert!(!text.contains("thread") && !text.contains("elapsed"));
    for f in ["summary.md", "survival.svg"] {
        assert!(out.join(f).exists(), "{f}");
    }
    let svg = fs::read_to_string(out.join("survival.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<polygon"), "band drawn");
}

#[test]
fn replicates_and_patients_exports() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    run_to("scenarios/ph.toml", &out, &["--reps", "300", "--export-replicates", "--export-patients", "2"]);
    let rep = fs::read_to_string(out.join("replicates.csv")).unwrap();
    let mut lines = rep.lines();
    assert_eq!(
        lines.next().unwrap(),
        "replicate,logrank.z,\"fh(0,1).z\",\"fh(0,0).z\",maxcombo.z,maxcombo.p,cox.log_hr,cox.se,cox.z,\
         cox_breslow.log_hr,cox_breslow.se,cox_breslow.z,cox_periods.log_hr[0],cox_periods.log_hr[1],\
         cox_periods.se[0],cox_periods.se[1],cox_periods.z,rmst.diff,rmst.se,rmst.z,\
         milestone.diff,milestone.se,milestone.z"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 300);
    for (r, row) in rows.iter().enumerate() {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells[0], r.to_string());
        assert_eq!(cells.len(), 23);
        for c in &cells[1..] {
            let x: f64 = c.parse().unwrap();
            assert_eq!(x.to_string(), *c, "shortest round-trip form");
        }
    }
    let pat = fs::read_to_string(out.join("patients.csv")).unwrap();
    let mut lines = pat.lines();
    assert_eq!(lines.next().unwrap(), "replicate,arm,entry,os.time,os.event");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    // Calendar cut at 5 after 2 years of accrual: all 500 patients of replicates 0 and 1.
    assert_eq!(rows.len(), 1000);
    assert!(rows.iter().all(|r| ["control", "experimental"].contains(&r[1]) && ["0", "1"].contains(&r[4])));
    assert_eq!(rows.iter().filter(|r| r[0] == "1").count(), 500);
}

#[test]
fn patients_export_matches_the_replicate_statistics() {
    // The log-rank z recomputed from patients.csv equals replicates.csv's: the exported data
    // are the analysed data.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    run_to("scenarios/astis.toml", &out, &["--reps", "3", "--export-replicates", "--export-patients", "3"]);
    let pat = fs::read_to_string(out.join("patients.csv")).unwrap();
    let rep = fs::read_to_string(out.join("replicates.csv")).unwrap();
    for r in 0..3 {
        let (mut t, mut e, mut g) = (vec![], vec![], vec![]);
        for l in pat.lines().skip(1) {
            let c: Vec<&str> = l.split(',').collect();
            if c[0] == r.to_string() {
                t.push(c[3].parse::<f64>().unwrap());
                e.push(c[4] == "1");
                g.push(u8::from(c[1] == "hsct"));
            }
        }
        let table = trialsim::stats::RiskTable::from_data(&t, &e, &g);
        let z = trialsim::stats::logrank::logrank(&table).z;
        let line = rep.lines().nth(r + 1).unwrap();
        let want: f64 = line.split(',').nth(1).unwrap().parse().unwrap();
        assert_eq!(z, want, "replicate {r}");
    }
}

#[test]
fn check_prints_the_truth_and_help_shows_examples() {
    let a = run(&["check", "scenarios/astis.toml"]).success();
    let out = String::from_utf8_lossy(&a.get_output().stdout).to_string();
    // The equality time, labelled as such, and the rule on the true curves: what the observed
    // crossing estimates (it once printed only the first, beside the observed crossing).
    assert!(out.contains("true curves are equal (cross) at 1.84"), "{out}");
    assert!(out.contains("fires on the true curves at 2.3278"), "{out}");
    let h = run(&["run", "--help"]).success();
    assert!(String::from_utf8_lossy(&h.get_output().stdout).contains("Examples:"));
}

#[test]
fn a_single_arm_study_reports_truth_and_kaplan_meier_only() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("single.toml");
    fs::write(
        &sc,
        r#"name = "single"
[design]
n = 57
allocation = { hsct = 1 }
accrual = { duration = 6 }
[design.cut]
calendar = 8
[arms.hsct.causes]
treatment_death = { early_risk = { risk = 0.087, within = 0.5 } }
disease_death = { exponential = 0.04 }
[endpoints]
os = ["treatment_death", "disease_death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
tau = 5
horizons = [1, 5]
"#,
    )
    .unwrap();
    let out = dir.path().join("o");
    run_to(sc.to_str().unwrap(), &out, &["--reps", "300"]);
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert!(v["note"].as_str().unwrap().contains("single-arm"));
    assert_eq!(v["tests"], serde_json::json!({}));
    let e = &v["estimates"]["km.hsct.5"];
    let (km, truth) = (e["mean"].as_f64().unwrap(), e["truth"].as_f64().unwrap());
    let mcse = e["sd"].as_f64().unwrap() / e["n"].as_f64().unwrap().sqrt();
    assert!((km - truth).abs() < 4.0 * mcse, "{km} vs {truth} (4 SE = {})", 4.0 * mcse);
    assert!(fs::read_to_string(out.join("summary.md")).unwrap().contains("were not run"));
}

#[test]
fn two_sided_type_i_error_counts_both_sides() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/ph.toml")
        .unwrap()
        .replace("sides = 1", "sides = 2")
        .replace("alpha = 0.025", "alpha = 0.05");
    let sc = dir.path().join("ph2.toml");
    fs::write(&sc, text).unwrap();
    let out = dir.path().join("o");
    run_to(sc.to_str().unwrap(), &out, &["--reps", "4000"]);
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let e = v["tests"]["logrank"]["type_i_error"].as_f64().unwrap();
    let se = (0.05f64 * 0.95 / 4000.0).sqrt();
    assert!((e - 0.05).abs() < 4.0 * se, "two-sided type I error {e}");
    assert!(v["tests"]["logrank"]["reject_harm"].as_f64().is_some());
}

#[test]
fn followup_of_a_single_arm_study_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("single.toml");
    fs::write(
        &sc,
        "name = \"s\"\n[design]\nn = 30\nallocation = { a = 1 }\naccrual = { duration = 1 }\n[design.cut]\ncalendar = 3\n\
         [arms.a.causes]\nd = { exponential = 0.2 }\n[endpoints]\nos = [\"d\"]\n[analysis]\nendpoint = \"os\"\ntests = [\"logrank\"]\n",
    )
    .unwrap();
    let out = dir.path().join("o");
    let a =
        run(&["followup", sc.to_str().unwrap(), "--cuts", "2,3", "--quiet", "--out", out.to_str().unwrap()])
            .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("single-arm"));
    assert!(!out.exists());
}

/// Out-of-range counts on the command line are bad arguments (exit 2) named with their range,
/// checked before anything is created; the ranges are the scenario file's.
#[test]
fn command_line_counts_have_the_file_ranges_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    for (args, says) in [
        (vec!["--reps", "1000000000000"], "--reps: expected at most 1000000000 replicates"),
        (vec!["--threads", "100000000"], "--threads: expected at most 1024 threads"),
        (vec!["--seed", "18446744073709551615"], "--seed: expected an integer from 0 to 9223372036854775807"),
        (
            vec!["--reps", "10", "--export-patients", "11"],
            "--export-patients: expected at most the 10 replicates",
        ),
    ] {
        let mut a = vec!["run", "scenarios/ph.toml", "--quiet", "--out", o];
        a.extend(args);
        let r = run(&a).code(2);
        let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
        assert!(err.contains(says), "{a:?}: {err}");
        assert!(!out.exists(), "{a:?} created the output directory");
    }
    // The file's own seed range says the same.
    let sc = dir.path().join("big_seed.toml");
    let text =
        fs::read_to_string("scenarios/ph.toml").unwrap().replace("seed = 7", "seed = 18446744073709551615");
    fs::write(&sc, text).unwrap();
    let r = run(&["check", sc.to_str().unwrap()]).code(2);
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains(":9:8:") && err.contains("to 9223372036854775807"), "{err}");
}

/// An output directory that cannot be made is a bad argument found before the simulation.
#[test]
fn an_unusable_output_directory_is_found_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    fs::write(&file, "x").unwrap();
    let out = file.join("out");
    let r = run(&["run", "scenarios/ph.toml", "--quiet", "--reps", "100000", "--out", out.to_str().unwrap()])
        .code(2);
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains("output directory") && err.contains("cannot create or write it"), "{err}");
}

/// Runs trialsim with `args`; fails the test if it has not finished within a minute (a guard
/// against hangs, not a speed goal: these commands take well under a second).
fn finishes(args: &[&str]) -> std::process::Output {
    use std::process::{Command as Std, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("trialsim"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{args:?} did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A hazard that is 0 in one arm where the other's is not once made the average hazard ratio's
/// integrand infinite and the quadrature never returned (`check`, `run` and `sweep` hung).
#[test]
fn a_zero_hazard_ratio_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/ph.toml").unwrap().replace("hr = 0.7", "hr = 0");
    assert!(text.contains("hr = 0 "));
    let sc = dir.path().join("hr0.toml");
    fs::write(&sc, text).unwrap();
    let o = finishes(&["check", sc.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("o");
    let o =
        finishes(&["run", sc.to_str().unwrap(), "--reps", "200", "--quiet", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["tests"]["logrank"]["power"], 1.0, "no deaths at all in the experimental arm");
}

/// A rerun into the same directory leaves no file of an earlier run beside its own: exports it
/// was not asked for go, this crate's stale temporary files go, and nothing else is touched. A
/// second command writing to a directory in use is refused.
#[test]
fn reruns_replace_their_own_files_only_and_lock_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    run_to("scenarios/ph.toml", &out, &["--reps", "300", "--export-replicates", "--export-patients", "2"]);
    assert!(out.join("replicates.csv").exists() && out.join("patients.csv").exists());
    fs::write(out.join("notes.md"), "hand-written").unwrap();
    fs::write(out.join(".trialsim-tmpAbC123"), "left by a killed run").unwrap();
    fs::write(out.join(".tmp-not-ours"), "someone else's").unwrap();
    run_to("scenarios/ph.toml", &out, &["--reps", "300"]);
    let names: Vec<String> =
        fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    for gone in ["replicates.csv", "patients.csv", ".trialsim-tmpAbC123"] {
        assert!(!names.iter().any(|n| n == gone), "{gone} is still there: {names:?}");
    }
    for kept in ["notes.md", ".tmp-not-ours", "summary.json", "summary.md", "survival.svg"] {
        assert!(names.iter().any(|n| n == kept), "{kept} is gone: {names:?}");
    }
    // Hold the directory's lock as a running command would.
    let lock = fs::OpenOptions::new().write(true).open(out.join(".trialsim.lock")).unwrap();
    lock.try_lock().unwrap();
    let r = run(&["run", "scenarios/ph.toml", "--reps", "300", "--quiet", "--out", out.to_str().unwrap()])
        .code(2);
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains("another trialsim command is writing there"), "{err}");
    drop(lock);
    run_to("scenarios/ph.toml", &out, &["--reps", "300"]);
}

/// A file larger than any scenario is refused before it is read (a 64 MB file of unknown keys
/// once took 1.6 GB of memory).
#[test]
fn an_oversized_scenario_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("big.toml");
    let mut text = fs::read_to_string("scenarios/ph.toml").unwrap();
    while text.len() <= 1 << 20 {
        text.push_str("# padding padding padding padding padding padding padding padding padding\n");
    }
    fs::write(&sc, text).unwrap();
    let r = run(&["check", sc.to_str().unwrap()]).code(2);
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains("a scenario has at most 1048576"), "{err}");
}

/// Files that report no size, or a wrong one, are read only up to the cap (issue 21, cause 6):
/// `/dev/zero` once grew to 5 GB in 10 s.
#[cfg(unix)]
#[test]
fn a_device_or_pipe_is_read_only_up_to_the_cap() {
    let r = run(&["check", "/dev/zero"]).code(2);
    let err = String::from_utf8_lossy(&r.get_output().stderr).to_string();
    assert!(err.contains("/dev/zero") && err.contains("a scenario has at most 1048576"), "{err}");
    // A pipe that never ends (bash's process substitution).
    let bin = assert_cmd::cargo::cargo_bin("trialsim");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("'{}' check <(yes 'a = 1')", bin.display()))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("a scenario has at most 1048576"), "{err}");
}

/// A summary leaves out what it has nothing to say about: no survival table without horizons,
/// no "what a trial detects" table without periods or horizons; and a proportion of 0 or 1 is
/// printed without −0.0 and with an interval inside [0, 100]%.
#[test]
fn summary_omits_empty_sections_and_prints_no_negative_zero() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/ph.toml")
        .unwrap()
        .replace("tests = [\"logrank\", \"fh(0,1)\", \"fh(0,0)\", \"maxcombo\", \"cox\", \"cox_breslow\", \"cox_periods\", \"rmst\", \"milestone\"]", "tests = [\"logrank\"]")
        .replace("horizons = [1, 2, 3, 4]\n", "")
        .replace("periods = [2]\n", "");
    assert!(
        !text.contains("horizons") && !text.contains("periods") && text.contains("tests = [\"logrank\"]")
    );
    let sc = dir.path().join("bare.toml");
    fs::write(&sc, text).unwrap();
    let out = dir.path().join("o");
    run_to(sc.to_str().unwrap(), &out, &["--reps", "200"]);
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(!md.contains("## Survival"), "{md}");
    assert!(!md.contains("What a trial detects"), "{md}");
    assert!(!md.contains("-0.0") && !md.contains("−0.0"), "{md}");
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["shows"]["detects"]["available"], false, "{}", v["shows"]);
}

/// τ and the milestone beyond the data cut are never estimable: `check` and `run` warn, and the
/// summary prints "n/a" with the reason instead of "0.0% ± 0.0 (95% CI 0.0–1.9)".
#[test]
fn analysis_times_beyond_the_cut_are_warned_and_reported_as_not_available() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string("scenarios/ph.toml")
        .unwrap()
        .replace("tau = 4", "tau = 9")
        .replace("milestone = 3", "milestone = 8");
    assert!(text.contains("tau = 9") && text.contains("milestone = 8"));
    let sc = dir.path().join("late.toml");
    fs::write(&sc, text).unwrap();
    let o = finishes(&["check", sc.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("warning")
            && err.contains("`analysis.tau` = 9")
            && err.contains("`analysis.milestone` = 8"),
        "{err}"
    );
    let out = dir.path().join("o");
    let o = finishes(&["run", sc.to_str().unwrap(), "--reps", "200", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("`analysis.tau` = 9"));
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| `rmst` | n/a: `analysis.tau` = 9 is beyond the expected cut (5.0000)"), "{md}");
    assert!(md.contains("| `milestone` | n/a: `analysis.milestone` = 8"), "{md}");
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(2), "{}", v["warnings"]);
}

/// `run` prints its headline on stdout (power with MC error beside the type I error, the
/// crossing, events, where the files are); `--quiet` prints nothing at all.
#[test]
fn run_prints_a_headline_and_quiet_prints_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let o = finishes(&["run", "scenarios/astis.toml", "--reps", "300", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    let head = String::from_utf8_lossy(&o.stdout);
    for part in [
        "astis: 300 replicates",
        "Power",
        "logrank",
        "type I error",
        "Crossing  true",
        "Events    mean",
        "summary.md",
    ] {
        assert!(head.contains(part), "{part} missing from:\n{head}");
    }
    let q = finishes(&[
        "run",
        "scenarios/astis.toml",
        "--reps",
        "300",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(q.status.success());
    assert!(q.stdout.is_empty() && q.stderr.is_empty(), "{:?} {:?}", q.stdout, q.stderr);
}

/// Ctrl-C during an export leaves no temporary file and no summary.json (so no partial set
/// that looks complete).
#[cfg(unix)]
#[test]
fn an_interrupted_export_leaves_no_temporary_file() {
    use std::process::{Command as Std, Stdio};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let mut child = Std::new(assert_cmd::cargo::cargo_bin("trialsim"))
        .args(["run", "scenarios/ph.toml", "--reps", "1000000", "--export-replicates", "--threads", "1"])
        .args(["--quiet", "--out", out.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the replicates export is being written.
    let start = Instant::now();
    let temporary = || {
        fs::read_dir(&out)
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".trialsim-tmp")))
            .unwrap_or(false)
    };
    while !temporary() {
        assert!(start.elapsed() < Duration::from_secs(30), "no temporary file appeared");
        assert!(child.try_wait().unwrap().is_none(), "finished before it could be interrupted");
        std::thread::sleep(Duration::from_millis(10));
    }
    let kill = Std::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", String::from_utf8_lossy(&o.stderr));
    let left: Vec<String> =
        fs::read_dir(&out).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert!(left.iter().all(|f| !f.starts_with(".trialsim-tmp")), "{left:?}");
    assert!(!left.contains(&"summary.json".to_string()), "{left:?}");
}

/// Extreme accrual (10⁶ years, the longest allowed) under illness–death: the expected events
/// agree with the simulated mean. Survival far out underflows to 0, and the event density was
/// once computed as a hazard g/S times S, NaN there: "expected" was missing.
#[test]
fn expected_events_hold_for_the_longest_accrual() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("slow.toml");
    fs::write(
        &sc,
        r#"name = "slow"
[design]
n = 500
allocation = { hsct = 1 }
accrual = { duration = 1e6 }
[design.cut]
calendar = 1000010
[arms.cyc.causes]
disease_death = { exponential = 0.05 }
[arms.hsct]
dropout = 0.115
[arms.hsct.causes]
treatment_death = { early_risk = { risk = 0.09, within = 0.25 } }
disease_death = { relative = { to = "cyc", hr = 0.5 } }
progression = { piecewise = { breaks = [1], rates = [0.25, 0.1] } }
[arms.hsct.after.progression]
disease_death = 1000
[endpoints]
os = ["treatment_death", "disease_death"]
[analysis]
endpoint = "os"
tests = []
"#,
    )
    .unwrap();
    let out = dir.path().join("o");
    run_to(sc.to_str().unwrap(), &out, &["--reps", "1000"]);
    let v: Value = serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let (mean, expected) = (v["events"]["mean"].as_f64().unwrap(), v["events"]["expected"].as_f64().unwrap());
    // Events of 500 patients: binomial SD at most √(500/4) ≈ 11.2, so the MC SE of the mean of
    // 1000 replicates is at most 0.354.
    let se = (500.0f64 / 4.0).sqrt() / 1000f64.sqrt();
    assert!((mean - expected).abs() < 4.0 * se, "{mean} vs {expected}");
}
