//! Syndrome (Slepian-Wolf) decoders.
//!
//! Bob holds `y = x ^ e` and Alice's syndrome `s = H x`. He looks for the `x` with `H x = s` closest
//! to `y`: belief propagation where variable `v` starts from the channel LLR `(1 - 2 y_v) ln((1-Q)/Q)`
//! and check `j` flips the sign of its outgoing messages when `s_j = 1` (Liveris, Xiong, Georghiades,
//! "Compression of binary sources with side information at the decoder using LDPC codes", IEEE
//! Comm. Letters 6(10), 2002). Punctured symbols start at LLR 0, shortened ones at full confidence.
//!
//! - [`decode_spa`]: flooding sum-product in `f64` (the reference; tanh rule, eq. (5)-(6) of
//!   Kschischang, Frey, Loeliger, IEEE Trans. IT 47(2), 2001).
//! - [`MinSumDecoder`]: layered (row-serial) min-sum in `i16` fixed point, normalised
//!   (`alpha = 3/4`) or offset, with early termination on the syndrome (Hocevar, "A reduced
//!   complexity decoder architecture via layered decoding of LDPC codes", SIPS 2004; Chen, Fossorier,
//!   normalised/offset min-sum, IEEE Trans. Comm. 50(3), 2002).
//! - [`BatchDecoder`]: the same layered min-sum over [`LANES`] frames at once with a lane-interleaved
//!   layout (`[i16; LANES]` per variable and per edge). The inner loops are branch-free over the lanes,
//!   so the compiler emits packed saturating 16-bit SIMD (SSE2/AVX2/NEON) without `unsafe`;
//!   [`decode_frames`] spreads batches over cores with rayon.
//!
//! Fixed point: one LLR unit is `1 / LLR_SCALE` nats; posteriors and messages saturate at the `i16`
//! range, which is far beyond any decision-relevant value.

use crate::matrix::SparseMatrix;

/// Fixed-point units per nat of LLR.
pub const LLR_SCALE: f64 = 8.0;
/// LLR given to shortened (known) symbols, in fixed-point units.
pub const KNOWN_LLR: i16 = 8192;
/// Frames decoded together by [`BatchDecoder`].
pub const LANES: usize = 16;

/// How check messages of min-sum are corrected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum MinSumKind {
    /// Normalised min-sum, magnitudes times 3/4.
    #[default]
    Normalized,
    /// Offset min-sum, magnitudes minus `offset` fixed-point units (floored at 0).
    Offset {
        /// Offset in fixed-point units (`LLR_SCALE` per nat).
        offset: i16,
    },
}

impl MinSumKind {
    #[inline]
    fn correct(self, m: i16) -> i16 {
        match self {
            MinSumKind::Normalized => m - (m >> 2),
            MinSumKind::Offset { offset } => m.saturating_sub(offset).max(0),
        }
    }
}

/// Result of one decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeResult {
    /// The hard decision satisfies the syndrome.
    pub converged: bool,
    /// Iterations run (0 if the channel hard decision already satisfied the syndrome).
    pub iterations: u32,
}

/// The channel LLR of a bit `y` at crossover probability `q`, in fixed point.
#[must_use]
pub fn channel_llr(q: f64) -> i16 {
    let q = q.clamp(1e-6, 0.5);
    let l = ((1.0 - q) / q).ln() * LLR_SCALE;
    // l is in [0, 111] for q >= 1e-6: exact and in range.
    #[allow(clippy::cast_possible_truncation)]
    let l = l.round().clamp(0.0, f64::from(i16::MAX)) as i16;
    l.max(1)
}

#[inline]
fn bit(words: &[u64], i: usize) -> bool {
    (words[i >> 6] >> (i & 63)) & 1 == 1
}

/// True if the hard decisions of `p` (negative = 1) satisfy syndrome `s`.
fn syndrome_ok_i16(h: &SparseMatrix, p: &[i16], s: &[u64]) -> bool {
    let (rp, ci) = (h.row_ptr(), h.col_idx());
    for j in 0..h.rows() {
        let mut par = bit(s, j);
        for &c in &ci[rp[j] as usize..rp[j + 1] as usize] {
            par ^= p[c as usize] < 0;
        }
        if par {
            return false;
        }
    }
    true
}

