//! Quick wall-clock and CPU timing of the Toeplitz paths at one size (development aid; the
//! reported figures come from the criterion bench `benches/privacy.rs`).
//!
//! `cargo run --release -p qkd-privacy --example toeplitz_timing -- N RATIO [fft|karatsuba|auto] [REPS]`

use qkd_core::{BitBlock, sim_rng};
use qkd_privacy::ToeplitzHash;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let ratio: f64 = args.get(2).map_or(Ok(0.5), |s| s.parse())?;
    let path = args.get(3).map_or("auto", String::as_str);
    let reps: usize = args.get(4).map_or(Ok(5), |s| s.parse())?.max(1);
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let m = (n as f64 * ratio) as usize;
    let mut rng = sim_rng(1);
    let t = ToeplitzHash::from_rng(n, m, &mut rng)?;
    let x = BitBlock::random(n, &mut rng);
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let start = Instant::now();
        let y = match path {
            "fft" => t.hash_by_fft(&x)?,
            "karatsuba" => t.hash_by_karatsuba(&x)?,
            _ => t.hash(&x)?,
        };
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(y.len(), m);
    }
    times.sort_by(f64::total_cmp);
    let (best, median) = (times[0], times[times.len() / 2]);
    #[allow(clippy::cast_precision_loss)]
    let mbps = n as f64 / best / 1e6;
    println!(
        "n={n} m={m} path={path} best_of_{reps}={best:.4}s median={median:.4}s input={mbps:.1}Mbit/s"
    );
    if std::env::var_os("TOEPLITZ_TIMES").is_some() {
        println!("times_s={times:.4?}");
    }
    Ok(())
}
