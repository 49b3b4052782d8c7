//! Standard code families (IEEE 802.11n, 5G NR): tables, dimensions, degrees, rank, checksums and
//! syndrome decoding.

// Test helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use qkd_core::{BitBlock, sim_rng};
use qkd_ldpc::standard::{IEEE80211N_LENGTHS, Wifi80211nRate, gf2_rank, ieee80211n_base};
use qkd_ldpc::{LdpcError, SparseMatrix, decode_spa, ieee80211n};
use rand::RngExt;

/// Parses `tests/data/ieee80211n_tables.txt`: sections `# n rate`, rows of 24 shifts.
fn second_transcription() -> BTreeMap<(usize, String), Vec<Vec<i32>>> {
    let text = include_str!("data/ieee80211n_tables.txt");
    let mut out = BTreeMap::new();
    let mut key = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix('#') {
            let t: Vec<&str> = rest.split_whitespace().collect();
            key = match (t.first().and_then(|n| n.parse::<usize>().ok()), t.get(1)) {
                (Some(n), Some(r)) if t.len() == 2 => Some((n, (*r).to_string())),
                _ => None,
            };
            continue;
        }
        let row: Vec<i32> = line
            .replace([';', ']'], " ")
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        out.entry(key.clone().unwrap())
            .or_insert_with(Vec::new)
            .push(row);
    }
    out
}

#[test]
fn ieee80211n_constants_match_second_transcription() {
    let other = second_transcription();
    assert_eq!(other.len(), 12);
    for n in IEEE80211N_LENGTHS {
        for rate in Wifi80211nRate::ALL {
            let base = ieee80211n_base(rate, n).unwrap();
            let theirs = &other[&(n, rate.name().to_string())];
            let ours: Vec<Vec<i32>> = base
                .shifts
                .chunks(24)
                .map(|r| {
                    r.iter()
                        .map(|s| s.map_or(-1, |v| i32::try_from(v).unwrap()))
                        .collect()
                })
                .collect();
            assert_eq!(&ours, theirs, "n = {n}, rate {rate}");
            assert_eq!((base.mb, base.nb, base.z), (rate.base_rows(), 24, n / 24));
        }
    }
}

/// `(degree, count)` pairs, ascending.
type Histogram = [(usize, usize)];

fn histogram(degrees: impl Iterator<Item = usize>) -> Vec<(usize, usize)> {
    let mut h = BTreeMap::new();
    for d in degrees {
        *h.entry(d).or_insert(0) += 1;
    }
    h.into_iter().collect()
}

fn col_degrees(h: &SparseMatrix) -> Vec<(usize, usize)> {
    histogram((0..h.cols()).map(|c| h.col_degree(c)))
}

fn row_degrees(h: &SparseMatrix) -> Vec<(usize, usize)> {
    histogram((0..h.rows()).map(|j| h.row(j).len()))
}

/// Degree distributions of the expanded N = 1944 codes, in nodes of the expanded graph (Z = 81
/// nodes per base column or row). Counted from the base tables by an independent script over the
/// first transcription (not by this crate), e.g. rate 1/2: base column degrees 11 x 2, 9 x 3,
/// 1 x 4, 3 x 11 and row degrees 10 x 7, 2 x 8, 86 circulants = 6966 edges.
#[test]
fn ieee80211n_1944_dimensions_and_degrees() {
    let z = 81;
    let expect: [(Wifi80211nRate, usize, &Histogram, &Histogram); 4] = [
        (
            Wifi80211nRate::R1_2,
            86,
            &[(2, 11), (3, 9), (4, 1), (11, 3)],
            &[(7, 10), (8, 2)],
        ),
        (
            Wifi80211nRate::R2_3,
            88,
            &[(2, 7), (3, 12), (6, 1), (8, 4)],
            &[(11, 8)],
        ),
        (
            Wifi80211nRate::R3_4,
            85,
            &[(2, 5), (3, 13), (6, 6)],
            &[(14, 5), (15, 1)],
        ),
        (
            Wifi80211nRate::R5_6,
            79,
            &[(2, 3), (3, 11), (4, 10)],
            &[(19, 1), (20, 3)],
        ),
    ];
    for (rate, circulants, cols, rows) in expect {
        let h = ieee80211n(rate, 1944).unwrap();
        assert_eq!((h.rows(), h.cols()), (rate.base_rows() * z, 1944), "{rate}");
        assert_eq!(h.edges(), circulants * z, "{rate}");
        let scale = |v: &[(usize, usize)]| v.iter().map(|&(d, k)| (d, k * z)).collect::<Vec<_>>();
        assert_eq!(col_degrees(&h), scale(cols), "{rate}");
        assert_eq!(row_degrees(&h), scale(rows), "{rate}");
    }
}

