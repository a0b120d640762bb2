//! # spikegrad
//!
//! Exact gradients for gated-synapse spiking networks (Huh & Sejnowski, "Gradient
//! Descent for Spiking Neural Networks", NeurIPS 2018), fast. The model, its Euler
//! discretisation, its discrete adjoint, the general network (connectivity masks,
//! external currents) and the losses are specified in the repository's `docs/model.md`,
//! which is also this crate's [`model`] page; every public function says which of its
//! equations it computes.
//!
//! Two levels of API, both on plain slices (a step's state is numpy's `(B, N)` in C
//! order: each trial's neurons contiguous):
//!
//! - the trial level: a [`Workspace`] runs [`forward`](Workspace::forward) sweeps
//!   (inference: no loss needed), the [`loss`](Workspace::loss) and
//!   [`gradient`](Workspace::gradient) of a built-in [`Loss`] (masked MSE,
//!   cross-entropy, linear, and a rate penalty), or [`backward`](Workspace::backward)
//!   from the caller's own dL/do, so any loss written elsewhere can be used;
//! - the step level: [`forward_step`] and [`reverse_step`], one time step of either
//!   sweep on the caller's buffers, for another simulator.
//!
//! The neuron model is a type parameter of the [`Step`]: the theta neuron by default,
//! [`HopfPhase`] built in, or the caller's own [`Neuron`], checked first with
//! [`check_neuron`]. Time constants may be per neuron ([`Network::with_tau`],
//! [`Network::with_tau_s`]), and [`GradientOptions::with_constants`] adds their gradients
//! and the gate width's (docs/model.md section 7).
//!
//! The sweeps run dense or in the activity-sparse form of docs/model.md section 8 (work
//! per active neuron instead of N^2 per step), chosen from the measured activity
//! ([`SweepPath`]); a gradient too long to record is checkpointed
//! ([`Workspace::set_recording_limit`]): the same result, bit for bit, in O(sqrt(T) N B)
//! memory.
//!
//! ```
//! use spikegrad::{Batch, Config, Gate, Inputs, Loss, Network, Parameters, Step, Workspace};
//!
//! let step = Step::<f64>::new(&Config::new(1.0, 20.0, 50.0, Gate::RaisedCosine { delta: 1.0 }))?;
//! let (n, n_in, n_out, b, t) = (3, 1, 2, 2, 150);
//! let w = [0.0, 15.0, -10.0, 8.0, 0.0, 12.0, -9.0, 11.0, 0.0];
//! let (u, i0, o) = ([1.2, 0.8, -0.5], [-0.1, -0.2, 0.1], [40.0, -20.0, 10.0, -30.0, 25.0, 5.0]);
//! let mask = [0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 0.0]; // no self-connections
//! let net = Network::new(Parameters { n, n_in, n_out, w: &w, u: &u, i0: &i0, o: &o }).with_mask(&mask);
//! let (v0, s0, x) = (vec![-0.3; b * n], vec![0.0; b * n], vec![0.5; t * b * n_in]);
//! let batch = Batch::new(Inputs { b, t, v0: &v0, s0: &s0, x: &x });
//! let labels = [0, 1];
//! let loss = Loss::cross_entropy(&labels, 100, 150).with_rate_penalty(0.01);
//! let mut workspace = Workspace::new();
//! let gradient = workspace.gradient(&step, &net, &batch, &loss)?;
//! assert!(gradient.loss > 0.0 && gradient.w[0] == 0.0); // masked entries get no gradient
//! # Ok::<(), spikegrad::Error>(())
//! ```
//!
//! Every error (a bad configuration, a wrong length, NaN, a label out of range, a run
//! that overflows or would not fit in memory) is an [`Error`] naming the field, array,
//! index, step, trial or neuron; nothing panics on bad input.
#![deny(missing_docs)]

mod activity;
mod backward;
mod checkpoint;
mod config;
mod costates;
mod error;
mod fingerprint;
mod forward;
mod gate;
mod gemm;
mod gradient;
mod loss;
#[doc = include_str!("../../docs/model.md")]
pub mod model {}
/// The README's Rust example, compiled and run by the doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme {}
mod network;
pub mod neuron;
mod neuron_check;
mod real;
mod simd;
mod states;
mod step;
pub mod system_memory;
mod transpose;
mod weights;
mod workspace;

pub use activity::{SweepPath, MAX_GROUPS, PROBE_STEPS};
pub use config::Config;
pub use error::Error;
pub use forward::Record;
pub use gate::Gate;
pub use loss::{Loss, TaskLoss};
pub use network::{Batch, Inputs, Network, Parameters};
pub use neuron::{HopfPhase, Increment, Neuron, Theta, ThetaMidpoint};
pub use neuron_check::{check_neuron, Discrepancy, NeuronCheck, NeuronReport};
pub use real::Real;
pub use simd::atan2::{ATAN2_ULP_BOUND_F32, ATAN2_ULP_BOUND_F64};
pub use simd::backend::Backend;
pub use simd::sincospi::{SIN_PI_ULP_BOUND_F32, SIN_PI_ULP_BOUND_F64};
pub use step::{atan2, forward_step, reverse_step, sin_cos_pi, Step};
pub use workspace::{Gradient, GradientOptions, Trajectory, Workspace, DEFAULT_RECORDING_LIMIT};

/// Tuning internals for the project's own benchmarks (the bare products of a sweep, to
/// time a gradient against them): not part of the public API, no stability promise.
#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals {
    pub use crate::gemm::{block_steps, product, sweep_threads, use_rows_kernel};
}
