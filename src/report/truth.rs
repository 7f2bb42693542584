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
    if let Some(lt) = &t.long_term {
        let _ = writeln!(o, "## Long-term benefit to {} {unit}\n", super::short(lt.horizon));
        long_term(&mut o, lt, unit);
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

/// The caveat every long-term value carries: beyond the design's follow-up, the model continues.
pub(crate) fn rests_on(lt: &crate::truth::long_term::LongTerm, unit: &str) -> String {
    let follow_up = lt.follow_up.map_or(String::new(), |f| {
        format!(" beyond {} {unit}, the longest follow-up of this design,", super::short(f))
    });
    let piece = match lt.last_change {
        Some(t) => {
            format!("the model's last hazard piece (from {} {unit}) continuing unchanged", super::short(t))
        }
        None => "the model's hazards keeping their form".to_string(),
    };
    format!("These are the model's values, not a trial's:{follow_up} they rest on {piece}.")
}

/// The long-term truth as Markdown: gains per endpoint at 5, 10, 15, 20 years and the horizon,
/// the break-even time and the crossings, and the cumulative incidence of each cause of the
/// primary endpoint (summary.md and `trialsim check`).
pub(crate) fn long_term(o: &mut String, lt: &crate::truth::long_term::LongTerm, unit: &str) {
    let horizon = super::short(lt.horizon);
    let _ = writeln!(
        o,
        "Restricted mean time gained by the experimental arm, ΔRMST(t) = ∫₀ᵗ (S_exp − S_ctl): life-years on an endpoint of deaths, event-free years otherwise. The break-even time is when the years lost early have been given back for good (ΔRMST > 0 from then to {horizon} {unit}; \"not by {horizon}\" is a statement about this horizon only). {}\n",
        rests_on(lt, unit)
    );
    let _ = write!(o, "| endpoint | ΔRMST in |");
    for t in &lt.times {
        let _ = write!(o, " {} {unit} |", super::short(*t));
    }
    let _ = writeln!(o, " break-even | curves cross at |");
    let _ = writeln!(o, "|---|---|{}---|---|", "---|".repeat(lt.times.len()));
    for e in &lt.endpoints {
        let primary = if e.primary { " (primary)" } else { "" };
        let _ = write!(o, "| `{}`{primary} | {} |", e.endpoint, e.measure);
        for g in &e.gain {
            let _ = write!(o, " {} |", signed(*g));
        }
        let crossings: Vec<String> = e.crossings.iter().map(|x| format!("{x:.2}")).collect();
        let crossings = if crossings.is_empty() { "never".to_string() } else { crossings.join(", ") };
        let _ = writeln!(o, " {} | {crossings} |", break_even(e.break_even, lt.horizon, unit));
    }
    let _ = writeln!(o);
    for e in lt.endpoints.iter().filter(|e| e.primary) {
        let _ = writeln!(
            o,
            "Restricted mean `{}` per arm and cumulative incidence of each cause as its first event:\n",
            e.endpoint
        );
        let _ = write!(o, "| arm | quantity |");
        for t in &lt.times {
            let _ = write!(o, " {} {unit} |", super::short(*t));
        }
        let _ = writeln!(o, "\n|---|---|{}", "---|".repeat(lt.times.len()));
        for r in &e.rmst {
            let _ = write!(o, "| `{}` | RMST |", r.arm);
            for v in &r.values {
                let _ = write!(o, " {} |", fmt(*v));
            }
            let _ = writeln!(o);
        }
        for c in &e.cumulative_incidence {
            let _ = write!(o, "| `{}` | {} |", c.arm, c.cause);
            for v in &c.values {
                let _ = write!(o, " {} |", fmt(*v));
            }
            let _ = writeln!(o);
        }
        let _ = writeln!(o);
    }
}

/// A gain with its sign: +1.2345, −0.0081.
pub(crate) fn signed(x: f64) -> String {
    if x > 0.0 { format!("+{}", fmt(x)) } else { fmt(x).replacen('-', "−", 1) }
}

/// The break-even time, or "not by H".
pub(crate) fn break_even(t: Option<f64>, horizon: f64, unit: &str) -> String {
    match t {
        Some(t) => format!("{t:.2} {unit}"),
        None => format!("not by {} {unit}", super::short(horizon)),
    }
}

/// The long-term truth over parameter draws as Markdown: per endpoint the median and 95% interval
/// of the gain at each time and of the break-even time, and the share of draws with a gain.
pub(crate) fn long_term_uncertainty(o: &mut String, u: &crate::truth::long_term::Uncertainty, unit: &str) {
    let horizon = super::short(u.horizon);
    let invalid = if u.invalid_draws > 0 {
        format!(" ({} more made an invalid scenario and are left out)", u.invalid_draws)
    } else {
        String::new()
    };
    let _ = writeln!(
        o,
        "How sure the data behind the parameter draws let us be: the same truth for each of {} draws of `{}`{invalid}, median [95% interval], and the share of draws in which the experimental arm has gained by then. A draw that does not break even by {horizon} {unit} counts as later than any that does.\n",
        u.draws, u.source
    );
    let _ = write!(o, "| endpoint |");
    for t in &u.times {
        let _ = write!(o, " gain by {} {unit} |", super::short(*t));
    }
    let _ = write!(o, " break-even |");
    for t in &u.times {
        let _ = write!(o, " P(gain by {}) |", super::short(*t));
    }
    let _ = writeln!(o, "\n|---|{}---|{}", "---|".repeat(u.times.len()), "---|".repeat(u.times.len()));
    let be = |t: Option<f64>| t.map_or(format!("not by {horizon}"), |t| format!("{t:.2}"));
    for e in &u.endpoints {
        let _ = write!(o, "| `{}`, {} |", e.endpoint, e.measure);
        for g in &e.gain {
            let _ = write!(o, " {} [{}, {}] |", signed(g.median), signed(g.lower), signed(g.upper));
        }
        let b = &e.break_even;
        let _ = write!(o, " {} [{}, {}] {unit} |", be(b.median), be(b.lower), be(b.upper));
        for p in &e.p_gain {
            let _ = write!(o, " {:.1}% |", 100.0 * p);
        }
        let _ = writeln!(o);
    }
    let _ = writeln!(o);
}
