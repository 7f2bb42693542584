//! Sweeps: resume after interruption, shards and merge, fingerprints, bad grids.

use std::fs;
use std::path::Path;
use std::process::{Command as Std, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;

const SCENARIO: &str = "scenarios/ph.toml";
const GRID: [&str; 4] =
    ["--set", "design.n=200:400:100", "--set", "arms.experimental.causes.death.relative.hr=0.6,0.8"];

fn sweep(out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["sweep", SCENARIO, "--reps", "400", "--quiet", "--out", out.to_str().unwrap()];
    args.extend_from_slice(&GRID);
    args.extend_from_slice(extra);
    let a = Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
    String::from_utf8_lossy(&a.get_output().stderr).to_string()
}

#[test]
fn interrupted_sweep_resumes_to_the_same_csv() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, parts) = (dir.path().join("whole"), dir.path().join("parts"));
    let msg = sweep(&whole, &[]);
    assert!(msg.contains("sweep: 6 points, 0 reused, 6 computed"), "{msg}");
    let msg = sweep(&parts, &["--limit", "2"]);
    assert!(msg.contains("sweep: 6 points, 0 reused, 2 computed") && msg.contains("incomplete"), "{msg}");
    assert!(!parts.join("sweep.csv").exists());
    let msg = sweep(&parts, &[]);
    assert!(msg.contains("sweep: 6 points, 2 reused, 4 computed"), "{msg}");
    assert_eq!(fs::read(whole.join("sweep.csv")).unwrap(), fs::read(parts.join("sweep.csv")).unwrap());
    assert_eq!(fs::read(whole.join("sweep.md")).unwrap(), fs::read(parts.join("sweep.md")).unwrap());
    // Even with --quiet the summary line is printed; a rerun computes nothing.
    let msg = sweep(&parts, &[]);
    assert!(msg.contains("sweep: 6 points, 6 reused, 0 computed"), "{msg}");
    // An incomplete rerun with other replicates leaves no table of the old sweep beside its
    // manifest (issue 21, cause 14); completing it writes them again.
    let mut args = vec!["sweep", SCENARIO, "--reps", "300", "--quiet", "--limit", "1", "--out"];
    args.push(parts.to_str().unwrap());
    args.extend_from_slice(&GRID);
    Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
    for f in ["sweep.csv", "sweep.md", "report.html", "power_logrank.svg"] {
        assert!(!parts.join(f).exists(), "{f} of the old sweep removed");
    }
    assert!(parts.join("sweep.json").exists());
}

/// Finished point records (not the atomic writer's temporary files).
fn json_files(dir: &Path) -> usize {
    fs::read_dir(dir)
        .map(|d| {
            d.filter(|e| e.as_ref().is_ok_and(|e| e.path().extension().is_some_and(|x| x == "json"))).count()
        })
        .unwrap_or(0)
}

