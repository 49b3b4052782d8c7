//! Comparison of a trace with a reference (baseline) trace: how a tap is found and located.
//!
//! Both traces come from the same OTDR settings, so their difference `d = test - baseline` (in dB)
//! is flat noise where nothing changed, steps down by the added loss after a new loss event (a tap,
//! a bend), and peaks at a new reflection. Everything the two traces share (connectors, splices,
//! the fiber's own slope) cancels, which is why a referenced OTDR resolves ~0.01 dB changes that a
//! single-trace analysis cannot separate from the fiber's own events.
//!
//! Detection on `d`: mean of a window before minus mean of a window after each candidate
//! (`sigma_step = sigma sqrt(2 wn / w)` for band-limited noise with `w / wn` independent samples
//! per window) against `max(min_change_db, k sigma_step)`; the change is then located by the ramp
//! fit of [`crate::otdr`] (matched filter) and its size is the fitted step. Saturated samples and
//! samples below the noise floor of either trace are masked out.

use super::analysis::{
    AnalysisConfig, DetectedEvent, Geometry, RunPeaks, analyze, find_end, suppress, validate_trace,
};
use super::fit::{Prefix, fit_ramp};
use super::{Trace, usize_to_f64};
use crate::error::{FiberError, check_range};

/// Thresholds of the comparison.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct CompareConfig {
    /// Smallest reported change of loss [dB].
    pub min_change_db: f64,
    /// Smallest reported new reflection height [dB].
    pub reflection_change_db: f64,
    /// Detection threshold in noise standard deviations.
    pub sigma_factor: f64,
    /// Averaging window on each side of a candidate [m].
    pub window_m: f64,
    /// Samples skipped after a new peak [m].
    pub dead_zone_m: f64,
    /// Settings for the single-trace analyses that annotate the changes.
    pub analysis: AnalysisConfig,
}

impl Default for CompareConfig {
    fn default() -> Self {
        Self {
            min_change_db: 0.05,
            reflection_change_db: 0.3,
            sigma_factor: 6.0,
            window_m: 200.0,
            dead_zone_m: 60.0,
            analysis: AnalysisConfig::default(),
        }
    }
}

impl CompareConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`FiberError::InvalidParameter`] naming the first bad field.
    pub fn validate(&self) -> Result<(), FiberError> {
        check_range(
            "min_change_db",
            self.min_change_db,
            0.0,
            30.0,
            "in [0, 30] dB",
        )?;
        check_range(
            "reflection_change_db",
            self.reflection_change_db,
            0.0,
            60.0,
            "in [0, 60] dB",
        )?;
        check_range("sigma_factor", self.sigma_factor, 0.0, 100.0, "in [0, 100]")?;
        check_range("window_m", self.window_m, 0.1, 1e5, "in [0.1 m, 100 km]")?;
        check_range("dead_zone_m", self.dead_zone_m, 0.0, 1e5, "in [0, 100 km]")?;
        self.analysis.validate()
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[non_exhaustive]
pub enum ChangeKind {
    /// Loss appeared where the baseline has no event: a tap, a bend, a new splice.
    NewLoss,
    /// An existing event lost more (a connector pulled apart, a splice stressed).
    LossIncrease,
    /// Less loss than before (a repaired event, or a gain).
    LossDecrease,
    /// A new or stronger reflection.
    NewReflection,
    /// The fiber now ends earlier: a break.
    Break,
}

impl ChangeKind {
    /// Short name for tables.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ChangeKind::NewLoss => "new loss",
            ChangeKind::LossIncrease => "loss increase",
            ChangeKind::LossDecrease => "loss decrease",
            ChangeKind::NewReflection => "new reflection",
            ChangeKind::Break => "break",
        }
    }
}

/// One change between the baseline and the test trace.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Change {
    /// Where [m].
    pub position_m: f64,
    /// What.
    pub kind: ChangeKind,
    /// Added one-way loss [dB] (negative: less loss); for a reflection, the peak height [dB].
    pub delta_db: f64,
    /// Size over noise, in standard deviations of the step estimate.
    pub significance_sigma: f64,
    /// Position of the baseline event at the same place, if any [m].
    pub baseline_event_m: Option<f64>,
}

