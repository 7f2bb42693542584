//! The long-term benefit on the true curves, without simulation (issue 25, first part): the
//! restricted mean survival time gained by the experimental arm to any time t,
//! ΔRMST(t) = ∫₀ᵗ (S_exp − S_ctl) du (life-years gained on OS, event-free years gained on EFS), and
//! the break-even time, when the years lost to early deaths have been given back:
//!
//!   T_be = inf{t₀ ≥ 0 : ΔRMST(t) > ε for all t in (t₀, H]},  ε = 1e-10,
//!
//! "not reached by H" when ΔRMST(H) ≤ ε (a statement relative to the horizon H). Beyond the
//! studies' follow-up these values rest on the last hazard piece continuing.
//!
//! ΔRMST falls where the experimental curve is below control's and rises where it is above, so
//! its local minima are the times the curves cross upwards. The break-even time is found from
//! the last of them at which ΔRMST ≤ ε, by bisection on the rise after it.

use serde::Serialize;

use crate::quadrature::integrate;
use crate::scenario::{Endpoint, Scenario};
use crate::time::{Time, units_per_year};

use super::crossing::crossing_times;
use super::mixture::{self, ArmMix};
use super::{ArmCurve, CauseCurve, TOL};

/// The ε of the break-even time: gains below it are rounding, not years.
pub const EPSILON: f64 = 1e-10;

/// ΔRMST(t) = RMST_exp(t) − RMST_ctl(t) on the true curves of `ep`.
pub fn rmst_gain(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, t: Time) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    exp.rmst(ep, t) - ctl.rmst(ep, t)
}

/// When the experimental arm's restricted mean has caught up for good, up to `horizon`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreakEven {
    At(Time),
    /// ΔRMST(horizon) ≤ ε.
    NotReached,
}

/// The break-even time up to `horizon` (see the module doc).
pub fn break_even(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, horizon: Time) -> BreakEven {
    break_even_given(ctl, exp, ep, horizon, &crossing_times(ctl, exp, ep, horizon))
}

/// [`break_even`] when the crossings up to `horizon` are known.
fn break_even_given(
    ctl: &ArmMix,
    exp: &ArmMix,
    ep: &Endpoint,
    horizon: Time,
    crossings: &[Time],
) -> BreakEven {
    let gain = |t: f64| rmst_gain(ctl, exp, ep, t);
    if gain(horizon) <= EPSILON {
        return BreakEven::NotReached;
    }
    // The local minima of ΔRMST: 0 and the upward crossings of the curves.
    let diff = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
    let mut minima = vec![0.0];
    minima.extend(crossings.iter().copied().filter(|&c| diff(c + 1e-9) > 0.0));
    let from = minima.iter().rev().copied().find(|&m| gain(m) <= EPSILON).unwrap_or(0.0);
    // ΔRMST rises from `from` until the next downward crossing (or the horizon), and every later
    // minimum is above ε: it passes ε once, in (from, to].
    let to = crossings.iter().copied().find(|&c| c > from && diff(c + 1e-9) < 0.0).unwrap_or(horizon);
    let (mut lo, mut hi) = (from, to);
    while hi - lo > 1e-12 * hi.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if gain(mid) > EPSILON {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    BreakEven::At(hi)
}

/// Points of the ΔRMST curve the reports draw: equal steps to the horizon.
const CURVE_STEPS: usize = 200;

/// The long-term benefit of the experimental arm over control to the scenario's horizon, for
/// every endpoint (summary.json `truth.long_term`).
#[derive(Debug, Clone, Serialize)]
pub struct LongTerm {
    pub horizon: Time,
    /// 5, 10, 15 and 20 years within the horizon, and the horizon: where gains are tabulated.
    pub times: Vec<Time>,
    /// The longest follow-up of the design (its expected cut, the first entrant's follow-up):
    /// beyond it every value rests on the model continuing.
    pub follow_up: Option<Time>,
    /// The model's last hazard change in either arm (None: the hazards keep one form
    /// throughout); after it the last piece is what continues.
    pub last_change: Option<Time>,
    /// Equal steps from 0 to the horizon, where `EndpointLongTerm::curve` is evaluated.
    pub curve_times: Vec<Time>,
    pub endpoints: Vec<EndpointLongTerm>,
}

/// What the experimental arm gains on one endpoint.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointLongTerm {
    pub endpoint: String,
    pub primary: bool,
    /// What a gain counts: "life-years" (an endpoint of deaths only) or "event-free years".
    pub measure: &'static str,
    /// Restricted mean per arm at `times`.
    pub rmst: Vec<ArmCurve>,
    /// ΔRMST at `times`.
    pub gain: Vec<f64>,
    /// The break-even time; None when not reached by the horizon.
    pub break_even: Option<Time>,
    /// Every time up to the horizon where the curves are equal and change order.
    pub crossings: Vec<Time>,
    /// ΔRMST at `curve_times`.
    pub curve: Vec<f64>,
    /// Cumulative incidence of each cause as the endpoint's first event, per arm, at `times`.
    pub cumulative_incidence: Vec<CauseCurve>,
}

