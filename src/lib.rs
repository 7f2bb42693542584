//! trialsim: Monte Carlo simulation of randomised time-to-event trials whose experimental arm
//! carries early treatment-related mortality and a late benefit (crossing survival curves).
//!
//! ```text
//! scenario.toml ──parse+validate──▶ Scenario ──▶ Truth (closed forms, quadrature)
//!                                      │
//!                 engine: replicate r (rayon, fixed chunks)
//!                   cohort  = generate(scenario, rng(seed, r, purpose))
//!                   data    = AnalysisData at cut(cohort): the views the tests declare
//!                             (the risk table; each patient on every endpoint)
//!                   row     = each TestKind's compute(data), KM, crossing; interim looks
//!                   summary.push(row)            (streaming; merged in chunk order)
//!                                      ▼
//!                 report: summary.json, summary.md, survival.svg, CSV
//! ```

// Items are pub(crate) unless tests, benches or the binary use them, so the full build reports
// dead code; without the `plots` and `serve` features the command line and the explorer are
// gone, and what only they use is expected to be unused.
#![cfg_attr(not(all(feature = "plots", feature = "serve")), allow(dead_code))]

// Modules in data-flow order: each uses only modules listed before it (checked by
// tests/layers.rs, which reads this list).
// Foundations.
pub mod time;
pub mod rng;
pub mod atomic_file;
pub mod quadrature;
// The model's parts and the statistics of one dataset (which know nothing of scenarios).
pub mod hazard;
pub mod stats;
// A test statistic: everything about one kind of test, in one module.
pub mod test_statistic;
// What the user wrote, validated.
pub mod scenario;
// The trial: entry, allocation, truth, simulated patients.
pub mod accrual;
pub mod randomiser;
pub mod truth;
pub mod cohort;
// One trial's data at a cut, as the statistics read it.
pub mod analyser;
pub mod monitoring;
// One replicate analysed: what it yields, in one order, and how.
pub mod analysis;
// Replicates, and a scenario run as `trialsim run` runs it.
pub mod engine;
pub mod summary;
pub mod run;
// Studies made of many scenarios or runs.
pub mod sweep;
pub mod plan;
pub mod followup;
pub mod assurance;
pub mod calibrate;
// A scenario file with every command's table, validated.
pub mod scenario_file;
// Output.
pub mod report;
// Each command's work from a scenario's text to its files, for the Python and R packages.
#[cfg(feature = "plots")]
pub mod embed;
// The local what-if explorer (`trialsim serve`): HTTP over the same computations and reports.
#[cfg(feature = "serve")]
pub mod explorer;
// The command line: its shape, then one file per subcommand (with figures and the explorer).
#[cfg(all(feature = "plots", feature = "serve"))]
pub mod cli;
#[cfg(all(feature = "plots", feature = "serve"))]
pub mod commands;
