//! The per-pulse physics shared by both engines, compiled into probability tables.
//!
//! A pulse is described by its hidden variables `h = (class, Alice basis, Alice bit, Bob basis)`
//! (24 values, prior `pi_h`). Given `h`, the physics gives the joint probability of
//! `(eve_knows, D0 fires, D1 fires)` (8 values) for detectors that are both alive:
//!
//! - the photon number is Poisson(mu_class) (phase-randomised weak coherent pulse);
//! - the eavesdropper acts on the photon number and the state (one or more *branches*);
//! - each remaining photon independently reaches detector `i` with probability `T * P_i`, where `T`
//!   is the transmittance to a click and `P_i` the Born probability of outcome `i` for the
//!   misaligned state in Bob's basis (computed with [`crate::state`]);
//! - each detector independently fires from background (dark count or noise photon) with
//!   probability `b = 1 - (1 - d) exp(-n_noise / 2)`.
//!
//! The fast engine samples from these tables; the exact engine samples the same physics photon by
//! photon. The sum over photon numbers is truncated where the Poisson tail drops below 1e-17.

use qkd_core::{Basis, Bit, IntensityClass};

use crate::config::{DetectorSlotModel, Eavesdropper, LinkConfig};
use crate::error::QuantumError;
use crate::sampling::{AliasTable, Geometric};
use crate::state::{MeasurementBasis, Qubit, Unitary};

/// Number of hidden-variable combinations.
pub(crate) const HIDDEN: usize = 24;

/// Decoded hidden variables of a pulse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hidden {
    pub(crate) class: IntensityClass,
    pub(crate) alice_basis: Basis,
    pub(crate) alice_bit: Bit,
    pub(crate) bob_basis: Basis,
}

impl Hidden {
    pub(crate) fn decode(h: usize) -> Self {
        Self {
            class: IntensityClass::ALL[h >> 3],
            alice_basis: Basis::from_bool(h & 4 != 0),
            alice_bit: Bit::from(h & 2 != 0),
            bob_basis: Basis::from_bool(h & 1 != 0),
        }
    }

    #[cfg(test)]
    pub(crate) fn encode(self) -> usize {
        (self.class.index() << 3)
            | (usize::from(self.alice_basis == Basis::X) << 2)
            | (usize::from(self.alice_bit == Bit::One) << 1)
            | usize::from(self.bob_basis == Basis::X)
    }
}

/// Which detectors are alive in a stretch of slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Regime {
    Both = 0,
    Only0 = 1,
    Only1 = 2,
}

/// A click outcome of a regime table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClickOutcome {
    pub(crate) hidden: Hidden,
    pub(crate) eve_knows: bool,
    pub(crate) fired: [bool; 2],
}

/// Sampling tables of one regime: the per-slot click probability, the click outcomes, and the
/// class distribution of slots without a click.
#[derive(Debug, Clone)]
pub(crate) struct RegimeTable {
    pub(crate) p_click: f64,
    pub(crate) gap: Geometric,
    pub(crate) alias: Option<AliasTable>,
    pub(crate) outcomes: Vec<ClickOutcome>,
    pub(crate) no_click_class: [f64; 3],
}

/// The compiled model of a link.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub(crate) config: LinkConfig,
    pub(crate) mu: [f64; 3],
    pub(crate) class_cdf: [f64; 2],
    pub(crate) det: DetectorSlotModel,
    pub(crate) dark_probability: f64,
    pub(crate) noise_probability_per_detector: f64,
    pub(crate) misalignment: Unitary,
    pub(crate) prior: [f64; HIDDEN],
    pub(crate) prior_alias: AliasTable,
    /// `cond[h][ek * 4 + d0 * 2 + d1]`.
    pub(crate) cond: [[f64; 8]; HIDDEN],
    pub(crate) cond_alias: Vec<AliasTable>,
    pub(crate) regimes: [RegimeTable; 3],
    pub(crate) afterpulse_gap: Geometric,
}

/// One way the eavesdropper (or the honest channel) treats a pulse of `n` photons.
struct Branch {
    weight: f64,
    photons: u32,
    /// The state the photons arrive in (before misalignment).
    state: (Basis, Bit),
    /// Probability per photon of going to Eve (tap, beam splitter).
    to_eve: f64,
    /// Probability per photon (not taken by Eve) of reaching a detector and clicking it.
    to_bob: f64,
    /// `Some(v)`: Eve's knowledge is fixed by the branch; `None`: she knows iff she holds a photon.
    eve_knows: Option<bool>,
}

