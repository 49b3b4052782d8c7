//! `qkd kme`: run an ETSI GS QKD 014 key manager, act as an SAE client, or make dev certificates.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use base64::Engine as _;
use clap::{Args, Subcommand};
use qkd_etsi014::config::StoreConfig;
use qkd_etsi014::types::KeyRequest;
use qkd_etsi014::{AtRest, Client, KeyStore, Kme, KmeConfig, MemoryStore, RedbStore};
use serde_json::json;

use super::{GlobalArgs, print_json};

#[derive(Debug, Args)]
pub(crate) struct KmeArgs {
    #[command(subcommand)]
    cmd: KmeCmd,
}

/// Connection of an SAE client.
#[derive(Debug, Args)]
struct SaeConn {
    /// KME base URL, e.g. https://127.0.0.1:8443
    #[arg(long)]
    url: String,
    /// CA certificate (PEM) that signed the KME's certificate.
    #[arg(long)]
    ca: PathBuf,
    /// This SAE's certificate (PEM).
    #[arg(long)]
    cert: PathBuf,
    /// This SAE's private key (PEM).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Debug, Subcommand)]
enum KmeCmd {
    /// Run a KME from a kme.toml until Ctrl-C.
    Serve {
        /// Configuration file.
        #[arg(long)]
        config: PathBuf,
    },
    /// GET status for a slave SAE.
    Status {
        #[command(flatten)]
        conn: SaeConn,
        /// Slave SAE ID.
        slave: String,
    },
    /// Get keys (enc_keys) as master SAE.
    Enc {
        #[command(flatten)]
        conn: SaeConn,
        /// Slave SAE ID.
        slave: String,
        /// Number of keys.
        #[arg(long)]
        number: Option<u64>,
        /// Key size in bits.
        #[arg(long)]
        size: Option<u64>,
        /// Additional slave SAE IDs (multicast).
        #[arg(long = "additional")]
        additional: Vec<String>,
    },
    /// Get keys with key IDs (dec_keys) as slave SAE.
    Dec {
        #[command(flatten)]
        conn: SaeConn,
        /// Master SAE ID.
        master: String,
        /// Key IDs.
        #[arg(required = true)]
        key_ids: Vec<uuid::Uuid>,
    },
    /// Write a throwaway CA, certificates for kme-a, kme-b, sae-a, sae-b, and two-site configs
    /// kme-a.toml / kme-b.toml (loopback ports 8443/8444, TEST key source) into DIR.
    DevCerts {
        /// Output directory.
        dir: PathBuf,
    },
}

pub(crate) fn run(global: &GlobalArgs, args: &KmeArgs) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(global, args))
}

fn client(c: &SaeConn) -> anyhow::Result<Client> {
    let r = |p: &Path| std::fs::read(p).with_context(|| p.display().to_string());
    Ok(Client::new(&c.url, &r(&c.ca)?, &r(&c.cert)?, &r(&c.key)?)?)
}

fn keys_json(keys: &[qkd_etsi014::Key]) -> serde_json::Value {
    let b64 = base64::engine::general_purpose::STANDARD;
    json!({ "keys": keys.iter().map(|k| json!({
        "key_ID": k.key_id, "key": b64.encode(k.key.expose_bytes())
    })).collect::<Vec<_>>() })
}

async fn run_async(global: &GlobalArgs, args: &KmeArgs) -> anyhow::Result<()> {
    match &args.cmd {
        KmeCmd::Serve { config } => serve(global, config).await,
        KmeCmd::Status { conn, slave } => {
            let s = client(conn)?.status(slave).await?;
            print_json(&s)
        }
        KmeCmd::Enc {
            conn,
            slave,
            number,
            size,
            additional,
        } => {
            let req = KeyRequest {
                number: *number,
                size: *size,
                additional_slave_sae_ids: (!additional.is_empty()).then(|| additional.clone()),
                ..KeyRequest::default()
            };
            let keys = client(conn)?.get_keys(slave, &req).await?;
            print_json(&keys_json(&keys))
        }
        KmeCmd::Dec {
            conn,
            master,
            key_ids,
        } => {
            let keys = client(conn)?.get_keys_with_ids(master, key_ids).await?;
            print_json(&keys_json(&keys))
        }
        KmeCmd::DevCerts { dir } => dev_certs(global, dir),
    }
}

