//! Strata (issue 28): the randomiser within strata, the mixture truth against simulation, two
//! identical strata against the unstratified model, and the stratified tests' level and power.
//! Monte Carlo tolerances are 4 standard errors (none tuned to the seed).

use std::path::Path;

use trialsim::cohort::Cohort;
use trialsim::engine::{Layout, Run, simulate};
use trialsim::scenario::Scenario;
use trialsim::summary::Summary;
use trialsim::truth::Truth;

use crate::monte_carlo::{simulate_scenario, test_index};

const TESTS: &str = r#"["logrank", "logrank[strata]", "fh(0,1)", "fh(0,1)[strata]", "mw", "mw[strata]", "cox", "cox[strata]"]"#;

/// Two strata of patients: `low` (share `share_low`) and `high`, whose control hazards are
/// `rates`; the experimental arm's hazard is `hr` times its stratum's control hazard.
fn two_strata(n: usize, rates: (f64, f64), hr: f64, share_low: f64, randomisation: &str) -> String {
    format!(
        r#"name = "strata"
[simulation]
replicates = 1000
seed = 1
[design]
n = {n}
control = "c"
allocation = {{ c = 1, e = 1 }}
block_size = 4
randomisation = "{randomisation}"
accrual = {{ duration = 2 }}
[design.cut]
calendar = 4
[arms.c]
dropout = 0.05
[arms.c.causes]
death = {{ exponential = 0.3 }}
[arms.e]
dropout = 0.05
[arms.e.causes]
death = {{ relative = {{ to = "c", hr = {hr} }} }}
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = {TESTS}
tau = 3
horizons = [0.5, 1, 2, 3]
[strata.low]
share = {share_low}
arms.c.causes.death = {{ exponential = {low} }}
[strata.high]
share = {high_share}
arms.c.causes.death = {{ exponential = {high} }}
"#,
        low = rates.0,
        high = rates.1,
        high_share = 1.0 - share_low,
    )
}

fn parse(text: &str) -> Scenario {
    Scenario::from_toml(text, Path::new("strata.toml")).expect("valid stratified scenario")
}

/// Within strata every stratum's patients fill whole permuted blocks in entry order; fixed
/// counts give each stratum exactly its count; drawing by share gives each stratum its share
/// within 4 SE.
#[test]
fn stratified_blocks_balance_each_stratum_and_counts_are_exact() {
    let sc = parse(&two_strata(203, (0.1, 0.5), 0.7, 0.3, "stratified_blocks"));
    // Strata are in name order: `high`, then `low`.
    let at_low = sc.strata.iter().position(|s| s.name == "low").expect("low");
    let mut c = Cohort::default();
    let mut low = 0usize;
    for r in 0..200 {
        c.generate(&sc, 5, r);
        for s in 0..2u16 {
            let arms: Vec<u16> = (0..c.n()).filter(|&i| c.stratum[i] == s).map(|i| c.arm[i]).collect();
            for block in arms.chunks(4).filter(|b| b.len() == 4) {
                assert_eq!(
                    block.iter().filter(|&&a| a == 1).count(),
                    2,
                    "replicate {r} stratum {s}: {block:?}"
                );
            }
            let imbalance = arms.iter().filter(|&&a| a == 1).count() as i64 * 2 - arms.len() as i64;
            assert!(imbalance.abs() <= 2, "replicate {r} stratum {s}: imbalance {imbalance}");
        }
        low += c.stratum.iter().filter(|&&s| usize::from(s) == at_low).count();
    }
    let n = 200.0 * 203.0;
    let share = low as f64 / n;
    assert!((share - 0.3).abs() < 4.0 * (0.3f64 * 0.7 / n).sqrt(), "share of `low`: {share}");

    let text = two_strata(200, (0.1, 0.5), 0.7, 0.3, "stratified_blocks")
        .replace("share = 0.3\n", "count = 48\n")
        .replace("share = 0.7\n", "count = 152\n");
    let sc = parse(&text);
    for r in 0..20 {
        c.generate(&sc, 6, r);
        assert_eq!(c.stratum.iter().filter(|&&s| usize::from(s) == at_low).count(), 48, "replicate {r}");
        for s in 0..2u16 {
            let e = (0..c.n()).filter(|&i| c.stratum[i] == s && c.arm[i] == 1).count();
            let all = (0..c.n()).filter(|&i| c.stratum[i] == s).count();
            assert_eq!(2 * e, all, "replicate {r} stratum {s}: whole blocks, 1:1");
        }
    }
}

