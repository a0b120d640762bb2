//! The trial-level reverse costate sweep (MODEL.md section 3) and the gradients.

use crate::error::Error;
use crate::gemm::{block_steps, col_major, col_major_mut, product, sweep_threads, use_rows_kernel};
use crate::network::{Batch, Dims, Network};
use crate::real::Real;
use crate::step::Step;
use crate::workspace::{fit, Gradient, Workspace};
use faer::Accum;

fn first_non_finite<T: Real>(values: &[T]) -> Option<usize> {
    values.iter().position(|x| !x.is_finite())
}

fn zeroed<T: Real>(buffer: &mut Vec<T>, len: usize) {
    fit(buffer, len);
    buffer.fill(T::from_f64(0.0));
}

impl<T: Real> Workspace<T> {
    /// The loss and its exact gradient with respect to W, U, I0, O, v_0 and s_0: a
    /// recorded [`forward`](Workspace::forward) sweep, then the reverse costate sweep of
    /// MODEL.md section 3, for t = T-1 down to 0:
    ///
    /// ```text
    /// a_t     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
    /// e_t     = (h/tau) df/dI(v_t, I_t) a_t
    /// lam_v_t = lam_v_{t+1} + (h/tau) df/dv(v_t, I_t) a_t + g'(v_t) dv_t lam_s_{t+1} / tau_s
    /// lam_s_t = (1 - h/tau_s) lam_s_{t+1} + W^T e_t + d_t,    d_t = O^T r_t
    /// ```
    ///
    /// from lam_v_T = 0, lam_s_T = d_T, with r_t = (h/B) m_t (o_t - ohat_t), and
    /// dL/dW = sum_t e_t s_t^T, dL/dU = sum_t e_t x_t^T, dL/dI0 = sum_t e_t,
    /// dL/dO = sum_{t=1..T} r_t s_t^T, dL/dv_0 = lam_v_0, dL/ds_0 = lam_s_0.
    ///
    /// Per step: one fused elementwise kernel and one product W^T e_t. The sums over t
    /// are products over blocks of steps. A non-finite costate or gradient is an error
    /// naming the step and index.
    pub fn gradient(
        &mut self,
        step: &Step<T>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
    ) -> Result<&Gradient<T>, Error> {
        let loss = self.forward(step, net, batch, true)?;
        let dims = self.dims.expect("forward succeeded");
        let Dims { n, n_in, n_out, b, t: steps } = dims;
        let (nb, threads) = (dims.nb(), sweep_threads(self.threads, n, b));
        let block_steps = block_steps(b, steps);
        fit(&mut self.e_block, block_steps * nb);
        fit(&mut self.d_block, block_steps * nb);
        fit(&mut self.ones, block_steps * b);
        self.ones.fill(T::from_f64(1.0));
        zeroed(&mut self.lam_v, nb);
        fit(&mut self.lam_s, nb);
        fit(&mut self.lam_s_next, nb);
        let g = &mut self.gradient;
        zeroed(&mut g.w, n * n);
        zeroed(&mut g.u, n * n_in);
        zeroed(&mut g.i0, n);
        fit(&mut g.o, n_out * n);
        // Column-major views of row-major W and O are W^T and O^T.
        let (w_t, o_t) = (col_major(net.w, n, n), col_major(net.o, n, n_out));
        let rows_kernel = use_rows_kernel(n, b);

        // dO^T = (s_1 .. s_T) R^T, one product over all steps.
        let states_after = col_major(&self.s[nb..], n, steps * b);
        let residual = col_major(&self.residual, n_out, steps * b);
        product(
            threads,
            col_major_mut(&mut g.o, n, n_out),
            Accum::Replace,
            states_after,
            residual.transpose(),
        );

        // lam_s_T = d_T = O^T r_T.
        let r_last = col_major(&self.residual[(steps - 1) * b * n_out..], n_out, b);
        product(threads, col_major_mut(&mut self.lam_s_next, n, b), Accum::Replace, o_t, r_last);
        if let Some(index) = first_non_finite(&self.lam_s_next) {
            return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(steps), index });
        }

        let mut end = steps;
        while end > 0 {
            let start = end.saturating_sub(block_steps);
            let columns = (end - start) * b;
            // d_t = O^T r_t for the block's steps; d_0 = 0.
            let first = start.max(1);
            if start == 0 {
                self.d_block[..nb].fill(T::from_f64(0.0));
            }
            if first < end {
                let r = col_major(
                    &self.residual[(first - 1) * b * n_out..(end - 1) * b * n_out],
                    n_out,
                    (end - first) * b,
                );
                let d = col_major_mut(
                    &mut self.d_block[(first - start) * nb..columns * n],
                    n,
                    (end - first) * b,
                );
                product(threads, d, Accum::Replace, o_t, r);
            }
            for t in (start..end).rev() {
                let j = t - start;
                let e = &mut self.e_block[j * nb..][..nb];
                let all_finite = step.reverse_unchecked(
                    &self.v[t * nb..][..nb],
                    &self.current[t * nb..][..nb],
                    &self.lam_s_next,
                    &self.d_block[j * nb..][..nb],
                    &mut self.lam_v,
                    e,
                    &mut self.lam_s,
                );
                if rows_kernel {
                    // Rows of W are the columns of W^T.
                    step.accumulate_rows(net.w, e, &mut self.lam_s, n, n);
                } else {
                    product(
                        threads,
                        col_major_mut(&mut self.lam_s, n, b),
                        Accum::Add,
                        w_t,
                        col_major(e, n, b),
                    );
                }
                if !all_finite {
                    return Err(self.diagnose_reverse(t, j * nb));
                }
                core::mem::swap(&mut self.lam_s, &mut self.lam_s_next);
            }
            // The block's share of the sums over t, each one product over its columns.
            let e = col_major(&self.e_block[..columns * n], n, columns);
            let g = &mut self.gradient;
            let states = col_major(&self.s[start * nb..end * nb], n, columns);
            product(threads, col_major_mut(&mut g.w, n, n), Accum::Add, states, e.transpose());
            let inputs = col_major(&batch.x[start * b * n_in..end * b * n_in], n_in, columns);
            product(threads, col_major_mut(&mut g.u, n_in, n), Accum::Add, inputs, e.transpose());
            product(
                threads,
                col_major_mut(&mut g.i0, n, 1),
                Accum::Add,
                e,
                col_major(&self.ones[..columns], columns, 1),
            );
            end = start;
        }
        if let Some(index) = first_non_finite(&self.lam_s_next) {
            return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(0), index });
        }
        let g = &mut self.gradient;
        g.loss = loss;
        fit(&mut g.v0, nb);
        g.v0.copy_from_slice(&self.lam_v);
        fit(&mut g.s0, nb);
        g.s0.copy_from_slice(&self.lam_s_next);
        for (quantity, values) in [("dW", &g.w), ("dU", &g.u), ("dI0", &g.i0), ("dO", &g.o)] {
            if let Some(index) = first_non_finite(values) {
                return Err(Error::NonFiniteGradient { quantity, step: None, index });
            }
        }
        Ok(&self.gradient)
    }

    /// Names the first non-finite quantity after the reverse kernel of step `t` flagged
    /// one (its e_t at `e_offset` in the block): lam_s_{t+1} (the previous product's
    /// result), then lam_v_t, then lam_s_t, in the reference's order.
    fn diagnose_reverse(&self, t: usize, e_offset: usize) -> Error {
        let nb = self.lam_v.len();
        if let Some(index) = first_non_finite(&self.lam_s_next) {
            return Error::NonFiniteGradient { quantity: "lam_s", step: Some(t + 1), index };
        }
        if let Some(index) = first_non_finite(&self.lam_v) {
            return Error::NonFiniteGradient { quantity: "lam_v", step: Some(t), index };
        }
        if let Some(index) = first_non_finite(&self.lam_s) {
            return Error::NonFiniteGradient { quantity: "lam_s", step: Some(t), index };
        }
        let index = first_non_finite(&self.e_block[e_offset..][..nb]).unwrap_or(0);
        Error::NonFiniteGradient { quantity: "e", step: Some(t), index }
    }
}
