//! Group-sequential boundaries by recursive numerical integration (Armitage, McPherson & Rowe
//! 1969; Jennison & Turnbull 2000, ch. 19), on the canonical joint distribution.
//!
//! On the benefit scale b = −z, the statistics at information fractions t₁ < … < t_K are
//! Z_k = S_k/√t_k with S_k ~ N(δ t_k, t_k) and independent increments, δ = θ√I_max the drift
//! (0 under the null hypothesis). Given Z_{k−1} = u, Z_k is normal, and
//!
//!   P(Z_k ≥ e | u) = Φ̄((e√t_k − u√t_{k−1} − δΔ)/√Δ),   Δ = t_k − t_{k−1}.
//!
//! The sub-density of Z_k over the trials still running after look k (f_k < Z_k < e_k at every
//! look so far) is carried on quadrature nodes, and each look's crossing probability is one sum
//! over them. Nodes: Kronrod 15-point panels over the continuation region, cut at 10 SD from
//! Z_k's mean (the sub-density is below φ(10) ≈ 8e-23 beyond), each panel no wider than three SDs
//! of the next increment seen from u (3√(Δ_{k+1}/t_k), at most 3), so the next look's kernel is
//! resolved (15 Kronrod points integrate a Gaussian over ±1.5 SD to rounding), and no wider than
//! three SDs of the increment that made the sub-density (3√(Δ_k/t_k)): after two close looks it
//! keeps the previous region's edge on that scale, which a wide next step alone would blur
//! (two looks 0.01 apart, then a final at 1.48: 1.5e-6 in z without it). The tests check on
//! 1,280 random designs and fractions that four times narrower panels move no bound by 1e-9.
//! The fast rule ([`Rule::Gauss7`], for trials' varying fractions) takes the 7 Gauss points on
//! panels 1.5 times narrower: below 1e-7 from these bounds on the tests' 10,240 random designs
//! and fraction vectors, 9.5e-8 at most on 10⁶ (`cargo bench --bench fast_bounds`).
//! Bounds solve "the probability spent at this look equals the spending function's increment"
//! by safeguarded Newton on the log probability (the derivative is the sub-density at the
//! bound), to 1e-13 in z; the tests check 1e-10 against the bivariate normal for two looks
//! and 1e-6 against rpact.
//!
//! Conventions as rpact's `getDesignGroupSequential` (one-sided): efficacy when b ≥ e_k,
//! futility when b ≤ f_k; the final look spends all of α that is left, whatever its fraction;
//! non-binding futility is ignored when α is spent, binding futility is not; β-spending
//! futility bounds hold the probability of stopping for futility under the drift δ to the
//! β-spending function, and the design's drift is the one whose last futility bound equals the
//! last efficacy bound ([`design_drift`], rpact's `typeBetaSpending`).

use std::ops::Not;

use super::normal;
use super::spending::Spending;
use crate::quadrature::{gauss7_panel, kronrod15_panel};

/// Sub-density kept within this many SDs of Z_k's mean.
const REACH: f64 = 10.0;
/// The smallest information increment between two looks (and between the last interim and 1)
/// that a design may plan: scenarios with closer looks are refused, and a trial whose observed
/// increment is smaller skips that interim. The recursion's panels are as narrow as the next
/// look's kernel, so an increment of 1e-10 once asked for 4·10⁷ panels (45 GB); below this
/// spacing the panels stop narrowing, which bounds the grid whatever the fractions.
pub const MIN_SPACING: f64 = 0.01;
/// The most panels of one look's grid: 20 SDs in panels of at least 3·√(MIN_SPACING/t), with
/// room for fractions above 1 (a final analysis beyond the planned information).
const MAX_PANELS: usize = 2000;
/// An increment's density is dropped beyond this many of its SDs (φ(12) ≈ 2e-32).
const KERNEL_REACH: f64 = 12.0;

/// The efficacy bounds of the interim looks (the final look always spends what is left of α).
#[derive(Debug, Clone, PartialEq)]
pub enum Efficacy {
    /// Lan–DeMets: the bound at t spends α(t) − α(t_prev).
    Spending(Spending),
    /// Given bounds on the b scale, one per interim look.
    Fixed(Vec<f64>),
    /// No stopping for efficacy at an interim.
    None,
}

/// The futility bounds of the interim looks (there is none at the final look).
#[derive(Debug, Clone, PartialEq)]
pub enum Futility {
    /// β-spending under the drift δ: P_δ(stop for futility at look k) = β(t_k) − β(t_{k−1}).
    Spending { beta: f64, function: Spending },
    /// Given bounds on the b scale, one per interim look.
    Fixed(Vec<f64>),
}

/// A group-sequential design: one-sided α, efficacy and optional futility bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub alpha: f64,
    pub efficacy: Efficacy,
    pub futility: Option<Futility>,
    /// Binding futility: α is spent over the trials that futility has not stopped.
    pub binding: bool,
}

/// A design's bounds at one vector of information fractions (b scale), and what they spend.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundaries {
    /// e_k, every look; +∞ where no efficacy stop is possible.
    pub efficacy: Vec<f64>,
    /// f_k, interim looks only (−∞ where there is none). With β-spending the final look's entry
    /// is the bound that spends the rest of β (what [`design_drift`] matches to the last
    /// efficacy bound); otherwise −∞.
    pub futility: Vec<f64>,
    /// Cumulative P(efficacy by look k) under the null hypothesis (futility counted only when
    /// binding).
    pub alpha_spent: Vec<f64>,
    /// Cumulative P_δ(futility by look k) under the drift, with β-spending; empty otherwise.
    pub beta_spent: Vec<f64>,
}

