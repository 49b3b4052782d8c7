//! The two simulation engines and their common output.
//!
//! Both engines walk the same detector state machine (per detector: dead until a slot, and at most
//! one pending afterpulse) and emit the same [`DetectionRecord`]s:
//!
//! - [`Engine::Exact`] simulates every pulse: it samples Alice's class, basis and bit, Bob's
//!   basis, a Poisson photon number, the eavesdropper's action photon by photon, each photon's
//!   survival and its Born-rule outcome on the misaligned state vector, and each detector's dark
//!   count and noise click.
//! - [`Engine::Fast`] is event-driven: while the detector state is constant, pulses are i.i.d., so
//!   the number of pulses to the next click is geometric with the per-pulse click probability of
//!   that regime (both detectors alive, or only one); it jumps straight there and draws the
//!   click's hidden variables and outcome from an alias table conditioned on a click. The
//!   intensity classes of the pulses it skipped are drawn at the end of the chunk, multinomially
//!   per regime. Cost grows with the number of clicks, not of pulses.
//!
//! The pulses are split into chunks of [`LinkConfig::chunk_pulses`]; chunk `i` runs on its own
//! stream `derive_seed(seed, domain, i)` with fresh detectors, in parallel with rayon, so results
//! depend on the seed and the chunk size but not on the number of threads. (Detector memory does
//! not cross a chunk boundary: with the default 2^24-pulse chunks this perturbs at most one dead
//! time in 2^24 slots.)

use qkd_core::{Basis, Bit, ClickKind, DetectionRecord, IntensityClass, derive_seed, sim_rng};
use rand::Rng;
use rand_distr::{Binomial, Distribution};
use rayon::prelude::*;

use crate::config::{Eavesdropper, LinkConfig};
use crate::error::QuantumError;
use crate::model::{Hidden, Model, Regime};
use crate::sampling::{SmallPoisson, bernoulli, unit_f64};
use crate::state::{MeasurementBasis, Qubit};

/// Which engine simulates the pulses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Engine {
    /// Pulse by pulse, photon by photon, with state vectors.
    Exact,
    /// Event-driven geometric skip-ahead between clicks.
    Fast,
}

impl Engine {
    fn domain(self) -> &'static str {
        match self {
            Engine::Exact => "qkd-quantum/exact-chunk",
            Engine::Fast => "qkd-quantum/fast-chunk",
        }
    }
}

/// Per-class tallies of a simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassStats {
    /// Pulses emitted in this class.
    pub pulses: u64,
    /// Pulses with a click (single or double).
    pub clicks: u64,
    /// Pulses with a double click.
    pub double_clicks: u64,
    /// Clicks with matching bases, Z basis.
    pub sifted_z: u64,
    /// Errors among `sifted_z`.
    pub errors_z: u64,
    /// Clicks with matching bases, X basis.
    pub sifted_x: u64,
    /// Errors among `sifted_x`.
    pub errors_x: u64,
    /// Sifted clicks whose bit the eavesdropper knows.
    pub eve_known_sifted: u64,
}

#[allow(clippy::cast_precision_loss)] // counts below 2^53
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Binomial standard error `sqrt(p (1 - p) / n)`.
#[allow(clippy::cast_precision_loss)] // counts below 2^53
fn binomial_se(p: f64, n: u64) -> f64 {
    if n == 0 {
        f64::INFINITY
    } else {
        (p * (1.0 - p) / n as f64).sqrt()
    }
}

impl ClassStats {
    /// Gain `Q = clicks / pulses`.
    #[must_use]
    pub fn gain(&self) -> f64 {
        ratio(self.clicks, self.pulses)
    }

    /// Binomial standard error of [`Self::gain`].
    #[must_use]
    pub fn gain_stderr(&self) -> f64 {
        binomial_se(self.gain(), self.pulses)
    }

    /// Sifted clicks (both bases).
    #[must_use]
    pub fn sifted(&self) -> u64 {
        self.sifted_z + self.sifted_x
    }

    /// Errors among sifted clicks (both bases).
    #[must_use]
    pub fn errors(&self) -> u64 {
        self.errors_z + self.errors_x
    }

    /// QBER `E` over both bases.
    #[must_use]
    pub fn qber(&self) -> f64 {
        ratio(self.errors(), self.sifted())
    }

