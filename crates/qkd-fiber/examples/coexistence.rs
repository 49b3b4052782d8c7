//! Raman noise and QBER at the published coexistence points of Wang, Rollick, Huberman
//! (arXiv 2304.13828, 2023): decoy BB84 time-interleaved with a 10 dBm 100 Gb/s QPSK channel in
//! the C band; measured QBER 1.12 % (20 km), 2.04 % (50 km), 3.81 % (100 km).
//!
//! Prints the noise photons per gate at each point (what qkd-quantum's detector model and
//! qkd-privacy's key rate need) and the QBER of the model.
//! `cargo run -p qkd-fiber --example coexistence`

use qkd_fiber::raman::{WANG_2023_POINTS, wang_2023_model};

fn main() -> anyhow::Result<()> {
    let m = wang_2023_model();
    println!("model: {m:?}");
    println!(
        "{:>7} {:>14} {:>14} {:>12} {:>12} {:>8}",
        "km", "raman_W", "photons/gate", "QBER_model", "QBER_paper", "ratio"
    );
    for &(km, qber_paper, _rate) in &WANG_2023_POINTS {
        let p = m.point(km)?;
        println!(
            "{km:>7.0} {:>14.3e} {:>14.3e} {:>11.2}% {:>11.2}% {:>8.3}",
            p.noise.total_w(),
            p.noise.photons_per_gate,
            100.0 * p.qber,
            100.0 * qber_paper,
            p.qber / qber_paper
        );
    }
    Ok(())
}
