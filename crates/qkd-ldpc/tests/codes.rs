//! Checksums of generated codes: any change to PEG, lifting or the degree profiles shows here.
//! The code library is generated at run time, deterministically from `(length, leak rate, seed,
//! profile)`; these checksums are what a shipped copy would be compared against.

// Test helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use qkd_ldpc::{CodeProfile, CodeSpec, DegreeProfile, LdpcConfig, LdpcReconciler, Mode};

#[test]
fn generated_codes_have_pinned_checksums() {
    // Published (Elkouss et al. 2009) profiles at ~2e3 (pure PEG) and ~1e4 (PEG base lifted z=6).
    for (len, leak, want) in [
        (
            2048,
            0.5,
            "deb67cdc95b1ca208229b917702f2277bb51545889e134ef7884d153ca1d0538",
        ),
        (
            11_112,
            0.3,
            "42fa02f827dad9c6a953d4f2962b56608f07f9fde25e23306687e30056a2d6de",
        ),
    ] {
        let code = CodeSpec {
            min_length: len,
            leak_rate: leak,
            seed: 1,
        }
        .build()
        .unwrap();
        let sum = code.h.checksum();
        eprintln!("{len}/{leak}/1: {sum} {:?}", code.h);
        assert_eq!(sum, want, "{len}/{leak}");
        // Alist export of a generated code round-trips.
        let back = qkd_ldpc::SparseMatrix::from_alist(&code.h.to_alist()).unwrap();
        assert_eq!(back.checksum(), sum);
    }
    // The ad hoc profile at 2048 bits.
    let code = CodeSpec {
        min_length: 2048,
        leak_rate: 0.5,
        seed: 1,
    }
    .build_with(DegreeProfile::ad_hoc(0.5))
    .unwrap();
    let sum = code.h.checksum();
    eprintln!("ad hoc 2048/0.5/1: {sum}");
    assert_eq!(
        sum,
        "c32fe1a1c18c45aa02599fced088fc0faab2f78747a50bf1e45c473e3b1968eb"
    );
    // The families' mother codes for N = 1e4 at leak rate 0.3 (ad hoc default, published).
    for (profile, want) in [
        (
            CodeProfile::AdHoc,
            "a518694b3b575630b2cc431871b6f878a838d52ace92bc5d999d553ea84b1d4b",
        ),
        (
            CodeProfile::Published,
            "5b11002a8da4e1b3425056219bf871dde9b398c8d281a2affa77dbc41a668677",
        ),
    ] {
        let r = LdpcReconciler::new(
            LdpcConfig::builder(10_000)
                .profile(profile)
                .build()
                .unwrap(),
            Mode::RateAdaptive,
        );
        let fc = r.mother_code(2).unwrap();
        let sum = fc.code.h.checksum();
        eprintln!("family 1e4 {profile:?} idx 2: {sum} {:?}", fc.code.h);
        assert_eq!(sum, want);
    }
}
