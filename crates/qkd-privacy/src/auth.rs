//! Confirmation of the reconciled key and Wegman-Carter authentication of the classical channel.
//!
//! Both build on the GF(2^64) arithmetic of [`qkd_core::confirm`] (no second field
//! implementation). The hash of a byte string is the polynomial hash of its 64-bit words:
//! `H_k(w_1..w_L) = sum_i w_i k^(L+2-i) + L k` (Horner, as [`qkd_core::ConfirmationHasher`]). For
//! `w != w'` and any constant `c`, `H_k(w) xor H_k(w') = c` is a nonzero polynomial equation of
//! degree at most `L + 1` in `k` (the `L k` term keeps it nonzero for different lengths, and it has
//! no constant term, so subtracting `c` cannot cancel it): the family is
//! `(L + 1) / 2^64`-almost-XOR-universal (Stinson 1994, Krawczyk 1994).
//!
//! Wegman-Carter (J. Comput. Syst. Sci. 22, 265 (1981)): tag = `H_k(m) xor r` with `k` a secret
//! reused point and `r` a fresh 64-bit one-time pad from the [`KeyPool`]. An adversary who sees
//! any number of tags forges one with probability at most `(L + 1) / 2^64` per attempt; pad bits
//! are never reused, so each tag costs 64 bits of pre-shared or previously distilled key.
//!
//! ## How the link's messages are authenticated
//!
//! [`AuthenticatedTransport`] wraps any [`qkd_core::Transport`], so every protocol written as
//! [`qkd_core::Role`]s runs over it unchanged through [`qkd_core::Endpoint::drive`]. Two modes:
//! - [`AuthMode::PerMessage`]: every message carries its tag (bound to direction and a message
//!   counter, so replays and reordering fail). Each message is verified before the role acts on it;
//!   64 pool bits per message.
//! - [`AuthMode::Deferred`] (the default): each direction's messages are absorbed, in order and
//!   length-prefixed, into one running polynomial hash; [`AuthenticatedTransport::finish`]
//!   exchanges one tag per direction at the end of the protocol run. This costs 128 pool bits per
//!   run, whatever the number of messages (Cascade sends hundreds per frame, which per-message
//!   tags would make cost more key than the frame yields). Deferred authentication is secure for
//!   QKD as long as no key of the run is used before `finish` succeeds (the final key is only
//!   output after privacy amplification, which follows it).
//!
//! Confirmation ([`ConfirmAlice`], [`ConfirmBob`]) is a two-message protocol of its own: Alice
//! sends the [`qkd_core::ConfirmationHasher`] tag of her reconciled key, Bob compares it with his in
//! constant time and answers with the verdict; the 64 tag bits land in the ledger as disclosed
//! under step `privacy.confirm`.

use std::marker::PhantomData;

