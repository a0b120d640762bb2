//! The hand-vectorised parts, written once over pulp's `Simd` and a [`Real`] type:
//! sin/cos(pi x), wrap, and the two fused elementwise step kernels.
//!
//! Each elementwise kernel is a rule for one register ([`walk::Lanewise`]), run over
//! slices by the one register walk, [`walk::Elementwise`] (a struct implementing
//! `WithSimd`, not a closure, because closures are not reliably inlined into the
//! target-feature context).

pub(crate) mod active;
pub mod atan2;
pub mod backend;
pub(crate) mod columns;
pub mod sincospi;
pub(crate) mod walk;
pub mod wrap;

use crate::gate::GateKernel;
use crate::neuron::Neuron;
use crate::real::Real;
use pulp::Simd;
use walk::{Lanewise, Register};
use wrap::wrap;

/// Constants of one Euler step shared by every neuron, as the kernels use them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StepConstants<T> {
    /// h / tau.
    pub k: T,
    /// 1 - h / tau_s.
    pub decay: T,
    /// 1 / tau_s.
    pub inv_tau_s: T,
}

/// The constants of one register of the state: h/tau, 1 - h/tau_s, 1/tau_s.
#[derive(Clone, Copy)]
pub(crate) struct Rates<L> {
    pub k: L,
    pub decay: L,
    pub inv_tau_s: L,
}

/// Where the kernels read a step's constants: one value for all neurons (splats, which
/// the compiler hoists out of the loop, so the shared case costs nothing), or one per
/// element of the state (docs/model.md section 5's per-neuron tau_j and tau_s,j, tiled
/// over the trials: loads beside the state's).
pub(crate) trait Constants<T: Real>: Copy {
    /// The constants of the whole register of elements starting at `offset`.
    fn register<S: Simd>(&self, simd: S, offset: usize) -> Rates<T::Lanes<S>>;
    /// The constants of the partial register of elements from `offset` to the end.
    fn tail<S: Simd>(&self, simd: S, offset: usize) -> Rates<T::Lanes<S>>;

    /// The constants of the register `at`, whole or the tail.
    #[inline(always)]
    fn at<S: Simd>(&self, simd: S, at: Register) -> Rates<T::Lanes<S>> {
        if at.whole {
            self.register(simd, at.offset)
        } else {
            self.tail(simd, at.offset)
        }
    }
}

impl<T: Real> Constants<T> for StepConstants<T> {
    #[inline(always)]
    fn register<S: Simd>(&self, simd: S, _offset: usize) -> Rates<T::Lanes<S>> {
        Rates {
            k: T::splat(simd, self.k),
            decay: T::splat(simd, self.decay),
            inv_tau_s: T::splat(simd, self.inv_tau_s),
        }
    }

    #[inline(always)]
    fn tail<S: Simd>(&self, simd: S, offset: usize) -> Rates<T::Lanes<S>> {
        self.register(simd, offset)
    }
}

/// One set of constants per element of the state (each slice as long as the state).
#[derive(Debug, Clone, Copy)]
pub(crate) struct PerNeuronConstants<'a, T> {
    /// h / tau_j.
    pub k: &'a [T],
    /// 1 - h / tau_s,j.
    pub decay: &'a [T],
    /// 1 / tau_s,j.
    pub inv_tau_s: &'a [T],
}

impl<T: Real> Constants<T> for PerNeuronConstants<'_, T> {
    #[inline(always)]
    fn register<S: Simd>(&self, _simd: S, offset: usize) -> Rates<T::Lanes<S>> {
        let load = |values: &[T]| T::as_simd::<S>(&values[offset..]).0[0];
        Rates { k: load(self.k), decay: load(self.decay), inv_tau_s: load(self.inv_tau_s) }
    }

    #[inline(always)]
    fn tail<S: Simd>(&self, simd: S, offset: usize) -> Rates<T::Lanes<S>> {
        let load = |values: &[T]| T::partial_load(simd, &values[offset..]);
        Rates { k: load(self.k), decay: load(self.decay), inv_tau_s: load(self.inv_tau_s) }
    }
}

