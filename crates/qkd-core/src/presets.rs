//! Published link parameter sets, defined once so that every crate (simulation, estimation,
//! key-rate curves) uses the same numbers.
//!
//! ```
//! use qkd_core::presets::gys;
//! // Total transmittance at 50 km: fiber loss and Bob's efficiency.
//! let eta = gys::transmittance(50.0);
//! assert!((eta - 0.045 * 10f64.powf(-1.05)).abs() < 1e-15);
//! assert_eq!(gys::Y0, 2.0 * gys::DARK_COUNT_PER_DETECTOR);
//! ```

/// The GYS parameter set: Gobby, Yuan, Shields, "Quantum key distribution over 122 km of
/// standard telecom fiber", APL 84, 3762 (2004), as used by Lo, Ma, Chen, PRL 94, 230504 (2005)
/// and Ma et al., PRA 72, 012326 (2005) for their decoy-state key-rate curves (PHYSICS.md).
pub mod gys {
    /// Fiber attenuation in dB/km.
    pub const ATTENUATION_DB_PER_KM: f64 = 0.21;
    /// Bob's transmittance including detector efficiency (`η_Bob`).
    pub const ETA_BOB: f64 = 0.045;
    /// Background (dark-count) yield per pulse, both detectors together (`Y0`).
    pub const Y0: f64 = 1.7e-6;
    /// Dark-count probability per gate of each of Bob's two detectors (`Y0 / 2`).
    pub const DARK_COUNT_PER_DETECTOR: f64 = 8.5e-7;
    /// Misalignment (optical) error probability `e_d`.
    pub const MISALIGNMENT: f64 = 0.033;
    /// Reconciliation efficiency used for the published curves.
    pub const F_EC: f64 = 1.22;

    /// Total transmittance `η = η_Bob 10^(-α L / 10)` over `length_km` of fiber.
    #[must_use]
    pub fn transmittance(length_km: f64) -> f64 {
        ETA_BOB * 10f64.powf(-ATTENUATION_DB_PER_KM * length_km / 10.0)
    }
}
