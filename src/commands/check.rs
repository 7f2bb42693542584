//! `trialsim check`: validate a scenario and print its true values (no simulation).

use std::path::Path;

use crate::report::truth::truth_table;

use super::Error;

pub fn command(path: &Path) -> Result<(), Error> {
    let loaded = super::load(path)?;
    let sc = loaded.scenario;
    super::warn_beyond_follow_up(&sc);
    print!("{}", truth_table(&sc));
    if let Some(b) = &loaded.never_better {
        print!("{}", never_better_line(b, &sc.time_unit));
    }
    Ok(())
}

/// The never-better boundary, a true value too: where the path of `[analysis.never_better]`
/// makes the experimental arm nowhere better up to `until`.
fn never_better_line(b: &crate::truth::never_better::Boundary, unit: &str) -> String {
    use crate::report::short;
    let late = b.late_ahr.map_or(String::new(), |a| format!("; its late average hazard ratio {a:.4}"));
    format!(
        "\nNever-better boundary: {} at {} (the scenario has {}): the experimental arm's true survival \
         is nowhere above control's up to {} {unit}{late}.\n",
        b.vary.join(" and "),
        short(b.value),
        short(b.from),
        short(b.until),
    )
}