/// The quadrature rule of the recursion's panels: the exact recursion's Kronrod 15 points, or
/// the fast path's 7 Gauss points on panels [`GAUSS_NARROWING`] times narrower (about half the
/// kernel evaluations when the sub-density moves from look to look, two thirds of the terms of
/// each crossing probability; within 1e-7 in z of the exact bounds on the tests' 10⁴ random
/// designs and fraction vectors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Kronrod15,
    Gauss7,
}

impl Rule {
    /// How much narrower than the exact rule's the panels are.
    /// The Newton step at which a bound is taken as solved (relative, in z): to rounding for
    /// the exact rule, 1e-10 for the fast one (its quadrature is good to 1e-7 anyway).
    fn tolerance(self) -> f64 {
        match self {
            Rule::Kronrod15 => 1e-14,
            Rule::Gauss7 => 1e-10,
        }
    }

    fn narrowing(self) -> f64 {
        match self {
            Rule::Kronrod15 => 1.0,
            Rule::Gauss7 => GAUSS_NARROWING,
        }
    }
}

/// How much narrower the fast rule's panels are: at 1.5 the fast bounds are at most 9.5e-8 from
/// the exact ones on 10⁶ random vectors; panels as wide as the exact rule's left 1.4e-6.
const GAUSS_NARROWING: f64 = 1.5;

/// The coefficients of the standardised increment from look k−1 (fraction t₀) to look k
/// (fraction t): x(z, u) = a z − b u − c, with a = √t/√Δ, b = √t₀/√Δ, c = δΔ/√Δ.
#[derive(Debug, Clone, Copy)]
struct Step {
    a: f64,
    b: f64,
    c: f64,
}

/// The sub-density of Z_k over the trials still running after look k, on quadrature nodes:
/// `nodes` u_i increasing, `weights` w_i g(u_i). Before the first look it is a unit mass at 0
/// with t = 0, so the first look is the general step (x = z − δ√t₁).
#[derive(Debug, Clone)]
struct State {
    t: f64,
    nodes: Vec<f64>,
    weights: Vec<f64>,
}

impl State {
    fn origin() -> State {
        State { t: 0.0, nodes: vec![0.0], weights: vec![1.0] }
    }

    /// The step to a look at fraction `t` where S = Z√t has moved by `shift` on average since
    /// this state (δ(t − t₀) under a constant drift δ).
    fn step(&self, t: f64, shift: f64) -> Step {
        let sd = (t - self.t).sqrt();
        Step { a: t.sqrt() / sd, b: self.t.sqrt() / sd, c: shift / sd }
    }

    /// P(still running before this look, Z ≥ e).
    fn upper(&self, s: Step, e: f64) -> f64 {
        if e == f64::INFINITY {
            return 0.0;
        }
        let x0 = s.a * e - s.c;
        self.nodes.iter().zip(&self.weights).map(|(u, w)| w * normal::upper(x0 - s.b * u)).sum()
    }

    /// P(still running before this look, Z ≤ f).
    fn lower(&self, s: Step, f: f64) -> f64 {
        if f == f64::NEG_INFINITY {
            return 0.0;
        }
        let x0 = s.a * f - s.c;
        self.nodes.iter().zip(&self.weights).map(|(u, w)| w * normal::cdf(x0 - s.b * u)).sum()
    }

    /// The sub-density of Z at z over the trials still running before this look: only the
    /// nodes within [`KERNEL_REACH`] SDs of the increment contribute.
    fn density(&self, s: Step, z: f64) -> f64 {
        let x0 = s.a * z - s.c;
        let (from, to) = if s.b > 0.0 {
            let lo = (x0 - KERNEL_REACH) / s.b;
            let hi = (x0 + KERNEL_REACH) / s.b;
            (self.nodes.partition_point(|&u| u < lo), self.nodes.partition_point(|&u| u <= hi))
        } else {
            (0, self.nodes.len())
        };
        let sum: f64 = self.nodes[from..to]
            .iter()
            .zip(&self.weights[from..to])
            .map(|(u, w)| w * normal::density(x0 - s.b * u))
            .sum();
        s.a * sum
    }

    /// The state after look `p` (at fraction `p.t` with continuation region (f, e); `shift` as
    /// in [`State::step`], `mean` Z's mean there), its nodes laid out for the next look at
    /// fraction `next`.
    fn next(&self, p: Pending, next: f64, refine: f64, rule: Rule) -> State {
        let Pending { t, shift, mean, f, e } = p;
        let s = self.step(t, shift);
        let (lo, hi) = (f.max(mean - REACH), e.min(mean + REACH));
        let mut state = State { t, nodes: Vec::new(), weights: Vec::new() };
        if lo >= hi {
            return state;
        }
        // The next kernel's SD as a function of u is √(next − t)/√t; an increment below
        // MIN_SPACING (which no look a design plans or a trial takes has, the final analysis
        // aside) is resolved as if it were MIN_SPACING, so the grid stays bounded.
        let kernel = ((next - t).max(MIN_SPACING) / t).sqrt();
        // The sub-density's own scale: after a small increment the last continuation region's
        // edge is sharp on that increment's scale.
        let shape = ((t - self.t).max(MIN_SPACING) / t).sqrt();
        let width = 3.0 * kernel.min(shape).min(1.0) / refine / rule.narrowing();
        let panels = ((hi - lo) / width).ceil().clamp(1.0, MAX_PANELS as f64 * refine) as usize;
        let h = (hi - lo) / panels as f64;
        let mut quad_weights = Vec::with_capacity(15 * panels);
        for p in 0..panels {
            let a = lo + p as f64 * h;
            let b = if p + 1 == panels { hi } else { a + h };
            match rule {
                Rule::Kronrod15 => kronrod15_panel(a, b, &mut state.nodes, &mut quad_weights),
                Rule::Gauss7 => gauss7_panel(a, b, &mut state.nodes, &mut quad_weights),
            }
        }
        state.weights = state.nodes.iter().zip(&quad_weights).map(|(&z, w)| w * self.density(s, z)).collect();
        state
    }
}

