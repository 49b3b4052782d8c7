//! `qkd pa`: privacy amplification throughput on a random input of a given size.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use qkd_core::{BitBlock, sim_rng};
use qkd_privacy::{ModifiedToeplitzHash, ToeplitzHash};
use serde::Serialize;

use super::{GlobalArgs, print_json};

#[derive(Debug, Args)]
pub(crate) struct PaArgs {
    /// Input length in bits.
    #[arg(long, default_value_t = 1_000_000)]
    bits: usize,
    /// Compression ratio: output bits = floor(ratio * input bits), in [0, 1].
    #[arg(long, default_value_t = 0.5)]
    ratio: f64,
    /// Use the modified Toeplitz family (n - 1 seed bits) instead of the plain one (n + m - 1).
    #[arg(long)]
    modified: bool,
}

#[derive(Serialize)]
struct PaReport {
    input_bits: usize,
    output_bits: usize,
    seed_bits: usize,
    family: &'static str,
    kernel: String,
    threads: usize,
    seconds: f64,
    throughput_mbps: f64,
}

pub(crate) fn run(global: &GlobalArgs, args: &PaArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.ratio.is_finite() && (0.0..=1.0).contains(&args.ratio),
        "--ratio must lie in [0, 1], got {}",
        args.ratio
    );
    // floor(ratio * n) <= n; the product is exact for any n below 2^52.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let output_bits = (args.ratio * args.bits as f64).floor() as usize;
    let mut rng = sim_rng(global.seed);
    let input = BitBlock::random(args.bits, &mut rng);
    let (seconds, seed_bits, family, kernel) = if args.modified {
        let h = ModifiedToeplitzHash::from_rng(args.bits, output_bits, &mut rng)
            .context("building the hash")?;
        let t0 = Instant::now();
        let y = h.hash(&input)?;
        let s = t0.elapsed().as_secs_f64();
        anyhow::ensure!(y.len() == output_bits);
        (
            s,
            ModifiedToeplitzHash::seed_bits(args.bits),
            "modified-toeplitz",
            format!("{:?}", qkd_privacy::Kernel::detect()),
        )
    } else {
        let h = ToeplitzHash::from_rng(args.bits, output_bits, &mut rng)
            .context("building the hash")?;
        let t0 = Instant::now();
        let y = h.hash(&input)?;
        let s = t0.elapsed().as_secs_f64();
        anyhow::ensure!(y.len() == output_bits);
        (
            s,
            ToeplitzHash::seed_bits(args.bits, output_bits),
            "toeplitz",
            format!("{:?}", h.kernel()),
        )
    };
    #[allow(clippy::cast_precision_loss)]
    let report = PaReport {
        input_bits: args.bits,
        output_bits,
        seed_bits,
        family,
        kernel,
        threads: rayon_threads(),
        seconds,
        throughput_mbps: args.bits as f64 / seconds / 1e6,
    };
    if global.json {
        return print_json(&report);
    }
    println!(
        "{} {} -> {} bits ({} seed bits, {} kernel, {} threads): {:.4} s, {:.1} Mbit/s input",
        report.family,
        report.input_bits,
        report.output_bits,
        report.seed_bits,
        report.kernel,
        report.threads,
        report.seconds,
        report.throughput_mbps
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
