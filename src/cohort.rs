//! One simulated trial's patients: entry (accrual), arm (the [`Randomiser`]), latent cause times,
//! dropout; and the data cut that turns them into analysable (time, event) records.
//!
//! Pinned design (docs/design.md § Design):
//! - time 0 is the start of accrual; uniform accrual gives iid U(0, D) entry times, generated in
//!   increasing order as uniform order statistics from normalised exponential spacings
//!   (U₍ᵢ₎ = Sᵢ/Sₙ₊₁, Sᵢ = E₁ + … + Eᵢ; Devroye 1986, §V.3.1), so no sort is needed and
//!   patient i is the i-th to enter; piecewise accrual is a Poisson process with the given rates;
//! - allocation by permuted blocks in entry order;
//! - latent time of cause k: T = H_k⁻¹(E), E ~ Exp(1) (zero hazard: never);
//! - dropout: exponential from randomisation;
//! - the cut is a calendar time C; patients entering after C are not analysed; a patient's time is
//!   min(event, dropout, C − entry), and the event counts when it is at or before both.

use rand::RngExt;
use rand_distr::{Exp1, StandardNormal};

use crate::stats::RiskTable;
pub use crate::stats::risk_table::Obs;

use crate::accrual::inverse_accrual;
use crate::hazard::Hazard;
use crate::randomiser::Randomiser;
use crate::rng::{Purpose, StreamKey};
use crate::scenario::{Accrual, Cut, CutRule, Endpoint, Scenario};
use crate::time::Time;

mod timeline;
pub use timeline::{CutScratch, Timeline};

/// The generated patients of one replicate, in entry order. Buffers are reused across
/// replicates: generating allocates nothing once they have grown to size.
#[derive(Debug, Default, Clone)]
pub struct Cohort {
    pub entry: Vec<Time>,
    /// Index into `Scenario::arms`.
    pub arm: Vec<u16>,
    /// Index into `Scenario::strata` (0 without strata).
    pub stratum: Vec<u16>,
    /// Time from randomisation to loss to follow-up (+∞ without dropout).
    pub dropout: Vec<Time>,
    /// Latent time of each cause, cause-major: `latent[k * n + i]`.
    pub latent: Vec<Time>,
    /// The Exp(1) draws behind `latent`, cause-major like it.
    draws: Vec<f64>,
    /// Each continuous outcome's value at each assessment, were the patient measured:
    /// `outcome[(o * assessments + a) * n + i]` (empty without outcomes).
    pub outcome: Vec<f64>,
    /// One stream per outcome, reused across trials.
    outcome_rngs: Vec<crate::rng::StreamRng>,
    /// Each (stratum, arm)'s patients, in entry order, at `stratum * arms + arm`.
    of_group: Vec<Vec<u32>>,
    /// Stream keys already derived, by (seed, purpose): opening a replicate's streams then costs
    /// one mixing step per lane.
    keys: Vec<StreamKey>,
    randomiser: Randomiser,
    scratch: Vec<f64>,
}

/// Where one replicate was cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CutPoint {
    /// Calendar time of the analysis.
    pub calendar: Time,
    /// False when an event-count cut was asked for and the K-th event never happened (the cut
    /// is then when the last patient leaves follow-up).
    pub target_reached: bool,
}

/// The latent time of a cause whose hazard is multiplied by `factor` from the trigger time `s` on
/// (docs/design.md § Model): with the same Exp(1) draw e, the time is unchanged when H(t) = e is
/// reached by s (t ≤ s); otherwise it solves H(s) + factor·(H(T) − H(s)) = e, so
/// T = H⁻¹(H(s) + (e − H(s))/factor) (never, for factor 0).
pub(crate) fn after_trigger(h: &Hazard, e: f64, t: Time, s: Time, factor: f64) -> Time {
    if t <= s {
        return t;
    }
    if factor == 0.0 {
        return f64::INFINITY;
    }
    let hs = h.cumulative(s);
    h.inverse_cumulative(hs + (e - hs) / factor)
}

/// A patient's analysed (time, event) from the endpoint's latent time `t`, the dropout time and
/// the entry, at calendar cut `cut`. The event counts when it is finite, happens before dropout
/// and at or before the cut *on the calendar scale* (entry + t ≤ cut): the same expression that
/// placed an event-count cut, so the K-th event is never lost to rounding in cut − entry.
/// Otherwise the time is censored at dropout or at the cut, whichever is first. Non-short-circuit
/// `&`, no branch: whether a patient had an event is a coin toss for the branch predictor.
#[inline(always)]
fn outcome(t: Time, dropout: Time, entry: Time, cut: Time) -> (Time, bool) {
    let event = (t < f64::INFINITY) & (t <= dropout) & (entry + t <= cut);
    (if event { t } else { dropout.min(cut - entry) }, event)
}

impl Cohort {
    pub fn n(&self) -> usize {
        self.entry.len()
    }

