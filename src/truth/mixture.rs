//! An arm of the population: its model in each stratum, mixed by the strata's shares. The one
//! place where the truth combines strata (docs/strata.md § Truth).
//!
//! With stratum shares w_s and the arm's model in stratum s (its curves from `curves`), the arm's
//! marginal quantities over the randomised population are the share-weighted sums
//!
//!   S(t) = Σ_s w_s S_s(t),  f(t) = Σ_s w_s f_s(t),  F_k(t) = Σ_s w_s F_{k,s}(t),
//!   RMST(τ) = Σ_s w_s RMST_s(τ),  h(t) = f(t)/S(t),
//!
//! since randomisation leaves the strata's shares the same in every arm (by share, each patient's
//! stratum is drawn before the arm; within strata the blocks keep the arms' ratio). The marginal
//! hazard is not the mixture of the strata's hazards: it is weighted by who is still event-free.
//! Expected events, at-risk numbers and information add over strata the same way, each stratum
//! with its own dropout (`design`, `information`).
//!
//! An unstratified scenario is one part of weight 1: every quantity is then the arm's own,
//! computed by the same expression as before strata existed (bit for bit). So is a population
//! whose strata all give the arm the same model: identical parts are merged.

use crate::scenario::{Arm, Endpoint, Scenario};
use crate::time::Time;

use super::curves;

/// One arm across the strata of the population.
#[derive(Debug, Clone)]
pub struct ArmMix<'a> {
    /// The arm as written: its name, label and allocation (and, unstratified, its model).
    pub arm: &'a Arm,
    /// (share, the arm's model in that stratum), for the strata with patients.
    parts: Vec<(f64, &'a Arm)>,
}

impl<'a> ArmMix<'a> {
    /// Arm `a` (index into `Scenario::arms`) over the scenario's population. Strata where the
    /// arm has the same model are one part (their shares added): a mixture of one model is
    /// that model, exactly.
    pub fn of(sc: &'a Scenario, a: usize) -> ArmMix<'a> {
        let mut parts: Vec<(f64, &'a Arm)> = Vec::new();
        for (_, w, arms) in sc.population() {
            match parts.iter_mut().find(|(_, m)| *m == &arms[a]) {
                Some((v, _)) => *v += w,
                None => parts.push((w, &arms[a])),
            }
        }
        ArmMix { arm: &sc.arms[a], parts }
    }

    /// Arm `a` in stratum `s` alone.
    pub fn in_stratum(sc: &'a Scenario, s: usize, a: usize) -> ArmMix<'a> {
        ArmMix { arm: &sc.arms[a], parts: vec![(1.0, &sc.stratum_arms(s)[a])] }
    }

    /// One arm's own model (a part of weight 1).
    pub fn single(arm: &'a Arm) -> ArmMix<'a> {
        ArmMix { arm, parts: vec![(1.0, arm)] }
    }

    pub fn name(&self) -> &'a str {
        &self.arm.name
    }

    /// (share, the arm in that stratum) for each stratum with patients.
    pub fn parts(&self) -> &[(f64, &'a Arm)] {
        &self.parts
    }

    /// The one model when there is only one part.
    fn alone(&self) -> Option<&'a Arm> {
        match self.parts[..] {
            [(_, a)] => Some(a),
            _ => None,
        }
    }

    /// Σ_s w_s g(arm in s); g of the arm alone when there is one part.
    fn mix(&self, g: impl Fn(&Arm) -> f64) -> f64 {
        match self.alone() {
            Some(a) => g(a),
            None => self.parts.iter().map(|&(w, a)| w * g(a)).sum(),
        }
    }

    /// S_E(t) = Σ_s w_s S_{E,s}(t).
    pub fn survival(&self, ep: &Endpoint, t: Time) -> f64 {
        self.mix(|a| curves::survival(a, ep, t))
    }

    /// f_E(t) = Σ_s w_s f_{E,s}(t): the density of the first E event.
    pub fn density(&self, ep: &Endpoint, t: Time) -> f64 {
        self.mix(|a| curves::density(a, ep, t))
    }

    /// h_E(t) = f_E(t)/S_E(t) (one part: the arm's hazard as `curves::hazard` computes it).
    pub fn hazard(&self, ep: &Endpoint, t: Time) -> f64 {
        match self.alone() {
            Some(a) => curves::hazard(a, ep, t),
            None => self.density(ep, t) / self.survival(ep, t),
        }
    }

    /// F_{k|E}(t) = Σ_s w_s F_{k|E,s}(t).
    pub fn cumulative_incidence(&self, ep: &Endpoint, cause: usize, t: Time) -> f64 {
        self.mix(|a| curves::cumulative_incidence(a, ep, cause, t))
    }

    /// RMST_E(τ) = Σ_s w_s RMST_{E,s}(τ).
    pub fn rmst(&self, ep: &Endpoint, tau: Time) -> f64 {
        self.mix(|a| curves::rmst(a, ep, tau))
    }

    /// Whether cause k has a hazard in the arm in some stratum.
    pub fn has_cause(&self, k: usize) -> bool {
        self.parts.iter().any(|(_, a)| a.causes[k].is_some())
    }

    /// Every part's model, for the knots of quadrature.
    pub fn models(&self) -> impl Iterator<Item = &'a Arm> + '_ {
        self.parts.iter().map(|&(_, a)| a)
    }
}

/// The arms with patients over the population, in name order.
pub fn allocated(sc: &Scenario) -> Vec<ArmMix<'_>> {
    sc.allocated_arms().map(|(a, _)| ArmMix::of(sc, a)).collect()
}

/// (control, experimental) over the population; `None` for a single-arm study.
pub fn pair(sc: &Scenario) -> Option<(ArmMix<'_>, ArmMix<'_>)> {
    sc.comparison.map(|c| (ArmMix::of(sc, c.control), ArmMix::of(sc, c.experimental)))
}

/// (control, experimental) in stratum `s` alone; `None` for a single-arm study.
pub fn pair_in_stratum(sc: &Scenario, s: usize) -> Option<(ArmMix<'_>, ArmMix<'_>)> {
    sc.comparison.map(|c| (ArmMix::in_stratum(sc, s, c.control), ArmMix::in_stratum(sc, s, c.experimental)))
}

/// The knots of quadrature for these arms' curves of `ep` below `upto` (every part's hazard
/// breaks), then `upto`.
pub fn knots(arms: &[&ArmMix], ep: &Endpoint, extra: &[f64], upto: Time) -> Vec<Time> {
    let models: Vec<&Arm> = arms.iter().flat_map(|m| m.models()).collect();
    curves::knots(&models, ep, extra, upto)
}
