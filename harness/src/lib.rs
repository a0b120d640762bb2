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

/// A proptest runner whose draws are fixed by `seed` (for the report examples and for
/// tests that need one reproducible draw).
pub fn seeded_runner(seed: u64) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    TestRunner::new_with_rng(
        proptest::test_runner::Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}
