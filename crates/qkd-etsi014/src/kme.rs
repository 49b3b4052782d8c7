//! The KME runtime: one writer thread owns the pool and group-commits batches of requests; a peer
//! task batches announcements to the other site's KME.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Error;
use crate::config::{KmeConfig, SaeSite, hex32};
use crate::pool::{Announcement, KeyBytes, PoolState, Refusal};
use crate::store::KeyStore;

type Reply<T> = oneshot::Sender<T>;
/// Keys cut for a master, with the announcements owed to the peer.
pub(crate) type Reserved = (Vec<(Uuid, KeyBytes)>, Vec<Announcement>);

pub(crate) enum Op {
    Reserve {
        master: String,
        local: Vec<String>,
        remote: Vec<String>,
        number: usize,
        size_bytes: usize,
        reply: Reply<Result<Reserved, Refusal>>,
    },
    Take {
        slave: String,
        master: String,
        ids: Vec<Uuid>,
        reply: Reply<Result<Vec<(Uuid, KeyBytes)>, Refusal>>,
    },
    Announce {
        anns: Vec<Announcement>,
        reply: Reply<Vec<Result<(), Refusal>>>,
    },
    Push {
        id: u64,
        data: KeyBytes,
        reply: Reply<Result<(), Refusal>>,
    },
    OutboxDone(Vec<Uuid>),
    MarkVoid(Vec<Uuid>),
    TakeVoids(Reply<Vec<Announcement>>),
}

/// Counters published by the writer after each commit.
#[derive(Debug, Default)]
pub(crate) struct Published {
    pub(crate) owned_free_bytes: AtomicU64,
    pub(crate) waiting_keys: AtomicU64,
    pub(crate) commits: AtomicU64,
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The TEST ONLY source: block `i` = first `block_bytes` of BLAKE3-XOF keyed by the shared secret
/// over `"qkd-etsi014 test source" || i`.
fn test_block(secret: &[u8; 32], id: u64, len: usize) -> KeyBytes {
    let mut h = blake3::Hasher::new_keyed(secret);
    h.update(b"qkd-etsi014 test source");
    h.update(&id.to_le_bytes());
    let mut out = Zeroizing::new(vec![0u8; len]);
    h.finalize_xof().fill(&mut out);
    out
}

struct Writer {
    pool: PoolState,
    store: Box<dyn KeyStore>,
    source: Option<(Zeroizing<[u8; 32]>, usize)>,
    target_owned_bytes: u64,
    ttl_secs: u64,
    void: BTreeSet<Uuid>,
    published: Arc<Published>,
    site_index: u8,
    sites: u8,
}

/// Deferred answers of one batch, sent only after the commit.
enum Answer {
    Reserve(Reply<Result<Reserved, Refusal>>, Result<Reserved, Refusal>),
    Take(
        Reply<Result<Vec<(Uuid, KeyBytes)>, Refusal>>,
        Result<Vec<(Uuid, KeyBytes)>, Refusal>,
    ),
    Announce(Reply<Vec<Result<(), Refusal>>>, Vec<Result<(), Refusal>>),
    Push(Reply<Result<(), Refusal>>, Result<(), Refusal>),
}

impl Writer {
    fn top_up(&mut self) {
        let Some((secret, len)) = &self.source else {
            return;
        };
        let mut n = 0;
        while self.pool.owned_free_bytes() < self.target_owned_bytes && n < 4096 {
            let id = self.pool.next_source_block;
            let _ = self.pool.push_block(id, test_block(secret, id, *len));
            self.pool.next_source_block += 1;
            self.pool.dirty.meta = true;
            n += 1;
        }
    }

    fn ensure_source_blocks(&mut self, anns: &[Announcement]) {
        let Some((secret, len)) = &self.source else {
            return;
        };
        let want = anns
            .iter()
            .flat_map(|a| a.segments.iter().map(|s| s.block))
            .max();
        if let Some(max) = want {
            // Bounded, so a bogus block ID cannot make us generate forever.
            while self.pool.next_source_block <= max && max - self.pool.next_source_block < 1 << 16
            {
                let id = self.pool.next_source_block;
                let _ = self.pool.push_block(id, test_block(secret, id, *len));
                self.pool.next_source_block += 1;
                self.pool.dirty.meta = true;
            }
        }
    }

