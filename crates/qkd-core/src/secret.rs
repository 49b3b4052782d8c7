//! Secret key material: zeroized on drop, redacted in Debug, compared in constant time.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::BitBlock;

/// A secret key as bytes (final key blocks, pool keys for authentication, keys served over ETSI 014).
///
/// ```
/// use qkd_core::SecretKey;
/// let k = SecretKey::from_bytes(vec![1, 2, 3]);
/// assert_eq!(format!("{k:?}"), "SecretKey { len_bytes: 3, .. }");
/// assert_eq!(k, SecretKey::from_bytes(vec![1, 2, 3]));
/// ```
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    bytes: Vec<u8>,
}

impl SecretKey {
    /// Takes ownership of `bytes` (they will be zeroized when the key drops).
    #[must_use]
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self { bytes }
    }

    /// The key bytes of a bit block (bit `i` is bit `i % 8` of byte `i / 8`, see [`BitBlock::to_bytes`]).
    #[must_use]
    pub fn from_block(block: &BitBlock) -> Self {
        Self {
            bytes: block.to_bytes(),
        }
    }

    /// The key bytes. Do not copy them into memory that is not zeroized.
    #[must_use]
    pub fn expose_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// True if the key has no bytes.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("len_bytes", &self.bytes.len())
            .finish_non_exhaustive()
    }
}

impl ConstantTimeEq for SecretKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        // Lengths are public; contents are compared without early exit.
        self.bytes.ct_eq(&other.bytes)
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.ct_eq(other))
    }
}

impl Eq for SecretKey {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_eq_compares_contents() {
        let a = SecretKey::from_bytes(vec![0xAB; 32]);
        let dbg = format!("{a:?}");
        assert!(!dbg.to_lowercase().contains("ab"), "{dbg}");
        assert_ne!(a, SecretKey::from_bytes(vec![0xAB; 31]));
        assert_ne!(a, SecretKey::from_bytes(vec![0xAC; 32]));
        let b = BitBlock::from_bytes(&[1, 2]);
        assert_eq!(SecretKey::from_block(&b).expose_bytes(), &[1, 2]);
    }
}
