//! Pass layouts shared by both parties: the public permutation of a pass, its blocks, and the
//! permuted copy of a key in which every block is a contiguous bit range.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use qkd_core::{derive_seed, sim_rng};
use rand::Rng;

/// A permutation of key positions: `fwd[i]` is the key index at pass position `i`, `inv` its inverse.
#[derive(Debug)]
pub(crate) struct Perm {
    pub(crate) fwd: Vec<u32>,
    pub(crate) inv: Vec<u32>,
}

impl Perm {
    fn from_fwd(fwd: Vec<u32>) -> Self {
        let mut inv = vec![0u32; fwd.len()];
        for (i, &j) in (0u32..).zip(fwd.iter()) {
            inv[j as usize] = i;
        }
        Self { fwd, inv }
    }

    fn identity(n: u32) -> Self {
        let fwd: Vec<u32> = (0..n).collect();
        Self {
            inv: fwd.clone(),
            fwd,
        }
    }

    /// A uniformly random permutation (Fisher-Yates) from `rng`.
    ///
    /// Each swap index is drawn with Lemire's multiply-and-reject method ("Fast random integer
    /// generation in an interval", ACM TOMACS 2019) on 32-bit halves of one 64-bit output: exact
    /// uniformity, one random word per two swaps, no division except in the rare rejection branch.
    fn random<R: Rng + ?Sized>(n: u32, rng: &mut R) -> Self {
        let mut fwd: Vec<u32> = (0..n).collect();
        let mut pool = 0u64;
        let mut left = 0u32;
        let mut next32 = |rng: &mut R| -> u32 {
            if left == 0 {
                pool = rng.next_u64();
                left = 2;
            }
            left -= 1;
            // Taking the low 32 bits, then shifting the next half down, is the point.
            #[allow(clippy::cast_possible_truncation)]
            let x = pool as u32;
            pool >>= 32;
            x
        };
        for i in (1..n).rev() {
            // Uniform in 0..=i: range = i + 1 (i < n <= u32::MAX, so no overflow).
            let range = i + 1;
            let mut m = u64::from(next32(rng)) * u64::from(range);
            // Low half of the product decides rejection; the cast keeps exactly those bits.
            #[allow(clippy::cast_possible_truncation)]
            let mut low = m as u32;
            if low < range {
                let threshold = range.wrapping_neg() % range;
                while low < threshold {
                    m = u64::from(next32(rng)) * u64::from(range);
                    #[allow(clippy::cast_possible_truncation)]
                    {
                        low = m as u32;
                    }
                }
            }
            // The high half of a u32 x u32 product fits in u32.
            #[allow(clippy::cast_possible_truncation)]
            let j = (m >> 32) as u32;
            fwd.swap(i as usize, j as usize);
        }
        Self::from_fwd(fwd)
    }

    /// BICONF's split: a random subset (each position with probability 1/2) first, its complement
    /// after. Returns the permutation and the subset size.
    fn random_subset<R: Rng + ?Sized>(n: u32, rng: &mut R) -> (Self, u32) {
        let mut fwd = Vec::with_capacity(n as usize);
        let mut rest = Vec::with_capacity(n as usize / 2 + 64);
        let mut word = 0u64;
        for j in 0..n {
            if j % 64 == 0 {
                word = rng.next_u64();
            }
            if (word >> (j % 64)) & 1 == 1 {
                fwd.push(j);
            } else {
                rest.push(j);
            }
        }
        // The subset holds at most n positions, so its size fits in u32.
        #[allow(clippy::cast_possible_truncation)]
        let s = fwd.len() as u32;
        fwd.extend_from_slice(&rest);
        (Self::from_fwd(fwd), s)
    }
}

/// How a pass is cut into blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blocks {
    /// Consecutive blocks of `k` bits (the last one may be shorter).
    Regular { k: u32 },
    /// Two blocks: `[0, s)` and `[s, n)` (BICONF's subset and complement).
    Split { s: u32 },
}

/// One pass: its permutation and block structure.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) n: u32,
    pub(crate) blocks: Blocks,
    pub(crate) perm: Arc<Perm>,
    /// Slots per block in the implicit binary tree of sub-blocks (heap numbering, root 1).
    pub(crate) tree_slots: u32,
}

