//! Finite-key secret length of decoy-state BB84 (Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307
//! (2014)), security parameters, and the expected detection counts of a link for finite-key curves.
//!
//! The key length (Lim 2014, eq. (1); PHYSICS.md):
//!
//! ```text
//! ell = s_X0 + s_X1 (1 - h(phi_X)) - lambda_EC - 6 log2(21 / eps_sec) - log2(2 / eps_cor)
//! ```
//!
//! takes plain numbers: the lower bounds on vacuum and single-photon events `s_X0`, `s_X1` and the
//! upper bound on the single-photon phase error `phi_X` (computed from the counts by qkd-sifting's
//! estimators), the bits actually disclosed by reconciliation `lambda_EC` (read from the
//! [`qkd_core::LeakageLedger`]), and `eps_sec`, `eps_cor`. A negative length is not an error: it is
//! a [`KeyLength`] of zero bits with the reason.

use qkd_core::{LeakageLedger, binary_entropy};
use qkd_sifting::{BasisCounts, DecoyStatistics, SiftingError};

use crate::PrivacyError;
use crate::keyrate::LinkParams;

/// Secrecy and correctness parameters, each in the open interval (0, 1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SecurityParams {
    eps_sec: f64,
    eps_cor: f64,
}

impl Default for SecurityParams {
    /// `eps_sec = 1e-10`, `eps_cor = 1e-15` (the values of Lim et al. 2014, Fig. 2).
    fn default() -> Self {
        Self {
            eps_sec: 1e-10,
            eps_cor: 1e-15,
        }
    }
}

fn check_eps(name: &'static str, value: f64) -> Result<f64, PrivacyError> {
    if value.is_finite() && value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(PrivacyError::InvalidEpsilon { name, value })
    }
}

impl SecurityParams {
    /// Validated security parameters.
    ///
    /// # Errors
    /// [`PrivacyError::InvalidEpsilon`] if either is outside (0, 1).
    pub fn new(eps_sec: f64, eps_cor: f64) -> Result<Self, PrivacyError> {
        Ok(Self {
            eps_sec: check_eps("eps_sec", eps_sec)?,
            eps_cor: check_eps("eps_cor", eps_cor)?,
        })
    }

    /// The secrecy parameter.
    #[must_use]
    pub fn eps_sec(&self) -> f64 {
        self.eps_sec
    }

    /// The correctness parameter.
    #[must_use]
    pub fn eps_cor(&self) -> f64 {
        self.eps_cor
    }
}

/// Why a key length came out as zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum ZeroKeyReason {
    /// The bound is negative: leakage and finite-size terms exceed the extractable entropy.
    NegativeLength,
    /// No single-photon events can be certified (`s_X1 <= 0`).
    NoSinglePhotonEvents,
    /// The phase-error bound is 1/2 or more: Eve may know everything.
    PhaseErrorTooHigh,
}

/// A secret-key length in bits, and why it is zero when it is.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyLength {
    /// Bits of secret key to extract (floor of the bound, never negative).
    pub bits: u64,
    /// The bound before flooring and clamping (may be negative).
    pub raw_bits: f64,
    /// Set when `bits == 0`.
    pub zero_reason: Option<ZeroKeyReason>,
}

/// The inputs of the Lim et al. (2014) key length, as plain numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct FiniteKeyInputs {
    /// Lower bound on vacuum events in the key basis, `s_X0`.
    pub s_x0: f64,
    /// Lower bound on single-photon events in the key basis, `s_X1`.
    pub s_x1: f64,
    /// Upper bound on the single-photon phase error rate, `phi_X`.
    pub phi_x: f64,
    /// Bits disclosed by error correction, `lambda_EC` (from the ledger).
    pub lambda_ec_bits: u64,
    /// Secrecy and correctness parameters.
    pub security: SecurityParams,
}