/// Safeguarded Newton on ln P(x) − ln target for a monotone probability P (with its
/// derivative), bracketed in [lo, hi]; bisection where a Newton step leaves the bracket.
fn solve(p: impl Fn(f64) -> (f64, f64), target: f64, x0: f64, increasing: bool, tol: f64) -> f64 {
    let (mut lo, mut hi) = (-50.0_f64, 50.0_f64);
    let mut x = x0.clamp(lo + 1e-3, hi - 1e-3);
    for _ in 0..200 {
        let (v, dv) = p(x);
        let h = v.ln() - target.ln();
        // h > 0: P too large, so x is too high when P increases, too low when it decreases.
        if h == 0.0 {
            return x;
        }
        if (h > 0.0) == increasing {
            hi = x;
        } else {
            lo = x;
        }
        let newton = x - h * v / dv;
        let next = if newton.is_finite() && newton > lo && newton < hi { newton } else { 0.5 * (lo + hi) };
        if (next - x).abs() < tol * x.abs().max(1.0) || hi - lo < tol {
            return next;
        }
        x = next;
    }
    x
}

/// The efficacy bound at which P(running, Z ≥ e) = `target` (+∞ for nothing to spend).
fn efficacy_bound(state: &State, s: Step, mean: f64, target: f64, tol: f64) -> f64 {
    if target <= 0.0 {
        return f64::INFINITY;
    }
    solve(|e| (state.upper(s, e), -state.density(s, e)), target, mean - normal::quantile(target), false, tol)
}

/// The futility bound at which P(running, Z ≤ f) = `target` (−∞ for nothing to spend).
fn futility_bound(state: &State, s: Step, mean: f64, target: f64, tol: f64) -> f64 {
    if target <= 0.0 {
        return f64::NEG_INFINITY;
    }
    solve(|f| (state.lower(s, f), state.density(s, f)), target, mean + normal::quantile(target), true, tol)
}

/// The bounds of `design` at information fractions `t` (increasing, positive; the last is the
/// final analysis, whatever its value), with β-spending futility under drift `drift`.
pub fn boundaries(design: &Design, t: &[f64], drift: f64) -> Boundaries {
    boundaries_on(design, t, t, drift, true, 1.0)
}

/// [`boundaries`] with α and β spent at `spend` (e.g. calendar time over the final analysis's,
/// Lan & DeMets 1989) while the looks' correlations stay those of the information fractions `t`.
pub(crate) fn boundaries_spent_at(design: &Design, t: &[f64], spend: &[f64], drift: f64) -> Boundaries {
    boundaries_on(design, t, spend, drift, true, 1.0)
}

#[cfg(test)]
/// The bounds of the interim looks at fractions `t`, none of them the final analysis: what a
/// monitoring committee computes at look k from the fractions observed so far (look k's bounds
/// depend on looks 1 … k only).
pub(crate) fn interim_boundaries(design: &Design, t: &[f64], drift: f64) -> Boundaries {
    boundaries_on(design, t, t, drift, false, 1.0)
}

/// [`boundaries_spent_at`] (`with_final`) with a drift that
/// may change from look to look: S_k = Z_k√t_k has mean θ_k t_k under the alternative, with
/// `thetas[k]` = θ_k (the last entry serving any later look). This is how a model's own drift
/// (gsDesign2's `gs_info_ahr` / `gs_info_wlr`: the expected z at each look over √t_k) enters.
pub(crate) fn boundaries_with_drifts(
    design: &Design,
    t: &[f64],
    spend: &[f64],
    thetas: &[f64],
    with_final: bool,
) -> Boundaries {
    boundaries_general(design, t, spend, &|k| thetas[k.min(thetas.len() - 1)], with_final, 1.0)
}

/// [`boundaries`] (the last look final, or none with `with_final = false`), with panels
/// `refine` times narrower (the tests' convergence check).
fn boundaries_on(
    design: &Design,
    t: &[f64],
    spend: &[f64],
    drift: f64,
    with_final: bool,
    refine: f64,
) -> Boundaries {
    boundaries_general(design, t, spend, &|_| drift, with_final, refine)
}

fn boundaries_general(
    design: &Design,
    t: &[f64],
    spend: &[f64],
    theta: &dyn Fn(usize) -> f64,
    with_final: bool,
    refine: f64,
) -> Boundaries {
    let mut r = Recursion::new(refine);
    for (k, &tk) in t.iter().enumerate() {
        let last = with_final && k + 1 == t.len();
        r.look(design, LookAt { position: k, t: tk, spend: spend[k], theta: theta(k), last });
    }
    r.out
}

/// One look as the recursion takes it: its position among the design's per-look lists (fixed
/// bounds), its information fraction, the time α and β are spent at, the drift θ there, and
/// whether it is the final analysis.
#[derive(Debug, Clone, Copy)]
pub struct LookAt {
    pub position: usize,
    pub t: f64,
    pub spend: f64,
    pub theta: f64,
    pub last: bool,
}

/// The last look's continuation region, laid out as quadrature nodes only when the next look's
/// fraction is known (the panels are as wide as the next kernel).
#[derive(Debug, Clone, Copy)]
struct Pending {
    t: f64,
    shift: f64,
    mean: f64,
    f: f64,
    e: f64,
}

/// The recursion of [`boundaries`], one look at a time: a trial that monitors look after look
/// extends its own recursion by each new look instead of recomputing every earlier look (the
/// bounds of looks 1 … k depend on those looks only), so its cost grows linearly with the looks,
/// not quadratically. Its `out` after looks 1 … k is `boundaries_…` at those fractions, bit for
/// bit.
#[derive(Debug, Clone)]
pub struct Recursion {
    null: State,
    alt: State,
    alpha_cum: f64,
    beta_cum: f64,
    /// The alternative's mean of S at the previous look.
    s_before: f64,
    pending: Option<Pending>,
    refine: f64,
    rule: Rule,
    /// Only what decisions need: no futility bound (and no alternative's recursion) at the final
    /// analysis, where a trial stops or rejects by the efficacy bound alone.
    pub decisions_only: bool,
    pub out: Boundaries,
}

