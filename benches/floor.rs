//! The speed floor: the minimal loop anyone would write for the log-rank power of
//! `benches/floor.toml`, against which `trialsim run` is timed (`benches/floor.sh`).
//!
//! Per replicate: one xoshiro256++ generator seeded from (seed, replicate); for each of n
//! patients, arm = i mod 2, entry uniform on the accrual period, three Exp(1) draws turned by
//! inversion into the disease time (exponential control; piecewise experimental), the early
//! treatment-death time (experimental only) and the dropout time; time = min(event, dropout,
//! cut − entry); one `sort_unstable_by` on time; one pass computing the log-rank U and V.
//! Replicates run in parallel with rayon. Nothing else: no other statistic, no truth, no
//! report, no identical-arms copy.
//!
//! Run: `cargo bench --bench floor -- --reps 300000 --threads 2 --n 156` (prints one line:
//! seconds, replicates per second, power).

use std::time::Instant;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use rayon::prelude::*;

/// The scenario of `benches/floor.toml`, in years.
const CUT: f64 = 12.6;
const ACCRUAL: f64 = 8.6;
const CONTROL_RATE: f64 = 0.075;
/// Experimental disease hazard: 0.07 per year in year 1, 0.012 after.
const EXP_EARLY: f64 = 0.07;
const EXP_LATE: f64 = 0.012;
const EXP_BREAK: f64 = 1.0;
/// Treatment deaths: 0.21 per year for the first half year, none after.
const TRM_RATE: f64 = 0.21;
const TRM_WITHIN: f64 = 0.5;
const DROPOUT: f64 = 0.01;
const Z_975: f64 = 1.959_963_984_540_054;

/// An Exp(1) draw by inversion.
fn exp1(rng: &mut Xoshiro256PlusPlus) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

/// Whether one simulated trial's log-rank test rejects in favour of the experimental arm.
fn replicate(seed: u64, r: u64, n: usize, buf: &mut Vec<(f64, bool, u8)>) -> bool {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ r.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    buf.clear();
    for i in 0..n {
        let arm = (i % 2) as u8;
        let entry = rng.random::<f64>() * ACCRUAL;
        let e = exp1(&mut rng);
        let event = if arm == 0 {
            e / CONTROL_RATE
        } else {
            let early = EXP_EARLY * EXP_BREAK;
            let disease = if e < early { e / EXP_EARLY } else { EXP_BREAK + (e - early) / EXP_LATE };
            let t = exp1(&mut rng);
            let trm = if t < TRM_RATE * TRM_WITHIN { t / TRM_RATE } else { f64::INFINITY };
            disease.min(trm)
        };
        let dropout = exp1(&mut rng) / DROPOUT;
        let admin = CUT - entry;
        let time = event.min(dropout).min(admin);
        buf.push((time, event <= dropout && event <= admin, arm));
    }
    buf.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut at_risk = [n.div_ceil(2) as f64, (n / 2) as f64];
    let (mut u, mut v) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let t = buf[i].0;
        let (mut d, mut leave) = ([0.0; 2], [0.0; 2]);
        while i < n && buf[i].0 == t {
            let g = buf[i].2 as usize;
            d[g] += f64::from(u8::from(buf[i].1));
            leave[g] += 1.0;
            i += 1;
        }
        let (dt, nt) = (d[0] + d[1], at_risk[0] + at_risk[1]);
        if dt > 0.0 && nt > 1.0 {
            let p1 = at_risk[1] / nt;
            u += d[1] - dt * p1;
            v += dt * p1 * (1.0 - p1) * (nt - dt) / (nt - 1.0);
        }
        at_risk[0] -= leave[0];
        at_risk[1] -= leave[1];
    }
    v > 0.0 && u / v.sqrt() < -Z_975
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name}: expected an integer, found {v}")))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let reps = arg(&args, "--reps", 300_000);
    let threads = arg(&args, "--threads", 2) as usize;
    let n = arg(&args, "--n", 156) as usize;
    let seed = arg(&args, "--seed", 1);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let start = Instant::now();
    let rejections: u64 = pool.install(|| {
        (0..reps)
            .into_par_iter()
            .map_init(|| Vec::with_capacity(n), |buf, r| u64::from(replicate(seed, r, n, buf)))
            .sum()
    });
    let secs = start.elapsed().as_secs_f64();
    println!(
        "floor n={n} reps={reps} threads={threads}: {secs:.3} s, {:.0} replicates/s, log-rank power {:.4}",
        reps as f64 / secs,
        rejections as f64 / reps as f64
    );
}
