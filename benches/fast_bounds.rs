//! Issue 26's bench-side check of the recursion's fast rule: its bounds against the exact rule's
//! on many random designs and fraction vectors (`cargo test` runs 10⁴ of them; this runs 10⁶ by
//! default), with the time each rule takes.
//!
//! `cargo bench --bench fast_bounds [-- CASES]`: prints the largest difference in z overall, per
//! spending family and per number of looks, and the mean time per vector of each rule.

use std::time::Instant;

use rand::SeedableRng;
use trialsim::stats::sequential::{LookAt, Recursion, Rule, fast_rule_case, fast_rule_difference};

fn main() {
    let cases: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(1_000_000);
    let mut rng = rand::rngs::StdRng::seed_from_u64(26);
    let (mut worst, mut by_family, mut by_looks) = (0.0_f64, [0.0_f64; 4], [0.0_f64; 4]);
    let mut worst_case = None;
    let start = Instant::now();
    for i in 0..cases {
        let (d, t, drift) = fast_rule_case(i, &mut rng);
        let e = fast_rule_difference(&d, &t, drift);
        by_family[i % 4] = by_family[i % 4].max(e);
        by_looks[t.len() - 2] = by_looks[t.len() - 2].max(e);
        if e > worst {
            worst = e;
            worst_case = Some((d, t, drift));
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!("{cases} random designs and fraction vectors ({elapsed:.1} s)");
    println!("largest |fast − exact| in z: {worst:.2e}");
    for (name, e) in ["O'Brien–Fleming", "Pocock", "HSD", "power"].iter().zip(by_family) {
        println!("  efficacy spending {name}: {e:.2e}");
    }
    for (k, e) in by_looks.iter().enumerate() {
        println!("  {} looks: {e:.2e}", k + 2);
    }
    if let Some((d, t, drift)) = &worst_case {
        println!("at {d:?}, fractions {t:?}, drift {drift}");
        // Which rule is off there: both against the exact rule on panels four times narrower.
        for (name, rule, refine) in [
            ("exact", Rule::Kronrod15, 1.0),
            ("exact, panels / 4", Rule::Kronrod15, 4.0),
            ("fast", Rule::Gauss7, 1.0),
        ] {
            let mut r = Recursion::with_rule(refine, rule);
            for (i, &ti) in t.iter().enumerate() {
                r.look(d, LookAt { position: i, t: ti, spend: ti, theta: *drift, last: i + 1 == t.len() });
            }
            println!("  {name}: efficacy {:?} futility {:?}", r.out.efficacy, r.out.futility);
        }
    }
    // The time of each rule alone, on the first 20,000 cases again.
    let sample: Vec<_> = {
        let mut rng = rand::rngs::StdRng::seed_from_u64(26);
        (0..cases.min(20_000)).map(|i| fast_rule_case(i, &mut rng)).collect()
    };
    for (name, rule) in [("exact (Kronrod 15)", Rule::Kronrod15), ("fast (Gauss 7)", Rule::Gauss7)] {
        let start = Instant::now();
        let mut sink = 0.0;
        for (d, t, drift) in &sample {
            let mut r = Recursion::with_rule(1.0, rule);
            for (i, &ti) in t.iter().enumerate() {
                r.look(d, LookAt { position: i, t: ti, spend: ti, theta: *drift, last: i + 1 == t.len() });
            }
            sink += r.out.efficacy[t.len() - 1];
        }
        let per = start.elapsed().as_secs_f64() / sample.len() as f64;
        println!("{name}: {:.1} µs per vector (checksum {sink:.3})", per * 1e6);
    }
    assert!(worst <= 1e-6, "the fast rule left 1e-6: {worst:e}");
}
