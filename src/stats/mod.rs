//! Statistics of one simulated (or real) two-arm dataset. Everything is computed from one
//! [`RiskTable`], built after a single sort: at-risk and event counts per arm at each distinct
//! event time, shared by Kaplan–Meier, log-rank, Fleming–Harrington, RMST, milestone and the
//! crossing rule.
//!
//! Conventions (docs/design.md § Analyses): group 0 is control, 1 experimental; **z < 0 favours the experimental
//! arm** for every test; at a time with events and censorings the censored are still at risk
//! (events first); a quantity that cannot be estimated is NaN, never an error.

pub mod analysis_data;
pub mod bracket;
pub mod conditional_power;
pub mod cox;
pub mod crossing;
pub mod decision;
pub mod extrapolation;
pub mod kaplan_meier;
pub mod logrank;
pub mod maxcombo;
pub mod modestly_weighted;
pub mod monitor;
pub mod mvn;
pub mod normal;
pub mod risk_table;
pub mod rmst;
pub mod safety;
pub mod sequential;
pub mod spending;
pub mod stratified;
pub mod weights;
pub mod weibull_fit;
pub mod win;

pub use risk_table::{MAX_STRATA, RiskTable};
