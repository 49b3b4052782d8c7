//! The `qkd` umbrella crate: every crate of the workspace as a module.
//!
//! ```
//! use qkd::core::{BitBlock, sim_rng};
//! let key = BitBlock::random(256, &mut sim_rng(1));
//! assert_eq!(key.len(), 256);
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use qkd_cascade as cascade;
pub use qkd_core as core;
pub use qkd_etsi014 as etsi014;
pub use qkd_fiber as fiber;
pub use qkd_ldpc as ldpc;
pub use qkd_privacy as privacy;
pub use qkd_quantum as quantum;
pub use qkd_sifting as sifting;