use qkd_core::confirm::Gf64Multiplier;
use qkd_core::{
    BitBlock, ConfirmationHasher, Message, Party, ProtocolError, Role, SecretKey, Transport, Turn,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::PrivacyError;

/// Bits of a Wegman-Carter tag (and of each pad drawn from the pool).
pub const WC_TAG_BITS: u64 = 64;

/// A pool of secret key bits (pre-shared, then refilled from distilled key), consumed 64 bits at a
/// time for one-time pads and never reused. Debug shows only the counts.
#[derive(Default)]
pub struct KeyPool {
    bytes: Vec<u8>,
    cursor: usize,
}

impl KeyPool {
    /// A pool holding `key`.
    #[must_use]
    pub fn new(key: &SecretKey) -> Self {
        Self {
            bytes: key.expose_bytes().to_vec(),
            cursor: 0,
        }
    }

    /// Appends fresh key (e.g. part of the last distilled block).
    pub fn refill(&mut self, key: &SecretKey) {
        // Drop the spent prefix first so the pool does not grow without bound.
        self.bytes[..self.cursor].zeroize();
        self.bytes.drain(..self.cursor);
        self.cursor = 0;
        self.bytes.extend_from_slice(key.expose_bytes());
    }

    /// Bits still available.
    #[must_use]
    pub fn available_bits(&self) -> u64 {
        8 * (self.bytes.len() - self.cursor) as u64
    }

    /// Bits consumed since the last refill (spent bits are wiped on refill).
    #[must_use]
    pub fn consumed_bits(&self) -> u64 {
        8 * self.cursor as u64
    }

    /// Takes the next 64 bits.
    ///
    /// # Errors
    /// [`PrivacyError::PoolExhausted`] if fewer than 64 bits are left.
    pub fn take_u64(&mut self) -> Result<u64, PrivacyError> {
        let end = self.cursor + 8;
        let Some(chunk) = self.bytes.get(self.cursor..end) else {
            return Err(PrivacyError::PoolExhausted {
                needed_bits: WC_TAG_BITS,
                available_bits: self.available_bits(),
            });
        };
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        self.bytes[self.cursor..end].zeroize();
        self.cursor = end;
        let v = u64::from_le_bytes(b);
        b.zeroize();
        Ok(v)
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for KeyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPool")
            .field("available_bits", &self.available_bits())
            .field("consumed_bits", &self.consumed_bits())
            .finish_non_exhaustive()
    }
}

/// Streaming polynomial hash over GF(2^64) at a secret point: length-prefixed messages absorbed
/// word by word, finalised with the word count.
#[derive(Clone)]
struct StreamHash {
    mul: Gf64Multiplier,
    acc: u64,
    words: u64,
}

impl StreamHash {
    fn new(point: u64) -> Self {
        Self {
            mul: Gf64Multiplier::new(point),
            acc: 0,
            words: 0,
        }
    }

    fn absorb_word(&mut self, w: u64) {
        self.acc = self.mul.mul(self.acc ^ w);
        self.words += 1;
    }

    /// Absorbs one message: its byte length, then its bytes as little-endian words (zero-padded).
    /// The length prefix makes the encoding of a message sequence injective.
    fn absorb(&mut self, bytes: &[u8]) {
        self.absorb_word(bytes.len() as u64);
        for chunk in bytes.chunks(8) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.absorb_word(u64::from_le_bytes(b));
        }
    }

    fn finish(&self) -> u64 {
        self.mul.mul(self.acc ^ self.words)
    }
}

impl Drop for StreamHash {
    fn drop(&mut self) {
        self.acc.zeroize();
    }
}

/// A Wegman-Carter authenticator: secret hash point plus one-time pads from a pool.
///
/// ```
/// use qkd_core::SecretKey;
/// use qkd_privacy::auth::{KeyPool, WegmanCarter};
/// let wc = WegmanCarter::new(0x1234_5678_9abc_def1)?;
/// let key = SecretKey::from_bytes(vec![7u8; 64]);
/// let (mut alice_pool, mut bob_pool) = (KeyPool::new(&key), KeyPool::new(&key));
/// let tag = wc.tag(b"basis list", &mut alice_pool)?;
/// assert!(wc.verify(b"basis list", tag, &mut bob_pool)?);
/// assert_eq!(alice_pool.consumed_bits(), 64);
/// # Ok::<(), qkd_privacy::PrivacyError>(())
/// ```
#[derive(Clone)]
pub struct WegmanCarter {
    point: u64,
}

impl std::fmt::Debug for WegmanCarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WegmanCarter { .. }")
    }
}

impl WegmanCarter {
    /// An authenticator with the secret point `point` (64 bits of shared secret key).
    ///
    /// # Errors
    /// [`PrivacyError::InvalidParameter`] for the zero point (which would hash everything to 0).
    pub fn new(point: u64) -> Result<Self, PrivacyError> {
        if point == 0 {
            return Err(PrivacyError::InvalidParameter {
                name: "point",
                value: 0.0,
                reason: "the hash point must be nonzero",
            });
        }
        Ok(Self { point })
    }

