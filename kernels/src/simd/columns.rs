//! y += A x for a narrow x (a few trials), as a sum of scaled rows: y_b += sum_j x_{j,b}
//! a_j, where a_j (row j of the row-major k x m array `rows`) is contiguous. No
//! horizontal reductions, A streamed once per block of y: at N = 128, B = 1 this runs
//! the per-step product in about half of faer's time (the `S1` benchmark), where a
//! single trial's step is latency-bound.

use crate::real::Real;
use pulp::{Simd, WithSimd};

/// Registers of y kept in flight per pass over A.
const BLOCK: usize = 8;

pub(crate) struct AccumulateRows<'a, T> {
    /// k rows of length m, row-major.
    pub rows: &'a [T],
    /// k x b, column-major (each trial's k values contiguous).
    pub x: &'a [T],
    /// m x b, column-major.
    pub y: &'a mut [T],
    pub m: usize,
    pub k: usize,
}

impl<T: Real> WithSimd for AccumulateRows<'_, T> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let (m, k) = (self.m, self.k);
        let rows = self.rows;
        let row = |j: usize| T::as_simd::<S>(&rows[j * m..][..m]).0;
        for (y, x) in self.y.chunks_exact_mut(m).zip(self.x.chunks_exact(k)) {
            let (y_head, y_tail) = T::as_mut_simd::<S>(y);
            let registers = y_head.len();
            // Full blocks: a fixed-size accumulator that stays in registers.
            let mut blocks = y_head.chunks_exact_mut(BLOCK);
            for (block_index, y_block) in (&mut blocks).enumerate() {
                let offset = block_index * BLOCK;
                let mut acc: [T::Lanes<S>; BLOCK] = core::array::from_fn(|r| y_block[r]);
                for (j, &xj) in x.iter().enumerate() {
                    let a = &row(j)[offset..offset + BLOCK];
                    let xj = T::splat(simd, xj);
                    for r in 0..BLOCK {
                        acc[r] = T::vfma(simd, a[r], xj, acc[r]);
                    }
                }
                y_block.copy_from_slice(&acc);
            }
            // Leftover registers, one at a time.
            let done = registers - blocks.into_remainder().len();
            for (register, y) in y_head.iter_mut().enumerate().skip(done) {
                let mut acc = *y;
                for (j, &xj) in x.iter().enumerate() {
                    acc = T::vfma(simd, row(j)[register], T::splat(simd, xj), acc);
                }
                *y = acc;
            }
            // Leftover elements.
            let start = m - y_tail.len();
            for (i, yi) in y_tail.iter_mut().enumerate() {
                let mut sum = *yi;
                for (j, &xj) in x.iter().enumerate() {
                    sum += rows[j * m + start + i] * xj;
                }
                *yi = sum;
            }
        }
    }
}
