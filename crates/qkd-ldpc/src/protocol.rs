//! Rate-adaptive and blind LDPC reconciliation as two-party [`Role`] state machines.
//!
//! **Frame layout.** A mother code of length `n` (from the family, chosen by the estimated QBER)
//! carries the `N`-bit key in `N` of its columns; the other `d = n - N` columns are *extra*
//! symbols. Each extra symbol is either *punctured* (Alice fills it with private random bits; Bob
//! starts it at LLR 0) or *shortened* (value 0, known to both; Bob starts it at full confidence).
//! With `p` punctured symbols the syndrome's `m` bits disclose at most `m - p` bits about the key
//! (the punctured bits are uniform and independent of the key), so the syndrome message declares
//! `m - p` disclosed bits (Elkouss, Martinez-Mateo, Lancho, Martin, "Rate compatible protocol for
//! information reconciliation: an application to QKD", ITW 2010, eq. (4)-(6)).
//!
//! **Rate-adaptive** (`ldpc`): Alice and Bob derive the same target leak `L = f* N h(Q_est)` from
//! the estimated QBER, pick the smallest mother code with `m >= L`, puncture `p = m - L` extra
//! symbols (clamped to `[0, d]`) and shorten the rest. Alice sends the syndrome and a
//! confirmation tag; Bob decodes once, checks the tag and answers with a verdict. One round trip.
//!
//! **Blind** (`ldpc-blind`, Martinez-Mateo, Elkouss, Martin, "Blind reconciliation", QIC 12(9&10),
//! 2012, Sec. 3): all `d` extra symbols start punctured (the highest rate). While Bob's decoding
//! fails, Alice reveals the values of `step` more symbols: first punctured ones (turning them into
//! shortened ones), then key bits in a public pseudo-random order. Each revealed symbol discloses
//! one bit. Normalised min-sum is invariant to a common scaling of the channel LLRs, so Bob's
//! decoder needs no QBER estimate; the estimate only picks the mother code.
//!
//! Confirmation: Alice's syndrome message carries the 64-bit GF(2^64) polynomial tag
//! ([`ConfirmationHasher`]) of her key, at a point derived from the shared frame seed; it counts 64
//! disclosed bits. Bob accepts only if his decoded key has the same tag.
//!
//! Leakage in the ledger = syndrome bits - punctured + revealed + 64 (tag); requests and verdicts
//! carry no key-dependent bits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use qkd_core::{
    BitBlock, ConfirmationHasher, Failure, Message, Outcome, Party, ProtocolError, ReconcileError,
    ReconcileOutput, ReconcileParams, Reconciler, Role, Turn, binary_entropy, derive_seed, sim_rng,
};
use rand::{Rng, RngExt};

use crate::LdpcError;
use crate::construct::{CodeSpec, DegreeProfile, LdpcCode};
use crate::decoder::{KNOWN_LLR, LLR_SCALE, MinSumDecoder, MinSumKind, channel_llr};
use crate::spa::LayeredSpa;

/// Which decoder Bob runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum DecoderKind {
    /// Layered min-sum in `i16` fixed point (fast path).
    #[default]
    MinSum,
    /// Offset min-sum with the given offset in fixed-point units.
    OffsetMinSum(i16),
    /// Layered sum-product in `f64` ([`LayeredSpa`]) on the exact channel LLRs; blind rounds
    /// continue from the previous round's messages when
    /// [`LdpcConfig::blind_warm_start`] is set.
    SumProduct,
}

/// Where the variable degree profiles of the mother codes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CodeProfile {
    /// The BSC-optimised ensembles of Elkouss et al. (ISIT 2009, Table I) for leak rates
    /// 0.10-0.50 ([`DegreeProfile::for_leak_rate`]), ad hoc above. Best with sum-product: the
    /// layered normalised min-sum (3/4) decoder fails on these codes (docs/ldpc.md).
    Published,
    /// The earlier ad hoc profile ([`DegreeProfile::ad_hoc`]; maximum degree 11), which suits
    /// the min-sum decoder better. The default while the fast decoder is min-sum.
    #[default]
    AdHoc,
}

