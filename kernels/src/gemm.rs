//! The matrix products, through faer, into preallocated buffers; and the choice between
//! one thread and several for each of them. Tuning internals: not part of the public
//! API (the benchmarks reach them through the `internals` feature, to time exactly the
//! products a sweep performs).

use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Below this many flops per product, a hand-off to the thread pool (microseconds) costs
/// more than the second core saves: a product this small is latency-bound
/// (docs/benchmarks.md, "Thresholds").
pub const PARALLEL_MIN_FLOPS: usize = 1 << 21;

/// Columns (trials x steps) per block of the weight-gradient products: summing e_t s_t^T
/// over many columns in one GEMM runs at a GEMM's rate, not at rank-1 updates' memory-bound
/// one (docs/benchmarks.md, "Thresholds"); 256 keeps a block of e_t within L2 at N = 256.
pub const BLOCK_COLUMNS: usize = 256;

/// Steps per block of the reverse sweep's gradient products for a batch of `b` trials
/// and `steps` steps: `BLOCK_COLUMNS` columns, at least one step, at most all.
pub fn block_steps(b: usize, steps: usize) -> usize {
    (BLOCK_COLUMNS / b).clamp(1, steps)
}

/// Whether the per-step products (N x N by N x B) go through the row-accumulating SIMD
/// kernel instead of faer: for one or two trials, where a step is latency-bound and
/// faer's per-call overhead dominates (the `S1` benchmark times it).
pub fn use_rows_kernel(n: usize, b: usize) -> bool {
    b <= 2 && 2 * n * n * b < PARALLEL_MIN_FLOPS
}

/// The threads a whole sweep may use: `threads`, or 1 when its per-step products
/// (N x N by N x B) are too small to share. Such a sweep is latency-bound, and waking
/// the pool for its occasional block products slows the steps around them more than the
/// products gain (docs/benchmarks.md, "Thresholds").
pub fn sweep_threads(threads: usize, n: usize, b: usize) -> usize {
    if 2 * n * n * b < PARALLEL_MIN_FLOPS {
        1
    } else {
        threads
    }
}

/// `Par::Seq`, or `Par::rayon(threads)` when the product `m x k` by `k x n` is big
/// enough for threads to pay.
pub fn par(threads: usize, m: usize, n: usize, k: usize) -> Par {
    if threads > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS {
        Par::rayon(threads)
    } else {
        Par::Seq
    }
}

/// The per-step product y += A x of a sweep (A = W in the forward sweep, W^T in the
/// reverse one; x and y are N x B, column-major), by the row-accumulating SIMD kernel
/// for narrow batches ([`use_rows_kernel`]) or by faer.
#[derive(Clone, Copy)]
pub(crate) enum StepProduct<'a, T: Real> {
    /// A^T row-major (N rows of length N), and N.
    Rows(&'a [T], usize),
    /// A as a faer view, and the threads a product may use.
    Gemm(MatRef<'a, T>, usize),
}

impl<T: Real> StepProduct<'_, T> {
    /// y += A x.
    #[inline]
    pub fn add(&self, backend: crate::Backend, x: &[T], y: &mut [T]) {
        match *self {
            StepProduct::Rows(rows, n) => {
                debug_assert!(rows.len() == n * n && x.len() % n == 0 && y.len() == x.len());
                let (m, k) = (n, n);
                backend.dispatch(crate::simd::columns::AccumulateRows { rows, x, y, m, k })
            }
            StepProduct::Gemm(a, threads) => {
                let b = x.len() / a.ncols();
                product(
                    threads,
                    col_major_mut(y, a.nrows(), b),
                    Accum::Add,
                    a,
                    col_major(x, a.ncols(), b),
                )
            }
        }
    }
}

/// Column-major `rows x cols` view.
pub(crate) fn col_major<T: Real>(data: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice(data, rows, cols)
}

/// Column-major `rows x cols` mutable view.
pub(crate) fn col_major_mut<T: Real>(data: &mut [T], rows: usize, cols: usize) -> MatMut<'_, T> {
    MatMut::from_column_major_slice_mut(data, rows, cols)
}

/// Row-major (numpy C order) `rows x cols` view: the transpose of a column-major one.
pub(crate) fn row_major<T: Real>(data: &[T], rows: usize, cols: usize) -> MatRef<'_, T> {
    MatRef::from_column_major_slice(data, cols, rows).transpose()
}

/// dst = lhs rhs (`accum` = Replace) or dst += lhs rhs (`Add`), on at most `threads`
/// threads, fewer if the product is too small for threads to pay (`par`).
pub fn product<T: Real>(
    threads: usize,
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) {
    let par = par(threads, dst.nrows(), dst.ncols(), lhs.ncols());
    matmul(dst, accum, lhs, rhs, T::from_f64(1.0), par);
}
