//! Two KMEs on loopback: cross-site delivery, both ends as masters at once, crash-restart, peer
//! down, and the spec's errors.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;

use common::*;
use qkd_etsi014::types::KeyRequest;
use qkd_etsi014::{Error, MemoryStore};

fn req(n: u64) -> KeyRequest {
    KeyRequest {
        number: Some(n),
        ..KeyRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_ends_master_at_once_no_duplicates_no_losses_identical_keys() {
    let dir = tmp();
    let ((la, pa), (lb, pb)) = (bind().await, bind().await);
    let (_ka, ha) = start(
        config(&dir, 0, pb, 4000),
        &dir,
        Box::new(MemoryStore::new()),
        la,
    )
    .await;
    let (_kb, hb) = start(
        config(&dir, 1, pa, 4000),
        &dir,
        Box::new(MemoryStore::new()),
        lb,
    )
    .await;
    let (ca, cb) = (client(&dir, pa, "sae-a"), client(&dir, pb, "sae-b"));
    let st = ca.status("sae-b").await.unwrap();
    assert_eq!(st.target_kme_id, "KME-B");
    assert_eq!(st.status_extension.unwrap()["test_source"], true);

    // 2,000 requests: 1,000 from each end, 16 concurrent tasks per end.
    let mut tasks = Vec::new();
    for t in 0..32 {
        let (c, slave) = if t % 2 == 0 {
            (ca.clone(), "sae-b")
        } else {
            (cb.clone(), "sae-a")
        };
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for _ in 0..(1000 / 16) + 1 {
                got.extend(c.get_keys(slave, &req(1)).await.unwrap());
            }
            (t % 2, got)
        }));
    }
    let mut from_a = Vec::new();
    let mut from_b = Vec::new();
    for t in tasks {
        let (side, keys) = t.await.unwrap();
        if side == 0 {
            from_a.extend(keys)
        } else {
            from_b.extend(keys)
        }
    }
    let mut material = HashSet::new();
    let mut ids = HashSet::new();
    for k in from_a.iter().chain(&from_b) {
        assert!(ids.insert(k.key_id), "duplicate key ID");
        assert!(
            material.insert(k.key.expose_bytes().to_vec()),
            "key bytes served twice"
        );
    }
    // Every key is fetched by its slave at the other site, bit-identical, exactly once.
    for (keys, slave_client, master) in [(&from_a, &cb, "sae-a"), (&from_b, &ca, "sae-b")] {
        for chunk in keys.chunks(64) {
            let idv: Vec<_> = chunk.iter().map(|k| k.key_id).collect();
            let got = slave_client.get_keys_with_ids(master, &idv).await.unwrap();
            for (a, b) in chunk.iter().zip(&got) {
                assert_eq!(a, b);
            }
        }
        let again = slave_client
            .get_keys_with_ids(master, &[keys[0].key_id])
            .await;
        assert!(matches!(again, Err(Error::Api { status: 400, .. })));
    }
    ha.shutdown().await;
    hb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_restart_keeps_served_keys_and_never_reissues() {
    let dir = tmp();
    let ((la, pa), (lb, pb)) = (bind().await, bind().await);
    let (sa, sb) = (MemoryStore::new(), MemoryStore::new());
    let (ka, ha) = start(config(&dir, 0, pb, 500), &dir, Box::new(sa.clone()), la).await;
    let (_kb, hb) = start(config(&dir, 1, pa, 500), &dir, Box::new(sb.clone()), lb).await;
    let ca = client(&dir, pa, "sae-a");
    let first = ca.get_keys("sae-b", &req(20)).await.unwrap();
    // Crash both KMEs: whatever was not committed is gone; the committed image survives.
    ha.shutdown().await;
    hb.shutdown().await;
    drop(ka);
    let ((la, pa), (lb, pb)) = (bind().await, bind().await);
    let (_ka, ha) = start(config(&dir, 0, pb, 500), &dir, Box::new(sa), la).await;
    let (_kb, hb) = start(config(&dir, 1, pa, 500), &dir, Box::new(sb), lb).await;
    let (ca, cb) = (client(&dir, pa, "sae-a"), client(&dir, pb, "sae-b"));
    let second = ca.get_keys("sae-b", &req(20)).await.unwrap();
    let old: HashSet<Vec<u8>> = first
        .iter()
        .map(|k| k.key.expose_bytes().to_vec())
        .collect();
    assert!(second.iter().all(|k| !old.contains(k.key.expose_bytes())));
    let ids: Vec<_> = first.iter().chain(&second).map(|k| k.key_id).collect();
    let got = cb.get_keys_with_ids("sae-a", &ids).await.unwrap();
    for (a, b) in first.iter().chain(&second).zip(&got) {
        assert_eq!(a, b);
    }
    ha.shutdown().await;
    hb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peer_down_gives_503_and_recovers() {
    let dir = tmp();
    let ((la, pa), (lb, pb)) = (bind().await, bind().await);
    let (_ka, ha) = start(
        config(&dir, 0, pb, 500),
        &dir,
        Box::new(MemoryStore::new()),
        la,
    )
    .await;
    let sb = MemoryStore::new();
    let (_kb, hb) = start(config(&dir, 1, pa, 500), &dir, Box::new(sb.clone()), lb).await;
    let ca = client(&dir, pa, "sae-a");
    ca.get_keys("sae-b", &req(1)).await.unwrap();
    hb.shutdown().await;
    match ca.get_keys("sae-b", &req(1)).await {
        Err(Error::Api {
            status: 503,
            message,
            ..
        }) => assert!(message.contains("peer")),
        other => panic!("expected 503, got {other:?}"),
    }
    // Local slaves still work while the peer is down.
    assert!(ca.get_keys("sae-a2", &req(1)).await.is_ok());
    let lb = tokio::net::TcpListener::bind(("127.0.0.1", pb))
        .await
        .unwrap();
    let (_kb, hb) = start(config(&dir, 1, pa, 500), &dir, Box::new(sb), lb).await;
    let cb = client(&dir, pb, "sae-b");
    let mut ok = None;
    for _ in 0..40 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if let Ok(k) = ca.get_keys("sae-b", &req(1)).await {
            ok = Some(k);
            break;
        }
    }
    let k = ok.expect("recovered after the peer returned");
    let got = cb.get_keys_with_ids("sae-a", &[k[0].key_id]).await.unwrap();
    assert_eq!(got[0], k[0]);
    ha.shutdown().await;
    hb.shutdown().await;
}
