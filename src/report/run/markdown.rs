//! summary.md: the same results for people — power with Monte Carlo error beside the type I
//! error under identical arms, truth beside simulation, the crossing and the long-term benefit.

use std::fmt::Write;

use crate::analysis::{Estimate, EstimateSpec};
use crate::report::{Results, fmt, md_text, se_decimals, short};
use crate::scenario::Sides;
use crate::summary::{Proportion, Tally};
use crate::test_statistic::Claim;

/// A proportion in percent with its Monte Carlo SE and Wilson interval, to as many decimals as
/// show the SE's first significant digit (one at least, four at most): `98.83% ± 0.02`, never
/// `98.8% ± 0.0`.
pub(crate) fn pct(p: Proportion) -> String {
    if p.estimate.is_nan() {
        return "—".into();
    }
    let d = se_decimals(100.0 * p.se);
    format!(
        "{:.d$}% ± {:.d$} (95% CI {:.d$}–{:.d$})",
        100.0 * p.estimate,
        100.0 * p.se,
        100.0 * p.lower,
        100.0 * p.upper
    )
}

/// summary.md: one section per function, in reading order.
pub(crate) fn render(r: &Results) -> String {
    let mut o = String::new();
    header(&mut o, r);
    plain_words(&mut o, r);
    power(&mut o, r);
    never_better(&mut o, r);
    survival(&mut o, r);
    strata(&mut o, r);
    composites(&mut o, r);
    long_term_benefit(&mut o, r);
    crossing(&mut o, r);
    super::monitoring::markdown(&mut o, r);
    events(&mut o, r);
    glossary(&mut o, r);
    o
}

/// The results in three to five sentences ([`super::plain`]), with the glossary one click away.
fn plain_words(o: &mut String, r: &Results) {
    let sentences: Vec<String> = super::plain::sentences(r).iter().map(|s| md_text(s)).collect();
    let _ = writeln!(
        o,
        "## In plain words
"
    );
    let _ = writeln!(
        o,
        "{} ([What these words mean](#glossary))
",
        sentences.join(" ")
    );
}

/// What the words of the report mean: power, type I error, the never-better rate, … and each
/// test of the run in one line.
fn glossary(o: &mut String, r: &Results) {
    let _ = writeln!(o, "\n## Glossary\n");
    for (word, meaning) in super::plain::glossary(r) {
        let _ = writeln!(o, "- **{}**: {meaning}", md_text(&word));
    }
}

/// What `cox_periods`' claim of a lower late hazard is at the boundary: true or false, with the
/// boundary model's late average hazard ratio.
pub(crate) fn late_claim(b: &crate::truth::never_better::Boundary, claim: Claim) -> String {
    let ahr = b.late_ahr.map_or("—".to_string(), |a| format!("{a:.3}"));
    if b.claim_holds(claim) {
        format!("claims a lower late hazard: true here, late AHR {ahr}")
    } else {
        format!("claims a lower late hazard: false here too, late AHR {ahr}, so an error")
    }
}

/// How often each test declares benefit at the never-better boundary, beside its type I error.
fn never_better(o: &mut String, r: &Results) {
    let Some((b, s)) = r.never_better else { return };
    let unit = &r.scenario.time_unit;
    let keys: Vec<String> = b.vary.iter().map(|k| format!("`{k}`")).collect();
    let _ = writeln!(o, "\n## Declaring benefit at the never-better boundary\n");
    let _ = writeln!(
        o,
        "With {} set to **{}** (the scenario has {}; searched towards {}), the experimental arm's true \
         survival on `{}` is nowhere above control's up to {} {unit}: it is never better. A test that \
         declares benefit here is wrong, whatever its type I error with identical arms. {} trials, \
         rejections favouring the experimental arm.\n",
        keys.join(" and "),
        short(b.value),
        short(b.from),
        short(b.to),
        r.scenario.primary().name,
        short(b.until),
        s.replicates
    );
    let _ = writeln!(o, "| test | declares benefit at the boundary | type I error (identical arms) |");
    let _ = writeln!(o, "|---|---|---|");
    for (i, (name, kind)) in r.layout.tests.iter().enumerate() {
        let rate = pct(Proportion::new(s.tests[i].benefit, s.replicates));
        let rate = match kind.claim() {
            Claim::Benefit => rate,
            claim => format!("{rate} ({})", late_claim(b, claim)),
        };
        let null = type_i_cell(r, i).unwrap_or_else(|| "—".into());
        let _ = writeln!(o, "| `{name}` | {rate} | {null} |");
    }
    if let (Some(monitor), Some(tally)) = (&r.layout.monitor, &s.monitoring) {
        for (mt, t) in monitor.tests.iter().zip(&tally.tests) {
            let rate = pct(Proportion::new(t.rejected, s.replicates));
            let _ = writeln!(o, "| `{}` monitored (efficacy at any look) | {rate} | — |", mt.name);
        }
    }
}

