//! The monitoring of one simulated trial: each look's calendar time, the monitored tests'
//! statistics and information there (read through the same [`AnalysisData`] seam as the final
//! analysis), the group-sequential decisions, and the safety rule's reviews. Stopping, for any
//! reason, ends accrual and follow-up: nothing after the stop is analysed.

use super::committee::{self, Shown, shown};
#[cfg(test)]
use super::design::search_evaluations;
use super::design::{Monitor, MonitoredTest};
use crate::analyser::{Analyser, Trial};
use crate::cohort::{Cohort, Timeline};
use crate::scenario::{Cut, FutilityBound, FutilityRule, Look, Safety, Scenario};
use crate::stats::RiskTable;
use crate::stats::analysis_data::{AnalysisData, View, Views};
use crate::stats::logrank::fh_variance_terms;
use crate::stats::monitor::{BoundsCache, Stop};
use crate::stats::sequential::MIN_SPACING;
use crate::test_statistic::{Information, TestKind};
use crate::time::Time;

/// Why a monitored design ended where it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Reached the final analysis (rejected or not).
    Final,
    Stopped(Stop),
    /// The safety rule stopped the trial.
    Safety,
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
    /// Per interim: what the committee is shown ([`super::committee::shown`]); NaN where the
    /// look was not taken or it is not asked for.
    pub cp: Vec<Shown>,
    /// The look at which the design ended (the last entry for the final analysis).
    pub look: usize,
    pub ending: Option<Ending>,
    /// Rejected the null hypothesis (efficacy at an interim or at the final analysis).
    pub rejected: bool,
    /// Interims skipped because they fell at or after the final cut, added too little
    /// information, or the trial had stopped.
    pub skipped: Vec<bool>,
    /// An interim whose fraction reached 1 became the final analysis.
    pub became_final: bool,
    pub stop_time: f64,
    pub stop_events: f64,
    pub enrolled: f64,
    /// The fixed design's final cut and patients enrolled by it (what monitoring saves against).
    pub fixed_time: f64,
    pub fixed_enrolled: f64,
}

impl TestRecord {
    /// Empty, for a trial with `interims` interim looks.
    fn reset(&mut self, interims: usize) {
        for v in [&mut self.time, &mut self.events, &mut self.fraction, &mut self.z] {
            v.clear();
            v.resize(interims + 1, f64::NAN);
        }
        self.skipped.clear();
        self.skipped.resize(interims, false);
        self.cp.clear();
        self.cp.resize(interims, Shown::NONE);
        self.rejected = false;
        self.became_final = false;
        self.ending = None;
    }

    /// Why the design ended, as replicates.csv codes it: 1 efficacy (rejected, at an interim or
    /// the final), 2 futility, 3 harm, 4 the safety rule, 0 the final analysis without rejection.
    pub(crate) fn reason_code(&self) -> f64 {
        if self.rejected {
            return 1.0;
        }
        match self.ending {
            Some(Ending::Stopped(Stop::Futility)) => 2.0,
            Some(Ending::Stopped(Stop::Harm)) => 3.0,
            Some(Ending::Safety) => 4.0,
            Some(Ending::Final | Ending::Stopped(Stop::Efficacy)) | None => 0.0,
        }
    }
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
    analyser: Analyser,
    caches: Vec<BoundsCache>,
    fractions: Vec<f64>,
    spend: Vec<f64>,
    /// The planned looks taken (interims by index; the final is the number of interims).
    positions: Vec<usize>,
    evaluable: Vec<(f64, bool)>,
    /// This trial's primary endpoint arranged for analyses at any cut, arranged on first use:
    /// in full (`in_full`) when a look is searched for (several analyses per look) or the final
    /// analysis reads its table from it, else its event times only (one analysis per look,
    /// where sorting the rest would cost more than it saves).
    timeline: Timeline,
    arranged: Arranged,
    in_full: bool,
    /// The trial's final cut: no look is analysed at or after it, so nothing later is arranged.
    until: Time,
    /// Readied for a trial by [`Monitored::final_analysis`], not yet monitored by
    /// [`Monitored::run`] (which would otherwise read another trial's timeline).
    ready: bool,
    /// The monitored test's (z, information) at the final cut, once computed for this test in
    /// this trial (each look's search and the final look read it).
    final_look: Option<(f64, f64)>,
    /// The monitored FH test's terms of the final variance, and the events weighted by them,
    /// for the first guess of its looks' searches (empty until weighed for this test and trial).
    terms: Vec<f64>,
    by_event: Vec<f64>,
    weighted: Vec<f64>,
}

/// How much of this trial's timeline is arranged.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Arranged {
    #[default]
    Nothing,
    Calendar,
    Full,
}

impl Scratch {
    /// Test `mt`'s (z, information) at the trial's final cut, `data`.
    fn final_at_look(&mut self, mt: &MonitoredTest, data: &AnalysisData) -> (f64, f64) {
        *self.final_look.get_or_insert_with(|| mt.kind.at_look(data))
    }

    /// The primary endpoint's risk table of `trial` at `cut`: from the trial's timeline (arranged
    /// on first use, unless the final analysis has arranged it) when it is arranged in full.
    fn risk_table_at(&mut self, trial: Trial, cut: Time) -> &AnalysisData {
        if !self.in_full {
            return self.analyser.build(trial, cut, Views::default().with(View::RiskTable));
        }
        self.arrange(trial);
        self.analyser.build_risk_table(trial, &self.timeline, cut)
    }

