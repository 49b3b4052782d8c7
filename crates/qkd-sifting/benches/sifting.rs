//! Sifting + estimation throughput: the whole three-message exchange (both parties, one thread)
//! on bit-packed records. Default 1e7 records; set `QKD_SIFT_BENCH_N=100000000` for the 1e8 figure
//! (needs ~4 GB of memory: slot indices are 8 bytes per record per party).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::{BitBlock, sim_rng};
use qkd_sifting::{AliceRecords, BobRecords, ConfidenceMethod, SampleSize, SiftConfig, sift_pair};

fn records(n: usize) -> (AliceRecords, BobRecords) {
    let mut rng = sim_rng(1);
    let slots: Vec<u64> = (0..n as u64).map(|i| 3 * i).collect();
    let a_bases = BitBlock::random(n, &mut rng);
    let a_bits = BitBlock::random(n, &mut rng);
    let lo = BitBlock::random(n, &mut rng);
    // hi only where lo is clear: classes signal, decoy, vacuum with probabilities 1/4, 1/2, 1/4.
    let mut hi = BitBlock::random(n, &mut rng);
    hi.with_words_mut(|w| {
        for (h, l) in w.iter_mut().zip(lo.words()) {
            *h &= !l;
        }
    });
    let b_bases = BitBlock::random(n, &mut rng);
    // Bob's bits: Alice's with 1/64 of them flipped (six random blocks ANDed).
    let mut b_bits = a_bits.clone();
    let mut noise = BitBlock::random(n, &mut rng);
    for _ in 0..5 {
        let m = BitBlock::random(n, &mut rng);
        noise.with_words_mut(|w| {
            for (x, y) in w.iter_mut().zip(m.words()) {
                *x &= y;
            }
        });
    }
    b_bits.xor_assign(&noise).expect("bench input is valid");
    (
        AliceRecords::new(slots.clone(), a_bases, a_bits, lo, hi).expect("bench input is valid"),
        BobRecords::new(slots, b_bases, b_bits).expect("bench input is valid"),
    )
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("QKD_SIFT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let (alice, bob) = records(n);
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .confidence(ConfidenceMethod::ClopperPearson, 1e-10)
        .build()
        .expect("bench input is valid");
    let mut g = c.benchmark_group("sifting");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(format!("sift_and_estimate/{n}"), |b| {
        b.iter_batched(
            || (alice.clone(), bob.clone()),
            |(a, bo)| sift_pair(a, bo, cfg, 7).expect("bench input is valid"),
            BatchSize::LargeInput,
        );
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
