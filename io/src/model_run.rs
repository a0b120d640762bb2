//! A saved model on new inputs, streamed over trials (`spikegrad run MODEL DIR`).
//!
//! DIR holds `x.npy` (T, K, n_in), optionally `I_ext.npy` (T, K, N) and, for a model
//! trained with the cross-entropy loss, `labels.npy` (K,). The trials are run in chunks
//! whose recorded trajectory fits [`CHUNK_BYTES`], reading each chunk's rows from the
//! files and writing its results in place, so K is bounded by the disk, not the memory.
//! Output: `readout.npy` (T, K, n_out) float32; `spikes.npy` (M, 3) int64, rows [trial,
//! neuron, step] sorted by trial, then step, then neuron, where step t (0-based) is the
//! step whose update wrapped the phase (v_{t+1} < v_t - 1), so `readout.npy[t]` is the
//! first readout after the spike; `predictions.npy` (K,) int64 for classification;
//! `metrics.json`.

use crate::case::sweep::spike_rows;
use crate::case::{one_line, FolderError};
use crate::model_folder;
use crate::npy::{self, RowReader, StreamWriter};
use crate::staging::{write_json, Staging, Writer};
use serde_json::json;
use spikegrad::{Batch, Inputs, Record, Workspace};
use spikegrad_train::model::{Model, Trials};
use spikegrad_train::phase_step::ModelStep;
use spikegrad_train::task::predictions;
use spikegrad_train::Recording;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytes of recorded trajectory and chunk buffers per chunk of trials.
pub const CHUNK_BYTES: usize = 64 << 20;
/// Trials kept for figures ([`RunSummary::shown`]).
pub const SHOWN: usize = 4;

/// The first trials of a run, recorded, for figures.
#[derive(Debug, Clone)]
pub struct Shown {
    /// Their run.
    pub recording: Recording,
    /// Their inputs (`x`; the rest empty).
    pub trials: Trials,
}

/// What a run did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunSummary {
    /// Trials K.
    pub trials: usize,
    /// Steps T.
    pub steps: usize,
    /// The model's N, n_in, n_out and h.
    pub neurons: usize,
    /// Input channels.
    pub n_in: usize,
    /// Readout channels.
    pub n_out: usize,
    /// The step h, in ms.
    pub h: f64,
    /// Spikes over all trials.
    pub spikes: usize,
    /// Spikes per neuron per second.
    pub firing_rate_hz: f64,
    /// The class of each trial (a model trained with the cross-entropy loss).
    pub predicted: Vec<i64>,
    /// The labels given (`labels.npy`), if any.
    pub labels: Option<Vec<i64>>,
    /// The fraction of trials whose class is their label, with labels.
    pub accuracy: Option<f64>,
    /// Trials per chunk.
    pub chunk_trials: usize,
    /// Seconds.
    pub seconds: f64,
    /// The first trials, for figures.
    pub shown: Option<Shown>,
}

/// Writes extra files (figures) of a run into its staging folder before it replaces the
/// output.
pub type RunExtra<'a> = dyn Fn(&Path, &RunSummary) -> Result<(), Box<dyn std::error::Error>> + 'a;

/// Why a run could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// `trials_per_chunk` is 0.
    NoTrialsPerChunk,
    /// A file of the model, the data or the output, and what is wrong.
    File(FolderError),
    /// The model's run over trials `from..to` failed.
    Forward {
        /// The first trial of the chunk.
        from: usize,
        /// One past its last.
        to: usize,
        /// The kernels' error.
        error: spikegrad::Error,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::NoTrialsPerChunk => write!(f, "trials_per_chunk 0: must be at least 1"),
            RunError::File(e) => write!(f, "{}", one_line(&e.to_string())),
            RunError::Forward { from, to, error } => write!(f, "trials {from}..{to}: {error}"),
        }
    }
}

impl std::error::Error for RunError {}

fn at(dir: &Path, file: &str, message: impl std::fmt::Display) -> RunError {
    RunError::File(FolderError::new(dir, file, message))
}

