//! `qkd kme dev-certs` writes usable certificates and configs; `qkd kme serve` serves them and
//! `qkd kme status|enc|dec` talk to it over mutual TLS.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

fn qkd() -> Command {
    Command::new(env!("CARGO_BIN_EXE_qkd"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn dev_certs_serve_enc_dec_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(
        qkd()
            .args(["kme", "dev-certs"])
            .arg(d)
            .status()
            .unwrap()
            .success()
    );
    let (pa, pb) = (free_port(), free_port());
    for (f, from, to) in [
        ("kme-a.toml", (8443, 8444), (pa, pb)),
        ("kme-b.toml", (8444, 8443), (pb, pa)),
    ] {
        let t = std::fs::read_to_string(d.join(f)).unwrap();
        let t = t
            .replace(
                &format!("127.0.0.1:{}\"\nsite", from.0),
                &format!("127.0.0.1:{}\"\nsite", to.0),
            )
            .replace(
                &format!("https://127.0.0.1:{}", from.1),
                &format!("https://127.0.0.1:{}", to.1),
            );
        std::fs::write(d.join(f), t).unwrap();
    }
    let mut servers: Vec<_> = ["kme-a.toml", "kme-b.toml"]
        .iter()
        .map(|f| {
            qkd()
                .args(["--quiet", "kme", "serve", "--config"])
                .arg(d.join(f))
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let conn = |port: u16, who: &str| {
        vec![
            "--url".to_string(),
            format!("https://127.0.0.1:{port}"),
            "--ca".into(),
            d.join("ca.pem").display().to_string(),
            "--cert".into(),
            d.join(format!("{who}.pem")).display().to_string(),
            "--key".into(),
            d.join(format!("{who}.key")).display().to_string(),
        ]
    };
    let mut status = None;
    for _ in 0..100 {
        let o = qkd()
            .args(["kme", "status"])
            .args(conn(pa, "sae-a"))
            .arg("sae-b")
            .output()
            .unwrap();
        if o.status.success() {
            status = Some(String::from_utf8(o.stdout).unwrap());
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status: serde_json::Value = serde_json::from_str(&status.expect("KME came up")).unwrap();
    assert_eq!(status["target_KME_ID"], "KME-B");
    let o = qkd()
        .args(["kme", "enc"])
        .args(conn(pa, "sae-a"))
        .args(["sae-b", "--number", "2", "--size", "512"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let enc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = enc["keys"][1]["key_ID"].as_str().unwrap().to_owned();
    let o = qkd()
        .args(["kme", "dec"])
        .args(conn(pb, "sae-b"))
        .args(["sae-a", &id])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(dec["keys"][0]["key"], enc["keys"][1]["key"]);
    for s in &mut servers {
        let _ = s.kill();
        let _ = s.wait();
    }
}
