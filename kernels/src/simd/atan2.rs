//! atan2(y, x) on pulp's operations (which have no transcendental functions), for the
//! theta neuron's midpoint step (docs/model.md section 9).
//!
//! Reduction, all of it in lane operations:
//! - a = min(|x|, |y|) / max(|x|, |y|) in [0, 1] (0 where both are 0);
//! - above tan(pi/8), atan(a) = pi/4 + atan(t) with t = (a - 1)/(a + 1), so |t| <=
//!   tan(pi/8) ~ 0.414 either way;
//! - atan(t) = t P(t^2), P a near-minimax (Chebyshev) fit of atan(sqrt(u))/sqrt(u) on
//!   u in [0, tan(pi/8)^2], computed with 50-digit arithmetic (mpmath `chebyfit`):
//!   f32 degree 5 (fit error 6.2e-10), f64 degree 11 (fit error 1.3e-18);
//! - then pi/2 - r where |y| > |x|, pi - r where x < 0, and the sign of y.
//!
//! The bounds achieved are checked by the harness against std's `atan2` on a grid and
//! on random inputs, on every backend: [`ATAN2_ULP_BOUND_F32`], [`ATAN2_ULP_BOUND_F64`].

use crate::real::Real;
use pulp::Simd;

/// Coefficients of P for f32, lowest degree first (the fit's, rounded to f32).
pub const ATAN_F32: [f32; 6] =
    [1.0, -0.33333308, 0.19998182, -0.14239533, 0.10569829, -0.060263053];

/// Coefficients of P for f64, lowest degree first (the fit's, rounded to f64).
pub const ATAN_F64: [f64; 12] = [
    1.0,
    -0.3333333333333312,
    0.19999999999940893,
    -0.14285714279250245,
    0.11111110744919658,
    -0.09090896809064027,
    0.07692045330902225,
    -0.06662951813629191,
    0.05846878297330872,
    -0.05035102456601552,
    0.03796525745386593,
    -0.017805397205419446,
];

/// Largest error of the f32 atan2, in ulps of std's f64 `atan2` rounded (ulps of 2^-24
/// for results smaller than that), checked by the harness.
pub const ATAN2_ULP_BOUND_F32: f64 = 4.0;

/// Largest error of the f64 atan2, in ulps of std's `atan2` (ulps of 2^-52 for results
/// smaller than that), checked by the harness.
pub const ATAN2_ULP_BOUND_F64: f64 = 4.0;

/// atan(t) for |t| <= tan(pi/8).
#[inline(always)]
fn atan_reduced<S: Simd, T: Real>(simd: S, t: T::Lanes<S>) -> T::Lanes<S> {
    super::sincospi::odd_polynomial::<S, T>(simd, t, T::ATAN_COEFFICIENTS)
}

/// atan2(y, x) in [-pi, pi], lane by lane, for finite y and x: the angle of the point
/// (x, y), with atan2(0, 0) = 0 and atan2(+-0, x < 0) = pi.
#[inline(always)]
pub fn atan2<S: Simd, T: Real>(simd: S, y: T::Lanes<S>, x: T::Lanes<S>) -> T::Lanes<S> {
    let splat = |value: f64| T::splat(simd, T::from_f64(value));
    let (zero, one) = (splat(0.0), splat(1.0));
    let (ax, ay) = (T::vabs(simd, x), T::vabs(simd, y));
    let (low, high) = (T::vmin(simd, ax, ay), T::vmax(simd, ax, ay));
    // 0 / 1 where both are zero, so the angle is 0 (or pi for x = -0 below: x < 0 fails).
    let both_zero = T::vless(simd, high, T::splat(simd, T::MIN_POSITIVE));
    let a = T::vdiv(simd, low, T::vselect(simd, both_zero, one, high));
    let big = T::vless(simd, splat(std::f64::consts::FRAC_PI_8.tan()), a);
    let shifted = T::vdiv(simd, T::vsub(simd, a, one), T::vadd(simd, a, one));
    let t = T::vselect(simd, big, shifted, a);
    let base = T::vselect(simd, big, splat(std::f64::consts::FRAC_PI_4), zero);
    let mut r = T::vadd(simd, base, atan_reduced::<S, T>(simd, t));
    r = T::vselect(
        simd,
        T::vless(simd, ax, ay),
        T::vsub(simd, splat(std::f64::consts::FRAC_PI_2), r),
        r,
    );
    r = T::vselect(simd, T::vless(simd, x, zero), T::vsub(simd, splat(std::f64::consts::PI), r), r);
    T::vselect(simd, T::vless(simd, y, zero), T::vsub(simd, zero, r), r)
}
