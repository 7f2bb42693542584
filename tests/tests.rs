//! All integration tests in one binary, so CI links once (as ripgrep does).

mod assurance;
mod boundaries;
mod bad_input;
mod calibration;
mod cli;
mod committee;
mod conditional_power;
mod docs;
mod explorer;
mod fuzz;
mod layers;
mod long_term;
mod monitoring;
mod monte_carlo;
mod never_better;
mod plan;
mod reference;
mod strata;
mod report_html;
mod sweep;
mod win;
