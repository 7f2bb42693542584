//! The never-better boundary: the scenario moved along one path (`[analysis.never_better]`:
//! one or several keys set to one common value v, from the scenario's value towards `to`) until
//! the experimental arm's true survival on the primary endpoint is nowhere above control's up to
//! `until`. A test that declares benefit there declares it for an arm that is never better.
//!
//! g(v) = max over t in (0, until] of S_exp(t; v) − S_ctl(t; v), on the true curves: evaluated
//! exactly at every hazard break and at `until`, and maximised between them (between breaks the
//! difference of two piecewise-exponential curves has at most one turning point; a scan and a
//! golden-section search find it, and any smooth maximum of other hazard forms). The boundary
//! is the value nearest the scenario's where g changes from > 0 to ≤ 0, found by bisection to
//! 1e-10 relative after checking on a grid of [`GRID`] + 1 points that g does not rise along the
//! path.

use crate::accrual::accrual_end;
use crate::scenario::overrides::{Override, Template};
use crate::scenario::{NeverBetter, Scenario, ScenarioError};
use crate::time::Time;

use super::design::{average_hazard_ratio, expected_cut, reachable_end};
use super::mixture;

/// Intervals of the grid on which g is checked to be monotone along the path.
pub const GRID: usize = 200;

/// Relative precision of the solved value.
pub const PRECISION: f64 = 1e-10;

/// The solved boundary of a scenario (or of one sweep point or planned n).
#[derive(Debug, Clone)]
pub struct Boundary {
    pub vary: Vec<String>,
    /// The keys' common value in the scenario.
    pub from: f64,
    pub to: f64,
    /// The boundary value: g ≤ 0 here, g > 0 within [`PRECISION`] towards `from`.
    pub value: f64,
    pub until: Time,
    /// The scenario with every varied key at `value`.
    pub scenario: Scenario,
    /// The boundary model's true average hazard ratio after the last `analysis.periods` break
    /// (what `cox_periods` claims is below 1); `None` without periods.
    pub late_ahr: Option<f64>,
}

impl Boundary {
    /// Whether the claim of a test holds at the boundary: never for benefit (the arm is never
    /// better), for `cox_periods`' lower late hazard when the boundary's late average hazard
    /// ratio is below 1.
    pub fn claim_holds(&self, claim: crate::test_statistic::Claim) -> bool {
        match claim {
            crate::test_statistic::Claim::Benefit => false,
            crate::test_statistic::Claim::LateHazardLower => self.late_ahr.is_some_and(|a| a < 1.0),
        }
    }

    fn new(nb: &NeverBetter, from: f64, value: f64, until: Time, mut scenario: Scenario) -> Boundary {
        no_outcome_difference(&mut scenario);
        let late_ahr = scenario.analysis.periods.last().map(|&last| {
            let cut = expected_cut(&scenario).unwrap_or(until);
            average_hazard_ratio(&scenario, cut, last, f64::INFINITY)
        });
        Boundary { vary: nb.vary.clone(), from, to: nb.to, value, until, scenario, late_ahr }
    }
}

/// At the boundary the continuous outcomes do not differ between arms either: the experimental
/// arm takes the control arm's distributions (in every stratum), so a composite that ranks them
/// is judged where the transplant is better on nothing.
fn no_outcome_difference(sc: &mut Scenario) {
    let Some(c) = sc.comparison else { return };
    if sc.outcomes.is_empty() {
        return;
    }
    let control = sc.arms[c.control].outcomes.clone();
    sc.arms[c.experimental].outcomes = control;
    for st in &mut sc.strata {
        st.arms[c.experimental].outcomes = st.arms[c.control].outcomes.clone();
    }
}

/// Where in `[analysis.never_better]` a problem lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Vary(usize),
    To,
    Until,
    Table,
}

