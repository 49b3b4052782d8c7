//! The key pool: key blocks, cut keys and pending peer announcements, with the exactly-once rules.
//!
//! This is pure state with no I/O. Every operation marks what it changed in [`Dirty`]; a
//! [`crate::store::KeyStore`] persists exactly those records in one atomic transaction before any
//! answer leaves the KME (see `crate::kme`), so what a caller saw is always what survives a crash.
//!
//! Two-site allocation (direction-split pools): both sites hold identical blocks, and block `id`
//! belongs to the site with `site_index == id % 2` (with no peer, every block is local). A site cuts
//! keys for its own masters only from its own blocks; keys for slaves at the other site are announced
//! to the peer KME as (key ID, block, offset, length) segments, and the peer copies the bytes from its
//! identical copy of that block, refusing any range it has already used. Two masters at the two ends
//! therefore draw from disjoint bytes, with no coordination on the hot path.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Key bytes that are zeroized when dropped.
pub type KeyBytes = Zeroizing<Vec<u8>>;

/// A key block held by the pool, with the byte ranges already used.
pub struct Block {
    /// Block contents (identical at both sites).
    pub data: KeyBytes,
    /// Sorted, disjoint, half-open byte ranges already cut into keys.
    pub used: Vec<(u32, u32)>,
}

impl Block {
    fn free_bytes(&self) -> u64 {
        let used: u64 = self.used.iter().map(|&(a, b)| u64::from(b - a)).sum();
        self.data.len() as u64 - used
    }
    fn is_exhausted(&self) -> bool {
        self.free_bytes() == 0
    }
    fn overlaps(&self, a: u32, b: u32) -> bool {
        self.used.iter().any(|&(x, y)| a < y && x < b)
    }
    /// Marks `[a, b)` used; ranges already used inside it are tolerated.
    fn mark(&mut self, a: u32, b: u32) {
        self.used.push((a, b));
        self.used.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(self.used.len());
        for &(x, y) in &self.used {
            match merged.last_mut() {
                Some(last) if x <= last.1 => last.1 = last.1.max(y),
                _ => merged.push((x, y)),
            }
        }
        self.used = merged;
    }
    /// First unused range.
    fn first_gap(&self) -> Option<(u32, u32)> {
        let len = u32::try_from(self.data.len()).ok()?;
        let mut at = 0;
        for &(x, y) in &self.used {
            if x > at {
                return Some((at, x));
            }
            at = y;
        }
        (at < len).then_some((at, len))
    }
}

/// A key that was cut and waits for its slaves' dec_keys calls.
pub struct KeyRecord {
    /// The master SAE that received it through enc_keys.
    pub master: String,
    /// Slaves (at this site) that have not fetched it yet.
    pub slaves_remaining: Vec<String>,
    /// Slaves (at this site) that may fetch it (to tell 401 from "already fetched").
    pub slaves_all: Vec<String>,
    /// The key.
    pub material: KeyBytes,
    /// Creation time (seconds since the Unix epoch), for expiry.
    pub created_unix: u64,
}

/// A contiguous byte range of one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Block ID.
    pub block: u64,
    /// First byte.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
}

/// What one KME tells its peer about a key it cut for slaves at the peer's site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    /// Key ID given to the master.
    pub key_id: Uuid,
    /// Master SAE ID.
    pub master: String,
    /// Slave SAE IDs at the receiving site.
    pub slaves: Vec<String>,
    /// Where the key's bytes lie, in order.
    pub segments: Vec<Segment>,
    /// True: the master never received this key; the peer only marks the bytes used.
    #[serde(default)]
    pub void: bool,
    /// Creation time (seconds since the Unix epoch).
    pub created_unix: u64,
}

