//! `spikegrad._native`: the extension module under the Python package `spikegrad`
//! (python/spikegrad/__init__.py documents the public functions and converts their
//! inputs). Every function here takes arrays that are already numpy arrays of the
//! requested precision and C-contiguous (labels int64): the kernels read them in place,
//! without a copy, with the GIL released. The checks and messages are the command line's
//! (`spikegrad_io::case::arrays`), so an invalid input raises `ValueError` with the
//! line `spikegrad grad` would print.

use numpy::{
    Element, IntoPyArray, PyArrayDyn, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad::{Loss, Real};
use spikegrad_io::case::arrays::{self as case_arrays, Layout};
use spikegrad_io::case::sweep::{self as grad, CaseRef};
use spikegrad_io::case::{
    self, one_line, ArrayRef, CaseError, Dims, Floats, Integers, LossData, Source,
};
use spikegrad_io::model_folder;
use spikegrad_io::{npy, staging};
use spikegrad_train::model::Model;
use std::path::{Path, PathBuf};

mod folders;
mod initial;
mod keywords;
mod progress;
mod train_task;
mod training;
mod words;

/// A precision the kernels compute in, as numpy holds it.
trait Precision: Real + Element {
    /// numpy's name of the dtype.
    const DTYPE: &'static str;
    /// The values as the checks read them.
    fn floats(values: &[Self]) -> Floats<'_>;
    /// `values` in this precision (moved, not copied, where it already is f64).
    fn from_f64_vec(values: Vec<f64>) -> Vec<Self>;
}

impl Precision for f32 {
    const DTYPE: &'static str = "float32";
    fn floats(values: &[f32]) -> Floats<'_> {
        Floats::F32(values)
    }

    fn from_f64_vec(values: Vec<f64>) -> Vec<f32> {
        values.into_iter().map(|x| x as f32).collect()
    }
}

impl Precision for f64 {
    const DTYPE: &'static str = "float64";
    fn floats(values: &[f64]) -> Floats<'_> {
        Floats::F64(values)
    }

    fn from_f64_vec(values: Vec<f64>) -> Vec<f64> {
        values
    }
}

/// A `ValueError` with `message` on one line.
fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(one_line(&message.to_string()))
}

/// The caller's arrays, borrowed read-only for the duration of a call: floats in `T`,
/// the labels in int64.
struct Arrays<'py, T: Element> {
    floats: Vec<(String, PyReadonlyArrayDyn<'py, T>)>,
    labels: Option<PyReadonlyArrayDyn<'py, i64>>,
}

impl<'py, T: Precision> Arrays<'py, T> {
    /// Borrows every array of `dict` (names as in a case folder, without `.npy`).
    fn borrow(dict: &Bound<'py, PyDict>) -> PyResult<Self> {
        let mut arrays = Arrays { floats: Vec::new(), labels: None };
        for (key, value) in dict.iter() {
            let name: String = key
                .extract()
                .map_err(|_| value_error(format!("arrays: key {key}: names must be strings")))?;
            if name == "labels" {
                let labels = value.extract().map_err(|_| {
                    value_error(
                        "arrays['labels']: must be an int64 numpy array (spikegrad converts)",
                    )
                })?;
                arrays.labels = Some(labels);
            } else {
                let array = value.extract().map_err(|_| {
                    value_error(format!(
                        "arrays['{name}']: must be a numpy array of {} (spikegrad converts)",
                        T::DTYPE
                    ))
                })?;
                arrays.floats.push((name, array));
            }
        }
        Ok(arrays)
    }

