//! The membrane model behind a small trait, so another smooth phase model can be added
//! without touching the sweeps (docs/model.md section 1).

use crate::real::Real;
use crate::simd::sincospi::{cos_pi, sin_cos_pi};
use pulp::Simd;

/// A smooth phase neuron tau dv/dt = f(v, I) on the circle [-1, 1), lane by lane. The
/// phase is wrapped onto [-1, 1) after each step (v - 2 floor((v + 1) / 2)).
pub trait Neuron: Copy + Send + Sync + 'static {
    /// f(v, I).
    fn f<S: Simd, T: Real>(self, simd: S, v: T::Lanes<S>, i: T::Lanes<S>) -> T::Lanes<S>;
    /// (f, df/dv, df/dI) at (v, I).
    fn f_and_derivatives<S: Simd, T: Real>(
        self,
        simd: S,
        v: T::Lanes<S>,
        i: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>, T::Lanes<S>);
}

/// The theta neuron (canonical quadratic integrate-and-fire):
/// f = (1 - cos pi v) + (1 + cos pi v) I, df/dv = pi sin(pi v) (1 - I),
/// df/dI = 1 + cos pi v.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Theta;

impl Neuron for Theta {
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
}
