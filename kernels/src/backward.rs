//! The trial-level reverse costate sweep (docs/model.md sections 3, 5 and 6), started
//! from any dL/do_t and dL/ds_t, and the gradients it gives.

use crate::error::Error;
use crate::fingerprint::fingerprint;
use crate::gate::Gate;
use crate::gemm::{block_steps, col_major, col_major_mut, product, sweep_threads};
use crate::network::{check_array, product as size, validate, Batch, Dims, Network};
use crate::neuron::Neuron;
use crate::real::{first_non_finite, Real};
use crate::step::Step;
use crate::workspace::{fit, per_neuron, zeroed, Gradient, GradientOptions, Workspace};
use faer::Accum;

/// A direct dL/ds_t, t = 1..T, added to the injected error d_t.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StateGradient<'a, T> {
    /// None.
    None,
    /// The same value for every entry (the rate penalty's lambda / (B N T)).
    Uniform(T),
    /// One value per entry, (T, B, N), index t holding step t + 1.
    PerStep(&'a [T]),
}

/// What the start of a reverse sweep chose.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReversePlan {
    /// Whether the steps run the activity-sparse form (docs/model.md section 8).
    pub sparse: bool,
    /// Steps per block of the sums over t.
    pub block_steps: usize,
}

/// One block of reverse steps (for the sums over t), whose states v_t, s_t, I_t are in
/// slot t - `offset` of the workspace's buffers.
struct Block {
    steps: core::ops::Range<usize>,
    offset: usize,
}

impl Block {
    /// The slots of the state buffers holding `steps`.
    fn slots(&self, steps: core::ops::Range<usize>) -> core::ops::Range<usize> {
        steps.start - self.offset..steps.end - self.offset
    }
}

/// The reverse sweep's inputs besides the recorded states.
#[derive(Clone, Copy)]
pub(crate) struct ReverseInputs<'n, 'a, T> {
    pub net: &'n Network<'a, T>,
    pub batch: &'n Batch<'a, T>,
    /// dL/do_t, (T, B, n_out).
    pub readout_gradient: &'n [T],
    pub direct: StateGradient<'n, T>,
}

impl<T: Real> StateGradient<'_, T> {
    /// Adds dL/ds_t for steps `first..end` into `d` (their (end - first) N B values).
    fn add_to(&self, d: &mut [T], first: usize, end: usize, nb: usize) {
        match *self {
            StateGradient::None => {}
            StateGradient::Uniform(c) => d.iter_mut().for_each(|x| *x += c),
            StateGradient::PerStep(all) => {
                let ds = &all[(first - 1) * nb..(end - 1) * nb];
                d.iter_mut().zip(ds).for_each(|(x, &y)| *x += y);
            }
        }
    }
}

