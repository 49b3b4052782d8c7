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

/// Base-case size of the Toeplitz recursion, in words.
pub const TOEPLITZ_BASE_WORDS: usize = 16;

/// Toeplitz base case: `out[i] = xor_j clmul(t[i - j + n - 1], v[j])`, `n = v.len()`.
fn toeplitz_base(kernel: Kernel, t: &[u64], v: &[u64], out: &mut [u128]) {
    if kernel == Kernel::Pclmul
        && let Some(p) = crate::pclmul::Pclmul::detect()
    {
        p.toeplitz(t, v, out);
        return;
    }
    let n = v.len();
    for (i, o) in out[..n].iter_mut().enumerate() {
        *o = t[i..i + n]
            .iter()
            .rev()
            .zip(v)
            .fold(0u128, |acc, (&tv, &vj)| acc ^ clmul_portable(tv, vj));
    }
}

/// Scratch `(u64, u128)` lengths for [`toeplitz_mv`] of size `n`.
fn tmv_scratch(n: usize) -> (usize, usize) {
    if n <= TOEPLITZ_BASE_WORDS {
        (0, 0)
    } else if n % 2 == 1 {
        tmv_scratch(n - 1)
    } else {
        let h = n / 2;
        let (a, b) = tmv_scratch(h);
        (h + 2 * h - 1 + a, h + b)
    }
}

/// Square Toeplitz matrix-vector product over GF(2)\[x\] with word coefficients:
/// `out[i] = sum_j t[i - j + n - 1] * v[j]` (128-bit products), `t.len() == 2n - 1`.
///
/// The two-way split `T = [[A, B], [C, A]]` gives `y0 = A(v0 + v1) + (B - A) v1` and
/// `y1 = A(v0 + v1) + (C - A) v0`: three half-size products (the transposed Karatsuba, or
/// "Toeplitz matrix-vector product" splitting of Fan and Hasan, IEEE TC 56 (2007), section 3),
/// `O(n^1.585)` word products. An odd size peels its last row and column.
fn toeplitz_mv(
    kernel: Kernel,
    t: &[u64],
    v: &[u64],
    out: &mut [u128],
    s64: &mut [u64],
    s128: &mut [u128],
) {
    let n = v.len();
    if n <= TOEPLITZ_BASE_WORDS {
        toeplitz_base(kernel, t, v, out);
        return;
    }
    if n % 2 == 1 {
        // T = [[T', c], [r, t_last]] with T' = Toeplitz(t[1..2n-2]).
        let m = n - 1;
        toeplitz_mv(kernel, &t[1..2 * n - 2], &v[..m], &mut out[..m], s64, s128);
        let last = v[m];
        for (i, o) in out[..m].iter_mut().enumerate() {
            // Column m of row i: t[i - m + n - 1] = t[i].
            *o ^= clmul_dispatch(kernel, t[i], last);
        }
        // Row m: t[m - j + n - 1] = t[2n - 2 - j].
        out[m] = v.iter().enumerate().fold(0u128, |acc, (j, &vj)| {
            acc ^ clmul_dispatch(kernel, t[2 * n - 2 - j], vj)
        });
        return;
    }
    let h = n / 2;
    let (v0, v1) = v.split_at(h);
    let t_a = &t[h..3 * h - 1];
    let t_b = &t[..2 * h - 1];
    let t_c = &t[2 * h..4 * h - 1];
    if n >= PAR_WORDS {
        let mut sv: Vec<u64> = v0.iter().zip(v1).map(|(a, b)| a ^ b).collect();
        let mut tb: Vec<u64> = t_b.iter().zip(t_a).map(|(a, b)| a ^ b).collect();
        let mut tc: Vec<u64> = t_c.iter().zip(t_a).map(|(a, b)| a ^ b).collect();
        let (o0, o1) = out[..n].split_at_mut(h);
        let mut p1 = vec![0u128; h];
        let mut p2 = vec![0u128; h];
        let (x64, x128) = tmv_scratch(h);
        let (mut a64, mut a128) = (vec![0u64; x64], vec![0u128; x128]);
        let (mut b64, mut b128) = (vec![0u64; x64], vec![0u128; x128]);
        rayon::join(
            || toeplitz_mv(kernel, t_a, &sv, o0, s64, s128),
            || {
                rayon::join(
                    || toeplitz_mv(kernel, &tb, v1, &mut p1, &mut a64, &mut a128),
                    || toeplitz_mv(kernel, &tc, v0, &mut p2, &mut b64, &mut b128),
                )
            },
        );
        o1.copy_from_slice(o0);
        for (o, p) in o0.iter_mut().zip(&p1) {
            *o ^= p;
        }
        for (o, p) in o1.iter_mut().zip(&p2) {
            *o ^= p;
        }
        for buf in [&mut sv, &mut tb, &mut tc, &mut a64, &mut b64] {
            buf.zeroize();
        }
        for buf in [&mut p1, &mut p2, &mut a128, &mut b128] {
            buf.zeroize();
        }
        return;
    }
    let (sv, rest64) = s64.split_at_mut(h);
    let (st, rest64) = rest64.split_at_mut(2 * h - 1);
    let (tmp, rest128) = s128.split_at_mut(h);
    for ((s, &a), &b) in sv.iter_mut().zip(v0).zip(v1) {
        *s = a ^ b;
    }
    let (o0, o1) = out[..n].split_at_mut(h);
    toeplitz_mv(kernel, t_a, sv, o0, rest64, rest128);
    o1.copy_from_slice(o0);
    for ((s, &a), &b) in st.iter_mut().zip(t_b).zip(t_a) {
        *s = a ^ b;
    }
    toeplitz_mv(kernel, st, v1, tmp, rest64, rest128);
    for (o, p) in o0.iter_mut().zip(tmp.iter()) {
        *o ^= p;
    }
    for ((s, &a), &b) in st.iter_mut().zip(t_c).zip(t_a) {
        *s = a ^ b;
    }
    toeplitz_mv(kernel, st, v0, tmp, rest64, rest128);
    for (o, p) in o1.iter_mut().zip(tmp.iter()) {
        *o ^= p;
    }
}

