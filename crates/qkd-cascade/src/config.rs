//! Variants, block-size schedules and the validated configuration.
//!
//! The published block-size rules (RECONCILIATION.md; Brassard & Salvail 1993; Buttler et al. 2003;
//! Yan et al. 2008; Martinez-Mateo et al., "Demystifying the information reconciliation protocol
//! Cascade", QIC 15, 2015) are expressed as a [`BlockSchedule`]: one [`BlockRule`] per pass, the last
//! rule repeated for the remaining passes. A custom schedule is built the same way.

use qkd_core::Qber;

use crate::CascadeError;

/// How the block size of one pass is derived from the QBER estimate `Q`, the key length `n` and the
/// previous pass's block size.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum BlockRule {
    /// `ceil(c / Q)` (original: c = 0.73; BICONF: 0.92; Yan et al.: 0.80; options 3/4: 1).
    QberScaled(f64),
    /// `2^ceil(log2(1 / Q))` (option 7's first pass).
    PowerOfTwoOverQber,
    /// Option 8's first pass: `2^ceil(a)` with `a = log2(1/Q) - 0.5`.
    Option8First,
    /// Option 8's second pass: `2^ceil((a + 12) / 2)` with `a = log2(1/Q) - 0.5`.
    Option8Second,
    /// A fixed size in bits.
    Fixed(usize),
    /// The previous pass's size times this factor.
    TimesPrevious(usize),
    /// `n / 2` (two blocks per pass).
    HalfKey,
}

impl BlockRule {
    /// The block size for a key of `n` bits, QBER estimate `q` and previous size `prev` (the first
    /// pass uses `prev = 1`). Clamped to `1..=n`.
    #[must_use]
    pub fn size(self, n: usize, q: f64, prev: usize) -> usize {
        let a = (1.0 / q).log2() - 0.5;
        let raw: f64 = match self {
            BlockRule::QberScaled(c) => (c / q).ceil(),
            BlockRule::PowerOfTwoOverQber => (1.0 / q).log2().ceil().exp2(),
            BlockRule::Option8First => a.ceil().exp2(),
            BlockRule::Option8Second => f64::midpoint(a, 12.0).ceil().exp2(),
            BlockRule::Fixed(k) => return k.clamp(1, n),
            BlockRule::TimesPrevious(m) => return prev.saturating_mul(m).clamp(1, n),
            BlockRule::HalfKey => return (n / 2).clamp(1, n),
        };
        // `raw` is a positive whole number (ceil of a finite positive value, or a power of two);
        // values past n are clamped, so the conversion is exact where it matters.
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let k = if raw.is_finite() && raw < n as f64 {
            raw as usize
        } else {
            n
        };
        k.clamp(1, n)
    }
}

/// Block sizes pass by pass: `rules[i]` for pass `i`, the last rule repeated up to `passes`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BlockSchedule {
    /// The rule of each pass; the last one is repeated.
    pub rules: Vec<BlockRule>,
    /// Number of Cascade passes.
    pub passes: usize,
}

impl BlockSchedule {
    /// A schedule of `passes` passes with these rules (validated by [`CascadeConfigBuilder::build`]).
    #[must_use]
    pub fn new(rules: Vec<BlockRule>, passes: usize) -> Self {
        Self { rules, passes }
    }

    /// The resolved block sizes for `n` bits at QBER estimate `q`.
    #[must_use]
    pub fn block_sizes(&self, n: usize, q: f64) -> Vec<usize> {
        let mut out = Vec::with_capacity(self.passes);
        let mut prev = 1usize;
        for i in 0..self.passes {
            let rule = self.rules[i.min(self.rules.len().saturating_sub(1))];
            let k = rule.size(n, q, prev);
            out.push(k);
            prev = k;
        }
        out
    }
}

