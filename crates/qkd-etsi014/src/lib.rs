//! ETSI GS QKD 014 key delivery.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod types;
