#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decoy;
mod error;
pub mod stats;

pub use decoy::{
    AsymptoticBounds, BasisCounts, Bound, ChannelModel, DecoyBounds, DecoyMethod, DecoyStatistics,
    GainStatistics,
};
pub use error::SiftingError;
pub use stats::{ConfidenceMethod, RateEstimate};
