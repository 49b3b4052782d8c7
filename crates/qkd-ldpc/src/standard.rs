//! Standard QC-LDPC code families from published tables: the IEEE 802.11n codes and the 5G NR
//! base graphs.
//!
//! Both families are quasi-cyclic: a small base matrix of circulant shifts (`-1` = zero block) is
//! lifted by a circulant size `Z` with [`QcBase::expand`] (block `(i, j)` with shift `s` is the
//! `Z x Z` identity cyclically shifted right by `s`: row `r` of the block has its one in column
//! `(r + s) mod Z`, the convention of both standards).
//!
//! For syndrome reconciliation the whole codeword is key: a code of `m` checks and `n` columns
//! discloses `m` bits for `n` key bits (leak rate `m / n = 1 - R`). The 802.11n codes therefore
//! serve leak rates 1/6 ... 1/2 at `n = 648, 1296, 1944` (docs/ldpc.md, "Standard code
//! families", has their measured FER and efficiency).
//!
//! # Sources and how the tables were checked
//! - IEEE Std 802.11-2012, Annex F ("HT LDPC matrix definitions"), Tables F-1 (n = 648,
//!   Z = 27), F-2 (n = 1296, Z = 54) and F-3 (n = 1944, Z = 81), each at rates 1/2, 2/3, 3/4
//!   and 5/6; the same tables first appeared as Annex R of IEEE 802.11n-2009. The code
//!   definition is clause 20.3.11.7.
//!
//! The tables here were transcribed from two independent public copies of the standard's tables
//! (one printed row by row, one holding the n = 648 rate 1/2 table column by column), which
//! agree entry for entry; `tests/standard.rs` re-checks the constants against a third layout kept
//! in `tests/data/ieee80211n_tables.txt` and pins the BLAKE3 checksums of the expanded matrices.

use crate::matrix::{QcBase, SparseMatrix};
use crate::LdpcError;

/// Code rate of an IEEE 802.11n LDPC code (IEEE Std 802.11-2012, 20.3.11.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Wifi80211nRate {
    /// Rate 1/2: 12 x 24 base matrix, leak rate 1/2.
    R1_2,
    /// Rate 2/3: 8 x 24 base matrix, leak rate 1/3.
    R2_3,
    /// Rate 3/4: 6 x 24 base matrix, leak rate 1/4.
    R3_4,
    /// Rate 5/6: 4 x 24 base matrix, leak rate 1/6.
    R5_6,
}

impl Wifi80211nRate {
    /// All rates, from the lowest (largest leak) to the highest.
    pub const ALL: [Self; 4] = [Self::R1_2, Self::R2_3, Self::R3_4, Self::R5_6];

    /// Base-matrix rows `mb` (the base has 24 columns).
    #[must_use]
    pub fn base_rows(self) -> usize {
        match self {
            Self::R1_2 => 12,
            Self::R2_3 => 8,
            Self::R3_4 => 6,
            Self::R5_6 => 4,
        }
    }

    /// The code rate `R = 1 - mb / 24`.
    #[must_use]
    pub fn rate(self) -> f64 {
        1.0 - self.leak_rate()
    }

    /// Syndrome bits per key bit, `m / n = mb / 24`.
    #[must_use]
    pub fn leak_rate(self) -> f64 {
        // mb <= 12: exact in f64.
        #[allow(clippy::cast_precision_loss)]
        let mb = self.base_rows() as f64;
        mb / 24.0
    }

    /// The rate as printed in the standard (`"1/2"`, ...).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::R1_2 => "1/2",
            Self::R2_3 => "2/3",
            Self::R3_4 => "3/4",
            Self::R5_6 => "5/6",
        }
    }

    /// Parses `"1/2"`, `"2/3"`, `"3/4"` or `"5/6"`.
    ///
    /// # Errors
    /// [`LdpcError::UnsupportedStandardCode`] naming the supported rates.
    pub fn parse(s: &str) -> Result<Self, LdpcError> {
        Self::ALL
            .into_iter()
            .find(|r| r.name() == s.trim())
            .ok_or_else(|| LdpcError::UnsupportedStandardCode {
                family: "IEEE 802.11n",
                requested: format!("rate {s}"),
                supported: "rates 1/2, 2/3, 3/4, 5/6".into(),
            })
    }
}

