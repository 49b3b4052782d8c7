#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod auth;
pub mod clmul;
mod error;
pub mod fft;
mod pclmul;
pub mod toeplitz;

pub use clmul::Kernel;
pub use error::PrivacyError;
pub use toeplitz::{HashPath, ModifiedToeplitzHash, ToeplitzHash};
pub mod finite;
pub mod keyrate;
pub use finite::{FiniteKeyInputs, KeyLength, SecurityParams, ZeroKeyReason, finite_key_length};
pub use keyrate::{KeyRatePoint, LinkParams, LinkParamsBuilder, key_rate_curve, plob_bits_per_use};
