//! Subcommands, one module each, and the flags they share.

use clap::Args;

pub(crate) mod info;
pub(crate) mod keyrate;
pub(crate) mod kme;
pub(crate) mod otdr;
pub(crate) mod pa;
pub(crate) mod reconcile;

/// Flags every subcommand understands.
#[derive(Debug, Args, Clone)]
pub(crate) struct GlobalArgs {
    /// Print one JSON object on stdout instead of a human-readable report.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Seed of every random choice, for reproducible runs.
    #[arg(long, global = true, default_value_t = 1)]
    pub(crate) seed: u64,
    /// No progress or informational output on stderr.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
}

/// Prints `value` as one JSON object on stdout.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
