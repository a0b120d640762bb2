//! # spikegrad-train
//!
//! Training of spikegrad networks on the paper's two tasks: Adam with gradient clipping
//! ([`adam`]), seeded sampling ([`rng`]), the tasks ([`xor`], [`predict`]) and a
//! [`Trainer`] that runs gradient steps with the kernels, the batch split across threads
//! ([`shards`]). The same seed gives the same run, bit for bit, for the same shard count
//! (the default, [`SHARDS`], does not depend on the machine).
#![deny(missing_docs)]

pub mod adam;
pub mod model;
pub mod predict;
pub mod rng;
pub mod shards;
pub mod xor;

use adam::{Adam, Clip};
use model::{Model, Trials};
use shards::Shards;
use spikegrad::{Error, Step, Workspace};

/// Which parameters are trained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trained {
    /// W (false: frozen at its initial value, e.g. 0 for a network without recurrence).
    pub w: bool,
    /// U.
    pub u: bool,
    /// I0.
    pub i0: bool,
    /// O.
    pub o: bool,
}

impl Trained {
    /// Every parameter.
    pub const ALL: Trained = Trained { w: true, u: true, i0: true, o: true };
}

/// What one training step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The batch loss (before the update).
    pub loss: f64,
    /// Global gradient norm before clipping (NaN when skipped).
    pub gradient_norm: f64,
    /// Whether the step was skipped because the gradient (or the run) was not finite.
    pub skipped: bool,
}

/// Shards a training batch is split into by default: the cores of the 2-core machine
/// the tasks are tuned on. Fixed rather than read from the machine, so that a seed
/// gives the same bits everywhere.
pub const SHARDS: usize = 2;

/// Gradient descent on a [`Model`] with Adam.
pub struct Trainer {
    /// The model being trained.
    pub model: Model,
    step: Step<f32>,
    adam: Adam,
    shards: Shards,
    workspace: Workspace<f32>,
    trained: Trained,
    skipped: u64,
}

impl Trainer {
    /// A trainer for `model` (its configuration validated here), splitting each batch
    /// into [`SHARDS`] shards.
    pub fn new(
        model: Model,
        learning_rate: f64,
        clip: Clip,
        trained: Trained,
    ) -> Result<Self, Error> {
        let step = Step::new(&model.config)?;
        let lengths = [model.w.len(), model.u.len(), model.i0.len(), model.o.len()];
        Ok(Trainer {
            adam: Adam::new(learning_rate, clip, &lengths),
            model,
            step,
            shards: Shards::new(SHARDS),
            workspace: Workspace::new(),
            trained,
            skipped: 0,
        })
    }

    /// The same trainer splitting each batch into `count` shards (1: one thread). The
    /// gradient is the same up to rounding; the bits depend on the count.
    pub fn with_shards(mut self, count: usize) -> Self {
        self.shards = Shards::new(count);
        self
    }

    /// Steps skipped so far for a non-finite gradient.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Updates so far.
    pub fn updates(&self) -> u64 {
        self.adam.steps()
    }

    /// One step of Adam on the gradient of the loss over `trials`. A gradient that is not
    /// finite (or a run that blows up) skips the update and is counted, rather than
    /// ending the run: gradient norms of these tasks are heavy-tailed
    /// (`shared/TASKS.md`). Errors only for trials that do not fit the model.
    pub fn train_step(&mut self, trials: &Trials) -> Result<StepReport, Error> {
        let net = self.model.network();
        let g = match self.shards.gradient(&self.step, &net, trials) {
            Ok(g) => g,
            Err(
                Error::NonFiniteState { .. }
                | Error::NonFiniteLoss { .. }
                | Error::NonFiniteGradient { .. },
            ) => {
                self.skipped += 1;
                return Ok(StepReport { loss: f64::NAN, gradient_norm: f64::NAN, skipped: true });
            }
            Err(e) => return Err(e),
        };
        let t = self.trained;
        let m = &mut self.model;
        let gradient_norm = self.adam.update(
            &mut [&mut m.w, &mut m.u, &mut m.i0, &mut m.o],
            &[
                t.w.then_some(&g.w[..]),
                t.u.then_some(&g.u[..]),
                t.i0.then_some(&g.i0[..]),
                t.o.then_some(&g.o[..]),
            ],
        );
        Ok(StepReport { loss: g.loss, gradient_norm, skipped: false })
    }

    /// The readout (T, B, n_out) and loss of the model on `trials`, without recording.
    pub fn evaluate(&mut self, trials: &Trials) -> Result<(&[f32], f64), Error> {
        let net = self.model.network();
        let loss = self.workspace.forward(&self.step, &net, &trials.batch(), false)?;
        Ok((self.workspace.readout().expect("forward succeeded"), loss))
    }

    /// Runs `trials` recording the trajectory, for rasters and firing rates; returns
    /// the phases v_t (T + 1 slots of (B, N)) and the readout.
    pub fn record(&mut self, trials: &Trials) -> Result<Recording, Error> {
        let net = self.model.network();
        self.workspace.forward(&self.step, &net, &trials.batch(), true)?;
        let tr = self.workspace.trajectory().expect("recorded");
        let v = (0..=trials.t).flat_map(|t| tr.v(t).iter().copied()).collect();
        let readout = self.workspace.readout().expect("recorded").to_vec();
        Ok(Recording { n: self.model.n, b: trials.b, t: trials.t, v, readout })
    }
}

/// A recorded run: phases and readout.
#[derive(Debug, Clone)]
pub struct Recording {
    /// N.
    pub n: usize,
    /// B.
    pub b: usize,
    /// T.
    pub t: usize,
    /// v_t for t = 0..=T, each (B, N).
    pub v: Vec<f32>,
    /// (T, B, n_out).
    pub readout: Vec<f32>,
}

impl Recording {
    /// Whether neuron `i` of trial `k` spiked during step t: its phase wrapped past +1
    /// (v_{t+1} < v_t, by more than a turn's worth of ordinary motion).
    pub fn spiked(&self, t: usize, k: usize, i: usize) -> bool {
        let at = |t: usize| self.v[(t * self.b + k) * self.n + i];
        at(t + 1) < at(t) - 1.0
    }

    /// Spikes per neuron per second over all trials, for a step of `h_ms`.
    pub fn firing_rate(&self, h_ms: f64) -> f64 {
        let mut spikes = 0usize;
        for t in 0..self.t {
            for k in 0..self.b {
                spikes += (0..self.n).filter(|&i| self.spiked(t, k, i)).count();
            }
        }
        spikes as f64 / (self.n * self.b) as f64 / (self.t as f64 * h_ms / 1000.0)
    }
}
