//! `spikegrad make-task yin-yang DIR`: the Yin-Yang classification task as a task folder
//! ([`spikegrad_io::made_task::yin_yang`]).

use spikegrad_io::made_task::{self, MakeTaskError};
use spikegrad_train::dataset::yin_yang::STEPS;
use std::path::Path;

/// `spikegrad make-task yin-yang`.
pub fn write(dir: &Path, trials: usize, seed: u64) -> Result<String, String> {
    made_task::yin_yang(dir, &dir.display().to_string(), trials, seed).map_err(|e| match e {
        MakeTaskError::NoTrials | MakeTaskError::TooLarge { .. } => format!("--{e}"),
        e => e.to_string(),
    })?;
    Ok(format!("yin-yang: {trials} trials of {STEPS} steps (seed {seed}) -> {}", dir.display()))
}