/// "life-years" when every cause of `ep` is a death (its name says so), else "event-free years".
pub fn measure(sc: &Scenario, ep: &Endpoint) -> &'static str {
    let deaths = ep.causes.iter().all(|&k| {
        let c = sc.causes[k].to_ascii_lowercase();
        c.contains("death") || c.contains("mortality")
    });
    if deaths || ep.name.eq_ignore_ascii_case("os") { "life-years" } else { "event-free years" }
}

impl LongTerm {
    /// The long-term truth of a two-arm scenario with a horizon (None otherwise).
    pub fn compute(sc: &Scenario, expected_cut: Option<Time>) -> Option<LongTerm> {
        let horizon = sc.analysis.long_term.as_ref()?.horizon;
        let (ctl, exp) = mixture::pair(sc)?;
        let (ctl, exp) = (&ctl, &exp);
        // 5, 10, 15 and 20 years are unknown in a unit that is not years, months, weeks or days:
        // the horizon alone is tabulated there.
        let mut times: Vec<Time> = match units_per_year(&sc.time_unit) {
            Some(u) => [5.0, 10.0, 15.0, 20.0].iter().map(|y| y * u).filter(|&t| t < horizon).collect(),
            None => Vec::new(),
        };
        times.push(horizon);
        let curve_times: Vec<Time> =
            (0..=CURVE_STEPS).map(|i| horizon * i as f64 / CURVE_STEPS as f64).collect();
        let mut breaks = Vec::new();
        for ep in &sc.endpoints {
            breaks.extend(mixture::knots(&[ctl, exp], ep, &[], f64::INFINITY));
        }
        let last_change = breaks.into_iter().filter(|t| t.is_finite()).reduce(f64::max);
        let endpoints = sc
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, ep)| {
                let crossings = crossing_times(ctl, exp, ep, horizon);
                let break_even = match break_even_given(ctl, exp, ep, horizon, &crossings) {
                    BreakEven::At(t) => Some(t),
                    BreakEven::NotReached => None,
                };
                let rmst = [ctl, exp]
                    .iter()
                    .map(|a| ArmCurve {
                        arm: a.name().to_string(),
                        values: times.iter().map(|&t| a.rmst(ep, t)).collect(),
                    })
                    .collect::<Vec<_>>();
                let gain = rmst[1].values.iter().zip(&rmst[0].values).map(|(e, c)| e - c).collect();
                let cumulative_incidence = [ctl, exp]
                    .iter()
                    .flat_map(|a| {
                        ep.causes.iter().filter(|&&k| a.has_cause(k)).map(|&k| CauseCurve {
                            arm: a.name().to_string(),
                            cause: sc.causes[k].clone(),
                            values: times.iter().map(|&t| a.cumulative_incidence(ep, k, t)).collect(),
                        })
                    })
                    .collect();
                EndpointLongTerm {
                    endpoint: ep.name.clone(),
                    primary: i == sc.analysis.endpoint,
                    measure: measure(sc, ep),
                    rmst,
                    gain,
                    break_even,
                    crossings,
                    curve: gain_curve(ctl, exp, ep, &curve_times),
                    cumulative_incidence,
                }
            })
            .collect();
        Some(LongTerm { horizon, times, follow_up: expected_cut, last_change, curve_times, endpoints })
    }

    /// The primary endpoint's values.
    pub fn primary(&self) -> Option<&EndpointLongTerm> {
        self.endpoints.iter().find(|e| e.primary)
    }
}

/// ΔRMST at increasing `times` (from 0), integrating S_exp − S_ctl step by step rather than from 0
/// each time.
pub fn gain_curve(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, times: &[Time]) -> Vec<f64> {
    let diff = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
    let all = mixture::knots(&[ctl, exp], ep, &[], f64::INFINITY);
    let (mut at, mut gain) = (0.0, 0.0);
    times
        .iter()
        .map(|&t| {
            if t > at {
                let mut k: Vec<Time> = all.iter().copied().filter(|&b| b > at && b < t).collect();
                k.push(t);
                gain += integrate(diff, at, &k, TOL);
                at = t;
            }
            gain
        })
        .collect()
}

