//! The synaptic gate g(v) and its slope g'(v) (docs/model.md section 1, "Gate functions"),
//! lane by lane. The public description is [`Gate`]; [`GateKernel`] is its compiled
//! form, one type per shape so that the step kernels are monomorphised per gate.

use crate::real::Real;
use crate::simd::sincospi::{cos_pi, sin_cos_pi};
use crate::simd::wrap::wrap;
use pulp::Simd;

/// Shape and width Delta of the gate. Both shapes are non-negative and integrate to 1
/// over one turn of the phase, so one complete spike deposits unit charge.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Gate {
    /// g = 1/Delta on |x| < Delta/2 (x = v - 1 wrapped), else 0; g' = 0 almost everywhere.
    Boxcar {
        /// Width of the active zone, in (0, 2).
        delta: f64,
    },
    /// g = (1 + cos(2 pi x / Delta)) / Delta on |x| < Delta/2, else 0. C^1: the default.
    RaisedCosine {
        /// Width of the active zone, in (0, 2).
        delta: f64,
    },
}

impl Gate {
    /// The width Delta.
    pub fn delta(&self) -> f64 {
        match *self {
            Gate::Boxcar { delta } | Gate::RaisedCosine { delta } => delta,
        }
    }

    /// The name used in `config.json` (`"boxcar"`, `"raised_cosine"`).
    pub fn name(&self) -> &'static str {
        match self {
            Gate::Boxcar { .. } => "boxcar",
            Gate::RaisedCosine { .. } => "raised_cosine",
        }
    }
}

/// A gate shape compiled for the step kernels.
pub(crate) trait GateKernel<T: Real>: Copy + Send + Sync {
    /// g(v).
    fn g<S: Simd>(self, simd: S, v: T::Lanes<S>) -> T::Lanes<S>;
    /// (g(v), g'(v)).
    fn g_and_slope<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>);
    /// (g(v), dg/dDelta at v) (docs/model.md section 7; zero for a shape without one).
    fn g_and_ddelta<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>);
}

/// x = wrap(v - 1), the phase distance from the spike point, and the mask |x| < Delta/2.
#[inline(always)]
pub(crate) fn distance_from_spike<S: Simd, T: Real>(
    simd: S,
    v: T::Lanes<S>,
    half_width: T,
) -> (T::Lanes<S>, T::Mask<S>) {
    let x = wrap::<S, T>(simd, T::vsub(simd, v, T::splat(simd, T::from_f64(1.0))));
    let active = T::vless(simd, T::vabs(simd, x), T::splat(simd, half_width));
    (x, active)
}

/// [`Gate::Boxcar`], compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BoxcarKernel<T> {
    half_width: T,
    height: T,
}

impl<T: Real> BoxcarKernel<T> {
    /// For width `delta`.
    pub fn new(delta: f64) -> Self {
        BoxcarKernel { half_width: T::from_f64(delta / 2.0), height: T::from_f64(1.0 / delta) }
    }
}

impl<T: Real> GateKernel<T> for BoxcarKernel<T> {
    #[inline(always)]
    fn g<S: Simd>(self, simd: S, v: T::Lanes<S>) -> T::Lanes<S> {
        let (_, active) = distance_from_spike::<S, T>(simd, v, self.half_width);
        let zero = T::splat(simd, T::from_f64(0.0));
        T::vselect(simd, active, T::splat(simd, self.height), zero)
    }

    #[inline(always)]
    fn g_and_slope<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>) {
        (self.g(simd, v), T::splat(simd, T::from_f64(0.0)))
    }

    /// The boxcar's loss jumps when a phase crosses an edge of the zone: it has no
    /// dL/dDelta, and the sweeps report none (the zero here is never read).
    #[inline(always)]
    fn g_and_ddelta<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>) {
        (self.g(simd, v), T::splat(simd, T::from_f64(0.0)))
    }
}

/// [`Gate::RaisedCosine`], compiled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RaisedCosineKernel<T> {
    half_width: T,
    two_over_width: T,
    inv_width: T,
    /// -2 pi / Delta^2, the factor of sin(2 pi x / Delta) in g'.
    slope: T,
    /// 1 / Delta^2, the factor of dg/dDelta.
    inv_width_squared: T,
}

impl<T: Real> RaisedCosineKernel<T> {
    /// For width `delta`.
    pub fn new(delta: f64) -> Self {
        RaisedCosineKernel {
            half_width: T::from_f64(delta / 2.0),
            two_over_width: T::from_f64(2.0 / delta),
            inv_width: T::from_f64(1.0 / delta),
            slope: T::from_f64(-2.0 * core::f64::consts::PI / (delta * delta)),
            inv_width_squared: T::from_f64(1.0 / (delta * delta)),
        }
    }

    /// (active, y = 2x/Delta), with y in (-1, 1) where active.
    #[inline(always)]
    fn zone<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Mask<S>, T::Lanes<S>) {
        let (x, active) = distance_from_spike::<S, T>(simd, v, self.half_width);
        (active, T::vmul(simd, x, T::splat(simd, self.two_over_width)))
    }
}

impl<T: Real> GateKernel<T> for RaisedCosineKernel<T> {
    #[inline(always)]
    fn g<S: Simd>(self, simd: S, v: T::Lanes<S>) -> T::Lanes<S> {
        let (active, y) = self.zone(simd, v);
        let one = T::splat(simd, T::from_f64(1.0));
        let g = T::vmul(
            simd,
            T::vadd(simd, one, cos_pi::<S, T>(simd, y)),
            T::splat(simd, self.inv_width),
        );
        T::vselect(simd, active, g, T::splat(simd, T::from_f64(0.0)))
    }

    #[inline(always)]
    fn g_and_slope<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>) {
        let (active, y) = self.zone(simd, v);
        let zero = T::splat(simd, T::from_f64(0.0));
        let one = T::splat(simd, T::from_f64(1.0));
        // Outside the zone y may leave [-1, 1]; the value there is discarded.
        let (sin, cos) = sin_cos_pi::<S, T>(simd, y);
        let g = T::vmul(simd, T::vadd(simd, one, cos), T::splat(simd, self.inv_width));
        let slope = T::vmul(simd, sin, T::splat(simd, self.slope));
        (T::vselect(simd, active, g, zero), T::vselect(simd, active, slope, zero))
    }

    /// With u = 2 pi x / Delta = pi y inside the zone:
    /// dg/dDelta = (u sin u - (1 + cos u)) / Delta^2, zero outside (continuous at the
    /// edges, where u = +-pi).
    #[inline(always)]
    fn g_and_ddelta<S: Simd>(self, simd: S, v: T::Lanes<S>) -> (T::Lanes<S>, T::Lanes<S>) {
        let (active, y) = self.zone(simd, v);
        let zero = T::splat(simd, T::from_f64(0.0));
        let one = T::splat(simd, T::from_f64(1.0));
        let (sin, cos) = sin_cos_pi::<S, T>(simd, y);
        let one_plus_cos = T::vadd(simd, one, cos);
        let g = T::vmul(simd, one_plus_cos, T::splat(simd, self.inv_width));
        let u = T::vmul(simd, y, T::splat(simd, T::from_f64(core::f64::consts::PI)));
        let ddelta = T::vmul(
            simd,
            T::vsub(simd, T::vmul(simd, u, sin), one_plus_cos),
            T::splat(simd, self.inv_width_squared),
        );
        (T::vselect(simd, active, g, zero), T::vselect(simd, active, ddelta, zero))
    }
}
