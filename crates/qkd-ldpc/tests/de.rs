//! Density evolution against published BSC thresholds.

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use qkd_ldpc::de::{DeConfig, Ensemble, bsc_threshold, converges};
use qkd_ldpc::library::{ELKOUSS_2009, published};

/// A grid coarse enough for a quick test (0.1 nat); its (3,6) threshold is 0.0840 as with 0.05.
fn quick() -> DeConfig {
    DeConfig {
        delta: 0.1,
        ..DeConfig::default()
    }
}

/// BP thresholds of regular ensembles on the BSC, Richardson and Urbanke, IEEE Trans. IT 47(2),
/// 2001, Table I (p* for BP, printed to 3 digits): (3,6) 0.084, (4,8) 0.076, (3,5) 0.113,
/// (3,4) 0.167. Our DE gives 0.08403 / 0.07675 / 0.11377 / 0.16696 at 0.1 nat (docs/ldpc.md);
/// the printed figures look truncated rather than rounded ((4,8), (3,5)), so the tolerance is one
/// unit of the last printed digit.
#[test]
fn regular_thresholds_match_richardson_urbanke() {
    let cfg = quick();
    let t = bsc_threshold(&Ensemble::regular(3, 6), &cfg).unwrap();
    assert!((t - 0.0840).abs() < 0.0005, "(3,6) threshold {t}");
    for (dv, dc, published) in [(4, 8, 0.076), (3, 4, 0.167)] {
        let t = bsc_threshold(&Ensemble::regular(dv, dc), &cfg).unwrap();
        eprintln!("({dv},{dc}): {t:.4} (published {published})");
        assert!(
            (t - published).abs() < 0.001,
            "({dv},{dc}) threshold {t} vs {published}"
        );
    }
}

/// The design leak rates of the transcribed Elkouss et al. (2009) table match their rows (the
/// coefficients are printed to 4-5 digits, so the design rates are off by up to 8e-4).
#[test]
fn published_table_has_its_design_rates() {
    for e in ELKOUSS_2009 {
        let r = e.ensemble().leak_rate();
        // Coefficients printed to 4-5 digits: the design rates are off by up to 8e-4 (row 0.25).
        assert!(
            (r - e.leak_rate).abs() < 1e-3,
            "{}: design {r}",
            e.leak_rate
        );
    }
}

/// Elkouss, Leverrier, Alléaume, Boutros (ISIT 2009), Table I, leak 0.5, published threshold
/// 0.1071. Our DE (0.1 nat) decodes at 0.1076 and fails at 0.1081: our threshold lies 0.0005-0.001
/// above the published one (their discretised DE is a lower bound, as the paper says; a finer grid
/// is in docs/ldpc.md). Checked here: decodes at published - 0.0005, fails at published + 0.001.
#[test]
fn elkouss_rate_half_threshold_within_a_thousandth() {
    let e = published(0.5).unwrap();
    let ens = e.ensemble();
    let cfg = quick();
    assert!(converges(&ens, e.threshold - 0.0005, &cfg).unwrap());
    assert!(!converges(&ens, e.threshold + 0.001, &cfg).unwrap());
}

/// The five reference rows of RECONCILIATION.md (leak 0.5/0.4/0.3/0.2/0.1 -> 0.1071/0.0766/
/// 0.0504/0.0298/0.0109): decodes at published - 0.0005 and fails at published + 0.001. Many
/// minutes of CPU, so ignored by default; run with
/// `cargo test --release -p qkd-ldpc --test de -- --ignored`. Rows 0.1 and 0.2 were also run as
/// full bisections (0.01089, 0.02981); rows 0.3 and 0.4 have not been run (docs/ldpc.md).
#[test]
#[ignore = "slow: about 10 DE runs near threshold"]
fn reference_thresholds_all_rows() {
    let cfg = quick();
    for leak in [0.5, 0.4, 0.3, 0.2, 0.1] {
        let e = published(leak).unwrap();
        let ens = e.ensemble();
        assert!(
            converges(&ens, e.threshold - 0.0005, &cfg).unwrap(),
            "leak {leak}: no convergence below the published threshold"
        );
        assert!(
            !converges(&ens, e.threshold + 0.001, &cfg).unwrap(),
            "leak {leak}: convergence above the published threshold"
        );
    }
}

#[test]
fn invalid_inputs_are_errors() {
    let e = Ensemble {
        lambda: vec![(3, 0.5)],
        rho: vec![(6, 1.0)],
    };
    assert!(bsc_threshold(&e, &DeConfig::default()).is_err());
    assert!(converges(&Ensemble::regular(3, 6), 0.7, &DeConfig::default()).is_err());
    let bad_grid = DeConfig {
        delta: 0.0,
        ..DeConfig::default()
    };
    assert!(converges(&Ensemble::regular(3, 6), 0.05, &bad_grid).is_err());
}
