//! Bounded maximum likelihood by Nelder–Mead from several starts, and the observed information
//! at the optimum.
//!
//! Each parameter θ ∈ (lo, hi) is searched on z = logit((θ − lo)/(hi − lo)), so the simplex never
//! leaves the bounds. Every start runs argmin's Nelder–Mead until the simplex's function values
//! have SD below 1e-10, then once more from a fresh simplex at its best point (a restart guards
//! against the simplex collapsing early; Lagarias et al. 1998 discuss why one run is not enough).

use argmin::core::{CostFunction, Error, Executor, State, TerminationReason, TerminationStatus};
use argmin::solver::neldermead::NelderMead;
use serde::Serialize;

/// Search bounds of one parameter.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub lower: f64,
    pub upper: f64,
}

impl Bounds {
    fn to_z(self, theta: f64) -> f64 {
        let u = ((theta - self.lower) / (self.upper - self.lower)).clamp(1e-9, 1.0 - 1e-9);
        (u / (1.0 - u)).ln()
    }

    fn theta_at(self, z: f64) -> f64 {
        self.lower + (self.upper - self.lower) / (1.0 + (-z).exp())
    }
}

/// One start's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct StartOutcome {
    pub start: Vec<f64>,
    pub estimate: Vec<f64>,
    pub negative_log_likelihood: f64,
    pub iterations: u64,
    /// The simplex met the tolerance (rather than the iteration limit).
    pub converged: bool,
}

/// The best of the starts.
#[derive(Debug, Clone, Serialize)]
pub struct Optimum {
    pub estimate: Vec<f64>,
    pub negative_log_likelihood: f64,
    pub starts: Vec<StartOutcome>,
    /// Starts whose optimum is within 1e-3 of the best −ℓ: agreement is evidence of a global
    /// optimum.
    pub starts_agreeing: usize,
}

struct Objective<'a, F: Fn(&[f64]) -> f64> {
    f: &'a F,
    bounds: &'a [Bounds],
}

impl<F: Fn(&[f64]) -> f64> CostFunction for Objective<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, z: &Vec<f64>) -> Result<f64, Error> {
        let theta: Vec<f64> = z.iter().zip(self.bounds).map(|(&z, b)| b.theta_at(z)).collect();
        let v = (self.f)(&theta);
        // Nelder–Mead only compares values; a point the model cannot evaluate is simply worst.
        Ok(if v.is_nan() { f64::INFINITY } else { v })
    }
}

const MAX_ITERS: u64 = 20_000;

fn run_once<F: Fn(&[f64]) -> f64>(f: &F, bounds: &[Bounds], z0: &[f64]) -> (Vec<f64>, f64, u64, bool) {
    let mut simplex = vec![z0.to_vec()];
    for i in 0..z0.len() {
        let mut v = z0.to_vec();
        v[i] += 0.5;
        simplex.push(v);
    }
    let solver = NelderMead::new(simplex).with_sd_tolerance(1e-10).expect("a non-negative tolerance");
    let problem = Objective { f, bounds };
    let result = Executor::new(problem, solver).configure(|s| s.max_iters(MAX_ITERS)).run();
    match result {
        Ok(r) => {
            let state = r.state();
            let best = state.get_best_param().cloned().unwrap_or_else(|| z0.to_vec());
            let converged = matches!(
                state.get_termination_status(),
                TerminationStatus::Terminated(TerminationReason::SolverConverged)
            );
            (best, state.get_best_cost(), state.get_iter(), converged)
        }
        Err(_) => (z0.to_vec(), f64::INFINITY, 0, false),
    }
}