    /// The array named `name`, if the caller gave one.
    fn find(&self, name: &str) -> Option<&PyReadonlyArrayDyn<'py, T>> {
        self.floats.iter().find(|(n, _)| n == name).map(|(_, array)| array)
    }

    /// The values of `name` (found and checked C-contiguous by the case check).
    fn slice(&self, name: &str) -> PyResult<&[T]> {
        let array =
            self.find(name).ok_or_else(|| value_error(format!("arrays['{name}']: missing")))?;
        array.as_slice().map_err(|_| value_error(format!("arrays['{name}']: not C-contiguous")))
    }

    /// The names the caller gave that `layout` does not use, as files (`x.npy`).
    fn unused(&self, layout: &Layout) -> Vec<String> {
        let given = self
            .floats
            .iter()
            .map(|(name, _)| name.as_str())
            .chain(self.labels.as_ref().map(|_| "labels"));
        given.map(|name| format!("{name}.npy")).filter(|file| !layout.used.contains(file)).collect()
    }
}

impl<T: Precision> Source for Arrays<'_, T> {
    fn floats(&self, name: &str) -> Result<Option<ArrayRef<'_>>, CaseError> {
        let Some(array) = self.find(name) else { return Ok(None) };
        let values = array.as_slice().or_else(|_| {
            case::fail(&format!("{name}.npy"), "not C-contiguous (spikegrad converts)")
        })?;
        Ok(Some(ArrayRef { shape: array.shape(), values: T::floats(values) }))
    }

    fn integers(&self, name: &str) -> Result<Option<Integers>, CaseError> {
        let Some(labels) = self.labels.as_ref().filter(|_| name == "labels") else {
            return Ok(None);
        };
        let values = labels
            .as_slice()
            .or_else(|_| case::fail("labels.npy", "not C-contiguous (spikegrad converts)"))?;
        Ok(Some((labels.shape().to_vec(), values.to_vec())))
    }
}

/// The case the kernels sweep: `arrays` read in place, as `layout` (their check) says.
fn case_ref<'a, T: Precision>(
    layout: &'a Layout,
    arrays: &'a Arrays<'_, T>,
    constants: bool,
) -> PyResult<CaseRef<'a, T>> {
    let mut values: [&[T]; 7] = [&[]; 7];
    for (slot, name) in values.iter_mut().zip(case_arrays::ARRAYS) {
        *slot = arrays.slice(name)?;
    }
    let optional = |present: bool, name: &str| present.then(|| arrays.slice(name)).transpose();
    let per_neuron = |name: &Option<String>| name.as_deref().map(|n| arrays.slice(n)).transpose();
    let loss = match &layout.loss {
        None => None,
        Some(LossData::Mse) => Some(Loss::mse(arrays.slice("target")?, arrays.slice("mask")?)),
        Some(LossData::Linear) => Some(Loss::linear(arrays.slice("G")?)),
        Some(LossData::CrossEntropy { labels, from_step, to_step }) => {
            Some(Loss::cross_entropy(labels, *from_step, *to_step))
        }
    };
    Ok(CaseRef {
        config: layout.config,
        neuron: layout.neuron,
        dims: layout.dims,
        arrays: values,
        w_mask: optional(layout.w_mask, "W_mask")?,
        i_ext: optional(layout.i_ext, "I_ext")?,
        per_neuron: [per_neuron(&layout.per_neuron[0])?, per_neuron(&layout.per_neuron[1])?],
        loss: loss.map(|loss| loss.with_rate_penalty(layout.rate_penalty)),
        recording_limit: Some(spikegrad::DEFAULT_RECORDING_LIMIT),
        constants,
    })
}

/// A copy of the model's `values` as a numpy array with `shape`.
fn to_numpy<'py>(
    py: Python<'py>,
    values: &[f32],
    shape: &[usize],
) -> PyResult<Bound<'py, PyArrayDyn<f32>>> {
    values.to_vec().into_pyarray(py).reshape(shape.to_vec())
}

/// `$f::<f64>` or `$f::<f32>` by the precision's name; a `ValueError` for another name.
macro_rules! by_precision {
    ($precision:expr, $f:ident($($arg:expr),*)) => {
        match $precision {
            "f64" => $f::<f64>($($arg),*),
            "f32" => $f::<f32>($($arg),*),
            other => Err(value_error(format!("precision {other:?} is not \"f32\" or \"f64\""))),
        }
    };
}