/// Records changed since the last commit.
#[derive(Debug, Default)]
pub struct Dirty {
    /// Blocks whose data or used ranges changed (absent from the pool: deleted).
    pub blocks: BTreeSet<u64>,
    /// Blocks added (their data must be written).
    pub new_blocks: BTreeSet<u64>,
    /// Keys changed or deleted.
    pub keys: BTreeSet<Uuid>,
    /// Outbox entries changed or deleted.
    pub outbox: BTreeSet<Uuid>,
    /// Blocks retired.
    pub retired: BTreeSet<u64>,
    /// Meta counters changed.
    pub meta: bool,
}

impl Dirty {
    /// True if nothing needs writing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
            && self.new_blocks.is_empty()
            && self.keys.is_empty()
            && self.outbox.is_empty()
            && self.retired.is_empty()
            && !self.meta
    }
}

/// Why a reservation, fetch or push was refused (mapped to the spec's errors by the server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not enough key material now (503).
    NotEnoughKey,
    /// A key ID is not on this KME for this caller (400).
    NotFound,
    /// The caller is not a slave of that key, or the master differs (401).
    Unauthorized,
    /// A pushed block conflicts with a different block of the same ID.
    BlockConflict(u64),
    /// The store or the peer failed; nothing of the request was served (503).
    Unavailable(String),
    /// An announcement is inconsistent (unknown block, wrong owner, bytes already used).
    BadAnnouncement(String),
}

/// The whole pool state of one KME.
pub struct PoolState {
    pub(crate) blocks: BTreeMap<u64, Block>,
    pub(crate) keys: HashMap<Uuid, KeyRecord>,
    pub(crate) outbox: BTreeMap<Uuid, Announcement>,
    /// IDs of blocks used up and deleted: never accepted again (else their bytes would be reused).
    pub(crate) retired: BTreeSet<u64>,
    /// Next block ID the built-in test source generates.
    pub(crate) next_source_block: u64,
    site_index: u64,
    sites: u64,
    owned_free: u64,
    pub(crate) dirty: Dirty,
}

impl PoolState {
    /// An empty pool for site `site_index` of `sites` (1: no peer, 2: two sites).
    #[must_use]
    pub fn new(site_index: u8, sites: u8) -> Self {
        Self {
            blocks: BTreeMap::new(),
            keys: HashMap::new(),
            outbox: BTreeMap::new(),
            retired: BTreeSet::new(),
            next_source_block: 0,
            site_index: u64::from(site_index),
            sites: u64::from(sites.max(1)),
            owned_free: 0,
            dirty: Dirty::default(),
        }
    }

    /// True if block `id` is cut by this site's masters.
    #[must_use]
    pub fn owns(&self, id: u64) -> bool {
        id % self.sites == self.site_index
    }

    /// Bytes of own blocks not yet cut.
    #[must_use]
    pub fn owned_free_bytes(&self) -> u64 {
        self.owned_free
    }

    /// Number of keys waiting for slaves.
    #[must_use]
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    /// Number of blocks held.
    #[must_use]
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Recomputes derived counters after loading.
    pub(crate) fn recount(&mut self) {
        self.owned_free = self
            .blocks
            .iter()
            .filter(|(id, _)| self.owns(**id))
            .map(|(_, b)| b.free_bytes())
            .sum();
    }

    /// Inserts a block loaded from storage (no dirty marking).
    pub(crate) fn load_block(&mut self, id: u64, block: Block) {
        self.blocks.insert(id, block);
    }

    /// Adds a key block. Pushing the same block twice is a no-op; a different block under an
    /// existing ID is refused.
    ///
    /// # Errors
    /// [`Refusal::BlockConflict`] if a different block with this ID exists.
    pub fn push_block(&mut self, id: u64, data: KeyBytes) -> Result<(), Refusal> {
        if self.retired.contains(&id) {
            return Err(Refusal::BlockConflict(id));
        }
        if let Some(b) = self.blocks.get(&id) {
            return if *b.data == *data {
                Ok(())
            } else {
                Err(Refusal::BlockConflict(id))
            };
        }
        if data.is_empty() || u32::try_from(data.len()).is_err() {
            return Err(Refusal::BlockConflict(id));
        }
        if self.owns(id) {
            self.owned_free += data.len() as u64;
        }
        self.blocks.insert(
            id,
            Block {
                data,
                used: Vec::new(),
            },
        );
        self.dirty.new_blocks.insert(id);
        self.dirty.blocks.insert(id);
        Ok(())
    }

