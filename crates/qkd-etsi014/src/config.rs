//! KME configuration (`kme.toml`).

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Error;

/// How the KME derives an SAE ID (or the peer KME's identity) from a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IdentityMode {
    /// The subject's common name.
    #[default]
    Cn,
    /// The first DNS or URI subject alternative name.
    San,
    /// The lowercase hex SHA-256 of the DER certificate.
    Fingerprint,
}

/// Where an SAE is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaeSite {
    /// Attached to this KME.
    #[default]
    Local,
    /// Attached to the peer KME.
    Peer,
}

/// One SAE known to the KME.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaeConfig {
    /// SAE ID used in the API.
    pub id: String,
    /// Certificate identity (per [`IdentityMode`]) that authenticates it; defaults to `id`.
    #[serde(default)]
    pub cert_identity: Option<String>,
    /// Which KME it is attached to.
    #[serde(default)]
    pub site: SaeSite,
}

/// TLS material (PEM files).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TlsFiles {
    /// CA that signs client (SAE and peer KME) certificates, and the peer KME's server certificate.
    pub ca: PathBuf,
    /// This KME's certificate chain.
    pub cert: PathBuf,
    /// This KME's private key.
    pub key: PathBuf,
}

/// The peer KME at the other end of the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerConfig {
    /// Its KME ID.
    pub kme_id: String,
    /// Its base URL, e.g. `https://127.0.0.1:8444`.
    pub url: String,
    /// Identity of its client certificate (per [`IdentityMode`]).
    pub cert_identity: String,
}

/// Where the pool is kept. `Debug` redacts the at-rest key.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StoreConfig {
    /// In memory (lost on exit; tests).
    #[default]
    Memory,
    /// A redb file.
    Redb {
        /// File path.
        path: PathBuf,
        /// Optional 32-byte hex key for XChaCha20-Poly1305 encryption at rest.
        #[serde(default)]
        at_rest_key_hex: Option<String>,
    },
}

/// TEST ONLY key source: both sites derive identical blocks from a shared secret
/// (block `i` = BLAKE3 keyed XOF of `i`). It provides no QKD security at all.
/// `Debug` redacts the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSourceConfig {
    /// 32-byte hex secret shared by both sites.
    pub shared_secret_hex: String,
    /// Bytes per generated block.
    #[serde(default = "default_block_bytes")]
    pub block_bytes: u32,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Memory => f.write_str("Memory"),
            Self::Redb {
                path,
                at_rest_key_hex,
            } => f
                .debug_struct("Redb")
                .field("path", path)
                .field(
                    "at_rest_key_hex",
                    &at_rest_key_hex.as_ref().map(|_| "<redacted>"),
                )
                .finish(),
        }
    }
}

impl std::fmt::Debug for TestSourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSourceConfig")
            .field("shared_secret_hex", &"<redacted>")
            .field("block_bytes", &self.block_bytes)
            .finish()
    }
}

fn default_block_bytes() -> u32 {
    4096
}

/// The whole configuration of one KME.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KmeConfig {
    /// This KME's ID.
    pub kme_id: String,
    /// Listen address (loopback in tests).
    pub listen: SocketAddr,
    /// 0 or 1: which blocks this site cuts for its masters (block `id` with `id % 2 == site_index`).
    pub site_index: u8,
    /// Default key size in bits.
    pub key_size_bits: u32,
    /// Minimum key size in bits (a multiple of 8).
    pub min_key_size_bits: u32,
    /// Maximum key size in bits (a multiple of 8).
    pub max_key_size_bits: u32,
    /// Maximum stored keys of the default size (the test source fills up to this).
    pub max_key_count: u64,
    /// Maximum keys per request.
    pub max_key_per_request: u32,
    /// Maximum additional slaves per request (0: no multicast).
    pub max_sae_id_count: u32,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Seconds a cut key waits for its slave before it is deleted.
    pub key_ttl_secs: u64,
    /// Certificate-to-identity mapping.
    pub identity: IdentityMode,
    /// TLS files.
    pub tls: TlsFiles,
    /// Known SAEs.
    pub sae: Vec<SaeConfig>,
    /// The peer KME, if the link has two sites.
    pub peer: Option<PeerConfig>,
    /// The pool store.
    pub store: StoreConfig,
    /// TEST ONLY built-in key source.
    pub test_source: Option<TestSourceConfig>,
}

