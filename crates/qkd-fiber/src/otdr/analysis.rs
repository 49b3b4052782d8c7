//! Event analysis of a single trace: reflective peaks, non-reflective steps, the fiber end.
//!
//! Method (the two-window least-squares approach of IEC 61746 / Telcordia "LSA" loss):
//! - fiber end: the last sample whose level is `end_threshold_db` above the noise floor (median
//!   of the trace's tail); the end is one pulse length before it;
//! - reflective events: samples that rise above the least-squares backscatter line of the
//!   preceding window by more than `max(reflection_height_db, k sigma)`; reflectance from the peak
//!   height `H` as `R = BSC + 10 log10(pulse_ns) + 10 log10(10^(H/5) - 1)`;
//! - non-reflective events: the step between a line fitted before and one fitted after a candidate
//!   position (extrapolated to it) exceeds `max(loss_threshold_db, k sigma_step)`, with
//!   `sigma_step = sigma sqrt(8 wn / w)` (the variance of a least-squares line at its window edge
//!   is `4 sigma^2 / n_eff`, `n_eff = w / wn` independent samples of band-limited noise); the
//!   position is then refined by a ramp fit (matched filter) to the sample.
//!
//! `sigma` is the local per-sample noise estimated from pulse-lag differences, so thresholds follow
//! the noise as it grows along the fiber.

use super::fit::{Prefix, fit_ramp};
use super::{Trace, round_to_usize, usize_to_f64};
use crate::error::{FiberError, check_range};

/// Thresholds and windows of the event analysis.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct AnalysisConfig {
    /// Smallest reported non-reflective loss [dB] (|loss|, so gainers too).
    pub loss_threshold_db: f64,
    /// Smallest reported reflective peak height above the backscatter [dB].
    pub reflection_height_db: f64,
    /// Level above the noise floor that still counts as fiber [dB].
    pub end_threshold_db: f64,
    /// Detection threshold in noise standard deviations.
    pub sigma_factor: f64,
    /// Length of each least-squares window [m] (at least 3 pulse lengths are used).
    pub fit_window_m: f64,
    /// Distance skipped after a reflective peak before fitting the line after it [m] (the
    /// attenuation dead zone of the receiver).
    pub dead_zone_m: f64,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        Self {
            loss_threshold_db: 0.03,
            reflection_height_db: 0.5,
            end_threshold_db: 3.0,
            sigma_factor: 6.0,
            fit_window_m: 150.0,
            dead_zone_m: 60.0,
        }
    }
}

impl AnalysisConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`FiberError::InvalidParameter`] naming the first bad field.
    pub fn validate(&self) -> Result<(), FiberError> {
        check_range(
            "loss_threshold_db",
            self.loss_threshold_db,
            0.0,
            30.0,
            "in [0, 30] dB",
        )?;
        check_range(
            "reflection_height_db",
            self.reflection_height_db,
            0.0,
            60.0,
            "in [0, 60] dB",
        )?;
        check_range(
            "end_threshold_db",
            self.end_threshold_db,
            0.1,
            60.0,
            "in [0.1, 60] dB",
        )?;
        check_range("sigma_factor", self.sigma_factor, 0.0, 100.0, "in [0, 100]")?;
        check_range(
            "fit_window_m",
            self.fit_window_m,
            0.1,
            1e5,
            "in [0.1 m, 100 km]",
        )?;
        check_range("dead_zone_m", self.dead_zone_m, 0.0, 1e5, "in [0, 100 km]")
    }
}

/// What kind of event the analysis found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum DetectedKind {
    /// A reflective event (connector, mechanical splice, crack).
    Reflective,
    /// A non-reflective loss (splice, bend, tap).
    NonReflective,
    /// An apparent gain (backscatter mismatch at a splice).
    Gain,
    /// The fiber end (reflective when `reflectance_db` is set).
    End,
}

impl DetectedKind {
    /// Short name for tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DetectedKind::Reflective => "reflective",
            DetectedKind::NonReflective => "non-reflective",
            DetectedKind::Gain => "gain",
            DetectedKind::End => "end",
        }
    }
}

