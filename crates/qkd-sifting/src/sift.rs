//! Sifting and parameter estimation as a two-party exchange over qkd-core's channel.
//!
//! Three messages (step names in the ledger):
//!
//! 1. `sifting.announce` (Bob): his detected slots (size: Elias-gamma code of the slot gaps) and
//!    his basis per slot (1 bit each). Discloses no key bit.
//! 2. `sifting.reply` (Alice): a keep bit per announced slot (bases match and the slot is known),
//!    the intensity class of each kept slot (2 bits), a 64-bit seed that fixes which key-basis
//!    positions form the QBER sample, her bits at those positions, and her bits of the whole test
//!    basis (the decoy phase-error estimate needs the test-basis errors per intensity). The sampled
//!    and test-basis bits are key bits and are counted as disclosed; they are removed from the key.
//! 3. `estimation.report` (Bob): the errors he found, per basis and intensity class (6 counts).
//!    They are functions of bits already disclosed and discarded, so they disclose nothing more.
//!
//! Both parties then hold the same counts and compute the same [`Estimate`] and [`Verdict`]; on an
//! abort the key is dropped (zeroized) and only the reason and the estimate are returned.
//!
//! The hot path works on 64-record words: basis matching is an XOR, each selection (kept, key
//! basis, sample) is a mask, and the selected bits and slots are compressed out of the words with
//! one loop over the mask's set bits. No allocation per record.

use qkd_core::{
    Basis, BitBlock, IntensityClass, Message, Party, ProtocolError, Role, Turn, sim_rng,
};
use rand::RngExt;

use crate::decoy::{BasisCounts, CLASSES, DecoyBounds, DecoyMethod, DecoyStatistics};
use crate::error::{SiftingError, check_eps, check_range};
use crate::records::{AliceRecords, BobRecords};
use crate::stats::{ConfidenceMethod, RateEstimate};

/// How many key-basis bits to disclose for the QBER estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SampleSize {
    /// Exactly this many bits (error if the key basis holds fewer).
    Bits(u64),
    /// This fraction of the key-basis bits, rounded up, in (0, 1).
    Fraction(f64),
}

/// The decoy-state analysis to run on the sifted counts.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DecoyConfig {
    /// Mean photon numbers per [`IntensityClass`] index.
    pub intensities: [f64; CLASSES],
    /// Probabilities of each class.
    pub probabilities: [f64; CLASSES],
    /// Two-decoy (Lim 2014) or one-decoy (Rusca 2018).
    pub method: DecoyMethod,
    /// Security parameter of the bounds.
    pub eps_sec: f64,
}

/// When to abort instead of producing a key.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AbortRules {
    /// Abort if the upper confidence bound on the key-basis QBER exceeds this.
    pub max_qber: f64,
    /// Abort if the phase-error bound (`φ_X` with decoys, else the test-basis error-rate upper
    /// bound) exceeds this.
    pub max_phase_error: f64,
    /// Abort if fewer key bits remain after removing the sample.
    pub min_key_bits: u64,
}

impl Default for AbortRules {
    fn default() -> Self {
        Self {
            max_qber: 0.11,
            max_phase_error: 0.11,
            min_key_bits: 1,
        }
    }
}

/// Configuration of sifting and estimation (shared by both parties).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SiftConfig {
    /// The basis the key is made of; the other basis is fully disclosed for testing.
    pub key_basis: Basis,
    /// QBER sample size.
    pub sample: SampleSize,
    /// Confidence bound put on the QBER.
    pub confidence: ConfidenceMethod,
    /// Failure probability of the QBER bound.
    pub eps_pe: f64,
    /// Decoy-state analysis, if the source uses decoys.
    pub decoy: Option<DecoyConfig>,
    /// Abort rules.
    pub abort: AbortRules,
}

impl Default for SiftConfig {
    fn default() -> Self {
        Self {
            key_basis: Basis::Z,
            sample: SampleSize::Fraction(0.05),
            confidence: ConfidenceMethod::Serfling,
            eps_pe: 1e-10,
            decoy: None,
            abort: AbortRules::default(),
        }
    }
}

impl SiftConfig {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> SiftConfigBuilder {
        SiftConfigBuilder(Self::default())
    }

    /// Checks every parameter.
    ///
    /// # Errors
    /// [`SiftingError::InvalidEpsilon`] for `eps_pe` or `eps_sec` outside (0, 1),
    /// [`SiftingError::InvalidParameter`] for a sample fraction outside (0, 1), thresholds outside
    /// [0, 1/2], or decoy parameters the chosen method rejects.
    pub fn validate(&self) -> Result<(), SiftingError> {
        check_eps("eps_pe", self.eps_pe)?;
        if let SampleSize::Fraction(f) = self.sample
            && !(f > 0.0 && f < 1.0)
        {
            return Err(SiftingError::InvalidParameter {
                name: "sample",
                reason: format!("fraction {f} not in (0, 1)"),
            });
        }
        check_range("max_qber", self.abort.max_qber, 0.0, 0.5)?;
        check_range("max_phase_error", self.abort.max_phase_error, 0.0, 0.5)?;
        if let Some(d) = self.decoy {
            check_eps("eps_sec", d.eps_sec)?;
            // Validate intensities and probabilities with placeholder counts.
            let one = BasisCounts::new([1, 1, 0], [0; 3]);
            let probe = DecoyStatistics {
                intensities: d.intensities,
                probabilities: d.probabilities,
                key: one,
                test: one,
            };
            probe.validate(d.method)?;
        }
        Ok(())
    }
}

