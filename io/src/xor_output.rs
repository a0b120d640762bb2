//! The output folder of a run of the delayed-memory XOR
//! ([`spikegrad_train::xor_run::train_xor`]): the kept model (a model folder) and
//! `metrics.json`, written whole into a staging folder renamed over the old output.

use crate::case::{CaseError, FolderError};
use crate::model_folder::{self, time_constants_json};
use crate::staging::{write_json, Staging, Writer};
use crate::task_run::{norms_json, Extra};
use serde_json::{json, Value};
use spikegrad_train::xor::{self, XorScore};
use spikegrad_train::xor_run::{XorOptions, XorRun, TEST_TRIALS};
use std::path::Path;

/// An [`XorScore`]: `{"overall", "per_pattern": {"--", "-+", "+-", "++"},
/// "mean_abs_readout", "median_signed_readout"}`.
pub fn score_json(s: &XorScore) -> Value {
    json!({ "overall": s.overall, "per_pattern": { "--": s.per_pattern[0], "-+": s.per_pattern[1], "+-": s.per_pattern[2], "++": s.per_pattern[3] },
        "mean_abs_readout": s.margin, "median_signed_readout": s.median_signed })
}

/// `metrics.json` of a run.
pub fn metrics_json(options: &XorOptions, run: &XorRun) -> Value {
    let checks: Vec<Value> = run
        .checks
        .iter()
        .map(|c| json!({ "iteration": c.iteration, "loss": c.loss, "accuracy": score_json(&c.score), "seconds": c.seconds, "gradient_norms": norms_json(&c.gradient_norms) }))
        .collect();
    json!({
        "task": "xor", "seed": options.seed, "start": options.start.name(), "iterations": run.iterations,
        "restarts_at": run.restarts, "skipped_steps_last_attempt": run.trainer.skipped(),
        "gradient_precision": run.settings.precision.name(), "time_constants": time_constants_json(&run.trainer.model),
        "passed_check_at": run.passed_at, "kept_iteration": run.kept, "batch": options.batch,
        "learning_rate": options.learning_rate, "wall_seconds": run.seconds,
        "test": { "trials": TEST_TRIALS, "loss": run.test_loss, "accuracy": score_json(&run.test) },
        "firing_rate_hz": run.firing_rate, "checks": checks, "gradient_norms": norms_json(&run.gradient_norms),
    })
}

/// Writes the output folder `out` of a run: the kept model, `metrics.json`, and the
/// `extra` files (figures).
pub fn write(
    out: &Path,
    options: &XorOptions,
    run: &XorRun,
    extra: Option<&Extra>,
) -> Result<(), FolderError> {
    let fail = |file: &str, e: &dyn std::fmt::Display| FolderError::new(out, file, e);
    let staging = Staging::new(out, Writer::TrainXor).map_err(|e| fail("", &e))?;
    let dir = staging.path();
    let model = &run.trainer.model;
    let task_json = json!({ "name": "xor", "trial_ms": xor::TRIAL_MS, "first_pulse_ms": xor::FIRST_PULSE, "pulse_ms": xor::PULSE_MS,
        "second_pulse_start_ms": xor::SECOND_PULSE_START, "go_cue_ms": xor::GO_CUE, "response_ms": xor::RESPONSE, "neurons": model.n });
    model_folder::save(dir, model, None, task_json).map_err(|e: CaseError| e.in_folder(out))?;
    write_json(&dir.join("metrics.json"), &metrics_json(options, run))
        .map_err(|e| fail("metrics.json", &e))?;
    if let Some(extra) = extra {
        extra(dir).map_err(|e| fail("", &e))?;
    }
    staging.commit().map_err(|e| fail("", &e))
}
