//! Persistence of the pool: the [`KeyStore`] trait, an in-memory store and a durable redb store.
//!
//! The KME applies a batch of requests to its [`PoolState`] in memory, then calls
//! [`KeyStore::commit`] once for the batch (group commit) and answers nobody before that returns.
//! A commit is atomic: after a crash the store reloads the state of the last commit, in which every
//! key handed out is either still waiting for its slave or recorded as fetched, and every cut byte
//! range is recorded as used. Nothing returned to a caller can be lost or cut again.

use std::path::Path;
use std::sync::{Arc, Mutex};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::Error;
use crate::pool::{Announcement, Block, Dirty, KeyRecord, PoolState};

/// Where a KME keeps its pool between restarts.
pub trait KeyStore: Send {
    /// Loads the last committed state into `pool` (an empty pool for a new store).
    ///
    /// # Errors
    /// [`Error::Store`] if the storage cannot be read or a record is corrupt or fails authentication.
    fn load(&mut self, pool: &mut PoolState) -> Result<(), Error>;

    /// Writes every record marked in `dirty` (as it is now in `pool`) atomically and durably.
    ///
    /// # Errors
    /// [`Error::Store`] if the transaction could not be committed; nothing of it is then visible.
    fn commit(&mut self, pool: &PoolState, dirty: &Dirty) -> Result<(), Error>;

    /// A short name for status and logs.
    fn kind(&self) -> &'static str;
}

/// Serialized records, shared by both stores.
#[derive(Default, Clone)]
struct Image {
    blocks: std::collections::BTreeMap<u64, Zeroizing<Vec<u8>>>,
    used: std::collections::BTreeMap<u64, Vec<u8>>,
    keys: std::collections::BTreeMap<u128, Zeroizing<Vec<u8>>>,
    outbox: std::collections::BTreeMap<u128, Vec<u8>>,
    retired: std::collections::BTreeSet<u64>,
    next_source_block: u64,
}

fn enc_used(b: &Block) -> Vec<u8> {
    let mut v = Vec::with_capacity(b.used.len() * 8);
    for &(x, y) in &b.used {
        v.extend_from_slice(&x.to_le_bytes());
        v.extend_from_slice(&y.to_le_bytes());
    }
    v
}

fn dec_used(v: &[u8]) -> Result<Vec<(u32, u32)>, Error> {
    if !v.len().is_multiple_of(8) {
        return Err(Error::Store("corrupt used-range record".into()));
    }
    Ok(v.chunks_exact(8)
        .map(|c| {
            let (a, b) = c.split_at(4);
            (
                u32::from_le_bytes([a[0], a[1], a[2], a[3]]),
                u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            )
        })
        .collect())
}

fn put_str(v: &mut Vec<u8>, s: &str) {
    let n = u16::try_from(s.len()).unwrap_or(u16::MAX);
    v.extend_from_slice(&n.to_le_bytes());
    v.extend_from_slice(&s.as_bytes()[..usize::from(n)]);
}

fn put_strs(v: &mut Vec<u8>, s: &[String]) {
    let n = u16::try_from(s.len()).unwrap_or(u16::MAX);
    v.extend_from_slice(&n.to_le_bytes());
    for x in s.iter().take(usize::from(n)) {
        put_str(v, x);
    }
}

fn enc_key(k: &KeyRecord) -> Zeroizing<Vec<u8>> {
    let mut v = Zeroizing::new(Vec::with_capacity(64 + k.material.len()));
    v.extend_from_slice(&k.created_unix.to_le_bytes());
    put_str(&mut v, &k.master);
    put_strs(&mut v, &k.slaves_remaining);
    put_strs(&mut v, &k.slaves_all);
    v.extend_from_slice(&k.material);
    v
}

struct Reader<'a>(&'a [u8]);
impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], Error> {
        if self.0.len() < n {
            return Err(Error::Store("truncated key record".into()));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u16(&mut self) -> Result<usize, Error> {
        let b = self.take(2)?;
        Ok(usize::from(u16::from_le_bytes([b[0], b[1]])))
    }
    fn string(&mut self) -> Result<String, Error> {
        let n = self.u16()?;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| Error::Store("bad SAE ID in key record".into()))
    }
    fn strings(&mut self) -> Result<Vec<String>, Error> {
        let n = self.u16()?;
        (0..n).map(|_| self.string()).collect()
    }
}