fn clmul_dispatch(kernel: Kernel, a: u64, b: u64) -> u128 {
    if kernel == Kernel::Pclmul
        && let Some(p) = crate::pclmul::Pclmul::detect()
    {
        let mut out = [0u128; 1];
        p.toeplitz(&[a], &[b], &mut out);
        return out[0];
    }
    clmul_portable(a, b)
}

/// Words `w0 .. w0 + len` of the product `a * b` (a middle product), computed as a Toeplitz
/// matrix-vector product over word coefficients: only the needed diagonals are formed, which
/// for Toeplitz hashing at compression 1/2 costs a third of the full product.
///
/// The rows are the diagonal sums `S_t = sum_j a[t - j] b[j]` (128-bit) for
/// `t = w0 - 1 .. w0 + len`, cut into square blocks of `q = min(rows, b.len())` words that run in
/// parallel; word `w` of the product is `lo(S_w) xor hi(S_(w-1))`.
#[must_use]
pub fn middle_product(kernel: Kernel, a: &[u64], b: &[u64], w0: usize, len: usize) -> Vec<u64> {
    use rayon::prelude::*;
    let k = b.len();
    let rows = len + 1;
    if k == 0 || len == 0 {
        return vec![0u64; len];
    }
    let q = rows.min(k);
    let row_blocks = rows.div_ceil(q);
    let col_blocks = k.div_ceil(q);
    // The first diagonal t0 = w0 - 1 may be -1: indices below are computed as unsigned
    // differences and a negative one reads zero.
    let blocks: Vec<(usize, Vec<u128>)> = (0..row_blocks * col_blocks)
        .into_par_iter()
        .map(|blk| {
            let (rb, cb) = (blk / col_blocks, blk % col_blocks);
            // Block entry (r, j) = a[t0 + rb q + r - cb q - j]; diagonal vector
            // d[x] = a[t0 + rb q - cb q + x - q + 1], x = r - j + q - 1.
            let mut d = vec![0u64; 2 * q - 1];
            for (x, dx) in d.iter_mut().enumerate() {
                // index = (w0 - 1) + rb q - cb q + x - q + 1 = (w0 + rb q + x) - (cb q + q).
                let plus = w0 + rb * q + x;
                let minus = cb * q + q;
                if plus >= minus {
                    *dx = a.get(plus - minus).copied().unwrap_or(0);
                }
            }
            let mut v = vec![0u64; q];
            let src = &b[(cb * q).min(k)..((cb + 1) * q).min(k)];
            v[..src.len()].copy_from_slice(src);
            let mut out = vec![0u128; q];
            let (x64, x128) = tmv_scratch(q);
            let (mut s64, mut s128) = (vec![0u64; x64], vec![0u128; x128]);
            toeplitz_mv(kernel, &d, &v, &mut out, &mut s64, &mut s128);
            d.zeroize();
            v.zeroize();
            s64.zeroize();
            s128.zeroize();
            (rb * q, out)
        })
        .collect();
    let mut sums = vec![0u128; rows];
    for (start, mut out) in blocks {
        let end = (start + q).min(rows);
        for (s, o) in sums[start..end].iter_mut().zip(&out) {
            *s ^= o;
        }
        out.zeroize();
    }
    // sums[r] = S_(w0 - 1 + r); word w0 + i = lo(S_(w0+i)) ^ hi(S_(w0+i-1)).
    let words = (0..len)
        .map(|i| {
            // Splitting u128 sums into their two words.
            #[allow(clippy::cast_possible_truncation)]
            let (lo, hi) = (sums[i + 1] as u64, (sums[i] >> 64) as u64);
            lo ^ hi
        })
        .collect();
    sums.zeroize();
    words
}

/// Peak extra memory of [`middle_product`] in bytes for `b_words` columns and `len` output words,
/// assuming every block is in flight at once (the worst case of the parallel map): per block the
/// diagonal (`2q` words), the vector (`q`), the 128-bit output (`2q`) and the recursion scratch,
/// plus the sums (`2 (len + 1)` words) and the top-level parallel copies (`~6q` words).
#[must_use]
pub fn middle_product_peak_bytes(b_words: usize, len: usize) -> usize {
    let rows = len + 1;
    let q = rows.min(b_words).max(1);
    let blocks = rows.div_ceil(q) * b_words.div_ceil(q);
    let (s64, s128) = tmv_scratch(q);
    let per_block = 8 * (2 * q + q + s64) + 16 * (q + s128);
    blocks * per_block + 16 * rows + 8 * 6 * q
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

    proptest! {
        #[test]
        fn middle_product_matches_full_product(
            a in proptest::collection::vec(any::<u64>(), 1..200),
            b in proptest::collection::vec(any::<u64>(), 1..120),
            w0 in 0usize..300, len in 0usize..300,
        ) {
            let full = mul(Kernel::Portable, &a, &b);
            let want: Vec<u64> = (w0..w0 + len).map(|w| full.get(w).copied().unwrap_or(0)).collect();
            prop_assert_eq!(&middle_product(Kernel::detect(), &a, &b, w0, len), &want);
            prop_assert_eq!(&middle_product(Kernel::Portable, &a, &b, w0, len), &want);
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