/// Builder of a validated [`SiftConfig`].
#[derive(Debug, Clone, Copy)]
pub struct SiftConfigBuilder(SiftConfig);

impl SiftConfigBuilder {
    /// The key basis.
    #[must_use]
    pub fn key_basis(mut self, b: Basis) -> Self {
        self.0.key_basis = b;
        self
    }
    /// The QBER sample size.
    #[must_use]
    pub fn sample(mut self, s: SampleSize) -> Self {
        self.0.sample = s;
        self
    }
    /// The confidence method of the QBER bound.
    #[must_use]
    pub fn confidence(mut self, m: ConfidenceMethod, eps_pe: f64) -> Self {
        self.0.confidence = m;
        self.0.eps_pe = eps_pe;
        self
    }
    /// The decoy analysis.
    #[must_use]
    pub fn decoy(mut self, d: DecoyConfig) -> Self {
        self.0.decoy = Some(d);
        self
    }
    /// The abort rules.
    #[must_use]
    pub fn abort(mut self, a: AbortRules) -> Self {
        self.0.abort = a;
        self
    }
    /// The validated configuration.
    ///
    /// # Errors
    /// As [`SiftConfig::validate`].
    pub fn build(self) -> Result<SiftConfig, SiftingError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

/// A message of the sifting exchange.
#[derive(Debug, Clone)]
pub enum SiftMessage {
    /// Bob's detected slots and bases.
    Announce {
        /// Slots, strictly increasing (shared with Bob's records, not copied).
        slots: std::sync::Arc<[u64]>,
        /// Bob's basis per slot (1 = X).
        bases: BitBlock,
    },
    /// Alice's answer.
    Reply {
        /// Keep bit per announced slot.
        keep: BitBlock,
        /// Intensity code, low bit, per kept slot.
        intensity_lo: BitBlock,
        /// Intensity code, high bit, per kept slot.
        intensity_hi: BitBlock,
        /// Seed of the sample positions.
        sample_seed: u64,
        /// Number of sampled key-basis bits.
        sample_bits: u64,
        /// Alice's bits at the sample positions.
        sample: BitBlock,
        /// Alice's bits of the whole test basis.
        test: BitBlock,
    },
    /// Bob's error counts per class: sample errors (key basis), test-basis errors.
    Report {
        /// Errors in the key-basis sample per class.
        sample_errors: [u64; CLASSES],
        /// Errors in the test basis per class.
        test_errors: [u64; CLASSES],
    },
}

/// Bits of the Elias-gamma code of the gaps between successive slots (first gap from -1).
fn slot_code_bits(slots: &[u64]) -> u64 {
    let mut prev: Option<u64> = None;
    let mut bits = 0u64;
    for &s in slots {
        let gap = match prev {
            Some(p) => s - p,
            None => s + 1,
        };
        bits += 2 * u64::from(63 - gap.leading_zeros()) + 1;
        prev = Some(s);
    }
    bits
}

impl Message for SiftMessage {
    fn step(&self) -> &'static str {
        match self {
            SiftMessage::Announce { .. } => "sifting.announce",
            SiftMessage::Reply { .. } => "sifting.reply",
            SiftMessage::Report { .. } => "estimation.report",
        }
    }

    fn size_bits(&self) -> u64 {
        let l = |b: &BitBlock| b.len() as u64;
        match self {
            SiftMessage::Announce { slots, bases } => slot_code_bits(slots) + l(bases),
            SiftMessage::Reply {
                keep,
                intensity_lo,
                intensity_hi,
                sample,
                test,
                ..
            } => l(keep) + l(intensity_lo) + l(intensity_hi) + 128 + l(sample) + l(test),
            SiftMessage::Report { .. } => 64 * 2 * CLASSES as u64,
        }
    }

    fn disclosed_bits(&self) -> u64 {
        match self {
            SiftMessage::Reply { sample, test, .. } => (sample.len() + test.len()) as u64,
            _ => 0,
        }
    }
}

/// A party's sifted key in the key basis, sample removed, with slot and intensity per bit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiftedKey {
    /// The key bits.
    pub bits: BitBlock,
    /// Slot index of each key bit.
    pub slots: Vec<u64>,
    /// Intensity code (low bit) per key bit.
    pub intensity_lo: BitBlock,
    /// Intensity code (high bit) per key bit.
    pub intensity_hi: BitBlock,
}

impl SiftedKey {
    /// The key bits of one intensity class (decoy-state protocols use the signal class as key).
    #[must_use]
    pub fn bits_of_class(&self, class: IntensityClass) -> BitBlock {
        let mask = class_mask(&self.intensity_lo, &self.intensity_hi, class);
        let mut out = Compressor::new(0);
        out.push_masked(&mask, &[self.bits.words()], None);
        out.finish().0.remove(0)
    }

    /// Number of key bits.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// True if no key bits remain.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }
}

/// What both parties learn from the exchange.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Estimate {
    /// Records Bob announced.
    pub announced: u64,
    /// Records kept (bases match).
    pub sifted: u64,
    /// Key-basis counts: all detections; errors scaled from the sample per class (the exact
    /// numbers are known after error correction and should replace them for the one-decoy bound).
    pub key: BasisCounts,
    /// Test-basis counts (exact: every bit was compared).
    pub test: BasisCounts,
    /// Sampled key-basis bits per class.
    pub sample_bits: [u64; CLASSES],
    /// Errors in the sample per class.
    pub sample_errors: [u64; CLASSES],
    /// Key bits left after removing the sample.
    pub key_bits: u64,
    /// The key-basis QBER with its confidence bounds.
    pub qber: Option<RateEstimate>,
    /// The test-basis error rate with its confidence bounds (same method).
    pub test_error_rate: Option<RateEstimate>,
    /// Decoy-state bounds, if configured.
    pub decoy: Option<DecoyBounds>,
}