/// The result of comparing a trace with its baseline.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Comparison {
    /// The changes, by position.
    pub changes: Vec<Change>,
    /// Events of the baseline trace.
    pub baseline_events: Vec<DetectedEvent>,
    /// Events of the test trace.
    pub test_events: Vec<DetectedEvent>,
    /// The comparison covers `[0, compared_until_m)` (both traces above their noise floor).
    pub compared_until_m: f64,
    /// Sum of the added losses [dB].
    pub added_loss_db: f64,
    /// Fraction of light a tap anywhere in the compared region could divert and still stay under
    /// the detection threshold: `1 - 10^(-delta/10)`, `delta` the largest threshold used along the
    /// fiber [dB] (the hardest place to detect, usually the far end).
    pub undetectable_tap_fraction: f64,
}

impl Comparison {
    /// Whether anything changed.
    #[must_use]
    pub fn is_alarm(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// Compares `test` with `baseline` (same OTDR settings).
///
/// # Errors
/// [`FiberError::IncompatibleTraces`] when sample spacing, pulse width or wavelength differ, and
/// the errors of [`analyze`] for a bad trace or config.
pub fn compare(
    baseline: &Trace,
    test: &Trace,
    cfg: &CompareConfig,
) -> Result<Comparison, FiberError> {
    cfg.validate()?;
    validate_trace(baseline)?;
    validate_trace(test)?;
    // 1e-4 relative: SOR files store the spacing as a time in 10 fs (1e-5 relative at 0.5 m), and
    // a drift below a tenth of a sample over the longest comparison window is harmless.
    if (baseline.sample_spacing_m - test.sample_spacing_m).abs() > 1e-4 * baseline.sample_spacing_m
    {
        return Err(FiberError::IncompatibleTraces("sample spacing"));
    }
    if (baseline.pulse_width_ns - test.pulse_width_ns).abs() > 1e-9 {
        return Err(FiberError::IncompatibleTraces("pulse width"));
    }
    if (baseline.wavelength_nm - test.wavelength_nm).abs() > 0.5 {
        return Err(FiberError::IncompatibleTraces("wavelength"));
    }
    let baseline_events = analyze(baseline, &cfg.analysis)?;
    let test_events = analyze(test, &cfg.analysis)?;
    let g = Geometry::new(baseline, cfg.window_m, cfg.dead_zone_m);
    let (wn, w) = (g.wn, g.w);
    let dx = baseline.sample_spacing_m;
    let n = baseline.len().min(test.len());
    let (_, end_b) = find_end(&baseline.levels_db, wn, cfg.analysis.end_threshold_db);
    let (_, end_t) = find_end(&test.levels_db, wn, cfg.analysis.end_threshold_db);
    let limit_of = |e: Option<usize>| e.map_or(n, |e| e.saturating_sub(wn)).min(n);
    let limit = limit_of(end_b).min(limit_of(end_t));

    let mut d = Vec::with_capacity(n);
    let mut valid = vec![true; n];
    for i in 0..n {
        d.push(test.levels_db[i] - baseline.levels_db[i]);
    }
    // Mask saturated samples (clipped in both: no information) with a pulse of margin.
    for i in 0..n {
        if baseline.levels_db[i] >= baseline.saturation_db - 0.05
            || test.levels_db[i] >= test.saturation_db - 0.05
        {
            for v in &mut valid[i.saturating_sub(wn)..(i + wn + 1).min(n)] {
                *v = false;
            }
        }
    }
    for v in &mut valid[limit..] {
        *v = false;
    }
    let k = cfg.sigma_factor;
    let mut changes = Vec::new();
    let near_baseline = |pos_m: f64| {
        let tol = 2.0 * baseline.resolution_m() + 2.0 * dx;
        baseline_events
            .iter()
            .filter(|e| (e.position_m - pos_m).abs() <= tol)
            .min_by(|a, b| {
                (a.position_m - pos_m)
                    .abs()
                    .total_cmp(&(b.position_m - pos_m).abs())
            })
            .map(|e| e.position_m)
    };

    // New reflections: d rises above the mean of the preceding window.
    let pre = Prefix::new(&d, &valid, wn);
    let mut blocked = vec![false; n];
    let mut i = w + 1;
    while i < limit {
        if !valid[i] {
            i += 1;
            continue;
        }
        let (Some((m, _)), Some(sigma)) = (pre.mean(i - 1 - w, i - 1), pre.sigma(i - 1 - w, i - 1))
        else {
            i += 1;
            continue;
        };
        let thr = cfg.reflection_change_db.max(k * sigma);
        if d[i] - m <= thr {
            i += 1;
            continue;
        }
        let start = i;
        let mut peak = d[i] - m;
        let mut j = i;
        while j < n && (d[j] - m > 0.5 * thr || !valid[j]) {
            peak = peak.max(d[j] - m);
            j += 1;
        }
        let end = (j.max(start + wn) + g.dead).min(n);
        for b in &mut blocked[start..end] {
            *b = true;
        }
        let pos = (usize_to_f64(start) - 0.5).max(0.0) * dx;
        changes.push(Change {
            position_m: pos,
            kind: ChangeKind::NewReflection,
            delta_db: peak,
            significance_sigma: if sigma > 0.0 {
                peak / sigma
            } else {
                f64::INFINITY
            },
            baseline_event_m: near_baseline(pos),
        });
        i = end + 1;
    }

    // Loss steps on the masked difference, away from new reflections.
    let mut step_valid = valid.clone();
    for (v, &b) in step_valid.iter_mut().zip(&blocked) {
        if b {
            *v = false;
        }
    }
    let pre = Prefix::new(&d, &step_valid, wn);
    let step_factor = (2.0 * usize_to_f64(wn) / usize_to_f64(w)).sqrt();
    let min_count = usize_to_f64(w) * 0.5;
    let mut peaks = RunPeaks::default(); // (index, |step|/thr, sigma) per run of hits
    let mut worst_threshold = f64::NEG_INFINITY;
    let hi = limit.saturating_sub(wn + w + 1);
    for i in (w + 1)..hi.max(w + 1) {
        let (bs, be, as_, ae) = (i - 1 - w, i - 1, i + wn, i + wn + w);
        let hit = match (pre.mean(bs, be), pre.mean(as_, ae), pre.sigma(bs, ae)) {
            (Some((mb, cb)), Some((ma, ca)), Some(sigma)) if cb >= min_count && ca >= min_count => {
                let step = mb - ma;
                let thr = cfg.min_change_db.max(k * sigma * step_factor);
                worst_threshold = worst_threshold.max(thr);
                (step.abs() > thr).then_some((i, step.abs() / thr.max(1e-12), sigma))
            }
            _ => None,
        };
        peaks.push(hit);
    }
    let candidates = peaks.finish();
    let mut added = 0.0;
    for (c, _, sigma) in suppress(candidates, w + wn) {
        let Some(fit) = fit_ramp(&d, &step_valid, c, 2 * wn, wn, w, false, limit) else {
            continue;
        };
        if fit.loss_db.abs() < cfg.min_change_db {
            continue;
        }
        let pos = (usize_to_f64(fit.start) - 0.5).max(0.0) * dx;
        let base = near_baseline(pos);
        let kind = match (fit.loss_db > 0.0, base.is_some()) {
            (true, false) => ChangeKind::NewLoss,
            (true, true) => ChangeKind::LossIncrease,
            (false, _) => ChangeKind::LossDecrease,
        };
        if fit.loss_db > 0.0 {
            added += fit.loss_db;
        }
        let s = sigma * step_factor;
        changes.push(Change {
            position_m: pos,
            kind,
            delta_db: fit.loss_db,
            significance_sigma: if s > 0.0 {
                fit.loss_db.abs() / s
            } else {
                f64::INFINITY
            },
            baseline_event_m: base,
        });
    }

    // A fiber that now ends earlier is broken.
    if let (Some(eb), Some(et)) = (end_b, end_t)
        && et + 2 * wn + g.dead < eb
    {
        let pos = usize_to_f64(et.saturating_sub(wn)) * dx;
        changes.push(Change {
            position_m: pos,
            kind: ChangeKind::Break,
            delta_db: f64::INFINITY,
            significance_sigma: f64::INFINITY,
            baseline_event_m: near_baseline(pos),
        });
    }
    changes.sort_by(|a, b| a.position_m.total_cmp(&b.position_m));
    let delta = if worst_threshold.is_finite() {
        worst_threshold
    } else {
        cfg.min_change_db
    };
    Ok(Comparison {
        changes,
        baseline_events,
        test_events,
        compared_until_m: usize_to_f64(limit) * dx,
        added_loss_db: added,
        undetectable_tap_fraction: 1.0 - 10f64.powf(-delta / 10.0),
    })
}
