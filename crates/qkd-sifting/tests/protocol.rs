//! End-to-end tests of the sifting exchange on records synthesized with known statistics.
//!
//! The attack tests synthesize records from the analytic statistics of each attack (qkd-quantum,
//! which simulates attacks photon by photon, is another crate): intercept-resend in every slot
//! gives a 25 % error rate on matching bases; a photon-number-splitting attack that blocks single
//! photons and forwards multi-photon pulses gives yields that depend on the photon number.

use qkd_core::{Basis, Bit, BitBlock, ClickKind, DetectionRecord, IntensityClass, sim_rng};
use qkd_sifting::{
    AbortReason, AbortRules, AliceRecords, BobRecords, ChannelModel, ConfidenceMethod, DecoyConfig,
    DecoyMethod, SampleSize, SiftConfig, SiftingError, Verdict, sift_pair, split_records,
};
use rand::RngExt;

/// `n` detections: class `k` with weight `weights[k]`, Z basis with probability `pz` for each
/// party independently, error probability `err[k]` when bases match (random bit otherwise).
fn synth(n: usize, weights: [f64; 3], err: [f64; 3], pz: f64, seed: u64) -> Vec<DetectionRecord> {
    let mut rng = sim_rng(seed);
    let total: f64 = weights.iter().sum();
    (0..n as u64)
        .map(|i| {
            let u: f64 = rng.random::<f64>() * total;
            let k = if u < weights[0] {
                0
            } else if u < weights[0] + weights[1] {
                1
            } else {
                2
            };
            let ab = if rng.random_bool(pz) {
                Basis::Z
            } else {
                Basis::X
            };
            let bb = if rng.random_bool(pz) {
                Basis::Z
            } else {
                Basis::X
            };
            let abit: bool = rng.random();
            let bbit = if ab == bb {
                abit ^ rng.random_bool(err[k])
            } else {
                rng.random()
            };
            DetectionRecord {
                slot: 5 * i + (i % 3),
                alice_basis: ab,
                alice_bit: Bit::from(abit),
                intensity: IntensityClass::ALL[k],
                bob_basis: bb,
                bob_bit: Bit::from(bbit),
                click: ClickKind::Single,
            }
        })
        .collect()
}

fn keys(v: (Verdict, Verdict)) -> (qkd_sifting::SiftedKey, qkd_sifting::SiftedKey) {
    match v {
        (Verdict::Proceed(a), Verdict::Proceed(b)) => (a, b),
        other => panic!("expected keys, got {other:?}"),
    }
}

/// Estimators match the simulated parameters within 5 standard errors (binomial standard error
/// sqrt(p(1-p)/n) of each rate), and the ledger records exactly what was disclosed.
#[test]
fn honest_link_estimates_match_the_truth() {
    let n = 400_000;
    let (pz, q) = (0.8, 0.02);
    let recs = synth(n, [1.0, 0.0, 0.0], [q, q, q], pz, 1);
    let (alice, bob) = split_records(&recs).unwrap();
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.1))
        .confidence(ConfidenceMethod::Serfling, 1e-9)
        .build()
        .unwrap();
    let (a, b, ledger) = sift_pair(alice, bob, cfg, 11).unwrap();
    assert_eq!(a.estimate, b.estimate);
    let e = a.estimate.clone();
    // Sifted fraction pz² + (1-pz)² = 0.68.
    let p_sift = pz * pz + (1.0 - pz) * (1.0 - pz);
    let sd = (p_sift * (1.0 - p_sift) / n as f64).sqrt();
    assert!((e.sifted as f64 / n as f64 - p_sift).abs() < 5.0 * sd);
    let qb = e.qber.unwrap();
    let sd_q = (q * (1.0 - q) / qb.sample as f64).sqrt();
    assert!((qb.point - q).abs() < 5.0 * sd_q, "{qb:?}");
    assert!(qb.lower <= q && q <= qb.upper);
    let t = e.test_error_rate.unwrap();
    assert!((t.point - q).abs() < 5.0 * (q * (1.0 - q) / t.sample as f64).sqrt());
    // The two keys have the same slots, and their disagreement is the QBER.
    let (ka, kb) = keys((a.verdict, b.verdict));
    assert_eq!(ka.slots, kb.slots);
    assert_eq!(ka.len() as u64, e.key_bits);
    let d = ka.bits.hamming_distance(&kb.bits).unwrap() as f64 / ka.len() as f64;
    assert!((d - q).abs() < 5.0 * (q * (1.0 - q) / ka.len() as f64).sqrt());
    assert!(d <= qb.upper);
    // Ledger: bases and slots disclose nothing; sample + test bits are disclosed.
    assert_eq!(ledger.disclosed_bits_in("sifting.announce"), 0);
    assert_eq!(ledger.disclosed_bits_in("estimation"), 0);
    assert_eq!(
        ledger.disclosed_bits(),
        qb.sample + e.test.total_detections()
    );
    assert_eq!(e.key.total_detections(), e.key_bits + qb.sample);
    assert_eq!(ledger.messages(), 3);
}

