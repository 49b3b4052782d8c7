//! `qkd reconcile`: compare reconciliation algorithms on synthetic frames.
//!
//! Generic over `Box<dyn DynReconciler>`: [`algorithm`] maps a name to an algorithm, so another
//! crate (LDPC) plugs in by adding its names there. Every figure comes from
//! [`qkd_core::harness::sweep`]: the same seeded frames, the ledger-derived efficiency, the same clock.

use std::io::IsTerminal as _;

use anyhow::{Context as _, bail};
use clap::{Args, ValueEnum};
use qkd_core::harness::{ErrorModel, SweepConfig, SweepSummary, sweep};
use qkd_core::{DynReconciler, Qber, binary_entropy};
use serde::Serialize;

use super::{GlobalArgs, print_json};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Model {
    /// Each bit flips independently with probability Q.
    Bernoulli,
    /// Exactly round(Q n) errors per frame (what the public Cascade benchmarks use).
    Exact,
}

#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// Algorithm(s), comma-separated: cascade-<original|biconf|yan|option3|option4|option7|option8>
    /// with optional switches +bpi, +reuse, +det, +shuffle-all; `all-cascade` for every variant;
    /// LDPC: ldpc (rate-adaptive), ldpc-blind, ldpc-oms, ldpc-blind-oms, ldpc-spa. `--list` shows all.
    #[arg(long, short, default_value = "cascade-original", value_delimiter = ',')]
    algorithm: Vec<String>,
    /// Channel QBER(s) as fractions, comma-separated or repeated (e.g. 0.01,0.02,0.05).
    #[arg(long, default_value = "0.02", value_delimiter = ',')]
    qber: Vec<f64>,
    /// QBER estimate handed to the algorithm (default: the channel QBER).
    #[arg(long)]
    estimated_qber: Option<f64>,
    /// Frame length in bits.
    #[arg(long, short, default_value_t = 10_000)]
    block: usize,
    /// Frames per point.
    #[arg(long, short, default_value_t = 1000)]
    frames: usize,
    /// How errors are placed in Bob's frame.
    #[arg(long, value_enum, default_value = "bernoulli")]
    error_model: Model,
    /// List the algorithm names and exit.
    #[arg(long)]
    list: bool,
}

/// Every algorithm name the command knows (without switches).
pub(crate) fn algorithm_names() -> Vec<String> {
    let mut names = qkd_cascade::Cascade::variant_names();
    names.extend(qkd_ldpc::ALGORITHMS.iter().map(|s| (*s).to_string()));
    names
}

/// The algorithm called `name`, for frames of `block_bits` bits (LDPC picks its code by length).
pub(crate) fn algorithm(name: &str, block_bits: usize) -> anyhow::Result<Box<dyn DynReconciler>> {
    if name.starts_with("cascade-") {
        return Ok(Box::new(qkd_cascade::Cascade::from_name(name)?));
    }
    if name.starts_with("ldpc") {
        return Ok(qkd_ldpc::algorithm(name, block_bits)?);
    }
    bail!(
        "unknown algorithm {name:?}; known: {}",
        algorithm_names().join(", ")
    )
}

/// One row of the report: the sweep summary plus, for Cascade, the figure comparable with the
/// public implementations and the confirmation's share.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    summary: SweepSummary,
    /// Cascade only: mean of (disclosed - tag bits) / (n h(estimated QBER)): the asked parities
    /// against the estimate, the figure the public C++/Python implementations report.
    #[serde(skip_serializing_if = "Option::is_none")]
    efficiency_estimated_parities_only: Option<f64>,
    /// Cascade only: mean of (disclosed - tag bits) / (n h(true frame QBER)), i.e. the strict f
    /// without the confirmation tag ("Cascade disclosures only").
    #[serde(skip_serializing_if = "Option::is_none")]
    efficiency_parities_only: Option<f64>,
    /// Cascade only: confirmation tag bits per frame (counted in `efficiency_mean`).
    #[serde(skip_serializing_if = "Option::is_none")]
    cascade_tag_bits: Option<u8>,
    /// Cascade only: the confirmation's correctness error bound for this frame length.
    #[serde(skip_serializing_if = "Option::is_none")]
    eps_cor: Option<f64>,
}

