//! The fast decoder: layered min-sum in `i8` saturating fixed point over [`FAST_LANES`] frames at
//! once, with lane refill.
//!
//! **Layout (lanes = frames).** Every variable's posterior and every edge's check-to-variable
//! message is a 32-byte [`FAST_LANES`]-wide vector, byte `l` belonging to the frame in lane `l`.
//! One layered min-sum step of check `j` (Hocevar, SIPS 2004; normalised/offset correction of
//! Chen and Fossorier, IEEE Trans. Comm. 50(3), 2002) is then the same short sequence of packed
//! byte operations for all 32 frames: `q = p - r` (saturating), sign product, the two smallest
//! magnitudes, corrected `r' = ±min`, `p = q + r'` (saturating). The edge whose `|q|` equals the
//! smallest magnitude receives the second smallest (ties give `min2 = min1`, so no index is
//! stored). With AVX2 one check edge is about twenty instructions for 32 frames.
//!
//! **Why `i8`.** Halving the message width doubles the frames per register and halves the memory
//! traffic; min-sum only compares and adds, so 8 bits suffice when the channel LLR is a few units
//! (here `LLR_SCALE / 2 = 4` units per nat: 12 at QBER 5 %) and posteriors saturate at ±127. The
//! tests compare the `i8` and `i16` decoders' frame error rates and decisions.
//!
//! **Lane refill.** A lane whose frame satisfies its syndrome (checked after every iteration on
//! word-packed sign masks, 32 frames per `u32`) or runs out of iterations is retired at once and
//! refilled with the next frame of the queue; the new frame's old messages are cleared inside the
//! next sweep (`r & keep`), so refilling costs no extra pass. A batch therefore runs at the speed
//! of the average frame, not of the slowest one. Frames are independent of their lane and of
//! their neighbours: the result of a frame is the same whichever batch it is decoded in.
//!
//! **Back ends.** The kernel is written once, generic over a small vector trait: a portable
//! `[i8; 32]` implementation (the compiler vectorises it for the baseline target) and an AVX2
//! one chosen at run time ([`Backend::detect`]); the AVX2 intrinsics live in the crate's only
//! `unsafe` module (`simd`), and both back ends are tested to give bit-identical results.

use crate::LdpcError;
use crate::decoder::{DecodeResult, FrameInput, MinSumKind};
use crate::matrix::SparseMatrix;
use crate::simd;

/// Frames decoded side by side by [`FastDecoder`] (one byte lane each).
pub const FAST_LANES: usize = 32;

/// The `i16` fixed-point LLRs of [`FrameInput`] (`LLR_SCALE` = 8 units per nat) are shifted right
/// by this much into the fast decoder's `i8` units (4 per nat), then clamped to ±127.
pub const FAST_LLR_SHIFT: u32 = 1;

/// Largest `i8` magnitude used for posteriors and messages.
const MAX_MAG: i8 = 127;

/// Converts an `i16` fixed-point LLR (see [`crate::decoder::channel_llr`]) to the fast decoder's
/// `i8` units. The sign (hence the hard decision) is preserved: negative values stay negative.
#[must_use]
pub fn llr_to_i8(x: i16) -> i8 {
    let y = (x >> FAST_LLR_SHIFT).clamp(-i16::from(MAX_MAG), i16::from(MAX_MAG));
    // In range after the clamp.
    i8::try_from(y).unwrap_or(if y < 0 { -MAX_MAG } else { MAX_MAG })
}

/// One vector of [`FAST_LANES`] bytes, aligned for 256-bit loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C, align(32))]
pub(crate) struct Lane(pub(crate) [i8; FAST_LANES]);

impl Default for Lane {
    fn default() -> Self {
        Self([0; FAST_LANES])
    }
}