#[test]
fn ieee80211n_648_and_1296_dimensions() {
    // Circulants per base matrix, counted by the same independent script.
    let circulants = [
        (648, [88, 88, 88, 88]),
        (1296, [86, 88, 88, 85]),
        (1944, [86, 88, 85, 79]),
    ];
    for (n, counts) in circulants {
        for (rate, c) in Wifi80211nRate::ALL.into_iter().zip(counts) {
            let h = ieee80211n(rate, n).unwrap();
            assert_eq!(h.rows(), rate.base_rows() * n / 24);
            assert_eq!(h.cols(), n);
            assert_eq!(h.edges(), c * n / 24, "n = {n}, rate {rate}");
        }
    }
}

/// The parity part of every 802.11n base matrix is the dual-diagonal structure of 20.3.11.7 (a
/// weight-3 first parity column with shifts 1, 0, 1 and a staircase of identities), which is
/// invertible, so `H` has full row rank `m`: every syndrome bit carries information.
#[test]
fn ieee80211n_full_rank() {
    for n in IEEE80211N_LENGTHS {
        for rate in Wifi80211nRate::ALL {
            let h = ieee80211n(rate, n).unwrap();
            assert_eq!(gf2_rank(&h), h.rows(), "n = {n}, rate {rate}");
        }
    }
}

#[test]
fn gf2_rank_sees_dependent_rows() {
    // Row 2 = row 0 + row 1.
    let h = SparseMatrix::from_rows(4, &[vec![0, 1], vec![1, 2], vec![0, 2], vec![3]]).unwrap();
    assert_eq!(gf2_rank(&h), 3);
}

/// BLAKE3 of the expanded matrices ([`SparseMatrix::checksum`]): any change of a table entry or
/// of the expansion convention changes them.
#[test]
fn ieee80211n_checksums_pinned() {
    let pinned = [
        (
            Wifi80211nRate::R1_2,
            "96d608898d1bb4ac33e458d0bb373d5516fffbeb267c294b858c6a9122ba0dce",
        ),
        (
            Wifi80211nRate::R2_3,
            "c5a75145a1395226a17f6bc4cc166037b02f672808dbfe39e760b977d4bba337",
        ),
        (
            Wifi80211nRate::R3_4,
            "b9efb86ed03742718313ce846bbe21db3d9d75cfceb69c30165c67c8b61406ef",
        ),
        (
            Wifi80211nRate::R5_6,
            "89d3c344d11c6bf25e60afc7c5444c24f87d1f1f6a7ecc2ee5946ee484b5a67a",
        ),
    ];
    for (rate, sum) in pinned {
        let h = ieee80211n(rate, 1944).unwrap();
        assert_eq!(h.checksum(), sum, "{rate}");
    }
}

