//! Confidence bounds on an error rate estimated from a disclosed sample.
//!
//! Three bounds, because they answer three different questions:
//!
//! | method | model | bounds | use it when |
//! |---|---|---|---|
//! | [`ConfidenceMethod::Hoeffding`] | i.i.d. Bernoulli(p) trials | the probability `p` | a quick, closed-form bound; loose for small `p` |
//! | [`ConfidenceMethod::ClopperPearson`] | i.i.d. Bernoulli(p) trials | the probability `p`, exactly | monitoring and reconciliation parameters: the tightest valid bound for a binomial count |
//! | [`ConfidenceMethod::Serfling`] | sampling *without replacement* from a fixed string | the error rate of the *unsampled remainder* | security claims against coherent attacks: no i.i.d. assumption, only that the sample positions were chosen uniformly at random after the quantum phase |
//!
//! - Hoeffding (1963), Thm. 1: `P(p - p̂ >= t) <= exp(-2 k t²)`, so `p <= p̂ + sqrt(ln(1/ε) / (2k))`.
//! - Clopper & Pearson (1934): `p_U` solves `P[Bin(k, p_U) <= e] = ε`, computed with the regularized
//!   incomplete beta function `P[Bin(k, p) <= e] = I_{1-p}(k - e, e + 1)` and bisection.
//! - Serfling (1974) for sampling without replacement, in the form of Tomamichel, Lim, Gisin, Renner,
//!   Nat. Commun. 3, 634 (2012), Methods: the error rate `λ` of the `n` unsampled bits satisfies
//!   `λ <= p̂ + μ`, `μ = sqrt((n + k)/(n k) · (k + 1)/k · ln(1/ε))`, except with probability `ε`.
//!
//! Every bound here is one-sided with failure probability `ε`.

use crate::error::{SiftingError, check_eps};

/// Which confidence bound to put on an estimated error rate (see the module docs for when each
/// applies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum ConfidenceMethod {
    /// Hoeffding's inequality for i.i.d. trials.
    Hoeffding,
    /// The exact binomial (Clopper-Pearson) bound for i.i.d. trials.
    ClopperPearson,
    /// Serfling's bound for sampling without replacement (Tomamichel et al. 2012 form); bounds the
    /// error rate of the remaining, unsampled key. The default, because it is the one a security
    /// proof against coherent attacks may use.
    #[default]
    Serfling,
}

/// An error rate estimated from `errors` in `sample` compared bits, with a one-sided confidence
/// interval.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RateEstimate {
    /// Errors found in the sample.
    pub errors: u64,
    /// Compared (disclosed) bits.
    pub sample: u64,
    /// Bits the bound speaks about for [`ConfidenceMethod::Serfling`] (the unsampled remainder);
    /// ignored by the i.i.d. methods.
    pub remaining: u64,
    /// `errors / sample`.
    pub point: f64,
    /// Lower confidence bound (fails with probability `eps`).
    pub lower: f64,
    /// Upper confidence bound (fails with probability `eps`).
    pub upper: f64,
    /// The method.
    pub method: ConfidenceMethod,
    /// Failure probability of each one-sided bound.
    pub eps: f64,
}

impl RateEstimate {
    /// Estimates a rate from `errors` in `sample` bits, with bounds of failure probability `eps`.
    /// `remaining` is the size of the unsampled population (used by [`ConfidenceMethod::Serfling`]).
    ///
    /// ```
    /// use qkd_sifting::{ConfidenceMethod, RateEstimate};
    /// let e = RateEstimate::new(20, 1000, 99_000, ConfidenceMethod::ClopperPearson, 1e-10)?;
    /// assert_eq!(e.point, 0.02);
    /// assert!(e.lower < 0.02 && e.upper > 0.02 && e.upper < 0.08);
    /// # Ok::<(), qkd_sifting::SiftingError>(())
    /// ```
    ///
    /// # Errors
    /// [`SiftingError::Empty`] if `sample` is zero, [`SiftingError::InvalidParameter`] if
    /// `errors > sample` or Serfling is asked with `remaining == 0`, [`SiftingError::InvalidEpsilon`]
    /// unless `eps` is in (0, 1).
    pub fn new(
        errors: u64,
        sample: u64,
        remaining: u64,
        method: ConfidenceMethod,
        eps: f64,
    ) -> Result<Self, SiftingError> {
        check_eps("eps", eps)?;
        if sample == 0 {
            return Err(SiftingError::Empty { what: "sample" });
        }
        if errors > sample {
            return Err(SiftingError::InvalidParameter {
                name: "errors",
                reason: format!("{errors} errors in a sample of {sample}"),
            });
        }
        let point = ratio(errors, sample);
        let (lower, upper) = match method {
            ConfidenceMethod::Hoeffding => {
                let t = hoeffding_deviation(sample, eps);
                (point - t, point + t)
            }
            ConfidenceMethod::ClopperPearson => (
                clopper_pearson_lower(errors, sample, eps),
                clopper_pearson_upper(errors, sample, eps),
            ),
            ConfidenceMethod::Serfling => {
                if remaining == 0 {
                    return Err(SiftingError::InvalidParameter {
                        name: "remaining",
                        reason: "Serfling bounds the unsampled remainder, which is empty".into(),
                    });
                }
                let t = serfling_deviation(sample, remaining, eps);
                (point - t, point + t)
            }
        };
        Ok(Self {
            errors,
            sample,
            remaining,
            point,
            lower: lower.clamp(0.0, 1.0),
            upper: upper.clamp(0.0, 1.0),
            method,
            eps,
        })
    }
}

