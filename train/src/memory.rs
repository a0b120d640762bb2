//! The memory a training run will hold, known from its sizes before any work, and the
//! check of it against the memory the machine has available: a run too large is refused
//! in one line, in milliseconds, instead of aborting on an allocation (or swapping) after
//! minutes of work.
//!
//! The estimate counts what [`crate::Trainer`] and the training commands keep: the model
//! and its copies (the best check's, the one being saved), Adam's two moments and the
//! summed gradient in f64, each shard's converted parameters, gradient and the kernels'
//! N x N buffers, the recorded trajectory of a training batch ((3 T + 2) N B values, and
//! the input currents), the trials a run holds (inputs, targets, masks), and the largest
//! forward runs of its checks (unrecorded, and recorded for figures).

use crate::{Precision, SHARDS};
use std::fmt;

/// The sizes of a training run that decide its memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunSize {
    /// Neurons N.
    pub neurons: usize,
    /// Input channels n_in.
    pub inputs: usize,
    /// Readout channels n_out.
    pub outputs: usize,
    /// Steps T of one trial.
    pub steps: usize,
    /// Trials per training gradient B.
    pub batch: usize,
    /// Trials held in memory at once besides the batch (check, test and figure sets).
    pub held_trials: usize,
    /// The most trials run forward at once without recording (a check).
    pub evaluated_at_once: usize,
    /// The most trials run forward at once with the trajectory recorded (rasters, rates,
    /// the measurement of an initial network).
    pub recorded_at_once: usize,
    /// Whole models (weights, initial state) held besides those of the trainers.
    pub extra_models: usize,
    /// Trainers alive at once (each with its model, Adam's state and shards).
    pub trainers: usize,
    /// Precision of the training gradient.
    pub precision: Precision,
}

/// The estimate of a run's memory, by part, in bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Footprint {
    /// Weights, their copies, Adam's moments, gradients and the kernels' N x N buffers.
    pub parameters: f64,
    /// The recorded trajectory and input currents of a training batch.
    pub batch: f64,
    /// Held trials and the forward runs of checks and figures.
    pub checks: f64,
}

impl Footprint {
    /// All parts together.
    pub fn total(&self) -> f64 {
        self.parameters + self.batch + self.checks
    }
}

/// A run that does not fit in the memory available.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct TooLarge {
    /// The run's estimate.
    pub footprint: Footprint,
    /// Bytes the operating system reports available.
    pub available: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let gb = |bytes: f64| bytes / 1e9;
        let p = &self.footprint;
        write!(
            f,
            "the run would need about {:.1} GB of memory (weights, optimiser state and \
             gradients {:.1} GB; a batch's recorded trajectory {:.1} GB; held-out trials and \
             checks {:.1} GB) and {:.1} GB are available: use fewer neurons, a smaller batch \
             or shorter trials",
            gb(p.total()),
            gb(p.parameters),
            gb(p.batch),
            gb(p.checks),
            gb(self.available as f64)
        )
    }
}

impl std::error::Error for TooLarge {}

impl RunSize {
    /// The estimate of the run's memory (module docs), in bytes. Computed in f64, so that
    /// sizes whose products overflow `usize` still give a (huge) finite answer.
    pub fn footprint(&self) -> Footprint {
        let [n, n_in, n_out, t, b] =
            [self.neurons, self.inputs, self.outputs, self.steps, self.batch].map(|x| x as f64);
        let real = match self.precision {
            Precision::F32 => 4.0,
            Precision::F64 => 8.0,
        };
        let weights = n * n + n * n_in + n + n_out * n + 2.0 * n;
        // f32 models (trained, best, saved and the extra ones), Adam's two f64 moments and
        // the f64 sum of the shards' gradients, the shards' converted parameters and the
        // trainer's own f32 workspace (W^T), and per shard its gradient and two N x N
        // buffers of the kernels (W^T, and dL/dW^T of the sparse reverse sweep).
        let copies = 2.0 + self.extra_models as f64;
        let shards = SHARDS as f64;
        let trainer = weights * (4.0 + 3.0 * 8.0 + real + 4.0) + n * n * shards * 3.0 * real;
        let parameters = weights * 4.0 * copies + trainer * self.trainers as f64;
        // (3 T + 2) N B recorded values and the input currents of every step.
        let batch = (4.0 * t + 2.0) * n * b * real + t * b * (n_in + 2.0 * n_out) * 4.0;
        let held = self.held_trials as f64 + b;
        let trial_data = t * held * (n_in + 2.0 * n_out) * 4.0;
        let evaluated = self.evaluated_at_once as f64 * (t * (n_out + n) + 4.0 * n) * 4.0;
        // Recorded in f32, and the phases copied out for rasters and rates.
        let recorded = self.recorded_at_once as f64 * (5.0 * t + 3.0) * n * 4.0;
        Footprint { parameters, batch, checks: trial_data + evaluated.max(recorded) }
    }

    /// Checks the run's estimate against the memory available
    /// ([`available_memory`]); passes where the system does not say.
    pub fn check(&self) -> Result<Footprint, TooLarge> {
        let footprint = self.footprint();
        match available_memory() {
            Some(available) if footprint.total() > available as f64 => {
                Err(TooLarge { footprint, available })
            }
            _ => Ok(footprint),
        }
    }
}

/// Bytes of memory the operating system reports available for new work (Linux's
/// `MemAvailable` in `/proc/meminfo`), or `None` where it does not say.
pub fn available_memory() -> Option<u64> {
    spikegrad::system_memory::available().map(|bytes| bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(neurons: usize) -> RunSize {
        RunSize {
            neurons,
            inputs: 2,
            outputs: 1,
            steps: 500,
            batch: 64,
            held_trials: 2200,
            evaluated_at_once: 1000,
            recorded_at_once: 200,
            extra_models: 0,
            trainers: 1,
            precision: Precision::F32,
        }
    }

    #[test]
    fn a_small_run_passes_and_a_huge_one_is_refused_with_its_parts() {
        assert!(size(64).check().is_ok());
        let huge = size(100_000);
        let e = huge.check().expect_err("100000 neurons do not fit in any test machine");
        assert!(e.footprint.parameters > 1e11, "{e}");
        let text = e.to_string();
        assert!(text.contains("GB are available"), "{text}");
    }

    #[test]
    fn sizes_beyond_usize_give_a_finite_estimate() {
        let mut s = size(usize::MAX);
        s.batch = usize::MAX;
        assert!(s.footprint().total().is_finite());
        assert!(s.check().is_err() || available_memory().is_none());
    }

    #[test]
    fn the_estimate_grows_with_each_size() {
        let base = size(256).footprint().total();
        for grown in [
            RunSize { batch: 128, ..size(256) },
            RunSize { steps: 1000, ..size(256) },
            RunSize { recorded_at_once: 400, ..size(256) },
            RunSize { trainers: 2, ..size(256) },
            RunSize { precision: Precision::F64, ..size(256) },
            size(512),
        ] {
            assert!(grown.footprint().total() > base, "{grown:?}");
        }
    }
}
