//! # spikegrad-train
//!
//! Training of spikegrad networks on the paper's two tasks: Adam with gradient clipping
//! ([`adam`]), the distribution of gradient norms a run reports ([`gradient_norms`]), seeded sampling ([`rng`]), the tasks ([`xor`], [`predict`], and the generated datasets of [`dataset`]), a structured
//! start of self-exciting clusters for memory ([`latch`]) and a [`Trainer`] that runs gradient steps with the kernels, the batch split across threads
//! ([`shards`]). The same seed gives the same run, bit for bit, for the same shard count
//! (the default, [`SHARDS`], does not depend on the machine).
#![deny(missing_docs)]

pub mod adam;
pub mod dataset;
mod error;
pub mod gradient_norms;
pub mod latch;
pub mod memory;
pub mod model;
pub mod observer;
pub mod phase_step;
pub mod predict;
pub mod predict_run;
pub mod rng;
pub mod shards;
pub mod task;
pub mod xor;
pub mod xor_run;

pub use error::TrainError;

/// The guide's pages (docs/), whose Rust blocks the doc tests compile and run here, where
/// both `spikegrad` and `spikegrad-train` are in reach.
#[cfg(doctest)]
mod guide {
    #[doc = include_str!("../../docs/getting-started.md")]
    mod getting_started {}
    #[doc = include_str!("../../docs/training.md")]
    mod training {}
    #[doc = include_str!("../../docs/your-data.md")]
    mod your_data {}
    #[doc = include_str!("../../docs/python.md")]
    mod python {}
    #[doc = include_str!("../../docs/library.md")]
    mod library {}
    #[doc = include_str!("../../docs/benchmarks.md")]
    mod benchmarks {}
    #[doc = include_str!("../../docs/testing.md")]
    mod testing {}
    #[doc = include_str!("../../docs/fuzzing.md")]
    mod fuzzing {}
    #[doc = include_str!("../../docs/formats.md")]
    mod formats {}
}

use adam::{Adam, AdamState, Clip};
use model::{Model, Trials};
use phase_step::ModelStep;
use shards::Shards;
use spikegrad::{Error, Workspace};

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

/// Consecutive skipped steps (non-finite gradients) after which a training loop stops:
/// heavy-tailed gradients skip a step now and then; a run of skips means every gradient
/// overflows and nothing is being learned.
pub const MAX_SKIPPED_IN_A_ROW: u64 = 50;

/// Shards a training batch is split into by default: the cores of the 2-core machine
/// the tasks are tuned on. Fixed rather than read from the machine, so that a seed
/// gives the same bits everywhere.
pub const SHARDS: usize = 2;

/// The precision of the training gradient (the model and its forward runs stay f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// f32: fastest; the costates of tonically firing networks can overflow, and such
    /// steps are skipped.
    F32,
    /// f64: about half the speed; finite where f32 overflows.
    F64,
}

impl Precision {
    /// "f32" or "f64".
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F64 => "f64",
        }
    }
}

/// How a [`Trainer`] trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Adam's step size.
    pub learning_rate: f64,
    /// Adam's second-moment decay (beta2).
    pub second_moment_decay: f64,
    /// Clipping before each update.
    pub clip: Clip,
    /// Which parameters are trained.
    pub trained: Trained,
    /// Precision of the gradient.
    pub precision: Precision,
    /// Shards (threads) each batch is split into.
    pub shards: usize,
    /// Train a membrane and a synaptic time constant per neuron, kept in this range
    /// (docs/model.md sections 5 and 7); `None`: the configuration's shared constants,
    /// fixed. Adam updates ln tau_j and ln tau_s,j; their gradients count in the global
    /// norm of [`Clip::GlobalNorm`].
    pub time_constants: Option<TimeConstantRange>,
    /// Adam's step on W, U, I0 and O is the learning rate times these (all 1 by default):
    /// the parameters' natural sizes (e.g. their initial standard deviations), so that
    /// one learning rate moves each by about the same fraction of its size.
    pub step_scales: [f64; 4],
}

