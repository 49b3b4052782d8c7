//! Exact `O(n log n)` carry-less multiplication: an additive FFT over GF(2^64).
//!
//! Why this method: Karatsuba ([`crate::clmul`]) costs `O(n^1.585)` word products, which at
//! 1e8-bit inputs is ~1e10 `PCLMULQDQ`s. An additive FFT (Lin, Chung, Han, "Novel polynomial
//! basis and its application to Reed-Solomon erasure codes", FOCS 2014; as used for long binary
//! polynomials by Chen, Cheng, Kuo, Li, Yang, "Faster multiplication for long binary
//! polynomials", 2017) needs `k 2^(k-1)` field products per transform of `2^k` points. There is
//! no floating point: every step is exact arithmetic in GF(2^64).
//!
//! Steps of [`mul`] for `a(x) b(x)` over GF(2):
//! 1. **Kronecker packing.** Cut both operands into 32-bit chunks; chunk `i` is a polynomial of
//!    degree < 32 in `x`, read as an element of GF(2^64) = GF(2)\[x\]/(x^64 + x^4 + x^3 + x + 1).
//!    Then `a = A(y)`, `b = B(y)` at `y = x^32`, with `A, B` in GF(2^64)\[y\]. A product of two
//!    chunks has degree <= 62 < 64, so it is never reduced: the coefficients of `A B` computed in the
//!    field are exactly the GF(2)\[x\] coefficients, and `a b` is the overlap-XOR of the 63-bit
//!    coefficients at shift 32.
//! 2. **Novel basis.** With the Cantor basis `v_0 = 1`, `v_i^2 + v_i = v_(i-1)` of GF(2^64), the
//!    subspace polynomials `W_i(y) = prod_(a in span(v_0..v_(i-1))) (y - a)` are `W_1 = y^2 + y`
//!    composed `i` times: they have coefficients in GF(2), `W_i(v_i) = 1`, `W_i(v_(i+t)) = v_t`, and
//!    `W_(2^t) = y^(2^(2^t)) + y`. The novel basis is `X_j = prod_(bit i of j) W_i`. Conversion
//!    from the monomial basis (`to_novel_filled`) is a Taylor expansion at `y^(2^s) + y` (`s` a
//!    power of two) followed by conversions of the two halves of the index bits; only XORs of
//!    whole elements, `O(n log n log log n)` of them (Lin-Chung-Han 2016, section IV; Gao-Mateer
//!    2010, section 3). The XORs act on every bit lane alike, so both operands' 32-bit chunks
//!    share one conversion (one in the low, one in the high half of each word). Conversions of
//!    up to 256 rows run as recorded XOR programs (eight blocks at a time where rows are one
//!    word); the small Taylor steps run block by block in cache together with the inner
//!    conversions, and the wide outer conversion runs on column stripes that fit the cache.
//! 3. **Transform.** Evaluation at the `2^k` points `omega(u) = sum_(bit i of u) v_i`: layer `i`
//!    splits each block `D = D0 + W_i D1` with the butterfly `a = D0 + c D1`, `b = a + D1`,
//!    `c = W_i(beta) = omega(2 * block)`; the inverse runs the butterflies backwards.
//! 4. Pointwise products, inverse transform, back to the monomial basis, unpack.
//!
//! The transform has `2^k >= deg(A B) + 1` points, so the product is never wrapped.
//!
//! Cache and threads: the transforms recurse depth first, so every block of at most
//! [`BLOCK_WORDS`] elements runs all its remaining layers in L1/L2; the two operands are
//! transformed in parallel (`rayon::join`), and large butterfly layers, conversions, packing and
//! the pointwise product split across rayon's pool.
//!
//! Sums: [`middle_product_sum`] adds several products of one shape in the transform domain and
//! runs one inverse transform (a Toeplitz hash of 1e8 bits as two half-input products of `2^22`
//! points instead of one of `2^23`).
//!
//! Memory: two arrays of `2^k` words, three for a sum ([`middle_product_peak_words`],
//! [`middle_product_sum_peak_words`]). Arrays of `2^20` words or more are zeroized after use and
//! kept (at most three) for the next product of the same size, which saves the first-touch page
//! faults (about a sixth of the CPU time of a 1e8-bit hash); [`release_scratch`] frees them.

use rayon::prelude::*;
use std::sync::{Mutex, OnceLock};
use zeroize::Zeroize;

use crate::clmul::{Kernel, clmul_portable};

/// Largest transform: `2^MAX_LOG` elements of 32 input bits (far above any key block).
pub const MAX_LOG: usize = 33;
/// Blocks of at most this many elements run all their remaining FFT layers in one in-cache pass.
pub const BLOCK_WORDS: usize = 1 << 12;
/// Slices of at least this many elements split their work across rayon's pool.
const PAR_WORDS: usize = 1 << 15;
/// The basis conversions run their small steps on blocks of at most this many words (1 MB, the
/// L2 of the machines we measured) in one go ([`to_novel_blocked`]).
const CONV_BLOCK_WORDS: usize = 1 << 17;

/// Reduces `hi x^64 + lo` modulo `x^64 + x^4 + x^3 + x + 1`.
///
/// `hi x^64 = hi (x^4 + x^3 + x + 1) = L(hi) + x^64 o` with `L(z) = z ^ z<<1 ^ z<<3 ^ z<<4`
/// (truncated) and `o` the bits shifted out; `o` has at most 4 bits, so `x^64 o = L(o)` and the
/// result is `lo ^ L(hi ^ o)`.
#[inline(always)]
pub(crate) fn reduce(lo: u64, hi: u64) -> u64 {
    let h = hi ^ (hi >> 63) ^ (hi >> 61) ^ (hi >> 60);
    lo ^ h ^ (h << 1) ^ (h << 3) ^ (h << 4)
}

/// GF(2^64) arithmetic and the hot loops built on it, one implementation per base kernel (the
/// `PCLMULQDQ` one compiles the generic loops below with the CPU feature enabled).
pub(crate) trait Field: Copy + Send + Sync {
    /// Field product.
    fn mul(self, a: u64, b: u64) -> u64;
    /// All FFT layers of one block of `d.len()` (a power of two) elements at position `p`.
    fn fft_block(self, d: &mut [u64], p: usize);
    /// All inverse FFT layers of one block.
    fn ifft_block(self, d: &mut [u64], p: usize);
    /// Layers 2, 1, 0 of a block whose length is a multiple of 8 at position `p` (a multiple of 8).
    fn fft_low(self, d: &mut [u64], p: usize);
    /// Inverse layers 0, 1, 2 of such a block.
    fn ifft_low(self, d: &mut [u64], p: usize);
    /// One forward butterfly layer between two halves with the constant `c`.
    fn butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64);
    /// One inverse butterfly layer.
    fn inv_butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64);
    /// `a[i] = a[i] b[i]`.
    fn pointwise(self, a: &mut [u64], b: &[u64]);
}

#[inline(always)]
pub(crate) fn butterfly_generic<F: Field>(f: F, lo: &mut [u64], hi: &mut [u64], c: u64) {
    for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
        *x ^= f.mul(c, *y);
        *y ^= *x;
    }
}

#[inline(always)]
pub(crate) fn inv_butterfly_generic<F: Field>(f: F, lo: &mut [u64], hi: &mut [u64], c: u64) {
    for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
        *y ^= *x;
        *x ^= f.mul(c, *y);
    }
}

/// Butterfly runs of at least this many pairs go through [`Field::butterfly`] (vectorised where
/// the field has a wide kernel); shorter ones are inlined scalar loops.
const WIDE: usize = 8;