/// Configuration of LDPC reconciliation. Build with [`LdpcConfig::builder`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LdpcConfig {
    /// Key bits per frame `N`.
    pub block_bits: usize,
    /// Extra (punctured or shortened) symbols as a fraction of the code length, `d / n`.
    pub extra_fraction: f64,
    /// Leak rates `m / n` of the mother codes, ascending.
    pub mother_leak_rates: Vec<f64>,
    /// Target efficiency `f*` of the rate-adaptive syndrome (excluding the 64-bit tag).
    pub efficiency_target: f64,
    /// Decoder iterations per decoding attempt.
    pub max_iterations: u32,
    /// The decoder.
    pub decoder: DecoderKind,
    /// Blind: number of reveal steps that use up the `d` punctured symbols.
    pub blind_steps: u32,
    /// Blind: maximum decoding rounds in total (after the punctured symbols are used, further
    /// rounds reveal key bits).
    pub blind_max_rounds: u32,
    /// Blind: the starting efficiency (leak `m - d` of the chosen mother code is about
    /// `blind_start_efficiency * N h(Q_est)`).
    pub blind_start_efficiency: f64,
    /// Blind: the least number of extra symbols, as a fraction of `N h(Q_est)`. `Some(x)`: each
    /// frame uses a mother code of length `n = N + d`, `d >= x N h(Q_est)`, with the length
    /// chosen so that the start leak (all `d` extras punctured) is exactly
    /// [`blind_start_efficiency`](Self::blind_start_efficiency)` N h(Q_est)` (codes generated
    /// per length on first use).
    /// `None`: the fixed length of [`extra_fraction`](Self::extra_fraction), all extras punctured
    /// (the original blind protocol). Revealing a punctured symbol gives the decoder a whole bit,
    /// a key bit only `1 - h(Q)`, so the punctured range should cover the frames' spread of
    /// efficiency; every extra symbol beyond that weakens the code (measured in docs/ldpc.md).
    pub blind_span: Option<f64>,
    /// Seed of the code family (public; both parties use the same codes).
    pub code_seed: u64,
    /// Source of the mother codes' degree profiles.
    pub profile: CodeProfile,
    /// Blind with [`DecoderKind::SumProduct`]: each round continues decoding from the previous
    /// round's messages, with the revealed symbols' LLRs updated, instead of decoding afresh.
    pub blind_warm_start: bool,
    /// Blind with warm starts: a round ends early after this many iterations without a new
    /// lowest count of unsatisfied checks ([`LayeredSpa::with_stall_limit`]); `None` runs every
    /// round to [`max_iterations`](Self::max_iterations).
    pub blind_stall_limit: Option<u32>,
    /// Seed of Alice's punctured filler bits. `None` (the default) draws them from the operating
    /// system's CSPRNG, as a real link must; set it only for reproducible simulations.
    pub private_seed: Option<u64>,
}

impl Default for LdpcConfig {
    fn default() -> Self {
        Self {
            block_bits: 10_000,
            extra_fraction: 0.1,
            mother_leak_rates: (2..=12).map(|k| f64::from(k) * 0.05).collect(),
            efficiency_target: 1.3,
            max_iterations: 60,
            decoder: DecoderKind::MinSum,
            blind_steps: 20,
            blind_max_rounds: 30,
            blind_start_efficiency: 1.0,
            blind_span: None,
            code_seed: 0x4c44_5043,
            profile: CodeProfile::AdHoc,
            blind_warm_start: true,
            blind_stall_limit: None,
            private_seed: None,
        }
    }
}

impl LdpcConfig {
    /// A builder starting from the defaults for frames of `block_bits` key bits.
    #[must_use]
    pub fn builder(block_bits: usize) -> LdpcConfigBuilder {
        LdpcConfigBuilder(Self {
            block_bits,
            ..Self::default()
        })
    }

    /// Code length for the configured block: `n = ceil(N / (1 - extra_fraction))`.
    #[must_use]
    pub fn min_code_length(&self) -> usize {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let n = (self.block_bits as f64 / (1.0 - self.extra_fraction)).ceil() as usize;
        n.max(self.block_bits + 1)
    }

