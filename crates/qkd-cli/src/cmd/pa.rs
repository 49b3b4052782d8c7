//! `qkd pa`: privacy amplification throughput on a random input of a given size.

use std::time::Instant;

use anyhow::Context;
use clap::Args;
use qkd_core::{BitBlock, sim_rng};
use qkd_privacy::{HashPath, ModifiedToeplitzHash, ToeplitzHash};
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
    /// Hash this many times and report the fastest (the first call also pays one-time set-up:
    /// thread pool, basis tables, first-touch page faults of the transform arrays).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
}

#[derive(Serialize)]
struct PaReport {
    input_bits: usize,
    output_bits: usize,
    seed_bits: usize,
    family: &'static str,
    /// The computation actually run (`ToeplitzHash::path`): Karatsuba or additive FFT.
    path: &'static str,
    /// The arithmetic under it: the base-case kernel (Karatsuba) or the GF(2^64) field (FFT).
    kernel: String,
    /// Log2 of the FFT size, if the FFT ran.
    fft_transform_log: Option<usize>,
    /// Whether the FFT hashed the input as two halves.
    fft_split: bool,
    threads: usize,
    /// Hash calls timed; `seconds` is the fastest.
    repeat: u32,
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
    // Best of `repeat` timed calls of `hash`.
    let time = |hash: &dyn Fn() -> anyhow::Result<usize>| -> anyhow::Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..args.repeat {
            let t0 = Instant::now();
            let len = hash()?;
            best = best.min(t0.elapsed().as_secs_f64());
            anyhow::ensure!(len == output_bits);
        }
        Ok(best)
    };
    let (seconds, seed_bits, family, path) = if args.modified {
        let h = ModifiedToeplitzHash::from_rng(args.bits, output_bits, &mut rng)
            .context("building the hash")?;
        let s = time(&|| Ok(h.hash(&input)?.len()))?;
        (
            s,
            ModifiedToeplitzHash::seed_bits(args.bits),
            "modified-toeplitz",
            h.path(),
        )
    } else {
        let h = ToeplitzHash::from_rng(args.bits, output_bits, &mut rng)
            .context("building the hash")?;
        let s = time(&|| Ok(h.hash(&input)?.len()))?;
        (
            s,
            ToeplitzHash::seed_bits(args.bits, output_bits),
            "toeplitz",
            Some(h.path()),
        )
    };
    let (path, kernel, fft_transform_log, fft_split) = match path {
        Some(HashPath::AdditiveFft {
            field,
            transform_log,
            split,
        }) => (
            "additive-fft",
            format!("{field:?}"),
            Some(transform_log),
            split,
        ),
        Some(HashPath::Karatsuba(k)) => ("karatsuba", format!("{k:?}"), None, false),
        // A path added later, or no matrix at all (the modified family with m = 0 or m = n).
        Some(other) => ("other", other.to_string(), None, false),
        None => ("copy", "none".to_owned(), None, false),
    };
    #[allow(clippy::cast_precision_loss)]
    let report = PaReport {
        input_bits: args.bits,
        output_bits,
        seed_bits,
        family,
        path,
        kernel,
        fft_transform_log,
        fft_split,
        threads: rayon_threads(),
        repeat: args.repeat,
        seconds,
        throughput_mbps: args.bits as f64 / seconds / 1e6,
    };
    if global.json {
        return print_json(&report);
    }
    let fft = report
        .fft_transform_log
        .map(|k| {
            format!(
                ", 2^{k} points{}",
                if report.fft_split { ", 2 halves" } else { "" }
            )
        })
        .unwrap_or_default();
    println!(
        "{} {} -> {} bits ({} seed bits, {} on {}{fft}, {} threads): {:.4} s, {:.1} Mbit/s input \
         (best of {})",
        report.family,
        report.input_bits,
        report.output_bits,
        report.seed_bits,
        report.path,
        report.kernel,
        report.threads,
        report.seconds,
        report.throughput_mbps,
        report.repeat
    );
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
