//! Measures an LDPC reconciler on synthetic frames with the shared sweep harness.
//!
//! `cargo run --release -p qkd-ldpc --example sweep -- --algorithm ldpc-blind --qber 0.05 \
//!  --block 10000 --frames 1000 [--seed 1] [--json] [--efficiency-target 1.2] \
//!  [--iterations 100] [--profile published|ad-hoc] [--blind-start 1.0] \
//!  [--blind-steps STEPS,MAX_ROUNDS] [--cold] [--extra D_OVER_N] \
//!  [--leak-step STEP] [--span FRACTION_OF_NH|none] [--stall K]`
//!
//! `--cold`: blind sum-product rounds decode afresh instead of continuing from the previous
//! round's messages.
//!
//! The overrides apply to the configuration behind `--algorithm` (`ldpc[-blind][-oms|-spa]`).

use qkd_core::Qber;
use qkd_core::harness::{ErrorModel, SweepConfig, sweep};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut algorithm = "ldpc".to_string();
    let mut target: Option<f64> = None;
    let mut iterations: Option<u32> = None;
    let mut profile: Option<qkd_ldpc::CodeProfile> = None;
    let mut blind_start: Option<f64> = None;
    let mut steps: Option<(u32, u32)> = None;
    let mut cold = false;
    let mut extra: Option<f64> = None;
    let mut leak_step: Option<f64> = None;
    let mut span: Option<Option<f64>> = None;
    let mut stall: Option<u32> = None;
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
            "--iterations" => iterations = Some(val()?.parse()?),
            "--blind-start" => blind_start = Some(val()?.parse()?),
            "--blind-steps" => {
                let v = val()?;
                let (a, b) = v.split_once(',').ok_or("--blind-steps STEPS,MAX_ROUNDS")?;
                steps = Some((a.parse()?, b.parse()?));
            }
            "--cold" => cold = true,
            "--extra" => extra = Some(val()?.parse()?),
            "--leak-step" => leak_step = Some(val()?.parse()?),
            "--span" => {
                let v = val()?;
                span = Some(if v == "none" { None } else { Some(v.parse()?) });
            }
            "--stall" => stall = Some(val()?.parse()?),
            "--profile" => {
                profile = Some(match val()?.as_str() {
                    "published" => qkd_ldpc::CodeProfile::Published,
                    "ad-hoc" => qkd_ldpc::CodeProfile::AdHoc,
                    p => return Err(format!("unknown profile {p}").into()),
                });
            }
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    let algo: Box<dyn qkd_core::DynReconciler> = if target.is_none()
        && iterations.is_none()
        && profile.is_none()
        && blind_start.is_none()
        && steps.is_none()
        && extra.is_none()
        && leak_step.is_none()
        && span.is_none()
        && stall.is_none()
        && !cold
    {
        qkd_ldpc::algorithm(&algorithm, block)?
    } else {
        use qkd_ldpc::{DecoderKind, LdpcConfig, LdpcReconciler, Mode};
        if !qkd_ldpc::ALGORITHMS.contains(&algorithm.as_str()) {
            return Err(format!("unknown algorithm {algorithm}").into());
        }
        let spa = algorithm.ends_with("-spa");
        let mut b = LdpcConfig::builder(block);
        if spa {
            b = qkd_ldpc::spa_defaults(b);
        } else if algorithm.ends_with("-oms") {
            b = b.decoder(DecoderKind::OffsetMinSum(4));
        }
        if let Some(f) = target {
            b = b.efficiency_target(f);
        }
        if let Some(i) = iterations {
            b = b.max_iterations(i);
        }
        if let Some(p) = profile {
            b = b.profile(p);
        }
        if let Some(x) = blind_start {
            b = b.blind_start_efficiency(x);
        }
        if let Some((s, r)) = steps {
            b = b.blind_schedule(s, r);
        }
        if stall.is_some() {
            b = b.blind_stall_limit(stall);
        }
        if let Some(x) = span {
            b = b.blind_span(x);
        }
        if let Some(x) = leak_step {
            b = b.leak_step(x);
        }
        if let Some(x) = extra {
            b = b.extra_fraction(x);
        }
        b = b.blind_warm_start(!cold);
        let mode = if algorithm.contains("blind") {
            Mode::Blind
        } else {
            Mode::RateAdaptive
        };
        Box::new(LdpcReconciler::new(b.build()?, mode))
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
