//! Reusable buffers for the trial-level sweeps, the views they hand out, and the memory
//! a run needs (checked, and allocated fallibly, before any work).

use crate::activity::{Activity, SweepPath};
use crate::checkpoint::Checkpoints;
use crate::costates::Costates;
use crate::error::Error;
use crate::network::{Dims, Network};
use crate::neuron::Neuron;
use crate::real::Real;
use crate::simd::PerNeuronConstants;
use crate::states::States;
use crate::step::Step;
use crate::weights::Weights;

/// dL/d(everything) of docs/model.md sections 3, 5 and 6, in the layouts of
/// [`Network`](crate::Network) and [`Batch`](crate::Batch).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Gradient<T> {
    /// The loss L whose gradient this is (accumulated in f64). After
    /// [`Workspace::backward`], the linear functional sum_t (G_t . o_t + D_t . s_t) of
    /// the caller's dL/do = G and dL/ds = D.
    pub loss: f64,
    /// dL/dW, (N, N) (masked, with a connectivity mask).
    pub w: Vec<T>,
    /// dL/dU, (N, n_in).
    pub u: Vec<T>,
    /// dL/dI0, (N).
    pub i0: Vec<T>,
    /// dL/dO, (n_out, N).
    pub o: Vec<T>,
    /// dL/dv_0 = lam_v_0, (B, N).
    pub v0: Vec<T>,
    /// dL/ds_0 = lam_s_0, (B, N).
    pub s0: Vec<T>,
    /// dL/dx_t = U^T e_t, (T, B, n_in), if [`GradientOptions::with_input`] asked for
    /// it; empty otherwise.
    pub x: Vec<T>,
    /// The error current e_t = dL/dI_t, which is dL/dI_ext,t, (T, B, N), if
    /// [`GradientOptions::with_current`] asked for it; empty otherwise.
    pub current: Vec<T>,
    /// dL/dtau_j = -(1/tau_j) sum_t a_t dv_t (docs/model.md section 7), (N), if
    /// [`GradientOptions::with_constants`] asked for it; empty otherwise. Per neuron
    /// whether the network's tau is per neuron or shared: the derivative with respect
    /// to a shared tau is the sum of these.
    pub tau: Vec<T>,
    /// dL/dtau_s,j = (1/tau_s,j^2) sum_t lam_s_{t+1} (h s_t - g(v_t) dv_t), (N), as
    /// [`Gradient::tau`]; for a shared tau_s, their sum.
    pub tau_s: Vec<T>,
    /// dL/dDelta = sum_t sum_j lam_s_{t+1} (dg/dDelta)(v_t) dv_t / tau_s,j for the raised
    /// cosine, if [`GradientOptions::with_constants`] asked for it; `None` otherwise and
    /// for the boxcar, whose loss jumps when a phase crosses an edge of the zone.
    pub delta: Option<f64>,
}

/// Which gradients beyond the parameters' and the initial state's a call of
/// [`Workspace::gradient_with_options`] or [`Workspace::backward`] computes. They cost
/// memory of the size of the inputs (and little time), so they are opt-in.
///
/// ```
/// use spikegrad::GradientOptions;
/// let options = GradientOptions::default().with_input(true).with_current(true);
/// assert!(options.input && options.current && !options.constants);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GradientOptions {
    /// Compute dL/dx ([`Gradient::x`]).
    pub input: bool,
    /// Compute dL/dI_t ([`Gradient::current`]).
    pub current: bool,
    /// Compute dL/dtau, dL/dtau_s and dL/dDelta ([`Gradient::tau`],
    /// [`Gradient::tau_s`], [`Gradient::delta`]).
    pub constants: bool,
}

impl GradientOptions {
    /// The same options, with dL/dx computed or not.
    pub fn with_input(self, input: bool) -> Self {
        GradientOptions { input, ..self }
    }

    /// The same options, with dL/dI_t (= dL/dI_ext) computed or not.
    pub fn with_current(self, current: bool) -> Self {
        GradientOptions { current, ..self }
    }

