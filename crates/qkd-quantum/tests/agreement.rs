//! Statistical agreement of the engines with PHYSICS.md and with each other, and the physical
//! signatures of the eavesdroppers. Fixed seeds; every tolerance is 5 standard errors: binomial
//! `sqrt(p (1-p) / n)` for one simulation against a formula, `sqrt(se_a^2 + se_b^2)` for two
//! independent simulations.

// Test helpers outside #[test] functions unwrap too; counts are far below 2^53.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use qkd_core::IntensityClass;
use qkd_quantum::{
    ChannelConfig, ClassStats, DetectorConfig, Eavesdropper, Engine, LinkConfig, Simulator,
    analytic, pns_matching_signal_gain,
};

fn link(length_km: f64, detector: DetectorConfig) -> LinkConfig {
    LinkConfig::builder()
        .channel(
            ChannelConfig::fiber(length_km, 0.2)
                .unwrap()
                .with_misalignment(0.015),
        )
        .detector(detector)
        .build()
        .unwrap()
}

/// Pulses giving about `clicks` signal clicks.
fn pulses_for(config: &LinkConfig, clicks: f64) -> u64 {
    let q = Simulator::new(config)
        .unwrap()
        .memoryless_gain(IntensityClass::Signal);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (clicks / q / config.source.p_signal) as u64;
    n
}

fn assert_close(what: &str, sim: f64, expected: f64, se: f64) {
    assert!(
        (sim - expected).abs() <= 5.0 * se,
        "{what}: simulated {sim:.6e}, expected {expected:.6e}, 5 se = {:.3e}",
        5.0 * se
    );
}

fn check_against_physics(config: &LinkConfig, stats: &[ClassStats; 3], label: &str) {
    let predicted = analytic::predict(config).unwrap();
    for class in IntensityClass::ALL {
        let s = stats[class.index()];
        let (q, e) = predicted[class.index()];
        // Standard error under the hypothesis (the predicted p), so that zero counts are tested too.
        let se = (q * (1.0 - q) / s.pulses as f64).sqrt();
        assert_close(&format!("{label} {class:?} gain"), s.gain(), q, se);
        if s.sifted() > 0 {
            let se = (e * (1.0 - e) / s.sifted() as f64).sqrt();
            assert_close(&format!("{label} {class:?} qber"), s.qber(), e, se);
        }
    }
}

#[test]
fn fast_engine_matches_physics_formulas_at_10_50_100_km_for_both_presets() {
    for detector in [DetectorConfig::ingaas_spad(), DetectorConfig::snspd()] {
        for length_km in [10.0, 50.0, 100.0] {
            let config = link(length_km, detector.without_memory());
            let pulses = pulses_for(&config, 400_000.0);
            let out = Simulator::new(&config)
                .unwrap()
                .run(Engine::Fast, pulses, 11)
                .unwrap();
            assert_eq!(out.emitted.iter().sum::<u64>(), pulses);
            check_against_physics(
                &config,
                &out.class_stats(),
                &format!("fast {length_km} km {detector:?}"),
            );
        }
    }
}

#[test]
fn exact_engine_matches_physics_formulas() {
    for detector in [DetectorConfig::ingaas_spad(), DetectorConfig::snspd()] {
        for length_km in [10.0, 50.0] {
            let config = link(length_km, detector.without_memory());
            let pulses = pulses_for(&config, 30_000.0).min(4_000_000);
            let out = Simulator::new(&config)
                .unwrap()
                .run(Engine::Exact, pulses, 12)
                .unwrap();
            assert_eq!(out.emitted.iter().sum::<u64>(), pulses);
            check_against_physics(
                &config,
                &out.class_stats(),
                &format!("exact {length_km} km {detector:?}"),
            );
        }
    }
}

fn check_engines_agree(config: &LinkConfig, pulses: u64, label: &str) {
    let sim = Simulator::new(config).unwrap();
    let a = sim.run(Engine::Exact, pulses, 21).unwrap().class_stats();
    let b = sim.run(Engine::Fast, pulses, 22).unwrap().class_stats();
    for class in IntensityClass::ALL {
        let (x, y) = (a[class.index()], b[class.index()]);
        let se = (x.gain_stderr().powi(2) + y.gain_stderr().powi(2)).sqrt();
        assert_close(&format!("{label} {class:?} gain"), x.gain(), y.gain(), se);
        if x.sifted() > 100 && y.sifted() > 100 {
            let p = (x.errors() + y.errors()) as f64 / (x.sifted() + y.sifted()) as f64;
            let se = (p * (1.0 - p) * (1.0 / x.sifted() as f64 + 1.0 / y.sifted() as f64)).sqrt();
            assert_close(&format!("{label} {class:?} qber"), x.qber(), y.qber(), se);
        }
        let pd = (x.double_clicks + y.double_clicks) as f64 / (x.pulses + y.pulses) as f64;
        let se = (pd * (1.0 - pd) * (1.0 / x.pulses as f64 + 1.0 / y.pulses as f64)).sqrt();
        let (dx, dy) = (
            x.double_clicks as f64 / x.pulses as f64,
            y.double_clicks as f64 / y.pulses as f64,
        );
        assert_close(&format!("{label} {class:?} double clicks"), dx, dy, se);
    }
}

