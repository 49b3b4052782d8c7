//! Window statistics in O(1) per query: masked prefix sums for least-squares lines and means, a
//! local noise estimate, and the ramp fit that locates an event to a sample.

use super::usize_to_f64;

/// Prefix sums of a trace (or a difference trace) with a validity mask.
///
/// Index sums use coordinates relative to the first sample; f64 keeps them exact to well below the
/// noise for traces of up to 2^25 samples.
pub(crate) struct Prefix {
    n: Vec<f64>,
    sx: Vec<f64>,
    sxx: Vec<f64>,
    sy: Vec<f64>,
    sxy: Vec<f64>,
    /// Sum of squared pulse-lag differences `(y[j+lag] - y[j])^2` (both valid), and their count.
    sdd: Vec<f64>,
    ndd: Vec<f64>,
}

/// A least-squares line over a window.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Line {
    pub(crate) mean_x: f64,
    pub(crate) mean_y: f64,
    pub(crate) slope: f64,
}

impl Line {
    pub(crate) fn at(&self, x: f64) -> f64 {
        self.mean_y + self.slope * (x - self.mean_x)
    }
}

impl Prefix {
    pub(crate) fn new(y: &[f64], valid: &[bool], lag: usize) -> Self {
        let len = y.len() + 1;
        let mut p = Self {
            n: Vec::with_capacity(len),
            sx: Vec::with_capacity(len),
            sxx: Vec::with_capacity(len),
            sy: Vec::with_capacity(len),
            sxy: Vec::with_capacity(len),
            sdd: Vec::with_capacity(len),
            ndd: Vec::with_capacity(len),
        };
        let (mut n, mut sx, mut sxx, mut sy, mut sxy, mut sdd, mut ndd) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        let push = |p: &mut Self, v: [f64; 7]| {
            p.n.push(v[0]);
            p.sx.push(v[1]);
            p.sxx.push(v[2]);
            p.sy.push(v[3]);
            p.sxy.push(v[4]);
            p.sdd.push(v[5]);
            p.ndd.push(v[6]);
        };
        push(&mut p, [0.0; 7]);
        for (j, (&v, &ok)) in y.iter().zip(valid).enumerate() {
            if ok {
                let x = usize_to_f64(j);
                n += 1.0;
                sx += x;
                sxx += x * x;
                sy += v;
                sxy += x * v;
            }
            if j + lag < y.len() && ok && valid[j + lag] {
                let d = y[j + lag] - v;
                sdd += d * d;
                ndd += 1.0;
            }
            push(&mut p, [n, sx, sxx, sy, sxy, sdd, ndd]);
        }
        p
    }

    /// Number of valid samples in `[s, e)`.
    pub(crate) fn count(&self, s: usize, e: usize) -> f64 {
        self.n[e] - self.n[s]
    }

    /// Mean of the valid samples in `[s, e)`.
    pub(crate) fn mean(&self, s: usize, e: usize) -> Option<(f64, f64)> {
        let c = self.count(s, e);
        (c >= 2.0).then(|| ((self.sy[e] - self.sy[s]) / c, c))
    }

    /// Least-squares line through the valid samples in `[s, e)`.
    pub(crate) fn line(&self, s: usize, e: usize) -> Option<Line> {
        let c = self.count(s, e);
        if c < 3.0 {
            return None;
        }
        let mx = (self.sx[e] - self.sx[s]) / c;
        let my = (self.sy[e] - self.sy[s]) / c;
        let vxx = (self.sxx[e] - self.sxx[s]) - c * mx * mx;
        let vxy = (self.sxy[e] - self.sxy[s]) - c * mx * my;
        if vxx <= 0.0 {
            return None;
        }
        Some(Line {
            mean_x: mx,
            mean_y: my,
            slope: vxy / vxx,
        })
    }

    /// Per-sample noise rms over `[s, e)` from pulse-lag differences (independent samples for
    /// band-limited noise): `sigma^2 = E[(y[j+lag] - y[j])^2] / 2`.
    pub(crate) fn sigma(&self, s: usize, e: usize) -> Option<f64> {
        let c = self.ndd[e] - self.ndd[s];
        (c >= 4.0).then(|| ((self.sdd[e] - self.sdd[s]) / (2.0 * c)).max(0.0).sqrt())
    }
}

