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
use crate::workspace::{fit, Gradient, GradientOptions, Sweep, Workspace};

impl<T: Real> Workspace<T> {
    /// The loss L = L_task + lambda R of docs/model.md section 6 for a forward run of
    /// `net` on `batch` (not recorded: memory O(N B + T B n_out)). The readout stays
    /// available in [`Workspace::readout`].
    ///
    /// # Errors
    ///
    /// Those of [`Workspace::forward`]; the loss's arrays against the run
    /// ([`Error::ShapeMismatch`], [`Error::LabelOutOfRange`], [`Error::InvalidLoss`]);
    /// [`Error::NonFiniteLoss`] for a loss that overflows.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
    ///
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0; 4], [1.5, 1.5], [-0.2, -0.2], [30.0, -30.0, -30.0, 30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 2, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![1.0; 200];
    /// let batch = Batch::new(Inputs { b: 1, t: 200, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
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

    /// The loss and its exact gradient with respect to W, U, I0, O, v_0 and s_0: a
    /// recorded [`forward`](Workspace::forward) run, the loss's readout gradient dL/do_t
    /// (and the rate penalty's dL/ds_t = lambda / (B N T)), then the reverse sweep of
    /// [`Workspace::backward`] (docs/model.md sections 3 and 6).
    /// [`Workspace::gradient_with_options`] adds the gradients of x, I_ext and the
    /// constants.
    ///
    /// The whole memory of the gradient is checked before the forward run starts. A run
    /// whose recorded trajectory would exceed the
    /// [recording limit](Workspace::set_recording_limit) is checkpointed instead: the
    /// same gradient, bit for bit, in O(sqrt(T) N B) memory. The gradient stays in the
    /// workspace until the next call; [`Workspace::take_gradient`] moves it out.
    ///
    /// # Errors
    ///
    /// Those of [`Workspace::forward`], of the loss's arrays against the run
    /// ([`Error::ShapeMismatch`], [`Error::LabelOutOfRange`], ...), and
    /// [`Error::NonFiniteGradient`] for a costate or gradient that overflows, naming the
    /// step and index. A failed call leaves no gradient to read.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
    ///
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let (x, target, mask) = (vec![1.0; 100], vec![0.5; 100], vec![1.0; 100]);
    /// let batch = Batch::new(Inputs { b: 1, t: 100, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let gradient = Workspace::new().gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?.clone();
    /// assert!(gradient.loss > 0.0 && gradient.w[1] != 0.0 && gradient.x.is_empty());
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn gradient<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
    ) -> Result<&Gradient<T>, Error> {
        self.gradient_with_options(step, net, batch, loss, GradientOptions::default())
    }

    /// [`Workspace::gradient`], with the optional gradients `options` asks for: dL/dx,
    /// dL/dI_ext and those of the time constants and the gate width (docs/model.md
    /// section 7).
    ///
    /// # Errors
    ///
    /// Those of [`Workspace::gradient`].
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, GradientOptions, Inputs, Loss, Network, Parameters, Step, Workspace};
    ///
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let (x, target, mask) = (vec![1.0; 100], vec![0.5; 100], vec![1.0; 100]);
    /// let batch = Batch::new(Inputs { b: 1, t: 100, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let options = GradientOptions::default().with_input(true).with_constants(true);
    /// let loss = Loss::mse(&target, &mask);
    /// let g = Workspace::new().gradient_with_options(&step, &net, &batch, &loss, options)?.clone();
    /// assert_eq!((g.x.len(), g.tau.len()), (100, 2)); // dL/dx_t (T, B, n_in); dL/dtau_j (N)
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn gradient_with_options<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        batch: &Batch<'_, T>,
        loss: &Loss<'_, T>,
        options: GradientOptions,
    ) -> Result<&Gradient<T>, Error> {
        self.forget_run();
        self.set_options(options);
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
