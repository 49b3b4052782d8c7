//! Criterion benches of the key manager over loopback with mutual TLS: status and enc_keys
//! (one 256-bit key) requests issued by 64 concurrent SAE clients against two KMEs with durable
//! redb stores, and the in-memory pool's reserve/take cycle without the network.
//!
//! `cargo bench -p qkd-etsi014 --bench kme` (throughput is reported in requests per second).
//! The load-test example (`examples/loadtest.rs`) adds p50/p99 latency and the soak check.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_possible_truncation
)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{bind, client, config, start, tmp};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkd_etsi014::types::KeyRequest;
use qkd_etsi014::{Client, RedbStore};

/// Concurrent SAE connections, as in the latency figure.
const CLIENTS: u64 = 64;

/// Runs `iters` calls of `op` spread over [`CLIENTS`] concurrent tasks; returns the wall time.
fn concurrent<F, Fut>(rt: &tokio::runtime::Runtime, iters: u64, op: F) -> Duration
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    rt.block_on(async move {
        let t0 = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..CLIENTS {
            let op = op.clone();
            let n = iters / CLIENTS + u64::from(w < iters % CLIENTS);
            tasks.push(tokio::spawn(async move {
                for _ in 0..n {
                    op().await;
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        t0.elapsed()
    })
}

fn kme_requests(c: &mut Criterion) {
    // `cargo test --benches` runs each bench once: keep the pool small there.
    let smoke = std::env::args().any(|a| a == "--test");
    let max_keys: u64 = if smoke { 2_000 } else { 400_000 };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tmp();
    let (ca, _kmes) = rt.block_on(async {
        let ((la, pa), (lb, pb)) = (bind().await, bind().await);
        let sa = RedbStore::open(dir.join("a.redb"), None).unwrap();
        let sb = RedbStore::open(dir.join("b.redb"), None).unwrap();
        let a = start(config(&dir, 0, pb, max_keys), &dir, Box::new(sa), la).await;
        let b = start(config(&dir, 1, pa, max_keys), &dir, Box::new(sb), lb).await;
        while a.0.available_bytes() < max_keys * 32 || b.0.available_bytes() < max_keys * 32 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        (client(&dir, pa, "sae-a"), (a, b))
    });
    let one = KeyRequest {
        number: Some(1),
        size: Some(256),
        ..KeyRequest::default()
    };

    let mut g = c.benchmark_group("kme_tls_64_clients");
    g.throughput(Throughput::Elements(1));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("status", |b| {
        b.iter_custom(|iters| {
            let c: Client = ca.clone();
            concurrent(&rt, iters, move || {
                let c = c.clone();
                async move {
                    c.status("sae-b").await.expect("status");
                }
            })
        });
    });
    g.bench_function("enc_keys_1x256_peer_slave", |b| {
        b.iter_custom(|iters| {
            let (c, r) = (ca.clone(), one.clone());
            concurrent(&rt, iters, move || {
                let (c, r) = (c.clone(), r.clone());
                async move {
                    c.get_keys("sae-b", &r).await.expect("enc_keys");
                }
            })
        });
    });
    g.finish();
}

criterion_group!(benches, kme_requests);
criterion_main!(benches);
