//! What a monitoring committee is shown (`[monitoring.committee]`) and the conditional-power
//! futility rule, on simulated trials: under identical arms each look rejects what the spending
//! function spends there, a conditional-power rule keeps the type I error at most α, and power
//! lost = lost + final bound − gained, exactly; the report is opt-in; bad tables are located.

use std::path::Path;

use trialsim::engine::{Layout, Run, simulate};
use trialsim::scenario::Scenario;
use trialsim::stats::spending::Spending;
use trialsim::summary::{Proportion, Summary};

use crate::monitoring::{first, run};
use trialsim::truth::Truth;

/// `scenarios/null.toml` (identical arms) with an event-driven final analysis at 120 events and
/// looks at 40 and 80, plus `extra` in `[monitoring]`.
fn null_monitored(extra: &str) -> Scenario {
    let text = std::fs::read_to_string("scenarios/null.toml").expect("shipped scenario");
    let text = text.replacen("calendar = 6", "events = 120", 1)
        + "\n[monitoring]\nlooks = [{ events = 40 }, { events = 80 }]\n"
        + extra;
    Scenario::from_toml(&text, Path::new("null_monitored.toml")).expect("valid")
}

/// Under identical arms, with the committee's report on (conditional power computed at every
/// interim, no rule using it): each look rejects α(t_k) − α(t_{k−1}) of the trials, within
/// 4 MC SE both ways (the fractions are exactly 1/3, 2/3, 1: event-driven looks).
#[test]
fn each_look_rejects_its_spending_increment() {
    let reps = 40_000;
    let s = run(&null_monitored("[monitoring.committee]\n"), reps, 21);
    let t = first(&s);
    let alpha = |x: f64| Spending::OBrienFleming.spent(0.025, x);
    let increments = [alpha(1.0 / 3.0), alpha(2.0 / 3.0) - alpha(1.0 / 3.0), 0.025 - alpha(2.0 / 3.0)];
    for (k, (l, want)) in t.looks.iter().zip(increments).enumerate() {
        let p = Proportion::new(l.efficacy, reps);
        let se = (want * (1.0 - want) / reps as f64).sqrt();
        assert!((p.estimate - want).abs() < 4.0 * se, "look {}: {} vs {want} (SE {se})", k + 1, p.estimate);
    }
    // The report's conditional power is there at both interims, for every trial that took them.
    for l in &t.looks[..2] {
        let cp = l.cp.as_ref().expect("reported");
        assert_eq!(cp.values[0].n, l.taken);
        assert!(cp.values[..3].iter().all(|m| m.mean > 0.0 && m.mean < 1.0));
        assert_eq!(cp.values[3].n, 0, "no prior, no predictive probability");
    }
    assert!(t.looks[2].cp.is_none(), "none at the final analysis");
}

/// A conditional-power futility rule under each drift, non-binding: the type I error is at most
/// α + 4 MC SE, the rule stops trials, and fixed − monitored power = lost + final bound − gained
/// exactly, on the same trials.
#[test]
fn conditional_power_rules_keep_alpha_and_the_accounting() {
    let reps = 20_000;
    for under in ["design", "trend", "model"] {
        let rule = format!(
            "[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 0.2\nunder = \"{under}\"\n"
        );
        let s = run(&null_monitored(&rule), reps, 22);
        let t = first(&s);
        let p = Proportion::new(t.rejected, reps);
        assert!(p.estimate < 0.025 + 4.0 * p.se, "{under}: {} ± {}", p.estimate, p.se);
        let stopped: u64 = t.looks.iter().map(|l| l.futility).sum();
        assert!(stopped > reps / 20, "{under}: the rule stops trials under identical arms ({stopped})");
        let lost: u64 = t.lost.iter().sum();
        assert_eq!(
            t.fixed_rejects as i64 - t.rejected as i64,
            (lost + t.final_bound_cost) as i64 - t.gained as i64,
            "{under}"
        );
        assert!(t.looks[0].cp.is_some(), "the rule's conditional power is reported");
    }
}