/// With dead time and afterpulsing (the full presets) the formulas no longer apply, but the two
/// engines simulate the same physics and must agree.
#[test]
fn exact_and_fast_engines_agree_with_detector_memory() {
    for (length_km, detector) in [
        (10.0, DetectorConfig::ingaas_spad()),
        (50.0, DetectorConfig::ingaas_spad()),
        (10.0, DetectorConfig::snspd()),
        (50.0, DetectorConfig::snspd()),
    ] {
        let config = link(length_km, detector);
        check_engines_agree(&config, 1_500_000, &format!("{length_km} km {detector:?}"));
    }
}

#[test]
fn engines_agree_under_every_attack() {
    let base = link(25.0, DetectorConfig::snspd());
    for eve in [
        Eavesdropper::InterceptResend { fraction: 0.5 },
        Eavesdropper::BeamSplitting,
        Eavesdropper::PhotonNumberSplitting {
            single_photon_block_probability: 0.8,
            multiphoton_transmittance: 0.3,
        },
        Eavesdropper::FiberTap { fraction: 0.2 },
    ] {
        let config = LinkConfig {
            eavesdropper: eve,
            ..base
        };
        check_engines_agree(&config, 1_000_000, &format!("{eve:?}"));
    }
}

#[test]
fn dead_time_lowers_the_gain_but_keeps_every_slot_counted() {
    let honest = link(10.0, DetectorConfig::snspd().without_memory());
    let real = link(10.0, DetectorConfig::snspd());
    let a = Simulator::new(&honest)
        .unwrap()
        .run(Engine::Fast, 2_000_000, 3)
        .unwrap();
    let b = Simulator::new(&real)
        .unwrap()
        .run(Engine::Fast, 2_000_000, 3)
        .unwrap();
    assert_eq!(b.emitted.iter().sum::<u64>(), 2_000_000);
    // 39 dead slots per click at a ~8 % click rate: availability well below 1.
    assert!(b.records.len() * 2 < a.records.len() * 3 / 2);
    // No detector clicks again within its dead time: consecutive records are >= 40 slots apart
    // unless the other detector fired.
    let bits: Vec<_> = b
        .records
        .iter()
        .filter(|r| r.click == qkd_core::ClickKind::Single)
        .collect();
    for w in bits.windows(2) {
        if w[0].bob_bit == w[1].bob_bit && w[1].slot - w[0].slot < 40 {
            panic!(
                "detector clicked inside its dead time: {} -> {}",
                w[0].slot, w[1].slot
            );
        }
    }
}

#[test]
fn intercept_resend_gives_a_quarter_qber_on_intercepted_pulses() {
    let e_d = 0.015;
    for (fraction, seed) in [(1.0, 31), (0.5, 32)] {
        let config = LinkConfig {
            eavesdropper: Eavesdropper::InterceptResend { fraction },
            ..link(20.0, DetectorConfig::snspd().without_memory())
        };
        let out = Simulator::new(&config)
            .unwrap()
            .run(Engine::Fast, 3_000_000, seed)
            .unwrap();
        let s = out.class_stats()[0];
        // Intercepted: Eve's basis right (1/2) -> e_d, wrong (1/2) -> 1/2.
        let expected = fraction * (0.25 + e_d / 2.0) + (1.0 - fraction) * e_d;
        assert_close(
            "intercept-resend qber",
            s.qber(),
            expected,
            s.qber_stderr().max(1e-4) + 2e-3 / 5.0,
        );
        // Eve knows the bit of the sifted pulses where her basis was right: fraction / 2.
        let known = s.eve_known_sifted as f64 / s.sifted() as f64;
        let se = (0.25f64 / s.sifted() as f64).sqrt();
        assert_close("intercept-resend knowledge", known, fraction / 2.0, se);
        // Gains unchanged.
        let honest = analytic::predict(&LinkConfig {
            eavesdropper: Eavesdropper::None,
            ..config
        })
        .unwrap();
        assert_close(
            "intercept-resend gain",
            s.gain(),
            honest[0].0,
            s.gain_stderr(),
        );
    }
}

