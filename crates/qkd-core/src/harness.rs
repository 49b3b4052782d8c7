//! A seeded benchmark harness for reconciliation: many frames of one algorithm at one QBER.
//!
//! Used by `qkd reconcile`, the criterion benches and the statistical tests of every reconciliation
//! crate, so that Cascade and LDPC are measured by the same code: the same frames (same seed, same
//! error model), the same ledger-derived efficiency, the same clock around the protocol only (key
//! generation and error injection are not timed).

use std::time::{Duration, Instant};

use rand::{Rng, RngExt};

use crate::reconcile::{DynReconciler, ReconcileError, ReconcileParams};
use crate::{BitBlock, Qber, derive_seed, sim_rng};

/// How errors are placed in Bob's copy of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ErrorModel {
    /// Each bit flips independently with probability Q (a binary symmetric channel): the number of
    /// errors per frame is binomial. What a real link produces.
    #[default]
    Bernoulli,
    /// Exactly `round(Q n)` bits flip, at uniformly random positions.
    Exact,
}

/// One sweep point.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepConfig {
    /// The channel QBER used to make the frames.
    pub qber: Qber,
    /// The QBER estimate handed to the algorithm; `None` means the channel QBER.
    pub estimated_qber: Option<Qber>,
    /// Frame length in bits.
    pub block_bits: usize,
    /// Number of frames.
    pub frames: usize,
    /// Seed of the frames and of the protocol seeds.
    pub seed: u64,
    /// How errors are placed.
    pub error_model: ErrorModel,
}

/// Aggregate figures of a sweep point. Field names are the stable JSON names of `qkd reconcile`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SweepSummary {
    /// Algorithm name.
    pub algorithm: String,
    /// Channel QBER (fraction, not percent).
    pub qber: f64,
    /// QBER estimate given to the algorithm.
    pub estimated_qber: f64,
    /// Frame length in bits.
    pub block_bits: usize,
    /// Frames run.
    pub frames: usize,
    /// Mean of f = disclosed / (n h(true frame QBER)) over frames with at least one error.
    pub efficiency_mean: f64,
    /// Sample standard deviation of f.
    pub efficiency_std: f64,
    /// Standard error of `efficiency_mean`.
    pub efficiency_stderr: f64,
    /// Mean of disclosed / (n h(estimated QBER)).
    pub efficiency_estimated_mean: f64,
    /// Frame error rate: frames not reconciled (a party failed, or confirmation caught residual
    /// errors) plus frames with undetected errors, over all frames.
    pub fer: f64,
    /// 95 % Wilson score interval of the FER, `[low, high]`.
    pub fer_ci95: [f64; 2],
    /// Frames where both parties succeeded but the keys differ (undetected by confirmation).
    pub undetected_frames: usize,
    /// Mean messages per frame.
    pub messages_mean: f64,
    /// Mean round trips per frame.
    pub round_trips_mean: f64,
    /// Mean decoder iterations per frame (iterative decoders only).
    pub iterations_mean: Option<f64>,
    /// Reconciled key bits per second of protocol time (successful frames only), in Mbit/s.
    pub throughput_mbps: f64,
    /// Protocol wall time per frame, in seconds.
    pub seconds_per_frame: f64,
}

