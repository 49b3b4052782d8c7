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

/// Compresses the bits of `x` selected by `m` into the low `popcount(m)` bits (software PEXT).
#[inline]
pub(crate) fn pext(x: u64, m: u64) -> u64 {
    let mut out = 0u64;
    let mut n = 0u32;
    for b in 0..8 {
        let (mb, xb) = (m >> (8 * b), x >> (8 * b));
        out |= u64::from(PEXT_TABLE[index(mb, xb)]) << n;
        n += (mb & 0xff).count_ones();
    }
    out
}

/// Places the low `popcount(m)` bits of `x` at the set positions of `m` (software PDEP); higher
/// bits of `x` are ignored.
#[inline]
pub(crate) fn pdep(x: u64, m: u64) -> u64 {
    let mut out = 0u64;
    let mut src = x;
    for b in 0..8 {
        let mb = m >> (8 * b);
        out |= u64::from(PDEP_TABLE[index(mb, src)]) << (8 * b);
        src >>= (mb & 0xff).count_ones();
    }
    out
}

/// Number of set bits of a mask.
pub(crate) fn weight(mask: &[u64]) -> usize {
    mask.iter().map(|w| w.count_ones() as usize).sum()
}

/// Writes the bits of `src` selected by `mask`, packed LSB-first, into `dst` (which must hold
/// `weight(mask)` bits; its words are overwritten). Branch-free per word: the spill into the next
/// output word is computed always and kept by a select.
pub(crate) fn compress_into(src: &[u64], mask: &[u64], dst: &mut [u64]) {
    let (mut acc, mut fill, mut o) = (0u64, 0u32, 0usize);
    for (&x, &m) in src.iter().zip(mask) {
        let v = pext(x, m);
        let n = m.count_ones();
        acc |= v << fill;
        // v >> (64 - fill) for fill in 1..64, and 0 for fill = 0 (no bit of v spills).
        let spill = (v >> 1) >> (63 - fill);
        let total = fill + n;
        let full = total >= 64;
        if let Some(d) = dst.get_mut(o) {
            *d = acc;
        }
        o += usize::from(full);
        acc = if full { spill } else { acc };
        fill = total - if full { 64 } else { 0 };
    }
    if let Some(d) = dst.get_mut(o) {
        *d = acc;
    }
}

/// `compress_into` into a fresh word vector.
pub(crate) fn compress(src: &[u64], mask: &[u64]) -> (Vec<u64>, usize) {
    let n = weight(mask);
    let mut out = vec![0u64; n.div_ceil(64)];
    compress_into(src, mask, &mut out);
    (out, n)
}

/// Reads `n <= 64` bits starting at bit `pos` of `words` (bits past the end read as zero; bits
/// above `n` are not cleared).
#[inline]
fn read_bits(words: &[u64], pos: usize) -> u64 {
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
        *d = pdep(read_bits(src, pos), m);
        pos += m.count_ones() as usize;
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
