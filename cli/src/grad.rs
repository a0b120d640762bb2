//! `spikegrad grad CASE_DIR`: the loss and every gradient of docs/model.md sections 3,
//! 5, 6 and 7 for a case folder, written as `loss.json`, `dconfig.json` (dL/dtau,
//! dL/dtau_s where shared, dL/dDelta) and `dW dU dI0 dO dv0 ds0 dx` (and `dI_ext` for a
//! case with an external current, `dtau` / `dtau_s` for per-neuron constants) .npy
//! files. The sweeps themselves ([`gradient_of`], [`forward_of`]) take a [`CaseRef`]: a
//! checked case whose arrays are borrowed slices, so the Python module runs them on the
//! caller's numpy arrays in place.

use crate::case::{self, Case, NeuronModel};
use crate::case_arrays::Dims;
use spikegrad::{
    Batch, Config, GradientOptions, HopfPhase, Loss, Network, Neuron, Real, Step, Theta,
    ThetaMidpoint, Workspace,
};
use spikegrad_io::npy::{self, Dtype};
use spikegrad_io::staging::{write_json, Staging, Writer};
use spikegrad_reference::TaskLoss;
use std::path::Path;

/// Which implementation computes the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The SIMD kernels (f32 or f64).
    Kernels,
    /// The reference implementation (always computes in f64).
    Reference,
}

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
}

/// The loss and the gradients, in f64 (exact for f32 results), named as the output
/// files (without `.npy`), with their shapes.
pub struct Gradients {
    /// L.
    pub loss: f64,
    /// (name, shape, values): dW dU dI0 dO dv0 ds0 dx, dI_ext for a case with I_ext,
    /// dtau and dtau_s for per-neuron constants.
    pub arrays: Vec<(&'static str, Vec<usize>, Vec<f64>)>,
    /// `dconfig.json`: dL/dtau and dL/dtau_s where they are shared (the sum of the
    /// per-neuron derivatives, docs/model.md section 7), dL/dDelta (null for the boxcar).
    pub dconfig: serde_json::Value,
}

impl Gradients {
    /// Names and shapes from the case's dimensions; the values in the order of `values`:
    /// dW dU dI0 dO dv0 ds0 dx dI_ext (the last only when the case has I_ext), with dv0
    /// and ds0 per trial (B, N); then the gradients of the constants, per neuron (`dtau`,
    /// `dtau_s`, (N) each) and of Delta.
    fn new(
        dims: Dims,
        loss: f64,
        values: Vec<Vec<f64>>,
        [dtau, dtau_s]: [Vec<f64>; 2],
        ddelta: Option<f64>,
    ) -> Self {
        let Dims { n, n_in, n_out, b, t, .. } = dims;
        let shapes = [
            ("dW", vec![n, n]),
            ("dU", vec![n, n_in]),
            ("dI0", vec![n]),
            ("dO", vec![n_out, n]),
            ("dv0", vec![b, n]),
            ("ds0", vec![b, n]),
            ("dx", vec![t, b, n_in]),
            ("dI_ext", vec![t, b, n]),
        ];
        let arrays = shapes.into_iter().zip(values).map(|((name, shape), v)| {
            // A state shared by every trial: its gradient is the sum over trials.
            let shared = match name {
                "dv0" => dims.shared_state[0],
                "ds0" => dims.shared_state[1],
                _ => false,
            };
            if shared {
                let summed = (0..n).map(|i| (0..b).map(|k| v[k * n + i]).sum()).collect();
                (name, vec![n], summed)
            } else {
                (name, shape, v)
            }
        });
        let mut arrays: Vec<_> = arrays.collect();
        let mut dconfig = serde_json::Map::new();
        let constants = [("tau", "dtau"), ("tau_s", "dtau_s")].into_iter().zip(dims.per_neuron);
        for (((key, file), per_neuron), values) in constants.zip([dtau, dtau_s]) {
            if per_neuron {
                arrays.push((file, vec![n], values));
            } else {
                dconfig.insert(key.into(), values.iter().sum::<f64>().into());
            }
        }
        dconfig.insert("delta".into(), ddelta.into());
        Gradients { loss, arrays, dconfig: dconfig.into() }
    }
}

/// The kernels' network and trials of `case` (v0 and s0 tiled to (B, N) into `tiled`
/// where they are shared); what both [`gradient`] and [`forward`] sweep.
fn network_and_batch<'a, T: Real>(
    case: &CaseRef<'a, T>,
    tiled: &'a mut [Vec<T>; 2],
) -> (Network<'a, T>, Batch<'a, T>) {
    let Dims { n, n_in, n_out, b, t, shared_state, .. } = case.dims;
    let [w, u, i0, o, v0, s0, x] = case.arrays;
    let mut net = Network::new(n, n_in, n_out, w, u, i0, o);
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
    let mut batch = Batch::new(b, t, v0, s0, x);
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
    workspace.set_gradient_options(options.with_constants(true));
    let g = workspace.gradient(&step, &net, &batch, &loss)?;
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
/// the spikes as rows [trial, neuron, step] ([`crate::run::spike_rows`]), and the state
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
    workspace.forward(&step, &net, &batch, true)?;
    let Dims { n, b, t, .. } = case.dims;
    let trajectory = workspace.trajectory().expect("a recorded run has a trajectory");
    let v: Vec<&[T]> = (0..=t).map(|s| trajectory.v(s).expect("recorded")).collect();
    let mut spikes = Vec::new();
    crate::run::spike_rows(&v, b, n, 0, &mut spikes);
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

/// The kernels on a loaded case folder: its f64 values cast to `T`.
fn kernels<T: Real>(
    case: &Case,
    recording_limit: Option<usize>,
) -> Result<Gradients, spikegrad::Error> {
    let cast = |a: &[f64]| -> Vec<T> { a.iter().map(|&x| T::from_f64(x)).collect() };
    let v: Vec<Vec<T>> = case.values.iter().map(|a| cast(a)).collect();
    let w_mask = case.w_mask.as_deref().map(cast);
    let i_ext = case.i_ext.as_deref().map(cast);
    let (tau, tau_s) = (case.tau.as_deref().map(cast), case.tau_s.as_deref().map(cast));
    let (first, second) = match &case.loss.task {
        TaskLoss::Mse { target, mask } => (cast(target), cast(mask)),
        TaskLoss::Linear { g } => (cast(g), Vec::new()),
        TaskLoss::CrossEntropy { .. } => (Vec::new(), Vec::new()),
    };
    let loss = match &case.loss.task {
        TaskLoss::Mse { .. } => Loss::mse(&first, &second),
        TaskLoss::Linear { .. } => Loss::linear(&first),
        TaskLoss::CrossEntropy { labels, from_step, to_step } => {
            Loss::cross_entropy(labels, *from_step, *to_step)
        }
    }
    .with_rate_penalty(case.loss.rate_penalty);
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
    };
    gradient_of(&case_ref)
}

