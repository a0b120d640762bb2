//! `spikegrad.initial_model`: the fresh start of `train task` (scales read from the
//! data), for a network trained in Python: the same draw the command line's trainer
//! starts from, on the caller's arrays.

use crate::keywords::{train_error, value_error};
use numpy::{PyReadonlyArray1, PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_io::case;
use spikegrad_train::model::{Objective, Trials};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::task::{self, StartScales, Task, TaskOptions};
use spikegrad_train::TrainError;

/// The objective of config.json's loss, its window checked against T.
fn objective(loss: &case::LossFile, t: usize) -> PyResult<Objective> {
    let words = |e: case::CaseError| value_error(crate::words::case_error(&e));
    Ok(match loss.kind.as_str() {
        "cross_entropy" => {
            let (from_step, to_step) = loss.checked_window(Some(t), "x").map_err(words)?;
            Objective::CrossEntropy { from_step, to_step }
        }
        "linear" => Objective::Linear,
        _ => Objective::Mse,
    })
}

/// A fresh model of `neurons` for the trials `x` (T, K, n_in) and their targets (`target`
/// and `mask` (T, K, n_out) for mse, `labels` (K,) for cross-entropy), under config.json's
/// text: `{"W", "U", "I0", "O", "v0", "s0"}` float32, the state (N,). Drawn from `seed`
/// as `train task --seed` draws it, with its scales.
#[pyfunction]
#[pyo3(signature = (config, x, neurons, target, mask, labels, seed, input_current, recurrent_current, readout_scale))]
#[allow(clippy::too_many_arguments)]
pub fn initial_model<'py>(
    py: Python<'py>,
    config: &str,
    x: PyReadonlyArray3<'py, f32>,
    neurons: usize,
    target: Option<PyReadonlyArray3<'py, f32>>,
    mask: Option<PyReadonlyArray3<'py, f32>>,
    labels: Option<PyReadonlyArray1<'py, i64>>,
    seed: u64,
    input_current: f64,
    recurrent_current: f64,
    readout_scale: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let settings =
        case::parse_settings(config).map_err(|e| value_error(crate::words::case_error(&e)))?;
    if !settings.neuron.is_theta() {
        return Err(value_error("initial_model: the trainers' start is the theta neuron's"));
    }
    let step = if settings.step_named { settings.neuron.step() } else { PhaseStep::TRAINING };
    let [t, k, _] = x.shape() else { unreachable!("a 3-d array") };
    let (t, k) = (*t, *k);
    let objective = objective(&settings.loss, t)?;
    let labels = match (&objective, labels) {
        (Objective::CrossEntropy { .. }, Some(labels)) => labels
            .as_slice()?
            .iter()
            .map(|&l| {
                usize::try_from(l).map_err(|_| value_error(format!("labels: {l} is negative")))
            })
            .collect::<PyResult<Vec<_>>>()?,
        (Objective::CrossEntropy { .. }, None) => {
            return Err(value_error("labels: the cross_entropy loss needs labels (K,)"))
        }
        _ => Vec::new(),
    };
    let target = match (&objective, target) {
        (Objective::CrossEntropy { .. }, _) => Vec::new(),
        (_, Some(target)) => target.as_slice()?.to_vec(),
        (_, None) => {
            return Err(value_error("target: the mse and linear losses need target (T, K, n_out)"))
        }
    };
    let mask = match (&objective, mask) {
        (Objective::Mse, Some(mask)) => mask.as_slice()?.to_vec(),
        (Objective::Mse, None) => vec![1.0; target.len()],
        _ => Vec::new(),
    };
    let trials = Trials {
        b: k,
        t,
        x: x.as_slice()?.to_vec(),
        target,
        mask,
        labels,
        objective,
        ..Trials::default()
    };
    let mut task = Task::from_trials(settings.config, step, trials);
    if let Some(classes) = settings.loss.classes {
        task.n_out = classes;
    } else if matches!(objective, Objective::CrossEntropy { .. }) {
        task.n_out = task.n_out.max(2);
    }
    let mut options = TaskOptions::default();
    options.seed = seed;
    let mut start = StartScales::default();
    (start.input_current, start.recurrent_current, start.readout_scale) =
        (input_current, recurrent_current, readout_scale);
    options.start = start;
    let measured: Vec<usize> = (0..k.min(task::MEASURED_TRIALS)).collect();
    // A network too large to train here is refused before its weights are drawn (an
    // allocation that fails would abort the interpreter).
    task::run_size(&options, &task, neurons, measured.len())
        .check()
        .map_err(|e| train_error(&TrainError::TooLarge(e), &format!("neurons={neurons}")))?;
    let model = py
        .detach(|| task::initial_model(&task, &measured, neurons, step, &options))
        .map_err(|e| train_error(&e, &format!("neurons={neurons}")))?;
    crate::model_arrays(py, &model)
}
