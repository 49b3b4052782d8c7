//! Detection records: what a BB84 link (simulated or real) produces per detected slot.
//!
//! The record type lives here, not in the simulator, so that sifting and estimation (qkd-sifting)
//! accept records from real hardware without depending on qkd-quantum. A record joins what Alice
//! knows about a slot (basis, bit, intensity class) with what Bob saw (basis, bit, click kind); the
//! two halves are split with [`DetectionRecord::alice`] and [`DetectionRecord::bob`] before any
//! protocol runs, because the two parties never share their halves except through the channel.
//!
//! Only slots where Bob registered a click are recorded; the slot index counts every emitted pulse.

use crate::{Basis, Bit};

/// The intensity class of a decoy-state pulse (the mean photon numbers are set in the source config).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[repr(u8)]
pub enum IntensityClass {
    /// The signal intensity mu1 (the largest).
    Signal = 0,
    /// The weak decoy intensity mu2.
    Decoy = 1,
    /// The vacuum (or weakest) decoy intensity mu3.
    Vacuum = 2,
}

impl IntensityClass {
    /// All classes, in index order.
    pub const ALL: [IntensityClass; 3] = [
        IntensityClass::Signal,
        IntensityClass::Decoy,
        IntensityClass::Vacuum,
    ];

    /// Index 0, 1, 2 for signal, decoy, vacuum (for per-class arrays).
    #[must_use]
    pub fn index(self) -> usize {
        self as usize
    }
}

/// How Bob's detectors fired in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum ClickKind {
    /// Exactly one detector fired.
    Single,
    /// Both detectors of the measured basis fired; the bit was assigned at random (squashing).
    Double,
}

/// One detected slot of a BB84 link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DetectionRecord {
    /// Index of the emitted pulse (0-based, counting every pulse, detected or not).
    pub slot: u64,
    /// Alice's preparation basis.
    pub alice_basis: Basis,
    /// Alice's encoded bit.
    pub alice_bit: Bit,
    /// Alice's intensity class for this pulse.
    pub intensity: IntensityClass,
    /// Bob's measurement basis.
    pub bob_basis: Basis,
    /// Bob's measured bit.
    pub bob_bit: Bit,
    /// Whether one or both detectors fired.
    pub click: ClickKind,
}

/// Alice's half of a detected slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AliceSlot {
    /// Pulse index.
    pub slot: u64,
    /// Preparation basis.
    pub basis: Basis,
    /// Encoded bit.
    pub bit: Bit,
    /// Intensity class.
    pub intensity: IntensityClass,
}

/// Bob's half of a detected slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BobDetection {
    /// Pulse index.
    pub slot: u64,
    /// Measurement basis.
    pub basis: Basis,
    /// Measured bit.
    pub bit: Bit,
    /// Click kind.
    pub click: ClickKind,
}

impl DetectionRecord {
    /// Alice's half.
    #[must_use]
    pub fn alice(&self) -> AliceSlot {
        AliceSlot {
            slot: self.slot,
            basis: self.alice_basis,
            bit: self.alice_bit,
            intensity: self.intensity,
        }
    }

    /// Bob's half.
    #[must_use]
    pub fn bob(&self) -> BobDetection {
        BobDetection {
            slot: self.slot,
            basis: self.bob_basis,
            bit: self.bob_bit,
            click: self.click,
        }
    }

    /// True if Alice and Bob used the same basis (the slot survives sifting).
    #[must_use]
    pub fn bases_match(&self) -> bool {
        self.alice_basis == self.bob_basis
    }

    /// True if the bases match and the bits differ (a QBER error).
    #[must_use]
    pub fn is_error(&self) -> bool {
        self.bases_match() && self.alice_bit != self.bob_bit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_and_error() {
        let r = DetectionRecord {
            slot: 9,
            alice_basis: Basis::Z,
            alice_bit: Bit::One,
            intensity: IntensityClass::Decoy,
            bob_basis: Basis::Z,
            bob_bit: Bit::Zero,
            click: ClickKind::Single,
        };
        assert!(r.is_error());
        assert_eq!(r.alice().slot, r.bob().slot);
        assert_eq!(IntensityClass::Decoy.index(), 1);
        let s = DetectionRecord {
            bob_basis: Basis::X,
            ..r
        };
        assert!(!s.is_error());
    }
}
