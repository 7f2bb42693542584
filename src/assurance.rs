//! Assurance (O'Hagan, Stevens & Campbell 2005): the probability that the trial succeeds,
//! averaged over what is uncertain about the parameters, beside the power at the point estimate.
//!
//! Parameter draws come from calibration's `draws.csv` (one column per dotted key) or from the
//! scenario's `[uncertainty]` table of prior distributions. Each of M draws makes a scenario
//! (validated like any other) that is simulated with its own trials (a seed per draw);
//! assurance is the mean of the draws' success rates, and its SE the crossed-design estimator
//! of [`crossed_se`], which counts the parameter spread and the Monte Carlo error.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use rand::RngExt;
use rand_distr::{Beta, Distribution as _, Gamma, LogNormal, Normal, Uniform};
use serde::Serialize;

use crate::analysis::Row;
use crate::engine::{Layout, Reduce, Run, simulate_until};
use crate::rng::{Purpose, stream};
use crate::scenario::overrides::{Override, RESULT_FREE, Template};
use crate::scenario::raw;
use crate::scenario::{Ctx, Document, ErrorKind, Scenario, ScenarioError};
use crate::stats::decision::Decision;
use crate::summary::{Moments, Proportion, Summary};
use crate::truth::Truth;

/// `[uncertainty]`: how many parameter draws, and a distribution per dotted key.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncertainty {
    pub draws: usize,
    pub keys: Vec<(String, Distribution)>,
}

/// A prior distribution of one parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Beta { a: f64, b: f64 },
    Normal { mean: f64, sd: f64 },
    LogNormal { mu: f64, sigma: f64 },
    Uniform { low: f64, high: f64 },
    Gamma { shape: f64, scale: f64 },
}

/// The document's `[uncertainty]` table, validated (`None` when it has none).
pub fn uncertainty_table(doc: &Document) -> Result<Option<Uncertainty>, ScenarioError> {
    doc.raw().uncertainty.as_ref().map(|u| uncertainty(&doc.ctx(), u)).transpose()
}

/// `[uncertainty]`: the number of draws and a prior distribution per dotted key.
fn uncertainty(ctx: &Ctx, u: &raw::RawUncertainty) -> Result<Uncertainty, ScenarioError> {
    use raw::RawDistribution as R;
    let draws = match &u.draws {
        Some(d) => ctx.integer(d, "uncertainty.draws", 2, MAX_DRAWS as i64)? as usize,
        None => 200,
    };
    if u.keys.get_ref().is_empty() {
        let kind = ErrorKind::Empty { expected: "at least one key with a distribution".into() };
        return Err(ctx.fail(u.keys.span(), "uncertainty.keys", kind));
    }
    let mut keys = Vec::new();
    for (key, d) in u.keys.get_ref() {
        let k = format!("uncertainty.keys.\"{key}\"");
        type Valid = fn(f64, f64) -> bool;
        let (name, params, lo_ok): (&str, &raw::S<Vec<f64>>, Valid) = match d.get_ref() {
            R::Beta(p) => ("beta = [a, b] with a, b > 0", p, |a, b| a > 0.0 && b > 0.0),
            R::Normal(p) => ("normal = [mean, sd] with sd > 0", p, |_, s| s > 0.0),
            R::Lognormal(p) => ("lognormal = [mu, sigma] with sigma > 0", p, |_, s| s > 0.0),
            R::Uniform(p) => ("uniform = [low, high] with low < high", p, |l, h| l < h),
            R::Gamma(p) => ("gamma = [shape, scale] with both > 0", p, |a, b| a > 0.0 && b > 0.0),
        };
        let v = params.get_ref();
        let (a, b) = match v[..] {
            [a, b] if a.is_finite() && b.is_finite() && lo_ok(a, b) => (a, b),
            _ => return Err(ctx.out_of_range(params.span(), k, name, format!("{v:?}"))),
        };
        let dist = match d.get_ref() {
            R::Beta(_) => Distribution::Beta { a, b },
            R::Normal(_) => Distribution::Normal { mean: a, sd: b },
            R::Lognormal(_) => Distribution::LogNormal { mu: a, sigma: b },
            R::Uniform(_) => Distribution::Uniform { low: a, high: b },
            R::Gamma(_) => Distribution::Gamma { shape: a, scale: b },
        };
        keys.push((key.clone(), dist));
    }
    Ok(Uncertainty { draws, keys })
}

