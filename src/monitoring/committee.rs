//! What a monitoring committee is shown at an interim look: the trial's conditional power under
//! the design's drift, the current trend and the scenario's own model (see
//! [`crate::stats::conditional_power`] for the formulas), over the design's remaining looks as
//! planned.

use super::design::MonitoredTest;
use crate::scenario::CpDrift;
use crate::stats::conditional_power::{Drift, conditional_power};
use crate::stats::sequential::MIN_SPACING;

/// The conditional power of a trial at interim look `k` (planned position), at observed
/// fraction `t` with benefit statistic `b` (= −z), under each drift of [`CpDrift::ALL`] in
/// that order. The remaining looks are the planned ones that would still add information
/// (at least [`MIN_SPACING`] after t, as a trial takes them) and the final analysis, at their
/// planned fractions and efficacy bounds; the model's path is its expected B-values at those
/// planned looks. NaN without [`super::CpInputs`] or where undefined.
pub fn conditional_powers(mt: &MonitoredTest, k: usize, t: f64, b: f64) -> [f64; 3] {
    let Some(inputs) = &mt.cp else { return [f64::NAN; 3] };
    let last = mt.planned_fractions.len() - 1;
    let ahead: Vec<usize> =
        (k + 1..=last).filter(|&j| j == last || mt.planned_fractions[j] - t >= MIN_SPACING).collect();
    let looks: Vec<f64> = ahead.iter().map(|&j| mt.planned_fractions[j]).collect();
    let bounds: Vec<f64> = ahead.iter().map(|&j| mt.planned.efficacy[j]).collect();
    let path: Vec<f64> = ahead.iter().map(|&j| inputs.model_path[j]).collect();
    CpDrift::ALL.map(|d| {
        let drift = match d {
            CpDrift::Design => Drift::Constant(inputs.design_drift),
            CpDrift::Trend => Drift::Trend,
            CpDrift::Model => Drift::Path { now: inputs.model_path[k], at: &path },
        };
        conditional_power(t, b, &looks, &bounds, drift)
    })
}

/// The index of `d` in [`conditional_powers`]'s output.
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
        let cp = conditional_powers(mt, 0, t, b);
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
        let both = conditional_powers(mt, 0, 0.3, 1.0);
        // Past the second look's planned fraction, only the final analysis remains.
        let past = conditional_powers(mt, 0, 0.65, 1.0);
        let final_only = conditional_powers(mt, 1, 0.65, 1.0);
        assert_eq!(past[0], final_only[0]);
        assert_eq!(past[1], final_only[1]);
        assert!(both.iter().all(|x| (0.0..=1.0).contains(x)), "{both:?}");
        // Without the committee or a conditional-power rule nothing is computed.
        let sc = valid(&appended("[monitoring]\nlooks = [{ fraction = 0.5 }]"));
        let m = Monitor::new(&sc).expect("monitored");
        assert!(m.tests[0].cp.is_none());
        assert!(conditional_powers(&m.tests[0], 0, 0.5, 1.0).iter().all(|x| x.is_nan()));
    }
}
