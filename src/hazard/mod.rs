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

mod error;
mod piecewise;

use crate::time::Time;
pub use error::{HazardError, Param};
pub use piecewise::Piecewise;

use error::{non_negative, positive};

/// A validated, non-negative hazard function of time since randomisation. Built only by the
/// constructors ([`Hazard::exponential`], [`Hazard::weibull`], [`Hazard::piecewise`],
/// [`Hazard::early_risk`], [`Hazard::relative`]), which reject bad parameters, so the methods
/// never meet NaN, a negative rate or a zero Weibull shape.
#[derive(Debug, Clone, PartialEq)]
pub struct Hazard(Form);

#[derive(Debug, Clone, PartialEq)]
enum Form {
    /// h(t) = rate.
    Exponential { rate: f64 },
    /// H(t) = (t/scale)^shape, h(t) = (shape/scale)(t/scale)^(shape−1). `inv_shape` = 1/shape,
    /// computed once: the same division the inversion did on every draw, so the same bits.
    Weibull { shape: f64, scale: f64, inv_shape: f64 },
    /// Constant `rates[k]` on (breaks[k−1], breaks[k]]; the last rate continues for ever.
    Piecewise(Piecewise),
    /// h(t) = rate = −ln(1 − risk)/within on [0, within), 0 afterwards, so that in the absence
    /// of competing causes P(T < within) = risk (a *net* risk).
    EarlyRisk { within: Time, rate: f64, risk: f64 },
    /// h(t) = HR(t) · h_base(t), HR piecewise constant on the same right-closed periods as
    /// [`Piecewise`]; `base` is never itself relative.
    Relative { base: Box<Hazard>, hr: Piecewise },
}

impl Hazard {
    /// h(t) = rate, with rate finite and ≥ 0.
    pub fn exponential(rate: f64) -> Result<Hazard, HazardError> {
        Ok(Hazard(Form::Exponential { rate: non_negative(rate, Param::Rate)? }))
    }

    /// H(t) = (t/scale)^shape, with shape and scale finite and > 0 (shape checked first).
    pub fn weibull(shape: f64, scale: f64) -> Result<Hazard, HazardError> {
        let shape = positive(shape, Param::Shape)?;
        let scale = positive(scale, Param::Scale)?;
        Ok(Hazard(Form::Weibull { shape, scale, inv_shape: 1.0 / shape }))
    }

    /// Constant `rates[k]` on (breaks[k−1], breaks[k]] (checks as [`Piecewise::new`]).
    pub fn piecewise(breaks: Vec<Time>, rates: Vec<f64>) -> Result<Hazard, HazardError> {
        Ok(Hazard(Form::Piecewise(Piecewise::new(breaks, rates)?)))
    }

    /// The constant hazard −ln(1 − risk)/within on [0, within), 0 after: a *net* risk `risk`
    /// in [0, 1) by `within`, finite and > 0 (risk checked first).
    pub fn early_risk(risk: f64, within: Time) -> Result<Hazard, HazardError> {
        if !(0.0..1.0).contains(&risk) {
            return Err(HazardError::OutOfRange { param: Param::Risk, found: risk });
        }
        // −0.0 is 0 (see `non_negative`).
        let risk = risk + 0.0;
        let within = positive(within, Param::Within)?;
        Ok(Hazard(Form::EarlyRisk { within, rate: early_rate(risk, within), risk }))
    }

    /// `hr[k]` times `base` on (breaks[k−1], breaks[k]] (checks as [`Piecewise::new`]); `base`
    /// must not itself be relative.
    pub fn relative(base: Hazard, breaks: Vec<Time>, hr: Vec<f64>) -> Result<Hazard, HazardError> {
        if matches!(base.0, Form::Relative { .. }) {
            return Err(HazardError::RelativeBase);
        }
        let hr = Piecewise::new(breaks, hr)?;
        Ok(Hazard(Form::Relative { base: Box::new(base), hr }))
    }

    /// An early risk's (risk, within) as written: what a reader is told.
    pub fn as_early_risk(&self) -> Option<(f64, Time)> {
        match self.0 {
            Form::EarlyRisk { within, risk, .. } => Some((risk, within)),
            _ => None,
        }
    }

