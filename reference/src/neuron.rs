use std::f64::consts::PI;

/// A smooth phase neuron: tau dv/dt = f(v, I) on the circle [-1, 1), spike at v = +1
/// with f(1, I) > 0 (docs/model.md sections 1 and 5).
pub trait Neuron {
    /// A short name (`theta`, `hopf_phase`).
    fn name(&self) -> &'static str;
    /// f(v, I).
    fn f(&self, v: f64, i: f64) -> f64;
    /// df/dv at (v, I).
    fn df_dv(&self, v: f64, i: f64) -> f64;
    /// df/dI at (v, I).
    fn df_di(&self, v: f64, i: f64) -> f64;
    /// max over I of f(1, I): one Euler step at the spike point moves the phase by
    /// (h/tau) times this (the jump rule of docs/model.md section 4).
    fn spike_speed(&self) -> f64;
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
    fn name(&self) -> &'static str {
        "theta"
    }

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

    /// f(1, I) = (1 - cos pi) + (1 + cos pi) I = 2.
    fn spike_speed(&self) -> f64 {
        2.0
    }
}

/// The type-II phase model of an oscillator near a Hopf bifurcation (Brown, Moehlis &
/// Holmes, Neural Computation 16:673, 2004): f = 1 + I sin(pi v).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopfPhase;

impl Neuron for HopfPhase {
    fn name(&self) -> &'static str {
        "hopf_phase"
    }

    fn f(&self, v: f64, i: f64) -> f64 {
        1.0 + i * (PI * v).sin()
    }

    fn df_dv(&self, v: f64, i: f64) -> f64 {
        PI * i * (PI * v).cos()
    }

    fn df_di(&self, v: f64, _i: f64) -> f64 {
        (PI * v).sin()
    }

    /// f(1, I) = 1 + I sin(pi) = 1.
    fn spike_speed(&self) -> f64 {
        1.0
    }
}

/// v - 2 floor((v + 1) / 2): the representative of v on [-1, 1).
pub fn wrap(v: f64) -> f64 {
    v - 2.0 * ((v + 1.0) / 2.0).floor()
}