impl std::fmt::Display for Wifi80211nRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Codeword lengths `n` of the IEEE 802.11n LDPC codes (circulant sizes 27, 54, 81).
pub const IEEE80211N_LENGTHS: [usize; 3] = [648, 1296, 1944];

/// Columns of every IEEE 802.11n base matrix.
pub const IEEE80211N_BASE_COLS: usize = 24;

/// The base matrix (shift table) of the IEEE 802.11n code of length `n` and rate `rate`
/// (IEEE Std 802.11-2012, Annex F, Tables F-1 to F-3), with `z = n / 24`.
///
/// # Errors
/// [`LdpcError::UnsupportedStandardCode`] if `n` is not 648, 1296 or 1944.
pub fn ieee80211n_base(rate: Wifi80211nRate, n: usize) -> Result<QcBase, LdpcError> {
    use Wifi80211nRate::{R1_2, R2_3, R3_4, R5_6};
    let table: &[[i8; 24]] = match (n, rate) {
        (648, R1_2) => &N648_R1_2,
        (648, R2_3) => &N648_R2_3,
        (648, R3_4) => &N648_R3_4,
        (648, R5_6) => &N648_R5_6,
        (1296, R1_2) => &N1296_R1_2,
        (1296, R2_3) => &N1296_R2_3,
        (1296, R3_4) => &N1296_R3_4,
        (1296, R5_6) => &N1296_R5_6,
        (1944, R1_2) => &N1944_R1_2,
        (1944, R2_3) => &N1944_R2_3,
        (1944, R3_4) => &N1944_R3_4,
        (1944, R5_6) => &N1944_R5_6,
        _ => {
            return Err(LdpcError::UnsupportedStandardCode {
                family: "IEEE 802.11n",
                requested: format!("length {n}"),
                supported: "lengths 648, 1296, 1944".into(),
            });
        }
    };
    Ok(QcBase {
        mb: table.len(),
        nb: IEEE80211N_BASE_COLS,
        z: n / IEEE80211N_BASE_COLS,
        shifts: table
            .iter()
            .flatten()
            .map(|&s| u32::try_from(s).ok())
            .collect(),
    })
}

/// The parity-check matrix `H` (`(1 - R) n x n`) of the IEEE 802.11n LDPC code of length `n`
/// and rate `rate`: [`ieee80211n_base`] expanded.
///
/// ```
/// use qkd_ldpc::standard::{ieee80211n, Wifi80211nRate};
/// let h = ieee80211n(Wifi80211nRate::R1_2, 1944)?;
/// assert_eq!((h.rows(), h.cols(), h.edges()), (972, 1944, 6966));
/// assert!(ieee80211n(Wifi80211nRate::R1_2, 2000).is_err());
/// # Ok::<(), qkd_ldpc::LdpcError>(())
/// ```
///
/// # Errors
/// [`LdpcError::UnsupportedStandardCode`] if `n` is not 648, 1296 or 1944.
pub fn ieee80211n(rate: Wifi80211nRate, n: usize) -> Result<SparseMatrix, LdpcError> {
    ieee80211n_base(rate, n)?.expand()
}

