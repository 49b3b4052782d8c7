//! The messages of the protocol and what each discloses.
//!
//! Bob drives: he opens passes and asks for the parities of ranges of a pass's permuted key (all
//! blocks of a pass in one message, the binary searches of all blocks in lock step). Alice answers
//! with one parity bit per question. Indices are public (they depend only on the shared seed and
//! on Bob's error pattern, not on Alice's key); Alice's parities and the confirmation tag are
//! functions of the key and count in the ledger.

use qkd_core::Message;

use crate::pass::PassSpec;

/// Wire size of a pass identifier (kind + 16-bit index).
const PASS_SPEC_BITS: u64 = 17;
/// Wire size of a range question: 16-bit pass index and two 32-bit positions.
const QUERY_BITS: u64 = 80;

/// Parity of `start..end` in the permuted key of pass `pass` (passes numbered in opening order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RangeQuery {
    /// The pass, in the order passes were opened.
    pub pass: u16,
    /// First pass position (inclusive).
    pub start: u32,
    /// Last pass position (exclusive).
    pub end: u32,
}

/// A message of the Cascade protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum CascadeMessage {
    /// Bob: open these passes (Alice answers the parity of every block whose parity is not
    /// inferred) and answer these range parities.
    Ask {
        /// Passes to open, in order.
        open: Vec<PassSpec>,
        /// Range parities to answer, after the block parities.
        queries: Vec<RangeQuery>,
    },
    /// Alice: the parities, in the order asked, packed little-endian in 64-bit words.
    Parities {
        /// Number of parity bits.
        count: u32,
        /// The bits.
        words: Vec<u64>,
    },
    /// Bob: the confirmation tag of his corrected key.
    Confirm {
        /// The low `bits` bits of the GF(2^64) polynomial hash (higher bits zero).
        tag: u64,
        /// Tag length in bits, 1..=64.
        bits: u8,
    },
    /// Bob, without confirmation: reconciliation is over.
    Finish,
    /// Alice: whether the tags matched (both parties end on it).
    Verdict {
        /// True if the tags matched.
        ok: bool,
    },
}

impl CascadeMessage {
    /// Parity bit `i` of a [`CascadeMessage::Parities`] message.
    #[must_use]
    pub fn parity(words: &[u64], i: usize) -> bool {
        words.get(i / 64).is_some_and(|w| (w >> (i % 64)) & 1 == 1)
    }
}

impl Message for CascadeMessage {
    fn step(&self) -> &'static str {
        match self {
            CascadeMessage::Ask { .. } => "cascade.ask",
            CascadeMessage::Parities { .. } => "cascade.parities",
            CascadeMessage::Confirm { .. } => "cascade.confirm",
            CascadeMessage::Verdict { .. } => "cascade.verdict",
            CascadeMessage::Finish => "cascade.finish",
        }
    }

    fn size_bits(&self) -> u64 {
        match self {
            CascadeMessage::Ask { open, queries } => {
                32 + PASS_SPEC_BITS * open.len() as u64 + QUERY_BITS * queries.len() as u64
            }
            CascadeMessage::Parities { count, .. } => 32 + u64::from(*count),
            CascadeMessage::Confirm { bits, .. } => 8 + u64::from(*bits),
            CascadeMessage::Verdict { .. } | CascadeMessage::Finish => 1,
        }
    }

    fn disclosed_bits(&self) -> u64 {
        match self {
            // Indices and pass names are public.
            CascadeMessage::Ask { .. } => 0,
            // Every parity is a function of Alice's key.
            CascadeMessage::Parities { count, .. } => u64::from(*count),
            // The tag is a function of the (corrected) key; its length is public.
            CascadeMessage::Confirm { bits, .. } => u64::from(*bits),
            // Whether two keys agree says nothing about their value beyond the tag.
            CascadeMessage::Verdict { .. } | CascadeMessage::Finish => 0,
        }
    }
}