#[test]
fn a_killed_sweep_loses_nothing_finished() {
    let dir = tempfile::tempdir().unwrap();
    let (whole, killed) = (dir.path().join("whole"), dir.path().join("killed"));
    let bin = assert_cmd::cargo::cargo_bin("trialsim");
    let args = |out: &Path| {
        let mut a: Vec<String> =
            ["sweep", SCENARIO, "--reps", "20000", "--quiet", "--out"].map(String::from).to_vec();
        a.push(out.to_str().unwrap().to_string());
        a.extend(GRID.map(String::from));
        a
    };
    let mut child = Std::new(&bin).args(args(&killed)).stderr(Stdio::null()).spawn().unwrap();
    // Kill it once the first point is on disk (or give up waiting after a minute).
    let start = Instant::now();
    let points = killed.join("points");
    while start.elapsed() < Duration::from_secs(60) {
        if json_files(&points) >= 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = json_files(&points);
    assert!(finished >= 1, "no point finished before the kill");
    let out = Std::new(&bin).args(args(&killed)).output().unwrap();
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{msg}");
    assert!(msg.contains(&format!("{finished} reused")), "finished points reused: {msg}");
    assert_eq!(fs::read_dir(&points).unwrap().count(), 6, "temporary files of the killed run are gone");
    let out = Std::new(&bin).args(args(&whole)).output().unwrap();
    assert!(out.status.success());
    assert_eq!(fs::read(whole.join("sweep.csv")).unwrap(), fs::read(killed.join("sweep.csv")).unwrap());
}

#[test]
fn shards_merge_to_the_unsplit_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    sweep(&whole, &[]);
    let mut shard_dirs = Vec::new();
    for i in 1..=3 {
        let d = dir.path().join(format!("shard{i}"));
        let msg = sweep(&d, &["--shard", &format!("{i}/3")]);
        assert!(msg.contains("sweep: 2 points, 0 reused, 2 computed"), "{msg}");
        shard_dirs.push(d);
    }
    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string()];
    args.extend(shard_dirs.iter().map(|d| d.to_str().unwrap().to_string()));
    args.extend(["--out".to_string(), merged.to_str().unwrap().to_string()]);
    Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
    for f in ["sweep.csv", "sweep.md", "power_logrank.svg", "report.html"] {
        assert_eq!(fs::read(whole.join(f)).unwrap(), fs::read(merged.join(f)).unwrap(), "{f}");
    }
    // Two shards are not the whole sweep.
    let partial = dir.path().join("partial");
    Command::cargo_bin("trialsim")
        .unwrap()
        .args(["merge", shard_dirs[0].to_str().unwrap(), shard_dirs[1].to_str().unwrap(), "--out"])
        .arg(&partial)
        .assert()
        .code(2);
}

/// A point record edited by hand (or damaged) fails its checksum: `merge` and a resumed sweep
/// refuse it with exit 2, naming the file; a record without a checksum (an older trialsim's) is
/// refused with "rerun this shard" (issue 21, cause 13).
#[test]
fn an_edited_point_record_is_refused_by_merge_and_resume() {
    let dir = tempfile::tempdir().unwrap();
    let shards: Vec<_> = (1..=2).map(|i| dir.path().join(format!("shard{i}"))).collect();
    for (i, d) in shards.iter().enumerate() {
        sweep(d, &["--shard", &format!("{}/2", i + 1)]);
    }
    let record = shards[0].join("points").join("000000.json");
    let text = fs::read_to_string(&record).unwrap();
    assert!(text.contains("\"checksum\":\""), "{text}");
    let merge = |out: &Path| {
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .args(["merge", shards[0].to_str().unwrap(), shards[1].to_str().unwrap(), "--out"])
            .arg(out)
            .assert();
        let code = a.get_output().status.code();
        (code, String::from_utf8_lossy(&a.get_output().stderr).to_string())
    };
    assert_eq!(merge(&dir.path().join("ok")).0, Some(0));
    // `--out` naming a file, or a device: exit 2 and one message (the OS error was printed
    // twice with exit 1) (issue 21, cause 15).
    let file = dir.path().join("a_file");
    fs::write(&file, "x").unwrap();
    for out in [file.as_path(), Path::new("/dev/full")] {
        let (code, err) = merge(out);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("cannot create or write it"), "{err}");
        assert_eq!(err.matches("os error").count(), 1, "the OS error once: {err}");
    }
    // One power changed in its last digit.
    let at = text.find("\"value\":0.").expect("a value") + "\"value\":0.".len();
    let digit = text.as_bytes()[at];
    let edited = format!(
        "{}{}{}",
        &text[..at],
        if digit == b'9' { '8' } else { (digit + 1) as char },
        &text[at + 1..]
    );
    fs::write(&record, &edited).unwrap();
    let (code, err) = merge(&dir.path().join("edited"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("000000.json") && err.contains("checksum"), "{err}");
    let a = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["sweep", SCENARIO, "--reps", "400", "--quiet", "--shard", "1/2", "--out"])
        .arg(&shards[0])
        .args(GRID)
        .assert()
        .code(2);
    assert!(String::from_utf8_lossy(&a.get_output().stderr).contains("checksum"));
    // Without a checksum: an older record.
    let start = text.find(",\"checksum\"").unwrap();
    let end = text[start..].find('}').unwrap() + start;
    fs::write(&record, format!("{}{}", &text[..start], &text[end..])).unwrap();
    let (code, err) = merge(&dir.path().join("old"));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("rerun this shard"), "{err}");
}

