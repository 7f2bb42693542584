//! The scenario file as written: serde structs that mirror the TOML one to one, reject unknown
//! keys, and keep the span of every value that validation checks later. Nothing here is trusted;
//! `validate` turns it into a `Scenario`.
//!
//! Enums are externally tagged (`{ exponential = 0.1 }`), never `tag`/`untagged`/`flatten`,
//! which would lose the spans (toml-rs/toml#535).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub name: S<String>,
    pub title: Option<String>,
    pub time_unit: Option<String>,
    pub simulation: Option<RawSimulation>,
    pub design: S<RawDesign>,
    pub arms: S<BTreeMap<String, S<RawArm>>>,
    /// Time-to-event endpoints (a list of causes) and hierarchical composites (a table).
    pub endpoints: S<BTreeMap<String, S<RawEndpoint>>>,
    /// `[outcomes.NAME]`: continuous outcomes measured at `[assessments]`.
    pub outcomes: Option<S<BTreeMap<String, S<RawOutcome>>>>,
    pub assessments: Option<S<RawAssessments>>,
    pub analysis: S<RawAnalysis>,
    pub followup: Option<RawFollowup>,
    pub sweep: Option<RawSweep>,
    pub uncertainty: Option<RawUncertainty>,
    /// A study file's published figures (`[[targets]]`) and free parameters (`[calibrate]`).
    pub targets: Option<S<Vec<S<RawTarget>>>>,
    pub calibrate: Option<S<RawCalibrate>>,
    /// Interim looks, group-sequential bounds and a safety rule.
    pub monitoring: Option<S<RawMonitoring>>,
    /// `[strata.NAME]`: the population as named parts with their own model.
    pub strata: Option<S<RawStrata>>,
    /// `[labels]`: words, units and display scales for readers; no result depends on them.
    pub labels: Option<S<RawLabels>>,
}

/// `[labels]`: causes and endpoints in words, and how any number of the file is shown.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLabels {
    pub causes: Option<S<BTreeMap<String, S<String>>>>,
    pub endpoints: Option<S<BTreeMap<String, S<String>>>>,
    /// `[labels.numbers] "arms.hsct.causes.x.early_risk.risk" = { label, unit, scale }`.
    pub numbers: Option<S<BTreeMap<String, S<RawNumberLabel>>>>,
}

/// A number's label, unit and display scale (`"percent"`, `"per_100"`, …).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNumberLabel {
    pub label: Option<S<String>>,
    pub unit: Option<S<String>>,
    pub scale: Option<S<String>>,
}

/// `[strata]`: strata by name.
pub type RawStrata = BTreeMap<String, S<RawStratum>>;

/// `[strata.NAME]`: a part of the enrolled population, its share (or a fixed count), and what
/// its arms change from `[arms]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStratum {
    pub label: Option<String>,
    pub share: Option<S<f64>>,
    pub count: Option<S<i64>>,
    pub arms: Option<S<BTreeMap<String, S<RawArmOverride>>>>,
}

/// `[strata.NAME.arms.X]`: an arm's dropout, causes or illness–death table in this stratum;
/// whatever is not given is the arm's as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArmOverride {
    pub dropout: Option<S<f64>>,
    pub causes: Option<S<BTreeMap<String, S<RawHazard>>>>,
    pub after: Option<S<RawAfter>>,
    pub outcomes: Option<S<BTreeMap<String, S<RawOutcomeModel>>>>,
}

/// `[outcomes.NAME]`: what a continuous outcome is and which way is better.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcome {
    pub label: Option<String>,
    pub unit: Option<String>,
    /// `"higher"` or `"lower"`.
    pub better: S<String>,
}

/// `[assessments]`: when the outcomes are measured, how they correlate, and which events end
/// their measurement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAssessments {
    pub at: S<Vec<S<f64>>>,
    pub over_time: Option<S<f64>>,
    pub correlations: Option<S<Vec<S<RawCorrelation>>>>,
    pub not_measured_after: Option<S<Vec<S<String>>>>,
}

/// `{ between = ["a", "b"], r = 0.3 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    pub between: S<Vec<S<String>>>,
    pub r: S<f64>,
}

/// `[arms.X.outcomes] NAME = { mean = [...], sd = [...] }`: one value per assessment (or one
/// for all).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutcomeModel {
    pub mean: S<ScalarOrList>,
    pub sd: S<ScalarOrList>,
}

/// An endpoint: a list of causes (time to the first), or a hierarchical composite (a table).
#[derive(Debug)]
pub enum RawEndpoint {
    Causes(Vec<S<String>>),
    Composite(RawComposite),
}

/// `[endpoints.NAME] layers = [...]`: a hierarchy of time-to-event and continuous layers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawComposite {
    pub label: Option<String>,
    pub layers: S<Vec<S<RawLayer>>>,
}

