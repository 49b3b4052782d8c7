//! Alice's and Bob's roles.
//!
//! Bob drives the protocol. In his first message he opens every Cascade pass of the schedule (the
//! block parities of a pass are fixed by Alice's key and the public shuffle, so asking them all at
//! once discloses exactly what asking them pass by pass would, and saves a round trip per pass).
//! He then processes the passes in order: every block whose parity differs starts a binary search;
//! all searches advance one level per round trip (lock step), so a round costs one message each
//! way whatever the number of blocks. A corrected bit re-opens the block holding it in every pass
//! processed so far (the cascade); Bob finds those blocks through the per-pass index from key
//! position to pass position. Each pass keeps Bob's key in its own permuted order, so every block and
//! sub-block is a contiguous range and its parity a word-speed XOR fold.

use std::sync::Arc;

use qkd_core::bits::parity_of_words;
use qkd_core::{
    BitBlock, ConfirmationHasher, Failure, Outcome, Party, ProtocolError, ReconcileOutput, Role,
    Turn, derive_seed,
};
use zeroize::Zeroize;

use crate::config::CascadeConfig;
use crate::message::{CascadeMessage, RangeQuery};
use crate::pass::{Layout, PassSpec, PermCache, permuted_words};

type TurnOf = Turn<CascadeMessage, ReconcileOutput>;

/// What both roles derive from the configuration and the shared parameters.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) n: u32,
    pub(crate) block_sizes: Vec<usize>,
    pub(crate) config: Arc<CascadeConfig>,
    pub(crate) cache: Arc<PermCache>,
    pub(crate) seed: u64,
}

impl Setup {
    fn layout(&self, spec: PassSpec) -> Option<Layout> {
        self.cache.layout(
            spec,
            self.n,
            &self.block_sizes,
            self.config.shuffle,
            self.seed,
        )
    }

    fn hasher(&self) -> ConfirmationHasher {
        ConfirmationHasher::from_seed(derive_seed(self.seed, "cascade confirmation", 0))
    }

    /// The confirmation tag of `key`: the low `tag_bits` bits of the polynomial hash.
    fn tag(&self, key: &BitBlock) -> u64 {
        self.hasher().tag(key) & tag_mask(self.config.tag_bits)
    }

    /// Which block parities of a freshly opened pass Alice sends: `(first_block, last_block_sent,
    /// last_inferred)`. Cascade passes after the first infer their last block from the whole-key
    /// parity when block-parity inference is on; BICONF sends its subset, and its complement only
    /// when it corrects the complement without inference.
    fn disclosure(&self, spec: PassSpec, blocks: u32) -> Disclosure {
        let infer = self.config.block_parity_inference;
        match spec {
            PassSpec::Cascade(0) => Disclosure {
                sent: blocks,
                inferred: 0,
            },
            PassSpec::Cascade(_) => Disclosure {
                sent: if infer { blocks - 1 } else { blocks },
                inferred: u32::from(infer),
            },
            PassSpec::Biconf(_) => {
                let complement = self.config.biconf.is_some_and(|b| b.correct_complement);
                Disclosure {
                    sent: 1 + u32::from(complement && !infer),
                    inferred: u32::from(complement && infer),
                }
            }
        }
    }
}

/// Blocks `0..sent` are sent; block `sent` (if `inferred == 1`) is inferred from the key parity.
#[derive(Debug, Clone, Copy)]
struct Disclosure {
    sent: u32,
    inferred: u32,
}

/// The low `bits` bits set (`bits` in 1..=64, validated with the configuration).
fn tag_mask(bits: u8) -> u64 {
    u64::MAX >> (64 - u32::from(bits.clamp(1, 64)))
}

fn unexpected(party: Party, step: &'static str, reason: impl Into<String>) -> ProtocolError {
    ProtocolError::UnexpectedMessage {
        party,
        step,
        reason: reason.into(),
    }
}

#[inline]
fn get(bits: &[u64], i: usize) -> bool {
    (bits[i >> 6] >> (i & 63)) & 1 == 1
}

#[inline]
fn set(bits: &mut [u64], i: usize, v: bool) {
    let m = 1u64 << (i & 63);
    if v {
        bits[i >> 6] |= m;
    } else {
        bits[i >> 6] &= !m;
    }
}

