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
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DeConfig {
    /// Grid step in nats.
    pub delta: f64,
    /// Largest LLR magnitude on the grid.
    pub max_llr: f64,
    /// Iteration budget per crossover probability.
    pub max_iterations: usize,
    /// Message error probability regarded as zero.
    pub target_error: f64,
    /// Bisection steps.
    pub bisection_steps: usize,
}

impl Default for DeConfig {
    fn default() -> Self {
        Self {
            delta: 0.25,
            max_llr: 20.0,
            max_iterations: 400,
            target_error: 1e-7,
            bisection_steps: 13,
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

    fn validate(&self) -> Result<(), LdpcError> {
        for (name, v) in [("lambda", &self.lambda), ("rho", &self.rho)] {
            let s: f64 = v.iter().map(|x| x.1).sum();
            if v.is_empty() || (s - 1.0).abs() > 1e-6 || v.iter().any(|&(d, f)| d < 2 || f < 0.0) {
                return Err(LdpcError::InvalidCode(format!(
                    "{name} must be degrees >= 2 with nonnegative weights summing to 1"
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

struct Grid {
    m: usize,
    k: usize,
    table: Vec<u16>,
}

impl Grid {
    fn new(cfg: &DeConfig) -> Result<Self, LdpcError> {
        if !(cfg.delta > 0.0 && cfg.max_llr > cfg.delta && cfg.max_llr / cfg.delta < 4000.0) {
            return Err(LdpcError::InvalidConfig("DE grid".into()));
        }
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let m = (cfg.max_llr / cfg.delta).round() as usize;
        let k = 2 * m + 1;
        let mut table = vec![0u16; k * k];
        #[allow(clippy::cast_precision_loss)]
        let val = |i: usize| (i as f64 - m as f64) * cfg.delta;
        for i in 0..k {
            for j in 0..k {
                let t = ((val(i) / 2.0).tanh() * (val(j) / 2.0).tanh())
                    .clamp(-1.0 + 1e-15, 1.0 - 1e-15);
                let out = 2.0 * t.atanh() / cfg.delta;
                // |out| <= m by construction (|box-plus| <= min(|a|,|b|)).
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    clippy::cast_precision_loss
                )]
                let idx = (out.round() + m as f64).clamp(0.0, (k - 1) as f64) as u16;
                table[i * k + j] = idx;
            }
        }
        Ok(Self { m, k, table })
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

    fn conv(&self, a: &[f64], b: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; self.k];
        let (m, k) = (self.m, self.k);
        for (i, &pa) in a.iter().enumerate() {
            if pa < 1e-300 {
                continue;
            }
            for (j, &pb) in b.iter().enumerate() {
                let s = (i + j).saturating_sub(m).min(k - 1);
                out[s] += pa * pb;
            }
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
/// [`LdpcError`] for an invalid ensemble or grid.
pub fn converges(ens: &Ensemble, p: f64, cfg: &DeConfig) -> Result<bool, LdpcError> {
    ens.validate()?;
    let g = Grid::new(cfg)?;
    Ok(run(&g, ens, p, cfg))
}

fn run(g: &Grid, ens: &Ensemble, p: f64, cfg: &DeConfig) -> bool {
    let l = ((1.0 - p) / p).ln() / cfg.delta;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let li = (l.round() as usize).min(g.m);
    let mut ch = vec![0.0; g.k];
    ch[g.m + li] += 1.0 - p;
    ch[g.m - li] += p;
    let dc_max = ens.rho.iter().map(|x| x.0).max().unwrap_or(2);
    let dv_max = ens.lambda.iter().map(|x| x.0).max().unwrap_or(2);
    let mut q = ch.clone();
    let mut last = f64::INFINITY;
    let mut stall = 0;
    for _ in 0..cfg.max_iterations {
        // Check nodes: mixture over rho of (dc - 1)-fold box-plus powers.
        let mut r = vec![0.0; g.k];
        let mut pw = q.clone();
        for d in 2..=dc_max {
            if let Some(&(_, w)) = ens.rho.iter().find(|x| x.0 == d) {
                r.iter_mut().zip(&pw).for_each(|(a, b)| *a += w * b);
            }
            if d < dc_max {
                pw = g.boxplus(&pw, &q);
            }
        }
        // Variable nodes: channel convolved with (dv - 1) check messages, mixed over lambda.
        let mut nq = vec![0.0; g.k];
        let mut pw = ch.clone();
        for d in 2..=dv_max {
            pw = g.conv(&pw, &r);
            if let Some(&(_, w)) = ens.lambda.iter().find(|x| x.0 == d) {
                nq.iter_mut().zip(&pw).for_each(|(a, b)| *a += w * b);
            }
        }
        q = nq;
        let e = g.error(&q);
        if e < cfg.target_error {
            return true;
        }
        if e > last * (1.0 - 1e-6) {
            stall += 1;
            if stall > 20 {
                return false;
            }
        } else {
            stall = 0;
        }
        last = e;
    }
    false
}

/// The BP threshold of `ens` on the BSC: the largest crossover probability that decodes.
///
/// # Errors
/// [`LdpcError`] for an invalid ensemble or grid.
pub fn bsc_threshold(ens: &Ensemble, cfg: &DeConfig) -> Result<f64, LdpcError> {
    ens.validate()?;
    let g = Grid::new(cfg)?;
    let (mut lo, mut hi) = (1e-4, 0.5);
    for _ in 0..cfg.bisection_steps {
        let mid = 0.5 * (lo + hi);
        if run(&g, ens, mid, cfg) {
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
