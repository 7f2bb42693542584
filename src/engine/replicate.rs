//! One replicate: its cohort generated, cut, analysed at the cut and, with `[monitoring]`,
//! monitored, into the worker's reused buffers.

use super::BAND_REPLICATES;
use crate::analyser::{Analyser, Trial};
use crate::analysis::{AnalyseOptions, Layout, Row, Scratch, analyse};
use crate::cohort::Cohort;
use crate::monitoring::Monitored;
use crate::scenario::Scenario;

/// Per-worker buffers.
#[derive(Debug, Default)]
pub struct Workspace {
    pub cohort: Cohort,
    /// The trial's data at its final cut.
    pub analyser: Analyser,
    pub row: Row,
    pub scratch: Scratch,
    /// See [`AnalyseOptions::exact_p`].
    pub exact_p: bool,
    pub monitoring: crate::monitoring::Scratch,
}

/// Simulates and analyses replicate `r` into `ws.row`.
pub fn replicate(sc: &Scenario, layout: &Layout, seed: u64, r: u64, ws: &mut Workspace) {
    ws.cohort.generate(sc, seed, r);
    let cut = ws.cohort.cut(sc);
    let monitored =
        layout.monitor.as_ref().map(|m| Monitored { scenario: sc, monitor: m, group_of: &layout.group_of });
    let data = match &monitored {
        Some(m) => {
            m.final_analysis(&ws.cohort, cut.calendar, layout.views, &mut ws.analyser, &mut ws.monitoring)
        }
        None => {
            let trial = Trial { cohort: &ws.cohort, scenario: sc, group_of: &layout.group_of };
            ws.analyser.build(trial, cut.calendar, layout.views)
        }
    };
    let opts = AnalyseOptions { band: r < BAND_REPLICATES, exact_p: ws.exact_p };
    analyse(sc, layout, data, &mut ws.scratch, &mut ws.row, opts);
    ws.row.cut = cut.calendar;
    ws.row.target_reached = cut.target_reached;
    if let Some(trial) = monitored {
        let row = &mut ws.row;
        trial.run(&mut ws.cohort, data, &mut ws.monitoring, &mut row.monitoring, &mut row.safety);
        row.columns.extend(layout.monitor_columns().iter().map(|c| c.value(&row.monitoring)));
    }
}
