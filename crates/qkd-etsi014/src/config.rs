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

/// Where the pool is kept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestSourceConfig {
    /// 32-byte hex secret shared by both sites.
    pub shared_secret_hex: String,
    /// Bytes per generated block.
    #[serde(default = "default_block_bytes")]
    pub block_bytes: u32,
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
