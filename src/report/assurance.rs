//! assurance.md: power at the point estimate beside assurance, per test.

use std::fmt::Write;

use super::{Rendered, json_text};
use crate::assurance::AssuranceResult;

/// assurance.md.
/// The files of `trialsim assurance` (report.html is added from assurance.md by the command).
pub fn files(r: &AssuranceResult) -> Vec<Rendered> {
    vec![("assurance.json", json_text(r)), ("assurance.md", markdown(r).into_bytes())]
}

pub(crate) fn markdown(r: &AssuranceResult) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# {} — assurance\n", r.scenario);
    let _ = writeln!(
        o,
        "{} parameter draws from {} ({} replicates each; {} left out as invalid) over {}.\n",
        r.draws - r.invalid_draws,
        r.source,
        r.replicates_per_draw,
        r.invalid_draws,
        r.keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
    );
    if let Some(why) = &r.invalid_reason {
        let _ = writeln!(o, "Why draws were left out (the first): {why}.\n");
    }
    let _ = writeln!(o, "| test | power at the point estimate | assurance (averaged over the draws) |");
    let _ = writeln!(o, "|---|---|---|");
    for t in &r.tests {
        let _ = writeln!(
            o,
            "| `{}` | {} | {} |",
            t.test,
            super::percent_se(t.power, t.power_se),
            super::percent_se(t.assurance, t.assurance_se)
        );
    }
    o
}
