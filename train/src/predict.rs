//! Predictive coding (auto-encoding): the network receives a smooth 2-channel random
//! signal and its readout must reproduce the signal at every step, through few spikes.
//!
//! The signal is white noise low-pass filtered twice by a first-order filter of time
//! constant `time_scale_ms` (smooth, not just continuous), scaled to unit stationary
//! variance and started in its stationary state. The readout o_{t+1} (target index t)
//! is asked to equal the input x_t that drove step t.

use crate::model::{InitScales, Trials};
use crate::phase_step::PhaseStep;
use crate::rng::Rng;
use crate::task::Task;
use spikegrad::{Config, Gate};

/// The task's constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Predict {
    /// Euler step (ms).
    pub h: f64,
    /// Trial length (ms).
    pub duration_ms: f64,
    /// Time constant of each of the two filters (ms).
    pub time_scale_ms: f64,
}

/// Default membrane time constant (ms): twice as fast as the XOR's 20 ms, so that the
/// spikes follow a signal with a 50 ms time scale; much faster, the neurons fire
/// tonically and their costates overflow f32 (docs/training.md, "Predictive coding").
pub const TAU: f64 = 10.0;

/// Default synaptic time constant (ms): the readout of one exponential filter of the
/// signal with this time constant scores NMSE 0.037 (docs/training.md, "Predictive coding").
pub const TAU_S: f64 = 10.0;

/// Default trial length (ms). Every trial starts from rest, and its first steps cost the
/// same whatever the coding (NMSE ~0.7 over the first 10 ms): over 1000 ms trials the
/// whole-trial NMSE is ~0.006 above the NMSE from 50 ms on, over 500 ms about twice that.
pub const TRIAL_MS: f64 = 1000.0;

/// Time constant of the input's two low-pass filters (ms).
pub const TIME_SCALE_MS: f64 = 50.0;

/// Training decays the learning rate along a cosine to this fraction of its start.
pub const LEARNING_RATE_FLOOR: f64 = 0.05;

/// Input (and readout) channels.
pub const CHANNELS: usize = 2;

/// A quiet start with strong random recurrence: I0 ~ N(-0.3, 0.5^2), U ~ N(0, 1), W and
/// O ~ N(0, (10/sqrt N)^2); the tests' and examples' network for this task. Training
/// starts from `train task`'s fresh start ([`crate::predict_run::train_network`]), whose
/// recurrent currents are far weaker.
pub const INIT: InitScales = InitScales {
    bias_mean: -0.3,
    bias_sd: 0.5,
    input_sd: 1.0,
    recurrent_gain: 10.0,
    readout_gain: 10.0,
};

impl Predict {
    /// The model's constants for this task: the given tau and tau_s, raised-cosine gate
    /// of width 1, step h.
    pub fn config(&self, tau: f64, tau_s: f64) -> Config {
        Config::new(self.h, tau, tau_s, Gate::RaisedCosine { delta: 1.0 })
    }

    /// Steps per trial.
    pub fn steps(&self) -> usize {
        (self.duration_ms / self.h).round() as usize
    }

    /// `k` fresh signals drawn from `rng` as a task in memory ([`crate::task::Task`]) for
    /// a model of `config` stepped by `step`: the MSE of the readout against the input.
    pub fn task(&self, config: Config, k: usize, step: PhaseStep, rng: &mut Rng) -> Task {
        let mut trials = Trials::zeros(k, self.steps(), CHANNELS, CHANNELS);
        self.sample(rng, &mut trials);
        Task::from_trials(config, step, trials)
    }

    /// Fills `trials` with fresh signals; target = input, mask 1 everywhere.
    pub fn sample(&self, rng: &mut Rng, trials: &mut Trials) {
        let (b, t) = (trials.b, trials.t);
        let a = (-self.h / self.time_scale_ms).exp();
        // z: AR(1) with unit variance; y = gain * sum_j a^j z_{t-j} has variance
        // gain^2 (1 + a^2) / (1 - a^2)^2, which the gain makes 1. Stationary start:
        // corr(y, z) = 1 / sqrt(1 + a^2).
        let gain = (1.0 - a * a) / (1.0 + a * a).sqrt();
        let innovation = (1.0 - a * a).sqrt();
        let coupling = 1.0 / (1.0 + a * a).sqrt();
        for k in 0..b {
            for c in 0..CHANNELS {
                let mut z = rng.normal(0.0, 1.0);
                let mut y =
                    coupling * z + (1.0 - coupling * coupling).sqrt() * rng.normal(0.0, 1.0);
                for step in 0..t {
                    let at = (step * b + k) * CHANNELS + c;
                    trials.x[at] = y as f32;
                    trials.target[at] = y as f32;
                    trials.mask[at] = 1.0;
                    y = a * y + gain * z;
                    z = a * z + innovation * rng.normal(0.0, 1.0);
                }
            }
        }
    }

    /// Normalised mean squared error of a readout (T, B, 2) against the targets:
    /// mean (o - target)^2 / variance of the target, over every step, trial and channel.
    pub fn nmse(&self, readout: &[f32], trials: &Trials) -> f64 {
        self.nmse_from(readout, trials, 0)
    }

    /// [`Predict::nmse`] over the steps from `first` on (each trial starts from rest, so
    /// its first steps cost the same whatever the coding: this separates the two).
    /// The variance is still that of the whole target; NaN when no step is left.
    pub fn nmse_from(&self, readout: &[f32], trials: &Trials, first: usize) -> f64 {
        let n = readout.len() as f64;
        let mean = trials.target.iter().map(|&x| x as f64).sum::<f64>() / n;
        let variance = trials.target.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        let skip = (first * trials.b * CHANNELS).min(readout.len());
        let tail = (readout.len() - skip) as f64;
        let mse = readout[skip..]
            .iter()
            .zip(&trials.target[skip..])
            .map(|(&o, &y)| (o as f64 - y as f64).powi(2))
            .sum::<f64>()
            / tail;
        mse / variance
    }
}
