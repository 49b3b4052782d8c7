//! Word kernels of the sifting hot path: bit extraction and deposit under a mask, 64 records at
//! a time, without a branch per record.
//!
//! Every selection (kept, key basis, test basis, sample) is a mask over 64-record words. A plane
//! restricted to a mask is its selected bits packed low ([`compress_into`]: a software
//! parallel-bit-extract, byte-wise through a 64 KiB table built at compile time); the inverse
//! ([`deposit_into`]: parallel-bit-deposit) maps a mask over the selected records back onto the
//! positions of the selecting mask. Words past the last record are zero in every plane and mask
//! (the [`qkd_core::BitBlock`] invariant), so kernels run over whole words.

use crate::decoy::CLASSES;

/// `PEXT_TABLE[(mask << 8) | data]`: the bits of `data` selected by `mask`, packed low.
static PEXT_TABLE: [u8; 65536] = build_table(false);

/// `PDEP_TABLE[(mask << 8) | data]`: the low `popcount(mask)` bits of `data`, placed at the set
/// positions of `mask`.
static PDEP_TABLE: [u8; 65536] = build_table(true);

const fn build_table(deposit: bool) -> [u8; 65536] {
    let mut t = [0u8; 65536];
    let mut m = 0usize;
    while m < 256 {
        let mut x = 0usize;
        while x < 256 {
            let (mut out, mut n, mut b) = (0usize, 0usize, 0usize);
            while b < 8 {
                if (m >> b) & 1 == 1 {
                    if deposit {
                        out |= ((x >> n) & 1) << b;
                    } else {
                        out |= ((x >> b) & 1) << n;
                    }
                    n += 1;
                }
                b += 1;
            }
            // out < 256 by construction.
            #[allow(clippy::cast_possible_truncation)]
            {
                t[(m << 8) | x] = out as u8;
            }
            x += 1;
        }
        m += 1;
    }
    t
}

/// The table index of mask byte `b` and data byte `x` (both below 256).
#[inline]
fn index(m: u64, x: u64) -> usize {
    // Both operands are masked to a byte: the index is below 65536.
    #[allow(clippy::cast_possible_truncation)]
    let i = (((m & 0xff) << 8) | (x & 0xff)) as usize;
    i
}

