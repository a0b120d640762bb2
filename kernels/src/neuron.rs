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
pub use crate::simd::sincospi::{cos_pi, sin_cos_pi};
pub use pulp::Simd;

/// A smooth phase neuron tau dv/dt = f(v, I) on the circle [-1, 1), with its spike at
/// v = +1 (identified with -1) and f(1, I) > 0 (docs/model.md section 5), evaluated
/// lane by lane. The sweeps wrap the phase onto [-1, 1) after each step
/// (v - 2 floor((v + 1) / 2)), so a model needs no reset.
///
/// Everything the sweeps and the validation need: f with its two partial derivatives
/// (the forward step uses f, the reverse step all three) and the largest phase speed at
/// the spike point, for the rule that a spike must not jump over the gate.
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
