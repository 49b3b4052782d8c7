//! The `PCLMULQDQ` base case of the long carry-less multiplication: the only `unsafe` code of the
//! crate.
//!
//! Soundness argument: the one `unsafe` operation is calling a `#[target_feature(enable =
//! "pclmulqdq")]` function, and a [`Pclmul`] token (the only way to reach that call) can only be
//! obtained from [`Pclmul::detect`], which checks the CPU at run time. Inside the function the
//! intrinsics are safe (Rust >= 1.87) and all memory access goes through bounds-checked slices.
//! The kernel is tested against the portable path and the bit-by-bit reference.

#![allow(unsafe_code)]

/// Proof that the running CPU executes `PCLMULQDQ` (x86-64 only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pclmul(Witness);

/// Inhabited only where the instruction can exist.
#[cfg(target_arch = "x86_64")]
type Witness = ();
/// No value: off x86-64 a token cannot be made.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Debug, Clone, Copy)]
enum Witness {}

impl Pclmul {
    /// `Some` if the CPU supports `PCLMULQDQ` (and SSE2, implied on x86-64).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("pclmulqdq").then_some(Self(()))
    }

    /// Never available off x86-64.
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn detect() -> Option<Self> {
        None
    }

    /// `out[..a.len() + b.len()] = a * b` over GF(2)\[x\] (out overwritten).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn schoolbook(self, a: &[u64], b: &[u64], out: &mut [u64]) {
        // SAFETY: `self` exists only if `detect` found PCLMULQDQ on this CPU.
        unsafe { schoolbook_pclmul(a, b, out) }
    }

    /// Toeplitz base case: `out[i] = xor_j clmul(t[i - j + n - 1], v[j])` for `n = v.len()`.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn toeplitz(self, t: &[u64], v: &[u64], out: &mut [u128]) {
        // SAFETY: `self` exists only if `detect` found PCLMULQDQ on this CPU.
        unsafe { toeplitz_pclmul(t, v, out) }
    }

    /// Unreachable off x86-64 (no token can exist).
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn toeplitz(self, t: &[u64], v: &[u64], out: &mut [u128]) {
        let _ = (t, v, out);
        match self.0 {}
    }

    /// Unreachable off x86-64 (no token can exist); kept for a uniform call site.
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn schoolbook(self, a: &[u64], b: &[u64], out: &mut [u64]) {
        let _ = (a, b, out);
        match self.0 {}
    }

    /// One 128-bit product (for tests).
    #[cfg(all(test, target_arch = "x86_64"))]
    pub(crate) fn clmul(self, a: u64, b: u64) -> u128 {
        let mut out = [0u64; 2];
        self.schoolbook(&[a], &[b], &mut out);
        u128::from(out[0]) | (u128::from(out[1]) << 64)
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn schoolbook_pclmul(a: &[u64], b: &[u64], out: &mut [u64]) {
    use std::arch::x86_64::{
        __m128i, _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_setzero_si128,
        _mm_unpackhi_epi64, _mm_xor_si128,
    };
    let out = &mut out[..a.len() + b.len()];
    out.fill(0);
    // Accumulate the 128-bit partial products of each diagonal i + j in a register, then fold the
    // diagonal's two halves into the output words: one xor per product.
    for (i, &ai) in a.iter().enumerate() {
        // Bit-for-bit reinterpretation of the word as the intrinsic's signed type.
        #[allow(clippy::cast_possible_wrap)]
        let va = _mm_set_epi64x(0, ai as i64);
        let mut carry: __m128i = _mm_setzero_si128();
        let mut k = i;
        for &bj in b {
            #[allow(clippy::cast_possible_wrap)]
            let vb = _mm_set_epi64x(0, bj as i64);
            let p = _mm_clmulepi64_si128::<0x00>(va, vb);
            // out[k] gets the low half of this product and the high half of the previous one.
            let lo = _mm_xor_si128(p, _mm_unpackhi_epi64(carry, carry));
            #[allow(clippy::cast_sign_loss)]
            {
                out[k] ^= _mm_cvtsi128_si64(lo) as u64;
            }
            carry = p;
            k += 1;
        }
        #[allow(clippy::cast_sign_loss)]
        {
            out[k] ^= _mm_cvtsi128_si64(_mm_unpackhi_epi64(carry, carry)) as u64;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn toeplitz_pclmul(t: &[u64], v: &[u64], out: &mut [u128]) {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_setzero_si128,
        _mm_unpackhi_epi64, _mm_xor_si128,
    };
    let n = v.len();
    let t = &t[..2 * n - 1];
    for (i, o) in out[..n].iter_mut().enumerate() {
        // Row i reads t[i + n - 1 - j] for j = 0..n: the window t[i..i + n] reversed.
        let row = &t[i..i + n];
        let mut acc = _mm_setzero_si128();
        for (&tv, &vj) in row.iter().rev().zip(v) {
            // Bit-for-bit reinterpretation of the words as the intrinsic's signed type.
            #[allow(clippy::cast_possible_wrap)]
            let p = _mm_clmulepi64_si128::<0x00>(
                _mm_set_epi64x(0, tv as i64),
                _mm_set_epi64x(0, vj as i64),
            );
            acc = _mm_xor_si128(acc, p);
        }
        #[allow(clippy::cast_sign_loss)]
        let (lo, hi) = (
            _mm_cvtsi128_si64(acc) as u64,
            _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc)) as u64,
        );
        *o = u128::from(lo) | (u128::from(hi) << 64);
    }
}

/// GF(2^64) arithmetic of [`crate::fft`] on `PCLMULQDQ`: the generic hot loops of that module are
/// inlined into `#[target_feature]` functions here, so the intrinsic inlines into them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PclmulField(Pclmul);

impl PclmulField {
    /// The field over a detected CPU feature.
    pub(crate) fn new(token: Pclmul) -> Self {
        Self(token)
    }
}

#[cfg(target_arch = "x86_64")]
impl crate::fft::Field for PclmulField {
    #[inline(always)]
    fn mul(self, a: u64, b: u64) -> u64 {
        // SAFETY: `self` holds a `Pclmul` token, which exists only if the CPU has PCLMULQDQ.
        unsafe { gf_mul_pclmul(a, b) }
    }
    fn fft_block(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { fft_block_pclmul(self, d, p) }
    }
    fn ifft_block(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { ifft_block_pclmul(self, d, p) }
    }
    fn fft_low(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { fft_low_pclmul(self, d, p) }
    }
    fn ifft_low(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { ifft_low_pclmul(self, d, p) }
    }
    fn butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        // SAFETY: as above.
        unsafe { butterfly_pclmul(self, lo, hi, c) }
    }
    fn inv_butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        // SAFETY: as above.
        unsafe { inv_butterfly_pclmul(self, lo, hi, c) }
    }
    fn pointwise(self, a: &mut [u64], b: &[u64]) {
        // SAFETY: as above.
        unsafe { pointwise_pclmul(self, a, b) }
    }
}

