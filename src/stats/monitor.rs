//! One trial's group-sequential decisions: at each look, the bounds recomputed at the
//! information fractions the trial has observed so far, as a monitoring committee would
//! (Lan & DeMets 1983: the spending function, not the planned fractions, fixes the bounds), and
//! the decision.
//!
//! Scale and order (rpact's critical values): b = −z, so b > 0 favours the experimental arm.
//! At an interim look: efficacy when b ≥ e_k, then harm when z ≥ h_k, then futility when
//! b ≤ f_k. The final look (whatever its fraction) spends all α that is left and rejects when
//! b ≥ e_K; it has no futility or harm bound. A statistic that cannot be computed (NaN) stops
//! nothing and rejects nothing.

use std::collections::HashMap;
use std::sync::Arc;

use super::sequential::{Boundaries, Design, Efficacy, LookAt, Recursion};
use super::spending::Spending;

/// A harm bound on z (z ≥ h_k stops for harm), interim looks only and never binding.
#[derive(Debug, Clone, PartialEq)]
pub enum Harm {
    /// One bound per interim look.
    Fixed(Vec<f64>),
    /// Spending its own one-sided α on the harm side: by symmetry, the efficacy bounds of that
    /// α's design at the same fractions.
    Spending { alpha: f64, function: Spending },
}

/// A monitored design, fixed per scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub design: Design,
    pub harm: Option<Harm>,
    /// The drift of β-spending futility (the design's, [`super::sequential::design_drift`]); 0
    /// without it.
    pub drift: f64,
    /// Instead of `drift`, one drift per look (what the model implies: θ_k, S_k's mean θ_k t_k;
    /// see [`super::sequential::boundaries_with_drifts`]).
    pub thetas: Option<Vec<f64>>,
}

/// Why a trial stopped at a look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stop {
    Efficacy,
    Harm,
    Futility,
}

/// One look's bounds (b scale for efficacy and futility, z scale for harm; ±∞ where there is
/// none) and the decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Look {
    pub efficacy: f64,
    pub futility: f64,
    pub harm: f64,
    pub stop: Option<Stop>,
}

/// Bounds computed before, by the bits of the observed fractions (with their spending times and
/// positions) and whether the last of them is the final analysis: event-driven looks have the
/// same fractions in every trial and compute their bounds once. Cleared when it grows past
/// [`BoundsCache::CAPACITY`] entries (calendar looks give every trial its own fractions).
/// A miss extends the current trial's recursion by its newest look (see [`Recursion`]), so a
/// trial with K looks costs K look-steps, not K(K + 1)/2.
#[derive(Debug, Default)]
pub struct BoundsCache {
    map: HashMap<(Vec<u64>, bool), Arc<LookBounds>>,
    key: Vec<u64>,
    trial: Option<TrialRecursion>,
}

/// The recursions of the looks one trial has taken: the design's, and the harm design's when
/// harm is spent. `key` is those looks' part of the cache key; `ended` once the final analysis
/// is in.
#[derive(Debug)]
struct TrialRecursion {
    key: Vec<u64>,
    main: Recursion,
    harm: Option<(Design, Recursion)>,
    ended: bool,
}

/// The bounds of one vector of observed fractions: the design's, and the harm design's when harm
/// is spent.
#[derive(Debug)]
struct LookBounds {
    main: Boundaries,
    harm: Option<Boundaries>,
}

/// Key words per look: the fraction's and the spending time's bits, and the position.
const KEY_WORDS: usize = 3;

impl BoundsCache {
    pub const CAPACITY: usize = 4096;

    fn get(
        &mut self,
        plan: &Plan,
        positions: &[usize],
        fractions: &[f64],
        spend: &[f64],
        last: bool,
    ) -> Arc<LookBounds> {
        self.key.clear();
        for ((f, s), &p) in fractions.iter().zip(spend).zip(positions) {
            self.key.extend([f.to_bits(), s.to_bits(), p as u64]);
        }
        let key = (std::mem::take(&mut self.key), last);
        if let Some(b) = self.map.get(&key) {
            self.key = key.0;
            return Arc::clone(b);
        }
        if self.map.len() >= Self::CAPACITY {
            self.map.clear();
        }
        let k = fractions.len() - 1;
        let before = &key.0[..KEY_WORDS * k];
        let extends = self.trial.as_ref().is_some_and(|t| !t.ended && t.key == before);
        if !extends {
            // A new trial (or looks this recursion has not seen): the looks before this one.
            let mut t = TrialRecursion::new(plan);
            for i in 0..k {
                t.look(plan, positions[i], fractions[i], spend[i], false);
            }
            self.trial = Some(t);
        }
        let t = self.trial.as_mut().expect("set above");
        t.look(plan, positions[k], fractions[k], spend[k], last);
        t.key.clone_from(&key.0);
        let value = Arc::new(LookBounds {
            main: t.main.out.clone(),
            harm: if last { None } else { t.harm.as_ref().map(|(_, r)| r.out.clone()) },
        });
        self.map.insert(key, Arc::clone(&value));
        value
    }
}