pub(crate) fn run(global: &GlobalArgs, args: &ReconcileArgs) -> anyhow::Result<()> {
    if args.list {
        for n in algorithm_names() {
            println!("{n}");
        }
        return Ok(());
    }
    let names: Vec<String> = args
        .algorithm
        .iter()
        .flat_map(|a| {
            if a == "all-cascade" {
                algorithm_names()
            } else {
                vec![a.clone()]
            }
        })
        .collect();
    let estimated = args
        .estimated_qber
        .map(Qber::new)
        .transpose()
        .context("--estimated-qber")?;
    let show_progress = !global.quiet && std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    for name in &names {
        let algo = algorithm(name, args.block)?;
        for &q in &args.qber {
            let qber = Qber::new(q).with_context(|| format!("--qber {q}"))?;
            let config = SweepConfig {
                qber,
                estimated_qber: estimated,
                block_bits: args.block,
                frames: args.frames,
                seed: global.seed,
                error_model: match args.error_model {
                    Model::Bernoulli => ErrorModel::Bernoulli,
                    Model::Exact => ErrorModel::Exact,
                },
            };
            let bar = show_progress.then(|| {
                let b = indicatif::ProgressBar::new(args.frames as u64);
                b.set_message(format!("{name} Q={q}"));
                b.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg} [{bar:30}] {pos}/{len} frames {eta}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
                );
                b
            });
            let summary = sweep(algo.as_ref(), &config, |done| {
                if let Some(b) = &bar {
                    b.set_position(done as u64);
                }
            })?;
            if let Some(b) = bar {
                b.finish_and_clear();
            }
            let cascade = name
                .starts_with("cascade-")
                .then(|| qkd_cascade::Cascade::from_name(name))
                .transpose()?;
            let row = match cascade {
                Some(c) => {
                    let config = c.config();
                    let tag = if config.confirmation {
                        f64::from(config.tag_bits)
                    } else {
                        0.0
                    };
                    #[allow(clippy::cast_precision_loss)]
                    let n = args.block as f64;
                    let share_est = tag / (n * binary_entropy(summary.estimated_qber));
                    // The strict f averages over frames against each frame's true QBER; with
                    // `--error-model exact` every frame has the channel QBER, so the tag's share is
                    // the same in every frame. With Bernoulli errors this is the share at the
                    // channel QBER (an approximation of the per-frame mean).
                    let share_true = tag / (n * binary_entropy(summary.qber));
                    Row {
                        efficiency_estimated_parities_only: Some(
                            summary.efficiency_estimated_mean - share_est,
                        ),
                        efficiency_parities_only: Some(summary.efficiency_mean - share_true),
                        cascade_tag_bits: Some(if config.confirmation {
                            config.tag_bits
                        } else {
                            0
                        }),
                        eps_cor: Some(config.eps_cor(args.block)),
                        summary,
                    }
                }
                None => Row {
                    summary,
                    efficiency_estimated_parities_only: None,
                    efficiency_parities_only: None,
                    cascade_tag_bits: None,
                    eps_cor: None,
                },
            };
            rows.push(row);
        }
    }
    if global.json {
        return if rows.len() == 1 {
            print_json(&rows[0])
        } else {
            print_json(&rows)
        };
    }
    println!(
        "{:<26} {:>6} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>9} {:>8} {:>7} {:>9} {:>10}",
        "algorithm",
        "qber",
        "n",
        "frames",
        "f",
        "f_std",
        "f_est",
        "f_paper",
        "FER",
        "undet",
        "msgs",
        "trips",
        "Mbit/s"
    );
    for r in &rows {
        let s = &r.summary;
        println!(
            "{:<26} {:>6.3} {:>8} {:>7} {:>7.4} {:>7.4} {:>7.4} {:>7} {:>9.2e} {:>8} {:>7.1} {:>9.1} {:>10.2}",
            s.algorithm,
            s.qber,
            s.block_bits,
            s.frames,
            s.efficiency_mean,
            s.efficiency_std,
            s.efficiency_estimated_mean,
            r.efficiency_estimated_parities_only
                .map_or_else(|| "-".to_string(), |f| format!("{f:.4}")),
            s.fer,
            s.undetected_frames,
            s.messages_mean,
            s.round_trips_mean,
            s.throughput_mbps
        );
    }
    println!(
        "f: ledger bits (parities + confirmation tag) / (n h(true frame QBER)); f_est: against the estimate; f_paper (Cascade): asked parities only against the estimate, the public implementations' figure; \
         time per frame is seconds_per_frame in --json."
    );
    Ok(())
}