/// The packed byte operations the kernel needs. Semantics are those of the x86 instructions
/// (`paddsb`, `psubsb`, `pabsb`, `pminub`, `pmaxub`, `pcmpeqb`, `pblendvb`, `psignb`,
/// `psubusb`, `pmovmskb`); the portable implementation reproduces them bit for bit.
pub(crate) trait Lanes: Copy {
    /// Every lane `x`.
    fn splat(x: i8) -> Self;
    /// Loads a lane vector.
    fn load(a: &Lane) -> Self;
    /// Stores a lane vector.
    fn store(self, a: &mut Lane);
    /// Signed saturating addition.
    fn adds(self, o: Self) -> Self;
    /// Signed saturating subtraction.
    fn subs(self, o: Self) -> Self;
    /// Bitwise and.
    fn and(self, o: Self) -> Self;
    /// Bitwise exclusive or.
    fn xor(self, o: Self) -> Self;
    /// Absolute value, wrapping (`|-128|` is the byte 0x80, i.e. 128 read unsigned).
    fn abs(self) -> Self;
    /// Unsigned minimum.
    fn min_u(self, o: Self) -> Self;
    /// Unsigned maximum.
    fn max_u(self, o: Self) -> Self;
    /// All-ones where equal, zero elsewhere.
    fn eq(self, o: Self) -> Self;
    /// `a` where `mask` is negative, `b` elsewhere.
    fn select(mask: Self, a: Self, b: Self) -> Self;
    /// `self` negated (wrapping) where `s` is negative.
    fn negate_where(self, s: Self) -> Self;
    /// Unsigned saturating subtraction.
    fn subs_u(self, o: Self) -> Self;
    /// Unsigned shift right by two.
    fn shr2_u(self) -> Self;
    /// Bit `l` = sign bit of lane `l`.
    fn movemask(self) -> u32;
}

/// The portable back end: plain arrays, element by element.
#[derive(Clone, Copy)]
pub(crate) struct Portable([i8; FAST_LANES]);

impl Portable {
    #[inline(always)]
    fn map2(self, o: Self, f: impl Fn(i8, i8) -> i8) -> Self {
        let mut out = [0i8; FAST_LANES];
        for ((d, &a), &b) in out.iter_mut().zip(&self.0).zip(&o.0) {
            *d = f(a, b);
        }
        Self(out)
    }
}

#[inline(always)]
fn u(x: i8) -> u8 {
    x.cast_unsigned()
}

#[inline(always)]
fn s(x: u8) -> i8 {
    x.cast_signed()
}

impl Lanes for Portable {
    #[inline(always)]
    fn splat(x: i8) -> Self {
        Self([x; FAST_LANES])
    }
    #[inline(always)]
    fn load(a: &Lane) -> Self {
        Self(a.0)
    }
    #[inline(always)]
    fn store(self, a: &mut Lane) {
        a.0 = self.0;
    }
    #[inline(always)]
    fn adds(self, o: Self) -> Self {
        self.map2(o, i8::saturating_add)
    }
    #[inline(always)]
    fn subs(self, o: Self) -> Self {
        self.map2(o, i8::saturating_sub)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        self.map2(o, |a, b| a & b)
    }
    #[inline(always)]
    fn xor(self, o: Self) -> Self {
        self.map2(o, |a, b| a ^ b)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        self.map2(self, |a, _| a.wrapping_abs())
    }
    #[inline(always)]
    fn min_u(self, o: Self) -> Self {
        self.map2(o, |a, b| s(u(a).min(u(b))))
    }
    #[inline(always)]
    fn max_u(self, o: Self) -> Self {
        self.map2(o, |a, b| s(u(a).max(u(b))))
    }
    #[inline(always)]
    fn eq(self, o: Self) -> Self {
        self.map2(o, |a, b| -i8::from(a == b))
    }
    #[inline(always)]
    fn select(mask: Self, a: Self, b: Self) -> Self {
        let mut out = b.0;
        for ((d, &m), &x) in out.iter_mut().zip(&mask.0).zip(&a.0) {
            if m < 0 {
                *d = x;
            }
        }
        Self(out)
    }
    #[inline(always)]
    fn negate_where(self, sg: Self) -> Self {
        self.map2(sg, |a, b| if b < 0 { a.wrapping_neg() } else { a })
    }
    #[inline(always)]
    fn subs_u(self, o: Self) -> Self {
        self.map2(o, |a, b| s(u(a).saturating_sub(u(b))))
    }
    #[inline(always)]
    fn shr2_u(self) -> Self {
        self.map2(self, |a, _| s(u(a) >> 2))
    }
    #[inline(always)]
    fn movemask(self) -> u32 {
        let mut m = 0u32;
        for (l, &x) in self.0.iter().enumerate() {
            m |= u32::from(x < 0) << l;
        }
        m
    }
}