/// On a monitored scenario, the table below is each test analysed once at the cut: said above
/// it, with the monitored designs' power (the headline of a monitored trial) first.
fn monitored_power(o: &mut String, r: &Results) {
    let (Some(m), Some(t)) = (&r.layout.monitor, &r.summary.monitoring) else { return };
    let reps = r.summary.replicates;
    let parts: Vec<String> = m
        .tests
        .iter()
        .zip(&t.tests)
        .map(|(mt, tt)| format!("`{}` {}", mt.name, pct(Proportion::new(tt.rejected, reps))))
        .collect();
    let _ = writeln!(
        o,
        "Power of the monitored design{} ({} interim look{} and the safety rule, if any, included): {}; stopping by look and reason in § Interim monitoring. The table is each test analysed once at the cut, without interim looks.\n",
        if parts.len() == 1 { "" } else { "s" },
        m.looks.len(),
        if m.looks.len() == 1 { "" } else { "s" },
        parts.join(", ")
    );
}

/// The power of test `i` as summary.md prints it (the explorer shows the same text): the
/// proportion with its SE and interval, or why there is none.
pub(crate) fn power_cell(r: &Results, i: usize) -> String {
    let (sc, s, reps) = (r.scenario, r.summary, r.summary.replicates);
    let kind = &r.layout.tests[i].1;
    let tt = s.tests[i];
    // A test estimable in no trial has no power to report, only a reason.
    if tt.not_estimable == reps {
        let beyond = crate::truth::beyond_follow_up(sc, r.truth.expected_cut);
        let key = kind.needs().map(|n| n.key());
        match beyond.iter().find(|b| key.is_some_and(|k| b.key.starts_with(k))) {
            Some(b) => format!("n/a: `{}` = {} is beyond the expected cut ({})", b.key, b.value, fmt(b.cut)),
            None => "n/a: not estimable in any trial".to_string(),
        }
    } else {
        pct(Proportion::new(tt.benefit, reps))
    }
}

/// The type I error of test `i` under identical arms as summary.md prints it, when the run had
/// an identical-arms copy.
pub(crate) fn type_i_cell(r: &Results, i: usize) -> Option<String> {
    let (null, _) = r.null?;
    let e = Proportion::new(
        crate::report::null_rejections(&null.tests[i], r.scenario.analysis.sides),
        null.replicates,
    );
    Some(format!("{:.2}% ± {:.2}", 100.0 * e.estimate, 100.0 * e.se))
}

/// An estimate's layout entry and summary, when the layout has it.
fn estimate<'a>(r: &'a Results, e: &Estimate) -> Option<(&'a EstimateSpec, &'a Tally)> {
    r.layout.index_of(e).map(|i| (&r.layout.estimates[i], &r.summary.estimates[i]))
}

/// The title line and what was simulated.
fn header(o: &mut String, r: &Results) {
    let sc = r.scenario;
    let s = r.summary;
    let reps = s.replicates;
    let title = if sc.title.is_empty() { String::new() } else { format!(" — {}", sc.title) };
    let _ = writeln!(o, "# {}{}\n", sc.name, md_text(&title));
    let sides = match sc.analysis.sides {
        Sides::One => "one-sided",
        Sides::Two => "two-sided",
    };
    let _ = writeln!(
        o,
        "{reps} replicates, seed {}; n = {}; endpoint `{}`; α = {} {sides}. \
         z < 0 favours the experimental arm. ± is the Monte Carlo standard error.\n",
        r.seed,
        sc.design.n,
        sc.primary().name,
        sc.analysis.alpha
    );
}

