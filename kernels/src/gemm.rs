//! The matrix products, through faer, into preallocated buffers; and the choice between
//! one thread and both for each of them.

use crate::real::Real;
use faer::linalg::matmul::matmul;
use faer::{Accum, MatMut, MatRef, Par};

/// Below this many flops per product, a rayon hand-off (~7 us measured here) costs more
/// than the second core saves (`shared/MEASURED.md`: W s at N = 128-256, B = 1 runs at
/// ~35 GFLOP/s on one core and ~18 on two).
pub(crate) const PARALLEL_MIN_FLOPS: usize = 1 << 21;

/// `Par::Seq`, or `Par::rayon(threads)` when the product `m x k` by `k x n` is big
/// enough for threads to pay.
pub(crate) fn par(threads: usize, m: usize, n: usize, k: usize) -> Par {
    if threads > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS {
        Par::rayon(threads)
    } else {
        Par::Seq
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

/// dst = lhs rhs (`accum` = Replace) or dst += lhs rhs (`Add`), with threads chosen by size.
pub(crate) fn product<T: Real>(
    threads: usize,
    dst: MatMut<'_, T>,
    accum: Accum,
    lhs: MatRef<'_, T>,
    rhs: MatRef<'_, T>,
) {
    let par = par(threads, dst.nrows(), dst.ncols(), lhs.ncols());
    matmul(dst, accum, lhs, rhs, T::from_f64(1.0), par);
}