    fn drop_if_exhausted(&mut self, id: u64) {
        if self.blocks.get(&id).is_some_and(Block::is_exhausted) {
            self.blocks.remove(&id);
            self.dirty.new_blocks.remove(&id);
            self.retired.insert(id);
            self.dirty.retired.insert(id);
        }
        self.dirty.blocks.insert(id);
    }

    /// Cuts `len` bytes from own blocks, lowest block ID first.
    fn cut(&mut self, len: usize) -> (KeyBytes, Vec<Segment>) {
        let mut out = Zeroizing::new(Vec::with_capacity(len));
        let mut segs = Vec::new();
        while out.len() < len {
            // Used-up blocks are deleted, so the first own block is almost always the one to cut.
            let Some((&id, b)) = self
                .blocks
                .iter_mut()
                .find(|(id, b)| **id % self.sites == self.site_index && !b.is_exhausted())
            else {
                break;
            };
            let Some((a, e)) = b.first_gap() else { break };
            let want = u32::try_from(len - out.len()).unwrap_or(u32::MAX);
            let take = want.min(e - a);
            out.extend_from_slice(&b.data[a as usize..(a + take) as usize]);
            b.mark(a, a + take);
            segs.push(Segment {
                block: id,
                offset: a,
                len: take,
            });
            self.owned_free -= u64::from(take);
            self.drop_if_exhausted(id);
        }
        (out, segs)
    }

    /// Cuts `number` keys of `size_bytes` for `master`. Keys for `local_slaves` are kept here for
    /// dec_keys; for `remote_slaves` an [`Announcement`] is recorded in the outbox and returned.
    ///
    /// # Errors
    /// [`Refusal::NotEnoughKey`] if own blocks hold fewer than `number * size_bytes` free bytes
    /// (nothing is cut then).
    #[allow(clippy::type_complexity)]
    pub fn reserve(
        &mut self,
        master: &str,
        local_slaves: &[String],
        remote_slaves: &[String],
        number: usize,
        size_bytes: usize,
        now_unix: u64,
    ) -> Result<(Vec<(Uuid, KeyBytes)>, Vec<Announcement>), Refusal> {
        let need = (number as u64).saturating_mul(size_bytes as u64);
        if need > self.owned_free || size_bytes == 0 {
            return Err(Refusal::NotEnoughKey);
        }
        let mut keys = Vec::with_capacity(number);
        let mut anns = Vec::new();
        for _ in 0..number {
            // Time-ordered IDs (UUIDv7, 74 random bits): the store's B-tree appends instead of
            // rewriting random pages, which keeps group commits small.
            let id = Uuid::now_v7();
            let (material, segments) = self.cut(size_bytes);
            if !local_slaves.is_empty() {
                self.keys.insert(
                    id,
                    KeyRecord {
                        master: master.to_owned(),
                        slaves_remaining: local_slaves.to_vec(),
                        slaves_all: local_slaves.to_vec(),
                        material: material.clone(),
                        created_unix: now_unix,
                    },
                );
                self.dirty.keys.insert(id);
            }
            if !remote_slaves.is_empty() {
                let a = Announcement {
                    key_id: id,
                    master: master.to_owned(),
                    slaves: remote_slaves.to_vec(),
                    segments,
                    void: false,
                    created_unix: now_unix,
                };
                self.outbox.insert(id, a.clone());
                self.dirty.outbox.insert(id);
                anns.push(a);
            }
            keys.push((id, material));
        }
        Ok((keys, anns))
    }