impl FiniteKeyInputs {
    /// Inputs with `lambda_EC` taken from a reconciliation ledger: every key-dependent bit it
    /// records. If the ledger also holds the confirmation tag, its bits are counted twice (once
    /// here, once in `log2(2/eps_cor)`): conservative by at most the tag length.
    #[must_use]
    pub fn from_ledger(
        s_x0: f64,
        s_x1: f64,
        phi_x: f64,
        ledger: &LeakageLedger,
        security: SecurityParams,
    ) -> Self {
        Self {
            s_x0,
            s_x1,
            phi_x,
            lambda_ec_bits: ledger.disclosed_bits(),
            security,
        }
    }
}

/// The finite-key secret length `ell` of Lim et al. (2014), eq. (1).
///
/// ```
/// use qkd_privacy::finite::{FiniteKeyInputs, SecurityParams, finite_key_length};
/// let len = finite_key_length(&FiniteKeyInputs {
///     s_x0: 1.0e4, s_x1: 4.0e5, phi_x: 0.03, lambda_ec_bits: 60_000,
///     security: SecurityParams::new(1e-10, 1e-15)?,
/// })?;
/// assert!(len.bits > 250_000 && len.zero_reason.is_none());
/// # Ok::<(), qkd_privacy::PrivacyError>(())
/// ```
///
/// # Errors
/// [`PrivacyError::InvalidParameter`] for negative or non-finite counts or a `phi_x` outside
/// `[0, 1]`.
pub fn finite_key_length(inputs: &FiniteKeyInputs) -> Result<KeyLength, PrivacyError> {
    let bad = |name, value, reason| PrivacyError::InvalidParameter {
        name,
        value,
        reason,
    };
    if !inputs.s_x0.is_finite() {
        return Err(bad("s_x0", inputs.s_x0, "must be finite"));
    }
    if !inputs.s_x1.is_finite() {
        return Err(bad("s_x1", inputs.s_x1, "must be finite"));
    }
    if !(inputs.phi_x.is_finite() && (0.0..=1.0).contains(&inputs.phi_x)) {
        return Err(bad("phi_x", inputs.phi_x, "must lie in [0, 1]"));
    }
    let eps = inputs.security;
    // Lower bounds that came out negative certify nothing: use zero.
    let s0 = inputs.s_x0.max(0.0);
    let s1 = inputs.s_x1.max(0.0);
    #[allow(clippy::cast_precision_loss)]
    let lambda = inputs.lambda_ec_bits as f64;
    let raw = s0 + s1 * (1.0 - binary_entropy(inputs.phi_x.min(0.5)))
        - lambda
        - 6.0 * (21.0 / eps.eps_sec).log2()
        - (2.0 / eps.eps_cor).log2();
    if s1 <= 0.0 && raw <= 0.0 {
        return Ok(zero(raw, ZeroKeyReason::NoSinglePhotonEvents));
    }
    if inputs.phi_x >= 0.5 && raw <= 0.0 {
        return Ok(zero(raw, ZeroKeyReason::PhaseErrorTooHigh));
    }
    if raw < 1.0 {
        return Ok(zero(raw, ZeroKeyReason::NegativeLength));
    }
    // The bound is below 2^64 for any physical block; floor is the safe rounding.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let bits = raw.floor() as u64;
    Ok(KeyLength {
        bits,
        raw_bits: raw,
        zero_reason: None,
    })
}

fn zero(raw: f64, reason: ZeroKeyReason) -> KeyLength {
    KeyLength {
        bits: 0,
        raw_bits: raw,
        zero_reason: Some(reason),
    }
}

/// A three-intensity decoy protocol of Lim et al. (2014): intensities `mu1 > mu2 + mu3`,
/// `mu2 > mu3 >= 0`, their probabilities, and the probability `p_x` that each party picks the key
/// basis X.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DecoyProtocol {
    /// Intensities (mean photon numbers) `[mu1, mu2, mu3]`.
    pub mu: [f64; 3],
    /// Probabilities of the intensities (sum to 1).
    pub p_mu: [f64; 3],
    /// Probability of the X (key) basis for each party.
    pub p_x: f64,
}

