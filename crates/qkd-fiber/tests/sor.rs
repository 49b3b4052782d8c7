//! SOR (Telcordia SR-4731 issue 2) round trip and corrupt-file handling.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] fns

use proptest::prelude::*;
use qkd_core::sim_rng;
use qkd_fiber::otdr::{OtdrConfig, analyze, synthesize};
use qkd_fiber::sor::{SorMeta, read_sor, write_sor};
use qkd_fiber::{AnalysisConfig, FiberError, Route, SorError};

fn sample() -> Vec<u8> {
    let r = Route::from_toml_str(include_str!("../examples/metro_25km.toml")).unwrap();
    let cfg = OtdrConfig::builder().sample_spacing_m(4.0).build().unwrap();
    let t = synthesize(&r, &cfg, &mut sim_rng(1)).unwrap();
    let ev = analyze(&t, &AnalysisConfig::default()).unwrap();
    let meta = SorMeta {
        cable_id: "C-17".into(),
        fiber_id: "F3".into(),
        ..SorMeta::default()
    };
    write_sor(&t, &ev, &meta).unwrap()
}

#[test]
fn round_trip_keeps_trace_and_events() {
    let r = Route::from_toml_str(include_str!("../examples/metro_25km.toml")).unwrap();
    let t = synthesize(&r, &OtdrConfig::default(), &mut sim_rng(1)).unwrap();
    let ev = analyze(&t, &AnalysisConfig::default()).unwrap();
    let bytes = write_sor(&t, &ev, &SorMeta::default()).unwrap();
    let f = read_sor(&bytes).unwrap();
    assert_eq!(f.trace.len(), t.len());
    // Spacing is stored as time in 10 fs per point: relative error < 1e-5.
    assert!((f.trace.sample_spacing_m / t.sample_spacing_m - 1.0).abs() < 1e-5);
    for (a, b) in f.trace.levels_db.iter().zip(&t.levels_db) {
        if *b > -65.0 {
            assert!((a - b).abs() <= 0.0005 + 1e-12, "{a} vs {b}");
        }
    }
    assert_eq!(f.events.len(), ev.len());
    for (a, b) in f.events.iter().zip(&ev) {
        assert!((a.position_m - b.position_m).abs() < 0.05, "{a:?} vs {b:?}");
        assert!((a.loss_db - b.loss_db.unwrap_or(0.0)).abs() <= 0.0005 + 1e-12);
        assert_eq!(a.is_reflective(), b.reflectance_db.is_some());
    }
    assert!(f.events.last().unwrap().is_end());
    assert_eq!(f.trace.pulse_width_ns, 50.0);
    assert_eq!(f.trace.wavelength_nm, 1550.0);
    assert_eq!(f.trace.averages, 4096);
    assert!((f.trace.backscatter_db + 82.0).abs() < 1e-9);
}

#[test]
fn checked_in_file_still_parses() {
    // tests/data/metro_25km.sor was written by this crate and read by pyotdr 2.x (see docs).
    let bytes = include_bytes!("data/metro_25km.sor");
    let f = read_sor(bytes).unwrap();
    assert_eq!(f.meta.cable_id, "C-17");
    assert!(f.trace.len() > 7000);
}

#[test]
fn corruption_is_detected() {
    let good = sample();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    assert!(matches!(
        read_sor(&bad),
        Err(FiberError::Sor(SorError::Checksum { .. }))
    ));
    assert!(matches!(
        read_sor(&good[..good.len() - 1]),
        Err(FiberError::Sor(
            SorError::Truncated { .. } | SorError::BadLayout(_)
        ))
    ));
    // A wrong block size in the map (GenParams size at byte 12 + "GenParams\0" + 2).
    let mut wrong = good.clone();
    wrong[12 + 10 + 2] ^= 1;
    assert!(read_sor(&wrong).is_err());
    assert!(matches!(
        read_sor(b"Nope"),
        Err(FiberError::Sor(SorError::NotVersion2(_)))
    ));
    assert!(read_sor(&[]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]
    /// Arbitrary byte edits and truncations never panic the reader.
    #[test]
    fn reader_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
                           cut in any::<usize>()) {
        let mut b = sample();
        for (i, v) in edits {
            let n = b.len();
            b[i % n] = v;
        }
        let keep = b.len() - cut % 64;
        let _ = read_sor(&b[..keep]);
    }

    /// Random bytes behind a valid map header never panic either.
    #[test]
    fn random_files_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut b = b"Map\0".to_vec();
        b.extend_from_slice(&200u16.to_le_bytes());
        b.extend_from_slice(&tail);
        let _ = read_sor(&b);
    }
}

/// Regenerates `tests/data/metro_25km.sor` (run with `--ignored`), the file cross-checked with
/// pyotdr.
#[test]
#[ignore = "writes the fixture"]
fn regenerate_fixture() {
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/metro_25km.sor"),
        sample(),
    )
    .unwrap();
}
