//! The recurrent matrix as the sweeps read it: A = W * M (docs/model.md section 5; W
//! itself without a connectivity mask), and A^T row-major for the row-accumulating
//! product kernel and the activity-sparse path (which reads columns of A as rows).

use crate::error::Error;
use crate::gemm::{col_major, row_major, use_rows_kernel, StepProduct};
use crate::network::Network;
use crate::real::Real;
use crate::workspace::fit;

/// The copies of the recurrent matrix one run needs, reused across runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Weights<T> {
    /// W * M, row-major, when the network has a mask (stale otherwise).
    masked: Vec<T>,
    /// A^T, row-major, as [`Weights::transpose`] last wrote it.
    transposed: Vec<T>,
}

impl<T: Real> Weights<T> {
    /// W * M when the network has a mask (both sweeps read it), and A^T when the row
    /// kernel will run the products of `n` neurons and `b` trials or `sparse` (the
    /// activity-sparse path may run).
    pub(crate) fn prepare(
        &mut self,
        net: &Network<'_, T>,
        b: usize,
        sparse: bool,
    ) -> Result<(), Error> {
        self.mask(net)?;
        if use_rows_kernel(net.n, b) || sparse {
            self.transpose(net)?;
        }
        Ok(())
    }

    /// W * M when the network has a mask.
    pub(crate) fn mask(&mut self, net: &Network<'_, T>) -> Result<(), Error> {
        if let Some(mask) = net.w_mask {
            fit(&mut self.masked, net.n * net.n)?;
            for ((we, &w), &m) in self.masked.iter_mut().zip(net.w).zip(mask) {
                *we = w * m;
            }
        }
        Ok(())
    }

    /// A^T, row-major; after [`Weights::mask`].
    pub(crate) fn transpose(&mut self, net: &Network<'_, T>) -> Result<(), Error> {
        let n = net.n;
        fit(&mut self.transposed, n * n)?;
        let a = if net.w_mask.is_some() { &self.masked[..n * n] } else { net.w };
        crate::transpose::transpose(a, &mut self.transposed, n);
        Ok(())
    }

    /// A^T, row-major (row j is column j of A), as last transposed.
    pub(crate) fn rows(&self) -> &[T] {
        &self.transposed
    }

    /// The per-step product with A (`transposed` false: y += A s_t, the forward sweep)
    /// or with A^T (`transposed` true: y += A^T e_t, the reverse sweep), for `b` trials
    /// on at most `threads` threads, over what [`Weights::prepare`] left.
    pub(crate) fn product<'a>(
        &'a self,
        net: &Network<'a, T>,
        b: usize,
        threads: usize,
        transposed: bool,
    ) -> StepProduct<'a, T> {
        let n = net.n;
        let a = if net.w_mask.is_some() { &self.masked[..n * n] } else { net.w };
        match (use_rows_kernel(n, b), transposed) {
            // The row kernel adds rows of its matrix: rows of A^T for A s, of A for A^T e.
            (true, false) => StepProduct::Rows(&self.transposed[..n * n], n),
            (true, true) => StepProduct::Rows(a, n),
            (false, false) => StepProduct::Gemm(row_major(a, n, n), threads),
            (false, true) => StepProduct::Gemm(col_major(a, n, n), threads),
        }
    }
}
