//! Randomisation: which arm each patient, in entry order, is allocated to. Permuted blocks over
//! all patients (docs/design.md § Design): each block holds every arm's allocation ratio times
//! `block_size / Σ allocation` slots, in a uniformly random order (Fisher–Yates), block after
//! block; the last block is cut at n.

use rand::RngExt;

use crate::rng::StreamRng;
use crate::scenario::Scenario;

/// The allocation of one trial's patients. Buffers are reused across trials.
#[derive(Debug, Default, Clone)]
pub struct Randomiser {
    /// One block's arms before it is shuffled.
    slots: Vec<u16>,
}

impl Randomiser {
    /// The arms (indices into `Scenario::arms`) of the design's n patients in entry order, into
    /// `arm`, by permuted blocks drawn from `rng`.
    pub fn permuted_blocks(&mut self, sc: &Scenario, rng: &mut StreamRng, arm: &mut Vec<u16>) {
        let bs = sc.design.block_size;
        let alloc_sum: usize = sc.arms.iter().map(|a| a.allocation).sum();
        let copies = bs / alloc_sum;
        self.slots.clear();
        for (i, a) in sc.arms.iter().enumerate() {
            for _ in 0..a.allocation * copies {
                self.slots.push(i as u16);
            }
        }
        arm.clear();
        let n = sc.design.n;
        while arm.len() < n {
            let start = arm.len();
            // Element by element: blocks are often 2 long, where a copy call costs more.
            for &s in &self.slots {
                arm.push(s);
            }
            // Fisher–Yates: a uniformly random permutation of the block.
            let block = &mut arm[start..];
            for j in (1..block.len()).rev() {
                let k = rng.random_range(0..=j);
                block.swap(j, k);
            }
        }
        arm.truncate(n);
    }
}
