//! What a monitoring committee is shown at an interim look: the trial's conditional power under
//! the design's drift, the current trend and the scenario's own model, and the predictive
//! probability over a prior's draws (see [`crate::stats::conditional_power`] for the formulas),
//! over the design's remaining looks as planned.

use super::design::MonitoredTest;
use crate::scenario::CpDrift;
use crate::stats::conditional_power::{Drift, conditional_power, predictive_probability};
use crate::stats::sequential::MIN_SPACING;

/// What the committee is shown at one interim look of one trial: the conditional power under
/// the design's drift, the trend and the model ([`CpDrift::ALL`]'s order), then the predictive
/// probability over the prior's draws; and the effective sample size of the draws' weights.
/// NaN where not computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shown {
    pub cp: [f64; 4],
    pub ess: f64,
}

impl Shown {
    pub const NONE: Shown = Shown { cp: [f64::NAN; 4], ess: f64::NAN };
}

/// Where the predictive probability sits in [`Shown::cp`], after the three drifts.
pub const PREDICTIVE: usize = 3;

/// What the committee sees of a trial at interim look `k` (planned position), at observed
/// fraction `t` with benefit statistic `b` (= −z). The remaining looks are the planned ones that
/// would still add information (at least [`MIN_SPACING`] after t, as a trial takes them) and the
/// final analysis, at their planned fractions and efficacy bounds; the model's path and each
/// prior draw's are their expected B-values at those planned looks. [`Shown::NONE`] without
/// [`super::CpInputs`]; the predictive probability is NaN without a prior.
pub fn shown(mt: &MonitoredTest, k: usize, t: f64, b: f64) -> Shown {
    let Some(inputs) = &mt.cp else { return Shown::NONE };
    let last = mt.planned_fractions.len() - 1;
    let ahead: Vec<usize> =
        (k + 1..=last).filter(|&j| j == last || mt.planned_fractions[j] - t >= MIN_SPACING).collect();
    let looks: Vec<f64> = ahead.iter().map(|&j| mt.planned_fractions[j]).collect();
    let bounds: Vec<f64> = ahead.iter().map(|&j| mt.planned.efficacy[j]).collect();
    let path = |p: &[f64]| -> Vec<f64> { ahead.iter().map(|&j| p[j]).collect() };
    let model = path(&inputs.model_path);
    let [design, trend, model] = CpDrift::ALL.map(|d| {
        let drift = match d {
            CpDrift::Design => Drift::Constant(inputs.design_drift),
            CpDrift::Trend => Drift::Trend,
            CpDrift::Model => Drift::Path { now: inputs.model_path[k], at: &model },
        };
        conditional_power(t, b, &looks, &bounds, drift)
    });
    let (predictive, ess) = if inputs.prior.is_empty() {
        (f64::NAN, f64::NAN)
    } else {
        let paths: Vec<(f64, Vec<f64>)> = inputs.prior.iter().map(|p| (p[k], path(p))).collect();
        predictive_probability(t, b, &looks, &bounds, paths.iter().map(|(now, at)| (*now, at.as_slice())))
    };
    Shown { cp: [design, trend, model, predictive], ess }
}

/// The index of `d` in [`Shown::cp`].
pub fn index(d: CpDrift) -> usize {
    CpDrift::ALL.iter().position(|&x| x == d).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::Monitor;
    use crate::scenario::fixture::{appended, valid};
    use crate::stats::normal;

    /// One interim, so the final analysis is all that remains: each drift's conditional power is
    /// the closed form 1 − Φ((c_K − B(t) − Δ)/√(1 − t)) with Δ = θ(1 − t) for the design's
    /// drift, B(t)(1 − t)/t for the trend, and the model's E[B(1)] − E[B(t)] (the planned
    /// looks'). Two interims: the first interim's remaining looks are both, and the design's
    /// drift is the one at which the efficacy bounds have power 1 − β.
    #[test]
    fn each_drift_gives_the_closed_form_with_the_final_look_left() {
        let sc = valid(&appended(
            "[monitoring]\nlooks = [{ fraction = 0.5 }]\n[monitoring.committee]\nbeta = 0.1",
        ));
        let m = Monitor::new(&sc).expect("monitored");
        let mt = &m.tests[0];
        let inputs = mt.cp.as_ref().expect("the committee asks for conditional power");
        let c = mt.planned.efficacy[1];
        let (t, b): (f64, f64) = (0.52, 0.9);
        let bt = b * t.sqrt();
        let closed = |delta: f64| normal::upper((c - bt - delta) / (1.0 - t).sqrt());
        let model = inputs.model_path[1] - inputs.model_path[0];
        let expected = [closed(inputs.design_drift * (1.0 - t)), closed(bt / t * (1.0 - t)), closed(model)];
        let cp = shown(mt, 0, t, b).cp;
        assert!(cp[PREDICTIVE].is_nan(), "no prior, no predictive probability");
        for (d, (x, y)) in cp.iter().zip(expected).enumerate() {
            assert!((x - y).abs() < 1e-12, "{:?}: {x} vs {y}", CpDrift::ALL[d]);
        }
        // The model path: E[B] = E[Z]√t, so its final value is the expected benefit z at the cut.
        assert!(inputs.model_path[1] > 0.0, "the transplant's expected benefit at the cut");
        // The design's drift gives the efficacy bounds power 1 − β = 0.9.
        let shifts = [inputs.design_drift * 0.5, inputs.design_drift * 0.5];
        let power =
            crate::stats::sequential::efficacy_power(&mt.planned_fractions, &mt.planned.efficacy, &shifts);
        assert!((power - 0.9).abs() < 1e-10, "{power}");

        let sc = valid(&appended(
            "[monitoring]\nlooks = [{ fraction = 0.3 }, { fraction = 0.6 }]\n[monitoring.committee]",
        ));
        let m = Monitor::new(&sc).expect("monitored");
        let mt = &m.tests[0];
        let both = shown(mt, 0, 0.3, 1.0).cp;
        // Past the second look's planned fraction, only the final analysis remains.
        let past = shown(mt, 0, 0.65, 1.0).cp;
        let final_only = shown(mt, 1, 0.65, 1.0).cp;
        assert_eq!(past[0], final_only[0]);
        assert_eq!(past[1], final_only[1]);
        assert!(both[..3].iter().all(|x| (0.0..=1.0).contains(x)), "{both:?}");
        // Without the committee or a conditional-power rule nothing is computed.
        let sc = valid(&appended("[monitoring]\nlooks = [{ fraction = 0.5 }]"));
        let m = Monitor::new(&sc).expect("monitored");
        assert!(m.tests[0].cp.is_none());
        assert_eq!(shown(&m.tests[0], 0, 0.5, 1.0).cp.map(f64::is_nan), [true; 4]);
    }
}
