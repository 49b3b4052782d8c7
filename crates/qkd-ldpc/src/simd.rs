//! The AVX2 back end of the fast decoder: the only `unsafe` code of the crate.
//!
//! Soundness argument: [`Avx2`] tokens exist only where [`Avx2::detect`] found AVX2 on the running
//! CPU, and the only way to run the AVX2 kernel is [`Avx2::iterate`], which needs a token. The
//! vector type `V256` is private to this module and used only inside `iterate_avx2`, a
//! `#[target_feature(enable = "avx2")]` function; its trait methods call the intrinsics in
//! `unsafe` blocks, which is sound because they are only ever inlined into that function. Loads
//! and stores go through `&Lane` / `&mut Lane` references, whose 32-byte alignment and size the
//! type guarantees (`#[repr(C, align(32))]` around `[i8; 32]`); every index is bounds-checked in
//! the safe, generic kernel ([`crate::fast::iterate`]). The tests run both back ends on the same
//! frames and require bit-identical decisions and iteration counts.

#![allow(unsafe_code)]

use crate::fast::Bufs;

/// Proof that the running CPU executes AVX2 (x86-64 only).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(Witness);

/// Inhabited only where the instructions can exist.
#[cfg(target_arch = "x86_64")]
type Witness = ();
/// No value: off x86-64 a token cannot be made.
#[cfg(not(target_arch = "x86_64"))]
#[derive(Debug, Clone, Copy)]
enum Witness {}

impl Avx2 {
    /// `Some` if the CPU supports AVX2.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Self(()))
    }

    /// Never available off x86-64.
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn detect() -> Option<Self> {
        None
    }

    /// One layered iteration (see [`crate::fast::iterate`]) with AVX2.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn iterate(self, b: &mut Bufs<'_>) {
        // SAFETY: `self` exists only if `detect` found AVX2 on this CPU.
        unsafe { x86::iterate_avx2(b) }
    }

    /// Unreachable off x86-64 (no token can exist).
    #[cfg(not(target_arch = "x86_64"))]
    pub(crate) fn iterate(self, b: &mut Bufs<'_>) {
        let _ = b;
        match self.0 {}
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::{
        __m256i, _mm256_abs_epi8, _mm256_adds_epi8, _mm256_and_si256, _mm256_blendv_epi8,
        _mm256_cmpeq_epi8, _mm256_load_si256, _mm256_max_epu8, _mm256_min_epu8,
        _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8, _mm256_sign_epi8,
        _mm256_srli_epi16, _mm256_store_si256, _mm256_subs_epi8, _mm256_subs_epu8,
        _mm256_xor_si256,
    };

    use crate::fast::{Bufs, Lane, Lanes, iterate};

    /// 32 byte lanes in a 256-bit register. Private: only `iterate_avx2` instantiates it.
    #[derive(Clone, Copy)]
    struct V256(__m256i);

    /// Wraps one AVX2 intrinsic call.
    macro_rules! avx2 {
        ($e:expr) => {
            // SAFETY: V256 values are only created and used inside `iterate_avx2`, which is
            // compiled with AVX2 enabled and reachable only through an `Avx2` token.
            unsafe { $e }
        };
    }

    impl Lanes for V256 {
        #[inline(always)]
        fn splat(x: i8) -> Self {
            Self(avx2!(_mm256_set1_epi8(x)))
        }
        #[inline(always)]
        fn load(a: &Lane) -> Self {
            // SAFETY (pointer): `Lane` is 32 bytes, 32-byte aligned, and borrowed for the read.
            Self(avx2!(_mm256_load_si256(std::ptr::from_ref(a).cast())))
        }
        #[inline(always)]
        fn store(self, a: &mut Lane) {
            // SAFETY (pointer): `Lane` is 32 bytes, 32-byte aligned, and borrowed mutably.
            avx2!(_mm256_store_si256(std::ptr::from_mut(a).cast(), self.0));
        }
        #[inline(always)]
        fn adds(self, o: Self) -> Self {
            Self(avx2!(_mm256_adds_epi8(self.0, o.0)))
        }
        #[inline(always)]
        fn subs(self, o: Self) -> Self {
            Self(avx2!(_mm256_subs_epi8(self.0, o.0)))
        }
        #[inline(always)]
        fn and(self, o: Self) -> Self {
            Self(avx2!(_mm256_and_si256(self.0, o.0)))
        }
        #[inline(always)]
        fn xor(self, o: Self) -> Self {
            Self(avx2!(_mm256_xor_si256(self.0, o.0)))
        }
        #[inline(always)]
        fn abs(self) -> Self {
            Self(avx2!(_mm256_abs_epi8(self.0)))
        }
        #[inline(always)]
        fn min_u(self, o: Self) -> Self {
            Self(avx2!(_mm256_min_epu8(self.0, o.0)))
        }
        #[inline(always)]
        fn max_u(self, o: Self) -> Self {
            Self(avx2!(_mm256_max_epu8(self.0, o.0)))
        }
        #[inline(always)]
        fn eq(self, o: Self) -> Self {
            Self(avx2!(_mm256_cmpeq_epi8(self.0, o.0)))
        }
        #[inline(always)]
        fn select(mask: Self, a: Self, b: Self) -> Self {
            Self(avx2!(_mm256_blendv_epi8(b.0, a.0, mask.0)))
        }
        #[inline(always)]
        fn negate_where(self, s: Self) -> Self {
            // psignb zeroes where its second operand is 0: or-ing 1 makes it never 0 while
            // keeping its sign.
            let one = avx2!(_mm256_set1_epi8(1));
            Self(avx2!(_mm256_sign_epi8(self.0, _mm256_or_si256(s.0, one))))
        }
        #[inline(always)]
        fn subs_u(self, o: Self) -> Self {
            Self(avx2!(_mm256_subs_epu8(self.0, o.0)))
        }
        #[inline(always)]
        fn shr2_u(self) -> Self {
            // No byte shift in AVX2: shift 16-bit words, drop the bits shifted in from the
            // neighbouring byte.
            let m = avx2!(_mm256_set1_epi8(0x3f));
            Self(avx2!(_mm256_and_si256(_mm256_srli_epi16(self.0, 2), m)))
        }
        #[inline(always)]
        fn movemask(self) -> u32 {
            avx2!(_mm256_movemask_epi8(self.0)).cast_unsigned()
        }
    }

    /// The generic kernel instantiated for AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) fn iterate_avx2(b: &mut Bufs<'_>) {
        iterate::<V256>(b);
    }
}
