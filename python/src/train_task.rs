//! `spikegrad.train_task`: training on a task folder through spikegrad-train's loop, its
//! keywords mapped onto [`TaskOptions`], progress lines through Python's `sys.stderr`
//! (or the caller's callback), and Ctrl-C answered within a training step.

use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_io::case::one_line;
use spikegrad_io::staging::{self, Writer};
use spikegrad_io::task_folder::{self, TaskData};
use spikegrad_io::task_run::{self, score_json, NeuronsFrom, RunFolder, StartError};
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::task::{self, Check, RunState, Split, TaskObserver, TaskOptions};
use spikegrad_train::{Precision, StepReport, TrainError, Trainer};
use std::path::{Path, PathBuf};

/// A `ValueError` with `message` on one line.
fn value_error(message: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(one_line(&message.to_string()))
}

/// An error of the run in Python's words: options as keywords (`batch=0`).
fn task_error(e: &TrainError) -> PyErr {
    match e {
        TrainError::Option { name, value, rule } => value_error(format!("{name}={value}: {rule}")),
        e => value_error(e),
    }
}

/// An error of the start in Python's words.
fn start_error(e: &StartError) -> PyErr {
    match e {
        StartError::Init { dir, message } => {
            value_error(format!("init={}: {message}", dir.display()))
        }
        StartError::InitFolder(e) => value_error(format!("init={e}")),
        StartError::Neurons { n, fixed, file } => {
            value_error(format!("neurons={n}: the task's {file} fixes N = {fixed}"))
        }
        StartError::Run { neurons, batch, error } => {
            let neurons = match neurons {
                NeuronsFrom::Asked(n) => format!("neurons={n}"),
                NeuronsFrom::Init(n, dir) => format!("init={} (N = {n})", dir.display()),
                from => from.to_string(),
            };
            let TrainError::Option { .. } = error.as_ref() else {
                return value_error(format!("{neurons}, batch={batch}: {error}"));
            };
            task_error(error)
        }
        e => value_error(e),
    }
}

/// Python's side of the loop: a line per check (to `on_check` as a dict, else to
/// `sys.stderr`), a checkpoint into the output folder, and a stop on a pending signal.
struct PythonObserver<'a> {
    folder: RunFolder<'a>,
    on_check: Option<Py<PyAny>>,
    /// The error that stopped the run (KeyboardInterrupt, or the callback's).
    raised: Option<PyErr>,
}

impl PythonObserver<'_> {
    /// Writes a line to `sys.stderr` (a notebook shows it; the process's stderr may not).
    fn say(&mut self, py: Python<'_>, line: &str) {
        let written = py
            .import("sys")
            .and_then(|sys| sys.getattr("stderr"))
            .and_then(|err| err.call_method1("write", (format!("{line}\n"),)));
        if let Err(e) = written {
            self.raised.get_or_insert(e);
        }
    }

    fn stop_on(&mut self, result: PyResult<()>) -> Control {
        match result {
            Ok(()) => Control::Continue,
            Err(e) => {
                self.raised = Some(e);
                Control::Stop
            }
        }
    }
}

impl Observer<Check> for PythonObserver<'_> {
    fn step(&mut self, _iteration: usize, _report: &StepReport, _trainer: &Trainer) -> Control {
        let signals = Python::attach(|py| py.check_signals());
        self.stop_on(signals)
    }

    fn check(&mut self, check: &Check) -> Control {
        let result = Python::attach(|py| -> PyResult<()> {
            match &self.on_check {
                Some(callback) => {
                    let row = PyDict::new(py);
                    row.set_item("iteration", check.iteration)?;
                    row.set_item("seconds", check.seconds)?;
                    row.set_item("loss", check.score.loss)?;
                    row.set_item("accuracy", check.score.accuracy)?;
                    row.set_item("nmse", check.score.nmse)?;
                    if let Some(n) = &check.gradient_norms {
                        row.set_item("gradient_norm_median", n.median)?;
                        row.set_item("gradient_norm_p99", n.p99)?;
                        row.set_item("gradient_norm_max", n.max)?;
                        row.set_item("skipped_steps", n.skipped)?;
                    }
                    callback.call1(py, (row,))?;
                }
                None => {
                    let norms = check.gradient_norms.map(|n| format!("; {n}")).unwrap_or_default();
                    let line =
                        format!("iteration {}: held-out {}{norms}", check.iteration, check.score);
                    self.say(py, &line);
                }
            }
            py.check_signals()
        });
        self.stop_on(result)
    }

    fn note(&mut self, line: &str) {
        Python::attach(|py| self.say(py, line));
    }
}

