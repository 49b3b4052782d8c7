//! Privacy amplification throughput (issue 8): Toeplitz hashing at 1e6 and 1e8 input bits, the
//! naive reference for scale, modified Toeplitz, Wegman-Carter tags, and the key-rate curve.
//!
//! `cargo bench --bench privacy -- --warm-up-time 1 --measurement-time 3`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::{BitBlock, SecretKey, sim_rng};
use qkd_privacy::auth::{KeyPool, WegmanCarter};
use qkd_privacy::{Kernel, LinkParams, ModifiedToeplitzHash, ToeplitzHash, key_rate_curve};

fn toeplitz(c: &mut Criterion) {
    let mut g = c.benchmark_group("toeplitz");
    g.sample_size(10);
    for n in [1_000_000usize, 10_000_000, 100_000_000] {
        let mut rng = sim_rng(1);
        let t = ToeplitzHash::from_rng(n, n / 2, &mut rng).expect("valid shape");
        let x = BitBlock::random(n, &mut rng);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("fast_ratio_0.5", n), &x, |b, x| {
            b.iter(|| t.hash(x).expect("length matches"));
        });
        if n <= 10_000_000 {
            g.bench_with_input(BenchmarkId::new("karatsuba_ratio_0.5", n), &x, |b, x| {
                b.iter(|| t.hash_by_karatsuba(x).expect("length matches"));
            });
        }
        if n == 1_000_000 {
            let portable = t.clone().with_kernel(Kernel::Portable);
            g.bench_with_input(BenchmarkId::new("portable_ratio_0.5", n), &x, |b, x| {
                b.iter(|| portable.hash(x).expect("length matches"));
            });
            let m = ModifiedToeplitzHash::from_rng(n, n / 2, &mut rng).expect("valid shape");
            g.bench_with_input(BenchmarkId::new("modified_ratio_0.5", n), &x, |b, x| {
                b.iter(|| m.hash(x).expect("length matches"));
            });
        }
    }
    // The row-by-row reference, for scale (O(n m)).
    let n = 20_000;
    let mut rng = sim_rng(2);
    let t = ToeplitzHash::from_rng(n, n / 2, &mut rng).expect("valid shape");
    let x = BitBlock::random(n, &mut rng);
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("naive_ratio_0.5", n), &x, |b, x| {
        b.iter(|| t.hash_naive(x).expect("length matches"));
    });
    g.bench_with_input(BenchmarkId::new("fast_ratio_0.5", n), &x, |b, x| {
        b.iter(|| t.hash(x).expect("length matches"));
    });
    g.finish();
}

fn wegman_carter(c: &mut Criterion) {
    let mut g = c.benchmark_group("wegman_carter");
    let wc = WegmanCarter::new(0x0123_4567_89ab_cdef).expect("nonzero");
    let msg = vec![0x5au8; 4096];
    let key = SecretKey::from_bytes(vec![1u8; 8 * 1_000_000]);
    let mut pool = KeyPool::new(&key);
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("tag_4096_bytes", |b| {
        b.iter(|| {
            if pool.available_bits() < 64 {
                pool.refill(&key);
            }
            wc.tag(&msg, &mut pool).expect("pool refilled")
        });
    });
    g.finish();
}

fn keyrate(c: &mut Criterion) {
    let distances: Vec<f64> = (0..=30).map(|k| f64::from(k) * 10.0).collect();
    c.bench_function("keyrate_curve_31_points", |b| {
        b.iter(|| key_rate_curve(&LinkParams::snspd(), &distances).expect("valid"));
    });
}

criterion_group!(benches, toeplitz, wegman_carter, keyrate);
criterion_main!(benches);