/// `a / b` as a float (counts below 2^53 are exact; above, the relative error is ~1e-16).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn ratio(a: u64, b: u64) -> f64 {
    a as f64 / b as f64
}

/// A count as a float (exact below 2^53).
#[allow(clippy::cast_precision_loss)]
pub(crate) fn f(x: u64) -> f64 {
    x as f64
}

/// Hoeffding deviation `sqrt(ln(1/ε) / (2k))` for the mean of `k` i.i.d. trials in `[0, 1]`.
#[must_use]
pub fn hoeffding_deviation(k: u64, eps: f64) -> f64 {
    ((1.0 / eps).ln() / (2.0 * f(k))).sqrt()
}

/// Serfling deviation in the form of Tomamichel et al. (2012):
/// `μ = sqrt((n + k)/(n k) · (k + 1)/k · ln(1/ε))` for a sample of `k` out of `n + k` bits, bounding
/// the error rate of the `n` unsampled bits.
#[must_use]
pub fn serfling_deviation(k: u64, n: u64, eps: f64) -> f64 {
    let (k, n) = (f(k), f(n));
    ((n + k) / (n * k) * (k + 1.0) / k * (1.0 / eps).ln()).sqrt()
}

/// Upper Clopper-Pearson bound: the `p` with `P[Bin(n, p) <= e] = ε` (1 if `e == n`).
#[must_use]
pub fn clopper_pearson_upper(e: u64, n: u64, eps: f64) -> f64 {
    if e >= n {
        return 1.0;
    }
    // P[Bin(n, p) <= e] decreases in p: bisect for the p where it equals eps.
    bisect(ratio(e, n), 1.0, |p| binomial_cdf(e, n, p) - eps)
}

/// Lower Clopper-Pearson bound: the `p` with `P[Bin(n, p) >= e] = ε` (0 if `e == 0`).
#[must_use]
pub fn clopper_pearson_lower(e: u64, n: u64, eps: f64) -> f64 {
    if e == 0 {
        return 0.0;
    }
    // P[Bin(n, p) >= e] = 1 - P[X <= e - 1] increases in p; bisect on its complement.
    bisect(0.0, ratio(e, n), |p| {
        eps - (1.0 - binomial_cdf(e - 1, n, p))
    })
}

