//! Reproducible randomness.
//!
//! Every simulation in the workspace takes an explicit `u64` seed and turns it into a [`SimRng`]:
//! ChaCha with 8 rounds from `rand_chacha`. It is fast (a few GB/s), its output for a given seed is
//! fixed by its specification rather than by a `rand` release (unlike `StdRng`), and it is
//! cryptographically strong enough that simulated statistics carry no generator artefacts.
//!
//! Independent streams (per chunk of a parallel simulation, per frame of a benchmark) come from
//! [`derive_seed`], which hashes the parent seed, a domain label and an index with BLAKE3, so chunk
//! `i` gets the same stream whatever the number of threads.
//!
//! Key material and hash seeds in production paths do not come from here: they come from the
//! operating system's CSPRNG unless a seed is given explicitly for reproducibility.

use rand::SeedableRng;

/// The random number generator of every simulation: ChaCha8 (`rand_chacha::ChaCha8Rng`).
pub type SimRng = rand_chacha::ChaCha8Rng;

/// A [`SimRng`] seeded from `seed`.
#[must_use]
pub fn sim_rng(seed: u64) -> SimRng {
    SimRng::seed_from_u64(seed)
}

/// A child seed for stream `index` of `domain` under `seed` (BLAKE3 of the three, first 8 bytes).
///
/// ```
/// use qkd_core::derive_seed;
/// assert_eq!(derive_seed(1, "chunk", 5), derive_seed(1, "chunk", 5));
/// assert_ne!(derive_seed(1, "chunk", 5), derive_seed(1, "chunk", 6));
/// assert_ne!(derive_seed(1, "chunk", 5), derive_seed(1, "frame", 5));
/// ```
#[must_use]
pub fn derive_seed(seed: u64, domain: &str, index: u64) -> u64 {
    let mut h = blake3::Hasher::new_derive_key("qkd-rs derive_seed v1");
    h.update(&seed.to_le_bytes());
    h.update(&(domain.len() as u64).to_le_bytes());
    h.update(domain.as_bytes());
    h.update(&index.to_le_bytes());
    let out = h.finalize();
    let mut b = [0u8; 8];
    b.copy_from_slice(&out.as_bytes()[..8]);
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_same_stream() {
        let (mut a, mut b) = (sim_rng(42), sim_rng(42));
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
    }

    /// Pins the generator: if a dependency update changed the stream, every seeded figure in the
    /// docs would silently change. ChaCha8 output is fixed by its specification.
    #[test]
    fn stream_is_pinned() {
        assert_eq!(sim_rng(0).next_u64(), 0xb585_f767_a79a_3b6c);
        assert_ne!(sim_rng(0).next_u64(), sim_rng(1).next_u64());
    }
}
