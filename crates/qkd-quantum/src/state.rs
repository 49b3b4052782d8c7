//! Qubit states, channels and measurements (nalgebra, complex amplitudes).
//!
//! A polarisation or time-bin qubit is a unit vector in C^2 ([`Qubit`]) or, once noise enters, a
//! density matrix ([`DensityMatrix`]). Conventions follow Nielsen & Chuang, *Quantum Computation and
//! Quantum Information* (2010):
//! - BB84 states: Z basis `|0>`, `|1>`; X basis `|+> = (|0>+|1>)/sqrt2`, `|-> = (|0>-|1>)/sqrt2`.
//! - Bloch vector `r` with `rho = (I + r.sigma)/2` (N&C eq. 4.105 for the pure-state parametrisation).
//! - Rotation `R_n(theta) = cos(theta/2) I - i sin(theta/2) n.sigma` (N&C eq. 4.8).
//! - Depolarising `rho -> (1-p) rho + p I/2` and dephasing `rho -> (1-p) rho + p Z rho Z` (N&C 8.3).
//! - Fidelity in the squared (Jozsa) convention `F = (tr sqrt(sqrt(rho) sigma sqrt(rho)))^2`, which is
//!   `|<a|b>|^2` for pure states; for qubits `F = tr(rho sigma) + 2 sqrt(det rho det sigma)`
//!   (Jozsa, J. Mod. Opt. 41, 2315 (1994)).
//! - Trace distance `D = |r - s| / 2` for qubits (N&C eq. 9.19).
//!
//! Misalignment of a link is the rotation [`Unitary::misalignment`] about the y axis by the angle
//! `theta` with `sin^2(theta/2) = e_d`: it flips Z and X outcomes with the same probability `e_d`,
//! as a rotated polarisation reference frame does.

use nalgebra::{Complex, Matrix2, Vector2};
use qkd_core::{Basis, Bit};
use rand::Rng;

use crate::error::{QuantumError, check_probability};
use crate::sampling::unit_f64;

/// A complex number of two `f64`.
pub type C64 = Complex<f64>;

const TOL: f64 = 1e-9;

fn c(re: f64, im: f64) -> C64 {
    Complex::new(re, im)
}

/// A pure qubit state: a unit vector `a|0> + b|1>` of C^2 (global phase is kept but never observable).
///
/// ```
/// use qkd_quantum::state::{Qubit, MeasurementBasis};
/// use qkd_core::{Basis, Bit};
/// let plus = Qubit::bb84(Basis::X, Bit::Zero);
/// let p = MeasurementBasis::from(Basis::Z).probabilities(&plus);
/// assert!((p[0] - 0.5).abs() < 1e-12);
/// assert!((plus.bloch()[0] - 1.0).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Qubit(Vector2<C64>);

impl Qubit {
    /// The state `a|0> + b|1>`, normalised.
    ///
    /// # Errors
    /// [`QuantumError::InvalidState`] if both amplitudes are zero or not finite.
    pub fn new(a: C64, b: C64) -> Result<Self, QuantumError> {
        let v = Vector2::new(a, b);
        let n = v.norm();
        if !n.is_finite() || n < TOL {
            return Err(QuantumError::InvalidState {
                reason: "state vector has zero or non-finite norm",
            });
        }
        Ok(Self(v.unscale(n)))
    }

    /// `|0>`.
    #[must_use]
    pub fn zero() -> Self {
        Self(Vector2::new(c(1.0, 0.0), c(0.0, 0.0)))
    }

    /// `|1>`.
    #[must_use]
    pub fn one() -> Self {
        Self(Vector2::new(c(0.0, 0.0), c(1.0, 0.0)))
    }

    /// `|+> = (|0> + |1>)/sqrt 2`.
    #[must_use]
    pub fn plus() -> Self {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        Self(Vector2::new(c(s, 0.0), c(s, 0.0)))
    }

    /// `|-> = (|0> - |1>)/sqrt 2`.
    #[must_use]
    pub fn minus() -> Self {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        Self(Vector2::new(c(s, 0.0), c(-s, 0.0)))
    }

    /// The BB84 state encoding `bit` in `basis`: `|0>`,`|1>` (Z) or `|+>`,`|->` (X).
    #[must_use]
    pub fn bb84(basis: Basis, bit: Bit) -> Self {
        match (basis, bit) {
            (Basis::Z, Bit::Zero) => Self::zero(),
            (Basis::Z, Bit::One) => Self::one(),
            (Basis::X, Bit::Zero) => Self::plus(),
            (Basis::X, Bit::One) => Self::minus(),
        }
    }

