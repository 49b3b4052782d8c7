//! Decoy-state bounds on the vacuum and single-photon contributions.
//!
//! Weak coherent pulses carry 0, 1, 2, ... photons with Poisson statistics; only single-photon
//! detections yield secret key (multi-photon pulses are open to photon-number splitting). Alice
//! varies the intensity of her pulses at random; because an eavesdropper cannot tell which
//! intensity a pulse had, the yields `Y_n` are the same for every intensity, and the observed
//! counts per intensity bound the single-photon contribution.
//!
//! Three bounds are implemented, with the notation of Lim et al. (X = the key basis, Z = the test
//! basis; in qkd-core's efficient BB84 the key basis is usually [`qkd_core::Basis::Z`], so "X" here
//! means "whichever basis the key is made of"):
//!
//! - [`GainStatistics::vacuum_weak`]: asymptotic vacuum + weak decoy, Ma, Qi, Zhao, Lo,
//!   PRA 72, 012326 (2005), Eqs. (34) and (37): `Y1_L`, `e1_U` from gains and error rates.
//! - [`DecoyStatistics::lim2014`]: finite-key two-decoy bounds, Lim, Curty, Walenta, Xu, Zbinden,
//!   PRA 89, 022307 (2014), Eqs. (2)-(5) and the Hoeffding corrections `n±_{X,k}` of its appendix:
//!   `s_{X,0}`, `s_{X,1}`, `s_{Z,1}`, `v_{Z,1}`, and the phase-error bound `φ_X` with `γ`.
//! - [`DecoyStatistics::rusca2018`]: finite-key one-decoy bounds, Rusca, Boaron, Grünenfelder,
//!   Martin, Zbinden, APL 112, 171104 (2018), Appendix A, Eqs. (A16), (A17), (A19), (A22), (A23).
//!   Checked against the paper: (A18) as printed omits the `e^k/p_k` factor that (A10) and Lim et
//!   al. require; we use `n±_{X,k} = (e^k/p_k)(n_{X,k} ± δ(n_X, ε₁))`. The vacuum events are
//!   bounded from above (A16, with the decoy intensity `k = μ₂` as in the paper) because no vacuum
//!   intensity is sent.
//!
//! # Failure probabilities
//!
//! Each finite-key bound holds except with a stated probability. Every one-sided Hoeffding
//! deviation `δ(n, ε₁) = sqrt(n/2 · ln(1/ε₁))` fails with probability `ε₁`: `ε₁ = ε_sec/21` for
//! Lim et al. (their `ln(21/ε_sec)`) and `ε₁ = ε_sec/19` for Rusca et al. (their Eq. (A24) with all
//! error terms equal). The `γ` term of `φ_X` fails with probability `ε_sec/21` in both (the
//! `21²/a²` of Lim's Eq. (5), conservative for Rusca's `19`). A bound's
//! [`Bound::failure_probability`] is `ε₁` times the number of distinct one-sided deviation events
//! it relies on (a union bound), and [`DecoyBounds::eps`] is that of `φ_X`, which relies on all of
//! them. These are the parameter-estimation terms of the protocol's `ε_sec`; the remaining terms
//! (smoothing, privacy amplification) belong to the key-length computation (qkd-privacy).

use qkd_core::{IntensityClass, binary_entropy};

use crate::error::{SiftingError, check_eps, check_range};

/// Number of intensity classes ([`IntensityClass::ALL`]).
pub const CLASSES: usize = 3;

/// Detections and errors per intensity class in one basis, indexed by [`IntensityClass::index`].
///
/// `detections[k]` is `n_{·,k}`: sifted events in this basis with intensity `k`; `errors[k]` is
/// `m_{·,k}`: those where Alice's and Bob's bits differ. For the test basis every bit is disclosed
/// and the errors are exact; for the key basis the errors are known exactly after error correction
/// (the number of bits corrected) or estimated from the disclosed sample before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BasisCounts {
    /// Sifted detections per intensity class.
    pub detections: [u64; CLASSES],
    /// Errors per intensity class.
    pub errors: [u64; CLASSES],
}

impl BasisCounts {
    /// Counts for one basis.
    #[must_use]
    pub fn new(detections: [u64; CLASSES], errors: [u64; CLASSES]) -> Self {
        Self { detections, errors }
    }

    /// `n = Σ_k n_k`.
    #[must_use]
    pub fn total_detections(&self) -> u64 {
        self.detections.iter().sum()
    }

    /// `m = Σ_k m_k`.
    #[must_use]
    pub fn total_errors(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Error rate of class `class` (`None` without detections).
    #[must_use]
    pub fn error_rate(&self, class: IntensityClass) -> Option<f64> {
        let i = class.index();
        (self.detections[i] > 0).then(|| crate::stats::ratio(self.errors[i], self.detections[i]))
    }

    fn validate(&self, what: &'static str) -> Result<(), SiftingError> {
        for k in 0..CLASSES {
            if self.errors[k] > self.detections[k] {
                return Err(SiftingError::InvalidParameter {
                    name: what,
                    reason: format!(
                        "class {k}: {} errors in {} detections",
                        self.errors[k], self.detections[k]
                    ),
                });
            }
        }
        if self.total_detections() == 0 {
            return Err(SiftingError::Empty { what });
        }
        Ok(())
    }
}

/// What the finite-key decoy bounds need: intensities, their probabilities and the counts of both
/// bases.
///
/// Class order follows [`IntensityClass`]: index 0 = signal `μ₁`, 1 = decoy `μ₂`, 2 = vacuum (or
/// weakest decoy) `μ₃`. For the one-decoy protocol set `probabilities[2] = 0` and leave the vacuum
/// counts at zero.
///
/// ```
/// use qkd_sifting::{ChannelModel, DecoyStatistics};
/// // Expected counts of a 25 km GYS link with 1e10 pulses sifted into each basis.
/// let (intensities, probabilities) = ([0.5, 0.1, 0.0], [0.7, 0.2, 0.1]);
/// let counts = ChannelModel::gys(25.0).expected_counts(1e10, &intensities, &probabilities);
/// let stats = DecoyStatistics { intensities, probabilities, key: counts, test: counts };
/// let b = stats.lim2014(1e-10)?;
/// assert!(b.s_x1.value > 0.0 && b.phi_x.value < 0.1);
/// assert!(b.eps < 1e-10);
/// # Ok::<(), qkd_sifting::SiftingError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DecoyStatistics {
    /// Mean photon numbers `μ_k` per class.
    pub intensities: [f64; CLASSES],
    /// Probabilities `p_k` that Alice sends class `k` (summing to 1).
    pub probabilities: [f64; CLASSES],
    /// Counts in the key basis (X in Lim et al.).
    pub key: BasisCounts,
    /// Counts in the test basis (Z in Lim et al.).
    pub test: BasisCounts,
}