impl Estimate {
    /// Gain per class, `(key + test detections) / pulses[k]`, given the pulses Alice sent per class.
    #[must_use]
    pub fn gains(&self, pulses: [u64; CLASSES]) -> [Option<f64>; CLASSES] {
        let mut g = [None; CLASSES];
        for (k, gk) in g.iter_mut().enumerate() {
            if pulses[k] > 0 {
                *gk = Some(crate::stats::ratio(
                    self.key.detections[k] + self.test.detections[k],
                    pulses[k],
                ));
            }
        }
        g
    }

    /// The decoy statistics of this block under `cfg`.
    #[must_use]
    pub fn decoy_statistics(&self, cfg: &DecoyConfig) -> DecoyStatistics {
        DecoyStatistics {
            intensities: cfg.intensities,
            probabilities: cfg.probabilities,
            key: self.key,
            test: self.test,
        }
    }
}

/// Why a block was aborted.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum AbortReason {
    /// Too few key bits (or no sample / test bits to estimate from).
    TooFewDetections {
        /// Key bits left.
        key_bits: u64,
        /// Required.
        required: u64,
    },
    /// The QBER upper bound is above the threshold (an intercept-resend attack gives 25 %).
    QberTooHigh {
        /// Upper confidence bound.
        upper: f64,
        /// Threshold.
        threshold: f64,
    },
    /// The phase-error bound is above the threshold.
    PhaseErrorTooHigh {
        /// Bound.
        phase_error: f64,
        /// Threshold.
        threshold: f64,
    },
    /// The decoy statistics certify no single-photon detections: the yields depend on the
    /// intensity, what a photon-number-splitting attack looks like.
    DecoyInconsistent {
        /// The single-photon lower bound `s_{X,1}` (0).
        s_x1: f64,
        /// The test-basis single-photon lower bound `s_{Z,1}`.
        s_z1: f64,
    },
    /// The decoy bounds could not be computed from the counts (e.g. a class without detections).
    DecoyUnavailable {
        /// Why.
        reason: String,
    },
}

/// The decision on a block.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Continue to error correction with this key.
    Proceed(SiftedKey),
    /// Stop: no key.
    Abort(AbortReason),
}

/// One party's result.
#[derive(Debug, Clone, PartialEq)]
pub struct SiftOutput {
    /// The estimate (identical on both sides).
    pub estimate: Estimate,
    /// The decision.
    pub verdict: Verdict,
}

// ---------------------------------------------------------------------------------------------
// Word kernels.

/// `PEXT_TABLE[(mask << 8) | data]`: the bits of `data` selected by `mask`, packed low (a byte-wide
/// software parallel-bit-extract, built at compile time).
static PEXT_TABLE: [u8; 65536] = build_pext_table();

const fn build_pext_table() -> [u8; 65536] {
    let mut t = [0u8; 65536];
    let mut m = 0usize;
    while m < 256 {
        let mut x = 0usize;
        while x < 256 {
            let (mut out, mut n, mut b) = (0usize, 0usize, 0usize);
            while b < 8 {
                if (m >> b) & 1 == 1 {
                    out |= ((x >> b) & 1) << n;
                    n += 1;
                }
                b += 1;
            }
            // out < 256 by construction.
            #[allow(clippy::cast_possible_truncation)]
            {
                t[(m << 8) | x] = out as u8;
            }
            x += 1;
        }
        m += 1;
    }
    t
}

/// Compresses the bits of `x` selected by `m` into the low `popcount(m)` bits.
#[inline]
fn pext(x: u64, m: u64) -> u64 {
    let mut out = 0u64;
    let mut n = 0u32;
    for b in 0..8 {
        let mb = (m >> (8 * b)) & 0xff;
        if mb == 0 {
            continue;
        }
        let xb = (x >> (8 * b)) & 0xff;
        // Both are bytes: the index is below 65536.
        #[allow(clippy::cast_possible_truncation)]
        let idx = ((mb << 8) | xb) as usize;
        out |= u64::from(PEXT_TABLE[idx]) << n;
        n += mb.count_ones();
    }
    out
}

/// Appends variable-length bit fields to a word vector.
#[derive(Default)]
struct BitWriter {
    words: Vec<u64>,
    acc: u64,
    fill: u32,
}

impl BitWriter {
    /// Appends the low `n` bits of `v` (`n <= 64`, higher bits of `v` zero).
    #[inline]
    fn push(&mut self, v: u64, n: u32) {
        if n == 0 {
            return;
        }
        self.acc |= v << self.fill;
        let total = self.fill + n;
        if total >= 64 {
            self.words.push(self.acc);
            self.acc = if self.fill == 0 {
                0
            } else {
                v >> (64 - self.fill)
            };
            self.fill = total - 64;
        } else {
            self.fill = total;
        }
    }
}

/// Appends selected bits of several planes (and optionally slots) to growing outputs.
struct Compressor {
    planes: Vec<BitWriter>,
    len: usize,
    slots: Vec<u64>,
}

