//! The risk table: one row per distinct event time t_j with the number at risk n_gj (time ≥ t_j)
//! and the number of events d_gj in each group g. Censored observations at t_j are at risk at
//! t_j (events precede censorings at a tie, as in R `survival`).

use crate::time::Time;

/// The most strata a scenario may have: each stratum keeps its own risk table per trial and cut
/// (built in one walk with fixed per-stratum counters), and reports a row per stratum; no trial
/// design has more.
pub const MAX_STRATA: usize = 64;

/// One analysed patient for one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Obs {
    pub time: Time,
    pub event: bool,
    /// 0 = control, 1 = experimental (a single-arm study has only group 0).
    pub group: u8,
    /// The cause of the event (index into `Scenario::causes`); meaningless when censored.
    pub cause: u16,
}

#[derive(Debug, Default, Clone, PartialEq)]
pub struct RiskTable {
    /// Distinct event times, increasing.
    pub time: Vec<Time>,
    /// At risk just before each time, per group.
    pub at_risk: Vec<[u32; 2]>,
    /// Events at each time, per group.
    pub events: Vec<[u32; 2]>,
    /// Patients per group.
    pub size: [u32; 2],
    /// The last observed time (event or censoring) per group; −∞ for an empty group.
    pub last_time: [Time; 2],
}

impl RiskTable {
    /// Sorts `obs` by time and rebuilds the table from it (buffers reused).
    pub fn build(&mut self, obs: &mut [Obs]) {
        // Times are ≥ 0, where the IEEE bit pattern orders like the value: an integer key sorts
        // faster than a float comparison (adding +0.0 turns −0.0 into +0.0).
        debug_assert!(obs.iter().all(|o| o.time >= 0.0));
        obs.sort_unstable_by_key(|o| (o.time + 0.0).to_bits());
        self.time.clear();
        self.at_risk.clear();
        self.events.clear();
        self.size = [0, 0];
        self.last_time = [f64::NEG_INFINITY; 2];
        for o in obs.iter() {
            let g = o.group as usize;
            self.size[g] += 1;
            self.last_time[g] = self.last_time[g].max(o.time);
        }
        let mut at_risk = self.size;
        let mut i = 0;
        while i < obs.len() {
            let t = obs[i].time;
            let mut d = [0u32; 2];
            let mut left = [0u32; 2];
            while i < obs.len() && obs[i].time == t {
                let g = obs[i].group as usize;
                left[g] += 1;
                d[g] += u32::from(obs[i].event);
                i += 1;
            }
            if d[0] + d[1] > 0 {
                self.time.push(t);
                self.at_risk.push(at_risk);
                self.events.push(d);
            }
            at_risk[0] -= left[0];
            at_risk[1] -= left[1];
        }
    }

    /// Rebuilds the table from each group's event times, increasing; times of censoring,
    /// increasing; and times of censoring, decreasing; all as `f64::to_bits` keys of times ≥ 0
    /// (which order like the times). The same table as [`RiskTable::build`] on the same
    /// records, without sorting them together: a censored record only leaves the risk set.
    pub(crate) fn build_sorted(
        &mut self,
        events: [&[u64]; 2],
        censored: [&[u64]; 2],
        descending: [&[u64]; 2],
    ) {
        self.walk([events, censored, descending], &mut Unsplit);
    }

    /// [`RiskTable::build_sorted`], and in the same walk each stratum's table into `strata`:
    /// `tags` are the records' strata, in the runs' layout (`[events, censored, descending]`,
    /// each per group). A stratum's table is the one of its own records.
    pub(crate) fn build_sorted_by_stratum(
        &mut self,
        runs: [[&[u64]; 2]; 3],
        tags: [[&[u16]; 2]; 3],
        strata: &mut [RiskTable],
    ) {
        let mut split = ByStratum::new(runs, tags, strata);
        self.walk(runs, &mut split);
    }