/// Which finite-key decoy analysis to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum DecoyMethod {
    /// Signal + two decoys (one may be vacuum): Lim et al. 2014.
    #[default]
    TwoDecoy,
    /// Signal + one decoy, no vacuum: Rusca et al. 2018.
    OneDecoy,
}

/// A bound and the probability that it does not hold.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Bound {
    /// The bound (a count for `s`, `v`; a rate for `φ`).
    pub value: f64,
    /// Probability that the true quantity violates the bound.
    pub failure_probability: f64,
}

/// Finite-key decoy-state bounds, in the notation of Lim et al. (X = key basis, Z = test basis).
///
/// This is what the secret-key length needs (Lim et al. Eq. (1)):
/// `ℓ = s_{X,0} + s_{X,1}(1 - h(φ_X)) - λ_EC - 6 log2(21/ε_sec) - log2(2/ε_cor)`
/// (Rusca et al.: `19` instead of `21`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DecoyBounds {
    /// The analysis that produced the bounds.
    pub method: DecoyMethod,
    /// Lower bound on vacuum detections in the key basis, `s_{X,0}`.
    pub s_x0: Bound,
    /// Lower bound on single-photon detections in the key basis, `s_{X,1}`.
    pub s_x1: Bound,
    /// Lower bound on single-photon detections in the test basis, `s_{Z,1}`.
    pub s_z1: Bound,
    /// Upper bound on single-photon errors in the test basis, `v_{Z,1}`.
    pub v_z1: Bound,
    /// Upper bound on the phase-error rate of the key basis' single-photon events, `φ_X`, clamped
    /// to `[0, 1/2]` (1/2: no secrecy from single photons).
    pub phi_x: Bound,
    /// The security parameter the bounds were computed for.
    pub eps_sec: f64,
    /// Failure probability of one Hoeffding deviation (`ε_sec/21` or `ε_sec/19`).
    pub eps_event: f64,
    /// Probability that any of the bounds fails (the union; equal to `phi_x.failure_probability`).
    pub eps: f64,
}

impl DecoyBounds {
    /// `s_{X,1} / n_{X}`-free single-photon error rate bound `v_{Z,1}/s_{Z,1}` (1/2 if `s_{Z,1} = 0`).
    #[must_use]
    pub fn e_z1(&self) -> f64 {
        if self.s_z1.value > 0.0 {
            (self.v_z1.value / self.s_z1.value).min(0.5)
        } else {
            0.5
        }
    }
}

/// A single-photon lower bound (`s_{X,1}` or `s_{Z,1}`, a count), not clamped at zero, with the
/// central value of the observed counts and its standard error
/// ([`DecoyStatistics::single_photon_spread`]).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct SinglePhotonSpread {
    /// The bound (before clamping at zero).
    pub lower: f64,
    /// The central value (Hoeffding deviations zero): the asymptotic bound of the observed rates.
    pub central: f64,
    /// Standard error of the central value from the Poisson spread of the counts.
    pub std_error: f64,
}

impl SinglePhotonSpread {
    /// Standard errors below zero at which the central value counts as inconsistent with
    /// photon-number-independent yields (5: a one-sided normal tail of 2.9e-7).
    pub const INCONSISTENT_SIGMAS: f64 = 5.0;

    /// True if the central value lies more than [`Self::INCONSISTENT_SIGMAS`] standard errors
    /// below zero: the counts contradict photon-number-independent yields, whatever the block
    /// size.
    #[must_use]
    pub fn is_inconsistent(&self) -> bool {
        self.central + Self::INCONSISTENT_SIGMAS * self.std_error < 0.0
    }

    /// By how much the block (all counts at the same rates) must grow for the bound to turn
    /// positive: the counts scale as `t` and the deviations as `sqrt(t)`, so the bound at scale
    /// `t` is about `t·central - sqrt(t)·(central - lower)`, positive for
    /// `t > ((central - lower)/central)²`. `Some(1.0)` if the bound is already positive, `None`
    /// if the central value is not positive (no block size certifies single photons at these
    /// rates). An estimate: the `max(0, ·)` on `s0` inside the bound makes it only roughly linear.
    #[must_use]
    pub fn scale_to_certify(&self) -> Option<f64> {
        if self.lower > 0.0 {
            Some(1.0)
        } else if self.central > 0.0 {
            let r = (self.central - self.lower) / self.central;
            Some(r * r)
        } else {
            None
        }
    }
}

/// Count shifts (detections `n`, errors `m` per class) for derivatives of the bounds.
#[derive(Default)]
struct Shift {
    n: [f64; CLASSES],
    m: [f64; CLASSES],
}

/// Total probability of emitting `n` photons: `τ_n = Σ_k p_k e^{-μ_k} μ_k^n / n!`.
#[must_use]
pub fn tau(n: u32, intensities: &[f64; CLASSES], probabilities: &[f64; CLASSES]) -> f64 {
    let fact: f64 = (1..=n).map(f64::from).product();
    intensities
        .iter()
        .zip(probabilities)
        .map(|(&mu, &p)| {
            let mun = if n == 0 {
                1.0
            } else {
                mu.powi(n.cast_signed())
            };
            p * (-mu).exp() * mun / fact
        })
        .sum()
}