#[inline]
fn toggle(bits: &mut [u64], i: usize) {
    bits[i >> 6] ^= 1u64 << (i & 63);
}

/// Packs parity bits into words while Alice answers.
#[derive(Debug, Default)]
struct ParityWriter {
    words: Vec<u64>,
    count: u32,
}

impl ParityWriter {
    fn push(&mut self, bit: bool) {
        let i = self.count as usize;
        if i.is_multiple_of(64) {
            self.words.push(0);
        }
        if bit {
            self.words[i >> 6] |= 1u64 << (i & 63);
        }
        self.count += 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Alice

struct AlicePass {
    layout: Layout,
    words: Vec<u64>,
}

impl Drop for AlicePass {
    fn drop(&mut self) {
        self.words.zeroize();
    }
}

/// Alice's role: she holds the reference key and answers parity questions.
pub struct CascadeAlice {
    key: BitBlock,
    setup: Setup,
    passes: Vec<AlicePass>,
}

impl std::fmt::Debug for CascadeAlice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CascadeAlice")
            .field("n", &self.setup.n)
            .field("passes_open", &self.passes.len())
            .finish_non_exhaustive()
    }
}

impl CascadeAlice {
    pub(crate) fn new(key: BitBlock, setup: Setup) -> Self {
        Self {
            key,
            setup,
            passes: Vec::new(),
        }
    }

    fn answer(
        &mut self,
        open: &[PassSpec],
        queries: &[RangeQuery],
    ) -> Result<TurnOf, ProtocolError> {
        let mut out = ParityWriter::default();
        for &spec in open {
            let layout = self.setup.layout(spec).ok_or_else(|| {
                unexpected(
                    Party::Alice,
                    "cascade.ask",
                    format!("no such pass {spec:?}"),
                )
            })?;
            if self.passes.len() >= usize::from(u16::MAX) {
                return Err(unexpected(Party::Alice, "cascade.ask", "too many passes"));
            }
            let words = permuted_words(self.key.words(), &layout.perm.fwd);
            let d = self.setup.disclosure(spec, layout.num_blocks());
            for b in 0..d.sent {
                let (s, e) = layout.block_range(b);
                out.push(parity_of_words(&words, s as usize, e as usize));
            }
            self.passes.push(AlicePass { layout, words });
        }
        for q in queries {
            let pass = self.passes.get(usize::from(q.pass)).ok_or_else(|| {
                unexpected(
                    Party::Alice,
                    "cascade.ask",
                    format!("pass {} not open", q.pass),
                )
            })?;
            if q.start > q.end || q.end > pass.layout.n {
                return Err(unexpected(
                    Party::Alice,
                    "cascade.ask",
                    format!("range {}..{} outside the key", q.start, q.end),
                ));
            }
            out.push(parity_of_words(
                &pass.words,
                q.start as usize,
                q.end as usize,
            ));
        }
        Ok(Turn::Send(CascadeMessage::Parities {
            count: out.count,
            words: out.words,
        }))
    }
}

impl Role for CascadeAlice {
    type Message = CascadeMessage;
    type Output = ReconcileOutput;

    fn start(&mut self) -> Result<TurnOf, ProtocolError> {
        Ok(Turn::Wait)
    }

