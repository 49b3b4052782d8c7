#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
pub mod monitor;
pub mod otdr;
pub mod raman;
pub mod route;
pub mod sor;
pub mod svg;

pub use error::{FiberError, SorError};
pub use monitor::{LossAlarm, LossMonitor, LossMonitorConfig};
pub use otdr::{
    AnalysisConfig, Change, ChangeKind, CompareConfig, Comparison, DetectedEvent, DetectedKind,
    OtdrConfig, Trace, analyze, compare, synthesize,
};
pub use raman::{
    ClassicalChannel, CoexistenceModel, CoexistencePoint, Direction, RamanConfig, RamanNoise,
};
pub use route::{Event, EventKind, LossBudget, Route, RouteFile, Span};