/// The check of `arrays` against `config` (config.json's text).
fn checked<'py, T: Precision>(
    dict: &Bound<'py, PyDict>,
    config: &str,
    with_loss: bool,
) -> PyResult<(Arrays<'py, T>, Layout)> {
    let settings = case::parse_settings(config).map_err(|e| value_error(words::case_error(&e)))?;
    let arrays = Arrays::<T>::borrow(dict)?;
    let layout = case_arrays::check(&settings, &arrays, with_loss)
        .map_err(|e| value_error(words::case_error(&e)))?;
    Ok((arrays, layout))
}

type GradientResult<'py> = (f64, Bound<'py, PyDict>, String, Vec<String>);

fn gradient_in<'py, T: Precision>(
    py: Python<'py>,
    dict: &Bound<'py, PyDict>,
    config: &str,
    constants: bool,
) -> PyResult<GradientResult<'py>> {
    let (arrays, layout) = checked::<T>(dict, config, true)?;
    let case = case_ref(&layout, &arrays, constants)?;
    let computed = py
        .detach(|| grad::gradient_of(&case))
        .map_err(|e| value_error(format!("the run failed: {e}")))?;
    let grads = PyDict::new(py);
    for (name, shape, values) in computed.arrays {
        grads.set_item(name, T::from_f64_vec(values).into_pyarray(py).reshape(shape)?)?;
    }
    Ok((computed.loss, grads, computed.dconfig.to_string(), arrays.unused(&layout)))
}

/// The loss and every gradient of a case: `(loss, grads, dconfig as JSON, unused array
/// files)`; `precision` "f32" or "f64" (the arrays' dtype); `constants`: with the
/// gradients of the time constants and the gate width.
#[pyfunction]
fn gradient<'py>(
    py: Python<'py>,
    arrays: &Bound<'py, PyDict>,
    config: &str,
    precision: &str,
    constants: bool,
) -> PyResult<GradientResult<'py>> {
    by_precision!(precision, gradient_in(py, arrays, config, constants))
}

fn forward_in<'py, T: Precision>(
    py: Python<'py>,
    dict: &Bound<'py, PyDict>,
    config: &str,
) -> PyResult<(Bound<'py, PyDict>, Vec<String>)> {
    let (arrays, layout) = checked::<T>(dict, config, false)?;
    let case = case_ref(&layout, &arrays, false)?;
    let run = py
        .detach(|| grad::forward_of(&case))
        .map_err(|e| value_error(format!("the run failed: {e}")))?;
    let Dims { b, n, t, n_out, .. } = layout.dims;
    let out = PyDict::new(py);
    out.set_item("readout", run.readout.into_pyarray(py).reshape(vec![t, b, n_out])?)?;
    let m = run.spikes.len() / 3;
    out.set_item("spikes", run.spikes.into_pyarray(py).reshape(vec![m, 3])?)?;
    out.set_item("v_T", run.v.into_pyarray(py).reshape(vec![b, n])?)?;
    out.set_item("s_T", run.s.into_pyarray(py).reshape(vec![b, n])?)?;
    Ok((out, arrays.unused(&layout)))
}

/// A forward run: `({"readout", "spikes", "v_T", "s_T"}, unused array files)`.
#[pyfunction]
fn forward<'py>(
    py: Python<'py>,
    arrays: &Bound<'py, PyDict>,
    config: &str,
    precision: &str,
) -> PyResult<(Bound<'py, PyDict>, Vec<String>)> {
    by_precision!(precision, forward_in(py, arrays, config))
}

