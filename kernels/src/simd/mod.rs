//! The hand-vectorised parts, written once over pulp's `Simd` and a [`Real`] type:
//! sin/cos(pi x), wrap, and the two fused elementwise step kernels.
//!
//! Each kernel is a struct implementing `WithSimd` (structs, not closures, because
//! closures are not reliably inlined into the target-feature context). The body walks
//! whole registers; the tail goes through `partial_load` / `partial_store`, so it takes
//! exactly the same numeric path. Each kernel also returns whether every output is
//! finite, from a running sum of (x - x) that is 0 for finite x and NaN otherwise: the
//! check costs two operations per output, not a second pass.

pub(crate) mod active;
pub mod atan2;
pub mod backend;
pub(crate) mod columns;
pub mod sincospi;
pub mod wrap;

use crate::gate::GateKernel;
use crate::neuron::Neuron;
use crate::real::Real;
use pulp::{Simd, WithSimd};
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

/// Whether every lane of an accumulator of (x - x) terms is still zero.
#[inline(always)]
fn all_zero<S: Simd, T: Real>(acc: T::Lanes<S>) -> bool {
    bytemuck::cast_slice::<T::Lanes<S>, T>(core::slice::from_ref(&acc))
        .iter()
        .all(|&x| x == T::from_f64(0.0))
}

/// x, or zero where |x| is below the smallest normal number: subnormal values cost
/// the floating-point unit a hundred cycles an operation, and a state or costate that
/// decays for thousands of steps reaches them (A1's dense gradient ran 1.4-1.75x slower:
/// README "Benchmarks"). A change below the smallest normal number is below the
/// rounding of any sum it joins. NaN is kept (the finite checks see it).
#[inline(always)]
pub(crate) fn flush_subnormal<S: Simd, T: Real>(simd: S, x: T::Lanes<S>) -> T::Lanes<S> {
    let tiny = T::vless(simd, T::vabs(simd, x), T::splat(simd, T::MIN_POSITIVE));
    T::vselect(simd, tiny, T::splat(simd, T::from_f64(0.0)), x)
}

/// Adds (x - x) to `acc`: NaN from then on if x is not finite.
#[inline(always)]
fn track<S: Simd, T: Real>(simd: S, acc: T::Lanes<S>, x: T::Lanes<S>) -> T::Lanes<S> {
    T::vadd(simd, acc, T::vsub(simd, x, x))
}

