//! trialsim: Monte Carlo simulation of randomised time-to-event trials whose experimental arm
//! carries early treatment-related mortality and a late benefit (crossing survival curves).
//!
//! ```text
//! scenario.toml ──parse+validate──▶ Scenario ──▶ Truth (closed forms, quadrature)
//!                                      │
//!                 engine: replicate r (rayon, fixed chunks)
//!                   cohort  = generate(scenario, rng(seed, r, purpose))
//!                   data    = cut(cohort)  → sorted records → RiskTable
//!                   row     = stats(RiskTable)   (log-rank, FH, RMST, milestone, KM, crossing)
//!                   summary.push(row)            (streaming; merged in chunk order)
//!                                      ▼
//!                 report: summary.json, summary.md, survival.svg, CSV
//! ```

pub mod assurance;
pub mod calibrate;
pub mod cohort;
pub mod engine;
pub mod followup;
pub mod hazard;
pub mod io;
pub mod plan;
pub mod quadrature;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod stats;
pub mod summary;
pub mod sweep;
pub mod truth;