impl Recursion {
    /// Before the first look; `refine` narrows the panels (1 in use, more in the tests'
    /// convergence check).
    pub fn new(refine: f64) -> Recursion {
        Recursion::with_rule(refine, Rule::Kronrod15)
    }

    /// [`Recursion::new`] with panels integrated by `rule`.
    pub fn with_rule(refine: f64, rule: Rule) -> Recursion {
        Recursion {
            rule,
            decisions_only: false,
            null: State::origin(),
            alt: State::origin(),
            alpha_cum: 0.0,
            beta_cum: 0.0,
            s_before: 0.0,
            pending: None,
            refine,
            out: Boundaries {
                efficacy: Vec::new(),
                futility: Vec::new(),
                alpha_spent: Vec::new(),
                beta_spent: Vec::new(),
            },
        }
    }

    /// The looks taken so far.
    pub fn looks(&self) -> usize {
        self.out.efficacy.len()
    }

    /// Adds a look of `design` (the same design at every look): its bounds and what they spend
    /// are pushed to `out`.
    pub fn look(&mut self, design: &Design, at: LookAt) {
        let beta_spending = match &design.futility {
            Some(Futility::Spending { beta, function }) if !(self.decisions_only && at.last) => {
                Some((*beta, *function))
            }
            _ => None,
        };
        // The fraction as `spaced` takes it.
        let tk = match self.pending {
            Some(p) if (at.t - p.t >= MIN_SPACING).not() => p.t + MIN_SPACING,
            None if (at.t > 0.0).not() => MIN_SPACING,
            _ => at.t,
        };
        if let Some(p) = self.pending.take() {
            let stop_low = if design.binding { p.f } else { f64::NEG_INFINITY };
            let under_null = Pending { shift: 0.0, mean: 0.0, f: stop_low, ..p };
            self.null = self.null.next(under_null, tk, self.refine, self.rule);
            if beta_spending.is_some() {
                self.alt = self.alt.next(p, tk, self.refine, self.rule);
            }
        }
        let (null, alt) = (&self.null, &self.alt);
        let s0 = null.step(tk, 0.0);
        let e = if at.last {
            efficacy_bound(null, s0, 0.0, design.alpha - self.alpha_cum, self.rule.tolerance())
        } else {
            match &design.efficacy {
                Efficacy::Spending(f) => efficacy_bound(
                    null,
                    s0,
                    0.0,
                    f.spent(design.alpha, at.spend) - self.alpha_cum,
                    self.rule.tolerance(),
                ),
                Efficacy::Fixed(z) => z.get(at.position).copied().unwrap_or(f64::NAN),
                Efficacy::None => f64::INFINITY,
            }
        };
        self.alpha_cum += null.upper(s0, e);
        self.out.alpha_spent.push(self.alpha_cum);
        let s_here = at.theta * tk;
        let shift = s_here - self.s_before;
        let sd = alt.step(tk, shift);
        let mean = s_here / tk.sqrt();
        let f = match (&design.futility, beta_spending) {
            (_, Some((beta, function))) => {
                let target = if at.last { beta } else { function.spent(beta, at.spend) } - self.beta_cum;
                let f = futility_bound(alt, sd, mean, target, self.rule.tolerance());
                // Never above the efficacy bound at an interim (the regions may not overlap).
                let f = if at.last { f } else { f.min(e) };
                self.beta_cum += alt.lower(sd, f);
                self.out.beta_spent.push(self.beta_cum);
                f
            }
            (Some(Futility::Fixed(z)), None) if !at.last => {
                z.get(at.position).copied().unwrap_or(f64::NEG_INFINITY).min(e)
            }
            _ => f64::NEG_INFINITY,
        };
        self.out.efficacy.push(e);
        self.out.futility.push(f);
        self.pending = Some(Pending { t: tk, shift, mean, f, e });
        self.s_before = s_here;
    }
}

/// The fractions as the recursion takes them ([`Recursion::look`] applies this rule look by
/// look; this is it on a whole vector, for the tests and [`super::bracket`]): a look less than [`MIN_SPACING`] after the one
/// before (or not after it, or not a number) is moved to MIN_SPACING after it, and a first look
/// at or below 0 to MIN_SPACING. Validation refuses such plans and trials skip such interims, so
/// only a final analysis that comes too soon after the last interim is moved in practice: it
/// spends what is left of α either way, and its correlation with that interim is then taken as
/// √(t/(t + MIN_SPACING)) instead of about 1. A kernel narrower than the grid that carries the
/// sub-density cannot be integrated on it (a step of 1e-12 once lost all of the last look's α).
pub(crate) fn spaced(t: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(t.len());
    for &x in t {
        let x = match out.last() {
            // NaN fails both comparisons and is moved too.
            Some(&before) if (x - before >= MIN_SPACING).not() => before + MIN_SPACING,
            None if (x > 0.0).not() => MIN_SPACING,
            _ => x,
        };
        out.push(x);
    }
    out
}

/// The probability that a trial now at fraction `t` with statistic Z = `z` (benefit scale)
/// crosses one of the efficacy bounds `bounds` (Z scale) at the remaining looks `looks`
/// (fractions, increasing, after `t`; the last is the final analysis), when S = Z√t moves by
/// `shifts[j]` on average from one look to the next (θ(t_j − t_{j−1}) under a constant drift θ)
/// with variance t_j − t_{j−1}. Futility is ignored (non-binding). The same recursion as the
/// bounds, started from a unit mass at z: conditional power with looks still to come
/// (Jennison & Turnbull 2000, § 10.2).
pub fn crossing_probability(t: f64, z: f64, looks: &[f64], bounds: &[f64], shifts: &[f64]) -> f64 {
    if (t > 0.0).not() || z.is_nan() || looks.is_empty() {
        return f64::NAN;
    }
    crossing_from(State { t, nodes: vec![z], weights: vec![1.0] }, z * t.sqrt(), looks, bounds, shifts)
}