/// Minimises `f` over the box from each start (natural scale); returns the best.
pub(crate) fn minimise<F: Fn(&[f64]) -> f64 + Sync>(
    f: &F,
    bounds: &[Bounds],
    starts: &[Vec<f64>],
) -> Optimum {
    use rayon::prelude::*;
    let outcomes: Vec<StartOutcome> = starts
        .par_iter()
        .map(|start| {
            let z0: Vec<f64> = start.iter().zip(bounds).map(|(&t, b)| b.to_z(t)).collect();
            let (z1, _, it1, _) = run_once(f, bounds, &z0);
            let (z2, v2, it2, conv) = run_once(f, bounds, &z1);
            StartOutcome {
                start: start.clone(),
                estimate: z2.iter().zip(bounds).map(|(&z, b)| b.theta_at(z)).collect(),
                negative_log_likelihood: v2,
                iterations: it1 + it2,
                converged: conv,
            }
        })
        .collect();
    let best = outcomes
        .iter()
        .min_by(|a, b| a.negative_log_likelihood.total_cmp(&b.negative_log_likelihood))
        .expect("at least one start");
    let agreeing =
        outcomes.iter().filter(|o| o.negative_log_likelihood - best.negative_log_likelihood < 1e-3).count();
    Optimum {
        estimate: best.estimate.clone(),
        negative_log_likelihood: best.negative_log_likelihood,
        starts: outcomes.clone(),
        starts_agreeing: agreeing,
    }
}

/// Deterministic starts: the given first point, then a Kronecker (additive-recurrence) sequence
/// with the generalised golden ratio spread over the middle 90% of each range.
pub fn starts(first: &[f64], bounds: &[Bounds], count: usize) -> Vec<Vec<f64>> {
    let d = bounds.len();
    // φ_d: the real root of x^(d+1) = x + 1 (Roberts 2018), whose powers make a low-discrepancy
    // sequence in d dimensions.
    let mut phi = 2.0f64;
    for _ in 0..50 {
        phi = (1.0 + phi).powf(1.0 / (d as f64 + 1.0));
    }
    let mut out = vec![first.to_vec()];
    for s in 1..count {
        out.push(
            bounds
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let u = (0.5 + s as f64 / phi.powi(i as i32 + 1)).fract();
                    b.lower + (b.upper - b.lower) * (0.05 + 0.9 * u)
                })
                .collect(),
        );
    }
    out
}

/// The observed information (Hessian of −ℓ) on the search scale z = logit((θ − lo)/(hi − lo)),
/// by central differences with step 1e-3 in z. On this scale a parameter pinned at a bound is
/// flat (its information vanishes) instead of being differenced across the bound.
pub(crate) fn hessian_z<F: Fn(&[f64]) -> f64>(f: &F, bounds: &[Bounds], at: &[f64]) -> Vec<f64> {
    let d = at.len();
    let z0: Vec<f64> = at.iter().zip(bounds).map(|(&t, b)| b.to_z(t)).collect();
    let step = 1e-3;
    let eval = |di: &[(usize, f64)]| {
        let mut z = z0.clone();
        for &(i, s) in di {
            z[i] += s * step;
        }
        let theta: Vec<f64> = z.iter().zip(bounds).map(|(&z, b)| b.theta_at(z)).collect();
        f(&theta)
    };
    let f0 = eval(&[]);
    let mut h = vec![0.0; d * d];
    for i in 0..d {
        h[i * d + i] = (eval(&[(i, 1.0)]) - 2.0 * f0 + eval(&[(i, -1.0)])) / (step * step);
        for j in 0..i {
            let v =
                (eval(&[(i, 1.0), (j, 1.0)]) - eval(&[(i, 1.0), (j, -1.0)]) - eval(&[(i, -1.0), (j, 1.0)])
                    + eval(&[(i, -1.0), (j, -1.0)]))
                    / (4.0 * step * step);
            h[i * d + j] = v;
            h[j * d + i] = v;
        }
    }
    h
}

/// dθ/dz at θ: turns an SE on the search scale into one on the natural scale (delta method).
pub(crate) fn jacobian(bounds: &[Bounds], at: &[f64]) -> Vec<f64> {
    at.iter().zip(bounds).map(|(&t, b)| (t - b.lower) * (b.upper - t) / (b.upper - b.lower)).collect()
}