    /// dec_keys: hands `slave` the keys `ids` cut for `master`, all or none. Each slave gets a key
    /// once; the key is deleted when its last slave fetched it.
    ///
    /// # Errors
    /// [`Refusal::NotFound`] if an ID is unknown here (or already fetched by this slave),
    /// [`Refusal::Unauthorized`] if the caller is not a slave of a key or `master` differs.
    pub fn take(
        &mut self,
        slave: &str,
        master: &str,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, KeyBytes)>, Refusal> {
        let mut seen = BTreeSet::new();
        for id in ids {
            if !seen.insert(*id) {
                return Err(Refusal::NotFound);
            }
            let Some(k) = self.keys.get(id) else {
                return Err(Refusal::NotFound);
            };
            if k.master != master || !k.slaves_all.iter().any(|s| s == slave) {
                return Err(Refusal::Unauthorized);
            }
            if !k.slaves_remaining.iter().any(|s| s == slave) {
                return Err(Refusal::NotFound);
            }
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(k) = self.keys.get_mut(id) {
                k.slaves_remaining.retain(|s| s != slave);
                let material = k.material.clone();
                if k.slaves_remaining.is_empty() {
                    self.keys.remove(id);
                }
                self.dirty.keys.insert(*id);
                out.push((*id, material));
            }
        }
        Ok(out)
    }

    /// Applies announcements from the peer KME (whose blocks are those this site does not own).
    /// A real announcement creates a key record if its bytes are all unused (an already known key
    /// ID is acknowledged again); a void one marks the bytes used and never removes a key.
    pub fn apply_announcements(&mut self, anns: &[Announcement]) -> Vec<Result<(), Refusal>> {
        anns.iter().map(|a| self.apply_one(a)).collect()
    }

    fn apply_one(&mut self, a: &Announcement) -> Result<(), Refusal> {
        if !a.void && self.keys.contains_key(&a.key_id) {
            return Ok(());
        }
        let mut material = Zeroizing::new(Vec::new());
        for s in &a.segments {
            if self.owns(s.block) {
                return Err(Refusal::BadAnnouncement(format!(
                    "block {} is not the peer's",
                    s.block
                )));
            }
            let end = s
                .offset
                .checked_add(s.len)
                .ok_or_else(|| Refusal::BadAnnouncement("segment overflows".into()))?;
            match self.blocks.get(&s.block) {
                Some(b) if end as usize <= b.data.len() => {
                    if !a.void && b.overlaps(s.offset, end) {
                        return Err(Refusal::BadAnnouncement(format!(
                            "bytes of block {} already used",
                            s.block
                        )));
                    }
                    material.extend_from_slice(&b.data[s.offset as usize..end as usize]);
                }
                Some(_) => return Err(Refusal::BadAnnouncement("segment out of block".into())),
                None if a.void => {}
                None => {
                    return Err(Refusal::BadAnnouncement(format!(
                        "block {} not available",
                        s.block
                    )));
                }
            }
        }
        for s in &a.segments {
            if let Some(b) = self.blocks.get_mut(&s.block) {
                b.mark(s.offset, s.offset + s.len);
                self.drop_if_exhausted(s.block);
            }
        }
        if !a.void {
            self.keys.insert(
                a.key_id,
                KeyRecord {
                    master: a.master.clone(),
                    slaves_remaining: a.slaves.clone(),
                    slaves_all: a.slaves.clone(),
                    material,
                    created_unix: a.created_unix,
                },
            );
            self.dirty.keys.insert(a.key_id);
        }
        Ok(())
    }

    /// Removes acknowledged announcements from the outbox.
    pub fn outbox_done(&mut self, ids: &[Uuid]) {
        for id in ids {
            if self.outbox.remove(id).is_some() {
                self.dirty.outbox.insert(*id);
            }
        }
    }