/// Alice's table may hold every emitted pulse; the result equals the sparse (detected-only) run.
#[test]
fn dense_alice_table_gives_the_same_key() {
    let recs = synth(20_000, [0.7, 0.2, 0.1], [0.01; 3], 0.5, 2);
    let (alice, bob) = split_records(&recs).unwrap();
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Bits(500))
        .confidence(ConfidenceMethod::ClopperPearson, 1e-6)
        .build()
        .unwrap();
    let sparse = sift_pair(alice, bob.clone(), cfg, 3).unwrap();
    // Dense: add undetected pulses between the detected ones.
    let mut dense = Vec::new();
    for r in &recs {
        let mut extra = r.alice();
        extra.slot = r.slot + 1;
        extra.bit = extra.bit.flipped();
        dense.push(r.alice());
        dense.push(extra);
    }
    let alice_dense = AliceRecords::from_slots(&dense).unwrap();
    let full = sift_pair(alice_dense, bob, cfg, 3).unwrap();
    assert_eq!(sparse.0, full.0);
    assert_eq!(sparse.1, full.1);
}

#[test]
fn intercept_resend_aborts_on_qber() {
    // Eve measures every pulse in a random basis and resends: 25 % errors on matching bases.
    let recs = synth(100_000, [1.0, 0.0, 0.0], [0.25; 3], 0.5, 4);
    let (alice, bob) = split_records(&recs).unwrap();
    let (a, b, _) = sift_pair(alice, bob, SiftConfig::default(), 5).unwrap();
    for out in [a, b] {
        match out.verdict {
            Verdict::Abort(AbortReason::QberTooHigh { upper, threshold }) => {
                assert!(upper > 0.2 && threshold == 0.11);
            }
            v => panic!("{v:?}"),
        }
    }
}

fn decoy_cfg() -> DecoyConfig {
    DecoyConfig {
        intensities: [0.5, 0.1, 0.0],
        probabilities: [0.5, 0.3, 0.2],
        method: DecoyMethod::TwoDecoy,
        eps_sec: 1e-6,
    }
}

/// Honest decoy statistics (10 dB channel) pass; PNS statistics with the same signal gain abort
/// with `DecoyInconsistent`.
#[test]
fn pns_attack_aborts_with_inconsistent_decoys() {
    let d = decoy_cfg();
    let ch = ChannelModel {
        transmittance: 0.1,
        y0: 1e-4,
        misalignment: 0.01,
    };
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .decoy(d)
        .abort(AbortRules {
            max_qber: 0.11,
            max_phase_error: 0.3,
            min_key_bits: 1000,
        })
        .build()
        .unwrap();
    let n = 600_000;
    // Honest: detections per class in proportion p_k Q_k, error rates E_k.
    let w = [0, 1, 2].map(|k| d.probabilities[k] * ch.gain(d.intensities[k]));
    let e = [0, 1, 2].map(|k| ch.qber(d.intensities[k]));
    let recs = synth(n, w, e, 0.5, 6);
    let (alice, bob) = split_records(&recs).unwrap();
    let (a, _, _) = sift_pair(alice, bob, cfg, 7).unwrap();
    let bounds = a.estimate.decoy.expect("decoy bounds computed");
    assert!(bounds.s_x1.value > 0.0, "{bounds:?}");
    assert!(matches!(a.verdict, Verdict::Proceed(_)), "{:?}", a.verdict);
    // PNS: single photons blocked, multi-photon pulses forwarded, scaled to the same signal gain.
    let multi = |k: f64| 1.0 - (-k).exp() * (1.0 + k);
    let scale = (ch.gain(0.5) - ch.y0) / multi(0.5);
    let w = [0, 1, 2].map(|k| d.probabilities[k] * (ch.y0 + scale * multi(d.intensities[k])));
    let recs = synth(n, w, [0.01, 0.01, 0.5], 0.5, 8);
    let (alice, bob) = split_records(&recs).unwrap();
    let (a, b, _) = sift_pair(alice, bob, cfg, 9).unwrap();
    for out in [a, b] {
        assert!(
            matches!(
                out.verdict,
                Verdict::Abort(AbortReason::DecoyInconsistent { .. })
            ),
            "{:?}",
            out.verdict
        );
    }
}

