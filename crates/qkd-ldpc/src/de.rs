//! Density evolution of belief propagation on the binary symmetric channel.
//!
//! Discretised density evolution (Richardson, Urbanke, "The capacity of low-density parity-check
//! codes under message-passing decoding", IEEE Trans. IT 47(2), 2001, Sec. III; the quantised
//! form of Chung, Forney, Richardson, Urbanke, IEEE Comm. Letters 5(2), 2001, eq. (2)-(5)):
//! message LLRs live on a uniform grid of step `delta` clipped to `[-max, max]`; a variable node
//! convolves the pmfs of its inputs, a check node combines pairs through the quantised table of
//! `2 atanh(tanh(a/2) tanh(b/2))`. Under the all-zero codeword (BP on the BSC is symmetric), the
//! ensemble `(lambda, rho)` decodes at crossover `p` if the error probability of the messages
//! goes to zero; the threshold is the largest such `p`, found by bisection.
//!
//! Syndrome decoding with side information (the QKD setting) has the same threshold: flipping
//! check signs by the syndrome is the coset symmetry of the channel.

use crate::LdpcError;

/// Discretisation and stopping parameters.
///
/// The defaults (step about 0.05 nat, |LLR| <= 30, up to 3000 iterations) reproduce the regular
/// `(3,6)` threshold 0.0840 and the Elkouss et al. (2009) table to 3 decimals (tests/de.rs); a
/// threshold takes seconds to a minute in release builds. Coarser grids are faster and biased low.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeConfig {
    /// Nominal grid step in nats. The step actually used is adjusted (by less than one part in
    /// `ln((1-p)/p) / delta`) so that the channel LLR of each evaluated `p` falls exactly on the
    /// grid: rounding the channel LLR would shift the evaluated crossover by up to `p(1-p) delta/2`.
    pub delta: f64,
    /// Largest LLR magnitude on the grid.
    pub max_llr: f64,
    /// Iteration budget per crossover probability.
    pub max_iterations: usize,
    /// Message error probability regarded as zero.
    pub target_error: f64,
    /// Bisection steps (the bracket starts as `[0, Shannon limit]`, about 0.11 wide at most).
    pub bisection_steps: usize,
}

impl Default for DeConfig {
    fn default() -> Self {
        Self {
            delta: 0.05,
            max_llr: 30.0,
            max_iterations: 3000,
            target_error: 1e-9,
            bisection_steps: 14,
        }
    }
}

/// An ensemble in edge perspective: `lambda = [(d, lambda_d)]`, `rho = [(d, rho_d)]`.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Ensemble {
    /// Variable-edge degree distribution.
    pub lambda: Vec<(usize, f64)>,
    /// Check-edge degree distribution.
    pub rho: Vec<(usize, f64)>,
}

impl Ensemble {
    /// The regular `(dv, dc)` ensemble.
    #[must_use]
    pub fn regular(dv: usize, dc: usize) -> Self {
        Self {
            lambda: vec![(dv, 1.0)],
            rho: vec![(dc, 1.0)],
        }
    }

    /// Design leak rate `m / n = (sum rho_d / d) / (sum lambda_d / d)`.
    #[must_use]
    pub fn leak_rate(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let inv = |v: &[(usize, f64)]| v.iter().map(|&(d, f)| f / d as f64).sum::<f64>();
        inv(&self.rho) / inv(&self.lambda)
    }

    /// The same ensemble with both distributions rescaled to sum to exactly 1 (published tables
    /// are rounded to 4-5 digits).
    #[must_use]
    pub fn normalized(&self) -> Self {
        let norm = |v: &[(usize, f64)]| {
            let s: f64 = v.iter().map(|x| x.1).sum();
            v.iter().map(|&(d, f)| (d, f / s)).collect()
        };
        Self {
            lambda: norm(&self.lambda),
            rho: norm(&self.rho),
        }
    }