/// The predictive-probability rule under identical arms, with a prior whose draws put the
/// experimental arm's death rate anywhere from 0.06 to 0.14 (so benefit and harm both): the type
/// I error is at most α + 4 MC SE, the rule stops trials, and the report carries the
/// predictive probability and its effective sample size (every draw counts: 40 draws).
#[test]
fn the_predictive_rule_keeps_alpha_under_identical_arms() {
    let sc = null_monitored("[monitoring.futility]\nrule = \"predictive_probability\"\nbelow = 0.2\n");
    let text = std::fs::read_to_string("scenarios/null.toml").unwrap();
    let prior: Vec<Scenario> = (0..40)
        .map(|d| {
            let rate = 0.06 + 0.08 * d as f64 / 39.0;
            let t = text.replacen("calendar = 6", "events = 120", 1).replacen(
                "[arms.experimental.causes]\ndeath = { exponential = 0.1 }",
                &format!("[arms.experimental.causes]\ndeath = {{ exponential = {rate} }}"),
                1,
            );
            assert!(t.contains(&format!("exponential = {rate}")));
            Scenario::from_toml(&t, Path::new("draw.toml")).expect("valid draw")
        })
        .collect();
    let truth = Truth::compute(&sc);
    let mut layout = Layout::new(&sc, &truth);
    layout.monitor.as_mut().expect("monitored").set_prior(&prior);
    let reps = 6_000;
    let s: Summary =
        simulate(&Run { scenario: &sc, layout: &layout, replicates: reps, seed: 23, progress: None }, None);
    let t = first(&s);
    let p = Proportion::new(t.rejected, reps);
    assert!(p.estimate < 0.025 + 4.0 * p.se, "{} ± {}", p.estimate, p.se);
    let stopped: u64 = t.looks.iter().map(|l| l.futility).sum();
    assert!(stopped > reps / 20, "the rule stops trials ({stopped})");
    let cp = t.looks[0].cp.as_ref().expect("reported");
    assert_eq!(cp.values[3].n, t.looks[0].taken, "a predictive probability for every trial at look 1");
    assert!(cp.ess.mean() > 10.0 && cp.ess.mean() <= 40.0, "{}", cp.ess.mean());
}

/// Without a prior, a predictive-probability rule is refused (exit 2, nothing written): by `run`
/// without `--draws` or `[uncertainty]`, and by the commands that take no prior.
#[test]
fn a_predictive_rule_without_a_prior_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap()
        + "\n[monitoring]\nlooks = [{ fraction = 0.5 }]\n[monitoring.futility]\nrule = \"predictive_probability\"\nbelow = 0.1\n";
    let path = dir.path().join("pp.toml");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    for args in [vec!["run"], vec!["sweep", "--set", "design.n=100:200:100"], vec!["followup"]] {
        let a = assert_cmd::Command::cargo_bin("trialsim")
            .unwrap()
            .args(&args)
            .args([path.to_str().unwrap(), "--reps", "10", "--out", out.to_str().unwrap()])
            .assert()
            .code(2);
        let err = String::from_utf8_lossy(&a.get_output().stderr).to_string();
        assert!(err.contains("predictive_probability") && err.contains("pp.toml"), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?}: nothing written");
    }
}

/// Bad committee tables and conditional-power rules are located errors naming the key.
#[test]
fn bad_committee_tables_are_located_errors() {
    let base = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap();
    let looks = "looks = [{ fraction = 0.5 }]\n";
    let cases = [
        (
            "[monitoring.futility]\nrule = \"conditional_power\"\nunder = \"model\"\n",
            "monitoring.futility.below",
        ),
        ("[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 0.1\n", "monitoring.futility.under"),
        (
            "[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 0.1\nunder = \"truth\"\n",
            "monitoring.futility.under",
        ),
        (
            "[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 1.5\nunder = \"model\"\n",
            "monitoring.futility.below",
        ),
        (
            "[monitoring.futility]\nrule = \"predictive\"\nbelow = 0.1\nunder = \"model\"\n",
            "monitoring.futility.rule",
        ),
        (
            "[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 0.1\nunder = \"model\"\nbinding = true\n",
            "monitoring.futility.binding",
        ),
        (
            "[monitoring.futility]\nrule = \"conditional_power\"\nbelow = 0.1\nunder = \"model\"\nspending = { hsd = -2 }\n",
            "monitoring.futility.spending",
        ),
        ("[monitoring.futility]\nspending = { hsd = -2 }\nbelow = 0.1\n", "monitoring.futility.below"),
        ("[monitoring.futility]\nbeta = 0.1\n", "monitoring.futility.spending"),
        ("[monitoring.committee]\nthreshold = 0\n", "monitoring.committee.threshold"),
        ("[monitoring.committee]\nbeta = 0.99\n", "monitoring.committee.beta"),
        ("[monitoring.committee]\nthreshhold = 0.1\n", "threshhold"),
        (
            "[monitoring.futility]\nrule = \"predictive_probability\"\nbelow = 0.1\nunder = \"model\"\n",
            "monitoring.futility.under",
        ),
    ];
    for (table, key) in cases {
        let text = format!("{base}\n[monitoring]\n{looks}{table}");
        let err = Scenario::from_toml(&text, Path::new("bad.toml")).expect_err(table);
        let msg = err.to_string();
        assert!(msg.contains(key) && msg.contains("bad.toml:"), "{table}: {msg}");
    }
}