impl Default for KmeConfig {
    fn default() -> Self {
        Self {
            kme_id: "KME".into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            site_index: 0,
            key_size_bits: 256,
            min_key_size_bits: 64,
            max_key_size_bits: 8192,
            max_key_count: 100_000,
            max_key_per_request: 128,
            max_sae_id_count: 4,
            max_body_bytes: 64 * 1024,
            key_ttl_secs: 24 * 3600,
            identity: IdentityMode::Cn,
            tls: TlsFiles::default(),
            sae: Vec::new(),
            peer: None,
            store: StoreConfig::Memory,
            test_source: None,
        }
    }
}

/// Decodes 64 hex characters into 32 bytes.
pub(crate) fn hex32(s: &str) -> Result<[u8; 32], Error> {
    let s = s.trim();
    if s.len() != 64 {
        return Err(Error::Config(
            "expected 64 hex characters (32 bytes)".into(),
        ));
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| Error::Config("invalid hex".into()))?;
    }
    Ok(out)
}

impl KmeConfig {
    /// A builder starting from [`KmeConfig::default`]; [`KmeConfigBuilder::build`] validates.
    ///
    /// ```
    /// use qkd_etsi014::config::{KmeConfig, SaeConfig, SaeSite};
    /// let cfg = KmeConfig::builder()
    ///     .kme_id("KME_A")
    ///     .key_size_bits(256)
    ///     .sae(SaeConfig { id: "SAE_A".into(), cert_identity: None, site: SaeSite::Local })
    ///     .build()?;
    /// assert_eq!(cfg.kme_id, "KME_A");
    /// assert!(KmeConfig::builder().key_size_bits(100).build().is_err()); // not a multiple of 8
    /// # Ok::<(), qkd_etsi014::Error>(())
    /// ```
    pub fn builder() -> KmeConfigBuilder {
        KmeConfigBuilder(Self::default())
    }

