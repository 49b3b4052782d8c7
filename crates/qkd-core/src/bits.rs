//! Owned bit strings with word-speed kernels.
//!
//! [`BitBlock`] wraps a `BitVec<u64, Lsb0>`: bit `i` lives in word `i / 64` at bit position `i % 64`.
//! Every algorithm crate works on these blocks, so the kernels here (range parity, XOR, popcount,
//! Hamming distance) run on whole 64-bit words and touch single bits only at the two ends of a range.
//!
//! Invariant: the unused high bits of the last word are always zero. Kernels rely on it (a popcount of
//! the words is the weight of the block), and every method that hands out mutable words restores it.
//!
//! A block may hold key material, so it zeroizes its words on drop, its `Debug` output shows only the
//! length, and `==` compares in constant time.

use std::ops::Range;

use base64::Engine as _;
use bitvec::prelude::*;
use rand::Rng;
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::CoreError;

/// Number of bits in a storage word.
pub const WORD_BITS: usize = 64;

/// An owned bit string, stored little-endian in 64-bit words.
///
/// ```
/// use qkd_core::BitBlock;
/// let mut a = BitBlock::from_bools(&[true, false, true, true]);
/// let b = BitBlock::from_bools(&[true, true, true, false]);
/// assert_eq!(a.hamming_distance(&b)?, 2);
/// assert!(!a.parity_range(0..3)?); // 1 ^ 0 ^ 1 = 0
/// assert!(a.parity()); // three ones
/// # Ok::<(), qkd_core::CoreError>(())
/// ```
#[derive(Clone, Default)]
pub struct BitBlock {
    bits: BitVec<u64, Lsb0>,
}