impl Model {
    pub(crate) fn new(config: &LinkConfig) -> Result<Self, QuantumError> {
        config.validate()?;
        let src = &config.source;
        let det = config.detector.per_slot(src.rate_hz);
        let mu = [src.mu_signal, src.mu_decoy, src.mu_vacuum];
        let pk = [src.p_signal, src.p_decoy, src.p_vacuum];
        let misalignment = Unitary::misalignment(config.channel.misalignment)?;
        let noise_probability_per_detector =
            -(-config.channel.noise_photons_per_gate / 2.0).exp_m1();
        let background =
            1.0 - (1.0 - det.dark_probability) * (1.0 - noise_probability_per_detector);

        let mut prior = [0.0; HIDDEN];
        let mut cond = [[0.0; 8]; HIDDEN];
        for (h, (p, c)) in prior.iter_mut().zip(cond.iter_mut()).enumerate() {
            let hid = Hidden::decode(h);
            let pa = if hid.alice_basis == Basis::Z {
                src.z_basis_probability
            } else {
                1.0 - src.z_basis_probability
            };
            let pb = if hid.bob_basis == Basis::Z {
                config.bob_z_probability
            } else {
                1.0 - config.bob_z_probability
            };
            *p = pk[hid.class.index()] * pa * 0.5 * pb;
            *c = pulse_outcome(
                config,
                &det,
                &misalignment,
                hid,
                mu[hid.class.index()],
                background,
            );
        }
        let prior_alias = AliasTable::new(&prior);
        let cond_alias = cond.iter().map(|c| AliasTable::new(c)).collect();
        let regimes =
            [Regime::Both, Regime::Only0, Regime::Only1].map(|r| regime_table(r, &prior, &cond));
        Ok(Self {
            config: *config,
            mu,
            class_cdf: [pk[0], pk[0] + pk[1]],
            det,
            dark_probability: det.dark_probability,
            noise_probability_per_detector,
            misalignment,
            prior,
            prior_alias,
            cond,
            cond_alias,
            regimes,
            afterpulse_gap: Geometric::new(det.afterpulse_release_per_slot),
        })
    }

    /// Memoryless click probability per pulse of `class` (both detectors alive).
    pub(crate) fn class_gain(&self, class: IntensityClass) -> f64 {
        let mut num = 0.0;
        let mut den = 0.0;
        for h in 0..HIDDEN {
            if Hidden::decode(h).class == class {
                let c = &self.cond[h];
                let click: f64 = (0..8).filter(|o| o & 3 != 0).map(|o| c[o]).sum();
                num += self.prior[h] * click;
                den += self.prior[h];
            }
        }
        if den > 0.0 { num / den } else { 0.0 }
    }
}

fn regime_table(regime: Regime, prior: &[f64; HIDDEN], cond: &[[f64; 8]; HIDDEN]) -> RegimeTable {
    let mut weights = Vec::new();
    let mut outcomes = Vec::new();
    let mut no_click = [0.0; 3];
    for h in 0..HIDDEN {
        let hidden = Hidden::decode(h);
        let c = &cond[h];
        let mut p_click_h = 0.0;
        for ek in 0..2usize {
            let base = ek * 4;
            let entries: Vec<(f64, [bool; 2])> = match regime {
                Regime::Both => vec![
                    (c[base + 2], [true, false]),
                    (c[base + 1], [false, true]),
                    (c[base + 3], [true, true]),
                ],
                Regime::Only0 => vec![(c[base + 2] + c[base + 3], [true, false])],
                Regime::Only1 => vec![(c[base + 1] + c[base + 3], [false, true])],
            };
            for (w, fired) in entries {
                p_click_h += w;
                let w = prior[h] * w;
                if w > 0.0 {
                    weights.push(w);
                    outcomes.push(ClickOutcome {
                        hidden,
                        eve_knows: ek == 1,
                        fired,
                    });
                }
            }
        }
        no_click[hidden.class.index()] += prior[h] * (1.0 - p_click_h).max(0.0);
    }
    let p_click: f64 = weights.iter().sum();
    let total_nc: f64 = no_click.iter().sum();
    if total_nc > 0.0 {
        for x in &mut no_click {
            *x /= total_nc;
        }
    }
    RegimeTable {
        p_click,
        gap: Geometric::new(p_click),
        alias: if p_click > 0.0 {
            Some(AliasTable::new(&weights))
        } else {
            None
        },
        outcomes,
        no_click_class: no_click,
    }
}

/// Born probabilities of Bob's two outcomes for photons in `state`, after misalignment.
pub(crate) fn routing(misalignment: &Unitary, state: (Basis, Bit), bob: Basis) -> [f64; 2] {
    let psi = Qubit::bb84(state.0, state.1).apply(misalignment);
    MeasurementBasis::from(bob).probabilities(&psi)
}