/// Where trained time constants are kept, in ms: each tau_j in `tau` and each tau_s,j in
/// `tau_s`, intersected with the rules of docs/model.md section 4 for the model's step
/// (tau_j >= 4h/Delta, the theta neuron's jump rule, and tau_s,j > h, each with a margin
/// of 1e-4 relative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeConstantRange {
    /// (lowest, highest) tau_j.
    pub tau: (f64, f64),
    /// (lowest, highest) tau_s,j.
    pub tau_s: (f64, f64),
}

impl TimeConstantRange {
    /// No bounds beyond the validity rules.
    pub const VALID: TimeConstantRange =
        TimeConstantRange { tau: (0.0, f64::INFINITY), tau_s: (0.0, f64::INFINITY) };

    /// The range intersected with the rules for `config`: ((lo, hi) of tau, of tau_s), or
    /// an error naming the constant whose range is empty.
    fn effective(&self, config: &spikegrad::Config) -> Result<[(f64, f64); 2], Error> {
        let margin = 1.0 + 1e-4;
        // (h/tau) max f(1, I) <= Delta/2 with max f(1, I) = 2 (theta): tau >= 4h/Delta.
        let tau_low = 4.0 * config.h / config.gate.delta() * margin;
        let tau_s_low = config.h * margin;
        let ranges = [
            ("tau", (self.tau.0.max(tau_low), self.tau.1)),
            ("tau_s", (self.tau_s.0.max(tau_s_low), self.tau_s.1)),
        ];
        for (field, (low, high)) in ranges {
            if high.is_nan() || low > high {
                return Err(Error::InvalidConfig {
                    field,
                    value: high,
                    rule: format!(
                        "the range for trained {field} is empty: its lowest valid value with \
                         this step and gate is {low}"
                    ),
                });
            }
        }
        Ok([ranges[0].1, ranges[1].1])
    }
}

/// The trained time constants, in log space (Adam's steps are relative changes, and
/// exp keeps them positive), with their ranges.
struct TrainedConstants {
    ranges: [(f64, f64); 2],
    /// ln tau_j and ln tau_s,j.
    log: [Vec<f32>; 2],
    /// dL/d ln tau_j = tau_j dL/dtau_j, and likewise for tau_s.
    log_gradient: [Vec<f64>; 2],
}

impl TrainedConstants {
    /// Starts from the model's constants (the shared ones tiled where it has none),
    /// projected onto the ranges; sets them per neuron on the model.
    fn new(model: &mut Model, range: &TimeConstantRange) -> Result<Self, Error> {
        let ranges = range.effective(&model.config)?;
        let (n, c) = (model.n, model.config);
        let tau = model.tau.get_or_insert_with(|| vec![c.tau as f32; n]);
        let tau_s = model.tau_s.get_or_insert_with(|| vec![c.tau_s as f32; n]);
        let mut trained = TrainedConstants {
            ranges,
            log: [Vec::new(), Vec::new()],
            log_gradient: [vec![0.0; n], vec![0.0; n]],
        };
        trained.log = [tau, tau_s].map(|values| values.iter().map(|&x| x.ln()).collect());
        trained.project(model);
        Ok(trained)
    }

    /// exp of the log values, clamped to the ranges, into the model (and the log values
    /// moved to the clamped ones).
    fn project(&mut self, model: &mut Model) {
        let targets = [model.tau.as_mut(), model.tau_s.as_mut()];
        for ((log, (low, high)), values) in self.log.iter_mut().zip(self.ranges).zip(targets) {
            let values = values.expect("set per neuron by TrainedConstants::new");
            for (l, value) in log.iter_mut().zip(values.iter_mut()) {
                // Clamped in f64, then rounded to f32 inward, so the f32 value is valid.
                let clamped = (*l as f64).exp().clamp(low, high);
                let mut rounded = clamped as f32;
                if (rounded as f64) < low {
                    rounded = f32::from_bits(rounded.to_bits() + 1);
                }
                *value = rounded;
                *l = rounded.ln();
            }
        }
    }
}

