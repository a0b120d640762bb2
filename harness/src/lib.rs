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
pub use strategy::{case, config, general_case, Case, GateShape, LossKind, Model, Shapes};

/// The draw of the property tests unless `PROPTEST_RNG_SEED` says otherwise.
pub const DEFAULT_RNG_SEED: u64 = 1;

/// A proptest configuration running `default` cases, or `PROPTEST_CASES` if that is set
/// (for longer local runs), from the fixed draw [`DEFAULT_RNG_SEED`] unless
/// `PROPTEST_RNG_SEED` is set: CI checks the same cases on every run, so a red run is a
/// change in the code, not a new draw; other seeds explore (`PROPTEST_RNG_SEED=7 cargo
/// test ...`). A random draw once found a reference case (gradient 3.2e7) where central
/// differences disagree by 4.9e-5 relative (docs/testing.md, "Finite differences").
pub fn cases(default: u32) -> proptest::test_runner::Config {
    let cases =
        std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(default);
    let mut config = proptest::test_runner::Config { cases, ..Default::default() };
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = proptest::test_runner::RngSeed::Fixed(DEFAULT_RNG_SEED);
    }
    config
}

/// The environment variable that gives the long suites (finite differences, the
/// neuron-model and stable-step checks) their full case counts. The long test
/// command of docs/testing.md, which CI runs after the everyday one, sets it.
pub const FULL_CASES_VAR: &str = "SPIKEGRAD_FULL_CASES";

/// How many of a long suite's cases the quick run (the README's test command) checks:
/// one in this many, at least [`QUICK_MIN_CASES`].
pub const QUICK_DIVISOR: u32 = 8;

/// The fewest cases a long suite checks in the quick run.
pub const QUICK_MIN_CASES: u32 = 2;

/// A proptest configuration for a long suite: `full` cases when [`FULL_CASES_VAR`] is
/// set, `full / QUICK_DIVISOR` (at least [`QUICK_MIN_CASES`]) otherwise, so that the
/// everyday test command stays a few minutes on two cores while the long command keeps
/// the full draw. Both draw from the same fixed seed as [`cases`], so the quick run's
/// cases are the first of the long run's; `PROPTEST_CASES` overrides both counts.
pub fn long_cases(full: u32) -> proptest::test_runner::Config {
    let full_run = std::env::var_os(FULL_CASES_VAR).is_some_and(|v| !v.is_empty() && v != "0");
    cases(if full_run { full } else { (full / QUICK_DIVISOR).max(QUICK_MIN_CASES) })
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