#[test]
fn a_changed_command_never_reuses_a_stale_point() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    sweep(&out, &[]);
    let first = fs::read(out.join("sweep.csv")).unwrap();
    let msg = sweep(&out, &["--seed", "8"]);
    assert!(msg.contains("0 reused, 6 computed"), "{msg}");
    assert_ne!(first, fs::read(out.join("sweep.csv")).unwrap());
}

#[test]
fn common_random_numbers_make_power_curves_smooth() {
    // Same seed at every point: power increases with n without a single dip at 400 replicates,
    // where independent runs would dip often (MC SE ≈ 0.024).
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let a = Command::cargo_bin("trialsim")
        .unwrap()
        .args(["sweep", SCENARIO, "--reps", "400", "--quiet", "--set", "design.n=200:400:20", "--out"])
        .arg(&out)
        .assert()
        .success();
    let _ = a;
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    let power: Vec<f64> = csv
        .lines()
        .filter(|l| l.contains(",power.logrank,"))
        .map(|l| l.split(',').nth(3).unwrap().parse().unwrap())
        .collect();
    assert_eq!(power.len(), 11);
    let dips = power.windows(2).filter(|w| w[1] < w[0] - 0.01).count();
    assert!(dips == 0, "power curve {power:?}");
}

#[test]
fn bad_sweeps_are_clear_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 7] = [
        (&["--set", "design.nn=1,2"], "unknown field `nn`"),
        (&["--set", "design.control=1"], "not a number"),
        (&["--set", "design.n=400:100:50"], "empty"),
        (&["--set", "design.n=1,100"], "`design.n`"),
        (&["--set", "design.n=100", "--shard", "0/3"], "--shard"),
        (&["--set", "design.n=100", "--shard", "4/3"], "--shard"),
        (&["--set", "design.n=100,200", "--set", "arms.control.dropout=0.1", "--zip"], "equal length"),
    ];
    for (i, (args, expect)) in cases.iter().enumerate() {
        let out = dir.path().join(format!("o{i}"));
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .args(["sweep", SCENARIO, "--quiet", "--out", out.to_str().unwrap()])
            .args(*args)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains(expect), "{args:?}: no `{expect}` in {err}");
        assert!(!out.exists(), "{args:?}: wrote {}", out.display());
    }
}

#[test]
fn reused_points_take_the_current_grid_labels() {
    // The same scenarios reached with the keys in the other order: every point is reused, and
    // the CSV is labelled by the current command's keys.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s");
    let run = |sets: &[&str]| {
        let mut args = vec!["sweep", SCENARIO, "--reps", "200", "--quiet", "--out", out.to_str().unwrap()];
        args.extend_from_slice(sets);
        let a = Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
        String::from_utf8_lossy(&a.get_output().stderr).to_string()
    };
    run(&["--set", "design.n=200,300", "--set", "design.cut.calendar=4"]);
    let msg = run(&["--set", "design.cut.calendar=4", "--set", "design.n=200,300"]);
    assert!(msg.contains("2 reused, 0 computed"), "{msg}");
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(csv.starts_with("point,design.cut.calendar,design.n,metric"), "{}", &csv[..80]);
    assert!(csv.lines().nth(1).unwrap().starts_with("0,4,200,"), "{}", csv.lines().nth(1).unwrap());
    // Spelling out a default adds a column without breaking the CSV.
    let msg = run(&["--set", "design.n=200,300", "--set", "design.cut.calendar=5"]);
    assert!(msg.contains("sweep: 2 points"), "{msg}");
}