/// The honest decoy statistics of the test above in a block 30x smaller with 90/10 bases: the test
/// basis holds a few hundred events, the single-photon bound is zero, and the reason says so
/// (too few events, with an estimate of how many would do), not `DecoyInconsistent`.
#[test]
fn small_honest_block_reports_too_few_decoy_events() {
    let d = decoy_cfg();
    let ch = ChannelModel {
        transmittance: 0.1,
        y0: 1e-4,
        misalignment: 0.01,
    };
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .decoy(d)
        .abort(AbortRules {
            max_qber: 0.11,
            max_phase_error: 0.3,
            min_key_bits: 1000,
        })
        .build()
        .unwrap();
    let w = [0, 1, 2].map(|k| d.probabilities[k] * ch.gain(d.intensities[k]));
    let e = [0, 1, 2].map(|k| ch.qber(d.intensities[k]));
    let recs = synth(20_000, w, e, 0.9, 10);
    let (alice, bob) = split_records(&recs).unwrap();
    let (a, b, _) = sift_pair(alice, bob, cfg, 11).unwrap();
    assert_eq!(a.estimate, b.estimate);
    match a.verdict {
        Verdict::Abort(AbortReason::TooFewDecoyEvents {
            basis,
            observed,
            required,
            ..
        }) => {
            assert_eq!(basis, Basis::X);
            assert_eq!(observed, a.estimate.test.total_detections());
            assert!(required.unwrap() > observed);
        }
        v => panic!("{v:?}"),
    }
}

#[test]
fn bad_input_is_a_typed_error() {
    assert!(matches!(
        BobRecords::new(vec![1, 2], BitBlock::zeros(2), BitBlock::zeros(3)),
        Err(SiftingError::LengthMismatch { .. })
    ));
    assert!(matches!(
        BobRecords::new(vec![2, 1], BitBlock::zeros(2), BitBlock::zeros(2)),
        Err(SiftingError::UnsortedSlots { .. })
    ));
    let z = || BitBlock::zeros(0);
    let empty_a = AliceRecords::new(vec![], z(), z(), z(), z()).unwrap();
    let empty_b = BobRecords::new(vec![], z(), z()).unwrap();
    assert!(matches!(
        sift_pair(empty_a, empty_b, SiftConfig::default(), 1),
        Err(SiftingError::Empty { .. })
    ));
    for eps in [0.0, 1.0, f64::NAN] {
        assert!(matches!(
            SiftConfig::builder()
                .confidence(ConfidenceMethod::Hoeffding, eps)
                .build(),
            Err(SiftingError::InvalidEpsilon { .. })
        ));
    }
    let mut d = decoy_cfg();
    d.eps_sec = 1.5;
    assert!(SiftConfig::builder().decoy(d).build().is_err());
    // A sample larger than the key is reported (through the protocol error of the role).
    let recs = synth(1000, [1.0, 0.0, 0.0], [0.0; 3], 0.5, 1);
    let (alice, bob) = split_records(&recs).unwrap();
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Bits(10_000))
        .build()
        .unwrap();
    let err = sift_pair(alice, bob, cfg, 1).unwrap_err();
    assert!(err.to_string().contains("sample of 10000 bits"), "{err}");
}

/// The one-decoy protocol (no vacuum class) runs end to end with the Rusca et al. bounds.
#[test]
fn one_decoy_protocol_proceeds_on_an_honest_link() {
    let d = DecoyConfig {
        intensities: [0.5, 0.1, 0.0],
        probabilities: [0.6, 0.4, 0.0],
        method: DecoyMethod::OneDecoy,
        eps_sec: 1e-6,
    };
    let ch = ChannelModel {
        transmittance: 0.1,
        y0: 1e-5,
        misalignment: 0.01,
    };
    let w = [0, 1, 2].map(|k| d.probabilities[k] * ch.gain(d.intensities[k]));
    let e = [0, 1, 2].map(|k| ch.qber(d.intensities[k]));
    let recs = synth(600_000, w, e, 0.5, 12);
    let (alice, bob) = split_records(&recs).unwrap();
    let cfg = SiftConfig::builder()
        .decoy(d)
        .abort(AbortRules {
            max_qber: 0.11,
            max_phase_error: 0.3,
            min_key_bits: 1000,
        })
        .build()
        .unwrap();
    let (a, b, _) = sift_pair(alice, bob, cfg, 13).unwrap();
    assert_eq!(a.estimate, b.estimate);
    let bounds = a.estimate.decoy.unwrap();
    assert_eq!(bounds.method, DecoyMethod::OneDecoy);
    assert!(bounds.s_x1.value > 0.0 && bounds.eps < 1e-6, "{bounds:?}");
    assert!(matches!(a.verdict, Verdict::Proceed(_)), "{:?}", a.verdict);
}