    /// The same options, with the gradients of the time constants and of the gate width
    /// (docs/model.md section 7) computed or not: one more elementwise pass per reverse
    /// step and 3 N B values of memory; nothing when not asked.
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, GradientOptions, Inputs, Loss, Network, Parameters, Step, Workspace};
    ///
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let tau_s = [50.0, 80.0]; // per neuron; tau stays the step's shared 20 ms
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o }).with_tau_s(&tau_s);
    /// let (x, target, mask) = (vec![1.0; 100], vec![0.5; 100], vec![1.0; 100]);
    /// let batch = Batch::new(Inputs { b: 1, t: 100, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let mut workspace = Workspace::new();
    /// let options = GradientOptions::default().with_constants(true);
    /// let loss = Loss::mse(&target, &mask);
    /// let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?;
    /// let dl_dtau_shared: f64 = g.tau.iter().sum(); // tau is shared: the sum
    /// assert_eq!(g.tau_s.len(), 2); // dL/dtau_s,j per neuron
    /// assert!(dl_dtau_shared != 0.0 && g.delta.is_some());
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn with_constants(self, constants: bool) -> Self {
        GradientOptions { constants, ..self }
    }
}

/// The states of the last recorded forward run: v_t and s_t for t = 0..=T, I_t and the
/// readout o_{t+1} for t = 0..T, each step laid out like `v0` (B, N) or, for the
/// readout, (B, n_out). An index out of range gives `None`.
#[derive(Debug, Clone, Copy)]
pub struct Trajectory<'a, T> {
    n: usize,
    n_out: usize,
    b: usize,
    t: usize,
    v: &'a [T],
    s: &'a [T],
    current: &'a [T],
    readout: &'a [T],
}

impl<'a, T> Trajectory<'a, T> {
    /// Number of steps T.
    pub fn steps(&self) -> usize {
        self.t
    }

    fn slot(values: &'a [T], t: usize, slots: usize, len: usize) -> Option<&'a [T]> {
        (t < slots).then(|| &values[t * len..][..len])
    }

    /// v_t, (B, N), for t in 0..=T.
    pub fn v(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.v, t, self.t + 1, self.n * self.b)
    }

    /// s_t, (B, N), for t in 0..=T.
    pub fn s(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.s, t, self.t + 1, self.n * self.b)
    }

    /// I_t, (B, N), for t in 0..T.
    pub fn current(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.current, t, self.t, self.n * self.b)
    }

    /// o_{t+1} = O s_{t+1}, (B, n_out), for t in 0..T (the layout of a target).
    pub fn readout(&self, t: usize) -> Option<&'a [T]> {
        Self::slot(self.readout, t, self.t, self.n_out * self.b)
    }
}

/// Buffers reused across calls, so that a training loop allocates nothing after its
/// first iteration: grown when a larger problem arrives, never shrunk.
///
/// ```
/// use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
///
/// let config = Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 });
/// let step = Step::<f32>::new(&config)?;
/// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
/// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
/// let t = 100;
/// let (x, target, mask) = (vec![1.0; t], vec![0.5; t], vec![1.0; t]);
/// let batch = Batch::new(Inputs { b: 1, t, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
/// let mut workspace = Workspace::new();
/// let gradient = workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?;
/// assert!(gradient.loss > 0.0 && gradient.u[0] != 0.0);
/// # Ok::<(), spikegrad::Error>(())
/// ```
#[derive(Debug, Clone)]
// The settings and the record of the last run are private (methods below); each sweep's
// buffers are a type of their own file with its interface (states.rs, weights.rs,
// costates.rs, checkpoint.rs, activity/), which the sweeps' `impl Workspace` blocks
// (forward.rs, backward.rs, checkpoint.rs, gradient.rs) borrow side by side.
pub struct Workspace<T> {
    threads: usize,
    options: GradientOptions,
    /// The most bytes the buffers of one run may take.
    memory_limit: Option<usize>,
    /// The most bytes a gradient's recorded trajectory may take before it is
    /// checkpointed instead.
    recording_limit: Option<usize>,
    /// The dimensions of the last successful forward run.
    dims: Option<Dims>,
    /// For a run whose buffers hold its whole trajectory (T + 1 slots, not two), the
    /// fingerprint of its step, network and batch, which [`Workspace::backward`]
    /// requires of its own.
    recorded_fingerprint: Option<u64>,
    /// sum over t = 1..T, trials and neurons of s_t, for a run that was not recorded
    /// and was asked to count it (`Workspace::loss` with a rate penalty).
    pub(crate) streamed_charge: f64,
    /// The forward sweep's states and readouts.
    pub(crate) states: States<T>,
    /// The recurrent matrix as the sweeps read it.
    pub(crate) weights: Weights<T>,
    /// h/tau_j, 1 - h/tau_s,j and 1/tau_s,j tiled over the trials (3 N B), when the
    /// network has per-neuron time constants; empty otherwise.
    pub(crate) rates: Vec<T>,
    /// The activity-sparse path's choice, state and buffers.
    pub(crate) activity: Activity<T>,
    /// The checkpoints of a checkpointed gradient.
    pub(crate) checkpoints: Checkpoints<T>,
    /// dL/do_{t+1} of a built-in loss, (T, B, n_out) like the readout.
    pub(crate) readout_gradient: Vec<T>,
    /// The reverse sweep's buffers.
    pub(crate) costates: Costates<T>,
    /// The running sums of the constants' gradients (3 N B), when asked for.
    pub(crate) constant_sums: Vec<T>,
    /// The gradient the last reverse sweep wrote.
    pub(crate) gradient: Gradient<T>,
}

