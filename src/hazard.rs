//! Cause-specific hazards: h(t), the cumulative hazard H(t) = ∫₀ᵗ h, survival S(t) = exp(−H(t))
//! and the inverse H⁻¹(e), which turns an Exp(1) draw E into a latent event time T = H⁻¹(E)
//! (inversion: P(T > t) = P(E > H(t)) = exp(−H(t))).
//!
//! Every form has a closed-form inverse, so sampling is exact and costs one Exp(1) draw per cause
//! and patient: that is what keeps common random numbers across scenarios (the same E gives the
//! same patient whatever the hazard's parameters).
//!
//! A hazard that stops (early risk, a piecewise hazard ending in 0) has H bounded; when E exceeds
//! the bound the latent time is +∞ (the cause never happens).

pub use crate::Years;

/// A validated, non-negative hazard function of time since randomisation.
#[derive(Debug, Clone, PartialEq)]
pub enum Hazard {
    /// h(t) = rate.
    Exponential { rate: f64 },
    /// H(t) = (t/scale)^shape, h(t) = (shape/scale)(t/scale)^(shape−1).
    Weibull { shape: f64, scale: f64 },
    /// Constant `rates[k]` on (breaks[k−1], breaks[k]]; the last rate continues for ever.
    Piecewise(Piecewise),
    /// h(t) = −ln(1 − risk)/within on [0, within), 0 afterwards, so that in the absence of
    /// competing causes P(T < within) = risk (a *net* risk).
    EarlyRisk { risk: f64, within: Years },
    /// h(t) = HR(t) · h_base(t), HR piecewise constant on the same right-closed periods as
    /// [`Piecewise`]; `base` is never itself relative (validated).
    Relative { base: Box<Hazard>, hr: Piecewise },
}

/// A piecewise-constant function: `values[k]` on (breaks[k−1], breaks[k]], with breaks strictly
/// increasing and positive and `values.len() == breaks.len() + 1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Piecewise {
    pub breaks: Vec<Years>,
    pub values: Vec<f64>,
    /// ∫₀^{breaks[k]} of the function, so that inversion is a search, not a re-integration.
    integral_at_breaks: Vec<f64>,
    /// 1/values[k] (+∞ for 0): inversion multiplies instead of dividing (hot loop).
    reciprocals: Vec<f64>,
}

impl Piecewise {
    /// Builds a piecewise function; the caller (scenario validation) has checked the invariants.
    pub fn new(breaks: Vec<Years>, values: Vec<f64>) -> Self {
        debug_assert_eq!(values.len(), breaks.len() + 1);
        let mut acc = 0.0;
        let mut start = 0.0;
        let integral_at_breaks = breaks
            .iter()
            .zip(&values)
            .map(|(&b, &v)| {
                acc += v * (b - start);
                start = b;
                acc
            })
            .collect();
        let reciprocals = values.iter().map(|v| 1.0 / v).collect();
        Piecewise { breaks, values, integral_at_breaks, reciprocals }
    }

    pub fn constant(value: f64) -> Self {
        Piecewise::new(Vec::new(), vec![value])
    }

    /// ∫₀ᵗ of the function (t ≥ 0).
    fn integral(&self, t: Years) -> f64 {
        let k = self.breaks.partition_point(|&b| b < t);
        let (before, start) =
            if k == 0 { (0.0, 0.0) } else { (self.integral_at_breaks[k - 1], self.breaks[k - 1]) };
        before + self.values[k] * (t - start)
    }

    /// The smallest t with ∫₀ᵗ ≥ e > 0 (+∞ if never).
    fn inverse_integral(&self, e: f64) -> Years {
        let k = self.integral_at_breaks.partition_point(|&c| c < e);
        let (before, start) =
            if k == 0 { (0.0, 0.0) } else { (self.integral_at_breaks[k - 1], self.breaks[k - 1]) };
        // Before the last piece, piece k is where the integral reaches e, so its value is > 0.
        if self.values[k] > 0.0 { start + (e - before) * self.reciprocals[k] } else { f64::INFINITY }
    }

    /// The value at t (right-closed pieces: t = breaks[k] belongs to piece k).
    pub fn at(&self, t: Years) -> f64 {
        let k = self.breaks.partition_point(|&b| b < t);
        self.values[k]
    }

    /// Start and end of piece k.
    fn piece(&self, k: usize) -> (Years, Years) {
        let start = if k == 0 { 0.0 } else { self.breaks[k - 1] };
        let end = self.breaks.get(k).copied().unwrap_or(f64::INFINITY);
        (start, end)
    }

    fn pieces(&self) -> impl Iterator<Item = (Years, Years, f64)> + '_ {
        (0..self.values.len()).map(move |k| {
            let (a, b) = self.piece(k);
            (a, b, self.values[k])
        })
    }
}