#[test]
fn ieee80211n_bad_parameters_are_typed_errors() {
    let e = ieee80211n(Wifi80211nRate::R1_2, 2000).unwrap_err();
    assert!(matches!(e, LdpcError::UnsupportedStandardCode { .. }));
    assert!(e.to_string().contains("648, 1296, 1944"), "{e}");
    let e = Wifi80211nRate::parse("7/8").unwrap_err();
    assert!(e.to_string().contains("1/2, 2/3, 3/4, 5/6"), "{e}");
    assert_eq!(Wifi80211nRate::parse("3/4").unwrap(), Wifi80211nRate::R3_4);
}

/// One syndrome-decoding trial: Alice's `x`, her syndrome `s = H x`, Bob's `y = x ^ e` with
/// `e ~ BSC(q)`; true if SPA returns exactly `x`.
fn spa_decodes(h: &SparseMatrix, q: f64, seed: u64) -> bool {
    let mut rng = sim_rng(seed);
    let x = BitBlock::random(h.cols(), &mut rng);
    let s = h.syndrome(&x).unwrap();
    let l = ((1.0 - q) / q).ln();
    let llr: Vec<f64> = x
        .iter()
        .map(|b| if b ^ rng.random_bool(q) { -l } else { l })
        .collect();
    let (res, words) = decode_spa(h, &llr, s.words(), 60);
    res.converged && words == x.words()
}