    /// The universal hash of `message` (not yet padded).
    fn hash(&self, message: &[u8]) -> u64 {
        let mut h = StreamHash::new(self.point);
        h.absorb(message);
        h.finish()
    }

    /// `H_k(message) xor pad`, consuming 64 bits of `pool`.
    ///
    /// # Errors
    /// [`PrivacyError::PoolExhausted`].
    pub fn tag(&self, message: &[u8], pool: &mut KeyPool) -> Result<u64, PrivacyError> {
        Ok(self.hash(message) ^ pool.take_u64()?)
    }

    /// Constant-time check of `tag`, consuming the same 64 pad bits as the sender.
    ///
    /// # Errors
    /// [`PrivacyError::PoolExhausted`].
    pub fn verify(
        &self,
        message: &[u8],
        tag: u64,
        pool: &mut KeyPool,
    ) -> Result<bool, PrivacyError> {
        let expected = self.tag(message, pool)?;
        Ok(bool::from(expected.ct_eq(&tag)))
    }

    /// Forgery probability per attempt for messages of up to `len_bytes` bytes:
    /// `(L + 1) / 2^64` with `L` the absorbed words (length prefix plus data).
    #[must_use]
    pub fn forgery_bound(len_bytes: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let words = (len_bytes.div_ceil(8) + 1) as f64;
        (words + 1.0) / 18_446_744_073_709_551_616.0
    }
}

/// One direction of an authenticated channel: hash point, pads, message counter, running hash.
struct Direction {
    wc: WegmanCarter,
    pads: KeyPool,
    counter: u64,
    stream: StreamHash,
}

impl Direction {
    fn new(point: u64, pads: KeyPool) -> Result<Self, PrivacyError> {
        Ok(Self {
            wc: WegmanCarter::new(point)?,
            pads,
            counter: 0,
            stream: StreamHash::new(point),
        })
    }

    /// The per-message tag input: counter, then the encoded message.
    fn framed(&self, bytes: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(bytes.len() + 8);
        v.extend_from_slice(&self.counter.to_le_bytes());
        v.extend_from_slice(bytes);
        v
    }
}

/// The shared secrets of an authenticated link, as seen by one party: one hash point and one pad
/// pool per direction.
pub struct AuthKeys {
    send_point: u64,
    recv_point: u64,
    send_pads: KeyPool,
    recv_pads: KeyPool,
}

impl std::fmt::Debug for AuthKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthKeys")
            .field("send_pads", &self.send_pads)
            .field("recv_pads", &self.recv_pads)
            .finish_non_exhaustive()
    }
}

impl AuthKeys {
    /// Splits a pre-shared key the same way on both sides: bytes 0..8 the Alice->Bob hash point,
    /// 8..16 the Bob->Alice point, then the rest in two halves of pads (Alice->Bob first).
    ///
    /// # Errors
    /// [`PrivacyError::PoolExhausted`] if the key is shorter than 32 bytes (two points and one
    /// pad per direction); [`PrivacyError::InvalidParameter`] for a zero point.
    pub fn from_shared(shared: &SecretKey, party: Party) -> Result<Self, PrivacyError> {
        let b = shared.expose_bytes();
        if b.len() < 32 {
            return Err(PrivacyError::PoolExhausted {
                needed_bits: 256,
                available_bits: 8 * b.len() as u64,
            });
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        let (ab, ba) = (word(0), word(8));
        let half = (b.len() - 16) / 2;
        let pads_ab = KeyPool::new(&SecretKey::from_bytes(b[16..16 + half].to_vec()));
        let pads_ba = KeyPool::new(&SecretKey::from_bytes(b[16 + half..16 + 2 * half].to_vec()));
        WegmanCarter::new(ab)?;
        WegmanCarter::new(ba)?;
        Ok(match party {
            Party::Alice => Self {
                send_point: ab,
                recv_point: ba,
                send_pads: pads_ab,
                recv_pads: pads_ba,
            },
            Party::Bob => Self {
                send_point: ba,
                recv_point: ab,
                send_pads: pads_ba,
                recv_pads: pads_ab,
            },
        })
    }
}

/// When tags are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AuthMode {
    /// One tag per message, verified before the message is delivered.
    PerMessage,
    /// One tag per direction over the whole transcript, exchanged by `finish`.
    #[default]
    Deferred,
}