    fn validate(&self) -> Result<(), LdpcError> {
        for (name, v) in [("lambda", &self.lambda), ("rho", &self.rho)] {
            let s: f64 = v.iter().map(|x| x.1).sum();
            if v.is_empty()
                || (s - 1.0).abs() > 1e-6
                || v.iter().any(|&(d, f)| !(2..=1024).contains(&d) || f < 0.0)
            {
                return Err(LdpcError::InvalidCode(format!(
                    "{name} must be degrees in 2..=1024 with nonnegative weights summing to 1"
                )));
            }
        }
        Ok(())
    }
}

/// Rescales a pmf to total mass 1: without it, rounding errors of `1 + eps` grow like
/// `(1 + eps)^(dc dv)` per iteration and blow up.
fn normalize(p: &mut [f64]) {
    let s: f64 = p.iter().sum();
    if s > 0.0 && s.is_finite() {
        p.iter_mut().for_each(|x| *x /= s);
    }
}

/// In-place iterative radix-2 complex FFT of a power-of-two length (re and im split).
struct Fft {
    n: usize,
    cos: Vec<f64>,
    sin: Vec<f64>,
    rev: Vec<usize>,
}

impl Fft {
    fn new(n: usize) -> Self {
        let bits = n.trailing_zeros();
        let rev = (0..n)
            .map(|i| {
                if bits == 0 {
                    0
                } else {
                    i.reverse_bits() >> (usize::BITS - bits)
                }
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let ang = |k: usize| -2.0 * std::f64::consts::PI * k as f64 / n as f64;
        Self {
            n,
            cos: (0..n / 2).map(|k| ang(k).cos()).collect(),
            sin: (0..n / 2).map(|k| ang(k).sin()).collect(),
            rev,
        }
    }

    /// Forward transform (`inverse = false`) or unnormalised inverse.
    fn run(&self, re: &mut [f64], im: &mut [f64], inverse: bool) {
        let n = self.n;
        for i in 0..n {
            let j = self.rev[i];
            if i < j {
                re.swap(i, j);
                im.swap(i, j);
            }
        }
        let sgn = if inverse { -1.0 } else { 1.0 };
        let mut len = 2;
        while len <= n {
            let half = len / 2;
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..half {
                    let (wr, wi) = (self.cos[k * step], sgn * self.sin[k * step]);
                    let (a, b) = (start + k, start + k + half);
                    let tr = re[b] * wr - im[b] * wi;
                    let ti = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - tr;
                    im[b] = im[a] - ti;
                    re[a] += tr;
                    im[a] += ti;
                }
            }
            len *= 2;
        }
    }
}

/// The LLR grid `{-m..=m} * delta` for one crossover probability, with the quantised check-node
/// table and the FFT used for variable nodes.
struct Grid {
    m: usize,
    k: usize,
    /// Channel LLR in grid units (exact: `delta` is chosen so).
    ch: usize,
    /// Crossover probability (mass at `-ch`).
    p_neg: f64,
    table: Vec<u16>,
    fft: Fft,
}

impl Grid {
    fn new(cfg: &DeConfig, p: f64, dv_max: usize) -> Result<Self, LdpcError> {
        if !(cfg.delta > 0.0 && cfg.max_llr > cfg.delta && cfg.max_llr / cfg.delta < 4000.0) {
            return Err(LdpcError::InvalidConfig(format!(
                "DE grid: delta {} and max_llr {} need 0 < delta < max_llr <= 4000 delta",
                cfg.delta, cfg.max_llr
            )));
        }
        let l = ((1.0 - p) / p).ln();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ch = ((l / cfg.delta).round() as usize).max(1);
        #[allow(clippy::cast_precision_loss)]
        let delta = l / ch as f64;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let m = ((cfg.max_llr / delta).round() as usize).max(ch + 1);
        let k = 2 * m + 1;
        let mut table = vec![0u16; k * k];
        #[allow(clippy::cast_precision_loss)]
        let th: Vec<f64> = (0..k)
            .map(|i| ((i as f64 - m as f64) * delta / 2.0).tanh())
            .collect();
        for i in 0..k {
            for j in 0..k {
                let t = (th[i] * th[j]).clamp(-1.0 + 1e-16, 1.0 - 1e-16);
                let out = 2.0 * t.atanh() / delta;
                // |out| <= min(|a|,|b|) <= m, so the index stays on the grid.
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let idx = (out.round() + m as f64).clamp(0.0, (k - 1) as f64) as u16;
                table[i * k + j] = idx;
            }
        }
        // Circular convolution length: sums of dv_max grid values reach +-dv_max m.
        let n = (2 * dv_max * m + 1).next_power_of_two();
        Ok(Self {
            m,
            k,
            ch,
            p_neg: p,
            table,
            fft: Fft::new(n),
        })
    }

