//! Random streams. Every draw of replicate r is read from a stream keyed by (seed, purpose) and
//! numbered r, so results do not depend on the thread count, on how replicates are split into
//! chunks or shards, or on other purposes' draws. Within a stream, patient i's draws come i-th
//! (patients are generated in entry order), so adding patients leaves the first patients' draws
//! unchanged: common random numbers across sample sizes and parameter values.
//!
//! The generator is xoshiro256++ (Blackman & Vigna 2021), a fraction of a nanosecond a draw. Its
//! 256-bit state is derived from the whole key: each of the four words is a separately keyed
//! SplitMix64 chain (Steele et al. 2014) over (seed, purpose, stream number). A word that hashed
//! only part of the key would be a trap: xoshiro256++'s first output depends on two words only, so
//! one word per input makes the first draw of every replicate identical. Opening a stream costs
//! a few nanoseconds.

use rand::SeedableRng;
pub use rand::rngs::Xoshiro256PlusPlus as StreamRng;

/// What a stream is used for. Causes are keyed by a hash of their name, so that adding a cause
/// to a scenario does not change the draws of the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Entry times (accrual spacings).
    Entry,
    /// Permuted-block allocation.
    Allocation,
    /// Loss to follow-up.
    Dropout,
    /// Parameter draws from `[uncertainty]` (stream = draw index).
    Parameters,
    /// Which patients a study's figure about a subset counts (calibration).
    Subset,
    /// Each patient's stratum (`[strata]` only).
    Stratum,
    /// The latent time of one cause.
    Cause(u64),
    /// The standard normal draws of one continuous outcome (`[outcomes.NAME]`).
    Outcome(u64),
}

impl Purpose {
    fn id(self) -> u64 {
        match self {
            Purpose::Entry => 1,
            Purpose::Allocation => 2,
            Purpose::Dropout => 3,
            Purpose::Parameters => 4,
            Purpose::Subset => 5,
            Purpose::Stratum => 6,
            // The high bit keeps cause ids apart from the fixed purposes.
            Purpose::Cause(h) => h | (1 << 63),
            // Bit 62 set, bit 63 clear: apart from causes and from the fixed purposes.
            Purpose::Outcome(h) => (h & !(1 << 63)) | (1 << 62),
        }
    }

    /// The stream purpose of a cause, from its name (FNV-1a, 64 bit: stable across versions).
    pub fn cause(name: &str) -> Purpose {
        Purpose::Cause(fnv1a(name.as_bytes()))
    }

    /// The stream purpose of a continuous outcome, from its name.
    pub fn outcome(name: &str) -> Purpose {
        Purpose::Outcome(fnv1a(name.as_bytes()))
    }
}

/// FNV-1a, 64 bit: a hash that is stable across versions and platforms (stream purposes, study
/// seeds, sweep fingerprints).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The seed of a companion simulation (`name`, e.g. the never-better copy): every stream of it
/// differs from the run's own, and it is the same for the same run seed.
pub fn companion_seed(seed: u64, name: &str) -> u64 {
    splitmix(seed ^ fnv1a(name.as_bytes()))
}

/// SplitMix64's output function (Steele, Lea & Flood 2014): a bijective mix of 64 bits.
fn splitmix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The golden-ratio increment of SplitMix64.
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// The stream of replicate `replicate` for `purpose` under `seed`.
pub fn stream(seed: u64, replicate: u64, purpose: Purpose) -> StreamRng {
    StreamKey::new(seed, purpose).stream(replicate)
}

/// The part of a stream's state that depends on (seed, purpose) only: each lane's SplitMix64
/// chain up to the stream number. Computed once, it opens a purpose's streams for every replicate
/// with one mixing step per lane instead of three (the same states as [`stream`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamKey {
    seed: u64,
    purpose: u64,
    lanes: [u64; 4],
}

impl StreamKey {
    pub fn new(seed: u64, purpose: Purpose) -> StreamKey {
        // "trialsim" in ASCII: a domain tag, so these states never coincide with another
        // program's hashing of the same numbers.
        const DOMAIN: u64 = 0x7472_6961_6c73_696d;
        let id = purpose.id();
        let lanes = std::array::from_fn(|lane| {
            let mut h = splitmix(DOMAIN ^ (lane as u64 + 1).wrapping_mul(GOLDEN));
            for x in [seed, id] {
                h = splitmix(h.wrapping_add(GOLDEN) ^ x);
            }
            h
        });
        StreamKey { seed, purpose: id, lanes }
    }

    /// Whether this key is (seed, purpose)'s.
    pub fn is(&self, seed: u64, purpose: Purpose) -> bool {
        self.seed == seed && self.purpose == purpose.id()
    }

    /// Stream number `replicate` of this key.
    pub fn stream(&self, replicate: u64) -> StreamRng {
        let mut state = [0u8; 32];
        for (h, word) in self.lanes.iter().zip(state.chunks_exact_mut(8)) {
            word.copy_from_slice(&splitmix(h.wrapping_add(GOLDEN) ^ replicate).to_le_bytes());
        }
        // xoshiro's one forbidden state; the chance of hashing to it is 2⁻²⁵⁶.
        if state == [0; 32] {
            state[0] = 1;
        }
        StreamRng::from_seed(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn first_draws_differ_across_replicates_and_purposes() {
        let mut seen = std::collections::HashSet::new();
        for r in 0..1000 {
            for p in [Purpose::Entry, Purpose::Allocation, Purpose::Dropout, Purpose::cause("x")] {
                let first: u64 = stream(7, r, p).random();
                assert!(seen.insert(first), "replicate {r} {p:?} repeats a first draw");
            }
        }
    }

    #[test]
    fn streams_are_reproducible() {
        let a: Vec<u64> = (0..5)
            .map({
                let mut s = stream(1, 3, Purpose::Dropout);
                move |_| s.random()
            })
            .collect();
        let mut s = stream(1, 3, Purpose::Dropout);
        let b: Vec<u64> = (0..5).map(|_| s.random()).collect();
        assert_eq!(a, b);
    }
}