/// What crosses the inner transport.
#[derive(Debug, Clone)]
pub enum AuthFrame<M> {
    /// A protocol message, with its tag in per-message mode.
    Data {
        /// The message.
        message: M,
        /// Its Wegman-Carter tag ([`AuthMode::PerMessage`] only).
        tag: Option<u64>,
    },
    /// The transcript tag of the sender's direction ([`AuthMode::Deferred`]).
    Close {
        /// Wegman-Carter tag of everything the sender sent.
        tag: u64,
    },
}

/// Key consumed by an authenticated channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AuthReport {
    /// Messages sent and received.
    pub messages: u64,
    /// Tags sent plus tags verified.
    pub tags: u64,
    /// Pool bits consumed for one-time pads (both directions, this party's view).
    pub pad_bits_consumed: u64,
}

/// A [`Transport`] that authenticates every protocol message with Wegman-Carter tags.
///
/// `encode` turns a message into the exact bytes that are authenticated (its wire encoding): two
/// different messages must encode differently.
pub struct AuthenticatedTransport<T, M, F> {
    inner: T,
    encode: F,
    mode: AuthMode,
    send: Direction,
    recv: Direction,
    report: AuthReport,
    _message: PhantomData<fn(M)>,
}

impl<T, M, F> std::fmt::Debug for AuthenticatedTransport<T, M, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatedTransport")
            .field("mode", &self.mode)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

fn auth_error(e: &PrivacyError) -> ProtocolError {
    ProtocolError::Transport(format!("authentication: {e}"))
}

