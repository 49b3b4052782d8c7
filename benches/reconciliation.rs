//! Reconciliation throughput at n = 10,000: every Cascade variant against the LDPC algorithms,
//! all through the same `DynReconciler` interface and the same frames.
//!
//! `cargo bench --bench reconciliation -- --warm-up-time 1 --measurement-time 3`
//! Throughput is in reconciled key bits (one frame of n bits per iteration, both parties).
//! The scaling of Cascade with the frame length (1e4 to 1e6) is `crates/qkd-cascade/benches/cascade.rs`;
//! both benches draw their frames from `qkd_core::harness::frame_set`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use qkd::cascade::Cascade;
use qkd::core::harness::{ErrorModel, frame_set};
use qkd::core::{DynReconciler, Qber, ReconcileParams};

const N: usize = 10_000;

fn bench(c: &mut Criterion) {
    let mut algos: Vec<Box<dyn DynReconciler>> = Cascade::variant_names()
        .iter()
        .map(|n| Box::new(Cascade::from_name(n).expect("known")) as Box<dyn DynReconciler>)
        .collect();
    algos.push(Box::new(
        Cascade::from_name("cascade-original+det").expect("known"),
    ));
    algos.push(Box::new(
        Cascade::from_name("cascade-option8+bpi+det").expect("known"),
    ));
    for name in ["ldpc", "ldpc-blind"] {
        algos.push(qkd::ldpc::algorithm(name, N).expect("known LDPC algorithm"));
    }
    let mut group = c.benchmark_group("reconciliation");
    group.throughput(Throughput::Elements(N as u64));
    for q in [0.02, 0.10] {
        let qber = Qber::new(q).expect("valid QBER");
        let set = frame_set(N, qber, ErrorModel::Bernoulli, 16, 2);
        for algo in &algos {
            let mut i = 0usize;
            group.bench_function(format!("{}/q={q}", algo.name()), |b| {
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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