/// Why a scenario's never-better boundary cannot be solved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error("a never-better boundary compares two arms; this scenario has one")]
    SingleArm,
    #[error("`{key}` is not a number in this scenario: {why}")]
    NotANumber { key: String, why: String },
    #[error("the keys move together to one common value, but `{key}` is {other} and `{first}` is {value}")]
    NotCommon { first: String, value: f64, key: String, other: f64 },
    #[error("`to` equals the keys' value {value}: the path is empty")]
    EmptyPath { value: f64 },
    #[error("at `to` = {to} the scenario is not valid: {why}")]
    ToInvalid { to: f64, why: String },
    #[error("the cut counts events, so `until` is required (the follow-up the boundary covers)")]
    UntilRequired,
    #[error("expected a time in (0, {longest}] (the longest follow-up the cut gives), found {until}")]
    UntilBeyond { until: f64, longest: f64 },
    #[error("the keys do not move the primary endpoint's true curves between {from} and {to}")]
    Immobile { from: f64, to: f64 },
    #[error("at {value} the path leaves the scenario's valid values: {why}")]
    Invalid { value: f64, why: String },
    #[error(
        "the experimental arm is already never better up to {until}: its true survival is at most \
         control's at every time (largest advantage {g:.3e}); there is no boundary to move to"
    )]
    AlreadyNeverBetter { from: f64, until: f64, g: f64 },
    #[error(
        "the path from {from} to {to} makes the experimental arm better, not worse (its largest \
         advantage grows from {g_from:.3e} to {g_to:.3e}): put `to` on the other side of {from}"
    )]
    WrongWay { from: f64, to: f64, g_from: f64, g_to: f64 },
    #[error(
        "no value between {from} and {to} makes the experimental arm never better up to {until} \
         (at {to} its survival is still {g:.3e} above control's): move `to` further"
    )]
    NoBoundary { from: f64, to: f64, until: f64, g: f64 },
    #[error(
        "the path is not monotone: the experimental arm's largest advantage both rises and falls along \
         it (it rises between {a} and {b}, from {ga:.3e} to {gb:.3e}), so the boundary would depend \
         on where the search starts; choose keys that make the arm steadily worse"
    )]
    NotMonotone { a: f64, b: f64, ga: f64, gb: f64 },
}

impl Problem {
    /// The key of `[analysis.never_better]` the problem is about.
    pub fn place(&self) -> Place {
        match self {
            Problem::NotANumber { .. } | Problem::NotCommon { .. } => Place::Vary(0),
            Problem::EmptyPath { .. }
            | Problem::ToInvalid { .. }
            | Problem::NoBoundary { .. }
            | Problem::WrongWay { .. } => Place::To,
            Problem::UntilRequired | Problem::UntilBeyond { .. } => Place::Until,
            Problem::SingleArm
            | Problem::Immobile { .. }
            | Problem::Invalid { .. }
            | Problem::AlreadyNeverBetter { .. }
            | Problem::NotMonotone { .. } => Place::Table,
        }
    }
}

/// The largest advantage of the experimental arm's true survival over control's on the primary
/// endpoint, g = max over t in (0, until] of S_exp(t) − S_ctl(t) (NaN without two arms).
pub fn largest_advantage(sc: &Scenario, until: Time) -> f64 {
    let Some((ctl, exp)) = mixture::pair(sc) else { return f64::NAN };
    let ep = sc.primary();
    let d = |t: f64| exp.survival(ep, t) - ctl.survival(ep, t);
    let mut best = f64::NEG_INFINITY;
    let mut from = 0.0;
    for to in mixture::knots(&[&ctl, &exp], ep, &[], until) {
        best = best.max(d(to)).max(interior_max(&d, from, to));
        from = to;
    }
    best
}

/// The largest value of `d` inside (a, b): the best of a scan of 16 points, refined by a golden
/// section search in the cells beside it.
fn interior_max(d: &impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    const SCAN: usize = 16;
    let h = (b - a) / SCAN as f64;
    let (mut best_i, mut best) = (1, f64::NEG_INFINITY);
    for i in 1..SCAN {
        let v = d(a + i as f64 * h);
        if v > best {
            (best_i, best) = (i, v);
        }
    }
    // Golden section on the two cells around the best scanned point (the first cell reaches
    // towards a, where d tends to its limit at a).
    let (mut lo, mut hi) = (a + (best_i as f64 - 1.0) * h, a + (best_i as f64 + 1.0) * h);
    const INV_PHI: f64 = 0.618_033_988_749_894_8;
    let (mut x1, mut x2) = (hi - INV_PHI * (hi - lo), lo + INV_PHI * (hi - lo));
    let (mut f1, mut f2) = (d(x1), d(x2));
    for _ in 0..60 {
        if f1 < f2 {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + INV_PHI * (hi - lo);
            f2 = d(x2);
        } else {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - INV_PHI * (hi - lo);
            f1 = d(x1);
        }
    }
    best.max(f1).max(f2)
}