impl Compressor {
    fn new(extra_planes: usize) -> Self {
        Self {
            planes: (0..=extra_planes).map(|_| BitWriter::default()).collect(),
            len: 0,
            slots: Vec::new(),
        }
    }

    /// For every set bit `i` of `mask`, appends bit `i` of each plane and `slots[i]`: a word at a
    /// time (table-driven bit extraction), slots by a loop over the set bits.
    fn push_masked(&mut self, mask: &[u64], planes: &[&[u64]], slots: Option<&[u64]>) {
        if self.planes.len() != planes.len() {
            self.planes = planes.iter().map(|_| BitWriter::default()).collect();
        }
        let selected: usize = mask.iter().map(|w| w.count_ones() as usize).sum();
        for p in &mut self.planes {
            p.words.reserve(selected / 64 + 1);
        }
        if slots.is_some() {
            self.slots.reserve(selected);
        }
        for (wi, &m) in mask.iter().enumerate() {
            if m == 0 {
                continue;
            }
            let n = m.count_ones();
            for (out, src) in self.planes.iter_mut().zip(planes) {
                let x = src[wi];
                out.push(if m == u64::MAX { x } else { pext(x, m) }, n);
            }
            if let Some(s) = slots {
                if m == u64::MAX {
                    self.slots.extend_from_slice(&s[wi * 64..wi * 64 + 64]);
                } else {
                    let mut mm = m;
                    while mm != 0 {
                        self.slots.push(s[wi * 64 + mm.trailing_zeros() as usize]);
                        mm &= mm - 1;
                    }
                }
            }
            self.len += n as usize;
        }
    }

    fn finish(self) -> (Vec<BitBlock>, Vec<u64>) {
        let len = self.len;
        let blocks = self
            .planes
            .into_iter()
            .map(|mut w| {
                if w.fill > 0 {
                    w.words.push(w.acc);
                }
                // Lengths agree by construction.
                BitBlock::from_words(&w.words, len).unwrap_or_default()
            })
            .collect();
        (blocks, self.slots)
    }
}

fn class_mask(lo: &BitBlock, hi: &BitBlock, class: IntensityClass) -> Vec<u64> {
    lo.words()
        .iter()
        .zip(hi.words())
        .map(|(&l, &h)| match class {
            IntensityClass::Signal => !l & !h,
            IntensityClass::Decoy => l & !h,
            IntensityClass::Vacuum => h,
        })
        .collect()
}

/// Masks off the bits past `len` in the last word.
fn trim(mut words: Vec<u64>, len: usize) -> Vec<u64> {
    if !len.is_multiple_of(64)
        && let Some(last) = words.last_mut()
    {
        *last &= (1u64 << (len % 64)) - 1;
    }
    words
}

fn count_per_class(sel: &[u64], lo: &BitBlock, hi: &BitBlock) -> [u64; CLASSES] {
    let mut c = [0u64; CLASSES];
    for (&s, (&l, &h)) in sel.iter().zip(lo.words().iter().zip(hi.words())) {
        c[0] += u64::from((s & !l & !h).count_ones());
        c[1] += u64::from((s & l & !h).count_ones());
        c[2] += u64::from((s & h).count_ones());
    }
    c
}

/// A uniformly random `k`-subset of `0..n` as a bitmap (Floyd's algorithm, O(k) draws).
fn sample_bitmap(n: usize, k: usize, seed: u64) -> Vec<u64> {
    let mut map = vec![0u64; n.div_ceil(64)];
    let mut rng = sim_rng(seed);
    for j in (n - k)..n {
        let t = rng.random_range(0..=j);
        let (w, b) = (t / 64, t % 64);
        if map[w] >> b & 1 == 1 {
            map[j / 64] |= 1 << (j % 64);
        } else {
            map[w] |= 1 << b;
        }
    }
    map
}

/// The kept records of one party after matching: bases and bits of kept slots, their intensity.
struct Kept {
    bits: BitBlock,
    bases: BitBlock,
    lo: BitBlock,
    hi: BitBlock,
    slots: Vec<u64>,
}

/// Key-basis split and sample of the kept records, identical computation on both sides.
struct Split {
    key_mask: Vec<u64>,
    test_mask: Vec<u64>,
    n_key: usize,
}

fn split(kept: &Kept, key_basis: Basis) -> Split {
    let n = kept.bits.len();
    let x = key_basis == Basis::X;
    let key_mask = trim(
        kept.bases
            .words()
            .iter()
            .map(|&b| if x { b } else { !b })
            .collect(),
        n,
    );
    let test_mask = trim(key_mask.iter().map(|&m| !m).collect(), n);
    let n_key = key_mask.iter().map(|w| w.count_ones() as usize).sum();
    Split {
        key_mask,
        test_mask,
        n_key,
    }
}

fn sample_size(cfg: &SiftConfig, n_key: usize) -> Result<usize, SiftingError> {
    let k = match cfg.sample {
        SampleSize::Bits(b) => b,
        SampleSize::Fraction(f) => {
            // n_key < 2^53 in practice; the product is rounded up to a count.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let k = (f * n_key as f64).ceil() as u64;
            k
        }
    };
    if k > n_key as u64 {
        return Err(SiftingError::SampleTooLarge {
            sample: k,
            available: n_key as u64,
        });
    }
    usize::try_from(k).map_err(|_| SiftingError::SampleTooLarge {
        sample: k,
        available: n_key as u64,
    })
}

