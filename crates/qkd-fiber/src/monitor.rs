//! Continuous loss monitoring: a streaming estimate of the link loss that follows slow drift, and a
//! two-sided CUSUM change detector that raises an alarm with the size of a step.
//!
//! Page's CUSUM (Biometrika 41, 100 (1954)) on the residual `r = loss - baseline`:
//! `S+ = max(0, S+ + r - k)`, `S- = max(0, S- - r - k)`, alarm when either exceeds `h`, with the
//! reference value `k = min_step_db / 2` (optimal for detecting a step of `min_step_db` in Gaussian
//! noise) and `h = threshold_sigma * sigma`. For a step `delta > k` the detection delay is about
//! `h / (delta - k) + 1` samples (Siegmund's approximation); for no step the mean time between
//! false alarms grows like `exp(2 k h / sigma^2)` samples. The step size reported at an alarm is the
//! mean residual since the statistic last left zero (the maximum-likelihood change point).
//!
//! Drift tolerance: while both statistics are zero (no evidence of a change) the baseline follows
//! the readings with an exponential average of time constant `drift_time_constant_samples`, so a
//! slow drift (temperature, ageing) is absorbed while a step is not.

use crate::error::{FiberError, check_range};

/// Settings of the loss monitor.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct LossMonitorConfig {
    /// Smallest step to detect [dB].
    pub min_step_db: f64,
    /// Rms noise of one reading [dB]; `None`: estimated during the warm-up.
    pub noise_sigma_db: Option<f64>,
    /// Alarm threshold `h` in noise standard deviations.
    pub threshold_sigma: f64,
    /// Readings used to set the initial baseline (and the noise when not given).
    pub warmup_samples: u32,
    /// Time constant of the drift-following baseline [samples].
    pub drift_time_constant_samples: f64,
}

impl Default for LossMonitorConfig {
    /// 0.1 dB steps at 0.02 dB reading noise (a power meter with 0.01 dB resolution and a little
    /// polarisation wander), `h = 5 sigma`, 100 warm-up readings, 1000-reading drift constant.
    fn default() -> Self {
        Self {
            min_step_db: 0.1,
            noise_sigma_db: Some(0.02),
            threshold_sigma: 5.0,
            warmup_samples: 100,
            drift_time_constant_samples: 1000.0,
        }
    }
}

impl LossMonitorConfig {
    /// Checks every field's range.
    ///
    /// # Errors
    /// [`FiberError::InvalidParameter`] naming the first bad field.
    pub fn validate(&self) -> Result<(), FiberError> {
        check_range("min_step_db", self.min_step_db, 1e-6, 60.0, "in (0, 60] dB")?;
        if let Some(s) = self.noise_sigma_db {
            check_range("noise_sigma_db", s, 1e-9, 10.0, "in (0, 10] dB")?;
        }
        check_range(
            "threshold_sigma",
            self.threshold_sigma,
            0.1,
            1000.0,
            "in [0.1, 1000]",
        )?;
        if self.warmup_samples < 2 {
            return Err(FiberError::InvalidParameter {
                name: "warmup_samples",
                value: f64::from(self.warmup_samples),
                reason: "at least 2",
            });
        }
        check_range(
            "drift_time_constant_samples",
            self.drift_time_constant_samples,
            1.0,
            1e12,
            "in [1, 1e12]",
        )
    }
}

/// An alarm: the loss changed by a step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LossAlarm {
    /// Index of the reading that raised the alarm.
    pub sample: u64,
    /// Estimated index of the first reading after the step.
    pub change_sample: u64,
    /// Estimated step [dB] (positive: more loss).
    pub step_db: f64,
    /// The loss baseline after the step [dB].
    pub loss_db: f64,
}

/// Streaming loss estimator with a CUSUM change detector.
#[derive(Debug, Clone)]
pub struct LossMonitor {
    cfg: LossMonitorConfig,
    n: u64,
    warm_sum: f64,
    warm_sq: f64,
    sigma: f64,
    baseline: f64,
    up: f64,
    down: f64,
    up_start: u64,
    up_sum: f64,
    up_count: u64,
    down_start: u64,
    down_sum: f64,
    down_count: u64,
}