#[inline(always)]
pub(crate) fn fft_block_generic<F: Field>(f: F, d: &mut [u64], p: usize) {
    let layers = d.len().trailing_zeros();
    let low = if layers >= 3 { 3 } else { 0 };
    fft_layers_generic(f, d, p, low..layers);
    if low == 3 {
        f.fft_low(d, p);
    }
}

#[inline(always)]
pub(crate) fn fft_layers_generic<F: Field>(
    f: F,
    d: &mut [u64],
    p: usize,
    layers: std::ops::Range<u32>,
) {
    for i in layers.rev() {
        let half = 1usize << i;
        for (bi, blk) in d.chunks_exact_mut(2 * half).enumerate() {
            let c = omega((p >> i) + 2 * bi);
            let (lo, hi) = blk.split_at_mut(half);
            if half >= WIDE {
                f.butterfly(lo, hi, c);
            } else {
                butterfly_generic(f, lo, hi, c);
            }
        }
    }
}

#[inline(always)]
pub(crate) fn ifft_block_generic<F: Field>(f: F, d: &mut [u64], p: usize) {
    let layers = d.len().trailing_zeros();
    let low = if layers >= 3 { 3 } else { 0 };
    if low == 3 {
        f.ifft_low(d, p);
    }
    ifft_layers_generic(f, d, p, low..layers);
}

#[inline(always)]
pub(crate) fn ifft_layers_generic<F: Field>(
    f: F,
    d: &mut [u64],
    p: usize,
    layers: std::ops::Range<u32>,
) {
    for i in layers {
        let half = 1usize << i;
        for (bi, blk) in d.chunks_exact_mut(2 * half).enumerate() {
            let c = omega((p >> i) + 2 * bi);
            let (lo, hi) = blk.split_at_mut(half);
            if half >= WIDE {
                f.inv_butterfly(lo, hi, c);
            } else {
                inv_butterfly_generic(f, lo, hi, c);
            }
        }
    }
}

#[inline(always)]
pub(crate) fn pointwise_generic<F: Field>(f: F, a: &mut [u64], b: &[u64]) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x = f.mul(*x, y);
    }
}

/// The portable field: products by the integer-multiply emulation of [`clmul_portable`].
#[derive(Clone, Copy, Debug)]
pub(crate) struct PortableField;

impl Field for PortableField {
    #[inline(always)]
    fn mul(self, a: u64, b: u64) -> u64 {
        let p = clmul_portable(a, b);
        // Splitting the u128 product into its words.
        #[allow(clippy::cast_possible_truncation)]
        reduce(p as u64, (p >> 64) as u64)
    }
    fn fft_block(self, d: &mut [u64], p: usize) {
        fft_block_generic(self, d, p);
    }
    fn ifft_block(self, d: &mut [u64], p: usize) {
        ifft_block_generic(self, d, p);
    }
    fn fft_low(self, d: &mut [u64], p: usize) {
        fft_layers_generic(self, d, p, 0..3);
    }
    fn ifft_low(self, d: &mut [u64], p: usize) {
        ifft_layers_generic(self, d, p, 0..3);
    }
    fn butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        butterfly_generic(self, lo, hi, c);
    }
    fn inv_butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        inv_butterfly_generic(self, lo, hi, c);
    }
    fn pointwise(self, a: &mut [u64], b: &[u64]) {
        pointwise_generic(self, a, b);
    }
}

/// Tables for `omega(u)` over the Cantor basis.
struct Basis {
    /// `tables[t][x] = omega(x << (11 t))` for 11-bit `x`.
    tables: Vec<[u64; 2048]>,
}

fn basis() -> &'static Basis {
    static BASIS: OnceLock<Basis> = OnceLock::new();
    BASIS.get_or_init(|| {
        let v = cantor_basis();
        let tables = (0..MAX_LOG.div_ceil(11))
            .map(|t| {
                let mut tab = [0u64; 2048];
                for (x, e) in tab.iter_mut().enumerate() {
                    for bit in 0..11 {
                        let i = 11 * t + bit;
                        if (x >> bit) & 1 == 1 && i < MAX_LOG {
                            *e ^= v[i];
                        }
                    }
                }
                tab
            })
            .collect();
        Basis { tables }
    })
}

/// The evaluation point `omega(u) = sum_(bit i of u) v_i` (`u < 2^MAX_LOG`).
#[inline(always)]
pub(crate) fn omega(u: usize) -> u64 {
    let t = &basis().tables;
    let mut acc = t[0][u & 2047];
    let mut rest = u >> 11;
    let mut k = 1;
    while rest != 0 && k < t.len() {
        acc ^= t[k][rest & 2047];
        rest >>= 11;
        k += 1;
    }
    acc
}

/// Solves `v^2 + v = a` in GF(2^64) by Gaussian elimination over GF(2) (`v -> v^2 + v` is
/// GF(2)-linear with kernel `{0, 1}`); `None` if `a` has trace 1.
fn solve_artin_schreier(a: u64) -> Option<u64> {
    use qkd_core::confirm::gf64_mul;
    let cols: Vec<u64> = (0..64)
        .map(|j| gf64_mul(1 << j, 1 << j) ^ (1 << j))
        .collect();
    // Row r: the coefficients of the unknown bits in output bit r, and the right-hand side.
    let mut rows: Vec<(u64, u64)> = (0..64)
        .map(|r| {
            let mask = (0..64).fold(0u64, |m, j| m | (((cols[j] >> r) & 1) << j));
            (mask, (a >> r) & 1)
        })
        .collect();
    let mut pivots = Vec::new();
    let mut rank = 0;
    for j in 0..64 {
        let Some(p) = (rank..64).find(|&r| (rows[r].0 >> j) & 1 == 1) else {
            continue;
        };
        rows.swap(rank, p);
        let pivot = rows[rank];
        for (r, row) in rows.iter_mut().enumerate() {
            if r != rank && (row.0 >> j) & 1 == 1 {
                row.0 ^= pivot.0;
                row.1 ^= pivot.1;
            }
        }
        pivots.push(j);
        rank += 1;
    }
    if rows[rank..].iter().any(|&(_, rhs)| rhs == 1) {
        return None;
    }
    // Free unknowns are 0, so each pivot unknown equals its row's right-hand side.
    let v = pivots
        .iter()
        .zip(&rows)
        .fold(0u64, |v, (&j, &(_, rhs))| v | (rhs << j));
    (gf64_mul(v, v) ^ v == a).then_some(v)
}

fn cantor_basis() -> [u64; MAX_LOG] {
    let mut v = [0u64; MAX_LOG];
    v[0] = 1;
    for i in 1..MAX_LOG {
        // In GF(2^(2^6)) the Cantor sequence exists up to index 63: every step has a solution.
        v[i] = solve_artin_schreier(v[i - 1]).unwrap_or(0);
    }
    v
}

/// `d[dst rows] ^= d[src rows]` for `n` rows of `w` words, `dst + n <= src`.
fn xor_rows(d: &mut [u64], src: usize, dst: usize, n: usize, w: usize) {
    let (a, b) = d.split_at_mut(src * w);
    let (a, b) = (&mut a[dst * w..(dst + n) * w], &b[..n * w]);
    if a.len() >= PAR_WORDS {
        a.par_chunks_mut(PAR_WORDS / 4)
            .zip(b.par_chunks(PAR_WORDS / 4))
            .for_each(|(x, y)| xor_into(x, y));
    } else {
        xor_into(a, b);
    }
}

fn xor_into(x: &mut [u64], y: &[u64]) {
    for (a, &b) in x.iter_mut().zip(y) {
        *a ^= b;
    }
}