    /// The trial's observable primary-endpoint events in calendar time, increasing.
    fn event_calendar(&mut self, trial: Trial) -> &[Time] {
        if self.in_full {
            self.arrange(trial);
        } else if self.arranged == Arranged::Nothing {
            self.timeline.arrange_calendar(trial.cohort, trial.scenario.primary());
            self.arranged = Arranged::Calendar;
        }
        self.timeline.event_calendar()
    }

    /// Readies the scratch for a new trial whose final cut is `until`: nothing of its timeline
    /// arranged yet.
    fn begin(&mut self, until: Time, in_full: bool) {
        self.ready = true;
        self.arranged = Arranged::Nothing;
        self.until = until;
        self.in_full = in_full;
    }

    /// Arranges the trial's timeline in full unless this trial's already is.
    fn arrange(&mut self, trial: Trial) {
        if self.arranged != Arranged::Full {
            self.timeline.arrange(trial.cohort, trial.scenario.primary(), trial.group_of, self.until);
            self.arranged = Arranged::Full;
        }
    }
}

/// A scenario's monitored designs, applied to its trials.
#[derive(Debug, Clone, Copy)]
pub struct Monitored<'a> {
    pub scenario: &'a Scenario,
    pub monitor: &'a Monitor,
    /// Arm index → analysis group (as the final analysis's).
    pub group_of: &'a [Option<u8>],
}

/// Where one trial ends without interim stops: its final analysis (the data at the final cut)
/// and the safety rule's stop (+∞ without one).
#[derive(Clone, Copy)]
struct Ends<'a> {
    final_data: &'a AnalysisData,
    safety_stop: Time,
}

/// What one interim look did.
enum LookOutcome {
    /// Not taken (after the final cut, never reached, or too little new information).
    Skipped,
    /// Taken, and the trial goes on.
    Continue,
    /// The design ended here (efficacy, futility, harm, or the interim became the final).
    Ended,
    /// At or after the safety rule's stop: this and later looks never happen.
    AfterSafetyStop,
}

