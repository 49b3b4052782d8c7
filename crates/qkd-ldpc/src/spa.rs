//! Layered (row-serial) sum-product decoding with warm restarts, the decoder of the efficient
//! protocols.
//!
//! The check rule is the exact tanh rule of [`decode_spa`](crate::decode_spa), but the schedule
//! is layered: each check reads the current posteriors, replaces its old messages and writes the
//! posteriors back at once (Hocevar, SIPS 2004; Zhang and Fossorier, "Shuffled iterative
//! decoding", IEEE Trans. Comm. 53(2), 2005). A layered iteration propagates information about
//! twice as far as a flooding one, so the decoder needs roughly half the iterations for the same
//! frame error rate.
//!
//! **Warm restarts** (blind reconciliation): [`LayeredSpa::set_llr`] changes a symbol's channel
//! LLR (a punctured or key symbol that Alice has just revealed) by moving its posterior by the
//! difference, keeping every check message; [`LayeredSpa::run`] then continues from the current
//! state instead of decoding from scratch. Each blind round therefore costs only the iterations
//! the newly revealed symbols need.
//!
//! Arithmetic: posteriors and messages in `f32`; `tanh(|q|/2) = (1 - e^-|q|)/(1 + e^-|q|)` and
//! `2 atanh(p) = ln((1+p)/(1-p))` by branch-free polynomial `exp`/`ln` (relative error below
//! 1e-5, [`exp_neg`] and [`ln_ge1`]) that the compiler vectorises over a check's edges; the
//! extrinsic products are formed in `f64` by one product and a division per edge. Messages are
//! capped at `2 atanh(1 - 2^-23)` = 16.6 nats and posteriors at 600 nats (known symbols).
//! Per edge this costs about a third of the `f64` libm version.

use crate::decoder::DecodeResult;
use crate::matrix::SparseMatrix;

/// Largest `|tanh|` product used by the check rule: `1 - 2^-23` (messages <= 16.6 nats).
const MAX_PROD: f32 = 1.0 - 1.0 / 8_388_608.0;
/// `tanh` magnitudes below this count as exact zeros in the extrinsic products (messages through
/// them are below 2e-6 nats).
const TINY: f32 = 1e-6;
/// Posterior magnitudes are clamped here (known symbols sit at the cap).
const MAX_POST: f32 = 600.0;
/// Inputs of [`exp_neg`] are clamped here (`e^-80` is still a normal `f32`).
const MAX_EXP_ARG: f32 = 80.0;

/// Layered sum-product decoder for one frame; reuses its buffers across frames and supports
/// warm restarts (see the module docs).
///
/// ```
/// use qkd_ldpc::{CodeSpec, LayeredSpa};
/// use qkd_core::BitBlock;
/// let code = CodeSpec { min_length: 1000, leak_rate: 0.5, seed: 3 }.build()?;
/// let h = &code.h;
/// // Alice's word is all zeros (syndrome zero); Bob's word has two errors.
/// let syndrome = vec![0u64; h.rows().div_ceil(64)];
/// let l = (0.97f64 / 0.03).ln();
/// let mut llr = vec![l; h.cols()];
/// llr[10] = -l;
/// llr[500] = -l;
/// let mut dec = LayeredSpa::default();
/// let res = dec.start(h, &llr, &syndrome, 50);
/// assert!(res.converged);
/// assert!(dec.hard_decision().iter().all(|&w| w == 0));
/// # Ok::<(), qkd_ldpc::LdpcError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LayeredSpa {
    /// Stop a run early after this many iterations without a new lowest count of unsatisfied
    /// checks (`None`: run to the budget).
    stall_limit: Option<u32>,
    llr: Vec<f32>,
    post: Vec<f32>,
    r: Vec<f32>,
    q: Vec<f32>,
    t: Vec<f32>,
}

impl LayeredSpa {
    /// A decoder that gives up a run after `limit` iterations without a new lowest number of
    /// unsatisfied checks. For blind rounds: a stalled round ends early and the next round
    /// (more symbols revealed) continues from the same messages, so the stall costs nothing but
    /// saves the rest of the budget. The count costs one pass over the edges per iteration.
    #[must_use]
    pub fn with_stall_limit(limit: u32) -> Self {
        Self {
            stall_limit: Some(limit.max(1)),
            ..Self::default()
        }
    }

    /// Starts a new frame with channel LLRs `llr` (nats, positive favours 0) and runs up to
    /// `max_iterations` layered iterations. Returns at once with 0 iterations if the channel
    /// decision already satisfies the syndrome.
    ///
    /// # Panics
    /// If `llr.len() != h.cols()` or the syndrome has fewer than `h.rows()` bits (the protocol
    /// checks lengths first and returns [`LdpcError::LengthMismatch`](crate::LdpcError)).
    pub fn start(
        &mut self,
        h: &SparseMatrix,
        llr: &[f64],
        syndrome: &[u64],
        max_iterations: u32,
    ) -> DecodeResult {
        assert_eq!(llr.len(), h.cols(), "llr length");
        assert!(syndrome.len() * 64 >= h.rows(), "syndrome length");
        self.llr.clear();
        self.llr.extend(llr.iter().map(|&x| to_f32(x)));
        self.post.clear();
        self.post.extend_from_slice(&self.llr);
        self.r.clear();
        self.r.resize(h.edges(), 0.0);
        self.run(h, syndrome, max_iterations)
    }