/// Taylor expansion of `2^k` rows (width `w`, `k` implied by `d.len()`) at `Y = y^tau + y`,
/// `tau = 2^s`: afterwards row block `m` (of `tau` rows) holds `g_m` with `f = sum_m g_m(y) Y^m`.
/// Step `j` divides blocks of `2 tau 2^j` rows by `Y^(2^j) = y^(tau 2^j) + y^(2^j)`; the full
/// expansion runs steps `k - s - 1 .. 0` (`inverse` undoes them in the opposite order). Only the
/// steps in `steps` run here: each step acts on its blocks independently, so the small steps can
/// run block by block while the block is in cache ([`to_novel_blocked`]).
///
/// Rows from `filled` on are zero and stay zero (every step moves data to lower rows), so steps
/// whose source lies there are skipped: the forward conversion of a half-empty operand is cheaper.
fn taylor_steps(
    d: &mut [u64],
    s: usize,
    w: usize,
    inverse: bool,
    filled: usize,
    steps: std::ops::Range<usize>,
) {
    let step = |d: &mut [u64], j: usize| {
        let (a, b) = ((1usize << s) << j, 1usize << j);
        let delta = a - b;
        let run = |(bi, blk): (usize, &mut [u64])| {
            let start = bi * 2 * a;
            // Rows of this block's sources that can be nonzero.
            let live = |src: usize, n: usize| n.min(filled.saturating_sub(start + src));
            // Quotient rows are read top down; both runs move rows down by delta.
            if inverse {
                xor_rows(blk, a, b, live(a, b), w);
                xor_rows(blk, a + b, 2 * b, live(a + b, delta), w);
            } else {
                xor_rows(blk, a + b, 2 * b, live(a + b, delta), w);
                xor_rows(blk, a, b, live(a, b), w);
            }
        };
        let blk_len = 2 * a * w;
        if d.len() >= PAR_WORDS && d.len() / blk_len >= 4 {
            d.par_chunks_exact_mut(blk_len).enumerate().for_each(run);
        } else {
            d.chunks_exact_mut(blk_len).enumerate().for_each(run);
        }
    };
    if inverse {
        steps.for_each(|j| step(d, j));
    } else {
        steps.rev().for_each(|j| step(d, j));
    }
}

/// Largest power of two below `k >= 2`.
fn split_point(k: usize) -> usize {
    1 << (usize::BITS - 1 - (k - 1).leading_zeros())
}

/// `rows dst .. dst + n ^= rows src .. src + n` (width `w`, `dst + n <= src`), inlined for the
/// small conversions.
#[inline(always)]
fn rx(d: &mut [u64], dst: usize, src: usize, n: usize, w: usize) {
    let (lo, hi) = d.split_at_mut(src * w);
    for (x, &y) in lo[dst * w..(dst + n) * w].iter_mut().zip(&hi[..n * w]) {
        *x ^= y;
    }
}

/// [`to_novel`] for `k <= 3` written out: the steps of the general recursion for these sizes
/// (`k = 2`: Taylor at `y^2 + y`; `k = 3`: Taylor at `y^4 + y`, then `k = 2` on both halves).
#[inline(always)]
fn small_to_novel(d: &mut [u64], k: usize, w: usize) {
    if k >= 3 {
        rx(d, 2, 5, 3, w);
        rx(d, 1, 4, 1, w);
        let (lo, hi) = d.split_at_mut(4 * w);
        small_to_novel(lo, 2, w);
        small_to_novel(hi, 2, w);
    } else if k == 2 {
        rx(d, 2, 3, 1, w);
        rx(d, 1, 2, 1, w);
    }
}

/// The inverse of [`small_to_novel`].
#[inline(always)]
fn small_from_novel(d: &mut [u64], k: usize, w: usize) {
    if k >= 3 {
        let (lo, hi) = d.split_at_mut(4 * w);
        small_from_novel(lo, 2, w);
        small_from_novel(hi, 2, w);
        rx(d, 1, 4, 1, w);
        rx(d, 2, 5, 3, w);
    } else if k == 2 {
        rx(d, 1, 2, 1, w);
        rx(d, 2, 3, 1, w);
    }
}

/// Monomial to novel basis, in place, for `2^k` rows of `w` words (each column independently).
#[cfg(test)]
fn to_novel(d: &mut [u64], k: usize, w: usize) {
    to_novel_filled(d, k, w, 1 << k);
}

/// [`to_novel`] when only the first `filled` rows can be nonzero.
fn to_novel_filled(d: &mut [u64], k: usize, w: usize, filled: usize) {
    to_novel_blocked(d, k, w, filled, CONV_BLOCK_WORDS);
}

/// Steps `j0 .. k - s` of the Taylor expansion act on blocks larger than `cache` words; the
/// smaller ones (`0 .. j0`) run block by block together with the inner conversions.
fn cache_split(k: usize, s: usize, w: usize, cache: usize) -> usize {
    (0..=k - s)
        .rev()
        .find(|&j| w << (s + j) <= cache)
        .unwrap_or(0)
}

/// Conversions of at most `2^PROG_LOG` rows run as straight-line programs ([`programs`]).
const PROG_LOG: usize = 8;

/// The conversion to the novel basis of `2^k` rows (`k <= PROG_LOG`) as the list of row XORs
/// `(dst, src)` the recursion of [`to_novel_blocked`] performs, in order; `from_novel` runs the
/// list backwards (each XOR undoes itself). For one-word rows the recursion spends most of its
/// time on loop and slice overhead around runs of 1 .. 16 words; the list runs without it.
fn programs() -> &'static [Vec<(u8, u8)>] {
    static PROGRAMS: OnceLock<Vec<Vec<(u8, u8)>>> = OnceLock::new();
    PROGRAMS.get_or_init(|| {
        (0..=PROG_LOG)
            .map(|k| {
                let mut ops = Vec::new();
                record_to_novel(&mut ops, k, 1, 0);
                ops.into_iter()
                    .map(|(d, s)| {
                        // Indices below 2^PROG_LOG = 256 rows.
                        #[allow(clippy::cast_possible_truncation)]
                        (d as u8, s as u8)
                    })
                    .collect()
            })
            .collect()
    })
}

/// Appends the row XORs of [`to_novel_blocked`] on `2^k` rows of width `w` (in rows of the top
/// level) starting at row `off`: the same Taylor steps, inner and outer conversions.
fn record_to_novel(ops: &mut Vec<(usize, usize)>, k: usize, w: usize, off: usize) {
    let mut rows = |dst: usize, src: usize, n: usize| {
        ops.extend((0..n * w).map(|i| (off + dst * w + i, off + src * w + i)));
    };
    if k <= 3 {
        // small_to_novel
        if k == 3 {
            rows(2, 5, 3);
            rows(1, 4, 1);
            record_to_novel(ops, 2, w, off);
            record_to_novel(ops, 2, w, off + 4 * w);
        } else if k == 2 {
            rows(2, 3, 1);
            rows(1, 2, 1);
        }
        return;
    }
    let s = split_point(k);
    for j in (0..k - s).rev() {
        let (a, b) = ((1usize << s) << j, 1usize << j);
        for blk in (0..1usize << k).step_by(2 * a) {
            rows(blk + 2 * b, blk + a + b, a - b);
            rows(blk + b, blk + a, b);
        }
    }
    for m in 0..1usize << (k - s) {
        record_to_novel(ops, s, w, off + m * (w << s));
    }
    record_to_novel(ops, k - s, w << s, off);
}

