//! Secret-key rates: the asymptotic decoy-state (GLLP) rate with optimised signal intensity, the
//! PLOB bound, and key-rate curves versus distance.
//!
//! Formulas (PHYSICS.md, "Decoy-state BB84 with weak coherent pulses"; Lo, Ma, Chen, PRL 94,
//! 230504 (2005), eqs. (1)-(5); Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005), section II):
//!
//! ```text
//! eta  = eta_bob 10^(-alpha L / 10)
//! Q_mu = Y0 + 1 - exp(-eta mu),   E_mu Q_mu = e0 Y0 + e_d (1 - exp(-eta mu)),  e0 = 1/2
//! Y1 = Y0 + eta - Y0 eta,   e1 = (e0 Y0 + e_d eta) / Y1,   Q1 = Y1 mu exp(-mu)
//! R  = q ( Q1 (1 - h(e1)) - f Q_mu h(E_mu) )      secret bits per pulse
//! ```
//!
//! With infinitely many decoys (Y1, e1 known exactly), maximised over the signal intensity mu.
//! The PLOB bound (Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017), eq. (6))
//! is `-log2(1 - eta_ch)` secret bits per channel use for a pure-loss channel of transmittance
//! `eta_ch`; we take `eta_ch` as the fiber transmittance alone (the detector is Bob's trusted
//! device), which is the larger, more permissive bound.

use qkd_core::{binary_entropy, presets::gys};

use crate::PrivacyError;

/// Parameters of a decoy-state BB84 link for the analytic key rate.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LinkParams {
    /// Fiber attenuation in dB/km.
    pub alpha_db_per_km: f64,
    /// Bob's transmittance including detector efficiency (0, 1].
    pub eta_bob: f64,
    /// Background (dark-count) yield per pulse, Y0.
    pub y0: f64,
    /// Misalignment error probability e_d.
    pub e_d: f64,
    /// Reconciliation efficiency f (leaked bits / (n h(QBER))), >= 1.
    pub f_ec: f64,
    /// Sifting factor q (1/2 for symmetric BB84, close to 1 for efficient BB84).
    pub q_sift: f64,
    /// Pulse repetition rate in Hz (to turn bits per pulse into bits per second).
    pub rep_rate_hz: f64,
}

impl Default for LinkParams {
    fn default() -> Self {
        Self::snspd()
    }
}

impl LinkParams {
    /// GYS (Gobby, Yuan, Shields 2004, as used by Lo-Ma-Chen 2005): 0.21 dB/km, eta_bob 4.5 %,
    /// Y0 = 1.7e-6, e_d = 3.3 %, f = 1.22, q = 1/2, 2 MHz (the rate does not affect the cut-off).
    #[must_use]
    pub fn gys() -> Self {
        Self {
            alpha_db_per_km: gys::ATTENUATION_DB_PER_KM,
            eta_bob: gys::ETA_BOB,
            y0: gys::Y0,
            e_d: gys::MISALIGNMENT,
            f_ec: gys::F_EC,
            q_sift: 0.5,
            rep_rate_hz: 2e6,
        }
    }

    /// A modern SNSPD link (PHYSICS.md): 0.2 dB/km, eta_bob 60 %, Y0 = 1e-7, e_d = 1 %, f = 1.16,
    /// q = 1/2, 1 GHz.
    #[must_use]
    pub fn snspd() -> Self {
        Self {
            alpha_db_per_km: 0.2,
            eta_bob: 0.6,
            y0: 1e-7,
            e_d: 0.01,
            f_ec: 1.16,
            q_sift: 0.5,
            rep_rate_hz: 1e9,
        }
    }

    /// A builder starting from the SNSPD set.
    #[must_use]
    pub fn builder() -> LinkParamsBuilder {
        LinkParamsBuilder {
            params: Self::snspd(),
        }
    }

