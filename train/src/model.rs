//! A network's parameters and initial state, owned, in f32.

use crate::phase_step::PhaseStep;
use crate::rng::Rng;
use spikegrad::{Batch, Config, Inputs, Loss, Network, Parameters, Real};

/// Parameters W, U, I0, O and the initial state (v0, s0) every trial starts from.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Step, time constants, gate.
    pub config: Config,
    /// Neurons.
    pub n: usize,
    /// Input channels.
    pub n_in: usize,
    /// Readout channels.
    pub n_out: usize,
    /// (N, N).
    pub w: Vec<f32>,
    /// (N, n_in).
    pub u: Vec<f32>,
    /// (N).
    pub i0: Vec<f32>,
    /// (n_out, N).
    pub o: Vec<f32>,
    /// Initial phase of every trial, (N).
    pub v0: Vec<f32>,
    /// Initial synaptic current of every trial, (N).
    pub s0: Vec<f32>,
    /// Per-neuron membrane time constants tau_j, (N), or `None` for `config.tau`
    /// (docs/model.md section 5); set when they are trained.
    pub tau: Option<Vec<f32>>,
    /// Per-neuron synaptic time constants tau_s,j, (N), or `None` for `config.tau_s`.
    pub tau_s: Option<Vec<f32>>,
    /// The connectivity mask M, (N, N), or `None` for full connectivity (docs/model.md
    /// section 5): the recurrent matrix is W * M, and dL/dW is zero where M is.
    pub w_mask: Option<Vec<f32>>,
    /// How the phases are stepped (docs/model.md section 9).
    pub step: PhaseStep,
}

/// Standard deviations of the initial weights, in the units of docs/model.md.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitScales {
    /// Mean of I0.
    pub bias_mean: f64,
    /// Standard deviation of I0.
    pub bias_sd: f64,
    /// Standard deviation of U.
    pub input_sd: f64,
    /// Standard deviation of W is this / sqrt(N).
    pub recurrent_gain: f64,
    /// Standard deviation of O is this / sqrt(N).
    pub readout_gain: f64,
}

/// The stable rest phase of a theta neuron with bias I0 < 0: cos(pi v) = (1 + I0)/(1 - I0),
/// v < 0.
pub fn rest_phase(i0: f64) -> f64 {
    -((1.0 + i0) / (1.0 - i0)).acos() / std::f64::consts::PI
}

impl Model {
    /// A quiet, excitable start: I0 ~ N(bias_mean, bias_sd^2), so most neurons rest and
    /// fire only when driven; each resting neuron starts at its rest phase, the others
    /// at a random phase; s0 = 0.
    pub fn quiet_start(
        config: Config,
        n: usize,
        n_in: usize,
        n_out: usize,
        scales: InitScales,
        rng: &mut Rng,
    ) -> Self {
        let root = (n as f64).sqrt();
        let i0 = rng.normals(n, scales.bias_mean, scales.bias_sd);
        let u = rng.normals(n * n_in, 0.0, scales.input_sd);
        let w = rng.normals(n * n, 0.0, scales.recurrent_gain / root);
        let o = rng.normals(n_out * n, 0.0, scales.readout_gain / root);
        let v0 =
            i0.iter()
                .map(|&i| {
                    if i < 0.0 {
                        rest_phase(i as f64) as f32
                    } else {
                        rng.range(-1.0, 1.0) as f32
                    }
                })
                .collect();
        let (tau, tau_s, w_mask) = (None, None, None);
        let step = PhaseStep::Euler;
        Model {
            config,
            n,
            n_in,
            n_out,
            w,
            u,
            i0,
            o,
            v0,
            s0: vec![0.0; n],
            tau,
            tau_s,
            w_mask,
            step,
        }
    }

