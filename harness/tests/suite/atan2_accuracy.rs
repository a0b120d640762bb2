//! The atan2 polynomial of the theta neuron's midpoint step stays within its stated ulp
//! bound on every backend: on a dense grid of angles at several radii, at the special
//! points (axes, diagonals, the reduction's switch at tan(pi/8), zeros), and on random
//! inputs; a tail takes the body's numeric path.
//!
//! The truth is std's f64 `atan2`, within about one ulp of exact: far below an f32 ulp;
//! for f64 its own error is part of what is measured. The kernel ignores the sign of a
//! zero y (atan2(-0, x < 0) = pi), as its documentation says.

use proptest::prelude::*;
use spikegrad::{atan2, Backend, Real};
use spikegrad::{ATAN2_ULP_BOUND_F32, ATAN2_ULP_BOUND_F64};
use std::f64::consts::PI;

/// |got - want| in ulps of `want` in precision `T` (ulps of 2^-floor_exp at least).
fn ulps<T: Real>(got: f64, want: f64) -> f64 {
    let (mantissa_bits, floor_exp) = if T::NAME == "f32" { (23, 24) } else { (52, 52) };
    let magnitude = want.abs().max(2f64.powi(-floor_exp));
    let ulp = 2f64.powi(magnitude.log2().floor() as i32 - mantissa_bits);
    (got - want).abs() / ulp
}

/// The worst error over the points (y, x) on `backend`, and where.
fn worst_ulps<T: Real>(backend: Backend, points: &[(f64, f64)]) -> (f64, (f64, f64)) {
    let y: Vec<T> = points.iter().map(|p| T::from_f64(p.0)).collect();
    let x: Vec<T> = points.iter().map(|p| T::from_f64(p.1)).collect();
    let mut angle = vec![T::from_f64(0.0); points.len()];
    atan2(backend, &y, &x, &mut angle).unwrap();
    let mut worst = (0.0f64, (0.0, 0.0));
    for ((y, x), a) in y.iter().zip(&x).zip(&angle) {
        let (y, x) = (y.to_f64(), x.to_f64());
        // The kernel ignores the sign of a zero y: atan2(-0, x < 0) is pi, not -pi.
        let want = if y == 0.0 { 0.0f64.atan2(x) } else { y.atan2(x) };
        let error = ulps::<T>(a.to_f64(), want);
        if error > worst.0 || error.is_nan() {
            worst = (error, (y, x));
        }
    }
    worst
}

fn grid() -> Vec<(f64, f64)> {
    let cells = 1 << 18;
    let mut points = Vec::with_capacity(4 * cells + 64);
    for radius in [1e-3, 0.7, 1.0, 3e4] {
        points.extend((0..cells).map(|i| {
            let theta = -PI + 2.0 * PI * i as f64 / cells as f64;
            (radius * theta.sin(), radius * theta.cos())
        }));
    }
    let switch = (PI / 8.0).tan();
    for (y, x) in [
        (0.0, 1.0),
        (0.0, -1.0),
        (-0.0, -1.0),
        (1.0, 0.0),
        (-1.0, 0.0),
        (0.0, 0.0),
        (1.0, 1.0),
        (-1.0, -1.0),
        (1.0, -1.0),
        (switch, 1.0),
        (switch * (1.0 + 1e-12), 1.0),
        (switch * (1.0 - 1e-12), 1.0),
        (1.0, switch),
        (1e-30, 1.0),
        (1.0, 1e-30),
        (-1e-30, -1.0),
    ] {
        points.push((y, x));
    }
    points
}

fn check_grid<T: Real>(bound: f64) {
    let points = grid();
    for backend in Backend::all_available() {
        let (worst, at) = worst_ulps::<T>(backend, &points);
        println!("{} {}: {worst:.2} ulp at {at:?}", T::NAME, backend.name());
        assert!(worst <= bound, "{} {}: {worst} ulp > {bound} at {at:?}", T::NAME, backend.name());
    }
}

#[test]
fn f32_within_bound_on_dense_grid_every_backend() {
    check_grid::<f32>(ATAN2_ULP_BOUND_F32);
}

#[test]
fn f64_within_bound_on_dense_grid_every_backend() {
    check_grid::<f64>(ATAN2_ULP_BOUND_F64);
}

#[test]
fn tails_of_every_length_match_the_body() {
    for backend in Backend::all_available() {
        for len in 0..40 {
            let y: Vec<f64> = (0..len).map(|i| -2.0 + 0.11 * i as f64).collect();
            let x: Vec<f64> = (0..len).map(|i| 1.5 - 0.09 * i as f64).collect();
            let mut angle = vec![0.0; len];
            atan2(backend, &y, &x, &mut angle).unwrap();
            for i in 0..len {
                let mut one = [0.0];
                atan2(backend, &y[i..=i], &x[i..=i], &mut one).unwrap();
                assert_eq!(angle[i].to_bits(), one[0].to_bits(), "len {len}, lane {i}");
            }
        }
    }
}

#[test]
fn mismatched_lengths_are_an_error() {
    let mut angle = [0.0f32; 3];
    assert!(atan2(Backend::detect(), &[0.0f32; 3], &[0.0f32; 4], &mut angle).is_err());
    assert!(atan2(Backend::detect(), &[0.0f32; 4], &[0.0f32; 4], &mut angle).is_err());
}

proptest! {
    #[test]
    fn random_inputs_within_bound(
        points in proptest::collection::vec((-50.0..50.0f64, -50.0..50.0f64), 1..64),
        pick: usize,
    ) {
        let all = Backend::all_available();
        let backend = all[pick % all.len()];
        prop_assert!(worst_ulps::<f32>(backend, &points).0 <= ATAN2_ULP_BOUND_F32);
        prop_assert!(worst_ulps::<f64>(backend, &points).0 <= ATAN2_ULP_BOUND_F64);
    }
}