impl Layout {
    fn new(n: u32, blocks: Blocks, perm: Arc<Perm>) -> Self {
        let max_len = match blocks {
            Blocks::Regular { k } => k.min(n),
            Blocks::Split { s } => s.max(n - s),
        }
        .max(1);
        // Heap indices of a tree over `len` bits (left half ceil(len/2)) stay below
        // 2^(ceil(log2 len) + 1).
        let depth = u32::BITS - (max_len - 1).leading_zeros();
        Self {
            n,
            blocks,
            perm,
            tree_slots: 1u32 << (depth + 1),
        }
    }

    /// Number of blocks.
    pub(crate) fn num_blocks(&self) -> u32 {
        match self.blocks {
            Blocks::Regular { k } => self.n.div_ceil(k),
            Blocks::Split { .. } => 2,
        }
    }

    /// The pass-position range of block `b`.
    pub(crate) fn block_range(&self, b: u32) -> (u32, u32) {
        match self.blocks {
            Blocks::Regular { k } => (b * k, ((b + 1) * k).min(self.n)),
            Blocks::Split { s } => {
                if b == 0 {
                    (0, s)
                } else {
                    (s, self.n)
                }
            }
        }
    }

    /// The block holding pass position `pos`.
    #[inline]
    pub(crate) fn block_of(&self, pos: u32) -> u32 {
        match self.blocks {
            Blocks::Regular { k } => pos / k,
            Blocks::Split { s } => u32::from(pos >= s),
        }
    }
}

/// What a pass is, as named on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PassSpec {
    /// Cascade pass `i` (0-based) of the schedule.
    Cascade(u16),
    /// BICONF round `r` (0-based).
    Biconf(u16),
}

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
/// the generator of the public shuffles. A shuffle only has to spread blocks uniformly; it is public
/// and needs no cryptographic strength, and this generator is ~10x cheaper per word than ChaCha8,
/// which dominated a frame's cost with per-pass shuffles. Seeded from the shared seed by BLAKE3
/// ([`derive_seed`]).
struct SplitMix64(u64);