#[derive(Debug, thiserror::Error)]
pub enum AssuranceError {
    /// Bad input: exit code 2, nothing simulated.
    #[error(transparent)]
    Input(#[from] AssuranceInput),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
}

/// What is wrong with the input of an assurance study.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssuranceInput {
    /// The draws file cannot be read or is not a table of numbers (`problem` says where).
    #[error("{}: {problem}", path.display())]
    DrawsFile { path: std::path::PathBuf, problem: String },
    /// A draws column names a key that is not a parameter (`origin`: where the draws come from).
    #[error("{origin}: `{key}` is not a parameter of the model, design or analysis (draws may not set {})", RESULT_FREE.map(|t| format!("`{t}`")).join(", "))]
    NotAParameter { origin: String, key: String },
    /// A draws column that is not a key of the scenario, or whose first value makes it invalid.
    #[error("{origin}: column `{key}`: {problem}")]
    Column { origin: String, key: String, problem: String },
    #[error("assurance needs a two-arm scenario with at least one test")]
    NoComparison,
    #[error("{invalid} of {draws} parameter draws make an invalid scenario (first, {}): check the distributions", first.as_deref().unwrap_or("none"))]
    InvalidDraws { invalid: usize, draws: usize, first: Option<String> },
}

/// Parameter draws: the keys, and one row of values per draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Draws {
    pub keys: Vec<String>,
    pub rows: Vec<Vec<f64>>,
    pub source: String,
}

/// The most parameter draws (rows of a draws file, or `[uncertainty] draws`).
pub const MAX_DRAWS: usize = 100_000;
/// The largest draws file read: 100,000 rows of a few keys fit in a few MB.
pub const MAX_DRAWS_BYTES: u64 = 32 << 20;