    /// The state at polar angle `theta_rad` and azimuth `phi_rad` of the Bloch sphere:
    /// `cos(theta/2)|0> + e^{i phi} sin(theta/2)|1>` (N&C eq. 1.4).
    #[must_use]
    pub fn from_bloch_angles(theta_rad: f64, phi_rad: f64) -> Self {
        let (s, co) = (theta_rad / 2.0).sin_cos();
        Self(Vector2::new(
            c(co, 0.0),
            Complex::from_polar(1.0, phi_rad).scale(s),
        ))
    }

    /// The amplitudes `[a, b]`.
    #[must_use]
    pub fn amplitudes(&self) -> [C64; 2] {
        [self.0[0], self.0[1]]
    }

    /// The inner product `<self|other>`.
    #[must_use]
    pub fn inner(&self, other: &Qubit) -> C64 {
        self.0.dotc(&other.0)
    }

    /// Fidelity `|<self|other>|^2` of two pure states.
    #[must_use]
    pub fn fidelity(&self, other: &Qubit) -> f64 {
        self.inner(other).norm_sqr()
    }

    /// The state after the unitary `u`.
    #[must_use]
    pub fn apply(&self, u: &Unitary) -> Qubit {
        Qubit(u.0 * self.0)
    }

    /// The Bloch vector `[x, y, z]` (unit length for a pure state).
    #[must_use]
    pub fn bloch(&self) -> [f64; 3] {
        self.density().bloch()
    }

    /// The density matrix `|psi><psi|`.
    #[must_use]
    pub fn density(&self) -> DensityMatrix {
        DensityMatrix(self.0 * self.0.adjoint())
    }
}

/// A 2x2 unitary operator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unitary(Matrix2<C64>);

impl Unitary {
    /// The operator `m`, checked to be unitary (`m m^dagger = I` within 1e-9).
    ///
    /// # Errors
    /// [`QuantumError::InvalidState`] if `m` is not unitary.
    pub fn new(m: Matrix2<C64>) -> Result<Self, QuantumError> {
        let d = m * m.adjoint() - Matrix2::identity();
        if d.iter().all(|z| z.norm() < TOL) {
            Ok(Self(m))
        } else {
            Err(QuantumError::InvalidState {
                reason: "matrix is not unitary",
            })
        }
    }

    /// The identity.
    #[must_use]
    pub fn identity() -> Self {
        Self(Matrix2::identity())
    }

    /// The rotation by `angle_rad` about the Bloch-sphere axis `axis` (normalised here):
    /// `cos(angle/2) I - i sin(angle/2) (n . sigma)` (N&C eq. 4.8). A zero axis gives the identity.
    #[must_use]
    pub fn rotation(axis: [f64; 3], angle_rad: f64) -> Self {
        let n = (axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]).sqrt();
        if !(n.is_finite() && n > 0.0) {
            return Self::identity();
        }
        let [x, y, z] = [axis[0] / n, axis[1] / n, axis[2] / n];
        let (s, co) = (angle_rad / 2.0).sin_cos();
        // n.sigma = [[z, x - i y], [x + i y, -z]]
        Self(Matrix2::new(
            c(co, -s * z),
            c(-s * y, -s * x),
            c(s * y, -s * x),
            c(co, s * z),
        ))
    }

    /// `R_x(angle)`.
    #[must_use]
    pub fn rx(angle_rad: f64) -> Self {
        Self::rotation([1.0, 0.0, 0.0], angle_rad)
    }

    /// `R_y(angle)`: a rotation of linear polarisation (real rotation in the Z-X plane).
    #[must_use]
    pub fn ry(angle_rad: f64) -> Self {
        Self::rotation([0.0, 1.0, 0.0], angle_rad)
    }

    /// `R_z(angle)`: a phase shift between `|0>` and `|1>`.
    #[must_use]
    pub fn rz(angle_rad: f64) -> Self {
        Self::rotation([0.0, 0.0, 1.0], angle_rad)
    }

    /// Pauli X.
    #[must_use]
    pub fn pauli_x() -> Self {
        Self(Matrix2::new(
            c(0.0, 0.0),
            c(1.0, 0.0),
            c(1.0, 0.0),
            c(0.0, 0.0),
        ))
    }

    /// Pauli Y.
    #[must_use]
    pub fn pauli_y() -> Self {
        Self(Matrix2::new(
            c(0.0, 0.0),
            c(0.0, -1.0),
            c(0.0, 1.0),
            c(0.0, 0.0),
        ))
    }

    /// Pauli Z.
    #[must_use]
    pub fn pauli_z() -> Self {
        Self(Matrix2::new(
            c(1.0, 0.0),
            c(0.0, 0.0),
            c(0.0, 0.0),
            c(-1.0, 0.0),
        ))
    }

    /// Hadamard (maps the Z basis onto the X basis).
    #[must_use]
    pub fn hadamard() -> Self {
        let s = std::f64::consts::FRAC_1_SQRT_2;
        Self(Matrix2::new(c(s, 0.0), c(s, 0.0), c(s, 0.0), c(-s, 0.0)))
    }

    /// The misalignment of a link with error probability `e_d`: `R_y(theta)`, `sin^2(theta/2) = e_d`.
    /// It flips a Z or X outcome with probability exactly `e_d`.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] unless `e_d` is in `[0, 1]`.
    pub fn misalignment(e_d: f64) -> Result<Self, QuantumError> {
        let e = check_probability("misalignment e_d", e_d)?;
        Ok(Self::ry(2.0 * e.sqrt().asin()))
    }

    /// The product `self * other` (apply `other` first).
    #[must_use]
    pub fn then_after(&self, other: &Unitary) -> Unitary {
        Unitary(self.0 * other.0)
    }

    /// The matrix.
    #[must_use]
    pub fn matrix(&self) -> Matrix2<C64> {
        self.0
    }
}