/// A model folder: `(arrays in float32, config.json's text)`, per-neuron constants under
/// the names "tau" / "tau_s" (and config.json naming "tau.npy" / "tau_s.npy").
/// A model's arrays by their files' names, float32: W U I0 O, v0 s0 (N,) and, where the
/// model has them, tau, tau_s and W_mask.
fn model_arrays<'py>(py: Python<'py>, model: &Model) -> PyResult<Bound<'py, PyDict>> {
    let (n, n_in, n_out) = (model.n, model.n_in, model.n_out);
    let arrays = PyDict::new(py);
    let fixed = [
        ("W", &model.w, vec![n, n]),
        ("U", &model.u, vec![n, n_in]),
        ("I0", &model.i0, vec![n]),
        ("O", &model.o, vec![n_out, n]),
        ("v0", &model.v0, vec![n]),
        ("s0", &model.s0, vec![n]),
    ];
    for (name, values, shape) in fixed {
        arrays.set_item(name, to_numpy(py, values, &shape)?)?;
    }
    for (name, values, shape) in [
        ("tau", &model.tau, vec![n]),
        ("tau_s", &model.tau_s, vec![n]),
        ("W_mask", &model.w_mask, vec![n, n]),
    ] {
        if let Some(values) = values {
            arrays.set_item(name, to_numpy(py, values, &shape)?)?;
        }
    }
    Ok(arrays)
}

#[pyfunction]
fn load_model<'py>(py: Python<'py>, dir: PathBuf) -> PyResult<(Bound<'py, PyDict>, String)> {
    let saved = py
        .detach(|| model_folder::load(&dir))
        .map_err(|e| value_error(model_folder::error_at(&dir, &e)))?;
    let model = &saved.model;
    let arrays = model_arrays(py, model)?;
    let task = saved.task.clone().unwrap_or(serde_json::Value::Null);
    let config = model_folder::config_json(model, saved.loss.as_ref(), task);
    Ok((arrays, config.to_string()))
}

