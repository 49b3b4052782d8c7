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
//! (simulators, [`split_records`]); Bob announces his slots and Alice looks them up (element by
//! element when the lists are equal, otherwise one merge pass). Bit arrays are [`BitBlock`]s
//! (LSB-first in `u64` words, serde as `{bits, base64}`), so 1e8 records take 12.5 MB per bit
//! plane plus 800 MB of slot indices. The slot indices are a [`Slots`]: validated once (strictly
//! increasing) and held behind an `Arc`, so Bob's announcement, his records and both sifted keys'
//! [`KeySlots`](crate::KeySlots) share one array instead of copying 8 bytes per record at every
//! step; [`split_records`] gives both halves of a simulator's joint records one array.
//!
//! From real hardware: build the parallel arrays and call [`AliceRecords::new`] /
//! [`BobRecords::new`] (they validate lengths, order and intensity codes), or deserialize the
//! serde form (same fields, `slots` a plain sequence of `u64`; validated the same way).
//! [`AliceRecords::from_slots`] and [`BobRecords::from_detections`] convert qkd-core's per-record
//! structs.

#[cfg(doc)]
use qkd_core::IntensityClass;
use qkd_core::{AliceSlot, Basis, BitBlock, BobDetection, DetectionRecord};

use crate::error::SiftingError;

/// Strictly increasing slot (pulse) indices, validated once and shared rather than copied.
///
/// Held behind an [`Arc`](std::sync::Arc): Bob's announcement, his records and the slot view of
/// both sifted keys point at one array (8 bytes per record). Construction checks the order and
/// computes, in the same pass, the wire size of the announcement (Elias-gamma code of the gaps).
/// Serde: a plain sequence of `u64`, validated on the way in.
#[derive(Clone)]
pub struct Slots {
    // `Arc<Vec>` rather than `Arc<[u64]>`: converting a `Vec` into the latter copies it.
    values: std::sync::Arc<Vec<u64>>,
    code_bits: u64,
}

impl Slots {
    /// Validates `values` (strictly increasing).
    ///
    /// # Errors
    /// [`SiftingError::UnsortedSlots`] at the first position that does not increase.
    pub fn new(values: Vec<u64>) -> Result<Self, SiftingError> {
        Self::validated(values, "records")
    }

    pub(crate) fn validated(values: Vec<u64>, who: &'static str) -> Result<Self, SiftingError> {
        // One pass: order check and the Elias-gamma size of the gaps (first gap from -1).
        let mut prev: Option<u64> = None;
        let mut code_bits = 0u64;
        for (i, &s) in values.iter().enumerate() {
            let gap = match prev {
                Some(p) if s <= p => return Err(SiftingError::UnsortedSlots { who, position: i }),
                Some(p) => s - p,
                None => s.wrapping_add(1).max(1),
            };
            code_bits += 2 * u64::from(63 - gap.leading_zeros()) + 1;
            prev = Some(s);
        }
        Ok(Self {
            values: values.into(),
            code_bits,
        })
    }

    /// The indices.
    #[must_use]
    pub fn as_slice(&self) -> &[u64] {
        &self.values
    }

    /// Number of indices.
    #[must_use]
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True if there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Bits of the Elias-gamma code of the gaps between successive indices (the first gap counted
    /// from -1): the size of the list on the wire.
    #[must_use]
    pub fn gap_code_bits(&self) -> u64 {
        self.code_bits
    }

    /// True if both point at the same array (then they are equal without comparing).
    #[must_use]
    pub fn shares_storage_with(&self, other: &Slots) -> bool {
        std::sync::Arc::ptr_eq(&self.values, &other.values)
    }
}

impl PartialEq for Slots {
    fn eq(&self, other: &Self) -> bool {
        self.shares_storage_with(other) || self.values == other.values
    }
}

impl Eq for Slots {}

impl std::fmt::Debug for Slots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slots")
            .field("len", &self.len())
            .field("first", &self.values.first())
            .field("last", &self.values.last())
            .finish()
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Slots {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.values.serialize(s)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Slots {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<u64>::deserialize(d)?;
        Slots::new(v).map_err(serde::de::Error::custom)
    }
}

/// Alice's half of the records. Deserialization validates like [`AliceRecords::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "wire::AliceWire"))]
pub struct AliceRecords {
    pub(crate) slots: Slots,
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
    pub(crate) slots: Slots,
    pub(crate) bases: BitBlock,
    pub(crate) bits: BitBlock,
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
        Self::with_slots(
            Slots::validated(slots, "alice")?,
            bases,
            bits,
            intensity_lo,
            intensity_hi,
        )
    }

