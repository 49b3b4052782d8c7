//! Sparse parity-check matrices: CSR (row-major, what the layered decoder walks) with a CSC index
//! (column-major, for flooding decoders and encoders), quasi-cyclic base matrices and their
//! expansion, alist import/export and a content checksum.

use std::fmt::Write as _;

use qkd_core::BitBlock;

use crate::LdpcError;

/// A binary sparse matrix `H` (m x n) in compressed sparse row form, with a column index.
///
/// Edges are numbered in row order: edge `e` of row `j` is `row_ptr[j] <= e < row_ptr[j+1]`, its
/// column `col_idx[e]`. `col_edges` lists, column by column, the edge numbers of each column.
#[derive(Clone, PartialEq, Eq)]
pub struct SparseMatrix {
    rows: usize,
    cols: usize,
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    col_ptr: Vec<u32>,
    col_edges: Vec<u32>,
}

impl std::fmt::Debug for SparseMatrix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseMatrix")
            .field("rows", &self.rows)
            .field("cols", &self.cols)
            .field("edges", &self.col_idx.len())
            .finish()
    }
}

fn to_u32(x: usize, what: &str) -> Result<u32, LdpcError> {
    u32::try_from(x).map_err(|_| LdpcError::InvalidCode(format!("{what} {x} exceeds u32")))
}

impl SparseMatrix {
    /// Builds a matrix from the column lists of each row. Duplicate entries in a row cancel (GF(2)).
    ///
    /// # Errors
    /// [`LdpcError::InvalidCode`] if a column index is out of range or sizes exceed `u32`.
    pub fn from_rows(cols: usize, rows: &[Vec<usize>]) -> Result<Self, LdpcError> {
        let mut row_ptr = Vec::with_capacity(rows.len() + 1);
        let mut col_idx = Vec::new();
        row_ptr.push(0);
        to_u32(cols, "columns")?;
        for (j, r) in rows.iter().enumerate() {
            let mut r = r.clone();
            r.sort_unstable();
            // GF(2): pairs of equal entries cancel.
            let mut k = 0;
            while k < r.len() {
                let mut run = 1;
                while k + run < r.len() && r[k + run] == r[k] {
                    run += 1;
                }
                if r[k] >= cols {
                    return Err(LdpcError::InvalidCode(format!(
                        "row {j} has column {} >= {cols}",
                        r[k]
                    )));
                }
                if run % 2 == 1 {
                    col_idx.push(to_u32(r[k], "column")?);
                }
                k += run;
            }
            row_ptr.push(to_u32(col_idx.len(), "edges")?);
        }
        let mut counts = vec![0u32; cols + 1];
        for &c in &col_idx {
            counts[c as usize + 1] += 1;
        }
        for i in 0..cols {
            counts[i + 1] += counts[i];
        }
        let col_ptr = counts.clone();
        let mut fill = counts;
        let mut col_edges = vec![0u32; col_idx.len()];
        for (e, &c) in col_idx.iter().enumerate() {
            let slot = &mut fill[c as usize];
            col_edges[*slot as usize] = to_u32(e, "edge")?;
            *slot += 1;
        }
        Ok(Self {
            rows: rows.len(),
            cols,
            row_ptr,
            col_idx,
            col_ptr,
            col_edges,
        })
    }

    /// Number of rows (checks) `m`.
    #[must_use]
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (variables) `n`.
    #[must_use]
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of nonzero entries (Tanner-graph edges).
    #[must_use]
    pub fn edges(&self) -> usize {
        self.col_idx.len()
    }

    /// Row pointers (length `m + 1`).
    #[must_use]
    pub fn row_ptr(&self) -> &[u32] {
        &self.row_ptr
    }

    /// Column index of every edge, in row order.
    #[must_use]
    pub fn col_idx(&self) -> &[u32] {
        &self.col_idx
    }

    /// Column pointers into [`Self::col_edges`] (length `n + 1`).
    #[must_use]
    pub fn col_ptr(&self) -> &[u32] {
        &self.col_ptr
    }

    /// Edge numbers grouped by column.
    #[must_use]
    pub fn col_edges(&self) -> &[u32] {
        &self.col_edges
    }

