//! The crate's error type.

use qkd_core::{CoreError, ReconcileError};
use thiserror::Error;

/// Errors of qkd-cascade: bad input or configuration. Expected outcomes (residual errors caught by
/// confirmation) are [`qkd_core::Failure`] values, not errors.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CascadeError {
    /// The configuration is invalid.
    #[error("invalid Cascade configuration: {0}")]
    InvalidConfig(String),
    /// The QBER estimate is outside the open interval (0, 0.5).
    #[error("QBER estimate {qber} outside (0, 0.5)")]
    UnsupportedQber {
        /// The given estimate.
        qber: f64,
    },
    /// A key is empty.
    #[error("empty key")]
    EmptyKey,
    /// The two keys have different lengths.
    #[error("key lengths differ: Alice {alice} bits, Bob {bob} bits")]
    LengthMismatch {
        /// Alice's key length.
        alice: usize,
        /// Bob's key length.
        bob: usize,
    },
    /// The key is longer than the 2^32 - 1 bits the wire format indexes.
    #[error("key of {len} bits is longer than the supported 2^32 - 1")]
    KeyTooLong {
        /// The key length.
        len: usize,
    },
    /// An unknown algorithm or variant name.
    #[error("unknown Cascade variant {0:?}")]
    UnknownVariant(String),
    /// A vocabulary type rejected its input.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<CascadeError> for ReconcileError {
    fn from(e: CascadeError) -> Self {
        match e {
            CascadeError::UnsupportedQber { qber } => ReconcileError::UnsupportedQber {
                qber,
                min: 0.0,
                max: 0.5,
            },
            CascadeError::EmptyKey => ReconcileError::EmptyKey,
            CascadeError::LengthMismatch { alice, bob } => {
                ReconcileError::LengthMismatch { alice, bob }
            }
            CascadeError::Core(c) => ReconcileError::Core(c),
            other => ReconcileError::InvalidConfig(other.to_string()),
        }
    }
}
