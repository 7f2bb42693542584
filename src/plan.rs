//! Planning: the smallest value of one key (sample size, follow-up, accrual duration) whose
//! power reaches a target.
//!
//! Power is evaluated by simulation with the same seed at every value (common random numbers),
//! so the power curve is smooth and bisection is meaningful. Search: bracket from the scenario's
//! own value (×1.5 up or ÷1.5 down), then bisect to one unit (integer keys) or 0.5% (others).
//! The Monte Carlo uncertainty of the answer is the interval between the smallest value whose
//! power + 1.96 SE reaches the target and the smallest whose power − 1.96 SE does.
//!
//! Beside it, Schoenfeld's (1981) proportional-hazards answer: the smallest value with
//! Φ(√(E[D]·p(1−p))·|log AHR| − z) ≥ target, E[D] the expected events and AHR the average hazard
//! ratio of the model at that value (both exact, from `truth`), p the experimental allocation
//! fraction. The gap between the two is what the crossing hazards cost. When power never reaches
//! the target in the searched range (with early harm and short follow-up, power can even fall as
//! n grows) the answer says so instead of a number.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::engine::{Layout, Run, simulate_until};
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{Scenario, ScenarioError, Sides};
use crate::stats::normal::{self, Z_975};
use crate::summary::{Proportion, Summary};
use crate::truth::Truth;
use crate::truth::never_better::PointBoundary;

/// One simulated point of the power curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Evaluation {
    pub value: f64,
    pub power: f64,
    pub power_se: f64,
}

/// The answer for one test.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub test: String,
    /// Whether power falls as the key grows (a hazard ratio, a risk): then the answer is the
    /// largest value reaching the target, not the smallest.
    pub falling: bool,
    /// The smallest value reaching the target (the largest when `falling`); None when out of
    /// reach in the range.
    pub value: Option<f64>,
    /// Monte Carlo interval of the answer.
    pub interval: Option<(f64, f64)>,
    pub power: f64,
    pub power_se: f64,
    /// Schoenfeld's proportional-hazards answer at the model's average hazard ratio.
    pub schoenfeld: Option<f64>,
    pub note: String,
    /// Every value simulated for this test's search, in increasing order.
    pub curve: Vec<Evaluation>,
    /// With `[analysis.never_better]`: how often the test declares benefit at the answer's
    /// never-better boundary.
    pub never_better: Option<NeverBetterAtAnswer>,
}

/// A test's rate of declaring benefit at the never-better boundary of the planned value (all
/// `None` with a `note` when the path has no boundary there).
#[derive(Debug, Clone, Serialize)]
pub struct NeverBetterAtAnswer {
    /// The value the keys of `analysis.never_better.vary` take at the boundary.
    pub boundary: Option<f64>,
    pub until: Option<f64>,
    pub rate: Option<f64>,
    pub se: Option<f64>,
    /// With `--never-better-limit X`: whether the rate is at most X (a test above it is not
    /// acceptable, whatever its power).
    pub acceptable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub key: String,
    pub target: f64,
    /// Test names; empty: the scenario's first test.
    pub tests: Vec<String>,
    pub replicates: u64,
    pub seed: u64,
    /// Search range (default: from the smallest sensible value to 20× the scenario's).
    pub range: Option<(f64, f64)>,
    /// Fixed overrides applied at every evaluation (a point of a planning grid).
    pub fixed: Vec<Override>,
    /// `--never-better-limit X`: a test whose rate of declaring benefit at the answer's
    /// never-better boundary exceeds X is marked not acceptable.
    pub never_better_limit: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A bad request: exit code 2, nothing simulated.
    #[error(transparent)]
    Input(#[from] PlanInput),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// The caller's cancel flag was set (a binding's Ctrl-C): no answer.
    #[error("cancelled")]
    Cancelled,
}

/// What is wrong with a planning request.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanInput {
    #[error("--target: expected a power in (0, 1), found {0}")]
    Target(f64),
    #[error("`{0}`: plan needs a key with a value in the scenario")]
    KeyWithoutValue(String),
    #[error("planning needs a two-arm scenario with at least one test")]
    NoComparison,
    /// `--test monitoring.NAME` for a test the scenario does not monitor (`monitored`: those it
    /// does).
    #[error("--test {test}: not a monitored test (monitoring.tests: {})", if monitored.is_empty() { "none: the scenario has no [monitoring]".to_string() } else { monitored.join(", ") })]
    NotMonitored { test: String, monitored: Vec<String> },
    #[error("--test {test}: not in analysis.tests ({})", tests.join(", "))]
    UnknownTest { test: String, tests: Vec<String> },
    #[error("--range: expected LOW < HIGH, found {0}:{1}")]
    Range(f64, f64),
    #[error("--never-better-limit: expected a rate in [0, 1], found {0}")]
    NeverBetterLimit(f64),
    #[error("--never-better-limit needs an [analysis.never_better] table in the scenario")]
    NoNeverBetter,
}

