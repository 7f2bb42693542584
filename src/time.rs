//! Time: one scale for every duration and calendar time in the crate.

/// A time (duration or calendar time) in the scenario's own unit: `time_unit` only labels output,
/// so the shipped scenarios' years are one choice among months, weeks or days.
pub type Time = f64;

/// How many of `unit` make a year (Julian: 365.25 days), for the defaults stated in years (the
/// long-term horizon of 20 years); None for a unit this does not know.
pub fn units_per_year(unit: &str) -> Option<f64> {
    match unit.trim().to_ascii_lowercase().as_str() {
        "years" | "year" => Some(1.0),
        "months" | "month" => Some(12.0),
        "weeks" | "week" => Some(365.25 / 7.0),
        "days" | "day" => Some(365.25),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::time::units_per_year;

    #[test]
    fn a_year_in_each_unit() {
        assert_eq!(units_per_year("years"), Some(1.0));
        assert_eq!(units_per_year("Months"), Some(12.0));
        assert_eq!(units_per_year("days"), Some(365.25));
        assert_eq!(units_per_year("fortnights"), None);
    }
}