/// What each test concludes: power with MC error, mean z, type I error with identical arms.
fn power(o: &mut String, r: &Results) {
    let sc = r.scenario;
    let s = r.summary;
    let reps = r.summary.replicates;
    if r.layout.groups == 2 {
        let (ctl, exp) = (sc.control().expect("two groups"), sc.experimental().expect("two groups"));
        let _ = writeln!(
            o,
            "Experimental: **{}** (`{}`); control: **{}** (`{}`).\n",
            md_text(&exp.label),
            exp.name,
            md_text(&ctl.label),
            ctl.name
        );
        let _ = writeln!(o, "## Power\n");
        monitored_power(o, r);
        let null_col = r.null.is_some();
        let _ = writeln!(
            o,
            "| test | power | mean z | not estimable |{}",
            if null_col { " type I error (identical arms) |" } else { "" }
        );
        let _ = writeln!(o, "|---|---|---|---|{}", if null_col { "---|" } else { "" });
        for (i, (name, _)) in r.layout.tests.iter().enumerate() {
            let tt = s.tests[i];
            let power = power_cell(r, i);
            let mut line = format!(
                "| `{name}` | {power} | {} | {} |",
                fmt(r.layout.z_of(i).map_or(f64::NAN, |z| s.estimates[z].moments.mean())),
                tt.not_estimable
            );
            if let Some(cell) = type_i_cell(r, i) {
                let _ = write!(line, " {cell} |");
            }
            let _ = writeln!(o, "{line}");
        }
        if sc.analysis.sides == Sides::Two {
            let _ = writeln!(o, "\nRejections against the experimental arm (z > 0):");
            for (i, (name, _)) in r.layout.tests.iter().enumerate() {
                let _ = writeln!(o, "- `{name}`: {:.2}%", 100.0 * s.tests[i].harm as f64 / reps as f64);
            }
        }
        let is_win =
            |k: &crate::test_statistic::TestKind| matches!(k, crate::test_statistic::TestKind::Win { .. });
        let asymptotic: Vec<&str> = r
            .layout
            .tests
            .iter()
            .filter(|(_, k)| k.is_asymptotic() && !is_win(k))
            .map(|(n, _)| n.as_str())
            .collect();
        let composites: Vec<&str> =
            r.layout.tests.iter().filter(|(_, k)| is_win(k)).map(|(n, _)| n.as_str()).collect();
        if !composites.is_empty() && r.null.is_some() {
            let _ = writeln!(
                o,
                "\nThe {} tests use the Finkelstein–Schoenfeld permutation variance, exact only when follow-up does not differ by arm: their type I error at this size is the measured one in the last column.",
                composites.join(" and ")
            );
        }
        if !asymptotic.is_empty() && r.null.is_some() {
            let _ = writeln!(
                o,
                "\nThe {} tests are asymptotic (Greenwood / survmean variances): their type I error at this \
                 size is the measured one in the last column, not necessarily α.",
                asymptotic.join(" and ")
            );
        }
    } else {
        let _ = writeln!(o, "Single-arm study: no comparison; truth and Kaplan–Meier only.\n");
        if !sc.analysis.tests.is_empty() {
            let names: Vec<String> = sc.analysis.tests.iter().map(|t| format!("`{}`", t.name)).collect();
            let _ = writeln!(
                o,
                "The tests in `analysis.tests` ({}) compare two arms and were not run.\n",
                names.join(", ")
            );
        }
    }
}

/// True survival at the horizons beside the simulated Kaplan–Meier.
fn survival(o: &mut String, r: &Results) {
    let sc = r.scenario;
    let unit = &r.scenario.time_unit;
    let est = |e: &Estimate| estimate(r, e);
    if sc.analysis.horizons.is_empty() {
        // No horizons, no rows: a section with nothing to say is left out.
        return;
    }
    let _ = writeln!(o, "\n## Survival (`{}`): truth and simulated Kaplan–Meier\n", sc.primary().name);
    let _ = writeln!(
        o,
        "| {unit} | arm | true S(t) | mean KM | SD | 2.5% | 97.5% | mean Greenwood SE | not estimable |"
    );
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|---|");
    for (horizon, &h) in sc.analysis.horizons.iter().enumerate() {
        for group in 0..r.layout.groups {
            let name = &sc.arms[r.layout.group_arms[group]].name;
            let arm = name.clone();
            if let (Some((spec, tl)), Some((_, se))) = (
                est(&Estimate::Km { group, arm: arm.clone(), horizon, at: h }),
                est(&Estimate::KmSe { group, arm, horizon, at: h }),
            ) {
                let _ = writeln!(
                    o,
                    "| {h} | `{name}` | {} | {} | {} |",
                    spread(spec, tl),
                    fmt(se.moments.mean()),
                    tl.nan
                );
            }
        }
        if let Some((spec, tl)) = est(&Estimate::KmDifference { horizon, at: h }) {
            let _ = writeln!(o, "| {h} | difference | {} | | {} |", spread(spec, tl), tl.nan);
        }
    }
}

