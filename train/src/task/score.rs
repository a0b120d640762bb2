//! The held-out score of a model on a task: the mean loss per trial, and the accuracy
//! (cross-entropy) or the normalised error (MSE).

use super::Task;
use crate::model::{Objective, Trials};
use crate::{TrainError, Trainer};

/// Trials per forward run when scoring (bounds the memory of a check).
pub const SCORE_CHUNK: usize = 256;

/// The held-out score of a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// Mean loss per trial (infinite for a run that is not finite).
    pub loss: f64,
    /// Classification accuracy (cross-entropy).
    pub accuracy: Option<f64>,
    /// Normalised error sum m (o - ohat)^2 / sum m ohat^2 (MSE).
    pub nmse: Option<f64>,
}

impl Score {
    /// Whether this score beats `other`: accuracy first, then loss; a NaN loss never wins.
    pub fn beats(&self, other: &Score) -> bool {
        let loss = |s: &Score| if s.loss.is_nan() { f64::INFINITY } else { s.loss };
        match (self.accuracy, other.accuracy) {
            (Some(a), Some(b)) if a != b => a > b,
            _ => loss(self) < loss(other),
        }
    }
}

impl std::fmt::Display for Score {
    /// "accuracy 97.10%, loss 0.0812", "NMSE 0.0410, loss 0.00123" or "loss 0.00123".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.accuracy, self.nmse) {
            (Some(a), _) => write!(f, "accuracy {:.2}%, loss {:.4}", 100.0 * a, self.loss),
            (None, Some(nmse)) => write!(f, "NMSE {nmse:.4}, loss {:.5}", self.loss),
            (None, None) => write!(f, "loss {:.5}", self.loss),
        }
    }
}

/// The class of every trial of a readout (T, B, n_out): the channel of the largest mean
/// readout over steps from + 1 ..= to (readout index t holds step t + 1), the
/// prediction of the cross-entropy of docs/model.md section 6. An error if the window
/// is empty or reaches past the readout.
pub fn predictions(
    readout: &[f32],
    b: usize,
    n_out: usize,
    from: usize,
    to: usize,
) -> Result<Vec<usize>, TrainError> {
    if from >= to || to * b * n_out > readout.len() || n_out == 0 {
        let steps = readout.len() / (b * n_out).max(1);
        let rule = format!("the window must satisfy from < to <= T = {steps}, with n_out >= 1");
        return Err(TrainError::option("window", format!("({from}, {to}]"), rule));
    }
    Ok(window_classes(readout, b, n_out, from, to))
}

/// [`predictions`] on a checked window.
fn window_classes(readout: &[f32], b: usize, n_out: usize, from: usize, to: usize) -> Vec<usize> {
    (0..b)
        .map(|k| {
            let mean = |c: usize| -> f64 {
                (from..to).map(|t| readout[(t * b + k) * n_out + c] as f64).sum()
            };
            (0..n_out).map(|c| (c, mean(c))).fold((0, f64::MIN), |best, (c, m)| {
                if m > best.1 {
                    (c, m)
                } else {
                    best
                }
            })
        })
        .map(|(c, _)| c)
        .collect()
}

/// The score of the trainer's model on trials `indices` of `task`, run in chunks of
/// [`SCORE_CHUNK`]; a run that is not finite scores an infinite loss (and no correct
/// trial). The loss is the mean per trial (for the linear loss, a sum over trials, the
/// sum over the count; a rate penalty there counts once per chunk). An error for an
/// invalid task or indices that are none or not its trials.
pub fn score(trainer: &mut Trainer, task: &Task, indices: &[usize]) -> Result<Score, TrainError> {
    task.check()?;
    if indices.is_empty() {
        return Err(TrainError::option("indices", "[]", "needs at least one trial"));
    }
    if let Some(&i) = indices.iter().find(|&&i| i >= task.k) {
        let rule = format!("a trial index must be below K = {}", task.k);
        return Err(TrainError::option("indices", i, rule));
    }
    Ok(checked_score(trainer, task, indices))
}

/// [`score`] on a checked task and indices.
pub(crate) fn checked_score(trainer: &mut Trainer, task: &Task, indices: &[usize]) -> Score {
    let (mut loss, mut correct, mut error, mut power) = (0.0, 0usize, 0.0, 0.0);
    let mut trials = Trials::default();
    for chunk in indices.chunks(SCORE_CHUNK) {
        task.gather(chunk, &trainer.model, &mut trials);
        match trainer.evaluate(&trials) {
            Ok((readout, chunk_loss)) => match task.objective {
                Objective::CrossEntropy { from_step, to_step } => {
                    loss += chunk_loss * chunk.len() as f64;
                    let predicted =
                        window_classes(readout, chunk.len(), task.n_out, from_step, to_step);
                    correct += predicted.iter().zip(&trials.labels).filter(|(p, l)| p == l).count();
                }
                Objective::Mse => {
                    loss += chunk_loss * chunk.len() as f64;
                    for ((&o, &y), &m) in readout.iter().zip(&trials.target).zip(&trials.mask) {
                        error += m as f64 * (o as f64 - y as f64).powi(2);
                        power += m as f64 * (y as f64).powi(2);
                    }
                }
                _ => loss += chunk_loss,
            },
            Err(_) => {
                loss = f64::INFINITY;
                error = f64::INFINITY;
            }
        }
    }
    let accuracy = matches!(task.objective, Objective::CrossEntropy { .. })
        .then(|| correct as f64 / indices.len() as f64);
    let nmse = (task.objective == Objective::Mse && power > 0.0).then(|| error / power);
    Score { loss: loss / indices.len() as f64, accuracy, nmse }
}