/// A value's never-better boundary (its value of the varied keys, its `until`) and every test's
/// (rate, SE) of declaring benefit there.
struct BoundaryRates {
    value: f64,
    until: f64,
    rates: Vec<(f64, f64)>,
}

/// Power curve evaluations, cached by value (all tests at once).
struct Curve<'a> {
    template: &'a Template,
    opts: &'a PlanOptions,
    replicates: u64,
    seed: u64,
    cache: BTreeMap<u64, Vec<(f64, f64)>>,
    /// The never-better boundary at each value simulated there, by value.
    boundaries: BTreeMap<u64, Result<BoundaryRates, String>>,
    tests: Vec<String>,
    /// The lower end of the searched (and validated) range.
    lo_limit: f64,
    /// Set by a caller that no longer wants the answer.
    cancel: &'a AtomicBool,
}

impl Curve<'_> {
    fn overrides(&self, x: f64) -> Vec<Override> {
        let mut o = self.opts.fixed.clone();
        o.push(Override { key: self.opts.key.clone(), value: x });
        o
    }

    /// (power, SE) of every test at x.
    fn eval(&mut self, x: f64) -> Result<&Vec<(f64, f64)>, PlanError> {
        let k = x.to_bits();
        if !self.cache.contains_key(&k) {
            let (sc, _) = self.template.apply(&self.overrides(x))?;
            let v = self.rejections(&sc, &sc, self.seed)?;
            self.cache.insert(k, v);
        }
        Ok(&self.cache[&k])
    }

    /// Every test's (rate, SE) of declaring benefit at x's never-better boundary, with the
    /// boundary's value and `until` (`None` without `[analysis.never_better]`).
    fn boundary(&mut self, x: f64) -> Result<Option<&Result<BoundaryRates, String>>, PlanError> {
        let k = x.to_bits();
        if !self.boundaries.contains_key(&k) {
            let overrides = self.overrides(x);
            let (sc, _) = self.template.apply(&overrides)?;
            let Some(point) = crate::truth::never_better::at_point(self.template, &overrides, &sc)? else {
                return Ok(None);
            };
            let rates = match point {
                PointBoundary::Solved(b) => {
                    let seed = crate::rng::companion_seed(self.seed, "never_better");
                    let rates = self.rejections(&sc, &b.scenario, seed)?;
                    Ok(BoundaryRates { value: b.value, until: b.until, rates })
                }
                // Already never better: the rate is the power.
                PointBoundary::Itself(b) => {
                    Ok(BoundaryRates { value: b.value, until: b.until, rates: self.eval(x)?.clone() })
                }
                PointBoundary::NotOnPath(_) => Err("no never-better model on this path here".to_string()),
            };
            self.boundaries.insert(k, rates);
        }
        Ok(self.boundaries.get(&k))
    }

    /// Every test's (rate, SE) of rejecting for the experimental arm in trials of `simulated`,
    /// analysed as `sc` is (its layout).
    fn rejections(
        &self,
        sc: &Scenario,
        simulated: &Scenario,
        seed: u64,
    ) -> Result<Vec<(f64, f64)>, PlanError> {
        let truth = Truth::compute(sc);
        let layout = Layout::new(sc, &truth);
        let run =
            Run { scenario: simulated, layout: &layout, replicates: self.replicates, seed, progress: None };
        let s: Summary = simulate_until(&run, None, self.cancel).ok_or(PlanError::Cancelled)?;
        Ok(self
            .tests
            .iter()
            .map(|t| {
                // `monitoring.<test>`: the monitored design's power (rejection at any look).
                let p = match (t.strip_prefix("monitoring."), &layout.monitor, &s.monitoring) {
                    (Some(name), Some(m), Some(tally)) => {
                        let j = m.tests.iter().position(|x| x.name == name).expect("test checked");
                        Proportion::new(tally.tests[j].rejected, self.replicates)
                    }
                    _ => {
                        let i = layout.tests.iter().position(|(n, _)| n == t).expect("test checked");
                        Proportion::new(s.tests[i].benefit, self.replicates)
                    }
                };
                (p.estimate, p.se)
            })
            .collect())
    }
}

