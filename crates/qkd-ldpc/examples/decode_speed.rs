//! Decoder speed and frame error rate at the rate-adaptive protocol's operating point.
//!
//! Builds the mother code the rate-adaptive protocol picks for `--qber` and `--block` (same rule
//! as `LdpcReconciler`: smallest mother code with `m >= f* N h(Q)`, `m - f* N h(Q)` extra
//! symbols punctured, the rest shortened), simulates `--frames` frames and decodes them with the
//! `i16` layered min-sum (`MinSumDecoder`, one frame at a time), the fast `i8` decoder on one core
//! (portable and AVX2 back ends) and the fast decoder over all cores. Reports per decoder: FER,
//! mean iterations, wall time, user+system CPU time per frame (from /proc/self/stat, Linux), and
//! reconciled key rate = key bits of converged frames per wall second.
//!
//! `cargo run --release -p qkd-ldpc --example decode_speed -- --block 10000 --qber 0.05 --frames 640 [--max-iter 60] [--skip-i16] [--skip-portable] [--json]`

// Example: panics on setup errors are fine.
#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::time::Instant;

use qkd_core::sim_rng;
use qkd_ldpc::decoder::{KNOWN_LLR, channel_llr};
use qkd_ldpc::{
    Backend, DecodeResult, FastDecoder, FrameInput, LdpcConfig, LdpcReconciler, MinSumDecoder,
    MinSumKind, Mode, SparseMatrix, decode_frames_fast,
};
use rand::RngExt;

/// CPU time (user + system) of the whole process in seconds, from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0)
        + f.get(12).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

struct Frame {
    x: Vec<u64>,
    llr: Vec<i16>,
    syndrome: Vec<u64>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let get = |k: &str, d: &str| -> String {
        args.iter()
            .position(|a| a == k)
            .and_then(|i| args.get(i + 1).cloned())
            .unwrap_or_else(|| d.to_string())
    };
    let block: usize = get("--block", "10000").parse().unwrap();
    let q: f64 = get("--qber", "0.05").parse().unwrap();
    let nframes: usize = get("--frames", "640").parse().unwrap();
    let max_it: u32 = get("--max-iter", "60").parse().unwrap();
    let json = args.iter().any(|a| a == "--json");

    let cfg = LdpcConfig::builder(block).build().unwrap();
    let rec = LdpcReconciler::new(cfg.clone(), Mode::RateAdaptive);
    let t = Instant::now();
    let (idx, fc, punct) = rec.rate_adaptive_code(q).unwrap();
    let code_s = t.elapsed().as_secs_f64();
    let h: &SparseMatrix = &fc.code.h;
    let (n, m) = (h.cols(), h.rows());
    let ch = channel_llr(q);
    let mut rng = sim_rng(2024);
    let frames: Vec<Frame> = (0..nframes)
        .map(|_| {
            let mut llr = vec![0i16; n];
            let mut x = vec![0u64; n.div_ceil(64)];
            for &c in &fc.key_cols {
                let c = c as usize;
                let b = rng.random_bool(0.5);
                let y = b ^ rng.random_bool(q);
                x[c >> 6] |= u64::from(b) << (c & 63);
                llr[c] = if y { -ch } else { ch };
            }
            for (k, &c) in fc.extra.iter().enumerate() {
                let c = c as usize;
                if k < punct {
                    x[c >> 6] |= u64::from(rng.random_bool(0.5)) << (c & 63);
                } else {
                    llr[c] = KNOWN_LLR;
                }
            }
            let xb = qkd_core::BitBlock::from_words(&x, n).unwrap();
            let syndrome = h.syndrome(&xb).unwrap().words().to_vec();
            Frame { x, llr, syndrome }
        })
        .collect();
    let inputs: Vec<FrameInput<'_>> = frames
        .iter()
        .map(|f| FrameInput {
            llr: &f.llr,
            syndrome: &f.syndrome,
        })
        .collect();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    if !json {
        println!(
            "code: mother idx {idx} (leak rate {:.2}), n = {n}, m = {m}, edges = {}, punctured {punct}, shortened {}, key {block}; built in {code_s:.2} s; loadavg {}",
            cfg.mother_leak_rates[idx],
            h.edges(),
            fc.extra.len() - punct,
            load.trim()
        );
    }

    let kind = MinSumKind::Normalized;
    let mut rows = Vec::new();
    let mut report = |name: &str, out: &[(DecodeResult, Vec<u64>)], wall: f64, cpu: f64| {
        let conv = out.iter().filter(|(r, _)| r.converged).count();
        let wrong = out
            .iter()
            .zip(&frames)
            .filter(|((r, w), f)| r.converged && *w != f.x)
            .count();
        let iters: f64 = out
            .iter()
            .map(|(r, _)| f64::from(r.iterations))
            .sum::<f64>()
            / nframes as f64;
        let fer = 1.0 - conv as f64 / nframes as f64;
        let mbps = (conv * block) as f64 / wall / 1e6;
        let cpu_us = cpu / nframes as f64 * 1e6;
        if json {
            rows.push(format!(
                "{{\"decoder\":\"{name}\",\"block_bits\":{block},\"qber\":{q},\"frames\":{nframes},\"max_iterations\":{max_it},\"fer\":{fer},\"iterations_mean\":{iters:.3},\"wrong_codewords\":{wrong},\"wall_s\":{wall:.4},\"cpu_us_per_frame\":{cpu_us:.1},\"throughput_mbps\":{mbps:.2}}}"
            ));
        } else {
            println!(
                "{name:<22} FER {fer:.4} ({} / {nframes} failed, {wrong} wrong codewords)  iterations {iters:.2}  wall {wall:.3} s  CPU {cpu_us:.0} us/frame  {mbps:.1} Mbit/s",
                nframes - conv
            );
        }
    };

    // i16 layered min-sum, one frame at a time (single core); `--skip-i16` leaves it out.
    let skip_i16 = args.iter().any(|a| a == "--skip-i16");
    let (t, c) = (Instant::now(), cpu_seconds());
    let mut d16 = MinSumDecoder::new(kind);
    let out: Vec<_> = frames
        .iter()
        .take(if skip_i16 { 0 } else { nframes })
        .map(|f| {
            let r = d16.decode(h, &f.llr, &f.syndrome, max_it);
            (r, d16.hard_decision())
        })
        .collect();
    if !skip_i16 {
        report(
            "i16_layered_single",
            &out,
            t.elapsed().as_secs_f64(),
            cpu_seconds() - c,
        );
    }

    for (name, be) in [
        ("i8_fast_portable_1core", Backend::Portable),
        ("i8_fast_avx2_1core", Backend::Avx2),
    ] {
        let Ok(mut d) = FastDecoder::with_backend(kind, be) else {
            continue;
        };
        if be == Backend::Portable && args.iter().any(|a| a == "--skip-portable") {
            continue;
        }
        let (t, c) = (Instant::now(), cpu_seconds());
        let out = d.decode(h, &inputs, max_it).unwrap();
        report(name, &out, t.elapsed().as_secs_f64(), cpu_seconds() - c);
    }
    let (t, c) = (Instant::now(), cpu_seconds());
    let out = decode_frames_fast(h, &inputs, kind, max_it).unwrap();
    report(
        "i8_fast_rayon_all_cores",
        &out,
        t.elapsed().as_secs_f64(),
        cpu_seconds() - c,
    );
    if json {
        println!("[{}]", rows.join(","));
    } else {
        println!(
            "loadavg after: {}",
            std::fs::read_to_string("/proc/loadavg")
                .unwrap_or_default()
                .trim()
        );
    }
}
