//! The record of a run on a task: what a checkpoint saves besides the models, so that a
//! resumed run goes on as the uninterrupted one would have.

use super::{Plan, Score};
use crate::gradient_norms::{GradientLog, NormSummary};

/// One held-out check.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The iteration it followed.
    pub iteration: usize,
    /// The held-out score.
    pub score: Score,
    /// Seconds of training when it ran (counting resumed runs).
    pub seconds: f64,
    /// The gradient norms of the steps since the check before (absent in records that
    /// did not keep them).
    pub gradient_norms: Option<NormSummary>,
}

/// The best held-out check so far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Best {
    /// Its score.
    pub score: Score,
    /// Its iteration.
    pub iteration: usize,
}

/// A run's record so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// The seed of the run's batches (a resumed run keeps its own).
    pub seed: u64,
    /// Adam's step scales of W, U, I0 and O ([`super::step_scales`] of the start; a
    /// resumed run keeps them).
    pub step_scales: [f64; 4],
    /// The run's plan (`None` in records that did not keep it; a resumed run then plans
    /// afresh from its options).
    pub plan: Option<Plan>,
    /// The last iteration trained (0 before any).
    pub iteration: usize,
    /// The best held-out check.
    pub best: Option<Best>,
    /// Checks since the best one.
    pub since_improved: usize,
    /// Checks in a row that fell clearly below the best ([`super::back_off::fell`]).
    pub fallen: usize,
    /// The iterations after which the run backed off to its best model, each halving the
    /// learning rate ([`super::BACK_OFF_RATE`]).
    pub back_offs: Vec<usize>,
    /// (iteration, batch loss) of every iteration.
    pub losses: Vec<(usize, f64)>,
    /// Every held-out check.
    pub checks: Vec<Check>,
    /// Seconds of training before this run (those of the runs it resumes).
    pub seconds_before: f64,
    /// The gradient norms of this run's steps (a resumed run's earlier steps are in its
    /// checks).
    pub norms: GradientLog,
}

impl Progress {
    /// The record of a run that has not started.
    pub fn new(seed: u64, step_scales: [f64; 4]) -> Self {
        Progress {
            seed,
            step_scales,
            plan: None,
            iteration: 0,
            best: None,
            since_improved: 0,
            fallen: 0,
            back_offs: Vec::new(),
            losses: Vec::new(),
            checks: Vec::new(),
            seconds_before: 0.0,
            norms: GradientLog::new(),
        }
    }

    /// The factor on the plan's learning rate after the run's back-offs:
    /// [`super::BACK_OFF_RATE`] to the power of their count.
    pub fn rate_factor(&self) -> f64 {
        super::BACK_OFF_RATE.powi(self.back_offs.len() as i32)
    }
}