/// Smallest x in (lo, hi] with pred(x), given !pred(lo) and pred(hi), to within `tol`
/// (integers: 1).
fn bisect(
    mut lo: f64,
    mut hi: f64,
    integer: bool,
    tol: f64,
    mut pred: impl FnMut(f64) -> Result<bool, PlanError>,
) -> Result<f64, PlanError> {
    loop {
        let gap = hi - lo;
        if (integer && gap <= 1.0) || (!integer && gap <= tol) {
            return Ok(hi);
        }
        let mid = if integer { (lo + (gap / 2.0).floor()).max(lo + 1.0) } else { 0.5 * (lo + hi) };
        if pred(mid)? {
            hi = mid;
        } else {
            lo = mid;
        }
    }
}

/// Schoenfeld power at a scenario: Φ(√(E[D] p(1−p)) |log AHR| − z_crit) when AHR < 1, else 0.
pub(crate) fn schoenfeld_power(truth: &Truth, p: f64, alpha: f64, sides: Sides) -> f64 {
    let ahr = truth.ahr_overall;
    if ahr.is_nan() || ahr >= 1.0 || !truth.expected_events_total.is_finite() {
        return 0.0;
    }
    let z = crate::stats::decision::critical_value(alpha, sides);
    normal::cdf((truth.expected_events_total * p * (1.0 - p)).sqrt() * ahr.ln().abs() - z)
}

/// What the search needs, checked before any simulation: the target, the key, the tests and the
/// range (both ends must make valid scenarios).
struct Search {
    base: crate::scenario::Scenario,
    x0: f64,
    tests: Vec<String>,
    integer: bool,
    lo_limit: f64,
    hi_limit: f64,
}

/// Checks a plan request without simulating (what `plan` checks first): bad input is found
/// before anything is written.
pub fn check(template: &Template, opts: &PlanOptions) -> Result<(), PlanError> {
    search(template, opts).map(|_| ())
}