/// The published Cascade variants (RECONCILIATION.md, "Block-size rules of the published variants").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Variant {
    /// Brassard & Salvail 1993: k1 = ceil(0.73/Q), doubled each pass, 4 passes.
    Original,
    /// Buttler et al. 2003: k1 = ceil(0.92/Q), x3, 2 passes, then BICONF until 10 clean rounds.
    Biconf,
    /// Yan et al. 2008: k1 = ceil(0.80/Q), k2 = 5 k1, then n/2; 10 passes.
    Yan,
    /// Martinez-Mateo et al. option 3: k1 = ceil(1/Q), k2 = 2 k1, then n/2; 16 passes.
    Option3,
    /// Option 3 with sub-block parity reuse.
    Option4,
    /// Option 7: k1 = 2^ceil(log2(1/Q)), k2 = 4 k1, then n/2; 14 passes; sub-block reuse.
    Option7,
    /// Option 8: k1 = 2^ceil(a), k2 = 2^ceil((a+12)/2), k3 = 4096, then n/2 with
    /// a = log2(1/Q) - 0.5; 14 passes; sub-block reuse.
    Option8,
    /// Ours, not published: k1 = 2^ceil(log2(1/Q)) (option 7's), k2 = 2 k1, k3 = 16 k1, then
    /// n/2; 11 passes; sub-block reuse and block-parity inference. Found with the example
    /// `schedule_search` (docs/cascade.md): the lowest leak of our schedules at QBER 1-2 % with
    /// FER <= 1e-3, and about 40 % fewer round trips than options 7/8 there. At 5-10 % options 7
    /// and 8 leak less.
    LowQber,
}

impl Variant {
    /// Every variant: the published ones in the order of RECONCILIATION.md, then ours.
    pub const ALL: [Variant; 8] = [
        Variant::Original,
        Variant::Biconf,
        Variant::Yan,
        Variant::Option3,
        Variant::Option4,
        Variant::Option7,
        Variant::Option8,
        Variant::LowQber,
    ];

    /// The short name used in algorithm names (`cascade-<name>`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Biconf => "biconf",
            Variant::Yan => "yan",
            Variant::Option3 => "option3",
            Variant::Option4 => "option4",
            Variant::Option7 => "option7",
            Variant::Option8 => "option8",
            Variant::LowQber => "lowqber",
        }
    }

    /// The variant with this short name (`"yanetal"` is accepted for [`Variant::Yan`]).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "yanetal" | "yan-et-al" => Some(Variant::Yan),
            _ => Variant::ALL.into_iter().find(|v| v.name() == name),
        }
    }

    /// The block-size schedule of this variant (published, except [`Variant::LowQber`]).
    #[must_use]
    pub fn schedule(self) -> BlockSchedule {
        use BlockRule as R;
        match self {
            Variant::Original => {
                BlockSchedule::new(vec![R::QberScaled(0.73), R::TimesPrevious(2)], 4)
            }
            Variant::Biconf => {
                BlockSchedule::new(vec![R::QberScaled(0.92), R::TimesPrevious(3)], 2)
            }
            Variant::Yan => BlockSchedule::new(
                vec![R::QberScaled(0.80), R::TimesPrevious(5), R::HalfKey],
                10,
            ),
            Variant::Option3 | Variant::Option4 => BlockSchedule::new(
                vec![R::QberScaled(1.0), R::TimesPrevious(2), R::HalfKey],
                16,
            ),
            Variant::Option7 => BlockSchedule::new(
                vec![R::PowerOfTwoOverQber, R::TimesPrevious(4), R::HalfKey],
                14,
            ),
            Variant::Option8 => BlockSchedule::new(
                vec![
                    R::Option8First,
                    R::Option8Second,
                    R::Fixed(4096),
                    R::HalfKey,
                ],
                14,
            ),
            Variant::LowQber => BlockSchedule::new(
                vec![
                    R::PowerOfTwoOverQber,
                    R::TimesPrevious(2),
                    R::TimesPrevious(8),
                    R::HalfKey,
                ],
                11,
            ),
        }
    }

    /// The variant's full configuration with its published switches.
    #[must_use]
    pub fn config(self) -> CascadeConfig {
        let reuse = matches!(
            self,
            Variant::Option4 | Variant::Option7 | Variant::Option8 | Variant::LowQber
        );
        CascadeConfig {
            schedule: self.schedule(),
            shuffle: ShuffleMode::FirstPassIdentity,
            sub_block_reuse: reuse,
            block_parity_inference: self == Variant::LowQber,
            biconf: (self == Variant::Biconf).then(BiconfConfig::default),
            confirmation: true,
            tag_bits: 64,
        }
    }
}

