//! `spikegrad.train_task`: training on a task folder through spikegrad-train's loop, its
//! keywords mapped onto [`TaskOptions`], progress lines through Python's `sys.stderr`
//! (or the caller's callback), and Ctrl-C answered within a training step.

use crate::keywords::{self, train_error, value_error};
use crate::progress::{Progress, PythonCheck};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_io::staging::{self, Writer};
use spikegrad_io::task_folder;
use spikegrad_io::task_run::{self, plan_json, score_json, NeuronsFrom, RunFolder, StartError};
use spikegrad_train::observer::{Control, Observer};
use spikegrad_train::phase_step::PhaseStep;
use spikegrad_train::task::{self, Check, Plan, Probe, RunState, Split, TaskObserver, TaskOptions};
use spikegrad_train::{StepReport, Trainer};
use std::path::{Path, PathBuf};

impl PythonCheck for Check {
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let row = PyDict::new(py);
        row.set_item("iteration", self.iteration)?;
        row.set_item("seconds", self.seconds)?;
        row.set_item("loss", self.score.loss)?;
        row.set_item("accuracy", self.score.accuracy)?;
        row.set_item("nmse", self.score.nmse)?;
        if let Some(n) = &self.gradient_norms {
            row.set_item("gradient_norm_median", n.median)?;
            row.set_item("gradient_norm_p99", n.p99)?;
            row.set_item("gradient_norm_max", n.max)?;
            row.set_item("skipped_steps", n.skipped)?;
        }
        Ok(row)
    }

    fn line(&self) -> String {
        let norms = self.gradient_norms.map(|n| format!("; {n}")).unwrap_or_default();
        format!("iteration {}: held-out {}{norms}", self.iteration, self.score)
    }
}

/// An error of the start in Python's words.
fn start_error(e: &StartError) -> PyErr {
    match e {
        StartError::Init { dir, message } => {
            value_error(format!("init={}: {message}", dir.display()))
        }
        StartError::Step { dir, saved, run } => value_error(format!(
            "init={}: it steps by {:?} (its config.json) and this run by {:?}; give step={:?}",
            dir.display(),
            saved.name(),
            run.name(),
            saved.name()
        )),
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
            train_error(error, &format!("{neurons}, batch={batch}"))
        }
        e => value_error(e),
    }
}

/// The Python observer of a run on a task: [`Progress`], and checkpoints into the output
/// folder.
struct TaskProgress<'a> {
    progress: Progress,
    folder: RunFolder<'a>,
}

impl Observer<Check> for TaskProgress<'_> {
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        Observer::<Check>::step(&mut self.progress, iteration, report, trainer)
    }

    fn check(&mut self, check: &Check) -> Control {
        self.progress.check(check)
    }

    fn note(&mut self, line: &str) {
        Observer::<Check>::note(&mut self.progress, line)
    }
}

impl TaskObserver for TaskProgress<'_> {
    fn checkpoint(
        &mut self,
        state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.folder.checkpoint(state)?)
    }

    fn probed(&mut self, probe: &Probe, (k, count): (usize, usize)) {
        Observer::<Check>::note(&mut self.progress, &format!("probe {k}/{count}: {probe}"));
    }

    fn planned(&mut self, plan: &Plan) {
        Observer::<Check>::note(&mut self.progress, &format!("plan: {plan}"));
    }
}

/// The keywords of [`train_task`] that set [`TaskOptions`] (`neurons` stays apart, since
/// a task's files may fix N).
struct Keywords<'a> {
    iterations: Option<usize>,
    batch: Option<usize>,
    learning_rate: Option<f64>,
    readout_learning_rate: Option<f64>,
    final_rate: Option<f64>,
    clip: Option<&'a str>,
    clip_norm: Option<f64>,
    input_current: Option<f64>,
    recurrent_current: Option<f64>,
    readout_scale: Option<f64>,
    probe_learning_rates: Option<Vec<f64>>,
    probe_recurrent_currents: Option<Vec<f64>>,
    probe_iterations: Option<usize>,
    seed: Option<u64>,
    precision: Option<&'a str>,
    train_time_constants: bool,
    eval_every: Option<usize>,
    patience: Option<usize>,
    checkpoint_minutes: Option<f64>,
    time_limit: Option<f64>,
    pause_at: Option<usize>,
}

