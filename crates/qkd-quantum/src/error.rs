//! The error type of qkd-quantum.

use thiserror::Error;

/// Everything that can be wrong with the input of this crate.
///
/// Expected physical outcomes (no click, a high QBER under attack) are simulation results, never
/// errors.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum QuantumError {
    /// A probability outside `[0, 1]` or not finite.
    #[error("{name} = {value} is not a probability: must be finite and in [0, 1]")]
    InvalidProbability {
        /// Which parameter.
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A physical quantity (length, rate, mean photon number, time) that is negative, zero where it
    /// must be positive, or not finite.
    #[error("invalid {name} = {value}: {reason}")]
    InvalidParameter {
        /// Which parameter (with its unit).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What was wrong.
        reason: &'static str,
    },
    /// The decoy intensities violate `mu_signal > mu_decoy + mu_vacuum`, `mu_decoy > mu_vacuum >= 0`
    /// (Lim et al., PRA 89, 022307 (2014), Sec. III).
    #[error(
        "decoy intensities out of order: need signal > decoy + vacuum and decoy > vacuum >= 0, got signal {signal}, decoy {decoy}, vacuum {vacuum}"
    )]
    MuOrdering {
        /// Signal mean photon number.
        signal: f64,
        /// Decoy mean photon number.
        decoy: f64,
        /// Vacuum (weakest decoy) mean photon number.
        vacuum: f64,
    },
    /// Probabilities that must sum to one do not.
    #[error("{name} sum to {sum}, not 1")]
    NotNormalized {
        /// Which probabilities.
        name: &'static str,
        /// Their sum.
        sum: f64,
    },
    /// A state vector of zero norm, a matrix that is not unitary, or a density matrix that is not
    /// Hermitian, positive and of unit trace.
    #[error("invalid quantum state or operator: {reason}")]
    InvalidState {
        /// What was wrong.
        reason: &'static str,
    },
}

/// Check that `value` is a probability.
pub(crate) fn check_probability(name: &'static str, value: f64) -> Result<f64, QuantumError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(QuantumError::InvalidProbability { name, value })
    }
}

/// Check that `value` is finite and `>= 0`.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<f64, QuantumError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(QuantumError::InvalidParameter {
            name,
            value,
            reason: "must be finite and non-negative",
        })
    }
}

/// Check that `value` is finite and `> 0`.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64, QuantumError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(QuantumError::InvalidParameter {
            name,
            value,
            reason: "must be finite and positive",
        })
    }
}