fn reference(case: &Case) -> Result<Gradients, String> {
    use spikegrad_reference as r;
    let cfg = case::reference_config(&case.config)?;
    let v = &case.values;
    let net = r::Network {
        n: case.dims.n,
        n_in: case.dims.n_in,
        n_out: case.dims.n_out,
        w: v[0].clone(),
        u: v[1].clone(),
        i0: v[2].clone(),
        o: v[3].clone(),
        w_mask: case.w_mask.clone(),
        tau: case.tau.clone(),
        tau_s: case.tau_s.clone(),
    };
    let batch = r::Batch {
        b: case.dims.b,
        t: case.dims.t,
        v0: v[4].clone(),
        s0: v[5].clone(),
        x: v[6].clone(),
        i_ext: case.i_ext.clone(),
    };
    let g = r::gradient_with(&cfg, &net, &batch, &case.loss, case.neuron.reference())
        .map_err(|e| e.to_string())?;
    let mut values = vec![g.w, g.u, g.i0, g.o, g.v0, g.s0, g.x];
    if case.i_ext.is_some() {
        values.push(g.current);
    }
    Ok(Gradients::new(case.dims, g.loss, values, [g.tau, g.tau_s], g.delta))
}

/// Computes the gradients of `case` with `engine` in `precision`; the kernels
/// checkpoint a run whose recorded trajectory would take more than `recording_limit`
/// bytes.
pub fn compute(
    case: &Case,
    engine: Engine,
    precision: Dtype,
    recording_limit: Option<usize>,
) -> Result<Gradients, String> {
    let computed = match (engine, precision) {
        (Engine::Reference, _) => return reference(case),
        (Engine::Kernels, Dtype::F32) => kernels::<f32>(case, recording_limit),
        (Engine::Kernels, Dtype::F64) => kernels::<f64>(case, recording_limit),
    };
    computed.map_err(|e| e.to_string())
}

/// Writes `gradients` into `out` (replacing it whole, or leaving it untouched on failure).
pub fn write(out: &Path, gradients: &Gradients, precision: Dtype) -> std::io::Result<()> {
    let staging = Staging::new(out, Writer::Grad)?;
    write_json(&staging.path().join("loss.json"), &serde_json::json!({ "loss": gradients.loss }))?;
    write_json(&staging.path().join("dconfig.json"), &gradients.dconfig)?;
    for (name, shape, values) in &gradients.arrays {
        let path = staging.path().join(format!("{name}.npy"));
        match precision {
            Dtype::F64 => npy::write(&path, shape, values)?,
            Dtype::F32 => {
                npy::write(&path, shape, &values.iter().map(|&x| x as f32).collect::<Vec<_>>())?
            }
        }
    }
    staging.commit()
}

/// The whole command; the error is the one line to print.
pub fn run(
    case_dir: &Path,
    out: Option<&Path>,
    precision: Option<Dtype>,
    engine: Engine,
    recording_limit: Option<usize>,
) -> Result<String, String> {
    let case = case::load(case_dir)
        .map_err(|e| case::one_line(&format!("{}: {e}", case_dir.display())))?;
    for file in &case.unused {
        eprintln!(
            "warning: {}: {file} is not used by this case ({} loss{}); ignored",
            case::one_line(&case_dir.display().to_string()),
            case::kind(&case.loss.task),
            if case.i_ext.is_some() { "" } else { ", no I_ext" }
        );
    }
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| case_dir.join("gradient"));
    let label = format!("--out {}", out.display());
    spikegrad_io::staging::check_out(&label, &out, Writer::Grad)
        .map_err(|e| case::one_line(&e.to_string()))?;
    let precision = precision.unwrap_or(case.dtype);
    let gradients = compute(&case, engine, precision, recording_limit)
        .map_err(|e| case::one_line(&format!("{}: the run failed: {e}", case_dir.display())))?;
    write(&out, &gradients, precision)
        .map_err(|e| case::one_line(&format!("{}: cannot write output: {e}", out.display())))?;
    Ok(format!(
        "loss {:.6e} ({} loss, {} neuron, N {}, n_in {}, n_out {}, B {}, T {}; {engine:?} engine, {precision}) -> {}",
        gradients.loss,
        case::kind(&case.loss.task),
        case.neuron.name(),
        case.dims.n,
        case.dims.n_in,
        case.dims.n_out,
        case.dims.b,
        case.dims.t,
        out.display()
    ))
}