impl<'m> Monitored<'m> {
    /// The generated trial `cohort` as this design's analyses read it.
    fn trial<'c>(&self, cohort: &'c Cohort) -> Trial<'c>
    where
        'm: 'c,
    {
        Trial { cohort, scenario: self.scenario, group_of: self.group_of }
    }

    /// The final analysis of one generated trial at its cut `cut`, the `views` its analysis
    /// asks for, into `analyser`; and `ws` readied to monitor that trial ([`Monitored::run`]).
    /// When the risk table is the only view asked for, the trial's timeline is arranged here and
    /// the final table read from it: the table `Analyser::build` gives, bit for bit, and the
    /// looks' tables then come from the same arrangement, so the trial is observed and sorted
    /// once, not once per analysis. Otherwise the final analysis builds its views, and only a
    /// design that searches its looks arranges the timeline in full (for them).
    pub fn final_analysis<'a>(
        &self,
        cohort: &Cohort,
        cut: Time,
        views: Views,
        analyser: &'a mut Analyser,
        ws: &mut Scratch,
    ) -> &'a AnalysisData {
        let trial = self.trial(cohort);
        let table_only = views == Views::default().with(View::RiskTable);
        ws.begin(cut, self.monitor.searches_looks || table_only);
        if table_only {
            ws.arrange(trial);
            return analyser.build_risk_table(trial, &ws.timeline, cut);
        }
        analyser.build(trial, cut, views)
    }

    /// Monitors one generated trial whose final analysis is `final_data`, from
    /// [`Monitored::final_analysis`] with the same `ws`: fills one record per monitored test,
    /// and the safety record.
    pub fn run(
        &self,
        cohort: &mut Cohort,
        final_data: &AnalysisData,
        ws: &mut Scratch,
        records: &mut Vec<TestRecord>,
        safety: &mut SafetyRecord,
    ) {
        ws.caches.resize_with(self.monitor.tests.len(), BoundsCache::default);
        // The safety rule first: its stop ends the trial for every monitored test.
        let safety_stop = match &self.monitor.safety {
            Some(rule) => review(rule, cohort, final_data.cut(), &mut ws.evaluable, safety),
            None => {
                safety.time.clear();
                safety.stopped = None;
                f64::INFINITY
            }
        };
        records.resize_with(self.monitor.tests.len(), TestRecord::default);
        // A programming error, not input: every trial's scratch is readied by its final analysis.
        assert!(
            std::mem::take(&mut ws.ready),
            "Monitored::final_analysis readies the scratch for each trial"
        );
        let ends = Ends { final_data, safety_stop };
        for (j, r) in records.iter_mut().enumerate() {
            self.test(j, cohort, ends, ws, r);
        }
    }

    /// The looks of monitored test `j` in one trial.
    fn test(&self, j: usize, cohort: &mut Cohort, ends: Ends, ws: &mut Scratch, r: &mut TestRecord) {
        let k_looks = self.monitor.looks.len();
        r.reset(k_looks);
        ws.final_look = None;
        ws.weighted.clear();
        ws.fractions.clear();
        ws.spend.clear();
        ws.positions.clear();
        for k in 0..k_looks {
            match self.interim(j, k, cohort, ends, ws, r) {
                LookOutcome::Skipped => r.skipped[k] = true,
                LookOutcome::Continue => {}
                LookOutcome::Ended | LookOutcome::AfterSafetyStop => break,
            }
        }
        if r.ending.is_none() {
            if ends.safety_stop < ends.final_data.cut() {
                r.ending = Some(Ending::Safety);
                r.look = k_looks;
                r.stop_time = ends.safety_stop;
            } else {
                self.final_look(j, ends.final_data, ws, r);
            }
        }
        // Known at a look; counted only for a stop by the safety rule, between looks.
        r.stop_events = match r.ending {
            Some(Ending::Safety) => {
                let trial = self.trial(cohort);
                events_by(ws.event_calendar(trial), r.stop_time)
            }
            _ => r.events[r.look],
        };
        r.enrolled = cohort.entry.partition_point(|&e| e <= r.stop_time) as f64;
        r.fixed_time = ends.final_data.cut();
        r.fixed_enrolled = cohort.entry.partition_point(|&e| e <= r.fixed_time) as f64;
    }

    /// Interim look `k` of monitored test `j`.
    fn interim(
        &self,
        j: usize,
        k: usize,
        cohort: &mut Cohort,
        ends: Ends,
        ws: &mut Scratch,
        r: &mut TestRecord,
    ) -> LookOutcome {
        let mt = &self.monitor.tests[j];
        let final_cut = ends.final_data.cut();
        // A null-variance test's information look is found by analysing the trial at its event
        // times: the analysis there is the look's.
        let found = match (&self.monitor.looks[k], mt.information) {
            (Look::Fraction(f), Information::NullVariance(_)) => {
                match self.variance_time(k, mt, cohort, ends, f * mt.i_max, ws) {
                    Some(look) => Some(look),
                    None => return LookOutcome::Skipped,
                }
            }
            _ => None,
        };
        let time = found.map_or_else(|| self.look_time(k, mt, cohort, ws), |l| l.time);
        if time >= final_cut || !time.is_finite() {
            return LookOutcome::Skipped;
        }
        if time >= ends.safety_stop {
            return LookOutcome::AfterSafetyStop;
        }
        let VarianceLook { z, information: info, events, .. } = match found {
            Some(look) => look,
            None => {
                let trial = self.trial(cohort);
                let data = ws.risk_table_at(trial, time);
                let (z, information) = mt.kind.at_look(data);
                VarianceLook { time, z, information, events: f64::from(data.events()) }
            }
        };
        let fraction = info / mt.i_max;
        if !adds_information(&ws.fractions, fraction) {
            // Too little new information since the last look: nothing to decide.
            return LookOutcome::Skipped;
        }
        // An interim at or beyond the maximum information is the final analysis.
        let last = fraction >= 1.0;
        ws.fractions.push(fraction);
        ws.positions.push(k);
        ws.spend.push(match self.monitor.calendar_spending {
            Some(end) if !last => time / end,
            Some(_) => 1.0,
            None => fraction,
        });
        (r.time[k], r.events[k], r.fraction[k], r.z[k]) = (time, events, fraction, z);
        let mut look = mt.plan.decide(&ws.positions, &ws.fractions, &ws.spend, z, last, &mut ws.caches[j]);
        if !last
            && look.stop.is_none()
            && let Some(hr) = &mt.hr_futility
            && -z <= -hr[k].ln() * (events * mt.allocation_variance).sqrt()
        {
            look.stop = Some(Stop::Futility);
        }
        if !last && mt.cp.is_some() {
            r.cp[k] = shown(mt, k, fraction, -z);
            let rule = match &self.monitor.futility {
                Some(FutilityRule { bound: FutilityBound::ConditionalPower { below, under }, .. }) => {
                    Some((committee::index(*under), *below))
                }
                Some(FutilityRule { bound: FutilityBound::PredictiveProbability { below }, .. }) => {
                    Some((committee::PREDICTIVE, *below))
                }
                _ => None,
            };
            if look.stop.is_none()
                && let Some((measure, below)) = rule
                && r.cp[k].cp[measure] < below
            {
                look.stop = Some(Stop::Futility);
            }
        }
        let ending = match look.stop {
            _ if last => Ending::Final,
            Some(stop) => Ending::Stopped(stop),
            None => return LookOutcome::Continue,
        };
        r.became_final = last;
        r.look = k;
        r.rejected = look.stop == Some(Stop::Efficacy);
        r.ending = Some(ending);
        r.stop_time = time;
        LookOutcome::Ended
    }

    /// The calendar time of interim look `k` in this trial (+∞ when it never happens).
    fn look_time(&self, k: usize, mt: &MonitoredTest, cohort: &mut Cohort, ws: &mut Scratch) -> Time {
        match &self.monitor.looks[k] {
            // An events-only look is the K-th observable event: from this trial's sorted event
            // times, found once (`cut_by` would scan every patient per look).
            Look::Cut(Cut { calendar: None, events: Some(e), min_followup: None, .. }) => {
                let trial = self.trial(cohort);
                kth_event(ws.event_calendar(trial), *e).unwrap_or(f64::INFINITY)
            }
            Look::Cut(c) => cohort.cut_by(self.scenario, c).calendar,
            Look::Fraction(f) => {
                // Null-variance looks are placed by `variance_time` (in `interim`).
                let target = (f * mt.i_max).ceil().max(1.0) as usize;
                let trial = self.trial(cohort);
                kth_event(ws.event_calendar(trial), target).unwrap_or(f64::INFINITY)
            }
        }
    }

    /// The final analysis of monitored test `j`, after the interims it took.
    fn final_look(&self, j: usize, data: &AnalysisData, ws: &mut Scratch, r: &mut TestRecord) {
        let mt = &self.monitor.tests[j];
        let k_looks = self.monitor.looks.len();
        let (z, info) = ws.final_at_look(mt, data);
        let fraction = if mt.event_driven && info >= mt.i_max { 1.0 } else { info / mt.i_max };
        // The final look spends what is left whatever its fraction; it must still come after the
        // interims for the recursion.
        let last_seen = ws.fractions.last().copied().unwrap_or(0.0);
        ws.fractions.push(fraction.max(last_seen + MIN_SPACING));
        ws.positions.push(k_looks);
        let spent =
            if self.monitor.calendar_spending.is_some() { 1.0 } else { *ws.fractions.last().unwrap_or(&1.0) };
        ws.spend.push(spent);
        let final_cut = data.cut();
        (r.time[k_looks], r.events[k_looks]) = (final_cut, f64::from(data.events()));
        (r.fraction[k_looks], r.z[k_looks]) = (fraction, z);
        let look = mt.plan.decide(&ws.positions, &ws.fractions, &ws.spend, z, true, &mut ws.caches[j]);
        r.rejected = look.stop == Some(Stop::Efficacy);
        r.ending = Some(Ending::Final);
        r.look = k_looks;
        r.stop_time = final_cut;
    }

    /// Where a null-variance test's observed information reaches `target`: an event time of
    /// this trial's primary endpoint (calendar), before the final cut, whose analysis has
    /// V ≥ target while the analysis at the event before has V < target, with that analysis's
    /// (z, V, events); `None` when no event time before the final cut reaches it.
    ///
    /// V grows at events (each adds its term; between events only the risk sets' composition
    /// moves it, by much less), so the look is an event time, as a committee counting
    /// information at reported events would place it. The search over the event index
    /// ([`first_reaching`]) assumes V grows with it, as bisection on the calendar did; for FH it
    /// starts from the events weighted by their terms of the final V ([`guess_by_weight`]) and
    /// analyses the trial at two or three event times typically. V can fall slightly between
    /// events (follow-up added at earlier event times changes their terms, and the pooled KM
    /// their weights), so V may cross the target more than once: in 404 of 5,526 looks of
    /// `hsct_monitoring.toml`'s FH(0,1) design (3,000 trials), and the search took the first
    /// crossing in 95% of looks, as the search from the model's planned times had. Which later
    /// crossing it takes otherwise depends on where it starts.
    fn variance_time(
        &self,
        k: usize,
        mt: &MonitoredTest,
        cohort: &Cohort,
        ends: Ends,
        target: f64,
        ws: &mut Scratch,
    ) -> Option<VarianceLook> {
        let final_cut = ends.final_data.cut();
        let final_info = ws.final_at_look(mt, ends.final_data).1;
        let trial = self.trial(cohort);
        ws.arrange(trial);
        let Scratch { analyser, timeline, terms, by_event, weighted, .. } = ws;
        let event_times = timeline.event_calendar();
        // The event times before the final cut (an event at the cut is the final analysis's).
        let m = event_times.partition_point(|&t| t < final_cut);
        let mut found: Option<VarianceLook> = None;
        // The first guess: for FH, where the events weighted by their terms of the final
        // variance reach the look's share (weighed once per test and trial); otherwise the
        // event nearest the look's expected calendar time under the model.
        let guess = match mt.kind {
            TestKind::FlemingHarrington { rho, gamma } => {
                if weighted.is_empty() {
                    let table = ends.final_data.risk_table();
                    fh_variance_terms(table, rho, gamma, terms);
                    weigh_events(timeline, table, terms, by_event, weighted);
                }
                Some(guess_by_weight(weighted, m, target / final_info))
            }
            _ => {
                let planned = mt.planned_times.get(k).copied().filter(|t| t.is_finite());
                planned.map(|t| event_times[..m].partition_point(|&e| e < t))
            }
        };
        let i = first_reaching(m, final_info, target, guess, |i| {
            let c = event_times[i];
            let data = analyser.build_risk_table(trial, timeline, c);
            let (z, v) = mt.kind.at_look(data);
            let look = VarianceLook { time: c, z, information: v, events: f64::from(data.events()) };
            if v >= target {
                found = Some(look);
            }
            v
        })?;
        found.filter(|l| l.time == event_times[i])
    }
}