fn search(template: &Template, opts: &PlanOptions) -> Result<Search, PlanError> {
    if !(opts.target > 0.0 && opts.target < 1.0) {
        return Err(PlanInput::Target(opts.target).into());
    }
    template.check_key(&opts.key)?;
    let (base, _) = template.apply(&opts.fixed)?;
    let x0 = template.get(&opts.key).ok_or_else(|| PlanInput::KeyWithoutValue(opts.key.clone()))?;
    let integer = x0.fract() == 0.0 && matches!(opts.key.as_str(), "design.n" | "design.cut.events");
    let tests: Vec<String> = if opts.tests.is_empty() {
        base.analysis.tests.first().map(|t| vec![t.name.clone()]).unwrap_or_default()
    } else {
        opts.tests.clone()
    };
    if tests.is_empty() || base.comparison.is_none() {
        return Err(PlanInput::NoComparison.into());
    }
    for t in &tests {
        if let Some(name) = t.strip_prefix("monitoring.") {
            let monitored: Vec<String> = base.monitoring.as_ref().map_or(Vec::new(), |m| {
                m.tests.iter().map(|&i| base.analysis.tests[i].name.clone()).collect()
            });
            if !monitored.iter().any(|m| m == name) {
                return Err(PlanInput::NotMonitored { test: t.clone(), monitored }.into());
            }
            continue;
        }
        if !base.analysis.tests.iter().any(|x| &x.name == t) {
            let tests = base.analysis.tests.iter().map(|x| x.name.clone()).collect();
            return Err(PlanInput::UnknownTest { test: t.clone(), tests }.into());
        }
    }
    let (lo_limit, hi_limit) = opts.range.unwrap_or((if integer { 4.0 } else { x0 / 20.0 }, 20.0 * x0));
    if lo_limit.is_nan() || hi_limit.is_nan() || lo_limit >= hi_limit {
        return Err(PlanInput::Range(lo_limit, hi_limit).into());
    }
    match opts.never_better_limit {
        Some(x) if !(0.0..=1.0).contains(&x) => return Err(PlanInput::NeverBetterLimit(x).into()),
        Some(_) if base.analysis.never_better.is_none() => return Err(PlanInput::NoNeverBetter.into()),
        _ => {}
    }
    // Every value of the search must make a valid scenario (and a solvable never-better path):
    // check the ends before simulating.
    for x in [lo_limit, hi_limit] {
        let overrides = [opts.fixed.clone(), vec![Override { key: opts.key.clone(), value: x }]].concat();
        let (sc, _) = template.apply(&overrides)?;
        crate::truth::never_better::precheck(template, &overrides, &sc)?;
    }
    Ok(Search { base, x0, tests, integer, lo_limit, hi_limit })
}

/// Plans every requested test.
pub fn plan(template: &Template, opts: &PlanOptions) -> Result<Vec<Answer>, PlanError> {
    plan_until(template, opts, &AtomicBool::new(false))
}

/// [`plan`], stopped with [`PlanError::Cancelled`] at the next chunk of replicates once `cancel`
/// is set (a binding's Ctrl-C). An answer that finishes is [`plan`]'s, bit for bit.
pub fn plan_until(
    template: &Template,
    opts: &PlanOptions,
    cancel: &AtomicBool,
) -> Result<Vec<Answer>, PlanError> {
    let Search { base, x0, tests, integer, lo_limit, hi_limit } = search(template, opts)?;
    let mut curve = Curve {
        template,
        opts,
        replicates: opts.replicates,
        seed: opts.seed,
        cache: BTreeMap::new(),
        boundaries: BTreeMap::new(),
        tests: tests.clone(),
        lo_limit,
        cancel,
    };
    let mut answers = Vec::new();
    for (ti, test) in tests.iter().enumerate() {
        let limits = Limits { lo: lo_limit, hi: hi_limit, integer };
        let mut found = find(&mut curve, ti, x0, limits, opts, false)?;
        // Power that falls as the key grows (a hazard ratio, a transplant risk): the rising
        // search finds nothing, or every value down to the lower end. Then the answer is the
        // largest value reaching the target, found on the mirrored range.
        if found.value.is_none() || found.at_lower_end {
            let start = limits.round(x0.clamp(lo_limit, hi_limit));
            let p_start = curve.eval(start)?[ti].0;
            let p_low = curve.eval(lo_limit)?[ti].0;
            if p_low > p_start {
                found = find(&mut curve, ti, x0, limits, opts, true)?;
            }
        }
        let Found { value, interval, mut note, falling, .. } = found;
        if let Some(caveat) = resolution_caveat(opts.target, opts.replicates) {
            note = if note.is_empty() { caveat } else { format!("{caveat}; {note}") };
        }
        let (power, power_se) = match value {
            Some(v) => curve.eval(v)?[ti],
            None => (f64::NAN, f64::NAN),
        };
        let never_better = match value {
            Some(v) => curve.boundary(v)?.map(|b| match b {
                Ok(b) => {
                    let (rate, se) = b.rates[ti];
                    NeverBetterAtAnswer {
                        boundary: Some(b.value),
                        until: Some(b.until),
                        rate: Some(rate),
                        se: Some(se),
                        acceptable: opts.never_better_limit.map(|limit| rate <= limit),
                        note: None,
                    }
                }
                Err(reason) => NeverBetterAtAnswer {
                    boundary: None,
                    until: None,
                    rate: None,
                    se: None,
                    acceptable: None,
                    note: Some(reason.clone()),
                },
            }),
            None => None,
        };
        let schoenfeld = schoenfeld_answer(template, opts, &base, integer, lo_limit, hi_limit, falling)?;
        let mut points: Vec<Evaluation> = curve
            .cache
            .iter()
            .map(|(k, v)| Evaluation { value: f64::from_bits(*k), power: v[ti].0, power_se: v[ti].1 })
            .collect();
        points.sort_by(|a, b| a.value.total_cmp(&b.value));
        answers.push(Answer {
            test: test.clone(),
            falling,
            value,
            interval,
            power,
            power_se,
            schoenfeld,
            note,
            curve: points,
            never_better,
        });
    }
    Ok(answers)
}