/// With `[strata]`: each stratum's true curves, incidences, crossing and AHR (its patients
/// alone), then what the trials estimate within each stratum (subgroup KM differences and log
/// hazard ratios, with their spread over the trials).
fn strata(o: &mut String, r: &Results) {
    let (sc, t) = (r.scenario, r.truth);
    if t.strata.is_empty() {
        return;
    }
    let unit = &sc.time_unit;
    let h = &sc.analysis.horizons;
    let _ = writeln!(o, "\n## Strata\n");
    let _ = writeln!(
        o,
        "{} strata, randomised by `{}`. The true values below are each stratum's patients alone; every other section is the whole population, the strata mixed by share (docs/strata.md).{}\n",
        t.strata.len(),
        sc.design.randomisation.name(),
        if sc.monitoring.as_ref().is_some_and(|m| m.safety.is_some()) {
            " The safety rule counts every patient of its arm, whatever the stratum."
        } else {
            ""
        }
    );
    let arms: Vec<&str> = t.survival.iter().map(|c| c.arm.as_str()).collect();
    let last = h.last().copied();
    let mut head = String::from("| stratum | share |");
    if let Some(l) = last {
        for a in &arms {
            head.push_str(&format!(" true S({l}) `{a}` |"));
        }
    }
    for &x in h {
        head.push_str(&format!(" true difference at {x} |"));
    }
    head.push_str(&format!(" curves cross at ({unit}) | AHR |"));
    let _ = writeln!(o, "{head}");
    let _ = writeln!(o, "|{}", "---|".repeat(head.matches('|').count() - 1));
    for st in &t.strata {
        let share = if st.present { fmt(st.share) } else { "0 (absent: enrols nobody)".into() };
        let name = if st.label == st.stratum {
            format!("`{}`", st.stratum)
        } else {
            format!("{} (`{}`)", md_text(&st.label), st.stratum)
        };
        let mut row = format!("| {name} | {share} |");
        if last.is_some() {
            for c in &st.survival {
                row.push_str(&format!(" {} |", fmt(c.values.last().copied().unwrap_or(f64::NAN))));
            }
        }
        for d in &st.difference {
            row.push_str(&format!(" {} |", fmt(*d)));
        }
        let cross = if st.crossing_times.is_empty() {
            "never".to_string()
        } else {
            st.crossing_times.iter().map(|&x| fmt(x)).collect::<Vec<_>>().join(", ")
        };
        row.push_str(&format!(" {cross} | {} |", fmt(st.ahr_overall)));
        let _ = writeln!(o, "{row}");
    }
    if !h.is_empty() {
        let _ = writeln!(
            o,
            "\nTrue cumulative incidence of each cause of `{}` per stratum and arm:\n",
            sc.primary().name
        );
        let head: String = h.iter().map(|x| format!(" by {x} |")).collect();
        let _ = writeln!(o, "| stratum | arm | cause |{head}");
        let _ = writeln!(o, "|---|---|---|{}", "---|".repeat(h.len()));
        for st in &t.strata {
            for c in &st.cumulative_incidence {
                let cells: String = c.values.iter().map(|v| format!(" {} |", fmt(*v))).collect();
                let _ = writeln!(o, "| `{}` | `{}` | `{}` |{cells}", st.stratum, c.arm, c.cause);
            }
        }
    }
    let _ = writeln!(
        o,
        "\nWithin each stratum, the simulated trials' estimates (subgroups: each stratum's own patients; an absent stratum's are all not estimable):\n"
    );
    let _ = writeln!(o, "| estimate | truth | mean | SD | 2.5% | 97.5% | not estimable |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|");
    for (spec, tl) in r.layout.estimates.iter().zip(&r.summary.estimates) {
        if matches!(spec.estimate, Estimate::StratumLogHr { .. } | Estimate::StratumKmDifference { .. }) {
            let _ = writeln!(o, "| `{}` | {} | {} |", spec.estimate, spread(spec, tl), tl.nan);
        }
    }
}