/// Runs the program of `2^k` rows of width `w` forwards or backwards.
fn run_program(d: &mut [u64], k: usize, w: usize, inverse: bool) {
    let ops = &programs()[k];
    if w == 1 && k == PROG_LOG {
        // Fixed-size array: the u8 indices need no bounds checks.
        if let Ok(a) = <&mut [u64; 1 << PROG_LOG]>::try_from(d) {
            if inverse {
                ops.iter()
                    .rev()
                    .for_each(|&(x, y)| a[x as usize] ^= a[y as usize]);
            } else {
                ops.iter()
                    .for_each(|&(x, y)| a[x as usize] ^= a[y as usize]);
            }
        }
        return;
    }
    let step = |d: &mut [u64], (x, y): (u8, u8)| {
        let (x, y) = (usize::from(x) * w, usize::from(y) * w);
        let (lo, hi) = d.split_at_mut(y);
        xor_into(&mut lo[x..x + w], &hi[..w]);
    };
    if inverse {
        ops.iter().rev().for_each(|&op| step(d, op));
    } else {
        ops.iter().for_each(|&op| step(d, op));
    }
}

/// Blocks converted together by [`run_program_x8`].
const BATCH: usize = 8;

/// The program of `2^PROG_LOG` one-word rows on [`BATCH`] consecutive blocks at once: the blocks
/// are transposed into rows of eight words, so each recorded XOR moves eight words (vector
/// registers; an AVX-512 build measured no faster than the SSE2 one) instead of one; `d` holds a
/// multiple of `BATCH << PROG_LOG` words.
fn run_program_x8(d: &mut [u64], inverse: bool) {
    const ROWS: usize = 1 << PROG_LOG;
    let ops = &programs()[PROG_LOG];
    let mut t = [[0u64; BATCH]; ROWS];
    for group in d.chunks_exact_mut(BATCH * ROWS) {
        for (b, block) in group.chunks_exact(ROWS).enumerate() {
            for (row, &v) in t.iter_mut().zip(block) {
                row[b] = v;
            }
        }
        let mut op = |&(x, y): &(u8, u8)| {
            let src = t[usize::from(y)];
            for (a, b) in t[usize::from(x)].iter_mut().zip(src) {
                *a ^= b;
            }
        };
        if inverse {
            ops.iter().rev().for_each(&mut op);
        } else {
            ops.iter().for_each(&mut op);
        }
        for (b, block) in group.chunks_exact_mut(ROWS).enumerate() {
            for (row, v) in t.iter().zip(block) {
                *v = row[b];
            }
        }
    }
    t.zeroize();
}

/// Runs the inner conversions of `2^s`-row blocks of one-word rows [`BATCH`] blocks at a time
/// (`true`), if that shape applies: `s = PROG_LOG`, `w = 1`, whole batches.
fn batched_inner(blk: &mut [u64], s: usize, w: usize, inverse: bool) -> bool {
    let group = BATCH << PROG_LOG;
    if s != PROG_LOG || w != 1 || !blk.len().is_multiple_of(group) {
        return false;
    }
    if blk.len() >= PAR_WORDS {
        blk.par_chunks_mut(group)
            .for_each(|g| run_program_x8(g, inverse));
    } else {
        run_program_x8(blk, inverse);
    }
    true
}

/// [`to_novel_filled`] with the cache-block size as a parameter (small in the tests).
///
/// The recursion of Lin-Chung-Han: Taylor expansion at `y^tau + y`, then the `2^(k - s)` blocks of
/// `tau` rows (inner conversions, width `w`) and the `tau`-row-wide matrix of blocks (outer
/// conversion, width `w tau`). Done naively every Taylor step and every level of the outer
/// recursion is a pass over the whole array (~16 passes at `2^23` words, memory-bound). Here the
/// small Taylor steps and the inner conversions of one cache block run together, and the outer
/// conversion runs on column stripes that fit the cache: about five passes at `2^23`.
fn to_novel_blocked(d: &mut [u64], k: usize, w: usize, filled: usize, cache: usize) {
    if k <= PROG_LOG && d.len() <= cache {
        run_program(d, k, w, false);
        return;
    }
    if k <= 3 {
        small_to_novel(d, k, w);
        return;
    }
    let s = split_point(k);
    let tau = 1usize << s;
    let j0 = cache_split(k, s, w, cache);
    taylor_steps(d, s, w, false, filled, j0..k - s);
    let blk_rows = tau << j0;
    let per_block = |(bi, blk): (usize, &mut [u64])| {
        let f = filled.saturating_sub(bi * blk_rows).min(blk_rows);
        if f == 0 {
            return;
        }
        taylor_steps(blk, s, w, false, f, 0..j0);
        // Zero blocks (past `filled`) stay zero under the batched programs.
        if batched_inner(blk, s, w, false) {
            return;
        }
        let inner = |(m, sub): (usize, &mut [u64])| {
            let live = f.saturating_sub(m * tau).min(tau);
            if live > 0 {
                to_novel_blocked(sub, s, w, live, cache);
            }
        };
        if blk.len() >= PAR_WORDS {
            blk.par_chunks_exact_mut(w << s).enumerate().for_each(inner);
        } else {
            blk.chunks_exact_mut(w << s).enumerate().for_each(inner);
        }
    };
    if d.len() >= PAR_WORDS && d.len() > w * blk_rows {
        d.par_chunks_exact_mut(w * blk_rows)
            .enumerate()
            .for_each(per_block);
    } else {
        d.chunks_exact_mut(w * blk_rows)
            .enumerate()
            .for_each(per_block);
    }
    by_stripes(d, k - s, w << s, cache, false, |m, cw| {
        to_novel_blocked(m, k - s, cw, filled.div_ceil(tau), cache);
    });
}

/// Runs `conv(matrix, width)` on the `2^k`-row matrix `d` (row width `width`) directly when it
/// fits `cache` words, else on column stripes that do (the conversions treat columns
/// independently), in parallel: in place by the program of `2^k` rows (forwards, or backwards if
/// `inverse`) for `k <= PROG_LOG`, else copied into a buffer that is zeroized afterwards.
fn by_stripes(
    d: &mut [u64],
    k: usize,
    width: usize,
    cache: usize,
    inverse: bool,
    conv: impl Fn(&mut [u64], usize) + Sync,
) {
    let rows = 1usize << k;
    let cw = (cache >> k).max(8);
    if d.len() <= cache || cw >= width {
        conv(d, width);
        return;
    }
    let mut stripes: Vec<Vec<&mut [u64]>> =
        (0..width / cw).map(|_| Vec::with_capacity(rows)).collect();
    for row in d.chunks_exact_mut(width) {
        for (stripe, piece) in stripes.iter_mut().zip(row.chunks_exact_mut(cw)) {
            stripe.push(piece);
        }
    }
    if k <= PROG_LOG {
        let ops = &programs()[k];
        let op = |stripe: &mut Vec<&mut [u64]>, &(x, y): &(u8, u8)| {
            let (lo, hi) = stripe.split_at_mut(usize::from(y));
            xor_into(lo[usize::from(x)], hi[0]);
        };
        stripes.into_par_iter().for_each(|mut stripe| {
            if inverse {
                ops.iter().rev().for_each(|o| op(&mut stripe, o));
            } else {
                ops.iter().for_each(|o| op(&mut stripe, o));
            }
        });
        return;
    }
    stripes.into_par_iter().for_each(|mut stripe| {
        let mut buf = vec![0u64; rows * cw];
        for (b, piece) in buf.chunks_exact_mut(cw).zip(stripe.iter()) {
            b.copy_from_slice(piece);
        }
        conv(&mut buf, cw);
        for (b, piece) in buf.chunks_exact(cw).zip(stripe.iter_mut()) {
            piece.copy_from_slice(b);
        }
        buf.zeroize();
    });
}

