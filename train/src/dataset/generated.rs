//! What a generator gives: the model's constants for the task, the inputs x (T, K, n_in)
//! and the loss's data, as a task folder holds them.

use spikegrad::Config;

/// A generated task of K trials.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedTask {
    /// The constants the task is meant for: h, tau, tau_s and the gate.
    pub config: Config,
    /// T, steps per trial.
    pub steps: usize,
    /// K.
    pub trials: usize,
    /// n_in.
    pub channels: usize,
    /// (T, K, n_in), C order.
    pub x: Vec<f32>,
    /// What the readout is scored on.
    pub loss: GeneratedLoss,
}

/// The loss of a generated task and its data (docs/model.md section 6).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum GeneratedLoss {
    /// Cross-entropy of the readout's mean over the steps (from_step, to_step].
    CrossEntropy {
        /// (K): each trial's class.
        labels: Vec<i64>,
        /// The number of classes (= n_out).
        classes: usize,
        /// The window starts after this step.
        from_step: usize,
        /// The window's last step.
        to_step: usize,
    },
    /// Masked mean squared error against a target.
    Mse {
        /// (T, K, n_out): o_{t+1} is asked to equal index t.
        target: Vec<f32>,
        /// (T, K, n_out): 1 where the target counts, 0 elsewhere.
        mask: Vec<f32>,
        /// n_out.
        outputs: usize,
    },
}