/// Alice's random frame and Bob's noisy copy.
#[must_use]
pub fn noisy_pair<R: Rng + ?Sized>(
    block_bits: usize,
    qber: Qber,
    model: ErrorModel,
    rng: &mut R,
) -> (BitBlock, BitBlock) {
    let alice = BitBlock::random(block_bits, rng);
    let mut errors = BitBlock::zeros(block_bits);
    let q = qber.value();
    match model {
        ErrorModel::Bernoulli => {
            if q >= 1.0 {
                errors.with_words_mut(|w| w.iter_mut().for_each(|x| *x = u64::MAX));
            } else if q > 0.0 {
                // Geometric skip-ahead: gaps between errors are Geometric(q), so the cost is one
                // random number per error, not per bit.
                let ln_keep = (1.0 - q).ln();
                let mut pos = 0usize;
                loop {
                    let u: f64 = rng.random();
                    // u in [0,1): 1 - u in (0,1], so the log is finite.
                    let gap = ((1.0 - u).ln() / ln_keep).floor();
                    if gap.is_nan() || gap >= (block_bits - pos) as f64 {
                        break;
                    }
                    // gap < block_bits - pos, so the cast is exact and in range.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let gap = gap as usize;
                    pos += gap;
                    // pos < block_bits by the check above.
                    let _ = errors.flip(pos);
                    pos += 1;
                    if pos >= block_bits {
                        break;
                    }
                }
            }
        }
        ErrorModel::Exact => {
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let k = ((q * block_bits as f64).round() as usize).min(block_bits);
            // Floyd's algorithm: k distinct positions with k random draws.
            for j in block_bits - k..block_bits {
                let t = rng.random_range(0..=j);
                let pos = if errors.get(t) == Some(true) { j } else { t };
                let _ = errors.set(pos, true);
            }
        }
    }
    let mut bob = alice.clone();
    // Same lengths by construction.
    let _ = bob.xor_assign(&errors);
    (alice, bob)
}

/// `count` seeded frames (Alice's key, Bob's noisy copy) of `block_bits` bits: frame `i` from
/// `derive_seed(seed, "bench frame", i)`. The shared frame set of the reconciliation benches, so
/// Cascade's own bench and the workspace's Cascade-versus-LDPC bench measure the same frames.
#[must_use]
pub fn frame_set(
    block_bits: usize,
    qber: Qber,
    model: ErrorModel,
    count: usize,
    seed: u64,
) -> Vec<(BitBlock, BitBlock)> {
    (0..count)
        .map(|i| {
            let mut rng = sim_rng(derive_seed(seed, "bench frame", i as u64));
            noisy_pair(block_bits, qber, model, &mut rng)
        })
        .collect()
}

/// Runs `config.frames` frames of `algorithm`; `progress` is called with the number of frames done.
///
/// Frame `i` uses keys from `derive_seed(seed, "frame", i)` and the protocol seed
/// `derive_seed(seed, "protocol", i)`, so a sweep is reproducible and frames are independent.
///
/// # Errors
/// [`ReconcileError`] if the algorithm rejects the configuration or a protocol breaks (a failed
/// frame is counted, not an error).
pub fn sweep(
    algorithm: &dyn DynReconciler,
    config: &SweepConfig,
    mut progress: impl FnMut(usize),
) -> Result<SweepSummary, ReconcileError> {
    if config.frames == 0 || config.block_bits == 0 {
        return Err(ReconcileError::InvalidConfig(
            "a sweep needs at least one frame of at least one bit".into(),
        ));
    }
    let estimated = config.estimated_qber.unwrap_or(config.qber);
    let mut effs = Vec::with_capacity(config.frames);
    let mut eff_est_sum = 0.0;
    let (mut failed, mut undetected, mut ok_frames) = (0usize, 0usize, 0usize);
    let (mut messages, mut round_trips) = (0usize, 0usize);
    let (mut iter_sum, mut iter_n) = (0u64, 0usize);
    let mut elapsed = Duration::ZERO;
    for i in 0..config.frames {
        let mut rng = sim_rng(derive_seed(config.seed, "frame", i as u64));
        let (a, b) = noisy_pair(config.block_bits, config.qber, config.error_model, &mut rng);
        let params =
            ReconcileParams::new(estimated, derive_seed(config.seed, "protocol", i as u64));
        let t0 = Instant::now();
        let run = algorithm.run_in_process(a, b, &params)?;
        elapsed += t0.elapsed();
        let r = run.report;
        if let Some(f) = r.efficiency {
            effs.push(f);
        }
        eff_est_sum += r.efficiency_estimated.unwrap_or(0.0);
        if !r.success {
            failed += 1;
        } else if r.undetected_error {
            undetected += 1;
        } else {
            ok_frames += 1;
        }
        messages += r.messages;
        round_trips += r.round_trips;
        if let Some(it) = r.iterations {
            iter_sum += u64::from(it);
            iter_n += 1;
        }
        progress(i + 1);
    }
    #[allow(clippy::cast_precision_loss)]
    let summary = {
        let nf = config.frames as f64;
        let (mean, std) = mean_std(&effs);
        let stderr = if effs.len() > 1 {
            std / (effs.len() as f64).sqrt()
        } else {
            f64::NAN
        };
        let bad = failed + undetected;
        let secs = elapsed.as_secs_f64();
        SweepSummary {
            algorithm: algorithm.name(),
            qber: config.qber.value(),
            estimated_qber: estimated.value(),
            block_bits: config.block_bits,
            frames: config.frames,
            efficiency_mean: mean,
            efficiency_std: std,
            efficiency_stderr: stderr,
            efficiency_estimated_mean: eff_est_sum / nf,
            fer: bad as f64 / nf,
            fer_ci95: wilson_interval(bad, config.frames),
            undetected_frames: undetected,
            messages_mean: messages as f64 / nf,
            round_trips_mean: round_trips as f64 / nf,
            iterations_mean: (iter_n > 0).then(|| iter_sum as f64 / iter_n as f64),
            throughput_mbps: if secs > 0.0 {
                (ok_frames * config.block_bits) as f64 / secs / 1e6
            } else {
                0.0
            },
            seconds_per_frame: secs / nf,
        }
    };
    Ok(summary)
}