impl Settings {
    /// Adam at this rate with the usual betas (0.9, 0.999), no clipping, every parameter
    /// trained, f32 gradients, [`SHARDS`] shards.
    pub fn new(learning_rate: f64) -> Self {
        Settings {
            learning_rate,
            second_moment_decay: 0.999,
            clip: Clip::None,
            trained: Trained::ALL,
            precision: Precision::F32,
            shards: SHARDS,
            time_constants: None,
            step_scales: [1.0; 4],
        }
    }
}

/// The data-parallel gradient in the chosen precision.
enum Sharded {
    F32(Shards<f32>),
    F64(Shards<f64>),
}

/// Gradient descent on a [`Model`] with Adam.
pub struct Trainer {
    /// The model being trained.
    pub model: Model,
    step: ModelStep<f32>,
    adam: Adam,
    sharded: Sharded,
    workspace: Workspace<f32>,
    trained: Trained,
    constants: Option<TrainedConstants>,
    skipped: u64,
    skipped_in_a_row: u64,
}

impl Trainer {
    /// A trainer for `model`; an error if its configuration is invalid, or its
    /// constants are not normal numbers in f32 or in the gradient's precision, or the
    /// range of trained time constants is empty. With
    /// [`Settings::time_constants`], the model's time constants become per neuron (the
    /// shared ones tiled) and are trained with the other parameters.
    pub fn new(mut model: Model, settings: Settings) -> Result<Self, Error> {
        let constants = match &settings.time_constants {
            Some(range) => Some(TrainedConstants::new(&mut model, range)?),
            None => None,
        };
        let n = if constants.is_some() { model.n } else { 0 };
        let lengths = [model.w.len(), model.u.len(), model.i0.len(), model.o.len(), n, n];
        let mut adam = Adam::new(settings.learning_rate, settings.clip, &lengths);
        adam.beta2 = settings.second_moment_decay;
        adam.step_scales[..4].copy_from_slice(&settings.step_scales);
        let sharded = match settings.precision {
            Precision::F32 => {
                Sharded::F32(Shards::new(&model.config, model.step, settings.shards)?)
            }
            Precision::F64 => {
                Sharded::F64(Shards::new(&model.config, model.step, settings.shards)?)
            }
        };
        Ok(Trainer {
            step: ModelStep::new(&model.config, model.step)?,
            adam,
            model,
            sharded,
            workspace: Workspace::new(),
            trained: settings.trained,
            constants,
            skipped: 0,
            skipped_in_a_row: 0,
        })
    }

    /// Steps skipped so far for a non-finite gradient.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Steps skipped since the last update: a long run of them means training has
    /// stalled (every gradient overflows), not that it is unlucky.
    pub fn skipped_in_a_row(&self) -> u64 {
        self.skipped_in_a_row
    }