impl DecoyProtocol {
    /// Checks the ordering and probability constraints.
    ///
    /// # Errors
    /// [`PrivacyError::InvalidParameter`] naming the violated constraint.
    pub fn validate(&self) -> Result<(), PrivacyError> {
        let [m1, m2, m3] = self.mu;
        let bad = |name, value, reason| {
            Err(PrivacyError::InvalidParameter {
                name,
                value,
                reason,
            })
        };
        if !(m3 >= 0.0 && m2 > m3 && m1 > m2 + m3 && m1.is_finite()) {
            return bad("mu1", m1, "need mu1 > mu2 + mu3, mu2 > mu3 >= 0");
        }
        let sum: f64 = self.p_mu.iter().sum();
        if self.p_mu.iter().any(|&p| !(p > 0.0 && p < 1.0)) || (sum - 1.0).abs() > 1e-9 {
            return bad("p_mu", sum, "each in (0, 1), summing to 1");
        }
        if !(self.p_x > 0.0 && self.p_x < 1.0) {
            return bad("p_x", self.p_x, "must lie in (0, 1)");
        }
        Ok(())
    }
}

/// Expected sifted counts per intensity of a link (the input of the decoy estimators).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ExpectedCounts {
    /// Detections in X (both parties chose X) per intensity, `n_{X,k}`.
    pub n_x: [f64; 3],
    /// Errors among them, `m_{X,k}`.
    pub m_x: [f64; 3],
    /// Detections in Z per intensity, `n_{Z,k}`.
    pub n_z: [f64; 3],
    /// Errors among them, `m_{Z,k}`.
    pub m_z: [f64; 3],
}

/// The expected per-intensity counts after `pulses` pulses on a link of `length_km`: the gain and
/// QBER of each intensity ([`LinkParams::gain_and_qber`]) times `pulses * p_k * p_basis^2`.
///
/// # Errors
/// Invalid link or protocol parameters, or a negative / non-finite length or pulse count.
pub fn expected_counts(
    link: &LinkParams,
    protocol: &DecoyProtocol,
    length_km: f64,
    pulses: f64,
) -> Result<ExpectedCounts, PrivacyError> {
    link.validate()?;
    protocol.validate()?;
    if !(length_km.is_finite() && length_km >= 0.0) {
        return Err(PrivacyError::InvalidParameter {
            name: "length_km",
            value: length_km,
            reason: "must be finite and >= 0",
        });
    }
    if !(pulses.is_finite() && pulses > 0.0) {
        return Err(PrivacyError::InvalidParameter {
            name: "pulses",
            value: pulses,
            reason: "must be finite and > 0",
        });
    }
    let mut c = ExpectedCounts {
        n_x: [0.0; 3],
        m_x: [0.0; 3],
        n_z: [0.0; 3],
        m_z: [0.0; 3],
    };
    let (px2, pz2) = (protocol.p_x.powi(2), (1.0 - protocol.p_x).powi(2));
    for k in 0..3 {
        let (q, e) = link.gain_and_qber(protocol.mu[k], length_km);
        let base = pulses * protocol.p_mu[k] * q;
        c.n_x[k] = base * px2;
        c.m_x[k] = base * px2 * e;
        c.n_z[k] = base * pz2;
        c.m_z[k] = base * pz2 * e;
    }
    Ok(c)
}

