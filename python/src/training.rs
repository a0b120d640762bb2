//! `spikegrad.train_xor`, `train_predict` and `train_efficient_coding`: the paper's tasks
//! through spikegrad-train's loops, keywords mapped onto their options, progress through
//! [`Progress`], the output folders written by spikegrad-io (the figures are the command
//! line's).

use crate::keywords::{self, train_error, value_error};
use crate::progress::{Progress, PythonCheck};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use spikegrad_io::staging::Writer;
use spikegrad_io::{predict_output, xor_output};
use spikegrad_train::predict_run::{
    self, fewest_spikes, PredictCheck, PredictOptions, Tested, NMSE_BAR,
};
use spikegrad_train::xor::XorScore;
use spikegrad_train::xor_run::{self, XorCheck, XorOptions, XorStart};
use std::path::PathBuf;

fn score_dict<'py>(py: Python<'py>, s: &XorScore) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("overall", s.overall)?;
    d.set_item("per_pattern", s.per_pattern.to_vec())?;
    d.set_item("median_signed_readout", s.median_signed)?;
    d.set_item("mean_abs_readout", s.margin)?;
    Ok(d)
}

impl PythonCheck for XorCheck {
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let row = score_dict(py, &self.score)?;
        row.set_item("iteration", self.iteration)?;
        row.set_item("loss", self.loss)?;
        row.set_item("seconds", self.seconds)?;
        row.set_item("gradient_norm_median", self.gradient_norms.median)?;
        row.set_item("skipped_steps", self.gradient_norms.skipped)?;
        Ok(row)
    }

    fn line(&self) -> String {
        let s = &self.score;
        format!(
            "iteration {}: held-out check {:.1}%, median signed readout {:.2}; {}",
            self.iteration,
            100.0 * s.overall,
            s.median_signed,
            self.gradient_norms
        )
    }
}

impl PythonCheck for PredictCheck {
    fn dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let row = PyDict::new(py);
        row.set_item("recurrent", self.network.recurrent)?;
        row.set_item("rate_penalty", self.network.rate_penalty)?;
        row.set_item("iteration", self.iteration)?;
        row.set_item("nmse", self.nmse)?;
        row.set_item("seconds", self.seconds)?;
        row.set_item("gradient_norm_median", self.gradient_norms.median)?;
        row.set_item("skipped_steps", self.gradient_norms.skipped)?;
        Ok(row)
    }

    fn line(&self) -> String {
        let kind = if self.network.recurrent { "W learned" } else { "W = 0" };
        format!(
            "lambda {} {kind} iteration {}: held-out NMSE {:.4}; {}",
            self.network.rate_penalty, self.iteration, self.nmse, self.gradient_norms
        )
    }
}

/// `start="latch"` or `"random"`.
fn xor_start(value: Option<&str>) -> PyResult<XorStart> {
    match value {
        Some("latch") => Ok(XorStart::Latch),
        None | Some("random") => Ok(XorStart::Random),
        Some(other) => {
            Err(value_error(format!("start={other:?}: must be \"latch\" or \"random\"")))
        }
    }
}