/// Eigenvalues and eigenvectors (columns of `vectors`, row-major d×d) of a symmetric matrix by
/// cyclic Jacobi rotations (Golub & Van Loan 2013, §8.5).
pub(crate) fn symmetric_eigen(a: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|i| (0..d).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * d + j].powi(2))
            .sum();
        let scale: f64 = (0..d).map(|i| m[i * d + i].powi(2)).sum::<f64>().max(1e-300);
        if off <= 1e-30 * scale {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = m[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (m[q * d + q] - m[p * d + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    let (mkp, mkq) = (m[k * d + p], m[k * d + q]);
                    m[k * d + p] = c * mkp - s * mkq;
                    m[k * d + q] = s * mkp + c * mkq;
                }
                for k in 0..d {
                    let (mpk, mqk) = (m[p * d + k], m[q * d + k]);
                    m[p * d + k] = c * mpk - s * mqk;
                    m[q * d + k] = s * mpk + c * mqk;
                }
                for k in 0..d {
                    let (vkp, vkq) = (v[k * d + p], v[k * d + q]);
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..d).map(|i| m[i * d + i]).collect(), v)
}

/// Standard errors from the observed information H, and its numerical rank (at most
/// `max_rank`, the number of independent figures the data hold). Only the largest `rank`
/// eigen-directions count as identified (eigenvalues below 1e-6 of the largest never do: the
/// finite differences are not more accurate than that): a
/// parameter that loads on the others (squared loading > 1e-3) gets SE NaN; the rest get
/// √(H⁺)ᵢᵢ from the pseudo-inverse on the identified directions.
pub(crate) fn standard_errors(h: &[f64], d: usize, max_rank: usize) -> (Vec<f64>, usize) {
    if d == 0 {
        return (Vec::new(), 0);
    }
    let (values, vectors) = symmetric_eigen(h, d);
    let largest = values.iter().copied().fold(0.0, f64::max);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let numerical = values.iter().filter(|&&l| largest > 0.0 && l > 1e-6 * largest).count();
    let rank = numerical.min(max_rank);
    let mut kept = vec![false; d];
    for &k in &order[..rank] {
        kept[k] = true;
    }
    let se = (0..d)
        .map(|i| {
            let null_loading: f64 = (0..d).filter(|&k| !kept[k]).map(|k| vectors[i * d + k].powi(2)).sum();
            if null_loading > 1e-3 {
                return f64::NAN;
            }
            (0..d).filter(|&k| kept[k]).map(|k| vectors[i * d + k].powi(2) / values[k]).sum::<f64>().sqrt()
        })
        .collect();
    (se, rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_bounded_minimum_and_its_curvature() {
        // −ℓ of two independent normals with SDs 0.1 and 2: SEs 0.1 and 2.
        let f = |t: &[f64]| 0.5 * ((t[0] - 0.3) / 0.1).powi(2) + 0.5 * ((t[1] + 1.0) / 2.0).powi(2);
        let b = [Bounds { lower: 0.0, upper: 1.0 }, Bounds { lower: -10.0, upper: 10.0 }];
        let opt = minimise(&f, &b, &starts(&[0.9, 5.0], &b, 4));
        assert!(
            (opt.estimate[0] - 0.3).abs() < 1e-5 && (opt.estimate[1] + 1.0).abs() < 1e-4,
            "{:?}",
            opt.estimate
        );
        assert_eq!(opt.starts_agreeing, 4);
        let (se_z, rank) = standard_errors(&hessian_z(&f, &b, &opt.estimate), 2, 2);
        assert_eq!(rank, 2);
        let se: Vec<f64> = se_z.iter().zip(jacobian(&b, &opt.estimate)).map(|(s, j)| s * j).collect();
        assert!((se[0] - 0.1).abs() < 1e-4 && (se[1] - 2.0).abs() < 1e-3, "{se:?}");
    }

    #[test]
    fn a_ridge_is_reported_as_not_identified() {
        // Only the sum is identified.
        let f = |t: &[f64]| 0.5 * (t[0] + t[1] - 1.0).powi(2) + 0.5 * (t[2] - 2.0).powi(2);
        let b = [Bounds { lower: -5.0, upper: 5.0 }; 3];
        let at = [0.5, 0.5, 2.0];
        let (se, rank) = standard_errors(&hessian_z(&f, &b, &at), 3, 3);
        assert_eq!(rank, 2);
        assert!(se[0].is_nan() && se[1].is_nan());
        assert!((se[2] * jacobian(&b, &at)[2] - 1.0).abs() < 1e-4, "{se:?}");
        // Data holding one figure identify one direction at most: the strongest.
        let (se, rank) = standard_errors(&hessian_z(&f, &b, &at), 3, 1);
        assert_eq!(rank, 1);
        assert!(se.iter().filter(|s| s.is_nan()).count() >= 2, "{se:?}");
    }
}