/// The decoder's working memory, borrowed by the kernel.
pub(crate) struct Bufs<'a> {
    /// Row pointers of `H`.
    pub(crate) rp: &'a [u32],
    /// Column of every edge, in row order.
    pub(crate) ci: &'a [u32],
    /// Posterior per variable.
    pub(crate) p: &'a mut [Lane],
    /// Check-to-variable message per edge.
    pub(crate) r: &'a mut [Lane],
    /// Scratch: `q = p - r` of the current row.
    pub(crate) q: &'a mut [Lane],
    /// Per check: -128 in lanes whose syndrome bit is 1, else 0.
    pub(crate) sv: &'a [Lane],
    /// Out: hard-decision sign mask per variable after the sweep.
    pub(crate) masks: &'a mut [u32],
    /// Lanes to keep (-1) or to clear (0, freshly loaded frames) in `r`.
    pub(crate) keep: &'a Lane,
    /// Correction.
    pub(crate) kind: MinSumKind,
}

#[inline(always)]
fn correct<V: Lanes>(m: V, kind: MinSumKind) -> V {
    let c = match kind {
        // m - m/4 (alpha = 3/4), m read unsigned.
        MinSumKind::Normalized => m.subs_u(m.shr2_u()),
        MinSumKind::Offset { offset } => {
            let o = (offset >> FAST_LLR_SHIFT).clamp(0, i16::from(MAX_MAG));
            m.subs_u(V::splat(i8::try_from(o).unwrap_or(MAX_MAG)))
        }
    };
    c.min_u(V::splat(MAX_MAG))
}

/// One layered iteration over all checks for all lanes, then the sign masks of the posteriors.
#[inline(always)]
pub(crate) fn iterate<V: Lanes>(b: &mut Bufs<'_>) {
    let keep = V::load(b.keep);
    let kind = b.kind;
    for (j, w) in b.rp.windows(2).enumerate() {
        let (lo, hi) = (w[0] as usize, w[1] as usize);
        let cols = &b.ci[lo..hi];
        let r = &mut b.r[lo..hi];
        let q = &mut b.q[..hi - lo];
        let mut sgn = V::load(&b.sv[j]);
        // 0xFF: larger than any magnitude (read unsigned).
        let mut min1 = V::splat(-1);
        let mut min2 = V::splat(-1);
        for ((&c, rk), qk) in cols.iter().zip(r.iter()).zip(q.iter_mut()) {
            let x = V::load(&b.p[c as usize]).subs(V::load(rk).and(keep));
            x.store(qk);
            sgn = sgn.xor(x);
            let mag = x.abs();
            min2 = min2.min_u(min1.max_u(mag));
            min1 = min1.min_u(mag);
        }
        let (m1, m2) = (correct(min1, kind), correct(min2, kind));
        for ((&c, rk), qk) in cols.iter().zip(r.iter_mut()).zip(q.iter()) {
            let x = V::load(qk);
            let mag = V::select(x.abs().eq(min1), m2, m1);
            let rn = mag.negate_where(sgn.xor(x));
            rn.store(rk);
            x.adds(rn).store(&mut b.p[c as usize]);
        }
    }
    for (pv, m) in b.p.iter().zip(b.masks.iter_mut()) {
        *m = V::load(pv).movemask();
    }
}

/// Which implementation of the kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// Portable Rust (auto-vectorised for the compilation target).
    Portable,
    /// x86-64 AVX2 intrinsics (32 frames per 256-bit register), chosen at run time.
    Avx2,
}

impl Backend {
    /// The fastest back end this CPU runs.
    #[must_use]
    pub fn detect() -> Self {
        if simd::Avx2::detect().is_some() {
            Self::Avx2
        } else {
            Self::Portable
        }
    }
}

const IDLE: usize = usize::MAX;

/// Layered min-sum in `i8` over [`FAST_LANES`] frames with lane refill (see the module docs).
/// Reuses its buffers across calls.
///
/// ```
/// use qkd_ldpc::{CodeSpec, FastDecoder, FrameInput, MinSumKind};
/// let code = CodeSpec { min_length: 1000, leak_rate: 0.5, seed: 1 }.build()?;
/// let n = code.h.cols();
/// // Bob's word is all zero with LLR +24 (QBER ~5 %), Alice's syndrome is zero: nothing to do.
/// let llr = vec![24i16; n];
/// let syndrome = vec![0u64; code.h.rows().div_ceil(64)];
/// let frames = vec![FrameInput { llr: &llr, syndrome: &syndrome }; 40];
/// let out = FastDecoder::new(MinSumKind::Normalized).decode(&code.h, &frames, 50)?;
/// assert!(out.iter().all(|(r, w)| r.converged && r.iterations == 0 && w.iter().all(|&x| x == 0)));
/// # Ok::<(), qkd_ldpc::LdpcError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FastDecoder {
    kind: MinSumKind,
    avx2: Option<simd::Avx2>,
    p: Vec<Lane>,
    r: Vec<Lane>,
    q: Vec<Lane>,
    sv: Vec<Lane>,
    smask: Vec<u32>,
    masks: Vec<u32>,
    hard: Vec<u64>,
}

