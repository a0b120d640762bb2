//! sin(pi x) and cos(pi x) for x in [-1, 1), on pulp's operations (pulp has no
//! transcendental functions, and none of the general range reduction is needed here).
//!
//! Reduction, exact in floating point for |x| <= 1:
//! - sin(pi x) = S(t) with t = sign(x) min(|x|, 1 - |x|)  (1 - |x| is exact for
//!   |x| >= 1/2 by Sterbenz's lemma, and min picks |x| itself below that);
//! - cos(pi x) = S(1/2 - |x|)  (exact for |x| >= 1/4; below, the rounding of the
//!   argument costs at most half an ulp of 1/2, where cos is near 1).
//!
//! S(t) = sin(pi t) on [-1/2, 1/2] is the odd polynomial t P(t^2), evaluated by
//! Horner's rule with fused multiply-adds.
//!
//! P is a near-minimax (Chebyshev) fit of sin(pi sqrt(u)) / sqrt(u) on u in [0, 1/4],
//! computed with 50-digit arithmetic (mpmath `chebyfit`):
//! - f32: degree 4 (5 coefficients), fit error 1.3e-8 absolute on P in [2, pi], i.e.
//!   about 0.1 ulp before the coefficients are rounded to f32;
//! - f64: degree 8 (9 coefficients), fit error 6.5e-19, far below half an ulp.
//!
//! The bounds achieved, checked by the harness on a dense grid and on random inputs on
//! every backend: [`SIN_PI_ULP_BOUND_F32`] and [`SIN_PI_ULP_BOUND_F64`].
//!
//! Inputs slightly outside [-1, 1] (by rounding) still give the right value to within
//! the same error; far outside, the result is meaningless but finite for finite input.

use crate::real::Real;
use pulp::Simd;

/// Coefficients of P for f32, lowest degree first.
// The leading coefficient is pi rounded to f32: the fit's, not a stand-in for the constant.
#[allow(clippy::approx_constant)]
pub const SIN_PI_F32: [f32; 5] = [3.1415927, -5.1677103, 2.5500774, -0.5982904, 0.07765591];

/// Coefficients of P for f64, lowest degree first.
#[allow(clippy::approx_constant)]
pub const SIN_PI_F64: [f64; 9] = [
    3.141592653589793,
    -5.167712780049969,
    2.5501640398773007,
    -0.5992645293189447,
    0.0821458865731029,
    -0.007370430505916944,
    0.0004662998161898394,
    -2.1903497074626018e-05,
    7.697826768224191e-07,
];

/// Largest error of the f32 sin(pi x) and cos(pi x) for x in [-1, 1], in ulps of the
/// exact result (ulps of 2^-20 for results smaller than that). Measured: 2.6 ulp on a
/// 2^20-point grid, every backend, at cos(pi x) ~ 0.95 for |x| ~ 0.1 (the rounding of
/// 1/2 - |x| and of the coefficients).
pub const SIN_PI_ULP_BOUND_F32: f64 = 3.0;

/// Largest error of the f64 sin(pi x) and cos(pi x) for x in [-1, 1], in ulps of std's
/// `sin` at the exactly reduced argument (ulps of 2^-40 for results smaller than that),
/// which includes std's own error of up to about one ulp. Measured: 2.0 ulp on a
/// 2^20-point grid, every backend, at |cos(pi x)| just below 1.
pub const SIN_PI_ULP_BOUND_F64: f64 = 3.0;

/// t P(t^2) for the coefficients of P, lowest degree first, by Horner's rule with fused
/// multiply-adds: the odd polynomials of sin(pi t) here and of atan(t) in
/// [`super::atan2`].
#[inline(always)]
pub(crate) fn odd_polynomial<S: Simd, T: Real>(
    simd: S,
    t: T::Lanes<S>,
    coefficients: &[T],
) -> T::Lanes<S> {
    let c = coefficients;
    let u = T::vmul(simd, t, t);
    let mut p = T::splat(simd, c[c.len() - 1]);
    for &coefficient in c[..c.len() - 1].iter().rev() {
        p = T::vfma(simd, p, u, T::splat(simd, coefficient));
    }
    T::vmul(simd, t, p)
}

/// S(t) = sin(pi t) for |t| <= 1/2.
#[inline(always)]
fn sin_pi_reduced<S: Simd, T: Real>(simd: S, t: T::Lanes<S>) -> T::Lanes<S> {
    odd_polynomial::<S, T>(simd, t, T::SIN_PI_COEFFICIENTS)
}

/// cos(pi x) for x in [-1, 1).
#[inline(always)]
pub fn cos_pi<S: Simd, T: Real>(simd: S, x: T::Lanes<S>) -> T::Lanes<S> {
    let half = T::splat(simd, T::from_f64(0.5));
    sin_pi_reduced::<S, T>(simd, T::vsub(simd, half, T::vabs(simd, x)))
}

/// (sin(pi x), cos(pi x)) for x in [-1, 1).
#[inline(always)]
pub fn sin_cos_pi<S: Simd, T: Real>(simd: S, x: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>) {
    let zero = T::splat(simd, T::from_f64(0.0));
    let one = T::splat(simd, T::from_f64(1.0));
    let ax = T::vabs(simd, x);
    let t_abs = T::vmin(simd, ax, T::vsub(simd, one, ax));
    let t = T::vselect(simd, T::vless(simd, x, zero), T::vsub(simd, zero, t_abs), t_abs);
    (sin_pi_reduced::<S, T>(simd, t), cos_pi::<S, T>(simd, x))
}