    /// Binomial standard error of [`Self::qber`].
    #[must_use]
    pub fn qber_stderr(&self) -> f64 {
        binomial_se(self.qber(), self.sifted())
    }

    /// QBER in the Z basis.
    #[must_use]
    pub fn qber_z(&self) -> f64 {
        ratio(self.errors_z, self.sifted_z)
    }

    /// QBER in the X basis.
    #[must_use]
    pub fn qber_x(&self) -> f64 {
        ratio(self.errors_x, self.sifted_x)
    }

    fn add(&mut self, o: &ClassStats) {
        self.pulses += o.pulses;
        self.clicks += o.clicks;
        self.double_clicks += o.double_clicks;
        self.sifted_z += o.sifted_z;
        self.errors_z += o.errors_z;
        self.sifted_x += o.sifted_x;
        self.errors_x += o.errors_x;
        self.eve_known_sifted += o.eve_known_sifted;
    }
}

/// The result of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Pulses emitted.
    pub pulses: u64,
    /// Repetition rate of the source in Hz.
    pub rate_hz: f64,
    /// One record per slot with a click, in slot order.
    pub records: Vec<DetectionRecord>,
    /// For each record, whether the eavesdropper knows its bit once bases are announced (empty
    /// when there is no eavesdropper).
    pub eve_knows: Vec<bool>,
    /// Pulses emitted per intensity class (signal, decoy, vacuum).
    pub emitted: [u64; 3],
}

impl Simulation {
    /// Seconds of source time the pulses represent.
    #[must_use]
    pub fn duration_s(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let p = self.pulses as f64;
        p / self.rate_hz
    }

    /// Tallies per class (index with [`IntensityClass::index`]).
    #[must_use]
    pub fn class_stats(&self) -> [ClassStats; 3] {
        let mut s = [ClassStats::default(); 3];
        for (k, st) in s.iter_mut().enumerate() {
            st.pulses = self.emitted[k];
        }
        for (i, r) in self.records.iter().enumerate() {
            let st = &mut s[r.intensity.index()];
            st.clicks += 1;
            st.double_clicks += u64::from(r.click == ClickKind::Double);
            if r.bases_match() {
                let err = u64::from(r.alice_bit != r.bob_bit);
                match r.alice_basis {
                    Basis::Z => {
                        st.sifted_z += 1;
                        st.errors_z += err;
                    }
                    Basis::X => {
                        st.sifted_x += 1;
                        st.errors_x += err;
                    }
                }
                st.eve_known_sifted += u64::from(self.eve_knows.get(i).copied().unwrap_or(false));
            }
        }
        s
    }

    /// Tallies over all classes.
    #[must_use]
    pub fn total_stats(&self) -> ClassStats {
        let mut t = ClassStats::default();
        for s in self.class_stats() {
            t.add(&s);
        }
        t
    }
}

/// A compiled link: build once, run many times.
///
/// ```
/// use qkd_core::IntensityClass;
/// use qkd_quantum::{Engine, LinkConfig, Simulator};
/// // Default: 50 km (10 dB), SNSPDs with 40 ns recovery, 1 GHz.
/// let sim = Simulator::new(&LinkConfig::default())?;
/// let out = sim.run(Engine::Fast, 1_000_000, 7)?;
/// let signal = out.class_stats()[IntensityClass::Signal.index()];
/// // The recovery time costs gain against the memoryless 1 - exp(-eta mu) = 4.2 %.
/// let memoryless = sim.memoryless_gain(IntensityClass::Signal);
/// assert!((memoryless - 0.0416).abs() < 1e-3);
/// assert!(signal.gain() < memoryless && signal.gain() > 0.5 * memoryless);
/// # Ok::<(), qkd_quantum::QuantumError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Simulator {
    model: Model,
}

/// Simulate `pulses` pulses of `config` with `engine` and `seed`.
///
/// # Errors
/// Any error of [`LinkConfig::validate`].
pub fn simulate(
    config: &LinkConfig,
    engine: Engine,
    pulses: u64,
    seed: u64,
) -> Result<Simulation, QuantumError> {
    Simulator::new(config)?.run(engine, pulses, seed)
}