/// The data folder, opened and checked against the model.
struct Data {
    x: RowReader,
    i_ext: Option<RowReader>,
    labels: Option<Vec<i64>>,
    t: usize,
    k: usize,
}

/// Opens `dir`'s files and checks them against `model` and its classification `window`.
fn open(dir: &Path, model: &Model, window: Option<(usize, usize)>) -> Result<Data, RunError> {
    if !dir.is_dir() {
        return Err(at(dir, "", "not a folder (x.npy and optional I_ext.npy, labels.npy)"));
    }
    let x = RowReader::open(&dir.join("x.npy")).map_err(|e| at(dir, "x.npy", e))?;
    let [t, k, width] = x.shape;
    if t == 0 || k == 0 {
        return Err(at(dir, "x.npy", format!("shape {:?}: T and K must be at least 1", x.shape)));
    }
    if width != model.n_in {
        let n_in = model.n_in;
        let what = format!("has n_in = {width} input channels, the model {n_in} (U.npy)");
        return Err(at(dir, "x.npy", what));
    }
    let path = dir.join("I_ext.npy");
    let i_ext = match path.exists() {
        true => Some(RowReader::open(&path).map_err(|e| at(dir, "I_ext.npy", e))?),
        false => None,
    };
    if let Some(file) = i_ext.as_ref().filter(|f| f.shape != [t, k, model.n]) {
        let what = format!(
            "shape {:?}, expected (T, K, N) = {:?} (T, K from x.npy, N from the model)",
            file.shape,
            [t, k, model.n]
        );
        return Err(at(dir, "I_ext.npy", what));
    }
    if let Some((_, to)) = window.filter(|&(_, to)| to > t) {
        return Err(at(dir, "x.npy", format!("T = {t} is shorter than the model's classification window (loss.to_step = {to} in its config.json)")));
    }
    let path = dir.join("labels.npy");
    let labels = match window.is_some() && path.exists() {
        true => Some(read_labels(dir, k, model.n_out)?),
        false => None,
    };
    Ok(Data { x, i_ext, labels, t, k })
}

/// `labels.npy` of K trials, each a class below `n_out`.
fn read_labels(dir: &Path, k: usize, n_out: usize) -> Result<Vec<i64>, RunError> {
    let path = dir.join("labels.npy");
    let (shape, raw) = npy::read_integers(&path).map_err(|e| at(dir, "labels.npy", e))?;
    if shape != [k] {
        let what = format!("shape {shape:?}, expected (K,) = [{k}] (K from x.npy)");
        return Err(at(dir, "labels.npy", what));
    }
    if let Some(i) = raw.iter().position(|&l| !(0..n_out as i64).contains(&l)) {
        return Err(at(
            dir,
            "labels.npy",
            format!(
                "element [{i}] is {}: a label must be a class in 0..{n_out} (the model's n_out)",
                raw[i]
            ),
        ));
    }
    Ok(raw)
}

/// The output files being written.
struct Outputs<'a> {
    out: &'a Path,
    readout: StreamWriter,
    spikes: StreamWriter,
    bytes: Vec<u8>,
    rows: Vec<i64>,
    spike_count: usize,
}

impl Outputs<'_> {
    fn fail(&self, file: &str) -> impl Fn(std::io::Error) -> RunError + '_ {
        let out = self.out;
        let file = file.to_string();
        move |e| at(out, &file, e)
    }

    /// Writes chunk `k0..k0 + b` of a run of `t` steps over `k` trials.
    fn write(
        &mut self,
        readout: &[f32],
        v: &[&[f32]],
        (k0, b, k): (usize, usize, usize),
        (n, n_out): (usize, usize),
    ) -> Result<(), RunError> {
        let t = v.len() - 1;
        for step in 0..t {
            self.bytes.clear();
            for &r in &readout[step * b * n_out..(step + 1) * b * n_out] {
                self.bytes.extend_from_slice(&r.to_le_bytes());
            }
            let at_index = (step * k + k0) * n_out;
            let result = self.readout.write_at(at_index, &self.bytes);
            result.map_err(self.fail("readout.npy"))?;
        }
        self.rows.clear();
        spike_rows(v, b, n, k0, &mut self.rows);
        self.spike_count += self.rows.len() / 3;
        self.bytes.clear();
        self.bytes.extend(self.rows.iter().flat_map(|value| value.to_le_bytes()));
        let result = self.spikes.append(&self.bytes);
        result.map_err(self.fail("spikes.npy"))
    }
}

