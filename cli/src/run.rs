//! `spikegrad run MODEL DIR`: a saved model on new inputs, streamed over trials.
//!
//! DIR holds `x.npy` (T, K, n_in), optionally `I_ext.npy` (T, K, N) and, for a model
//! trained with the cross-entropy loss, `labels.npy` (K,). The trials are run in chunks
//! whose recorded trajectory fits [`CHUNK_BYTES`], reading each chunk's rows from the
//! files and writing its results in place, so K is bounded by the disk, not the memory.
//! Output: `readout.npy` (T, K, n_out) float32; `spikes.npy` (M, 3) int64, rows [trial,
//! neuron, step] sorted by trial, then step, then neuron, where step t (0-based) is the
//! step whose update wrapped the phase (v_{t+1} < v_t - 1), so `readout.npy[t]` is the
//! first readout after the spike; `predictions.npy` (K,) int64 for classification;
//! `metrics.json`; `raster.svg` of the first trials.

use crate::options::check_out;
use crate::plots;
use crate::train::panels;
use serde_json::json;
use spikegrad::{Batch, Workspace};
use spikegrad_io::case::sweep::spike_rows;
use spikegrad_io::model_folder;
use spikegrad_io::npy::{self, RowReader, StreamWriter};
use spikegrad_io::staging::{write_json, Staging, Writer};
use spikegrad_train::model::Trials;
use spikegrad_train::phase_step::ModelStep;
use spikegrad_train::task::predictions;
use spikegrad_train::Recording;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Bytes of recorded trajectory and chunk buffers per chunk of trials.
pub const CHUNK_BYTES: usize = 64 << 20;
/// Trials drawn in `raster.svg`.
const SHOWN: usize = 4;

/// A message about `file` of `dir`: its path, then the message.
fn at(dir: &Path, file: &str, message: impl std::fmt::Display) -> String {
    spikegrad_io::case::FolderError::new(dir, file, message).to_string()
}

