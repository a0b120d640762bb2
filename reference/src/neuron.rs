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
    /// The step map's increment Delta_v(v, I; r) with r = h/tau (docs/model.md section 9):
    /// by default the explicit Euler step r f(v, I).
    fn increment(&self, v: f64, i: f64, r: f64) -> f64 {
        r * self.f(v, i)
    }
    /// dDelta_v/dv (Euler: r df/dv).
    fn increment_dv(&self, v: f64, i: f64, r: f64) -> f64 {
        r * self.df_dv(v, i)
    }
    /// dDelta_v/dI (Euler: r df/dI).
    fn increment_di(&self, v: f64, i: f64, r: f64) -> f64 {
        r * self.df_di(v, i)
    }
    /// r dDelta_v/dr, the derivative with respect to ln r (Euler: r f, the increment).
    fn increment_dlog_r(&self, v: f64, i: f64, r: f64) -> f64 {
        self.increment(v, i, r)
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

/// The theta neuron stepped by the implicit midpoint rule on its linear lift, solved in
/// closed form (docs/model.md section 9): with k = pi r,
/// y = k f / 2, x = 1 - k^2 I / 4 + (I - 1) k sin(pi v) / 2 and
/// Delta_v = (2/pi) atan2(y, x); the partials are (2/pi) (x dy - y dx) / (x^2 + y^2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThetaMidpoint;

impl ThetaMidpoint {
    /// (y, x) and their derivatives with respect to v, I and ln r:
    /// [(y, x), (dy/dv, dx/dv), (dy/dI, dx/dI), (k dy/dk, k dx/dk)].
    fn lift(v: f64, i: f64, r: f64) -> [(f64, f64); 4] {
        let k = PI * r;
        let (sin, cos) = ((PI * v).sin(), (PI * v).cos());
        let f = Theta.f(v, i);
        let y = k * f / 2.0;
        let x = 1.0 - k * k * i / 4.0 + (i - 1.0) * k * sin / 2.0;
        [
            (y, x),
            (k / 2.0 * PI * sin * (1.0 - i), (i - 1.0) * k / 2.0 * PI * cos),
            (k / 2.0 * (1.0 + cos), -k * k / 4.0 + k * sin / 2.0),
            (y, -k * k * i / 2.0 + (i - 1.0) * k * sin / 2.0),
        ]
    }

    /// (2/pi) (x dy - y dx) / (x^2 + y^2): the derivative of (2/pi) atan2(y, x).
    fn partial(axis: usize, v: f64, i: f64, r: f64) -> f64 {
        let lift = Self::lift(v, i, r);
        let ((y, x), (dy, dx)) = (lift[0], lift[axis]);
        2.0 / PI * (x * dy - y * dx) / (x * x + y * y)
    }
}

impl Neuron for ThetaMidpoint {
    fn name(&self) -> &'static str {
        "theta_midpoint"
    }
    fn f(&self, v: f64, i: f64) -> f64 {
        Theta.f(v, i)
    }
    fn df_dv(&self, v: f64, i: f64) -> f64 {
        Theta.df_dv(v, i)
    }
    fn df_di(&self, v: f64, i: f64) -> f64 {
        Theta.df_di(v, i)
    }
    fn spike_speed(&self) -> f64 {
        2.0
    }
    fn increment(&self, v: f64, i: f64, r: f64) -> f64 {
        let (y, x) = Self::lift(v, i, r)[0];
        2.0 / PI * y.atan2(x)
    }
    fn increment_dv(&self, v: f64, i: f64, r: f64) -> f64 {
        Self::partial(1, v, i, r)
    }
    fn increment_di(&self, v: f64, i: f64, r: f64) -> f64 {
        Self::partial(2, v, i, r)
    }
    fn increment_dlog_r(&self, v: f64, i: f64, r: f64) -> f64 {
        Self::partial(3, v, i, r)
    }
}

/// v - 2 floor((v + 1) / 2): the representative of v on [-1, 1).
pub fn wrap(v: f64) -> f64 {
    v - 2.0 * ((v + 1.0) / 2.0).floor()
}
