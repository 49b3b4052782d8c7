//! The error type of qkd-core.

use thiserror::Error;

/// Everything that can go wrong with the vocabulary types of this crate.
///
/// Expected protocol outcomes (a decoder that did not converge, a confirmation mismatch) are not
/// errors: they are [`crate::reconcile::Outcome`] values.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum CoreError {
    /// A bit index or range lies outside the block.
    #[error("bit range {start}..{end} is out of bounds for a block of {len} bits")]
    OutOfBounds {
        /// First index of the range.
        start: usize,
        /// One past the last index of the range.
        end: usize,
        /// Length of the block in bits.
        len: usize,
    },
    /// Two blocks that must have equal lengths do not.
    #[error("length mismatch: {left} bits vs {right} bits")]
    LengthMismatch {
        /// Length of the left operand in bits.
        left: usize,
        /// Length of the right operand in bits.
        right: usize,
    },
    /// A probability (QBER, error rate) outside `[0, 1]` or not finite.
    #[error("invalid probability {value}: must be a finite number in [0, 1]")]
    InvalidProbability {
        /// The rejected value.
        value: f64,
    },
    /// Text that is not valid hex or base64 for a bit block of the stated length.
    #[error("invalid encoding: {reason}")]
    InvalidEncoding {
        /// What was wrong with the text.
        reason: String,
    },
    /// A quantity that must be positive (a frame length, a QBER for efficiency) was not.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What was wrong.
        reason: String,
    },
}