/// Records from real hardware arrive as serde data; the round trip preserves them.
#[cfg(feature = "serde")]
#[test]
fn records_round_trip_through_json() {
    let recs = synth(300, [0.7, 0.2, 0.1], [0.02; 3], 0.5, 14);
    let (alice, bob) = split_records(&recs).unwrap();
    let a2: AliceRecords = serde_json::from_str(&serde_json::to_string(&alice).unwrap()).unwrap();
    let b2: BobRecords = serde_json::from_str(&serde_json::to_string(&bob).unwrap()).unwrap();
    assert_eq!(a2, alice);
    assert_eq!(b2, bob);
    // Unsorted slots are rejected on the way in.
    let mut v: serde_json::Value = serde_json::to_value(&bob).unwrap();
    v["slots"][0] = serde_json::json!(u64::MAX);
    assert!(serde_json::from_value::<BobRecords>(v).is_err());
}

mod reference {
    //! The word-level exchange against a record-by-record reference: which slots are kept, which
    //! form the key, and the key bits and intensities of both parties.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn key_matches_record_by_record_sifting(
            n in 200usize..700,
            seed in any::<u64>(),
            key_x in any::<bool>(),
            dense in any::<bool>(),
        ) {
            let recs = synth(n, [0.6, 0.3, 0.1], [0.05; 3], 0.6, seed);
            let (alice, bob) = split_records(&recs).unwrap();
            // A dense table (every other slot unknown to Bob) takes the merge path.
            let alice = if dense {
                let mut all = Vec::new();
                for r in &recs {
                    all.push(r.alice());
                    let mut extra = r.alice();
                    extra.slot = r.slot + 1;
                    all.push(extra);
                }
                AliceRecords::from_slots(&all).unwrap()
            } else {
                alice
            };
            let key_basis = if key_x { Basis::X } else { Basis::Z };
            let cfg = SiftConfig::builder()
                .key_basis(key_basis)
                .sample(SampleSize::Bits(10))
                // Loose on purpose: this test is about which bits end where, not about aborts.
                .confidence(ConfidenceMethod::Hoeffding, 0.9)
                .abort(AbortRules { max_qber: 0.5, max_phase_error: 0.5, min_key_bits: 1 })
                .build()
                .unwrap();
            let (a, b, ledger) = sift_pair(alice, bob, cfg, seed).unwrap();
            prop_assert_eq!(&a.estimate, &b.estimate);
            let kept: Vec<&DetectionRecord> =
                recs.iter().filter(|r| r.alice_basis == r.bob_basis).collect();
            let key: Vec<&&DetectionRecord> =
                kept.iter().filter(|r| r.alice_basis == key_basis).collect();
            prop_assert_eq!(a.estimate.sifted, kept.len() as u64);
            prop_assert_eq!(a.estimate.key.total_detections(), key.len() as u64);
            prop_assert_eq!(
                a.estimate.test.total_detections(),
                (kept.len() - key.len()) as u64
            );
            let test_errors = kept
                .iter()
                .filter(|r| r.alice_basis != key_basis && r.alice_bit != r.bob_bit)
                .count();
            prop_assert_eq!(a.estimate.test.total_errors(), test_errors as u64);
            let (ka, kb) = match (a.verdict, b.verdict) {
                (Verdict::Proceed(ka), Verdict::Proceed(kb)) => (ka, kb),
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            prop_assert_eq!(&ka.slots, &kb.slots);
            prop_assert_eq!(ka.slots.len(), key.len() - 10);
            let slots = ka.slots.to_vec();
            // Key slots: the key-basis kept slots in order, minus the ten sampled ones.
            let mut j = 0;
            for (i, &s) in slots.iter().enumerate() {
                while key[j].slot != s {
                    j += 1;
                }
                let r = key[j];
                prop_assert_eq!(ka.bits.get(i), Some(r.alice_bit.as_bool()));
                prop_assert_eq!(kb.bits.get(i), Some(r.bob_bit.as_bool()));
                let code = r.intensity.index();
                prop_assert_eq!(ka.intensity_lo.get(i), Some(code & 1 == 1));
                prop_assert_eq!(kb.intensity_hi.get(i), Some(code >> 1 == 1));
            }
            for class in IntensityClass::ALL {
                let want: Vec<bool> = (0..ka.len())
                    .filter(|&i| {
                        let code = usize::from(ka.intensity_lo.get(i) == Some(true))
                            + 2 * usize::from(ka.intensity_hi.get(i) == Some(true));
                        code == class.index()
                    })
                    .map(|i| ka.bits.get(i) == Some(true))
                    .collect();
                prop_assert_eq!(ka.bits_of_class(class), BitBlock::from_bools(&want));
            }
            prop_assert_eq!(ledger.disclosed_bits(), 10 + a.estimate.test.total_detections());
        }
    }
}