    /// The walk over the event times of the runs `[events, censored, descending]` (see
    /// [`RiskTable::build_sorted`]), telling `split` which records leave the risk set before each
    /// time and which are its events.
    #[inline(always)]
    fn walk(&mut self, [events, censored, censored_descending]: [[&[u64]; 2]; 3], split: &mut impl Split) {
        debug_assert!(events.iter().chain(&censored).all(|r| r.is_sorted()));
        debug_assert!(censored_descending.iter().all(|r| r.is_sorted_by(|a, b| a >= b)));
        let time = f64::from_bits;
        self.time.clear();
        self.at_risk.clear();
        self.events.clear();
        for g in 0..2 {
            self.size[g] = (events[g].len() + censored[g].len() + censored_descending[g].len()) as u32;
            let last = [events[g].last(), censored[g].last(), censored_descending[g].first()];
            self.last_time[g] =
                last.into_iter().flatten().map(|&k| time(k)).fold(f64::NEG_INFINITY, f64::max);
        }
        // Per group: events, censorings (increasing) counted so far, and censorings (decreasing)
        // not yet counted.
        let mut e = [0usize; 2];
        let mut c = [0usize; 2];
        let mut c_desc = censored_descending.map(<[u64]>::len);
        loop {
            let head = |g: usize| events[g].get(e[g]).copied().unwrap_or(u64::MAX);
            let t = head(0).min(head(1));
            if t == u64::MAX {
                break;
            }
            let mut at_risk = [0u32; 2];
            let mut d = [0u32; 2];
            for g in 0..2 {
                // Censored before t: out of the risk set at t (censored at t are still in it).
                while c[g] < censored[g].len() && censored[g][c[g]] < t {
                    split.leave(CENSORED, g, c[g]);
                    c[g] += 1;
                }
                while c_desc[g] > 0 && censored_descending[g][c_desc[g] - 1] < t {
                    c_desc[g] -= 1;
                    split.leave(DESCENDING, g, c_desc[g]);
                }
                let gone = e[g] + c[g] + (censored_descending[g].len() - c_desc[g]);
                at_risk[g] = self.size[g] - gone as u32;
                while e[g] < events[g].len() && events[g][e[g]] == t {
                    split.event(g, e[g]);
                    d[g] += 1;
                    e[g] += 1;
                }
            }
            self.time.push(time(t));
            self.at_risk.push(at_risk);
            self.events.push(d);
            split.row(time(t));
        }
    }

    /// Builds a table from parallel slices (for tests and reference data).
    pub fn from_data(time: &[f64], event: &[bool], group: &[u8]) -> RiskTable {
        let mut obs: Vec<Obs> = (0..time.len())
            .map(|i| Obs { time: time[i], event: event[i], group: group[i], cause: 0 })
            .collect();
        let mut t = RiskTable::default();
        t.build(&mut obs);
        t
    }

    pub fn len(&self) -> usize {
        self.time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time.is_empty()
    }
}

/// Which run a record is in: `[events, censored, descending]`.
const EVENTS: usize = 0;
const CENSORED: usize = 1;
const DESCENDING: usize = 2;

/// What [`RiskTable::walk`] reports beyond the whole table: a record that leaves the risk set
/// before the current time (run, group, index), an event at it, and the end of its row.
trait Split {
    fn leave(&mut self, run: usize, g: usize, i: usize);
    fn event(&mut self, g: usize, i: usize);
    fn row(&mut self, t: Time);
}

/// The whole table alone: nothing to split.
struct Unsplit;

impl Split for Unsplit {
    #[inline(always)]
    fn leave(&mut self, _: usize, _: usize, _: usize) {}
    #[inline(always)]
    fn event(&mut self, _: usize, _: usize) {}
    #[inline(always)]
    fn row(&mut self, _: Time) {}
}