impl Hazard {
    /// The hazard rate h(t) for t ≥ 0.
    pub fn rate(&self, t: Years) -> f64 {
        match self {
            Hazard::Exponential { rate } => *rate,
            Hazard::Weibull { shape, scale } => {
                if t <= 0.0 {
                    // h(0) is 0, finite or +∞ depending on the shape; the limit from the right.
                    return match shape.partial_cmp(&1.0) {
                        Some(std::cmp::Ordering::Less) => f64::INFINITY,
                        Some(std::cmp::Ordering::Equal) => 1.0 / scale,
                        _ => 0.0,
                    };
                }
                shape / scale * (t / scale).powf(shape - 1.0)
            }
            Hazard::Piecewise(p) => p.at(t),
            Hazard::EarlyRisk { risk, within } => {
                if t < *within {
                    early_rate(*risk, *within)
                } else {
                    0.0
                }
            }
            Hazard::Relative { base, hr } => hr.at(t) * base.rate(t),
        }
    }

    /// The cumulative hazard H(t) = ∫₀ᵗ h(u) du (0 for t ≤ 0).
    pub fn cumulative(&self, t: Years) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        match self {
            Hazard::Exponential { rate } => rate * t,
            Hazard::Weibull { shape, scale } => (t / scale).powf(*shape),
            Hazard::Piecewise(p) => p.integral(t),
            Hazard::EarlyRisk { risk, within } => early_rate(*risk, *within) * t.min(*within),
            Hazard::Relative { base, hr } => hr
                .pieces()
                .take_while(|&(a, _, _)| a < t)
                .map(
                    |(a, b, r)| {
                        if r == 0.0 { 0.0 } else { r * (base.cumulative(b.min(t)) - base.cumulative(a)) }
                    },
                )
                .sum(),
        }
    }

    /// S(t) = exp(−H(t)), the probability of surviving this cause alone past t.
    pub fn survival(&self, t: Years) -> f64 {
        (-self.cumulative(t)).exp()
    }

    /// The smallest t with H(t) ≥ e, or +∞ when H never reaches e. Used with e ~ Exp(1).
    pub fn inverse_cumulative(&self, e: f64) -> Years {
        if e <= 0.0 {
            return 0.0;
        }
        match self {
            Hazard::Exponential { rate } => {
                if *rate > 0.0 {
                    e / rate
                } else {
                    f64::INFINITY
                }
            }
            Hazard::Weibull { shape, scale } => scale * e.powf(1.0 / shape),
            Hazard::Piecewise(p) => p.inverse_integral(e),
            Hazard::EarlyRisk { risk, within } => {
                let rate = early_rate(*risk, *within);
                if rate > 0.0 && e < rate * within { e / rate } else { f64::INFINITY }
            }
            Hazard::Relative { base, hr } => {
                let mut acc = 0.0;
                for (a, b, r) in hr.pieces() {
                    if r == 0.0 {
                        continue;
                    }
                    let h_a = base.cumulative(a);
                    let piece = r * (base.cumulative(b) - h_a);
                    if acc + piece >= e {
                        // Solve r (H_base(t) − H_base(a)) = e − acc inside the piece.
                        let t = base.inverse_cumulative(h_a + (e - acc) / r);
                        return t.clamp(a, b);
                    }
                    acc += piece;
                }
                f64::INFINITY
            }
        }
    }

    /// Times where h(t) is not smooth (piece boundaries): quadrature splits its range there.
    pub fn breakpoints(&self, out: &mut Vec<Years>) {
        match self {
            Hazard::Exponential { .. } | Hazard::Weibull { .. } => {}
            Hazard::Piecewise(p) => out.extend_from_slice(&p.breaks),
            Hazard::EarlyRisk { within, .. } => out.push(*within),
            Hazard::Relative { base, hr } => {
                out.extend_from_slice(&hr.breaks);
                base.breakpoints(out);
            }
        }
    }
}

impl Hazard {
    /// An equivalent hazard that is faster to evaluate and invert: an early risk is piecewise
    /// constant (rate on (0, within], 0 after: the same H everywhere), and a hazard ratio times a
    /// piecewise-constant base is piecewise constant on the union of both sets of breaks. Only a
    /// relative Weibull keeps the general (slower) form.
    pub fn simplified(&self) -> Hazard {
        match self {
            Hazard::EarlyRisk { risk, within } => {
                Hazard::Piecewise(Piecewise::new(vec![*within], vec![early_rate(*risk, *within), 0.0]))
            }
            Hazard::Relative { base, hr } => match base.simplified() {
                Hazard::Exponential { rate } => Hazard::Piecewise(Piecewise::new(
                    hr.breaks.clone(),
                    hr.values.iter().map(|v| v * rate).collect(),
                )),
                Hazard::Piecewise(p) => {
                    let mut breaks: Vec<Years> = p.breaks.iter().chain(&hr.breaks).copied().collect();
                    breaks.sort_by(|a, b| a.total_cmp(b));
                    breaks.dedup();
                    // Each merged piece lies inside one piece of each factor: evaluate at its end
                    // (pieces are right-closed), or just past the last break for the last piece.
                    let values = (0..=breaks.len())
                        .map(|k| {
                            let t = breaks
                                .get(k)
                                .copied()
                                .unwrap_or_else(|| breaks.last().map_or(1.0, |b| b + 1.0));
                            p.at(t) * hr.at(t)
                        })
                        .collect();
                    Hazard::Piecewise(Piecewise::new(breaks, values))
                }
                other => Hazard::Relative { base: Box::new(other), hr: hr.clone() },
            },
            other => other.clone(),
        }
    }
}

