//! The error type of qkd-sifting.

use qkd_core::{CoreError, ProtocolError};
use thiserror::Error;

/// Bad input to sifting or estimation.
///
/// An abort on high QBER, high phase error, too few detections or inconsistent decoy statistics is
/// not an error: it is an [`crate::AbortReason`] inside a [`crate::Verdict`].
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SiftingError {
    /// Two arrays that describe the same records have different lengths.
    #[error("length mismatch in {what}: {left} vs {right}")]
    LengthMismatch {
        /// Which arrays.
        what: &'static str,
        /// Length of the first.
        left: usize,
        /// Length of the second.
        right: usize,
    },
    /// A block, a record set or a basis that must not be empty is.
    #[error("empty input: {what}")]
    Empty {
        /// What was empty.
        what: &'static str,
    },
    /// More sample bits were requested than the sifted key holds.
    #[error("sample of {sample} bits requested from a key of {available} bits")]
    SampleTooLarge {
        /// Requested sample size.
        sample: u64,
        /// Bits available.
        available: u64,
    },
    /// A security parameter (failure probability) outside the open interval (0, 1).
    #[error("{name} = {value} must lie in the open interval (0, 1)")]
    InvalidEpsilon {
        /// Parameter name.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A parameter outside its domain (intensities, probabilities, thresholds, counts).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Slot indices that must be strictly increasing are not.
    #[error("slot indices of {who} are not strictly increasing at position {position}")]
    UnsortedSlots {
        /// Whose slots.
        who: &'static str,
        /// First offending position.
        position: usize,
    },
    /// An error of a qkd-core vocabulary type.
    #[error(transparent)]
    Core(#[from] CoreError),
    /// The two-party exchange failed (transport, unexpected message).
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
}

/// Checks that `value` is a failure probability in the open interval (0, 1).
pub(crate) fn check_eps(name: &'static str, value: f64) -> Result<f64, SiftingError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(SiftingError::InvalidEpsilon { name, value })
    }
}

/// Checks that `value` is finite and in `[lo, hi]`.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
) -> Result<f64, SiftingError> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(value)
    } else {
        Err(SiftingError::InvalidParameter {
            name,
            reason: format!("{value} is not a finite number in [{lo}, {hi}]"),
        })
    }
}