fn dec_key(v: &[u8]) -> Result<KeyRecord, Error> {
    let mut r = Reader(v);
    let t = r.take(8)?;
    let created_unix = u64::from_le_bytes([t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]]);
    let master = r.string()?;
    let slaves_remaining = r.strings()?;
    let slaves_all = r.strings()?;
    Ok(KeyRecord {
        master,
        slaves_remaining,
        slaves_all,
        material: Zeroizing::new(r.0.to_vec()),
        created_unix,
    })
}

impl Image {
    fn apply(&mut self, pool: &PoolState, dirty: &Dirty, seal: &Sealer<'_>) {
        for id in &dirty.blocks {
            match pool.blocks.get(id) {
                Some(b) => {
                    if dirty.new_blocks.contains(id) {
                        self.blocks
                            .insert(*id, Zeroizing::new(seal(&block_aad(*id), &b.data)));
                    }
                    self.used.insert(*id, enc_used(b));
                }
                None => {
                    self.blocks.remove(id);
                    self.used.remove(id);
                }
            }
        }
        for id in &dirty.keys {
            match pool.keys.get(id) {
                Some(k) => {
                    let plain = enc_key(k);
                    self.keys
                        .insert(id.as_u128(), Zeroizing::new(seal(id.as_bytes(), &plain)));
                }
                None => {
                    self.keys.remove(&id.as_u128());
                }
            }
        }
        for id in &dirty.outbox {
            match pool.outbox.get(id) {
                Some(a) => {
                    self.outbox
                        .insert(id.as_u128(), serde_json::to_vec(a).unwrap_or_default());
                }
                None => {
                    self.outbox.remove(&id.as_u128());
                }
            }
        }
        self.retired.extend(dirty.retired.iter().copied());
        self.next_source_block = pool.next_source_block;
    }

    fn load_into(&self, pool: &mut PoolState, open: &Opener<'_>) -> Result<(), Error> {
        for (id, data) in &self.blocks {
            let used = dec_used(self.used.get(id).map_or(&[][..], Vec::as_slice))?;
            let data = open(&block_aad(*id), data)?;
            pool.load_block(*id, Block { data, used });
        }
        for (id, v) in &self.keys {
            let uid = Uuid::from_u128(*id);
            let plain = open(uid.as_bytes(), v)?;
            pool.keys.insert(uid, dec_key(&plain)?);
        }
        for (id, v) in &self.outbox {
            let a: Announcement = serde_json::from_slice(v)
                .map_err(|e| Error::Store(format!("corrupt outbox record: {e}")))?;
            pool.outbox.insert(Uuid::from_u128(*id), a);
        }
        pool.retired.clone_from(&self.retired);
        pool.next_source_block = self.next_source_block;
        pool.recount();
        Ok(())
    }
}

/// Encrypts a record: (associated data, plaintext) -> stored bytes.
type Sealer<'a> = dyn Fn(&[u8], &[u8]) -> Vec<u8> + 'a;
/// Decrypts a record: (associated data, stored bytes) -> plaintext.
type Opener<'a> = dyn Fn(&[u8], &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> + 'a;

fn block_aad(id: u64) -> [u8; 9] {
    let mut a = [b'b'; 9];
    a[1..].copy_from_slice(&id.to_le_bytes());
    a
}

/// Optional encryption at rest: XChaCha20-Poly1305 with a random 192-bit nonce per record and the
/// record's table and key as associated data (a record moved to another ID fails to open).
#[derive(Clone)]
pub struct AtRest {
    cipher: XChaCha20Poly1305,
}

impl AtRest {
    /// A cipher from a 32-byte key.
    #[must_use]
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(key.into()),
        }
    }

    fn seal(&self, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        if let Ok(ct) = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
        {
            out.extend_from_slice(&ct);
        }
        out
    }

    fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if sealed.len() < 24 {
            return Err(Error::Store("sealed record too short".into()));
        }
        let (n, ct) = sealed.split_at(24);
        self.cipher
            .decrypt(XNonce::from_slice(n), Payload { msg: ct, aad })
            .map(Zeroizing::new)
            .map_err(|_| Error::Store("record fails authentication (wrong at-rest key?)".into()))
    }
}

fn sealer(c: Option<&AtRest>) -> impl Fn(&[u8], &[u8]) -> Vec<u8> + '_ {
    move |aad, p| c.map_or_else(|| p.to_vec(), |c| c.seal(aad, p))
}

fn opener(c: Option<&AtRest>) -> impl Fn(&[u8], &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> + '_ {
    move |aad, s| c.map_or_else(|| Ok(Zeroizing::new(s.to_vec())), |c| c.open(aad, s))
}

