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

use super::bracket;
use super::sequential::{Boundaries, Design, Efficacy, LookAt, Recursion, Rule};
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
///
/// Once [`BoundsCache::WARM_UP`] looks have missed the map (fractions that vary by trial), a
/// look's bounds come first from the fast rule ([`Rule::Gauss7`], within 1e-6 of the exact
/// bounds), extended look by look in the same way; [`Plan::decide`] falls back to the exact
/// bounds when the statistic is within [`GUARD`] of a fast one, so no decision differs.
#[derive(Debug, Default)]
pub struct BoundsCache {
    map: HashMap<(Vec<u64>, bool), Arc<LookBounds>>,
    key: Vec<u64>,
    trial: Option<TrialRecursion>,
    fast: Option<TrialRecursion>,
    /// Looks whose exact bounds were computed.
    misses: u64,
    /// Never the fast rule (the tests' reference).
    #[cfg(test)]
    exact_only: bool,
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

/// The looks a trial has taken up to the one being decided: their planned positions, observed
/// fractions and spending times, and whether the newest is the final analysis.
#[derive(Debug, Clone, Copy)]
struct Taken<'a> {
    positions: &'a [usize],
    fractions: &'a [f64],
    spend: &'a [f64],
    last: bool,
}

impl Taken<'_> {
    /// The newest look's index k.
    fn newest(&self) -> usize {
        self.fractions.len() - 1
    }
}

/// Key words per look: the fraction's and the spending time's bits, and the position.
const KEY_WORDS: usize = 3;

/// How far (in z) a statistic must be from a fast bound for the decision to be taken on it: the
/// fast rule is within 1e-7 of the exact bounds on the tests' 10⁴ random designs and fractions
/// (9.5e-8 at most on the bench's 10⁶), so closer than this the exact bounds decide.
pub const GUARD: f64 = 1e-6;

impl BoundsCache {
    pub const CAPACITY: usize = 4096;
    /// Exact computations before the fast rule is used: event-driven looks repeat their
    /// fractions, and after a few trials find every bound in the map.
    pub const WARM_UP: u64 = 64;

    /// Whether decisions may be taken without the exact bounds (brackets, the fast rule): once the
    /// warm-up is over (event-driven looks find every bound in the map by then).
    fn shortcuts(&self) -> bool {
        #[cfg(test)]
        if self.exact_only {
            return false;
        }
        self.misses >= Self::WARM_UP
    }

    /// This look's bounds by the fast rule (efficacy, futility, harm spent), when the warm-up is
    /// over and the exact ones are not known already.
    fn fast(&mut self, plan: &Plan, looks: Taken) -> Option<[f64; 3]> {
        #[cfg(test)]
        if self.exact_only {
            return None;
        }
        if self.misses < Self::WARM_UP {
            return None;
        }
        let key = (self.fill_key(looks), looks.last);
        if self.map.contains_key(&key) {
            self.key = key.0;
            return None;
        }
        let before = &key.0[..KEY_WORDS * looks.newest()];
        let t = extend(&mut self.fast, Rule::Gauss7, plan, before, looks);
        t.key.clone_from(&key.0);
        let bounds = t.newest();
        self.key = key.0;
        Some(bounds)
    }

    /// The cache key of these looks, in the reused buffer (put it back after use).
    fn fill_key(&mut self, looks: Taken) -> Vec<u64> {
        self.key.clear();
        for ((f, s), &p) in looks.fractions.iter().zip(looks.spend).zip(looks.positions) {
            self.key.extend([f.to_bits(), s.to_bits(), p as u64]);
        }
        std::mem::take(&mut self.key)
    }

    fn get(&mut self, plan: &Plan, looks: Taken) -> Arc<LookBounds> {
        let key = (self.fill_key(looks), looks.last);
        if let Some(b) = self.map.get(&key) {
            self.key = key.0;
            return Arc::clone(b);
        }
        self.misses += 1;
        if self.map.len() >= Self::CAPACITY {
            self.map.clear();
        }
        let before = &key.0[..KEY_WORDS * looks.newest()];
        let t = extend(&mut self.trial, Rule::Kronrod15, plan, before, looks);
        t.key.clone_from(&key.0);
        let value = Arc::new(LookBounds {
            main: t.main.out.clone(),
            harm: if looks.last { None } else { t.harm.as_ref().map(|(_, r)| r.out.clone()) },
        });
        self.map.insert(key, Arc::clone(&value));
        value
    }
}

