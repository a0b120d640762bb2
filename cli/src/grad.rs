//! `spikegrad grad CASE_DIR`: the loss and every gradient of docs/model.md sections 3,
//! 5, 6 and 7 for a case folder, written as `loss.json`, `dconfig.json` (dL/dtau,
//! dL/dtau_s where shared, dL/dDelta) and `dW dU dI0 dO dv0 ds0 dx` (and `dI_ext` for a
//! case with an external current, `dtau` / `dtau_s` for per-neuron constants) .npy
//! files, by the kernels ([`spikegrad_io::case::sweep`]) or the reference.

use spikegrad_io::case::{self, one_line, sweep, Case, CaseLoss, Gradients, NeuronModel};
use spikegrad_io::npy::Dtype;
use spikegrad_io::staging::Writer;
use std::path::Path;

/// Which implementation computes the gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// The SIMD kernels (f32 or f64).
    Kernels,
    /// The reference implementation (always computes in f64).
    Reference,
}

/// The reference's form of a case's configuration; an error for a gate the reference
/// lacks.
fn reference_config(config: &spikegrad::Config) -> Result<spikegrad_reference::Config, String> {
    use spikegrad::Gate;
    use spikegrad_reference::Gate as R;
    let gate = match config.gate {
        Gate::Boxcar { delta } => R::Boxcar { delta },
        Gate::RaisedCosine { delta } => R::RaisedCosine { delta },
        other => return Err(format!("the reference engine has no gate {other:?}")),
    };
    let spikegrad::Config { h, tau, tau_s, .. } = *config;
    Ok(spikegrad_reference::Config { h, tau, tau_s, gate })
}

/// The reference's transcription of a neuron model.
fn reference_neuron(model: NeuronModel) -> &'static dyn spikegrad_reference::Neuron {
    match model {
        NeuronModel::Theta => &spikegrad_reference::Theta,
        NeuronModel::HopfPhase => &spikegrad_reference::HopfPhase,
        NeuronModel::ThetaMidpoint => &spikegrad_reference::ThetaMidpoint,
    }
}

/// The reference's loss of a case; an error for a loss the reference lacks.
fn reference_loss(case: &Case) -> Result<spikegrad_reference::Loss, String> {
    use spikegrad_reference::TaskLoss;
    let task = match &case.loss {
        CaseLoss::Mse { target, mask } => {
            TaskLoss::Mse { target: target.clone(), mask: mask.clone() }
        }
        CaseLoss::Linear { g } => TaskLoss::Linear { g: g.clone() },
        CaseLoss::CrossEntropy { labels, from_step, to_step } => TaskLoss::CrossEntropy {
            labels: labels.clone(),
            from_step: *from_step,
            to_step: *to_step,
        },
        other => return Err(format!("the reference engine has no {} loss", other.kind())),
    };
    Ok(spikegrad_reference::Loss { task, rate_penalty: case.rate_penalty })
}

fn reference(case: &Case) -> Result<Gradients, String> {
    use spikegrad_reference as r;
    let cfg = reference_config(&case.config)?;
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
    let g =
        r::gradient_with(&cfg, &net, &batch, &reference_loss(case)?, reference_neuron(case.neuron))
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
        (Engine::Kernels, Dtype::F32) => sweep::kernels_gradient::<f32>(case, recording_limit),
        (Engine::Kernels, Dtype::F64) => sweep::kernels_gradient::<f64>(case, recording_limit),
    };
    computed.map_err(|e| e.to_string())
}

/// The whole command; the error is the one line to print.
pub fn run(
    case_dir: &Path,
    out: Option<&Path>,
    precision: Option<Dtype>,
    engine: Engine,
    recording_limit: Option<usize>,
) -> Result<String, String> {
    let case =
        case::load(case_dir).map_err(|e| one_line(&format!("{}: {e}", case_dir.display())))?;
    for file in &case.unused {
        eprintln!(
            "warning: {}: {file} is not used by this case ({} loss{}); ignored",
            one_line(&case_dir.display().to_string()),
            case.loss.kind(),
            if case.i_ext.is_some() { "" } else { ", no I_ext" }
        );
    }
    let out = out.map(Path::to_path_buf).unwrap_or_else(|| case_dir.join("gradient"));
    let label = format!("--out {}", out.display());
    spikegrad_io::staging::check_out(&label, &out, Writer::Grad)
        .map_err(|e| one_line(&e.to_string()))?;
    let precision = precision.unwrap_or(case.dtype);
    let gradients = compute(&case, engine, precision, recording_limit)
        .map_err(|e| one_line(&format!("{}: the run failed: {e}", case_dir.display())))?;
    gradients
        .write(&out, precision)
        .map_err(|e| one_line(&format!("{}: cannot write output: {e}", out.display())))?;
    Ok(format!(
        "loss {:.6e} ({} loss, {} neuron, N {}, n_in {}, n_out {}, B {}, T {}; {engine:?} engine, {precision}) -> {}",
        gradients.loss,
        case.loss.kind(),
        case.neuron.name(),
        case.dims.n,
        case.dims.n_in,
        case.dims.n_out,
        case.dims.b,
        case.dims.t,
        out.display()
    ))
}