/// The type-7 quantile (R's default) of sorted values.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    if lo == hi {
        // Also keeps ∞ (a draw not breaking even) from making ∞ − ∞.
        return sorted[lo];
    }
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Median and central 95% interval of a quantity over parameter draws.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spread {
    pub median: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(|a, b| a.total_cmp(b));
        Spread {
            median: quantile(&values, 0.5),
            lower: quantile(&values, 0.025),
            upper: quantile(&values, 0.975),
        }
    }
}

/// The long-term truth over parameter draws (e.g. the calibration's `draws.csv`): how sure the
/// data that made the draws let us be about the gains and the break-even time.
#[derive(Debug, Clone, Serialize)]
pub struct Uncertainty {
    /// Where the draws come from (a file name).
    pub source: String,
    /// Draws used, and draws left out because they make an invalid scenario.
    pub draws: usize,
    pub invalid_draws: usize,
    pub horizon: Time,
    pub times: Vec<Time>,
    pub curve_times: Vec<Time>,
    pub endpoints: Vec<EndpointUncertainty>,
}

/// One endpoint's gains over the draws.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointUncertainty {
    pub endpoint: String,
    pub primary: bool,
    pub measure: &'static str,
    /// ΔRMST at `times`.
    pub gain: Vec<Spread>,
    /// The share of draws with a gain (ΔRMST > ε) by each of `times`.
    pub p_gain: Vec<f64>,
    /// The break-even time's median and 95% interval, a draw that does not break even by the
    /// horizon counting as later than any that does (null: not by the horizon).
    pub break_even: BreakEvenSpread,
    /// ΔRMST's 2.5%, 50% and 97.5% points over the draws at `curve_times`.
    pub band: Vec<[f64; 3]>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct BreakEvenSpread {
    pub median: Option<Time>,
    pub lower: Option<Time>,
    pub upper: Option<Time>,
    /// The share of draws that do not break even by the horizon.
    pub not_reached: f64,
}