    /// Latent time of cause k for patient i.
    pub fn latent(&self, k: usize, i: usize) -> Time {
        self.latent[k * self.n() + i]
    }

    /// Generates replicate `replicate` of the scenario's trial into this buffer.
    pub fn generate(&mut self, sc: &Scenario, seed: u64, replicate: u64) {
        let n = sc.design.n;
        self.entries(&sc.design.accrual, n, seed, replicate);
        self.allocate(sc, seed, replicate);
        // Each (stratum, arm)'s patients, in entry order: a group's hazards are applied in one
        // loop.
        let arms = sc.arms.len();
        self.of_group.resize_with(sc.stratum_count() * arms, Vec::new);
        for list in &mut self.of_group {
            list.clear();
        }
        for (i, (&a, &s)) in self.arm.iter().zip(&self.stratum).enumerate() {
            self.of_group[s as usize * arms + a as usize].push(i as u32);
        }
        let groups = || {
            (0..sc.stratum_count()).flat_map(move |s| {
                sc.stratum_arms(s).iter().enumerate().map(move |(a, arm)| (s * arms + a, arm))
            })
        };

        self.dropout.clear();
        self.dropout.resize(n, f64::INFINITY);
        // Each purpose has its own stream, so skipping this one when nobody drops out shifts no
        // other draw; otherwise every patient draws, so the stream stays aligned whatever the
        // arms' rates.
        if groups().any(|(_, a)| a.dropout != 0.0) {
            let rng = self.stream(seed, replicate, Purpose::Dropout);
            self.scratch.clear();
            self.scratch.resize(n, 0.0);
            for (x, e) in self.scratch.iter_mut().zip(rng.sample_iter::<f64, _>(Exp1)) {
                *x = e;
            }
            for (g, arm) in groups() {
                if arm.dropout > 0.0 {
                    for &i in &self.of_group[g] {
                        self.dropout[i as usize] = self.scratch[i as usize] / arm.dropout;
                    }
                }
            }
        }

        let causes = sc.causes.len();
        self.latent.clear();
        self.latent.resize(n * causes, f64::INFINITY);
        self.draws.clear();
        self.draws.resize(n * causes, 0.0);
        for (k, cause) in sc.causes.iter().enumerate() {
            let rng = self.stream(seed, replicate, Purpose::cause(cause));
            let draws = &mut self.draws[k * n..(k + 1) * n];
            for (d, e) in draws.iter_mut().zip(rng.sample_iter::<f64, _>(Exp1)) {
                *d = e;
            }
            let latent = &mut self.latent[k * n..(k + 1) * n];
            for (g, arm) in groups() {
                if let Some(h) = &arm.causes[k] {
                    h.inverse_cumulative_of(draws, &self.of_group[g], latent);
                }
            }
        }
        self.outcomes(sc, seed, replicate);
        if groups().any(|(_, a)| a.after.is_some()) {
            // A second pass, once every trigger's time is known (a cause may be a trigger in one
            // arm and modified in another). A trigger's own time is never shifted: it cannot
            // modify itself, and an arm has one trigger.
            for i in 0..n {
                let arm = &sc.stratum_arms(self.stratum[i] as usize)[self.arm[i] as usize];
                let Some(after) = &arm.after else { continue };
                let s = self.latent[after.trigger * n + i];
                for (k, h) in arm.causes.iter().enumerate() {
                    if let Some(h) = h
                        && after.factor[k] != 1.0
                    {
                        let t = self.latent[k * n + i];
                        self.latent[k * n + i] =
                            after_trigger(h, self.draws[k * n + i], t, s, after.factor[k]);
                    }
                }
            }
        }
    }

    /// Each patient's continuous outcomes (`scenario::outcomes`): per outcome, its own stream
    /// gives patient i its standard normals i-th (one per assessment); they are correlated by the
    /// Cholesky factors of R (between outcomes) and C (between assessments), Z = L_R W L_Cᵀ, and
    /// scaled by the patient's (stratum, arm) mean and SD. Nothing else reads these streams, so
    /// outcomes change no event time.
    fn outcomes(&mut self, sc: &Scenario, seed: u64, replicate: u64) {
        self.outcome.clear();
        let Some(a) = &sc.assessments else { return };
        let (n, k, m) = (self.n(), sc.outcomes.len(), a.at.len());
        let (lr, lc) = (&a.chol_outcomes, &a.chol_times);
        // One open stream per outcome, read patient by patient: no buffer of every draw.
        let mut rngs = std::mem::take(&mut self.outcome_rngs);
        rngs.clear();
        for outcome in &sc.outcomes {
            rngs.push(self.stream(seed, replicate, Purpose::outcome(&outcome.name)));
        }
        self.outcome.resize(n * k * m, 0.0);
        // At most 16 outcomes × 16 assessments (validation).
        let (mut w, mut wc) = ([0.0; 16], [0.0; 256]);
        for i in 0..n {
            let arm = &sc.stratum_arms(self.stratum[i] as usize)[self.arm[i] as usize];
            // W L_Cᵀ: each outcome's m draws (patient i's come i-th in its stream) correlated
            // over assessments.
            for (o, rng) in rngs.iter_mut().enumerate() {
                for x in &mut w[..m] {
                    *x = rng.sample(StandardNormal);
                }
                for b in 0..m {
                    wc[o * m + b] = (0..=b).map(|c| lc[b * m + c] * w[c]).sum();
                }
            }
            // L_R (W L_Cᵀ): and over outcomes.
            for o in 0..k {
                let model = &arm.outcomes[o];
                for b in 0..m {
                    let z: f64 = (0..=o).map(|p| lr[o * k + p] * wc[p * m + b]).sum();
                    self.outcome[(o * m + b) * n + i] = model.mean[b] + model.sd[b] * z;
                }
            }
        }
        self.outcome_rngs = rngs;
    }

