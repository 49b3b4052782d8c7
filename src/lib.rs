//! The `qkd` umbrella crate: every crate of the workspace as a module.
//!
//! ```
//! use qkd::core::{BitBlock, sim_rng};
//! let key = BitBlock::random(256, &mut sim_rng(1));
//! assert_eq!(key.len(), 256);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use qkd_core as core;
pub use qkd_etsi014 as etsi014;
