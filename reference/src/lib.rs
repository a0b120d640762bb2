//! # spikegrad-reference
//!
//! A line-by-line transcription of the project's model (`shared/MODEL.md`): the theta
//! neuron with a smooth synaptic gate (Huh & Sejnowski, "Gradient Descent for Spiking
//! Neural Networks", NeurIPS 2018), its exact Euler discretisation, the loss, and the
//! exact discrete adjoint that gives every gradient.
//!
//! Not optimised, on purpose: plain loops, `f64`, `std` only. It is the oracle that the
//! `spikegrad` kernels and the finite-difference checks of `spikegrad-harness` are
//! compared with, and it is meant to be read next to MODEL.md.
//!
//! ```
//! use spikegrad_reference::{gradient, Batch, Config, Gate, Network};
//!
//! // Two neurons, one input, one readout, one trial of 100 steps of 0.5 ms.
//! let cfg = Config { h: 0.5, tau: 20.0, tau_s: 50.0, gate: Gate::RaisedCosine { delta: 1.0 } };
//! let net = Network {
//!     n: 2, n_in: 1, n_out: 1,
//!     w: vec![0.0, 20.0, -20.0, 0.0], u: vec![1.5, 0.0], i0: vec![-0.2, -0.2], o: vec![30.0, -30.0],
//! };
//! let t = 100;
//! let batch = Batch {
//!     b: 1, t, v0: vec![-0.4, -0.4], s0: vec![0.0, 0.0],
//!     x: vec![1.0; t], target: vec![0.5; t], mask: vec![1.0; t],
//! };
//! let grad = gradient(&cfg, &net, &batch)?;
//! assert!(grad.loss > 0.0 && grad.u[0] != 0.0);
//! # Ok::<(), spikegrad_reference::Error>(())
//! ```
#![deny(missing_docs)]
// Index loops mirror the subscripts of MODEL.md; iterator chains would hide them.
#![allow(clippy::needless_range_loop)]

mod adjoint;
mod config;
mod error;
mod forward;
mod gate;
mod network;
mod neuron;

pub use adjoint::{gradient, Gradient};
pub use config::Config;
pub use error::Error;
pub use forward::{forward, Forward, Trajectory};
pub use gate::Gate;
pub use network::{validate_data, Batch, Network};
pub use neuron::{wrap, Neuron, Theta};
