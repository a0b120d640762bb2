//! What a run on a task asks of its caller besides [`Observer`]'s: checkpoints to save.

use super::plan::{Plan, Probe};
use super::progress::{Check, Progress};
use crate::model::Model;
use crate::observer::{Observer, Quiet};
use crate::Trainer;

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

/// The caller's side of [`super::train`]: an [`Observer`] of its checks that also saves
/// checkpoints.
pub trait TaskObserver: Observer<Check> {
    /// Saves the run's state: every [`super::TaskOptions::checkpoint_minutes`], and when
    /// the run is stopped. An error ends the run with [`crate::TrainError::Checkpoint`].
    fn checkpoint(
        &mut self,
        state: RunState<'_>,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let _ = state;
        Ok(())
    }

    /// A probe has ended: the `k`th of `count` ([`super::Probes`]). Its training steps
    /// went to [`Observer::step`], numbered from 1 within the probe.
    fn probed(&mut self, probe: &Probe, (k, count): (usize, usize)) {
        let _ = (probe, k, count);
    }

    /// The run's plan is fixed (after the probes, before its first iteration).
    fn planned(&mut self, plan: &Plan) {
        let _ = plan;
    }
}

impl TaskObserver for Quiet {}