/// The elementwise part of one forward step (docs/model.md sections 2 and 9), given I_t:
/// dv = Delta_v(v, I; h/tau) (Euler: (h/tau) f(v, I)); v_next = wrap(v + dv);
/// s_next = (1 - h/tau_s) s + g(v) dv / tau_s.
pub(crate) struct ForwardKernel<'a, T: Real, N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
    pub v: &'a [T],
    pub s: &'a [T],
    pub current: &'a [T],
    pub v_next: &'a mut [T],
    pub s_next: &'a mut [T],
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> ForwardKernel<'_, T, N, G, C> {
    #[inline(always)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        c: Rates<T::Lanes<S>>,
        v: T::Lanes<S>,
        s: T::Lanes<S>,
        current: T::Lanes<S>,
    ) -> (T::Lanes<S>, T::Lanes<S>) {
        let dv = self.neuron.increment::<S, T>(simd, v, current, c.k);
        let v_next = wrap::<S, T>(simd, T::vadd(simd, v, dv));
        let deposit = T::vmul(simd, T::vmul(simd, self.gate.g(simd, v), dv), c.inv_tau_s);
        let s_next = flush_subnormal::<S, T>(simd, T::vfma(simd, c.decay, s, deposit));
        (v_next, s_next)
    }
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> WithSimd
    for ForwardKernel<'_, T, N, G, C>
{
    /// Whether every output is finite.
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let (v, v_tail) = T::as_simd::<S>(self.v);
        let (s, s_tail) = T::as_simd::<S>(self.s);
        let (current, current_tail) = T::as_simd::<S>(self.current);
        // Safe to split the outputs while `self` still borrows them immutably for
        // `lanes`: move them out first.
        let this = ForwardKernel { v_next: &mut [], s_next: &mut [], ..self };
        let (v_next, v_next_tail) = T::as_mut_simd::<S>(self.v_next);
        let (s_next, s_next_tail) = T::as_mut_simd::<S>(self.s_next);
        let mut acc = T::splat(simd, T::from_f64(0.0));
        let width = lanes::<S, T>();
        let body = v.iter().zip(s).zip(current).zip(v_next.iter_mut()).zip(s_next.iter_mut());
        for (r, ((((v, s), current), v_next), s_next)) in body.enumerate() {
            let c = this.c.register(simd, r * width);
            let (vn, sn) = this.lanes(simd, c, *v, *s, *current);
            *v_next = vn;
            *s_next = sn;
            acc = track::<S, T>(simd, track::<S, T>(simd, acc, vn), sn);
        }
        if !v_tail.is_empty() {
            let (vn, sn) = this.lanes(
                simd,
                this.c.tail(simd, v.len() * width),
                T::partial_load(simd, v_tail),
                T::partial_load(simd, s_tail),
                T::partial_load(simd, current_tail),
            );
            T::partial_store(simd, v_next_tail, vn);
            T::partial_store(simd, s_next_tail, sn);
            // Lanes past the tail hold the image of zeros: finite, so harmless here.
            acc = track::<S, T>(simd, track::<S, T>(simd, acc, vn), sn);
        }
        all_zero::<S, T>(acc)
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
pub(crate) struct ReverseKernel<'a, T: Real, N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
    pub v: &'a [T],
    pub current: &'a [T],
    pub lam_s_next: &'a [T],
    pub d: &'a [T],
    pub lam_v: &'a mut [T],
    pub e: &'a mut [T],
    pub lam_s: &'a mut [T],
}

