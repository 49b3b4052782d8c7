//! Load test of two KMEs on 127.0.0.1 with durable redb stores and mutual TLS: status and
//! enc_keys throughput with p99 latency, then a soak with both ends acting as masters at once,
//! every key fetched by its slave and checked (duplicates, missing, bit-identical).
//!
//! `cargo run --profile test -p qkd-etsi014 --example loadtest -- [requests] [concurrency] [soak]`
//! (defaults 20000 64 200000). Loopback only.
// Tool code: a failed step should stop the run loudly.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use common::*;
use qkd_etsi014::types::KeyRequest;
use qkd_etsi014::{Client, RedbStore};

fn arg(i: usize, d: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|s| s.parse().ok())
        .unwrap_or(d)
}

async fn phase<F, Fut>(name: &str, total: usize, conc: usize, f: F) -> Vec<qkd_etsi014::Key>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Vec<qkd_etsi014::Key>> + Send,
{
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..conc {
        let f = f.clone();
        let n = total / conc + usize::from(w < total % conc);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(n);
            let mut keys = Vec::new();
            for i in 0..n {
                let t = Instant::now();
                keys.extend(f(w * 1_000_000 + i).await);
                lat.push(t.elapsed());
            }
            (lat, keys)
        }));
    }
    let mut lat: Vec<Duration> = Vec::with_capacity(total);
    let mut keys = Vec::new();
    for t in tasks {
        let (l, k) = t.await.expect("task");
        lat.extend(l);
        keys.extend(k);
    }
    let secs = t0.elapsed().as_secs_f64();
    lat.sort_unstable();
    let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)].as_secs_f64() * 1e3;
    println!(
        "{name:<34} {total:>7} req  {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms  ({conc} clients)",
        total as f64 / secs,
        p(0.50),
        p(0.99)
    );
    keys
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (requests, conc, soak) = (arg(1, 20_000), arg(2, 64), arg(3, 200_000));
    let dir = tmp();
    let ((la, pa), (lb, pb)) = (bind().await, bind().await);
    let max = soak as u64 / 2 + requests as u64 * 2 + 10_000;
    let (ca_cfg, cb_cfg) = (config(&dir, 0, pb, max), config(&dir, 1, pa, max));
    let sa = RedbStore::open(dir.join("a.redb"), None).expect("redb");
    let sb = RedbStore::open(dir.join("b.redb"), None).expect("redb");
    let (ka, ha) = start(ca_cfg, &dir, Box::new(sa), la).await;
    let (kb, hb) = start(cb_cfg, &dir, Box::new(sb), lb).await;
    while ka.available_bytes() < max * 32 || kb.available_bytes() < max * 32 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("two KMEs on 127.0.0.1, redb stores (fsync per group commit), TLS 1.3 mutual auth");
    let ca = client(&dir, pa, "sae-a");
    let cb = client(&dir, pb, "sae-b");
    let ca2 = client(&dir, pb, "sae-c");
    let one = KeyRequest {
        number: Some(1),
        size: Some(256),
        ..KeyRequest::default()
    };

    let c = ca.clone();
    phase("status", requests, conc, move |_| {
        let c = c.clone();
        async move {
            c.status("sae-b").await.expect("status");
            Vec::new()
        }
    })
    .await;
    let (c, r) = (ca.clone(), one.clone());
    let local = phase(
        "enc_keys 1x256 (slave at same KME)",
        requests,
        conc,
        move |_| {
            let (c, r) = (c.clone(), r.clone());
            async move { c.get_keys("sae-a2", &r).await.expect("enc") }
        },
    )
    .await;
    let (c, r) = (ca.clone(), one.clone());
    let remote = phase(
        "enc_keys 1x256 (slave at peer KME)",
        requests,
        conc,
        move |_| {
            let (c, r) = (c.clone(), r.clone());
            async move { c.get_keys("sae-b", &r).await.expect("enc") }
        },
    )
    .await;
    drop((local, remote));

    // Soak: both ends master at once.
    let (c1, c2, r) = (ca.clone(), cb.clone(), one.clone());
    let keys = phase("soak enc_keys, both ends at once", soak, conc, move |i| {
        let (c1, c2, r) = (c1.clone(), c2.clone(), r.clone());
        async move {
            if (i / 1_000_000) % 2 == 0 {
                c1.get_keys("sae-c", &r)
                    .await
                    .expect("enc a")
                    .into_iter()
                    .map(|k| qkd_etsi014::Key {
                        key_id: tag(k.key_id, 0),
                        key: k.key,
                    })
                    .collect()
            } else {
                c2.get_keys("sae-a", &r)
                    .await
                    .expect("enc b")
                    .into_iter()
                    .map(|k| qkd_etsi014::Key {
                        key_id: tag(k.key_id, 1),
                        key: k.key,
                    })
                    .collect()
            }
        }
    })
    .await;
    let t0 = Instant::now();
    let mut ids = HashSet::new();
    let mut bytes = HashSet::new();
    let (mut dup, mut missing, mut mismatch) = (0usize, 0usize, 0usize);
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for k in keys {
        let (id, side) = untag(k.key_id);
        if !ids.insert(id) || !bytes.insert(k.key.expose_bytes().to_vec()) {
            dup += 1;
        }
        let k = qkd_etsi014::Key {
            key_id: id,
            key: k.key,
        };
        if side == 0 {
            from_a.push(k)
        } else {
            from_b.push(k)
        }
    }
    for (list, slave, master) in [
        (&from_a, &ca2, "sae-a"),
        (&from_b, &ca_fetch(&dir, pa), "sae-b"),
    ] {
        let mut tasks = Vec::new();
        for chunk in list.chunks(128) {
            let (slave, chunk) = (slave.clone(), chunk.to_vec());
            tasks.push(tokio::spawn(async move {
                let ids: Vec<_> = chunk.iter().map(|k| k.key_id).collect();
                match slave.get_keys_with_ids(master, &ids).await {
                    Ok(got) => (0, chunk.iter().zip(&got).filter(|(a, b)| a != b).count()),
                    Err(_) => (chunk.len(), 0),
                }
            }));
            if tasks.len() >= conc {
                for t in tasks.drain(..) {
                    let (m, x) = t.await.expect("fetch");
                    missing += m;
                    mismatch += x;
                }
            }
        }
        for t in tasks {
            let (m, x) = t.await.expect("fetch");
            missing += m;
            mismatch += x;
        }
    }
    println!(
        "soak check: {} keys (A->{}, B->{}), duplicates {dup}, missing {missing}, not bit-identical {mismatch}  (fetch {:.1} s)",
        from_a.len() + from_b.len(),
        from_a.len(),
        from_b.len(),
        t0.elapsed().as_secs_f64()
    );
    ha.shutdown().await;
    hb.shutdown().await;
    assert_eq!((dup, missing, mismatch), (0, 0, 0), "soak failed");
}

/// Keys from site A are fetched by sae-c at KME-B; keys from site B by sae-a at KME-A.
fn ca_fetch(dir: &std::path::Path, pa: u16) -> Client {
    client(dir, pa, "sae-a")
}

fn tag(id: uuid::Uuid, side: u8) -> uuid::Uuid {
    // Store the side in a parallel set would be cleaner; UUID v4 has 122 random bits, so the
    // variant nibble is free to carry it for this tool only.
    let mut b = *id.as_bytes();
    b[8] = (b[8] & 0x3f) | if side == 0 { 0x80 } else { 0xc0 };
    uuid::Uuid::from_bytes(b)
}

fn untag(id: uuid::Uuid) -> (uuid::Uuid, u8) {
    let mut b = *id.as_bytes();
    let side = u8::from(b[8] & 0x40 != 0);
    b[8] = (b[8] & 0x3f) | 0x80;
    (uuid::Uuid::from_bytes(b), side)
}
