//! The kernels on a checked case (docs/model.md sections 2-7): [`gradient_of`] and
//! [`forward_of`] take a [`CaseRef`], a case whose arrays are borrowed slices of one
//! precision, so a caller whose arrays already have the kernels' layout (the Python
//! module's numpy arrays) computes on them without a copy; [`kernels_gradient`] runs a
//! loaded case folder.

use super::arrays::Dims;
use super::gradients::Gradients;
use super::{Case, CaseLoss, NeuronModel};
use spikegrad::{
    Batch, Config, GradientOptions, HopfPhase, Inputs, Loss, Network, Neuron, Parameters, Real,
    Record, Step, Theta, ThetaMidpoint, Workspace,
};

/// A checked case whose arrays are slices of one precision: what the kernels read,
/// borrowed from wherever the arrays live (a case folder's values cast to `T`, or a
/// Python caller's numpy arrays).
#[derive(Debug, Clone, Copy)]
pub struct CaseRef<'a, T> {
    /// Step, time constants, gate.
    pub config: Config,
    /// The neuron model.
    pub neuron: NeuronModel,
    /// Dimensions.
    pub dims: Dims,
    /// W (N, N), U (N, n_in), I0 (N), O (n_out, N), v0 and s0 ((B, N), or (N,) where
    /// `dims.shared_state` says), x (T, B, n_in).
    pub arrays: [&'a [T]; 7],
    /// W_mask (N, N).
    pub w_mask: Option<&'a [T]>,
    /// I_ext (T, B, N).
    pub i_ext: Option<&'a [T]>,
    /// Per-neuron tau and tau_s, (N) each.
    pub per_neuron: [Option<&'a [T]>; 2],
    /// The loss with its rate penalty (`None`: a forward run only).
    pub loss: Option<Loss<'a, T>>,
    /// The most bytes the gradient's recorded trajectory may take before it is
    /// checkpointed ([`Workspace::set_recording_limit`]).
    pub recording_limit: Option<usize>,
    /// Whether the gradient includes dL/dtau, dL/dtau_s and dL/dDelta (docs/model.md
    /// section 7): one more elementwise pass per reverse step, and the reverse sweep runs
    /// dense (the constants need the costates of every neuron, active or not).
    pub constants: bool,
}

/// The kernels' network and trials of `case` (v0 and s0 tiled to (B, N) into `tiled`
/// where they are shared); what both [`gradient`] and [`forward`] sweep.
fn network_and_batch<'a, T: Real>(
    case: &CaseRef<'a, T>,
    tiled: &'a mut [Vec<T>; 2],
) -> (Network<'a, T>, Batch<'a, T>) {
    let Dims { n, n_in, n_out, b, t, shared_state, .. } = case.dims;
    let [w, u, i0, o, v0, s0, x] = case.arrays;
    let mut net = Network::new(Parameters { n, n_in, n_out, w, u, i0, o });
    if let Some(mask) = case.w_mask {
        net = net.with_mask(mask);
    }
    if let Some(tau) = case.per_neuron[0] {
        net = net.with_tau(tau);
    }
    if let Some(tau_s) = case.per_neuron[1] {
        net = net.with_tau_s(tau_s);
    }
    for ((slot, state), shared) in tiled.iter_mut().zip([v0, s0]).zip(shared_state) {
        if shared {
            *slot = state.repeat(b);
        }
    }
    let [v0_tiled, s0_tiled] = tiled;
    let v0 = if shared_state[0] { &v0_tiled[..] } else { v0 };
    let s0 = if shared_state[1] { &s0_tiled[..] } else { s0 };
    let mut batch = Batch::new(Inputs { b, t, v0, s0, x });
    if let Some(i_ext) = case.i_ext {
        batch = batch.with_external_current(i_ext);
    }
    (net, batch)
}

/// The loss and every gradient of docs/model.md sections 3, 5, 6 and 7 for `case`, by
/// the kernels in `T` with `neuron` (the case's loss must be given).
pub fn gradient<T: Real, N: Neuron>(
    case: &CaseRef<'_, T>,
    neuron: N,
) -> Result<Gradients, spikegrad::Error> {
    let mut tiled = [Vec::new(), Vec::new()];
    let (net, batch) = network_and_batch(case, &mut tiled);
    // Without a loss, G = [] of the linear loss: the kernels refuse it, naming G's length.
    let loss = case.loss.unwrap_or(Loss::linear(&[]));
    let step = Step::<T, N>::with_neuron(&case.config, neuron)?;
    let mut workspace = Workspace::<T>::new();
    workspace.set_recording_limit(case.recording_limit);
    let options = GradientOptions::default().with_input(true).with_current(case.i_ext.is_some());
    let options = options.with_constants(case.constants);
    let g = workspace.gradient_with_options(&step, &net, &batch, &loss, options)?;
    let widen = |x: &[T]| x.iter().map(|x| x.to_f64()).collect();
    let mut values = vec![
        widen(&g.w),
        widen(&g.u),
        widen(&g.i0),
        widen(&g.o),
        widen(&g.v0),
        widen(&g.s0),
        widen(&g.x),
    ];
    if case.i_ext.is_some() {
        values.push(widen(&g.current));
    }
    Ok(Gradients::new(case.dims, g.loss, values, [widen(&g.tau), widen(&g.tau_s)], g.delta))
}

