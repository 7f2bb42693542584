//! The grid grammar of sweeps and plans: `KEY=VALUES` axes (a list `a,b,c` or an inclusive range
//! `start:end:step`) and the points of their cartesian product or zip.

use serde::{Deserialize, Serialize};

use crate::scenario::overrides::Override;
use crate::scenario::{Document, ScenarioError};

/// What is wrong with a grid: one axis's `KEY=VALUES` text, or the grid's size.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GridError {
    #[error("expected KEY=VALUES (e.g. design.n=100:400:50), found {arg:?}")]
    NotKeyValues { arg: String },
    #[error("no key before `=` in {arg:?}")]
    NoKey { arg: String },
    /// The values of the axis `key`.
    #[error("`{key}`: {problem}")]
    Axis { key: String, problem: ValuesError },
    #[error("no swept keys: give --set KEY=VALUES or a [sweep] table")]
    NoSweptKeys,
    #[error("`{key}` is swept twice")]
    SweptTwice { key: String },
    #[error("--zip needs lists of equal length: `{first}` has {n} values, `{other}` has {len}")]
    UnequalZip { first: String, n: usize, other: String, len: usize },
    /// More than [`MAX_GRID`] points; `sizes` names the axes that make them.
    #[error(
        "the grid has {total} points ({sizes}); at most {MAX_GRID} however it is sharded: use fewer \
         values, or split it into several sweeps"
    )]
    TooLarge { total: u128, sizes: String },
    /// More than [`MAX_POINTS`] in one unsharded sweep.
    #[error(
        "the grid has {n} points ({sizes}); at most {MAX_POINTS} in one sweep: use fewer values, \
         or split it with --shard I/N for N ≥ {needed} and `trialsim merge` the shards"
    )]
    OneSweepTooLarge { n: usize, sizes: String, needed: usize },
    /// More than [`MAX_POINTS`] in the largest of `shards` shards.
    #[error(
        "the grid has {n} points ({sizes}): {shards} shards have up to {largest} points each, at \
         most {MAX_POINTS}: use --shard I/N with N ≥ {needed}"
    )]
    ShardsTooLarge { n: usize, sizes: String, shards: usize, largest: usize, needed: usize },
}

/// What is wrong with the VALUES of one axis (a list or a range).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValuesError {
    #[error("{0:?} is not a number")]
    NotANumber(String),
    #[error("{0:?} is not a finite number")]
    NotFinite(String),
    #[error("expected a range START:END:STEP, found {0:?}")]
    NotARange(String),
    #[error("the step of {0:?} must be > 0")]
    StepNotPositive(String),
    #[error("the range {0:?} is empty (end before start)")]
    EmptyRange(String),
    #[error("the range {range:?} has {count:.0} values; at most 100000")]
    TooMany { range: String, count: f64 },
    #[error("no values")]
    NoValues,
}

/// One swept key and its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    pub key: String,
    pub values: Vec<f64>,
}

impl Axis {
    /// Parses `KEY=VALUES`: a list `100,200,300` or an inclusive range `100:400:50`.
    pub fn parse(arg: &str) -> Result<Axis, GridError> {
        let (key, values) = arg.split_once('=').ok_or_else(|| GridError::NotKeyValues { arg: arg.into() })?;
        let key = key.trim().to_string();
        if key.is_empty() {
            return Err(GridError::NoKey { arg: arg.into() });
        }
        match parse_values(values.trim()) {
            Ok(values) => Ok(Axis { key, values }),
            Err(problem) => Err(GridError::Axis { key, problem }),
        }
    }
}

/// `a,b,c` or `a:b:s` (a, a+s, … up to and including b when b is on the grid).
pub fn parse_values(s: &str) -> Result<Vec<f64>, ValuesError> {
    let num = |x: &str| -> Result<f64, ValuesError> {
        let v: f64 = x.trim().parse().map_err(|_| ValuesError::NotANumber(x.into()))?;
        if v.is_finite() { Ok(v) } else { Err(ValuesError::NotFinite(x.into())) }
    };
    let values: Vec<f64> = if s.contains(':') {
        let parts: Vec<&str> = s.split(':').collect();
        let [a, b, step] = parts[..] else {
            return Err(ValuesError::NotARange(s.into()));
        };
        let (a, b, step) = (num(a)?, num(b)?, num(step)?);
        if step <= 0.0 {
            return Err(ValuesError::StepNotPositive(s.into()));
        }
        if b < a {
            return Err(ValuesError::EmptyRange(s.into()));
        }
        // Counted as a float first: a huge range (0:1e300:1) overflows an integer count.
        let count = ((b - a) / step + 1e-9).floor() + 1.0;
        if count.is_nan() || count > 100_000.0 {
            return Err(ValuesError::TooMany { range: s.into(), count });
        }
        let count = count as usize;
        // Rounded to 12 significant digits, so that 0.1 steps give 0.3, not 0.30000000000000004.
        (0..count)
            .map(|i| format!("{:.12e}", a + i as f64 * step).parse().expect("formatted float parses"))
            .collect()
    } else {
        s.split(',').map(num).collect::<Result<_, _>>()?
    };
    if values.is_empty() {
        return Err(ValuesError::NoValues);
    }
    Ok(values)
}