fn hard_words<T: Copy + PartialOrd + Default>(p: &[T]) -> Vec<u64> {
    let mut out = vec![0u64; p.len().div_ceil(64)];
    for (i, &x) in p.iter().enumerate() {
        if x < T::default() {
            out[i >> 6] |= 1 << (i & 63);
        }
    }
    out
}

/// Flooding sum-product decoding in `f64`; `llr[v]` in nats (positive favours 0).
///
/// Returns the result and the hard decision as words (bit `v` of the word list).
#[must_use]
pub fn decode_spa(
    h: &SparseMatrix,
    llr: &[f64],
    syndrome: &[u64],
    max_iterations: u32,
) -> (DecodeResult, Vec<u64>) {
    let (rp, ci) = (h.row_ptr(), h.col_idx());
    let (cp, ce) = (h.col_ptr(), h.col_edges());
    let mut post = llr.to_vec();
    let ok = |post: &[f64]| {
        (0..h.rows()).all(|j| {
            let mut par = bit(syndrome, j);
            for &c in &ci[rp[j] as usize..rp[j + 1] as usize] {
                par ^= post[c as usize] < 0.0;
            }
            !par
        })
    };
    if ok(&post) {
        return (
            DecodeResult {
                converged: true,
                iterations: 0,
            },
            hard_words(&post),
        );
    }
    let mut q: Vec<f64> = ci.iter().map(|&c| llr[c as usize]).collect();
    let mut r = vec![0.0f64; q.len()];
    let mut t = Vec::new();
    for it in 1..=max_iterations {
        for j in 0..h.rows() {
            let (a, b) = (rp[j] as usize, rp[j + 1] as usize);
            t.clear();
            t.extend(q[a..b].iter().map(|&x| (x / 2.0).tanh()));
            // Forward-backward products exclude each edge without division.
            let d = b - a;
            let mut fwd = 1.0;
            let sign = if bit(syndrome, j) { -1.0 } else { 1.0 };
            let mut prefix = vec![1.0; d];
            for k in 0..d {
                prefix[k] = fwd;
                fwd *= t[k];
            }
            let mut bwd = 1.0;
            for k in (0..d).rev() {
                let prod = (prefix[k] * bwd).clamp(-0.999_999_999_999, 0.999_999_999_999);
                r[a + k] = sign * 2.0 * prod.atanh();
                bwd *= t[k];
            }
        }
        for v in 0..h.cols() {
            let edges = &ce[cp[v] as usize..cp[v + 1] as usize];
            let total: f64 = llr[v] + edges.iter().map(|&e| r[e as usize]).sum::<f64>();
            post[v] = total;
            for &e in edges {
                q[e as usize] = total - r[e as usize];
            }
        }
        if ok(&post) {
            return (
                DecodeResult {
                    converged: true,
                    iterations: it,
                },
                hard_words(&post),
            );
        }
    }
    (
        DecodeResult {
            converged: false,
            iterations: max_iterations,
        },
        hard_words(&post),
    )
}

/// Layered min-sum decoder for one frame, in `i16` fixed point. Reuses its buffers across frames.
#[derive(Debug, Clone, Default)]
pub struct MinSumDecoder {
    kind: MinSumKind,
    r: Vec<i16>,
    p: Vec<i16>,
    q: Vec<i16>,
}

