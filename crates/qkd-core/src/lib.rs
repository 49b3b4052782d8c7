#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bits;
pub mod channel;
pub mod confirm;
pub mod entropy;
mod error;
pub mod harness;
pub mod presets;
pub mod reconcile;
pub mod records;
pub mod rng;
pub mod secret;
pub mod types;

pub use bits::BitBlock;
pub use channel::{
    Endpoint, LeakageLedger, LedgerEntry, Message, MpscTransport, PairRun, Party, ProtocolError,
    Role, Transport, Turn, mpsc_pair, run_pair, run_pair_with_limit,
};
pub use confirm::ConfirmationHasher;
pub use entropy::{binary_entropy, reconciliation_efficiency};
pub use error::CoreError;
pub use reconcile::{
    DynReconciler, Failure, Outcome, ReconcileError, ReconcileOutput, ReconcileParams, Reconciler,
    ReconciliationReport, ReconciliationRun,
};
pub use records::{AliceSlot, BobDetection, ClickKind, DetectionRecord, IntensityClass};
pub use rng::{SimRng, derive_seed, sim_rng};
pub use secret::SecretKey;
pub use types::{Basis, Bit, Qber};