impl<T: Real> Default for Workspace<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// What a call will run, for the memory it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// A forward run keeping two steps of state.
    Streaming,
    /// A forward run keeping every step.
    Recorded,
    /// A recorded forward run and the reverse sweep.
    Gradient,
    /// A gradient whose forward run keeps a checkpoint every `segment` steps and one
    /// segment of states, rerun segment by segment for the reverse sweep.
    Checkpointed {
        /// Steps per segment.
        segment: usize,
    },
}

/// The default of [`Workspace::set_recording_limit`]: 512 MiB, so that a long trial's
/// gradient runs in bounded memory (a recording of T = 10^6 steps of 256 neurons takes
/// 3 GB in f32) while the training problems of this project (at most ~200 MB recorded)
/// record.
pub const DEFAULT_RECORDING_LIMIT: usize = 512 << 20;

/// Resizes without shrinking capacity, allocating only when a larger problem arrives;
/// an allocation that fails is [`Error::TooLarge`], not an abort.
pub(crate) fn fit<T: Real>(buffer: &mut Vec<T>, len: usize) -> Result<(), Error> {
    if len > buffer.len() && buffer.try_reserve_exact(len - buffer.len()).is_err() {
        return Err(Error::TooLarge {
            what: format!("allocating {len} {} values failed: not enough memory", T::NAME),
        });
    }
    buffer.resize(len, T::from_f64(0.0));
    Ok(())
}

/// `fit`, then every element zero.
pub(crate) fn zeroed<T: Real>(buffer: &mut Vec<T>, len: usize) -> Result<(), Error> {
    fit(buffer, len)?;
    buffer.fill(T::from_f64(0.0));
    Ok(())
}

impl<T: Real> Workspace<T> {
    /// An empty workspace using both cores for large products (the rayon pool's size).
    /// Buffers are allocated by the first run of a size and reused by later ones.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Workspace;
    /// let workspace = Workspace::<f32>::new();
    /// assert!(workspace.threads() >= 1 && workspace.readout().is_none());
    /// ```
    pub fn new() -> Self {
        Self::with_threads(0)
    }

    /// An empty workspace whose matrix products use at most `threads` threads (1:
    /// sequential; 0: the rayon pool's size). Small products always run on one thread.
    /// Results do not depend on the thread count (each product's sums run in a fixed
    /// order), except for the activity-sparse dL/dW, summed per thread.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::Workspace;
    /// assert_eq!(Workspace::<f64>::with_threads(1).threads(), 1);
    /// ```
    pub fn with_threads(threads: usize) -> Self {
        let threads = if threads == 0 { rayon_threads() } else { threads };
        Workspace {
            threads,
            options: GradientOptions::default(),
            memory_limit: crate::system_memory::total(),
            recording_limit: Some(DEFAULT_RECORDING_LIMIT),
            checkpoints: Checkpoints::default(),
            dims: None,
            recorded_fingerprint: None,
            streamed_charge: 0.0,
            states: States::default(),
            readout_gradient: Vec::new(),
            weights: Weights::default(),
            costates: Costates::default(),
            rates: Vec::new(),
            constant_sums: Vec::new(),
            activity: Activity::default(),
            gradient: Gradient::default(),
        }
    }

