//! Interim monitoring (`[monitoring]`): the monitored designs, fixed per scenario
//! ([`design`]), and what they do to one simulated trial ([`trial`]): its looks, decisions and
//! safety reviews; and what a monitoring committee is shown at a look ([`committee`]).

pub mod committee;
pub mod design;
pub mod trial;

pub use design::{CpInputs, Monitor, MonitoredTest, analyses_per_trial};
pub use trial::{Ending, Monitored, SafetyRecord, Scratch, TestRecord};
