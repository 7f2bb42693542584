//! The model's curves per arm and endpoint: cumulative hazard, hazard, survival (under
//! illness–death, from the Markov state probabilities), cause-specific sub-densities and
//! cumulative incidence and RMST, of one arm's model in one stratum.

use crate::quadrature::integrate;
use crate::scenario::{Arm, Endpoint};
use crate::time::Time;

use super::TOL;

/// Cumulative hazard of an endpoint in an arm: Σ_{k∈E} H_k, or −ln S_E under illness–death.
pub fn cumulative(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    match arm.after_for(ep) {
        None => latent_cumulative(arm, ep, t),
        Some(_) => -survival(arm, ep, t).ln(),
    }
}

/// Σ_{k∈E} H_k(t): the cumulative hazard without illness–death.
fn latent_cumulative(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()).map(|h| h.cumulative(t)).sum()
}

/// Hazard of an endpoint in an arm: Σ_k g_k(t)/S_E(t) with the sub-densities of [`sub_density`].
pub fn hazard(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    match arm.after_for(ep) {
        None => ep.causes.iter().filter_map(|&k| arm.causes[k].as_ref()).map(|h| h.rate(t)).sum(),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            let g: f64 = ep
                .causes
                .iter()
                .filter_map(|&k| arm.causes[k].as_ref().map(|h| h.rate(t) * (p0 + after.factor[k] * p1)))
                .sum();
            g / (p0 + p1)
        }
    }
}

/// Density of the first E event, f_E(t) = h_E(t) S_E(t); under illness–death Σ_k h_k (P₀ + f_k P₁)
/// directly, not g/S·S: far out, S underflows to 0 and the quotient would be NaN (expected events
/// were once undefined for an accrual of 10⁴ years).
pub fn density(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    survival_and_density(arm, ep, t).1
}

/// ([`survival`], [`density`]) at t, bit for bit, with the survival (or the illness–death
/// states) computed once for both: what the expected information's integrands read at every node.
pub fn survival_and_density(arm: &Arm, ep: &Endpoint, t: Time) -> (f64, f64) {
    match arm.after_for(ep) {
        None => {
            let s = survival(arm, ep, t);
            (s, hazard(arm, ep, t) * s)
        }
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            let f: f64 = ep
                .causes
                .iter()
                .filter_map(|&k| arm.causes[k].as_ref().map(|h| h.rate(t) * (p0 + after.factor[k] * p1)))
                .sum();
            (p0 + p1, f)
        }
    }
}

/// S_E(t) = exp(−Σ_{k∈E} H_k(t)); under illness–death P₀(t) + P₁(t) (see [`states`]).
pub fn survival(arm: &Arm, ep: &Endpoint, t: Time) -> f64 {
    match arm.after_for(ep) {
        None => (-latent_cumulative(arm, ep, t)).exp(),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            p0 + p1
        }
    }
}

/// Illness–death state probabilities for endpoint E whose causes the trigger p (not in E)
/// modifies by factors f_k. The process is Markov (Andersen & Keiding 2002, illness–death model):
/// - P₀(t) = P(no E event, no trigger) = exp(−H_p(t) − Σ_{k∈E} H_k(t));
/// - P₁(t) = P(triggered, no E event) = ∫₀ᵗ h_p(u) P₀(u) exp(−Σ_{k∈E} f_k (H_k(t) − H_k(u))) du,
///   the solution of P₁′ = h_p P₀ − (Σ f_k h_k) P₁, P₁(0) = 0.
pub fn states(arm: &Arm, after: &crate::scenario::After, ep: &Endpoint, t: Time) -> (f64, f64) {
    let Some(hp) = arm.causes[after.trigger].as_ref() else {
        return ((-latent_cumulative(arm, ep, t)).exp(), 0.0);
    };
    let modified = |u: f64| -> f64 {
        ep.causes
            .iter()
            .filter_map(|&k| arm.causes[k].as_ref().map(|h| after.factor[k] * h.cumulative(u)))
            .sum()
    };
    let p0 = |u: f64| (-hp.cumulative(u) - latent_cumulative(arm, ep, u)).exp();
    if t <= 0.0 {
        return (1.0, 0.0);
    }
    let at_t = modified(t);
    let p1 =
        integrate(|u| hp.rate(u) * p0(u) * (modified(u) - at_t).exp(), 0.0, &knots(&[arm], ep, &[], t), TOL);
    (p0(t), p1)
}

