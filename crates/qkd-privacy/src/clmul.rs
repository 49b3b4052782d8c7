//! Carry-less (GF(2)\[x\]) multiplication of long polynomials packed in 64-bit words.
//!
//! Layout: bit `i` of a polynomial is bit `i % 64` of word `i / 64` (the layout of
//! [`qkd_core::BitBlock`]), so word `k` holds the coefficients of `x^(64k) .. x^(64k+63)`.
//!
//! Products are computed by Karatsuba recursion (three half-size products per level,
//! `O(n^log2(3))` word operations) down to a schoolbook base case of [`BASE_WORDS`] words. The base
//! case uses the `PCLMULQDQ` instruction when the CPU has it (runtime detection, module
//! `pclmul`, the only `unsafe` code of the crate) and a portable constant-time integer-multiply
//! emulation otherwise. Both paths are tested against the bit-by-bit reference
//! [`qkd_core::confirm::clmul_reference`]. Above [`PAR_WORDS`] words the three sub-products run on
//! rayon's pool.

use zeroize::Zeroize;

/// Base-case size of the Karatsuba recursion, in words.
pub const BASE_WORDS: usize = 24;
/// Products of at least this many words per operand split their three halves across threads.
pub const PAR_WORDS: usize = 4096;

/// Low 64 bits of the carry-less product of two words, portable and branch-free.
///
/// Integer multiplication of the operands with holes: each masked operand keeps every fourth bit,
/// so the integer sums at any kept position count at most 16 terms, and only the top position can
/// reach 16 (its carry leaves the 64-bit word). The technique is BearSSL's `bmul64`.
#[inline]
fn bmul64(x: u64, y: u64) -> u64 {
    const M0: u64 = 0x1111_1111_1111_1111;
    const M1: u64 = 0x2222_2222_2222_2222;
    const M2: u64 = 0x4444_4444_4444_4444;
    const M3: u64 = 0x8888_8888_8888_8888;
    let (x0, x1, x2, x3) = (x & M0, x & M1, x & M2, x & M3);
    let (y0, y1, y2, y3) = (y & M0, y & M1, y & M2, y & M3);
    let z0 = x0.wrapping_mul(y0) ^ x1.wrapping_mul(y3) ^ x2.wrapping_mul(y2) ^ x3.wrapping_mul(y1);
    let z1 = x0.wrapping_mul(y1) ^ x1.wrapping_mul(y0) ^ x2.wrapping_mul(y3) ^ x3.wrapping_mul(y2);
    let z2 = x0.wrapping_mul(y2) ^ x1.wrapping_mul(y1) ^ x2.wrapping_mul(y0) ^ x3.wrapping_mul(y3);
    let z3 = x0.wrapping_mul(y3) ^ x1.wrapping_mul(y2) ^ x2.wrapping_mul(y1) ^ x3.wrapping_mul(y0);
    (z0 & M0) | (z1 & M1) | (z2 & M2) | (z3 & M3)
}

/// Full 128-bit carry-less product of two words, portable (no CPU extension needed).
///
/// The high half comes from the product of the bit-reversed operands: reversing both inputs
/// reverses the 127-bit product, so its low word reversed and shifted by one is the high half.
#[inline]
#[must_use]
pub fn clmul_portable(x: u64, y: u64) -> u128 {
    let lo = bmul64(x, y);
    let hi = bmul64(x.reverse_bits(), y.reverse_bits()).reverse_bits() >> 1;
    u128::from(lo) | (u128::from(hi) << 64)
}

/// Which base-case kernel the long multiplication uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Integer-multiply emulation, any CPU.
    Portable,
    /// The x86-64 `PCLMULQDQ` instruction (detected at run time).
    Pclmul,
}

impl Kernel {
    /// The fastest kernel this CPU supports.
    #[must_use]
    pub fn detect() -> Self {
        if crate::pclmul::Pclmul::detect().is_some() {
            Kernel::Pclmul
        } else {
            Kernel::Portable
        }
    }
}

