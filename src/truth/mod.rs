//! The model's true quantities, computed without simulation: survival per arm and endpoint,
//! cumulative incidence per cause, RMST, the difference at each horizon, the times where the
//! true curves cross, the expected events and cut time of the design, and the average hazard
//! ratio per period, and the long-term benefit to a horizon of decades. Reports print them beside
//! the simulated estimates.
//!
//! With independent latent causes, an endpoint E (a set of causes) has cumulative hazard
//! H_E = Σ_{k∈E} H_k and S_E = exp(−H_E); the cumulative incidence of cause k as the first event
//! of E is F_{k|E}(t) = ∫₀ᵗ h_k S_E (Kalbfleisch & Prentice 2002, §8.2). Integrals use adaptive
//! Gauss–Kronrod split at every hazard breakpoint.

mod crossing;
mod curves;
mod design;
mod information;
pub mod long_term;
pub mod mixture;
pub mod never_better;

use serde::Serialize;

pub use crossing::{crossing_times, rule_crossing};
pub use curves::{cumulative, cumulative_incidence, hazard, rmst, states, sub_density, survival};
pub use design::{
    BeyondFollowUp, average_hazard_ratio, average_hazard_ratio_between, average_hazard_ratio_of,
    beyond_follow_up, event_horizon, expected_cut, expected_events, reachable_end,
};
pub use information::{expected_null_variance, expected_z};
pub use mixture::ArmMix;

use crate::scenario::{Endpoint, Scenario};
use crate::time::Time;

/// Absolute tolerance of each quadrature piece: far below any Monte Carlo error.
pub(crate) const TOL: f64 = 1e-11;

/// True values printed beside the simulation (summary.json `truth`).
#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub endpoint: String,
    pub horizons: Vec<Time>,
    /// Primary-endpoint survival at each horizon, per allocated arm.
    pub survival: Vec<ArmCurve>,
    /// Experimental minus control survival at each horizon.
    pub difference: Vec<f64>,
    /// Survival at the horizons for every endpoint and allocated arm.
    pub endpoints: Vec<EndpointTruth>,
    /// Cumulative incidence of each cause of the primary endpoint at the horizons, per arm.
    pub cumulative_incidence: Vec<CauseCurve>,
    pub rmst: Option<RmstTruth>,
    pub milestone: Option<MilestoneTruth>,
    /// Times where the true primary-endpoint curves are equal and change order, up to the last
    /// time of interest.
    pub crossing_times: Vec<Time>,
    /// The observed-crossing rule applied to the true curves (at-risk condition aside): what the
    /// observed crossing time estimates. None when it never fires.
    pub crossing_by_rule: Option<Time>,
    /// Expected calendar time of the cut (None: the event target is not reached in expectation).
    pub expected_cut: Option<Time>,
    /// Expected primary-endpoint events at the expected cut, per arm and in total.
    pub expected_events: Vec<ArmValue>,
    pub expected_events_total: f64,
    /// Average hazard ratio per analysis period (right-closed), weighted by expected events.
    pub ahr: Vec<PeriodAhr>,
    /// Average hazard ratio over the whole follow-up.
    pub ahr_overall: f64,
    /// The long-term benefit to the horizon of `[analysis.long_term]`, every endpoint (two arms).
    pub long_term: Option<long_term::LongTerm>,
    /// The same per stratum (`[strata]` only; absent from summary.json without strata).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<StratumTruth>,
}

