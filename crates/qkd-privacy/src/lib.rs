#![doc = include_str!("../README.md")]
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod clmul;
mod error;
mod pclmul;
pub mod toeplitz;

pub use clmul::Kernel;
pub use error::PrivacyError;
pub use toeplitz::{ModifiedToeplitzHash, ToeplitzHash};
