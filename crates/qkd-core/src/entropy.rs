//! Binary entropy and the one definition of reconciliation efficiency.

use crate::{CoreError, Qber};

/// Binary (Shannon) entropy `h(p) = -p log2 p - (1-p) log2 (1-p)` in bits, with `h(0) = h(1) = 0`.
///
/// Values outside `[0, 1]` are clamped to the interval, so the function never returns NaN for a
/// finite input; validate probabilities with [`Qber::new`] where they come from outside.
#[must_use]
pub fn binary_entropy(p: f64) -> f64 {
    let p = if p.is_nan() { 0.5 } else { p.clamp(0.0, 1.0) };
    if p <= 0.0 || p >= 1.0 {
        return 0.0;
    }
    -p * p.log2() - (1.0 - p) * (1.0 - p).log2()
}

/// Reconciliation efficiency `f = disclosed / (n h(Q))` (PHYSICS.md, "one definition, everywhere").
///
/// `disclosed_bits` is everything the protocol disclosed on the public channel (parities, syndromes,
/// revealed bits, confirmation tags), as measured by the [`crate::LeakageLedger`]; `frame_bits` is `n`;
/// `qber` the true QBER of the frame (or the estimate, for the estimated-QBER figure).
///
/// ```
/// use qkd_core::{reconciliation_efficiency, Qber};
/// // 1,500 bits disclosed on a 10,000-bit frame at 2 % QBER: f = 1500 / (10000 * 0.1414) ~ 1.06
/// let f = reconciliation_efficiency(1500, 10_000, Qber::new(0.02)?)?;
/// assert!((f - 1.0607).abs() < 1e-3);
/// # Ok::<(), qkd_core::CoreError>(())
/// ```
///
/// # Errors
/// [`CoreError::InvalidArgument`] if `frame_bits` is zero or `h(Q)` is zero (the efficiency of a
/// frame without errors is undefined).
pub fn reconciliation_efficiency(
    disclosed_bits: u64,
    frame_bits: usize,
    qber: Qber,
) -> Result<f64, CoreError> {
    let h = qber.entropy();
    if frame_bits == 0 || h <= 0.0 {
        return Err(CoreError::InvalidArgument {
            reason: format!(
                "efficiency undefined for n = {frame_bits}, QBER = {}",
                qber.value()
            ),
        });
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(disclosed_bits as f64 / (frame_bits as f64 * h))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// h(QBER) at 1/2/5/8/10 % from RECONCILIATION.md: 0.0808, 0.1414, 0.2864, 0.4022, 0.4690.
    #[test]
    fn reference_entropies() {
        for (q, h) in [
            (0.01, 0.0808),
            (0.02, 0.1414),
            (0.05, 0.2864),
            (0.08, 0.4022),
            (0.10, 0.4690),
        ] {
            assert!((binary_entropy(q) - h).abs() < 5e-5, "h({q})");
        }
        assert_eq!(binary_entropy(0.0), 0.0);
        assert_eq!(binary_entropy(1.0), 0.0);
        assert!((binary_entropy(0.5) - 1.0).abs() < 1e-15);
        assert!(!binary_entropy(f64::NAN).is_nan());
    }

    #[test]
    fn efficiency_rejects_degenerate_frames() {
        let q = Qber::new(0.0).unwrap();
        assert!(reconciliation_efficiency(10, 100, q).is_err());
        assert!(reconciliation_efficiency(10, 0, Qber::new(0.1).unwrap()).is_err());
    }
}