/// The probability of crossing one of the efficacy bounds `bounds` (Z scale) at looks `looks`
/// from the start, when S = Z√t moves by `shifts[j]` on average from one look to the next:
/// the power of the efficacy bounds alone ([`crossing_probability`] from t = 0).
pub fn efficacy_power(looks: &[f64], bounds: &[f64], shifts: &[f64]) -> f64 {
    if looks.is_empty() {
        return f64::NAN;
    }
    crossing_from(State::origin(), 0.0, looks, bounds, shifts)
}

/// The drift θ at which the efficacy bounds `bounds` at fractions `looks` alone have power
/// `power` (shifts θ(t_j − t_{j−1})): Illinois regula falsi on [0, 20], where the power
/// increases with θ. NaN when `power` is not in (0, 1) or not reached there.
pub fn drift_for_power(looks: &[f64], bounds: &[f64], power: f64) -> f64 {
    let gap = |theta: f64| {
        let shifts: Vec<f64> = std::iter::once(0.0)
            .chain(looks.iter().copied())
            .collect::<Vec<_>>()
            .windows(2)
            .map(|w| theta * (w[1] - w[0]))
            .collect();
        efficacy_power(looks, bounds, &shifts) - power
    };
    if !(power > 0.0 && power < 1.0) {
        return f64::NAN;
    }
    let (mut lo, mut hi) = (0.0_f64, 20.0_f64);
    let (mut g_lo, mut g_hi) = (gap(lo), gap(hi));
    if !(g_lo <= 0.0 && g_hi >= 0.0) {
        return f64::NAN;
    }
    let mut side = 0;
    for _ in 0..200 {
        let x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        let x = if x.is_finite() && x > lo && x < hi { x } else { 0.5 * (lo + hi) };
        let g = gap(x);
        if g == 0.0 || hi - lo < 1e-13 * hi.max(1.0) {
            return x;
        }
        if g < 0.0 {
            (lo, g_lo) = (x, g);
            if side == -1 {
                g_hi *= 0.5;
            }
            side = -1;
        } else {
            (hi, g_hi) = (x, g);
            if side == 1 {
                g_lo *= 0.5;
            }
            side = 1;
        }
        if g.abs() < 1e-14 {
            return x;
        }
    }
    0.5 * (lo + hi)
}

/// The crossing probability from `state` (S's mean `mean_s` there) over the looks ahead.
fn crossing_from(mut state: State, mut mean_s: f64, looks: &[f64], bounds: &[f64], shifts: &[f64]) -> f64 {
    let mut crossed = 0.0;
    for (j, ((&tj, &e), &shift)) in looks.iter().zip(bounds).zip(shifts).enumerate() {
        if (tj > state.t).not() {
            return f64::NAN;
        }
        let s = state.step(tj, shift);
        crossed += state.upper(s, e);
        let Some(&next) = looks.get(j + 1) else { break };
        mean_s += shift;
        let pending = Pending { t: tj, shift, mean: mean_s / tj.sqrt(), f: f64::NEG_INFINITY, e };
        state = state.next(pending, next, 1.0, Rule::Kronrod15);
    }
    crossed
}

/// rpact's drift for β-spending futility: the δ at which the last look's β-spending bound
/// equals its efficacy bound, so that the design has power 1 − β at δ (the bounds meet at the
/// end). Bisection with the Illinois false-position step on f_K(δ) − e_K, which increases in δ.
/// `None` without β-spending futility.
pub fn design_drift(design: &Design, t: &[f64]) -> Option<f64> {
    design_drift_spent_at(design, t, t)
}