/// How the key is shuffled before each pass (the shuffle is public: both parties derive it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ShuffleMode {
    /// First pass in key order, every later pass a fresh random permutation from the shared seed
    /// (the original protocol and the public implementations).
    #[default]
    FirstPassIdentity,
    /// Every pass, the first included, shuffled with a fresh permutation from the shared seed.
    EveryPass,
    /// "Deterministic shuffles" (Martinez-Mateo et al. 2015): fixed permutations that depend only on
    /// the key length and the pass, the same for every frame, computed once and shared by all
    /// frames. On a memoryless channel they reconcile as well as random ones and save the
    /// per-frame permutation cost.
    Deterministic,
}

/// BICONF (Buttler et al. 2003): after the Cascade passes, compare the parity of a random half of
/// the key; on a mismatch, bisect it. Stop after `streak` consecutive clean rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BiconfConfig {
    /// Consecutive rounds without a parity mismatch that end BICONF (10 in the public variant).
    pub streak: usize,
    /// Upper bound on BICONF rounds (a frame that still has errors then fails confirmation).
    pub max_rounds: usize,
    /// Also bisect the complement of the subset when its parity differs (its parity is inferred
    /// from the whole-key parity when `block_parity_inference` is on, else asked).
    pub correct_complement: bool,
    /// Cascade BICONF corrections into the earlier passes' blocks. Off in the published variant
    /// (the public implementations' `biconf`; their `biconf-cascade` turns it on: switch
    /// `+biconf-cascade`).
    pub cascade: bool,
}

impl Default for BiconfConfig {
    fn default() -> Self {
        Self {
            streak: 10,
            max_rounds: 200,
            correct_complement: false,
            cascade: false,
        }
    }
}

/// The full configuration of a Cascade run. Build custom ones with [`CascadeConfig::builder`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct CascadeConfig {
    /// Block sizes per pass.
    pub schedule: BlockSchedule,
    /// How passes are shuffled.
    pub shuffle: ShuffleMode,
    /// Sub-block reuse (Martinez-Mateo et al. 2015, options 4/7/8): when a corrected bit leaves a
    /// block of an earlier pass with an even number of errors, still search the smallest sub-block
    /// on that bit's path whose parity Alice disclosed in an earlier search and which now holds an
    /// odd number of errors. (Parities once disclosed are never asked again in any variant.)
    pub sub_block_reuse: bool,
    /// Infer the parity of the last block of each pass after the first from the whole-key parity
    /// (known from the first pass): one parity fewer per pass.
    pub block_parity_inference: bool,
    /// BICONF rounds after the Cascade passes, if any.
    pub biconf: Option<BiconfConfig>,
    /// Confirm the result with a polynomial hash tag (counted in the ledger); a mismatch fails
    /// the frame. Turn off only to study residual errors.
    pub confirmation: bool,
    /// Confirmation tag length t in bits, 1..=64 (default 64). The tag is the low t bits of the
    /// GF(2^64) polynomial hash; two different keys of n bits collide with probability at most
    /// `eps_cor = (ceil(n/64) + 1) / 2^t` ([`CascadeConfig::eps_cor`]): the tag difference is a
    /// nonzero polynomial of degree at most `ceil(n/64) + 1` in the hash point, and for each of the
    /// `2^(64-t)` values whose low t bits vanish it has at most that many roots. A shorter tag
    /// discloses fewer bits and is a legitimate choice only with this larger eps_cor.
    pub tag_bits: u8,
}

impl Default for CascadeConfig {
    /// The original protocol.
    fn default() -> Self {
        Variant::Original.config()
    }
}

impl CascadeConfig {
    /// A builder starting from the original protocol.
    #[must_use]
    pub fn builder() -> CascadeConfigBuilder {
        CascadeConfigBuilder {
            config: CascadeConfig::default(),
        }
    }

    /// A builder starting from a published variant.
    #[must_use]
    pub fn builder_from(variant: Variant) -> CascadeConfigBuilder {
        CascadeConfigBuilder {
            config: variant.config(),
        }
    }