/// Novel to monomial basis, the inverse of [`to_novel`].
pub(crate) fn from_novel(d: &mut [u64], k: usize, w: usize) {
    from_novel_blocked(d, k, w, CONV_BLOCK_WORDS);
}

/// [`from_novel`] with the cache-block size as a parameter: [`to_novel_blocked`] backwards.
fn from_novel_blocked(d: &mut [u64], k: usize, w: usize, cache: usize) {
    if k <= PROG_LOG && d.len() <= cache {
        run_program(d, k, w, true);
        return;
    }
    if k <= 3 {
        small_from_novel(d, k, w);
        return;
    }
    let s = split_point(k);
    let j0 = cache_split(k, s, w, cache);
    by_stripes(d, k - s, w << s, cache, true, |m, cw| {
        from_novel_blocked(m, k - s, cw, cache);
    });
    let blk_rows = 1usize << (s + j0);
    let per_block = |blk: &mut [u64]| {
        if batched_inner(blk, s, w, true) {
        } else if blk.len() >= PAR_WORDS {
            blk.par_chunks_exact_mut(w << s)
                .for_each(|sub| from_novel_blocked(sub, s, w, cache));
        } else {
            blk.chunks_exact_mut(w << s)
                .for_each(|sub| from_novel_blocked(sub, s, w, cache));
        }
        taylor_steps(blk, s, w, true, blk_rows, 0..j0);
    };
    if d.len() >= PAR_WORDS && d.len() > w * blk_rows {
        d.par_chunks_exact_mut(w * blk_rows).for_each(per_block);
    } else {
        d.chunks_exact_mut(w * blk_rows).for_each(per_block);
    }
    taylor_steps(d, s, w, true, 1 << k, j0..k - s);
}

/// Forward transform of the block `d` (a power-of-two length) at position `p`.
fn fft<F: Field>(f: F, d: &mut [u64], p: usize) {
    let len = d.len();
    if len <= BLOCK_WORDS {
        f.fft_block(d, p);
        return;
    }
    let half = len / 2;
    let c = omega(p / half);
    let (lo, hi) = d.split_at_mut(half);
    layer(f, lo, hi, c, false);
    if len >= PAR_WORDS {
        rayon::join(|| fft(f, lo, p), || fft(f, hi, p + half));
    } else {
        fft(f, lo, p);
        fft(f, hi, p + half);
    }
}

/// Inverse of [`fft`].
fn ifft<F: Field>(f: F, d: &mut [u64], p: usize) {
    let len = d.len();
    if len <= BLOCK_WORDS {
        f.ifft_block(d, p);
        return;
    }
    let half = len / 2;
    let c = omega(p / half);
    let (lo, hi) = d.split_at_mut(half);
    if len >= PAR_WORDS {
        rayon::join(|| ifft(f, lo, p), || ifft(f, hi, p + half));
    } else {
        ifft(f, lo, p);
        ifft(f, hi, p + half);
    }
    layer(f, lo, hi, c, true);
}

fn layer<F: Field>(f: F, lo: &mut [u64], hi: &mut [u64], c: u64, inverse: bool) {
    let run = |(a, b): (&mut [u64], &mut [u64])| {
        if inverse {
            f.inv_butterfly(a, b, c);
        } else {
            f.butterfly(a, b, c);
        }
    };
    if lo.len() >= PAR_WORDS {
        lo.par_chunks_mut(PAR_WORDS / 4)
            .zip(hi.par_chunks_mut(PAR_WORDS / 4))
            .for_each(run);
    } else {
        run((lo, hi));
    }
}

/// Log2 of the transform size for a product of `la` and `lb` 32-bit elements of which only the
/// coefficients `lo .. hi` are needed.
///
/// Evaluating at the `N = 2^k` points of a subspace computes the product modulo
/// `W_k(y) = y^N + R(y)`, `R = sum_(j proper subset of k) y^(2^j)` (Lucas). If the product
/// `P = P_low + y^N P_high` is longer than `N`, the result is `P_low + R P_high`: the high part
/// lands on the intervals `[2^j, 2^j + excess)`. A size is taken when those miss `lo .. hi` (and
/// do not wrap a second time): for `k` a power of two, `R = y` and any `N > lb`-ish window
/// works, which halves the transform for Toeplitz hashing at 1e6 bits. `None` if even the
/// unwrapped size exceeds `2^MAX_LOG`.
fn transform_log(la: usize, lb: usize, lo: usize, hi: usize) -> Option<usize> {
    let total = la + lb - 1;
    let full = total.next_power_of_two().trailing_zeros() as usize;
    let min = la.max(lb).next_power_of_two().trailing_zeros() as usize;
    let k = (min..full)
        .find(|&k| {
            let n = 1usize << k;
            let excess = total - n;
            (0..k).filter(|&j| j & k == j).all(|j| {
                (1usize << j) + excess <= n && ((1usize << j) + excess <= lo || hi <= 1usize << j)
            })
        })
        .unwrap_or(full);
    (k <= MAX_LOG).then_some(k)
}

/// Whether [`mul`] can take operands of these word lengths (the transform fits `2^MAX_LOG`).
#[must_use]
pub fn supports(a_words: usize, b_words: usize) -> bool {
    a_words > 0
        && b_words > 0
        && transform_log(2 * a_words, 2 * b_words, 0, 2 * (a_words + b_words)).is_some()
}

/// Words of working memory of [`middle_product`] (two transform arrays), excluding operands and
/// result.
#[must_use]
pub fn middle_product_peak_words(a_words: usize, b_words: usize, w0: usize, len: usize) -> usize {
    if a_words == 0 || b_words == 0 {
        return 0;
    }
    let (lo, hi) = element_range(a_words, b_words, w0, len);
    transform_log(2 * a_words, 2 * b_words, lo, hi).map_or(0, |k| 2 << k)
}

/// Words of working memory of [`middle_product_sum`] over `pairs` products (two transform
/// arrays, three if there is a sum to accumulate), excluding operands and result.
#[must_use]
pub fn middle_product_sum_peak_words(
    pairs: usize,
    a_words: usize,
    b_words: usize,
    w0: usize,
    len: usize,
) -> usize {
    let arrays = if pairs > 1 { 3 } else { 2 };
    transform_size_log(a_words, b_words, w0, len).map_or(0, |k| arrays << k)
}

/// Product coefficients (32-bit elements) that words `w0 .. w0 + len` read.
fn element_range(a_words: usize, b_words: usize, w0: usize, len: usize) -> (usize, usize) {
    let total = 2 * (a_words + b_words) - 1;
    let lo = (2 * w0).saturating_sub(1).min(total);
    let hi = (2 * (w0 + len) + 1).min(total).max(lo);
    (lo, hi)
}

/// Zeroized transform arrays kept for the next product of the same size: a fresh 64 MB array
/// costs ~16k first-touch page faults (kernel zeroing, and unmapping with TLB shootdowns when it
/// is freed), about a sixth of the CPU time of a 1e8-bit hash.
static SCRATCH: Mutex<Vec<Vec<u64>>> = Mutex::new(Vec::new());
/// Arrays shorter than this are not kept (the allocator serves them cheaply).
const SCRATCH_MIN_WORDS: usize = 1 << 20;
/// At most this many arrays are kept (the three of a sum of two products).
const SCRATCH_KEPT: usize = 3;