    /// The number of threads large products may use.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The optional gradients of the call under way (set at its start: options are
    /// per call, this is how the sweeps read them).
    pub(crate) fn gradient_options(&self) -> GradientOptions {
        self.options
    }

    /// Sets the optional gradients of the call under way.
    pub(crate) fn set_options(&mut self, options: GradientOptions) {
        self.options = options;
    }

    /// Takes the last gradient out of the workspace, without copying its arrays: an
    /// owned value to keep while the workspace computes others (whose first call then
    /// allocates its buffers again). Empty if no gradient was computed.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let (x, target, mask) = (vec![1.0; 100], vec![0.5; 100], vec![1.0; 100]);
    /// let batch = Batch::new(Inputs { b: 1, t: 100, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let mut workspace = Workspace::new();
    /// workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?;
    /// let kept = workspace.take_gradient();
    /// let again = workspace.gradient(&step, &net, &batch, &Loss::mse(&target, &mask))?;
    /// assert_eq!(&kept, again);
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn take_gradient(&mut self) -> Gradient<T> {
        core::mem::take(&mut self.gradient)
    }

    /// Forgets the last run (before a new one starts: a failed run leaves none).
    pub(crate) fn forget_run(&mut self) {
        self.dims = None;
        self.recorded_fingerprint = None;
    }

    /// Keeps the dimensions of a successful run and, if it was recorded, the
    /// fingerprint of its inputs.
    pub(crate) fn keep_run(&mut self, dims: Dims, recorded: Option<u64>) {
        self.dims = Some(dims);
        self.recorded_fingerprint = recorded;
    }

    /// The fingerprint of the last successful run's inputs, if it was recorded.
    pub(crate) fn recorded_fingerprint(&self) -> Option<u64> {
        self.recorded_fingerprint
    }

    /// The dimensions of the last successful forward run.
    pub(crate) fn last_dims(&self) -> Option<Dims> {
        self.dims
    }