impl Simulator {
    /// Compile `config`.
    ///
    /// # Errors
    /// Any error of [`LinkConfig::validate`].
    pub fn new(config: &LinkConfig) -> Result<Self, QuantumError> {
        Ok(Self {
            model: Model::new(config)?,
        })
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &LinkConfig {
        &self.model.config
    }

    /// The memoryless per-pulse click probability of `class` (both detectors alive), exact for the
    /// simulated model.
    #[must_use]
    pub fn memoryless_gain(&self, class: IntensityClass) -> f64 {
        self.model.class_gain(class)
    }

    /// Simulate `pulses` pulses with `engine` from `seed`, in parallel over chunks.
    ///
    /// # Errors
    /// Never for a compiled simulator today; the `Result` leaves room for resource limits.
    pub fn run(&self, engine: Engine, pulses: u64, seed: u64) -> Result<Simulation, QuantumError> {
        let chunk = self.model.config.chunk_pulses;
        let n_chunks = pulses.div_ceil(chunk);
        let parts: Vec<ChunkOutput> = (0..n_chunks)
            .into_par_iter()
            .map(|i| {
                let start = i * chunk;
                let len = chunk.min(pulses - start);
                self.run_chunk(engine, start, len, derive_seed(seed, engine.domain(), i))
            })
            .collect();
        let with_eve = self.model.config.eavesdropper != Eavesdropper::None;
        let total: usize = parts.iter().map(|p| p.records.len()).sum();
        let mut out = Simulation {
            pulses,
            rate_hz: self.model.config.source.rate_hz,
            records: Vec::new(),
            eve_knows: Vec::with_capacity(if with_eve { total } else { 0 }),
            emitted: [0; 3],
        };
        for mut p in parts {
            if out.records.is_empty() {
                // Move the first chunk's buffers instead of copying them.
                std::mem::swap(&mut out.records, &mut p.records);
                out.records.reserve(total - out.records.len());
            } else {
                out.records.append(&mut p.records);
            }
            if with_eve {
                out.eve_knows.append(&mut p.eve_knows);
            }
            for k in 0..3 {
                out.emitted[k] += p.emitted[k];
            }
        }
        Ok(out)
    }

    /// Simulate the slots `start .. start + len` as one independent chunk on one thread, with the
    /// given stream seed. [`Simulator::run`] calls this for chunk `i` with
    /// `derive_seed(seed, domain, i)`; use it directly to stream chunks.
    #[must_use]
    pub fn run_chunk(&self, engine: Engine, start: u64, len: u64, chunk_seed: u64) -> ChunkOutput {
        let mut rng = sim_rng(chunk_seed);
        let mut run = ChunkRun::new(&self.model, start, len);
        match engine {
            Engine::Exact => run.exact(&mut rng),
            Engine::Fast => run.fast(&mut rng),
        }
        run.out
    }
}

/// The output of one chunk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChunkOutput {
    /// Records in slot order.
    pub records: Vec<DetectionRecord>,
    /// Eve's knowledge per record (empty without eavesdropper).
    pub eve_knows: Vec<bool>,
    /// Pulses per class.
    pub emitted: [u64; 3],
}

/// Detector memory: first alive slot and pending afterpulse slot (`u64::MAX`: none) per detector.
struct ChunkRun<'a> {
    m: &'a Model,
    start: u64,
    end: u64,
    dead_until: [u64; 2],
    afterpulse_at: [u64; 2],
    track_eve: bool,
    out: ChunkOutput,
}

impl<'a> ChunkRun<'a> {
    fn new(m: &'a Model, start: u64, len: u64) -> Self {
        Self {
            m,
            start,
            end: start + len,
            dead_until: [0; 2],
            afterpulse_at: [u64::MAX; 2],
            track_eve: m.config.eavesdropper != Eavesdropper::None,
            out: ChunkOutput::default(),
        }
    }

