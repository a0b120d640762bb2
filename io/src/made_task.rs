//! Task folders made by the project's generators ([`spikegrad_train::dataset`]), for the
//! worked examples and the tests: `spikegrad make-task yin-yang DIR`.

use crate::case::FolderError;
use crate::npy;
use crate::staging::{self, write_json, OutputError, Staging, Writer};
use serde_json::json;
use spikegrad_train::dataset::yin_yang::{self, CHANNELS, CLASSES, STEPS};
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
    if trials == 0 {
        return Err(MakeTaskError::NoTrials);
    }
    staging::check_out(label, dir, Writer::MakeTask).map_err(MakeTaskError::Output)?;
    // x.npy's values, held twice while written (values and bytes), and the points.
    let needed = trials as f64 * (STEPS as f64 * 4.0 * 4.0 * 2.0 + 64.0);
    if let Some(available) = spikegrad_train::memory::available_memory() {
        if needed > available as f64 {
            return Err(MakeTaskError::TooLarge { trials, needed, available });
        }
    }
    let points = yin_yang::sample(trials, seed);
    let x = yin_yang::inputs(&points);
    let labels: Vec<i64> = points.iter().map(|p| p.2 as i64).collect();
    let fail = |file: &str, e: &dyn std::fmt::Display| {
        MakeTaskError::Write(FolderError::new(dir, file, e))
    };
    let staging = Staging::new(dir, Writer::MakeTask).map_err(|e| fail("", &e))?;
    let config = json!({ "h": 1.0, "tau": 10.0, "tau_s": 10.0, "gate": "raised_cosine", "delta": 1.0,
        "loss": { "kind": "cross_entropy", "from_step": STEPS / 2, "to_step": STEPS, "classes": CLASSES } });
    let path = staging.path();
    write_json(&path.join("config.json"), &config).map_err(|e| fail("config.json", &e))?;
    npy::write(&path.join("x.npy"), &[STEPS, trials, CHANNELS], &x)
        .map_err(|e| fail("x.npy", &e))?;
    npy::write(&path.join("labels.npy"), &[trials], &labels).map_err(|e| fail("labels.npy", &e))?;
    staging.commit().map_err(|e| fail("", &e))
}
