//! Task folders made by the project's generators ([`spikegrad_train::dataset`]), for the
//! worked examples, the tests and the task suite: `spikegrad make-task KIND DIR`.

use crate::case::FolderError;
use crate::npy;
use crate::staging::{self, write_json, OutputError, Staging, Writer};
use serde_json::json;
use spikegrad_train::dataset::{GeneratedLoss, GeneratedTask, TaskKind};
use std::path::Path;

/// Why a task folder could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum MakeTaskError {
    /// No trials asked for.
    NoTrials,
    /// The values would not fit in the memory available.
    TooLarge {
        /// Trials asked for.
        trials: usize,
        /// Bytes needed.
        needed: f64,
        /// Bytes available.
        available: u64,
    },
    /// The folder may not be written.
    Output(OutputError),
    /// A file could not be written.
    Write(FolderError),
}

impl std::fmt::Display for MakeTaskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MakeTaskError::NoTrials => write!(f, "trials 0: must be at least 1"),
            MakeTaskError::TooLarge { trials, needed, available } => write!(
                f,
                "trials {trials}: the task would need about {:.1} GB of memory and {:.1} GB \
                 are available",
                needed / 1e9,
                *available as f64 / 1e9
            ),
            MakeTaskError::Output(e) => e.fmt(f),
            MakeTaskError::Write(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for MakeTaskError {}

/// Writes the Yin-Yang task folder `dir` (replaced whole, if a task folder made here;
/// `label` names it in errors): `config.json` (h 1 ms, tau 10 ms, tau_s 10 ms, raised
/// cosine of width 1, cross-entropy over steps 51..=100 of 100), `x.npy` (100, K, 4)
/// float32 and `labels.npy` (K,) int64, K = `trials` points drawn with `seed`.
pub fn yin_yang(dir: &Path, label: &str, trials: usize, seed: u64) -> Result<(), MakeTaskError> {
    write(dir, label, TaskKind::YinYang, trials, seed)
}

/// Writes the task folder `dir` of `trials` trials of `kind` drawn with `seed` (replaced
/// whole, if a task folder made here; `label` names it in errors): `config.json` (the
/// task's h, tau, tau_s, gate and loss), `x.npy` (T, K, n_in) float32, and `labels.npy`
/// (K,) int64 for a classification or `target.npy` and `mask.npy` (T, K, n_out) float32
/// for a regression.
pub fn write(
    dir: &Path,
    label: &str,
    kind: TaskKind,
    trials: usize,
    seed: u64,
) -> Result<(), MakeTaskError> {
    if trials == 0 {
        return Err(MakeTaskError::NoTrials);
    }
    staging::check_out(label, dir, Writer::MakeTask).map_err(MakeTaskError::Output)?;
    // The values, held twice while written (values and bytes), and the labels.
    let needed = trials as f64 * (kind.values_per_trial() as f64 * 4.0 * 2.0 + 64.0);
    if let Some(available) = spikegrad_train::memory::available_memory() {
        if needed > available as f64 {
            return Err(MakeTaskError::TooLarge { trials, needed, available });
        }
    }
    let task = kind.generate(trials, seed);
    let fail = |file: &str, e: &dyn std::fmt::Display| {
        MakeTaskError::Write(FolderError::new(dir, file, e))
    };
    let staging = Staging::new(dir, Writer::MakeTask).map_err(|e| fail("", &e))?;
    let path = staging.path();
    write_json(&path.join("config.json"), &config_json(&task))
        .map_err(|e| fail("config.json", &e))?;
    let (t, k) = (task.steps, task.trials);
    npy::write(&path.join("x.npy"), &[t, k, task.channels], &task.x)
        .map_err(|e| fail("x.npy", &e))?;
    match &task.loss {
        GeneratedLoss::CrossEntropy { labels, .. } => {
            npy::write(&path.join("labels.npy"), &[k], labels)
                .map_err(|e| fail("labels.npy", &e))?;
        }
        GeneratedLoss::Mse { target, mask, outputs } => {
            for (file, values) in [("target.npy", target), ("mask.npy", mask)] {
                npy::write(&path.join(file), &[t, k, *outputs], values)
                    .map_err(|e| fail(file, &e))?;
            }
        }
        _ => unreachable!("the generators give these losses"),
    }
    staging.commit().map_err(|e| fail("", &e))
}

/// `config.json` of a generated task (the keys of a task folder's config).
fn config_json(task: &GeneratedTask) -> serde_json::Value {
    let c = &task.config;
    let loss = match &task.loss {
        GeneratedLoss::CrossEntropy { classes, from_step, to_step, .. } => json!({
            "kind": "cross_entropy", "from_step": from_step, "to_step": to_step, "classes": classes
        }),
        _ => json!({ "kind": "mse" }),
    };
    json!({ "h": c.h, "tau": c.tau, "tau_s": c.tau_s, "gate": c.gate.name(), "delta": c.gate.delta(),
        "loss": loss })
}
