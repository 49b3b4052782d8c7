//! Times one sifting + estimation run (CPU time is what to read on a loaded machine):
//! `cargo run --release -p qkd-sifting --example sift_timing -- 100000000`.

use qkd_core::{BitBlock, sim_rng};
use qkd_sifting::{AliceRecords, BobRecords, ConfidenceMethod, SampleSize, SiftConfig, sift_pair};

/// (user, system) CPU seconds of this process so far, from /proc/self/stat (Linux; 100 ticks/s).
fn cpu_seconds() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the file are utime and stime; `rest` starts at field 3.
    (
        f.get(11).copied().unwrap_or(0.0) / 100.0,
        f.get(12).copied().unwrap_or(0.0) / 100.0,
    )
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let mut rng = sim_rng(1);
    let slots: Vec<u64> = (0..n as u64).map(|i| 3 * i).collect();
    let lo = BitBlock::random(n, &mut rng);
    let mut hi = BitBlock::random(n, &mut rng);
    hi.with_words_mut(|w| w.iter_mut().zip(lo.words()).for_each(|(h, l)| *h &= !l));
    let a_bits = BitBlock::random(n, &mut rng);
    let alice = AliceRecords::new(
        slots.clone(),
        BitBlock::random(n, &mut rng),
        a_bits.clone(),
        lo,
        hi,
    )
    .expect("valid records");
    let bob = BobRecords::new(slots, BitBlock::random(n, &mut rng), a_bits).expect("valid records");
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .confidence(ConfidenceMethod::ClopperPearson, 1e-10)
        .build()
        .expect("valid config");
    let c0 = cpu_seconds();
    let t = std::time::Instant::now();
    let (a, _, ledger) = sift_pair(alice, bob, cfg, 7).expect("sifting runs");
    let c1 = cpu_seconds();
    println!(
        "{n} records: {:.2} s user + {:.2} s system CPU, {:.3} s wall; sifted {}, key bits {}, disclosed {}",
        c1.0 - c0.0,
        c1.1 - c0.1,
        t.elapsed().as_secs_f64(),
        a.estimate.sifted,
        a.estimate.key_bits,
        ledger.disclosed_bits()
    );
}