/// The result of fitting an event ramp.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RampFit {
    /// First sample affected by the event.
    pub(crate) start: usize,
    /// Step size: level before minus level after, extrapolated to the event [dB].
    pub(crate) loss_db: f64,
    /// Slope of the background [dB per sample] (0 when not fitted).
    pub(crate) slope: f64,
}

/// Locates a step event near `center` by least squares over candidate starts `k` in
/// `center +- search`: model `y = a + s (x - k) - L r(x - k)`, with `r` the pulse ramp (0 before
/// `k`, rising by `1/wn` per sample, 1 after `k + wn - 1`), over `[k - w, k + wn + w)` (valid
/// samples only). The start with the smallest residual wins: the matched-filter (maximum
/// likelihood under Gaussian noise) estimate of the position.
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_ramp(
    y: &[f64],
    valid: &[bool],
    center: usize,
    search: usize,
    wn: usize,
    w: usize,
    with_slope: bool,
    limit: usize,
) -> Option<RampFit> {
    let wn_f = usize_to_f64(wn);
    let lo_k = center.saturating_sub(search).max(w);
    let hi_k = (center + search).min(limit.saturating_sub(wn + 2));
    let mut best: Option<(f64, RampFit)> = None;
    // Centre the levels so the residual sum does not cancel against a large y'y.
    let y0 = y.get(center).copied().unwrap_or(0.0);
    for k in lo_k..=hi_k {
        let s = k - w.min(k);
        let e = (k + wn + w).min(limit);
        // Normal equations for (a, s, L) with regressors 1, x - k, -r.
        let mut m = [[0.0f64; 3]; 3];
        let mut b = [0.0f64; 3];
        let mut yy = 0.0;
        for j in s..e {
            if !valid[j] {
                continue;
            }
            let x = usize_to_f64(j) - usize_to_f64(k);
            let r = if j < k {
                0.0
            } else {
                (usize_to_f64(j - k + 1) / wn_f).min(1.0)
            };
            let reg = [1.0, if with_slope { x } else { 0.0 }, -r];
            for (p, &rp) in reg.iter().enumerate() {
                for (q, &rq) in reg.iter().enumerate() {
                    m[p][q] += rp * rq;
                }
                b[p] += rp * (y[j] - y0);
            }
            yy += (y[j] - y0) * (y[j] - y0);
        }
        if !with_slope {
            m[1][1] = 1.0;
        }
        let Some(sol) = solve3(m, b) else { continue };
        // SSE = y'y - beta' X'y for the least-squares beta.
        let sse = yy - (sol[0] * b[0] + sol[1] * b[1] + sol[2] * b[2]);
        let fit = RampFit {
            start: k,
            loss_db: sol[2],
            slope: sol[1],
        };
        if best.as_ref().is_none_or(|(bs, _)| sse < *bs) {
            best = Some((sse, fit));
        }
    }
    best.map(|(_, f)| f)
}

/// Solves a 3x3 system by Cramer's rule; `None` when singular.
fn solve3(m: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |a: [[f64; 3]; 3]| {
        a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
    };
    let d = det(m);
    if d.abs() < 1e-12 * (m[0][0] * m[2][2]).abs().max(1e-300) {
        return None;
    }
    let mut out = [0.0; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let mut mc = m;
        for r in 0..3 {
            mc[r][c] = b[r];
        }
        *o = det(mc) / d;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_fit_finds_a_clean_step() {
        let wn = 8;
        let k0 = 500;
        let y: Vec<f64> = (0..1200)
            .map(|j| {
                let r = if j < k0 {
                    0.0
                } else {
                    (usize_to_f64(j - k0 + 1) / 8.0).min(1.0)
                };
                -10.0 - 0.001 * usize_to_f64(j) - 0.3 * r
            })
            .collect();
        let valid = vec![true; y.len()];
        let f = fit_ramp(&y, &valid, 505, 20, wn, 200, true, y.len()).unwrap();
        assert_eq!(f.start, k0);
        assert!((f.loss_db - 0.3).abs() < 1e-9, "{}", f.loss_db);
        assert!((f.slope + 0.001).abs() < 1e-9);
        let p = Prefix::new(&y, &valid, wn);
        let l = p.line(0, 400).unwrap();
        assert!((l.slope + 0.001).abs() < 1e-9);
        assert!((l.at(450.0) - (-10.45)).abs() < 1e-9);
    }
}