    /// Deletes keys older than `ttl_secs`; returns how many.
    pub fn expire(&mut self, now_unix: u64, ttl_secs: u64) -> usize {
        let old: Vec<Uuid> = self
            .keys
            .iter()
            .filter(|(_, k)| now_unix.saturating_sub(k.created_unix) > ttl_secs)
            .map(|(id, _)| *id)
            .collect();
        for id in &old {
            self.keys.remove(id);
            self.dirty.keys.insert(*id);
        }
        old.len()
    }

    /// Takes the dirty set (after a successful commit).
    pub fn take_dirty(&mut self) -> Dirty {
        std::mem::take(&mut self.dirty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: usize, seed: u8) -> KeyBytes {
        Zeroizing::new(
            (0..n)
                .map(|i| u8::try_from(i % 256).unwrap().wrapping_mul(31) ^ seed)
                .collect(),
        )
    }

    #[test]
    fn two_sites_cut_disjoint_bytes_and_slave_gets_identical_key() {
        let (mut a, mut b) = (PoolState::new(0, 2), PoolState::new(1, 2));
        for id in 0..4 {
            a.push_block(id, block(100, u8::try_from(id).unwrap()))
                .unwrap();
            b.push_block(id, block(100, u8::try_from(id).unwrap()))
                .unwrap();
        }
        assert_eq!(a.owned_free_bytes(), 200);
        let s = vec!["sb".to_string()];
        let (ka, anns) = a.reserve("sa", &[], &s, 2, 70, 0).unwrap();
        let (kb, _) = b.reserve("sb", &[], &["sa".into()], 2, 70, 0).unwrap();
        assert!(b.apply_announcements(&anns).iter().all(Result::is_ok));
        let got = b.take("sb", "sa", &[ka[0].0, ka[1].0]).unwrap();
        for (x, y) in ka.iter().zip(&got) {
            assert_eq!(x.0, y.0);
            assert_eq!(*x.1, *y.1);
        }
        assert_eq!(b.take("sb", "sa", &[ka[0].0]), Err(Refusal::NotFound));
        for (_, x) in &ka {
            for (_, y) in &kb {
                assert_ne!(**x, **y);
            }
        }
        // Replaying an announcement of fetched bytes is refused; a void replay is harmless.
        assert!(b.apply_announcements(&anns)[0].is_err());
        let mut v = anns[0].clone();
        v.void = true;
        assert!(b.apply_one(&v).is_ok());
        assert_eq!(
            a.reserve("sa", &[], &s, 1, 70, 0).unwrap_err(),
            Refusal::NotEnoughKey
        );
    }

    #[test]
    fn third_party_is_unauthorized_and_multicast_serves_each_slave_once() {
        let mut p = PoolState::new(0, 1);
        p.push_block(0, block(64, 1)).unwrap();
        let sl = vec!["s1".to_string(), "s2".to_string()];
        let (k, _) = p.reserve("m", &sl, &[], 1, 32, 0).unwrap();
        assert_eq!(p.take("evil", "m", &[k[0].0]), Err(Refusal::Unauthorized));
        assert_eq!(p.take("s1", "other", &[k[0].0]), Err(Refusal::Unauthorized));
        assert!(p.take("s1", "m", &[k[0].0]).is_ok());
        assert_eq!(p.take("s1", "m", &[k[0].0]), Err(Refusal::NotFound));
        assert!(p.take("s2", "m", &[k[0].0]).is_ok());
        assert_eq!(p.key_count(), 0);
        p.reserve("m", &sl, &[], 1, 32, 0).unwrap();
        assert_eq!(p.block_count(), 0);
        // The used-up block is retired: pushing it again cannot resurrect its bytes.
        assert_eq!(
            p.push_block(0, block(64, 1)),
            Err(Refusal::BlockConflict(0))
        );
        assert_eq!(
            p.push_block(0, block(64, 2)),
            Err(Refusal::BlockConflict(0))
        );
    }
}
