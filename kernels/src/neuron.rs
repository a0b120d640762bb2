//! The membrane model behind a small trait, so that another smooth phase model plugs into
//! the sweeps as a type parameter (docs/model.md sections 1 and 5, "Another neuron").
//!
//! A model outside this crate implements [`Neuron`] lane by lane on the items this module
//! re-exports (pulp's [`Simd`], the crate's [`Real`] and the polynomial [`sin_cos_pi`] /
//! [`cos_pi`] the built-in models use), then checks itself with
//! [`check_neuron`](crate::check_neuron) before it is trusted:
//!
//! ```
//! use spikegrad::neuron::{sin_cos_pi, Neuron, Real, Simd};
//!
//! /// A theta neuron whose drive is doubled: f = (1 - cos pi v) + 2 (1 + cos pi v) I.
//! #[derive(Debug, Clone, Copy)]
//! struct DrivenTheta;
//!
//! impl Neuron for DrivenTheta {
//!     const NAME: &'static str = "driven theta";
//!
//!     fn f_and_derivatives<S: Simd, T: Real>(
//!         self,
//!         simd: S,
//!         v: T::Lanes<S>,
//!         i: T::Lanes<S>,
//!     ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
//!         let (sin, cos) = sin_cos_pi::<S, T>(simd, v);
//!         let one = T::splat(simd, T::from_f64(1.0));
//!         let two = T::splat(simd, T::from_f64(2.0));
//!         let df_di = T::vmul(simd, two, T::vadd(simd, one, cos));
//!         let f = T::vfma(simd, df_di, i, T::vsub(simd, one, cos));
//!         // d/dv [(1 - cos pi v) + 2 (1 + cos pi v) I] = pi sin(pi v) (1 - 2 I)
//!         let pi_sin = T::vmul(simd, T::splat(simd, T::from_f64(core::f64::consts::PI)), sin);
//!         let df_dv = T::vmul(simd, pi_sin, T::vsub(simd, one, T::vmul(simd, two, i)));
//!         (f, df_dv, df_di)
//!     }
//!
//!     fn spike_speed(self) -> f64 {
//!         2.0 // f(1, I) = 2 whatever I
//!     }
//! }
//!
//! let report = spikegrad::check_neuron(DrivenTheta, &spikegrad::NeuronCheck::default())?;
//! assert!(report.passed(), "{report}");
//! # Ok::<(), spikegrad::Error>(())
//! ```

pub use crate::real::Real;
pub use crate::simd::atan2::atan2;
pub use crate::simd::sincospi::{cos_pi, sin_cos_pi};
pub use pulp::Simd;

/// One step's phase increment dv = Delta_v(v, I; r), r = h/tau, with its partials
/// (docs/model.md section 9), lane by lane.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Increment<L> {
    /// Delta_v(v, I; r): the unwrapped change of the phase over the step.
    pub delta: L,
    /// dDelta_v/dv.
    pub d_v: L,
    /// dDelta_v/dI.
    pub d_i: L,
    /// r dDelta_v/dr: the derivative with respect to ln r, which gives dL/dtau.
    pub d_log_r: L,
}

impl<L> Increment<L> {
    /// The increment `delta` and its partials `d_v`, `d_i`, `d_log_r` (= r dDelta_v/dr).
    #[inline(always)]
    pub fn new(delta: L, d_v: L, d_i: L, d_log_r: L) -> Self {
        Increment { delta, d_v, d_i, d_log_r }
    }
}

/// A smooth phase neuron tau dv/dt = f(v, I) on the circle [-1, 1), with its spike at
/// v = +1 (identified with -1) and f(1, I) > 0 (docs/model.md section 5), evaluated
/// lane by lane. The sweeps wrap the phase onto [-1, 1) after each step
/// (v - 2 floor((v + 1) / 2)), so a model needs no reset.
///
/// Everything the sweeps and the validation need: f with its two partial derivatives,
/// the step map that advances the phase by one step (docs/model.md section 9; the
/// explicit Euler step r f unless the model overrides [`increment`](Neuron::increment)
/// and [`increment_and_partials`](Neuron::increment_and_partials) together), and the
/// largest phase speed at the spike point, for the rule that a spike must not jump over
/// the gate.
pub trait Neuron: Copy + Send + Sync + 'static {
    /// A short name for reports and logs.
    const NAME: &'static str;

    /// (f, df/dv, df/dI) at (v, I), for v in [-1, 1).
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>);

    /// f(v, I) alone (the forward step's need); by default the first of
    /// [`f_and_derivatives`](Neuron::f_and_derivatives), which the compiler trims to
    /// what is used when it inlines. Override it where f is much cheaper by itself.
    #[inline(always)]
    fn f<S: Simd, T: Real>(self, simd: S, v: T::Lanes<S>, i: T::Lanes<S>) -> T::Lanes<S> {
        self.f_and_derivatives::<S, T>(simd, v, i).0
    }

    /// max over I of f(1, I): the largest phase speed at the spike point. One Euler step
    /// there moves the phase by (h/tau) times this, which must not exceed Delta/2
    /// (docs/model.md sections 4 and 5). Finite and > 0.
    fn spike_speed(self) -> f64;

    /// The increment dv = Delta_v(v, I; r) of one step with r = h/tau (docs/model.md
    /// section 9): what the forward step adds to v (before the wrap) and weighs by the
    /// gate. By default the explicit Euler step, r f(v, I).
    #[inline(always)]
    fn increment<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> T::Lanes<S> {
        T::vmul(simd, r, self.f::<S, T>(simd, v, i))
    }

    /// [`increment`](Neuron::increment) with its partials dDelta_v/dv, dDelta_v/dI and
    /// r dDelta_v/dr (docs/model.md section 9), for the reverse sweep and the constants'
    /// gradients. By default Euler's: r f, r df/dv, r df/dI and r f. A model that
    /// overrides one of the two overrides both; [`check_neuron`](crate::check_neuron)
    /// compares them and checks the partials against finite differences.
    #[inline(always)]
    fn increment_and_partials<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> Increment<T::Lanes<S>> {
        let (f, df_dv, df_di) = self.f_and_derivatives::<S, T>(simd, v, i);
        let delta = T::vmul(simd, r, f);
        Increment {
            delta,
            d_v: T::vmul(simd, r, df_dv),
            d_i: T::vmul(simd, r, df_di),
            d_log_r: delta,
        }
    }
}