/// Mask with the low `n` bits set (`n` in `0..=64`).
#[inline]
fn low_mask(n: usize) -> u64 {
    if n >= WORD_BITS {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl BitBlock {
    /// An empty block.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A block of `len` zero bits.
    #[must_use]
    pub fn zeros(len: usize) -> Self {
        Self {
            bits: BitVec::repeat(false, len),
        }
    }

    /// A block of `len` bits drawn uniformly from `rng`, one `next_u64` per word.
    #[must_use]
    pub fn random<R: Rng + ?Sized>(len: usize, rng: &mut R) -> Self {
        let mut block = Self::zeros(len);
        for w in block.bits.as_raw_mut_slice() {
            *w = rng.next_u64();
        }
        block.clear_tail();
        block
    }

    /// A block from a slice of booleans (bit `i` = `bools[i]`).
    #[must_use]
    pub fn from_bools(bools: &[bool]) -> Self {
        let mut bits = BitVec::with_capacity(bools.len());
        bits.extend(bools.iter().copied());
        let mut block = Self { bits };
        block.clear_tail();
        block
    }

    /// A block of `len` bits from little-endian words; bits beyond `len` are ignored.
    ///
    /// # Errors
    /// [`CoreError::InvalidArgument`] if `words` holds fewer than `len` bits.
    pub fn from_words(words: &[u64], len: usize) -> Result<Self, CoreError> {
        let needed = len.div_ceil(WORD_BITS);
        if words.len() < needed {
            return Err(CoreError::InvalidArgument {
                reason: format!("{} words cannot hold {len} bits", words.len()),
            });
        }
        let mut bits = BitVec::from_slice(&words[..needed]);
        bits.truncate(len);
        let mut block = Self { bits };
        block.clear_tail();
        Ok(block)
    }

    /// A block of `8 * bytes.len()` bits; bit `i` is bit `i % 8` (least significant first) of byte `i / 8`.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut block = Self::zeros(bytes.len() * 8);
        {
            let words = block.bits.as_raw_mut_slice();
            for (i, &b) in bytes.iter().enumerate() {
                words[i / 8] |= u64::from(b) << (8 * (i % 8));
            }
        }
        block
    }

    /// A block of `len` bits from bytes in the layout of [`BitBlock::from_bytes`].
    ///
    /// # Errors
    /// [`CoreError::InvalidEncoding`] unless `bytes` has exactly `ceil(len / 8)` bytes and the bits
    /// beyond `len` in the last byte are zero.
    pub fn from_bytes_with_len(bytes: &[u8], len: usize) -> Result<Self, CoreError> {
        if bytes.len() != len.div_ceil(8) {
            return Err(CoreError::InvalidEncoding {
                reason: format!("{} bytes do not encode {len} bits", bytes.len()),
            });
        }
        let mut block = Self::from_bytes(bytes);
        if block.count_ones_from(len) != 0 {
            return Err(CoreError::InvalidEncoding {
                reason: "padding bits beyond the stated length are not zero".into(),
            });
        }
        block.bits.truncate(len);
        block.clear_tail();
        Ok(block)
    }

    /// The bytes of this block (`ceil(len / 8)` of them), in the layout of [`BitBlock::from_bytes`].
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        let n = self.len().div_ceil(8);
        let words = self.words();
        (0..n)
            .map(|i| {
                let w = words[i / 8];
                // Truncation to the addressed byte is the point of this cast.
                #[allow(clippy::cast_possible_truncation)]
                let b = (w >> (8 * (i % 8))) as u8;
                b
            })
            .collect()
    }

    /// Lower-case hex of [`BitBlock::to_bytes`].
    #[must_use]
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let bytes = self.to_bytes();
        let mut s = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    /// Parses hex produced by [`BitBlock::to_hex`] for a block of `len` bits.
    ///
    /// # Errors
    /// [`CoreError::InvalidEncoding`] on a non-hex character, an odd number of digits, or a byte count
    /// that does not match `len`.
    pub fn from_hex(hex: &str, len: usize) -> Result<Self, CoreError> {
        let digits = hex.as_bytes();
        if !digits.len().is_multiple_of(2) {
            return Err(CoreError::InvalidEncoding {
                reason: "hex has an odd number of digits".into(),
            });
        }
        let nibble = |c: u8| -> Result<u8, CoreError> {
            match c {
                b'0'..=b'9' => Ok(c - b'0'),
                b'a'..=b'f' => Ok(c - b'a' + 10),
                b'A'..=b'F' => Ok(c - b'A' + 10),
                _ => Err(CoreError::InvalidEncoding {
                    reason: format!("{:?} is not a hex digit", char::from(c)),
                }),
            }
        };
        let bytes = digits
            .chunks_exact(2)
            .map(|p| Ok((nibble(p[0])? << 4) | nibble(p[1])?))
            .collect::<Result<Vec<u8>, CoreError>>()?;
        Self::from_bytes_with_len(&bytes, len)
    }

    /// Standard padded base64 (RFC 4648) of [`BitBlock::to_bytes`].
    #[must_use]
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.to_bytes())
    }

    /// Parses base64 produced by [`BitBlock::to_base64`] for a block of `len` bits.
    ///
    /// # Errors
    /// [`CoreError::InvalidEncoding`] on invalid base64 or a byte count that does not match `len`.
    pub fn from_base64(text: &str, len: usize) -> Result<Self, CoreError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| CoreError::InvalidEncoding {
                reason: format!("base64: {e}"),
            })?;
        Self::from_bytes_with_len(&bytes, len)
    }

    /// Length in bits.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bits.len()
    }

    /// True if the block holds no bits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bits.is_empty()
    }

    /// The storage words (`ceil(len / 64)` of them); bits beyond `len` are zero.
    #[must_use]
    pub fn words(&self) -> &[u64] {
        self.bits.as_raw_slice()
    }

    /// Runs `f` on the storage words, then clears the bits beyond `len` again.
    pub fn with_words_mut<T>(&mut self, f: impl FnOnce(&mut [u64]) -> T) -> T {
        let out = f(self.bits.as_raw_mut_slice());
        self.clear_tail();
        out
    }

    /// The bits as a bitvec slice, for bit-level algorithms.
    #[must_use]
    pub fn as_bitslice(&self) -> &BitSlice<u64, Lsb0> {
        &self.bits
    }

    /// Bit `index`, or `None` past the end.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<bool> {
        self.bits.get(index).map(|b| *b)
    }

    /// Sets bit `index` to `value`.
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] past the end.
    pub fn set(&mut self, index: usize, value: bool) -> Result<(), CoreError> {
        self.check_index(index)?;
        self.bits.set(index, value);
        Ok(())
    }

    /// Flips bit `index`.
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] past the end.
    pub fn flip(&mut self, index: usize) -> Result<(), CoreError> {
        self.check_index(index)?;
        self.bits.as_raw_mut_slice()[index / WORD_BITS] ^= 1u64 << (index % WORD_BITS);
        Ok(())
    }

    /// Appends one bit.
    pub fn push(&mut self, value: bool) {
        self.bits.push(value);
    }

    /// Appends all bits of `other`.
    pub fn extend_from_block(&mut self, other: &BitBlock) {
        self.bits.extend_from_bitslice(&other.bits);
    }

    /// Shortens the block to `len` bits (no-op if it is already shorter).
    pub fn truncate(&mut self, len: usize) {
        self.bits.truncate(len);
        self.clear_tail();
    }

    /// A copy of the bits in `range`.
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] if the range does not lie within the block.
    pub fn slice(&self, range: Range<usize>) -> Result<BitBlock, CoreError> {
        self.check_range(&range)?;
        let mut bits = BitVec::with_capacity(range.len());
        bits.extend_from_bitslice(&self.bits[range]);
        let mut block = Self { bits };
        block.clear_tail();
        Ok(block)
    }

    /// A new block whose bit `i` is `self[indices[i]]` (gathering, as in a shuffle or a selection).
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] if an index is past the end.
    pub fn gather(&self, indices: &[usize]) -> Result<BitBlock, CoreError> {
        let mut out = Self::zeros(indices.len());
        let src = self.words();
        let len = self.len();
        {
            let dst = out.bits.as_raw_mut_slice();
            for (i, &j) in indices.iter().enumerate() {
                if j >= len {
                    return Err(CoreError::OutOfBounds {
                        start: j,
                        end: j + 1,
                        len,
                    });
                }
                let bit = (src[j / WORD_BITS] >> (j % WORD_BITS)) & 1;
                dst[i / WORD_BITS] |= bit << (i % WORD_BITS);
            }
        }
        Ok(out)
    }

    /// Iterator over the bits.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = bool> + '_ {
        self.bits.iter().by_vals()
    }

    /// Number of one bits (the Hamming weight).
    #[must_use]
    pub fn count_ones(&self) -> usize {
        self.words().iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Parity (XOR) of all bits.
    #[must_use]
    pub fn parity(&self) -> bool {
        self.words()
            .iter()
            .fold(0u64, |acc, w| acc ^ w)
            .count_ones()
            & 1
            == 1
    }

    /// Parity of the bits in `range`, word at a time: the two end words are masked, the interior is
    /// folded with XOR and counted once.
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] if the range does not lie within the block.
    pub fn parity_range(&self, range: Range<usize>) -> Result<bool, CoreError> {
        self.check_range(&range)?;
        Ok(parity_of_words(self.words(), range.start, range.end))
    }

    /// Number of one bits in `range`.
    ///
    /// # Errors
    /// [`CoreError::OutOfBounds`] if the range does not lie within the block.
    pub fn count_ones_range(&self, range: Range<usize>) -> Result<usize, CoreError> {
        self.check_range(&range)?;
        let (start, end) = (range.start, range.end);
        if start == end {
            return Ok(0);
        }
        let words = self.words();
        let (fw, lw) = (start / WORD_BITS, (end - 1) / WORD_BITS);
        let first_mask = !low_mask(start % WORD_BITS);
        let last_mask = low_mask(end - lw * WORD_BITS);
        if fw == lw {
            return Ok((words[fw] & first_mask & last_mask).count_ones() as usize);
        }
        let mut n = (words[fw] & first_mask).count_ones() as usize;
        n += words[fw + 1..lw]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum::<usize>();
        n += (words[lw] & last_mask).count_ones() as usize;
        Ok(n)
    }

    /// `self ^= other`, word at a time.
    ///
    /// # Errors
    /// [`CoreError::LengthMismatch`] if the lengths differ.
    pub fn xor_assign(&mut self, other: &BitBlock) -> Result<(), CoreError> {
        self.check_same_len(other)?;
        for (a, b) in self.bits.as_raw_mut_slice().iter_mut().zip(other.words()) {
            *a ^= *b;
        }
        Ok(())
    }

    /// `self ^ other` as a new block.
    ///
    /// # Errors
    /// [`CoreError::LengthMismatch`] if the lengths differ.
    pub fn xor(&self, other: &BitBlock) -> Result<BitBlock, CoreError> {
        let mut out = self.clone();
        out.xor_assign(other)?;
        Ok(out)
    }

    /// Number of positions where `self` and `other` differ.
    ///
    /// # Errors
    /// [`CoreError::LengthMismatch`] if the lengths differ.
    pub fn hamming_distance(&self, other: &BitBlock) -> Result<usize, CoreError> {
        self.check_same_len(other)?;
        Ok(self
            .words()
            .iter()
            .zip(other.words())
            .map(|(a, b)| (a ^ b).count_ones() as usize)
            .sum())
    }

    /// Consumes the block and returns the underlying bit vector.
    ///
    /// The returned vector is not zeroized on drop; prefer keeping key material in a [`BitBlock`].
    #[must_use]
    pub fn into_bitvec(mut self) -> BitVec<u64, Lsb0> {
        std::mem::take(&mut self.bits)
    }

    fn count_ones_from(&self, start: usize) -> usize {
        let words = self.words();
        let fw = start / WORD_BITS;
        if fw >= words.len() {
            return 0;
        }
        let first = (words[fw] & !low_mask(start % WORD_BITS)).count_ones() as usize;
        first
            + words[fw + 1..]
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
    }

    fn clear_tail(&mut self) {
        let len = self.bits.len();
        let rem = len % WORD_BITS;
        let words = self.bits.as_raw_mut_slice();
        let used = len.div_ceil(WORD_BITS);
        for w in words.iter_mut().skip(used) {
            *w = 0;
        }
        if rem != 0
            && let Some(last) = words.get_mut(used - 1)
        {
            *last &= low_mask(rem);
        }
    }

    fn check_index(&self, index: usize) -> Result<(), CoreError> {
        if index < self.len() {
            Ok(())
        } else {
            Err(CoreError::OutOfBounds {
                start: index,
                end: index + 1,
                len: self.len(),
            })
        }
    }

    fn check_range(&self, range: &Range<usize>) -> Result<(), CoreError> {
        if range.start <= range.end && range.end <= self.len() {
            Ok(())
        } else {
            Err(CoreError::OutOfBounds {
                start: range.start,
                end: range.end,
                len: self.len(),
            })
        }
    }

    fn check_same_len(&self, other: &BitBlock) -> Result<(), CoreError> {
        if self.len() == other.len() {
            Ok(())
        } else {
            Err(CoreError::LengthMismatch {
                left: self.len(),
                right: other.len(),
            })
        }
    }
}

