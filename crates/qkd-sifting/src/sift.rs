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
//! The hot path works on 64-record words and never on slot indices: basis matching is an XOR,
//! each selection (kept, key basis, test basis, sample) is a mask, and a plane restricted to a
//! mask is extracted a word at a time (software parallel-bit-extract through a byte table; the
//! shift amounts of the eight bytes come from one SWAR prefix sum, no branch per record). The
//! sample is drawn in key order and deposited back onto the key-basis mask, which gives the key's
//! slots as a selection over the announced list ([`KeySlots`]) rather than a copied `u64` array.
//! Working memory is a few bits per record; no allocation per record.

use qkd_core::{
    Basis, BitBlock, IntensityClass, Message, Party, ProtocolError, Role, Turn, sim_rng,
};
use rand::RngExt;
use zeroize::Zeroizing;

use crate::decoy::{BasisCounts, CLASSES, DecoyBounds, DecoyMethod, DecoyStatistics};
use crate::error::{SiftingError, check_eps, check_range};
use crate::records::{AliceRecords, BobRecords, Slots};
use crate::stats::{ConfidenceMethod, RateEstimate};
use crate::words;

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
        slots: Slots,
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
            SiftMessage::Announce { slots, bases } => slots.gap_code_bits() + l(bases),
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
    /// Slot index of each key bit (a selection over the announced slots, not a copy).
    pub slots: KeySlots,
    /// Intensity code (low bit) per key bit.
    pub intensity_lo: BitBlock,
    /// Intensity code (high bit) per key bit.
    pub intensity_hi: BitBlock,
}

impl SiftedKey {
    /// The key bits of one intensity class (decoy-state protocols use the signal class as key).
    #[must_use]
    pub fn bits_of_class(&self, class: IntensityClass) -> BitBlock {
        let mask: Vec<u64> = self
            .intensity_lo
            .words()
            .iter()
            .zip(self.intensity_hi.words())
            .map(|(&l, &h)| match class {
                IntensityClass::Signal => !l & !h,
                IntensityClass::Decoy => l & !h,
                IntensityClass::Vacuum => h,
            })
            .collect();
        let mut mask = mask;
        words::trim(&mut mask, self.bits.len());
        compress_block(self.bits.words(), &mask)
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

/// The slot indices of a sifted key: one bit per announced record (set: that record's bit is in
/// the key, in order) over the announced [`Slots`], which both parties share instead of copying
/// 8 bytes per key bit.
#[derive(Clone)]
pub struct KeySlots {
    announced: Slots,
    selected: BitBlock,
    len: usize,
}

impl KeySlots {
    /// Number of key slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The slot indices in key order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let s = self.announced.as_slice();
        self.selected
            .words()
            .iter()
            .enumerate()
            .flat_map(move |(w, &m)| {
                let mut m = m;
                std::iter::from_fn(move || {
                    (m != 0).then(|| {
                        let b = m.trailing_zeros() as usize;
                        m &= m - 1;
                        s[w * 64 + b]
                    })
                })
            })
    }

    /// The slot indices in key order, copied out.
    #[must_use]
    pub fn to_vec(&self) -> Vec<u64> {
        let mut v = Vec::with_capacity(self.len);
        v.extend(self.iter());
        v
    }

    /// The announced slots the selection refers to.
    #[must_use]
    pub fn announced(&self) -> &Slots {
        &self.announced
    }

    /// The selection: bit `i` set if announced record `i` is a key bit.
    #[must_use]
    pub fn selection(&self) -> &BitBlock {
        &self.selected
    }
}

impl PartialEq for KeySlots {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len
            && if self.announced.shares_storage_with(&other.announced) {
                self.selected == other.selected
            } else {
                self.iter().eq(other.iter())
            }
    }
}

impl Eq for KeySlots {}