/// `(s_X0, s_X1, phi_X)` of Lim et al. (2014), eqs. (2)-(5), from expected counts, computed by
/// qkd-sifting's estimator (the same code that bounds a real block), so the analytic curve and a
/// simulated or real link use one implementation. Expected counts are rounded to whole events; a
/// basis without detections gives no single-photon events (`phi_X = 1/2`).
fn lim_bounds(
    p: &DecoyProtocol,
    c: &ExpectedCounts,
    eps_sec: f64,
) -> Result<(f64, f64, f64), PrivacyError> {
    // Expected counts are finite and non-negative (validated inputs); rounding to u64 is the point.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let round = |x: f64| x.max(0.0).round() as u64;
    let counts = |n: &[f64; 3], m: &[f64; 3]| {
        let (n, m) = (n.map(round), m.map(round));
        BasisCounts::new(n, [0, 1, 2].map(|k| m[k].min(n[k])))
    };
    let stats = DecoyStatistics {
        intensities: p.mu,
        probabilities: p.p_mu,
        key: counts(&c.n_x, &c.m_x),
        test: counts(&c.n_z, &c.m_z),
    };
    match stats.lim2014(eps_sec) {
        Ok(b) => Ok((b.s_x0.value, b.s_x1.value, b.phi_x.value)),
        Err(SiftingError::Empty { .. }) => Ok((0.0, 0.0, 0.5)),
        Err(_) => Err(PrivacyError::InvalidParameter {
            name: "decoy protocol",
            value: eps_sec,
            reason: "rejected by the Lim et al. (2014) estimator",
        }),
    }
}

/// Finite-key secret bits per pulse of a link after `pulses` pulses with a given protocol:
/// expected counts, the Lim et al. bounds of qkd-sifting, `lambda_EC = f n_X h(E_X)`, and
/// [`finite_key_length`].
///
/// # Errors
/// Invalid parameters.
pub fn finite_rate_per_pulse(
    link: &LinkParams,
    protocol: &DecoyProtocol,
    security: SecurityParams,
    length_km: f64,
    pulses: f64,
) -> Result<f64, PrivacyError> {
    let c = expected_counts(link, protocol, length_km, pulses)?;
    let (s_x0, s_x1, phi_x) = lim_bounds(protocol, &c, security.eps_sec())?;
    let n_x: f64 = c.n_x.iter().sum();
    let m_x: f64 = c.m_x.iter().sum();
    let e_x = if n_x > 0.0 { m_x / n_x } else { 0.5 };
    let lambda = (link.f_ec * n_x * binary_entropy(e_x)).ceil();
    // lambda is a non-negative count far below 2^64.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let lambda_ec_bits = lambda as u64;
    let len = finite_key_length(&FiniteKeyInputs {
        s_x0,
        s_x1,
        phi_x,
        lambda_ec_bits,
        security,
    })?;
    #[allow(clippy::cast_precision_loss)]
    Ok(len.bits as f64 / pulses)
}

