//! What a run on a task tells its caller, and how the caller answers: progress lines,
//! held-out checks, checkpoints to save, and a request to stop.

use super::progress::{Check, Progress};
use crate::model::Model;
use crate::{StepReport, Trainer};

/// Whether a run goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now: the run saves a checkpoint of where it is and returns
    /// [`super::TaskError::Cancelled`] (e.g. on Ctrl-C).
    Stop,
}

/// A run's state when it is saved: what a checkpoint holds.
#[derive(Clone, Copy)]
pub struct RunState<'a> {
    /// The model being trained, with Adam's state.
    pub trainer: &'a Trainer,
    /// The model of the best held-out check so far (the current one before any check).
    pub best: &'a Model,
    /// The run's record so far.
    pub progress: &'a Progress,
    /// Seconds of training, counting those of the runs it resumes.
    pub seconds: f64,
}

/// The caller's side of [`super::train`]. Every method has a default that does nothing,
/// so an observer implements only what it needs.
pub trait Observer {
    /// After each training step (`iteration` counts from 1, over resumed runs).
    fn step(&mut self, iteration: usize, report: &StepReport, trainer: &Trainer) -> Control {
        let _ = (iteration, report, trainer);
        Control::Continue
    }

    /// After each held-out check.
    fn check(&mut self, check: &Check) -> Control {
        let _ = check;
        Control::Continue
    }

    /// A line for the user (e.g. that the run stalled and ends early).
    fn note(&mut self, line: &str) {
        let _ = line;
    }

    /// Saves the run's state: every [`super::TaskOptions::checkpoint_minutes`], and when
    /// the run is stopped. An error ends the run with [`super::TaskError::Checkpoint`].
    fn checkpoint(
        &mut self,
        state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let _ = state;
        Ok(())
    }
}

/// An observer that observes nothing: a run with no progress and no checkpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}
