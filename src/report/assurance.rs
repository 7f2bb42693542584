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
    o.push_str(&super::plain_section(&plain(r)));
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
    o.push_str(&super::glossary_section(
        &["Power", "±"],
        &[(
            "Assurance".into(),
            "power averaged over what is not known about the parameters (their draws): the chance that the trial succeeds, not only the chance at the best guess.".into(),
        )],
    ));
    o
}

/// assurance.md's opening sentences: each of the first two tests' assurance beside its power at
/// the point estimate.
pub(crate) fn plain(r: &AssuranceResult) -> Vec<String> {
    use super::run::plain::in_100;
    let mut out = Vec::new();
    for (i, t) in r.tests.iter().take(2).enumerate() {
        let lead = if i == 0 {
            format!(
                "Averaged over {} draws of what is uncertain ({} parameter{}), ",
                r.draws - r.invalid_draws,
                r.keys.len(),
                if r.keys.len() == 1 { "" } else { "s" }
            )
        } else {
            "Likewise, ".to_string()
        };
        out.push(format!(
            "{lead}the {} test would show the experimental arm better in about {} of 100 trials, against {} of 100 at the parameters' point estimate.",
            t.test,
            in_100(t.assurance),
            in_100(t.power)
        ));
    }
    if let Some(t) = r.tests.first() {
        let gap = in_100((t.power - t.assurance).abs());
        out.push(if t.assurance < t.power {
            format!("The uncertainty lowers the chance of success by about {gap} in 100: a trial sized at the point estimate is less likely to succeed than its power suggests.")
        } else {
            format!("The uncertainty raises the chance of success by about {gap} in 100.")
        });
    }
    out
}