impl SplitMix64 {
    #[inline]
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl rand::TryRng for SplitMix64 {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        // The high half of a 64-bit output; the truncation is the point.
        #[allow(clippy::cast_possible_truncation)]
        Ok((self.next() >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let w = self.next().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

/// Per-frame permutations by (key length, pass, seed), with BICONF's subset size.
type FrameMemo = HashMap<(u32, PassSpec, u64), (Arc<Perm>, u32)>;

/// Builds layouts; identity and deterministic permutations are computed once and shared by every
/// frame (they are public constants of the protocol), random ones are drawn per frame from the seed.
///
/// A per-frame permutation is a pure function of the public seed, so when both parties run in one
/// process the second one to need it takes the first one's copy from a small memo instead of
/// drawing it again (parties in separate processes each draw their own, with the same result).
#[derive(Debug, Default)]
pub(crate) struct PermCache {
    map: Mutex<HashMap<(u32, u16, bool), Arc<Perm>>>,
    frames: Mutex<FrameMemo>,
}

/// Seed of the deterministic shuffles (a public constant).
const DETERMINISTIC_SEED: u64 = 0x00c4_5cad_e5ee_d001;

impl PermCache {
    fn cached(&self, n: u32, pass: u16, identity: bool) -> Arc<Perm> {
        let key = (n, pass, identity);
        // A poisoned lock only means another thread panicked while inserting; the map is still
        // a valid cache, so keep using it.
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = map.get(&key) {
            return Arc::clone(p);
        }
        let perm = Arc::new(if identity {
            Perm::identity(n)
        } else {
            let mut rng = sim_rng(derive_seed(
                DETERMINISTIC_SEED,
                "cascade deterministic shuffle",
                u64::from(pass),
            ));
            Perm::random(n, &mut rng)
        });
        if map.len() >= 256 {
            map.clear();
        }
        map.insert(key, Arc::clone(&perm));
        perm
    }

    /// The per-frame permutation of `spec` (and BICONF's subset size), memoised by seed.
    fn per_frame(&self, n: u32, spec: PassSpec, seed: u64) -> (Arc<Perm>, u32) {
        let key = (n, spec, seed);
        {
            let map = self
                .frames
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((p, s)) = map.get(&key) {
                return (Arc::clone(p), *s);
            }
        }
        let (perm, s) = match spec {
            PassSpec::Cascade(p) => {
                let mut rng = SplitMix64(derive_seed(seed, "cascade shuffle", u64::from(p)));
                (Perm::random(n, &mut rng), 0)
            }
            PassSpec::Biconf(r) => {
                let mut rng = SplitMix64(derive_seed(seed, "cascade biconf", u64::from(r)));
                Perm::random_subset(n, &mut rng)
            }
        };
        let perm = Arc::new(perm);
        let mut map = self
            .frames
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A bounded memo: the two parties of a frame use an entry within one frame, so a few
        // frames' worth of passes is plenty (also with several threads).
        if map.len() >= 512 {
            map.clear();
        }
        map.insert(key, (Arc::clone(&perm), s));
        (perm, s)
    }

    /// The layout of `spec` for a key of `n` bits.
    pub(crate) fn layout(
        &self,
        spec: PassSpec,
        n: u32,
        block_sizes: &[usize],
        shuffle: crate::ShuffleMode,
        seed: u64,
    ) -> Option<Layout> {
        use crate::ShuffleMode as S;
        match spec {
            PassSpec::Cascade(p) => {
                let k = u32::try_from(*block_sizes.get(usize::from(p))?).ok()?;
                let perm = match (shuffle, p) {
                    (S::FirstPassIdentity | S::Deterministic, 0) => self.cached(n, 0, true),
                    (S::Deterministic, _) => self.cached(n, p, false),
                    _ => {
                        let mut rng = sim_rng(derive_seed(seed, "cascade shuffle", u64::from(p)));
                        Arc::new(Perm::random(n, &mut rng))
                    }
                };
                Some(Layout::new(n, Blocks::Regular { k }, perm))
            }
            PassSpec::Biconf(_) => {
                let (perm, s) = self.per_frame(n, spec, seed);
                Some(Layout::new(n, Blocks::Split { s }, perm))
            }
        }
    }
}

/// The key's bits in pass order: bit `i` of the result is bit `fwd[i]` of `src`.
pub(crate) fn permuted_words(src: &[u64], fwd: &[u32]) -> Vec<u64> {
    let mut out = vec![0u64; fwd.len().div_ceil(64)];
    for (dst, chunk) in out.iter_mut().zip(fwd.chunks(64)) {
        let mut acc = 0u64;
        for (i, &j) in chunk.iter().enumerate() {
            let j = j as usize;
            acc |= ((src[j >> 6] >> (j & 63)) & 1) << i;
        }
        *dst = acc;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutations_are_bijections() {
        let cache = PermCache::default();
        for spec in [
            PassSpec::Cascade(0),
            PassSpec::Cascade(3),
            PassSpec::Biconf(2),
        ] {
            for mode in [
                crate::ShuffleMode::FirstPassIdentity,
                crate::ShuffleMode::EveryPass,
                crate::ShuffleMode::Deterministic,
            ] {
                let l = cache.layout(spec, 1000, &[7, 14, 28, 56], mode, 5).unwrap();
                let mut seen = vec![false; 1000];
                for (i, &j) in l.perm.fwd.iter().enumerate() {
                    assert!(!seen[j as usize]);
                    seen[j as usize] = true;
                    assert_eq!(l.perm.inv[j as usize] as usize, i);
                }
            }
        }
    }

    /// Position of element 0 after shuffling 5 elements, over 20,000 shuffles: each of the 5
    /// positions has probability 1/5; count sd = sqrt(20000 * 0.2 * 0.8) ~ 57, tolerance 5 sd.
    #[test]
    fn shuffles_are_uniform() {
        let mut counts = [0usize; 5];
        let mut rng = sim_rng(11);
        for _ in 0..20_000 {
            let p = Perm::random(5, &mut rng);
            counts[p.inv[0] as usize] += 1;
        }
        for c in counts {
            assert!(c.abs_diff(4000) < 5 * 57, "{counts:?}");
        }
    }

    #[test]
    fn blocks_cover_the_key() {
        let cache = PermCache::default();
        let l = cache
            .layout(
                PassSpec::Cascade(0),
                100,
                &[30],
                crate::ShuffleMode::EveryPass,
                1,
            )
            .unwrap();
        assert_eq!(l.num_blocks(), 4);
        assert_eq!(l.block_range(3), (90, 100));
        assert_eq!(l.block_of(89), 2);
        // 30 bits -> depth 5 -> 64 slots.
        assert_eq!(l.tree_slots, 64);
    }

    #[test]
    fn gather_matches_bits() {
        let src = [0b1011u64];
        let out = permuted_words(&src, &[3, 2, 1, 0]);
        assert_eq!(out, [0b1101]);
    }
}