/// Unreachable off x86-64 (no token can exist).
#[cfg(not(target_arch = "x86_64"))]
impl crate::fft::Field for PclmulField {
    fn mul(self, _: u64, _: u64) -> u64 {
        match (self.0).0 {}
    }
    fn fft_block(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn ifft_block(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn fft_low(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn ifft_low(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn butterfly(self, _: &mut [u64], _: &mut [u64], _: u64) {
        match (self.0).0 {}
    }
    fn inv_butterfly(self, _: &mut [u64], _: &mut [u64], _: u64) {
        match (self.0).0 {}
    }
    fn pointwise(self, _: &mut [u64], _: &[u64]) {
        match (self.0).0 {}
    }
}

/// GF(2^64) product: one carry-less multiply and the shift reduction of [`crate::fft::reduce`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
fn gf_mul_pclmul(a: u64, b: u64) -> u64 {
    use std::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_cvtsi64_si128, _mm_cvtsi128_si64, _mm_unpackhi_epi64,
    };
    // Bit-for-bit reinterpretations between u64 and the intrinsics' i64.
    #[allow(clippy::cast_possible_wrap)]
    let p = _mm_clmulepi64_si128::<0x00>(_mm_cvtsi64_si128(a as i64), _mm_cvtsi64_si128(b as i64));
    #[allow(clippy::cast_sign_loss)]
    let (lo, hi) = (
        _mm_cvtsi128_si64(p) as u64,
        _mm_cvtsi128_si64(_mm_unpackhi_epi64(p, p)) as u64,
    );
    crate::fft::reduce(lo, hi)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn fft_block_pclmul(f: PclmulField, d: &mut [u64], p: usize) {
    crate::fft::fft_block_generic(f, d, p);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn ifft_block_pclmul(f: PclmulField, d: &mut [u64], p: usize) {
    crate::fft::ifft_block_generic(f, d, p);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn fft_low_pclmul(f: PclmulField, d: &mut [u64], p: usize) {
    crate::fft::fft_layers_generic(f, d, p, 0..3);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn ifft_low_pclmul(f: PclmulField, d: &mut [u64], p: usize) {
    crate::fft::ifft_layers_generic(f, d, p, 0..3);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn butterfly_pclmul(f: PclmulField, lo: &mut [u64], hi: &mut [u64], c: u64) {
    crate::fft::butterfly_generic(f, lo, hi, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn inv_butterfly_pclmul(f: PclmulField, lo: &mut [u64], hi: &mut [u64], c: u64) {
    crate::fft::inv_butterfly_generic(f, lo, hi, c);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
fn pointwise_pclmul(f: PclmulField, a: &mut [u64], b: &[u64]) {
    crate::fft::pointwise_generic(f, a, b);
}

/// GF(2^64) arithmetic of [`crate::fft`] with AVX-512 `VPCLMULQDQ`: butterflies and pointwise
/// products eight elements at a time (two 4-lane carry-less multiplies, shift reduction), scalar
/// `PCLMULQDQ` for the short runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512Field(Pclmul);

impl Avx512Field {
    /// `Some` if the CPU has `AVX512F` and `VPCLMULQDQ` (and `PCLMULQDQ`).
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn detect() -> Option<Self> {
        let token = Pclmul::detect()?;
        (std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("vpclmulqdq"))
        .then_some(Self(token))
    }

    /// Never available off x86-64.
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn detect() -> Option<Self> {
        None
    }
}

#[cfg(target_arch = "x86_64")]
impl crate::fft::Field for Avx512Field {
    #[inline(always)]
    fn mul(self, a: u64, b: u64) -> u64 {
        // SAFETY: an `Avx512Field` holds a `Pclmul` token (PCLMULQDQ present).
        unsafe { gf_mul_pclmul(a, b) }
    }
    fn fft_block(self, d: &mut [u64], p: usize) {
        // SAFETY: `detect` checked AVX512F, VPCLMULQDQ and PCLMULQDQ.
        unsafe { fft_block_avx512(self, d, p) }
    }
    fn ifft_block(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { ifft_block_avx512(self, d, p) }
    }
    fn fft_low(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { low_layers_avx512(d, p, false) }
    }
    fn ifft_low(self, d: &mut [u64], p: usize) {
        // SAFETY: as above.
        unsafe { low_layers_avx512(d, p, true) }
    }
    fn butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        // SAFETY: as above.
        unsafe { butterfly_avx512(lo, hi, c, false) }
    }
    fn inv_butterfly(self, lo: &mut [u64], hi: &mut [u64], c: u64) {
        // SAFETY: as above.
        unsafe { butterfly_avx512(lo, hi, c, true) }
    }
    fn pointwise(self, a: &mut [u64], b: &[u64]) {
        // SAFETY: as above.
        unsafe { pointwise_avx512(a, b) }
    }
}

/// Unreachable off x86-64 (no token can exist).
#[cfg(not(target_arch = "x86_64"))]
impl crate::fft::Field for Avx512Field {
    fn mul(self, _: u64, _: u64) -> u64 {
        match (self.0).0 {}
    }
    fn fft_block(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn ifft_block(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn fft_low(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn ifft_low(self, _: &mut [u64], _: usize) {
        match (self.0).0 {}
    }
    fn butterfly(self, _: &mut [u64], _: &mut [u64], _: u64) {
        match (self.0).0 {}
    }
    fn inv_butterfly(self, _: &mut [u64], _: &mut [u64], _: u64) {
        match (self.0).0 {}
    }
    fn pointwise(self, _: &mut [u64], _: &[u64]) {
        match (self.0).0 {}
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,avx512f,vpclmulqdq")]
fn fft_block_avx512(f: Avx512Field, d: &mut [u64], p: usize) {
    crate::fft::fft_block_generic(f, d, p);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,avx512f,vpclmulqdq")]
fn ifft_block_avx512(f: Avx512Field, d: &mut [u64], p: usize) {
    crate::fft::ifft_block_generic(f, d, p);
}

/// Eight GF(2^64) products `x[i] y[i]`: even lanes by selector 0x00, odd lanes by 0x11, then the
/// reduction of [`crate::fft::reduce`] on all eight at once.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,vpclmulqdq")]
#[inline]
fn gf_mul8(
    x: std::arch::x86_64::__m512i,
    y: std::arch::x86_64::__m512i,
) -> std::arch::x86_64::__m512i {
    use std::arch::x86_64::{
        _mm512_clmulepi64_epi128, _mm512_slli_epi64, _mm512_srli_epi64, _mm512_ternarylogic_epi64,
        _mm512_unpackhi_epi64, _mm512_unpacklo_epi64, _mm512_xor_si512,
    };
    let even = _mm512_clmulepi64_epi128::<0x00>(x, y);
    let odd = _mm512_clmulepi64_epi128::<0x11>(x, y);
    let lo = _mm512_unpacklo_epi64(even, odd);
    let hi = _mm512_unpackhi_epi64(even, odd);
    // 0x96: three-way XOR. h = hi ^ hi>>63 ^ hi>>61 ^ hi>>60; r = lo ^ h ^ h<<1 ^ h<<3 ^ h<<4.
    let t = _mm512_ternarylogic_epi64::<0x96>(
        hi,
        _mm512_srli_epi64::<63>(hi),
        _mm512_srli_epi64::<61>(hi),
    );
    let h = _mm512_xor_si512(t, _mm512_srli_epi64::<60>(hi));
    let r = _mm512_ternarylogic_epi64::<0x96>(lo, h, _mm512_slli_epi64::<1>(h));
    _mm512_ternarylogic_epi64::<0x96>(r, _mm512_slli_epi64::<3>(h), _mm512_slli_epi64::<4>(h))
}

/// FFT layers 2, 1, 0 (or inverse 0, 1, 2) of every 8-element block in registers: each layer
/// multiplies the partner ("hi") lanes, permuted under the "lo" lanes, by the per-lane constants,
/// and XORs with lane masks. The constants follow from the linearity of `omega`:
/// `omega(q + t) = omega(q) ^ omega(t)` when `q`'s and `t`'s bits are disjoint.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,avx512f,vpclmulqdq")]
fn low_layers_avx512(d: &mut [u64], p: usize, inverse: bool) {
    use crate::fft::omega;
    use std::arch::x86_64::{
        __m512i, _mm512_loadu_si512, _mm512_mask_xor_epi64, _mm512_permutexvar_epi64,
        _mm512_set_epi64, _mm512_set1_epi64, _mm512_storeu_si512, _mm512_xor_si512,
    };
    // Bit-for-bit reinterpretations of u64 constants as the intrinsics' i64.
    #[allow(clippy::cast_possible_wrap)]
    let lane = |x: u64| x as i64;
    // Per layer i (2, 1, 0): partner index of each lane, the lane's own "lo" index, the mask of
    // "lo" lanes and the offsets omega(t) within the block (set_epi64 lists lanes 7 .. 0).
    let hi_idx = [
        _mm512_set_epi64(7, 6, 5, 4, 7, 6, 5, 4),
        _mm512_set_epi64(7, 6, 7, 6, 3, 2, 3, 2),
        _mm512_set_epi64(7, 7, 5, 5, 3, 3, 1, 1),
    ];
    let lo_idx = [
        _mm512_set_epi64(3, 2, 1, 0, 3, 2, 1, 0),
        _mm512_set_epi64(5, 4, 5, 4, 1, 0, 1, 0),
        _mm512_set_epi64(6, 6, 4, 4, 2, 2, 0, 0),
    ];
    let lo_mask: [u8; 3] = [0x0f, 0x33, 0x55];
    let (w2, w4, w6) = (lane(omega(2)), lane(omega(4)), lane(omega(6)));
    let offsets = [
        _mm512_set1_epi64(0),
        _mm512_set_epi64(w2, w2, w2, w2, 0, 0, 0, 0),
        _mm512_set_epi64(w6, w6, w4, w4, w2, w2, 0, 0),
    ];
    let step = |v: __m512i, layer: usize, q: usize| -> __m512i {
        let c = _mm512_xor_si512(_mm512_set1_epi64(lane(omega(q))), offsets[layer]);
        let (lo, hi) = (lo_mask[layer], !lo_mask[layer]);
        if inverse {
            let v = _mm512_mask_xor_epi64(v, hi, v, _mm512_permutexvar_epi64(lo_idx[layer], v));
            let t = gf_mul8(_mm512_permutexvar_epi64(hi_idx[layer], v), c);
            _mm512_mask_xor_epi64(v, lo, v, t)
        } else {
            let t = gf_mul8(_mm512_permutexvar_epi64(hi_idx[layer], v), c);
            let v = _mm512_mask_xor_epi64(v, lo, v, t);
            _mm512_mask_xor_epi64(v, hi, v, _mm512_permutexvar_epi64(lo_idx[layer], v))
        }
    };
    for (b, blk) in d.chunks_exact_mut(8).enumerate() {
        let at = p + 8 * b;
        // SAFETY: the chunk is exactly 8 u64 = 64 bytes; unaligned load and store.
        unsafe {
            let mut v = _mm512_loadu_si512(blk.as_ptr().cast());
            if inverse {
                v = step(v, 2, at);
                v = step(v, 1, at >> 1);
                v = step(v, 0, at >> 2);
            } else {
                v = step(v, 0, at >> 2);
                v = step(v, 1, at >> 1);
                v = step(v, 2, at);
            }
            _mm512_storeu_si512(blk.as_mut_ptr().cast(), v);
        }
    }
}

/// Forward (`a = x + c y`, `y += a`) or inverse (`y += x`, `x += c y`) butterflies.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,avx512f,vpclmulqdq")]
fn butterfly_avx512(lo: &mut [u64], hi: &mut [u64], c: u64, inverse: bool) {
    use std::arch::x86_64::{
        _mm512_loadu_si512, _mm512_set1_epi64, _mm512_storeu_si512, _mm512_xor_si512,
    };
    let n = lo.len().min(hi.len());
    let (lo, hi) = (&mut lo[..n], &mut hi[..n]);
    #[allow(clippy::cast_possible_wrap)]
    let cv = _mm512_set1_epi64(c as i64);
    let mut lc = lo.chunks_exact_mut(8);
    let mut hc = hi.chunks_exact_mut(8);
    for (x8, y8) in (&mut lc).zip(&mut hc) {
        // SAFETY: both chunks are exactly 8 u64 = 64 bytes; unaligned loads and stores.
        unsafe {
            let x = _mm512_loadu_si512(x8.as_ptr().cast());
            let y = _mm512_loadu_si512(y8.as_ptr().cast());
            let (x, y) = if inverse {
                let y = _mm512_xor_si512(y, x);
                (_mm512_xor_si512(x, gf_mul8(y, cv)), y)
            } else {
                let x = _mm512_xor_si512(x, gf_mul8(y, cv));
                (x, _mm512_xor_si512(y, x))
            };
            _mm512_storeu_si512(x8.as_mut_ptr().cast(), x);
            _mm512_storeu_si512(y8.as_mut_ptr().cast(), y);
        }
    }
    for (x, y) in lc
        .into_remainder()
        .iter_mut()
        .zip(hc.into_remainder().iter_mut())
    {
        if inverse {
            *y ^= *x;
            *x ^= gf_mul_pclmul(c, *y);
        } else {
            *x ^= gf_mul_pclmul(c, *y);
            *y ^= *x;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq,avx512f,vpclmulqdq")]
fn pointwise_avx512(a: &mut [u64], b: &[u64]) {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_storeu_si512};
    let n = a.len().min(b.len());
    let (a, b) = (&mut a[..n], &b[..n]);
    let mut ac = a.chunks_exact_mut(8);
    let mut bc = b.chunks_exact(8);
    for (x8, y8) in (&mut ac).zip(&mut bc) {
        // SAFETY: both chunks are exactly 8 u64 = 64 bytes; unaligned loads and stores.
        unsafe {
            let r = gf_mul8(
                _mm512_loadu_si512(x8.as_ptr().cast()),
                _mm512_loadu_si512(y8.as_ptr().cast()),
            );
            _mm512_storeu_si512(x8.as_mut_ptr().cast(), r);
        }
    }
    for (x, &y) in ac.into_remainder().iter_mut().zip(bc.remainder()) {
        *x = gf_mul_pclmul(*x, y);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn pclmul_matches_reference_and_portable(a in any::<u64>(), b in any::<u64>()) {
            if let Some(p) = Pclmul::detect() {
                prop_assert_eq!(p.clmul(a, b), qkd_core::confirm::clmul_reference(a, b));
                prop_assert_eq!(p.clmul(a, b), crate::clmul::clmul_portable(a, b));
            }
        }
    }
}