/// Mean and sample standard deviation (NaN for empty input; std NaN for one value).
#[must_use]
pub fn mean_std(xs: &[f64]) -> (f64, f64) {
    if xs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    #[allow(clippy::cast_precision_loss)]
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// 95 % Wilson score interval for `k` successes in `n` trials.
#[must_use]
pub fn wilson_interval(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    const Z: f64 = 1.959_963_984_540_054;
    #[allow(clippy::cast_precision_loss)]
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let denom = 1.0 + Z * Z / n;
    let centre = (p + Z * Z / (2.0 * n)) / denom;
    let half = Z * ((p * (1.0 - p) + Z * Z / (4.0 * n)) / n).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss
)]
mod tests {
    use super::*;

    /// The Bernoulli model's error count over many frames matches n Q within 5 standard errors:
    /// the count over F frames of n bits is Binomial(F n, Q), sd = sqrt(F n Q (1-Q)).
    #[test]
    fn bernoulli_errors_have_the_right_rate() {
        let q = Qber::new(0.03).unwrap();
        let (n, frames) = (10_000usize, 50usize);
        let mut total = 0usize;
        for i in 0..frames {
            let mut rng = sim_rng(i as u64);
            let (a, b) = noisy_pair(n, q, ErrorModel::Bernoulli, &mut rng);
            total += a.hamming_distance(&b).unwrap();
        }
        let trials = (n * frames) as f64;
        let mean = trials * 0.03;
        let sd = (trials * 0.03 * 0.97).sqrt();
        assert!(
            (total as f64 - mean).abs() < 5.0 * sd,
            "{total} vs {mean} ± {sd}"
        );
    }

    #[test]
    fn exact_model_places_exactly_round_qn_errors() {
        for (n, q) in [
            (10_000usize, 0.02),
            (1000, 0.5),
            (37, 0.1),
            (5, 1.0),
            (5, 0.0),
        ] {
            let mut rng = sim_rng(9);
            let (a, b) = noisy_pair(n, Qber::new(q).unwrap(), ErrorModel::Exact, &mut rng);
            let want = (q * n as f64).round() as usize;
            assert_eq!(a.hamming_distance(&b).unwrap(), want, "n={n} q={q}");
        }
    }

    #[test]
    fn wilson_interval_brackets_the_rate() {
        let [lo, hi] = wilson_interval(0, 1000);
        assert!(lo < 1e-12);
        assert!(hi > 0.0 && hi < 0.005);
        let [lo, hi] = wilson_interval(50, 100);
        assert!(lo < 0.5 && hi > 0.5);
    }

    #[test]
    fn mean_std_values() {
        let (m, s) = mean_std(&[1.0, 2.0, 3.0]);
        assert!((m - 2.0).abs() < 1e-12 && (s - 1.0).abs() < 1e-12);
        assert!(mean_std(&[]).0.is_nan());
    }
}