impl MinSumDecoder {
    /// A decoder with the given check-message correction.
    #[must_use]
    pub fn new(kind: MinSumKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// Decodes: `llr[v]` in fixed point (see [`channel_llr`], [`KNOWN_LLR`]), `syndrome` the
    /// target as words. The decision is then available from [`Self::hard_decision`].
    ///
    /// # Panics
    /// Never for consistent sizes; `llr` must have `h.cols()` entries and `syndrome` at least
    /// `h.rows()` bits (callers in this crate check this).
    pub fn decode(
        &mut self,
        h: &SparseMatrix,
        llr: &[i16],
        syndrome: &[u64],
        max_iterations: u32,
    ) -> DecodeResult {
        let (rp, ci) = (h.row_ptr(), h.col_idx());
        self.p.clear();
        self.p.extend_from_slice(llr);
        self.r.clear();
        self.r.resize(h.edges(), 0);
        self.q.resize(h.max_row_degree(), 0);
        if syndrome_ok_i16(h, &self.p, syndrome) {
            return DecodeResult {
                converged: true,
                iterations: 0,
            };
        }
        let kind = self.kind;
        for it in 1..=max_iterations {
            for j in 0..h.rows() {
                let (a, b) = (rp[j] as usize, rp[j + 1] as usize);
                let cols = &ci[a..b];
                let r = &mut self.r[a..b];
                let q = &mut self.q[..b - a];
                let (mut min1, mut min2, mut idx) = (i16::MAX, i16::MAX, 0usize);
                let mut sgn = bit(syndrome, j);
                for k in 0..cols.len() {
                    let x = self.p[cols[k] as usize].saturating_sub(r[k]);
                    q[k] = x;
                    sgn ^= x < 0;
                    let m = x.saturating_abs();
                    // Branch-free two-minimum update (the comparisons are unpredictable).
                    min2 = min2.min(min1.max(m));
                    idx = if m < min1 { k } else { idx };
                    min1 = min1.min(m);
                }
                let (m1, m2) = (kind.correct(min1), kind.correct(min2));
                for k in 0..cols.len() {
                    let m = if k == idx { m2 } else { m1 };
                    // Conditional negation without a branch: s is 0 or -1.
                    let s = -i16::from(sgn ^ (q[k] < 0));
                    let rn = (m ^ s) - s;
                    r[k] = rn;
                    self.p[cols[k] as usize] = q[k].saturating_add(rn);
                }
            }
            if syndrome_ok_i16(h, &self.p, syndrome) {
                return DecodeResult {
                    converged: true,
                    iterations: it,
                };
            }
        }
        DecodeResult {
            converged: false,
            iterations: max_iterations,
        }
    }

    /// The hard decision of the last decoding, as words (bit `v` is variable `v`).
    #[must_use]
    pub fn hard_decision(&self) -> Vec<u64> {
        hard_words(&self.p)
    }
}

/// One frame for [`BatchDecoder`] / [`decode_frames`]: fixed-point LLRs and the target syndrome.
#[derive(Debug, Clone, Copy)]
pub struct FrameInput<'a> {
    /// Channel LLR per variable.
    pub llr: &'a [i16],
    /// Target syndrome as words.
    pub syndrome: &'a [u64],
}

/// Layered min-sum over up to [`LANES`] frames at once (lane-interleaved, auto-vectorised).
#[derive(Debug, Clone, Default)]
pub struct BatchDecoder {
    kind: MinSumKind,
    r: Vec<[i16; LANES]>,
    p: Vec<[i16; LANES]>,
    q: Vec<[i16; LANES]>,
    smask: Vec<u16>,
}

#[inline]
fn sign_mask(x: &[i16; LANES]) -> u16 {
    let mut m = 0u16;
    for (l, &v) in x.iter().enumerate() {
        m |= u16::from(v < 0) << l;
    }
    m
}

