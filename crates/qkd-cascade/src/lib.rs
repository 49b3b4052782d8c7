#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod config;
mod error;
mod message;
mod pass;
mod protocol;

use std::sync::Arc;

use qkd_core::{BitBlock, ReconcileError, ReconcileParams, Reconciler};

pub use config::{
    BiconfConfig, BlockRule, BlockSchedule, CascadeConfig, CascadeConfigBuilder, ShuffleMode,
    Variant, check_qber,
};
pub use error::CascadeError;
pub use message::{CascadeMessage, RangeQuery};
pub use pass::PassSpec;
pub use protocol::{CascadeAlice, CascadeBob};

use pass::PermCache;
use protocol::Setup;

/// Cascade as a [`Reconciler`]: a configuration, a name, and the cache of the public permutations
/// shared by all frames (identity and deterministic shuffles).
///
/// ```
/// use qkd_cascade::{Cascade, Variant};
/// use qkd_core::{DynReconciler, Qber, ReconcileParams, sim_rng};
/// use qkd_core::harness::{noisy_pair, ErrorModel};
///
/// let cascade = Cascade::variant(Variant::Original);
/// let (alice, bob) = noisy_pair(10_000, Qber::new(0.02)?, ErrorModel::Bernoulli, &mut sim_rng(1));
/// let run = cascade.run_in_process(alice, bob, &ReconcileParams::new(Qber::new(0.02)?, 7))?;
/// assert!(run.report.success && run.report.residual_errors == 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Cascade {
    config: Arc<CascadeConfig>,
    name: String,
    cache: Arc<PermCache>,
}

impl Cascade {
    /// Cascade with a validated custom configuration, named `cascade-custom`.
    ///
    /// # Errors
    /// [`CascadeError::InvalidConfig`] if the configuration is invalid.
    pub fn new(config: CascadeConfig) -> Result<Self, CascadeError> {
        config.validate()?;
        Ok(Self {
            config: Arc::new(config),
            name: "cascade-custom".into(),
            cache: Arc::default(),
        })
    }

    /// A variant with its parameters (published ones as published), named `cascade-<variant>`.
    #[must_use]
    pub fn variant(variant: Variant) -> Self {
        Self {
            config: Arc::new(variant.config()),
            name: format!("cascade-{}", variant.name()),
            cache: Arc::default(),
        }
    }

    /// The algorithm called `name`: `cascade-<variant>` optionally followed by switches
    /// `+bpi` (block-parity inference), `+reuse` (sub-block reuse), `+det` (deterministic shuffles),
    /// `+shuffle-all` (shuffle the first pass too), `+biconf-cascade` (BICONF corrections cascade
    /// into the earlier passes; BICONF variant only), `+tagN` (an N-bit confirmation tag, N in
    /// 1..=64, see [`CascadeConfig::tag_bits`]), e.g. `cascade-option8+bpi+det+tag32`.
    ///
    /// # Errors
    /// [`CascadeError::UnknownVariant`] for an unknown variant or switch.
    pub fn from_name(name: &str) -> Result<Self, CascadeError> {
        let unknown = || CascadeError::UnknownVariant(name.to_string());
        let rest = name.strip_prefix("cascade-").ok_or_else(unknown)?;
        let mut parts = rest.split('+');
        let variant = parts
            .next()
            .and_then(Variant::from_name)
            .ok_or_else(unknown)?;
        let mut config = variant.config();
        for switch in parts {
            match switch {
                "bpi" => config.block_parity_inference = true,
                "reuse" => config.sub_block_reuse = true,
                "det" => config.shuffle = ShuffleMode::Deterministic,
                "shuffle-all" => config.shuffle = ShuffleMode::EveryPass,
                "biconf-cascade" => {
                    if let Some(b) = config.biconf.as_mut() {
                        b.cascade = true;
                    } else {
                        return Err(unknown());
                    }
                }
                s => match s.strip_prefix("tag").map(str::parse::<u8>) {
                    Some(Ok(bits)) if (1..=64).contains(&bits) => config.tag_bits = bits,
                    _ => return Err(unknown()),
                },
            }
        }
        Ok(Self {
            config: Arc::new(config),
            name: name.to_string(),
            cache: Arc::default(),
        })
    }

    /// The same algorithm under another name (for reports).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &CascadeConfig {
        &self.config
    }

    /// The names [`Cascade::from_name`] accepts without switches, one per variant.
    #[must_use]
    pub fn variant_names() -> Vec<String> {
        Variant::ALL
            .iter()
            .map(|v| format!("cascade-{}", v.name()))
            .collect()
    }

    fn setup(&self, key: &BitBlock, params: &ReconcileParams) -> Result<Setup, CascadeError> {
        if key.is_empty() {
            return Err(CascadeError::EmptyKey);
        }
        let n =
            u32::try_from(key.len()).map_err(|_| CascadeError::KeyTooLong { len: key.len() })?;
        let q = check_qber(params.estimated_qber)?;
        Ok(Setup {
            n,
            block_sizes: self.config.schedule.block_sizes(key.len(), q),
            config: Arc::clone(&self.config),
            cache: Arc::clone(&self.cache),
            seed: params.seed,
        })
    }
}

impl Reconciler for Cascade {
    type Message = CascadeMessage;
    type Alice = CascadeAlice;
    type Bob = CascadeBob;

    fn name(&self) -> String {
        self.name.clone()
    }

    fn alice(
        &self,
        key: BitBlock,
        params: &ReconcileParams,
    ) -> Result<CascadeAlice, ReconcileError> {
        let setup = self.setup(&key, params)?;
        Ok(CascadeAlice::new(key, setup))
    }

    fn bob(&self, key: BitBlock, params: &ReconcileParams) -> Result<CascadeBob, ReconcileError> {
        let setup = self.setup(&key, params)?;
        Ok(CascadeBob::new(&key, setup))
    }
}