impl Keywords<'_> {
    /// The options the keywords give, over the library's defaults; a learning rate or a
    /// recurrent scale given leaves the probes nothing to choose there.
    fn options(self) -> PyResult<TaskOptions> {
        let mut o = TaskOptions::default();
        o.iterations = self.iterations;
        o.batch = self.batch.unwrap_or(o.batch);
        o.set_probed(
            (self.learning_rate, self.probe_learning_rates),
            (self.recurrent_current, self.probe_recurrent_currents),
        );
        o.probes.iterations = self.probe_iterations;
        o.readout_learning_rate = self.readout_learning_rate.unwrap_or(o.readout_learning_rate);
        o.final_rate = self.final_rate.unwrap_or(o.final_rate);
        o.set_clip(self.clip, self.clip_norm).map_err(|e| train_error(&e, ""))?;
        o.start.input_current = self.input_current.unwrap_or(o.start.input_current);
        o.start.readout_scale = self.readout_scale.unwrap_or(o.start.readout_scale);
        o.seed = self.seed.unwrap_or(o.seed);
        o.precision = keywords::precision(self.precision, o.precision)?;
        o.train_time_constants = self.train_time_constants;
        o.eval_every = self.eval_every;
        o.patience = self.patience.unwrap_or(o.patience);
        o.checkpoint_minutes = self.checkpoint_minutes.unwrap_or(o.checkpoint_minutes);
        o.time_limit = self.time_limit.unwrap_or(o.time_limit);
        o.pause_at = self.pause_at;
        o.check().map_err(|e| train_error(&e, ""))?;
        Ok(o)
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

/// Trains on the task folder `task_dir` (docs: the task folder) with spikegrad-train's
/// loop; writes the output folder (the best model, metrics.json, checkpoint/) and
/// returns what `metrics.json` says of the held-out score. Every keyword is optional;
/// an unknown one raises `TypeError`. Ctrl-C raises `KeyboardInterrupt` within a
/// training step, after a checkpoint of where it stopped (resume it with `init=out`).
#[pyfunction]
#[pyo3(signature = (task_dir, *, out=None, val=None, init=None, neurons=None, iterations=None,
    batch=None, learning_rate=None, readout_learning_rate=None, final_rate=None, clip=None,
    clip_norm=None, input_current=None, recurrent_current=None, readout_scale=None,
    probe_learning_rates=None, probe_recurrent_currents=None, probe_iterations=None, seed=None,
    precision=None, train_time_constants=false, step=None, eval_every=None, patience=None,
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
    final_rate: Option<f64>,
    clip: Option<&str>,
    clip_norm: Option<f64>,
    input_current: Option<f64>,
    recurrent_current: Option<f64>,
    readout_scale: Option<f64>,
    probe_learning_rates: Option<Vec<f64>>,
    probe_recurrent_currents: Option<Vec<f64>>,
    probe_iterations: Option<usize>,
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
    let mut options = Keywords {
        iterations,
        batch,
        learning_rate,
        readout_learning_rate,
        final_rate,
        clip,
        clip_norm,
        input_current,
        recurrent_current,
        readout_scale,
        probe_learning_rates,
        probe_recurrent_currents,
        probe_iterations,
        seed,
        precision,
        train_time_constants,
        eval_every,
        patience,
        checkpoint_minutes,
        time_limit,
        pause_at,
    }
    .options()?;
    if let Some(n) = neurons.filter(|&n| n == 0) {
        return Err(value_error(format!("neurons={n}: must be at least 1")));
    }
    if let Some(n) = neurons {
        options.set_neurons(n);
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
    let name = task_dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "task".into());
    let out = keywords::output(out, &name, options.seed, Writer::TrainTask)?;
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
    let step = step.map(|name| keywords::step(Some(name), PhaseStep::TRAINING)).transpose()?;
    let start = py
        .detach(|| task_run::start(&data, &split.train, init.as_deref(), neurons, step, &options))
        .map_err(|e| start_error(&e))?;
    let mut progress = Progress::new(on_check);
    if let Some(said) = &start.said {
        progress.say(py, said);
    }
    let mut start = start.start;
    start.started = started;
    let folder = RunFolder { out: &out, data: &data, val: val.as_ref(), options: &options };
    let mut observer = TaskProgress { progress, folder };
    let result = py.detach(|| task::train(&data.task, &split, start, &options, &mut observer));
    let run = result.map_err(|e| observer.progress.error(train_error(&e, "")))?;
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
    result.set_item("back_offs", run.progress.back_offs.clone())?;
    let plan = run.progress.plan.as_ref().map(|p| plan_json(p).to_string());
    let json = py.import("json")?;
    result.set_item("plan", plan.map(|p| json.call_method1("loads", (p,))).transpose()?)?;
    Ok(result)
}