    fn receive(&mut self, message: CascadeMessage) -> Result<TurnOf, ProtocolError> {
        match message {
            CascadeMessage::Ask { open, queries } => self.answer(&open, &queries),
            CascadeMessage::Confirm { tag, bits } => {
                if bits != self.setup.config.tag_bits {
                    return Err(unexpected(
                        Party::Alice,
                        "cascade.confirm",
                        format!(
                            "tag of {bits} bits, configured {}",
                            self.setup.config.tag_bits
                        ),
                    ));
                }
                let hasher = self.setup.hasher();
                let ok = hasher.tags_match(self.setup.tag(&self.key), tag);
                let outcome = if ok {
                    Outcome::Success(std::mem::take(&mut self.key))
                } else {
                    Outcome::Failure(Failure::ConfirmationMismatch)
                };
                Ok(Turn::SendAndDone(
                    CascadeMessage::Verdict { ok },
                    outcome.into(),
                ))
            }
            CascadeMessage::Finish => Ok(Turn::Done(
                Outcome::Success(std::mem::take(&mut self.key)).into(),
            )),
            other => Err(unexpected(
                Party::Alice,
                qkd_core::Message::step(&other),
                "Alice only answers Bob's questions",
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bob

/// One pass as Bob sees it.
struct BobPass {
    spec: PassSpec,
    layout: Layout,
    /// Bob's key in pass order.
    words: Vec<u64>,
    /// Alice's block parities (valid where `known`).
    alice: Vec<u64>,
    known: Vec<u64>,
    /// Bob's current block parities.
    bob: Vec<u64>,
    /// Blocks with a binary search under way.
    searching: Vec<u64>,
    /// Processed: a correction elsewhere re-opens this pass's blocks.
    active: bool,
    /// Every sub-block parity Alice disclosed in this pass, and the sibling parity it implies
    /// (heap-numbered nodes per block, root 1). Kept in every variant: a parity once disclosed
    /// is public, so asking it again would disclose nothing new and only inflate the ledger (the
    /// public implementations keep their sub-block objects, and with them these parities, too).
    tree_known: Vec<u64>,
    tree_val: Vec<u64>,
}

impl Drop for BobPass {
    fn drop(&mut self) {
        self.words.zeroize();
    }
}

impl BobPass {
    fn new(spec: PassSpec, layout: Layout, key: &[u64]) -> Self {
        let words = permuted_words(key, &layout.perm.fwd);
        let nb = layout.num_blocks() as usize;
        let bw = nb.div_ceil(64);
        let mut bob = vec![0u64; bw];
        for b in 0..layout.num_blocks() {
            let (s, e) = layout.block_range(b);
            if parity_of_words(&words, s as usize, e as usize) {
                set(&mut bob, b as usize, true);
            }
        }
        let tree_bits = nb * layout.tree_slots as usize;
        Self {
            spec,
            layout,
            words,
            alice: vec![0; bw],
            known: vec![0; bw],
            bob,
            searching: vec![0; bw],
            active: false,
            tree_known: vec![0; tree_bits.div_ceil(64)],
            tree_val: vec![0; tree_bits.div_ceil(64)],
        }
    }

    #[inline]
    fn tree_index(&self, block: u32, node: u32) -> usize {
        block as usize * self.layout.tree_slots as usize + node as usize
    }

    /// The smallest sub-block on the path from `root` (an even block) to pass position `pos` whose
    /// parity Alice disclosed (or implied) and which now holds an odd number of errors: where a
    /// search is cheapest (sub-block reuse, Martinez-Mateo et al. 2015; the smallest-first order of
    /// the public implementation).
    fn odd_sub_block(&self, root: Search, pos: u32) -> Option<Search> {
        let mut s = root;
        let mut best = None;
        while s.end - s.start > 1 {
            let mid = s.mid();
            let (node, start, end) = if pos < mid {
                (2 * s.node, s.start, mid)
            } else {
                (2 * s.node + 1, mid, s.end)
            };
            s.node = node;
            s.start = start;
            s.end = end;
            let t = self.tree_index(s.block, node);
            if !get(&self.tree_known, t) {
                // Nodes below an unknown one were never reached by a search.
                break;
            }
            s.alice = get(&self.tree_val, t);
            if parity_of_words(&self.words, start as usize, end as usize) != s.alice {
                best = Some(s);
            }
        }
        best
    }
}

/// A binary search of one odd block, at sub-block `node` (heap numbering) = `start..end` whose
/// parity at Alice is `alice`.
#[derive(Debug, Clone, Copy)]
struct Search {
    pass: u16,
    block: u32,
    node: u32,
    start: u32,
    end: u32,
    alice: bool,
    /// Alice's answer for the left half, when it just arrived.
    answer: Option<bool>,
}

impl Search {
    fn mid(&self) -> u32 {
        self.start + (self.end - self.start).div_ceil(2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for parities (Cascade passes or a BICONF round).
    Reconciling,
    /// Waiting for Alice's verdict.
    Confirming,
    Finished,
}

/// Bob's role: he holds the noisy key, asks, and corrects.
pub struct CascadeBob {
    key: Vec<u64>,
    setup: Setup,
    passes: Vec<BobPass>,
    /// Index of the Cascade pass being processed.
    current: usize,
    /// Passes opened by the outstanding question, waiting for their block parities.
    pending_open: Vec<usize>,
    ready: Vec<Search>,
    waiting: Vec<Search>,
    /// (pass, pass position) of corrected bits whose blocks must be re-examined.
    dirty: Vec<(u16, u32)>,
    expected: u32,
    /// Alice's whole-key parity, once the first pass is known.
    key_parity: Option<bool>,
    biconf_round: u16,
    biconf_streak: usize,
    phase: Phase,
    corrections: usize,
}

impl std::fmt::Debug for CascadeBob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CascadeBob")
            .field("n", &self.setup.n)
            .field("passes", &self.passes.len())
            .field("corrections", &self.corrections)
            .finish_non_exhaustive()
    }
}

impl Drop for CascadeBob {
    fn drop(&mut self) {
        self.key.zeroize();
    }
}

impl CascadeBob {
    pub(crate) fn new(key: &BitBlock, setup: Setup) -> Self {
        Self {
            key: key.words().to_vec(),
            setup,
            passes: Vec::new(),
            current: 0,
            pending_open: Vec::new(),
            ready: Vec::new(),
            waiting: Vec::new(),
            dirty: Vec::new(),
            expected: 0,
            key_parity: None,
            biconf_round: 0,
            biconf_streak: 0,
            phase: Phase::Reconciling,
            corrections: 0,
        }
    }

    fn reuse(&self) -> bool {
        self.setup.config.sub_block_reuse
    }

    /// Builds pass `spec` and queues it for opening; returns the parities Alice will send for it.
    fn open(&mut self, spec: PassSpec) -> Result<u32, ProtocolError> {
        let layout = self.setup.layout(spec).ok_or_else(|| {
            ProtocolError::InvalidInput(format!("pass {spec:?} is not in the schedule"))
        })?;
        let d = self.setup.disclosure(spec, layout.num_blocks());
        let pass = BobPass::new(spec, layout, &self.key);
        self.pending_open.push(self.passes.len());
        self.passes.push(pass);
        Ok(d.sent)
    }

    fn ask(&mut self, open: Vec<PassSpec>, extra: u32) -> TurnOf {
        let queries: Vec<RangeQuery> = self
            .waiting
            .iter()
            .map(|s| RangeQuery {
                pass: s.pass,
                start: s.start,
                end: s.mid(),
            })
            .collect();
        // At most a few million queries; the count fits the 32-bit wire field.
        #[allow(clippy::cast_possible_truncation)]
        let q = queries.len() as u32;
        self.expected = extra + q;
        Turn::Send(CascadeMessage::Ask { open, queries })
    }

    /// Takes Alice's parities: first the block parities of the passes just opened, then the answers
    /// of the waiting searches.
    fn absorb(&mut self, count: u32, words: &[u64]) -> Result<(), ProtocolError> {
        if count != self.expected {
            return Err(unexpected(
                Party::Bob,
                "cascade.parities",
                format!("expected {} parities, got {count}", self.expected),
            ));
        }
        let mut i = 0usize;
        for pi in std::mem::take(&mut self.pending_open) {
            let spec = self.passes[pi].spec;
            let blocks = self.passes[pi].layout.num_blocks();
            let d = self.setup.disclosure(spec, blocks);
            let pass = &mut self.passes[pi];
            let mut sum = false;
            for b in 0..d.sent as usize {
                let p = CascadeMessage::parity(words, i);
                i += 1;
                set(&mut pass.alice, b, p);
                set(&mut pass.known, b, true);
                sum ^= p;
            }
            if spec == PassSpec::Cascade(0) {
                self.key_parity = Some(sum);
            }
            if d.inferred == 1 {
                let total = self.key_parity.ok_or_else(|| {
                    ProtocolError::InvalidInput(
                        "block parity inferred before the first pass".into(),
                    )
                })?;
                let b = d.sent as usize;
                set(&mut pass.alice, b, total ^ sum);
                set(&mut pass.known, b, true);
            }
        }
        for mut s in std::mem::take(&mut self.waiting) {
            let a = CascadeMessage::parity(words, i);
            i += 1;
            s.answer = Some(a);
            let pass = &mut self.passes[usize::from(s.pass)];
            let l = pass.tree_index(s.block, 2 * s.node);
            set(&mut pass.tree_known, l, true);
            set(&mut pass.tree_val, l, a);
            set(&mut pass.tree_known, l + 1, true);
            set(&mut pass.tree_val, l + 1, a ^ s.alice);
            self.ready.push(s);
        }
        Ok(())
    }

    /// Marks pass `pi` processed and starts a search in each of its odd blocks. Returns whether
    /// any block was odd.
    fn activate(&mut self, pi: usize) -> bool {
        let pass = &mut self.passes[pi];
        pass.active = true;
        let mut any = false;
        // Pass indices are below u16::MAX (checked when opening).
        #[allow(clippy::cast_possible_truncation)]
        let pass_id = pi as u16;
        for w in 0..pass.known.len() {
            let mut odd = (pass.alice[w] ^ pass.bob[w]) & pass.known[w];
            while odd != 0 {
                let bit = odd.trailing_zeros() as usize;
                odd &= odd - 1;
                // Blocks are numbered by u32 (n < 2^32).
                #[allow(clippy::cast_possible_truncation)]
                let b = (w * 64 + bit) as u32;
                let (start, end) = pass.layout.block_range(b);
                set(&mut pass.searching, b as usize, true);
                self.ready.push(Search {
                    pass: pass_id,
                    block: b,
                    node: 1,
                    start,
                    end,
                    alice: get(&pass.alice, b as usize),
                    answer: None,
                });
                any = true;
            }
        }
        any
    }

    /// Flips key bit `j` (a corrected error) in the key and every pass, and marks its position in
    /// processed passes for re-examination.
    fn flip(&mut self, j: u32, from: usize) {
        self.corrections += 1;
        self.key[(j >> 6) as usize] ^= 1u64 << (j & 63);
        let from_biconf = matches!(self.passes[from].spec, PassSpec::Biconf(_));
        let cascade_all = !from_biconf || self.setup.config.biconf.is_none_or(|b| b.cascade);
        for (pi, pass) in self.passes.iter_mut().enumerate() {
            let pos = pass.layout.perm.inv[j as usize];
            pass.words[(pos >> 6) as usize] ^= 1u64 << (pos & 63);
            let b = pass.layout.block_of(pos);
            toggle(&mut pass.bob, b as usize);
            if pass.active && (cascade_all || pi == from) {
                // Pass indices are below u16::MAX (checked when opening).
                #[allow(clippy::cast_possible_truncation)]
                self.dirty.push((pi as u16, pos));
            }
        }
    }

    /// Advances one search as far as known parities allow: to a correction, to a question, or to
    /// its end when a correction elsewhere made its range even.
    fn step(&mut self, mut s: Search) {
        let pi = usize::from(s.pass);
        let pass = &mut self.passes[pi];
        if parity_of_words(&pass.words, s.start as usize, s.end as usize) == s.alice {
            set(&mut pass.searching, s.block as usize, false);
            self.dirty.push((s.pass, s.start));
            return;
        }
        loop {
            if s.end - s.start == 1 {
                let j = pass.layout.perm.fwd[s.start as usize];
                set(&mut pass.searching, s.block as usize, false);
                self.flip(j, pi);
                return;
            }
            let mid = s.mid();
            let left = 2 * s.node;
            let alice_left = if let Some(a) = s.answer.take() {
                a
            } else if get(&pass.tree_known, pass.tree_index(s.block, left)) {
                get(&pass.tree_val, pass.tree_index(s.block, left))
            } else {
                self.waiting.push(s);
                return;
            };
            let bob_left = parity_of_words(&pass.words, s.start as usize, mid as usize);
            if bob_left == alice_left {
                s.node = left + 1;
                s.start = mid;
                s.alice ^= alice_left;
            } else {
                s.node = left;
                s.end = mid;
                s.alice = alice_left;
            }
        }
    }

    /// Runs every ready search and re-examines dirty blocks until only questions remain.
    fn run(&mut self) {
        loop {
            while let Some(s) = self.ready.pop() {
                self.step(s);
            }
            if self.dirty.is_empty() {
                return;
            }
            let reuse = self.reuse();
            for (p, pos) in std::mem::take(&mut self.dirty) {
                let pass = &mut self.passes[usize::from(p)];
                let b = pass.layout.block_of(pos);
                let bi = b as usize;
                if get(&pass.searching, bi) || !get(&pass.known, bi) {
                    continue;
                }
                let (start, end) = pass.layout.block_range(b);
                let root = Search {
                    pass: p,
                    block: b,
                    node: 1,
                    start,
                    end,
                    alice: get(&pass.alice, bi),
                    answer: None,
                };
                let found = if get(&pass.alice, bi) == get(&pass.bob, bi) {
                    // An even block: with sub-block reuse, a known sub-block on the corrected bit's
                    // path may still hold an odd number of errors.
                    if reuse {
                        pass.odd_sub_block(root, pos)
                    } else {
                        None
                    }
                } else {
                    Some(root)
                };
                if let Some(s) = found {
                    set(&mut pass.searching, bi, true);
                    self.ready.push(s);
                }
            }
            if self.ready.is_empty() {
                return;
            }
        }
    }

    /// Continues after new parities: searches, then the next pass, BICONF round or confirmation.
    fn advance(&mut self) -> Result<TurnOf, ProtocolError> {
        loop {
            self.run();
            if !self.waiting.is_empty() {
                return Ok(self.ask(Vec::new(), 0));
            }
            let cascade_passes = self.setup.block_sizes.len();
            if self.current + 1 < cascade_passes {
                self.current += 1;
                self.activate(self.current);
                continue;
            }
            if let Some(b) = self.setup.config.biconf {
                let rounds = usize::from(self.biconf_round);
                if self.biconf_streak < b.streak && rounds < b.max_rounds.min(60_000) {
                    let spec = PassSpec::Biconf(self.biconf_round);
                    self.biconf_round += 1;
                    let sent = self.open(spec)?;
                    return Ok(self.ask(vec![spec], sent));
                }
            }
            return Ok(self.finish());
        }
    }

    fn finish(&mut self) -> TurnOf {
        let key = match BitBlock::from_words(&self.key, self.setup.n as usize) {
            Ok(k) => k,
            // The key words always hold n bits; keep the type honest anyway.
            Err(_) => {
                return Turn::Done(
                    Outcome::Failure(Failure::Aborted {
                        reason: "internal key length mismatch".into(),
                    })
                    .into(),
                );
            }
        };
        if self.setup.config.confirmation {
            let tag = self.setup.tag(&key);
            self.phase = Phase::Confirming;
            Turn::Send(CascadeMessage::Confirm {
                tag,
                bits: self.setup.config.tag_bits,
            })
        } else {
            self.phase = Phase::Finished;
            Turn::SendAndDone(CascadeMessage::Finish, Outcome::Success(key).into())
        }
    }
}

impl Role for CascadeBob {
    type Message = CascadeMessage;
    type Output = ReconcileOutput;

    fn start(&mut self) -> Result<TurnOf, ProtocolError> {
        let mut open = Vec::with_capacity(self.setup.block_sizes.len());
        let mut sent = 0u32;
        for p in 0..self.setup.block_sizes.len() {
            let spec = PassSpec::Cascade(
                u16::try_from(p)
                    .map_err(|_| ProtocolError::InvalidInput("too many passes".into()))?,
            );
            sent += self.open(spec)?;
            open.push(spec);
        }
        Ok(self.ask(open, sent))
    }

    fn receive(&mut self, message: CascadeMessage) -> Result<TurnOf, ProtocolError> {
        match (self.phase, message) {
            (Phase::Reconciling, CascadeMessage::Parities { count, words }) => {
                let opened: Vec<usize> = self.pending_open.clone();
                self.absorb(count, &words)?;
                for pi in opened {
                    match self.passes[pi].spec {
                        PassSpec::Cascade(0) => {
                            self.current = 0;
                            self.activate(pi);
                        }
                        PassSpec::Cascade(_) => {}
                        PassSpec::Biconf(_) => {
                            if self.activate(pi) {
                                self.biconf_streak = 0;
                            } else {
                                self.biconf_streak += 1;
                            }
                        }
                    }
                }
                self.advance()
            }
            (Phase::Confirming, CascadeMessage::Verdict { ok }) => {
                self.phase = Phase::Finished;
                let outcome = if ok {
                    match BitBlock::from_words(&self.key, self.setup.n as usize) {
                        Ok(k) => Outcome::Success(k),
                        Err(_) => Outcome::Failure(Failure::Aborted {
                            reason: "internal key length mismatch".into(),
                        }),
                    }
                } else {
                    Outcome::Failure(Failure::ConfirmationMismatch)
                };
                Ok(Turn::Done(outcome.into()))
            }
            (_, other) => Err(unexpected(
                Party::Bob,
                qkd_core::Message::step(&other),
                "not expected in this state",
            )),
        }
    }
}
