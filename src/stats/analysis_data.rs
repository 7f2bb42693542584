//! The data of one trial at one cut, as the statistics read it: the seam between a simulated
//! (or real) trial and every test, estimate and interim look.
//!
//! A statistic declares the [`View`] it needs (`TestKind::view`); whoever holds the trial builds
//! those views once per cut (`cohort::Analyser` for a simulated trial) and every statistic at that
//! cut reads them from here. Views nobody asked for are not built: the per-patient view costs a
//! pass over every patient and endpoint, and today's tests need only the risk table.

use super::RiskTable;
use super::win::WinStats;
use crate::time::Time;

/// A way of looking at one trial's data at a cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The two-group risk table of the analysed endpoint (with its events by group and cause).
    RiskTable,
    /// Each analysed patient's time and status on every endpoint (and stratum, when the scenario
    /// has strata): what a statistic over several endpoints (a win ratio) or strata needs.
    Patients,
    /// One two-group risk table of the analysed endpoint per stratum: what the stratified tests
    /// read (a scenario without strata has one, the whole trial's).
    StrataTables,
    /// Every composite endpoint's pairwise comparison of the two groups (`win(NAME)`): each
    /// composite's win statistics, computed once per cut.
    Composites,
}

/// Which views to build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Views {
    pub risk_table: bool,
    pub patients: bool,
    pub strata: bool,
    pub composites: bool,
}

impl Views {
    pub fn with(mut self, view: View) -> Views {
        match view {
            View::RiskTable => self.risk_table = true,
            View::Patients => self.patients = true,
            View::StrataTables => self.strata = true,
            View::Composites => self.composites = true,
        }
        self
    }
}

/// The patients analysed at a cut (entered by it, in an arm that receives patients), in entry
/// order: per patient its arm, analysis group, entry time and (time, event) on every endpoint.
#[derive(Debug, Clone, Default)]
pub struct Patients {
    /// Endpoints per patient (the row length of `outcomes`).
    pub endpoints: usize,
    pub arm: Vec<usize>,
    /// 0 control (or the single arm), 1 experimental; `None` for an allocated arm outside the
    /// comparison.
    pub group: Vec<Option<u8>>,
    pub entry: Vec<Time>,
    /// (time from randomisation, event at the cut), `patient * endpoints + endpoint`.
    pub outcomes: Vec<(Time, bool)>,
    /// Each patient's stratum; empty while the scenario has no strata (one stratum).
    pub stratum: Vec<u32>,
}

impl Patients {
    pub fn len(&self) -> usize {
        self.arm.len()
    }

    pub fn is_empty(&self) -> bool {
        self.arm.is_empty()
    }

    /// Patient i's (time, event) on every endpoint.
    pub(crate) fn outcomes_of(&self, i: usize) -> &[(Time, bool)] {
        &self.outcomes[i * self.endpoints..(i + 1) * self.endpoints]
    }

    pub fn clear(&mut self, endpoints: usize) {
        self.endpoints = endpoints;
        self.arm.clear();
        self.group.clear();
        self.entry.clear();
        self.outcomes.clear();
        self.stratum.clear();
    }
}

/// One trial's views at one cut. Buffers are kept across trials (the hot loop allocates nothing
/// per replicate); [`AnalysisData::begin`] forgets the previous cut's views.
#[derive(Debug, Clone, Default)]
pub struct AnalysisData {
    cut: Time,
    built: Views,
    table: RiskTable,
    /// Events by group and cause, `group * causes + cause`.
    events_by_cause: Vec<u32>,
    patients: Patients,
    /// Per stratum, the two-group risk table (the first `strata_built` are this cut's).
    strata: Vec<RiskTable>,
    strata_built: usize,
    /// Per composite endpoint, its win statistics at this cut.
    wins: Vec<WinStats>,
}

impl AnalysisData {
    /// Starts the data of a new cut: no view is built yet.
    pub(crate) fn begin(&mut self, cut: Time) {
        self.cut = cut;
        self.built = Views::default();
    }

    /// The risk table and events-by-cause buffers, to be filled; marks the view built.
    pub(crate) fn fill_risk_table(&mut self) -> (&mut RiskTable, &mut Vec<u32>) {
        self.built.risk_table = true;
        (&mut self.table, &mut self.events_by_cause)
    }

