//! TLS set-up (rustls with the ring provider, TLS 1.3 and 1.2), certificate identities, and
//! throwaway development certificates (rcgen).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::Error;
use crate::config::{IdentityMode, TlsFiles};

fn te(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

/// Reads every certificate of a PEM file.
///
/// # Errors
/// [`Error::Tls`] if the file cannot be read or holds no certificate.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = std::fs::read(path).map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(te)?;
    if certs.is_empty() {
        return Err(Error::Tls(format!("{}: no certificate", path.display())));
    }
    Ok(certs)
}

/// Reads the private key of a PEM file.
///
/// # Errors
/// [`Error::Tls`] if the file cannot be read or holds no key.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    let pem = std::fs::read(path).map_err(|e| Error::Tls(format!("{}: {e}", path.display())))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(te)?
        .ok_or_else(|| Error::Tls(format!("{}: no private key", path.display())))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server configuration: TLS 1.3 and 1.2; client certificates verified against the CA.
/// A connection without a client certificate is let through the handshake so that the API can
/// answer it with the spec's 401 Error JSON; it can reach nothing else.
///
/// # Errors
/// [`Error::Tls`] if the files are unusable.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, Error> {
    let mut roots = RootCertStore::empty();
    for c in load_certs(&files.ca)? {
        roots.add(c).map_err(te)?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .allow_unauthenticated()
        .build()
        .map_err(te)?;
    let mut cfg = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(te)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&files.cert)?, load_key(&files.key)?)
        .map_err(te)?;
    cfg.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// An HTTPS client that trusts `ca_pem` and authenticates with `cert_pem` + `key_pem`.
///
/// # Errors
/// [`Error::Tls`] if the PEM data is unusable.
pub fn https_client(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<reqwest::Client, Error> {
    let mut id = cert_pem.to_vec();
    id.extend_from_slice(b"\n");
    id.extend_from_slice(key_pem);
    let identity = reqwest::Identity::from_pem(&id).map_err(te)?;
    zeroize::Zeroize::zeroize(&mut id);
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .identity(identity)
        .pool_max_idle_per_host(256);
    for c in reqwest::Certificate::from_pem_bundle(ca_pem).map_err(te)? {
        b = b.add_root_certificate(c);
    }
    b.build().map_err(te)
}

/// The identity of a client certificate per `mode` (None if the certificate lacks that field).
#[must_use]
pub fn cert_identity(der: &[u8], mode: IdentityMode) -> Option<String> {
    if mode == IdentityMode::Fingerprint {
        let d = ring::digest::digest(&ring::digest::SHA256, der);
        return Some(d.as_ref().iter().map(|b| format!("{b:02x}")).collect());
    }
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    match mode {
        IdentityMode::Cn => cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map(str::to_owned),
        _ => {
            let san = cert.subject_alternative_name().ok()??;
            san.value.general_names.iter().find_map(|n| match n {
                x509_parser::extensions::GeneralName::DNSName(s)
                | x509_parser::extensions::GeneralName::URI(s) => Some((*s).to_owned()),
                _ => None,
            })
        }
    }
}

/// Writes a throwaway CA (`ca.pem`) and, for every name, `NAME.pem` + `NAME.key` signed by it, with
/// subject CN = NAME, SAN = NAME, localhost and 127.0.0.1, usable as server and client certificates.
/// For local trials only.
///
/// # Errors
/// [`Error::Tls`] if generation fails, [`Error::Io`] if a file cannot be written.
pub fn write_dev_certs(dir: &Path, names: &[&str]) -> Result<(), Error> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    std::fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate().map_err(te)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(te)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "qkd-etsi014 development CA (throwaway)");
    let ca_cert = ca.self_signed(&ca_key).map_err(te)?;
    std::fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    let issuer = Issuer::new(ca, ca_key);
    for name in names {
        let key = KeyPair::generate().map_err(te)?;
        let mut p = CertificateParams::new(vec![
            (*name).to_owned(),
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
        ])
        .map_err(te)?;
        p.distinguished_name.push(DnType::CommonName, *name);
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let cert = p.signed_by(&key, &issuer).map_err(te)?;
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem())?;
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem())?;
    }
    Ok(())
}