/// Each composite's win statistics over the trials, and which layer decides the pairs
/// (docs/composite.md).
fn composites(o: &mut String, r: &Results) {
    use crate::analysis::plan::WinEstimate;
    use crate::scenario::CompositeLayer;
    let sc = r.scenario;
    let unit = &sc.time_unit;
    for (test, (name, kind)) in r.layout.tests.iter().enumerate() {
        let crate::test_statistic::TestKind::Win { composite } = *kind else { continue };
        let c = &sc.composites[composite];
        let _ = writeln!(o, "\n## Composite `{}`: {}\n", c.name, md_text(&c.label));
        let _ = writeln!(
            o,
            "Every experimental–control pair is compared layer by layer; the first layer that decides, decides the pair (docs/composite.md). The test `{name}` is Finkelstein–Schoenfeld's; the win ratio is W/L, the win odds (W + T/2)/(L + T/2), the net benefit (W − L)/pairs.\n"
        );
        let q = |tl: &Tally, p: f64| fmt(tl.hist.quantile(p));
        let _ = writeln!(o, "| statistic | mean | median | 2.5% | 97.5% | not estimable |");
        let _ = writeln!(o, "|---|---|---|---|---|---|");
        let parts = [
            (WinEstimate::WinRatio, "win ratio"),
            (WinEstimate::WinOdds, "win odds"),
            (WinEstimate::NetBenefit, "net benefit"),
            (WinEstimate::ShareAll, "share of all pairs favouring the experimental arm"),
            (WinEstimate::ShareDecided, "share of decided pairs favouring the experimental arm"),
        ];
        for (part, label) in parts {
            let e = Estimate::Win { test, name: name.clone(), composite, part };
            if let Some((_, tl)) = estimate(r, &e) {
                let _ = writeln!(
                    o,
                    "| {label} | {} | {} | {} | {} | {} |",
                    fmt(tl.moments.mean()),
                    q(tl, 0.5),
                    q(tl, 0.025),
                    q(tl, 0.975),
                    tl.nan
                );
            }
        }
        let _ = writeln!(
            o,
            "\nWhich layer decides the pairs (mean share of all pairs; `[k]` as in `{name}.layer[k].wins`):\n"
        );
        let _ = writeln!(o, "| layer | won by the experimental patient | lost |");
        let _ = writeln!(o, "|---|---|---|");
        let mut decided = 0.0;
        for (l, layer) in c.layers.iter().enumerate() {
            let what = match *layer {
                CompositeLayer::Event { endpoint, until } => format!(
                    "`[{}]` `{}`, time to event{}",
                    l,
                    sc.endpoints[endpoint].name,
                    until.map_or(String::new(), |u| format!(" up to {u} {unit}"))
                ),
                CompositeLayer::Outcome { outcome, at, margin } => format!(
                    "`[{}]` `{}` at {} {unit} (margin {margin})",
                    l,
                    sc.outcomes[outcome].name,
                    sc.assessments.as_ref().map_or(f64::NAN, |a| a.at[at])
                ),
            };
            let mean = |part| {
                let e = Estimate::Win { test, name: name.clone(), composite, part };
                estimate(r, &e).map_or(f64::NAN, |(_, tl)| tl.moments.mean())
            };
            let (w, lo) = (mean(WinEstimate::LayerWins(l)), mean(WinEstimate::LayerLosses(l)));
            decided += w + lo;
            let _ = writeln!(o, "| {what} | {:.1}% | {:.1}% |", 100.0 * w, 100.0 * lo);
        }
        let _ = writeln!(o, "| tied on every layer | {:.1}% | |", 100.0 * (1.0 - decided));
    }
}

/// An estimate's truth, mean, SD, 2.5% and 97.5% points over the replicates, as table cells.
fn spread(spec: &EstimateSpec, tl: &Tally) -> String {
    let q = |p: f64| fmt(tl.hist.quantile(p));
    let truth = fmt(spec.truth.unwrap_or(f64::NAN));
    format!("{truth} | {} | {} | {} | {}", fmt(tl.moments.mean()), fmt(tl.moments.sd()), q(0.025), q(0.975))
}