    /// The correctness error of the confirmation for keys of `n_bits` bits: the probability
    /// that a frame with residual errors passes, `(ceil(n/64) + 1) / 2^tag_bits` (1 without
    /// confirmation).
    #[must_use]
    pub fn eps_cor(&self, n_bits: usize) -> f64 {
        if !self.confirmation {
            return 1.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let degree = (n_bits.div_ceil(64) + 1) as f64;
        (degree * (-f64::from(self.tag_bits)).exp2()).min(1.0)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`CascadeError::InvalidConfig`] for an empty schedule, zero passes, more than 1000 passes,
    /// a non-positive or non-finite scale, a zero fixed size or factor, or a BICONF streak of zero.
    pub fn validate(&self) -> Result<(), CascadeError> {
        let s = &self.schedule;
        if s.rules.is_empty() || s.passes == 0 {
            return Err(CascadeError::InvalidConfig(
                "a schedule needs at least one rule and one pass".into(),
            ));
        }
        if s.passes > 1000 {
            return Err(CascadeError::InvalidConfig(format!(
                "{} passes is more than the 1000 supported",
                s.passes
            )));
        }
        for r in &s.rules {
            match *r {
                BlockRule::QberScaled(c) if !(c.is_finite() && c > 0.0) => {
                    return Err(CascadeError::InvalidConfig(format!(
                        "block scale {c} must be finite and positive"
                    )));
                }
                BlockRule::Fixed(0) | BlockRule::TimesPrevious(0) => {
                    return Err(CascadeError::InvalidConfig(
                        "fixed block sizes and factors must be at least 1".into(),
                    ));
                }
                _ => {}
            }
        }
        if !(1..=64).contains(&self.tag_bits) {
            return Err(CascadeError::InvalidConfig(format!(
                "a confirmation tag of {} bits is outside 1..=64",
                self.tag_bits
            )));
        }
        if let Some(b) = &self.biconf
            && (b.streak == 0 || b.max_rounds == 0)
        {
            return Err(CascadeError::InvalidConfig(
                "BICONF needs a streak and a round budget of at least 1".into(),
            ));
        }
        Ok(())
    }
}

/// Builder of a [`CascadeConfig`]; [`CascadeConfigBuilder::build`] validates.
///
/// ```
/// use qkd_cascade::{BlockRule, CascadeConfig, ShuffleMode};
/// let config = CascadeConfig::builder()
///     .rules(vec![BlockRule::QberScaled(1.0), BlockRule::TimesPrevious(2), BlockRule::HalfKey])
///     .passes(12)
///     .sub_block_reuse(true)
///     .block_parity_inference(true)
///     .shuffle(ShuffleMode::Deterministic)
///     .build()?;
/// assert_eq!(config.schedule.block_sizes(10_000, 0.02)[..3], [50, 100, 5000]);
/// # Ok::<(), qkd_cascade::CascadeError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CascadeConfigBuilder {
    config: CascadeConfig,
}

impl CascadeConfigBuilder {
    /// The block rules (the last one repeats).
    #[must_use]
    pub fn rules(mut self, rules: Vec<BlockRule>) -> Self {
        self.config.schedule.rules = rules;
        self
    }

    /// The number of Cascade passes.
    #[must_use]
    pub fn passes(mut self, passes: usize) -> Self {
        self.config.schedule.passes = passes;
        self
    }

    /// The shuffle mode.
    #[must_use]
    pub fn shuffle(mut self, shuffle: ShuffleMode) -> Self {
        self.config.shuffle = shuffle;
        self
    }

    /// Sub-block parity reuse on or off.
    #[must_use]
    pub fn sub_block_reuse(mut self, on: bool) -> Self {
        self.config.sub_block_reuse = on;
        self
    }

    /// Block-parity inference on or off.
    #[must_use]
    pub fn block_parity_inference(mut self, on: bool) -> Self {
        self.config.block_parity_inference = on;
        self
    }

    /// BICONF after the passes (`None`: no BICONF).
    #[must_use]
    pub fn biconf(mut self, biconf: Option<BiconfConfig>) -> Self {
        self.config.biconf = biconf;
        self
    }

    /// Confirmation on or off.
    #[must_use]
    pub fn confirmation(mut self, on: bool) -> Self {
        self.config.confirmation = on;
        self
    }

    /// Confirmation tag length in bits (1..=64; see [`CascadeConfig::tag_bits`]).
    #[must_use]
    pub fn tag_bits(mut self, bits: u8) -> Self {
        self.config.tag_bits = bits;
        self
    }

    /// The validated configuration.
    ///
    /// # Errors
    /// As [`CascadeConfig::validate`].
    pub fn build(self) -> Result<CascadeConfig, CascadeError> {
        self.config.validate()?;
        Ok(self.config)
    }
}

