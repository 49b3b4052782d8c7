//! Bases, bits and the QBER newtype.

use crate::CoreError;

/// A BB84 measurement or preparation basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Basis {
    /// The computational (rectilinear) basis {|0>, |1>}; the key basis in efficient BB84.
    Z,
    /// The diagonal basis {|+>, |->}; the test basis in efficient BB84.
    X,
}

impl Basis {
    /// The other basis.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Basis::Z => Basis::X,
            Basis::X => Basis::Z,
        }
    }

    /// `Z` for `false`, `X` for `true` (one random bit picks a basis).
    #[must_use]
    pub fn from_bool(x: bool) -> Self {
        if x { Basis::X } else { Basis::Z }
    }
}

/// A classical bit value, as prepared by Alice or measured by Bob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[repr(u8)]
pub enum Bit {
    /// 0
    Zero = 0,
    /// 1
    One = 1,
}

impl Bit {
    /// The bit as a bool (`One` is `true`).
    #[must_use]
    pub fn as_bool(self) -> bool {
        self == Bit::One
    }

    /// The flipped bit.
    #[must_use]
    pub fn flipped(self) -> Self {
        match self {
            Bit::Zero => Bit::One,
            Bit::One => Bit::Zero,
        }
    }
}

impl From<bool> for Bit {
    fn from(b: bool) -> Self {
        if b { Bit::One } else { Bit::Zero }
    }
}

impl From<Bit> for bool {
    fn from(b: Bit) -> Self {
        b.as_bool()
    }
}

/// A quantum bit error rate: a probability checked to be finite and in `[0, 1]`.
///
/// ```
/// use qkd_core::Qber;
/// let q = Qber::new(0.02)?;
/// assert!((q.entropy() - 0.1414).abs() < 1e-4);
/// assert!(Qber::new(1.5).is_err());
/// # Ok::<(), qkd_core::CoreError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(transparent))]
pub struct Qber(f64);

impl Qber {
    /// A QBER of `value`.
    ///
    /// # Errors
    /// [`CoreError::InvalidProbability`] unless `value` is finite and in `[0, 1]`.
    pub fn new(value: f64) -> Result<Self, CoreError> {
        if value.is_finite() && (0.0..=1.0).contains(&value) {
            Ok(Self(value))
        } else {
            Err(CoreError::InvalidProbability { value })
        }
    }

    /// The QBER of `errors` in `total` compared bits.
    ///
    /// # Errors
    /// [`CoreError::InvalidArgument`] if `total` is zero or `errors > total`.
    pub fn from_counts(errors: u64, total: u64) -> Result<Self, CoreError> {
        if total == 0 || errors > total {
            return Err(CoreError::InvalidArgument {
                reason: format!("{errors} errors in {total} bits is not a rate"),
            });
        }
        // Counts below 2^53 convert exactly; larger ones lose only relative precision ~1e-16.
        #[allow(clippy::cast_precision_loss)]
        Self::new(errors as f64 / total as f64)
    }

    /// The rate as a number in `[0, 1]`.
    #[must_use]
    pub fn value(self) -> f64 {
        self.0
    }

    /// The binary entropy `h(Q)` in bits.
    #[must_use]
    pub fn entropy(self) -> f64 {
        crate::binary_entropy(self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Qber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        Qber::new(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qber_rejects_non_probabilities() {
        for v in [-0.1, 1.000_001, f64::NAN, f64::INFINITY] {
            assert!(Qber::new(v).is_err(), "{v}");
        }
        assert_eq!(Qber::new(0.0).unwrap().value(), 0.0);
        assert_eq!(Qber::new(1.0).unwrap().value(), 1.0);
        assert!(Qber::from_counts(1, 0).is_err());
        assert!(Qber::from_counts(3, 2).is_err());
        assert_eq!(Qber::from_counts(1, 4).unwrap().value(), 0.25);
    }

    #[test]
    fn basis_and_bit_helpers() {
        assert_eq!(Basis::Z.other(), Basis::X);
        assert_eq!(Basis::from_bool(true), Basis::X);
        assert_eq!(Bit::from(true), Bit::One);
        assert_eq!(Bit::One.flipped(), Bit::Zero);
        assert!(bool::from(Bit::One));
    }
}
