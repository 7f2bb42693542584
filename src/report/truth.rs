//! The model's true values as Markdown, without simulation: what `trialsim check` prints.

use std::fmt::Write;

use super::fmt;

/// The model's true values, without simulation (`trialsim check`).
pub(crate) fn truth_table(sc: &crate::scenario::Scenario) -> String {
    let t = crate::truth::Truth::compute(sc);
    let unit = &sc.time_unit;
    let mut o = String::new();
    let _ = writeln!(o, "# {} — true values (no simulation)\n", sc.name);
    let _ = writeln!(
        o,
        "Scenario is valid: {} arms, causes {}, endpoints {}.\n",
        sc.arms.len(),
        sc.causes.join(", "),
        sc.endpoints.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
    );
    curves(&mut o, &t, unit);
    if let Some(r) = &t.rmst {
        let arms: Vec<String> = r.arms.iter().map(|a| format!("`{}` {}", a.arm, fmt(a.value))).collect();
        let _ =
            writeln!(o, "RMST to τ = {}: {}; difference {}.\n", r.tau, arms.join(", "), fmt(r.difference));
    }
    if let Some(m) = &t.milestone {
        let _ =
            writeln!(o, "Survival difference at the milestone {} {unit}: {}.\n", m.time, fmt(m.difference));
    }
    if sc.comparison.is_some() {
        if t.crossing_times.is_empty() {
            let _ = writeln!(o, "The true curves do not cross.\n");
        } else {
            let x: Vec<String> = t.crossing_times.iter().map(|x| format!("{x:.4}")).collect();
            let _ = writeln!(o, "The true curves are equal (cross) at {} {unit}.\n", x.join(", "));
        }
        if let Some(x) = t.crossing_by_rule {
            let rule = sc.analysis.crossing;
            let _ = writeln!(
                o,
                "The observed-crossing rule (≥ {} below, then ≥ {} above) fires on the true curves at {x:.4} {unit}: the truth of the observed crossing time.\n",
                rule.min_gap, rule.min_gap
            );
        }
        for p in &t.ahr {
            let to = p.to.map_or("end".to_string(), |x| x.to_string());
            let _ = writeln!(o, "- average hazard ratio on ({}, {to}]: {}", p.from, fmt(p.ahr));
        }
        let _ = writeln!(o, "- average hazard ratio overall: {}\n", fmt(t.ahr_overall));
    }
    match t.expected_cut {
        Some(c) => {
            let _ = writeln!(
                o,
                "Expected cut at {} {unit} with {} primary events expected.",
                fmt(c),
                fmt(t.expected_events_total)
            );
        }
        None => {
            let _ = writeln!(o, "The event target is not reached in expectation.");
        }
    }
    o
}

/// Survival of every endpoint by arm at the horizons, and the cumulative incidence of each cause
/// of the primary endpoint.
fn curves(o: &mut String, t: &crate::truth::Truth, unit: &str) {
    for e in &t.endpoints {
        let _ = writeln!(o, "## Survival `{}`\n", e.endpoint);
        let _ = write!(o, "| {unit} |");
        for c in &e.survival {
            let _ = write!(o, " `{}` |", c.arm);
        }
        let _ = writeln!(o, "\n|---|{}", "---|".repeat(e.survival.len()));
        for (i, h) in t.horizons.iter().enumerate() {
            let _ = write!(o, "| {h} |");
            for c in &e.survival {
                let _ = write!(o, " {} |", fmt(c.values[i]));
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o);
    }
    if !t.cumulative_incidence.is_empty() {
        let _ = writeln!(o, "## Cumulative incidence of each cause of `{}` (first event)\n", t.endpoint);
        let _ = write!(o, "| arm | cause |");
        for h in &t.horizons {
            let _ = write!(o, " {h} |");
        }
        let _ = writeln!(o, "\n|---|---|{}", "---|".repeat(t.horizons.len()));
        for c in &t.cumulative_incidence {
            let _ = write!(o, "| `{}` | {} |", c.arm, c.cause);
            for v in &c.values {
                let _ = write!(o, " {} |", fmt(*v));
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o);
    }
}