impl FastDecoder {
    /// A decoder on the fastest back end of this CPU.
    #[must_use]
    pub fn new(kind: MinSumKind) -> Self {
        Self {
            kind,
            avx2: simd::Avx2::detect(),
            p: Vec::new(),
            r: Vec::new(),
            q: Vec::new(),
            sv: Vec::new(),
            smask: Vec::new(),
            masks: Vec::new(),
            hard: Vec::new(),
        }
    }

    /// A decoder on the given back end.
    ///
    /// # Errors
    /// [`LdpcError::InvalidConfig`] if this CPU cannot run `backend`.
    pub fn with_backend(kind: MinSumKind, backend: Backend) -> Result<Self, LdpcError> {
        let mut d = Self::new(kind);
        match backend {
            Backend::Portable => d.avx2 = None,
            Backend::Avx2 => {
                if d.avx2.is_none() {
                    return Err(LdpcError::InvalidConfig(
                        "this CPU does not support AVX2".into(),
                    ));
                }
            }
        }
        Ok(d)
    }

    /// The back end in use.
    #[must_use]
    pub fn backend(&self) -> Backend {
        if self.avx2.is_some() {
            Backend::Avx2
        } else {
            Backend::Portable
        }
    }

    /// Decodes all `frames` (any number), [`FAST_LANES`] at a time with lane refill. Returns, per
    /// frame and in order, the result and the hard decision as words (bit `v` is variable `v`).
    /// A frame whose channel hard decision already satisfies its syndrome takes 0 iterations.
    ///
    /// # Errors
    /// [`LdpcError::LengthMismatch`] if a frame's LLRs are not `h.cols()` long or its syndrome
    /// has fewer than `h.rows()` bits.
    pub fn decode(
        &mut self,
        h: &SparseMatrix,
        frames: &[FrameInput<'_>],
        max_iterations: u32,
    ) -> Result<Vec<(DecodeResult, Vec<u64>)>, LdpcError> {
        let (n, m) = (h.cols(), h.rows());
        for f in frames {
            if f.llr.len() != n {
                return Err(LdpcError::LengthMismatch {
                    what: "frame LLRs",
                    expected: n,
                    got: f.llr.len(),
                });
            }
            if f.syndrome.len() < m.div_ceil(64) {
                return Err(LdpcError::LengthMismatch {
                    what: "syndrome words",
                    expected: m.div_ceil(64),
                    got: f.syndrome.len(),
                });
            }
        }
        self.p.clear();
        self.p.resize(n, Lane::default());
        self.r.clear();
        self.r.resize(h.edges(), Lane::default());
        self.q.resize(h.max_row_degree(), Lane::default());
        self.sv.clear();
        self.sv.resize(m, Lane::default());
        self.smask.clear();
        self.smask.resize(m, 0);
        self.masks.clear();
        self.masks.resize(n, 0);

        let mut results: Vec<Option<(DecodeResult, Vec<u64>)>> = vec![None; frames.len()];
        let mut slot = [IDLE; FAST_LANES];
        let mut iters = [0u32; FAST_LANES];
        let mut next = 0usize;
        loop {
            let mut keep = Lane([-1; FAST_LANES]);
            for l in 0..FAST_LANES {
                if slot[l] != IDLE {
                    continue;
                }
                while next < frames.len() {
                    let f = next;
                    next += 1;
                    let hard = self.channel_decision(h, &frames[f]);
                    if hard || max_iterations == 0 {
                        results[f] = Some((
                            DecodeResult {
                                converged: hard,
                                iterations: 0,
                            },
                            self.hard.clone(),
                        ));
                        continue;
                    }
                    self.load(l, &frames[f]);
                    keep.0[l] = 0;
                    slot[l] = f;
                    iters[l] = 0;
                    break;
                }
            }
            let mut active = 0u32;
            for (l, &f) in slot.iter().enumerate() {
                if f != IDLE {
                    active |= 1 << l;
                }
            }
            if active == 0 {
                break;
            }
            self.iterate(h, &keep);
            let unsat = self.unsatisfied(h, active);
            for l in 0..FAST_LANES {
                if active >> l & 1 == 0 {
                    continue;
                }
                iters[l] += 1;
                let converged = unsat >> l & 1 == 0;
                if converged || iters[l] >= max_iterations {
                    results[slot[l]] = Some((
                        DecodeResult {
                            converged,
                            iterations: iters[l],
                        },
                        self.lane_words(l),
                    ));
                    slot[l] = IDLE;
                }
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// Hard decision of a frame's channel LLRs into `self.hard`; true if it meets the syndrome.
    fn channel_decision(&mut self, h: &SparseMatrix, f: &FrameInput<'_>) -> bool {
        self.hard.clear();
        // A word at a time in a register (a read-modify-write per bit stalls on the store).
        self.hard.extend(f.llr.chunks(64).map(|c| {
            c.iter()
                .enumerate()
                .fold(0u64, |w, (i, &x)| w | (u64::from(x < 0) << i))
        }));
        let (rp, ci) = (h.row_ptr(), h.col_idx());
        rp.windows(2).enumerate().all(|(j, w)| {
            let mut par = f.syndrome[j >> 6] >> (j & 63);
            for &c in &ci[w[0] as usize..w[1] as usize] {
                par ^= self.hard[(c >> 6) as usize] >> (c & 63);
            }
            par & 1 == 0
        })
    }

    /// Puts frame `f` into lane `l` (its messages are cleared by the next sweep's `keep`).
    fn load(&mut self, l: usize, f: &FrameInput<'_>) {
        for (pv, &x) in self.p.iter_mut().zip(f.llr) {
            pv.0[l] = llr_to_i8(x);
        }
        for (j, (sv, sm)) in self.sv.iter_mut().zip(self.smask.iter_mut()).enumerate() {
            let b = (f.syndrome[j >> 6] >> (j & 63)) & 1 == 1;
            sv.0[l] = if b { i8::MIN } else { 0 };
            *sm = (*sm & !(1 << l)) | (u32::from(b) << l);
        }
    }

    fn iterate(&mut self, h: &SparseMatrix, keep: &Lane) {
        let mut b = Bufs {
            rp: h.row_ptr(),
            ci: h.col_idx(),
            p: &mut self.p,
            r: &mut self.r,
            q: &mut self.q,
            sv: &self.sv,
            masks: &mut self.masks,
            keep,
            kind: self.kind,
        };
        match self.avx2 {
            Some(t) => t.iterate(&mut b),
            None => iterate::<Portable>(&mut b),
        }
    }

    /// Lanes among `active` whose hard decision does not satisfy their syndrome.
    fn unsatisfied(&self, h: &SparseMatrix, active: u32) -> u32 {
        let (rp, ci) = (h.row_ptr(), h.col_idx());
        let mut unsat = 0u32;
        for (j, w) in rp.windows(2).enumerate() {
            let mut par = self.smask[j];
            for &c in &ci[w[0] as usize..w[1] as usize] {
                par ^= self.masks[c as usize];
            }
            unsat |= par;
            if unsat & active == active {
                break;
            }
        }
        unsat & active
    }

    /// The hard decision of lane `l` as words.
    fn lane_words(&self, l: usize) -> Vec<u64> {
        self.masks
            .chunks(64)
            .map(|c| {
                c.iter()
                    .enumerate()
                    .fold(0u64, |w, (i, &m)| w | (u64::from((m >> l) & 1) << i))
            })
            .collect()
    }
}

/// Decodes many frames with [`FastDecoder`]: one decoder per thread over a contiguous share of
/// the frames (feature `rayon`), or one decoder sequentially. Results are in frame order.
///
/// # Errors
/// As [`FastDecoder::decode`].
pub fn decode_frames_fast(
    h: &SparseMatrix,
    frames: &[FrameInput<'_>],
    kind: MinSumKind,
    max_iterations: u32,
) -> Result<Vec<(DecodeResult, Vec<u64>)>, LdpcError> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        let threads = rayon::current_num_threads().max(1);
        let chunk = frames.len().div_ceil(threads).max(1);
        let parts = frames
            .par_chunks(chunk)
            .map(|c| FastDecoder::new(kind).decode(h, c, max_iterations))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(parts.into_iter().flatten().collect())
    }
    #[cfg(not(feature = "rayon"))]
    {
        FastDecoder::new(kind).decode(h, frames, max_iterations)
    }
}
