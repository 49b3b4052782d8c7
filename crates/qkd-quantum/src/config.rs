//! Configuration of a simulated link: source, channel, detectors, eavesdropper.
//!
//! Every number carries its unit in its name. Each config has `Default`, `validate()`, and (for the
//! ones with many fields) a builder whose `build()` validates. [`LinkConfig`] ties them together.

use qkd_core::IntensityClass;

use crate::error::{QuantumError, check_non_negative, check_positive, check_probability};

/// A weak-coherent-pulse source with phase randomisation and three decoy intensity classes.
///
/// Phase randomisation makes each pulse a Poisson mixture of photon-number states (Lo, Ma, Chen,
/// PRL 94, 230504 (2005)); the simulator therefore samples a Poisson photon number per pulse.
/// The basis choice is biased (efficient BB84, Lo, Chau, Ardehali, J. Cryptol. 18, 133 (2005)):
/// Z with probability `z_basis_probability`.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SourceConfig {
    /// Mean photon number of the signal class (mu1).
    pub mu_signal: f64,
    /// Mean photon number of the decoy class (mu2).
    pub mu_decoy: f64,
    /// Mean photon number of the vacuum / weakest class (mu3, usually 0).
    pub mu_vacuum: f64,
    /// Probability of sending a signal pulse.
    pub p_signal: f64,
    /// Probability of sending a decoy pulse.
    pub p_decoy: f64,
    /// Probability of sending a vacuum pulse.
    pub p_vacuum: f64,
    /// Probability that Alice prepares in the Z basis.
    pub z_basis_probability: f64,
    /// Pulse repetition rate in Hz.
    pub rate_hz: f64,
}

impl Default for SourceConfig {
    /// mu = 0.5 / 0.1 / 0, class probabilities 0.7 / 0.2 / 0.1, Z with probability 0.9, 1 GHz.
    fn default() -> Self {
        Self {
            mu_signal: 0.5,
            mu_decoy: 0.1,
            mu_vacuum: 0.0,
            p_signal: 0.7,
            p_decoy: 0.2,
            p_vacuum: 0.1,
            z_basis_probability: 0.9,
            rate_hz: 1e9,
        }
    }
}