impl<T: Real> Workspace<T> {
    /// The exact gradient, with respect to W, U, I0, O, v_0, s_0 (and, as `options`
    /// ask, x, I_ext and the constants), of any loss whose derivatives with respect to
    /// the readouts are `readout_gradient` = dL/do_t (T, B, n_out; index t holds step
    /// t + 1) and, optionally, with respect to the states `state_gradient` = dL/ds_t
    /// (T, B, N; index t holds step t + 1): the reverse costate sweep of docs/model.md
    /// section 3 with the injected error of section 6, d_t = O^T dL/do_t + dL/ds_t. It
    /// goes backward from the last [`forward`](Workspace::forward) run, which must have
    /// recorded its trajectory ([`Record::Trajectory`](crate::Record::Trajectory)) with
    /// this same `step`, `net` and `batch`: the reverse sweep reads the recorded states,
    /// so other values would give the gradient of no run.
    ///
    /// [`Gradient::loss`] is then the linear functional sum_t (dL/do_t . o_t +
    /// dL/ds_t . s_t), whose exact gradient this is.
    ///
    /// # Errors
    ///
    /// [`Error::NotRecorded`] if the last forward run failed, kept only its readout, or
    /// ran another step, network or batch (compared by a 64-bit fingerprint of every
    /// value, computed when the run recorded); [`Error::ShapeMismatch`] or
    /// [`Error::NonFiniteInput`] for `readout_gradient` or `state_gradient`;
    /// [`Error::NonFiniteGradient`] for a costate or gradient that overflows.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, GradientOptions, Inputs, Network, Parameters, Record, Step, Workspace};
    ///
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![1.0; 100];
    /// let batch = Batch::new(Inputs { b: 1, t: 100, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let mut workspace = Workspace::new();
    /// workspace.forward(&step, &net, &batch, Record::Trajectory)?;
    /// // Any loss computed elsewhere: here L = sum_t o_t^2 / 2, so dL/do_t = o_t.
    /// let dl_do = workspace.readout().unwrap().to_vec();
    /// let options = GradientOptions::default();
    /// let gradient = workspace.backward(&step, &net, &batch, &dl_do, None, options)?;
    /// assert!(gradient.w[1] != 0.0);
    ///
    /// // Other parameters than the recorded run's are refused.
    /// let other_i0 = [-0.3, -0.2];
    /// let other = Network::new(Parameters { i0: &other_i0, ..net.parameters() });
    /// assert!(workspace.backward(&step, &other, &batch, &dl_do, None, options).is_err());
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn backward<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        readout_gradient: &[T],
        state_gradient: Option<&[T]>,
        options: GradientOptions,
    ) -> Result<&Gradient<T>, Error> {
        let dims = validate(net, batch)?;
        let not_recorded = |reason: String| Err(Error::NotRecorded { reason });
        match self.last_dims().zip(self.recorded_fingerprint()) {
            None => {
                return not_recorded(
                    "call forward with Record::Trajectory first (the last forward run kept \
                     only its readout, or failed)"
                        .into(),
                )
            }
            Some((recorded, _)) if recorded != dims => {
                let Dims { n, n_in, n_out, b, t } = recorded;
                return not_recorded(format!(
                    "the recorded run had (N, n_in, n_out, B, T) = ({n}, {n_in}, {n_out}, {b}, \
                     {t}), this network and batch ({}, {}, {}, {}, {})",
                    dims.n, dims.n_in, dims.n_out, dims.b, dims.t
                ));
            }
            Some((_, recorded)) if recorded != fingerprint(step, net, batch) => {
                return not_recorded(
                    "the step, network or batch differ from the recorded run's (their \
                     values, not their shapes): run forward again with these"
                        .into(),
                )
            }
            Some(_) => {}
        }
        self.set_options(options);
        let Dims { n, n_out, b, t, .. } = dims;
        let readout_shape = || format!("(T, B, n_out) = ({t}, {b}, {n_out})");
        check_array("dL/do", readout_gradient, readout_shape, size(&[t, b, n_out]))?;
        let direct = match state_gradient {
            Some(ds) => {
                check_array(
                    "dL/ds",
                    ds,
                    || format!("(T, B, N) = ({t}, {b}, {n})"),
                    size(&[t, b, n]),
                )?;
                StateGradient::PerStep(ds)
            }
            None => StateGradient::None,
        };
        self.check_memory(dims, crate::workspace::Sweep::Gradient, net)?;
        self.compile_constants(step, net, dims)?;
        // W * M of this `net`, the recorded run's (the fingerprint said so). The reverse
        // sweep's products read W * M itself, not the forward's transpose (the
        // activity-sparse path transposes this W * M again).
        self.weights.mask(net)?;
        self.reverse(step, net, batch, dims, readout_gradient, direct, false)?;
        let dot = |a: &[T], b: &[T]| a.iter().zip(b).map(|(x, y)| x.to_f64() * y.to_f64()).sum();
        let mut value: f64 = dot(readout_gradient, self.states.readout(0..t * b * n_out));
        if let Some(ds) = state_gradient {
            value += dot(ds, self.states.s(1..t + 1));
        }
        self.gradient.loss = value;
        Ok(&self.gradient)
    }

    /// The reverse sweep of docs/model.md section 3 after a recorded forward run of
    /// `net` and `batch`, from lam_v_T = 0, lam_s_T = d_T, for t = T-1 down to 0:
    ///
    /// ```text
    /// a_t     = lam_v_{t+1} + g(v_t) lam_s_{t+1} / tau_s
    /// e_t     = (h/tau) df/dI(v_t, I_t) a_t
    /// lam_v_t = lam_v_{t+1} + (h/tau) df/dv(v_t, I_t) a_t + g'(v_t) dv_t lam_s_{t+1} / tau_s
    /// lam_s_t = (1 - h/tau_s) lam_s_{t+1} + (W * M)^T e_t + d_t
    /// ```
    ///
    /// with d_t = O^T dL/do_t + dL/ds_t (d_0 = 0), and dL/dW = (sum_t e_t s_t^T) * M,
    /// dL/dU = sum_t e_t x_t^T, dL/dI0 = sum_t e_t, dL/dO = sum_{t=1..T} dL/do_t s_t^T,
    /// dL/dv_0 = lam_v_0, dL/ds_0 = lam_s_0, and as asked dL/dx_t = U^T e_t and
    /// dL/dI_ext,t = e_t. Per step: one fused elementwise kernel and one product
    /// (W * M)^T e_t; the sums over t are products over blocks of steps. A non-finite
    /// costate or gradient is an error naming the step and index. Leaves
    /// `gradient.loss` to the caller.
    ///
    /// The activity-sparse form of docs/model.md section 8 replaces the product and the
    /// dL/dW sums where [`SweepPath`](crate::SweepPath) chooses it; `transposed` says
    /// whether `w_transposed` already holds (W * M)^T of `net` (the forward run of a
    /// gradient built it).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn reverse<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        dims: Dims,
        readout_gradient: &[T],
        direct: StateGradient<'_, T>,
        transposed: bool,
    ) -> Result<(), Error> {
        let plan = self.reverse_start(step, net, dims, readout_gradient, direct, transposed)?;
        let inputs = ReverseInputs { net, batch, readout_gradient, direct };
        self.reverse_range(step, &inputs, dims, plan, 0..dims.t, 0)?;
        self.reverse_finish(step, net, dims, plan)
    }

    /// The start of the reverse sweep: its buffers, the gradients zeroed, the path
    /// (dense or activity-sparse, from the forward run's measured activity), and
    /// lam_s_T = d_T = O^T dL/do_T + dL/ds_T.
    pub(crate) fn reverse_start<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        dims: Dims,
        readout_gradient: &[T],
        direct: StateGradient<'_, T>,
        transposed: bool,
    ) -> Result<ReversePlan, Error> {
        let Dims { n, n_in, n_out, b, t: steps } = dims;
        let (nb, threads) = (dims.nb(), sweep_threads(self.threads(), n, b));
        let block_steps = block_steps(b, steps);
        self.costates.start(nb, b, block_steps)?;
        let options = self.gradient_options();
        self.prepare_activity(step, dims)?;
        let sparse = self.activity.reverse_runs_sparse(options.constants);
        if sparse && !transposed {
            self.weights.transpose(net)?;
        }
        let g = &mut self.gradient;
        zeroed(&mut g.w, n * n)?;
        zeroed(&mut g.u, n * n_in)?;
        zeroed(&mut g.i0, n)?;
        zeroed(&mut g.o, n_out * n)?;
        fit(&mut g.x, if options.input { steps * b * n_in } else { 0 })?;
        fit(&mut g.current, if options.current { steps * nb } else { 0 })?;
        zeroed(&mut self.constant_sums, if options.constants { 3 * nb } else { 0 })?;
        // lam_s_T = d_T = O^T dL/do_T + dL/ds_T (a column-major view of row-major O is O^T).
        let o_t = col_major(net.o, n, n_out);
        let last = col_major(&readout_gradient[(steps - 1) * b * n_out..], n_out, b);
        let lam_s_last = self.costates.lam_s_next_mut();
        product(threads, col_major_mut(lam_s_last, n, b), Accum::Replace, o_t, last);
        direct.add_to(lam_s_last, steps, steps + 1, nb);
        if let Some(index) = first_non_finite(self.costates.lam_s_next()) {
            return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(steps), index });
        }
        if sparse {
            self.activity.start_reverse(self.costates.lam_s_next())?;
        }
        Ok(ReversePlan { sparse, block_steps })
    }

    /// The reverse steps t = `range.end` - 1 down to `range.start`, whose states v_t,
    /// s_t, I_t are in slot t - `offset` of the workspace's buffers (and s_{range.end}
    /// after them). Blocks of steps (for the sums over t) are aligned to multiples of
    /// the block length, so that a sweep run in several ranges (from checkpoints) sums
    /// in the same blocks, in the same order, as one run over all steps.
    pub(crate) fn reverse_range<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        inputs: &ReverseInputs<'_, '_, T>,
        dims: Dims,
        plan: ReversePlan,
        range: core::ops::Range<usize>,
        offset: usize,
    ) -> Result<(), Error> {
        let threads = sweep_threads(self.threads(), dims.n, dims.b);
        let mut end = range.end;
        while end > range.start {
            let start = ((end - 1) / plan.block_steps * plan.block_steps).max(range.start);
            let block = Block { steps: start..end, offset };
            self.injected_error(inputs, dims, threads, &block);
            if plan.sparse {
                self.sparse_block(step, dims, &block)?;
            } else {
                self.dense_block(step, inputs.net, dims, threads, &block)?;
            }
            self.block_sums(inputs, dims, threads, plan.sparse, &block);
            end = start;
        }
        Ok(())
    }

    /// d_t = O^T dL/do_t + dL/ds_t (docs/model.md section 6) for the block's steps, into
    /// the block's columns of `d_block`; d_0 = 0.
    fn injected_error(
        &mut self,
        inputs: &ReverseInputs<'_, '_, T>,
        dims: Dims,
        threads: usize,
        block: &Block,
    ) {
        let Dims { n, n_out, b, .. } = dims;
        let nb = dims.nb();
        let (start, end) = (block.steps.start, block.steps.end);
        let first = start.max(1);
        if start == 0 {
            self.costates.d_mut()[..nb].fill(T::from_f64(0.0));
        }
        if first < end {
            // A column-major view of row-major O is O^T.
            let o_t = col_major(inputs.net.o, n, n_out);
            let readout_gradient = col_major(inputs.readout_gradient, n_out, dims.t * b);
            let r = readout_gradient.subcols((first - 1) * b, (end - first) * b);
            let d = &mut self.costates.d_mut()[(first - start) * nb..(end - start) * nb];
            product(threads, col_major_mut(d, n, (end - first) * b), Accum::Replace, o_t, r);
            inputs.direct.add_to(d, first, end, nb);
        }
    }

    /// The block's steps on the activity-sparse path (docs/model.md section 8).
    fn sparse_block<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        dims: Dims,
        block: &Block,
    ) -> Result<(), Error> {
        let nb = dims.nb();
        let held = self.states.held_from(block.steps.start - block.offset);
        let (d, costates) = self.costates.sparse();
        let recorded = (held.v, held.s, held.current, d);
        let per_neuron = per_neuron(&self.rates, nb);
        let rows = self.weights.rows();
        let steps = block.steps.clone();
        match self.activity.reverse_block(step, per_neuron, rows, recorded, costates, steps) {
            Ok(()) => Ok(()),
            Err(t) => Err(self.costates.diagnose(t, (t - block.steps.start) * nb)),
        }
    }

    /// The block's steps on the dense path, last to first (docs/model.md section 3): the
    /// constants' sums (when asked for, before lam_v_{t+1} is overwritten), the
    /// elementwise reverse step, then lam_s_t += (W * M)^T e_t.
    fn dense_block<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        dims: Dims,
        threads: usize,
        block: &Block,
    ) -> Result<(), Error> {
        let (nb, backend, options) = (dims.nb(), step.backend(), self.gradient_options());
        let recurrent = self.weights.product(net, dims.b, threads, true);
        for t in block.steps.clone().rev() {
            let j = t - block.steps.start;
            let held = self.states.slot(t - block.offset);
            let per_neuron = per_neuron(&self.rates, nb);
            let c = self.costates.step(j, nb);
            if options.constants {
                let (tau, rest) = self.constant_sums.split_at_mut(nb);
                let (tau_s, delta) = rest.split_at_mut(nb);
                step.constants_unchecked(
                    per_neuron,
                    held.v,
                    held.s,
                    held.current,
                    c.lam_v,
                    c.lam_s_next,
                    [tau, tau_s, delta],
                );
            }
            let all_finite = step.reverse_unchecked(
                per_neuron,
                held.v,
                held.current,
                c.lam_s_next,
                c.d,
                c.lam_v,
                c.e,
                c.lam_s,
            );
            recurrent.add(backend, c.e, c.lam_s);
            if !all_finite {
                return Err(self.costates.diagnose(t, j * nb));
            }
            self.costates.advance();
        }
        Ok(())
    }

    /// The block's share of the sums over t (docs/model.md section 3), each one product
    /// over its columns: dW += s_t e_t^T (dense path; the sparse path added its pairs),
    /// dO^T += s_{t+1} (dL/do_t)^T, dU^T += x_t e_t^T, dI0 += sum of e_t; and, when asked
    /// for, dL/dx_t = U^T e_t and dL/dI_ext,t = e_t.
    fn block_sums(
        &mut self,
        inputs: &ReverseInputs<'_, '_, T>,
        dims: Dims,
        threads: usize,
        sparse: bool,
        block: &Block,
    ) {
        let ReverseInputs { net, batch, readout_gradient, .. } = *inputs;
        let Dims { n, n_in, n_out, b, .. } = dims;
        let nb = dims.nb();
        let (start, end) = (block.steps.start, block.steps.end);
        let columns = (end - start) * b;
        let options = self.gradient_options();
        let e = col_major(self.costates.e(columns * n), n, columns);
        let g = &mut self.gradient;
        if !sparse {
            let states = col_major(self.states.s(block.slots(start..end)), n, columns);
            product(threads, col_major_mut(&mut g.w, n, n), Accum::Add, states, e.transpose());
        }
        let readout_gradient = col_major(readout_gradient, n_out, dims.t * b);
        let after = col_major(self.states.s(block.slots(start + 1..end + 1)), n, columns);
        let r = readout_gradient.subcols(start * b, columns);
        product(threads, col_major_mut(&mut g.o, n, n_out), Accum::Add, after, r.transpose());
        let inputs = col_major(&batch.x[start * b * n_in..end * b * n_in], n_in, columns);
        product(threads, col_major_mut(&mut g.u, n_in, n), Accum::Add, inputs, e.transpose());
        let ones = col_major(self.costates.ones(columns), columns, 1);
        product(threads, col_major_mut(&mut g.i0, n, 1), Accum::Add, e, ones);
        if options.input {
            // A column-major view of row-major U is U^T.
            let dx = col_major_mut(&mut g.x[start * b * n_in..end * b * n_in], n_in, columns);
            product(threads, dx, Accum::Replace, col_major(net.u, n_in, n), e);
        }
        if options.current {
            g.current[start * nb..end * nb].copy_from_slice(self.costates.e(columns * n));
        }
    }

    /// The end of the reverse sweep, after the range that ends at step 0 (whose s_0 is
    /// in slot 0): lam_s_0 in full on the sparse path, the mask on dL/dW, dL/dv_0,
    /// dL/ds_0, the constants' gradients, and the finite checks.
    pub(crate) fn reverse_finish<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        dims: Dims,
        plan: ReversePlan,
    ) -> Result<(), Error> {
        let nb = dims.nb();
        if plan.sparse {
            // lam_s_0 = W^T E_0 + D_0 in full, dL/dW = E_0 s_0^T + sum_t E_{t+1} q_t^T.
            let threads = sweep_threads(self.threads(), dims.n, dims.b);
            let recurrent = self.weights.product(net, dims.b, threads, true);
            let rows = self.weights.rows();
            let (s0, dw) = (self.states.s(0..1), &mut self.gradient.w);
            let (backend, lam_s0) = (step.backend(), self.costates.lam_s_next_mut());
            self.activity.finish_reverse(backend, &recurrent, threads, rows, s0, lam_s0, dw)?;
        }
        if let Some(index) = first_non_finite(self.costates.lam_s_next()) {
            return Err(Error::NonFiniteGradient { quantity: "lam_s", step: Some(0), index });
        }
        let g = &mut self.gradient;
        if let Some(mask) = net.w_mask {
            g.w.iter_mut().zip(mask).for_each(|(dw, &m)| *dw *= m);
        }
        fit(&mut g.v0, nb)?;
        g.v0.copy_from_slice(self.costates.lam_v());
        fit(&mut g.s0, nb)?;
        g.s0.copy_from_slice(self.costates.lam_s_next());
        self.reduce_constant_sums(step, net, dims)?;
        let g = &self.gradient;
        let checked = [
            ("dW", &g.w[..]),
            ("dU", &g.u),
            ("dI0", &g.i0),
            ("dO", &g.o),
            ("dx", &g.x),
            ("dtau", &g.tau),
            ("dtau_s", &g.tau_s),
        ];
        for (quantity, values) in checked {
            if let Some(index) = first_non_finite(values) {
                return Err(Error::NonFiniteGradient { quantity, step: None, index });
            }
        }
        // dL/dDelta is reported in f64: checked there, last, as the reference does.
        if g.delta.is_some_and(|delta| !delta.is_finite()) {
            return Err(Error::NonFiniteGradient { quantity: "dDelta", step: None, index: 0 });
        }
        Ok(())
    }

    /// The gradients of the constants from the sums of the reverse sweep
    /// (docs/model.md section 7), reduced over the trials in f64:
    /// dL/dtau_j = -(1/tau_j) sum a_t dv_t, dL/dtau_s,j = (1/tau_s,j^2) sum lam_s_{t+1}
    /// (h s_t - g dv_t), dL/dDelta = the sum over everything of the third sum (raised
    /// cosine only). Empty (and `None`) when they were not asked for.
    fn reduce_constant_sums<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        dims: Dims,
    ) -> Result<(), Error> {
        let constants = self.gradient_options().constants;
        let g = &mut self.gradient;
        let (n, nb) = (dims.n, dims.nb());
        if !constants {
            g.tau.clear();
            g.tau_s.clear();
            g.delta = None;
            return Ok(());
        }
        let config = step.config();
        let sums = &self.constant_sums;
        let total = |part: usize, j: usize| -> f64 {
            (0..dims.b).map(|trial| sums[part * nb + trial * n + j].to_f64()).sum()
        };
        fit(&mut g.tau, n)?;
        fit(&mut g.tau_s, n)?;
        for j in 0..n {
            let tau = net.tau.map_or(config.tau, |tau| tau[j].to_f64());
            let tau_s = net.tau_s.map_or(config.tau_s, |tau_s| tau_s[j].to_f64());
            g.tau[j] = T::from_f64(-total(0, j) / tau);
            g.tau_s[j] = T::from_f64(total(1, j) / (tau_s * tau_s));
        }
        g.delta = match config.gate {
            Gate::RaisedCosine { .. } => Some(sums[2 * nb..].iter().map(|x| x.to_f64()).sum()),
            _ => None,
        };
        Ok(())
    }
}