/// Schoolbook product: `out[..a.len() + b.len()] = a * b` (out is overwritten).
fn schoolbook(kernel: Kernel, a: &[u64], b: &[u64], out: &mut [u64]) {
    if kernel == Kernel::Pclmul
        && let Some(p) = crate::pclmul::Pclmul::detect()
    {
        p.schoolbook(a, b, out);
        return;
    }
    schoolbook_portable(a, b, out);
}

fn schoolbook_portable(a: &[u64], b: &[u64], out: &mut [u64]) {
    let out = &mut out[..a.len() + b.len()];
    out.fill(0);
    for (i, &ai) in a.iter().enumerate() {
        for (j, &bj) in b.iter().enumerate() {
            let p = clmul_portable(ai, bj);
            // Splitting a u128 into its two words.
            #[allow(clippy::cast_possible_truncation)]
            {
                out[i + j] ^= p as u64;
                out[i + j + 1] ^= (p >> 64) as u64;
            }
        }
    }
}

/// Scratch words needed by [`karatsuba`] for operands of `n` words.
fn scratch_len(n: usize) -> usize {
    if n <= BASE_WORDS {
        0
    } else {
        let h = n.div_ceil(2);
        4 * h + scratch_len(h)
    }
}

/// `out[..2n] = a * b` for `a.len() == b.len() == n`.
fn karatsuba(kernel: Kernel, a: &[u64], b: &[u64], out: &mut [u64], scratch: &mut [u64]) {
    let n = a.len();
    debug_assert_eq!(b.len(), n);
    if n <= BASE_WORDS {
        schoolbook(kernel, a, b, out);
        return;
    }
    let h = n.div_ceil(2);
    let l = n - h;
    let (a0, a1) = a.split_at(h);
    let (b0, b1) = b.split_at(h);
    let out = &mut out[..2 * n];
    let (sums, rest) = scratch.split_at_mut(4 * h);
    let (sa, rest_sums) = sums.split_at_mut(h);
    let (sb, z1) = rest_sums.split_at_mut(h);
    sa.copy_from_slice(a0);
    sb.copy_from_slice(b0);
    for (s, &x) in sa.iter_mut().zip(a1) {
        *s ^= x;
    }
    for (s, &x) in sb.iter_mut().zip(b1) {
        *s ^= x;
    }
    {
        let (lo, hi) = out.split_at_mut(2 * h);
        if n >= PAR_WORDS {
            let mut r1 = vec![0u64; scratch_len(h)];
            let mut r2 = vec![0u64; scratch_len(h)];
            let (sa, sb) = (&*sa, &*sb);
            rayon::join(
                || karatsuba(kernel, a0, b0, lo, rest),
                || {
                    rayon::join(
                        || karatsuba(kernel, a1, b1, hi, &mut r1),
                        || karatsuba(kernel, sa, sb, z1, &mut r2),
                    )
                },
            );
            r1.zeroize();
            r2.zeroize();
        } else {
            karatsuba(kernel, a0, b0, lo, rest);
            karatsuba(kernel, a1, b1, hi, rest);
            karatsuba(kernel, sa, sb, z1, rest);
        }
    }
    // z1 = (a0+a1)(b0+b1) - a0 b0 - a1 b1, then added at offset h.
    for (z, &x) in z1.iter_mut().zip(&out[..2 * h]) {
        *z ^= x;
    }
    for (z, &x) in z1.iter_mut().zip(&out[2 * h..2 * h + 2 * l]) {
        *z ^= x;
    }
    // The middle term has degree < 2h; above 2n - h words it is zero (h <= l + 1).
    let mid_len = (2 * h).min(2 * n - h);
    for (o, &z) in out[h..h + mid_len].iter_mut().zip(&z1[..mid_len]) {
        *o ^= z;
    }
}