    /// The columns of row `j`.
    #[must_use]
    pub fn row(&self, j: usize) -> &[u32] {
        &self.col_idx[self.row_ptr[j] as usize..self.row_ptr[j + 1] as usize]
    }

    /// Degree of column `i`.
    #[must_use]
    pub fn col_degree(&self, i: usize) -> usize {
        (self.col_ptr[i + 1] - self.col_ptr[i]) as usize
    }

    /// Largest row degree.
    #[must_use]
    pub fn max_row_degree(&self) -> usize {
        self.row_ptr
            .windows(2)
            .map(|w| (w[1] - w[0]) as usize)
            .max()
            .unwrap_or(0)
    }

    /// The syndrome `H x` over GF(2), a word-level gather per row.
    ///
    /// # Errors
    /// [`LdpcError::LengthMismatch`] if `x` is not `n` bits long.
    pub fn syndrome(&self, x: &BitBlock) -> Result<BitBlock, LdpcError> {
        if x.len() != self.cols {
            return Err(LdpcError::LengthMismatch {
                what: "word",
                expected: self.cols,
                got: x.len(),
            });
        }
        let w = x.words();
        let mut out = vec![0u64; self.rows.div_ceil(64)];
        for j in 0..self.rows {
            let mut p = 0u64;
            for &c in self.row(j) {
                p ^= w[(c >> 6) as usize] >> (c & 63);
            }
            out[j >> 6] |= (p & 1) << (j & 63);
        }
        BitBlock::from_words(&out, self.rows)
            .map_err(|e| LdpcError::InvalidCode(format!("syndrome: {e}")))
    }

    /// Number of 4-cycles through each pair of rows sharing two or more columns (0 means girth >= 6).
    #[must_use]
    pub fn four_cycles(&self) -> usize {
        let mut count = 0usize;
        let mut mark = vec![u32::MAX; self.rows];
        let mut seen = vec![0u32; self.rows];
        for j in 0..self.rows {
            for &c in self.row(j) {
                let c = c as usize;
                for &e in &self.col_edges[self.col_ptr[c] as usize..self.col_ptr[c + 1] as usize] {
                    let r = self.edge_row(e as usize);
                    if r <= j {
                        continue;
                    }
                    if mark[r] != u32::try_from(j).unwrap_or(u32::MAX) {
                        mark[r] = u32::try_from(j).unwrap_or(u32::MAX);
                        seen[r] = 0;
                    }
                    seen[r] += 1;
                    if seen[r] >= 2 {
                        count += 1;
                    }
                }
            }
        }
        count
    }

    /// The row of edge `e` (binary search in the row pointers).
    #[must_use]
    pub fn edge_row(&self, e: usize) -> usize {
        let e = u32::try_from(e).unwrap_or(u32::MAX);
        self.row_ptr.partition_point(|&p| p <= e) - 1
    }

    /// Writes the matrix in MacKay's alist format (1-based indices, zero-padded lists).
    #[must_use]
    pub fn to_alist(&self) -> String {
        let mut s = String::new();
        let maxc = (0..self.cols)
            .map(|i| self.col_degree(i))
            .max()
            .unwrap_or(0);
        let maxr = self.max_row_degree();
        let _ = writeln!(s, "{} {}", self.cols, self.rows);
        let _ = writeln!(s, "{maxc} {maxr}");
        let cd: Vec<String> = (0..self.cols)
            .map(|i| self.col_degree(i).to_string())
            .collect();
        let _ = writeln!(s, "{}", cd.join(" "));
        let rd: Vec<String> = (0..self.rows)
            .map(|j| self.row(j).len().to_string())
            .collect();
        let _ = writeln!(s, "{}", rd.join(" "));
        for i in 0..self.cols {
            let mut rows: Vec<String> = self.col_edges
                [self.col_ptr[i] as usize..self.col_ptr[i + 1] as usize]
                .iter()
                .map(|&e| (self.edge_row(e as usize) + 1).to_string())
                .collect();
            rows.resize(maxc, "0".into());
            let _ = writeln!(s, "{}", rows.join(" "));
        }
        for j in 0..self.rows {
            let mut cols: Vec<String> = self.row(j).iter().map(|&c| (c + 1).to_string()).collect();
            cols.resize(maxr, "0".into());
            let _ = writeln!(s, "{}", cols.join(" "));
        }
        s
    }