/// The most points one process validates, fingerprints and simulates: a sweep, or one shard of
/// a larger grid. Each of its points is validated and listed in its manifest before any is
/// simulated (about 37 s and 140 MB for 10⁶), so the share is counted first and a larger one
/// refused at once.
pub const MAX_POINTS: usize = 1_000_000;

/// The most points a grid may have at all, however it is sharded: its merge holds one 8-byte
/// fingerprint per point and copies about 9 KB of records per point (90 GB at 10⁷).
pub const MAX_GRID: usize = 10_000_000;

/// The number of points of a grid (the product of the axes' lengths, or with `zip` their common
/// length), computed without listing them; an error for no axes, a key swept twice, zipped
/// lists of unequal length, or more than [`MAX_GRID`].
pub fn count(axes: &[Axis], zip: bool) -> Result<usize, GridError> {
    if axes.is_empty() {
        return Err(GridError::NoSweptKeys);
    }
    for (i, a) in axes.iter().enumerate() {
        if axes[..i].iter().any(|b| b.key == a.key) {
            return Err(GridError::SweptTwice { key: a.key.clone() });
        }
    }
    let lengths = || axes.iter().map(|a| a.values.len() as u128);
    let total: u128 = if zip {
        let n = axes[0].values.len();
        if let Some(a) = axes.iter().find(|a| a.values.len() != n) {
            return Err(GridError::UnequalZip {
                first: axes[0].key.clone(),
                n,
                other: a.key.clone(),
                len: a.values.len(),
            });
        }
        n as u128
    } else {
        // At most 10⁵ values per axis (`parse_values`), so a u128 product of a few axes cannot
        // overflow before it is compared; saturate anyway.
        lengths().fold(1u128, |acc, l| acc.saturating_mul(l))
    };
    if total > MAX_GRID as u128 {
        return Err(GridError::TooLarge { total, sizes: sizes(axes, zip) });
    }
    Ok(total as usize)
}

fn sizes(axes: &[Axis], zip: bool) -> String {
    let sizes: Vec<String> = axes.iter().map(|a| format!("{} ({})", a.key, a.values.len())).collect();
    format!("{}: {}", if zip { "zipped" } else { "the product of" }, sizes.join(" × "))
}

/// The points of a grid of `n` that shard `(I, N)` computes (p mod N = I − 1), or all of them.
pub(crate) fn share(n: usize, shard: Option<(usize, usize)>) -> impl Iterator<Item = usize> {
    let (first, step) = shard.map_or((0, 1), |(i, shards)| (i - 1, shards));
    (first..n).step_by(step)
}

/// Checks that one process's share of a grid of `n` points is at most [`MAX_POINTS`]: a larger
/// grid runs only as shards, each small enough (the message says how many).
pub(crate) fn check_share(
    axes: &[Axis],
    zip: bool,
    n: usize,
    shard: Option<(usize, usize)>,
) -> Result<(), GridError> {
    let shards = shard.map_or(1, |(_, shards)| shards);
    let largest = n.div_ceil(shards);
    if largest <= MAX_POINTS {
        return Ok(());
    }
    let needed = n.div_ceil(MAX_POINTS);
    let sizes = sizes(axes, zip);
    Err(match shard {
        None => GridError::OneSweepTooLarge { n, sizes, needed },
        Some((_, shards)) => GridError::ShardsTooLarge { n, sizes, shards, largest, needed },
    })
}

/// Point `p` of a grid of [`count`] points: the cartesian product with the last axis varying
/// fastest, or with `zip` the p-th value of every axis.
pub fn point(axes: &[Axis], zip: bool, p: usize) -> Vec<Override> {
    let mut rest = p;
    let mut out: Vec<Override> = Vec::with_capacity(axes.len());
    for a in axes.iter().rev() {
        let i = if zip {
            p
        } else {
            let i = rest % a.values.len();
            rest /= a.values.len();
            i
        };
        out.push(Override { key: a.key.clone(), value: a.values[i] });
    }
    out.reverse();
    out
}

/// Every point of a grid, in order (see [`point`]); [`count`]'s errors.
pub fn points(axes: &[Axis], zip: bool) -> Result<Vec<Vec<Override>>, GridError> {
    let n = count(axes, zip)?;
    Ok((0..n).map(|p| point(axes, zip, p)).collect())
}

/// A scenario's `[sweep]` table: the grid `trialsim sweep` runs without `--set`.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable {
    /// `KEY=VALUES` items, each a valid axis.
    pub set: Vec<String>,
    pub zip: bool,
}

/// The document's `[sweep]` table, each item checked as an axis (`None` when it has none).
pub fn sweep_table(doc: &Document) -> Result<Option<SweepTable>, ScenarioError> {
    let Some(sw) = &doc.raw().sweep else { return Ok(None) };
    let ctx = doc.ctx();
    let mut set = Vec::new();
    for (i, item) in sw.set.get_ref().iter().enumerate() {
        if let Err(m) = Axis::parse(item.get_ref()) {
            return Err(ctx.err(item.span(), format!("sweep.set[{i}]"), m.to_string()));
        }
        set.push(item.get_ref().clone());
    }
    Ok(Some(SweepTable { set, zip: sw.zip.unwrap_or(false) }))
}