impl<T, M, F> AuthenticatedTransport<T, M, F>
where
    T: Transport<AuthFrame<M>>,
    F: Fn(&M) -> Vec<u8>,
{
    /// Wraps `inner` with the party's keys.
    ///
    /// # Errors
    /// [`PrivacyError::InvalidParameter`] for a zero hash point.
    pub fn new(inner: T, keys: AuthKeys, mode: AuthMode, encode: F) -> Result<Self, PrivacyError> {
        let AuthKeys {
            send_point,
            recv_point,
            send_pads,
            recv_pads,
        } = keys;
        Ok(Self {
            inner,
            encode,
            mode,
            send: Direction::new(send_point, send_pads)?,
            recv: Direction::new(recv_point, recv_pads)?,
            report: AuthReport::default(),
            _message: PhantomData,
        })
    }

    /// Key consumed so far.
    pub fn report(&self) -> AuthReport {
        self.report
    }

    /// Adds key to the pools (for the next runs), split evenly between the two directions; both
    /// parties must refill with the same key in the same order.
    pub fn refill(&mut self, key: &SecretKey, party: Party) {
        let b = key.expose_bytes();
        let half = b.len() / 2;
        let (first, second) = (
            SecretKey::from_bytes(b[..half].to_vec()),
            SecretKey::from_bytes(b[half..2 * half].to_vec()),
        );
        let (send, recv) = match party {
            Party::Alice => (first, second),
            Party::Bob => (second, first),
        };
        self.send.pads.refill(&send);
        self.recv.pads.refill(&recv);
    }

    /// Ends a deferred-mode run: sends the tag of everything sent, receives and verifies the
    /// peer's tag of everything it sent. Call it after the protocol's last message and before any
    /// key of the run is used. In per-message mode it only returns the report.
    ///
    /// # Errors
    /// [`ProtocolError::Transport`] if the peer's tag does not verify (the transcript was altered:
    /// discard the run), the pool is exhausted, or the inner transport fails.
    pub fn finish(&mut self) -> Result<AuthReport, ProtocolError> {
        if self.mode == AuthMode::PerMessage {
            return Ok(self.report);
        }
        let pad = self.send.pads.take_u64().map_err(|e| auth_error(&e))?;
        let tag = self.send.stream.finish() ^ pad;
        self.inner.send(AuthFrame::Close { tag })?;
        self.report.tags += 1;
        let frame = self.inner.recv()?;
        let AuthFrame::Close { tag } = frame else {
            return Err(ProtocolError::Transport(
                "authentication: expected the peer's transcript tag".into(),
            ));
        };
        let pad = self.recv.pads.take_u64().map_err(|e| auth_error(&e))?;
        let expected = self.recv.stream.finish() ^ pad;
        self.report.tags += 1;
        self.report.pad_bits_consumed += 2 * WC_TAG_BITS;
        if bool::from(expected.ct_eq(&tag)) {
            Ok(self.report)
        } else {
            Err(ProtocolError::Transport(
                "authentication: transcript tag mismatch".into(),
            ))
        }
    }

    /// Takes the inner transport back.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T, M, F> Transport<M> for AuthenticatedTransport<T, M, F>
where
    T: Transport<AuthFrame<M>>,
    F: Fn(&M) -> Vec<u8>,
{
    fn send(&mut self, message: M) -> Result<(), ProtocolError> {
        let mut bytes = (self.encode)(&message);
        let tag = match self.mode {
            AuthMode::PerMessage => {
                let mut framed = self.send.framed(&bytes);
                let tag = self
                    .send
                    .wc
                    .tag(&framed, &mut self.send.pads)
                    .map_err(|e| auth_error(&e))?;
                framed.zeroize();
                self.report.tags += 1;
                self.report.pad_bits_consumed += WC_TAG_BITS;
                Some(tag)
            }
            AuthMode::Deferred => {
                self.send.stream.absorb(&bytes);
                None
            }
        };
        bytes.zeroize();
        self.send.counter += 1;
        self.report.messages += 1;
        self.inner.send(AuthFrame::Data { message, tag })
    }

    fn recv(&mut self) -> Result<M, ProtocolError> {
        let AuthFrame::Data { message, tag } = self.inner.recv()? else {
            return Err(ProtocolError::Transport(
                "authentication: transcript tag before the end of the run".into(),
            ));
        };
        let mut bytes = (self.encode)(&message);
        match self.mode {
            AuthMode::PerMessage => {
                let Some(tag) = tag else {
                    return Err(ProtocolError::Transport(
                        "authentication: message without a tag".into(),
                    ));
                };
                let mut framed = self.recv.framed(&bytes);
                let ok = self
                    .recv
                    .wc
                    .verify(&framed, tag, &mut self.recv.pads)
                    .map_err(|e| auth_error(&e))?;
                framed.zeroize();
                self.report.tags += 1;
                self.report.pad_bits_consumed += WC_TAG_BITS;
                if !ok {
                    return Err(ProtocolError::Transport(
                        "authentication: message tag mismatch".into(),
                    ));
                }
            }
            AuthMode::Deferred => self.recv.stream.absorb(&bytes),
        }
        bytes.zeroize();
        self.recv.counter += 1;
        self.report.messages += 1;
        Ok(message)
    }
}

/// The step name of confirmation messages in the ledger.
pub const CONFIRM_STEP: &str = "privacy.confirm";

/// Messages of the confirmation protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfirmMessage {
    /// Alice's tag of her reconciled key (64 disclosed bits).
    Tag(u64),
    /// Bob's verdict (1 bit, key-independent once the tag is public).
    Verdict(bool),
}

impl Message for ConfirmMessage {
    fn step(&self) -> &'static str {
        CONFIRM_STEP
    }
    fn size_bits(&self) -> u64 {
        match self {
            ConfirmMessage::Tag(_) => qkd_core::confirm::TAG_BITS,
            ConfirmMessage::Verdict(_) => 1,
        }
    }
    fn disclosed_bits(&self) -> u64 {
        match self {
            ConfirmMessage::Tag(_) => qkd_core::confirm::TAG_BITS,
            ConfirmMessage::Verdict(_) => 0,
        }
    }
}

