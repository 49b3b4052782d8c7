//! A two-site test bed on 127.0.0.1: dev certificates, two KMEs (site 0 and 1) with the test
//! source, SAE clients.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::missing_panics_doc,
    clippy::unwrap_used
)]

use std::path::{Path, PathBuf};

use qkd_etsi014::config::{PeerConfig, StoreConfig, TestSourceConfig, TlsFiles};
use qkd_etsi014::{Client, KeyStore, Kme, KmeConfig, SaeConfig, SaeSite, ServerHandle};

pub const SECRET: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub fn certs(dir: &Path) {
    qkd_etsi014::tls::write_dev_certs(
        dir,
        &["kme-a", "kme-b", "sae-a", "sae-b", "sae-c", "sae-a2"],
    )
    .expect("dev certs");
}

pub fn config(dir: &Path, site: u8, peer_port: u16, max_key_count: u64) -> KmeConfig {
    let (me, other) = if site == 0 {
        ("kme-a", "kme-b")
    } else {
        ("kme-b", "kme-a")
    };
    let sae = |id: &str, s: SaeSite| SaeConfig {
        id: id.into(),
        cert_identity: None,
        site: s,
    };
    let (l, p) = (SaeSite::Local, SaeSite::Peer);
    let saes = if site == 0 {
        vec![
            sae("sae-a", l),
            sae("sae-a2", l),
            sae("sae-b", p),
            sae("sae-c", p),
        ]
    } else {
        vec![
            sae("sae-a", p),
            sae("sae-a2", p),
            sae("sae-b", l),
            sae("sae-c", l),
        ]
    };
    KmeConfig {
        kme_id: me.to_uppercase(),
        listen: "127.0.0.1:0".parse().unwrap(),
        site_index: site,
        max_key_count,
        tls: TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join(format!("{me}.pem")),
            key: dir.join(format!("{me}.key")),
        },
        sae: saes,
        peer: Some(PeerConfig {
            kme_id: other.to_uppercase(),
            url: format!("https://127.0.0.1:{peer_port}"),
            cert_identity: other.into(),
        }),
        store: StoreConfig::Memory,
        test_source: Some(TestSourceConfig {
            shared_secret_hex: SECRET.into(),
            block_bytes: 4096,
        }),
        ..KmeConfig::default()
    }
}

pub fn read(dir: &Path, f: &str) -> Vec<u8> {
    std::fs::read(dir.join(f)).unwrap()
}

pub fn client(dir: &Path, port: u16, who: &str) -> Client {
    Client::new(
        &format!("https://127.0.0.1:{port}"),
        &read(dir, "ca.pem"),
        &read(dir, &format!("{who}.pem")),
        &read(dir, &format!("{who}.key")),
    )
    .unwrap()
    .retries_on_503(0)
}

/// Starts a KME on `listener` with `store`.
pub async fn start(
    cfg: KmeConfig,
    dir: &Path,
    store: Box<dyn KeyStore>,
    listener: tokio::net::TcpListener,
) -> (Kme, ServerHandle) {
    let me = if cfg.site_index == 0 {
        "kme-a"
    } else {
        "kme-b"
    };
    let peer_client = qkd_etsi014::tls::https_client(
        &read(dir, "ca.pem"),
        &read(dir, &format!("{me}.pem")),
        &read(dir, &format!("{me}.key")),
    )
    .unwrap();
    let tls = qkd_etsi014::tls::server_config(&cfg.tls).unwrap();
    let kme = Kme::start(cfg, store, Some(peer_client)).unwrap();
    let h = qkd_etsi014::serve(kme.clone(), listener, tls);
    (kme, h)
}

pub async fn bind() -> (tokio::net::TcpListener, u16) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let p = l.local_addr().unwrap().port();
    (l, p)
}

pub fn tmp() -> PathBuf {
    let d = tempfile::tempdir().unwrap().keep();
    certs(&d);
    d
}