/// `P(eve_knows, D0, D1 | h)` for detectors that are both alive.
fn pulse_outcome(
    config: &LinkConfig,
    det: &DetectorSlotModel,
    misalignment: &Unitary,
    hid: Hidden,
    mu: f64,
    background: f64,
) -> [f64; 8] {
    let mut out = [0.0; 8];
    let mut pn = (-mu).exp();
    let mut cdf = 0.0;
    let mut n = 0u32;
    loop {
        if n > 0 {
            pn *= mu / f64::from(n);
        }
        cdf += pn;
        for br in branches(config, det, hid, n) {
            let p = routing(misalignment, br.state, hid.bob_basis);
            let q = [
                br.to_eve,
                (1.0 - br.to_eve) * br.to_bob * p[0],
                (1.0 - br.to_eve) * br.to_bob * p[1],
            ];
            let photon = photon_pattern(br.photons, q);
            for (pat, &pp) in photon.iter().enumerate() {
                if pp == 0.0 {
                    continue;
                }
                let ek = match br.eve_knows {
                    Some(v) => usize::from(v),
                    None => pat >> 2,
                };
                let a = [pat & 2 != 0, pat & 1 != 0];
                // Combine with the independent background of each detector.
                for d0 in 0..2usize {
                    let p0 = fire_prob(a[0], background, d0 == 1);
                    for d1 in 0..2usize {
                        let p1 = fire_prob(a[1], background, d1 == 1);
                        out[ek * 4 + d0 * 2 + d1] += pn * br.weight * pp * p0 * p1;
                    }
                }
            }
        }
        n += 1;
        if (1.0 - cdf < 1e-17 && f64::from(n) > mu) || n > 400 {
            break;
        }
    }
    let s: f64 = out.iter().sum();
    for x in &mut out {
        *x /= s;
    }
    out
}

/// Probability that a detector ends up `fires` given whether a photon hit it.
fn fire_prob(hit: bool, background: f64, fires: bool) -> f64 {
    let p = if hit { 1.0 } else { background };
    if fires { p } else { 1.0 - p }
}

/// `P(at least one photon to Eve, to D0, to D1)` as `[pattern e*4 + d0*2 + d1]` for `m` photons
/// each going to category c with probability `q[c]` (else lost), by inclusion-exclusion over
/// `Z(S) = (1 - sum_{c in S} q_c)^m`.
fn photon_pattern(m: u32, q: [f64; 3]) -> [f64; 8] {
    let mut out = [0.0; 8];
    let mi = i32::try_from(m).unwrap_or(i32::MAX);
    let z = |set: usize| -> f64 {
        let s: f64 = (0..3).filter(|c| set & (4 >> c) != 0).map(|c| q[c]).sum();
        (1.0 - s).max(0.0).powi(mi)
    };
    for (t, o) in out.iter_mut().enumerate() {
        let complement = 7 & !t;
        let mut acc = 0.0;
        // Sum over subsets u of t.
        let mut u = t;
        loop {
            let sign = if u.count_ones() % 2 == 0 { 1.0 } else { -1.0 };
            acc += sign * z(complement | u);
            if u == 0 {
                break;
            }
            u = (u - 1) & t;
        }
        *o = acc.max(0.0);
    }
    out
}

fn branches(config: &LinkConfig, det: &DetectorSlotModel, hid: Hidden, n: u32) -> Vec<Branch> {
    let t = config.channel.transmittance * det.efficiency;
    let alice = (hid.alice_basis, hid.alice_bit);
    let honest = |weight: f64, photons: u32, state: (Basis, Bit), eve_knows: bool| Branch {
        weight,
        photons,
        state,
        to_eve: 0.0,
        to_bob: t,
        eve_knows: Some(eve_knows),
    };
    match config.eavesdropper {
        Eavesdropper::None => vec![honest(1.0, n, alice, false)],
        Eavesdropper::FiberTap { fraction } => vec![Branch {
            weight: 1.0,
            photons: n,
            state: alice,
            to_eve: fraction,
            to_bob: t,
            eve_knows: None,
        }],
        Eavesdropper::BeamSplitting => vec![Branch {
            weight: 1.0,
            photons: n,
            state: alice,
            to_eve: 1.0 - config.channel.transmittance,
            to_bob: det.efficiency,
            eve_knows: None,
        }],
        Eavesdropper::PhotonNumberSplitting {
            single_photon_block_probability: b,
            multiphoton_transmittance: tm,
        } => match n {
            0 => vec![honest(1.0, 0, alice, false)],
            1 => vec![honest(b, 0, alice, false), honest(1.0 - b, 1, alice, false)],
            _ => vec![Branch {
                weight: 1.0,
                photons: n - 1,
                state: alice,
                to_eve: 0.0,
                to_bob: tm * det.efficiency,
                eve_knows: Some(true),
            }],
        },
        Eavesdropper::InterceptResend { fraction: f } => {
            let mut v = vec![honest(1.0 - f, n, alice, false)];
            if n == 0 {
                v.push(honest(f, 0, alice, false));
                return v;
            }
            for e in [Basis::Z, Basis::X] {
                if e == hid.alice_basis {
                    v.push(honest(f / 2.0, n, alice, true));
                } else {
                    v.push(honest(f / 4.0, n, (e, Bit::Zero), false));
                    v.push(honest(f / 4.0, n, (e, Bit::One), false));
                }
            }
            v
        }
    }
}