    /// The readout o_{t+1} = O s_{t+1} of the last successful forward run, recorded or
    /// not, laid out (T, B, n_out); `None` before a run or after a failed one.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Network, Parameters, Record, Step, Workspace};
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0; 4], [1.5, 1.5], [-0.2, -0.2], [30.0, -30.0, -30.0, 30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 2, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![1.0; 50];
    /// let batch = Batch::new(Inputs { b: 1, t: 50, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let mut workspace = Workspace::new();
    /// workspace.forward(&step, &net, &batch, Record::Readout)?;
    /// let readout = workspace.readout().unwrap(); // (T, B, n_out)
    /// assert_eq!(readout.len(), 50 * 2);
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn readout(&self) -> Option<&[T]> {
        let dims = self.dims?;
        Some(self.states.readout(0..dims.t * dims.b * dims.n_out))
    }

    /// The states of the last forward run, if it recorded its trajectory (a
    /// [`Record::Trajectory`](crate::Record::Trajectory) run, or a gradient's run that was
    /// not checkpointed) and succeeded. The example of [`Workspace::forward`] reads one.
    pub fn trajectory(&self) -> Option<Trajectory<'_, T>> {
        let dims = self.dims?;
        let [v, s, current, readout] = self.states.buffers();
        self.recorded_fingerprint.map(|_| Trajectory {
            n: dims.n,
            n_out: dims.n_out,
            b: dims.b,
            t: dims.t,
            v,
            s,
            current,
            readout,
        })
    }

    /// sum over t = 1..T, trials and neurons of s_t of the last forward run: the total
    /// charge, B N T times the mean rate R of docs/model.md section 6. Summed step by
    /// step ([`step_charge`]) on every path, so that all give the same bits.
    pub(crate) fn charge(&self) -> f64 {
        match self.dims {
            Some(dims) if self.recorded_fingerprint.is_some() => {
                let nb = dims.nb();
                let steps = self.states.s(1..dims.t + 1).chunks_exact(nb);
                steps.fold(0.0, |total, s| total + step_charge(s))
            }
            _ => self.streamed_charge,
        }
    }

    /// Refuses a run whose buffers would not fit in memory, before allocating any:
    /// the values `sweep` needs for `dims` (with the buffers of `net`'s connectivity mask
    /// and per-neuron constants where it has them) must be addressable. Allocation
    /// failures past this check are refused by [`fit`].
    pub(crate) fn check_memory(
        &self,
        dims: Dims,
        sweep: Sweep,
        net: &Network<'_, T>,
    ) -> Result<(), Error> {
        let masked = net.w_mask.is_some();
        let per_neuron = net.tau.is_some() || net.tau_s.is_some();
        let sparse = self.activity.path != SweepPath::Dense;
        let Dims { n, n_in, n_out, b, t } = dims;
        let p = crate::network::product;
        let (steps_held, currents_held) = match sweep {
            Sweep::Streaming => (Some(2), Some(1)),
            Sweep::Recorded | Sweep::Gradient => (t.checked_add(1), Some(t)),
            Sweep::Checkpointed { segment } => (segment.checked_add(1), Some(segment)),
        };
        let gradient = matches!(sweep, Sweep::Gradient | Sweep::Checkpointed { .. });
        // Checkpoints: v, s and the sparse path's y (one group) at each segment's start.
        let checkpoints = match sweep {
            Sweep::Checkpointed { segment } => p(&[3, t.div_ceil(segment.max(1)), n, b]),
            _ => Some(0),
        };
        let block = crate::gemm::block_steps(b, t);
        // Values of each buffer; `Some(0)` for one this run does not use.
        let parts = [
            steps_held.and_then(|slots| p(&[2, slots, n, b])),
            currents_held.and_then(|slots| p(&[slots, n, b])),
            p(&[2, t, b, n_out]),
            p(&[2, n, n]),
            if masked { p(&[n, n]) } else { Some(0) },
            if gradient { p(&[5, n, b]) } else { Some(0) },
            if gradient { p(&[2, block, n, b]) } else { Some(0) },
            if gradient { p(&[block, b]) } else { Some(0) },
            if gradient { p(&[n, n + n_in + 1 + n_out]) } else { Some(0) },
            if gradient && self.options.input { p(&[t, b, n_in]) } else { Some(0) },
            if gradient && self.options.current { p(&[t, b, n]) } else { Some(0) },
            if per_neuron { p(&[3, n, b]) } else { Some(0) },
            if gradient && self.options.constants { p(&[3, n, b]) } else { Some(0) },
            // The activity-sparse path: y, E, D and two masked states (one group; more
            // groups are refused by `fit` if they do not fit), a step's zone, pairs (two
            // indices and a value) and dots, reserved for every element twice over (the
            // first part also scans whole steps), counted as 16 values per element; and
            // dL/dW^T per thread.
            if sparse { p(&[16, n, b]) } else { Some(0) },
            if sparse && gradient { p(&[self.threads.max(1), n, n]) } else { Some(0) },
            checkpoints,
        ];
        let total = parts.into_iter().try_fold(0usize, |sum, part| sum.checked_add(part?));
        let bytes = total.and_then(|values| values.checked_mul(core::mem::size_of::<T>()));
        let shape = || format!("T = {t}, N = {n}, B = {b}, n_in = {n_in}, n_out = {n_out}");
        let limit = self.memory_limit.unwrap_or(isize::MAX as usize);
        match bytes {
            Some(bytes) if bytes <= limit => Ok(()),
            Some(bytes) => Err(Error::TooLarge {
                what: format!(
                    "the buffers of this run ({}, {}) need {:.3} GB, more than the \
                     workspace's memory limit of {:.3} GB",
                    shape(),
                    T::NAME,
                    bytes as f64 / 1e9,
                    limit as f64 / 1e9
                ),
            }),
            None => Err(Error::TooLarge {
                what: format!(
                    "the buffers of this run ({}) hold more {} values than memory can address",
                    shape(),
                    T::NAME
                ),
            }),
        }
    }

    /// Checks the network's per-neuron time constants against the rules of
    /// docs/model.md sections 4-5 with the step's h, gate and neuron, and tiles
    /// h/tau_j, 1 - h/tau_s,j and 1/tau_s,j over the trials into `rates`; empties
    /// `rates` when both constants are the step's shared ones.
    pub(crate) fn compile_constants<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        net: &Network<'_, T>,
        dims: Dims,
    ) -> Result<(), Error> {
        if net.tau.is_none() && net.tau_s.is_none() {
            self.rates.clear();
            return Ok(());
        }
        let config = step.config();
        let h = config.h;
        let (n, nb) = (dims.n, dims.nb());
        fit(&mut self.rates, 3 * nb)?;
        let (k, rest) = self.rates.split_at_mut(nb);
        let (decay, inv_tau_s) = rest.split_at_mut(nb);
        for j in 0..n {
            let tau = net.tau.map_or(config.tau, |tau| tau[j].to_f64());
            let tau_s = net.tau_s.map_or(config.tau_s, |tau_s| tau_s[j].to_f64());
            config.validate_neuron_constants(step.neuron(), j, tau, tau_s)?;
            let fault = |array: &'static str, value: f64, rule: String| {
                Err(Error::InvalidTimeConstant { array, neuron: j, value, rule })
            };
            let derived =
                [("tau", tau, "h/tau", h / tau), ("tau_s", tau_s, "1/tau_s", 1.0 / tau_s)];
            for (array, value, name, derived) in derived {
                let compiled = T::from_f64(derived);
                if !(compiled.is_finite() && compiled >= T::MIN_POSITIVE) {
                    let rule = format!("{name} = {derived:e} is not a normal {} number", T::NAME);
                    return fault(array, value, rule);
                }
            }
            let values = [h / tau, 1.0 - h / tau_s, 1.0 / tau_s].map(T::from_f64);
            for trial in 0..dims.b {
                let at = trial * n + j;
                (k[at], decay[at], inv_tau_s[at]) = (values[0], values[1], values[2]);
            }
        }
        Ok(())
    }

    /// Sizes the activity-sparse path's buffers and groups the neurons by synaptic
    /// decay 1 - h/tau_s,j (one group for a shared tau_s); after
    /// [`Self::compile_constants`].
    pub(crate) fn prepare_activity<N: Neuron>(
        &mut self,
        step: &Step<T, N>,
        dims: Dims,
    ) -> Result<(), Error> {
        let config = step.config();
        let shared = T::from_f64(1.0 - config.h / config.tau_s);
        let nb = dims.nb();
        let rates = &self.rates;
        let decay_of = |j: usize| if rates.is_empty() { shared } else { rates[nb + j] };
        let threads = crate::gemm::sweep_threads(self.threads, dims.n, dims.b);
        self.activity.prepare(dims.n, dims.b, config.gate.delta(), threads, decay_of)
    }

    /// Chooses the form of the sweeps later calls run (docs/model.md sections 2-3, or
    /// the activity-sparse form of section 8); [`SweepPath::Automatic`] by default. Every
    /// path computes the same function; they differ in rounding and in time.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{SweepPath, Workspace};
    /// let mut workspace = Workspace::<f32>::new();
    /// workspace.set_sweep_path(SweepPath::Dense); // no activity probe: N^2 work per step
    /// assert_eq!(workspace.sweep_path(), SweepPath::Dense);
    /// ```
    pub fn set_sweep_path(&mut self, path: SweepPath) {
        self.activity.path = path;
    }

    /// The form of the sweeps of [`Workspace::set_sweep_path`].
    pub fn sweep_path(&self) -> SweepPath {
        self.activity.path
    }

    /// Sets the most memory, in bytes, that the buffers of one run may take; a run that
    /// needs more is refused with [`Error::TooLarge`] before anything is allocated.
    /// `None`: no limit but addressability. The default is this machine's physical
    /// memory where the system says what it is (Linux), else `None`.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Error, Gate, Inputs, Network, Parameters, Record, Step, Workspace};
    /// let step = Step::<f32>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0], [0.0], [0.0], [1.0]);
    /// let net = Network::new(Parameters { n: 1, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let x = vec![0.0; 1000];
    /// let batch = Batch::new(Inputs { b: 1, t: 1000, v0: &[0.0], s0: &[0.0], x: &x });
    /// let mut workspace = Workspace::new();
    /// workspace.set_memory_limit(Some(10_000)); // bytes
    /// let refused = workspace.forward(&step, &net, &batch, Record::Trajectory);
    /// assert!(matches!(refused, Err(Error::TooLarge { .. })));
    /// workspace.forward(&step, &net, &batch, Record::Readout)?; // O(N B + T B n_out) fits
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn set_memory_limit(&mut self, bytes: Option<usize>) {
        self.memory_limit = bytes;
    }

    /// The memory limit of [`Workspace::set_memory_limit`].
    pub fn memory_limit(&self) -> Option<usize> {
        self.memory_limit
    }

    /// Sets the most memory, in bytes, that the recorded trajectory of a
    /// [`gradient`](Workspace::gradient) may take (v_t, s_t for t = 0..=T and I_t for t
    /// = 0..T: (3 T + 2) N B values). A longer run keeps instead a checkpoint of its
    /// state every L ~ sqrt(T) steps and one segment of L steps, and reruns each segment
    /// from its checkpoint for the reverse sweep: memory O(sqrt(T) N B) for about one
    /// more forward sweep of time, and the same gradient, bit for bit, as the recorded
    /// run on the same number of threads. `None`: always record.
    /// [`DEFAULT_RECORDING_LIMIT`] by default.
    ///
    /// # Example
    ///
    /// ```
    /// use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
    ///
    /// let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
    /// let (w, u, i0, o) = ([0.0, 20.0, -20.0, 0.0], [1.5, 0.0], [-0.2, -0.2], [30.0, -30.0]);
    /// let net = Network::new(Parameters { n: 2, n_in: 1, n_out: 1, w: &w, u: &u, i0: &i0, o: &o });
    /// let t = 5000;
    /// let (x, target, mask) = (vec![1.0; t], vec![0.5; t], vec![1.0; t]);
    /// let batch = Batch::new(Inputs { b: 1, t, v0: &[-0.4, -0.4], s0: &[0.0, 0.0], x: &x });
    /// let loss = Loss::mse(&target, &mask);
    /// let mut workspace = Workspace::new();
    /// let recorded = workspace.gradient(&step, &net, &batch, &loss)?.clone();
    /// workspace.set_recording_limit(Some(10_000)); // bytes: less than 5000 steps need
    /// let checkpointed = workspace.gradient(&step, &net, &batch, &loss)?;
    /// assert_eq!(&recorded, checkpointed);
    /// assert!(workspace.trajectory().is_none()); // not every step is held
    /// # Ok::<(), spikegrad::Error>(())
    /// ```
    pub fn set_recording_limit(&mut self, bytes: Option<usize>) {
        self.recording_limit = bytes;
    }

    /// The limit of [`Workspace::set_recording_limit`].
    pub fn recording_limit(&self) -> Option<usize> {
        self.recording_limit
    }
}

/// The sum of one step's s values, in f64, in order.
pub(crate) fn step_charge<T: Real>(s: &[T]) -> f64 {
    s.iter().fold(0.0, |total, x| total + x.to_f64())
}

fn rayon_threads() -> usize {
    match faer::Par::rayon(0) {
        faer::Par::Rayon(n) => n.get(),
        faer::Par::Seq => 1,
    }
}

/// The per-neuron constants compiled into `rates` (3 N B values) as the kernels read
/// them, or `None` when `rates` is empty (the step's shared constants).
pub(crate) fn per_neuron<T: Real>(rates: &[T], nb: usize) -> Option<PerNeuronConstants<'_, T>> {
    (!rates.is_empty()).then(|| PerNeuronConstants {
        k: &rates[..nb],
        decay: &rates[nb..2 * nb],
        inv_tau_s: &rates[2 * nb..3 * nb],
    })
}
