//! What can stop a run on a task before it ends.

use crate::memory::TooLarge;
use std::fmt;

/// An error of [`super::train`] or of its preparation, saying what is wrong and where.
#[derive(Debug)]
#[non_exhaustive]
pub enum TaskError {
    /// An option out of its range: its name (a field of [`super::TaskOptions`]), the
    /// value given and the rule. Front ends spell the name their own way (`--eval-every`,
    /// `eval_every=`).
    Option {
        /// The field's name.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// What it must be.
        rule: &'static str,
    },
    /// An array of the task whose length does not fit its sizes.
    Shape {
        /// The field of [`super::Task`].
        array: &'static str,
        /// Its length.
        len: usize,
        /// The length its sizes ask for.
        expected: usize,
    },
    /// A label that names no class.
    Label {
        /// The trial.
        trial: usize,
        /// Its label.
        label: usize,
        /// The classes, n_out.
        classes: usize,
    },
    /// A task of one trial given without held-out trials: nothing to hold out.
    TooFewTrials,
    /// The run would not fit in the memory available.
    TooLarge(TooLarge),
    /// The model does not run (its configuration, or its first run on the task).
    Model(spikegrad::Error),
    /// The fresh model does not run on the task's trials (its scales measured there).
    InitialRun(spikegrad::Error),
    /// A saved optimiser state that does not fit the run it should resume.
    Resume(String),
    /// The observer could not save a checkpoint.
    Checkpoint(Box<dyn std::error::Error + Send + Sync>),
    /// The observer asked the run to stop; the checkpoint of where it stopped was saved.
    Cancelled {
        /// The last iteration trained.
        iteration: usize,
    },
}

impl TaskError {
    /// [`TaskError::Option`] with the value shown as given.
    pub(crate) fn option(name: &'static str, value: impl fmt::Display, rule: &'static str) -> Self {
        TaskError::Option { name, value: value.to_string(), rule }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskError::Option { name, value, rule } => write!(f, "{name} {value}: {rule}"),
            TaskError::Shape { array, len, expected } => {
                write!(f, "task array {array}: {len} values, its sizes need {expected}")
            }
            TaskError::Label { trial, label, classes } => {
                write!(f, "task labels[{trial}] = {label}: must be below n_out = {classes}")
            }
            TaskError::TooFewTrials => write!(
                f,
                "K = 1 trial: hold-out needs at least 2 (give more trials, or held-out trials)"
            ),
            TaskError::TooLarge(e) => e.fmt(f),
            TaskError::Model(e) => e.fmt(f),
            TaskError::InitialRun(e) => {
                write!(f, "the initial network does not run on the task's trials: {e}")
            }
            TaskError::Resume(why) => {
                write!(f, "the saved optimiser state does not fit this run ({why})")
            }
            TaskError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            TaskError::Cancelled { iteration } => {
                write!(f, "stopped at iteration {iteration}; the checkpoint is saved")
            }
        }
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TaskError::TooLarge(e) => Some(e),
            TaskError::Model(e) | TaskError::InitialRun(e) => Some(e),
            TaskError::Checkpoint(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<spikegrad::Error> for TaskError {
    fn from(e: spikegrad::Error) -> Self {
        TaskError::Model(e)
    }
}
