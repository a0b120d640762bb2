//! # spikegrad
//!
//! Exact gradients for gated-synapse spiking networks (Huh & Sejnowski, "Gradient
//! Descent for Spiking Neural Networks", NeurIPS 2018), fast. The model, its Euler
//! discretisation and its discrete adjoint are specified in the project's
//! `shared/MODEL.md`; every public function says which of its equations it computes.
#![deny(missing_docs)]

mod config;
mod error;
mod forward;
pub mod gate;
pub mod gemm;
mod gradient;
mod network;
pub mod neuron;
pub mod real;
pub mod simd;
mod step;
mod workspace;

pub use config::Config;
pub use error::Error;
pub use gate::Gate;
pub use network::{Batch, Network};
pub use neuron::{Neuron, Theta};
pub use real::Real;
pub use simd::backend::Backend;
pub use step::{forward_step, reverse_step, sin_cos_pi, Step};
pub use workspace::{Gradient, Trajectory, Workspace};