    /// The QBER range the rate-adaptive protocol supports with this family: from 0.5 % up to the
    /// QBER where `f* h(Q)` equals the largest leak per key bit, `m_max / N`.
    #[must_use]
    pub fn supported_qber(&self) -> (f64, f64) {
        let rmax = self.mother_leak_rates.last().copied().unwrap_or(0.5);
        let max_leak_per_bit = rmax / (1.0 - self.extra_fraction);
        let target = max_leak_per_bit / self.efficiency_target;
        // Invert h on [0, 0.5] by bisection.
        let (mut lo, mut hi) = (0.0, 0.5);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if binary_entropy(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        (0.005, lo)
    }

    fn validate(&self) -> Result<(), LdpcError> {
        let bad = |s: String| Err(LdpcError::InvalidConfig(s));
        if self.block_bits < 64 || self.block_bits > 1 << 26 {
            return bad(format!("block_bits {} outside 64..2^26", self.block_bits));
        }
        if !(self.extra_fraction > 0.0 && self.extra_fraction < 0.5) {
            return bad(format!(
                "extra_fraction {} not in (0, 0.5)",
                self.extra_fraction
            ));
        }
        if self.mother_leak_rates.is_empty()
            || self
                .mother_leak_rates
                .windows(2)
                .any(|w| w[0] >= w[1] || w[1] - w[0] > self.extra_fraction + 1e-9)
            || self
                .mother_leak_rates
                .iter()
                .any(|&r| !(r > self.extra_fraction * 0.5 && r < 0.9))
        {
            return bad(
                "mother_leak_rates must ascend in (extra/2, 0.9) with gaps <= extra_fraction"
                    .into(),
            );
        }
        if !(self.efficiency_target >= 1.0 && self.efficiency_target < 3.0) {
            return bad(format!(
                "efficiency_target {} not in [1, 3)",
                self.efficiency_target
            ));
        }
        if self.max_iterations == 0 || self.blind_steps == 0 || self.blind_max_rounds == 0 {
            return bad("iterations, blind steps and rounds must be positive".into());
        }
        if !(self.blind_start_efficiency > 0.5 && self.blind_start_efficiency < 3.0) {
            return bad("blind_start_efficiency must be in (0.5, 3)".into());
        }
        if self.blind_span.is_some_and(|x| !(x > 0.0 && x <= 2.0)) {
            return bad("blind_span must be in (0, 2]".into());
        }
        Ok(())
    }
}

/// Builder for [`LdpcConfig`]; [`LdpcConfigBuilder::build`] validates.
#[derive(Debug, Clone)]
pub struct LdpcConfigBuilder(LdpcConfig);

impl LdpcConfigBuilder {
    /// The block size `N` the builder was started with.
    #[must_use]
    pub fn block_bits(&self) -> usize {
        self.0.block_bits
    }
    /// Sets the extra-symbol fraction `d / n`.
    #[must_use]
    pub fn extra_fraction(mut self, x: f64) -> Self {
        self.0.extra_fraction = x;
        self
    }
    /// Sets the mother leak rates.
    #[must_use]
    pub fn mother_leak_rates(mut self, x: Vec<f64>) -> Self {
        self.0.mother_leak_rates = x;
        self
    }
    /// Sets the rate-adaptive target efficiency.
    #[must_use]
    pub fn efficiency_target(mut self, x: f64) -> Self {
        self.0.efficiency_target = x;
        self
    }
    /// Sets the iteration budget per decoding.
    #[must_use]
    pub fn max_iterations(mut self, x: u32) -> Self {
        self.0.max_iterations = x;
        self
    }
    /// Sets the decoder.
    #[must_use]
    pub fn decoder(mut self, x: DecoderKind) -> Self {
        self.0.decoder = x;
        self
    }
    /// Sets the blind schedule: steps over the punctured symbols, and total rounds.
    #[must_use]
    pub fn blind_schedule(mut self, steps: u32, max_rounds: u32) -> Self {
        self.0.blind_steps = steps;
        self.0.blind_max_rounds = max_rounds;
        self
    }
    /// Sets the blind starting efficiency.
    #[must_use]
    pub fn blind_start_efficiency(mut self, x: f64) -> Self {
        self.0.blind_start_efficiency = x;
        self
    }
    /// Blind: punctured extras at the start as a fraction of `N h(Q_est)` (see
    /// [`LdpcConfig::blind_span`]); `None` punctures all extras.
    #[must_use]
    pub fn blind_span(mut self, x: Option<f64>) -> Self {
        self.0.blind_span = x;
        self
    }
    /// Sets the code-family seed.
    #[must_use]
    pub fn code_seed(mut self, x: u64) -> Self {
        self.0.code_seed = x;
        self
    }
    /// Sets the source of the mother codes' degree profiles.
    #[must_use]
    pub fn profile(mut self, x: CodeProfile) -> Self {
        self.0.profile = x;
        self
    }
    /// The published profiles (Elkouss et al. 2009) with mother codes every 0.025 of leak rate
    /// from 0.100 to 0.600 (in-between codes use the nearer published profile; see
    /// [`leak_step`](Self::leak_step)). Halving the rate step of the published table halves the
    /// worst-case puncturing of the rate-adaptive protocol.
    #[must_use]
    pub fn published_family(self) -> Self {
        self.profile(CodeProfile::Published).leak_step(0.025)
    }
    /// Mother codes at leak rates `0.1, 0.1 + step, ...` up to 0.6 (a step below the extra
    /// fraction keeps every operating point reachable; [`build`](Self::build) checks).
    #[must_use]
    pub fn leak_step(self, step: f64) -> Self {
        // Rates as integer multiples of the step, so that 0.025 gives exactly the values
        // 0.1, 0.125, ... that the code seeds and profiles were pinned with.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let (first, last) = if step > 0.0 {
            (
                (0.1 / step).round() as u32,
                ((0.6 / step) + 1e-9).floor() as u32,
            )
        } else {
            (1, 0)
        };
        let rates = (first..=last).map(|k| f64::from(k) * step).collect();
        self.mother_leak_rates(rates)
    }
    /// Blind sum-product: continue each round from the previous round's messages (`true`, the
    /// default) or decode afresh.
    #[must_use]
    pub fn blind_warm_start(mut self, x: bool) -> Self {
        self.0.blind_warm_start = x;
        self
    }
    /// Blind warm-started rounds stop after `x` iterations without progress (see
    /// [`LdpcConfig::blind_stall_limit`]).
    #[must_use]
    pub fn blind_stall_limit(mut self, x: Option<u32>) -> Self {
        self.0.blind_stall_limit = x;
        self
    }
    /// Sets Alice's private seed (simulations only).
    #[must_use]
    pub fn private_seed(mut self, x: Option<u64>) -> Self {
        self.0.private_seed = x;
        self
    }
    /// Validates and returns the configuration.
    ///
    /// # Errors
    /// [`LdpcError::InvalidConfig`] naming the offending field.
    pub fn build(self) -> Result<LdpcConfig, LdpcError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

/// A mother code with its frame layout: which columns carry the key, which are extra.
#[derive(Debug)]
pub struct FrameCode {
    /// The code.
    pub code: LdpcCode,
    /// Extra columns, best-to-puncture first (greedy untainted order).
    pub extra: Vec<u32>,
    /// Key columns, key bit `k` in column `key_cols[k]`.
    pub key_cols: Vec<u32>,
}

impl FrameCode {
    fn new(code: LdpcCode, block_bits: usize, seed: u64) -> Result<Self, LdpcError> {
        let h = &code.h;
        let n = h.cols();
        if n <= block_bits {
            return Err(LdpcError::InvalidCode(format!(
                "code length {n} leaves no extra symbols for {block_bits} key bits"
            )));
        }
        let d = n - block_bits;
        // Greedy untainted selection (Elkouss, Martinez-Mateo, Martin, IEEE WCL 1(6), 2012): a
        // column is punctured only if none of its checks already has a punctured neighbour, so every
        // punctured symbol is recoverable in one step. Low-degree columns first.
        let mut order: Vec<usize> = (0..n).collect();
        let mut rng = sim_rng(derive_seed(seed, "untainted", 0));
        for i in (1..n).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        order.sort_by_key(|&c| h.col_degree(c));
        let mut tainted = vec![false; h.rows()];
        let mut chosen = vec![false; n];
        let mut extra = Vec::with_capacity(d);
        let (cp, ce) = (h.col_ptr(), h.col_edges());
        for &c in &order {
            if extra.len() == d {
                break;
            }
            let rows: Vec<usize> = ce[cp[c] as usize..cp[c + 1] as usize]
                .iter()
                .map(|&e| h.edge_row(e as usize))
                .collect();
            if rows.iter().all(|&r| !tainted[r]) {
                for r in rows {
                    tainted[r] = true;
                }
                chosen[c] = true;
                extra.push(c);
            }
        }
        for &c in order.iter().rev() {
            if extra.len() == d {
                break;
            }
            if !chosen[c] {
                chosen[c] = true;
                extra.push(c);
            }
        }
        let to32 = |c: usize| u32::try_from(c).map_err(|_| LdpcError::InvalidCode("n".into()));
        let extra = extra.into_iter().map(to32).collect::<Result<Vec<_>, _>>()?;
        let key_cols = (0..n)
            .filter(|&c| !chosen[c])
            .map(to32)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            code,
            extra,
            key_cols,
        })
    }
}

