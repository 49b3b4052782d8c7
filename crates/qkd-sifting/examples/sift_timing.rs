//! Times sifting + estimation of `n` detection records (both parties, one thread):
//!
//! `cargo run --release -p qkd-sifting --example sift_timing -- 100000000 [repeats] [--shared]`
//!
//! Prints the record construction (validation) time, the first (cold) run, and the mean of
//! `repeats` further runs on clones of the same records (steady state: the allocator reuses the
//! pages of the previous block). Alice's and Bob's slot tables are separate arrays, as on two
//! machines (Alice compares Bob's announced list with hers element by element); `--shared` gives
//! both halves one array, as `split_records` does for a simulator's joint records. CPU time is
//! what to read on a loaded machine.

use qkd_core::{BitBlock, sim_rng};
use qkd_sifting::{
    AliceRecords, BobRecords, ConfidenceMethod, SampleSize, SiftConfig, Slots, sift_pair,
};

/// (user s, system s, minor page faults) of this process so far, from /proc/self/stat (Linux;
/// 100 ticks/s).
fn cpu_seconds() -> (f64, f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 10, 14 and 15 of the file are minflt, utime and stime; `rest` starts at field 3.
    (
        f.get(11).copied().unwrap_or(0.0) / 100.0,
        f.get(12).copied().unwrap_or(0.0) / 100.0,
        f.get(7).copied().unwrap_or(0.0),
    )
}

/// Runs `f` and returns (user s, system s, wall s, minor faults) and its result.
fn timed<T>(f: impl FnOnce() -> T) -> ((f64, f64, f64, f64), T) {
    let c0 = cpu_seconds();
    let t = std::time::Instant::now();
    let out = f();
    let wall = t.elapsed().as_secs_f64();
    let c1 = cpu_seconds();
    ((c1.0 - c0.0, c1.1 - c0.1, wall, c1.2 - c0.2), out)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shared = args.iter().any(|a| a == "--shared");
    let mut nums = args.iter().filter_map(|s| s.parse::<usize>().ok());
    let n = nums.next().unwrap_or(10_000_000);
    let repeats = nums.next().unwrap_or(3);
    let mut rng = sim_rng(1);
    let slot_values: Vec<u64> = (0..n as u64).map(|i| 3 * i).collect();
    let lo = BitBlock::random(n, &mut rng);
    let mut hi = BitBlock::random(n, &mut rng);
    hi.with_words_mut(|w| w.iter_mut().zip(lo.words()).for_each(|(h, l)| *h &= !l));
    let a_bits = BitBlock::random(n, &mut rng);
    let (a_bases, b_bases) = (BitBlock::random(n, &mut rng), BitBlock::random(n, &mut rng));
    let alice_values = slot_values.clone();
    let (build, (alice, bob)) = timed(|| {
        let bob_slots = Slots::new(slot_values).expect("valid records");
        let alice_slots = if shared {
            bob_slots.clone()
        } else {
            Slots::new(alice_values).expect("valid records")
        };
        (
            AliceRecords::with_slots(alice_slots, a_bases, a_bits.clone(), lo, hi)
                .expect("valid records"),
            BobRecords::with_slots(bob_slots, b_bases, a_bits).expect("valid records"),
        )
    });
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .confidence(ConfidenceMethod::ClopperPearson, 1e-10)
        .build()
        .expect("valid config");
    println!(
        "{n} records ({} slot tables): validation {:.2} s user + {:.2} s system, {:.3} s wall",
        if shared { "shared" } else { "separate" },
        build.0,
        build.1,
        build.2
    );
    let mut total = (0.0, 0.0, 0.0, 0.0);
    for run in 0..=repeats {
        let (a, b) = (alice.clone(), bob.clone());
        let (t, (out, _, ledger)) = timed(|| sift_pair(a, b, cfg, 7).expect("sifting runs"));
        if run == 0 {
            println!(
                "cold run: {:.2} s user + {:.2} s system, {:.3} s wall, {} page faults; sifted {}, key bits {}, disclosed {}",
                t.0,
                t.1,
                t.2,
                t.3,
                out.estimate.sifted,
                out.estimate.key_bits,
                ledger.disclosed_bits()
            );
        } else {
            total = (total.0 + t.0, total.1 + t.1, total.2 + t.2, total.3 + t.3);
        }
    }
    if repeats > 0 {
        let r = f64::from(u32::try_from(repeats).unwrap_or(u32::MAX));
        println!(
            "steady state (mean of {repeats}): {:.2} s user + {:.2} s system, {:.3} s wall, {:.0} page faults",
            total.0 / r,
            total.1 / r,
            total.2 / r,
            total.3 / r
        );
    }
}