/// The follow-up the boundary covers by default: the cut's expected time (calendar: the cut;
/// minimum follow-up: accrual at this n plus it); an event-driven cut has none.
fn default_until(sc: &Scenario) -> Result<Time, Problem> {
    if sc.design.cut.events.is_some() {
        return Err(Problem::UntilRequired);
    }
    Ok(expected_cut(sc).unwrap_or_else(|| accrual_end(&sc.design.accrual, sc.design.n)))
}

/// The longest follow-up a trial of `sc` can have at its cut.
fn longest_follow_up(sc: &Scenario) -> Time {
    expected_cut(sc).unwrap_or_else(|| reachable_end(sc))
}

/// A path to solve: the keys' value at this point, the follow-up, and the overridden scenario
/// at any value of the keys. What [`precheck`] checks without solving.
struct Path<'a> {
    template: &'a Template,
    overrides: &'a [Override],
    nb: &'a NeverBetter,
    from: f64,
    until: Time,
}

impl Path<'_> {
    fn new<'a>(
        template: &'a Template,
        overrides: &'a [Override],
        sc: &'a Scenario,
    ) -> Result<Option<Path<'a>>, Problem> {
        let Some(nb) = &sc.analysis.never_better else { return Ok(None) };
        if sc.comparison.is_none() {
            return Err(Problem::SingleArm);
        }
        let from = common_value(template, overrides, nb)?;
        let until = match nb.until {
            Some(u) => u,
            None => default_until(sc)?,
        };
        let longest = longest_follow_up(sc);
        if !(until > 0.0 && until <= longest * (1.0 + 1e-12)) {
            return Err(Problem::UntilBeyond { until, longest });
        }
        Ok(Some(Path { template, overrides, nb, from, until }))
    }

    /// The scenario with every key of the path at `v`.
    fn at(&self, v: f64) -> Result<Scenario, ScenarioError> {
        let mut o = self.overrides.to_vec();
        o.extend(self.nb.vary.iter().map(|k| Override { key: k.clone(), value: v }));
        self.template.apply(&o).map(|(s, _)| s)
    }

    fn g(&self, v: f64) -> Result<f64, Problem> {
        let sc = self.at(v).map_err(|e| Problem::Invalid { value: v, why: e.message() })?;
        Ok(largest_advantage(&sc, self.until))
    }

    /// The scenario at `to`, checked.
    fn end(&self) -> Result<Scenario, Problem> {
        self.at(self.nb.to).map_err(|e| Problem::ToInvalid { to: self.nb.to, why: e.message() })
    }

    fn solve(&self) -> Result<Boundary, Problem> {
        let (nb, from, until) = (self.nb, self.from, self.until);
        let g_from = self.g(from)?;
        if g_from <= 0.0 {
            return Err(Problem::AlreadyNeverBetter { from, until, g: g_from });
        }
        if nb.to == from {
            return Err(Problem::EmptyPath { value: from });
        }
        let end = self.end()?;
        let start = self.at(from).map_err(|e| Problem::Invalid { value: from, why: e.message() })?;
        if !moves(&start, &end, until) {
            return Err(Problem::Immobile { from, to: nb.to });
        }
        let values: Vec<f64> = (0..=GRID).map(|i| from + (nb.to - from) * i as f64 / GRID as f64).collect();
        let gs = values.iter().map(|&v| self.g(v)).collect::<Result<Vec<f64>, Problem>>()?;
        let first = first_never_better(&values, &gs, until)?;
        // Bisection between the last grid value with g > 0 and the first with g ≤ 0.
        let (mut above, mut below) = (values[first - 1], values[first]);
        while (below - above).abs() > PRECISION * above.abs().max(below.abs()).max(f64::MIN_POSITIVE) {
            let mid = 0.5 * (above + below);
            if mid == above || mid == below {
                break;
            }
            if self.g(mid)? > 0.0 {
                above = mid;
            } else {
                below = mid;
            }
        }
        let scenario = self.at(below).map_err(|e| Problem::Invalid { value: below, why: e.message() })?;
        Ok(Boundary::new(nb, from, below, until, scenario))
    }
}