    /// Whether patient i is measured at assessment `a` (time `at` from randomisation) by
    /// calendar time `cut`: entered at least `at` before the cut, not lost to follow-up before
    /// it, and free of every cause of `not_measured_after` up to it.
    pub(crate) fn measured(&self, sc: &Scenario, i: usize, at: Time, cut: Time) -> bool {
        let Some(a) = &sc.assessments else { return false };
        self.entry[i] + at <= cut
            && self.dropout[i] >= at
            && a.not_measured_after.iter().all(|&k| self.latent(k, i) > at)
    }

    /// The stream of (seed, replicate, purpose), as `rng::stream` opens it.
    fn stream(&mut self, seed: u64, replicate: u64, purpose: Purpose) -> crate::rng::StreamRng {
        let key = match self.keys.iter().find(|k| k.is(seed, purpose)) {
            Some(k) => *k,
            None => {
                let k = StreamKey::new(seed, purpose);
                // A handful of purposes per seed; a cohort reused across many seeds starts over.
                if self.keys.len() >= 64 {
                    self.keys.clear();
                }
                self.keys.push(k);
                k
            }
        };
        key.stream(replicate)
    }

    fn entries(&mut self, accrual: &Accrual, n: usize, seed: u64, replicate: u64) {
        let mut rng = self.stream(seed, replicate, Purpose::Entry);
        self.entry.clear();
        self.entry.resize(n, 0.0);
        let mut s = 0.0;
        for x in &mut self.entry {
            let e: f64 = rng.sample(Exp1);
            s += e;
            *x = s;
        }
        match accrual {
            Accrual::Uniform { duration } => {
                let e: f64 = rng.sample(Exp1);
                let scale = duration / (s + e);
                for x in &mut self.entry {
                    *x *= scale;
                }
            }
            Accrual::Piecewise { breaks, rates } => {
                // Arrival i of a Poisson process with intensity rate(t) is Λ⁻¹(Sᵢ).
                for x in &mut self.entry {
                    *x = inverse_accrual(breaks, rates, *x);
                }
            }
        }
    }

    fn allocate(&mut self, sc: &Scenario, seed: u64, replicate: u64) {
        let strata = sc.is_stratified().then(|| self.stream(seed, replicate, Purpose::Stratum));
        self.randomiser.strata(sc, strata, &mut self.stratum);
        let mut rng = self.stream(seed, replicate, Purpose::Allocation);
        self.randomiser.allocate(sc, &self.stratum, &mut rng, &mut self.arm);
    }

    /// Time from randomisation to the first cause of `ep` for patient i, and that cause.
    pub(crate) fn endpoint_time(&self, ep: &Endpoint, i: usize) -> (Time, u16) {
        let mut best = (f64::INFINITY, ep.causes.first().copied().unwrap_or(0) as u16);
        for &k in &ep.causes {
            let t = self.latent(k, i);
            // Which cause comes first is a coin toss for the branch predictor.
            best = std::hint::select_unpredictable(t < best.0, (t, k as u16), best);
        }
        best
    }

    /// The calendar time of the analysis for this replicate (docs/design.md § Design).
    pub fn cut(&mut self, sc: &Scenario) -> CutPoint {
        self.cut_by(sc, &sc.design.cut)
    }

