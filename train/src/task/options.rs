//! How [`crate::task::train`] trains: every option of a run on the user's own task, with
//! its default in one place.

use crate::error::{check_counts, check_positive};
use crate::Precision;
use crate::TrainError;

/// The options of a run on a task. [`TaskOptions::default`] holds every default; the
/// command line and the Python module start from it and override what the user gives.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TaskOptions {
    /// Neurons N of a fresh start (a resumed or loaded model keeps its own).
    pub neurons: usize,
    /// Training iterations, the total counting those of a resumed run.
    pub iterations: usize,
    /// Trials per training batch (all training trials when there are fewer).
    pub batch: usize,
    /// Adam's step on W, U and I0 (and ln tau, ln tau_s when trained) as a fraction of
    /// each array's RMS at the start ([`super::step_scales`]); cosine decay to a tenth
    /// at the last iteration.
    pub learning_rate: f64,
    /// Adam's step on the readout O as a fraction of its RMS at the start (the loss is
    /// convex in O, and O must grow well beyond its start), decayed alike.
    pub readout_learning_rate: f64,
    /// Seed of the initial weights and of the batches.
    pub seed: u64,
    /// Precision of the training gradient.
    pub precision: Precision,
    /// Train a membrane and a synaptic time constant per neuron (kept valid).
    pub train_time_constants: bool,
    /// Iterations between held-out checks.
    pub eval_every: usize,
    /// Stop after this many checks without a better held-out score (0: never).
    pub patience: usize,
    /// Minutes between checkpoints ([`super::TaskObserver::checkpoint`]).
    pub checkpoint_minutes: f64,
    /// Stop training after this many seconds of the run (0: no limit); the run then
    /// ends as after its last iteration, and can be resumed.
    pub time_limit: f64,
    /// End after this iteration as an interruption would (a checkpoint saved, the
    /// schedule still that of [`TaskOptions::iterations`]), so that a long run can be
    /// split into parts.
    pub pause_at: Option<usize>,
}

impl Default for TaskOptions {
    fn default() -> Self {
        TaskOptions {
            neurons: 128,
            iterations: 3000,
            batch: 32,
            learning_rate: 1e-3,
            readout_learning_rate: 0.1,
            seed: 1,
            precision: Precision::F32,
            train_time_constants: false,
            eval_every: 50,
            patience: 20,
            checkpoint_minutes: 2.0,
            time_limit: 270.0,
            pause_at: None,
        }
    }
}

impl TaskOptions {
    /// Checks every option; the error names the first one at fault
    /// ([`TrainError::Option`]).
    pub fn check(&self) -> Result<(), TrainError> {
        let counts = [
            ("neurons", self.neurons),
            ("iterations", self.iterations),
            ("batch", self.batch),
            ("eval_every", self.eval_every),
        ];
        check_counts(&counts)?;
        let positive = [
            ("learning_rate", self.learning_rate),
            ("readout_learning_rate", self.readout_learning_rate),
            ("checkpoint_minutes", self.checkpoint_minutes),
        ];
        check_positive(&positive)?;
        if !(self.time_limit.is_finite() && self.time_limit >= 0.0) {
            let rule = "must be a finite number of seconds >= 0";
            return Err(TrainError::option("time_limit", self.time_limit, rule));
        }
        Ok(())
    }
}
