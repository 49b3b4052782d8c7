//! Density evolution against published BSC thresholds.

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use qkd_ldpc::de::{DeConfig, Ensemble, bsc_threshold};

/// BP thresholds of regular ensembles on the BSC, Richardson and Urbanke, IEEE Trans. IT 47(2),
/// 2001, Table I (p* for BP): (3,6) 0.084, (4,8) 0.076, (3,5) 0.113, (3,4) 0.167.
#[test]
fn regular_thresholds_match_richardson_urbanke() {
    let cfg = DeConfig::default();
    for (dv, dc, published) in [(3, 6, 0.084), (4, 8, 0.076), (3, 5, 0.113), (3, 4, 0.167)] {
        let t = bsc_threshold(&Ensemble::regular(dv, dc), &cfg).unwrap();
        eprintln!("({dv},{dc}): {t:.4} (published {published})");
        assert!(
            (t - published).abs() < 0.0015,
            "({dv},{dc}) threshold {t} vs {published}"
        );
    }
}