impl TrialRecursion {
    fn new(plan: &Plan) -> TrialRecursion {
        let harm = match &plan.harm {
            Some(Harm::Spending { alpha, function }) => Some((
                Design {
                    alpha: *alpha,
                    efficacy: Efficacy::Spending(*function),
                    futility: None,
                    binding: false,
                },
                Recursion::new(1.0),
            )),
            _ => None,
        };
        TrialRecursion { key: Vec::new(), main: Recursion::new(1.0), harm, ended: false }
    }

    /// Adds the look at planned position `position`, observed fraction `t`, spent at `spend`.
    fn look(&mut self, plan: &Plan, position: usize, t: f64, spend: f64, last: bool) {
        // What is given per planned look (fixed bounds, drifts) at the look's own position.
        let theta = match &plan.thetas {
            Some(th) => th.get(position).or(th.last()).copied().unwrap_or(f64::NAN),
            None => plan.drift,
        };
        self.main.look(&plan.design, LookAt { position, t, spend, theta, last });
        if !last && let Some((design, r)) = &mut self.harm {
            r.look(design, LookAt { position, t, spend, theta: 0.0, last: false });
        }
        self.ended = last;
    }
}

impl Plan {
    /// The decision at look k = `fractions.len()`: `positions` are the planned looks the trial
    /// took (0-based among the interims; the final analysis is the number of interims),
    /// `fractions` its observed information fractions t₁ … t_k there, `spend` the times α and β
    /// are spent at (the fractions themselves, or calendar time), `z` its statistic at look k
    /// (z < 0 favours the experimental arm), `last` whether look k is the final analysis.
    pub(crate) fn decide(
        &self,
        positions: &[usize],
        fractions: &[f64],
        spend: &[f64],
        z: f64,
        last: bool,
        cache: &mut BoundsCache,
    ) -> Look {
        let k = fractions.len() - 1;
        let bounds = cache.get(self, positions, fractions, spend, last);
        let LookBounds { main, harm: harm_bounds } = &*bounds;
        let efficacy = main.efficacy[k];
        let (futility, harm) = if last {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            let harm = match (&self.harm, harm_bounds) {
                (Some(Harm::Fixed(h)), _) => {
                    positions.get(k).and_then(|&p| h.get(p)).copied().unwrap_or(f64::INFINITY)
                }
                (_, Some(b)) => b.efficacy[k],
                _ => f64::INFINITY,
            };
            (main.futility[k], harm)
        };
        let b = -z;
        let stop = if z.is_nan() {
            None
        } else if b >= efficacy {
            Some(Stop::Efficacy)
        } else if z >= harm {
            Some(Stop::Harm)
        } else if b <= futility {
            Some(Stop::Futility)
        } else {
            None
        };
        Look { efficacy, futility, harm, stop }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rand_distr::{Distribution, StandardNormal};

    use super::*;
    use crate::stats::sequential::{Futility, design_drift};

    /// A trial's statistics on the canonical scale: Z_k = S_k/√t_k, S a Brownian motion with
    /// drift δ, observed at `t`. Returned as z = −Z (the engine's sign).
    fn path(t: &[f64], drift: f64, rng: &mut StdRng) -> Vec<f64> {
        let (mut s, mut last) = (0.0, 0.0);
        t.iter()
            .map(|&tk| {
                let e: f64 = StandardNormal.sample(rng);
                s += drift * (tk - last) + (tk - last).sqrt() * e;
                last = tk;
                -s / tk.sqrt()
            })
            .collect()
    }

    /// Runs `trials` trials through `plan` at fractions `fractions(trial)`: per look, how many
    /// stopped for each reason (the final look's "efficacy" is rejection).
    fn run(plan: &Plan, trials: usize, drift: f64, fractions: impl Fn(usize) -> Vec<f64>) -> Vec<[usize; 3]> {
        let mut rng = StdRng::seed_from_u64(2026);
        let mut cache = BoundsCache::default();
        let mut counts = Vec::new();
        for i in 0..trials {
            let t = fractions(i);
            counts.resize(counts.len().max(t.len()), [0; 3]);
            let z = path(&t, drift, &mut rng);
            for k in 0..t.len() {
                let positions: Vec<usize> = (0..=k).collect();
                let look = plan.decide(&positions, &t[..=k], &t[..=k], z[k], k + 1 == t.len(), &mut cache);
                if let Some(stop) = look.stop {
                    counts[k][stop as usize] += 1;
                    break;
                }
            }
        }
        counts
    }

    fn within_4_se(count: usize, trials: usize, p: f64, what: &str) {
        let n = trials as f64;
        let se = (p * (1.0 - p) / n).sqrt();
        let hat = count as f64 / n;
        assert!((hat - p).abs() < 4.0 * se, "{what}: {hat} vs {p} (SE {se})");
    }

    /// A trial that skipped an interim decides at a later look by that look's own fixed bounds
    /// and drift, not the skipped look's (they were indexed by the number of looks taken).
    #[test]
    fn a_skipped_interim_leaves_later_looks_their_own_bounds() {
        let design = Design {
            alpha: 0.025,
            efficacy: Efficacy::Fixed(vec![4.0, 2.5]),
            futility: Some(Futility::Fixed(vec![-3.0, 0.5])),
            binding: false,
        };
        let plan = Plan { design, harm: Some(Harm::Fixed(vec![5.0, 1.0])), drift: 0.0, thetas: None };
        let mut cache = BoundsCache::default();
        // Look 1 skipped; look 2 taken first, at fraction 0.6.
        let at = |z: f64, cache: &mut BoundsCache| plan.decide(&[1], &[0.6], &[0.6], z, false, cache);
        let look = at(-2.7, &mut cache);
        assert_eq!((look.efficacy, look.futility, look.harm), (2.5, 0.5, 1.0));
        assert_eq!(look.stop, Some(Stop::Efficacy), "b = 2.7 ≥ 2.5, the second look's bound");
        assert_eq!(at(1.5, &mut cache).stop, Some(Stop::Harm), "z = 1.5 ≥ 1.0");
        assert_eq!(at(-0.2, &mut cache).stop, Some(Stop::Futility), "b = 0.2 ≤ 0.5");
        // Both looks taken: the first look's own bounds there.
        let first = plan.decide(&[0], &[0.3], &[0.3], -2.7, false, &mut cache);
        assert_eq!((first.efficacy, first.futility, first.harm, first.stop), (4.0, -3.0, 5.0, None));
        // A per-look drift: the bounds after a skipped look are those computed with the drift of
        // the look taken.
        let spending = Design {
            alpha: 0.025,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::Pocock }),
            binding: false,
        };
        let thetas = vec![-1.0, 2.0, 3.0];
        let plan = Plan { design: spending.clone(), harm: None, drift: 0.0, thetas: Some(thetas) };
        let skipped = plan.decide(&[1], &[0.6], &[0.6], 0.0, false, &mut BoundsCache::default());
        let own = crate::stats::sequential::boundaries_with_drifts(&spending, &[0.6], &[0.6], &[2.0], false);
        assert_eq!(skipped.futility, own.futility[0]);
    }

    /// A trial's recursion extended look by look gives the bounds of a recursion from scratch at
    /// every look, bit for bit, whatever the trials before it (the cache keeps one trial's
    /// recursion and starts another when the looks differ).
    #[test]
    fn extending_a_trials_recursion_equals_recomputing_it() {
        let design = Design {
            alpha: 0.025,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::HwangShihDeCani(-2.0) }),
            binding: true,
        };
        let plan = Plan {
            design,
            harm: Some(Harm::Spending { alpha: 0.1, function: Spending::Pocock }),
            drift: 0.0,
            thetas: Some(vec![-0.5, 1.0, 2.0, 2.5, 3.0]),
        };
        let trials: [&[f64]; 4] = [
            &[0.2, 0.45, 0.7, 0.85, 1.02],
            &[0.2, 0.45, 0.66, 0.9, 0.97],
            &[0.31, 0.6, 1.0],
            &[0.2, 0.45, 0.7],
        ];
        let mut shared = BoundsCache::default();
        for t in trials {
            // The last look of the third trial skipped position 2; the others took every look.
            let positions: Vec<usize> =
                if t.len() == 3 && t[2] == 1.0 { vec![0, 1, 4] } else { (0..t.len()).collect() };
            for k in 0..t.len() {
                let last = k + 1 == t.len() && t[k] > 0.9;
                let z = -1.0;
                let a = plan.decide(&positions[..=k], &t[..=k], &t[..=k], z, last, &mut shared);
                let b =
                    plan.decide(&positions[..=k], &t[..=k], &t[..=k], z, last, &mut BoundsCache::default());
                assert_eq!(a, b, "{t:?} look {k}");
            }
        }
    }

    /// Under the null, Pocock-type spending at fixed fractions stops for efficacy at each look with
    /// the probability the spending function gives (40,000 trials, within 4 MC SE).
    #[test]
    fn efficacy_stops_spend_alpha_look_by_look() {
        let plan = Plan {
            design: Design {
                alpha: 0.025,
                efficacy: Efficacy::Spending(Spending::Pocock),
                futility: None,
                binding: false,
            },
            harm: None,
            drift: 0.0,
            thetas: None,
        };
        let t = vec![0.3, 0.6, 1.0];
        let trials = 40_000;
        let counts = run(&plan, trials, 0.0, |_| t.clone());
        let spent = crate::stats::sequential::boundaries(&plan.design, &t, 0.0).alpha_spent;
        let mut before = 0.0;
        for k in 0..3 {
            within_4_se(counts[k][Stop::Efficacy as usize], trials, spent[k] - before, &format!("look {k}"));
            before = spent[k];
        }
    }

    /// Observed fractions that vary from trial to trial (calendar looks): bounds recomputed at
    /// each trial's own fractions keep the type I error at α, at least α − 4 SE and at most
    /// α + 4 SE (efficacy only, so α is spent exactly).
    #[test]
    fn recomputed_bounds_keep_alpha_at_random_fractions() {
        let plan = Plan {
            design: Design {
                alpha: 0.025,
                efficacy: Efficacy::Spending(Spending::OBrienFleming),
                futility: None,
                binding: false,
            },
            harm: None,
            drift: 0.0,
            thetas: None,
        };
        let trials = 40_000;
        let firsts = [0.25, 0.3, 0.35, 0.4];
        let finals = [0.9, 1.0, 1.1];
        let counts = run(&plan, trials, 0.0, |i| vec![firsts[i % 4], finals[(i / 4) % 3]]);
        let rejected: usize = counts.iter().map(|c| c[Stop::Efficacy as usize]).sum();
        within_4_se(rejected, trials, 0.025, "type I error");
    }

    /// At rpact's drift, non-binding β-spending futility stops for futility with the β
    /// increments at each interim, and the design has power 1 − β (the bounds meet at the end).
    /// A harm bound at z ≥ 1.5 adds its own stops, in the order efficacy, harm, futility.
    #[test]
    fn futility_spends_beta_at_the_drift_and_power_is_one_minus_beta() {
        let design = Design {
            alpha: 0.025,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::HwangShihDeCani(-2.0) }),
            binding: false,
        };
        let t = vec![0.35, 0.7, 1.0];
        let drift = design_drift(&design, &t).unwrap();
        let plan = Plan { design, harm: None, drift, thetas: None };
        let trials = 40_000;
        let counts = run(&plan, trials, drift, |_| t.clone());
        let full = crate::stats::sequential::boundaries(&plan.design, &t, drift);
        within_4_se(counts[0][Stop::Futility as usize], trials, full.beta_spent[0], "futility at look 1");
        within_4_se(
            counts[1][Stop::Futility as usize],
            trials,
            full.beta_spent[1] - full.beta_spent[0],
            "futility at look 2",
        );
        let rejected: usize = counts.iter().map(|c| c[Stop::Efficacy as usize]).sum();
        within_4_se(rejected, trials, 0.8, "power");

        // A harm bound: under the null, z ≥ 1.5 at look 1 is P = Φ̄(1.5) (efficacy is tried
        // first but cannot hold there).
        let harmful = Plan { harm: Some(Harm::Fixed(vec![1.5, 1.5])), ..plan };
        let counts = run(&harmful, trials, 0.0, |_| t.clone());
        within_4_se(
            counts[0][Stop::Harm as usize],
            trials,
            super::super::normal::upper(1.5),
            "harm at look 1",
        );
        assert_eq!(counts[2][Stop::Harm as usize], 0, "no harm bound at the final analysis");
    }
}