    /// The per-patient buffer, to be filled; marks the view built.
    pub(crate) fn fill_patients(&mut self) -> &mut Patients {
        self.built.patients = true;
        &mut self.patients
    }

    /// `count` per-stratum risk tables, to be filled; marks the view built.
    pub(crate) fn fill_strata(&mut self, count: usize) -> &mut [RiskTable] {
        self.built.strata = true;
        if self.strata.len() < count {
            self.strata.resize_with(count, RiskTable::default);
        }
        self.strata_built = count;
        &mut self.strata[..count]
    }

    /// [`AnalysisData::fill_risk_table`] and [`AnalysisData::fill_strata`] at once (filled
    /// together).
    pub(crate) fn fill_risk_table_and_strata(
        &mut self,
        count: usize,
    ) -> (&mut RiskTable, &mut Vec<u32>, &mut [RiskTable]) {
        self.fill_strata(count);
        self.built.risk_table = true;
        (&mut self.table, &mut self.events_by_cause, &mut self.strata[..count])
    }

    /// `count` composites' win statistics, to be filled; marks the view built.
    pub(crate) fn fill_wins(&mut self, count: usize) -> &mut [WinStats] {
        self.built.composites = true;
        self.wins.resize_with(count, WinStats::default);
        &mut self.wins[..count]
    }

    /// The win statistics of composite `c` (index into `Scenario::composites`).
    ///
    /// # Panics
    /// When the view was not built for this cut (see [`AnalysisData::risk_table`]).
    pub(crate) fn win_stats(&self, c: usize) -> &WinStats {
        assert!(self.built.composites, "the composites' win statistics were not built for this cut");
        &self.wins[c]
    }

    /// The calendar time of the cut.
    pub fn cut(&self) -> Time {
        self.cut
    }

    pub fn built(&self) -> Views {
        self.built
    }

    /// The two-group risk table of the analysed endpoint.
    ///
    /// # Panics
    /// When the view was not built for this cut: a statistic read a view its kind does not
    /// declare (a programming error, found by any test of that statistic).
    pub(crate) fn risk_table(&self) -> &RiskTable {
        assert!(self.built.risk_table, "the risk table view was not built for this cut");
        &self.table
    }

    /// Events by group and cause (`group * causes + cause`) of the analysed endpoint.
    pub(crate) fn events_by_cause(&self) -> &[u32] {
        assert!(self.built.risk_table, "the risk table view was not built for this cut");
        &self.events_by_cause
    }

    /// Events of the analysed endpoint at the cut, both groups.
    pub fn events(&self) -> u32 {
        self.risk_table().events.iter().map(|d| d[0] + d[1]).sum()
    }

    /// The two-group risk table of the analysed endpoint in each stratum.
    ///
    /// # Panics
    /// When the view was not built for this cut (see [`AnalysisData::risk_table`]).
    pub(crate) fn strata_tables(&self) -> &[RiskTable] {
        assert!(self.built.strata, "the per-stratum risk tables were not built for this cut");
        &self.strata[..self.strata_built]
    }

    /// The analysed patients on every endpoint.
    ///
    /// # Panics
    /// When the view was not built for this cut (see [`AnalysisData::risk_table`]).
    pub fn patients(&self) -> &Patients {
        assert!(self.built.patients, "the per-patient view was not built for this cut");
        &self.patients
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_cut_forgets_the_views_of_the_last() {
        let mut d = AnalysisData::default();
        d.begin(2.0);
        d.fill_risk_table();
        assert!(d.built().risk_table && !d.built().patients);
        assert_eq!(d.events(), 0);
        d.begin(3.0);
        assert_eq!(d.cut(), 3.0);
        assert_eq!(d.built(), Views::default());
        assert!(
            std::panic::catch_unwind(|| d.risk_table().events.len()).is_err(),
            "a view not built is refused"
        );
    }

    #[test]
    fn views_accumulate() {
        let v = Views::default().with(View::RiskTable).with(View::Patients);
        assert!(v.risk_table && v.patients);
    }
}