/// The long-term truth to the horizon, then the trials' RMST and milestone differences and the
/// coverage of their CIs.
fn long_term_benefit(o: &mut String, r: &Results) {
    let sc = r.scenario;
    let t = r.truth;
    let est = |e: &Estimate| estimate(r, e);
    if t.long_term.is_some() || t.rmst.is_some() {
        let _ = writeln!(o, "\n## Long-term benefit");
    }
    if let Some(lt) = &t.long_term {
        let _ = writeln!(
            o,
            "\n### The model's truth to {} {} (no simulation)\n",
            short(lt.horizon),
            sc.time_unit
        );
        crate::report::truth::long_term(o, lt, &sc.time_unit);
        if let Some(u) = r.long_term_draws {
            crate::report::truth::long_term_uncertainty(o, u, &sc.time_unit);
        }
    }
    if let Some(rt) = &t.rmst {
        if t.long_term.is_some() {
            let _ = writeln!(o, "### What the simulated trials estimate\n");
        } else {
            let _ = writeln!(o);
        }
        let _ = writeln!(o, "| quantity | truth | mean estimate | SD | 2.5% | 97.5% | not estimable |");
        let _ = writeln!(o, "|---|---|---|---|---|---|---|");
        let mut rows: Vec<Estimate> = (0..r.layout.groups)
            .map(|group| Estimate::Rmst { group, arm: sc.arms[r.layout.group_arms[group]].name.clone() })
            .collect();
        rows.extend([Estimate::RmstDiff, Estimate::RmstRatio, Estimate::MilestoneDiff]);
        for e in rows {
            if let Some((spec, tl)) = est(&e) {
                let label = match &e {
                    Estimate::RmstDiff => format!("RMST difference to τ = {}", rt.tau),
                    Estimate::RmstRatio => format!("RMST ratio to τ = {}", rt.tau),
                    Estimate::MilestoneDiff => {
                        format!("survival difference at {}", sc.analysis.milestone.unwrap_or(f64::NAN))
                    }
                    Estimate::Rmst { arm, .. } => format!("RMST `{arm}` to τ = {}", rt.tau),
                    other => other.to_string(),
                };
                let _ = writeln!(o, "| {label} | {} | {} |", spread(spec, tl), tl.nan);
            }
        }
    }

    extrapolation(o, r);
    let coverage: Vec<String> = [
        (Estimate::RmstDiffCovers, Estimate::RmstDiff),
        (Estimate::RmstRatioCovers, Estimate::RmstRatio),
        (Estimate::MilestoneDiffCovers, Estimate::MilestoneDiff),
    ]
    .iter()
    .filter_map(|(covers, of)| est(covers).map(|(_, tl)| format!("`{of}` {}", fmt(tl.moments.mean()))))
    .collect();
    if !coverage.is_empty() {
        let _ = writeln!(
            o,
            "\nCoverage of the two-sided 95% confidence intervals (fraction of trials whose CI holds the truth): {}.",
            coverage.join(", ")
        );
    }
}

/// Bias, SD, RMSE and mean of an estimate whose truth is `truth`, as table cells.
pub(crate) fn accuracy(tl: &Tally, truth: f64) -> [String; 4] {
    let (bias, sd, rmse) = crate::followup::accuracy(tl, truth);
    [fmt(bias), fmt(sd), fmt(rmse), fmt(tl.moments.mean())]
}

/// What each trial says about the long-term benefit: the RMST difference to the τ its follow-up
/// supports, and the extrapolations beyond it, against the truth.
fn extrapolation(o: &mut String, r: &Results) {
    let Some(x) = r.scenario.analysis.long_term.as_ref().and_then(|l| l.extrapolation.as_ref()) else {
        return;
    };
    let unit = &r.scenario.time_unit;
    let reps = r.summary.replicates as f64;
    let Some((_, tau)) = estimate(r, &Estimate::SupportedTau) else { return };
    let q = |p: f64| short((tau.hist.quantile(p) * 100.0).round() / 100.0);
    let _ = writeln!(
        o,
        "\nEach trial's own estimate of the long-term benefit: the RMST difference to the largest τ its follow-up supports (the earlier of the two arms' last observed times: median {} {unit}, 95% of trials {}–{}), and its difference extrapolated to {} {unit} by a model fitted to each arm's data and continued (the truth is the model's ΔRMST there). Bias, SD and RMSE are over the trials where the fit is estimable; coverage is that of the delta-method 95% interval.\n",
        q(0.5),
        q(0.025),
        q(0.975),
        x.at.iter().map(|t| short(*t)).collect::<Vec<_>>().join(" and ")
    );
    let _ = writeln!(o, "| estimate | truth | mean | bias | SD | RMSE | 95% coverage | not estimable |");
    let _ = writeln!(o, "|---|---|---|---|---|---|---|---|");
    if let Some((_, err)) = estimate(r, &Estimate::SupportedRmstError) {
        let [bias, sd, rmse, _] = accuracy(err, 0.0);
        let _ = writeln!(
            o,
            "| RMST difference to the supported τ (Kaplan–Meier) | at each trial's τ | — | {bias} | {sd} | {rmse} | — | {:.1}% |",
            100.0 * err.nan as f64 / reps
        );
    }
    for (method, m) in x.methods.iter().enumerate() {
        for &at in &x.at {
            let name = m.name();
            let Some((spec, tl)) = estimate(r, &Estimate::Extrapolated { method, name, at }) else {
                continue;
            };
            let truth = spec.truth.unwrap_or(f64::NAN);
            let [bias, sd, rmse, mean] = accuracy(tl, truth);
            let coverage = estimate(r, &Estimate::ExtrapolatedCovers { method, name, at })
                .map_or("—".to_string(), |(_, c)| fmt(c.moments.mean()));
            let label = match m {
                crate::scenario::ExtrapolationMethod::Weibull => "Weibull per arm".to_string(),
                crate::scenario::ExtrapolationMethod::PiecewiseExponential { cuts } => format!(
                    "piecewise exponential per arm (cuts {})",
                    cuts.iter().map(|c| short(*c)).collect::<Vec<_>>().join(", ")
                ),
            };
            let _ = writeln!(
                o,
                "| {label}, to {} {unit} | {} | {mean} | {bias} | {sd} | {rmse} | {coverage} | {:.1}% |",
                short(at),
                fmt(truth),
                100.0 * tl.nan as f64 / reps
            );
        }
    }
}

