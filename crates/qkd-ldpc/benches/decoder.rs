//! Decoder throughput at QBER 5 %, N ~ 1.2e4, leak rate 0.4 mother code (f ~ 1.4 on the full
//! word, well inside the waterfall so every frame converges): single-frame layered min-sum, the
//! 16-lane batch decoder on one core, the batch decoder over all cores (rayon), and the whole
//! blind protocol (both roles, ledger, confirmation) on N = 1e4.
//!
//! `cargo bench -p qkd-ldpc --bench decoder -- --warm-up-time 1 --measurement-time 3`

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::harness::{ErrorModel, noisy_pair};
use qkd_core::{BitBlock, DynReconciler, Qber, ReconcileParams, sim_rng};
use qkd_ldpc::decoder::channel_llr;
use qkd_ldpc::{
    BatchDecoder, CodeSpec, FrameInput, LdpcConfig, LdpcReconciler, MinSumDecoder, MinSumKind,
    Mode, decode_frames,
};
use rand::RngExt;

const Q: f64 = 0.05;

fn frames(h: &qkd_ldpc::SparseMatrix, count: usize) -> Vec<(Vec<i16>, Vec<u64>)> {
    let mut rng = sim_rng(9);
    (0..count)
        .map(|_| {
            let x = BitBlock::random(h.cols(), &mut rng);
            let mut y = x.clone();
            for i in 0..h.cols() {
                if rng.random_bool(Q) {
                    y.flip(i).unwrap();
                }
            }
            let l = channel_llr(Q);
            let llr = y.iter().map(|b| if b { -l } else { l }).collect();
            (llr, h.syndrome(&x).unwrap().words().to_vec())
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let code = CodeSpec {
        min_length: 11_112,
        leak_rate: 0.4,
        seed: 1,
    }
    .build()
    .unwrap();
    let h = &code.h;
    let n = h.cols() as u64;
    let data = frames(h, 64);
    let inputs: Vec<FrameInput<'_>> = data
        .iter()
        .map(|(l, s)| FrameInput {
            llr: l,
            syndrome: s,
        })
        .collect();
    let mut check = MinSumDecoder::new(MinSumKind::Normalized);
    let (mut conv, mut iters) = (0, 0);
    for (l, s) in &data {
        let r = check.decode(h, l, s, 60);
        conv += usize::from(r.converged);
        iters += r.iterations;
    }
    eprintln!(
        "{conv}/{} frames converge, mean iterations {:.1}",
        data.len(),
        f64::from(iters) / 64.0
    );
    let mut g = c.benchmark_group("minsum_q05");
    g.throughput(Throughput::Elements(n));
    let mut single = MinSumDecoder::new(MinSumKind::Normalized);
    let mut k = 0;
    g.bench_function("single_frame", |b| {
        b.iter(|| {
            let (l, s) = &data[k % data.len()];
            k += 1;
            single.decode(h, l, s, 60)
        });
    });
    g.throughput(Throughput::Elements(16 * n));
    let mut batch = BatchDecoder::new(MinSumKind::Normalized);
    g.bench_function("batch16_one_core", |b| {
        b.iter(|| batch.decode(h, &inputs[..16], 60));
    });
    g.throughput(Throughput::Elements(64 * n));
    g.bench_function("batch16_rayon_64_frames", |b| {
        b.iter(|| decode_frames(h, &inputs, MinSumKind::Normalized, 60));
    });
    g.finish();

    let mut g = c.benchmark_group("protocol_q05_n1e4");
    let cfg = LdpcConfig::builder(10_000)
        .private_seed(Some(1))
        .build()
        .unwrap();
    let blind = LdpcReconciler::new(cfg, Mode::Blind);
    let q = Qber::new(Q).unwrap();
    let pairs: Vec<_> = (0..16)
        .map(|i| noisy_pair(10_000, q, ErrorModel::Bernoulli, &mut sim_rng(i)))
        .collect();
    g.throughput(Throughput::Elements(10_000));
    let mut k = 0u64;
    g.bench_function("blind_run_in_process", |b| {
        b.iter(|| {
            let (a, bb) = &pairs[(k % 16) as usize];
            k += 1;
            blind
                .run_in_process(a.clone(), bb.clone(), &ReconcileParams::new(q, k))
                .unwrap()
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