/// The constant rate −ln(1 − risk)/within of an early-risk hazard.
fn early_rate(risk: f64, within: Years) -> f64 {
    -(-risk).ln_1p() / within
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::integrate;

    fn forms() -> Vec<Hazard> {
        let pw = Piecewise::new(vec![1.0, 2.0], vec![0.08, 0.07, 0.04]);
        vec![
            Hazard::Exponential { rate: 0.3 },
            Hazard::Weibull { shape: 0.7, scale: 3.0 },
            Hazard::Weibull { shape: 1.8, scale: 2.0 },
            Hazard::Piecewise(pw.clone()),
            Hazard::Piecewise(Piecewise::new(vec![0.5, 1.5], vec![0.0, 0.4, 0.0])),
            Hazard::EarlyRisk { risk: 0.1, within: 0.25 },
            Hazard::Relative {
                base: Box::new(Hazard::Piecewise(pw)),
                hr: Piecewise::new(vec![1.0], vec![0.6, 0.2]),
            },
            Hazard::Relative {
                base: Box::new(Hazard::Weibull { shape: 1.3, scale: 4.0 }),
                hr: Piecewise::new(vec![0.7, 3.0], vec![1.5, 0.0, 0.5]),
            },
        ]
    }

    #[test]
    fn cumulative_is_the_integral_of_the_rate() {
        for h in forms() {
            let mut bps = Vec::new();
            h.breakpoints(&mut bps);
            for &t in &[0.1, 0.25, 0.9, 1.0, 1.7, 2.0, 3.5, 7.0] {
                let mut knots: Vec<f64> = bps.iter().copied().filter(|&b| b < t).collect();
                knots.push(t);
                let numeric = integrate(|u| h.rate(u), 0.0, &knots, 1e-12);
                let closed = h.cumulative(t);
                assert!(
                    (numeric - closed).abs() <= 1e-9 * closed.max(1e-3),
                    "{h:?} at {t}: quadrature {numeric} vs closed form {closed}"
                );
            }
        }
    }

    #[test]
    fn inverse_undoes_cumulative() {
        for h in forms() {
            for &t in &[0.05, 0.2, 0.6, 1.0, 1.2, 2.5, 6.0] {
                let e = h.cumulative(t);
                if h.rate(t) == 0.0 {
                    continue; // flat stretch: the inverse is its left end, not t
                }
                let back = h.inverse_cumulative(e);
                assert!((back - t).abs() < 1e-9, "{h:?}: H⁻¹(H({t})) = {back}");
            }
        }
    }

    #[test]
    fn simplified_forms_have_the_same_cumulative_hazard() {
        for h in forms() {
            let s = h.simplified();
            for i in 0..=400 {
                let t = i as f64 * 0.02;
                let (a, b) = (h.cumulative(t), s.cumulative(t));
                assert!((a - b).abs() <= 1e-12 * a.max(1.0), "{h:?} at {t}: {a} vs {b}");
                let e = 0.01 * i as f64;
                let (x, y) = (h.inverse_cumulative(e), s.inverse_cumulative(e));
                assert!(x == y || (x - y).abs() < 1e-9 * x.max(1.0), "{h:?} H⁻¹({e}): {x} vs {y}");
            }
        }
    }

    #[test]
    fn early_risk_is_a_net_risk_and_stops() {
        let h = Hazard::EarlyRisk { risk: 0.1, within: 0.25 };
        assert!((1.0 - h.survival(0.25) - 0.1).abs() < 1e-15);
        assert_eq!(h.survival(10.0), h.survival(0.25));
        assert_eq!(h.inverse_cumulative(-(0.9f64.ln()) + 1e-12), f64::INFINITY);
        assert_eq!(h.rate(0.25), 0.0);
    }

    #[test]
    fn piecewise_pieces_are_right_closed() {
        let p = Piecewise::new(vec![1.0, 2.0], vec![1.0, 2.0, 3.0]);
        assert_eq!(p.at(1.0), 1.0);
        assert_eq!(p.at(1.0 + 1e-12), 2.0);
        assert_eq!(p.at(2.0), 2.0);
        assert_eq!(p.at(50.0), 3.0);
    }

    #[test]
    fn zero_hazard_never_happens() {
        let h = Hazard::Exponential { rate: 0.0 };
        assert_eq!(h.inverse_cumulative(0.5), f64::INFINITY);
        let p = Hazard::Piecewise(Piecewise::new(vec![1.0], vec![0.2, 0.0]));
        assert_eq!(p.inverse_cumulative(0.3), f64::INFINITY);
        assert!((p.inverse_cumulative(0.1) - 0.5).abs() < 1e-15);
    }
}
