//! The trial-level forward sweep (docs/model.md sections 2 and 5) over a batch: recorded
//! (every state kept, for a reverse sweep or a raster) or streaming (two steps of state).

use crate::activity::{Activity, Slots, SweepPath, SEGMENT_STEPS};
use crate::error::Error;
use crate::gemm::StepProduct;
use crate::gemm::{col_major, col_major_mut, product, row_major, sweep_threads};
use crate::network::{validate, Batch, Dims, Network};
use crate::neuron::Neuron;
use crate::real::{first_non_finite, Real};
use crate::simd::PerNeuronConstants;
use crate::states::StepSlots;
use crate::step::Step;
use crate::workspace::{per_neuron, step_charge, Sweep, Workspace};
use faer::Accum;

/// The error for a step whose kernel reported a non-finite output: the first bad v,
/// then the first bad s, as (trial, neuron).
fn non_finite_state<T: Real>(step: usize, n: usize, v: &[T], s: &[T]) -> Error {
    let (quantity, index) = match first_non_finite(v) {
        Some(index) => ("v", index),
        None => ("s", first_non_finite(s).unwrap_or(0)),
    };
    Error::NonFiniteState { quantity, step, trial: index / n, neuron: index % n }
}

/// I_t = I0 + U x_t (+ I_ext,t) for the `columns` trials-and-steps of `x` (and of
/// `i_ext`, laid out like `current`), into `current`.
fn input_current<T: Real>(
    threads: usize,
    net: &Network<'_, T>,
    x: &[T],
    i_ext: Option<&[T]>,
    columns: usize,
    current: &mut [T],
) {
    for column in current.chunks_exact_mut(net.n) {
        column.copy_from_slice(net.i0);
    }
    if let Some(i_ext) = i_ext {
        for (c, &e) in current.iter_mut().zip(i_ext) {
            *c += e;
        }
    }
    product(
        threads,
        col_major_mut(current, net.n, columns),
        Accum::Add,
        row_major(net.u, net.n, net.n_in),
        col_major(x, net.n_in, columns),
    );
}

/// The recurrent matrix of a forward sweep: the per-step product, and W^T row-major
/// (empty on the dense path) for the activity-sparse one.
pub(crate) struct Recurrent<'a, T: Real> {
    pub product: StepProduct<'a, T>,
    pub rows: &'a [T],
}

/// One dense forward step given I0 + U x_t (+ I_ext,t) in `current`: I_t = current +
/// W s_t, then the fused Euler kernel into `v_next`, `s_next`, then the automatic path's
/// probe of the activity. `t` names the step in errors.
fn advance<T: Real, N: Neuron>(
    step: &Step<T, N>,
    per_neuron: Option<PerNeuronConstants<'_, T>>,
    recurrent: &Recurrent<'_, T>,
    activity: &mut Activity<T>,
    (n, t): (usize, usize),
    slots: StepSlots<'_, T>,
) -> Result<(), Error> {
    let StepSlots { v, s, current, v_next, s_next } = slots;
    let backend = step.backend();
    recurrent.product.add(backend, s, current);
    if !step.forward_unchecked(per_neuron, v, s, current, v_next, s_next) {
        return Err(non_finite_state(t + 1, n, v_next, s_next));
    }
    activity.after_dense_step(t, backend, &recurrent.product, v, s_next)
}

/// Sparse forward steps `steps` (docs/model.md section 8) of `nb` = N B values each,
/// over the states in `v`, `s` and currents in `current` as `slots` keeps them; a
/// non-finite state is the error of its step, trial and neuron.
#[allow(clippy::too_many_arguments)]
fn advance_sparse<T: Real, N: Neuron>(
    step: &Step<T, N>,
    per_neuron: Option<PerNeuronConstants<'_, T>>,
    recurrent: &Recurrent<'_, T>,
    activity: &mut Activity<T>,
    (n, nb): (usize, usize),
    (v, s, current): (&mut [T], &mut [T], &mut [T]),
    slots: Slots,
    steps: core::ops::Range<usize>,
) -> Result<(), Error> {
    let buffers = (&mut *v, &mut *s, current);
    let segment = activity.forward_segment(step, per_neuron, recurrent.rows, buffers, slots, steps);
    segment.map_err(|t| {
        let slot = slots.state(t + 1) * nb;
        non_finite_state(t + 1, n, &v[slot..][..nb], &s[slot..][..nb])
    })
}

/// What a [`Workspace::forward`] run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record {
    /// Every v_t, s_t and I_t, for [`Workspace::trajectory`] and [`Workspace::backward`]:
    /// memory O(T N B).
    Trajectory,
    /// Two steps of state and the readout, for [`Workspace::readout`] (inference):
    /// memory O(N B + T B n_out).
    Readout,
}

