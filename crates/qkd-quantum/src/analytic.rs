//! Closed-form gains and error rates of decoy-state BB84 (PHYSICS.md), to compare simulations with.
//!
//! The memoryless formulas of Lo, Ma, Chen, PRL 94, 230504 (2005) and Ma, Qi, Zhao, Lo, PRA 72,
//! 012326 (2005), Eqs. (1)-(9) of the latter, with `eta` the total transmittance including detector
//! efficiency, `Y0` the background yield and `e_d` the misalignment:
//!
//! ```text
//! Y_n       = 1 - (1 - Y0)(1 - eta)^n
//! Q_mu      = Y0 + 1 - exp(-eta mu)
//! E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu)),  e0 = 1/2
//! ```
//!
//! [`two_detector`] gives the exact click and error probabilities of the simulator's own model (two
//! detectors with independent backgrounds, double clicks assigned at random), of which the lines
//! above are the first-order approximation; the two agree to `O(Y0 eta mu)` and `O(e_d eta mu)`.
//!
//! ```
//! use qkd_quantum::analytic::{gain, qber};
//! // GYS at 50 km: eta = 0.045 * 10^(-1.05), Y0 = 1.7e-6, e_d = 3.3 %.
//! let eta = 0.045 * 10f64.powf(-0.21 * 50.0 / 10.0);
//! let q = gain(0.5, eta, 1.7e-6);
//! assert!((q - 2.0e-3).abs() < 1e-4);
//! assert!(qber(0.5, eta, 1.7e-6, 0.033) < 0.034);
//! ```

use crate::config::{Eavesdropper, LinkConfig};
use crate::error::{QuantumError, check_non_negative, check_probability};

/// Error rate of a background click, `e0 = 1/2`.
pub const E0: f64 = 0.5;

/// Transmittance of `loss_db`: `10^(-loss/10)`.
#[must_use]
pub fn transmittance_from_loss_db(loss_db: f64) -> f64 {
    10f64.powf(-loss_db / 10.0)
}

/// Transmittance of a fiber, `10^(-alpha L / 10)` (PHYSICS.md).
///
/// # Errors
/// [`QuantumError::InvalidParameter`] for a negative or non-finite length or attenuation.
pub fn fiber_transmittance(length_km: f64, alpha_db_per_km: f64) -> Result<f64, QuantumError> {
    check_non_negative("length_km", length_km)?;
    check_non_negative("alpha_db_per_km", alpha_db_per_km)?;
    Ok(transmittance_from_loss_db(length_km * alpha_db_per_km))
}

/// Click probability of `n` noise photons per gate, `1 - exp(-n)` (PHYSICS.md).
#[must_use]
pub fn noise_click_probability(noise_photons_per_gate: f64) -> f64 {
    -(-noise_photons_per_gate).exp_m1()
}

/// Background yield `Y0` of two detectors each with dark-count probability `d` per gate plus
/// `n` noise photons per gate split between them: `1 - (1 - d)^2 exp(-n)` (~ `2d + n`).
#[must_use]
pub fn background_yield(dark_probability_per_detector: f64, noise_photons_per_gate: f64) -> f64 {
    1.0 - (1.0 - dark_probability_per_detector).powi(2) * (-noise_photons_per_gate).exp()
}

/// n-photon yield `Y_n = 1 - (1 - Y0)(1 - eta)^n`.
#[must_use]
pub fn n_photon_yield(n: u32, eta: f64, y0: f64) -> f64 {
    1.0 - (1.0 - y0) * (1.0 - eta).powi(i32::try_from(n).unwrap_or(i32::MAX))
}

/// Gain `Q_mu = Y0 + 1 - exp(-eta mu)`.
#[must_use]
pub fn gain(mu: f64, eta: f64, y0: f64) -> f64 {
    y0 - (-eta * mu).exp_m1()
}

/// Error gain `E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu))`.
#[must_use]
pub fn error_gain(mu: f64, eta: f64, y0: f64, e_d: f64) -> f64 {
    E0 * y0 - e_d * (-eta * mu).exp_m1()
}

/// QBER `E_mu = error_gain / gain` (1/2 when the gain is zero).
#[must_use]
pub fn qber(mu: f64, eta: f64, y0: f64, e_d: f64) -> f64 {
    let q = gain(mu, eta, y0);
    if q > 0.0 {
        error_gain(mu, eta, y0, e_d) / q
    } else {
        E0
    }
}

/// Single-photon yield `Y1 = Y0 + eta - Y0 eta`.
#[must_use]
pub fn single_photon_yield(eta: f64, y0: f64) -> f64 {
    y0 + eta - y0 * eta
}