/// Trains the delayed-memory XOR (docs: the paper's tasks) and writes its output folder
/// (the kept model, metrics.json). Every keyword is optional; an unknown one raises
/// `TypeError`; Ctrl-C raises `KeyboardInterrupt` within a training step (nothing is
/// written). Returns the test scores as a dict.
#[pyfunction]
#[pyo3(signature = (*, out=None, seed=None, neurons=None, batch=None, max_iterations=None,
    learning_rate=None, eval_every=None, precision=None, train_time_constants=false, step=None,
    h=None, restart_after=None, start=None, on_check=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_xor<'py>(
    py: Python<'py>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    neurons: Option<usize>,
    batch: Option<usize>,
    max_iterations: Option<usize>,
    learning_rate: Option<f64>,
    eval_every: Option<usize>,
    precision: Option<&str>,
    train_time_constants: bool,
    step: Option<&str>,
    h: Option<f64>,
    restart_after: Option<usize>,
    start: Option<&str>,
    on_check: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut o = XorOptions::new(xor_start(start)?);
    o.seed = seed.unwrap_or(o.seed);
    o.neurons = neurons.unwrap_or(o.neurons);
    o.batch = batch.unwrap_or(o.batch);
    o.max_iterations = max_iterations.unwrap_or(o.max_iterations);
    o.learning_rate = learning_rate.unwrap_or(o.learning_rate);
    o.eval_every = eval_every.unwrap_or(o.eval_every);
    o.precision = keywords::precision(precision, o.precision)?;
    o.train_time_constants = train_time_constants;
    o.step = keywords::step(step, o.step)?;
    o.h = h.unwrap_or(o.h);
    o.restart_after = restart_after.unwrap_or(o.restart_after);
    let sizes = format!("neurons={}, batch={}, h={}", o.neurons, o.batch, o.h);
    o.check().map_err(|e| train_error(&e, &sizes))?;
    let out = keywords::output(out, "xor", o.seed, Writer::TrainXor)?;
    let mut progress = Progress::new(on_check);
    let result = py.detach(|| xor_run::train_xor(&o, &mut progress));
    let run = result.map_err(|e| progress.error(train_error(&e, &sizes)))?;
    py.detach(|| xor_output::write(&out, &o, &run, None)).map_err(value_error)?;
    let result = score_dict(py, &run.test)?;
    result.set_item("out", out)?;
    result.set_item("iterations", run.iterations)?;
    result.set_item("kept_iteration", run.kept)?;
    result.set_item("restarts", run.restarts.len())?;
    result.set_item("test_loss", run.test_loss)?;
    result.set_item("firing_rate_hz", run.firing_rate)?;
    result.set_item("seconds", run.seconds)?;
    Ok(result)
}

/// The options of predictive coding from keywords.
#[allow(clippy::too_many_arguments)]
fn predict_options(
    seed: Option<u64>,
    neurons: Option<usize>,
    batch: Option<usize>,
    max_iterations: Option<usize>,
    learning_rate: Option<f64>,
    eval_every: Option<usize>,
    precision: Option<&str>,
    train_time_constants: bool,
    step: Option<&str>,
    constants: [Option<f64>; 4],
) -> PyResult<PredictOptions> {
    let mut o = PredictOptions::default();
    o.seed = seed.unwrap_or(o.seed);
    o.neurons = neurons.unwrap_or(o.neurons);
    o.batch = batch.unwrap_or(o.batch);
    o.max_iterations = max_iterations.unwrap_or(o.max_iterations);
    o.learning_rate = learning_rate.unwrap_or(o.learning_rate);
    o.eval_every = eval_every.unwrap_or(o.eval_every);
    o.precision = keywords::precision(precision, o.precision)?;
    o.train_time_constants = train_time_constants;
    o.step = keywords::step(step, o.step)?;
    let [h, tau, tau_s, trial_ms] = constants;
    o.h = h.unwrap_or(o.h);
    o.tau = tau.unwrap_or(o.tau);
    o.tau_s = tau_s.unwrap_or(o.tau_s);
    o.trial_ms = trial_ms.unwrap_or(o.trial_ms);
    o.task().map_err(|e| train_error(&e, ""))?;
    Ok(o)
}

/// A tested network as a dict.
fn tested_dict<'py>(py: Python<'py>, t: &Tested) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rate_penalty", t.network.kind.rate_penalty)?;
    d.set_item("test_nmse", t.test.nmse)?;
    d.set_item("test_nmse_from_50ms", t.test.nmse_from_50ms)?;
    d.set_item("firing_rate_hz", t.test.firing_rate_hz)?;
    d.set_item("kept_iteration", t.network.kept)?;
    d.set_item("skipped_steps", t.network.trainer.skipped())?;
    Ok(d)
}

