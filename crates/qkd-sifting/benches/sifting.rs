//! Sifting + estimation throughput: the whole three-message exchange (both parties, one thread)
//! on bit-packed records, 1e8 detection records by default (the figure; ~2 GB of memory,
//! mostly the two 8-byte-per-record slot tables). `QKD_SIFT_BENCH_N=10000000` for a quicker run.
//!
//! Two cases: Alice's and Bob's slot tables as separate arrays (two machines: Alice compares
//! Bob's announced list with hers element by element), and one shared array (a simulator's joint
//! records through `split_records`). Each iteration sifts fresh clones of the records (clones
//! share the slot arrays), so the figure is the steady state of a caller running block after
//! block; `examples/sift_timing.rs` also reports the first (cold) run.
//!
//! `cargo bench -p qkd-sifting --bench sifting -- --warm-up-time 1 --measurement-time 5`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::{BitBlock, sim_rng};
use qkd_sifting::{
    AliceRecords, BobRecords, ConfidenceMethod, SampleSize, SiftConfig, Slots, sift_pair,
};

fn records(n: usize, shared: bool) -> (AliceRecords, BobRecords) {
    let mut rng = sim_rng(1);
    let values: Vec<u64> = (0..n as u64).map(|i| 3 * i).collect();
    let bob_slots = Slots::new(values.clone()).expect("bench input is valid");
    let alice_slots = if shared {
        bob_slots.clone()
    } else {
        Slots::new(values).expect("bench input is valid")
    };
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
        AliceRecords::with_slots(alice_slots, a_bases, a_bits, lo, hi)
            .expect("bench input is valid"),
        BobRecords::with_slots(bob_slots, b_bases, b_bits).expect("bench input is valid"),
    )
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("QKD_SIFT_BENCH_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000_000);
    let cfg = SiftConfig::builder()
        .sample(SampleSize::Fraction(0.05))
        .confidence(ConfidenceMethod::ClopperPearson, 1e-10)
        .build()
        .expect("bench input is valid");
    let mut g = c.benchmark_group("sifting");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    for (name, shared) in [("separate_tables", false), ("shared_table", true)] {
        let (alice, bob) = records(n, shared);
        g.bench_function(format!("sift_and_estimate/{name}/{n}"), |b| {
            b.iter_batched(
                || (alice.clone(), bob.clone()),
                |(a, bo)| sift_pair(a, bo, cfg, 7).expect("bench input is valid"),
                BatchSize::PerIteration,
            );
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
