//! Group-sequential boundaries against rpact's `getDesignGroupSequential`:
//! `tests/fixtures/boundaries.json`, made by `Rscript tests/reference/make_boundaries.R` (R 4.2.2,
//! rpact 3.3.4; see that script). 304 designs: α-spending asOF, asP, asKD, asHSD, kMax 2–5,
//! equal and unequal information rates; β-spending futility (bsOF, bsP, bsKD, bsHSD, β = 0.2)
//! with rpact's drift, binding and not.

use serde_json::Value;
use trialsim::stats::sequential::{Design, Efficacy, Futility, boundaries, design_drift};
use trialsim::stats::spending::Spending;

fn spending(kind: &str, gamma: &Value) -> Spending {
    match &kind[2..] {
        "OF" => Spending::OBrienFleming,
        "P" => Spending::Pocock,
        "KD" => Spending::Power(gamma.as_f64().expect("gamma for KD")),
        "HSD" => Spending::HwangShihDeCani(gamma.as_f64().expect("gamma for HSD")),
        other => panic!("unknown spending {other}"),
    }
}

/// A JSON array of numbers (the rpact fixtures').
pub(crate) fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// Every design's critical values, futility bounds, α and β spent and drift (rpact's `shift`
/// = δ²) agree with rpact to 1e-6 in z (rpact's own tolerance is 1e-8 in probability).
#[test]
fn boundaries_equal_rpacts() {
    let text = std::fs::read_to_string("tests/fixtures/boundaries.json").expect("fixture file");
    let fixture: Value = serde_json::from_str(&text).expect("fixture parses");
    let designs = fixture["designs"].as_array().expect("designs");
    assert_eq!(designs.len(), 304);
    let (mut worst_z, mut worst_p, mut with_futility) = (0.0_f64, 0.0_f64, 0);
    for (i, d) in designs.iter().enumerate() {
        let t = numbers(&d["information_rates"]);
        let futility = d["futility"].as_str().map(|kind| Futility::Spending {
            beta: d["beta"].as_f64().expect("beta"),
            function: spending(kind, &d["gamma_b"]),
        });
        with_futility += usize::from(futility.is_some());
        let design = Design {
            alpha: fixture["alpha"].as_f64().expect("alpha"),
            efficacy: Efficacy::Spending(spending(d["efficacy"].as_str().expect("efficacy"), &d["gamma_a"])),
            futility,
            binding: d["binding"].as_bool().expect("binding"),
        };
        let drift = design_drift(&design, &t);
        let b = boundaries(&design, &t, drift.unwrap_or(0.0));
        let k = t.len();
        let critical = numbers(&d["critical_values"]);
        let label = format!("design {i}: {d}");
        for (ours, theirs) in b.efficacy.iter().zip(&critical) {
            worst_z = worst_z.max((ours - theirs).abs());
            assert!((ours - theirs).abs() < 1e-6, "efficacy {ours} vs {theirs}, {label}");
        }
        for (ours, theirs) in b.alpha_spent.iter().zip(numbers(&d["alpha_spent"])) {
            worst_p = worst_p.max((ours - theirs).abs());
            assert!((ours - theirs).abs() < 2e-8, "alpha spent {ours} vs {theirs}, {label}");
        }
        if let Some(drift) = drift {
            let futility = numbers(&d["futility_bounds"]);
            assert_eq!(futility.len(), k - 1);
            for (ours, theirs) in b.futility.iter().zip(&futility) {
                worst_z = worst_z.max((ours - theirs).abs());
                assert!((ours - theirs).abs() < 1e-6, "futility {ours} vs {theirs}, {label}");
            }
            for (ours, theirs) in b.beta_spent.iter().zip(numbers(&d["beta_spent"])) {
                assert!((ours - theirs).abs() < 2e-8, "beta spent {ours} vs {theirs}, {label}");
            }
            let shift = d["shift"].as_f64().expect("shift");
            assert!(
                (drift * drift - shift).abs() < 1e-5 * shift,
                "shift {} vs {shift}, {label}",
                drift * drift
            );
        }
    }
    assert_eq!(with_futility, 240);
    eprintln!("largest |Δz| against rpact: {worst_z:.2e}; largest |Δα spent|: {worst_p:.2e}");
}