/// A qubit density matrix: Hermitian, positive semidefinite, trace one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DensityMatrix(Matrix2<C64>);

impl DensityMatrix {
    /// The matrix `m`, checked to be a density matrix (within 1e-9).
    ///
    /// # Errors
    /// [`QuantumError::InvalidState`] if `m` is not Hermitian, has trace other than one, or has a
    /// negative eigenvalue.
    pub fn new(m: Matrix2<C64>) -> Result<Self, QuantumError> {
        let herm = (m - m.adjoint()).iter().all(|z| z.norm() < TOL);
        let tr = m[(0, 0)] + m[(1, 1)];
        if !herm || (tr - c(1.0, 0.0)).norm() > TOL {
            return Err(QuantumError::InvalidState {
                reason: "density matrix must be Hermitian with unit trace",
            });
        }
        let rho = Self(m);
        let r = rho.bloch();
        if r[0] * r[0] + r[1] * r[1] + r[2] * r[2] > 1.0 + TOL {
            return Err(QuantumError::InvalidState {
                reason: "density matrix has a negative eigenvalue (Bloch vector longer than 1)",
            });
        }
        Ok(rho)
    }

    /// The state with Bloch vector `r` (`|r| <= 1`): `(I + r.sigma)/2`.
    ///
    /// # Errors
    /// [`QuantumError::InvalidState`] if `|r| > 1` or a component is not finite.
    pub fn from_bloch(r: [f64; 3]) -> Result<Self, QuantumError> {
        let n2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
        if !n2.is_finite() || n2 > 1.0 + TOL {
            return Err(QuantumError::InvalidState {
                reason: "Bloch vector must be finite with length at most 1",
            });
        }
        Ok(Self(Matrix2::new(
            c((1.0 + r[2]) / 2.0, 0.0),
            c(r[0] / 2.0, -r[1] / 2.0),
            c(r[0] / 2.0, r[1] / 2.0),
            c((1.0 - r[2]) / 2.0, 0.0),
        )))
    }

    /// The maximally mixed state `I/2`.
    #[must_use]
    pub fn maximally_mixed() -> Self {
        Self(Matrix2::identity().scale(0.5))
    }

    /// The matrix.
    #[must_use]
    pub fn matrix(&self) -> Matrix2<C64> {
        self.0
    }

    /// The Bloch vector: `x = 2 Re rho01`, `y = -2 Im rho01`, `z = rho00 - rho11`.
    #[must_use]
    pub fn bloch(&self) -> [f64; 3] {
        let r01 = self.0[(0, 1)];
        [
            2.0 * r01.re,
            -2.0 * r01.im,
            self.0[(0, 0)].re - self.0[(1, 1)].re,
        ]
    }