/// g_k(t): the density of cause k being the first event of E at t, h_k(t)·S_E(t) without
/// illness–death, h_k(t)·(P₀(t) + f_k P₁(t)) with it.
pub fn sub_density(arm: &Arm, ep: &Endpoint, cause: usize, t: Time) -> f64 {
    let Some(h) = arm.causes[cause].as_ref() else {
        return 0.0;
    };
    match arm.after_for(ep) {
        None => h.rate(t) * survival(arm, ep, t),
        Some(after) => {
            let (p0, p1) = states(arm, after, ep, t);
            h.rate(t) * (p0 + after.factor[cause] * p1)
        }
    }
}

/// Breakpoints of every cause of `ep` in `arm` below `upto`, then `upto` itself: the knots
/// quadrature splits at.
pub(super) fn knots(arms: &[&Arm], ep: &Endpoint, extra: &[f64], upto: Time) -> Vec<Time> {
    let mut k = Vec::new();
    for arm in arms {
        for h in ep.causes.iter().filter_map(|&c| arm.causes[c].as_ref()) {
            h.breakpoints(&mut k);
        }
        if let Some(h) = arm.after_for(ep).and_then(|a| arm.causes[a.trigger].as_ref()) {
            h.breakpoints(&mut k);
        }
    }
    k.extend_from_slice(extra);
    k.retain(|&b| b > 0.0 && b < upto);
    k.push(upto);
    k.sort_by(|a, b| a.total_cmp(b));
    k.dedup();
    k
}

/// Restricted mean survival time ∫₀^τ S_E(t) dt.
pub fn rmst(arm: &Arm, ep: &Endpoint, tau: Time) -> f64 {
    integrate(|t| survival(arm, ep, t), 0.0, &knots(&[arm], ep, &[], tau), TOL)
}

/// F_{k|E}(t) = ∫₀ᵗ g_k(u) du (h_k S_E without illness–death): the probability that cause k is the first event of E by t.
pub fn cumulative_incidence(arm: &Arm, ep: &Endpoint, cause: usize, t: Time) -> f64 {
    if arm.causes[cause].is_none() {
        return 0.0;
    }
    integrate(|u| sub_density(arm, ep, cause, u), 0.0, &knots(&[arm], ep, &[], t), TOL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::fixture::{BASE, valid};

    /// The fused survival and density are `survival` and the density bit for bit: h·S without
    /// illness–death; with it (organ failure multiplying disease deaths by 3 in the transplant
    /// arm, endpoint OS), S is the states' P₀ + P₁ and f agrees with −dS/dt by central
    /// differences (at times off the hazards' breaks, where f jumps).
    #[test]
    fn survival_and_density_are_the_survival_and_its_density() {
        let sc = valid(&BASE.replace(
            "[endpoints]\n",
            "[arms.hsct.after.organ_failure]\ndisease_death = 3\n[endpoints]\nos = [\"treatment_death\", \"disease_death\"]\n",
        ));
        let (efs, os) = (&sc.endpoints[0], &sc.endpoints[1]);
        let mut illness_death = 0;
        for arm in &sc.arms {
            for t in [0.0, 0.1, 0.24, 0.5, 1.3, 1.7, 3.0, 8.0] {
                let (s, f) = survival_and_density(arm, efs, t);
                assert_eq!(
                    (s.to_bits(), f.to_bits()),
                    (survival(arm, efs, t).to_bits(), (hazard(arm, efs, t) * s).to_bits())
                );
                let (s, f) = survival_and_density(arm, os, t);
                assert_eq!(s.to_bits(), survival(arm, os, t).to_bits());
                assert_eq!(f.to_bits(), density(arm, os, t).to_bits());
                if arm.after_for(os).is_some() && t > 0.0 {
                    illness_death += 1;
                    let h = 1e-5;
                    let slope = (survival(arm, os, t - h) - survival(arm, os, t + h)) / (2.0 * h);
                    assert!((slope - f).abs() < 1e-6 * f.max(1e-3), "t {t}: {slope} against {f}");
                }
            }
        }
        assert_eq!(illness_death, 7, "the transplant arm's OS is under illness–death");
    }
}