    fn run(mut self, mut rx: mpsc::UnboundedReceiver<Op>) {
        self.top_up();
        self.commit_or_rollback();
        let mut last_expire = now_unix();
        while let Some(first) = rx.blocking_recv() {
            let mut answers = Vec::new();
            let mut op = Some(first);
            let mut n = 0;
            while let Some(o) = op.take() {
                self.apply(o, &mut answers);
                n += 1;
                if n < 1024 {
                    op = rx.try_recv().ok();
                }
            }
            let now = now_unix();
            if now > last_expire + 10 {
                self.pool.expire(now, self.ttl_secs);
                last_expire = now;
            }
            self.top_up();
            let ok = self.commit_or_rollback();
            for a in answers {
                let fail = || Refusal::Unavailable("key store commit failed".into());
                match a {
                    Answer::Reserve(r, v) => {
                        let _ = r.send(if ok { v } else { Err(fail()) });
                    }
                    Answer::Take(r, v) => {
                        let _ = r.send(if ok { v } else { Err(fail()) });
                    }
                    Answer::Announce(r, v) => {
                        let _ = r.send(if ok {
                            v
                        } else {
                            v.iter().map(|_| Err(fail())).collect()
                        });
                    }
                    Answer::Push(r, v) => {
                        let _ = r.send(if ok { v } else { Err(fail()) });
                    }
                }
            }
        }
    }

    fn apply(&mut self, op: Op, answers: &mut Vec<Answer>) {
        match op {
            Op::Reserve {
                master,
                local,
                remote,
                number,
                size_bytes,
                reply,
            } => {
                if self.pool.owned_free_bytes() < (number * size_bytes) as u64 {
                    self.top_up();
                }
                let now = now_unix();
                let r = self
                    .pool
                    .reserve(&master, &local, &remote, number, size_bytes, now);
                answers.push(Answer::Reserve(reply, r));
            }
            Op::Take {
                slave,
                master,
                ids,
                reply,
            } => {
                let r = self.pool.take(&slave, &master, &ids);
                answers.push(Answer::Take(reply, r));
            }
            Op::Announce { anns, reply } => {
                self.ensure_source_blocks(&anns);
                let r = self.pool.apply_announcements(&anns);
                answers.push(Answer::Announce(reply, r));
            }
            Op::Push { id, data, reply } => {
                let r = self.pool.push_block(id, data);
                answers.push(Answer::Push(reply, r));
            }
            Op::OutboxDone(ids) => {
                for id in &ids {
                    self.void.remove(id);
                }
                self.pool.outbox_done(&ids);
            }
            Op::MarkVoid(ids) => self.void.extend(ids),
            Op::TakeVoids(reply) => {
                let v = self
                    .void
                    .iter()
                    .filter_map(|id| self.pool.outbox.get(id))
                    .map(|a| Announcement {
                        void: true,
                        ..a.clone()
                    })
                    .collect();
                let _ = reply.send(v);
            }
        }
    }

    fn commit_or_rollback(&mut self) -> bool {
        let dirty = self.pool.take_dirty();
        let ok = match self.store.commit(&self.pool, &dirty) {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, "commit failed; rolling back to the last commit");
                let mut fresh = PoolState::new(self.site_index, self.sites);
                if let Err(e) = self.store.load(&mut fresh) {
                    tracing::error!(error = %e, "reload failed");
                }
                self.pool = fresh;
                false
            }
        };
        self.published
            .owned_free_bytes
            .store(self.pool.owned_free_bytes(), Ordering::Relaxed);
        self.published
            .waiting_keys
            .store(self.pool.key_count() as u64, Ordering::Relaxed);
        self.published.commits.fetch_add(1, Ordering::Relaxed);
        ok
    }
}

/// A running key manager (without its HTTPS front end, see [`crate::server`]). Cheap to clone.
#[derive(Clone)]
pub struct Kme {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: KmeConfig,
    pub(crate) ops: mpsc::UnboundedSender<Op>,
    pub(crate) published: Arc<Published>,
    pub(crate) store_kind: &'static str,
    /// Certificate identity -> SAE ID.
    pub(crate) by_identity: HashMap<String, String>,
    pub(crate) sites: HashMap<String, SaeSite>,
    pub(crate) peer: Option<mpsc::Sender<PeerJob>>,
    pub(crate) peer_up: AtomicBool,
    pub(crate) void_client: Option<reqwest::Client>,
}