/// [`design_drift`] with α and β spent at `spend` (see [`boundaries_spent_at`]).
pub(crate) fn design_drift_spent_at(design: &Design, t: &[f64], spend: &[f64]) -> Option<f64> {
    design.futility.as_ref().filter(|f| matches!(f, Futility::Spending { .. }))?;
    let gap = |drift: f64| {
        let b = boundaries_spent_at(design, t, spend, drift);
        let k = t.len() - 1;
        b.futility[k] - b.efficacy[k]
    };
    let (mut lo, mut hi) = (0.0_f64, 20.0_f64);
    let (mut g_lo, mut g_hi) = (gap(lo), gap(hi));
    if g_lo >= 0.0 {
        return Some(lo);
    }
    let mut side = 0;
    for _ in 0..200 {
        let x = (lo * g_hi - hi * g_lo) / (g_hi - g_lo);
        let x = if x.is_finite() && x > lo && x < hi { x } else { 0.5 * (lo + hi) };
        let g = gap(x);
        if g == 0.0 || hi - lo < 1e-13 {
            return Some(x);
        }
        if g < 0.0 {
            lo = x;
            g_lo = g;
            if side == -1 {
                g_hi *= 0.5;
            }
            side = -1;
        } else {
            hi = x;
            g_hi = g;
            if side == 1 {
                g_lo *= 0.5;
            }
            side = 1;
        }
        if (hi - lo) < 1e-13 * hi.max(1.0) {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// A random design and fraction vector for checking the fast rule against the exact one (the
/// tests and benches/fast_bounds.rs): case i has efficacy spending of family i mod 4
/// (O'Brien–Fleming, Pocock, HSD γ ∈ [−4, 2], power ρ ∈ [0.5, 4]), 2 + (i/4 mod 4) looks, and
/// β-spending futility when i/16 is odd (any family, β ∈ [0.05, 0.3], binding or not); interims
/// uniform in [0.02, 0.98] at least MIN_SPACING apart, the final analysis in [0.6, 1.5], a drift
/// in [0, 4].
#[doc(hidden)]
pub fn fast_rule_case(i: usize, rng: &mut impl rand::RngExt) -> (Design, Vec<f64>, f64) {
    let mut family = |f: usize| match f % 4 {
        0 => Spending::OBrienFleming,
        1 => Spending::Pocock,
        2 => Spending::HwangShihDeCani(rng.random_range(-4.0..2.0)),
        _ => Spending::Power(rng.random_range(0.5..4.0)),
    };
    let efficacy = Efficacy::Spending(family(i));
    let beta_spending = (i / 16) % 2 == 1;
    let function = family(i / 32);
    let k = 2 + (i / 4) % 4;
    let futility = beta_spending.then(|| Futility::Spending { beta: rng.random_range(0.05..0.3), function });
    let binding = beta_spending && rng.random_bool(0.5);
    let t = loop {
        let mut t: Vec<f64> = (0..k - 1).map(|_| rng.random_range(0.02..0.98)).collect();
        t.sort_by(f64::total_cmp);
        t.push(rng.random_range(0.6..1.5));
        if t.windows(2).all(|w| w[1] - w[0] >= MIN_SPACING) {
            break t;
        }
    };
    (Design { alpha: 0.025, efficacy, futility, binding }, t, rng.random_range(0.0..4.0))
}

/// The largest difference in z between the fast and the exact rule's bounds of `design` at
/// fractions `t`, as monitoring decides by them (efficacy at every look, futility at the
/// interims: [`Recursion::decisions_only`]); 0 where both are the same infinity, +∞ where only
/// one is infinite.
#[doc(hidden)]
pub fn fast_rule_difference(design: &Design, t: &[f64], drift: f64) -> f64 {
    let (mut exact, mut fast) = (Recursion::new(1.0), Recursion::with_rule(1.0, Rule::Gauss7));
    exact.decisions_only = true;
    fast.decisions_only = true;
    for (i, &ti) in t.iter().enumerate() {
        let at = LookAt { position: i, t: ti, spend: ti, theta: drift, last: i + 1 == t.len() };
        exact.look(design, at);
        fast.look(design, at);
    }
    let pairs = exact.out.efficacy.iter().zip(&fast.out.efficacy);
    pairs
        .chain(exact.out.futility.iter().zip(&fast.out.futility))
        .map(|(a, b)| if a == b { 0.0 } else { (a - b).abs() })
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::mvn::bivariate_upper;

    fn of() -> Design {
        Design {
            alpha: 0.025,
            efficacy: Efficacy::Spending(Spending::OBrienFleming),
            futility: None,
            binding: false,
        }
    }

    /// Two looks: the bounds spend exactly what they should, by the bivariate normal (Genz's
    /// algorithm, an independent method): P(Z₁ ≥ e₁) = α(t₁), and P(Z₁ < e₁, Z₂ ≥ e₂) the
    /// rest of α, with corr(Z₁, Z₂) = √(t₁/t₂). To 1e-13 in probability, so about 1e-11 in z.
    #[test]
    fn two_looks_spend_what_the_bivariate_normal_says() {
        for t1 in [0.05, 0.1, 0.3, 0.5, 0.8, 0.95] {
            for spending in [Spending::OBrienFleming, Spending::Pocock, Spending::HwangShihDeCani(-4.0)] {
                let d = Design { efficacy: Efficacy::Spending(spending), ..of() };
                let b = boundaries(&d, &[t1, 1.0], 0.0);
                let (e1, e2) = (b.efficacy[0], b.efficacy[1]);
                let a1 = spending.spent(0.025, t1);
                assert!((normal::upper(e1) / a1 - 1.0).abs() < 1e-12, "{t1} {spending:?}");
                let r = t1.sqrt();
                // P(Z₂ ≥ e₂) − P(Z₁ ≥ e₁, Z₂ ≥ e₂)
                let second = normal::upper(e2) - bivariate_upper(e1, e2, r);
                assert!(
                    (second - (0.025 - a1)).abs() < 1e-13,
                    "{t1} {spending:?}: {second} vs {}",
                    0.025 - a1
                );
                assert!((b.alpha_spent[1] - 0.025).abs() < 1e-13);
            }
        }
    }

    /// The efficacy bounds' power under a drift, from the start, is the bivariate normal's
    /// P(Z₁ ≥ e₁ or Z₂ ≥ e₂) with means θ√t; the drift solved for a power gives that power, and
    /// with one look it is Φ̄⁻¹'s closed form θ = e + z_{1−power}.
    #[test]
    fn efficacy_power_and_its_drift_agree_with_the_bivariate_normal() {
        let t = [0.4, 1.0];
        let b = boundaries(&of(), &t, 0.0);
        let (e1, e2) = (b.efficacy[0], b.efficacy[1]);
        for theta in [0.0, 1.5, 2.8, 4.0] {
            let shifts = [theta * 0.4, theta * 0.6];
            let power = efficacy_power(&t, &b.efficacy, &shifts);
            let (a, c) = (e1 - theta * 0.4f64.sqrt(), e2 - theta);
            // 1 − P(Z₁ < e₁, Z₂ < e₂) = P(X ≥ a) + P(Y ≥ c) − P(X ≥ a, Y ≥ c).
            let exact = normal::upper(a) + normal::upper(c) - bivariate_upper(a, c, 0.4f64.sqrt());
            assert!((power - exact).abs() < 1e-12, "θ = {theta}: {power} vs {exact}");
        }
        assert!((efficacy_power(&t, &b.efficacy, &[0.0, 0.0]) - 0.025).abs() < 1e-12);
        let theta = drift_for_power(&t, &b.efficacy, 0.8);
        let shifts = [theta * 0.4, theta * 0.6];
        assert!((efficacy_power(&t, &b.efficacy, &shifts) - 0.8).abs() < 1e-12, "{theta}");
        let single = drift_for_power(&[1.0], &[1.96], 0.9);
        assert!((single - (1.96 + normal::quantile(0.9))).abs() < 1e-10, "{single}");
        assert!(drift_for_power(&[1.0], &[1.96], 1.0).is_nan());
    }

    /// Under a drift, two-look β-spending futility bounds spend β as the bivariate normal says.
    #[test]
    fn futility_spends_beta_under_the_drift() {
        let d = Design {
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::HwangShihDeCani(-2.0) }),
            ..of()
        };
        let t = [0.4, 1.0];
        let drift = design_drift(&d, &t).unwrap();
        let b = boundaries(&d, &t, drift);
        let (e1, f1, e2) = (b.efficacy[0], b.futility[0], b.efficacy[1]);
        assert!((b.futility[1] - e2).abs() < 1e-10, "the bounds meet at the end");
        let (m1, m2) = (drift * 0.4f64.sqrt(), drift);
        let beta1 = Spending::HwangShihDeCani(-2.0).spent(0.2, 0.4);
        assert!((normal::cdf(f1 - m1) - beta1).abs() < 1e-14);
        // P(f₁ < Z₁ < e₁, Z₂ ≤ e₂) under the drift = β − β(t₁).
        let r = 0.4f64.sqrt();
        let (a, c) = (f1 - m1, e1 - m1);
        let z2 = e2 - m2;
        // P(a < X < c, Y ≤ z2) = P(X > a, Y > −∞) − … with upper orthants of (X, −Y).
        let between = bivariate_upper(a, -z2, -r) - bivariate_upper(c, -z2, -r);
        assert!((between - (0.2 - beta1)).abs() < 1e-12, "{between} vs {}", 0.2 - beta1);
    }

    /// Five looks, close and far apart, with binding β-spending futility: panels four times
    /// narrower move no bound by more than 1e-9 (the grid has converged; with two looks the
    /// bivariate normal test above checks the value itself).
    #[test]
    fn the_grid_has_converged() {
        let d = Design {
            efficacy: Efficacy::Spending(Spending::Pocock),
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::OBrienFleming }),
            binding: true,
            ..of()
        };
        for t in [[0.1, 0.3, 0.5, 0.8, 1.0], [0.2, 0.25, 0.9, 0.95, 1.0], [0.5, 0.6, 0.7, 0.8, 1.3]] {
            let drift = design_drift(&d, &t).unwrap();
            let (coarse, fine) =
                (boundaries_on(&d, &t, &t, drift, true, 1.0), boundaries_on(&d, &t, &t, drift, true, 4.0));
            for k in 0..5 {
                assert!((coarse.efficacy[k] - fine.efficacy[k]).abs() < 1e-9, "{t:?} {k}");
                assert!((coarse.futility[k] - fine.futility[k]).abs() < 1e-9, "{t:?} {k}");
            }
        }
    }

    /// An interim look's bounds depend only on the looks so far: the interim bounds of a prefix
    /// are the full design's bounds at those looks.
    #[test]
    fn interim_bounds_are_the_prefix_of_the_design() {
        let d = Design {
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::HwangShihDeCani(-2.0) }),
            ..of()
        };
        let t = [0.3, 0.6, 1.0];
        let drift = design_drift(&d, &t).unwrap();
        let full = boundaries(&d, &t, drift);
        let prefix = interim_boundaries(&d, &t[..2], drift);
        assert_eq!(prefix.efficacy, full.efficacy[..2]);
        assert_eq!(prefix.futility, full.futility[..2]);
    }

    /// Spending on another time scale (calendar): the first look spends α(s₁) exactly, whatever
    /// its information fraction, and the two looks together spend α (bivariate normal).
    #[test]
    fn spending_time_is_separate_from_information() {
        let d = Design { efficacy: Efficacy::Spending(Spending::Pocock), ..of() };
        let (t, s) = ([0.3, 1.0], [0.6, 1.0]);
        let b = boundaries_spent_at(&d, &t, &s, 0.0);
        let a1 = Spending::Pocock.spent(0.025, 0.6);
        assert!((normal::upper(b.efficacy[0]) / a1 - 1.0).abs() < 1e-12);
        let second =
            normal::upper(b.efficacy[1]) - bivariate_upper(b.efficacy[0], b.efficacy[1], 0.3f64.sqrt());
        assert!((second - (0.025 - a1)).abs() < 1e-13);
    }

    /// A per-look drift equal at every look is the constant drift.
    #[test]
    fn equal_per_look_drifts_are_the_constant_drift() {
        let d =
            Design { futility: Some(Futility::Spending { beta: 0.2, function: Spending::Pocock }), ..of() };
        let t = [0.3, 0.6, 1.0];
        let constant = boundaries(&d, &t, 2.5);
        let per_look = boundaries_with_drifts(&d, &t, &t, &[2.5, 2.5, 2.5], true);
        assert_eq!(constant, per_look);
        // A smaller drift at the first look (a crossing-hazards trial's early deficit) spends β
        // there under that drift: P(Z₁ ≤ f₁) = β(t₁) with Z₁ ~ N(θ₁√t₁, 1).
        let early = boundaries_with_drifts(&d, &t, &t, &[-0.5, 2.0, 2.5], true);
        let beta1 = Spending::Pocock.spent(0.2, 0.3);
        assert!((normal::cdf(early.futility[0] + 0.5 * 0.3f64.sqrt()) - beta1).abs() < 1e-13);
    }

    /// Looks closer than MIN_SPACING (1e-12 apart, or 1e-12 below the final) cost a bounded
    /// grid and give finite bounds that still spend α: they once asked for 45 GB.
    #[test]
    fn close_looks_keep_the_grid_bounded() {
        let d = Design {
            futility: Some(Futility::Spending { beta: 0.2, function: Spending::OBrienFleming }),
            binding: true,
            ..of()
        };
        for t in [vec![0.5, 0.5 + 1e-12, 1.0], vec![0.3, 1.0 - 1e-12, 1.0], vec![1e-12, 2e-12, 1.0]] {
            let first = Pending { t: t[0], shift: 0.0, mean: 0.0, f: f64::NEG_INFINITY, e: f64::INFINITY };
            let state = State::origin().next(first, t[1], 1.0, Rule::Kronrod15);
            assert!(state.nodes.len() <= 15 * MAX_PANELS, "{t:?}: {} nodes", state.nodes.len());
            let b = boundaries(&d, &t, 2.0);
            assert!(b.efficacy.iter().chain(&b.futility).all(|e| !e.is_nan()), "{t:?}: {b:?}");
            assert!((b.alpha_spent[2] - 0.025).abs() < 1e-12, "{t:?}: {b:?}");
            // As if the close look were MIN_SPACING after the one before (spending at its own
            // fraction).
            assert_eq!(b, boundaries_spent_at(&d, &spaced(&t), &t, 2.0), "{t:?}");
        }
        assert_eq!(spaced(&[0.5, 0.5 + 1e-12, 1.0]), [0.5, 0.51, 1.0]);
        assert_eq!(spaced(&[0.3, 0.6, 1.3]), [0.3, 0.6, 1.3], "spaced looks are kept");
    }

    /// The fast rule's bounds equal the exact recursion's to 1e-6 in z on 10⁴ random fraction
    /// vectors ([`fast_rule_case`]: 2,560 per spending family, 640 of each kMax 2–5, half with
    /// β-spending futility); every eighth, the exact recursion has itself converged (panels
    /// four times narrower move no bound by 1e-9). benches/fast_bounds.rs runs 10⁶.
    #[test]
    fn the_fast_rule_is_within_1e_6_of_the_exact_bounds() {
        use rand::SeedableRng;
        let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
        let mut worst = 0.0_f64;
        for case in 0..10_240 {
            let (d, t, drift) = fast_rule_case(case, &mut rng);
            let difference = fast_rule_difference(&d, &t, drift);
            assert!(difference <= 1e-6, "{d:?} at {t:?}, drift {drift}: {difference}");
            worst = worst.max(difference);
            if case % 8 == 0 {
                let exact = boundaries(&d, &t, drift);
                let fine = boundaries_on(&d, &t, &t, drift, true, 4.0);
                let pairs = exact.efficacy.iter().zip(&fine.efficacy);
                for (a, b) in pairs.chain(exact.futility.iter().zip(&fine.futility)) {
                    assert!(a == b || (a - b).abs() < 1e-9, "{d:?} at {t:?}: {a} vs {b} (converged)");
                }
            }
        }
        // Below 1e-7 here, as on the bench's 10⁶ vectors (9.5e-8); 1e-6 is the decisions' guard.
        assert!(worst > 0.0 && worst < 1e-7, "largest difference {worst:e}");
    }

    /// Conditional power: with the final look only, the closed form
    /// Φ̄((c − B(t) − θ(1 − t))/√(1 − t)), B(t) = Z√t; with one interim still to come, the
    /// bivariate normal of the two increments (Genz), P(B₂ ≥ c₂√t₂) + P(B₂ < c₂√t₂, B₃ ≥ c₃),
    /// corr √((t₂ − t)/(1 − t)). To 1e-12 and 1e-10.
    #[test]
    fn crossing_probability_is_conditional_power() {
        for (t, z, theta) in [(0.3, -0.5, 2.5), (0.5, 1.2, 0.0), (0.7, 2.1, 3.0), (0.33, 0.0, -1.0)] {
            let b = z * f64::sqrt(t);
            let c = 1.97;
            let closed = normal::upper((c - b - theta * (1.0 - t)) / (1.0 - t).sqrt());
            let got = crossing_probability(t, z, &[1.0], &[c], &[theta * (1.0 - t)]);
            assert!((got - closed).abs() < 1e-12, "{t} {z} {theta}: {got} vs {closed}");
            let (t2, c2, c3) = ((t + 1.0) / 2.0, 2.4, 2.0);
            let h = (c2 * t2.sqrt() - b - theta * (t2 - t)) / (t2 - t).sqrt();
            let k = (c3 - b - theta * (1.0 - t)) / (1.0 - t).sqrt();
            let r = ((t2 - t) / (1.0 - t)).sqrt();
            let two = normal::upper(h) + normal::upper(k) - bivariate_upper(h, k, r);
            let got =
                crossing_probability(t, z, &[t2, 1.0], &[c2, c3], &[theta * (t2 - t), theta * (1.0 - t2)]);
            assert!((got - two).abs() < 1e-10, "{t} {z} {theta}: {got} vs {two}");
        }
        assert!(crossing_probability(0.5, 0.0, &[0.4], &[2.0], &[0.0]).is_nan(), "a look before now");
        assert!(crossing_probability(0.5, f64::NAN, &[1.0], &[2.0], &[0.0]).is_nan());
    }

    /// Without interim efficacy stopping and without futility, the final bound is z₁₋α.
    #[test]
    fn no_interim_bounds_leave_the_fixed_design() {
        let d = Design { efficacy: Efficacy::None, ..of() };
        let b = boundaries(&d, &[0.3, 0.7, 1.0], 0.0);
        assert_eq!(b.efficacy[..2], [f64::INFINITY, f64::INFINITY]);
        assert!((b.efficacy[2] - normal::Z_975).abs() < 1e-12, "{}", b.efficacy[2]);
    }
}
