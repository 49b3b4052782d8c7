//! Detection records as bit-packed struct-of-arrays, one per party.
//!
//! # Record format (simulated or real hardware)
//!
//! Each party holds only its own half of every detected slot, as parallel arrays of equal length:
//!
//! | field | Alice ([`AliceRecords`]) | Bob ([`BobRecords`]) |
//! |---|---|---|
//! | `slots` | pulse indices, strictly increasing (`u64`) | detected pulse indices, strictly increasing |
//! | `bases` | 1 bit per record: 0 = Z, 1 = X | same |
//! | `bits` | encoded bit | measured bit (double clicks already squashed to a random bit) |
//! | `intensity_lo`, `intensity_hi` | class index `lo + 2 hi` of [`IntensityClass`] (0 signal, 1 decoy, 2 vacuum) | - |
//!
//! Alice's table may hold every emitted pulse (real hardware) or only the detected ones
//! (simulators, [`split_records`]); Bob announces his slots and Alice looks them up. Bit arrays are
//! [`BitBlock`]s (LSB-first in `u64` words, serde as `{bits, base64}`), so 1e8 records take 12.5 MB
//! per bit plane plus 800 MB of slot indices. [`AliceRecords::from_slots`] and
//! [`BobRecords::from_detections`] convert qkd-core's per-record structs.

#[cfg(doc)]
use qkd_core::IntensityClass;
use qkd_core::{AliceSlot, Basis, BitBlock, BobDetection, DetectionRecord};

use crate::error::SiftingError;

/// Alice's half of the records. Deserialization validates like [`AliceRecords::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "wire::AliceWire"))]
pub struct AliceRecords {
    pub(crate) slots: Vec<u64>,
    pub(crate) bases: BitBlock,
    pub(crate) bits: BitBlock,
    pub(crate) intensity_lo: BitBlock,
    pub(crate) intensity_hi: BitBlock,
}

/// Bob's half of the records. Deserialization validates like [`BobRecords::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "wire::BobWire"))]
pub struct BobRecords {
    // Shared with the announce message instead of copied (800 MB at 1e8 records).
    pub(crate) slots: std::sync::Arc<[u64]>,
    pub(crate) bases: BitBlock,
    pub(crate) bits: BitBlock,
}

pub(crate) fn check_sorted(slots: &[u64], who: &'static str) -> Result<(), SiftingError> {
    match slots.windows(2).position(|w| w[0] >= w[1]) {
        Some(p) => Err(SiftingError::UnsortedSlots {
            who,
            position: p + 1,
        }),
        None => Ok(()),
    }
}

fn check_len(what: &'static str, a: usize, b: usize) -> Result<(), SiftingError> {
    if a == b {
        Ok(())
    } else {
        Err(SiftingError::LengthMismatch {
            what,
            left: a,
            right: b,
        })
    }
}

impl AliceRecords {
    /// Alice's records from parallel arrays.
    ///
    /// # Errors
    /// [`SiftingError::LengthMismatch`] if the arrays differ in length,
    /// [`SiftingError::UnsortedSlots`] unless the slots strictly increase,
    /// [`SiftingError::InvalidParameter`] for the intensity code 3.
    pub fn new(
        slots: Vec<u64>,
        bases: BitBlock,
        bits: BitBlock,
        intensity_lo: BitBlock,
        intensity_hi: BitBlock,
    ) -> Result<Self, SiftingError> {
        let n = slots.len();
        check_len("alice slots/bases", n, bases.len())?;
        check_len("alice slots/bits", n, bits.len())?;
        check_len("alice slots/intensity_lo", n, intensity_lo.len())?;
        check_len("alice slots/intensity_hi", n, intensity_hi.len())?;
        check_sorted(&slots, "alice")?;
        if intensity_lo
            .words()
            .iter()
            .zip(intensity_hi.words())
            .any(|(l, h)| l & h != 0)
        {
            return Err(SiftingError::InvalidParameter {
                name: "intensity",
                reason: "class code 3 does not exist".into(),
            });
        }
        Ok(Self {
            slots,
            bases,
            bits,
            intensity_lo,
            intensity_hi,
        })
    }

    /// Alice's records from qkd-core's per-slot structs.
    ///
    /// # Errors
    /// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
    pub fn from_slots(slots: &[AliceSlot]) -> Result<Self, SiftingError> {
        let s: Vec<u64> = slots.iter().map(|a| a.slot).collect();
        let bases = slots.iter().map(|a| a.basis == Basis::X).collect();
        let bits = slots.iter().map(|a| a.bit.as_bool()).collect();
        let lo = slots.iter().map(|a| a.intensity.index() & 1 == 1).collect();
        let hi = slots
            .iter()
            .map(|a| a.intensity.index() >> 1 == 1)
            .collect();
        Self::new(s, bases, bits, lo, hi)
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True if there are no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

impl BobRecords {
    /// Bob's records from parallel arrays.
    ///
    /// # Errors
    /// [`SiftingError::LengthMismatch`] if the arrays differ in length,
    /// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
    pub fn new(slots: Vec<u64>, bases: BitBlock, bits: BitBlock) -> Result<Self, SiftingError> {
        check_len("bob slots/bases", slots.len(), bases.len())?;
        check_len("bob slots/bits", slots.len(), bits.len())?;
        check_sorted(&slots, "bob")?;
        Ok(Self {
            slots: slots.into(),
            bases,
            bits,
        })
    }

    /// Bob's records from qkd-core's per-detection structs.
    ///
    /// # Errors
    /// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
    pub fn from_detections(d: &[BobDetection]) -> Result<Self, SiftingError> {
        let s = d.iter().map(|b| b.slot).collect();
        let bases = d.iter().map(|b| b.basis == Basis::X).collect();
        let bits = d.iter().map(|b| b.bit.as_bool()).collect();
        Self::new(s, bases, bits)
    }

    /// Number of records.
    #[must_use]
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True if there are no records.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}

/// Splits joint records (a simulator's output) into the two parties' halves.
///
/// # Errors
/// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
pub fn split_records(
    records: &[DetectionRecord],
) -> Result<(AliceRecords, BobRecords), SiftingError> {
    let a: Vec<AliceSlot> = records.iter().map(DetectionRecord::alice).collect();
    let b: Vec<BobDetection> = records.iter().map(DetectionRecord::bob).collect();
    Ok((
        AliceRecords::from_slots(&a)?,
        BobRecords::from_detections(&b)?,
    ))
}

#[cfg(feature = "serde")]
mod wire {
    //! Unvalidated wire forms; `try_from` runs the constructors' checks.
    use super::{AliceRecords, BobRecords};
    use crate::SiftingError;
    use qkd_core::BitBlock;

    #[derive(serde::Deserialize)]
    pub(super) struct AliceWire {
        slots: Vec<u64>,
        bases: BitBlock,
        bits: BitBlock,
        intensity_lo: BitBlock,
        intensity_hi: BitBlock,
    }

    #[derive(serde::Deserialize)]
    pub(super) struct BobWire {
        slots: Vec<u64>,
        bases: BitBlock,
        bits: BitBlock,
    }

    impl TryFrom<AliceWire> for AliceRecords {
        type Error = SiftingError;
        fn try_from(w: AliceWire) -> Result<Self, SiftingError> {
            AliceRecords::new(w.slots, w.bases, w.bits, w.intensity_lo, w.intensity_hi)
        }
    }

    impl TryFrom<BobWire> for BobRecords {
        type Error = SiftingError;
        fn try_from(w: BobWire) -> Result<Self, SiftingError> {
            BobRecords::new(w.slots, w.bases, w.bits)
        }
    }
}