/// The trial recursion in `slot` extended by the newest look: continued when it holds this
/// trial's looks before it (`before`, their key words), otherwise started again and taken
/// through them.
fn extend<'a>(
    slot: &'a mut Option<TrialRecursion>,
    rule: Rule,
    plan: &Plan,
    before: &[u64],
    looks: Taken,
) -> &'a mut TrialRecursion {
    let Taken { positions, fractions, spend, last } = looks;
    let k = looks.newest();
    let extends = slot.as_ref().is_some_and(|t| !t.ended && t.key == before);
    if !extends {
        // A new trial (or looks this recursion has not seen): the looks before this one.
        let mut t = TrialRecursion::new(plan, rule);
        for i in 0..k {
            t.look(plan, positions[i], fractions[i], spend[i], false);
        }
        *slot = Some(t);
    }
    let t = slot.get_or_insert_with(|| TrialRecursion::new(plan, rule));
    t.look(plan, positions[k], fractions[k], spend[k], last);
    t
}

impl TrialRecursion {
    fn new(plan: &Plan, rule: Rule) -> TrialRecursion {
        let recursion = || {
            let mut r = Recursion::with_rule(1.0, rule);
            r.decisions_only = true;
            r
        };
        let harm = match &plan.harm {
            Some(Harm::Spending { alpha, function }) => Some((
                Design {
                    alpha: *alpha,
                    efficacy: Efficacy::Spending(*function),
                    futility: None,
                    binding: false,
                },
                recursion(),
            )),
            _ => None,
        };
        TrialRecursion { key: Vec::new(), main: recursion(), harm, ended: false }
    }

    /// The newest look's efficacy, futility and spent harm bounds (+∞ for harm at the final
    /// analysis or without spent harm).
    fn newest(&self) -> [f64; 3] {
        let k = self.main.looks() - 1;
        let harm = match &self.harm {
            Some((_, r)) if !self.ended => r.out.efficacy[k],
            _ => f64::INFINITY,
        };
        [self.main.out.efficacy[k], self.main.out.futility[k], harm]
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
        let looks = Taken { positions, fractions, spend, last };
        let k = looks.newest();
        if cache.shortcuts()
            && let Some(look) = self.bracketed(looks, z)
        {
            return look;
        }
        if let Some(bounds) = cache.fast(self, looks) {
            let look = self.look(positions, k, last, bounds, z);
            let b = -z;
            let margins = [b - look.efficacy, z - look.harm, b - look.futility];
            if margins.iter().all(|m| m.is_nan() || m.abs() >= GUARD) {
                return look;
            }
        }
        let bounds = cache.get(self, looks);
        let LookBounds { main, harm } = &*bounds;
        let harm = harm.as_ref().map_or(f64::INFINITY, |b| b.efficacy[k]);
        self.look(positions, k, last, [main.efficacy[k], main.futility[k], harm], z)
    }

    /// The decision at the newest look when the brackets of its bounds
    /// ([`super::bracket`]) decide it with [`GUARD`] to spare: the bounds are then not computed
    /// (NaN in the returned look). `None` when a statistic lies within a bracket (or the design
    /// has none), and for a NaN statistic.
    fn bracketed(&self, looks: Taken, z: f64) -> Option<Look> {
        if z.is_nan() {
            return None;
        }
        let Taken { positions, fractions, spend, last } = looks;
        let k = looks.newest();
        let b = -z;
        let e = bracket::efficacy(&self.design, positions[k], spend, last)?;
        let not_computed = |stop| Look { efficacy: f64::NAN, futility: f64::NAN, harm: f64::NAN, stop };
        if e.at_or_above(b, GUARD)? {
            return Some(not_computed(Some(Stop::Efficacy)));
        }
        if last {
            return Some(not_computed(None));
        }
        let harm = match &self.harm {
            None => None,
            Some(Harm::Fixed(h)) => Some(bracket::Bracket {
                lo: h.get(positions[k]).copied().unwrap_or(f64::INFINITY),
                hi: h.get(positions[k]).copied().unwrap_or(f64::INFINITY),
            }),
            Some(Harm::Spending { alpha, function }) => Some(bracket::spent_harm(*function, *alpha, spend)?),
        };
        if let Some(h) = harm
            && h.at_or_above(z, GUARD)?
        {
            return Some(not_computed(Some(Stop::Harm)));
        }
        let theta = |position: usize| match &self.thetas {
            Some(th) => th.get(position).or(th.last()).copied().unwrap_or(f64::NAN),
            None => self.drift,
        };
        let f = bracket::futility(&self.design, positions, fractions, spend, &theta, e)?;
        Some(not_computed(f.at_or_below(b, GUARD)?.then_some(Stop::Futility)))
    }