impl BatchDecoder {
    /// A batch decoder with the given correction.
    #[must_use]
    pub fn new(kind: MinSumKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// Decodes up to [`LANES`] frames; returns each frame's result and hard decision (words).
    /// Unused lanes run on an all-zero frame, which converges at once.
    #[must_use]
    pub fn decode(
        &mut self,
        h: &SparseMatrix,
        frames: &[FrameInput<'_>],
        max_iterations: u32,
    ) -> Vec<(DecodeResult, Vec<u64>)> {
        let nf = frames.len().min(LANES);
        let (n, m) = (h.cols(), h.rows());
        let (rp, ci) = (h.row_ptr(), h.col_idx());
        self.p.clear();
        self.p.resize(n, [KNOWN_LLR; LANES]);
        for (l, f) in frames.iter().take(nf).enumerate() {
            for (v, &x) in f.llr.iter().take(n).enumerate() {
                self.p[v][l] = x;
            }
        }
        self.smask.clear();
        self.smask.resize(m, 0);
        for (l, f) in frames.iter().take(nf).enumerate() {
            for j in 0..m {
                self.smask[j] |= u16::from(bit(f.syndrome, j)) << l;
            }
        }
        self.r.clear();
        self.r.resize(h.edges(), [0; LANES]);
        self.q.resize(h.max_row_degree(), [0; LANES]);
        let mut results: Vec<Option<(DecodeResult, Vec<u64>)>> = vec![None; nf];
        let all: u16 = if nf == LANES {
            u16::MAX
        } else {
            (1u16 << nf) - 1
        };
        let mut active = all;
        let kind = self.kind;
        for it in 0..=max_iterations {
            if it > 0 {
                for j in 0..m {
                    let (a, b) = (rp[j] as usize, rp[j + 1] as usize);
                    let cols = &ci[a..b];
                    let r = &mut self.r[a..b];
                    let q = &mut self.q[..b - a];
                    let mut min1 = [i16::MAX; LANES];
                    let mut min2 = [i16::MAX; LANES];
                    let mut idx = [0i16; LANES];
                    let mut sgn = [0i16; LANES];
                    let sm = self.smask[j];
                    for (l, s) in sgn.iter_mut().enumerate() {
                        *s = -i16::from((sm >> l) & 1 == 1);
                    }
                    for k in 0..cols.len() {
                        let pv = &self.p[cols[k] as usize];
                        // k < 2^15: rows are far shorter.
                        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                        let kk = k as i16;
                        for l in 0..LANES {
                            let x = pv[l].saturating_sub(r[k][l]);
                            q[k][l] = x;
                            sgn[l] ^= x >> 15;
                            let mag = x.saturating_abs();
                            let lt1 = mag < min1[l];
                            let lt2 = mag < min2[l];
                            min2[l] = if lt1 {
                                min1[l]
                            } else if lt2 {
                                mag
                            } else {
                                min2[l]
                            };
                            min1[l] = if lt1 { mag } else { min1[l] };
                            idx[l] = if lt1 { kk } else { idx[l] };
                        }
                    }
                    for l in 0..LANES {
                        min1[l] = kind.correct(min1[l]);
                        min2[l] = kind.correct(min2[l]);
                    }
                    for k in 0..cols.len() {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                        let kk = k as i16;
                        let pv = &mut self.p[cols[k] as usize];
                        for l in 0..LANES {
                            let mag = if idx[l] == kk { min2[l] } else { min1[l] };
                            let s = sgn[l] ^ (q[k][l] >> 15);
                            // s is 0 or -1: conditional negation.
                            let rn = (mag ^ s) - s;
                            r[k][l] = rn;
                            pv[l] = q[k][l].saturating_add(rn);
                        }
                    }
                }
            }
            // Which active lanes now satisfy their syndrome?
            let mut unsat = 0u16;
            for j in 0..m {
                let mut par = self.smask[j];
                for &c in &ci[rp[j] as usize..rp[j + 1] as usize] {
                    par ^= sign_mask(&self.p[c as usize]);
                }
                unsat |= par;
                if unsat & active == active {
                    break;
                }
            }
            let done = active & !unsat;
            for (l, res) in results.iter_mut().enumerate() {
                if done >> l & 1 == 1 {
                    let mut words = vec![0u64; n.div_ceil(64)];
                    for (v, pv) in self.p.iter().enumerate() {
                        if pv[l] < 0 {
                            words[v >> 6] |= 1 << (v & 63);
                        }
                    }
                    *res = Some((
                        DecodeResult {
                            converged: true,
                            iterations: it,
                        },
                        words,
                    ));
                }
            }
            active &= !done;
            if active == 0 {
                break;
            }
        }
        results
            .into_iter()
            .enumerate()
            .map(|(l, r)| {
                r.unwrap_or_else(|| {
                    let mut words = vec![0u64; n.div_ceil(64)];
                    for (v, pv) in self.p.iter().enumerate() {
                        if pv[l] < 0 {
                            words[v >> 6] |= 1 << (v & 63);
                        }
                    }
                    (
                        DecodeResult {
                            converged: false,
                            iterations: max_iterations,
                        },
                        words,
                    )
                })
            })
            .collect()
    }
}

/// Decodes many frames with [`BatchDecoder`] in batches of [`LANES`], on all cores (feature
/// `rayon`) or sequentially.
#[must_use]
pub fn decode_frames(
    h: &SparseMatrix,
    frames: &[FrameInput<'_>],
    kind: MinSumKind,
    max_iterations: u32,
) -> Vec<(DecodeResult, Vec<u64>)> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        frames
            .par_chunks(LANES)
            .map_init(
                || BatchDecoder::new(kind),
                |d, c| d.decode(h, c, max_iterations),
            )
            .flatten_iter()
            .collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        let mut d = BatchDecoder::new(kind);
        frames
            .chunks(LANES)
            .flat_map(|c| d.decode(h, c, max_iterations))
            .collect()
    }
}
