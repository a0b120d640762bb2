//! # spikegrad-reference
//!
//! A line-by-line transcription of the project's model (the repository's
//! `docs/model.md`): the theta neuron with a smooth synaptic gate (Huh & Sejnowski,
//! "Gradient Descent for Spiking Neural Networks", NeurIPS 2018), its exact Euler
//! discretisation, the general network (connectivity mask, external current), the
//! losses, and the exact discrete adjoint that gives every gradient.
//!
//! Not optimised, on purpose: plain loops, `f64`, `std` only. It is the oracle that the
//! `spikegrad` kernels and the finite-difference checks of `spikegrad-harness` are
//! compared with, and it is meant to be read next to docs/model.md.
//!
//! ```
//! use spikegrad_reference::{gradient, Batch, Config, Gate, Loss, Network, TaskLoss};
//!
//! // Two neurons, one input, one readout, one trial of 100 steps of 0.5 ms.
//! let cfg = Config { h: 0.5, tau: 20.0, tau_s: 50.0, gate: Gate::RaisedCosine { delta: 1.0 } };
//! let net = Network {
//!     n: 2, n_in: 1, n_out: 1,
//!     w: vec![0.0, 20.0, -20.0, 0.0], u: vec![1.5, 0.0], i0: vec![-0.2, -0.2], o: vec![30.0, -30.0],
//!     w_mask: None, tau: None, tau_s: None,
//! };
//! let t = 100;
//! let batch = Batch { b: 1, t, v0: vec![-0.4, -0.4], s0: vec![0.0, 0.0], x: vec![1.0; t], i_ext: None };
//! let loss = Loss { task: TaskLoss::Mse { target: vec![0.5; t], mask: vec![1.0; t] }, rate_penalty: 0.0 };
//! let grad = gradient(&cfg, &net, &batch, &loss)?;
//! assert!(grad.loss > 0.0 && grad.u[0] != 0.0);
//! # Ok::<(), spikegrad_reference::Error>(())
//! ```
#![deny(missing_docs)]
// Index loops mirror the subscripts of docs/model.md; iterator chains would hide them.
#![allow(clippy::needless_range_loop)]

mod adjoint;
mod config;
mod error;
mod forward;
mod gate;
mod loss;
mod network;
mod neuron;

pub use adjoint::{backward, backward_with, gradient, gradient_with, Gradient};
pub use config::Config;
pub use error::Error;
pub use forward::{forward, forward_with, loss, loss_with, Trajectory};
pub use gate::Gate;
pub use loss::{Loss, LossGradient, TaskLoss};
pub use network::{validate_data, Batch, Network};
pub use neuron::{wrap, HopfPhase, Neuron, Theta, ThetaMidpoint};