/// The first index i < m at which an increasing sequence v₀ ≤ v₁ ≤ … reaches `target`, given
/// v at i = m (`v_end`, reached there when not before; `None` when it is not reached before m).
/// `v(i)` is evaluated only at the bracket's interior points: first at `guess`, then regula falsi
/// on the index, with a
/// halving step whenever the two steps before have not halved the bracket, so at most
/// [`super::design::search_evaluations`]`(m)` evaluations. The last evaluation at or above the target is at
/// the index returned.
fn first_reaching(
    m: usize,
    v_end: f64,
    target: f64,
    guess: Option<usize>,
    mut v: impl FnMut(usize) -> f64,
) -> Option<usize> {
    if v_end.is_nan() || v_end < target {
        return None;
    }
    // Bracket on the index: `lo` below the target (−1: before the first, V = 0), `hi` at or
    // above it.
    let (mut lo, mut v_lo) = (-1_i64, 0.0);
    let (mut hi, mut v_hi) = (m as i64, v_end);
    // The bracket's width two steps back.
    let mut widths = [i64::MAX; 2];
    while hi - lo > 1 {
        let interpolated = lo as f64 + (target - v_lo) / (v_hi - v_lo) * (hi - lo) as f64;
        let i = if let Some(g) = guess.filter(|_| widths[1] == i64::MAX) {
            (g as i64).clamp(lo + 1, hi - 1)
        } else if 2 * (hi - lo) > widths[0] || !interpolated.is_finite() {
            (lo + hi) / 2
        } else {
            (interpolated.ceil() as i64).clamp(lo + 1, hi - 1)
        };
        widths = [widths[1], hi - lo];
        let value = v(i as usize);
        if value >= target {
            (hi, v_hi) = (i, value);
        } else {
            (lo, v_lo) = (i, value);
        }
    }
    (hi < m as i64).then_some(hi as usize)
}

