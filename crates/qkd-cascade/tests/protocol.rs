//! Protocol invariants: correctness after success, ledger = messages, determinism, bad input.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use qkd_cascade::{Cascade, CascadeConfig, Variant};
use qkd_core::harness::{ErrorModel, noisy_pair};
use qkd_core::{
    BitBlock, DynReconciler, Message, Qber, ReconcileError, ReconcileParams, Reconciler, run_pair,
    sim_rng,
};

fn pair(n: usize, q: f64, seed: u64) -> (BitBlock, BitBlock) {
    noisy_pair(
        n,
        Qber::new(q).unwrap(),
        ErrorModel::Bernoulli,
        &mut sim_rng(seed),
    )
}

#[test]
fn every_variant_reconciles() {
    for v in Variant::ALL {
        let algo = Cascade::variant(v);
        for (i, q) in [0.01, 0.02, 0.05, 0.1].into_iter().enumerate() {
            for f in 0..5u64 {
                let (a, b) = pair(10_000, q, 100 * i as u64 + f);
                let params = ReconcileParams::new(Qber::new(q).unwrap(), f);
                let run = algo.run_in_process(a.clone(), b, &params).unwrap();
                let r = &run.report;
                assert!(!r.undetected_error, "{v:?} q={q} frame {f}");
                if r.success {
                    assert_eq!(run.bob.key().unwrap(), &a);
                    assert_eq!(run.alice.key().unwrap(), &a);
                }
                eprintln!(
                    "{:?} q={q} f={:.3} msgs={} rt={} ok={}",
                    v,
                    r.efficiency.unwrap_or(f64::NAN),
                    r.messages,
                    r.round_trips,
                    r.success
                );
            }
        }
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    let algo = Cascade::variant(Variant::Original);
    let p = ReconcileParams::new(Qber::new(0.02).unwrap(), 1);
    assert!(matches!(
        algo.run_in_process(BitBlock::zeros(10), BitBlock::zeros(11), &p),
        Err(ReconcileError::LengthMismatch { .. })
    ));
    assert_eq!(
        algo.run_in_process(BitBlock::new(), BitBlock::new(), &p)
            .unwrap_err(),
        ReconcileError::EmptyKey
    );
    for q in [0.0, 0.5, 0.7] {
        let p = ReconcileParams::new(Qber::new(q).unwrap(), 1);
        assert!(matches!(
            algo.run_in_process(BitBlock::zeros(10), BitBlock::zeros(10), &p),
            Err(ReconcileError::UnsupportedQber { .. })
        ));
        assert!(algo.alice(BitBlock::zeros(10), &p).is_err());
        assert!(algo.bob(BitBlock::zeros(10), &p).is_err());
    }
    assert!(Cascade::from_name("cascade-nope").is_err());
    assert!(Cascade::from_name("ldpc-original").is_err());
    assert!(Cascade::from_name("cascade-original+bogus").is_err());
    assert!(
        Cascade::new(
            CascadeConfig::builder()
                .passes(0)
                .build()
                .unwrap_or_default()
        )
        .is_ok()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// After success Bob's key equals Alice's; the ledger equals the sum of the messages; the same
    /// seed gives the same transcript.
    #[test]
    fn invariants(n in 1usize..3000, q in 0.005f64..0.2, seed in any::<u64>(), vi in 0usize..7,
                  bpi in any::<bool>(), det in any::<bool>()) {
        let mut name = format!("cascade-{}", Variant::ALL[vi].name());
        if bpi { name.push_str("+bpi"); }
        if det { name.push_str("+det"); }
        let algo = Cascade::from_name(&name).unwrap();
        let (a, b) = pair(n, q, seed);
        let params = ReconcileParams::new(Qber::new(q).unwrap(), seed ^ 0x55);
        let run = run_pair(
            algo.alice(a.clone(), &params).unwrap(),
            algo.bob(b.clone(), &params).unwrap(),
        ).unwrap();
        let a_ok = run.alice.outcome.is_success();
        let b_ok = run.bob.outcome.is_success();
        prop_assert_eq!(a_ok, b_ok);
        if b_ok {
            prop_assert_eq!(run.bob.outcome.key().unwrap(), &a);
        }
        // Ledger = messages: replay the transcript by recording each message again.
        let again = run_pair(
            algo.alice(a.clone(), &params).unwrap(),
            algo.bob(b, &params).unwrap(),
        ).unwrap();
        prop_assert_eq!(&again.ledger, &run.ledger);
        prop_assert_eq!(again.bob.outcome, run.bob.outcome);
        let sum: u64 = run.ledger.entries().iter().map(|e| e.disclosed_bits).sum();
        prop_assert_eq!(run.ledger.disclosed_bits(), sum);
    }
}

/// Every message's disclosed bits: parities are counted one per bit, questions count zero, the tag
/// counts 64.
#[test]
fn ledger_counts_each_message_honestly() {
    use qkd_cascade::CascadeMessage as M;
    let ask = M::Ask {
        open: vec![],
        queries: vec![],
    };
    assert_eq!(ask.disclosed_bits(), 0);
    let par = M::Parities {
        count: 17,
        words: vec![0],
    };
    assert_eq!(par.disclosed_bits(), 17);
    assert_eq!(M::Confirm { tag: 1 }.disclosed_bits(), 64);
    assert_eq!(M::Verdict { ok: true }.disclosed_bits(), 0);
}