impl LossMonitor {
    /// A monitor with `cfg`.
    ///
    /// # Errors
    /// As [`LossMonitorConfig::validate`].
    pub fn new(cfg: LossMonitorConfig) -> Result<Self, FiberError> {
        cfg.validate()?;
        Ok(Self {
            sigma: cfg.noise_sigma_db.unwrap_or(0.0),
            cfg,
            n: 0,
            warm_sum: 0.0,
            warm_sq: 0.0,
            baseline: 0.0,
            up: 0.0,
            down: 0.0,
            up_start: 0,
            up_sum: 0.0,
            up_count: 0,
            down_start: 0,
            down_sum: 0.0,
            down_count: 0,
        })
    }

    /// The current loss baseline [dB] (`None` during the warm-up).
    #[must_use]
    pub fn loss_db(&self) -> Option<f64> {
        (self.n >= u64::from(self.cfg.warmup_samples)).then_some(self.baseline)
    }

    /// The noise rms in use [dB] (`None` until known).
    #[must_use]
    pub fn noise_sigma_db(&self) -> Option<f64> {
        (self.sigma > 0.0).then_some(self.sigma)
    }

    /// Readings seen so far.
    #[must_use]
    pub fn samples(&self) -> u64 {
        self.n
    }

    /// Feeds a power reading pair: launch and received power [dBm].
    ///
    /// # Errors
    /// As [`LossMonitor::push_loss_db`].
    pub fn push_power_dbm(
        &mut self,
        launch_dbm: f64,
        received_dbm: f64,
    ) -> Result<Option<LossAlarm>, FiberError> {
        self.push_loss_db(launch_dbm - received_dbm)
    }

