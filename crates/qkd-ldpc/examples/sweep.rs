//! Measures an LDPC reconciler on synthetic frames with the shared sweep harness.
//!
//! `cargo run --release -p qkd-ldpc --example sweep -- --algorithm ldpc-blind --qber 0.05 \
//!  --block 10000 --frames 1000 [--seed 1] [--json] [--efficiency-target 1.2]`

use qkd_core::Qber;
use qkd_core::harness::{ErrorModel, SweepConfig, sweep};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut algorithm = "ldpc".to_string();
    let mut target: Option<f64> = None;
    let (mut qber, mut block, mut frames, mut seed, mut json) =
        (0.05, 10_000usize, 100usize, 1u64, false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--algorithm" => algorithm = val()?,
            "--qber" => qber = val()?.parse()?,
            "--block" => block = val()?.parse()?,
            "--frames" => frames = val()?.parse()?,
            "--seed" => seed = val()?.parse()?,
            "--json" => json = true,
            "--efficiency-target" => target = Some(val()?.parse()?),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    // --efficiency-target overrides f* of the rate-adaptive "ldpc" algorithm.
    let algo: Box<dyn qkd_core::DynReconciler> = match (algorithm.as_str(), target) {
        ("ldpc", Some(f)) => Box::new(qkd_ldpc::LdpcReconciler::new(
            qkd_ldpc::LdpcConfig::builder(block)
                .efficiency_target(f)
                .build()?,
            qkd_ldpc::Mode::RateAdaptive,
        )),
        _ => qkd_ldpc::algorithm(&algorithm, block)?,
    };
    let config = SweepConfig {
        qber: Qber::new(qber)?,
        estimated_qber: None,
        block_bits: block,
        frames,
        seed,
        error_model: ErrorModel::Bernoulli,
    };
    let s = sweep(algo.as_ref(), &config, |_| {})?;
    if json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "{} Q={} N={} frames={}: f = {:.4} ± {:.4} (sd {:.4}), FER = {:.2e} [{:.2e}, {:.2e}], \
             messages {:.2}, round trips {:.2}, iterations {:.1}, {:.2} Mbit/s",
            s.algorithm,
            s.qber,
            s.block_bits,
            s.frames,
            s.efficiency_mean,
            1.96 * s.efficiency_stderr,
            s.efficiency_std,
            s.fer,
            s.fer_ci95[0],
            s.fer_ci95[1],
            s.messages_mean,
            s.round_trips_mean,
            s.iterations_mean.unwrap_or(f64::NAN),
            s.throughput_mbps
        );
    }
    Ok(())
}