/// `spikegrad run`.
pub fn run(
    model_dir: &Path,
    dir: &Path,
    out: Option<&Path>,
    trials_per_chunk: Option<usize>,
) -> Result<String, String> {
    let clock = Instant::now();
    let out: PathBuf = out.map_or_else(|| dir.join("run"), Path::to_path_buf);
    if !dir.is_dir() {
        return Err(format!(
            "{}: not a folder (x.npy and optional I_ext.npy, labels.npy)",
            dir.display()
        ));
    }
    if trials_per_chunk == Some(0) {
        return Err("--trials-per-chunk 0: must be at least 1".into());
    }
    check_out("--out", &out, Writer::Run)?;
    let saved = model_folder::load(model_dir).map_err(|e| model_folder::error_at(model_dir, &e))?;
    let window = saved.classification_window();
    let model = saved.model;
    let (n, n_in, n_out) = (model.n, model.n_in, model.n_out);
    let mut x_file = RowReader::open(&dir.join("x.npy")).map_err(|e| at(dir, "x.npy", e))?;
    let [t, k, width] = x_file.shape;
    if t == 0 || k == 0 {
        return Err(at(
            dir,
            "x.npy",
            format!("shape {:?}: T and K must be at least 1", x_file.shape),
        ));
    }
    if width != n_in {
        return Err(at(
            dir,
            "x.npy",
            format!("has n_in = {width} input channels, the model {n_in} (U.npy)"),
        ));
    }
    let mut i_ext_file = match dir.join("I_ext.npy") {
        path if path.exists() => {
            let file = RowReader::open(&path).map_err(|e| at(dir, "I_ext.npy", e))?;
            if file.shape != [t, k, n] {
                return Err(at(
                    dir,
                    "I_ext.npy",
                    format!(
                        "shape {:?}, expected (T, K, N) = {:?} (T, K from x.npy, N from the model)",
                        file.shape,
                        [t, k, n]
                    ),
                ));
            }
            Some(file)
        }
        _ => None,
    };
    if let Some((_, to)) = window.filter(|&(_, to)| to > t) {
        return Err(at(dir, "x.npy", format!("T = {t} is shorter than the model's classification window (loss.to_step = {to} in its config.json)")));
    }
    let labels = match (window, dir.join("labels.npy")) {
        (Some(_), path) if path.exists() => {
            let (shape, raw) = npy::read_integers(&path).map_err(|e| at(dir, "labels.npy", e))?;
            if shape != [k] {
                return Err(at(
                    dir,
                    "labels.npy",
                    format!("shape {shape:?}, expected (K,) = [{k}] (K from x.npy)"),
                ));
            }
            if let Some(i) = raw.iter().position(|&l| !(0..n_out as i64).contains(&l)) {
                return Err(at(dir, "labels.npy", format!("element [{i}] is {}: a label must be a class in 0..{n_out} (the model's n_out)", raw[i])));
            }
            Some(raw)
        }
        _ => None,
    };

    let step = ModelStep::<f32>::new(&model.config, model.step).map_err(|e| e.to_string())?;
    let net = model.network();
    let per_trial =
        (t + 1) * n * 3 * 4 + t * (n_in + n_out + if i_ext_file.is_some() { n } else { 0 }) * 4;
    let chunk = trials_per_chunk.unwrap_or(CHUNK_BYTES / per_trial.max(1)).clamp(1, k);
    let staging = Staging::new(&out, Writer::Run).map_err(|e| format!("{}: {e}", out.display()))?;
    fn io(file: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("{file}: {e}")
    }
    let mut readout_file = StreamWriter::create(&staging.path().join("readout.npy"), "<f4")
        .map_err(io("readout.npy"))?;
    let mut spikes_file = StreamWriter::create(&staging.path().join("spikes.npy"), "<i8")
        .map_err(io("spikes.npy"))?;
    let mut workspace = Workspace::<f32>::new();
    let (mut x, mut i_ext, mut row) = (Vec::new(), Vec::new(), Vec::new());
    let (mut spikes, mut predicted) =
        (0usize, Vec::with_capacity(if window.is_some() { k } else { 0 }));
    let mut shown: Option<(Recording, Trials)> = None;
    let (mut bytes, mut rows) = (Vec::new(), Vec::new());
    for k0 in (0..k).step_by(chunk) {
        let k1 = (k0 + chunk).min(k);
        let b = k1 - k0;
        x.clear();
        i_ext.clear();
        for step_t in 0..t {
            x_file.read(step_t, k0, k1, &mut row).map_err(|e| at(dir, "x.npy", e))?;
            x.extend_from_slice(&row);
            if let Some(file) = &mut i_ext_file {
                file.read(step_t, k0, k1, &mut row).map_err(|e| at(dir, "I_ext.npy", e))?;
                i_ext.extend_from_slice(&row);
            }
        }
        let (v0, s0) = (model.v0.repeat(b), model.s0.repeat(b));
        let mut batch = Batch::new(b, t, &v0, &s0, &x);
        if !i_ext.is_empty() {
            batch = batch.with_external_current(&i_ext);
        }
        step.forward(&mut workspace, &net, &batch, true)
            .map_err(|e| format!("trials {k0}..{k1}: {e}"))?;
        let trajectory = workspace.trajectory().expect("recorded");
        let readout = workspace.readout().expect("recorded");
        for step_t in 0..t {
            bytes.clear();
            for &r in &readout[step_t * b * n_out..(step_t + 1) * b * n_out] {
                bytes.extend_from_slice(&r.to_le_bytes());
            }
            readout_file.write_at((step_t * k + k0) * n_out, &bytes).map_err(io("readout.npy"))?;
        }
        let v: Vec<&[f32]> = (0..=t).map(|s| trajectory.v(s).expect("recorded")).collect();
        rows.clear();
        spike_rows(&v, b, n, k0, &mut rows);
        spikes += rows.len() / 3;
        bytes.clear();
        bytes.extend(rows.iter().flat_map(|value| value.to_le_bytes()));
        spikes_file.append(&bytes).map_err(io("spikes.npy"))?;
        if let Some((from, to)) = window {
            predicted
                .extend(predictions(readout, b, n_out, from, to).into_iter().map(|c| c as i64));
        }
        if shown.is_none() {
            // The first trials of the first chunk, for the figure.
            let count = b.min(SHOWN);
            let first = |values: &[f32], width: usize, steps: usize| -> Vec<f32> {
                (0..steps).flat_map(|s| values[s * b * width..][..count * width].to_vec()).collect()
            };
            let all_v: Vec<f32> = v.iter().flat_map(|s| s[..count * n].to_vec()).collect();
            let recording =
                Recording { n, b: count, t, v: all_v, readout: first(readout, n_out, t) };
            shown = Some((
                recording,
                Trials { b: count, t, x: first(&x, n_in, t), ..Trials::default() },
            ));
        }
    }
    readout_file.finish(&[t, k, n_out]).map_err(io("readout.npy"))?;
    spikes_file.finish(&[spikes, 3]).map_err(io("spikes.npy"))?;
    let accuracy = labels.as_ref().map(|labels| {
        labels.iter().zip(&predicted).filter(|(l, p)| l == p).count() as f64 / k as f64
    });
    if window.is_some() {
        npy::write(&staging.path().join("predictions.npy"), &[k], &predicted)
            .map_err(io("predictions.npy"))?;
    }
    let h = model.config.h;
    let rate_hz = spikes as f64 / (n * k) as f64 / (t as f64 * h / 1000.0);
    let wall = clock.elapsed().as_secs_f64();
    let metrics = json!({ "model": model_dir.display().to_string(), "data": dir.display().to_string(),
        "trials": k, "steps": t, "neurons": n, "spikes": spikes, "firing_rate_hz": rate_hz,
        "accuracy": accuracy, "chunk_trials": chunk, "wall_seconds": wall });
    write_json(&staging.path().join("metrics.json"), &metrics).map_err(|e| e.to_string())?;
    if let Some((recording, trials)) = &shown {
        let titles: Vec<String> = (0..trials.b)
            .map(|i| {
                let mut title = format!("trial {i}");
                if let Some(p) = predicted.get(i) {
                    title += &format!(": predicted class {p}");
                }
                if let Some(l) = labels.as_ref().map(|l| l[i]) {
                    title += &format!(", label {l}");
                }
                title
            })
            .collect();
        plots::rasters(
            &staging.path().join("raster.svg"),
            &panels(recording, trials, h, &titles, n_in, n_out),
            n,
            t as f64 * h,
        )?;
    }
    staging.commit().map_err(|e| format!("{}: {e}", out.display()))?;
    let accuracy_text = accuracy.map_or(String::new(), |a| format!(", accuracy {:.2}%", 100.0 * a));
    Ok(format!(
        "run: {k} trials of {t} steps, {spikes} spikes ({rate_hz:.1} Hz){accuracy_text}, {wall:.1} s -> {}",
        out.display()
    ))
}