/// Splits the key basis into (sample, rest) for one party.
struct KeyParts {
    sample_bits: BitBlock,
    sample_lo: BitBlock,
    sample_hi: BitBlock,
    key: SiftedKey,
    key_counts: [u64; CLASSES],
    test_bits: BitBlock,
    test_lo: BitBlock,
    test_hi: BitBlock,
}

fn key_parts(kept: &Kept, sp: &Split, sample_map: &[u64]) -> KeyParts {
    let key_counts = count_per_class(&sp.key_mask, &kept.lo, &kept.hi);
    // Key basis in kept order.
    let mut c = Compressor::new(0);
    c.push_masked(
        &sp.key_mask,
        &[kept.bits.words(), kept.lo.words(), kept.hi.words()],
        Some(&kept.slots),
    );
    let (mut planes, slots) = c.finish();
    let (kb, kl, kh) = (planes.remove(0), planes.remove(0), planes.remove(0));
    let rest_map = trim(sample_map.iter().map(|&m| !m).collect(), kb.len());
    let mut s = Compressor::new(0);
    s.push_masked(sample_map, &[kb.words(), kl.words(), kh.words()], None);
    let (mut sp_planes, _) = s.finish();
    let mut r = Compressor::new(0);
    r.push_masked(
        &rest_map,
        &[kb.words(), kl.words(), kh.words()],
        Some(&slots),
    );
    let (mut r_planes, r_slots) = r.finish();
    let mut t = Compressor::new(0);
    t.push_masked(
        &sp.test_mask,
        &[kept.bits.words(), kept.lo.words(), kept.hi.words()],
        None,
    );
    let (mut t_planes, _) = t.finish();
    KeyParts {
        sample_bits: sp_planes.remove(0),
        sample_lo: sp_planes.remove(0),
        sample_hi: sp_planes.remove(0),
        key: SiftedKey {
            bits: r_planes.remove(0),
            intensity_lo: r_planes.remove(0),
            intensity_hi: r_planes.remove(0),
            slots: r_slots,
        },
        key_counts,
        test_bits: t_planes.remove(0),
        test_lo: t_planes.remove(0),
        test_hi: t_planes.remove(0),
    }
}

fn errors_per_class(a: &BitBlock, b: &BitBlock, lo: &BitBlock, hi: &BitBlock) -> [u64; CLASSES] {
    let diff: Vec<u64> = a
        .words()
        .iter()
        .zip(b.words())
        .map(|(x, y)| x ^ y)
        .collect();
    count_per_class(&diff, lo, hi)
}

/// Computes the estimate and verdict from the shared counts (same on both sides).
#[allow(clippy::too_many_arguments)]
fn conclude(
    cfg: &SiftConfig,
    announced: u64,
    sifted: u64,
    key_counts: [u64; CLASSES],
    sample_bits: [u64; CLASSES],
    sample_errors: [u64; CLASSES],
    test: BasisCounts,
    key: SiftedKey,
) -> Result<SiftOutput, SiftingError> {
    let ns: u64 = sample_bits.iter().sum();
    let es: u64 = sample_errors.iter().sum();
    let key_bits = key.len() as u64;
    // Scale the sample errors of each class to its detections (point estimate).
    let mut key_errors = [0u64; CLASSES];
    for k in 0..CLASSES {
        if sample_bits[k] > 0 {
            let est = crate::stats::ratio(sample_errors[k], sample_bits[k])
                * crate::stats::f(key_counts[k]);
            // Rounded non-negative count below key_counts[k].
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let e = est.round() as u64;
            key_errors[k] = e.min(key_counts[k]);
        }
    }
    let qber = if ns > 0 && key_bits > 0 {
        Some(RateEstimate::new(
            es,
            ns,
            key_bits,
            cfg.confidence,
            cfg.eps_pe,
        )?)
    } else {
        None
    };
    let nt = test.total_detections();
    let test_error_rate = if nt > 0 {
        // The whole test basis was compared; bound the rate of the underlying process (i.i.d.
        // methods) or of an equally large unseen block (Serfling).
        Some(RateEstimate::new(
            test.total_errors(),
            nt,
            key_bits.max(1),
            cfg.confidence,
            cfg.eps_pe,
        )?)
    } else {
        None
    };
    let key_c = BasisCounts::new(key_counts, key_errors);
    let mut estimate = Estimate {
        announced,
        sifted,
        key: key_c,
        test,
        sample_bits,
        sample_errors,
        key_bits,
        qber,
        test_error_rate,
        decoy: None,
    };
    let rules = &cfg.abort;
    let abort = |estimate: &Estimate, r| {
        Ok(SiftOutput {
            estimate: estimate.clone(),
            verdict: Verdict::Abort(r),
        })
    };
    if key_bits < rules.min_key_bits.max(1) || qber.is_none() || test_error_rate.is_none() {
        return abort(
            &estimate,
            AbortReason::TooFewDetections {
                key_bits,
                required: rules.min_key_bits.max(1),
            },
        );
    }
    let mut phase = test_error_rate.map_or(0.5, |t| t.upper);
    if let Some(d) = &cfg.decoy {
        match estimate.decoy_statistics(d).finite_key(d.method, d.eps_sec) {
            Ok(b) => {
                estimate.decoy = Some(b);
                if b.s_x1.value <= 0.0 || b.s_z1.value <= 0.0 {
                    let r = AbortReason::DecoyInconsistent {
                        s_x1: b.s_x1.value,
                        s_z1: b.s_z1.value,
                    };
                    return abort(&estimate, r);
                }
                phase = b.phi_x.value;
            }
            Err(e) => {
                return abort(
                    &estimate,
                    AbortReason::DecoyUnavailable {
                        reason: e.to_string(),
                    },
                );
            }
        }
    }
    if let Some(q) = qber
        && q.upper > rules.max_qber
    {
        return abort(
            &estimate,
            AbortReason::QberTooHigh {
                upper: q.upper,
                threshold: rules.max_qber,
            },
        );
    }
    if phase > rules.max_phase_error {
        return abort(
            &estimate,
            AbortReason::PhaseErrorTooHigh {
                phase_error: phase,
                threshold: rules.max_phase_error,
            },
        );
    }
    Ok(SiftOutput {
        estimate,
        verdict: Verdict::Proceed(key),
    })
}