    fn boxplus(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.k];
        for (i, &pa) in a.iter().enumerate() {
            if pa < 1e-300 {
                continue;
            }
            let row = &self.table[i * self.k..(i + 1) * self.k];
            for (j, &pb) in b.iter().enumerate() {
                out[row[j] as usize] += pa * pb;
            }
        }
        normalize(&mut out);
        out
    }

    /// Check-node output: `sum_d rho_d q^{boxplus (d-1)}`, powers by repeated squaring.
    fn check(&self, q: &[f64], rho: &[(usize, f64)]) -> Vec<f64> {
        let mut degrees: Vec<(usize, f64)> = rho.to_vec();
        degrees.sort_unstable_by_key(|x| x.0);
        let mut squares: Vec<Vec<f64>> = vec![q.to_vec()];
        let mut cur: Option<Vec<f64>> = None;
        let mut cur_pow = 0usize;
        let mut out = vec![0.0; self.k];
        for &(d, w) in &degrees {
            let diff = d - 1 - cur_pow;
            let mut bit = 0;
            while diff >> bit != 0 {
                while squares.len() <= bit {
                    let last = squares.last().map_or_else(Vec::new, |s| self.boxplus(s, s));
                    squares.push(last);
                }
                if (diff >> bit) & 1 == 1 {
                    cur = Some(match cur {
                        None => squares[bit].clone(),
                        Some(c) => self.boxplus(&c, &squares[bit]),
                    });
                }
                bit += 1;
            }
            cur_pow = d - 1;
            if let Some(c) = &cur {
                out.iter_mut().zip(c).for_each(|(o, x)| *o += w * x);
            }
        }
        out
    }

    /// Variable-node output: `sum_d lambda_d (channel * r^{*(d-1)})`, exact sums by FFT, then
    /// saturated to `[-m, m]`.
    fn variable(&self, r: &[f64], lambda: &[(usize, f64)], dv_max: usize) -> Vec<f64> {
        let n = self.fft.n;
        let (m, ch) = (self.m, self.ch);
        let mut re = vec![0.0; n];
        let mut im = vec![0.0; n];
        for (i, &x) in r.iter().enumerate() {
            re[(i + n - m) % n] = x;
        }
        self.fft.run(&mut re, &mut im, false);
        let mut w = vec![0.0; dv_max + 1];
        for &(d, f) in lambda {
            w[d] += f;
        }
        // The channel pmf: p at -ch, 1-p at +ch.
        let (p_neg, p_pos) = (self.p_neg, 1.0 - self.p_neg);
        #[allow(clippy::cast_precision_loss)]
        let base = -2.0 * std::f64::consts::PI * ch as f64 / n as f64;
        for f in 0..n {
            let (rr, ri) = (re[f], im[f]);
            let (mut pr, mut pi) = (1.0, 0.0);
            let (mut ar, mut ai) = (0.0, 0.0);
            for &wd in &w[2..] {
                let t = pr * rr - pi * ri;
                pi = pr * ri + pi * rr;
                pr = t;
                if wd != 0.0 {
                    ar += wd * pr;
                    ai += wd * pi;
                }
            }
            #[allow(clippy::cast_precision_loss)]
            let (s, c) = (base * f as f64).sin_cos();
            // Channel transform: p_pos e^{-i theta} + p_neg e^{+i theta}.
            let cr = (p_pos + p_neg) * c;
            let ci = (p_pos - p_neg) * s;
            re[f] = ar * cr - ai * ci;
            im[f] = ar * ci + ai * cr;
        }
        self.fft.run(&mut re, &mut im, true);
        let mut out = vec![0.0; self.k];
        #[allow(clippy::cast_precision_loss)]
        let scale = 1.0 / n as f64;
        for (idx, &x) in re.iter().enumerate() {
            let v = if idx < n / 2 {
                idx.min(m) + m
            } else {
                m - (n - idx).min(m)
            };
            out[v] += (x * scale).max(0.0);
        }
        normalize(&mut out);
        out
    }