/// Solves the boundary of `sc` = `template` with `overrides` (`None` without
/// `[analysis.never_better]`).
pub fn solve(
    template: &Template,
    overrides: &[Override],
    sc: &Scenario,
) -> Result<Option<Boundary>, Problem> {
    match Path::new(template, overrides, sc)? {
        Some(path) => path.solve().map(Some),
        None => Ok(None),
    }
}

/// What a sweep checks of every point before any runs, without solving (a solve parses the
/// scenario some 235 times): the keys' common value, the follow-up, and a valid scenario at
/// `to`. The rest is found when the point is simulated.
pub fn precheck(template: &Template, overrides: &[Override], sc: &Scenario) -> Result<(), ScenarioError> {
    let checked = Path::new(template, overrides, sc).and_then(|p| p.map_or(Ok(()), |p| p.end().map(|_| ())));
    checked.map_err(|p| at_overrides(template, overrides, &p))
}

/// The first grid point where g ≤ 0 (g > 0 at the first), after checking that g is monotone
/// along the grid (within 1e-12: a smaller wiggle is the arithmetic's, not the path's) and falls.
fn first_never_better(values: &[f64], gs: &[f64], until: Time) -> Result<usize, Problem> {
    let last = gs.len() - 1;
    let rise = (0..last).find(|&i| gs[i + 1] > gs[i] + 1e-12);
    let fall = (0..last).find(|&i| gs[i + 1] < gs[i] - 1e-12);
    match (rise, fall) {
        (Some(i), Some(_)) => {
            return Err(Problem::NotMonotone { a: values[i], b: values[i + 1], ga: gs[i], gb: gs[i + 1] });
        }
        (Some(_), None) => {
            return Err(Problem::WrongWay {
                from: values[0],
                to: values[last],
                g_from: gs[0],
                g_to: gs[last],
            });
        }
        _ => {}
    }
    gs.iter().position(|&x| x <= 0.0).ok_or(Problem::NoBoundary {
        from: values[0],
        to: values[last],
        until,
        g: gs[last],
    })
}

/// The varied keys' common value at this point (an override's, else the template's).
fn common_value(template: &Template, overrides: &[Override], nb: &NeverBetter) -> Result<f64, Problem> {
    let value_of = |key: &str| -> Result<f64, Problem> {
        if let Some(o) = overrides.iter().rev().find(|o| o.key == key) {
            return Ok(o.value);
        }
        template.check_key(key).map_err(|e| Problem::NotANumber { key: key.into(), why: e.message() })?;
        template.get(key).ok_or_else(|| Problem::NotANumber {
            key: key.into(),
            why: "it is left to its default; write its value in the scenario".into(),
        })
    };
    let first = value_of(&nb.vary[0])?;
    for key in &nb.vary[1..] {
        let other = value_of(key)?;
        if other != first {
            return Err(Problem::NotCommon {
                first: nb.vary[0].clone(),
                value: first,
                key: key.clone(),
                other,
            });
        }
    }
    Ok(first)
}

/// Whether the two scenarios' primary-endpoint curves differ anywhere up to `until` (at the
/// breaks of either, and at 64 points between 0 and `until`).
fn moves(a: &Scenario, b: &Scenario, until: Time) -> bool {
    let (Some((ca, ea)), Some((cb, eb))) = (mixture::pair(a), mixture::pair(b)) else {
        return false;
    };
    let ep = a.primary();
    let mut times = mixture::knots(&[&ca, &ea, &cb, &eb], ep, &[], until);
    times.extend((1..64).map(|i| until * i as f64 / 64.0));
    times
        .iter()
        .any(|&t| ea.survival(ep, t) != eb.survival(ep, t) || ca.survival(ep, t) != cb.survival(ep, t))
}