/// A zeroed array of `n` words, from the kept ones if one has that length.
fn take_scratch(n: usize) -> Vec<u64> {
    if n >= SCRATCH_MIN_WORDS
        && let Ok(mut pool) = SCRATCH.lock()
        && let Some(i) = pool.iter().position(|b| b.len() == n)
    {
        return pool.swap_remove(i);
    }
    vec![0u64; n]
}

/// Zeroizes `d` and keeps it for a later [`take_scratch`]; the least recently kept array goes
/// when more than [`SCRATCH_KEPT`] are held (so a new size replaces the old one).
fn give_scratch(mut d: Vec<u64>) {
    par_zeroize(&mut d);
    if d.len() >= SCRATCH_MIN_WORDS
        && let Ok(mut pool) = SCRATCH.lock()
    {
        pool.push(d);
        if pool.len() > SCRATCH_KEPT {
            pool.remove(0);
        }
    }
}

/// Frees the transform arrays that [`middle_product`] and [`middle_product_sum`] keep between
/// calls (zeroized; at most three arrays of `2^20` words or more: 96 MB after a 1e8-bit
/// Toeplitz hash).
pub fn release_scratch() {
    if let Ok(mut pool) = SCRATCH.lock() {
        *pool = Vec::new();
    }
}

/// Both operands' 32-bit chunks in one array of `2^k` words, `a`'s in the low and `b`'s in the
/// high halves. The basis conversion XORs whole rows, i.e. acts on every bit lane alike, so one
/// conversion of this array serves both operands (half the conversion work of two).
fn spread_pair(a: &[u64], b: &[u64], k: usize) -> Vec<u64> {
    const LOW: u64 = 0xffff_ffff;
    let mut d = take_scratch(1 << k);
    // In parallel, so the first-touch page faults are shared too.
    d.par_chunks_mut(PAR_WORDS)
        .enumerate()
        .for_each(|(ci, chunk)| {
            let base = ci * PAR_WORDS / 2;
            for (i, pair) in chunk.chunks_exact_mut(2).enumerate() {
                let wa = a.get(base + i).copied().unwrap_or(0);
                let wb = b.get(base + i).copied().unwrap_or(0);
                pair[0] = (wa & LOW) | (wb << 32);
                pair[1] = (wa >> 32) | (wb & !LOW);
            }
        });
    d
}

/// Zeroizes a large array on all cores.
fn par_zeroize(d: &mut [u64]) {
    d.par_chunks_mut(PAR_WORDS).for_each(Zeroize::zeroize);
}

/// Forward transforms of both operands of one product (one packed basis conversion).
fn forward_pair<F: Field>(f: F, a: &[u64], b: &[u64], k: usize) -> (Vec<u64>, Vec<u64>) {
    let mut da = spread_pair(a, b, k);
    to_novel_filled(&mut da, k, 1, 2 * a.len().max(b.len()));
    let mut db = take_scratch(1 << k);
    da.par_chunks_mut(PAR_WORDS)
        .zip(db.par_chunks_mut(PAR_WORDS))
        .for_each(|(x, y)| {
            for (x, y) in x.iter_mut().zip(y) {
                *y = *x >> 32;
                *x &= 0xffff_ffff;
            }
        });
    rayon::join(|| fft(f, &mut da, 0), || fft(f, &mut db, 0));
    (da, db)
}

/// The 63-bit product coefficients of `sum_i a_i b_i` modulo `W_k`: forward transforms and
/// pointwise products per pair, summed in the transform domain, one inverse transform.
fn product_sum_elements<F: Field>(f: F, pairs: &[(&[u64], &[u64])], k: usize) -> Vec<u64> {
    let mut acc: Option<Vec<u64>> = None;
    for &(a, b) in pairs {
        let (mut da, db) = forward_pair(f, a, b, k);
        da.par_chunks_mut(PAR_WORDS / 4)
            .zip(db.par_chunks(PAR_WORDS / 4))
            .for_each(|(x, y)| f.pointwise(x, y));
        give_scratch(db);
        match acc.as_mut() {
            None => acc = Some(da),
            Some(sum) => {
                sum.par_chunks_mut(PAR_WORDS)
                    .zip(da.par_chunks(PAR_WORDS))
                    .for_each(|(x, y)| xor_into(x, y));
                give_scratch(da);
            }
        }
    }
    let mut e = acc.unwrap_or_else(|| take_scratch(1 << k));
    ifft(f, &mut e, 0);
    from_novel(&mut e, k, 1);
    e
}

/// Words `w0 .. w0 + len` of the product from its 63-bit coefficients at shift 32:
/// word `w = e[2w] ^ (e[2w + 1] << 32) ^ (e[2w - 1] >> 32)`.
fn unpack(e: &[u64], w0: usize, len: usize) -> Vec<u64> {
    let at = |i: usize| e.get(i).copied().unwrap_or(0);
    (w0..w0 + len)
        .into_par_iter()
        .map(|w| {
            let below = if w == 0 { 0 } else { at(2 * w - 1) >> 32 };
            at(2 * w) ^ (at(2 * w + 1) << 32) ^ below
        })
        .collect()
}

/// The GF(2^64) arithmetic the transforms run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FftField {
    /// Integer-multiply emulation of the carry-less product, any CPU.
    Portable,
    /// Scalar `PCLMULQDQ`.
    Pclmul,
    /// AVX-512 `VPCLMULQDQ`, eight products per instruction pair (scalar `PCLMULQDQ` for short
    /// runs).
    Avx512Vpclmul,
}

impl FftField {
    /// The arithmetic [`middle_product`] uses with this base-case kernel on this CPU.
    #[must_use]
    pub fn for_kernel(kernel: Kernel) -> Self {
        if kernel == Kernel::Pclmul && crate::pclmul::Avx512Field::detect().is_some() {
            FftField::Avx512Vpclmul
        } else if kernel == Kernel::Pclmul && crate::pclmul::Pclmul::detect().is_some() {
            FftField::Pclmul
        } else {
            FftField::Portable
        }
    }
}

fn product_by_kernel(kernel: Kernel, pairs: &[(&[u64], &[u64])], k: usize) -> Vec<u64> {
    if kernel == Kernel::Pclmul
        && let Some(w) = crate::pclmul::Avx512Field::detect()
    {
        return product_sum_elements(w, pairs, k);
    }
    if kernel == Kernel::Pclmul
        && let Some(p) = crate::pclmul::Pclmul::detect()
    {
        return product_sum_elements(crate::pclmul::PclmulField::new(p), pairs, k);
    }
    product_sum_elements(PortableField, pairs, k)
}

/// Log2 of the transform size [`middle_product`] takes for operands of these word lengths and
/// the output words `w0 .. w0 + len`; `None` if it exceeds `2^MAX_LOG` (or an operand is empty).
#[must_use]
pub fn transform_size_log(a_words: usize, b_words: usize, w0: usize, len: usize) -> Option<usize> {
    if a_words == 0 || b_words == 0 {
        return None;
    }
    let (lo, hi) = element_range(a_words, b_words, w0, len);
    transform_log(2 * a_words, 2 * b_words, lo, hi)
}

/// Words `w0 .. w0 + len` of the carry-less product `a b` (words past the product read 0).
///
/// Falls back to [`crate::clmul::middle_product`] (Karatsuba) for empty operands or a product
/// beyond `2^MAX_LOG` transform points.
#[must_use]
pub fn middle_product(kernel: Kernel, a: &[u64], b: &[u64], w0: usize, len: usize) -> Vec<u64> {
    middle_product_sum(kernel, &[(a, b)], w0, len)
}

