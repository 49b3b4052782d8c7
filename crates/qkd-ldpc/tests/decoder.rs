//! Decoder tests: fixed point vs float, batch vs single, syndrome constraints.

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use qkd_core::{BitBlock, sim_rng};
use qkd_ldpc::decoder::{LLR_SCALE, channel_llr};
use qkd_ldpc::{
    BatchDecoder, CodeSpec, FrameInput, MinSumDecoder, MinSumKind, decode_frames, decode_spa,
};
use rand::RngExt;

fn frame(h: &qkd_ldpc::SparseMatrix, q: f64, seed: u64) -> (BitBlock, Vec<i16>, BitBlock) {
    let mut rng = sim_rng(seed);
    let x = BitBlock::random(h.cols(), &mut rng);
    let mut y = x.clone();
    for i in 0..h.cols() {
        if rng.random_bool(q) {
            y.flip(i).unwrap();
        }
    }
    let l = channel_llr(q);
    let llr = y.iter().map(|b| if b { -l } else { l }).collect();
    (x.clone(), llr, h.syndrome(&x).unwrap())
}

#[test]
fn fixed_point_float_and_batch_agree_on_easy_frames() {
    let code = CodeSpec {
        min_length: 3000,
        leak_rate: 0.5,
        seed: 1,
    }
    .build()
    .unwrap();
    let h = &code.h;
    let frames: Vec<_> = (0..20).map(|i| frame(h, 0.03, i)).collect();
    let inputs: Vec<FrameInput<'_>> = frames
        .iter()
        .map(|(_, l, s)| FrameInput {
            llr: l,
            syndrome: s.words(),
        })
        .collect();
    let batch = decode_frames(h, &inputs, MinSumKind::Normalized, 50);
    let mut single = MinSumDecoder::new(MinSumKind::Normalized);
    for (i, (x, llr, s)) in frames.iter().enumerate() {
        let r = single.decode(h, llr, s.words(), 50);
        assert!(r.converged);
        assert_eq!(single.hard_decision(), x.words());
        let f: Vec<f64> = llr.iter().map(|&v| f64::from(v) / LLR_SCALE).collect();
        let (rs, ws) = decode_spa(h, &f, s.words(), 50);
        assert!(rs.converged);
        assert_eq!(ws, x.words());
        assert!(batch[i].0.converged);
        assert_eq!(batch[i].1, x.words());
        // Layered min-sum and the batch path run the same schedule: same iteration count.
        assert_eq!(batch[i].0.iterations, r.iterations);
    }
    // Partial batch (fewer frames than lanes).
    let mut d = BatchDecoder::new(MinSumKind::Offset { offset: 4 });
    let out = d.decode(h, &inputs[..3], 50);
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|(r, _)| r.converged));
}

#[test]
fn zero_error_pattern_decodes_in_zero_iterations() {
    let code = CodeSpec {
        min_length: 2000,
        leak_rate: 0.3,
        seed: 4,
    }
    .build()
    .unwrap();
    let h = &code.h;
    for seed in 0..5 {
        let (x, _, s) = frame(h, 0.0, seed);
        let l = channel_llr(0.05);
        let llr: Vec<i16> = x.iter().map(|b| if b { -l } else { l }).collect();
        let mut d = MinSumDecoder::new(MinSumKind::Normalized);
        let r = d.decode(h, &llr, s.words(), 30);
        assert_eq!((r.converged, r.iterations), (true, 0));
        let f: Vec<f64> = llr.iter().map(|&v| f64::from(v)).collect();
        assert_eq!(decode_spa(h, &f, s.words(), 30).0.iterations, 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// A converged decision always satisfies the syndrome, whatever the noise.
    #[test]
    fn converged_means_syndrome_satisfied(seed in any::<u64>(), q in 0.01f64..0.2) {
        let code = CodeSpec { min_length: 600, leak_rate: 0.4, seed: 2 }.build().unwrap();
        let h = &code.h;
        let (_, llr, s) = frame(h, q, seed);
        let mut d = MinSumDecoder::new(MinSumKind::Normalized);
        let r = d.decode(h, &llr, s.words(), 30);
        if r.converged {
            let w = d.hard_decision();
            let word = BitBlock::from_words(&w, h.cols()).unwrap();
            prop_assert_eq!(h.syndrome(&word).unwrap(), s);
        }
    }
}