/// One stratum's true values on the primary endpoint (its arms alone, docs/strata.md).
#[derive(Debug, Clone, Serialize)]
pub struct StratumTruth {
    pub stratum: String,
    pub label: String,
    pub share: f64,
    /// False for a stratum of share 0: it enrols nobody (its model is still shown).
    pub present: bool,
    /// Survival at the horizons per allocated arm.
    pub survival: Vec<ArmCurve>,
    /// Experimental minus control at the horizons (two arms).
    pub difference: Vec<f64>,
    /// Cumulative incidence of each cause of the primary endpoint at the horizons, per arm.
    pub cumulative_incidence: Vec<CauseCurve>,
    /// Where the stratum's two curves cross, up to the last time of interest.
    pub crossing_times: Vec<Time>,
    /// The stratum's average hazard ratio over the follow-up at the expected cut.
    pub ahr_overall: f64,
    pub rmst: Option<RmstTruth>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmCurve {
    pub arm: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointTruth {
    pub endpoint: String,
    pub survival: Vec<ArmCurve>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CauseCurve {
    pub arm: String,
    pub cause: String,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArmValue {
    pub arm: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RmstTruth {
    pub tau: Time,
    pub arms: Vec<ArmValue>,
    pub difference: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MilestoneTruth {
    pub time: Time,
    pub arms: Vec<ArmValue>,
    pub difference: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodAhr {
    pub from: Time,
    pub to: Option<Time>,
    pub ahr: f64,
}

impl Truth {
    pub fn compute(sc: &Scenario) -> Truth {
        let ep = sc.primary();
        let h = &sc.analysis.horizons;
        let arms = mixture::allocated(sc);
        let curve = |arm: &ArmMix, ep: &Endpoint| ArmCurve {
            arm: arm.name().to_string(),
            values: h.iter().map(|&t| arm.survival(ep, t)).collect(),
        };
        let survival_primary: Vec<ArmCurve> = arms.iter().map(|a| curve(a, ep)).collect();
        let endpoints = sc
            .endpoints
            .iter()
            .map(|e| EndpointTruth {
                endpoint: e.name.clone(),
                survival: arms.iter().map(|a| curve(a, e)).collect(),
            })
            .collect();
        let cumulative_incidence = incidences(sc, &arms, ep, h);
        let pair = mixture::pair(sc);
        let pair = pair.as_ref().map(|(c, e)| (c, e));
        let difference = match pair {
            Some((c, e)) => h.iter().map(|&t| e.survival(ep, t) - c.survival(ep, t)).collect(),
            None => Vec::new(),
        };
        let per_arm = |f: &dyn Fn(&ArmMix) -> f64| -> Vec<ArmValue> {
            arms.iter().map(|a| ArmValue { arm: a.name().to_string(), value: f(a) }).collect()
        };
        let rmst_truth = sc.analysis.tau.map(|tau| RmstTruth {
            tau,
            arms: per_arm(&|a| a.rmst(ep, tau)),
            difference: pair.map_or(f64::NAN, |(c, e)| e.rmst(ep, tau) - c.rmst(ep, tau)),
        });
        let milestone = sc.analysis.milestone.map(|m| MilestoneTruth {
            time: m,
            arms: per_arm(&|a| a.survival(ep, m)),
            difference: pair.map_or(f64::NAN, |(c, e)| e.survival(ep, m) - c.survival(ep, m)),
        });
        let expected_cut = expected_cut(sc);
        let t_max = plot_horizon(sc, expected_cut);
        let crossing_times = pair.map_or_else(Vec::new, |(c, e)| crossing_times(c, e, ep, t_max));
        let crossing_by_rule = pair.and_then(|(c, e)| rule_crossing(c, e, ep, sc.analysis.crossing, t_max));
        let (expected_events, expected_events_total) = match expected_cut {
            Some(c) => {
                let v = per_arm(&|a| expected_events(sc, a, ep, c));
                let total = v.iter().map(|x| x.value).sum();
                (v, total)
            }
            None => (Vec::new(), f64::NAN),
        };
        let ahr = period_ahrs(sc, expected_cut.unwrap_or(t_max));
        Truth {
            endpoint: ep.name.clone(),
            horizons: h.clone(),
            survival: survival_primary,
            difference,
            endpoints,
            cumulative_incidence,
            rmst: rmst_truth,
            milestone,
            crossing_times,
            crossing_by_rule,
            expected_cut,
            expected_events,
            expected_events_total,
            ahr_overall: average_hazard_ratio(sc, expected_cut.unwrap_or(t_max), 0.0, f64::INFINITY),
            ahr,
            long_term: long_term::LongTerm::compute(sc, expected_cut),
            strata: strata(sc, expected_cut.unwrap_or(t_max), t_max),
        }
    }
}

/// The cumulative incidence of each cause of `ep` that an arm has, per arm, at `times`.
fn incidences(sc: &Scenario, arms: &[ArmMix], ep: &Endpoint, times: &[Time]) -> Vec<CauseCurve> {
    arms.iter()
        .flat_map(|a| {
            ep.causes.iter().filter(|&&k| a.has_cause(k)).map(move |&k| CauseCurve {
                arm: a.name().to_string(),
                cause: sc.causes[k].clone(),
                values: times.iter().map(|&t| a.cumulative_incidence(ep, k, t)).collect(),
            })
        })
        .collect()
}

/// Each stratum's true values (empty without strata).
fn strata(sc: &Scenario, cut: Time, t_max: Time) -> Vec<StratumTruth> {
    let ep = sc.primary();
    let h = &sc.analysis.horizons;
    sc.strata
        .iter()
        .enumerate()
        .map(|(s, st)| {
            let arms: Vec<ArmMix> = sc.allocated_arms().map(|(a, _)| ArmMix::in_stratum(sc, s, a)).collect();
            let pair = mixture::pair_in_stratum(sc, s);
            let survival = arms
                .iter()
                .map(|a| ArmCurve {
                    arm: a.name().to_string(),
                    values: h.iter().map(|&t| a.survival(ep, t)).collect(),
                })
                .collect();
            let cumulative_incidence = incidences(sc, &arms, ep, h);
            let (difference, crossing_times, ahr_overall, rmst) = match &pair {
                Some((c, e)) => (
                    h.iter().map(|&t| e.survival(ep, t) - c.survival(ep, t)).collect(),
                    crossing_times(c, e, ep, t_max),
                    average_hazard_ratio_between(sc, (c, e), ep, cut, 0.0, f64::INFINITY),
                    sc.analysis.tau.map(|tau| RmstTruth {
                        tau,
                        arms: arms
                            .iter()
                            .map(|a| ArmValue { arm: a.name().to_string(), value: a.rmst(ep, tau) })
                            .collect(),
                        difference: e.rmst(ep, tau) - c.rmst(ep, tau),
                    }),
                ),
                None => (Vec::new(), Vec::new(), f64::NAN, None),
            };
            StratumTruth {
                stratum: st.name.clone(),
                label: st.label.clone(),
                share: st.share,
                present: st.share > 0.0,
                survival,
                difference,
                cumulative_incidence,
                crossing_times,
                ahr_overall,
                rmst,
            }
        })
        .collect()
}

/// The average hazard ratio of each period of `analysis.periods` (from 0, the last open-ended)
/// over the trial cut at calendar time `cut`.
fn period_ahrs(sc: &Scenario, cut: Time) -> Vec<PeriodAhr> {
    let periods = &sc.analysis.periods;
    std::iter::once(0.0)
        .chain(periods.iter().copied())
        .enumerate()
        .map(|(i, from)| {
            let to = periods.get(i).copied();
            PeriodAhr { from, to, ahr: average_hazard_ratio(sc, cut, from, to.unwrap_or(f64::INFINITY)) }
        })
        .collect()
}

/// The last time of interest: the largest of the horizons, τ, the milestone, the period breaks
/// and the longest possible follow-up at the expected cut.
pub(crate) fn plot_horizon(sc: &Scenario, expected_cut: Option<Time>) -> Time {
    let a = &sc.analysis;
    let mut t: f64 = 0.0;
    for &x in a.horizons.iter().chain(&a.periods).chain(a.tau.iter()).chain(a.milestone.iter()) {
        t = t.max(x);
    }
    if let Some(c) = expected_cut {
        t = t.max(c);
    }
    if t <= 0.0 { 1.0 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::Hazard;
    use crate::scenario::Arm;

    fn arm(causes: Vec<Option<Hazard>>) -> Arm {
        Arm {
            name: "a".into(),
            label: "a".into(),
            dropout: 0.0,
            allocation: 1,
            early_risk: vec![None; causes.len()],
            causes,
            after: None,
            outcomes: Vec::new(),
        }
    }

    #[test]
    fn exponential_closed_forms() {
        let a = arm(vec![Some(Hazard::exponential(0.2).unwrap()), Some(Hazard::exponential(0.3).unwrap())]);
        let both = Endpoint { name: "e".into(), causes: vec![0, 1] };
        // RMST of an exponential(λ) to τ is (1 − e^{−λτ})/λ.
        let r = rmst(&a, &both, 3.0);
        assert!((r - (1.0 - (-1.5f64).exp()) / 0.5).abs() < 1e-12, "{r}");
        // Competing exponentials: F_k = λ_k/λ (1 − e^{−λt}).
        let f = cumulative_incidence(&a, &both, 0, 2.0);
        assert!((f - 0.2 / 0.5 * (1.0 - (-1.0f64).exp())).abs() < 1e-12, "{f}");
        // The incidences and survival add to one.
        let f1 = cumulative_incidence(&a, &both, 1, 2.0);
        assert!((f + f1 + survival(&a, &both, 2.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn crossing_of_early_harm_and_late_benefit() {
        // Control: constant 0.1. Experimental: 0.3 until 1, then 0.02. S_exp = S_ctl where
        // 0.3 + 0.02 (t − 1) = 0.1 t, i.e. t = 3.5.
        let ctl = arm(vec![Some(Hazard::exponential(0.1).unwrap())]);
        let exp = arm(vec![Some(Hazard::piecewise(vec![1.0], vec![0.3, 0.02]).unwrap())]);
        let ep = Endpoint { name: "e".into(), causes: vec![0] };
        let x = crossing_times(&ArmMix::single(&ctl), &ArmMix::single(&exp), &ep, 10.0);
        assert_eq!(x.len(), 1, "{x:?}");
        assert!((x[0] - 3.5).abs() < 1e-9, "{x:?}");
        assert!(crossing_times(&ArmMix::single(&ctl), &ArmMix::single(&ctl), &ep, 10.0).is_empty());
    }

    #[test]
    fn the_rule_on_the_true_curves_fires_when_the_gap_reaches_plus_delta() {
        // As above: S_exp − S_ctl = e^{−0.28 − 0.02t} − e^{−0.1t} for t ≥ 1, which is −0.16 at
        // t = 1; the rule fires where it first equals +δ.
        let ctl = arm(vec![Some(Hazard::exponential(0.1).unwrap())]);
        let exp = arm(vec![Some(Hazard::piecewise(vec![1.0], vec![0.3, 0.02]).unwrap())]);
        let ep = Endpoint { name: "e".into(), causes: vec![0] };
        let delta = 0.02;
        let rule = crate::stats::crossing::CrossingRule { min_gap: delta, min_at_risk: 10 };
        let t = rule_crossing(&ArmMix::single(&ctl), &ArmMix::single(&exp), &ep, rule, 10.0).expect("fires");
        let gap = |t: f64| (-0.28 - 0.02 * t).exp() - (-0.1 * t).exp();
        assert!((gap(t) - delta).abs() < 1e-9, "t = {t}, gap {}", gap(t));
        assert!(t > 3.5 && gap(t - 1e-6) < delta, "after the equality time and the first such t: {t}");
        // With δ = 0 the rule is the first change of order from below to above: the equality time.
        let zero = crate::stats::crossing::CrossingRule { min_gap: 0.0, min_at_risk: 10 };
        assert!(
            (rule_crossing(&ArmMix::single(&ctl), &ArmMix::single(&exp), &ep, zero, 10.0).unwrap() - 3.5)
                .abs()
                < 1e-9
        );
        // A gap never reached after the harm, or identical arms: the rule never fires.
        let far = crate::stats::crossing::CrossingRule { min_gap: 0.3, min_at_risk: 10 };
        assert!(rule_crossing(&ArmMix::single(&ctl), &ArmMix::single(&exp), &ep, far, 10.0).is_none());
        assert!(rule_crossing(&ArmMix::single(&ctl), &ArmMix::single(&ctl), &ep, rule, 10.0).is_none());
    }

    #[test]
    fn illness_death_matches_its_closed_form() {
        // Progression a, death b, death hazard × f after progression (all exponential):
        // P₁(t) = a e^{−fbt} (1 − e^{−(a+b−fb)t}) / (a + b − fb).
        let (a, b, f) = (0.3, 0.1, 3.0);
        let mut arm = arm(vec![Some(Hazard::exponential(b).unwrap()), Some(Hazard::exponential(a).unwrap())]);
        arm.after = Some(crate::scenario::After { trigger: 1, factor: vec![f, 1.0] });
        let os = Endpoint { name: "os".into(), causes: vec![0] };
        for t in [0.5, 2.0, 7.0] {
            let c = a + b - f * b;
            let p1 = a * (-f * b * t).exp() * (1.0 - (-c * t).exp()) / c;
            let s = (-(a + b) * t).exp() + p1;
            assert!((survival(&arm, &os, t) - s).abs() < 1e-10, "t = {t}");
            // The cumulative incidence of death is 1 − S (death is the endpoint's only cause).
            assert!((cumulative_incidence(&arm, &os, 0, t) - (1.0 - s)).abs() < 1e-9, "t = {t}");
        }
        // An endpoint that contains the trigger is unchanged: it ends at progression.
        let pfs = Endpoint { name: "pfs".into(), causes: vec![0, 1] };
        assert!((survival(&arm, &pfs, 2.0) - (-(a + b) * 2.0f64).exp()).abs() < 1e-14);
    }
}
