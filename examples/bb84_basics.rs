//! Decoy-state BB84 basics: simulated gain and QBER per intensity class against the analytic
//! formulas of PHYSICS.md (Q_mu = Y0 + 1 - exp(-eta mu), E_mu Q_mu = Y0/2 + e_d (1 - exp(-eta mu))),
//! for 10, 50 and 100 km with both detector presets (memoryless, where the formulas hold), then the
//! full presets with dead time and afterpulsing, and an intercept-resend attack.
//!
//! Run: `cargo run --release --example bb84_basics`

use anyhow::Result;
use qkd::core::IntensityClass;
use qkd::quantum::{
    ChannelConfig, DetectorConfig, Eavesdropper, Engine, LinkConfig, Simulator, analytic,
};

fn report(config: &LinkConfig, label: &str, pulses: u64, seed: u64) -> Result<()> {
    let out = Simulator::new(config)?.run(Engine::Fast, pulses, seed)?;
    let predicted = analytic::predict(config)?;
    println!(
        "{label}: {pulses} pulses ({:.3} s at {:.0} MHz), {} records",
        out.duration_s(),
        config.source.rate_hz / 1e6,
        out.records.len()
    );
    println!("  class    gain(sim)    gain(formula)  z      QBER(sim)  QBER(formula)  z");
    for class in IntensityClass::ALL {
        let s = out.class_stats()[class.index()];
        let (q, e) = predicted[class.index()];
        let zq = (s.gain() - q) / (q * (1.0 - q) / s.pulses as f64).sqrt();
        let ze = if s.sifted() > 0 {
            (s.qber() - e) / (e * (1.0 - e) / s.sifted() as f64).sqrt()
        } else {
            f64::NAN
        };
        println!(
            "  {:<7}  {:.4e}   {:.4e}     {:+.2}  {:.4}     {:.4}         {:+.2}",
            format!("{class:?}"),
            s.gain(),
            q,
            zq,
            s.qber(),
            e,
            ze
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    for (name, detector) in [
        ("InGaAs SPAD", DetectorConfig::ingaas_spad()),
        ("SNSPD", DetectorConfig::snspd()),
    ] {
        for length_km in [10.0, 50.0, 100.0] {
            let config = LinkConfig::builder()
                .channel(ChannelConfig::fiber(length_km, 0.2)?)
                .detector(detector.without_memory())
                .build()?;
            report(
                &config,
                &format!("{name}, {length_km} km, memoryless"),
                200_000_000,
                1,
            )?;
        }
    }
    let real = LinkConfig::builder()
        .channel(ChannelConfig::fiber(10.0, 0.2)?)
        .detector(DetectorConfig::ingaas_spad())
        .build()?;
    report(
        &real,
        "InGaAs SPAD, 10 km, 50 ns dead time + 3 % afterpulsing (formula ignores both)",
        20_000_000,
        2,
    )?;
    let eve = LinkConfig {
        eavesdropper: Eavesdropper::InterceptResend { fraction: 1.0 },
        ..LinkConfig::builder()
            .channel(ChannelConfig::fiber(50.0, 0.2)?)
            .build()?
    };
    report(
        &eve,
        "SNSPD, 50 km, full intercept-resend (expect QBER ~ 25 %)",
        20_000_000,
        3,
    )?;
    Ok(())
}
