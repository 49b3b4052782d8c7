//! OTDR trace synthesis from a route.
//!
//! Model, per sample at distance z (one-way dB display, see the module docs of [`crate::otdr`]):
//!
//! 1. Rayleigh backscatter power relative to the pulse peak power, `S(z) * tau_ns * T(z)^2`, with
//!    `S = 10^(BSC/10)` of the span at z and `T(z)` the one-way transmittance (fiber attenuation and
//!    every event before z); zero beyond the first break or end.
//! 2. Fresnel reflection at each reflective event: `R * T(e)^2` for the duration of the pulse.
//! 3. The pulse (a rectangle of `c tau / (2 n)` metres) convolves both: a loss event becomes a ramp
//!    from e to e + resolution, a reflection a plateau of that width.
//! 4. Receiver: an exponential tail (a fraction of every input's energy released with a decay
//!    length; it makes the attenuation dead zone after strong reflections) and clipping at the
//!    saturation level (event dead zone of saturated peaks).
//! 5. Additive Gaussian receiver noise, rms `sigma_1 / sqrt(averages)`, band-limited to the pulse
//!    (white noise through the same rectangular filter), so SNR grows as sqrt(averages).
//!
//! The noise floor (rms, one-way dB) is `noise_floor_db - 2.5 log10(averages)` and the dynamic
//! range (SNR = 1) is the initial backscatter level minus that floor.

use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

use super::{Trace, floor_to_usize, resolution_m, round_to_usize, usize_to_f64};
use crate::error::{FiberError, check_range};
use crate::route::Route;

/// Acquisition settings of the simulated OTDR.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default, deny_unknown_fields))]
pub struct OtdrConfig {
    /// Wavelength [nm].
    pub wavelength_nm: f64,
    /// Pulse width [ns] (3 ns - 20 us).
    pub pulse_width_ns: f64,
    /// Sample spacing [m].
    pub sample_spacing_m: f64,
    /// Acquisition range [km]; `None`: 1.2 x the route's reach + 1 km (so the noise floor shows).
    pub range_km: Option<f64>,
    /// Number of averaged acquisitions (>= 1).
    pub averages: u32,
    /// Rms receiver noise of a single acquisition [one-way dB relative to launch].
    pub noise_floor_db: f64,
    /// Receiver saturation [one-way dB relative to launch].
    pub saturation_db: f64,
    /// Reflectance of the OTDR's front-panel connector [dB]; `None` for none.
    pub launch_reflectance_db: Option<f64>,
    /// Fraction of each input's energy the receiver releases in its slow tail (0 for an ideal one).
    pub tail_fraction: f64,
    /// Decay length of the receiver tail [m].
    pub tail_length_m: f64,
}

impl Default for OtdrConfig {
    /// A metro OTDR at 1550 nm, 50 ns pulses, 0.5 m sampling, 2^12 averages: about 24 dB dynamic
    /// range, typical of a 50 ns pulse after a few seconds of averaging.
    fn default() -> Self {
        Self {
            wavelength_nm: 1550.0,
            pulse_width_ns: 50.0,
            sample_spacing_m: 0.5,
            range_km: None,
            averages: 4096,
            noise_floor_db: -47.5,
            saturation_db: -14.0,
            launch_reflectance_db: Some(-50.0),
            tail_fraction: 0.01,
            tail_length_m: 20.0,
        }
    }
}

impl OtdrConfig {
    /// A builder starting from the defaults.
    #[must_use]
    pub fn builder() -> OtdrConfigBuilder {
        OtdrConfigBuilder(Self::default())
    }

    /// Checks every field's range.
    ///
    /// # Errors
    /// [`FiberError::InvalidParameter`] naming the first bad field.
    pub fn validate(&self) -> Result<(), FiberError> {
        check_range(
            "wavelength_nm",
            self.wavelength_nm,
            800.0,
            1700.0,
            "in [800, 1700] nm",
        )?;
        check_range(
            "pulse_width_ns",
            self.pulse_width_ns,
            1.0,
            100_000.0,
            "in [1 ns, 100 us]",
        )?;
        check_range(
            "sample_spacing_m",
            self.sample_spacing_m,
            0.01,
            100.0,
            "in [0.01, 100] m",
        )?;
        if let Some(r) = self.range_km {
            check_range("range_km", r, 0.01, 1000.0, "in [0.01, 1000] km")?;
        }
        if self.averages == 0 {
            return Err(FiberError::InvalidParameter {
                name: "averages",
                value: 0.0,
                reason: "at least 1",
            });
        }
        check_range(
            "noise_floor_db",
            self.noise_floor_db,
            -120.0,
            0.0,
            "in [-120, 0] dB",
        )?;
        check_range(
            "saturation_db",
            self.saturation_db,
            -60.0,
            10.0,
            "in [-60, 10] dB",
        )?;
        if let Some(r) = self.launch_reflectance_db {
            check_range(
                "launch_reflectance_db",
                r,
                -100.0,
                -10.0,
                "in [-100, -10] dB",
            )?;
        }
        check_range("tail_fraction", self.tail_fraction, 0.0, 0.5, "in [0, 0.5]")?;
        check_range(
            "tail_length_m",
            self.tail_length_m,
            0.0,
            10_000.0,
            "in [0, 10 km]",
        )
    }

