//! The trials of a task in memory: what a task folder holds once it is read and checked.

use crate::model::{Model, Objective, Trials};
use crate::phase_step::PhaseStep;
use crate::TrainError;
use spikegrad::Config;

/// K trials of T steps: inputs, the loss's data and the network's optional arrays, laid
/// out as docs/model.md section 2 lays out a batch, with the trial axis over all K.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Step, shared time constants, gate.
    pub config: Config,
    /// The step map the task asks for.
    pub step: PhaseStep,
    /// Steps T.
    pub t: usize,
    /// Trials K.
    pub k: usize,
    /// Input channels.
    pub n_in: usize,
    /// Readout channels (classes, for cross-entropy).
    pub n_out: usize,
    /// (T, K, n_in).
    pub x: Vec<f32>,
    /// (T, K, n_out): targets (MSE) or G (linear); empty for cross-entropy.
    pub target: Vec<f32>,
    /// (T, K, n_out): the MSE's mask; empty otherwise.
    pub mask: Vec<f32>,
    /// (K): classes, for cross-entropy; empty otherwise.
    pub labels: Vec<usize>,
    /// (T, K, N), or empty.
    pub i_ext: Vec<f32>,
    /// (N, N), if given: recurrent weights outside it stay 0.
    pub w_mask: Option<Vec<f32>>,
    /// The loss.
    pub objective: Objective,
    /// The loss's rate penalty lambda (docs/model.md section 3).
    pub rate_penalty: f64,
}

impl Task {
    /// The `trials.b` trials of a generator's batch as a task with the constants `config`
    /// stepped by `step`: its inputs, the loss's data and the loss (the initial state
    /// stays the model's).
    pub fn from_trials(config: Config, step: PhaseStep, trials: Trials) -> Task {
        let per_trial = |values: &[f32]| values.len() / (trials.t * trials.b).max(1);
        let n_out = match trials.objective {
            Objective::CrossEntropy { .. } => trials.labels.iter().max().map_or(0, |&l| l + 1),
            _ => per_trial(&trials.target),
        };
        Task {
            config,
            step,
            t: trials.t,
            k: trials.b,
            n_in: per_trial(&trials.x),
            n_out,
            x: trials.x,
            target: trials.target,
            mask: trials.mask,
            labels: trials.labels,
            i_ext: trials.i_ext,
            w_mask: None,
            objective: trials.objective,
            rate_penalty: trials.rate_penalty,
        }
    }

    /// The trials `indices` of the task as a batch for `model` (its initial state tiled
    /// over the batch). Every index must be below K.
    pub fn gather(&self, indices: &[usize], model: &Model, trials: &mut Trials) {
        let (t, k, b) = (self.t, self.k, indices.len());
        trials.b = b;
        trials.t = t;
        for (into, state) in [(&mut trials.v0, &model.v0), (&mut trials.s0, &model.s0)] {
            into.clear();
            (0..b).for_each(|_| into.extend_from_slice(state));
        }
        let columns = |from: &[f32], into: &mut Vec<f32>| {
            into.clear();
            let width = from.len() / (t * k);
            for step in 0..t {
                for &trial in indices {
                    into.extend_from_slice(&from[(step * k + trial) * width..][..width]);
                }
            }
        };
        columns(&self.x, &mut trials.x);
        columns(&self.target, &mut trials.target);
        columns(&self.mask, &mut trials.mask);
        columns(&self.i_ext, &mut trials.i_ext);
        trials.labels.clear();
        if !self.labels.is_empty() {
            trials.labels.extend(indices.iter().map(|&i| self.labels[i]));
        }
        trials.objective = self.objective;
        trials.rate_penalty = self.rate_penalty;
    }

    /// Checks that every size is at least 1, every array's length fits the sizes and the
    /// loss, the cross-entropy window lies in the trial, and every label names a class;
    /// an error names the array or size.
    pub fn check(&self) -> Result<(), TrainError> {
        let (t, k) = (self.t, self.k);
        for (name, value) in [("t", t), ("k", k), ("n_in", self.n_in), ("n_out", self.n_out)] {
            if value == 0 {
                return Err(TrainError::option(name, value, "must be at least 1"));
            }
        }
        let per_output = t * k * self.n_out;
        let (target, mask, labels) = match self.objective {
            Objective::Mse => (per_output, per_output, 0),
            Objective::Linear => (per_output, 0, 0),
            _ => (0, 0, k),
        };
        let lengths = [
            ("x", self.x.len(), t * k * self.n_in),
            ("target", self.target.len(), target),
            ("mask", self.mask.len(), mask),
            ("labels", self.labels.len(), labels),
        ];
        for (array, len, expected) in lengths {
            if len != expected {
                return Err(TrainError::Shape { array, len, expected });
            }
        }
        if self.i_ext.len() % (t * k) != 0 {
            let expected = (self.i_ext.len() / (t * k)).max(1) * t * k;
            return Err(TrainError::Shape { array: "i_ext", len: self.i_ext.len(), expected });
        }
        if let Objective::CrossEntropy { from_step, to_step } = self.objective {
            if !(from_step < to_step && to_step <= t) {
                let rule = format!("the window must satisfy from_step < to_step <= T = {t}");
                return Err(TrainError::option(
                    "objective",
                    format!("({from_step}, {to_step}]"),
                    rule,
                ));
            }
        }
        if let Some(k) = self.labels.iter().position(|&l| l >= self.n_out) {
            return Err(TrainError::Label { trial: k, label: self.labels[k], classes: self.n_out });
        }
        Ok(())
    }
}