    /// The parameter view (with the per-neuron time constants and the mask, where set).
    pub fn network(&self) -> Network<'_, f32> {
        let mut net = Network::new(Parameters {
            n: self.n,
            n_in: self.n_in,
            n_out: self.n_out,
            w: &self.w,
            u: &self.u,
            i0: &self.i0,
            o: &self.o,
        });
        if let Some(mask) = &self.w_mask {
            net = net.with_mask(mask);
        }
        if let Some(tau) = &self.tau {
            net = net.with_tau(tau);
        }
        if let Some(tau_s) = &self.tau_s {
            net = net.with_tau_s(tau_s);
        }
        net
    }
}

/// The loss trials are scored by (docs/model.md section 6), with the arrays of
/// [`Trials`] it reads.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub enum Objective {
    /// Masked mean squared error against `target` with `mask`.
    #[default]
    Mse,
    /// Cross-entropy of the readout averaged over steps from_step + 1 ..= to_step,
    /// against `labels`.
    CrossEntropy {
        /// The window starts after this step.
        from_step: usize,
        /// The window's last step.
        to_step: usize,
    },
    /// The linear loss sum_t G_t . o_t, with G in `target` (the caller's own dL/do).
    Linear,
}

/// Inputs and the loss's data for B trials of T steps, with the initial state tiled; f32
/// as sampled, or another precision for a gradient computed in it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trials<T = f32> {
    /// B.
    pub b: usize,
    /// T.
    pub t: usize,
    /// (B, N): the model's v0 for every trial.
    pub v0: Vec<T>,
    /// (B, N).
    pub s0: Vec<T>,
    /// (T, B, n_in).
    pub x: Vec<T>,
    /// (T, B, n_out): the targets of [`Objective::Mse`], G of [`Objective::Linear`];
    /// empty for cross-entropy.
    pub target: Vec<T>,
    /// (T, B, n_out): the mask of [`Objective::Mse`]; empty otherwise.
    pub mask: Vec<T>,
    /// (B): the class of each trial for [`Objective::CrossEntropy`]; empty otherwise.
    pub labels: Vec<usize>,
    /// (T, B, N): an external current into every neuron (docs/model.md section 5), or
    /// empty for none.
    pub i_ext: Vec<T>,
    /// The loss.
    pub objective: Objective,
    /// lambda >= 0, the weight of the rate penalty.
    pub rate_penalty: f64,
}

impl Trials {
    /// `b` trials of `t` steps with `n_in` input and `n_out` readout channels, inputs,
    /// targets and masks zero, without an initial state: what a generator fills
    /// ([`crate::task::Task::from_trials`]).
    pub fn zeros(b: usize, t: usize, n_in: usize, n_out: usize) -> Self {
        Trials {
            b,
            t,
            x: vec![0.0; t * b * n_in],
            target: vec![0.0; t * b * n_out],
            mask: vec![0.0; t * b * n_out],
            ..Trials::default()
        }
    }

    /// Empty trials of the given size for `model` (inputs, targets and masks zero).
    pub fn new(model: &Model, b: usize, t: usize) -> Self {
        Trials {
            b,
            t,
            v0: model.v0.repeat(b),
            s0: model.s0.repeat(b),
            x: vec![0.0; t * b * model.n_in],
            target: vec![0.0; t * b * model.n_out],
            mask: vec![0.0; t * b * model.n_out],
            ..Trials::default()
        }
    }
}

impl<T: Real> Trials<T> {
    /// The batch view (with the external current, where there is one).
    pub fn batch(&self) -> Batch<'_, T> {
        let batch =
            Batch::new(Inputs { b: self.b, t: self.t, v0: &self.v0, s0: &self.s0, x: &self.x });
        if self.i_ext.is_empty() {
            batch
        } else {
            batch.with_external_current(&self.i_ext)
        }
    }

    /// The loss of [`Trials::objective`] with the rate penalty.
    pub fn loss(&self) -> Loss<'_, T> {
        let task = match self.objective {
            Objective::Mse => Loss::mse(&self.target, &self.mask),
            Objective::CrossEntropy { from_step, to_step } => {
                Loss::cross_entropy(&self.labels, from_step, to_step)
            }
            Objective::Linear => Loss::linear(&self.target),
        };
        task.with_rate_penalty(self.rate_penalty)
    }
}
