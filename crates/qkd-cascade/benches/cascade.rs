//! Cascade throughput: one frame of n bits per iteration, both parties in this thread.
//!
//! `cargo bench -p qkd-cascade --bench cascade -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qkd_cascade::Cascade;
use qkd_core::harness::{ErrorModel, noisy_pair};
use qkd_core::{DynReconciler, Qber, ReconcileParams, derive_seed, sim_rng};

fn frames(n: usize, q: f64, count: usize) -> Vec<(qkd_core::BitBlock, qkd_core::BitBlock)> {
    let qber = Qber::new(q).expect("valid QBER");
    (0..count)
        .map(|i| {
            let mut rng = sim_rng(derive_seed(1, "bench frame", i as u64));
            noisy_pair(n, qber, ErrorModel::Bernoulli, &mut rng)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cascade");
    for (n, names) in [
        (
            10_000usize,
            &[
                "cascade-original",
                "cascade-original+det",
                "cascade-yan",
                "cascade-option8",
                "cascade-option8+bpi+det",
            ][..],
        ),
        (100_000, &["cascade-original+det"][..]),
        (1_000_000, &["cascade-original+det"][..]),
    ] {
        for q in [0.02, 0.10] {
            let set = frames(n, q, 16);
            let qber = Qber::new(q).expect("valid QBER");
            group.throughput(Throughput::Elements(n as u64));
            if n >= 100_000 {
                group.sample_size(10);
            }
            for name in names {
                let algo = Cascade::from_name(name).expect("known variant");
                let mut i = 0usize;
                group.bench_function(format!("{name}/n={n}/q={q}"), |b| {
                    b.iter_batched(
                        || {
                            i = (i + 1) % set.len();
                            (set[i].clone(), i)
                        },
                        |((a, bb), i)| {
                            let params = ReconcileParams::new(qber, i as u64);
                            black_box(algo.run_in_process(a, bb, &params).expect("runs"))
                        },
                        BatchSize::SmallInput,
                    );
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