/// The carry-less product of two polynomials of any word lengths: `a.len() + b.len()` words.
///
/// Unbalanced operands are cut into balanced pieces (the shorter operand's length), multiplied
/// with Karatsuba, and accumulated; the pieces run in parallel on rayon's pool.
#[must_use]
pub fn mul(kernel: Kernel, a: &[u64], b: &[u64]) -> Vec<u64> {
    use rayon::prelude::*;
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut out = vec![0u64; long.len() + short.len()];
    let n = short.len();
    if n == 0 {
        return out;
    }
    let pieces: Vec<(usize, Vec<u64>)> = long
        .par_chunks(n)
        .enumerate()
        .map(|(c, chunk)| {
            let mut padded = Vec::new();
            let chunk = if chunk.len() == n {
                chunk
            } else {
                padded.resize(n, 0u64);
                padded[..chunk.len()].copy_from_slice(chunk);
                &padded[..]
            };
            let mut prod = vec![0u64; 2 * n];
            let mut scratch = vec![0u64; scratch_len(n)];
            karatsuba(kernel, chunk, short, &mut prod, &mut scratch);
            // Intermediate products of key material are secret: wipe before freeing.
            scratch.zeroize();
            padded.zeroize();
            (c * n, prod)
        })
        .collect();
    for (offset, mut prod) in pieces {
        let end = (offset + 2 * n).min(out.len());
        for (o, &p) in out[offset..end].iter_mut().zip(&prod) {
            *o ^= p;
        }
        prod.zeroize();
    }
    out
}

/// Peak extra memory of [`mul`] in words for operands of `long` and `short` words (excluding the
/// operands): the output, one product and one scratch buffer per piece, and the parallel
/// Karatsuba scratch copies.
#[must_use]
pub fn mul_peak_words(long: usize, short: usize) -> usize {
    let pieces = long.div_ceil(short.max(1));
    long + short + pieces * (3 * short + scratch_len(short)) + 2 * scratch_len(short.div_ceil(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_core::confirm::clmul_reference;

    fn mul_reference(a: &[u64], b: &[u64]) -> Vec<u64> {
        let mut out = vec![0u64; a.len() + b.len()];
        for (i, &x) in a.iter().enumerate() {
            for (j, &y) in b.iter().enumerate() {
                let p = clmul_reference(x, y);
                #[allow(clippy::cast_possible_truncation)]
                {
                    out[i + j] ^= p as u64;
                    out[i + j + 1] ^= (p >> 64) as u64;
                }
            }
        }
        out
    }

    proptest! {
        #[test]
        fn portable_word_product_matches_reference(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(clmul_portable(a, b), clmul_reference(a, b));
        }

        #[test]
        fn long_products_match_schoolbook_reference(
            a in proptest::collection::vec(any::<u64>(), 0..150),
            b in proptest::collection::vec(any::<u64>(), 0..150),
        ) {
            let want = mul_reference(&a, &b);
            prop_assert_eq!(&mul(Kernel::Portable, &a, &b), &want);
            prop_assert_eq!(&mul(Kernel::detect(), &a, &b), &want);
        }
    }

    #[test]
    fn all_ones_extremes() {
        assert_eq!(
            clmul_portable(u64::MAX, u64::MAX),
            clmul_reference(u64::MAX, u64::MAX)
        );
        assert_eq!(clmul_portable(1 << 63, 1 << 63), 1u128 << 126);
    }

    #[test]
    fn parallel_karatsuba_matches_sequential_kernels() {
        use rand::Rng;
        let mut rng = qkd_core::sim_rng(5);
        let a: Vec<u64> = (0..PAR_WORDS + 37).map(|_| rng.next_u64()).collect();
        let b: Vec<u64> = (0..PAR_WORDS + 37).map(|_| rng.next_u64()).collect();
        let fast = mul(Kernel::detect(), &a, &b);
        let portable = mul(Kernel::Portable, &a, &b);
        assert_eq!(fast, portable);
        // Spot-check a few output words against the definition (only the pairs that reach word k).
        for k in [0usize, 1, 999, PAR_WORDS, 2 * PAR_WORDS + 70] {
            let mut w = 0u64;
            for (i, &ai) in a.iter().enumerate().take(k + 1) {
                if let Some(&bj) = b.get(k - i) {
                    #[allow(clippy::cast_possible_truncation)]
                    {
                        w ^= clmul_reference(ai, bj) as u64;
                    }
                }
                if i < k
                    && let Some(&bj) = b.get(k - 1 - i)
                {
                    #[allow(clippy::cast_possible_truncation)]
                    {
                        w ^= (clmul_reference(ai, bj) >> 64) as u64;
                    }
                }
            }
            assert_eq!(fast[k], w, "word {k}");
        }
    }
}
