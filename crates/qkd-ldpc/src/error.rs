//! The crate's error type.

use thiserror::Error;

/// Errors of `qkd-ldpc`: bad input (corrupt alist text, mismatched lengths, unsupported QBER,
/// invalid configuration). A decoder that does not converge is an outcome, not an error.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum LdpcError {
    /// An alist file could not be parsed.
    #[error("alist line {line}: {reason}")]
    Alist {
        /// 1-based line number where parsing failed.
        line: usize,
        /// What was wrong.
        reason: String,
    },
    /// Two lengths that must agree do not.
    #[error("length mismatch for {what}: expected {expected}, got {got}")]
    LengthMismatch {
        /// Which quantity.
        what: &'static str,
        /// Expected length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// The QBER is outside what the code family can reconcile.
    #[error("QBER {qber} outside the supported range {min}..{max} of this code family")]
    UnsupportedQber {
        /// The given QBER.
        qber: f64,
        /// Smallest supported QBER.
        min: f64,
        /// Largest supported QBER.
        max: f64,
    },
    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The named algorithm is not in the registry.
    #[error("unknown LDPC algorithm {name:?}; known: {known}")]
    UnknownAlgorithm {
        /// The requested name.
        name: String,
        /// The names the registry knows.
        known: String,
    },
    /// A matrix or degree distribution is malformed.
    #[error("invalid code: {0}")]
    InvalidCode(String),
    /// A standard code family (IEEE 802.11n, 5G NR) has no code with the requested parameter.
    #[error("{family} has no code with {requested}; supported: {supported}")]
    UnsupportedStandardCode {
        /// The family, e.g. `"IEEE 802.11n"`.
        family: &'static str,
        /// The requested parameter, e.g. `"length 2000"`.
        requested: String,
        /// The supported values, named.
        supported: String,
    },
}

impl From<LdpcError> for qkd_core::ReconcileError {
    fn from(e: LdpcError) -> Self {
        match e {
            LdpcError::UnsupportedQber { qber, min, max } => {
                qkd_core::ReconcileError::UnsupportedQber { qber, min, max }
            }
            LdpcError::LengthMismatch { expected, got, .. } => {
                qkd_core::ReconcileError::LengthMismatch {
                    alice: expected,
                    bob: got,
                }
            }
            other => qkd_core::ReconcileError::InvalidConfig(other.to_string()),
        }
    }
}
