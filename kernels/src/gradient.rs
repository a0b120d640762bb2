//! The loss of a run, and the convenience that chains a recorded forward run, a
//! built-in loss and the reverse sweep.

use crate::backward::StateGradient;
use crate::checkpoint::segment_steps;
use crate::error::Error;
use crate::loss::Loss;
use crate::network::{validate, Batch, Network};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::step::Step;
use crate::workspace::{fit, Gradient, Sweep, Workspace};

impl<T: Real> Workspace<T> {
    /// The loss L = L_task + lambda R of docs/model.md section 6 for a forward run of
    /// `net` on `batch` (not recorded: memory O(N B + T B n_out)). The readout stays
    /// available in [`Workspace::readout`].
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Loss, Network, Step, Workspace};
    ///
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0; 4], [1.5, 1.5], [-0.2, -0.2], [30.0, -30.0, -30.0, 30.0]);
    /// let net = Network::new(2, 1, 2, &w, &u, &i0, &o);
    /// let x = vec![1.0; 200];
    /// let batch = Batch::new(1, 200, &[-0.4, -0.4], &[0.0, 0.0], &x);
    /// let loss = Workspace::new().loss(&step, &net, &batch, &Loss::cross_entropy(&[0], 100, 200))?;
    /// assert!(loss > 0.0);
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn loss<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
    ) -> Result<f64, Error> {
        loss.validate(validate(net, batch)?)?;
        self.forward_checked(step, net, batch, Sweep::Streaming, loss.rate_penalty > 0.0)?;
        self.evaluate(step, loss)
    }

    /// The loss and its exact gradient with respect to W, U, I0, O, v_0 and s_0 (and,
    /// as [`GradientOptions`](crate::GradientOptions) ask, x and I_ext): a recorded
    /// [`forward`](Workspace::forward) run, the loss's readout gradient dL/do_t (and the
    /// rate penalty's dL/ds_t = lambda / (B N T)), then the reverse sweep of
    /// [`Workspace::backward`] (docs/model.md sections 3 and 6).
    ///
    /// The whole memory of the gradient is checked before the forward run starts. A run
    /// whose recorded trajectory would exceed the
    /// [recording limit](Workspace::set_recording_limit) is checkpointed instead: the
    /// same gradient, bit for bit, in O(sqrt(T) N B) memory.
    pub fn gradient<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
    ) -> Result<&Gradient<T>, Error> {
        let dims = validate(net, batch)?;
        loss.validate(dims)?;
        let segment = segment_steps(dims, core::mem::size_of::<T>(), self.recording_limit());
        match segment {
            Some(segment) => self.forward_checkpointed(step, net, batch, dims, segment)?,
            None => {
                self.forward_checked(step, net, batch, Sweep::Gradient, false)?;
            }
        }
        let value = self.evaluate(step, loss)?;
        let direct = match loss.uniform_state_gradient(dims) {
            Some(per_entry) => StateGradient::Uniform(T::from_f64(per_entry)),
            None => StateGradient::None,
        };
        // Moved out for the sweep, which borrows the workspace mutably; put back after.
        let readout_gradient = core::mem::take(&mut self.readout_gradient);
        let (rg, d) = (&readout_gradient[..], direct);
        let result = match segment {
            Some(segment) => self.reverse_checkpointed(step, net, batch, dims, segment, rg, d),
            None => self.reverse(step, net, batch, dims, rg, d, true),
        };
        self.readout_gradient = readout_gradient;
        result?;
        self.gradient.loss = value;
        Ok(&self.gradient)
    }

    /// The value of `loss` on the last forward run, with its readout gradient into
    /// `readout_gradient`.
    pub(crate) fn evaluate<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        loss: &Loss<'_, T>,
    ) -> Result<f64, Error> {
        let dims = self.last_dims().expect("called after a successful forward run");
        let len = dims.t * dims.b * dims.n_out;
        fit(&mut self.readout_gradient, len)?;
        let charge = if loss.rate_penalty > 0.0 { self.charge() } else { 0.0 };
        loss.evaluate(
            step.config().h,
            dims,
            self.states.readout(0..len),
            charge,
            &mut self.readout_gradient[..len],
        )
    }
}