/// A lazily generated mother code.
type CodeCell = OnceLock<Result<Arc<FrameCode>, LdpcError>>;

/// The shared state of a reconciler: configuration and lazily generated codes.
#[derive(Debug)]
struct Family {
    config: LdpcConfig,
    /// Mother codes of the configured length, by leak-rate index.
    codes: Vec<CodeCell>,
    /// Mother codes of other lengths (blind with a span), by (length, leak-rate index).
    sized: Mutex<HashMap<(usize, usize), Arc<CodeCell>>>,
}

impl Family {
    fn new(config: LdpcConfig) -> Self {
        let codes = config
            .mother_leak_rates
            .iter()
            .map(|_| OnceLock::new())
            .collect();
        Self {
            config,
            codes,
            sized: Mutex::default(),
        }
    }

    fn generate(&self, n: usize, idx: usize, seed: u64) -> Result<Arc<FrameCode>, LdpcError> {
        let leak = self.config.mother_leak_rates[idx];
        let spec = CodeSpec {
            min_length: n,
            leak_rate: leak,
            seed,
        };
        let code = spec.build_with(match self.config.profile {
            CodeProfile::Published => DegreeProfile::for_leak_rate(leak),
            CodeProfile::AdHoc => DegreeProfile::ad_hoc(leak),
        })?;
        FrameCode::new(code, self.config.block_bits, spec.seed).map(Arc::new)
    }

    /// Mother code `idx` of length `n` (at least; the lifting may round it up).
    fn code_of_length(&self, n: usize, idx: usize) -> Result<Arc<FrameCode>, LdpcError> {
        let seed = derive_seed(self.config.code_seed, "mother", idx as u64);
        if n == self.config.min_code_length() {
            return self.codes[idx]
                .get_or_init(|| self.generate(n, idx, seed))
                .clone();
        }
        let cell = {
            let mut map = self
                .sized
                .lock()
                .map_err(|_| LdpcError::InvalidCode("code cache poisoned".into()))?;
            map.entry((n, idx)).or_default().clone()
        };
        cell.get_or_init(|| self.generate(n, idx, derive_seed(seed, "length", n as u64)))
            .clone()
    }

    fn code(&self, idx: usize) -> Result<Arc<FrameCode>, LdpcError> {
        self.code_of_length(self.config.min_code_length(), idx)
    }

    /// Mother code index, code and punctured count for a target leak of `leak` syndrome bits,
    /// among the codes of length `n`.
    fn choose_of_length(
        &self,
        n: usize,
        leak: f64,
    ) -> Result<(usize, Arc<FrameCode>, usize), LdpcError> {
        #[allow(clippy::cast_precision_loss)]
        let idx = self
            .config
            .mother_leak_rates
            .iter()
            .position(|&r| r * n as f64 >= leak)
            .unwrap_or(self.codes.len() - 1);
        let fc = self.code_of_length(n, idx)?;
        let m = fc.code.h.rows();
        let d = fc.extra.len();
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let p = ((m as f64 - leak).round().max(0.0) as usize).min(d);
        Ok((idx, fc, p))
    }

    /// [`choose_of_length`](Self::choose_of_length) at the configured length.
    fn choose(&self, leak: f64) -> Result<(usize, Arc<FrameCode>, usize), LdpcError> {
        self.choose_of_length(self.config.min_code_length(), leak)
    }
}