    /// Rms noise after averaging [one-way dB]: `noise_floor_db - 2.5 log10(averages)`.
    #[must_use]
    pub fn averaged_noise_floor_db(&self) -> f64 {
        self.noise_floor_db - 2.5 * f64::from(self.averages).log10()
    }
}

/// Builder for [`OtdrConfig`]; `build()` validates.
#[derive(Debug, Clone)]
pub struct OtdrConfigBuilder(OtdrConfig);

impl OtdrConfigBuilder {
    /// Wavelength [nm].
    #[must_use]
    pub fn wavelength_nm(mut self, v: f64) -> Self {
        self.0.wavelength_nm = v;
        self
    }
    /// Pulse width [ns].
    #[must_use]
    pub fn pulse_width_ns(mut self, v: f64) -> Self {
        self.0.pulse_width_ns = v;
        self
    }
    /// Sample spacing [m].
    #[must_use]
    pub fn sample_spacing_m(mut self, v: f64) -> Self {
        self.0.sample_spacing_m = v;
        self
    }
    /// Acquisition range [km].
    #[must_use]
    pub fn range_km(mut self, v: f64) -> Self {
        self.0.range_km = Some(v);
        self
    }
    /// Number of averages.
    #[must_use]
    pub fn averages(mut self, v: u32) -> Self {
        self.0.averages = v;
        self
    }
    /// Single-acquisition rms noise [one-way dB].
    #[must_use]
    pub fn noise_floor_db(mut self, v: f64) -> Self {
        self.0.noise_floor_db = v;
        self
    }
    /// Saturation level [one-way dB].
    #[must_use]
    pub fn saturation_db(mut self, v: f64) -> Self {
        self.0.saturation_db = v;
        self
    }
    /// Front-panel reflectance [dB] or `None`.
    #[must_use]
    pub fn launch_reflectance_db(mut self, v: Option<f64>) -> Self {
        self.0.launch_reflectance_db = v;
        self
    }
    /// Receiver tail (fraction of energy, decay length in m).
    #[must_use]
    pub fn tail(mut self, fraction: f64, length_m: f64) -> Self {
        self.0.tail_fraction = fraction;
        self.0.tail_length_m = length_m;
        self
    }
    /// Validates and returns the config.
    ///
    /// # Errors
    /// As [`OtdrConfig::validate`].
    pub fn build(self) -> Result<OtdrConfig, FiberError> {
        self.0.validate()?;
        Ok(self.0)
    }
}

/// Largest trace we synthesize (about 256 MB of levels), so a typo in a range cannot exhaust memory.
const MAX_SAMPLES: usize = 32 << 20;