/// Single-photon error rate `e1 = (e0 Y0 + e_d eta) / Y1`.
#[must_use]
pub fn single_photon_error(eta: f64, y0: f64, e_d: f64) -> f64 {
    (E0 * y0 + e_d * eta) / single_photon_yield(eta, y0)
}

/// Single-photon gain `Q1 = Y1 mu exp(-mu)`.
#[must_use]
pub fn single_photon_gain(mu: f64, eta: f64, y0: f64) -> f64 {
    single_photon_yield(eta, y0) * mu * (-mu).exp()
}

/// Vacuum + weak decoy lower bound on `Y1` (Ma, Qi, Zhao, Lo 2005, Eq. (34); PHYSICS.md):
/// `Y1_L = mu/(mu nu - nu^2) (Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Y0)`.
///
/// # Errors
/// [`QuantumError::MuOrdering`] unless `mu > nu > 0`.
pub fn decoy_y1_lower(
    mu: f64,
    nu: f64,
    q_mu: f64,
    q_nu: f64,
    y0: f64,
) -> Result<f64, QuantumError> {
    if !(mu > nu && nu > 0.0) {
        return Err(QuantumError::MuOrdering {
            signal: mu,
            decoy: nu,
            vacuum: 0.0,
        });
    }
    Ok(mu / (mu * nu - nu * nu)
        * (q_nu * nu.exp()
            - q_mu * mu.exp() * nu * nu / (mu * mu)
            - (mu * mu - nu * nu) / (mu * mu) * y0))
}

/// Upper bound on `e1` from the weak decoy: `e1_U = (E_nu Q_nu e^nu - e0 Y0) / (Y1_L nu)`.
#[must_use]
pub fn decoy_e1_upper(nu: f64, q_nu: f64, e_nu: f64, y0: f64, y1_lower: f64) -> f64 {
    (e_nu * q_nu * nu.exp() - E0 * y0) / (y1_lower * nu)
}

/// Click and error probabilities per pulse of the simulator's two-detector model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TwoDetectorPrediction {
    /// Probability that at least one detector clicks (the gain `Q`).
    pub gain: f64,
    /// Probability of a double click.
    pub double_click: f64,
    /// Probability, for matching bases, that Bob's bit is wrong (double clicks count 1/2).
    pub error_gain: f64,
}

impl TwoDetectorPrediction {
    /// QBER `error_gain / gain`.
    #[must_use]
    pub fn qber(&self) -> f64 {
        if self.gain > 0.0 {
            self.error_gain / self.gain
        } else {
            E0
        }
    }
}

/// Exact memoryless prediction for a coherent pulse of mean `mu` reaching two detectors with total
/// transmittance `eta`, misalignment `e_d` (photons reach the wrong detector with probability
/// `e_d`), and independent background click probability `b` per detector: the correct detector
/// fires with `1 - (1-b) exp(-eta mu (1 - e_d))`, the wrong one with `1 - (1-b) exp(-eta mu e_d)`
/// (Poisson splitting), and a double click is a random bit.
///
/// # Errors
/// [`QuantumError::InvalidProbability`] for `eta`, `e_d` or `b` outside `[0, 1]`;
/// [`QuantumError::InvalidParameter`] for a negative `mu`.
pub fn two_detector(
    mu: f64,
    eta: f64,
    e_d: f64,
    b: f64,
) -> Result<TwoDetectorPrediction, QuantumError> {
    check_non_negative("mu", mu)?;
    check_probability("eta", eta)?;
    check_probability("e_d", e_d)?;
    check_probability("background probability", b)?;
    let right = 1.0 - (1.0 - b) * (-eta * mu * (1.0 - e_d)).exp();
    let wrong = 1.0 - (1.0 - b) * (-eta * mu * e_d).exp();
    let double = right * wrong;
    Ok(TwoDetectorPrediction {
        gain: right + wrong - double,
        double_click: double,
        error_gain: wrong * (1.0 - right) + 0.5 * double,
    })
}

/// The PHYSICS.md prediction for each intensity class of `config` (memoryless detectors, no
/// eavesdropper except a fiber tap, which multiplies the transmittance by `1 - fraction`):
/// `[(gain, qber); 3]` for signal, decoy, vacuum.
///
/// # Errors
/// Any error of [`LinkConfig::validate`].
pub fn predict(config: &LinkConfig) -> Result<[(f64, f64); 3], QuantumError> {
    config.validate()?;
    let (eta, y0, e_d) = link_parameters(config);
    let s = &config.source;
    Ok(
        [s.mu_signal, s.mu_decoy, s.mu_vacuum]
            .map(|mu| (gain(mu, eta, y0), qber(mu, eta, y0, e_d))),
    )
}

