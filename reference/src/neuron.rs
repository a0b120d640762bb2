use std::f64::consts::PI;

/// A smooth phase neuron: tau dv/dt = f(v, I) on the circle [-1, 1) (docs/model.md section 1).
pub trait Neuron {
    /// f(v, I).
    fn f(&self, v: f64, i: f64) -> f64;
    /// df/dv at (v, I).
    fn df_dv(&self, v: f64, i: f64) -> f64;
    /// df/dI at (v, I).
    fn df_di(&self, v: f64, i: f64) -> f64;
    /// Maps a phase back onto [-1, 1): v - 2 floor((v + 1) / 2).
    fn wrap(&self, v: f64) -> f64 {
        wrap(v)
    }
}

/// The theta neuron (canonical quadratic integrate-and-fire):
/// f = (1 - cos pi v) + (1 + cos pi v) I.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Theta;

impl Neuron for Theta {
    fn f(&self, v: f64, i: f64) -> f64 {
        let c = (PI * v).cos();
        (1.0 - c) + (1.0 + c) * i
    }

    fn df_dv(&self, v: f64, i: f64) -> f64 {
        PI * (PI * v).sin() * (1.0 - i)
    }

    fn df_di(&self, v: f64, _i: f64) -> f64 {
        1.0 + (PI * v).cos()
    }
}

/// v - 2 floor((v + 1) / 2): the representative of v on [-1, 1).
pub fn wrap(v: f64) -> f64 {
    v - 2.0 * ((v + 1.0) / 2.0).floor()
}