impl<T: Real> Workspace<T> {
    /// Runs the forward sweep of docs/model.md sections 2 and 5 over the batch:
    ///
    /// ```text
    /// I_t     = I0 + (W * M) s_t + U x_t + I_ext,t
    /// dv_t    = (h/tau) f(v_t, I_t)
    /// v_{t+1} = wrap(v_t + dv_t)
    /// s_{t+1} = (1 - h/tau_s) s_t + g(v_t) dv_t / tau_s
    /// o_{t+1} = O s_{t+1}
    /// ```
    ///
    /// No loss is needed: the readout is in [`Workspace::readout`]. With
    /// [`Record::Trajectory`], keeps every v_t, s_t, I_t for [`Workspace::trajectory`] and
    /// for [`Workspace::backward`]; with [`Record::Readout`], keeps two steps of state
    /// (memory O(N B + T B n_out), not O(T N B)).
    ///
    /// # Errors
    ///
    /// Validates the shapes and values first ([`Error::ShapeMismatch`],
    /// [`Error::NonFiniteInput`], [`Error::EmptyDimension`], ...) and refuses a run whose
    /// buffers would not fit in memory ([`Error::TooLarge`]); a non-finite state is
    /// [`Error::NonFiniteState`], naming the step, trial and neuron. A failed run leaves
    /// no run to read or go backward from.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Network, Parameters, Record, Step, Workspace};
    ///
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [0.0, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let t = 100;
    /// let x = vec![0.0; t];
    /// // Another layer drives the first neuron through an external current (T, B, N).
    /// let i_ext: Vec<f32> = (0..t).flat_map(|_| [1.0, 0.0]).collect();
    /// let batch = Batch::new(Inputs { b: 1, t, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x }).with_external_current(&i_ext);
    /// let mut workspace = Workspace::new();
    /// workspace.forward(&step, &net, &batch, Record::Trajectory)?;
    /// let trajectory = workspace.trajectory().unwrap();
    /// assert!(trajectory.s(t).unwrap()[0] > 0.0); // the driven neuron spiked
    /// assert!(trajectory.v(t + 1).is_none()); // out of range: None, not a panic
    /// assert_eq!(workspace.readout().unwrap().len(), t);
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn forward<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        record: Record,
    ) -> Result<(), Error> {
        let sweep = match record {
            Record::Trajectory => Sweep::Recorded,
            Record::Readout => Sweep::Streaming,
        };
        self.forward_checked(step, net, batch, sweep, false).map(|_| ())
    }

