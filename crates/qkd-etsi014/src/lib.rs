#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod config;
mod error;
pub mod kme;
pub mod pool;
pub mod server;
pub mod store;
pub mod tls;
pub mod types;

pub use client::{Client, Key};
pub use config::{IdentityMode, KmeConfig, KmeConfigBuilder, SaeConfig, SaeSite};
pub use error::Error;
pub use kme::Kme;
pub use server::{ServerHandle, serve};
pub use store::{AtRest, KeyStore, MemoryStore, RedbStore};
