//! `spikegrad grad CASE_DIR`: the loss and every gradient of MODEL.md section 3 for a
//! case folder, written as `loss.json` and `dW dU dI0 dO dv0 ds0` .npy files.

use crate::case::{self, Case};
use crate::npy::{self, Dtype};
use crate::output::{write_json, Staging};
use spikegrad::{Batch, Network, Real, Step, Workspace};
use std::path::Path;

/// Which implementation computes the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The SIMD kernels (f32 or f64).
    Kernels,
    /// The reference implementation (always computes in f64).
    Reference,
}

/// The loss and the six gradients, in f64 (exact for f32 results).
pub struct Gradients {
    /// L.
    pub loss: f64,
    /// dW, dU, dI0, dO, dv0, ds0.
    pub arrays: [Vec<f64>; 6],
}

/// Names and shapes of the output arrays.
pub fn output_shapes(case: &Case) -> [(&'static str, Vec<usize>); 6] {
    let (n, n_in, n_out, b) = (case.n, case.n_in, case.n_out, case.b);
    [
        ("dW", vec![n, n]),
        ("dU", vec![n, n_in]),
        ("dI0", vec![n]),
        ("dO", vec![n_out, n]),
        ("dv0", vec![b, n]),
        ("ds0", vec![b, n]),
    ]
}

fn kernels<T: Real>(case: &Case) -> Result<Gradients, spikegrad::Error> {
    let v: Vec<Vec<T>> =
        case.values.iter().map(|a| a.iter().map(|&x| T::from_f64(x)).collect()).collect();
    let net = Network {
        n: case.n,
        n_in: case.n_in,
        n_out: case.n_out,
        w: &v[0],
        u: &v[1],
        i0: &v[2],
        o: &v[3],
    };
    let batch =
        Batch { b: case.b, t: case.t, v0: &v[4], s0: &v[5], x: &v[6], target: &v[7], mask: &v[8] };
    let step = Step::<T>::new(&case.config)?;
    let mut workspace = Workspace::<T>::new();
    let g = workspace.gradient(&step, &net, &batch)?;
    let widen = |x: &[T]| x.iter().map(|x| x.to_f64()).collect();
    Ok(Gradients {
        loss: g.loss,
        arrays: [widen(&g.w), widen(&g.u), widen(&g.i0), widen(&g.o), widen(&g.v0), widen(&g.s0)],
    })
}

fn reference(case: &Case) -> Result<Gradients, spikegrad_reference::Error> {
    use spikegrad_reference as r;
    let gate = match case.config.gate {
        spikegrad::Gate::Boxcar { delta } => r::Gate::Boxcar { delta },
        spikegrad::Gate::RaisedCosine { delta } => r::Gate::RaisedCosine { delta },
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
    };
    let batch = r::Batch {
        b: case.b,
        t: case.t,
        v0: v[4].clone(),
        s0: v[5].clone(),
        x: v[6].clone(),
        target: v[7].clone(),
        mask: v[8].clone(),
    };
    let g = r::gradient(&cfg, &net, &batch)?;
    Ok(Gradients { loss: g.loss, arrays: [g.w, g.u, g.i0, g.o, g.v0, g.s0] })
}

/// Computes the gradients of `case` with `engine` in `precision`.
pub fn compute(case: &Case, engine: Engine, precision: Dtype) -> Result<Gradients, String> {
    match (engine, precision) {
        (Engine::Kernels, Dtype::F32) => kernels::<f32>(case).map_err(|e| e.to_string()),
        (Engine::Kernels, Dtype::F64) => kernels::<f64>(case).map_err(|e| e.to_string()),
        (Engine::Reference, _) => reference(case).map_err(|e| e.to_string()),
    }
}

/// Writes `gradients` into `out` (replacing it whole, or leaving it untouched on failure).
pub fn write(
    out: &Path,
    case: &Case,
    gradients: &Gradients,
    precision: Dtype,
) -> std::io::Result<()> {
    let staging = Staging::new(out)?;
    write_json(&staging.path().join("loss.json"), &serde_json::json!({ "loss": gradients.loss }))?;
    for ((name, shape), values) in output_shapes(case).iter().zip(&gradients.arrays) {
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
    let case = case::load(case_dir).map_err(|e| format!("{}: {e}", case_dir.display()))?;
    let precision = precision.unwrap_or(case.dtype);
    let gradients = compute(&case, engine, precision)
        .map_err(|e| format!("{}: the run failed: {e}", case_dir.display()))?;
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| case_dir.join("gradient"));
    write(&out, &case, &gradients, precision)
        .map_err(|e| format!("{}: cannot write output: {e}", out.display()))?;
    Ok(format!(
        "loss {:.6e} (N {}, n_in {}, n_out {}, B {}, T {}; {engine:?} engine, {precision}) -> {}",
        gradients.loss,
        case.n,
        case.n_in,
        case.n_out,
        case.b,
        case.t,
        out.display()
    ))
}