/// Inputs and outputs of one register of the reverse step.
struct ReverseLanes<L> {
    e: L,
    lam_v: L,
    lam_s: L,
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> ReverseKernel<'_, T, N, G, C> {
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        c: Rates<T::Lanes<S>>,
        v: T::Lanes<S>,
        current: T::Lanes<S>,
        lam_v: T::Lanes<S>,
        lam_s_next: T::Lanes<S>,
        d: T::Lanes<S>,
    ) -> ReverseLanes<T::Lanes<S>> {
        let step = self.neuron.increment_and_partials::<S, T>(simd, v, current, c.k);
        let (g, slope) = self.gate.g_and_slope(simd, v);
        let lam_s_scaled = T::vmul(simd, lam_s_next, c.inv_tau_s);
        let a = T::vfma(simd, g, lam_s_scaled, lam_v);
        let e = T::vmul(simd, step.d_i, a);
        let through_gate = T::vfma(simd, T::vmul(simd, slope, step.delta), lam_s_scaled, lam_v);
        let lam_v = T::vfma(simd, step.d_v, a, through_gate);
        let lam_s = T::vfma(simd, c.decay, lam_s_next, d);
        let flush = |x| flush_subnormal::<S, T>(simd, x);
        ReverseLanes { e: flush(e), lam_v: flush(lam_v), lam_s: flush(lam_s) }
    }
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> WithSimd
    for ReverseKernel<'_, T, N, G, C>
{
    /// Whether every output, and the input lam_s_{t+1}, is finite.
    type Output = bool;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> bool {
        let (v, v_tail) = T::as_simd::<S>(self.v);
        let (current, current_tail) = T::as_simd::<S>(self.current);
        let (lam_s_next, lam_s_next_tail) = T::as_simd::<S>(self.lam_s_next);
        let (d, d_tail) = T::as_simd::<S>(self.d);
        let this = ReverseKernel { lam_v: &mut [], e: &mut [], lam_s: &mut [], ..self };
        let (lam_v, lam_v_tail) = T::as_mut_simd::<S>(self.lam_v);
        let (e, e_tail) = T::as_mut_simd::<S>(self.e);
        let (lam_s, lam_s_tail) = T::as_mut_simd::<S>(self.lam_s);
        let mut acc = T::splat(simd, T::from_f64(0.0));
        let body = v
            .iter()
            .zip(current)
            .zip(lam_s_next)
            .zip(d)
            .zip(lam_v.iter_mut())
            .zip(e.iter_mut())
            .zip(lam_s.iter_mut());
        let width = lanes::<S, T>();
        for (r, ((((((v, current), lam_s_next), d), lam_v), e), lam_s)) in body.enumerate() {
            let c = this.c.register(simd, r * width);
            let out = this.lanes(simd, c, *v, *current, *lam_v, *lam_s_next, *d);
            *lam_v = out.lam_v;
            *e = out.e;
            *lam_s = out.lam_s;
            acc = track::<S, T>(simd, acc, *lam_s_next);
            acc = track::<S, T>(simd, track::<S, T>(simd, acc, out.lam_v), out.e);
            acc = track::<S, T>(simd, acc, out.lam_s);
        }
        if !v_tail.is_empty() {
            let lam_s_next = T::partial_load(simd, lam_s_next_tail);
            let out = this.lanes(
                simd,
                this.c.tail(simd, v.len() * width),
                T::partial_load(simd, v_tail),
                T::partial_load(simd, current_tail),
                T::partial_load(simd, lam_v_tail),
                lam_s_next,
                T::partial_load(simd, d_tail),
            );
            T::partial_store(simd, lam_v_tail, out.lam_v);
            T::partial_store(simd, e_tail, out.e);
            T::partial_store(simd, lam_s_tail, out.lam_s);
            acc = track::<S, T>(simd, acc, lam_s_next);
            acc = track::<S, T>(simd, track::<S, T>(simd, acc, out.lam_v), out.e);
            acc = track::<S, T>(simd, acc, out.lam_s);
        }
        all_zero::<S, T>(acc)
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
pub(crate) struct ConstantsKernel<'a, T: Real, N, G, C> {
    pub neuron: N,
    pub gate: G,
    pub c: C,
    pub h: T,
    pub v: &'a [T],
    pub s: &'a [T],
    pub current: &'a [T],
    pub lam_v_next: &'a [T],
    pub lam_s_next: &'a [T],
    pub sum_tau: &'a mut [T],
    pub sum_tau_s: &'a mut [T],
    pub sum_delta: &'a mut [T],
}

/// The three running sums of one register.
struct ConstantSums<L> {
    tau: L,
    tau_s: L,
    delta: L,
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> ConstantsKernel<'_, T, N, G, C> {
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn lanes<S: Simd>(
        &self,
        simd: S,
        c: Rates<T::Lanes<S>>,
        v: T::Lanes<S>,
        s: T::Lanes<S>,
        current: T::Lanes<S>,
        lam_v_next: T::Lanes<S>,
        lam_s_next: T::Lanes<S>,
        sums: ConstantSums<T::Lanes<S>>,
    ) -> ConstantSums<T::Lanes<S>> {
        let step = self.neuron.increment_and_partials::<S, T>(simd, v, current, c.k);
        let dv = step.delta;
        let (g, dg_ddelta) = self.gate.g_and_ddelta(simd, v);
        let lam_s_scaled = T::vmul(simd, lam_s_next, c.inv_tau_s);
        let a = T::vfma(simd, g, lam_s_scaled, lam_v_next);
        let g_dv = T::vmul(simd, g, dv);
        let leak = T::vsub(simd, T::vmul(simd, T::splat(simd, self.h), s), g_dv);
        ConstantSums {
            tau: T::vfma(simd, a, step.d_log_r, sums.tau),
            tau_s: T::vfma(simd, lam_s_next, leak, sums.tau_s),
            delta: T::vfma(simd, T::vmul(simd, lam_s_scaled, dg_ddelta), dv, sums.delta),
        }
    }
}

impl<T: Real, N: Neuron, G: GateKernel<T>, C: Constants<T>> WithSimd
    for ConstantsKernel<'_, T, N, G, C>
{
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (v, v_tail) = T::as_simd::<S>(self.v);
        let (s, s_tail) = T::as_simd::<S>(self.s);
        let (current, current_tail) = T::as_simd::<S>(self.current);
        let (lam_v_next, lam_v_next_tail) = T::as_simd::<S>(self.lam_v_next);
        let (lam_s_next, lam_s_next_tail) = T::as_simd::<S>(self.lam_s_next);
        let this =
            ConstantsKernel { sum_tau: &mut [], sum_tau_s: &mut [], sum_delta: &mut [], ..self };
        let (tau, tau_tail) = T::as_mut_simd::<S>(self.sum_tau);
        let (tau_s, tau_s_tail) = T::as_mut_simd::<S>(self.sum_tau_s);
        let (delta, delta_tail) = T::as_mut_simd::<S>(self.sum_delta);
        let width = lanes::<S, T>();
        let body = v
            .iter()
            .zip(s)
            .zip(current)
            .zip(lam_v_next)
            .zip(lam_s_next)
            .zip(tau.iter_mut())
            .zip(tau_s.iter_mut())
            .zip(delta.iter_mut());
        for (r, (((((((v, s), current), lam_v), lam_s), tau), tau_s), delta)) in body.enumerate() {
            let c = this.c.register(simd, r * width);
            let sums = ConstantSums { tau: *tau, tau_s: *tau_s, delta: *delta };
            let out = this.lanes(simd, c, *v, *s, *current, *lam_v, *lam_s, sums);
            (*tau, *tau_s, *delta) = (out.tau, out.tau_s, out.delta);
        }
        if !v_tail.is_empty() {
            let sums = ConstantSums {
                tau: T::partial_load(simd, tau_tail),
                tau_s: T::partial_load(simd, tau_s_tail),
                delta: T::partial_load(simd, delta_tail),
            };
            let out = this.lanes(
                simd,
                this.c.tail(simd, v.len() * width),
                T::partial_load(simd, v_tail),
                T::partial_load(simd, s_tail),
                T::partial_load(simd, current_tail),
                T::partial_load(simd, lam_v_next_tail),
                T::partial_load(simd, lam_s_next_tail),
                sums,
            );
            T::partial_store(simd, tau_tail, out.tau);
            T::partial_store(simd, tau_s_tail, out.tau_s);
            T::partial_store(simd, delta_tail, out.delta);
        }
    }
}