/// The result of confirmation for one party.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Confirmation {
    /// Whether the tags matched (keep the key) or not (discard the frame).
    pub matched: bool,
    /// Probability bound that different keys were accepted (the eps_cor of this step).
    pub eps_cor: f64,
}

/// Alice's side of confirmation: sends her tag, learns Bob's verdict.
pub struct ConfirmAlice<'a> {
    key: &'a BitBlock,
    hasher: ConfirmationHasher,
}

impl<'a> ConfirmAlice<'a> {
    /// Alice's role over her reconciled `key`; `seed` is the shared random seed of this frame,
    /// chosen after reconciliation finished (the hash must be independent of the keys).
    #[must_use]
    pub fn new(key: &'a BitBlock, seed: u64) -> Self {
        Self {
            key,
            hasher: ConfirmationHasher::from_seed(seed),
        }
    }
}

impl std::fmt::Debug for ConfirmAlice<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmAlice")
            .field("key_bits", &self.key.len())
            .finish_non_exhaustive()
    }
}

impl Role for ConfirmAlice<'_> {
    type Message = ConfirmMessage;
    type Output = Confirmation;

    fn start(&mut self) -> Result<Turn<ConfirmMessage, Confirmation>, ProtocolError> {
        Ok(Turn::Send(ConfirmMessage::Tag(self.hasher.tag(self.key))))
    }

    fn receive(
        &mut self,
        message: ConfirmMessage,
    ) -> Result<Turn<ConfirmMessage, Confirmation>, ProtocolError> {
        match message {
            ConfirmMessage::Verdict(matched) => Ok(Turn::Done(Confirmation {
                matched,
                eps_cor: ConfirmationHasher::collision_bound(self.key.len()),
            })),
            ConfirmMessage::Tag(_) => Err(ProtocolError::UnexpectedMessage {
                party: Party::Alice,
                step: CONFIRM_STEP,
                reason: "Alice sends the tag; she expects a verdict".into(),
            }),
        }
    }
}

/// Bob's side of confirmation: compares Alice's tag with his in constant time.
pub struct ConfirmBob<'a> {
    key: &'a BitBlock,
    hasher: ConfirmationHasher,
}

impl<'a> ConfirmBob<'a> {
    /// Bob's role over his corrected `key` with the same frame seed as Alice.
    #[must_use]
    pub fn new(key: &'a BitBlock, seed: u64) -> Self {
        Self {
            key,
            hasher: ConfirmationHasher::from_seed(seed),
        }
    }
}

impl std::fmt::Debug for ConfirmBob<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmBob")
            .field("key_bits", &self.key.len())
            .finish_non_exhaustive()
    }
}