/// Parity of bits `start..end` of a little-endian word slice, without bounds checks beyond the
/// slice's own (callers guarantee `start <= end <= 64 * words.len()`).
///
/// This is the kernel behind [`BitBlock::parity_range`], public so that hot loops that already
/// validated their ranges (Cascade's binary searches) can call it on [`BitBlock::words`] directly.
///
/// # Panics
/// If `end > 64 * words.len()` (an index out of the slice).
#[inline]
#[must_use]
pub fn parity_of_words(words: &[u64], start: usize, end: usize) -> bool {
    if start >= end {
        return false;
    }
    let (fw, lw) = (start / WORD_BITS, (end - 1) / WORD_BITS);
    let first_mask = !low_mask(start % WORD_BITS);
    let last_mask = low_mask(end - lw * WORD_BITS);
    let acc = if fw == lw {
        words[fw] & first_mask & last_mask
    } else {
        let interior = words[fw + 1..lw].iter().fold(0u64, |a, w| a ^ w);
        (words[fw] & first_mask) ^ interior ^ (words[lw] & last_mask)
    };
    acc.count_ones() & 1 == 1
}

impl Drop for BitBlock {
    fn drop(&mut self) {
        self.bits.as_raw_mut_slice().zeroize();
    }
}

impl std::fmt::Debug for BitBlock {
    /// Shows only the length: a block may be key material.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BitBlock")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}

impl PartialEq for BitBlock {
    /// Constant-time in the contents (the lengths are public).
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && bool::from(self.words().ct_eq(other.words()))
    }
}