    /// Checks every field's domain.
    ///
    /// # Errors
    /// [`PrivacyError::InvalidParameter`] naming the first field out of range.
    pub fn validate(&self) -> Result<(), PrivacyError> {
        let bad = |name, value, reason| {
            Err(PrivacyError::InvalidParameter {
                name,
                value,
                reason,
            })
        };
        let in_01 = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        if !(self.alpha_db_per_km.is_finite() && self.alpha_db_per_km >= 0.0) {
            return bad(
                "alpha_db_per_km",
                self.alpha_db_per_km,
                "must be finite and >= 0",
            );
        }
        if !in_01(self.eta_bob) {
            return bad("eta_bob", self.eta_bob, "must lie in (0, 1]");
        }
        if !(self.y0.is_finite() && (0.0..1.0).contains(&self.y0)) {
            return bad("y0", self.y0, "must lie in [0, 1)");
        }
        if !(self.e_d.is_finite() && (0.0..=0.5).contains(&self.e_d)) {
            return bad("e_d", self.e_d, "must lie in [0, 0.5]");
        }
        if !(self.f_ec.is_finite() && self.f_ec >= 1.0) {
            return bad("f_ec", self.f_ec, "must be finite and >= 1");
        }
        if !in_01(self.q_sift) {
            return bad("q_sift", self.q_sift, "must lie in (0, 1]");
        }
        if !(self.rep_rate_hz.is_finite() && self.rep_rate_hz > 0.0) {
            return bad("rep_rate_hz", self.rep_rate_hz, "must be finite and > 0");
        }
        Ok(())
    }

    /// Fiber transmittance `10^(-alpha L / 10)` over `length_km`.
    #[must_use]
    pub fn fiber_transmittance(&self, length_km: f64) -> f64 {
        10f64.powf(-self.alpha_db_per_km * length_km / 10.0)
    }

    /// Total transmittance eta (fiber and Bob) over `length_km`.
    #[must_use]
    pub fn transmittance(&self, length_km: f64) -> f64 {
        self.eta_bob * self.fiber_transmittance(length_km)
    }

    /// Gain `Q_mu` and QBER `E_mu` of signals of mean photon number `mu` after `length_km`.
    #[must_use]
    pub fn gain_and_qber(&self, mu: f64, length_km: f64) -> (f64, f64) {
        let eta = self.transmittance(length_km);
        let detect = -(-eta * mu).exp_m1();
        let q = self.y0 + detect - self.y0 * detect;
        let eq = 0.5 * self.y0 + self.e_d * detect;
        (q, if q > 0.0 { eq / q } else { 0.5 })
    }

    /// Asymptotic secret bits per pulse at signal intensity `mu` (may be negative: no key).
    #[must_use]
    pub fn rate_per_pulse(&self, mu: f64, length_km: f64) -> f64 {
        let eta = self.transmittance(length_km);
        let y1 = self.y0 + eta - self.y0 * eta;
        let e1 = ((0.5 * self.y0 + self.e_d * eta) / y1).min(0.5);
        let q1 = y1 * mu * (-mu).exp();
        let (q_mu, e_mu) = self.gain_and_qber(mu, length_km);
        self.q_sift * (q1 * (1.0 - binary_entropy(e1)) - self.f_ec * q_mu * binary_entropy(e_mu))
    }

    /// The signal intensity that maximises the asymptotic rate at `length_km`, and that rate in
    /// bits per pulse (clamped at zero when no intensity gives a key).
    #[must_use]
    pub fn optimal_rate(&self, length_km: f64) -> (f64, f64) {
        // Coarse log grid over (1e-4, 2], then golden-section refinement around the best point:
        // R(mu) is smooth and unimodal on that range for every physical parameter set.
        const GRID: usize = 120;
        let (lo, hi) = (1e-4f64, 2.0f64);
        let at = |k: usize| {
            #[allow(clippy::cast_precision_loss)]
            let t = k as f64 / GRID as f64;
            lo * (hi / lo).powf(t)
        };
        let mut best = 0usize;
        let mut best_r = f64::NEG_INFINITY;
        for k in 0..=GRID {
            let r = self.rate_per_pulse(at(k), length_km);
            if r > best_r {
                best_r = r;
                best = k;
            }
        }
        let (mut a, mut b) = (at(best.saturating_sub(1)), at((best + 1).min(GRID)));
        let g = (5f64.sqrt() - 1.0) / 2.0;
        let f = |mu: f64| self.rate_per_pulse(mu, length_km);
        let (mut c, mut d) = (b - g * (b - a), a + g * (b - a));
        let (mut fc, mut fd) = (f(c), f(d));
        for _ in 0..80 {
            if fc > fd {
                b = d;
                d = c;
                fd = fc;
                c = b - g * (b - a);
                fc = f(c);
            } else {
                a = c;
                c = d;
                fc = fd;
                d = a + g * (b - a);
                fd = f(d);
            }
        }
        let mu = 0.5 * (a + b);
        let r = f(mu).max(best_r);
        let mu = if f(mu) >= best_r { mu } else { at(best) };
        (mu, r.max(0.0))
    }

