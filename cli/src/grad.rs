//! `spikegrad grad CASE_DIR`: the loss and every gradient of docs/model.md sections 3,
//! 5 and 6 for a case folder, written as `loss.json` and `dW dU dI0 dO dv0 ds0 dx`
//! (and `dI_ext` for a case with an external current) .npy files.

use crate::case::{self, Case};
use crate::npy::{self, Dtype};
use crate::output::{write_json, Staging};
use spikegrad::{Batch, GradientOptions, Loss, Network, Real, Step, Workspace};
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
    /// (name, shape, values): dW dU dI0 dO dv0 ds0 dx, and dI_ext for a case with I_ext.
    pub arrays: Vec<(&'static str, Vec<usize>, Vec<f64>)>,
}

impl Gradients {
    /// Names and shapes from the case; the values in the order of `values`:
    /// dW dU dI0 dO dv0 ds0 dx dI_ext (the last only when the case has I_ext).
    fn new(case: &Case, loss: f64, values: Vec<Vec<f64>>) -> Self {
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
        let arrays = shapes.into_iter().zip(values).map(|((name, shape), v)| (name, shape, v));
        Gradients { loss, arrays: arrays.collect() }
    }
}

fn kernels<T: Real>(case: &Case) -> Result<Gradients, spikegrad::Error> {
    let cast = |a: &[f64]| -> Vec<T> { a.iter().map(|&x| T::from_f64(x)).collect() };
    let v: Vec<Vec<T>> = case.values.iter().map(|a| cast(a)).collect();
    let w_mask = case.w_mask.as_deref().map(cast);
    let i_ext = case.i_ext.as_deref().map(cast);
    let mut net = Network::new(case.n, case.n_in, case.n_out, &v[0], &v[1], &v[2], &v[3]);
    if let Some(mask) = &w_mask {
        net = net.with_mask(mask);
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
    let step = Step::<T>::new(&case.config)?;
    let mut workspace = Workspace::<T>::new();
    let options = GradientOptions::default().with_input(true).with_current(i_ext.is_some());
    workspace.set_gradient_options(options);
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
    Ok(Gradients::new(case, g.loss, values))
}

fn reference(case: &Case) -> Result<Gradients, String> {
    use spikegrad_reference as r;
    let gate = match case.config.gate {
        spikegrad::Gate::Boxcar { delta } => r::Gate::Boxcar { delta },
        spikegrad::Gate::RaisedCosine { delta } => r::Gate::RaisedCosine { delta },
        other => return Err(format!("the reference engine has no gate {other:?}")),
    };
    let c = &case.config;
    let cfg = r::Config { h: c.h, tau: c.tau, tau_s: c.tau_s, gate };
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
    };
    let batch = r::Batch {
        b: case.b,
        t: case.t,
        v0: v[4].clone(),
        s0: v[5].clone(),
        x: v[6].clone(),
        i_ext: case.i_ext.clone(),
    };
    let g = r::gradient(&cfg, &net, &batch, &case.loss).map_err(|e| e.to_string())?;
    let mut values = vec![g.w, g.u, g.i0, g.o, g.v0, g.s0, g.x];
    if case.i_ext.is_some() {
        values.push(g.current);
    }
    Ok(Gradients::new(case, g.loss, values))
}

/// Computes the gradients of `case` with `engine` in `precision`.
pub fn compute(case: &Case, engine: Engine, precision: Dtype) -> Result<Gradients, String> {
    match (engine, precision) {
        (Engine::Kernels, Dtype::F32) => kernels::<f32>(case).map_err(|e| e.to_string()),
        (Engine::Kernels, Dtype::F64) => kernels::<f64>(case).map_err(|e| e.to_string()),
        (Engine::Reference, _) => reference(case),
    }
}

/// Writes `gradients` into `out` (replacing it whole, or leaving it untouched on failure).
pub fn write(out: &Path, gradients: &Gradients, precision: Dtype) -> std::io::Result<()> {
    let staging = Staging::new(out)?;
    write_json(&staging.path().join("loss.json"), &serde_json::json!({ "loss": gradients.loss }))?;
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
        "loss {:.6e} ({} loss, N {}, n_in {}, n_out {}, B {}, T {}; {engine:?} engine, {precision}) -> {}",
        gradients.loss,
        case::kind(&case.loss.task),
        case.n,
        case.n_in,
        case.n_out,
        case.b,
        case.t,
        out.display()
    ))
}