    /// The calendar time of a cut by `rule` (an interim look's, or the design's).
    pub(crate) fn cut_by(&mut self, sc: &Scenario, rule: &Cut) -> CutPoint {
        let ep = sc.primary();
        let mut times: [Option<Time>; 3] = [rule.calendar, None, None];
        let mut target_reached = true;
        if let Some(m) = rule.min_followup {
            let last = self.entry.last().copied().unwrap_or(0.0);
            times[1] = Some(last + m);
        }
        if let Some(k) = rule.events {
            // Calendar times of observable events (finite, before dropout), then the K-th
            // smallest. A latent time of +∞ (a bounded hazard) is never an event, even with no
            // dropout (∞ ≤ ∞).
            self.scratch.clear();
            let mut leave = f64::NEG_INFINITY;
            for i in 0..self.n() {
                let (t, _) = self.endpoint_time(ep, i);
                let d = self.dropout[i];
                if t.is_finite() && t <= d {
                    self.scratch.push(self.entry[i] + t);
                }
                let out = self.entry[i] + t.min(d);
                if out.is_finite() {
                    leave = leave.max(out);
                }
            }
            times[2] = if self.scratch.len() >= k {
                let (_, kth, _) = self.scratch.select_nth_unstable_by(k - 1, |a, b| a.total_cmp(b));
                Some(*kth)
            } else {
                target_reached = false;
                // Never K events: the cut is when the last patient leaves follow-up; if nobody
                // ever leaves (no hazard, no dropout), at the last entry.
                Some(if leave.is_finite() { leave } else { self.entry.last().copied().unwrap_or(0.0) })
            };
        }
        let given = times.iter().flatten().copied();
        let calendar = match rule.rule {
            CutRule::First => given.fold(f64::INFINITY, f64::min),
            CutRule::Last => given.fold(f64::NEG_INFINITY, f64::max),
        };
        CutPoint { calendar, target_reached }
    }

    /// Patient i's (time, event, cause) for endpoint `ep` at calendar cut `cut` (entry ≤ cut), by
    /// the rule of [`outcome`].
    pub fn status(&self, ep: &Endpoint, i: usize, cut: Time) -> (Time, bool, u16) {
        let (t, cause) = self.endpoint_time(ep, i);
        let (time, event) = outcome(t, self.dropout[i], self.entry[i], cut);
        (time, event, cause)
    }

    /// The analysable records of endpoint `ep` at calendar cut `cut`, for the patients of the
    /// arms that `group_of` maps to a group (0 control, 1 experimental), into `out`.
    pub fn observe(&self, ep: &Endpoint, cut: Time, group_of: &[Option<u8>], out: &mut Observed) {
        self.observe_into::<false>(ep, cut, group_of, out);
    }

    /// [`Cohort::observe`], each record tagged with its patient's stratum, for
    /// [`Observed::tables_by_stratum`].
    pub fn observe_by_stratum(&self, ep: &Endpoint, cut: Time, group_of: &[Option<u8>], out: &mut Observed) {
        self.observe_into::<true>(ep, cut, group_of, out);
    }

    /// The records into `out` (with `TAGGED`, each with its patient's stratum).
    #[inline(always)]
    fn observe_into<const TAGGED: bool>(
        &self,
        ep: &Endpoint,
        cut: Time,
        group_of: &[Option<u8>],
        out: &mut Observed,
    ) {
        let n = self.n();
        let column = |k: usize| &self.latent[k * n..(k + 1) * n];
        // The endpoint's time and cause of patient i: the first of its causes (the earlier-listed
        // cause on a tie). One or two causes are read straight from the latent times; more are
        // gathered first, cause by cause (in the output's scratch).
        match ep.causes[..] {
            [k] => {
                let a = column(k);
                self.classify::<TAGGED>(cut, group_of, out, |i| (a[i], k as u16));
            }
            [j, k] => {
                let (a, b) = (column(j), column(k));
                self.classify::<TAGGED>(cut, group_of, out, |i| {
                    if b[i] < a[i] { (b[i], k as u16) } else { (a[i], j as u16) }
                });
            }
            _ => {
                let mut time = std::mem::take(&mut out.time);
                let mut cause = std::mem::take(&mut out.cause);
                let first = ep.causes.first().copied().unwrap_or(0);
                time.clear();
                time.resize(n, f64::INFINITY);
                cause.clear();
                cause.resize(n, first as u16);
                for &k in &ep.causes {
                    for ((t, c), &x) in time.iter_mut().zip(cause.iter_mut()).zip(column(k)) {
                        let earlier = x < *t;
                        *c = if earlier { k as u16 } else { *c };
                        *t = if earlier { x } else { *t };
                    }
                }
                self.classify::<TAGGED>(cut, group_of, out, |i| (time[i], cause[i]));
                out.time = time;
                out.cause = cause;
            }
        }
    }

