//! The SAE client: typed calls to a KME over mutual TLS.

use std::time::Duration;

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use qkd_core::SecretKey;
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Error;
use crate::types::{ErrorBody, KeyContainer, KeyIds, KeyRequest, Status};

/// A key received from a KME; the bytes zeroize on drop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// Key ID.
    pub key_id: Uuid,
    /// Key bytes.
    pub key: SecretKey,
}

/// An ETSI 014 SAE client. Retries only on 503 (the spec's "try again later").
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    retries_on_503: u32,
}

/// Reads a response body into zeroizing memory and wipes every received chunk the client
/// owns alone. Growth copies into a fresh zeroizing buffer so no stale copy of a key is left in a
/// freed allocation. (Buffers inside hyper and rustls are outside our reach.)
async fn read_body(mut resp: reqwest::Response) -> Result<Zeroizing<Vec<u8>>, Error> {
    let hint = resp
        .content_length()
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
        .min(1 << 20);
    let mut body = Zeroizing::new(Vec::with_capacity(hint));
    while let Some(chunk) = resp.chunk().await.map_err(|e| he(&e))? {
        if body.len() + chunk.len() > body.capacity() {
            let mut grown = Zeroizing::new(Vec::with_capacity(
                (body.len() + chunk.len()).max(2 * body.capacity()),
            ));
            grown.extend_from_slice(&body);
            body = grown; // the old buffer is zeroized on drop
        }
        body.extend_from_slice(&chunk);
        if let Ok(mut owned) = chunk.try_into_mut() {
            zeroize::Zeroize::zeroize(&mut owned[..]);
        }
    }
    Ok(body)
}

fn he(e: &reqwest::Error) -> Error {
    Error::Http(e.to_string())
}

impl Client {
    /// A client of the KME at `base_url` (e.g. `https://127.0.0.1:8443`), trusting `ca_pem` and
    /// authenticating with the SAE certificate and key.
    ///
    /// # Errors
    /// [`Error::Tls`] if the PEM data is unusable.
    pub fn new(
        base_url: &str,
        ca_pem: &[u8],
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, Error> {
        Ok(Self::with_http(
            base_url,
            crate::tls::https_client(ca_pem, cert_pem, key_pem)?,
        ))
    }

    /// A client over an existing HTTP client (which must carry the SAE's client certificate).
    #[must_use]
    pub fn with_http(base_url: &str, http: reqwest::Client) -> Self {
        Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            retries_on_503: 3,
        }
    }

    /// Sets how often a 503 answer is retried (with 50 ms, 100 ms, ... back-off).
    #[must_use]
    pub fn retries_on_503(mut self, n: u32) -> Self {
        self.retries_on_503 = n;
        self
    }

    fn url(&self, sae: &str, op: &str) -> String {
        format!(
            "{}/api/v1/keys/{}/{op}",
            self.base,
            utf8_percent_encode(sae, NON_ALPHANUMERIC)
        )
    }

    async fn send(
        &self,
        make: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<Zeroizing<Vec<u8>>, Error> {
        let mut attempt = 0;
        loop {
            let resp = make().send().await.map_err(|e| he(&e))?;
            let status = resp.status().as_u16();
            let body = read_body(resp).await?;
            if status == 200 {
                return Ok(body);
            }
            if status == 503 && attempt < self.retries_on_503 {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
                continue;
            }
            let (message, details) = match serde_json::from_slice::<ErrorBody>(&body) {
                Ok(e) => (e.message, e.details),
                Err(_) => (String::from_utf8_lossy(&body).into_owned(), None),
            };
            return Err(Error::Api {
                status,
                message,
                details,
            });
        }
    }

    /// Get status (`GET /api/v1/keys/{slave}/status`).
    ///
    /// # Errors
    /// [`Error::Api`] with the KME's message, or [`Error::Http`].
    pub async fn status(&self, slave_sae_id: &str) -> Result<Status, Error> {
        let url = self.url(slave_sae_id, "status");
        let body = self.send(|| self.http.get(&url)).await?;
        serde_json::from_slice(&body).map_err(|e| Error::Http(format!("bad status JSON: {e}")))
    }

    /// Get key (enc_keys): GET for a request with only number/size, POST otherwise.
    ///
    /// # Errors
    /// [`Error::Api`] with the KME's message, or [`Error::Http`].
    pub async fn get_keys(&self, slave_sae_id: &str, req: &KeyRequest) -> Result<Vec<Key>, Error> {
        let url = self.url(slave_sae_id, "enc_keys");
        let body = if req.is_simple() {
            let mut q = Vec::new();
            if let Some(n) = req.number {
                q.push(("number", n));
            }
            if let Some(s) = req.size {
                q.push(("size", s));
            }
            self.send(|| self.http.get(&url).query(&q)).await?
        } else {
            let json = serde_json::to_vec(req).map_err(|e| Error::Http(e.to_string()))?;
            self.send(|| {
                self.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(json.clone())
            })
            .await?
        };
        keys_of(&body)
    }

    /// Get key with key IDs (dec_keys): GET for one ID, POST otherwise.
    ///
    /// # Errors
    /// [`Error::Api`] with the KME's message, or [`Error::Http`].
    pub async fn get_keys_with_ids(
        &self,
        master_sae_id: &str,
        ids: &[Uuid],
    ) -> Result<Vec<Key>, Error> {
        let url = self.url(master_sae_id, "dec_keys");
        let body = if let [id] = ids {
            let id = id.hyphenated().to_string();
            self.send(|| self.http.get(&url).query(&[("key_ID", &id)]))
                .await?
        } else {
            let json = serde_json::to_vec(&KeyIds::new(ids.iter().copied()))
                .map_err(|e| Error::Http(e.to_string()))?;
            self.send(|| {
                self.http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(json.clone())
            })
            .await?
        };
        keys_of(&body)
    }
}

fn keys_of(body: &[u8]) -> Result<Vec<Key>, Error> {
    let c: KeyContainer =
        serde_json::from_slice(body).map_err(|e| Error::Http(format!("bad key container: {e}")))?;
    c.keys
        .iter()
        .map(|k| {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&k.key)
                .map_err(|_| Error::Http("key is not base64".into()))?;
            Ok(Key {
                key_id: k.key_id,
                key: SecretKey::from_bytes(bytes),
            })
        })
        .collect()
}
