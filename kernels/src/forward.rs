//! The trial-level forward sweep (MODEL.md section 2) over a batch.

use crate::error::Error;
use crate::gemm::{col_major, col_major_mut, product, row_major, sweep_threads, use_rows_kernel};
use crate::network::{validate, Batch, Dims, Network};
use crate::real::Real;
use crate::step::Step;
use crate::workspace::{fit, Workspace};
use faer::Accum;

/// Slot `now` for reading and slot `next` for writing of a buffer of `len`-long slots.
pub(crate) fn two_slots<T>(
    buffer: &mut [T],
    now: usize,
    next: usize,
    len: usize,
) -> (&[T], &mut [T]) {
    debug_assert_ne!(now, next);
    if now < next {
        let (head, tail) = buffer.split_at_mut(next * len);
        (&head[now * len..][..len], &mut tail[..len])
    } else {
        let (head, tail) = buffer.split_at_mut(now * len);
        (&tail[..len], &mut head[next * len..][..len])
    }
}

/// The error for a step whose kernel reported a non-finite output: the first bad v,
/// then the first bad s, as (trial, neuron).
fn non_finite_state<T: Real>(step: usize, n: usize, v: &[T], s: &[T]) -> Error {
    let (quantity, index) = match v.iter().position(|x| !x.is_finite()) {
        Some(index) => ("v", index),
        None => ("s", s.iter().position(|x| !x.is_finite()).unwrap_or(0)),
    };
    Error::NonFiniteState { quantity, step, trial: index / n, neuron: index % n }
}

/// I_t = I0 + U x_t for the `columns` trials-and-steps of `x`, into `current`.
fn input_current<T: Real>(
    threads: usize,
    net: &Network<'_, T>,
    x: &[T],
    columns: usize,
    current: &mut [T],
) {
    for column in current.chunks_exact_mut(net.n) {
        column.copy_from_slice(net.i0);
    }
    product(
        threads,
        col_major_mut(current, net.n, columns),
        Accum::Add,
        row_major(net.u, net.n, net.n_in),
        col_major(x, net.n_in, columns),
    );
}

/// L = (1/B) sum h/2 m (o - ohat)^2, accumulated in f64 in the reference's order, and
/// the readout errors r = (h/B) m (o - ohat) that drive the reverse sweep.
fn loss_and_residual<T: Real>(
    h: f64,
    dims: Dims,
    readout: &[T],
    batch: &Batch<'_, T>,
    residual: &mut [T],
) -> Result<f64, Error> {
    let trials = dims.b as f64;
    let mut loss = 0.0f64;
    let terms = readout.iter().zip(batch.target).zip(batch.mask).zip(residual.iter_mut());
    for (index, (((&o, &target), &mask), r)) in terms.enumerate() {
        let (error, mask) = (o.to_f64() - target.to_f64(), mask.to_f64());
        loss += h * 0.5 * mask * error * error / trials;
        if !loss.is_finite() {
            let channel = index % dims.n_out;
            let trial = (index / dims.n_out) % dims.b;
            let step = index / (dims.n_out * dims.b) + 1;
            return Err(Error::NonFiniteLoss { step, trial, channel });
        }
        *r = T::from_f64(h / trials * mask * error);
    }
    Ok(loss)
}

impl<T: Real> Workspace<T> {
    /// Runs the forward sweep of MODEL.md section 2 over the batch and returns the loss
    ///
    /// ```text
    /// I_t     = I0 + W s_t + U x_t
    /// dv_t    = (h/tau) f(v_t, I_t)
    /// v_{t+1} = wrap(v_t + dv_t)
    /// s_{t+1} = (1 - h/tau_s) s_t + g(v_t) dv_t / tau_s
    /// L       = (1/B) sum_b sum_{t=1..T} h/2 sum_k m_{t,k} (o_{t,k} - ohat_{t,k})^2,  o = O s
    /// ```
    ///
    /// With `record`, keeps every v_t, s_t, I_t and o_t for [`Workspace::trajectory`]
    /// and for a reverse sweep; without, keeps two steps of state (memory O(N B), not
    /// O(T N B)). Validates the shapes and values first; a non-finite state or loss is
    /// an error naming the step, trial and neuron (or readout channel).
    pub fn forward(
        &mut self,
        step: &Step<T>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        record: bool,
    ) -> Result<f64, Error> {
        self.dims = None;
        self.recorded = false;
        let dims = validate(net, batch)?;
        let Dims { n, n_in, n_out, b, t: steps } = dims;
        let (nb, threads) = (dims.nb(), sweep_threads(self.threads, n, b));
        let slots = if record { steps + 1 } else { 2 };
        fit(&mut self.v, slots * nb);
        fit(&mut self.s, slots * nb);
        fit(&mut self.current, if record { steps * nb } else { nb });
        fit(&mut self.readout, steps * b * n_out);
        fit(&mut self.residual, steps * b * n_out);
        self.v[..nb].copy_from_slice(batch.v0);
        self.s[..nb].copy_from_slice(batch.s0);
        let (w, o) = (row_major(net.w, n, n), row_major(net.o, n_out, n));
        let rows_kernel = use_rows_kernel(n, b);
        if rows_kernel {
            fit(&mut self.w_transposed, n * n);
            for (j, row) in self.w_transposed.chunks_exact_mut(n).enumerate() {
                for (i, x) in row.iter_mut().enumerate() {
                    *x = net.w[i * n + j];
                }
            }
        }

        if record {
            // All input currents at once: one product of n_in x (T B) columns.
            input_current(threads, net, batch.x, steps * b, &mut self.current);
        }
        for t in 0..steps {
            let (now, next) = if record { (t, t + 1) } else { (t % 2, (t + 1) % 2) };
            let current =
                if record { &mut self.current[t * nb..][..nb] } else { &mut self.current[..nb] };
            if !record {
                input_current(threads, net, &batch.x[t * b * n_in..][..b * n_in], b, current);
            }
            let s_now = &self.s[now * nb..][..nb];
            if rows_kernel {
                step.accumulate_rows(&self.w_transposed, s_now, current, n, n);
            } else {
                product(
                    threads,
                    col_major_mut(current, n, b),
                    Accum::Add,
                    w,
                    col_major(s_now, n, b),
                );
            }
            let (v_now, v_next) = two_slots(&mut self.v, now, next, nb);
            let (s_now, s_next) = two_slots(&mut self.s, now, next, nb);
            if !step.forward_unchecked(v_now, s_now, current, v_next, s_next) {
                return Err(non_finite_state(t + 1, n, v_next, s_next));
            }
            if !record {
                let readout =
                    col_major_mut(&mut self.readout[t * b * n_out..][..b * n_out], n_out, b);
                product(threads, readout, Accum::Replace, o, col_major(s_next, n, b));
            }
        }
        if record {
            // All readouts at once: O (s_1 .. s_T).
            let states = col_major(&self.s[nb..], n, steps * b);
            product(
                threads,
                col_major_mut(&mut self.readout, n_out, steps * b),
                Accum::Replace,
                o,
                states,
            );
        }
        let loss =
            loss_and_residual(step.config().h, dims, &self.readout, batch, &mut self.residual)?;
        self.dims = Some(dims);
        self.recorded = record;
        Ok(loss)
    }
}