/// One event found in a trace.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DetectedEvent {
    /// Position (start of the event) [m].
    pub position_m: f64,
    /// Kind.
    pub kind: DetectedKind,
    /// One-way loss [dB] (negative for a gain; `None` when no line fits after it, e.g. at the end).
    pub loss_db: Option<f64>,
    /// Reflectance [dB] for reflective events (a lower bound when `saturated`).
    pub reflectance_db: Option<f64>,
    /// The peak reached the receiver's saturation level.
    pub saturated: bool,
    /// Attenuation of the fiber before the event [dB/km].
    pub attenuation_before_db_per_km: Option<f64>,
    /// Size of the event over its detection threshold, in noise standard deviations.
    pub significance_sigma: f64,
}

/// Internal geometry shared by analysis and comparison.
pub(crate) struct Geometry {
    pub(crate) wn: usize,
    pub(crate) w: usize,
    pub(crate) dead: usize,
}

impl Geometry {
    pub(crate) fn new(trace: &Trace, fit_window_m: f64, dead_zone_m: f64) -> Self {
        let wn = trace.pulse_samples();
        let w = round_to_usize(fit_window_m / trace.sample_spacing_m)
            .max(3 * wn)
            .max(8);
        let dead = round_to_usize(dead_zone_m / trace.sample_spacing_m).max(wn);
        Self { wn, w, dead }
    }
}

pub(crate) fn validate_trace(trace: &Trace) -> Result<(), FiberError> {
    if trace.levels_db.len() < 16 {
        return Err(FiberError::Empty("a trace needs at least 16 samples"));
    }
    check_range(
        "sample_spacing_m",
        trace.sample_spacing_m,
        1e-3,
        1e3,
        "in [1 mm, 1 km]",
    )?;
    check_range(
        "pulse_width_ns",
        trace.pulse_width_ns,
        0.1,
        1e6,
        "in [0.1 ns, 1 ms]",
    )?;
    check_range("group_index", trace.group_index, 1.0, 2.0, "in [1, 2]")?;
    if let Some(&bad) = trace.levels_db.iter().find(|v| !v.is_finite()) {
        return Err(FiberError::InvalidParameter {
            name: "levels_db",
            value: bad,
            reason: "every level must be finite",
        });
    }
    Ok(())
}

/// Noise floor (median of the last 2 % of samples, at least 64) and the fiber end: the index one
/// past the last sample of fiber, if the trace falls to the floor before the end of the range.
///
/// Coarse search: the last place where the level averaged over 16 pulse lengths (so the
/// log-of-noise spikes of the floor average out) is `end_threshold_db` above the floor. Fine
/// search: around it, the last sample above the midpoint between the fiber level just before and
/// the floor.
pub(crate) fn find_end(y: &[f64], wn: usize, end_threshold_db: f64) -> (f64, Option<usize>) {
    let n = y.len();
    let tail = (n / 50).max(64).min(n);
    let mut t: Vec<f64> = y[n - tail..].to_vec();
    t.sort_by(f64::total_cmp);
    let floor = t[t.len() / 2];
    let m = (16 * wn).min(n / 4).max(1);
    // Centred moving average over m samples: smooth[j] averages y[j - m/2 .. j + m/2).
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0.0);
    for &v in y {
        let last = *prefix.last().unwrap_or(&0.0);
        prefix.push(last + v);
    }
    let half = m / 2;
    let avg = |j: usize| {
        let s = j.saturating_sub(half);
        let e = (j + half + 1).min(n);
        (prefix[e] - prefix[s]) / usize_to_f64(e - s)
    };
    let Some(coarse) = (0..n).rev().find(|&j| avg(j) > floor + end_threshold_db) else {
        return (floor, None);
    };
    if coarse + tail + half >= n {
        return (floor, None);
    }
    let before_s = coarse.saturating_sub(3 * m);
    let before_e = coarse.saturating_sub(m).max(before_s + 1);
    let level = (prefix[before_e] - prefix[before_s]) / usize_to_f64(before_e - before_s);
    let mid = 0.5 * (level + floor);
    let lo = coarse.saturating_sub(m);
    let hi = (coarse + m).min(n);
    let fine = (lo..hi).rev().find(|&j| y[j] > mid).unwrap_or(coarse);
    (floor, Some(fine + 1))
}

/// Collects step candidates `(index, strength, sigma)`: of each run of consecutive hits, only the
/// strongest is kept (one event makes a run of hits as the window slides across it).
#[derive(Debug, Default)]
pub(crate) struct RunPeaks {
    peaks: Vec<(usize, f64, f64)>,
    run: Option<(usize, f64, f64)>,
}