    /// Parses MacKay's alist format. The column lists and row lists must describe the same matrix.
    ///
    /// # Errors
    /// [`LdpcError::Alist`] naming the line of the first problem.
    pub fn from_alist(text: &str) -> Result<Self, LdpcError> {
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty());
        let mut next_nums = |want: Option<usize>| -> Result<(usize, Vec<usize>), LdpcError> {
            let (ln, l) = lines.next().ok_or(LdpcError::Alist {
                line: 0,
                reason: "unexpected end of file".into(),
            })?;
            let nums = l
                .split_whitespace()
                .map(|t| {
                    t.parse::<usize>().map_err(|_| LdpcError::Alist {
                        line: ln,
                        reason: format!("not a number: {t:?}"),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(w) = want
                && nums.len() < w
            {
                return Err(LdpcError::Alist {
                    line: ln,
                    reason: format!("expected {w} numbers, found {}", nums.len()),
                });
            }
            Ok((ln, nums))
        };
        let (ln, nm) = next_nums(Some(2))?;
        let (n, m) = (nm[0], nm[1]);
        if n == 0 || m == 0 || n > 1 << 28 || m > 1 << 28 {
            return Err(LdpcError::Alist {
                line: ln,
                reason: format!("bad dimensions {n} x {m}"),
            });
        }
        let (_, _maxes) = next_nums(Some(2))?;
        let (ln_c, cdeg) = next_nums(Some(n))?;
        let (_, rdeg) = next_nums(Some(m))?;
        let mut col_lists = Vec::with_capacity(n);
        for (i, &d) in cdeg.iter().take(n).enumerate() {
            let (ln, nums) = next_nums(Some(d))?;
            let list: Vec<usize> = nums.into_iter().filter(|&x| x != 0).collect();
            if list.len() != d || list.iter().any(|&r| r > m) {
                return Err(LdpcError::Alist {
                    line: ln,
                    reason: format!("column {} list does not match degree {d} / range", i + 1),
                });
            }
            col_lists.push(list);
        }
        let mut rows = Vec::with_capacity(m);
        for (j, &d) in rdeg.iter().take(m).enumerate() {
            let (ln, nums) = next_nums(Some(d))?;
            let list: Vec<usize> = nums.into_iter().filter(|&x| x != 0).collect();
            if list.len() != d || list.iter().any(|&c| c > n) {
                return Err(LdpcError::Alist {
                    line: ln,
                    reason: format!("row {} list does not match degree {d} / range", j + 1),
                });
            }
            rows.push(list.into_iter().map(|c| c - 1).collect::<Vec<_>>());
        }
        let h = Self::from_rows(n, &rows).map_err(|e| LdpcError::Alist {
            line: ln_c,
            reason: e.to_string(),
        })?;
        // Cross-check the column lists against the rows.
        for (i, list) in col_lists.iter().enumerate() {
            let mut from_rows: Vec<usize> = h.col_edges
                [h.col_ptr[i] as usize..h.col_ptr[i + 1] as usize]
                .iter()
                .map(|&e| h.edge_row(e as usize) + 1)
                .collect();
            from_rows.sort_unstable();
            let mut l = list.clone();
            l.sort_unstable();
            if l != from_rows {
                return Err(LdpcError::Alist {
                    line: ln_c,
                    reason: format!("column {} list disagrees with the row lists", i + 1),
                });
            }
        }
        Ok(h)
    }

    /// BLAKE3 checksum (hex) of the matrix content: dimensions, then each row's sorted columns.
    #[must_use]
    pub fn checksum(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&(self.rows as u64).to_le_bytes());
        h.update(&(self.cols as u64).to_le_bytes());
        for p in &self.row_ptr {
            h.update(&p.to_le_bytes());
        }
        for c in &self.col_idx {
            h.update(&c.to_le_bytes());
        }
        h.finalize().to_hex().to_string()
    }
}

/// A quasi-cyclic base matrix: `mb x nb` circulant shifts (`None` is the zero block), lifting `z`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct QcBase {
    /// Base rows.
    pub mb: usize,
    /// Base columns.
    pub nb: usize,
    /// Lifting (circulant) size.
    pub z: usize,
    /// Row-major shifts; entry `(i, j)` is `shifts[i * nb + j]`.
    pub shifts: Vec<Option<u32>>,
}

impl QcBase {
    /// Expands the base matrix: block `(i, j)` with shift `s` is the `z x z` identity cyclically
    /// shifted right by `s` (row `r` has a one in column `(r + s) mod z`).
    ///
    /// # Errors
    /// [`LdpcError::InvalidCode`] if the shift table has the wrong size or a shift is `>= z`.
    pub fn expand(&self) -> Result<SparseMatrix, LdpcError> {
        if self.shifts.len() != self.mb * self.nb || self.z == 0 {
            return Err(LdpcError::InvalidCode(format!(
                "base {}x{} needs {} shifts, has {}",
                self.mb,
                self.nb,
                self.mb * self.nb,
                self.shifts.len()
            )));
        }
        let z = self.z;
        let mut rows = Vec::with_capacity(self.mb * z);
        for i in 0..self.mb {
            let blocks: Vec<(usize, usize)> = (0..self.nb)
                .filter_map(|j| self.shifts[i * self.nb + j].map(|s| (j, s as usize)))
                .collect();
            if let Some(&(_, s)) = blocks.iter().find(|&&(_, s)| s >= z) {
                return Err(LdpcError::InvalidCode(format!("shift {s} >= z = {z}")));
            }
            for r in 0..z {
                rows.push(
                    blocks
                        .iter()
                        .map(|&(j, s)| j * z + (r + s) % z)
                        .collect::<Vec<_>>(),
                );
            }
        }
        SparseMatrix::from_rows(self.nb * z, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_core::sim_rng;

    fn small() -> SparseMatrix {
        SparseMatrix::from_rows(
            6,
            &[vec![0, 1, 3], vec![1, 2, 4], vec![0, 4, 5], vec![2, 3, 5]],
        )
        .unwrap()
    }

    #[test]
    fn alist_round_trip() {
        let h = small();
        let text = h.to_alist();
        let back = SparseMatrix::from_alist(&text).unwrap();
        assert_eq!(h, back);
        assert_eq!(h.checksum(), back.checksum());
    }

    #[test]
    fn corrupt_alist_is_an_error() {
        let text = small().to_alist();
        assert!(matches!(
            SparseMatrix::from_alist("6 4\n3 3\n"),
            Err(LdpcError::Alist { .. })
        ));
        assert!(SparseMatrix::from_alist(&text.replace("6 4", "6 x")).is_err());
        // Column list that disagrees with rows.
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines[4] = "4 2 0".into();
        let bad = lines.join("\n");
        assert!(SparseMatrix::from_alist(&bad).is_err());
        assert!(SparseMatrix::from_alist("").is_err());
        assert!(SparseMatrix::from_alist("0 0\n").is_err());
        // Truncated file.
        let cut: String = text.lines().take(7).collect::<Vec<_>>().join("\n");
        assert!(SparseMatrix::from_alist(&cut).is_err());
    }

    #[test]
    fn qc_expansion_places_circulants() {
        let base = QcBase {
            mb: 1,
            nb: 2,
            z: 3,
            shifts: vec![Some(0), Some(1)],
        };
        let h = base.expand().unwrap();
        assert_eq!(h.row(0), &[0, 4]);
        assert_eq!(h.row(2), &[2, 3]);
        let bad = QcBase {
            z: 1,
            ..base.clone()
        };
        assert!(bad.expand().is_err());
    }

    #[test]
    fn syndrome_length_mismatch() {
        assert!(small().syndrome(&BitBlock::zeros(5)).is_err());
    }

    proptest! {
        /// H(x ^ y) = Hx ^ Hy.
        #[test]
        fn syndrome_is_linear(seed in any::<u64>()) {
            let h = small();
            let mut rng = sim_rng(seed);
            let x = BitBlock::random(6, &mut rng);
            let y = BitBlock::random(6, &mut rng);
            let sx = h.syndrome(&x).unwrap();
            let sy = h.syndrome(&y).unwrap();
            let sxy = h.syndrome(&x.xor(&y).unwrap()).unwrap();
            prop_assert_eq!(sxy, sx.xor(&sy).unwrap());
        }
    }
}