    /// Alice's records on already validated (possibly shared) slot indices.
    ///
    /// # Errors
    /// [`SiftingError::LengthMismatch`] if the arrays differ in length,
    /// [`SiftingError::InvalidParameter`] for the intensity code 3.
    pub fn with_slots(
        slots: Slots,
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
        let s = Slots::validated(slots.iter().map(|a| a.slot).collect(), "alice")?;
        Self::from_slot_structs(s, slots)
    }

    fn from_slot_structs(s: Slots, slots: &[AliceSlot]) -> Result<Self, SiftingError> {
        let bases = slots.iter().map(|a| a.basis == Basis::X).collect();
        let bits = slots.iter().map(|a| a.bit.as_bool()).collect();
        let lo = slots.iter().map(|a| a.intensity.index() & 1 == 1).collect();
        let hi = slots
            .iter()
            .map(|a| a.intensity.index() >> 1 == 1)
            .collect();
        Self::with_slots(s, bases, bits, lo, hi)
    }

    /// The slot indices.
    #[must_use]
    pub fn slots(&self) -> &Slots {
        &self.slots
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
        Self::with_slots(Slots::validated(slots, "bob")?, bases, bits)
    }

    /// Bob's records on already validated (possibly shared) slot indices.
    ///
    /// # Errors
    /// [`SiftingError::LengthMismatch`] if the arrays differ in length.
    pub fn with_slots(slots: Slots, bases: BitBlock, bits: BitBlock) -> Result<Self, SiftingError> {
        check_len("bob slots/bases", slots.len(), bases.len())?;
        check_len("bob slots/bits", slots.len(), bits.len())?;
        Ok(Self { slots, bases, bits })
    }

    /// Bob's records from qkd-core's per-detection structs.
    ///
    /// # Errors
    /// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
    pub fn from_detections(d: &[BobDetection]) -> Result<Self, SiftingError> {
        let s = Slots::validated(d.iter().map(|b| b.slot).collect(), "bob")?;
        Self::from_detection_structs(s, d)
    }

    fn from_detection_structs(s: Slots, d: &[BobDetection]) -> Result<Self, SiftingError> {
        let bases = d.iter().map(|b| b.basis == Basis::X).collect();
        let bits = d.iter().map(|b| b.bit.as_bool()).collect();
        Self::with_slots(s, bases, bits)
    }

    /// The slot indices.
    #[must_use]
    pub fn slots(&self) -> &Slots {
        &self.slots
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

/// Splits joint records (a simulator's output) into the two parties' halves. Both halves share one
/// slot array (the slots of a joint record are the same for both parties).
///
/// # Errors
/// [`SiftingError::UnsortedSlots`] unless the slots strictly increase.
pub fn split_records(
    records: &[DetectionRecord],
) -> Result<(AliceRecords, BobRecords), SiftingError> {
    let slots = Slots::validated(records.iter().map(|r| r.slot).collect(), "records")?;
    let a: Vec<AliceSlot> = records.iter().map(DetectionRecord::alice).collect();
    let b: Vec<BobDetection> = records.iter().map(DetectionRecord::bob).collect();
    Ok((
        AliceRecords::from_slot_structs(slots.clone(), &a)?,
        BobRecords::from_detection_structs(slots, &b)?,
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