/// The fingerprint covers only what changes a point's numbers: a new title or `[sweep]` table
/// reuses every point of a resumed sweep; a model, design or analysis edit recomputes them all.
#[test]
fn label_and_sweep_table_edits_reuse_points_model_edits_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(SCENARIO).unwrap();
    let scenario = dir.path().join("s.toml");
    let out = dir.path().join("out");
    let run = |text: &str| {
        fs::write(&scenario, text).unwrap();
        let mut args = vec!["sweep", scenario.to_str().unwrap(), "--reps", "200", "--quiet"];
        args.extend(["--out", out.to_str().unwrap()]);
        args.extend_from_slice(&GRID);
        let a = Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
        String::from_utf8_lossy(&a.get_output().stderr).to_string()
    };
    let msg = run(&text);
    assert!(msg.contains("sweep: 6 points, 0 reused, 6 computed"), "{msg}");
    let csv = fs::read(out.join("sweep.csv")).unwrap();
    let relabelled = text.replacen("title = ", "title = \"renamed\"\n# was: ", 1)
        + "\n[sweep]\nset = [\"design.n=100,200\"]\n";
    assert_ne!(relabelled, text);
    let msg = run(&relabelled);
    assert!(msg.contains("sweep: 6 points, 6 reused, 0 computed"), "{msg}");
    assert_eq!(fs::read(out.join("sweep.csv")).unwrap(), csv, "reused points give the same table");
    let remodelled = relabelled.replacen("alpha = 0.025", "alpha = 0.05", 1);
    assert_ne!(remodelled, relabelled, "the edit reached the analysis");
    let msg = run(&remodelled);
    assert!(msg.contains("sweep: 6 points, 0 reused, 6 computed"), "{msg}");
}

/// A merge job on another node has no scenario file where the shards read it: the merge works
/// from the shards' own manifests (issue: "cannot read the scenario" once the file had moved).
#[test]
fn merge_needs_no_scenario_file() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole");
    sweep(&whole, &[]);
    let copy = dir.path().join("moved.toml");
    fs::copy(SCENARIO, &copy).unwrap();
    let mut shard_dirs = Vec::new();
    for i in 1..=2 {
        let d = dir.path().join(format!("shard{i}"));
        let mut args =
            vec!["sweep", copy.to_str().unwrap(), "--reps", "400", "--quiet", "--out", d.to_str().unwrap()];
        args.extend_from_slice(&GRID);
        let shard = format!("{i}/2");
        args.extend_from_slice(&["--shard", &shard]);
        Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
        shard_dirs.push(d);
    }
    fs::remove_file(&copy).unwrap();
    let merged = dir.path().join("merged");
    Command::cargo_bin("trialsim")
        .unwrap()
        .arg("merge")
        .args(&shard_dirs)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    for f in ["sweep.csv", "sweep.md", "power_logrank.svg"] {
        assert_eq!(fs::read(whole.join(f)).unwrap(), fs::read(merged.join(f)).unwrap(), "{f}");
    }
    // The report names the file the shards ran, and is otherwise the unsplit sweep's.
    let page = fs::read_to_string(merged.join("report.html")).unwrap();
    assert!(page.contains("trialsim sweep moved.toml --seed"), "the canonical command names the file run");
    let name = Path::new(SCENARIO).file_name().unwrap().to_str().unwrap();
    assert_eq!(page.replace("moved.toml", name), fs::read_to_string(whole.join("report.html")).unwrap());
}

