//! The data formats of ETSI GS QKD 014 V1.1.1 §6 (Status, Key request, Key container, Key IDs,
//! Error), with the spec's exact field names.
//!
//! Every struct tolerates unknown fields (some clients send extra ones) and omits absent optional
//! fields when serialized. Keys travel as base64 (RFC 4648 §4, padded); key IDs are UUIDs.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// Status data format (§6.1): what the KME can deliver for one master/slave pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// KME ID of the KME answering the request.
    #[serde(rename = "source_KME_ID")]
    pub source_kme_id: String,
    /// KME ID of the slave SAE's KME.
    #[serde(rename = "target_KME_ID")]
    pub target_kme_id: String,
    /// SAE ID of the caller (the master SAE).
    #[serde(rename = "master_SAE_ID")]
    pub master_sae_id: String,
    /// SAE ID given in the path (the slave SAE).
    #[serde(rename = "slave_SAE_ID")]
    pub slave_sae_id: String,
    /// Default key size in bits.
    pub key_size: u64,
    /// Number of keys of the default size the KME can serve now.
    pub stored_key_count: u64,
    /// Maximum number of stored keys of the default size.
    pub max_key_count: u64,
    /// Maximum number of keys per request.
    pub max_key_per_request: u64,
    /// Maximum key size in bits.
    pub max_key_size: u64,
    /// Minimum key size in bits.
    pub min_key_size: u64,
    /// Maximum number of additional slave SAEs in one request (0: no multicast).
    #[serde(rename = "max_SAE_ID_count")]
    pub max_sae_id_count: u64,
    /// Vendor extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_extension: Option<Value>,
}

/// Key request data format (§6.2), the body of POST enc_keys. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRequest {
    /// Number of keys (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Key size in bits (default: the KME's `key_size`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Further slave SAEs that receive the same keys (multicast, Annex B).
    #[serde(
        rename = "additional_slave_SAE_IDs",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub additional_slave_sae_ids: Option<Vec<String>>,
    /// Extension parameters the KME must honour or refuse the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_mandatory: Option<Vec<Value>>,
    /// Extension parameters the KME may ignore.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_optional: Option<Vec<Value>>,
}

impl KeyRequest {
    /// True if the request can be sent as `GET enc_keys?number=&size=` (§5.2: GET carries only those).
    #[must_use]
    pub fn is_simple(&self) -> bool {
        self.additional_slave_sae_ids.is_none()
            && self.extension_mandatory.is_none()
            && self.extension_optional.is_none()
    }
}

/// One key in a [`KeyContainer`] (§6.3). The `key` string is secret: it is redacted in Debug.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// Key ID (a UUID).
    #[serde(rename = "key_ID")]
    pub key_id: Uuid,
    /// Vendor extension of the key ID.
    #[serde(
        rename = "key_ID_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_id_extension: Option<Value>,
    /// Key, base64 (RFC 4648, padded).
    pub key: String,
    /// Vendor extension of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_extension: Option<Value>,
}

impl std::fmt::Debug for KeyEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyEntry")
            .field("key_id", &self.key_id)
            .field("key_len_chars", &self.key.len())
            .finish_non_exhaustive()
    }
}

impl Drop for KeyEntry {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

/// Key container data format (§6.3): the answer of enc_keys and dec_keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyContainer {
    /// The keys.
    pub keys: Vec<KeyEntry>,
    /// Vendor extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_container_extension: Option<Value>,
}

/// One key ID in a [`KeyIds`] request (§6.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyIdEntry {
    /// Key ID.
    #[serde(rename = "key_ID")]
    pub key_id: Uuid,
    /// Vendor extension.
    #[serde(
        rename = "key_ID_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_id_extension: Option<Value>,
}

/// Key IDs data format (§6.4), the body of POST dec_keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyIds {
    /// The requested key IDs.
    #[serde(rename = "key_IDs")]
    pub key_ids: Vec<KeyIdEntry>,
    /// Vendor extension.
    #[serde(
        rename = "key_IDs_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_ids_extension: Option<Value>,
}

impl KeyIds {
    /// A request for the given IDs without extensions.
    #[must_use]
    pub fn new(ids: impl IntoIterator<Item = Uuid>) -> Self {
        Self {
            key_ids: ids
                .into_iter()
                .map(|key_id| KeyIdEntry {
                    key_id,
                    key_id_extension: None,
                })
                .collect(),
            key_ids_extension: None,
        }
    }
}

/// Error data format (§6.5): the body of every 400, 401 and 503 answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Human-readable message (the spec's wording where it gives one).
    pub message: String,
    /// Further details, e.g. `[{"extension_mandatory_unsupported": [...]}]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names_follow_the_spec_and_unknown_fields_are_tolerated() {
        let j = r#"{"number":2,"size":256,"additional_slave_SAE_IDs":["x"],"extension_mandatory":[{"a":1}],"vendor_thing":true}"#;
        let r: KeyRequest = serde_json::from_str(j).unwrap();
        assert_eq!(r.number, Some(2));
        assert_eq!(
            r.additional_slave_sae_ids.as_deref(),
            Some(&["x".to_string()][..])
        );
        assert!(!r.is_simple());
        let s = serde_json::to_string(&KeyIds::new([Uuid::nil()])).unwrap();
        assert_eq!(
            s,
            r#"{"key_IDs":[{"key_ID":"00000000-0000-0000-0000-000000000000"}]}"#
        );
        let e: KeyEntry = serde_json::from_str(
            r#"{"key_ID":"00000000-0000-0000-0000-000000000001","key":"AAE=","x":1}"#,
        )
        .unwrap();
        assert!(!format!("{e:?}").contains("AAE="));
    }
}