/// The photon-number-splitting attack that reproduces the honest signal gain of `config` (Eve
/// blocks single photons first, then lowers her multi-photon transmittance; if even a lossless
/// multi-photon channel falls short, she lets single photons through with the needed
/// probability). Found by bisection on the memoryless signal gain.
///
/// # Errors
/// Any error of [`LinkConfig::validate`].
pub fn pns_matching_signal_gain(config: &LinkConfig) -> Result<Eavesdropper, QuantumError> {
    let honest = LinkConfig {
        eavesdropper: Eavesdropper::None,
        ..*config
    };
    let target = Model::new(&honest)?.class_gain(IntensityClass::Signal);
    let gain = |b: f64, tm: f64| -> Result<f64, QuantumError> {
        let c = LinkConfig {
            eavesdropper: Eavesdropper::PhotonNumberSplitting {
                single_photon_block_probability: b,
                multiphoton_transmittance: tm,
            },
            ..honest
        };
        Ok(Model::new(&c)?.class_gain(IntensityClass::Signal))
    };
    let bisect = |f: &dyn Fn(f64) -> Result<f64, QuantumError>| -> Result<f64, QuantumError> {
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if f(mid)? < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    };
    let (b, tm) = if gain(1.0, 1.0)? >= target {
        (1.0, bisect(&|tm| gain(1.0, tm))?)
    } else {
        // Gain decreases with b: bisect on 1 - b.
        let keep = bisect(&|k| gain(1.0 - k, 1.0))?;
        (1.0 - keep, 1.0)
    };
    Ok(Eavesdropper::PhotonNumberSplitting {
        single_photon_block_probability: b,
        multiphoton_transmittance: tm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytic;
    use crate::config::{ChannelConfig, DetectorConfig};

    #[test]
    fn hidden_roundtrip() {
        for h in 0..HIDDEN {
            assert_eq!(Hidden::decode(h).encode(), h);
        }
    }

    #[test]
    fn photon_pattern_sums_to_one_and_matches_closed_form() {
        let q = [0.1, 0.3, 0.05];
        for m in 0..6 {
            let p = photon_pattern(m, q);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            // P(no photon anywhere) = (1 - 0.45)^m.
            assert!((p[0] - 0.55f64.powi(i32::try_from(m).unwrap())).abs() < 1e-12);
        }
    }

    #[test]
    fn tables_match_the_two_detector_formula() {
        let config = LinkConfig::builder()
            .channel(
                ChannelConfig::fiber(30.0, 0.2)
                    .unwrap()
                    .with_misalignment(0.02),
            )
            .detector(DetectorConfig::ingaas_spad())
            .build()
            .unwrap();
        let m = Model::new(&config).unwrap();
        let (eta, _, ed) = analytic::link_parameters(&config);
        for class in IntensityClass::ALL {
            let mu = config.source.mu(class);
            let two = analytic::two_detector(mu, eta, ed, m.dark_probability).unwrap();
            assert!((m.class_gain(class) - two.gain).abs() < 1e-14 + 1e-12 * two.gain);
            // Matching-basis error probability from the tables.
            let h = Hidden {
                class,
                alice_basis: Basis::Z,
                alice_bit: Bit::Zero,
                bob_basis: Basis::Z,
            }
            .encode();
            let c = m.cond[h];
            let err = c[1] + c[5] + 0.5 * (c[3] + c[7]);
            assert!((err - two.error_gain).abs() < 1e-14 + 1e-12 * two.error_gain);
        }
    }

    #[test]
    fn pns_matching_reproduces_signal_gain_and_lowers_decoy_gain() {
        let honest = LinkConfig::builder()
            .channel(ChannelConfig::fiber(100.0, 0.2).unwrap())
            .detector(DetectorConfig::snspd().without_memory())
            .build()
            .unwrap();
        let eve = pns_matching_signal_gain(&honest).unwrap();
        let attacked = LinkConfig {
            eavesdropper: eve,
            ..honest
        };
        let (h, a) = (Model::new(&honest).unwrap(), Model::new(&attacked).unwrap());
        let s = IntensityClass::Signal;
        assert!((h.class_gain(s) - a.class_gain(s)).abs() < 1e-9 * h.class_gain(s));
        assert!(a.class_gain(IntensityClass::Decoy) < 0.5 * h.class_gain(IntensityClass::Decoy));
    }
}
