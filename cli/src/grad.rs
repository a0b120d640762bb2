//! `spikegrad grad CASE_DIR`: the loss and every gradient of docs/model.md sections 3,
//! 5, 6 and 7 for a case folder, written as `loss.json`, `dconfig.json` (dL/dtau,
//! dL/dtau_s where shared, dL/dDelta) and `dW dU dI0 dO dv0 ds0 dx` (and `dI_ext` for a
//! case with an external current, `dtau` / `dtau_s` for per-neuron constants) .npy
//! files, by the kernels ([`spikegrad_io::case::sweep`]) or the reference.

use spikegrad_io::case::{self, one_line, sweep, Case, Gradients};
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

/// The reference engine's gradients of `case` ([`crate::reference_engine`]).
#[cfg(feature = "reference-engine")]
fn reference_gradient(case: &Case) -> Result<Gradients, String> {
    crate::reference_engine::gradient(case)
}

/// Without the `reference-engine` feature, `--engine reference` says how to get it.
#[cfg(not(feature = "reference-engine"))]
fn reference_gradient(_: &Case) -> Result<Gradients, String> {
    Err("this spikegrad was built without the reference engine (cargo feature \
         reference-engine, on by default)"
        .into())
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
        (Engine::Reference, _) => return reference_gradient(case),
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