/// Elements of `T` in one register of `S`.
#[inline(always)]
pub(crate) fn lanes<S: Simd, T: Real>() -> usize {
    core::mem::size_of::<T::Lanes<S>>() / core::mem::size_of::<T>()
}

/// x, or zero where |x| is below the smallest normal number: subnormal values cost
/// the floating-point unit a hundred cycles an operation, and a state or costate that
/// decays for thousands of steps reaches them (docs/benchmarks.md, "Thresholds", times the
/// difference). A change below the smallest normal number is below the
/// rounding of any sum it joins. NaN is kept (the finite checks see it).
#[inline(always)]
pub(crate) fn flush_subnormal<S: Simd, T: Real>(simd: S, x: T::Lanes<S>) -> T::Lanes<S> {
    let tiny = T::vless(simd, T::vabs(simd, x), T::splat(simd, T::MIN_POSITIVE));
    T::vselect(simd, tiny, T::splat(simd, T::from_f64(0.0)), x)
}

/// The elementwise part of one forward step (docs/model.md sections 2 and 9), given I_t:
/// dv = Delta_v(v, I; h/tau) (Euler: (h/tau) f(v, I)); v_next = wrap(v + dv);
/// s_next = (1 - h/tau_s) s + g(v) dv / tau_s.
///
/// Inputs `[v, s, I]`, outputs `[v_next, s_next]`, checked finite.
#[derive(Clone, Copy)]
pub(crate) struct ForwardRule<N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> Lanewise<T, 3, 2>
    for ForwardRule<N, G, C>
{
    const CHECKED: bool = true;

    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        at: Register,
        [v, s, current]: [T::Lanes<S>; 3],
        _: [T::Lanes<S>; 2],
    ) -> [T::Lanes<S>; 2] {
        let c = self.c.at(simd, at);
        let dv = self.neuron.increment::<S, T>(simd, v, current, c.k);
        let v_next = wrap::<S, T>(simd, T::vadd(simd, v, dv));
        let deposit = T::vmul(simd, T::vmul(simd, self.gate.g(simd, v), dv), c.inv_tau_s);
        let s_next = flush_subnormal::<S, T>(simd, T::vfma(simd, c.decay, s, deposit));
        [v_next, s_next]
    }
}

/// The elementwise part of one reverse step (docs/model.md sections 3 and 9), given
/// lam_v_{t+1} (in `lam_v`, overwritten by lam_v_t), lam_s_{t+1} and d_t, with the step
/// map's increment dv_t and partials (Euler: (h/tau) df/dI and (h/tau) df/dv):
///
/// ```text
/// a     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
/// e_t   = dDelta_v/dI(v_t, I_t) a
/// lam_v = lam_v_{t+1} + dDelta_v/dv(v_t, I_t) a + g'(v_t) dv_t lam_s_{t+1} / tau_s
/// lam_s = (1 - h/tau_s) lam_s_{t+1} + d_t          (W^T e_t is the caller's GEMM)
/// ```
///
/// Inputs `[v_t, I_t, lam_s_{t+1}, d_t]`, outputs `[lam_v, e_t, lam_s]`, checked finite
/// (lam_s is not finite whenever lam_s_{t+1} is not, so that input is checked too).
#[derive(Clone, Copy)]
pub(crate) struct ReverseRule<N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> Lanewise<T, 4, 3>
    for ReverseRule<N, G, C>
{
    const CHECKED: bool = true;

    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        at: Register,
        [v, current, lam_s_next, d]: [T::Lanes<S>; 4],
        [lam_v, _, _]: [T::Lanes<S>; 3],
    ) -> [T::Lanes<S>; 3] {
        let c = self.c.at(simd, at);
        let step = self.neuron.increment_and_partials::<S, T>(simd, v, current, c.k);
        let (g, slope) = self.gate.g_and_slope(simd, v);
        let lam_s_scaled = T::vmul(simd, lam_s_next, c.inv_tau_s);
        let a = T::vfma(simd, g, lam_s_scaled, lam_v);
        let e = T::vmul(simd, step.d_i, a);
        let through_gate = T::vfma(simd, T::vmul(simd, slope, step.delta), lam_s_scaled, lam_v);
        let lam_v = T::vfma(simd, step.d_v, a, through_gate);
        let lam_s = T::vfma(simd, c.decay, lam_s_next, d);
        // Each call written out: a closure through `array::map` is not reliably inlined
        // into the target-feature context.
        [
            flush_subnormal::<S, T>(simd, lam_v),
            flush_subnormal::<S, T>(simd, e),
            flush_subnormal::<S, T>(simd, lam_s),
        ]
    }
}