/// The first `count` trials of a chunk of `b`, for figures.
fn shown(readout: &[f32], v: &[&[f32]], x: &[f32], b: usize, model: &Model) -> Shown {
    let (t, count) = (v.len() - 1, b.min(SHOWN));
    let first = |values: &[f32], width: usize| -> Vec<f32> {
        (0..t).flat_map(|s| values[s * b * width..][..count * width].to_vec()).collect()
    };
    let all_v: Vec<f32> = v.iter().flat_map(|s| s[..count * model.n].to_vec()).collect();
    let readout = first(readout, model.n_out);
    let recording = Recording { n: model.n, b: count, t, v: all_v, readout };
    Shown {
        recording,
        trials: Trials { b: count, t, x: first(x, model.n_in), ..Trials::default() },
    }
}

/// Runs the model folder `model_dir` on the data folder `dir` and writes the results
/// into `out` (replaced whole; the caller checks first that it may be, e.g. with
/// [`crate::staging::check_out`]), in chunks of `trials_per_chunk` trials (default:
/// those whose recording fits [`CHUNK_BYTES`]); `extra` writes more files (figures).
pub fn run(
    model_dir: &Path,
    dir: &Path,
    out: &Path,
    trials_per_chunk: Option<usize>,
    extra: Option<&RunExtra>,
) -> Result<RunSummary, RunError> {
    let clock = Instant::now();
    if trials_per_chunk == Some(0) {
        return Err(RunError::NoTrialsPerChunk);
    }
    let saved =
        model_folder::load(model_dir).map_err(|e| RunError::File(e.in_folder(model_dir)))?;
    let window = saved.classification_window();
    let model = saved.model;
    let mut data = open(dir, &model, window)?;
    let (t, k, n, n_in, n_out) = (data.t, data.k, model.n, model.n_in, model.n_out);
    let step = ModelStep::<f32>::new(&model.config, model.step)
        .map_err(|e| at(model_dir, "config.json", e))?;
    let net = model.network();
    let currents = if data.i_ext.is_some() { n } else { 0 };
    let per_trial = (t + 1) * n * 3 * 4 + t * (n_in + n_out + currents) * 4;
    let chunk = trials_per_chunk.unwrap_or(CHUNK_BYTES / per_trial.max(1)).clamp(1, k);
    let staging = Staging::new(out, Writer::Run).map_err(|e| at(out, "", e))?;
    let create = |file: &str, descr| {
        StreamWriter::create(&staging.path().join(file), descr).map_err(|e| at(out, file, e))
    };
    let (readout, spikes) = (create("readout.npy", "<f4")?, create("spikes.npy", "<i8")?);
    let mut outputs =
        Outputs { out, readout, spikes, bytes: Vec::new(), rows: Vec::new(), spike_count: 0 };
    let mut workspace = Workspace::<f32>::new();
    let (mut x, mut i_ext, mut row) = (Vec::new(), Vec::new(), Vec::new());
    let mut predicted = Vec::with_capacity(if window.is_some() { k } else { 0 });
    let mut first: Option<Shown> = None;
    for k0 in (0..k).step_by(chunk) {
        let (k1, b) = ((k0 + chunk).min(k), (k0 + chunk).min(k) - k0);
        x.clear();
        i_ext.clear();
        for s in 0..t {
            data.x.read(s, k0, k1, &mut row).map_err(|e| at(dir, "x.npy", e))?;
            x.extend_from_slice(&row);
            if let Some(file) = &mut data.i_ext {
                file.read(s, k0, k1, &mut row).map_err(|e| at(dir, "I_ext.npy", e))?;
                i_ext.extend_from_slice(&row);
            }
        }
        let (v0, s0) = (model.v0.repeat(b), model.s0.repeat(b));
        let mut batch = Batch::new(Inputs { b, t, v0: &v0, s0: &s0, x: &x });
        if !i_ext.is_empty() {
            batch = batch.with_external_current(&i_ext);
        }
        step.forward(&mut workspace, &net, &batch, Record::Trajectory)
            .map_err(|error| RunError::Forward { from: k0, to: k1, error })?;
        let trajectory = workspace.trajectory().expect("recorded");
        let readout = workspace.readout().expect("recorded");
        let v: Vec<&[f32]> = (0..=t).map(|s| trajectory.v(s).expect("recorded")).collect();
        outputs.write(readout, &v, (k0, b, k), (n, n_out))?;
        if let Some((from, to)) = window {
            // The window was checked against T when the data was opened.
            let classes = predictions(readout, b, n_out, from, to)
                .map_err(|e| at(model_dir, "config.json", e))?;
            predicted.extend(classes.into_iter().map(|c| c as i64));
        }
        first.get_or_insert_with(|| shown(readout, &v, &x, b, &model));
    }
    let summary = RunSummary {
        trials: k,
        steps: t,
        neurons: n,
        n_in,
        n_out,
        h: model.config.h,
        spikes: outputs.spike_count,
        firing_rate_hz: outputs.spike_count as f64
            / (n * k) as f64
            / (t as f64 * model.config.h / 1000.0),
        accuracy: data.labels.as_ref().map(|labels| {
            labels.iter().zip(&predicted).filter(|(l, p)| l == p).count() as f64 / k as f64
        }),
        labels: data.labels.take(),
        predicted,
        chunk_trials: chunk,
        seconds: 0.0,
        shown: first,
    };
    let paths = (model_dir, dir);
    finish(outputs, staging, summary, paths, window.is_some(), clock, extra)
}