/// `{ endpoint = "os", until = 4.5 }` or `{ outcome = "fvc", at = 4.5, margin = 0 }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLayer {
    pub endpoint: Option<S<String>>,
    pub until: Option<S<f64>>,
    pub outcome: Option<S<String>>,
    pub at: Option<S<f64>>,
    pub margin: Option<S<f64>>,
}

impl<'de> Deserialize<'de> for RawEndpoint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawEndpoint;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of causes, or a table with `layers`")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<S<String>>()? {
                    out.push(x);
                }
                Ok(RawEndpoint::Causes(out))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RawComposite::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawEndpoint::Composite)
            }
        }
        d.deserialize_any(V)
    }
}

/// `[monitoring]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitoring {
    pub tests: Option<S<Vec<S<String>>>>,
    pub looks: S<Vec<S<RawLook>>>,
    pub spending_time: Option<S<String>>,
    pub efficacy: Option<S<RawEfficacy>>,
    pub futility: Option<S<RawFutility>>,
    pub harm: Option<S<RawHarm>>,
    pub safety: Option<S<RawSafety>>,
    pub committee: Option<S<RawCommittee>>,
}

/// `[monitoring.committee]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCommittee {
    pub threshold: Option<S<f64>>,
    pub beta: Option<S<f64>>,
}

/// An interim look: a cut as in `[design.cut]`, or `{ fraction = f }` of the information.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLook {
    pub calendar: Option<S<f64>>,
    pub events: Option<S<i64>>,
    pub min_followup: Option<S<f64>>,
    pub rule: Option<S<String>>,
    pub fraction: Option<S<f64>>,
}

/// A bound's shape: `"obrien_fleming"`, `"pocock"`, `"none"`, `{ hsd = γ }`, `{ power = ρ }`,
/// `{ z = [...] }`, `{ hr = [...] }` (which of them a table accepts is checked in validation).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawSpending {
    ObrienFleming,
    Pocock,
    None,
    Hsd(S<f64>),
    Power(S<f64>),
    Z(S<Vec<S<f64>>>),
    Hr(S<Vec<S<f64>>>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEfficacy {
    pub spending: S<RawSpending>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFutility {
    pub spending: Option<S<RawSpending>>,
    /// `"conditional_power"` instead of a spending function or fixed bounds.
    pub rule: Option<S<String>>,
    pub below: Option<S<f64>>,
    pub under: Option<S<String>>,
    pub beta: Option<S<f64>>,
    pub alternative: Option<S<String>>,
    pub binding: Option<bool>,
}

/// `z = [...]`, or `spending = {...}` with its own `alpha`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHarm {
    pub z: Option<S<Vec<S<f64>>>>,
    pub spending: Option<S<RawSpending>>,
    pub alpha: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSafety {
    pub cause: S<String>,
    pub competing: Option<S<Vec<S<String>>>>,
    pub arm: S<String>,
    pub window: S<f64>,
    pub after: S<Vec<S<i64>>>,
    pub stop_if_at_least: Option<S<Vec<S<i64>>>>,
    pub bayes: Option<S<RawBayes>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBayes {
    pub prior: S<Vec<S<f64>>>,
    pub threshold: S<f64>,
    pub probability: S<f64>,
}

/// One published figure: `kind` is `count`, `survival`, `failure` or `hazard_ratio`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: S<String>,
    pub kind: S<String>,
    pub value: S<f64>,
    pub arm: Option<S<String>>,
    pub endpoint: Option<S<String>>,
    pub causes: Option<S<Vec<S<String>>>>,
    pub from: Option<S<f64>>,
    pub to: Option<S<f64>>,
    pub patients: Option<S<i64>>,
    pub time: Option<S<f64>>,
    pub after: Option<S<f64>>,
    pub ci: Option<S<Vec<S<f64>>>>,
    /// `outcome_mean` / `outcome_share`: the continuous outcome, and the share's threshold.
    pub outcome: Option<S<String>>,
    pub below: Option<S<f64>>,
    pub above: Option<S<f64>>,
    pub role: Option<S<String>>,
    pub source: Option<String>,
    pub note: Option<String>,
}

/// `[calibrate]`: Nelder–Mead starts and the free parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibrate {
    pub starts: Option<S<i64>>,
    pub free: S<BTreeMap<String, S<RawFree>>>,
}

/// `NAME = { keys = [...], bounds = [lo, hi] }`; without `keys`, NAME is the dotted key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFree {
    pub keys: Option<S<Vec<S<String>>>>,
    pub bounds: S<Vec<f64>>,
}

/// `[uncertainty]`: prior distributions of numeric keys, for assurance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUncertainty {
    pub draws: Option<S<i64>>,
    pub keys: S<BTreeMap<String, S<RawDistribution>>>,
}

/// `{ beta = [a, b] }`, `{ normal = [mean, sd] }`, `{ lognormal = [mu, sigma] }`,
/// `{ uniform = [low, high] }`, `{ gamma = [shape, scale] }`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawDistribution {
    Beta(S<Vec<f64>>),
    Normal(S<Vec<f64>>),
    Lognormal(S<Vec<f64>>),
    Uniform(S<Vec<f64>>),
    Gamma(S<Vec<f64>>),
}