/// The true and observed crossing of the curves, what a trial shows and detects, AHR per period.
fn crossing(o: &mut String, r: &Results) {
    if r.layout.groups != 2 {
        return;
    }
    let sc = r.scenario;
    let s = r.summary;
    let t = r.truth;
    let reps = r.summary.replicates;
    let unit = &r.scenario.time_unit;
    let est = |e: &Estimate| estimate(r, e);
    let _ = writeln!(o, "\n## Crossing of the survival curves\n");
    let rule = sc.analysis.crossing;
    let equal = if t.crossing_times.is_empty() {
        "the true curves do not cross".to_string()
    } else {
        format!(
            "the true curves are equal at {} {unit}",
            t.crossing_times.iter().map(|x| format!("{x:.3}")).collect::<Vec<_>>().join(", ")
        )
    };
    let by_rule = match t.crossing_by_rule {
        Some(x) => format!(
            "the rule below, applied to the true curves, fires at {x:.3} {unit} (the truth of the observed crossing time)"
        ),
        None => "the rule below never fires on the true curves".to_string(),
    };
    let _ = writeln!(o, "Truth: {equal}; {by_rule}.\n");
    let _ = writeln!(
        o,
        "Observed crossing (experimental KM first ≥ {} below control, then ≥ {} above, ≥ {} at risk per arm):\n",
        rule.min_gap, rule.min_gap, rule.min_at_risk
    );
    let _ = writeln!(o, "- in this design: {}", pct(Proportion::new(s.crossings, reps)));
    if let Some((null, _)) = r.null {
        let _ = writeln!(
            o,
            "- with identical arms (chance alone): {}",
            pct(Proportion::new(null.crossings, null.replicates))
        );
    }
    if let Some((_, tl)) = est(&Estimate::CrossingTime) {
        let _ = writeln!(
            o,
            "- observed crossing time: median {}, 95% range {}–{} {unit}",
            fmt(tl.hist.quantile(0.5)),
            fmt(tl.hist.quantile(0.025)),
            fmt(tl.hist.quantile(0.975))
        );
    }
    let h = &sc.analysis.horizons;
    if !h.is_empty() {
        let _ = writeln!(
            o,
            "- trial shows early harm (experimental KM below control at {} {unit}): {}",
            h[0],
            pct(Proportion::new(s.early_harm, reps))
        );
        let _ = writeln!(
            o,
            "- trial shows late benefit (experimental KM above control at {} {unit}): {}",
            h[h.len() - 1],
            pct(Proportion::new(s.late_benefit, reps))
        );
    }
    detections(o, r);
    hazard_ratios(o, r);
}

/// What a trial detects (early harm, late benefit), and the primary test against the observed
/// crossing.
fn detections(o: &mut String, r: &Results) {
    let s = r.summary;
    let reps = r.summary.replicates;
    // Without periods or horizons nothing can be detected: the table would read 100% "neither".
    if super::summary::detects_available(r) {
        let d = &s.detects;
        let _ = writeln!(o, "\nWhat a trial detects ({}):\n", super::summary::detects_method(r));
        let _ = writeln!(o, "| detects | probability |");
        let _ = writeln!(o, "|---|---|");
        for (label, k) in [("neither", 0), ("early harm only", 1), ("late benefit only", 2), ("both", 3)] {
            let _ = writeln!(o, "| {label} | {} |", pct(Proportion::new(d[k], reps)));
        }
    }
    if let Some((name, _)) = r.layout.tests.first() {
        let c = &s.primary_by_crossing;
        let f = |k: usize| format!("{:.1}%", 100.0 * c[k] as f64 / reps as f64);
        let _ = writeln!(o, "\nPrimary test `{name}` (significant benefit) against the observed crossing:\n");
        let _ = writeln!(o, "| | crossing observed | no crossing |");
        let _ = writeln!(o, "|---|---|---|");
        let _ = writeln!(o, "| significant | {} | {} |", f(3), f(1));
        let _ = writeln!(o, "| not significant | {} | {} |", f(2), f(0));
    }
}

