//! Optical time-domain reflectometry: trace synthesis, event analysis, baseline comparison.
//!
//! Levels are in the OTDR display convention: **one-way dB** relative to the launched pulse power,
//! `5 log10(P_received / P_launch)`, so the slope of the backscatter line is the fiber attenuation
//! in dB/km and the step at an event is its one-way insertion loss (IEC 61746-1; the convention of
//! every commercial OTDR and of SOR `DataPts`). The Rayleigh level right after the launch is
//! `(BSC + 10 log10(pulse / 1 ns)) / 2`, BSC the backscatter coefficient (about -82 dB at 1550 nm).

mod analysis;
mod compare;
mod fit;
mod synth;

pub use analysis::{AnalysisConfig, DetectedEvent, DetectedKind, analyze};
pub use compare::{Change, ChangeKind, CompareConfig, Comparison, compare};
pub use synth::{OtdrConfig, OtdrConfigBuilder, synthesize};

use crate::route::SPEED_OF_LIGHT_M_PER_S;

/// A sampled OTDR trace with the acquisition parameters needed to interpret it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Trace {
    /// Distance between samples [m] (one-way, at `group_index`).
    pub sample_spacing_m: f64,
    /// Levels [one-way dB relative to launch], one per sample, first at distance 0.
    pub levels_db: Vec<f64>,
    /// Pulse width [ns].
    pub pulse_width_ns: f64,
    /// Wavelength [nm].
    pub wavelength_nm: f64,
    /// Group index used to turn time into distance.
    pub group_index: f64,
    /// Number of averaged acquisitions.
    pub averages: u32,
    /// Backscatter coefficient for a 1 ns pulse [dB], used to turn peak heights into reflectance.
    pub backscatter_db: f64,
    /// Receiver saturation level [one-way dB]; samples at or above it are clipped.
    pub saturation_db: f64,
}

impl Trace {
    /// Number of samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.levels_db.len()
    }

    /// Whether the trace has no samples.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.levels_db.is_empty()
    }

    /// Distance of sample `i` [m].
    #[must_use]
    pub fn distance_m(&self, i: usize) -> f64 {
        usize_to_f64(i) * self.sample_spacing_m
    }

    /// Acquisition range [m].
    #[must_use]
    pub fn range_m(&self) -> f64 {
        self.distance_m(self.len())
    }

    /// Two-point spatial resolution of the pulse `c * pulse / (2 n_group)` [m].
    #[must_use]
    pub fn resolution_m(&self) -> f64 {
        resolution_m(self.pulse_width_ns, self.group_index)
    }

    /// The pulse length in samples (at least 1).
    #[must_use]
    pub fn pulse_samples(&self) -> usize {
        round_to_usize(self.resolution_m() / self.sample_spacing_m).max(1)
    }

    /// `(distance_m, level_db)` pairs.
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.levels_db
            .iter()
            .enumerate()
            .map(|(i, &y)| (self.distance_m(i), y))
    }
}

/// `c * pulse / (2 n_group)` [m].
#[must_use]
pub fn resolution_m(pulse_width_ns: f64, group_index: f64) -> f64 {
    SPEED_OF_LIGHT_M_PER_S * pulse_width_ns * 1e-9 / (2.0 * group_index)
}

/// Exact for every index of a real trace (< 2^53).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn usize_to_f64(i: usize) -> f64 {
    i as f64
}

/// Rounds a non-negative finite value to an index; negatives and NaN give 0, huge values saturate.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn round_to_usize(x: f64) -> usize {
    // `as` saturates for out-of-range floats and maps NaN to 0: exactly the clamp we want.
    x.round().max(0.0) as usize
}

/// Floor of a non-negative value as an index (saturating as [`round_to_usize`]).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
pub(crate) fn floor_to_usize(x: f64) -> usize {
    x.floor().max(0.0) as usize
}