/// The two protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Mode {
    /// One syndrome at a rate set by the estimated QBER.
    RateAdaptive,
    /// Start at the highest rate and reveal symbols until decoding succeeds.
    Blind,
}

/// LDPC reconciliation (rate-adaptive or blind); implements [`Reconciler`].
///
/// ```
/// use qkd_core::{harness::noisy_pair, harness::ErrorModel, DynReconciler, Qber, ReconcileParams, sim_rng};
/// use qkd_ldpc::{LdpcConfig, LdpcReconciler, Mode};
/// let cfg = LdpcConfig::builder(2000).private_seed(Some(1)).build()?;
/// let ldpc = LdpcReconciler::new(cfg, Mode::Blind);
/// let q = Qber::new(0.03)?;
/// let (a, b) = noisy_pair(2000, q, ErrorModel::Bernoulli, &mut sim_rng(7));
/// let run = ldpc.run_in_process(a, b, &ReconcileParams::new(q, 11))?;
/// assert!(run.report.success && run.report.residual_errors == 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct LdpcReconciler {
    family: Arc<Family>,
    mode: Mode,
}

impl LdpcReconciler {
    /// A reconciler over the code family of `config`.
    #[must_use]
    pub fn new(config: LdpcConfig, mode: Mode) -> Self {
        Self {
            family: Arc::new(Family::new(config)),
            mode,
        }
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LdpcConfig {
        &self.family.config
    }

    /// The mother code of index `idx` of the family (generated on first use).
    ///
    /// # Errors
    /// [`LdpcError`] if generation fails or `idx` is out of range.
    pub fn mother_code(&self, idx: usize) -> Result<Arc<FrameCode>, LdpcError> {
        if idx >= self.family.codes.len() {
            return Err(LdpcError::InvalidConfig(format!("no mother code {idx}")));
        }
        self.family.code(idx)
    }

    /// The rate-adaptive operating point at QBER estimate `qber`: the index of the mother code
    /// the protocol uses, the code, and how many of its extra symbols are punctured (the rest
    /// are shortened), for a leak of `efficiency_target * N h(qber)` syndrome bits.
    ///
    /// # Errors
    /// [`LdpcError::UnsupportedQber`] outside the family's range; [`LdpcError`] if code
    /// generation fails.
    pub fn rate_adaptive_code(
        &self,
        qber: f64,
    ) -> Result<(usize, Arc<FrameCode>, usize), LdpcError> {
        let cfg = &self.family.config;
        let (qmin, qmax) = cfg.supported_qber();
        if !(qmin..=qmax).contains(&qber) {
            return Err(LdpcError::UnsupportedQber {
                qber,
                min: qmin,
                max: qmax,
            });
        }
        #[allow(clippy::cast_precision_loss)]
        let nh = cfg.block_bits as f64 * binary_entropy(qber);
        self.family.choose(cfg.efficiency_target * nh)
    }

    fn plan(&self, params: &ReconcileParams) -> Result<Plan, LdpcError> {
        let cfg = &self.family.config;
        let q = params.estimated_qber.value();
        let (qmin, qmax) = cfg.supported_qber();
        if !(qmin..=qmax).contains(&q) {
            return Err(LdpcError::UnsupportedQber {
                qber: q,
                min: qmin,
                max: qmax,
            });
        }
        #[allow(clippy::cast_precision_loss)]
        let nh = cfg.block_bits as f64 * binary_entropy(q);
        let (fc, punctured) = match self.mode {
            Mode::RateAdaptive => {
                let (_, fc, p) = self.family.choose(cfg.efficiency_target * nh)?;
                (fc, p)
            }
            Mode::Blind => {
                let start = cfg.blind_start_efficiency * nh;
                let fc = match cfg.blind_span {
                    None => {
                        // All d extras punctured; start leak m - d ~ f0 N h: the smallest code
                        // with m >= f0 N h + d.
                        #[allow(clippy::cast_precision_loss)]
                        let d = (cfg.min_code_length() - cfg.block_bits) as f64;
                        self.family.choose(start + d)?.1
                    }
                    Some(span) => {
                        let (idx, n) = self.blind_length(start, span * nh);
                        self.family.code_of_length(n, idx)?
                    }
                };
                let d = fc.extra.len();
                (fc, d)
            }
        };
        Ok(Plan {
            fc,
            punctured,
            mode: self.mode,
            qber: q,
        })
    }
}

impl LdpcReconciler {
    /// Blind with a span: the mother code (index) and length `n = N + d` such that, with all
    /// `d` extras punctured, the start leak `r n - d` equals `start` and `d >= min_span`: for
    /// leak rate `r`, `d = (r N - start) / (1 - r)`; the smallest rate of the family whose `d`
    /// reaches `min_span` wins, so the code is modified as little as the span allows. `d` is rounded up to a grid of `N / 200`.
    fn blind_length(&self, start: f64, min_span: f64) -> (usize, usize) {
        let cfg = &self.family.config;
        #[allow(clippy::cast_precision_loss)]
        let big_n = cfg.block_bits as f64;
        let last = cfg.mother_leak_rates.len() - 1;
        let (idx, d) = cfg
            .mother_leak_rates
            .iter()
            .enumerate()
            .map(|(i, &r)| (i, (r * big_n - start) / (1.0 - r)))
            .find(|&(_, d)| d >= min_span)
            .unwrap_or((last, min_span));
        let grid = (cfg.block_bits / 200).max(1);
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let d = (d / grid as f64).ceil().max(1.0) as usize * grid;
        (idx, cfg.block_bits + d)
    }
}

/// What both parties derive for a frame.
#[derive(Debug, Clone)]
struct Plan {
    fc: Arc<FrameCode>,
    punctured: usize,
    mode: Mode,
    qber: f64,
}

impl Plan {
    /// The column of the `k`-th revealed symbol (blind): punctured extras from the last one
    /// backwards, then key columns in a public pseudo-random order.
    fn reveal_order(&self, seed: u64) -> Vec<u32> {
        let p = self.punctured;
        let mut out: Vec<u32> = self.fc.extra[..p].iter().rev().copied().collect();
        let mut keys = self.fc.key_cols.clone();
        let mut rng = sim_rng(derive_seed(seed, "ldpc reveal order", 0));
        for i in (1..keys.len()).rev() {
            keys.swap(i, rng.random_range(0..=i));
        }
        out.extend(keys);
        out
    }
}

/// Verdict of Bob's decoding, sent back to Alice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Decoded and the confirmation tags match.
    Success,
    /// The decoder did not converge within the budget.
    DecodingFailed,
    /// Decoded to a word satisfying the syndrome whose tag differs.
    TagMismatch,
}