impl TaskObserver for PythonObserver<'_> {
    fn checkpoint(
        &mut self,
        state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.folder.checkpoint(state)?)
    }
}

/// The options the keywords give, over the library's defaults; `neurons` stays apart,
/// since a task's files may fix N.
#[allow(clippy::too_many_arguments)]
fn options(
    iterations: Option<usize>,
    batch: Option<usize>,
    learning_rate: Option<f64>,
    readout_learning_rate: Option<f64>,
    seed: Option<u64>,
    precision: Option<&str>,
    train_time_constants: bool,
    eval_every: Option<usize>,
    patience: Option<usize>,
    checkpoint_minutes: Option<f64>,
    time_limit: Option<f64>,
    pause_at: Option<usize>,
) -> PyResult<TaskOptions> {
    let mut o = TaskOptions::default();
    o.iterations = iterations.unwrap_or(o.iterations);
    o.batch = batch.unwrap_or(o.batch);
    o.learning_rate = learning_rate.unwrap_or(o.learning_rate);
    o.readout_learning_rate = readout_learning_rate.unwrap_or(o.readout_learning_rate);
    o.seed = seed.unwrap_or(o.seed);
    o.precision = match precision {
        None | Some("f32") => Precision::F32,
        Some("f64") => Precision::F64,
        Some(other) => {
            return Err(value_error(format!("precision={other:?}: must be \"f32\" or \"f64\"")))
        }
    };
    o.train_time_constants = train_time_constants;
    o.eval_every = eval_every.unwrap_or(o.eval_every);
    o.patience = patience.unwrap_or(o.patience);
    o.checkpoint_minutes = checkpoint_minutes.unwrap_or(o.checkpoint_minutes);
    o.time_limit = time_limit.unwrap_or(o.time_limit);
    o.pause_at = pause_at;
    o.check().map_err(|e| task_error(&e))?;
    Ok(o)
}

/// The step map a keyword names.
fn step_named(step: Option<&str>, data: &TaskData) -> PyResult<PhaseStep> {
    match step {
        None => Ok(data.task.step),
        Some(name) => PhaseStep::from_name(name).ok_or_else(|| {
            value_error(format!("step={name:?}: must be \"euler\" or \"midpoint\""))
        }),
    }
}

/// The folder a path keyword names, checked to be one.
fn folder(keyword: &str, dir: &Path) -> PyResult<()> {
    if dir.is_dir() {
        Ok(())
    } else {
        Err(value_error(format!("{keyword}={}: not a folder", dir.display())))
    }
}

/// The output folder: `out`, else runs/<task folder's name>-<seed>; checked writable.
fn output(task_dir: &Path, out: Option<PathBuf>, seed: u64) -> PyResult<PathBuf> {
    let name = task_dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "task".into());
    let out = out.unwrap_or_else(|| PathBuf::from(format!("runs/{name}-{seed}")));
    staging::check_out(&format!("out={}", out.display()), &out, Writer::TrainTask)
        .map_err(value_error)?;
    Ok(out)
}