/// The long-term truth of every draw's scenario (`scenarios`: None for a draw whose scenario is
/// invalid), summarised. None when the draws' scenarios have no long-term truth (one arm).
pub fn uncertainty(source: &str, scenarios: &[Option<Scenario>]) -> Option<Uncertainty> {
    use rayon::prelude::*;
    // Each draw's truth on its own core (the order of `truths` is the draws').
    let truths: Vec<LongTerm> =
        scenarios.par_iter().flatten().filter_map(|sc| LongTerm::compute(sc, None)).collect();
    let first = truths.first()?.clone();
    // Every draw tabulated at the same times (a draw cannot move the horizon; `run --draws` refuses
    // such a column): one that is not is left out with the invalid ones.
    let before = truths.len();
    let truths: Vec<LongTerm> =
        truths.into_iter().filter(|t| t.times == first.times && t.curve_times == first.curve_times).collect();
    let first = &first;
    let endpoints = (0..first.endpoints.len())
        .map(|e| {
            let of = |f: &dyn Fn(&EndpointLongTerm) -> f64| -> Vec<f64> {
                truths.iter().map(|t| f(&t.endpoints[e])).collect()
            };
            let gain = (0..first.times.len()).map(|k| Spread::of(of(&|x| x.gain[k]))).collect();
            let p_gain = (0..first.times.len())
                .map(|k| {
                    of(&|x| x.gain[k]).iter().filter(|&&g| g > EPSILON).count() as f64 / truths.len() as f64
                })
                .collect();
            let band = (0..first.curve_times.len())
                .map(|k| {
                    let s = Spread::of(of(&|x| x.curve[k]));
                    [s.lower, s.median, s.upper]
                })
                .collect();
            // Not reached by the horizon sorts after every time: +∞, shown as "not by H".
            let mut be = of(&|x| x.break_even.unwrap_or(f64::INFINITY));
            be.sort_by(|a, b| a.total_cmp(b));
            let finite = |x: f64| x.is_finite().then_some(x);
            let break_even = BreakEvenSpread {
                median: finite(quantile(&be, 0.5)),
                lower: finite(quantile(&be, 0.025)),
                upper: finite(quantile(&be, 0.975)),
                not_reached: be.iter().filter(|x| x.is_infinite()).count() as f64 / be.len() as f64,
            };
            let x = &first.endpoints[e];
            EndpointUncertainty {
                endpoint: x.endpoint.clone(),
                primary: x.primary,
                measure: x.measure,
                gain,
                p_gain,
                break_even,
                band,
            }
        })
        .collect();
    Some(Uncertainty {
        source: source.to_string(),
        draws: truths.len(),
        invalid_draws: scenarios.iter().filter(|s| s.is_none()).count() + before - truths.len(),
        horizon: first.horizon,
        times: first.times.clone(),
        curve_times: first.curve_times.clone(),
        endpoints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn pair(sc: &Scenario) -> (ArmMix<'_>, ArmMix<'_>) {
        mixture::pair(sc).expect("two arms")
    }

    fn scenario(path: &str) -> Scenario {
        Scenario::from_path(std::path::Path::new(path)).expect("shipped scenario")
    }

    /// ΔRMST on a 1e-4 grid by Simpson's rule on S_exp − S_ctl (no quadrature of `rmst`), and the
    /// last grid time where it is ≤ ε.
    fn brute_force(ctl: &ArmMix, exp: &ArmMix, ep: &Endpoint, horizon: f64) -> (f64, Option<f64>) {
        let h = 1e-4;
        let n = (horizon / h).round() as usize;
        let d = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
        let (mut gain, mut last_low) = (0.0, Some(0.0));
        for k in 0..n {
            let (a, b) = (k as f64 * h, (k + 1) as f64 * h);
            gain += (b - a) / 6.0 * (d(a) + 4.0 * d(0.5 * (a + b)) + d(b));
            if gain <= EPSILON {
                last_low = Some(b);
            }
        }
        (gain, if gain <= EPSILON { None } else { last_low })
    }

    #[test]
    fn the_calibrated_model_breaks_even_where_a_brute_force_scan_does() {
        let sc = scenario("scenarios/hsct_ssc.toml");
        let ((ctl, exp), ep) = (pair(&sc), sc.primary());
        let (ctl, exp) = (&ctl, &exp);
        let BreakEven::At(t) = break_even(ctl, exp, ep, 20.0) else { panic!("the transplant breaks even") };
        let (gain, last_low) = brute_force(ctl, exp, ep, 20.0);
        assert!((gain - rmst_gain(ctl, exp, ep, 20.0)).abs() < 1e-8, "{gain}");
        let last_low = last_low.expect("a gain at 20 years");
        eprintln!("hsct_ssc: break-even {t} (brute force {last_low}), ΔRMST(20) = {gain}");
        assert!((t - last_low).abs() <= 1e-4 + 1e-9, "break-even {t} vs brute force {last_low}");
        assert!(t > 2.0 && t < 20.0, "{t}");
    }

    #[test]
    fn proportional_hazards_break_even_at_once_and_identical_arms_never() {
        let sc = scenario("scenarios/ph.toml");
        let ((ctl, exp), ep) = (pair(&sc), sc.primary());
        let (ctl, exp) = (&ctl, &exp);
        for t in [0.5, 1.0, 5.0, 20.0] {
            assert!(rmst_gain(ctl, exp, ep, t) > 0.0, "HR < 1: a gain at {t}");
        }
        let BreakEven::At(t) = break_even(ctl, exp, ep, 20.0) else { panic!("HR < 1 breaks even") };
        assert!(t < 1e-4, "at once, to the grid step: {t}");
        let null = scenario("scenarios/null.toml");
        let ((ctl, exp), ep) = (pair(&null), null.primary());
        let (ctl, exp) = (&ctl, &exp);
        assert_eq!(rmst_gain(ctl, exp, ep, 20.0), 0.0);
        assert_eq!(break_even(ctl, exp, ep, 20.0), BreakEven::NotReached);
    }

    #[test]
    fn the_curve_and_the_table_agree_with_rmst_from_zero() {
        let sc = scenario("scenarios/hsct_ssc.toml");
        let lt = LongTerm::compute(&sc, Some(12.6)).expect("two arms and a horizon");
        assert_eq!(lt.horizon, 20.0);
        assert_eq!(lt.times, vec![5.0, 10.0, 15.0, 20.0]);
        assert_eq!(lt.last_change, Some(2.0));
        let (ctl, exp) = pair(&sc);
        let (ctl, exp) = (&ctl, &exp);
        for e in &lt.endpoints {
            let ep = sc.endpoints.iter().find(|x| x.name == e.endpoint).unwrap();
            for (&t, &g) in lt.curve_times.iter().zip(&e.curve) {
                assert!((g - rmst_gain(ctl, exp, ep, t)).abs() < 1e-9, "{} at {t}: {g}", e.endpoint);
            }
            for (&t, &g) in lt.times.iter().zip(&e.gain) {
                assert!((g - rmst_gain(ctl, exp, ep, t)).abs() < 1e-12, "{} at {t}", e.endpoint);
            }
            let be = break_even(ctl, exp, ep, 20.0);
            assert_eq!(e.break_even, if let BreakEven::At(t) = be { Some(t) } else { None });
            // Cause incidences and survival add to one in each arm at each time.
            for (s, arm) in [ctl, exp].into_iter().enumerate() {
                for (j, &t) in lt.times.iter().enumerate() {
                    let f: f64 = e
                        .cumulative_incidence
                        .iter()
                        .filter(|c| c.arm == arm.name())
                        .map(|c| c.values[j])
                        .sum();
                    assert!((f + arm.survival(ep, t) - 1.0).abs() < 1e-9, "{} arm {s} at {t}", e.endpoint);
                }
            }
        }
        let os = lt.endpoints.iter().find(|e| e.endpoint == "os").unwrap();
        let efs = lt.endpoints.iter().find(|e| e.endpoint == "efs").unwrap();
        assert_eq!((os.measure, efs.measure), ("life-years", "event-free years"));
        assert!(efs.primary && !os.primary);
        assert_eq!(efs.crossings.len(), 1, "{:?}", efs.crossings);
    }

    #[test]
    fn the_default_horizon_is_twenty_years_in_the_scenarios_unit() {
        let text = std::fs::read_to_string("scenarios/ph.toml").unwrap();
        let months = text.replace("time_unit = \"years\"", "time_unit = \"months\"");
        assert_ne!(months, text);
        let sc = Scenario::from_toml(&months, std::path::Path::new("ph_months.toml")).unwrap();
        let lt = LongTerm::compute(&sc, None).unwrap();
        assert_eq!(lt.horizon, 240.0);
        assert_eq!(lt.times, vec![60.0, 120.0, 180.0, 240.0]);
    }

    #[test]
    fn over_draws_the_median_is_the_middle_draw_and_a_late_draw_counts_as_not_reached() {
        let text = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap();
        let with_hr = |hr: &str| {
            let t = text.replace("hr = [0.6535, 0.3445]", &format!("hr = [0.6535, {hr}]"));
            Some(Scenario::from_toml(&t, std::path::Path::new("d.toml")).unwrap())
        };
        // A late hazard ratio of 0.95 barely makes up for the early deaths by 20 years.
        let draws = vec![with_hr("0.2"), with_hr("0.3445"), None, with_hr("0.95")];
        let u = uncertainty("draws.csv", &draws).expect("two arms");
        assert_eq!((u.draws, u.invalid_draws), (3, 1));
        let middle = LongTerm::compute(draws[1].as_ref().unwrap(), None).unwrap();
        let late = LongTerm::compute(draws[3].as_ref().unwrap(), None).unwrap();
        for (e, m) in u.endpoints.iter().zip(&middle.endpoints) {
            for (k, g) in e.gain.iter().enumerate() {
                assert_eq!(g.median, m.gain[k], "{} at {}", e.endpoint, u.times[k]);
                assert!(g.lower <= g.median && g.median <= g.upper);
            }
            assert_eq!(e.break_even.median, m.break_even);
            for (k, b) in e.band.iter().enumerate() {
                assert_eq!(b[1], m.curve[k]);
            }
        }
        let efs = &u.endpoints[0];
        assert_eq!(efs.endpoint, "efs");
        // The late draw (HR 0.95) never breaks even by 20 years: the 97.5% point is "not by 20";
        // the 2.5% point lies between the HR 0.2 draw's break-even (4.40) and the middle's (5.10).
        assert_eq!(late.endpoints[0].break_even, None);
        assert_eq!(efs.break_even.upper, None);
        assert!((efs.break_even.not_reached - 1.0 / 3.0).abs() < 1e-15);
        let lower = efs.break_even.lower.unwrap();
        assert!(lower > 4.39 && lower < 4.45, "{lower}");
        // By 5 years only HR 0.2 has gained (+0.056; the middle draw is at −0.008), by 10 years
        // all but HR 0.95.
        let at = |y: f64| u.times.iter().position(|&t| t == y).unwrap();
        assert_eq!(efs.p_gain[at(5.0)], 1.0 / 3.0);
        assert_eq!(efs.p_gain[at(10.0)], 2.0 / 3.0);
    }
}