/// An in-memory store. Its committed image is shared between clones, so a test can drop a KME
/// (a simulated crash: everything not committed is gone) and start a new one on the same image.
#[derive(Clone, Default)]
pub struct MemoryStore {
    image: Arc<Mutex<Image>>,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

impl KeyStore for MemoryStore {
    fn load(&mut self, pool: &mut PoolState) -> Result<(), Error> {
        let img = self
            .image
            .lock()
            .map_err(|_| Error::Store("poisoned".into()))?;
        img.load_into(pool, &opener(None))
    }
    fn commit(&mut self, pool: &PoolState, dirty: &Dirty) -> Result<(), Error> {
        let mut img = self
            .image
            .lock()
            .map_err(|_| Error::Store("poisoned".into()))?;
        img.apply(pool, dirty, &sealer(None));
        Ok(())
    }
    fn kind(&self) -> &'static str {
        "memory"
    }
}

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const USED: TableDefinition<u64, &[u8]> = TableDefinition::new("block_used");
const KEYS: TableDefinition<u128, &[u8]> = TableDefinition::new("keys");
const OUTBOX: TableDefinition<u128, &[u8]> = TableDefinition::new("outbox");
const RETIRED: TableDefinition<u64, ()> = TableDefinition::new("retired_blocks");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

fn se(e: impl std::fmt::Display) -> Error {
    Error::Store(e.to_string())
}

/// A durable store in one redb file: one write transaction per batch, fsync'd before the KME
/// answers (redb's `Durability::Immediate`: copy-on-write B-trees with a checksummed commit slot,
/// so a crash leaves the last committed transaction).
pub struct RedbStore {
    db: Database,
    at_rest: Option<AtRest>,
}

impl RedbStore {
    /// Opens or creates the store at `path`, with optional encryption at rest.
    ///
    /// # Errors
    /// [`Error::Store`] if the file cannot be opened or created.
    pub fn open(path: impl AsRef<Path>, at_rest: Option<AtRest>) -> Result<Self, Error> {
        let db = Database::create(path.as_ref()).map_err(se)?;
        let tx = db.begin_write().map_err(se)?;
        {
            tx.open_table(BLOCKS).map_err(se)?;
            tx.open_table(USED).map_err(se)?;
            tx.open_table(KEYS).map_err(se)?;
            tx.open_table(OUTBOX).map_err(se)?;
            tx.open_table(RETIRED).map_err(se)?;
            tx.open_table(META).map_err(se)?;
        }
        tx.commit().map_err(se)?;
        Ok(Self { db, at_rest })
    }
}

impl KeyStore for RedbStore {
    fn load(&mut self, pool: &mut PoolState) -> Result<(), Error> {
        let tx = self.db.begin_read().map_err(se)?;
        let mut img = Image::default();
        for r in tx.open_table(BLOCKS).map_err(se)?.iter().map_err(se)? {
            let (k, v) = r.map_err(se)?;
            img.blocks
                .insert(k.value(), Zeroizing::new(v.value().to_vec()));
        }
        for r in tx.open_table(USED).map_err(se)?.iter().map_err(se)? {
            let (k, v) = r.map_err(se)?;
            img.used.insert(k.value(), v.value().to_vec());
        }
        for r in tx.open_table(KEYS).map_err(se)?.iter().map_err(se)? {
            let (k, v) = r.map_err(se)?;
            img.keys
                .insert(k.value(), Zeroizing::new(v.value().to_vec()));
        }
        for r in tx.open_table(OUTBOX).map_err(se)?.iter().map_err(se)? {
            let (k, v) = r.map_err(se)?;
            img.outbox.insert(k.value(), v.value().to_vec());
        }
        for r in tx.open_table(RETIRED).map_err(se)?.iter().map_err(se)? {
            let (k, _) = r.map_err(se)?;
            img.retired.insert(k.value());
        }
        if let Some(v) = tx
            .open_table(META)
            .map_err(se)?
            .get("next_source_block")
            .map_err(se)?
        {
            img.next_source_block = v.value();
        }
        img.load_into(pool, &opener(self.at_rest.as_ref()))
    }