/// The mixture truth (survival at the horizons, RMST, expected events) against the simulation's
/// means, within 4 Monte Carlo SE, with strata whose hazards differ tenfold. Where dropout differs
/// by stratum too, only the expected events are compared: censoring then depends on a
/// prognostic stratum, and the pooled Kaplan–Meier estimates no longer the marginal survival
/// (at 0.5 years it was 0.7911 against a true 0.7865, 11 SE off: a property of the estimator,
/// which docs/strata.md states).
#[test]
fn the_mixture_truth_matches_simulation() {
    let compare = |sc: &Scenario, names: &[String], seed: u64| {
        let (s, layout) = simulate_scenario(sc, 4000, seed);
        for name in names {
            let i = layout.estimates.iter().position(|e| e.estimate.to_string() == *name).expect("estimate");
            let (t, truth) = (&s.estimates[i], layout.estimates[i].truth.expect("a true value"));
            let mcse = t.moments.sd() / (t.moments.n as f64).sqrt();
            let err = (t.moments.mean() - truth).abs();
            assert!(
                err < 4.0 * mcse,
                "{name}: mean {} vs truth {truth} (4 SE = {})",
                t.moments.mean(),
                4.0 * mcse
            );
        }
    };
    let mut names: Vec<String> = Vec::new();
    for h in [0.5, 1.0, 2.0, 3.0] {
        for part in ["c", "e", "difference"] {
            names.push(format!("km.{part}.{h}"));
        }
    }
    names.extend(["rmst.c", "rmst.e", "rmst.diff", "events"].map(String::from));
    compare(&parse(&two_strata(500, (0.08, 0.8), 0.6, 0.4, "blocks")), &names, 17);

    let text = two_strata(500, (0.08, 0.8), 0.6, 0.4, "blocks").replace(
        "arms.c.causes.death = { exponential = 0.8 }",
        "arms.c.causes.death = { exponential = 0.8 }\narms.e.dropout = 0.3\narms.c.dropout = 0.3",
    );
    let sc = parse(&text);
    let high = sc.strata.iter().find(|s| s.name == "high").expect("high");
    assert_eq!((high.arms[0].dropout, high.arms[1].dropout), (0.3, 0.3));
    compare(&sc, &["events".to_string()], 18);
}