    /// The hazard rate h(t) for t ≥ 0.
    pub fn rate(&self, t: Time) -> f64 {
        match &self.0 {
            Form::Exponential { rate } => *rate,
            Form::Weibull { shape, scale, .. } => {
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
            Form::Piecewise(p) => p.at(t),
            Form::EarlyRisk { within, rate, .. } => {
                if t < *within {
                    *rate
                } else {
                    0.0
                }
            }
            Form::Relative { base, hr } => hr.at(t) * base.rate(t),
        }
    }

    /// The cumulative hazard H(t) = ∫₀ᵗ h(u) du (0 for t ≤ 0).
    pub fn cumulative(&self, t: Time) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        match &self.0 {
            Form::Exponential { rate } => rate * t,
            Form::Weibull { shape, scale, .. } => (t / scale).powf(*shape),
            Form::Piecewise(p) => p.integral(t),
            Form::EarlyRisk { within, rate, .. } => rate * t.min(*within),
            Form::Relative { base, hr } => hr
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
    pub fn survival(&self, t: Time) -> f64 {
        (-self.cumulative(t)).exp()
    }

    /// The smallest t with H(t) ≥ e, or +∞ when H never reaches e. Used with e ~ Exp(1).
    pub fn inverse_cumulative(&self, e: f64) -> Time {
        if e <= 0.0 {
            return 0.0;
        }
        match &self.0 {
            Form::Exponential { rate } => {
                if *rate > 0.0 {
                    e / rate
                } else {
                    f64::INFINITY
                }
            }
            Form::Weibull { scale, inv_shape, .. } => scale * e.powf(*inv_shape),
            Form::Piecewise(p) => p.inverse_integral(e),
            Form::EarlyRisk { within, rate, .. } => {
                if *rate > 0.0 && e < rate * within {
                    e / rate
                } else {
                    f64::INFINITY
                }
            }
            Form::Relative { base, hr } => {
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

    /// `out[i] = H⁻¹(e[i])` for each i in `patients`: one dispatch on the form for all of them
    /// (per patient, alternating arms' forms would defeat the branch predictor). The same values
    /// as [`Hazard::inverse_cumulative`], bit for bit.
    pub(crate) fn inverse_cumulative_of(&self, e: &[f64], patients: &[u32], out: &mut [f64]) {
        match &self.0 {
            Form::Exponential { rate } if *rate > 0.0 => {
                for &i in patients {
                    let x = e[i as usize];
                    out[i as usize] = if x <= 0.0 { 0.0 } else { x / rate };
                }
            }
            _ => {
                for &i in patients {
                    out[i as usize] = self.inverse_cumulative(e[i as usize]);
                }
            }
        }
    }

    /// Times where h(t) is not smooth (piece boundaries): quadrature splits its range there.
    pub(crate) fn breakpoints(&self, out: &mut Vec<Time>) {
        match &self.0 {
            Form::Exponential { .. } | Form::Weibull { .. } => {}
            Form::Piecewise(p) => out.extend_from_slice(p.breaks()),
            Form::EarlyRisk { within, .. } => out.push(*within),
            Form::Relative { base, hr } => {
                out.extend_from_slice(hr.breaks());
                base.breakpoints(out);
            }
        }
    }

    /// An equivalent hazard that is faster to evaluate and invert: an early risk is piecewise
    /// constant (rate on (0, within], 0 after: the same H everywhere), and a hazard ratio times a
    /// piecewise-constant base is piecewise constant on the union of both sets of breaks. Only a
    /// relative Weibull keeps the general (slower) form.
    pub(crate) fn simplified(&self) -> Hazard {
        match &self.0 {
            Form::EarlyRisk { within, rate, .. } => {
                Hazard(Form::Piecewise(Piecewise::from_checked(vec![*within], vec![*rate, 0.0])))
            }
            Form::Relative { base, hr } => match base.simplified().0 {
                Form::Exponential { rate } => Hazard(Form::Piecewise(Piecewise::from_checked(
                    hr.breaks().to_vec(),
                    hr.values().iter().map(|v| v * rate).collect(),
                ))),
                Form::Piecewise(p) => {
                    let mut breaks: Vec<Time> = p.breaks().iter().chain(hr.breaks()).copied().collect();
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
                    Hazard(Form::Piecewise(Piecewise::from_checked(breaks, values)))
                }
                other => Hazard(Form::Relative { base: Box::new(Hazard(other)), hr: hr.clone() }),
            },
            _ => self.clone(),
        }
    }
}

/// The constant rate −ln(1 − risk)/within of an early-risk hazard.
fn early_rate(risk: f64, within: Time) -> f64 {
    -(-risk).ln_1p() / within
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quadrature::integrate;

    fn forms() -> Vec<Hazard> {
        let pw = || Hazard::piecewise(vec![1.0, 2.0], vec![0.08, 0.07, 0.04]).unwrap();
        vec![
            Hazard::exponential(0.3).unwrap(),
            Hazard::weibull(0.7, 3.0).unwrap(),
            Hazard::weibull(1.8, 2.0).unwrap(),
            pw(),
            Hazard::piecewise(vec![0.5, 1.5], vec![0.0, 0.4, 0.0]).unwrap(),
            Hazard::early_risk(0.1, 0.25).unwrap(),
            Hazard::relative(pw(), vec![1.0], vec![0.6, 0.2]).unwrap(),
            Hazard::relative(Hazard::weibull(1.3, 4.0).unwrap(), vec![0.7, 3.0], vec![1.5, 0.0, 0.5])
                .unwrap(),
        ]
    }

    /// −0.0 passes "≥ 0" but divides to −∞: every constructor reads it as +0, so no latent
    /// time is ever −∞ (a hazard ratio of −0.0 once gave every experimental patient an event
    /// at −∞ and the log-rank test 100% power).
    #[test]
    fn negative_zero_is_zero() {
        let pw = || Hazard::piecewise(vec![1.0], vec![0.1, 0.2]).unwrap();
        let zeros = [
            Hazard::exponential(-0.0).unwrap(),
            Hazard::piecewise(vec![1.0], vec![-0.0, -0.0]).unwrap(),
            Hazard::early_risk(-0.0, 0.5).unwrap(),
            Hazard::relative(pw(), vec![], vec![-0.0]).unwrap(),
            Hazard::relative(pw(), vec![0.5], vec![-0.0, -0.0]).unwrap(),
        ];
        for h in zeros {
            for e in [1e-9, 0.5, 3.0] {
                assert_eq!(h.inverse_cumulative(e), f64::INFINITY, "{h:?}");
            }
            let mut out = [0.0];
            h.inverse_cumulative_of(&[0.7], &[0], &mut out);
            assert_eq!(out[0], f64::INFINITY, "{h:?}");
            assert!(h.rate(0.3).is_sign_positive() && h.cumulative(2.0).is_sign_positive(), "{h:?}");
        }
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
        let h = Hazard::early_risk(0.1, 0.25).unwrap();
        assert!((1.0 - h.survival(0.25) - 0.1).abs() < 1e-15);
        assert_eq!(h.survival(10.0), h.survival(0.25));
        assert_eq!(h.inverse_cumulative(-(0.9f64.ln()) + 1e-12), f64::INFINITY);
        assert_eq!(h.rate(0.25), 0.0);
    }

    #[test]
    fn piecewise_pieces_are_right_closed() {
        let p = Piecewise::new(vec![1.0, 2.0], vec![1.0, 2.0, 3.0]).unwrap();
        assert_eq!(p.at(1.0), 1.0);
        assert_eq!(p.at(1.0 + 1e-12), 2.0);
        assert_eq!(p.at(2.0), 2.0);
        assert_eq!(p.at(50.0), 3.0);
    }

    #[test]
    fn zero_hazard_never_happens() {
        let h = Hazard::exponential(0.0).unwrap();
        assert_eq!(h.inverse_cumulative(0.5), f64::INFINITY);
        let p = Hazard::piecewise(vec![1.0], vec![0.2, 0.0]).unwrap();
        assert_eq!(p.inverse_cumulative(0.3), f64::INFINITY);
        assert!((p.inverse_cumulative(0.1) - 0.5).abs() < 1e-15);
    }

    #[test]
    fn constructors_reject_nan_infinite_and_out_of_range_values() {
        use HazardError::OutOfRange;
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        for rate in [-0.1, nan, inf] {
            assert!(
                matches!(Hazard::exponential(rate), Err(OutOfRange { param: Param::Rate, .. })),
                "{rate}"
            );
        }
        assert!(Hazard::exponential(0.0).is_ok(), "a zero rate is allowed (the cause never happens)");
        for shape in [0.0, -1.0, nan, inf] {
            assert!(matches!(Hazard::weibull(shape, 1.0), Err(OutOfRange { param: Param::Shape, .. })));
        }
        // The shape is checked before the scale.
        assert!(matches!(Hazard::weibull(nan, nan), Err(OutOfRange { param: Param::Shape, .. })));
        for scale in [0.0, nan, inf] {
            assert!(matches!(Hazard::weibull(1.0, scale), Err(OutOfRange { param: Param::Scale, .. })));
        }
        for risk in [-0.1, 1.0, nan, inf] {
            assert!(matches!(Hazard::early_risk(risk, 1.0), Err(OutOfRange { param: Param::Risk, .. })));
        }
        assert!(Hazard::early_risk(0.0, 1.0).is_ok());
        for within in [0.0, nan, inf] {
            assert!(matches!(Hazard::early_risk(0.1, within), Err(OutOfRange { param: Param::Within, .. })));
        }
        let e = Hazard::exponential(-0.5).unwrap_err();
        assert_eq!(e.to_string(), "rate: expected a rate ≥ 0, found -0.5");
    }

    #[test]
    fn piecewise_checks_breaks_then_values_then_length() {
        use HazardError::*;
        let err = |b: &[f64], v: &[f64]| Piecewise::new(b.to_vec(), v.to_vec()).unwrap_err();
        assert_eq!(err(&[0.0, 1.0], &[1.0]), OutOfRange { param: Param::Break(0), found: 0.0 });
        assert!(matches!(err(&[1.0, f64::NAN], &[1.0]), OutOfRange { param: Param::Break(1), .. }));
        assert_eq!(
            err(&[1.0, f64::INFINITY], &[1.0]),
            OutOfRange { param: Param::Break(1), found: f64::INFINITY }
        );
        assert_eq!(err(&[2.0, 1.0], &[-1.0]), NotIncreasing { index: 1, found: 1.0, after: 2.0 });
        assert_eq!(err(&[1.0, 1.0], &[1.0]), NotIncreasing { index: 1, found: 1.0, after: 1.0 });
        assert_eq!(err(&[1.0], &[1.0, -2.0, 3.0]), OutOfRange { param: Param::Value(1), found: -2.0 });
        assert!(matches!(err(&[1.0], &[f64::NAN]), OutOfRange { param: Param::Value(0), .. }));
        assert_eq!(err(&[1.0, 2.0], &[1.0, 2.0]), WrongLength { breaks: 2, found: 2 });
        assert_eq!(err(&[], &[]), WrongLength { breaks: 0, found: 0 });
        assert!(Piecewise::new(vec![], vec![0.0]).is_ok());
    }

    #[test]
    fn relative_needs_an_absolute_base() {
        let base = Hazard::exponential(0.1).unwrap();
        let rel = Hazard::relative(base.clone(), vec![], vec![0.5]).unwrap();
        assert_eq!(Hazard::relative(rel, vec![], vec![0.5]), Err(HazardError::RelativeBase));
        assert_eq!(
            Hazard::relative(base, vec![1.0], vec![0.5, -1.0]),
            Err(HazardError::OutOfRange { param: Param::Value(1), found: -1.0 })
        );
    }

    #[test]
    fn weibull_inversion_keeps_the_bits_of_dividing_by_the_shape_each_time() {
        // Shipped results depend on these bits: 1/shape is computed once instead of per draw,
        // with the same division, so H⁻¹(e) = scale · e^(1/shape) is unchanged.
        for (shape, scale) in [(0.7, 3.0), (1.8, 2.0), (1.3, 4.0), (3.0, 0.1)] {
            let h = Hazard::weibull(shape, scale).unwrap();
            for e in [1e-9f64, 0.01, 0.3, 1.0, 2.5, 40.0] {
                let before: f64 = scale * e.powf(1.0 / shape);
                assert_eq!(h.inverse_cumulative(e).to_bits(), before.to_bits(), "shape {shape}, e {e}");
            }
        }
    }
}