/// The best finite-key rate over a grid of protocol parameters (mu1, mu2, their probabilities and
/// the basis bias; mu3 = 2e-4 as in Lim et al. 2014), with the protocol that achieves it.
///
/// # Errors
/// Invalid parameters.
pub fn optimal_finite_rate(
    link: &LinkParams,
    security: SecurityParams,
    length_km: f64,
    pulses: f64,
) -> Result<(f64, Option<DecoyProtocol>), PrivacyError> {
    let mut best = (0.0, None);
    for mu1 in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        for mu2 in [0.04, 0.08, 0.12, 0.16, 0.2, 0.25] {
            for p1 in [0.5, 0.6, 0.7, 0.8, 0.9] {
                for split in [0.5, 0.7, 0.85] {
                    for p_x in [0.5, 0.7, 0.8, 0.9, 0.95, 0.98] {
                        let rest: f64 = 1.0 - p1;
                        let protocol = DecoyProtocol {
                            mu: [mu1, mu2, 2e-4],
                            p_mu: [p1, rest * split, rest * (1.0 - split)],
                            p_x,
                        };
                        let r =
                            finite_rate_per_pulse(link, &protocol, security, length_km, pulses)?;
                        if r > best.0 {
                            best = (r, Some(protocol));
                        }
                    }
                }
            }
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(s_x1: f64, phi: f64, lambda: u64) -> FiniteKeyInputs {
        FiniteKeyInputs {
            s_x0: 0.0,
            s_x1,
            phi_x: phi,
            lambda_ec_bits: lambda,
            security: SecurityParams::default(),
        }
    }

    #[test]
    fn formula_by_hand() {
        // ell = s1 (1 - h(0.05)) - lambda - 6 log2(21e10) - log2(2e15)
        let len = finite_key_length(&inputs(1e6, 0.05, 100_000)).unwrap();
        let want = 1e6 * (1.0 - binary_entropy(0.05))
            - 100_000.0
            - 6.0 * (21.0e10f64).log2()
            - (2.0e15f64).log2();
        assert!((len.raw_bits - want).abs() < 1e-6);
        assert!((len.bits as f64 - want.floor()).abs() < 0.5);
    }

    #[test]
    fn negative_lengths_are_zero_with_a_reason() {
        let len = finite_key_length(&inputs(1e3, 0.05, 10_000)).unwrap();
        assert_eq!(
            (len.bits, len.zero_reason),
            (0, Some(ZeroKeyReason::NegativeLength))
        );
        let len = finite_key_length(&inputs(0.0, 0.05, 0)).unwrap();
        assert_eq!(len.zero_reason, Some(ZeroKeyReason::NoSinglePhotonEvents));
        let len = finite_key_length(&inputs(1e4, 0.5, 0)).unwrap();
        assert_eq!(len.zero_reason, Some(ZeroKeyReason::PhaseErrorTooHigh));
    }

    #[test]
    fn eps_outside_unit_interval_is_an_error() {
        for bad in [0.0, 1.0, -1e-3, 2.0, f64::NAN] {
            assert!(matches!(
                SecurityParams::new(bad, 1e-15),
                Err(PrivacyError::InvalidEpsilon {
                    name: "eps_sec",
                    ..
                })
            ));
            assert!(matches!(
                SecurityParams::new(1e-10, bad),
                Err(PrivacyError::InvalidEpsilon {
                    name: "eps_cor",
                    ..
                })
            ));
        }
        assert!(finite_key_length(&inputs(f64::NAN, 0.1, 0)).is_err());
        assert!(finite_key_length(&inputs(1.0, 1.5, 0)).is_err());
    }

    #[test]
    fn ledger_supplies_lambda_ec() {
        let mut ledger = LeakageLedger::new();
        ledger.record("ldpc.syndrome", qkd_core::Party::Alice, 5000, 5000);
        ledger.record("ldpc.ack", qkd_core::Party::Bob, 1, 0);
        let i = FiniteKeyInputs::from_ledger(0.0, 1e5, 0.02, &ledger, SecurityParams::default());
        assert_eq!(i.lambda_ec_bits, 5000);
    }

    #[test]
    fn finite_rates_rise_towards_the_asymptotic_one() {
        // SNSPD link at 50 km; efficient BB84 (q -> 1) is the limit of the biased-basis protocol.
        let link = LinkParams::snspd();
        let eps = SecurityParams::default();
        let mut last = 0.0;
        for pulses in [1e8, 1e9, 1e10, 1e12] {
            let (r, _) = optimal_finite_rate(&link, eps, 50.0, pulses).unwrap();
            assert!(r > last, "{pulses}: {r} <= {last}");
            last = r;
        }
        let asym = LinkParams {
            q_sift: 1.0,
            ..link
        }
        .optimal_rate(50.0)
        .1;
        assert!(
            last < asym && last > 0.5 * asym,
            "finite {last} vs asymptotic {asym}"
        );
    }

    #[test]
    fn protocol_constraints() {
        let ok = DecoyProtocol {
            mu: [0.5, 0.1, 2e-4],
            p_mu: [0.8, 0.1, 0.1],
            p_x: 0.9,
        };
        assert!(ok.validate().is_ok());
        assert!(
            DecoyProtocol {
                mu: [0.1, 0.1, 0.0],
                ..ok
            }
            .validate()
            .is_err()
        );
        assert!(
            DecoyProtocol {
                p_mu: [0.8, 0.1, 0.2],
                ..ok
            }
            .validate()
            .is_err()
        );
        let c = expected_counts(&LinkParams::snspd(), &ok, 0.0, 1e6).unwrap();
        // Expected counts add up: X and Z detections are p_x^2 and (1-p_x)^2 of the gains.
        assert!(c.n_x[0] > c.n_z[0] && c.m_x[0] < c.n_x[0]);
    }
}