/// Trains on the task folder `task_dir` (docs: the task folder) with spikegrad-train's
/// loop; writes the output folder (the best model, metrics.json, checkpoint/) and
/// returns what `metrics.json` says of the held-out score. Every keyword is optional;
/// an unknown one raises `TypeError`. Ctrl-C raises `KeyboardInterrupt` within a
/// training step, after a checkpoint of where it stopped (resume it with `init=out`).
#[pyfunction]
#[pyo3(signature = (task_dir, *, out=None, val=None, init=None, neurons=None, iterations=None,
    batch=None, learning_rate=None, readout_learning_rate=None, seed=None, precision=None,
    train_time_constants=false, step=None, eval_every=None, patience=None,
    checkpoint_minutes=None, time_limit=None, pause_at=None, on_check=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_task<'py>(
    py: Python<'py>,
    task_dir: PathBuf,
    out: Option<PathBuf>,
    val: Option<PathBuf>,
    init: Option<PathBuf>,
    neurons: Option<usize>,
    iterations: Option<usize>,
    batch: Option<usize>,
    learning_rate: Option<f64>,
    readout_learning_rate: Option<f64>,
    seed: Option<u64>,
    precision: Option<&str>,
    train_time_constants: bool,
    step: Option<&str>,
    eval_every: Option<usize>,
    patience: Option<usize>,
    checkpoint_minutes: Option<f64>,
    time_limit: Option<f64>,
    pause_at: Option<usize>,
    on_check: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let started = std::time::Instant::now();
    let options = options(
        iterations,
        batch,
        learning_rate,
        readout_learning_rate,
        seed,
        precision,
        train_time_constants,
        eval_every,
        patience,
        checkpoint_minutes,
        time_limit,
        pause_at,
    )?;
    if let Some(n) = neurons.filter(|&n| n == 0) {
        return Err(value_error(format!("neurons={n}: must be at least 1")));
    }
    if let Some(init) = &init {
        staging::recover(init).map_err(|e| value_error(format!("init={}: {e}", init.display())))?;
    }
    folder("task_dir", &task_dir)?;
    for (keyword, dir) in [("val", &val), ("init", &init)] {
        if let Some(dir) = dir {
            folder(keyword, dir)?;
        }
    }
    let out = output(&task_dir, out, options.seed)?;
    let data = py.detach(|| task_folder::load(&task_dir)).map_err(value_error)?;
    let val = val.map(|v| py.detach(|| task_folder::load(&v))).transpose().map_err(value_error)?;
    let split = match &val {
        Some(val) => {
            data.check_compatible(val).map_err(value_error)?;
            Split::separate(&data.task, &val.task)
        }
        None => Split::within(&data.task)
            .map_err(|e| value_error(format!("{}: {e}", data.dir.join("x.npy").display())))?,
    };
    let step = step_named(step, &data)?;
    let start = py
        .detach(|| task_run::start(&data, &split.train, init.as_deref(), neurons, step, &options))
        .map_err(|e| start_error(&e))?;
    if let Some(said) = &start.said {
        let sys = py.import("sys")?;
        sys.getattr("stderr")?.call_method1("write", (format!("{said}\n"),))?;
    }
    let mut start = start.start;
    start.started = started;
    let folder = RunFolder { out: &out, data: &data, val: val.as_ref(), options: &options };
    let mut observer = PythonObserver { folder, on_check, raised: None };
    let result = py.detach(|| task::train(&data.task, &split, start, &options, &mut observer));
    if let Some(raised) = observer.raised.take() {
        return Err(raised);
    }
    let run = result.map_err(|e| match e {
        TrainError::Cancelled { .. } => PyKeyboardInterrupt::new_err(e.to_string()),
        e => task_error(&e),
    })?;
    py.detach(|| folder.finish(&run, None)).map_err(value_error)?;
    let score = score_json(&run.score);
    let result = PyDict::new(py);
    result.set_item("out", out)?;
    result.set_item("iterations", run.progress.iteration)?;
    result.set_item("kept_iteration", run.progress.best.map(|b| b.iteration))?;
    result.set_item("stopped", run.stopped.name())?;
    result.set_item("held_out_trials", run.held_out)?;
    result.set_item("loss", score["loss"].as_f64())?;
    result.set_item("accuracy", run.score.accuracy)?;
    result.set_item("nmse", run.score.nmse)?;
    result.set_item("firing_rate_hz", run.firing_rate)?;
    result.set_item("skipped_steps", run.trainer.skipped())?;
    result.set_item("seconds", run.seconds)?;
    Ok(result)
}