/// One reverse step's share of the gradients of the constants (docs/model.md sections 7
/// and 9), per element, given v_t, s_t, I_t, lam_v_{t+1} and lam_s_{t+1} (run before the
/// reverse kernel overwrites lam_v_{t+1}), with r = h/tau:
///
/// ```text
/// dv_t      = Delta_v(v_t, I_t; r),  a_t = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
/// sum_tau   += a_t r dDelta_v/dr  (Euler: a_t dv_t)     (dL/dtau_j = -sum_tau / tau_j)
/// sum_tau_s += lam_s_{t+1} (h s_t - g(v_t) dv_t)         (dL/dtau_s,j = sum_tau_s / tau_s,j^2)
/// sum_delta += lam_s_{t+1} dg/dDelta(v_t) dv_t / tau_s    (dL/dDelta = sum of sum_delta)
/// ```
///
/// Inputs `[v_t, s_t, I_t, lam_v_{t+1}, lam_s_{t+1}]`, outputs (added to)
/// `[sum_tau, sum_tau_s, sum_delta]`, not checked.
#[derive(Clone, Copy)]
pub(crate) struct ConstantsRule<T, N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
    pub h: T,
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> Lanewise<T, 5, 3>
    for ConstantsRule<T, N, G, C>
{
    const CHECKED: bool = false;

    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        at: Register,
        [v, s, current, lam_v_next, lam_s_next]: [T::Lanes<S>; 5],
        [tau, tau_s, delta]: [T::Lanes<S>; 3],
    ) -> [T::Lanes<S>; 3] {
        let c = self.c.at(simd, at);
        let step = self.neuron.increment_and_partials::<S, T>(simd, v, current, c.k);
        let dv = step.delta;
        let (g, dg_ddelta) = self.gate.g_and_ddelta(simd, v);
        let lam_s_scaled = T::vmul(simd, lam_s_next, c.inv_tau_s);
        let a = T::vfma(simd, g, lam_s_scaled, lam_v_next);
        let g_dv = T::vmul(simd, g, dv);
        let leak = T::vsub(simd, T::vmul(simd, T::splat(simd, self.h), s), g_dv);
        [
            T::vfma(simd, a, step.d_log_r, tau),
            T::vfma(simd, lam_s_next, leak, tau_s),
            T::vfma(simd, T::vmul(simd, lam_s_scaled, dg_ddelta), dv, delta),
        ]
    }
}

/// sin(pi x) and cos(pi x) (for tests and benchmarks of the polynomial): inputs `[x]`,
/// outputs `[sin, cos]`.
#[derive(Clone, Copy)]
pub(crate) struct SinCosPiRule;

impl<T: Real> Lanewise<T, 1, 2> for SinCosPiRule {
    const CHECKED: bool = false;

    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        _: Register,
        [x]: [T::Lanes<S>; 1],
        _: [T::Lanes<S>; 2],
    ) -> [T::Lanes<S>; 2] {
        let (sin, cos) = sincospi::sin_cos_pi::<S, T>(simd, x);
        [sin, cos]
    }
}

/// atan2(y, x) (for tests and benchmarks of the polynomial): inputs `[y, x]`, outputs
/// `[angle]`.
#[derive(Clone, Copy)]
pub(crate) struct Atan2Rule;

impl<T: Real> Lanewise<T, 2, 1> for Atan2Rule {
    const CHECKED: bool = false;

    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        _: Register,
        [y, x]: [T::Lanes<S>; 2],
        _: [T::Lanes<S>; 1],
    ) -> [T::Lanes<S>; 1] {
        [atan2::atan2::<S, T>(simd, y, x)]
    }
}
