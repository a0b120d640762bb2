//! The sin/cos(pi x) polynomial stays within its stated ulp bound on every backend, on a
//! dense grid over [-1, 1), at the special points, and on random inputs.
//!
//! The truth is std's f64 sin evaluated at the exactly reduced argument t (|t| <= 1/2,
//! where pi t loses nothing to range reduction): within 1e-16 relative of exact, far
//! below an f32 ulp. For f64 the truth's own error (up to about one ulp from rounding
//! pi t and from sin) is part of what is measured, so the f64 bound is against std.

use proptest::prelude::*;
use spikegrad::{sin_cos_pi, Backend, Real};
use spikegrad::{SIN_PI_ULP_BOUND_F32, SIN_PI_ULP_BOUND_F64};
use std::f64::consts::PI;

/// (sin(pi x), cos(pi x)) through the exact reductions of the kernel.
fn truth(x: f64) -> (f64, f64) {
    let ax = x.abs();
    let t = ax.min(1.0 - ax).copysign(x);
    ((PI * t).sin(), (PI * (0.5 - ax)).sin())
}

/// |got - want| in ulps of `want` in precision `T`, with ulps taken at 2^-floor_exp at least.
fn ulps<T: Real>(got: f64, want: f64, floor_exp: i32) -> f64 {
    let mantissa_bits = if T::NAME == "f32" { 23 } else { 52 };
    let magnitude = want.abs().max(2f64.powi(-floor_exp));
    let ulp = 2f64.powi(magnitude.log2().floor() as i32 - mantissa_bits);
    (got - want).abs() / ulp
}

fn worst_ulps<T: Real>(backend: Backend, xs: &[f64]) -> (f64, f64) {
    let x: Vec<T> = xs.iter().map(|&x| T::from_f64(x)).collect();
    let (mut sin, mut cos) = (vec![T::from_f64(0.0); x.len()], vec![T::from_f64(0.0); x.len()]);
    sin_cos_pi(backend, &x, &mut sin, &mut cos).unwrap();
    let floor_exp = if T::NAME == "f32" { 20 } else { 40 };
    let mut worst = (0.0f64, 0.0f64);
    for ((x, s), c) in x.iter().zip(&sin).zip(&cos) {
        let (ts, tc) = truth(x.to_f64());
        worst.0 = worst.0.max(ulps::<T>(s.to_f64(), ts, floor_exp));
        worst.1 = worst.1.max(ulps::<T>(c.to_f64(), tc, floor_exp));
    }
    worst
}

fn grid() -> Vec<f64> {
    let cells = 1 << 20;
    let mut xs: Vec<f64> = (0..cells).map(|i| -1.0 + 2.0 * i as f64 / cells as f64).collect();
    // Special points, and their neighbours where sin or cos vanish or peak.
    for x in [
        0.0,
        -0.0,
        0.25,
        -0.25,
        0.5,
        -0.5,
        0.75,
        -0.75,
        -1.0,
        1e-30,
        -1e-30,
        1e-8,
        1.0 - 1e-9,
        -1.0 + 1e-9,
    ] {
        xs.push(x);
    }
    xs.push(f64::from_bits(1.0f64.to_bits() - 1)); // the largest x below 1
    xs
}

fn check_grid<T: Real>(bound: f64) {
    let xs = grid();
    for backend in Backend::all_available() {
        let (sin, cos) = worst_ulps::<T>(backend, &xs);
        println!("{} {}: sin {sin:.2} ulp, cos {cos:.2} ulp", T::NAME, backend.name());
        assert!(
            sin <= bound && cos <= bound,
            "{} {}: sin {sin} ulp, cos {cos} ulp > {bound}",
            T::NAME,
            backend.name()
        );
    }
}

#[test]
fn f32_within_bound_on_dense_grid_every_backend() {
    check_grid::<f32>(SIN_PI_ULP_BOUND_F32);
}

#[test]
fn f64_within_bound_on_dense_grid_every_backend() {
    check_grid::<f64>(SIN_PI_ULP_BOUND_F64);
}

#[test]
fn tails_of_every_length_match_the_body() {
    // A tail goes through partial loads and stores; its lanes must equal the body's.
    for backend in Backend::all_available() {
        for len in 0..40 {
            let xs: Vec<f64> = (0..len).map(|i| -0.97 + 0.049 * i as f64).collect();
            let (mut sin, mut cos) = (vec![0.0; len], vec![0.0; len]);
            sin_cos_pi(backend, &xs, &mut sin, &mut cos).unwrap();
            for (i, &x) in xs.iter().enumerate() {
                let (mut s1, mut c1) = ([0.0], [0.0]);
                sin_cos_pi(backend, &[x], &mut s1, &mut c1).unwrap();
                assert_eq!(
                    (sin[i].to_bits(), cos[i].to_bits()),
                    (s1[0].to_bits(), c1[0].to_bits()),
                    "len {len}, lane {i}"
                );
            }
        }
    }
}

#[test]
fn mismatched_lengths_are_an_error() {
    let (mut s, mut c) = ([0.0f32; 3], [0.0f32; 4]);
    assert!(sin_cos_pi(Backend::detect(), &[0.0f32; 4], &mut s, &mut c).is_err());
}

proptest! {
    #[test]
    fn random_inputs_within_bound(xs in proptest::collection::vec(-1.0..1.0f64, 1..64), pick: usize) {
        let all = Backend::all_available();
        let backend = all[pick % all.len()];
        let (s32, c32) = worst_ulps::<f32>(backend, &xs);
        let (s64, c64) = worst_ulps::<f64>(backend, &xs);
        prop_assert!(s32 <= SIN_PI_ULP_BOUND_F32 && c32 <= SIN_PI_ULP_BOUND_F32);
        prop_assert!(s64 <= SIN_PI_ULP_BOUND_F64 && c64 <= SIN_PI_ULP_BOUND_F64);
    }
}