impl RunPeaks {
    /// Feeds the next sample's hit (`None` ends the current run).
    pub(crate) fn push(&mut self, hit: Option<(usize, f64, f64)>) {
        match (hit, self.run) {
            (Some(h), Some(r)) if h.1 <= r.1 => {}
            (Some(h), _) => self.run = Some(h),
            (None, Some(r)) => {
                self.peaks.push(r);
                self.run = None;
            }
            (None, None) => {}
        }
    }

    /// The strongest hit of every run, in order.
    pub(crate) fn finish(mut self) -> Vec<(usize, f64, f64)> {
        if let Some(r) = self.run.take() {
            self.peaks.push(r);
        }
        self.peaks
    }
}

/// Keeps the strongest candidates at least `radius` samples apart (non-maximum suppression: a
/// step inside one fit window makes opposite-sign side lobes one window away).
pub(crate) fn suppress(mut c: Vec<(usize, f64, f64)>, radius: usize) -> Vec<(usize, f64, f64)> {
    c.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut kept: Vec<(usize, f64, f64)> = Vec::new();
    for x in c {
        if kept.iter().all(|k| k.0.abs_diff(x.0) > radius) {
            kept.push(x);
        }
    }
    kept.sort_by_key(|k| k.0);
    kept
}

/// Finds the events of `trace`.
///
/// # Errors
/// [`FiberError::Empty`] for fewer than 16 samples, [`FiberError::InvalidParameter`] for a bad
/// config, sample spacing, pulse width or a non-finite level.
pub fn analyze(trace: &Trace, cfg: &AnalysisConfig) -> Result<Vec<DetectedEvent>, FiberError> {
    cfg.validate()?;
    validate_trace(trace)?;
    let y = &trace.levels_db;
    let n = y.len();
    let g = Geometry::new(trace, cfg.fit_window_m, cfg.dead_zone_m);
    let (wn, w) = (g.wn, g.w);
    let (_floor, end) = find_end(y, wn, cfg.end_threshold_db);
    // The region where the fiber's backscatter is visible.
    let limit = end.map_or(n, |e| e.saturating_sub(wn).max(1));
    let valid = vec![true; n];
    let pre = Prefix::new(y, &valid, wn);
    let dx_km = trace.sample_spacing_m * 1e-3;
    let k = cfg.sigma_factor;
    let sigma_at = |s: usize, e: usize| pre.sigma(s, e.min(n)).unwrap_or(0.0);

    // Reflective peaks against the preceding line.
    let mut blocked = vec![false; n];
    let mut events = Vec::new();
    let mut i = w + 1;
    while i < limit.min(n) {
        let Some(line) = pre.line(i - 1 - w, i - 1) else {
            i += 1;
            continue;
        };
        let base = line.at(usize_to_f64(i));
        let sigma = sigma_at(i - 1 - w, i - 1);
        let thr = cfg.reflection_height_db.max(k * sigma);
        if y[i] - base <= thr {
            i += 1;
            continue;
        }
        let start = i;
        let mut peak = y[i] - base;
        let mut j = i;
        while j < n && y[j] - line.at(usize_to_f64(j)) > 0.5 * thr {
            peak = peak.max(y[j] - line.at(usize_to_f64(j)));
            j += 1;
        }
        let peak_end = j.max(start + wn);
        let saturated = y[start..peak_end.min(n)]
            .iter()
            .any(|&v| v >= trace.saturation_db - 0.05);
        let reflectance = trace.backscatter_db
            + 10.0 * trace.pulse_width_ns.log10()
            + 10.0 * (10f64.powf(peak / 5.0) - 1.0).log10();
        let after_s = peak_end + g.dead;
        let loss = if after_s + w <= limit {
            pre.line(after_s, after_s + w)
                .map(|a| base - a.at(usize_to_f64(start)))
        } else {
            None
        };
        let block_end = (peak_end + g.dead).min(n);
        for b in &mut blocked[start..block_end] {
            *b = true;
        }
        events.push(DetectedEvent {
            position_m: (usize_to_f64(start) - 0.5).max(0.0) * trace.sample_spacing_m,
            kind: DetectedKind::Reflective,
            loss_db: loss,
            reflectance_db: Some(reflectance),
            saturated,
            attenuation_before_db_per_km: Some(-line.slope / dx_km),
            significance_sigma: if sigma > 0.0 {
                peak / sigma
            } else {
                f64::INFINITY
            },
        });
        // Restart the search once the preceding window is clear of this peak.
        i = block_end + w + 1;
    }
    // The launch region (front-panel peak and its dead zone) is blocked too.
    let launch_end = y
        .iter()
        .position(|&v| v < trace.saturation_db - 0.05)
        .unwrap_or(0)
        + wn
        + g.dead;
    for b in blocked.iter_mut().take(launch_end.min(n)) {
        *b = true;
    }

    // Non-reflective steps.
    let mut blocked_prefix = Vec::with_capacity(n + 1);
    blocked_prefix.push(0usize);
    for &b in &blocked {
        let last = *blocked_prefix.last().unwrap_or(&0);
        blocked_prefix.push(last + usize::from(b));
    }
    let clean = |s: usize, e: usize| blocked_prefix[e] == blocked_prefix[s];
    let step_sigma_factor = (8.0 * usize_to_f64(wn) / usize_to_f64(w)).sqrt();
    let mut peaks = RunPeaks::default(); // (index, |step|/thr, sigma) per run of hits
    let hi = limit.saturating_sub(wn + w + 1);
    for i in (w + 1)..hi.max(w + 1) {
        let (bs, be, as_, ae) = (i - 1 - w, i - 1, i + wn, i + wn + w);
        let hit = if clean(bs, ae) {
            match (pre.line(bs, be), pre.line(as_, ae)) {
                (Some(b), Some(a)) => {
                    let x = usize_to_f64(i);
                    let step = b.at(x) - a.at(x);
                    let sigma = sigma_at(bs, ae);
                    let thr = cfg.loss_threshold_db.max(k * sigma * step_sigma_factor);
                    (step.abs() > thr).then_some((i, step.abs() / thr.max(1e-12), sigma))
                }
                _ => None,
            }
        } else {
            None
        };
        peaks.push(hit);
    }
    let candidates = peaks.finish();
    for (c, _, sigma) in suppress(candidates, w + wn) {
        let Some(fit) = fit_ramp(y, &valid, c, 2 * wn, wn, w, true, limit) else {
            continue;
        };
        if fit.loss_db.abs() < cfg.loss_threshold_db {
            continue;
        }
        let sig = sigma * step_sigma_factor;
        events.push(DetectedEvent {
            position_m: (usize_to_f64(fit.start) - 0.5).max(0.0) * trace.sample_spacing_m,
            kind: if fit.loss_db >= 0.0 {
                DetectedKind::NonReflective
            } else {
                DetectedKind::Gain
            },
            loss_db: Some(fit.loss_db),
            reflectance_db: None,
            saturated: false,
            attenuation_before_db_per_km: Some(-fit.slope / dx_km),
            significance_sigma: if sig > 0.0 {
                fit.loss_db.abs() / sig
            } else {
                f64::INFINITY
            },
        });
    }

    // The end: a reflective peak within a pulse + dead zone of the fall becomes the end event.
    if let Some(e) = end {
        let fall = e.saturating_sub(wn);
        let end_pos = usize_to_f64(fall) * trace.sample_spacing_m;
        let mut end_pos_final = end_pos;
        let near = events.iter().position(|ev| {
            ev.kind == DetectedKind::Reflective
                && ev.position_m + usize_to_f64(2 * wn + 4 * g.dead) * trace.sample_spacing_m
                    >= end_pos
        });
        match near {
            Some(p) => {
                events[p].kind = DetectedKind::End;
                events[p].loss_db = None;
                end_pos_final = events[p].position_m;
            }
            None => events.push(DetectedEvent {
                position_m: end_pos,
                kind: DetectedKind::End,
                loss_db: None,
                reflectance_db: None,
                saturated: false,
                attenuation_before_db_per_km: None,
                significance_sigma: cfg.end_threshold_db,
            }),
        }
        // Anything found beyond the end is noise.
        events.retain(|ev| ev.kind == DetectedKind::End || ev.position_m < end_pos_final);
    }
    events.sort_by(|a, b| a.position_m.total_cmp(&b.position_m));
    Ok(events)
}