    /// Purity `tr(rho^2) = (1 + |r|^2)/2`.
    #[must_use]
    pub fn purity(&self) -> f64 {
        (self.0 * self.0).trace().re
    }

    /// `U rho U^dagger`.
    #[must_use]
    pub fn apply(&self, u: &Unitary) -> Self {
        Self(u.0 * self.0 * u.0.adjoint())
    }

    /// The depolarising channel `rho -> (1-p) rho + p I/2` (N&C eq. 8.102).
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] unless `p` is in `[0, 1]`.
    pub fn depolarize(&self, p: f64) -> Result<Self, QuantumError> {
        let p = check_probability("depolarizing probability", p)?;
        Ok(Self(
            self.0.scale(1.0 - p) + Matrix2::<C64>::identity().scale(p / 2.0),
        ))
    }

    /// The dephasing (phase-flip) channel `rho -> (1-p) rho + p Z rho Z` (N&C eq. 8.84): it shrinks
    /// the x and y Bloch components by `1 - 2p` and leaves z alone.
    ///
    /// # Errors
    /// [`QuantumError::InvalidProbability`] unless `p` is in `[0, 1]`.
    pub fn dephase(&self, p: f64) -> Result<Self, QuantumError> {
        let p = check_probability("dephasing probability", p)?;
        let z = Unitary::pauli_z();
        Ok(Self(self.0.scale(1.0 - p) + self.apply(&z).0.scale(p)))
    }

    /// Fidelity `F(rho, sigma) = tr(rho sigma) + 2 sqrt(det rho det sigma)` (qubit closed form of
    /// the squared Uhlmann-Jozsa fidelity).
    #[must_use]
    pub fn fidelity(&self, other: &DensityMatrix) -> f64 {
        let t = (self.0 * other.0).trace().re;
        let d = (self.0.determinant().re * other.0.determinant().re).max(0.0);
        (t + 2.0 * d.sqrt()).clamp(0.0, 1.0)
    }

    /// Trace distance `D(rho, sigma) = |r - s| / 2` (N&C eq. 9.19).
    #[must_use]
    pub fn trace_distance(&self, other: &DensityMatrix) -> f64 {
        let (r, s) = (self.bloch(), other.bloch());
        let d = [r[0] - s[0], r[1] - s[1], r[2] - s[2]];
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt() / 2.0
    }
}

/// A projective measurement: an orthonormal pair `{|m0>, |m1>}`; outcome `i` has Born probability
/// `|<m_i|psi>|^2` (`<m_i|rho|m_i>` for a mixed state).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MeasurementBasis {
    vectors: [Qubit; 2],
}

impl From<Basis> for MeasurementBasis {
    fn from(b: Basis) -> Self {
        Self {
            vectors: [Qubit::bb84(b, Bit::Zero), Qubit::bb84(b, Bit::One)],
        }
    }
}

impl MeasurementBasis {
    /// The measurement along the Bloch direction `(theta, phi)`: outcome 0 is the state at
    /// `(theta, phi)`, outcome 1 its antipode.
    #[must_use]
    pub fn from_bloch_angles(theta_rad: f64, phi_rad: f64) -> Self {
        let m0 = Qubit::from_bloch_angles(theta_rad, phi_rad);
        let m1 = Qubit::from_bloch_angles(
            std::f64::consts::PI - theta_rad,
            phi_rad + std::f64::consts::PI,
        );
        Self { vectors: [m0, m1] }
    }

    /// The two basis states.
    #[must_use]
    pub fn vectors(&self) -> [Qubit; 2] {
        self.vectors
    }

    /// Born probabilities of outcomes 0 and 1 for a pure state.
    #[must_use]
    pub fn probabilities(&self, psi: &Qubit) -> [f64; 2] {
        let p0 = self.vectors[0].fidelity(psi).clamp(0.0, 1.0);
        [p0, 1.0 - p0]
    }

    /// Born probabilities of outcomes 0 and 1 for a density matrix.
    #[must_use]
    pub fn probabilities_mixed(&self, rho: &DensityMatrix) -> [f64; 2] {
        let m0 = self.vectors[0].0;
        let p0 = (m0.adjoint() * rho.0 * m0)[(0, 0)].re.clamp(0.0, 1.0);
        [p0, 1.0 - p0]
    }

