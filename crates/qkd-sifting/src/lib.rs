#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod decoy;
mod error;
pub mod records;
pub mod sift;
pub mod stats;
mod words;

pub use decoy::{
    AsymptoticBounds, BasisCounts, Bound, ChannelModel, DecoyBounds, DecoyMethod, DecoyStatistics,
    GainStatistics, SinglePhotonSpread,
};
pub use error::SiftingError;
pub use records::{AliceRecords, BobRecords, Slots, split_records};
pub use sift::{
    AbortReason, AbortRules, AliceSifter, BobSifter, DecoyConfig, Estimate, KeySlots, SampleSize,
    SiftConfig, SiftConfigBuilder, SiftMessage, SiftOutput, SiftedKey, Verdict, sift_pair,
};
pub use stats::{ConfidenceMethod, RateEstimate};
