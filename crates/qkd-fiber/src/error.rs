//! The one error type of the crate.

/// Everything that can go wrong in `qkd-fiber`: bad routes and parameters, corrupt SOR files, I/O.
///
/// Expected outcomes (an event found, an alarm raised, a tap not seen) are values, never errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FiberError {
    /// A numeric parameter is out of its physical range (negative length, NaN power, ...).
    #[error("invalid parameter `{name}` = {value}: {reason}")]
    InvalidParameter {
        /// The field or argument name, with its unit.
        name: &'static str,
        /// The offending value.
        value: f64,
        /// What the valid range is.
        reason: &'static str,
    },
    /// An event lies outside the fiber (before 0 or beyond the end of the route).
    #[error("event {index} at {position_km} km lies outside the route [0, {length_km}] km")]
    EventOutsideRoute {
        /// Index of the event in the route's event list.
        index: usize,
        /// Its position.
        position_km: f64,
        /// The route length.
        length_km: f64,
    },
    /// Two events are closer than the minimum separation (they would overlap on any trace).
    #[error("events {first} and {second} overlap (positions {first_km} km and {second_km} km)")]
    OverlappingEvents {
        /// Index of the first event.
        first: usize,
        /// Index of the second event.
        second: usize,
        /// Position of the first event.
        first_km: f64,
        /// Position of the second event.
        second_km: f64,
    },
    /// An event follows a break or the fiber end, where no light can reach it.
    #[error("event {index} at {position_km} km lies after the fiber end or a break")]
    EventAfterEnd {
        /// Index of the event.
        index: usize,
        /// Its position.
        position_km: f64,
    },
    /// A route or config with no spans, no trace samples, or an otherwise empty input.
    #[error("empty input: {0}")]
    Empty(&'static str),
    /// Two traces (test and baseline) cannot be compared sample by sample.
    #[error("traces differ in {0}; they cannot be compared")]
    IncompatibleTraces(&'static str),
    /// A TOML route or config file could not be parsed.
    #[error("cannot parse TOML: {0}")]
    Toml(String),
    /// A SOR file is truncated, has a bad checksum, a bad block layout or a bad field.
    #[error("corrupt SOR file: {0}")]
    Sor(#[from] SorError),
    /// Plot rendering failed.
    #[error("cannot render the SVG plot: {0}")]
    Plot(String),
}

/// What is wrong with a Telcordia SR-4731 (SOR) file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SorError {
    /// The file ends before a field or block that the map announces.
    #[error("truncated at byte {offset} while reading {what}")]
    Truncated {
        /// Byte offset where more data was expected.
        offset: usize,
        /// The field being read.
        what: &'static str,
    },
    /// The first block is not a version-2 `Map` block.
    #[error("not a version 2 SOR file (no Map block, or version {0})")]
    NotVersion2(u16),
    /// A required block is missing from the map.
    #[error("missing block {0}")]
    MissingBlock(&'static str),
    /// A block's header string does not match the name in the map, or sizes do not add up.
    #[error("bad block layout: {0}")]
    BadLayout(String),
    /// The CRC-16/CCITT checksum stored in the `Cksum` block does not match the file.
    #[error("checksum mismatch: stored {stored:#06x}, computed {computed:#06x}")]
    Checksum {
        /// Stored in the file.
        stored: u16,
        /// Computed over the file.
        computed: u16,
    },
    /// A field has a value this reader cannot represent (zero group index, several pulse widths, ...).
    #[error("bad field {field}: {reason}")]
    BadField {
        /// The field.
        field: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// A value does not fit the field width of the format when writing.
    #[error("value of {0} out of range for the SOR field")]
    OutOfRange(&'static str),
}

/// Checks `value` is finite and within `[min, max]`.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    min: f64,
    max: f64,
    reason: &'static str,
) -> Result<(), FiberError> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        Err(FiberError::InvalidParameter {
            name,
            value,
            reason,
        })
    }
}