    /// Sorts the patients entered by the cut into the runs of `out` (with `TAGGED`, each
    /// record's stratum beside it), given each one's endpoint time and cause.
    #[inline(always)]
    fn classify<const TAGGED: bool>(
        &self,
        cut: Time,
        group_of: &[Option<u8>],
        out: &mut Observed,
        endpoint: impl Fn(usize) -> (Time, u16),
    ) {
        let n = self.n();
        let causes = self.latent.len().checked_div(n).unwrap_or(0);
        out.events_by_cause.clear();
        out.events_by_cause.resize(2 * causes, 0);
        out.capacity = n;
        out.keys.resize(RUNS * n, 0);
        if TAGGED {
            out.tags.resize(RUNS * n, 0);
        }
        out.len = [0; RUNS];
        for i in 0..n {
            let entry = self.entry[i];
            if entry > cut {
                break; // entry order: everyone after also entered after the cut
            }
            let Some(group) = group_of[self.arm[i] as usize] else {
                continue;
            };
            let (t, cause) = endpoint(i);
            let dropout = self.dropout[i];
            let (time, event) = outcome(t, dropout, entry, cut);
            let lost = !event & (dropout < cut - entry);
            let run = 2 * (usize::from(!event) + usize::from(!event & !lost)) + usize::from(group);
            // Times are ≥ 0, where the IEEE bit pattern orders like the value (+0.0 turns −0.0
            // into +0.0): integer keys sort faster than floats.
            let key = (time + 0.0).to_bits();
            let by_cause = usize::from(group) * causes + usize::from(cause);
            let at = run * n + out.len[run];
            out.keys[at] = key;
            if TAGGED {
                out.tags[at] = self.stratum[i];
            }
            out.len[run] += 1;
            out.events_by_cause[by_cause] += u32::from(event);
        }
    }
}

/// The runs of [`Observed`]: events, losses to follow-up before the cut, censorings by the cut;
/// each for group 0 and 1 (run `2 * kind + group`).
const RUNS: usize = 6;

/// One replicate's analysable records for one endpoint, as the risk table needs them: per group,
/// the times of events, of losses to follow-up and of censorings by the cut. The last come in
/// decreasing order for free (cut − entry, patients in entry order), so only events and losses
/// are sorted: at an analysis most patients are usually still in follow-up.
#[derive(Debug, Default, Clone)]
pub struct Observed {
    /// Run r's time keys (`f64::to_bits`) are `keys[r * capacity..][..len[r]]`.
    keys: Vec<u64>,
    len: [usize; RUNS],
    capacity: usize,
    /// Events by group and cause, `group * causes + cause`.
    pub events_by_cause: Vec<u32>,
    /// Observed by stratum: each record's stratum, in the keys' layout.
    tags: Vec<u16>,
    /// The endpoint's time and cause per patient (scratch).
    time: Vec<Time>,
    cause: Vec<u16>,
    /// Sorting a tagged run: (key, stratum) packed as `key << 16 | stratum` (scratch).
    packed: Vec<u128>,
}

impl Observed {
    fn run(&self, r: usize) -> &[u64] {
        &self.keys[r * self.capacity..][..self.len[r]]
    }

    /// Events per group.
    pub fn events(&self) -> [usize; 2] {
        [self.len[0], self.len[1]]
    }