/// Closes the streamed files, writes predictions and metrics, and renames the output
/// into place.
fn finish(
    outputs: Outputs<'_>,
    staging: Staging,
    mut summary: RunSummary,
    (model_dir, dir): (&Path, &Path),
    classifies: bool,
    clock: Instant,
    extra: Option<&RunExtra>,
) -> Result<RunSummary, RunError> {
    let out = outputs.out;
    let (t, k) = (summary.steps, summary.trials);
    let fail = |file: &'static str| move |e: std::io::Error| at(out, file, e);
    outputs.readout.finish(&[t, k, summary.n_out]).map_err(fail("readout.npy"))?;
    outputs.spikes.finish(&[summary.spikes, 3]).map_err(fail("spikes.npy"))?;
    if classifies {
        npy::write(&staging.path().join("predictions.npy"), &[k], &summary.predicted)
            .map_err(fail("predictions.npy"))?;
    }
    summary.seconds = clock.elapsed().as_secs_f64();
    let metrics = json!({ "model": model_dir.display().to_string(), "data": dir.display().to_string(),
        "trials": k, "steps": t, "neurons": summary.neurons, "spikes": summary.spikes, "firing_rate_hz": summary.firing_rate_hz,
        "accuracy": summary.accuracy, "chunk_trials": summary.chunk_trials, "wall_seconds": summary.seconds });
    write_json(&staging.path().join("metrics.json"), &metrics).map_err(fail("metrics.json"))?;
    if let Some(extra) = extra {
        extra(staging.path(), &summary).map_err(|e| at(out, "", e))?;
    }
    staging.commit().map_err(fail(""))?;
    Ok(summary)
}

/// The default output folder of a run on `dir`: `dir/run`.
pub fn default_out(dir: &Path) -> PathBuf {
    dir.join("run")
}