    /// The distance in km at which the optimised asymptotic rate vanishes (bisection to 1 m).
    #[must_use]
    pub fn max_distance_km(&self) -> f64 {
        let (mut lo, mut hi) = (0.0f64, 2000.0f64);
        if self.optimal_rate(lo).1 <= 0.0 {
            return 0.0;
        }
        while hi - lo > 1e-3 {
            let mid = 0.5 * (lo + hi);
            if self.optimal_rate(mid).1 > 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

/// Builder of [`LinkParams`]; `build()` validates.
#[derive(Debug, Clone)]
pub struct LinkParamsBuilder {
    params: LinkParams,
}

impl LinkParamsBuilder {
    /// Fiber attenuation in dB/km.
    #[must_use]
    pub fn alpha_db_per_km(mut self, v: f64) -> Self {
        self.params.alpha_db_per_km = v;
        self
    }
    /// Bob's transmittance including detector efficiency.
    #[must_use]
    pub fn eta_bob(mut self, v: f64) -> Self {
        self.params.eta_bob = v;
        self
    }
    /// Background yield Y0 per pulse.
    #[must_use]
    pub fn y0(mut self, v: f64) -> Self {
        self.params.y0 = v;
        self
    }
    /// Misalignment error e_d.
    #[must_use]
    pub fn e_d(mut self, v: f64) -> Self {
        self.params.e_d = v;
        self
    }
    /// Reconciliation efficiency f.
    #[must_use]
    pub fn f_ec(mut self, v: f64) -> Self {
        self.params.f_ec = v;
        self
    }
    /// Sifting factor q.
    #[must_use]
    pub fn q_sift(mut self, v: f64) -> Self {
        self.params.q_sift = v;
        self
    }
    /// Pulse rate in Hz.
    #[must_use]
    pub fn rep_rate_hz(mut self, v: f64) -> Self {
        self.params.rep_rate_hz = v;
        self
    }
    /// The validated parameters.
    ///
    /// # Errors
    /// As [`LinkParams::validate`].
    pub fn build(self) -> Result<LinkParams, PrivacyError> {
        self.params.validate()?;
        Ok(self.params)
    }
}

/// The PLOB bound `-log2(1 - eta)` in secret bits per channel use for transmittance `eta`.
#[must_use]
pub fn plob_bits_per_use(eta: f64) -> f64 {
    if eta >= 1.0 {
        f64::INFINITY
    } else {
        -(-eta).ln_1p() / std::f64::consts::LN_2
    }
}

/// One point of a key-rate curve.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyRatePoint {
    /// Fiber length in km.
    pub length_km: f64,
    /// Optimal signal intensity (mean photon number).
    pub mu_opt: f64,
    /// Asymptotic secret bits per pulse.
    pub asymptotic_bits_per_pulse: f64,
    /// Asymptotic secret key rate in bit/s.
    pub asymptotic_bps: f64,
    /// Asymptotic bits per pulse of efficient BB84 (q -> 1, heavily biased basis choice): the
    /// limit that the finite-key curve (biased bases, Lim et al. 2014) approaches as blocks grow.
    pub efficient_bits_per_pulse: f64,
    /// PLOB bound in bits per channel use (fiber transmittance; infinite, `null` in JSON, at
    /// zero loss).
    pub plob_bits_per_use: f64,
    /// PLOB bound in bit/s at the pulse rate.
    pub plob_bps: f64,
    /// Finite-key secret bits per pulse for the requested block size, if computed.
    pub finite_bits_per_pulse: Option<f64>,
    /// Finite-key rate in bit/s, if computed.
    pub finite_bps: Option<f64>,
}

/// The asymptotic and PLOB key-rate curve at the given distances.
///
/// # Errors
/// Invalid link parameters or a negative / non-finite distance.
pub fn key_rate_curve(
    params: &LinkParams,
    distances_km: &[f64],
) -> Result<Vec<KeyRatePoint>, PrivacyError> {
    params.validate()?;
    distances_km
        .iter()
        .map(|&length_km| {
            if !(length_km.is_finite() && length_km >= 0.0) {
                return Err(PrivacyError::InvalidParameter {
                    name: "length_km",
                    value: length_km,
                    reason: "must be finite and >= 0",
                });
            }
            let (mu_opt, r) = params.optimal_rate(length_km);
            let plob = plob_bits_per_use(params.fiber_transmittance(length_km));
            let efficient = LinkParams {
                q_sift: 1.0,
                ..params.clone()
            }
            .optimal_rate(length_km)
            .1;
            Ok(KeyRatePoint {
                length_km,
                mu_opt,
                asymptotic_bits_per_pulse: r,
                asymptotic_bps: r * params.rep_rate_hz,
                efficient_bits_per_pulse: efficient,
                plob_bits_per_use: plob,
                plob_bps: plob * params.rep_rate_hz,
                finite_bits_per_pulse: None,
                finite_bps: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn gys_curve_vanishes_at_142_to_143_km() {
        // Lo, Ma, Chen (2005), Fig. 1: infinite decoys with GYS parameters reach ~142 km.
        let d = LinkParams::gys().max_distance_km();
        assert!((142.0..=143.0).contains(&d), "cut-off at {d} km");
    }

    #[test]
    fn snspd_table_within_one_percent() {
        // PHYSICS.md: 50 Mb/s at 10 km, 7.7 Mb/s at 50 km, 0.77 Mb/s at 100 km, 7.4 kb/s at 200 km.
        let p = LinkParams::snspd();
        for (l, want) in [(10.0, 50e6), (50.0, 7.7e6), (100.0, 0.77e6), (200.0, 7.4e3)] {
            let got = p.optimal_rate(l).1 * p.rep_rate_hz;
            assert!(
                (got / want - 1.0).abs() < 0.01,
                "{l} km: {got} b/s vs {want}"
            );
        }
        let d = p.max_distance_km();
        assert!((270.0..=290.0).contains(&d), "SNSPD cut-off {d} km");
    }

    #[test]
    fn plob_reference_values() {
        // -log2(1 - 1/2) = 1; small eta: ~ 1.44 eta.
        assert!((plob_bits_per_use(0.5) - 1.0).abs() < 1e-12);
        assert!((plob_bits_per_use(1e-6) / 1e-6 - std::f64::consts::LOG2_E).abs() < 1e-5);
    }

    #[test]
    fn builder_validates() {
        assert!(LinkParams::builder().eta_bob(1.5).build().is_err());
        assert!(LinkParams::builder().f_ec(0.9).build().is_err());
        assert!(LinkParams::builder().y0(-1.0).build().is_err());
        assert!(LinkParams::builder().e_d(0.02).build().is_ok());
        assert!(key_rate_curve(&LinkParams::gys(), &[-1.0]).is_err());
    }

    proptest! {
        #[test]
        fn no_rate_exceeds_plob(
            alpha in 0.15f64..0.4, eta_bob in 0.01f64..=1.0, y0 in 0.0f64..1e-3,
            e_d in 0.0f64..0.1, f_ec in 1.0f64..1.5, q in 0.05f64..=1.0, l in 0.0f64..400.0,
            mu in 1e-4f64..2.0,
        ) {
            let p = LinkParams { alpha_db_per_km: alpha, eta_bob, y0, e_d, f_ec, q_sift: q, rep_rate_hz: 1e9 };
            let plob = plob_bits_per_use(p.fiber_transmittance(l));
            prop_assert!(p.rate_per_pulse(mu, l) <= plob);
            prop_assert!(p.optimal_rate(l).1 <= plob);
        }
    }
}