/// Rank of `h` over GF(2) (dense Gaussian elimination on 64-bit words, `O(m^2 n / 64)`: meant
/// for checks of codes up to a few thousand rows).
#[must_use]
pub fn gf2_rank(h: &SparseMatrix) -> usize {
    let words = h.cols().div_ceil(64);
    let mut rows: Vec<u64> = vec![0; h.rows() * words];
    for j in 0..h.rows() {
        for &c in h.row(j) {
            rows[j * words + (c as usize >> 6)] ^= 1 << (c & 63);
        }
    }
    let mut rank = 0;
    for col in 0..h.cols() {
        let (w, b) = (col >> 6, 1u64 << (col & 63));
        let Some(p) = (rank..h.rows()).find(|&j| rows[j * words + w] & b != 0) else {
            continue;
        };
        if p != rank {
            for k in 0..words {
                rows.swap(p * words + k, rank * words + k);
            }
        }
        let (head, tail) = rows.split_at_mut((rank + 1) * words);
        let pivot = &head[rank * words..];
        for r in tail.chunks_exact_mut(words) {
            if r[w] & b != 0 {
                for (x, &y) in r[w..].iter_mut().zip(&pivot[w..]) {
                    *x ^= y;
                }
            }
        }
        rank += 1;
        if rank == h.rows() {
            break;
        }
    }
    rank
}

