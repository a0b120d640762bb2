//! `spikegrad grad CASE_DIR`: the loss and every gradient of docs/model.md sections 3,
//! 5, 6 and 7 for a case folder, written as `loss.json`, `dconfig.json` (dL/dtau,
//! dL/dtau_s where shared, dL/dDelta) and `dW dU dI0 dO dv0 ds0 dx` (and `dI_ext` for a
//! case with an external current, `dtau` / `dtau_s` for per-neuron constants) .npy
//! files.

use crate::case::{self, Case, NeuronModel};
use crate::npy::{self, Dtype};
use crate::output::{write_json, Staging};
use spikegrad::{
    Batch, GradientOptions, HopfPhase, Loss, Network, Neuron, Real, Step, Theta, Workspace,
};
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
    /// Names and shapes from the case; the values in the order of `values`:
    /// dW dU dI0 dO dv0 ds0 dx dI_ext (the last only when the case has I_ext); then the
    /// gradients of the constants, per neuron (`dtau`, `dtau_s`, (N) each) and of Delta.
    fn new(
        case: &Case,
        loss: f64,
        values: Vec<Vec<f64>>,
        [dtau, dtau_s]: [Vec<f64>; 2],
        ddelta: Option<f64>,
    ) -> Self {
        let (n, n_in, n_out, b, t) = (case.n, case.n_in, case.n_out, case.b, case.t);
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
                "dv0" => case.shared_state[0],
                "ds0" => case.shared_state[1],
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
        for (key, file, per_neuron, values) in
            [("tau", "dtau", &case.tau, dtau), ("tau_s", "dtau_s", &case.tau_s, dtau_s)]
        {
            if per_neuron.is_some() {
                arrays.push((file, vec![n], values));
            } else {
                dconfig.insert(key.into(), values.iter().sum::<f64>().into());
            }
        }
        dconfig.insert("delta".into(), ddelta.into());
        Gradients { loss, arrays, dconfig: dconfig.into() }
    }
}

fn kernels<T: Real, N: Neuron>(case: &Case, neuron: N) -> Result<Gradients, spikegrad::Error> {
    let cast = |a: &[f64]| -> Vec<T> { a.iter().map(|&x| T::from_f64(x)).collect() };
    let v: Vec<Vec<T>> = case.values.iter().map(|a| cast(a)).collect();
    let w_mask = case.w_mask.as_deref().map(cast);
    let i_ext = case.i_ext.as_deref().map(cast);
    let (tau, tau_s) = (case.tau.as_deref().map(cast), case.tau_s.as_deref().map(cast));
    let mut net = Network::new(case.n, case.n_in, case.n_out, &v[0], &v[1], &v[2], &v[3]);
    if let Some(mask) = &w_mask {
        net = net.with_mask(mask);
    }
    if let Some(tau) = &tau {
        net = net.with_tau(tau);
    }
    if let Some(tau_s) = &tau_s {
        net = net.with_tau_s(tau_s);
    }
    let mut batch = Batch::new(case.b, case.t, &v[4], &v[5], &v[6]);
    if let Some(i_ext) = &i_ext {
        batch = batch.with_external_current(i_ext);
    }
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
    let step = Step::<T, N>::with_neuron(&case.config, neuron)?;
    let mut workspace = Workspace::<T>::new();
    let options = GradientOptions::default().with_input(true).with_current(i_ext.is_some());
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
    if i_ext.is_some() {
        values.push(widen(&g.current));
    }
    Ok(Gradients::new(case, g.loss, values, [widen(&g.tau), widen(&g.tau_s)], g.delta))
}

fn reference(case: &Case) -> Result<Gradients, String> {
    use spikegrad_reference as r;
    let cfg = case::reference_config(&case.config)?;
    let v = &case.values;
    let net = r::Network {
        n: case.n,
        n_in: case.n_in,
        n_out: case.n_out,
        w: v[0].clone(),
        u: v[1].clone(),
        i0: v[2].clone(),
        o: v[3].clone(),
        w_mask: case.w_mask.clone(),
        tau: case.tau.clone(),
        tau_s: case.tau_s.clone(),
    };
    let batch = r::Batch {
        b: case.b,
        t: case.t,
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
    Ok(Gradients::new(case, g.loss, values, [g.tau, g.tau_s], g.delta))
}

/// Computes the gradients of `case` with `engine` in `precision`.
pub fn compute(case: &Case, engine: Engine, precision: Dtype) -> Result<Gradients, String> {
    let computed = match (engine, precision, case.neuron) {
        (Engine::Reference, _, _) => return reference(case),
        (Engine::Kernels, Dtype::F32, NeuronModel::Theta) => kernels::<f32, _>(case, Theta),
        (Engine::Kernels, Dtype::F64, NeuronModel::Theta) => kernels::<f64, _>(case, Theta),
        (Engine::Kernels, Dtype::F32, NeuronModel::HopfPhase) => kernels::<f32, _>(case, HopfPhase),
        (Engine::Kernels, Dtype::F64, NeuronModel::HopfPhase) => kernels::<f64, _>(case, HopfPhase),
    };
    computed.map_err(|e| e.to_string())
}

/// Writes `gradients` into `out` (replacing it whole, or leaving it untouched on failure).
pub fn write(out: &Path, gradients: &Gradients, precision: Dtype) -> std::io::Result<()> {
    let staging = Staging::new(out)?;
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
    let precision = precision.unwrap_or(case.dtype);
    let gradients = compute(&case, engine, precision)
        .map_err(|e| case::one_line(&format!("{}: the run failed: {e}", case_dir.display())))?;
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| case_dir.join("gradient"));
    write(&out, &gradients, precision)
        .map_err(|e| case::one_line(&format!("{}: cannot write output: {e}", out.display())))?;
    Ok(format!(
        "loss {:.6e} ({} loss, {} neuron, N {}, n_in {}, n_out {}, B {}, T {}; {engine:?} engine, {precision}) -> {}",
        gradients.loss,
        case::kind(&case.loss.task),
        case.neuron.name(),
        case.n,
        case.n_in,
        case.n_out,
        case.b,
        case.t,
        out.display()
    ))
}
