//! The analysis of one replicate: what it yields and in which order ([`plan`]: the estimates
//! and columns, fixed per run) and how one trial's data at its cut fills them ([`analyse`]).

pub mod analyse;
pub mod plan;

pub use analyse::{AnalyseOptions, Scratch, analyse};
pub use plan::{BAND_POINTS, Column, Estimate, EstimateSpec, Layout, MonitorColumn, RmstCoverage, Row};