/// The supported QBER estimates: the open interval (0, 0.5).
///
/// # Errors
/// [`CascadeError::UnsupportedQber`] outside (0, 0.5).
pub fn check_qber(q: Qber) -> Result<f64, CascadeError> {
    let v = q.value();
    if v > 0.0 && v < 0.5 {
        Ok(v)
    } else {
        Err(CascadeError::UnsupportedQber { qber: v })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_schedules_at_two_percent() {
        let n = 10_000;
        let q = 0.02;
        assert_eq!(
            Variant::Original.schedule().block_sizes(n, q),
            [37, 74, 148, 296]
        );
        assert_eq!(Variant::Biconf.schedule().block_sizes(n, q), [46, 138]);
        let yan = Variant::Yan.schedule().block_sizes(n, q);
        assert_eq!(yan[..3], [40, 200, 5000]);
        assert_eq!(yan.len(), 10);
        let o3 = Variant::Option3.schedule().block_sizes(n, q);
        assert_eq!(o3[..3], [50, 100, 5000]);
        assert_eq!(o3.len(), 16);
        // 1/0.02 = 50 -> 2^6 = 64.
        assert_eq!(
            Variant::Option7.schedule().block_sizes(n, q)[..3],
            [64, 256, 5000]
        );
        // a = log2(50) - 0.5 = 5.14 -> k1 = 2^6 = 64, k2 = 2^ceil(8.57) = 512.
        let o8 = Variant::Option8.schedule().block_sizes(n, q);
        assert_eq!(o8[..4], [64, 512, 4096, 5000]);
        assert_eq!(o8.len(), 14);
        // Q = 1 %: k1 = 2^ceil(log2 100) = 128, 256, 2048, then n/2.
        let low = Variant::LowQber.schedule().block_sizes(n, 0.01);
        assert_eq!(low[..5], [128, 256, 2048, 5000, 5000]);
        assert_eq!(low.len(), 11);
    }

    #[test]
    fn names_round_trip() {
        for v in Variant::ALL {
            assert_eq!(Variant::from_name(v.name()), Some(v));
        }
        assert_eq!(Variant::from_name("yanetal"), Some(Variant::Yan));
        assert_eq!(Variant::from_name("nope"), None);
    }

    #[test]
    fn builder_rejects_bad_schedules() {
        assert!(CascadeConfig::builder().passes(0).build().is_err());
        assert!(CascadeConfig::builder().rules(vec![]).build().is_err());
        assert!(
            CascadeConfig::builder()
                .rules(vec![BlockRule::QberScaled(f64::NAN)])
                .build()
                .is_err()
        );
        assert!(
            CascadeConfig::builder()
                .rules(vec![BlockRule::Fixed(0)])
                .build()
                .is_err()
        );
        let bad_biconf = BiconfConfig {
            streak: 0,
            ..BiconfConfig::default()
        };
        assert!(
            CascadeConfig::builder()
                .biconf(Some(bad_biconf))
                .build()
                .is_err()
        );
    }

    #[test]
    fn eps_cor_follows_the_tag_length() {
        let mut c = CascadeConfig::default();
        // n = 10,000: 157 words + 1 = 158 over 2^64.
        assert!((c.eps_cor(10_000) - 158.0 / 2f64.powi(64)).abs() < 1e-30);
        c.tag_bits = 32;
        assert!((c.eps_cor(10_000) - 158.0 / 2f64.powi(32)).abs() < 1e-15);
        c.confirmation = false;
        assert!((c.eps_cor(10_000) - 1.0).abs() < f64::EPSILON);
        assert!(CascadeConfig::builder().tag_bits(0).build().is_err());
        assert!(CascadeConfig::builder().tag_bits(65).build().is_err());
        assert!(CascadeConfig::builder().tag_bits(1).build().is_ok());
    }

    #[test]
    fn sizes_are_clamped_to_the_key() {
        assert_eq!(BlockRule::QberScaled(0.73).size(10, 0.001, 1), 10);
        assert_eq!(BlockRule::TimesPrevious(2).size(10, 0.1, 8), 10);
        assert_eq!(BlockRule::HalfKey.size(1, 0.1, 1), 1);
    }
}
