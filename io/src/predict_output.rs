//! The output folders of predictive coding ([`spikegrad_train::predict_run`]): `train
//! predict`'s (the W-learned model, `w0/`, `metrics.json`) and efficient coding's (one
//! model folder per network, `metrics.json`), each written whole into a staging folder
//! renamed over the old output.

use crate::case::{CaseError, FolderError, LossFile};
use crate::model_folder::{self, time_constants_json};
use crate::staging::{write_json, Staging, Writer};
use crate::task_run::{norms_json, Extra};
use serde_json::{json, Value};
use spikegrad_train::model::Model;
use spikegrad_train::predict::{self, Predict};
use spikegrad_train::predict_run::{
    fewest_spikes, EfficientCodingRun, PredictCheck, PredictOptions, PredictRun, NMSE_BAR,
    TEST_TRIALS,
};
use std::path::Path;

/// Writes a predictive-coding network to `dir` (which exists) as a model folder whose
/// config.json records the task and the rate penalty it was trained with.
pub fn save_model(
    dir: &Path,
    model: &Model,
    task: &Predict,
    rate_penalty: f64,
) -> Result<(), CaseError> {
    let task_json = json!({ "name": "predict", "duration_ms": task.duration_ms, "time_scale_ms": task.time_scale_ms, "channels": predict::CHANNELS, "neurons": model.n });
    let loss = LossFile { rate_penalty, ..LossFile::default() };
    model_folder::save(dir, model, Some(&loss), task_json)
}

/// The checks of a network in metrics.json.
fn checks_json(checks: &[PredictCheck]) -> Vec<Value> {
    checks
        .iter()
        .map(|c| json!({ "iteration": c.iteration, "nmse": c.nmse, "seconds": c.seconds, "gradient_norms": norms_json(&c.gradient_norms) }))
        .collect()
}

/// A staging folder for `out`, the writing of `write` into it, `extra` files, and the
/// rename over `out`.
fn staged(
    out: &Path,
    writer: Writer,
    extra: Option<&Extra>,
    write: impl FnOnce(&Path) -> Result<(), FolderError>,
) -> Result<(), FolderError> {
    let fail = |file: &str, e: &dyn std::fmt::Display| FolderError::new(out, file, e);
    let staging = Staging::new(out, writer).map_err(|e| fail("", &e))?;
    write(staging.path())?;
    if let Some(extra) = extra {
        extra(staging.path()).map_err(|e| fail("", &e))?;
    }
    staging.commit().map_err(|e| fail("", &e))
}

/// Writes `train predict`'s output folder `out`.
pub fn write_predict(
    out: &Path,
    options: &PredictOptions,
    rate_penalty: f64,
    run: &PredictRun,
    extra: Option<&Extra>,
) -> Result<(), FolderError> {
    let fail = |file: &str, e: &dyn std::fmt::Display| FolderError::new(out, file, e);
    let (learned, plain) = (&run.learned, &run.plain);
    let (trainer, w0) = (&learned.network.trainer, &plain.network.trainer);
    let metrics = json!({
        "task": "predict", "seed": options.seed, "iterations": trainer.updates() + trainer.skipped(), "skipped_steps": trainer.skipped(), "wall_seconds": run.seconds,
        "batch": options.batch, "rate_penalty": rate_penalty, "learning_rate": options.learning_rate, "learning_rate_floor": predict::LEARNING_RATE_FLOOR, "gradient_precision": options.precision.name(),
        "kept_iteration": learned.network.kept, "time_constants": time_constants_json(&trainer.model),
        "test": { "trials": TEST_TRIALS, "nmse": learned.test.nmse, "nmse_from_50ms": learned.test.nmse_from_50ms, "firing_rate_hz": learned.test.firing_rate_hz },
        "w0": { "test_nmse": plain.test.nmse, "test_nmse_from_50ms": plain.test.nmse_from_50ms, "firing_rate_hz": plain.test.firing_rate_hz, "skipped_steps": w0.skipped(), "kept_iteration": plain.network.kept, "checks": checks_json(&plain.network.checks), "gradient_norms": norms_json(&plain.network.gradient_norms) },
        "checks": checks_json(&learned.network.checks), "gradient_norms": norms_json(&learned.network.gradient_norms),
    });
    staged(out, Writer::TrainPredict, extra, |dir| {
        let in_folder = |prefix: &'static str| move |e: CaseError| e.in_subfolder(out, prefix);
        save_model(dir, &trainer.model, &run.task, rate_penalty).map_err(in_folder(""))?;
        std::fs::create_dir(dir.join("w0")).map_err(|e| fail("w0", &e))?;
        save_model(&dir.join("w0"), &w0.model, &run.task, rate_penalty).map_err(in_folder("w0"))?;
        write_json(&dir.join("metrics.json"), &metrics).map_err(|e| fail("metrics.json", &e))
    })
}

/// The folder of efficient coding's network with W learned (`name` "learned") or W = 0
/// ("w0") at `lambda`.
pub fn network_folder(name: &str, lambda: f64) -> String {
    format!("{name}-{lambda}")
}

/// Writes efficient coding's output folder `out`.
pub fn write_efficient_coding(
    out: &Path,
    options: &PredictOptions,
    run: &EfficientCodingRun,
    extra: Option<&Extra>,
) -> Result<(), FolderError> {
    let fail = |file: &str, e: &dyn std::fmt::Display| FolderError::new(out, file, e);
    let (learned, plain) = (run.points(true), run.points(false));
    let (best_learned, best_plain) =
        (fewest_spikes(&learned, NMSE_BAR), fewest_spikes(&plain, NMSE_BAR));
    let ratio = best_learned.zip(best_plain).map(|(l, p)| l.firing_rate_hz / p.firing_rate_hz);
    let mut rows = Vec::new();
    for (learned, plain) in &run.networks {
        let lambda = learned.network.kind.rate_penalty;
        let mut row = json!({ "rate_penalty": lambda });
        for (name, tested) in [("learned", learned), ("w0", plain)] {
            let (test, network) = (&tested.test, &tested.network);
            row[name] = json!({ "test_nmse": test.nmse, "test_nmse_from_50ms": test.nmse_from_50ms,
                "firing_rate_hz": test.firing_rate_hz, "kept_iteration": network.kept,
                "skipped_steps": network.trainer.skipped(), "model": network_folder(name, lambda),
                "gradient_norms": norms_json(&network.gradient_norms) });
        }
        rows.push(row);
    }
    let metrics = json!({
        "task": "efficient-coding", "seed": options.seed, "nmse_bar": NMSE_BAR, "wall_seconds": run.seconds,
        "iterations_per_network": options.max_iterations, "neurons": options.neurons,
        "fewest_spikes_at_bar": { "learned_hz": best_learned.map(|p| p.firing_rate_hz), "w0_hz": best_plain.map(|p| p.firing_rate_hz), "learned_over_w0": ratio },
        "networks": rows,
    });
    staged(out, Writer::TrainEfficientCoding, extra, |dir| {
        for (learned, plain) in &run.networks {
            for (name, tested) in [("learned", learned), ("w0", plain)] {
                let network = &tested.network;
                let folder = network_folder(name, network.kind.rate_penalty);
                let path = dir.join(&folder);
                std::fs::create_dir(&path).map_err(|e| fail(&folder, &e))?;
                let model = &network.trainer.model;
                save_model(&path, model, &run.task, network.kind.rate_penalty)
                    .map_err(|e| e.in_subfolder(out, &folder))?;
            }
        }
        write_json(&dir.join("metrics.json"), &metrics).map_err(|e| fail("metrics.json", &e))
    })
}
