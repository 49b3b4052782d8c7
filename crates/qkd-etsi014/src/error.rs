//! The error type of qkd-etsi014.

use thiserror::Error;

/// Everything that can go wrong in the library (configuration, storage, TLS, client calls).
/// Refusals of API requests are not errors of this type: the server answers them with the spec's
/// Error JSON; the client returns them as [`Error::Api`].
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The key store failed (I/O, corrupt or unauthenticated record).
    #[error("key store: {0}")]
    Store(String),
    /// Certificates or keys could not be loaded, or TLS could not be set up.
    #[error("TLS: {0}")]
    Tls(String),
    /// I/O error (binding, files).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The KME is shutting down or its writer stopped.
    #[error("KME stopped")]
    Stopped,
    /// A KME answered a client request with an error status and the spec's Error JSON.
    #[error("KME answered {status}: {message}")]
    Api {
        /// HTTP status (400, 401 or 503).
        status: u16,
        /// The Error JSON's `message`.
        message: String,
        /// The Error JSON's `details`, if any.
        details: Option<Vec<serde_json::Value>>,
    },
    /// Transport failure of a client request (connection, TLS, malformed answer).
    #[error("HTTP: {0}")]
    Http(String),
}
