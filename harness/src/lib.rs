//! # spikegrad-harness
//!
//! Shared support for the differential tests in `tests/`: proptest strategies that build
//! valid (and deliberately invalid) networks, batches and configurations, and the
//! central-finite-difference checker every gradient is held to.
#![deny(missing_docs)]

pub mod engines;
pub mod finite_difference;
pub mod strategy;

pub use finite_difference::{check_case, check_gradient, FdReport, Param};
pub use strategy::{case, config, Case, GateShape, Shapes};

/// A proptest configuration running `default` cases, or `PROPTEST_CASES` if that is set
/// (for longer local runs).
pub fn cases(default: u32) -> proptest::test_runner::Config {
    let cases =
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default);
    proptest::test_runner::Config { cases, ..Default::default() }
}
