//! Decoder throughput at the rate-adaptive protocol's operating point, QBER 5 %.
//!
//! The code is the mother code `LdpcReconciler` picks for QBER 5 % (f* = 1.3: leak-0.35 mother
//! code, `m - f* N h(Q)` extra symbols punctured, the rest shortened), for N = 1e4 and N = 1e5 key
//! bits. Throughput is reconciled key: key bits of the frames that converge (all of the benched
//! frames do at this point; the count is checked before timing and printed).
//!
//! - `i16_single`: layered min-sum in `i16`, one frame at a time (the protocol's decoder);
//! - `i16_batch16`: the 16-lane `i16` batch decoder (no refill), one core;
//! - `fast_1core`: the `i8` 32-lane decoder with lane refill, one core (AVX2 when present);
//! - `fast_portable_1core`: the same kernel on the portable back end;
//! - `fast_all_cores`: `decode_frames_fast` (one refilling decoder per rayon thread).
//!
//! `cargo bench -p qkd-ldpc --bench decoder -- --warm-up-time 1 --measurement-time 3 fast`

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qkd_core::harness::{ErrorModel, noisy_pair};
use qkd_core::{BitBlock, DynReconciler, Qber, ReconcileParams, sim_rng};
use qkd_ldpc::decoder::{KNOWN_LLR, channel_llr};
use qkd_ldpc::{
    Backend, BatchDecoder, FastDecoder, FrameInput, LdpcConfig, LdpcReconciler, MinSumDecoder,
    MinSumKind, Mode, SparseMatrix, decode_frames_fast,
};
use rand::RngExt;

const Q: f64 = 0.05;
const MAX_IT: u32 = 60;

/// Bob's LLRs and Alice's syndrome words of one frame.
type Frame = (Vec<i16>, Vec<u64>);

/// The protocol's code for `block` key bits at QBER `Q`, and `count` simulated frames.
fn operating_point(block: usize, count: usize) -> (SparseMatrix, Vec<Frame>) {
    let cfg = LdpcConfig::builder(block).build().unwrap();
    let (_, fc, punct) = LdpcReconciler::new(cfg, Mode::RateAdaptive)
        .rate_adaptive_code(Q)
        .unwrap();
    let h = fc.code.h.clone();
    let n = h.cols();
    let ch = channel_llr(Q);
    let mut rng = sim_rng(9);
    let frames = (0..count)
        .map(|_| {
            let mut x = BitBlock::random(n, &mut rng);
            let mut llr = vec![0i16; n];
            for &c in &fc.key_cols {
                let c = c as usize;
                let y = x.get(c).unwrap() ^ rng.random_bool(Q);
                llr[c] = if y { -ch } else { ch };
            }
            for &c in &fc.extra[punct..] {
                let c = c as usize;
                if x.get(c).unwrap() {
                    x.flip(c).unwrap();
                }
                llr[c] = KNOWN_LLR;
            }
            (llr, h.syndrome(&x).unwrap().words().to_vec())
        })
        .collect();
    (h, frames)
}

fn bench_point(c: &mut Criterion, block: usize, count: usize, with_i16: bool) {
    let (h, data) = operating_point(block, count);
    let h = &h;
    let inputs: Vec<FrameInput<'_>> = data
        .iter()
        .map(|(l, s)| FrameInput {
            llr: l,
            syndrome: s,
        })
        .collect();
    let kind = MinSumKind::Normalized;
    let check = FastDecoder::new(kind).decode(h, &inputs, MAX_IT).unwrap();
    let conv = check.iter().filter(|(r, _)| r.converged).count();
    let iters: u32 = check.iter().map(|(r, _)| r.iterations).sum();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "N = {block}: n = {}, m = {}, {conv}/{count} frames converge, mean iterations {:.2}, backend {:?}, loadavg {}",
        h.cols(),
        h.rows(),
        f64::from(iters) / count as f64,
        Backend::detect(),
        load.trim()
    );
    let key_bits = |frames: usize| Throughput::Bits((block * frames) as u64);
    let mut g = c.benchmark_group(format!("fast_q05_n{block}"));
    g.sample_size(10);
    g.throughput(key_bits(conv));
    let mut fast = FastDecoder::new(kind);
    g.bench_function("fast_1core", |b| {
        b.iter(|| fast.decode(h, &inputs, MAX_IT).unwrap());
    });
    let mut port = FastDecoder::with_backend(kind, Backend::Portable).unwrap();
    g.bench_function("fast_portable_1core", |b| {
        b.iter(|| port.decode(h, &inputs, MAX_IT).unwrap());
    });
    g.bench_function("fast_all_cores", |b| {
        b.iter(|| decode_frames_fast(h, &inputs, kind, MAX_IT).unwrap());
    });
    if with_i16 {
        g.throughput(key_bits(1));
        let mut single = MinSumDecoder::new(kind);
        let mut k = 0;
        g.bench_function("i16_single", |b| {
            b.iter(|| {
                let (l, s) = &data[k % data.len()];
                k += 1;
                single.decode(h, l, s, MAX_IT)
            });
        });
        g.throughput(key_bits(16));
        let mut batch = BatchDecoder::new(kind);
        g.bench_function("i16_batch16", |b| {
            b.iter(|| batch.decode(h, &inputs[..16], MAX_IT));
        });
    }
    g.finish();
}

fn bench(c: &mut Criterion) {
    bench_point(c, 10_000, 256, true);
    bench_point(c, 100_000, 64, false);

    let mut g = c.benchmark_group("protocol_q05_n1e4");
    g.sample_size(10);
    let cfg = LdpcConfig::builder(10_000)
        .private_seed(Some(1))
        .build()
        .unwrap();
    let blind = LdpcReconciler::new(cfg, Mode::Blind);
    let q = Qber::new(Q).unwrap();
    let pairs: Vec<_> = (0..16)
        .map(|i| noisy_pair(10_000, q, ErrorModel::Bernoulli, &mut sim_rng(i)))
        .collect();
    g.throughput(Throughput::Bits(10_000));
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