    /// Record a click at `slot` and update detector memory.
    #[allow(clippy::needless_range_loop)]
    fn click<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        slot: u64,
        hid: Hidden,
        eve_knows: bool,
        fired: [bool; 2],
    ) {
        let (bit, kind) = match fired {
            [true, true] => (Bit::from(rng.next_u64() & 1 == 1), ClickKind::Double),
            [true, false] => (Bit::Zero, ClickKind::Single),
            _ => (Bit::One, ClickKind::Single),
        };
        self.out.records.push(DetectionRecord {
            slot,
            alice_basis: hid.alice_basis,
            alice_bit: hid.alice_bit,
            intensity: hid.class,
            bob_basis: hid.bob_basis,
            bob_bit: bit,
            click: kind,
        });
        if self.track_eve {
            self.out.eve_knows.push(eve_knows);
        }
        self.out.emitted[hid.class.index()] += 1;
        let det = &self.m.det;
        for j in 0..2 {
            if fired[j] {
                self.dead_until[j] = slot + 1 + det.dead_slots;
                self.afterpulse_at[j] = if det.afterpulse_probability > 0.0
                    && bernoulli(rng, det.afterpulse_probability)
                {
                    self.dead_until[j].saturating_add(self.m.afterpulse_gap.sample(rng))
                } else {
                    u64::MAX
                };
            }
        }
    }

    fn alive(&self, s: u64) -> [bool; 2] {
        [s >= self.dead_until[0], s >= self.dead_until[1]]
    }

    // Per-detector and per-class arrays are indexed in parallel.
    #[allow(clippy::needless_range_loop)]
    fn fast<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let m = self.m;
        // Reserve for the expected number of clicks (plus 5 standard deviations) up front.
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let expect = {
            let mean = m.regimes[0].p_click * (self.end - self.start) as f64;
            (mean + 5.0 * mean.sqrt() + 16.0).min(1e9) as usize
        };
        self.out.records.reserve(expect);
        if self.track_eve {
            self.out.eve_knows.reserve(expect);
        }
        // Non-click slots per regime: both, only 0, only 1, none alive.
        let mut quiet = [0u64; 4];
        let mut s = self.start;
        while s < self.end {
            let alive = self.alive(s);
            if (0..2).any(|j| self.afterpulse_at[j] == s && alive[j]) {
                self.explicit_slot(rng, s, alive);
                s += 1;
                continue;
            }
            let mut next = self.end;
            for j in 0..2 {
                if self.dead_until[j] > s {
                    next = next.min(self.dead_until[j]);
                }
                if self.afterpulse_at[j] > s {
                    next = next.min(self.afterpulse_at[j]);
                }
            }
            let regime = match alive {
                [true, true] => Regime::Both,
                [true, false] => Regime::Only0,
                [false, true] => Regime::Only1,
                [false, false] => {
                    quiet[3] += next - s;
                    s = next;
                    continue;
                }
            };
            let r = regime as usize;
            let table = &m.regimes[r];
            let gap = table.gap.sample(rng);
            if gap < next - s {
                quiet[r] += gap;
                let t = s + gap;
                if let Some(alias) = &table.alias {
                    let o = table.outcomes[alias.sample(rng)];
                    self.click(rng, t, o.hidden, o.eve_knows, o.fired);
                }
                s = t + 1;
            } else {
                quiet[r] += next - s;
                s = next;
            }
        }
        // Classes of the skipped pulses: multinomial per regime (sums of independent multinomials
        // with the same probabilities are multinomial).
        let prior_class = [
            m.class_cdf[0],
            m.class_cdf[1] - m.class_cdf[0],
            1.0 - m.class_cdf[1],
        ];
        for (r, &n) in quiet.iter().enumerate() {
            let probs = if r < 3 {
                m.regimes[r].no_click_class
            } else {
                prior_class
            };
            let mut left = n;
            let mut mass = 1.0;
            for k in 0..3 {
                if left == 0 {
                    break;
                }
                let c = if k == 2 || mass <= 0.0 {
                    left
                } else {
                    let p = (probs[k] / mass).clamp(0.0, 1.0);
                    Binomial::new(left, p).map_or(0, |b| b.sample(rng))
                };
                self.out.emitted[k] += c;
                left -= c;
                mass -= probs[k];
            }
        }
    }

    /// A slot simulated explicitly in the fast engine (a pending afterpulse fires here).
    fn explicit_slot<R: Rng + ?Sized>(&mut self, rng: &mut R, s: u64, alive: [bool; 2]) {
        let m = self.m;
        let h = m.prior_alias.sample(rng);
        let o = m.cond_alias[h].sample(rng);
        let mut fired = [o & 2 != 0 && alive[0], o & 1 != 0 && alive[1]];
        for j in 0..2 {
            if self.afterpulse_at[j] == s && alive[j] {
                fired[j] = true;
            }
        }
        let hid = Hidden::decode(h);
        self.click(rng, s, hid, o & 4 != 0, fired);
    }

    #[allow(clippy::needless_range_loop)]
    fn exact<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        let m = self.m;
        let cfg = &m.config;
        let poisson = m.mu.map(SmallPoisson::new);
        let bases = [
            MeasurementBasis::from(Basis::Z),
            MeasurementBasis::from(Basis::X),
        ];
        let t_bob = cfg.channel.transmittance * m.det.efficiency;
        for s in self.start..self.end {
            let alive = self.alive(s);
            let u = unit_f64(rng);
            let class = if u < m.class_cdf[0] {
                IntensityClass::Signal
            } else if u < m.class_cdf[1] {
                IntensityClass::Decoy
            } else {
                IntensityClass::Vacuum
            };
            let hid = Hidden {
                class,
                alice_basis: Basis::from_bool(!bernoulli(rng, cfg.source.z_basis_probability)),
                alice_bit: Bit::from(rng.next_u64() & 1 == 1),
                bob_basis: Basis::from_bool(!bernoulli(rng, cfg.bob_z_probability)),
            };
            let n = poisson[class.index()].sample(rng);
            // The eavesdropper: photons reaching Bob, their state, their per-photon transmittance
            // to a click, and whether Eve learns the bit.
            let mut state = Qubit::bb84(hid.alice_basis, hid.alice_bit);
            let (mut photons, mut t, mut eve_knows) = (n, t_bob, false);
            match cfg.eavesdropper {
                Eavesdropper::None => {}
                Eavesdropper::InterceptResend { fraction } => {
                    if n > 0 && bernoulli(rng, fraction) {
                        let eb = Basis::from_bool(rng.next_u64() & 1 == 1);
                        let ones = (0..n)
                            .filter(|_| {
                                bases[usize::from(eb == Basis::X)].measure(&state, rng) == Bit::One
                            })
                            .count();
                        // Squash: unanimous results are kept, mixed ones resolved at random.
                        let bit = if ones == 0 {
                            Bit::Zero
                        } else if ones == n as usize {
                            Bit::One
                        } else {
                            Bit::from(rng.next_u64() & 1 == 1)
                        };
                        eve_knows = eb == hid.alice_basis;
                        state = Qubit::bb84(eb, bit);
                    }
                }
                Eavesdropper::BeamSplitting => {
                    let kept = (0..n)
                        .filter(|_| !bernoulli(rng, cfg.channel.transmittance))
                        .count();
                    eve_knows = kept > 0;
                    photons = n - u32::try_from(kept).unwrap_or(n);
                    t = m.det.efficiency;
                }
                Eavesdropper::FiberTap { fraction } => {
                    let kept = (0..n).filter(|_| bernoulli(rng, fraction)).count();
                    eve_knows = kept > 0;
                    photons = n - u32::try_from(kept).unwrap_or(n);
                }
                Eavesdropper::PhotonNumberSplitting {
                    single_photon_block_probability,
                    multiphoton_transmittance,
                } => match n {
                    0 => {}
                    1 => {
                        if bernoulli(rng, single_photon_block_probability) {
                            photons = 0;
                        }
                    }
                    _ => {
                        photons = n - 1;
                        eve_knows = true;
                        t = multiphoton_transmittance * m.det.efficiency;
                    }
                },
            }
            // Channel and detection: misalignment on the state vector, then photon by photon.
            let mut hit = [false; 2];
            let mut born: Option<[f64; 2]> = None;
            for _ in 0..photons {
                if bernoulli(rng, t) {
                    let p = *born.get_or_insert_with(|| {
                        bases[usize::from(hid.bob_basis == Basis::X)]
                            .probabilities(&state.apply(&m.misalignment))
                    });
                    hit[usize::from(unit_f64(rng) >= p[0])] = true;
                }
            }
            let mut fired = [false; 2];
            for j in 0..2 {
                let dark = bernoulli(rng, m.dark_probability)
                    || bernoulli(rng, m.noise_probability_per_detector);
                fired[j] = alive[j] && (hit[j] || dark || self.afterpulse_at[j] == s);
            }
            if fired[0] || fired[1] {
                self.click(rng, s, hid, eve_knows, fired);
            } else {
                self.out.emitted[class.index()] += 1;
            }
        }
    }
}