    /// Measure `psi`: sample an outcome with the Born rule.
    pub fn measure<R: Rng + ?Sized>(&self, psi: &Qubit, rng: &mut R) -> Bit {
        Bit::from(unit_f64(rng) >= self.probabilities(psi)[0])
    }

    /// Measure `rho`: sample an outcome with the Born rule.
    pub fn measure_mixed<R: Rng + ?Sized>(&self, rho: &DensityMatrix, rng: &mut R) -> Bit {
        Bit::from(unit_f64(rng) >= self.probabilities_mixed(rho)[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qkd_core::sim_rng;

    const EPS: f64 = 1e-12;

    #[test]
    fn bb84_states_are_mutually_unbiased() {
        for b in [Basis::Z, Basis::X] {
            let m = MeasurementBasis::from(b);
            for bit in [Bit::Zero, Bit::One] {
                let p = m.probabilities(&Qubit::bb84(b, bit));
                assert!((p[bit as usize] - 1.0).abs() < EPS);
                let q = MeasurementBasis::from(b.other()).probabilities(&Qubit::bb84(b, bit));
                assert!((q[0] - 0.5).abs() < EPS && (q[1] - 0.5).abs() < EPS);
            }
        }
        assert!(Qubit::plus().inner(&Qubit::minus()).norm() < EPS);
    }

    #[test]
    fn bloch_vectors_of_bb84_states() {
        let close = |a: [f64; 3], b: [f64; 3]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < EPS);
        assert!(close(Qubit::zero().bloch(), [0.0, 0.0, 1.0]));
        assert!(close(Qubit::one().bloch(), [0.0, 0.0, -1.0]));
        assert!(close(Qubit::plus().bloch(), [1.0, 0.0, 0.0]));
        assert!(close(Qubit::minus().bloch(), [-1.0, 0.0, 0.0]));
        let y = Qubit::from_bloch_angles(std::f64::consts::FRAC_PI_2, std::f64::consts::FRAC_PI_2);
        assert!(close(y.bloch(), [0.0, 1.0, 0.0]));
    }

    #[test]
    fn pauli_identities() {
        let (x, y, z) = (Unitary::pauli_x(), Unitary::pauli_y(), Unitary::pauli_z());
        // XY = iZ, H X H = Z, H^2 = I.
        let xy = x.then_after(&y).matrix();
        assert!(
            (xy - z.matrix() * c(0.0, 1.0))
                .iter()
                .all(|e| e.norm() < EPS)
        );
        let h = Unitary::hadamard();
        let hxh = h.then_after(&x).then_after(&h).matrix();
        assert!((hxh - z.matrix()).iter().all(|e| e.norm() < EPS));
        let hh = h.then_after(&h).matrix();
        assert!((hh - Matrix2::identity()).iter().all(|e| e.norm() < EPS));
        // R_y(pi) |0> = |1> up to phase; R_x(pi) equals -i X.
        assert!(
            (Qubit::zero()
                .apply(&Unitary::ry(std::f64::consts::PI))
                .fidelity(&Qubit::one())
                - 1.0)
                .abs()
                < EPS
        );
        let rx = Unitary::rx(std::f64::consts::PI).matrix();
        assert!(
            (rx - x.matrix() * c(0.0, -1.0))
                .iter()
                .all(|e| e.norm() < EPS)
        );
        assert!(
            Unitary::new(Matrix2::new(
                c(1.0, 0.0),
                c(1.0, 0.0),
                c(0.0, 0.0),
                c(1.0, 0.0)
            ))
            .is_err()
        );
    }

    #[test]
    fn misalignment_flips_both_bases_with_e_d() {
        let u = Unitary::misalignment(0.033).unwrap();
        for b in [Basis::Z, Basis::X] {
            for bit in [Bit::Zero, Bit::One] {
                let p = MeasurementBasis::from(b).probabilities(&Qubit::bb84(b, bit).apply(&u));
                assert!(
                    (p[bit.flipped() as usize] - 0.033).abs() < 1e-12,
                    "{b:?} {bit:?}"
                );
            }
        }
        assert!(Unitary::misalignment(1.5).is_err());
    }

    #[test]
    fn channels_act_on_bloch_vectors() {
        let rho = Qubit::plus().density();
        let d = rho.depolarize(0.3).unwrap().bloch();
        assert!((d[0] - 0.7).abs() < EPS);
        let ph = DensityMatrix::from_bloch([0.6, 0.0, 0.8])
            .unwrap()
            .dephase(0.25)
            .unwrap()
            .bloch();
        assert!((ph[0] - 0.3).abs() < EPS && (ph[2] - 0.8).abs() < EPS);
        assert!((DensityMatrix::maximally_mixed().purity() - 0.5).abs() < EPS);
        assert!(rho.depolarize(-0.1).is_err());
        assert!(DensityMatrix::from_bloch([1.0, 1.0, 0.0]).is_err());
        assert!(
            DensityMatrix::new(Matrix2::new(
                c(2.0, 0.0),
                c(0.0, 0.0),
                c(0.0, 0.0),
                c(-1.0, 0.0)
            ))
            .is_err()
        );
    }

    #[test]
    fn fidelity_and_trace_distance_textbook_values() {
        // Orthogonal pure states: F = 0, D = 1; |0> vs |+>: F = 1/2, D = 1/sqrt 2.
        let (z0, z1, p) = (
            Qubit::zero().density(),
            Qubit::one().density(),
            Qubit::plus().density(),
        );
        assert!(z0.fidelity(&z1) < EPS && (z0.trace_distance(&z1) - 1.0).abs() < EPS);
        assert!((z0.fidelity(&p) - 0.5).abs() < EPS);
        assert!((z0.trace_distance(&p) - std::f64::consts::FRAC_1_SQRT_2).abs() < EPS);
        // A pure state vs I/2: F = 1/2, D = 1/2.
        let m = DensityMatrix::maximally_mixed();
        assert!((z0.fidelity(&m) - 0.5).abs() < EPS && (z0.trace_distance(&m) - 0.5).abs() < EPS);
    }

    #[test]
    fn born_rule_sampling_matches_probabilities() {
        // 200 000 samples of p = cos^2(pi/8) = 0.8536: sd = sqrt(p(1-p)/n) = 7.9e-4, allow 5 sd.
        let psi = Qubit::from_bloch_angles(std::f64::consts::FRAC_PI_4, 0.0);
        let m = MeasurementBasis::from(Basis::Z);
        let mut rng = sim_rng(7);
        let n = 200_000;
        let zeros = (0..n)
            .filter(|_| m.measure(&psi, &mut rng) == Bit::Zero)
            .count();
        let p = m.probabilities(&psi)[0];
        #[allow(clippy::cast_precision_loss)]
        let f = zeros as f64 / f64::from(n);
        assert!((f - p).abs() < 5.0 * (p * (1.0 - p) / f64::from(n)).sqrt());
    }

    proptest! {
        #[test]
        fn unitaries_preserve_norm_and_trace_distance(
            ax in -1.0f64..1.0, ay in -1.0f64..1.0, az in -1.0f64..1.0, angle in -7.0f64..7.0,
            t1 in 0.0f64..3.2, p1 in 0.0f64..6.3, t2 in 0.0f64..3.2, p2 in 0.0f64..6.3,
        ) {
            let u = Unitary::rotation([ax, ay, az], angle);
            prop_assert!(Unitary::new(u.matrix()).is_ok());
            let (a, b) = (Qubit::from_bloch_angles(t1, p1), Qubit::from_bloch_angles(t2, p2));
            let (ua, ub) = (a.apply(&u), b.apply(&u));
            prop_assert!((ua.inner(&ua).re - 1.0).abs() < 1e-9);
            prop_assert!((a.fidelity(&b) - ua.fidelity(&ub)).abs() < 1e-9);
            let (ra, rb) = (a.density(), b.density());
            prop_assert!((ra.trace_distance(&rb) - ra.apply(&u).trace_distance(&rb.apply(&u))).abs() < 1e-9);
            // Pure states: D = sqrt(1 - F) (N&C eq. 9.99 with squared fidelity).
            prop_assert!((ra.trace_distance(&rb) - (1.0 - ra.fidelity(&rb)).max(0.0).sqrt()).abs() < 1e-6);
            prop_assert!((ra.fidelity(&rb) - a.fidelity(&b)).abs() < 1e-9);
            let m = MeasurementBasis::from_bloch_angles(t2, p2);
            let p = m.probabilities(&a);
            prop_assert!((p[0] - a.fidelity(&b)).abs() < 1e-9);
            prop_assert!((p[0] - m.probabilities_mixed(&ra)[0]).abs() < 1e-9);
        }
    }
}