/// The theta neuron (canonical quadratic integrate-and-fire; Ermentrout & Kopell, SIAM J.
/// Appl. Math. 46:233, 1986), type I: f = (1 - cos pi v) + (1 + cos pi v) I,
/// df/dv = pi sin(pi v) (1 - I), df/dI = 1 + cos pi v. For I < 0 it rests at a stable
/// phase; for I > 0 it fires at a rate that rises from zero. f(1, I) = 2 for every I.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Theta;

impl Neuron for Theta {
    const NAME: &'static str = "theta";

    #[inline(always)]
    fn f<S: Simd, T: Real>(self, simd: S, v: T::Lanes<S>, i: T::Lanes<S>) -> T::Lanes<S> {
        let one = T::splat(simd, T::from_f64(1.0));
        let c = cos_pi::<S, T>(simd, v);
        T::vfma(simd, T::vadd(simd, one, c), i, T::vsub(simd, one, c))
    }

    #[inline(always)]
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
        let one = T::splat(simd, T::from_f64(1.0));
        let pi = T::splat(simd, T::from_f64(core::f64::consts::PI));
        let (s, c) = sin_cos_pi::<S, T>(simd, v);
        let df_di = T::vadd(simd, one, c);
        let f = T::vfma(simd, df_di, i, T::vsub(simd, one, c));
        let df_dv = T::vmul(simd, T::vmul(simd, pi, s), T::vsub(simd, one, i));
        (f, df_dv, df_di)
    }

    fn spike_speed(self) -> f64 {
        2.0
    }
}

/// The theta neuron of [`Theta`] advanced by a step map that is stable for every current
/// (docs/model.md section 9): the implicit midpoint rule applied to the neuron's linear
/// lift, solved in closed form.
///
/// With u = tan(pi v / 2) the theta equation is the Riccati equation
/// du/dt = (pi/tau)(u^2 + I), the projective image of the linear system
/// d(p, q)/dt = (pi/tau)(I q, -p) with u = p/q. For I held over the step, the implicit
/// midpoint rule on (p, q) is a 2 x 2 matrix (a Cayley transform), and its image on the
/// circle is, with k = pi h/tau:
///
/// ```text
/// y = k f(v, I) / 2,   x = 1 - k^2 I / 4 + (I - 1) k sin(pi v) / 2
/// Delta_v = (2/pi) atan2(y, x)
/// ```
///
/// It agrees with the Euler step r f to first order in r = h/tau and with the exact flow
/// to second order. It keeps the fixed points of the flow exactly (a resting neuron stays
/// at rest whatever I), and at a stable rest its multiplier 1 + dDelta_v/dv is
/// ((1 - k w/2)/(1 + k w/2))^2 with w = sqrt(-I): in [0, 1) for every I < 0, where
/// Euler's, 1 - 2 k w, passes -1 at I = -4/k^2 (the costates of strongly inhibited
/// neurons then grow at every step). The increment stays in (-2, 2]: at most one turn
/// per step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThetaMidpoint;

impl ThetaMidpoint {
    /// (y, x) of the step map and what its partials need: sin pi v, cos pi v and k.
    #[inline(always)]
    fn lift<S: Simd, T: Real>(
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> [T::Lanes<S>; 5] {
        let splat = |value: f64| T::splat(simd, T::from_f64(value));
        let one = splat(1.0);
        let (sin, cos) = sin_cos_pi::<S, T>(simd, v);
        let f = T::vfma(simd, T::vadd(simd, one, cos), i, T::vsub(simd, one, cos));
        let k = T::vmul(simd, splat(core::f64::consts::PI), r);
        let half_k = T::vmul(simd, splat(0.5), k);
        let y = T::vmul(simd, half_k, f);
        // x = 1 - (k/2)^2 I + (I - 1) (k/2) sin(pi v)
        let quarter = T::vmul(simd, T::vmul(simd, half_k, half_k), i);
        let x = T::vfma(
            simd,
            T::vsub(simd, i, one),
            T::vmul(simd, half_k, sin),
            T::vsub(simd, one, quarter),
        );
        [y, x, sin, cos, k]
    }
}

impl Neuron for ThetaMidpoint {
    const NAME: &'static str = "theta (midpoint step)";

