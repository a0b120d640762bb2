//! Keywords of the training functions: their values parsed, the errors of the libraries
//! in Python's words (options as keywords, `batch=0`), and the default output folder.

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use spikegrad_io::case::one_line;
use spikegrad_io::staging::{self, Writer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::{Precision, TrainError};
use std::path::PathBuf;

/// A `ValueError` with `message` on one line.
pub fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(one_line(&message.to_string()))
}

/// An error of a training loop in Python's words; `sizes` names the keywords that set a
/// run's size, for [`TrainError::TooLarge`]. A cancelled run is a `KeyboardInterrupt`.
pub fn train_error(e: &TrainError, sizes: &str) -> PyErr {
    match e {
        TrainError::Option { name, value, rule } => value_error(format!("{name}={value}: {rule}")),
        TrainError::Constants { h, tau, tau_s, error } => {
            value_error(format!("h={h}, tau={tau}, tau_s={tau_s}: {error}"))
        }
        TrainError::TooLarge(error) => value_error(format!("{sizes}: {error}")),
        TrainError::Cancelled { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        e => value_error(e),
    }
}

/// `precision="f32"` or `"f64"`; `None` gives `default`.
pub fn precision(value: Option<&str>, default: Precision) -> PyResult<Precision> {
    match value {
        None => Ok(default),
        Some("f32") => Ok(Precision::F32),
        Some("f64") => Ok(Precision::F64),
        Some(other) => Err(value_error(format!("precision={other:?}: must be \"f32\" or \"f64\""))),
    }
}

/// `step="euler"` or `"midpoint"`; `None` gives `default`.
pub fn step(value: Option<&str>, default: PhaseStep) -> PyResult<PhaseStep> {
    match value {
        None => Ok(default),
        Some(name) => PhaseStep::from_name(name).ok_or_else(|| {
            value_error(format!("step={name:?}: must be \"euler\" or \"midpoint\""))
        }),
    }
}

/// The output folder: `out`, else runs/<name>-<seed>; checked, before any work, to be one
/// `writer` may replace.
pub fn output(out: Option<PathBuf>, name: &str, seed: u64, writer: Writer) -> PyResult<PathBuf> {
    let out = out.unwrap_or_else(|| PathBuf::from(format!("runs/{name}-{seed}")));
    staging::check_out(&format!("out={}", out.display()), &out, writer).map_err(value_error)?;
    Ok(out)
}
