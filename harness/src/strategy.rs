//! proptest strategies for cases that respect docs/model.md section 4: plain ones
//! ([`case`]: all-to-all, input through U x only, masked MSE) and general ones
//! ([`general_case`]: any loss of section 6, a rate penalty, a connectivity mask and an
//! external current, each drawn or not).
//!
//! Scales are chosen so that a case holds both resting and firing neurons and so that
//! the recurrence and readout matter: one spike deposits unit charge, so s is of order
//! 1/tau_s and W, O are drawn of order tau_s (W also divided by sqrt(N)).

use proptest::prelude::*;
use spikegrad_reference::{Batch, Config, Gate, Loss, Network, TaskLoss};

/// Which gate a strategy draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GateShape {
    /// [`Gate::Boxcar`].
    Boxcar,
    /// [`Gate::RaisedCosine`].
    RaisedCosine,
}

impl GateShape {
    /// The gate of this shape with width `delta`.
    pub fn with_delta(self, delta: f64) -> Gate {
        match self {
            GateShape::Boxcar => Gate::Boxcar { delta },
            GateShape::RaisedCosine => Gate::RaisedCosine { delta },
        }
    }
}

/// A built-in neuron model, for cases that run another model than the theta neuron.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Model {
    /// [`spikegrad::Theta`].
    #[default]
    Theta,
    /// [`spikegrad::HopfPhase`].
    HopfPhase,
    /// [`spikegrad::ThetaMidpoint`]: the theta neuron with the stable midpoint step.
    ThetaMidpoint,
}

impl Model {
    /// The reference's transcription of the model.
    pub fn reference(self) -> &'static dyn spikegrad_reference::Neuron {
        match self {
            Model::Theta => &spikegrad_reference::Theta,
            Model::HopfPhase => &spikegrad_reference::HopfPhase,
            Model::ThetaMidpoint => &spikegrad_reference::ThetaMidpoint,
        }
    }
}

/// One complete problem: configuration, parameters, a batch of trials and a loss.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The neuron model.
    pub neuron: Model,
    /// Step, time constants and gate.
    pub cfg: Config,
    /// Parameters.
    pub net: Network,
    /// Trials.
    pub batch: Batch,
    /// The loss.
    pub loss: Loss,
}

/// Which loss a [`general_case`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// Masked MSE.
    Mse,
    /// Cross-entropy over a readout window (n_out >= 2).
    CrossEntropy,
    /// The linear loss sum G . o.
    Linear,
}

impl LossKind {
    /// All of them.
    pub const ALL: [LossKind; 3] = [LossKind::Mse, LossKind::CrossEntropy, LossKind::Linear];

    /// Name as in `config.json` (`mse`, `cross_entropy`, `linear`).
    pub fn name(self) -> &'static str {
        match self {
            LossKind::Mse => "mse",
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::Linear => "linear",
        }
    }
}

/// Limits on the shapes a [`case`] strategy draws (inclusive).
#[derive(Debug, Clone, Copy)]
pub struct Shapes {
    /// Largest N.
    pub max_n: usize,
    /// Largest n_in and n_out.
    pub max_io: usize,
    /// Largest B.
    pub max_b: usize,
    /// Largest T.
    pub max_t: usize,
}

impl Default for Shapes {
    /// N 1..24, n_in and n_out 1..3, B 1..4, T 1..300.
    fn default() -> Self {
        Shapes { max_n: 24, max_io: 3, max_b: 4, max_t: 300 }
    }
}

fn uniform_vec(len: usize, lo: f64, hi: f64) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(lo..=hi, len)
}

/// A valid configuration with the given gate shape: tau in [5, 30] ms, Delta in
/// [0.3, 1.9], tau_s in [2, 100] ms, and h a random fraction of
/// min(tau Delta / 4, tau / 10, tau_s). The rules allow h up to tau Delta / 4; the extra
/// tau / 10 keeps the Euler map in the regime a user runs (h/tau <= 0.1) and out of the
/// strongly expanding one, where every gradient is astronomically large and no finite
/// difference can check it.
pub fn config(shape: GateShape) -> impl Strategy<Value = Config> {
    (5.0..30.0f64, 0.3..1.9f64, 2.0..100.0f64, 0.05..0.95f64).prop_map(
        move |(tau, delta, tau_s, fraction)| {
            let h_max = (tau * delta / 4.0).min(tau / 10.0).min(tau_s);
            Config { h: fraction * h_max, tau, tau_s, gate: shape.with_delta(delta) }
        },
    )
}

