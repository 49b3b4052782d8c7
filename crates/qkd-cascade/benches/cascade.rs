//! Speed of the original variant and its scaling with the frame length: one frame of n bits per
//! iteration, both parties in this thread, at QBER 2 % and 10 % (the speed targets are at
//! n = 10,000; 1e5 and 1e6 show the cost per bit as frames grow).
//!
//! `cargo bench -p qkd-cascade --bench cascade -- --warm-up-time 1 --measurement-time 3`
//!
//! Every variant against LDPC on the same frames (`qkd_core::harness::frame_set`) is the
//! workspace bench `benches/reconciliation.rs`; this one does not repeat it.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qkd_cascade::Cascade;
use qkd_core::harness::{ErrorModel, frame_set};
use qkd_core::{DynReconciler, Qber, ReconcileParams};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("cascade");
    for n in [10_000usize, 100_000, 1_000_000] {
        for q in [0.02, 0.10] {
            let qber = Qber::new(q).expect("valid QBER");
            let set = frame_set(n, qber, ErrorModel::Bernoulli, 16, 1);
            group.throughput(Throughput::Elements(n as u64));
            group.sample_size(if n >= 100_000 { 10 } else { 50 });
            for name in ["cascade-original", "cascade-original+det"] {
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