/// Words `w0 .. w0 + len` of `sum_i a_i b_i` over pairs of one shape (every `a_i` as long as the
/// first, every `b_i` too; shorter ones count as zero-padded): one forward transform per operand,
/// the products summed in the transform domain, one inverse transform. A Toeplitz hash splits
/// its input in two halves this way ([`crate::ToeplitzHash::hash`]), which halves the transform
/// size at 1e8 bits.
///
/// Falls back to summed [`crate::clmul::middle_product`]s for empty operands or a product beyond
/// `2^MAX_LOG` transform points.
///
/// # Panics
/// If an `a_i` or `b_i` is longer than the first pair's.
#[must_use]
pub fn middle_product_sum(
    kernel: Kernel,
    pairs: &[(&[u64], &[u64])],
    w0: usize,
    len: usize,
) -> Vec<u64> {
    let (la, lb) = pairs.first().map_or((0, 0), |(a, b)| (a.len(), b.len()));
    assert!(
        pairs.iter().all(|(a, b)| a.len() <= la && b.len() <= lb),
        "middle_product_sum: pairs of different shapes"
    );
    let Some(k) = transform_size_log(la, lb, w0, len) else {
        let mut out = vec![0u64; len];
        for &(a, b) in pairs.iter().filter(|(a, b)| !a.is_empty() && !b.is_empty()) {
            let mut part = crate::clmul::middle_product(kernel, a, b, w0, len);
            xor_into(&mut out, &part);
            part.zeroize();
        }
        return out;
    };
    let (_, hi) = element_range(la, lb, w0, len);
    let e = product_by_kernel(kernel, pairs, k);
    // Only lo .. hi are guaranteed unwrapped; unpack reads nothing else for these words.
    let out = unpack(&e[..hi.min(e.len())], w0, len);
    give_scratch(e);
    out
}

