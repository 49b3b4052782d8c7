//! Confirmation (verification) of a reconciled key by a polynomial universal hash over GF(2^64).
//!
//! After reconciliation both parties hash their key with the same randomly chosen function and
//! compare tags; a mismatch discards the frame. The tag is the evaluation at a random nonzero point
//! `k` of the polynomial whose coefficients are the key's 64-bit words followed by its length:
//! `tag = sum_i w_i k^(L+2-i) + len k` (Horner). For two different keys of the same length the
//! difference is a nonzero polynomial of degree at most `L + 1` in `k`, so the tags collide with
//! probability at most `(L + 1) / (2^64 - 1)` over the choice of `k` (Wegman-Carter / Stinson).
//! That bound is the eps_cor contribution reported by [`ConfirmationHasher::collision_bound`].
//!
//! The hash point must be chosen independently of the keys (after the frame is fixed); protocols
//! derive it from the shared per-frame seed with [`crate::derive_seed`]. Tags are compared in
//! constant time. qkd-privacy builds its confirmation and Wegman-Carter authentication on this
//! field arithmetic.

use subtle::ConstantTimeEq;

use crate::BitBlock;

/// Bits in a confirmation tag.
pub const TAG_BITS: u64 = 64;

/// Carry-less multiply of two 64-bit polynomials over GF(2) (128-bit product), bit by bit.
/// Reference implementation for tests and for the one-off table setup.
#[must_use]
pub fn clmul_reference(a: u64, b: u64) -> u128 {
    let mut acc = 0u128;
    for i in 0..64 {
        if (b >> i) & 1 == 1 {
            acc ^= u128::from(a) << i;
        }
    }
    acc
}

/// Reduces a 128-bit polynomial modulo `x^64 + x^4 + x^3 + x + 1`.
#[must_use]
pub fn gf64_reduce(p: u128) -> u64 {
    // Truncations below keep exactly the low 64 bits of a u128, as intended.
    #[allow(clippy::cast_possible_truncation)]
    let (lo, hi) = (p as u64, (p >> 64) as u64);
    let t = u128::from(hi) ^ (u128::from(hi) << 1) ^ (u128::from(hi) << 3) ^ (u128::from(hi) << 4);
    #[allow(clippy::cast_possible_truncation)]
    let (t_lo, over) = (t as u64, (t >> 64) as u64);
    lo ^ t_lo ^ over ^ (over << 1) ^ (over << 3) ^ (over << 4)
}

/// Multiplication in GF(2^64) with the modulus `x^64 + x^4 + x^3 + x + 1`.
#[must_use]
pub fn gf64_mul(a: u64, b: u64) -> u64 {
    gf64_reduce(clmul_reference(a, b))
}

/// Multiplier by a fixed field element with a 4-bit window table (16 table steps per product).
#[derive(Clone)]
pub struct Gf64Multiplier {
    table: [u128; 16],
}

impl Gf64Multiplier {
    /// A multiplier by `k`.
    #[must_use]
    pub fn new(k: u64) -> Self {
        let mut table = [0u128; 16];
        for (j, t) in (0u64..).zip(table.iter_mut()) {
            *t = clmul_reference(k, j);
        }
        Self { table }
    }

    /// `a * k` in GF(2^64).
    #[inline]
    #[must_use]
    pub fn mul(&self, a: u64) -> u64 {
        let mut acc = 0u128;
        for i in (0..16).rev() {
            acc = (acc << 4) ^ self.table[((a >> (4 * i)) & 0xf) as usize];
        }
        gf64_reduce(acc)
    }
}

impl std::fmt::Debug for Gf64Multiplier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gf64Multiplier { .. }")
    }
}

/// The polynomial hash of a key at a secret point, used to confirm reconciliation.
///
/// ```
/// use qkd_core::{BitBlock, ConfirmationHasher};
/// let h = ConfirmationHasher::from_seed(7);
/// let a = BitBlock::from_bytes(b"reconciled");
/// let mut b = a.clone();
/// assert!(h.tags_match(h.tag(&a), h.tag(&b)));
/// b.flip(3)?;
/// assert!(!h.tags_match(h.tag(&a), h.tag(&b)));
/// # Ok::<(), qkd_core::CoreError>(())
/// ```
#[derive(Clone)]
pub struct ConfirmationHasher {
    mul: Gf64Multiplier,
}

impl ConfirmationHasher {
    /// A hasher at the point derived from `seed` (never zero).
    #[must_use]
    pub fn from_seed(seed: u64) -> Self {
        let k = crate::derive_seed(seed, "confirmation point", 0).max(1);
        Self {
            mul: Gf64Multiplier::new(k),
        }
    }

    /// The 64-bit tag of `key`.
    #[must_use]
    pub fn tag(&self, key: &BitBlock) -> u64 {
        let mut h = 0u64;
        for &w in key.words() {
            h = self.mul.mul(h ^ w);
        }
        self.mul.mul(h ^ key.len() as u64)
    }

    /// Constant-time tag comparison.
    #[must_use]
    pub fn tags_match(&self, a: u64, b: u64) -> bool {
        bool::from(a.ct_eq(&b))
    }

    /// Upper bound on the probability that two different keys of `len_bits` bits get equal tags.
    #[must_use]
    pub fn collision_bound(len_bits: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let words = len_bits.div_ceil(64) as f64;
        (words + 1.0) / 18_446_744_073_709_551_615.0
    }
}

impl std::fmt::Debug for ConfirmationHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConfirmationHasher { .. }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn windowed_multiplier_matches_reference(a in any::<u64>(), k in any::<u64>()) {
            prop_assert_eq!(Gf64Multiplier::new(k).mul(a), gf64_mul(a, k));
        }

        #[test]
        fn field_laws(a in any::<u64>(), b in any::<u64>(), c in any::<u64>()) {
            prop_assert_eq!(gf64_mul(a, b), gf64_mul(b, a));
            prop_assert_eq!(gf64_mul(gf64_mul(a, b), c), gf64_mul(a, gf64_mul(b, c)));
            prop_assert_eq!(gf64_mul(a, b ^ c), gf64_mul(a, b) ^ gf64_mul(a, c));
            prop_assert_eq!(gf64_mul(a, 1), a);
        }

        #[test]
        fn single_bit_flips_change_the_tag(seed in any::<u64>(), n in 1usize..500, pos in any::<usize>()) {
            let key = BitBlock::random(n, &mut crate::sim_rng(seed));
            let mut other = key.clone();
            other.flip(pos % n).unwrap();
            let h = ConfirmationHasher::from_seed(seed ^ 1);
            // A single flip is a difference polynomial with one monomial: never zero at k != 0.
            prop_assert_ne!(h.tag(&key), h.tag(&other));
        }
    }

    #[test]
    fn x_to_the_64_reduces_to_the_modulus_tail() {
        // x^63 * x = x^64 = x^4 + x^3 + x + 1.
        assert_eq!(gf64_mul(1 << 63, 2), 0b11011);
    }

    #[test]
    fn bound_is_tiny() {
        assert!(ConfirmationHasher::collision_bound(10_000) < 1e-16);
    }
}