/// A caveat when the target is within Monte Carlo resolution of 1: with R replicates, R of R
/// trials rejecting shows only that power is above 1 − 3/R (the rule of three: the 95% upper
/// bound on a rate of which no event was seen), and the SE √(p(1−p)/R) printed there is 0.
/// `None` when the target is below 1 − 3/R.
pub fn resolution_caveat(target: f64, replicates: u64) -> Option<String> {
    let floor = 1.0 - 3.0 / replicates as f64;
    (target > floor).then(|| {
        format!(
            "the target {target} is within Monte Carlo resolution of 1 at {replicates} replicates: even {replicates} of {replicates} trials rejecting shows only power above {floor:.4} (rule of three), and its SE prints as 0; use at least {:.0} replicates (3/(1 − target))",
            (3.0 / (1.0 - target)).round()
        )
    })
}

/// The searched range of the key.
#[derive(Clone, Copy)]
struct Limits {
    lo: f64,
    hi: f64,
    integer: bool,
}

impl Limits {
    fn round(self, x: f64) -> f64 {
        if self.integer { x.round() } else { x }
    }

    /// The key's value at search coordinate `s`: `s` itself, or its mirror image in the range
    /// (lo + hi − s) when power falls as the key grows, so that the search always sees rising
    /// power and looks for the smallest `s`, the largest value.
    fn value(self, s: f64, falling: bool) -> f64 {
        if falling { self.round(self.lo + self.hi - s) } else { s }
    }
}

/// One test's search result, in the key's own values.
struct Found {
    value: Option<f64>,
    interval: Option<(f64, f64)>,
    note: String,
    falling: bool,
    /// The target was reached already at the search's first end (no bracket below it).
    at_lower_end: bool,
}