/// Two strata with the same model are the unstratified model: the same true values exactly;
/// with blocks over all patients the same trials (the strata draw on their own stream), so the
/// same power bit for bit; within strata, power within Monte Carlo error.
#[test]
fn identical_strata_are_the_unstratified_model() {
    let strat = parse(&two_strata(300, (0.3, 0.3), 0.7, 0.35, "blocks"));
    let plain_text = two_strata(300, (0.3, 0.3), 0.7, 0.35, "blocks");
    let plain_text = plain_text[..plain_text.find("[strata.low]").unwrap()]
        .replace(TESTS, r#"["logrank", "fh(0,1)", "mw", "cox"]"#);
    let plain = parse(&plain_text);
    let (a, b) = (Truth::compute(&strat), Truth::compute(&plain));
    // Everything but the per-stratum table, which only the stratified scenario has.
    let json = |t: &Truth| {
        let mut v = serde_json::to_value(t).unwrap();
        v.as_object_mut().unwrap().remove("strata");
        v.to_string()
    };
    assert_eq!(a.strata.len(), 2);
    assert_eq!(json(&a), json(&b), "the true values are the unstratified model's, exactly");

    let reps = 4000;
    let (s1, l1) = simulate_scenario(&strat, reps, 3);
    let (s0, l0) = simulate_scenario(&plain, reps, 3);
    for name in ["logrank", "fh(0,1)", "mw", "cox"] {
        assert_eq!(s1.tests[test_index(&l1, name)], s0.tests[test_index(&l0, name)], "{name}: same trials");
    }
    let within = parse(&two_strata(300, (0.3, 0.3), 0.7, 0.35, "stratified_blocks"));
    let (s2, l2) = simulate_scenario(&within, reps, 3);
    for name in ["logrank", "fh(0,1)", "mw", "cox"] {
        let p0 = s0.tests[test_index(&l0, name)].benefit as f64 / reps as f64;
        let p2 = s2.tests[test_index(&l2, name)].benefit as f64 / reps as f64;
        let se = (p0 * (1.0 - p0) / reps as f64 + p2 * (1.0 - p2) / reps as f64).sqrt();
        assert!(
            (p0 - p2).abs() < 4.0 * se,
            "{name}: {p2} within strata vs {p0} unstratified (4 SE = {})",
            4.0 * se
        );
    }
}

/// Under identical arms, with strata whose hazards differ tenfold, every stratified test keeps
/// its level: one-sided rejections in the experimental arm's favour within 4 SE of α. At 300
/// patients a stratum: with 100, the stratified FH(0, 1) rejected 2.9% and 2.7% (two seeds of
/// 20,000 trials), a small-sample excess of a test that weights the few still at risk late in a
/// stratum where nearly everyone dies (docs/strata.md); at 400 a stratum it is 2.5–2.6%.
#[test]
fn stratified_tests_keep_their_level_with_very_different_strata() {
    let sc = parse(&two_strata(600, (0.1, 1.0), 1.0, 0.5, "stratified_blocks"));
    let reps = 20_000;
    let (s, layout) = simulate_scenario(&sc, reps, 20_281_207);
    let alpha = sc.analysis.alpha;
    let se = (alpha * (1.0 - alpha) / reps as f64).sqrt();
    for name in ["logrank[strata]", "fh(0,1)[strata]", "mw[strata]", "cox[strata]"] {
        let t = s.tests[test_index(&layout, name)];
        let rate = t.benefit as f64 / reps as f64;
        eprintln!("{name}: type I error {rate} vs α = {alpha} ± {se:.5}");
        assert!((rate - alpha).abs() < 4.0 * se, "{name}: {rate} vs α = {alpha} (4 SE = {})", 4.0 * se);
        assert_eq!(t.not_estimable, 0, "{name}");
    }
}

/// With baseline hazards five times apart, the stratified log-rank test rejects more often than
/// the unstratified one on the same trials: of the trials where exactly one of them rejects,
/// significantly more (paired, McNemar z > 4) are the stratified test's.
#[test]
fn the_stratified_logrank_is_more_powerful_when_strata_differ() {
    let sc = parse(&two_strata(300, (0.15, 0.75), 0.7, 0.5, "stratified_blocks"));
    let truth = Truth::compute(&sc);
    let layout = Layout::new(&sc, &truth);
    let run = Run { scenario: &sc, layout: &layout, replicates: 4000, seed: 11, progress: None };
    let mut rows: Vec<Vec<f64>> = Vec::new();
    simulate::<Summary>(&run, Some(&mut |_, cols: &[f64]| rows.push(cols.to_vec())));
    let col = |name: &str| layout.columns.iter().position(|c| c.to_string() == name).expect("column");
    let (plain, strat) = (col("logrank.z"), col("logrank[strata].z"));
    let critical = -trialsim::stats::normal::quantile(1.0 - sc.analysis.alpha);
    let (mut only_strat, mut only_plain, mut strat_rejects, mut plain_rejects) = (0u32, 0u32, 0u32, 0u32);
    for r in &rows {
        let (a, b) = (r[strat] < critical, r[plain] < critical);
        strat_rejects += u32::from(a);
        plain_rejects += u32::from(b);
        only_strat += u32::from(a && !b);
        only_plain += u32::from(b && !a);
    }
    let mcnemar = (f64::from(only_strat) - f64::from(only_plain)) / f64::from(only_strat + only_plain).sqrt();
    eprintln!(
        "power: stratified {strat_rejects}/4000, unstratified {plain_rejects}/4000; discordant {only_strat} vs {only_plain}, McNemar z {mcnemar:.2}"
    );
    assert!(mcnemar > 4.0, "stratified {only_strat} vs unstratified {only_plain} discordant rejections");
}
