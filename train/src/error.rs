//! What can stop a training run before it ends.

use crate::memory::TooLarge;
use std::fmt;

/// An error of a training loop ([`crate::task::train`], [`crate::xor_run::train_xor`]) or of its
/// preparation, saying what is wrong and where.
#[derive(Debug)]
#[non_exhaustive]
pub enum TrainError {
    /// An option out of its range: its name (a field of the loop's options), the value
    /// given and the rule. Front ends spell the name their own way (`--eval-every`,
    /// `eval_every=`).
    Option {
        /// The field's name.
        name: &'static str,
        /// The value given, as text.
        value: String,
        /// What it must be.
        rule: String,
    },
    /// Constants that break the rules of docs/model.md section 4.
    Constants {
        /// The step h.
        h: f64,
        /// tau.
        tau: f64,
        /// tau_s.
        tau_s: f64,
        /// The rule broken.
        error: spikegrad::Error,
    },
    /// An array of the task whose length does not fit its sizes.
    Shape {
        /// The field of [`crate::task::Task`].
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
    /// Every one of the last [`crate::MAX_SKIPPED_IN_A_ROW`] gradients was not finite (the
    /// run or its costates overflow), in a loop that cannot go on without them.
    Stalled {
        /// The iteration it stalled at.
        iteration: usize,
    },
    /// The observer asked the run to stop (a run on a task saved the checkpoint of where
    /// it stopped).
    Cancelled {
        /// The last iteration trained.
        iteration: usize,
    },
}

impl TrainError {
    /// [`TrainError::Option`] with the value shown as given.
    pub(crate) fn option(
        name: &'static str,
        value: impl fmt::Display,
        rule: impl Into<String>,
    ) -> Self {
        TrainError::Option { name, value: value.to_string(), rule: rule.into() }
    }
}

/// The first of `counts` (option name, value) that is 0: an error.
pub(crate) fn check_counts(counts: &[(&'static str, usize)]) -> Result<(), TrainError> {
    match counts.iter().find(|(_, value)| *value == 0) {
        Some(&(name, value)) => Err(TrainError::option(name, value, "must be at least 1")),
        None => Ok(()),
    }
}

/// The first of `values` (option name, value) that is not finite and >= 0: an error.
pub(crate) fn check_non_negative(values: &[(&'static str, f64)]) -> Result<(), TrainError> {
    match values.iter().find(|(_, value)| !(value.is_finite() && *value >= 0.0)) {
        Some(&(name, value)) => {
            Err(TrainError::option(name, value, "must be a finite number >= 0"))
        }
        None => Ok(()),
    }
}

/// The first of `values` (option name, value) that is not finite and > 0: an error.
pub(crate) fn check_positive(values: &[(&'static str, f64)]) -> Result<(), TrainError> {
    match values.iter().find(|(_, value)| !(value.is_finite() && *value > 0.0)) {
        Some(&(name, value)) => Err(TrainError::option(name, value, "must be a finite number > 0")),
        None => Ok(()),
    }
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Option { name, value, rule } => write!(f, "{name} {value}: {rule}"),
            TrainError::Constants { h, tau, tau_s, error } => {
                write!(f, "h {h}, tau {tau}, tau_s {tau_s}: {error}")
            }
            TrainError::Shape { array, len, expected } => {
                write!(f, "task array {array}: {len} values, its sizes need {expected}")
            }
            TrainError::Label { trial, label, classes } => {
                write!(f, "task labels[{trial}] = {label}: must be below n_out = {classes}")
            }
            TrainError::TooFewTrials => write!(
                f,
                "K = 1 trial: hold-out needs at least 2 (give more trials, or held-out trials)"
            ),
            TrainError::TooLarge(e) => e.fmt(f),
            TrainError::Model(e) => e.fmt(f),
            TrainError::InitialRun(e) => {
                write!(f, "the initial network does not run on the task's trials: {e}")
            }
            TrainError::Resume(why) => {
                write!(f, "the saved optimiser state does not fit this run ({why})")
            }
            TrainError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
            TrainError::Stalled { iteration } => write!(
                f,
                "training stalled at iteration {iteration}: the last {} gradients were all \
                 non-finite (the run or its costates overflow); try the f64 precision, a \
                 smaller learning rate, or slower neurons",
                crate::MAX_SKIPPED_IN_A_ROW
            ),
            TrainError::Cancelled { iteration } => write!(f, "stopped at iteration {iteration}"),
        }
    }
}

impl std::error::Error for TrainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TrainError::TooLarge(e) => Some(e),
            TrainError::Model(e) | TrainError::InitialRun(e) => Some(e),
            TrainError::Constants { error, .. } => Some(error),
            TrainError::Checkpoint(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl From<spikegrad::Error> for TrainError {
    fn from(e: spikegrad::Error) -> Self {
        TrainError::Model(e)
    }
}
