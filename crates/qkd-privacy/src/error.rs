//! The error type of qkd-privacy.

use thiserror::Error;

/// Everything that can go wrong in privacy amplification, key-length computation and authentication.
///
/// A key length that comes out negative is not an error: it is a [`crate::KeyLength`] of zero bits
/// with the reason.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum PrivacyError {
    /// The requested output is longer than the input (privacy amplification can only compress).
    #[error("output of {output_bits} bits is longer than the input of {input_bits} bits")]
    OutputLongerThanInput {
        /// Input length in bits.
        input_bits: usize,
        /// Requested output length in bits.
        output_bits: usize,
    },
    /// The hash seed has the wrong length for the requested matrix.
    #[error("seed of {got_bits} bits is too short: {needed_bits} bits are needed")]
    SeedTooShort {
        /// Bits supplied.
        got_bits: usize,
        /// Bits needed.
        needed_bits: usize,
    },
    /// A security parameter outside the open interval (0, 1).
    #[error("{name} = {value} must lie in the open interval (0, 1)")]
    InvalidEpsilon {
        /// Which parameter (`eps_sec`, `eps_cor`).
        name: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// A physical or numerical parameter outside its domain.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// Parameter name with unit.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The domain it must lie in.
        reason: &'static str,
    },
    /// The key pool has fewer bits than an operation consumes.
    #[error("key pool exhausted: {needed_bits} bits needed, {available_bits} available")]
    PoolExhausted {
        /// Bits the operation needs.
        needed_bits: u64,
        /// Bits left in the pool.
        available_bits: u64,
    },
    /// An error of the shared vocabulary (lengths, encodings).
    #[error(transparent)]
    Core(#[from] qkd_core::CoreError),
}