/// The events a null-variance look is searched among, for the first guess
/// ([`guess_by_weight`]): the trial's events seen by its final cut (from `timeline`), each
/// weighted by its share of the statistic's variance at the final cut — the term of its row in
/// the final `table` (`terms`, one a row), split among the row's events — accumulated in
/// calendar order into `out`.
fn weigh_events(
    timeline: &Timeline,
    table: &RiskTable,
    terms: &[f64],
    scratch: &mut Vec<f64>,
    out: &mut Vec<f64>,
) {
    // The events come in increasing time, so their rows are found by walking the table once.
    let mut j = 0;
    let weight = |t: Time| {
        while j < table.len() && table.time[j] < t {
            j += 1;
        }
        match table.events.get(j) {
            Some(d) if table.time[j] == t => terms[j] / f64::from(d[0] + d[1]),
            _ => 0.0,
        }
    };
    timeline.accumulate_by_calendar(weight, scratch, out);
}

/// The first guess of the event (an index into the calendar's events, the first `m` of which
/// are before the final cut) at which a look at `share` of the final information falls: the
/// first by which the weighted events ([`weigh_events`], accumulated) reach that share of their
/// total. The variance at an earlier cut is not a partial sum of the final one's (its risk sets
/// and weights differ), so the guess is often an event or two off, which the search corrects.
fn guess_by_weight(accumulated: &[f64], m: usize, share: f64) -> usize {
    let total = accumulated.last().copied().unwrap_or(0.0);
    accumulated.partition_point(|&w| w < share * total).min(m)
}

/// A null-variance look found by [`Monitored::variance_time`]: its calendar time and the
/// analysis there.
#[derive(Debug, Clone, Copy)]
struct VarianceLook {
    time: Time,
    z: f64,
    information: f64,
    events: f64,
}

/// Whether a look at observed information fraction `fraction` is taken after the looks at
/// `taken`: only when it adds at least [`MIN_SPACING`] (from 0 for the first look). A smaller
/// increment decides nothing new, and the recursion could not resolve it on a bounded grid.
fn adds_information(taken: &[f64], fraction: f64) -> bool {
    fraction - taken.last().copied().unwrap_or(0.0) >= MIN_SPACING
}

/// The calendar time of the K-th observable primary-endpoint event (as `Cohort::cut_by` with
/// an events-only cut), from this trial's sorted event times ([`Timeline::event_calendar`]);
/// `None` when the trial never has K events.
fn kth_event(times: &[Time], k: usize) -> Option<Time> {
    times.get(k.checked_sub(1)?).copied()
}