    /// [`Workspace::forward`], with the memory of `sweep` checked (a gradient checks
    /// the memory of its reverse sweep before it starts its forward run); a streaming
    /// run also sums the charge of a rate penalty when `count_charge` asks (a recorded
    /// run has every s_t to sum later).
    pub(crate) fn forward_checked<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        sweep: Sweep,
        count_charge: bool,
    ) -> Result<Dims, Error> {
        self.forget_run();
        let dims = validate(net, batch)?;
        self.check_memory(dims, sweep, net)?;
        self.compile_constants(step, net, dims)?;
        let sparse = self.activity.path != SweepPath::Dense;
        self.weights.prepare(net, dims.b, sparse)?;
        let record = sweep != Sweep::Streaming;
        if record {
            self.forward_recorded(step, net, batch, dims)?;
        } else {
            self.forward_streaming(step, net, batch, dims, count_charge)?;
        }
        let fingerprint = record.then(|| crate::fingerprint::fingerprint(step, net, batch));
        self.keep_run(dims, fingerprint);
        Ok(dims)
    }

    /// Every step kept: the input currents of all steps as one product, then T steps,
    /// then the readouts of all steps as one product.
    fn forward_recorded<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
    ) -> Result<(), Error> {
        self.states.start(batch, dims, dims.t + 1, dims.t)?;
        self.start_forward(step, net, batch, dims)?;
        self.forward_range(step, net, batch, dims, 0..dims.t, true)
    }

    /// The activity-sparse path's start of a forward run: its groups, and y_0 = W s_0
    /// if it runs from the first step.
    pub(crate) fn start_forward<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
    ) -> Result<(), Error> {
        self.prepare_activity(step, dims)?;
        let threads = sweep_threads(self.threads(), dims.n, dims.b);
        let product = self.weights.product(net, dims.b, threads, false);
        self.activity.start_forward(step.backend(), &product, batch.s0)
    }

    /// Steps `range` of a recorded run, from v and s of step `range.start` in slot 0,
    /// step t's in slot t - range.start: the range's input currents as one product, its
    /// steps (dense, or activity-sparse in segments aligned to multiples of
    /// SEGMENT_STEPS, so that a rerun from a checkpoint takes the same path), and, with
    /// `readout`, its readouts o_{t+1} as one product.
    pub(crate) fn forward_range<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
        range: core::ops::Range<usize>,
        readout: bool,
    ) -> Result<(), Error> {
        let Dims { n, n_in, n_out, b, .. } = dims;
        let (nb, threads) = (dims.nb(), sweep_threads(self.threads(), n, b));
        let (first, len) = (range.start, range.len());
        let x = &batch.x[first * b * n_in..range.end * b * n_in];
        let i_ext = batch.i_ext.map(|i_ext| &i_ext[first * nb..range.end * nb]);
        input_current(threads, net, x, i_ext, len * b, self.states.currents_mut(len));
        let activity = &mut self.activity;
        let step_product = self.weights.product(net, b, threads, false);
        let rows = if activity.path == SweepPath::Dense { &[][..] } else { self.weights.rows() };
        let recurrent = Recurrent { product: step_product, rows };
        let mut t = first;
        while t < range.end {
            let per_neuron = per_neuron(&self.rates, nb);
            if activity.forward_sparse {
                let end = ((t / SEGMENT_STEPS + 1) * SEGMENT_STEPS).min(range.end);
                let buffers = self.states.all_mut();
                let (r, a, slots) = (&recurrent, &mut *activity, Slots::Recorded(first));
                advance_sparse(step, per_neuron, r, a, (n, nb), buffers, slots, t..end)?;
                t = end;
                continue;
            }
            let slot = t - first;
            let slots = self.states.step(slot, slot + 1, slot);
            advance(step, per_neuron, &recurrent, activity, (n, t), slots)?;
            t += 1;
        }
        if readout {
            let values = first * b * n_out..(first + len) * b * n_out;
            let (readout, after) = self.states.readout_and_s(values, 1..len + 1);
            let (readout, after) =
                (col_major_mut(readout, n_out, len * b), col_major(after, n, len * b));
            product(threads, readout, Accum::Replace, row_major(net.o, n_out, n), after);
        }
        Ok(())
    }

    /// Two steps of state: each step's input current, step and readout in turn, and,
    /// if `count_charge`, the running total charge for a rate penalty.
    fn forward_streaming<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
        count_charge: bool,
    ) -> Result<(), Error> {
        let Dims { n, n_in, n_out, b, t: steps } = dims;
        let (nb, threads) = (dims.nb(), sweep_threads(self.threads(), n, b));
        self.states.start(batch, dims, 2, 1)?;
        self.streamed_charge = 0.0;
        self.start_forward(step, net, batch, dims)?;
        let activity = &mut self.activity;
        let step_product = self.weights.product(net, b, threads, false);
        let rows = if activity.path == SweepPath::Dense { &[][..] } else { self.weights.rows() };
        let recurrent = Recurrent { product: step_product, rows };
        let o = row_major(net.o, n_out, n);
        for t in 0..steps {
            let (now, next) = (t % 2, (t + 1) % 2);
            let x = &batch.x[t * b * n_in..][..b * n_in];
            let i_ext = batch.i_ext.map(|i_ext| &i_ext[t * nb..][..nb]);
            input_current(threads, net, x, i_ext, b, self.states.currents_mut(1));
            let per_neuron = per_neuron(&self.rates, nb);
            if activity.forward_sparse {
                // One step a segment: the input current and readout are per step here.
                let buffers = self.states.all_mut();
                let (r, a) = (&recurrent, &mut *activity);
                advance_sparse(
                    step,
                    per_neuron,
                    r,
                    a,
                    (n, nb),
                    buffers,
                    Slots::Streaming,
                    t..t + 1,
                )?;
            } else {
                let slots = self.states.step(now, next, 0);
                advance(step, per_neuron, &recurrent, activity, (n, t), slots)?;
            }
            let values = t * b * n_out..(t + 1) * b * n_out;
            let (readout, s_next) = self.states.readout_and_s(values, next..next + 1);
            product(
                threads,
                col_major_mut(readout, n_out, b),
                Accum::Replace,
                o,
                col_major(s_next, n, b),
            );
            if count_charge {
                self.streamed_charge += step_charge(s_next);
            }
        }
        Ok(())
    }
}

/// v - 2 floor((v + 1) / 2), the representative of the phase v on [-1, 1), in f64 (exact
/// for the subtraction of a whole number of turns), rounded back to `T`; v itself where
/// it is already in [-1, 1).
pub(crate) fn wrap_phase<T: Real>(v: T) -> T {
    let x = v.to_f64();
    if (-1.0..1.0).contains(&x) {
        return v;
    }
    let wrapped = T::from_f64(x - 2.0 * ((x + 1.0) / 2.0).floor());
    // Rounding to T can land on +1, the same point of the circle as -1.
    if wrapped.to_f64() >= 1.0 {
        T::from_f64(-1.0)
    } else {
        wrapped
    }
}

#[cfg(test)]
mod tests {
    use super::wrap_phase;

    #[test]
    fn initial_phases_are_taken_modulo_two() {
        for (v, wrapped) in [
            (0.25f64, 0.25),
            (-1.0, -1.0),
            (1.0, -1.0),
            (5.0, -1.0),
            (5.5, -0.5),
            (-3.25, 0.75),
            (2.75, 0.75),
        ] {
            assert_eq!(wrap_phase(v), wrapped, "v = {v}");
            assert_eq!(wrap_phase(v as f32), wrapped as f32, "v = {v} in f32");
        }
        let in_range = 0.999_999_94f32;
        assert_eq!(wrap_phase(in_range).to_bits(), in_range.to_bits());
        assert_eq!(wrap_phase(-1.0 - f32::EPSILON), 1.0 - f32::EPSILON);
    }
}