/// Trains predictive coding at `rate_penalty`, a network with W learned and one with
/// W = 0, and writes the output folder (the W-learned model, `w0/`, metrics.json).
/// Keywords as `train_xor`'s, with `h`, `tau`, `tau_s`, `trial_ms` and `rate_penalty`.
/// Returns `{"learned": {...}, "w0": {...}, "out", "seconds"}`.
#[pyfunction]
#[pyo3(signature = (*, out=None, seed=None, neurons=None, batch=None, max_iterations=None,
    learning_rate=None, eval_every=None, precision=None, train_time_constants=false, step=None,
    h=None, tau=None, tau_s=None, trial_ms=None, rate_penalty=0.0, on_check=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_predict<'py>(
    py: Python<'py>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    neurons: Option<usize>,
    batch: Option<usize>,
    max_iterations: Option<usize>,
    learning_rate: Option<f64>,
    eval_every: Option<usize>,
    precision: Option<&str>,
    train_time_constants: bool,
    step: Option<&str>,
    h: Option<f64>,
    tau: Option<f64>,
    tau_s: Option<f64>,
    trial_ms: Option<f64>,
    rate_penalty: f64,
    on_check: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let o = predict_options(
        seed,
        neurons,
        batch,
        max_iterations,
        learning_rate,
        eval_every,
        precision,
        train_time_constants,
        step,
        [h, tau, tau_s, trial_ms],
    )?;
    let sizes =
        format!("neurons={}, batch={}, h={}, trial_ms={}", o.neurons, o.batch, o.h, o.trial_ms);
    let out = keywords::output(out, "predict", o.seed, Writer::TrainPredict)?;
    let mut progress = Progress::new(on_check);
    let result = py.detach(|| predict_run::train_predict(&o, rate_penalty, &mut progress));
    let run = result.map_err(|e| progress.error(train_error(&e, &sizes)))?;
    py.detach(|| predict_output::write_predict(&out, &o, rate_penalty, &run, None))
        .map_err(value_error)?;
    let result = PyDict::new(py);
    result.set_item("learned", tested_dict(py, &run.learned)?)?;
    result.set_item("w0", tested_dict(py, &run.plain)?)?;
    result.set_item("out", out)?;
    result.set_item("seconds", run.seconds)?;
    Ok(result)
}

/// Efficient coding: predictive coding at each of `penalties` (each >= 0), W learned and
/// W = 0; writes the output folder (every network, metrics.json). Keywords as
/// `train_predict`'s. Returns `{"networks": [{"learned": {...}, "w0": {...}}, ...],
/// "learned_over_w0": ratio of the fewest spikes at NMSE <= 0.05 (or None), "out",
/// "seconds"}`.
#[pyfunction]
#[pyo3(signature = (*, penalties=None, out=None, seed=None, neurons=None, batch=None,
    max_iterations=None, learning_rate=None, eval_every=None, precision=None,
    train_time_constants=false, step=None, h=None, tau=None, tau_s=None, trial_ms=None,
    on_check=None))]
#[allow(clippy::too_many_arguments)]
pub fn train_efficient_coding<'py>(
    py: Python<'py>,
    penalties: Option<Vec<f64>>,
    out: Option<PathBuf>,
    seed: Option<u64>,
    neurons: Option<usize>,
    batch: Option<usize>,
    max_iterations: Option<usize>,
    learning_rate: Option<f64>,
    eval_every: Option<usize>,
    precision: Option<&str>,
    train_time_constants: bool,
    step: Option<&str>,
    h: Option<f64>,
    tau: Option<f64>,
    tau_s: Option<f64>,
    trial_ms: Option<f64>,
    on_check: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    let o = predict_options(
        seed,
        neurons,
        batch,
        max_iterations,
        learning_rate,
        eval_every,
        precision,
        train_time_constants,
        step,
        [h, tau, tau_s, trial_ms],
    )?;
    let penalties = penalties.unwrap_or_else(|| predict_run::DEFAULT_PENALTIES.to_vec());
    let sizes =
        format!("neurons={}, batch={}, h={}, trial_ms={}", o.neurons, o.batch, o.h, o.trial_ms);
    let out = keywords::output(out, "efficient-coding", o.seed, Writer::TrainEfficientCoding)?;
    let mut progress = Progress::new(on_check);
    let result = py.detach(|| predict_run::train_efficient_coding(&o, &penalties, &mut progress));
    let run = result.map_err(|e| progress.error(train_error(&e, &sizes)))?;
    py.detach(|| predict_output::write_efficient_coding(&out, &o, &run, None))
        .map_err(value_error)?;
    let networks = pyo3::types::PyList::empty(py);
    for (learned, plain) in &run.networks {
        let pair = PyDict::new(py);
        pair.set_item("learned", tested_dict(py, learned)?)?;
        pair.set_item("w0", tested_dict(py, plain)?)?;
        networks.append(pair)?;
    }
    let ratio = fewest_spikes(&run.points(true), NMSE_BAR)
        .zip(fewest_spikes(&run.points(false), NMSE_BAR))
        .map(|(l, p)| l.firing_rate_hz / p.firing_rate_hz);
    let result = PyDict::new(py);
    result.set_item("networks", networks)?;
    result.set_item("learned_over_w0", ratio)?;
    result.set_item("out", out)?;
    result.set_item("seconds", run.seconds)?;
    Ok(result)
}