    /// Feeds one loss reading [dB]; returns an alarm when a step is detected (after which the
    /// baseline moves to the new level and monitoring continues).
    ///
    /// # Errors
    /// [`FiberError::InvalidParameter`] for a non-finite reading (a reading is never silently
    /// dropped: a NaN from a failing power meter must be seen).
    pub fn push_loss_db(&mut self, loss_db: f64) -> Result<Option<LossAlarm>, FiberError> {
        check_range("loss_db", loss_db, -1e3, 1e3, "a finite loss reading")?;
        let idx = self.n;
        self.n += 1;
        let warm = u64::from(self.cfg.warmup_samples);
        if self.n <= warm {
            self.warm_sum += loss_db;
            self.warm_sq += loss_db * loss_db;
            if self.n == warm {
                #[allow(clippy::cast_precision_loss)] // warm-up counts are small
                let c = warm as f64;
                self.baseline = self.warm_sum / c;
                if self.cfg.noise_sigma_db.is_none() {
                    let var = (self.warm_sq - c * self.baseline * self.baseline) / (c - 1.0);
                    self.sigma = var.max(1e-18).sqrt();
                }
            }
            return Ok(None);
        }
        let r = loss_db - self.baseline;
        let k = 0.5 * self.cfg.min_step_db;
        let h = self.cfg.threshold_sigma * self.sigma;
        let new_up = (self.up + r - k).max(0.0);
        if new_up > 0.0 {
            if self.up == 0.0 {
                self.up_start = idx;
                self.up_sum = 0.0;
                self.up_count = 0;
            }
            self.up_sum += r;
            self.up_count += 1;
        }
        self.up = new_up;
        let new_down = (self.down - r - k).max(0.0);
        if new_down > 0.0 {
            if self.down == 0.0 {
                self.down_start = idx;
                self.down_sum = 0.0;
                self.down_count = 0;
            }
            self.down_sum += r;
            self.down_count += 1;
        }
        self.down = new_down;
        let alarm = if self.up > h {
            Some((self.up_start, self.up_sum, self.up_count))
        } else if self.down > h {
            Some((self.down_start, self.down_sum, self.down_count))
        } else {
            None
        };
        if let Some((start, sum, count)) = alarm {
            #[allow(clippy::cast_precision_loss)] // counts far below 2^53
            let step = sum / count.max(1) as f64;
            self.baseline += step;
            self.up = 0.0;
            self.down = 0.0;
            return Ok(Some(LossAlarm {
                sample: idx,
                change_sample: start,
                step_db: step,
                loss_db: self.baseline,
            }));
        }
        if self.up == 0.0 && self.down == 0.0 {
            self.baseline += (loss_db - self.baseline) / self.cfg.drift_time_constant_samples;
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qkd_core::sim_rng;
    use rand_distr::{Distribution, Normal};

    /// 0.1 dB steps at 0.02 dB noise: every one of 500 seeded runs alarms within 4 readings of the
    /// step (Siegmund: h/(delta-k)+1 = 0.1/0.05+1 = 3), with the step estimated within 0.08 dB;
    /// no false alarm in 200 000 readings with a 0.5 dB/100k-reading drift.
    #[test]
    fn detects_a_tenth_of_a_db_step_quickly_without_false_alarms() {
        let noise = Normal::new(0.0, 0.02).unwrap();
        let mut worst_delay = 0;
        let mut sum_step = 0.0;
        for run in 0..500u64 {
            let mut rng = sim_rng(qkd_core::derive_seed(7, "monitor", run));
            let mut m = LossMonitor::new(LossMonitorConfig::default()).unwrap();
            let step_at = 400u64;
            let mut found = None;
            for i in 0..500u64 {
                let x = 6.0 + if i >= step_at { 0.1 } else { 0.0 } + noise.sample(&mut rng);
                if let Some(a) = m.push_loss_db(x).unwrap() {
                    assert!(i >= step_at, "false alarm at {i} in run {run}");
                    found = Some(a);
                    break;
                }
            }
            let a = found.expect("step not detected");
            worst_delay = worst_delay.max(a.sample - step_at);
            // The estimate rests on the ~3 readings since the change (rms 0.02/sqrt(3) = 0.012 dB)
            // selected for having crossed the threshold, so it is biased high in the tail.
            assert!((a.step_db - 0.1).abs() < 0.08, "step {}", a.step_db);
            sum_step += a.step_db;
        }
        assert!(worst_delay <= 4, "worst delay {worst_delay}");
        // Mean over 500 runs: within 0.03 dB (the selection bias; the noise part is 0.0005 dB).
        assert!(
            (sum_step / 500.0 - 0.1).abs() < 0.03,
            "mean step {}",
            sum_step / 500.0
        );

        let mut rng = sim_rng(8);
        let mut m = LossMonitor::new(LossMonitorConfig::default()).unwrap();
        for i in 0..200_000u32 {
            let drift = 0.5 * f64::from(i) / 100_000.0;
            let x = 6.0 + drift + noise.sample(&mut rng);
            assert!(m.push_loss_db(x).unwrap().is_none(), "false alarm at {i}");
        }
        assert!((m.loss_db().unwrap() - 7.0).abs() < 0.05);
    }

    #[test]
    fn estimates_noise_when_not_given_and_rejects_nan() {
        let cfg = LossMonitorConfig {
            noise_sigma_db: None,
            ..LossMonitorConfig::default()
        };
        let mut m = LossMonitor::new(cfg).unwrap();
        let noise = Normal::new(0.0, 0.03).unwrap();
        let mut rng = sim_rng(3);
        for _ in 0..100 {
            m.push_loss_db(5.0 + noise.sample(&mut rng)).unwrap();
        }
        // 100 samples: relative standard error of sigma ~ 1/sqrt(2*99) = 7 %; allow 4 of them.
        assert!((m.noise_sigma_db().unwrap() / 0.03 - 1.0).abs() < 0.28);
        assert!(m.push_loss_db(f64::NAN).is_err());
    }
}
