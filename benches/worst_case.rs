//! The explorer's capped worst case, timed against its request budget: the largest request the
//! caps let through, computed by the explorer's own path (validation, then the pass with the
//! identical-arms copy where it has one). Not a criterion benchmark: one of these requests takes
//! seconds, and what matters is that it ends well within `REQUEST_BUDGET`, so each is run once
//! and its wall time printed beside the budget.
//!
//! The cases (2 cores, the explorer's pool):
//! - `monitored`: the most interim looks (10, information fractions) for two monitored tests,
//!   log-rank and FH(0,1) (each FH look places its cut by bisection: 21 analyses), the most
//!   safety reviews (100, a rule that never stops), O'Brien–Fleming efficacy and harm spending,
//!   identical arms but for the transplant deaths (so that few trials stop early), and the
//!   largest n the work cap allows for the quick pass, then for the refined pass;
//! - `unmonitored`: the largest n the work cap allows for a quick pass of the calibrated model.
//!
//! `cargo bench --bench worst_case`. Exits 1 if any case outlasts the budget.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use trialsim::explorer::REQUEST_BUDGET;
use trialsim::explorer::compute::{MAX_PATIENTS, ScenarioRun, Stage};
use trialsim::monitoring::analyses_per_trial;
use trialsim::scenario::Scenario;

fn monitored(n: usize, replicates: u64) -> String {
    let base = std::fs::read_to_string("scenarios/hsct_ssc.toml").expect("shipped scenario");
    let mut text = base
        .replace("\"cox_periods\"]", "\"cox_periods\", \"fh(0,1)\"]")
        .replace("hr = [0.6535, 0.3445]", "hr = [1, 1]");
    text = replace_line(&text, "n = ", &format!("n = {n}"));
    text = replace_line(&text, "replicates = ", &format!("replicates = {replicates}"));
    let looks: Vec<String> = (1..=10).map(|k| format!("{{ fraction = {:.2} }}", 0.08 * k as f64)).collect();
    let reviews: Vec<String> = (1..=100).map(|k| (k * (n / 250).max(1)).to_string()).collect();
    text.push_str(&format!(
        "\n[monitoring]\ntests = [\"logrank\", \"fh(0,1)\"]\nlooks = [{}]\n\
         [monitoring.efficacy]\nspending = \"obrien_fleming\"\n\
         [monitoring.harm]\nspending = \"pocock\"\nalpha = 0.1\n\
         [monitoring.safety]\ncause = \"treatment_death\"\ncompeting = [\"disease_death\"]\narm = \"hsct\"\n\
         window = 0.25\nafter = [{}]\nstop_if_at_least = [{}]\n",
        looks.join(", "),
        reviews.join(", "),
        reviews.join(", ")
    ));
    text
}

/// `text` with its first line starting with `start` replaced by `line`.
fn replace_line(text: &str, start: &str, line: &str) -> String {
    let mut done = false;
    text.lines()
        .map(|l| {
            if !done && l.starts_with(start) {
                done = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// Runs one request as the explorer does (validation, then the pass) and returns its seconds.
fn time(label: &str, text: &str, stage: Stage) -> f64 {
    let started = Instant::now();
    let run = ScenarioRun::prepare("worst.toml", text, stage)
        .unwrap_or_else(|r| panic!("{label}: refused: {}", r.message));
    let never = AtomicBool::new(false);
    let result = run.simulate(&|_| {}, &never).expect("not cancelled");
    assert!(result.is_ok(), "{label}: {result:?}");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{label:<44} n = {:>7}, {:>6} replicates in all: {seconds:6.1} s (budget {} s)",
        run.scenario.design.n,
        run.total(),
        REQUEST_BUDGET.as_secs()
    );
    seconds
}

fn main() {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("a pool");
    // The analyses per trial of the monitored case, from a small copy of it.
    let small = Scenario::from_toml(&monitored(2000, 2000), std::path::Path::new("worst.toml"))
        .expect("the worst case is a valid scenario");
    let analyses = analyses_per_trial(&small);
    let quick_n = (MAX_PATIENTS / (2000 * analyses)) as usize;
    let refined_reps = 2000;
    let refined_n = (MAX_PATIENTS / (2 * refined_reps * analyses)) as usize;
    let plain_n = (MAX_PATIENTS / 2000) as usize;
    let plain = replace_line(
        &std::fs::read_to_string("scenarios/hsct_ssc.toml").expect("shipped scenario"),
        "n = ",
        &format!("n = {plain_n}"),
    );
    println!(
        "work cap {MAX_PATIENTS} patients analysed; the monitored case analyses each trial {analyses} times"
    );
    let times = pool.install(|| {
        [
            time("monitored, quick pass", &monitored(quick_n, 2000), Stage::Quick),
            time(
                "monitored, refined pass (identical-arms copy)",
                &monitored(refined_n, refined_reps),
                Stage::Refined,
            ),
            time("unmonitored, quick pass", &plain, Stage::Quick),
        ]
    });
    if times.iter().any(|&t| t > REQUEST_BUDGET.as_secs_f64()) {
        eprintln!("a case outlasts the request budget");
        std::process::exit(1);
    }
}