/// Brackets from the scenario's own value (×1.5 up or ÷1.5 down), bisects, and finds the Monte
/// Carlo interval, on the search coordinate of [`Limits::value`].
fn find(
    curve: &mut Curve,
    ti: usize,
    x0: f64,
    limits: Limits,
    opts: &PlanOptions,
    falling: bool,
) -> Result<Found, PlanError> {
    let Limits { lo: lo_limit, hi: hi_limit, integer } = limits;
    let tol = |x: f64| (0.005 * x.abs()).max(1e-9);
    let reaches = |c: &mut Curve, s: f64, shift: f64| -> Result<bool, PlanError> {
        let (p, se) = c.eval(limits.value(s, falling))?[ti];
        Ok(p + shift * se >= opts.target)
    };
    let start = limits.round(limits.value(x0, falling).clamp(lo_limit, hi_limit));
    let (lo, hi) = bracket(curve, start, limits, |c, x| reaches(c, x, 0.0))?;
    let direction = if falling { "falls" } else { "rises" };
    let (first_end, last_end) = if falling { ("upper", "lower") } else { ("lower", "upper") };
    let at = |s: f64| limits.value(s, falling);
    let found = match (lo, hi) {
        (_, None) => Found { falling, ..out_of_reach(curve, ti, limits, opts) },
        (None, Some(h)) => Found {
            value: Some(at(h)),
            interval: None,
            note: format!("reached already at the {first_end} end of the range ({})", at(h)),
            falling,
            at_lower_end: true,
        },
        (Some(l), Some(h)) => {
            let v = bisect(l, h, integer, tol(at(h)), |x| reaches(curve, x, 0.0))?;
            // The MC interval: where the target is within ±1.96 SE of the power.
            let optimistic = lower_end(curve, l, v, integer, tol(at(v)), |c, x| reaches(c, x, Z_975))?;
            let pessimistic =
                upper_end(curve, v, hi_limit, integer, tol(at(v)), |c, x| reaches(c, x, -Z_975))?;
            let mut note = match pessimistic {
                Some(_) => String::new(),
                None => format!("the {last_end} end of the interval is beyond the range"),
            };
            if falling {
                note = [
                    format!("power {direction} as {} grows: the largest value reaching the target", opts.key),
                    note,
                ]
                .into_iter()
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
            }
            let interval = if falling {
                (pessimistic.map_or(f64::NEG_INFINITY, at), at(optimistic))
            } else {
                (optimistic, pessimistic.unwrap_or(f64::INFINITY))
            };
            Found { value: Some(at(v)), interval: Some(interval), note, falling, at_lower_end: false }
        }
    };
    Ok(found)
}

/// From `start`, the last value below the target and the first reaching it, walking ×1.5 up or
/// ÷1.5 down within the limits (`None` where the walk found none).
fn bracket(
    curve: &mut Curve,
    start: f64,
    limits: Limits,
    mut reaches: impl FnMut(&mut Curve, f64) -> Result<bool, PlanError>,
) -> Result<(Option<f64>, Option<f64>), PlanError> {
    let (mut lo, mut hi) = (None, None);
    let mut x = start;
    if reaches(curve, start)? {
        hi = Some(start);
        while x > limits.lo {
            x = limits.round((x / 1.5).max(limits.lo));
            if reaches(curve, x)? {
                hi = Some(x);
            } else {
                lo = Some(x);
                break;
            }
        }
    } else {
        lo = Some(start);
        while x < limits.hi {
            x = limits.round((x * 1.5).min(limits.hi));
            if reaches(curve, x)? {
                hi = Some(x);
                break;
            }
            lo = Some(x);
        }
    }
    Ok((lo, hi))
}

/// The answer when no value in the limits reaches the target: the highest power seen, and where
/// (as a search on a rising curve; the caller sets the direction).
fn out_of_reach(curve: &Curve, ti: usize, limits: Limits, opts: &PlanOptions) -> Found {
    let best = curve
        .cache
        .iter()
        .map(|(k, v)| (f64::from_bits(*k), v[ti].0))
        .fold((f64::NAN, -1.0), |b, (x, p)| if p > b.1 { (x, p) } else { b });
    let note = format!(
        "out of reach: power stays below {} for {} in [{}, {}] (highest {:.1}% at {})",
        opts.target,
        opts.key,
        limits.lo,
        limits.hi,
        100.0 * best.1,
        best.0
    );
    Found { value: None, interval: None, note, falling: false, at_lower_end: false }
}

/// Smallest x ≤ v with pred, a weaker condition than the one v satisfies: walks down from the
/// bracket's lower end `lo` while pred holds, then bisects.
fn lower_end(
    c: &mut Curve,
    lo: f64,
    v: f64,
    integer: bool,
    tol: f64,
    mut pred: impl FnMut(&mut Curve, f64) -> Result<bool, PlanError>,
) -> Result<f64, PlanError> {
    let (mut below, mut above) = (lo, v);
    let lo_limit = c.lo_limit;
    while pred(c, below)? {
        above = below;
        if below <= lo_limit {
            return Ok(below);
        }
        below = if integer { (below / 1.15).floor().min(below - 1.0) } else { below / 1.15 }.max(lo_limit);
    }
    bisect(below, above, integer, tol, |x| pred(c, x))
}