/// `γ(a, b, c, d)` of Lim et al. Eq. (5), written with the failure probability `eps_gamma = a/21`:
/// `sqrt((c+d)(1-b)b/(c d ln 2) · log2((c+d)/(c d (1-b) b) / eps_gamma²))`, 0 where the logarithm
/// is not positive or `b ∉ (0, 1)`.
#[must_use]
pub fn gamma(eps_gamma: f64, b: f64, c: f64, d: f64) -> f64 {
    if !(b > 0.0 && b < 1.0 && c > 0.0 && d > 0.0) {
        return 0.0;
    }
    let arg = (c + d) / (c * d * (1.0 - b) * b) / (eps_gamma * eps_gamma);
    if arg <= 1.0 {
        return 0.0;
    }
    ((c + d) * (1.0 - b) * b / (c * d * std::f64::consts::LN_2) * arg.log2()).sqrt()
}

fn hoeffding(n: u64, eps: f64) -> f64 {
    (crate::stats::f(n) / 2.0 * (1.0 / eps).ln()).sqrt()
}

impl DecoyStatistics {
    /// Validates intensities, probabilities and counts for `method`.
    ///
    /// # Errors
    /// [`SiftingError::InvalidParameter`] for intensities outside the method's ordering (two-decoy:
    /// `μ₁ > μ₂ + μ₃`, `μ₂ > μ₃ >= 0`; one-decoy: `μ₁ > μ₂ > 0`), probabilities that are not a
    /// distribution (or a non-zero vacuum probability/count in one-decoy mode), or more errors than
    /// detections; [`SiftingError::Empty`] if a basis has no detections.
    pub fn validate(&self, method: DecoyMethod) -> Result<(), SiftingError> {
        for &mu in &self.intensities {
            check_range("intensities", mu, 0.0, 1e3)?;
        }
        for &p in &self.probabilities {
            check_range("probabilities", p, 0.0, 1.0)?;
        }
        let sum: f64 = self.probabilities.iter().sum();
        if (sum - 1.0).abs() > 1e-9 {
            return Err(SiftingError::InvalidParameter {
                name: "probabilities",
                reason: format!("sum to {sum}, not 1"),
            });
        }
        let [m1, m2, m3] = self.intensities;
        let [p1, p2, p3] = self.probabilities;
        let bad = |reason: &str| SiftingError::InvalidParameter {
            name: "intensities",
            reason: reason.into(),
        };
        match method {
            DecoyMethod::TwoDecoy => {
                if !(m1 > m2 + m3 && m2 > m3) {
                    return Err(bad(
                        "two-decoy bounds need mu1 > mu2 + mu3 and mu2 > mu3 >= 0",
                    ));
                }
                if !(p1 > 0.0 && p2 > 0.0 && p3 > 0.0) {
                    return Err(SiftingError::InvalidParameter {
                        name: "probabilities",
                        reason: "two-decoy bounds need all three classes sent".into(),
                    });
                }
            }
            DecoyMethod::OneDecoy => {
                if !(m1 > m2 && m2 > 0.0) {
                    return Err(bad("one-decoy bounds need mu1 > mu2 > 0"));
                }
                if !(p1 > 0.0 && p2 > 0.0) || p3 != 0.0 {
                    return Err(SiftingError::InvalidParameter {
                        name: "probabilities",
                        reason: "one-decoy bounds need p1, p2 > 0 and no vacuum class (p3 = 0)"
                            .into(),
                    });
                }
                let v = IntensityClass::Vacuum.index();
                if self.key.detections[v] != 0 || self.test.detections[v] != 0 {
                    return Err(SiftingError::InvalidParameter {
                        name: "counts",
                        reason: "one-decoy statistics with vacuum-class detections".into(),
                    });
                }
            }
        }
        self.key.validate("key-basis counts")?;
        self.test.validate("test-basis counts")?;
        Ok(())
    }

    /// Runs the finite-key analysis `method` at security parameter `eps_sec`.
    ///
    /// # Errors
    /// As [`DecoyStatistics::validate`], and [`SiftingError::InvalidEpsilon`] unless `eps_sec` is in
    /// (0, 1).
    pub fn finite_key(
        &self,
        method: DecoyMethod,
        eps_sec: f64,
    ) -> Result<DecoyBounds, SiftingError> {
        match method {
            DecoyMethod::TwoDecoy => self.lim2014(eps_sec),
            DecoyMethod::OneDecoy => self.rusca2018(eps_sec),
        }
    }

    /// `e^{μ_k}/p_k (count ± δ)`: the Hoeffding-corrected, intensity-normalised count.
    fn corrected(&self, k: usize, count: u64, delta: f64) -> f64 {
        self.intensities[k].exp() / self.probabilities[k] * (crate::stats::f(count) + delta)
    }

    /// Lim et al. Eqs. (2) and (3) for one basis: `(s0, s1)`, `s1` not clamped. `sign` scales every
    /// Hoeffding deviation (1: the bounds; 0: the central, asymptotic values of the observed
    /// counts); `shift` is added to the counts (for derivatives).
    fn lim_single(&self, c: &BasisCounts, e1: f64, sign: f64, shift: &Shift) -> (f64, f64) {
        let [m1, m2, m3] = self.intensities;
        let (t0, t1) = (
            tau(0, &self.intensities, &self.probabilities),
            tau(1, &self.intensities, &self.probabilities),
        );
        let d = sign * hoeffding(c.total_detections(), e1);
        let minus = |k: usize| self.corrected(k, c.detections[k], shift.n[k] - d);
        let plus = |k: usize| self.corrected(k, c.detections[k], shift.n[k] + d);
        let s0 = (t0 / (m2 - m3) * (m2 * minus(2) - m3 * plus(1))).max(0.0);
        let s1 = t1 * m1 / (m1 * (m2 - m3) - (m2 * m2 - m3 * m3))
            * (minus(1) - plus(2) - (m2 * m2 - m3 * m3) / (m1 * m1) * (plus(0) - s0 / t0));
        (s0, s1)
    }