/// `[sweep] set = ["design.n=100:400:50", ...]`, `zip = false`: the grid of `trialsim sweep`
/// when no `--set` is given (same syntax as `--set`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    pub set: S<Vec<S<String>>>,
    pub zip: Option<bool>,
}

/// `[followup] cuts = [...]`: calendar times at which `trialsim followup` analyses the same
/// simulated trials.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFollowup {
    pub cuts: S<Vec<S<f64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub replicates: Option<S<i64>>,
    pub seed: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDesign {
    pub n: S<i64>,
    pub control: Option<S<String>>,
    pub allocation: S<BTreeMap<String, S<i64>>>,
    pub block_size: Option<S<i64>>,
    /// `"blocks"` (permuted blocks over all patients) or `"stratified_blocks"` (within strata).
    pub randomisation: Option<S<String>>,
    pub accrual: S<RawAccrual>,
    pub cut: S<RawCut>,
}

/// `{ duration = D }` (uniform) or `{ breaks = [...], rates = [...] }` (piecewise Poisson).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAccrual {
    pub duration: Option<S<f64>>,
    pub breaks: Option<S<Vec<S<f64>>>>,
    pub rates: Option<S<Vec<S<f64>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCut {
    pub calendar: Option<S<f64>>,
    pub events: Option<S<i64>>,
    pub min_followup: Option<S<f64>>,
    pub rule: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawArm {
    pub label: Option<String>,
    pub dropout: Option<S<f64>>,
    pub causes: S<BTreeMap<String, S<RawHazard>>>,
    /// `[arms.X.after.<non-fatal cause>] <death cause> = factor`: illness–death.
    pub after: Option<S<RawAfter>>,
    /// `[arms.X.outcomes]`: each continuous outcome's distribution in this arm.
    pub outcomes: Option<S<BTreeMap<String, S<RawOutcomeModel>>>>,
}

/// Trigger cause → (modified cause → factor).
pub type RawAfter = BTreeMap<String, S<BTreeMap<String, S<f64>>>>;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawHazard {
    Exponential(S<f64>),
    Weibull(RawWeibull),
    Piecewise(RawPiecewise),
    EarlyRisk(RawEarlyRisk),
    Relative(RawRelative),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeibull {
    pub shape: S<f64>,
    pub scale: S<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPiecewise {
    pub breaks: S<Vec<S<f64>>>,
    pub rates: S<Vec<S<f64>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEarlyRisk {
    pub risk: S<f64>,
    pub within: S<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelative {
    pub to: S<String>,
    pub breaks: Option<S<Vec<S<f64>>>>,
    pub hr: S<ScalarOrList>,
}

/// `hr = 0.5` or `hr = [0.6, 0.2]`, deserialised by hand so that the span survives.
#[derive(Debug)]
pub enum ScalarOrList {
    Scalar(f64),
    List(Vec<f64>),
}

impl<'de> Deserialize<'de> for ScalarOrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ScalarOrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a list of numbers")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(ScalarOrList::Scalar(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(ScalarOrList::Scalar(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(ScalarOrList::Scalar(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = seq.next_element::<f64>()? {
                    out.push(x);
                }
                Ok(ScalarOrList::List(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAnalysis {
    pub endpoint: S<String>,
    pub alpha: Option<S<f64>>,
    pub sides: Option<S<i64>>,
    pub tests: S<Vec<S<String>>>,
    pub tau: Option<S<f64>>,
    pub milestone: Option<S<f64>>,
    pub horizons: Option<S<Vec<S<f64>>>>,
    pub periods: Option<S<Vec<S<f64>>>>,
    pub crossing: Option<RawCrossing>,
    /// With `[strata]`: each stratum's subgroup estimates (default true).
    pub subgroups: Option<bool>,
    pub maxcombo: Option<RawMaxCombo>,
    pub never_better: Option<S<RawNeverBetter>>,
    pub long_term: Option<S<RawLongTerm>>,
}

/// `[analysis.long_term]`: the horizon of the long-term truth and the per-trial extrapolation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLongTerm {
    pub horizon: Option<S<f64>>,
    pub extrapolation: Option<S<RawExtrapolation>>,
}

/// `[analysis.long_term.extrapolation]`: each trial's RMST difference extrapolated `at` times.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExtrapolation {
    pub methods: S<Vec<S<String>>>,
    pub cuts: Option<S<Vec<S<f64>>>>,
    pub at: Option<S<Vec<S<f64>>>>,
}

/// `[analysis.never_better]`: the path to the never-better boundary.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNeverBetter {
    pub vary: S<Vec<S<String>>>,
    pub to: S<f64>,
    pub until: Option<S<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCrossing {
    pub min_gap: Option<S<f64>>,
    pub min_at_risk: Option<S<i64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMaxCombo {
    pub weights: S<Vec<S<Vec<f64>>>>,
}
