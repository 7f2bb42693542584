//! Interim monitoring of one simulated trial (`[monitoring]`): the looks' calendar times, the
//! monitored tests' statistics and information there, the group-sequential decisions, and the
//! safety rule's reviews. Stopping, for any reason, ends accrual and follow-up: nothing after
//! the stop is analysed.
//!
//! Information: events for the log-rank and Cox tests; the observed null variance V_k for
//! FH(ρ, γ) (between-look correlation √(V_j/V_k), asymptotically independent increments under
//! H0, Tsiatis 1982). I_max is the final cut's event count when it is event-driven, otherwise
//! the expected events (FH: the expected null variance) at the expected final cut under the
//! model; it is fixed per design, so the identical-arms copy reuses the experimental design's.

use crate::cohort::{Cohort, Observed};
use crate::scenario::{
    Alternative, Cut, FutilityBound, Look, Monitoring, Safety, Scenario, SpendingTime, TestKind,
};
use crate::stats::RiskTable;
use crate::stats::cox::{Ties, cox};
use crate::stats::logrank::{fleming_harrington, logrank};
use crate::stats::monitor::{BoundsCache, Plan, Stop};
use crate::stats::sequential::{
    Boundaries, Design, Futility, MIN_SPACING, boundaries_spent_at, boundaries_with_drifts,
    design_drift_spent_at,
};
use crate::time::Time;
use crate::truth::{expected_cut, expected_events, expected_null_variance, expected_z, reachable_end};

/// Why a monitored design ended where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Reached the final analysis (rejected or not).
    Final,
    Stopped(Stop),
    /// The safety rule stopped the trial.
    Safety,
}

/// One monitored test's design, fixed per scenario.
#[derive(Debug, Clone)]
pub struct MonitoredTest {
    /// Index into `analysis.tests` (and the layout's tests).
    pub test: usize,
    pub name: String,
    pub kind: TestKind,
    pub plan: Plan,
    /// Futility by observed hazard ratio (log-rank or Cox, allocation share r of the
    /// experimental arm): b ≤ −ln(hr_k)·√(d_k·r(1−r)), Schoenfeld's z for that HR (d_k/4 at 1:1).
    pub hr_futility: Option<Vec<f64>>,
    /// r(1 − r), the experimental arm's allocation share r.
    pub allocation_variance: f64,
    /// The maximum information: events, or FH's null variance.
    pub i_max: f64,
    /// Whether I_max is the final cut's event target (then the final look's fraction is 1 when
    /// the target is reached).
    pub event_driven: bool,
    /// The design as planned: fractions of the interims and the final analysis (1), the
    /// interims' expected calendar times, and the bounds there.
    pub planned_fractions: Vec<f64>,
    pub planned_times: Vec<Time>,
    pub planned: Boundaries,
    /// The harm bound (z scale) of each interim as planned, +∞ where there is none.
    pub planned_harm: Vec<f64>,
}

/// The monitored designs of a scenario, its looks and its safety rule.
#[derive(Debug, Clone)]
pub struct Monitor {
    pub tests: Vec<MonitoredTest>,
    pub looks: Vec<Look>,
    pub safety: Option<Safety>,
    /// The expected calendar time of the final cut (for planned look times).
    pub expected_final: Option<Time>,
    /// The expected calendar time of each interim look under the model (NaN where unknown).
    pub planned_times: Vec<Time>,
    /// Patients in the design.
    pub n: usize,
    /// With calendar spending time, the final analysis's calendar time: α and β are spent at
    /// each look's calendar time over it.
    pub calendar_spending: Option<Time>,
}