/// Primary-endpoint events observed by calendar time `c`, from the sorted event times.
fn events_by(times: &[Time], c: Time) -> f64 {
    times.partition_point(|&t| t <= c) as f64
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
    use crate::monitoring::Monitor;
    use crate::scenario::fixture::{BASE, valid};
    use crate::scenario::{CutRule, Endpoint};

    /// Every observable primary-endpoint event's calendar time, increasing, computed from the
    /// cohort directly (what the timeline's list must be, independently).
    fn event_times_of(cohort: &Cohort, ep: &Endpoint) -> Vec<f64> {
        let mut times: Vec<f64> = (0..cohort.n())
            .filter_map(|i| {
                let (t, _) = cohort.endpoint_time(ep, i);
                (t.is_finite() && t <= cohort.dropout[i]).then(|| cohort.entry[i] + t)
            })
            .collect();
        times.sort_by(f64::total_cmp);
        times
    }

    /// The timeline's event times are the cohort's, and the K-th is where an events-only cut of
    /// K events falls.
    #[test]
    fn the_timeline_lists_every_observable_event() {
        let sc = valid(BASE);
        let mut cohort = Cohort::default();
        let mut timeline = Timeline::default();
        for r in 0..30 {
            cohort.generate(&sc, 3, r);
            timeline.arrange(&cohort, sc.primary(), &[Some(0), Some(1)], f64::INFINITY);
            let times = event_times_of(&cohort, sc.primary());
            assert_eq!(timeline.event_calendar(), &times[..]);
            // Each event's time since entry goes with its calendar time: weights accumulated by
            // calendar with each event weighing its time t (asked for in increasing t) step by
            // the t of the patient whose event that calendar time is.
            let mut asked = Vec::new();
            let (mut scratch, mut accumulated) = (Vec::new(), Vec::new());
            let weight = |t: f64| {
                asked.push(t);
                t
            };
            timeline.accumulate_by_calendar(weight, &mut scratch, &mut accumulated);
            assert!(asked.is_sorted() && asked.len() == times.len());
            let t_of = |calendar: f64| {
                let i = (0..cohort.n())
                    .find(|&i| cohort.entry[i] + cohort.endpoint_time(sc.primary(), i).0 == calendar);
                cohort.endpoint_time(sc.primary(), i.expect("a patient's event"))
            };
            for k in 0..times.len() {
                let step = accumulated[k] - if k == 0 { 0.0 } else { accumulated[k - 1] };
                assert!((step - t_of(times[k]).0).abs() <= 1e-9 * accumulated[k], "replicate {r}, event {k}");
            }
            let mut calendar_only = Timeline::default();
            calendar_only.arrange_calendar(&cohort, sc.primary());
            assert_eq!(calendar_only.event_calendar(), &times[..]);
            for k in [1, 5, times.len()] {
                let rule = Cut { calendar: None, events: Some(k), min_followup: None, rule: CutRule::First };
                assert_eq!(kth_event(&times, k), Some(cohort.cut_by(&sc, &rule).calendar), "replicate {r}");
            }
            assert_eq!(kth_event(&times, times.len() + 1), None);
            assert_eq!(events_by(&times, times[2]), 3.0);
        }
    }
    use crate::stats::logrank::{fleming_harrington, logrank};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The event-index search finds the first index reaching the target of any increasing
    /// sequence (steps of any size, flat runs, convex and concave shapes, a target at either end
    /// or never reached), evaluating within the bound the explorer's work cap assumes, whatever
    /// the guess.
    #[test]
    fn the_event_search_finds_the_first_index_within_its_bound() {
        let mut rng = StdRng::seed_from_u64(26);
        let mut worst = 0;
        for case in 0..20_000 {
            let m = rng.random_range(1..400);
            let power = [0.3, 1.0, 3.0][case % 3];
            let mut v: Vec<f64> = (0..=m).map(|i| (i as f64 / m as f64).powf(power)).collect();
            // Flat runs and jumps.
            for _ in 0..rng.random_range(0..5) {
                let (a, b) = (rng.random_range(0..=m), rng.random_range(0..=m));
                let (a, b) = (a.min(b), a.max(b));
                let x = v[a];
                v[a..=b].iter_mut().for_each(|y| *y = x);
            }
            for i in 1..=m {
                v[i] = v[i].max(v[i - 1]);
            }
            let target = rng.random_range(-0.1..1.1);
            let guess = (case % 2 == 0).then(|| rng.random_range(0..m + 3));
            let mut evaluations = 0;
            let got = first_reaching(m, v[m], target, guess, |i| {
                assert!(i < m, "evaluated at the end");
                evaluations += 1;
                v[i]
            });
            let want = (0..m).find(|&i| v[i] >= target);
            let want = if v[m] >= target { want } else { None };
            assert_eq!(got, want, "case {case}: m {m} target {target} guess {guess:?}");
            assert!(
                evaluations <= search_evaluations(m),
                "case {case}: {evaluations} evaluations for m = {m}"
            );
            worst = worst.max(evaluations);
        }
        assert!(worst > 3, "the cases exercise the search ({worst})");
    }

    /// One simulated trial's monitoring, with the final analysis's data kept for comparison.
    struct Run {
        cohort: Cohort,
        final_data: AnalysisData,
        records: Vec<TestRecord>,
        safety: SafetyRecord,
    }

    fn monitor_one(sc: &Scenario, replicate: u64) -> Run {
        let monitor = Monitor::new(sc).expect("a monitored scenario");
        let group_of = [Some(0), Some(1)];
        let mut cohort = Cohort::default();
        cohort.generate(sc, 11, replicate);
        let cut = cohort.cut(sc).calendar;
        let (mut analyser, mut ws) = (Analyser::default(), Scratch::default());
        let monitored = Monitored { scenario: sc, monitor: &monitor, group_of: &group_of };
        let views = Views::default().with(View::RiskTable);
        let final_data = monitored.final_analysis(&cohort, cut, views, &mut analyser, &mut ws).clone();
        let (mut records, mut safety) = (Vec::new(), SafetyRecord::default());
        monitored.run(&mut cohort, &final_data, &mut ws, &mut records, &mut safety);
        Run { cohort, final_data, records, safety }
    }

    /// The log-rank z and events of the trial at calendar time `c`, built without the seam.
    fn logrank_at(sc: &Scenario, cohort: &Cohort, c: Time) -> (f64, f64) {
        let mut obs = crate::cohort::Observed::default();
        let mut table = crate::stats::RiskTable::default();
        cohort.observe(sc.primary(), c, &[Some(0), Some(1)], &mut obs);
        obs.table(&mut table);
        (logrank(&table).z, obs.events().iter().sum::<usize>() as f64)
    }

    fn monitored(looks: &str, rest: &str) -> Scenario {
        valid(&format!(
            "{BASE}[monitoring]\nlooks = {looks}\n[monitoring.efficacy]\nspending = \"obrien_fleming\"\n{rest}"
        ))
    }

    /// `run` reads the timeline its trial's `final_analysis` arranged: monitoring a trial
    /// without one (here, the previous trial's scratch reused) is a programming error, refused.
    #[test]
    #[should_panic(expected = "final_analysis readies the scratch")]
    fn a_trial_is_monitored_only_after_its_final_analysis() {
        let sc = monitored("[{ fraction = 0.5 }]", "");
        let monitor = Monitor::new(&sc).expect("monitored");
        let group_of = [Some(0), Some(1)];
        let monitored = Monitored { scenario: &sc, monitor: &monitor, group_of: &group_of };
        let (mut analyser, mut ws, mut cohort) = (Analyser::default(), Scratch::default(), Cohort::default());
        let (mut records, mut safety) = (Vec::new(), SafetyRecord::default());
        let views = Views::default().with(View::RiskTable);
        cohort.generate(&sc, 5, 0);
        let cut = cohort.cut(&sc).calendar;
        let data = monitored.final_analysis(&cohort, cut, views, &mut analyser, &mut ws).clone();
        monitored.run(&mut cohort, &data, &mut ws, &mut records, &mut safety);
        cohort.generate(&sc, 5, 1);
        monitored.run(&mut cohort, &data, &mut ws, &mut records, &mut safety);
    }

    /// A monitored trial whose analysis reads only the risk table gets its final table from the
    /// trial's timeline: the final analysis is the one `Analyser::build` gives, bit for bit, at
    /// a calendar final cut and at an events-driven one (a cut at an event time), with dropout,
    /// whether the design searches its looks (FH information looks) or not (event-count looks).
    /// With another view asked for, the final analysis is built and only a searching design
    /// arranges the timeline in full.
    #[test]
    fn the_final_analysis_from_the_timeline_is_the_built_one() {
        let fh = BASE
            .replace(r#"tests = ["logrank", "rmst"]"#, r#"tests = ["fh(0,1)"]"#)
            .replace("[arms.cyc.causes]", "[arms.cyc]\ndropout = 0.1\n[arms.cyc.causes]")
            .replace("[arms.hsct.causes]", "[arms.hsct]\ndropout = 0.1\n[arms.hsct.causes]");
        let looks = "horizons = [1, 2]\n[monitoring]\nlooks = [{ fraction = 0.3 }, { fraction = 0.6 }]\n";
        let calendar = fh.replace("horizons = [1, 2]\n", looks);
        let events = calendar.replace("calendar = 5", "events = 40");
        let event_looks =
            events.replace("{ fraction = 0.3 }, { fraction = 0.6 }", "{ events = 12 }, { events = 25 }");
        let group_of = [Some(0), Some(1)];
        let views = Views::default().with(View::RiskTable);
        let mut compared = 0;
        for (text, searches) in [(&calendar, true), (&events, true), (&event_looks, false)] {
            let sc = valid(text);
            let monitor = Monitor::new(&sc).expect("monitored");
            assert_eq!(monitor.searches_looks, searches);
            let monitored = Monitored { scenario: &sc, monitor: &monitor, group_of: &group_of };
            let (mut via_timeline, mut built, mut ws) =
                (Analyser::default(), Analyser::default(), Scratch::default());
            let mut cohort = Cohort::default();
            for r in 0..40 {
                cohort.generate(&sc, 5, r);
                let cut = cohort.cut(&sc).calendar;
                let a = monitored.final_analysis(&cohort, cut, views, &mut via_timeline, &mut ws);
                assert_eq!(ws.arranged, Arranged::Full, "replicate {r}: the timeline was arranged");
                let b =
                    built.build(Trial { cohort: &cohort, scenario: &sc, group_of: &group_of }, cut, views);
                let (x, y) = (a.risk_table(), b.risk_table());
                assert_eq!(
                    (&x.time, &x.at_risk, &x.events, x.size, x.last_time, a.events_by_cause(), a.cut()),
                    (&y.time, &y.at_risk, &y.events, y.size, y.last_time, b.events_by_cause(), b.cut()),
                    "replicate {r}"
                );
                compared += 1;
            }
        }
        assert_eq!(compared, 120);
        let sc = valid(&event_looks);
        let monitor = Monitor::new(&sc).expect("monitored");
        let monitored = Monitored { scenario: &sc, monitor: &monitor, group_of: &group_of };
        let (mut analyser, mut ws, mut cohort) = (Analyser::default(), Scratch::default(), Cohort::default());
        cohort.generate(&sc, 5, 0);
        let cut = cohort.cut(&sc).calendar;
        let both = views.with(View::Patients);
        let data = monitored.final_analysis(&cohort, cut, both, &mut analyser, &mut ws);
        assert!(data.built().patients && !ws.in_full && ws.arranged == Arranged::Nothing);
    }

    /// FH(0, 1) information looks: each taken look is at one of the trial's event times, where
    /// the observed null variance has reached its target and at the event before has not; the
    /// recorded z and fraction are the analysis there.
    /// The first guess's weights split the final FH variance among the events seen by the final
    /// cut: accumulated in calendar order they end at the final V (every row's term is found
    /// and divided among its events), whatever the exponents; and the guess for a share lies
    /// where the weights accumulated before it fall short of that share.
    #[test]
    fn the_guess_weighs_the_events_by_their_terms_of_the_final_variance() {
        let sc = valid(&BASE.replace(r#"tests = ["logrank", "rmst"]"#, r#"tests = ["fh(0,1)"]"#));
        let group_of = [Some(0), Some(1)];
        let (mut analyser, mut timeline) = (Analyser::default(), Timeline::default());
        let (mut terms, mut by_event, mut weighted) = (Vec::new(), Vec::new(), Vec::new());
        let mut checked = 0;
        for replicate in 0..30 {
            let mut cohort = Cohort::default();
            cohort.generate(&sc, 5, replicate);
            let cut = cohort.cut(&sc).calendar;
            let trial = Trial { cohort: &cohort, scenario: &sc, group_of: &group_of };
            let table =
                analyser.build(trial, cut, Views::default().with(View::RiskTable)).risk_table().clone();
            timeline.arrange(&cohort, sc.primary(), &group_of, cut);
            for (rho, gamma) in [(0.0, 1.0), (1.0, 0.0), (0.5, 2.0)] {
                fh_variance_terms(&table, rho, gamma, &mut terms);
                weigh_events(&timeline, &table, &terms, &mut by_event, &mut weighted);
                let v = fleming_harrington(&table, rho, gamma).v;
                assert_eq!(weighted.len(), timeline.event_calendar().len());
                let total = *weighted.last().expect("events");
                assert!((total - v).abs() <= 1e-12 * v, "replicate {replicate}: {total} against {v}");
                for share in [0.2, 0.5, 0.9] {
                    let g = guess_by_weight(&weighted, weighted.len(), share);
                    assert!(weighted[g] >= share * total && (g == 0 || weighted[g - 1] < share * total));
                }
                checked += 1;
            }
        }
        assert_eq!(checked, 90);
    }

    #[test]
    fn a_null_variance_look_is_the_first_event_time_reaching_its_target() {
        let sc = valid(&BASE.replace(r#"tests = ["logrank", "rmst"]"#, r#"tests = ["fh(0,1)"]"#).replace(
            "horizons = [1, 2]\n",
            "horizons = [1, 2]\n[monitoring]\nlooks = [{ fraction = 0.3 }, { fraction = 0.6 }]\n",
        ));
        let monitor = Monitor::new(&sc).expect("monitored");
        let mt = &monitor.tests[0];
        let fh_at = |cohort: &Cohort, c: Time| {
            let mut analyser = Analyser::default();
            let trial = Trial { cohort, scenario: &sc, group_of: &[Some(0), Some(1)] };
            mt.kind.at_look(analyser.build(trial, c, Views::default().with(View::RiskTable)))
        };
        let mut taken = 0;
        for replicate in 0..12 {
            let run = monitor_one(&sc, replicate);
            let r = &run.records[0];
            let times = event_times_of(&run.cohort, sc.primary());
            for (k, f) in [0.3, 0.6].into_iter().enumerate() {
                if r.skipped[k] || r.time[k].is_nan() {
                    continue;
                }
                taken += 1;
                let target = f * mt.i_max;
                let at = times.iter().position(|&t| t == r.time[k]).expect("an event time");
                let (z, v) = fh_at(&run.cohort, r.time[k]);
                assert!(v >= target && (z, v / mt.i_max) == (r.z[k], r.fraction[k]), "replicate {replicate}");
                if at > 0 {
                    assert!(fh_at(&run.cohort, times[at - 1]).1 < target, "replicate {replicate} look {k}");
                }
            }
        }
        assert!(taken > 12, "{taken} looks taken");
    }

    /// A look before any event adds no information and is skipped; the next is taken at its
    /// calendar time with the statistic of the data there; the final analysis is the fixed one.
    #[test]
    fn a_look_without_information_is_skipped_and_the_next_taken() {
        let sc = monitored("[{ calendar = 0.01 }, { calendar = 3 }]", "");
        let run = monitor_one(&sc, 0);
        let r = &run.records[0];
        assert_eq!(r.skipped, [true, false]);
        assert!(r.z[0].is_nan() && r.time[0].is_nan());
        assert_eq!(r.time[1], 3.0);
        let (z, events) = logrank_at(&sc, &run.cohort, 3.0);
        assert_eq!((r.z[1], r.events[1]), (z, events));
        assert_eq!(r.fraction[1], events / sc_i_max(&sc));
        // This trial goes on to the final analysis, whose statistic is the fixed analysis's.
        assert_eq!(r.ending, Some(Ending::Final), "z = {:?}", r.z);
        let (z, events) = logrank_at(&sc, &run.cohort, run.final_data.cut());
        assert_eq!((r.look, r.z[2], r.events[2]), (2, z, events));
        assert_eq!(r.stop_time, run.final_data.cut());
        assert!(run.safety.time.is_empty() && run.safety.stopped.is_none());
    }

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

    fn sc_i_max(sc: &Scenario) -> f64 {
        Monitor::new(sc).expect("monitored").tests[0].i_max
    }

    /// A strong benefit stops for efficacy at the first interim: the record ends there, later
    /// looks are not taken, and the trial's enrolment and events are those at the stop.
    #[test]
    fn an_efficacy_stop_ends_the_record_at_its_look() {
        let strong = BASE
            .replace("n = 100", "n = 600")
            .replace("risk = 0.1, within = 0.25", "risk = 0.0001, within = 0.25")
            .replace("hr = [0.6, 0.2]", "hr = [0.2, 0.1]");
        let text = format!(
            "{strong}[monitoring]\nlooks = [{{ calendar = 3 }}, {{ calendar = 4 }}]\n[monitoring.efficacy]\nspending = \"obrien_fleming\"\n"
        );
        let sc = valid(&text);
        let run = monitor_one(&sc, 0);
        let r = &run.records[0];
        assert_eq!(r.ending, Some(Ending::Stopped(Stop::Efficacy)), "z = {:?}", r.z);
        assert!(r.rejected && !r.became_final);
        assert_eq!((r.look, r.stop_time, r.reason_code()), (0, 3.0, 1.0));
        assert!(r.z[1].is_nan() && r.z[2].is_nan());
        assert_eq!(r.stop_events, r.events[0]);
        assert_eq!(r.enrolled, run.cohort.entry.iter().filter(|&&e| e <= 3.0).count() as f64);
    }

    /// The safety rule stops the trial at its first review when one transplant death suffices:
    /// no interim after the stop is taken, and the record ends by the safety rule.
    #[test]
    fn a_safety_stop_ends_every_monitored_test() {
        let rule = "[monitoring.safety]\ncause = \"treatment_death\"\narm = \"hsct\"\nwindow = 0.25\nafter = [10]\nstop_if_at_least = [1]";
        let sc = monitored("[{ calendar = 4 }]", rule);
        let run = monitor_one(&sc, 0);
        let stop = run.safety.stopped.map(|k| run.safety.time[k]).expect("one death in 10 stops the trial");
        assert!(stop < 4.0, "the review comes before the interim: {stop}");
        let r = &run.records[0];
        assert_eq!((r.ending, r.look, r.reason_code()), (Some(Ending::Safety), 1, 4.0));
        assert!(!r.skipped[0] && r.z[0].is_nan(), "a look after the stop never happens");
        assert_eq!(r.stop_time, stop);
        let (_, events) = logrank_at(&sc, &run.cohort, stop);
        assert_eq!(r.stop_events, events);
    }
}
