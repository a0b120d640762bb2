//! `spikegrad make-task KIND DIR`: one of the project's generated tasks as a task folder
//! ([`spikegrad_io::made_task::write`]).

use clap::builder::{PossibleValue, PossibleValuesParser};
use spikegrad_io::made_task::{self, MakeTaskError};
use spikegrad_train::dataset::TaskKind;
use std::path::Path;

/// The kinds by name, each with its summary, for the command line.
pub fn kinds() -> PossibleValuesParser {
    PossibleValuesParser::new(
        TaskKind::ALL.map(|kind| PossibleValue::new(kind.name()).help(kind.summary())),
    )
}

/// `spikegrad make-task KIND DIR`.
pub fn write(kind: &str, dir: &Path, trials: usize, seed: u64) -> Result<String, String> {
    let kind = TaskKind::from_name(kind).ok_or_else(|| format!("no task named {kind:?}"))?;
    let label = dir.display().to_string();
    made_task::write(dir, &label, kind, trials, seed).map_err(|e| match e {
        MakeTaskError::NoTrials | MakeTaskError::TooLarge { .. } => format!("--{e}"),
        e => e.to_string(),
    })?;
    let steps = kind.steps();
    Ok(format!("{}: {trials} trials of {steps} steps (seed {seed}) -> {label}", kind.name()))
}
