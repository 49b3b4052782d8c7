//! Checksums of generated codes: any change to PEG, lifting or the degree profiles shows here.

// Test helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use qkd_ldpc::{CodeSpec, LdpcConfig, LdpcReconciler, Mode};

#[test]
fn generated_codes_have_pinned_checksums() {
    let spec = CodeSpec {
        min_length: 2048,
        leak_rate: 0.5,
        seed: 1,
    };
    let code = spec.build().unwrap();
    let sum = code.h.checksum();
    eprintln!("2048/0.5/1: {sum} {:?}", code.h);
    assert_eq!(
        sum,
        "cddf4172c90a14575d2290a9ec7af9234ce28520e75cf9430acccb0d9d11d71b"
    );
    // The default family's mother code for N = 1e4 at leak rate 0.3.
    let r = LdpcReconciler::new(
        LdpcConfig::builder(10_000).build().unwrap(),
        Mode::RateAdaptive,
    );
    let fc = r.mother_code(4).unwrap();
    let sum = fc.code.h.checksum();
    eprintln!("family 1e4 idx 4: {sum} {:?}", fc.code.h);
    assert_eq!(
        sum,
        "05578a1fe28f819a703d8430bd5bc01602e71b518673237ad6b3b4480d5e98dc"
    );
    // Alist export of a generated code round-trips.
    let back = qkd_ldpc::SparseMatrix::from_alist(&code.h.to_alist()).unwrap();
    assert_eq!(back.checksum(), code.h.checksum());
}