/// Each N = 1944 code decodes seeded BSC frames at a QBER well inside its region: about 60 % of
/// the Shannon-limit QBER of its leak rate (f = (1 - R) / h(Q) ~ 1.7-2.1). The FER there is far
/// below 1e-3 (examples/standard_fer.rs), so 6 failures-free frames per rate is a stable test.
#[test]
fn ieee80211n_1944_decodes_below_threshold() {
    for (rate, q) in [
        (Wifi80211nRate::R1_2, 0.05),
        (Wifi80211nRate::R2_3, 0.03),
        (Wifi80211nRate::R3_4, 0.02),
        (Wifi80211nRate::R5_6, 0.01),
    ] {
        let h = ieee80211n(rate, 1944).unwrap();
        for seed in 0..6 {
            assert!(spa_decodes(&h, q, seed), "rate {rate}, q {q}, seed {seed}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5G NR base graphs (3GPP TS 38.212 5.3.2).

use qkd_ldpc::nr_base_graph;
use qkd_ldpc::standard::{
    NR_SET_BASES, NrBaseGraph, nr_base, nr_code, nr_lifting_sizes, nr_set_index,
};

/// Parses a second transcription of Table 5.3.2-2/-3 (`tests/data/nr_bg*.csv`: two header lines,
/// then `row;column;V0;...;V7`, the row left empty when it repeats).
fn nr_second_transcription(text: &str) -> BTreeMap<(usize, usize), [u32; 8]> {
    let mut out = BTreeMap::new();
    let mut row = 0;
    for line in text.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(';').collect();
        if !f[0].is_empty() {
            row = f[0].parse().unwrap();
        }
        let v: Vec<u32> = f[2..10].iter().map(|x| x.parse().unwrap()).collect();
        out.insert((row, f[1].parse().unwrap()), v.try_into().unwrap());
    }
    out
}

/// The constants agree with the second transcription for every set: at the largest lifting size
/// of set `i_LS`, `V_ij mod Z = V_ij` (the standard keeps every `V_ij` below its set's largest
/// `Z`), so `nr_base` returns the table value itself.
#[test]
fn nr_constants_match_second_transcription() {
    for (bg, text, entries) in [
        (NrBaseGraph::Bg1, include_str!("data/nr_bg1.csv"), 316),
        (NrBaseGraph::Bg2, include_str!("data/nr_bg2.csv"), 197),
    ] {
        let theirs = nr_second_transcription(text);
        assert_eq!(theirs.len(), entries, "{bg}");
        for (set, &a) in NR_SET_BASES.iter().enumerate() {
            let z_max = (0..)
                .map(|j| a << j)
                .take_while(|&z| z <= 384)
                .last()
                .unwrap();
            let base = nr_base(bg, z_max).unwrap();
            let ours: BTreeMap<(usize, usize), u32> = base
                .shifts
                .iter()
                .enumerate()
                .filter_map(|(k, s)| s.map(|v| ((k / base.nb, k % base.nb), v)))
                .collect();
            let want: BTreeMap<(usize, usize), u32> =
                theirs.iter().map(|(&k, v)| (k, v[set])).collect();
            assert_eq!(ours, want, "{bg}, i_LS = {set}, Z = {z_max}");
        }
    }
}

/// Table 5.3.2-1: 51 lifting sizes; the list is copied from an independent source (a CUDA
/// decoder's `Z_array`), not computed by the same rule.
#[test]
fn nr_lifting_sizes_are_table_5_3_2_1() {
    let mut published = vec![
        2, 4, 8, 16, 32, 64, 128, 256, 3, 6, 12, 24, 48, 96, 192, 384, 5, 10, 20, 40, 80, 160, 320,
        7, 14, 28, 56, 112, 224, 9, 18, 36, 72, 144, 288, 11, 22, 44, 88, 176, 352, 13, 26, 52,
        104, 208, 15, 30, 60, 120, 240,
    ];
    published.sort_unstable();
    assert_eq!(nr_lifting_sizes(), published);
    assert_eq!(nr_set_index(384), Some(1));
    assert_eq!(nr_set_index(256), Some(0));
    assert_eq!(nr_set_index(240), Some(7));
    for bad in [0, 1, 17, 385, 512, 480] {
        assert_eq!(nr_set_index(bad), None, "{bad}");
    }
}

/// Degrees of the base graphs (each expanded node count is `z` times these): the published
/// structure has 316 / 197 circulants, four core rows of weight 19 (BG1) or 8, 10, 8, 10 (BG2),
/// the two first columns of weight 30 and 28 (BG1) or 22 and 23 (BG2), and one weight-1
/// extension column per extension row.
#[test]
fn nr_dimensions_and_degrees() {
    let z = 13;
    for (bg, circulants, core_rows, first_cols) in [
        (NrBaseGraph::Bg1, 316, [19, 19, 19, 19], [30, 28]),
        (NrBaseGraph::Bg2, 197, [8, 10, 8, 10], [22, 23]),
    ] {
        let h = nr_base_graph(bg, z).unwrap();
        assert_eq!(h.rows(), bg.base_rows() * z);
        assert_eq!(h.cols(), bg.base_cols() * z);
        assert_eq!(h.edges(), circulants * z, "{bg}");
        for (i, &w) in core_rows.iter().enumerate() {
            assert_eq!(h.row(i * z).len(), w, "{bg} row {i}");
        }
        for (j, &w) in first_cols.iter().enumerate() {
            assert_eq!(h.col_degree(j * z), w, "{bg} column {j}");
        }
        let ext = bg.info_cols() + 4;
        for j in ext..bg.base_cols() {
            assert_eq!(h.col_degree(j * z), 1, "{bg} extension column {j}");
        }
        // Every circulant is a permutation: all rows of a base row have the same weight.
        for i in 0..bg.base_rows() {
            let w = h.row(i * z).len();
            assert!((0..z).all(|r| h.row(i * z + r).len() == w));
        }
    }
}

/// The core (4 rows, kb + 4 columns) is the dual-diagonal structure of 5.3.2 and the extension
/// rows each own one identity column, so H has full row rank for every base graph and set (one
/// small lifting size per set; the rank is `O(m^2 n)`) and for the shortened codes of `nr_code`.
#[test]
fn nr_full_rank() {
    for bg in [NrBaseGraph::Bg1, NrBaseGraph::Bg2] {
        for &z in &NR_SET_BASES {
            let h = nr_base_graph(bg, z).unwrap();
            assert_eq!(gf2_rank(&h), h.rows(), "{bg}, Z = {z}");
        }
        for rows in [4, 5, 12, bg.base_rows()] {
            let h = nr_code(bg, 16, rows).unwrap();
            assert_eq!(
                (h.rows(), h.cols()),
                (rows * 16, (bg.info_cols() + rows) * 16)
            );
            assert_eq!(gf2_rank(&h), h.rows(), "{bg}, rows = {rows}");
        }
    }
}

/// Every lifting size of both graphs: the base keeps all 316 / 197 entries and every shift is
/// reduced below `z` (`QcBase::expand` would reject it otherwise).
#[test]
fn nr_every_lifting_size_builds() {
    for bg in [NrBaseGraph::Bg1, NrBaseGraph::Bg2] {
        let circulants = if bg == NrBaseGraph::Bg1 { 316 } else { 197 };
        for z in nr_lifting_sizes() {
            let base = nr_base(bg, z).unwrap();
            let shifts: Vec<u32> = base.shifts.iter().flatten().copied().collect();
            assert_eq!(shifts.len(), circulants, "{bg}, Z = {z}");
            assert!(shifts.iter().all(|&s| (s as usize) < z), "{bg}, Z = {z}");
        }
    }
}

#[test]
fn nr_code_is_the_top_left_of_the_full_graph() {
    let full = nr_base_graph(NrBaseGraph::Bg1, 8).unwrap();
    let part = nr_code(NrBaseGraph::Bg1, 8, 10).unwrap();
    for r in 0..part.rows() {
        assert_eq!(part.row(r), full.row(r));
    }
}

#[test]
fn nr_checksums_pinned() {
    for (bg, z, sum) in [
        (
            NrBaseGraph::Bg1,
            384,
            "c2c26650558470268d8976bd5989dee1ba8aa11d27724953f19682d015306f04",
        ),
        (
            NrBaseGraph::Bg2,
            384,
            "4878df253a6e2d7fa586e5b21d9b83010284636eeb3b85d5954d23a1d3bc8988",
        ),
        (
            NrBaseGraph::Bg1,
            52,
            "7e019d63b4e309af7eecc6141fd88e31dd1c3fdce3602009fa95d1d486b1985c",
        ),
        (
            NrBaseGraph::Bg2,
            52,
            "0c5ac30350b82499e7abed6fe26ab2e79f84f3af3e0dfd6dfe10e13ba0d24d21",
        ),
    ] {
        let h = nr_base_graph(bg, z).unwrap();
        assert_eq!(h.checksum(), sum, "{bg}, Z = {z}");
    }
}

#[test]
fn nr_bad_parameters_are_typed_errors() {
    let e = nr_base_graph(NrBaseGraph::Bg1, 17).unwrap_err();
    assert!(matches!(e, LdpcError::UnsupportedStandardCode { .. }));
    assert!(e.to_string().contains("Table 5.3.2-1"), "{e}");
    let e = nr_code(NrBaseGraph::Bg2, 16, 43).unwrap_err();
    assert!(e.to_string().contains("4..=42"), "{e}");
    assert!(nr_code(NrBaseGraph::Bg1, 16, 3).is_err());
}

/// Seeded syndrome decoding well inside each code's region (f ~ 1.7-2.5): BG2 full (leak 0.81)
/// at Q = 0.10 and BG1 cut to 12 rows (leak 12/34) at Q = 0.02; both had FER 0/200 in
/// examples/standard_fer.rs. (BG1 cut to 8 rows is weaker: FER 5/200 at Q = 0.02, f = 1.89.)
#[test]
fn nr_decodes_below_threshold() {
    let bg2 = nr_base_graph(NrBaseGraph::Bg2, 52).unwrap();
    let bg1 = nr_code(NrBaseGraph::Bg1, 64, 12).unwrap();
    for seed in 0..4 {
        assert!(spa_decodes(&bg2, 0.10, seed), "BG2 seed {seed}");
        assert!(spa_decodes(&bg1, 0.02, seed), "BG1 seed {seed}");
    }
}
