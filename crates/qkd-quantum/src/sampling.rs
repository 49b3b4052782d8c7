//! Small, allocation-free samplers used in the hot loops: uniform doubles, geometric gaps, Poisson
//! photon numbers and Walker/Vose alias tables.

use rand::Rng;

/// A uniform double in `[0, 1)` with 53 random bits.
#[inline]
pub(crate) fn unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 53 random bits scaled by 2^-53: exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let x = (rng.next_u64() >> 11) as f64;
    x * (1.0 / 9_007_199_254_740_992.0)
}

/// A uniform double in `(0, 1]` (safe to take the logarithm of).
#[inline]
pub(crate) fn open_unit_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    1.0 - unit_f64(rng)
}

/// A Bernoulli trial with success probability `p`.
#[inline]
pub(crate) fn bernoulli<R: Rng + ?Sized>(rng: &mut R, p: f64) -> bool {
    unit_f64(rng) < p
}

/// Geometric distribution on `{0, 1, 2, ...}`: the number of failures before the first success of
/// trials with success probability `p`.
///
/// For `p` large enough that a gap of `TABLE_GAPS` or more has probability below 1/2, an alias table
/// over `{0, .., K-1, ">= K"}` is used (memorylessness: on `>= K` add `K` and draw again), which
/// needs one random word and no logarithm; otherwise inversion `floor(ln U / ln(1-p))`.
#[derive(Debug, Clone)]
pub(crate) struct Geometric {
    /// `1 / ln(1 - p)` (negative), or 0 when `p >= 1`; `None` when `p = 0` (never succeeds).
    inv_log_q: Option<f64>,
    table: Option<AliasTable>,
}

const TABLE_GAPS: usize = 32;

impl Geometric {
    pub(crate) fn new(p: f64) -> Self {
        if p <= 0.0 {
            Self {
                inv_log_q: None,
                table: None,
            }
        } else if p >= 1.0 {
            Self {
                inv_log_q: Some(0.0),
                table: None,
            }
        } else {
            let q = 1.0 - p;
            let k = i32::try_from(TABLE_GAPS).unwrap_or(32);
            let table = (q.powi(k) < 0.5).then(|| {
                let mut w: Vec<f64> = (0..k).map(|g| p * q.powi(g)).collect();
                w.push(q.powi(k));
                AliasTable::new(&w)
            });
            Self {
                inv_log_q: Some(1.0 / (-p).ln_1p()),
                table,
            }
        }
    }

    /// A sample, saturated at `u64::MAX` (which callers treat as "beyond the end").
    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u64 {
        if let Some(t) = &self.table {
            let mut acc = 0u64;
            loop {
                let i = t.sample(rng);
                if i < TABLE_GAPS {
                    return acc + i as u64;
                }
                acc += TABLE_GAPS as u64;
            }
        }
        match self.inv_log_q {
            None => u64::MAX,
            Some(k) => {
                if k == 0.0 {
                    return 0;
                }
                let g = (open_unit_f64(rng).ln() * k).floor();
                // Saturating float-to-int conversion is the intent: huge gaps mean "no click".
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let g = g as u64;
                g
            }
        }
    }
}

/// Poisson sampler for small means (photon numbers, mu <= ~10) by sequential inversion.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SmallPoisson {
    exp_neg_mu: f64,
    mu: f64,
}

impl SmallPoisson {
    pub(crate) fn new(mu: f64) -> Self {
        Self {
            exp_neg_mu: (-mu).exp(),
            mu,
        }
    }

    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let u = unit_f64(rng);
        let mut k = 0u32;
        let mut p = self.exp_neg_mu;
        let mut cdf = p;
        while u >= cdf && k < 1000 {
            k += 1;
            p *= self.mu / f64::from(k);
            cdf += p;
            if p == 0.0 {
                break;
            }
        }
        k
    }
}