async fn serve(global: &GlobalArgs, path: &Path) -> anyhow::Result<()> {
    if !global.quiet {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::io::stderr)
            .try_init();
    }
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    let cfg = KmeConfig::from_toml_str(&text)?;
    let store: Box<dyn KeyStore> = match &cfg.store {
        StoreConfig::Memory => Box::new(MemoryStore::new()),
        StoreConfig::Redb {
            path,
            at_rest_key_hex,
        } => {
            let at_rest = match at_rest_key_hex {
                Some(h) => {
                    let mut k = [0u8; 32];
                    for (i, b) in k.iter_mut().enumerate() {
                        *b = u8::from_str_radix(&h[2 * i..2 * i + 2], 16)?;
                    }
                    Some(AtRest::new(&k))
                }
                None => None,
            };
            Box::new(RedbStore::open(path, at_rest)?)
        }
    };
    let peer_client = if cfg.peer.is_some() {
        let r = |p: &Path| std::fs::read(p).with_context(|| p.display().to_string());
        Some(qkd_etsi014::tls::https_client(
            &r(&cfg.tls.ca)?,
            &r(&cfg.tls.cert)?,
            &r(&cfg.tls.key)?,
        )?)
    } else {
        None
    };
    let tls = qkd_etsi014::tls::server_config(&cfg.tls)?;
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let kme = Kme::start(cfg, store, peer_client)?;
    let h = qkd_etsi014::serve(kme, listener, tls);
    eprintln!("qkd kme: serving on https://{}", h.addr);
    tokio::signal::ctrl_c().await?;
    h.shutdown().await;
    Ok(())
}

fn dev_certs(global: &GlobalArgs, dir: &Path) -> anyhow::Result<()> {
    qkd_etsi014::tls::write_dev_certs(dir, &["kme-a", "kme-b", "sae-a", "sae-b"])?;
    let secret: String = {
        use rand::Rng as _;
        let mut b = [0u8; 32];
        rand::rng().fill_bytes(&mut b);
        b.iter().map(|x| format!("{x:02x}")).collect()
    };
    for (me, other, site, port, peer_port, local, remote) in [
        ("kme-a", "kme-b", 0, 8443, 8444, "sae-a", "sae-b"),
        ("kme-b", "kme-a", 1, 8444, 8443, "sae-b", "sae-a"),
    ] {
        let d = dir.display();
        let toml = format!(
            r#"# Development configuration written by `qkd kme dev-certs`. Loopback only.
kme_id = "{KME}"
listen = "127.0.0.1:{port}"
site_index = {site}
max_key_count = 10000

[tls]
ca = "{d}/ca.pem"
cert = "{d}/{me}.pem"
key = "{d}/{me}.key"

[[sae]]
id = "{local}"
site = "local"

[[sae]]
id = "{remote}"
site = "peer"

[peer]
kme_id = "{OTHER}"
url = "https://127.0.0.1:{peer_port}"
cert_identity = "{other}"

[store]
kind = "redb"
path = "{d}/{me}.redb"

# TEST ONLY: keys derived from a shared secret, no QKD security. A real site gets its keys
# from a link through Kme::push_block.
[test_source]
shared_secret_hex = "{secret}"
block_bytes = 4096
"#,
            KME = me.to_uppercase(),
            OTHER = other.to_uppercase(),
        );
        std::fs::write(dir.join(format!("{me}.toml")), toml)?;
    }
    if global.json {
        return print_json(
            &json!({ "dir": dir, "files": ["ca.pem", "kme-a.pem", "kme-a.key", "kme-b.pem", "kme-b.key", "sae-a.pem", "sae-a.key", "sae-b.pem", "sae-b.key", "kme-a.toml", "kme-b.toml"] }),
        );
    }
    println!(
        "wrote a throwaway CA, certificates and kme-a.toml / kme-b.toml to {}",
        dir.display()
    );
    Ok(())
}