/// The axes of `KEY=VALUES` items (`--set` arguments or a `[sweep]` table's `set`).
pub fn axes(items: &[String]) -> Result<Vec<Axis>, GridError> {
    items.iter().map(|s| Axis::parse(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_their_end_on_the_grid() {
        assert_eq!(
            parse_values("100:400:50").unwrap(),
            vec![100.0, 150.0, 200.0, 250.0, 300.0, 350.0, 400.0]
        );
        assert_eq!(parse_values("0.1:0.3:0.1").unwrap(), vec![0.1, 0.2, 0.3]);
        assert_eq!(parse_values("1:2:0.3").unwrap(), vec![1.0, 1.3, 1.6, 1.9]);
        assert_eq!(parse_values("100,200, 300").unwrap(), vec![100.0, 200.0, 300.0]);
        assert!(parse_values("5:1:1").unwrap_err().to_string().contains("empty"));
        assert!(parse_values("1:5:0").is_err());
        assert!(parse_values("a,b").is_err());
        let huge = parse_values("0:1e300:1").unwrap_err().to_string();
        assert!(huge.contains("values; at most 100000") && !huge.contains("no values"), "{huge}");
        assert!(parse_values("0:200000:1").unwrap_err().to_string().contains("200001 values"));
    }

    #[test]
    fn cartesian_and_zipped_grids() {
        let a = Axis::parse("x=1,2").unwrap();
        let b = Axis::parse("y=10,20,30").unwrap();
        let g = points(&[a.clone(), b.clone()], false).unwrap();
        assert_eq!(g.len(), 6);
        assert_eq!((g[1][0].value, g[1][1].value), (1.0, 20.0), "last axis fastest");
        assert!(points(&[a.clone(), b], true).unwrap_err().to_string().contains("equal length"));
        let c = Axis::parse("z=5,6").unwrap();
        let z = points(&[a.clone(), c], true).unwrap();
        assert_eq!(z.len(), 2);
        assert_eq!((z[1][0].value, z[1][1].value), (2.0, 6.0));
    }

    /// A grid is counted, not listed: 10⁸ points are refused at once with the sizes that make
    /// them; exactly the limit is accepted, one more is not.
    #[test]
    fn a_grid_is_counted_before_it_is_listed() {
        let axis = |k: &str, n: usize| Axis { key: k.into(), values: (0..n).map(|i| i as f64).collect() };
        let huge = count(&[axis("a", 10_000), axis("b", 10_000)], false).unwrap_err().to_string();
        assert!(huge.contains("100000000 points") && huge.contains("a (10000) × b (10000)"), "{huge}");
        assert!(huge.contains("at most 10000000 however it is sharded"), "{huge}");
        assert_eq!(count(&[axis("a", 1000), axis("b", 10_000)], false).unwrap(), MAX_GRID);
        assert!(count(&[axis("a", 1000), axis("b", 10_000), axis("c", 2)], false).is_err());
        assert_eq!(count(&[axis("a", 5), axis("b", 5)], true).unwrap(), 5);
        // point(p) is the p-th of the listed points.
        let axes = [axis("a", 3), axis("b", 4), axis("c", 2)];
        let all = points(&axes, false).unwrap();
        for (p, listed) in all.iter().enumerate() {
            assert_eq!(&point(&axes, false, p), listed);
        }
    }

    /// One process computes at most [`MAX_POINTS`]: exactly the limit unsharded is accepted, one
    /// more point is refused with the number of shards that would do; sharded, the largest share
    /// counts (2·10⁶ + 1 points need 3 shards, not 2).
    #[test]
    fn a_shard_may_run_what_one_sweep_may_not() {
        let axes = [Axis { key: "a".into(), values: vec![0.0] }];
        assert!(check_share(&axes, false, MAX_POINTS, None).is_ok());
        let one_more = check_share(&axes, false, MAX_POINTS + 1, None).unwrap_err().to_string();
        assert!(one_more.contains("--shard I/N for N ≥ 2"), "{one_more}");
        assert!(check_share(&axes, false, 2 * MAX_POINTS, Some((2, 2))).is_ok());
        let too_few = check_share(&axes, false, 2 * MAX_POINTS + 1, Some((1, 2))).unwrap_err().to_string();
        assert!(too_few.contains("up to 1000001 points each") && too_few.contains("N ≥ 3"), "{too_few}");
        assert!(check_share(&axes, false, 2 * MAX_POINTS + 1, Some((3, 3))).is_ok());
        // The shares of (I, N) partition the grid.
        let mut all: Vec<usize> = (1..=3).flat_map(|i| share(10, Some((i, 3)))).collect();
        all.sort_unstable();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        assert_eq!(share(10, Some((3, 3))).collect::<Vec<_>>(), vec![2, 5, 8]);
    }
}