    /// Look k's bounds and decision, from its efficacy, futility and spent harm bounds
    /// (`bounds`; fixed harm bounds come from the plan).
    fn look(&self, positions: &[usize], k: usize, last: bool, bounds: [f64; 3], z: f64) -> Look {
        let [efficacy, futility, spent_harm] = bounds;
        let (futility, harm) = if last {
            (f64::NEG_INFINITY, f64::INFINITY)
        } else {
            let harm = match &self.harm {
                Some(Harm::Fixed(h)) => {
                    positions.get(k).and_then(|&p| h.get(p)).copied().unwrap_or(f64::INFINITY)
                }
                Some(Harm::Spending { .. }) => spent_harm,
                None => f64::INFINITY,
            };
            (futility, harm)
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

    /// O'Brien–Fleming efficacy, β-spending futility (HSD −2, β = 0.2) and Pocock harm spending
    /// of `harm_alpha`, under a constant `drift`.
    fn spending_with_harm(binding: bool, harm_alpha: f64, drift: f64) -> Plan {
        Plan {
            design: Design {
                alpha: 0.025,
                efficacy: Efficacy::Spending(Spending::OBrienFleming),
                futility: Some(Futility::Spending { beta: 0.2, function: Spending::HwangShihDeCani(-2.0) }),
                binding,
            },
            harm: Some(Harm::Spending { alpha: harm_alpha, function: Spending::Pocock }),
            drift,
            thetas: None,
        }
    }

    /// A trial's recursion extended look by look gives the bounds of a recursion from scratch at
    /// every look, bit for bit, whatever the trials before it (the cache keeps one trial's
    /// recursion and starts another when the looks differ).
    #[test]
    fn extending_a_trials_recursion_equals_recomputing_it() {
        let plan =
            Plan { thetas: Some(vec![-0.5, 1.0, 2.0, 2.5, 3.0]), ..spending_with_harm(true, 0.1, 0.0) };
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

    /// Trials whose fractions vary (every look its own), through the brackets and the fast rule
    /// after the warm-up, decide as the exact bounds do, including statistics placed within 1e-7
    /// of an exact bound on either side (the guard sends those to the exact bounds); the fast
    /// bounds are within 1e-6 of the exact ones. Harm spending, β-spending futility, five looks.
    #[test]
    fn the_fast_rule_decides_as_the_exact_bounds() {
        let plan = spending_with_harm(false, 0.05, 2.5);
        let mut rng = StdRng::seed_from_u64(7);
        let (mut fast, mut exact) =
            (BoundsCache::default(), BoundsCache { exact_only: true, ..Default::default() });
        let (mut near, mut fast_looks, mut bracketed) = (0, 0, 0);
        for trial in 0..3000 {
            let t: Vec<f64> = [0.2, 0.4, 0.6, 0.8, 1.0]
                .iter()
                .map(|&p| {
                    let u: f64 = rand_distr::StandardUniform.sample(&mut rng);
                    p + 0.03 * (u - 0.5)
                })
                .collect();
            let positions: Vec<usize> = (0..5).collect();
            for k in 0..5 {
                let last = k == 4;
                let at = |z: f64, cache: &mut BoundsCache| {
                    plan.decide(&positions[..=k], &t[..=k], &t[..=k], z, last, cache)
                };
                let reference = at(0.0, &mut exact);
                // A statistic at random, or within 1e-7 of an exact bound.
                let u: f64 = rand_distr::StandardUniform.sample(&mut rng);
                let z = match trial % 4 {
                    0 => -reference.efficacy + 1e-7 * (u - 0.5),
                    1 if !last => -reference.futility + 1e-7 * (u - 0.5),
                    2 if !last => reference.harm + 1e-7 * (u - 0.5),
                    _ => 4.0 * (u - 0.5),
                };
                near += usize::from(trial % 4 != 3);
                let want = at(z, &mut exact);
                let got = at(z, &mut fast);
                assert_eq!(got.stop, want.stop, "trial {trial} look {k} z {z}: {got:?} vs {want:?}");
                if got.efficacy.is_nan() {
                    // Decided by the brackets: no bound computed.
                    bracketed += 1;
                    continue;
                }
                for (a, b) in
                    [(got.efficacy, want.efficacy), (got.futility, want.futility), (got.harm, want.harm)]
                {
                    assert!(a == b || (a - b).abs() < 1e-6, "trial {trial} look {k}: {got:?} vs {want:?}");
                    fast_looks += usize::from(a != b);
                }
            }
        }
        assert!(near > 5000, "statistics at the bounds: {near}");
        assert!(fast_looks > 1000, "bounds from the fast rule: {fast_looks}");
        assert!(bracketed > 1000, "decisions from the brackets alone: {bracketed}");
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
