//! Abort rules on records simulated by qkd-quantum (not synthesized from formulas): the same
//! 50 km SNSPD link, honest, under full intercept-resend, and under a photon-number-splitting
//! attack tuned to keep the signal gain. Fixed seeds; the honest link must proceed, each attack
//! must stop the block with its own abort reason.

#![allow(clippy::unwrap_used)] // test helpers: a failed setup should panic with its error

use qkd_core::IntensityClass;
use qkd_quantum::{
    ChannelConfig, DetectorConfig, Eavesdropper, Engine, LinkConfig, Simulator, SourceConfig,
    pns_matching_signal_gain,
};
use qkd_sifting::{
    AbortReason, AbortRules, ConfidenceMethod, DecoyConfig, DecoyMethod, SampleSize, SiftConfig,
    Verdict, sift_pair, split_records,
};

fn link(eve: Eavesdropper) -> LinkConfig {
    let base = LinkConfig::builder()
        .channel(
            ChannelConfig::fiber(50.0, 0.2)
                .unwrap()
                .with_misalignment(0.01),
        )
        .detector(DetectorConfig::snspd().without_memory())
        // Balanced bases: these blocks are small, and the phase-error bound needs test-basis
        // events in every intensity class (with 90/10 bases a 1e8-pulse block has too few and
        // aborts for that reason, not for the attack).
        .source(
            SourceConfig::builder()
                .z_basis_probability(0.5)
                .build()
                .unwrap(),
        )
        .bob_z_probability(0.5)
        .build()
        .unwrap();
    LinkConfig {
        eavesdropper: eve,
        ..base
    }
}

fn sift(config: &LinkConfig, pulses: u64, seed: u64) -> (Verdict, Verdict) {
    let sim = Simulator::new(config)
        .unwrap()
        .run(Engine::Fast, pulses, seed)
        .unwrap();
    let s = &config.source;
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.1))
        .confidence(ConfidenceMethod::Serfling, 1e-6)
        .decoy(DecoyConfig {
            intensities: IntensityClass::ALL.map(|c| s.mu(c)),
            probabilities: IntensityClass::ALL.map(|c| s.probability(c)),
            method: DecoyMethod::TwoDecoy,
            eps_sec: 1e-6,
        })
        // Phase-error check relaxed: a block this small cannot bound phi_X tightly, and these
        // tests are about the QBER and decoy-consistency rules.
        .abort(AbortRules {
            max_qber: 0.11,
            max_phase_error: 0.5,
            min_key_bits: 1000,
        })
        .build()
        .unwrap();
    let (alice, bob) = split_records(&sim.records).unwrap();
    let (a, b, _) = sift_pair(alice, bob, cfg, seed ^ 0x5eed).unwrap();
    assert_eq!(a.estimate, b.estimate);
    (a.verdict, b.verdict)
}

#[test]
fn honest_simulated_link_proceeds() {
    let (a, b) = sift(&link(Eavesdropper::None), 100_000_000, 11);
    assert!(matches!(a, Verdict::Proceed(_)), "{a:?}");
    assert!(matches!(b, Verdict::Proceed(_)), "{b:?}");
}

#[test]
fn simulated_intercept_resend_aborts_on_qber() {
    let eve = Eavesdropper::InterceptResend { fraction: 1.0 };
    let (a, b) = sift(&link(eve), 20_000_000, 12);
    for v in [a, b] {
        assert!(
            matches!(v, Verdict::Abort(AbortReason::QberTooHigh { .. })),
            "{v:?}"
        );
    }
}

#[test]
fn simulated_pns_attack_aborts_with_inconsistent_decoys() {
    let eve = pns_matching_signal_gain(&link(Eavesdropper::None)).unwrap();
    let (a, b) = sift(&link(eve), 100_000_000, 13);
    for v in [a, b] {
        match v {
            // Significant: the central single-photon value is far below zero, not a handful of
            // events short of a positive bound.
            Verdict::Abort(AbortReason::DecoyInconsistent {
                central, std_error, ..
            }) => assert!(central < -10.0 * std_error, "{central} ± {std_error}"),
            v => panic!("{v:?}"),
        }
    }
}

/// The same honest link with the default 90/10 basis choice: at 1e8 pulses the test basis holds
/// too few decoy and vacuum events for a positive single-photon bound. That is a statistics
/// shortfall with its own reason (and an estimate of the events needed), not a PNS signature.
#[test]
fn biased_bases_in_a_small_block_report_too_few_decoy_events() {
    let honest = link(Eavesdropper::None);
    let source = SourceConfig::builder()
        .z_basis_probability(0.9)
        .build()
        .unwrap();
    let biased = LinkConfig {
        source,
        bob_z_probability: 0.9,
        ..honest
    };
    let (a, b) = sift(&biased, 100_000_000, 14);
    for v in [a, b] {
        match v {
            Verdict::Abort(AbortReason::TooFewDecoyEvents {
                basis,
                class,
                class_events,
                observed,
                required,
            }) => {
                assert_eq!(basis, qkd_core::Basis::X, "the 10 % test basis");
                // The vacuum class: ~1e-3 of the pulses with a dark-count yield.
                assert_eq!(class, IntensityClass::Vacuum);
                assert!(
                    class_events < 10 && observed > 10_000,
                    "{class_events} {observed}"
                );
                let required = required.expect("honest rates have a positive central value");
                assert!(required > observed, "{observed} -> {required}");
            }
            v => panic!("{v:?}"),
        }
    }
}
