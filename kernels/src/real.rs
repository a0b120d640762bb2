//! The one trait bound of the crate: a real floating-point type (`f32` or `f64`) with
//! the lane-wise operations the step kernels need, forwarded to pulp's `*_f32s` /
//! `*_f64s` methods, and the field operations faer's GEMMs need.

use core::fmt::Debug;
use pulp::Simd;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64`. Kernels are written once over `T: Real` and monomorphised.
pub trait Real:
    faer::traits::RealField
    + bytemuck::Pod
    + Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + sealed::Sealed
    + 'static
{
    /// A register of lanes of `Self` on backend `S`.
    type Lanes<S: Simd>: Copy + Debug + bytemuck::Pod;
    /// A lane-wise comparison result on backend `S`.
    type Mask<S: Simd>: Copy + Debug;

    /// Name for messages and benchmark ids (`"f32"`, `"f64"`).
    const NAME: &'static str;
    /// Machine epsilon.
    const EPSILON: Self;
    /// The smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// Coefficients of P with sin(pi t) = t P(t^2) on |t| <= 1/2, lowest degree first
    /// (the polynomial of [`crate::sin_cos_pi`]).
    const SIN_PI_COEFFICIENTS: &'static [Self];
    /// Coefficients of P with atan(t) = t P(t^2) on |t| <= tan(pi/8), lowest degree
    /// first (the polynomial of [`crate::neuron::atan2`]).
    const ATAN_COEFFICIENTS: &'static [Self];
    /// 2^(mantissa bits): every float at least this large is an integer.
    const INTEGER_THRESHOLD: Self;
    /// 1.5 * 2^(mantissa bits): adding and subtracting it rounds to an integer.
    const ROUNDING_MAGIC: Self;

    /// Conversion from `f64` (rounding for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Conversion to `f64` (exact).
    fn to_f64(self) -> f64;
    /// `x.is_finite()`.
    fn is_finite(self) -> bool;

    /// All lanes equal to `x`.
    fn splat<S: Simd>(simd: S, x: Self) -> Self::Lanes<S>;
    /// a + b.
    fn vadd<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// a - b.
    fn vsub<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// a * b.
    fn vmul<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// a * b + c, fused (one rounding) on every backend.
    fn vfma<S: Simd>(
        simd: S,
        a: Self::Lanes<S>,
        b: Self::Lanes<S>,
        c: Self::Lanes<S>,
    ) -> Self::Lanes<S>;
    /// min(a, b).
    fn vmin<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// Lane-wise maximum.
    fn vmax<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// Lane-wise a / b (correctly rounded).
    fn vdiv<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S>;
    /// |a|.
    fn vabs<S: Simd>(simd: S, a: Self::Lanes<S>) -> Self::Lanes<S>;
    /// a < b.
    fn vless<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Mask<S>;
    /// if m { a } else { b }, lane by lane.
    fn vselect<S: Simd>(
        simd: S,
        m: Self::Mask<S>,
        a: Self::Lanes<S>,
        b: Self::Lanes<S>,
    ) -> Self::Lanes<S>;

    /// Splits a slice into whole registers and a tail.
    fn as_simd<S: Simd>(slice: &[Self]) -> (&[Self::Lanes<S>], &[Self]);
    /// Splits a mutable slice into whole registers and a tail.
    fn as_mut_simd<S: Simd>(slice: &mut [Self]) -> (&mut [Self::Lanes<S>], &mut [Self]);
    /// Loads a tail shorter than a register; missing lanes are zero.
    fn partial_load<S: Simd>(simd: S, slice: &[Self]) -> Self::Lanes<S>;
    /// Stores the first `slice.len()` lanes.
    fn partial_store<S: Simd>(simd: S, slice: &mut [Self], values: Self::Lanes<S>);
}

macro_rules! impl_real {
    (
        $t:ident, $lanes:ident, $mask:ident, $bits:literal, $coefficients:expr,
        $atan_coefficients:expr, $splat:ident, $add:ident, $sub:ident, $mul:ident,
        $mul_add:ident, $min:ident, $max:ident, $div:ident,
        $abs:ident, $less_than:ident, $select:ident, $as_simd:ident, $as_mut_simd:ident,
        $partial_load:ident, $partial_store:ident
    ) => {
        impl Real for $t {
            type Lanes<S: Simd> = S::$lanes;
            type Mask<S: Simd> = S::$mask;

            const NAME: &'static str = stringify!($t);
            const EPSILON: Self = $t::EPSILON;
            const MIN_POSITIVE: Self = $t::MIN_POSITIVE;
            const SIN_PI_COEFFICIENTS: &'static [Self] = &$coefficients;
            const ATAN_COEFFICIENTS: &'static [Self] = &$atan_coefficients;
            const INTEGER_THRESHOLD: Self = (1u64 << $bits) as $t;
            const ROUNDING_MAGIC: Self = 1.5 * (1u64 << $bits) as $t;

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn splat<S: Simd>(simd: S, x: Self) -> Self::Lanes<S> {
                simd.$splat(x)
            }
            #[inline(always)]
            fn vadd<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$add(a, b)
            }
            #[inline(always)]
            fn vsub<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$sub(a, b)
            }
            #[inline(always)]
            fn vmul<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$mul(a, b)
            }
            #[inline(always)]
            fn vfma<S: Simd>(
                simd: S,
                a: Self::Lanes<S>,
                b: Self::Lanes<S>,
                c: Self::Lanes<S>,
            ) -> Self::Lanes<S> {
                simd.$mul_add(a, b, c)
            }
            #[inline(always)]
            fn vmin<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$min(a, b)
            }
            #[inline(always)]
            fn vmax<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$max(a, b)
            }
            #[inline(always)]
            fn vdiv<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$div(a, b)
            }
            #[inline(always)]
            fn vabs<S: Simd>(simd: S, a: Self::Lanes<S>) -> Self::Lanes<S> {
                simd.$abs(a)
            }
            #[inline(always)]
            fn vless<S: Simd>(simd: S, a: Self::Lanes<S>, b: Self::Lanes<S>) -> Self::Mask<S> {
                simd.$less_than(a, b)
            }
            #[inline(always)]
            fn vselect<S: Simd>(
                simd: S,
                m: Self::Mask<S>,
                a: Self::Lanes<S>,
                b: Self::Lanes<S>,
            ) -> Self::Lanes<S> {
                simd.$select(m, a, b)
            }
            #[inline(always)]
            fn as_simd<S: Simd>(slice: &[Self]) -> (&[Self::Lanes<S>], &[Self]) {
                S::$as_simd(slice)
            }
            #[inline(always)]
            fn as_mut_simd<S: Simd>(slice: &mut [Self]) -> (&mut [Self::Lanes<S>], &mut [Self]) {
                S::$as_mut_simd(slice)
            }
            #[inline(always)]
            fn partial_load<S: Simd>(simd: S, slice: &[Self]) -> Self::Lanes<S> {
                simd.$partial_load(slice)
            }
            #[inline(always)]
            fn partial_store<S: Simd>(simd: S, slice: &mut [Self], values: Self::Lanes<S>) {
                simd.$partial_store(slice, values)
            }
        }
    };
}

impl_real!(
    f32,
    f32s,
    m32s,
    23,
    crate::simd::sincospi::SIN_PI_F32,
    crate::simd::atan2::ATAN_F32,
    splat_f32s,
    add_f32s,
    sub_f32s,
    mul_f32s,
    mul_add_f32s,
    min_f32s,
    max_f32s,
    div_f32s,
    abs_f32s,
    less_than_f32s,
    select_f32s,
    as_simd_f32s,
    as_mut_simd_f32s,
    partial_load_f32s,
    partial_store_f32s
);
impl_real!(
    f64,
    f64s,
    m64s,
    52,
    crate::simd::sincospi::SIN_PI_F64,
    crate::simd::atan2::ATAN_F64,
    splat_f64s,
    add_f64s,
    sub_f64s,
    mul_f64s,
    mul_add_f64s,
    min_f64s,
    max_f64s,
    div_f64s,
    abs_f64s,
    less_than_f64s,
    select_f64s,
    as_simd_f64s,
    as_mut_simd_f64s,
    partial_load_f64s,
    partial_store_f64s
);

/// The index of the first NaN or infinity in `values`, if any.
pub(crate) fn first_non_finite<T: Real>(values: &[T]) -> Option<usize> {
    values.iter().position(|x| !x.is_finite())
}
