//! The `qkd` command.
//!
//! Each subcommand lives in its own module under `cmd/` and is a thin layer over a library crate:
//! parsing and printing here, the work in the crates. Every report subcommand takes the global
//! `--json` (one JSON object on stdout, stable field names with units) and `--seed`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Quantum key distribution toolkit: simulate links, reconcile, amplify, monitor fiber, deliver keys.
#[derive(Debug, Parser)]
#[command(name = "qkd", version, about, long_about = None, propagate_version = true)]
pub(crate) struct Cli {
    /// Global options shared by every subcommand.
    #[command(flatten)]
    pub(crate) global: cmd::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the library version, the crates built in, and the random generator used for seeds.
    Info(cmd::info::InfoArgs),
    /// Synthesize an OTDR trace from a route TOML, find its events, compare with a baseline;
    /// event table, SOR and SVG output.
    Otdr(cmd::otdr::OtdrArgs),
    /// Privacy amplification (Toeplitz hashing) throughput on a random input.
    Pa(cmd::pa::PaArgs),
    /// Analytic key rate vs distance: asymptotic decoy BB84, finite-key, PLOB; table, JSON, SVG.
    Keyrate(cmd::keyrate::KeyrateArgs),
    /// Compare reconciliation algorithms on synthetic frames: efficiency, FER, messages, throughput.
    Reconcile(cmd::reconcile::ReconcileArgs),
    /// ETSI GS QKD 014 key manager (serve) and SAE client (status, enc, dec), dev certificates.
    Kme(cmd::kme::KmeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Info(args) => cmd::info::run(&cli.global, args),
        Command::Otdr(args) => cmd::otdr::run(&cli.global, args),
        Command::Pa(args) => cmd::pa::run(&cli.global, args),
        Command::Keyrate(args) => cmd::keyrate::run(&cli.global, args),
        Command::Reconcile(args) => cmd::reconcile::run(&cli.global, args),
        Command::Kme(args) => cmd::kme::run(&cli.global, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("qkd: {e:#}");
            ExitCode::FAILURE
        }
    }
}
