//! Replicates per second on the ASTIS-like scenario: log-rank only (nothing else asked for); the
//! log-rank test with astis.toml's estimates; the spine's tests (log-rank,
//! FH(0,1), RMST, milestone); and the full crossing-hazards suite (adding MaxCombo, Cox Efron and
//! the time-varying Cox). Every variant also computes Kaplan–Meier at the horizons, RMST and
//! milestone estimates, the crossing and the band, as `trialsim run` does.
//!
//! `cargo bench --bench engine`; throughput is printed as elements (replicates) per second.
//! Runs on the global rayon pool (all cores), as `trialsim run` does.

use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use trialsim::engine::{Layout, Run, simulate};
use trialsim::scenario::Scenario;
use trialsim::summary::Summary;
use trialsim::truth::Truth;

const REPS: u64 = 20_000;

/// astis.toml with the given tests; `bare` also drops τ, the milestone, horizons and periods, so
/// that nothing but the tests (plus events, crossing and the band) is computed.
fn astis(tests: &str, bare: bool) -> Scenario {
    let text = std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root");
    let optional = ["tau = ", "milestone = ", "horizons = ", "periods = "];
    let text = text
        .lines()
        .filter(|l| !(bare && optional.iter().any(|o| l.starts_with(o))))
        .map(|l| if l.starts_with("tests = ") { format!("tests = {tests}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    Scenario::from_toml(&text, Path::new("astis.toml")).expect("valid")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("astis");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPS));
    for (label, tests, bare) in [
        // The issue's "log-rank only": the scenario asks for the log-rank test and nothing else.
        ("logrank_only", r#"["logrank"]"#, true),
        // Log-rank test, but every estimate of astis.toml (KM at horizons, RMST, milestone,
        // per-period detection) still reported.
        ("logrank", r#"["logrank"]"#, false),
        ("spine_all", r#"["logrank", "fh(0,1)", "rmst", "milestone"]"#, false),
        (
            "full_suite",
            r#"["logrank", "fh(0,1)", "maxcombo", "cox", "cox_periods", "rmst", "milestone"]"#,
            false,
        ),
    ] {
        replicates_per_second(&mut g, label, &astis(tests, bare));
    }
    g.finish();
}

/// One benchmark: REPS replicates of `sc`, as `trialsim run` simulates them.
fn replicates_per_second(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    label: &str,
    sc: &Scenario,
) {
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    g.bench_function(label, |b| {
        b.iter(|| {
            let run = Run { scenario: sc, layout: &layout, replicates: REPS, seed: 1, progress: None };
            simulate::<Summary>(&run, None)
        })
    });
}

/// The issue's sweep benchmark: 100 points × 10,000 replicates of the ASTIS-like design
/// (n about 156, log-rank), into a fresh directory each time (nothing reused).
fn sweep(c: &mut Criterion) {
    use trialsim::scenario::overrides::Template;
    use trialsim::sweep::{Axis, SweepSettings, run_sweep, validate};
    let dir = std::env::temp_dir().join("trialsim-bench-sweep");
    let text = std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root");
    let text = text
        .lines()
        .map(|l| if l.starts_with("tests = ") { r#"tests = ["logrank"]"#.to_string() } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("astis_logrank.toml");
    std::fs::write(&path, text).expect("write scenario");
    let template = Template::from_path(&path).expect("valid");
    let seed = template.apply(&[]).expect("valid").0.simulation.seed;
    let axes = [
        Axis::parse("design.n=146:164:2").expect("axis"),
        Axis::parse("arms.hsct.causes.treatment_death.early_risk.risk=0.02:0.2:0.02").expect("axis"),
    ];
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(100 * 10_000));
    let mut run = 0u64;
    g.bench_function("100_points_x_10000_logrank", |b| {
        b.iter(|| {
            run += 1;
            let opts = SweepSettings {
                replicates: 10_000,
                seed,
                out: dir.join(format!("out{run}")),
                shard: None,
                limit: None,
            };
            let grid = validate(&template, &axes, false, &opts).expect("a valid grid");
            let o = run_sweep(&template, &axes, false, &opts, grid, |_, _| {}).expect("sweep runs");
            assert_eq!(o.computed, 100);
            let _ = std::fs::remove_dir_all(dir.join(format!("out{run}")));
        })
    });
    g.finish();
}

/// The issue's monitoring benchmark: a 3-look log-rank design (looks at 17 and 34 of 51 events,
/// O'Brien–Fleming efficacy, non-binding β-spending futility) with a safety rule on transplant
/// deaths, against the same event-driven fixed design. The goal: monitored ≥ 60% of the fixed
/// design's replicates per second (event-driven looks, so the bounds are computed once).
fn monitoring(c: &mut Criterion) {
    let fixed = {
        let text = std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root");
        text.lines()
            .map(|l| match l {
                _ if l.starts_with("tests = ") => r#"tests = ["logrank"]"#.to_string(),
                _ if l.starts_with("calendar = 12.6") => "events = 51".to_string(),
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let monitored = format!(
        "{fixed}\n[monitoring]\nlooks = [{{ events = 17 }}, {{ events = 34 }}]\n[monitoring.futility]\nspending = {{ hsd = -2 }}\n\
         [monitoring.safety]\ncause = \"treatment_death\"\narm = \"hsct\"\nwindow = 0.25\nafter = [20, 40, 60]\nstop_if_at_least = [5, 8, 10]\n"
    );
    let mut g = c.benchmark_group("monitoring");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPS));
    for (label, text) in [("fixed_event_driven", fixed.clone()), ("three_looks_futility_safety", monitored)] {
        replicates_per_second(
            &mut g,
            label,
            &Scenario::from_toml(&text, Path::new("astis.toml")).expect("valid"),
        );
    }
    // Issue 26's target: information looks whose fractions vary by trial (hsct_monitoring.toml:
    // FH(0,1) and log-rank monitored at a third and two thirds of the expected information, with
    // β-spending futility and the safety rule) against the same design unmonitored; the goal is
    // ≥ 0.6 of its replicates per second.
    let hsct = std::fs::read_to_string("scenarios/hsct_monitoring.toml").expect("run from the crate root");
    let unmonitored: String = hsct.split("\n[monitoring").next().expect("text").to_string();
    // The FH(0,1) design alone (the log-rank test's looks and bounds left out).
    let fh_only =
        hsct.replacen("tests = [\"logrank\", \"fh(0,1)\"]\nlooks", "tests = [\"fh(0,1)\"]\nlooks", 1);
    assert_ne!(fh_only, hsct, "hsct_monitoring.toml monitors log-rank and FH(0,1)");
    for (label, text) in [
        ("hsct_unmonitored", unmonitored),
        ("hsct_information_looks", hsct),
        ("hsct_fh_information_looks", fh_only),
    ] {
        replicates_per_second(
            &mut g,
            label,
            &Scenario::from_toml(&text, Path::new("hsct_monitoring.toml")).expect("valid"),
        );
    }
    g.finish();
}

/// The two companion runs of `trialsim run` on the calibrated model (`hsct_ssc.toml`, every test
/// it lists, mw and robust_mw among them): REPS replicates of the identical-arms copy and of the
/// never-better copy (same layout) beside the scenario's own, and solving the never-better
/// boundary itself. The issue's
/// goal: the never-better copy costs no more than the identical-arms copy.
fn copies(c: &mut Criterion) {
    use trialsim::engine::null_scenario;
    use trialsim::scenario::overrides::Template;
    use trialsim::truth::never_better::solve;
    let path = Path::new("scenarios/hsct_ssc.toml");
    let mut sc = Scenario::from_path(path).expect("valid");
    // The copies are compared without the per-trial extrapolation (`long_term` measures it).
    if let Some(lt) = sc.analysis.long_term.as_mut() {
        lt.extrapolation = None;
    }
    let template = Template::from_path(path).expect("valid");
    let boundary = solve(&template, &[], &sc).expect("solvable").expect("hsct_ssc has the table");
    let null = null_scenario(&sc).expect("two arms");
    let truth = Truth::compute(&sc);
    let layout = Layout::new(&sc, &truth);
    let mut g = c.benchmark_group("copies");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPS));
    // The scenario itself for scale: the never-better copy has its causes (the identical-arms
    // copy has one fewer: no transplant deaths to draw).
    for (label, copy) in [("scenario", &sc), ("identical_arms", &null), ("never_better", &boundary.scenario)]
    {
        g.bench_function(label, |b| {
            b.iter(|| {
                let run = Run { scenario: copy, layout: &layout, replicates: REPS, seed: 1, progress: None };
                simulate::<Summary>(&run, None)
            })
        });
    }
    g.throughput(Throughput::Elements(1));
    g.bench_function("solve_boundary", |b| b.iter(|| solve(&template, &[], &sc)));
    g.finish();
}

/// Issue 25's costs on the calibrated model (hsct_ssc.toml): the true long-term curves
/// (`Truth::compute` with and without `[analysis.long_term]`: the goal is < 10 ms more), and a
/// 10⁴-trial run as `trialsim run` simulates it (the identical-arms copy included) with and
/// without the per-trial extrapolation fits (Weibull and piecewise exponential per arm, to 10
/// and 15 years; the goal is < 2× the time without).
fn long_term(c: &mut Criterion) {
    use trialsim::run::{SimulateOptions, simulate_scenario};
    let with = Scenario::from_path(Path::new("scenarios/hsct_ssc.toml")).expect("valid");
    let mut truth_only = with.clone();
    if let Some(lt) = truth_only.analysis.long_term.as_mut() {
        lt.extrapolation = None;
    }
    let mut neither = truth_only.clone();
    neither.analysis.long_term = None;
    let mut g = c.benchmark_group("long_term");
    g.sample_size(10);
    g.bench_function("truth_without_long_term", |b| b.iter(|| Truth::compute(&neither)));
    g.bench_function("truth_with_long_term", |b| b.iter(|| Truth::compute(&truth_only)));
    for (label, sc) in [("run_10000_without_fits", &truth_only), ("run_10000_with_fits", &with)] {
        g.bench_function(label, |b| {
            b.iter(|| {
                let opts = SimulateOptions {
                    replicates: 10_000,
                    seed: 1,
                    null_copy: true,
                    never_better: None,
                    progress: &|_| {},
                    cancel: None,
                    prior: None,
                };
                simulate_scenario(sc, &opts, None)
            })
        });
    }
    g.finish();
}

/// Issue 28's targets: a two-stratum run at least 0.8× the same run unstratified (the strata's
/// draws, per-(stratum, arm) hazards and the per-stratum subgroup estimates included), and the
/// stratified log-rank test no slower than 1.2× the unstratified one on the same two-stratum
/// scenario. astis.toml with its estimates; the strata split the transplant-related risk 30/70
/// (20% and 6%), permuted blocks within strata. Measured with the log-rank test alone (where the
/// subgroup estimates weigh most: two Cox fits and the strata's Kaplan–Meier against one test) and
/// with astis.toml's own nine tests.
fn strata(c: &mut Criterion) {
    const STRATA: &str = "\n[strata.high_risk]\nshare = 0.3\narms.hsct.causes.treatment_death = { early_risk = { risk = 0.20, within = 0.25 } }\n[strata.standard]\nshare = 0.7\narms.hsct.causes.treatment_death = { early_risk = { risk = 0.06, within = 0.25 } }\n";
    // `tests` replaces astis.toml's list; `None` keeps it.
    let with_strata = |tests: Option<&str>| {
        let text = std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root");
        let text = text
            .lines()
            .map(|l| match (l, tests) {
                (l, Some(tests)) if l.starts_with("tests = ") => format!("tests = {tests}"),
                (l, _) if l.starts_with("block_size = ") => {
                    format!("{l}\nrandomisation = \"stratified_blocks\"")
                }
                (l, _) => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        Scenario::from_toml(&(text + STRATA), Path::new("astis_strata.toml")).expect("valid")
    };
    let mut g = c.benchmark_group("strata");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPS));
    replicates_per_second(&mut g, "unstratified_logrank", &astis(r#"["logrank"]"#, false));
    replicates_per_second(&mut g, "two_strata_logrank", &with_strata(Some(r#"["logrank"]"#)));
    let mut without = with_strata(Some(r#"["logrank"]"#));
    without.analysis.subgroups = false;
    replicates_per_second(&mut g, "two_strata_logrank_no_subgroups", &without);
    replicates_per_second(
        &mut g,
        "two_strata_stratified_logrank",
        &with_strata(Some(r#"["logrank[strata]"]"#)),
    );
    let astis_tests = Scenario::from_toml(
        &std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root"),
        Path::new("astis.toml"),
    )
    .expect("valid");
    replicates_per_second(&mut g, "unstratified_astis_tests", &astis_tests);
    replicates_per_second(&mut g, "two_strata_astis_tests", &with_strata(None));
    g.finish();
}

/// Issue 29's targets: 10⁴ replicates of n = 156 with SCOT's five-layer composite (`win(gcrs)`)
/// and the usual tests (log-rank, MaxCombo, MW, RMST, milestone) in ≤ 5 s on 2 threads (≥ 2,000
/// replicates/s), and of n = 1,000 in ≤ 60 s (≥ 167 replicates/s). scenarios/scot_design.toml
/// made 1:1 in blocks of 4.
fn composite(c: &mut Criterion) {
    let scot = |n: usize| {
        let text = std::fs::read_to_string("scenarios/scot_design.toml").expect("run from the crate root");
        let text = text
            .replace("n = 75", &format!("n = {n}"))
            .replace("allocation = { cyc = 39, hsct = 36 }", "allocation = { cyc = 1, hsct = 1 }")
            .replace("block_size = 75", "block_size = 4");
        Scenario::from_toml(&text, Path::new("scot_design.toml")).expect("valid")
    };
    let mut g = c.benchmark_group("composite");
    g.sample_size(10);
    for (label, n, reps) in [("scot_n156_10k", 156, 10_000), ("scot_n1000_1k", 1000, 1_000)] {
        g.throughput(Throughput::Elements(reps));
        let sc = scot(n);
        let layout = Layout::new(&sc, &Truth::compute(&sc));
        g.bench_function(label, |b| {
            b.iter(|| {
                let run = Run { scenario: &sc, layout: &layout, replicates: reps, seed: 1, progress: None };
                simulate::<Summary>(&run, None)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, sweep, monitoring, copies, long_term, strata, composite);
criterion_main!(benches);