mod bad_input {
    //! Malformed input of every kind is a typed error, never a panic.
    use super::*;
    use proptest::prelude::*;
    use qkd_core::{Role, Turn};
    use qkd_sifting::{AliceSifter, BobSifter, SiftMessage};

    proptest! {
        #[test]
        fn record_arrays_of_unequal_length_are_rejected(
            n in 0usize..300, db in 0usize..3, dt in 0usize..3, dl in 0usize..3,
        ) {
            let slots: Vec<u64> = (0..n as u64).collect();
            let b = BobRecords::new(slots.clone(), BitBlock::zeros(n + db), BitBlock::zeros(n + dt));
            prop_assert_eq!(b.is_ok(), db == 0 && dt == 0);
            if let Err(e) = b {
                prop_assert!(matches!(e, SiftingError::LengthMismatch { .. }), "{e:?}");
            }
            let a = AliceRecords::new(
                slots,
                BitBlock::zeros(n),
                BitBlock::zeros(n + dt),
                BitBlock::zeros(n + dl),
                BitBlock::zeros(n),
            );
            prop_assert_eq!(a.is_ok(), dt == 0 && dl == 0);
            if let Err(e) = a {
                prop_assert!(matches!(e, SiftingError::LengthMismatch { .. }), "{e:?}");
            }
        }

        #[test]
        fn eps_outside_the_open_unit_interval_is_rejected(eps in -2.0f64..3.0) {
            let r = SiftConfig::builder().confidence(ConfidenceMethod::Serfling, eps).build();
            if eps > 0.0 && eps < 1.0 {
                prop_assert!(r.is_ok());
            } else {
                prop_assert!(matches!(r, Err(SiftingError::InvalidEpsilon { .. })), "{r:?}");
            }
        }

        /// Bob fed a reply whose lengths do not fit his announcement gets a protocol error.
        #[test]
        fn malformed_replies_are_protocol_errors(extra in 1usize..100, which in 0usize..4) {
            let recs = synth(500, [0.7, 0.2, 0.1], [0.01; 3], 0.5, 3);
            let (alice, bob) = split_records(&recs).unwrap();
            let cfg = SiftConfig::builder().sample(SampleSize::Bits(10)).build().unwrap();
            let mut a = AliceSifter::new(alice, cfg, 1).unwrap();
            let mut b = BobSifter::new(bob, cfg).unwrap();
            let Ok(Turn::Send(announce)) = b.start() else { panic!("Bob starts") };
            let Ok(Turn::Send(reply)) = a.receive(announce) else { panic!("Alice replies") };
            let SiftMessage::Reply {
                mut keep, mut intensity_lo, intensity_hi, sample_seed, mut sample_bits,
                mut sample, test,
            } = reply else { panic!("a reply") };
            let grow = |b: &mut BitBlock| b.extend_from_block(&BitBlock::zeros(extra));
            match which {
                0 => grow(&mut keep),
                1 => grow(&mut intensity_lo),
                2 => grow(&mut sample),
                _ => sample_bits += 1_000_000,
            }
            let bad = SiftMessage::Reply {
                keep, intensity_lo, intensity_hi, sample_seed, sample_bits, sample, test,
            };
            prop_assert!(b.receive(bad).is_err());
        }
    }

    #[test]
    fn empty_and_oversized_inputs_are_typed() {
        let z = BitBlock::zeros(0);
        let empty = BobRecords::new(vec![], z.clone(), z).unwrap();
        assert!(matches!(
            BobSifter::new(empty, SiftConfig::default()),
            Err(SiftingError::Empty { .. })
        ));
        assert!(matches!(
            SiftConfig::builder()
                .sample(SampleSize::Fraction(1.5))
                .build(),
            Err(SiftingError::InvalidParameter { .. })
        ));
    }
}
