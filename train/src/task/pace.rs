//! A run's pace: the seconds a training step and a held-out check take, measured on the
//! user's own task, and the iterations and checks that fit in the time a run has.
//!
//! A check runs every held-out trial forward, a training step only a batch forward and
//! backward: on long trials with many held-out trials one check costs as much as tens of
//! steps, and a hundred of them would take most of a time limit. The checks therefore
//! get a share of the time ([`CHECK_SHARE`]), not a count.

use super::probe::trainer_at_start;
use super::score::checked_score;
use super::start::draw_batch;
use super::{Score, Split, Task, TaskOptions};
use crate::model::{Model, Trials};
use crate::TrainError;
use std::time::Instant;

/// Iterations of a run left open without a time limit.
pub const UNTIMED_ITERATIONS: usize = 3000;
/// The most iterations a run left open plans for its time limit.
pub const MAX_ITERATIONS: usize = 30_000;
/// Held-out checks of a run whose check interval is left open, when they fit in
/// [`CHECK_SHARE`] of its time (and of a run whose length is given).
pub const CHECKS: usize = 100;
/// The fewest checks of a run whose check interval is left open: the best model is kept
/// and the back-off decided at checks only.
pub const MIN_CHECKS: usize = 20;
/// The share of a run's planned time its checks may take, within [`MIN_CHECKS`,
/// [`CHECKS`]].
pub const CHECK_SHARE: f64 = 0.1;
/// The share of the time that remains after the probes a run left open plans to train
/// and check for: the rest covers the final scoring and the error of the pace measured.
const TIME_SHARE: f64 = 0.92;
/// Training steps timed to measure the pace.
const TIMED_STEPS: usize = 3;

/// Seconds per training step and per held-out check of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pace {
    /// Seconds per training step.
    pub step: f64,
    /// Seconds per held-out check.
    pub check: f64,
}

impl Pace {
    /// The pace of training `model` on `task`, from a few steps on its first training
    /// trials and one check on the held-out ones; with that check's score (the model's
    /// before any training).
    pub(crate) fn measure(
        task: &Task,
        split: &Split,
        model: Model,
        options: &TaskOptions,
    ) -> Result<(Pace, Score), TrainError> {
        let mut trainer = trainer_at_start(model, options)?;
        let timer = Instant::now();
        let score = checked_score(&mut trainer, split.held_out_task, &split.held_out);
        let check = timer.elapsed().as_secs_f64();
        let (mut batch, mut trials) = (Vec::new(), Trials::default());
        draw_batch(&split.train, options.batch, options.seed, 1, &mut batch);
        task.gather(&batch, &trainer.model, &mut trials);
        // The first step allocates the trainer's buffers: it is not timed.
        trainer.train_step(&trials)?;
        let timer = Instant::now();
        for _ in 0..TIMED_STEPS {
            trainer.train_step(&trials)?;
        }
        let step = timer.elapsed().as_secs_f64() / TIMED_STEPS as f64;
        Ok((Pace { step, check }, score))
    }

    /// The iterations and checks that fit in `seconds`: a fixed share (`TIME_SHARE`) of
    /// them less the final scoring of the kept model (a check) is planned, its checks as
    /// many as fit in [`CHECK_SHARE`] of that, within [`MIN_CHECKS`, [`CHECKS`]], its
    /// steps the rest;
    /// the iterations within [`minimum`, [`MAX_ITERATIONS`]].
    pub fn fit(self, seconds: f64, minimum: usize) -> (usize, usize) {
        let planned = (TIME_SHARE * seconds - self.check).max(0.0);
        let share = CHECK_SHARE * planned / self.check.max(1e-9);
        let checks = (share.min(CHECKS as f64) as usize).max(MIN_CHECKS);
        let steps = (planned - checks as f64 * self.check).max(0.0) / self.step.max(1e-9);
        let iterations = steps.min(MAX_ITERATIONS as f64) as usize;
        (iterations.max(minimum.min(MAX_ITERATIONS)), checks)
    }
}