/// Each stratum's table, built alongside the whole one: per stratum, the records gone before the
/// current time and the events at it; a stratum's row is written at the times it has events.
struct ByStratum<'a> {
    tags: [[&'a [u16]; 2]; 3],
    tables: &'a mut [RiskTable],
    gone: [[u32; 2]; MAX_STRATA],
    d: [[u32; 2]; MAX_STRATA],
    /// The strata with events at the current time (each once).
    touched: [u16; MAX_STRATA],
    n_touched: usize,
}

impl<'a> ByStratum<'a> {
    /// Empties each stratum's table and sets its sizes and last times from the tagged runs: a
    /// vectorised count per stratum, cheaper than one scalar pass for the few strata a design
    /// has (at the limit of 64, 64 passes over two-byte tags, a fraction of the walk itself).
    fn new(runs: [[&[u64]; 2]; 3], tags: [[&'a [u16]; 2]; 3], tables: &'a mut [RiskTable]) -> Self {
        assert!(tables.len() <= MAX_STRATA, "at most MAX_STRATA strata");
        debug_assert!(
            tags.iter().flatten().flat_map(|r| r.iter()).all(|&s| usize::from(s) < tables.len()),
            "every record's stratum has a table"
        );
        for (s, table) in tables.iter_mut().enumerate() {
            let s = s as u16;
            table.time.clear();
            table.at_risk.clear();
            table.events.clear();
            for g in 0..2 {
                let of = |run: usize| tags[run][g].iter().filter(|&&x| x == s).count();
                table.size[g] = (of(EVENTS) + of(CENSORED) + of(DESCENDING)) as u32;
                // A run's last in time: the last of its increasing runs, the first of the other.
                let last_of = |run: usize, from_end: bool| {
                    let mine = |&(_, &x): &(usize, &u16)| x == s;
                    let at = if from_end {
                        tags[run][g].iter().enumerate().rfind(mine)
                    } else {
                        tags[run][g].iter().enumerate().find(mine)
                    };
                    at.map_or(f64::NEG_INFINITY, |(i, _)| f64::from_bits(runs[run][g][i]))
                };
                table.last_time[g] =
                    [last_of(EVENTS, true), last_of(CENSORED, true), last_of(DESCENDING, false)]
                        .into_iter()
                        .fold(f64::NEG_INFINITY, f64::max);
            }
        }
        ByStratum {
            tags,
            tables,
            gone: [[0; 2]; MAX_STRATA],
            d: [[0; 2]; MAX_STRATA],
            touched: [0; MAX_STRATA],
            n_touched: 0,
        }
    }
}

impl Split for ByStratum<'_> {
    #[inline(always)]
    fn leave(&mut self, run: usize, g: usize, i: usize) {
        self.gone[usize::from(self.tags[run][g][i])][g] += 1;
    }

    #[inline(always)]
    fn event(&mut self, g: usize, i: usize) {
        let s = usize::from(self.tags[EVENTS][g][i]);
        if self.d[s] == [0, 0] {
            self.touched[self.n_touched] = s as u16;
            self.n_touched += 1;
        }
        self.d[s][g] += 1;
    }

    #[inline(always)]
    fn row(&mut self, t: Time) {
        for &s in &self.touched[..self.n_touched] {
            let s = usize::from(s);
            let table = &mut self.tables[s];
            let (gone, d) = (self.gone[s], self.d[s]);
            table.time.push(t);
            table.at_risk.push([table.size[0] - gone[0], table.size[1] - gone[1]]);
            table.events.push(d);
            self.gone[s] = [gone[0] + d[0], gone[1] + d[1]];
            self.d[s] = [0, 0];
        }
        self.n_touched = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each stratum's table from the one walk equals the table of its own records, and the whole
    /// table equals `build_sorted`'s, on records with integer times drawn from a few values: ties
    /// between events across strata and groups, events and censorings at the same time, times
    /// 0, strata without records or events or with one group only, censorings after the last
    /// event, and up to 64 strata.
    #[test]
    fn strata_tables_from_one_walk_are_each_stratums_own() {
        let mut x: u64 = 12345;
        let mut next = |m: u64| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let (mut cases, mut rows) = (0, 0);
        for strata in [1usize, 2, 3, 5, 64] {
            for _ in 0..200 {
                let n = next(60) as usize;
                // (time, kind: 0 event, 1 loss, 2 censored by the cut, group, stratum); a stratum
                // index past `used` is never drawn, so some strata have no records.
                let used = 1 + next(strata as u64);
                let recs: Vec<(f64, usize, usize, u16)> = (0..n)
                    .map(|_| {
                        let g = if next(7) == 0 { 0 } else { next(2) as usize };
                        (next(8) as f64, next(3) as usize, g, next(used) as u16)
                    })
                    .collect();
                // The runs as `Observed` gives them: events and losses increasing, censorings by
                // the cut decreasing, each with its records' strata.
                let mut runs: [[Vec<(u64, u16)>; 2]; 3] = Default::default();
                for &(t, kind, g, s) in &recs {
                    runs[kind][g].push((t.to_bits(), s));
                }
                for (kind, per_group) in runs.iter_mut().enumerate() {
                    for run in per_group.iter_mut() {
                        run.sort_unstable();
                        if kind == 2 {
                            run.reverse();
                        }
                    }
                }
                let keys =
                    runs.each_ref().map(|r| r.each_ref().map(|v| v.iter().map(|p| p.0).collect::<Vec<_>>()));
                let tags =
                    runs.each_ref().map(|r| r.each_ref().map(|v| v.iter().map(|p| p.1).collect::<Vec<_>>()));
                let key_refs = keys.each_ref().map(|r| r.each_ref().map(|v| &v[..]));
                let tag_refs = tags.each_ref().map(|r| r.each_ref().map(|v| &v[..]));
                let mut tables = vec![RiskTable::default(); strata];
                let (mut whole, mut alone) = (RiskTable::default(), RiskTable::default());
                whole.build_sorted_by_stratum(key_refs, tag_refs, &mut tables);
                alone.build_sorted(key_refs[0], key_refs[1], key_refs[2]);
                assert_eq!(whole, alone, "the whole table, {strata} strata");
                for (s, table) in tables.iter().enumerate() {
                    let mine: Vec<_> = recs.iter().filter(|r| usize::from(r.3) == s).collect();
                    let expected = RiskTable::from_data(
                        &mine.iter().map(|r| r.0).collect::<Vec<_>>(),
                        &mine.iter().map(|r| r.1 == 0).collect::<Vec<_>>(),
                        &mine.iter().map(|r| r.2 as u8).collect::<Vec<_>>(),
                    );
                    assert_eq!(&expected, table, "stratum {s} of {strata}: {recs:?}");
                    rows += table.len();
                }
                cases += 1;
            }
        }
        assert_eq!(cases, 1000);
        assert!(rows > 2_000, "the strata's tables have rows to compare ({rows})");
    }

    #[test]
    fn censored_at_an_event_time_are_at_risk() {
        // Group 0: 1 (event), 2 (event), 2 (censored), 3 (censored). Group 1: 2 (event).
        let t = RiskTable::from_data(
            &[2.0, 1.0, 2.0, 3.0, 2.0],
            &[true, true, false, false, true],
            &[0, 0, 0, 0, 1],
        );
        assert_eq!(t.time, vec![1.0, 2.0]);
        assert_eq!(t.at_risk, vec![[4, 1], [3, 1]]);
        assert_eq!(t.events, vec![[1, 0], [1, 1]]);
        assert_eq!(t.last_time, [3.0, 2.0]);
    }

    #[test]
    fn no_events_no_rows() {
        let t = RiskTable::from_data(&[1.0, 2.0], &[false, false], &[0, 1]);
        assert!(t.is_empty());
        assert_eq!(t.size, [1, 1]);
    }
}