impl SourceConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> SourceConfigBuilder {
        SourceConfigBuilder(Self::default())
    }

    /// Mean photon number of `class`.
    #[must_use]
    pub fn mu(&self, class: IntensityClass) -> f64 {
        match class {
            IntensityClass::Signal => self.mu_signal,
            IntensityClass::Decoy => self.mu_decoy,
            IntensityClass::Vacuum => self.mu_vacuum,
        }
    }

    /// Probability of `class`.
    #[must_use]
    pub fn probability(&self, class: IntensityClass) -> f64 {
        match class {
            IntensityClass::Signal => self.p_signal,
            IntensityClass::Decoy => self.p_decoy,
            IntensityClass::Vacuum => self.p_vacuum,
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`], [`QuantumError::NotNormalized`] (class probabilities),
    /// [`QuantumError::InvalidParameter`] (negative mu, non-positive rate),
    /// [`QuantumError::MuOrdering`] unless `mu_signal > mu_decoy + mu_vacuum` and
    /// `mu_decoy > mu_vacuum >= 0`.
    pub fn validate(&self) -> Result<(), QuantumError> {
        check_non_negative("mu_signal", self.mu_signal)?;
        check_non_negative("mu_decoy", self.mu_decoy)?;
        check_non_negative("mu_vacuum", self.mu_vacuum)?;
        if self.mu_signal > 50.0 {
            return Err(QuantumError::InvalidParameter {
                name: "mu_signal",
                value: self.mu_signal,
                reason: "a weak coherent source has mu well below 50",
            });
        }
        if !(self.mu_signal > self.mu_decoy + self.mu_vacuum && self.mu_decoy > self.mu_vacuum) {
            return Err(QuantumError::MuOrdering {
                signal: self.mu_signal,
                decoy: self.mu_decoy,
                vacuum: self.mu_vacuum,
            });
        }
        check_probability("p_signal", self.p_signal)?;
        check_probability("p_decoy", self.p_decoy)?;
        check_probability("p_vacuum", self.p_vacuum)?;
        let sum = self.p_signal + self.p_decoy + self.p_vacuum;
        if (sum - 1.0).abs() > 1e-9 {
            return Err(QuantumError::NotNormalized {
                name: "class probabilities",
                sum,
            });
        }
        check_probability("z_basis_probability", self.z_basis_probability)?;
        check_positive("rate_hz", self.rate_hz)?;
        Ok(())
    }
}

/// Builder of [`SourceConfig`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct SourceConfigBuilder(SourceConfig);

impl SourceConfigBuilder {
    /// Mean photon numbers of signal, decoy and vacuum classes.
    pub fn mu(mut self, signal: f64, decoy: f64, vacuum: f64) -> Self {
        self.0.mu_signal = signal;
        self.0.mu_decoy = decoy;
        self.0.mu_vacuum = vacuum;
        self
    }

    /// Probabilities of signal, decoy and vacuum classes (must sum to one).
    pub fn class_probabilities(mut self, signal: f64, decoy: f64, vacuum: f64) -> Self {
        self.0.p_signal = signal;
        self.0.p_decoy = decoy;
        self.0.p_vacuum = vacuum;
        self
    }

    /// Probability of the Z basis.
    pub fn z_basis_probability(mut self, p: f64) -> Self {
        self.0.z_basis_probability = p;
        self
    }

    /// Repetition rate in Hz.
    pub fn rate_hz(mut self, rate_hz: f64) -> Self {
        self.0.rate_hz = rate_hz;
        self
    }

    /// The validated config.
    ///
    /// # Errors
    /// See [`SourceConfig::validate`].
    pub fn build(self) -> Result<SourceConfig, QuantumError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

/// The quantum channel between Alice's source and Bob's detectors.
///
/// `transmittance` is the fiber's (and Bob's optics') transmittance excluding detector efficiency;
/// qkd-fiber will compute it from a loss budget. `misalignment` is e_d (PHYSICS.md), applied as the
/// rotation [`crate::state::Unitary::misalignment`]. `noise_photons_per_gate` is the mean number of
/// extra noise photons (Raman, filter leakage) that reach the detectors per gate, already
/// including detection efficiency (PHYSICS.md: click probability `1 - exp(-n)`); they are
/// unpolarised and split evenly between the two detectors.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct ChannelConfig {
    /// Channel transmittance in `[0, 1]` (detector efficiency excluded).
    pub transmittance: f64,
    /// Misalignment error probability e_d.
    pub misalignment: f64,
    /// Mean extra noise photons detected per gate.
    pub noise_photons_per_gate: f64,
}

impl Default for ChannelConfig {
    /// 50 km of 0.2 dB/km fiber (10 dB), e_d = 1 %, no extra noise.
    fn default() -> Self {
        Self {
            transmittance: 0.1,
            misalignment: 0.01,
            noise_photons_per_gate: 0.0,
        }
    }
}

impl ChannelConfig {
    /// A channel of `loss_db` total loss, e_d = 1 %, no extra noise.
    ///
    /// # Errors
    /// [`QuantumError::InvalidParameter`] if `loss_db` is negative or not finite.
    pub fn from_loss_db(loss_db: f64) -> Result<Self, QuantumError> {
        check_non_negative("loss_db", loss_db)?;
        Ok(Self {
            transmittance: 10f64.powf(-loss_db / 10.0),
            ..Self::default()
        })
    }

    /// A fiber of `length_km` at `alpha_db_per_km`: transmittance `10^(-alpha L / 10)`.
    ///
    /// # Errors
    /// [`QuantumError::InvalidParameter`] for a negative or non-finite length or attenuation.
    pub fn fiber(length_km: f64, alpha_db_per_km: f64) -> Result<Self, QuantumError> {
        check_non_negative("length_km", length_km)?;
        check_non_negative("alpha_db_per_km", alpha_db_per_km)?;
        Self::from_loss_db(length_km * alpha_db_per_km)
    }

    /// The same channel with misalignment `e_d`.
    #[must_use]
    pub fn with_misalignment(mut self, e_d: f64) -> Self {
        self.misalignment = e_d;
        self
    }

    /// The same channel with `n` extra noise photons per gate.
    #[must_use]
    pub fn with_noise_photons_per_gate(mut self, n: f64) -> Self {
        self.noise_photons_per_gate = n;
        self
    }

    /// Loss in dB, `-10 log10(transmittance)`.
    #[must_use]
    pub fn loss_db(&self) -> f64 {
        -10.0 * self.transmittance.log10()
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] for a transmittance or e_d outside `[0, 1]`,
    /// [`QuantumError::InvalidParameter`] for negative noise.
    pub fn validate(&self) -> Result<(), QuantumError> {
        check_probability("transmittance", self.transmittance)?;
        check_probability("misalignment", self.misalignment)?;
        check_non_negative("noise_photons_per_gate", self.noise_photons_per_gate)?;
        Ok(())
    }
}

/// A gated InGaAs/InP single-photon avalanche diode.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SpadConfig {
    /// Detection efficiency.
    pub efficiency: f64,
    /// Dark-count probability per gate (per detector).
    pub dark_count_probability: f64,
    /// Probability that an avalanche is followed by one afterpulse.
    pub afterpulse_probability: f64,
    /// Time constant of the exponential release of trapped carriers, in ns (counted from the end
    /// of the dead time).
    pub afterpulse_decay_ns: f64,
    /// Dead time after an avalanche, in ns.
    pub dead_time_ns: f64,
}

impl Default for SpadConfig {
    /// The GHz-gated InGaAs preset of PHYSICS.md: 20 %, 1e-6 per gate, 3 % afterpulsing with a
    /// 20 ns release constant, 50 ns dead time.
    fn default() -> Self {
        Self {
            efficiency: 0.20,
            dark_count_probability: 1e-6,
            afterpulse_probability: 0.03,
            afterpulse_decay_ns: 20.0,
            dead_time_ns: 50.0,
        }
    }
}

/// A superconducting nanowire single-photon detector.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SnspdConfig {
    /// System detection efficiency.
    pub efficiency: f64,
    /// Dark-count rate in Hz (per detector).
    pub dark_count_rate_hz: f64,
    /// Timing jitter (FWHM of a Gaussian) in ps.
    pub jitter_fwhm_ps: f64,
    /// Recovery time after a detection, in ns (treated as a dead time).
    pub recovery_time_ns: f64,
}

impl Default for SnspdConfig {
    /// The SNSPD preset of PHYSICS.md: 85 %, 100 Hz dark counts, 30 ps jitter, 40 ns recovery.
    fn default() -> Self {
        Self {
            efficiency: 0.85,
            dark_count_rate_hz: 100.0,
            jitter_fwhm_ps: 30.0,
            recovery_time_ns: 40.0,
        }
    }
}

/// Bob's two detectors (one per bit value; active basis choice). Both detectors have the same
/// parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase", tag = "kind"))]
pub enum DetectorConfig {
    /// Gated InGaAs SPADs.
    Spad(SpadConfig),
    /// SNSPDs.
    Snspd(SnspdConfig),
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self::snspd()
    }
}

impl DetectorConfig {
    /// The InGaAs SPAD preset ([`SpadConfig::default`]).
    #[must_use]
    pub fn ingaas_spad() -> Self {
        Self::Spad(SpadConfig::default())
    }

    /// The SNSPD preset ([`SnspdConfig::default`]).
    #[must_use]
    pub fn snspd() -> Self {
        Self::Snspd(SnspdConfig::default())
    }

    /// The detector of the GYS parameter set (Gobby, Yuan, Shields 2004, as used by Lo, Ma, Chen
    /// 2005): efficiency 4.5 %, `Y0 = 1.7e-6` (8.5e-7 per detector), no dead time or afterpulsing.
    #[must_use]
    pub fn gys() -> Self {
        Self::Spad(SpadConfig {
            efficiency: qkd_core::presets::gys::ETA_BOB,
            dark_count_probability: qkd_core::presets::gys::DARK_COUNT_PER_DETECTOR,
            afterpulse_probability: 0.0,
            afterpulse_decay_ns: 0.0,
            dead_time_ns: 0.0,
        })
    }

    /// The same detector without memory: dead/recovery time and afterpulsing set to zero, so that
    /// the memoryless formulas of PHYSICS.md apply exactly.
    #[must_use]
    pub fn without_memory(self) -> Self {
        match self {
            Self::Spad(s) => Self::Spad(SpadConfig {
                afterpulse_probability: 0.0,
                dead_time_ns: 0.0,
                ..s
            }),
            Self::Snspd(s) => Self::Snspd(SnspdConfig {
                recovery_time_ns: 0.0,
                ..s
            }),
        }
    }

    /// Nominal detection efficiency.
    #[must_use]
    pub fn efficiency(&self) -> f64 {
        match self {
            Self::Spad(s) => s.efficiency,
            Self::Snspd(s) => s.efficiency,
        }
    }

    /// Check every field.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] or [`QuantumError::InvalidParameter`].
    pub fn validate(&self) -> Result<(), QuantumError> {
        match self {
            Self::Spad(s) => {
                check_probability("efficiency", s.efficiency)?;
                check_probability("dark_count_probability", s.dark_count_probability)?;
                check_probability("afterpulse_probability", s.afterpulse_probability)?;
                check_non_negative("afterpulse_decay_ns", s.afterpulse_decay_ns)?;
                check_non_negative("dead_time_ns", s.dead_time_ns)?;
            }
            Self::Snspd(s) => {
                check_probability("efficiency", s.efficiency)?;
                check_non_negative("dark_count_rate_hz", s.dark_count_rate_hz)?;
                check_non_negative("jitter_fwhm_ps", s.jitter_fwhm_ps)?;
                check_non_negative("recovery_time_ns", s.recovery_time_ns)?;
            }
        }
        Ok(())
    }

    /// The per-slot parameters of this detector at repetition rate `rate_hz`.
    #[must_use]
    pub fn per_slot(&self, rate_hz: f64) -> DetectorSlotModel {
        let slot_ns = 1e9 / rate_hz;
        match self {
            Self::Spad(s) => DetectorSlotModel {
                efficiency: s.efficiency,
                dark_probability: s.dark_count_probability,
                dead_slots: dead_slots(s.dead_time_ns, slot_ns),
                afterpulse_probability: s.afterpulse_probability,
                afterpulse_release_per_slot: if s.afterpulse_decay_ns > 0.0 {
                    -(-slot_ns / s.afterpulse_decay_ns).exp_m1()
                } else {
                    1.0
                },
            },
            Self::Snspd(s) => {
                // A free-running detector read out in a window of one slot period: dark counts are
                // Poisson in the window; a Gaussian jitter of standard deviation FWHM/2.3548 loses
                // the detections that fall outside +-slot/2 around the pulse.
                let sigma_ps = s.jitter_fwhm_ps / (2.0 * (2.0 * std::f64::consts::LN_2).sqrt());
                let window = if sigma_ps > 0.0 {
                    erf(slot_ns * 1e3 / 2.0 / (sigma_ps * std::f64::consts::SQRT_2))
                } else {
                    1.0
                };
                DetectorSlotModel {
                    efficiency: s.efficiency * window,
                    dark_probability: -(-s.dark_count_rate_hz * slot_ns * 1e-9).exp_m1(),
                    dead_slots: dead_slots(s.recovery_time_ns, slot_ns),
                    afterpulse_probability: 0.0,
                    afterpulse_release_per_slot: 1.0,
                }
            }
        }
    }
}

/// The number of slots after a click in which a detector with `dead_ns` dead time cannot click:
/// slots `k >= 1` that start less than `dead_ns` after the click.
fn dead_slots(dead_ns: f64, slot_ns: f64) -> u64 {
    let x = dead_ns / slot_ns;
    let r = x.round();
    let k = if (x - r).abs() < 1e-9 {
        r - 1.0
    } else {
        x.floor()
    };
    // Non-negative and bounded by validation (finite); saturating conversion is the intent.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let k = k.max(0.0) as u64;
    k
}

/// The error function (Abramowitz & Stegun 7.1.26, absolute error < 1.5e-7).
fn erf(x: f64) -> f64 {
    let s = x.signum();
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let y = 1.0
        - (((((1.061_405_429 * t - 1.453_152_027) * t) + 1.421_413_741) * t - 0.284_496_736) * t
            + 0.254_829_592)
            * t
            * (-x * x).exp();
    s * y
}

/// What a detector does in one slot, derived from its config and the repetition rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSlotModel {
    /// Effective detection efficiency (nominal times the jitter window factor).
    pub efficiency: f64,
    /// Dark-count probability per slot.
    pub dark_probability: f64,
    /// Slots after a click in which the detector is blind.
    pub dead_slots: u64,
    /// Probability of an afterpulse per avalanche.
    pub afterpulse_probability: f64,
    /// Per-slot release probability of a trapped carrier after the dead time.
    pub afterpulse_release_per_slot: f64,
}

/// An eavesdropper between Alice and the channel.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case", tag = "kind"))]
pub enum Eavesdropper {
    /// No eavesdropper.
    #[default]
    None,
    /// Intercept-resend: on a fraction of the pulses Eve measures every photon in a random basis
    /// (ideal detector) and resends the same number of photons prepared in her result. Signature:
    /// QBER 25 % on intercepted pulses (Bennett et al., J. Cryptol. 5, 3 (1992)); gains unchanged.
    InterceptResend {
        /// Fraction of pulses intercepted.
        fraction: f64,
    },
    /// Beam splitting: Eve replaces the lossy fiber by a lossless one and a beam splitter of
    /// transmittance equal to the channel's, keeping the reflected photons. Bob's statistics are
    /// unchanged; Eve holds a copy of the bit on every pulse where she kept a photon (Dusek,
    /// Haderka, Hendrych, Opt. Commun. 169, 103 (1999)).
    BeamSplitting,
    /// Photon-number splitting (Brassard, Lütkenhaus, Mor, Sanders, PRL 85, 1330 (2000)): Eve
    /// counts photons without disturbing them, blocks single-photon pulses with
    /// `single_photon_block_probability` (the others go through the normal channel), keeps one
    /// photon of every multi-photon pulse and sends the rest to Bob's detectors with
    /// `multiphoton_transmittance`. Signature: the decoy yields become inconsistent with the signal
    /// (Hwang, PRL 91, 057901 (2003)). [`LinkConfig::pns_matching_signal_gain`] tunes it so that
    /// the signal gain matches the honest one.
    PhotonNumberSplitting {
        /// Probability that a single-photon pulse is blocked.
        single_photon_block_probability: f64,
        /// Transmittance of Eve's channel for the remaining photons of a multi-photon pulse (up to
        /// Bob's detectors; detector efficiency applies on top).
        multiphoton_transmittance: f64,
    },
    /// A fiber tap at Alice's output removing `fraction` of the light. Signature: an extra loss of
    /// `-10 log10(1 - fraction)` dB that OTDR or loss monitoring must catch.
    FiberTap {
        /// Fraction of the light removed.
        fraction: f64,
    },
}

impl Eavesdropper {
    /// Check the parameters.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] for any parameter outside `[0, 1]`.
    pub fn validate(&self) -> Result<(), QuantumError> {
        match *self {
            Self::None | Self::BeamSplitting => {}
            Self::InterceptResend { fraction } => {
                check_probability("intercept fraction", fraction)?;
            }
            Self::PhotonNumberSplitting {
                single_photon_block_probability,
                multiphoton_transmittance,
            } => {
                check_probability(
                    "single_photon_block_probability",
                    single_photon_block_probability,
                )?;
                check_probability("multiphoton_transmittance", multiphoton_transmittance)?;
            }
            Self::FiberTap { fraction } => {
                check_probability("tap fraction", fraction)?;
            }
        }
        Ok(())
    }

    /// The extra loss in dB a fiber tap adds (0 for the other attacks, which keep Bob's loss).
    #[must_use]
    pub fn extra_loss_db(&self) -> f64 {
        match *self {
            Self::FiberTap { fraction } => -10.0 * (1.0 - fraction).log10(),
            _ => 0.0,
        }
    }
}

/// A whole simulated link.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct LinkConfig {
    /// Alice's source.
    pub source: SourceConfig,
    /// The channel.
    pub channel: ChannelConfig,
    /// Bob's detectors.
    pub detector: DetectorConfig,
    /// Probability that Bob measures in Z.
    pub bob_z_probability: f64,
    /// The eavesdropper.
    pub eavesdropper: Eavesdropper,
    /// Pulses per independent chunk (each chunk has its own derived seed and fresh detectors; the
    /// result does not depend on the number of threads).
    pub chunk_pulses: u64,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            source: SourceConfig::default(),
            channel: ChannelConfig::default(),
            detector: DetectorConfig::default(),
            bob_z_probability: 0.9,
            eavesdropper: Eavesdropper::None,
            chunk_pulses: 1 << 24,
        }
    }
}

impl LinkConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> LinkConfigBuilder {
        LinkConfigBuilder(Self::default())
    }

    /// Check every part.
    ///
    /// # Errors
    /// The first error of [`SourceConfig::validate`], [`ChannelConfig::validate`],
    /// [`DetectorConfig::validate`], [`Eavesdropper::validate`], or
    /// [`QuantumError::InvalidProbability`] / [`QuantumError::InvalidParameter`] for
    /// `bob_z_probability` and `chunk_pulses`.
    pub fn validate(&self) -> Result<(), QuantumError> {
        self.source.validate()?;
        self.channel.validate()?;
        self.detector.validate()?;
        self.eavesdropper.validate()?;
        check_probability("bob_z_probability", self.bob_z_probability)?;
        if self.chunk_pulses == 0 {
            return Err(QuantumError::InvalidParameter {
                name: "chunk_pulses",
                value: 0.0,
                reason: "must be at least 1",
            });
        }
        Ok(())
    }

    /// Total transmittance to a click, `eta = transmittance * effective efficiency` (PHYSICS.md
    /// `eta`), without eavesdropper.
    #[must_use]
    pub fn eta(&self) -> f64 {
        self.channel.transmittance * self.detector.per_slot(self.source.rate_hz).efficiency
    }
}

/// Builder of [`LinkConfig`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct LinkConfigBuilder(LinkConfig);

impl LinkConfigBuilder {
    /// The source.
    pub fn source(mut self, s: SourceConfig) -> Self {
        self.0.source = s;
        self
    }

    /// The channel.
    pub fn channel(mut self, c: ChannelConfig) -> Self {
        self.0.channel = c;
        self
    }

    /// The detectors.
    pub fn detector(mut self, d: DetectorConfig) -> Self {
        self.0.detector = d;
        self
    }

    /// Bob's probability of measuring in Z.
    pub fn bob_z_probability(mut self, p: f64) -> Self {
        self.0.bob_z_probability = p;
        self
    }

    /// The eavesdropper.
    pub fn eavesdropper(mut self, e: Eavesdropper) -> Self {
        self.0.eavesdropper = e;
        self
    }

    /// Pulses per chunk.
    pub fn chunk_pulses(mut self, n: u64) -> Self {
        self.0.chunk_pulses = n;
        self
    }

    /// The validated config.
    ///
    /// # Errors
    /// See [`LinkConfig::validate`].
    pub fn build(self) -> Result<LinkConfig, QuantumError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_slots_count_whole_slots_inside_the_dead_time() {
        assert_eq!(dead_slots(0.0, 1.0), 0);
        assert_eq!(dead_slots(10.0, 1.0), 9);
        assert_eq!(dead_slots(10.5, 1.0), 10);
        assert_eq!(dead_slots(0.5, 1.0), 0);
    }

    #[test]
    fn erf_reference_values() {
        // erf(0.5) = 0.5204999, erf(1) = 0.8427008, erf(2) = 0.9953223 (A&S table 7.1).
        for (x, y) in [(0.5, 0.520_499_9), (1.0, 0.842_700_8), (2.0, 0.995_322_3)] {
            assert!((erf(x) - y).abs() < 2e-7);
            assert!((erf(-x) + y).abs() < 2e-7);
        }
    }

    #[test]
    fn bad_input_is_a_typed_error() {
        let bad_mu = SourceConfig::builder().mu(0.1, 0.5, 0.0).build();
        assert!(matches!(bad_mu, Err(QuantumError::MuOrdering { .. })));
        let bad_mu2 = SourceConfig::builder().mu(0.5, 0.3, 0.25).build();
        assert!(matches!(bad_mu2, Err(QuantumError::MuOrdering { .. })));
        let neg = SourceConfig::builder().mu(0.5, 0.1, -0.01).build();
        assert!(matches!(neg, Err(QuantumError::InvalidParameter { .. })));
        let p = SourceConfig::builder()
            .class_probabilities(0.7, 0.4, -0.1)
            .build();
        assert!(matches!(p, Err(QuantumError::InvalidProbability { .. })));
        let sum = SourceConfig::builder()
            .class_probabilities(0.7, 0.2, 0.2)
            .build();
        assert!(matches!(sum, Err(QuantumError::NotNormalized { .. })));
        let rate = SourceConfig::builder().rate_hz(-1.0).build();
        assert!(matches!(rate, Err(QuantumError::InvalidParameter { .. })));
        assert!(ChannelConfig::fiber(-1.0, 0.2).is_err());
        assert!(ChannelConfig::fiber(f64::NAN, 0.2).is_err());
        assert!(ChannelConfig::from_loss_db(-3.0).is_err());
        let link = LinkConfig::builder()
            .channel(ChannelConfig::default().with_misalignment(1.2))
            .build();
        assert!(matches!(link, Err(QuantumError::InvalidProbability { .. })));
        let det = LinkConfig::builder()
            .detector(DetectorConfig::Snspd(SnspdConfig {
                dark_count_rate_hz: -5.0,
                ..SnspdConfig::default()
            }))
            .build();
        assert!(matches!(det, Err(QuantumError::InvalidParameter { .. })));
        let eve = LinkConfig::builder()
            .eavesdropper(Eavesdropper::InterceptResend { fraction: 2.0 })
            .build();
        assert!(matches!(eve, Err(QuantumError::InvalidProbability { .. })));
        assert!(
            LinkConfig::builder()
                .bob_z_probability(-0.5)
                .build()
                .is_err()
        );
        assert!(LinkConfig::builder().chunk_pulses(0).build().is_err());
        assert!(LinkConfig::builder().build().is_ok());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn link_config_roundtrips_through_json() {
        let c = LinkConfig::builder()
            .detector(DetectorConfig::ingaas_spad())
            .eavesdropper(Eavesdropper::InterceptResend { fraction: 0.3 })
            .build()
            .unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"kind\":\"spad\"") && json.contains("intercept_resend"));
        let back: LinkConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
    }

    #[test]
    fn presets_have_the_reference_values() {
        let s = DetectorConfig::snspd().per_slot(1e9);
        // 100 Hz in a 1 ns window; 30 ps jitter is negligible in 1 ns.
        assert!((s.dark_probability - 1e-7).abs() < 1e-12);
        assert!((s.efficiency - 0.85).abs() < 1e-12);
        assert_eq!(s.dead_slots, 39);
        let g = DetectorConfig::gys().per_slot(1e9);
        assert!((2.0 * g.dark_probability - 1.7e-6).abs() < 1e-12);
        let c = ChannelConfig::fiber(100.0, 0.2).unwrap();
        assert!((c.transmittance - 0.01).abs() < 1e-15);
        assert!((c.loss_db() - 20.0).abs() < 1e-9);
        let tap = Eavesdropper::FiberTap { fraction: 0.023 };
        assert!((tap.extra_loss_db() - 0.101).abs() < 1e-3);
    }
}