/// A grid is counted before any work: 2·10⁶ points are refused at once in one sweep, and with
/// too few shards (exit 2, the sizes named and the shards needed, nothing created), where
/// listing them once took a minute and gigabytes. Sharded small enough, the same grid runs:
/// the shard validates and lists only its own points.
#[test]
fn an_oversized_grid_is_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("huge");
    let huge = |extra: &[&str]| {
        let mut c = Command::cargo_bin("trialsim").unwrap();
        c.args(["sweep", SCENARIO, "--reps", "10", "--quiet"])
            .args(["--set", "design.n=100:1099:1", "--set", "arms.control.dropout=0.001:1:0.001"])
            .args(["--set", "arms.experimental.causes.death.relative.hr=0.6,0.7", "--out"])
            .arg(&out)
            .args(extra);
        c.assert()
    };
    let a = huge(&[]).code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("2000000 points") && err.contains("at most 1000000"), "{err}");
    assert!(err.contains("--shard I/N for N ≥ 2"), "{err}");
    assert!(!out.exists(), "nothing may be created");
    let a = huge(&["--shard", "1/1"]).code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("at most 1000000") && err.contains("N ≥ 2"), "{err}");
    assert!(!out.exists(), "nothing may be created");

    // Shard 2 of 4000 has 500 points: it runs (one point here, --limit 1).
    let a = huge(&["--shard", "2/4000", "--limit", "1"]).success();
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("sweep: 500 points, 0 reused, 1 computed"), "{err}");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(manifest["shard"], serde_json::json!([2, 4000]));
    assert_eq!(manifest["fingerprints"].as_array().unwrap().len(), 500, "its own points only");
    assert!(out.join("points/000001.json").exists(), "shard 2's first point is point 1");
    // One shard is not the sweep.
    let merged = dir.path().join("merged");
    let a = Command::cargo_bin("trialsim")
        .unwrap()
        .arg("merge")
        .arg(&out)
        .arg("--out")
        .arg(&merged)
        .assert()
        .code(2);
    let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
    assert!(err.contains("1999500 of 2000000 points are in none of the directories"), "{err}");
}

/// Shards of one grid run from different scenarios, or with different seeds, are refused by
/// `merge` (exit 2, nothing written): their points are not one sweep.
#[test]
fn merge_refuses_shards_of_different_sweeps() {
    let dir = tempfile::tempdir().unwrap();
    let edited = dir.path().join("edited.toml");
    fs::write(
        &edited,
        fs::read_to_string(SCENARIO).unwrap().replacen("exponential = 0.15", "exponential = 0.2", 1),
    )
    .unwrap();
    let shard = |scenario: &Path, i: usize, name: &str, seed: &str| {
        let d = dir.path().join(name);
        let s = format!("{i}/2");
        let mut args = vec!["sweep", scenario.to_str().unwrap(), "--reps", "200", "--quiet", "--seed", seed];
        args.extend(["--out", d.to_str().unwrap(), "--shard", &s]);
        args.extend_from_slice(&GRID);
        Command::cargo_bin("trialsim").unwrap().args(&args).assert().success();
        d
    };
    let one = shard(Path::new(SCENARIO), 1, "one", "5");
    let other_model = shard(&edited, 2, "two_edited", "5");
    let other_seed = shard(Path::new(SCENARIO), 2, "two_seed", "6");
    for (two, why) in [(&other_model, "their scenarios differ"), (&other_seed, "seed")] {
        let merged = dir.path().join("merged");
        let a = Command::cargo_bin("trialsim")
            .unwrap()
            .arg("merge")
            .arg(&one)
            .arg(two)
            .arg("--out")
            .arg(&merged)
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains("not shards of the same sweep") && err.contains(why), "{err}");
        assert!(!merged.exists(), "nothing written");
    }
    let good = shard(Path::new(SCENARIO), 2, "two", "5");
    let merged = dir.path().join("merged");
    Command::cargo_bin("trialsim")
        .unwrap()
        .arg("merge")
        .arg(&one)
        .arg(&good)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
}
