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
    let expect: [(Wifi80211nRate, usize, &[(usize, usize)], &[(usize, usize)]); 4] = [
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
