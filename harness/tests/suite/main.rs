//! The harness's tests as one binary: every module instantiates the generic kernels
//! for the same types, so one binary compiles them once (twenty binaries compiled them
//! twenty times). The allocation count stays a binary of its own
//! (`tests/no_allocation.rs`): its counting allocator would see the other tests' threads.
//!
//! The long suites at full case counts: `SPIKEGRAD_FULL_CASES=1 cargo test --workspace
//! --release --test suite -- finite_differences neuron_models stable_step`.

mod activity_sparse;
mod atan2_accuracy;
mod backward_and_api;
mod batch_independence;
mod checkpointed;
mod general_vs_finite_differences;
mod invalid_input;
mod kernels_non_finite;
mod kernels_vs_finite_differences;
mod kernels_vs_reference;
mod kernels_vs_reference_wide;
mod model_properties;
mod neuron_and_gate;
mod neuron_models;
mod reference_vs_finite_differences;
mod sincospi_accuracy;
mod stable_step;
mod step_kernels;
mod threads_and_determinism;
mod unit_charge;