    fn error(&self, a: &[f64]) -> f64 {
        a[..self.m].iter().sum::<f64>() + 0.5 * a[self.m]
    }
}

/// Runs density evolution at crossover `p`; returns true if the message error probability falls
/// below `cfg.target_error` within the iteration budget.
///
/// # Errors
/// [`LdpcError`] for an invalid ensemble, crossover or grid.
pub fn converges(ens: &Ensemble, p: f64, cfg: &DeConfig) -> Result<bool, LdpcError> {
    ens.validate()?;
    if !(p > 0.0 && p < 0.5) {
        return Err(LdpcError::InvalidConfig(format!(
            "crossover {p} not in (0, 0.5)"
        )));
    }
    run(ens, p, cfg)
}

fn run(ens: &Ensemble, p: f64, cfg: &DeConfig) -> Result<bool, LdpcError> {
    let dv_max = ens.lambda.iter().map(|x| x.0).max().unwrap_or(2);
    let g = Grid::new(cfg, p, dv_max)?;
    let mut q = vec![0.0; g.k];
    q[g.m + g.ch] = 1.0 - p;
    q[g.m - g.ch] = p;
    let mut last = f64::INFINITY;
    let mut stall = 0;
    for _ in 0..cfg.max_iterations {
        let r = g.check(&q, &ens.rho);
        q = g.variable(&r, &ens.lambda, dv_max);
        let e = g.error(&q);
        if e < cfg.target_error {
            return Ok(true);
        }
        // A fixed point above threshold: the error stops decreasing.
        if e > last * (1.0 - 1e-7) {
            stall += 1;
            if stall > 30 {
                return Ok(false);
            }
        } else {
            stall = 0;
        }
        last = e;
    }
    Ok(false)
}

/// The crossover `p` in `[0, 0.5]` with `h(p) = r`: the Shannon limit of a code of leak rate `r`.
#[must_use]
pub fn shannon_limit(leak_rate: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 0.5);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if qkd_core::binary_entropy(mid) < leak_rate {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// The BP threshold of `ens` on the BSC: the largest crossover probability that decodes, by
/// bisection on `[0, shannon_limit(leak rate)]` (no threshold lies above the Shannon limit).
///
/// # Errors
/// [`LdpcError`] for an invalid ensemble or grid.
pub fn bsc_threshold(ens: &Ensemble, cfg: &DeConfig) -> Result<f64, LdpcError> {
    ens.validate()?;
    let (mut lo, mut hi) = (0.0, shannon_limit(ens.leak_rate().min(1.0)) + 1e-3);
    for _ in 0..cfg.bisection_steps {
        let mid = 0.5 * (lo + hi);
        if run(ens, mid, cfg)? {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(0.5 * (lo + hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leak_rate_of_regular_ensembles() {
        assert!((Ensemble::regular(3, 6).leak_rate() - 0.5).abs() < 1e-12);
        assert!((Ensemble::regular(3, 4).leak_rate() - 0.75).abs() < 1e-12);
    }

    #[test]
    fn invalid_ensemble_is_an_error() {
        let e = Ensemble {
            lambda: vec![(3, 0.5)],
            rho: vec![(6, 1.0)],
        };
        assert!(bsc_threshold(&e, &DeConfig::default()).is_err());
    }
}
