//! Conditional power against rpact: `tests/fixtures/conditional_power.json`, made by
//! `Rscript tests/reference/make_conditional_power.R` (R 4.2.2, rpact 3.3.4; that script says how
//! rpact's inputs map onto trialsim's). 216 cases: four designs (O'Brien–Fleming, Pocock, HSD
//! γ = −2, power ρ = 2; 2 to 4 looks), every interim stage, four statistics, three hazard
//! ratios (0.6, 0.75 and 1.1), allocation 1:1 and 2:1. The cumulative conditional power by
//! every remaining stage agrees to 1e-6 (1.2e-9 at most: rpact's own integration).

use serde_json::Value;

use crate::boundaries::numbers;
use trialsim::stats::conditional_power::{Drift, conditional_power};
use trialsim::stats::normal;

#[test]
fn conditional_power_equals_rpacts() {
    let text = std::fs::read_to_string("tests/fixtures/conditional_power.json").expect("fixture file");
    let fixture: Value = serde_json::from_str(&text).expect("fixture parses");
    let cases = fixture["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 216);
    let mut worst = 0.0_f64;
    for (i, c) in cases.iter().enumerate() {
        let rates = numbers(&c["information_rates"]);
        let critical = numbers(&c["critical_values"]);
        let stage = c["stage"].as_u64().expect("stage") as usize;
        let p = numbers(&c["stage_p_values"]);
        let planned = numbers(&c["planned_events"]);
        let want = numbers(&c["conditional_power"]);
        let (hr, r) =
            (c["hazard_ratio"].as_f64().expect("hr"), c["allocation_ratio"].as_f64().expect("ratio"));
        // rpact's B-value: the stage-wise statistics weighted by the design's information
        // increments (its inverse-normal weights).
        let increment = |j: usize| rates[j] - if j == 0 { 0.0 } else { rates[j - 1] };
        let b: f64 = (0..stage).map(|j| increment(j).sqrt() * -normal::quantile(p[j])).sum();
        let t = rates[stage - 1];
        let z = b / t.sqrt();
        // Each remaining stage's mean increment of B: √Δt times its standardised effect.
        let mut path = Vec::new();
        let mut mean = 0.0;
        for (m, j) in (stage..rates.len()).enumerate() {
            mean += increment(j).sqrt() * -hr.ln() * (r / (1.0 + r).powi(2) * planned[m]).sqrt();
            path.push(mean);
        }
        for m in 0..want.len() {
            let looks = &rates[stage..=stage + m];
            let bounds = &critical[stage..=stage + m];
            let got = conditional_power(t, z, looks, bounds, Drift::Path { now: 0.0, at: &path[..=m] });
            let e = (got - want[m]).abs();
            assert!(e < 1e-6, "case {i}, by stage {}: {got} vs rpact {} ({c})", stage + m + 1, want[m]);
            worst = worst.max(e);
        }
    }
    assert!(worst > 0.0, "the fixture was compared");
}