/// The full carry-less product `a b` (`a.len() + b.len()` words), by the additive FFT.
#[must_use]
pub fn mul(kernel: Kernel, a: &[u64], b: &[u64]) -> Vec<u64> {
    middle_product(kernel, a, b, 0, a.len() + b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_core::confirm::{gf64_mul, gf64_reduce};

    #[test]
    fn cantor_basis_satisfies_its_recurrence() {
        let v = &cantor_basis();
        assert_eq!(v[0], 1);
        for i in 1..MAX_LOG {
            assert_eq!(gf64_mul(v[i], v[i]) ^ v[i], v[i - 1], "v_{i}");
        }
    }

    /// `W_i(y)` by composing `y -> y^2 + y` `i` times.
    fn w_eval(i: usize, y: u64) -> u64 {
        (0..i).fold(y, |z, _| gf64_mul(z, z) ^ z)
    }

    #[test]
    fn subspace_polynomials_vanish_on_their_subspace_and_map_the_basis_down() {
        let v = &cantor_basis();
        for i in 0..6 {
            for u in 0..(1usize << i) {
                assert_eq!(w_eval(i, omega(u)), 0, "W_{i}(omega({u}))");
            }
            for t in 0..(MAX_LOG - i) {
                assert_eq!(w_eval(i, v[i + t]), v[t], "W_{i}(v_{})", i + t);
            }
        }
    }

    /// `X_j(y)` as a GF(2) coefficient vector of length `2^k`: the product of `W_i` for bits of j,
    /// with `W_i = sum_(t subset of i) y^(2^t)` (Lucas' theorem on the binomial coefficients).
    fn novel_basis_poly(j: usize, k: usize) -> Vec<bool> {
        let mut p = vec![false; 1 << k];
        p[0] = true;
        for i in 0..k {
            if (j >> i) & 1 == 1 {
                let mut q = vec![false; 1 << k];
                for (e, &c) in p.iter().enumerate() {
                    if c {
                        for t in (0..=i).filter(|t| t & i == *t) {
                            q[e + (1 << t)] ^= true;
                        }
                    }
                }
                p = q;
            }
        }
        p
    }

    proptest! {
        #[test]
        fn field_products_match_the_reference(a in any::<u64>(), b in any::<u64>()) {
            prop_assert_eq!(PortableField.mul(a, b), gf64_mul(a, b));
            prop_assert_eq!(reduce(a, b), gf64_reduce(u128::from(a) | (u128::from(b) << 64)));
            if let Some(p) = crate::pclmul::Pclmul::detect() {
                prop_assert_eq!(crate::pclmul::PclmulField::new(p).mul(a, b), gf64_mul(a, b));
            }
            if let Some(w) = crate::pclmul::Avx512Field::detect() {
                prop_assert_eq!(w.mul(a, b), gf64_mul(a, b));
            }
        }

        #[test]
        fn novel_basis_conversion_is_exact_and_invertible(
            k in 0usize..9, seed in any::<u64>(), width in 1usize..4,
        ) {
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            let f: Vec<u64> = (0..(width << k)).map(|_| rng.next_u64()).collect();
            let mut d = f.clone();
            to_novel(&mut d, k, width);
            // Rebuild each column as sum_j d_j X_j in the monomial basis.
            let mut back = vec![0u64; width << k];
            for j in 0..(1usize << k) {
                for (e, &c) in novel_basis_poly(j, k).iter().enumerate() {
                    if c {
                        for col in 0..width {
                            back[e * width + col] ^= d[j * width + col];
                        }
                    }
                }
            }
            prop_assert_eq!(&back, &f);
            from_novel(&mut d, k, width);
            prop_assert_eq!(&d, &f);
        }

        #[test]
        fn skipping_empty_rows_changes_nothing(k in 0usize..12, seed in any::<u64>(), cut in 0.0f64..=1.0) {
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let filled = ((1usize << k) as f64 * cut) as usize;
            let f: Vec<u64> = (0..(1usize << k)).map(|i| if i < filled { rng.next_u64() } else { 0 }).collect();
            let (mut full, mut skipped) = (f.clone(), f);
            to_novel(&mut full, k, 1);
            to_novel_filled(&mut skipped, k, 1, filled);
            prop_assert_eq!(full, skipped);
        }

        #[test]
        fn cache_blocked_conversions_equal_the_plain_recursion(
            k in 4usize..14, seed in any::<u64>(), width in 1usize..3, cache_log in 3usize..12,
            cut in 0.0f64..=1.0,
        ) {
            use rand::Rng;
            let w = 1usize << (width - 1);
            let mut rng = qkd_core::sim_rng(seed);
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let filled = ((1usize << k) as f64 * cut) as usize;
            let f: Vec<u64> = (0..(w << k))
                .map(|i| if i / w < filled { rng.next_u64() } else { 0 })
                .collect();
            // A cache larger than the array: no blocking, no stripes (the plain recursion).
            let (mut plain, mut blocked) = (f.clone(), f.clone());
            to_novel_blocked(&mut plain, k, w, filled, usize::MAX);
            to_novel_blocked(&mut blocked, k, w, filled, 1 << cache_log);
            prop_assert_eq!(&plain, &blocked);
            from_novel_blocked(&mut blocked, k, w, 1 << cache_log);
            prop_assert_eq!(&blocked, &f);
        }

        #[test]
        fn conversions_equal_the_recorded_recursion(k in 9usize..15, seed in any::<u64>()) {
            // Sizes with batched inner programs (k >= 11), checked against the row XORs the
            // plain recursion performs.
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            let f: Vec<u64> = (0..(1usize << k)).map(|_| rng.next_u64()).collect();
            let mut ops = Vec::new();
            record_to_novel(&mut ops, k, 1, 0);
            let mut want = f.clone();
            for &(x, y) in &ops {
                want[x] ^= want[y];
            }
            let mut d = f.clone();
            to_novel(&mut d, k, 1);
            prop_assert_eq!(&d, &want);
            from_novel(&mut d, k, 1);
            prop_assert_eq!(&d, &f);
            // The batched programs against one block at a time.
            let batch = BATCH << PROG_LOG;
            if f.len() >= batch {
                let mut p = f[..batch].to_vec();
                run_program_x8(&mut p, false);
                let mut q = f[..batch].to_vec();
                for block in q.chunks_exact_mut(1 << PROG_LOG) {
                    run_program(block, PROG_LOG, 1, false);
                }
                prop_assert_eq!(&p, &q);
                run_program_x8(&mut p, true);
                prop_assert_eq!(&p[..], &f[..batch]);
            }
        }

        #[test]
        fn transform_evaluates_at_the_subspace_points(k in 0usize..7, seed in any::<u64>()) {
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            let d: Vec<u64> = (0..(1usize << k)).map(|_| rng.next_u64()).collect();
            let mut e = d.clone();
            fft(PortableField, &mut e, 0);
            for (u, &got) in e.iter().enumerate() {
                let x = omega(u);
                let want = d.iter().enumerate().fold(0u64, |acc, (j, &dj)| {
                    let xj = (0..k).filter(|i| (j >> i) & 1 == 1).fold(1u64, |p, i| gf64_mul(p, w_eval(i, x)));
                    acc ^ gf64_mul(dj, xj)
                });
                prop_assert_eq!(got, want, "point {}", u);
            }
            ifft(PortableField, &mut e, 0);
            prop_assert_eq!(e, d);
        }

        #[test]
        fn fft_products_match_karatsuba(
            a in proptest::collection::vec(any::<u64>(), 1..300),
            b in proptest::collection::vec(any::<u64>(), 1..300),
        ) {
            let want = crate::clmul::mul(Kernel::Portable, &a, &b);
            prop_assert_eq!(&mul(Kernel::detect(), &a, &b), &want);
            prop_assert_eq!(&mul(Kernel::Portable, &a, &b), &want);
        }
    }

    proptest! {
        #[test]
        fn every_field_kernel_gives_the_same_transforms_and_products(
            k in 0usize..14, seed in any::<u64>(),
        ) {
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            let d: Vec<u64> = (0..(1usize << k)).map(|_| rng.next_u64()).collect();
            let e: Vec<u64> = (0..(1usize << k)).map(|_| rng.next_u64()).collect();
            let run = |f: &dyn Fn(&mut [u64], &mut [u64])| {
                let (mut x, mut y) = (d.clone(), e.clone());
                f(&mut x, &mut y);
                (x, y)
            };
            let portable = run(&|x, y| {
                fft(PortableField, x, 0);
                PortableField.pointwise(x, y);
                ifft(PortableField, y, 0);
            });
            if let Some(p) = crate::pclmul::Pclmul::detect() {
                let f = crate::pclmul::PclmulField::new(p);
                prop_assert_eq!(&run(&|x, y| { fft(f, x, 0); f.pointwise(x, y); ifft(f, y, 0); }), &portable);
            }
            if let Some(f) = crate::pclmul::Avx512Field::detect() {
                prop_assert_eq!(&run(&|x, y| { fft(f, x, 0); f.pointwise(x, y); ifft(f, y, 0); }), &portable);
            }
        }
    }

    #[test]
    fn large_products_cross_the_parallel_and_block_thresholds() {
        use rand::Rng;
        let mut rng = qkd_core::sim_rng(9);
        let a: Vec<u64> = (0..40_000).map(|_| rng.next_u64()).collect();
        let b: Vec<u64> = (0..25_001).map(|_| rng.next_u64()).collect();
        let want = crate::clmul::mul(Kernel::detect(), &a, &b);
        assert_eq!(mul(Kernel::detect(), &a, &b), want);
        assert_eq!(
            middle_product(Kernel::detect(), &a, &b, 30_000, 100),
            want[30_000..30_100]
        );
    }

    #[test]
    fn kept_arrays_are_zero_bounded_in_number_and_follow_the_size_in_use() {
        let n = SCRATCH_MIN_WORDS;
        // As a sum of two products uses them: three arrays at once, then all three back.
        for len in [n, 2 * n, n] {
            let held: Vec<Vec<u64>> = (0..SCRATCH_KEPT).map(|_| take_scratch(len)).collect();
            for mut d in held {
                assert!(d.len() == len && d.iter().all(|&w| w == 0));
                d.fill(u64::MAX);
                give_scratch(d);
            }
        }
        let pool = SCRATCH.lock().unwrap();
        assert!(pool.len() <= SCRATCH_KEPT);
        // Other tests may run products concurrently, but only of sizes below the threshold.
        assert!(
            pool.iter()
                .all(|d| d.len() == n && d.iter().all(|&w| w == 0))
        );
        drop(pool);
        release_scratch();
        assert!(SCRATCH.lock().unwrap().is_empty());
    }

    #[test]
    fn wrapped_transform_sizes_are_taken_only_where_the_window_is_clean() {
        // Toeplitz at 1e6 -> 5e5 bits: 46_876 seed and 31_250 input elements, window around
        // 31_249 .. 46_876: the power-of-two k = 16 (W_16 = y^65536 + y) is clean.
        assert_eq!(transform_log(46_876, 31_250, 31_248, 46_877), Some(16));
        // At 1e7 no k = 19 reduction misses the window: the unwrapped 2^20.
        assert_eq!(transform_log(468_750, 312_500, 312_498, 468_751), Some(20));
        // Small power-of-two transforms wrap too: 2^8 points for 100 + 60 words.
        assert_eq!(transform_log(200, 120, 118, 201), Some(8));
    }

    #[test]
    fn wrapped_middle_products_match_karatsuba() {
        use rand::Rng;
        let mut rng = qkd_core::sim_rng(10);
        // The word shapes of Toeplitz hashing 1e6 -> 5e5 bits (transform 2^16, wrapped) and a
        // small one (2^8, wrapped).
        for (la, lb) in [(23_438usize, 15_625usize), (100, 60)] {
            let a: Vec<u64> = (0..la).map(|_| rng.next_u64()).collect();
            let b: Vec<u64> = (0..lb).map(|_| rng.next_u64()).collect();
            let (w0, len) = (lb - 1, la - lb + 1);
            let (lo, hi) = element_range(la, lb, w0, len);
            assert!(
                transform_log(2 * la, 2 * lb, lo, hi).unwrap()
                    < transform_log(2 * la, 2 * lb, 0, 2 * (la + lb)).unwrap()
            );
            let want = crate::clmul::middle_product(Kernel::detect(), &a, &b, w0, len);
            assert_eq!(middle_product(Kernel::detect(), &a, &b, w0, len), want);
            assert_eq!(middle_product(Kernel::Portable, &a, &b, w0, len), want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn toeplitz_shaped_middle_products_match_karatsuba(
            b_len in 1usize..3000, extra in 0usize..3000, w_shift in 0usize..4, seed in any::<u64>(),
        ) {
            use rand::Rng;
            let mut rng = qkd_core::sim_rng(seed);
            let a: Vec<u64> = (0..b_len + extra).map(|_| rng.next_u64()).collect();
            let b: Vec<u64> = (0..b_len).map(|_| rng.next_u64()).collect();
            let w0 = (b_len - 1).saturating_sub(w_shift);
            let len = extra + 1 + w_shift;
            let want = crate::clmul::middle_product(Kernel::detect(), &a, &b, w0, len);
            prop_assert_eq!(&middle_product(Kernel::detect(), &a, &b, w0, len), &want);
        }
    }
}
