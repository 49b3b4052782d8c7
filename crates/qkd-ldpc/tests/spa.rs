//! Layered sum-product: agreement with the flooding reference, zero pattern, determinism,
//! warm restarts, and the FER it reaches against the reference on the same frames.

// Test and bench helpers panic on setup errors by design.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use qkd_core::{BitBlock, sim_rng};
use qkd_ldpc::{CodeSpec, LayeredSpa, LdpcCode, decode_spa};
use rand::RngExt;

fn code(n: usize, leak: f64, seed: u64) -> LdpcCode {
    CodeSpec {
        min_length: n,
        leak_rate: leak,
        seed,
    }
    .build()
    .unwrap()
}

/// Alice's word, Bob's exact channel LLRs (nats) and Alice's syndrome words.
fn frame(h: &qkd_ldpc::SparseMatrix, q: f64, seed: u64) -> (BitBlock, Vec<f64>, Vec<u64>) {
    let mut rng = sim_rng(seed);
    let x = BitBlock::random(h.cols(), &mut rng);
    let l = ((1.0 - q) / q).ln();
    let llr = x
        .iter()
        .map(|b| if b ^ rng.random_bool(q) { -l } else { l })
        .collect();
    let s = h.syndrome(&x).unwrap().words().to_vec();
    (x, llr, s)
}

fn decoded_equals(words: &[u64], x: &BitBlock) -> bool {
    (0..x.len()).all(|i| ((words[i >> 6] >> (i & 63)) & 1 == 1) == x.get(i).unwrap())
}

#[test]
fn layered_agrees_with_flooding_on_easy_frames() {
    let c = code(2048, 0.3, 5);
    let mut dec = LayeredSpa::default();
    for seed in 0..20 {
        let (x, llr, s) = frame(&c.h, 0.03, seed);
        let (fr, fw) = decode_spa(&c.h, &llr, &s, 100);
        let lr = dec.start(&c.h, &llr, &s, 100);
        assert!(fr.converged && lr.converged, "frame {seed}");
        assert!(decoded_equals(&fw, &x) && decoded_equals(&dec.hard_decision(), &x));
        // Layered needs at most as many iterations as flooding, give or take one.
        assert!(lr.iterations <= fr.iterations + 1, "{lr:?} vs {fr:?}");
    }
}

#[test]
fn zero_error_pattern_takes_zero_iterations() {
    let c = code(2048, 0.3, 6);
    let (x, _, s) = frame(&c.h, 0.03, 1);
    let l = (0.97f64 / 0.03).ln();
    let llr: Vec<f64> = x.iter().map(|b| if b { -l } else { l }).collect();
    let r = LayeredSpa::default().start(&c.h, &llr, &s, 50);
    assert!(r.converged);
    assert_eq!(r.iterations, 0);
}

/// On the same 120 frames near the code's waterfall (f = 1.13 at n = 2048), layered decoding
/// with the same iteration budget fails no more often than flooding, up to a paired margin:
/// frames where only layered fails must not exceed those where only flooding fails by more than
/// 2 sqrt(discordant) + 2 (a McNemar-style bound; the layered schedule is the better one).
#[test]
fn layered_fer_not_worse_than_flooding() {
    let c = code(2048, 0.3, 7);
    let mut dec = LayeredSpa::default();
    let (mut only_layered, mut only_flooding, mut both) = (0u32, 0u32, 0u32);
    for seed in 0..120 {
        let (x, llr, s) = frame(&c.h, 0.045, 1000 + seed);
        let (fr, fw) = decode_spa(&c.h, &llr, &s, 60);
        let lr = dec.start(&c.h, &llr, &s, 60);
        let f_ok = fr.converged && decoded_equals(&fw, &x);
        let l_ok = lr.converged && decoded_equals(&dec.hard_decision(), &x);
        match (f_ok, l_ok) {
            (true, false) => only_layered += 1,
            (false, true) => only_flooding += 1,
            (false, false) => both += 1,
            (true, true) => {}
        }
    }
    let discordant = f64::from(only_layered + only_flooding);
    assert!(
        f64::from(only_layered) <= f64::from(only_flooding) + 2.0 * discordant.sqrt() + 2.0,
        "layered-only failures {only_layered}, flooding-only {only_flooding}, both {both}"
    );
    // The point is near the waterfall: some frames must fail, or the test measures nothing.
    assert!(only_layered + only_flooding + both > 0);
}

/// A warm restart after revealing punctured symbols decodes to Alice's word, and needs fewer
/// iterations than decoding the revealed frame from scratch needs in total.
#[test]
fn warm_restart_after_reveal_decodes() {
    let c = code(4096, 0.3, 8);
    let h = &c.h;
    let mut dec = LayeredSpa::default();
    let mut cold = LayeredSpa::default();
    let mut warm_total = 0u32;
    let mut cold_total = 0u32;
    for seed in 0..6 {
        let (x, mut llr, s) = frame(h, 0.04, 2000 + seed);
        // Puncture 12 % of the symbols: too many to decode at this QBER.
        let punct: Vec<usize> = (0..h.cols()).step_by(8).collect();
        for &v in &punct {
            llr[v] = 0.0;
        }
        let first = dec.start(h, &llr, &s, 20);
        warm_total += first.iterations;
        // Reveal all punctured symbols (as the blind protocol does, in one round here).
        for &v in &punct {
            let known = if x.get(v).unwrap() { -600.0 } else { 600.0 };
            dec.set_llr(v, known);
            llr[v] = known;
        }
        let second = dec.run(h, &s, 100);
        warm_total += second.iterations;
        assert!(second.converged, "frame {seed}");
        assert!(decoded_equals(&dec.hard_decision(), &x), "frame {seed}");
        cold_total += cold.start(h, &llr, &s, 100).iterations;
    }
    assert!(
        warm_total <= 20 * 6 + cold_total,
        "warm {warm_total} vs cold {cold_total}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]
    /// Same inputs, same result and decision, also after reusing the decoder for another frame.
    #[test]
    fn decoding_is_deterministic(seed in any::<u64>()) {
        let c = code(1024, 0.35, 9);
        let (_, llr, s) = frame(&c.h, 0.05, seed);
        let (_, llr2, s2) = frame(&c.h, 0.06, seed ^ 1);
        let mut a = LayeredSpa::default();
        let ra = a.start(&c.h, &llr, &s, 40);
        let mut b = LayeredSpa::default();
        b.start(&c.h, &llr2, &s2, 40);
        let rb = b.start(&c.h, &llr, &s, 40);
        prop_assert_eq!(ra, rb);
        prop_assert_eq!(a.hard_decision(), b.hard_decision());
        prop_assert_eq!(a.posteriors(), b.posteriors());
    }

    /// A converged decision satisfies the syndrome.
    #[test]
    fn converged_means_syndrome_met(seed in any::<u64>()) {
        let c = code(1024, 0.35, 10);
        let (_, llr, s) = frame(&c.h, 0.05, seed);
        let mut d = LayeredSpa::default();
        let r = d.start(&c.h, &llr, &s, 40);
        if r.converged {
            let words = d.hard_decision();
            let bits: BitBlock = (0..c.h.cols()).map(|i| (words[i >> 6] >> (i & 63)) & 1 == 1).collect();
            let got = c.h.syndrome(&bits).unwrap();
            prop_assert_eq!(got.words(), &s[..]);
        }
    }
}