    /// Sets the channel LLR of symbol `v` to `llr` (nats) without discarding the decoder's
    /// state: the posterior moves by the difference. Use between [`run`](Self::run) calls.
    ///
    /// # Panics
    /// If `v` is out of range.
    pub fn set_llr(&mut self, v: usize, llr: f64) {
        let llr = to_f32(llr);
        let delta = llr - self.llr[v];
        self.llr[v] = llr;
        self.post[v] = (self.post[v] + delta).clamp(-MAX_POST, MAX_POST);
    }

    /// Continues decoding from the current state for up to `max_iterations` layered
    /// iterations (0 if the current decision already satisfies the syndrome).
    ///
    /// # Panics
    /// If called before [`start`](Self::start) with the same code.
    pub fn run(&mut self, h: &SparseMatrix, syndrome: &[u64], max_iterations: u32) -> DecodeResult {
        assert_eq!(
            self.post.len(),
            h.cols(),
            "decoder not started on this code"
        );
        if syndrome_ok(h, &self.post, syndrome) {
            return DecodeResult {
                converged: true,
                iterations: 0,
            };
        }
        let (rp, ci) = (h.row_ptr(), h.col_idx());
        let (mut best, mut since_best) = (usize::MAX, 0u32);
        for it in 1..=max_iterations {
            for j in 0..h.rows() {
                let (a, b) = (rp[j] as usize, rp[j + 1] as usize);
                let flip = (syndrome[j >> 6] >> (j & 63)) & 1 == 1;
                self.check(&ci[a..b], a, flip);
            }
            let stalled = match self.stall_limit {
                None => {
                    if syndrome_ok(h, &self.post, syndrome) {
                        0
                    } else {
                        1
                    }
                }
                Some(limit) => {
                    let u = unsatisfied(h, &self.post, syndrome);
                    if u == 0 {
                        0
                    } else {
                        if u < best {
                            (best, since_best) = (u, 0);
                        } else {
                            since_best += 1;
                        }
                        if since_best >= limit { 2 } else { 1 }
                    }
                }
            };
            match stalled {
                0 => {
                    return DecodeResult {
                        converged: true,
                        iterations: it,
                    };
                }
                2 => {
                    return DecodeResult {
                        converged: false,
                        iterations: it,
                    };
                }
                _ => {}
            }
        }
        DecodeResult {
            converged: false,
            iterations: max_iterations,
        }
    }

    /// One check node of the layered schedule: edges `a..` to columns `cols`.
    #[inline]
    fn check(&mut self, cols: &[u32], a: usize, flip: bool) {
        let d = cols.len();
        let r = &mut self.r[a..a + d];
        self.q.clear();
        self.q.extend(
            cols.iter()
                .zip(r.iter())
                .map(|(&c, &rk)| self.post[c as usize] - rk),
        );
        self.t.clear();
        self.t.extend(self.q.iter().map(|&q| {
            let e = exp_neg(q.abs().min(MAX_EXP_ARG));
            ((1.0 - e) / (1.0 + e)).copysign(q)
        }));
        let mut prod = if flip { -1.0f64 } else { 1.0 };
        let (mut zeros, mut zero_at) = (0usize, 0usize);
        for (k, &t) in self.t.iter().enumerate() {
            if t.abs() < TINY {
                zeros += 1;
                zero_at = k;
            } else {
                prod *= f64::from(t);
            }
        }
        // Extrinsic product of edge k (signed), then the message 2 atanh(p).
        #[allow(clippy::cast_possible_truncation)]
        match zeros {
            0 => {
                for (rk, &t) in r.iter_mut().zip(&self.t) {
                    *rk = (prod / f64::from(t)) as f32;
                }
            }
            1 => {
                r.fill(0.0);
                r[zero_at] = prod as f32;
            }
            _ => r.fill(0.0),
        }
        // Two loops: the first is branch-free arithmetic and vectorises; the second scatters.
        for rk in r.iter_mut() {
            let p = rk.abs().min(MAX_PROD);
            *rk = ln_ge1((1.0 + p) / (1.0 - p)).copysign(*rk);
        }
        for (&m, (&c, &q)) in r.iter().zip(cols.iter().zip(&self.q)) {
            self.post[c as usize] = (q + m).clamp(-MAX_POST, MAX_POST);
        }
    }

    /// The current hard decision as words (bit `v` of the list is symbol `v`; negative
    /// posterior = 1).
    #[must_use]
    pub fn hard_decision(&self) -> Vec<u64> {
        let mut out = vec![0u64; self.post.len().div_ceil(64)];
        for (i, &x) in self.post.iter().enumerate() {
            if x < 0.0 {
                out[i >> 6] |= 1 << (i & 63);
            }
        }
        out
    }

