//! Replicates per second on the ASTIS-like scenario: log-rank only; the spine's tests (log-rank,
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
use trialsim::truth::Truth;

const REPS: u64 = 20_000;

fn astis(tests: &str) -> Scenario {
    let text = std::fs::read_to_string("scenarios/astis.toml").expect("run from the crate root");
    let text = text
        .lines()
        .map(|l| if l.starts_with("tests = ") { format!("tests = {tests}") } else { l.to_string() })
        .collect::<Vec<_>>()
        .join("\n");
    Scenario::from_toml(&text, Path::new("astis.toml")).expect("valid")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("astis");
    g.sample_size(10);
    g.throughput(Throughput::Elements(REPS));
    for (label, tests) in [
        ("logrank", r#"["logrank"]"#),
        ("spine_all", r#"["logrank", "fh(0,1)", "rmst", "milestone"]"#),
        ("full_suite", r#"["logrank", "fh(0,1)", "maxcombo", "cox", "cox_periods", "rmst", "milestone"]"#),
    ] {
        let sc = astis(tests);
        let truth = Truth::compute(&sc);
        let layout = Layout::new(&sc, &truth);
        g.bench_function(label, |b| {
            b.iter(|| {
                let run = Run { scenario: &sc, layout: &layout, replicates: REPS, seed: 1, progress: None };
                simulate(&run, None)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