impl std::fmt::Debug for KeySlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySlots")
            .field("len", &self.len)
            .field("first", &self.iter().next())
            .finish_non_exhaustive()
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
    /// The decoy statistics contradict photon-number-independent yields: in a basis whose
    /// single-photon bound is zero, the central value of the bound (the observed rates, no
    /// finite-size deviations) lies more than 5 standard errors below zero (what a
    /// photon-number-splitting attack looks like; see [`DecoyStatistics::single_photon_spread`]).
    DecoyInconsistent {
        /// The single-photon lower bound `s_{X,1}` (key basis).
        s_x1: f64,
        /// The test-basis single-photon lower bound `s_{Z,1}`.
        s_z1: f64,
        /// The basis whose statistics are inconsistent (the key basis if both are).
        basis: Basis,
        /// Central value of that basis' single-photon bound (negative).
        central: f64,
        /// Its standard error.
        std_error: f64,
    },
    /// A single-photon bound is zero only because a basis holds too few events: the finite-size
    /// deviations swamp a central value that is not significantly negative (e.g. the test basis
    /// of a 90/10 basis choice in a small block, where the decoy and vacuum classes hold a
    /// handful of events). Not a sign of an attack: a larger block would do.
    TooFewDecoyEvents {
        /// The basis whose bound is zero (the key basis if both are).
        basis: Basis,
        /// Its intensity class with the fewest events (usually what limits the bound).
        class: IntensityClass,
        /// Events of that class in that basis.
        class_events: u64,
        /// Events in that basis, all classes.
        observed: u64,
        /// About how many events that basis would need at the same rates for the bound to turn
        /// positive ([`crate::SinglePhotonSpread::scale_to_certify`]); `None` if the central value
        /// is not positive (more events would not help at these rates, yet it is not
        /// significantly negative either).
        required: Option<u64>,
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
// Shared computation on 64-record words (crate::words has the kernels).

/// `src` restricted to `mask`, as a block of `weight(mask)` bits (written in place, no copy).
fn compress_block(src: &[u64], mask: &[u64]) -> BitBlock {
    let mut b = BitBlock::zeros(words::weight(mask));
    b.with_words_mut(|w| words::compress_into(src, mask, w));
    b
}

/// Two planes restricted to `mask`, as blocks (one pass, written in place).
fn compress_blocks2(srcs: [&[u64]; 2], mask: &[u64]) -> [BitBlock; 2] {
    let n = words::weight(mask);
    let [mut a, mut b] = [BitBlock::zeros(n), BitBlock::zeros(n)];
    a.with_words_mut(|wa| {
        b.with_words_mut(|wb| words::compress_planes_into(srcs, mask, [wa, wb]));
    });
    [a, b]
}

/// Three planes restricted to `mask`, as blocks (one pass, written in place).
fn compress_blocks3(srcs: [&[u64]; 3], mask: &[u64]) -> [BitBlock; 3] {
    let n = words::weight(mask);
    let [mut a, mut b, mut c] = [BitBlock::zeros(n), BitBlock::zeros(n), BitBlock::zeros(n)];
    a.with_words_mut(|wa| {
        b.with_words_mut(|wb| {
            c.with_words_mut(|wc| words::compress_planes_into(srcs, mask, [wa, wb, wc]));
        });
    });
    [a, b, c]
}

/// Key-basis and test-basis masks over the announced records: kept records whose (matching)
/// basis is, or is not, the key basis. `keep` is trimmed, so both are.
fn basis_masks(keep: &[u64], bases: &[u64], key_basis: Basis) -> (Vec<u64>, Vec<u64>) {
    let x = key_basis == Basis::X;
    keep.iter()
        .zip(bases)
        .map(|(&k, &b)| {
            let in_key = if x { b } else { !b };
            (k & in_key, k & !in_key)
        })
        .unzip()
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

/// One party's key-basis records in key order (announced order restricted to the key basis).
struct KeyBasis<'a> {
    bits: &'a [u64],
    lo: &'a [u64],
    hi: &'a [u64],
    len: usize,
}

/// The key basis split into the disclosed sample and the key that remains.
struct Split {
    sample_bits: BitBlock,
    sample_lo: Vec<u64>,
    sample_hi: Vec<u64>,
    sample_counts: [u64; CLASSES],
    key_counts: [u64; CLASSES],
    key: SiftedKey,
}

/// Splits the key basis by the sample bitmap (key order); the key's slots are the announced
/// positions of the unsampled key-basis records (`key_mask` with the sample removed).
fn split_key(kb: &KeyBasis<'_>, sample_map: &[u64], key_mask: &[u64], announced: &Slots) -> Split {
    let mut rest: Vec<u64> = sample_map.iter().map(|&m| !m).collect();
    words::trim(&mut rest, kb.len);
    let mut selected = BitBlock::zeros(announced.len());
    selected.with_words_mut(|w| words::deposit_into(&rest, key_mask, w));
    let ([sample_lo, sample_hi], _) = words::compress_planes([kb.lo, kb.hi], sample_map);
    let sample_bits = compress_block(kb.bits, sample_map);
    let key_len = kb.len - words::weight(sample_map);
    let [bits, intensity_lo, intensity_hi] = compress_blocks3([kb.bits, kb.lo, kb.hi], &rest);
    Split {
        sample_bits,
        sample_counts: words::count_per_class(sample_map, kb.lo, kb.hi),
        sample_lo,
        sample_hi,
        key_counts: words::class_counts(kb.lo, kb.hi, kb.len),
        key: SiftedKey {
            bits,
            intensity_lo,
            intensity_hi,
            slots: KeySlots {
                announced: announced.clone(),
                selected,
                len: key_len,
            },
        },
    }
}

/// Per-class errors between two equally long bit strings whose class planes are `lo`, `hi`.
fn errors_per_class(a: &BitBlock, b: &[u64], lo: &[u64], hi: &[u64]) -> [u64; CLASSES] {
    let diff: Vec<u64> = a.words().iter().zip(b).map(|(x, y)| x ^ y).collect();
    words::count_per_class(&diff, lo, hi)
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
                    let r = vacuous_decoy_reason(&estimate, d, &b, cfg.key_basis)?;
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

/// Why a single-photon bound of `b` is zero: inconsistent statistics, or too few events.
fn vacuous_decoy_reason(
    estimate: &Estimate,
    d: &DecoyConfig,
    b: &DecoyBounds,
    key_basis: Basis,
) -> Result<AbortReason, SiftingError> {
    let stats = estimate.decoy_statistics(d);
    let [key, test] = stats.single_photon_spread(d.method, d.eps_sec)?;
    let key_vacuous = b.s_x1.value <= 0.0;
    let test_vacuous = b.s_z1.value <= 0.0;
    let inconsistent = if key_vacuous && key.is_inconsistent() {
        Some((key_basis, key))
    } else if test_vacuous && test.is_inconsistent() {
        Some((key_basis.other(), test))
    } else {
        None
    };
    if let Some((basis, sp)) = inconsistent {
        return Ok(AbortReason::DecoyInconsistent {
            s_x1: b.s_x1.value,
            s_z1: b.s_z1.value,
            basis,
            central: sp.central,
            std_error: sp.std_error,
        });
    }
    let (basis, counts, spread) = if key_vacuous {
        (key_basis, &stats.key, key)
    } else {
        (key_basis.other(), &stats.test, test)
    };
    // The classes the method uses (one-decoy: no vacuum class); report the scarcest.
    let used = match d.method {
        DecoyMethod::TwoDecoy => CLASSES,
        DecoyMethod::OneDecoy => CLASSES - 1,
    };
    let k = (0..used).min_by_key(|&k| counts.detections[k]).unwrap_or(0);
    let observed = counts.total_detections();
    let required = spread.scale_to_certify().map(|t| {
        // A count estimate, rounded up; saturates far beyond any block.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let r = (t * observed as f64).ceil() as u64;
        r
    });
    Ok(AbortReason::TooFewDecoyEvents {
        basis,
        class: IntensityClass::ALL[k],
        class_events: counts.detections[k],
        observed,
        required,
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

/// Alice's planes re-indexed by Bob's announcement, when her table is not the announced list
/// itself: `known` marks announced slots she has; `planes` are bases, bits, intensity lo, hi.
struct Merged {
    known: Vec<u64>,
    planes: [Zeroizing<Vec<u64>>; 4],
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

    /// Looks Bob's announced slots up in Alice's table (both lists increase: one merge pass).
    fn merge(&self, slots: &[u64]) -> Merged {
        let r = &self.records;
        let mine = r.slots.as_slice();
        let nw = slots.len().div_ceil(64);
        let mut known = vec![0u64; nw];
        let mut planes: [Zeroizing<Vec<u64>>; 4] =
            std::array::from_fn(|_| Zeroizing::new(vec![0u64; nw]));
        let src = [
            r.bases.words(),
            r.bits.words(),
            r.intensity_lo.words(),
            r.intensity_hi.words(),
        ];
        let mut j = 0usize;
        for (i, &s) in slots.iter().enumerate() {
            j += mine[j..].partition_point(|&m| m < s);
            if mine.get(j) == Some(&s) {
                known[i / 64] |= 1 << (i % 64);
                for (p, w) in planes.iter_mut().zip(src) {
                    p[i / 64] |= (w[j / 64] >> (j % 64) & 1) << (i % 64);
                }
            }
        }
        Merged { known, planes }
    }

    fn on_announce(
        &mut self,
        slots: &Slots,
        bases: &BitBlock,
    ) -> Result<SiftMessage, SiftingError> {
        let n = slots.len();
        if n != bases.len() {
            return Err(SiftingError::LengthMismatch {
                what: "announced slots/bases",
                left: n,
                right: bases.len(),
            });
        }
        let r = &self.records;
        // Her table is usually the announced list itself (shared, or equal element by element);
        // otherwise look every announced slot up.
        let merged = (r.slots != *slots).then(|| self.merge(slots.as_slice()));
        let [a_bases, a_bits, a_lo, a_hi]: [&[u64]; 4] = match &merged {
            None => [
                r.bases.words(),
                r.bits.words(),
                r.intensity_lo.words(),
                r.intensity_hi.words(),
            ],
            Some(m) => std::array::from_fn(|i| m.planes[i].as_slice()),
        };
        // Keep: bases match (and, after a merge, Alice knows the slot).
        let mut keep: Vec<u64> = a_bases
            .iter()
            .zip(bases.words())
            .map(|(&a, &b)| !(a ^ b))
            .collect();
        if let Some(m) = &merged {
            keep.iter_mut().zip(&m.known).for_each(|(k, &kn)| *k &= kn);
        }
        words::trim(&mut keep, n);
        let (key_mask, test_mask) = basis_masks(&keep, a_bases, self.cfg.key_basis);
        // Key bits in plain vectors are wiped when dropped.
        let ([kb_bits, kb_lo, kb_hi], n_key) =
            words::compress_planes([a_bits, a_lo, a_hi], &key_mask);
        let kb_bits = Zeroizing::new(kb_bits);
        let kb = KeyBasis {
            bits: &kb_bits,
            lo: &kb_lo,
            hi: &kb_hi,
            len: n_key,
        };
        let k = sample_size(&self.cfg, n_key)?;
        let sample_seed = qkd_core::derive_seed(self.seed, "qkd-sifting sample", 0);
        let map = sample_bitmap(n_key, k, sample_seed);
        let sp = split_key(&kb, &map, &key_mask, slots);
        let test = compress_block(a_bits, &test_mask);
        let [intensity_lo, intensity_hi] = compress_blocks2([a_lo, a_hi], &keep);
        self.state = Some(AliceState {
            announced: n as u64,
            sifted: words::weight(&keep) as u64,
            key_counts: sp.key_counts,
            sample_counts: sp.sample_counts,
            test_counts: words::count_per_class(&test_mask, a_lo, a_hi),
            key: sp.key,
        });
        Ok(SiftMessage::Reply {
            keep: BitBlock::from_words(&keep, n)?,
            intensity_lo,
            intensity_hi,
            sample_seed,
            sample_bits: k as u64,
            sample: sp.sample_bits,
            test,
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

/// Alice's reply, as Bob receives it.
struct Reply<'a> {
    keep: &'a BitBlock,
    lo: &'a BitBlock,
    hi: &'a BitBlock,
    seed: u64,
    k: u64,
    sample: &'a BitBlock,
    test: &'a BitBlock,
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

    fn on_reply(
        &mut self,
        r: &BobRecords,
        a: &Reply<'_>,
    ) -> Result<(SiftMessage, SiftOutput), SiftingError> {
        let n = r.len();
        if a.keep.len() != n {
            return Err(SiftingError::LengthMismatch {
                what: "keep/announced",
                left: a.keep.len(),
                right: n,
            });
        }
        let keep = a.keep.words();
        let n_kept = words::weight(keep);
        if a.lo.len() != n_kept || a.hi.len() != n_kept {
            return Err(SiftingError::LengthMismatch {
                what: "intensities/kept",
                left: a.lo.len(),
                right: n_kept,
            });
        }
        let (key_mask, test_mask) = basis_masks(keep, r.bases.words(), self.cfg.key_basis);
        // The masks in kept order select Alice's intensity codes (sent for kept slots only).
        let key_k = words::compress(&key_mask, keep).0;
        // Kept records not in the key basis are in the test basis.
        let mut test_k: Vec<u64> = key_k.iter().map(|&m| !m).collect();
        words::trim(&mut test_k, n_kept);
        // Key bits in plain vectors are wiped when dropped.
        let (kb_bits, n_key) = words::compress(r.bits.words(), &key_mask);
        let kb_bits = Zeroizing::new(kb_bits);
        let ([kb_lo, kb_hi], _) = words::compress_planes([a.lo.words(), a.hi.words()], &key_k);
        let kb = KeyBasis {
            bits: &kb_bits,
            lo: &kb_lo,
            hi: &kb_hi,
            len: n_key,
        };
        let k = usize::try_from(a.k).ok().filter(|&k| k <= n_key).ok_or(
            SiftingError::SampleTooLarge {
                sample: a.k,
                available: n_key as u64,
            },
        )?;
        let map = sample_bitmap(n_key, k, a.seed);
        let sp = split_key(&kb, &map, &key_mask, &r.slots);
        let (b_test, n_test) = words::compress(r.bits.words(), &test_mask);
        let b_test = Zeroizing::new(b_test);
        if a.sample.len() != k || a.test.len() != n_test {
            return Err(SiftingError::LengthMismatch {
                what: "disclosed bits",
                left: a.sample.len() + a.test.len(),
                right: k + n_test,
            });
        }
        let sample_errors = errors_per_class(
            a.sample,
            sp.sample_bits.words(),
            &sp.sample_lo,
            &sp.sample_hi,
        );
        let ([test_lo, test_hi], _) = words::compress_planes([a.lo.words(), a.hi.words()], &test_k);
        let test_errors = errors_per_class(a.test, &b_test, &test_lo, &test_hi);
        let test_counts = words::class_counts(&test_lo, &test_hi, n_test);
        let out = conclude(
            &self.cfg,
            n as u64,
            n_kept as u64,
            sp.key_counts,
            sp.sample_counts,
            sample_errors,
            BasisCounts::new(test_counts, test_errors),
            sp.key,
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
            slots: r.slots.clone(),
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
                let reply = Reply {
                    keep: &keep,
                    lo: &intensity_lo,
                    hi: &intensity_hi,
                    seed: sample_seed,
                    k: sample_bits,
                    sample: &sample,
                    test: &test,
                };
                let (msg, out) = self
                    .on_reply(&r, &reply)
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
        #[test]
        fn sample_bitmap_has_exactly_k_positions(n in 1usize..5000, frac in 0.0f64..1.0, seed in any::<u64>()) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let k = (frac * n as f64) as usize;
            let mut map = sample_bitmap(n, k, seed);
            words::trim(&mut map, n);
            prop_assert_eq!(words::weight(&map), k);
        }
    }

    #[test]
    fn elias_gamma_size_of_slot_gaps() {
        // Gaps 1, 1, 2, 4: 1 + 1 + 3 + 5 bits.
        assert_eq!(Slots::new(vec![0, 1, 3, 7]).unwrap().gap_code_bits(), 10);
    }
}