    /// Rusca et al. (A16), (A17), (A19) for one basis: `(s0, s1)`, neither clamped; `sign` and
    /// `shift` as in [`Self::lim_single`].
    fn rusca_single(&self, c: &BasisCounts, e1: f64, sign: f64, shift: &Shift) -> (f64, f64) {
        let [m1, m2, _] = self.intensities;
        let (t0, t1) = (
            tau(0, &self.intensities, &self.probabilities),
            tau(1, &self.intensities, &self.probabilities),
        );
        let dn = sign * hoeffding(c.total_detections(), e1);
        let dm = sign * hoeffding(c.total_errors(), e1);
        let n_minus_2 = self.corrected(1, c.detections[1], shift.n[1] - dn);
        let n_plus_1 = self.corrected(0, c.detections[0], shift.n[0] + dn);
        let s0_upper = 2.0 * (t0 * self.corrected(1, c.errors[1], shift.m[1] + dm) + dn);
        let s1 = t1 * m1 / (m2 * (m1 - m2))
            * (n_minus_2
                - (m2 * m2) / (m1 * m1) * n_plus_1
                - (m1 * m1 - m2 * m2) / (m1 * m1) * s0_upper / t0);
        let s0 = t0 / (m1 - m2) * (m1 * n_minus_2 - m2 * n_plus_1);
        (s0, s1)
    }

    /// The single-photon lower bounds `s_{X,1}` (key basis) and `s_{Z,1}` (test basis) of
    /// `method`, each with its central value and that value's standard error.
    ///
    /// When a bound is zero this tells why. The central value (all Hoeffding deviations zero) is
    /// the asymptotic bound of the observed rates; its standard error propagates the Poisson
    /// spread `sqrt(n_k)` of every count it uses (the bound is linear in the counts, derivatives
    /// by a unit difference). A central value several standard errors below zero means the
    /// yields depend on the intensity beyond fluctuation: no channel with photon-number-
    /// independent yields and a single-photon yield gives such counts (a photon-number-splitting
    /// attack). A positive central value with a zero bound means the block is merely too small:
    /// the deviations, which grow as `sqrt(n)` while the counts grow as `n`, swamp it
    /// ([`SinglePhotonSpread::scale_to_certify`]).
    ///
    /// # Errors
    /// As [`DecoyStatistics::finite_key`].
    pub fn single_photon_spread(
        &self,
        method: DecoyMethod,
        eps_sec: f64,
    ) -> Result<[SinglePhotonSpread; 2], SiftingError> {
        check_eps("eps_sec", eps_sec)?;
        self.validate(method)?;
        let spread = |c: &BasisCounts| {
            let at = |sign: f64, shift: &Shift| match method {
                DecoyMethod::TwoDecoy => self.lim_single(c, eps_sec / 21.0, sign, shift).1,
                DecoyMethod::OneDecoy => self.rusca_single(c, eps_sec / 19.0, sign, shift).1,
            };
            let zero = Shift::default();
            let central = at(0.0, &zero);
            let mut variance = 0.0;
            for k in 0..CLASSES {
                let mut sn = Shift::default();
                sn.n[k] = 1.0;
                let mut sm = Shift::default();
                sm.m[k] = 1.0;
                let (dn, dm) = (at(0.0, &sn) - central, at(0.0, &sm) - central);
                variance += dn * dn * crate::stats::f(c.detections[k])
                    + dm * dm * crate::stats::f(c.errors[k]);
            }
            SinglePhotonSpread {
                lower: at(1.0, &zero),
                central,
                std_error: variance.sqrt(),
            }
        };
        Ok([spread(&self.key), spread(&self.test)])
    }

    /// Two-decoy finite-key bounds of Lim et al. (2014), Eqs. (2)-(5).
    ///
    /// # Errors
    /// As [`DecoyStatistics::finite_key`].
    pub fn lim2014(&self, eps_sec: f64) -> Result<DecoyBounds, SiftingError> {
        check_eps("eps_sec", eps_sec)?;
        self.validate(DecoyMethod::TwoDecoy)?;
        let e1 = eps_sec / 21.0;
        let [_, m2, m3] = self.intensities;
        let t1 = tau(1, &self.intensities, &self.probabilities);
        let single = |c: &BasisCounts| {
            let (s0, s1) = self.lim_single(c, e1, 1.0, &Shift::default());
            (s0, s1.max(0.0))
        };
        let (s_x0, s_x1) = single(&self.key);
        let (_, s_z1) = single(&self.test);
        // Eq. (4): errors of the single-photon events in the test basis.
        let dm = hoeffding(self.test.total_errors(), e1);
        let v_z1 = (t1 / (m2 - m3)
            * (self.corrected(1, self.test.errors[1], dm)
                - self.corrected(2, self.test.errors[2], -dm)))
        .max(0.0);
        let phi = phase_error(eps_sec / 21.0, v_z1, s_z1, s_x1);
        // Distinct one-sided events: s_x0 2; s_x1 5 (incl. s_x0's); s_z1 5; v_z1 2; γ 1.
        Ok(DecoyBounds {
            method: DecoyMethod::TwoDecoy,
            s_x0: Bound {
                value: s_x0,
                failure_probability: 2.0 * e1,
            },
            s_x1: Bound {
                value: s_x1,
                failure_probability: 5.0 * e1,
            },
            s_z1: Bound {
                value: s_z1,
                failure_probability: 5.0 * e1,
            },
            v_z1: Bound {
                value: v_z1,
                failure_probability: 2.0 * e1,
            },
            phi_x: Bound {
                value: phi,
                failure_probability: 13.0 * e1,
            },
            eps_sec,
            eps_event: e1,
            eps: 13.0 * e1,
        })
    }