/// Walker's alias method (Vose's construction): O(1) sampling from a fixed discrete distribution
/// with one 64-bit random word per sample.
#[derive(Debug, Clone)]
pub(crate) struct AliasTable {
    /// Acceptance threshold of column `i`, scaled to `2^64`.
    threshold: Vec<u64>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// A table for the non-negative `weights` (not all zero).
    pub(crate) fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        let total: f64 = weights.iter().sum();
        #[allow(clippy::cast_precision_loss)]
        let nf = n as f64;
        let mut prob: Vec<f64> = weights.iter().map(|w| w / total * nf).collect();
        let mut alias: Vec<u32> = (0..n).map(|i| u32::try_from(i).unwrap_or(0)).collect();
        let (mut small, mut large): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| prob[i] < 1.0);
        while let (Some(s), Some(l)) = (small.pop(), large.pop()) {
            alias[s] = u32::try_from(l).unwrap_or(0);
            prob[l] -= 1.0 - prob[s];
            if prob[l] < 1.0 {
                small.push(l);
            } else {
                large.push(l);
            }
        }
        for i in small.into_iter().chain(large) {
            prob[i] = 1.0;
        }
        let threshold = prob
            .iter()
            .map(|&p| {
                if p >= 1.0 {
                    u64::MAX
                } else {
                    // p in [0, 1): p * 2^64 fits in u64; truncation by design.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let t = (p * 18_446_744_073_709_551_616.0) as u64;
                    t
                }
            })
            .collect();
        Self { threshold, alias }
    }

    /// A sample index.
    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> usize {
        let r = rng.next_u64();
        let n = self.threshold.len() as u64;
        // High half of r*n is the column, the low half a fresh uniform for the coin.
        let wide = u128::from(r) * u128::from(n);
        #[allow(clippy::cast_possible_truncation)]
        let (col, frac) = ((wide >> 64) as usize, wide as u64);
        if frac < self.threshold[col] || self.threshold[col] == u64::MAX {
            col
        } else {
            self.alias[col] as usize
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_core::sim_rng;

    #[test]
    fn alias_table_reproduces_weights() {
        let w = [0.5, 0.0, 0.25, 0.125, 0.125];
        let t = AliasTable::new(&w);
        let mut rng = sim_rng(3);
        let n = 400_000;
        let mut c = [0u32; 5];
        for _ in 0..n {
            c[t.sample(&mut rng)] += 1;
        }
        assert_eq!(c[1], 0);
        for (i, &p) in w.iter().enumerate() {
            let f = f64::from(c[i]) / f64::from(n);
            // 5 binomial standard errors.
            assert!(
                (f - p).abs() <= 5.0 * (p * (1.0 - p) / f64::from(n)).sqrt() + 1e-12,
                "{i}"
            );
        }
    }

    #[test]
    fn geometric_mean_is_q_over_p() {
        let p = 0.01;
        let g = Geometric::new(p);
        let mut rng = sim_rng(4);
        let n = 100_000u32;
        #[allow(clippy::cast_precision_loss)]
        let mean = (0..n).map(|_| g.sample(&mut rng)).sum::<u64>() as f64 / f64::from(n);
        // Variance (1-p)/p^2; 5 standard errors of the mean.
        let se = ((1.0 - p) / (p * p) / f64::from(n)).sqrt();
        assert!((mean - (1.0 - p) / p).abs() < 5.0 * se);
        // The table path (p = 0.2): mean and P(gap = 0), P(gap >= 40) (beyond one table round).
        let p = 0.2;
        let g = Geometric::new(p);
        assert!(g.table.is_some());
        let draws: Vec<u64> = (0..n).map(|_| g.sample(&mut rng)).collect();
        #[allow(clippy::cast_precision_loss)]
        let mean = draws.iter().sum::<u64>() as f64 / f64::from(n);
        let se = ((1.0 - p) / (p * p) / f64::from(n)).sqrt();
        assert!((mean - (1.0 - p) / p).abs() < 5.0 * se);
        for (event, prob) in [(0u64, p), (40, 0.8f64.powi(40))] {
            let hits = draws
                .iter()
                .filter(|&&d| if event == 0 { d == 0 } else { d >= event })
                .count();
            #[allow(clippy::cast_precision_loss)]
            let f = hits as f64 / f64::from(n);
            assert!((f - prob).abs() < 5.0 * (prob * (1.0 - prob) / f64::from(n)).sqrt() + 1e-6);
        }
        assert_eq!(Geometric::new(1.0).sample(&mut rng), 0);
        assert_eq!(Geometric::new(0.0).sample(&mut rng), u64::MAX);
    }

    #[test]
    fn poisson_mean_and_zero_probability() {
        let mu = 0.6;
        let s = SmallPoisson::new(mu);
        let mut rng = sim_rng(5);
        let n = 200_000u32;
        let (mut sum, mut zeros) = (0u64, 0u32);
        for _ in 0..n {
            let k = s.sample(&mut rng);
            sum += u64::from(k);
            zeros += u32::from(k == 0);
        }
        #[allow(clippy::cast_precision_loss)]
        let mean = sum as f64 / f64::from(n);
        assert!((mean - mu).abs() < 5.0 * (mu / f64::from(n)).sqrt());
        let p0 = (-mu).exp();
        let f0 = f64::from(zeros) / f64::from(n);
        assert!((f0 - p0).abs() < 5.0 * (p0 * (1.0 - p0) / f64::from(n)).sqrt());
        assert_eq!(SmallPoisson::new(0.0).sample(&mut rng), 0);
    }
}
