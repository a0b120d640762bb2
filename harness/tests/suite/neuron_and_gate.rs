//! The pieces of docs/model.md section 1: the theta neuron's derivatives are those of f, the
//! gates integrate to 1 over one turn and their derivative is that of g, and wrap maps
//! onto [-1, 1) without moving the phase on the circle.

use proptest::prelude::*;
use spikegrad_reference::{wrap, Gate, Neuron, Theta};

/// Central difference with a step small enough for these smooth one-dimensional maps.
fn derivative(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let eps = 1e-6;
    (f(x + eps) - f(x - eps)) / (2.0 * eps)
}

proptest! {
    #[test]
    fn theta_derivatives_are_those_of_f(v in -1.0..1.0f64, i in -3.0..3.0f64) {
        let dv = derivative(|v| Theta.f(v, i), v);
        let di = derivative(|i| Theta.f(v, i), i);
        prop_assert!((dv - Theta.df_dv(v, i)).abs() < 1e-7 * (1.0 + dv.abs()), "{dv} vs {}", Theta.df_dv(v, i));
        prop_assert!((di - Theta.df_di(v, i)).abs() < 1e-7 * (1.0 + di.abs()));
    }

    #[test]
    fn raised_cosine_derivative_is_that_of_g(v in -1.0..1.0f64, delta in 0.1..1.9f64) {
        let gate = Gate::RaisedCosine { delta };
        let fd = derivative(|v| gate.g(v), v);
        let scale = 1.0 / (delta * delta);
        prop_assert!((fd - gate.dg_dv(v)).abs() < 1e-5 * scale, "{fd} vs {}", gate.dg_dv(v));
    }

    #[test]
    fn wrap_lands_in_range_on_the_same_point_of_the_circle(v in -1e3..1e3f64) {
        let w = wrap(v);
        prop_assert!((-1.0..1.0).contains(&w), "{v} -> {w}");
        let turns = (v - w) / 2.0;
        prop_assert!((turns - turns.round()).abs() < 1e-9);
    }
}

#[test]
fn gates_integrate_to_one_over_a_turn() {
    // Midpoint rule on 200 000 cells: exact for the boxcar up to one cell at each edge,
    // second order for the raised cosine.
    let cells = 200_000;
    let width = 2.0 / cells as f64;
    for delta in [0.1, 0.5, 1.0, 1.5, 1.9] {
        for gate in [Gate::Boxcar { delta }, Gate::RaisedCosine { delta }] {
            let integral: f64 =
                (0..cells).map(|c| gate.g(-1.0 + (c as f64 + 0.5) * width) * width).sum();
            let bound = 2.0 * width / delta;
            assert!((integral - 1.0).abs() <= bound, "{gate:?}: {integral}");
        }
    }
}

#[test]
fn theta_has_rest_and_threshold_below_rheobase() {
    // For I < 0 the fixed points are cos(pi v) = (1 + I) / (1 - I).
    let i: f64 = -0.5;
    let v = ((1.0 + i) / (1.0 - i)).acos() / std::f64::consts::PI;
    assert!(Theta.f(v, i).abs() < 1e-15 && Theta.f(-v, i).abs() < 1e-15);
    assert!(Theta.df_dv(-v, i) < 0.0, "rest is stable");
    assert!(Theta.df_dv(v, i) > 0.0, "threshold is unstable");
}