#[test]
fn pns_attack_keeps_the_signal_gain_but_breaks_decoy_consistency() {
    let honest = link(100.0, DetectorConfig::snspd().without_memory());
    let eve = pns_matching_signal_gain(&honest).unwrap();
    let config = LinkConfig {
        eavesdropper: eve,
        ..honest
    };
    let pulses = 400_000_000;
    let out = Simulator::new(&config)
        .unwrap()
        .run(Engine::Fast, pulses, 41)
        .unwrap();
    let st = out.class_stats();
    let expected = analytic::predict(&honest).unwrap();
    let (s, d, v) = (st[0], st[1], st[2]);
    assert_close("PNS signal gain", s.gain(), expected[0].0, s.gain_stderr());
    // The decoy gain collapses far outside its error bar: the signature.
    assert!(
        expected[1].0 - d.gain() > 20.0 * d.gain_stderr(),
        "decoy gain {} vs honest {}",
        d.gain(),
        expected[1].0
    );
    // The decoy-state estimate of Y1 from the measured gains falls far below the honest Y1.
    let cfg = config.source;
    let y1l = analytic::decoy_y1_lower(cfg.mu_signal, cfg.mu_decoy, s.gain(), d.gain(), v.gain())
        .unwrap();
    let (eta, y0, _) = analytic::link_parameters(&honest);
    assert!(
        y1l < 0.5 * analytic::single_photon_yield(eta, y0),
        "Y1_L = {y1l}"
    );
    // Eve knows every multi-photon-derived bit: most of the signal key.
    assert!(s.eve_known_sifted as f64 > 0.9 * s.sifted() as f64);
}

#[test]
fn fiber_tap_shows_as_extra_loss() {
    let fraction = 0.2;
    let honest = link(50.0, DetectorConfig::snspd().without_memory());
    let config = LinkConfig {
        eavesdropper: Eavesdropper::FiberTap { fraction },
        ..honest
    };
    let out = Simulator::new(&config)
        .unwrap()
        .run(Engine::Fast, 20_000_000, 51)
        .unwrap();
    let s = out.class_stats()[0];
    let expected = analytic::predict(&config).unwrap()[0].0;
    assert_close("tapped gain", s.gain(), expected, s.gain_stderr());
    let (eta, y0, _) = analytic::link_parameters(&honest);
    // Apparent extra loss from the gain: -10 log10(ln(1 - (Q - Y0)) ratio), vs 0.969 dB.
    let eta_seen = -(1.0 - (s.gain() - y0)).ln() / config.source.mu_signal;
    let extra_db = 10.0 * (eta / eta_seen).log10();
    assert!(
        (extra_db - config.eavesdropper.extra_loss_db()).abs() < 0.05,
        "{extra_db} dB"
    );
    let known = s.eve_known_sifted as f64 / s.sifted() as f64;
    // Eve's photons are independent of Bob's (Poisson splitting): P = 1 - exp(-mu f).
    let p = -(-config.source.mu_signal * fraction).exp_m1();
    assert_close(
        "tap knowledge",
        known,
        p,
        (p * (1.0 - p) / s.sifted() as f64).sqrt(),
    );
}

#[test]
fn beam_splitting_is_invisible_to_bob() {
    let honest = link(50.0, DetectorConfig::snspd().without_memory());
    let config = LinkConfig {
        eavesdropper: Eavesdropper::BeamSplitting,
        ..honest
    };
    let out = Simulator::new(&config)
        .unwrap()
        .run(Engine::Fast, 10_000_000, 61)
        .unwrap();
    check_against_physics(&honest, &out.class_stats(), "beam splitting");
    let s = out.class_stats()[0];
    let p = -(-config.source.mu_signal * (1.0 - config.channel.transmittance)).exp_m1();
    let known = s.eve_known_sifted as f64 / s.sifted() as f64;
    assert_close(
        "BS knowledge",
        known,
        p,
        (p * (1.0 - p) / s.sifted() as f64).sqrt(),
    );
}

#[test]
fn deterministic_for_a_seed_whatever_the_thread_count() {
    let config = LinkConfig::builder()
        .channel(ChannelConfig::fiber(30.0, 0.2).unwrap())
        .detector(DetectorConfig::ingaas_spad())
        .chunk_pulses(100_000)
        .build()
        .unwrap();
    let sim = Simulator::new(&config).unwrap();
    for engine in [Engine::Fast, Engine::Exact] {
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let two = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let a = one.install(|| sim.run(engine, 1_000_000, 5).unwrap());
        let b = two.install(|| sim.run(engine, 1_000_000, 5).unwrap());
        assert_eq!(a, b);
        let c = sim.run(engine, 1_000_000, 6).unwrap();
        assert_ne!(a.records, c.records);
        assert!(a.records.windows(2).all(|w| w[0].slot < w[1].slot));
        assert!(a.records.iter().all(|r| r.slot < 1_000_000));
    }
}
