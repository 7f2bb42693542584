//! Randomisation: each patient's stratum and arm, in entry order (docs/design.md § Design,
//! docs/strata.md).
//!
//! - Strata: by share, each patient's stratum is drawn independently (one uniform each, on its
//!   own stream); by fixed counts, the strata's counts are put in a uniformly random order.
//! - Arms: permuted blocks. Each block holds every arm's allocation ratio times
//!   `block_size / Σ allocation` slots, in a uniformly random order (Fisher–Yates). Over all
//!   patients (`"blocks"`) the blocks follow one another and the last is cut at n; within strata
//!   (`"stratified_blocks"`) each stratum has its own sequence of blocks, filled by its patients
//!   in entry order, all drawn from the one allocation stream as they are needed.
//!
//! An unstratified scenario draws nothing for strata: its streams are exactly as before strata
//! existed.

use rand::{Rng, RngExt};

use crate::rng::StreamRng;
use crate::scenario::{Randomisation, Scenario};

/// The allocation of one trial's patients. Buffers are reused across trials.
#[derive(Debug, Default, Clone)]
pub struct Randomiser {
    /// One block's arms before it is shuffled.
    slots: Vec<u16>,
    /// Within strata: each stratum's current block and how much of it is used.
    blocks: Vec<(Vec<u16>, usize)>,
    /// Drawing by share: each stratum's cumulative share, as a bound on 53-bit integers.
    thresholds: Vec<u64>,
}

/// 2⁵³: a uniform's 53 random bits.
const TWO_53: f64 = 9_007_199_254_740_992.0;

impl Randomiser {
    /// Each patient's stratum (index into `Scenario::strata`) into `stratum`, drawn from `rng`
    /// (`None` without strata: all 0, nothing drawn).
    pub fn strata(&mut self, sc: &Scenario, rng: Option<StreamRng>, stratum: &mut Vec<u16>) {
        let n = sc.design.n;
        stratum.clear();
        let Some(mut rng) = rng.filter(|_| sc.is_stratified()) else {
            stratum.resize(n, 0);
            return;
        };
        if sc.strata.iter().all(|s| s.count.is_some()) {
            for (s, st) in sc.strata.iter().enumerate() {
                stratum.extend(std::iter::repeat_n(s as u16, st.count.unwrap_or(0)));
            }
            // Validation makes the counts add up to n; a shortfall would be a bug, not input.
            stratum.resize(n, (sc.strata.len() - 1) as u16);
            shuffle(stratum, &mut rng);
            return;
        }
        // Each patient's stratum from one uniform: the first whose cumulative share exceeds it
        // (a stratum of share 0 never does). The last present stratum takes what rounding in the
        // shares' sum leaves above it. The uniform is u = k·2⁻⁵³, k the top 53 bits of one draw,
        // compared as an integer with each cumulative share scaled by 2⁵³.
        let last = sc.strata.iter().rposition(|s| s.share > 0.0).unwrap_or(0) as u16;
        self.thresholds.clear();
        let (mut cumulative, mut previous) = (0.0, 0);
        for st in &sc.strata {
            cumulative += st.share;
            // k·2⁻⁵³ < c ⇔ k < ⌈c·2⁵³⌉ (c·2⁵³ is exact: scaling by a power of two). A stratum of
            // share 0 repeats the bound before it, so no k falls in it and the bounds ascend.
            let bound =
                if st.share > 0.0 { (cumulative * TWO_53).ceil().min(TWO_53) as u64 } else { previous };
            self.thresholds.push(bound);
            previous = bound;
        }
        // The first stratum whose bound exceeds k is the count of bounds at or below it (they
        // ascend), counted without a branch: which stratum a patient falls in is a coin toss
        // that a branch would mispredict. Above every bound (rounding) is the last present one.
        let thresholds = &self.thresholds[..];
        stratum.extend((0..n).map(|_| {
            let k = rng.next_u64() >> 11;
            let below = thresholds.iter().map(|&b| u16::from(b <= k)).sum::<u16>();
            below.min(last)
        }));
    }

    /// The arms (indices into `Scenario::arms`) of the design's n patients in entry order, into
    /// `arm`, by permuted blocks drawn from `rng`: over all patients, or within each patient's
    /// stratum (`stratum`, from [`Randomiser::strata`]) as the design says.
    pub fn allocate(&mut self, sc: &Scenario, stratum: &[u16], rng: &mut StreamRng, arm: &mut Vec<u16>) {
        self.fill_slots(sc);
        match sc.design.randomisation {
            Randomisation::Blocks => self.permuted_blocks(sc.design.n, rng, arm),
            Randomisation::StratifiedBlocks => self.within_strata(sc, stratum, rng, arm),
        }
    }

    /// One block's slots in arm order, before shuffling.
    fn fill_slots(&mut self, sc: &Scenario) {
        let bs = sc.design.block_size;
        let alloc_sum: usize = sc.arms.iter().map(|a| a.allocation).sum();
        let copies = bs / alloc_sum;
        self.slots.clear();
        for (i, a) in sc.arms.iter().enumerate() {
            for _ in 0..a.allocation * copies {
                self.slots.push(i as u16);
            }
        }
    }

    /// Permuted blocks over all n patients.
    fn permuted_blocks(&mut self, n: usize, rng: &mut StreamRng, arm: &mut Vec<u16>) {
        arm.clear();
        while arm.len() < n {
            let start = arm.len();
            // Element by element: blocks are often 2 long, where a copy call costs more.
            for &s in &self.slots {
                arm.push(s);
            }
            shuffle(&mut arm[start..], rng);
        }
        arm.truncate(n);
    }

    /// Permuted blocks within each stratum: a stratum's next block is drawn when its patient
    /// needs one.
    fn within_strata(&mut self, sc: &Scenario, stratum: &[u16], rng: &mut StreamRng, arm: &mut Vec<u16>) {
        self.blocks.resize_with(sc.stratum_count(), Default::default);
        for (block, used) in &mut self.blocks {
            block.clear();
            *used = 0;
        }
        arm.clear();
        for &s in stratum {
            let (block, used) = &mut self.blocks[s as usize];
            if *used == block.len() {
                block.clear();
                block.extend_from_slice(&self.slots);
                shuffle(block, rng);
                *used = 0;
            }
            arm.push(block[*used]);
            *used += 1;
        }
    }
}

/// Fisher–Yates: a uniformly random permutation.
fn shuffle(v: &mut [u16], rng: &mut StreamRng) {
    for j in (1..v.len()).rev() {
        let k = rng.random_range(0..=j);
        v.swap(j, k);
    }
}