/// A sweep or plan point's boundary, or why its path has none there.
#[derive(Debug, Clone)]
pub enum PointBoundary {
    Solved(Box<Boundary>),
    /// The point is already never better: its own trials are the boundary's, and each test's
    /// rate of declaring benefit there is its power.
    Itself(Box<Boundary>),
    /// No value on the path makes the point never better (e.g. with little transplant-related
    /// mortality the transplant is better in year 1 whatever its late hazard ratio), or the
    /// path is empty (the point's value is `to`).
    NotOnPath(Problem),
}

impl PointBoundary {
    /// The boundary whose copy must be simulated (not the point itself).
    pub fn solved(&self) -> Option<&Boundary> {
        match self {
            PointBoundary::Solved(b) => Some(b),
            PointBoundary::Itself(_) | PointBoundary::NotOnPath(_) => None,
        }
    }
}

/// The boundary of one point of a sweep or plan (`sc` = `template` with `overrides`). A point
/// that is already never better is its own boundary; a point whose path never gets there has
/// none (the base scenario itself is refused for either: its table would measure nothing); any
/// other problem is an error named by the point's overrides.
pub fn at_point(
    template: &Template,
    overrides: &[Override],
    sc: &Scenario,
) -> Result<Option<PointBoundary>, ScenarioError> {
    let Some(path) = Path::new(template, overrides, sc).map_err(|p| at_overrides(template, overrides, &p))?
    else {
        return Ok(None);
    };
    match path.solve() {
        Ok(b) => Ok(Some(PointBoundary::Solved(Box::new(b)))),
        Err(Problem::AlreadyNeverBetter { from, until, .. }) => {
            let b = Boundary::new(path.nb, from, from, until, sc.clone());
            Ok(Some(PointBoundary::Itself(Box::new(b))))
        }
        Err(p @ (Problem::NoBoundary { .. } | Problem::WrongWay { .. } | Problem::EmptyPath { .. })) => {
            Ok(Some(PointBoundary::NotOnPath(p)))
        }
        Err(p) => Err(at_overrides(template, overrides, &p)),
    }
}

/// A problem of a sweep or plan point, named by the point's overrides (its lines would point
/// into regenerated text).
fn at_overrides(template: &Template, overrides: &[Override], p: &Problem) -> ScenarioError {
    let list: Vec<String> = overrides.iter().map(|o| o.to_string()).collect();
    let at = if list.is_empty() { String::new() } else { format!(" with {}", list.join(", ")) };
    ScenarioError::without_location(template.path(), format!("`analysis.never_better`{at}: {p}"))
}

/// The boundary as a located scenario error: the problem's place in `[analysis.never_better]`.
pub fn located(doc: &crate::scenario::Document, p: &Problem) -> ScenarioError {
    let ctx = doc.ctx();
    let table = doc.raw().analysis.get_ref().never_better.as_ref();
    let (span, key) = match (p.place(), table) {
        (Place::Vary(i), Some(t)) => {
            let items = t.get_ref().vary.get_ref();
            let i = match p {
                Problem::NotANumber { key, .. } | Problem::NotCommon { key, .. } => {
                    items.iter().position(|k| k.get_ref().trim() == key).unwrap_or(i)
                }
                _ => i,
            };
            (items.get(i).map_or(t.span(), |k| k.span()), format!("analysis.never_better.vary[{i}]"))
        }
        (Place::To, Some(t)) => (t.get_ref().to.span(), "analysis.never_better.to".to_string()),
        (Place::Until, Some(t)) => match &t.get_ref().until {
            Some(u) => (u.span(), "analysis.never_better.until".to_string()),
            None => (t.span(), "analysis.never_better.until".to_string()),
        },
        (_, Some(t)) => (t.span(), "analysis.never_better".to_string()),
        (_, None) => return ScenarioError::without_location(doc.path(), p.to_string()),
    };
    ctx.err(span, key, p.to_string())
}