    /// One-decoy finite-key bounds of Rusca et al. (2018), Appendix A.
    ///
    /// # Errors
    /// As [`DecoyStatistics::finite_key`].
    pub fn rusca2018(&self, eps_sec: f64) -> Result<DecoyBounds, SiftingError> {
        check_eps("eps_sec", eps_sec)?;
        self.validate(DecoyMethod::OneDecoy)?;
        let e1 = eps_sec / 19.0;
        let [m1, m2, _] = self.intensities;
        let t1 = tau(1, &self.intensities, &self.probabilities);
        let single = |c: &BasisCounts| {
            let (s0, s1) = self.rusca_single(c, e1, 1.0, &Shift::default());
            (s0.max(0.0), s1.max(0.0))
        };
        let (s_x0, s_x1) = single(&self.key);
        let (_, s_z1) = single(&self.test);
        // (A22).
        let dm = hoeffding(self.test.total_errors(), e1);
        let v_z1 = (t1 / (m1 - m2)
            * (self.corrected(0, self.test.errors[0], dm)
                - self.corrected(1, self.test.errors[1], -dm)))
        .max(0.0);
        let eg = eps_sec / 21.0;
        let phi = phase_error(eg, v_z1, s_z1, s_x1);
        // Distinct one-sided events: s_x0 2; s_x1 4 (n-, n+, m+, vacuum-error deviation);
        // s_z1 4; v_z1 2; γ one more at ε_sec/21.
        Ok(DecoyBounds {
            method: DecoyMethod::OneDecoy,
            s_x0: Bound {
                value: s_x0,
                failure_probability: 2.0 * e1,
            },
            s_x1: Bound {
                value: s_x1,
                failure_probability: 4.0 * e1,
            },
            s_z1: Bound {
                value: s_z1,
                failure_probability: 4.0 * e1,
            },
            v_z1: Bound {
                value: v_z1,
                failure_probability: 2.0 * e1,
            },
            phi_x: Bound {
                value: phi,
                failure_probability: 10.0 * e1 + eg,
            },
            eps_sec,
            eps_event: e1,
            eps: 10.0 * e1 + eg,
        })
    }
}

/// `φ_X <= v_{Z,1}/s_{Z,1} + γ(ε, v_{Z,1}/s_{Z,1}, s_{Z,1}, s_{X,1})`, clamped to `[0, 1/2]`.
fn phase_error(eps_gamma: f64, v_z1: f64, s_z1: f64, s_x1: f64) -> f64 {
    if s_z1 <= 0.0 || s_x1 <= 0.0 {
        return 0.5;
    }
    let b = v_z1 / s_z1;
    if b >= 0.5 {
        return 0.5;
    }
    (b + gamma(eps_gamma, b, s_z1, s_x1)).clamp(0.0, 0.5)
}

/// Gains and error rates of a vacuum + weak decoy measurement, the input of the asymptotic bounds
/// of Ma et al. (2005).
///
/// Gains are detection probabilities per pulse sent (`Q_k = n_k / N_k`), error rates are per
/// detection (`E_k = m_k / n_k`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GainStatistics {
    /// Signal intensity `μ`.
    pub mu: f64,
    /// Weak decoy intensity `ν`.
    pub nu: f64,
    /// Signal gain `Q_μ`.
    pub gain_mu: f64,
    /// Decoy gain `Q_ν`.
    pub gain_nu: f64,
    /// Vacuum gain: the background yield `Y_0`.
    pub gain_vacuum: f64,
    /// Signal error rate `E_μ`.
    pub qber_mu: f64,
    /// Decoy error rate `E_ν`.
    pub qber_nu: f64,
}

/// Asymptotic single-photon bounds (Ma et al. 2005).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AsymptoticBounds {
    /// Lower bound on the single-photon yield `Y_1` (per single-photon pulse).
    pub y1_lower: f64,
    /// Upper bound on the single-photon error rate `e_1`, in `[0, 1/2]`.
    pub e1_upper: f64,
    /// Lower bound on the single-photon gain `Q_1 = Y_1 μ e^{-μ}`.
    pub q1_lower: f64,
}

impl GainStatistics {
    /// Gains from counts: `pulses[k]` pulses of class `k` sent in this basis, `counts` the sifted
    /// detections and errors. Uses classes signal (μ) and decoy (ν) and the vacuum class for `Y_0`.
    ///
    /// # Errors
    /// [`SiftingError::InvalidParameter`] if a class has no pulses or more detections than pulses.
    pub fn from_counts(
        intensities: [f64; CLASSES],
        pulses: [u64; CLASSES],
        counts: &BasisCounts,
    ) -> Result<Self, SiftingError> {
        for (k, (&sent, &detected)) in pulses.iter().zip(&counts.detections).enumerate() {
            if sent == 0 || detected > sent {
                return Err(SiftingError::InvalidParameter {
                    name: "pulses",
                    reason: format!("class {k}: {detected} detections from {sent} pulses"),
                });
            }
        }
        counts.validate("counts")?;
        let g = |k: usize| crate::stats::ratio(counts.detections[k], pulses[k]);
        let e = |k: usize| {
            if counts.detections[k] == 0 {
                0.0
            } else {
                crate::stats::ratio(counts.errors[k], counts.detections[k])
            }
        };
        Ok(Self {
            mu: intensities[0],
            nu: intensities[1],
            gain_mu: g(0),
            gain_nu: g(1),
            gain_vacuum: g(2),
            qber_mu: e(0),
            qber_nu: e(1),
        })
    }

