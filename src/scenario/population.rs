//! The population a trial enrols: one or more strata, each a share of the patients with the
//! arms' model in it (docs/strata.md). An unstratified scenario is one stratum whose arms are
//! the arms as written; `[strata.NAME]` tables split it into named parts, each overriding any
//! arm's causes, dropout or illness–death table.
//!
//! Everything that reads the model goes through [`Scenario::stratum_arms`]: the cohort draws a
//! patient's latent times from their stratum's arms, and `truth` mixes the strata's curves by
//! share (`truth::mixture`). `Scenario::arms` keeps what is common to all strata (names,
//! labels, allocation) and, unstratified, the model itself.

use super::{Arm, Scenario};

pub use crate::stats::MAX_STRATA;

/// `[strata.NAME]`: one part of the population.
#[derive(Debug, Clone)]
pub struct Stratum {
    /// An identifier, as in `[strata.NAME]`.
    pub name: String,
    pub label: String,
    /// The share of patients from this stratum, in [0, 1] (shares sum to 1); with fixed
    /// counts, count / n. A stratum of share 0 is absent: it enrols nobody.
    pub share: f64,
    /// A fixed number of patients (`count`) instead of drawing each patient's stratum by share.
    pub count: Option<usize>,
    /// Every arm as in this stratum, indexed like `Scenario::arms`: the arm as written with the
    /// stratum's overrides.
    pub arms: Vec<Arm>,
}

/// How patients are allocated to arms (`design.randomisation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Randomisation {
    /// Permuted blocks over all patients in entry order (`"blocks"`).
    #[default]
    Blocks,
    /// Permuted blocks within each stratum, each stratum's patients in entry order
    /// (`"stratified_blocks"`).
    StratifiedBlocks,
}

impl Randomisation {
    pub fn name(self) -> &'static str {
        match self {
            Randomisation::Blocks => "blocks",
            Randomisation::StratifiedBlocks => "stratified_blocks",
        }
    }
}

impl Scenario {
    /// Whether the scenario has `[strata]` tables.
    pub fn is_stratified(&self) -> bool {
        !self.strata.is_empty()
    }

    /// The number of strata of the population: 1 when unstratified.
    pub fn stratum_count(&self) -> usize {
        self.strata.len().max(1)
    }

    /// The arms as stratum `s` has them (indexed like `Scenario::arms`); unstratified, the arms
    /// as written.
    pub fn stratum_arms(&self, s: usize) -> &[Arm] {
        match self.strata.get(s) {
            Some(stratum) => &stratum.arms,
            None => &self.arms,
        }
    }

    /// The share of patients from stratum `s` (1 unstratified).
    pub fn stratum_share(&self, s: usize) -> f64 {
        self.strata.get(s).map_or(1.0, |st| st.share)
    }

    /// The strata with patients, as (index, share, arms): the parts the truth mixes.
    pub fn population(&self) -> impl Iterator<Item = (usize, f64, &[Arm])> + '_ {
        (0..self.stratum_count())
            .map(|s| (s, self.stratum_share(s), self.stratum_arms(s)))
            .filter(|&(_, share, _)| share > 0.0)
    }
}