    /// Every record's time, run by run.
    pub fn times(&self) -> impl Iterator<Item = Time> + '_ {
        (0..RUNS).flat_map(|r| self.run(r).iter().map(|&k| f64::from_bits(k)))
    }

    /// Analysable patients per group.
    pub fn patients(&self) -> [usize; 2] {
        [self.len[0] + self.len[2] + self.len[4], self.len[1] + self.len[3] + self.len[5]]
    }

    /// The risk table of these records (sorts the event and loss runs).
    pub fn table(&mut self, table: &mut RiskTable) {
        for r in 0..4 {
            let (cap, len) = (self.capacity, self.len[r]);
            self.keys[r * cap..r * cap + len].sort_unstable();
        }
        self.table_of_sorted(table);
    }

    /// The risk table of records whose runs are already in order.
    fn table_of_sorted(&self, table: &mut RiskTable) {
        table.build_sorted(
            [self.run(0), self.run(1)],
            [self.run(2), self.run(3)],
            [self.run(4), self.run(5)],
        );
    }

    /// For records from [`Cohort::observe_by_stratum`]: the whole trial's risk table (the one
    /// [`Observed::table`] gives) into `whole`, and each stratum's (the one of its own patients'
    /// records) into `strata`, in one walk. The event and loss runs are sorted with their tags.
    pub fn tables_by_stratum(&mut self, whole: &mut RiskTable, strata: &mut [RiskTable]) {
        let n = self.capacity;
        for r in 0..4 {
            let len = self.len[r];
            let (keys, tags) = (&mut self.keys[r * n..][..len], &mut self.tags[r * n..][..len]);
            self.packed.clear();
            self.packed
                .extend(keys.iter().zip(tags.iter()).map(|(&k, &s)| (u128::from(k) << 16) | u128::from(s)));
            self.packed.sort_unstable();
            for ((k, s), &p) in keys.iter_mut().zip(tags.iter_mut()).zip(&self.packed) {
                *k = (p >> 16) as u64;
                *s = p as u16;
            }
        }
        let tag = |r: usize| &self.tags[r * n..][..self.len[r]];
        whole.build_sorted_by_stratum(
            [[self.run(0), self.run(1)], [self.run(2), self.run(3)], [self.run(4), self.run(5)]],
            [[tag(0), tag(1)], [tag(2), tag(3)], [tag(4), tag(5)]],
            strata,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use std::path::Path;

    fn scenario(extra_cut: &str, accrual: &str) -> Scenario {
        let text = format!(
            r#"
name = "t"
[design]
n = 40
control = "c"
allocation = {{ c = 1, e = 2 }}
block_size = 6
accrual = {accrual}
[design.cut]
{extra_cut}
[arms.c.causes]
death = {{ exponential = 0.2 }}
[arms.e.causes]
death = {{ exponential = 0.1 }}
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
"#
        );
        Scenario::from_toml(&text, Path::new("t.toml")).expect("valid test scenario")
    }

    /// Observed by stratum, the whole trial's table equals the one observed directly, bit for bit,
    /// and each stratum's table is the one of its own patients' outcomes (`Cohort::status`,
    /// patient by patient): rows, sizes and last times, whatever the endpoint (one, two or three
    /// causes), with a stratum absent at early cuts.
    #[test]
    fn tables_by_stratum_are_the_observed_ones() {
        let text = std::fs::read_to_string("scenarios/hsct_ssc.toml").unwrap()
            + "\n[strata.a]\nshare = 0.2\narms.hsct.causes.treatment_death = { early_risk = { risk = 0.3, within = 0.25 } }\n[strata.b]\nshare = 0.5\n[strata.c]\nshare = 0.3\narms.cyc.dropout = 0.2\n";
        let sc = Scenario::from_toml(&text, Path::new("s.toml")).expect("valid");
        let mut c = Cohort::default();
        let (mut direct, mut tagged) = (Observed::default(), Observed::default());
        let (mut a, mut b) = (RiskTable::default(), RiskTable::default());
        let mut strata = vec![RiskTable::default(); 3];
        let group_of = [Some(0), Some(1)];
        let (mut rows, mut absent) = (0, 0);
        for r in 0..50 {
            c.generate(&sc, 4, r);
            for ep in &sc.endpoints {
                for cut in [0.05, 1.0, 6.0, 30.0] {
                    c.observe(ep, cut, &group_of, &mut direct);
                    direct.table(&mut a);
                    c.observe_by_stratum(ep, cut, &group_of, &mut tagged);
                    tagged.tables_by_stratum(&mut b, &mut strata);
                    assert_eq!(a, b, "replicate {r}, cut {cut}: the whole table");
                    assert_eq!(direct.events_by_cause, tagged.events_by_cause);
                    for (s, table) in strata.iter().enumerate() {
                        let mine: Vec<usize> =
                            (0..c.n()).filter(|&i| c.stratum[i] == s as u16 && c.entry[i] <= cut).collect();
                        let status: Vec<_> = mine.iter().map(|&i| c.status(ep, i, cut)).collect();
                        let expected = RiskTable::from_data(
                            &status.iter().map(|o| o.0).collect::<Vec<_>>(),
                            &status.iter().map(|o| o.1).collect::<Vec<_>>(),
                            &mine.iter().map(|&i| c.arm[i] as u8).collect::<Vec<_>>(),
                        );
                        assert_eq!(&expected, table, "replicate {r}, cut {cut}, stratum {s}");
                        rows += table.len();
                        absent += usize::from(table.size == [0, 0]);
                    }
                }
            }
        }
        assert!(rows > 5_000, "the strata's tables have rows to compare ({rows})");
        assert!(absent > 0, "some cut has a stratum with no one entered");
    }

    #[test]
    fn blocks_are_balanced_and_entries_ordered() {
        let sc = scenario("calendar = 5", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 1, 0);
        assert_eq!(c.n(), 40);
        assert!(c.entry.windows(2).all(|w| w[0] <= w[1]));
        assert!(c.entry.iter().all(|&e| (0.0..2.0).contains(&e)));
        for block in c.arm.chunks(6).filter(|b| b.len() == 6) {
            assert_eq!(block.iter().filter(|&&a| a == 1).count(), 4, "{block:?}");
        }
    }

    /// A cohort keeps the stream keys it derived: reused across seeds and replicates it must
    /// draw exactly what a fresh one draws.
    #[test]
    fn a_reused_cohort_draws_what_a_fresh_one_draws() {
        let sc = scenario("calendar = 5", "{ duration = 2 }");
        let mut reused = Cohort::default();
        for (seed, r) in [(1, 0), (2, 0), (1, 7), (3, 2), (2, 0)] {
            reused.generate(&sc, seed, r);
            let mut fresh = Cohort::default();
            fresh.generate(&sc, seed, r);
            assert_eq!(
                (&reused.entry, &reused.arm, &reused.latent),
                (&fresh.entry, &fresh.arm, &fresh.latent)
            );
        }
    }

    #[test]
    fn adding_patients_keeps_the_first_patients_draws() {
        let sc = scenario("calendar = 5", "{ breaks = [1], rates = [10, 30] }");
        let mut bigger = sc.clone();
        bigger.design.n = 60;
        let (mut a, mut b) = (Cohort::default(), Cohort::default());
        a.generate(&sc, 3, 9);
        b.generate(&bigger, 3, 9);
        assert_eq!(&b.entry[..40], &a.entry[..]);
        assert_eq!(&b.arm[..36], &a.arm[..36]); // whole blocks
        assert_eq!(&b.dropout[..40], &a.dropout[..]);
        assert_eq!(b.latent(0, 17), a.latent(0, 17));
    }

    #[test]
    fn event_cut_includes_the_kth_event() {
        let sc = scenario("events = 10", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 5, 2);
        let cut = c.cut(&sc);
        assert!(cut.target_reached);
        let mut obs = Observed::default();
        c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
        assert_eq!(obs.events().iter().sum::<usize>(), 10);
    }

    #[test]
    fn an_event_count_cut_keeps_exactly_k_events() {
        // Rounding in cut − entry once censored the K-th event in about 1 replicate in 6.
        let sc = scenario("events = 25", "{ duration = 2 }");
        let mut c = Cohort::default();
        let mut obs = Observed::default();
        for r in 0..500 {
            c.generate(&sc, 11, r);
            let cut = c.cut(&sc);
            assert!(cut.target_reached);
            c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
            assert_eq!(obs.events().iter().sum::<usize>(), 25, "replicate {r}");
        }
    }

    /// A bounded hazard and no dropout: most patients never have an event (latent time +∞).
    /// Fewer than K events are possible, so the cut is where the last patient leaves follow-up;
    /// only finite times are events (issue: +∞ once counted as an event at the cut +∞).
    #[test]
    fn an_unreachable_event_count_never_counts_events_at_infinity() {
        let text = r#"
name = "t"
[design]
n = 150
control = "c"
allocation = { c = 1, e = 1 }
block_size = 2
accrual = { duration = 2 }
[design.cut]
events = 100
[arms.c.causes]
death = { piecewise = { breaks = [2], rates = [0.3, 0] } }
[arms.e.causes]
death = { relative = { to = "c", hr = 0.7 } }
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = ["logrank"]
"#;
        let sc = Scenario::from_toml(text, Path::new("t.toml")).expect("valid");
        let mut c = Cohort::default();
        let mut obs = Observed::default();
        for r in 0..50 {
            c.generate(&sc, 3, r);
            let cut = c.cut(&sc);
            let possible = (0..c.n()).filter(|&i| c.endpoint_time(sc.primary(), i).0.is_finite()).count();
            assert!(possible < 100, "replicate {r}: {possible} finite events");
            assert!(!cut.target_reached, "replicate {r}");
            assert!(cut.calendar.is_finite(), "replicate {r}: cut {}", cut.calendar);
            c.observe(sc.primary(), cut.calendar, &[Some(0), Some(1)], &mut obs);
            assert!(obs.times().all(f64::is_finite), "replicate {r}: an infinite time");
            assert_eq!(obs.events().iter().sum::<usize>(), possible, "replicate {r}");
        }
    }

    /// The split table (runs sorted apart, censorings by the cut merged in entry order) is the
    /// table of all records sorted together, with losses to follow-up, a calendar cut and an
    /// event-count cut, two arms and one.
    #[test]
    fn the_split_table_is_the_table_of_all_records() {
        let with_dropout = |cut: &str, allocation: &str| {
            let text = format!(
                r#"
name = "t"
[design]
n = 120
control = "c"
allocation = {allocation}
block_size = 4
accrual = {{ duration = 3 }}
[design.cut]
{cut}
[arms.c]
dropout = 0.3
[arms.c.causes]
death = {{ exponential = 0.4 }}
[arms.e]
dropout = 0.2
[arms.e.causes]
death = {{ piecewise = {{ breaks = [1], rates = [0.6, 0.1] }} }}
other = {{ early_risk = {{ risk = 0.1, within = 0.5 }} }}
[endpoints]
os = ["death", "other"]
[analysis]
endpoint = "os"
tests = []
"#
            );
            Scenario::from_toml(&text, Path::new("t.toml")).expect("valid test scenario")
        };
        let cases = [
            (with_dropout("calendar = 4", "{ c = 1, e = 1 }"), vec![Some(0), Some(1)]),
            (with_dropout("events = 40", "{ c = 1, e = 1 }"), vec![Some(0), Some(1)]),
            (with_dropout("calendar = 2.5", "{ c = 1, e = 1 }"), vec![None, Some(0)]),
        ];
        let (mut c, mut observed, mut split) = (Cohort::default(), Observed::default(), RiskTable::default());
        let mut all = RiskTable::default();
        for (sc, group_of) in &cases {
            for r in 0..200 {
                c.generate(sc, 9, r);
                let cut = c.cut(sc).calendar;
                c.observe(sc.primary(), cut, group_of, &mut observed);
                observed.table(&mut split);
                let mut records: Vec<Obs> = (0..c.n())
                    .filter(|&i| c.entry[i] <= cut)
                    .filter_map(|i| {
                        let group = group_of[c.arm[i] as usize]?;
                        let (time, event, cause) = c.status(sc.primary(), i, cut);
                        Some(Obs { time, event, group, cause })
                    })
                    .collect();
                all.build(&mut records);
                assert_eq!(split.time, all.time, "replicate {r}");
                assert_eq!(split.at_risk, all.at_risk, "replicate {r}");
                assert_eq!(split.events, all.events, "replicate {r}");
                assert_eq!(split.size, all.size, "replicate {r}");
                assert_eq!(split.last_time, all.last_time, "replicate {r}");
                let by_cause = |g: u8, k: u16| {
                    records.iter().filter(|o| o.event && o.group == g && o.cause == k).count() as u32
                };
                let causes = sc.causes.len();
                for g in 0..2u8 {
                    for k in 0..causes as u16 {
                        assert_eq!(
                            observed.events_by_cause[usize::from(g) * causes + usize::from(k)],
                            by_cause(g, k)
                        );
                    }
                }
                assert!(observed.patients().iter().sum::<usize>() == records.len());
            }
        }
    }

    #[test]
    fn first_and_last_rules() {
        let sc = scenario("calendar = 3\nmin_followup = 0.5", "{ duration = 2 }");
        let mut c = Cohort::default();
        c.generate(&sc, 1, 1);
        let last = *c.entry.last().unwrap();
        assert_eq!(c.cut(&sc).calendar, (last + 0.5).min(3.0));
        let mut sc2 = sc.clone();
        sc2.design.cut.rule = CutRule::Last;
        assert_eq!(c.cut(&sc2).calendar, 3.0);
    }

    /// Checks that the fraction of `patients` (all of `arm`) without a primary event by t is within
    /// 4 binomial SE of the true S(t); returns S(t) and that SE.
    fn survival_within_4_se(c: &Cohort, sc: &Scenario, arm: usize, patients: &[usize], t: f64) -> (f64, f64) {
        let ep = sc.primary();
        let truth = crate::truth::survival(&sc.arms[arm], ep, t);
        let n = patients.len() as f64;
        let alive = patients.iter().filter(|&&i| c.endpoint_time(ep, i).0 > t).count() as f64 / n;
        let se = (truth * (1.0 - truth) / n).sqrt();
        assert!((alive - truth).abs() < 4.0 * se, "t = {t}: {alive} vs {truth} (SE {se})");
        (truth, se)
    }

    #[test]
    fn illness_death_deaths_follow_the_true_survival() {
        let text = r#"
name = "id"
[design]
n = 20000
allocation = { e = 1 }
accrual = { duration = 1 }
[design.cut]
calendar = 100
[arms.e.causes]
death = { exponential = 0.1 }
progression = { weibull = { shape = 1.5, scale = 3 } }
[arms.e.after.progression]
death = 3.0
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = []
"#;
        let sc = Scenario::from_toml(text, Path::new("id.toml")).expect("valid");
        let mut c = Cohort::default();
        c.generate(&sc, 7, 0);
        let everyone: Vec<usize> = (0..c.n()).collect();
        for t in [1.0, 3.0, 6.0] {
            let (truth, se) = survival_within_4_se(&c, &sc, 0, &everyone, t);
            // Without the transition the survival would be exp(−0.1 t): clearly different once
            // progression is common.
            if t > 2.0 {
                assert!(((-0.1 * t).exp() - truth).abs() > 8.0 * se, "t = {t}");
            }
        }
    }

    #[test]
    fn a_cause_can_trigger_in_one_arm_and_be_modified_in_another() {
        // `death` (cause 0) triggers in arm a; in arm b it is modified by `prog` (cause 1). Arm b's
        // survival must follow the illness–death truth whatever the order causes are drawn in.
        let text = r#"
name = "cross"
[design]
n = 20000
control = "a"
allocation = { a = 1, b = 1 }
accrual = { duration = 1 }
[design.cut]
calendar = 100
[arms.a.causes]
death = { exponential = 0.1 }
prog = { exponential = 0.3 }
[arms.a.after.death]
prog = 2.0
[arms.b.causes]
death = { exponential = 0.1 }
prog = { exponential = 0.3 }
[arms.b.after.prog]
death = 4.0
[endpoints]
os = ["death"]
[analysis]
endpoint = "os"
tests = []
"#;
        let sc = Scenario::from_toml(text, Path::new("cross.toml")).expect("valid");
        let mut c = Cohort::default();
        c.generate(&sc, 3, 0);
        let b: Vec<usize> = (0..c.n()).filter(|&i| c.arm[i] == 1).collect();
        for t in [2.0, 5.0] {
            survival_within_4_se(&c, &sc, 1, &b, t);
        }
    }
}