    /// Ma et al. (2005) vacuum + weak decoy, Eqs. (34), (37):
    /// `Y1_L = μ/(μν - ν²) (Q_ν e^ν - Q_μ e^μ ν²/μ² - (μ² - ν²)/μ² Y0)`,
    /// `e1_U = (E_ν Q_ν e^ν - Y0/2) / (Y1_L ν)`.
    ///
    /// ```
    /// use qkd_sifting::{ChannelModel, GainStatistics};
    /// // GYS parameters at 50 km: the bound is within a few percent of the true Y1.
    /// let ch = ChannelModel::gys(50.0);
    /// let g = ch.gains(0.48, 0.05);
    /// let b = g.vacuum_weak()?;
    /// assert!(b.y1_lower <= ch.y1() && b.y1_lower > 0.95 * ch.y1());
    /// assert!(b.e1_upper >= ch.e1());
    /// # Ok::<(), qkd_sifting::SiftingError>(())
    /// ```
    ///
    /// # Errors
    /// [`SiftingError::InvalidParameter`] unless `μ > ν > 0` and gains and error rates are
    /// probabilities.
    pub fn vacuum_weak(&self) -> Result<AsymptoticBounds, SiftingError> {
        let (mu, nu) = (self.mu, self.nu);
        check_range("mu", mu, 0.0, 1e3)?;
        check_range("nu", nu, 0.0, 1e3)?;
        if !(mu > nu && nu > 0.0) {
            return Err(SiftingError::InvalidParameter {
                name: "intensities",
                reason: format!("need mu > nu > 0, got mu = {mu}, nu = {nu}"),
            });
        }
        for (name, v) in [
            ("gain_mu", self.gain_mu),
            ("gain_nu", self.gain_nu),
            ("gain_vacuum", self.gain_vacuum),
            ("qber_mu", self.qber_mu),
            ("qber_nu", self.qber_nu),
        ] {
            check_range(name, v, 0.0, 1.0)?;
        }
        let y0 = self.gain_vacuum;
        let y1 = mu / (mu * nu - nu * nu)
            * (self.gain_nu * nu.exp()
                - self.gain_mu * mu.exp() * nu * nu / (mu * mu)
                - (mu * mu - nu * nu) / (mu * mu) * y0);
        let y1 = y1.max(0.0);
        let e1 = if y1 > 0.0 {
            ((self.qber_nu * self.gain_nu * nu.exp() - 0.5 * y0) / (y1 * nu)).clamp(0.0, 0.5)
        } else {
            0.5
        };
        Ok(AsymptoticBounds {
            y1_lower: y1,
            e1_upper: e1,
            q1_lower: y1 * mu * (-mu).exp(),
        })
    }
}

impl AsymptoticBounds {
    /// GLLP key rate per pulse `R = q (Q1 (1 - h(e1)) - f Q_μ h(E_μ))` (PHYSICS.md), clamped at 0:
    /// `q` the sifting factor, `f` the reconciliation efficiency.
    #[must_use]
    pub fn key_rate_per_pulse(&self, q: f64, f: f64, gain_mu: f64, qber_mu: f64) -> f64 {
        (q * (self.q1_lower * (1.0 - binary_entropy(self.e1_upper))
            - f * gain_mu * binary_entropy(qber_mu)))
        .max(0.0)
    }
}

/// The standard channel model of decoy-state analyses (PHYSICS.md; Ma et al. 2005 Sec. III):
/// `Q_k = Y0 + 1 - e^{-η k}`, `E_k Q_k = Y0/2 + e_d (1 - e^{-η k})`. Used to produce expected
/// statistics for tests, documentation and key-rate curves.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ChannelModel {
    /// Total transmittance `η` including Bob's detector efficiency.
    pub transmittance: f64,
    /// Background (dark-count) yield `Y_0` per pulse.
    pub y0: f64,
    /// Misalignment error probability `e_d`.
    pub misalignment: f64,
}

impl ChannelModel {
    /// The GYS parameter set (Gobby, Yuan, Shields 2004) at `length_km`: 0.21 dB/km, η_Bob = 0.045,
    /// Y0 = 1.7e-6, e_d = 3.3 %.
    #[must_use]
    pub fn gys(length_km: f64) -> Self {
        Self {
            transmittance: qkd_core::presets::gys::transmittance(length_km),
            y0: qkd_core::presets::gys::Y0,
            misalignment: qkd_core::presets::gys::MISALIGNMENT,
        }
    }

    /// Expected gain `Q_k` at intensity `k`.
    #[must_use]
    pub fn gain(&self, k: f64) -> f64 {
        self.y0 + 1.0 - (-self.transmittance * k).exp()
    }

    /// Expected error rate `E_k` at intensity `k`.
    #[must_use]
    pub fn qber(&self, k: f64) -> f64 {
        (0.5 * self.y0 + self.misalignment * (1.0 - (-self.transmittance * k).exp())) / self.gain(k)
    }

    /// True single-photon yield `Y1 = Y0 + η - Y0 η`.
    #[must_use]
    pub fn y1(&self) -> f64 {
        self.y0 + self.transmittance - self.y0 * self.transmittance
    }

    /// True single-photon error rate `e1 = (Y0/2 + e_d η) / Y1`.
    #[must_use]
    pub fn e1(&self) -> f64 {
        (0.5 * self.y0 + self.misalignment * self.transmittance) / self.y1()
    }

    /// Expected gains for signal `mu` and decoy `nu` (with a vacuum class).
    #[must_use]
    pub fn gains(&self, mu: f64, nu: f64) -> GainStatistics {
        GainStatistics {
            mu,
            nu,
            gain_mu: self.gain(mu),
            gain_nu: self.gain(nu),
            gain_vacuum: self.gain(0.0),
            qber_mu: self.qber(mu),
            qber_nu: self.qber(nu),
        }
    }

    /// Expected counts (rounded) in one basis when `pulses` pulses are sent and sifted into it,
    /// class `k` with probability `probabilities[k]`.
    #[must_use]
    pub fn expected_counts(
        &self,
        pulses: f64,
        intensities: &[f64; CLASSES],
        probabilities: &[f64; CLASSES],
    ) -> BasisCounts {
        let mut c = BasisCounts::default();
        for k in 0..CLASSES {
            let n = pulses * probabilities[k] * self.gain(intensities[k]);
            let m = n * self.qber(intensities[k]);
            c.detections[k] = round_count(n);
            c.errors[k] = round_count(m);
        }
        c
    }
}

