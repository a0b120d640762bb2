//! The column operations of the activity-sparse sweeps (docs/model.md section 8): one
//! column of the recurrent matrix per active (neuron, trial) pair, read as a row of its
//! transpose (contiguous). The forward sweep adds q W[:, j] to a trial's y; the reverse
//! sweep reads lam_s = W[:, j] . E and adds q E into row j of dL/dW^T, in one pass.
//! One dispatch per step, not per pair.

use crate::gate::distance_from_spike;
use crate::real::Real;
use pulp::{Simd, WithSimd};

/// The indices of the phases `v` in the gate's active zone |wrap(v - 1)| < Delta/2,
/// pushed onto `zone` in order: the same lane operations as the gates' own test, so the
/// same set the step kernels see.
pub(crate) struct ZoneScan<'a, T> {
    pub v: &'a [T],
    pub half_width: T,
    pub zone: &'a mut Vec<u32>,
}

impl<T: Real> WithSimd for ZoneScan<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (head, tail) = T::as_simd::<S>(self.v);
        let width = super::lanes::<S, T>();
        let (one, zero) = (T::splat(simd, T::from_f64(1.0)), T::splat(simd, T::from_f64(0.0)));
        let mut push = |flags: T::Lanes<S>, offset: usize, len: usize| {
            // Most registers hold no active lane: one branch-free test of the bits each
            // (a flag is 1.0 or +0.0).
            let bits = bytemuck::cast_slice::<T::Lanes<S>, u32>(core::slice::from_ref(&flags));
            if bits.iter().fold(0, |any, &word| any | word) != 0 {
                let flags = bytemuck::cast_slice::<T::Lanes<S>, T>(core::slice::from_ref(&flags));
                for (lane, &f) in flags[..len].iter().enumerate() {
                    if f != T::from_f64(0.0) {
                        self.zone.push((offset + lane) as u32);
                    }
                }
            }
        };
        for (r, &v) in head.iter().enumerate() {
            let (_, active) = distance_from_spike::<S, T>(simd, v, self.half_width);
            push(T::vselect(simd, active, one, zero), r * width, width);
        }
        if !tail.is_empty() {
            let v = T::partial_load(simd, tail);
            let (_, active) = distance_from_spike::<S, T>(simd, v, self.half_width);
            push(T::vselect(simd, active, one, zero), head.len() * width, tail.len());
        }
    }
}

/// One active (neuron j, trial b) pair of a step: row `row` = j of W^T, the offset of
/// the trial's column of length N in the vector it meets (y or E), and the
/// coefficient q (the synaptic increment q_t, or s_0 for the final term).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ActivePair<T> {
    pub row: u32,
    pub column: u32,
    pub q: T,
}

/// y[column..][..n] += q rows[row]: y_{t+1} += W q_t, over the pairs of a step.
pub(crate) struct ScatterColumns<'a, T> {
    pub rows: &'a [T],
    pub n: usize,
    pub pairs: &'a [ActivePair<T>],
    pub y: &'a mut [T],
}

impl<T: Real> WithSimd for ScatterColumns<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let n = self.n;
        for pair in self.pairs {
            let column = &self.rows[pair.row as usize * n..][..n];
            let y = &mut self.y[pair.column as usize..][..n];
            axpy::<S, T>(simd, pair.q, column, y);
        }
    }
}

/// For each pair: dots[p] = rows[row] . e[column..][..n], and, where q != 0,
/// dw_rows[row] += q e[column..][..n]: lam_s (less D) at the pair and its share
/// E_{t+1} q_t^T of dL/dW, reading E's column once.
pub(crate) struct GatherColumns<'a, T> {
    pub rows: &'a [T],
    pub n: usize,
    pub pairs: &'a [ActivePair<T>],
    pub e: &'a [T],
    pub dw_rows: &'a mut [T],
    pub dots: &'a mut [T],
}

impl<T: Real> WithSimd for GatherColumns<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let n = self.n;
        for (pair, dot_out) in self.pairs.iter().zip(self.dots.iter_mut()) {
            let row = pair.row as usize * n;
            let e = &self.e[pair.column as usize..][..n];
            *dot_out = dot::<S, T>(simd, &self.rows[row..][..n], e);
            if pair.q != T::from_f64(0.0) {
                axpy::<S, T>(simd, pair.q, e, &mut self.dw_rows[row..][..n]);
            }
        }
    }
}

/// y += a x over whole registers, then the tail element by element.
#[inline(always)]
fn axpy<S: Simd, T: Real>(simd: S, a: T, x: &[T], y: &mut [T]) {
    let (x_head, x_tail) = T::as_simd::<S>(x);
    let (y_head, y_tail) = T::as_mut_simd::<S>(y);
    let a_lanes = T::splat(simd, a);
    for (y, x) in y_head.iter_mut().zip(x_head) {
        *y = T::vfma(simd, a_lanes, *x, *y);
    }
    for (y, &x) in y_tail.iter_mut().zip(x_tail) {
        *y += a * x;
    }
}

/// x . y with four register accumulators (summed in a fixed order, so the result does
/// not depend on anything but the inputs), then the tail.
#[inline(always)]
fn dot<S: Simd, T: Real>(simd: S, x: &[T], y: &[T]) -> T {
    let (x_head, x_tail) = T::as_simd::<S>(x);
    let (y_head, y_tail) = T::as_simd::<S>(y);
    let zero = T::splat(simd, T::from_f64(0.0));
    let mut acc = [zero; 4];
    let mut x_blocks = x_head.chunks_exact(4);
    let mut y_blocks = y_head.chunks_exact(4);
    for (x, y) in (&mut x_blocks).zip(&mut y_blocks) {
        for r in 0..4 {
            acc[r] = T::vfma(simd, x[r], y[r], acc[r]);
        }
    }
    for (&x, &y) in x_blocks.remainder().iter().zip(y_blocks.remainder()) {
        acc[0] = T::vfma(simd, x, y, acc[0]);
    }
    let pairs = [T::vadd(simd, acc[0], acc[1]), T::vadd(simd, acc[2], acc[3])];
    let total = T::vadd(simd, pairs[0], pairs[1]);
    let mut sum = T::from_f64(0.0);
    for &lane in bytemuck::cast_slice::<T::Lanes<S>, T>(core::slice::from_ref(&total)) {
        sum += lane;
    }
    for (&x, &y) in x_tail.iter().zip(y_tail) {
        sum += x * y;
    }
    sum
}