/// `(eta, Y0, e_d)` of a link: the PHYSICS.md parameters derived from the configs.
#[must_use]
pub fn link_parameters(config: &LinkConfig) -> (f64, f64, f64) {
    let det = config.detector.per_slot(config.source.rate_hz);
    let tap = match config.eavesdropper {
        Eavesdropper::FiberTap { fraction } => 1.0 - fraction,
        _ => 1.0,
    };
    let eta = config.channel.transmittance * det.efficiency * tap;
    let y0 = background_yield(det.dark_probability, config.channel.noise_photons_per_gate);
    (eta, y0, config.channel.misalignment)
}

/// Asymptotic secret bits per pulse, GLLP with decoy states (PHYSICS.md):
/// `R = q (Q1 (1 - h(e1)) - f Q_mu h(E_mu))`, clamped at zero.
#[must_use]
pub fn asymptotic_key_rate(mu: f64, eta: f64, y0: f64, e_d: f64, f: f64, q: f64) -> f64 {
    use qkd_core::binary_entropy as h;
    let q1 = single_photon_gain(mu, eta, y0);
    let e1 = single_photon_error(eta, y0, e_d);
    let r = q * (q1 * (1.0 - h(e1)) - f * gain(mu, eta, y0) * h(qber(mu, eta, y0, e_d)));
    r.max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_consistent() {
        let (eta, y0, ed) = (0.01, 1e-6, 0.02);
        // Q_mu = sum_n Y_n e^-mu mu^n / n! (Lo-Ma-Chen Eq. (2)).
        let mu = 0.6f64;
        let mut sum = 0.0;
        let mut p = (-mu).exp();
        for n in 0..40u32 {
            if n > 0 {
                p *= mu / f64::from(n);
            }
            sum += p * n_photon_yield(n, eta, y0);
        }
        // The Poisson sum is exactly 1 - (1 - Y0) e^{-eta mu}; PHYSICS.md's Q_mu drops the
        // second-order term Y0 (1 - e^{-eta mu}).
        let second_order = -y0 * (-eta * mu).exp_m1();
        assert!((gain(mu, eta, y0) - sum - second_order).abs() < 1e-15);
        assert!((n_photon_yield(1, eta, y0) - single_photon_yield(eta, y0)).abs() < 1e-15);
        let two = two_detector(mu, eta, ed, y0 / 2.0).unwrap();
        assert!((two.gain - gain(mu, eta, y0)).abs() / gain(mu, eta, y0) < 1e-3);
        assert!((two.qber() - qber(mu, eta, y0, ed)).abs() / qber(mu, eta, y0, ed) < 1e-2);
        assert_eq!(noise_click_probability(0.0), 0.0);
        assert!((background_yield(0.0, 1e-3) - noise_click_probability(1e-3)).abs() < 1e-15);
    }

    #[test]
    fn decoy_bound_is_below_true_y1_and_tight() {
        let (eta, y0, ed) = (0.045 * 10f64.powf(-0.21 * 40.0 / 10.0), 1.7e-6, 0.033);
        let (mu, nu) = (0.48, 0.05);
        let y1l = decoy_y1_lower(mu, nu, gain(mu, eta, y0), gain(nu, eta, y0), y0).unwrap();
        let y1 = single_photon_yield(eta, y0);
        assert!(y1l <= y1 && y1l > 0.9 * y1, "{y1l} vs {y1}");
        let e1u = decoy_e1_upper(nu, gain(nu, eta, y0), qber(nu, eta, y0, ed), y0, y1l);
        assert!(e1u >= single_photon_error(eta, y0, ed));
        assert!(decoy_y1_lower(0.1, 0.2, 0.0, 0.0, 0.0).is_err());
    }

    /// PHYSICS.md "modern set": 1 GHz, eta_bob 0.6, Y0 1e-7, e_d 1 %, f 1.16, optimised mu:
    /// ~0.77 Mb/s at 100 km and ~7.4 kb/s at 200 km. These figures hold for q = 1/2 (symmetric
    /// BB84 sifting); with q = 1 they double (we measured 1.53 Mb/s at 100 km).
    #[test]
    fn modern_set_key_rates() {
        let rate = |l: f64| {
            let eta = 0.6 * 10f64.powf(-0.2 * l / 10.0);
            (1..200)
                .map(|i| asymptotic_key_rate(f64::from(i) * 0.005, eta, 1e-7, 0.01, 1.16, 0.5))
                .fold(0.0, f64::max)
                * 1e9
        };
        let r100 = rate(100.0);
        let r200 = rate(200.0);
        assert!((r100 / 0.77e6 - 1.0).abs() < 0.05, "{r100}");
        assert!((r200 / 7.4e3 - 1.0).abs() < 0.1, "{r200}");
    }
}
