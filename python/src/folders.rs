//! `spikegrad.run` and `spikegrad.make_task`: a saved model on new data, and a task
//! folder of the project's generators, through spikegrad-io.

use crate::keywords::value_error;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_io::made_task::{self, MakeTaskError};
use spikegrad_io::model_run::{self, RunError};
use spikegrad_io::staging::{self, Writer};
use spikegrad_train::dataset::TaskKind;
use std::path::PathBuf;

/// Runs the model folder `model_dir` on the data folder `data_dir` (x.npy, optional
/// I_ext.npy and labels.npy), streamed over trials, and writes `out` (default
/// `data_dir/run`): readout.npy, spikes.npy, predictions.npy (classification) and
/// metrics.json. Returns the metrics as a dict.
#[pyfunction]
#[pyo3(signature = (model_dir, data_dir, *, out=None, trials_per_chunk=None))]
pub fn run<'py>(
    py: Python<'py>,
    model_dir: PathBuf,
    data_dir: PathBuf,
    out: Option<PathBuf>,
    trials_per_chunk: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let out = out.unwrap_or_else(|| model_run::default_out(&data_dir));
    if trials_per_chunk == Some(0) {
        return Err(value_error("trials_per_chunk=0: must be at least 1"));
    }
    staging::check_out(&format!("out={}", out.display()), &out, Writer::Run)
        .map_err(value_error)?;
    let summary = py
        .detach(|| model_run::run(&model_dir, &data_dir, &out, trials_per_chunk, None))
        .map_err(|e| match e {
            RunError::NoTrialsPerChunk => value_error("trials_per_chunk=0: must be at least 1"),
            e => value_error(e),
        })?;
    let result = PyDict::new(py);
    result.set_item("out", out)?;
    result.set_item("trials", summary.trials)?;
    result.set_item("steps", summary.steps)?;
    result.set_item("spikes", summary.spikes)?;
    result.set_item("firing_rate_hz", summary.firing_rate_hz)?;
    result.set_item("accuracy", summary.accuracy)?;
    result.set_item("seconds", summary.seconds)?;
    Ok(result)
}

/// Writes the task folder `directory` of `trials` trials of the generated task `kind`
/// (a name of `spikegrad make-task`: "yin-yang", "yin-yang-gap", ...) drawn with `seed`;
/// replaces only a folder this function made.
#[pyfunction]
#[pyo3(signature = (kind, directory, *, trials=5000, seed=1))]
pub fn make_task(
    py: Python<'_>,
    kind: &str,
    directory: PathBuf,
    trials: usize,
    seed: u64,
) -> PyResult<()> {
    let Some(kind) = TaskKind::from_name(kind) else {
        let names: Vec<&str> = TaskKind::ALL.iter().map(|k| k.name()).collect();
        return Err(value_error(format!("kind={kind:?}: not a task; one of {}", names.join(", "))));
    };
    let label = directory.display().to_string();
    py.detach(|| made_task::write(&directory, &label, kind, trials, seed)).map_err(|e| match e {
        MakeTaskError::NoTrials => value_error("trials=0: must be at least 1"),
        e => value_error(e),
    })
}