/// Finds the root of a decreasing function on `[lo, hi]` by bisection to machine precision.
fn bisect(mut lo: f64, mut hi: f64, g: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if g(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// `P[Bin(n, p) <= e]`.
#[must_use]
pub fn binomial_cdf(e: u64, n: u64, p: f64) -> f64 {
    if e >= n || p <= 0.0 {
        return 1.0;
    }
    if p >= 1.0 {
        return 0.0;
    }
    regularized_incomplete_beta(f(n - e), f(e) + 1.0, 1.0 - p)
}

/// `ln Γ(x)` for `x > 0` (Lanczos approximation, g = 7, 9 terms; relative error ~1e-15).
#[must_use]
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1-x) = π / sin(πx).
        let s = (std::f64::consts::PI * x).sin();
        return (std::f64::consts::PI / s).abs().ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        #[allow(clippy::cast_precision_loss)] // i < 9
        let fi = i as f64;
        a += c / (x + fi);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularized incomplete beta function `I_x(a, b)` (continued fraction, modified Lentz).
#[must_use]
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    // The continued fraction converges fast for x < (a + 1)/(a + b + 2); use symmetry otherwise.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    // Convergence takes O(sqrt(max(a, b))) terms; 2^20 covers samples up to ~1e12 bits.
    for m in 1..(1u32 << 20) {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Binomial CDF by direct summation of the pmf (for small n).
    fn cdf_direct(e: u64, n: u64, p: f64) -> f64 {
        let mut s = 0.0;
        for i in 0..=e {
            let ln_c = ln_gamma(f(n) + 1.0) - ln_gamma(f(i) + 1.0) - ln_gamma(f(n - i) + 1.0);
            s += (ln_c + f(i) * p.ln() + f(n - i) * (1.0 - p).ln()).exp();
        }
        s
    }

    #[test]
    fn ln_gamma_known_values() {
        // Γ(n) = (n-1)!, Γ(1/2) = sqrt(pi).
        assert!((ln_gamma(1.0)).abs() < 1e-14);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-13);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-13);
        assert!((ln_gamma(101.0) - 363.739_375_555_563_5).abs() < 1e-9);
    }

    #[test]
    fn binomial_cdf_matches_direct_sum() {
        for (e, n, p) in [(0, 10, 0.1), (3, 10, 0.3), (7, 20, 0.5), (2, 50, 0.02)] {
            let a = binomial_cdf(e, n, p);
            let b = cdf_direct(e, n, p);
            assert!((a - b).abs() < 1e-12, "{e} {n} {p}: {a} vs {b}");
        }
    }

    /// Published Clopper-Pearson values: 0 successes in 10 trials at 95 % one-sided gives
    /// p_U = 1 - 0.05^(1/10) = 0.2589 (closed form for e = 0); 10 of 10 gives p_L = 0.05^(1/10).
    #[test]
    fn clopper_pearson_closed_forms() {
        let u = clopper_pearson_upper(0, 10, 0.05);
        assert!((u - (1.0 - 0.05f64.powf(0.1))).abs() < 1e-12);
        let l = clopper_pearson_lower(10, 10, 0.05);
        assert!((l - 0.05f64.powf(0.1)).abs() < 1e-12);
        // Two-sided 95 % interval for 5 / 20 (tables: 0.0866, 0.4910) = one-sided 2.5 % each.
        assert!((clopper_pearson_lower(5, 20, 0.025) - 0.0866).abs() < 1e-4);
        assert!((clopper_pearson_upper(5, 20, 0.025) - 0.4910).abs() < 1e-4);
    }

    #[test]
    fn large_samples_agree_with_normal_approximation() {
        // n = 1e8, p = 0.02: CP upper ~ p + z sqrt(p(1-p)/n), z(1e-6) = 4.753.
        let n = 100_000_000;
        let u = clopper_pearson_upper(2_000_000, n, 1e-6);
        let approx = 0.02 + 4.753 * (0.02 * 0.98 / 1e8f64).sqrt();
        assert!((u - approx).abs() < 2e-6, "{u} vs {approx}");
    }

    /// Coverage check: over many seeded binomial draws, the CP upper bound at eps must fail at
    /// most eps of the time (plus a 3-sigma allowance for the finite number of draws).
    #[test]
    fn clopper_pearson_coverage() {
        use rand::RngExt;
        let mut rng = qkd_core::sim_rng(5);
        let (n, p, eps, trials) = (200u64, 0.05, 0.1, 2000u32);
        let mut fails = 0u32;
        for _ in 0..trials {
            let e = (0..n).filter(|_| rng.random_bool(p)).count() as u64;
            if clopper_pearson_upper(e, n, eps) < p {
                fails += 1;
            }
        }
        let rate = f64::from(fails) / f64::from(trials);
        let sigma = (eps * (1.0 - eps) / f64::from(trials)).sqrt();
        assert!(rate <= eps + 3.0 * sigma, "{rate}");
    }

    #[test]
    fn bad_input_is_typed() {
        assert!(matches!(
            RateEstimate::new(1, 0, 10, ConfidenceMethod::Hoeffding, 0.1),
            Err(SiftingError::Empty { .. })
        ));
        assert!(RateEstimate::new(3, 2, 10, ConfidenceMethod::Hoeffding, 0.1).is_err());
        for eps in [0.0, 1.0, -1.0, f64::NAN] {
            assert!(matches!(
                RateEstimate::new(1, 10, 10, ConfidenceMethod::Hoeffding, eps),
                Err(SiftingError::InvalidEpsilon { .. })
            ));
        }
        assert!(RateEstimate::new(1, 10, 0, ConfidenceMethod::Serfling, 0.1).is_err());
    }

    proptest! {
        #[test]
        fn bounds_bracket_the_point(e in 0u64..500, extra in 1u64..500, eps in 1e-12f64..0.4) {
            let n = e + extra;
            for m in [ConfidenceMethod::Hoeffding, ConfidenceMethod::ClopperPearson, ConfidenceMethod::Serfling] {
                let r = RateEstimate::new(e, n, 10 * n, m, eps).unwrap();
                prop_assert!(r.lower <= r.point + 1e-12 && r.point <= r.upper + 1e-12);
                prop_assert!((0.0..=1.0).contains(&r.lower) && (0.0..=1.0).contains(&r.upper));
            }
            // The exact binomial bound is never looser than Hoeffding's.
            let cp = clopper_pearson_upper(e, n, eps);
            let h = (ratio(e, n) + hoeffding_deviation(n, eps)).min(1.0);
            prop_assert!(cp <= h + 1e-9);
        }
    }
}
