//! wrap(v) = v - 2 floor((v + 1) / 2), the representative of a phase on [-1, 1)
//! (docs/model.md section 1), on pulp's operations (which have no floor).

use crate::real::Real;
use pulp::Simd;

/// floor(y), lane by lane: round to nearest with the magic-constant trick
/// (y + 1.5 2^p) - 1.5 2^p, then step down where that rounded up. Exact for every finite
/// y: at |y| >= 2^p every float is already an integer and is returned unchanged.
/// Infinities and NaN come back unchanged.
#[inline(always)]
pub fn floor<S: Simd, T: Real>(simd: S, y: T::Lanes<S>) -> T::Lanes<S> {
    let magic = T::splat(simd, T::ROUNDING_MAGIC);
    let one = T::splat(simd, T::from_f64(1.0));
    let rounded = T::vsub(simd, T::vadd(simd, y, magic), magic);
    let floored =
        T::vselect(simd, T::vless(simd, y, rounded), T::vsub(simd, rounded, one), rounded);
    let small = T::vless(simd, T::vabs(simd, y), T::splat(simd, T::INTEGER_THRESHOLD));
    T::vselect(simd, small, floored, y)
}

/// v - 2 floor((v + 1) / 2): the same operations as the reference, so the same bits.
#[inline(always)]
pub fn wrap<S: Simd, T: Real>(simd: S, v: T::Lanes<S>) -> T::Lanes<S> {
    let half = T::splat(simd, T::from_f64(0.5));
    let one = T::splat(simd, T::from_f64(1.0));
    let two = T::splat(simd, T::from_f64(2.0));
    let turns = floor::<S, T>(simd, T::vmul(simd, T::vadd(simd, v, one), half));
    // v - 2 * turns, unfused like the reference's.
    T::vsub(simd, v, T::vmul(simd, two, turns))
}