impl Monitor {
    /// The monitored designs of `sc` (`None` without `[monitoring]`).
    pub fn new(sc: &Scenario) -> Option<Monitor> {
        let m = sc.monitoring.as_ref()?;
        let expected_final = expected_cut(sc);
        // Where the final cut has no expected time (an event target the model never reaches),
        // the maximum information is what is reachable: the information once the model expects
        // no more events. It was NaN there, and every bound computed from it.
        let final_time = expected_final.unwrap_or_else(|| reachable_end(sc));
        let ep = sc.primary();
        let events_at =
            |c: Time| -> f64 { sc.allocated_arms().map(|(_, a)| expected_events(sc, a, ep, c)).sum() };
        let total: usize = sc.allocated_arms().map(|(_, a)| a.allocation).sum();
        let share = sc.experimental().map_or(0.5, |a| a.allocation as f64 / total.max(1) as f64);
        let allocation_variance = share * (1.0 - share);
        let calendar_spending =
            if m.spending_time == SpendingTime::Calendar { sc.design.cut.calendar } else { None };
        // Event-driven only when the event count alone sets the final cut.
        let final_events = sc.design.cut.events.filter(|_| {
            let c = &sc.design.cut;
            c.calendar.is_none() && c.min_followup.is_none()
        });
        // The expected calendar time of an interim cut: its criteria as `expected_cut` combines
        // them for the final one.
        let planned_times: Vec<Time> = m
            .looks
            .iter()
            .map(|l| match l {
                Look::Cut(c) => expected_cut_of(sc, c).unwrap_or(f64::NAN),
                Look::Fraction(_) => f64::NAN,
            })
            .collect();
        let tests = m
            .tests
            .iter()
            .map(|&test| {
                let t = &sc.analysis.tests[test];
                let fh = match t.kind {
                    TestKind::FlemingHarrington { rho, gamma } if !(rho == 0.0 && gamma == 0.0) => {
                        Some((rho, gamma))
                    }
                    _ => None,
                };
                let information = |c: Time| match fh {
                    Some((rho, gamma)) => expected_null_variance(sc, rho, gamma, c),
                    None => events_at(c),
                };
                let (i_max, event_driven) = match (fh, final_events) {
                    (None, Some(k)) => (k as f64, true),
                    _ => (information(final_time), false),
                };
                // Each interim's expected calendar time: a cut's as the model expects it; an
                // information fraction's where the expected information reaches it.
                let times: Vec<Time> = m
                    .looks
                    .iter()
                    .zip(&planned_times)
                    .map(|(l, &time)| match l {
                        Look::Cut(_) => time,
                        Look::Fraction(f) => time_of_information(&information, f * i_max, final_time),
                    })
                    .collect();
                let mut planned_fractions: Vec<f64> = m
                    .looks
                    .iter()
                    .zip(&times)
                    .map(|(l, &time)| match l {
                        Look::Fraction(f) => *f,
                        Look::Cut(_) => (information(time) / i_max).min(1.0),
                    })
                    .collect();
                planned_fractions.push(1.0);
                let design = design_of(m, sc.analysis.alpha);
                let fractions = valid_fractions(&planned_fractions);
                let spend: Vec<f64> = match calendar_spending {
                    Some(end) => {
                        let mut s: Vec<f64> = times.iter().map(|t| t / end).collect();
                        s.push(1.0);
                        valid_fractions(&s)
                    }
                    None => fractions.clone(),
                };
                let drift = match &m.futility {
                    Some(f) if f.alternative == Alternative::Design => {
                        design_drift_spent_at(&design, &fractions, &spend).unwrap_or(0.0)
                    }
                    _ => 0.0,
                };
                // The model's own drift per look: the expected benefit statistic at the look's
                // expected time over √t_k (the final look at the expected final cut).
                let thetas = match &m.futility {
                    Some(f) if f.alternative == Alternative::Truth => {
                        let (rho, gamma) = fh.unwrap_or((0.0, 0.0));
                        let mut at: Vec<Time> = times.clone();
                        at.push(final_time);
                        Some(
                            at.iter()
                                .zip(&fractions)
                                .map(|(&c, &t)| {
                                    let theta = -expected_z(sc, rho, gamma, c) / t.sqrt();
                                    if theta.is_finite() { theta } else { 0.0 }
                                })
                                .collect::<Vec<f64>>(),
                        )
                    }
                    _ => None,
                };
                let planned = match &thetas {
                    Some(th) => boundaries_with_drifts(&design, &fractions, &spend, th, true),
                    None => boundaries_spent_at(&design, &fractions, &spend, drift),
                };
                let plan = Plan { design, harm: m.harm.clone(), drift, thetas };
                // As a trial's interim decision sees them at the planned fractions.
                let mut cache = BoundsCache::default();
                let positions: Vec<usize> = (0..fractions.len()).collect();
                let planned_harm = (1..fractions.len())
                    .map(|k| {
                        plan.decide(
                            &positions[..k],
                            &fractions[..k],
                            &spend[..k],
                            f64::NAN,
                            false,
                            &mut cache,
                        )
                        .harm
                    })
                    .collect();
                MonitoredTest {
                    test,
                    name: t.name.clone(),
                    kind: t.kind,
                    plan,
                    hr_futility: match &m.futility {
                        Some(f) => match &f.bound {
                            FutilityBound::Hr(hr) => Some(hr.clone()),
                            _ => None,
                        },
                        None => None,
                    },
                    allocation_variance,
                    i_max,
                    event_driven,
                    planned_fractions,
                    planned_times: times,
                    planned,
                    planned_harm,
                }
            })
            .collect();
        Some(Monitor {
            tests,
            looks: m.looks.clone(),
            safety: m.safety.clone(),
            expected_final,
            planned_times,
            n: sc.design.n,
            calendar_spending,
        })
    }
}

