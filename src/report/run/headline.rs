//! The headline `trialsim run` prints on stdout, as hyperfine prints its timing: what was run and
//! how fast, each test's power with its Monte Carlo error beside its type I error with identical
//! arms, the true and observed crossing, expected against simulated events, and where the files
//! are. It repeats summary.md's first figures; the files hold everything.

use std::fmt::Write;
use std::path::Path;
use std::time::Duration;

use crate::analysis::Estimate;
use crate::report::{Results, fmt, null_rejections, short};
use crate::summary::Proportion;
use crate::test_statistic::Claim;

/// Percent with its SE, to the SE's first significant digit (one decimal at least).
fn percent(p: Proportion) -> String {
    if p.estimate.is_nan() {
        return "—".into();
    }
    crate::report::percent_se(p.estimate, p.se)
}

/// The companion runs beside the replicates, as the first line names them.
fn copies(null_reps: u64, boundary_reps: u64) -> String {
    let mut o = String::new();
    if null_reps > 0 {
        o += &format!(" (+ {null_reps} with identical arms");
        if boundary_reps > 0 {
            o += &format!(", {boundary_reps} at the never-better boundary");
        }
        o.push(')');
    } else if boundary_reps > 0 {
        o += &format!(" (+ {boundary_reps} at the never-better boundary)");
    }
    o
}

/// One line on the long-term truth: each endpoint's gain at 10 years (or the horizon, when
/// shorter) and its break-even time.
fn long_term_line(r: &Results) -> Option<String> {
    let lt = r.truth.long_term.as_ref()?;
    let unit = &r.scenario.time_unit;
    // 10 years, or the horizon when it is shorter or the unit is not one of years' (the last time).
    let last = lt.times.len() - 1;
    let i = crate::time::units_per_year(unit)
        .and_then(|u| lt.times.iter().position(|&t| t >= 10.0 * u))
        .unwrap_or(last);
    let at = short(lt.times[i]);
    // The primary endpoint first.
    let mut eps: Vec<_> = lt.endpoints.iter().collect();
    eps.sort_by_key(|e| !e.primary);
    let parts: Vec<String> = eps
        .iter()
        .map(|e| {
            let be = e.break_even.map_or(format!("not by {}", short(lt.horizon)), |t| format!("{t:.2}"));
            let gain = format!("{:+.2}", e.gain[i]).replacen('-', "−", 1);
            format!("{} {gain} {} (break-even {be})", e.endpoint, e.measure)
        })
        .collect();
    Some(format!("  Long term true gain by {at} {unit}: {}", parts.join(", ")))
}

/// The headline of a run that took `elapsed` (simulation and identical-arms copy) and wrote `files` into `out`.
pub(crate) fn render(r: &Results, elapsed: Duration, out: &Path, files: &[&str]) -> String {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let unit = &sc.time_unit;
    let null_reps = r.null.map_or(0, |(_, n)| n);
    let boundary_reps = r.never_better.map_or(0, |(_, s)| s.replicates);
    let secs = elapsed.as_secs_f64();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{}: {reps} replicates{} of n = {}, seed {}, in {secs:.2} s ({:.0} replicates/s)",
        sc.name,
        copies(null_reps, boundary_reps),
        sc.design.n,
        r.seed,
        (reps + null_reps + boundary_reps) as f64 / secs.max(1e-9)
    );
    if r.layout.groups == 2 {
        let width = r.layout.tests.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        let powers: Vec<String> =
            (0..r.layout.tests.len()).map(|i| percent(Proportion::new(s.tests[i].benefit, reps))).collect();
        let power_width = powers.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        for (i, (name, _)) in r.layout.tests.iter().enumerate() {
            // The type I error to two decimals, as summary.md prints it.
            let null = r.null.map_or(String::new(), |(n, nr)| {
                let e = Proportion::new(null_rejections(&n.tests[i], sc.analysis.sides), nr);
                format!("   type I error {:.2}% ± {:.2}", 100.0 * e.estimate, 100.0 * e.se)
            });
            let label = if i == 0 { "  Power     " } else { "            " };
            let _ = writeln!(o, "{label}{name:<width$}  {:<power_width$}{null}", powers[i]);
        }
        if let Some((b, nb)) = r.never_better {
            let _ = writeln!(
                o,
                "  Declares benefit where the experimental arm is never better (keys at {}, up to {} {unit}):",
                short(b.value),
                short(b.until)
            );
            for (i, (name, kind)) in r.layout.tests.iter().enumerate() {
                let e = Proportion::new(nb.tests[i].benefit, nb.replicates);
                let claim = match kind.claim() {
                    Claim::Benefit => String::new(),
                    claim => format!("   ({})", super::markdown::late_claim(b, claim)),
                };
                let _ = writeln!(
                    o,
                    "            {name:<width$}  {:.2}% ± {:.2}{claim}",
                    100.0 * e.estimate,
                    100.0 * e.se
                );
            }
            // The monitored designs' efficacy stops there, as summary.md lists them.
            if let (Some(monitor), Some(tally)) = (&r.layout.monitor, &nb.monitoring) {
                for (mt, t) in monitor.tests.iter().zip(&tally.tests) {
                    let e = Proportion::new(t.rejected, nb.replicates);
                    let name = &mt.name;
                    let _ = writeln!(
                        o,
                        "            {name:<width$}  {:.2}% ± {:.2}   (monitored: efficacy at any look)",
                        100.0 * e.estimate,
                        100.0 * e.se
                    );
                }
            }
        }
        let by_rule =
            r.truth.crossing_by_rule.map_or("never (by the rule)".to_string(), |t| format!("{t:.2} {unit}"));
        let observed = Proportion::new(s.crossings, reps);
        let median = r
            .layout
            .index_of(&Estimate::CrossingTime)
            .map(|i| s.estimates[i].hist.quantile(0.5))
            .filter(|m| m.is_finite())
            .map_or(String::new(), |m| format!(", median {m:.2} {unit}"));
        let _ =
            writeln!(o, "  Crossing  true {by_rule}; observed in {} of trials{median}", percent(observed));
    }
    if let Some(line) = long_term_line(r) {
        let _ = writeln!(o, "{line}");
    }
    let events = (s.events[0] + s.events[1]) as f64 / reps as f64;
    let _ = writeln!(o, "  Events    mean {} (expected {})", fmt(events), fmt(r.truth.expected_events_total));
    let _ = writeln!(o, "  Files     {}/{{{}}}", out.display(), files.join(", "));
    o
}