/// Messages of LDPC reconciliation.
#[derive(Debug, Clone)]
pub enum LdpcMessage {
    /// Alice -> Bob: syndrome of her extended word, the punctured count and her key's tag.
    Syndrome {
        /// `H x`, `m` bits.
        syndrome: BitBlock,
        /// Punctured symbols in the word (key-independent random bits).
        punctured: usize,
        /// Confirmation tag of Alice's key.
        tag: u64,
    },
    /// Bob -> Alice (blind): decoding failed, reveal more.
    Request,
    /// Alice -> Bob (blind): values of the next revealed symbols.
    Reveal(BitBlock),
    /// Bob -> Alice: the outcome.
    Verdict(Verdict),
}

impl Message for LdpcMessage {
    fn step(&self) -> &'static str {
        match self {
            LdpcMessage::Syndrome { .. } => "ldpc.syndrome",
            LdpcMessage::Request => "ldpc.request",
            LdpcMessage::Reveal(_) => "ldpc.reveal",
            LdpcMessage::Verdict(_) => "ldpc.verdict",
        }
    }

    fn size_bits(&self) -> u64 {
        match self {
            LdpcMessage::Syndrome { syndrome, .. } => syndrome.len() as u64 + 64,
            LdpcMessage::Request => 1,
            LdpcMessage::Reveal(v) => v.len() as u64,
            LdpcMessage::Verdict(_) => 2,
        }
    }

    fn disclosed_bits(&self) -> u64 {
        match self {
            LdpcMessage::Syndrome {
                syndrome,
                punctured,
                ..
            } => (syndrome.len() as u64).saturating_sub(*punctured as u64) + 64,
            LdpcMessage::Request | LdpcMessage::Verdict(_) => 0,
            LdpcMessage::Reveal(v) => v.len() as u64,
        }
    }
}

/// Alice's role.
pub struct LdpcAlice {
    plan: Plan,
    key: BitBlock,
    word: BitBlock,
    reveal: Vec<u32>,
    revealed: usize,
    seed: u64,
    steps: u32,
    started: bool,
}

impl std::fmt::Debug for LdpcAlice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LdpcAlice { .. }")
    }
}

/// Bob's role.
pub struct LdpcBob {
    plan: Plan,
    llr: Vec<i16>,
    /// Exact channel LLRs in nats (sum-product).
    llr_nats: Vec<f64>,
    warm: bool,
    spa: LayeredSpa,
    seed: u64,
    reveal: Vec<u32>,
    revealed: usize,
    syndrome: Vec<u64>,
    tag: u64,
    iterations: u32,
    rounds: u32,
    max_rounds: u32,
    max_iterations: u32,
    decoder: DecoderKind,
    ms: MinSumDecoder,
}

impl std::fmt::Debug for LdpcBob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LdpcBob { .. }")
    }
}

fn unexpected(party: Party, step: &'static str) -> ProtocolError {
    ProtocolError::UnexpectedMessage {
        party,
        step,
        reason: "not expected in this state".into(),
    }
}

/// Symbols revealed per blind round: the punctured ones in `steps` rounds.
fn reveal_step(plan: &Plan, steps: u32) -> usize {
    plan.punctured.div_ceil(steps as usize).max(1)
}

impl Role for LdpcAlice {
    type Message = LdpcMessage;
    type Output = ReconcileOutput;

    fn start(&mut self) -> Result<Turn<LdpcMessage, ReconcileOutput>, ProtocolError> {
        if self.started {
            return Err(ProtocolError::InvalidInput("started twice".into()));
        }
        self.started = true;
        let h = &self.plan.fc.code.h;
        let syndrome = h
            .syndrome(&self.word)
            .map_err(|e| ProtocolError::InvalidInput(e.to_string()))?;
        let tag = ConfirmationHasher::from_seed(self.seed).tag(&self.key);
        Ok(Turn::Send(LdpcMessage::Syndrome {
            syndrome,
            punctured: self.plan.punctured,
            tag,
        }))
    }