/// An array to save: float32 or float64, C-contiguous.
enum Saved<'py> {
    F32(PyReadonlyArrayDyn<'py, f32>),
    F64(PyReadonlyArrayDyn<'py, f64>),
}

/// Writes a model folder `dir` from `arrays` and config.json's text, replacing `dir`
/// whole (it must be new, empty or a model folder); the folder is checked as
/// `spikegrad run` reads it before it replaces `dir`, so an invalid model writes nothing.
#[pyfunction]
fn save_model(
    py: Python<'_>,
    dir: PathBuf,
    arrays: &Bound<'_, PyDict>,
    config: &str,
) -> PyResult<()> {
    let settings = case::parse_settings(config).map_err(|e| value_error(words::case_error(&e)))?;
    let mut allowed: Vec<String> =
        ["W", "U", "I0", "O", "v0", "s0", "W_mask"].iter().map(|s| s.to_string()).collect();
    for file in [&settings.tau_file, &settings.tau_s_file].into_iter().flatten() {
        allowed.push(file.strip_suffix(".npy").unwrap_or(file).to_string());
    }
    let mut saved = Vec::new();
    for (key, value) in arrays.iter() {
        let name: String = key
            .extract()
            .map_err(|_| value_error(format!("arrays: key {key}: names must be strings")))?;
        if !allowed.contains(&name) {
            return Err(value_error(format!(
                "arrays['{name}']: not an array of this model folder (it takes {})",
                allowed.join(" ")
            )));
        }
        let array = if let Ok(a) = value.extract() {
            Saved::F32(a)
        } else if let Ok(a) = value.extract() {
            Saved::F64(a)
        } else {
            return Err(value_error(format!(
                "arrays['{name}']: must be a numpy array of float32 or float64 (spikegrad converts)"
            )));
        };
        saved.push((name, array));
    }
    let config: serde_json::Value = serde_json::from_str(config).map_err(value_error)?;
    let mut files = Vec::new();
    for (name, array) in &saved {
        let path_name = format!("{name}.npy");
        let (shape, values) = match array {
            Saved::F32(a) => (a.shape().to_vec(), Floats::F32(a.as_slice().map_err(value_error)?)),
            Saved::F64(a) => (a.shape().to_vec(), Floats::F64(a.as_slice().map_err(value_error)?)),
        };
        files.push((path_name, shape, values));
    }
    py.detach(|| write_model(&dir, &config, &files)).map_err(value_error)
}

/// Writes the files of a model folder to a staging folder, checks it with the reader of
/// model folders, and renames it into place.
fn write_model(
    dir: &Path,
    config: &serde_json::Value,
    files: &[(String, Vec<usize>, Floats<'_>)],
) -> Result<(), String> {
    let shown = dir.display();
    staging::check_replaceable(&shown.to_string(), dir, staging::Writer::SaveModel)
        .map_err(|e| e.to_string())?;
    staging::recover(dir).map_err(|e| format!("{shown}: {e}"))?;
    let folder = staging::Staging::new(dir, staging::Writer::SaveModel)
        .map_err(|e| format!("{shown}: {e}"))?;
    staging::write_json(&folder.path().join(case::CONFIG), config)
        .map_err(|e| format!("{}: {e}", case::CONFIG))?;
    for (file, shape, values) in files {
        let path = folder.path().join(file);
        match values {
            Floats::F32(v) => npy::write(&path, shape, v),
            Floats::F64(v) => npy::write(&path, shape, v),
        }
        .map_err(|e| format!("{file}: {e}"))?;
    }
    model_folder::load(folder.path()).map_err(|e| words::case_error(&e))?;
    folder.commit().map_err(|e| format!("{shown}: {e}"))
}

fn sweep_seconds_in<T: Precision>(
    py: Python<'_>,
    dict: &Bound<'_, PyDict>,
    config: &str,
    repeats: usize,
) -> PyResult<Vec<f64>> {
    let mut seconds = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let clock = std::time::Instant::now();
        let (arrays, layout) = checked::<T>(dict, config, true)?;
        let case = case_ref(&layout, &arrays, true)?;
        py.detach(|| grad::gradient_of(&case)).map_err(value_error)?;
        seconds.push(clock.elapsed().as_secs_f64());
    }
    Ok(seconds)
}

/// The seconds of `repeats` gradients of the case as the Rust side alone computes them
/// (the checks and the sweeps, without the Python wrapper and without making numpy
/// arrays of the results): what python/benchmarks/overhead.py compares
/// `spikegrad.gradient` with.
#[pyfunction]
fn _sweep_seconds(
    py: Python<'_>,
    arrays: &Bound<'_, PyDict>,
    config: &str,
    precision: &str,
    repeats: usize,
) -> PyResult<Vec<f64>> {
    by_precision!(precision, sweep_seconds_in(py, arrays, config, repeats))
}

/// The SIMD backend the kernels run on this CPU.
#[pyfunction]
fn backend() -> &'static str {
    spikegrad::Backend::detect().name()
}

/// The extension module.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(gradient, module)?)?;
    module.add_function(wrap_pyfunction!(forward, module)?)?;
    module.add_function(wrap_pyfunction!(load_model, module)?)?;
    module.add_function(wrap_pyfunction!(initial::initial_model, module)?)?;
    module.add_function(wrap_pyfunction!(save_model, module)?)?;
    module.add_function(wrap_pyfunction!(train_task::train_task, module)?)?;
    module.add_function(wrap_pyfunction!(folders::run, module)?)?;
    module.add_function(wrap_pyfunction!(folders::make_task, module)?)?;
    module.add_function(wrap_pyfunction!(training::train_xor, module)?)?;
    module.add_function(wrap_pyfunction!(training::train_predict, module)?)?;
    module.add_function(wrap_pyfunction!(training::train_efficient_coding, module)?)?;
    module.add_function(wrap_pyfunction!(backend, module)?)?;
    module.add_function(wrap_pyfunction!(_sweep_seconds, module)?)?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