    #[inline(always)]
    fn f<S: Simd, T: Real>(self, simd: S, v: T::Lanes<S>, i: T::Lanes<S>) -> T::Lanes<S> {
        Theta.f::<S, T>(simd, v, i)
    }

    #[inline(always)]
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
        Theta.f_and_derivatives::<S, T>(simd, v, i)
    }

    fn spike_speed(self) -> f64 {
        2.0
    }

    #[inline(always)]
    fn increment<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> T::Lanes<S> {
        let [y, x, ..] = Self::lift::<S, T>(simd, v, i, r);
        T::vmul(
            simd,
            T::splat(simd, T::from_f64(core::f64::consts::FRAC_2_PI)),
            atan2::<S, T>(simd, y, x),
        )
    }

    #[inline(always)]
    fn increment_and_partials<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
        r: T::Lanes<S>,
    ) -> Increment<T::Lanes<S>> {
        let splat = |value: f64| T::splat(simd, T::from_f64(value));
        let one = splat(1.0);
        let [y, x, sin, cos, k] = Self::lift::<S, T>(simd, v, i, r);
        let two_over_pi = splat(core::f64::consts::FRAC_2_PI);
        let delta = T::vmul(simd, two_over_pi, atan2::<S, T>(simd, y, x));
        // dDelta = (2/pi) (x dy - y dx) / (x^2 + y^2).
        let scale = T::vdiv(simd, two_over_pi, T::vfma(simd, x, x, T::vmul(simd, y, y)));
        let partial = |dy, dx| {
            T::vmul(simd, scale, T::vsub(simd, T::vmul(simd, x, dy), T::vmul(simd, y, dx)))
        };
        let half_k = T::vmul(simd, splat(0.5), k);
        let pi_half_k = T::vmul(simd, splat(core::f64::consts::PI), half_k);
        let i_minus_one = T::vsub(simd, i, one);
        // d/dv: dy = (k/2) pi sin (1 - I), dx = (I - 1) (k/2) pi cos.
        let d_v = partial(
            T::vmul(simd, T::vmul(simd, pi_half_k, sin), T::vsub(simd, one, i)),
            T::vmul(simd, T::vmul(simd, i_minus_one, pi_half_k), cos),
        );
        // d/dI: dy = (k/2)(1 + cos), dx = -(k/2)^2 + (k/2) sin.
        let d_i = partial(
            T::vmul(simd, half_k, T::vadd(simd, one, cos)),
            T::vmul(simd, half_k, T::vsub(simd, sin, half_k)),
        );
        // r d/dr = k d/dk: k dy/dk = y, k dx/dk = -2 (k/2)^2 I + (I - 1) (k/2) sin.
        let quarter = T::vmul(simd, T::vmul(simd, half_k, half_k), i);
        let k_dx_dk = T::vfma(
            simd,
            i_minus_one,
            T::vmul(simd, half_k, sin),
            T::vmul(simd, splat(-2.0), quarter),
        );
        let d_log_r = partial(y, k_dx_dk);
        Increment { delta, d_v, d_i, d_log_r }
    }
}

/// The phase reduction of an oscillator near a supercritical Hopf bifurcation, type II
/// (Brown, Moehlis & Holmes, "On the phase reduction and response dynamics of neural
/// oscillator populations", Neural Computation 16:673, 2004; Ermentrout, "Type I
/// membranes, phase resetting curves, and synchrony", Neural Computation 8:979, 1996):
/// f = 1 + I sin(pi v), df/dv = pi I cos(pi v), df/dI = sin(pi v).
///
/// Its phase response sin(pi v) is sinusoidal and changes sign: an excitatory input
/// advances the phase in the first half of the cycle (v in (0, 1)) and delays it in the
/// second (v in (-1, 0)), where the theta neuron's response 1 + cos(pi v) is never
/// negative (type I). Without input it fires at its intrinsic frequency 1/(2 tau) for
/// any |I| < 1; for |I| > 1 it has a stable rest phase (where 1 + I sin(pi v) = 0 and
/// f decreases through it). f(1, I) = 1 for every I.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HopfPhase;

impl Neuron for HopfPhase {
    const NAME: &'static str = "hopf_phase";

    #[inline(always)]
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>) {
        let one = T::splat(simd, T::from_f64(1.0));
        let pi = T::splat(simd, T::from_f64(core::f64::consts::PI));
        let (s, c) = sin_cos_pi::<S, T>(simd, v);
        let f = T::vfma(simd, i, s, one);
        let df_dv = T::vmul(simd, T::vmul(simd, pi, c), i);
        (f, df_dv, s)
    }

    fn spike_speed(self) -> f64 {
        1.0
    }
}