/// sin(pi x) and cos(pi x) over slices (for tests and benchmarks of the polynomial).
pub(crate) struct SinCosPiKernel<'a, T> {
    pub x: &'a [T],
    pub sin: &'a mut [T],
    pub cos: &'a mut [T],
}

impl<T: Real> WithSimd for SinCosPiKernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (x, x_tail) = T::as_simd::<S>(self.x);
        let (sin, sin_tail) = T::as_mut_simd::<S>(self.sin);
        let (cos, cos_tail) = T::as_mut_simd::<S>(self.cos);
        for ((x, sin), cos) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
            (*sin, *cos) = sincospi::sin_cos_pi::<S, T>(simd, *x);
        }
        if !x_tail.is_empty() {
            let (s, c) = sincospi::sin_cos_pi::<S, T>(simd, T::partial_load(simd, x_tail));
            T::partial_store(simd, sin_tail, s);
            T::partial_store(simd, cos_tail, c);
        }
    }
}

/// atan2(y, x) over slices (for tests and benchmarks of the polynomial).
pub(crate) struct Atan2Kernel<'a, T> {
    pub y: &'a [T],
    pub x: &'a [T],
    pub angle: &'a mut [T],
}

impl<T: Real> WithSimd for Atan2Kernel<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (y, y_tail) = T::as_simd::<S>(self.y);
        let (x, x_tail) = T::as_simd::<S>(self.x);
        let (angle, angle_tail) = T::as_mut_simd::<S>(self.angle);
        for ((y, x), angle) in y.iter().zip(x).zip(angle.iter_mut()) {
            *angle = atan2::atan2::<S, T>(simd, *y, *x);
        }
        if !y_tail.is_empty() {
            let (y, x) = (T::partial_load(simd, y_tail), T::partial_load(simd, x_tail));
            T::partial_store(simd, angle_tail, atan2::atan2::<S, T>(simd, y, x));
        }
    }
}