/// Reads a draws CSV: a header of dotted keys (a column named `draw` is ignored), one row per
/// draw; at most [`MAX_DRAWS`] rows and [`MAX_DRAWS_BYTES`], enforced while reading.
pub fn read_draws(path: &Path) -> Result<Draws, AssuranceError> {
    let bad = |problem: String| {
        AssuranceError::from(AssuranceInput::DrawsFile { path: path.to_path_buf(), problem })
    };
    let bytes = crate::atomic_file::read_capped(path, MAX_DRAWS_BYTES).map_err(|e| bad(e.to_string()))?;
    let mut r = csv::Reader::from_reader(&bytes[..]);
    let header: Vec<String> = r.headers().map_err(|e| bad(e.to_string()))?.iter().map(String::from).collect();
    let cols: Vec<usize> = (0..header.len()).filter(|&i| header[i] != "draw").collect();
    for (j, &i) in cols.iter().enumerate() {
        if cols[..j].iter().any(|&k| header[k] == header[i]) {
            return Err(bad(format!("column `{}` appears twice", header[i])));
        }
    }
    if cols.is_empty() {
        return Err(bad("no parameter columns".into()));
    }
    let mut rows = Vec::new();
    for (line, rec) in r.records().enumerate() {
        if line == MAX_DRAWS {
            return Err(bad(format!(
                "more than {MAX_DRAWS} draws: a draws file has at most {MAX_DRAWS} rows"
            )));
        }
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let row = cols
            .iter()
            .map(|&i| {
                rec.get(i).and_then(|x| x.trim().parse::<f64>().ok()).filter(|x| x.is_finite()).ok_or_else(
                    || bad(format!("row {}: `{}` is not a number", line + 2, rec.get(i).unwrap_or(""))),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(row);
    }
    if rows.len() < 2 {
        return Err(bad(format!("expected at least 2 draws, found {}", rows.len())));
    }
    Ok(Draws {
        keys: cols.iter().map(|&i| header[i].clone()).collect(),
        rows,
        source: path.display().to_string(),
    })
}

/// The most batches of replicates [`Benefits`] keeps: memory stays bounded whatever the
/// replicates (they may be 10⁹), and up to this many replicates per draw each is its own batch.
const MAX_BATCHES: usize = 2048;

/// Benefit decisions in replicate order, counted by batches of consecutive replicates:
/// `counts[b * tests + t]` is how many replicates of batch b test t declared benefit in. Batches
/// hold `size` replicates (the last may hold fewer); `size` is 1 until there would be more than
/// [`MAX_BATCHES`], then adjacent batches are merged pairwise and `size` doubles, so the batches
/// depend only on the number of replicates. A chunk's reduction keeps its replicates' flags
/// (`flags`, at most a chunk's worth); the ordered merge folds them into the batches.
struct Benefits {
    tests: usize,
    flags: Vec<u8>,
    counts: Vec<u32>,
    size: u64,
    seen: u64,
}

impl Benefits {
    fn batches(&self) -> usize {
        self.counts.len() / self.tests.max(1)
    }

    /// Replicates in batch b.
    fn batch_size(&self, b: usize) -> u64 {
        self.size.min(self.seen - b as u64 * self.size)
    }

    fn fold(&mut self, flags: &[u8]) {
        let t = self.tests;
        for replicate in flags.chunks_exact(t.max(1)) {
            let mut b = (self.seen / self.size) as usize;
            if b == self.batches() {
                if b == MAX_BATCHES {
                    let halved: Vec<u32> = (0..MAX_BATCHES / 2)
                        .flat_map(|i| (0..t).map(move |k| (i, k)))
                        .map(|(i, k)| self.counts[2 * i * t + k] + self.counts[(2 * i + 1) * t + k])
                        .collect();
                    self.counts = halved;
                    self.size *= 2;
                    b = (self.seen / self.size) as usize;
                }
                if b == self.batches() {
                    self.counts.extend(std::iter::repeat_n(0, t));
                }
            }
            for (k, &flag) in replicate.iter().enumerate() {
                self.counts[b * t + k] += u32::from(flag);
            }
            self.seen += 1;
        }
    }
}

impl Reduce for Benefits {
    fn empty(layout: &Layout) -> Self {
        Benefits { tests: layout.tests.len(), flags: Vec::new(), counts: Vec::new(), size: 1, seen: 0 }
    }

    fn push(&mut self, row: &Row) {
        self.flags.extend(row.decisions.iter().map(|d| u8::from(*d == Decision::Benefit)));
    }

    /// `other` is a chunk, the next in replicate order (the engine merges chunks into the total
    /// only): its flags are folded into the batches.
    fn merge(&mut self, other: &Self) {
        self.fold(&other.flags);
    }

    fn reset(&mut self) {
        self.flags.clear();
        self.counts.clear();
        self.size = 1;
        self.seen = 0;
    }
}

/// The Monte Carlo SE of assurance, the mean of X_dr (benefit in replicate r of draw d) over D
/// draws and R replicates, as a crossed design: SE² = s²_draws/D + s²_reps/R, with s²_draws the
/// variance over draws of each draw's rate and s²_reps the variance over r of the mean over
/// draws of X_dr (the two-way random-effects estimator, conservative by the interaction's share;
/// Searle, Casella & McCulloch 1992, ch. 4). The between-draw SD over √D alone is right in
/// expectation for independent draws but, with few draws, so noisy that two identical draws
/// printed "± 0.0"; the replicate term measures the Monte Carlo error from all R·D trials, and
/// the estimator stays valid where draws share random numbers. Beyond [`MAX_BATCHES`]
/// replicates per draw the replicate term is taken over batch means, s²_batches/B (batch means,
/// Schmeiser 1982): the same in expectation. `draws` holds the draws' rates, `by_batch[b]` how
/// many (draw, replicate) pairs of batch b declared benefit, `sizes[b]` the batch's replicates.
fn crossed_se(draws: &Moments, by_batch: &[u64], sizes: &[u64]) -> f64 {
    let d = draws.n as f64;
    let mut batches = Moments::default();
    for (&k, &size) in by_batch.iter().zip(sizes) {
        batches.push(k as f64 / (d * size as f64));
    }
    let var_draws = draws.sd().powi(2);
    let var_batches = batches.sd().powi(2);
    (var_draws / d + var_batches / batches.n as f64).sqrt()
}

fn sample(d: Distribution, rng: &mut crate::rng::StreamRng) -> f64 {
    // Parameters are validated, so the constructors cannot fail.
    match d {
        Distribution::Beta { a, b } => Beta::new(a, b).expect("validated").sample(rng),
        Distribution::Normal { mean, sd } => Normal::new(mean, sd).expect("validated").sample(rng),
        Distribution::LogNormal { mu, sigma } => LogNormal::new(mu, sigma).expect("validated").sample(rng),
        Distribution::Uniform { low, high } => rng.sample(Uniform::new(low, high).expect("validated")),
        Distribution::Gamma { shape, scale } => Gamma::new(shape, scale).expect("validated").sample(rng),
    }
}

/// M draws from `[uncertainty]`, each from its own stream (seed, draw).
pub fn prior_draws(u: &Uncertainty, seed: u64) -> Draws {
    let rows = (0..u.draws as u64)
        .map(|d| {
            let mut rng = stream(seed, d, Purpose::Parameters);
            u.keys.iter().map(|(_, dist)| sample(*dist, &mut rng)).collect()
        })
        .collect();
    Draws { keys: u.keys.iter().map(|(k, _)| k.clone()).collect(), rows, source: "[uncertainty]".into() }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestAssurance {
    pub test: String,
    pub assurance: f64,
    pub assurance_se: f64,
    pub power: f64,
    pub power_se: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssuranceResult {
    pub scenario: String,
    pub source: String,
    pub keys: Vec<String>,
    pub draws: usize,
    pub replicates_per_draw: u64,
    pub replicates_at_point_estimate: u64,
    pub seed: u64,
    /// Draws that made an invalid scenario (e.g. a risk ≥ 1) and were left out.
    pub invalid_draws: usize,
    /// Why the first of them was invalid (absent when none was).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_reason: Option<String>,
    pub tests: Vec<TestAssurance>,
}

/// Checks the draws against the scenario before any work: every column is a numeric key of it
/// (a key absent from the file, a default or a typo, is checked by validating the first draw
/// with it, so that a misspelt column is named rather than reported as invalid draws), and the
/// scenario compares two arms with at least one test. Returns the scenario without overrides.
pub(crate) fn check_draws(template: &Template, draws: &Draws) -> Result<Scenario, AssuranceError> {
    for (i, k) in draws.keys.iter().enumerate() {
        // A label, `[simulation]` or another command's table changes no trial: a draw of
        // `simulation.seed` would be accepted and do nothing.
        let top = k.split(['.', '[']).next().unwrap_or("");
        if RESULT_FREE.contains(&top) {
            return Err(AssuranceInput::NotAParameter { origin: draws.source.clone(), key: k.clone() }.into());
        }
        let column = |e: ScenarioError| AssuranceInput::Column {
            origin: draws.source.clone(),
            key: k.clone(),
            // The message may start with the key the column already names.
            problem: e.message().trim_start_matches(&format!("`{k}`: ")).to_string(),
        };
        template.check_key(k).map_err(column)?;
        if template.get(k).is_none() {
            template.apply(&[Override { key: k.clone(), value: draws.rows[0][i] }]).map_err(column)?;
        }
    }
    let (base, _) = template.apply(&[])?;
    if base.comparison.is_none() || base.analysis.tests.is_empty() {
        return Err(AssuranceInput::NoComparison.into());
    }
    Ok(base)
}

/// `sc` simulated (`reps` replicates from `seed`) into the reduction `S`; `None` once `cancel`
/// is set.
fn simulated<S: crate::engine::Reduce>(
    sc: &crate::scenario::Scenario,
    reps: u64,
    seed: u64,
    cancel: &AtomicBool,
) -> Option<S> {
    let truth = Truth::compute(sc);
    let layout = Layout::new(sc, &truth);
    simulate_until(
        &Run { scenario: sc, layout: &layout, replicates: reps, seed, progress: None },
        None,
        cancel,
    )
}

/// The draws' results so far, per test: the moments of the per-draw power, and per batch of
/// replicates (every draw has the same batches) how many (draw, replicate) pairs declared
/// benefit, for the crossed estimator of the SE.
struct Accumulated {
    per_test: Vec<Moments>,
    by_batch: Vec<Vec<u64>>,
    /// Each batch's replicates.
    sizes: Vec<u64>,
}

impl Accumulated {
    fn new(tests: usize) -> Accumulated {
        Accumulated {
            per_test: vec![Moments::default(); tests],
            by_batch: vec![Vec::new(); tests],
            sizes: Vec::new(),
        }
    }

    /// Adds one draw's decisions (`per_draw` replicates).
    fn add(&mut self, b: &Benefits, per_draw: u64) {
        let batches = b.batches();
        self.sizes = (0..batches).map(|i| b.batch_size(i)).collect();
        for (t, (moments, counts)) in self.per_test.iter_mut().zip(&mut self.by_batch).enumerate() {
            counts.resize(batches, 0);
            let mut k = 0u64;
            for (i, count) in counts.iter_mut().enumerate() {
                let c = u64::from(b.counts[i * b.tests + t]);
                k += c;
                *count += c;
            }
            moments.push(k as f64 / per_draw as f64);
        }
    }
}

/// Assurance of every test: `replicates` trials at the point estimate, and `replicates / M` (at
/// least 20) per draw.
pub fn assurance(
    template: &Template,
    draws: &Draws,
    replicates: u64,
    seed: u64,
    progress: impl FnMut(usize, usize),
) -> Result<AssuranceResult, AssuranceError> {
    let never = AtomicBool::new(false);
    Ok(assurance_until(template, draws, replicates, seed, progress, &never)?
        .expect("an assurance nobody cancels finishes"))
}

/// [`assurance`], returning `None` at the next chunk of replicates once `cancel` is set (a
/// binding's Ctrl-C). A result that finishes is [`assurance`]'s, bit for bit.
pub fn assurance_until(
    template: &Template,
    draws: &Draws,
    replicates: u64,
    seed: u64,
    mut progress: impl FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<Option<AssuranceResult>, AssuranceError> {
    let base = check_draws(template, draws)?;
    let Some(at_point) = simulated::<Summary>(&base, replicates, seed, cancel) else { return Ok(None) };
    let at_point: Vec<u64> = at_point.tests.iter().map(|t| t.benefit).collect();
    let m = draws.rows.len();
    let per_draw = (replicates / m as u64).max(20);
    let mut acc = Accumulated::new(base.analysis.tests.len());
    let mut invalid = 0;
    let mut first_invalid: Option<String> = None;
    for (d, row) in draws.rows.iter().enumerate() {
        let o: Vec<Override> =
            draws.keys.iter().zip(row).map(|(k, &v)| Override { key: k.clone(), value: v }).collect();
        match template.apply(&o) {
            Ok((sc, _)) => {
                // Independent trials for each draw (a seed per draw), so the between-draw SD
                // carries the Monte Carlo error too.
                let draw_seed = seed ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(d as u64 + 1));
                // Each replicate's decisions at a draw, for the crossed estimator of the SE.
                let Some(b) = simulated::<Benefits>(&sc, per_draw, draw_seed, cancel) else {
                    return Ok(None);
                };
                acc.add(&b, per_draw);
            }
            Err(e) => {
                invalid += 1;
                first_invalid.get_or_insert_with(|| match e.key() {
                    Some(k) => format!("draw {d}: `{k}`: {}", e.message()),
                    None => format!("draw {d}: {}", e.message()),
                });
            }
        }
        progress(d + 1, m);
    }
    // An average over fewer than two draws has no spread, and one over a minority of the draws
    // describes a different prior: refuse both, saying why the draws were invalid.
    if invalid * 2 > m || m - invalid < 2 {
        return Err(AssuranceInput::InvalidDraws { invalid, draws: m, first: first_invalid }.into());
    }
    let tests = base
        .analysis
        .tests
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let p = Proportion::new(at_point[i], replicates);
            let mo = &acc.per_test[i];
            TestAssurance {
                test: t.name.clone(),
                assurance: mo.mean(),
                assurance_se: crossed_se(mo, &acc.by_batch[i], &acc.sizes),
                power: p.estimate,
                power_se: p.se,
            }
        })
        .collect();
    Ok(Some(AssuranceResult {
        scenario: base.name.clone(),
        source: draws.source.clone(),
        keys: draws.keys.clone(),
        draws: m,
        replicates_per_draw: per_draw,
        replicates_at_point_estimate: replicates,
        seed,
        invalid_draws: invalid,
        invalid_reason: first_invalid,
        tests,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Benefit flags folded chunk by chunk into at most MAX_BATCHES batches: one replicate a
    /// batch up to 2,048, then sizes doubling; counts and sizes add up whatever the chunking.
    #[test]
    fn batches_stay_bounded_and_count_every_replicate() {
        let empty = || Benefits { tests: 2, flags: Vec::new(), counts: Vec::new(), size: 1, seen: 0 };
        let flags: Vec<u8> = (0..5001u32 * 2).map(|i| u8::from(i % 3 == 0)).collect();
        let mut whole = empty();
        whole.fold(&flags);
        let mut chunked = empty();
        for chunk in flags.chunks(2 * 512) {
            chunked.fold(chunk);
        }
        for b in [&whole, &chunked] {
            assert_eq!((b.size, b.batches(), b.seen), (4, 1251, 5001));
            assert_eq!((0..b.batches()).map(|i| b.batch_size(i)).sum::<u64>(), 5001);
            assert_eq!(b.batch_size(1250), 1);
            for t in 0..2 {
                let total: u32 = (0..b.batches()).map(|i| b.counts[i * 2 + t]).sum();
                let expected = flags.iter().skip(t).step_by(2).map(|&f| u32::from(f)).sum::<u32>();
                assert_eq!(total, expected, "test {t}");
            }
        }
        assert_eq!(whole.counts, chunked.counts);
        let mut small = empty();
        small.fold(&flags[..2 * 2048]);
        assert_eq!((small.size, small.batches()), (1, 2048), "up to 2,048 replicates, one a batch");
    }

    #[test]
    fn prior_draws_follow_their_distribution_and_are_reproducible() {
        let u = Uncertainty { draws: 4000, keys: vec![("x".into(), Distribution::Beta { a: 2.0, b: 8.0 })] };
        let d = prior_draws(&u, 5);
        assert_eq!(d, prior_draws(&u, 5));
        let mean: f64 = d.rows.iter().map(|r| r[0]).sum::<f64>() / 4000.0;
        // Beta(2, 8): mean 0.2, SD 0.121; 4 SE of the mean = 0.0077.
        assert!((mean - 0.2).abs() < 0.0077, "{mean}");
    }
}