    /// The current posterior LLRs (nats).
    #[must_use]
    pub fn posteriors(&self) -> &[f32] {
        &self.post
    }
}

#[allow(clippy::cast_possible_truncation)]
fn to_f32(x: f64) -> f32 {
    x.clamp(f64::from(-MAX_POST), f64::from(MAX_POST)) as f32
}

/// `e^-a` for `a` in `[0, 80]`: `2^-a log2(e)` split into an integer power (built in the exponent
/// bits) and `e^y`, `|y| <= ln(2)/2`, by its degree-6 Taylor polynomial (relative error < 3e-7 + 1.2e-7 a, mostly the `f32` rounding of `a log2(e)`).
/// Branch-free so that loops over it vectorise.
#[inline]
#[must_use]
pub fn exp_neg(a: f32) -> f32 {
    // Round to nearest by the 1.5 * 2^23 trick (valid for |x| < 2^22).
    const MAGIC: f32 = 12_582_912.0;
    let x = -a * std::f32::consts::LOG2_E;
    let shifted = x + MAGIC;
    let n = shifted - MAGIC;
    let y = (x - n) * std::f32::consts::LN_2;
    let p = 1.0
        + y * (1.0
            + y * (0.5
                + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (1.0 / 720.0))))));
    // n in [-116, 0]: its integer sits in the low mantissa bits of `shifted`.
    #[allow(clippy::cast_possible_wrap)]
    let ni = (shifted.to_bits() as i32) - (MAGIC.to_bits() as i32);
    #[allow(clippy::cast_sign_loss)]
    let scale = f32::from_bits(((ni + 127) as u32) << 23);
    p * scale
}

/// `ln x` for `x >= 1` (finite): `x = 2^e m` with `m` in `[sqrt(1/2), sqrt(2))`, then
/// `ln m = 2 atanh(s)`, `s = (m-1)/(m+1)`, `|s| < 0.172`, by its series to `s^9` (absolute error
/// < 1e-9 in `ln m`). Branch-free.
#[inline]
#[must_use]
pub fn ln_ge1(x: f32) -> f32 {
    let bits = x.to_bits();
    #[allow(clippy::cast_possible_wrap)]
    let mut e = ((bits >> 23) as i32) - 127;
    let mut m = f32::from_bits((bits & 0x007f_ffff) | 0x3f80_0000);
    let big = m > std::f32::consts::SQRT_2;
    m = if big { m * 0.5 } else { m };
    e += i32::from(big);
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let ln_m = 2.0 * s * (1.0 + s2 * (1.0 / 3.0 + s2 * (0.2 + s2 * (1.0 / 7.0 + s2 / 9.0))));
    #[allow(clippy::cast_precision_loss)]
    let ef = e as f32;
    ef * std::f32::consts::LN_2 + ln_m
}

/// Number of checks the hard decisions of `post` leave unsatisfied.
fn unsatisfied(h: &SparseMatrix, post: &[f32], syndrome: &[u64]) -> usize {
    let (rp, ci) = (h.row_ptr(), h.col_idx());
    (0..h.rows())
        .filter(|&j| {
            let mut par = (syndrome[j >> 6] >> (j & 63)) & 1 == 1;
            for &c in &ci[rp[j] as usize..rp[j + 1] as usize] {
                par ^= post[c as usize] < 0.0;
            }
            par
        })
        .count()
}

/// True if the hard decisions of `post` (negative = 1) satisfy `syndrome`.
fn syndrome_ok(h: &SparseMatrix, post: &[f32], syndrome: &[u64]) -> bool {
    let (rp, ci) = (h.row_ptr(), h.col_idx());
    (0..h.rows()).all(|j| {
        let mut par = (syndrome[j >> 6] >> (j & 63)) & 1 == 1;
        for &c in &ci[rp[j] as usize..rp[j + 1] as usize] {
            par ^= post[c as usize] < 0.0;
        }
        !par
    })
}

#[cfg(test)]
mod tests {
    use super::{exp_neg, ln_ge1};

    #[test]
    fn exp_neg_matches_libm() {
        for i in 0..=80_000 {
            let a = i as f32 * 1e-3;
            let (got, want) = (f64::from(exp_neg(a)), (-f64::from(a)).exp());
            // f32 rounding of a * log2(e) alone costs up to 6e-8 a log2(e) relative.
            let tol = (3e-7 + 1.2e-7 * f64::from(a)) * want;
            assert!((got - want).abs() <= tol, "a = {a}: {got} vs {want}");
        }
    }

    #[test]
    fn ln_matches_libm() {
        let mut x = 1.0f32;
        while x < 1e8 {
            let (got, want) = (f64::from(ln_ge1(x)), f64::from(x).ln());
            assert!(
                (got - want).abs() <= 1e-6 * want.max(1e-3),
                "x = {x}: {got} vs {want}"
            );
            x *= 1.0001;
            x += 1e-7;
        }
    }
}