    fn commit(&mut self, pool: &PoolState, dirty: &Dirty) -> Result<(), Error> {
        if dirty.is_empty() {
            return Ok(());
        }
        let seal = sealer(self.at_rest.as_ref());
        let mut tx = self.db.begin_write().map_err(se)?;
        tx.set_durability(Durability::Immediate).map_err(se)?;
        {
            let mut blocks = tx.open_table(BLOCKS).map_err(se)?;
            let mut used = tx.open_table(USED).map_err(se)?;
            for id in &dirty.blocks {
                match pool.blocks.get(id) {
                    Some(b) => {
                        if dirty.new_blocks.contains(id) {
                            let sealed = Zeroizing::new(seal(&block_aad(*id), &b.data));
                            blocks.insert(*id, sealed.as_slice()).map_err(se)?;
                        }
                        used.insert(*id, enc_used(b).as_slice()).map_err(se)?;
                    }
                    None => {
                        blocks.remove(*id).map_err(se)?;
                        used.remove(*id).map_err(se)?;
                    }
                }
            }
            let mut keys = tx.open_table(KEYS).map_err(se)?;
            for id in &dirty.keys {
                match pool.keys.get(id) {
                    Some(k) => {
                        let sealed = Zeroizing::new(seal(id.as_bytes(), &enc_key(k)));
                        keys.insert(id.as_u128(), sealed.as_slice()).map_err(se)?;
                    }
                    None => {
                        keys.remove(id.as_u128()).map_err(se)?;
                    }
                }
            }
            let mut outbox = tx.open_table(OUTBOX).map_err(se)?;
            for id in &dirty.outbox {
                match pool.outbox.get(id) {
                    Some(a) => {
                        let v = serde_json::to_vec(a).map_err(se)?;
                        outbox.insert(id.as_u128(), v.as_slice()).map_err(se)?;
                    }
                    None => {
                        outbox.remove(id.as_u128()).map_err(se)?;
                    }
                }
            }
            let mut retired = tx.open_table(RETIRED).map_err(se)?;
            for id in &dirty.retired {
                retired.insert(*id, ()).map_err(se)?;
            }
            let mut meta = tx.open_table(META).map_err(se)?;
            meta.insert("next_source_block", pool.next_source_block)
                .map_err(se)?;
        }
        tx.commit().map_err(se)
    }

    fn kind(&self) -> &'static str {
        if self.at_rest.is_some() {
            "redb+xchacha20poly1305"
        } else {
            "redb"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill(p: &mut PoolState) {
        for id in 0..3 {
            p.push_block(id, Zeroizing::new(vec![u8::try_from(id).unwrap() + 1; 64]))
                .unwrap();
        }
    }

    #[test]
    fn redb_round_trip_with_encryption_at_rest_and_wrong_key_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kme.redb");
        let key = [7u8; 32];
        let mut p = PoolState::new(0, 1);
        fill(&mut p);
        let (keys, _) = p.reserve("m", &["s".into()], &[], 3, 40, 5).unwrap();
        {
            let mut s = RedbStore::open(&path, Some(AtRest::new(&key))).unwrap();
            let d = p.take_dirty();
            s.commit(&p, &d).unwrap();
            // An uncommitted change (a crash before commit) is not visible after reopening.
            p.reserve("m", &["s".into()], &[], 1, 8, 5).unwrap();
        }
        let raw = std::fs::read(&path).unwrap();
        assert!(
            !raw.windows(40).any(|w| w == keys[0].1.as_slice()),
            "key bytes in clear on disk"
        );
        let mut s = RedbStore::open(&path, Some(AtRest::new(&key))).unwrap();
        let mut q = PoolState::new(0, 1);
        s.load(&mut q).unwrap();
        assert_eq!(q.owned_free_bytes(), 192 - 120);
        assert_eq!(q.key_count(), 3);
        let got = q.take("s", "m", &[keys[1].0]).unwrap();
        assert_eq!(*got[0].1, *keys[1].1);
        drop(s);
        let mut s = RedbStore::open(&path, Some(AtRest::new(&[8u8; 32]))).unwrap();
        assert!(s.load(&mut PoolState::new(0, 1)).is_err());
    }

    #[test]
    fn memory_store_image_survives_a_dropped_pool() {
        let mut s = MemoryStore::new();
        let mut p = PoolState::new(0, 1);
        fill(&mut p);
        let (k, _) = p.reserve("m", &["s".into()], &[], 1, 64, 0).unwrap();
        let d = p.take_dirty();
        s.commit(&p, &d).unwrap();
        let mut q = PoolState::new(0, 1);
        s.load(&mut q).unwrap();
        assert_eq!(q.block_count(), 2);
        assert_eq!(*q.take("s", "m", &[k[0].0]).unwrap()[0].1, *k[0].1);
        // Block 0 was used up: it is retired and cannot come back.
        assert!(q.push_block(0, Zeroizing::new(vec![1; 64])).is_err());
    }
}