/// Cox hazard ratios beside the true average hazard ratio, and the AHR per period.
fn hazard_ratios(o: &mut String, r: &Results) {
    let s = r.summary;
    let t = r.truth;
    let unit = &r.scenario.time_unit;
    let cox_rows: Vec<String> = r
        .layout
        .estimates
        .iter()
        .zip(&s.estimates)
        .filter(|(e, _)| e.estimate.is_log_hr())
        .map(|(e, tl)| {
            let hr = |x: f64| fmt(x.exp());
            format!(
                "| `{}` | {} | {} | {}–{} | {} |",
                e.estimate.to_string().replace(".log_hr", " HR"),
                e.truth.map_or("—".into(), hr),
                hr(tl.hist.quantile(0.5)),
                hr(tl.hist.quantile(0.025)),
                hr(tl.hist.quantile(0.975)),
                tl.nan
            )
        })
        .collect();
    if !cox_rows.is_empty() {
        let _ = writeln!(
            o,
            "\nCox hazard ratios (experimental vs control) beside the true average hazard ratio:\n"
        );
        let _ = writeln!(o, "| estimate | true AHR | median | 95% of trials | not estimable |");
        let _ = writeln!(o, "|---|---|---|---|---|");
        for l in cox_rows {
            let _ = writeln!(o, "{l}");
        }
    }
    if !t.ahr.is_empty() {
        let _ = writeln!(
            o,
            "\nTrue average hazard ratio (experimental vs control, weighted by expected events):\n"
        );
        let _ = writeln!(o, "| period ({unit}) | AHR |");
        let _ = writeln!(o, "|---|---|");
        for p in &t.ahr {
            let to = p.to.map_or("end".to_string(), |x| x.to_string());
            let _ = writeln!(o, "| ({}, {to}] | {} |", p.from, fmt(p.ahr));
        }
        let _ = writeln!(o, "| overall | {} |", fmt(t.ahr_overall));
    }
}

/// Events at the cut (by arm and cause) and when the cut falls.
fn events(o: &mut String, r: &Results) {
    let sc = r.scenario;
    let s = r.summary;
    let t = r.truth;
    let reps = r.summary.replicates;
    let unit = &r.scenario.time_unit;
    let est = |e: &Estimate| estimate(r, e);
    let _ = writeln!(o, "\n## Events and the data cut\n");
    let ev = (s.events[0] + s.events[1]) as f64 / reps as f64;
    let _ = writeln!(
        o,
        "Primary-endpoint events at the cut: mean {} (expected {}). Cut at calendar time: mean {} (expected {}) {unit}.",
        fmt(ev),
        fmt(t.expected_events_total),
        fmt(est(&Estimate::Cut).map_or(f64::NAN, |(_, tl)| tl.moments.mean())),
        fmt(t.expected_cut.unwrap_or(f64::NAN))
    );
    if s.target_not_reached > 0 {
        let _ = writeln!(
            o,
            "\nThe event target was not reached in {} replicates (cut when the last patient left follow-up).",
            s.target_not_reached
        );
    }
    let _ = writeln!(o, "\n| arm | cause | mean events |");
    let _ = writeln!(o, "|---|---|---|");
    for g in 0..r.layout.groups {
        let name = &sc.arms[r.layout.group_arms[g]].name;
        for &k in &sc.primary().causes {
            let c = s.events_by_cause[g * r.layout.n_causes + k] as f64 / reps as f64;
            let _ = writeln!(o, "| `{name}` | {} | {} |", sc.causes[k], fmt(c));
        }
        let _ = writeln!(o, "| `{name}` | all | {} |", fmt(s.events[g] as f64 / reps as f64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_se_is_printed_to_its_first_significant_digit() {
        // 98.8% of 40,000: SE 0.054 percentage points, two decimals.
        assert_eq!(pct(Proportion::new(39_520, 40_000)), "98.80% ± 0.05 (95% CI 98.69–98.90)");
        // A typical SE of a few tenths keeps one decimal.
        assert_eq!(se_decimals(0.35), 1);
        assert_eq!(se_decimals(0.017), 2);
        assert_eq!(se_decimals(1e-9), 4);
        // SE 0 (every replicate the same): one decimal, an interval inside [0, 100], no −0.0.
        let zero = pct(Proportion::new(0, 1000));
        assert!(zero.starts_with("0.0% ± 0.0 (95% CI 0.0–"), "{zero}");
        assert!(!zero.contains('-'), "{zero}");
        let one = pct(Proportion::new(1000, 1000));
        assert!(one.ends_with("–100.0)"), "{one}");
    }
}