/// Synthesizes the trace an OTDR at the near end of `route` would record.
///
/// # Errors
/// [`FiberError::InvalidParameter`] for a bad config or a range that needs more than 2^25 samples.
pub fn synthesize<R: Rng + ?Sized>(
    route: &Route,
    cfg: &OtdrConfig,
    rng: &mut R,
) -> Result<Trace, FiberError> {
    cfg.validate()?;
    let dx = cfg.sample_spacing_m;
    let lambda = cfg.wavelength_nm;
    let reach_m = route.reach_km() * 1e3;
    let range_m = cfg.range_km.map_or(reach_m * 1.2 + 1000.0, |r| r * 1e3);
    let n = floor_to_usize(range_m / dx) + 1;
    if n > MAX_SAMPLES {
        return Err(FiberError::InvalidParameter {
            name: "range_km / sample_spacing_m",
            value: usize_to_f64(n),
            reason: "more than 2^25 samples",
        });
    }
    let group_index = route.span_at(0.0).group_index;
    let wn = round_to_usize(resolution_m(cfg.pulse_width_ns, group_index) / dx).max(1);
    let wn_f = usize_to_f64(wn);
    let tau_ns = cfg.pulse_width_ns;

    // 1. Backscatter, sample by sample. Between breakpoints (events, span boundaries) the loss is
    // linear in z, so the power is a geometric sequence: one multiplication per sample, with an
    // exact recomputation at every breakpoint (no drift over a million samples).
    let mut a = vec![0.0f64; n];
    let reach_km = route.reach_km();
    let events = route.events();
    let mut next_event = 0usize;
    let mut events_loss_db = 0.0f64;
    let mut reflections: Vec<(usize, f64)> = Vec::new();
    if let Some(r) = cfg.launch_reflectance_db {
        reflections.push((0, 10f64.powf(r / 10.0)));
    }
    let mut p = 0.0f64;
    let mut factor = 1.0f64;
    let mut seg_end_km = f64::NEG_INFINITY;
    for (i, ai) in a.iter_mut().enumerate() {
        let z_km = usize_to_f64(i) * dx * 1e-3;
        if z_km > reach_km {
            break;
        }
        if z_km >= seg_end_km {
            // Events at or before this sample take effect (and reflect) here.
            while next_event < events.len() && events[next_event].position_km <= z_km {
                let e = &events[next_event];
                if let Some(r) = e.reflectance_db {
                    let before = route.fiber_loss_to_db(e.position_km, lambda) + events_loss_db;
                    reflections.push((i, 10f64.powf((r - 2.0 * before) / 10.0)));
                }
                events_loss_db += e.loss_at_db(lambda);
                next_event += 1;
            }
            let span = route.span_at(z_km);
            let loss_db = route.fiber_loss_to_db(z_km, lambda) + events_loss_db;
            p = 10f64.powf((span.backscatter_db(lambda) - 2.0 * loss_db) / 10.0) * tau_ns;
            factor = 10f64.powf(-2.0 * span.attenuation_db_per_km(lambda) * dx * 1e-3 / 10.0);
            let next_ev = events
                .get(next_event)
                .map_or(f64::INFINITY, |e| e.position_km);
            seg_end_km = next_ev.min(route.next_boundary_km(z_km));
        } else {
            p *= factor;
        }
        *ai = p;
    }
    // 2. Reflections as impulses of energy R T^2 x pulse samples, spread by the pulse filter.
    for (i, p) in reflections {
        if i < n {
            a[i] += p * wn_f;
        }
    }
    // 3. Pulse: causal rectangular moving average over `wn` samples.
    boxcar_in_place(&mut a, wn);
    // 4. Receiver tail and clipping.
    if cfg.tail_fraction > 0.0 && cfg.tail_length_m > 0.0 {
        let d = (-dx / cfg.tail_length_m).exp();
        let inject = cfg.tail_fraction * (1.0 - d);
        let mut state = 0.0;
        for v in &mut a {
            let x = *v;
            *v = x + state;
            state = state * d + inject * x;
        }
    }
    let sat = 10f64.powf(2.0 * cfg.saturation_db / 10.0);
    // 5. Band-limited noise: white noise scaled so that after the boxcar its rms is sigma.
    let sigma = 10f64.powf(2.0 * cfg.averaged_noise_floor_db() / 10.0);
    let mut noise: Vec<f64> = (0..n)
        .map(|_| {
            let g: f64 = StandardNormal.sample(rng);
            g * sigma * wn_f.sqrt()
        })
        .collect();
    boxcar_in_place(&mut noise, wn);
    let tiny = sigma * 1e-6;
    let levels_db = a
        .iter()
        .zip(&noise)
        .map(|(&s, &w)| 5.0 * (s.min(sat) + w).abs().max(tiny).log10())
        .collect();
    Ok(Trace {
        sample_spacing_m: dx,
        levels_db,
        pulse_width_ns: cfg.pulse_width_ns,
        wavelength_nm: lambda,
        group_index,
        averages: cfg.averages,
        backscatter_db: route.span_at(0.0).backscatter_db(lambda),
        saturation_db: cfg.saturation_db,
    })
}

/// Causal moving average over `w` samples (shorter at the start), in place, O(n).
fn boxcar_in_place(x: &mut [f64], w: usize) {
    if w <= 1 {
        return;
    }
    let inv = 1.0 / usize_to_f64(w);
    let mut ring = vec![0.0f64; w];
    let mut sum = 0.0;
    for (i, v) in x.iter_mut().enumerate() {
        let slot = i % w;
        sum += *v - ring[slot];
        ring[slot] = *v;
        *v = sum * inv;
    }
}