// IEEE Std 802.11-2012 Annex F tables, row by row; -1 is the zero block.
/// N = 648, rate 1/2: IEEE 802.11-2012 Table F-1, matrix prototype for Z = 27.
const N648_R1_2: [[i8; 24]; 12] = [
    [0, -1, -1, -1, 0, 0, -1, -1, 0, -1, -1, 0, 1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [22, 0, -1, -1, 17, -1, 0, 0, 12, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [6, -1, 0, -1, 10, -1, -1, -1, 24, -1, 0, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1],
    [2, -1, -1, 0, 20, -1, -1, -1, 25, 0, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1],
    [23, -1, -1, -1, 3, -1, -1, -1, 0, -1, 9, 11, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1],
    [24, -1, 23, 1, 17, -1, 3, -1, 10, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [25, -1, -1, -1, 8, -1, -1, -1, 7, 18, -1, -1, 0, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [13, 24, -1, -1, 0, -1, 8, -1, 6, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1],
    [7, 20, -1, 16, 22, 10, -1, -1, 23, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1],
    [11, -1, -1, -1, 19, -1, -1, -1, 13, -1, 3, 17, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [25, -1, 8, -1, 23, 18, -1, 14, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0],
    [3, -1, -1, -1, 16, -1, -1, 2, 25, 5, -1, -1, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 648, rate 2/3: IEEE 802.11-2012 Table F-1, matrix prototype for Z = 27.
const N648_R2_3: [[i8; 24]; 8] = [
    [25, 26, 14, -1, 20, -1, 2, -1, 4, -1, -1, 8, -1, 16, -1, 18, 1, 0, -1, -1, -1, -1, -1, -1],
    [10, 9, 15, 11, -1, 0, -1, 1, -1, -1, 18, -1, 8, -1, 10, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [16, 2, 20, 26, 21, -1, 6, -1, 1, 26, -1, 7, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [10, 13, 5, 0, -1, 3, -1, 7, -1, -1, 26, -1, -1, 13, -1, 16, -1, -1, -1, 0, 0, -1, -1, -1],
    [23, 14, 24, -1, 12, -1, 19, -1, 17, -1, -1, -1, 20, -1, 21, -1, 0, -1, -1, -1, 0, 0, -1, -1],
    [6, 22, 9, 20, -1, 25, -1, 17, -1, 8, -1, 14, -1, 18, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [14, 23, 21, 11, 20, -1, 24, -1, 18, -1, 19, -1, -1, -1, -1, 22, -1, -1, -1, -1, -1, -1, 0, 0],
    [17, 11, 11, 20, -1, 21, -1, 26, -1, 3, -1, -1, 18, -1, 26, -1, 1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 648, rate 3/4: IEEE 802.11-2012 Table F-1, matrix prototype for Z = 27.
const N648_R3_4: [[i8; 24]; 6] = [
    [16, 17, 22, 24, 9, 3, 14, -1, 4, 2, 7, -1, 26, -1, 2, -1, 21, -1, 1, 0, -1, -1, -1, -1],
    [25, 12, 12, 3, 3, 26, 6, 21, -1, 15, 22, -1, 15, -1, 4, -1, -1, 16, -1, 0, 0, -1, -1, -1],
    [25, 18, 26, 16, 22, 23, 9, -1, 0, -1, 4, -1, 4, -1, 8, 23, 11, -1, -1, -1, 0, 0, -1, -1],
    [9, 7, 0, 1, 17, -1, -1, 7, 3, -1, 3, 23, -1, 16, -1, -1, 21, -1, 0, -1, -1, 0, 0, -1],
    [24, 5, 26, 7, 1, -1, -1, 15, 24, 15, -1, 8, -1, 13, -1, 13, -1, 11, -1, -1, -1, -1, 0, 0],
    [2, 2, 19, 14, 24, 1, 15, 19, -1, 21, -1, 2, -1, 24, -1, 3, -1, 2, 1, -1, -1, -1, -1, 0],
];
/// N = 648, rate 5/6: IEEE 802.11-2012 Table F-1, matrix prototype for Z = 27.
const N648_R5_6: [[i8; 24]; 4] = [
    [17, 13, 8, 21, 9, 3, 18, 12, 10, 0, 4, 15, 19, 2, 5, 10, 26, 19, 13, 13, 1, 0, -1, -1],
    [3, 12, 11, 14, 11, 25, 5, 18, 0, 9, 2, 26, 26, 10, 24, 7, 14, 20, 4, 2, -1, 0, 0, -1],
    [22, 16, 4, 3, 10, 21, 12, 5, 21, 14, 19, 5, -1, 8, 5, 18, 11, 5, 5, 15, 0, -1, 0, 0],
    [7, 7, 14, 14, 4, 16, 16, 24, 24, 10, 1, 7, 15, 6, 10, 26, 8, 18, 21, 14, 1, -1, -1, 0],
];
/// N = 1296, rate 1/2: IEEE 802.11-2012 Table F-2, matrix prototype for Z = 54.
const N1296_R1_2: [[i8; 24]; 12] = [
    [40, -1, -1, -1, 22, -1, 49, 23, 43, -1, -1, -1, 1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [50, 1, -1, -1, 48, 35, -1, -1, 13, -1, 30, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [39, 50, -1, -1, 4, -1, 2, -1, -1, -1, -1, 49, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1],
    [33, -1, -1, 38, 37, -1, -1, 4, 1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1],
    [45, -1, -1, -1, 0, 22, -1, -1, 20, 42, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1],
    [51, -1, -1, 48, 35, -1, -1, -1, 44, -1, 18, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [47, 11, -1, -1, -1, 17, -1, -1, 51, -1, -1, -1, 0, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [5, -1, 25, -1, 6, -1, 45, -1, 13, 40, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1],
    [33, -1, -1, 34, 24, -1, -1, -1, 23, -1, -1, 46, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1],
    [1, -1, 27, -1, 1, -1, -1, -1, 38, -1, 44, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [-1, 18, -1, -1, 23, -1, -1, 8, 0, 35, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0],
    [49, -1, 17, -1, 30, -1, -1, -1, 34, -1, -1, 19, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 1296, rate 2/3: IEEE 802.11-2012 Table F-2, matrix prototype for Z = 54.
const N1296_R2_3: [[i8; 24]; 8] = [
    [39, 31, 22, 43, -1, 40, 4, -1, 11, -1, -1, 50, -1, -1, -1, 6, 1, 0, -1, -1, -1, -1, -1, -1],
    [25, 52, 41, 2, 6, -1, 14, -1, 34, -1, -1, -1, 24, -1, 37, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [43, 31, 29, 0, 21, -1, 28, -1, -1, 2, -1, -1, 7, -1, 17, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [20, 33, 48, -1, 4, 13, -1, 26, -1, -1, 22, -1, -1, 46, 42, -1, -1, -1, -1, 0, 0, -1, -1, -1],
    [45, 7, 18, 51, 12, 25, -1, -1, -1, 50, -1, -1, 5, -1, -1, -1, 0, -1, -1, -1, 0, 0, -1, -1],
    [35, 40, 32, 16, 5, -1, -1, 18, -1, -1, 43, 51, -1, 32, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [9, 24, 13, 22, 28, -1, -1, 37, -1, -1, 25, -1, -1, 52, -1, 13, -1, -1, -1, -1, -1, -1, 0, 0],
    [32, 22, 4, 21, 16, -1, -1, -1, 27, 28, -1, 38, -1, -1, -1, 8, 1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 1296, rate 3/4: IEEE 802.11-2012 Table F-2, matrix prototype for Z = 54.
const N1296_R3_4: [[i8; 24]; 6] = [
    [39, 40, 51, 41, 3, 29, 8, 36, -1, 14, -1, 6, -1, 33, -1, 11, -1, 4, 1, 0, -1, -1, -1, -1],
    [48, 21, 47, 9, 48, 35, 51, -1, 38, -1, 28, -1, 34, -1, 50, -1, 50, -1, -1, 0, 0, -1, -1, -1],
    [30, 39, 28, 42, 50, 39, 5, 17, -1, 6, -1, 18, -1, 20, -1, 15, -1, 40, -1, -1, 0, 0, -1, -1],
    [29, 0, 1, 43, 36, 30, 47, -1, 49, -1, 47, -1, 3, -1, 35, -1, 34, -1, 0, -1, -1, 0, 0, -1],
    [1, 32, 11, 23, 10, 44, 12, 7, -1, 48, -1, 4, -1, 9, -1, 17, -1, 16, -1, -1, -1, -1, 0, 0],
    [13, 7, 15, 47, 23, 16, 47, -1, 43, -1, 29, -1, 52, -1, 2, -1, 53, -1, 1, -1, -1, -1, -1, 0],
];
/// N = 1296, rate 5/6: IEEE 802.11-2012 Table F-2, matrix prototype for Z = 54.
const N1296_R5_6: [[i8; 24]; 4] = [
    [48, 29, 37, 52, 2, 16, 6, 14, 53, 31, 34, 5, 18, 42, 53, 31, 45, -1, 46, 52, 1, 0, -1, -1],
    [17, 4, 30, 7, 43, 11, 24, 6, 14, 21, 6, 39, 17, 40, 47, 7, 15, 41, 19, -1, -1, 0, 0, -1],
    [7, 2, 51, 31, 46, 23, 16, 11, 53, 40, 10, 7, 46, 53, 33, 35, -1, 25, 35, 38, 0, -1, 0, 0],
    [19, 48, 41, 1, 10, 7, 36, 47, 5, 29, 52, 52, 31, 10, 26, 6, 3, 2, -1, 51, 1, -1, -1, 0],
];
/// N = 1944, rate 1/2: IEEE 802.11-2012 Table F-3, matrix prototype for Z = 81.
const N1944_R1_2: [[i8; 24]; 12] = [
    [57, -1, -1, -1, 50, -1, 11, -1, 50, -1, 79, -1, 1, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [3, -1, 28, -1, 0, -1, -1, -1, 55, 7, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1, -1],
    [30, -1, -1, -1, 24, 37, -1, -1, 56, 14, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1],
    [62, 53, -1, -1, 53, -1, -1, 3, 35, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1, -1],
    [40, -1, -1, 20, 66, -1, -1, 22, 28, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1, -1],
    [0, -1, -1, -1, 8, -1, 42, -1, 50, -1, -1, 8, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [69, 79, 79, -1, -1, -1, 56, -1, 52, -1, -1, -1, 0, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [65, -1, -1, -1, 38, 57, -1, -1, 72, -1, 27, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1],
    [64, -1, -1, -1, 14, 52, -1, -1, 30, -1, -1, 32, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1, -1],
    [-1, 45, -1, 70, 0, -1, -1, -1, 77, 9, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [2, 56, -1, 57, 35, -1, -1, -1, -1, -1, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 0],
    [24, -1, 61, -1, 60, -1, -1, 27, 51, -1, -1, 16, 1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 1944, rate 2/3: IEEE 802.11-2012 Table F-3, matrix prototype for Z = 81.
const N1944_R2_3: [[i8; 24]; 8] = [
    [61, 75, 4, 63, 56, -1, -1, -1, -1, -1, -1, 8, -1, 2, 17, 25, 1, 0, -1, -1, -1, -1, -1, -1],
    [56, 74, 77, 20, -1, -1, -1, 64, 24, 4, 67, -1, 7, -1, -1, -1, -1, 0, 0, -1, -1, -1, -1, -1],
    [28, 21, 68, 10, 7, 14, 65, -1, -1, -1, 23, -1, -1, -1, 75, -1, -1, -1, 0, 0, -1, -1, -1, -1],
    [48, 38, 43, 78, 76, -1, -1, -1, -1, 5, 36, -1, 15, 72, -1, -1, -1, -1, -1, 0, 0, -1, -1, -1],
    [40, 2, 53, 25, -1, 52, 62, -1, 20, -1, -1, 44, -1, -1, -1, -1, 0, -1, -1, -1, 0, 0, -1, -1],
    [69, 23, 64, 10, 22, -1, 21, -1, -1, -1, -1, -1, 68, 23, 29, -1, -1, -1, -1, -1, -1, 0, 0, -1],
    [12, 0, 68, 20, 55, 61, -1, 40, -1, -1, -1, 52, -1, -1, -1, 44, -1, -1, -1, -1, -1, -1, 0, 0],
    [58, 8, 34, 64, 78, -1, -1, 11, 78, 24, -1, -1, -1, -1, -1, 58, 1, -1, -1, -1, -1, -1, -1, 0],
];
/// N = 1944, rate 3/4: IEEE 802.11-2012 Table F-3, matrix prototype for Z = 81.
const N1944_R3_4: [[i8; 24]; 6] = [
    [48, 29, 28, 39, 9, 61, -1, -1, -1, 63, 45, 80, -1, -1, -1, 37, 32, 22, 1, 0, -1, -1, -1, -1],
    [4, 49, 42, 48, 11, 30, -1, -1, -1, 49, 17, 41, 37, 15, -1, 54, -1, -1, -1, 0, 0, -1, -1, -1],
    [35, 76, 78, 51, 37, 35, 21, -1, 17, 64, -1, -1, -1, 59, 7, -1, -1, 32, -1, -1, 0, 0, -1, -1],
    [9, 65, 44, 9, 54, 56, 73, 34, 42, -1, -1, -1, 35, -1, -1, -1, 46, 39, 0, -1, -1, 0, 0, -1],
    [3, 62, 7, 80, 68, 26, -1, 80, 55, -1, 36, -1, 26, -1, 9, -1, 72, -1, -1, -1, -1, -1, 0, 0],
    [26, 75, 33, 21, 69, 59, 3, 38, -1, -1, -1, 35, -1, 62, 36, 26, -1, -1, 1, -1, -1, -1, -1, 0],
];
/// N = 1944, rate 5/6: IEEE 802.11-2012 Table F-3, matrix prototype for Z = 81.
const N1944_R5_6: [[i8; 24]; 4] = [
    [13, 48, 80, 66, 4, 74, 7, 30, 76, 52, 37, 60, -1, 49, 73, 31, 74, 73, 23, -1, 1, 0, -1, -1],
    [69, 63, 74, 56, 64, 77, 57, 65, 6, 16, 51, -1, 64, -1, 68, 9, 48, 62, 54, 27, -1, 0, 0, -1],
    [51, 15, 0, 80, 24, 25, 42, 54, 44, 71, 71, 9, 67, 35, -1, 58, -1, 29, -1, 53, 0, -1, 0, 0],
    [16, 29, 36, 41, 44, 56, 59, 37, 50, 24, -1, 65, 4, 65, 52, -1, 4, -1, 73, 52, 1, -1, -1, 0],
];