/// A forward run of `case` (docs/model.md sections 2 and 5): the readout (T, B, n_out),
/// the spikes as rows [trial, neuron, step] ([`spike_rows`]), and the state
/// (v_T, s_T), (B, N) each, after the last step.
pub struct Forward<T> {
    /// Readout o_1..o_T, (T, B, n_out).
    pub readout: Vec<T>,
    /// Spikes, (M, 3) flattened: [trial, neuron, step].
    pub spikes: Vec<i64>,
    /// v_T, (B, N).
    pub v: Vec<T>,
    /// s_T, (B, N).
    pub s: Vec<T>,
}

/// Runs `case` forward by the kernels in `T` with `neuron`, recording the trajectory
/// to find the spikes.
pub fn forward<T: Real, N: Neuron>(
    case: &CaseRef<'_, T>,
    neuron: N,
) -> Result<Forward<T>, spikegrad::Error> {
    let mut tiled = [Vec::new(), Vec::new()];
    let (net, batch) = network_and_batch(case, &mut tiled);
    let step = Step::<T, N>::with_neuron(&case.config, neuron)?;
    let mut workspace = Workspace::<T>::new();
    workspace.forward(&step, &net, &batch, Record::Trajectory)?;
    let Dims { n, b, t, .. } = case.dims;
    let trajectory = workspace.trajectory().expect("a recorded run has a trajectory");
    let v: Vec<&[T]> = (0..=t).map(|s| trajectory.v(s).expect("recorded")).collect();
    let mut spikes = Vec::new();
    spike_rows(&v, b, n, 0, &mut spikes);
    Ok(Forward {
        readout: workspace.readout().expect("recorded").to_vec(),
        spikes,
        v: v[t].to_vec(),
        s: trajectory.s(t).expect("recorded").to_vec(),
    })
}

/// `$f(case, neuron)` with the neuron model the case names.
macro_rules! by_neuron {
    ($f:ident, $case:expr) => {
        match $case.neuron {
            NeuronModel::Theta => $f($case, Theta),
            NeuronModel::HopfPhase => $f($case, HopfPhase),
            NeuronModel::ThetaMidpoint => $f($case, ThetaMidpoint),
        }
    };
}

/// [`gradient`] with the neuron model `case` names.
pub fn gradient_of<T: Real>(case: &CaseRef<'_, T>) -> Result<Gradients, spikegrad::Error> {
    by_neuron!(gradient, case)
}

/// [`forward`] with the neuron model `case` names.
pub fn forward_of<T: Real>(case: &CaseRef<'_, T>) -> Result<Forward<T>, spikegrad::Error> {
    by_neuron!(forward, case)
}

/// Appends to `rows` the spikes of a recorded trajectory `v` (v_0..v_T, each (B, N)) as
/// rows [trial, neuron, step], sorted by trial, then step, then neuron: step t (0-based)
/// is the step whose update wrapped the phase (v_{t+1} < v_t - 1); trials are numbered
/// from `first_trial`.
pub fn spike_rows<T: Real>(
    v: &[&[T]],
    b: usize,
    n: usize,
    first_trial: usize,
    rows: &mut Vec<i64>,
) {
    let one = T::from_f64(1.0);
    for trial in 0..b {
        for (step_t, pair) in v.windows(2).enumerate() {
            let (now, next) = (&pair[0][trial * n..][..n], &pair[1][trial * n..][..n]);
            for neuron in 0..n {
                if next[neuron] < now[neuron] - one {
                    rows.extend([(first_trial + trial) as i64, neuron as i64, step_t as i64]);
                }
            }
        }
    }
}

/// The loss and every gradient of a loaded case folder by the kernels in `T`: its f64
/// values cast to `T` (exact for a float32 folder computed in f32). A run whose
/// recorded trajectory would take more than `recording_limit` bytes is checkpointed.
pub fn kernels_gradient<T: Real>(
    case: &Case,
    recording_limit: Option<usize>,
) -> Result<Gradients, spikegrad::Error> {
    let cast = |a: &[f64]| -> Vec<T> { a.iter().map(|&x| T::from_f64(x)).collect() };
    let v: Vec<Vec<T>> = case.values.iter().map(|a| cast(a)).collect();
    let w_mask = case.w_mask.as_deref().map(cast);
    let i_ext = case.i_ext.as_deref().map(cast);
    let (tau, tau_s) = (case.tau.as_deref().map(cast), case.tau_s.as_deref().map(cast));
    let (first, second) = match &case.loss {
        CaseLoss::Mse { target, mask } => (cast(target), cast(mask)),
        CaseLoss::Linear { g } => (cast(g), Vec::new()),
        CaseLoss::CrossEntropy { .. } => (Vec::new(), Vec::new()),
    };
    let loss = match &case.loss {
        CaseLoss::Mse { .. } => Loss::mse(&first, &second),
        CaseLoss::Linear { .. } => Loss::linear(&first),
        CaseLoss::CrossEntropy { labels, from_step, to_step } => {
            Loss::cross_entropy(labels, *from_step, *to_step)
        }
    }
    .with_rate_penalty(case.rate_penalty);
    let dims = case.dims;
    // A shared state is held tiled to (B, N): its first row is the state itself.
    let state = |i: usize, shared: bool| if shared { &v[i][..case.dims.n] } else { &v[i][..] };
    let mut arrays: [&[T]; 7] = std::array::from_fn(|i| &v[i][..]);
    arrays[4] = state(4, case.dims.shared_state[0]);
    arrays[5] = state(5, case.dims.shared_state[1]);
    let case_ref = CaseRef {
        config: case.config,
        neuron: case.neuron,
        dims,
        arrays,
        w_mask: w_mask.as_deref(),
        i_ext: i_ext.as_deref(),
        per_neuron: [tau.as_deref(), tau_s.as_deref()],
        loss: Some(loss),
        recording_limit,
        constants: true,
    };
    gradient_of(&case_ref)
}