fn proto(party: Party, step: &'static str, e: impl std::fmt::Display) -> ProtocolError {
    ProtocolError::UnexpectedMessage {
        party,
        step,
        reason: e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Roles.

/// Alice's role: answers Bob's announcement, chooses the sample, concludes on Bob's report.
#[derive(Debug)]
pub struct AliceSifter {
    records: AliceRecords,
    cfg: SiftConfig,
    seed: u64,
    state: Option<AliceState>,
}

#[derive(Debug)]
struct AliceState {
    announced: u64,
    sifted: u64,
    key_counts: [u64; CLASSES],
    sample_counts: [u64; CLASSES],
    test_counts: [u64; CLASSES],
    key: SiftedKey,
}

impl AliceSifter {
    /// Alice with her records; `seed` drives the choice of sample positions (use a CSPRNG output
    /// in production).
    ///
    /// # Errors
    /// As [`SiftConfig::validate`]; [`SiftingError::Empty`] without records.
    pub fn new(records: AliceRecords, cfg: SiftConfig, seed: u64) -> Result<Self, SiftingError> {
        cfg.validate()?;
        if records.is_empty() {
            return Err(SiftingError::Empty {
                what: "alice records",
            });
        }
        Ok(Self {
            records,
            cfg,
            seed,
            state: None,
        })
    }

    /// Aligns Alice's records with Bob's announced slots; returns (known mask, aligned arrays).
    fn align(&self, slots: &[u64]) -> (Vec<u64>, [BitBlock; 4]) {
        let r = &self.records;
        if r.slots.as_slice() == slots {
            let known = trim(vec![u64::MAX; slots.len().div_ceil(64)], slots.len());
            return (
                known,
                [
                    r.bases.clone(),
                    r.bits.clone(),
                    r.intensity_lo.clone(),
                    r.intensity_hi.clone(),
                ],
            );
        }
        // Merge two increasing lists; a slot Alice does not know is dropped.
        let mut known = vec![0u64; slots.len().div_ceil(64)];
        let mut idx = Vec::with_capacity(slots.len());
        let mut j = 0usize;
        for (i, &s) in slots.iter().enumerate() {
            while j < r.slots.len() && r.slots[j] < s {
                j += 1;
            }
            if j < r.slots.len() && r.slots[j] == s {
                known[i / 64] |= 1 << (i % 64);
                idx.push(j);
            } else {
                idx.push(0);
            }
        }
        let g = |b: &BitBlock| b.gather(&idx).unwrap_or_default();
        (
            known,
            [
                g(&r.bases),
                g(&r.bits),
                g(&r.intensity_lo),
                g(&r.intensity_hi),
            ],
        )
    }

    fn on_announce(
        &mut self,
        slots: &[u64],
        bases: &BitBlock,
    ) -> Result<SiftMessage, SiftingError> {
        if slots.len() != bases.len() {
            return Err(SiftingError::LengthMismatch {
                what: "announced slots/bases",
                left: slots.len(),
                right: bases.len(),
            });
        }
        crate::records::check_sorted(slots, "bob")?;
        let (known, [a_bases, a_bits, a_lo, a_hi]) = self.align(slots);
        let keep: Vec<u64> = known
            .iter()
            .zip(a_bases.words().iter().zip(bases.words()))
            .map(|(&k, (&a, &b))| k & !(a ^ b))
            .collect();
        let keep = trim(keep, slots.len());
        let mut c = Compressor::new(0);
        c.push_masked(
            &keep,
            &[a_bits.words(), a_bases.words(), a_lo.words(), a_hi.words()],
            Some(slots),
        );
        let (mut p, kslots) = c.finish();
        let kept = Kept {
            bits: p.remove(0),
            bases: p.remove(0),
            lo: p.remove(0),
            hi: p.remove(0),
            slots: kslots,
        };
        let sp = split(&kept, self.cfg.key_basis);
        let k = sample_size(&self.cfg, sp.n_key)?;
        let sample_seed = qkd_core::derive_seed(self.seed, "qkd-sifting sample", 0);
        let map = trim(sample_bitmap(sp.n_key, k, sample_seed), sp.n_key);
        let parts = key_parts(&kept, &sp, &map);
        self.state = Some(AliceState {
            announced: slots.len() as u64,
            sifted: kept.bits.len() as u64,
            key_counts: parts.key_counts,
            sample_counts: [0; CLASSES],
            test_counts: [0; CLASSES],
            key: parts.key,
        });
        // Per-class counts of the sample and test basis (from the intensity planes).
        let all = |b: &BitBlock| trim(vec![u64::MAX; b.len().div_ceil(64)], b.len());
        if let Some(st) = self.state.as_mut() {
            st.sample_counts =
                count_per_class(&all(&parts.sample_bits), &parts.sample_lo, &parts.sample_hi);
            st.test_counts =
                count_per_class(&all(&parts.test_bits), &parts.test_lo, &parts.test_hi);
        }
        Ok(SiftMessage::Reply {
            keep: BitBlock::from_words(&keep, slots.len())?,
            intensity_lo: kept.lo,
            intensity_hi: kept.hi,
            sample_seed,
            sample_bits: k as u64,
            sample: parts.sample_bits,
            test: parts.test_bits,
        })
    }
}

impl Role for AliceSifter {
    type Message = SiftMessage;
    type Output = SiftOutput;

    fn start(&mut self) -> Result<Turn<SiftMessage, SiftOutput>, ProtocolError> {
        Ok(Turn::Wait)
    }

    fn receive(&mut self, m: SiftMessage) -> Result<Turn<SiftMessage, SiftOutput>, ProtocolError> {
        match (m, self.state.take()) {
            (SiftMessage::Announce { slots, bases }, None) => {
                let reply = self
                    .on_announce(&slots, &bases)
                    .map_err(|e| proto(Party::Alice, "sifting.announce", e))?;
                Ok(Turn::Send(reply))
            }
            (
                SiftMessage::Report {
                    sample_errors,
                    test_errors,
                },
                Some(st),
            ) => {
                let test = BasisCounts::new(st.test_counts, test_errors);
                let out = conclude(
                    &self.cfg,
                    st.announced,
                    st.sifted,
                    st.key_counts,
                    st.sample_counts,
                    sample_errors,
                    test,
                    st.key,
                )
                .map_err(|e| proto(Party::Alice, "estimation.report", e))?;
                Ok(Turn::Done(out))
            }
            (m, _) => Err(proto(Party::Alice, m.step(), "out of order")),
        }
    }
}

/// Bob's role: announces his detections, compares the disclosed bits, reports the errors.
#[derive(Debug)]
pub struct BobSifter {
    records: Option<BobRecords>,
    cfg: SiftConfig,
}

impl BobSifter {
    /// Bob with his records.
    ///
    /// # Errors
    /// As [`SiftConfig::validate`]; [`SiftingError::Empty`] without records.
    pub fn new(records: BobRecords, cfg: SiftConfig) -> Result<Self, SiftingError> {
        cfg.validate()?;
        if records.is_empty() {
            return Err(SiftingError::Empty {
                what: "bob records",
            });
        }
        Ok(Self {
            records: Some(records),
            cfg,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn on_reply(
        &mut self,
        r: BobRecords,
        keep: &BitBlock,
        lo: BitBlock,
        hi: BitBlock,
        seed: u64,
        k: u64,
        a_sample: &BitBlock,
        a_test: &BitBlock,
    ) -> Result<(SiftMessage, SiftOutput), SiftingError> {
        if keep.len() != r.len() {
            return Err(SiftingError::LengthMismatch {
                what: "keep/announced",
                left: keep.len(),
                right: r.len(),
            });
        }
        let mut c = Compressor::new(0);
        c.push_masked(
            keep.words(),
            &[r.bits.words(), r.bases.words()],
            Some(&r.slots),
        );
        let (mut p, kslots) = c.finish();
        let (bits, bases) = (p.remove(0), p.remove(0));
        if lo.len() != bits.len() || hi.len() != bits.len() {
            return Err(SiftingError::LengthMismatch {
                what: "intensities/kept",
                left: lo.len(),
                right: bits.len(),
            });
        }
        let kept = Kept {
            bits,
            bases,
            lo,
            hi,
            slots: kslots,
        };
        let sp = split(&kept, self.cfg.key_basis);
        let k = usize::try_from(k).map_err(|_| SiftingError::SampleTooLarge {
            sample: k,
            available: sp.n_key as u64,
        })?;
        if k > sp.n_key {
            return Err(SiftingError::SampleTooLarge {
                sample: k as u64,
                available: sp.n_key as u64,
            });
        }
        let map = trim(sample_bitmap(sp.n_key, k, seed), sp.n_key);
        let parts = key_parts(&kept, &sp, &map);
        if a_sample.len() != parts.sample_bits.len() || a_test.len() != parts.test_bits.len() {
            return Err(SiftingError::LengthMismatch {
                what: "disclosed bits",
                left: a_sample.len() + a_test.len(),
                right: parts.sample_bits.len() + parts.test_bits.len(),
            });
        }
        let sample_errors = errors_per_class(
            a_sample,
            &parts.sample_bits,
            &parts.sample_lo,
            &parts.sample_hi,
        );
        let test_errors =
            errors_per_class(a_test, &parts.test_bits, &parts.test_lo, &parts.test_hi);
        let all = |b: &BitBlock| trim(vec![u64::MAX; b.len().div_ceil(64)], b.len());
        let sample_counts =
            count_per_class(&all(&parts.sample_bits), &parts.sample_lo, &parts.sample_hi);
        let test_counts = count_per_class(&all(&parts.test_bits), &parts.test_lo, &parts.test_hi);
        let out = conclude(
            &self.cfg,
            r.len() as u64,
            kept.bits.len() as u64,
            parts.key_counts,
            sample_counts,
            sample_errors,
            BasisCounts::new(test_counts, test_errors),
            parts.key,
        )?;
        Ok((
            SiftMessage::Report {
                sample_errors,
                test_errors,
            },
            out,
        ))
    }
}

impl Role for BobSifter {
    type Message = SiftMessage;
    type Output = SiftOutput;

    fn start(&mut self) -> Result<Turn<SiftMessage, SiftOutput>, ProtocolError> {
        let r = self
            .records
            .as_ref()
            .ok_or_else(|| proto(Party::Bob, "sifting.announce", "already started"))?;
        Ok(Turn::Send(SiftMessage::Announce {
            slots: std::sync::Arc::clone(&r.slots),
            bases: r.bases.clone(),
        }))
    }

    fn receive(&mut self, m: SiftMessage) -> Result<Turn<SiftMessage, SiftOutput>, ProtocolError> {
        match (m, self.records.take()) {
            (
                SiftMessage::Reply {
                    keep,
                    intensity_lo,
                    intensity_hi,
                    sample_seed,
                    sample_bits,
                    sample,
                    test,
                },
                Some(r),
            ) => {
                let (msg, out) = self
                    .on_reply(
                        r,
                        &keep,
                        intensity_lo,
                        intensity_hi,
                        sample_seed,
                        sample_bits,
                        &sample,
                        &test,
                    )
                    .map_err(|e| proto(Party::Bob, "sifting.reply", e))?;
                Ok(Turn::SendAndDone(msg, out))
            }
            (m, _) => Err(proto(Party::Bob, m.step(), "out of order")),
        }
    }
}

/// Runs both roles in this thread: the convenience entry point for simulations.
///
/// ```
/// use qkd_core::{Basis, Bit, ClickKind, DetectionRecord, IntensityClass};
/// use qkd_sifting::{ConfidenceMethod, SampleSize, SiftConfig, Verdict, sift_pair, split_records};
/// // 100,000 detections, bases equal on even slots, 1 error in 50 on matching slots.
/// let recs: Vec<DetectionRecord> = (0..100_000u64)
///     .map(|i| DetectionRecord {
///         slot: 3 * i,
///         alice_basis: if i % 3 == 0 { Basis::X } else { Basis::Z },
///         alice_bit: Bit::from(i % 7 < 3),
///         intensity: IntensityClass::Signal,
///         bob_basis: if i % 2 == 0 { if i % 3 == 0 { Basis::X } else { Basis::Z } } else { Basis::X },
///         bob_bit: Bit::from((i % 7 < 3) ^ (i % 50 == 0)),
///         click: ClickKind::Single,
///     })
///     .collect();
/// let (alice, bob) = split_records(&recs)?;
/// let cfg = SiftConfig::builder()
///     .sample(SampleSize::Fraction(0.2))
///     .confidence(ConfidenceMethod::ClopperPearson, 1e-6)
///     .build()?;
/// let (a, b, ledger) = sift_pair(alice, bob, cfg, 7)?;
/// assert_eq!(a.estimate, b.estimate);
/// match (a.verdict, b.verdict) {
///     (Verdict::Proceed(ka), Verdict::Proceed(kb)) => assert_eq!(ka.len(), kb.len()),
///     other => panic!("{other:?}"),
/// }
/// assert_eq!(ledger.disclosed_bits_in("sifting.announce"), 0);
/// # Ok::<(), qkd_sifting::SiftingError>(())
/// ```
///
/// # Errors
/// Configuration and input errors of the roles, and any [`ProtocolError`].
pub fn sift_pair(
    alice: AliceRecords,
    bob: BobRecords,
    cfg: SiftConfig,
    seed: u64,
) -> Result<(SiftOutput, SiftOutput, qkd_core::LeakageLedger), SiftingError> {
    let a = AliceSifter::new(alice, cfg, seed)?;
    let b = BobSifter::new(bob, cfg)?;
    let run = qkd_core::run_pair(a, b)?;
    Ok((run.alice, run.bob, run.ledger))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The word-level compressor equals bit-by-bit selection.
        #[test]
        fn compressor_equals_naive_selection(
            data in proptest::collection::vec(any::<u64>(), 1..20),
            masks in proptest::collection::vec(any::<u64>(), 1..20),
            dense in any::<bool>(),
        ) {
            let n = data.len().min(masks.len());
            let mask: Vec<u64> = masks[..n].iter().map(|&m| if dense { !0 } else { m }).collect();
            let slots: Vec<u64> = (0..64 * n as u64).map(|i| i * 3).collect();
            let mut c = Compressor::new(0);
            c.push_masked(&mask, &[&data[..n]], Some(&slots));
            let (blocks, got_slots) = c.finish();
            let mut want = Vec::new();
            let mut want_slots = Vec::new();
            for i in 0..64 * n {
                if mask[i / 64] >> (i % 64) & 1 == 1 {
                    want.push(data[i / 64] >> (i % 64) & 1 == 1);
                    want_slots.push(slots[i]);
                }
            }
            prop_assert_eq!(&blocks[0], &BitBlock::from_bools(&want));
            prop_assert_eq!(got_slots, want_slots);
        }

        #[test]
        fn sample_bitmap_has_exactly_k_positions(n in 1usize..5000, frac in 0.0f64..1.0, seed in any::<u64>()) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let k = (frac * n as f64) as usize;
            let map = trim(sample_bitmap(n, k, seed), n);
            prop_assert_eq!(map.iter().map(|w| w.count_ones() as usize).sum::<usize>(), k);
        }
    }

    #[test]
    fn elias_gamma_size_of_slot_gaps() {
        // Gaps 1, 1, 2, 4: 1 + 1 + 3 + 5 bits.
        assert_eq!(slot_code_bits(&[0, 1, 3, 7]), 10);
    }
}