/// The calendar time in (0, end] at which the increasing `information` reaches `target`
/// (bisection; `end` when it never does).
fn time_of_information(information: &impl Fn(Time) -> f64, target: f64, end: Time) -> Time {
    let (mut lo, mut hi) = (0.0, end);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if information(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// Fractions the recursion accepts: increasing and positive (a planned look that the model puts
/// at or after the one before is moved [`MIN_SPACING`] after it; such looks are skipped in the
/// trials anyway).
fn valid_fractions(t: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(t.len());
    for &x in t {
        let lo = out.last().copied().unwrap_or(0.0);
        out.push(if x.is_finite() && x > lo { x } else { lo + MIN_SPACING });
    }
    out
}

/// The expected calendar time of a cut under the model.
fn expected_cut_of(sc: &Scenario, cut: &Cut) -> Option<Time> {
    let mut s = sc.clone();
    s.design.cut = cut.clone();
    expected_cut(&s)
}

/// The group-sequential design of `[monitoring]`.
fn design_of(m: &Monitoring, alpha: f64) -> Design {
    let (futility, binding) = match &m.futility {
        Some(f) => (
            match &f.bound {
                FutilityBound::Spending { beta, function } => {
                    Some(Futility::Spending { beta: *beta, function: *function })
                }
                FutilityBound::Z(z) => Some(Futility::Fixed(z.clone())),
                FutilityBound::Hr(_) => None,
            },
            f.binding,
        ),
        None => (None, false),
    };
    Design { alpha, efficacy: m.efficacy.clone(), futility, binding }
}

/// What monitoring did to one trial, for one monitored test.
#[derive(Debug, Clone, Default)]
pub struct TestRecord {
    /// Per look (interims, then the final): calendar time, events, fraction, z; NaN for looks
    /// not taken.
    pub time: Vec<f64>,
    pub events: Vec<f64>,
    pub fraction: Vec<f64>,
    pub z: Vec<f64>,
    /// The look at which the design ended (the last entry for the final analysis).
    pub look: usize,
    pub ending: Option<Ending>,
    /// Rejected the null hypothesis (efficacy at an interim or at the final analysis).
    pub rejected: bool,
    /// Interims skipped because they fell at or after the final cut or the trial had stopped.
    pub skipped: Vec<bool>,
    /// An interim whose fraction reached 1 became the final analysis.
    pub became_final: bool,
    pub stop_time: f64,
    pub stop_events: f64,
    pub enrolled: f64,
}

/// The safety rule's reviews of one trial.
#[derive(Debug, Clone, Default)]
pub struct SafetyRecord {
    /// Calendar time of each review (NaN when the arm never has that many patients).
    pub time: Vec<f64>,
    /// The review that stopped the trial, if any.
    pub stopped: Option<usize>,
}

/// Buffers for the interim analyses of one worker.
#[derive(Debug, Default)]
pub struct Scratch {
    obs: Observed,
    table: RiskTable,
    caches: Vec<BoundsCache>,
    fractions: Vec<f64>,
    spend: Vec<f64>,
    /// The planned looks taken (interims by index; the final is the number of interims).
    positions: Vec<usize>,
    /// This trial's observable event times in calendar time, sorted; empty until needed.
    event_times: Vec<f64>,
    evaluable: Vec<(f64, bool)>,
}

/// The statistic and information of a monitored test on a risk table.
fn statistic(kind: TestKind, table: &RiskTable) -> (f64, f64) {
    let events = f64::from(table.events.iter().map(|d| d[0] + d[1]).sum::<u32>());
    match kind {
        TestKind::LogRank => (logrank(table).z, events),
        TestKind::FlemingHarrington { rho, gamma } if rho == 0.0 && gamma == 0.0 => {
            (fleming_harrington(table, rho, gamma).z, events)
        }
        TestKind::FlemingHarrington { rho, gamma } => {
            let f = fleming_harrington(table, rho, gamma);
            (f.z, f.v)
        }
        TestKind::Cox { breslow } => {
            (cox(table, if breslow { Ties::Breslow } else { Ties::Efron }).z, events)
        }
        _ => (f64::NAN, f64::NAN),
    }
}

/// Runs the monitoring of one generated trial whose final analysis is at calendar time
/// `final_cut` (`final_table`: its risk table, already built for the fixed analysis); fills one
/// record per monitored test, and the safety record.
#[allow(clippy::too_many_arguments)]
pub fn monitor_trial(
    sc: &Scenario,
    monitor: &Monitor,
    group_of: &[Option<u8>],
    cohort: &mut Cohort,
    final_cut: Time,
    final_table: &RiskTable,
    ws: &mut Scratch,
    records: &mut Vec<TestRecord>,
    safety: &mut SafetyRecord,
) {
    let k_looks = monitor.looks.len();
    ws.caches.resize_with(monitor.tests.len(), BoundsCache::default);
    // The safety rule first: its stop ends the trial for every monitored test.
    let safety_stop = match &monitor.safety {
        Some(rule) => review(rule, cohort, final_cut, &mut ws.evaluable, safety),
        None => {
            safety.time.clear();
            safety.stopped = None;
            f64::INFINITY
        }
    };
    records.resize_with(monitor.tests.len(), TestRecord::default);
    ws.event_times.clear();
    let ep = sc.primary();
    for (j, mt) in monitor.tests.iter().enumerate() {
        let r = &mut records[j];
        for v in [&mut r.time, &mut r.events, &mut r.fraction, &mut r.z] {
            v.clear();
            v.resize(k_looks + 1, f64::NAN);
        }
        r.skipped.clear();
        r.skipped.resize(k_looks, false);
        r.rejected = false;
        r.became_final = false;
        r.ending = None;
        ws.fractions.clear();
        ws.spend.clear();
        ws.positions.clear();
        let mut stop_time = f64::NAN;
        for (k, look) in monitor.looks.iter().enumerate() {
            let time = match look {
                // An events-only look is the K-th observable event: from this trial's sorted event
                // times, found once (`cut_by` would scan every patient per look).
                Look::Cut(Cut { calendar: None, events: Some(k), min_followup: None, .. }) => {
                    kth_event(cohort, ep, *k, &mut ws.event_times).unwrap_or(f64::INFINITY)
                }
                Look::Cut(c) => cohort.cut_by(sc, c).calendar,
                Look::Fraction(f) => match mt.kind {
                    TestKind::FlemingHarrington { rho, gamma } if !(rho == 0.0 && gamma == 0.0) => {
                        variance_time(sc, cohort, group_of, final_cut, f * mt.i_max, mt.kind, ws)
                    }
                    _ => {
                        let target = (f * mt.i_max).ceil().max(1.0) as usize;
                        kth_event(cohort, ep, target, &mut ws.event_times).unwrap_or(f64::INFINITY)
                    }
                },
            };
            if time >= final_cut || !time.is_finite() {
                r.skipped[k] = true;
                continue;
            }
            if time >= safety_stop {
                break;
            }
            cohort.observe(ep, time, group_of, &mut ws.obs);
            ws.obs.table(&mut ws.table);
            let (z, info) = statistic(mt.kind, &ws.table);
            let fraction = info / mt.i_max;
            if !adds_information(&ws.fractions, fraction) {
                // Too little new information since the last look: nothing to decide.
                r.skipped[k] = true;
                continue;
            }
            // An interim at or beyond the maximum information is the final analysis.
            let last = fraction >= 1.0;
            ws.fractions.push(fraction);
            ws.positions.push(k);
            ws.spend.push(match monitor.calendar_spending {
                Some(end) if !last => time / end,
                Some(_) => 1.0,
                None => fraction,
            });
            r.time[k] = time;
            r.events[k] = f64::from(ws.table.events.iter().map(|d| d[0] + d[1]).sum::<u32>());
            r.fraction[k] = fraction;
            r.z[k] = z;
            let mut look =
                mt.plan.decide(&ws.positions, &ws.fractions, &ws.spend, z, last, &mut ws.caches[j]);
            if !last
                && look.stop.is_none()
                && let Some(hr) = &mt.hr_futility
            {
                let bound = -hr[k].ln() * (r.events[k] * mt.allocation_variance).sqrt();
                if -z <= bound {
                    look.stop = Some(Stop::Futility);
                }
            }
            if last {
                r.became_final = true;
                r.look = k;
                r.rejected = look.stop == Some(Stop::Efficacy);
                r.ending = Some(Ending::Final);
                stop_time = time;
                break;
            }
            if let Some(stop) = look.stop {
                r.look = k;
                r.rejected = stop == Stop::Efficacy;
                r.ending = Some(Ending::Stopped(stop));
                stop_time = time;
                break;
            }
        }
        if r.ending.is_none() {
            if safety_stop < final_cut {
                r.ending = Some(Ending::Safety);
                r.look = k_looks;
                stop_time = safety_stop;
            } else {
                let (z, info) = statistic(mt.kind, final_table);
                let fraction = if mt.event_driven && info >= mt.i_max { 1.0 } else { info / mt.i_max };
                // The final look spends what is left whatever its fraction; it must still come
                // after the interims for the recursion.
                let last_seen = ws.fractions.last().copied().unwrap_or(0.0);
                ws.fractions.push(fraction.max(last_seen + MIN_SPACING));
                ws.positions.push(k_looks);
                let spent = if monitor.calendar_spending.is_some() {
                    1.0
                } else {
                    *ws.fractions.last().unwrap_or(&1.0)
                };
                ws.spend.push(spent);
                r.time[k_looks] = final_cut;
                r.events[k_looks] = f64::from(final_table.events.iter().map(|d| d[0] + d[1]).sum::<u32>());
                r.fraction[k_looks] = fraction;
                r.z[k_looks] = z;
                let look =
                    mt.plan.decide(&ws.positions, &ws.fractions, &ws.spend, z, true, &mut ws.caches[j]);
                r.rejected = look.stop == Some(Stop::Efficacy);
                r.ending = Some(Ending::Final);
                r.look = k_looks;
                stop_time = final_cut;
            }
        }
        r.stop_time = stop_time;
        // Known at a look; counted only for a stop by the safety rule, between looks.
        r.stop_events = match r.ending {
            Some(Ending::Safety) => events_by(cohort, ep, stop_time),
            _ => r.events[r.look],
        };
        r.enrolled = cohort.entry.partition_point(|&e| e <= stop_time) as f64;
    }
}

/// Whether a look at observed information fraction `fraction` is taken after the looks at
/// `taken`: only when it adds at least [`MIN_SPACING`] (from 0 for the first look). A smaller
/// increment decides nothing new, and the recursion could not resolve it on a bounded grid.
fn adds_information(taken: &[f64], fraction: f64) -> bool {
    fraction - taken.last().copied().unwrap_or(0.0) >= MIN_SPACING
}

/// The calendar time of the K-th observable primary-endpoint event (as `Cohort::cut_by` with
/// an events-only cut), from `times`: this trial's sorted event times, filled on first use
/// (empty on entry to a trial). `None` when the trial never has K events.
fn kth_event(
    cohort: &Cohort,
    ep: &crate::scenario::Endpoint,
    k: usize,
    times: &mut Vec<f64>,
) -> Option<Time> {
    if times.is_empty() {
        for i in 0..cohort.n() {
            let (t, _) = cohort.endpoint_time(ep, i);
            if t.is_finite() && t <= cohort.dropout[i] {
                times.push(cohort.entry[i] + t);
            }
        }
        times.sort_unstable_by(|a, b| a.total_cmp(b));
        // A trial without any event: mark it filled, with nothing to find.
        if times.is_empty() {
            times.push(f64::INFINITY);
        }
    }
    times.get(k.checked_sub(1)?).copied().filter(|t| t.is_finite())
}

/// Primary-endpoint events observed by calendar time `c`.
fn events_by(cohort: &Cohort, ep: &crate::scenario::Endpoint, c: Time) -> f64 {
    (0..cohort.n())
        .filter(|&i| {
            let e = cohort.entry[i];
            e <= c && {
                let (t, _) = cohort.endpoint_time(ep, i);
                t <= cohort.dropout[i] && e + t <= c
            }
        })
        .count() as f64
}

/// The most cuts [`variance_time`] analyses to place one look: bisection from the final cut
/// down to a millionth of it (2²⁰ > 10⁶), and the final cut itself.
pub const VARIANCE_TIME_CUTS: u64 = 21;

/// How many times one trial's patients are analysed (a cut built and its risk table made) when
/// monitoring runs to the end: the final analysis, then per monitored test and interim look one
/// cut, or [`VARIANCE_TIME_CUTS`] for an FH test's information-fraction look. What the
/// explorer's work cap multiplies n × replicates by.
pub fn analyses_per_trial(sc: &Scenario) -> u64 {
    let Some(m) = &sc.monitoring else { return 1 };
    let per_look = |kind: TestKind, look: &Look| match (kind, look) {
        (TestKind::FlemingHarrington { rho, gamma }, Look::Fraction(_)) if !(rho == 0.0 && gamma == 0.0) => {
            VARIANCE_TIME_CUTS
        }
        _ => 1,
    };
    1 + m
        .tests
        .iter()
        .map(|&t| m.looks.iter().map(|l| per_look(sc.analysis.tests[t].kind, l)).sum::<u64>())
        .sum::<u64>()
}

/// The calendar time at which FH's observed null variance first reaches `target` (bisection
/// on the cut; +∞ when the final cut does not reach it).
fn variance_time(
    sc: &Scenario,
    cohort: &Cohort,
    group_of: &[Option<u8>],
    final_cut: Time,
    target: f64,
    kind: TestKind,
    ws: &mut Scratch,
) -> Time {
    let ep = sc.primary();
    let mut v_at = |c: f64| {
        cohort.observe(ep, c, group_of, &mut ws.obs);
        ws.obs.table(&mut ws.table);
        statistic(kind, &ws.table).1
    };
    if v_at(final_cut) < target {
        return f64::INFINITY;
    }
    let (mut lo, mut hi) = (0.0, final_cut);
    // To a thousandth of a day on a scale of years: far below any event spacing that matters.
    while hi - lo > 1e-6 * final_cut.max(1.0) {
        let mid = 0.5 * (lo + hi);
        if v_at(mid) >= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The safety reviews of one trial: review k happens when the first `after[k]` patients of the
/// arm are evaluable (dead of the cause, followed `window`, lost, or ended by a competing
/// cause); it stops the trial when at least `stop_at[k]` of them had the event. Returns the
/// calendar time of the stop (+∞ when none happens before the final cut).
fn review(
    rule: &Safety,
    cohort: &Cohort,
    final_cut: Time,
    evaluable: &mut Vec<(f64, bool)>,
    out: &mut SafetyRecord,
) -> f64 {
    out.time.clear();
    out.stopped = None;
    evaluable.clear();
    let last = rule.after.last().copied().unwrap_or(0) as usize;
    for i in 0..cohort.n() {
        if evaluable.len() == last {
            break;
        }
        if cohort.arm[i] as usize != rule.arm {
            continue;
        }
        let t = cohort.latent(rule.cause, i);
        let ended = rule.competing.iter().map(|&k| cohort.latent(k, i)).fold(cohort.dropout[i], f64::min);
        let event = t <= rule.window && t <= ended;
        let at = if event { t } else { rule.window.min(ended) };
        evaluable.push((cohort.entry[i] + at, event));
    }
    let (mut seen, mut events, mut time) = (0usize, 0u32, f64::NEG_INFINITY);
    for (k, &m) in rule.after.iter().enumerate() {
        let m = m as usize;
        if evaluable.len() < m {
            out.time.push(f64::NAN);
            continue;
        }
        for &(at, event) in &evaluable[seen..m] {
            time = time.max(at);
            events += u32::from(event);
        }
        seen = m;
        out.time.push(time);
        if time < final_cut && rule.stop_at[k].is_some_and(|s| events >= s) {
            out.stopped = Some(k);
            // The later reviews never happen.
            out.time.resize(rule.after.len(), f64::NAN);
            return time;
        }
    }
    f64::INFINITY
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A look whose observed information is less than MIN_SPACING after the last look taken (or
    /// after 0) is skipped: a trial whose observed fractions are 1e-12 apart takes the first and
    /// skips the second, and the recursion never sees the pair.
    #[test]
    fn looks_with_too_little_new_information_are_skipped() {
        assert!(adds_information(&[], 0.3));
        assert!(!adds_information(&[], 1e-12), "less than MIN_SPACING from 0");
        assert!(!adds_information(&[0.5], 0.5 + 1e-12));
        assert!(!adds_information(&[0.5], 0.5), "no new information");
        assert!(!adds_information(&[0.5], 0.4));
        assert!(!adds_information(&[0.5], f64::NAN));
        assert!(adds_information(&[0.5], 0.5 + MIN_SPACING));
    }
}
