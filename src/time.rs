//! Time: one scale for every duration and calendar time in the crate.

/// A time (duration or calendar time) in the scenario's own unit: `time_unit` only labels output,
/// so the shipped scenarios' years are one choice among months, weeks or days.
pub type Time = f64;