impl Role for ConfirmBob<'_> {
    type Message = ConfirmMessage;
    type Output = Confirmation;

    fn start(&mut self) -> Result<Turn<ConfirmMessage, Confirmation>, ProtocolError> {
        Ok(Turn::Wait)
    }

    fn receive(
        &mut self,
        message: ConfirmMessage,
    ) -> Result<Turn<ConfirmMessage, Confirmation>, ProtocolError> {
        match message {
            ConfirmMessage::Tag(tag) => {
                let matched = self.hasher.tags_match(tag, self.hasher.tag(self.key));
                Ok(Turn::SendAndDone(
                    ConfirmMessage::Verdict(matched),
                    Confirmation {
                        matched,
                        eps_cor: ConfirmationHasher::collision_bound(self.key.len()),
                    },
                ))
            }
            ConfirmMessage::Verdict(_) => Err(ProtocolError::UnexpectedMessage {
                party: Party::Bob,
                step: CONFIRM_STEP,
                reason: "Bob expects Alice's tag".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_core::{Endpoint, mpsc_pair, run_pair, sim_rng};
    use rand::Rng;

    fn shared_key(bytes: usize, seed: u64) -> SecretKey {
        let mut rng = sim_rng(seed);
        let mut b = vec![0u8; bytes];
        rng.fill_bytes(&mut b);
        SecretKey::from_bytes(b)
    }

    fn encode(m: &ConfirmMessage) -> Vec<u8> {
        match m {
            ConfirmMessage::Tag(t) => [&[0u8][..], &t.to_le_bytes()].concat(),
            ConfirmMessage::Verdict(v) => vec![1, u8::from(*v)],
        }
    }

    #[test]
    fn confirmation_matches_equal_keys_and_logs_tag_bits() {
        let key = BitBlock::random(10_000, &mut sim_rng(1));
        let run = run_pair(ConfirmAlice::new(&key, 9), ConfirmBob::new(&key, 9)).unwrap();
        assert!(run.alice.matched && run.bob.matched);
        assert_eq!(run.ledger.disclosed_bits_in(CONFIRM_STEP), 64);
        let mut other = key.clone();
        other.flip(1234).unwrap();
        let run = run_pair(ConfirmAlice::new(&key, 9), ConfirmBob::new(&other, 9)).unwrap();
        assert!(!run.alice.matched && !run.bob.matched);
        assert!(run.bob.eps_cor < 1e-16);
    }

    #[test]
    fn pool_consumption_and_exhaustion() {
        let key = shared_key(16, 2);
        let mut pool = KeyPool::new(&key);
        assert_eq!(pool.available_bits(), 128);
        pool.take_u64().unwrap();
        pool.take_u64().unwrap();
        assert_eq!(pool.consumed_bits(), 128);
        assert!(matches!(
            pool.take_u64(),
            Err(PrivacyError::PoolExhausted {
                available_bits: 0,
                ..
            })
        ));
        pool.refill(&shared_key(8, 3));
        assert_eq!((pool.available_bits(), pool.consumed_bits()), (64, 0));
        assert!(!format!("{pool:?}").contains("bytes"));
    }

    #[test]
    fn wegman_carter_detects_changes_and_never_reuses_pads() {
        let wc = WegmanCarter::new(0xdead_beef_1234_5678).unwrap();
        let key = shared_key(64, 4);
        let (mut a, mut b) = (KeyPool::new(&key), KeyPool::new(&key));
        let t1 = wc.tag(b"hello", &mut a).unwrap();
        let t2 = wc.tag(b"hello", &mut a).unwrap();
        assert_ne!(t1, t2, "a fresh pad per tag");
        assert!(wc.verify(b"hello", t1, &mut b).unwrap());
        assert!(!wc.verify(b"hellp", t2, &mut b).unwrap());
        // A prefix with trailing zero bytes must not collide (length prefix).
        assert_ne!(wc.hash(b"ab"), wc.hash(b"ab\0"));
        assert!(WegmanCarter::new(0).is_err());
        assert!(WegmanCarter::forgery_bound(1 << 20) < 1e-13);
    }

    /// Runs confirmation over authenticated mpsc transports in two threads.
    fn run_authenticated(
        mode: AuthMode,
        tamper: bool,
    ) -> Result<(AuthReport, AuthReport), ProtocolError> {
        let shared = shared_key(16 + 2 * 64, 5);
        let (ta, tb) = mpsc_pair::<AuthFrame<ConfirmMessage>>();
        let key = BitBlock::random(4096, &mut sim_rng(6));
        let key_b = key.clone();
        let alice = std::thread::spawn(move || {
            let t = AuthenticatedTransport::new(
                ta,
                AuthKeys::from_shared(&shared, Party::Alice).unwrap(),
                mode,
                encode,
            )
            .unwrap();
            let mut ep = Endpoint::new(Party::Alice, t);
            let out = ep.drive(ConfirmAlice::new(&key, 1))?;
            assert!(out.matched);
            let (mut t, _) = ep.into_parts();
            t.finish()
        });
        let shared_b = shared_key(16 + 2 * 64, if tamper { 99 } else { 5 });
        let bob = std::thread::spawn(move || {
            let t = AuthenticatedTransport::new(
                tb,
                AuthKeys::from_shared(&shared_b, Party::Bob).unwrap(),
                mode,
                encode,
            )
            .unwrap();
            let mut ep = Endpoint::new(Party::Bob, t);
            let out = ep.drive(ConfirmBob::new(&key_b, 1));
            let (mut t, _) = ep.into_parts();
            out?;
            t.finish()
        });
        let a = alice.join().unwrap();
        let b = bob.join().unwrap();
        Ok((a?, b?))
    }

    #[test]
    fn authenticated_transport_runs_a_protocol_and_reports_consumption() {
        let (a, b) = run_authenticated(AuthMode::Deferred, false).unwrap();
        assert_eq!((a.messages, a.tags, a.pad_bits_consumed), (2, 2, 128));
        assert_eq!(b.pad_bits_consumed, 128);
        let (a, _) = run_authenticated(AuthMode::PerMessage, false).unwrap();
        assert_eq!((a.messages, a.tags, a.pad_bits_consumed), (2, 2, 128));
    }

    #[test]
    fn wrong_keys_fail_authentication() {
        assert!(run_authenticated(AuthMode::Deferred, true).is_err());
        assert!(run_authenticated(AuthMode::PerMessage, true).is_err());
    }

    /// A man in the middle that alters the confirmation tag in flight.
    struct Tamper(qkd_core::MpscTransport<AuthFrame<ConfirmMessage>>);

    impl Transport<AuthFrame<ConfirmMessage>> for Tamper {
        fn send(&mut self, frame: AuthFrame<ConfirmMessage>) -> Result<(), ProtocolError> {
            let frame = match frame {
                AuthFrame::Data {
                    message: ConfirmMessage::Tag(t),
                    tag,
                } => AuthFrame::Data {
                    message: ConfirmMessage::Tag(t ^ 1),
                    tag,
                },
                other => other,
            };
            self.0.send(frame)
        }
        fn recv(&mut self) -> Result<AuthFrame<ConfirmMessage>, ProtocolError> {
            self.0.recv()
        }
    }

    #[test]
    fn altered_messages_fail_authentication_in_both_modes() {
        for mode in [AuthMode::PerMessage, AuthMode::Deferred] {
            let shared = shared_key(16 + 2 * 64, 8);
            let (ta, tb) = mpsc_pair::<AuthFrame<ConfirmMessage>>();
            let key = BitBlock::random(512, &mut sim_rng(9));
            let key_b = key.clone();
            let shared_b = shared.clone();
            let alice = std::thread::spawn(move || {
                let keys = AuthKeys::from_shared(&shared, Party::Alice).unwrap();
                let t = AuthenticatedTransport::new(Tamper(ta), keys, mode, encode).unwrap();
                let mut ep = Endpoint::new(Party::Alice, t);
                ep.drive(ConfirmAlice::new(&key, 1))?;
                let (mut t, _) = ep.into_parts();
                t.finish()
            });
            let bob = std::thread::spawn(move || {
                let keys = AuthKeys::from_shared(&shared_b, Party::Bob).unwrap();
                let t = AuthenticatedTransport::new(tb, keys, mode, encode).unwrap();
                let mut ep = Endpoint::new(Party::Bob, t);
                ep.drive(ConfirmBob::new(&key_b, 1))?;
                let (mut t, _) = ep.into_parts();
                t.finish()
            });
            let (a, b) = (alice.join().unwrap(), bob.join().unwrap());
            // Bob must reject: per message at once, deferred at finish.
            assert!(b.is_err(), "{mode:?}: tampering went unnoticed");
            let _ = a;
        }
    }

    #[test]
    fn short_shared_key_is_an_error() {
        assert!(matches!(
            AuthKeys::from_shared(&SecretKey::from_bytes(vec![1; 31]), Party::Alice),
            Err(PrivacyError::PoolExhausted { .. })
        ));
    }
}
