//! `qkd info`: what this build contains.

use clap::Args;
use serde::Serialize;

use super::{GlobalArgs, print_json};

#[derive(Debug, Args)]
pub(crate) struct InfoArgs {}

#[derive(Serialize)]
struct Info {
    version: &'static str,
    crates: Vec<&'static str>,
    rng: &'static str,
    seed: u64,
    first_u64_of_seed: u64,
}

pub(crate) fn run(global: &GlobalArgs, _args: &InfoArgs) -> anyhow::Result<()> {
    let info = Info {
        version: env!("CARGO_PKG_VERSION"),
        crates: vec![
            "qkd-core",
            "qkd-quantum",
            "qkd-fiber",
            "qkd-sifting",
            "qkd-cascade",
            "qkd-ldpc",
            "qkd-privacy",
            "qkd-etsi014",
        ],
        rng: "ChaCha8 (rand_chacha), seeded with seed_from_u64",
        seed: global.seed,
        first_u64_of_seed: first_u64(global.seed),
    };
    if global.json {
        return print_json(&info);
    }
    println!("qkd {}", info.version);
    println!("crates: {}", info.crates.join(", "));
    println!("simulation RNG: {}", info.rng);
    println!(
        "--seed {} starts the stream with {:#018x}",
        info.seed, info.first_u64_of_seed
    );
    Ok(())
}

/// The first output of the simulation generator for `seed`, so users can check that two machines
/// reproduce the same stream.
fn first_u64(seed: u64) -> u64 {
    use rand::Rng as _;
    qkd_core::sim_rng(seed).next_u64()
}