impl Eq for BitBlock {}

impl ConstantTimeEq for BitBlock {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        if self.len() == other.len() {
            self.words().ct_eq(other.words())
        } else {
            subtle::Choice::from(0)
        }
    }
}

impl From<BitVec<u64, Lsb0>> for BitBlock {
    fn from(bits: BitVec<u64, Lsb0>) -> Self {
        let mut block = Self { bits };
        block.clear_tail();
        block
    }
}

impl FromIterator<bool> for BitBlock {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> Self {
        let mut block = Self {
            bits: iter.into_iter().collect(),
        };
        block.clear_tail();
        block
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    //! A block serializes as `{"bits": len, "base64": "..."}`: compact and self-describing.
    use super::BitBlock;
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de::Error as _};

    #[derive(Serialize, Deserialize)]
    struct Wire {
        bits: usize,
        base64: String,
    }

    impl Serialize for BitBlock {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            Wire {
                bits: self.len(),
                base64: self.to_base64(),
            }
            .serialize(s)
        }
    }

    impl<'de> Deserialize<'de> for BitBlock {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w = Wire::deserialize(d)?;
            BitBlock::from_base64(&w.base64, w.bits).map_err(D::Error::custom)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::sim_rng;
    use proptest::prelude::*;

    fn naive_parity(b: &BitBlock, r: Range<usize>) -> bool {
        r.fold(false, |acc, i| acc ^ b.get(i).unwrap_or(false))
    }

    #[test]
    fn doc_example_values() {
        let a = BitBlock::from_bools(&[true, false, true, true]);
        assert!(!a.parity_range(0..3).unwrap());
        assert!(a.parity_range(0..4).unwrap());
        assert!(a.parity());
    }

    #[test]
    fn parity_every_range_of_a_200_bit_block() {
        let b = BitBlock::random(200, &mut sim_rng(7));
        for s in 0..=200 {
            for e in s..=200 {
                assert_eq!(
                    b.parity_range(s..e).unwrap(),
                    naive_parity(&b, s..e),
                    "{s}..{e}"
                );
                assert_eq!(
                    b.count_ones_range(s..e).unwrap(),
                    (s..e).filter(|&i| b.get(i).unwrap()).count()
                );
            }
        }
    }

    #[test]
    fn out_of_range_is_an_error_not_a_panic() {
        let mut b = BitBlock::zeros(10);
        assert!(matches!(
            b.parity_range(3..11),
            Err(CoreError::OutOfBounds { .. })
        ));
        #[allow(clippy::reversed_empty_ranges)]
        let rev = 5..3;
        assert!(b.parity_range(rev).is_err());
        assert!(b.set(10, true).is_err());
        assert!(b.flip(99).is_err());
        assert!(b.gather(&[0, 10]).is_err());
        assert!(b.slice(0..11).is_err());
        assert!(b.xor_assign(&BitBlock::zeros(9)).is_err());
        assert!(BitBlock::from_words(&[1], 65).is_err());
    }

    #[test]
    fn tail_bits_stay_zero() {
        let mut b = BitBlock::random(70, &mut sim_rng(1));
        b.with_words_mut(|w| w.iter_mut().for_each(|x| *x = u64::MAX));
        assert_eq!(b.count_ones(), 70);
        b.truncate(3);
        assert_eq!(b.count_ones(), 3);
        assert_eq!(b.words(), &[7]);
    }

    #[test]
    fn encodings_reject_bad_text() {
        assert!(BitBlock::from_hex("zz", 8).is_err());
        assert!(BitBlock::from_hex("abc", 12).is_err());
        assert!(BitBlock::from_hex("ff", 4).is_err()); // padding bits set
        assert!(BitBlock::from_hex("0f", 4).is_ok());
        assert!(BitBlock::from_base64("!!!", 8).is_err());
        assert!(BitBlock::from_base64("AAAA", 8).is_err()); // 3 bytes, not 1
    }

    #[test]
    fn debug_does_not_show_bits() {
        let b = BitBlock::from_bytes(&[0xde, 0xad]);
        let s = format!("{b:?}");
        assert!(s.contains("16"));
        assert!(!s.contains("de") || !s.contains("ad"));
    }

    fn block_strategy(max_len: usize) -> impl Strategy<Value = BitBlock> {
        proptest::collection::vec(any::<bool>(), 0..max_len).prop_map(|v| BitBlock::from_bools(&v))
    }

    fn pair_strategy(max_len: usize) -> impl Strategy<Value = (BitBlock, BitBlock)> {
        (0..max_len).prop_flat_map(|n| {
            (
                proptest::collection::vec(any::<bool>(), n),
                proptest::collection::vec(any::<bool>(), n),
            )
                .prop_map(|(a, b)| (BitBlock::from_bools(&a), BitBlock::from_bools(&b)))
        })
    }

    proptest! {
        #[test]
        fn range_parity_equals_naive(b in block_strategy(400), x in 0usize..400, y in 0usize..400) {
            let n = b.len();
            let (s, e) = (x.min(y).min(n), x.max(y).min(n));
            prop_assert_eq!(b.parity_range(s..e).unwrap(), naive_parity(&b, s..e));
        }

        #[test]
        fn xor_and_hamming_identities((a, b) in pair_strategy(300)) {
            let x = a.xor(&b).unwrap();
            prop_assert_eq!(a.hamming_distance(&b).unwrap(), x.count_ones());
            prop_assert_eq!(a.hamming_distance(&a).unwrap(), 0);
            prop_assert_eq!(x.xor(&b).unwrap(), a.clone());
            prop_assert_eq!(a.parity() ^ b.parity(), x.parity());
            prop_assert_eq!(a.hamming_distance(&b).unwrap(), b.hamming_distance(&a).unwrap());
            // Weight identity: |a ^ b| = |a| + |b| - 2 |a & b|.
            let and = a.iter().zip(b.iter()).filter(|(p, q)| *p && *q).count();
            prop_assert_eq!(x.count_ones(), a.count_ones() + b.count_ones() - 2 * and);
        }

        #[test]
        fn base64_and_hex_round_trip(b in block_strategy(300)) {
            prop_assert_eq!(BitBlock::from_base64(&b.to_base64(), b.len()).unwrap(), b.clone());
            prop_assert_eq!(BitBlock::from_hex(&b.to_hex(), b.len()).unwrap(), b.clone());
            prop_assert_eq!(BitBlock::from_words(b.words(), b.len()).unwrap(), b.clone());
        }

        #[test]
        fn slice_and_gather_agree(b in block_strategy(300), x in 0usize..300, y in 0usize..300) {
            let n = b.len();
            let (s, e) = (x.min(y).min(n), x.max(y).min(n));
            let idx: Vec<usize> = (s..e).collect();
            let sl = b.slice(s..e).unwrap();
            prop_assert_eq!(sl.parity(), b.parity_range(s..e).unwrap());
            prop_assert_eq!(b.gather(&idx).unwrap(), sl);
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_round_trip() {
        let b = BitBlock::random(77, &mut sim_rng(3));
        let json = serde_json::to_string(&b).unwrap();
        let back: BitBlock = serde_json::from_str(&json).unwrap();
        assert_eq!(b, back);
    }
}
