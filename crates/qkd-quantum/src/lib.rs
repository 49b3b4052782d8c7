#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod analytic;
pub mod config;
mod engine;
mod error;
mod model;
mod sampling;
pub mod state;

pub use config::{
    ChannelConfig, DetectorConfig, DetectorSlotModel, Eavesdropper, LinkConfig, LinkConfigBuilder,
    SnspdConfig, SourceConfig, SourceConfigBuilder, SpadConfig,
};
pub use engine::{ChunkOutput, ClassStats, Engine, Simulation, Simulator, simulate};
pub use error::QuantumError;
pub use model::pns_matching_signal_gain;