    /// Adam's step size from the next update on (for a schedule such as
    /// [`adam::cosine_decay`]).
    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.adam.learning_rate = learning_rate;
    }

    /// Updates so far.
    pub fn updates(&self) -> u64 {
        self.adam.steps()
    }

    /// The optimiser's state, arrays in the order W, U, I0, O, ln tau, ln tau_s (the last
    /// two empty unless time constants are trained): what a checkpoint saves.
    pub fn optimizer_state(&self) -> AdamState {
        self.adam.state()
    }

    /// Continues from an optimiser state saved by [`Trainer::optimizer_state`] for a
    /// model of the same sizes trained with the same settings; an error saying what does
    /// not match, and then nothing changes.
    pub fn restore_optimizer(&mut self, state: AdamState) -> Result<(), String> {
        self.adam.restore(state)
    }

    /// One step of Adam on the gradient of the loss over `trials`. A gradient that is not
    /// finite (or a run that blows up) skips the update and is counted, rather than
    /// ending the run: gradient norms of these tasks are heavy-tailed (median 20-50,
    /// spikes to 1e7 measured on the XOR). Errors only for trials that do not fit the
    /// model.
    pub fn train_step(&mut self, trials: &Trials) -> Result<StepReport, Error> {
        let result = match &mut self.sharded {
            Sharded::F32(shards) => shards.gradient(&self.model, trials),
            Sharded::F64(shards) => shards.gradient(&self.model, trials),
        };
        let finite = |g: &&shards::Combined| {
            let all = [&g.w, &g.u, &g.i0, &g.o, &g.tau, &g.tau_s];
            all.iter().all(|a| a.iter().all(|x| x.is_finite()))
        };
        // A non-finite run or gradient, in a shard or (past f64's range) in their sum.
        let g = match result {
            Ok(g) if finite(&g) => g,
            Ok(_)
            | Err(
                Error::NonFiniteState { .. }
                | Error::NonFiniteLoss { .. }
                | Error::NonFiniteGradient { .. },
            ) => {
                self.skipped += 1;
                self.skipped_in_a_row += 1;
                return Ok(StepReport { loss: f64::NAN, gradient_norm: f64::NAN, skipped: true });
            }
            Err(e) => return Err(e),
        };
        self.skipped_in_a_row = 0;
        let t = self.trained;
        let m = &mut self.model;
        let mut no_constants = [Vec::new(), Vec::new()];
        let (log, log_gradient) = match &mut self.constants {
            Some(c) => {
                // d/d ln tau = tau d/dtau.
                let values = [m.tau.as_deref(), m.tau_s.as_deref()];
                for ((out, gradient), values) in
                    c.log_gradient.iter_mut().zip([&g.tau, &g.tau_s]).zip(values)
                {
                    let values = values.expect("per neuron while trained");
                    for ((o, &g), &x) in out.iter_mut().zip(gradient).zip(values) {
                        *o = g * x as f64;
                    }
                }
                (&mut c.log, Some(&c.log_gradient))
            }
            None => (&mut no_constants, None),
        };
        let [log_tau, log_tau_s] = log;
        let gradient_norm = self.adam.update(
            &mut [&mut m.w, &mut m.u, &mut m.i0, &mut m.o, log_tau, log_tau_s],
            &[
                t.w.then_some(&g.w[..]),
                t.u.then_some(&g.u[..]),
                t.i0.then_some(&g.i0[..]),
                t.o.then_some(&g.o[..]),
                log_gradient.map(|l| &l[0][..]),
                log_gradient.map(|l| &l[1][..]),
            ],
        );
        if let Some(c) = &mut self.constants {
            c.project(m);
        }
        Ok(StepReport { loss: g.loss, gradient_norm, skipped: false })
    }

    /// The readout (T, B, n_out) and loss of the model on `trials`, without recording.
    pub fn evaluate(&mut self, trials: &Trials) -> Result<(&[f32], f64), Error> {
        let net = self.model.network();
        let loss = self.step.loss(&mut self.workspace, &net, &trials.batch(), &trials.loss())?;
        Ok((self.workspace.readout().expect("forward succeeded"), loss))
    }

    /// Runs `trials` recording the trajectory, for rasters and firing rates; returns
    /// the phases v_t (T + 1 slots of (B, N)) and the readout.
    pub fn record(&mut self, trials: &Trials) -> Result<Recording, Error> {
        let net = self.model.network();
        self.step.forward(
            &mut self.workspace,
            &net,
            &trials.batch(),
            spikegrad::Record::Trajectory,
        )?;
        let tr = self.workspace.trajectory().expect("recorded");
        let v = (0..=trials.t).flat_map(|t| tr.v(t).into_iter().flatten().copied()).collect();
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
