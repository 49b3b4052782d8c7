//! Word-speed kernels of `BitBlock`: range parity, XOR, Hamming distance.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::{BitBlock, sim_rng};
use std::hint::black_box;

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("bitblock");
    for n in [10_000usize, 1_000_000] {
        let mut rng = sim_rng(1);
        let a = BitBlock::random(n, &mut rng);
        let b = BitBlock::random(n, &mut rng);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("parity_range", n), &n, |bch, &n| {
            bch.iter(|| a.parity_range(black_box(3)..black_box(n - 5)))
        });
        g.bench_with_input(BenchmarkId::new("hamming_distance", n), &n, |bch, _| {
            bch.iter(|| a.hamming_distance(black_box(&b)))
        });
        g.bench_with_input(BenchmarkId::new("xor", n), &n, |bch, _| {
            bch.iter(|| a.xor(black_box(&b)))
        });
    }
    g.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