/// Shift amounts of the eight mask bytes: byte `b` of the result is the number of set bits of `m`
/// below byte `b` (an exclusive prefix sum of the byte popcounts); the last value is `popcount(m)`.
///
/// SWAR byte popcounts and one multiply instead of eight `count_ones` (the workspace targets
/// baseline x86-64, where `count_ones` is itself a dozen instructions).
#[inline]
fn byte_offsets(m: u64) -> (u64, u32) {
    const L1: u64 = 0x0101_0101_0101_0101;
    let c = m - ((m >> 1) & 0x5555_5555_5555_5555);
    let c = (c & 0x3333_3333_3333_3333) + ((c >> 2) & 0x3333_3333_3333_3333);
    let c = (c + (c >> 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    let inclusive = c.wrapping_mul(L1);
    // The total is at most 64: it fits the u32.
    #[allow(clippy::cast_possible_truncation)]
    let total = (inclusive >> 56) as u32;
    (inclusive << 8, total)
}

/// Compresses the bits of `x` selected by `m` into the low `popcount(m)` bits (software PEXT),
/// given `offsets = byte_offsets(m).0`.
#[inline]
fn pext_with(x: u64, m: u64, offsets: u64) -> u64 {
    let mut out = 0u64;
    for b in 0..8 {
        let shift = (offsets >> (8 * b)) & 0xff;
        out |= u64::from(PEXT_TABLE[index(m >> (8 * b), x >> (8 * b))]) << shift;
    }
    out
}

/// Compresses the bits of `x` selected by `m` into the low `popcount(m)` bits (software PEXT).
#[cfg(test)]
fn pext(x: u64, m: u64) -> u64 {
    pext_with(x, m, byte_offsets(m).0)
}

/// Places the low `popcount(m)` bits of `x` at the set positions of `m` (software PDEP), given
/// `offsets = byte_offsets(m).0`; higher bits of `x` are ignored.
#[inline]
fn pdep_with(x: u64, m: u64, offsets: u64) -> u64 {
    let mut out = 0u64;
    for b in 0..8 {
        let shift = (offsets >> (8 * b)) & 0xff;
        out |= u64::from(PDEP_TABLE[index(m >> (8 * b), x >> shift)]) << (8 * b);
    }
    out
}

/// Number of set bits of a mask.
pub(crate) fn weight(mask: &[u64]) -> usize {
    mask.iter().map(|w| w.count_ones() as usize).sum()
}

/// Appends variable-length fields to a word slice, branch-free per field.
struct Packer<'a> {
    dst: &'a mut [u64],
    acc: u64,
    fill: u32,
    o: usize,
}

impl<'a> Packer<'a> {
    fn new(dst: &'a mut [u64]) -> Self {
        Self {
            dst,
            acc: 0,
            fill: 0,
            o: 0,
        }
    }

    /// Appends the low `n <= 64` bits of `v` (higher bits zero). The spill into the next word is
    /// computed always and kept by a select; the current word is stored every time.
    #[inline]
    fn push(&mut self, v: u64, n: u32) {
        self.acc |= v << self.fill;
        // v >> (64 - fill) for fill in 1..64, and 0 for fill = 0 (no bit of v spills).
        let spill = (v >> 1) >> (63 - self.fill);
        let total = self.fill + n;
        let full = total >= 64;
        if let Some(d) = self.dst.get_mut(self.o) {
            *d = self.acc;
        }
        self.o += usize::from(full);
        self.acc = if full { spill } else { self.acc };
        self.fill = total - if full { 64 } else { 0 };
    }

    fn finish(self) {
        if let Some(d) = self.dst.get_mut(self.o) {
            *d = self.acc;
        }
    }
}

/// Writes the bits of `src` selected by `mask`, packed LSB-first, into `dst` (which must hold
/// `weight(mask)` bits; its words are overwritten).
pub(crate) fn compress_into(src: &[u64], mask: &[u64], dst: &mut [u64]) {
    let mut p = Packer::new(dst);
    for (&x, &m) in src.iter().zip(mask) {
        let (offsets, n) = byte_offsets(m);
        p.push(pext_with(x, m, offsets), n);
    }
    p.finish();
}

/// [`compress_into`] for several planes under one mask, in one pass (the mask's byte offsets
/// are computed once per word).
pub(crate) fn compress_planes_into<const P: usize>(
    srcs: [&[u64]; P],
    mask: &[u64],
    dsts: [&mut [u64]; P],
) {
    let mut packers = dsts.map(Packer::new);
    for (w, &m) in mask.iter().enumerate() {
        let (offsets, n) = byte_offsets(m);
        for (p, src) in packers.iter_mut().zip(srcs) {
            p.push(pext_with(src.get(w).copied().unwrap_or(0), m, offsets), n);
        }
    }
    packers.into_iter().for_each(Packer::finish);
}

/// [`compress_planes_into`] into fresh word vectors; returns them and the selected count.
pub(crate) fn compress_planes<const P: usize>(
    srcs: [&[u64]; P],
    mask: &[u64],
) -> ([Vec<u64>; P], usize) {
    let n = weight(mask);
    let mut out: [Vec<u64>; P] = std::array::from_fn(|_| vec![0u64; n.div_ceil(64)]);
    {
        let dsts = out.each_mut().map(Vec::as_mut_slice);
        compress_planes_into(srcs, mask, dsts);
    }
    (out, n)
}

/// `compress_into` into a fresh word vector.
pub(crate) fn compress(src: &[u64], mask: &[u64]) -> (Vec<u64>, usize) {
    let n = weight(mask);
    let mut out = vec![0u64; n.div_ceil(64)];
    compress_into(src, mask, &mut out);
    (out, n)
}

/// The 64 bits starting at bit `pos` of `words` (bits past the end read as zero).
#[inline]
fn read_bits(words: &[u64], pos: usize) -> u64 {
    // pos % 64 < 64: the cast is exact.
    #[allow(clippy::cast_possible_truncation)]
    let (w, off) = (pos / 64, (pos % 64) as u32);
    let lo = words.get(w).copied().unwrap_or(0) >> off;
    let hi = (words.get(w + 1).copied().unwrap_or(0) << 1) << (63 - off);
    lo | hi
}

/// The inverse of [`compress_into`]: bit `j` of `src` goes to the position of the `j`-th set bit
/// of `mask`; `dst[w]` gets the deposited word `w` (positions outside `mask` are zero).
pub(crate) fn deposit_into(src: &[u64], mask: &[u64], dst: &mut [u64]) {
    let mut pos = 0usize;
    for (d, &m) in dst.iter_mut().zip(mask) {
        let (offsets, n) = byte_offsets(m);
        *d = pdep_with(read_bits(src, pos), m, offsets);
        pos += n as usize;
    }
}

/// Masks off the bits past `len` in the last word.
pub(crate) fn trim(words: &mut [u64], len: usize) {
    if !len.is_multiple_of(64)
        && let Some(last) = words.last_mut()
    {
        *last &= (1u64 << (len % 64)) - 1;
    }
}

/// Per-class counts of the set bits of `sel` (class code `lo + 2 hi` per position).
pub(crate) fn count_per_class(sel: &[u64], lo: &[u64], hi: &[u64]) -> [u64; CLASSES] {
    let mut c = [0u64; CLASSES];
    for (&s, (&l, &h)) in sel.iter().zip(lo.iter().zip(hi)) {
        c[0] += u64::from((s & !l & !h).count_ones());
        c[1] += u64::from((s & l & !h).count_ones());
        c[2] += u64::from((s & h).count_ones());
    }
    c
}

/// Per-class counts of all `len` positions of the class planes (tails zero).
pub(crate) fn class_counts(lo: &[u64], hi: &[u64], len: usize) -> [u64; CLASSES] {
    let (mut decoy, mut vacuum) = (0u64, 0u64);
    for (&l, &h) in lo.iter().zip(hi) {
        decoy += u64::from((l & !h).count_ones());
        vacuum += u64::from(h.count_ones());
    }
    [len as u64 - decoy - vacuum, decoy, vacuum]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bit(w: &[u64], i: usize) -> bool {
        w[i / 64] >> (i % 64) & 1 == 1
    }

    proptest! {
        /// Word-level compression equals bit-by-bit selection.
        #[test]
        fn compress_equals_naive_selection(
            data in proptest::collection::vec(any::<u64>(), 1..20),
            masks in proptest::collection::vec(any::<u64>(), 1..20),
            dense in any::<bool>(),
        ) {
            let n = data.len().min(masks.len());
            let mask: Vec<u64> = masks[..n].iter().map(|&m| if dense { !0 } else { m }).collect();
            let (got, len) = compress(&data[..n], &mask);
            let want: Vec<bool> =
                (0..64 * n).filter(|&i| bit(&mask, i)).map(|i| bit(&data, i)).collect();
            prop_assert_eq!(len, want.len());
            prop_assert_eq!(got.len(), len.div_ceil(64));
            for (j, &b) in want.iter().enumerate() {
                prop_assert_eq!(bit(&got, j), b);
            }
            // Several planes in one pass give the same words.
            let ([p0, p1], len2) = compress_planes([&data[..n], &mask[..]], &mask);
            prop_assert_eq!(len2, len);
            prop_assert_eq!(&p0, &got);
            prop_assert_eq!(p1, compress(&mask, &mask).0);
            // Bits past the end stay zero.
            if len % 64 != 0 {
                prop_assert_eq!(got[got.len() - 1] >> (len % 64), 0);
            }
        }

        /// Deposit inverts compression on the mask's positions.
        #[test]
        fn deposit_inverts_compress(
            data in proptest::collection::vec(any::<u64>(), 1..20),
            masks in proptest::collection::vec(any::<u64>(), 1..20),
        ) {
            let n = data.len().min(masks.len());
            let (packed, _) = compress(&data[..n], &masks[..n]);
            // The single-word kernels agree with the table-free definition.
            for w in 0..n {
                let naive: u64 = (0..64)
                    .filter(|&i| masks[w] >> i & 1 == 1)
                    .enumerate()
                    .map(|(j, i)| (data[w] >> i & 1) << j)
                    .sum();
                prop_assert_eq!(pext(data[w], masks[w]), naive);
            }
            let mut back = vec![0u64; n];
            deposit_into(&packed, &masks[..n], &mut back);
            for w in 0..n {
                prop_assert_eq!(back[w], data[w] & masks[w]);
            }
        }

        #[test]
        fn class_counts_agree(
            lo in proptest::collection::vec(any::<u64>(), 1..10),
            hi in proptest::collection::vec(any::<u64>(), 1..10),
        ) {
            let n = lo.len().min(hi.len());
            let hi: Vec<u64> = hi[..n].iter().zip(&lo).map(|(h, l)| h & !l).collect();
            let all = vec![u64::MAX; n];
            prop_assert_eq!(class_counts(&lo[..n], &hi, 64 * n), count_per_class(&all, &lo[..n], &hi));
        }
    }
}
