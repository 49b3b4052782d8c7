#![doc = include_str!("../README.md")]
// `unsafe` is denied everywhere except the AVX2 back end of the fast decoder (`simd`).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod construct;
pub mod de;
pub mod decoder;
mod error;
pub mod fast;
pub mod library;
pub mod matrix;
pub mod protocol;
mod simd;
pub mod spa;
pub mod standard;

pub use construct::{CodeSpec, DegreeProfile, LdpcCode};
pub use decoder::{
    BatchDecoder, DecodeResult, FrameInput, MinSumDecoder, MinSumKind, decode_frames, decode_spa,
};
pub use error::LdpcError;
pub use fast::{Backend, FAST_LANES, FastDecoder, decode_frames_fast};
pub use matrix::{QcBase, SparseMatrix};
pub use protocol::{
    CodeProfile, DecoderKind, FrameCode, LdpcConfig, LdpcConfigBuilder, LdpcMessage,
    LdpcReconciler, Mode,
};
pub use spa::LayeredSpa;
pub use standard::{NrBaseGraph, Wifi80211nRate, ieee80211n, nr_base_graph};

use qkd_core::DynReconciler;

/// Names known to [`algorithm`].
pub const ALGORITHMS: &[&str] = &[
    "ldpc",
    "ldpc-blind",
    "ldpc-oms",
    "ldpc-blind-oms",
    "ldpc-spa",
    "ldpc-blind-spa",
];

/// The settings of `ldpc-spa` and `ldpc-blind-spa` on top of `b`: layered sum-product on the
/// published family, 60 iterations per decoding round; blind: 24 reveal rounds over a span of
/// `0.1 + 15 / sqrt(N)` times `N h(Q_est)` punctured symbols, starting at efficiency
/// `1 - 5 / sqrt(N)`, warm-started rounds that end after 6 iterations without progress (ours,
/// tuned at N = 1e4 and 1e5 in docs/ldpc.md: the spread of the efficiency a frame needs
/// shrinks as `1 / sqrt(N)`).
#[must_use]
pub fn spa_defaults(b: LdpcConfigBuilder) -> LdpcConfigBuilder {
    let n = b.block_bits();
    #[allow(clippy::cast_precision_loss)]
    let root = (n as f64).sqrt();
    b.decoder(DecoderKind::SumProduct)
        .published_family()
        .max_iterations(60)
        .blind_schedule(24, 60)
        .blind_span(Some(0.1 + 15.0 / root))
        .blind_start_efficiency(1.0 - 5.0 / root)
        .blind_stall_limit(Some(6))
}

/// The constructor registry: a boxed reconciler by name for frames of `block_bits` bits.
///
/// - `ldpc`: rate-adaptive, layered normalised min-sum;
/// - `ldpc-blind`: blind, layered normalised min-sum;
/// - `ldpc-oms`, `ldpc-blind-oms`: the same with offset min-sum (offset 0.5 nat);
/// - `ldpc-spa`, `ldpc-blind-spa`: rate-adaptive and blind with the layered sum-product decoder
///   ([`LayeredSpa`], warm-started blind rounds) on the BSC-optimised codes of Elkouss et al.
///   2009 ([`LdpcConfigBuilder::published_family`]), settings of [`spa_defaults`]: the efficient
///   path (f = 1.07-1.10 at N = 1e5, docs/ldpc.md), about 0.05 Mbit/s per core there.
///
/// ```
/// let algo = qkd_ldpc::algorithm("ldpc-blind", 10_000)?;
/// assert_eq!(algo.name(), "ldpc-blind");
/// assert!(qkd_ldpc::algorithm("turbo", 10_000).is_err());
/// # Ok::<(), qkd_ldpc::LdpcError>(())
/// ```
///
/// # Errors
/// [`LdpcError::UnknownAlgorithm`] for an unknown name, [`LdpcError::InvalidConfig`] for an
/// unsupported block size.
pub fn algorithm(name: &str, block_bits: usize) -> Result<Box<dyn DynReconciler>, LdpcError> {
    let b = LdpcConfig::builder(block_bits);
    let oms = DecoderKind::OffsetMinSum(4);
    let (cfg, mode) = match name {
        "ldpc" => (b.build()?, Mode::RateAdaptive),
        "ldpc-blind" => (b.build()?, Mode::Blind),
        "ldpc-oms" => (b.decoder(oms).build()?, Mode::RateAdaptive),
        "ldpc-blind-oms" => (b.decoder(oms).build()?, Mode::Blind),
        "ldpc-spa" | "ldpc-blind-spa" => (
            spa_defaults(b).build()?,
            if name == "ldpc-spa" {
                Mode::RateAdaptive
            } else {
                Mode::Blind
            },
        ),
        _ => {
            return Err(LdpcError::UnknownAlgorithm {
                name: name.into(),
                known: ALGORITHMS.join(", "),
            });
        }
    };
    Ok(Box::new(LdpcReconciler::new(cfg, mode)))
}