    fn receive(
        &mut self,
        m: LdpcMessage,
    ) -> Result<Turn<LdpcMessage, ReconcileOutput>, ProtocolError> {
        match m {
            LdpcMessage::Verdict(v) => {
                let outcome = match v {
                    Verdict::Success => Outcome::Success(self.key.clone()),
                    Verdict::DecodingFailed => {
                        Outcome::Failure(Failure::DecodingFailed { iterations: 0 })
                    }
                    Verdict::TagMismatch => Outcome::Failure(Failure::ConfirmationMismatch),
                };
                Ok(Turn::Done(outcome.into()))
            }
            LdpcMessage::Request if self.plan.mode == Mode::Blind => {
                let step = reveal_step(&self.plan, self.steps);
                let end = (self.revealed + step).min(self.reveal.len());
                let values: BitBlock = self.reveal[self.revealed..end]
                    .iter()
                    .map(|&c| self.word.get(c as usize).unwrap_or(false))
                    .collect();
                self.revealed = end;
                Ok(Turn::Send(LdpcMessage::Reveal(values)))
            }
            other => Err(unexpected(Party::Alice, other.step())),
        }
    }
}

impl LdpcBob {
    fn attempt(&mut self) -> Result<Turn<LdpcMessage, ReconcileOutput>, ProtocolError> {
        let h = &self.plan.fc.code.h;
        let (res, words) = match self.decoder {
            DecoderKind::MinSum | DecoderKind::OffsetMinSum(_) => {
                let r = self
                    .ms
                    .decode(h, &self.llr, &self.syndrome, self.max_iterations);
                (r, self.ms.hard_decision())
            }
            DecoderKind::SumProduct => {
                let r = if self.warm && self.rounds > 0 {
                    self.spa.run(h, &self.syndrome, self.max_iterations)
                } else {
                    self.spa
                        .start(h, &self.llr_nats, &self.syndrome, self.max_iterations)
                };
                (r, self.spa.hard_decision())
            }
        };
        self.iterations += res.iterations;
        self.rounds += 1;
        if res.converged {
            let key: BitBlock = self
                .plan
                .fc
                .key_cols
                .iter()
                .map(|&c| (words[(c >> 6) as usize] >> (c & 63)) & 1 == 1)
                .collect();
            let hasher = ConfirmationHasher::from_seed(self.seed);
            let out = ReconcileOutput {
                iterations: Some(self.iterations),
                outcome: Outcome::Failure(Failure::ConfirmationMismatch),
            };
            if hasher.tags_match(hasher.tag(&key), self.tag) {
                return Ok(Turn::SendAndDone(
                    LdpcMessage::Verdict(Verdict::Success),
                    ReconcileOutput {
                        outcome: Outcome::Success(key),
                        ..out
                    },
                ));
            }
            // A converged word with a wrong tag: blind may still reveal more and retry.
            if self.plan.mode == Mode::RateAdaptive || !self.can_continue() {
                return Ok(Turn::SendAndDone(
                    LdpcMessage::Verdict(Verdict::TagMismatch),
                    out,
                ));
            }
            return Ok(Turn::Send(LdpcMessage::Request));
        }
        if self.plan.mode == Mode::Blind && self.can_continue() {
            return Ok(Turn::Send(LdpcMessage::Request));
        }
        Ok(Turn::SendAndDone(
            LdpcMessage::Verdict(Verdict::DecodingFailed),
            ReconcileOutput {
                outcome: Outcome::Failure(Failure::DecodingFailed {
                    iterations: self.iterations,
                }),
                iterations: Some(self.iterations),
            },
        ))
    }

    fn can_continue(&self) -> bool {
        self.rounds < self.max_rounds && self.revealed < self.reveal.len()
    }
}

impl Role for LdpcBob {
    type Message = LdpcMessage;
    type Output = ReconcileOutput;

    fn start(&mut self) -> Result<Turn<LdpcMessage, ReconcileOutput>, ProtocolError> {
        Ok(Turn::Wait)
    }

    fn receive(
        &mut self,
        m: LdpcMessage,
    ) -> Result<Turn<LdpcMessage, ReconcileOutput>, ProtocolError> {
        match m {
            LdpcMessage::Syndrome {
                syndrome,
                punctured,
                tag,
            } if self.rounds == 0 => {
                let h = &self.plan.fc.code.h;
                if syndrome.len() != h.rows() || punctured != self.plan.punctured {
                    return Err(ProtocolError::UnexpectedMessage {
                        party: Party::Bob,
                        step: "ldpc.syndrome",
                        reason: format!(
                            "syndrome of {} bits / {punctured} punctured; expected {} / {}",
                            syndrome.len(),
                            h.rows(),
                            self.plan.punctured
                        ),
                    });
                }
                self.syndrome = syndrome.words().to_vec();
                self.tag = tag;
                self.attempt()
            }
            LdpcMessage::Reveal(values) if self.plan.mode == Mode::Blind && self.rounds > 0 => {
                let end = self.revealed + values.len();
                if end > self.reveal.len() {
                    return Err(unexpected(Party::Bob, "ldpc.reveal"));
                }
                for (k, v) in values.iter().enumerate() {
                    let c = self.reveal[self.revealed + k] as usize;
                    self.llr[c] = if v { -KNOWN_LLR } else { KNOWN_LLR };
                    self.llr_nats[c] = f64::from(self.llr[c]) / LLR_SCALE;
                    if self.warm {
                        self.spa.set_llr(c, self.llr_nats[c]);
                    }
                }
                self.revealed = end;
                self.attempt()
            }
            other => Err(unexpected(Party::Bob, other.step())),
        }
    }
}