pub(crate) struct PeerJob {
    pub(crate) anns: Vec<Announcement>,
    pub(crate) reply: Reply<Result<(), String>>,
}

impl Kme {
    /// Loads the pool from `store` and starts the writer thread (and, with a peer, the peer task on
    /// the current tokio runtime, using `peer_client` built with this KME's client certificate).
    ///
    /// # Errors
    /// [`Error::Config`] if the configuration is invalid, [`Error::Store`] if loading fails.
    pub fn start(
        config: KmeConfig,
        mut store: Box<dyn KeyStore>,
        peer_client: Option<reqwest::Client>,
    ) -> Result<Self, Error> {
        config.validate()?;
        let sites_n = if config.peer.is_some() { 2 } else { 1 };
        let mut pool = PoolState::new(config.site_index, sites_n);
        store.load(&mut pool)?;
        let source = match &config.test_source {
            Some(t) => {
                tracing::warn!(
                    "TEST KEY SOURCE ENABLED: keys derive from a shared secret, not from QKD"
                );
                Some((
                    Zeroizing::new(hex32(&t.shared_secret_hex)?),
                    t.block_bytes as usize,
                ))
            }
            None => None,
        };
        let published = Arc::new(Published::default());
        let void: BTreeSet<Uuid> = pool.outbox.keys().copied().collect();
        let store_kind = store.kind();
        let writer = Writer {
            pool,
            store,
            source,
            target_owned_bytes: config.max_key_count * u64::from(config.key_size_bits / 8),
            ttl_secs: config.key_ttl_secs,
            void,
            published: published.clone(),
            site_index: config.site_index,
            sites: sites_n,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name(format!("kme-writer-{}", config.kme_id))
            .spawn(move || writer.run(rx))?;
        let by_identity = config
            .sae
            .iter()
            .map(|s| {
                (
                    s.cert_identity.clone().unwrap_or_else(|| s.id.clone()),
                    s.id.clone(),
                )
            })
            .collect();
        let sites = config.sae.iter().map(|s| (s.id.clone(), s.site)).collect();
        let void_client = peer_client.clone();
        let peer = match (&config.peer, peer_client) {
            (Some(p), Some(c)) => {
                let (ptx, prx) = mpsc::channel(4096);
                tokio::spawn(peer_task(c, p.url.clone(), prx));
                Some(ptx)
            }
            (Some(_), None) => {
                return Err(Error::Config("a [peer] needs a peer client".into()));
            }
            _ => None,
        };
        let kme = Self {
            inner: Arc::new(Inner {
                config,
                ops: tx,
                published,
                store_kind,
                by_identity,
                sites,
                peer,
                peer_up: AtomicBool::new(true),
                void_client,
            }),
        };
        if kme.inner.peer.is_some() {
            tokio::spawn(void_task(kme.clone()));
        }
        Ok(kme)
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &KmeConfig {
        &self.inner.config
    }

    pub(crate) async fn call<T>(&self, f: impl FnOnce(Reply<T>) -> Op) -> Result<T, Error> {
        let (tx, rx) = oneshot::channel();
        self.inner.ops.send(f(tx)).map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)
    }

    /// Key supply for a link: adds final key block `id` (the same ID and bytes at both sites;
    /// blocks with even IDs serve masters at site 0, odd IDs masters at site 1). Durable when this
    /// returns. Pushing the same block again is a no-op.
    ///
    /// # Errors
    /// [`Error::Store`] if a different block with this ID exists or existed, or the commit failed;
    /// [`Error::Stopped`] if the KME stopped.
    pub async fn push_block(&self, id: u64, data: Zeroizing<Vec<u8>>) -> Result<(), Error> {
        self.call(|reply| Op::Push { id, data, reply })
            .await?
            .map_err(|e| Error::Store(format!("block {id} refused: {e:?}")))
    }

    /// Bytes of own key material not yet cut (what enc_keys can still serve).
    #[must_use]
    pub fn available_bytes(&self) -> u64 {
        self.inner
            .published
            .owned_free_bytes
            .load(Ordering::Relaxed)
    }

    /// Keys cut and waiting for slaves at this site.
    #[must_use]
    pub fn waiting_keys(&self) -> u64 {
        self.inner.published.waiting_keys.load(Ordering::Relaxed)
    }

    /// Sends announcements to the peer and waits for its durable acknowledgement.
    pub(crate) async fn announce(&self, anns: Vec<Announcement>) -> Result<(), String> {
        let ids: Vec<Uuid> = anns.iter().map(|a| a.key_id).collect();
        let Some(peer) = &self.inner.peer else {
            return Err("no peer configured".into());
        };
        let (tx, rx) = oneshot::channel();
        let r = match peer.send(PeerJob { anns, reply: tx }).await {
            Ok(()) => rx.await.unwrap_or_else(|_| Err("peer task stopped".into())),
            Err(_) => Err("peer task stopped".into()),
        };
        let op = if r.is_ok() {
            Op::OutboxDone(ids)
        } else {
            Op::MarkVoid(ids)
        };
        let _ = self.inner.ops.send(op);
        self.inner.peer_up.store(r.is_ok(), Ordering::Relaxed);
        r
    }
}

/// Body of the KME-to-KME announce call.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct AnnounceBody {
    pub(crate) announcements: Vec<Announcement>,
}