    /// Parses and validates a `kme.toml`.
    ///
    /// # Errors
    /// [`Error::Config`] on a syntax error or an invalid value.
    pub fn from_toml_str(s: &str) -> Result<Self, Error> {
        let c: Self = toml::from_str(s).map_err(|e| Error::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    /// Checks the invariants every other part relies on.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid value.
    pub fn validate(&self) -> Result<(), Error> {
        let bad = |m: &str| Err(Error::Config(m.into()));
        if self.min_key_size_bits == 0
            || !self.min_key_size_bits.is_multiple_of(8)
            || !self.max_key_size_bits.is_multiple_of(8)
            || !self.key_size_bits.is_multiple_of(8)
            || !(self.min_key_size_bits..=self.max_key_size_bits).contains(&self.key_size_bits)
        {
            return bad("key sizes must be multiples of 8 with min <= key_size <= max");
        }
        if self.max_key_per_request == 0 || self.max_key_per_request > 10_000 {
            return bad("max_key_per_request must be in 1..=10000");
        }
        if self.site_index > 1 || (self.peer.is_none() && self.site_index != 0) {
            return bad("site_index must be 0 or 1 (0 without a peer)");
        }
        let mut ids = std::collections::HashSet::new();
        for s in &self.sae {
            if s.id.trim().is_empty() || !ids.insert(s.id.as_str()) {
                return bad("SAE IDs must be non-blank and unique");
            }
            if s.site == SaeSite::Peer && self.peer.is_none() {
                return bad("an SAE at the peer site needs a [peer]");
            }
        }
        if let StoreConfig::Redb {
            at_rest_key_hex: Some(k),
            ..
        } = &self.store
        {
            hex32(k)?;
        }
        if let Some(t) = &self.test_source {
            hex32(&t.shared_secret_hex)?;
            if t.block_bytes < self.max_key_size_bits / 8 {
                return bad("test_source.block_bytes must hold at least one largest key");
            }
        }
        Ok(())
    }
}

/// Builder for [`KmeConfig`] (see [`KmeConfig::builder`]); setters take values with their units,
/// [`build`](Self::build) runs [`KmeConfig::validate`].
#[derive(Debug, Clone)]
#[must_use]
pub struct KmeConfigBuilder(KmeConfig);

impl KmeConfigBuilder {
    /// This KME's ID.
    pub fn kme_id(mut self, x: impl Into<String>) -> Self {
        self.0.kme_id = x.into();
        self
    }

    /// Listen address.
    pub fn listen(mut self, x: SocketAddr) -> Self {
        self.0.listen = x;
        self
    }

    /// Which blocks this site cuts for its masters (0 or 1).
    pub fn site_index(mut self, x: u8) -> Self {
        self.0.site_index = x;
        self
    }

    /// Default key size in bits (a multiple of 8).
    pub fn key_size_bits(mut self, x: u32) -> Self {
        self.0.key_size_bits = x;
        self
    }

    /// Minimum key size in bits (a multiple of 8).
    pub fn min_key_size_bits(mut self, x: u32) -> Self {
        self.0.min_key_size_bits = x;
        self
    }

    /// Maximum key size in bits (a multiple of 8).
    pub fn max_key_size_bits(mut self, x: u32) -> Self {
        self.0.max_key_size_bits = x;
        self
    }

    /// Maximum stored keys of the default size.
    pub fn max_key_count(mut self, x: u64) -> Self {
        self.0.max_key_count = x;
        self
    }

    /// Maximum keys per request (1..=10000).
    pub fn max_key_per_request(mut self, x: u32) -> Self {
        self.0.max_key_per_request = x;
        self
    }

    /// Maximum additional slaves per request (0: no multicast).
    pub fn max_sae_id_count(mut self, x: u32) -> Self {
        self.0.max_sae_id_count = x;
        self
    }

    /// Largest accepted request body in bytes.
    pub fn max_body_bytes(mut self, x: usize) -> Self {
        self.0.max_body_bytes = x;
        self
    }

    /// Seconds a cut key waits for its slave before it is deleted.
    pub fn key_ttl_secs(mut self, x: u64) -> Self {
        self.0.key_ttl_secs = x;
        self
    }

    /// Certificate-to-identity mapping.
    pub fn identity(mut self, x: IdentityMode) -> Self {
        self.0.identity = x;
        self
    }

    /// TLS files (PEM).
    pub fn tls(mut self, x: TlsFiles) -> Self {
        self.0.tls = x;
        self
    }

    /// The peer KME at the other end of the link.
    pub fn peer(mut self, x: PeerConfig) -> Self {
        self.0.peer = Some(x);
        self
    }

    /// The pool store.
    pub fn store(mut self, x: StoreConfig) -> Self {
        self.0.store = x;
        self
    }

    /// TEST ONLY built-in key source.
    pub fn test_source(mut self, x: TestSourceConfig) -> Self {
        self.0.test_source = Some(x);
        self
    }

    /// Adds one known SAE.
    pub fn sae(mut self, x: SaeConfig) -> Self {
        self.0.sae.push(x);
        self
    }

    /// Validates and returns the configuration.
    ///
    /// # Errors
    /// [`Error::Config`] naming the first invalid value.
    pub fn build(self) -> Result<KmeConfig, Error> {
        self.0.validate()?;
        Ok(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let secret = "ab".repeat(32);
        let cfg = KmeConfig::builder()
            .store(StoreConfig::Redb {
                path: "pool.redb".into(),
                at_rest_key_hex: Some(secret.clone()),
            })
            .test_source(TestSourceConfig {
                shared_secret_hex: secret.clone(),
                block_bytes: 4096,
            })
            .build()
            .unwrap();
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains(&secret), "{dbg}");
        assert!(dbg.contains("<redacted>"));
    }

    #[test]
    fn builder_validates() {
        assert!(KmeConfig::builder().max_key_per_request(0).build().is_err());
        assert!(KmeConfig::builder().site_index(1).build().is_err()); // no peer
        let dup = SaeConfig {
            id: "A".into(),
            cert_identity: None,
            site: SaeSite::Local,
        };
        assert!(
            KmeConfig::builder()
                .sae(dup.clone())
                .sae(dup)
                .build()
                .is_err()
        );
        let ok = KmeConfig::builder().min_key_size_bits(128).build().unwrap();
        assert_eq!(ok.min_key_size_bits, 128);
    }
}