/// A valid plain case (all-to-all, no external current, masked MSE) with shapes within
/// `shapes` and the given gate shape.
pub fn case(shape: GateShape, shapes: Shapes) -> impl Strategy<Value = Case> {
    (
        config(shape),
        1..=shapes.max_n,
        1..=shapes.max_io,
        1..=shapes.max_io,
        1..=shapes.max_b,
        1..=shapes.max_t,
        0.0..1.0f64,
    )
        .prop_flat_map(|(cfg, n, n_in, n_out, b, t, w_gain)| {
            let w_scale = w_gain * cfg.tau_s / (n as f64).sqrt();
            let o_scale = cfg.tau_s;
            let net = (
                uniform_vec(n * n, -w_scale, w_scale),
                uniform_vec(n * n_in, -1.0 / n_in as f64, 1.0 / n_in as f64),
                // Bias around the rheobase (I = 0): some neurons rest, some fire.
                uniform_vec(n, -1.0, 1.0),
                uniform_vec(n_out * n, -o_scale, o_scale),
            )
                .prop_map(move |(w, u, i0, o)| Network {
                    n,
                    n_in,
                    n_out,
                    w,
                    u,
                    i0,
                    o,
                    w_mask: None,
                    tau: None,
                    tau_s: None,
                });
            let batch = (
                uniform_vec(b * n, -1.0, 1.0),
                uniform_vec(b * n, 0.0, 1.0 / cfg.tau_s),
                uniform_vec(t * b * n_in, -1.0, 1.0),
                uniform_vec(t * b * n_out, -1.0, 1.0),
                proptest::collection::vec(
                    prop_oneof![Just(0.0), Just(1.0), 0.0..=1.0f64],
                    t * b * n_out,
                ),
            )
                .prop_map(move |(v0, s0, x, target, mask)| {
                    let batch = Batch { b, t, v0, s0, x, i_ext: None };
                    let loss = Loss { task: TaskLoss::Mse { target, mask }, rate_penalty: 0.0 };
                    (batch, loss)
                });
            (Just(cfg), net, batch).prop_map(|(cfg, net, (batch, loss))| Case {
                neuron: Model::Theta,
                cfg,
                net,
                batch,
                loss,
            })
        })
}

/// A valid general case with loss `kind`: a plain [`case`] (at least two readouts for
/// cross-entropy) with, each drawn or not, a rate penalty lambda in [0.1, 10], a 0/1
/// connectivity mask (each connection kept with probability 0.7), an external
/// current uniform in [-0.5, 0.5] and per-neuron time constants (tau_j the case's tau
/// times a factor in [1, 2], tau_s,j its tau_s times a factor in [1, 3]: the rules hold
/// for each neuron because they hold for the shared constants). Cross-entropy reads a random window (from, to] of
/// the readout; the linear loss's G is uniform in [-1, 1] h / B.
pub fn general_case(
    shape: GateShape,
    shapes: Shapes,
    kind: LossKind,
) -> impl Strategy<Value = Case> {
    let shapes = match kind {
        LossKind::CrossEntropy => Shapes { max_io: shapes.max_io.max(2), ..shapes },
        _ => shapes,
    };
    let flags = (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>());
    (case(shape, shapes), flags, 0.1..10.0f64).prop_flat_map(
        move |(plain, (masked, external, penalised, per_neuron), lambda)| {
            let Case { cfg, net, batch, .. } = plain.clone();
            let (n, b, t) = (net.n, batch.b, batch.t);
            let n_out = if kind == LossKind::CrossEntropy { net.n_out.max(2) } else { net.n_out };
            let mask = proptest::collection::vec(proptest::bool::weighted(0.7), n * n)
                .prop_map(move |m| masked.then(|| m.iter().map(|&k| k as u8 as f64).collect()));
            let i_ext = uniform_vec(t * b * n, -0.5, 0.5).prop_map(move |i| external.then_some(i));
            let scale = cfg.h / b as f64;
            let task = match kind {
                LossKind::Mse => Just(plain.loss.task.clone()).boxed(),
                LossKind::CrossEntropy => {
                    (proptest::collection::vec(0..n_out, b), 0..t, any::<proptest::sample::Index>())
                        .prop_map(move |(labels, from, to)| TaskLoss::CrossEntropy {
                            labels,
                            from_step: from,
                            to_step: from + 1 + to.index(t - from),
                        })
                        .boxed()
                }
                LossKind::Linear => uniform_vec(t * b * n_out, -scale, scale)
                    .prop_map(|g| TaskLoss::Linear { g })
                    .boxed(),
            };
            let readout = uniform_vec(n_out * n, -cfg.tau_s, cfg.tau_s);
            let (tau, tau_s) = (cfg.tau, cfg.tau_s);
            let constants = (uniform_vec(n, tau, 2.0 * tau), uniform_vec(n, tau_s, 3.0 * tau_s))
                .prop_map(move |constants| per_neuron.then_some(constants));
            (Just((cfg, net, batch)), mask, i_ext, task, readout, constants).prop_map(
                move |((cfg, mut net, mut batch), w_mask, i_ext, task, o, constants)| {
                    if net.n_out != n_out {
                        (net.n_out, net.o) = (n_out, o);
                    }
                    net.w_mask = w_mask;
                    (net.tau, net.tau_s) = constants.unzip();
                    batch.i_ext = i_ext;
                    let rate_penalty = if penalised { lambda } else { 0.0 };
                    let loss = Loss { task, rate_penalty };
                    Case { neuron: Model::Theta, cfg, net, batch, loss }
                },
            )
        },
    )
}