impl Reconciler for LdpcReconciler {
    type Message = LdpcMessage;
    type Alice = LdpcAlice;
    type Bob = LdpcBob;

    fn name(&self) -> String {
        let base = match self.mode {
            Mode::RateAdaptive => "ldpc",
            Mode::Blind => "ldpc-blind",
        };
        match self.family.config.decoder {
            DecoderKind::MinSum => base.to_string(),
            DecoderKind::OffsetMinSum(_) => format!("{base}-oms"),
            DecoderKind::SumProduct => format!("{base}-spa"),
        }
    }

    fn alice(&self, key: BitBlock, params: &ReconcileParams) -> Result<LdpcAlice, ReconcileError> {
        let cfg = &self.family.config;
        check_key_len(&key, cfg.block_bits)?;
        let plan = self.plan(params)?;
        let n = plan.fc.code.h.cols();
        let mut word = BitBlock::zeros(n);
        for (k, &c) in plan.fc.key_cols.iter().enumerate() {
            if key.get(k) == Some(true) {
                word.set(c as usize, true)?;
            }
        }
        // Punctured filler: private randomness (OS CSPRNG unless a simulation seed is set).
        let mut fill = |rng: &mut dyn Rng| -> Result<(), ReconcileError> {
            for &c in &plan.fc.extra[..plan.punctured] {
                if rng.next_u64() & 1 == 1 {
                    word.set(c as usize, true)?;
                }
            }
            Ok(())
        };
        match cfg.private_seed {
            Some(s) => fill(&mut sim_rng(derive_seed(s, "ldpc punctured", params.seed)))?,
            None => fill(&mut rand::rng())?,
        }
        let reveal = if self.mode == Mode::Blind {
            plan.reveal_order(params.seed)
        } else {
            Vec::new()
        };
        Ok(LdpcAlice {
            plan,
            key,
            word,
            reveal,
            revealed: 0,
            seed: params.seed,
            steps: cfg.blind_steps,
            started: false,
        })
    }

    fn bob(&self, key: BitBlock, params: &ReconcileParams) -> Result<LdpcBob, ReconcileError> {
        let cfg = &self.family.config;
        check_key_len(&key, cfg.block_bits)?;
        let plan = self.plan(params)?;
        let n = plan.fc.code.h.cols();
        let l = channel_llr(plan.qber);
        let mut llr = vec![KNOWN_LLR; n];
        for (k, &c) in plan.fc.key_cols.iter().enumerate() {
            llr[c as usize] = if key.get(k) == Some(true) { -l } else { l };
        }
        for &c in &plan.fc.extra[..plan.punctured] {
            llr[c as usize] = 0;
        }
        let reveal = if self.mode == Mode::Blind {
            plan.reveal_order(params.seed)
        } else {
            Vec::new()
        };
        // The sum-product decoder takes the exact LLR, not its fixed-point rounding.
        let exact = (1.0 - plan.qber) / plan.qber;
        let exact = exact.ln();
        let mut llr_nats: Vec<f64> = llr.iter().map(|&x| f64::from(x) / LLR_SCALE).collect();
        for (k, &c) in plan.fc.key_cols.iter().enumerate() {
            llr_nats[c as usize] = if key.get(k) == Some(true) {
                -exact
            } else {
                exact
            };
        }
        let ms_kind = match cfg.decoder {
            DecoderKind::OffsetMinSum(o) => MinSumKind::Offset { offset: o },
            _ => MinSumKind::Normalized,
        };
        let spa = match cfg.blind_stall_limit {
            Some(k) if cfg.blind_warm_start && plan.mode == Mode::Blind => {
                LayeredSpa::with_stall_limit(k)
            }
            _ => LayeredSpa::default(),
        };
        Ok(LdpcBob {
            warm: cfg.blind_warm_start
                && plan.mode == Mode::Blind
                && cfg.decoder == DecoderKind::SumProduct,
            plan,
            llr,
            llr_nats,
            spa,
            seed: params.seed,
            reveal,
            revealed: 0,
            syndrome: Vec::new(),
            tag: 0,
            iterations: 0,
            rounds: 0,
            max_rounds: cfg.blind_max_rounds,
            max_iterations: cfg.max_iterations,
            decoder: cfg.decoder,
            ms: MinSumDecoder::new(ms_kind),
        })
    }
}

/// Both roles take a key of exactly the configured frame length.
fn check_key_len(key: &BitBlock, block_bits: usize) -> Result<(), ReconcileError> {
    if key.len() == block_bits {
        Ok(())
    } else {
        Err(LdpcError::LengthMismatch {
            what: "key",
            expected: block_bits,
            got: key.len(),
        }
        .into())
    }
}