/// Rounds a non-negative expected count to an integer count.
fn round_count(x: f64) -> u64 {
    // Expected counts here are finite, non-negative and far below 2^63: the cast is exact after
    // rounding.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = x.max(0.0).round() as u64;
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    const INT3: [f64; 3] = [0.5, 0.1, 0.0];
    const P3: [f64; 3] = [0.8, 0.15, 0.05];

    fn expected(ch: &ChannelModel, pulses: f64, int: [f64; 3], p: [f64; 3]) -> DecoyStatistics {
        let c = ch.expected_counts(pulses, &int, &p);
        DecoyStatistics {
            intensities: int,
            probabilities: p,
            key: c,
            test: c,
        }
    }

    #[test]
    fn tau_is_a_probability_distribution() {
        let total: f64 = (0..40).map(|n| tau(n, &INT3, &P3)).sum();
        assert!((total - 1.0).abs() < 1e-12);
        assert!(
            (tau(0, &INT3, &P3) - (0.8 * (-0.5f64).exp() + 0.15 * (-0.1f64).exp() + 0.05)).abs()
                < 1e-15
        );
    }

    /// Lim's bounds with δ = 0 and μ3 = 0 reduce algebraically to Ma's asymptotic formula:
    /// s_{X,1} / (N τ1) = Y1_L. Feeding expected counts of 1e12 pulses, the finite bound is within
    /// O(1/sqrt(n)) of the asymptotic one.
    #[test]
    fn lim_converges_to_ma_and_to_the_true_single_photon_yield() {
        let ch = ChannelModel::gys(25.0);
        let asym = ch.gains(INT3[0], INT3[1]).vacuum_weak().unwrap();
        // The asymptotic bound itself is close to the truth for a weak decoy.
        assert!(
            asym.y1_lower <= ch.y1() && asym.y1_lower > 0.9 * ch.y1(),
            "{} vs {}",
            asym.y1_lower,
            ch.y1()
        );
        assert!(
            asym.e1_upper >= ch.e1() && asym.e1_upper < 1.3 * ch.e1(),
            "{} vs {}",
            asym.e1_upper,
            ch.e1()
        );
        let t1 = tau(1, &INT3, &P3);
        let mut last_gap = f64::INFINITY;
        let mut last_phi_gap = f64::INFINITY;
        let mut gaps = Vec::new();
        for exp in 6..=12 {
            let n = 10f64.powi(exp);
            let b = expected(&ch, n, INT3, P3).lim2014(1e-10).unwrap();
            let y1 = b.s_x1.value / (n * t1);
            let gap = (asym.y1_lower - y1) / asym.y1_lower;
            let phi_gap = b.phi_x.value - asym.e1_upper;
            // Finite bounds are never better than the asymptotic ones (beyond rounding of the
            // counts), and the gap shrinks monotonically with the block.
            assert!(gap > -1e-6, "n = 1e{exp}: gap {gap}");
            assert!(
                gap <= last_gap && (gap < last_gap || gap == 1.0),
                "n = 1e{exp}: {gap} !< {last_gap}"
            );
            assert!(
                phi_gap > -1e-6 && phi_gap <= last_phi_gap,
                "phi gap {phi_gap}"
            );
            last_gap = gap;
            last_phi_gap = phi_gap;
            gaps.push(gap);
        }
        // The Hoeffding terms shrink as 1/sqrt(n): 100x more pulses, ~10x smaller gap (> 5x).
        // At 1e12 pulses the bound is within 1 % of Y1_L and the phase error within 1e-2 of e1_U
        // (the small vacuum class, p3 = 5 %, dominates the remaining gap).
        assert!(gaps[6] < gaps[4] / 5.0, "{gaps:?}");
        assert!(last_gap < 1e-2, "{last_gap}");
        assert!(last_phi_gap < 1e-2, "{last_phi_gap}");
    }

    #[test]
    fn rusca_converges_and_is_a_valid_bound() {
        let ch = ChannelModel::gys(25.0);
        let int = [0.5, 0.1, 0.0];
        let p = [0.7, 0.3, 0.0];
        let t1 = tau(1, &int, &p);
        let mut last = 0.0;
        for exp in 6..=12 {
            let n = 10f64.powi(exp);
            let b = expected(&ch, n, int, p).rusca2018(1e-10).unwrap();
            let y1 = b.s_x1.value / (n * t1);
            assert!(y1 >= last, "monotone in the block size");
            assert!(y1 <= ch.y1(), "a lower bound never exceeds the truth");
            assert!(b.phi_x.value >= ch.e1() - 1e-9);
            last = y1;
        }
        // One decoy without vacuum pays for the loose vacuum bound, but still recovers most of Y1.
        assert!(last > 0.8 * ch.y1(), "{last} vs {}", ch.y1());
    }

    /// Under a PNS-like attack the yields depend on the photon number (single photons blocked,
    /// multi-photon pulses forwarded): the signal gains too much relative to the decoy and the
    /// single-photon bound collapses.
    #[test]
    fn pns_statistics_leave_no_single_photons() {
        // Eve blocks all single photons and forwards every multi-photon pulse, scaled to keep the
        // signal gain of a 25 km link.
        let ch = ChannelModel::gys(25.0);
        let target = ch.gain(0.5);
        let multi = |k: f64| 1.0 - (-k).exp() * (1.0 + k);
        let scale = (target - ch.y0) / multi(0.5);
        let mut counts = BasisCounts::default();
        let n = 1e10;
        for (i, &k) in INT3.iter().enumerate() {
            let q = ch.y0 + scale * multi(k);
            counts.detections[i] = round_count(n * P3[i] * q);
            counts.errors[i] = round_count(n * P3[i] * (0.5 * ch.y0 + 0.01 * scale * multi(k)));
        }
        let s = DecoyStatistics {
            intensities: INT3,
            probabilities: P3,
            key: counts,
            test: counts,
        };
        let b = s.lim2014(1e-10).unwrap();
        assert_eq!(b.s_x1.value, 0.0);
        assert_eq!(b.phi_x.value, 0.5);
        // Not a matter of block size: the central value is far below zero.
        let [key, test] = s
            .single_photon_spread(DecoyMethod::TwoDecoy, 1e-10)
            .unwrap();
        assert!(key.is_inconsistent() && test.is_inconsistent(), "{key:?}");
        assert_eq!(key.scale_to_certify(), None);
    }

    /// A zero single-photon bound from a small block is told apart from one from yields that
    /// depend on the intensity: the former has a positive central value and turns positive at
    /// about the scale `scale_to_certify` predicts; PNS statistics (above) have a central value
    /// many standard errors below zero.
    #[test]
    fn vacuous_bounds_tell_too_few_events_from_inconsistency() {
        let ch = ChannelModel::gys(25.0);
        let small = expected(&ch, 1e7, INT3, P3);
        let b = small.lim2014(1e-10).unwrap();
        assert_eq!(b.s_x1.value, 0.0, "{b:?}");
        let [key, test] = small
            .single_photon_spread(DecoyMethod::TwoDecoy, 1e-10)
            .unwrap();
        for sp in [key, test] {
            assert!(
                sp.lower <= 0.0 && sp.central > 0.0 && !sp.is_inconsistent(),
                "{sp:?}"
            );
        }
        let t = key.scale_to_certify().unwrap();
        assert!(t > 1.0, "{t}");
        // The prediction is good to a few percent (the clamp of s0 bends the line): 10 % beyond
        // it the bound is positive, 10 % short of it still zero.
        let at = |f: f64| {
            expected(&ch, 1e7 * t * f, INT3, P3)
                .lim2014(1e-10)
                .unwrap()
                .s_x1
                .value
        };
        assert!(
            at(1.1) > 0.0 && at(0.9) == 0.0,
            "t = {t}: {} {}",
            at(0.9),
            at(1.1)
        );
        // The same for the one-decoy bounds.
        let p1 = [0.7, 0.3, 0.0];
        let small = expected(&ch, 1e6, INT3, p1);
        assert_eq!(small.rusca2018(1e-10).unwrap().s_x1.value, 0.0);
        let [key, _] = small
            .single_photon_spread(DecoyMethod::OneDecoy, 1e-10)
            .unwrap();
        let t = key.scale_to_certify().unwrap();
        let at = |f: f64| {
            expected(&ch, 1e6 * t * f, INT3, p1)
                .rusca2018(1e-10)
                .unwrap()
                .s_x1
                .value
        };
        assert!(
            at(1.1) > 0.0 && at(0.9) == 0.0,
            "t = {t}: {} {}",
            at(0.9),
            at(1.1)
        );
    }

    #[test]
    fn failure_probabilities_are_stated_and_below_eps_sec() {
        let ch = ChannelModel::gys(10.0);
        let b = expected(&ch, 1e9, INT3, P3).lim2014(1e-9).unwrap();
        assert!((b.eps - 13.0 / 21.0 * 1e-9).abs() < 1e-20);
        assert!(b.s_x0.failure_probability <= b.s_x1.failure_probability);
        assert!(b.phi_x.failure_probability == b.eps && b.eps < b.eps_sec);
        let p1 = [0.7, 0.3, 0.0];
        let r = expected(&ch, 1e9, INT3, p1).rusca2018(1e-9).unwrap();
        assert!(r.eps < 1e-9 && r.eps > 0.5e-9);
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        let ch = ChannelModel::gys(10.0);
        let good = expected(&ch, 1e9, INT3, P3);
        for eps in [0.0, 1.0, f64::NAN, -0.5, 2.0] {
            assert!(matches!(
                good.lim2014(eps),
                Err(SiftingError::InvalidEpsilon { .. })
            ));
        }
        // mu1 <= mu2 + mu3.
        let mut s = good;
        s.intensities = [0.2, 0.15, 0.1];
        assert!(s.lim2014(1e-9).is_err());
        // Probabilities that are not a distribution.
        let mut s = good;
        s.probabilities = [0.5, 0.2, 0.1];
        assert!(s.lim2014(1e-9).is_err());
        // Errors above detections.
        let mut s = good;
        s.test.errors[0] = s.test.detections[0] + 1;
        assert!(s.lim2014(1e-9).is_err());
        // Empty basis.
        let mut s = good;
        s.key = BasisCounts::default();
        assert!(matches!(s.lim2014(1e-9), Err(SiftingError::Empty { .. })));
        // One-decoy with a vacuum class.
        assert!(good.rusca2018(1e-9).is_err());
        assert!(
            ChannelModel::gys(1.0)
                .gains(0.1, 0.5)
                .vacuum_weak()
                .is_err()
        );
    }

    /// Reproduces the PHYSICS.md reference: GYS with vacuum + weak decoy (ν small) keeps a positive
    /// asymptotic key rate beyond 100 km and loses it before 145 km (infinite decoys: ~142 km).
    #[test]
    fn gys_asymptotic_cutoff() {
        let rate = |l: f64| {
            let ch = ChannelModel::gys(l);
            // Optimise mu on a grid; nu = 0.02.
            (10..=80)
                .map(|i| {
                    let mu = f64::from(i) / 100.0;
                    let g = ch.gains(mu, 0.02);
                    let b = g.vacuum_weak().unwrap();
                    b.key_rate_per_pulse(0.5, 1.22, g.gain_mu, g.qber_mu)
                })
                .fold(0.0, f64::max)
        };
        assert!(rate(100.0) > 0.0);
        assert!(rate(130.0) > 0.0);
        assert_eq!(rate(145.0), 0.0);
    }
}