/// Answer of the announce call: one entry per announcement, `null` if accepted.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct AnnounceResult {
    pub(crate) results: Vec<Option<String>>,
}

async fn post_announce(
    c: &reqwest::Client,
    url: &str,
    anns: &[Announcement],
) -> Result<Vec<Option<String>>, String> {
    let body = serde_json::to_vec(&AnnounceBody {
        announcements: anns.to_vec(),
    })
    .map_err(|e| e.to_string())?;
    let resp = c
        .post(format!("{url}/kme/v1/announce"))
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| format!("peer KME unreachable: {e}"))?;
    if !resp.status().is_success() {
        return Err(format!("peer KME answered {}", resp.status()));
    }
    let r: AnnounceResult = resp.json().await.map_err(|e| e.to_string())?;
    if r.results.len() != anns.len() {
        return Err("peer KME answered a wrong number of results".into());
    }
    Ok(r.results)
}

/// Batches announcement jobs into one HTTPS call to the peer.
async fn peer_task(c: reqwest::Client, url: String, mut rx: mpsc::Receiver<PeerJob>) {
    let url = url.trim_end_matches('/').to_owned();
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < 256 {
            match rx.try_recv() {
                Ok(j) => jobs.push(j),
                Err(_) => break,
            }
        }
        let all: Vec<Announcement> = jobs.iter().flat_map(|j| j.anns.iter().cloned()).collect();
        match post_announce(&c, &url, &all).await {
            Ok(results) => {
                let mut it = results.into_iter();
                for j in jobs {
                    let mine: Vec<Option<String>> = it.by_ref().take(j.anns.len()).collect();
                    let r = match mine.into_iter().flatten().next() {
                        None => Ok(()),
                        Some(e) => Err(e),
                    };
                    let _ = j.reply.send(r);
                }
            }
            Err(e) => {
                for j in jobs {
                    let _ = j.reply.send(Err(e.clone()));
                }
            }
        }
    }
}

/// Re-sends announcements whose fate is unknown (peer down, crash) as void, until acknowledged, so
/// the peer marks their bytes used and frees its block copies.
async fn void_task(kme: Kme) {
    let Some(peer) = kme.inner.config.peer.clone() else {
        return;
    };
    let Some(client) = kme_peer_client_for_void(&kme) else {
        return;
    };
    let url = peer.url.trim_end_matches('/').to_owned();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let Ok(v) = kme.call(Op::TakeVoids).await else {
            return;
        };
        if v.is_empty() {
            continue;
        }
        for chunk in v.chunks(256) {
            if post_announce(&client, &url, chunk).await.is_ok() {
                let ids = chunk.iter().map(|a| a.key_id).collect();
                let _ = kme.inner.ops.send(Op::OutboxDone(ids));
                kme.inner.peer_up.store(true, Ordering::Relaxed);
            }
        }
    }
}

fn kme_peer_client_for_void(kme: &Kme) -> Option<reqwest::Client> {
    kme.inner.void_client.clone()
}