/// Smallest x ≥ v with pred (a stronger condition than at v), or None within the range.
fn upper_end(
    c: &mut Curve,
    v: f64,
    hi_limit: f64,
    integer: bool,
    tol: f64,
    mut pred: impl FnMut(&mut Curve, f64) -> Result<bool, PlanError>,
) -> Result<Option<f64>, PlanError> {
    if pred(c, v)? {
        return Ok(Some(v));
    }
    let mut lo = v;
    let mut x = v;
    loop {
        let next = if integer { (x * 1.15).ceil().max(x + 1.0) } else { x * 1.15 }.min(hi_limit);
        if pred(c, next)? {
            return bisect(lo, next, integer, tol, |y| pred(c, y)).map(Some);
        }
        if next >= hi_limit {
            return Ok(None);
        }
        lo = next;
        x = next;
    }
}

/// Schoenfeld's answer: bisection on the exact expected events and AHR (no simulation).
fn schoenfeld_answer(
    template: &Template,
    opts: &PlanOptions,
    base: &crate::scenario::Scenario,
    integer: bool,
    lo_limit: f64,
    hi_limit: f64,
    falling: bool,
) -> Result<Option<f64>, PlanError> {
    let comp = base.comparison.expect("checked: two arms");
    let limits = Limits { lo: lo_limit, hi: hi_limit, integer };
    let total: usize = base.arms.iter().map(|a| a.allocation).sum();
    let p = base.arms[comp.experimental].allocation as f64 / total as f64;
    // On the search coordinate, as the simulated search: rising power.
    let power = |s: f64| -> Result<f64, PlanError> {
        let mut o = opts.fixed.clone();
        o.push(Override { key: opts.key.clone(), value: limits.value(s, falling) });
        let (sc, _) = template.apply(&o)?;
        Ok(schoenfeld_power(&Truth::compute(&sc), p, sc.analysis.alpha, sc.analysis.sides))
    };
    if power(hi_limit)? < opts.target {
        return Ok(None);
    }
    if power(lo_limit)? >= opts.target {
        return Ok(Some(limits.value(lo_limit, falling)));
    }
    let (mut lo, mut hi) = (lo_limit, hi_limit);
    while hi - lo > if integer { 1.0 } else { 1e-3 * hi } {
        let mid = if integer { (0.5 * (lo + hi)).floor() } else { 0.5 * (lo + hi) };
        if mid <= lo {
            break;
        }
        if power(mid)? >= opts.target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Ok(Some(limits.value(hi, falling)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn input_kinds_render_the_messages_users_read() {
        let unknown =
            PlanInput::UnknownTest { test: "lr".into(), tests: vec!["logrank".into(), "rmst".into()] };
        assert_eq!(unknown.to_string(), "--test lr: not in analysis.tests (logrank, rmst)");
        let none = PlanInput::NotMonitored { test: "monitoring.x".into(), monitored: vec![] };
        assert_eq!(
            none.to_string(),
            "--test monitoring.x: not a monitored test (monitoring.tests: none: the scenario has no [monitoring])"
        );
        assert_eq!(PlanInput::Range(3.0, 2.0).to_string(), "--range: expected LOW < HIGH, found 3:2");
    }

    use super::*;

    #[test]
    fn bisection_finds_the_smallest_integer() {
        let v = bisect(10.0, 100.0, true, 0.0, |x| Ok(x >= 37.0)).unwrap();
        assert_eq!(v, 37.0);
        let v = bisect(0.0, 8.0, false, 1e-6, |x| Ok(x >= 3.3)).unwrap();
        assert!((v - 3.3).abs() < 1e-5);
    }
}
