//! Protocol invariants: correctness after success, ledger = messages, determinism, bad input.

#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

use proptest::prelude::*;
use qkd_cascade::{Cascade, CascadeConfig, CascadeMessage, Variant};
use qkd_core::harness::{ErrorModel, noisy_pair};
use qkd_core::{
    BitBlock, DynReconciler, Message, Qber, ReconcileError, ReconcileParams, Reconciler, Role,
    Turn, run_pair, sim_rng,
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
    for bad in [
        "cascade-original+tag0",
        "cascade-original+tag65",
        "cascade-original+tagx",
        "cascade-original+biconf-cascade",
    ] {
        assert!(matches!(
            Cascade::from_name(bad),
            Err(qkd_cascade::CascadeError::UnknownVariant(_))
        ));
    }
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
                  bpi in any::<bool>(), det in any::<bool>(), reuse in any::<bool>(),
                  tag in prop::option::of(1u8..=64)) {
        let mut name = format!("cascade-{}", Variant::ALL[vi].name());
        if bpi { name.push_str("+bpi"); }
        if det { name.push_str("+det"); }
        if reuse { name.push_str("+reuse"); }
        if let Some(t) = tag { name.push_str(&format!("+tag{t}")); }
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

    /// A parity once disclosed is never asked again: every range question of a frame is distinct
    /// (sub-block parities are kept in every variant, with or without sub-block reuse).
    #[test]
    fn no_parity_is_asked_twice(n in 200usize..4000, q in 0.01f64..0.15, seed in any::<u64>(),
                                vi in 0usize..7, reuse in any::<bool>()) {
        let mut name = format!("cascade-{}", Variant::ALL[vi].name());
        if reuse { name.push_str("+reuse"); }
        let algo = Cascade::from_name(&name).unwrap();
        let (a, b) = pair(n, q, seed);
        let params = ReconcileParams::new(Qber::new(q).unwrap(), seed);
        let messages = transcript(&algo, a, b, &params);
        let mut asked = std::collections::HashSet::new();
        for m in &messages {
            if let CascadeMessage::Ask { queries, .. } = m {
                for r in queries {
                    prop_assert!(asked.insert((r.pass, r.start, r.end)), "asked twice: {r:?}");
                }
            }
        }
    }
}

/// Every message of one frame, driving the two roles by hand.
fn transcript(
    algo: &Cascade,
    a: BitBlock,
    b: BitBlock,
    params: &ReconcileParams,
) -> Vec<CascadeMessage> {
    let mut alice = algo.alice(a, params).unwrap();
    let mut bob = algo.bob(b, params).unwrap();
    let mut out = Vec::new();
    assert!(matches!(alice.start().unwrap(), Turn::Wait));
    let mut turn = bob.start().unwrap();
    let mut to_alice = true;
    loop {
        let m = match turn {
            Turn::Send(m) => m,
            Turn::SendAndDone(m, _) => {
                out.push(m.clone());
                // The peer takes the last message and finishes.
                let _ = if to_alice {
                    alice.receive(m).unwrap()
                } else {
                    bob.receive(m).unwrap()
                };
                return out;
            }
            Turn::Done(_) | Turn::Wait => return out,
        };
        out.push(m.clone());
        turn = if to_alice {
            alice.receive(m).unwrap()
        } else {
            bob.receive(m).unwrap()
        };
        to_alice = !to_alice;
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
    assert_eq!(M::Confirm { tag: 1, bits: 64 }.disclosed_bits(), 64);
    assert_eq!(M::Confirm { tag: 1, bits: 32 }.disclosed_bits(), 32);
    assert_eq!(M::Verdict { ok: true }.disclosed_bits(), 0);
}
